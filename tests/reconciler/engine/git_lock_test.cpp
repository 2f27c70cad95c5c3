// The cluster lock in a git repository (git_lock.h), on real bare
// repositories made with the git CLI, and on a fake RefStore for the
// failures a network gives.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "reconciler/engine/git_lock.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::TempDir;

namespace {

const ProcessIdentity kAlice{"alice", "ci-runner-1", 4242};
const ProcessIdentity kBob{"bob", "ci-runner-2", 7};
const std::string kRef = "refs/edgecert/locks/tokyo";

LockInfo info_for(const ProcessIdentity& who, const std::string& id) {
  return LockInfo{id, who.user, who.host, who.pid, "apply", TimePoint(std::chrono::hours(1))};
}

// `git` with arguments; its standard output.
std::string git(const std::string& args) {
  std::string cmd = "git " + args + " 2>/dev/null";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

struct BareRepo {
  TempDir dir;
  std::string path = dir.file("locks.git");
  BareRepo() { REQUIRE(git("init -q --bare " + path) == ""); }
  std::shared_ptr<RefStore> open() {
    auto s = open_git_ref_store(path, dir.file("cache.git"), {});
    REQUIRE(s);
    return std::shared_ptr<RefStore>(std::move(*s));
  }
  // The ref's commit as `git` sees it; "" when there is none.
  std::string ref_commit() { return git("--git-dir " + path + " rev-parse -q --verify " + kRef); }
};

// A RefStore in memory whose calls can be made to fail.
class FakeRefStore : public RefStore {
 public:
  std::map<std::string, Ref> refs;
  std::optional<Error> fail_read, fail_create, fail_remove;
  int next = 0;
  std::string where() const override { return "fake://locks"; }
  Result<std::optional<Ref>> read(const std::string& ref) override {
    if (fail_read) return std::unexpected(*fail_read);
    auto it = refs.find(ref);
    if (it == refs.end()) return std::optional<Ref>();
    return std::optional<Ref>(it->second);
  }
  Result<std::string> create(const std::string& ref, const std::string& content,
                             const std::string&) override {
    if (fail_create) return std::unexpected(*fail_create);
    if (refs.count(ref)) return make_error(ErrorCode::kConflict, ref + " exists");
    std::string oid = fmt::format("{:040}", ++next);
    refs[ref] = Ref{oid, content};
    return oid;
  }
  Status remove(const std::string& ref, const std::string& oid) override {
    if (fail_remove) return std::unexpected(*fail_remove);
    auto it = refs.find(ref);
    if (it == refs.end()) return make_error(ErrorCode::kNotFound, ref + " is gone");
    if (it->second.oid != oid) return make_error(ErrorCode::kConflict, ref + " moved");
    refs.erase(it);
    return {};
  }
};

}  // namespace

TEST_CASE("git lock: the ref holds the holder, a second acquirer is refused naming it",
          "[git_lock]") {
  BareRepo repo;
  auto store = repo.open();
  auto first = GitLock::acquire(store, "tokyo", info_for(kAlice, "00000000000000aa"));
  REQUIRE(first);
  CHECK_FALSE(repo.ref_commit().empty());
  // What git sees: a commit holding lock.json with the holder's details.
  std::string json = git("--git-dir " + repo.path + " show " + kRef + ":lock.json");
  CHECK(json.find("\"user\": \"alice\"") != std::string::npos);
  CHECK(json.find("\"id\": \"00000000000000aa\"") != std::string::npos);

  auto second = GitLock::acquire(repo.open(), "tokyo", info_for(kBob, "00000000000000bb"));
  REQUIRE_FALSE(second);
  CHECK(second.error().code == ErrorCode::kConflict);
  CHECK_THAT(second.error().message, Catch::Contains("alice@ci-runner-1") &&
                                         Catch::Contains(repo.path) && Catch::Contains(kRef));

  REQUIRE(first->release());
  CHECK(repo.ref_commit().empty());
  CHECK(GitLock::acquire(repo.open(), "tokyo", info_for(kBob, "00000000000000bb")));
}

TEST_CASE("git lock: a lock forced away is not released over its successor's", "[git_lock]") {
  BareRepo repo;
  auto a = GitLock::acquire(repo.open(), "tokyo", info_for(kAlice, "00000000000000aa"));
  REQUIRE(a);
  auto other = repo.open();
  REQUIRE(force_unlock_git(*other, "tokyo", "00000000000000aa"));
  auto b = GitLock::acquire(other, "tokyo", info_for(kBob, "00000000000000bb"));
  REQUIRE(b);
  const std::string bs = repo.ref_commit();
  CHECK(a->release());  // not ours any more: nothing removed, no error
  CHECK(repo.ref_commit() == bs);
  auto holder = read_git_lock(*other, "tokyo");
  REQUIRE(holder);
  REQUIRE(holder->has_value());
  CHECK((*holder)->id == "00000000000000bb");
}

TEST_CASE("git lock: force-unlock checks the id, and removes an unreadable lock only by name",
          "[git_lock]") {
  BareRepo repo;
  auto store = repo.open();
  auto a = GitLock::acquire(store, "tokyo", info_for(kAlice, "00000000000000aa"));
  REQUIRE(a);
  auto wrong = force_unlock_git(*store, "tokyo", "00000000000000bb");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == ErrorCode::kConflict);
  CHECK_THAT(wrong.error().message, Catch::Contains("alice@ci-runner-1"));
  auto unreadable = force_unlock_git(*store, "tokyo", kUnreadableLockId);
  REQUIRE_FALSE(unreadable);
  CHECK_THAT(unreadable.error().message, Catch::Contains("the lock is readable"));
  CHECK_FALSE(repo.ref_commit().empty());
  a->keep();

  // A ref at a commit without lock.json: someone's hand, not edgecert.
  std::string tree = git("--git-dir " + repo.path + " hash-object -t tree -w /dev/null");
  REQUIRE(!tree.empty());
  std::string commit = git("--git-dir " + repo.path + " -c user.name=x -c user.email=x@x " +
                           "commit-tree " + tree + " -m junk");
  REQUIRE(git("--git-dir " + repo.path + " update-ref " + kRef + " " + commit) == "");
  auto read = read_git_lock(*store, "tokyo", "spec.yaml");
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kCorrupt);
  CHECK_THAT(read.error().message,
             Catch::Contains("not a commit holding lock.json") &&
                 Catch::Contains("edgecert force-unlock unreadable spec.yaml"));
  auto taken = GitLock::acquire(store, "tokyo", info_for(kBob, "00000000000000bb"));
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code == ErrorCode::kCorrupt);
  REQUIRE(force_unlock_git(*store, "tokyo", kUnreadableLockId));
  CHECK(repo.ref_commit().empty());
  auto none = force_unlock_git(*store, "tokyo", "00000000000000aa");
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::kNotFound);
}

TEST_CASE("git lock: a repository that cannot be opened is named", "[git_lock]") {
  TempDir dir;
  auto s = open_git_ref_store(dir.file("missing.git"), dir.file("cache.git"), {});
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(s.error().message,
             Catch::Contains(dir.file("missing.git")) && Catch::Contains("lockRepository"));
}

TEST_CASE("git lock: waiting polls the holder, names it at the timeout, ends on a stop",
          "[git_lock]") {
  auto store = std::make_shared<FakeRefStore>();
  auto held = GitLock::acquire(store, "tokyo", info_for(kAlice, "00000000000000aa"));
  REQUIRE(held);
  MemoryEnv env;
  LockWait wait;
  wait.timeout = std::chrono::seconds(10);
  wait.unlock_args = "spec.yaml";
  int told = 0;
  wait.waiting = [&](const LockInfo& h, std::chrono::seconds) {
    CHECK(h.user == "alice");
    ++told;
  };
  const TimePoint start = env.now();
  auto second = acquire_git_lock(env, store, "tokyo", "apply", kBob, wait);
  REQUIRE_FALSE(second);
  CHECK(env.now() - start >= std::chrono::seconds(10));
  CHECK(told == 1);
  CHECK_THAT(second.error().message,
             Catch::Contains("(waited 10s, --lock-timeout)") &&
                 Catch::Contains("edgecert force-unlock 00000000000000aa spec.yaml"));

  std::atomic<int> stop_flag{2};  // SIGINT, as the CLI stores it
  wait.stop = StopToken(&stop_flag);
  auto stopped = acquire_git_lock(env, store, "tokyo", "apply", kBob, wait);
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().code == ErrorCode::kCancelled);
  CHECK_THAT(stopped.error().message, Catch::Contains("nothing was changed"));
}

TEST_CASE("git lock: a repository that fails says so, and a failed release keeps the ref",
          "[git_lock]") {
  auto store = std::make_shared<FakeRefStore>();
  store->fail_create = Error::Unavailable("fake://locks: connection refused");
  MemoryEnv env;
  auto lock = acquire_git_lock(env, store, "tokyo", "apply", kAlice, LockWait{});
  REQUIRE_FALSE(lock);
  CHECK(lock.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(lock.error().message, Catch::Contains("connection refused"));

  store->fail_create.reset();
  auto held = acquire_git_lock(env, store, "tokyo", "apply", kAlice, LockWait{});
  REQUIRE(held);
  store->fail_remove = Error::Unavailable("fake://locks: timed out");
  auto st = held->release();
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message, Catch::Contains("timed out"));
  CHECK(store->refs.count(kRef) == 1);
}

TEST_CASE("git lock: of many acquirers racing on one repository, exactly one wins", "[git_lock]") {
  BareRepo repo;
  for (int round = 0; round < 20; ++round) {
    constexpr int kRacers = 8;
    std::vector<std::shared_ptr<RefStore>> stores;
    for (int i = 0; i < kRacers; ++i) stores.push_back(repo.open());
    std::vector<std::optional<GitLock>> won(kRacers);
    std::vector<std::string> lost(kRacers);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kRacers; ++i)
      threads.emplace_back([&, i] {
        ++ready;
        while (ready.load() < kRacers) std::this_thread::yield();
        auto l = GitLock::acquire(stores[i], "tokyo",
                                  info_for(kAlice, fmt::format("{:016x}", round * 100 + i + 1)));
        if (l)
          won[i].emplace(std::move(*l));
        else
          lost[i] = l.error().message;
      });
    for (auto& t : threads) t.join();
    int winners = 0;
    for (int i = 0; i < kRacers; ++i) {
      if (won[i]) {
        ++winners;
        // The ref holds the winner's lock, not a later writer's.
        auto holder = read_git_lock(*stores[i], "tokyo");
        REQUIRE(holder);
        REQUIRE(holder->has_value());
        CHECK((*holder)->id == won[i]->info().id);
      } else {
        INFO(lost[i]);
        CHECK((lost[i].find("the cluster is locked") != std::string::npos ||
               lost[i].find("changed hands") != std::string::npos));
      }
    }
    REQUIRE(winners == 1);
    for (auto& w : won)
      if (w) REQUIRE(w->release());
    REQUIRE(repo.ref_commit().empty());
  }
}
