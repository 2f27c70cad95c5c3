// libgit2 plumbing shared by the git lock (git_lock.h) and specs read from a
// git ref (git_source.h): ownership of libgit2 objects, its errors as
// edgecert Errors, and how a remote asks for credentials.
//
// Internal to the engine: nothing above it sees libgit2.
#pragma once

#include <git2.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "providers/base/env.h"
#include "providers/base/error.h"

namespace edgecert {

// How a remote repository is reached: https credentials from the
// environment (EDGECERT_GIT_USERNAME, EDGECERT_GIT_PASSWORD), ssh keys from
// ssh-agent.
struct GitCredentials {
  std::string username;
  std::string password;
  // A network operation that makes no progress for this long fails
  // (NetworkWatchdog); EDGECERT_GIT_TIMEOUT in seconds, default 60.
  std::chrono::seconds idle_timeout{60};
};

// The https credentials and the timeout in `env`'s variables;
// kInvalidArgument naming EDGECERT_GIT_TIMEOUT when it is not 1..3600.
Result<GitCredentials> git_credentials_from(Env& env);

namespace git_util {

// git_libgit2_init, once per process.
void init();

// libgit2's last error, after `what`.
Error failure(ErrorCode code, const std::string& what);

// The full hex id.
std::string hex(const git_oid& oid);

// Frees a libgit2 object at the end of its scope.
template <typename T, void (*Free)(T*)>
struct Owned {
  T* p = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (p) Free(p);
  }
};
using RepoPtr = Owned<git_repository, git_repository_free>;
using RefPtr = Owned<git_reference, git_reference_free>;
using CommitPtr = Owned<git_commit, git_commit_free>;
using TreePtr = Owned<git_tree, git_tree_free>;
using TreeEntryPtr = Owned<git_tree_entry, git_tree_entry_free>;
using BlobPtr = Owned<git_blob, git_blob_free>;
using RemotePtr = Owned<git_remote, git_remote_free>;
using TreeBuilderPtr = Owned<git_treebuilder, git_treebuilder_free>;
using SignaturePtr = Owned<git_signature, git_signature_free>;
using ObjectPtr = Owned<git_object, git_object_free>;

// Ends a libgit2 network operation that makes no progress. libgit2 1.5 has
// no timeouts: a server that accepts the connection and never answers would
// hold edgecert (and a CI job) forever. While a watchdog lives, a thread
// waits; when `idle` passes without progress() it marks the operation timed
// out and sends the thread that created it a signal whose handler does
// nothing and is installed without SA_RESTART, so the blocking connect,
// recv or send fails with EINTR and libgit2 returns an error; it signals
// again every 100 ms until the watchdog is destroyed. It uses the steady
// clock, not an Env's: it bounds real network waits, which no fake clock
// can shorten.
class NetworkWatchdog {
 public:
  explicit NetworkWatchdog(std::chrono::milliseconds idle);
  ~NetworkWatchdog();
  NetworkWatchdog(const NetworkWatchdog&) = delete;
  NetworkWatchdog& operator=(const NetworkWatchdog&) = delete;
  void progress();
  bool timed_out() const { return timed_out_; }
  std::chrono::milliseconds idle() const { return idle_; }

 private:
  void run();
  std::chrono::milliseconds idle_;
  pthread_t target_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::atomic<bool> timed_out_{false};
  std::thread thread_;
};

// The payload of one connection's callbacks: what libgit2 asked for, and
// the server's refusal of a pushed ref.
struct CallbackState {
  const GitCredentials* creds = nullptr;
  NetworkWatchdog* watchdog = nullptr;  // told of every sign of progress
  bool tried_username = false;
  bool tried_agent = false;
  bool tried_userpass = false;
  std::string rejection;
};

// Callbacks for one connection: credentials (each kind offered once: after
// a refusal libgit2 asks again, and answering the same again loops
// forever), the server's per-ref push status into `state.rejection`, and
// progress to `state.watchdog`.
git_remote_callbacks remote_callbacks(CallbackState& state);

// "what: libgit2's error", or, when `watchdog` timed out, "what: no answer
// for Ns (EDGECERT_GIT_TIMEOUT)".
Error network_failure(ErrorCode code, const std::string& what, const NetworkWatchdog& watchdog);

// Whether a URL carries a password (scheme://user:password@host/...).
bool url_has_password(const std::string& repository);

// A repository given as a path (or file://) rather than a URL: the path;
// "" for a URL (ssh://, git://, https://, user@host:path).
std::string local_path(const std::string& repository);

}  // namespace git_util
}  // namespace edgecert
