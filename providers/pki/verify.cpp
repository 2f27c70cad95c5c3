#include "providers/pki/verify.h"

#include <openssl/x509_vfy.h>

#include <fmt/core.h>

#include "providers/pki/ossl.h"

namespace edgecert::pki {

std::string verify_error_name(int code) {
#define EDGECERT_V(name) \
  case name:             \
    return #name;
  switch (code) {
    EDGECERT_V(X509_V_OK)
    EDGECERT_V(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
    EDGECERT_V(X509_V_ERR_UNABLE_TO_GET_CRL)
    EDGECERT_V(X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE)
    EDGECERT_V(X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE)
    EDGECERT_V(X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY)
    EDGECERT_V(X509_V_ERR_CERT_SIGNATURE_FAILURE)
    EDGECERT_V(X509_V_ERR_CRL_SIGNATURE_FAILURE)
    EDGECERT_V(X509_V_ERR_CERT_NOT_YET_VALID)
    EDGECERT_V(X509_V_ERR_CERT_HAS_EXPIRED)
    EDGECERT_V(X509_V_ERR_CRL_NOT_YET_VALID)
    EDGECERT_V(X509_V_ERR_CRL_HAS_EXPIRED)
    EDGECERT_V(X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD)
    EDGECERT_V(X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD)
    EDGECERT_V(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
    EDGECERT_V(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
    EDGECERT_V(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
    EDGECERT_V(X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
    EDGECERT_V(X509_V_ERR_CERT_CHAIN_TOO_LONG)
    EDGECERT_V(X509_V_ERR_CERT_REVOKED)
    EDGECERT_V(X509_V_ERR_INVALID_CA)
    EDGECERT_V(X509_V_ERR_PATH_LENGTH_EXCEEDED)
    EDGECERT_V(X509_V_ERR_INVALID_PURPOSE)
    EDGECERT_V(X509_V_ERR_CERT_UNTRUSTED)
    EDGECERT_V(X509_V_ERR_CERT_REJECTED)
    EDGECERT_V(X509_V_ERR_SUBJECT_ISSUER_MISMATCH)
    EDGECERT_V(X509_V_ERR_AKID_SKID_MISMATCH)
    EDGECERT_V(X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH)
    EDGECERT_V(X509_V_ERR_KEYUSAGE_NO_CERTSIGN)
    EDGECERT_V(X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER)
    EDGECERT_V(X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION)
    EDGECERT_V(X509_V_ERR_KEYUSAGE_NO_CRL_SIGN)
    EDGECERT_V(X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION)
    EDGECERT_V(X509_V_ERR_INVALID_NON_CA)
    EDGECERT_V(X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE)
    EDGECERT_V(X509_V_ERR_INVALID_EXTENSION)
    EDGECERT_V(X509_V_ERR_HOSTNAME_MISMATCH)
    EDGECERT_V(X509_V_ERR_IP_ADDRESS_MISMATCH)
    EDGECERT_V(X509_V_ERR_CA_KEY_TOO_SMALL)
    EDGECERT_V(X509_V_ERR_CA_MD_TOO_WEAK)
    EDGECERT_V(X509_V_ERR_EE_KEY_TOO_SMALL)
    EDGECERT_V(X509_V_ERR_STORE_LOOKUP)
    EDGECERT_V(X509_V_ERR_NO_VALID_SCTS)
    EDGECERT_V(X509_V_ERR_DIFFERENT_CRL_SCOPE)
    EDGECERT_V(X509_V_ERR_CRL_PATH_VALIDATION_ERROR)
    EDGECERT_V(X509_V_ERR_OUT_OF_MEM)
    EDGECERT_V(X509_V_ERR_UNSPECIFIED)
    default:
      return fmt::format("X509_V_ERR_{}", code);
  }
#undef EDGECERT_V
}

VerifyResult verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                          const std::vector<Certificate>& anchors, const VerifyOptions& options) {
  ERR_clear_error();
  VerifyResult r;
  auto fail_internal = [&r](const std::string& what) {
    r.ok = false;
    r.error_code = X509_V_ERR_UNSPECIFIED;
    r.error_name = verify_error_name(r.error_code);
    r.message = ossl::with_errors(what);
    return r;
  };

  ossl::X509StorePtr store(X509_STORE_new());
  if (!store) return fail_internal("cannot create certificate store");
  for (const Certificate& a : anchors) {
    if (X509_STORE_add_cert(store.get(), raw(a)) != 1) {
      ossl::drain_errors();  // a duplicate anchor is harmless
    }
  }
  for (const Crl& c : options.crls) {
    if (X509_STORE_add_crl(store.get(), raw(c)) != 1) ossl::drain_errors();
  }
  ossl::X509StackPtr untrusted(sk_X509_new_null());
  for (const Certificate& c : intermediates) {
    X509_up_ref(raw(c));
    sk_X509_push(untrusted.get(), raw(c));
  }

  ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), raw(leaf), untrusted.get()) != 1) {
    return fail_internal("cannot initialise verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
  if (options.check_crls) flags |= X509_V_FLAG_CRL_CHECK;
  if (options.check_crls_whole_chain) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  X509_VERIFY_PARAM_set_flags(param, flags);
  if (options.at) X509_VERIFY_PARAM_set_time(param, Clock::to_time_t(*options.at));
  if (options.hostname) {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, options.hostname->data(), options.hostname->size()) !=
        1) {
      return fail_internal(fmt::format("invalid hostname '{}'", *options.hostname));
    }
  }
  if (options.server_purpose) X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);

  int rc = X509_verify_cert(ctx.get());
  r.error_code = X509_STORE_CTX_get_error(ctx.get());
  r.ok = rc == 1 && r.error_code == X509_V_OK;
  if (rc != 1 && r.error_code == X509_V_OK) r.error_code = X509_V_ERR_UNSPECIFIED;
  r.error_name = verify_error_name(r.error_code);
  r.message = X509_verify_cert_error_string(r.error_code);
  r.depth = r.ok ? 0 : X509_STORE_CTX_get_error_depth(ctx.get());
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; chain && i < sk_X509_num(chain); ++i) {
    X509* x = sk_X509_value(chain, i);
    X509_up_ref(x);
    Certificate c = wrap_certificate(ossl::X509Ptr(x));
    r.chain_fingerprints.push_back(c.sha256_fingerprint());
    r.chain_subjects.push_back(c.subject());
  }
  ossl::drain_errors();
  return r;
}

}  // namespace edgecert::pki
