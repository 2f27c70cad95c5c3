// Specs read from a git ref: `--git REPO --ref REF [--path DIR]` on
// validate, plan, apply and check (docs/gitops.md).
//
// The repository (a path or a URL) is fetched into a bare cache under the
// state folder, `<state root>/git-cache/<digest of REPO>.git`, and the specs
// and every file they name are read from the commit's tree: no working
// checkout, so what runs is exactly what the commit holds, whatever lies in
// a folder on this machine.
//
// A commit's tree is shown to the rest of edgecert as a folder that exists
// nowhere on disk, "git:<first 12 hex digits of the commit>": GitTreeEnv
// serves reads under it from the tree and refuses writes there, and passes
// every other path to the Env it wraps. A spec loaded from
// "git:1a2b3c4d5e6f/clusters/edge/cluster.yaml" so resolves its relative
// paths (trusted CAs, CRL files, known_hosts) inside the same commit, and
// its diagnostics name that path. Absolute paths in the spec stay paths on
// this machine (the issuer's folders, secrets: they never belong in git).
//
// After an apply from a ref, its outcome is added to the applied commit's
// note in refs/notes/edgecert (one JSON line per apply, appended to what the
// note holds). A repository on this machine gets it at once; a remote one
// only with `apply --push-note`. The push carries the old value of the
// notes ref read on the same connection: when another push got in between,
// the note is rebuilt on the new value and pushed again, twice at most, and
// then refused as non-fast-forward.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "providers/base/env_wrapper.h"
#include "reconciler/engine/git_origin.h"
#include "reconciler/engine/git_util.h"
#include "reconciler/engine/plan.h"
#include "reconciler/engine/session.h"

namespace edgecert {

// A read-only view of one commit's tree. Paths are relative to the tree's
// root, '/'-separated, without "." or ".." ("" is the root).
class GitTree {
 public:
  enum class Kind { kMissing, kFile, kFolder, kOther };
  virtual ~GitTree() = default;
  // kOther: a symbolic link or a submodule, which edgecert does not follow.
  virtual Kind kind(const std::string& path) = 0;
  // A file's bytes, at most `max_bytes` + 1 of them (Env::do_read_file's
  // contract); kNotFound when there is no such file.
  virtual Result<std::string> read(const std::string& path, std::uint64_t max_bytes) = 0;
  // Names in a folder, sorted.
  virtual Result<std::vector<std::string>> list(const std::string& path) = 0;
};

// The repository specs come from; fakeable in tests. Not thread-safe.
class SpecRepository {
 public:
  virtual ~SpecRepository() = default;
  // The repository as messages name it.
  virtual std::string where() const = 0;
  // Fetches `ref` into the cache and returns its commit's full id. `ref` is
  // a branch, a tag, a full ref name (refs/pull/12/head), HEAD, or the id
  // (7 to 40 hex digits) of a commit on a branch. kNotFound naming the ref
  // and the repository's branches when there is no such thing;
  // kUnavailable when the repository cannot be reached.
  virtual Result<std::string> resolve(const std::string& ref) = 0;
  // The tree of a commit resolve returned.
  virtual Result<std::shared_ptr<GitTree>> tree(const std::string& commit) = 0;
  // Appends `line` to the note of `commit` in refs/notes/edgecert and
  // updates the repository's notes ref with compare-and-swap. kConflict
  // ("non-fast-forward") when the ref kept moving; kUnavailable when the
  // repository cannot be reached.
  virtual Status add_note(const std::string& commit, const std::string& line) = 0;
  // Whether the repository is on this machine (a path or file://).
  virtual bool local() const = 0;
};

// libgit2: `repository` a path or URL (ssh://, git://, https://, file://,
// user@host:path); `cache_dir` the bare repository it is fetched into,
// created when missing. kUnavailable naming the repository when the cache
// cannot be opened or created.
Result<std::unique_ptr<SpecRepository>> open_spec_repository(const std::string& repository,
                                                             const std::string& cache_dir,
                                                             const GitCredentials& credentials);

// `<state_root>/git-cache/<16 hex digits of SHA-256(repository)>.git`.
std::string git_cache_dir(const std::string& state_root, const std::string& repository);

// "git:<first 12 hex digits of commit>": the folder standing for its tree.
std::string git_tree_root(const std::string& commit);

// `path` relative to a tree's root without "." and ".." ("a/./b/../c" ->
// "a/c"); nullopt when it climbs above the root.
std::optional<std::string> normalize_tree_path(const std::string& path);

// An Env in which `root` (git_tree_root) is a read-only folder holding
// `tree`; every other path goes to `target`. A write, lock or new folder
// under `root` is kPermission naming the path and the commit.
class GitTreeEnv final : public EnvWrapper {
 public:
  GitTreeEnv(Env& target, std::shared_ptr<GitTree> tree, GitOrigin origin);
  const std::string& root() const { return root_; }
  const GitOrigin& origin() const { return origin_; }

  Status write_file_atomic(const std::string& path, const std::string& data,
                           unsigned mode) override;
  Status create_exclusive(const std::string& path, const std::string& data, unsigned mode) override;
  Status append_file(const std::string& path, const std::string& data, unsigned mode) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;
  bool exists(const std::string& path) override;
  bool is_directory(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  Status create_dirs(const std::string& path, unsigned mode) override;
  Status remove_file(const std::string& path) override;
  Result<unsigned> file_mode(const std::string& path) override;

 protected:
  Result<std::string> do_read_file(const std::string& path, std::uint64_t max_bytes) override;

 private:
  // The tree path `path` stands for: nullopt when `path` is not under
  // root_; "" plus `escapes` set when it climbs out of the tree.
  std::optional<std::string> in_tree(const std::string& path, bool* escapes = nullptr) const;
  Error read_only(const std::string& path) const;

  std::shared_ptr<GitTree> tree_;
  GitOrigin origin_;
  std::string root_;
  std::mutex mu_;  // the tree (libgit2 objects) is used by one thread at a time
};

// Specs at a ref, ready to load: the repository, what the ref named, and
// the Env that reads them.
struct GitSpecs {
  std::shared_ptr<SpecRepository> repository;
  std::unique_ptr<GitTreeEnv> env;
  const GitOrigin& origin() const { return env->origin(); }
  // root/path: the folder specs are named from.
  std::string dir() const;
  // A spec named on the command line (relative to --path) as a path in env;
  // nullopt for a name that is absolute or climbs out of the repository
  // (with --git, every spec comes from the commit).
  std::optional<std::string> spec_path(const std::string& name) const;
  // A path in env as the tree names it ("clusters/edge/cluster.yaml").
  std::string tree_path(const std::string& env_path) const;
};

// "--git: SPEC names a file in the repository ...": why spec_path refused
// `name`.
std::string not_in_repository(const std::string& name);

// Opens `repository` (its cache under `state_root`, its fetch serialised
// with other runs by a lock file next to the cache), resolves `ref`, and
// checks that `path` is a folder at that commit. A local repository is
// recorded by its absolute path. Errors name REPO, REF and the commit:
// kNotFound for a ref or a path that is not there.
Result<GitSpecs> open_git_specs(Env& env, const std::string& state_root,
                                const std::string& repository, const std::string& ref,
                                const std::string& path,
                                std::shared_ptr<SpecRepository> injected = nullptr);

// Adds `line` to the note of the commit `specs` came from (see above),
// under the cache's lock. Returns what was done, for people.
Result<std::string> add_git_note(Env& env, const std::string& state_root, GitSpecs& specs,
                                 const std::string& line);

// The state root of a run whose specs come from git: `state_dir` when
// given, else .edgecert/state in the working folder (the spec's own folder
// is in the commit, where nothing can be written).
std::string git_state_root(const std::string& state_dir);

// `options` for specs read from `specs`: state_dir is git_state_root, the
// simulator's default folder is in the working folder too, and the
// commit's folder is read-only to the spec (SessionOptions::read_only_root).
SessionOptions git_session_options(SessionOptions options, const GitSpecs& specs);

// For a plan made from `specs`: the origin, and the spec's path as the tree
// names it.
void record_git_origin(Plan& plan, const GitSpecs& specs);

// The note's line for an apply (JSON, one line): what ran from which commit
// and how it ended.
std::string git_note_line(const nlohmann::json& fields);

}  // namespace edgecert
