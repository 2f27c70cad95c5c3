// Specs read from a git ref (git_source.h): the tree as a read-only folder
// of an Env, refs resolved and notes added in real repositories made with
// the git CLI, and a fake repository for what a network does.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include <fmt/core.h>

#include "reconciler/engine/git_source.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::TempDir;

namespace {

// `git` with arguments, run in `dir`; its standard output without the
// trailing newline.
std::string git(const std::string& dir, const std::string& args) {
  std::string out = edgecert::testing::run_command("git -C '" + dir +
                                                   "' -c user.name=t -c user.email=t@example.com " +
                                                   args + " 2>/dev/null")
                        .out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A tree in memory: files by path; folders are the prefixes.
class FakeTree : public GitTree {
 public:
  std::map<std::string, std::string> files;
  Kind kind(const std::string& path) override {
    if (path.empty() || std::any_of(files.begin(), files.end(),
                                    [&](const auto& f) { return f.first.starts_with(path + "/"); }))
      return Kind::kFolder;
    return files.count(path) ? Kind::kFile : Kind::kMissing;
  }
  Result<std::string> read(const std::string& path, std::uint64_t max_bytes) override {
    auto it = files.find(path);
    if (it == files.end()) return make_error(ErrorCode::kNotFound, "no such file");
    return it->second.substr(0, static_cast<size_t>(max_bytes + 1));
  }
  Result<std::vector<std::string>> list(const std::string& path) override {
    std::vector<std::string> out;
    const std::string prefix = path.empty() ? "" : path + "/";
    for (const auto& [name, _] : files)
      if (name.starts_with(prefix)) {
        std::string rest = name.substr(prefix.size());
        std::string first = rest.substr(0, rest.find('/'));
        if (out.empty() || out.back() != first) out.push_back(first);
      }
    return out;
  }
};

class FakeRepository : public SpecRepository {
 public:
  std::shared_ptr<FakeTree> fake_tree = std::make_shared<FakeTree>();
  std::optional<Error> fail_resolve, fail_note;
  std::vector<std::string> notes;
  std::string where() const override { return "https://git.example.com/edge.git"; }
  bool local() const override { return false; }
  Result<std::string> resolve(const std::string& ref) override {
    if (fail_resolve) return std::unexpected(*fail_resolve);
    if (ref != "main") return make_error(ErrorCode::kNotFound, "no ref " + ref);
    return std::string(40, 'a');
  }
  Result<std::shared_ptr<GitTree>> tree(const std::string&) override {
    return std::shared_ptr<GitTree>(fake_tree);
  }
  Status add_note(const std::string& commit, const std::string& line) override {
    if (fail_note) return std::unexpected(*fail_note);
    notes.push_back(commit + " " + line);
    return {};
  }
};

GitOrigin origin() {
  return GitOrigin{"/repo", "main", std::string(40, 'b'), "clusters"};
}

}  // namespace

TEST_CASE("normalize_tree_path drops . and .., and refuses to climb out", "[git_source]") {
  CHECK(normalize_tree_path("a/./b/../c") == "a/c");
  CHECK(normalize_tree_path("/a//b/") == "a/b");
  CHECK(normalize_tree_path("") == "");
  CHECK(normalize_tree_path("a/../..") == std::nullopt);
  CHECK(normalize_tree_path("../etc/passwd") == std::nullopt);
}

TEST_CASE("GitTreeEnv serves the commit under its root, read-only, and passes the rest on",
          "[git_source]") {
  MemoryEnv mem;
  mem.put("/local/ca.pem", "local");
  auto tree = std::make_shared<FakeTree>();
  tree->files["clusters/edge/cluster.yaml"] = "spec";
  tree->files["clusters/common/ca.pem"] = "tree ca";
  GitTreeEnv env(mem, tree, origin());
  const std::string root = env.root();
  CHECK(root == "git:bbbbbbbbbbbb");

  SECTION("reads") {
    CHECK(*env.read_file(root + "/clusters/edge/../common/ca.pem", read_limits::kSpec) ==
          "tree ca");
    CHECK(*env.read_file("/local/ca.pem", read_limits::kSpec) == "local");
    CHECK(env.exists(root + "/clusters/edge/cluster.yaml"));
    CHECK_FALSE(env.exists(root + "/clusters/edge/missing.yaml"));
    CHECK(env.is_directory(root + "/clusters"));
    CHECK(*env.list_dir(root + "/clusters") == std::vector<std::string>{"common", "edge"});
    CHECK(*env.file_mode(root + "/clusters/edge/cluster.yaml") == 0444u);
  }
  SECTION("a missing file names the commit; a folder is not a file; climbing out is refused") {
    auto missing = env.read_file(root + "/clusters/x.pem", read_limits::kSpec);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::kNotFound);
    CHECK_THAT(missing.error().message,
               Catch::Contains("no such file in commit main at bbbbbbbbbbbb of /repo"));
    auto folder = env.read_file(root + "/clusters", read_limits::kSpec);
    REQUIRE_FALSE(folder);
    CHECK_THAT(folder.error().message, Catch::Contains("not a regular file"));
    auto out = env.read_file(root + "/../../etc/passwd", read_limits::kSpec);
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error().message, Catch::Contains("climbs out of the repository"));
    CHECK_FALSE(env.exists(root + "/.."));
  }
  SECTION("the cap of the kind of file holds in the tree too") {
    tree->files["big.pem"] = std::string(read_limits::kSecret.max_bytes + 10, 'x');
    auto big = env.read_file(root + "/big.pem", read_limits::kSecret);
    REQUIRE_FALSE(big);
    CHECK_THAT(big.error().message, Catch::Contains("larger than"));
  }
  SECTION("nothing is written under the root; elsewhere it is") {
    for (auto st : {env.write_file_atomic(root + "/clusters/known_hosts", "x", 0644),
                    env.append_file(root + "/a.log", "x", 0644),
                    env.create_exclusive(root + "/lock", "x", 0644),
                    env.create_dirs(root + "/ca", 0755), env.remove_file(root + "/clusters/a")}) {
      REQUIRE_FALSE(st);
      CHECK(st.error().code == ErrorCode::kPermission);
      CHECK_THAT(st.error().message, Catch::Contains("read-only, in commit main at bbbbbbbbbbbb"));
    }
    CHECK_FALSE(env.lock_file(root + "/x.lock"));
    CHECK(env.write_file_atomic("/local/out", "y", 0644));
    CHECK(*mem.read_file("/local/out", read_limits::kSpec) == "y");
    // A sibling name that merely starts like the root is not in the tree.
    auto sibling = env.write_file_atomic(root + "x/file", "z", 0644);
    CHECK((sibling || sibling.error().code != ErrorCode::kPermission));
  }
}

TEST_CASE("open_git_specs: the ref, the --path folder and the errors that name them",
          "[git_source]") {
  MemoryEnv mem;
  auto repo = std::make_shared<FakeRepository>();
  repo->fake_tree->files["clusters/edge/cluster.yaml"] = "spec";

  auto specs = open_git_specs(mem, "/state", "https://git.example.com/edge.git", "main",
                              "clusters/./edge", repo);
  REQUIRE(specs);
  CHECK(specs->origin().commit == std::string(40, 'a'));
  CHECK(specs->origin().path == "clusters/edge");
  CHECK(specs->spec_path("cluster.yaml") == "git:aaaaaaaaaaaa/clusters/edge/cluster.yaml");
  CHECK(specs->tree_path(*specs->spec_path("cluster.yaml")) == "clusters/edge/cluster.yaml");
  CHECK(specs->spec_path("../other/x.yaml") == "git:aaaaaaaaaaaa/clusters/other/x.yaml");
  // Every spec comes from the commit: a path on this machine, or one that
  // climbs out of the repository, names none.
  CHECK(specs->spec_path("/srv/specs/cluster.yaml") == std::nullopt);
  CHECK(specs->spec_path("../../../etc/x.yaml") == std::nullopt);
  CHECK(specs->spec_path("") == std::nullopt);

  auto missing_path =
      open_git_specs(mem, "/state", "https://git.example.com/edge.git", "main", "nope", repo);
  REQUIRE_FALSE(missing_path);
  CHECK(missing_path.error().code == ErrorCode::kNotFound);
  CHECK_THAT(missing_path.error().message,
             Catch::Contains("--path nope: no such folder in commit main at aaaaaaaaaaaa"));

  CHECK_FALSE(open_git_specs(mem, "/state", "https://git.example.com/edge.git", "dev", "", repo));
  auto no_ref = open_git_specs(mem, "/state", "https://git.example.com/edge.git", "", "", repo);
  REQUIRE_FALSE(no_ref);
  CHECK_THAT(no_ref.error().message, Catch::Contains("--ref is required"));
  auto climbs =
      open_git_specs(mem, "/state", "https://git.example.com/edge.git", "main", "..", repo);
  REQUIRE_FALSE(climbs);
  CHECK_THAT(climbs.error().message, Catch::Contains("climbs out"));

  repo->fail_resolve = Error{ErrorCode::kUnavailable, "edge.git: connection refused"};
  auto down = open_git_specs(mem, "/state", "https://git.example.com/edge.git", "main", "", repo);
  REQUIRE_FALSE(down);
  CHECK(down.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(down.error().message, Catch::Contains("connection refused"));
}

TEST_CASE("add_git_note: the line goes to the repository, and its refusal is returned",
          "[git_source]") {
  MemoryEnv mem;
  auto repo = std::make_shared<FakeRepository>();
  repo->fake_tree->files["cluster.yaml"] = "spec";
  auto specs = open_git_specs(mem, "/state", repo->where(), "main", "", repo);
  REQUIRE(specs);
  auto done = add_git_note(mem, "/state", *specs, R"({"outcome":"complete"})");
  REQUIRE(done);
  CHECK_THAT(*done, Catch::Contains("noted in refs/notes/edgecert"));
  REQUIRE(repo->notes.size() == 1);
  CHECK(repo->notes[0] == std::string(40, 'a') + R"( {"outcome":"complete"})");
  repo->fail_note = Error{ErrorCode::kConflict, "refused as non-fast-forward"};
  auto refused = add_git_note(mem, "/state", *specs, "x");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kConflict);
}

TEST_CASE("a real repository: branches, annotated tags, commit ids and notes", "[git_source]") {
  TempDir dir;
  const std::string work = dir.file("work");
  REQUIRE(git(dir.path(), "init -q -b main work") == "");
  REQUIRE(std::system(fmt::format("mkdir -p '{0}/edge' && echo spec > '{0}/edge/cluster.yaml' && "
                                  "echo ca > '{0}/edge/ca.pem' && ln -s ca.pem '{0}/edge/link.pem'",
                                  work)
                          .c_str()) == 0);
  git(work, "add -A");
  git(work, "commit -q -m one");
  const std::string one = git(work, "rev-parse HEAD");
  git(work, "tag -a v1 -m release");
  REQUIRE(std::system(fmt::format("echo two > '{}/edge/cluster.yaml'", work).c_str()) == 0);
  git(work, "commit -q -am two");
  const std::string two = git(work, "rev-parse HEAD");
  const std::string bare = dir.file("edge.git");
  REQUIRE(git(dir.path(), "clone -q --bare work edge.git") == "");

  auto opened = open_spec_repository(bare, dir.file("cache.git"), {});
  REQUIRE(opened);
  SpecRepository& repo = **opened;
  CHECK(repo.local());
  CHECK(*repo.resolve("main") == two);
  CHECK(*repo.resolve("refs/heads/main") == two);
  CHECK(*repo.resolve("v1") == one);  // the annotated tag, peeled to its commit
  CHECK(*repo.resolve(one.substr(0, 10)) == one);
  auto none = repo.resolve("release");
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::kNotFound);
  CHECK_THAT(none.error().message, Catch::Contains("no branch, tag, ref or commit 'release' "
                                                   "(branches: main)"));

  // A commit the cache holds from an earlier fetch, on no branch any more
  // (a withdrawn pull request): not taken by its id.
  git(work, "checkout -q -b feature");
  REQUIRE(std::system(fmt::format("echo three > '{}/edge/cluster.yaml'", work).c_str()) == 0);
  git(work, "commit -q -am three");
  const std::string three = git(work, "rev-parse HEAD");
  git(work, "push -q '" + bare + "' feature");
  CHECK(*repo.resolve("feature") == three);
  git(bare, "branch -D feature");
  auto gone_branch = repo.resolve(three.substr(0, 12));
  REQUIRE_FALSE(gone_branch);
  CHECK_THAT(gone_branch.error().message,
             Catch::Contains("commit " + three.substr(0, 12) + " is on no branch"));

  auto tree = repo.tree(one);
  REQUIRE(tree);
  CHECK(*(*tree)->read("edge/cluster.yaml", 100) == "spec\n");
  CHECK((*tree)->kind("edge/link.pem") == GitTree::Kind::kOther);
  CHECK((*tree)->kind("edge") == GitTree::Kind::kFolder);
  CHECK(*(*tree)->read("edge/cluster.yaml", 2) == "spe");  // the cap plus one byte

  // Notes: appended, one line per apply, in the repository (local: in place).
  REQUIRE(repo.add_note(two, R"({"run":"1"})"));
  REQUIRE(repo.add_note(two, R"({"run":"2"})"));
  CHECK(git(bare, "notes --ref=edgecert show " + two) == "{\"run\":\"1\"}\n{\"run\":\"2\"}");
  // Another writer's note on another commit meanwhile: built upon, not lost.
  git(bare, "notes --ref=edgecert add -m other " + one);
  REQUIRE(repo.add_note(two, R"({"run":"3"})"));
  CHECK(git(bare, "notes --ref=edgecert show " + one) == "other");
  CHECK_THAT(git(bare, "notes --ref=edgecert show " + two), Catch::EndsWith("{\"run\":\"3\"}"));

  auto gone = open_spec_repository(dir.file("missing.git"), dir.file("cache2.git"), {});
  REQUIRE(gone);
  auto unreachable = (*gone)->resolve("main");
  REQUIRE_FALSE(unreachable);
  CHECK(unreachable.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("local_path: paths and file:// are local, URLs and host:path are not", "[git_source]") {
  using git_util::local_path;
  CHECK(local_path("/srv/git/edge.git") == "/srv/git/edge.git");
  CHECK(local_path("repo") == "repo");
  CHECK(local_path("./a:b") == "./a:b");
  CHECK(local_path("file:///srv/git/edge.git") == "/srv/git/edge.git");
  CHECK(local_path("myhost:specs.git") == "");
  CHECK(local_path("git@git.example.com:uc/edge.git") == "");
  CHECK(local_path("https://git.example.com/edge.git") == "");
}

TEST_CASE("url_has_password spots user:password@", "[git_source]") {
  using git_util::url_has_password;
  CHECK(url_has_password("https://alice:S3cret@git.example.com/edge.git"));
  CHECK(url_has_password("git://a:b@127.0.0.1:9418/x.git"));
  CHECK_FALSE(url_has_password("https://alice@git.example.com/edge.git"));
  CHECK_FALSE(url_has_password("https://git.example.com:8443/edge.git"));
  CHECK_FALSE(url_has_password("ssh://git@git.example.com:2222/edge.git"));
  CHECK_FALSE(url_has_password("ssh://git@git.example.com/uc@edge.git"));
  CHECK_FALSE(url_has_password("git@git.example.com:uc/edge.git"));
  CHECK_FALSE(url_has_password("/srv/git/edge.git"));
  CHECK(url_has_password("https://u:pa/ss@git.example.com/edge.git"));  // '/' in the password
  // A ':' and then an '@' in the path: refused, the safe side.
  CHECK(url_has_password("https://git.example.com/a:b@c"));
  CHECK_FALSE(url_has_password("https://git.example.com/a@b"));
}

TEST_CASE("a server that accepts and never answers ends the fetch after the idle timeout",
          "[git_source]") {
  // A listening socket nobody accepts from: the kernel completes the
  // connection, and nothing is ever sent.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(s, 4) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  TempDir dir;
  GitCredentials creds;
  creds.idle_timeout = std::chrono::seconds(1);
  auto repo = open_spec_repository(fmt::format("git://127.0.0.1:{}/x.git", ntohs(addr.sin_port)),
                                   dir.file("cache.git"), creds);
  REQUIRE(repo);
  auto r = (*repo)->resolve("main");
  ::close(s);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(r.error().message, Catch::Contains("no answer for 1s (EDGECERT_GIT_TIMEOUT)"));
}

TEST_CASE("EDGECERT_GIT_TIMEOUT is seconds from 1 to 3600", "[git_source]") {
  MemoryEnv env;
  CHECK(git_credentials_from(env)->idle_timeout == std::chrono::seconds(60));
  env.set_env("EDGECERT_GIT_TIMEOUT", "5");
  CHECK(git_credentials_from(env)->idle_timeout == std::chrono::seconds(5));
  for (const char* bad : {"0", "3601", "5s", "-1", "99999999999"}) {
    env.set_env("EDGECERT_GIT_TIMEOUT", bad);
    auto c = git_credentials_from(env);
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message, Catch::Contains("EDGECERT_GIT_TIMEOUT"));
  }
}
