#include "reconciler/engine/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <random>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/base/time.h"
#include "reconciler/engine/json_fields.h"

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

// Seconds since the epoch up to kLatestTime (9999-12-31T23:59:59Z).
constexpr long long kMaxUnixSeconds =
    std::chrono::duration_cast<std::chrono::seconds>(kLatestTime.time_since_epoch()).count();

// Every field typed and range-checked: a pid or time read from the file is
// never converted from a float (1e300) or past what its type holds.
Result<LockInfo> from_json(const std::string& text, const std::string& path) {
  auto unreadable = [&](const std::string& why) -> Result<LockInfo> {
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("{}: the cluster lock file is {}", path, why));
  };
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return unreadable("empty");
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return unreadable("not valid JSON");
  JsonFields f(j, "");
  LockInfo i;
  i.id = f.string("id");
  i.user = f.optional_string("user").value_or("");
  i.host = f.optional_string("host").value_or("");
  i.pid = static_cast<long>(
      f.optional_integer("pid", 0, std::numeric_limits<pid_t>::max()).value_or(0));
  i.operation = f.optional_string("operation").value_or("");
  i.created = TimePoint(
      std::chrono::seconds(f.optional_integer("created_unix", 0, kMaxUnixSeconds).value_or(0)));
  if (f.ok() && (i.id.empty() || i.id.size() > 64 ||
                 i.id.find_first_not_of("0123456789abcdef") != std::string::npos))
    f.fail("id", "expected hex digits");
  if (!f.ok()) return unreadable("unreadable: " + f.error()->message);
  return i;
}

}  // namespace

std::string lock_info_text(const LockInfo& info) {
  return to_json(info).dump(2) + "\n";
}

Result<LockInfo> parse_lock_info(const std::string& text, const std::string& where) {
  return from_json(text, where);
}

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
    : env_(&env), path_(std::move(path)), info_(std::move(info)) {
  on_fatal_ = FatalCleanup([env = env_, path = path_, id = info_.id] {
    auto text = env->read_file(path, read_limits::kLock);
    if (!text) return;
    auto current = from_json(*text, path);
    if (current && current->id == id) (void)env->remove_file(path);
  });
}

ClusterLock::ClusterLock(ClusterLock&& other) noexcept
    : env_(other.env_),
      path_(std::move(other.path_)),
      info_(std::move(other.info_)),
      held_(other.held_),
      on_fatal_(std::move(other.on_fatal_)) {
  other.held_ = false;
}

ClusterLock::~ClusterLock() {
  if (held_) (void)release();
}

Result<ClusterLock> ClusterLock::acquire(Env& env, const std::string& state_dir,
                                         const std::string& operation, const ProcessIdentity& who,
                                         const std::string& id) {
  if (auto st = env.create_dirs(state_dir, 0700); !st) return std::unexpected(st.error());
  LockInfo info{id.empty() ? random_id() : id, who.user, who.host, who.pid, operation, env.now()};
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
  return wait_for_lock<ClusterLock>(
      env, wait, std::chrono::seconds(1), "the cluster lock",
      [&] { return ClusterLock::acquire(env, state_dir, operation, who, wait.id); },
      [&] { return read_lock(env, state_dir, wait.unlock_args); },
      [&](const LockInfo& h, bool gone, std::chrono::seconds waited) {
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
        return msg;
      });
}

Status ClusterLock::release() {
  if (!held_) return {};
  held_ = false;
  on_fatal_ = FatalCleanup{};
  auto text = env_->read_file(path_, read_limits::kLock);
  if (!text)
    return text.error().code == ErrorCode::kNotFound ? Status{}
                                                     : Status(std::unexpected(text.error()));
  auto current = from_json(*text, path_);
  if (!current || current->id != info_.id) return {};  // not ours any more
  return env_->remove_file(path_);
}

Result<std::optional<LockInfo>> read_lock(Env& env, const std::string& state_dir,
                                          const std::string& unlock_args) {
  std::string path = lock_path(state_dir);
  auto text = env.read_file(path, read_limits::kLock);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return std::optional<LockInfo>();
    return std::unexpected(text.error());
  }
  auto info = from_json(*text, path);
  if (!info)
    return make_error(
        ErrorCode::kCorrupt,
        fmt::format("{}, so it does not say which run holds the cluster (a run killed while "
                    "taking the lock, or a full disk, leaves it so). If no edgecert run is going "
                    "on for this cluster, look at 'edgecert status {}', then remove the lock with "
                    "'edgecert force-unlock {} {}'",
                    info.error().message, unlock_args.empty() ? "SPEC" : unlock_args,
                    kUnreadableLockId, unlock_args.empty() ? "SPEC" : unlock_args));
  return std::optional<LockInfo>(*info);
}

Status force_unlock(Env& env, const std::string& state_dir, const std::string& id) {
  auto holder = read_lock(env, state_dir);
  if (!holder && holder.error().code == ErrorCode::kCorrupt && id == kUnreadableLockId)
    return env.remove_file(lock_path(state_dir));
  if (!holder) return std::unexpected(holder.error());
  if (*holder && id == kUnreadableLockId)
    return make_error(ErrorCode::kConflict,
                      fmt::format("{}: the lock is readable: it is the {}; name its id",
                                  lock_path(state_dir), describe_lock(**holder)));
  if (!*holder)
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{}: no lock is held", lock_path(state_dir)));
  if ((*holder)->id != id)
    return make_error(ErrorCode::kConflict, fmt::format("lock id {} does not match the current {}",
                                                        id, describe_lock(**holder)));
  return env.remove_file(lock_path(state_dir));
}

}  // namespace edgecert
