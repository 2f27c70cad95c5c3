// SimNode's operation harness and administration API. Every appliance
// operation runs through run_op_status, which re-reads the node file (so
// several processes see one node), finishes or refuses a restart, catches up
// the ACME scheduler, applies the injected faults, saves what changed and
// writes the audit line: one place, so no operation can skip a step.
#include "providers/sim/sim_node.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include "providers/base/fqdn.h"
#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/sim/sim_node_internal.h"

namespace edgecert::sim {

namespace internal {

// Deterministic per-request randomness: SplitMix64 of (seed, request number).
double unit_random(uint64_t seed, uint64_t counter) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (counter + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

void write_audit(const NodeFiles& f, TimePoint t, const std::string& op, const std::string& outcome,
                 const json& details) {
  json line{{"time", format_time_iso(t)},
            {"node", f.name},
            {"operation", op},
            {"outcome", outcome},
            {"details", details}};
  // Messages may quote a node's reply; bytes that are not UTF-8 are replaced
  // rather than thrown on (issue 16, defect 2).
  (void)f.env.append_file(
      f.audit_path, line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
      0600);
}

std::string error_outcome(const Error& e) {
  return fmt::format("error: {}: {}", error_code_name(e.code), e.message);
}

Result<std::unique_ptr<FileLock>> lock_node(const NodeFiles& f) {
  const std::string dir = path_dirname(f.lock_path);
  if (!f.env.is_directory(dir) && !f.env.create_dirs(dir, 0700))
    return std::unique_ptr<FileLock>();  // no folder, no node, nobody to exclude
  // Another process (edgecert-sim, `edgecert-sim ui`, edgecert over sim://)
  // holds it for one operation: milliseconds, or an ACME sign's seconds.
  constexpr int kAttempts = 6000;
  for (int attempt = 1;; ++attempt) {
    auto lock = f.env.lock_file(f.lock_path);
    if (lock) return lock;
    // A lock nobody can take (a read-only folder, an Env that refuses locks)
    // excludes nobody either: go on without one, as the node did before it
    // had a lock.
    if (lock.error().code != ErrorCode::kConflict) return std::unique_ptr<FileLock>();
    if (attempt >= kAttempts) {
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("node file {} stays locked by another process", f.state_path));
    }
    f.env.sleep_for(std::chrono::milliseconds(10));
  }
}

namespace {

bool acme_automated(const State& s) {
  return s.acme.mode == spec::AcmeMode::kAutomated && s.acme.schedule &&
         !s.acme.schedule->days.empty();
}

bool faults_configured(const FaultConfig& f) {
  return f.latency_ms > 0 || f.failure_rate > 0 || f.drop_connections > 0 ||
         f.restart_never_returns || f.restart_keeps_old_certificate || f.slow_restart_seconds > 0 ||
         f.restart_delay_seconds > 0;
}

}  // namespace

bool restart_due(const State& s, TimePoint now) {
  return s.restarting && !s.restarting->never && to_ms(now) >= s.restarting->until_ms;
}

namespace {

// Node names become file names, so they are checked before any file is.
Status check_node_name(const std::string& n) {
  const bool ok = !n.empty() && n.size() <= 63 && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (ok) return {};
  return std::unexpected(invalid(
      fmt::format("simulator node name '{}' must be 1-63 characters of a-z, 0-9 and '-'", n)));
}

// Finishes a restart whose time is up: the staged certificate becomes active
// (unless the fault says the node comes back with the old one).
void complete_restart(State& s) {
  bool keep_old = s.restarting && s.restarting->keep_old;
  // Up since the restart's time was up, whenever the next request came.
  if (s.restarting) s.booted_ms = s.restarting->until_ms;
  if (s.staged && !keep_old) s.active = std::move(*s.staged);
  s.staged.reset();
  s.restart_required = false;
  s.restarting.reset();
}

// Read-modify-write of the node file for the administration API, which is
// subject to no faults and not audited.
Status update_state(const NodeFiles& f, const std::function<void(State&)>& change) {
  auto lock = lock_node(f);
  if (!lock) return std::unexpected(lock.error());
  auto s = load_state(f);
  if (!s) return std::unexpected(s.error());
  change(*s);
  return save_state(f, *s);
}

}  // namespace

Status run_op_status(const NodeFiles& f, const char* op, OpMode mode,
                     const std::function<Status(OpContext&)>& body) {
  Env& env = f.env;
  OpContext ctx;
  bool audited = mode.audit && !mode.read;  // a read: decided once the state is known
  auto audit = [&](const std::string& outcome, const json& d) {
    if (audited || (mode.audit && ctx.changed)) write_audit(f, env.now(), op, outcome, d);
  };
  auto fail = [&](const Error& e) -> Status {
    audit(error_outcome(e), ctx.details);
    return std::unexpected(e);
  };

  if (auto st = check_node_name(f.name); !st) return st;
  // A read that cannot change anything (no restart to finish, no scheduler
  // events, no fault that counts requests) takes no lock: it writes nothing,
  // and a process stopped while holding the lock (SIGSTOP) does not block it.
  std::optional<State> peeked;
  if (mode.read) {
    auto peek = read_state_file(f);
    if (peek && !peek->restarting && !acme_automated(*peek) && peek->faults.failure_rate <= 0 &&
        peek->faults.drop_connections <= 0)
      peeked = std::move(*peek);
  }
  std::unique_ptr<FileLock> lock;
  if (!peeked) {
    auto held = lock_node(f);
    if (!held) return std::unexpected(held.error());
    lock = std::move(*held);
    auto loaded = load_state(f);
    if (!loaded) return std::unexpected(loaded.error());
    peeked = std::move(*loaded);
  }
  ctx.state = std::move(*peeked);
  State& s = ctx.state;
  if (mode.audit && s.audit_reads) audited = true;

  if (mode.faults && s.faults.latency_ms > 0)
    env.sleep_for(std::chrono::milliseconds(s.faults.latency_ms));

  // Still shutting down (restart_delay_seconds): the node answers as before.
  const bool shutting_down = s.restarting && to_ms(env.now()) < s.restarting->down_from_ms;
  if (s.restarting && !shutting_down) {
    if (!restart_due(s, env.now()))
      return fail(Error{ErrorCode::kUnavailable, "node is restarting"});
    complete_restart(s);
    ctx.changed = true;
  }

  // The appliance's ACME scheduler ran while nobody watched: its events up to
  // now happen before this request, and are saved at once so that a failing
  // request cannot make them happen twice.
  if (run_acme_scheduler(f, s, env.now())) {
    if (auto st = save_state(f, s); !st) return fail(st.error());
    ctx.changed = true;
  }

  bool counter_used = false;
  if (mode.faults && s.faults.failure_rate > 0) {
    double r = unit_random(s.faults.seed, s.request_counter++);
    counter_used = true;
    if (r < s.faults.failure_rate) {
      (void)save_state(f, s);
      return fail(Error{ErrorCode::kUnavailable,
                        "HTTP 503 Service Unavailable (simulator: injected failure)"});
    }
  }
  if (mode.faults && s.faults.drop_connections > 0 && !s.faults.drop_after_apply) {
    --s.faults.drop_connections;
    (void)save_state(f, s);
    return fail(Error{ErrorCode::kUnavailable, "connection dropped (simulator: injected fault)"});
  }

  Status result = body(ctx);
  if (result.has_value() && (ctx.changed || counter_used)) {
    if (auto st = save_state(f, s); !st) return fail(st.error());
  } else if (!result.has_value() && (counter_used || ctx.persist_on_error)) {
    (void)save_state(f, s);
  }
  if (!result.has_value()) return fail(result.error());

  if (mode.faults && s.faults.drop_connections > 0 && s.faults.drop_after_apply) {
    // The change is on disk; only the reply is lost.
    --s.faults.drop_connections;
    (void)save_state(f, s);
    return fail(Error{ErrorCode::kUnavailable,
                      "connection dropped after the request was applied (simulator: injected "
                      "fault)"});
  }
  audit("ok", ctx.details);
  return result;
}

}  // namespace internal

using internal::OpContext;
using internal::State;

SimNode::SimNode(Env& env, std::string dir, std::string name, std::string fqdn)
    : env_(env), dir_(std::move(dir)), name_(std::move(name)), fqdn_(std::move(fqdn)) {}

std::string SimNode::state_path() const {
  return path_join(dir_, name_ + ".json");
}
std::string SimNode::audit_path() const {
  return path_join(dir_, name_ + ".audit.jsonl");
}

internal::NodeFiles SimNode::files() const {
  return internal::NodeFiles{env_,         name_,        fqdn_,
                             state_path(), audit_path(), path_join(dir_, name_ + ".lock")};
}

// --- Appliance operations: liveness and restart --------------------------------

Result<std::string> SimNode::ping() {
  return run_op(
      files(), "ping", [](OpContext& c) -> Result<std::string> { return c.state.version; },
      internal::kReadOp);
}

Status SimNode::restart() {
  Env& env = env_;
  return run_op(files(), "restart", [&env](OpContext& c) -> Status {
    State& s = c.state;
    int secs =
        s.faults.slow_restart_seconds > 0 ? s.faults.slow_restart_seconds : s.restart_seconds;
    internal::RestartInProgress r;
    r.down_from_ms = internal::to_ms(env.now()) + int64_t{s.faults.restart_delay_seconds} * 1000;
    r.until_ms = r.down_from_ms + int64_t{secs} * 1000;
    r.never = s.faults.restart_never_returns;
    r.keep_old = s.faults.restart_keeps_old_certificate;
    s.restarting = r;
    c.changed = true;
    c.details["seconds"] = secs;
    c.details["staged"] = s.staged.has_value();
    return {};
  });
}

// --- The node's own TLS listener ---------------------------------------------

Result<TlsIdentity> SimNode::tls_identity() {
  const internal::NodeFiles f = files();
  auto s = internal::read_state_file(f);
  if (!s) return std::unexpected(s.error());
  if (internal::restart_due(*s, env_.now())) {
    // The node's next request finishes the restart; make that request now.
    (void)ping();
    if (auto again = internal::read_state_file(f)) s = std::move(again);
  }
  return TlsIdentity{s->active.chain, pki::SecretString(s->active.key)};
}

// --- Test/administration API -------------------------------------------------

Status SimNode::ensure_booted() {
  if (auto st = internal::check_node_name(name_); !st) return st;
  auto s = internal::load_state(files());
  if (!s) return std::unexpected(s.error());
  return {};
}

Status SimNode::set_faults(const FaultConfig& faults) {
  return internal::update_state(files(), [&](State& s) {
    s.faults = faults;
    s.audit_reads = internal::faults_configured(faults);
    // A new configuration restarts the random sequence, so a test that sets
    // the same seed twice sees the same failures.
    s.request_counter = 0;
  });
}

Result<FaultConfig> SimNode::faults() {
  auto s = internal::load_state(files());
  if (!s) return std::unexpected(s.error());
  return s->faults;
}

Status SimNode::set_restart_seconds(int seconds) {
  if (seconds < 0) return std::unexpected(internal::invalid("restart seconds must be >= 0"));
  return internal::update_state(files(), [&](State& s) { s.restart_seconds = seconds; });
}

Status SimNode::set_acme_http01_listen(const std::string& listen) {
  if (auto why = http01_listen_problem(listen))
    return std::unexpected(internal::invalid("http-01 listen address " + *why));
  return internal::update_state(files(), [&](State& s) { s.http01_listen = listen; });
}

Result<std::string> SimNode::acme_http01_listen() {
  auto s = internal::load_state(files());
  if (!s) return std::unexpected(s.error());
  return s->http01_listen;
}

Status SimNode::set_chat_node_aliases(const std::vector<std::string>& aliases) {
  for (const std::string& a : aliases)
    if (FqdnProblem p = check_fqdn(a); p != FqdnProblem::kOk)
      return std::unexpected(internal::invalid("chat node alias " + describe_fqdn_problem(a, p)));
  return internal::update_state(files(), [&](State& s) { s.chat_node_aliases = aliases; });
}

Status SimNode::set_acme_scheduler_seed(uint64_t seed) {
  return internal::update_state(files(), [&](State& s) { s.scheduler_seed = seed; });
}

Status SimNode::run_scheduler() {
  return run_op(
      files(), "run_scheduler", [](OpContext&) -> Status { return {}; },
      internal::OpMode{false, false});
}

// --- The operator's side channel --------------------------------------------

Status SimNode::set_product(node::Product product) {
  if (product == node::Product::kUnknown)
    return std::unexpected(internal::invalid("the product must be Expressway-C or Expressway-E"));
  const spec::Product p = product == node::Product::kExpresswayC ? spec::Product::kExpresswayC
                                                                 : spec::Product::kExpresswayE;
  return internal::update_state(files(), [&](State& s) { s.product = spec::product_name(p); });
}

Status SimNode::set_software_version(const std::string& version) {
  // X<major>.<minor>[.<patch>], as the appliance prints it ("X15.0.2").
  size_t dots = 0;
  bool ok = version.size() >= 4 && version[0] == 'X' &&
            std::isdigit(static_cast<unsigned char>(version[1]));
  for (size_t i = 1; ok && i < version.size(); ++i) {
    if (version[i] == '.') {
      ok = i + 1 < version.size() && version[i - 1] != '.';
      ++dots;
    } else {
      ok = std::isdigit(static_cast<unsigned char>(version[i])) != 0;
    }
  }
  if (!ok || dots < 1 || dots > 2)
    return std::unexpected(internal::invalid(fmt::format(
        "software version '{}' must look like X15.0.2 (X, major, minor, optional patch)",
        version)));
  return internal::update_state(files(), [&](State& s) { s.version = version; });
}

Status SimNode::set_cluster_peers(std::optional<std::vector<std::string>> peers) {
  if (peers && peers->size() > 6)
    return std::unexpected(
        internal::invalid(fmt::format("a cluster has at most 6 peers, not {}", peers->size())));
  if (peers) {
    for (const std::string& a : *peers) {
      if (a.empty() || a.find_first_of(" \t\"'") != std::string::npos)
        return std::unexpected(
            internal::invalid(fmt::format("peer address '{}' is not a host name or address", a)));
    }
  }
  return internal::update_state(files(), [&](State& s) { s.cluster_peers = std::move(peers); });
}

Result<std::optional<std::vector<std::string>>> SimNode::cluster_peers() {
  auto s = internal::load_state(files());
  if (!s) return std::unexpected(s.error());
  return s->cluster_peers;
}

Status SimNode::put_file(const std::string& node_path, std::string content) {
  if (!path_is_absolute(node_path))
    return std::unexpected(
        internal::invalid(fmt::format("'{}' is not an absolute path on the node", node_path)));
  return internal::update_state(files(),
                                [&](State& s) { s.node_files[node_path] = std::move(content); });
}

Result<std::string> SimNode::node_file(const std::string& node_path) {
  auto s = internal::load_state(files());
  if (!s) return std::unexpected(s.error());
  auto it = s->node_files.find(node_path);
  if (it == s->node_files.end())
    return make_error(ErrorCode::kNotFound, "File not found: " + node_path);
  return it->second;
}

Result<RestartPhase> SimNode::restart_phase() {
  auto s = internal::read_state_file(files());
  if (!s) return std::unexpected(s.error());
  if (!s->restarting) return RestartPhase::kUp;
  const int64_t now = internal::to_ms(env_.now());
  if (now < s->restarting->down_from_ms) return RestartPhase::kShuttingDown;
  if (s->restarting->never) return RestartPhase::kNever;
  return internal::restart_due(*s, env_.now()) ? RestartPhase::kDue : RestartPhase::kDown;
}

Result<std::vector<AuditEntry>> SimNode::audit() {
  std::vector<AuditEntry> out;
  Result<std::string> data = env_.read_file(audit_path(), read_limits::kJournal);
  if (!data) {
    if (data.error().code == ErrorCode::kNotFound) return out;
    return std::unexpected(data.error());
  }
  size_t pos = 0;
  while (pos < data->size()) {
    size_t nl = data->find('\n', pos);
    if (nl == std::string::npos) nl = data->size();
    std::string line = data->substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    try {
      internal::json j = internal::json::parse(line);
      out.push_back(AuditEntry{j.at("time").get<std::string>(),
                               j.at("operation").get<std::string>(),
                               j.at("outcome").get<std::string>(), j.at("details").dump()});
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kCorrupt,
                        fmt::format("{}: corrupt audit line: {}", audit_path(), e.what()));
    }
  }
  return out;
}

}  // namespace edgecert::sim
