// A signed chain recorded in the journal by an earlier run is checked again
// before it is reused: a wrong one is refused and the issuer asked again, so a
// corrected external certificate is picked up instead of the recorded one
// being replayed on every run (node_runner.h, executor.h).
#include <catch2/catch.hpp>

#include <string>

#include "providers/pki/signer.h"
#include "providers/pki/spki.h"
#include "reconciler/engine/journal.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::SimCluster;
using edgecert::testing::SimClusterOptions;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("external issuer: a refused chain recorded by an earlier run is not replayed",
          "[engine][issuer][journal]") {
  SimClusterOptions o;
  o.peers = 2;
  o.issuer = "{type: external, requestsDir: req, certificatesDir: certs}";
  o.spec_extra = "  trustedCAs: {certificates: [ca/cacert.pem]}\n";
  SimCluster c(o);
  auto first = c.apply();  // CSRs generated, the issuer waits for the files
  INFO(first.out << first.err);
  REQUIRE(contains(first.out + first.err, "waiting for signed certificate"));

  auto ca_cert = c.ca_certificates().front();
  auto ca_key = pki::PrivateKey::parse(
      *c.memory.read_file("cluster/ca/private/cakey.pem", kTestRead), "cakey.pem");
  REQUIRE(ca_key);
  auto issue = [&](const std::string& name, bool copy_sans, const std::string& serial) {
    auto st = c.node(name).read_state();
    REQUIRE(st);
    REQUIRE(st->pending_csr);
    auto csr = pki::CertificateRequest::parse(st->pending_csr->pem, name);
    REQUIRE(csr);
    pki::IssueOptions io;
    io.not_before = c.memory.now() - std::chrono::hours(1);
    io.not_after = c.memory.now() + std::chrono::hours(24 * 365);
    io.serial_hex = serial;
    io.copy_requested_sans = copy_sans;
    auto cert = pki::sign_csr(*csr, ca_cert, *ca_key, io);
    REQUIRE(cert);
    return std::make_pair(pki::sha256_fingerprint(st->pending_csr->pem), *cert);
  };
  // An earlier edgecert recorded a chain without the SANs for edge1's CSR
  // (it checked only at upload, after recording it).
  auto [csr1, bad] = issue("edge1", false, "BB01");
  Journal journal(c.memory, "cluster/.edgecert/state/test/journal.jsonl");
  JournalEntry e;
  e.run_id = "older-run";
  e.event = JournalEvent::kRunStart;
  REQUIRE(journal.append(e));
  e.event = JournalEvent::kActionDone;
  e.action_id = "edge1/sign-csr";
  e.node = "edge1";
  e.kind = "sign-csr";
  e.data = {{"csr_sha256", csr1}, {"chain", {bad.to_pem()}}};
  REQUIRE(journal.append(e));
  e = JournalEntry{};
  e.run_id = "older-run";
  e.event = JournalEvent::kRunEnd;
  REQUIRE(journal.append(e));

  // The operator's files are right.
  for (const auto& [name, serial] : {std::pair{"edge1", "BB02"}, std::pair{"edge2", "BB03"}}) {
    auto good = issue(name, true, serial).second;
    c.memory.put(std::string("cluster/certs/test/") + name + ".pem", good.to_pem());
  }
  auto r = c.apply();
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "the chain recorded by an earlier run was refused"));
  CHECK(contains(r.out, "subject alternative names: live"));
  CHECK(c.serving("edge1").serial_hex() == "BB02");
  CHECK(c.serving("edge2").serial_hex() == "BB03");
}
