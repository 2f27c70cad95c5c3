#include "providers/pki/signer.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/pki/ossl.h"

namespace edgecert::pki {

namespace {

struct Profile {
  const X509_NAME* subject = nullptr;
  EVP_PKEY* public_key = nullptr;
  X509* issuer = nullptr;  // nullptr = self-signed
  EVP_PKEY* signing_key = nullptr;
  TimePoint not_before;
  TimePoint not_after;
  std::string serial_hex;
  Digest digest = Digest::kSha256;
  // (nid, OpenSSL extension config value) in order; SKI must precede AKI.
  std::vector<std::pair<int, std::string>> extensions;
  std::vector<ossl::X509ExtPtr> raw_extensions;
};

Status set_time(ASN1_TIME* field, TimePoint t) {
  // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime from 2050 on
  // (RFC 5280 4.1.2.5), as a real CA does.
  if (!ASN1_TIME_set(field, Clock::to_time_t(clamp_time(t)))) {
    return make_error(ErrorCode::kInvalidArgument, ossl::with_errors("invalid validity time"));
  }
  return {};
}

Result<Certificate> issue(Profile& p) {
  ERR_clear_error();
  ossl::X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot create certificate"));
  }
  auto serial = ossl::serial_from_hex(p.serial_hex);
  if (!serial) return std::unexpected(serial.error());
  X509* issuer = p.issuer ? p.issuer : x.get();
  if (X509_set_serialNumber(x.get(), serial->get()) != 1 ||
      X509_set_subject_name(x.get(), p.subject) != 1 ||
      X509_set_issuer_name(x.get(), p.issuer ? X509_get_subject_name(p.issuer) : p.subject) != 1 ||
      X509_set_pubkey(x.get(), p.public_key) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot fill certificate"));
  }
  if (p.not_after <= p.not_before) {
    return make_error(ErrorCode::kInvalidArgument, "notAfter must be later than notBefore");
  }
  if (auto st = set_time(X509_getm_notBefore(x.get()), p.not_before); !st)
    return std::unexpected(st.error());
  if (auto st = set_time(X509_getm_notAfter(x.get()), p.not_after); !st)
    return std::unexpected(st.error());

  for (ossl::X509ExtPtr& ext : p.raw_extensions) {
    if (X509_add_ext(x.get(), ext.get(), -1) != 1) {
      return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add extension"));
    }
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : p.extensions) {
    ossl::X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(x.get(), ext.get(), -1) != 1) {
      return make_error(
          ErrorCode::kInternal,
          ossl::with_errors(fmt::format("cannot add extension {} '{}'", OBJ_nid2sn(nid), value)));
    }
  }
  if (X509_sign(x.get(), p.signing_key, digest_md(p.digest)) <= 0) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot sign certificate"));
  }
  return wrap_certificate(std::move(x));
}

Result<Certificate> make_ca(const PrivateKey& key, const CaOptions& options, X509* issuer,
                            EVP_PKEY* issuer_key) {
  auto name = build_subject_name(options.common_name, options.subject);
  if (!name) return std::unexpected(name.error());
  Profile p;
  p.subject = name->get();
  p.public_key = raw(key);
  p.issuer = issuer;
  p.signing_key = issuer_key ? issuer_key : raw(key);
  p.not_before = options.not_before;
  p.not_after = options.not_after;
  p.serial_hex = options.serial_hex;
  p.digest = options.digest;
  std::string bc = "critical,CA:TRUE";
  if (options.path_length) bc += fmt::format(",pathlen:{}", *options.path_length);
  p.extensions = {{NID_basic_constraints, bc},
                  {NID_key_usage, "critical,keyCertSign,cRLSign"},
                  {NID_subject_key_identifier, "hash"},
                  {NID_authority_key_identifier, "keyid:always"}};
  return issue(p);
}

}  // namespace

Result<Certificate> sign_csr(const CertificateRequest& csr, const Certificate& ca_cert,
                             const PrivateKey& ca_key, const IssueOptions& options) {
  if (!csr.signature_valid()) {
    return make_error(ErrorCode::kInvalidArgument, "certificate request signature does not verify");
  }
  X509_REQ* req = raw(csr);
  Profile p;
  p.subject = X509_REQ_get_subject_name(req);
  p.public_key = X509_REQ_get0_pubkey(req);
  p.issuer = raw(ca_cert);
  p.signing_key = raw(ca_key);
  p.not_before = options.not_before;
  p.not_after = options.not_after;
  p.serial_hex = options.serial_hex;
  p.digest = options.digest;
  p.extensions.push_back({NID_basic_constraints, "critical,CA:FALSE"});
  p.extensions.push_back({NID_key_usage, EVP_PKEY_is_a(p.public_key, "RSA")
                                             ? "critical,digitalSignature,keyEncipherment"
                                             : "critical,digitalSignature"});
  if (!options.extended_key_usage.empty()) {
    p.extensions.push_back(
        {NID_ext_key_usage, fmt::format("{}", fmt::join(options.extended_key_usage, ","))});
  }
  p.extensions.push_back({NID_subject_key_identifier, "hash"});
  p.extensions.push_back({NID_authority_key_identifier, "keyid,issuer"});
  if (!options.crl_distribution_points.empty()) {
    // openssl's config syntax: "URI:a,URI:b".
    p.extensions.push_back(
        {NID_crl_distribution_points,
         fmt::format("URI:{}", fmt::join(options.crl_distribution_points, ",URI:"))});
  }
  if (!options.ocsp_url.empty()) {
    p.extensions.push_back({NID_info_access, "OCSP;URI:" + options.ocsp_url});
  }
  if (options.copy_requested_sans) {
    // Copy the requested SAN extension byte for byte (no re-encoding).
    ossl::X509ExtStackPtr exts(X509_REQ_get_extensions(req));
    ossl::drain_errors();
    int idx = exts ? X509v3_get_ext_by_NID(exts.get(), NID_subject_alt_name, -1) : -1;
    if (idx >= 0) {
      p.raw_extensions.emplace_back(X509_EXTENSION_dup(X509v3_get_ext(exts.get(), idx)));
    }
  }
  return issue(p);
}

Result<Certificate> create_self_signed_ca(const PrivateKey& key, const CaOptions& options) {
  return make_ca(key, options, nullptr, nullptr);
}

Result<Certificate> create_intermediate_ca(const PrivateKey& key, const CaOptions& options,
                                           const Certificate& issuer,
                                           const PrivateKey& issuer_key) {
  return make_ca(key, options, raw(issuer), raw(issuer_key));
}

}  // namespace edgecert::pki
