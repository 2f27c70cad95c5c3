// The cluster lock: at most one apply per cluster at a time.
//
// A lock is a file `<state_dir>/lock.json` created with O_EXCL (so two
// processes cannot both win), holding who holds it: lock id, user, host, pid,
// operation, creation time (format: docs/state-format.md). A second acquirer
// fails with kConflict and a message naming the holder and the command to
// break it (`edgecert force-unlock ID SPEC`), or waits for it (LockWait). A
// lock is never broken automatically: a crashed apply leaves it behind on
// purpose, so the next run must look at what happened (the journal) before
// anything else touches the cluster.
//
// The state folder is the cluster's, wherever edgecert runs from: the session
// resolves it against the spec's folder (session.h), so two runs of one
// cluster from two working folders meet at the same lock.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "providers/base/env.h"
#include "providers/base/fence.h"
#include "reconciler/engine/cancel.h"

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
  // `id`: as LockWait::id.
  static Result<ClusterLock> acquire(Env& env, const std::string& state_dir,
                                     const std::string& operation, const ProcessIdentity& who,
                                     const std::string& id = "");

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
  void keep() {
    held_ = false;
    on_fatal_ = FatalCleanup{};
  }
  const LockInfo& info() const { return info_; }

 private:
  ClusterLock(Env& env, std::string path, LockInfo info);
  Env* env_;
  std::string path_;
  LockInfo info_;
  bool held_ = true;
  // A process dying through the terminate handler (an exception escaping a
  // thread) runs no destructor: the lock file is removed from there.
  FatalCleanup on_fatal_;
};

// How to wait for a held lock.
struct LockWait {
  // 0: fail at once (kConflict naming the holder); otherwise poll about once
  // a second until the lock is free or this long has passed.
  std::chrono::milliseconds timeout{0};
  // Ends the wait early (kCancelled). Waits sleep through `env`, in slices.
  StopToken stop;
  // Told who holds the lock when the wait begins, when the holder changes,
  // and about every 30 s (with the time waited so far).
  std::function<void(const LockInfo& holder, std::chrono::seconds waited)> waiting;
  // What follows "edgecert force-unlock ID" in messages, so the operator can
  // paste it: the spec path (and --state-dir when one was given).
  std::string unlock_args;
  // The id to take the lock under; empty: a new random one. apply takes the
  // state folder's lock under its git lock's id (git_lock.h), so one
  // force-unlock names both.
  std::string id;
};

// ClusterLock::acquire, waiting for a held lock as `wait` says.
Result<ClusterLock> acquire_lock(Env& env, const std::string& state_dir,
                                 const std::string& operation, const ProcessIdentity& who,
                                 const LockWait& wait);

// Whether the holder is a process on this host that no longer exists (it
// died or was killed, so the lock is stale). False when it cannot tell.
bool holder_is_gone(const LockInfo& info);

// What force-unlock takes as ID for a lock file that cannot be read (empty,
// not JSON, a field of the wrong type or out of range): a real id is hex
// digits, so it cannot be mistaken for one.
inline constexpr const char* kUnreadableLockId = "unreadable";

// The current holder, if any. kCorrupt when the lock file is unreadable: the
// message names the file and what is wrong, and says to remove it with
// 'edgecert force-unlock unreadable ARGS' (`unlock_args` as in LockWait;
// empty: "SPEC").
Result<std::optional<LockInfo>> read_lock(Env& env, const std::string& state_dir,
                                          const std::string& unlock_args = "");

// Removes the lock when its id is `id`; kNotFound when there is no lock,
// kConflict when the id differs (the message names the actual holder). `id`
// kUnreadableLockId removes an unreadable lock file, and only such a one.
Status force_unlock(Env& env, const std::string& state_dir, const std::string& id);

// The lock's JSON (docs/state-format.md), as the lock file and the git lock
// (git_lock.h) hold it, and its strict reader: kCorrupt naming `where` and
// what is wrong.
std::string lock_info_text(const LockInfo& info);
Result<LockInfo> parse_lock_info(const std::string& text, const std::string& where);

std::string describe_lock(
    const LockInfo& info);  // "id ... held by user@host (pid N) for apply since ..."

// The wait both locks share (this one and git_lock.h's). `attempt` tries to
// take the lock once (kConflict: held; kCorrupt: unreadable), `holder` reads
// who holds it (its kCorrupt error carries the operator's force-unlock
// command, so it replaces attempt's), `refusal` words the refusal when the
// wait ends (timed out, or the holder `gone`); polls every `poll` of `env`,
// telling wait.waiting about a new holder and every 30 s. `what` names the
// lock in the message of an interrupted wait.
template <class L>
Result<L> wait_for_lock(
    Env& env, const LockWait& wait, std::chrono::seconds poll, const std::string& what,
    const std::function<Result<L>()>& attempt,
    const std::function<Result<std::optional<LockInfo>>()>& holder,
    const std::function<std::string(const LockInfo&, bool gone, std::chrono::seconds)>& refusal) {
  const TimePoint start = env.now();
  std::optional<std::string> announced;  // lock id last announced
  TimePoint last_notice = start;
  for (;;) {
    Result<L> lock = attempt();
    if (lock || lock.error().code != ErrorCode::kConflict) {
      if (!lock && lock.error().code == ErrorCode::kCorrupt)
        if (auto again = holder(); !again) return std::unexpected(again.error());
      return lock;
    }
    auto h = holder();
    if (!h) return std::unexpected(h.error());
    auto waited = std::chrono::duration_cast<std::chrono::seconds>(env.now() - start);
    if (*h) {
      // A holder that is gone never releases: waiting would only end in the
      // timeout.
      const bool gone = holder_is_gone(**h);
      if (waited >= wait.timeout || gone)
        return make_error(ErrorCode::kConflict, refusal(**h, gone, waited));
      if (wait.waiting &&
          (announced != (*h)->id || env.now() - last_notice >= std::chrono::seconds(30))) {
        wait.waiting(**h, waited);
        announced = (*h)->id;
        last_notice = env.now();
      }
    }
    if (!sleep_unless_stopped(env, wait.stop, poll))
      return make_error(ErrorCode::kCancelled, "interrupted while waiting for " + what + " (" +
                                                   std::to_string(waited.count()) +
                                                   "s); nothing was changed");
  }
}

}  // namespace edgecert
