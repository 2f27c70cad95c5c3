// CrlFetcher against real local HTTP and HTTPS servers (cpp-httplib on free
// loopback ports) through the real libcurl transport, with the cache in a
// MemoryEnv.
#include "providers/revocation/crl_fetch.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/base/fault_env.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "tests/support/local_http_server.h"
#include "tests/support/test_support.h"

namespace edgecert::revocation {
namespace {

using testing::LocalHttpServer;
using testing::TempDir;
using Handler = httplib::Server::Handler;

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
  for (const auto& n : *names)
    out[n] = env.read_file(path_join(kCache, n), kTestRead).value_or("?");
  return out;
}

void serve_crl(httplib::Response& res, const std::string& body) {
  res.set_content(body, "application/pkix-crl");
}

Handler crl(const std::string& body) {
  return [body](const httplib::Request&, httplib::Response& res) { serve_crl(res, body); };
}

Handler answer(int status, const std::string& location = "") {
  return [status, location](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    if (!location.empty()) res.set_header("Location", location);
  };
}

// A local HTTP server (handlers registered with on(), started by the first
// fetch) and a fetcher whose cache lives in a MemoryEnv.
struct Fixture {
  LocalHttpServer http;
  MemoryEnv env;
  FetchOptions options = quick_options();
  bool started = false;
  std::unique_ptr<CrlFetcher> fetcher_;

  void on(const std::string& path, Handler h) { http.server().Get(path, std::move(h)); }
  std::string url(const std::string& path) {
    if (!started) http.start();
    started = true;
    return http.url(path);
  }
  CrlFetcher& fetcher() {
    if (!fetcher_) fetcher_ = std::make_unique<CrlFetcher>(env, kCache, options);
    return *fetcher_;
  }
  Result<Fetched> fetch(const std::string& path) { return fetcher().fetch(url(path)); }
  // The next fetch comes from a new fetcher over the same cache (a later run).
  void next_run() { fetcher_.reset(); }
  std::map<std::string, std::string> cache() { return cache_files(env); }
};

void check_refused(const Result<Fetched>& f, ErrorCode code, const std::string& message) {
  REQUIRE_FALSE(f);
  CHECK(f.error().code == code);
  CHECK(f.error().message == message);
}

TEST_CASE("CrlFetcher: 200 returns the body and caches it", "[revocation][crl_fetch]") {
  Fixture fx;
  fx.on("/a.crl", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"v1\"");
    serve_crl(res, kCrlBody);
  });
  auto f = fx.fetch("/a.crl");
  REQUIRE(f);
  CHECK(f->body == kCrlBody);
  CHECK(f->url == fx.url("/a.crl"));
  CHECK(f->final_url == fx.url("/a.crl"));
  CHECK_FALSE(f->from_cache);
  CHECK(f->etag == std::optional<std::string>("\"v1\""));
  auto files = fx.cache();
  REQUIRE(files.size() == 2);  // the body and its record
  bool body_cached = false;
  for (const auto& [name, content] : files) {
    if (content == kCrlBody) {
      body_cached = true;
      CHECK(fx.env.file_mode(path_join(kCache, name)).value_or(0) == 0644);
    }
  }
  CHECK(body_cached);
}

TEST_CASE("CrlFetcher: 304 Not Modified answers from the cache (ETag)", "[revocation][crl_fetch]") {
  Fixture fx;
  std::string seen_if_none_match;
  int full_answers = 0;
  fx.on("/a.crl", [&](const httplib::Request& req, httplib::Response& res) {
    seen_if_none_match = req.get_header_value("If-None-Match");
    if (seen_if_none_match == "\"v1\"") {
      res.status = 304;
      return;
    }
    ++full_answers;
    res.set_header("ETag", "\"v1\"");
    serve_crl(res, kCrlBody);
  });
  REQUIRE(fx.fetch("/a.crl"));
  fx.next_run();
  auto f = fx.fetch("/a.crl");
  REQUIRE(f);
  CHECK(seen_if_none_match == "\"v1\"");
  CHECK(full_answers == 1);
  CHECK(f->from_cache);
  CHECK(f->body == kCrlBody);
  CHECK(f->etag == std::optional<std::string>("\"v1\""));
}

TEST_CASE("CrlFetcher: 304 Not Modified answers from the cache (Last-Modified)",
          "[revocation][crl_fetch]") {
  Fixture fx;
  const std::string stamp = "Wed, 02 Dec 2026 10:00:00 GMT";
  std::string seen_since;
  std::string seen_if_none_match;
  fx.on("/a.crl", [&](const httplib::Request& req, httplib::Response& res) {
    seen_since = req.get_header_value("If-Modified-Since");
    seen_if_none_match = req.get_header_value("If-None-Match");
    if (seen_since == stamp) {
      res.status = 304;
      return;
    }
    res.set_header("Last-Modified", stamp);
    serve_crl(res, kCrlBody);
  });
  auto first = fx.fetch("/a.crl");
  REQUIRE(first);
  CHECK(seen_since.empty());
  CHECK(first->last_modified == std::optional<std::string>(stamp));
  auto second = fx.fetch("/a.crl");
  REQUIRE(second);
  CHECK(seen_since == stamp);
  CHECK(seen_if_none_match.empty());  // no ETag was given
  CHECK(second->from_cache);
  CHECK(second->body == kCrlBody);
}

TEST_CASE("CrlFetcher: a changed CRL replaces the cached one", "[revocation][crl_fetch]") {
  Fixture fx;
  std::string current = "first";
  fx.on("/a.crl", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string tag = "\"" + current + "\"";
    if (req.get_header_value("If-None-Match") == tag) {
      res.status = 304;
      return;
    }
    res.set_header("ETag", tag);
    serve_crl(res, current);
  });
  REQUIRE(fx.fetch("/a.crl").value().body == "first");
  current = "second";
  auto f = fx.fetch("/a.crl");
  REQUIRE(f);
  CHECK_FALSE(f->from_cache);
  CHECK(f->body == "second");
  auto again = fx.fetch("/a.crl");
  REQUIRE(again);
  CHECK(again->from_cache);
  CHECK(again->body == "second");
}

TEST_CASE("CrlFetcher: 304 with nothing cached is unavailable", "[revocation][crl_fetch]") {
  Fixture fx;
  fx.on("/a.crl", answer(304));
  check_refused(fx.fetch("/a.crl"), ErrorCode::kUnavailable,
                fx.url("/a.crl") + ": HTTP 304 Not Modified, but nothing is cached");
  CHECK(fx.cache().empty());
}

TEST_CASE("CrlFetcher: follows a redirect chain", "[revocation][crl_fetch]") {
  LocalHttpServer other;  // a second server: an absolute Location elsewhere
  other.server().Get("/final.crl", crl(kCrlBody));
  other.start();
  Fixture fx;
  fx.on("/dp/a.crl", answer(302, "b.crl"));  // relative to /dp/
  fx.on("/dp/b.crl", answer(301, "/c.crl"));
  fx.on("/c.crl", answer(307, other.url("/final.crl")));
  auto f = fx.fetch("/dp/a.crl");
  REQUIRE(f);
  CHECK(f->body == kCrlBody);
  CHECK(f->url == fx.url("/dp/a.crl"));
  CHECK(f->final_url == other.url("/final.crl"));
}

TEST_CASE("CrlFetcher: a redirect loop is refused", "[revocation][crl_fetch]") {
  Fixture fx;
  fx.on("/a.crl", answer(302, "/b.crl"));
  fx.on("/b.crl", answer(302, "/a.crl"));
  const std::string a = fx.url("/a.crl");
  const std::string b = fx.url("/b.crl");
  check_refused(fx.fetch("/a.crl"), ErrorCode::kInvalidArgument,
                a + ": redirect loop: " + a + " -> " + b + " -> " + a);
  CHECK(fx.cache().empty());
}

TEST_CASE("CrlFetcher: more than max_redirects hops are refused", "[revocation][crl_fetch]") {
  Fixture fx;
  fx.options.max_redirects = 2;
  // /hop/N redirects to /hop/N+1 for ever (no loop).
  fx.on(R"(/hop/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/hop/" + std::to_string(std::stoi(req.matches[1].str()) + 1));
  });
  fx.on("/two", answer(302, "/one"));
  fx.on("/one", answer(302, "/zero"));
  fx.on("/zero", crl(kCrlBody));
  check_refused(
      fx.fetch("/hop/0"), ErrorCode::kInvalidArgument,
      fmt::format("{}: more than 2 redirects: {} -> {} -> {} -> {}", fx.url("/hop/0"),
                  fx.url("/hop/0"), fx.url("/hop/1"), fx.url("/hop/2"), fx.url("/hop/3")));
  // Exactly max_redirects hops are followed.
  auto ok = fx.fetch("/two");
  REQUIRE(ok);
  CHECK(ok->final_url == fx.url("/zero"));
}

TEST_CASE("CrlFetcher: a redirect without Location is refused", "[revocation][crl_fetch]") {
  Fixture fx;
  fx.on("/a.crl", answer(302));
  check_refused(fx.fetch("/a.crl"), ErrorCode::kInvalidArgument,
                fx.url("/a.crl") + ": HTTP 302 without a Location header");
}

TEST_CASE("CrlFetcher: HTTP 404 is unavailable and leaves the cache alone",
          "[revocation][crl_fetch]") {
  Fixture fx;
  std::atomic<bool> gone{false};
  fx.on("/a.crl", [&](const httplib::Request&, httplib::Response& res) {
    if (gone) {
      res.status = 404;
      res.set_content("<html>not here</html>", "text/html");
      return;
    }
    res.set_header("ETag", "\"v1\"");
    serve_crl(res, kCrlBody);
  });
  REQUIRE(fx.fetch("/a.crl"));
  const auto before = fx.cache();
  gone = true;
  check_refused(fx.fetch("/a.crl"), ErrorCode::kUnavailable,
                fx.url("/a.crl") + ": HTTP 404 Not Found");
  CHECK(fx.cache() == before);
}

TEST_CASE("CrlFetcher: an error after a redirect names both URLs", "[revocation][crl_fetch]") {
  Fixture fx;
  fx.on("/a.crl", answer(302, "/gone.crl"));
  fx.on("/gone.crl", answer(503));
  check_refused(fx.fetch("/a.crl"), ErrorCode::kUnavailable,
                fx.url("/a.crl") + " (redirected to " + fx.url("/gone.crl") +
                    "): HTTP 503 Service Unavailable");
}

TEST_CASE("CrlFetcher: a body over the limit is refused", "[revocation][crl_fetch]") {
  Fixture fx;
  const std::string big(20u << 20, 'x');  // 20 MB
  fx.on("/big.crl", crl(big));
  // The same without Content-Length (chunked): the limit holds while receiving.
  fx.on("/chunked.crl", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/pkix-crl", [&](size_t offset, httplib::DataSink& sink) {
          if (offset >= big.size()) {
            sink.done();
            return true;
          }
          return sink.write(big.data() + offset, std::min<size_t>(1u << 16, big.size() - offset));
        });
  });
  for (const std::string path : {"/big.crl", "/chunked.crl"}) {
    INFO(path);
    check_refused(fx.fetch(path), ErrorCode::kInvalidArgument,
                  fx.url(path) + ": response larger than 16777216 bytes");
  }
  CHECK(fx.cache().empty());
}

TEST_CASE("CrlFetcher: a server that does not answer in time", "[revocation][crl_fetch]") {
  Fixture fx;
  fx.options.timeout = std::chrono::seconds(1);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  fx.on("/slow.crl", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return release; });
    serve_crl(res, kCrlBody);
  });
  auto f = fx.fetch("/slow.crl");
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kUnavailable);
  CHECK(f.error().message.rfind(fx.url("/slow.crl") + ": timed out", 0) == 0);
  CHECK(fx.cache().empty());
}

TEST_CASE("CrlFetcher: nothing listening is unavailable", "[revocation][crl_fetch]") {
  std::string url;
  {
    Fixture closed;  // a port that was just free and is closed again
    url = closed.url("/x.crl");
  }
  Fixture fx;
  auto f = fx.fetcher().fetch(url);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == ErrorCode::kUnavailable);
  CHECK(f.error().message.rfind(url + ": cannot connect", 0) == 0);
}

TEST_CASE("CrlFetcher: only http and https", "[revocation][crl_fetch]") {
  Fixture fx;
  for (const std::string url : {"ldap://ldap.example.com/cn=CA?certificateRevocationList",
                                "file:///etc/passwd", "ftp://example.com/a.crl"})
    check_refused(fx.fetcher().fetch(url), ErrorCode::kInvalidArgument,
                  url + ": not an http:// or https:// URL");
}

TEST_CASE("CrlFetcher: an HTML page comes back as bytes (content checks come later)",
          "[revocation][crl_fetch]") {
  Fixture fx;
  const std::string page = "<html><body>Please log in</body></html>";
  fx.on("/a.crl", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(page, "text/html");
  });
  auto f = fx.fetch("/a.crl");
  REQUIRE(f);
  CHECK(f->body == page);
}

// A test CA and a certificate for "localhost" it signed, in files.
struct TlsFiles {
  TempDir dir;
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
    io.not_before = co.not_before;
    io.not_after = co.not_after;
    io.serial_hex = "1001";
    auto cert = pki::sign_csr(*csr, *ca, *ca_key, io);
    REQUIRE(cert);
    auto key_pem = key->to_pem();
    REQUIRE(key_pem);
    cert_path = dir.write("server.pem", cert->to_pem());
    key_path = dir.write("server.key", key_pem->str());
    ca_path = dir.write("ca.pem", ca->to_pem());
  }
};

TEST_CASE("CrlFetcher: https verified against the configured bundle or the system store",
          "[revocation][crl_fetch]") {
  TlsFiles tls("edgecert crl test TLS CA");
  LocalHttpServer https(tls.cert_path, tls.key_path);
  https.server().Get("/a.crl", crl(kCrlBody));
  https.start();
  MemoryEnv env;
  FetchOptions o = quick_options();

  SECTION("the bundle holding the server's CA: fetched") {
    o.ca_bundle = tls.ca_path;
    env.put(tls.ca_path, *default_env().read_file(tls.ca_path, kTestRead));
    auto f = CrlFetcher(env, kCache, o).fetch(https.url("/a.crl"));
    REQUIRE(f);
    CHECK(f->body == kCrlBody);
  }
  SECTION("the system store: refused, naming it") {
    auto f = CrlFetcher(env, kCache, o).fetch(https.url("/a.crl"));
    REQUIRE_FALSE(f);
    CHECK(f.error().code == ErrorCode::kPermission);
    INFO(f.error().message);
    CHECK(f.error().message.rfind(
              https.url("/a.crl") + ": TLS verification failed: trusting the system store: ", 0) ==
          0);
    CHECK(cache_files(env).empty());
  }
  SECTION("a bundle of another CA: refused, naming the bundle") {
    TlsFiles other("some other CA");
    o.ca_bundle = other.ca_path;
    env.put(other.ca_path, *default_env().read_file(other.ca_path, kTestRead));
    auto f = CrlFetcher(env, kCache, o).fetch(https.url("/a.crl"));
    REQUIRE_FALSE(f);
    CHECK(f.error().code == ErrorCode::kPermission);
    INFO(f.error().message);
    CHECK(f.error().message.rfind(https.url("/a.crl") +
                                      ": TLS verification failed: trusting the CA bundle " +
                                      other.ca_path + ": ",
                                  0) == 0);
  }
}

TEST_CASE("CrlFetcher: cRLNumber memory per URL and issuer", "[revocation][crl_fetch]") {
  Fixture fx;
  fx.on("/a.crl", crl(kCrlBody));
  const std::string url = fx.url("/a.crl");
  const std::string other_url = fx.url("/b.crl");
  auto last = [&](const std::string& u, const std::string& issuer) {
    return fx.fetcher().last_number(u, issuer).value_or("none");
  };
  CHECK(last(url, "CN=Root A") == "none");
  REQUIRE(fx.fetcher().remember_number(url, "CN=Root A", "0C"));
  REQUIRE(fx.fetcher().remember_number(url, "CN=Root A", "0A"));  // lower: 0C stays
  CHECK(last(url, "CN=Root A") == "C");
  REQUIRE(fx.fetcher().remember_number(url, "CN=Root A", "1f"));
  CHECK(last(url, "CN=Root A") == "1F");
  REQUIRE(fx.fetcher().remember_number(url, "CN=Root B", "02"));
  CHECK(last(url, "CN=Root B") == "2");
  CHECK(last(other_url, "CN=Root A") == "none");
  auto bad = fx.fetcher().remember_number(url, "CN=Root A", "zz");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(fx.fetch("/a.crl"));  // a fetch keeps the numbers

  fx.next_run();
  CHECK(last(url, "CN=Root A") == "1F");
  CHECK(last(url, "CN=Root B") == "2");
  // 100 (hex) is higher than FF although it sorts lower as text.
  for (const char* n : {"FF", "100", "FF"})
    REQUIRE(fx.fetcher().remember_number(url, "CN=Root A", n));
  CHECK(last(url, "CN=Root A") == "100");
}

TEST_CASE("CrlFetcher: a damaged cache record means no cache", "[revocation][crl_fetch]") {
  Fixture fx;
  std::string seen_if_none_match;
  fx.on("/a.crl", [&](const httplib::Request& req, httplib::Response& res) {
    seen_if_none_match = req.get_header_value("If-None-Match");
    res.set_header("ETag", "\"v1\"");
    serve_crl(res, kCrlBody);
  });
  REQUIRE(fx.fetch("/a.crl"));
  // The body no longer matches its record (a crash between the two writes,
  // or someone edited it): the next request is unconditional.
  for (const auto& [name, content] : fx.cache())
    if (content == kCrlBody) fx.env.put(path_join(kCache, name), "truncated");
  auto f = fx.fetch("/a.crl");
  REQUIRE(f);
  CHECK(seen_if_none_match.empty());
  CHECK_FALSE(f->from_cache);
  CHECK(f->body == kCrlBody);
}

// A transport answering from a function, made by a factory that records the
// options the fetcher asked for.
class ScriptedTransport final : public http::Transport {
 public:
  using Script = std::function<Result<http::Response>(const http::Request&)>;
  explicit ScriptedTransport(Script script) : script_(std::move(script)) {}
  Result<http::Response> perform(const http::Request& request) override { return script_(request); }

 private:
  Script script_;
};

TEST_CASE("CrlFetcher: the transport it asks for", "[revocation][crl_fetch]") {
  std::optional<http::ClientOptions> asked;
  int made = 0;
  TransportFactory factory =
      [&](http::ClientOptions o) -> Result<std::unique_ptr<http::Transport>> {
    asked = std::move(o);
    ++made;
    return std::make_unique<ScriptedTransport>(
        [](const http::Request&) { return http::Response{.status = 200, .body = kCrlBody}; });
  };
  MemoryEnv env;
  FetchOptions o;
  o.connect_timeout = std::chrono::seconds(3);
  o.timeout = std::chrono::seconds(7);
  o.max_bytes = 12345;
  o.ca_bundle = "/etc/edgecert/crl-ca.pem";
  env.put(*o.ca_bundle, "bundle text");
  CrlFetcher fetcher(env, kCache, o, factory);
  REQUIRE(fetcher.fetch("http://crl.example.com/a.crl"));
  REQUIRE(fetcher.fetch("https://crl.example.com/b.crl"));
  CHECK(made == 1);  // one transport per fetcher (keep-alive)
  REQUIRE(asked);
  CHECK(asked->allow_plain_http);  // distribution points are usually plain http
  CHECK(asked->max_response_bytes == 12345);
  CHECK(asked->connect_timeout == std::chrono::seconds(3));
  CHECK(asked->request_timeout == std::chrono::seconds(7));
  // The fetcher reads the bundle through its Env: the transport gets text.
  CHECK_FALSE(asked->ca_bundle);
  CHECK(asked->ca_pem == "bundle text");
  CHECK_FALSE(asked->insecure);
  CHECK(asked->username.empty());
  CHECK(asked->tls_failure_hint == "trusting the CA bundle /etc/edgecert/crl-ca.pem");

  TransportFactory broken = [](http::ClientOptions) -> Result<std::unique_ptr<http::Transport>> {
    return Error::Internal("cannot initialise libcurl");
  };
  check_refused(CrlFetcher(env, kCache, o, broken).fetch("http://crl.example.com/a.crl"),
                ErrorCode::kInternal, "http://crl.example.com/a.crl: cannot initialise libcurl");
}

TEST_CASE("CrlFetcher: killed between the body and its record", "[revocation][crl_fetch]") {
  const std::string url = "http://crl.example.com/a.crl";
  std::string served = "first";
  std::string if_none_match;
  TransportFactory factory = [&](http::ClientOptions) -> Result<std::unique_ptr<http::Transport>> {
    return std::make_unique<ScriptedTransport>([&](const http::Request& req) {
      if_none_match.clear();
      for (const auto& [k, v] : req.headers)
        if (k == "If-None-Match") if_none_match = v;
      http::Response r{.status = if_none_match == "\"" + served + "\"" ? 304L : 200L};
      if (r.status == 200) r.body = served;
      r.headers = {{"etag", "\"" + served + "\""}};
      return r;
    });
  };
  MemoryEnv mem;
  FaultInjectionEnv env(mem);
  REQUIRE(CrlFetcher(env, kCache, FetchOptions{}, factory).fetch(url));
  const int record_write = env.mutations();  // the last write of a fetch
  const auto first = cache_files(mem);

  // A new CRL; the process dies after writing the body, before the record.
  served = "second";
  env.reset();
  env.crash_at_mutation(record_write);
  REQUIRE_FALSE(CrlFetcher(env, kCache, FetchOptions{}, factory).fetch(url));
  CHECK(cache_files(mem) != first);  // the body was replaced, the record was not

  // The next run does not trust the old record for the new body: an
  // unconditional request, and the right bytes.
  env.reset();
  auto f = CrlFetcher(env, kCache, FetchOptions{}, factory).fetch(url);
  REQUIRE(f);
  CHECK(if_none_match.empty());
  CHECK(f->body == "second");
  auto again = CrlFetcher(env, kCache, FetchOptions{}, factory).fetch(url);
  REQUIRE(again);
  CHECK(if_none_match == "\"second\"");
  CHECK(again->from_cache);
  CHECK(again->body == "second");
}

}  // namespace
}  // namespace edgecert::revocation
