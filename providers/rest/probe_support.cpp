// The probe's small parts: names, RAML reading, the SSH address, and the
// real transports (libcurl, libssh) a probe runs on.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include <fmt/core.h>

#include "providers/base/enum_table.h"
#include "providers/rest/probe.h"
#include "providers/rest/probe_internal.h"
#include "providers/rest/rest_provider.h"

namespace edgecert::rest {

namespace probe_detail {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace probe_detail

namespace {
using probe_detail::iequals;
using probe_detail::trim;
namespace paths = probe_paths;
}  // namespace

const char* probe_interface_id(ProbeInterface i) {
  // The table's names are string literals: data() is NUL-terminated.
  return enum_name(spec::kInterfaceNames, i).data();
}

const char* probe_interface_label(ProbeInterface i) {
  switch (i) {
    case ProbeInterface::kRest:
      return "REST";
    case ProbeInterface::kXml:
      return "XML";
    case ProbeInterface::kCli:
      return "SSH";
  }
  return "?";
}

Result<ProbeInterface> parse_probe_interface(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (auto i = enum_parse(spec::kInterfaceNames, lower)) return *i;
  return Error::InvalidArgument(fmt::format("unknown interface '{}' (expected {})", text,
                                            enum_spellings(spec::kInterfaceNames)));
}

const char* operation_mode_name(OperationMode m) {
  switch (m) {
    case OperationMode::kAutomated:
      return "automated";
    case OperationMode::kManual:
      return "manual";
    case OperationMode::kUnavailable:
      return "unavailable";
    case OperationMode::kNotApplicable:
      return "not-applicable";
  }
  return "?";
}

const std::vector<std::string>& rest_paths_used() {
  static const std::vector<std::string> used{
      paths::kServerCert,  paths::kRootCerts,  paths::kGenerateCsr, paths::kRevocation,
      paths::kAcmePending, paths::kAcmeDeploy, paths::kRestart};
  return used;
}

std::vector<std::string> raml_resource_paths(std::string_view raml) {
  // RAML 0.8 is YAML: a resource is a key starting with '/', nested resources
  // are indented under it. Only the keys matter here; a line-based reading
  // is enough and never fails.
  std::vector<std::pair<size_t, std::string>> stack;  // indentation, absolute path
  std::vector<std::string> out;
  while (!raml.empty()) {
    size_t nl = raml.find('\n');
    std::string_view line = raml.substr(0, nl);
    raml.remove_prefix(nl == std::string_view::npos ? raml.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos) continue;
    std::string_view key = line.substr(indent);
    if (key.starts_with("#")) continue;
    while (!stack.empty() && stack.back().first >= indent) stack.pop_back();
    if (!key.starts_with("/")) continue;
    size_t colon = key.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view rest = trim(key.substr(colon + 1));
    if (!rest.empty() && !rest.starts_with("#")) continue;  // "/x: value" is not a resource
    std::string path = (stack.empty() ? std::string() : stack.back().second) +
                       std::string(trim(key.substr(0, colon)));
    out.push_back(path);
    stack.emplace_back(indent, std::move(path));
  }
  return out;
}

bool raml_lists(const std::vector<std::string>& declared, std::string_view path) {
  std::string_view tail = path;
  if (tail.starts_with("/api/")) tail.remove_prefix(4);
  return std::any_of(declared.begin(), declared.end(), [&](const std::string& d) {
    std::string_view p = d;
    if (p == path || p == tail) return true;
    return p.size() > tail.size() && p.ends_with(tail) && tail.starts_with("/");
  });
}

Result<HostPort> parse_host_port(std::string_view text, std::string_view what) {
  auto bad = [&](const char* why) {
    return Error::InvalidArgument(fmt::format("{} '{}': {} (expected HOST:PORT)", what, text, why));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  HostPort hp;
  hp.host = std::string(text.substr(0, colon));
  std::string_view port = text.substr(colon + 1);
  if (hp.host.empty()) return bad("no host");
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), hp.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || hp.port < 1 ||
      hp.port > 65535)
    return bad("the port must be 1-65535");
  return hp;
}

ProbeTransports make_probe_transports(const ProbeTarget& target, const ProbeAccess& access,
                                      Env& env) {
  ProbeTransports t;
  auto wants = [&](ProbeInterface i) {
    return std::find(target.interfaces.begin(), target.interfaces.end(), i) !=
           target.interfaces.end();
  };
  if (wants(ProbeInterface::kRest) || wants(ProbeInterface::kXml)) {
    if (auto ep = parse_https_endpoint(target.endpoint); !ep) {
      t.http_error = ep.error();
    } else {
      http::ClientOptions o;
      o.connect_host = ep->host;
      o.port = ep->port;
      o.server_name = access.server_name.empty() ? ep->host : access.server_name;
      if (!access.ca_bundle.empty()) o.ca_bundle = access.ca_bundle;
      o.insecure = access.insecure;
      o.tls_failure_hint = fmt::format(
          "the node's certificate does not verify for {} against {}", o.server_name,
          access.ca_bundle.empty() ? std::string("the system CA store (give --ca-bundle)")
                                   : access.ca_bundle);
      o.username = access.username;
      o.password = pki::SecretString(access.password.view());
      o.connect_timeout = access.connect_timeout;
      o.request_timeout = access.request_timeout;
      if (auto h = http::make_curl_transport(std::move(o), env); h)
        t.http = std::move(*h);
      else
        t.http_error = h.error();
    }
  }
  if (wants(ProbeInterface::kCli)) {
    if (auto hp = parse_host_port(target.ssh, "SSH endpoint"); !hp) {
      t.ssh_error = hp.error();
    } else {
      ssh::ClientOptions o;
      o.host = hp->host;
      o.port = hp->port;
      o.user = access.username;
      o.password = ssh::Secret(access.password.view());
      o.known_hosts_file = access.known_hosts_file;
      o.trust_new_host_key = access.trust_new_host_key;
      o.connect_timeout = access.connect_timeout;
      o.command_timeout = access.request_timeout;
      o.env = &env;
      if (auto s = ssh::make_libssh_transport(std::move(o)); s)
        t.ssh = std::move(*s);
      else
        t.ssh_error = s.error();
    }
  }
  return t;
}

}  // namespace edgecert::rest
