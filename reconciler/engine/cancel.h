// Stopping a run early (Ctrl-C, SIGTERM) without the engine knowing signals.
//
// Whoever may stop a run (the CLI's signal handler) owns a flag; the engine
// sees it only through a StopToken and checks it: the executor before each
// action, every wait between checks. What "stop" means for a run is the
// executor's rule (executor.h); this header only carries the request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "providers/base/env.h"

namespace edgecert {

// A read-only view of a stop flag. Default-constructed: never stops. The flag
// holds 0 until a stop is requested, then a non-zero reason (the CLI stores
// the signal number); the owner keeps it alive for the token's lifetime.
class StopToken {
 public:
  StopToken() = default;
  explicit StopToken(const std::atomic<int>* flag) : flag_(flag) {}

  bool stop_requested() const { return reason() != 0; }
  int reason() const { return flag_ ? flag_->load(std::memory_order_relaxed) : 0; }

 private:
  const std::atomic<int>* flag_ = nullptr;
};

// Sleeps `duration` through `env` in short slices, returning as soon as a
// stop is requested. False when it returned early because of a stop.
bool sleep_unless_stopped(Env& env, const StopToken& stop, std::chrono::milliseconds duration);

// An Env whose waits end when a stop is requested: what the nodes, the issuer
// and the node runner are given during apply, so a health gate, a restart's
// wait, ACME polling or a retry backoff inside them stops early.
//
// Every wait in edgecert is a loop bounded by a deadline on Env::now() or by
// a number of attempts. So after a stop, sleep_for returns at once and now()
// runs ahead by the time that was not waited: each such loop ends after a few
// quick iterations (with its own timeout error) instead of waiting out its
// timeout. Nothing that records times (journal, lock, audit log) may read
// this clock; those use the wrapped Env. Everything else is passed through.
// Thread-safe as far as the wrapped Env is.
class StoppableEnv : public Env {
 public:
  StoppableEnv(Env& base, StopToken stop) : base_(base), stop_(stop) {}

  Result<std::string> read_file(const std::string& path) override { return base_.read_file(path); }
  Status write_file_atomic(const std::string& path, const std::string& data,
                           unsigned mode) override {
    return base_.write_file_atomic(path, data, mode);
  }
  Status create_exclusive(const std::string& path, const std::string& data,
                          unsigned mode) override {
    return base_.create_exclusive(path, data, mode);
  }
  Status append_file(const std::string& path, const std::string& data, unsigned mode) override {
    return base_.append_file(path, data, mode);
  }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    return base_.lock_file(path);
  }
  bool exists(const std::string& path) override { return base_.exists(path); }
  bool is_directory(const std::string& path) override { return base_.is_directory(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    return base_.list_dir(path);
  }
  Status create_dirs(const std::string& path, unsigned mode) override {
    return base_.create_dirs(path, mode);
  }
  Status remove_file(const std::string& path) override { return base_.remove_file(path); }
  Result<unsigned> file_mode(const std::string& path) override { return base_.file_mode(path); }
  std::optional<std::string> get_env(const std::string& name) override {
    return base_.get_env(name);
  }

  TimePoint now() override;
  void sleep_for(std::chrono::milliseconds duration) override;

  const StopToken& stop() const { return stop_; }
  // How far now() runs ahead of the wrapped clock (waits skipped after a stop).
  std::chrono::milliseconds skipped() const {
    return std::chrono::milliseconds(skipped_ms_.load());
  }

 private:
  Env& base_;
  StopToken stop_;
  std::atomic<std::int64_t> skipped_ms_{0};
};

}  // namespace edgecert
