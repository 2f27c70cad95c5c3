#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <chrono>
#include <set>
#include <thread>

#include "providers/issuers/openssl_ca.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/spki.h"
#include "providers/pki/verify.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using namespace edgecert::issuer;

namespace {

pki::CertificateRequest make_csr(const pki::PrivateKey& key, const std::string& cn,
                                 std::vector<std::string> sans) {
  pki::CsrOptions o;
  o.common_name = cn;
  o.subject.country = "JP";
  o.subject.organization = "Example KK";
  o.dns_names = std::move(sans);
  auto csr = pki::CertificateRequest::create(key, o);
  REQUIRE(csr);
  return *csr;
}

CaInitOptions fast_ca() {
  CaInitOptions o;
  o.common_name = "Test Local CA";
  o.algorithm = spec::KeyAlgorithm::kEcdsa;
  o.key_size = 256;
  return o;
}

}  // namespace

TEST_CASE("openssl-ca: init creates the openssl ca layout with a 0600 key", "[issuer]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string ca = dir.file("ca");
  REQUIRE(init_openssl_ca(*env, ca, fast_ca()));
  CHECK(openssl_ca_exists(*env, ca));
  CHECK(*env->file_mode(ca + "/private/cakey.pem") == 0600u);
  CHECK(*env->read_file(ca + "/serial", kTestRead) == "1000\n");
  CHECK(env->is_directory(ca + "/newcerts"));
  // The CA certificate is a proper CA and openssl agrees it verifies itself.
  auto certs = pki::load_certificates(*env, ca + "/cacert.pem", kTestRead);
  REQUIRE(certs);
  CHECK(certs->front().is_ca());
  CHECK(certs->front().subject_cn() == "Test Local CA");
  auto r = testing::run_command(
      fmt::format("openssl verify -CAfile {0}/cacert.pem {0}/cacert.pem 2>&1", ca));
  CHECK(r.status == 0);
  // Never overwritten.
  auto again = init_openssl_ca(*env, ca, fast_ca());
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kAlreadyExists);
}

TEST_CASE("openssl-ca: signs a node CSR with its SANs and both EKUs", "[issuer]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string ca = dir.file("ca");
  REQUIRE(init_openssl_ca(*env, ca, fast_ca()));
  auto issuer = make_openssl_ca_issuer(*env, ca);

  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  auto csr = make_csr(*key, "edge.example.com", {"edge.example.com", "edge1.example.com"});
  auto out = issuer->sign({"tokyo", "edge1", csr.to_pem(), spec::Digest::kSha384});
  REQUIRE(out);
  REQUIRE(out->state == SignState::kIssued);
  REQUIRE(out->chain.size() == 1);  // a root CA: no intermediates to send
  const pki::Certificate& leaf = out->chain.front();
  CHECK(leaf.serial_hex() == "1000");
  CHECK(leaf.subject_cn() == "edge.example.com");
  CHECK(leaf.subject_alt_names().dns ==
        std::vector<std::string>{"edge.example.com", "edge1.example.com"});
  auto eku = leaf.extended_key_usage();
  CHECK(std::find(eku.begin(), eku.end(), "serverAuth") != eku.end());
  CHECK(std::find(eku.begin(), eku.end(), "clientAuth") != eku.end());
  CHECK(leaf.signature_digest() == "sha384");
  CHECK(pki::spki_sha256(leaf) == pki::spki_sha256(*key));

  auto anchors = issuer->ca_certificates();
  REQUIRE(anchors);
  pki::VerifyOptions vo;
  vo.hostname = "edge1.example.com";
  vo.at = env->now();
  CHECK(pki::verify_chain(leaf, {}, *anchors, vo).ok);

  // Bookkeeping is openssl-compatible: serial moved on, index and newcerts hold it.
  CHECK(*env->read_file(ca + "/serial", kTestRead) == "1001\n");
  auto index = *env->read_file(ca + "/index.txt", kTestRead);
  CHECK(index.rfind("V\t", 0) == 0);
  CHECK(index.find("\t1000\tunknown\t/C=JP/O=Example KK/CN=edge.example.com") != std::string::npos);
  auto r = testing::run_command(
      fmt::format("openssl verify -CAfile {0}/cacert.pem {0}/newcerts/1000.pem 2>&1", ca));
  CHECK(r.status == 0);

  // A second signature gets the next serial.
  auto out2 = issuer->sign({"tokyo", "edge2", csr.to_pem(), spec::Digest::kSha256});
  REQUIRE(out2);
  CHECK(out2->chain.front().serial_hex() == "1001");
}

TEST_CASE("openssl-ca: revoke marks the index and publishes a CRL listing the serial", "[issuer]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string ca = dir.file("ca");
  REQUIRE(init_openssl_ca(*env, ca, fast_ca()));
  auto issuer = make_openssl_ca_issuer(*env, ca);
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  auto out =
      issuer->sign({"c", "n", make_csr(*key, "a.example.com", {}).to_pem(), spec::Digest::kSha256});
  REQUIRE(out);
  REQUIRE(issuer->revoke(out->chain.front(), RevocationReason::kSuperseded));
  auto index = *env->read_file(ca + "/index.txt", kTestRead);
  CHECK(index.rfind("R\t", 0) == 0);
  CHECK(index.find(",superseded\t1000\t") != std::string::npos);
  auto r = testing::run_command(fmt::format("openssl crl -in {}/crl.pem -noout -text 2>&1", ca));
  CHECK(r.status == 0);
  CHECK(r.out.find("Serial Number: 1000") != std::string::npos);
  // Idempotent; unknown serials are refused.
  CHECK(issuer->revoke(out->chain.front(), RevocationReason::kSuperseded));
  auto cas = issuer->ca_certificates();
  auto foreign = issuer->revoke(cas->front(), RevocationReason::kSuperseded);
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == ErrorCode::kNotFound);
}

namespace {

// The minimal openssl.cnf of docs/issuers.md for `openssl ca` on the folder.
std::string openssl_ca_config(const std::string& ca) {
  return fmt::format(
      "[ ca ]\ndefault_ca = edgecert\n[ edgecert ]\ndir = {}\n"
      "database = $dir/index.txt\nnew_certs_dir = $dir/newcerts\n"
      "certificate = $dir/cacert.pem\nprivate_key = $dir/private/cakey.pem\n"
      "serial = $dir/serial\ncrlnumber = $dir/crlnumber\ndefault_md = sha256\n"
      "default_crl_days = 30\npolicy = policy_anything\n"
      "[ policy_anything ]\ncommonName = supplied\n",
      ca);
}

}  // namespace

TEST_CASE(
    "openssl-ca: the real openssl ca revokes and publishes CRLs on a folder edgecert signed "
    "two same-subject certificates into",
    "[issuer][openssl]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string ca = dir.file("ca");
  REQUIRE(init_openssl_ca(*env, ca, fast_ca()));
  CHECK(*env->read_file(ca + "/index.txt.attr", kTestRead) == "unique_subject = no\n");
  std::string cnf = dir.file("openssl.cnf");
  REQUIRE(env->write_file_atomic(cnf, openssl_ca_config(ca), 0644));

  SECTION("a folder from before the attribute file gets it on the next sign") {
    REQUIRE(env->remove_file(ca + "/index.txt.attr"));
  }
  SECTION("an operator's own attribute file is left as it is") {
    REQUIRE(env->write_file_atomic(ca + "/index.txt.attr", "unique_subject = no\n# mine\n", 0644));
  }

  // Two peers, one subject (the cluster FQDN), as every rollout signs them.
  auto issuer = make_openssl_ca_issuer(*env, ca);
  std::vector<pki::Certificate> leaves;
  for (const char* node : {"edge1", "edge2", "edge3"}) {
    auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
    REQUIRE(key);
    auto out = issuer->sign({"tokyo", node,
                             make_csr(*key, "edge.example.com", {"edge.example.com"}).to_pem(),
                             spec::Digest::kSha256});
    REQUIRE(out);
    leaves.push_back(out->chain.front());
  }
  auto attr = env->read_file(ca + "/index.txt.attr", kTestRead);
  REQUIRE(attr);
  CHECK(attr->rfind("unique_subject = no\n", 0) == 0);

  auto revoke = testing::run_command(fmt::format(
      "openssl ca -config {} -revoke {}/newcerts/1000.pem -crl_reason superseded 2>&1", cnf, ca));
  INFO(revoke.out);
  REQUIRE(revoke.status == 0);
  CHECK(revoke.out.find("TXT_DB") == std::string::npos);
  auto gencrl = testing::run_command(
      fmt::format("openssl ca -config {} -gencrl -out {}/crl.pem 2>&1", cnf, ca));
  INFO(gencrl.out);
  REQUIRE(gencrl.status == 0);
  auto crl = testing::run_command(fmt::format("openssl crl -in {}/crl.pem -noout -text 2>&1", ca));
  CHECK(crl.out.find("Serial Number: 1000") != std::string::npos);

  // And back: edgecert reads what openssl wrote, revokes another serial and
  // signs again; openssl ca still accepts the folder.
  REQUIRE(issuer->revoke(leaves[1], RevocationReason::kSuperseded));
  auto index = *env->read_file(ca + "/index.txt", kTestRead);
  CHECK(index.find("R\t") == 0);
  CHECK(index.find(",superseded\t1001\t") != std::string::npos);
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  REQUIRE(issuer->sign({"tokyo", "edge1",
                        make_csr(*key, "edge.example.com", {"edge.example.com"}).to_pem(),
                        spec::Digest::kSha256}));
  auto again =
      testing::run_command(fmt::format("openssl ca -config {} -revoke {}/newcerts/1002.pem 2>&1 && "
                                       "openssl ca -config {} -gencrl -out {}/crl.pem 2>&1 && "
                                       "openssl crl -in {}/crl.pem -noout -text 2>&1",
                                       cnf, ca, cnf, ca, ca));
  INFO(again.out);
  REQUIRE(again.status == 0);
  for (const char* serial : {"1000", "1001", "1002"})
    CHECK(again.out.find(std::string("Serial Number: ") + serial) != std::string::npos);
}

TEST_CASE("openssl-ca: garbage CSRs are refused with the node named", "[issuer]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  REQUIRE(init_openssl_ca(*env, dir.file("ca"), fast_ca()));
  auto issuer = make_openssl_ca_issuer(*env, dir.file("ca"));
  auto out = issuer->sign({"tokyo", "edge9", "not a csr", spec::Digest::kSha256});
  REQUIRE_FALSE(out);
  CHECK(out.error().message.find("edge9") != std::string::npos);
  // Nothing was consumed.
  CHECK(*env->read_file(dir.file("ca/serial"), kTestRead) == "1000\n");
}

TEST_CASE("cli: ca init creates a CA, refuses to overwrite, --if-missing is idempotent",
          "[issuer][cli]") {
  testing::TempDir dir;
  std::string ca = dir.file("ca");
  auto r = testing::run_cli({"ca", "init", ca, "--key", "ecdsa:256", "--cn", "Demo CA"});
  CHECK(r.status == 0);
  CHECK(r.out.find("Created CA in " + ca) != std::string::npos);
  CHECK(r.out.find("PRIVATE KEY") == std::string::npos);
  auto again = testing::run_cli({"ca", "init", ca});
  CHECK(again.status == 1);
  CHECK(again.err.find("already exists") != std::string::npos);
  CHECK(testing::run_cli({"ca", "init", ca, "--if-missing"}).status == 0);
}

TEST_CASE("openssl-ca: a signer killed while holding the CA lock does not block the next",
          "[issuer][lock]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string ca = dir.file("ca");
  REQUIRE(init_openssl_ca(*env, ca, fast_ca()));
  // A lock file as a killed signer leaves it, and another process that holds
  // the lock and is then killed -9 mid-"signature".
  REQUIRE(env->write_file_atomic(ca + "/.edgecert-ca.lock", "1798761600\n", 0600));
  auto held = testing::run_command(
      fmt::format("flock -o {0} sleep 30 & pid=$!; "
                  "for i in $(seq 100); do flock -n {0} true || break; sleep 0.05; done; "
                  "kill -9 $pid; wait $pid 2>/dev/null; true",
                  ca + "/.edgecert-ca.lock"));
  REQUIRE(held.status == 0);

  auto issuer = make_openssl_ca_issuer(*env, ca);
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  auto csr = make_csr(*key, "edge.example.com", {"edge.example.com"});
  auto started = std::chrono::steady_clock::now();
  auto out = issuer->sign({"tokyo", "edge1", csr.to_pem(), spec::Digest::kSha256});
  REQUIRE(out);
  CHECK(out->state == SignState::kIssued);
  // No waiting for a dead holder (the old timestamp lock waited 10 s).
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("openssl-ca: a live holder makes the signer wait, then name the lock", "[issuer][lock]") {
  testing::TempDir dir;
  MemoryEnv env;
  std::string ca = "/ca";
  REQUIRE(init_openssl_ca(env, ca, fast_ca()));
  auto holder = env.lock_file(ca + "/.edgecert-ca.lock");
  REQUIRE(holder);
  auto issuer = make_openssl_ca_issuer(env, ca);
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  auto csr = make_csr(*key, "edge.example.com", {"edge.example.com"});
  auto before = env.now();
  auto out = issuer->sign({"tokyo", "edge1", csr.to_pem(), spec::Digest::kSha256});
  REQUIRE_FALSE(out);
  CHECK(out.error().code == ErrorCode::kConflict);
  CHECK(out.error().message.find("/ca/.edgecert-ca.lock") != std::string::npos);
  CHECK(env.now() - before >= std::chrono::seconds(10));
  CHECK(*env.read_file(ca + "/serial", kTestRead) == "1000\n");  // nothing was signed
  holder->reset();
  auto again = issuer->sign({"tokyo", "edge1", csr.to_pem(), spec::Digest::kSha256});
  REQUIRE(again);
  CHECK(again->state == SignState::kIssued);
}

TEST_CASE("openssl-ca: concurrent signers through one CA get distinct serials", "[issuer][lock]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  std::string ca = dir.file("ca");
  REQUIRE(init_openssl_ca(*env, ca, fast_ca()));
  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  REQUIRE(key);
  std::string pem = make_csr(*key, "edge.example.com", {"edge.example.com"}).to_pem();
  std::vector<std::string> serials(6);
  std::vector<std::string> errors(6);
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < serials.size(); ++i) {
      threads.emplace_back([&, i] {
        // One issuer object per thread, as two edgecert processes would have.
        auto issuer = make_openssl_ca_issuer(*env, ca);
        auto out = issuer->sign({"tokyo", fmt::format("edge{}", i), pem, spec::Digest::kSha256});
        if (out && out->state == SignState::kIssued)
          serials[i] = out->chain.front().serial_hex();
        else
          errors[i] = out ? "not issued" : out.error().message;
      });
    }
    for (auto& t : threads) t.join();
  }
  for (const auto& e : errors) CHECK(e.empty());
  std::set<std::string> distinct(serials.begin(), serials.end());
  CHECK(distinct.size() == serials.size());
  CHECK(*env->read_file(ca + "/serial", kTestRead) == "1006\n");
}
