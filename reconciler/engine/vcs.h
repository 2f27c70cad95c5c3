// Version control: which commit a spec came from, for plans and audit logs.
//
// Behind an interface (git is a side effect); the real one uses libgit2.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace edgecert {

struct VcsInfo {
  std::string commit;  // full hex id of HEAD
  bool dirty = false;  // the spec file differs from HEAD (modified or untracked)
};

class Vcs {
 public:
  virtual ~Vcs() = default;
  // The repository containing `path`, if any.
  virtual std::optional<VcsInfo> describe(const std::string& path) = 0;
};

std::unique_ptr<Vcs> make_git_vcs();

}  // namespace edgecert
