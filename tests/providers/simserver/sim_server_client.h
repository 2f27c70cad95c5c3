// A REST client for one in-process edgecert-sim listener, and requests for it.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "providers/http/http_client.h"

namespace edgecert::testing {

// Basic auth as admin/`password`, TLS to `fqdn` on 127.0.0.1:`port`, not
// verified.
inline std::unique_ptr<http::Transport> sim_server_client(int port, const std::string& fqdn,
                                                          const std::string& password) {
  http::ClientOptions o;
  o.connect_host = "127.0.0.1";
  o.port = port;
  o.server_name = fqdn;
  o.insecure = true;
  o.username = "admin";
  o.password = pki::SecretString(password);
  auto t = http::make_curl_transport(std::move(o), default_env());
  REQUIRE(t);
  return std::move(*t);
}

inline http::Request sim_server_request(const char* method, const std::string& path) {
  http::Request r;
  r.method = method;
  r.target = path;
  return r;
}

}  // namespace edgecert::testing
