// What every request meets before and after its resource's handler, as on the
// appliance's admin interface: HTTP Basic auth, the CSRF header on changes,
// {"Message": ...} error bodies and an access log.
#include <sys/socket.h>

#include <cstdio>

#include <fmt/core.h>

#include "providers/rest/rest_api.h"
#include "providers/simserver/sim_server_internal.h"

namespace edgecert::simserver::internal {

namespace {

std::string base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) return {};
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

bool authorized(const httplib::Request& req, const SimServerOptions& options) {
  std::string h = req.get_header_value("Authorization");
  const std::string scheme = "Basic ";
  if (h.rfind(scheme, 0) != 0) return false;
  std::string decoded = base64_decode(h.substr(scheme.size()));
  auto colon = decoded.find(':');
  bool ok = colon != std::string::npos && decoded.substr(0, colon) == options.username &&
            same_secret(std::string_view(decoded).substr(colon + 1), options.password.view());
  std::fill(decoded.begin(), decoded.end(), '\0');
  return ok;
}

}  // namespace

bool same_secret(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

void send_message(httplib::Response& res, int status, std::string_view text) {
  res.status = status;
  res.set_content(rest::message_body(text), "application/json");
}

void send_error(const httplib::Request& req, httplib::Response& res, const Error& e) {
  // SimNode reports injected drops as kUnavailable "connection dropped ...";
  // the only way to tell them from a 503 is the wording (see
  // docs/rest-mapping.md: a structured marker from SimNode is requested).
  if (e.code == ErrorCode::kUnavailable && e.message.rfind("connection dropped", 0) == 0 &&
      req.ssl) {
    int fd = SSL_get_fd(req.ssl);
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    res.status = 503;
    return;
  }
  send_message(res, rest::status_for(e.code), e.message);
}

bool require_file(const httplib::Request& req, httplib::Response& res, const char* field) {
  if (req.has_file(field)) return true;
  send_message(res, 400, fmt::format("multipart form field '{}' is required", field));
  return false;
}

void install_routes(NodeServer& n, const SimServerOptions& options) {
  httplib::SSLServer& s = *n.server;
  // `options` belongs to the SimServer, which stops every listener before it
  // goes away.
  s.set_pre_routing_handler([&options](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, options)) {
      res.set_header("WWW-Authenticate", "Basic realm=\"edgecert-sim\"");
      send_message(res, 401, "Authentication failed: wrong or missing user name or password");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method != "GET" && req.method != "HEAD" && !req.has_header(rest::kCsrfHeader)) {
      send_message(
          res, 403,
          fmt::format("{} {} needs the {} header", req.method, req.path, rest::kCsrfHeader));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(
          rest::message_body(fmt::format("{} {}: no such resource", req.method, req.path)),
          "application/json");
    }
  });

  // Access log on stderr: node, method, path, status. Never headers or
  // bodies (they carry the password and uploaded keys).
  s.set_logger([name = n.listener.name](const httplib::Request& req, const httplib::Response& res) {
    std::fputs(
        fmt::format("edgecert-sim: {}: {} {} -> {}\n", name, req.method, req.path, res.status)
            .c_str(),
        stderr);
  });

  install_certificate_routes(s, NodeRoutes(n));
  install_settings_routes(s, NodeRoutes(n));
}

}  // namespace edgecert::simserver::internal
