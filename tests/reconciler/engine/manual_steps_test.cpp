// Manual steps (manual_steps.h): the instructions, the checks against what a
// node shows, the operator's confirmed values, and manual actions in saved
// plans.
#include <catch2/catch.hpp>

#include "reconciler/engine/manual_steps.h"
#include "reconciler/engine/plan.h"
#include "tests/support/result_checks.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using nlohmann::json;
using State = ManualCheck::State;

namespace {

Action action(ActionKind kind, ActionParams params, bool manual = true) {
  Action a;
  a.id = std::string("edge1/") + action_kind_name(kind);
  a.node = "edge1";
  a.reason = "test";
  a.params = std::move(params);
  a.manual = manual;
  return a;
}

Action tls(spec::TlsVerification mode) {
  return action(ActionKind::kSetTlsVerification, SetTlsVerificationParams{mode});
}

Action crl_settings() {
  return action(ActionKind::kSetCrlSettings,
                SetCrlSettingsParams{node::CrlSettings{
                    true, {"http://crl.example.com/a.crl", "http://crl.example.com/b.crl"}, 270}});
}

}  // namespace

TEST_CASE("manual steps: which kinds a node may leave to the operator", "[engine][manual]") {
  using Op = node::ManualOperation;
  CHECK(manual_operation_for(ActionKind::kSetTlsVerification, false) == Op::kSetTlsVerification);
  CHECK(manual_operation_for(ActionKind::kDiscardCsr, false) == Op::kDiscardCsr);
  CHECK(manual_operation_for(ActionKind::kDeleteTrustedCa, false) == Op::kDeleteTrustedCa);
  CHECK(manual_operation_for(ActionKind::kSetCrlSettings, false) == Op::kSetCrlSettings);
  CHECK(manual_operation_for(ActionKind::kUploadManualCrl, false) == Op::kUploadManualCrl);
  CHECK(manual_operation_for(ActionKind::kRemoveManualCrl, false) == Op::kRemoveManualCrl);
  // The node's ACME revocation only when the nodes sign themselves.
  CHECK(manual_operation_for(ActionKind::kRevokeSuperseded, true) == Op::kAcmeRevoke);
  CHECK_FALSE(manual_operation_for(ActionKind::kRevokeSuperseded, false));
  for (auto k : {ActionKind::kRestart, ActionKind::kUploadCertificate, ActionKind::kGenerateCsr,
                 ActionKind::kAppendTrustedCas, ActionKind::kSetRevocationChecking})
    CHECK_FALSE(manual_operation_for(k, true));
}

TEST_CASE("manual steps: the web UI page, the exact values and how edgecert checks",
          "[engine][manual]") {
  auto relax = manual_instruction(tls(spec::TlsVerification::kPermissive));
  CHECK(relax.page == "System > Clustering");
  CHECK(relax.settings == std::vector<std::string>{"TLS verification mode = Permissive", "Save"});
  CHECK(relax.check == "alarm 40049 (Cluster TLS permissive) must be present on the node");
  CHECK(relax.verifiable);
  CHECK(manual_instruction_line(tls(spec::TlsVerification::kEnforce)) ==
        "edge1: System > Clustering: TLS verification mode = Enforce (Enforce needs every peer "
        "address to be an FQDN), Save");

  auto crl = manual_instruction(crl_settings());
  CHECK(crl.page == "Maintenance > Security > CRL management");
  CHECK(crl.settings ==
        std::vector<std::string>{"Automatic CRL updates = Enabled",
                                 "CRL distribution points = http://crl.example.com/a.crl, "
                                 "http://crl.example.com/b.crl (one URL per line)",
                                 "Daily update time = 04:30 (UTC)", "Save"});
  CHECK_FALSE(crl.verifiable);
  CHECK(crl.check.starts_with("cannot be verified"));

  Action del = action(ActionKind::kDeleteTrustedCa, DeleteTrustedCaParams{"AB:CD:EF"});
  del.before = {{"certificate", "Old Root"}, {"sha256", "AB:CD:EF"}};
  auto d = manual_instruction(del);
  CHECK(d.page == "Maintenance > Security > Trusted CA certificate");
  CHECK(d.settings == std::vector<std::string>{"tick 'Old Root' (SHA-256 AB:CD:EF)", "Delete"});
  CHECK(d.check.find("certs/root") != std::string::npos);

  Action revoke =
      action(ActionKind::kRevokeSuperseded,
             RevokeSupersededParams{"PEM", "12:34", pki::RevocationReason::kSuperseded});
  revoke.before = {{"serial", "1000"}};
  revoke.after = {{"acme_provider", "letsencrypt"}};
  auto rv = manual_instruction(revoke);
  CHECK(rv.page == "the node's SSH command line, as root (no web UI page)");
  REQUIRE(rv.settings.size() == 2);
  CHECK(rv.settings[0].find("serial 1000, SHA-256 12:34") != std::string::npos);
  CHECK(rv.settings[1] ==
        "xCommand ACME Revoke CertPath: \"<that file>\" Provider: \"letsencrypt\"");
  CHECK_FALSE(rv.verifiable);

  auto discard = manual_instruction(action(ActionKind::kDiscardCsr, DiscardCsrParams{}));
  CHECK(discard.settings == std::vector<std::string>{"Discard CSR"});
  CHECK(discard.check.find("404") != std::string::npos);
  CHECK_FALSE(manual_instruction(action(ActionKind::kRemoveManualCrl, RemoveManualCrlParams{""}))
                  .verifiable);
}

TEST_CASE("manual steps: checked against what the node shows", "[engine][manual]") {
  node::NodeState st;
  st.tls_verification = spec::TlsVerification::kEnforce;
  CHECK(check_manual_step(tls(spec::TlsVerification::kEnforce), st).state == State::kDone);
  auto not_yet = check_manual_step(tls(spec::TlsVerification::kPermissive), st);
  CHECK(not_yet.state == State::kNotDone);
  CHECK(not_yet.message == "alarm 40049 absent: TLS verification is enforce, not permissive");

  CHECK(check_manual_step(action(ActionKind::kDiscardCsr, DiscardCsrParams{}), st).state ==
        State::kDone);
  st.pending_csr = node::PendingCsr{};
  CHECK(check_manual_step(action(ActionKind::kDiscardCsr, DiscardCsrParams{}), st).state ==
        State::kNotDone);

  // What the node cannot show.
  st.crl_settings_known = false;
  st.manual_crl_known = false;
  CHECK(check_manual_step(crl_settings(), st).state == State::kUnverifiable);
  CHECK(check_manual_step(action(ActionKind::kRemoveManualCrl, RemoveManualCrlParams{""}), st)
            .state == State::kUnverifiable);
  // A node that does show it is checked.
  st.crl_settings_known = true;
  CHECK(check_manual_step(crl_settings(), st).state == State::kNotDone);
  st.crl = crl_settings().as<SetCrlSettingsParams>().settings;
  CHECK(check_manual_step(crl_settings(), st).state == State::kDone);
}

TEST_CASE("manual steps: the key names what is asked, not the plan's id", "[engine][manual]") {
  Action a = crl_settings();
  Action b = crl_settings();
  b.id = "edge1/set-crl-settings/2";
  CHECK(manual_step_key(a) == manual_step_key(b));
  b.params = SetCrlSettingsParams{node::CrlSettings{false, {}, 0}};
  CHECK(manual_step_key(a) != manual_step_key(b));
  CHECK(manual_step_key(a).starts_with("edge1/set-crl-settings/"));
}

TEST_CASE("manual steps: confirmed values are remembered and stand in for the live ones",
          "[engine][manual]") {
  MemoryEnv env;
  const std::string dir = "state/test";
  auto empty = read_confirmed_values(env, dir);
  REQUIRE(empty);
  CHECK(empty->empty());

  REQUIRE(record_confirmed_value(env, dir, crl_settings(), "run-1"));
  REQUIRE(record_confirmed_value(
      env, dir, action(ActionKind::kRemoveManualCrl, RemoveManualCrlParams{""}), "run-1"));
  // Kinds with a read-back record nothing.
  REQUIRE(record_confirmed_value(env, dir, tls(spec::TlsVerification::kEnforce), "run-1"));
  auto text = env.read_file(dir + "/manual.json", kTestRead);
  REQUIRE(text);
  auto j = json::parse(*text);
  CHECK(j["nodes"]["edge1"]["crl_settings"]["run"] == "run-1");
  CHECK(j["nodes"]["edge1"]["manual_crl"]["sha256"].is_null());
  CHECK_FALSE(j["nodes"]["edge1"].contains("tls"));

  auto confirmed = read_confirmed_values(env, dir);
  REQUIRE(confirmed);
  const ConfirmedNode& n = confirmed->at("edge1");
  REQUIRE(n.crl_settings);
  CHECK(*n.crl_settings == crl_settings().as<SetCrlSettingsParams>().settings);
  REQUIRE(n.manual_crl_sha256);
  CHECK_FALSE(*n.manual_crl_sha256);

  ClusterLive live;
  for (const char* peer : {"edge1", "edge2"}) {
    NodeLive nl;
    nl.peer = peer;
    node::NodeState st;
    st.crl_settings_known = false;
    st.manual_crl_known = false;
    nl.summary = node_summary(st);
    nl.fingerprint = "before";
    nl.state = st;
    live.nodes.push_back(nl);
  }
  apply_confirmed_values(live, *confirmed);
  const auto& e1 = *live.nodes[0].state;
  CHECK(e1.crl_settings_known);
  CHECK(e1.crl == *n.crl_settings);
  CHECK(e1.manual_crl_known);
  CHECK(live.nodes[0].summary["confirmed_by_operator"] ==
        json{{"crl_settings", true}, {"manual_crl", true}});
  CHECK(live.nodes[0].fingerprint != "before");
  // Nothing confirmed for edge2: still unknown.
  CHECK_FALSE(live.nodes[1].state->crl_settings_known);
  CHECK(live.nodes[1].fingerprint == "before");

  env.put(dir + "/manual.json", "{not json");
  auto bad = read_confirmed_values(env, dir);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("state/test/manual.json") != std::string::npos);
}

TEST_CASE("manual steps: a saved plan keeps them and refuses a non-manual kind marked manual",
          "[engine][manual][plan]") {
  Plan p;
  p.spec_path = "spec.yaml";
  p.spec_sha256 = "00";
  p.cluster = "test";
  p.created_at = "2027-01-01 00:00:00 UTC";
  p.nodes.emplace_back("edge1", NodeSnapshot{"fp", json::object()});
  p.nodes.emplace_back("edge2", NodeSnapshot{"fp", json::object()});
  Action relax = tls(spec::TlsVerification::kPermissive);
  relax.before = "enforce";
  relax.after = "permissive";
  Action relax2 = relax;
  relax2.id = "edge2/set-tls-verification";
  relax2.node = "edge2";
  Action restart = action(ActionKind::kRestart, RestartParams{}, false);
  restart.depends_on = {relax.id, relax2.id};
  p.actions = {relax, relax2, restart};
  CHECK(p.summary_line() ==
        "Plan: 3 actions on 2 nodes, 1 restart, 2 manual steps on 2 nodes, one node at a time");

  json j = plan_to_json(p);
  CHECK(j["actions"][0]["manual"] == true);
  CHECK(j["actions"][0]["manual_step"]["page"] == "System > Clustering");
  CHECK(j["actions"][0]["manual_step"]["verifiable"] == true);
  CHECK(j["actions"][2]["manual"] == false);
  CHECK_FALSE(j["actions"][2].contains("manual_step"));
  CHECK(j["summary"]["manual_steps"] == 2);
  CHECK(j["summary"]["manual_nodes"] == 2);
  auto back = plan_from_json(j, "plan.json");
  REQUIRE(back);
  CHECK(back->actions[0].manual);
  CHECK_FALSE(back->actions[2].manual);
  CHECK(plan_to_json(*back) == j);

  // Older plans have no "manual": automatic.
  json old = j;
  old["actions"][0].erase("manual");
  auto o = plan_from_json(old, "plan.json");
  REQUIRE(o);
  CHECK_FALSE(o->actions[0].manual);

  json wrong = j;
  wrong["actions"][2]["manual"] = true;
  auto w = plan_from_json(wrong, "plan.json");
  REQUIRE_FALSE(w);
  CHECK(w.error().message ==
        "plan.json: not a valid edgecert plan: action edge1/restart: field manual: restart is "
        "never a manual step (a node always does it itself)");
  wrong["actions"][2]["manual"] = "yes";
  CHECK_FALSE(plan_from_json(wrong, "plan.json"));

  std::string text = render_plan_text(p);
  CHECK(text.find("~ [ 1] set-tls-verification (MANUAL STEP): test") != std::string::npos);
  CHECK(text.find("          by hand on edge1, in System > Clustering:\n"
                  "            TLS verification mode = Permissive\n"
                  "            Save\n"
                  "          edgecert checks: alarm 40049 (Cluster TLS permissive) must be "
                  "present on the node\n") != std::string::npos);
  CHECK(text.find("apply stops before each such step (exit 4)") != std::string::npos);
}
