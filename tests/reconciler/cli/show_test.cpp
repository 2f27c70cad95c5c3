// `edgecert show`: text and JSON views of certificates, CSRs, CRLs and keys.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "providers/pki/crl.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;
using edgecert::testing::run_cli;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("show: a certificate bundle in openssl's field names, with checks", "[show]") {
  TestPki p;
  MemoryEnv env(test_now());
  env.put("/in/chain.pem", p.leaf.to_pem() + p.inter.to_pem() + p.root.to_pem());
  auto r = run_cli({"show", "/in/chain.pem"}, &env);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  for (const char* label :
       {"/in/chain.pem: block 0: certificate (PEM)", "/in/chain.pem: block 2: certificate (PEM)",
        "Subject: CN=edge1.example.com,O=Example Ltd", "Issuer: CN=Test Issuing CA",
        "Serial Number: 1001", "Not Before: ", "Not After : ",
        "Public Key Algorithm: id-ecPublicKey", "Public-Key: (256 bit)", "NIST CURVE: P-256",
        "X509v3 Subject Alternative Name: DNS:edge1.example.com, DNS:cluster.example.com",
        "X509v3 Extended Key Usage: TLS Web Server Authentication, TLS Web Client Authentication",
        "X509v3 Basic Constraints: CA:FALSE", "X509v3 Basic Constraints: CA:TRUE",
        "X509v3 Key Usage: Certificate Sign, CRL Sign",
        "X509v3 Authority Key Identifier: ", "SHA256 Fingerprint: "}) {
    CHECK(has(r.out, label));
  }
  CHECK(has(r.out, "Checks: ok"));
}

TEST_CASE("show: findings are listed under the object", "[show]") {
  TestPki p;
  IssueOptions o = TestPki::default_issue();
  o.extended_key_usage = {"serverAuth"};
  Certificate le = p.issue(p.leaf_key, {"*.example.com"}, "5001", o);
  MemoryEnv env(test_now());
  env.put("/in/le.pem", le.to_pem());
  auto r = run_cli({"show", "/in/le.pem"}, &env);
  CHECK(r.status == 0);  // findings inform; they do not fail `show`
  CHECK(has(r.out, "error: common name '*.example.com' is a wildcard"));
  CHECK(has(r.out, "[wildcard-name]"));
  CHECK(has(r.out, "warning: certificate lacks the clientAuth extended key usage"));

  // --key checks the match.
  std::string other = must(p.root_key.to_pem()).str();
  env.put("/in/other.key", other);
  auto m = run_cli({"show", "--key", "/in/other.key", "/in/le.pem"}, &env);
  CHECK(has(m.out, "[key-mismatch]"));
}

TEST_CASE("show --key: a key that does not match the certificate exits 1, text and JSON",
          "[show]") {
  TestPki p;
  MemoryEnv env(test_now());
  env.put("/in/leaf.pem", p.leaf.to_pem());
  env.put("/in/leaf.key", must(p.leaf_key.to_pem()).str());
  env.put("/in/other.key", must(p.root_key.to_pem()).str());

  auto text = run_cli({"show", "--key", "/in/other.key", "/in/leaf.pem"}, &env);
  INFO(text.out << text.err);
  CHECK(text.status == 1);
  CHECK(has(text.out, "[key-mismatch]"));
  CHECK(has(text.err,
            "/in/other.key does not match the certificate 'edge1.example.com' in "
            "/in/leaf.pem"));

  auto json = run_cli({"show", "-o", "json", "--key", "/in/other.key", "/in/leaf.pem"}, &env);
  INFO(json.out << json.err);
  CHECK(json.status == 1);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["ok"] == false);

  // The right key: exit 0, no mismatch.
  auto good = run_cli({"show", "-o", "json", "--key", "/in/leaf.key", "/in/leaf.pem"}, &env);
  INFO(good.out << good.err);
  CHECK(good.status == 0);
  CHECK(nlohmann::json::parse(good.out)["ok"] == true);
  CHECK_FALSE(has(good.out, "key-mismatch"));
}

TEST_CASE("show: keys show type and size only, never key material", "[show]") {
  PrivateKey key = must(PrivateKey::generate(pki::KeyAlgorithm::kRsa, 2048));
  std::string pem = must(key.to_pem()).str();
  MemoryEnv env(test_now());
  env.put("/in/server.key", pem.substr(0, pem.size() - 1));  // no trailing newline
  auto r = run_cli({"show", "/in/server.key"}, &env);
  CHECK(r.status == 0);
  CHECK(has(r.out, "/in/server.key: block 0: private-key (PEM)"));
  CHECK(has(r.out, "Private-Key: (2048 bit, RSA)"));
  CHECK(has(r.out, "[key-missing-trailing-newline]"));
  // No line of the base64 body appears anywhere.
  std::string body_line = pem.substr(pem.find('\n') + 1, 64);
  CHECK_FALSE(has(r.out, body_line));
  CHECK_FALSE(has(r.out, "BEGIN"));

  auto j = run_cli({"show", "--output", "json", "/in/server.key"}, &env);
  CHECK(j.status == 0);
  CHECK_FALSE(has(j.out, body_line));
  auto doc = nlohmann::json::parse(j.out);
  const auto& obj = doc["files"][0]["objects"][0];
  CHECK(obj["kind"] == "private-key");
  CHECK(obj["encrypted"] == false);
  CHECK(obj["key"]["bits"] == 2048);
  CHECK(obj["key"]["algorithm"] == "RSA");
}

TEST_CASE("show: CSRs, CRLs, DER files and JSON output", "[show]") {
  TestPki p;
  CsrOptions co;
  co.common_name = "edge1.example.com";
  co.dns_names = {"edge1.example.com"};
  auto csr = must(CertificateRequest::create(p.leaf_key, co));
  CrlOptions cro;
  cro.last_update = test_now() - kDay;
  cro.next_update = test_now() + kDay;
  cro.revoked = {{"1001", test_now() - kDay}};
  Crl crl = must(Crl::create(p.inter, p.inter_key, cro));

  MemoryEnv env(test_now());
  env.put("/in/req.csr", csr.to_pem());
  env.put("/in/list.crl", crl.to_der());
  env.put("/in/root.der", p.root.to_der());
  auto r = run_cli({"show", "/in/req.csr", "/in/list.crl", "/in/root.der"}, &env);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(has(r.out, "/in/req.csr: block 0: csr (PEM)"));
  CHECK(has(r.out, "Requested Extensions:"));
  CHECK(has(r.out, "/in/list.crl: block 0: crl (DER)"));
  CHECK(has(r.out, "Revoked Certificates:"));
  CHECK(has(r.out, "Serial Number: 1001"));
  CHECK(has(r.out, "/in/root.der: block 0: certificate (DER)"));

  auto j = run_cli({"show", "-o", "json", "/in/req.csr", "/in/list.crl", "/in/root.der"}, &env);
  CHECK(j.status == 0);
  auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["ok"] == true);
  REQUIRE(doc["files"].size() == 3);
  CHECK(doc["files"][0]["objects"][0]["kind"] == "csr");
  CHECK(doc["files"][0]["objects"][0]["subjectAltNames"]["dns"][0] == "edge1.example.com");
  CHECK(doc["files"][1]["objects"][0]["revoked"][0]["serial"] == "1001");
  const auto& root = doc["files"][2]["objects"][0];
  CHECK(root["encoding"] == "DER");
  CHECK(root["sha256Fingerprint"] == p.root.sha256_fingerprint());
  CHECK(root["basicConstraints"]["ca"] == true);
  CHECK(root["checkedAs"] == "ca");
  CHECK(root["findings"].empty());
}

TEST_CASE("show --issuer: a CRL's signature and freshness under Checks", "[show][crl]") {
  TestPki p;
  TestPki other;  // same names, other keys: what a forger holds
  auto crl_for = [](const TestPki& ca, TimePoint last, TimePoint next) {
    CrlOptions o;
    o.last_update = last;
    o.next_update = next;
    o.revoked = {{"1001", test_now() - kDay, "keyCompromise"}};
    return must(Crl::create(ca.inter, ca.inter_key, o));
  };
  MemoryEnv env(test_now());
  env.put("/in/ok.crl", crl_for(p, test_now() - kDay, test_now() + kDay).to_der());
  env.put("/in/forged.crl", crl_for(other, test_now() - kDay, test_now() + kDay).to_pem());
  env.put("/in/stale.crl", crl_for(p, test_now() - 9 * kDay, test_now() - 2 * kDay).to_der());
  env.put("/in/future.crl", crl_for(p, test_now() + kDay, test_now() + 9 * kDay).to_der());
  env.put("/in/inter.pem", p.inter.to_pem());
  env.put("/in/root.pem", p.root.to_pem());

  auto show = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "show");
    return run_cli(args, &env);
  };
  // Signed by the CA given, fresh: ok.
  auto ok = show({"--issuer", "/in/inter.pem", "/in/ok.crl"});
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  CHECK(has(ok.out, "Signature: valid, signed by CN=Test Issuing CA,O=Example Ltd,C=GB"));
  CHECK(has(ok.out, "X509v3 CRL Reason Code: keyCompromise"));
  CHECK(has(ok.out, "    Checks: ok\n"));

  // Same issuer name, another key: forged.
  auto forged = show({"--issuer", "/in/inter.pem", "/in/forged.crl"});
  CHECK(forged.status == 0);  // show is for looking
  CHECK(has(forged.out, "Signature: DOES NOT VERIFY"));
  CHECK(has(forged.out, "error: the signature does not verify with the key of"));
  CHECK(has(forged.out, "[crl-forged]"));
  CHECK_FALSE(has(forged.out, "Checks: ok"));

  // The CA given is not the CRL's issuer.
  auto no_issuer = show({"--issuer", "/in/root.pem", "/in/ok.crl"});
  CHECK(has(no_issuer.out, "no certificate in /in/root.pem is the CRL's issuer"));
  CHECK(has(no_issuer.out, "[crl-no-issuer]"));

  // Stale and not yet valid, with the issuer given and without it.
  for (bool with_issuer : {true, false}) {
    INFO("with issuer: " << with_issuer);
    std::vector<std::string> args = {"/in/stale.crl", "/in/future.crl"};
    if (with_issuer) args.insert(args.begin(), {"--issuer", "/in/inter.pem"});
    auto r = show(args);
    CHECK(r.status == 0);
    CHECK(has(r.out,
              "error: stale: nextUpdate 2026-12-30 00:00:00 UTC has passed; the nodes treat "
              "every certificate of CN=Test Issuing CA,O=Example Ltd,C=GB as invalid"));
    CHECK(has(r.out, "[crl-stale]"));
    CHECK(has(r.out, "error: not yet valid: thisUpdate 2027-01-02 00:00:00 UTC is in the future"));
    CHECK(has(r.out, "[crl-not-yet-valid]"));
    CHECK(has(r.out, "[crl-signature-not-checked]") == !with_issuer);
  }

  // Without --issuer a fresh CRL is not "ok": the signature was not checked.
  auto plain = show({"/in/ok.crl"});
  CHECK(has(plain.out, "Signature: not checked (no --issuer)"));
  CHECK(has(plain.out,
            "warning: signature not checked: give the CA that signs this CRL with "
            "--issuer CA.pem [crl-signature-not-checked]"));
  CHECK_FALSE(has(plain.out, "Checks: ok"));

  // JSON: the verdicts by name.
  auto j = show(
      {"-o", "json", "--issuer", "/in/inter.pem", "/in/ok.crl", "/in/forged.crl", "/in/stale.crl"});
  auto doc = nlohmann::json::parse(j.out);
  const auto& okj = doc["files"][0]["objects"][0];
  CHECK(okj["signature"]["verdict"] == "valid");
  CHECK(okj["signature"]["signer"] == p.inter.subject());
  CHECK(okj["freshness"] == "fresh");
  CHECK(okj["revoked"][0]["reason"] == "keyCompromise");
  CHECK(doc["files"][1]["objects"][0]["signature"]["verdict"] == "forged");
  CHECK(doc["files"][2]["objects"][0]["freshness"] == "stale");
  auto jn = show({"-o", "json", "/in/ok.crl"});
  CHECK(nlohmann::json::parse(jn.out)["files"][0]["objects"][0]["signature"]["verdict"] ==
        "not-checked");

  // An --issuer file that cannot be read or holds no certificate: exit 1.
  env.put("/in/junk.pem", "not a certificate\n");
  for (const char* bad : {"/in/missing.pem", "/in/junk.pem"}) {
    INFO(bad);
    auto r = show({"--issuer", bad, "/in/ok.crl"});
    CHECK(r.status == 1);
    CHECK(has(r.err, std::string("edgecert: error: --issuer ") + bad));
    CHECK(r.out.empty());
  }
}

TEST_CASE("show: unparsable input exits 1 with PATH: block N", "[show]") {
  TestPki p;
  MemoryEnv env(test_now());
  env.put("/in/bad.pem",
          p.root.to_pem() + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  env.put("/in/good.pem", p.root.to_pem());
  env.put("/in/junk.bin", std::string("\x30\x03\x02\x01", 4));
  env.put("/in/odd.pem", "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n");
  auto r = run_cli(
      {"show", "/in/bad.pem", "/in/good.pem", "/in/junk.bin", "/in/odd.pem", "/in/missing.pem"},
      &env);
  CHECK(r.status == 1);
  CHECK(has(r.err, "/in/bad.pem: block 1: not a certificate"));
  CHECK(has(r.err, "/in/junk.bin: block 0: "));
  CHECK(has(r.err, "/in/odd.pem: block 0: unsupported PEM block 'FOO'"));
  CHECK(has(r.err, "/in/missing.pem: "));
  CHECK(has(r.out, "/in/good.pem: block 0: certificate (PEM)"));  // the rest is still shown

  auto j = run_cli({"show", "--output", "json", "/in/bad.pem"}, &env);
  CHECK(j.status == 1);
  auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["ok"] == false);
  CHECK(has(doc["files"][0]["error"].get<std::string>(), "/in/bad.pem: block 1:"));
}

TEST_CASE("show: the real binary decodes a PEM file from disk", "[show]") {
  TestPki p;
  TempDir dir;
  std::string path = dir.write("root.pem", p.root.to_pem());
  auto r = edgecert::testing::run_command(std::string(EDGECERT_BINARY) + " show " + path);
  CHECK(r.status == 0);
  CHECK(has(r.out, "Subject: CN=Test Root CA,O=Example Ltd,C=GB"));
}

TEST_CASE("show: decodes every certificate and CRL shipped under examples/", "[show]") {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(edgecert::testing::source_path("examples"))) {
    auto ext = entry.path().extension().string();
    // examples/*/ca/ is a git-ignored demo CA that may exist locally.
    if (entry.path().string().find("/ca/") != std::string::npos) continue;
    if (ext == ".pem" || ext == ".der") files.push_back(entry.path().string());
  }
  REQUIRE(files.size() >= 5);
  for (const auto& f : files) {
    INFO(f);
    auto r = edgecert::testing::run_cli({"show", f});
    CHECK(r.status == 0);
    CHECK(r.out.find(": block 0: ") != std::string::npos);
    CHECK(r.out.find("Checks:") != std::string::npos);
  }
}
