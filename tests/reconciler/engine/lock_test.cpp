#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <functional>
#include <optional>

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
    REQUIRE(env.read_file("s/lock.json", kTestRead));
    auto copy = *env.read_file("s/lock.json", kTestRead);
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

namespace {

// A MemoryEnv that runs `at_sleep` on its N-th sleep (another process
// releasing the lock, or a signal arriving, while a run waits).
class ScriptedSleepEnv : public MemoryEnv {
 public:
  void sleep_for(std::chrono::milliseconds d) override {
    MemoryEnv::sleep_for(d);
    ++sleeps;
    if (sleeps == at && at_sleep) at_sleep();
  }
  int sleeps = 0;
  int at = -1;
  std::function<void()> at_sleep;
};

}  // namespace

TEST_CASE("lock: acquire_lock waits for a held lock, naming the holder, then takes it", "[lock]") {
  ScriptedSleepEnv env;
  auto first = ClusterLock::acquire(env, "s", "apply", {"alice", "hostA", 11});
  REQUIRE(first);
  std::vector<std::string> notices;
  LockWait wait;
  wait.timeout = std::chrono::minutes(5);
  wait.waiting = [&](const LockInfo& h, std::chrono::seconds waited) {
    notices.push_back(describe_lock(h) + " after " + std::to_string(waited.count()));
  };
  SECTION("released while waiting: acquired") {
    std::optional<ClusterLock> holder(std::move(*first));
    env.at = 45 * 10;  // 45 s of 100 ms slices
    env.at_sleep = [&] { holder.reset(); };
    auto second = acquire_lock(env, "s", "apply", {"bob", "hostB", 22}, wait);
    REQUIRE(second);
    CHECK(second->info().user == "bob");
    // Told once at the start and again every 30 s.
    REQUIRE(notices.size() == 2);
    CHECK(notices[0].find("alice@hostA (pid 11) for apply") != std::string::npos);
    CHECK(notices[0].find("after 0") != std::string::npos);
  }
  SECTION("still held at the timeout: refused, naming the holder and the wait") {
    wait.timeout = std::chrono::seconds(3);
    wait.unlock_args = "spec.yaml";
    auto second = acquire_lock(env, "s", "apply", {"bob", "hostB", 22}, wait);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::kConflict);
    const std::string& m = second.error().message;
    CHECK(m.find("alice@hostA (pid 11)") != std::string::npos);
    CHECK(m.find("waited 3s") != std::string::npos);
    CHECK(m.find("edgecert force-unlock " + first->info().id + " spec.yaml") != std::string::npos);
  }
  SECTION("timeout 0: refused at once, without waiting") {
    wait.timeout = std::chrono::milliseconds(0);
    auto second = acquire_lock(env, "s", "apply", {"bob", "hostB", 22}, wait);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::kConflict);
    CHECK(env.sleeps == 0);
    CHECK(notices.empty());
  }
  SECTION("a stop while waiting: kCancelled, the holder's lock untouched") {
    std::atomic<int> flag{0};
    wait.stop = StopToken(&flag);
    env.at = 25;
    env.at_sleep = [&] { flag.store(2); };
    auto second = acquire_lock(env, "s", "apply", {"bob", "hostB", 22}, wait);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::kCancelled);
    auto still = read_lock(env, "s");
    REQUIRE(still);
    REQUIRE(*still);
    CHECK((*still)->id == first->info().id);
  }
}

TEST_CASE("lock: times are written and shown in UTC", "[lock]") {
  MemoryEnv env(TimePoint(std::chrono::seconds(1798761600)));  // 2027-01-01T00:00:00Z
  auto lock = ClusterLock::acquire(env, "s", "apply", {"alice", "hostA", 11});
  REQUIRE(lock);
  auto text = env.read_file("s/lock.json", kTestRead);
  REQUIRE(text);
  CHECK(text->find("\"created\": \"2027-01-01T00:00:00Z\"") != std::string::npos);
  CHECK(describe_lock(lock->info()).find("since 2027-01-01 00:00:00 UTC") != std::string::npos);
}

TEST_CASE("lock: a holder on this host whose process is gone is said to be gone", "[lock]") {
  LockInfo self{"id", "me", "", static_cast<long>(::getpid()), "apply", {}};
  char host[256] = {};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  self.host = host;
  CHECK_FALSE(holder_is_gone(self));
  // A pid that cannot exist (above pid_max on Linux).
  LockInfo gone = self;
  gone.pid = 99999999;
  CHECK(holder_is_gone(gone));
  CHECK(describe_lock(gone).find("no longer running") != std::string::npos);
  LockInfo elsewhere = gone;
  elsewhere.host = std::string(host) + "-other";
  CHECK_FALSE(holder_is_gone(elsewhere));
}

TEST_CASE("lock: a holder whose process is gone is not waited for", "[lock]") {
  ScriptedSleepEnv env;
  char host[256] = {};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  auto dead = ClusterLock::acquire(env, "s", "apply", {"alice", host, 99999999});
  REQUIRE(dead);
  dead->keep();
  LockWait wait;
  wait.timeout = std::chrono::minutes(5);
  wait.unlock_args = "spec.yaml";
  auto second = acquire_lock(env, "s", "apply", {"bob", "hostB", 22}, wait);
  REQUIRE_FALSE(second);
  CHECK(env.sleeps == 0);
  CHECK(second.error().message.find("died or was killed") != std::string::npos);
  CHECK(second.error().message.find("edgecert force-unlock " + dead->info().id + " spec.yaml") !=
        std::string::npos);
}

TEST_CASE(
    "lock: an empty or garbled lock file is named, and only force-unlock unreadable "
    "removes it",
    "[lock]") {
  struct Case {
    std::string text;
    std::string why;
  };
  const Case cases[] = {
      {"", "is empty"},
      {"\n", "is empty"},
      {"{\"id\": \"ab", "not valid JSON"},
      {"[1]", "expected an object"},
      {R"({"user":"alice"})", "id: missing"},
      {R"({"id":"not hex!"})", "id: expected hex digits"},
      {R"({"id":"0123456789abcdef","pid":1e300})", "pid: expected an integer"},
      {R"({"id":"0123456789abcdef","pid":-5})", "pid: -5 is out of range"},
      {R"({"id":"0123456789abcdef","pid":99999999999})", "pid: 99999999999 is out of range"},
      {R"({"id":"0123456789abcdef","created_unix":1e300})", "created_unix: expected an integer"},
      {R"({"id":"0123456789abcdef","created_unix":9223372036854775807})",
       "created_unix: 9223372036854775807 is out of range"},
      {R"({"id":"0123456789abcdef","created_unix":253402300800})",
       "created_unix: 253402300800 is out of range"},
      {R"({"id":"0123456789abcdef","host":5})", "host: expected a string"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    MemoryEnv env;
    env.put("state/tokyo/lock.json", c.text);
    auto read = read_lock(env, "state/tokyo", "spec.yaml");
    REQUIRE_FALSE(read);
    CHECK(read.error().code == ErrorCode::kCorrupt);
    const std::string& m = read.error().message;
    CHECK(m.find("state/tokyo/lock.json: the cluster lock file ") == 0);
    CHECK(m.find(c.why) != std::string::npos);
    CHECK(m.find("edgecert force-unlock unreadable spec.yaml") != std::string::npos);
    CHECK(m.find("json.exception") == std::string::npos);
    // Neither an apply nor a waiting apply gets past it, and both say why.
    LockWait wait;
    wait.timeout = std::chrono::seconds(5);
    wait.unlock_args = "spec.yaml";
    auto taken = acquire_lock(env, "state/tokyo", "apply", kBob, wait);
    REQUIRE_FALSE(taken);
    CHECK(taken.error().message.find("edgecert force-unlock unreadable spec.yaml") !=
          std::string::npos);
    // A real id cannot remove it; `unreadable` can.
    CHECK_FALSE(force_unlock(env, "state/tokyo", "0123456789abcdef"));
    CHECK(env.exists("state/tokyo/lock.json"));
    REQUIRE(force_unlock(env, "state/tokyo", kUnreadableLockId));
    CHECK_FALSE(env.exists("state/tokyo/lock.json"));
    CHECK(ClusterLock::acquire(env, "state/tokyo", "apply", kBob));
  }
}

TEST_CASE("lock: force-unlock unreadable leaves a readable lock alone", "[lock]") {
  MemoryEnv env;
  auto held = ClusterLock::acquire(env, "s", "apply", kAlice);
  REQUIRE(held);
  auto st = force_unlock(env, "s", kUnreadableLockId);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == ErrorCode::kConflict);
  CHECK(st.error().message.find(held->info().id) != std::string::npos);
  CHECK(read_lock(env, "s")->has_value());
}
