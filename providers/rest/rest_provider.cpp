#include "providers/rest/rest_provider.h"

#include <algorithm>
#include <cctype>
#include <random>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/rest/rest_api.h"

namespace edgecert::rest {
namespace {

using nlohmann::json;

// A multipart/form-data body. It may hold a private key, so it lives in a
// SecretString (wiped on destruction) once built.
class Multipart {
 public:
  Multipart() {
    std::random_device rd;
    boundary_ = fmt::format("edgecert-{:08x}{:08x}{:08x}", rd(), rd(), rd());
  }
  void add(const std::string& field, const std::string& filename, std::string_view content) {
    body_ += "--" + boundary_ + "\r\n";
    body_ += fmt::format("Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n", field,
                         filename);
    body_ += "Content-Type: application/octet-stream\r\n\r\n";
    body_.append(content.data(), content.size());
    body_ += "\r\n";
  }
  // Finishes the body and moves it into a wiped-on-destruction buffer.
  pki::SecretString finish() {
    body_ += "--" + boundary_ + "--\r\n";
    pki::SecretString s(body_);
    std::fill(body_.begin(), body_.end(), '\0');
    body_.clear();
    return s;
  }
  std::string content_type() const { return "multipart/form-data; boundary=" + boundary_; }

 private:
  std::string boundary_;
  std::string body_;
};

bool is_fingerprint(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':';
  });
}

class RestNodeProvider final : public node::NodeProvider {
 public:
  RestNodeProvider(std::string name, Env& env, std::unique_ptr<http::Transport> t, RestOptions o)
      : name_(std::move(name)), env_(env), transport_(std::move(t)), options_(o) {}

  const std::string& name() const override { return name_; }

  Result<node::NodeState> read_state() override {
    constexpr const char* action = "read state";
    auto r = call(action, get(kStatusPath));
    if (!r) return std::unexpected(r.error());
    return decoded(action, "GET", kStatusPath, decode_state(r->body));
  }

  Result<std::string> generate_csr(const node::CsrRequest& request) override {
    constexpr const char* action = "generate CSR";
    std::string body = encode_csr_request(request).dump();
    auto r = call(action, with_body("POST", kGenerateCsrPath, body, "application/json"));
    if (!r) return std::unexpected(r.error());
    try {
      json j = json::parse(r->body);
      if (j.contains("CSR") && j["CSR"].is_string()) return j["CSR"].get<std::string>();
    } catch (const std::exception&) {
    }
    // A node that only acknowledges: fetch the pending CSR.
    auto g = call(action, get(kGenerateCsrPath));
    if (!g) return std::unexpected(g.error());
    return g->body;
  }

  Status discard_csr() override {
    return done(call("discard CSR", with_body("DELETE", kGenerateCsrPath, "", "")));
  }

  Result<node::UploadResult> upload_server_certificate(
      const node::CertificateUpload& upload) override {
    constexpr const char* action = "upload server certificate";
    Multipart m;
    m.add("file", "server.pem", upload.chain_pem);
    if (upload.key) m.add("key", "server.key", upload.key->view());
    const std::string type = m.content_type();
    pki::SecretString body = m.finish();
    auto r = call(action, with_body("POST", kServerCertPath, body.view(), type));
    if (!r) return std::unexpected(r.error());
    return decoded(action, "POST", kServerCertPath, decode_upload_result(r->body));
  }

  Result<node::AppendCasResult> append_trusted_cas(std::string_view pem_bundle) override {
    constexpr const char* action = "append trusted CA certificates";
    Multipart m;
    m.add("file", "cas.pem", pem_bundle);
    const std::string type = m.content_type();
    pki::SecretString body = m.finish();
    auto r = call(action, with_body("POST", kRootCertsPath, body.view(), type));
    if (!r) return std::unexpected(r.error());
    return decoded(action, "POST", kRootCertsPath, decode_append_result(r->body));
  }

  Status delete_trusted_ca(const std::string& sha256) override {
    if (!is_fingerprint(sha256)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: delete trusted CA certificate: '{}' is not a SHA-256 "
                                    "fingerprint",
                                    name_, sha256));
    }
    return done(call("delete trusted CA certificate",
                     with_body("DELETE", std::string(kTrustedCaPath) + "/" + sha256, "", "")));
  }

  Status reset_trusted_cas() override {
    return done(call("reset trusted CA list", with_body("POST", kTrustedCaResetPath, "", "")));
  }

  Status set_crl_settings(const node::CrlSettings& settings) override {
    return put_json("set CRL settings", kCrlSettingsPath, encode_crl_settings(settings));
  }

  Status upload_manual_crl(std::string_view data) override {
    Multipart m;
    m.add("file", "manual.crl", data);
    const std::string type = m.content_type();
    pki::SecretString body = m.finish();
    return done(call("upload manual CRL", with_body("POST", kManualCrlPath, body.view(), type)));
  }

  Status remove_manual_crl() override {
    return done(call("remove manual CRL", with_body("DELETE", kManualCrlPath, "", "")));
  }

  Status set_revocation_checking(const spec::RevocationChecking& settings) override {
    return put_json("set revocation checking", kRevocationPath, encode_revocation(settings));
  }

  Status set_tls_verification(spec::TlsVerification mode) override {
    return put_json("set TLS verification mode", kClusterTlsPath, encode_tls_verification(mode));
  }

  Result<node::AcmeSettings> acme_settings() override {
    constexpr const char* action = "read ACME settings";
    auto r = call(action, get(kAcmeSettingsPath));
    if (!r) return std::unexpected(r.error());
    return decoded(action, "GET", kAcmeSettingsPath, decode_acme_settings(r->body));
  }

  Status set_acme_settings(const node::AcmeSettings& settings) override {
    return put_json("set ACME settings", kAcmeSettingsPath, encode_acme_settings(settings));
  }

  Status acme_sign() override {
    return done(call("ACME sign", with_body("POST", kAcmePendingCertPath, "", "")));
  }
  Status acme_deploy() override {
    return done(call("ACME deploy", with_body("POST", kAcmeDeployPath, "", "")));
  }
  Status acme_discard_pending() override {
    return done(call("ACME discard pending certificate",
                     with_body("DELETE", kAcmePendingCertPath, "", "")));
  }
  using node::NodeProvider::acme_revoke;
  Status acme_revoke(std::string_view certificate_pem, pki::RevocationReason reason) override {
    std::string body = encode_acme_revoke({std::string(certificate_pem), reason}).dump();
    return done(call("ACME revoke", with_body("POST", kAcmeRevokePath, body, "application/json")));
  }

  Status restart() override {
    return done(call("restart", with_body("POST", kRestartPath, "", "")));
  }

  Status wait_until_up(std::chrono::seconds timeout) override {
    const TimePoint deadline = env_.now() + timeout;
    std::chrono::milliseconds backoff = options_.initial_backoff;
    std::string last = "no answer";
    for (;;) {
      http::Request req = get(kPingPath);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - env_.now());
      // A hung connection must not outlast the deadline by a whole request
      // timeout; a liveness probe needs neither more than 30 s nor less than 1 s.
      req.timeout =
          std::clamp(left, std::chrono::milliseconds(1000), std::chrono::milliseconds(30000));
      auto r = call("wait until up", std::move(req), /*attempts=*/1);
      if (r) return {};
      if (r.error().code != ErrorCode::kUnavailable) return std::unexpected(r.error());
      last = r.error().message;
      const std::string prefix = name_ + ": wait until up: ";
      if (last.rfind(prefix, 0) == 0) last = last.substr(prefix.size());
      TimePoint now = env_.now();
      if (now >= deadline) break;
      auto sleep =
          std::min(backoff, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
      env_.sleep_for(sleep);
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("{}: wait until up: no answer within {} s (last: {})", name_,
                                  timeout.count(), last));
  }

  Result<std::vector<pki::Certificate>> served_chain() override {
    constexpr const char* action = "TLS handshake";
    http::Request req = get(kServerCertPath);
    req.capture_peer_chain = true;
    auto r = call(action, std::move(req));
    if (!r) return std::unexpected(r.error());
    if (r->peer_chain.empty()) {
      return make_error(
          ErrorCode::kInternal,
          fmt::format("{}: {}: the TLS library reported no peer certificates", name_, action));
    }
    std::vector<pki::Certificate> out;
    for (size_t i = 0; i < r->peer_chain.size(); ++i) {
      auto c = pki::Certificate::parse_one(r->peer_chain[i], fmt::format("peer certificate {}", i));
      if (!c) return std::unexpected(node::node_error(name_, action, c.error()));
      out.push_back(std::move(*c));
    }
    return out;
  }

 private:
  static http::Request get(std::string path) {
    http::Request r;
    r.method = "GET";
    r.target = std::move(path);
    return r;
  }
  static http::Request with_body(const char* method, std::string path, std::string_view body,
                                 std::string content_type) {
    http::Request r;
    r.method = method;
    r.target = std::move(path);
    r.body = body;
    r.content_type = std::move(content_type);
    return r;
  }

  Status put_json(const char* action, const char* path, const json& j) {
    std::string body = j.dump();
    return done(call(action, with_body("PUT", path, body, "application/json")));
  }

  static Status done(const Result<http::Response>& r) {
    if (!r) return std::unexpected(r.error());
    return {};
  }

  template <class T>
  Result<T> decoded(const char* action, const char* method, const std::string& path,
                    Result<T> r) const {
    if (!r) {
      return make_error(r.error().code, fmt::format("{}: {}: {} {}: {}", name_, action, method,
                                                    path, r.error().message));
    }
    return r;
  }

  // Performs `req` (retrying GETs), returns a 2xx response or an Error naming
  // node, action, method, path and status.
  Result<http::Response> call(const char* action, http::Request req, int attempts = 0) {
    const bool idempotent = req.method == "GET";
    if (!idempotent) req.headers.emplace_back(kCsrfHeader, "edgecert");
    // Nodes answer JSON, or PEM for certificate resources.
    req.accept = "application/json, application/x-pem-file, */*";
    if (attempts <= 0) attempts = idempotent ? std::max(1, options_.get_attempts) : 1;
    const std::string where = fmt::format("{}: {}: {} {}", name_, action, req.method, req.target);
    std::chrono::milliseconds backoff = options_.initial_backoff;
    Error last{ErrorCode::kInternal, ""};
    for (int attempt = 1;; ++attempt) {
      Result<http::Response> r = transport_->perform(req);
      bool retry = false;
      if (!r) {
        std::string msg = r.error().message;
        if (!idempotent && msg.rfind("connection dropped", 0) == 0) {
          msg +=
              "; it may have dropped after the request was applied: re-read the node's "
              "state before retrying";
        }
        last = Error{r.error().code, fmt::format("{}: {}", where, msg)};
        retry = idempotent && r.error().code == ErrorCode::kUnavailable;
      } else if (r->status >= 200 && r->status < 300) {
        return r;
      } else {
        std::string msg = message_of(r->body);
        if (r->status == 401) msg += " (check access.username and access.passwordFrom)";
        last = Error{code_for_status(r->status), fmt::format("{}: {}: {}", where, r->status, msg)};
        retry = idempotent && retryable_status(r->status);
      }
      if (!retry || attempt >= attempts) {
        if (attempt > 1) last.message += fmt::format(" (after {} attempts)", attempt);
        return std::unexpected(last);
      }
      env_.sleep_for(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }

  std::string name_;
  Env& env_;
  std::unique_ptr<http::Transport> transport_;
  RestOptions options_;
};

}  // namespace

Result<Endpoint> parse_https_endpoint(const std::string& endpoint) {
  const std::string prefix = "https://";
  auto bad = [&](const char* why) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}': {} (expected https://HOST[:PORT])", endpoint, why));
  };
  if (endpoint.rfind(prefix, 0) != 0) return bad("not an https:// endpoint");
  std::string rest = endpoint.substr(prefix.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return bad("a path is not allowed");
  Endpoint e;
  auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    std::string port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("the port must be a number");
    e.port = std::stoi(port);
    if (e.port < 1 || e.port > 65535) return bad("the port must be 1-65535");
  }
  bool ok = !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
  });
  if (!ok) return bad("the host must be a DNS name or an IPv4 address");
  e.host = rest;
  return e;
}

std::unique_ptr<node::NodeProvider> make_rest_node_provider(
    std::string peer_name, Env& env, std::unique_ptr<http::Transport> transport,
    RestOptions options) {
  return std::make_unique<RestNodeProvider>(std::move(peer_name), env, std::move(transport),
                                            options);
}

Result<std::unique_ptr<node::NodeProvider>> make_https_node_provider_with(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer,
    RestOptions options) {
  auto fail = [&](ErrorCode code, const std::string& msg) {
    return make_error(code, fmt::format("{}: open: {}", peer.name, msg));
  };
  auto ep = parse_https_endpoint(peer.endpoint);
  if (!ep) return fail(ep.error().code, ep.error().message);
  if (!spec.access || spec.access->username.empty() || spec.access->password_from.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "https:// endpoints need spec.access.username and spec.access.passwordFrom");
  }
  auto pw = context.resolve_password
                ? context.resolve_password(spec.access->password_from)
                : node::resolve_password_from(context.env, spec.access->password_from);
  if (!pw) return fail(pw.error().code, pw.error().message);

  // Connect to the endpoint's address but verify the peer FQDN (SNI and
  // certificate name): the endpoint may be an IP or a management alias.
  http::ClientOptions o;
  o.connect_host = ep->host;
  o.port = ep->port;
  o.server_name = peer.fqdn.empty() ? ep->host : peer.fqdn;
  o.ca_bundle = spec.access->ca_bundle;
  o.insecure = context.insecure;
  o.tls_failure_hint =
      "the node's certificate does not verify against access.caBundle for the peer FQDN";
  o.username = spec.access->username;
  o.password = std::move(*pw);
  o.connect_timeout = context.connect_timeout;
  o.request_timeout = context.request_timeout;
  auto t = http::make_curl_transport(std::move(o));
  if (!t) return fail(t.error().code, t.error().message);
  return make_rest_node_provider(peer.name, context.env, std::move(*t), options);
}

Result<std::unique_ptr<node::NodeProvider>> make_https_node_provider(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer) {
  return make_https_node_provider_with(context, spec, peer, RestOptions{});
}

}  // namespace edgecert::rest
