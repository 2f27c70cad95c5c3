#include "reconciler/engine/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/base/time.h"

namespace edgecert {
namespace {

std::string lock_path(const std::string& state_dir) {
  return path_join(state_dir, "lock.json");
}

std::string random_id() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

nlohmann::json to_json(const LockInfo& i) {
  return {{"id", i.id},
          {"user", i.user},
          {"host", i.host},
          {"pid", i.pid},
          {"operation", i.operation},
          {"created", format_time_iso(i.created)},
          {"created_unix",
           std::chrono::duration_cast<std::chrono::seconds>(i.created.time_since_epoch()).count()}};
}

Result<LockInfo> from_json(const std::string& text, const std::string& path) {
  try {
    auto j = nlohmann::json::parse(text);
    LockInfo i;
    i.id = j.at("id").get<std::string>();
    i.user = j.value("user", "");
    i.host = j.value("host", "");
    i.pid = j.value("pid", 0L);
    i.operation = j.value("operation", "");
    i.created = TimePoint(std::chrono::seconds(j.value("created_unix", 0LL)));
    return i;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("{}: unreadable lock file: {}", path, e.what()));
  }
}

}  // namespace

ProcessIdentity current_process(Env& env) {
  ProcessIdentity p;
  p.user = env.get_env("USER").value_or(fmt::format("uid{}", ::getuid()));
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) p.host = host;
  p.pid = static_cast<long>(::getpid());
  return p;
}

std::string describe_lock(const LockInfo& i) {
  return fmt::format("lock {} held by {}@{} (pid {}{}) for {} since {}", i.id, i.user, i.host,
                     i.pid, holder_is_gone(i) ? ", no longer running" : "", i.operation,
                     format_time(i.created));
}

bool holder_is_gone(const LockInfo& i) {
  if (i.pid <= 0 || i.host.empty()) return false;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || i.host != host) return false;
  return ::kill(static_cast<pid_t>(i.pid), 0) != 0 && errno == ESRCH;
}

ClusterLock::ClusterLock(Env& env, std::string path, LockInfo info)
    : env_(&env), path_(std::move(path)), info_(std::move(info)) {}

ClusterLock::ClusterLock(ClusterLock&& other) noexcept
    : env_(other.env_),
      path_(std::move(other.path_)),
      info_(std::move(other.info_)),
      held_(other.held_) {
  other.held_ = false;
}

ClusterLock::~ClusterLock() {
  if (held_) (void)release();
}

Result<ClusterLock> ClusterLock::acquire(Env& env, const std::string& state_dir,
                                         const std::string& operation, const ProcessIdentity& who) {
  if (auto st = env.create_dirs(state_dir, 0700); !st) return std::unexpected(st.error());
  LockInfo info{random_id(), who.user, who.host, who.pid, operation, env.now()};
  std::string path = lock_path(state_dir);
  auto st = env.create_exclusive(path, to_json(info).dump(2) + "\n", 0644);
  if (st) return ClusterLock(env, path, std::move(info));
  if (st.error().code != ErrorCode::kAlreadyExists) return std::unexpected(st.error());
  auto holder = read_lock(env, state_dir);
  if (!holder) return std::unexpected(holder.error());
  if (!*holder) {
    return make_error(
        ErrorCode::kConflict,
        fmt::format("{}: the cluster lock changed hands while acquiring it; retry", path));
  }
  return make_error(ErrorCode::kConflict,
                    fmt::format("the cluster is locked: {}. If that run is gone, inspect "
                                "'{}' and run 'edgecert force-unlock {}'",
                                describe_lock(**holder), path, (*holder)->id));
}

Result<ClusterLock> acquire_lock(Env& env, const std::string& state_dir,
                                 const std::string& operation, const ProcessIdentity& who,
                                 const LockWait& wait) {
  const TimePoint start = env.now();
  std::optional<std::string> announced;  // lock id last announced
  TimePoint last_notice = start;
  for (;;) {
    auto lock = ClusterLock::acquire(env, state_dir, operation, who);
    if (lock || lock.error().code != ErrorCode::kConflict) return lock;
    auto holder = read_lock(env, state_dir);
    if (!holder) return std::unexpected(holder.error());
    auto waited = std::chrono::duration_cast<std::chrono::seconds>(env.now() - start);
    if (*holder) {
      const LockInfo& h = **holder;
      // A holder that is gone never releases: waiting would only end in the
      // timeout.
      const bool gone = holder_is_gone(h);
      if (waited >= wait.timeout || gone) {
        const std::string args = wait.unlock_args.empty() ? "" : " " + wait.unlock_args;
        std::string msg = fmt::format("the cluster is locked: {}", describe_lock(h));
        if (wait.timeout.count() > 0 && !gone)
          msg += fmt::format(" (waited {}s, --lock-timeout)", waited.count());
        if (gone)
          msg += fmt::format(
              ". That run died or was killed: look at 'edgecert status{}' (its journal says what "
              "it did), then run 'edgecert force-unlock {}{}' and apply again: it resumes",
              args, h.id, args);
        else
          msg += fmt::format(
              ". Wait for it (--lock-timeout DURATION waits), or if that run is gone, look at "
              "'edgecert status{}' and run 'edgecert force-unlock {}{}'",
              args, h.id, args);
        return make_error(ErrorCode::kConflict, msg);
      }
      if (wait.waiting &&
          (announced != h.id || env.now() - last_notice >= std::chrono::seconds(30))) {
        wait.waiting(h, waited);
        announced = h.id;
        last_notice = env.now();
      }
    }
    if (!sleep_unless_stopped(env, wait.stop, std::chrono::seconds(1)))
      return make_error(ErrorCode::kCancelled,
                        fmt::format("interrupted while waiting for the cluster lock ({}s); "
                                    "nothing was changed",
                                    waited.count()));
  }
}

Status ClusterLock::release() {
  if (!held_) return {};
  held_ = false;
  auto text = env_->read_file(path_);
  if (!text)
    return text.error().code == ErrorCode::kNotFound ? Status{}
                                                     : Status(std::unexpected(text.error()));
  auto current = from_json(*text, path_);
  if (!current || current->id != info_.id) return {};  // not ours any more
  return env_->remove_file(path_);
}

Result<std::optional<LockInfo>> read_lock(Env& env, const std::string& state_dir) {
  std::string path = lock_path(state_dir);
  auto text = env.read_file(path);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return std::optional<LockInfo>();
    return std::unexpected(text.error());
  }
  auto info = from_json(*text, path);
  if (!info) return std::unexpected(info.error());
  return std::optional<LockInfo>(*info);
}

Status force_unlock(Env& env, const std::string& state_dir, const std::string& id) {
  auto holder = read_lock(env, state_dir);
  if (!holder) return std::unexpected(holder.error());
  if (!*holder)
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{}: no lock is held", lock_path(state_dir)));
  if ((*holder)->id != id)
    return make_error(ErrorCode::kConflict, fmt::format("lock id {} does not match the current {}",
                                                        id, describe_lock(**holder)));
  return env.remove_file(lock_path(state_dir));
}

}  // namespace edgecert
