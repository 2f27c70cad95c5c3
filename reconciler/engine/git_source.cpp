#include "reconciler/engine/git_source.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "providers/pki/spki.h"

namespace edgecert {
namespace {

using namespace git_util;

constexpr const char* kNotesRef = "refs/notes/edgecert";
// Where fetched refs live in the cache, apart from anything else in it.
constexpr const char* kFetchedPrefix = "refs/edgecert/source/";
constexpr const char* kFetchedNotes = "refs/edgecert/source/notes/edgecert";
constexpr const char* kOutgoingNotes = "refs/edgecert/outgoing/notes";
// A push that lost the race is rebuilt on the new notes ref this often.
constexpr int kNoteAttempts = 3;

bool is_hex_id(const std::string& s) {
  return s.size() >= 7 && s.size() <= GIT_OID_HEXSZ && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

// The repository's objects, shared by the trees read from it.
struct SharedRepo {
  RepoPtr repo;
};

class LibgitTree final : public GitTree {
 public:
  LibgitTree(std::shared_ptr<SharedRepo> repo, git_tree* tree) : repo_(std::move(repo)) {
    tree_.p = tree;
  }

  Kind kind(const std::string& path) override {
    if (path.empty()) return Kind::kFolder;
    TreeEntryPtr entry;
    if (git_tree_entry_bypath(&entry.p, tree_.p, path.c_str()) != 0) return Kind::kMissing;
    switch (git_tree_entry_filemode(entry.p)) {
      case GIT_FILEMODE_TREE:
        return Kind::kFolder;
      case GIT_FILEMODE_BLOB:
      case GIT_FILEMODE_BLOB_EXECUTABLE:
        return Kind::kFile;
      default:
        return Kind::kOther;
    }
  }

  Result<std::string> read(const std::string& path, std::uint64_t max_bytes) override {
    TreeEntryPtr entry;
    if (path.empty() || git_tree_entry_bypath(&entry.p, tree_.p, path.c_str()) != 0)
      return make_error(ErrorCode::kNotFound, "no such file");
    BlobPtr blob;
    if (git_blob_lookup(&blob.p, repo_->repo.p, git_tree_entry_id(entry.p)) != 0)
      return std::unexpected(failure(ErrorCode::kCorrupt, "reading the file's blob"));
    auto size = static_cast<std::uint64_t>(git_blob_rawsize(blob.p));
    size = std::min(size, max_bytes + 1);
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob.p)),
                       static_cast<size_t>(size));
  }

  Result<std::vector<std::string>> list(const std::string& path) override {
    TreePtr sub;
    const git_tree* folder = tree_.p;
    if (!path.empty()) {
      TreeEntryPtr entry;
      if (git_tree_entry_bypath(&entry.p, tree_.p, path.c_str()) != 0 ||
          git_tree_lookup(&sub.p, repo_->repo.p, git_tree_entry_id(entry.p)) != 0)
        return make_error(ErrorCode::kNotFound, "no such folder");
      folder = sub.p;
    }
    std::vector<std::string> names;
    for (size_t i = 0, n = git_tree_entrycount(folder); i < n; ++i)
      names.emplace_back(git_tree_entry_name(git_tree_entry_byindex(folder, i)));
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::shared_ptr<SharedRepo> repo_;
  TreePtr tree_;
};

// Every repository, local or remote, is fetched into the bare cache with
// libgit2's transports (its local transport for a path), so one code path
// reads them all.
class LibgitSpecRepository final : public SpecRepository {
 public:
  LibgitSpecRepository(std::string url, git_repository* cache, GitCredentials creds)
      : url_(std::move(url)), creds_(std::move(creds)), repo_(std::make_shared<SharedRepo>()) {
    repo_->repo.p = cache;
  }
  std::string where() const override { return url_; }
  bool local() const override { return !local_path(url_).empty(); }

  Result<std::string> resolve(const std::string& ref) override {
    Connection c(*this);
    if (auto st = c.open(GIT_DIRECTION_FETCH, "fetching " + ref); !st)
      return std::unexpected(st.error());
    auto heads = c.heads();
    if (!heads) return std::unexpected(heads.error());
    std::vector<std::string> names;
    if (ref == "HEAD" || ref.starts_with("refs/")) names.push_back(ref);
    names.push_back("refs/heads/" + ref);
    names.push_back("refs/tags/" + ref);
    for (const std::string& name : names) {
      auto it = std::find_if(heads->begin(), heads->end(),
                             [&](const auto& h) { return h.first == name; });
      if (it == heads->end()) continue;
      std::string local =
          std::string(kFetchedPrefix) + (name.starts_with("refs/") ? name.substr(5) : name);
      if (auto st = c.download({"+" + name + ":" + local}, "fetching " + name); !st)
        return std::unexpected(st.error());
      // The fetched ref stays in the cache: the next fetch sends it as
      // what it has, and downloads only what is new.
      RefPtr kept;
      if (git_reference_create(&kept.p, repo_->repo.p, local.c_str(), &it->second, 1, nullptr) != 0)
        return std::unexpected(failure(ErrorCode::kIo, "the git cache: " + local));
      return peel_to_commit(it->second, ref);
    }
    if (is_hex_id(ref)) {
      // A commit id: whatever the branches hold (servers rarely serve a
      // commit asked for by id).
      if (auto st = c.download({std::string("+refs/heads/*:") + kFetchedPrefix + "heads/*"},
                               "fetching the branches");
          !st)
        return std::unexpected(st.error());
      ObjectPtr obj;
      git_oid prefix;
      int rc = git_oid_fromstrn(&prefix, ref.c_str(), ref.size());
      if (rc == 0)
        rc =
            git_object_lookup_prefix(&obj.p, repo_->repo.p, &prefix, ref.size(), GIT_OBJECT_COMMIT);
      if (rc == GIT_EAMBIGUOUS)
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: '{}' is the start of more than one commit id: give "
                                      "more of it",
                                      url_, ref));
      // The cache also holds what earlier runs fetched (a pull request's
      // head, a branch since rewritten): only a commit on a branch the
      // repository has now is taken.
      if (rc == 0) {
        const git_oid* id = git_object_id(obj.p);
        for (const auto& [name, head] : *heads)
          if (name.starts_with("refs/heads/") &&
              (git_oid_equal(&head, id) || git_graph_descendant_of(repo_->repo.p, &head, id) == 1))
            return hex(*id);
        return make_error(ErrorCode::kNotFound,
                          fmt::format("{}: commit {} is on no branch of the repository", url_,
                                      hex(*id).substr(0, 12)));
      }
    }
    std::vector<std::string> branches;
    for (const auto& h : *heads)
      if (h.first.starts_with("refs/heads/")) branches.push_back(h.first.substr(11));
    std::string listed;
    for (size_t i = 0; i < branches.size() && i < 10; ++i) listed += (i ? ", " : "") + branches[i];
    if (branches.size() > 10) listed += fmt::format(" and {} more", branches.size() - 10);
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{}: no branch, tag, ref or commit '{}' ({})", url_, ref,
                                  branches.empty() ? std::string("the repository has no branch")
                                                   : "branches: " + listed));
  }

  Result<std::shared_ptr<GitTree>> tree(const std::string& commit) override {
    git_oid id;
    CommitPtr c;
    TreePtr t;
    if (git_oid_fromstr(&id, commit.c_str()) != 0 ||
        git_commit_lookup(&c.p, repo_->repo.p, &id) != 0 || git_commit_tree(&t.p, c.p) != 0)
      return std::unexpected(
          failure(ErrorCode::kCorrupt, fmt::format("{}: reading commit {}", url_, commit)));
    git_tree* raw = t.p;
    t.p = nullptr;
    return std::shared_ptr<GitTree>(std::make_shared<LibgitTree>(repo_, raw));
  }

  Status add_note(const std::string& commit, const std::string& line) override {
    git_oid target;
    if (git_oid_fromstr(&target, commit.c_str()) != 0)
      return make_error(ErrorCode::kInvalidArgument, "not a commit id: " + commit);
    if (local()) return add_local_note(target, line);
    std::string last_refusal;
    for (int attempt = 0; attempt < kNoteAttempts; ++attempt) {
      // First the notes as they are, fetched on a connection of their own
      // (each connection's watchdog sees its own progress only).
      std::optional<git_oid> old;
      {
        Connection f(*this);
        if (auto st = f.open(GIT_DIRECTION_FETCH, "fetching " + std::string(kNotesRef)); !st)
          return st;
        auto heads = f.heads();
        if (!heads) return std::unexpected(heads.error());
        for (const auto& h : *heads)
          if (h.first == kNotesRef) old = h.second;
        if (old && !have(*old))
          if (auto st = f.download({std::string("+") + kNotesRef + ":" + kFetchedNotes},
                                   "fetching " + std::string(kNotesRef));
              !st)
            return st;
      }
      // Rewound between the listing and the fetch: start again.
      if (old && !have(*old)) {
        last_refusal = "the notes ref moved while it was fetched";
        continue;
      }
      auto built = build_note(repo_->repo.p, old, target, line);
      if (!built) return std::unexpected(built.error());
      RefPtr out;
      if (git_reference_create(&out.p, repo_->repo.p, kOutgoingNotes, &*built, 1, nullptr) != 0)
        return std::unexpected(
            failure(ErrorCode::kIo, "the git cache: " + std::string(kOutgoingNotes)));
      // The push carries the old value this connection advertises: when it
      // is not the one the note was built on, build again.
      Connection c(*this);
      if (auto st = c.open(GIT_DIRECTION_PUSH, "adding the note"); !st) return st;
      auto heads = c.heads();
      if (!heads) return std::unexpected(heads.error());
      std::optional<git_oid> now;
      for (const auto& h : *heads)
        if (h.first == kNotesRef) now = h.second;
      if (now.has_value() != old.has_value() || (now && !git_oid_equal(&*now, &*old))) {
        last_refusal = "another note was pushed meanwhile";
        continue;
      }
      auto pushed = c.push(std::string(kOutgoingNotes) + ":" + kNotesRef);
      if (pushed) return {};
      if (pushed.error().code != ErrorCode::kConflict) return pushed;
      last_refusal = pushed.error().message;
    }
    return make_error(
        ErrorCode::kConflict,
        fmt::format("{}: pushing {} was refused as non-fast-forward {} times: other notes were "
                    "pushed meanwhile ({})",
                    url_, kNotesRef, kNoteAttempts, last_refusal));
  }

 private:
  bool have(const git_oid& id) {
    git_odb* odb = nullptr;
    bool found = false;
    if (git_repository_odb(&odb, repo_->repo.p) == 0) {
      found = git_odb_exists(odb, &id) != 0;
      git_odb_free(odb);
    }
    return found;
  }

  Result<std::string> peel_to_commit(const git_oid& id, const std::string& ref) {
    ObjectPtr obj, commit;
    if (git_object_lookup(&obj.p, repo_->repo.p, &id, GIT_OBJECT_ANY) != 0 ||
        git_object_peel(&commit.p, obj.p, GIT_OBJECT_COMMIT) != 0)
      return std::unexpected(
          failure(ErrorCode::kNotFound, fmt::format("{}: '{}' does not name a commit", url_, ref)));
    return hex(*git_object_id(commit.p));
  }

  // A repository on this machine is changed in place (libgit2 cannot push
  // to one with a working tree): the notes ref moves from the value read to
  // the new commit under the ref's lock file, or the note is built again.
  Status add_local_note(const git_oid& target, const std::string& line) {
    RepoPtr repo;
    if (git_repository_open_ext(&repo.p, local_path(url_).c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                                nullptr) != 0)
      return std::unexpected(failed(ErrorCode::kUnavailable, "opening the repository"));
    for (int attempt = 0; attempt < kNoteAttempts; ++attempt) {
      std::optional<git_oid> old;
      git_oid id;
      int rc = git_reference_name_to_id(&id, repo.p, kNotesRef);
      if (rc == 0)
        old = id;
      else if (rc != GIT_ENOTFOUND)
        return std::unexpected(failed(ErrorCode::kCorrupt, std::string("reading ") + kNotesRef));
      auto built = build_note(repo.p, old, target, line);
      if (!built) return std::unexpected(built.error());
      git_oid none;
      std::memset(&none, 0, sizeof none);
      RefPtr ref;
      rc = git_reference_create_matching(&ref.p, repo.p, kNotesRef, &*built, /*force=*/1,
                                         old ? &*old : &none, "edgecert: note");
      if (rc == 0) return {};
      if (rc != GIT_EMODIFIED && rc != GIT_EEXISTS && rc != GIT_ELOCKED)
        return std::unexpected(failed(ErrorCode::kIo, std::string("updating ") + kNotesRef));
    }
    return make_error(ErrorCode::kConflict,
                      fmt::format("{}: {} kept moving ({} attempts): not a fast-forward", url_,
                                  kNotesRef, kNoteAttempts));
  }

  // A notes commit on top of `old` (none: the first) with `line` appended
  // to the note of `target`.
  Result<git_oid> build_note(git_repository* repo, const std::optional<git_oid>& old,
                             const git_oid& target, const std::string& line) {
    CommitPtr parent;
    std::string text;
    if (old) {
      if (git_commit_lookup(&parent.p, repo, &*old) != 0)
        return std::unexpected(
            failure(ErrorCode::kCorrupt, fmt::format("{}: {} is not a commit", url_, kNotesRef)));
      git_note* note = nullptr;
      if (git_note_commit_read(&note, repo, parent.p, &target) == 0) {
        text = git_note_message(note);
        git_note_free(note);
      }
    }
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += line + "\n";
    SignaturePtr sig;
    if (git_signature_now(&sig.p, "edgecert", "edgecert@localhost") != 0)
      return std::unexpected(failure(ErrorCode::kIo, "signing the note"));
    git_oid commit_id, blob_id;
    if (git_note_commit_create(&commit_id, &blob_id, repo, parent.p, sig.p, sig.p, &target,
                               text.c_str(), /*allow_note_overwrite=*/1) != 0)
      return std::unexpected(failure(ErrorCode::kIo, "the git cache: writing the note"));
    return commit_id;
  }

  Error failed(ErrorCode code, const std::string& what) const {
    return failure(code, fmt::format("{}: {}", url_, what));
  }

  // One connection: the refs it advertises are the old values its push
  // carries, so "read, then push" is one compare-and-swap on the server.
  struct Connection {
    explicit Connection(LibgitSpecRepository& r) : watchdog(r.creds_.idle_timeout), owner(r) {
      state.creds = &owner.creds_;
      state.watchdog = &watchdog;
      callbacks = remote_callbacks(state);
    }
    Error fail(ErrorCode code, const std::string& what) const {
      return network_failure(code, fmt::format("{}: {}", owner.url_, what), watchdog);
    }
    ~Connection() {
      if (remote.p) git_remote_disconnect(remote.p);
    }
    Status open(git_direction dir, const std::string& what) {
      if (git_remote_create_anonymous(&remote.p, owner.repo_->repo.p, owner.url_.c_str()) != 0 ||
          git_remote_connect(remote.p, dir, &callbacks, nullptr, nullptr) != 0)
        return std::unexpected(fail(ErrorCode::kUnavailable, what));
      return {};
    }
    Result<std::vector<std::pair<std::string, git_oid>>> heads() {
      const git_remote_head** list = nullptr;
      size_t n = 0;
      if (git_remote_ls(&list, &n, remote.p) != 0)
        return std::unexpected(fail(ErrorCode::kUnavailable, "listing refs"));
      std::vector<std::pair<std::string, git_oid>> out;
      for (size_t i = 0; i < n; ++i) out.emplace_back(list[i]->name, list[i]->oid);
      return out;
    }
    Status download(std::vector<std::string> specs, const std::string& what) {
      std::vector<char*> raw;
      for (auto& s : specs) raw.push_back(s.data());
      git_strarray refspecs{raw.data(), raw.size()};
      // The function, not GIT_FETCH_OPTIONS_INIT: clang warns on the macro's
      // missing field initialisers (the fuzz build is clang).
      git_fetch_options opts;
      git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
      opts.callbacks = callbacks;
      opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
      if (git_remote_download(remote.p, &refspecs, &opts) != 0)
        return std::unexpected(fail(ErrorCode::kUnavailable, what));
      return {};
    }
    Status push(std::string refspec) {
      char* specs[] = {refspec.data()};
      git_strarray refspecs{specs, 1};
      git_push_options opts;
      git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
      opts.callbacks = callbacks;
      if (git_remote_upload(remote.p, &refspecs, &opts) != 0) {
        // libgit2 refuses a push that is not a fast-forward itself.
        const git_error* e = git_error_last();
        if (e && e->message && std::strstr(e->message, "fast"))
          return make_error(ErrorCode::kConflict, e->message);
        return std::unexpected(fail(ErrorCode::kUnavailable, "pushing the note"));
      }
      if (!state.rejection.empty()) return make_error(ErrorCode::kConflict, state.rejection);
      return {};
    }

    // First: destroyed last, after the destructor's disconnect.
    NetworkWatchdog watchdog;
    LibgitSpecRepository& owner;
    git_remote_callbacks callbacks;
    CallbackState state;
    RemotePtr remote;
  };

  std::string url_;
  GitCredentials creds_;
  std::shared_ptr<SharedRepo> repo_;
};

// What messages call a commit: "main at 1a2b3c4d".
std::string at(const GitOrigin& o) {
  return fmt::format("{} at {}", o.ref, o.commit.substr(0, 12));
}

// The cache's lock: two runs fetching into one cache would trip over each
// other's ref locks, so one waits for the other (a fetch takes seconds).
Result<std::unique_ptr<FileLock>> lock_cache(Env& env, const std::string& cache) {
  if (auto st = env.create_dirs(path_dirname(cache), 0700); !st) return std::unexpected(st.error());
  for (int i = 0;; ++i) {
    auto l = env.lock_file(cache + ".lock");
    if (l || l.error().code != ErrorCode::kConflict || i >= 600) {
      if (!l) return std::unexpected(l.error().with_context("the git cache"));
      return l;
    }
    env.sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

Result<std::unique_ptr<SpecRepository>> open_spec_repository(const std::string& repository,
                                                             const std::string& cache_dir,
                                                             const GitCredentials& credentials) {
  init();
  git_repository* cache = nullptr;
  if (git_repository_open_bare(&cache, cache_dir.c_str()) != 0 &&
      git_repository_init(&cache, cache_dir.c_str(), /*is_bare=*/1) != 0)
    return std::unexpected(
        failure(ErrorCode::kIo,
                fmt::format("the git cache {} of {} cannot be created", cache_dir, repository)));
  return std::unique_ptr<SpecRepository>(
      std::make_unique<LibgitSpecRepository>(repository, cache, credentials));
}

std::string git_cache_dir(const std::string& state_root, const std::string& repository) {
  return path_join(path_join(state_root, "git-cache"),
                   pki::sha256_hex(repository).substr(0, 16) + ".git");
}

std::string git_tree_root(const std::string& commit) {
  return "git:" + commit.substr(0, 12);
}

std::optional<std::string> normalize_tree_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

GitTreeEnv::GitTreeEnv(Env& target, std::shared_ptr<GitTree> tree, GitOrigin origin)
    : EnvWrapper(target),
      tree_(std::move(tree)),
      origin_(std::move(origin)),
      root_(git_tree_root(origin_.commit)) {}

std::optional<std::string> GitTreeEnv::in_tree(const std::string& path, bool* escapes) const {
  if (path != root_ && !(path.starts_with(root_) && path[root_.size()] == '/')) return std::nullopt;
  auto p = normalize_tree_path(path.substr(root_.size()));
  if (escapes) *escapes = !p;
  return p.value_or("");
}

Error GitTreeEnv::read_only(const std::string& path) const {
  return Error{ErrorCode::kPermission,
               fmt::format("{}: read-only, in commit {} of {} (--git): a file edgecert writes "
                           "must be named by an absolute path outside the repository",
                           path, at(origin_), origin_.repository)};
}

Status GitTreeEnv::write_file_atomic(const std::string& path, const std::string& data,
                                     unsigned mode) {
  if (in_tree(path)) return std::unexpected(read_only(path));
  return EnvWrapper::write_file_atomic(path, data, mode);
}
Status GitTreeEnv::create_exclusive(const std::string& path, const std::string& data,
                                    unsigned mode) {
  if (in_tree(path)) return std::unexpected(read_only(path));
  return EnvWrapper::create_exclusive(path, data, mode);
}
Status GitTreeEnv::append_file(const std::string& path, const std::string& data, unsigned mode) {
  if (in_tree(path)) return std::unexpected(read_only(path));
  return EnvWrapper::append_file(path, data, mode);
}
Result<std::unique_ptr<FileLock>> GitTreeEnv::lock_file(const std::string& path) {
  if (in_tree(path)) return std::unexpected(read_only(path));
  return EnvWrapper::lock_file(path);
}
Status GitTreeEnv::create_dirs(const std::string& path, unsigned mode) {
  if (in_tree(path)) return std::unexpected(read_only(path));
  return EnvWrapper::create_dirs(path, mode);
}
Status GitTreeEnv::remove_file(const std::string& path) {
  if (in_tree(path)) return std::unexpected(read_only(path));
  return EnvWrapper::remove_file(path);
}

bool GitTreeEnv::exists(const std::string& path) {
  bool escapes = false;
  auto p = in_tree(path, &escapes);
  if (!p) return EnvWrapper::exists(path);
  std::lock_guard<std::mutex> lock(mu_);
  return !escapes && tree_->kind(*p) != GitTree::Kind::kMissing;
}

bool GitTreeEnv::is_directory(const std::string& path) {
  bool escapes = false;
  auto p = in_tree(path, &escapes);
  if (!p) return EnvWrapper::is_directory(path);
  std::lock_guard<std::mutex> lock(mu_);
  return !escapes && tree_->kind(*p) == GitTree::Kind::kFolder;
}

Result<std::vector<std::string>> GitTreeEnv::list_dir(const std::string& path) {
  bool escapes = false;
  auto p = in_tree(path, &escapes);
  if (!p) return EnvWrapper::list_dir(path);
  std::lock_guard<std::mutex> lock(mu_);
  if (escapes || tree_->kind(*p) != GitTree::Kind::kFolder)
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{}: no such folder in commit {}", path, at(origin_)));
  return tree_->list(*p);
}

Result<unsigned> GitTreeEnv::file_mode(const std::string& path) {
  if (!in_tree(path)) return EnvWrapper::file_mode(path);
  if (!exists(path))
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{}: no such file in commit {}", path, at(origin_)));
  return 0444u;
}

Result<std::string> GitTreeEnv::do_read_file(const std::string& path, std::uint64_t max_bytes) {
  bool escapes = false;
  auto p = in_tree(path, &escapes);
  if (!p) return EnvWrapper::do_read_file(path, max_bytes);
  if (escapes)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: climbs out of the repository (--git reads only the "
                                  "commit's tree)",
                                  path));
  std::lock_guard<std::mutex> lock(mu_);
  switch (tree_->kind(*p)) {
    case GitTree::Kind::kMissing:
      return make_error(ErrorCode::kNotFound, fmt::format("{}: no such file in commit {} of {}",
                                                          path, at(origin_), origin_.repository));
    case GitTree::Kind::kFolder:
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: not a regular file (a folder)", path));
    case GitTree::Kind::kOther:
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: not a regular file (a symbolic link or submodule in the "
                                    "repository, which edgecert does not follow)",
                                    path));
    case GitTree::Kind::kFile:
      break;
  }
  auto bytes = tree_->read(*p, max_bytes);
  if (!bytes) return std::unexpected(bytes.error().with_context(path));
  return bytes;
}

std::string GitSpecs::dir() const {
  return origin().path.empty() ? env->root() : env->root() + "/" + origin().path;
}

std::optional<std::string> GitSpecs::spec_path(const std::string& name) const {
  if (name.empty() || path_is_absolute(name)) return std::nullopt;
  auto in_tree = normalize_tree_path(path_join(origin().path, name));
  if (!in_tree) return std::nullopt;
  return in_tree->empty() ? env->root() : env->root() + "/" + *in_tree;
}

std::string not_in_repository(const std::string& name) {
  return fmt::format(
      "--git: '{}' is not a path in the repository: with --git, SPEC and PATH name files in the "
      "commit, relative to --path",
      name);
}

std::string GitSpecs::tree_path(const std::string& env_path) const {
  const std::string& root = env->root();
  if (!env_path.starts_with(root + "/")) return env_path;
  return normalize_tree_path(env_path.substr(root.size() + 1)).value_or(env_path);
}

Result<GitSpecs> open_git_specs(Env& env, const std::string& state_root,
                                const std::string& repository, const std::string& ref,
                                const std::string& path, std::shared_ptr<SpecRepository> injected) {
  if (repository.empty()) return make_error(ErrorCode::kInvalidArgument, "--git: empty repository");
  // The repository is printed, and saved in plans, audit logs and metrics:
  // a password in it would end up in all of them. Not echoed here either.
  if (url_has_password(repository))
    return make_error(ErrorCode::kInvalidArgument,
                      "--git: the repository URL carries a password; it would be printed and "
                      "saved in plans and logs. Give the URL without it, and the password (a "
                      "token) in EDGECERT_GIT_PASSWORD");
  if (ref.empty())
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("--git {}: --ref is required (a branch, tag, ref or commit)", repository));
  GitOrigin origin;
  origin.ref = ref;
  // A local repository by its absolute path: the saved plan then names the
  // same repository from any working folder.
  origin.repository = repository;
  if (std::string local = local_path(repository); !local.empty()) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(local, ec);
    if (!ec) origin.repository = abs.lexically_normal().string();
    if (origin.repository.size() > 1 && origin.repository.back() == '/')
      origin.repository.pop_back();
  }
  auto dir = normalize_tree_path(path);
  if (!dir)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--path {}: climbs out of the repository", path));
  origin.path = *dir;

  std::shared_ptr<SpecRepository> repo = std::move(injected);
  const std::string cache = git_cache_dir(state_root, origin.repository);
  std::unique_ptr<FileLock> cache_lock;
  if (!repo) {
    auto locked = lock_cache(env, cache);
    if (!locked) return std::unexpected(locked.error());
    cache_lock = std::move(*locked);
    auto creds = git_credentials_from(env);
    if (!creds) return std::unexpected(creds.error());
    auto opened = open_spec_repository(origin.repository, cache, *creds);
    if (!opened) return std::unexpected(opened.error());
    repo = std::move(*opened);
  }
  auto commit = repo->resolve(ref);
  if (!commit) return std::unexpected(commit.error().with_context("--git"));
  origin.commit = *commit;
  auto tree = repo->tree(origin.commit);
  if (!tree) return std::unexpected(tree.error());
  if (!origin.path.empty() && (*tree)->kind(origin.path) != GitTree::Kind::kFolder)
    return make_error(ErrorCode::kNotFound,
                      fmt::format("--path {}: no such folder in commit {} of {}", origin.path,
                                  at(origin), origin.repository));
  GitSpecs out;
  out.repository = std::move(repo);
  out.env = std::make_unique<GitTreeEnv>(env, std::move(*tree), std::move(origin));
  return out;
}

Result<std::string> add_git_note(Env& env, const std::string& state_root, GitSpecs& specs,
                                 const std::string& line) {
  const GitOrigin& o = specs.origin();
  auto cache_lock = lock_cache(env, git_cache_dir(state_root, o.repository));
  if (!cache_lock) return std::unexpected(cache_lock.error());
  if (auto st = specs.repository->add_note(o.commit, line); !st) return std::unexpected(st.error());
  return fmt::format("noted in {} of {} on commit {}", kNotesRef, o.repository,
                     o.commit.substr(0, 12));
}

std::string git_state_root(const std::string& state_dir) {
  return state_dir.empty() ? std::string(".edgecert/state") : state_dir;
}

SessionOptions git_session_options(SessionOptions options, const GitSpecs& specs) {
  options.state_dir = git_state_root(options.state_dir);
  if (options.local_dir.empty()) options.local_dir = ".";
  options.read_only_root = specs.env->root();
  return options;
}

void record_git_origin(Plan& plan, const GitSpecs& specs) {
  plan.git = specs.origin();
  plan.spec_path = specs.tree_path(plan.spec_path);
  plan.spec_absolute_path = plan.spec_path;
}

std::string git_note_line(const nlohmann::json& fields) {
  // A note is text anyone may read: bytes that are not UTF-8 are replaced.
  return fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace edgecert
