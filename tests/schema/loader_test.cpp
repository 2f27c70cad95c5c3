// Decoder behaviour beyond the corpus: defaults, path resolution, the
// positions map, secrets staying out of messages, and the validate CLI's
// output formats.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "schema/loader.h"
#include "tests/schema/spec_text.h"
#include "tests/support/test_support.h"

using namespace std::chrono_literals;
using edgecert::MemoryEnv;
using edgecert::schema::load_spec_text;
namespace spec = edgecert::spec;

namespace {

const char* const kMinimal = edgecert::test::kMinimalSpec;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string all_messages(const edgecert::Diagnostics& d) {
  return edgecert::test::diagnostics_text(d);
}

}  // namespace

TEST_CASE("loader: a minimal spec gets every default", "[schema][loader]") {
  MemoryEnv env;
  auto r = load_spec_text(kMinimal, "/specs/tokyo/cluster.yaml", env);
  INFO(all_messages(r.diagnostics));
  REQUIRE(r.ok());
  const spec::Spec& s = *r.spec;
  CHECK(s.api_version == "edgecert/v1");
  CHECK(s.kind == "ExpresswayCluster");
  CHECK(s.name == "minimal");
  CHECK(s.path == "/specs/tokyo/cluster.yaml");
  CHECK(s.directory == "/specs/tokyo");
  CHECK(s.product == spec::Product::kExpresswayE);
  CHECK_FALSE(s.cluster_fqdn);
  CHECK(s.tls_verification == spec::TlsVerification::kEnforce);
  REQUIRE(s.peers.size() == 1);
  CHECK(s.peers[0].name == "edge1");
  CHECK(s.peers[0].fqdn == "edge1.example.com");
  CHECK(s.peers[0].endpoint == "sim://edge1");
  CHECK_FALSE(s.clustered());

  const spec::ServerCertificate& sc = s.server_certificate;
  CHECK(sc.key.algorithm == spec::KeyAlgorithm::kRsa);
  CHECK(sc.key.size == 4096);
  CHECK(sc.digest == spec::Digest::kSha256);
  CHECK(sc.roles.empty());
  CHECK_FALSE(sc.unified_cm_registration_domains);
  CHECK_FALSE(sc.renew_before);
  CHECK(sc.renew_at_lifetime_fraction == Approx(2.0 / 3.0));
  CHECK(sc.key_rotation == spec::KeyRotation::kRotate);
  REQUIRE(std::holds_alternative<spec::OpensslCaIssuer>(sc.issuer));
  CHECK(std::get<spec::OpensslCaIssuer>(sc.issuer).directory == "/specs/tokyo/ca");

  // Absent sections are "not managed".
  CHECK_FALSE(s.access);
  CHECK_FALSE(s.trusted_cas);
  CHECK_FALSE(s.crl);
  CHECK_FALSE(s.revocation_checking);
  CHECK_FALSE(s.acme);

  CHECK(s.rollout.order == std::vector<std::string>{"edge1"});
  CHECK(s.rollout.health_timeout == 10min);
  CHECK(s.rollout.relax_tls_verification);
  CHECK(s.rollout.windows.empty());
  CHECK_FALSE(s.rollout.revoke_superseded);
}

TEST_CASE("loader: defaults inside present sections", "[schema][loader]") {
  MemoryEnv env;
  env.put("/usr/share/zoneinfo/UTC", "TZif2 fake zone data");
  std::string text = std::string(kMinimal) + R"(    key: {algorithm: ecdsa}
    unifiedCmRegistrationDomains: {domains: [example.com]}
    roles: [mra]
  revocationChecking: {enabled: true}
  acme:
    provider: {name: le, directory: https://acme.example.net/dir}
    email: pki@example.com
    acceptTermsOfService: true
  crl:
    automaticUpdates: {enabled: true, distributionPoints: [https://crl.example.com/a.crl]}
  rollout:
    windows: [{days: [sun, sat], start: "01:30", duration: 4h}]
)";
  auto r = load_spec_text(text, "/s/c.yaml", env);
  INFO(all_messages(r.diagnostics));
  REQUIRE(r.ok());
  const spec::Spec& s = *r.spec;
  CHECK(s.server_certificate.key.algorithm == spec::KeyAlgorithm::kEcdsa);
  CHECK(s.server_certificate.key.size == 256);
  REQUIRE(s.server_certificate.unified_cm_registration_domains);
  CHECK(s.server_certificate.unified_cm_registration_domains->format ==
        spec::DomainFormat::kCollabEdgeDns);
  REQUIRE(s.revocation_checking);
  CHECK(s.revocation_checking->ocsp);
  CHECK(s.revocation_checking->crl);
  CHECK(s.revocation_checking->cdp_downloads);
  CHECK(s.revocation_checking->fallback == spec::RevocationFallback::kTreatAsNotRevoked);
  REQUIRE(s.acme);
  CHECK(s.acme->mode == spec::AcmeMode::kManual);
  CHECK(s.acme->renew_key == spec::KeyRotation::kRotate);
  CHECK_FALSE(s.acme->schedule);
  REQUIRE(s.crl);
  REQUIRE(s.crl->automatic_updates);
  CHECK(s.crl->automatic_updates->daily_update_minute == 0);
  CHECK_FALSE(s.crl->manual_file);
  REQUIRE(s.rollout.windows.size() == 1);
  CHECK(s.rollout.windows[0].timezone == "UTC");
  CHECK(s.rollout.windows[0].days == std::vector<spec::Weekday>{0, 6});
  CHECK(s.rollout.windows[0].start_minute == 90);
  CHECK(s.rollout.windows[0].duration == 4h);
}

TEST_CASE("loader: relative paths resolve against the spec's folder", "[schema][loader]") {
  MemoryEnv env;
  std::string root_pem = read_text(edgecert::testing::test_data("schema/corpus/files/root.pem"));
  env.put("/specs/tokyo/trust/root.pem", root_pem);
  env.put("/etc/edgecert/mgmt-ca.pem", root_pem);
  env.put("/specs/tokyo/secrets/password", "not read by validation");
  env.put("/specs/tokyo/crl/manual.pem",
          read_text(edgecert::testing::test_data("schema/corpus/files/manual-crl.pem")));
  std::string text = std::string(kMinimal) + R"(  access:
    username: admin
    passwordFrom: file:secrets/password
    caBundle: /etc/edgecert/mgmt-ca.pem
  trustedCAs:
    certificates: [trust/root.pem]
  crl:
    automaticUpdates: {enabled: true, distributionPoints: [https://pki.example.com/root.crl]}
    manualFile: crl/manual.pem
    caBundle: trust/root.pem
  revocationChecking: {enabled: true}
)";
  // https endpoint so that access is used.
  text.replace(text.find("sim://edge1"), 11, "https://edge1.example.com:8443");
  auto r = load_spec_text(text, "/specs/tokyo/cluster.yaml", env);
  INFO(all_messages(r.diagnostics));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  const spec::Spec& s = *r.spec;
  REQUIRE(s.access);
  CHECK(s.access->password_from == "file:/specs/tokyo/secrets/password");
  CHECK(s.access->ca_bundle == std::optional<std::string>("/etc/edgecert/mgmt-ca.pem"));
  REQUIRE(s.trusted_cas);
  CHECK(s.trusted_cas->certificates == std::vector<std::string>{"/specs/tokyo/trust/root.pem"});
  CHECK(s.crl->manual_file == std::optional<std::string>("/specs/tokyo/crl/manual.pem"));
  CHECK(s.crl->ca_bundle == std::optional<std::string>("/specs/tokyo/trust/root.pem"));
}

TEST_CASE("loader: the manual CRL is PEM or DER and under 16 MB", "[schema][loader]") {
  MemoryEnv env;
  std::string pem = read_text(edgecert::testing::test_data("schema/corpus/files/manual-crl.pem"));
  std::string der = read_text(edgecert::testing::test_data("schema/corpus/files/manual-crl.der"));
  REQUIRE(der.rfind("-----", 0) == std::string::npos);
  auto spec_with = [](const std::string& file) {
    return std::string(kMinimal) + "  crl:\n    manualFile: " + file +
           "\n  revocationChecking: {enabled: true}\n";
  };
  env.put("/s/crl.pem", pem);
  env.put("/s/crl.der", der);
  for (const char* f : {"crl.pem", "crl.der"}) {
    INFO(f);
    auto r = load_spec_text(spec_with(f), "/s/c.yaml", env);
    INFO(all_messages(r.diagnostics));
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
  }
  // 16 MB exactly is refused (the guide says "under 16 MB"); the size is
  // checked before parsing, so padding a real CRL is enough.
  env.put("/s/big.pem", pem + std::string(16 * 1024 * 1024 - pem.size(), '\n'));
  auto big = load_spec_text(spec_with("big.pem"), "/s/c.yaml", env);
  CHECK_FALSE(big.ok());
  CHECK(all_messages(big.diagnostics)
            .find("/s/c.yaml:14:5: error: spec.crl.manualFile: "
                  "'/s/big.pem' is 16777216 bytes; Expressway accepts "
                  "manual CRL files under 16 MB") != std::string::npos);
}

TEST_CASE("loader: crl.caBundle is a readable PEM bundle of certificates", "[schema][loader]") {
  MemoryEnv env;
  std::string root_pem = read_text(edgecert::testing::test_data("schema/corpus/files/root.pem"));
  std::string root_der = read_text(edgecert::testing::test_data("schema/corpus/files/root.der"));
  env.put("/s/ok.pem", root_pem + root_pem);
  env.put("/s/root.der", root_der);
  env.put("/s/junk.pem", "hello\n");
  auto spec_with = [](const std::string& file) {
    return std::string(kMinimal) +
           "  crl:\n    automaticUpdates: {enabled: true, distributionPoints: "
           "[https://pki.example.com/a.crl]}\n    caBundle: " +
           file + "\n  revocationChecking: {enabled: true}\n";
  };
  auto ok = load_spec_text(spec_with("ok.pem"), "/s/c.yaml", env);
  INFO(all_messages(ok.diagnostics));
  CHECK(ok.ok());
  CHECK(ok.diagnostics.empty());
  CHECK(ok.spec->crl->ca_bundle == std::optional<std::string>("/s/ok.pem"));

  for (const char* bad : {"root.der", "junk.pem", "missing.pem"}) {
    INFO(bad);
    auto r = load_spec_text(spec_with(bad), "/s/c.yaml", env);
    CHECK_FALSE(r.ok());
    REQUIRE(r.diagnostics.error_count() == 1);
    CHECK(all_messages(r.diagnostics).find("/s/c.yaml:15:5: error: spec.crl.caBundle: ") !=
          std::string::npos);
  }
  // Structure-only loads do not open it.
  edgecert::schema::LoadOptions opts;
  opts.check_files = false;
  CHECK(load_spec_text(spec_with("missing.pem"), "/s/c.yaml", env, opts).ok());
}

TEST_CASE("loader: revocation checking against the CRL sources", "[schema][loader]") {
  MemoryEnv env;
  env.put("/s/crl.pem",
          read_text(edgecert::testing::test_data("schema/corpus/files/manual-crl.pem")));
  auto load = [&](const std::string& extra) {
    return load_spec_text(std::string(kMinimal) + extra, "/s/c.yaml", env);
  };
  // Each source alone satisfies CRL checking with cdpDownloads off.
  for (const char* crl : {"  crl: {manualFile: crl.pem}\n",
                          "  crl: {automaticUpdates: {enabled: true, distributionPoints: "
                          "[http://pki.example.com/a.crl]}}\n"}) {
    INFO(crl);
    auto r =
        load(std::string(crl) + "  revocationChecking: {enabled: true, cdpDownloads: false}\n");
    INFO(all_messages(r.diagnostics));
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
  }
  // OCSP only: CRL sources are not needed.
  auto ocsp = load("  crl: {}\n  revocationChecking: {enabled: true, crl: false}\n");
  CHECK(ocsp.diagnostics.empty());
  // Revocation checking off and no CRL sources: nothing to say.
  CHECK(load("  revocationChecking: {enabled: false}\n").diagnostics.empty());
  // No source, CDP downloads off: refused; the message says what fallback
  // treat-as-revoked does, and names the ways out.
  auto none = load(
      "  crl: {}\n  revocationChecking: {enabled: true, cdpDownloads: false, "
      "fallback: treat-as-revoked}\n");
  CHECK_FALSE(none.ok());
  std::string m = all_messages(none.diagnostics);
  CHECK(m.find("/s/c.yaml:14:") != std::string::npos);
  CHECK(m.find("treat-as-revoked rejects every peer") != std::string::npos);
  CHECK(m.find("turn on cdpDownloads") != std::string::npos);
  // A bad distribution point is its own error, not also "no CRL source".
  auto bad_dp = load(
      "  crl: {automaticUpdates: {enabled: true, distributionPoints: "
      "[ftp://x.example.com/a.crl]}}\n  revocationChecking: {enabled: true, "
      "cdpDownloads: false}\n");
  CHECK(bad_dp.diagnostics.error_count() == 1);
  CHECK(all_messages(bad_dp.diagnostics).find("CRL checking is on") == std::string::npos);
}

TEST_CASE("loader: check_files=false skips the file system", "[schema][loader]") {
  MemoryEnv env;
  std::string text = std::string(kMinimal) + "  trustedCAs:\n    certificates: [trust/none.pem]\n";
  auto with = load_spec_text(text, "/s/c.yaml", env);
  CHECK_FALSE(with.ok());
  edgecert::schema::LoadOptions opts;
  opts.check_files = false;
  auto without = load_spec_text(text, "/s/c.yaml", env, opts);
  INFO(all_messages(without.diagnostics));
  CHECK(without.ok());
}

TEST_CASE("loader: positions of keys and list items are recorded", "[schema][loader]") {
  MemoryEnv env;
  std::string text = R"(apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: pos
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  peers:
    - name: edge1
      fqdn: edge1.example.com
      endpoint: sim://edge1
    - name: edge2
      fqdn: edge2.example.com
      endpoint: sim://edge2
  serverCertificate:
    roles: [mra, b2b]
    issuer: {type: openssl-ca, directory: ca}
)";
  auto r = load_spec_text(text, "/s/c.yaml", env);
  INFO(all_messages(r.diagnostics));
  REQUIRE(r.ok());
  const spec::SourceMap& p = r.spec->positions;
  auto at = [&](const std::string& k) {
    spec::SourcePos pos = p.find(k);
    return std::to_string(pos.line) + ":" + std::to_string(pos.column);
  };
  CHECK(at("apiVersion") == "1:1");
  CHECK(at("metadata.name") == "4:3");
  CHECK(at("spec.peers") == "8:3");
  CHECK(at("spec.peers.1") == "12:7");
  CHECK(at("spec.peers.1.fqdn") == "13:7");
  CHECK(at("spec.serverCertificate.roles.1") == "16:18");
  CHECK(at("spec.serverCertificate.issuer.directory") == "17:32");
  // Unknown keys fall back to the nearest recorded ancestor.
  CHECK(at("spec.peers.1.fqdn.nothing") == "13:7");
}

TEST_CASE("loader: YAML syntax errors are positioned", "[schema][loader]") {
  MemoryEnv env;
  auto r = load_spec_text("apiVersion: edgecert/v1\nkind: [ExpresswayCluster\nmetadata: {}\n",
                          "/s/c.yaml", env);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.diagnostics.items().size() == 1);
  const auto& d = r.diagnostics.items()[0];
  CHECK(d.line >= 2);
  CHECK(d.column >= 1);
  CHECK(d.message.find("YAML syntax error") != std::string::npos);
}

TEST_CASE("loader: a quoted number is a string, a plain one is not", "[schema][loader]") {
  MemoryEnv env;
  std::string text = kMinimal;
  text.replace(text.find("name: minimal"), 13, "name: \"123\"");
  CHECK(load_spec_text(text, "/s/c.yaml", env).ok());
  text.replace(text.find("name: \"123\""), 11, "name: 123");
  auto r = load_spec_text(text, "/s/c.yaml", env);
  REQUIRE_FALSE(r.ok());
  CHECK(all_messages(r.diagnostics).find("expected a string, got an integer") != std::string::npos);
}

TEST_CASE("loader: secrets never appear in diagnostics", "[schema][loader]") {
  MemoryEnv env;
  std::string text = std::string(kMinimal) + R"(  access:
    username: admin
    password: TopSecret-42
    caBundle: ca.pem
)";
  auto r = load_spec_text(text, "/s/c.yaml", env);
  REQUIRE_FALSE(r.ok());
  std::string msgs = all_messages(r.diagnostics);
  CHECK(msgs.find("inline passwords are not allowed") != std::string::npos);
  CHECK(msgs.find("TopSecret-42") == std::string::npos);

  // A password typed where the reference belongs is not quoted back either.
  for (const char* value : {"987654321", "hunter2-Secret", "\"quoted Secret\""}) {
    std::string t =
        std::string(kMinimal) + "  access:\n    username: admin\n    passwordFrom: " + value + "\n";
    auto r2 = load_spec_text(t, "/s/c.yaml", env);
    REQUIRE_FALSE(r2.ok());
    std::string m2 = all_messages(r2.diagnostics);
    INFO(m2);
    CHECK(m2.find("passwordFrom") != std::string::npos);
    CHECK(m2.find("987654321") == std::string::npos);
    CHECK(m2.find("Secret") == std::string::npos);
  }
}

TEST_CASE("loader: rollout windows need a real time zone file", "[schema][loader]") {
  MemoryEnv env;
  env.put("/usr/share/zoneinfo/Asia/Tokyo", "TZif2...");
  env.put("/usr/share/zoneinfo/Fake/Zone", "not a zone file");
  auto with_zone = [&](const std::string& tz) {
    return load_spec_text(std::string(kMinimal) +
                              "  rollout:\n    windows: [{days: [sat], start: \"01:00\", "
                              "duration: 4h, timezone: " +
                              tz + "}]\n",
                          "/s/c.yaml", env);
  };
  CHECK(with_zone("Asia/Tokyo").ok());
  CHECK_FALSE(with_zone("Fake/Zone").ok());
  CHECK_FALSE(with_zone("Europe/Nowhere").ok());
  CHECK_FALSE(with_zone("../../etc/passwd").ok());
}

TEST_CASE("loader: warnings do not stop loading", "[schema][loader]") {
  MemoryEnv env;
  std::string text = std::string(kMinimal) +
                     "  access: {username: admin, passwordFrom: env:EXPRESSWAY_PASSWORD}\n";
  auto r = load_spec_text(text, "/s/c.yaml", env);
  CHECK(r.ok());
  CHECK(r.diagnostics.warning_count() == 1);
  CHECK(all_messages(r.diagnostics).find("every peer has a sim:// endpoint") != std::string::npos);
}

TEST_CASE("validate --output json reports every diagnostic", "[schema][cli]") {
  edgecert::testing::TempDir dir;
  std::string bad = dir.write("bad.yaml", std::string(kMinimal) + "  colour: blue\n");
  auto r = edgecert::testing::run_cli({"validate", "--output", "json", bad});
  CHECK(r.status == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["valid"] == false);
  REQUIRE(j["diagnostics"].size() == 1);
  const auto& d = j["diagnostics"][0];
  CHECK(d["path"] == bad);
  CHECK(d["line"] == 13);
  CHECK(d["column"] == 3);
  CHECK(d["severity"] == "error");
  CHECK(d["message"].get<std::string>().find("unknown key 'colour' in spec") != std::string::npos);
  CHECK(j["specs"] == nlohmann::json::array({bad}));  // what was validated
  CHECK(j.size() == 3);
  CHECK(d.size() == 5);

  std::string good = dir.write("good.yaml", kMinimal);
  auto ok = edgecert::testing::run_cli({"validate", "-o", "json", good});
  CHECK(ok.status == 0);
  auto jg = nlohmann::json::parse(ok.out);
  CHECK(jg["valid"] == true);
  CHECK(jg["diagnostics"].empty());
}

TEST_CASE("validate --strict fails on warnings", "[schema][cli]") {
  edgecert::testing::TempDir dir;
  std::string warn = dir.write(
      "warn.yaml", std::string(kMinimal) +
                       "  access: {username: admin, passwordFrom: env:EXPRESSWAY_PASSWORD}\n");
  auto lax = edgecert::testing::run_cli({"validate", warn});
  CHECK(lax.status == 0);
  CHECK(lax.err.find(": warning: ") != std::string::npos);
  CHECK(lax.out == warn + ": valid\n");
  auto strict = edgecert::testing::run_cli({"validate", "--strict", warn});
  CHECK(strict.status == 1);
  auto strict_json = edgecert::testing::run_cli({"validate", "--strict", "-o", "json", warn});
  CHECK(strict_json.status == 1);
  auto j = nlohmann::json::parse(strict_json.out);
  CHECK(j["valid"] == false);
  CHECK(j["diagnostics"][0]["severity"] == "warning");
}

TEST_CASE("loader: a spec read from a git commit may not write into it", "[schema][loader]") {
  MemoryEnv env;
  std::string root_pem = read_text(edgecert::testing::test_data("schema/corpus/files/root.pem"));
  env.put("git:0123456789ab/edge/trust/root.pem", root_pem);
  env.put("/etc/edgecert/root.pem", root_pem);
  edgecert::schema::LoadOptions options;
  options.read_only_root = "git:0123456789ab";
  const std::string path = "git:0123456789ab/edge/cluster.yaml";

  SECTION("an issuer folder inside the commit is an error, positioned") {
    auto r = load_spec_text(kMinimal, path, env, options);
    const std::string text = all_messages(r.diagnostics);
    INFO(text);
    CHECK_FALSE(r.ok());
    CHECK(edgecert::test::contains(
        text,
        "git:0123456789ab/edge/cluster.yaml:12:43: error: spec.serverCertificate.issuer."
        "directory: 'ca' lies in the git commit the spec is read from (--git)"));
  }
  SECTION("absolute folders are fine; a CA file from the machine is a warning") {
    std::string text = std::string(kMinimal) + R"(  trustedCAs:
    certificates: [trust/root.pem, /etc/edgecert/root.pem]
  rollout:
    lockRepository: locks.git
)";
    text.replace(text.find("directory: ca"), 13, "directory: /var/lib/edgecert/ca");
    auto r = load_spec_text(text, path, env, options);
    const std::string msgs = all_messages(r.diagnostics);
    INFO(msgs);
    CHECK_FALSE(r.ok());  // the lock repository path is inside the commit
    CHECK(edgecert::test::contains(msgs, "lockRepository: 'locks.git' lies in the git commit"));
    CHECK(edgecert::test::contains(
        msgs,
        "warning: spec.trustedCAs.certificates[1]: '/etc/edgecert/root.pem' is read from "
        "this machine, not from the git commit (--git)"));
    CHECK_FALSE(edgecert::test::contains(msgs, "certificates[0]"));
  }
  SECTION("without a read-only root nothing of this applies") {
    auto r = load_spec_text(kMinimal, "/specs/edge/cluster.yaml", env);
    CHECK(r.ok());
  }
}
