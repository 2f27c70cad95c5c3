// FaultInjectionEnv: wraps another Env and makes its mutations fail on cue.
//
// Modelled on leveldb's fault-injection test Env. Every mutating call
// (write_file_atomic, create_exclusive, append_file, create_dirs, remove_file)
// is numbered from 1. A test can make the Nth mutation fail once with a chosen
// error, or "crash" at the Nth mutation: that call and every later mutation fail
// with kCancelled, as if the process had been killed there. A crash on an
// append can leave a torn (half-written) last line behind, the way a kill
// during write(2) would. Reads, the clock and sleeping pass through untouched.
#pragma once

#include <functional>
#include <optional>

#include "providers/base/env.h"

namespace edgecert {

class FaultInjectionEnv : public Env {
 public:
  explicit FaultInjectionEnv(Env& base) : base_(base) {}

  // The Nth mutation (1-based) fails once with `code`.
  void fail_mutation(int n, ErrorCode code = ErrorCode::kIo) { fail_at_ = {n, code}; }
  // From the Nth mutation on, everything fails with kCancelled. With
  // `torn_append`, a crash landing on append_file first writes half the data.
  void crash_at_mutation(int n, bool torn_append = false) {
    crash_at_ = n;
    torn_append_ = torn_append;
  }
  // Only mutations of paths for which `scope` returns true are numbered and
  // can fail; others pass through. Tests use it to kill edgecert's own writes
  // while a simulated node, sharing the Env, keeps its disk.
  void set_scope(std::function<bool(const std::string& path)> scope) { scope_ = std::move(scope); }
  bool crashed() const { return crashed_; }
  int mutations() const { return mutations_; }
  void reset() {
    fail_at_.reset();
    crash_at_.reset();
    crashed_ = false;
    mutations_ = 0;
  }

  Status write_file_atomic(const std::string& path, const std::string& data,
                           unsigned mode) override;
  Status create_exclusive(const std::string& path, const std::string& data, unsigned mode) override;
  Status append_file(const std::string& path, const std::string& data, unsigned mode) override;
  // Not numbered (a lock writes no data), but a crashed process takes no locks.
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    if (crashed_) return make_error(ErrorCode::kCancelled, path + ": cannot lock: crashed");
    return base_.lock_file(path);
  }
  bool exists(const std::string& path) override { return base_.exists(path); }
  bool is_directory(const std::string& path) override { return base_.is_directory(path); }
  std::string real_path(const std::string& path) override { return base_.real_path(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    return base_.list_dir(path);
  }
  Status create_dirs(const std::string& path, unsigned mode) override;
  Status remove_file(const std::string& path) override;
  Result<unsigned> file_mode(const std::string& path) override { return base_.file_mode(path); }
  TimePoint now() override { return base_.now(); }
  void sleep_for(std::chrono::milliseconds d) override { base_.sleep_for(d); }
  std::optional<std::string> get_env(const std::string& name) override {
    return base_.get_env(name);
  }

 protected:
  // Reads are never numbered: only mutations fail or crash.
  Result<std::string> do_read_file(const std::string& path, std::uint64_t max_bytes) override {
    return forward_read_file(base_, path, max_bytes);
  }

 private:
  // Numbers the mutation and decides its fate: nullopt = go ahead.
  std::optional<Error> next(const std::string& what, const std::string& path);
  bool in_scope(const std::string& path) const { return !scope_ || scope_(path); }

  Env& base_;
  int mutations_ = 0;
  std::optional<std::pair<int, ErrorCode>> fail_at_;
  std::optional<int> crash_at_;
  bool torn_append_ = false;
  bool crashed_ = false;
  std::function<bool(const std::string&)> scope_;
};

}  // namespace edgecert
