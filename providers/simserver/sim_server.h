// The edgecert-sim front end: serves simulator nodes (sim_node.h) over the
// interfaces a real Expressway X14.2+/X15 offers, exactly as the interface
// reference (../shared/reference/expressway-interfaces.md, §3) describes
// them, so the https:// provider can be proven against it:
// - REST under /api/provisioning (§3.2): certs/server, certs/root,
//   certs/generate_csr, restart, common/protocol/sip/certrevokecheck,
//   certs/acme/pendingcert[/deploy], and GET /api/raml listing those paths;
// - XML over HTTPS (§3.3): /status.xml, /getxml?location=/Status/SystemUnit
//   and /Status/Warnings (XPathError for other locations),
//   /alternatesconfiguration.xml;
// - the CLI over SSH (§3.4, NodeListener::ssh_port): xStatus SystemUnit,
//   xConfiguration Alternates and SIP TLS Certificate Revocation Checking,
//   the xCommand ACME family, xCommand Restart.
// One HTTPS listener (and optionally one SSH listener) per node.
//
// Like the appliance:
// - Every HTTP request needs HTTP Basic auth: 401 {"Message":"Unauthorized"}
//   otherwise. The POSTs the reference's CSRF list names (restart,
//   certs/acme/pendingcert[/deploy], ...) need `X-CSRF-Header`: 403
//   {"Message":"Forbidden"} without it. Errors are {"Message": ...} carrying
//   the reason phrase (400 "Bad Request: <why>", 404 "Not Found", 409
//   "Conflict", 503 "Service Unavailable: <why>"); PEM replies are text/plain,
//   XML text/xml. SSH logs in with the same user and password.
// - Each HTTPS listener presents its node's ACTIVE certificate, chain and
//   key, looked up at every TLS handshake (a restart or an ACME deploy is
//   served from the next handshake on).
// - Restarting: with refuse_connections_while_restarting (the default) the
//   node's HTTPS and SSH listeners close while the node is down (a quarter of
//   a second after the supervisor first sees it down, so the reply to the
//   restart request reaches the client) and reopen on the same ports when its
//   restart time is up, with a fresh uptime (a
//   supervisor thread watches every node file, SimNode::restart_phase, about
//   every restart_poll_interval of real time); otherwise the listeners stay
//   open and answer 503 while the node restarts. Requests on a keep-alive
//   connection made before the restart may still get a 503 for up to 2 s.
// - Every request the simulator does not recognise (an unknown path or
//   method, a getxml location it does not serve, an unknown CLI command) is
//   answered 404 (XPathError, "Unknown command"), logged on stderr
//   ("edgecert-sim: edge1: unrecognised GET /x -> 404") and kept in
//   unrecognised_requests(), so contract tests can fail when a client made
//   one.
// - The node's cluster view (alternatesconfiguration.xml, xConfiguration
//   Alternates): the peer list the node file holds (SimNode::set_cluster_peers)
//   or else the FQDNs of every node this server serves, in node order; the
//   cluster name is cluster_name. A node without a product is served as
//   Expressway-E.
// - Faults come from the node file (SimNode applies latency and failure
//   rate itself); an injected connection drop closes the connection (HTTPS)
//   or drops the SSH session mid-reply.
// - The ACME service: a background thread runs every node's ACME scheduler
//   (automated mode) every scheduler_interval.
//
// Requests to one node are serialised (SimNode is not thread-safe); nodes
// are independent. Node files are re-read per request, so `edgecert-sim ui`
// may change them while the server runs.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/pki/key.h"

namespace edgecert::simserver {

struct NodeListener {
  std::string name;  // node file name ([a-z0-9-]+)
  std::string fqdn;  // first boot; the CSR's default CommonName; the default peer list
  std::string host = "127.0.0.1";
  int port = 0;       // 0 = any free port (see SimServer::start)
  int ssh_port = -1;  // -1 = no SSH listener; 0 = any free port
  std::string ssh_host = "127.0.0.1";
};

struct SimServerOptions {
  std::string state_dir;
  std::vector<NodeListener> nodes;
  std::string username = "admin";
  pki::SecretString password;
  std::string cluster_name = "cluster";
  // How often every node's ACME scheduler runs in the background
  // (SimNode::run_scheduler); 0 = only when requests arrive.
  std::chrono::milliseconds scheduler_interval{1000};
  // See "Restarting" above. Turn it off for a client on a virtual clock: the
  // supervisor reopens listeners on real time only.
  bool refuse_connections_while_restarting = true;
  std::chrono::milliseconds restart_poll_interval{20};
};

class SimServer {
 public:
  SimServer(Env& env, SimServerOptions options);
  ~SimServer();  // stop()s
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Boots every node that has no file yet, binds every listener (an SSH
  // host key `<state_dir>/<NAME>.ssh_host_key`, 0600, is generated on first
  // start) and starts serving in background threads. Returns the bound HTTPS
  // ports in node order.
  Result<std::vector<int>> start();
  // The bound SSH ports in node order (0 for a node without SSH).
  std::vector<int> ssh_ports() const;
  // "SHA256:..." of each node's SSH host key, in node order ("" without SSH).
  std::vector<std::string> ssh_host_key_fingerprints() const;
  // Every request not recognised so far, in arrival order:
  // "edge1: GET /api/provisioning/nothing", "edge1: GET /getxml?location=/X",
  // "edge1: SSH xStatus Nothing".
  std::vector<std::string> unrecognised_requests() const;
  // Stops every listener and joins its thread. Idempotent.
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// "NAME=VALUE" -> {NAME, VALUE}; kInvalidArgument naming `flag` otherwise.
Result<std::pair<std::string, std::string>> split_assignment(const std::string& flag,
                                                             const std::string& text);

}  // namespace edgecert::simserver
