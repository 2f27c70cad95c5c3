#include "reconciler/engine/git_lock.h"

#include <git2.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/core.h>

#include "reconciler/engine/git_util.h"

#include "providers/base/time.h"

namespace edgecert {
namespace {

using namespace git_util;

// A lock.json larger than this is not one edgecert wrote.
constexpr size_t kMaxLockBytes = 64 * 1024;

// lock.json of the commit `oid` in `repo`; "" when it is not a commit
// holding one (read_git_lock then calls the lock unreadable).
std::string lock_content(git_repository* repo, const git_oid& oid) {
  CommitPtr commit;
  if (git_commit_lookup(&commit.p, repo, &oid) != 0) return "";
  TreePtr tree;
  if (git_commit_tree(&tree.p, commit.p) != 0) return "";
  const git_tree_entry* entry = git_tree_entry_byname(tree.p, "lock.json");
  if (!entry || git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return "";
  BlobPtr blob;
  if (git_blob_lookup(&blob.p, repo, git_tree_entry_id(entry)) != 0) return "";
  auto size = static_cast<size_t>(git_blob_rawsize(blob.p));
  if (size > kMaxLockBytes) return "";
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.p)), size);
}

// A parentless commit whose tree holds `content` as lock.json.
Result<git_oid> write_lock_commit(git_repository* repo, const std::string& content,
                                  const std::string& message) {
  git_oid blob_id, tree_id, commit_id;
  if (git_blob_create_from_buffer(&blob_id, repo, content.data(), content.size()) != 0)
    return std::unexpected(git_util::failure(ErrorCode::kIo, "writing the lock's blob"));
  TreeBuilderPtr builder;
  if (git_treebuilder_new(&builder.p, repo, nullptr) != 0 ||
      git_treebuilder_insert(nullptr, builder.p, "lock.json", &blob_id, GIT_FILEMODE_BLOB) != 0 ||
      git_treebuilder_write(&tree_id, builder.p) != 0)
    return std::unexpected(git_util::failure(ErrorCode::kIo, "writing the lock's tree"));
  TreePtr tree;
  if (git_tree_lookup(&tree.p, repo, &tree_id) != 0)
    return std::unexpected(git_util::failure(ErrorCode::kIo, "reading the lock's tree"));
  SignaturePtr sig;
  if (git_signature_now(&sig.p, "edgecert", "edgecert@localhost") != 0)
    return std::unexpected(git_util::failure(ErrorCode::kIo, "signing the lock's commit"));
  if (git_commit_create(&commit_id, repo, nullptr, sig.p, sig.p, "UTF-8", message.c_str(), tree.p,
                        0, nullptr) != 0)
    return std::unexpected(git_util::failure(ErrorCode::kIo, "writing the lock's commit"));
  return commit_id;
}

// libgit2 refuses a ref update while another process holds the ref's lock
// file (GIT_ELOCKED): that is another edgecert in the middle of its own
// update, done within milliseconds, so try again for up to 5 s.
template <typename F>
int retry_locked(F&& update) {
  int rc = update();
  for (int i = 0; i < 100 && rc == GIT_ELOCKED; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    rc = update();
  }
  return rc;
}

// A repository on this machine, changed in place: libgit2's ref database
// takes the ref's lock file and compares the old value under it.
class LocalRefStore final : public RefStore {
 public:
  LocalRefStore(std::string where, git_repository* repo) : where_(std::move(where)) {
    repo_.p = repo;
  }
  std::string where() const override { return where_; }

  Result<std::optional<Ref>> read(const std::string& name) override {
    RefPtr ref;
    int rc = git_reference_lookup(&ref.p, repo_.p, name.c_str());
    if (rc == GIT_ENOTFOUND) return std::optional<Ref>();
    if (rc != 0) return std::unexpected(failure(ErrorCode::kUnavailable, "reading " + name));
    const git_oid* oid = git_reference_target(ref.p);
    if (!oid) return std::optional<Ref>(Ref{"", ""});  // symbolic: not a lock
    return std::optional<Ref>(Ref{hex(*oid), lock_content(repo_.p, *oid)});
  }

  Result<std::string> create(const std::string& name, const std::string& content,
                             const std::string& message) override {
    auto commit = write_lock_commit(repo_.p, content, message);
    if (!commit) return std::unexpected(commit.error().with_context(where_));
    RefPtr ref;
    // The expected old value is "none", compared under the ref's lock file.
    // force=0 alone is not enough: libgit2 checks that the ref is absent
    // before it takes the lock, so two creators could both pass that check
    // and the second would overwrite the first (seen under load in CI).
    git_oid none;
    std::memset(&none, 0, sizeof none);
    int rc = retry_locked([&] {
      return git_reference_create_matching(&ref.p, repo_.p, name.c_str(), &*commit,
                                           /*force=*/0, &none, "edgecert: lock");
    });
    if (rc == GIT_EEXISTS || rc == GIT_EMODIFIED)
      return make_error(ErrorCode::kConflict, fmt::format("{}: {} exists", where_, name));
    if (rc != 0) return std::unexpected(failure(ErrorCode::kUnavailable, "creating " + name));
    return hex(*commit);
  }

  Status remove(const std::string& name, const std::string& oid) override {
    RefPtr ref;
    int rc = git_reference_lookup(&ref.p, repo_.p, name.c_str());
    if (rc == GIT_ENOTFOUND)
      return make_error(ErrorCode::kNotFound, fmt::format("{}: {} is gone", where_, name));
    if (rc != 0) return std::unexpected(failure(ErrorCode::kUnavailable, "reading " + name));
    const git_oid* target = git_reference_target(ref.p);
    if (!target || hex(*target) != oid)
      return make_error(ErrorCode::kConflict, fmt::format("{}: {} moved", where_, name));
    // Deletes only if the ref still holds `target` (checked under its lock).
    rc = retry_locked([&] { return git_reference_delete(ref.p); });
    if (rc == GIT_EMODIFIED || rc == GIT_ENOTFOUND)
      return make_error(ErrorCode::kConflict, fmt::format("{}: {} moved", where_, name));
    if (rc != 0) return std::unexpected(failure(ErrorCode::kUnavailable, "deleting " + name));
    return {};
  }

 private:
  Error failure(ErrorCode code, const std::string& what) {
    return git_util::failure(code, fmt::format("{}: {}", where_, what));
  }
  std::string where_;
  RepoPtr repo_;
};

// A repository reached over the network: read by connecting and listing
// (and fetching the lock's commit into the cache), changed by pushes that
// carry the old value advertised on the same connection.
class RemoteRefStore final : public RefStore {
 public:
  RemoteRefStore(std::string url, git_repository* cache, GitCredentials creds)
      : url_(std::move(url)), creds_(std::move(creds)) {
    cache_.p = cache;
  }
  std::string where() const override { return url_; }

  Result<std::optional<Ref>> read(const std::string& name) override {
    Connection c(*this);
    if (auto st = c.open(GIT_DIRECTION_FETCH, "reading " + name); !st)
      return std::unexpected(st.error());
    auto oid = c.advertised(name);
    if (!oid) return std::unexpected(oid.error());
    if (!*oid) return std::optional<Ref>();
    git_oid id;
    git_oid_fromstr(&id, (*oid)->c_str());
    git_odb* odb = nullptr;
    bool have = false;
    if (git_repository_odb(&odb, cache_.p) == 0) {
      have = git_odb_exists(odb, &id) != 0;
      git_odb_free(odb);
    }
    if (!have) {
      std::string spec = "+" + name + ":refs/edgecert/fetched/" + leaf(name);
      char* specs[] = {spec.data()};
      git_strarray refspecs{specs, 1};
      // The function, not GIT_FETCH_OPTIONS_INIT: clang warns on the macro's
      // missing field initialisers (the fuzz build is clang).
      git_fetch_options opts;
      git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
      opts.callbacks = c.callbacks;
      if (git_remote_download(c.remote.p, &refspecs, &opts) != 0)
        return std::unexpected(c.fail(ErrorCode::kUnavailable, "fetching " + name));
    }
    return std::optional<Ref>(Ref{**oid, lock_content(cache_.p, id)});
  }

  Result<std::string> create(const std::string& name, const std::string& content,
                             const std::string& message) override {
    auto commit = write_lock_commit(cache_.p, content, message);
    if (!commit) return std::unexpected(commit.error().with_context(url_));
    // The push's source is a local ref to the new commit.
    const std::string outgoing = "refs/edgecert/outgoing/" + leaf(name);
    RefPtr local;
    if (git_reference_create(&local.p, cache_.p, outgoing.c_str(), &*commit, 1, nullptr) != 0)
      return std::unexpected(
          git_util::failure(ErrorCode::kIo, "the lock cache: creating " + outgoing));
    Connection c(*this);
    if (auto st = c.open(GIT_DIRECTION_PUSH, "creating " + name); !st)
      return std::unexpected(st.error());
    auto current = c.advertised(name);
    if (!current) return std::unexpected(current.error());
    if (*current) return make_error(ErrorCode::kConflict, fmt::format("{}: {} exists", url_, name));
    if (auto st = c.push(outgoing + ":" + name, "creating " + name); !st)
      return std::unexpected(st.error());
    return hex(*commit);
  }

  Status remove(const std::string& name, const std::string& oid) override {
    Connection c(*this);
    if (auto st = c.open(GIT_DIRECTION_PUSH, "deleting " + name); !st) return st;
    auto current = c.advertised(name);
    if (!current) return std::unexpected(current.error());
    if (!*current)
      return make_error(ErrorCode::kNotFound, fmt::format("{}: {} is gone", url_, name));
    if (**current != oid)
      return make_error(ErrorCode::kConflict, fmt::format("{}: {} moved", url_, name));
    return c.push(":" + name, "deleting " + name);
  }

 private:
  static std::string leaf(const std::string& name) { return name.substr(name.rfind('/') + 1); }
  Error failure(ErrorCode code, const std::string& what) const {
    return git_util::failure(code, fmt::format("{}: {}", url_, what));
  }

  // One connection: the refs it advertises are the old values its push
  // carries, so "check, then push" is one compare-and-swap on the server.
  struct Connection {
    explicit Connection(RemoteRefStore& s) : watchdog(s.creds_.idle_timeout), store(s) {
      state.creds = &store.creds_;
      state.watchdog = &watchdog;
      callbacks = remote_callbacks(state);
    }
    Error fail(ErrorCode code, const std::string& what) const {
      return network_failure(code, fmt::format("{}: {}", store.url_, what), watchdog);
    }
    ~Connection() {
      if (remote.p) git_remote_disconnect(remote.p);
    }
    Status open(git_direction dir, const std::string& what) {
      if (git_remote_create_anonymous(&remote.p, store.cache_.p, store.url_.c_str()) != 0 ||
          git_remote_connect(remote.p, dir, &callbacks, nullptr, nullptr) != 0)
        return std::unexpected(fail(ErrorCode::kUnavailable, what));
      return {};
    }
    Result<std::optional<std::string>> advertised(const std::string& name) {
      const git_remote_head** heads = nullptr;
      size_t n = 0;
      if (git_remote_ls(&heads, &n, remote.p) != 0)
        return std::unexpected(fail(ErrorCode::kUnavailable, "listing refs"));
      for (size_t i = 0; i < n; ++i)
        if (name == heads[i]->name) return std::optional<std::string>(hex(heads[i]->oid));
      return std::optional<std::string>();
    }
    Status push(std::string refspec, const std::string& what) {
      char* specs[] = {refspec.data()};
      git_strarray refspecs{specs, 1};
      git_push_options opts;
      git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
      opts.callbacks = callbacks;
      if (git_remote_upload(remote.p, &refspecs, &opts) != 0)
        return std::unexpected(fail(ErrorCode::kUnavailable, what));
      if (!state.rejection.empty())
        return make_error(ErrorCode::kConflict, fmt::format("{}: {}: the server refused it ({})",
                                                            store.url_, what, state.rejection));
      return {};
    }

    NetworkWatchdog watchdog;  // first: destroyed last, after the disconnect
    RemoteRefStore& store;
    git_remote_callbacks callbacks;
    CallbackState state;
    RemotePtr remote;
  };

  std::string url_;
  GitCredentials creds_;
  RepoPtr cache_;
};

std::string random_id() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

}  // namespace

std::string git_lock_ref(const std::string& cluster) {
  return "refs/edgecert/locks/" + cluster;
}

Result<std::unique_ptr<RefStore>> open_git_ref_store(const std::string& repository,
                                                     const std::string& cache_dir,
                                                     const GitCredentials& credentials) {
  git_util::init();
  std::string path = local_path(repository);
  if (!path.empty()) {
    git_repository* repo = nullptr;
    // No search upwards: the lock is in exactly the repository named.
    if (git_repository_open_ext(&repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
      return std::unexpected(git_util::failure(
          ErrorCode::kUnavailable,
          fmt::format("the lock repository {} (spec.rollout.lockRepository) cannot be opened",
                      repository)));
    return std::unique_ptr<RefStore>(std::make_unique<LocalRefStore>(repository, repo));
  }
  git_repository* cache = nullptr;
  if (git_repository_open_bare(&cache, cache_dir.c_str()) != 0 &&
      git_repository_init(&cache, cache_dir.c_str(), /*is_bare=*/1) != 0)
    return std::unexpected(git_util::failure(
        ErrorCode::kIo,
        fmt::format("the lock repository's cache {} cannot be created", cache_dir)));
  return std::unique_ptr<RefStore>(
      std::make_unique<RemoteRefStore>(repository, cache, credentials));
}

Result<std::shared_ptr<RefStore>> open_lock_repository(Env& env, const std::string& repository,
                                                       const std::string& state_dir) {
  if (auto st = env.create_dirs(state_dir, 0700); !st) return std::unexpected(st.error());
  auto creds = git_credentials_from(env);
  if (!creds) return std::unexpected(creds.error());
  auto store = open_git_ref_store(repository, path_join(state_dir, "lock-repository.git"), *creds);
  if (!store) return std::unexpected(store.error());
  return std::shared_ptr<RefStore>(std::move(*store));
}

GitLock::GitLock(std::shared_ptr<RefStore> store, std::string ref, std::string oid, LockInfo info)
    : store_(std::move(store)),
      ref_(std::move(ref)),
      oid_(std::move(oid)),
      info_(std::move(info)) {}

GitLock::GitLock(GitLock&& other) noexcept
    : store_(std::move(other.store_)),
      ref_(std::move(other.ref_)),
      oid_(std::move(other.oid_)),
      info_(std::move(other.info_)),
      held_(other.held_) {
  other.held_ = false;
}

GitLock::~GitLock() {
  if (held_) (void)release();
}

Result<GitLock> GitLock::acquire(std::shared_ptr<RefStore> store, const std::string& cluster,
                                 const LockInfo& info) {
  const std::string ref = git_lock_ref(cluster);
  auto oid = store->create(ref, lock_info_text(info),
                           fmt::format("edgecert lock {} for {} by {}@{}", info.id, info.operation,
                                       info.user, info.host));
  if (oid) return GitLock(std::move(store), ref, *oid, info);
  if (oid.error().code != ErrorCode::kConflict) return std::unexpected(oid.error());
  auto holder = read_git_lock(*store, cluster);
  if (!holder) return std::unexpected(holder.error());
  if (!*holder)
    return make_error(ErrorCode::kConflict,
                      fmt::format("{} in {}: the cluster lock changed hands while acquiring it; "
                                  "retry",
                                  ref, store->where()));
  return make_error(ErrorCode::kConflict,
                    fmt::format("the cluster is locked in {} ({}): {}", store->where(), ref,
                                describe_lock(**holder)));
}

Status GitLock::release() {
  if (!held_) return {};
  held_ = false;
  auto st = store_->remove(ref_, oid_);
  // Gone or moved: a force-unlock took it, and maybe another run holds it
  // now; that lock is not ours to remove.
  if (!st && (st.error().code == ErrorCode::kNotFound || st.error().code == ErrorCode::kConflict))
    return {};
  return st;
}

Result<GitLock> acquire_git_lock(Env& env, std::shared_ptr<RefStore> store,
                                 const std::string& cluster, const std::string& operation,
                                 const ProcessIdentity& who, const LockWait& wait) {
  const std::string args = wait.unlock_args.empty() ? " SPEC" : " " + wait.unlock_args;
  const std::string ref = git_lock_ref(cluster);
  return wait_for_lock<GitLock>(
      env, wait, std::chrono::seconds(2), fmt::format("the cluster lock in {}", store->where()),
      [&] {
        LockInfo info{random_id(), who.user, who.host, who.pid, operation, env.now()};
        return GitLock::acquire(store, cluster, info);
      },
      [&] { return read_git_lock(*store, cluster, wait.unlock_args); },
      [&](const LockInfo& h, bool gone, std::chrono::seconds waited) {
        std::string msg = fmt::format("the cluster is locked in {} ({}): {}", store->where(), ref,
                                      describe_lock(h));
        if (wait.timeout.count() > 0 && !gone)
          msg += fmt::format(" (waited {}s, --lock-timeout)", waited.count());
        if (gone)
          msg += fmt::format(
              ". That run died or was killed: look at 'edgecert status{}' on {} (its journal "
              "says what it did), then run 'edgecert force-unlock {}{}' and apply again",
              args, h.host, h.id, args);
        else
          msg += fmt::format(
              ". Wait for it (--lock-timeout DURATION waits), or if that run on {} is gone, look "
              "at its journal there and run 'edgecert force-unlock {}{}'",
              h.host, h.id, args);
        return msg + ". Nothing was changed.";
      });
}

namespace {

// The lock a ref holds; kCorrupt with the force-unlock command when it is not one.
Result<LockInfo> parse_git_ref(const RefStore::Ref& got, const std::string& ref,
                               const RefStore& store, const std::string& unlock_args) {
  const std::string where = fmt::format("{} in {}", ref, store.where());
  auto info =
      got.content.empty()
          ? Result<LockInfo>(make_error(
                ErrorCode::kCorrupt,
                fmt::format("{}: the cluster lock is not a commit holding lock.json", where)))
          : parse_lock_info(got.content, where);
  if (info) return info;
  const std::string args = unlock_args.empty() ? "SPEC" : unlock_args;
  return make_error(ErrorCode::kCorrupt,
                    fmt::format("{}, so it does not say which run holds the cluster. If no "
                                "edgecert run is going on for this cluster, remove it with "
                                "'edgecert force-unlock {} {}'",
                                info.error().message, kUnreadableLockId, args));
}

}  // namespace

Result<std::optional<LockInfo>> read_git_lock(RefStore& store, const std::string& cluster,
                                              const std::string& unlock_args) {
  const std::string ref = git_lock_ref(cluster);
  auto got = store.read(ref);
  if (!got) return std::unexpected(got.error());
  if (!*got) return std::optional<LockInfo>();
  auto info = parse_git_ref(**got, ref, store, unlock_args);
  if (!info) return std::unexpected(info.error());
  return std::optional<LockInfo>(*info);
}

Status force_unlock_git(RefStore& store, const std::string& cluster, const std::string& id) {
  const std::string ref = git_lock_ref(cluster);
  auto got = store.read(ref);
  if (!got) return std::unexpected(got.error());
  if (!*got)
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{} in {}: no lock is held", ref, store.where()));
  auto holder = parse_git_ref(**got, ref, store, "");
  if (!holder && !(holder.error().code == ErrorCode::kCorrupt && id == kUnreadableLockId))
    return std::unexpected(holder.error());
  if (holder && id == kUnreadableLockId)
    return make_error(ErrorCode::kConflict,
                      fmt::format("{} in {}: the lock is readable: it is the {}; name its id", ref,
                                  store.where(), describe_lock(*holder)));
  if (holder && holder->id != id)
    return make_error(ErrorCode::kConflict,
                      fmt::format("lock id {} does not match the current {} in {}", id,
                                  describe_lock(*holder), store.where()));
  // Compare-and-swap against what was read: a lock taken meanwhile stays.
  auto st = store.remove(ref, (*got)->oid);
  if (!st && st.error().code == ErrorCode::kConflict)
    return make_error(ErrorCode::kConflict,
                      fmt::format("{} in {} changed while removing it; nothing was removed: look "
                                  "again",
                                  ref, store.where()));
  return st;
}

}  // namespace edgecert
