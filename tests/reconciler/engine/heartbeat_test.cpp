// Heartbeats come out of sleeps under an open WaitScope, on the Env's clock.
#include <catch2/catch.hpp>

#include <thread>

#include "reconciler/engine/action.h"
#include "reconciler/engine/heartbeat.h"

using namespace edgecert;
using namespace std::chrono_literals;

namespace {

Action restart_action() {
  Action a;
  a.id = "edge2/wait-healthy";
  a.node = "edge2";
  a.params = default_params(ActionKind::kWaitHealthy);
  return a;
}

struct Recorder {
  MemoryEnv memory;
  HeartbeatEnv env{memory, 10s};
  std::vector<ProgressEvent> beats;
  Recorder() {
    env.set_sink([this](const ProgressEvent& e) { beats.push_back(e); });
  }
};

}  // namespace

TEST_CASE("heartbeat: a long wait beats every interval with elapsed and timeout", "[heartbeat]") {
  Recorder r;
  const TimePoint t0 = r.memory.now();
  {
    WaitScope wait(r.env, restart_action(), "waiting for the node to come back", 600s);
    // One second at a time, like a health gate polling...
    for (int i = 0; i < 25; ++i) r.env.sleep_for(1s);
    // ...and one long Retry-After, cut into slices.
    r.env.sleep_for(35s);
  }
  CHECK(r.memory.now() - t0 == 60s);  // sleeps still take exactly what was asked
  REQUIRE(r.beats.size() == 6);
  for (size_t i = 0; i < r.beats.size(); ++i) {
    const ProgressEvent& b = r.beats[i];
    CHECK(b.kind == ProgressKind::kHeartbeat);
    CHECK(b.elapsed == std::chrono::seconds(10 * (i + 1)));
    CHECK(b.at == t0 + std::chrono::seconds(10 * (i + 1)));
    CHECK(b.node == "edge2");
    CHECK(b.action == "edge2/wait-healthy");
    CHECK(b.action_kind == "wait-healthy");
    REQUIRE(b.limit);
    CHECK(*b.limit == 600s);
  }
  CHECK(progress_line(r.beats[3]) == "edge2: waiting for the node to come back: 40s of 600s");
}

TEST_CASE("heartbeat: the innermost scope speaks, and without a scope nothing beats",
          "[heartbeat]") {
  Recorder r;
  r.env.sleep_for(60s);  // nobody declared a wait
  CHECK(r.beats.empty());
  {
    WaitScope outer(r.env, restart_action(), "wait-healthy in progress", std::nullopt);
    r.env.sleep_for(5s);
    {
      WaitScope inner(r.env, "edge1", "waiting for the node to come back before planning", 30s);
      r.env.sleep_for(12s);
    }
    r.env.sleep_for(6s);  // outer: 17s since it opened, never beat: due at once
  }
  REQUIRE(r.beats.size() == 2);
  CHECK(r.beats[0].node == "edge1");
  CHECK(r.beats[0].action.empty());
  CHECK(r.beats[0].elapsed == 10s);
  CHECK(progress_line(r.beats[1]) == "edge2: wait-healthy in progress: 17s so far");
  CHECK(r.beats[1].elapsed == 17s);
  // Short waits stay silent.
  r.beats.clear();
  {
    WaitScope wait(r.env, restart_action(), "x", 1s);
    r.env.sleep_for(9s);
  }
  CHECK(r.beats.empty());
}

TEST_CASE("heartbeat: scopes are per thread", "[heartbeat]") {
  Recorder r;
  WaitScope mine(r.env, restart_action(), "main thread wait", std::nullopt);
  std::thread other([&r] { r.env.sleep_for(20s); });  // no scope on that thread
  other.join();
  CHECK(r.beats.empty());
}

TEST_CASE("progress: every event kind has one spelling that parses back", "[heartbeat]") {
  for (const auto& [kind, name] : kProgressKindNames) {
    CHECK(progress_kind_name(kind) == name);
    CHECK(enum_parse(kProgressKindNames, name) == kind);
  }
}
