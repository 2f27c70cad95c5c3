// SimServer's lifecycle: per node one TLS listener (and one SSH listener when
// asked), closed while the node restarts and reopened on the same ports when
// it is back (the supervisor thread); the background ACME scheduler; start
// and stop. The listeners' TLS identity is sim_server_tls.cpp; what they
// answer is sim_server_http.cpp, sim_server_routes_*.cpp and
// sim_server_cli.cpp.
#include "providers/simserver/sim_server.h"

#include <condition_variable>
#include <cstdio>

#include <fmt/core.h>

#include "providers/simserver/sim_server_internal.h"

namespace edgecert::simserver {

using internal::NodeServer;

namespace {
// How long a node keeps its listeners after the supervisor first sees it
// restarting (real time).
constexpr std::chrono::milliseconds kShutdownGrace{250};
}  // namespace

struct SimServer::Impl {
  Env& env;
  SimServerOptions options;
  internal::ServerShared shared{options};
  std::vector<std::unique_ptr<NodeServer>> nodes;
  bool started = false;
  // Guards every node's listeners (open, close, stop).
  mutable std::mutex lifecycle_mu;

  // The nodes' ACME schedulers (automated mode), run in the background like
  // the appliance's; requests would catch up anyway, this makes a node act
  // while nobody asks it anything. The supervisor closes and reopens the
  // listeners of restarting nodes.
  std::thread scheduler;
  std::thread supervisor;
  std::mutex wait_mu;
  std::condition_variable scheduler_cv;
  std::condition_variable supervisor_cv;
  bool stopping = false;
  bool supervisor_woken = false;

  Impl(Env& e, SimServerOptions o) : env(e), options(std::move(o)) {}

  void run_schedulers() {
    std::unique_lock lock(wait_mu);
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

  void wake_supervisor() {
    {
      std::lock_guard lock(wait_mu);
      supervisor_woken = true;
    }
    supervisor_cv.notify_all();
  }

  // Real time, like the scheduler: the listeners are real sockets.
  void run_supervisor() {
    std::unique_lock lock(wait_mu);
    while (!stopping) {
      supervisor_cv.wait_for(lock, options.restart_poll_interval,
                             [this] { return stopping || supervisor_woken; });
      supervisor_woken = false;
      if (stopping) break;
      lock.unlock();
      for (auto& n : nodes) supervise(*n);
      lock.lock();
    }
  }

  // One node: close its listeners once it is down, finish its restart and
  // reopen them once its time is up.
  void supervise(NodeServer& n) {
    std::lock_guard life(lifecycle_mu);
    reap(n);
    auto phase = n.sim().restart_phase();
    if (!phase) return;  // a file being replaced: next tick
    // A restart whose time is already up when first seen (restart seconds
    // 0) is finished without closing anything: nothing to refuse.
    const bool down = *phase == sim::RestartPhase::kDown || *phase == sim::RestartPhase::kNever;
    if (!down) n.down_seen.reset();
    if (n.listening && down) {
      // Like an appliance shutting down, the node goes away a moment after
      // it accepted the restart: the reply to that request (on an SSH
      // session closing would reset it) reaches the client first.
      const auto now = std::chrono::steady_clock::now();
      if (!n.down_seen) n.down_seen = now;
      if (now - *n.down_seen < kShutdownGrace) return;
      close_listeners(n);
    }
    if (*phase == sim::RestartPhase::kDue) {
      std::lock_guard node_lock(n.mu);
      (void)n.sim().ping();  // the node's first request after the restart finishes it
      phase = n.sim().restart_phase();
    }
    if (!n.listening && phase && *phase == sim::RestartPhase::kUp) {
      if (auto st = open_listeners(n); !st)
        std::fputs(fmt::format("edgecert-sim: {}: cannot reopen after the restart: {} (retrying)\n",
                               n.listener.name, st.error().message)
                       .c_str(),
                   stderr);
    }
  }

  // Binds the node's listeners (the ports of the first start once known).
  Status open_listeners(NodeServer& n) {
    NodeServer* np = &n;
    auto server = std::make_unique<httplib::SSLServer>([np](SSL_CTX& ctx) {
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
    server->new_task_queue = [] { return new httplib::ThreadPool(32); };
    server->set_keep_alive_timeout(2);
    // Without it every small reply waits for the client's delayed ACK
    // (Nagle): about 40 ms per request, which a real appliance does not add.
    server->set_tcp_nodelay(true);
    if (!server->is_valid())
      return make_error(ErrorCode::kInternal, n.listener.name + ": cannot create the TLS server");
    n.server = std::move(server);
    internal::install_routes(n);
    const NodeListener& l = n.listener;
    const int want = n.bound_port != 0 ? n.bound_port : l.port;
    const int port = want == 0 ? n.server->bind_to_any_port(l.host)
                               : (n.server->bind_to_port(l.host, want) ? want : -1);
    if (port <= 0) {
      n.server.reset();
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("{}: cannot listen on {}:{}", l.name, l.host, want));
    }
    n.bound_port = port;

    if (l.ssh_port >= 0) {
      ssh::ServerOptions so;
      so.bind_address = l.ssh_host;
      so.port = n.bound_ssh_port != 0 ? n.bound_ssh_port : l.ssh_port;
      so.host_key_file = path_join(options.state_dir, l.name + ".ssh_host_key");
      so.user = options.username;
      so.password = ssh::Secret(options.password.view());
      so.banner = internal::cli_banner(n);
      so.handler = [np](const std::string& line) {
        return internal::handle_cli_command(*np, line);
      };
      so.env = &env;
      auto ssh = ssh::Server::start(std::move(so));
      if (!ssh) {
        n.server.reset();
        return std::unexpected(ssh.error().with_context(l.name));
      }
      n.ssh = std::move(*ssh);
      n.bound_ssh_port = n.ssh->port();
      n.ssh_fingerprint = n.ssh->host_key_fingerprint();
    }

    auto done = std::make_shared<std::atomic<bool>>(false);
    n.thread_done = done;
    n.thread = std::thread([np, done] {
      np->server->listen_after_bind();
      *done = true;
    });
    // stop() only reaches a server that is already running: wait for that so
    // an immediate close cannot leave a listener (and its thread) behind.
    // Real time: a thread starting up is not the node's clock.
    for (int i = 0; i < 2000 && !n.server->is_running() && !*done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    n.listening = true;
    return {};
  }

  // Closes the node's listeners: new connections are refused at once; an
  // HTTPS connection kept alive from before ends within the keep-alive
  // timeout (its thread is joined later, reap()); SSH sessions end now.
  void close_listeners(NodeServer& n) {
    if (n.ssh) {
      n.ssh->stop();
      n.ssh.reset();
    }
    if (n.server) {
      n.server->stop();
      n.retired.push_back(
          internal::RetiredListener{std::move(n.server), std::move(n.thread), n.thread_done});
    }
    n.listening = false;
  }

  static void reap(NodeServer& n) {
    for (auto it = n.retired.begin(); it != n.retired.end();) {
      if (*it->done) {
        if (it->thread.joinable()) it->thread.join();
        it = n.retired.erase(it);
      } else {
        ++it;
      }
    }
  }
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
  m.shared.wake_supervisor = [&m] { m.wake_supervisor(); };
  std::vector<int> ports;
  for (const NodeListener& l : m.options.nodes) {
    auto n = std::make_unique<NodeServer>(m.env, m.options.state_dir, l, m.shared);
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
    m.nodes.push_back(std::move(n));
  }
  {
    std::lock_guard life(m.lifecycle_mu);
    for (auto& n : m.nodes) {
      if (auto st = m.open_listeners(*n); !st) {
        for (auto& o : m.nodes) m.close_listeners(*o);
        return std::unexpected(st.error());
      }
      ports.push_back(n->bound_port);
    }
  }
  m.stopping = false;
  if (m.options.scheduler_interval.count() > 0)
    m.scheduler = std::thread([&m] { m.run_schedulers(); });
  if (m.options.refuse_connections_while_restarting)
    m.supervisor = std::thread([&m] { m.run_supervisor(); });
  m.started = true;
  return ports;
}

std::vector<int> SimServer::ssh_ports() const {
  std::lock_guard life(impl_->lifecycle_mu);
  std::vector<int> out;
  for (const auto& n : impl_->nodes)
    out.push_back(n->listener.ssh_port >= 0 ? n->bound_ssh_port : 0);
  return out;
}

std::vector<std::string> SimServer::ssh_host_key_fingerprints() const {
  std::lock_guard life(impl_->lifecycle_mu);
  std::vector<std::string> out;
  for (const auto& n : impl_->nodes) out.push_back(n->ssh_fingerprint);
  return out;
}

std::vector<std::string> SimServer::unrecognised_requests() const {
  std::lock_guard lock(impl_->shared.mu);
  return impl_->shared.unrecognised;
}

void SimServer::stop() {
  if (!impl_) return;
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.wait_mu);
    m.stopping = true;
  }
  m.scheduler_cv.notify_all();
  m.supervisor_cv.notify_all();
  if (m.scheduler.joinable()) m.scheduler.join();
  if (m.supervisor.joinable()) m.supervisor.join();
  std::lock_guard life(m.lifecycle_mu);
  for (auto& n : m.nodes) {
    if (n->listening) m.close_listeners(*n);
  }
  for (auto& n : m.nodes) {
    for (auto& r : n->retired)
      if (r.thread.joinable()) r.thread.join();
    n->retired.clear();
  }
  m.nodes.clear();
  m.started = false;
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
