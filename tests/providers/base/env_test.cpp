#include <catch2/catch.hpp>

#include <fmt/core.h>

#include "providers/base/env.h"
#include "providers/base/fault_env.h"
#include "tests/support/test_support.h"

using namespace edgecert;

TEST_CASE("posix env: atomic write sets the mode and replaces whole files", "[env]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string p = dir.file("secret.pem");
  REQUIRE(env->write_file_atomic(p, "one\n", 0600));
  REQUIRE(env->write_file_atomic(p, "two\n", 0600));
  CHECK(*env->read_file(p, kTestRead) == "two\n");
  CHECK(*env->file_mode(p) == 0600u);
  // No temp files are left behind.
  CHECK(*env->list_dir(dir.path()) == std::vector<std::string>{"secret.pem"});
}

TEST_CASE("posix env: create_exclusive refuses an existing file", "[env]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string p = dir.file("lock");
  REQUIRE(env->create_exclusive(p, "a", 0644));
  auto again = env->create_exclusive(p, "b", 0644);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kAlreadyExists);
  CHECK(*env->read_file(p, kTestRead) == "a");
  // Written beside and linked into place: no temporary file is left.
  CHECK(*env->list_dir(dir.file("")) == std::vector<std::string>{"lock"});
}

TEST_CASE("posix env: missing files are NotFound and name the path", "[env]") {
  auto env = make_posix_env();
  auto r = env->read_file("/nonexistent/x", kTestRead);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kNotFound);
  CHECK(r.error().message.find("/nonexistent/x") != std::string::npos);
}

TEST_CASE("memory env: folders, listing, clock and sleeping", "[env]") {
  MemoryEnv env;
  env.put("a/b/c.txt", "x");
  CHECK(env.is_directory("a/b"));
  CHECK(*env.list_dir("a") == std::vector<std::string>{"b"});
  CHECK_FALSE(env.write_file_atomic("nope/f", "x", 0644));
  auto t0 = env.now();
  env.sleep_for(std::chrono::seconds(90));
  CHECK(env.now() - t0 == std::chrono::seconds(90));
}

TEST_CASE("path helpers resolve relative paths against a folder", "[env]") {
  CHECK(path_resolve("/etc/specs", "trust/root.pem") == "/etc/specs/trust/root.pem");
  CHECK(path_resolve("/etc/specs", "/abs.pem") == "/abs.pem");
  CHECK(path_resolve(".", "x.pem") == "x.pem");
  CHECK(path_dirname("x.yaml") == ".");
  CHECK(path_dirname("/a/b.yaml") == "/a");
  CHECK(path_basename("/a/b.yaml") == "b.yaml");
}

TEST_CASE("fault env: fails the Nth mutation once", "[env][fault]") {
  MemoryEnv base;
  FaultInjectionEnv env(base);
  env.fail_mutation(2, ErrorCode::kIo);
  CHECK(env.append_file("j", "1\n", 0600));
  auto second = env.append_file("j", "2\n", 0600);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == ErrorCode::kIo);
  CHECK(env.append_file("j", "3\n", 0600));
  CHECK(*base.read_file("j", kTestRead) == "1\n3\n");
}

TEST_CASE("fault env: a crash stops every later mutation and can tear an append", "[env][fault]") {
  MemoryEnv base;
  FaultInjectionEnv env(base);
  env.crash_at_mutation(2, /*torn_append=*/true);
  CHECK(env.append_file("j", "first\n", 0600));
  CHECK_FALSE(env.append_file("j", "second-line\n", 0600));
  CHECK(env.crashed());
  auto later = env.write_file_atomic("other", "x", 0644);
  REQUIRE_FALSE(later);
  CHECK(later.error().code == ErrorCode::kCancelled);
  CHECK(*base.read_file("j", kTestRead) == "first\nsecond");
  CHECK_FALSE(base.exists("other"));
}

TEST_CASE("posix env: lock_file excludes a second holder until the first lets go", "[env][lock]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string p = dir.file("held.lock");
  auto first = env->lock_file(p);
  REQUIRE(first);
  CHECK(*env->file_mode(p) == 0600u);
  // Two holders in one process exclude each other too (two signing threads).
  auto second = env->lock_file(p);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == ErrorCode::kConflict);
  CHECK(second.error().message.find(p) != std::string::npos);
  first->reset();
  CHECK(env->lock_file(p));
  CHECK(env->exists(p));  // the file stays; only the lock goes
}

TEST_CASE("posix env: a holder killed with SIGKILL leaves no lock behind", "[env][lock]") {
  testing::TempDir dir;
  std::string p = dir.file("killed.lock");
  // flock(1) from util-linux holds the lock in another process until killed;
  // -o keeps the lock out of its child (sleep), so the kill really releases it.
  auto r = testing::run_command(
      fmt::format("flock -o {0} sleep 30 & pid=$!; "
                  "for i in $(seq 100); do flock -n {0} true || break; sleep 0.05; done; "
                  "echo held; kill -9 $pid; wait $pid 2>/dev/null; true",
                  p));
  REQUIRE(r.status == 0);
  REQUIRE(r.out.find("held") != std::string::npos);
  auto env = make_posix_env();
  CHECK(env->lock_file(p));
}

TEST_CASE("memory env: lock_file conflicts until the lock is destroyed", "[env][lock]") {
  MemoryEnv env;
  REQUIRE(env.create_dirs("/x", 0755));
  auto a = env.lock_file("/x/lock");
  REQUIRE(a);
  CHECK(env.exists("/x/lock"));
  auto b = env.lock_file("/x/lock");
  REQUIRE_FALSE(b);
  CHECK(b.error().code == ErrorCode::kConflict);
  a->reset();
  CHECK(env.lock_file("/x/lock"));
}
