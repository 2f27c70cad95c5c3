// Fetching CRL distribution points (http:// and https://) with a cache under
// the cluster's state folder that honours ETag and Last-Modified. Every
// network call goes through an http::Transport made by a TransportFactory, so
// tests fake the network or point it at local servers; every file through
// the Env.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/http/http_client.h"

namespace edgecert::revocation {

using TransportFactory =
    std::function<Result<std::unique_ptr<http::Transport>>(http::ClientOptions options)>;
// http::make_curl_transport.
TransportFactory default_transport_factory();

struct FetchOptions {
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds timeout{30};  // the whole transfer
  int max_redirects = 5;             // Location hops followed (loops are detected before)
  std::size_t max_bytes = 16u << 20;
  // PEM file of the CAs an https:// distribution point's server certificate
  // must chain to (spec.crl.caBundle); nullopt = the system store.
  std::optional<std::string> ca_bundle;
};

struct Fetched {
  std::string url;        // as asked
  std::string final_url;  // after redirects
  std::string body;       // the bytes (from the cache on 304 Not Modified)
  bool from_cache = false;
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
};

// One fetcher per run. The cache folder holds, per URL (file names from the
// URL's SHA-256): the last body (0644; CRLs are public) and a small JSON
// record (etag, last_modified, final URL, fetched at, and the highest
// cRLNumber seen per CRL issuer), each written atomically through the Env.
class CrlFetcher {
 public:
  CrlFetcher(Env& env, std::string cache_dir, FetchOptions options,
             TransportFactory factory = default_transport_factory());
  ~CrlFetcher();
  CrlFetcher(const CrlFetcher&) = delete;
  CrlFetcher& operator=(const CrlFetcher&) = delete;

  // GET `url` (conditional when cached). Errors start with the URL:
  // - kUnavailable: cannot connect, timed out, HTTP status >= 400
  //   ("http://x/a.crl: HTTP 404 Not Found"), a 304 without a cached body
  // - kPermission: the https server's certificate does not verify (names the
  //   trust used: the bundle's path or "the system store")
  // - kInvalidArgument: not http/https, too large ("larger than 16777216
  //   bytes"), a redirect loop ("redirect loop: a -> b -> a"), more than
  //   max_redirects hops, a 3xx without Location
  // A failed fetch never touches the cache.
  Result<Fetched> fetch(const std::string& url);

  // The highest cRLNumber (hex) recorded for (url, CRL issuer), if any.
  std::optional<std::string> last_number(const std::string& url, const std::string& issuer) const;
  // Records `number` for (url, issuer) when higher than the one recorded.
  Status remember_number(const std::string& url, const std::string& issuer,
                         const std::string& number_hex);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgecert::revocation
