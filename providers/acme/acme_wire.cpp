// ACME wire messages: parsing of server documents, request bodies, JWS.
#include "providers/acme/acme_wire.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "providers/base/time.h"
#include "providers/base/utf8.h"
#include "providers/pki/jws.h"

namespace edgecert::acme {

using json = nlohmann::json;

namespace {

constexpr const char* kErrorPrefix = "urn:ietf:params:acme:error:";

std::string str_member(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string identifier_text(const json& id) {
  if (!id.is_object()) return "";
  return str_member(id, "type") + ":" + str_member(id, "value");
}

Result<json> parse_object(std::string_view body, const std::string& what) {
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

std::optional<Problem> error_member(const json& j) {
  if (auto it = j.find("error"); it != j.end() && it->is_object()) return problem_from_json(*it);
  return std::nullopt;
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
  const std::string prefix = kErrorPrefix;
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

namespace wire {

std::string url_path(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? url : url.substr(slash);
}

std::string names_text(const std::vector<std::string>& names) {
  if (names.size() <= 5) return fmt::format("{}", fmt::join(names, ", "));
  return fmt::format("{}, ... ({} names)",
                     fmt::join(std::vector<std::string>(names.begin(), names.begin() + 5), ", "),
                     names.size());
}

std::string describe(const Problem& p) {
  const std::string prefix = kErrorPrefix;
  auto short_type = [&](const std::string& t) {
    return t.rfind(prefix, 0) == 0 ? t.substr(prefix.size()) : t;
  };
  std::string type = short_type(p.type);
  std::string out = type.empty() ? std::string("error") : type;
  if (!p.detail.empty()) out += ": " + p.detail;
  for (const auto& s : p.subproblems)
    out += fmt::format("; [{}] {}: {}", s.identifier.empty() ? "?" : s.identifier,
                       short_type(s.type), s.detail);
  if (p.retry_after) out += fmt::format(" (retry after {} s)", p.retry_after->count());
  return out;
}

ErrorCode error_code(const Problem& p, long status) {
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

Result<Directory> parse_directory(std::string_view body, const std::string& what) {
  auto j = parse_object(body, what);
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
  return d;
}

Result<Account> parse_account(std::string_view body, std::string url, const std::string& what) {
  auto j = parse_object(body, what);
  if (!j) return std::unexpected(j.error());
  Account a;
  a.url = std::move(url);
  a.status = str_member(*j, "status");
  if (auto c = j->find("contact"); c != j->end() && c->is_array())
    for (const auto& x : *c)
      if (x.is_string()) a.contact.push_back(x.get<std::string>());
  return a;
}

Result<Order> parse_order(std::string_view body, std::string url, const std::string& what) {
  auto j = parse_object(body, what);
  if (!j) return std::unexpected(j.error());
  Order o;
  o.url = std::move(url);
  o.status = str_member(*j, "status");
  if (auto it = j->find("identifiers"); it != j->end() && it->is_array())
    for (const auto& id : *it) o.identifiers.push_back(str_member(id, "value"));
  if (auto it = j->find("authorizations"); it != j->end() && it->is_array())
    for (const auto& a : *it)
      if (a.is_string()) o.authorizations.push_back(a.get<std::string>());
  o.finalize = str_member(*j, "finalize");
  o.certificate = str_member(*j, "certificate");
  o.error = error_member(*j);
  return o;
}

Result<Authorization> parse_authorization(std::string_view body, std::string url,
                                          const std::string& what) {
  auto j = parse_object(body, what);
  if (!j) return std::unexpected(j.error());
  Authorization a;
  a.url = std::move(url);
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
      ch.error = error_member(c);
      a.challenges.push_back(std::move(ch));
    }
  }
  return a;
}

Problem parse_problem(const http::Response& r) {
  Problem p;
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) p = problem_from_json(j);
  if (p.status == 0) p.status = r.status;
  p.retry_after = retry_after(r);
  return p;
}

Result<RenewalWindow> parse_renewal_info(std::string_view body, const std::string& what) {
  auto j = parse_object(body, what);
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

std::optional<TimePoint> parse_http_date(std::string_view s) {
  // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7), the form
  // servers must send; the obsolete forms read as no date.
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
    return std::nullopt;
  auto num = [&](size_t at, size_t n) -> int {
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s[at + i];
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i)
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  int day = num(5, 2), year = num(12, 4), h = num(17, 2), mi = num(20, 2), sec = num(23, 2);
  if (!month || day < 0 || year < 0 || h < 0 || mi < 0 || sec < 0) return std::nullopt;
  return time_from_civil(year, month, static_cast<unsigned>(day), static_cast<unsigned>(h),
                         static_cast<unsigned>(mi), static_cast<unsigned>(sec));
}

std::optional<std::chrono::seconds> retry_after(const http::Response& r,
                                                std::optional<TimePoint> now) {
  auto v = r.header("retry-after");
  if (!v || v->empty()) return std::nullopt;
  if (std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Any run of digits is a valid delay-seconds; a number too long for
    // 64 bits is simply more than the cap.
    if (v->size() > 12) return kMaxRetryAfter;
    return std::min(std::chrono::seconds(std::stoll(*v)), kMaxRetryAfter);
  }
  auto when = parse_http_date(*v);
  if (!when) return std::nullopt;
  // RFC 9110 10.2.3: an HTTP-date is relative to the response's own Date
  // when it has one (the server's clock), else to ours.
  std::optional<TimePoint> base;
  if (auto date = r.header("date")) base = parse_http_date(*date);
  if (!base) base = now;
  if (!base) return std::nullopt;
  if (*when <= *base) return std::chrono::seconds(0);
  return std::min(std::chrono::ceil<std::chrono::seconds>(*when - *base), kMaxRetryAfter);
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

Result<std::string> new_account_body(const std::vector<std::string>& contact_emails,
                                     bool terms_of_service_agreed,
                                     const ExternalAccountBinding* eab,
                                     const pki::PrivateKey& account_key,
                                     const std::string& new_account_url) {
  json payload = json::object();
  if (!contact_emails.empty()) {
    json contact = json::array();
    for (const auto& e : contact_emails) contact.push_back("mailto:" + e);
    payload["contact"] = contact;
  }
  if (terms_of_service_agreed) payload["termsOfServiceAgreed"] = true;
  if (eab) {
    auto jwk = pki::jwk_json(account_key);
    if (!jwk) return std::unexpected(jwk.error());
    json prot = {{"alg", "HS256"}, {"kid", eab->kid}, {"url", new_account_url}};
    std::string p64 = pki::base64url_encode(prot.dump());
    std::string b64 = pki::base64url_encode(*jwk);
    auto mac = pki::hmac_sha256(eab->hmac_key, p64 + "." + b64);
    if (!mac) return std::unexpected(mac.error().with_context("external account binding"));
    payload["externalAccountBinding"] = {
        {"protected", p64}, {"payload", b64}, {"signature", pki::base64url_encode(*mac)}};
  }
  return payload.dump();
}

Result<std::string> key_change_body(const pki::PrivateKey& old_key, const pki::PrivateKey& new_key,
                                    const std::string& account_url,
                                    const std::string& key_change_url) {
  auto old_jwk = pki::jwk_json(old_key);
  auto new_jwk = pki::jwk_json(new_key);
  auto new_alg = pki::jws_algorithm(new_key);
  if (!old_jwk || !new_jwk || !new_alg)
    return make_error(ErrorCode::kInvalidArgument, "keyChange: unsupported key");
  json prot = {{"alg", *new_alg}, {"jwk", json::parse(*new_jwk)}, {"url", key_change_url}};
  json payload = {{"account", account_url}, {"oldKey", json::parse(*old_jwk)}};
  auto inner = pki::jws_flattened(new_key, prot.dump(), payload.dump());
  if (!inner) return std::unexpected(inner.error().with_context("keyChange"));
  return inner;
}

std::string new_order_body(const std::vector<std::string>& dns_names,
                           const std::optional<std::string>& replaces) {
  json ids = json::array();
  for (const auto& n : dns_names) ids.push_back({{"type", "dns"}, {"value", n}});
  json payload = {{"identifiers", ids}};
  if (replaces) payload["replaces"] = *replaces;
  return payload.dump();
}

std::string finalize_body(std::string_view csr_der) {
  return json{{"csr", pki::base64url_encode(csr_der)}}.dump();
}

std::string revoke_body(const pki::Certificate& cert, int reason) {
  return json{{"certificate", pki::base64url_encode(cert.to_der())}, {"reason", reason}}.dump();
}

Result<JwsSigner> JwsSigner::make(const pki::PrivateKey& key, std::string kid) {
  auto alg = pki::jws_algorithm(key);
  if (!alg) return std::unexpected(alg.error());
  std::string jwk;
  if (kid.empty()) {
    auto j = pki::jwk_json(key);
    if (!j) return std::unexpected(j.error());
    jwk = std::move(*j);
  }
  return JwsSigner(key, std::move(*alg), std::move(kid), std::move(jwk));
}

Result<std::string> JwsSigner::sign(const std::string& nonce, const std::string& url,
                                    const std::string& payload) const {
  // Every value here came from the server at some point; JSON holds UTF-8
  // only (dump() would throw), and a mangled URL must not be signed.
  for (const auto& [name, value] :
       {std::pair{"nonce", &nonce}, std::pair{"url", &url}, std::pair{"kid", &kid_}})
    if (!is_valid_utf8(*value))
      return make_error(ErrorCode::kCorrupt,
                        fmt::format("JWS protected header: the {} is not valid UTF-8", name));
  json prot = {{"alg", alg_}, {"nonce", nonce}, {"url", url}};
  if (kid_.empty())
    prot["jwk"] = json::parse(jwk_);
  else
    prot["kid"] = kid_;
  return pki::jws_flattened(*key_, prot.dump(), payload);
}

}  // namespace wire
}  // namespace edgecert::acme
