#include <catch2/catch.hpp>

#include "reconciler/engine/lock.h"
#include "tests/support/test_support.h"

using namespace edgecert;

namespace {
const ProcessIdentity kAlice{"alice", "ci-runner-1", 4242};
const ProcessIdentity kBob{"bob", "laptop", 7};
}  // namespace

TEST_CASE("lock: a second acquirer is refused with the holder's details", "[lock]") {
  MemoryEnv env;
  auto first = ClusterLock::acquire(env, "state/tokyo", "apply", kAlice);
  REQUIRE(first);
  auto second = ClusterLock::acquire(env, "state/tokyo", "apply", kBob);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == ErrorCode::kConflict);
  const std::string& m = second.error().message;
  CHECK(m.find("alice@ci-runner-1") != std::string::npos);
  CHECK(m.find("pid 4242") != std::string::npos);
  CHECK(m.find("edgecert force-unlock " + first->info().id) != std::string::npos);
}

TEST_CASE("lock: released on destruction, then acquirable again", "[lock]") {
  MemoryEnv env;
  {
    auto l = ClusterLock::acquire(env, "s", "apply", kAlice);
    REQUIRE(l);
    CHECK(read_lock(env, "s")->has_value());
  }
  CHECK_FALSE(read_lock(env, "s")->has_value());
  CHECK(ClusterLock::acquire(env, "s", "apply", kBob));
}

TEST_CASE("lock: force-unlock needs the right id", "[lock]") {
  MemoryEnv env;
  std::string id;
  {
    auto l = ClusterLock::acquire(env, "s", "apply", kAlice);
    REQUIRE(l);
    id = l->info().id;
    // Simulate a crashed holder: the lock file outlives the process.
    REQUIRE(env.read_file("s/lock.json"));
    auto copy = *env.read_file("s/lock.json");
    REQUIRE(l->release());
    env.put("s/lock.json", copy);
  }
  auto wrong = force_unlock(env, "s", "0000000000000000");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == ErrorCode::kConflict);
  REQUIRE(force_unlock(env, "s", id));
  auto none = force_unlock(env, "s", id);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::kNotFound);
}

TEST_CASE("lock: works on the real filesystem with O_EXCL", "[lock]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  auto a = ClusterLock::acquire(*env, dir.file("state"), "apply", kAlice);
  REQUIRE(a);
  CHECK_FALSE(ClusterLock::acquire(*env, dir.file("state"), "apply", kBob));
}

TEST_CASE("lock: a run whose lock was force-unlocked does not remove its successor's lock",
          "[lock]") {
  MemoryEnv env;
  auto a = ClusterLock::acquire(env, "s", "apply", kAlice);
  REQUIRE(a);
  REQUIRE(force_unlock(env, "s", a->info().id));
  auto b = ClusterLock::acquire(env, "s", "apply", kBob);
  REQUIRE(b);
  REQUIRE(a->release());  // A finishes late
  auto holder = read_lock(env, "s");
  REQUIRE(holder);
  REQUIRE(holder->has_value());
  CHECK((*holder)->id == b->info().id);
}

TEST_CASE("lock: keep() leaves the lock for the next run to look at", "[lock]") {
  MemoryEnv env;
  {
    auto a = ClusterLock::acquire(env, "s", "apply", kAlice);
    REQUIRE(a);
    a->keep();
  }
  CHECK(read_lock(env, "s")->has_value());
}
