// PRIVATE to providers/simserver/sim_server*.cpp: NOT part of the contract
// (that is sim_server.h). Nothing else may include this header.
//
// The HTTPS front end is implemented in several files:
// - sim_server.cpp           lifecycle: listeners, threads, the background
//                            ACME scheduler, start/stop
// - sim_server_tls.cpp       each listener's TLS identity (the node's active
//                            certificate, asked of SimNode at every handshake)
// - sim_server_http.cpp      authentication, CSRF, error replies, access log
// - sim_server_routes_certs.cpp     status, certificates, CSR, trusted CAs,
//                                   restart
// - sim_server_routes_settings.cpp  revocation, CRL, TLS verification, ACME
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "providers/sim/sim_node.h"
#include "providers/simserver/sim_server.h"

namespace edgecert::simserver::internal {

// Compares without an early exit, so timing does not reveal a prefix match.
bool same_secret(std::string_view a, std::string_view b);

// One node: its listener, its serialised SimNode access, and the TLS identity
// (the active certificate) cached until SimNode reports another one.
struct NodeServer {
  NodeServer(Env& e, std::string d, NodeListener l)
      : env(e), dir(std::move(d)), listener(std::move(l)) {}
  ~NodeServer();
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  Env& env;
  std::string dir;
  NodeListener listener;
  std::mutex mu;  // serialises SimNode operations and identity refreshes
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  int bound_port = 0;

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

// The appliance's error body: {"Message": text} with `status`.
void send_message(httplib::Response& res, int status, std::string_view text);
// An error reply with rest::status_for's status, or, for an injected
// connection drop, a connection closed without a reply.
void send_error(const httplib::Request& req, httplib::Response& res, const Error& e);
// Whether the multipart form has `field`; a 400 reply otherwise.
bool require_file(const httplib::Request& req, httplib::Response& res, const char* field);

// Authentication, CSRF check, error bodies and access log for `n`'s
// listener, then every resource's routes.
void install_routes(NodeServer& n, const SimServerOptions& options);

// --- Resources (sim_server_routes_*.cpp) --------------------------------------

// What a route handler does with its node: one SimNode call with the node's
// requests serialised, answered like the appliance. Cheap to copy into
// handlers; the NodeServer outlives its listener's handlers.
class NodeRoutes {
 public:
  using Req = const httplib::Request&;
  using Res = httplib::Response&;

  explicit NodeRoutes(NodeServer& node) : node_(&node) {}

  // Runs `call(sim)`; a successful result goes to `on_ok` (value, or true
  // for a Status), an error to send_error.
  template <class Call, class OnOk>
  void run(Req req, Res res, Call&& call, OnOk&& on_ok) const {
    std::lock_guard lock(node_->mu);
    sim::SimNode sim = node_->sim();
    auto r = call(sim);
    if (!r) return send_error(req, res, r.error());
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
  // An action answered by 200 {"Message": ok_text}.
  template <class Call>
  void confirm(Req req, Res res, const char* ok_text, Call&& call) const {
    run(req, res, call, [&](auto) { send_message(res, 200, ok_text); });
  }
  // An action whose argument is the JSON body decoded by `decode` (a 400
  // reply with the decoder's message when it does not decode).
  template <class Decode, class Call>
  void confirm_decoded(Req req, Res res, Decode&& decode, const char* ok_text, Call&& call) const {
    auto arg = decode(req.body);
    if (!arg) return send_message(res, 400, arg.error().message);
    confirm(req, res, ok_text, [&](sim::SimNode& sim) { return call(sim, *arg); });
  }

 private:
  NodeServer* node_;
};

void install_certificate_routes(httplib::SSLServer& s, NodeRoutes r);
void install_settings_routes(httplib::SSLServer& s, NodeRoutes r);

}  // namespace edgecert::simserver::internal
