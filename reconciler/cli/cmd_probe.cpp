// `edgecert probe ENDPOINT...`: a read-only first look at real nodes over
// each interface (providers/rest/probe.h does the probing; this file reads
// the options, builds the targets and renders the result).
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "providers/base/time.h"
#include "providers/node/node.h"
#include "providers/rest/probe.h"
#include "providers/rest/rest_provider.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/interrupt.h"
#include "reconciler/cli/session_cli.h"
#include "schema/loader.h"
#include "schema/spec.h"

namespace edgecert {
namespace {

using rest::NodeProbe;
using rest::OperationMode;
using rest::ProbeInterface;

struct ProbeOptions {
  std::vector<std::string> endpoints;
  std::string username;
  std::string password_from;
  std::string literal_password;  // refused: only here to say why
  std::string ca_bundle;
  bool insecure = false;
  std::vector<std::string> ssh;
  std::string known_hosts;
  bool trust_new_host_key = false;
  std::string interfaces;
  std::string spec;
  std::string output = "text";
};

// One node to probe, with the TLS name its certificate must carry.
struct Planned {
  rest::ProbeTarget target;
  std::string server_name;
  std::optional<spec::Product> spec_product;  // with --spec: what the spec says it is
};

Result<std::vector<ProbeInterface>> parse_interfaces(const std::string& text) {
  std::vector<ProbeInterface> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string word = text.substr(start, comma == std::string::npos ? comma : comma - start);
    auto i = rest::parse_probe_interface(word);
    if (!i) return Error::InvalidArgument("--interfaces: " + i.error().message);
    if (std::find(out.begin(), out.end(), *i) == out.end()) out.push_back(*i);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// "host" for port 443, else "host:port": distinct names for several nodes
// behind one address.
std::string label_of(const rest::Endpoint& ep) {
  return ep.port == 443 ? ep.host : fmt::format("{}:{}", ep.host, ep.port);
}

// Applies --ssh: NAME=HOST:PORT to the node called NAME (its name or host),
// HOST:PORT to the nodes in order.
Status apply_ssh_options(const std::vector<std::string>& given, std::vector<Planned>& nodes,
                         const std::vector<std::string>& hosts) {
  size_t next = 0;
  for (const std::string& s : given) {
    size_t eq = s.find('=');
    std::string address = eq == std::string::npos ? s : s.substr(eq + 1);
    if (auto hp = rest::parse_host_port(address, "--ssh"); !hp) return hp.error();
    if (eq == std::string::npos) {
      if (next >= nodes.size())
        return Error::InvalidArgument(fmt::format(
            "--ssh {}: more --ssh addresses than nodes ({}); name the node: --ssh NAME=HOST:PORT",
            s, nodes.size()));
      nodes[next++].target.ssh = address;
      continue;
    }
    std::string name = s.substr(0, eq);
    bool found = false;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].target.name == name || hosts[i] == name) {
        nodes[i].target.ssh = address;
        found = true;
      }
    if (!found) {
      std::vector<std::string> names;
      for (const Planned& n : nodes) names.push_back(n.target.name);
      return Error::InvalidArgument(fmt::format("--ssh {}: no node is called '{}' (nodes: {})", s,
                                                name, fmt::join(names, ", ")));
    }
  }
  return {};
}

std::string format_uptime(std::int64_t s) {
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m {}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h {}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d {}h", s / 86400, (s % 86400) / 3600);
}

std::string alarm_text(const rest::ProbeAlarm& a) {
  return fmt::format("{}{} ({})", a.number ? fmt::format("{} ", *a.number) : std::string(),
                     a.reason, a.state);
}

void print_text(std::ostream& out, const NodeProbe& p) {
  out << fmt::format("{} ({}, SSH {})\n", p.name, p.endpoint, p.ssh);
  auto row = [&out](const char* key, const std::string& value) {
    out << fmt::format("  {:<13}{}\n", key, value);
  };
  if (!p.version.empty() || !p.product_line.empty()) {
    std::string product = p.product == node::Product::kUnknown
                              ? std::string("unknown product")
                              : std::string(node::product_name(p.product));
    if (!p.product_line.empty()) product += fmt::format(" ({})", p.product_line);
    std::string s = fmt::format("{}, version {}", product, p.version.empty() ? "?" : p.version);
    if (p.uptime_seconds) s += fmt::format(", up {}", format_uptime(*p.uptime_seconds));
    row("product", s);
  } else {
    row("product", "not read");
  }
  if (p.cluster_peers)
    row("cluster",
        fmt::format("{}{}", p.cluster_name.empty() ? "" : fmt::format("\"{}\": ", p.cluster_name),
                    p.cluster_peers->empty()
                        ? std::string("no peers (not clustered)")
                        : fmt::format("{}", fmt::join(*p.cluster_peers, ", "))));
  else
    row("cluster", "not read");
  if (!p.alarms) {
    row("alarms", "not read");
  } else if (p.alarms->empty()) {
    row("alarms", "none");
  } else {
    for (size_t i = 0; i < p.alarms->size(); ++i)
      row(i == 0 ? "alarms" : "", alarm_text((*p.alarms)[i]));
  }
  if (!p.served_chain.empty()) {
    const pki::Certificate& leaf = p.served_chain.front();
    row("certificate", fmt::format("serves CN={} from {}, valid until {}", leaf.subject_cn(),
                                   leaf.issuer_cn(), format_time(leaf.not_after())));
  }
  std::vector<std::string> stored;
  if (p.server_chain_stored)
    stored.push_back(fmt::format("stored chain {} certificate(s)", *p.server_chain_stored));
  if (p.trusted_ca_count) stored.push_back(fmt::format("{} trusted CAs", *p.trusted_ca_count));
  if (p.csr_pending) stored.push_back(*p.csr_pending ? "a CSR is pending" : "no pending CSR");
  if (!stored.empty()) row("stores", fmt::format("{}", fmt::join(stored, ", ")));
  if (p.revocation) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : *p.revocation) parts.push_back(k + " " + v);
    row("revocation", fmt::format("{}", fmt::join(parts, ", ")));
  }
  if (p.acme_managed) row("ACME", "AcmeManaged " + *p.acme_managed);
  if (!p.raml_served) {
    row("/api/raml", "not read");
  } else if (!*p.raml_served) {
    row("/api/raml", "not served (404): the paths below are the reference's, unconfirmed here");
  } else {
    std::vector<std::string> missing;
    for (const auto& [path, listed] : p.raml_paths)
      if (!listed) missing.push_back(path);
    row("/api/raml",
        missing.empty()
            ? fmt::format("served; lists all {} REST paths edgecert uses", p.raml_paths.size())
            : fmt::format("served; does not list {}", fmt::join(missing, ", ")));
  }
  std::vector<std::string> states;
  for (const rest::InterfaceProbe& ip : p.interfaces)
    states.push_back(fmt::format("{} {}", rest::probe_interface_label(ip.interface),
                                 !ip.allowed     ? "not allowed"
                                 : ip.answered() ? "answered"
                                                 : "FAILED"));
  row("interfaces", fmt::format("{}", fmt::join(states, ", ")));
  for (const rest::InterfaceProbe& ip : p.interfaces)
    for (const Error& e : ip.errors) out << "    error: " << e.message << "\n";
  out << "  operations:\n";
  for (const rest::OperationSupport& op : p.operations) {
    out << fmt::format("    {:<15}{:<5}{}\n", rest::operation_mode_name(op.mode),
                       op.interface ? rest::probe_interface_label(*op.interface) : "-", op.title);
    if (!op.how.empty()) out << fmt::format("{:<24}{}\n", "", op.how);
    if (!op.verify.empty()) out << fmt::format("{:<24}check: {}\n", "", op.verify);
    if (!op.note.empty()) out << fmt::format("{:<24}note: {}\n", "", op.note);
  }
  for (const std::string& n : p.notes) out << "  note: " << n << "\n";
}

nlohmann::json to_json(const NodeProbe& p) {
  using nlohmann::json;
  json j{{"name", p.name},
         {"endpoint", p.endpoint},
         {"ssh", p.ssh},
         {"answered", p.answered()},
         {"product", node::product_name(p.product)},
         {"product_type", p.product_type},
         {"product_line", p.product_line},
         {"version", p.version.empty() ? json() : json(p.version)},
         {"uptime_seconds", p.uptime_seconds ? json(*p.uptime_seconds) : json()}};
  j["cluster"] =
      p.cluster_peers ? json{{"name", p.cluster_name}, {"peers", *p.cluster_peers}} : json();
  if (p.alarms) {
    j["alarms"] = json::array();
    for (const rest::ProbeAlarm& a : *p.alarms)
      j["alarms"].push_back({{"number", a.number ? json(*a.number) : json()},
                             {"reason", a.reason},
                             {"state", a.state},
                             {"id", a.id}});
  } else {
    j["alarms"] = json();
  }
  if (!p.served_chain.empty()) {
    const pki::Certificate& leaf = p.served_chain.front();
    j["served_certificate"] = {{"subject", leaf.subject()},
                               {"issuer", leaf.issuer()},
                               {"not_after", format_time_iso(leaf.not_after())},
                               {"sha256", leaf.sha256_fingerprint()}};
  } else {
    j["served_certificate"] = json();
  }
  j["stored_chain_certificates"] = p.server_chain_stored ? json(*p.server_chain_stored) : json();
  j["trusted_ca_count"] = p.trusted_ca_count ? json(*p.trusted_ca_count) : json();
  j["csr_pending"] = p.csr_pending ? json(*p.csr_pending) : json();
  if (p.revocation) {
    j["revocation_checking"] = json::object();
    for (const auto& [k, v] : *p.revocation) j["revocation_checking"][k] = v;
  } else {
    j["revocation_checking"] = json();
  }
  j["acme_managed"] = p.acme_managed ? json(*p.acme_managed) : json();
  json raml_paths = json::object();
  for (const auto& [path, listed] : p.raml_paths) raml_paths[path] = listed;
  j["raml"] = {{"served", p.raml_served ? json(*p.raml_served) : json()}, {"paths", raml_paths}};
  j["interfaces"] = json::object();
  for (const rest::InterfaceProbe& ip : p.interfaces) {
    json errors = json::array();
    for (const Error& e : ip.errors) errors.push_back(e.message);
    j["interfaces"][rest::probe_interface_id(ip.interface)] = {{"allowed", ip.allowed},
                                                               {"answered", ip.answered()},
                                                               {"calls", ip.calls},
                                                               {"errors", errors}};
  }
  j["operations"] = json::array();
  for (const rest::OperationSupport& op : p.operations)
    j["operations"].push_back(
        {{"id", op.id},
         {"title", op.title},
         {"mode", rest::operation_mode_name(op.mode)},
         {"interface", op.interface ? json(rest::probe_interface_id(*op.interface)) : json()},
         {"how", op.how},
         {"verify", op.verify},
         {"note", op.note}});
  j["notes"] = p.notes;
  return j;
}

// A node that is not the product the spec names: plan and apply refuse it,
// so say so now.
void note_spec_product(spec::Product wanted, NodeProbe& p) {
  const node::Product expected = wanted == spec::Product::kExpresswayC
                                     ? node::Product::kExpresswayC
                                     : node::Product::kExpresswayE;
  if (p.product != node::Product::kUnknown && p.product != expected)
    p.notes.push_back(
        fmt::format("the spec says product {}, but this node is an {}: plan and "
                    "apply will refuse it",
                    spec::product_name(wanted), node::product_name(p.product)));
}

// The nodes to probe and how to reach them, from the options (and the spec
// with --spec). Spec diagnostics are printed on ctx.err.
Result<std::vector<Planned>> plan_probe_targets(const ProbeOptions& o, CliContext& ctx,
                                                rest::ProbeAccess& access,
                                                std::vector<std::string>& notes) {
  std::vector<Planned> nodes;
  std::vector<std::string> hosts;  // each node's endpoint host, for --ssh HOST=...
  std::string username = o.username;
  std::string password_from = o.password_from;
  std::string ca_bundle = o.ca_bundle;
  std::string known_hosts = o.known_hosts;
  std::vector<ProbeInterface> interfaces(std::begin(rest::kAllProbeInterfaces),
                                         std::end(rest::kAllProbeInterfaces));
  if (!o.spec.empty()) {
    schema::LoadResult loaded = schema::load_spec_file(o.spec, ctx.env);
    for (const Diagnostic& d : loaded.diagnostics.sorted()) ctx.err << d.to_string() << "\n";
    if (!loaded.ok())
      return Error::InvalidArgument(fmt::format("--spec {}: the spec has errors (above)", o.spec));
    const spec::Spec& spec = *loaded.spec;
    if (spec.access) {
      if (username.empty()) username = spec.access->username;
      if (password_from.empty()) password_from = spec.access->password_from;
      if (ca_bundle.empty() && spec.access->ca_bundle) ca_bundle = *spec.access->ca_bundle;
      if (known_hosts.empty()) known_hosts = spec.access->known_hosts;
      interfaces = spec.access->interfaces;
    }
    // The provider's default, so probe and apply pin keys in one file.
    if (known_hosts.empty()) known_hosts = path_join(spec.directory, ".edgecert/known_hosts");
    std::vector<std::string> unused = o.endpoints;
    for (const spec::Peer& peer : spec.peers) {
      auto asked = std::find_if(unused.begin(), unused.end(), [&](const std::string& e) {
        return e == peer.name || e == peer.endpoint;
      });
      bool selected = o.endpoints.empty() || asked != unused.end();
      if (asked != unused.end()) unused.erase(asked);
      if (!selected) continue;
      auto ep = rest::parse_https_endpoint(peer.endpoint);
      if (!ep) {
        if (!o.endpoints.empty())
          return Error::InvalidArgument(
              fmt::format("peer {}: endpoint {} is not https://: probe talks to real nodes",
                          peer.name, peer.endpoint));
        notes.push_back(fmt::format("peer {} skipped: {} is not an https:// endpoint", peer.name,
                                    peer.endpoint));
        continue;
      }
      Planned n;
      n.target.name = peer.name;
      n.target.endpoint = peer.endpoint;
      n.target.ssh = peer.ssh_host.empty() ? fmt::format("{}:22", ep->host)
                                           : fmt::format("{}:{}", peer.ssh_host, peer.ssh_port);
      n.server_name = peer.fqdn;
      n.spec_product = spec.product;
      nodes.push_back(std::move(n));
      hosts.push_back(ep->host);
    }
    if (!unused.empty())
      return Error::InvalidArgument(
          fmt::format("--spec {}: no peer is called or at {}", o.spec, fmt::join(unused, ", ")));
    if (nodes.empty())
      return Error::InvalidArgument(
          fmt::format("--spec {}: no peer has an https:// endpoint to probe", o.spec));
  } else {
    if (o.endpoints.empty())
      return Error::InvalidArgument("give at least one ENDPOINT (https://HOST[:PORT]) or --spec");
    for (const std::string& e : o.endpoints) {
      auto ep = rest::parse_https_endpoint(e);
      if (!ep) return Error::InvalidArgument("ENDPOINT " + ep.error().message);
      Planned n;
      n.target.name = label_of(*ep);
      n.target.endpoint = e;
      n.target.ssh = fmt::format("{}:22", ep->host);
      n.server_name = ep->host;
      nodes.push_back(std::move(n));
      hosts.push_back(ep->host);
    }
    if (known_hosts.empty()) known_hosts = ".edgecert/known_hosts";
  }
  if (!o.interfaces.empty()) {
    auto parsed = parse_interfaces(o.interfaces);
    if (!parsed) return parsed.error();
    interfaces = std::move(*parsed);
  }
  for (Planned& n : nodes) n.target.interfaces = interfaces;
  if (auto st = apply_ssh_options(o.ssh, nodes, hosts); !st) return st.error();
  if (username.empty())
    return Error::InvalidArgument("--username is required (the administrator account)");
  if (password_from.empty())
    return Error::InvalidArgument(
        "--password-from env:VAR or file:PATH is required (a password is never taken on the "
        "command line)");
  if (!password_from.starts_with("env:") && !password_from.starts_with("file:"))
    // Not echoed: a value that is neither may well be the password itself.
    return Error::InvalidArgument(
        "--password-from: expected env:VAR or file:PATH (the value given is not shown: it may "
        "be a password)");
  auto password = node::resolve_password_from(ctx.env, password_from);
  if (!password) return Error::InvalidArgument("--password-from: " + password.error().message);
  access.username = username;
  access.password = std::move(*password);
  access.ca_bundle = ca_bundle;
  access.insecure = o.insecure;
  access.known_hosts_file = known_hosts;
  access.trust_new_host_key = o.trust_new_host_key;
  return nodes;
}

}  // namespace

std::function<int()> setup_probe(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ProbeOptions>();
  app.add_option("ENDPOINT", o->endpoints,
                 "Nodes to probe, https://HOST[:PORT] (with --spec: peer names or endpoints; "
                 "default every https:// peer)");
  app.add_option("--username", o->username, "Administrator account (REST, XML and SSH)");
  app.add_option("--password-from", o->password_from,
                 "Where the password is: env:VAR or file:PATH (never on the command line)");
  app.add_option("--password", o->literal_password, "Refused: use --password-from")->group("");
  app.add_option("--ca-bundle", o->ca_bundle,
                 "PEM file of the CAs that sign the nodes' management certificates (default: "
                 "the system store)");
  app.add_flag("--insecure", o->insecure,
               "Do not verify the nodes' HTTPS certificates (dangerous; warned)");
  app.add_option("--ssh", o->ssh,
                 "SSH address of the CLI, HOST:PORT (default: the endpoint's host, port 22); "
                 "with several nodes NAME=HOST:PORT, or one per node in order (repeatable)");
  app.add_option("--known-hosts", o->known_hosts,
                 "known_hosts file pinning the nodes' SSH host keys (default "
                 ".edgecert/known_hosts in the working folder, or the spec's access.knownHosts)");
  add_trust_new_host_key_option(app, o->trust_new_host_key);
  app.add_option("--interfaces", o->interfaces,
                 "Interfaces to use, comma-separated: rest,xml,cli (default all three, or the "
                 "spec's access.interfaces)");
  app.add_option("--spec", o->spec, "Take access settings and peers from this spec");
  app.add_option("--output,-o", o->output, "Output format")->check(CLI::IsMember({"text", "json"}));

  return [o, &ctx]() -> int {
    InterruptScope interrupts(InterruptScope::Mode::kExit);
    if (!o->literal_password.empty()) {
      ctx.err << "edgecert: error: --password is not accepted: a password on the command line "
                 "ends up in shell history and process lists; use --password-from env:VAR or "
                 "--password-from file:PATH\n";
      return kExitError;
    }
    rest::ProbeAccess access;
    std::vector<std::string> notes;
    auto planned = plan_probe_targets(*o, ctx, access, notes);
    if (!planned) {
      ctx.err << "edgecert: error: " << planned.error().message << "\n";
      return kExitError;
    }
    if (o->insecure)
      ctx.err << "edgecert: warning: --insecure: the nodes' HTTPS certificates are NOT verified; "
                 "anyone on the path can impersonate them and receive the password\n";
    std::vector<NodeProbe> probes;
    for (Planned& n : *planned) {
      access.server_name = n.server_name;
      probes.push_back(rest::probe_node(
          n.target, rest::make_probe_transports(n.target, access, ctx.env), ctx.env.now()));
      if (n.spec_product) note_spec_product(*n.spec_product, probes.back());
    }
    size_t failed = 0;
    for (const NodeProbe& p : probes) failed += p.answered() ? 0 : 1;
    if (o->output == "json") {
      nlohmann::json j{
          {"nodes", nlohmann::json::array()}, {"answered", failed == 0}, {"notes", notes}};
      for (const NodeProbe& p : probes) j["nodes"].push_back(to_json(p));
      ctx.out << j.dump(2) << "\n";
    } else {
      for (size_t i = 0; i < probes.size(); ++i) {
        if (i > 0) ctx.out << "\n";
        print_text(ctx.out, probes[i]);
      }
      for (const std::string& n : notes) ctx.out << "note: " << n << "\n";
    }
    if (failed == 0) return kExitOk;
    ctx.err << fmt::format(
        "edgecert: error: {} of {} node(s) did not answer on every allowed interface (see the "
        "errors above); nothing was changed\n",
        failed, probes.size());
    return kExitError;
  };
}

}  // namespace edgecert
