// The saved-plan loader (plan_from_json): never throws, refuses malformed or
// tampered plans with a message naming the action id and the field; and every
// plan the planner makes round-trips through its JSON form.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "reconciler/engine/plan.h"
#include "tests/support/result_checks.h"
#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::SimCluster;
using nlohmann::json;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

CsrParams sample_csr() {
  CsrParams c;
  c.common_name = "edge.example.com";
  c.dns_names = {"edge.example.com", "edge1.example.com"};
  c.subject.country = "JP";
  c.subject.organization = "Example KK";
  c.key_algorithm = pki::KeyAlgorithm::kEcdsa;
  c.key_size = 256;
  return c;
}

Action make(const std::string& node, ActionKind kind, ActionParams params,
            std::vector<std::string> deps = {}, std::string id = "") {
  Action a;
  a.id = id.empty() ? node + "/" + action_kind_name(kind) : id;
  a.node = node;
  a.reason = "test";
  a.params = std::move(params);
  a.depends_on = std::move(deps);
  REQUIRE(a.kind() == kind);
  return a;
}

// A small hand-made plan covering the kinds whose params carry fields.
Plan sample_plan() {
  Plan p;
  p.spec_path = "cluster/spec.yaml";
  p.spec_absolute_path = "/abs/cluster/spec.yaml";
  p.spec_sha256 = "00ff";
  p.cluster = "test";
  p.created_at = "2027-01-01T00:00:00Z";
  p.nodes.emplace_back("edge1", NodeSnapshot{"aa", json{{"k", 1}}});
  p.nodes.emplace_back("edge2", NodeSnapshot{"bb", json{{"k", 2}}});
  p.actions.push_back(make("edge1", ActionKind::kAppendTrustedCas,
                           AppendTrustedCasParams{{"-----BEGIN CERTIFICATE-----"}, {"AB:CD"}}));
  p.actions.push_back(make("edge1", ActionKind::kGenerateCsr, GenerateCsrParams{sample_csr()}));
  p.actions.push_back(
      make("edge1", ActionKind::kSignCsr, SignCsrParams{sample_csr()}, {"edge1/generate-csr"}));
  p.actions.push_back(make("edge1", ActionKind::kSetTlsVerification,
                           SetTlsVerificationParams{spec::TlsVerification::kPermissive},
                           {"edge1/sign-csr"}));
  p.actions.push_back(make("edge1", ActionKind::kUploadCertificate, UploadCertificateParams{},
                           {"edge1/sign-csr", "edge1/set-tls-verification"}));
  p.actions.push_back(
      make("edge1", ActionKind::kRestart, RestartParams{}, {"edge1/upload-certificate"}));
  p.actions.push_back(make("edge1", ActionKind::kWaitHealthy,
                           WaitHealthyParams{std::chrono::seconds(120)}, {"edge1/restart"}));
  p.actions.push_back(make("edge1", ActionKind::kVerifyServed,
                           VerifyServedParams{"edge1.example.com"}, {"edge1/wait-healthy"}));
  p.actions.push_back(
      make("edge2", ActionKind::kRestart, RestartParams{}, {"edge1/verify-served"}));
  p.notes = {"a note"};
  p.next_window = "2027-01-02T00:00:00Z";
  return p;
}

json sample_json() {
  return plan_to_json(sample_plan());
}

json& action_json(json& j, const std::string& id) {
  for (auto& a : j["actions"])
    if (a["id"] == id) return a;
  FAIL("no action " << id);
  throw std::logic_error("unreachable");
}

// Decodes `j`; requires a refusal whose message contains every needle.
void require_refused(const json& j, std::initializer_list<std::string> needles) {
  Result<Plan> r = [&] {
    try {
      return plan_from_json(j, "plan.json");
    } catch (const std::exception& e) {
      FAIL("plan_from_json threw: " << e.what());
      throw;
    }
  }();
  REQUIRE_FALSE(r.has_value());
  INFO("message: " << r.error().message);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(contains(r.error().message, "plan.json"));
  for (const auto& n : needles) CHECK(contains(r.error().message, n));
}

}  // namespace

TEST_CASE("plan json: the hand-made sample plan decodes to the same plan", "[engine][plan][json]") {
  json j = sample_json();
  auto back = plan_from_json(j, "plan.json");
  testing::require_ok(back, "plan_from_json");
  CHECK(plan_to_json(*back) == j);
  REQUIRE(back->actions.size() == 9);
  CHECK(back->actions[2].as<SignCsrParams>().csr.dns_names ==
        std::vector<std::string>{"edge.example.com", "edge1.example.com"});
  CHECK(back->actions[2].as<SignCsrParams>().csr.key_algorithm == pki::KeyAlgorithm::kEcdsa);
  CHECK(back->actions[3].as<SetTlsVerificationParams>().mode == spec::TlsVerification::kPermissive);
  CHECK(back->actions[6].as<WaitHealthyParams>().timeout == std::chrono::seconds(120));
  CHECK(back->actions[8].depends_on == std::vector<std::string>{"edge1/verify-served"});
  CHECK(back->nodes.size() == 2);
  CHECK(back->nodes[1].first == "edge2");
  CHECK(back->next_window == std::optional<std::string>("2027-01-02T00:00:00Z"));
  CHECK(back->spec_absolute_path == "/abs/cluster/spec.yaml");
}

TEST_CASE("plan json: a missing params is refused naming the action and params",
          "[engine][plan][json]") {
  for (const char* id : {"edge1/restart", "edge1/generate-csr", "edge1/wait-healthy"}) {
    DYNAMIC_SECTION(id) {
      json j = sample_json();
      action_json(j, id).erase("params");
      require_refused(j, {std::string("action ") + id, "params", "missing"});
    }
  }
  SECTION("params not an object") {
    json j = sample_json();
    action_json(j, "edge1/upload-certificate")["params"] = json::array();
    require_refused(j, {"action edge1/upload-certificate", "params", "expected an object"});
  }
}

TEST_CASE("plan json: a wrongly typed params field is refused naming action and field",
          "[engine][plan][json]") {
  json j = sample_json();
  std::string id, field;
  SECTION("key_size as a string") {
    id = "edge1/generate-csr";
    action_json(j, id)["params"]["key_size"] = "256";
    field = "params.key_size";
  }
  SECTION("key_size out of range") {
    id = "edge1/sign-csr";
    action_json(j, id)["params"]["key_size"] = 1;
    field = "params.key_size";
  }
  SECTION("dns_names with a number") {
    id = "edge1/sign-csr";
    action_json(j, id)["params"]["dns_names"] = json::array({"a.example.com", 7});
    field = "params.dns_names";
  }
  SECTION("subject field missing") {
    id = "edge1/generate-csr";
    action_json(j, id)["params"]["subject"].erase("country");
    field = "params.subject.country";
  }
  SECTION("mode sideways") {
    id = "edge1/set-tls-verification";
    action_json(j, id)["params"]["mode"] = "sideways";
    field = "params.mode";
  }
  SECTION("timeout_seconds negative") {
    id = "edge1/wait-healthy";
    action_json(j, id)["params"]["timeout_seconds"] = -5;
    field = "params.timeout_seconds";
  }
  SECTION("timeout_seconds 1e300") {
    id = "edge1/wait-healthy";
    action_json(j, id)["params"]["timeout_seconds"] = 1e300;
    field = "params.timeout_seconds";
  }
  SECTION("timeout_seconds above the signed range (unsigned)") {
    id = "edge1/wait-healthy";
    action_json(j, id)["params"]["timeout_seconds"] = 18446744073709551615ULL;
    field = "params.timeout_seconds";
  }
  SECTION("pem not an array") {
    id = "edge1/append-trusted-cas";
    action_json(j, id)["params"]["pem"] = "-----BEGIN CERTIFICATE-----";
    field = "params.pem";
  }
  SECTION("pem and sha256 of different lengths") {
    id = "edge1/append-trusted-cas";
    action_json(j, id)["params"]["sha256"] = json::array({"AB", "CD"});
    field = "params.sha256";
  }
  SECTION("fqdn null") {
    id = "edge1/verify-served";
    action_json(j, id)["params"]["fqdn"] = nullptr;
    field = "params.fqdn";
  }
  require_refused(j, {"action " + id, field});
}

TEST_CASE("plan json: missing or wrongly typed top-level fields are refused naming the field",
          "[engine][plan][json]") {
  json j = sample_json();
  std::string field;
  SECTION("format_version missing") {
    j.erase("format_version");
    field = "format_version";
  }
  SECTION("format_version a string") {
    j["format_version"] = "1";
    field = "format_version";
  }
  SECTION("spec missing") {
    j.erase("spec");
    field = "spec";
  }
  SECTION("spec an array") {
    j["spec"] = json::array();
    field = "spec";
  }
  SECTION("spec.sha256 a number") {
    j["spec"]["sha256"] = 5;
    field = "spec.sha256";
  }
  SECTION("nodes missing") {
    j.erase("nodes");
    field = "nodes";
  }
  SECTION("nodes an array") {
    j["nodes"] = json::array({"edge1"});
    field = "nodes";
  }
  SECTION("node_order missing") {
    j.erase("node_order");
    field = "node_order";
  }
  SECTION("node_order a string") {
    j["node_order"] = "edge1";
    field = "node_order";
  }
  SECTION("node_order names a node without an entry") {
    j["node_order"].push_back("edge9");
    field = "edge9";
  }
  SECTION("a node entry without live_state") {
    j["nodes"]["edge2"].erase("live_state");
    field = "live_state";
  }
  SECTION("actions missing") {
    j.erase("actions");
    field = "actions";
  }
  SECTION("actions an object") {
    j["actions"] = json::object();
    field = "actions";
  }
  SECTION("notes not an array") {
    j["notes"] = 3;
    field = "notes";
  }
  SECTION("next_window a number") {
    j["next_window"] = 3;
    field = "next_window";
  }
  require_refused(j, {field});
}

TEST_CASE("plan json: an unsupported format_version is refused", "[engine][plan][json]") {
  json j = sample_json();
  j["format_version"] = 2;
  auto r = plan_from_json(j, "plan.json");
  testing::require_error(r, ErrorCode::kInvalidArgument, "format_version 2 is not supported");
}

TEST_CASE("plan json: not an object at all is refused", "[engine][plan][json]") {
  for (const json& j : {json(nullptr), json(1), json("plan"), json::array({1, 2}), json(true)}) {
    INFO(j.dump());
    require_refused(j, {"expected an object"});
  }
  SECTION("an action that is not an object names its position") {
    json j = sample_json();
    j["actions"].push_back(42);
    require_refused(j, {"action #10", "expected an object"});
  }
}

TEST_CASE("plan json: an unknown kind is refused naming the action and kind",
          "[engine][plan][json]") {
  json j = sample_json();
  action_json(j, "edge1/restart")["kind"] = "reboot-everything";
  require_refused(j, {"action edge1/restart", "kind", "reboot-everything"});
  SECTION("kind of the wrong type") {
    json k = sample_json();
    action_json(k, "edge1/restart")["kind"] = 6;
    require_refused(k, {"action edge1/restart", "kind"});
  }
}

TEST_CASE("plan json: a duplicate action id is refused", "[engine][plan][json]") {
  json j = sample_json();
  json copy = action_json(j, "edge2/restart");
  j["actions"].push_back(copy);
  require_refused(j, {"action edge2/restart", "duplicate"});
}

TEST_CASE("plan json: an empty or missing action id is refused by position",
          "[engine][plan][json]") {
  json j = sample_json();
  action_json(j, "edge1/restart")["id"] = "";
  require_refused(j, {"action #6", "id"});
}

TEST_CASE("plan json: an action on a node outside the plan's nodes is refused",
          "[engine][plan][json]") {
  json j = sample_json();
  action_json(j, "edge2/restart")["node"] = "edge9";
  require_refused(j, {"action edge2/restart", "node", "edge9"});
}

TEST_CASE("plan json: depends_on naming a missing action is refused", "[engine][plan][json]") {
  json j = sample_json();
  action_json(j, "edge2/restart")["depends_on"] = json::array({"edge1/verify-served/2"});
  require_refused(j, {"action edge2/restart", "depends_on", "edge1/verify-served/2"});
  SECTION("depends_on not an array of strings") {
    json k = sample_json();
    action_json(k, "edge2/restart")["depends_on"] = json::array({1});
    require_refused(k, {"action edge2/restart", "depends_on"});
  }
}

TEST_CASE("plan json: a reordered plan (depends_on naming a later action) is refused",
          "[engine][plan][json]") {
  json j = sample_json();
  // Move edge1's restart before its upload.
  auto& acts = j["actions"];
  json restart = action_json(j, "edge1/restart");
  json reordered = json::array();
  for (auto& a : acts) {
    if (a["id"] == "edge1/restart") continue;
    if (a["id"] == "edge1/upload-certificate") reordered.push_back(restart);
    reordered.push_back(a);
  }
  j["actions"] = reordered;
  require_refused(j, {"action edge1/restart", "depends_on", "edge1/upload-certificate", "after"});
  SECTION("an action depending on itself") {
    json k = sample_json();
    action_json(k, "edge2/restart")["depends_on"] = json::array({"edge2/restart"});
    require_refused(k, {"action edge2/restart", "depends_on"});
  }
}

TEST_CASE("plan json: disruptive edited to disagree with the kind is refused",
          "[engine][plan][json]") {
  json j = sample_json();
  std::string id;
  SECTION("restart marked not disruptive") {
    id = "edge1/restart";
    action_json(j, id)["disruptive"] = false;
  }
  SECTION("upload marked disruptive") {
    id = "edge1/upload-certificate";
    action_json(j, id)["disruptive"] = true;
  }
  SECTION("disruptive a string") {
    id = "edge1/restart";
    action_json(j, id)["disruptive"] = "yes";
  }
  require_refused(j, {"action " + id, "disruptive"});
}

TEST_CASE("plan json: check_plan refuses the same faults on a plan in memory",
          "[engine][plan][json]") {
  REQUIRE(check_plan(sample_plan()));
  Plan p = sample_plan();
  SECTION("reordered") {
    std::swap(p.actions[4], p.actions[5]);  // restart before upload
    testing::require_error(check_plan(p), ErrorCode::kInvalidArgument,
                           "action edge1/restart: field depends_on");
  }
  SECTION("unknown node") {
    p.actions.back().node = "edge7";
    testing::require_error(check_plan(p), ErrorCode::kInvalidArgument,
                           "action edge2/restart: field node");
  }
  SECTION("duplicate") {
    p.actions.push_back(p.actions.back());
    testing::require_error(check_plan(p), ErrorCode::kInvalidArgument,
                           "action edge2/restart: field id: duplicate");
  }
}

TEST_CASE("plan json: every kind's params round-trip through params_to_json",
          "[engine][plan][json]") {
  for (size_t k = 0; k < std::variant_size_v<ActionParams>; ++k) {
    auto kind = static_cast<ActionKind>(k);
    ActionParams p = default_params(kind);
    // Fill the kinds whose defaults the decoder refuses.
    if (kind == ActionKind::kAppendTrustedCas) p = AppendTrustedCasParams{{"pem"}, {"fp"}};
    if (kind == ActionKind::kGenerateCsr) p = GenerateCsrParams{sample_csr()};
    if (kind == ActionKind::kSignCsr) p = SignCsrParams{sample_csr()};
    if (kind == ActionKind::kAcmeSign) p = AcmeSignParams{sample_csr()};
    INFO(action_kind_name(kind));
    REQUIRE(parse_action_kind(action_kind_name(kind)) == kind);
    json j = params_to_json(p);
    auto back = params_from_json(kind, j);
    testing::require_ok(back, action_kind_name(kind));
    CHECK(back->index() == k);
    CHECK(params_to_json(*back) == j);
  }
  CHECK_FALSE(parse_action_kind("reboot"));
}

TEST_CASE("plan json: every plan the planner makes round-trips", "[engine][plan][json]") {
  SimCluster c(testing::with_peers(3));
  auto round_trip = [&](const std::string& what) {
    INFO(what);
    auto text = c.memory.read_file("cluster/plan.json", kTestRead);
    REQUIRE(text);
    json j = json::parse(*text);
    auto back = plan_from_json(j, "cluster/plan.json");
    testing::require_ok(back, "plan_from_json");
    CHECK(plan_to_json(*back) == j);
    return back->actions.size();
  };
  REQUIRE(c.plan({"--out", "cluster/plan.json"}).status == 0);
  size_t fresh = round_trip("fresh cluster");
  CHECK(fresh > 0);
  REQUIRE(c.plan({"--out", "cluster/plan.json", "--target", "edge2"}).status == 0);
  CHECK(round_trip("--target edge2") < fresh);
  REQUIRE(c.apply().status == 0);
  REQUIRE(c.plan({"--out", "cluster/plan.json"}).status == 0);
  CHECK(round_trip("converged: empty plan") == 0);
  auto o = c.options();
  o.server_certificate_extra = "    additionalNames: [extra.example.com]\n";
  o.rollout = "{healthTimeout: 2m, revokeSuperseded: true}";
  c.write_spec(o);
  REQUIRE(c.plan({"--out", "cluster/plan.json"}).status == 0);
  CHECK(round_trip("SAN change with revocation") > 0);
}

TEST_CASE("plan json: a saved plan's before/after of any shape render without throwing",
          "[engine][plan][json]") {
  // Found by the plan fuzz target (tests/fuzz/crashes/plan/): plan_from_json
  // keeps before/after as the file has them, and render_plan_text (the
  // approval prompt of `apply PLAN`) indexed them as objects: a null threw
  // nlohmann's type_error out of edgecert.
  Plan p;
  p.nodes.emplace_back("edge1", NodeSnapshot{"aa", json::object()});
  p.actions.push_back(make("edge1", ActionKind::kDeleteTrustedCa, DeleteTrustedCaParams{"AB"}));
  p.actions.push_back(make("edge1", ActionKind::kSetCrlSettings, SetCrlSettingsParams{}));
  p.actions.push_back(make("edge1", ActionKind::kAppendTrustedCas,
                           AppendTrustedCasParams{{"-----BEGIN CERTIFICATE-----"}, {"AB:CD"}}));
  p.actions.push_back(make("edge1", ActionKind::kGenerateCsr, GenerateCsrParams{sample_csr()}));
  for (const json& odd : {json(nullptr), json(7), json("text"), json::array({1, "a"}),
                          json{{"certificates", 3}, {"dns_names", "x"}, {"key", 1}}}) {
    for (auto& a : p.actions) {
      a.before = odd;
      a.after = odd;
    }
    std::string text;
    CHECK_NOTHROW(text = render_plan_text(p));
    CHECK(contains(text, "delete-trusted-ca"));
  }
}

TEST_CASE("plan json: created_at must read as a time", "[engine][plan][json]") {
  json j = sample_json();
  for (const char* bad :
       {"yesterday", "2026-13-01 00:00:00 UTC", "2026-02-30 00:00:00 UTC", "2026-11-27T13:00:00",
        "2026-11-27 13:00:60 UTC", "0000-01-01 00:00:00 UTC"}) {
    j["created_at"] = bad;
    auto p = plan_from_json(j, "plan.json");
    REQUIRE_FALSE(p);
    CHECK(contains(p.error().message, "field created_at"));
  }
  j["created_at"] = "9999-12-31 23:59:59 UTC";
  CHECK(plan_from_json(j, "plan.json"));
  CHECK(plan_created_time("9999-12-31 23:59:59 UTC") == kLatestTime);
  CHECK(plan_created_time("1970-01-01 00:00:00 UTC") == TimePoint{});
  CHECK(plan_created_time("1970-01-01T00:00:00Z") == TimePoint{});
}
