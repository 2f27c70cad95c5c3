// PRIVATE to providers/simserver/sim_server*.cpp: NOT part of the contract
// (that is sim_server.h). Nothing else may include this header.
//
// The front end is implemented in several files:
// - sim_server.cpp                lifecycle: listeners (opened, closed while a
//                                 node restarts, reopened), threads, the
//                                 background ACME scheduler, start/stop
// - sim_server_tls.cpp            each listener's TLS identity (the node's
//                                 active certificate, asked of SimNode at
//                                 every handshake)
// - sim_server_http.cpp           authentication, CSRF, error replies,
//                                 unrecognised requests, access log
// - sim_server_routes_rest.cpp    REST under /api/provisioning (§3.2)
// - sim_server_routes_xml.cpp     XML status and alternates (§3.3)
// - sim_server_cli.cpp            the CLI over SSH (§3.4)
//                                 resources, removed once the new provider lands
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "providers/sim/sim_node.h"
#include "providers/simserver/sim_server.h"
#include "providers/ssh/ssh_server.h"

namespace edgecert::simserver::internal {

// Compares without an early exit, so timing does not reveal a prefix match.
bool same_secret(std::string_view a, std::string_view b);

// What every node's listeners share: the options, the record of
// unrecognised requests, and the supervisor's wake-up.
struct ServerShared {
  explicit ServerShared(const SimServerOptions& o) : options(o) {}
  const SimServerOptions& options;
  mutable std::mutex mu;
  std::vector<std::string> unrecognised;  // guarded by mu
  std::function<void()> wake_supervisor;  // a node accepted a restart

  // Logs "edgecert-sim: NODE: unrecognised WHAT -> REPLY" and keeps "NODE: WHAT".
  void record_unrecognised(const std::string& node, const std::string& what,
                           const std::string& reply);
  // The default cluster view: every node's FQDN, in node order.
  std::vector<std::string> default_peers() const;
};

// An HTTPS listener closed while its node restarts, joined once its last
// keep-alive connection has ended.
struct RetiredListener {
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done;
};

// One node: its listeners, its serialised SimNode access, and the TLS
// identity (the active certificate) cached until SimNode reports another one.
struct NodeServer {
  NodeServer(Env& e, std::string d, NodeListener l, ServerShared& s)
      : env(e), dir(std::move(d)), listener(std::move(l)), shared(s) {}
  ~NodeServer();
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  Env& env;
  std::string dir;
  NodeListener listener;
  ServerShared& shared;
  std::mutex mu;  // serialises SimNode operations and identity refreshes

  // Listeners, guarded by the SimServer's lifecycle mutex.
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> thread_done;
  std::vector<RetiredListener> retired;
  std::unique_ptr<ssh::Server> ssh;
  bool listening = false;
  // When the supervisor first saw the node down (sim_server.cpp: it closes
  // the listeners a moment later).
  std::optional<std::chrono::steady_clock::time_point> down_seen;
  int bound_port = 0;
  int bound_ssh_port = 0;
  std::string ssh_fingerprint;

  // Cached TLS identity, guarded by mu.
  std::vector<std::string> chain_pems;
  pki::SecretString key_pem;
  std::vector<X509*> certs;  // leaf first
  EVP_PKEY* key = nullptr;

  sim::SimNode sim() { return sim::SimNode(env, dir, listener.name, listener.fqdn); }

  // Brings the cached identity up to SimNode::tls_identity(). Call with mu
  // held. False when there is no usable identity at all (none cached and
  // none to be had); a failed refresh keeps serving the cached one.
  bool refresh_identity();
  // OpenSSL certificate callback (SSL_CTX_set_cert_cb, arg = the
  // NodeServer): runs at every handshake on this listener.
  static int cert_callback(SSL* ssl, void* arg);
};

// --- Replies (sim_server_http.cpp) --------------------------------------------

// {"Message": text} with `status`.
void send_message(httplib::Response& res, int status, std::string_view text);
// The reason phrase of an HTTP status ("Not Found").
const char* reason_phrase(int status);
// An error reply: the status for e.code (400, 404, 409, 503, 500) and
// Message "<reason phrase>: <the node's wording>" ("Not Found" and "Conflict"
// alone); for an injected connection drop, a connection closed without a
// reply.
void send_error(const httplib::Request& req, httplib::Response& res, const Error& e);
// Closes the request's connection without a reply when `e` is an injected
// connection drop; false otherwise.
bool drop_connection_for(const httplib::Request& req, httplib::Response& res, const Error& e);
// The reply to a request the simulator does not recognise: 404
// {"Message":"Not Found"}, logged and recorded (ServerShared).
void reply_unrecognised(NodeServer& n, const httplib::Request& req, httplib::Response& res);
// A PEM document reply (text/plain).
void send_pem(httplib::Response& res, const std::string& pem);

// Authentication, CSRF check, error bodies and access log for `n`'s
// listener, then every interface's routes, then the catch-all for
// unrecognised requests.
void install_routes(NodeServer& n);

// --- Resources -----------------------------------------------------------------

// What a route handler does with its node: one SimNode call with the node's
// requests serialised, answered like the appliance. Cheap to copy into
// handlers; the NodeServer outlives its listener's handlers.
class NodeRoutes {
 public:
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  using ErrorSender = void (*)(Req, Res, const Error&);

  explicit NodeRoutes(NodeServer& node, ErrorSender on_error = &send_error)
      : node_(&node), on_error_(on_error) {}

  NodeServer& node() const { return *node_; }

  // Runs `call(sim)`; a successful result goes to `on_ok` (value, or true
  // for a Status), an error to the error sender.
  template <class Call, class OnOk>
  void run(Req req, Res res, Call&& call, OnOk&& on_ok) const {
    std::lock_guard lock(node_->mu);
    sim::SimNode sim = node_->sim();
    auto r = call(sim);
    if (!r) return on_error_(req, res, r.error());
    if constexpr (std::is_void_v<typename decltype(r)::value_type>) {
      on_ok(true);
    } else {
      on_ok(*r);
    }
  }
  // A GET answered from SimNode::read_state.
  template <class OnOk>
  void state(Req req, Res res, OnOk&& on_ok) const {
    run(
        req, res, [](sim::SimNode& sim) { return sim.read_state(); }, on_ok);
  }

 private:
  NodeServer* node_;
  ErrorSender on_error_;
};

// One alarm as the node raises it: its number and, for 40069, the days left.
struct NodeAlarm {
  int number = 0;
  int days = 0;
};

// What the node reports about itself over XML and the CLI
// (sim_server_routes_xml.cpp says how each part is derived).
struct ApplianceView {
  std::string product_type;  // "Expressway-C" | "Expressway-E"
  std::string version;
  std::int64_t uptime_seconds = 0;
  std::vector<NodeAlarm> alarms;
  std::string cluster_name;
  std::vector<std::string> peers;  // addresses, Peer 1 first
};
// Call with n.mu held (`sim` is n.sim()).
Result<ApplianceView> appliance_view(NodeServer& n, sim::SimNode& sim);

// One route: method, path pattern, handler.
struct Route {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;
  httplib::Server::Handler handler;
};
// Routes collected before they are registered (httplib's spelling).
struct RouteTable {
  std::vector<Route> routes;
  void Get(std::string p, httplib::Server::Handler h) { routes.push_back({"GET", p, h}); }
  void Post(std::string p, httplib::Server::Handler h) { routes.push_back({"POST", p, h}); }
  void Put(std::string p, httplib::Server::Handler h) { routes.push_back({"PUT", p, h}); }
  void Delete(std::string p, httplib::Server::Handler h) { routes.push_back({"DELETE", p, h}); }
};
// Registers `route` on `s` (routes match in registration order).
void add_route(httplib::SSLServer& s, const Route& route);

// The REST API's routes (sim_server_routes_rest.cpp), and their registration.
std::vector<Route> rest_routes(NodeRoutes r);
void install_rest_routes(httplib::SSLServer& s, NodeRoutes r);
void install_xml_routes(httplib::SSLServer& s, NodeRoutes r);

// The CLI over SSH: one command line in, its XACLI reply out (thread-safe:
// serialised on the node like an HTTP request).
ssh::Reply handle_cli_command(NodeServer& n, const std::string& line);
// The banner a CLI session opens with (reference §3.4).
std::string cli_banner(NodeServer& n);

}  // namespace edgecert::simserver::internal
