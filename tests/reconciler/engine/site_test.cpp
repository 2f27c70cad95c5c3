// site.h: an Expressway-C and the Expressway-E its traversal zone connects to,
// checked as one site from their specs and from what their nodes serve.
#include <catch2/catch.hpp>

#include <set>

#include <fmt/core.h>

#include "providers/issuers/openssl_ca.h"
#include "reconciler/engine/site.h"
#include "tests/providers/pki/pki_fixtures.h"
#include "tests/schema/spec_text.h"

using namespace edgecert;
using edgecert::pki::testing::TestPki;
using edgecert::test::contains;

namespace {

// The E of the site: two peers, XMPP federation with one chat node alias,
// its own openssl-ca, trusting the C's CA.
std::string edge_yaml(const std::string& extra_certificate = "",
                      const std::string& trusted = "[core-ca/cacert.pem]") {
  return fmt::format(R"(apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: dmz
spec:
  product: expressway-e
  clusterFqdn: expe.example.com
  peers:
    - {{name: expe1, fqdn: expe1.example.com, endpoint: sim://expe1}}
    - {{name: expe2, fqdn: expe2.example.com, endpoint: sim://expe2}}
  serverCertificate:
    roles: [mra, xmpp-federation]
    unifiedCmRegistrationDomains: {{format: collab-edge-dns, domains: [example.com]}}
    xmppFederationDomains: [example.com]
    chatNodeAliases: [chat1.example.com]
    issuer: {{type: openssl-ca, directory: edge-ca}}
{}  trustedCAs:
    certificates: {}
)",
                     extra_certificate, trusted);
}

// The C: line 13 is spec.traversal's peerAddresses, line 15 trustedCAs'
// certificates (positions the tests check).
std::string core_yaml(const std::string& addresses = "[expe1.example.com, expe2.example.com]",
                      const std::string& aliases = "[chat1.example.com]",
                      const std::string& trusted = "[edge-ca/cacert.pem]",
                      const std::string& traversal_extra = "") {
  return fmt::format(R"(apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: core
spec:
  product: expressway-c
  peers:
    - {{name: core1, fqdn: core1.example.com, endpoint: sim://core1}}
  serverCertificate:
    roles: [xmpp-federation]
    chatNodeAliases: {}
    issuer: {{type: openssl-ca, directory: core-ca}}
  traversal:
    peerAddresses: {}
    expresswayE: edge.yaml{}
  trustedCAs:
    certificates: {}
)",
                     aliases, addresses, traversal_extra, trusted);
}

struct Site {
  MemoryEnv env;
  Site() {
    for (const auto& [dir, cn] :
         {std::pair{"site/edge-ca", "Edge CA"}, {"site/core-ca", "Core CA"}}) {
      issuer::CaInitOptions ca;
      ca.common_name = cn;
      ca.algorithm = spec::KeyAlgorithm::kEcdsa;
      ca.key_size = 256;
      REQUIRE(issuer::init_openssl_ca(env, dir, ca));
    }
    env.put("site/other-ca.pem", TestPki().root.to_pem());
    env.put("site/edge.yaml", edge_yaml());
    env.put("site/core.yaml", core_yaml());
  }
  spec::Spec core() {
    schema::LoadResult r = schema::load_spec_file("site/core.yaml", env);
    INFO(test::diagnostics_text(r));
    REQUIRE(r.ok());
    return *r.spec;
  }
  std::string check() {
    SiteSpecCheck r = check_site_specs(core(), env, {});
    return test::diagnostics_text(r.diagnostics);
  }
};

}  // namespace

TEST_CASE("site specs: a C and an E that agree have nothing to say", "[site]") {
  Site s;
  SiteSpecCheck r = check_site_specs(s.core(), s.env, {});
  CHECK(test::diagnostics_text(r.diagnostics).empty());
  REQUIRE(r.expressway_e);
  CHECK(r.expressway_e->name == "dmz");
  // The cluster FQDN and additional names are the E's names too.
  s.env.put("site/core.yaml", core_yaml("[expe.example.com]"));
  CHECK(s.check().empty());
}

TEST_CASE("site specs: a spec without traversal is not a site", "[site]") {
  Site s;
  s.env.put("site/core.yaml", test::kMinimalSpec);
  schema::LoadResult r = schema::load_spec_file("site/core.yaml", s.env, {false, ""});
  REQUIRE(r.ok());
  CHECK(check_site_specs(*r.spec, s.env, {}).diagnostics.empty());
}

TEST_CASE("site specs: a peer address that is not a name of the E's certificates", "[site]") {
  Site s;
  s.env.put("site/core.yaml", core_yaml("[expe1.example.com, dmz.example.net]"));
  std::string text = s.check();
  CHECK(contains(text,
                 "site/core.yaml:14:40: error: spec.traversal.peerAddresses[1]: "
                 "'dmz.example.net' is not a name of the Expressway-E's certificates "
                 "(site/edge.yaml: "));
  CHECK(contains(text, "expe1.example.com"));
  CHECK(contains(text, "guide appendix A"));
  CHECK(contains(text, "site/edge.yaml:11:3 (spec.serverCertificate)"));
  SECTION("TLS verify mode off: the zone does not compare names") {
    s.env.put("site/core.yaml",
              core_yaml("[expe1.example.com, dmz.example.net]", "[chat1.example.com]",
                        "[edge-ca/cacert.pem]", "\n    tlsVerify: false"));
    CHECK(s.check().empty());
  }
  SECTION("the E adds the name") {
    s.env.put("site/edge.yaml", edge_yaml("    additionalNames: [dmz.example.net]\n"));
    CHECK(s.check().empty());
  }
}

TEST_CASE("site specs: chat node aliases differ", "[site]") {
  Site s;
  s.env.put("site/core.yaml",
            core_yaml("[expe1.example.com]", "[chat1.example.com, chat2.example.com]"));
  std::string text = s.check();
  CHECK(contains(text,
                 "site/core.yaml:11:5: error: chat node aliases differ across the site: "
                 "this Expressway-C's certificates carry chat1.example.com, "
                 "chat2.example.com, the Expressway-E's carry chat1.example.com "
                 "(site/edge.yaml:15:5 (spec.serverCertificate.chatNodeAliases))"));
  SECTION("case does not matter") {
    s.env.put("site/core.yaml", core_yaml("[expe1.example.com]", "[CHAT1.example.com]"));
    CHECK(s.check().empty());
  }
}

TEST_CASE("site specs: each side trusts the CA that issues the other's certificates", "[site]") {
  Site s;
  SECTION("the C does not") {
    s.env.put("site/core.yaml",
              core_yaml("[expe1.example.com]", "[chat1.example.com]", "[other-ca.pem]"));
    std::string text = s.check();
    CHECK(contains(text,
                   "site/core.yaml:17:5: error: this Expressway-C does not trust the CA "
                   "that issues the Expressway-E's certificates ('Edge CA', the openssl-ca "
                   "issuer at site/edge.yaml:"));
    CHECK(contains(text, "add its certificate to spec.trustedCAs.certificates"));
  }
  SECTION("the E does not") {
    s.env.put("site/edge.yaml", edge_yaml("", "[other-ca.pem]"));
    std::string text = s.check();
    CHECK(contains(text,
                   "site/core.yaml:15:5: error: the Expressway-E does not trust the CA "
                   "that issues this Expressway-C's certificates ('Core CA')"));
    CHECK(contains(text, "site/edge.yaml:17:3 (spec.trustedCAs)"));
  }
  SECTION("a CA folder not set up yet cannot be checked from the specs") {
    REQUIRE(s.env.remove_file("site/edge-ca/cacert.pem"));
    s.env.put("site/core.yaml",
              core_yaml("[expe1.example.com]", "[chat1.example.com]", "[other-ca.pem]"));
    CHECK(s.check().empty());
  }
}

TEST_CASE("site specs: the E spec itself", "[site]") {
  Site s;
  SECTION("missing") {
    REQUIRE(s.env.remove_file("site/edge.yaml"));
    CHECK(contains(s.check(),
                   "site/core.yaml:15:5: error: spec.traversal.expresswayE: the "
                   "Expressway-E spec 'site/edge.yaml' does not load, so the site "
                   "cannot be checked (1 error, the first: site/edge.yaml:0:0: "));
  }
  SECTION("not valid: its first error is shown") {
    s.env.put("site/edge.yaml", edge_yaml("    colour: blue\n"));
    CHECK(contains(s.check(), "the first: site/edge.yaml:17:5: error: unknown key 'colour'"));
  }
  SECTION("an Expressway-C") {
    std::string c = edge_yaml();
    c.replace(c.find("product: expressway-e"), 21, "product: expressway-c");
    // A C has no UCM registration domains: drop MRA's E-only names.
    c.replace(c.find("    unifiedCmRegistrationDomains"),
              c.find("    xmppFederationDomains") - c.find("    unifiedCmRegistrationDomains"), "");
    c.replace(c.find("    xmppFederationDomains"),
              c.find("    chatNodeAliases") - c.find("    xmppFederationDomains"), "");
    c.replace(c.find("[mra, xmpp-federation]"), 22, "[xmpp-federation]");
    s.env.put("site/edge.yaml", c);
    CHECK(contains(s.check(),
                   "error: spec.traversal.expresswayE: 'site/edge.yaml' describes an "
                   "expressway-c (cluster 'dmz', site/edge.yaml:6:3 (spec.product)); "
                   "a traversal zone connects to an Expressway-E"));
  }
  SECTION("this spec") {
    std::string c = core_yaml();
    c.replace(c.find("expresswayE: edge.yaml"), 22, "expresswayE: ./core.yaml");
    s.env.put("site/core.yaml", c);
    CHECK(contains(s.check(), "error: spec.traversal.expresswayE: names this spec itself"));
  }
}

TEST_CASE("site specs: traversal is an Expressway-C's, with one to six FQDNs", "[site]") {
  Site s;
  auto load = [&](const std::string& text) {
    s.env.put("site/x.yaml", text);
    return test::diagnostics_text(schema::load_spec_file("site/x.yaml", s.env, {}));
  };
  std::string e =
      edge_yaml() + "  traversal: {expresswayE: core.yaml, peerAddresses: [a.example.com]}\n";
  CHECK(contains(load(e),
                 "site/x.yaml:19:3: error: spec.traversal: only an Expressway-C names "
                 "the Expressway-E it traverses to"));
  CHECK(contains(load(core_yaml("[]")),
                 "spec.traversal.peerAddresses: a traversal zone has 1 "
                 "to 6 peer addresses (one per Expressway-E peer), got 0"));
  CHECK(contains(load(core_yaml("[192.0.2.1]")),
                 "site/x.yaml:14:21: error: spec.traversal.peerAddresses[0]: '192.0.2.1' is an IP "
                 "address: with TLS verify mode on, the zone checks the address it dials against "
                 "the Expressway-E's certificate"));
  // Without TLS verification nothing compares the address with a name.
  CHECK(load(core_yaml("[192.0.2.1, '2001:db8::1']", "[chat1.example.com]", "[edge-ca/cacert.pem]",
                       "\n    tlsVerify: false"))
            .empty());
  CHECK(contains(load(core_yaml("[a.example.com, A.example.com]")), "is listed twice"));
  std::string no_e = core_yaml();
  no_e.replace(no_e.find("    expresswayE: edge.yaml\n"), 27, "");
  CHECK(contains(load(no_e), "missing required key 'expresswayE'"));
}

// ---- live ---------------------------------------------------------------

namespace {

using pki::Certificate;

struct LiveSite {
  TestPki ca;  // root -> intermediate -> leaves: the E's ACME CA
  TestPki core_ca;
  MemoryEnv env;
  spec::Spec c, e;
  ClusterLive c_live, e_live;

  LiveSite() {
    e.name = "dmz";
    e.path = "edge.yaml";
    e.product = spec::Product::kExpresswayE;
    e.server_certificate.issuer = spec::ExpresswayAcmeIssuer{};
    for (const char* p : {"expe1", "expe2"})
      e.peers.push_back({p, std::string(p) + ".example.com", "sim://x"});
    c.name = "core";
    c.path = "core.yaml";
    c.product = spec::Product::kExpresswayC;
    c.peers.push_back({"core1", "core1.example.com", "sim://core1"});
    c.traversal = spec::Traversal{"edge.yaml", {"expe1.example.com", "expe2.example.com"}, true};
    for (const char* p : {"expe1", "expe2"})
      e_live.nodes.push_back(
          node(p, {serve(ca, std::string(p) + ".example.com"), ca.inter}, {core_ca.root}));
    c_live.nodes.push_back(
        node("core1", {serve(core_ca, "core1.example.com"), core_ca.inter}, {ca.root, ca.inter}));
  }
  static Certificate serve(TestPki& pki, const std::string& name) {
    return pki.issue(pki.leaf_key, {name, "expe.example.com"}, "10");
  }
  static NodeLive node(const std::string& peer, std::vector<Certificate> chain,
                       std::vector<Certificate> trusted) {
    NodeLive n;
    n.peer = peer;
    n.state.emplace();
    n.state->server_chain = std::move(chain);
    n.state->trusted_cas = std::move(trusted);
    return n;
  }
  // What each cluster's plan changes (empty: nothing reissued).
  std::vector<Certificate> c_issuer, e_issuer;
  std::set<std::string> c_reissued, e_reissued;
  std::vector<std::string> check() {
    return check_site_live(env, SiteSide{c, c_live, c_issuer, c_reissued},
                           SiteSide{e, e_live, e_issuer, e_reissued});
  }
  std::string text() {
    std::string s;
    for (const std::string& line : check()) s += line + "\n";
    return s;
  }
};

}  // namespace

TEST_CASE("site live: both sides trust each other's chains", "[site]") {
  LiveSite s;
  CHECK(s.check().empty());
}

TEST_CASE("site live: an E on ACME needs its root and intermediate trusted on the C", "[site]") {
  LiveSite s;
  SECTION("the intermediate only: the root is missing") {
    s.c_live.nodes[0].state->trusted_cas = {s.ca.inter};
    std::string t = s.text();
    CHECK(contains(t,
                   "site: Expressway-C node core1 of cluster 'core' does not hold the root of "
                   "the ACME chain Expressway-E node expe1 serves (issued by 'Test Issuing "
                   "CA')"));
    CHECK(contains(t, "guide ch.4"));
    CHECK(s.check().size() == 2);  // expe1 and expe2
  }
  SECTION("the root only: the intermediate is missing") {
    s.c_live.nodes[0].state->trusted_cas = {s.ca.root};
    CHECK(contains(s.text(),
                   "site: Expressway-C node core1 of cluster 'core' does not hold the "
                   "ACME CA's intermediate ('Test Issuing CA') that Expressway-E node "
                   "expe1 serves"));
  }
  SECTION("not on ACME: a trusted intermediate is enough") {
    s.e.server_certificate.issuer = spec::OpensslCaIssuer{"ca"};
    s.c_live.nodes[0].state->trusted_cas = {s.ca.inter};
    CHECK(s.check().empty());
  }
  SECTION("neither: the C refuses the E") {
    s.c_live.nodes[0].state->trusted_cas = {};
    CHECK(contains(s.text(),
                   "site: Expressway-C node core1 of cluster 'core' will not trust the "
                   "certificate Expressway-E node expe1 of cluster 'dmz' serves (issued "
                   "by 'Test Issuing CA'; X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY): "
                   "traversal zones use mutual TLS; add the issuing CA to core.yaml "
                   "(add spec.trustedCAs)"));
  }
}

TEST_CASE("site live: the trust store after the plan counts, not the one now", "[site]") {
  LiveSite s;
  s.c_live.nodes[0].state->trusted_cas = {};
  s.env.put("acme-root.pem", s.ca.root.to_pem() + s.ca.inter.to_pem());
  s.c.trusted_cas = spec::TrustedCAs{{"acme-root.pem"}, false};
  CHECK(s.check().empty());
  SECTION("pruning drops what the node holds and the spec does not list") {
    s.c.trusted_cas = spec::TrustedCAs{{"acme-root.pem"}, true};
    s.env.put("acme-root.pem", s.ca.root.to_pem());
    s.c_live.nodes[0].state->trusted_cas = {s.ca.inter};
    CHECK(contains(s.text(), "does not hold the ACME CA's intermediate"));
    s.c.trusted_cas->prune = false;
    CHECK(s.check().empty());
  }
}

TEST_CASE("site live: the E must trust the C's chain too", "[site]") {
  LiveSite s;
  s.e_live.nodes[1].state->trusted_cas = {};
  CHECK(s.text() ==
        "site: Expressway-E node expe2 of cluster 'dmz' will not trust the certificate "
        "Expressway-C node core1 of cluster 'core' serves (issued by 'Test Issuing CA'; "
        "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY): traversal zones use mutual TLS; add the "
        "issuing CA to edge.yaml (add spec.trustedCAs)\n");
}

TEST_CASE("site live: the addresses the C dials against the names the E serves", "[site]") {
  LiveSite s;
  SECTION("an E peer's FQDN is checked on that peer only") {
    s.e_live.nodes[1].state->server_chain[0] = LiveSite::serve(s.ca, "expe9.example.com");
    CHECK(s.text() ==
          "site: the traversal peer address 'expe2.example.com' (core.yaml:0:0 "
          "(spec.traversal.peerAddresses.1)) is not a name of the certificate Expressway-E node "
          "expe2 serves now (expe2 serves expe9.example.com, expe.example.com), and the plan of "
          "cluster 'dmz' does not replace it: with TLS verify mode on, this Expressway-C's zone "
          "refuses it until that certificate names it (guide appendix A)\n");
    // The E's plan reissues it: its spec's names are what counts (checked
    // from the specs).
    s.e_reissued = {"expe2"};
    CHECK(s.check().empty());
  }
  SECTION("another name is checked on every E peer") {
    s.c.traversal->peer_addresses = {"dmz.example.com"};
    CHECK(contains(s.text(),
                   "is not a name of the certificate every Expressway-E node serves "
                   "now (expe1 serves expe1.example.com, expe.example.com; expe2 "
                   "serves expe2.example.com, expe.example.com)"));
    s.c.traversal->peer_addresses = {"expe.example.com"};
    CHECK(s.check().empty());
  }
  SECTION("TLS verify mode off") {
    s.c.traversal->peer_addresses = {"dmz.example.com"};
    s.c.traversal->tls_verify = false;
    CHECK(s.check().empty());
  }
}

TEST_CASE("site live: an E node that cannot be read is named, the rest checked", "[site]") {
  LiveSite s;
  s.e_live.nodes[0].state.reset();
  s.e_live.nodes[0].error = Error{ErrorCode::kUnavailable, "expe1: connection refused"};
  s.c_live.nodes[0].state->trusted_cas = {};
  std::string t = s.text();
  CHECK(contains(t,
                 "site: Expressway-E node expe1 of cluster 'dmz' could not be read (expe1: "
                 "connection refused): its certificate and trust store were not checked"));
  CHECK(contains(t, "Expressway-E node expe2 of cluster 'dmz' serves"));
  CHECK_FALSE(contains(t, "Expressway-E node expe1 of cluster 'dmz' serves"));
}

TEST_CASE("site live: a node its plan reissues is judged by its issuer's CA", "[site]") {
  LiveSite s;
  TestPki edge_ca;
  s.e.server_certificate.issuer = spec::OpensslCaIssuer{"edge-ca"};
  s.e_issuer = {edge_ca.inter, edge_ca.root};
  s.e_reissued = {"expe1"};
  SECTION("the C does not trust it: named, with the E's new issuer") {
    std::string t = s.text();
    CHECK(contains(t,
                   "site: Expressway-C node core1 of cluster 'core' will not trust the "
                   "certificate Expressway-E node expe1 of cluster 'dmz' serves after its "
                   "plan (issued by 'Test Issuing CA'): traversal zones use mutual TLS; add "
                   "that CA to core.yaml (add spec.trustedCAs)"));
    CHECK(s.check().size() == 1);  // expe2 keeps the chain the C trusts
  }
  SECTION("the C's plan adds it") {
    s.c_issuer = {edge_ca.root};  // the C's own issuer chain is installed by its plan
    CHECK(s.check().empty());
  }
  SECTION("the C's own reissued certificate against the E's trust") {
    s.c_live.nodes[0].state->trusted_cas.push_back(edge_ca.root);
    s.c_reissued = {"core1"};
    s.c_issuer = {TestPki().root};
    CHECK(contains(s.text(),
                   "site: Expressway-E nodes expe1, expe2 of cluster 'dmz' will not "
                   "trust the certificate Expressway-C node core1 of cluster 'core' "
                   "serves after its plan"));
  }
}

TEST_CASE("site live: a factory certificate", "[site]") {
  LiveSite s;
  // The simulator's factory state: a "TEMPORARY CA ..." root and its leaf.
  TestPki factory;
  pki::CaOptions o = TestPki::ca_options("TEMPORARY CA 1b2c", "05", 365);
  auto root = pki::testing::must(pki::create_self_signed_ca(factory.root_key, o));
  pki::CsrOptions csr;
  csr.common_name = "expe1.example.com";
  csr.dns_names = {"expe1.example.com"};
  auto req = pki::testing::must(pki::CertificateRequest::create(factory.leaf_key, csr));
  auto leaf =
      pki::testing::must(pki::sign_csr(req, root, factory.root_key, TestPki::default_issue()));
  s.e_live.nodes[0].state->server_chain = {leaf};
  SECTION("replaced through ACME: not checkable before the apply") {
    s.e_reissued = {"expe1"};
    CHECK(s.text() ==
          "site: Expressway-E node expe1 of cluster 'dmz' still serves its factory temporary "
          "certificate and its plan replaces it through expressway-acme, whose CA is known only "
          "once it signs: the site's trust in it is checked by the next plan after that apply\n");
  }
  SECTION("not replaced: apply the E") {
    CHECK(contains(s.text(),
                   "site: Expressway-E node expe1 of cluster 'dmz' serves its factory "
                   "temporary certificate, which no traversal peer should trust"));
  }
}
