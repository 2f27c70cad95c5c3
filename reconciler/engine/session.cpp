#include "reconciler/engine/session.h"

#include <algorithm>
#include <filesystem>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/pki/checks.h"
#include "providers/pki/spki.h"
#include "reconciler/engine/compat.h"
#include "reconciler/engine/executor.h"
#include "reconciler/engine/heartbeat.h"
#include "reconciler/engine/manual_steps.h"
#include "reconciler/engine/windows.h"
#include "schema/loader.h"

namespace edgecert {

std::string state_root(const std::string& spec_path, const std::string& state_dir) {
  if (!state_dir.empty()) return state_dir;
  return path_join(path_dirname(spec_path), ".edgecert/state");
}

OpenedSession open_session(Env& env, const std::string& spec_path, const SessionOptions& options) {
  OpenedSession out;
  auto fail = [&out](Error e) -> OpenedSession {
    out.session.reset();
    out.error = std::move(e);
    return std::move(out);
  };
  auto text = env.read_file(spec_path, read_limits::kSpec);
  if (!text) {
    out.diagnostics.push_back({spec_path, 0, 0, Severity::kError, text.error().message});
    return out;
  }
  schema::LoadOptions load_options;
  load_options.read_only_root = options.read_only_root;
  schema::LoadResult loaded = schema::load_spec_text(*text, spec_path, env, load_options);
  out.diagnostics = loaded.diagnostics.sorted();
  if (!loaded.ok()) return out;

  Session& s = out.session.emplace();
  s.spec = std::move(*loaded.spec);
  s.spec_sha256 = pki::sha256_hex(*text);
  s.state_dir = path_join(state_root(spec_path, options.state_dir), s.spec.name);

  // Targets: every name must be a peer; --exclude removes from the set.
  for (const auto* list : {&options.targets, &options.excludes, &options.replace})
    for (const auto& name : *list)
      if (!s.spec.find_peer(name)) {
        std::vector<std::string> peers;
        for (const auto& p : s.spec.peers) peers.push_back(p.name);
        return fail(Error{ErrorCode::kInvalidArgument,
                          fmt::format("'{}' is not a peer of {} (peers: {})", name, s.spec.name,
                                      fmt::join(peers, ", "))});
      }
  if (!options.targets.empty() || !options.excludes.empty()) {
    for (const auto& p : s.spec.peers) {
      bool in = options.targets.empty() || std::find(options.targets.begin(), options.targets.end(),
                                                     p.name) != options.targets.end();
      bool excluded = std::find(options.excludes.begin(), options.excludes.end(), p.name) !=
                      options.excludes.end();
      if (in && !excluded) s.targets.push_back(p.name);
    }
    if (s.targets.empty())
      return fail(Error{ErrorCode::kInvalidArgument, "--target/--exclude leave no node to change"});
  }
  for (const auto& name : options.replace)
    if (!s.targets.empty() &&
        std::find(s.targets.begin(), s.targets.end(), name) == s.targets.end())
      return fail(Error{ErrorCode::kInvalidArgument,
                        fmt::format("--replace {}: the node is outside --target/--exclude", name)});
  s.replace = options.replace;
  s.revocation.allow_unreachable = options.allow_unreachable_crl;
  if (options.crl_transport) s.revocation.transport = options.crl_transport;

  if (options.insecure)
    out.warnings.push_back(
        "--insecure: HTTPS nodes' management certificates are NOT verified; anyone on the path "
        "can impersonate them");
  auto mtrust = load_management_trust(env, s.spec, options.insecure);
  if (!mtrust) return fail(mtrust.error());
  s.management_trust = std::move(*mtrust);
  // Nodes are read concurrently (read_live): every provider reaches the
  // Env through one that many threads may share.
  if (!options.env_is_shared) s.shared_env = std::make_unique<SynchronizedEnv>(env);
  s.parallelism = std::max<size_t>(options.parallelism, 1);
  s.read_slots = options.read_slots;
  s.open_context = std::make_unique<node::NodeOpenContext>(s.shared_env ? *s.shared_env : env);
  s.open_context->sim_dir = options.sim_dir;
  s.open_context->local_dir = options.local_dir;
  s.open_context->insecure = options.insecure;
  s.open_context->appliance_env = options.appliance_env;
  s.open_context->trust_new_host_key = options.trust_new_host_key;
  auto nodes = open_nodes(*s.open_context, s.spec);
  if (!nodes) return fail(nodes.error());
  s.nodes = std::move(*nodes);

  issuer::IssuerContext ictx{env, s.state_dir};
  auto iss = issuer::open_issuer(s.spec, ictx);
  if (!iss) return fail(iss.error());
  s.issuer = std::move(*iss);
  auto cas = s.issuer->ca_certificates();
  if (!cas) return fail(cas.error().with_context("issuer " + s.issuer->type()));
  s.trust.issuer_cas = *cas;
  s.issuer_description = s.issuer->type();
  if (!cas->empty()) s.issuer_description += " '" + cas->front().subject_cn() + "'";
  if (node_signs(s.spec) && s.spec.acme)
    s.issuer_description +=
        " (the nodes' ACME service, provider '" + s.spec.acme->provider_name + "')";
  if (s.spec.trusted_cas) {
    for (const auto& file : s.spec.trusted_cas->certificates) {
      auto certs = pki::load_certificates(env, file, read_limits::kTrustedCa);
      if (!certs) return fail(certs.error());
      s.trust.anchors.insert(s.trust.anchors.end(), certs->begin(), certs->end());
    }
  }
  return out;
}

ClusterLive read_live(Session& session, bool wait_for_unavailable, const Notify& notify) {
  ClusterLive live = read_cluster(session.nodes, session.parallelism, session.read_slots.get());
  if (wait_for_unavailable && !live.all_readable()) {
    bool waited = false;
    for (const auto& n : live.nodes) {
      if (!n.error || n.error->code != ErrorCode::kUnavailable) continue;
      auto timeout =
          std::chrono::duration_cast<std::chrono::seconds>(session.spec.rollout.health_timeout);
      if (notify)
        notify(fmt::format("{}: unreachable ({}); waiting up to {}s for it to come back", n.peer,
                           n.error->message, timeout.count()));
      WaitScope wait(session.open_context->env, n.peer,
                     "waiting for the node to come back before planning", timeout);
      if (auto st = session.nodes.find(n.peer)->wait_until_up(timeout); st) waited = true;
    }
    if (waited) live = read_cluster(session.nodes, session.parallelism, session.read_slots.get());
  }
  // What the operator confirmed for values a node cannot show stands in for
  // them (manual_steps.h); without a readable record those nodes' live state
  // is unknown.
  auto confirmed = read_confirmed_values(session.open_context->env, session.state_dir);
  if (confirmed) {
    apply_confirmed_values(live, *confirmed);
  } else {
    for (auto& n : live.nodes)
      if (n.state && (!n.state->crl_settings_known || !n.state->manual_crl_known)) {
        n.error = confirmed.error().at(n.peer, "read confirmed CRL values");
        n.state.reset();
      }
  }
  return live;
}

Status check_nodes_fit(const spec::Spec& spec, const ClusterLive& live,
                       std::vector<std::string>* warnings) {
  CompatibilityReport report = check_compatibility(spec, live);
  if (warnings) *warnings = report.warnings;
  if (report.errors.empty()) return {};
  if (report.errors.size() == 1) return make_error(ErrorCode::kInvalidArgument, report.errors[0]);
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("{} nodes do not fit the spec; nothing was changed:\n  {}",
                                report.errors.size(), fmt::join(report.errors, "\n  ")));
}

namespace {

// The appliance takes a PEM CRL only: when the spec's manual CRL is DER and
// the upload is a manual step (a node with no API for it), the converted PEM
// goes to the cluster's state folder and the instruction names that file.
void write_manual_crl_for_operator(Plan& plan, const std::string& state_dir, Env& env) {
  for (Action& a : plan.actions) {
    if (a.kind() != ActionKind::kUploadManualCrl || !a.manual) continue;
    const auto& p = a.as<UploadManualCrlParams>();
    auto data = env.read_file(p.path, read_limits::kCrl);
    if (!data) continue;  // the diff read it a moment ago; the runner reports it
    auto pem = manual_crl_pem(*data, p.path);
    if (!pem || *pem == *data) continue;
    const std::string out = path_join(state_dir, "manual-crl.pem");
    Status st = env.create_dirs(state_dir);
    if (st) st = env.write_file_atomic(out, *pem, 0644);
    if (!st) {
      plan.notes.push_back(fmt::format("warning: {}: could not write the PEM form of {}: {}", out,
                                       p.path, st.error().message));
      continue;
    }
    if (!a.after.is_object()) a.after = nlohmann::json::object();
    a.after["upload_file"] = out;
  }
}

}  // namespace

Result<RevocationReport> check_revocation(Session& s, const ClusterLive& live, Env& env) {
  RevocationReport report =
      assess_revocation(s.spec, s.trust, &live, s.state_dir, env, env.now(), s.revocation);
  if (report.ok()) return report;
  if (report.errors.size() == 1)
    return make_error(ErrorCode::kInvalidArgument, report.errors[0] + "; nothing was changed");
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("{} problems with the CRL sources; nothing was changed:\n  {}",
                                report.errors.size(), fmt::join(report.errors, "\n  ")));
}

Result<Plan> make_plan(Session& s, const ClusterLive& live, Env& env) {
  TimePoint now = env.now();
  std::vector<std::string> fit_warnings;
  if (auto st = check_nodes_fit(s.spec, live, &fit_warnings); !st)
    return std::unexpected(st.error());
  auto revocation = check_revocation(s, live, env);
  if (!revocation) return std::unexpected(revocation.error());
  auto diff = diff_cluster(s.spec, live, s.trust, env, now, s.targets, s.replace,
                           revocation->revoked_by_fingerprint());
  if (!diff) return std::unexpected(diff.error());
  std::vector<std::string> reissued;
  for (const auto& d : diff->nodes)
    if (d.certificate == CertificateChange::kReissue &&
        (s.targets.empty() ||
         std::find(s.targets.begin(), s.targets.end(), d.peer) != s.targets.end()))
      reissued.push_back(d.peer);
  if (auto e = management_lockout_ahead(s.management_trust, reissued, s.trust.issuer_cas, now))
    return std::unexpected(*e);
  PlanInputs in;
  in.spec = &s.spec;
  in.spec_sha256 = s.spec_sha256;
  in.live = &live;
  in.diff = &*diff;
  in.issuer_description = s.issuer_description;
  in.issuer_cas = s.trust.issuer_cas;
  in.targets = s.targets;
  in.now = now;
  Plan plan = build_plan(in);
  plan.replace = s.replace;
  for (const auto& w : fit_warnings) plan.notes.push_back("warning: " + w);
  for (const auto& w : revocation->warnings) plan.notes.push_back("warning: " + w);
  for (const auto& f : revocation->revoked)
    if (f.peer.empty())
      plan.notes.push_back(
          fmt::format("warning: trusted CA '{}' (serial {}) is {}; remove it from spec.trustedCAs",
                      f.subject, f.serial_hex, f.reason));
  write_manual_crl_for_operator(plan, s.state_dir, env);
  // The plan is what apply will run: the same executor walks it first with a
  // runner that touches nothing, so a plan apply would refuse is a bug here.
  if (auto st = check_plan(plan); !st)
    return make_error(ErrorCode::kInternal, "planner bug: " + st.error().message);
  if (ApplyReport dry = dry_run_plan(plan, now); dry.outcome != ApplyOutcome::kComplete)
    return make_error(ErrorCode::kInternal, "planner bug: the dry run stopped: " + dry.message);
  std::error_code ec;
  auto abs = std::filesystem::absolute(s.spec.path, ec);
  plan.spec_absolute_path = ec ? s.spec.path : abs.lexically_normal().string();
  if (!s.spec.rollout.windows.empty()) {
    auto ws = window_status(s.spec.rollout.windows, now);
    if (ws && !ws->open && ws->next_open)
      plan.next_window = format_in_zone(*ws->next_open, s.spec.rollout.windows.front().timezone);
    else if (ws && ws->open && ws->closes)
      plan.notes.push_back("a rollout window is open until " +
                           format_in_zone(*ws->closes, s.spec.rollout.windows.front().timezone));
  }
  return plan;
}

}  // namespace edgecert
