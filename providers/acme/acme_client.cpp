// RFC 8555 ACME client over an http::Transport.
#include "providers/acme/acme_client.h"

#include <algorithm>
#include <ctime>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "providers/pki/jws.h"
#include "schema/names.h"

namespace edgecert::acme {

using json = nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr size_t kMaxPooledNonces = 64;
constexpr const char* kJose = "application/jose+json";

// "https://host:port/a/b?x" -> "/a/b?x": errors name the endpoint, not the
// whole URL (which Pebble randomises anyway).
std::string url_path(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? url : url.substr(slash);
}

std::string str_member(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string identifier_text(const json& id) {
  if (!id.is_object()) return "";
  return str_member(id, "type") + ":" + str_member(id, "value");
}

Result<json> parse_json(const std::string& body, const std::string& what) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorCode::kCorrupt, fmt::format("{}: response is not a JSON object", what));
  return j;
}

Problem problem_from_json(const json& j) {
  Problem p;
  p.type = str_member(j, "type");
  p.kind = problem_kind(p.type);
  p.detail = str_member(j, "detail");
  if (auto it = j.find("status"); it != j.end() && it->is_number_integer())
    p.status = it->get<long>();
  if (auto it = j.find("subproblems"); it != j.end() && it->is_array()) {
    for (const auto& s : *it) {
      if (!s.is_object()) continue;
      Subproblem sp;
      sp.type = str_member(s, "type");
      sp.detail = str_member(s, "detail");
      if (auto id = s.find("identifier"); id != s.end()) sp.identifier = identifier_text(*id);
      p.subproblems.push_back(std::move(sp));
    }
  }
  return p;
}

std::string describe(const Problem& p) {
  std::string type = p.type;
  const std::string prefix = "urn:ietf:params:acme:error:";
  if (type.rfind(prefix, 0) == 0) type = type.substr(prefix.size());
  std::string out = type.empty() ? std::string("error") : type;
  if (!p.detail.empty()) out += ": " + p.detail;
  for (const auto& s : p.subproblems) {
    std::string st = s.type.rfind(prefix, 0) == 0 ? s.type.substr(prefix.size()) : s.type;
    out += fmt::format("; [{}] {}: {}", s.identifier.empty() ? "?" : s.identifier, st, s.detail);
  }
  if (p.retry_after) out += fmt::format(" (retry after {} s)", p.retry_after->count());
  return out;
}

ErrorCode code_for(const Problem& p, long status) {
  switch (p.kind) {
    case ProblemKind::kBadNonce:
    case ProblemKind::kRateLimited:
    case ProblemKind::kServerInternal:
    case ProblemKind::kConnection:
      return ErrorCode::kUnavailable;
    case ProblemKind::kUnauthorized:
    case ProblemKind::kExternalAccountRequired:
      return ErrorCode::kPermission;
    case ProblemKind::kAccountDoesNotExist:
      return ErrorCode::kNotFound;
    case ProblemKind::kAlreadyRevoked:
      return ErrorCode::kAlreadyExists;
    case ProblemKind::kMalformed:
    case ProblemKind::kRejectedIdentifier:
    case ProblemKind::kBadCsr:
    case ProblemKind::kBadRevocationReason:
    case ProblemKind::kIncorrectResponse:
      return ErrorCode::kInvalidArgument;
    default:
      return status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument;
  }
}

std::optional<std::chrono::seconds> parse_retry_after(const http::Response& r) {
  auto v = r.header("retry-after");
  if (!v || v->empty()) return std::nullopt;
  if (std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    try {
      return std::chrono::seconds(std::stoll(*v));
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;  // HTTP-date form: treated as "no hint"
}

// RFC 3339 "2026-01-02T03:04:05[.123]Z" or with a "+hh:mm"/"-hh:mm" offset.
std::optional<TimePoint> parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                  &consumed) < 6)
    return std::nullopt;
  size_t pos = static_cast<size_t>(consumed);
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (oh * 3600L + om * 60L) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  return Clock::from_time_t(t) - std::chrono::seconds(offset);
}

std::vector<std::string> identifiers_of(const json& j) {
  std::vector<std::string> out;
  if (auto it = j.find("identifiers"); it != j.end() && it->is_array())
    for (const auto& id : *it) out.push_back(str_member(id, "value"));
  return out;
}

Order order_from_json(const json& j, std::string url) {
  Order o;
  o.url = std::move(url);
  o.status = str_member(j, "status");
  o.identifiers = identifiers_of(j);
  if (auto it = j.find("authorizations"); it != j.end() && it->is_array())
    for (const auto& a : *it)
      if (a.is_string()) o.authorizations.push_back(a.get<std::string>());
  o.finalize = str_member(j, "finalize");
  o.certificate = str_member(j, "certificate");
  if (auto it = j.find("error"); it != j.end() && it->is_object()) o.error = problem_from_json(*it);
  return o;
}

std::string names_text(const std::vector<std::string>& names) {
  if (names.size() <= 5) return fmt::format("{}", fmt::join(names, ", "));
  return fmt::format("{}, ... ({} names)",
                     fmt::join(std::vector<std::string>(names.begin(), names.begin() + 5), ", "),
                     names.size());
}

// Link: <url>;rel="alternate", <url2>;rel="up"
std::vector<std::string> links_with_rel(const http::Response& r, const std::string& rel) {
  std::vector<std::string> out;
  for (const auto& value : r.header_all("link")) {
    size_t pos = 0;
    while ((pos = value.find('<', pos)) != std::string::npos) {
      size_t end = value.find('>', pos);
      if (end == std::string::npos) break;
      std::string url = value.substr(pos + 1, end - pos - 1);
      size_t next = value.find('<', end);
      std::string params =
          value.substr(end + 1, next == std::string::npos ? std::string::npos : next - end - 1);
      params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
      if (params.find("rel=\"" + rel + "\"") != std::string::npos ||
          params.find("rel=" + rel + ";") != std::string::npos ||
          (params.size() >= rel.size() + 4 &&
           params.rfind("rel=" + rel) == params.size() - rel.size() - 4))
        out.push_back(url);
      pos = end;
    }
  }
  return out;
}

Result<std::string> hex_to_bytes(const std::string& hex) {
  std::string clean;
  for (char c : hex)
    if (c != ':') clean += c;
  if (clean.size() % 2) clean.insert(clean.begin(), '0');
  std::string out;
  for (size_t i = 0; i < clean.size(); i += 2) {
    try {
      out += static_cast<char>(std::stoi(clean.substr(i, 2), nullptr, 16));
    } catch (...) {
      return make_error(ErrorCode::kInvalidArgument, "bad hex");
    }
  }
  return out;
}

}  // namespace

ProblemKind problem_kind(const std::string& type) {
  const std::string prefix = "urn:ietf:params:acme:error:";
  if (type.rfind(prefix, 0) != 0) return type.empty() ? ProblemKind::kNone : ProblemKind::kOther;
  std::string t = type.substr(prefix.size());
  if (t == "badNonce") return ProblemKind::kBadNonce;
  if (t == "rateLimited") return ProblemKind::kRateLimited;
  if (t == "unauthorized") return ProblemKind::kUnauthorized;
  if (t == "rejectedIdentifier") return ProblemKind::kRejectedIdentifier;
  if (t == "malformed") return ProblemKind::kMalformed;
  if (t == "serverInternal") return ProblemKind::kServerInternal;
  if (t == "accountDoesNotExist") return ProblemKind::kAccountDoesNotExist;
  if (t == "alreadyRevoked") return ProblemKind::kAlreadyRevoked;
  if (t == "badCSR") return ProblemKind::kBadCsr;
  if (t == "badRevocationReason") return ProblemKind::kBadRevocationReason;
  if (t == "externalAccountRequired") return ProblemKind::kExternalAccountRequired;
  if (t == "connection") return ProblemKind::kConnection;
  if (t == "incorrectResponse") return ProblemKind::kIncorrectResponse;
  return ProblemKind::kOther;
}

http::ClientOptions acme_client_options() {
  http::ClientOptions o;
  o.user_agent = "edgecert-acme";
  o.allow_loopback_http = true;
  o.reuse_connections_for_writes = true;
  return o;
}

Result<pki::PrivateKey> load_or_create_account_key(Env& env, const std::string& path) {
  if (env.exists(path)) {
    auto data = env.read_file(path);
    if (!data) return std::unexpected(data.error().with_context("ACME account key"));
    return pki::PrivateKey::parse(*data, path);
  }
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  if (!key) return std::unexpected(key.error());
  if (auto d = env.create_dirs(path_dirname(path), 0700); !d) return std::unexpected(d.error());
  if (auto s = pki::write_private_key(env, path, *key); !s)
    return std::unexpected(s.error().with_context("ACME account key"));
  return key;
}

Result<std::string> ari_cert_id(const pki::Certificate& cert) {
  std::string aki_hex = cert.authority_key_id();
  if (aki_hex.empty())
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("certificate {} has no authority key identifier (ARI needs it)",
                                  cert.subject()));
  auto aki = hex_to_bytes(aki_hex);
  auto serial = hex_to_bytes(cert.serial_hex());
  if (!aki || !serial) return make_error(ErrorCode::kInternal, "cannot decode AKI or serial");
  // DER INTEGER contents: a positive serial whose top bit is set gets a 0x00.
  std::string s = *serial;
  while (s.size() > 1 && s[0] == '\0' && !(static_cast<unsigned char>(s[1]) & 0x80)) s.erase(0, 1);
  if (!s.empty() && (static_cast<unsigned char>(s[0]) & 0x80)) s.insert(s.begin(), '\0');
  return pki::base64url_encode(*aki) + "." + pki::base64url_encode(s);
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
  auto j = parse_json(r->body, what);
  if (!j) return std::unexpected(j.error());
  Directory d;
  d.new_nonce = str_member(*j, "newNonce");
  d.new_account = str_member(*j, "newAccount");
  d.new_order = str_member(*j, "newOrder");
  d.revoke_cert = str_member(*j, "revokeCert");
  d.key_change = str_member(*j, "keyChange");
  d.new_authz = str_member(*j, "newAuthz");
  d.renewal_info = str_member(*j, "renewalInfo");
  if (auto m = j->find("meta"); m != j->end() && m->is_object()) {
    d.terms_of_service = str_member(*m, "termsOfService");
    if (auto e = m->find("externalAccountRequired"); e != m->end() && e->is_boolean())
      d.external_account_required = e->get<bool>();
  }
  if (d.new_nonce.empty() || d.new_account.empty() || d.new_order.empty())
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: directory lacks newNonce/newAccount/newOrder", what));
  take_nonce(*r);
  dir_ = d;
  return d;
}

void AcmeClient::take_nonce(const http::Response& r) {
  if (auto n = r.header("replay-nonce"); n && !n->empty()) {
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
                        fmt::format("{}: HTTP {} without Replay-Nonce", what, r->status));
  }
  std::string n = std::move(nonces_.back());
  nonces_.pop_back();
  return n;
}

Error AcmeClient::problem_error(const std::string& method, const std::string& url,
                                const http::Response& r, const std::string& what) {
  Problem p;
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) p = problem_from_json(j);
  if (p.status == 0) p.status = r.status;
  p.retry_after = parse_retry_after(r);
  std::string text = p.type.empty() ? fmt::format("HTTP {}", r.status) : describe(p);
  last_problem_ = p;
  return Error{code_for(p, r.status),
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
  auto alg = pki::jws_algorithm(key);
  if (!alg) return std::unexpected(alg.error().with_context(what));
  json jwk;
  if (use_jwk) {
    auto jj = pki::jwk_json(key);
    if (!jj) return std::unexpected(jj.error().with_context(what));
    jwk = json::parse(*jj);
  } else if (kid_.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("ACME POST {} ({}): no account (create or find one first)",
                                  url_path(url), what));
  }
  for (int attempt = 0;; ++attempt) {
    auto n = nonce();
    if (!n) return std::unexpected(n.error().with_context(what));
    json prot = {{"alg", *alg}, {"nonce", *n}, {"url", url}};
    if (use_jwk)
      prot["jwk"] = jwk;
    else
      prot["kid"] = kid_;
    auto body = pki::jws_flattened(key, prot.dump(), payload);
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
    last_retry_after_ = parse_retry_after(*r);
    Reply reply{std::move(*r), ""};
    if (auto loc = reply.http.header("location")) reply.location = *loc;
    return reply;
  }
}

milliseconds AcmeClient::wait_time(const http::Response& r, milliseconds& backoff,
                                   TimePoint deadline) {
  auto remaining = std::chrono::duration_cast<milliseconds>(deadline - env_.now());
  if (remaining <= milliseconds(0)) return milliseconds(0);
  milliseconds wait;
  if (auto ra = parse_retry_after(r)) {
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
  json payload = json::object();
  if (!options.contact_emails.empty()) {
    json contact = json::array();
    for (const auto& e : options.contact_emails) contact.push_back("mailto:" + e);
    payload["contact"] = contact;
  }
  if (options.terms_of_service_agreed) payload["termsOfServiceAgreed"] = true;
  if (options.eab) {
    // RFC 8555 7.3.4: a JWS over our public JWK, MACed with the CA's key.
    auto jwk = pki::jwk_json(key_);
    if (!jwk) return std::unexpected(jwk.error());
    json prot = {{"alg", "HS256"}, {"kid", options.eab->kid}, {"url", d->new_account}};
    std::string p64 = pki::base64url_encode(prot.dump());
    std::string b64 = pki::base64url_encode(*jwk);
    auto mac = pki::hmac_sha256(options.eab->hmac_key, p64 + "." + b64);
    if (!mac) return std::unexpected(mac.error().with_context("external account binding"));
    payload["externalAccountBinding"] = {
        {"protected", p64}, {"payload", b64}, {"signature", pki::base64url_encode(*mac)}};
  } else if (d->external_account_required) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("ACME {}: the server requires external account binding",
                                  url_path(d->new_account)));
  }
  auto r = post(d->new_account, payload.dump(), true, "newAccount");
  if (!r) return std::unexpected(r.error());
  auto j = parse_json(r->http.body, "newAccount");
  if (!j) return std::unexpected(j.error());
  Account a;
  a.url = r->location;
  a.status = str_member(*j, "status");
  if (auto c = j->find("contact"); c != j->end() && c->is_array())
    for (const auto& x : *c)
      if (x.is_string()) a.contact.push_back(x.get<std::string>());
  if (a.url.empty())
    return make_error(ErrorCode::kCorrupt, fmt::format("ACME POST {} (newAccount): no Location",
                                                       url_path(d->new_account)));
  kid_ = a.url;
  return a;
}

Result<Account> AcmeClient::find_account() {
  auto d = directory();
  if (!d) return std::unexpected(d.error());
  auto r = post(d->new_account, R"({"onlyReturnExisting":true})", true, "find account");
  if (!r) return std::unexpected(r.error());
  auto j = parse_json(r->http.body, "find account");
  if (!j) return std::unexpected(j.error());
  Account a;
  a.url = r->location;
  a.status = str_member(*j, "status");
  kid_ = a.url;
  return a;
}

Status AcmeClient::change_key(pki::PrivateKey new_key) {
  auto d = directory();
  if (!d) return std::unexpected(d.error());
  if (d->key_change.empty())
    return make_error(ErrorCode::kInvalidArgument, "ACME directory has no keyChange");
  if (kid_.empty()) return make_error(ErrorCode::kInvalidArgument, "keyChange: no account");
  auto old_jwk = pki::jwk_json(key_);
  auto new_jwk = pki::jwk_json(new_key);
  auto new_alg = pki::jws_algorithm(new_key);
  if (!old_jwk || !new_jwk || !new_alg)
    return make_error(ErrorCode::kInvalidArgument, "keyChange: unsupported key");
  // Inner JWS: signed by the new key, carries its JWK, no nonce (7.3.5).
  json inner_prot = {{"alg", *new_alg}, {"jwk", json::parse(*new_jwk)}, {"url", d->key_change}};
  json inner_payload = {{"account", kid_}, {"oldKey", json::parse(*old_jwk)}};
  auto inner = pki::jws_flattened(new_key, inner_prot.dump(), inner_payload.dump());
  if (!inner) return std::unexpected(inner.error().with_context("keyChange"));
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
  json ids = json::array();
  for (const auto& n : dns_names) ids.push_back({{"type", "dns"}, {"value", n}});
  json payload = {{"identifiers", ids}};
  // RFC 9773: "replaces" only towards a server that speaks ARI.
  if (replaces && !d->renewal_info.empty()) payload["replaces"] = *replaces;
  std::string what = "newOrder for " + names_text(dns_names);
  auto r = post(d->new_order, payload.dump(), false, what);
  if (!r) return std::unexpected(r.error());
  auto j = parse_json(r->http.body, what);
  if (!j) return std::unexpected(j.error());
  if (r->location.empty())
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("ACME POST {} ({}): no Location", url_path(d->new_order), what));
  return order_from_json(*j, r->location);
}

Result<Order> AcmeClient::get_order(const std::string& url) {
  auto r = post(url, "", false, "order");
  if (!r) return std::unexpected(r.error());
  auto j = parse_json(r->http.body, "order " + url_path(url));
  if (!j) return std::unexpected(j.error());
  return order_from_json(*j, url);
}

Result<Authorization> AcmeClient::get_authorization(const std::string& url) {
  auto r = post(url, "", false, "authorization");
  if (!r) return std::unexpected(r.error());
  auto j = parse_json(r->http.body, "authorization " + url_path(url));
  if (!j) return std::unexpected(j.error());
  Authorization a;
  a.url = url;
  a.status = str_member(*j, "status");
  if (auto id = j->find("identifier"); id != j->end()) a.identifier = str_member(*id, "value");
  if (auto w = j->find("wildcard"); w != j->end() && w->is_boolean()) a.wildcard = w->get<bool>();
  if (auto cs = j->find("challenges"); cs != j->end() && cs->is_array()) {
    for (const auto& c : *cs) {
      Challenge ch;
      ch.type = str_member(c, "type");
      ch.url = str_member(c, "url");
      ch.status = str_member(c, "status");
      ch.token = str_member(c, "token");
      if (auto e = c.find("error"); e != c.end() && e->is_object())
        ch.error = problem_from_json(*e);
      a.challenges.push_back(std::move(ch));
    }
  }
  return a;
}

Status AcmeClient::authorize_http01(const Order& order, Http01Responder& responder) {
  auto thumb = pki::jwk_thumbprint(key_);
  if (!thumb) return std::unexpected(thumb.error());
  struct Pending {
    std::string authz_url, domain, token;
  };
  std::vector<Pending> pending;
  auto cleanup_all = [&] {
    for (const auto& p : pending) (void)responder.cleanup(p.domain, p.token);
  };
  // First pass: present every token and trigger every challenge, so the CA
  // validates them in parallel; then poll.
  for (const auto& url : order.authorizations) {
    auto a = get_authorization(url);
    if (!a) {
      cleanup_all();
      return std::unexpected(a.error());
    }
    if (a->status == "valid") continue;  // reused authorization: nothing to do
    if (a->status != "pending") {
      cleanup_all();
      return make_error(ErrorCode::kPermission,
                        fmt::format("ACME authorization {} for {}: status {}", url_path(url),
                                    a->identifier, a->status));
    }
    const Challenge* ch = nullptr;
    for (const auto& c : a->challenges)
      if (c.type == "http-01") ch = &c;
    if (!ch) {
      cleanup_all();
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("ACME authorization {} for {}: no http-01 challenge offered",
                                    url_path(url), a->identifier));
    }
    if (ch->status == "valid") continue;  // never re-POST a valid challenge
    if (auto s = responder.present(a->identifier, ch->token, ch->token + "." + *thumb); !s) {
      cleanup_all();
      return s;
    }
    pending.push_back({url, a->identifier, ch->token});
    if (ch->status == "pending") {
      auto r = post(ch->url, "{}", false, "http-01 challenge for " + a->identifier);
      if (!r) {
        cleanup_all();
        return std::unexpected(r.error());
      }
    }
  }
  // Why an authorization is not valid, or nullopt while it is pending.
  auto failure = [&](const Authorization& a, const Pending& p) -> std::optional<Error> {
    if (a.status == "valid" || a.status == "pending") return std::nullopt;
    std::string why;
    for (const auto& c : a.challenges)
      if (c.error) why = describe(*c.error);
    return Error{ErrorCode::kPermission,
                 fmt::format("ACME authorization {} for {}: {}{}", url_path(p.authz_url), p.domain,
                             a.status, why.empty() ? "" : ": " + why)};
  };
  Status result;
  // One deadline for the whole wait, whichever way it is done.
  TimePoint deadline = env_.now() + options_.poll_timeout;
  bool order_failed = false;
  std::optional<Problem> order_problem;
  if (!pending.empty() && !order.url.empty()) {
    // Wait on the order, not on each authorization: it leaves "pending" once
    // every authorization is valid or one has failed, so a round costs one
    // request whatever the number of names (a 100-name order would otherwise
    // poll 100 URLs). The authorizations are read only to say which name
    // failed, and why.
    milliseconds backoff = options_.poll_initial;
    std::string what = "wait for authorizations of " + names_text(order.identifiers);
    for (;;) {
      auto r = post(order.url, "", false, what);
      if (!r) {
        cleanup_all();
        return std::unexpected(r.error());
      }
      auto j = parse_json(r->http.body, what);
      if (!j) {
        cleanup_all();
        return std::unexpected(j.error());
      }
      std::string status = str_member(*j, "status");
      if (status == "ready" || status == "processing" || status == "valid") {
        cleanup_all();
        return result;
      }
      if (status != "pending") {
        order_failed = true;
        order_problem = order_from_json(*j, order.url).error;
        break;
      }
      milliseconds w = wait_time(r->http, backoff, deadline);
      if (w <= milliseconds(0)) break;  // reported below, per authorization
      env_.sleep_for(w);
    }
    if (order_failed) {
      // Name the authorization(s) that failed; a pending one is not waited for.
      for (const auto& p : pending) {
        auto a = get_authorization(p.authz_url);
        if (!a) {
          result = std::unexpected(a.error());
          break;
        }
        if (auto e = failure(*a, p)) {
          result = std::unexpected(*e);
          break;
        }
      }
      if (result)
        result = make_error(ErrorCode::kPermission,
                            fmt::format("ACME order {} ({}): invalid{}", url_path(order.url), what,
                                        order_problem ? ": " + describe(*order_problem) : ""));
      cleanup_all();
      return result;
    }
  }
  for (const auto& p : pending) {
    milliseconds backoff = options_.poll_initial;
    for (;;) {
      auto a = get_authorization(p.authz_url);
      if (!a) {
        result = std::unexpected(a.error());
        break;
      }
      if (a->status == "valid") break;
      if (auto e = failure(*a, p)) {
        result = std::unexpected(*e);
        break;
      }
      http::Response hint;
      if (last_retry_after_)
        hint.headers.emplace_back("retry-after", std::to_string(last_retry_after_->count()));
      milliseconds w = wait_time(hint, backoff, deadline);
      if (w <= milliseconds(0)) {
        result =
            make_error(ErrorCode::kUnavailable,
                       fmt::format("ACME authorization {} for {}: still pending after {} s",
                                   url_path(p.authz_url), p.domain, options_.poll_timeout.count()));
        break;
      }
      env_.sleep_for(w);
    }
    if (!result) break;
  }
  cleanup_all();
  return result;
}

Result<Order> AcmeClient::finalize(const Order& order, const std::string& csr_der) {
  std::string what = "finalize " + names_text(order.identifiers);
  TimePoint deadline = env_.now() + options_.poll_timeout;
  milliseconds backoff = options_.poll_initial;
  Order current = order;
  // Wait for "ready" (the CA may lag behind the last valid authorization).
  while (current.status == "pending") {
    auto r = post(current.url, "", false, what);
    if (!r) return std::unexpected(r.error());
    auto j = parse_json(r->http.body, what);
    if (!j) return std::unexpected(j.error());
    current = order_from_json(*j, order.url);
    if (current.status != "pending") break;
    milliseconds w = wait_time(r->http, backoff, deadline);
    if (w <= milliseconds(0))
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("ACME order {} ({}): not ready in time", url_path(order.url), what));
    env_.sleep_for(w);
  }
  if (current.status == "ready") {
    json payload = {{"csr", pki::base64url_encode(csr_der)}};
    auto r = post(current.finalize, payload.dump(), false, what);
    if (!r) return std::unexpected(r.error());
    auto j = parse_json(r->http.body, what);
    if (!j) return std::unexpected(j.error());
    current = order_from_json(*j, order.url);
    backoff = options_.poll_initial;
    http::Response last = r->http;
    while (current.status == "processing") {
      milliseconds w = wait_time(last, backoff, deadline);
      if (w <= milliseconds(0))
        return make_error(ErrorCode::kUnavailable,
                          fmt::format("ACME order {} ({}): still processing after {} s",
                                      url_path(order.url), what, options_.poll_timeout.count()));
      env_.sleep_for(w);
      auto g = post(order.url, "", false, what);
      if (!g) return std::unexpected(g.error());
      auto gj = parse_json(g->http.body, what);
      if (!gj) return std::unexpected(gj.error());
      current = order_from_json(*gj, order.url);
      last = g->http;
    }
  }
  if (current.status != "valid") {
    std::string why = current.error ? ": " + describe(*current.error) : "";
    return make_error(ErrorCode::kPermission,
                      fmt::format("ACME order {} ({}): status {}{}", url_path(order.url), what,
                                  current.status, why));
  }
  if (current.certificate.empty())
    return make_error(
        ErrorCode::kCorrupt,
        fmt::format("ACME order {}: valid without certificate URL", url_path(order.url)));
  return current;
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
    for (const auto& alt : links_with_rel(r->http, "alternate")) {
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
  json payload = {{"certificate", pki::base64url_encode(cert.to_der())},
                  {"reason", static_cast<int>(reason)}};
  std::string what = fmt::format("revoke serial {}", cert.serial_hex());
  auto r = certificate_key ? post_with(d->revoke_cert, payload.dump(), *certificate_key, true, what)
                           : post(d->revoke_cert, payload.dump(), false, what);
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
  auto j = parse_json(r->body, what);
  if (!j) return std::unexpected(j.error());
  auto w = j->find("suggestedWindow");
  if (w == j->end() || !w->is_object())
    return make_error(ErrorCode::kCorrupt, what + ": no suggestedWindow");
  auto start = parse_rfc3339(str_member(*w, "start"));
  auto end = parse_rfc3339(str_member(*w, "end"));
  if (!start || !end || *end < *start)
    return make_error(ErrorCode::kCorrupt, what + ": bad suggestedWindow");
  return RenewalWindow{*start, *end, str_member(*j, "explanationURL")};
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
