#include "providers/base/fault_env.h"

#include <fmt/core.h>

namespace edgecert {

std::optional<Error> FaultInjectionEnv::next(const std::string& what, const std::string& path) {
  if (!in_scope(path)) return std::nullopt;
  ++mutations_;
  if (crashed_ || (crash_at_ && mutations_ >= *crash_at_)) {
    crashed_ = true;
    return Error{ErrorCode::kCancelled,
                 fmt::format("{}: {}: simulated crash at mutation {}", path, what, mutations_)};
  }
  if (fail_at_ && fail_at_->first == mutations_) {
    return Error{fail_at_->second,
                 fmt::format("{}: {}: injected fault at mutation {}", path, what, mutations_)};
  }
  return std::nullopt;
}

Status FaultInjectionEnv::write_file_atomic(const std::string& path, const std::string& data,
                                            unsigned mode) {
  if (auto e = next("write", path)) return std::unexpected(*e);
  return base_.write_file_atomic(path, data, mode);
}

Status FaultInjectionEnv::create_exclusive(const std::string& path, const std::string& data,
                                           unsigned mode) {
  if (auto e = next("create", path)) return std::unexpected(*e);
  return base_.create_exclusive(path, data, mode);
}

Status FaultInjectionEnv::append_file(const std::string& path, const std::string& data,
                                      unsigned mode) {
  bool was_crashed = crashed_;
  if (auto e = next("append", path)) {
    // The kill lands mid-write(2): half the record reaches the file.
    if (!was_crashed && crashed_ && torn_append_ && data.size() > 1) {
      (void)base_.append_file(path, data.substr(0, data.size() / 2), mode);
    }
    return std::unexpected(*e);
  }
  return base_.append_file(path, data, mode);
}

Status FaultInjectionEnv::create_dirs(const std::string& path, unsigned mode) {
  // Creating folders is idempotent and not interesting as a kill point; it
  // still stops after a crash.
  if (crashed_ && in_scope(path))
    return make_error(ErrorCode::kCancelled, path + ": mkdir: simulated crash (process is dead)");
  return base_.create_dirs(path, mode);
}

Status FaultInjectionEnv::remove_file(const std::string& path) {
  if (auto e = next("remove", path)) return std::unexpected(*e);
  return base_.remove_file(path);
}

}  // namespace edgecert
