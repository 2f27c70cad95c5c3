// Error and Result: the one failure currency of edgecert.
//
// Every fallible function returns Result<T> (std::expected). An Error carries a
// category (so callers can branch without parsing text) and a human message
// that already names where the failure happened (file, node, action). Messages
// must never contain secrets: callers format them from non-secret data only.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace edgecert {

enum class ErrorCode {
  kInvalidArgument,  // bad input from the user (spec, flags, files)
  kNotFound,         // a file, node object or resource does not exist
  kAlreadyExists,    // e.g. a CSR is already pending
  kConflict,         // state changed under us (stale plan, lock held)
  kPermission,       // authentication, file permissions
  kUnavailable,      // transient: connection refused, 5xx, timeout
  kCorrupt,          // unparsable stored data
  kIo,               // local I/O failure
  kInternal,         // a bug in edgecert
  kCancelled,        // a fault-injected kill or a user abort
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes context ("edge1: upload certificate: ") onto the message.
  Error with_context(const std::string& context) const& {
    return Error{code, context + ": " + message};
  }
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace edgecert
