// A read-only look at one Expressway node over each of its interfaces, for
// `edgecert probe` (the first command an operator runs against a real node):
// what the node says it is, what it shows, and for every operation edgecert
// may plan whether it will be automated here (over which interface) or a
// manual step. docs/expressway-interfaces.md is the page behind it.
//
// Built on the lower layers directly (http::Transport for REST and the XML
// status documents, ssh::Transport for the CLI, providers/wire for every
// shape), not on the NodeProvider: a probe must report each interface on its
// own, and go on after one of them fails.
//
// Contract:
// - Read-only. Over HTTPS only GET requests (the REST reads, /api/raml, the
//   XML documents); over SSH only `xStatus`, `xConfiguration` without a value
//   and the `xCommand ACME ... Read` commands. Nothing is ever written to the
//   node. (Recording a new SSH host key is a local file write, done by the
//   ssh transport only when the caller allowed it.)
// - Every interface that is allowed is tried; a failure of one is recorded
//   against it and the others still run. A connection-level failure (cannot
//   connect, TLS, host key, login) ends that interface's calls; a bad reply
//   to one call is recorded and the next call is still made.
// - Each failure reads "<node>: <INTERFACE> <request> (<operation>):
//   <reason>", e.g. "edge1: REST GET /api/provisioning/certs/root (read
//   trusted CAs): HTTP 401 Unauthorized" or "edge1: SSH xStatus SystemUnit
//   (read product and version): ...". No password ever appears.
// - NodeProbe::answered(): every allowed interface answered every call it
//   was asked (an `ERROR` reply or a 404 the node uses to say "none" is an
//   answer).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/error.h"
#include "providers/http/http_client.h"
#include "providers/node/node.h"
#include "providers/ssh/ssh_client.h"
#include "schema/spec.h"

namespace edgecert::rest {

// The three interfaces a real node offers edgecert: the spec's own enum
// (access.interfaces spells them rest, xml, cli).
using ProbeInterface = spec::Interface;
inline constexpr ProbeInterface kAllProbeInterfaces[] = {
    ProbeInterface::kRest, ProbeInterface::kXml, ProbeInterface::kCli};
// "rest", "xml", "cli" (options, JSON; spec::kInterfaceNames).
const char* probe_interface_id(ProbeInterface i);
// "REST", "XML", "SSH" (messages: the CLI is reached over SSH).
const char* probe_interface_label(ProbeInterface i);
// From "rest" / "xml" / "cli" (case-insensitive); kInvalidArgument otherwise.
Result<ProbeInterface> parse_probe_interface(std::string_view text);

// What to probe and how to reach it.
struct ProbeTarget {
  std::string name;      // in messages: a peer name, or the endpoint's host[:port]
  std::string endpoint;  // "https://HOST[:PORT]"
  std::string ssh;       // "HOST:PORT" of the CLI
  std::vector<ProbeInterface> interfaces{std::begin(kAllProbeInterfaces),
                                         std::end(kAllProbeInterfaces)};  // allowed
};

// The transports to use; null for an interface that is not allowed or whose
// transport could not be made (then `http_error` / `ssh_error` says why and
// is reported against the interfaces that needed it).
struct ProbeTransports {
  std::unique_ptr<http::Transport> http;  // REST and XML share the HTTPS connection
  std::optional<Error> http_error;
  std::unique_ptr<ssh::Transport> ssh;
  std::optional<Error> ssh_error;
};

struct ProbeAlarm {
  std::optional<int> number;  // the alarm number the Reason stands for, when known
  std::string reason;         // "Title - Description"
  std::string state;          // "Unacknowledged" | "Acknowledged"
  std::string id;             // the node's UUID for it
};

// One interface's outcome.
struct InterfaceProbe {
  ProbeInterface interface = ProbeInterface::kRest;
  bool allowed = true;
  bool tried = false;              // at least one call was made
  std::vector<std::string> calls;  // what was asked, in order ("GET /api/raml")
  std::vector<Error> errors;       // messages as in the contract above
  bool answered() const { return !allowed || (tried && errors.empty()); }
};

// How an operation edgecert may plan would be carried out on this node.
enum class OperationMode {
  kAutomated,      // edgecert does it over `interface`
  kManual,         // a manual step (web UI) in the plan
  kUnavailable,    // needs an interface that is not allowed or did not answer
  kNotApplicable,  // not on this product (ACME on an Expressway-C)
};
const char* operation_mode_name(OperationMode m);  // "automated", "manual", ...

struct OperationSupport {
  std::string id;     // "generate-csr" (stable; JSON)
  std::string title;  // "generate a CSR on the node"
  OperationMode mode = OperationMode::kAutomated;
  std::optional<ProbeInterface> interface;  // automated: the interface used
  std::string how;     // "POST /api/provisioning/certs/generate_csr", a command or a web UI page
  std::string verify;  // manual: how edgecert checks the step afterwards
  std::string note;    // why unavailable / not applicable, a release the feature needs, ...
};

// What the probe learnt. Fields stay empty when no interface told.
struct NodeProbe {
  std::string name;
  std::string endpoint;
  std::string ssh;
  node::Product product = node::Product::kUnknown;
  std::string product_type;  // as the node spells it ("Expressway-E"), "" when not shown
  std::string product_line;  // SystemUnit Product ("TANDBERG VCS")
  std::string version;       // "X15.0.2"
  std::optional<std::int64_t> uptime_seconds;
  std::string cluster_name;
  std::optional<std::vector<std::string>> cluster_peers;  // the node's own view
  std::optional<std::vector<ProbeAlarm>> alarms;
  // The certificate the HTTPS interface presented (leaf first), when REST or
  // XML got through a handshake.
  std::vector<pki::Certificate> served_chain;
  std::optional<int> server_chain_stored;  // certificates in GET certs/server
  std::optional<int> trusted_ca_count;     // certificates in GET certs/root
  std::optional<bool> csr_pending;         // GET generate_csr: PEM (true) or 404 (false)
  // `xConfiguration SIP TLS Certificate Revocation Checking`: leaf -> value
  // ("Mode" -> "On"), as the node printed them.
  std::optional<std::vector<std::pair<std::string, std::string>>> revocation;
  std::optional<std::string> acme_managed;  // `xCommand ACME Settings Read` AcmeManaged
  // /api/raml: nullopt = not asked (REST not allowed or failed before);
  // false = not served (404, or not RAML).
  std::optional<bool> raml_served;
  std::vector<std::pair<std::string, bool>> raml_paths;  // edgecert's REST path -> listed
  std::vector<InterfaceProbe> interfaces;                // rest, xml, cli
  std::vector<OperationSupport> operations;
  std::vector<std::string> notes;  // disagreements, release warnings (for a person)

  bool answered() const;
  const InterfaceProbe& interface(ProbeInterface i) const;
  InterfaceProbe& interface(ProbeInterface i);
};

// The HTTPS paths of the interface reference (§2, §3.2), as the probe names
// them. Its own (in a namespace of their own): the probe reports on a node,
// it does not drive one; docs/expressway-interfaces.md lists the same rows.
namespace probe_paths {
inline constexpr const char* kRaml = "/api/raml";
inline constexpr const char* kServerCert = "/api/provisioning/certs/server";
inline constexpr const char* kRootCerts = "/api/provisioning/certs/root";
inline constexpr const char* kGenerateCsr = "/api/provisioning/certs/generate_csr";
inline constexpr const char* kRevocation = "/api/provisioning/common/protocol/sip/certrevokecheck";
inline constexpr const char* kAcmePending = "/api/provisioning/certs/acme/pendingcert";
inline constexpr const char* kAcmeDeploy = "/api/provisioning/certs/acme/pendingcert/deploy";
inline constexpr const char* kRestart = "/api/provisioning/restart";
}  // namespace probe_paths

// The REST paths edgecert uses (docs/expressway-interfaces.md), in a stable
// order; the probe reports which of them /api/raml lists.
const std::vector<std::string>& rest_paths_used();

// The resource paths a RAML 0.8 document declares, made absolute from its
// nesting ("/provisioning:" then "  /certs:" gives "/provisioning/certs").
std::vector<std::string> raml_resource_paths(std::string_view raml);
// Whether `path` ("/api/provisioning/certs/server") is among `declared`: a
// declared path equals it, or its part after /api, or ends in that part at
// a segment boundary (a version prefix such as /api/v1 or the baseUri's own
// /api is allowed before it).
bool raml_lists(const std::vector<std::string>& declared, std::string_view path);

// For every operation edgecert may plan, how it goes on the node `probe`
// describes: automated over the first of its interfaces (primary, then the
// reference's alternative) that is allowed and answered; manual for what no
// interface offers (the reference's §4), with how edgecert verifies it;
// unavailable when every interface it needs is disallowed or failed; not
// applicable for ACME on an Expressway-C. Notes name releases a feature
// needs when the node runs an older one, and REST paths /api/raml does not
// list.
std::vector<OperationSupport> plan_operations(const NodeProbe& probe);

// Probes one node. Null transports stand for interfaces that cannot be used
// (see ProbeTransports). `now` dates nothing; it is only passed to notes
// about the served certificate's validity.
NodeProbe probe_node(const ProbeTarget& target, ProbeTransports transports, TimePoint now);

// What a probe needs to reach a node for real.
struct ProbeAccess {
  std::string username;
  pki::SecretString password;
  // TLS: the name the node's certificate must carry (the peer FQDN; "" = the
  // endpoint's host), a CA bundle file ("" = the system store) or insecure.
  std::string server_name;
  std::string ca_bundle;
  bool insecure = false;
  std::string known_hosts_file;
  bool trust_new_host_key = false;
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds request_timeout{30};
};

// libcurl and libssh transports for `target` (each only when an interface
// that needs it is allowed; a transport that cannot be made is recorded in
// the *_error field, never an exception). `env` does the known_hosts I/O.
ProbeTransports make_probe_transports(const ProbeTarget& target, const ProbeAccess& access,
                                      Env& env);

// "HOST:PORT" -> host, port; kInvalidArgument naming `what` otherwise.
struct HostPort {
  std::string host;
  int port = 0;
};
Result<HostPort> parse_host_port(std::string_view text, std::string_view what);

}  // namespace edgecert::rest
