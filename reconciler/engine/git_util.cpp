#include "reconciler/engine/git_util.h"

#include <csignal>
#include <mutex>

#include <fmt/core.h>

namespace edgecert {

Result<GitCredentials> git_credentials_from(Env& env) {
  GitCredentials creds;
  creds.username = env.get_env("EDGECERT_GIT_USERNAME").value_or("");
  creds.password = env.get_env("EDGECERT_GIT_PASSWORD").value_or("");
  if (auto t = env.get_env("EDGECERT_GIT_TIMEOUT"); t && !t->empty()) {
    const bool digits = t->size() <= 4 && t->find_first_not_of("0123456789") == std::string::npos;
    const int seconds = digits ? std::stoi(*t) : 0;
    if (seconds < 1 || seconds > 3600)
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("EDGECERT_GIT_TIMEOUT '{}': expected seconds, 1 to 3600",
                                    t->size() > 20 ? t->substr(0, 20) + "..." : *t));
    creds.idle_timeout = std::chrono::seconds(seconds);
  }
  return creds;
}

namespace git_util {
namespace {

// What interrupts a blocked network call (NetworkWatchdog): SIGURG, whose
// default is to be ignored, so a stray one harms nothing.
constexpr int kWatchdogSignal = SIGURG;

void install_watchdog_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the blocked call returns EINTR
    ::sigaction(kWatchdogSignal, &sa, nullptr);
  });
}

int on_progress(void* payload) {
  auto* st = static_cast<CallbackState*>(payload);
  if (st && st->watchdog) st->watchdog->progress();
  return 0;
}

int credentials_cb(git_credential** out, const char* /*url*/, const char* username_from_url,
                   unsigned int allowed, void* payload) {
  auto* st = static_cast<CallbackState*>(payload);
  const std::string user = !st->creds->username.empty() ? st->creds->username
                           : username_from_url          ? std::string(username_from_url)
                                                        : std::string("git");
  if ((allowed & GIT_CREDENTIAL_USERNAME) && !st->tried_username) {
    st->tried_username = true;
    return git_credential_username_new(out, user.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !st->tried_agent) {
    st->tried_agent = true;
    return git_credential_ssh_key_from_agent(out, user.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !st->tried_userpass &&
      !st->creds->password.empty()) {
    st->tried_userpass = true;
    return git_credential_userpass_plaintext_new(out, user.c_str(), st->creds->password.c_str());
  }
  // Nothing (more) to offer: say what would help rather than libgit2's
  // generic refusal (an error set here is the one libgit2 reports).
  if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
    git_error_set_str(GIT_ERROR_NET,
                      st->tried_userpass
                          ? "the server refused EDGECERT_GIT_USERNAME/EDGECERT_GIT_PASSWORD"
                          : "the server asks for a user name and password: set "
                            "EDGECERT_GIT_USERNAME and EDGECERT_GIT_PASSWORD (a token)");
    return GIT_EAUTH;
  }
  if (allowed & GIT_CREDENTIAL_SSH_KEY) {
    git_error_set_str(GIT_ERROR_SSH,
                      "ssh-agent offered no key the server accepts (is SSH_AUTH_SOCK set, and "
                      "the key added with ssh-add?)");
    return GIT_EAUTH;
  }
  return GIT_PASSTHROUGH;
}

}  // namespace

void init() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

Error failure(ErrorCode code, const std::string& what) {
  const git_error* e = git_error_last();
  return Error{code, fmt::format("{}: {}", what, e && e->message ? e->message : "unknown error")};
}

std::string hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

git_remote_callbacks remote_callbacks(CallbackState& state) {
  git_remote_callbacks callbacks;
  git_remote_init_callbacks(&callbacks, GIT_REMOTE_CALLBACKS_VERSION);
  callbacks.credentials = credentials_cb;
  callbacks.push_update_reference = [](const char*, const char* status, void* payload) {
    if (status) static_cast<CallbackState*>(payload)->rejection = status;
    return 0;
  };
  callbacks.sideband_progress = [](const char*, int, void* payload) {
    return on_progress(payload);
  };
  callbacks.transfer_progress = [](const git_indexer_progress*, void* payload) {
    return on_progress(payload);
  };
  callbacks.push_transfer_progress = [](unsigned int, unsigned int, size_t, void* payload) {
    return on_progress(payload);
  };
  callbacks.pack_progress = [](int, uint32_t, uint32_t, void* payload) {
    return on_progress(payload);
  };
  callbacks.payload = &state;
  return callbacks;
}

NetworkWatchdog::NetworkWatchdog(std::chrono::milliseconds idle)
    : idle_(idle), target_(pthread_self()), deadline_(std::chrono::steady_clock::now() + idle) {
  install_watchdog_handler();
  thread_ = std::thread([this] { run(); });
}

NetworkWatchdog::~NetworkWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void NetworkWatchdog::progress() {
  std::lock_guard<std::mutex> lock(mu_);
  deadline_ = std::chrono::steady_clock::now() + idle_;
}

void NetworkWatchdog::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    if (!timed_out_ && std::chrono::steady_clock::now() < deadline_) {
      cv_.wait_until(lock, deadline_);
      continue;
    }
    timed_out_ = true;
    // Until the operation gives up: a signal may land between two calls.
    pthread_kill(target_, kWatchdogSignal);
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

Error network_failure(ErrorCode code, const std::string& what, const NetworkWatchdog& watchdog) {
  if (watchdog.timed_out())
    return Error{
        code,
        fmt::format("{}: no answer for {}s (EDGECERT_GIT_TIMEOUT)", what,
                    std::chrono::duration_cast<std::chrono::seconds>(watchdog.idle()).count())};
  return failure(code, what);
}

bool url_has_password(const std::string& repository) {
  // Any "user:secret@" after the scheme: a ':' before an '@'. A port
  // followed by an '@' in the path is refused too, the safe side (a
  // password may hold an unencoded '/', so where the host ends is not
  // known for sure).
  auto scheme = repository.find("://");
  if (scheme == std::string::npos) return false;
  auto at = repository.rfind('@');
  if (at == std::string::npos || at < scheme + 3) return false;
  auto colon = repository.find(':', scheme + 3);
  return colon < at;
}

std::string local_path(const std::string& repository) {
  if (repository.starts_with("file://")) return repository.substr(7);
  if (repository.find("://") != std::string::npos) return "";
  // git's rule: a ':' before any '/' makes it scp-like ([user@]host:path).
  auto colon = repository.find(':');
  if (colon != std::string::npos && colon < repository.find('/')) return "";
  return repository;
}

}  // namespace git_util
}  // namespace edgecert
