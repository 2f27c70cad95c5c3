// Stop requests (cancel.h): sleeps that end early, and the StoppableEnv whose
// clock runs ahead by the waits it skipped after a stop.
#include <catch2/catch.hpp>

#include <atomic>

#include "reconciler/engine/cancel.h"
#include "tests/support/test_support.h"

using namespace edgecert;

namespace {

// A MemoryEnv whose N-th sleep sets the stop flag (as a signal would
// arrive during a wait).
class StopAfterSleeps : public MemoryEnv {
 public:
  StopAfterSleeps(std::atomic<int>& flag, int after) : flag_(flag), after_(after) {}
  void sleep_for(std::chrono::milliseconds d) override {
    MemoryEnv::sleep_for(d);
    if (++sleeps == after_) flag_.store(2);
  }
  int sleeps = 0;

 private:
  std::atomic<int>& flag_;
  int after_;
};

}  // namespace

TEST_CASE("cancel: a default token never stops and a set flag does, with its reason", "[cancel]") {
  CHECK_FALSE(StopToken().stop_requested());
  std::atomic<int> flag{0};
  StopToken t(&flag);
  CHECK_FALSE(t.stop_requested());
  flag.store(15);
  CHECK(t.stop_requested());
  CHECK(t.reason() == 15);
}

TEST_CASE("cancel: sleep_unless_stopped sleeps in slices and ends at the stop", "[cancel]") {
  std::atomic<int> flag{0};
  SECTION("no stop: the whole duration") {
    MemoryEnv env;
    TimePoint t0 = env.now();
    CHECK(sleep_unless_stopped(env, StopToken(&flag), std::chrono::seconds(5)));
    CHECK(env.now() - t0 == std::chrono::seconds(5));
  }
  SECTION("a stop during the sleep ends it at the next slice") {
    StopAfterSleeps env(flag, 3);
    TimePoint t0 = env.now();
    CHECK_FALSE(sleep_unless_stopped(env, StopToken(&flag), std::chrono::seconds(60)));
    CHECK(env.sleeps == 3);
    CHECK(env.now() - t0 < std::chrono::seconds(1));
  }
  SECTION("already stopped: no sleep at all") {
    MemoryEnv env;
    flag.store(2);
    TimePoint t0 = env.now();
    CHECK_FALSE(sleep_unless_stopped(env, StopToken(&flag), std::chrono::seconds(1)));
    CHECK(env.now() == t0);
  }
}

TEST_CASE("cancel: a StoppableEnv skips waits after a stop and its clock says they passed",
          "[cancel]") {
  std::atomic<int> flag{0};
  StopAfterSleeps base(flag, 5);  // the stop arrives half a second into the wait
  StoppableEnv env(base, StopToken(&flag));
  // A provider's health gate: poll once a second until a 600 s deadline.
  const TimePoint deadline = env.now() + std::chrono::seconds(600);
  int polls = 0;
  while (env.now() < deadline) {
    ++polls;
    env.sleep_for(std::chrono::seconds(1));
  }
  // The first wait ended at the stop; the loop then ran out without waiting.
  CHECK(base.sleeps == 5);
  CHECK(polls == 600);
  CHECK(base.now() - (deadline - std::chrono::seconds(600)) < std::chrono::seconds(1));
  CHECK(env.skipped() > std::chrono::seconds(599));
  // Files and everything else go to the wrapped Env.
  REQUIRE(env.write_file_atomic("f", "x", 0600));
  CHECK(base.read_file("f", kTestRead).value() == "x");
}
