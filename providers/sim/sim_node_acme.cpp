// SimNode's ACME service (Expressway-E, guide ch.4; §4 of
// ../shared/reference/expressway.md): settings, sign, deploy, discard and
// revoke, and the account they share. Automated mode is
// sim_node_scheduler.cpp.
#include <fmt/core.h>

#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/spki.h"
#include "providers/sim/sim_node_internal.h"

namespace edgecert::sim {

namespace internal {

namespace {

// Why the service cannot sign, deploy or revoke with these settings.
std::optional<Error> acme_unusable(const node::AcmeSettings& a) {
  if (a.mode == spec::AcmeMode::kDisabled) {
    return invalid("the ACME service is disabled; configure the provider, e-mail and terms first");
  }
  if (a.provider_directory.rfind("https://", 0) != 0 || a.email.empty() || !a.terms_accepted) {
    return invalid("the ACME settings are incomplete (provider directory, e-mail, terms)");
  }
  return std::nullopt;
}

// The node's ACME client with its account: the account key is created on
// first use, the account registered with the configured provider when it is
// not yet (both kept in `s`, whatever happens next).
Result<std::unique_ptr<NodeAcmeClient>> acme_client_for(Env& env, State& s, json& details) {
  if (s.acme_account_key.empty()) {
    auto k = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
    if (!k) return std::unexpected(k.error());
    auto pem = key_pem(*k);
    if (!pem) return std::unexpected(pem.error());
    s.acme_account_key = *pem;
    details["account_key_created"] = true;
  }
  auto key = pki::PrivateKey::parse(s.acme_account_key, "ACME account key");
  if (!key) return make_error(ErrorCode::kCorrupt, key.error().message);
  auto client =
      NodeAcmeClient::open(env, s.acme.provider_directory, s.trusted_cas, std::move(*key));
  if (!client) return std::unexpected(client.error());
  const bool known = acme_account_registered(s);
  auto url = (*client)->ensure_account(known ? s.acme_account_url : "", s.acme.email);
  if (!url) return std::unexpected(url.error());
  if (!known) details["account_registered"] = *url;
  s.acme_account_url = *url;
  s.acme_account_directory = s.acme.provider_directory;
  return client;
}

// Runs `call` with the node's ACME client; errors name the provider.
template <class Call>
auto with_acme_client(Env& env, State& s, json& details, Call&& call)
    -> decltype(call(std::declval<NodeAcmeClient&>())) {
  const std::string where = "ACME provider " + s.acme.provider_directory;
  auto client = acme_client_for(env, s, details);
  if (!client) return std::unexpected(client.error().with_context(where));
  auto r = call(**client);
  if (!r) return std::unexpected(r.error().with_context(where));
  return r;
}

}  // namespace

bool acme_account_registered(const State& s) {
  return !s.acme_account_url.empty() && s.acme_account_directory == s.acme.provider_directory;
}

std::string status_line(const char* what, TimePoint t) {
  return fmt::format("{}: {}", what, format_time_iso(t));
}

std::string failed_status_line(TimePoint t, const std::string& reason) {
  return fmt::format("{}: {}", status_line("Failed", t), reason);
}

Result<std::vector<std::string>> acme_sign_csr(Env& env, State& s, const std::string& csr_pem,
                                               json& details) {
  auto csr = pki::CertificateRequest::parse(csr_pem, "ACME CSR");
  if (!csr) return make_error(ErrorCode::kCorrupt, csr.error().message);
  auto names = acme::order_names(*csr);
  if (!names) return std::unexpected(names.error());
  details["names"] = *names;
  details["provider"] = s.acme.provider_name;
  details["directory"] = s.acme.provider_directory;
  auto pem = with_acme_client(
      env, s, details, [&](NodeAcmeClient& client) { return client.sign(*csr, s.http01_listen); });
  if (!pem) return std::unexpected(pem.error());
  auto chain = pki::Certificate::parse_all(*pem, "ACME certificate chain");
  if (!chain || chain->empty()) {
    return make_error(ErrorCode::kUnavailable,
                      "the ACME provider returned no usable certificate chain" +
                          (chain ? std::string() : ": " + chain.error().message));
  }
  if (pki::spki_sha256(chain->front()) != pki::spki_sha256(*csr)) {
    return make_error(ErrorCode::kUnavailable,
                      "the ACME provider's certificate is not for the CSR's key");
  }
  std::vector<std::string> out;
  for (const pki::Certificate& c : *chain) out.push_back(c.to_pem());
  details["sha256"] = chain->front().sha256_fingerprint();
  details["serial"] = chain->front().serial_hex();
  details["not_after"] = format_time(chain->front().not_after());
  return out;
}

void acme_activate(State& s, TimePoint t, json& details) {
  AcmePending p = std::move(*s.acme_pending);
  s.acme_pending.reset();
  if (s.csr && s.csr->chain.at(0) == p.csr) s.csr.reset();  // consumed by the deploy
  s.active = KeyedChain{p.chain, p.key};
  s.acme_stored = AcmeStored{p.csr, p.key};
  auto leaf = pki::Certificate::parse_one(p.chain.at(0), "ACME certificate");
  s.acme_deployed_sha256 = leaf ? leaf->sha256_fingerprint() : std::string();
  s.acme_last_deploy = status_line("Success", t);
  details["sha256"] = s.acme_deployed_sha256;
}

}  // namespace internal

using internal::AcmePending;
using internal::invalid;
using internal::OpContext;
using internal::run_op;
using internal::State;

Result<node::AcmeSettings> SimNode::acme_settings() {
  return run_op(
      files(), "acme_settings",
      [](OpContext& c) -> Result<node::AcmeSettings> { return c.state.acme; }, internal::kReadOp);
}

Status SimNode::set_acme_settings(const node::AcmeSettings& settings) {
  return run_op(files(), "set_acme_settings", [&](OpContext& c) -> Status {
    if (settings.mode != spec::AcmeMode::kDisabled) {
      if (settings.provider_directory.rfind("https://", 0) != 0) {
        return std::unexpected(invalid("the ACME provider directory must be an HTTPS URL"));
      }
      if (settings.email.find('@') == std::string::npos) {
        return std::unexpected(invalid("the ACME account e-mail address is not valid"));
      }
      if (!settings.terms_accepted) {
        return std::unexpected(invalid("the ACME provider's terms of service must be accepted"));
      }
    }
    if (settings.mode == spec::AcmeMode::kAutomated &&
        (!settings.schedule || settings.schedule->days.empty())) {
      return std::unexpected(
          invalid("automated ACME mode needs a schedule with at least one day of the week"));
    }
    if (settings.schedule) {
      // What the engine or a wire reply hands over is checked like the
      // appliance's own form would: a time of day in range, real weekdays.
      if (settings.schedule->minute_of_day < 0 || settings.schedule->minute_of_day >= 24 * 60)
        return std::unexpected(
            invalid(fmt::format("RenewalSchedule TimeOfDay: {} minutes after midnight is not "
                                "between 00:00 and 23:59",
                                settings.schedule->minute_of_day)));
      for (spec::Weekday d : settings.schedule->days)
        if (d > 6)
          return std::unexpected(
              invalid(fmt::format("RenewalSchedule DaysOfWeek: {} is not a day of the week", d)));
    }
    c.state.acme = settings;
    c.changed = true;
    c.details["mode"] = spec::acme_mode_name(settings.mode);
    c.details["provider"] = settings.provider_name;
    return {};
  });
}

Status SimNode::acme_sign() {
  Env& env = env_;
  return run_op(files(), "acme_sign", [&env](OpContext& c) -> Status {
    State& s = c.state;
    if (auto e = internal::acme_unusable(s.acme)) return std::unexpected(*e);
    if (!s.csr) {
      return make_error(ErrorCode::kNotFound,
                        "no CSR is in progress; generate a CSR before signing it with the ACME "
                        "provider");
    }
    // From here on the attempt counts: its outcome is the last sign status,
    // and a registered account stays registered.
    c.persist_on_error = true;
    const TimePoint started = env.now();
    auto chain = internal::acme_sign_csr(env, s, s.csr->chain.at(0), c.details);
    if (!chain) {
      s.acme_last_sign = internal::failed_status_line(started, chain.error().message);
      return std::unexpected(chain.error());
    }
    s.acme_pending = AcmePending{std::move(*chain), s.csr->key, s.csr->chain.at(0)};
    s.acme_last_sign = internal::status_line("Success", started);
    c.changed = true;
    return {};
  });
}

Status SimNode::acme_deploy() {
  Env& env = env_;
  return run_op(files(), "acme_deploy", [&env](OpContext& c) -> Status {
    State& s = c.state;
    if (auto e = internal::acme_unusable(s.acme)) return std::unexpected(*e);
    if (!s.acme_pending) {
      return make_error(ErrorCode::kNotFound,
                        "no ACME certificate is pending; sign a CSR with the ACME provider first");
    }
    internal::acme_activate(s, env.now(), c.details);
    c.changed = true;
    return {};
  });
}

Status SimNode::acme_discard_pending() {
  return run_op(files(), "acme_discard_pending", [](OpContext& c) -> Status {
    State& s = c.state;
    if (!s.acme_pending) return make_error(ErrorCode::kNotFound, "no ACME certificate is pending");
    auto leaf = pki::Certificate::parse_one(s.acme_pending->chain.at(0), "pending ACME");
    if (leaf) c.details["sha256"] = leaf->sha256_fingerprint();
    s.acme_pending.reset();
    c.changed = true;
    return {};
  });
}

Status SimNode::acme_revoke(std::string_view certificate_pem, pki::RevocationReason reason) {
  Env& env = env_;
  const int code = static_cast<int>(reason);
  return run_op(files(), "acme_revoke", [&](OpContext& c) -> Status {
    State& s = c.state;
    c.details["reason"] = code;  // the audit trail keeps the wire code
    if (auto e = internal::acme_unusable(s.acme)) return std::unexpected(*e);
    // The enum can hold any int (a wire code cast by edgecert-sim's route).
    if (!pki::revocation_reason_from_code(code)) {
      return std::unexpected(invalid(
          fmt::format("revocation reason {} is not one an ACME provider accepts (0 unspecified, 1 "
                      "keyCompromise, 3 affiliationChanged, 4 superseded, 5 cessationOfOperation)",
                      code)));
    }
    if (certificate_pem.find("-----BEGIN") == std::string_view::npos) {
      return std::unexpected(invalid("the certificate to revoke is not a PEM file"));
    }
    auto certs = pki::Certificate::parse_all(certificate_pem, "certificate to revoke");
    if (!certs || certs->empty()) {
      return std::unexpected(invalid("the certificate to revoke is not a valid PEM certificate" +
                                     (certs ? std::string() : ": " + certs.error().message)));
    }
    const pki::Certificate& cert = certs->front();
    c.details["sha256"] = cert.sha256_fingerprint();
    c.details["serial"] = cert.serial_hex();
    auto active = internal::active_leaf(s);
    if (!active) return std::unexpected(active.error());
    if (active->sha256_fingerprint() == cert.sha256_fingerprint()) {
      return std::unexpected(invalid(
          fmt::format("certificate serial {} is in use (the node serves it); deploy a replacement "
                      "first: never revoke the certificate in use",
                      cert.serial_hex())));
    }
    c.persist_on_error = true;  // a registered account stays registered
    c.changed = true;
    return internal::with_acme_client(
        env, s, c.details, [&](NodeAcmeClient& client) { return client.revoke(cert, reason); });
  });
}

}  // namespace edgecert::sim
