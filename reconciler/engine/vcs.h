// Version control: which commit a spec came from, for plans and audit logs.
//
// Behind an interface (git is a side effect); the real one uses libgit2.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "providers/base/error.h"

namespace edgecert {

struct VcsInfo {
  std::string commit;  // full hex id of HEAD
  bool dirty = false;  // the spec file differs from HEAD (modified or untracked)
  // Tracked files anywhere in the repository that differ from HEAD (staged,
  // modified, deleted, renamed), relative to the repository's root, sorted.
  // Untracked files are not listed: a CI job's plan.json or an ignored
  // state folder does not make a tree dirty.
  std::vector<std::string> changed;
};

class Vcs {
 public:
  virtual ~Vcs() = default;
  // The repository containing `path`, if any.
  virtual std::optional<VcsInfo> describe(const std::string& path) = 0;
};

std::unique_ptr<Vcs> make_git_vcs();

// --require-clean: the spec at `spec_path` is committed and its repository
// has no uncommitted change to a tracked file. kFailedPrecondition-style
// kConflict naming the spec, or the changed files (the first 10), and what
// to do; kNotFound when the spec is not in a git repository.
Status require_clean_tree(Vcs& vcs, const std::string& spec_path);

}  // namespace edgecert
