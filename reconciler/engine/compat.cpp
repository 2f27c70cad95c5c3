#include "reconciler/engine/compat.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/fqdn.h"
#include "reconciler/engine/diff.h"

namespace edgecert {
namespace {

std::string release_name(const Release& r) {
  return fmt::format("X{}.{}", r.major, r.minor);
}

// A spec feature and the release that brought it.
struct Gate {
  const char* feature;
  Release since;
};

// The host of "https://HOST[:PORT][/...]" or "sim://NAME", lower case.
std::string endpoint_host(const std::string& endpoint) {
  std::string rest = endpoint;
  if (auto p = rest.find("://"); p != std::string::npos) rest = rest.substr(p + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[')
    return to_lower_ascii(rest.substr(1, rest.find(']') - 1));
  return to_lower_ascii(rest.substr(0, rest.find(':')));
}

node::Product spec_product(spec::Product p) {
  return p == spec::Product::kExpresswayC ? node::Product::kExpresswayC
                                          : node::Product::kExpresswayE;
}

// The node's own peer list against the spec's peers, as host sets: an
// address matches a peer by its FQDN or its endpoint's host. "" when they
// agree.
std::string peer_list_problem(const spec::Spec& spec, const std::vector<std::string>& addresses) {
  std::set<std::string> listed;
  for (const auto& a : addresses)
    if (!a.empty()) listed.insert(to_lower_ascii(a));
  // A standalone node lists no peers; so does a one-peer spec.
  if (listed.empty() && spec.peers.size() == 1) return "";
  std::vector<std::string> missing, extra, spec_names;
  for (const auto& p : spec.peers) {
    spec_names.push_back(p.fqdn);
    if (!listed.count(to_lower_ascii(p.fqdn)) && !listed.count(endpoint_host(p.endpoint)))
      missing.push_back(p.fqdn);
  }
  for (const auto& a : listed) {
    bool known = std::any_of(spec.peers.begin(), spec.peers.end(), [&](const spec::Peer& p) {
      return to_lower_ascii(p.fqdn) == a || endpoint_host(p.endpoint) == a;
    });
    if (!known) extra.push_back(a);
  }
  if (missing.empty() && extra.empty()) return "";
  std::string detail;
  if (!missing.empty())
    detail += fmt::format("spec peers it does not list: {}", fmt::join(missing, ", "));
  if (!extra.empty())
    detail += fmt::format("{}peers it lists that the spec does not have: {}",
                          detail.empty() ? "" : "; ", fmt::join(extra, ", "));
  return fmt::format(
      "the node's own cluster peer list (System > Clustering, xConfiguration Alternates) is [{}], "
      "the spec's peers are [{}] ({}). Point the spec at the cluster the node belongs to, or fix "
      "the cluster on the node",
      fmt::join(addresses, ", "), fmt::join(spec_names, ", "), detail);
}

}  // namespace

std::optional<Release> parse_release(const std::string& version) {
  std::string_view v = version;
  if (v.empty() || (v.front() != 'X' && v.front() != 'x')) return std::nullopt;
  v.remove_prefix(1);
  int parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), parts[i]);
    if (ec != std::errc() || parts[i] < 0) {
      if (i < 2) return std::nullopt;
      break;
    }
    v.remove_prefix(static_cast<size_t>(ptr - v.data()));
    if (v.empty() || v.front() != '.') {
      if (i == 0) return std::nullopt;  // "X14" alone is not a release
      break;
    }
    v.remove_prefix(1);
  }
  return Release{parts[0], parts[1], parts[2]};
}

CompatibilityReport check_compatibility(const spec::Spec& spec, const ClusterLive& live) {
  CompatibilityReport out;
  std::vector<Gate> gates;
  if (spec.server_certificate.key.algorithm == spec::KeyAlgorithm::kEcdsa)
    gates.push_back({"ECDSA keys (serverCertificate.key.algorithm: ecdsa)", {14, 3, 0}});
  if (!spec.server_certificate.phone_security_profiles.empty())
    gates.push_back({"FQDN phone security profile names (serverCertificate.phoneSecurityProfiles)",
                     {12, 6, 0}});
  if (node_signs(spec) || spec.acme)
    gates.push_back(
        {"the Expressway-E ACME service (issuer expressway-acme / spec.acme)", {12, 5, 0}});
  const node::Product want = spec_product(spec.product);
  std::vector<std::pair<std::string, std::string>> releases;  // peer, version
  for (const NodeLive& n : live.nodes) {
    if (!n.state) continue;
    const node::NodeState& st = *n.state;
    const spec::Peer* peer = spec.find_peer(n.peer);
    // A simulated node that does not say is whatever the spec asks for.
    const bool simulated = peer && peer->endpoint.starts_with("sim://");
    if (st.product == node::Product::kUnknown && simulated) {
      // nothing to check
    } else if (st.product == node::Product::kUnknown)
      out.warnings.push_back(fmt::format(
          "{}: the node does not say whether it is an Expressway-C or -E; the spec's product "
          "({}) cannot be checked",
          n.peer, spec::product_name(spec.product)));
    else if (st.product != want)
      out.errors.push_back(fmt::format(
          "{}: the node is an {}, but the spec is for an {} (spec.product: {}); nothing was "
          "changed. Check the peer's endpoint, or the spec's product",
          n.peer, node::product_name(st.product), node::product_name(want),
          spec::product_name(spec.product)));
    auto release = parse_release(st.software_version);
    if (!release) {
      out.warnings.push_back(fmt::format(
          "{}: the node's software version '{}' does not read as a release (X14.3.1); the "
          "release each spec feature needs cannot be checked",
          n.peer, st.software_version));
    } else {
      releases.emplace_back(n.peer, st.software_version);
      for (const Gate& g : gates)
        if (*release < g.since)
          out.errors.push_back(fmt::format("{}: the node runs {}, but {} need {} or later", n.peer,
                                           st.software_version, g.feature, release_name(g.since)));
      if (peer && peer->endpoint.starts_with("https://") && *release < Release{14, 2, 0})
        out.errors.push_back(fmt::format(
            "{}: the node runs {}, but edgecert's https:// writes send the X-CSRF-Header (CSRF "
            "protection) that needs X14.2 or later",
            n.peer, st.software_version));
    }
    if (st.cluster_peers)
      if (auto why = peer_list_problem(spec, *st.cluster_peers); !why.empty())
        out.errors.push_back(n.peer + ": " + why);
  }
  std::set<std::string> distinct;
  for (const auto& [peer, v] : releases) distinct.insert(v);
  if (distinct.size() > 1) {
    std::vector<std::string> each;
    for (const auto& [peer, v] : releases) each.push_back(peer + " " + v);
    out.warnings.push_back(fmt::format(
        "the peers run different releases ({}); a cluster's peers should all run the same one",
        fmt::join(each, ", ")));
  }
  return out;
}

}  // namespace edgecert
