#include "reconciler/engine/heartbeat.h"

#include <algorithm>

#include "reconciler/engine/action.h"

namespace edgecert {
namespace {

// The innermost open scope of this thread (concurrent actions each have
// their own).
thread_local WaitScope* innermost = nullptr;

}  // namespace

WaitScope::WaitScope(Env& env, const Action& action, std::string what,
                     std::optional<std::chrono::milliseconds> timeout) {
  beat_.action = action.id;
  beat_.node = action.node;
  beat_.action_kind = action_kind_name(action.kind());
  beat_.message = std::move(what);
  beat_.limit = timeout;
  open(env);
}

WaitScope::WaitScope(Env& env, std::string node, std::string what,
                     std::optional<std::chrono::milliseconds> timeout) {
  beat_.node = std::move(node);
  beat_.message = std::move(what);
  beat_.limit = timeout;
  open(env);
}

void WaitScope::open(Env& env) {
  beat_.kind = ProgressKind::kHeartbeat;
  started_ = last_beat_ = env.now();
  outer_ = innermost;
  innermost = this;
}

WaitScope::~WaitScope() {
  innermost = outer_;
}

void HeartbeatEnv::set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sink_ = std::move(sink);
}

void HeartbeatEnv::sleep_for(std::chrono::milliseconds duration) {
  using std::chrono::milliseconds;
  milliseconds left = duration;
  while (left > milliseconds(0)) {
    WaitScope* scope = innermost;
    if (!scope) return target().sleep_for(left);
    // A beat is due (an inner scope kept this one quiet): say so before
    // sleeping on; otherwise sleep until the next beat is due at most.
    auto due = std::chrono::duration_cast<milliseconds>(scope->last_beat_ + interval_ - now());
    if (due > milliseconds(0)) {
      milliseconds slice = std::min(due, left);
      target().sleep_for(slice);
      left -= slice;
    }
    TimePoint t = now();
    if (t - scope->last_beat_ < interval_) continue;
    scope->last_beat_ = t;
    ProgressEvent e = scope->beat_;
    e.at = t;
    e.elapsed = std::chrono::duration_cast<milliseconds>(t - scope->started_);
    std::lock_guard<std::mutex> lock(mu_);
    if (sink_) sink_(e);
  }
}

}  // namespace edgecert
