// SimServer's lifecycle: one TLS listener and thread per node, the background
// ACME scheduler, start and stop. The listeners' TLS identity is
// sim_server_tls.cpp; what they answer is sim_server_http.cpp and
// sim_server_routes_*.cpp.
#include "providers/simserver/sim_server.h"

#include <condition_variable>

#include <fmt/core.h>

#include "providers/simserver/sim_server_internal.h"

namespace edgecert::simserver {

using internal::NodeServer;

struct SimServer::Impl {
  Env& env;
  SimServerOptions options;
  std::vector<std::unique_ptr<NodeServer>> nodes;
  bool started = false;

  // The nodes' ACME schedulers (automated mode), run in the background like
  // the appliance's; requests would catch up anyway, this makes a node act
  // while nobody asks it anything.
  std::thread scheduler;
  std::mutex scheduler_mu;
  std::condition_variable scheduler_cv;
  bool stopping = false;

  void run_schedulers() {
    std::unique_lock lock(scheduler_mu);
    while (!stopping) {
      // A condition variable rather than Env::sleep_for: stop() must be able
      // to end the wait at once.
      scheduler_cv.wait_for(lock, options.scheduler_interval, [this] { return stopping; });
      if (stopping) break;
      lock.unlock();
      for (auto& n : nodes) {
        std::lock_guard node_lock(n->mu);
        (void)n->sim().run_scheduler();  // a restarting node catches up later
      }
      lock.lock();
    }
  }

  Impl(Env& e, SimServerOptions o) : env(e), options(std::move(o)) {}
};

SimServer::SimServer(Env& env, SimServerOptions options)
    : impl_(std::make_unique<Impl>(env, std::move(options))) {}

SimServer::~SimServer() {
  stop();
}

Result<std::vector<int>> SimServer::start() {
  Impl& m = *impl_;
  if (m.started) return make_error(ErrorCode::kInternal, "edgecert-sim: already started");
  if (m.options.nodes.empty()) return make_error(ErrorCode::kInvalidArgument, "no --node given");
  std::vector<int> ports;
  for (const NodeListener& l : m.options.nodes) {
    auto n = std::make_unique<NodeServer>(m.env, m.options.state_dir, l);
    if (auto st = n->sim().ensure_booted(); !st)
      return std::unexpected(st.error().with_context(l.name + ": boot"));
    {
      std::lock_guard lock(n->mu);
      if (!n->refresh_identity()) {
        return make_error(ErrorCode::kCorrupt,
                          fmt::format("{}: cannot load the node's server certificate and key "
                                      "from {}",
                                      l.name, n->sim().state_path()));
      }
    }
    NodeServer* np = n.get();
    n->server = std::make_unique<httplib::SSLServer>([np](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_cert_cb(&ctx, &NodeServer::cert_callback, np);
      // No session resumption: a resumed session would skip the certificate
      // callback and show a client the certificate of an earlier handshake.
      SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
      SSL_CTX_set_options(&ctx, SSL_OP_NO_TICKET);
      SSL_CTX_set_num_tickets(&ctx, 0);
      return true;
    });
    // Every idle keep-alive connection holds a worker thread until the
    // keep-alive timeout; several clients per node must not starve each other.
    n->server->new_task_queue = [] { return new httplib::ThreadPool(32); };
    n->server->set_keep_alive_timeout(2);
    // Without it every small reply waits for the client's delayed ACK
    // (Nagle): about 40 ms per request, which a real appliance does not add.
    n->server->set_tcp_nodelay(true);
    if (!n->server->is_valid())
      return make_error(ErrorCode::kInternal, l.name + ": cannot create the TLS server");
    internal::install_routes(*n, m.options);
    int port = l.port == 0 ? n->server->bind_to_any_port(l.host)
                           : (n->server->bind_to_port(l.host, l.port) ? l.port : -1);
    if (port <= 0) {
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("{}: cannot listen on {}:{}", l.name, l.host, l.port));
    }
    n->bound_port = port;
    ports.push_back(port);
    m.nodes.push_back(std::move(n));
  }
  for (auto& n : m.nodes) {
    NodeServer* np = n.get();
    n->thread = std::thread([np] { np->server->listen_after_bind(); });
  }
  if (m.options.scheduler_interval.count() > 0) {
    m.stopping = false;
    m.scheduler = std::thread([&m] { m.run_schedulers(); });
  }
  // stop() only reaches a server that is already running; wait for that so an
  // immediate shutdown cannot leave a listener (and its thread) behind.
  for (auto& n : m.nodes) {
    for (int i = 0; i < 500 && !n->server->is_running(); ++i)
      m.env.sleep_for(std::chrono::milliseconds(2));
  }
  m.started = true;
  return ports;
}

void SimServer::stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->scheduler_mu);
    impl_->stopping = true;
  }
  impl_->scheduler_cv.notify_all();
  if (impl_->scheduler.joinable()) impl_->scheduler.join();
  for (auto& n : impl_->nodes) {
    if (n->server) n->server->stop();
  }
  for (auto& n : impl_->nodes) {
    if (n->thread.joinable()) n->thread.join();
  }
  impl_->nodes.clear();
  impl_->started = false;
}

Result<std::pair<std::string, std::string>> split_assignment(const std::string& flag,
                                                             const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{} '{}': expected NAME=VALUE", flag, text));
  }
  return std::pair{text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace edgecert::simserver
