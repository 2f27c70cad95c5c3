// An in-process edgecert-sim with two nodes (edge1 with an SSH listener),
// real HTTPS clients (verified against the node's own factory CA) and a real
// SSH client pinning the node's host key.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "providers/http/http_client.h"
#include "providers/sim/sim_node.h"
#include "providers/simserver/sim_server.h"
#include "providers/ssh/ssh_client.h"
#include "providers/wire/rest_json.h"
#include "tests/support/test_support.h"

namespace edgecert::testing {

struct SimServerFixture {
  TempDir dir;
  std::string state = dir.file("sim");
  std::unique_ptr<simserver::SimServer> server;
  std::vector<int> ports;
  std::map<std::string, std::string> factory_ca;  // the CA each node's certificate is from

  explicit SimServerFixture(int restart_seconds = 3) {
    // Booted before the server so the test can set it up first.
    for (const char* n : {"edge1", "edge2"}) {
      sim::SimNode node = admin(n);
      REQUIRE(node.ensure_booted());
      REQUIRE(node.set_restart_seconds(restart_seconds));
      auto st = node.read_state();
      REQUIRE(st);
      factory_ca[n] = st->trusted_cas.front().to_pem();
    }
    simserver::SimServerOptions o;
    o.state_dir = state;
    o.nodes = {{"edge1", "edge1.example.com", "127.0.0.1", 0, 0, "127.0.0.1"},
               {"edge2", "edge2.example.com", "127.0.0.1", 0, -1, "127.0.0.1"}};
    o.password = pki::SecretString("pw");
    o.cluster_name = "lab";
    o.scheduler_interval = std::chrono::milliseconds(0);
    server = std::make_unique<simserver::SimServer>(default_env(), std::move(o));
    auto p = server->start();
    REQUIRE(p);
    ports = *p;
  }

  sim::SimNode admin(const std::string& name) {
    return sim::SimNode(default_env(), state, name, name + ".example.com");
  }

  // A fresh connection each time (no keep-alive across a restart), verified
  // against the node's factory CA.
  std::unique_ptr<http::Transport> client(int index = 0, const std::string& password = "pw") {
    const std::string name = index == 0 ? "edge1" : "edge2";
    http::ClientOptions o;
    o.connect_host = "127.0.0.1";
    o.port = ports[static_cast<size_t>(index)];
    o.server_name = name + ".example.com";
    o.ca_pem = factory_ca.at(name);
    o.username = "admin";
    o.password = pki::SecretString(password);
    o.connect_timeout = std::chrono::seconds(5);
    auto t = http::make_curl_transport(std::move(o), default_env());
    REQUIRE(t);
    return std::move(*t);
  }

  Result<http::Response> request(const std::string& method, const std::string& target,
                                 std::string body = {}, std::string content_type = {},
                                 bool csrf = true, int index = 0) {
    http::Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.content_type = std::move(content_type);
    if (csrf && method != "GET") r.headers.emplace_back("X-CSRF-Header", "edgecert");
    return client(index)->perform(r);
  }
  // A multipart POST of one file field, as the provider uploads (edge1).
  http::Response post_file(const std::string& target, const std::string& content);
  http::Response get(const std::string& target, int index = 0) {
    auto r = request("GET", target, {}, {}, true, index);
    REQUIRE(r);
    return *r;
  }

  std::unique_ptr<ssh::Transport> ssh(bool trust_new = false) {
    ssh::ClientOptions o;
    o.host = "127.0.0.1";
    o.port = server->ssh_ports()[0];
    o.user = "admin";
    o.password = ssh::Secret("pw");
    o.known_hosts_file = dir.file("known_hosts");
    o.trust_new_host_key = trust_new;
    o.connect_timeout = std::chrono::milliseconds(5000);
    o.command_timeout = std::chrono::milliseconds(20000);
    auto t = ssh::make_libssh_transport(std::move(o));
    REQUIRE(t);
    return std::move(*t);
  }
};

// A multipart/form-data body with one file field.
struct MultipartBody {
  std::string boundary = "edgecert-test-boundary";
  std::string body;
  MultipartBody(const std::string& field, const std::string& content) {
    body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field +
           "\"; filename=\"" + field + ".pem\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
           content + "\r\n--" + boundary + "--\r\n";
  }
  std::string content_type() const { return "multipart/form-data; boundary=" + boundary; }
};

inline http::Response SimServerFixture::post_file(const std::string& target,
                                                  const std::string& content) {
  MultipartBody body("file", content);
  auto r = request("POST", target, body.body, body.content_type());
  REQUIRE(r);
  return *r;
}

inline std::string message_of(const http::Response& r) {
  auto m = wire::rest::parse_message(r.body);
  return m ? *m : "<not a message: " + r.body + ">";
}

}  // namespace edgecert::testing
