#include "reconciler/engine/manual_steps.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/time.h"
#include "providers/pki/spki.h"
#include "reconciler/engine/json_fields.h"
#include "schema/values.h"

namespace edgecert {
namespace {

using State = ManualCheck::State;
constexpr const char* kSecurityPage = "Maintenance > Security";
constexpr const char* kUnverifiable =
    "cannot be verified: the node shows no read-back for it; you confirm it (answer 'done', or "
    "run apply again with --confirm-manual)";

std::string short_fp(const std::string& fp) {
  return fp.substr(0, 23);
}

std::string crl_page() {
  return std::string(kSecurityPage) + " > CRL management";
}

std::string tls_mode_title(spec::TlsVerification mode) {
  return mode == spec::TlsVerification::kPermissive ? "Permissive" : "Enforce";
}

}  // namespace

std::optional<node::ManualOperation> manual_operation_for(ActionKind kind, bool node_signs) {
  using Op = node::ManualOperation;
  switch (kind) {
    case ActionKind::kDiscardCsr:
      return Op::kDiscardCsr;
    case ActionKind::kDeleteTrustedCa:
      return Op::kDeleteTrustedCa;
    case ActionKind::kSetCrlSettings:
      return Op::kSetCrlSettings;
    case ActionKind::kUploadManualCrl:
      return Op::kUploadManualCrl;
    case ActionKind::kRemoveManualCrl:
      return Op::kRemoveManualCrl;
    case ActionKind::kSetTlsVerification:
      return Op::kSetTlsVerification;
    case ActionKind::kRevokeSuperseded:
      if (node_signs) return Op::kAcmeRevoke;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

ManualInstruction manual_instruction(const Action& a) {
  ManualInstruction m;
  switch (a.kind()) {
    case ActionKind::kDiscardCsr:
      m.page = std::string(kSecurityPage) + " > Server certificate";
      m.settings = {"Discard CSR"};
      m.check = "edgecert re-reads the pending CSR: there must be none (generate_csr answers 404)";
      break;
    case ActionKind::kDeleteTrustedCa: {
      const auto& p = a.as<DeleteTrustedCaParams>();
      std::string name = a.before.is_object() ? a.before.value("certificate", "") : "";
      m.page = std::string(kSecurityPage) + " > Trusted CA certificate";
      m.settings = {fmt::format("tick '{}' (SHA-256 {})", name, p.sha256), "Delete"};
      m.check =
          "edgecert re-reads the trusted CA list (certs/root): it must no longer hold SHA-256 " +
          short_fp(p.sha256);
      break;
    }
    case ActionKind::kSetTlsVerification: {
      const auto mode = a.as<SetTlsVerificationParams>().mode;
      m.page = "System > Clustering";
      m.settings = {"TLS verification mode = " + tls_mode_title(mode), "Save"};
      if (mode == spec::TlsVerification::kEnforce)
        m.settings.front() += " (Enforce needs every peer address to be an FQDN)";
      m.check = mode == spec::TlsVerification::kPermissive
                    ? "alarm 40049 (Cluster TLS permissive) must be present on the node"
                    : "alarm 40049 (Cluster TLS permissive) must be absent from the node";
      break;
    }
    case ActionKind::kSetCrlSettings: {
      const auto& s = a.as<SetCrlSettingsParams>().settings;
      m.page = crl_page();
      m.settings.push_back(std::string("Automatic CRL updates = ") +
                           (s.automatic_updates ? "Enabled" : "Disabled"));
      if (s.automatic_updates) {
        m.settings.push_back(
            fmt::format("CRL distribution points = {} (one URL per line)",
                        s.distribution_points.empty()
                            ? std::string("(none)")
                            : fmt::format("{}", fmt::join(s.distribution_points, ", "))));
        m.settings.push_back(
            "Daily update time = " + schema::format_time_of_day(s.daily_update_minute) + " (UTC)");
      }
      m.settings.push_back("Save");
      m.check = kUnverifiable;
      m.verifiable = false;
      break;
    }
    case ActionKind::kUploadManualCrl: {
      const auto& p = a.as<UploadManualCrlParams>();
      m.page = crl_page();
      // A DER file in the spec: the planner wrote its PEM form (the only
      // one the appliance takes) to the state folder.
      const std::string upload =
          a.after.is_object() ? a.after.value("upload_file", std::string()) : std::string();
      m.settings = {upload.empty()
                        ? fmt::format("Browse: {} (SHA-256 {})", p.path, short_fp(p.sha256))
                        : fmt::format("Browse: {} (SHA-256 {}; {} converted to PEM)", upload,
                                      short_fp(p.sha256), p.path),
                    "Upload CRL file (replaces the CRL loaded before)"};
      m.check = kUnverifiable;
      m.verifiable = false;
      break;
    }
    case ActionKind::kRemoveManualCrl:
      m.page = crl_page();
      m.settings = {"Remove revocation list"};
      m.check = kUnverifiable;
      m.verifiable = false;
      break;
    case ActionKind::kRevokeSuperseded: {
      const auto& p = a.as<RevokeSupersededParams>();
      std::string serial = a.before.is_object() ? a.before.value("serial", "") : "";
      std::string provider = a.after.is_object() ? a.after.value("acme_provider", "") : "";
      m.page = "the node's SSH command line, as root (no web UI page)";
      m.settings = {
          fmt::format("copy the superseded certificate (serial {}, SHA-256 {}) onto the node as "
                      "a PEM file (it is in the plan: params.pem of this action)",
                      serial, short_fp(p.sha256)),
          fmt::format("xCommand ACME Revoke CertPath: \"<that file>\" Provider: \"{}\"",
                      provider.empty() ? "<the ACME provider's name>" : provider)};
      m.check = kUnverifiable;
      m.verifiable = false;
      break;
    }
    default:
      m.page = "(no web UI page known)";
      m.settings = {std::string(action_kind_name(a.kind()))};
      m.check = kUnverifiable;
      m.verifiable = false;
      break;
  }
  return m;
}

std::string manual_instruction_line(const Action& a) {
  ManualInstruction m = manual_instruction(a);
  return fmt::format("{}: {}: {}", a.node, m.page, fmt::join(m.settings, ", "));
}

std::string manual_step_key(const Action& a) {
  return fmt::format("{}/{}/{}", a.node, action_kind_name(a.kind()),
                     pki::sha256_hex(params_to_json(a.params).dump()).substr(0, 16));
}

ManualCheck check_manual_step(const Action& a, const node::NodeState& st) {
  auto done = [](std::string m) { return ManualCheck{State::kDone, std::move(m)}; };
  auto not_done = [](std::string m) { return ManualCheck{State::kNotDone, std::move(m)}; };
  const ManualCheck unverifiable{State::kUnverifiable, "nothing on the node shows it"};
  switch (a.kind()) {
    case ActionKind::kDiscardCsr:
      if (!st.pending_csr) return done("no CSR is pending on the node");
      return not_done(
          fmt::format("a CSR (CN '{}') is still pending on the node", st.pending_csr->common_name));
    case ActionKind::kDeleteTrustedCa: {
      const std::string& fp = a.as<DeleteTrustedCaParams>().sha256;
      bool present =
          std::any_of(st.trusted_cas.begin(), st.trusted_cas.end(),
                      [&](const pki::Certificate& c) { return c.sha256_fingerprint() == fp; });
      if (!present) return done("the trusted CA list no longer holds " + short_fp(fp));
      return not_done("the trusted CA list still holds " + short_fp(fp));
    }
    case ActionKind::kSetTlsVerification: {
      const auto mode = a.as<SetTlsVerificationParams>().mode;
      std::string alarm =
          st.tls_verification == spec::TlsVerification::kPermissive ? "present" : "absent";
      std::string now = fmt::format("alarm 40049 {}: TLS verification is {}", alarm,
                                    spec::tls_verification_name(st.tls_verification));
      if (st.tls_verification == mode) return done(now);
      return not_done(now + ", not " + spec::tls_verification_name(mode));
    }
    case ActionKind::kSetCrlSettings:
      if (!st.crl_settings_known) return unverifiable;
      if (st.crl == a.as<SetCrlSettingsParams>().settings)
        return done("the node shows the settings");
      return not_done("the node shows other CRL settings");
    case ActionKind::kUploadManualCrl: {
      if (!st.manual_crl_known) return unverifiable;
      const std::string& want = a.as<UploadManualCrlParams>().sha256;
      if (st.manual_crl_sha256 && *st.manual_crl_sha256 == want)
        return done("the node holds manual CRL " + short_fp(want));
      return not_done("the node holds manual CRL " +
                      (st.manual_crl_sha256 ? short_fp(*st.manual_crl_sha256) : "none"));
    }
    case ActionKind::kRemoveManualCrl:
      if (!st.manual_crl_known) return unverifiable;
      if (!st.manual_crl_sha256) return done("no manual CRL on the node");
      return not_done("the node still holds manual CRL " + short_fp(*st.manual_crl_sha256));
    default:
      return unverifiable;
  }
}

// --- manual.json ---------------------------------------------------------------

std::string confirmed_values_path(const std::string& cluster_state_dir) {
  return path_join(cluster_state_dir, "manual.json");
}

namespace {

Result<nlohmann::json> read_confirmed_json(Env& env, const std::string& path) {
  if (!env.exists(path))
    return nlohmann::json{{"format_version", 1}, {"nodes", nlohmann::json::object()}};
  auto text = env.read_file(path, read_limits::kState);
  if (!text) return std::unexpected(text.error());
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("nodes") || !j["nodes"].is_object())
    return make_error(ErrorCode::kCorrupt,
                      path +
                          ": not a confirmed-values file (expected {\"format_version\": 1, "
                          "\"nodes\": {...}}); fix or remove it");
  return j;
}

}  // namespace

Result<ConfirmedValues> read_confirmed_values(Env& env, const std::string& cluster_state_dir) {
  const std::string path = confirmed_values_path(cluster_state_dir);
  auto j = read_confirmed_json(env, path);
  if (!j) return std::unexpected(j.error());
  ConfirmedValues out;
  for (auto it = (*j)["nodes"].begin(); it != (*j)["nodes"].end(); ++it) {
    if (!it.value().is_object()) continue;
    ConfirmedNode n;
    if (auto c = it.value().find("crl_settings"); c != it.value().end() && c->is_object()) {
      auto p = params_from_json(ActionKind::kSetCrlSettings, c->value("value", nlohmann::json()));
      if (!p)
        return make_error(ErrorCode::kCorrupt, fmt::format("{}: nodes.{}.crl_settings.value: {}",
                                                           path, it.key(), p.error().message));
      n.crl_settings = std::get<SetCrlSettingsParams>(*p).settings;
    }
    if (auto c = it.value().find("manual_crl"); c != it.value().end() && c->is_object()) {
      auto fp = c->find("sha256");
      if (fp == c->end() || !(fp->is_null() || fp->is_string()))
        return make_error(ErrorCode::kCorrupt,
                          fmt::format("{}: nodes.{}.manual_crl.sha256: expected a string or null",
                                      path, it.key()));
      n.manual_crl_sha256 = fp->is_null() ? std::optional<std::string>()
                                          : std::optional<std::string>(fp->get<std::string>());
    }
    out[it.key()] = std::move(n);
  }
  return out;
}

Status record_confirmed_value(Env& env, const std::string& cluster_state_dir, const Action& a,
                              const std::string& run_id) {
  nlohmann::json entry = {{"confirmed_at", format_time_iso(env.now())}, {"run", run_id}};
  std::string field;
  switch (a.kind()) {
    case ActionKind::kSetCrlSettings:
      field = "crl_settings";
      entry["value"] = params_to_json(a.params);
      break;
    case ActionKind::kUploadManualCrl:
      field = "manual_crl";
      entry["sha256"] = a.as<UploadManualCrlParams>().sha256;
      entry["file"] = a.as<UploadManualCrlParams>().path;
      break;
    case ActionKind::kRemoveManualCrl:
      field = "manual_crl";
      entry["sha256"] = nullptr;
      break;
    default:
      return {};
  }
  const std::string path = confirmed_values_path(cluster_state_dir);
  auto j = read_confirmed_json(env, path);
  if (!j) return std::unexpected(j.error());
  (*j)["format_version"] = 1;
  (*j)["nodes"][a.node][field] = entry;
  if (auto st = env.create_dirs(cluster_state_dir, 0700); !st) return st;
  return env.write_file_atomic(path, j->dump(2) + "\n", 0644);
}

void apply_confirmed_values(ClusterLive& live, const ConfirmedValues& confirmed) {
  for (NodeLive& n : live.nodes) {
    if (!n.state) continue;
    auto it = confirmed.find(n.peer);
    if (it == confirmed.end()) continue;
    nlohmann::json from_operator = nlohmann::json::object();
    if (!n.state->crl_settings_known && it->second.crl_settings) {
      n.state->crl = *it->second.crl_settings;
      n.state->crl_settings_known = true;
      from_operator["crl_settings"] = true;
    }
    if (!n.state->manual_crl_known && it->second.manual_crl_sha256) {
      n.state->manual_crl_sha256 = *it->second.manual_crl_sha256;
      n.state->manual_crl_known = true;
      from_operator["manual_crl"] = true;
    }
    if (from_operator.empty()) continue;
    n.summary = node_summary(*n.state);
    n.summary["confirmed_by_operator"] = from_operator;
    n.fingerprint = pki::sha256_hex(n.summary.dump());
  }
}

void mark_manual_steps(Plan& plan, const ClusterLive& live, bool node_signs) {
  for (Action& a : plan.actions) {
    auto op = manual_operation_for(a.kind(), node_signs);
    const NodeLive* n = live.find(a.node);
    if (!op || !n || !n->state) continue;
    const auto& ops = n->state->manual_operations;
    a.manual = std::find(ops.begin(), ops.end(), *op) != ops.end();
  }
}

}  // namespace edgecert
