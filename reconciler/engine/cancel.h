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

#include "providers/base/env_wrapper.h"

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
class StoppableEnv : public EnvWrapper {
 public:
  StoppableEnv(Env& base, StopToken stop) : EnvWrapper(base), stop_(stop) {}

  TimePoint now() override;
  void sleep_for(std::chrono::milliseconds duration) override;

  const StopToken& stop() const { return stop_; }
  // How far now() runs ahead of the wrapped clock (waits skipped after a stop).
  std::chrono::milliseconds skipped() const {
    return std::chrono::milliseconds(skipped_ms_.load());
  }

 private:
  StopToken stop_;
  std::atomic<std::int64_t> skipped_ms_{0};
};

}  // namespace edgecert
