// query_ocsp: one RFC 6960 request/response through OpenSSL's OCSP API.
#include "providers/revocation/ocsp.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <ctime>
#include <memory>

#include <fmt/core.h>

namespace edgecert::revocation {
namespace {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using CertIdPtr = std::unique_ptr<OCSP_CERTID, Deleter<OCSP_CERTID_free>>;
using RequestPtr = std::unique_ptr<OCSP_REQUEST, Deleter<OCSP_REQUEST_free>>;
using ResponsePtr = std::unique_ptr<OCSP_RESPONSE, Deleter<OCSP_RESPONSE_free>>;
using BasicPtr = std::unique_ptr<OCSP_BASICRESP, Deleter<OCSP_BASICRESP_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
void free_x509_stack(STACK_OF(X509) * s) {
  sk_X509_pop_free(s, X509_free);
}
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<free_x509_stack>>;

// The thread's OpenSSL error queue as one line, emptied.
std::string drain_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(e);
    out += (out.empty() ? "" : "; ") + std::string(reason ? reason : buf);
  }
  return out;
}

X509Ptr to_x509(const pki::Certificate& cert) {
  const std::string der = cert.to_der();
  auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

TimePoint to_time_point(const ASN1_GENERALIZEDTIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return TimePoint{};
  auto when = time_from_civil(int64_t{tm.tm_year} + 1900, static_cast<unsigned>(tm.tm_mon + 1),
                              static_cast<unsigned>(tm.tm_mday), static_cast<unsigned>(tm.tm_hour),
                              static_cast<unsigned>(tm.tm_min), static_cast<unsigned>(tm.tm_sec));
  return when ? *when : TimePoint{};
}

// RFC 5280 §5.3.1 spelling; "" when the answer gives no reason.
std::string reason_name(int code) {
  if (code < 0) return "";
  const std::string name = OCSP_crl_reason_str(code);
  return name.empty() || name[0] == '(' ? fmt::format("reason code {}", code) : name;
}

// Clock skew tolerated between us and the responder: five minutes, as
// `openssl ocsp -validity_period` defaults to and as for CRLs.
constexpr auto kLeeway = std::chrono::minutes(5);

}  // namespace

const char* to_string(OcspStatus s) {
  switch (s) {
    case OcspStatus::kGood:
      return "good";
    case OcspStatus::kRevoked:
      return "revoked";
    case OcspStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Result<OcspAnswer> query_ocsp(const pki::Certificate& certificate, const pki::Certificate& issuer,
                              const std::string& url, http::Transport& transport, TimePoint now) {
  ERR_clear_error();
  auto bad = [&](const std::string& what) {
    std::string detail = drain_errors();
    return Error::InvalidArgument(url + ": " + what + (detail.empty() ? "" : " (" + detail + ")"));
  };
  X509Ptr subject = to_x509(certificate);
  X509Ptr ca = to_x509(issuer);
  if (!subject || !ca)
    return Error::Internal(url + ": cannot load the certificates: " + drain_errors());

  // SHA-256 CertID: issuer name hash, issuer key hash, serial.
  CertIdPtr id(OCSP_cert_to_id(EVP_sha256(), subject.get(), ca.get()));
  if (!id) return Error::Internal(url + ": cannot build the OCSP CertID: " + drain_errors());
  RequestPtr request(OCSP_REQUEST_new());
  OCSP_CERTID* request_id = OCSP_CERTID_dup(id.get());
  if (!request || !request_id || !OCSP_request_add0_id(request.get(), request_id)) {
    OCSP_CERTID_free(request_id);
    return Error::Internal(url + ": cannot build the OCSP request: " + drain_errors());
  }
  // A nonce, so a recorded answer cannot be replayed to us.
  if (!OCSP_request_add1_nonce(request.get(), nullptr, -1))
    return Error::Internal(url + ": cannot build the OCSP request: " + drain_errors());
  unsigned char* der = nullptr;
  const int der_len = i2d_OCSP_REQUEST(request.get(), &der);
  if (der_len <= 0)
    return Error::Internal(url + ": cannot encode the OCSP request: " + drain_errors());
  const std::string body(reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);

  auto resp = transport.perform(http::Request{.method = "POST",
                                              .target = url,
                                              .body = body,
                                              .content_type = "application/ocsp-request",
                                              .accept = "application/ocsp-response"});
  if (!resp) return resp.error().with_context(url);
  if (resp->status != 200)
    return Error::Unavailable(
        fmt::format("{}: HTTP {} from the OCSP responder", url, resp->status));

  auto* p = reinterpret_cast<const unsigned char*>(resp->body.data());
  ResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(resp->body.size())));
  if (!response) return bad("not an OCSP response");
  const int rstatus = OCSP_response_status(response.get());
  if (rstatus != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return Error::InvalidArgument(fmt::format("{}: the OCSP responder answered \"{}\"", url,
                                              OCSP_response_status_str(rstatus)));
  BasicPtr basic(OCSP_response_get1_basic(response.get()));
  if (!basic) return bad("not a basic OCSP response");

  // The signer: the issuer itself (found in `certs` and, with TRUSTOTHER,
  // trusted as the caller gave it), or a responder certificate in the answer
  // that chains to the issuer and that the issuer gave the OCSPSigning EKU
  // (OpenSSL's ocsp_check_issuer). OCSP_NOEXPLICIT: no third way through
  // "trusted certificate" settings on the chain's root.
  StorePtr store(X509_STORE_new());
  X509StackPtr certs(sk_X509_new_null());
  if (!store || !certs || !X509_STORE_add_cert(store.get(), ca.get()) ||
      !sk_X509_push(certs.get(), X509_dup(ca.get())))
    return Error::Internal(url + ": cannot set up OCSP verification: " + drain_errors());
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_time(param, Clock::to_time_t(now));
  X509_VERIFY_PARAM_set_flags(param,
                              X509_V_FLAG_PARTIAL_CHAIN);  // the issuer may be an intermediate
  if (OCSP_basic_verify(basic.get(), certs.get(), store.get(), OCSP_TRUSTOTHER | OCSP_NOEXPLICIT) <=
      0)
    return bad("the OCSP answer's signature does not verify against " + issuer.subject() +
               " or a responder certificate it issued for OCSP signing");
  if (OCSP_check_nonce(request.get(), basic.get()) == 0)
    return bad("the OCSP answer carries another request's nonce (a replayed answer?)");

  int status = -1;
  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (!OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked_at, &this_update,
                             &next_update))
    return bad("the OCSP answer has no status for serial " + certificate.serial_hex());

  OcspAnswer answer;
  answer.responder_url = url;
  answer.this_update = to_time_point(this_update);
  if (next_update) answer.next_update = to_time_point(next_update);
  if (answer.this_update > now + kLeeway)
    return Error::InvalidArgument(url + ": the OCSP answer is not yet valid: thisUpdate " +
                                  format_time(answer.this_update) + " is in the future");
  if (answer.next_update && *answer.next_update + kLeeway < now)
    return Error::InvalidArgument(url + ": stale OCSP answer: nextUpdate " +
                                  format_time(*answer.next_update) + " has passed");
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
      answer.status = OcspStatus::kGood;
      break;
    case V_OCSP_CERTSTATUS_REVOKED:
      answer.status = OcspStatus::kRevoked;
      answer.revoked_at = to_time_point(revoked_at);
      answer.reason = reason_name(reason);
      break;
    default:
      answer.status = OcspStatus::kUnknown;
      break;
  }
  return answer;
}

}  // namespace edgecert::revocation
