// The libcurl transport against local cpp-httplib servers: which plain
// http:// targets it may reach, and the response size cap.
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "providers/http/http_client.h"
#include "tests/support/local_http_server.h"

namespace edgecert::http {
namespace {

using testing::LocalHttpServer;

std::unique_ptr<Transport> transport(ClientOptions o) {
  auto t = make_curl_transport(std::move(o), default_env());
  REQUIRE(t);
  return std::move(*t);
}

Result<Response> get(Transport& t, const std::string& url) {
  return t.perform(Request{.method = "GET", .target = url});
}

TEST_CASE("curl transport: plain http is refused unless allowed", "[http]") {
  // 127.0.0.2 is a loopback address too, but not one allow_loopback_http
  // names: it stands for "any other host" without leaving the machine.
  LocalHttpServer http;
  http.server().Get("/x", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hello", "text/plain");
  });
  http.start("127.0.0.2");
  const std::string url = http.url("/x");
  REQUIRE(url.rfind("http://127.0.0.2:", 0) == 0);

  SECTION("by default") {
    auto r = get(*transport(ClientOptions{}), url);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    CHECK(r.error().message == "request failed: only https:// URLs are allowed: " + url);
  }
  SECTION("loopback-only http does not reach another host") {
    ClientOptions o;
    o.allow_loopback_http = true;
    auto r = get(*transport(std::move(o)), url);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    CHECK(r.error().message ==
          "request failed: only https:// URLs are allowed (http:// only for loopback): " + url);
  }
  SECTION("allow_plain_http reaches any host") {
    ClientOptions o;
    o.allow_plain_http = true;
    auto r = get(*transport(std::move(o)), url);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "hello");
  }
  SECTION("allow_plain_http still refuses other schemes") {
    ClientOptions o;
    o.allow_plain_http = true;
    auto r = get(*transport(std::move(o)), "ftp://127.0.0.2/x");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("curl transport: max_response_bytes caps the body", "[http]") {
  const std::string body(100000, 'b');
  LocalHttpServer http;
  // With Content-Length.
  http.server().Get("/sized", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "application/octet-stream");
  });
  // Chunked, no Content-Length: the cap must hold while receiving.
  http.server().Get("/chunked", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/octet-stream", [&](size_t offset, httplib::DataSink& sink) {
          if (offset >= body.size()) {
            sink.done();
            return true;
          }
          const size_t n = std::min<size_t>(4096, body.size() - offset);
          return sink.write(body.data() + offset, n);
        });
  });
  http.start();

  for (const std::string path : {"/sized", "/chunked"}) {
    INFO(path);
    auto capped = [](std::size_t limit) {
      ClientOptions o;
      o.allow_loopback_http = true;
      o.max_response_bytes = limit;
      return transport(std::move(o));
    };

    auto exact = get(*capped(body.size()), http.url(path));  // exactly the body: accepted
    REQUIRE(exact);
    CHECK(exact->body == body);

    auto over = get(*capped(body.size() - 1), http.url(path));
    REQUIRE_FALSE(over);
    CHECK(over.error().code == ErrorCode::kInvalidArgument);
    CHECK(over.error().message == "response larger than 99999 bytes");

    auto unlimited = get(*capped(0), http.url(path));  // 0: no limit
    REQUIRE(unlimited);
    CHECK(unlimited->body.size() == body.size());
  }
}

TEST_CASE("curl transport: the cap leaves the connection usable", "[http]") {
  LocalHttpServer http;
  http.server().Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(50000, 'x'), "application/octet-stream");
  });
  http.server().Get("/small", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  http.start();
  ClientOptions o;
  o.allow_loopback_http = true;
  o.max_response_bytes = 1000;
  auto t = transport(std::move(o));
  REQUIRE_FALSE(get(*t, http.url("/big")));
  auto r = get(*t, http.url("/small"));  // the same handle, after the aborted transfer
  REQUIRE(r);
  CHECK(r->body == "ok");
}

TEST_CASE("curl transport: transports share one connection pool", "[http]") {
  LocalHttpServer http;
  std::mutex mu;
  std::vector<int> client_ports;
  http.server().Get("/port", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    client_ports.push_back(req.remote_port);
    res.set_content("ok", "text/plain");
  });
  http.start();
  auto options = [] {
    ClientOptions o;
    o.allow_loopback_http = true;
    return o;
  };
  {
    auto first = transport(options());
    REQUIRE(get(*first, http.url("/port")));
  }  // gone: its connection stays in the pool
  auto second = transport(options());
  REQUIRE(get(*second, http.url("/port")));
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(client_ports.size() == 2);
  // The same client port: the second transport reused the first one's
  // keep-alive connection instead of opening its own.
  CHECK(client_ports[0] == client_ports[1]);
}

}  // namespace
}  // namespace edgecert::http
