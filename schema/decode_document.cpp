// Decoding the document root and the spec sections that describe the cluster
// itself: apiVersion/kind, metadata, spec (dispatching to the other section
// decoders), peers and access.
#include <algorithm>

#include <fmt/core.h>

#include "providers/base/fqdn.h"
#include "schema/decode_internal.h"

namespace edgecert::schema::detail {
namespace {

const KeyList kRootKeys = {"apiVersion", "kind", "metadata", "spec"};
const KeyList kMetadataKeys = {"name"};
const KeyList kSpecKeys = {
    "product",    "clusterFqdn", "tlsVerification",    "peers", "access",  "serverCertificate",
    "trustedCAs", "crl",         "revocationChecking", "acme",  "rollout", "traversal"};
const KeyList kTraversalKeys = {"expresswayE", "peerAddresses", "tlsVerify"};
const KeyList kPeerKeys = {"name", "fqdn", "endpoint", "ssh"};
const KeyList kAccessKeys = {"username", "passwordFrom", "caBundle", "interfaces", "knownHosts"};

// "[::1]" -> "::1": libssh and known_hosts take the bare address.
std::string unbracket(std::string host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

Decoder::Decoder(const std::string& path, Env& env, const LoadOptions& options, Diagnostics& diags)
    : path_(path), env_(env), options_(options), diags_(diags) {
  spec_.path = path;
  spec_.directory = path_dirname(path);
  if (spec_.directory.empty()) spec_.directory = ".";
}

void Decoder::run(const YAML::Node& root) {
  SourcePos start = mark_of(root);
  if (start.line == 0) start = {1, 1};
  Field doc{"", root, start, start};
  if (!root.IsDefined() || root.IsNull()) {
    error({1, 1}, fmt::format("the spec is empty; expected apiVersion: {} and kind: {}",
                              kApiVersion, kKind));
    return;
  }
  Map m = map(doc, kRootKeys);
  if (!m.ok) return;
  for (const char* k : {"apiVersion", "kind", "metadata", "spec"}) require(m, k);
  if (const Field* f = m.get("apiVersion")) {
    if (auto s = str(*f)) {
      spec_.api_version = *s;
      if (*s != kApiVersion)
        error(f->value_pos, fmt::format("unsupported apiVersion '{}'; supported: {}",
                                        clip_for_message(*s), kApiVersion));
    }
  }
  if (const Field* f = m.get("kind")) {
    if (auto s = str(*f)) {
      spec_.kind = *s;
      if (*s != kKind)
        error(f->value_pos,
              fmt::format("unsupported kind '{}'; supported: {}", clip_for_message(*s), kKind));
    }
  }
  if (const Field* f = m.get("metadata")) decode_metadata(*f);
  if (const Field* f = m.get("spec")) decode_spec(*f);
}

void Decoder::decode_metadata(const Field& f) {
  Map m = map(f, kMetadataKeys);
  require(m, "name");
  if (const Field* n = m.get("name"))
    if (auto s = simple_name(*n)) spec_.name = *s;
}

void Decoder::decode_spec(const Field& f) {
  Map m = map(f, kSpecKeys);
  if (!m.ok) return;
  require(m, "product");
  require(m, "peers");
  require(m, "serverCertificate");
  if (auto p = enumeration<spec::Product>(m, "product")) {
    spec_.product = *p;
    have_product_ = true;
  }
  if (const Field* c = m.get("clusterFqdn")) spec_.cluster_fqdn = fqdn(*c);
  if (auto t = enumeration<spec::TlsVerification>(m, "tlsVerification"))
    spec_.tls_verification = *t;
  if (const Field* p = m.get("peers")) decode_peers(*p);
  if (const Field* a = m.get("access")) decode_access(*a);
  if (const Field* s = m.get("serverCertificate")) decode_server_certificate(*s);
  if (const Field* t = m.get("trustedCAs")) decode_trusted_cas(*t);
  if (const Field* c = m.get("crl")) decode_crl(*c);
  if (const Field* r = m.get("revocationChecking")) decode_revocation(*r);
  if (const Field* a = m.get("acme")) decode_acme(*a);
  if (const Field* r = m.get("rollout")) decode_rollout(*r);
  if (const Field* t = m.get("traversal")) decode_traversal(*t);

  check_cluster_shape(m.has("clusterFqdn"));
  check_endpoints_and_access();
  if (have_product_) check_roles();
  check_rollout_order();
  check_revocation_sources();
  if (options_.check_files) check_trusted_ca_files();
}

void Decoder::decode_peers(const Field& f) {
  std::vector<Field> items = seq(f);
  peer_count_ = items.size();
  if (f.value.IsSequence() && (items.empty() || items.size() > kMaxPeers))
    error(f.key_pos,
          fmt::format("spec.peers: a cluster has 1 to {} peers, got {}", kMaxPeers, items.size()));
  std::map<std::string, SourcePos> names, fqdns, endpoints;
  for (const Field& item : items) {
    Map m = map(item, kPeerKeys);
    if (!m.ok) continue;
    for (const char* k : {"name", "fqdn", "endpoint"}) require(m, k);
    spec::Peer peer;
    bool ok = m.has("name") && m.has("fqdn") && m.has("endpoint");
    const Field* nf = m.get("name");
    if (auto s = nf ? simple_name(*nf) : std::nullopt) {
      if (auto it = names.find(*s); it != names.end()) {
        error(nf->value_pos, fmt::format("{}: duplicate peer name '{}' (first at line {})",
                                         nf->name(), clip_for_message(*s), it->second.line));
        ok = false;
      } else {
        names[*s] = nf->value_pos;
        peer_names_.push_back(*s);
        peer.name = *s;
      }
    } else {
      ok = false;
    }
    if (const Field* ff = m.get("fqdn")) {
      if (auto s = fqdn(*ff)) {
        std::string lower = to_lower_ascii(*s);
        if (auto it = fqdns.find(lower); it != fqdns.end()) {
          error(ff->value_pos, fmt::format("{}: duplicate peer FQDN '{}' (first at line {})",
                                           ff->name(), clip_for_message(*s), it->second.line));
          ok = false;
        } else {
          fqdns[lower] = ff->value_pos;
          peer.fqdn = *s;
        }
      } else {
        ok = false;
      }
    }
    if (const Field* ef = m.get("endpoint")) {
      if (auto s = str(*ef)) {
        std::string why;
        if (s->starts_with("sim://")) {
          if (!is_simple_name(s->substr(6))) {
            error(
                ef->value_pos,
                fmt::format("{}: '{}': a sim:// endpoint names the simulated node with lower-case "
                            "letters, digits and hyphens (sim://NAME)",
                            ef->name(), clip_for_message(*s)));
            ok = false;
          }
        } else if (s->starts_with("https://")) {
          std::string host;
          if (split_host_port(s->substr(8), false, &host, &why)) {
            peer.ssh_host = unbracket(host);  // the CLI's default: same host, port 22
          } else {
            error(ef->value_pos, fmt::format("{}: '{}' must be https://HOST[:PORT]: {}", ef->name(),
                                             clip_for_message(*s), why));
            ok = false;
          }
        } else {
          error(ef->value_pos, fmt::format("{}: '{}' has an unsupported scheme; use sim://NAME or "
                                           "https://HOST[:PORT]",
                                           ef->name(), clip_for_message(*s)));
          ok = false;
        }
        if (ok || s->starts_with("sim://") || s->starts_with("https://")) {
          if (auto it = endpoints.find(*s); it != endpoints.end()) {
            error(ef->value_pos, fmt::format("{}: endpoint '{}' is already used by another peer "
                                             "(line {})",
                                             ef->name(), clip_for_message(*s), it->second.line));
            ok = false;
          } else {
            endpoints[*s] = ef->value_pos;
          }
        }
        peer.endpoint = *s;
      } else {
        ok = false;
      }
    }
    if (const Field* sf = m.get("ssh")) {
      if (auto s = str(*sf)) {
        std::string host, why;
        if (m.has("endpoint") && !peer.endpoint.starts_with("https://")) {
          error(sf->value_pos,
                fmt::format("{}: an SSH endpoint applies to https:// peers only (a sim:// node "
                            "has no network interfaces); remove it",
                            sf->name()));
          ok = false;
        } else if (!split_host_port(*s, true, &host, &why)) {
          error(sf->value_pos, fmt::format("{}: '{}' must be HOST:PORT (the node's SSH "
                                           "endpoint, e.g. expe1.example.com:22): {}",
                                           sf->name(), clip_for_message(*s), why));
          ok = false;
        } else {
          peer.ssh_host = unbracket(host);
          peer.ssh_port = std::stoi(s->substr(s->rfind(':') + 1));
        }
      } else {
        ok = false;
      }
    }
    if (ok) spec_.peers.push_back(std::move(peer));
  }
}

void Decoder::decode_access(const Field& f) {
  Map m = map(f, kAccessKeys,
              {{"password",
                "spec.access.password: inline passwords are not allowed (specs live in git); use "
                "passwordFrom: env:VARIABLE or passwordFrom: file:PATH"}});
  if (!m.ok) return;
  require(m, "username");
  if (!f.value["password"]) require(m, "passwordFrom");  // the "inline password" error says it
  spec::Access a;
  if (auto u = str(m, "username")) {
    if (u->empty()) error(m.get("username")->value_pos, "spec.access.username: must not be empty");
    a.username = *u;
  }
  if (const Field* p = m.get("passwordFrom"))
    if (auto r = secret_ref(*p)) a.password_from = *r;
  if (const Field* c = m.get("caBundle")) a.ca_bundle = ca_bundle(*c);
  if (const Field* i = m.get("interfaces")) {
    std::vector<Field> items = seq(*i);
    if (i->value.IsSequence() && items.empty())
      error(i->value_pos,
            fmt::format("{}: name at least one of {} (omit the key to allow all three)", i->name(),
                        enum_spellings(spec::kInterfaceNames)));
    a.interfaces.clear();
    for (const Field& item : items) {
      auto v = enumeration<spec::Interface>(item);
      if (!v) continue;
      if (std::ranges::find(a.interfaces, *v) != a.interfaces.end()) {
        error(item.value_pos, fmt::format("{}: '{}' is listed twice", item.name(),
                                          enum_name(spec::kInterfaceNames, *v)));
        continue;
      }
      a.interfaces.push_back(*v);
    }
  }
  if (const Field* k = m.get("knownHosts")) {
    if (auto p = file_path(*k)) a.known_hosts = *p;
  } else {
    a.known_hosts = path_resolve(spec_.directory, ".edgecert/known_hosts");
  }
  spec_.access = std::move(a);
}

// Only the fields: what the named E spec says is checked against this one by
// the engine (site.h), which loads it.
void Decoder::decode_traversal(const Field& f) {
  Map m = map(f, kTraversalKeys);
  if (!m.ok) return;
  require(m, "expresswayE");
  require(m, "peerAddresses");
  if (have_product_ && spec_.product != spec::Product::kExpresswayC)
    error(f.key_pos,
          "spec.traversal: only an Expressway-C names the Expressway-E it traverses "
          "to (product: expressway-c); on the Expressway-E, remove it");
  spec::Traversal t;
  bool ok = true;
  if (const Field* e = m.get("expresswayE")) {
    if (auto p = file_path(*e))
      t.expressway_e = *p;
    else
      ok = false;
  }
  if (auto v = boolean(m, "tlsVerify")) t.tls_verify = *v;
  if (const Field* a = m.get("peerAddresses")) {
    // FQDNs; an IP address only without TLS verification, which compares
    // the address with the E's certificate (its names are FQDNs only).
    std::map<std::string, SourcePos> seen;
    for (const Field& item : seq(*a)) {
      auto text = str(item);
      if (!text) continue;
      std::string name = to_lower_ascii(*text);
      if (looks_like_ip_address(*text)) {
        if (t.tls_verify) {
          error(item.value_pos,
                fmt::format("{}: '{}' is an IP address: with TLS verify mode on, the zone checks "
                            "the address it dials against the Expressway-E's certificate, whose "
                            "names are FQDNs only (guide appendix A); dial the E peer's FQDN, or "
                            "set tlsVerify: false",
                            item.name(), clip_for_message(*text)));
          continue;
        }
      } else if (!fqdn(item)) {
        continue;
      }
      if (auto it = seen.find(name); it != seen.end()) {
        error(item.value_pos, fmt::format("{}: '{}' is listed twice (first at line {})",
                                          item.name(), clip_for_message(*text), it->second.line));
        continue;
      }
      seen[name] = item.value_pos;
      t.peer_addresses.push_back(name);
    }
    size_t count = seq(*a).size();
    if (a->value.IsSequence() && (count == 0 || count > kMaxPeers)) {
      error(a->value_pos, fmt::format("spec.traversal.peerAddresses: a traversal zone has 1 to {} "
                                      "peer addresses (one per Expressway-E peer), got {}",
                                      kMaxPeers, count));
      ok = false;
    }
  }
  if (ok && m.has("expresswayE") && m.has("peerAddresses")) spec_.traversal = std::move(t);
}

}  // namespace edgecert::schema::detail
