#include "reconciler/engine/site.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/fqdn.h"
#include "providers/base/read_limits.h"
#include "providers/pki/verify.h"
#include "reconciler/engine/desired.h"

namespace edgecert {

namespace {

// "edge/cluster.yaml:20:7 (spec.serverCertificate.chatNodeAliases)": where
// in the other spec a finding points, for messages positioned in this one.
std::string where(const spec::Spec& s, const std::string& key) {
  spec::SourcePos p = s.positions.find(key);
  std::string field = key;
  return fmt::format("{}:{}:{} ({})", s.path, p.line, p.column, field);
}

// The aliases a certificate of the spec carries: chat node aliases are SANs
// of the XMPP federation role only (guide ch.3 table).
std::set<std::string> chat_aliases(const spec::Spec& s) {
  std::set<std::string> out;
  if (!s.server_certificate.has_role(spec::Role::kXmppFederation)) return out;
  for (const std::string& a : s.server_certificate.chat_node_aliases) out.insert(to_lower_ascii(a));
  return out;
}

std::string list_or_none(const std::set<std::string>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

// The CA certificates that issue a spec's certificates, when the spec alone
// tells: an openssl-ca issuer's cacert.pem (the CA, then its own issuers).
// nullopt: not known from the spec (ACME, external, or a CA folder not set
// up yet).
std::optional<std::vector<pki::Certificate>> issuing_cas(Env& env, const spec::Spec& s) {
  const auto* ca = std::get_if<spec::OpensslCaIssuer>(&s.server_certificate.issuer);
  if (!ca) return std::nullopt;
  std::string file = path_join(ca->directory, "cacert.pem");
  if (!env.exists(file)) return std::nullopt;
  auto certs = pki::load_certificates(env, file, read_limits::kTrustedCa);
  if (!certs || certs->empty()) return std::nullopt;
  return *certs;
}

// Every certificate in the spec's trustedCAs files; nullopt when the spec
// does not manage the trust store or a file cannot be read (validation
// reports that one).
std::optional<std::vector<pki::Certificate>> spec_anchors(Env& env, const spec::Spec& s) {
  if (!s.trusted_cas) return std::nullopt;
  std::vector<pki::Certificate> out;
  for (const std::string& file : s.trusted_cas->certificates) {
    auto certs = pki::load_certificates(env, file, read_limits::kTrustedCa);
    if (!certs) return std::nullopt;
    out.insert(out.end(), certs->begin(), certs->end());
  }
  return out;
}

bool contains(const std::vector<pki::Certificate>& set, const pki::Certificate& c) {
  return std::ranges::find(set, c) != set.end();
}

// True when `cas` (issuing CA first, then its issuers) chains to `anchors`.
bool trusted_by(const std::vector<pki::Certificate>& cas,
                const std::vector<pki::Certificate>& anchors, TimePoint now) {
  if (cas.empty()) return true;
  if (contains(anchors, cas.front())) return true;
  std::vector<pki::Certificate> rest(cas.begin() + 1, cas.end());
  pki::VerifyOptions options;
  options.at = now;
  return pki::verify_chain(cas.front(), rest, anchors, options).ok;
}

std::string describe_ca(const pki::Certificate& ca) {
  std::string cn = ca.subject_cn();
  return cn.empty() ? ca.subject() : "'" + cn + "'";
}

bool on_acme(const spec::Spec& s) {
  return std::holds_alternative<spec::AcmeIssuer>(s.server_certificate.issuer) ||
         std::holds_alternative<spec::ExpresswayAcmeIssuer>(s.server_certificate.issuer);
}

}  // namespace

SiteSpecCheck check_site_specs(const spec::Spec& c, Env& env, const schema::LoadOptions& options) {
  SiteSpecCheck out;
  if (!c.traversal) return out;
  const spec::Traversal& t = *c.traversal;
  Diagnostics& d = out.diagnostics;
  auto at = [&](const std::string& key) { return c.positions.find(key); };
  auto error = [&](const std::string& key, std::string message) {
    spec::SourcePos p = at(key);
    d.error(c.path, p.line, p.column, std::move(message));
  };
  const std::string e_key = "spec.traversal.expresswayE";

  if (env.real_path(t.expressway_e) == env.real_path(c.path)) {
    error(e_key,
          "spec.traversal.expresswayE: names this spec itself; name the spec of the "
          "Expressway-E cluster the traversal zone connects to");
    return out;
  }
  // "core/../edge/cluster.yaml" reads as "edge/cluster.yaml" in messages.
  const std::string e_path = std::filesystem::path(t.expressway_e).lexically_normal().string();
  schema::LoadResult loaded = schema::load_spec_file(e_path, env, options);
  if (!loaded.ok()) {
    std::vector<Diagnostic> errors = loaded.diagnostics.sorted();
    auto first = std::ranges::find_if(
        errors, [](const Diagnostic& x) { return x.severity == Severity::kError; });
    error(e_key,
          fmt::format("spec.traversal.expresswayE: the Expressway-E spec '{}' does not load, so "
                      "the site cannot be checked ({} error{}{}{}); run 'edgecert validate {}'",
                      clip_for_message(e_path), loaded.diagnostics.error_count(),
                      loaded.diagnostics.error_count() == 1 ? "" : "s",
                      first != errors.end() ? ", the first: " : "",
                      first != errors.end() ? first->to_string() : "", clip_for_message(e_path)));
    return out;
  }
  const spec::Spec& e = *loaded.spec;
  if (e.product != spec::Product::kExpresswayE) {
    error(e_key,
          fmt::format("spec.traversal.expresswayE: '{}' describes an {} (cluster '{}', "
                      "{}); a traversal zone connects to an Expressway-E",
                      e.path, spec::product_name(e.product), e.name, where(e, "spec.product")));
    out.expressway_e = std::move(*loaded.spec);
    return out;
  }

  // 1. Chat node aliases (guide ch.3: the aliases on E must equal those on C).
  std::set<std::string> c_aliases = chat_aliases(c), e_aliases = chat_aliases(e);
  if (c_aliases != e_aliases) {
    const bool c_lists = !c.server_certificate.chat_node_aliases.empty();
    const std::string key =
        c_lists ? "spec.serverCertificate.chatNodeAliases" : "spec.serverCertificate.roles";
    std::string e_field = e.server_certificate.chat_node_aliases.empty()
                              ? "spec.serverCertificate.roles"
                              : "spec.serverCertificate.chatNodeAliases";
    error(key, fmt::format("chat node aliases differ across the site: this Expressway-C's "
                           "certificates carry {}, the Expressway-E's carry {} ({}); they must "
                           "be equal (guide ch.3; aliases are names of the xmpp-federation role)",
                           list_or_none(c_aliases), list_or_none(e_aliases), where(e, e_field)));
  }

  // 2. The addresses C dials are names of E's certificates (appendix A).
  if (t.tls_verify) {
    std::set<std::string> e_names;
    for (const spec::Peer& p : e.peers)
      for (const std::string& n : desired_certificate(e, p).subject_alt_names)
        e_names.insert(to_lower_ascii(n));
    for (size_t i = 0; i < t.peer_addresses.size(); ++i) {
      const std::string& a = t.peer_addresses[i];
      if (e_names.count(a)) continue;
      error(fmt::format("spec.traversal.peerAddresses.{}", i),
            fmt::format("spec.traversal.peerAddresses[{}]: '{}' is not a name of the "
                        "Expressway-E's certificates ({}: {}); with TLS verify mode on, the "
                        "traversal zone refuses a peer whose certificate does not name the "
                        "address it dials (guide appendix A): dial one of those names, or add "
                        "it to the E's spec.serverCertificate.additionalNames ({})",
                        i, clip_for_message(a), e.path, list_or_none(e_names),
                        where(e, "spec.serverCertificate")));
    }
  }

  // 3. Mutual trust, where the specs tell (check_site_live covers the rest).
  if (options.check_files) {
    auto e_cas = issuing_cas(env, e), c_cas = issuing_cas(env, c);
    auto c_anchors = spec_anchors(env, c), e_anchors = spec_anchors(env, e);
    TimePoint now = env.now();
    if (e_cas && c_anchors && !trusted_by(*e_cas, *c_anchors, now))
      error("spec.trustedCAs.certificates",
            fmt::format("this Expressway-C does not trust the CA that issues the Expressway-E's "
                        "certificates ({}, the openssl-ca issuer at {}): traversal zones use "
                        "mutual TLS; add its certificate to spec.trustedCAs.certificates",
                        describe_ca(e_cas->front()), where(e, "spec.serverCertificate.issuer")));
    if (c_cas && e_anchors && !trusted_by(*c_cas, *e_anchors, now))
      error(e_key, fmt::format("the Expressway-E does not trust the CA that issues this "
                               "Expressway-C's certificates ({}): traversal zones use mutual "
                               "TLS; add its certificate to the E's spec.trustedCAs ({})",
                               describe_ca(c_cas->front()), where(e, "spec.trustedCAs")));
  }
  out.expressway_e = std::move(*loaded.spec);
  return out;
}

namespace {

bool contains_peer(const std::set<std::string>& set, const std::string& peer) {
  return set.count(peer) > 0;
}

// A side as check_site_live judges it: its spec's trustedCAs read once.
struct Side {
  const char* product;  // "Expressway-C"
  const SiteSide& in;
  std::optional<std::vector<pki::Certificate>> anchors;
  const spec::Spec& spec() const { return in.spec; }
  const ClusterLive& live() const { return in.live; }
};

// What one node's trust store holds after its cluster's plan: the spec's
// trustedCAs plus what the node holds now (unless pruned), or what it holds
// now when trustedCAs is not managed; the issuer's CA chain either way (the
// plan installs it before a certificate it issued).
std::vector<pki::Certificate> trust_after(const Side& side, const node::NodeState& state) {
  std::vector<pki::Certificate> out;
  auto add = [&](const pki::Certificate& c) {
    if (!contains(out, c)) out.push_back(c);
  };
  const auto& tc = side.spec().trusted_cas;
  if (tc && side.anchors)
    for (const pki::Certificate& c : *side.anchors) add(c);
  if (!tc || !side.anchors || !tc->prune)
    for (const pki::Certificate& c : state.trusted_cas) add(c);
  for (const pki::Certificate& c : side.in.issuer_cas) add(c);
  return out;
}

std::string trust_field(const spec::Spec& s) {
  return s.trusted_cas ? where(s, "spec.trustedCAs.certificates")
                       : fmt::format("{} (add spec.trustedCAs)", s.path);
}

// "Expressway-C node core1 of cluster 'core'" / "Expressway-C nodes core1,
// core2 of cluster 'core'", with "does"/"do" after it when `verb`.
std::string nodes_of(const Side& side, const std::vector<std::string>& nodes, bool verb = false) {
  const bool one = nodes.size() == 1;
  return fmt::format("{} node{} {} of cluster '{}'{}", side.product, one ? "" : "s",
                     fmt::join(nodes, ", "), side.spec().name, verb ? (one ? " does" : " do") : "");
}

// Does every readable node of `to` trust what each node of `from` will
// serve after the plans? A node the plan reissues is judged by its issuer's
// CA chain when that is known ahead; otherwise (and for a node the plan
// leaves alone) by the chain it serves now. One finding per serving node,
// naming the nodes that would refuse it.
void check_trust(const Side& from, const Side& to, TimePoint now, bool acme,
                 std::vector<std::string>& out) {
  for (const NodeLive& served : from.live().nodes) {
    if (!served.state) continue;
    const bool reissued = contains_peer(from.in.reissued, served.peer);
    const auto& chain = served.state->server_chain;
    if (reissued && !from.in.issuer_cas.empty()) {
      std::vector<std::string> refusing;
      for (const NodeLive& n : to.live().nodes)
        if (n.state && !trusted_by(from.in.issuer_cas, trust_after(to, *n.state), now))
          refusing.push_back(n.peer);
      if (!refusing.empty())
        out.push_back(fmt::format(
            "site: {} will not trust the certificate {} node {} of cluster '{}' serves after "
            "its plan (issued by {}): traversal zones use mutual TLS; add that CA to {}",
            nodes_of(to, refusing), from.product, served.peer, from.spec().name,
            describe_ca(from.in.issuer_cas.front()), trust_field(to.spec())));
      continue;
    }
    if (chain.empty()) continue;
    const pki::Certificate& leaf = chain.front();
    if (reissued && is_factory_certificate(leaf)) {
      // Replaced by an issuer that is known only once it signs (ACME,
      // external): nothing to judge before it is applied.
      out.push_back(fmt::format(
          "site: {} node {} of cluster '{}' still serves its factory temporary certificate and "
          "its plan replaces it through {}, whose CA is known only once it signs: the site's "
          "trust in it is checked by the next plan after that apply",
          from.product, served.peer, from.spec().name,
          spec::issuer_type_name(from.spec().server_certificate.issuer)));
      continue;
    }
    if (is_factory_certificate(leaf)) {
      out.push_back(fmt::format(
          "site: {} node {} of cluster '{}' serves its factory temporary certificate, which no "
          "traversal peer should trust; its spec's plan does not replace it (is the node "
          "excluded?): apply cluster '{}' ({})",
          from.product, served.peer, from.spec().name, from.spec().name, from.spec().path));
      continue;
    }
    std::vector<pki::Certificate> inter(chain.begin() + 1, chain.end());
    std::vector<std::string> refusing, no_intermediate, no_root;
    std::string why;
    pki::VerifyOptions options;
    options.at = now;
    for (const NodeLive& n : to.live().nodes) {
      if (!n.state) continue;
      std::vector<pki::Certificate> anchors = trust_after(to, *n.state);
      pki::VerifyResult r = pki::verify_chain(leaf, inter, anchors, options);
      if (!r.ok) {
        refusing.push_back(n.peer);
        if (why.empty()) why = r.error_name;
        continue;
      }
      if (!acme) continue;
      // Guide ch.4: the ACME CA's intermediate and root are both trusted.
      for (const pki::Certificate& i : inter)
        if (!i.is_self_signed() && !contains(anchors, i)) {
          no_intermediate.push_back(n.peer);
          break;
        }
      std::vector<pki::Certificate> roots;
      for (const pki::Certificate& a : anchors)
        if (a.is_self_signed()) roots.push_back(a);
      if (!pki::verify_chain(leaf, inter, roots, options).ok) no_root.push_back(n.peer);
    }
    const std::string issuer = leaf.issuer_cn().empty() ? leaf.issuer() : leaf.issuer_cn();
    const std::string serving = fmt::format("{} node {}", from.product, served.peer);
    const std::string acme_rule =
        "with the Expressway-E on ACME, every traversal Expressway-C trusts the ACME root and "
        "intermediate (guide ch.4)";
    if (!refusing.empty())
      out.push_back(fmt::format(
          "site: {} will not trust the certificate {} of cluster '{}' "
          "serves (issued by '{}'; {}): traversal zones use mutual TLS; "
          "add the issuing CA to {}",
          nodes_of(to, refusing), serving, from.spec().name, issuer, why, trust_field(to.spec())));
    if (!no_intermediate.empty())
      out.push_back(fmt::format(
          "site: {} not hold the ACME CA's intermediate ('{}') that {} serves: {}; add it to {}",
          nodes_of(to, no_intermediate, true), issuer, serving, acme_rule, trust_field(to.spec())));
    if (!no_root.empty())
      out.push_back(fmt::format(
          "site: {} not hold the root of the ACME chain {} serves (issued "
          "by '{}'): {}; add the root to {}",
          nodes_of(to, no_root, true), serving, issuer, acme_rule, trust_field(to.spec())));
  }
}

std::vector<std::string> served_names(const pki::Certificate& leaf) {
  std::vector<std::string> names;
  for (const std::string& n : leaf.subject_alt_names().dns) names.push_back(to_lower_ascii(n));
  if (std::string cn = to_lower_ascii(leaf.subject_cn());
      !cn.empty() && std::ranges::find(names, cn) == names.end())
    names.push_back(cn);
  return names;
}

}  // namespace

std::vector<std::string> check_site_live(Env& env, const SiteSide& c, const SiteSide& e) {
  std::vector<std::string> out;
  if (!c.spec.traversal) return out;
  const spec::Traversal& t = *c.spec.traversal;
  for (const NodeLive& n : e.live.nodes)
    if (!n.state)
      out.push_back(fmt::format(
          "site: Expressway-E node {} of cluster '{}' could not be read ({}): its certificate "
          "and trust store were not checked against this Expressway-C",
          n.peer, e.spec.name, n.error ? n.error->message : "no state"));
  TimePoint now = env.now();
  Side c_side{"Expressway-C", c, spec_anchors(env, c.spec)};
  Side e_side{"Expressway-E", e, spec_anchors(env, e.spec)};
  check_trust(e_side, c_side, now, on_acme(e.spec), out);
  check_trust(c_side, e_side, now, false, out);

  // The names the E serves now against the addresses the C dials; a node
  // the E's plan reissues gets its spec's names (check_site_specs).
  if (!t.tls_verify) return out;
  for (size_t i = 0; i < t.peer_addresses.size(); ++i) {
    const std::string& a = t.peer_addresses[i];
    // An address that is an E peer's FQDN reaches that peer; any other
    // name (the cluster's, a DNS alias) may reach any of them.
    const spec::Peer* peer = nullptr;
    for (const spec::Peer& p : e.spec.peers)
      if (to_lower_ascii(p.fqdn) == a) peer = &p;
    std::vector<std::string> lacking;
    for (const NodeLive& n : e.live.nodes) {
      if (!n.state || n.state->server_chain.empty() || contains_peer(e.reissued, n.peer)) continue;
      if (peer && n.peer != peer->name) continue;
      auto names = served_names(n.state->server_chain.front());
      if (std::ranges::find(names, a) == names.end())
        lacking.push_back(fmt::format("{} serves {}", n.peer, fmt::join(names, ", ")));
    }
    if (!lacking.empty())
      out.push_back(fmt::format(
          "site: the traversal peer address '{}' ({}) is not a name of the certificate {} now "
          "({}), and the plan of cluster '{}' does not replace it: with TLS verify mode on, "
          "this Expressway-C's zone refuses it until that certificate names it (guide "
          "appendix A)",
          a, where(c.spec, fmt::format("spec.traversal.peerAddresses.{}", i)),
          peer ? "Expressway-E node " + peer->name + " serves" : "every Expressway-E node serves",
          fmt::join(lacking, "; "), e.spec.name));
  }
  return out;
}

}  // namespace edgecert
