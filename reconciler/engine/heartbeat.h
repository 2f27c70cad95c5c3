// Heartbeats during waits: a restart, a health gate, an ACME order, a node
// coming back before planning.
//
// Every wait in edgecert is Env::sleep_for, down in node providers, issuers
// and the ACME client, so the watch sits there: apply runs on a HeartbeatEnv
// wrapped around its Env, and code that is about to wait declares what for in
// a WaitScope (what, node, action, timeout). While a scope is open on a
// thread, the HeartbeatEnv cuts that thread's sleeps into slices and reports
// a heartbeat whenever `interval` passed on the Env's clock since the scope
// opened or since its last heartbeat; under MemoryEnv that is virtual time,
// so tests see heartbeats without waiting. Scopes nest (the innermost one
// speaks) and are per thread; with no HeartbeatEnv underneath a scope costs
// nothing and reports nothing.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "providers/base/env_wrapper.h"
#include "reconciler/engine/progress.h"

namespace edgecert {

struct Action;

class WaitScope {
 public:
  // `what` completes "edge2: ___: 45s of 600s", e.g. "waiting for the node
  // to come back". `timeout` unset: the wait has no limit of its own.
  WaitScope(Env& env, const Action& action, std::string what,
            std::optional<std::chrono::milliseconds> timeout);
  // A wait outside any action (e.g. before planning).
  WaitScope(Env& env, std::string node, std::string what,
            std::optional<std::chrono::milliseconds> timeout);
  ~WaitScope();
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  friend class HeartbeatEnv;
  void open(Env& env);
  ProgressEvent beat_;  // kind, node, action, message (what) and limit filled in
  TimePoint started_;
  TimePoint last_beat_;
  WaitScope* outer_ = nullptr;
};

// Forwards everything to `base`; sleeps are where heartbeats come from.
class HeartbeatEnv final : public EnvWrapper {
 public:
  using Sink = std::function<void(const ProgressEvent&)>;
  explicit HeartbeatEnv(Env& base, std::chrono::milliseconds interval = kHeartbeatInterval)
      : EnvWrapper(base), interval_(interval) {}

  // Where heartbeats go (any thread; calls are serialised). Unset: none.
  void set_sink(Sink sink);

  void sleep_for(std::chrono::milliseconds duration) override;

 private:
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  Sink sink_;
};

}  // namespace edgecert
