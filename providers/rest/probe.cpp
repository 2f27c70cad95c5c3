#include "providers/rest/probe.h"

#include <algorithm>
#include <cctype>
#include <type_traits>
#include <utility>

#include <fmt/core.h>

#include "providers/base/time.h"
#include "providers/pki/certificate.h"
#include "providers/rest/cli_settings.h"
#include "providers/rest/node_channels.h"
#include "providers/rest/probe_internal.h"
#include "providers/wire/rest_json.h"
#include "providers/wire/xacli.h"
#include "providers/wire/xml_status.h"

namespace edgecert::rest {
namespace {

using probe_detail::iequals;
using probe_detail::trim;
namespace xacli = wire::xacli;
namespace xml = wire::xml;

namespace paths = probe_paths;

using detail::reason_phrase;

// What a body is, for a message: never the body itself beyond a short,
// printable start (a node's reply holds no secret, but may be a long page).
std::string describe_body(std::string_view body) {
  std::string_view t = trim(body);
  if (t.empty()) return "an empty body";
  std::string start(t.substr(0, 200));
  std::transform(start.begin(), start.end(), start.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (start.find("<html") != std::string::npos || start.find("<!doctype") != std::string::npos)
    return "an HTML page (a login or proxy page?)";
  if (auto m = wire::rest::parse_message(t)) return fmt::format("a JSON message \"{}\"", *m);
  std::string shown;
  for (char c : t.substr(0, 60)) shown += std::isprint(static_cast<unsigned char>(c)) ? c : ' ';
  return fmt::format("\"{}{}\"", shown, t.size() > 60 ? "..." : "");
}

// "HTTP 401 Unauthorized", plus the node's Message when it says more.
std::string status_text(const http::Response& r) {
  std::string text = fmt::format("HTTP {}", r.status);
  if (const char* phrase = reason_phrase(r.status); *phrase) text += fmt::format(" {}", phrase);
  if (auto m = wire::rest::parse_message(r.body); m && !iequals(*m, reason_phrase(r.status)))
    text += fmt::format(": {}", *m);
  else if (!m && !trim(r.body).empty())
    text += fmt::format(": {}", describe_body(r.body));
  return text;
}

// One node's probe in progress.
class Prober {
 public:
  Prober(const ProbeTarget& target, ProbeTransports transports) : t_(std::move(transports)) {
    p_.name = target.name;
    p_.endpoint = target.endpoint;
    p_.ssh = target.ssh;
    for (ProbeInterface i : kAllProbeInterfaces) {
      InterfaceProbe ip;
      ip.interface = i;
      ip.allowed = std::find(target.interfaces.begin(), target.interfaces.end(), i) !=
                   target.interfaces.end();
      p_.interfaces.push_back(std::move(ip));
    }
  }

  NodeProbe run(TimePoint now) {
    if (allowed(ProbeInterface::kRest)) probe_rest();
    if (allowed(ProbeInterface::kXml)) probe_xml();
    if (allowed(ProbeInterface::kCli)) probe_cli();
    settle_product();
    check_served_certificate(now);
    return std::move(p_);
  }

 private:
  bool allowed(ProbeInterface i) const { return p_.interface(i).allowed; }

  void fail(ProbeInterface i, std::string_view request, std::string_view operation, ErrorCode code,
            std::string_view reason) {
    p_.interface(i).errors.push_back(
        Error{code, fmt::format("{}: {} {} ({}): {}", p_.name, probe_interface_label(i), request,
                                operation, reason)}
            .at(p_.name, std::string(operation)));
  }

  // --- HTTPS (REST and XML) -------------------------------------------------

  // A GET; the response for any HTTP status, or nullopt after recording a
  // connection-level failure (which also ends the interface: `stop`).
  // How a request is named in messages: "GET /api/..." for REST, the
  // document's path for XML (the plan's shared error wording).
  static std::string request_of(ProbeInterface i, const std::string& target) {
    return i == ProbeInterface::kRest ? "GET " + target : target;
  }

  std::optional<http::Response> get(ProbeInterface i, const std::string& target,
                                    const char* operation, bool& stop) {
    InterfaceProbe& ip = p_.interface(i);
    const std::string where = request_of(i, target);
    if (!t_.http) {
      Error e = t_.http_error.value_or(Error::Unavailable("no HTTPS transport"));
      fail(i, where, operation, e.code, e.message);
      stop = true;
      return std::nullopt;
    }
    ip.tried = true;
    ip.calls.push_back("GET " + target);
    http::Request req{.method = "GET", .target = target};
    // Until a handshake has shown the served chain (a capture opens a new
    // connection, so only until then).
    req.capture_peer_chain = p_.served_chain.empty();
    auto r = t_.http->perform(req);
    if (!r) {
      fail(i, where, operation, r.error().code, r.error().message);
      stop = true;
      return std::nullopt;
    }
    if (req.capture_peer_chain) {
      std::string pem;
      for (const std::string& c : r->peer_chain) pem += c;
      if (auto chain = pki::Certificate::parse_all(pem, "the presented chain");
          chain && !pem.empty())
        p_.served_chain = std::move(*chain);
    }
    if (r->status == 401) {
      // Wrong credentials answer every later call the same way.
      fail(i, where, operation, ErrorCode::kPermission,
           status_text(*r) + " (check the user name and password; the account needs API access)");
      stop = true;
      return std::nullopt;
    }
    return std::move(*r);
  }

  // A PEM document (certs/server, certs/root): the certificates in it.
  std::optional<int> get_pem(const std::string& target, const char* operation, bool& stop,
                             bool not_found_is_none = false) {
    auto r = get(ProbeInterface::kRest, target, operation, stop);
    if (!r) return std::nullopt;
    if (not_found_is_none && r->status == 404) return 0;
    if (r->status != 200) {
      fail(ProbeInterface::kRest, "GET " + target, operation,
           detail::code_for_http_status(r->status), status_text(*r));
      return std::nullopt;
    }
    if (trim(r->body).find("-----BEGIN ") != 0) {
      fail(ProbeInterface::kRest, "GET " + target, operation, ErrorCode::kCorrupt,
           "expected PEM, got " + describe_body(r->body));
      return std::nullopt;
    }
    return static_cast<int>(count_pem_blocks(r->body));
  }

  static size_t count_pem_blocks(std::string_view body) {
    size_t n = 0;
    for (size_t at = body.find("-----BEGIN "); at != std::string_view::npos;
         at = body.find("-----BEGIN ", at + 1))
      ++n;
    return n;
  }

  void probe_rest() {
    bool stop = false;
    if (auto n = get_pem(paths::kServerCert, "read server certificate", stop); n)
      p_.server_chain_stored = *n;
    if (stop) return;
    if (auto n = get_pem(paths::kRootCerts, "read trusted CAs", stop); n) p_.trusted_ca_count = *n;
    if (stop) return;
    if (auto n = get_pem(paths::kGenerateCsr, "read pending CSR", stop, true); n)
      p_.csr_pending = *n > 0;
    if (stop) return;
    auto r = get(ProbeInterface::kRest, paths::kRaml, "read the API description", stop);
    if (!r) return;
    if (r->status == 404) {
      p_.raml_served = false;
    } else if (r->status != 200) {
      fail(ProbeInterface::kRest, fmt::format("GET {}", paths::kRaml), "read the API description",
           detail::code_for_http_status(r->status), status_text(*r));
    } else if (!trim(r->body).starts_with("#%RAML")) {
      p_.raml_served = false;
      p_.notes.push_back(fmt::format("GET {} answered 200 with {}, not a RAML document",
                                     paths::kRaml, describe_body(r->body)));
    } else {
      p_.raml_served = true;
      std::vector<std::string> declared = raml_resource_paths(r->body);
      for (const std::string& path : rest_paths_used())
        p_.raml_paths.emplace_back(path, raml_lists(declared, path));
    }
  }

  std::optional<xml::StatusDocument> get_status(const char* target, const char* operation,
                                                bool& stop) {
    auto r = get(ProbeInterface::kXml, target, operation, stop);
    if (!r) return std::nullopt;
    if (r->status != 200) {
      fail(ProbeInterface::kXml, target, operation, detail::code_for_http_status(r->status),
           status_text(*r));
      return std::nullopt;
    }
    auto doc = xml::parse_status(r->body);
    if (!doc) {
      fail(ProbeInterface::kXml, target, operation, doc.error().code, doc.error().message);
      return std::nullopt;
    }
    return std::move(*doc);
  }

  void probe_xml() {
    bool stop = false;
    const char* op = "read product and version";
    if (auto doc = get_status(xml::kSystemUnitPath, op, stop); doc) {
      if (!doc->system_unit) {
        fail(ProbeInterface::kXml, xml::kSystemUnitPath, op, ErrorCode::kCorrupt,
             "the reply has no SystemUnit element");
      } else {
        xml_unit_ = *doc->system_unit;
      }
    }
    if (stop) return;
    if (auto doc = get_status(xml::kWarningsPath, "read alarms", stop); doc) {
      std::vector<ProbeAlarm> alarms;
      for (const xml::Warning& w : doc->warnings.value_or(std::vector<xml::Warning>{}))
        alarms.push_back({xml::alarm_for_reason(w.reason), w.reason, w.state, w.id});
      p_.alarms = std::move(alarms);
    }
    if (stop) return;
    op = "read cluster peers";
    auto r = get(ProbeInterface::kXml, xml::kAlternatesPath, op, stop);
    if (!r) return;
    const std::string request = xml::kAlternatesPath;
    if (r->status != 200) {
      fail(ProbeInterface::kXml, request, op, detail::code_for_http_status(r->status),
           status_text(*r));
      return;
    }
    auto alt = xml::parse_alternates(r->body);
    if (!alt) {
      fail(ProbeInterface::kXml, request, op, alt.error().code, alt.error().message);
      return;
    }
    std::vector<std::string> peers;
    for (const xml::Peer& peer : alt->peers) peers.push_back(peer.address);
    xml_peers_ = std::move(peers);
    xml_cluster_name_ = alt->cluster_name;
  }

  // --- CLI over SSH ------------------------------------------------------------

  std::optional<xacli::Reply> run(const std::string& command, const char* operation, bool& stop) {
    InterfaceProbe& ip = p_.interface(ProbeInterface::kCli);
    ip.tried = true;
    ip.calls.push_back(command);
    auto text = t_.ssh->run(command);
    if (!text) {
      fail(ProbeInterface::kCli, command, operation, text.error().code, text.error().message);
      stop = true;
      return std::nullopt;
    }
    auto reply = xacli::parse_reply(*text, command);
    if (!reply) {
      fail(ProbeInterface::kCli, command, operation, reply.error().code, reply.error().message);
      return std::nullopt;
    }
    return std::move(*reply);
  }

  static std::string reason_of(const xacli::Reply& r) {
    for (const xacli::ResultBlock& b : r.results)
      if (auto v = xacli::field(b.fields, "Reason", "ERROR"); v) return v->text;
    return "ERROR without a reason";
  }

  // A reading command's reply parsed by `parse` (the provider's own readers,
  // cli_settings.h, so the probe reads a node exactly as plan and apply
  // will), or nullopt after recording why not: a transport failure, an
  // unparsable reply, an ERROR answer or a reply `parse` refuses.
  template <class Parse>
  auto read_cli(const std::string& command, const char* operation, bool& stop, Parse parse)
      -> std::optional<typename std::invoke_result_t<Parse, const xacli::Reply&>::value_type> {
    auto reply = run(command, operation, stop);
    if (!reply) return std::nullopt;
    if (!reply->ok) {
      fail(ProbeInterface::kCli, command, operation, ErrorCode::kCorrupt,
           "the node answered ERROR: " + reason_of(*reply));
      return std::nullopt;
    }
    auto parsed = parse(*reply);
    if (!parsed) {
      fail(ProbeInterface::kCli, command, operation, parsed.error().code, parsed.error().message);
      return std::nullopt;
    }
    return std::move(*parsed);
  }

  void cli_system_unit(bool& stop) {
    cli_unit_ = read_cli("xStatus SystemUnit", "read product and version", stop,
                         detail::system_unit_from_reply);
  }

  void cli_alternates(bool& stop) {
    auto alt = read_cli("xConfiguration Alternates", "read cluster peers", stop,
                        detail::alternates_from_reply);
    if (!alt) return;
    std::vector<std::string> peers;
    for (const xml::Peer& peer : alt->peers) peers.push_back(peer.address);
    cli_peers_ = std::move(peers);
    cli_cluster_name_ = alt->cluster_name;
  }

  // Checked as the provider reads it; shown as the node printed it.
  static Result<std::vector<std::pair<std::string, std::string>>> revocation_leaves(
      const xacli::Reply& reply) {
    if (auto typed = detail::revocation_from_reply(reply); !typed) return typed.error();
    constexpr std::string_view kPrefix = "SIP TLS Certificate Revocation Checking ";
    std::vector<std::pair<std::string, std::string>> values;
    for (const xacli::ConfigLine& c : reply.config) {
      std::string_view path = c.path;
      if (path.size() > kPrefix.size() && iequals(path.substr(0, kPrefix.size()), kPrefix))
        path.remove_prefix(kPrefix.size());
      values.emplace_back(std::string(path), c.value.text);
    }
    return values;
  }

  void cli_revocation(bool& stop) {
    p_.revocation = read_cli("xConfiguration SIP TLS Certificate Revocation Checking",
                             "read revocation checking", stop, revocation_leaves);
  }

  void cli_acme(bool& stop) {
    const std::string command = "xCommand ACME Settings Read";
    const char* op = "read ACME settings";
    auto reply = run(command, op, stop);
    if (!reply) return;
    if (!reply->ok) {
      // An answer: the node has no ACME service (or refuses it); say so.
      p_.notes.push_back(
          fmt::format("SSH {}: the node answered ERROR: {}", command, reason_of(*reply)));
      return;
    }
    for (const xacli::ResultBlock& b : reply->results)
      if (auto v = xacli::field(b.fields, "AcmeManaged", command); v) p_.acme_managed = v->text;
    if (!p_.acme_managed)
      fail(ProbeInterface::kCli, command, op, ErrorCode::kCorrupt,
           "the reply has no AcmeManaged field");
  }

  void probe_cli() {
    InterfaceProbe& ip = p_.interface(ProbeInterface::kCli);
    const char* op = "open the CLI session";
    if (!t_.ssh) {
      Error e = t_.ssh_error.value_or(Error::Unavailable("no SSH transport"));
      fail(ProbeInterface::kCli, "login", op, e.code, e.message);
      return;
    }
    ip.tried = true;
    ip.calls.push_back("login");
    if (auto banner = t_.ssh->banner(); !banner) {
      fail(ProbeInterface::kCli, "login", op, banner.error().code, banner.error().message);
      return;
    }
    bool stop = false;
    cli_system_unit(stop);
    if (!stop) cli_alternates(stop);
    if (!stop) cli_revocation(stop);
    // ACME is an Expressway-E service: skip the read where the node says it
    // is a C (from XML or the CLI just now).
    std::string type = xml_unit_product_type();
    if (type.empty() && cli_unit_) type = cli_unit_->product_type;
    if (!stop && detail::product_from_type(type) != node::Product::kExpresswayC) cli_acme(stop);
    t_.ssh->close();
  }

  // --- Merging what the interfaces said ------------------------------------------

  std::string xml_unit_product_type() const {
    return xml_unit_ ? xml_unit_->product_type : std::string();
  }

  void settle_product() {
    if (xml_unit_) {
      p_.product_line = xml_unit_->product;
      p_.product_type = xml_unit_->product_type;
      p_.version = xml_unit_->version;
      p_.uptime_seconds = xml_unit_->uptime_seconds;
    }
    if (cli_unit_) {
      if (p_.product_line.empty()) p_.product_line = cli_unit_->product;
      if (p_.product_type.empty()) p_.product_type = cli_unit_->product_type;
      if (p_.version.empty()) p_.version = cli_unit_->version;
      if (!p_.uptime_seconds) p_.uptime_seconds = cli_unit_->uptime_seconds;
      if (xml_unit_ && xml_unit_->version != cli_unit_->version)
        p_.notes.push_back(fmt::format("XML says version {}, the CLI says {}", xml_unit_->version,
                                       cli_unit_->version));
      if (xml_unit_ && !xml_unit_->product_type.empty() && !cli_unit_->product_type.empty() &&
          !iequals(xml_unit_->product_type, cli_unit_->product_type))
        p_.notes.push_back(fmt::format("XML says product {}, the CLI says {}",
                                       xml_unit_->product_type, cli_unit_->product_type));
    }
    p_.product = detail::product_from_type(p_.product_type);
    if (p_.product == node::Product::kUnknown && (xml_unit_ || cli_unit_)) {
      p_.notes.push_back(
          p_.product_type.empty()
              ? "the node does not show ProductType in SystemUnit: edgecert cannot tell "
                "Expressway-C from Expressway-E here"
              : fmt::format("unknown ProductType '{}' (expected Expressway-C or Expressway-E)",
                            p_.product_type));
    }
    // Peers: the CLI's xConfiguration Alternates is primary, the XML document
    // the alternative.
    if (cli_peers_) {
      p_.cluster_peers = cli_peers_;
      p_.cluster_name = cli_cluster_name_;
      if (xml_peers_ && *xml_peers_ != *cli_peers_)
        p_.notes.push_back(
            fmt::format("the CLI (xConfiguration Alternates) and {} list different cluster peers",
                        xml::kAlternatesPath));
    } else if (xml_peers_) {
      p_.cluster_peers = xml_peers_;
      p_.cluster_name = xml_cluster_name_;
    }
  }

  void check_served_certificate(TimePoint now) {
    if (p_.served_chain.empty()) return;
    const pki::Certificate& leaf = p_.served_chain.front();
    if (leaf.is_expired_at(now))
      p_.notes.push_back(fmt::format("the certificate the node serves expired on {}",
                                     format_time(leaf.not_after())));
  }

  ProbeTransports t_;
  NodeProbe p_;
  std::optional<xml::SystemUnit> xml_unit_;
  std::optional<detail::UnitStatus> cli_unit_;
  std::optional<std::vector<std::string>> xml_peers_, cli_peers_;
  std::string xml_cluster_name_, cli_cluster_name_;
};

}  // namespace

bool NodeProbe::answered() const {
  return std::all_of(interfaces.begin(), interfaces.end(),
                     [](const InterfaceProbe& i) { return i.answered(); });
}

const InterfaceProbe& NodeProbe::interface(ProbeInterface i) const {
  return interfaces.at(static_cast<size_t>(i));
}
InterfaceProbe& NodeProbe::interface(ProbeInterface i) {
  return interfaces.at(static_cast<size_t>(i));
}

NodeProbe probe_node(const ProbeTarget& target, ProbeTransports transports, TimePoint now) {
  NodeProbe p = Prober(target, std::move(transports)).run(now);
  p.operations = plan_operations(p);
  return p;
}

}  // namespace edgecert::rest
