// The cluster lock: at most one apply per cluster at a time.
//
// A lock is a file `<state_dir>/lock.json` created with O_EXCL (so two
// processes cannot both win), holding who holds it: lock id, user, host, pid,
// operation, creation time (format: docs/state-format.md). A second acquirer
// fails with kConflict and a message naming the holder and the command to
// break it (`edgecert force-unlock ID`). A lock is never broken automatically:
// a crashed apply leaves it behind on purpose, so the next run must look at
// what happened (the journal) before anything else touches the cluster.
#pragma once

#include <optional>
#include <string>

#include "providers/base/env.h"

namespace edgecert {

struct LockInfo {
  std::string id;  // random, 16 hex digits
  std::string user;
  std::string host;
  long pid = 0;
  std::string operation;  // "apply", ...
  TimePoint created;
};

struct ProcessIdentity {
  std::string user;
  std::string host;
  long pid = 0;
};
// The running process: $USER (or uid), gethostname(), getpid().
ProcessIdentity current_process(Env& env);

class ClusterLock {
 public:
  // Creates state_dir if needed, then the lock file. kConflict when held.
  static Result<ClusterLock> acquire(Env& env, const std::string& state_dir,
                                     const std::string& operation, const ProcessIdentity& who);

  ClusterLock(ClusterLock&& other) noexcept;
  ClusterLock& operator=(ClusterLock&&) = delete;
  ClusterLock(const ClusterLock&) = delete;
  // Releases if still held (errors ignored: the lock file then stays, which
  // is the safe side).
  ~ClusterLock();

  // Removes the lock file if it is still ours (same id): after a
  // force-unlock another run may hold the cluster, and its lock must stay.
  Status release();
  // Keeps the lock file when this object goes away: the run died (its journal
  // could not be written), so the next run must look before it proceeds.
  void keep() { held_ = false; }
  const LockInfo& info() const { return info_; }

 private:
  ClusterLock(Env& env, std::string path, LockInfo info);
  Env* env_;
  std::string path_;
  LockInfo info_;
  bool held_ = true;
};

// The current holder, if any. kCorrupt when the lock file is unreadable.
Result<std::optional<LockInfo>> read_lock(Env& env, const std::string& state_dir);

// Removes the lock when its id is `id`; kNotFound when there is no lock,
// kConflict when the id differs (the message names the actual holder).
Status force_unlock(Env& env, const std::string& state_dir, const std::string& id);

std::string describe_lock(
    const LockInfo& info);  // "id ... held by user@host (pid N) for apply since ..."

}  // namespace edgecert
