// The ACME service's automated mode (SimNode::run_scheduler states what it
// does): renewal checks twice a day and deploys at the scheduled slots,
// replayed in time order up to now, as if the node's scheduler had been
// running all along.
#include <algorithm>

#include <fmt/core.h>

#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/sim/sim_node_internal.h"

namespace edgecert::sim::internal {

namespace {

// A CSR like `stored` (subject, names, key type and size, digest) for a fresh
// key: automated renewal with renew key "rotate".
Result<AcmeStored> rotated_request(const std::string& stored_csr) {
  auto old = pki::CertificateRequest::parse(stored_csr, "stored ACME CSR");
  if (!old) return make_error(ErrorCode::kCorrupt, old.error().message);
  pki::KeyInfo ki = old->key_info();
  bool rsa = ki.algorithm == "RSA";
  auto key = pki::PrivateKey::generate(rsa ? spec::KeyAlgorithm::kRsa : spec::KeyAlgorithm::kEcdsa,
                                       ki.bits);
  if (!key) return std::unexpected(key.error());
  pki::CsrOptions o;
  o.common_name = old->subject_cn();
  o.subject = pki::subject_fields_of(old->subject_attributes());
  o.dns_names = old->subject_alt_names().dns;
  std::string d = old->signature_digest();
  o.digest = d == "sha384"   ? spec::Digest::kSha384
             : d == "sha512" ? spec::Digest::kSha512
                             : spec::Digest::kSha256;
  auto csr = pki::CertificateRequest::create(*key, o);
  if (!csr) return std::unexpected(csr.error());
  auto pem = key_pem(*key);
  if (!pem) return std::unexpected(pem.error());
  return AcmeStored{csr->to_pem(), *pem};
}

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;
constexpr int64_t kHalfDayMs = kDayMs / 2;

}  // namespace

bool run_acme_scheduler(const NodeFiles& f, State& s, TimePoint now) {
  const int64_t from = s.scheduler_done_ms;
  const int64_t to = to_ms(now);
  s.scheduler_done_ms = std::max(from, to);
  const bool automated = s.acme.mode == spec::AcmeMode::kAutomated && s.acme.schedule &&
                         !s.acme.schedule->days.empty();
  // First run in automated mode (a node file from before the scheduler):
  // start counting now, and save that.
  if (automated && from <= 0) return true;
  if (!automated || from >= to) return false;

  struct Event {
    int64_t at_ms;
    bool deploy_slot;
  };
  std::vector<Event> events;
  for (int64_t day = from / kDayMs; day <= to / kDayMs; ++day) {
    for (int half = 0; half < 2; ++half) {
      double r =
          unit_random(s.scheduler_seed ^ 0x5eedacedULL, static_cast<uint64_t>(day * 2 + half));
      events.push_back({day * kDayMs + half * kHalfDayMs +
                            static_cast<int64_t>(r * static_cast<double>(kHalfDayMs)),
                        false});
    }
    // 1970-01-01 was a Thursday (weekday 4, 0 = Sunday).
    auto weekday = static_cast<spec::Weekday>((day + 4) % 7);
    const auto& days = s.acme.schedule->days;
    if (std::find(days.begin(), days.end(), weekday) != days.end()) {
      events.push_back({day * kDayMs + int64_t{s.acme.schedule->minute_of_day} * 60 * 1000, true});
    }
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.at_ms < b.at_ms; });

  bool changed = false;
  bool failed = false;  // one failed renewal per catch-up: the next check is hours away
  for (const Event& e : events) {
    if (e.at_ms <= from || e.at_ms > to) continue;
    const TimePoint t{std::chrono::milliseconds(e.at_ms)};
    if (e.deploy_slot) {
      if (!s.acme_pending) continue;
      json details{{"slot", format_time_iso(t)}};
      acme_activate(s, t, details);
      write_audit(f, t, "acme_automated_deploy", "ok", details);
      changed = true;
      continue;
    }
    if (failed || s.acme_pending || !s.acme_stored || s.acme_deployed_sha256.empty()) continue;
    auto active = active_leaf(s);
    // Only the certificate the service deployed itself is renewed.
    if (!active || active->sha256_fingerprint() != s.acme_deployed_sha256) continue;
    TimePoint due = active->not_before() + (active->not_after() - active->not_before()) * 2 / 3;
    if (t < due) continue;

    json details{{"renew_key", spec::key_rotation_name(s.acme.renew_key)},
                 {"replaces", s.acme_deployed_sha256}};
    Result<AcmeStored> request = s.acme.renew_key == spec::KeyRotation::kRotate
                                     ? rotated_request(s.acme_stored->csr)
                                     : Result<AcmeStored>(*s.acme_stored);
    Result<std::vector<std::string>> chain =
        request ? acme_sign_csr(f.env, s, request->csr, details)
                : Result<std::vector<std::string>>(std::unexpected(request.error()));
    changed = true;
    if (!chain) {
      failed = true;
      s.acme_last_sign = failed_status_line(t, chain.error().message);
      write_audit(f, t, "acme_automated_sign", error_outcome(chain.error()), details);
      continue;
    }
    s.acme_pending = AcmePending{std::move(*chain), request->key, request->csr};
    s.acme_last_sign = status_line("Success", t);
    write_audit(f, t, "acme_automated_sign", "ok", details);
  }
  return changed;
}

}  // namespace edgecert::sim::internal
