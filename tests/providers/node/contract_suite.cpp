// The provider contract suite; compiled once (tests/CMakeLists.txt lists it),
// instantiated by each provider's tests through contract_suite.h.
#include "tests/providers/node/contract_suite.h"

#include <algorithm>
#include <functional>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/pki/checks.h"
#include "providers/pki/crl.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "providers/pki/spki.h"
#include "tests/support/result_checks.h"
#include "tests/support/test_support.h"

namespace edgecert::testing {
namespace {

using node::NodeProvider;

int next_serial() {
  static int serial = 0x100;
  return ++serial;
}

// A test CA (EC P-256 for speed) that signs node CSRs and locally keyed certs.
struct TestCa {
  pki::PrivateKey key;
  pki::Certificate cert;

  static TestCa make(const std::string& cn, TimePoint now) {
    auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
    REQUIRE(key);
    pki::CaOptions o;
    o.common_name = cn;
    o.not_before = now - std::chrono::hours(24);
    o.not_after = now + std::chrono::days(3650);
    o.serial_hex = fmt::format("{:X}", next_serial());
    auto cert = pki::create_self_signed_ca(*key, o);
    REQUIRE(cert);
    return TestCa{std::move(*key), std::move(*cert)};
  }

  std::string pem() const { return cert.to_pem(); }

  std::string sign(const std::string& csr_pem, TimePoint now,
                   std::chrono::hours validity = std::chrono::hours(24 * 365)) const {
    auto csr = pki::CertificateRequest::parse(csr_pem, "csr");
    REQUIRE(csr);
    pki::IssueOptions o;
    o.not_before = now - std::chrono::hours(1);
    o.not_after = now + validity;
    o.serial_hex = fmt::format("{:X}", next_serial());
    auto c = pki::sign_csr(*csr, cert, key, o);
    REQUIRE(c);
    return c->to_pem();
  }
};

// A certificate issued by `ca` for a key generated here (manual key upload).
struct KeyedCert {
  std::string cert_pem;
  std::string key_pem;
};

KeyedCert issue_with_key(const TestCa& ca, const std::string& cn,
                         const std::vector<std::string>& sans, TimePoint now) {
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  pki::CsrOptions o;
  o.common_name = cn;
  o.dns_names = sans;
  auto csr = pki::CertificateRequest::create(*key, o);
  REQUIRE(csr);
  auto pem = key->to_pem();
  REQUIRE(pem);
  return KeyedCert{ca.sign(csr->to_pem(), now), std::string(pem->view())};
}

node::CsrRequest csr_request(const spec::Peer& peer) {
  node::CsrRequest r;
  r.common_name = peer.fqdn;
  r.dns_names = {"edge.example.com"};
  r.key_algorithm = spec::KeyAlgorithm::kEcdsa;
  r.key_size = 256;
  r.subject.organization = "Example";
  return r;
}

struct Fixture {
  std::unique_ptr<ContractTarget> target;
  const spec::Peer* peer = nullptr;
  std::unique_ptr<NodeProvider> node;
  std::vector<node::ManualOperation> manual_ops;

  explicit Fixture(const ContractTargetFactory& make) : target(make()) {
    peer = &target->spec().peers.at(0);
    auto admin = target->admin(*peer);
    require_ok(admin.ensure_booted(), "boot");
    require_ok(admin.set_restart_seconds(target->restart_seconds()), "restart seconds");
    auto n = target->open(*peer);
    require_ok(n, "open");
    node = std::move(*n);
    manual_ops = state().manual_operations;
  }
  bool real() const { return target->real_expressway(); }
  bool is_manual(node::ManualOperation op) const {
    return std::find(manual_ops.begin(), manual_ops.end(), op) != manual_ops.end();
  }
  // Does `op`: through the provider when the node does it itself; else the
  // provider must answer kUnimplemented naming the operation, and the
  // operator does `step` (the outcome of the step is returned).
  Status manual(node::ManualOperation op, const std::function<Status()>& call,
                const std::function<Status(sim::SimNode&)>& step) {
    if (!is_manual(op)) return call();
    auto r = call();
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().code == ErrorCode::kUnimplemented);
    CHECK(r.error().message.find(node::manual_operation_name(op)) != std::string::npos);
    CHECK(r.error().message.rfind(peer->name + ": ", 0) == 0);
    return target->play_operator(*peer, step);
  }
  Status discard_csr() {
    return manual(
        node::ManualOperation::kDiscardCsr, [&] { return node->discard_csr(); },
        [](sim::SimNode& n) { return n.discard_csr(); });
  }
  Status delete_ca(const std::string& fp) {
    return manual(
        node::ManualOperation::kDeleteTrustedCa, [&] { return node->delete_trusted_ca(fp); },
        [&](sim::SimNode& n) { return n.delete_trusted_ca(fp); });
  }
  Status set_tls(spec::TlsVerification mode) {
    return manual(
        node::ManualOperation::kSetTlsVerification,
        [&] { return node->set_tls_verification(mode); },
        [&](sim::SimNode& n) { return n.set_tls_verification(mode); });
  }
  // What the node holds, where the provider cannot read it back: the
  // simulator core's view.
  node::NodeState truth() {
    auto s = admin().read_state();
    require_ok(s, "simulator state");
    return std::move(*s);
  }
  Env& env() { return target->env(); }
  TimePoint now() { return env().now(); }
  sim::SimNode admin() { return target->admin(*peer); }
  std::chrono::seconds restart_wait() const {
    return std::chrono::seconds(target->restart_seconds() * 10 + 5);
  }

  node::NodeState state() {
    auto s = node->read_state();
    require_ok(s, "read state");
    return std::move(*s);
  }
  std::string serving_fp() {
    auto chain = node->served_chain();
    require_ok(chain, "served chain");
    REQUIRE_FALSE(chain->empty());
    return chain->front().sha256_fingerprint();
  }
  void trust(const TestCa& ca) { require_ok(node->append_trusted_cas(ca.pem()), "append CA"); }
  // CSR on the node, signed by `ca`, uploaded without key; returns the leaf fingerprint.
  std::string stage_via_csr(const TestCa& ca) {
    auto csr = node->generate_csr(csr_request(*peer));
    require_ok(csr, "generate CSR");
    std::string cert = ca.sign(*csr, now());
    node::CertificateUpload up;
    up.chain_pem = cert + ca.pem();
    auto r = node->upload_server_certificate(up);
    require_ok(r, "upload");
    return r->staged_sha256;
  }
  void restart_and_wait() {
    require_ok(node->restart(), "restart");
    require_ok(node->wait_until_up(restart_wait()), "wait until up");
  }
};

std::string first_fp(const std::vector<pki::Certificate>& chain) {
  REQUIRE_FALSE(chain.empty());
  return chain.front().sha256_fingerprint();
}

}  // namespace

void contract_fresh_node(const ContractTargetFactory& make) {
  Fixture f(make);
  node::NodeState s = f.state();

  SECTION("boots like a fresh install") {
    CHECK(s.software_version == "X14.3.1");
    REQUIRE(s.server_chain.size() == 1);
    const pki::Certificate& leaf = s.server_chain.front();
    CHECK(leaf.subject_cn() == f.peer->fqdn);
    auto sans = leaf.subject_alt_names().dns;
    CHECK(std::find(sans.begin(), sans.end(), f.peer->fqdn) != sans.end());
    CHECK(leaf.issuer_cn().rfind("TEMPORARY CA ", 0) == 0);
    CHECK(leaf.key_info().algorithm == "EC");
    REQUIRE(s.trusted_cas.size() == 1);
    CHECK(s.trusted_cas.front().subject_cn() == leaf.issuer_cn());
    CHECK(leaf.is_signed_by(s.trusted_cas.front()));
    CHECK(s.tls_verification == spec::TlsVerification::kEnforce);
    CHECK_FALSE(s.crl.automatic_updates);
    CHECK_FALSE(s.manual_crl_sha256.has_value());
    CHECK_FALSE(s.revocation.enabled);
    CHECK(s.acme.mode == spec::AcmeMode::kDisabled);
    CHECK(s.acme_status.status == "Disabled");
    CHECK_FALSE(s.pending_csr.has_value());
    CHECK(s.staged_chain.empty());
    CHECK_FALSE(s.restart_required);
    CHECK(s.alarms.empty());
  }
  SECTION("the state is stable across reads and providers, and served_chain is the active chain") {
    auto again = f.target->open(*f.peer);
    require_ok(again, "second open");
    auto s2 = (*again)->read_state();
    require_ok(s2, "read");
    CHECK(first_fp(s2->server_chain) == first_fp(s.server_chain));
    CHECK(f.serving_fp() == first_fp(s.server_chain));
  }
  SECTION("peers are separate nodes") {
    const spec::Peer& p2 = f.target->spec().peers.at(1);
    auto n2 = f.target->open(p2);
    require_ok(n2, "open edge2");
    auto s2 = (*n2)->read_state();
    require_ok(s2, "read edge2");
    CHECK(s2->server_chain.front().subject_cn() == p2.fqdn);
    CHECK(s2->trusted_cas.front().sha256_fingerprint() !=
          s.trusted_cas.front().sha256_fingerprint());
  }
  SECTION("expiry alarms: 40069 within 30 days, 40068 once expired") {
    if (!f.target->can_jump_clock()) return;
    f.env().sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(
        s.server_chain.front().not_after() - f.now() - std::chrono::days(10)));
    auto soon = f.state();
    REQUIRE(soon.alarms.size() == 1);
    CHECK(soon.alarms[0].id == "40069");
    CHECK(soon.alarms[0].text.find("expires in") != std::string::npos);
    f.env().sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::days(11)));
    auto expired = f.state();
    REQUIRE(expired.alarms.size() == 1);
    CHECK(expired.alarms[0].id == "40068");
  }
}

void contract_csr(const ContractTargetFactory& make) {
  Fixture f(make);
  std::string before = f.serving_fp();

  SECTION("generate: key on the node, CN first in the SANs, active certificate untouched") {
    auto csr = f.node->generate_csr(csr_request(*f.peer));
    require_ok(csr, "generate");
    auto parsed = pki::CertificateRequest::parse(*csr, "csr");
    REQUIRE(parsed);
    CHECK(parsed->subject_cn() == f.peer->fqdn);
    auto dns = parsed->subject_alt_names().dns;
    REQUIRE(dns.size() == 2);
    CHECK(dns[0] == f.peer->fqdn);
    CHECK(dns[1] == "edge.example.com");
    CHECK(parsed->signature_valid());
    CHECK(csr->find("PRIVATE KEY") == std::string::npos);
    auto s = f.state();
    REQUIRE(s.pending_csr.has_value());
    CHECK(s.pending_csr->common_name == f.peer->fqdn);
    CHECK(s.pending_csr->dns_names == dns);
    CHECK(s.pending_csr->key.algorithm == "EC");
    CHECK(s.pending_csr->digest == "sha256");
    CHECK(s.pending_csr->pem == parsed->to_pem());
    CHECK(first_fp(s.server_chain) == before);
    CHECK(f.serving_fp() == before);
    CHECK_FALSE(s.restart_required);
  }
  SECTION("one CSR at a time: a second generate is refused like the appliance's Conflict") {
    require_ok(f.node->generate_csr(csr_request(*f.peer)), "first");
    auto second = f.node->generate_csr(csr_request(*f.peer));
    // A real node's 409 says only "Conflict".
    require_error(second, ErrorCode::kAlreadyExists,
                  f.real() ? "409 Conflict" : "a CSR is already in progress");
    CHECK(second.error().message.rfind(f.peer->name + ": ", 0) == 0);
    CHECK(second.error().action == "generate CSR");
  }
  SECTION("discard drops the CSR; discarding nothing is kNotFound; a new CSR has a new key") {
    auto first = f.node->generate_csr(csr_request(*f.peer));
    require_ok(first, "first");
    require_ok(f.discard_csr(), "discard");
    CHECK_FALSE(f.state().pending_csr.has_value());
    require_error(f.discard_csr(), ErrorCode::kNotFound, "no CSR");
    auto second = f.node->generate_csr(csr_request(*f.peer));
    require_ok(second, "second");
    auto a = pki::CertificateRequest::parse(*first, "a");
    auto b = pki::CertificateRequest::parse(*second, "b");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->to_pem() != b->to_pem());
  }
  SECTION("the pending CSR reports the subject fields, e-mail included, and its SPKI") {
    node::CsrRequest r = csr_request(*f.peer);
    r.subject = {"JP", "Tokyo", "Chiyoda", "Example KK", "UC", "pki@example.com"};
    auto csr = f.node->generate_csr(r);
    require_ok(csr, "generate");
    auto parsed = pki::CertificateRequest::parse(*csr, "csr");
    REQUIRE(parsed);
    auto s = f.state();
    REQUIRE(s.pending_csr.has_value());
    CHECK(s.pending_csr->subject == r.subject);
    CHECK(pki::subject_fields_of(parsed->subject_attributes()) == r.subject);
    CHECK(s.pending_csr->spki_sha256 == pki::spki_sha256(*parsed));
    // A new key unless asked otherwise.
    CHECK(s.pending_csr->spki_sha256 != pki::spki_sha256(s.server_chain.front()));
  }
  SECTION("re-use current private key: the CSR carries the active certificate's key") {
    node::CsrRequest r = csr_request(*f.peer);
    r.reuse_current_key = true;
    if (f.real()) {
      // No REST field for it on a real node.
      require_error(f.node->generate_csr(r), ErrorCode::kUnimplemented, "current private key");
      return;
    }
    auto csr = f.node->generate_csr(r);
    require_ok(csr, "generate");
    auto parsed = pki::CertificateRequest::parse(*csr, "csr");
    REQUIRE(parsed);
    auto s = f.state();
    CHECK(pki::spki_sha256(*parsed) == pki::spki_sha256(s.server_chain.front()));
    REQUIRE(s.pending_csr.has_value());
    CHECK(s.pending_csr->spki_sha256 == pki::spki_sha256(s.server_chain.front()));
    CHECK(first_fp(s.server_chain) == before);
  }
  SECTION("names must be FQDNs and keys must be appliance sizes") {
    node::CsrRequest r = csr_request(*f.peer);
    r.common_name = "edge1";
    require_error(f.node->generate_csr(r), ErrorCode::kInvalidArgument,
                  "Common name must be a valid FQDN");
    r = csr_request(*f.peer);
    r.dns_names = {"phone-profile"};
    require_error(f.node->generate_csr(r), ErrorCode::kInvalidArgument,
                  "Subject alternative name must be a valid FQDN");
    r = csr_request(*f.peer);
    r.key_size = 1024;
    require_error(f.node->generate_csr(r), ErrorCode::kInvalidArgument,
                  f.real() ? "KeyLength" : "unsupported key");
    CHECK_FALSE(f.state().pending_csr.has_value());
  }
}

void contract_upload(const ContractTargetFactory& make) {
  Fixture f(make);
  TestCa ca = TestCa::make("Contract Root CA", f.now());
  std::string before = f.serving_fp();

  SECTION("an accepted upload is staged: old certificate served, restart required, CSR consumed") {
    f.trust(ca);
    std::string staged = f.stage_via_csr(ca);
    auto s = f.state();
    CHECK(first_fp(s.server_chain) == before);
    CHECK(first_fp(s.staged_chain) == staged);
    CHECK(s.staged_chain.size() == 2);
    CHECK(s.restart_required);
    CHECK_FALSE(s.pending_csr.has_value());
    CHECK(f.serving_fp() == before);
  }
  SECTION("re-use current private key: after upload and restart the public key is unchanged") {
    if (f.real()) return;  // kUnimplemented: checked in contract_csr
    f.trust(ca);
    std::string spki_before = pki::spki_sha256(f.state().server_chain.front());
    node::CsrRequest r = csr_request(*f.peer);
    r.reuse_current_key = true;
    auto csr = f.node->generate_csr(r);
    require_ok(csr, "generate");
    node::CertificateUpload up;
    up.chain_pem = ca.sign(*csr, f.now()) + ca.pem();
    auto staged = f.node->upload_server_certificate(up);
    require_ok(staged, "upload");
    f.restart_and_wait();
    auto s = f.state();
    CHECK(first_fp(s.server_chain) == staged->staged_sha256);
    CHECK(first_fp(s.server_chain) != before);
    CHECK(pki::spki_sha256(s.server_chain.front()) == spki_before);
  }
  SECTION("the issuer must already be trusted; the CSR stays pending") {
    auto csr = f.node->generate_csr(csr_request(*f.peer));
    require_ok(csr, "csr");
    node::CertificateUpload up;
    up.chain_pem = ca.sign(*csr, f.now());
    auto r = f.node->upload_server_certificate(up);
    require_error(r, ErrorCode::kInvalidArgument, "trusted CA list");
    CHECK(r.error().message.rfind(f.peer->name + ": ", 0) == 0);
    CHECK(r.error().action == "upload server certificate");
    auto s = f.state();
    CHECK(s.pending_csr.has_value());
    CHECK_FALSE(s.restart_required);
  }
  SECTION("not PEM is rejected") {
    node::CertificateUpload up;
    up.chain_pem = "this is not a certificate";
    require_error(f.node->upload_server_certificate(up), ErrorCode::kInvalidArgument, "not a PEM");
    up.chain_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    require_error(f.node->upload_server_certificate(up), ErrorCode::kInvalidArgument,
                  "not a valid PEM certificate");
  }
  SECTION("CN and SANs must be FQDNs, with the appliance's wording") {
    f.trust(ca);
    KeyedCert bad_cn = issue_with_key(ca, "edge1", {}, f.now());
    node::CertificateUpload up;
    up.chain_pem = bad_cn.cert_pem;
    up.key = pki::SecretString(bad_cn.key_pem);
    require_error(f.node->upload_server_certificate(up), ErrorCode::kInvalidArgument,
                  "Common name must be a valid FQDN");
    KeyedCert bad_san = issue_with_key(ca, f.peer->fqdn, {f.peer->fqdn, "edge1"}, f.now());
    node::CertificateUpload up2;
    up2.chain_pem = bad_san.cert_pem;
    up2.key = pki::SecretString(bad_san.key_pem);
    require_error(f.node->upload_server_certificate(up2), ErrorCode::kInvalidArgument,
                  "Subject alternative name must be a valid FQDN");
    CHECK_FALSE(f.state().restart_required);
  }
  SECTION("wildcards are not supported") {
    f.trust(ca);
    KeyedCert wc = issue_with_key(ca, "*.example.com", {"*.example.com"}, f.now());
    node::CertificateUpload up;
    up.chain_pem = wc.cert_pem;
    up.key = pki::SecretString(wc.key_pem);
    require_error(f.node->upload_server_certificate(up), ErrorCode::kInvalidArgument, "wildcard");
  }
  SECTION("key mismatch: with the pending CSR's key, with an uploaded key, with the current key") {
    f.trust(ca);
    require_ok(f.node->generate_csr(csr_request(*f.peer)), "csr");
    KeyedCert other = issue_with_key(ca, f.peer->fqdn, {f.peer->fqdn}, f.now());
    node::CertificateUpload up;
    up.chain_pem = other.cert_pem;
    auto r = f.node->upload_server_certificate(up);
    require_error(r, ErrorCode::kInvalidArgument, "does not match");
    CHECK(r.error().message.find("pending CSR") != std::string::npos);
    require_ok(f.discard_csr(), "discard");

    KeyedCert third = issue_with_key(ca, f.peer->fqdn, {f.peer->fqdn}, f.now());
    node::CertificateUpload up2;
    up2.chain_pem = other.cert_pem;
    up2.key = pki::SecretString(third.key_pem);
    require_error(f.node->upload_server_certificate(up2), ErrorCode::kInvalidArgument,
                  "does not match");

    node::CertificateUpload up3;
    up3.chain_pem = other.cert_pem;
    require_error(f.node->upload_server_certificate(up3), ErrorCode::kInvalidArgument,
                  "current server key");
  }
  SECTION("a password-protected key is rejected") {
    f.trust(ca);
    CliRun gen = run_command(
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc "
        "-pass pass:secret 2>/dev/null");
    REQUIRE(gen.status == 0);
    REQUIRE(gen.out.find("ENCRYPTED PRIVATE KEY") != std::string::npos);
    KeyedCert kc = issue_with_key(ca, f.peer->fqdn, {f.peer->fqdn}, f.now());
    node::CertificateUpload up;
    up.chain_pem = kc.cert_pem;
    up.key = pki::SecretString(gen.out);
    require_error(f.node->upload_server_certificate(up), ErrorCode::kInvalidArgument,
                  "password protected");
  }
  SECTION("a key cannot be uploaded while a CSR is in progress") {
    f.trust(ca);
    require_ok(f.node->generate_csr(csr_request(*f.peer)), "csr");
    KeyedCert kc = issue_with_key(ca, f.peer->fqdn, {f.peer->fqdn}, f.now());
    node::CertificateUpload up;
    up.chain_pem = kc.cert_pem;
    up.key = pki::SecretString(kc.key_pem);
    require_error(f.node->upload_server_certificate(up), ErrorCode::kInvalidArgument,
                  "while a CSR is in progress");
    CHECK(f.state().pending_csr.has_value());
  }
  SECTION("certificate + key upload without CSR is accepted; warnings do not block") {
    f.trust(ca);
    KeyedCert kc = issue_with_key(ca, f.peer->fqdn, {f.peer->fqdn}, f.now());
    std::string no_newline = kc.key_pem;
    while (!no_newline.empty() && no_newline.back() == '\n') no_newline.pop_back();
    node::CertificateUpload up;
    up.chain_pem = kc.cert_pem;
    up.key = pki::SecretString(no_newline);
    auto r = f.node->upload_server_certificate(up);
    require_ok(r, "upload");
    if (!f.real()) {  // a real node's reply carries no warnings
      REQUIRE(r->warnings.size() == 1);
      CHECK(r->warnings[0].id == "key-missing-trailing-newline");
    }
    CHECK(f.state().restart_required);
  }
  SECTION("missing CN is a warning, not a rejection") {
    f.trust(ca);
    KeyedCert kc = issue_with_key(ca, "", {f.peer->fqdn}, f.now());
    auto cert = pki::Certificate::parse_one(kc.cert_pem, "c");
    REQUIRE(cert);
    if (!cert->subject_cn().empty()) {
      WARN("pki cannot issue a certificate without CN; missing-CN warning not exercised");
      return;
    }
    node::CertificateUpload up;
    up.chain_pem = kc.cert_pem;
    up.key = pki::SecretString(kc.key_pem);
    auto r = f.node->upload_server_certificate(up);
    require_ok(r, "upload");
    if (f.real()) return;
    bool warned = std::any_of(r->warnings.begin(), r->warnings.end(),
                              [](const auto& w) { return w.id == "missing-common-name"; });
    CHECK(warned);
  }
  SECTION("unknown CRL is a warning when revocation checking by CRL is on") {
    f.trust(ca);
    spec::RevocationChecking rc;
    rc.enabled = true;
    require_ok(f.node->set_revocation_checking(rc), "revocation");
    auto csr = f.node->generate_csr(csr_request(*f.peer));
    require_ok(csr, "csr");
    node::CertificateUpload up;
    up.chain_pem = ca.sign(*csr, f.now());
    auto r = f.node->upload_server_certificate(up);
    require_ok(r, "upload");
    if (!f.real()) {
      REQUIRE(r->warnings.size() == 1);
      CHECK(r->warnings[0].id == "unknown-crl");
    }
  }
}

void contract_restart(const ContractTargetFactory& make) {
  Fixture f(make);
  TestCa ca = TestCa::make("Restart Root CA", f.now());
  f.trust(ca);
  std::string before = f.serving_fp();
  std::string staged = f.stage_via_csr(ca);

  SECTION("old certificate until restart, unreachable while restarting, new one after") {
    CHECK(f.serving_fp() == before);
    require_ok(f.node->restart(), "restart");
    auto during = f.node->read_state();
    // A real node refuses connections while it restarts.
    const std::string restarting = f.real() ? f.peer->name + ": " : "node is restarting";
    require_error(during, ErrorCode::kUnavailable, restarting);
    CHECK(during.error().message.rfind(f.peer->name + ": ", 0) == 0);
    require_error(f.node->served_chain(), ErrorCode::kUnavailable, restarting);
    require_error(f.node->generate_csr(csr_request(*f.peer)), ErrorCode::kUnavailable, restarting);
    TimePoint t0 = f.now();
    require_ok(f.node->wait_until_up(f.restart_wait()), "wait");
    CHECK(f.now() - t0 >= std::chrono::seconds(f.target->restart_seconds() - 1));
    CHECK(f.serving_fp() == staged);
    auto s = f.state();
    CHECK_FALSE(s.restart_required);
    CHECK(s.staged_chain.empty());
    CHECK(first_fp(s.server_chain) == staged);
    CHECK(s.server_chain.size() == 2);
  }
  SECTION("a restart without anything staged changes nothing") {
    f.restart_and_wait();
    f.restart_and_wait();
    CHECK(f.serving_fp() == staged);
  }
  SECTION("another node is not affected by a restart") {
    require_ok(f.node->restart(), "restart");
    const spec::Peer& p2 = f.target->spec().peers.at(1);
    auto n2 = f.target->open(p2);
    require_ok(n2, "open");
    require_ok((*n2)->read_state(), "edge2 reachable");
  }
}

void contract_trusted_cas(const ContractTargetFactory& make) {
  Fixture f(make);
  TestCa a = TestCa::make("CA One", f.now());
  TestCa b = TestCa::make("CA Two", f.now());
  size_t factory = f.state().trusted_cas.size();

  SECTION("append in order; duplicates are skipped, not errors") {
    auto r = f.node->append_trusted_cas(a.pem() + b.pem());
    require_ok(r, "append");
    CHECK(r->added.size() == 2);
    CHECK(r->skipped.empty());
    auto again = f.node->append_trusted_cas(b.pem() + a.pem());
    require_ok(again, "append again");
    CHECK(again->added.empty());
    CHECK(again->skipped.size() == 2);
    auto s = f.state();
    REQUIRE(s.trusted_cas.size() == factory + 2);
    CHECK(s.trusted_cas[factory].sha256_fingerprint() == a.cert.sha256_fingerprint());
    CHECK(s.trusted_cas[factory + 1].sha256_fingerprint() == b.cert.sha256_fingerprint());
  }
  SECTION("delete by fingerprint (any case, with or without colons); unknown is kNotFound") {
    require_ok(f.node->append_trusted_cas(a.pem() + b.pem()), "append");
    require_ok(f.delete_ca(a.cert.sha256_fingerprint()), "delete a");
    std::string fp = b.cert.sha256_fingerprint();
    std::string plain;
    for (char c : fp)
      if (c != ':') plain.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    require_ok(f.delete_ca(plain), "delete b");
    CHECK(f.state().trusted_cas.size() == factory);
    auto r = f.delete_ca(a.cert.sha256_fingerprint());
    require_error(r, ErrorCode::kNotFound, a.cert.sha256_fingerprint());
    // (the operator's refusal, when the step is manual)
    if (!f.is_manual(node::ManualOperation::kDeleteTrustedCa))
      CHECK(r.error().message.rfind(f.peer->name + ": ", 0) == 0);
  }
  SECTION("reset restores the factory list, even after the factory CA was deleted") {
    auto s0 = f.state();
    require_ok(f.node->append_trusted_cas(a.pem()), "append");
    require_ok(f.delete_ca(s0.trusted_cas.front().sha256_fingerprint()), "delete");
    require_ok(
        f.manual(
            node::ManualOperation::kResetTrustedCas, [&] { return f.node->reset_trusted_cas(); },
            [](sim::SimNode& n) { return n.reset_trusted_cas(); }),
        "reset");
    auto s = f.state();
    REQUIRE(s.trusted_cas.size() == s0.trusted_cas.size());
    CHECK(s.trusted_cas.front() == s0.trusted_cas.front());
  }
  SECTION("garbage is rejected") {
    require_error(f.node->append_trusted_cas("not pem"), ErrorCode::kInvalidArgument, "PEM");
  }
}

void contract_trusted_ca_limit(const ContractTargetFactory& make) {
  Fixture f(make);
  size_t factory = f.state().trusted_cas.size();
  // One key for all CAs keeps this fast; only the fingerprints must differ.
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  auto make_ca = [&](int i) {
    pki::CaOptions o;
    o.common_name = fmt::format("Bulk CA {}", i);
    o.not_before = f.now() - std::chrono::hours(1);
    o.not_after = f.now() + std::chrono::days(365);
    o.serial_hex = fmt::format("{:X}", i + 1);
    auto c = pki::create_self_signed_ca(*key, o);
    REQUIRE(c);
    return c->to_pem();
  };
  std::string bundle;
  for (size_t i = 0; i < pki::kMaxTrustedCas - factory; ++i) bundle += make_ca(static_cast<int>(i));
  require_ok(f.node->append_trusted_cas(bundle), "fill to the limit");
  CHECK(f.state().trusted_cas.size() == pki::kMaxTrustedCas);
  auto over = f.node->append_trusted_cas(make_ca(5000));
  require_error(over, ErrorCode::kInvalidArgument, "1000");
  CHECK(f.state().trusted_cas.size() == pki::kMaxTrustedCas);
}

void contract_settings(const ContractTargetFactory& make) {
  Fixture f(make);

  SECTION("CRL automatic updates") {
    node::CrlSettings c;
    c.automatic_updates = true;
    c.distribution_points = {"http://crl.example.com/root.crl", "https://crl.example.com/i.crl"};
    c.daily_update_minute = 150;
    auto set = [&](const node::CrlSettings& x) {
      return f.manual(
          node::ManualOperation::kSetCrlSettings, [&] { return f.node->set_crl_settings(x); },
          [&](sim::SimNode& n) { return n.set_crl_settings(x); });
    };
    // The node's CRL settings, from read_state() where it shows them.
    auto crl = [&] { return f.state().crl_settings_known ? f.state().crl : f.truth().crl; };
    require_ok(set(c), "set");
    CHECK(crl() == c);
    node::CrlSettings bad = c;
    bad.distribution_points = {"ldap://crl.example.com"};
    require_error(set(bad), ErrorCode::kInvalidArgument, "HTTP");
    CHECK(crl() == c);
  }
  SECTION("manual CRL: upload (PEM or DER), fingerprint, replace, remove") {
    auto pem = f.env().read_file(test_data("schema/corpus/files/manual-crl.pem"), kTestRead);
    if (!pem)
      pem = default_env().read_file(test_data("schema/corpus/files/manual-crl.pem"), kTestRead);
    auto der = default_env().read_file(test_data("schema/corpus/files/manual-crl.der"), kTestRead);
    REQUIRE(pem);
    REQUIRE(der);
    auto upload = [&](const std::string& data) {
      return f.manual(
          node::ManualOperation::kUploadManualCrl, [&] { return f.node->upload_manual_crl(data); },
          [&](sim::SimNode& n) { return n.upload_manual_crl(data); });
    };
    auto remove = [&] {
      return f.manual(
          node::ManualOperation::kRemoveManualCrl, [&] { return f.node->remove_manual_crl(); },
          [](sim::SimNode& n) { return n.remove_manual_crl(); });
    };
    auto loaded = [&] {
      auto s = f.state();
      return s.manual_crl_known ? s.manual_crl_sha256 : f.truth().manual_crl_sha256;
    };
    require_ok(upload(*pem), "upload pem");
    CHECK(loaded() == pki::sha256_fingerprint(*pem));
    require_ok(upload(*der), "upload der");
    CHECK(loaded() == pki::sha256_fingerprint(*der));
    require_error(upload("garbage"), ErrorCode::kInvalidArgument, "CRL");
    require_ok(remove(), "remove");
    CHECK_FALSE(loaded().has_value());
    require_error(remove(), ErrorCode::kNotFound, "no manual CRL");
  }
  SECTION("SIP TLS revocation checking") {
    spec::RevocationChecking rc;
    rc.enabled = true;
    rc.ocsp = false;
    rc.crl = true;
    rc.cdp_downloads = false;
    rc.fallback = spec::RevocationFallback::kTreatAsRevoked;
    require_ok(f.node->set_revocation_checking(rc), "set");
    auto s = f.state();
    CHECK(s.revocation.enabled);
    CHECK_FALSE(s.revocation.ocsp);
    CHECK(s.revocation.crl);
    CHECK_FALSE(s.revocation.cdp_downloads);
    CHECK(s.revocation.fallback == spec::RevocationFallback::kTreatAsRevoked);
  }
  SECTION("cluster TLS verification mode") {
    // A real node shows the mode by alarm 40049 (cluster TLS permissive).
    require_ok(f.set_tls(spec::TlsVerification::kPermissive), "permissive");
    CHECK(f.state().tls_verification == spec::TlsVerification::kPermissive);
    require_ok(f.set_tls(spec::TlsVerification::kEnforce), "enforce");
    CHECK(f.state().tls_verification == spec::TlsVerification::kEnforce);
  }
  SECTION("ACME settings round-trip; the account registers only when first used") {
    node::AcmeSettings a;
    a.provider_name = "letsencrypt";
    a.provider_directory = "https://acme-v02.api.letsencrypt.org/directory";
    a.email = "pki@example.com";
    a.terms_accepted = true;
    a.mode = spec::AcmeMode::kAutomated;
    a.renew_key = spec::KeyRotation::kRetain;
    a.schedule = spec::Schedule{{1, 4}, 240};
    require_ok(f.node->set_acme_settings(a), "set");
    auto got = f.node->acme_settings();
    require_ok(got, "get");
    CHECK(got->provider_name == a.provider_name);
    CHECK(got->provider_directory == a.provider_directory);
    CHECK(got->email == a.email);
    CHECK(got->terms_accepted);
    CHECK(got->mode == spec::AcmeMode::kAutomated);
    CHECK(got->renew_key == spec::KeyRotation::kRetain);
    REQUIRE(got->schedule.has_value());
    CHECK(got->schedule->days == std::vector<spec::Weekday>{1, 4});
    CHECK(got->schedule->minute_of_day == 240);
    if (!f.real()) CHECK(f.state().acme_status.status == "Account not registered");

    node::AcmeSettings no_terms = a;
    no_terms.terms_accepted = false;
    require_error(f.node->set_acme_settings(no_terms), ErrorCode::kInvalidArgument, "terms");
    node::AcmeSettings no_schedule = a;
    no_schedule.schedule.reset();
    require_error(f.node->set_acme_settings(no_schedule), ErrorCode::kInvalidArgument,
                  f.real() ? "RenewalSchedule" : "schedule");
  }
}

void contract_acme(const ContractTargetFactory& make) {
  Fixture f(make);
  const std::string served = f.state().server_chain.front().to_pem();

  SECTION("disabled: sign, deploy and revoke refuse; nothing is pending") {
    CHECK(f.state().acme_status.status == "Disabled");
    require_error(f.node->acme_sign(), ErrorCode::kInvalidArgument, "disabled");
    require_error(f.node->acme_deploy(), ErrorCode::kInvalidArgument, "disabled");
    require_error(f.node->acme_revoke(served), ErrorCode::kInvalidArgument, "disabled");
    require_error(f.node->acme_discard_pending(), ErrorCode::kNotFound,
                  "no ACME certificate is pending");
    CHECK_FALSE(f.state().acme_status.pending_certificate_pem.has_value());
  }
  SECTION("manual mode: preconditions, the certificate in use, bad reasons") {
    node::AcmeSettings a;
    a.provider_name = "unreachable";
    // Nothing listens on port 1: a sign fails at once, without waiting.
    a.provider_directory = "https://127.0.0.1:1/directory";
    a.email = "pki@example.com";
    a.terms_accepted = true;
    a.mode = spec::AcmeMode::kManual;
    require_ok(f.node->set_acme_settings(a), "set");
    require_error(f.node->acme_sign(), ErrorCode::kNotFound, "no CSR is in progress");
    require_error(f.node->acme_deploy(), ErrorCode::kNotFound, "no ACME certificate is pending");
    require_error(f.node->acme_revoke(served), ErrorCode::kInvalidArgument, "is in use");
    require_error(f.node->acme_revoke(served, pki::RevocationReason::kSuperseded),
                  ErrorCode::kInvalidArgument, "is in use");
    // A code outside the enum (as a wire code may arrive) is refused.
    require_error(f.node->acme_revoke(served, static_cast<pki::RevocationReason>(2)),
                  ErrorCode::kInvalidArgument, "reason 2");
    require_error(f.node->acme_revoke("x"), ErrorCode::kInvalidArgument, "not a PEM");
    if (!f.real()) CHECK(f.state().acme_status.last_sign_status.empty());

    // A sign that cannot reach the provider: an error now and in the status
    // page, the CSR still pending, nothing staged, no account.
    require_ok(f.node->generate_csr(csr_request(*f.peer)), "CSR");
    auto r = f.node->acme_sign();
    require_error(r, ErrorCode::kUnavailable, "127.0.0.1:1");
    auto s = f.state();
    // A real node's status page (last sign, account) has no API: the
    // simulator core shows what the node recorded.
    const node::NodeState page = f.real() ? f.truth() : s;
    INFO("last sign status: " << page.acme_status.last_sign_status);
    CHECK(page.acme_status.last_sign_status.rfind("Failed: ", 0) == 0);
    CHECK(page.acme_status.last_sign_status.find("127.0.0.1:1") != std::string::npos);
    CHECK(page.acme_status.status == "Account not registered");
    CHECK(s.pending_csr.has_value());
    CHECK_FALSE(s.acme_status.pending_certificate_pem.has_value());
    CHECK(page.acme_status.last_deploy_status.empty());
  }
}

void contract_faults(const ContractTargetFactory& make) {
  Fixture f(make);
  sim::SimNode admin = f.admin();

  SECTION("latency is added to every request through the Env clock") {
    sim::FaultConfig fc;
    fc.latency_ms = 400;
    require_ok(admin.set_faults(fc), "faults");
    TimePoint t0 = f.now();
    require_ok(f.node->read_state(), "read");
    CHECK(f.now() - t0 >= std::chrono::milliseconds(400));
  }
  SECTION("failure rate: kUnavailable 5xx, seeded and reproducible") {
    sim::FaultConfig fc;
    fc.failure_rate = 0.5;
    fc.seed = 42;
    auto pattern = [&] {
      require_ok(admin.set_faults(fc), "faults");
      std::string p;
      for (int i = 0; i < 40; ++i) {
        auto r = f.node->served_chain();
        if (!r) {
          CHECK(r.error().code == ErrorCode::kUnavailable);
          CHECK(r.error().message.find("503") != std::string::npos);
        }
        p.push_back(r ? '.' : 'x');
      }
      return p;
    };
    std::string first = pattern();
    std::string second = pattern();
    CHECK(first == second);
    auto failures = std::count(first.begin(), first.end(), 'x');
    CHECK(failures >= 8);
    CHECK(failures <= 32);
    fc.failure_rate = 1.0;
    require_ok(admin.set_faults(fc), "always");
    require_error(f.node->read_state(), ErrorCode::kUnavailable, "503");
    require_ok(admin.set_faults(sim::FaultConfig{}), "clear");
    require_ok(f.node->read_state(), "read after clearing");
  }
  SECTION("connection drop: the next N requests fail, then the node answers") {
    sim::FaultConfig fc;
    fc.drop_connections = 2;
    require_ok(admin.set_faults(fc), "faults");
    require_error(f.node->read_state(), ErrorCode::kUnavailable, "connection dropped");
    if (f.real()) {
      // A write a real node has an API for (the TLS mode is a manual step).
      require_error(f.node->generate_csr(csr_request(*f.peer)), ErrorCode::kUnavailable,
                    "connection dropped");
      CHECK_FALSE(f.state().pending_csr.has_value());  // nothing was applied
      return;
    }
    require_error(f.node->set_tls_verification(spec::TlsVerification::kPermissive),
                  ErrorCode::kUnavailable, "connection dropped");
    auto s = f.state();
    CHECK(s.tls_verification == spec::TlsVerification::kEnforce);  // nothing was applied
  }
  SECTION("connection drop after apply: the change happened, only the reply was lost") {
    sim::FaultConfig fc;
    fc.drop_connections = 1;
    fc.drop_after_apply = true;
    require_ok(admin.set_faults(fc), "faults");
    if (f.real()) {
      require_error(f.node->generate_csr(csr_request(*f.peer)), ErrorCode::kUnavailable,
                    "after the request was applied");
      CHECK(f.state().pending_csr.has_value());
      return;
    }
    require_error(f.node->set_tls_verification(spec::TlsVerification::kPermissive),
                  ErrorCode::kUnavailable, "after the request was applied");
    CHECK(f.state().tls_verification == spec::TlsVerification::kPermissive);
  }

  TestCa ca = TestCa::make("Fault Root CA", f.now());
  f.trust(ca);
  std::string before = f.serving_fp();

  SECTION("a restart that never comes back") {
    sim::FaultConfig fc;
    fc.restart_never_returns = true;
    require_ok(admin.set_faults(fc), "faults");
    f.stage_via_csr(ca);
    require_ok(f.node->restart(), "restart");
    auto w = f.node->wait_until_up(f.restart_wait());
    require_error(w, ErrorCode::kUnavailable, "no answer within");
    require_error(f.node->read_state(), ErrorCode::kUnavailable,
                  f.real() ? f.peer->name + ": " : "node is restarting");
  }
  SECTION("a restart that comes back with the old certificate") {
    sim::FaultConfig fc;
    fc.restart_keeps_old_certificate = true;
    require_ok(admin.set_faults(fc), "faults");
    f.stage_via_csr(ca);
    f.restart_and_wait();
    CHECK(f.serving_fp() == before);
    auto s = f.state();
    CHECK_FALSE(s.restart_required);
    CHECK(s.staged_chain.empty());
  }
  SECTION("a slow restart outlasts a short wait, then finishes") {
    sim::FaultConfig fc;
    fc.slow_restart_seconds = f.target->restart_seconds() * 4;
    require_ok(admin.set_faults(fc), "faults");
    std::string staged = f.stage_via_csr(ca);
    require_ok(f.node->restart(), "restart");
    require_error(f.node->wait_until_up(std::chrono::seconds(f.target->restart_seconds() * 2)),
                  ErrorCode::kUnavailable, "no answer within");
    require_ok(f.node->wait_until_up(std::chrono::seconds(f.target->restart_seconds() * 4)),
               "second wait");
    CHECK(f.serving_fp() == staged);
  }
}

void contract_no_secrets(const ContractTargetFactory& make) {
  Fixture f(make);
  TestCa ca = TestCa::make("Secret Root CA", f.now());
  std::string seen;  // everything any operation handed back
  auto note = [&](const auto& r) {
    if (!r) seen += r.error().message + "\n";
  };

  auto s0 = f.node->read_state();
  require_ok(s0, "read");
  auto csr = f.node->generate_csr(csr_request(*f.peer));
  require_ok(csr, "csr");
  seen += *csr;
  auto csr_file = f.env().read_file(f.admin().state_path(), kTestRead);
  require_ok(csr_file, "node file with CSR");
  std::string csr_time_file = *csr_file;
  note(f.node->generate_csr(csr_request(*f.peer)));
  f.trust(ca);
  // A manual key upload (rejected: CSR pending) and a mismatching one.
  KeyedCert kc = issue_with_key(ca, f.peer->fqdn, {f.peer->fqdn}, f.now());
  node::CertificateUpload bad;
  bad.chain_pem = kc.cert_pem;
  bad.key = pki::SecretString(kc.key_pem);
  note(f.node->upload_server_certificate(bad));
  require_ok(f.discard_csr(), "discard");
  KeyedCert other = issue_with_key(ca, f.peer->fqdn, {f.peer->fqdn}, f.now());
  node::CertificateUpload mismatch;
  mismatch.chain_pem = kc.cert_pem;
  mismatch.key = pki::SecretString(other.key_pem);
  note(f.node->upload_server_certificate(mismatch));
  node::CertificateUpload good;
  good.chain_pem = kc.cert_pem;
  good.key = pki::SecretString(kc.key_pem);
  auto up = f.node->upload_server_certificate(good);
  require_ok(up, "upload");
  for (const auto& w : up->warnings) seen += w.message + "\n";
  auto staged = f.state();
  f.restart_and_wait();
  auto after = f.state();
  for (const node::NodeState* s : {&*s0, &staged, &after}) {
    for (const auto& c : s->server_chain) seen += c.to_pem();
    for (const auto& c : s->staged_chain) seen += c.to_pem();
    for (const auto& c : s->trusted_cas) seen += c.to_pem();
    if (s->pending_csr) seen += s->pending_csr->pem;
    for (const auto& a : s->alarms) seen += a.text;
  }
  auto audit = f.admin().audit();
  require_ok(audit, "audit");
  REQUIRE(audit->size() >= 8);
  for (const auto& e : *audit) seen += e.operation + e.outcome + e.details + "\n";

  // The keys the node holds (from its own disk) and the ones uploaded.
  auto file = f.env().read_file(f.admin().state_path(), kTestRead);
  require_ok(file, "node file");
  std::vector<std::string> bodies;
  auto collect = [&](std::string text) {
    // The node file is JSON: its PEM newlines are escaped.
    for (size_t p; (p = text.find("\\n")) != std::string::npos;) text.replace(p, 2, "\n");
    const std::string begin = "-----BEGIN PRIVATE KEY-----\n";
    size_t pos = 0;
    while ((pos = text.find(begin, pos)) != std::string::npos) {
      // The second base64 line is pure key material (the first starts with a
      // fixed PKCS#8 header).
      size_t l1 = text.find('\n', pos + begin.size());
      size_t l2 = text.find('\n', l1 + 1);
      REQUIRE(l2 != std::string::npos);
      bodies.push_back(text.substr(l1 + 1, l2 - l1 - 1));
      pos = l2;
    }
  };
  collect(csr_time_file);
  collect(*file);
  collect(kc.key_pem);
  collect(other.key_pem);
  REQUIRE(bodies.size() >= 5);
  CHECK(seen.find("PRIVATE KEY") == std::string::npos);
  for (const std::string& b : bodies) {
    INFO("key body fragment " << b.substr(0, 12) << "...");
    CHECK(seen.find(b) == std::string::npos);
  }
  auto audit_text = f.env().read_file(f.admin().audit_path(), kTestRead);
  require_ok(audit_text, "audit file");
  CHECK(audit_text->find("PRIVATE KEY") == std::string::npos);
  for (const std::string& b : bodies) CHECK(audit_text->find(b) == std::string::npos);
}

}  // namespace edgecert::testing
