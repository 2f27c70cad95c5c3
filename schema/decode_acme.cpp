// Decoding spec.acme: the Expressway-E ACME service settings (provider,
// account, mode, schedule).
#include "schema/decode_internal.h"

namespace edgecert::schema::detail {
namespace {

const KeyList kAcmeKeys = {"provider", "email",    "acceptTermsOfService",
                           "mode",     "renewKey", "schedule"};
const KeyList kAcmeProviderKeys = {"name", "directory"};
const KeyList kScheduleKeys = {"days", "time"};

}  // namespace

void Decoder::decode_acme(const Field& f) {
  Map m = map(f, kAcmeKeys);
  if (!m.ok) return;
  require(m, "provider");
  require(m, "email");
  spec::Acme a;
  if (const Field* pf = m.get("provider")) {
    Map p = map(*pf, kAcmeProviderKeys);
    require(p, "name");
    require(p, "directory");
    if (auto n = str(p, "name")) {
      if (n->empty()) error(p.get("name")->value_pos, "spec.acme.provider.name: must not be empty");
      a.provider_name = *n;
    }
    if (const Field* d = p.get("directory"))
      if (auto u = http_url(*d, true)) a.provider_directory = *u;
  }
  if (const Field* e = m.get("email"))
    if (auto v = email(*e)) a.email = *v;
  if (const Field* t = m.get("acceptTermsOfService")) {
    if (auto v = boolean(*t)) {
      a.accept_terms_of_service = *v;
      if (!*v)
        error(t->value_pos,
              "spec.acme.acceptTermsOfService: must be true: the ACME account cannot "
              "be created without accepting the provider's terms of service");
    }
  } else {
    error(f.key_pos,
          "spec.acme: acceptTermsOfService: true is required (the ACME account cannot "
          "be created without accepting the provider's terms of service)");
  }
  if (auto v = enumeration<spec::AcmeMode>(m, "mode")) a.mode = *v;
  if (auto v = enumeration<spec::KeyRotation>(m, "renewKey")) a.renew_key = *v;
  if (const Field* sf = m.get("schedule")) {
    Map s = map(*sf, kScheduleKeys);
    spec::Schedule sch;
    if (weekly_time(s, "time", &sch.days, &sch.minute_of_day)) a.schedule = std::move(sch);
  }
  if (a.mode == spec::AcmeMode::kAutomated && !m.has("schedule"))
    error(m.get("mode")->value_pos,
          "spec.acme.mode: automated mode deploys only in scheduled "
          "slots; add spec.acme.schedule with days and time");
  spec_.acme = std::move(a);
}

}  // namespace edgecert::schema::detail
