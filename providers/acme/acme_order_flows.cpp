// AcmeClient's flows after newOrder: proving control of the names with
// http-01 (present, trigger, poll) and finalizing the order. The messages
// they send and read are acme_wire.h's.
#include <fmt/core.h>

#include "providers/acme/acme_client.h"
#include "providers/acme/acme_wire.h"
#include "providers/pki/jws.h"

namespace edgecert::acme {

using std::chrono::milliseconds;

Status AcmeClient::authorize_http01(const Order& order, Http01Responder& responder) {
  auto thumb = pki::jwk_thumbprint(key_);
  if (!thumb) return std::unexpected(thumb.error());
  struct Pending {
    std::string authz_url, domain, token;
  };
  std::vector<Pending> pending;
  auto cleanup_all = [&] {
    for (const auto& p : pending) (void)responder.cleanup(p.domain, p.token);
  };
  // First pass: present every token and trigger every challenge, so the CA
  // validates them in parallel; then poll.
  for (const auto& url : order.authorizations) {
    auto a = get_authorization(url);
    if (!a) {
      cleanup_all();
      return std::unexpected(a.error());
    }
    if (a->status == "valid") continue;  // reused authorization: nothing to do
    if (a->status != "pending") {
      cleanup_all();
      return make_error(ErrorCode::kPermission,
                        fmt::format("ACME authorization {} for {}: status {}", wire::url_path(url),
                                    a->identifier, a->status));
    }
    const Challenge* ch = nullptr;
    for (const auto& c : a->challenges)
      if (c.type == "http-01") ch = &c;
    if (!ch) {
      cleanup_all();
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("ACME authorization {} for {}: no http-01 challenge offered",
                                    wire::url_path(url), a->identifier));
    }
    if (ch->status == "valid") continue;  // never re-POST a valid challenge
    if (auto s = responder.present(a->identifier, ch->token, ch->token + "." + *thumb); !s) {
      cleanup_all();
      return s;
    }
    pending.push_back({url, a->identifier, ch->token});
    if (ch->status == "pending") {
      auto r = post(ch->url, "{}", false, "http-01 challenge for " + a->identifier);
      if (!r) {
        cleanup_all();
        return std::unexpected(r.error());
      }
    }
  }
  // Why an authorization is not valid, or nullopt while it is pending.
  auto failure = [&](const Authorization& a, const Pending& p) -> std::optional<Error> {
    if (a.status == "valid" || a.status == "pending") return std::nullopt;
    std::string why;
    for (const auto& c : a.challenges)
      if (c.error) why = wire::describe(*c.error);
    return Error{ErrorCode::kPermission,
                 fmt::format("ACME authorization {} for {}: {}{}", wire::url_path(p.authz_url),
                             p.domain, a.status, why.empty() ? "" : ": " + why)};
  };
  Status result;
  // One deadline for the whole wait, whichever way it is done.
  TimePoint deadline = env_.now() + options_.poll_timeout;
  bool order_failed = false;
  std::optional<Problem> order_problem;
  if (!pending.empty() && !order.url.empty()) {
    // Wait on the order, not on each authorization: it leaves "pending" once
    // every authorization is valid or one has failed, so a round costs one
    // request whatever the number of names (a 100-name order would otherwise
    // poll 100 URLs). The authorizations are read only to say which name
    // failed, and why.
    milliseconds backoff = options_.poll_initial;
    std::string what = "wait for authorizations of " + wire::names_text(order.identifiers);
    for (;;) {
      auto r = post(order.url, "", false, what);
      if (!r) {
        cleanup_all();
        return std::unexpected(r.error());
      }
      auto o = wire::parse_order(r->http.body, order.url, what);
      if (!o) {
        cleanup_all();
        return std::unexpected(o.error());
      }
      if (o->status == "ready" || o->status == "processing" || o->status == "valid") {
        cleanup_all();
        return result;
      }
      if (o->status != "pending") {
        order_failed = true;
        order_problem = o->error;
        break;
      }
      milliseconds w = wait_time(r->http, backoff, deadline);
      if (w <= milliseconds(0)) break;  // reported below, per authorization
      env_.sleep_for(w);
    }
    if (order_failed) {
      // Name the authorization(s) that failed; a pending one is not waited for.
      for (const auto& p : pending) {
        auto a = get_authorization(p.authz_url);
        if (!a) {
          result = std::unexpected(a.error());
          break;
        }
        if (auto e = failure(*a, p)) {
          result = std::unexpected(*e);
          break;
        }
      }
      if (result)
        result =
            make_error(ErrorCode::kPermission,
                       fmt::format("ACME order {} ({}): invalid{}", wire::url_path(order.url), what,
                                   order_problem ? ": " + wire::describe(*order_problem) : ""));
      cleanup_all();
      return result;
    }
  }
  for (const auto& p : pending) {
    milliseconds backoff = options_.poll_initial;
    for (;;) {
      auto a = get_authorization(p.authz_url);
      if (!a) {
        result = std::unexpected(a.error());
        break;
      }
      if (a->status == "valid") break;
      if (auto e = failure(*a, p)) {
        result = std::unexpected(*e);
        break;
      }
      http::Response hint;
      if (last_retry_after_)
        hint.headers.emplace_back("retry-after", std::to_string(last_retry_after_->count()));
      milliseconds w = wait_time(hint, backoff, deadline);
      if (w <= milliseconds(0)) {
        result = make_error(
            ErrorCode::kUnavailable,
            fmt::format("ACME authorization {} for {}: still pending after {} s",
                        wire::url_path(p.authz_url), p.domain, options_.poll_timeout.count()));
        break;
      }
      env_.sleep_for(w);
    }
    if (!result) break;
  }
  cleanup_all();
  return result;
}

Result<Order> AcmeClient::finalize(const Order& order, const std::string& csr_der) {
  std::string what = "finalize " + wire::names_text(order.identifiers);
  TimePoint deadline = env_.now() + options_.poll_timeout;
  milliseconds backoff = options_.poll_initial;
  Order current = order;
  http::Response last;
  // Reads the order from a POST's reply into `current` (and `last`).
  auto take = [&](Result<Reply> r) -> Status {
    if (!r) return std::unexpected(r.error());
    auto o = wire::parse_order(r->http.body, order.url, what);
    if (!o) return std::unexpected(o.error());
    current = std::move(*o);
    last = std::move(r->http);
    return {};
  };
  // Wait for "ready" (the CA may lag behind the last valid authorization).
  while (current.status == "pending") {
    if (auto s = take(post(current.url, "", false, what)); !s) return std::unexpected(s.error());
    if (current.status != "pending") break;
    milliseconds w = wait_time(last, backoff, deadline);
    if (w <= milliseconds(0))
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("ACME order {} ({}): not ready in time", wire::url_path(order.url), what));
    env_.sleep_for(w);
  }
  if (current.status == "ready") {
    if (auto s = take(post(current.finalize, wire::finalize_body(csr_der), false, what)); !s)
      return std::unexpected(s.error());
    backoff = options_.poll_initial;
    while (current.status == "processing") {
      milliseconds w = wait_time(last, backoff, deadline);
      if (w <= milliseconds(0))
        return make_error(
            ErrorCode::kUnavailable,
            fmt::format("ACME order {} ({}): still processing after {} s",
                        wire::url_path(order.url), what, options_.poll_timeout.count()));
      env_.sleep_for(w);
      if (auto s = take(post(order.url, "", false, what)); !s) return std::unexpected(s.error());
    }
  }
  if (current.status != "valid") {
    std::string why = current.error ? ": " + wire::describe(*current.error) : "";
    return make_error(ErrorCode::kPermission,
                      fmt::format("ACME order {} ({}): status {}{}", wire::url_path(order.url),
                                  what, current.status, why));
  }
  if (current.certificate.empty())
    return make_error(
        ErrorCode::kCorrupt,
        fmt::format("ACME order {}: valid without certificate URL", wire::url_path(order.url)));
  return current;
}

}  // namespace edgecert::acme
