// The edgecert-sim HTTPS front end: serves simulator nodes (sim_node.h) over
// the Expressway REST API as edgecert speaks it (providers/rest/rest_api.h,
// docs/rest-mapping.md), one loopback listener per node.
//
// Like the appliance's admin interface:
// - Every request needs HTTP Basic auth (401 otherwise) and every
//   POST/PUT/DELETE the `X-CSRF-Header` (403 otherwise); errors are
//   {"Message": "..."} with the status of rest::status_for (400, 404, 409,
//   503 while restarting or on an injected failure, 500).
// - Each listener presents its node's ACTIVE server certificate, chain and
//   key, looked up at every TLS handshake, so a new certificate is served as
//   soon as a restart has activated it.
// - Faults come from the node file (SimNode applies latency and failure rate
//   itself); an injected connection drop closes the connection without a
//   reply.
// - The ACME service: an ACME deploy changes the active certificate, so the
//   next handshake presents it without a restart; a background thread runs
//   every node's ACME scheduler (automated mode) every scheduler_interval.
//
// Requests to one node are serialised (SimNode is not thread-safe and its
// file is read-modify-write); nodes are independent.
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
  std::string fqdn;  // used when the node boots for the first time
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port (see SimServer::start)
};

struct SimServerOptions {
  std::string state_dir;
  std::vector<NodeListener> nodes;
  std::string username = "admin";
  pki::SecretString password;
  // How often every node's ACME scheduler runs in the background
  // (SimNode::run_scheduler); 0 = only when requests arrive.
  std::chrono::milliseconds scheduler_interval{1000};
};

class SimServer {
 public:
  SimServer(Env& env, SimServerOptions options);
  ~SimServer();  // stop()s
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Boots every node that has no file yet, binds every listener and starts
  // serving in background threads. Returns the bound ports in node order.
  Result<std::vector<int>> start();
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
