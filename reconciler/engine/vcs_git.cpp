#include <git2.h>

#include <algorithm>
#include <filesystem>
#include <mutex>

#include <fmt/core.h>

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
    if (workdir) info.changed = changed_tracked_files(repo);
    return info;
  }

 private:
  static std::vector<std::string> changed_tracked_files(git_repository* repo) {
    std::vector<std::string> out;
    // The function, not GIT_STATUS_OPTIONS_INIT: clang warns on the macro's
    // missing field initialisers (the fuzz build is clang).
    git_status_options opts;
    git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
    opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX;
    git_status_list* list = nullptr;
    if (git_status_list_new(&list, repo, &opts) != 0) return out;
    for (size_t i = 0, n = git_status_list_entrycount(list); i < n; ++i) {
      const git_status_entry* e = git_status_byindex(list, i);
      if (!e || e->status == GIT_STATUS_CURRENT || (e->status & GIT_STATUS_WT_NEW) ||
          (e->status & GIT_STATUS_IGNORED))
        continue;
      const git_diff_delta* d = e->head_to_index ? e->head_to_index : e->index_to_workdir;
      if (d && d->new_file.path) out.emplace_back(d->new_file.path);
    }
    git_status_list_free(list);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
};

}  // namespace

std::unique_ptr<Vcs> make_git_vcs() {
  return std::make_unique<GitVcs>();
}

Status require_clean_tree(Vcs& vcs, const std::string& spec_path) {
  auto info = vcs.describe(spec_path);
  if (!info)
    return make_error(ErrorCode::kNotFound,
                      fmt::format("--require-clean: {} is not in a git repository (or the "
                                  "repository has no commit yet); nothing was changed",
                                  spec_path));
  if (info->dirty)
    return make_error(ErrorCode::kConflict,
                      fmt::format("--require-clean: {} differs from commit {} (modified or not "
                                  "committed): commit it, so what runs is what was reviewed; "
                                  "nothing was changed",
                                  spec_path, info->commit.substr(0, 12)));
  if (!info->changed.empty()) {
    std::string list;
    for (size_t i = 0; i < info->changed.size() && i < 10; ++i)
      list += (i ? ", " : "") + info->changed[i];
    if (info->changed.size() > 10) list += fmt::format(" and {} more", info->changed.size() - 10);
    return make_error(ErrorCode::kConflict,
                      fmt::format("--require-clean: the working tree of {} has uncommitted "
                                  "changes to tracked files ({}) since commit {}: commit or "
                                  "revert them ('git status'); nothing was changed",
                                  spec_path, list, info->commit.substr(0, 12)));
  }
  return {};
}

}  // namespace edgecert
