// Decoding spec.rollout: peer order, health timeout and maintenance
// windows. Whether the order names every peer is a cross-field rule
// (cross_field_rules.cpp).
#include <regex>

#include <fmt/core.h>

#include "schema/decode_internal.h"
#include "schema/values.h"

namespace edgecert::schema::detail {
namespace {

const KeyList kRolloutKeys = {"order",        "healthTimeout",    "relaxTlsVerification",
                              "windows",      "revokeSuperseded", "lockRepository",
                              "changeControl"};
const KeyList kChangeControlKeys = {"approvals", "changeIdPattern"};
const KeyList kWindowKeys = {"days", "start", "duration", "timezone"};

// "scheme://..." with one of the schemes libgit2 reaches, or scp-like
// "user@host:path"; anything else is a local path.
bool looks_like_url(const std::string& s) {
  auto colon = s.find(':');
  if (colon == std::string::npos) return false;
  if (s.compare(colon, 3, "://") == 0) return true;
  auto at = s.find('@');
  return at != std::string::npos && at < colon && s.find('/') > colon;
}

}  // namespace

void Decoder::decode_lock_repository(const Field& f) {
  auto s = str(f);
  if (!s) return;
  if (s->empty()) {
    error(f.value_pos, fmt::format("{}: the repository is empty", f.name()));
    return;
  }
  if (!looks_like_url(*s)) {
    auto p = file_path(f, PathUse::kWritten);
    if (p) spec_.rollout.lock_repository = *p;
    return;
  }
  auto scheme_end = s->find("://");
  if (scheme_end != std::string::npos) {
    std::string scheme = s->substr(0, scheme_end);
    if (scheme != "ssh" && scheme != "git" && scheme != "https" && scheme != "file") {
      error(f.value_pos,
            fmt::format("{}: scheme '{}' is not one edgecert uses for the lock repository (ssh, "
                        "git, https, file, or a path)",
                        f.name(), clip_for_message(scheme)));
      return;
    }
    if (s->find('@') != std::string::npos && s->find(':', scheme_end + 3) < s->find('@')) {
      error(f.value_pos, fmt::format("{}: a password does not belong in the spec; use an SSH "
                                     "URL (ssh-agent) or a credential the git host gives CI",
                                     f.name()));
      return;
    }
  }
  spec_.rollout.lock_repository = *s;
}

void Decoder::decode_change_control(const Field& f) {
  Map m = map(f, kChangeControlKeys);
  if (!m.ok) return;
  spec::ChangeControl cc;
  if (const Field* a = m.get("approvals")) {
    if (auto n = integer(*a)) {
      if (*n < 0 || *n > 9)
        error(a->value_pos, fmt::format("{}: must be 0 to 9 (distinct approvers)", a->name()));
      else
        cc.approvals = static_cast<int>(*n);
    }
  }
  if (const Field* p = m.get("changeIdPattern")) {
    if (auto text = str(*p)) {
      if (text->empty() || text->size() > 256) {
        error(p->value_pos, fmt::format("{}: must be 1 to 256 characters", p->name()));
      } else {
        try {
          std::regex compiled(*text, std::regex::ECMAScript);
          cc.change_id_pattern = *text;
        } catch (const std::regex_error& e) {
          error(p->value_pos, fmt::format("{}: not a regular expression: {}", p->name(), e.what()));
        }
      }
    }
  }
  spec_.rollout.change_control = std::move(cc);
}

void Decoder::decode_rollout(const Field& f) {
  Map m = map(f, kRolloutKeys);
  if (!m.ok) return;
  spec::Rollout& r = spec_.rollout;
  if (const Field* o = m.get("order")) {
    order_field_ = *o;
    for (const Field& item : seq(*o))
      if (auto s = str(item)) r.order.push_back(*s);
  }
  if (const Field* h = m.get("healthTimeout")) {
    if (auto d = duration(*h)) {
      if (d->count() <= 0)
        error(h->value_pos, "spec.rollout.healthTimeout: must be longer than zero");
      else
        r.health_timeout = *d;
    }
  }
  if (auto v = boolean(m, "relaxTlsVerification")) r.relax_tls_verification = *v;
  if (auto v = boolean(m, "revokeSuperseded")) r.revoke_superseded = *v;
  if (const Field* lf = m.get("lockRepository")) decode_lock_repository(*lf);
  if (const Field* cf = m.get("changeControl")) decode_change_control(*cf);
  if (const Field* wf = m.get("windows")) {
    std::vector<Field> items = seq(*wf);
    if (wf->value.IsSequence() && items.empty())
      error(wf->value_pos,
            "spec.rollout.windows: an empty list of windows never opens; omit "
            "windows to allow rollouts at any time");
    bool any_long_enough = false;
    for (const Field& item : items) {
      Map w = map(item, kWindowKeys);
      if (!w.ok) continue;
      spec::RolloutWindow win;
      bool ok = weekly_time(w, "start", &win.days, &win.start_minute);
      require(w, "duration");
      if (!w.has("duration")) ok = false;
      if (const Field* d = w.get("duration")) {
        if (auto dur = duration(*d)) {
          if (dur->count() <= 0 || dur->count() > kMaxWindowSeconds) {
            error(d->value_pos, fmt::format("{}: must be longer than zero and at most 7d (a window "
                                            "of zero length never opens)",
                                            d->name()));
            ok = false;
          } else {
            win.duration = *dur;
          }
        } else {
          ok = false;
        }
      }
      if (const Field* tz = w.get("timezone")) {
        if (auto z = str(*tz)) {
          if (check_timezone(*tz, *z))
            win.timezone = *z;
          else
            ok = false;
        } else {
          ok = false;
        }
      }
      if (ok) {
        if (win.duration >= r.health_timeout) any_long_enough = true;
        r.windows.push_back(std::move(win));
      }
    }
    if (!r.windows.empty() && r.windows.size() == items.size() && !any_long_enough)
      warning(wf->key_pos, fmt::format("spec.rollout.windows: no window is as long as "
                                       "healthTimeout ({}); a peer that needs the full health "
                                       "timeout cannot finish inside a window",
                                       format_duration(r.health_timeout)));
  }
}

}  // namespace edgecert::schema::detail
