#include "providers/simserver/sim_server.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/rest/rest_api.h"
#include "providers/sim/sim_node.h"

namespace edgecert::simserver {

using nlohmann::json;

namespace {

std::string base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) return {};
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

// Compares without an early exit, so timing does not reveal a prefix match.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

void free_certs(std::vector<X509*>& certs) {
  for (X509* x : certs) X509_free(x);
  certs.clear();
}

}  // namespace

// One node: its listener, its serialised SimNode access, and the TLS identity
// (the active certificate) cached until the node file says otherwise.
struct NodeServer {
  NodeServer(Env& e, std::string d, NodeListener l)
      : env(e), dir(std::move(d)), listener(std::move(l)) {}
  ~NodeServer() {
    free_certs(certs);
    if (key) EVP_PKEY_free(key);
  }

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

  // Reads the node's active certificate and key from its file. SimNode has no
  // accessor for them (by design no operation returns a key), so the
  // listener reads the node's own disk: the "active" object of
  // <dir>/<name>.json. When a restart is due, one ping() lets the node
  // finish booting first, so the handshake shows what the node now serves.
  bool refresh_identity() {
    auto read = [&]() -> std::optional<json> {
      auto data = env.read_file(sim().state_path());
      if (!data) return std::nullopt;
      try {
        return json::parse(*data);
      } catch (const std::exception&) {
        return std::nullopt;
      }
    };
    auto j = read();
    if (!j) return !certs.empty();
    try {
      const json& r = (*j)["restarting"];
      if (r.is_object() && !r.at("never").get<bool>()) {
        int64_t now_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(env.now().time_since_epoch())
                .count();
        if (now_ms >= r.at("until_ms").get<int64_t>()) {
          (void)sim().ping();
          if (auto again = read()) j = std::move(again);
        }
      }
      std::vector<std::string> chain = j->at("active").at("chain").get<std::vector<std::string>>();
      std::string kp = j->at("active").at("key").get<std::string>();
      bool same = chain == chain_pems && same_secret(kp, key_pem.view());
      if (same && !certs.empty()) {
        std::fill(kp.begin(), kp.end(), '\0');
        return true;
      }
      std::vector<X509*> fresh;
      for (const std::string& pem : chain) {
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        X509* x = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
        BIO_free(bio);
        if (!x) {
          free_certs(fresh);
          return !certs.empty();
        }
        fresh.push_back(x);
      }
      BIO* kbio = BIO_new_mem_buf(kp.data(), static_cast<int>(kp.size()));
      EVP_PKEY* k = kbio ? PEM_read_bio_PrivateKey(kbio, nullptr, nullptr, nullptr) : nullptr;
      BIO_free(kbio);
      if (!k || fresh.empty()) {
        free_certs(fresh);
        if (k) EVP_PKEY_free(k);
        std::fill(kp.begin(), kp.end(), '\0');
        return !certs.empty();
      }
      free_certs(certs);
      if (key) EVP_PKEY_free(key);
      certs = std::move(fresh);
      key = k;
      chain_pems = std::move(chain);
      key_pem = pki::SecretString(kp);
      std::fill(kp.begin(), kp.end(), '\0');
      return true;
    } catch (const std::exception&) {
      return !certs.empty();
    }
  }

  // OpenSSL certificate callback: runs at every handshake on this listener.
  static int cert_callback(SSL* ssl, void* arg) {
    auto* self = static_cast<NodeServer*>(arg);
    std::lock_guard lock(self->mu);
    if (!self->refresh_identity()) return 0;
    if (SSL_use_certificate(ssl, self->certs.front()) != 1) return 0;
    if (SSL_use_PrivateKey(ssl, self->key) != 1) return 0;
    SSL_clear_chain_certs(ssl);
    for (size_t i = 1; i < self->certs.size(); ++i) {
      if (SSL_add1_chain_cert(ssl, self->certs[i]) != 1) return 0;
    }
    return 1;
  }
};

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

  bool authorized(const httplib::Request& req) const {
    std::string h = req.get_header_value("Authorization");
    const std::string scheme = "Basic ";
    if (h.rfind(scheme, 0) != 0) return false;
    std::string decoded = base64_decode(h.substr(scheme.size()));
    auto colon = decoded.find(':');
    bool ok = colon != std::string::npos && decoded.substr(0, colon) == options.username &&
              same_secret(std::string_view(decoded).substr(colon + 1), options.password.view());
    std::fill(decoded.begin(), decoded.end(), '\0');
    return ok;
  }

  static void send_message(httplib::Response& res, int status, std::string_view text) {
    res.status = status;
    res.set_content(rest::message_body(text), "application/json");
  }

  // Sends an error reply, or closes the connection for an injected drop.
  static void send_error(const httplib::Request& req, httplib::Response& res, const Error& e) {
    // SimNode reports injected drops as kUnavailable "connection dropped ...";
    // the only way to tell them from a 503 is the wording (see
    // docs/rest-mapping.md: a structured marker from SimNode is requested).
    if (e.code == ErrorCode::kUnavailable && e.message.rfind("connection dropped", 0) == 0 &&
        req.ssl) {
      int fd = SSL_get_fd(req.ssl);
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
      res.status = 503;
      return;
    }
    send_message(res, rest::status_for(e.code), e.message);
  }

  template <class R, class F>
  static void reply(const httplib::Request& req, httplib::Response& res, R&& r, F&& on_ok) {
    if (!r) {
      send_error(req, res, r.error());
      return;
    }
    if constexpr (std::is_void_v<typename std::remove_cvref_t<R>::value_type>) {
      on_ok(true);
    } else {
      on_ok(*r);
    }
  }

  static bool require_file(const httplib::Request& req, httplib::Response& res, const char* field) {
    if (req.has_file(field)) return true;
    send_message(res, 400, fmt::format("multipart form field '{}' is required", field));
    return false;
  }

  void install_routes(NodeServer& n) {
    httplib::SSLServer& s = *n.server;
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req)) {
        res.set_header("WWW-Authenticate", "Basic realm=\"edgecert-sim\"");
        send_message(res, 401, "Authentication failed: wrong or missing user name or password");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.method != "GET" && req.method != "HEAD" && !req.has_header(rest::kCsrfHeader)) {
        send_message(
            res, 403,
            fmt::format("{} {} needs the {} header", req.method, req.path, rest::kCsrfHeader));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (res.body.empty()) {
        res.set_content(
            rest::message_body(fmt::format("{} {}: no such resource", req.method, req.path)),
            "application/json");
      }
    });

    // Access log on stderr: node, method, path, status. Never headers or
    // bodies (they carry the password and uploaded keys).
    s.set_logger(
        [name = n.listener.name](const httplib::Request& req, const httplib::Response& res) {
          std::fputs(
              fmt::format("edgecert-sim: {}: {} {} -> {}\n", name, req.method, req.path, res.status)
                  .c_str(),
              stderr);
        });

    NodeServer* np = &n;
    // Runs `body(sim)` with the node's requests serialised.
    auto with_node = [np](auto&& body) {
      std::lock_guard lock(np->mu);
      sim::SimNode sim = np->sim();
      body(sim);
    };
    using Req = const httplib::Request&;
    using Res = httplib::Response&;
    auto ok_message = [](Res res, const char* text) { send_message(res, 200, text); };
    auto pems = [](const std::vector<pki::Certificate>& certs) {
      std::string out;
      for (const auto& c : certs) out += c.to_pem();
      return out;
    };

    s.Get(rest::kPingPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.ping(), [&](const std::string& v) {
          res.set_content(json{{"Message", "up"}, {"SoftwareVersion", v}}.dump(),
                          "application/json");
        });
      });
    });
    s.Get(rest::kStatusPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.read_state(), [&](const node::NodeState& st) {
          res.set_content(rest::encode_state(st).dump(), "application/json");
        });
      });
    });
    s.Get(rest::kServerCertPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.served_chain(), [&](const std::vector<pki::Certificate>& chain) {
          res.set_content(pems(chain), "application/x-pem-file");
        });
      });
    });
    s.Post(rest::kServerCertPath, [=](Req req, Res res) {
      if (!require_file(req, res, "file")) return;
      node::CertificateUpload up;
      up.chain_pem = req.get_file_value("file").content;
      if (req.has_file("key")) up.key = pki::SecretString(req.get_file_value("key").content);
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.upload_server_certificate(up), [&](const node::UploadResult& r) {
          res.set_content(rest::encode_upload_result(r).dump(), "application/json");
        });
      });
    });
    s.Get(rest::kRootCertsPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.read_state(), [&](const node::NodeState& st) {
          res.set_content(pems(st.trusted_cas), "application/x-pem-file");
        });
      });
    });
    s.Post(rest::kRootCertsPath, [=](Req req, Res res) {
      if (!require_file(req, res, "file")) return;
      std::string bundle = req.get_file_value("file").content;
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.append_trusted_cas(bundle), [&](const node::AppendCasResult& r) {
          res.set_content(rest::encode_append_result(r).dump(), "application/json");
        });
      });
    });
    s.Get(rest::kGenerateCsrPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.read_state(), [&](const node::NodeState& st) {
          if (!st.pending_csr) {
            send_message(res, 404, "no CSR is in progress");
            return;
          }
          res.set_content(st.pending_csr->pem, "application/x-pem-file");
        });
      });
    });
    s.Post(rest::kGenerateCsrPath, [=](Req req, Res res) {
      auto r = rest::decode_csr_request(req.body);
      if (!r) return send_message(res, 400, r.error().message);
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.generate_csr(*r), [&](const std::string& pem) {
          res.set_content(json{{"Message", "CSR generated"}, {"CSR", pem}}.dump(),
                          "application/json");
        });
      });
    });
    s.Delete(rest::kGenerateCsrPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.discard_csr(), [&](auto) { ok_message(res, "CSR discarded"); });
      });
    });
    s.Post(rest::kRestartPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.restart(), [&](auto) { ok_message(res, "Restarting"); });
      });
    });
    s.Get(rest::kRevocationPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.read_state(), [&](const node::NodeState& st) {
          res.set_content(rest::encode_revocation(st.revocation).dump(), "application/json");
        });
      });
    });
    s.Put(rest::kRevocationPath, [=](Req req, Res res) {
      auto r = rest::decode_revocation(req.body);
      if (!r) return send_message(res, 400, r.error().message);
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.set_revocation_checking(*r),
              [&](auto) { ok_message(res, "Revocation checking updated"); });
      });
    });
    s.Post(rest::kTrustedCaResetPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.reset_trusted_cas(),
              [&](auto) { ok_message(res, "Trusted CA list reset to default"); });
      });
    });
    s.Delete(std::string(rest::kTrustedCaPath) + "/([0-9A-Fa-f:]+)", [=](Req req, Res res) {
      std::string fp = req.matches[1];
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.delete_trusted_ca(fp),
              [&](auto) { ok_message(res, "CA certificate deleted"); });
      });
    });
    s.Get(rest::kCrlSettingsPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.read_state(), [&](const node::NodeState& st) {
          res.set_content(rest::encode_crl_settings(st.crl).dump(), "application/json");
        });
      });
    });
    s.Put(rest::kCrlSettingsPath, [=](Req req, Res res) {
      auto r = rest::decode_crl_settings(req.body);
      if (!r) return send_message(res, 400, r.error().message);
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.set_crl_settings(*r),
              [&](auto) { ok_message(res, "CRL settings updated"); });
      });
    });
    s.Post(rest::kManualCrlPath, [=](Req req, Res res) {
      if (!require_file(req, res, "file")) return;
      std::string data = req.get_file_value("file").content;
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.upload_manual_crl(data),
              [&](auto) { ok_message(res, "CRL file uploaded"); });
      });
    });
    s.Delete(rest::kManualCrlPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.remove_manual_crl(),
              [&](auto) { ok_message(res, "CRL file removed"); });
      });
    });
    s.Get(rest::kClusterTlsPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.read_state(), [&](const node::NodeState& st) {
          res.set_content(rest::encode_tls_verification(st.tls_verification).dump(),
                          "application/json");
        });
      });
    });
    s.Put(rest::kClusterTlsPath, [=](Req req, Res res) {
      auto r = rest::decode_tls_verification(req.body);
      if (!r) return send_message(res, 400, r.error().message);
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.set_tls_verification(*r),
              [&](auto) { ok_message(res, "TLS verification mode updated"); });
      });
    });
    s.Get(rest::kAcmeSettingsPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.acme_settings(), [&](const node::AcmeSettings& a) {
          res.set_content(rest::encode_acme_settings(a).dump(), "application/json");
        });
      });
    });
    s.Put(rest::kAcmeSettingsPath, [=](Req req, Res res) {
      auto r = rest::decode_acme_settings(req.body);
      if (!r) return send_message(res, 400, r.error().message);
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.set_acme_settings(*r),
              [&](auto) { ok_message(res, "ACME settings updated"); });
      });
    });
    s.Post(rest::kAcmeDeployPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.acme_deploy(),
              [&](auto) { ok_message(res, "Pending ACME certificate deployed"); });
      });
    });
    s.Post(rest::kAcmePendingCertPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.acme_sign(),
              [&](auto) { ok_message(res, "Signed; the ACME certificate is pending"); });
      });
    });
    s.Get(rest::kAcmePendingCertPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.read_state(), [&](const node::NodeState& st) {
          if (!st.acme_status.pending_certificate_pem) {
            send_message(res, 404, "no ACME certificate is pending");
            return;
          }
          res.set_content(*st.acme_status.pending_certificate_pem, "application/x-pem-file");
        });
      });
    });
    s.Delete(rest::kAcmePendingCertPath, [=](Req req, Res res) {
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.acme_discard_pending(),
              [&](auto) { ok_message(res, "Pending ACME certificate deleted"); });
      });
    });
    s.Post(rest::kAcmeRevokePath, [=](Req req, Res res) {
      auto r = rest::decode_acme_revoke(req.body);
      if (!r) return send_message(res, 400, r.error().message);
      with_node([&](sim::SimNode& sim) {
        reply(req, res, sim.acme_revoke(r->certificate_pem, r->reason),
              [&](auto) { ok_message(res, "Revoked"); });
      });
    });
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
    if (!n->server->is_valid())
      return make_error(ErrorCode::kInternal, l.name + ": cannot create the TLS server");
    m.install_routes(*n);
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
