// Error and Result: the one failure currency of edgecert.
//
// Every fallible function returns Result<T> (std::expected) or Status, both
// [[nodiscard]]: a failure cannot be dropped silently. An Error carries a
// category (so callers can branch without parsing text), a human message, and
// where it happened as fields — the node and the action (operation) — so
// callers add or test context without parsing the message back. Messages
// never contain secrets: callers format them from non-secret data only.
//
// Errors are made with the named factories (leveldb's Status style):
//   return Error::NotFound("no such CA");
//   return Error::Unavailable("timed out").at("edge1", "read state");
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
  kUnimplemented,    // the node offers no interface for this (a manual step)
};

const char* error_code_name(ErrorCode code);

struct Error;

template <class T>
class [[nodiscard]] Result;
using Status = Result<void>;

struct Error {
  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}

  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Where: the peer and the operation ("upload server certificate"), when an
  // error is about a node. Set by at(); empty otherwise.
  std::string node;
  std::string action;

  // Named factories, one per code.
  static Error InvalidArgument(std::string m) {
    return {ErrorCode::kInvalidArgument, std::move(m)};
  }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
  static Error Permission(std::string m) { return {ErrorCode::kPermission, std::move(m)}; }
  static Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Error Corrupt(std::string m) { return {ErrorCode::kCorrupt, std::move(m)}; }
  static Error Io(std::string m) { return {ErrorCode::kIo, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
  static Error Cancelled(std::string m) { return {ErrorCode::kCancelled, std::move(m)}; }
  static Error Unimplemented(std::string m) { return {ErrorCode::kUnimplemented, std::move(m)}; }

  // Prefixes context ("edge1: upload certificate: ") onto the message.
  Error with_context(const std::string& context) const& {
    Error e = *this;
    e.message = context + ": " + message;
    return e;
  }

  // Records node and action and prefixes "NODE: ACTION: " onto the message,
  // once: an error that already names a node (Error::node) is returned as it
  // is.
  Error at(const std::string& on_node, const std::string& in_action) const& {
    if (!node.empty()) return *this;
    // A message a transport already wrote as "NODE: ..." (the REST
    // provider's request errors carry method, path and status in between)
    // only gets the fields.
    Error e =
        message.rfind(on_node + ": ", 0) == 0 ? *this : with_context(on_node + ": " + in_action);
    e.node = on_node;
    e.action = in_action;
    return e;
  }

  bool names_node() const { return !node.empty(); }
};

// Result<T>: a value or an Error. A std::expected that must not be ignored.
template <class T>
class [[nodiscard]] Result : public std::expected<T, Error> {
 public:
  using std::expected<T, Error>::expected;
  Result(const std::expected<T, Error>& e) : std::expected<T, Error>(e) {}
  Result(std::expected<T, Error>&& e) : std::expected<T, Error>(std::move(e)) {}
  Result(const Error& e) : std::expected<T, Error>(std::unexpected<Error>(e)) {}
  Result(Error&& e) : std::expected<T, Error>(std::unexpected<Error>(std::move(e))) {}
};

template <>
class [[nodiscard]] Result<void> : public std::expected<void, Error> {
 public:
  using std::expected<void, Error>::expected;
  Result(const std::expected<void, Error>& e) : std::expected<void, Error>(e) {}
  Result(std::expected<void, Error>&& e) : std::expected<void, Error>(std::move(e)) {}
  Result(const Error& e) : std::expected<void, Error>(std::unexpected<Error>(e)) {}
  Result(Error&& e) : std::expected<void, Error>(std::unexpected<Error>(std::move(e))) {}
};

inline std::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace edgecert
