#include "providers/pki/certificate.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/core.h>

#include "providers/pki/ossl.h"

namespace edgecert::pki {

namespace {

constexpr std::array<std::string_view, 3> kEvOids = {
    "1.3.6.1.4.1.311.60.2.1.1",  // jurisdictionOfIncorporationLocalityName
    "1.3.6.1.4.1.311.60.2.1.2",  // jurisdictionOfIncorporationStateOrProvinceName
    "1.3.6.1.4.1.311.60.2.1.3",  // jurisdictionOfIncorporationCountryName
};

// X.520 / PKCS#9 / RFC 4519 attributes that appear in ordinary certificates.
constexpr std::array<std::string_view, 21> kStandardOids = {
    "2.5.4.6",                     // C
    "2.5.4.8",                     // ST
    "2.5.4.7",                     // L
    "2.5.4.10",                    // O
    "2.5.4.11",                    // OU
    "2.5.4.3",                     // CN
    "1.2.840.113549.1.9.1",        // emailAddress
    "2.5.4.5",                     // serialNumber
    "0.9.2342.19200300.100.1.25",  // DC
    "0.9.2342.19200300.100.1.1",   // UID
    "2.5.4.9",                     // street
    "2.5.4.17",                    // postalCode
    "2.5.4.12",                    // title
    "2.5.4.4",                     // SN (surname)
    "2.5.4.42",                    // GN (givenName)
    "2.5.4.43",                    // initials
    "2.5.4.44",                    // generationQualifier
    "2.5.4.46",                    // dnQualifier
    "2.5.4.65",                    // pseudonym
    "2.5.4.41",                    // name
    "2.5.4.15",                    // businessCategory (EV certificates carry it)
};

// Errors of decoding one block: "SOURCE: block N: not a certificate: REASON".
Error block_error(const std::string& source, size_t index, const std::string& what) {
  return Error{ErrorCode::kInvalidArgument,
               ossl::with_errors(fmt::format("{}: block {}: {}", source, index, what))};
}

// Strict DER: exactly `len` bytes of one certificate that re-encodes to the
// same bytes. BER (an indefinite or non-minimal length) is refused so that
// what edgecert checks and fingerprints is what every DER reader sees.
Result<ossl::X509Ptr> strict_der(const unsigned char* der, size_t len, const std::string& source,
                                 size_t index, const char* what) {
  const unsigned char* p = der;
  ossl::X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(len)));
  if (!x) return std::unexpected(block_error(source, index, what));
  size_t used = static_cast<size_t>(p - der);
  if (used != len) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: block {}: {} bytes of trailing data after the DER certificate", source,
                    index, len - used));
  }
  unsigned char* out = nullptr;
  int n = i2d_X509(x.get(), &out);
  bool same = n > 0 && static_cast<size_t>(n) == len && std::memcmp(out, der, len) == 0;
  OPENSSL_free(out);
  if (!same) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: block {}: not DER: the certificate is BER-encoded (it does "
                                  "not re-encode to the same bytes)",
                                  source, index));
  }
  return x;
}

}  // namespace

std::vector<NameAttribute> name_attributes(const X509_NAME* name) {
  std::vector<NameAttribute> out;
  if (!name) return out;
  int n = X509_NAME_entry_count(name);
  for (int i = 0; i < n; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    out.push_back({ossl::oid_text(obj), ossl::object_short_name(obj),
                   ossl::asn1_string_utf8(X509_NAME_ENTRY_get_data(e))});
  }
  return out;
}

SubjectFields subject_fields_of(const std::vector<NameAttribute>& attributes) {
  SubjectFields out;
  for (const NameAttribute& a : attributes) {
    if (a.short_name == "C") out.country = a.value;
    if (a.short_name == "ST") out.state = a.value;
    if (a.short_name == "L") out.locality = a.value;
    if (a.short_name == "O") out.organization = a.value;
    if (a.short_name == "OU") out.organizational_unit = a.value;
    if (a.short_name == "emailAddress") out.email = a.value;
  }
  return out;
}

static std::string general_name_ip(const ASN1_OCTET_STRING* ip) {
  const unsigned char* d = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  char buf[INET6_ADDRSTRLEN] = {};
  if (len == 4 && inet_ntop(AF_INET, d, buf, sizeof buf)) return buf;
  if (len == 16 && inet_ntop(AF_INET6, d, buf, sizeof buf)) return buf;
  return "<invalid:" + ossl::hex_colon(d, static_cast<size_t>(std::max(len, 0))) + ">";
}

KeyInfo pkey_info(EVP_PKEY* pk) {
  KeyInfo info;
  if (!pk) {
    ossl::drain_errors();
    return info;
  }
  const char* type = EVP_PKEY_get0_type_name(pk);
  info.algorithm = type ? type : "unknown";
  if (EVP_PKEY_is_a(pk, "RSA")) info.algorithm = "RSA";
  if (EVP_PKEY_is_a(pk, "EC")) info.algorithm = "EC";
  info.bits = EVP_PKEY_get_bits(pk);
  if (info.algorithm == "EC") {
    char group[80] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) ==
        1) {
      info.curve = group;
      const char* nist = EC_curve_nid2nist(OBJ_sn2nid(group));
      if (nist) info.curve = nist;
    }
  }
  ossl::drain_errors();
  return info;
}

SubjectAltNames general_names_to_sans(const GENERAL_NAMES* gens) {
  SubjectAltNames out;
  if (!gens) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, i);
    switch (g->type) {
      case GEN_DNS:
        out.dns.push_back(ossl::asn1_string_utf8(g->d.dNSName));
        break;
      case GEN_IPADD:
        out.ip.push_back(general_name_ip(g->d.iPAddress));
        break;
      case GEN_EMAIL:
        out.email.push_back(ossl::asn1_string_utf8(g->d.rfc822Name));
        break;
      case GEN_URI:
        out.uri.push_back(ossl::asn1_string_utf8(g->d.uniformResourceIdentifier));
        break;
      case GEN_OTHERNAME:
        out.other.push_back("othername:" + ossl::oid_text(g->d.otherName->type_id));
        break;
      case GEN_DIRNAME:
        out.other.push_back("DirName:" + ossl::name_rfc2253(g->d.directoryName));
        break;
      case GEN_RID:
        out.other.push_back("Registered ID:" + ossl::oid_text(g->d.registeredID));
        break;
      default:
        out.other.push_back(fmt::format("type {}", g->type));
        break;
    }
  }
  return out;
}

bool is_supported_ev_oid(std::string_view oid) {
  return std::find(kEvOids.begin(), kEvOids.end(), oid) != kEvOids.end();
}

bool is_standard_name_oid(std::string_view oid) {
  return std::find(kStandardOids.begin(), kStandardOids.end(), oid) != kStandardOids.end();
}

// ---- Parsing ---------------------------------------------------------------

Result<std::vector<Certificate>> Certificate::parse_all(std::string_view data,
                                                        const std::string& source) {
  ERR_clear_error();
  std::vector<Certificate> out;
  if (data.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: empty input", source));
  }
  if (looks_like_pem(data)) {
    auto blocks = split_pem(data, source);
    if (!blocks) return std::unexpected(blocks.error());
    for (size_t i = 0; i < blocks->size(); ++i) {
      const PemBlock& b = (*blocks)[i];
      if (b.label != "CERTIFICATE" && b.label != "X509 CERTIFICATE" &&
          b.label != "TRUSTED CERTIFICATE") {
        return std::unexpected(
            block_error(source, i, fmt::format("not a certificate: PEM block is '{}'", b.label)));
      }
      ossl::BioPtr bio = ossl::mem_bio(b.text);
      if (b.label == "TRUSTED CERTIFICATE") {
        ossl::X509Ptr x(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
        if (!x) return std::unexpected(block_error(source, i, "not a certificate"));
        out.push_back(wrap_certificate(std::move(x)));
        continue;
      }
      char* name = nullptr;
      char* header = nullptr;
      unsigned char* der = nullptr;
      long len = 0;
      if (PEM_read_bio(bio.get(), &name, &header, &der, &len) != 1) {
        return std::unexpected(block_error(source, i, "not a certificate"));
      }
      auto x = strict_der(der, static_cast<size_t>(len), source, i, "not a certificate");
      OPENSSL_free(name);
      OPENSSL_free(header);
      OPENSSL_free(der);
      if (!x) return std::unexpected(x.error());
      out.push_back(wrap_certificate(std::move(*x)));
    }
    return out;
  }
  auto x = strict_der(reinterpret_cast<const unsigned char*>(data.data()), data.size(), source, 0,
                      "not a certificate (neither PEM nor DER)");
  if (!x) return std::unexpected(x.error());
  out.push_back(wrap_certificate(std::move(*x)));
  return out;
}

Result<Certificate> Certificate::parse_one(std::string_view data, const std::string& source) {
  auto all = parse_all(data, source);
  if (!all) return std::unexpected(all.error());
  if (all->empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: no certificate", source));
  }
  if (all->size() > 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: expected one certificate, found {}", source, all->size()));
  }
  return std::move(all->front());
}

Result<std::vector<Certificate>> load_certificates(Env& env, const std::string& path,
                                                   const ReadLimit& limit) {
  auto data = env.read_file(path, limit);
  if (!data) return std::unexpected(data.error());
  auto certs = Certificate::parse_all(*data, path);
  if (certs && certs->empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: no PEM certificate blocks found", path));
  }
  return certs;
}

// ---- Value semantics -------------------------------------------------------

Certificate::Certificate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Certificate::Certificate(const Certificate& other) : impl_(std::make_unique<Impl>()) {
  X509_up_ref(other.impl_->x509.get());
  impl_->x509.reset(other.impl_->x509.get());
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) {
    Certificate copy(other);
    impl_ = std::move(copy.impl_);
  }
  return *this;
}

Certificate::Certificate(Certificate&&) noexcept = default;
Certificate& Certificate::operator=(Certificate&&) noexcept = default;
Certificate::~Certificate() = default;

bool Certificate::operator==(const Certificate& other) const {
  return X509_cmp(impl_->x509.get(), other.impl_->x509.get()) == 0;
}

// ---- Fields ----------------------------------------------------------------

std::string Certificate::subject() const {
  return ossl::name_rfc2253(X509_get_subject_name(impl_->x509.get()));
}
std::string Certificate::issuer() const {
  return ossl::name_rfc2253(X509_get_issuer_name(impl_->x509.get()));
}
std::string Certificate::subject_cn() const {
  return ossl::name_cn(X509_get_subject_name(impl_->x509.get()));
}
std::string Certificate::issuer_cn() const {
  return ossl::name_cn(X509_get_issuer_name(impl_->x509.get()));
}
TimePoint Certificate::not_before() const {
  return ossl::asn1_time_to_timepoint(X509_get0_notBefore(impl_->x509.get()));
}
TimePoint Certificate::not_after() const {
  return ossl::asn1_time_to_timepoint(X509_get0_notAfter(impl_->x509.get()));
}

bool Certificate::has_basic_constraints() const {
  return X509_get_ext_by_NID(impl_->x509.get(), NID_basic_constraints, -1) >= 0;
}

bool Certificate::is_ca() const {
  ossl::BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(impl_->x509.get(), NID_basic_constraints, nullptr, nullptr)));
  return bc && bc->ca;
}

std::optional<long> Certificate::path_length() const {
  ossl::BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(impl_->x509.get(), NID_basic_constraints, nullptr, nullptr)));
  if (!bc || !bc->pathlen) return std::nullopt;
  return ASN1_INTEGER_get(bc->pathlen);
}

bool Certificate::is_self_signed() const {
  X509* x = impl_->x509.get();
  if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0) return false;
  return is_signed_by(*this);
}

bool Certificate::is_signed_by(const Certificate& issuer_cert) const {
  EVP_PKEY* key = X509_get0_pubkey(issuer_cert.impl_->x509.get());
  bool ok = key && X509_verify(impl_->x509.get(), key) == 1;
  ossl::drain_errors();
  return ok;
}

std::string Certificate::sha256_fingerprint() const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(impl_->x509.get(), EVP_sha256(), md, &len) != 1) {
    ossl::drain_errors();
    return {};
  }
  return ossl::hex_colon(md, len);
}

std::string Certificate::to_pem() const {
  ossl::BioPtr bio = ossl::new_mem_bio();
  PEM_write_bio_X509(bio.get(), impl_->x509.get());
  return ossl::bio_contents(bio.get());
}

std::string Certificate::to_der() const {
  return ossl::der_of(impl_->x509.get(), i2d_X509);
}

long Certificate::version() const {
  return X509_get_version(impl_->x509.get()) + 1;
}

std::string Certificate::serial_hex() const {
  return ossl::serial_hex(X509_get0_serialNumber(impl_->x509.get()));
}

std::vector<NameAttribute> Certificate::subject_attributes() const {
  return name_attributes(X509_get_subject_name(impl_->x509.get()));
}
std::vector<NameAttribute> Certificate::issuer_attributes() const {
  return name_attributes(X509_get_issuer_name(impl_->x509.get()));
}

std::vector<std::string> Certificate::unknown_name_oids() const {
  std::vector<std::string> out;
  auto scan = [&out](const std::vector<NameAttribute>& attrs) {
    for (const NameAttribute& a : attrs) {
      if (is_standard_name_oid(a.oid) || is_supported_ev_oid(a.oid)) continue;
      if (std::find(out.begin(), out.end(), a.oid) == out.end()) out.push_back(a.oid);
    }
  };
  scan(subject_attributes());
  scan(issuer_attributes());
  return out;
}

KeyInfo Certificate::key_info() const {
  return pkey_info(X509_get0_pubkey(impl_->x509.get()));
}

std::string Certificate::signature_algorithm() const {
  int nid = X509_get_signature_nid(impl_->x509.get());
  const char* ln = OBJ_nid2ln(nid);
  return ln ? ln : "unknown";
}

std::string Certificate::signature_digest() const {
  int md_nid = NID_undef, pk_nid = NID_undef, secbits = 0;
  uint32_t flags = 0;
  if (X509_get_signature_info(impl_->x509.get(), &md_nid, &pk_nid, &secbits, &flags) != 1 ||
      md_nid == NID_undef) {
    ossl::drain_errors();
    return {};
  }
  const char* ln = OBJ_nid2ln(md_nid);
  return ln ? ln : "";
}

SubjectAltNames Certificate::subject_alt_names() const {
  ossl::GeneralNamesPtr gens(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(impl_->x509.get(), NID_subject_alt_name, nullptr, nullptr)));
  return general_names_to_sans(gens.get());
}

bool Certificate::has_extended_key_usage() const {
  return X509_get_ext_by_NID(impl_->x509.get(), NID_ext_key_usage, -1) >= 0;
}

std::vector<std::string> Certificate::extended_key_usage() const {
  std::vector<std::string> out;
  ossl::EkuPtr eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(impl_->x509.get(), NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) return out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    out.push_back(ossl::object_short_name(sk_ASN1_OBJECT_value(eku.get(), i)));
  }
  return out;
}

bool Certificate::has_key_usage() const {
  return X509_get_ext_by_NID(impl_->x509.get(), NID_key_usage, -1) >= 0;
}

std::vector<std::string> Certificate::key_usage() const {
  static const std::pair<uint32_t, const char*> kBits[] = {
      {KU_DIGITAL_SIGNATURE, "digitalSignature"},
      {KU_NON_REPUDIATION, "nonRepudiation"},
      {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
      {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
      {KU_KEY_AGREEMENT, "keyAgreement"},
      {KU_KEY_CERT_SIGN, "keyCertSign"},
      {KU_CRL_SIGN, "cRLSign"},
      {KU_ENCIPHER_ONLY, "encipherOnly"},
      {KU_DECIPHER_ONLY, "decipherOnly"},
  };
  std::vector<std::string> out;
  if (!has_key_usage()) return out;
  uint32_t ku = X509_get_key_usage(impl_->x509.get());
  for (const auto& [bit, name] : kBits)
    if (ku & bit) out.emplace_back(name);
  return out;
}

std::string Certificate::subject_key_id() const {
  const ASN1_OCTET_STRING* s = X509_get0_subject_key_id(impl_->x509.get());
  if (!s) return {};
  return ossl::hex_colon(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string Certificate::authority_key_id() const {
  const ASN1_OCTET_STRING* s = X509_get0_authority_key_id(impl_->x509.get());
  if (!s) return {};
  return ossl::hex_colon(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s)));
}

std::vector<std::string> Certificate::crl_distribution_points() const {
  std::vector<std::string> out;
  ossl::CrlDistPointsPtr dps(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(impl_->x509.get(), NID_crl_distribution_points, nullptr, nullptr)));
  if (!dps) return out;
  for (int i = 0; i < sk_DIST_POINT_num(dps.get()); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
    if (!dp->distpoint || dp->distpoint->type != 0) continue;
    const GENERAL_NAMES* names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, j);
      if (g->type == GEN_URI) out.push_back(ossl::asn1_string_utf8(g->d.uniformResourceIdentifier));
    }
  }
  return out;
}

std::vector<std::string> Certificate::ocsp_urls() const {
  std::vector<std::string> out;
  ossl::StringStackPtr urls(X509_get1_ocsp(impl_->x509.get()));
  if (!urls) return out;
  for (int i = 0; i < sk_OPENSSL_STRING_num(urls.get()); ++i) {
    out.emplace_back(sk_OPENSSL_STRING_value(urls.get(), i));
  }
  return out;
}

}  // namespace edgecert::pki
