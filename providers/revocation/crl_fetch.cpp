// CrlFetcher: GET a distribution point through an http::Transport, follow
// redirects here (the transport follows none), keep the last body and its
// validators in a cache folder through the Env.
#include "providers/revocation/crl_fetch.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "providers/base/time.h"
#include "providers/pki/spki.h"
#include "providers/wire/rest_json.h"

namespace edgecert::revocation {
namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool is_http_url(const std::string& url) {
  return starts_with(url, "http://") || starts_with(url, "https://");
}

std::string status_text(long status) {
  // wire's table of standard reason phrases covers the common 4xx and 5xx
  // statuses; others print as the number alone.
  const std::string phrase = wire::rest::reason_phrase(status);
  return phrase.empty() ? fmt::format("HTTP {}", status)
                        : fmt::format("HTTP {} {}", status, phrase);
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// "scheme://authority" of an absolute http(s) URL.
std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  auto path_start = url.find_first_of("/?#", scheme_end + 3);
  return path_start == std::string::npos ? url : url.substr(0, path_start);
}

// A Location value resolved against the URL that answered (RFC 9110 §10.2.2
// allows relative references). Dot segments are left as they are: servers
// that redirect to "../x" are rare, and the loop detection compares URLs as
// sent.
std::string resolve_location(const std::string& base, const std::string& location) {
  if (is_http_url(location)) return location;
  if (starts_with(location, "//")) return base.substr(0, base.find("://") + 1) + location;
  if (starts_with(location, "/")) return origin_of(base) + location;
  std::string without_query = base.substr(0, base.find_first_of("?#"));
  auto slash = without_query.rfind('/');
  std::string dir = slash == std::string::npos || slash < base.find("://") + 3
                        ? origin_of(base) + "/"
                        : without_query.substr(0, slash + 1);
  return dir + location;
}

std::string join_chain(const std::vector<std::string>& chain) {
  std::string out;
  for (const auto& u : chain) out += (out.empty() ? "" : " -> ") + u;
  return out;
}

// Upper-case hex without leading zeros ("" for zero), so that numbers compare
// by length, then lexicographically.
std::string normalized_hex(const std::string& hex) {
  std::string out;
  for (char c : hex) {
    if (c == ':' || c == ' ') continue;
    out += static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  }
  out.erase(0, std::min(out.find_first_not_of('0'), out.size()));
  return out;
}

bool is_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
  });
}

bool hex_greater(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() > b.size();
  return a > b;
}

// What the cache keeps per URL besides the body.
struct Record {
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
  std::string final_url;
  std::string fetched_at;
  std::string body_sha256;                     // the body file this record describes
  std::map<std::string, std::string> numbers;  // CRL issuer -> highest cRLNumber (hex)
};

nlohmann::json to_json(const std::string& url, const Record& r) {
  nlohmann::json j = {{"url", url},
                      {"final_url", r.final_url},
                      {"fetched_at", r.fetched_at},
                      {"body_sha256", r.body_sha256},
                      {"crl_numbers", r.numbers}};
  if (r.etag) j["etag"] = *r.etag;
  if (r.last_modified) j["last_modified"] = *r.last_modified;
  return j;
}

std::optional<std::string> string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// An unreadable record is no record: the cache is an optimisation, and the
// next successful fetch rewrites it.
std::optional<Record> parse_record(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  Record r;
  r.etag = string_field(j, "etag");
  r.last_modified = string_field(j, "last_modified");
  r.final_url = string_field(j, "final_url").value_or("");
  r.fetched_at = string_field(j, "fetched_at").value_or("");
  r.body_sha256 = string_field(j, "body_sha256").value_or("");
  if (auto it = j.find("crl_numbers"); it != j.end() && it->is_object())
    for (const auto& [issuer, number] : it->items())
      if (number.is_string() && is_hex(number.get<std::string>()))
        r.numbers[issuer] = number.get<std::string>();
  return r;
}

}  // namespace

TransportFactory default_transport_factory() {
  // The fetcher has already read any CA bundle into options.ca_pem: this
  // Env is never asked for a file.
  return [](http::ClientOptions options) {
    return http::make_curl_transport(std::move(options), default_env());
  };
}

struct CrlFetcher::Impl {
  Env& env;
  std::string cache_dir;
  FetchOptions options;
  TransportFactory factory;
  std::unique_ptr<http::Transport> transport;  // made on first use, kept (keep-alive)

  std::string key(const std::string& url) const { return pki::sha256_hex(url); }
  std::string body_path(const std::string& url) const {
    return path_join(cache_dir, key(url) + ".crl");
  }
  std::string record_path(const std::string& url) const {
    return path_join(cache_dir, key(url) + ".json");
  }

  std::optional<Record> read_record(const std::string& url) const {
    auto text = env.read_file(record_path(url), read_limits::kState);
    if (!text) return std::nullopt;
    return parse_record(*text);
  }

  // The cached body, only when the record describes exactly these bytes (a
  // crash between the two writes leaves a record that matches no body).
  std::optional<std::string> cached_body(const std::string& url, const Record& r) const {
    auto body = env.read_file(body_path(url), read_limits::kCrl);
    if (!body || r.body_sha256 != pki::sha256_hex(*body)) return std::nullopt;
    return std::move(*body);
  }

  Status write_record(const std::string& url, const Record& r) {
    if (auto s = env.create_dirs(cache_dir, 0755); !s) return s;
    return env.write_file_atomic(record_path(url), to_json(url, r).dump(2) + "\n", 0644);
  }

  std::string trust_used() const {
    return options.ca_bundle ? "the CA bundle " + *options.ca_bundle : "the system store";
  }

  Result<http::Transport*> get_transport() {
    if (transport) return transport.get();
    http::ClientOptions o;
    o.allow_plain_http = true;  // CRLs are signed and public (RFC 5280 §4.2.1.13)
    o.max_response_bytes = options.max_bytes;
    o.connect_timeout = options.connect_timeout;
    o.request_timeout = options.timeout;
    // Read here, bounded, so the transport (libcurl) gets text, not a path.
    if (options.ca_bundle) {
      auto pem = env.read_file(*options.ca_bundle, read_limits::kCaBundle);
      if (!pem) return std::unexpected(pem.error());
      o.ca_pem = std::move(*pem);
    }
    o.tls_failure_hint = "trusting " + trust_used();
    o.user_agent = "edgecert";
    auto t = factory(std::move(o));
    if (!t) return std::unexpected(t.error());
    transport = std::move(*t);
    return transport.get();
  }
};

CrlFetcher::CrlFetcher(Env& env, std::string cache_dir, FetchOptions options,
                       TransportFactory factory)
    : impl_(std::make_unique<Impl>(
          Impl{env, std::move(cache_dir), std::move(options), std::move(factory), nullptr})) {}

CrlFetcher::~CrlFetcher() = default;

Result<Fetched> CrlFetcher::fetch(const std::string& url) {
  Impl& m = *impl_;
  if (!is_http_url(url)) return Error::InvalidArgument(url + ": not an http:// or https:// URL");
  auto transport = m.get_transport();
  if (!transport) return transport.error().with_context(url);

  std::optional<Record> record = m.read_record(url);
  std::optional<std::string> cached;
  if (record) cached = m.cached_body(url, *record);

  std::vector<std::string> chain = {url};
  std::string current = url;
  // Errors name the URL asked for, and the hop when a redirect led elsewhere.
  auto where = [&] { return current == url ? url : url + " (redirected to " + current + ")"; };
  for (;;) {
    http::Request req{.method = "GET", .target = current};
    req.accept = "application/pkix-crl, application/x-pkcs7-crl, */*";
    if (cached) {
      if (record->etag) req.headers.emplace_back("If-None-Match", *record->etag);
      if (record->last_modified)
        req.headers.emplace_back("If-Modified-Since", *record->last_modified);
    }
    auto resp = (*transport)->perform(req);
    if (!resp) {
      Error e = resp.error().with_context(where());
      if (e.code == ErrorCode::kPermission && e.message.find(m.trust_used()) == std::string::npos)
        e.message += " (trusting " + m.trust_used() + ")";
      return e;
    }
    const long status = resp->status;
    if (is_redirect(status)) {
      auto location = resp->header("location");
      if (!location || location->empty())
        return Error::InvalidArgument(
            fmt::format("{}: {} without a Location header", where(), status_text(status)));
      std::string next = resolve_location(current, *location);
      if (!is_http_url(next))
        return Error::InvalidArgument(
            fmt::format("{}: redirected to {}, not an http:// or https:// URL", where(), next));
      chain.push_back(next);
      if (std::find(chain.begin(), chain.end() - 1, next) != chain.end() - 1)
        return Error::InvalidArgument(fmt::format("{}: redirect loop: {}", url, join_chain(chain)));
      if (static_cast<int>(chain.size()) - 1 > m.options.max_redirects)
        return Error::InvalidArgument(fmt::format("{}: more than {} redirects: {}", url,
                                                  m.options.max_redirects, join_chain(chain)));
      current = std::move(next);
      continue;
    }
    if (status == 304) {
      if (!cached)
        return Error::Unavailable(where() + ": HTTP 304 Not Modified, but nothing is cached");
      Fetched f{.url = url,
                .final_url = current,
                .body = std::move(*cached),
                .from_cache = true,
                .etag = resp->header("etag").value_or(record->etag.value_or("")),
                .last_modified =
                    resp->header("last-modified").value_or(record->last_modified.value_or(""))};
      if (f.etag->empty()) f.etag.reset();
      if (f.last_modified->empty()) f.last_modified.reset();
      return f;
    }
    if (status >= 400 || status < 200)
      return Error::Unavailable(fmt::format("{}: {}", where(), status_text(status)));
    if (status != 200 && status != 203)
      return Error::Unavailable(
          fmt::format("{}: {} (expected 200 OK with the CRL)", where(), status_text(status)));

    Fetched f{.url = url,
              .final_url = current,
              .body = std::move(resp->body),
              .from_cache = false,
              .etag = resp->header("etag"),
              .last_modified = resp->header("last-modified")};
    // The body first, then the record naming its digest: a crash in between
    // leaves a record that matches no body, which reads as "nothing cached".
    Record next;
    next.etag = f.etag;
    next.last_modified = f.last_modified;
    next.final_url = f.final_url;
    next.fetched_at = format_time_iso(m.env.now());
    next.body_sha256 = pki::sha256_hex(f.body);
    if (record) next.numbers = record->numbers;
    if (auto s = m.env.create_dirs(m.cache_dir, 0755); !s)
      return s.error().with_context(url + ": cannot write the CRL cache");
    if (auto s = m.env.write_file_atomic(m.body_path(url), f.body, 0644); !s)
      return s.error().with_context(url + ": cannot write the CRL cache");
    if (auto s = m.write_record(url, next); !s)
      return s.error().with_context(url + ": cannot write the CRL cache");
    return f;
  }
}

std::optional<std::string> CrlFetcher::last_number(const std::string& url,
                                                   const std::string& issuer) const {
  auto record = impl_->read_record(url);
  if (!record) return std::nullopt;
  auto it = record->numbers.find(issuer);
  if (it == record->numbers.end()) return std::nullopt;
  return it->second;
}

Status CrlFetcher::remember_number(const std::string& url, const std::string& issuer,
                                   const std::string& number_hex) {
  std::string number = normalized_hex(number_hex);
  if (number.empty()) number = "0";
  if (!is_hex(number))
    return Error::InvalidArgument(url + ": cRLNumber " + number_hex + " is not hexadecimal");
  Record record = impl_->read_record(url).value_or(Record{});
  auto it = record.numbers.find(issuer);
  if (it != record.numbers.end() && !hex_greater(number, normalized_hex(it->second))) return {};
  record.numbers[issuer] = number;
  if (auto s = impl_->write_record(url, record); !s)
    return s.error().with_context(url + ": cannot write the CRL cache");
  return {};
}

}  // namespace edgecert::revocation
