// `edgecert crl check SPEC`: fetches every CRL source of the spec now
// (crl.automaticUpdates distribution points, crl.manualFile), verifies each
// CRL and prints a table (source, format, issuer, thisUpdate, nextUpdate,
// entries, signature, verdict), then which node certificates each CRL
// revokes (the nodes are read when they can be; one that cannot is said and
// skipped). `--output json` prints revocation_report_json. Exit 1 when any
// source fails (unreachable, bad, or its CRL does not verify), or the spec
// does not load. Changes no node; only the fetch cache in the state folder.
#include <algorithm>
#include <sstream>

#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "providers/base/time.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/interrupt.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/revocation_report.h"
#include "reconciler/engine/session.h"
#include "schema/loader.h"

namespace edgecert {
namespace {

using Outcome = CrlSourceReport::Outcome;

// "CN=Example Root,O=Example" -> "Example Root" (the whole name without a CN).
std::string short_name(const revocation::CrlVerification& c) {
  if (c.signer && !c.signer->subject_cn().empty()) return c.signer->subject_cn();
  const std::string& dn = c.issuer;
  auto at = dn.find("CN=");
  if (at == std::string::npos) return dn;
  auto end = dn.find(',', at);
  return dn.substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
}

void print_report(std::ostream& out, const RevocationReport& report) {
  if (report.sources.empty()) {
    out << "The spec has no CRL source (crl.automaticUpdates with enabled: true, or "
           "crl.manualFile).\n";
  } else {
    std::vector<std::vector<std::string>> cells = {{"SOURCE", "FORMAT", "ISSUER", "THIS UPDATE",
                                                    "NEXT UPDATE", "ENTRIES", "SIGNATURE",
                                                    "VERDICT"}};
    for (const auto& s : report.sources) {
      if (s.crls.empty()) {
        cells.push_back({s.source, "-", "-", "-", "-", "-", "-",
                         s.outcome == Outcome::kUnreachable ? "unreachable" : "error"});
        continue;
      }
      for (const auto& r : s.crls) {
        const auto& c = r.check;
        cells.push_back(
            {r.member.empty() ? s.source : s.source + " (" + r.member + ")",
             r.format + (s.from_cache ? ", cached" : ""), short_name(c), format_time(c.this_update),
             c.next_update ? format_time(*c.next_update) : "(none)", std::to_string(c.entries),
             revocation::to_string(c.signature), c.verdict()});
      }
    }
    print_columns(out, cells);
  }
  auto what = [](const RevokedFinding& f) {
    return f.peer.empty() ? "trusted CA '" + f.subject + "'" : f.peer + " " + f.certificate;
  };
  for (const auto& f : report.revoked)
    out << fmt::format("{}{} revokes: {} (serial {})\n", f.ocsp ? "OCSP " : "",
                       f.member.empty() ? f.source : f.source + " (" + f.member + ")", what(f),
                       f.serial_hex);
  for (const auto& [peer, alarms] : report.expected_alarms) {
    std::vector<std::string> ids;
    for (const auto& a : alarms) ids.push_back(std::to_string(a.first));
    out << fmt::format("{}: CRL alarms this node would raise: {}\n", peer, fmt::join(ids, ", "));
  }
  for (const auto& e : report.errors) out << "error: " << e << "\n";
  for (const auto& w : report.warnings) out << "warning: " << w << "\n";
}

int crl_check(const std::string& spec_path, const SessionOptions& options, bool json,
              CliContext& ctx) {
  OpenedSession opened = open_session(ctx.env, spec_path, with_cli_network(options, ctx));
  for (const Diagnostic& d : opened.diagnostics) ctx.err << d.to_string() << "\n";
  for (const std::string& w : opened.warnings) ctx.err << "edgecert: warning: " << w << "\n";
  RevocationReport report;
  if (opened.session) {
    Session& s = *opened.session;
    ClusterLive live = read_live(s, /*wait_for_unavailable=*/false, nullptr);
    for (const auto& n : live.nodes)
      if (n.error)
        ctx.err << fmt::format(
            "edgecert: warning: {}; its certificates are not checked against the CRLs\n",
            n.error->message);
    report = assess_revocation(s.spec, s.trust, &live, s.state_dir, ctx.env, ctx.env.now(),
                               s.revocation);
  } else if (opened.error) {
    // The nodes or the issuer cannot be opened: the sources can still be
    // checked against the spec's trusted CAs.
    ctx.err << "edgecert: warning: " << opened.error->message
            << "; checking the CRL sources without the nodes\n";
    schema::LoadResult loaded = schema::load_spec_file(spec_path, ctx.env);
    if (!loaded.ok()) return kExitError;
    DesiredTrust trust;
    if (loaded.spec->trusted_cas)
      for (const auto& file : loaded.spec->trusted_cas->certificates)
        if (auto certs = pki::load_certificates(ctx.env, file, read_limits::kTrustedCa))
          trust.anchors.insert(trust.anchors.end(), certs->begin(), certs->end());
    RevocationOptions ro;
    ro.allow_unreachable = options.allow_unreachable_crl;
    if (ctx.crl_transport) ro.transport = ctx.crl_transport;
    const std::string state_dir =
        path_join(state_root(spec_path, options.state_dir), loaded.spec->name);
    report = assess_revocation(*loaded.spec, trust, nullptr, state_dir, ctx.env, ctx.env.now(), ro);
  } else {
    return kExitError;  // the spec's diagnostics say why
  }
  if (json)
    ctx.out << revocation_report_json(report).dump(2) << "\n";
  else
    print_report(ctx.out, report);
  const bool all_ok = report.ok() && std::all_of(report.sources.begin(), report.sources.end(),
                                                 [](const CrlSourceReport& s) {
                                                   return s.outcome == Outcome::kOk;
                                                 });
  return all_ok ? kExitOk : kExitError;
}

}  // namespace

std::function<int()> setup_crl(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string spec;
    std::string output = "text";
    NodeOptions node;
  };
  auto o = std::make_shared<Opts>();
  app.require_subcommand(1);
  CLI::App* check = app.add_subcommand(
      "check",
      "Fetch every CRL source of the spec now, verify each CRL, and say which node "
      "certificates they revoke (exit 1 when a source fails)");
  check->add_option("SPEC", o->spec, "Spec file")->required();
  check->add_option("--output,-o", o->output, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  add_node_options(*check, o->node, false);
  add_allow_unreachable_crl_option(*check, o->node.allow_unreachable_crl);
  return [o, &ctx]() -> int {
    InterruptScope interrupts(InterruptScope::Mode::kExit);
    return crl_check(o->spec, o->node, o->output == "json", ctx);
  };
}

}  // namespace edgecert
