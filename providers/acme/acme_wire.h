// ACME wire messages (RFC 8555 sections 6-7, RFC 9773): the documents a
// server sends (directory, account, order, authorization, problem, renewal
// information), the JSON bodies the client posts, and the JWS envelope
// around each POST. Pure functions without I/O or state: the protocol flows
// that send and poll them are AcmeClient's (acme_client.h), whose public
// header also declares the document types (Directory, Order, Problem, ...),
// problem_kind() and ari_cert_id(); those are defined in acme_wire.cpp.
// Private to providers/acme.
//
// Parsing is lenient in what it ignores (unknown members, members of the
// wrong type read as absent) and strict only where a flow cannot go on
// without a member; such failures are kCorrupt or kInvalidArgument errors
// prefixed with the caller's `what` ("ACME GET /dir").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/acme/acme_client.h"
#include "providers/base/error.h"
#include "providers/http/http_client.h"
#include "providers/pki/certificate.h"
#include "providers/pki/key.h"

namespace edgecert::acme::wire {

// ---- Text for error messages.

// "https://host:port/a/b?x" -> "/a/b?x": errors name the endpoint, not the
// whole URL (which Pebble randomises anyway).
std::string url_path(const std::string& url);
// "a, b, c", or the first five and the count: an order may name 100.
std::string names_text(const std::vector<std::string>& names);
// "rateLimited: detail; [dns:a.example] caa: detail (retry after 60 s)".
std::string describe(const Problem& p);
// The ErrorCode for a problem (acme_client.h lists the mapping); `status` is
// the HTTP status, for problem types without a fixed category.
ErrorCode error_code(const Problem& p, long status);

// ---- Documents the server sends. `what` prefixes parse errors.

// kInvalidArgument when newNonce, newAccount or newOrder is missing.
Result<Directory> parse_directory(std::string_view body, const std::string& what);
Result<Account> parse_account(std::string_view body, std::string url, const std::string& what);
Result<Order> parse_order(std::string_view body, std::string url, const std::string& what);
Result<Authorization> parse_authorization(std::string_view body, std::string url,
                                          const std::string& what);
// The problem of an error response: its problem document when the body is
// one (else only the HTTP status), with Retry-After.
Problem parse_problem(const http::Response& r);
// kCorrupt without a well-formed suggestedWindow (RFC 3339 times, end not
// before start).
Result<RenewalWindow> parse_renewal_info(std::string_view body, const std::string& what);

// The longest wait a Retry-After can ask for: a server's huge or far-future
// value is a bug or an outage, and waits are bounded by deadlines anyway.
inline constexpr std::chrono::seconds kMaxRetryAfter = std::chrono::hours(24 * 31);
// Retry-After as a delay, capped at kMaxRetryAfter: delay-seconds, or an
// IMF-fixdate HTTP-date taken relative to the response's Date header, else to
// `now` (0 when already past). nullopt when absent, unreadable, or an
// HTTP-date with neither a Date header nor `now`.
std::optional<std::chrono::seconds> retry_after(const http::Response& r,
                                                std::optional<TimePoint> now = std::nullopt);
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); nullopt for anything else.
std::optional<TimePoint> parse_http_date(std::string_view s);
// The URLs of Link headers with relation `rel` (e.g. "alternate" chains).
std::vector<std::string> links_with_rel(const http::Response& r, const std::string& rel);

// ---- Bodies the client posts (JSON text).

// newAccount: "mailto:" contacts, termsOfServiceAgreed when agreed, and with
// `eab` the externalAccountBinding (RFC 8555 section 7.3.4: a JWS over the
// account's public JWK, MACed with the CA's key for `new_account_url`).
Result<std::string> new_account_body(const std::vector<std::string>& contact_emails,
                                     bool terms_of_service_agreed,
                                     const ExternalAccountBinding* eab,
                                     const pki::PrivateKey& account_key,
                                     const std::string& new_account_url);
inline constexpr const char* kFindAccountBody = R"({"onlyReturnExisting":true})";
// keyChange (RFC 8555 section 7.3.5): the inner JWS, signed by `new_key`,
// carrying its JWK and no nonce. kInvalidArgument for an unsupported key.
Result<std::string> key_change_body(const pki::PrivateKey& old_key, const pki::PrivateKey& new_key,
                                    const std::string& account_url,
                                    const std::string& key_change_url);
// newOrder for DNS names; `replaces` (an ARI CertID) when set.
std::string new_order_body(const std::vector<std::string>& dns_names,
                           const std::optional<std::string>& replaces);
std::string finalize_body(std::string_view csr_der);
std::string revoke_body(const pki::Certificate& cert, int reason);

// ---- The JWS envelope (RFC 8555 section 6.2).

// Signs request bodies with one key, naming the signer either by account
// URL ("kid") or, for newAccount and revocation by the certificate's key,
// by public key ("jwk").
class JwsSigner {
 public:
  // kid empty = jwk form. Fails for a key JWS cannot carry. `key` must
  // outlive the signer (it is not copied).
  static Result<JwsSigner> make(const pki::PrivateKey& key, std::string kid);
  // The flattened JWS of `payload` ("" = POST-as-GET) for `url`, with `nonce`.
  Result<std::string> sign(const std::string& nonce, const std::string& url,
                           const std::string& payload) const;

 private:
  JwsSigner(const pki::PrivateKey& key, std::string alg, std::string kid, std::string jwk)
      : key_(&key), alg_(std::move(alg)), kid_(std::move(kid)), jwk_(std::move(jwk)) {}
  const pki::PrivateKey* key_;
  std::string alg_, kid_, jwk_;  // jwk_: JSON text, used when kid_ is empty
};

}  // namespace edgecert::acme::wire
