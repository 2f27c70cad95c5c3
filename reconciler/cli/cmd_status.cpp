// `edgecert status SPEC`: the live certificate state of every node, read-only.
//
// Opens every peer through the node provider registry and reads its state; a
// node that cannot be reached is shown with its error and makes the exit
// status 1, but never hides the other nodes. Nothing here can print a secret:
// NodeState carries no private key and provider errors never contain one.
//
// After the nodes it says what the cluster's state folder knows: a lock held
// by a run (who, since when, for what), an unfinished run the next apply
// resumes, and cluster TLS verification a stopped run relaxed ("relaxed since
// TIME by run ID"), and the manual steps the last apply stopped at. Ctrl-C
// exits 130 at once: nothing to restore.
//
// Then what the spec's CRL sources and the certificates' OCSP responders say
// now (assess_revocation): per node the certificates found revoked, and the
// CRL alarms (40001, 40002, 40006) the node would raise with the spec's CRL
// settings; a source that fails is shown, never a reason for exit 1 here
// (plan refuses on it).
#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "providers/base/time.h"
#include "providers/issuer/issuer.h"
#include "providers/node/node.h"
#include "providers/pki/checks.h"
#include "providers/pki/spki.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/fleet_cli.h"
#include "reconciler/cli/interrupt.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/live_state.h"
#include "reconciler/engine/revocation_report.h"
#include "reconciler/engine/run_state.h"
#include "reconciler/engine/session.h"
#include "reconciler/engine/synchronized_env.h"
#include "schema/loader.h"
#include "schema/values.h"

namespace edgecert {
namespace {

struct NodeRow {
  const spec::Peer* peer = nullptr;
  std::optional<node::NodeState> state;
  std::string error;
};

nlohmann::json cert_json(const pki::Certificate& c) {
  return nlohmann::json{{"subject_cn", c.subject_cn()},
                        {"sans", c.subject_alt_names().dns},
                        {"not_after", format_time(c.not_after())},
                        {"issuer_cn", c.issuer_cn()},
                        {"sha256", c.sha256_fingerprint()},
                        {"spki_sha256", pki::spki_sha256(c)},
                        {"pem", c.to_pem()},
                        {"factory_temporary", is_factory_certificate(c)}};
}

// What the node still holds from its factory install, named as such.
std::vector<std::string> factory_lines(const node::NodeState& s) {
  std::vector<std::string> out;
  if (!s.server_chain.empty() && is_factory_certificate(s.server_chain.front()))
    out.push_back("serves " + describe_factory_certificate(s.server_chain.front()) +
                  "; Cisco strongly recommends replacing it (edgecert apply)");
  for (const auto& ca : s.trusted_cas)
    if (is_factory_ca(ca))
      out.push_back("trusts " + describe_factory_ca(ca) +
                    "; Cisco strongly recommends removing it once the new certificates serve "
                    "(spec.trustedCAs.prune: true)");
  return out;
}

nlohmann::json row_json(const NodeRow& r) {
  nlohmann::json j{{"name", r.peer->name},
                   {"fqdn", r.peer->fqdn},
                   {"endpoint", r.peer->endpoint},
                   {"reachable", r.state.has_value()}};
  if (!r.state) {
    j["error"] = r.error;
    return j;
  }
  const node::NodeState& s = *r.state;
  j["software_version"] = s.software_version;
  j["product"] = s.product == node::Product::kUnknown
                     ? nlohmann::json(nullptr)
                     : nlohmann::json(node::product_name(s.product));
  j["uptime_seconds"] = s.uptime_seconds ? nlohmann::json(*s.uptime_seconds) : nullptr;
  j["cluster_peers"] = s.cluster_peers ? nlohmann::json(*s.cluster_peers) : nullptr;
  j["cluster_name"] = s.cluster_name;
  j["server_certificate"] =
      s.server_chain.empty() ? nlohmann::json(nullptr) : cert_json(s.server_chain.front());
  j["staged_certificate"] =
      s.staged_chain.empty() ? nlohmann::json(nullptr) : cert_json(s.staged_chain.front());
  if (s.pending_csr) {
    j["pending_csr"] = {{"common_name", s.pending_csr->common_name},
                        {"dns_names", s.pending_csr->dns_names}};
  } else {
    j["pending_csr"] = nullptr;
  }
  j["restart_required"] = s.restart_required;
  j["trusted_ca_count"] = s.trusted_cas.size();
  j["factory_temporary_cas"] = nlohmann::json::array();
  for (const auto& ca : s.trusted_cas)
    if (is_factory_ca(ca)) j["factory_temporary_cas"].push_back(cert_json(ca));
  j["tls_verification"] = spec::tls_verification_name(s.tls_verification);
  j["alarms"] = nlohmann::json::array();
  for (const node::Alarm& a : s.alarms) j["alarms"].push_back({{"id", a.id}, {"text", a.text}});
  nlohmann::json pending = nullptr;
  if (s.acme_status.pending_certificate_pem)
    if (auto c = pki::Certificate::parse_all(*s.acme_status.pending_certificate_pem, "pending");
        c && !c->empty())
      pending = cert_json(c->front());
  j["acme"] = {{"mode", spec::acme_mode_name(s.acme.mode)},
               {"provider_name", s.acme.provider_name},
               {"provider_directory", s.acme.provider_directory},
               {"status", s.acme_status.status},
               {"last_sign_status", s.acme_status.last_sign_status},
               {"last_deploy_status", s.acme_status.last_deploy_status},
               {"pending_certificate", pending}};
  return j;
}

// The revocation report's lines for one node: its revoked certificates and
// the CRL alarms it would raise.
std::vector<std::string> revocation_lines(const RevocationReport& report, const std::string& peer) {
  std::vector<std::string> out;
  for (const auto& f : report.revoked)
    if (f.peer == peer)
      out.push_back(fmt::format("{} (serial {}) is {}; plan reissues it", f.certificate,
                                f.serial_hex, f.reason));
  if (auto it = report.expected_alarms.find(peer); it != report.expected_alarms.end()) {
    std::vector<std::string> alarms;
    for (const auto& [id, why] : it->second) alarms.push_back(fmt::format("{} ({})", id, why));
    out.push_back(fmt::format("CRL alarms this node would raise: {}", fmt::join(alarms, "; ")));
  }
  return out;
}

void print_revocation(std::ostream& out, const std::vector<NodeRow>& rows,
                      const RevocationReport& report) {
  for (const NodeRow& r : rows)
    for (const auto& line : revocation_lines(report, r.peer->name))
      out << fmt::format("{}: {}\n", r.peer->name, line);
  for (const auto& f : report.revoked)
    if (f.peer.empty())
      out << fmt::format("trusted CA '{}' (serial {}) is {}\n", f.subject, f.serial_hex, f.reason);
  for (const auto& e : report.errors) out << "CRL source problem: " << e << "\n";
  for (const auto& w : report.warnings) out << "CRL warning: " << w << "\n";
}

void print_table(std::ostream& out, const std::vector<NodeRow>& rows) {
  std::vector<std::vector<std::string>> cells = {
      {"NODE", "CN", "SANS", "EXPIRES", "ISSUER", "CSR", "RESTART", "CAS", "TLS"}};
  for (const NodeRow& r : rows) {
    if (!r.state) {
      cells.push_back({r.peer->name, "(unreachable)", "-", "-", "-", "-", "-", "-", "-"});
      continue;
    }
    const node::NodeState& s = *r.state;
    std::vector<std::string> line = {r.peer->name};
    if (s.server_chain.empty()) {
      line.insert(line.end(), {"(none)", "-", "-", "-"});
    } else {
      const pki::Certificate& c = s.server_chain.front();
      line.push_back(c.subject_cn().empty() ? "(no CN)" : c.subject_cn());
      line.push_back(fmt::format("{}", fmt::join(c.subject_alt_names().dns, ",")));
      line.push_back(format_time(c.not_after()));
      line.push_back(is_factory_certificate(c) ? "factory TEMPORARY CA" : c.issuer_cn());
    }
    line.push_back(s.pending_csr ? "yes (" + s.pending_csr->common_name + ")" : "no");
    line.push_back(s.restart_required ? "yes" : "no");
    line.push_back(std::to_string(s.trusted_cas.size()));
    line.push_back(spec::tls_verification_name(s.tls_verification));
    cells.push_back(std::move(line));
  }
  print_columns(out, cells);
  // What each node says it is (a real node's SystemUnit and Alternates; the
  // in-process simulator says less).
  for (const NodeRow& r : rows) {
    if (!r.state) continue;
    const node::NodeState& s = *r.state;
    std::vector<std::string> parts;
    if (s.product != node::Product::kUnknown) parts.push_back(node::product_name(s.product));
    if (!s.software_version.empty()) parts.push_back(s.software_version);
    if (s.uptime_seconds)
      parts.push_back(
          fmt::format("up {}", schema::format_duration(std::chrono::seconds(*s.uptime_seconds))));
    if (s.cluster_peers)
      parts.push_back(fmt::format("cluster {}peers [{}]",
                                  s.cluster_name.empty() ? "" : "'" + s.cluster_name + "' ",
                                  fmt::join(*s.cluster_peers, ", ")));
    if (!parts.empty()) out << fmt::format("{}: {}\n", r.peer->name, fmt::join(parts, ", "));
  }
  for (const NodeRow& r : rows)
    if (r.state)
      for (const std::string& line : factory_lines(*r.state))
        out << fmt::format("{}: {}\n", r.peer->name, line);
  for (const NodeRow& r : rows) {
    if (r.state) {
      for (const node::Alarm& a : r.state->alarms)
        out << fmt::format("{}: alarm {}: {}\n", r.peer->name, a.id, a.text);
    }
  }
  // The ACME service (Expressway-E), for nodes where it is on.
  for (const NodeRow& r : rows) {
    if (!r.state || r.state->acme.mode == spec::AcmeMode::kDisabled) continue;
    const node::NodeState& s = *r.state;
    std::string pending = "none";
    if (s.acme_status.pending_certificate_pem)
      if (auto c = pki::Certificate::parse_all(*s.acme_status.pending_certificate_pem, "pending");
          c && !c->empty())
        pending = fmt::format("{} until {}", c->front().subject_cn(),
                              format_time(c->front().not_after()));
    out << fmt::format(
        "{}: ACME {} ({}): {}; last sign: {}; last deploy: {}; pending: {}\n", r.peer->name,
        spec::acme_mode_name(s.acme.mode), s.acme.provider_name, s.acme_status.status,
        s.acme_status.last_sign_status.empty() ? "never" : s.acme_status.last_sign_status,
        s.acme_status.last_deploy_status.empty() ? "never" : s.acme_status.last_deploy_status,
        pending);
  }
  for (const NodeRow& r : rows) {
    if (!r.state) out << fmt::format("{}: unreachable: {}\n", r.peer->name, r.error);
  }
}

nlohmann::json lock_json(const LockInfo& l) {
  return {{"id", l.id},
          {"user", l.user},
          {"host", l.host},
          {"pid", l.pid},
          {"operation", l.operation},
          {"created", format_time_iso(l.created)},
          {"holder_gone", holder_is_gone(l)}};
}

nlohmann::json run_state_json(const RunState& rs, const std::vector<std::string>& permissive) {
  nlohmann::json j{{"lock", nullptr}, {"unfinished_run", nullptr}};
  if (rs.lock) j["lock"] = lock_json(*rs.lock);
  if (rs.git_lock) {
    j["git_lock"] = lock_json(*rs.git_lock);
    j["git_lock"]["repository"] = rs.git_lock_where;
  }
  if (rs.unfinished)
    j["unfinished_run"] = {{"run", rs.unfinished->run_id},
                           {"started", format_time_iso(rs.unfinished->started)},
                           {"actions_done", rs.unfinished->actions_done},
                           {"actions_planned", rs.unfinished->actions_planned}};
  j["tls_relaxed"] = nlohmann::json::array();
  for (const TlsRelaxed& r : rs.relaxed)
    if (std::find(permissive.begin(), permissive.end(), r.node) != permissive.end())
      j["tls_relaxed"].push_back(
          {{"node", r.node}, {"run", r.run_id}, {"since", format_time_iso(r.since)}});
  j["manual_steps_waiting"] = nlohmann::json::array();
  for (const ManualStepWaiting& m : rs.manual_waiting)
    j["manual_steps_waiting"].push_back({{"node", m.node},
                                         {"run", m.run_id},
                                         {"since", format_time_iso(m.since)},
                                         {"instruction", m.instruction}});
  j["problems"] = rs.problems;
  return j;
}

// What the CRLs and OCSP responders say about the nodes read. Trust, as for
// plan: the issuer's CA chain, the spec's trusted CAs (an unreadable file was
// reported by validation) and the CAs of the nodes' own chains.
RevocationReport assess_status_revocation(const spec::Spec& spec, const std::vector<NodeRow>& rows,
                                          const std::string& state_dir, CliContext& ctx) {
  DesiredTrust trust;
  issuer::IssuerContext ictx{ctx.env, state_dir};
  if (auto iss = issuer::open_issuer(spec, ictx))
    if (auto cas = (*iss)->ca_certificates()) trust.issuer_cas = std::move(*cas);
  if (spec.trusted_cas)
    for (const auto& file : spec.trusted_cas->certificates)
      if (auto certs = pki::load_certificates(ctx.env, file, read_limits::kTrustedCa))
        trust.anchors.insert(trust.anchors.end(), certs->begin(), certs->end());
  ClusterLive live;
  for (const NodeRow& r : rows) {
    NodeLive& n = live.nodes.emplace_back();
    n.peer = r.peer->name;
    n.state = r.state;
  }
  RevocationOptions options;
  if (ctx.crl_transport) options.transport = ctx.crl_transport;
  return assess_revocation(spec, trust, &live, state_dir, ctx.env, ctx.env.now(), options);
}

}  // namespace

namespace {

struct StatusOpts {
  std::vector<std::string> specs;
  std::string shard;
  std::string output = "text";
  std::string sim_dir;
  std::string state_dir;
  bool insecure = false;
  bool trust_new_host_key = false;
  size_t parallelism = 10;
  // Over a fleet: the bound on node reads shared by the clusters read at once.
  std::shared_ptr<ReadSlots> read_slots;
};

// The status of one cluster: a table on ctx.out, or its JSON document in
// *json_out. False when the spec did not load or a node could not be read.
bool status_cluster(const StatusOpts& o, const std::string& spec_path, CliContext& ctx,
                    nlohmann::json* json_out, std::string* cluster_out, bool warn_insecure) {
  schema::LoadResult loaded = schema::load_spec_file(spec_path, ctx.env);
  for (const Diagnostic& d : loaded.diagnostics.sorted()) ctx.err << d.to_string() << "\n";
  if (!loaded.ok()) return false;
  const spec::Spec& spec = *loaded.spec;
  *cluster_out = spec.name;
  if (warn_insecure)
    ctx.err << "edgecert: warning: --insecure: HTTPS nodes' management certificates are NOT "
               "verified; anyone on the path can impersonate them\n";

  // The nodes are read concurrently, up to --parallelism at once
  // (read_cluster), through an Env many threads may share; a node that
  // cannot be opened is shown with why, as one that cannot be read.
  std::optional<SynchronizedEnv> shared;
  if (!ctx.env_thread_safe) shared.emplace(ctx.env);
  node::NodeOpenContext open(shared ? static_cast<Env&>(*shared) : ctx.env);
  open.sim_dir = o.sim_dir;
  open.insecure = o.insecure;
  open.trust_new_host_key = o.trust_new_host_key;
  std::map<std::string, std::string> open_errors;
  OpenedNodes opened;
  for (const spec::Peer& peer : spec.peers) {
    auto provider = node::open_node(open, spec, peer);
    if (provider)
      opened.providers.emplace_back(peer.name, std::move(*provider));
    else
      open_errors[peer.name] = provider.error().message;
  }
  ClusterLive live = read_cluster(opened, o.parallelism, o.read_slots.get());
  std::vector<NodeRow> rows;
  bool all_ok = true;
  for (const spec::Peer& peer : spec.peers) {
    NodeRow row;
    row.peer = &peer;
    if (auto it = open_errors.find(peer.name); it != open_errors.end()) {
      row.error = it->second;
    } else if (const NodeLive* n = live.find(peer.name); n && n->state) {
      row.state = n->state;
    } else {
      row.error = n && n->error ? n->error->message : "not read";
    }
    all_ok = all_ok && row.state.has_value();
    rows.push_back(std::move(row));
  }

  std::vector<std::string> permissive;
  for (const NodeRow& r : rows)
    if (r.state && r.state->tls_verification == spec::TlsVerification::kPermissive)
      permissive.push_back(r.peer->name);
  const std::string state_dir = path_join(state_root(spec_path, o.state_dir), spec.name);
  RunState run_state = read_run_state(ctx.env, state_dir, &spec);
  RevocationReport revocation = assess_status_revocation(spec, rows, state_dir, ctx);
  if (o.output == "json") {
    nlohmann::json j{{"cluster", spec.name}, {"nodes", nlohmann::json::array()}};
    for (const NodeRow& r : rows) {
      nlohmann::json n = row_json(r);
      n["revoked"] = nlohmann::json::array();
      for (const auto& f : revocation.revoked)
        if (f.peer == r.peer->name)
          n["revoked"].push_back({{"certificate", f.certificate},
                                  {"serial", f.serial_hex},
                                  {"sha256", f.sha256},
                                  {"reason", f.reason}});
      n["expected_crl_alarms"] = nlohmann::json::array();
      if (auto it = revocation.expected_alarms.find(r.peer->name);
          it != revocation.expected_alarms.end())
        for (const auto& [id, why] : it->second)
          n["expected_crl_alarms"].push_back({{"id", id}, {"reason", why}});
      j["nodes"].push_back(std::move(n));
    }
    j["run_state"] = run_state_json(run_state, permissive);
    j["revocation"] = revocation_report_json(revocation);
    *json_out = std::move(j);
  } else {
    print_table(ctx.out, rows);
    print_revocation(ctx.out, rows, revocation);
    for (const auto& line : describe_run_state(run_state, permissive)) ctx.out << line << "\n";
  }
  return all_ok;
}

}  // namespace

std::function<int()> setup_status(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<StatusOpts>();
  app.add_option("SPEC", o->specs, "Spec files or folders (searched for specs)")->required();
  add_shard_option(app, o->shard);
  app.add_option("--output,-o", o->output, "Output format")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--sim-dir", o->sim_dir,
                 "Folder of simulator node files for sim:// peers (default: $EDGECERT_SIM_DIR, "
                 "else .edgecert/sim/<metadata.name> next to the spec)");
  app.add_option("--state-dir", o->state_dir,
                 "Root of edgecert's run state, to show the lock and unfinished runs (default "
                 ".edgecert/state in the spec's folder)");
  app.add_flag("--insecure", o->insecure,
               "Do not verify HTTPS nodes' management certificates (dangerous; warned)");
  add_trust_new_host_key_option(app, o->trust_new_host_key);
  app.add_option("--parallelism", o->parallelism,
                 "Read up to this many nodes at once, across the clusters of a fleet too "
                 "(default 10; 1 reads one after another)")
      ->check(CLI::Range(1, 64));

  return [o, &ctx]() -> int {
    InterruptScope interrupts(InterruptScope::Mode::kExit);
    NodeOptions node;
    node.sim_dir = o->sim_dir;
    node.state_dir = o->state_dir;
    auto selection = select_fleet(ctx.env, o->specs, o->shard, node, {}, ctx);
    if (!selection) return kExitError;
    if (!selection->fleet) {
      nlohmann::json j;
      // status_cluster warns about --insecure once the spec has loaded.
      std::string cluster;
      const bool ok = status_cluster(*o, selection->specs.front(), ctx,
                                     o->output == "json" ? &j : nullptr, &cluster, o->insecure);
      if (o->output == "json" && !j.is_null()) ctx.out << j.dump(2) << "\n";
      return ok ? kExitOk : kExitError;
    }
    if (o->insecure)
      ctx.err << "edgecert: warning: --insecure: HTTPS nodes' management certificates are NOT "
                 "verified; anyone on the path can impersonate them\n";
    // A fleet: each cluster's table under its heading (its errors prefixed
    // with its name), then one summary line; JSON: {"clusters": [...]}.
    // Clusters are read concurrently, up to --parallelism at once, their node
    // reads bounded together by --parallelism; each cluster's output is kept
    // and printed in the order the specs were found.
    const size_t n = selection->specs.size();
    std::vector<nlohmann::json> docs(n);
    std::vector<std::string> names(n);
    std::vector<char> oks(n, 0);
    std::optional<SynchronizedEnv> shared_env;
    if (!ctx.env_thread_safe) shared_env.emplace(ctx.env);
    Env& env = shared_env ? static_cast<Env&>(*shared_env) : ctx.env;
    StatusOpts fleet_opts = *o;
    fleet_opts.read_slots = std::make_shared<ReadSlots>(o->parallelism);
    run_in_order(n, o->parallelism, ctx, [&](size_t i, std::ostream& out, std::ostream& err_buf) {
      const std::string& spec_path = selection->specs[i];
      auto it = selection->cluster_of.find(spec_path);
      std::string cluster = it == selection->cluster_of.end() ? std::string() : it->second;
      // A spec that does not load has no name: its diagnostics name its file.
      PrefixedStream err(err_buf, cluster.empty() ? "" : "[" + cluster + "] ");
      CliContext cluster_ctx{env, out, err, ctx.stdin_is_tty, ctx.in, ctx.crl_transport, true};
      if (o->output == "text") out << fleet_heading(cluster, spec_path) << "\n";
      nlohmann::json j;
      bool ok = false;
      try {
        ok = status_cluster(fleet_opts, spec_path, cluster_ctx, o->output == "json" ? &j : nullptr,
                            &cluster, false);
      } catch (const std::exception& e) {
        // One cluster's bug must not end the others' status.
        err << "edgecert: error: internal error: " << e.what() << "\n";
      }
      oks[i] = ok;
      names[i] = cluster.empty() ? spec_path : cluster;
      if (o->output == "json") {
        if (j.is_null()) j = {{"cluster", cluster}};
        j["spec"] = spec_path;
        j["ok"] = ok;
        docs[i] = std::move(j);
      } else {
        out << "\n";
      }
    });
    nlohmann::json clusters = nlohmann::json::array();
    std::vector<std::string> failed;
    for (size_t i = 0; i < n; ++i) {
      if (!oks[i]) failed.push_back(names[i]);
      if (o->output == "json") clusters.push_back(std::move(docs[i]));
    }
    std::string summary = fleet_summary_head(selection->specs.size(), *selection);
    if (selection->specs.empty()) {
      summary += ": nothing in this shard";
    } else {
      summary += fmt::format(": {} read", selection->specs.size() - failed.size());
      if (!failed.empty())
        summary += fmt::format(", {} failed ({})", failed.size(), fmt::join(failed, ", "));
    }
    if (o->output == "json")
      ctx.out << nlohmann::json{{"clusters", clusters}, {"summary", summary}}.dump(
                     2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    else
      ctx.out << summary << "\n";
    return failed.empty() ? kExitOk : kExitError;
  };
}

}  // namespace edgecert
