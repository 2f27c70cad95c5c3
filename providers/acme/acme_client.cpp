// RFC 8555 ACME client over an http::Transport: the directory, the nonce
// pool, signed POSTs with their badNonce retries and problem errors, and the
// account, order, download, revocation and ARI flows. The http-01 and
// finalize flows are in acme_order_flows.cpp; the messages themselves
// (bodies, parsing, JWS) in acme_wire.cpp.
#include "providers/acme/acme_client.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "providers/acme/acme_wire.h"
#include "providers/base/fqdn.h"
#include "providers/base/utf8.h"

namespace edgecert::acme {

using std::chrono::milliseconds;
using wire::url_path;

namespace {

constexpr size_t kMaxPooledNonces = 64;
constexpr const char* kJose = "application/jose+json";

// RFC 8555 §6.5.1: a nonce is base64url; "clients MUST ignore invalid
// Replay-Nonce values".
bool is_base64url(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// A header value edgecert will send back (a URL it posts to, a key id):
// malformed UTF-8 could not go into a JWS header, so the reply is refused.
Status check_header_utf8(const std::string& value, const char* header, const std::string& what) {
  auto bad = find_invalid_utf8(value);
  if (!bad) return {};
  return make_error(ErrorCode::kCorrupt,
                    fmt::format("{}: the server's {} header is not valid UTF-8 (byte 0x{:02X} at "
                                "offset {}); refusing the reply",
                                what, header, static_cast<unsigned char>(value[*bad]), *bad));
}

}  // namespace

http::ClientOptions acme_client_options() {
  http::ClientOptions o;
  o.user_agent = "edgecert-acme";
  o.allow_loopback_http = true;
  o.reuse_connections_for_writes = true;
  return o;
}

Result<pki::PrivateKey> load_or_create_account_key(Env& env, const std::string& path) {
  if (env.exists(path)) {
    auto data = env.read_file(path, read_limits::kKey);
    if (!data) return std::unexpected(data.error().with_context("ACME account key"));
    return pki::PrivateKey::parse(*data, path);
  }
  auto key = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
  if (!key) return std::unexpected(key.error());
  if (auto d = env.create_dirs(path_dirname(path), 0700); !d) return std::unexpected(d.error());
  if (auto s = pki::write_private_key(env, path, *key); !s)
    return std::unexpected(s.error().with_context("ACME account key"));
  return key;
}

AcmeClient::AcmeClient(Env& env, http::Transport& transport, AcmeClientOptions options,
                       pki::PrivateKey account_key)
    : env_(env),
      transport_(transport),
      options_(std::move(options)),
      key_(std::move(account_key)) {}

Result<Directory> AcmeClient::directory() {
  if (dir_) return *dir_;
  http::Request req{
      .method = "GET", .target = options_.directory_url, .accept = "application/json"};
  auto r = transport_.perform(req);
  std::string what = fmt::format("ACME GET {}", url_path(options_.directory_url));
  if (!r) return std::unexpected(r.error().with_context(what));
  if (r->status != 200)
    return make_error(r->status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument,
                      fmt::format("{}: HTTP {}: not an ACME directory", what, r->status));
  auto d = wire::parse_directory(r->body, what);
  if (!d) return std::unexpected(d.error());
  take_nonce(*r);
  dir_ = *d;
  return d;
}

void AcmeClient::take_nonce(const http::Response& r) {
  if (auto n = r.header("replay-nonce"); n && is_base64url(*n)) {
    if (nonces_.size() >= kMaxPooledNonces) nonces_.erase(nonces_.begin());
    nonces_.push_back(*n);
  }
}

Result<std::string> AcmeClient::nonce() {
  if (nonces_.empty()) {
    auto d = directory();
    if (!d) return std::unexpected(d.error());
    ++new_nonce_requests_;
    http::Request req{.method = "HEAD", .target = d->new_nonce};
    auto r = transport_.perform(req);
    std::string what = fmt::format("ACME HEAD {}", url_path(d->new_nonce));
    if (!r) return std::unexpected(r.error().with_context(what));
    take_nonce(*r);
    if (nonces_.empty())
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("{}: HTTP {} without a valid Replay-Nonce", what, r->status));
  }
  std::string n = std::move(nonces_.back());
  nonces_.pop_back();
  return n;
}

Error AcmeClient::problem_error(const std::string& method, const std::string& url,
                                const http::Response& r, const std::string& what) {
  Problem p = wire::parse_problem(r);
  std::string text = p.type.empty() ? fmt::format("HTTP {}", r.status) : wire::describe(p);
  last_problem_ = p;
  return Error{wire::error_code(p, r.status),
               fmt::format("ACME {} {} ({}): {}", method, url_path(url), what, text)};
}

Result<AcmeClient::Reply> AcmeClient::post(const std::string& url, const std::string& payload,
                                           bool use_jwk, const std::string& what) {
  return post_with(url, payload, key_, use_jwk, what);
}

Result<AcmeClient::Reply> AcmeClient::post_with(const std::string& url, const std::string& payload,
                                                const pki::PrivateKey& key, bool use_jwk,
                                                const std::string& what,
                                                const std::string& accept) {
  if (!use_jwk && kid_.empty())
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("ACME POST {} ({}): no account (create or find one first)",
                                  url_path(url), what));
  auto signer = wire::JwsSigner::make(key, use_jwk ? std::string() : kid_);
  if (!signer) return std::unexpected(signer.error().with_context(what));
  for (int attempt = 0;; ++attempt) {
    auto n = nonce();
    if (!n) return std::unexpected(n.error().with_context(what));
    auto body = signer->sign(*n, url, payload);
    if (!body) return std::unexpected(body.error().with_context(what));
    http::Request req{
        .method = "POST", .target = url, .body = *body, .content_type = kJose, .accept = accept};
    auto r = transport_.perform(req);
    if (!r)
      return std::unexpected(
          r.error().with_context(fmt::format("ACME POST {} ({})", url_path(url), what)));
    take_nonce(*r);
    if (r->status >= 400) {
      Error e = problem_error("POST", url, *r, what);
      if (last_problem_->kind == ProblemKind::kBadNonce &&
          attempt < options_.max_bad_nonce_retries) {
        ++bad_nonce_retries_;
        continue;  // the rejection carried a fresh nonce, now in the pool
      }
      return std::unexpected(e);
    }
    last_retry_after_ = wire::retry_after(*r, env_.now());
    Reply reply{std::move(*r), ""};
    if (auto loc = reply.http.header("location")) {
      if (auto st = check_header_utf8(*loc, "Location",
                                      fmt::format("ACME POST {} ({})", url_path(url), what));
          !st)
        return std::unexpected(st.error());
      reply.location = *loc;
    }
    return reply;
  }
}

milliseconds AcmeClient::wait_time(const http::Response& r, milliseconds& backoff,
                                   TimePoint deadline) {
  auto remaining = std::chrono::duration_cast<milliseconds>(deadline - env_.now());
  if (remaining <= milliseconds(0)) return milliseconds(0);
  milliseconds wait;
  if (auto ra = wire::retry_after(r, env_.now())) {
    wait = std::max(milliseconds(*ra), milliseconds(1));
  } else {
    wait = backoff;
    backoff = std::min(backoff * 2, options_.poll_max);
  }
  return std::min(wait, remaining);
}

Result<Account> AcmeClient::new_account(const NewAccountOptions& options) {
  auto d = directory();
  if (!d) return std::unexpected(d.error());
  if (!options.eab && d->external_account_required)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("ACME {}: the server requires external account binding",
                                  url_path(d->new_account)));
  auto body = wire::new_account_body(options.contact_emails, options.terms_of_service_agreed,
                                     options.eab, key_, d->new_account);
  if (!body) return std::unexpected(body.error());
  auto r = post(d->new_account, *body, true, "newAccount");
  if (!r) return std::unexpected(r.error());
  auto a = wire::parse_account(r->http.body, r->location, "newAccount");
  if (!a) return std::unexpected(a.error());
  if (a->url.empty())
    return make_error(ErrorCode::kCorrupt, fmt::format("ACME POST {} (newAccount): no Location",
                                                       url_path(d->new_account)));
  kid_ = a->url;
  return a;
}

Result<Account> AcmeClient::find_account() {
  auto d = directory();
  if (!d) return std::unexpected(d.error());
  auto r = post(d->new_account, wire::kFindAccountBody, true, "find account");
  if (!r) return std::unexpected(r.error());
  auto a = wire::parse_account(r->http.body, r->location, "find account");
  if (!a) return std::unexpected(a.error());
  kid_ = a->url;
  return a;
}

Status AcmeClient::change_key(pki::PrivateKey new_key) {
  auto d = directory();
  if (!d) return std::unexpected(d.error());
  if (d->key_change.empty())
    return make_error(ErrorCode::kInvalidArgument, "ACME directory has no keyChange");
  if (kid_.empty()) return make_error(ErrorCode::kInvalidArgument, "keyChange: no account");
  auto inner = wire::key_change_body(key_, new_key, kid_, d->key_change);
  if (!inner) return std::unexpected(inner.error());
  auto r = post(d->key_change, *inner, false, "keyChange");
  if (!r) return std::unexpected(r.error());
  key_ = std::move(new_key);
  return {};
}

Result<Order> AcmeClient::new_order(const std::vector<std::string>& dns_names,
                                    const std::optional<std::string>& replaces) {
  auto d = directory();
  if (!d) return std::unexpected(d.error());
  if (dns_names.empty()) return make_error(ErrorCode::kInvalidArgument, "newOrder: no names");
  // RFC 9773: "replaces" only towards a server that speaks ARI.
  std::string body =
      wire::new_order_body(dns_names, d->renewal_info.empty() ? std::nullopt : replaces);
  std::string what = "newOrder for " + wire::names_text(dns_names);
  auto r = post(d->new_order, body, false, what);
  if (!r) return std::unexpected(r.error());
  auto o = wire::parse_order(r->http.body, r->location, what);
  if (!o) return std::unexpected(o.error());
  if (r->location.empty())
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("ACME POST {} ({}): no Location", url_path(d->new_order), what));
  return o;
}

Result<Order> AcmeClient::get_order(const std::string& url) {
  auto r = post(url, "", false, "order");
  if (!r) return std::unexpected(r.error());
  return wire::parse_order(r->http.body, url, "order " + url_path(url));
}

Result<Authorization> AcmeClient::get_authorization(const std::string& url) {
  auto r = post(url, "", false, "authorization");
  if (!r) return std::unexpected(r.error());
  return wire::parse_authorization(r->http.body, url, "authorization " + url_path(url));
}

Result<CertificateChain> AcmeClient::download_certificate(const std::string& url,
                                                          bool with_alternates) {
  auto fetch = [&](const std::string& u) -> Result<AcmeClient::Reply> {
    return post_with(u, "", key_, false, "certificate", "application/pem-certificate-chain");
  };
  auto r = fetch(url);
  if (!r) return std::unexpected(r.error());
  CertificateChain chain;
  chain.pem = r->http.body;
  if (chain.pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("ACME POST {} (certificate): not a PEM chain", url_path(url)));
  if (with_alternates) {
    for (const auto& alt : wire::links_with_rel(r->http, "alternate")) {
      if (auto st = check_header_utf8(alt, "Link",
                                      fmt::format("ACME POST {} (certificate)", url_path(url)));
          !st)
        return std::unexpected(st.error());
      auto a = fetch(alt);
      if (!a) return std::unexpected(a.error());
      chain.alternates.push_back(a->http.body);
    }
  }
  return chain;
}

Status AcmeClient::revoke(const pki::Certificate& cert, RevocationReason reason,
                          const pki::PrivateKey* certificate_key) {
  auto d = directory();
  if (!d) return std::unexpected(d.error());
  std::string body = wire::revoke_body(cert, static_cast<int>(reason));
  std::string what = fmt::format("revoke serial {}", cert.serial_hex());
  auto r = certificate_key ? post_with(d->revoke_cert, body, *certificate_key, true, what)
                           : post(d->revoke_cert, body, false, what);
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<RenewalWindow> AcmeClient::renewal_info(const pki::Certificate& cert) {
  auto d = directory();
  if (!d) return std::unexpected(d.error());
  if (d->renewal_info.empty())
    return make_error(ErrorCode::kNotFound, "ACME directory has no renewalInfo");
  auto id = ari_cert_id(cert);
  if (!id) return std::unexpected(id.error());
  std::string url = d->renewal_info;
  if (url.empty() || url.back() != '/') url += '/';
  url += *id;
  std::string what = fmt::format("ACME GET {} (renewalInfo)", url_path(url));
  auto r = transport_.perform(
      http::Request{.method = "GET", .target = url, .accept = "application/json"});
  if (!r) return std::unexpected(r.error().with_context(what));
  take_nonce(*r);
  if (r->status != 200) return std::unexpected(problem_error("GET", url, *r, "renewalInfo"));
  return wire::parse_renewal_info(r->body, what);
}

Result<TimePoint> AcmeClient::renewal_time(const pki::Certificate& cert) {
  auto d = directory();
  if (d && !d->renewal_info.empty()) {
    auto w = renewal_info(cert);
    if (!w) return std::unexpected(w.error());
    auto span = std::chrono::duration_cast<std::chrono::seconds>(w->end - w->start).count();
    std::uniform_int_distribution<long long> dist(0, span > 0 ? span : 0);
    return w->start + std::chrono::seconds(dist(rng_));
  }
  auto life = cert.not_after() - cert.not_before();
  return cert.not_before() + life * 2 / 3;
}

Result<CertificateChain> AcmeClient::issue(const std::vector<std::string>& dns_names,
                                           const pki::CertificateRequest& csr,
                                           Http01Responder& responder,
                                           const std::optional<std::string>& replaces) {
  auto order = new_order(dns_names, replaces);
  if (!order) return std::unexpected(order.error());
  if (order->status == "pending") {
    if (auto s = authorize_http01(*order, responder); !s) return std::unexpected(s.error());
  }
  auto done = finalize(*order, csr.to_der());
  if (!done) return std::unexpected(done.error());
  return download_certificate(done->certificate);
}

Result<std::vector<std::string>> order_names(const pki::CertificateRequest& csr) {
  std::vector<std::string> names;
  auto add = [&](const std::string& n) {
    std::string l = to_lower_ascii(n);
    if (!l.empty() && std::find(names.begin(), names.end(), l) == names.end()) names.push_back(l);
  };
  add(csr.subject_cn());
  auto sans = csr.subject_alt_names();
  for (const auto& n : sans.dns) add(n);
  // Anything http-01 cannot prove would only fail at finalize, after the
  // authorizations were spent: refuse it before sending anything.
  std::vector<std::string> unprovable;
  for (const auto& ip : sans.ip) unprovable.push_back("IP:" + ip);
  for (const auto& e : sans.email) unprovable.push_back("email:" + e);
  for (const auto& u : sans.uri) unprovable.push_back("URI:" + u);
  for (const auto& o : sans.other) unprovable.push_back(o);
  if (!unprovable.empty())
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("the CSR has names an ACME http-01 order cannot cover: {}",
                                  fmt::join(unprovable, ", ")));
  for (const auto& n : names)
    if (n.find('*') != std::string::npos)
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("wildcard name {}: http-01 cannot prove wildcards (only "
                                    "dns-01 can, which edgecert does not do)",
                                    n));
  if (names.empty())
    return make_error(ErrorCode::kInvalidArgument, "the CSR names no DNS name (no CN, no SAN)");
  return names;
}

}  // namespace edgecert::acme
