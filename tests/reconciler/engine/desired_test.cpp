// The desired certificate profile: every row of the Expressway role table
// (expressway.md §2) for both products, clustered and not.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "reconciler/engine/desired.h"

using namespace edgecert;
using spec::DomainFormat;
using spec::Product;
using spec::Role;

namespace {

constexpr const char* kCluster = "cluster.example.com";
constexpr const char* kEdge1 = "edge1.example.com";
constexpr const char* kUcm = "collab-edge.example.com";  // CollabEdgeDNS of example.com
constexpr const char* kXmpp = "xmpp.example.com";
constexpr const char* kChat = "chat.example.com";
constexpr const char* kPhone = "phone.example.com";
constexpr const char* kExtra = "extra.example.com";

// Every list filled, so a row's presence or absence is visible.
spec::Spec make_spec(Product product, std::vector<Role> roles, bool clustered) {
  spec::Spec s;
  s.product = product;
  s.peers.push_back({"edge1", kEdge1, "sim://edge1"});
  if (clustered) {
    s.peers.push_back({"edge2", "edge2.example.com", "sim://edge2"});
    s.cluster_fqdn = kCluster;
  }
  spec::ServerCertificate& sc = s.server_certificate;
  sc.roles = std::move(roles);
  sc.unified_cm_registration_domains =
      spec::UnifiedCmDomains{DomainFormat::kCollabEdgeDns, {"example.com"}};
  sc.xmpp_federation_domains = {kXmpp};
  sc.chat_node_aliases = {kChat};
  sc.phone_security_profiles = {kPhone};
  sc.additional_names = {kExtra};
  return s;
}

using Names = std::vector<std::string>;

struct Row {
  const char* what;
  Product product;
  Role role;
  bool clustered;
  Names sans;  // expected, in order
};

}  // namespace

TEST_CASE("desired: SAN set by role and product (role table)", "[desired]") {
  const Product E = Product::kExpresswayE;
  const Product C = Product::kExpresswayC;
  // Not clustered: CN = peer FQDN. Clustered: CN = cluster FQDN, then peer.
  // The cluster-name row (C; MRA/JG/XMPP) is the cluster FQDN, already
  // present as the CN on every clustered certificate.
  const std::vector<Row> rows = {
      // Unified CM registration domains: MRA, Expressway-E only.
      {"MRA E", E, Role::kMra, false, {kEdge1, kUcm, kExtra}},
      {"MRA E clustered", E, Role::kMra, true, {kCluster, kEdge1, kUcm, kExtra}},
      // Phone security profile names: MRA, Expressway-C only (+ cluster name).
      {"MRA C", C, Role::kMra, false, {kEdge1, kPhone, kExtra}},
      {"MRA C clustered", C, Role::kMra, true, {kCluster, kEdge1, kPhone, kExtra}},
      // Jabber Guest: only the cluster name (C, clustered).
      {"JG E", E, Role::kJabberGuest, false, {kEdge1, kExtra}},
      {"JG E clustered", E, Role::kJabberGuest, true, {kCluster, kEdge1, kExtra}},
      {"JG C", C, Role::kJabberGuest, false, {kEdge1, kExtra}},
      {"JG C clustered", C, Role::kJabberGuest, true, {kCluster, kEdge1, kExtra}},
      // XMPP federation domains: E only; chat node aliases: both C and E.
      {"XMPP E", E, Role::kXmppFederation, false, {kEdge1, kXmpp, kChat, kExtra}},
      {"XMPP E clustered",
       E,
       Role::kXmppFederation,
       true,
       {kCluster, kEdge1, kXmpp, kChat, kExtra}},
      {"XMPP C", C, Role::kXmppFederation, false, {kEdge1, kChat, kExtra}},
      {"XMPP C clustered", C, Role::kXmppFederation, true, {kCluster, kEdge1, kChat, kExtra}},
      // B2B: no role elements at all.
      {"B2B E", E, Role::kB2b, false, {kEdge1, kExtra}},
      {"B2B E clustered", E, Role::kB2b, true, {kCluster, kEdge1, kExtra}},
      {"B2B C", C, Role::kB2b, false, {kEdge1, kExtra}},
      {"B2B C clustered", C, Role::kB2b, true, {kCluster, kEdge1, kExtra}},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    spec::Spec s = make_spec(row.product, {row.role}, row.clustered);
    DesiredCertificate d = desired_certificate(s, s.peers.front());
    CHECK(d.common_name == (row.clustered ? kCluster : kEdge1));
    CHECK(d.subject_alt_names == row.sans);
    CHECK(d.subject_alt_names.front() == d.common_name);
    CHECK(d.clustered == row.clustered);
    CHECK(d.extended_key_usage == Names{"serverAuth", "clientAuth"});
  }
}

TEST_CASE("desired: all roles together keep table order", "[desired]") {
  spec::Spec e =
      make_spec(Product::kExpresswayE,
                {Role::kB2b, Role::kXmppFederation, Role::kJabberGuest, Role::kMra}, true);
  CHECK(desired_certificate(e, e.peers[0]).subject_alt_names ==
        Names{kCluster, kEdge1, kUcm, kXmpp, kChat, kExtra});
  spec::Spec c =
      make_spec(Product::kExpresswayC,
                {Role::kB2b, Role::kXmppFederation, Role::kJabberGuest, Role::kMra}, true);
  CHECK(desired_certificate(c, c.peers[1]).subject_alt_names ==
        Names{kCluster, "edge2.example.com", kChat, kPhone, kExtra});
  CHECK(desired_certificate(c, c.peers[1]).peer_name == "edge2");
}

TEST_CASE("desired: DNS format, no roles, dedup and lower-casing", "[desired]") {
  spec::Spec s = make_spec(Product::kExpresswayE, {Role::kMra}, false);
  s.server_certificate.unified_cm_registration_domains =
      spec::UnifiedCmDomains{DomainFormat::kDns, {"Example.com", "example.org"}};
  s.server_certificate.additional_names = {"EDGE1.Example.COM", "Extra.example.com",
                                           "extra.example.com", "example.ORG"};
  s.peers[0].fqdn = "Edge1.Example.com";
  DesiredCertificate d = desired_certificate(s, s.peers[0]);
  CHECK(d.common_name == kEdge1);
  CHECK(d.subject_alt_names == Names{kEdge1, "example.com", "example.org", kExtra});

  spec::Spec none = make_spec(Product::kExpresswayE, {}, false);
  none.server_certificate.additional_names.clear();
  CHECK(desired_certificate(none, none.peers[0]).subject_alt_names == Names{kEdge1});

  // A cluster FQDN on a single-peer spec is not used: not clustered.
  spec::Spec single = make_spec(Product::kExpresswayC, {Role::kJabberGuest}, false);
  single.cluster_fqdn = kCluster;
  CHECK(desired_certificate(single, single.peers[0]).subject_alt_names == Names{kEdge1, kExtra});
}

TEST_CASE("desired: key, digest, subject and role context come from the spec", "[desired]") {
  spec::Spec s = make_spec(Product::kExpresswayC, {Role::kMra, Role::kB2b}, true);
  s.server_certificate.key = {spec::KeyAlgorithm::kEcdsa, 384};
  s.server_certificate.digest = spec::Digest::kSha512;
  s.server_certificate.subject = {"GB", "England", "London", "Example Ltd", "UC", ""};
  DesiredCertificate d = desired_certificate(s, s.peers[0]);
  CHECK(d.key.algorithm == spec::KeyAlgorithm::kEcdsa);
  CHECK(d.key.size == 384);
  CHECK(d.digest == spec::Digest::kSha512);
  CHECK(d.subject.organization == "Example Ltd");
  CHECK(d.peer_fqdn == kEdge1);

  pki::RoleContext rc = role_context(d);
  CHECK(rc.roles == std::vector<std::string>{"mra", "b2b"});
  CHECK(rc.clustered);

  pki::CsrOptions o = csr_options(d);
  CHECK(o.common_name == kCluster);
  CHECK(o.dns_names == d.subject_alt_names);
  CHECK(o.digest == spec::Digest::kSha512);
  CHECK(o.subject.organizational_unit == "UC");
  CHECK(o.extended_key_usage == Names{"serverAuth", "clientAuth"});
}
