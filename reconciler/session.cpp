#include "reconciler/session.h"

#include <algorithm>
#include <filesystem>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "providers/pki/checks.h"
#include "providers/pki/spki.h"
#include "reconciler/windows.h"
#include "schema/loader.h"

namespace edgecert {

void add_node_options(CLI::App& app, NodeOptions& o, bool with_targets) {
  app.add_option("--sim-dir", o.sim_dir,
                 "Folder of simulator node files for sim:// peers (default: $EDGECERT_SIM_DIR, "
                 "else .edgecert/sim/<cluster>)");
  app.add_option(
      "--state-dir", o.state_dir,
      "Root of edgecert's run state: locks, journals, audit logs (default .edgecert/state)");
  app.add_flag("--insecure", o.insecure,
               "Do not verify HTTPS nodes' management certificates (dangerous; warned)");
  if (with_targets) {
    app.add_option("--target", o.targets, "Only change this node (repeatable)");
    app.add_option("--exclude", o.excludes, "Do not change this node (repeatable)");
  }
}

std::optional<Session> open_session(const std::string& spec_path, const NodeOptions& options,
                                    CliContext& ctx) {
  auto text = ctx.env.read_file(spec_path);
  if (!text) {
    ctx.err << spec_path << ":0:0: error: " << text.error().message << "\n";
    return std::nullopt;
  }
  schema::LoadResult loaded = schema::load_spec_text(*text, spec_path, ctx.env);
  for (const Diagnostic& d : loaded.diagnostics.sorted()) ctx.err << d.to_string() << "\n";
  if (!loaded.ok()) return std::nullopt;

  Session s;
  s.spec = std::move(*loaded.spec);
  s.spec_sha256 = pki::sha256_hex(*text);
  std::string root = options.state_dir.empty() ? ".edgecert/state" : options.state_dir;
  s.state_dir = path_join(root, s.spec.name);

  // Targets: every name must be a peer; --exclude removes from the set.
  for (const auto* list : {&options.targets, &options.excludes})
    for (const auto& name : *list)
      if (!s.spec.find_peer(name)) {
        ctx.err << fmt::format("edgecert: error: '{}' is not a peer of {} (peers: ", name,
                               s.spec.name);
        for (size_t i = 0; i < s.spec.peers.size(); ++i)
          ctx.err << (i ? ", " : "") << s.spec.peers[i].name;
        ctx.err << ")\n";
        return std::nullopt;
      }
  if (!options.targets.empty() || !options.excludes.empty()) {
    for (const auto& p : s.spec.peers) {
      bool in = options.targets.empty() || std::find(options.targets.begin(), options.targets.end(),
                                                     p.name) != options.targets.end();
      bool out = std::find(options.excludes.begin(), options.excludes.end(), p.name) !=
                 options.excludes.end();
      if (in && !out) s.targets.push_back(p.name);
    }
    if (s.targets.empty()) {
      ctx.err << "edgecert: error: --target/--exclude leave no node to change\n";
      return std::nullopt;
    }
  }

  if (options.insecure)
    ctx.err << "edgecert: warning: --insecure: HTTPS nodes' management certificates are NOT "
               "verified; anyone on the path can impersonate them\n";
  s.open_context = std::make_unique<node::NodeOpenContext>(ctx.env);
  s.open_context->sim_dir = options.sim_dir;
  s.open_context->insecure = options.insecure;
  auto nodes = open_nodes(*s.open_context, s.spec);
  if (!nodes) {
    ctx.err << "edgecert: error: " << nodes.error().message << "\n";
    return std::nullopt;
  }
  s.nodes = std::move(*nodes);

  issuer::IssuerContext ictx{ctx.env, s.state_dir};
  auto iss = issuer::open_issuer(s.spec, ictx);
  if (!iss) {
    ctx.err << "edgecert: error: " << iss.error().message << "\n";
    return std::nullopt;
  }
  s.issuer = std::move(*iss);
  auto cas = s.issuer->ca_certificates();
  if (!cas) {
    ctx.err << "edgecert: error: issuer " << s.issuer->type() << ": " << cas.error().message
            << "\n";
    return std::nullopt;
  }
  s.trust.issuer_cas = *cas;
  s.issuer_description = s.issuer->type();
  if (!cas->empty()) s.issuer_description += " '" + cas->front().subject_cn() + "'";
  if (node_signs(s.spec) && s.spec.acme)
    s.issuer_description +=
        " (the nodes' ACME service, provider '" + s.spec.acme->provider_name + "')";
  if (s.spec.trusted_cas) {
    for (const auto& file : s.spec.trusted_cas->certificates) {
      auto certs = pki::load_certificates(ctx.env, file);
      if (!certs) {
        ctx.err << "edgecert: error: " << certs.error().message << "\n";
        return std::nullopt;
      }
      s.trust.anchors.insert(s.trust.anchors.end(), certs->begin(), certs->end());
    }
  }
  return s;
}

std::optional<ClusterLive> read_live(Session& session, CliContext& ctx, bool wait_for_unavailable) {
  ClusterLive live = read_cluster(session.nodes);
  if (wait_for_unavailable && !live.all_readable()) {
    bool waited = false;
    for (const auto& n : live.nodes) {
      if (!n.error || n.error->code != ErrorCode::kUnavailable) continue;
      auto timeout =
          std::chrono::duration_cast<std::chrono::seconds>(session.spec.rollout.health_timeout);
      ctx.out << fmt::format("{}: unreachable ({}); waiting up to {}s for it to come back\n",
                             n.peer, n.error->message, timeout.count());
      if (auto st = session.nodes.find(n.peer)->wait_until_up(timeout); st) waited = true;
    }
    if (waited) live = read_cluster(session.nodes);
  }
  if (!live.all_readable()) {
    for (const auto& n : live.nodes)
      if (n.error) ctx.err << "edgecert: error: " << n.error->message << "\n";
    ctx.err << "edgecert: error: cannot plan without the live state of every node; nothing was "
               "changed\n";
    return std::nullopt;
  }
  return live;
}

std::optional<Plan> make_plan(Session& s, const ClusterLive& live, CliContext& ctx) {
  TimePoint now = ctx.env.now();
  auto diff = diff_cluster(s.spec, live, s.trust, ctx.env, now, s.targets);
  if (!diff) {
    ctx.err << "edgecert: error: " << diff.error().message << "\n";
    return std::nullopt;
  }
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
