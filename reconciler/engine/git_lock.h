// The cluster lock in a git repository, for runs on different machines.
//
// CI jobs run on machines that share no state folder, so the lock file of
// lock.h cannot keep two of them off one cluster. With the spec's
// rollout.lockRepository set, apply and revoke also take the ref
// refs/edgecert/locks/<cluster> in that repository: a commit whose tree holds
// lock.json, the same holder details as the lock file (docs/state-format.md).
//
// Both changes to the ref are compare-and-swap: it is created only when it
// does not exist, and deleted only when it still points at the commit the
// deleter read. Of two runs racing on two machines exactly one creates it;
// a run whose lock was forced away never deletes its successor's. A local
// repository (a path, or file://) is changed in place through libgit2's ref
// database, which checks the old value under the ref's lock file. A remote
// one is changed by a push, whose command carries the old value the server
// advertised on the same connection (receive-pack refuses it when the ref
// moved since); objects are built in a bare cache repository under the
// cluster's state folder.
//
// Like the lock file, a git lock is never broken automatically: a holder on
// this host that is no longer running is called stale (holder_is_gone) and
// `edgecert force-unlock ID SPEC` removes it; one on another host is only
// named, since its process cannot be seen from here.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "reconciler/engine/git_util.h"
#include "reconciler/engine/lock.h"

namespace edgecert {

// The git side effect behind the lock, fakeable in tests.
class RefStore {
 public:
  struct Ref {
    std::string oid;      // the commit the ref points at (hex)
    std::string content;  // its tree's lock.json
  };
  virtual ~RefStore() = default;
  // The repository, as messages name it.
  virtual std::string where() const = 0;
  // The ref and its lock.json; nullopt when there is no such ref. A ref that
  // is not a commit holding lock.json gives content "" (an unreadable lock).
  virtual Result<std::optional<Ref>> read(const std::string& ref) = 0;
  // Creates `ref` at a new commit holding `content` as lock.json, only when
  // the ref does not exist: kConflict when it does. `message` is the
  // commit's. Returns the commit's id.
  virtual Result<std::string> create(const std::string& ref, const std::string& content,
                                     const std::string& message) = 0;
  // Deletes `ref` only when it points at `oid`: kConflict when it points
  // elsewhere, kNotFound when it is gone.
  virtual Status remove(const std::string& ref, const std::string& oid) = 0;
};

// libgit2. `repository`: a spec's lockRepository (a path, or a URL);
// `cache_dir`: the bare repository a remote's objects are built in, created
// when missing. kUnavailable naming the repository when it cannot be opened.
Result<std::unique_ptr<RefStore>> open_git_ref_store(const std::string& repository,
                                                     const std::string& cache_dir,
                                                     const GitCredentials& credentials);

// The spec's rollout.lockRepository, for the cluster whose state folder is
// `state_dir` (the cache of a remote is `<state_dir>/lock-repository.git`),
// with the https credentials from `env`.
Result<std::shared_ptr<RefStore>> open_lock_repository(Env& env, const std::string& repository,
                                                       const std::string& state_dir);

// "refs/edgecert/locks/<cluster>".
std::string git_lock_ref(const std::string& cluster);

class GitLock {
 public:
  // One attempt: kConflict naming the holder (and the repository) when the
  // ref exists; kCorrupt when it exists but cannot be read.
  static Result<GitLock> acquire(std::shared_ptr<RefStore> store, const std::string& cluster,
                                 const LockInfo& info);

  GitLock(GitLock&& other) noexcept;
  GitLock& operator=(GitLock&&) = delete;
  GitLock(const GitLock&) = delete;
  // Releases if still held; an error leaves the ref, the safe side.
  ~GitLock();

  // Deletes the ref if it still points at our commit (after a force-unlock
  // another run may hold it, and its lock must stay).
  Status release();
  // Leaves the ref in place (the run died as far as anyone can tell).
  void keep() { held_ = false; }
  const LockInfo& info() const { return info_; }
  const std::string& ref() const { return ref_; }

 private:
  GitLock(std::shared_ptr<RefStore> store, std::string ref, std::string oid, LockInfo info);
  std::shared_ptr<RefStore> store_;
  std::string ref_;
  std::string oid_;
  LockInfo info_;
  bool held_ = true;
};

// GitLock::acquire, waiting as `wait` says (polling every 2 s of `env`).
Result<GitLock> acquire_git_lock(Env& env, std::shared_ptr<RefStore> store,
                                 const std::string& cluster, const std::string& operation,
                                 const ProcessIdentity& who, const LockWait& wait);

// The holder of the cluster's git lock, if any; kCorrupt (with the
// force-unlock command, like read_lock) when the ref cannot be read as a lock.
Result<std::optional<LockInfo>> read_git_lock(RefStore& store, const std::string& cluster,
                                              const std::string& unlock_args = "");

// Deletes the cluster's git lock when its id is `id` (kUnreadableLockId: an
// unreadable one, and only such), with compare-and-swap: kNotFound when
// there is none, kConflict when the id differs or the ref moved meanwhile.
Status force_unlock_git(RefStore& store, const std::string& cluster, const std::string& id);

}  // namespace edgecert
