#include "providers/pki/crl.h"

#include <openssl/pem.h>

#include <fmt/core.h>

#include "providers/pki/key.h"
#include "providers/pki/ossl.h"

namespace edgecert::pki {

Crl::Crl(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Crl::Crl(const Crl& other) : impl_(std::make_unique<Impl>()) {
  X509_CRL_up_ref(other.impl_->crl.get());
  impl_->crl.reset(other.impl_->crl.get());
}
Crl& Crl::operator=(const Crl& other) {
  if (this != &other) {
    Crl copy(other);
    impl_ = std::move(copy.impl_);
  }
  return *this;
}
Crl::Crl(Crl&&) noexcept = default;
Crl& Crl::operator=(Crl&&) noexcept = default;
Crl::~Crl() = default;

Crl wrap_crl(ossl::X509CrlPtr crl) {
  auto impl = std::make_unique<Crl::Impl>();
  impl->crl = std::move(crl);
  return Crl(std::move(impl));
}

Result<std::vector<Crl>> Crl::parse_all(std::string_view data, const std::string& source) {
  ERR_clear_error();
  std::vector<Crl> out;
  if (data.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: empty input", source));
  }
  if (looks_like_pem(data)) {
    auto blocks = split_pem(data, source);
    if (!blocks) return std::unexpected(blocks.error());
    for (size_t i = 0; i < blocks->size(); ++i) {
      const PemBlock& b = (*blocks)[i];
      if (b.label != "X509 CRL") {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("{}: block {}: not a CRL: PEM block is '{}'", source, i, b.label));
      }
      ossl::BioPtr bio = ossl::mem_bio(b.text);
      ossl::X509CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
      if (!crl) {
        return make_error(ErrorCode::kInvalidArgument,
                          ossl::with_errors(fmt::format("{}: block {}: not a CRL", source, i)));
      }
      out.push_back(wrap_crl(std::move(crl)));
    }
    return out;
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  ossl::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
  if (!crl) {
    return make_error(
        ErrorCode::kInvalidArgument,
        ossl::with_errors(fmt::format("{}: block 0: not a CRL (neither PEM nor DER)", source)));
  }
  out.push_back(wrap_crl(std::move(crl)));
  return out;
}

Result<Crl> Crl::create(const Certificate& ca, const PrivateKey& ca_key,
                        const CrlOptions& options) {
  ERR_clear_error();
  ossl::X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(raw(ca))) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot create CRL"));
  }
  ossl::Asn1TimePtr last(ASN1_TIME_set(nullptr, Clock::to_time_t(options.last_update)));
  ossl::Asn1TimePtr next(ASN1_TIME_set(nullptr, Clock::to_time_t(options.next_update)));
  if (!last || !next || X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot set CRL times"));
  }
  for (const RevokedEntry& r : options.revoked) {
    auto serial = ossl::serial_from_hex(r.serial_hex);
    if (!serial) return std::unexpected(serial.error());
    ossl::X509RevokedPtr rev(X509_REVOKED_new());
    ossl::Asn1TimePtr when(ASN1_TIME_set(nullptr, Clock::to_time_t(r.revoked_at)));
    if (!rev || !when || X509_REVOKED_set_serialNumber(rev.get(), serial->get()) != 1 ||
        X509_REVOKED_set_revocationDate(rev.get(), when.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), rev.get()) != 1) {
      return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add revoked entry"));
    }
    (void)rev.release();  // owned by the CRL now
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, raw(ca), nullptr, nullptr, crl.get(), 0);
  ossl::X509ExtPtr aki(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid,issuer"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add CRL AKI"));
  }
  ossl::Asn1IntegerPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set(number.get(), options.number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add CRL number"));
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), raw(ca_key), digest_md(options.digest)) <= 0) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot sign CRL"));
  }
  return wrap_crl(std::move(crl));
}

std::string Crl::issuer() const {
  return ossl::name_rfc2253(X509_CRL_get_issuer(impl_->crl.get()));
}
TimePoint Crl::last_update() const {
  return ossl::asn1_time_to_timepoint(X509_CRL_get0_lastUpdate(impl_->crl.get()));
}
std::optional<TimePoint> Crl::next_update() const {
  const ASN1_TIME* t = X509_CRL_get0_nextUpdate(impl_->crl.get());
  if (!t) return std::nullopt;
  return ossl::asn1_time_to_timepoint(t);
}
std::optional<std::string> Crl::number() const {
  ossl::Asn1IntegerPtr n(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(impl_->crl.get(), NID_crl_number, nullptr, nullptr)));
  if (!n) return std::nullopt;
  return ossl::serial_hex(n.get());
}
std::string Crl::signature_algorithm() const {
  const char* ln = OBJ_nid2ln(X509_CRL_get_signature_nid(impl_->crl.get()));
  return ln ? ln : "unknown";
}
std::vector<RevokedEntry> Crl::revoked() const {
  std::vector<RevokedEntry> out;
  STACK_OF(X509_REVOKED)* revs = X509_CRL_get_REVOKED(impl_->crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revs); ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(revs, i);
    out.push_back({ossl::serial_hex(X509_REVOKED_get0_serialNumber(r)),
                   ossl::asn1_time_to_timepoint(X509_REVOKED_get0_revocationDate(r))});
  }
  return out;
}
bool Crl::is_signed_by(const Certificate& issuer_cert) const {
  EVP_PKEY* key = X509_get0_pubkey(raw(issuer_cert));
  bool ok = key && X509_CRL_verify(impl_->crl.get(), key) == 1;
  ossl::drain_errors();
  return ok;
}
std::string Crl::to_pem() const {
  ossl::BioPtr bio = ossl::new_mem_bio();
  PEM_write_bio_X509_CRL(bio.get(), impl_->crl.get());
  return ossl::bio_contents(bio.get());
}
std::string Crl::to_der() const {
  return ossl::der_of(impl_->crl.get(), i2d_X509_CRL);
}

}  // namespace edgecert::pki
