// Opening an https:// node: the endpoint, the credentials, the libcurl
// transport (server certificate verified for the peer FQDN) and, when
// access.interfaces allows the CLI, the libssh transport (host key pinned in
// access.knownHosts). Nothing connects here: both transports connect on
// first use.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "providers/rest/rest_provider.h"

namespace edgecert::rest {

Result<Endpoint> parse_https_endpoint(const std::string& endpoint) {
  const std::string prefix = "https://";
  auto bad = [&](const char* why) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}': {} (expected https://HOST[:PORT])", endpoint, why));
  };
  if (endpoint.rfind(prefix, 0) != 0) return bad("not an https:// endpoint");
  std::string rest = endpoint.substr(prefix.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return bad("a path is not allowed");
  Endpoint e;
  auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    std::string port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("the port must be a number");
    e.port = std::stoi(port);
    if (e.port < 1 || e.port > 65535) return bad("the port must be 1-65535");
  }
  bool ok = !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
  });
  if (!ok) return bad("the host must be a DNS name or an IPv4 address");
  e.host = rest;
  return e;
}

Result<std::unique_ptr<node::NodeProvider>> make_https_node_provider_with(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer,
    RestOptions options) {
  auto fail = [&](ErrorCode code, const std::string& msg) {
    return make_error(code, fmt::format("{}: open: {}", peer.name, msg));
  };
  auto ep = parse_https_endpoint(peer.endpoint);
  if (!ep) return fail(ep.error().code, ep.error().message);
  if (!spec.access || spec.access->username.empty() || spec.access->password_from.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "https:// endpoints need spec.access.username and spec.access.passwordFrom");
  }
  const spec::Access& access = *spec.access;
  auto pw = context.resolve_password
                ? context.resolve_password(access.password_from)
                : node::resolve_password_from(context.env, access.password_from);
  if (!pw) return fail(pw.error().code, pw.error().message);

  std::unique_ptr<ssh::Transport> cli;
  if (std::ranges::find(access.interfaces, spec::Interface::kCli) != access.interfaces.end()) {
    ssh::ClientOptions so;
    so.host = peer.ssh_host.empty() ? ep->host : peer.ssh_host;
    so.port = peer.ssh_host.empty() ? 22 : peer.ssh_port;
    so.user = access.username;
    so.password = ssh::Secret(pw->view());
    so.known_hosts_file =
        access.known_hosts.empty()
            ? path_join(path_join(spec.directory.empty() ? "." : spec.directory, ".edgecert"),
                        "known_hosts")
            : access.known_hosts;
    so.trust_new_host_key = context.trust_new_host_key;
    so.connect_timeout = context.connect_timeout;
    so.command_timeout = context.request_timeout;
    so.env = &context.env;
    auto t = ssh::make_libssh_transport(std::move(so));
    if (!t) return fail(t.error().code, t.error().message);
    cli = std::move(*t);
  }

  // Connect to the endpoint's address but verify the peer FQDN (SNI and
  // certificate name): the endpoint may be an IP or a management alias.
  http::ClientOptions o;
  o.connect_host = ep->host;
  o.port = ep->port;
  o.server_name = peer.fqdn.empty() ? ep->host : peer.fqdn;
  o.ca_bundle = access.ca_bundle;
  o.insecure = context.insecure;
  o.tls_failure_hint =
      "the node's certificate does not verify against access.caBundle for the peer FQDN";
  o.username = access.username;
  o.password = std::move(*pw);
  o.connect_timeout = context.connect_timeout;
  o.request_timeout = context.request_timeout;
  auto t = http::make_curl_transport(std::move(o), context.env);
  if (!t) return fail(t.error().code, t.error().message);
  return make_expressway_node_provider(peer.name, context.env, std::move(*t), std::move(cli),
                                       access.interfaces, options);
}

Result<std::unique_ptr<node::NodeProvider>> make_https_node_provider(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer) {
  return make_https_node_provider_with(context, spec, peer, RestOptions{});
}

}  // namespace edgecert::rest
