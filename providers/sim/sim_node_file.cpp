// The node file (<dir>/<name>.json): its JSON schema, reading, writing and
// the first boot. The schema is the simulator's own; only SimNode reads it
// (sim_node_internal.h). Fields added after format 1 are read with defaults,
// so older node files keep working.
#include <cctype>
#include <random>
#include <stdexcept>

#include <fmt/core.h>

#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "providers/sim/sim_node_internal.h"

namespace edgecert::sim::internal {

namespace {

json chain_json(const KeyedChain& k) {
  return json{{"chain", k.chain}, {"key", k.key}};
}
KeyedChain chain_from(const json& j) {
  return KeyedChain{j.at("chain").get<std::vector<std::string>>(), j.at("key").get<std::string>()};
}

json faults_json(const FaultConfig& f) {
  return json{{"latency_ms", f.latency_ms},
              {"failure_rate", f.failure_rate},
              {"seed", f.seed},
              {"drop_connections", f.drop_connections},
              {"drop_after_apply", f.drop_after_apply},
              {"restart_never_returns", f.restart_never_returns},
              {"restart_keeps_old_certificate", f.restart_keeps_old_certificate},
              {"slow_restart_seconds", f.slow_restart_seconds},
              {"restart_delay_seconds", f.restart_delay_seconds}};
}

FaultConfig faults_from(const json& j) {
  FaultConfig f;
  f.latency_ms = j.value("latency_ms", 0);
  f.failure_rate = j.value("failure_rate", 0.0);
  f.seed = j.value("seed", uint64_t{1});
  f.drop_connections = j.value("drop_connections", 0);
  f.drop_after_apply = j.value("drop_after_apply", false);
  f.restart_never_returns = j.value("restart_never_returns", false);
  f.restart_keeps_old_certificate = j.value("restart_keeps_old_certificate", false);
  f.slow_restart_seconds = j.value("slow_restart_seconds", 0);
  f.restart_delay_seconds = j.value("restart_delay_seconds", 0);
  return f;
}

json state_json(const State& s) {
  json j;
  j["format"] = 1;
  j["name"] = s.name;
  j["fqdn"] = s.fqdn;
  j["software_version"] = s.version;
  j["active"] = chain_json(s.active);
  j["staged"] = s.staged ? chain_json(*s.staged) : json(nullptr);
  j["csr"] = s.csr ? json{{"pem", s.csr->chain.at(0)}, {"key", s.csr->key}} : json(nullptr);
  j["factory_cas"] = s.factory_cas;
  j["trusted_cas"] = s.trusted_cas;
  j["crl"] = json{{"automatic_updates", s.crl.automatic_updates},
                  {"distribution_points", s.crl.distribution_points},
                  {"daily_update_minute", s.crl.daily_update_minute}};
  j["manual_crl_hex"] = s.manual_crl_hex ? json(*s.manual_crl_hex) : json(nullptr);
  j["revocation"] = json{{"enabled", s.revocation.enabled},
                         {"ocsp", s.revocation.ocsp},
                         {"crl", s.revocation.crl},
                         {"cdp_downloads", s.revocation.cdp_downloads},
                         {"fallback_treat_as_revoked",
                          s.revocation.fallback == spec::RevocationFallback::kTreatAsRevoked}};
  json acme{{"provider_name", s.acme.provider_name},
            {"provider_directory", s.acme.provider_directory},
            {"email", s.acme.email},
            {"terms_accepted", s.acme.terms_accepted},
            {"mode", static_cast<int>(s.acme.mode)},
            {"renew_key", static_cast<int>(s.acme.renew_key)},
            {"last_sign_status", s.acme_last_sign},
            {"last_deploy_status", s.acme_last_deploy},
            {"account_key", s.acme_account_key},
            {"account_url", s.acme_account_url},
            {"account_directory", s.acme_account_directory},
            {"deployed_sha256", s.acme_deployed_sha256}};
  acme["pending"] = s.acme_pending ? json{{"chain", s.acme_pending->chain},
                                          {"key", s.acme_pending->key},
                                          {"csr", s.acme_pending->csr}}
                                   : json(nullptr);
  acme["stored_csr"] = s.acme_stored
                           ? json{{"csr", s.acme_stored->csr}, {"key", s.acme_stored->key}}
                           : json(nullptr);
  if (s.acme.schedule) {
    acme["schedule"] =
        json{{"days", s.acme.schedule->days}, {"minute_of_day", s.acme.schedule->minute_of_day}};
  } else {
    acme["schedule"] = nullptr;
  }
  j["acme"] = acme;
  j["tls_verification"] = spec::tls_verification_name(s.tls);
  j["restart_required"] = s.restart_required;
  if (s.restarting) {
    j["restarting"] = json{{"until_ms", s.restarting->until_ms},
                           {"down_from_ms", s.restarting->down_from_ms},
                           {"never", s.restarting->never},
                           {"keep_old", s.restarting->keep_old}};
  } else {
    j["restarting"] = nullptr;
  }
  j["restart_seconds"] = s.restart_seconds;
  j["faults"] = faults_json(s.faults);
  j["sim_acme"] = json{{"http01_listen", s.http01_listen},
                       {"scheduler_seed", s.scheduler_seed},
                       {"scheduler_done_ms", s.scheduler_done_ms}};
  j["chat_node_aliases"] = s.chat_node_aliases;
  j["request_counter"] = s.request_counter;
  j["audit_reads"] = s.audit_reads;
  j["product"] = s.product;
  j["booted_ms"] = s.booted_ms;
  j["cluster_peers"] = s.cluster_peers ? json(*s.cluster_peers) : json(nullptr);
  j["node_files"] = s.node_files;
  return j;
}

// A time of day stored in the file: minutes after midnight, 0..1439 (a
// hand-edited file holding anything else is refused, naming the field).
int minute_of_day_from(const json& j, const char* field) {
  const json& v = j.at(field);
  if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() >= 24 * 60)
    throw std::runtime_error(fmt::format("{} is {}, not minutes after midnight (0..1439)", field,
                                         v.dump(-1, ' ', false, json::error_handler_t::replace)));
  return v.get<int>();
}

State state_from(const json& j) {
  State s;
  s.name = j.at("name").get<std::string>();
  s.fqdn = j.at("fqdn").get<std::string>();
  s.version = j.value("software_version", std::string(kSoftwareVersion));
  s.active = chain_from(j.at("active"));
  if (!j.at("staged").is_null()) s.staged = chain_from(j.at("staged"));
  if (!j.at("csr").is_null()) {
    s.csr =
        KeyedChain{{j["csr"].at("pem").get<std::string>()}, j["csr"].at("key").get<std::string>()};
  }
  s.factory_cas = j.at("factory_cas").get<std::vector<std::string>>();
  s.trusted_cas = j.at("trusted_cas").get<std::vector<std::string>>();
  const json& c = j.at("crl");
  s.crl.automatic_updates = c.at("automatic_updates").get<bool>();
  s.crl.distribution_points = c.at("distribution_points").get<std::vector<std::string>>();
  s.crl.daily_update_minute = minute_of_day_from(c, "daily_update_minute");
  if (!j.at("manual_crl_hex").is_null()) s.manual_crl_hex = j["manual_crl_hex"].get<std::string>();
  const json& r = j.at("revocation");
  s.revocation.enabled = r.at("enabled").get<bool>();
  s.revocation.ocsp = r.at("ocsp").get<bool>();
  s.revocation.crl = r.at("crl").get<bool>();
  s.revocation.cdp_downloads = r.at("cdp_downloads").get<bool>();
  s.revocation.fallback = r.at("fallback_treat_as_revoked").get<bool>()
                              ? spec::RevocationFallback::kTreatAsRevoked
                              : spec::RevocationFallback::kTreatAsNotRevoked;
  const json& a = j.at("acme");
  s.acme.provider_name = a.at("provider_name").get<std::string>();
  s.acme.provider_directory = a.at("provider_directory").get<std::string>();
  s.acme.email = a.at("email").get<std::string>();
  s.acme.terms_accepted = a.at("terms_accepted").get<bool>();
  s.acme.mode = static_cast<spec::AcmeMode>(a.at("mode").get<int>());
  s.acme.renew_key = static_cast<spec::KeyRotation>(a.at("renew_key").get<int>());
  s.acme_last_sign = a.value("last_sign_status", std::string());
  s.acme_last_deploy = a.value("last_deploy_status", std::string());
  s.acme_account_key = a.value("account_key", std::string());
  s.acme_account_url = a.value("account_url", std::string());
  s.acme_account_directory = a.value("account_directory", std::string());
  s.acme_deployed_sha256 = a.value("deployed_sha256", std::string());
  if (a.contains("pending") && !a["pending"].is_null()) {
    const json& p = a["pending"];
    s.acme_pending = AcmePending{p.at("chain").get<std::vector<std::string>>(),
                                 p.at("key").get<std::string>(), p.at("csr").get<std::string>()};
  }
  if (a.contains("stored_csr") && !a["stored_csr"].is_null()) {
    const json& p = a["stored_csr"];
    s.acme_stored = AcmeStored{p.at("csr").get<std::string>(), p.at("key").get<std::string>()};
  }
  if (!a.at("schedule").is_null()) {
    spec::Schedule sch;
    sch.days = a["schedule"].at("days").get<std::vector<spec::Weekday>>();
    sch.minute_of_day = minute_of_day_from(a["schedule"], "minute_of_day");
    s.acme.schedule = sch;
  }
  const std::string tls = j.at("tls_verification").get<std::string>();
  auto mode = enum_parse(spec::kTlsVerificationNames, tls);  // as state_json wrote it
  if (!mode) throw std::runtime_error("unknown tls_verification '" + tls + "'");
  s.tls = *mode;
  s.restart_required = j.at("restart_required").get<bool>();
  if (!j.at("restarting").is_null()) {
    const json& rs = j["restarting"];
    s.restarting =
        RestartInProgress{rs.at("until_ms").get<int64_t>(), rs.value("down_from_ms", int64_t{0}),
                          rs.at("never").get<bool>(), rs.at("keep_old").get<bool>()};
  }
  s.restart_seconds = j.value("restart_seconds", kDefaultRestartSeconds);
  s.faults = faults_from(j.value("faults", json::object()));
  const json sa = j.value("sim_acme", json::object());
  s.http01_listen = sa.value("http01_listen", std::string(kDefaultHttp01Listen));
  s.scheduler_seed = sa.value("scheduler_seed", uint64_t{1});
  s.scheduler_done_ms = sa.value("scheduler_done_ms", int64_t{0});
  s.chat_node_aliases = j.value("chat_node_aliases", std::vector<std::string>{});
  s.request_counter = j.value("request_counter", uint64_t{0});
  s.audit_reads = j.value("audit_reads", false);
  s.product = j.value("product", std::string());
  s.booted_ms = j.value("booted_ms", int64_t{0});
  if (j.contains("cluster_peers") && !j["cluster_peers"].is_null())
    s.cluster_peers = j["cluster_peers"].get<std::vector<std::string>>();
  s.node_files = j.value("node_files", std::map<std::string, std::string>{});
  return s;
}

// A uuid-looking tag for the factory CA, as fresh installs have.
std::string uuid_ish() {
  std::random_device rd;
  auto r32 = [&] { return static_cast<uint32_t>(rd()); };
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:08x}{:04x}", r32(), r32() & 0xffff,
                     (r32() & 0x0fff) | 0x4000, (r32() & 0x3fff) | 0x8000, r32(), r32() & 0xffff);
}

// A fresh install: temporary CA + server certificate for the node FQDN.
Result<State> factory_state(const std::string& name, const std::string& fqdn, TimePoint now) {
  State s;
  s.name = name;
  s.fqdn = fqdn;
  s.booted_ms = to_ms(now);
  auto ca_key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  if (!ca_key) return std::unexpected(ca_key.error());
  pki::CaOptions ca_opts;
  ca_opts.common_name = "TEMPORARY CA " + uuid_ish();
  ca_opts.subject.organization = "Temporary CA";
  ca_opts.not_before = now - std::chrono::hours(1);
  ca_opts.not_after = now + std::chrono::days(365 * 5);
  auto ca = pki::create_self_signed_ca(*ca_key, ca_opts);
  if (!ca) return std::unexpected(ca.error());

  auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
  if (!key) return std::unexpected(key.error());
  pki::CsrOptions csr_opts;
  csr_opts.common_name = fqdn;
  csr_opts.dns_names = {fqdn};
  auto csr = pki::CertificateRequest::create(*key, csr_opts);
  if (!csr) return std::unexpected(csr.error());
  pki::IssueOptions issue;
  issue.not_before = now - std::chrono::hours(1);
  issue.not_after = now + std::chrono::days(365 * 2);
  issue.serial_hex = "02";
  auto cert = pki::sign_csr(*csr, *ca, *ca_key, issue);
  if (!cert) return std::unexpected(cert.error());

  auto pem = key_pem(*key);
  if (!pem) return std::unexpected(pem.error());
  s.active = KeyedChain{{cert->to_pem()}, *pem};
  s.factory_cas = {ca->to_pem()};
  s.trusted_cas = s.factory_cas;
  return s;
}

}  // namespace

Result<State> read_state_file(const NodeFiles& f) {
  Result<std::string> data = f.env.read_file(f.state_path, read_limits::kState);
  if (!data) return std::unexpected(data.error());
  try {
    return state_from(json::parse(*data));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("{}: corrupt simulator node file: {}", f.state_path, e.what()));
  }
}

Result<State> load_state(const NodeFiles& f) {
  Result<State> s = read_state_file(f);
  if (s || s.error().code != ErrorCode::kNotFound) return s;
  auto fresh = factory_state(f.name, f.fqdn, f.env.now());
  if (!fresh) return std::unexpected(fresh.error());
  if (auto st = save_state(f, *fresh); !st) return std::unexpected(st.error());
  return fresh;
}

Status save_state(const NodeFiles& f, const State& s) {
  if (auto st = f.env.create_dirs(path_dirname(f.state_path), 0700); !st) return st;
  return f.env.write_file_atomic(f.state_path, state_json(s).dump(1) + "\n", 0600);
}

// --- Values as the node file holds them (sim_node_internal.h) -----------------

int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string to_hex(std::string_view data) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
  };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((val(hex[i]) << 4) | val(hex[i + 1])));
  }
  return out;
}

Result<std::vector<pki::Certificate>> parse_pems(const std::vector<std::string>& pems,
                                                 const std::string& what) {
  std::vector<pki::Certificate> out;
  out.reserve(pems.size());
  for (size_t i = 0; i < pems.size(); ++i) {
    auto c = pki::Certificate::parse_one(pems[i], fmt::format("{} {}", what, i));
    if (!c) return make_error(ErrorCode::kCorrupt, c.error().message);
    out.push_back(std::move(*c));
  }
  return out;
}

Result<pki::Certificate> active_leaf(const State& s) {
  auto leaf = pki::Certificate::parse_one(s.active.chain.at(0), "active certificate");
  if (!leaf) return make_error(ErrorCode::kCorrupt, leaf.error().message);
  return leaf;
}

Result<std::string> key_pem(const pki::PrivateKey& key) {
  auto pem = key.to_pem();
  if (!pem) return std::unexpected(pem.error());
  return std::string(pem->view());
}

}  // namespace edgecert::sim::internal
