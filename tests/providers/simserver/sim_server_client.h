// A REST client for one in-process edgecert-sim listener, and requests for it.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "providers/rest/http_transport.h"

namespace edgecert::testing {

// Basic auth as admin/`password`, TLS to `fqdn` on 127.0.0.1:`port`, not
// verified.
inline std::unique_ptr<rest::HttpTransport> sim_server_client(int port, const std::string& fqdn,
                                                              const std::string& password) {
  rest::CurlTransportOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.server_name = fqdn;
  o.insecure = true;
  o.username = "admin";
  o.password = pki::SecretString(password);
  auto t = rest::make_curl_transport(std::move(o));
  REQUIRE(t);
  return std::move(*t);
}

inline rest::HttpRequest sim_server_request(const char* method, const std::string& path) {
  rest::HttpRequest r;
  r.method = method;
  r.path = path;
  return r;
}

}  // namespace edgecert::testing
