// RFC 8555 ACME client (with RFC 9773 ACME Renewal Information).
//
// Contract:
// - Every endpoint comes from the directory (fetched once, lazily); no path is
//   hard-coded.
// - Nonces: every response's Replay-Nonce feeds a pool; newNonce is asked
//   (HEAD) only when the pool is empty. A badNonce rejection is retried with
//   a fresh nonce up to AcmeClientOptions::max_bad_nonce_retries times.
// - Failures are Error values whose message names the request ("POST
//   /acme/new-order"), the problem type and the identifiers involved; the
//   structured problem of the last failed request is kept in last_problem().
//   ErrorCode mapping: badNonce/serverInternal/rateLimited -> kUnavailable,
//   unauthorized/badSignatureAlgorithm/userActionRequired -> kPermission,
//   accountDoesNotExist -> kNotFound, alreadyRevoked -> kAlreadyExists,
//   malformed/rejectedIdentifier/caa/badCSR/... -> kInvalidArgument,
//   anything else -> kUnavailable for 5xx and kInvalidArgument for 4xx.
// - rateLimited is never retried here: its Retry-After is reported in the
//   Problem for the caller to schedule.
// - Waits (polling, Retry-After) go through Env::sleep_for and are bounded by
//   a deadline; Retry-After is honoured (capped at the remaining time),
//   otherwise polling starts brisk and backs off (poll_initial doubling to
//   poll_max).
// - Secrets (account key, EAB HMAC key) never appear in errors or logs.
// - Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "providers/acme/http01.h"
#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/http/http_client.h"
#include "providers/pki/certificate.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/types.h"

namespace edgecert::acme {

enum class ProblemKind {
  kNone,
  kBadNonce,
  kRateLimited,
  kUnauthorized,
  kRejectedIdentifier,
  kMalformed,
  kServerInternal,
  kAccountDoesNotExist,
  kAlreadyRevoked,
  kBadCsr,
  kBadRevocationReason,
  kExternalAccountRequired,
  kConnection,
  kIncorrectResponse,
  kOther,
};

// "urn:ietf:params:acme:error:badNonce" -> kBadNonce.
ProblemKind problem_kind(const std::string& type);

struct Subproblem {
  std::string type;
  std::string detail;
  std::string identifier;  // "dns:a.example" ("" when absent)
};

// An RFC 7807 problem document as ACME uses it.
struct Problem {
  ProblemKind kind = ProblemKind::kNone;
  std::string type;
  std::string detail;
  long status = 0;
  std::vector<Subproblem> subproblems;
  std::optional<std::chrono::seconds> retry_after;  // from the response header
};

struct Directory {
  std::string new_nonce, new_account, new_order, revoke_cert, key_change;
  std::string new_authz;     // optional in RFC 8555
  std::string renewal_info;  // RFC 9773; "" when the server has none
  std::string terms_of_service;
  bool external_account_required = false;
};

struct ExternalAccountBinding {
  std::string kid;
  pki::SecretString hmac_key;  // raw key bytes (decoded from the CA's base64url)
};

struct NewAccountOptions {
  std::vector<std::string> contact_emails;  // turned into "mailto:" URLs
  bool terms_of_service_agreed = false;
  const ExternalAccountBinding* eab = nullptr;
};

struct Account {
  std::string url;  // the "kid"
  std::string status;
  std::vector<std::string> contact;
};

struct Challenge {
  std::string type, url, status, token;
  std::optional<Problem> error;
};

struct Authorization {
  std::string url, status, identifier;  // identifier = DNS name
  bool wildcard = false;
  std::vector<Challenge> challenges;
};

struct Order {
  std::string url, status;
  std::vector<std::string> identifiers;  // DNS names
  std::vector<std::string> authorizations;
  std::string finalize, certificate;
  std::optional<Problem> error;
};

struct CertificateChain {
  std::string pem;                      // application/pem-certificate-chain
  std::vector<std::string> alternates;  // PEM chains from Link rel="alternate"
};

// Revocation reasons (RFC 5280 CRLReason).
// The one revocation-reason enum; its values are the RFC 5280 codes sent.
using pki::RevocationReason;

struct RenewalWindow {
  TimePoint start, end;
  std::string explanation_url;
};

struct AcmeClientOptions {
  std::string directory_url;
  // Bounded, but high enough to ride out a server rejecting half the nonces
  // (Pebble's PEBBLE_WFE_NONCEREJECT=50): 10 would fail ~1 request in 2048.
  int max_bad_nonce_retries = 20;
  std::chrono::milliseconds poll_initial{50};
  std::chrono::milliseconds poll_max{1000};
  std::chrono::seconds poll_timeout{90};  // per authorization / order wait
};

// The HTTP client settings ACME needs, for make_curl_transport: plain
// http:// only towards loopback hosts (local test servers, as the spec's
// directory rule allows), keep-alive for POSTs too (a replayed POST is
// refused: each carries a single-use nonce), User-Agent "edgecert-acme".
// Callers add the trust (ca_bundle or ca_pem) and may change the rest.
http::ClientOptions acme_client_options();

// Loads the ACME account key at `path`, or generates a P-256 key and stores
// it there (mode 0600, atomically, via pki::write_private_key) when absent.
Result<pki::PrivateKey> load_or_create_account_key(Env& env, const std::string& path);

// The identifiers an http-01 order for `csr` covers: the CN first (RFC 8555
// section 7.4 lets the CN carry a name; Expressway repeats it in the SANs
// anyway), then the DNS SANs, lower-cased, without duplicates.
// kInvalidArgument, before anything is sent, for what http-01 cannot prove
// (IP/e-mail/URI/other SANs, wildcards) and for a CSR naming no DNS name.
Result<std::vector<std::string>> order_names(const pki::CertificateRequest& csr);

// The ARI CertID (RFC 9773 section 4.1): base64url(AKI keyIdentifier) "."
// base64url(DER serial contents). InvalidArgument without an AKI.
Result<std::string> ari_cert_id(const pki::Certificate& cert);

class AcmeClient {
 public:
  // `account_key` signs every request; env and transport must outlive us.
  AcmeClient(Env& env, http::Transport& transport, AcmeClientOptions options,
             pki::PrivateKey account_key);

  Result<Directory> directory();

  // newAccount; returns the existing account when the key is already known.
  Result<Account> new_account(const NewAccountOptions& options);
  // newAccount with onlyReturnExisting: NotFound when the key has no account.
  Result<Account> find_account();
  // Uses an account URL known from earlier (no request).
  void set_account_url(std::string url) { kid_ = std::move(url); }
  const std::string& account_url() const { return kid_; }
  const pki::PrivateKey& account_key() const { return key_; }
  // keyChange (RFC 8555 section 7.3.5): on success the client signs with
  // `new_key` from then on. The caller stores it (write_private_key).
  Status change_key(pki::PrivateKey new_key);

  // newOrder for DNS names. `replaces` (an ARI CertID) is sent only when the
  // directory has renewalInfo.
  Result<Order> new_order(const std::vector<std::string>& dns_names,
                          const std::optional<std::string>& replaces = std::nullopt);
  Result<Order> get_order(const std::string& url);
  Result<Authorization> get_authorization(const std::string& url);

  // Completes every authorization of `order` with http-01: authorizations
  // already valid are skipped, challenges already valid are not re-posted;
  // the responder's files/tokens are removed afterwards whatever happened.
  Status authorize_http01(const Order& order, Http01Responder& responder);

  // Finalizes with the CSR (DER) and waits through `processing` until valid.
  Result<Order> finalize(const Order& order, const std::string& csr_der);
  // Downloads the chain at `url`, plus alternates when asked.
  Result<CertificateChain> download_certificate(const std::string& url,
                                                bool with_alternates = false);

  // Revokes with the account key (signer == nullptr) or with the
  // certificate's own key (jwk form).
  Status revoke(const pki::Certificate& cert, RevocationReason reason,
                const pki::PrivateKey* certificate_key = nullptr);

  // RFC 9773: the suggested window; NotFound when the directory has no
  // renewalInfo.
  Result<RenewalWindow> renewal_info(const pki::Certificate& cert);
  // When to renew: a random time inside the ARI window when available, else
  // notBefore + two thirds of the lifetime.
  Result<TimePoint> renewal_time(const pki::Certificate& cert);

  // The whole flow: order, authorize (http-01), finalize, download.
  Result<CertificateChain> issue(const std::vector<std::string>& dns_names,
                                 const pki::CertificateRequest& csr, Http01Responder& responder,
                                 const std::optional<std::string>& replaces = std::nullopt);

  const std::optional<Problem>& last_problem() const { return last_problem_; }
  // Counters for tests and diagnostics.
  int bad_nonce_retries() const { return bad_nonce_retries_; }
  int new_nonce_requests() const { return new_nonce_requests_; }

  // Seeds the RNG used for the ARI renewal time (tests).
  void seed(uint64_t s) { rng_.seed(s); }

 private:
  struct Reply {
    http::Response http;
    std::string location;
  };
  Result<Reply> post(const std::string& url, const std::string& payload, bool use_jwk,
                     const std::string& what);
  Result<Reply> post_with(const std::string& url, const std::string& payload,
                          const pki::PrivateKey& key, bool use_jwk, const std::string& what,
                          const std::string& accept = "");
  Result<std::string> nonce();
  void take_nonce(const http::Response& r);
  Error problem_error(const std::string& method, const std::string& url, const http::Response& r,
                      const std::string& what);
  std::chrono::milliseconds wait_time(const http::Response& r, std::chrono::milliseconds& backoff,
                                      TimePoint deadline);

  Env& env_;
  http::Transport& transport_;
  AcmeClientOptions options_;
  pki::PrivateKey key_;
  std::optional<Directory> dir_;
  std::string kid_;
  std::vector<std::string> nonces_;
  std::optional<Problem> last_problem_;
  // Retry-After of the last successful POST (polling honours it).
  std::optional<std::chrono::seconds> last_retry_after_;
  int bad_nonce_retries_ = 0;
  int new_nonce_requests_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace edgecert::acme
