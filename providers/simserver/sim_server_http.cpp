// What every request meets before and after its resource's handler, as on the
// appliance's admin interface (the interface reference §3.1): HTTP Basic
// auth, the CSRF header on the POSTs that need it, {"Message": ...} error
// bodies with the reason phrase, the catch-all for unrecognised requests and
// an access log.
#include <sys/socket.h>

#include <cstdio>

#include <fmt/core.h>

#include "providers/simserver/sim_server_internal.h"
#include "providers/wire/rest_json.h"

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

// The POSTs the reference's CSRF list names (§1), under /api/provisioning/.
bool needs_csrf(const httplib::Request& req) {
  if (req.method != "POST") return false;
  static const std::string prefix = "/api/provisioning/";
  if (req.path.rfind(prefix, 0) != 0) return false;
  const std::string p = req.path.substr(prefix.size());
  if (p == "restart" || p == "common/defaultlinks" ||
      p == "controller/b2bua/microsoftinterop/restartservice" || p == "certs/acme/pendingcert" ||
      p == "certs/acme/pendingcert/deploy")
    return true;
  static const std::string domain = "domaincerts/domain/";
  if (p.rfind(domain, 0) != 0) return false;
  const std::string rest = p.substr(domain.size());
  const size_t slash = rest.find('/');
  return !rest.empty() &&
         (slash == std::string::npos || rest.substr(slash) == "/acme/pendingcert/deploy");
}

// "GET /getxml?location=/X": the path with its query, for messages.
std::string request_line(const httplib::Request& req) {
  std::string out = req.method + " " + req.path;
  bool first = true;
  for (const auto& [k, v] : req.params) {
    out += fmt::format("{}{}={}", first ? "?" : "&", k, v);
    first = false;
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

void ServerShared::record_unrecognised(const std::string& node, const std::string& what,
                                       const std::string& reply) {
  std::fputs(fmt::format("edgecert-sim: {}: unrecognised {} -> {}\n", node, what, reply).c_str(),
             stderr);
  std::lock_guard lock(mu);
  unrecognised.push_back(node + ": " + what);
}

std::vector<std::string> ServerShared::default_peers() const {
  std::vector<std::string> out;
  for (const NodeListener& l : options.nodes) out.push_back(l.fqdn);
  return out;
}

void send_message(httplib::Response& res, int status, std::string_view text) {
  res.status = status;
  res.set_content(wire::rest::format_message(text), "application/json");
}

const char* reason_phrase(int status) {
  const char* phrase = wire::rest::reason_phrase(status);
  return *phrase ? phrase : "Internal Server Error";
}

namespace {

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

bool drop_connection_for(const httplib::Request& req, httplib::Response& res, const Error& e) {
  // SimNode reports injected drops as kUnavailable "connection dropped ...";
  // the only way to tell them from a 503 is the wording.
  if (e.code != ErrorCode::kUnavailable || e.message.rfind("connection dropped", 0) != 0 ||
      !req.ssl)
    return false;
  int fd = SSL_get_fd(req.ssl);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  res.status = 503;
  return true;
}

void send_error(const httplib::Request& req, httplib::Response& res, const Error& e) {
  if (drop_connection_for(req, res, e)) return;
  // 404 and 409 carry the bare reason phrase, as T1 shows them; the others
  // the node's wording after it.
  const int status = status_for(e.code);
  if (status == 404 || status == 409) return send_message(res, status, reason_phrase(status));
  send_message(res, status, fmt::format("{}: {}", reason_phrase(status), e.message));
}

void add_route(httplib::SSLServer& s, const Route& route) {
  if (route.method == "GET") {
    s.Get(route.path, route.handler);
  } else if (route.method == "POST") {
    s.Post(route.path, route.handler);
  } else if (route.method == "PUT") {
    s.Put(route.path, route.handler);
  } else {
    s.Delete(route.path, route.handler);
  }
}

void reply_unrecognised(NodeServer& n, const httplib::Request& req, httplib::Response& res) {
  n.shared.record_unrecognised(n.listener.name, request_line(req), "404");
  send_message(res, 404, "Not Found");
}

void send_pem(httplib::Response& res, const std::string& pem) {
  res.status = 200;
  res.set_content(pem, "text/plain");
}

void install_routes(NodeServer& n) {
  httplib::SSLServer& s = *n.server;
  // `n` (and the options it refers to) outlive the listener's handlers: the
  // SimServer stops every listener before it goes away.
  s.set_pre_routing_handler([&n](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, n.shared.options)) {
      res.set_header("WWW-Authenticate", "Basic realm=\"edgecert-sim\"");
      send_message(res, 401, "Unauthorized");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (needs_csrf(req) && !req.has_header("X-CSRF-Header")) {
      send_message(res, 403, "Forbidden");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Access log on stderr: node, method, path, status. Never headers or
  // bodies (they carry the password and uploaded keys).
  s.set_logger([name = n.listener.name](const httplib::Request& req, const httplib::Response& res) {
    std::fputs(
        fmt::format("edgecert-sim: {}: {} {} -> {}\n", name, req.method, req.path, res.status)
            .c_str(),
        stderr);
  });

  install_rest_routes(s, NodeRoutes(n));
  install_xml_routes(s, NodeRoutes(n));

  // Last: everything no route above took (routes match in registration
  // order). httplib answers HEAD through the GET routes.
  auto unrecognised = [&n](const httplib::Request& req, httplib::Response& res) {
    reply_unrecognised(n, req, res);
  };
  s.Get(".*", unrecognised);
  s.Post(".*", unrecognised);
  s.Put(".*", unrecognised);
  s.Patch(".*", unrecognised);
  s.Delete(".*", unrecognised);
  s.Options(".*", unrecognised);
}

}  // namespace edgecert::simserver::internal
