#include <git2.h>

#include <filesystem>
#include <mutex>

#include "reconciler/engine/vcs.h"

namespace edgecert {
namespace {

class GitVcs final : public Vcs {
 public:
  GitVcs() {
    static std::once_flag once;
    std::call_once(once, [] { git_libgit2_init(); });
  }

  std::optional<VcsInfo> describe(const std::string& path) override {
    std::error_code ec;
    auto abs = std::filesystem::absolute(path, ec);
    if (ec) return std::nullopt;
    git_repository* repo = nullptr;
    if (git_repository_open_ext(&repo, abs.parent_path().c_str(), 0, nullptr) != 0)
      return std::nullopt;
    std::unique_ptr<git_repository, void (*)(git_repository*)> guard(repo, git_repository_free);
    git_oid oid;
    if (git_reference_name_to_id(&oid, repo, "HEAD") != 0) return std::nullopt;
    VcsInfo info;
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, &oid);
    info.commit = hex;
    const char* workdir = git_repository_workdir(repo);
    if (workdir) {
      auto rel = std::filesystem::relative(abs, workdir, ec);
      unsigned int flags = 0;
      if (!ec && git_status_file(&flags, repo, rel.c_str()) == 0)
        info.dirty = flags != GIT_STATUS_CURRENT;
    }
    return info;
  }
};

}  // namespace

std::unique_ptr<Vcs> make_git_vcs() {
  return std::make_unique<GitVcs>();
}

}  // namespace edgecert
