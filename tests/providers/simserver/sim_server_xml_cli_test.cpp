// edgecert-sim's XML over HTTPS (§3.3) and CLI over SSH (§3.4) in-process,
// a restart refusing connections on both, and the `ui` side channel changing
// what REST, XML and the CLI report while the server runs.
#include <sstream>

#include <catch2/catch.hpp>

#include "providers/simserver/sim_ui.h"
#include "providers/wire/xacli.h"
#include "providers/wire/xml_status.h"
#include "tests/providers/simserver/sim_server_fixture.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;
using testing::SimServerFixture;
namespace xml = wire::xml;
namespace xacli = wire::xacli;

xml::StatusDocument status_of(SimServerFixture& f, const std::string& target, int index = 0) {
  auto r = f.get(target, index);
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type").value_or("").rfind("text/xml", 0) == 0);
  auto doc = xml::parse_status(r.body);
  INFO(r.body);
  REQUIRE(doc);
  return *doc;
}

std::vector<int> alarm_numbers(const xml::StatusDocument& doc) {
  std::vector<int> out;
  REQUIRE(doc.warnings);
  for (const auto& w : *doc.warnings) {
    auto n = xml::alarm_for_reason(w.reason);
    REQUIRE(n);
    out.push_back(*n);
  }
  return out;
}

xacli::Reply cli(ssh::Transport& t, const std::string& line) {
  auto r = t.run(line);
  INFO(line);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r);
  auto reply = xacli::parse_reply(*r, line);
  INFO(*r);
  REQUIRE(reply);
  return *reply;
}

std::string field(const xacli::Reply& r, const char* key) {
  REQUIRE_FALSE(r.results.empty());
  auto v = xacli::field(r.results.front().fields, key, "test");
  REQUIRE(v);
  return v->text;
}

// `edgecert-sim ui` in-process: exit status, and what it printed.
std::pair<int, std::string> ui(SimServerFixture& f, std::vector<std::string> args) {
  std::vector<std::string> all = {"--state", f.state, "edge1"};
  all.insert(all.end(), args.begin(), args.end());
  std::ostringstream out, err;
  int rc = simserver::run_ui(default_env(), all, out, err);
  return {rc, out.str() + err.str()};
}

}  // namespace

TEST_CASE("simserver XML: SystemUnit, Warnings, status.xml, XPathError, alternates",
          "[simserver][xml]") {
  SimServerFixture f;
  REQUIRE(f.admin("edge1").set_software_version("X15.0.2"));
  REQUIRE(f.admin("edge1").set_product(node::Product::kExpresswayC));

  auto su = status_of(f, "/getxml?location=/Status/SystemUnit");
  CHECK(su.product_attribute == "TANDBERG VCS");
  CHECK(su.version_attribute == "X15.0.2");
  REQUIRE(su.system_unit);
  CHECK(su.system_unit->product == "TANDBERG VCS");
  CHECK(su.system_unit->product_type == "Expressway-C");
  CHECK(su.system_unit->version == "X15.0.2");
  CHECK(su.system_unit->uptime_seconds >= 0);
  CHECK_FALSE(su.warnings);
  // A node file without a product is served as an Expressway-E.
  CHECK(status_of(f, "/getxml?location=/Status/SystemUnit", 1).system_unit->product_type ==
        "Expressway-E");

  auto w = status_of(f, "/getxml?location=/Status/Warnings");
  CHECK_FALSE(w.system_unit);
  CHECK(alarm_numbers(w).empty());

  // Cluster TLS permissive raises 40049; CRL updates without distribution
  // points 40001; an unreachable (.invalid) one 40002 and 40006.
  REQUIRE(f.admin("edge1").set_tls_verification(spec::TlsVerification::kPermissive));
  node::CrlSettings crl;
  crl.automatic_updates = true;
  REQUIRE(f.admin("edge1").set_crl_settings(crl));
  CHECK(alarm_numbers(status_of(f, "/status.xml")) == std::vector<int>{40049, 40001});
  crl.distribution_points = {"http://crl.example.invalid/ca.crl"};
  REQUIRE(f.admin("edge1").set_crl_settings(crl));
  CHECK(alarm_numbers(status_of(f, "/status.xml")) == std::vector<int>{40049, 40002, 40006});

  auto bad = f.get("/getxml?location=/Status/Nothing");
  CHECK(bad.status == 200);
  auto parsed = xml::parse_status(bad.body);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == ErrorCode::kNotFound);  // XPathError
  CHECK(f.server->unrecognised_requests() ==
        std::vector<std::string>{"edge1: GET /getxml?location=/Status/Nothing"});

  auto alt_reply = f.get("/alternatesconfiguration.xml");
  auto alt = xml::parse_alternates(alt_reply.body);
  REQUIRE(alt);
  CHECK(alt->cluster_name == "lab");
  CHECK(alt->configuration_primary == 1);
  CHECK(alt->peers == std::vector<xml::Peer>{{1, "edge1.example.com"}, {2, "edge2.example.com"}});
}

TEST_CASE("simserver CLI over SSH: banner, status, alternates, revocation, ACME, unknown",
          "[simserver][ssh]") {
  SimServerFixture f;
  auto first = f.ssh(/*trust_new=*/true);  // records the host key
  auto banner = first->banner();
  REQUIRE(banner);
  CHECK(banner->find("Welcome to edge1") != std::string::npos);
  CHECK(banner->find("TANDBERG Video Communication Server X14.3.1") != std::string::npos);
  first->close();
  auto t = f.ssh(/*trust_new=*/false);  // now pinned

  auto su = cli(*t, "xStatus SystemUnit");
  REQUIRE(su.status.size() == 1);
  CHECK(xacli::field(su.status[0].children, "ProductType", "t")->text == "Expressway-E");
  CHECK(xacli::find(su.status[0].children, "Software")->children.front().value->text == "X14.3.1");

  auto alt = cli(*t, "xConfiguration Alternates");
  REQUIRE(alt.config.size() == 8);
  CHECK(alt.config[0].path == "Alternates Cluster Name");
  CHECK(alt.config[0].value.text == "lab");
  CHECK(alt.config[2].path == "Alternates Peer 1 Address");
  CHECK(alt.config[3].value.text == "edge2.example.com");
  CHECK(alt.config[4].value.text.empty());

  const std::string rc = "xConfiguration SIP TLS Certificate Revocation Checking";
  auto before = cli(*t, rc);
  REQUIRE(before.config.size() == 5);
  CHECK(before.config[0].value == xacli::Value::bare("Off"));
  CHECK(cli(*t, rc + " Mode: On").ok);
  CHECK(cli(*t, rc + " Source Inaccessibility Behavior: Fail").ok);
  CHECK_FALSE(cli(*t, rc + " OCSP Mode: Maybe").ok);
  auto st = f.admin("edge1").read_state();
  REQUIRE(st);
  CHECK(st->revocation.enabled);
  CHECK(st->revocation.fallback == spec::RevocationFallback::kTreatAsRevoked);
  CHECK(cli(*t, rc + " Mode").config.size() == 1);

  CHECK_FALSE(cli(*t, R"(xCommand ACME Providers Read ProviderUuid: "Default")").ok);
  CHECK(cli(*t, R"(xCommand ACME Providers Write ProviderUuid: "Default" Name: "LE" )"
                R"(Url: "https://acme.example.com/dir" Email: "ops@example.com" )"
                R"(TermsOfService: "Accepted")")
            .ok);
  auto prov = cli(*t, R"(xCommand ACME Providers Read ProviderUuid: "Default")");
  CHECK(field(prov, "Url") == "https://acme.example.com/dir");
  CHECK(field(prov, "TermsOfService") == "Accepted");
  CHECK_FALSE(cli(*t, R"(xCommand ACME Settings Write AcmeManaged: "Automated")").ok);
  CHECK(cli(*t, R"(xCommand ACME Settings Write AcmeManaged: "Automated" RenewKey: "Retain" )"
                R"(RenewalSchedule: '{"DaysOfWeek":["Mon","Thu"],"TimeOfDay":"04:30"}')")
            .ok);
  auto settings = cli(*t, "xCommand ACME Settings Read");
  CHECK(field(settings, "AcmeManaged") == "Automated");
  CHECK(field(settings, "ProviderUuid") == "Default");
  CHECK(field(settings, "RenewKey") == "Retain");
  CHECK(field(settings, "RenewalSchedule") ==
        R"({"DaysOfWeek":["Mon","Thu"],"TimeOfDay":"04:30"})");
  // TimeOfDay from the wire is exactly HH:MM in range (issue 16): no
  // overflow, no negative time stored, nothing half-read.
  for (std::string bad_time : {"99999999:0", "-1:-1", "4:30", "04:3", "04:300", "+4:30", "24:00"}) {
    INFO(bad_time);
    auto refused =
        cli(*t, R"(xCommand ACME Settings Write AcmeManaged: "Automated" RenewKey: "Retain" )"
                R"(RenewalSchedule: '{"DaysOfWeek":["Mon"],"TimeOfDay":")" +
                    bad_time + R"("}')");
    CHECK_FALSE(refused.ok);
    INFO(field(refused, "Reason"));
    CHECK(field(refused, "Reason")
              .find("RenewalSchedule: TimeOfDay '" + bad_time + "' is not HH:MM") !=
          std::string::npos);
  }
  CHECK(field(cli(*t, "xCommand ACME Settings Read"), "RenewalSchedule") ==
        R"({"DaysOfWeek":["Mon","Thu"],"TimeOfDay":"04:30"})");

  auto pending = cli(*t, "xCommand ACME Get Pending Cert");
  CHECK_FALSE(pending.ok);
  CHECK(field(pending, "Reason") == "No pending certificate");
  auto revoke = cli(*t, R"(xCommand ACME Revoke CertPath: "/tmp/old.pem" Provider: "LE")");
  CHECK_FALSE(revoke.ok);
  CHECK(field(revoke, "Reason") == "File not found: /tmp/old.pem");
  // Only a superseded certificate (C2): not the one in use, not one whose
  // names no newer certificate in use carries.
  auto node_state = f.admin("edge1").read_state();
  REQUIRE(node_state);
  REQUIRE(f.admin("edge1").put_file("/tmp/inuse.pem", node_state->server_chain.front().to_pem()));
  REQUIRE(f.admin("edge1").put_file("/tmp/other.pem", node_state->trusted_cas.front().to_pem()));
  auto in_use = cli(*t, R"(xCommand ACME Revoke CertPath: "/tmp/inuse.pem" Provider: "LE")");
  CHECK_FALSE(in_use.ok);
  CHECK(field(in_use, "Reason").find("in use") != std::string::npos);
  auto other = cli(*t, R"(xCommand ACME Revoke CertPath: "/tmp/other.pem" Provider: "LE")");
  CHECK_FALSE(other.ok);
  CHECK(field(other, "Reason").find("superseded") != std::string::npos);
  CHECK_FALSE(cli(*t, R"(xCommand ACME Revoke CertPath: "/tmp/other.pem" Provider: "X")").ok);

  CHECK(f.server->unrecognised_requests().empty());
  auto unknown = cli(*t, "xStatus Nothing Here: 1");
  CHECK_FALSE(unknown.ok);
  CHECK(field(unknown, "Reason") == "Unknown command");
  CHECK(f.server->unrecognised_requests() ==
        std::vector<std::string>{"edge1: SSH xStatus Nothing"});
}

TEST_CASE("simserver: a restart refuses HTTPS and SSH connections, then a fresh uptime",
          "[simserver][restart]") {
  SimServerFixture f(/*restart_seconds=*/1);
  auto up = f.ssh(true);
  REQUIRE(up->banner());
  const TimePoint asked = default_env().now();
  auto r = f.request("POST", "/api/provisioning/restart");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(testing::message_of(*r) == "The operation was successful");

  // Down: new connections are refused on both interfaces (polled, not timed:
  // the supervisor closes the listeners as soon as it sees the restart).
  bool https_refused = false;
  for (int i = 0; i < 200 && !https_refused; ++i) {
    http::Request g{"GET", "/getxml?location=/Status/SystemUnit"};
    auto probe = f.client()->perform(g);
    https_refused = !probe && probe.error().code == ErrorCode::kUnavailable;
    if (!https_refused) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(https_refused);
  auto refused = f.ssh(false)->banner();
  CHECK_FALSE(refused);

  // Back: the same ports answer, with an uptime shorter than the time since
  // the restart was asked.
  std::optional<xml::StatusDocument> back;
  for (int i = 0; i < 400 && !back; ++i) {
    auto probe = f.client()->perform(http::Request{"GET", "/getxml?location=/Status/SystemUnit"});
    if (probe && probe->status == 200) {
      auto doc = xml::parse_status(probe->body);
      REQUIRE(doc);
      back = *doc;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  REQUIRE(back);
  const auto since = std::chrono::duration_cast<std::chrono::seconds>(default_env().now() - asked);
  CHECK(back->system_unit->uptime_seconds <= since.count());
  auto again = f.ssh(false);
  auto banner = again->banner();
  REQUIRE(banner);
  auto su = cli(*again, "xStatus SystemUnit");
  CHECK(std::stoll(xacli::field(su.status[0].children, "Uptime", "t")->text) <= since.count() + 1);
  CHECK(f.admin("edge1").restart_phase().value() == sim::RestartPhase::kUp);
}

TEST_CASE("simserver: the ui side channel changes what REST, XML and the CLI report",
          "[simserver][ui]") {
  SimServerFixture f;
  auto t = f.ssh(true);

  auto [rc, out] = ui(f, {"set-tls", "permissive"});
  CHECK(rc == 0);
  CHECK(out == "edge1: cluster TLS verification mode set to Permissive\n");
  CHECK(alarm_numbers(status_of(f, "/getxml?location=/Status/Warnings")) ==
        std::vector<int>{40049});

  std::tie(rc, out) = ui(f, {"set-peers", "a.example.com", "b.example.com"});
  CHECK(rc == 0);
  auto alt = cli(*t, "xConfiguration Alternates");
  CHECK(alt.config[2].value.text == "a.example.com");
  CHECK(alt.config[3].value.text == "b.example.com");
  CHECK(alt.config[4].value.text.empty());
  std::tie(rc, out) = ui(f, {"set-peers"});
  CHECK(rc == 0);
  CHECK(xml::parse_alternates(f.get("/alternatesconfiguration.xml").body)->peers.size() == 2);

  std::tie(rc, out) = ui(f, {"set-product", "expressway-c"});
  CHECK(rc == 0);
  std::tie(rc, out) = ui(f, {"set-software-version", "X14.2.1"});
  CHECK(rc == 0);
  auto su = status_of(f, "/getxml?location=/Status/SystemUnit");
  CHECK(su.system_unit->product_type == "Expressway-C");
  CHECK(su.system_unit->version == "X14.2.1");

  // A CA appended over REST, deleted by the operator: gone from certs/root.
  auto st = f.admin("edge1").read_state();
  REQUIRE(st);
  const std::string factory = st->trusted_cas.front().sha256_fingerprint();
  std::tie(rc, out) = ui(f, {"delete-ca", factory});
  CHECK(rc == 0);
  CHECK(f.get("/api/provisioning/certs/root").body.empty());
  std::tie(rc, out) = ui(f, {"reset-cas"});
  CHECK(rc == 0);
  CHECK(out == "edge1: trusted CA list reset to the default (1 certificates)\n");

  // A file put on the node is what ACME Revoke reads (here: ACME is off).
  const std::string pem = f.dir.write("old.pem", st->server_chain.front().to_pem());
  std::tie(rc, out) = ui(f, {"put-file", "/tmp/edgecert-revoke-x.pem", "--from", pem});
  CHECK(rc == 0);
  CHECK(f.admin("edge1").node_file("/tmp/edgecert-revoke-x.pem").value() ==
        st->server_chain.front().to_pem());

  std::tie(rc, out) = ui(
      f, {"set-crl", "--auto", "on", "--url", "http://crl.example.com/a.crl", "--time", "02:30"});
  CHECK(rc == 0);
  CHECK(out == "edge1: automatic CRL updates on, 1 distribution point(s), daily at 02:30 UTC\n");
  CHECK(f.admin("edge1").read_state()->crl.daily_update_minute == 150);

  // Errors: 1 for what the node refuses, 2 for a bad command line.
  std::tie(rc, out) = ui(f, {"discard-csr"});
  CHECK(rc == 1);
  CHECK(out == "edgecert-sim ui: edge1: discard-csr: no CSR is in progress\n");
  std::tie(rc, out) = ui(f, {"set-tls", "sometimes"});
  CHECK(rc == 2);
  std::tie(rc, out) = ui(f, {"frobnicate"});
  CHECK(rc == 2);
  CHECK(out.find("unknown command 'frobnicate'") != std::string::npos);
  std::ostringstream o, e;
  CHECK(simserver::run_ui(default_env(), {"--state", f.state, "edge9", "reset-cas"}, o, e) == 1);
  CHECK(e.str().find("no node file") != std::string::npos);
}

TEST_CASE("simserver: reads over every interface write nothing, CLI restart and a dropped reply",
          "[simserver][ssh]") {
  SimServerFixture f;
  auto t = f.ssh(true);
  REQUIRE(f.admin("edge1").set_tls_verification(spec::TlsVerification::kPermissive));
  const std::string node_file = f.admin("edge1").state_path();
  const std::string audit_file = f.admin("edge1").audit_path();
  const std::string before = default_env().read_file(node_file, kTestRead).value();
  const std::string audit_before = default_env().read_file(audit_file, kTestRead).value();
  for (const char* target :
       {"/status.xml", "/getxml?location=/Status/SystemUnit", "/getxml?location=/Status/Warnings",
        "/alternatesconfiguration.xml", "/api/provisioning/certs/server",
        "/api/provisioning/certs/root", "/api/provisioning/certs/generate_csr", "/api/raml",
        "/api/provisioning/common/protocol/sip/certrevokecheck"})
    f.get(target);
  for (const char* line :
       {"xStatus SystemUnit", "xConfiguration Alternates",
        "xConfiguration SIP TLS Certificate Revocation Checking", "xCommand ACME Settings Read"})
    cli(*t, line);
  CHECK(default_env().read_file(node_file, kTestRead).value() == before);
  CHECK(default_env().read_file(audit_file, kTestRead).value() == audit_before);

  // An injected drop ends the session mid-reply: the client sees no final line.
  sim::FaultConfig fc;
  fc.drop_connections = 1;
  REQUIRE(f.admin("edge1").set_faults(fc));
  auto dropped = t->run("xStatus SystemUnit");
  REQUIRE_FALSE(dropped);
  CHECK(dropped.error().code == ErrorCode::kUnavailable);
  REQUIRE(f.admin("edge1").set_faults(sim::FaultConfig{}));

  auto again = f.ssh(false);
  auto restart = cli(*again, "xCommand Restart");
  CHECK(restart.ok);
  CHECK(f.admin("edge1").restart_phase().value() != sim::RestartPhase::kUp);
}
