// CrlFetcher against real local HTTP and HTTPS servers (cpp-httplib on free
// loopback ports) through the real libcurl transport, with the cache in a
// MemoryEnv.
#include "providers/revocation/crl_fetch.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "tests/support/local_http_server.h"
#include "tests/support/test_support.h"

namespace edgecert::revocation {
namespace {

using testing::LocalHttpServer;
using testing::TempDir;

const std::string kCache = "/state/crl-cache";
const std::string kCrlBody = std::string("0\x82\x01\x02 a DER CRL stand-in \x00\xff", 27);

FetchOptions quick_options() {
  FetchOptions o;
  o.connect_timeout = std::chrono::seconds(2);
  o.timeout = std::chrono::seconds(10);
  return o;
}

// Every file of the cache folder with its content.
std::map<std::string, std::string> cache_files(MemoryEnv& env) {
  std::map<std::string, std::string> out;
  auto names = env.list_dir(kCache);
  if (!names) return out;
  for (const auto& n : *names) out[n] = env.read_file(path_join(kCache, n)).value_or("?");
  return out;
}

void serve_crl(httplib::Response& res, const std::string& body) {
  res.set_content(body, "application/pkix-crl");
}

TEST_CASE("CrlFetcher: 200 returns the body and caches it", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  http.server().Get("/a.crl", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"v1\"");
    serve_crl(res, kCrlBody);
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE(f);
  CHECK(f->body == kCrlBody);
  CHECK(f->url == http.url("/a.crl"));
  CHECK(f->final_url == http.url("/a.crl"));
  CHECK_FALSE(f->from_cache);
  CHECK(f->etag == std::optional<std::string>("\"v1\""));
  auto files = cache_files(env);
  REQUIRE(files.size() == 2);  // the body and its record
  bool body_cached = false;
  for (const auto& [name, content] : files) {
    if (content == kCrlBody) {
      body_cached = true;
      CHECK(env.file_mode(path_join(kCache, name)).value_or(0) == 0644);
    }
  }
  CHECK(body_cached);
}

TEST_CASE("CrlFetcher: 304 Not Modified answers from the cache (ETag)", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  std::string seen_if_none_match;
  int full_answers = 0;
  http.server().Get("/a.crl", [&](const httplib::Request& req, httplib::Response& res) {
    seen_if_none_match = req.get_header_value("If-None-Match");
    if (seen_if_none_match == "\"v1\"") {
      res.status = 304;
      return;
    }
    ++full_answers;
    res.set_header("ETag", "\"v1\"");
    serve_crl(res, kCrlBody);
  });
  http.start();
  MemoryEnv env;
  {
    CrlFetcher first(env, kCache, quick_options());
    REQUIRE(first.fetch(http.url("/a.crl")));
  }
  CrlFetcher fetcher(env, kCache, quick_options());  // a later run
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE(f);
  CHECK(seen_if_none_match == "\"v1\"");
  CHECK(full_answers == 1);
  CHECK(f->from_cache);
  CHECK(f->body == kCrlBody);
  CHECK(f->etag == std::optional<std::string>("\"v1\""));
}

TEST_CASE("CrlFetcher: 304 Not Modified answers from the cache (Last-Modified)",
          "[revocation][crl_fetch]") {
  LocalHttpServer http;
  const std::string stamp = "Wed, 02 Dec 2026 10:00:00 GMT";
  std::string seen_since;
  std::string seen_if_none_match;
  http.server().Get("/a.crl", [&](const httplib::Request& req, httplib::Response& res) {
    seen_since = req.get_header_value("If-Modified-Since");
    seen_if_none_match = req.get_header_value("If-None-Match");
    if (seen_since == stamp) {
      res.status = 304;
      return;
    }
    res.set_header("Last-Modified", stamp);
    serve_crl(res, kCrlBody);
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  auto first = fetcher.fetch(http.url("/a.crl"));
  REQUIRE(first);
  CHECK(seen_since.empty());
  CHECK(first->last_modified == std::optional<std::string>(stamp));
  auto second = fetcher.fetch(http.url("/a.crl"));
  REQUIRE(second);
  CHECK(seen_since == stamp);
  CHECK(seen_if_none_match.empty());  // no ETag was given
  CHECK(second->from_cache);
  CHECK(second->body == kCrlBody);
}

TEST_CASE("CrlFetcher: a changed CRL replaces the cached one", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  std::string current = "first";
  http.server().Get("/a.crl", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string tag = "\"" + current + "\"";
    if (req.get_header_value("If-None-Match") == tag) {
      res.status = 304;
      return;
    }
    res.set_header("ETag", tag);
    serve_crl(res, current);
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  REQUIRE(fetcher.fetch(http.url("/a.crl")).value().body == "first");
  current = "second";
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE(f);
  CHECK_FALSE(f->from_cache);
  CHECK(f->body == "second");
  auto again = fetcher.fetch(http.url("/a.crl"));
  REQUIRE(again);
  CHECK(again->from_cache);
  CHECK(again->body == "second");
}

TEST_CASE("CrlFetcher: 304 with nothing cached is unavailable", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  http.server().Get("/a.crl",
                    [](const httplib::Request&, httplib::Response& res) { res.status = 304; });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kUnavailable);
  CHECK(f.error().message == http.url("/a.crl") + ": HTTP 304 Not Modified, but nothing is cached");
  CHECK(cache_files(env).empty());
}

TEST_CASE("CrlFetcher: follows a redirect chain", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  LocalHttpServer other;  // a second server: an absolute Location elsewhere
  other.server().Get("/final.crl", [](const httplib::Request&, httplib::Response& res) {
    serve_crl(res, kCrlBody);
  });
  other.start();
  http.server().Get("/dp/a.crl", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "b.crl");  // relative to /dp/
  });
  http.server().Get("/dp/b.crl", [](const httplib::Request&, httplib::Response& res) {
    res.status = 301;
    res.set_header("Location", "/c.crl");
  });
  http.server().Get("/c.crl", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 307;
    res.set_header("Location", other.url("/final.crl"));
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  auto f = fetcher.fetch(http.url("/dp/a.crl"));
  REQUIRE(f);
  CHECK(f->body == kCrlBody);
  CHECK(f->url == http.url("/dp/a.crl"));
  CHECK(f->final_url == other.url("/final.crl"));
}

TEST_CASE("CrlFetcher: a redirect loop is refused", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  http.server().Get("/a.crl", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/b.crl");
  });
  http.server().Get("/b.crl", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/a.crl");
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kInvalidArgument);
  const std::string a = http.url("/a.crl");
  const std::string b = http.url("/b.crl");
  CHECK(f.error().message == a + ": redirect loop: " + a + " -> " + b + " -> " + a);
  CHECK(cache_files(env).empty());
}

TEST_CASE("CrlFetcher: more than max_redirects hops are refused", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  // /hop/N redirects to /hop/N+1 for ever (no loop).
  http.server().Get(R"(/hop/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/hop/" + std::to_string(std::stoi(req.matches[1].str()) + 1));
  });
  http.server().Get("/two", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/one");
  });
  http.server().Get("/one", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/zero");
  });
  http.server().Get(
      "/zero", [](const httplib::Request&, httplib::Response& res) { serve_crl(res, kCrlBody); });
  http.start();
  MemoryEnv env;
  FetchOptions o = quick_options();
  o.max_redirects = 2;
  CrlFetcher fetcher(env, kCache, o);
  auto f = fetcher.fetch(http.url("/hop/0"));
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kInvalidArgument);
  CHECK(f.error().message == fmt::format("{}: more than 2 redirects: {} -> {} -> {} -> {}",
                                         http.url("/hop/0"), http.url("/hop/0"), http.url("/hop/1"),
                                         http.url("/hop/2"), http.url("/hop/3")));

  // Exactly max_redirects hops are followed.
  auto ok = fetcher.fetch(http.url("/two"));
  REQUIRE(ok);
  CHECK(ok->final_url == http.url("/zero"));
}

TEST_CASE("CrlFetcher: a redirect without Location is refused", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  http.server().Get("/a.crl",
                    [](const httplib::Request&, httplib::Response& res) { res.status = 302; });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kInvalidArgument);
  CHECK(f.error().message == http.url("/a.crl") + ": HTTP 302 Found without a Location header");
}

TEST_CASE("CrlFetcher: HTTP 404 is unavailable and leaves the cache alone",
          "[revocation][crl_fetch]") {
  LocalHttpServer http;
  std::atomic<bool> gone{false};
  http.server().Get("/a.crl", [&](const httplib::Request&, httplib::Response& res) {
    if (gone) {
      res.status = 404;
      res.set_content("<html>not here</html>", "text/html");
      return;
    }
    res.set_header("ETag", "\"v1\"");
    serve_crl(res, kCrlBody);
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  REQUIRE(fetcher.fetch(http.url("/a.crl")));
  const auto before = cache_files(env);
  gone = true;
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kUnavailable);
  CHECK(f.error().message == http.url("/a.crl") + ": HTTP 404 Not Found");
  CHECK(cache_files(env) == before);
}

TEST_CASE("CrlFetcher: an error after a redirect names both URLs", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  http.server().Get("/a.crl", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/gone.crl");
  });
  http.server().Get("/gone.crl",
                    [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kUnavailable);
  CHECK(f.error().message == http.url("/a.crl") + " (redirected to " + http.url("/gone.crl") +
                                 "): HTTP 503 Service Unavailable");
}

TEST_CASE("CrlFetcher: a body over the limit is refused", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  const std::string big(20u << 20, 'x');  // 20 MB
  http.server().Get("/big.crl",
                    [&](const httplib::Request&, httplib::Response& res) { serve_crl(res, big); });
  // The same without Content-Length (chunked): the limit holds while receiving.
  http.server().Get("/chunked.crl", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/pkix-crl", [&](size_t offset, httplib::DataSink& sink) {
          if (offset >= big.size()) {
            sink.done();
            return true;
          }
          const size_t n = std::min<size_t>(1u << 16, big.size() - offset);
          return sink.write(big.data() + offset, n);
        });
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  for (const std::string path : {"/big.crl", "/chunked.crl"}) {
    INFO(path);
    auto f = fetcher.fetch(http.url(path));
    REQUIRE_FALSE(f);
    CHECK(f.error().code == ErrorCode::kInvalidArgument);
    CHECK(f.error().message == http.url(path) + ": response larger than 16777216 bytes");
  }
  CHECK(cache_files(env).empty());
}

TEST_CASE("CrlFetcher: a server that does not answer in time", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  http.server().Get("/slow.crl", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return release; });
    serve_crl(res, kCrlBody);
  });
  http.start();
  MemoryEnv env;
  FetchOptions o = quick_options();
  o.timeout = std::chrono::seconds(1);
  CrlFetcher fetcher(env, kCache, o);
  auto f = fetcher.fetch(http.url("/slow.crl"));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kUnavailable);
  CHECK(f.error().message.rfind(http.url("/slow.crl") + ": timed out", 0) == 0);
  CHECK(cache_files(env).empty());
}

TEST_CASE("CrlFetcher: nothing listening is unavailable", "[revocation][crl_fetch]") {
  int port = 0;
  {
    LocalHttpServer http;  // a port that was just free and is closed again
    http.start();
    port = http.port();
  }
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  const std::string url = fmt::format("http://127.0.0.1:{}/x.crl", port);
  auto f = fetcher.fetch(url);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kUnavailable);
  CHECK(f.error().message.rfind(url + ": cannot connect", 0) == 0);
}

TEST_CASE("CrlFetcher: only http and https", "[revocation][crl_fetch]") {
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  for (const std::string url : {"ldap://ldap.example.com/cn=CA?certificateRevocationList",
                                "file:///etc/passwd", "ftp://example.com/a.crl"}) {
    auto f = fetcher.fetch(url);
    REQUIRE_FALSE(f);
    CHECK(f.error().code == ErrorCode::kInvalidArgument);
    CHECK(f.error().message == url + ": not an http:// or https:// URL");
  }
}

TEST_CASE("CrlFetcher: an HTML page comes back as bytes (content checks come later)",
          "[revocation][crl_fetch]") {
  LocalHttpServer http;
  const std::string page = "<html><body>Please log in</body></html>";
  http.server().Get("/a.crl", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(page, "text/html");
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE(f);
  CHECK(f->body == page);
}

// A test CA and a certificate for "localhost" it signed, in files.
struct TlsFiles {
  TempDir dir;
  std::string ca_pem;
  std::string cert_path;
  std::string key_path;
  std::string ca_path;

  explicit TlsFiles(const std::string& ca_name) {
    const TimePoint now = Clock::now();
    auto ca_key = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
    REQUIRE(ca_key);
    pki::CaOptions co;
    co.common_name = ca_name;
    co.not_before = now - std::chrono::hours(1);
    co.not_after = now + std::chrono::hours(24);
    auto ca = pki::create_self_signed_ca(*ca_key, co);
    REQUIRE(ca);
    auto key = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
    REQUIRE(key);
    pki::CsrOptions ro;
    ro.common_name = "localhost";
    ro.dns_names = {"localhost"};
    auto csr = pki::CertificateRequest::create(*key, ro);
    REQUIRE(csr);
    pki::IssueOptions io;
    io.not_before = now - std::chrono::hours(1);
    io.not_after = now + std::chrono::hours(24);
    io.serial_hex = "1001";
    auto cert = pki::sign_csr(*csr, *ca, *ca_key, io);
    REQUIRE(cert);
    auto key_pem = key->to_pem();
    REQUIRE(key_pem);
    ca_pem = ca->to_pem();
    cert_path = dir.write("server.pem", cert->to_pem());
    key_path = dir.write("server.key", key_pem->str());
    ca_path = dir.write("ca.pem", ca_pem);
  }
};

TEST_CASE("CrlFetcher: https verified against the configured bundle or the system store",
          "[revocation][crl_fetch]") {
  TlsFiles tls("edgecert crl test TLS CA");
  LocalHttpServer https(tls.cert_path, tls.key_path);
  https.server().Get(
      "/a.crl", [](const httplib::Request&, httplib::Response& res) { serve_crl(res, kCrlBody); });
  https.start();
  MemoryEnv env;

  SECTION("the bundle holding the server's CA: fetched") {
    FetchOptions o = quick_options();
    o.ca_bundle = tls.ca_path;
    CrlFetcher fetcher(env, kCache, o);
    auto f = fetcher.fetch(https.url("/a.crl"));
    REQUIRE(f);
    CHECK(f->body == kCrlBody);
  }
  SECTION("the system store: refused, naming it") {
    CrlFetcher fetcher(env, kCache, quick_options());
    auto f = fetcher.fetch(https.url("/a.crl"));
    REQUIRE_FALSE(f);
    CHECK(f.error().code == ErrorCode::kPermission);
    INFO(f.error().message);
    CHECK(f.error().message.rfind(https.url("/a.crl") + ": TLS verification failed", 0) == 0);
    CHECK(f.error().message.find("the system store") != std::string::npos);
    CHECK(cache_files(env).empty());
  }
  SECTION("a bundle of another CA: refused, naming the bundle") {
    TlsFiles other("some other CA");
    FetchOptions o = quick_options();
    o.ca_bundle = other.ca_path;
    CrlFetcher fetcher(env, kCache, o);
    auto f = fetcher.fetch(https.url("/a.crl"));
    REQUIRE_FALSE(f);
    CHECK(f.error().code == ErrorCode::kPermission);
    INFO(f.error().message);
    CHECK(f.error().message.find("the CA bundle " + other.ca_path) != std::string::npos);
  }
}

TEST_CASE("CrlFetcher: cRLNumber memory per URL and issuer", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  http.server().Get(
      "/a.crl", [](const httplib::Request&, httplib::Response& res) { serve_crl(res, kCrlBody); });
  http.start();
  MemoryEnv env;
  const std::string url = http.url("/a.crl");
  const std::string other_url = http.url("/b.crl");
  {
    CrlFetcher fetcher(env, kCache, quick_options());
    CHECK_FALSE(fetcher.last_number(url, "CN=Root A"));
    REQUIRE(fetcher.remember_number(url, "CN=Root A", "0C"));
    REQUIRE(fetcher.remember_number(url, "CN=Root A", "0A"));  // lower: kept 0C
    CHECK(fetcher.last_number(url, "CN=Root A") == std::optional<std::string>("C"));
    REQUIRE(fetcher.remember_number(url, "CN=Root A", "1f"));
    CHECK(fetcher.last_number(url, "CN=Root A") == std::optional<std::string>("1F"));
    REQUIRE(fetcher.remember_number(url, "CN=Root B", "02"));
    CHECK(fetcher.last_number(url, "CN=Root B") == std::optional<std::string>("2"));
    CHECK_FALSE(fetcher.last_number(other_url, "CN=Root A"));
    auto bad = fetcher.remember_number(url, "CN=Root A", "zz");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::kInvalidArgument);
    // A fetch keeps the numbers.
    REQUIRE(fetcher.fetch(url));
  }
  CrlFetcher later(env, kCache, quick_options());
  CHECK(later.last_number(url, "CN=Root A") == std::optional<std::string>("1F"));
  CHECK(later.last_number(url, "CN=Root B") == std::optional<std::string>("2"));
  // 100 (hex) is higher than FF although it sorts lower as text.
  REQUIRE(later.remember_number(url, "CN=Root A", "FF"));
  REQUIRE(later.remember_number(url, "CN=Root A", "100"));
  REQUIRE(later.remember_number(url, "CN=Root A", "FF"));
  CHECK(later.last_number(url, "CN=Root A") == std::optional<std::string>("100"));
}

TEST_CASE("CrlFetcher: a damaged cache record means no cache", "[revocation][crl_fetch]") {
  LocalHttpServer http;
  std::string seen_if_none_match;
  http.server().Get("/a.crl", [&](const httplib::Request& req, httplib::Response& res) {
    seen_if_none_match = req.get_header_value("If-None-Match");
    res.set_header("ETag", "\"v1\"");
    serve_crl(res, kCrlBody);
  });
  http.start();
  MemoryEnv env;
  CrlFetcher fetcher(env, kCache, quick_options());
  REQUIRE(fetcher.fetch(http.url("/a.crl")));
  // The body no longer matches its record (a crash between the two writes,
  // or someone edited it): the next request is unconditional.
  for (const auto& [name, content] : cache_files(env))
    if (content == kCrlBody) env.put(path_join(kCache, name), "truncated");
  auto f = fetcher.fetch(http.url("/a.crl"));
  REQUIRE(f);
  CHECK(seen_if_none_match.empty());
  CHECK_FALSE(f->from_cache);
  CHECK(f->body == kCrlBody);
}

}  // namespace
}  // namespace edgecert::revocation
