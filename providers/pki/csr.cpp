#include "providers/pki/csr.h"

#include <openssl/objects.h>
#include <openssl/pem.h>

#include <fmt/core.h>

#include "providers/pki/key.h"
#include "providers/pki/ossl.h"

namespace edgecert::pki {

namespace {

Status add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return {};
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return make_error(
        ErrorCode::kInvalidArgument,
        ossl::with_errors(fmt::format("subject {}='{}' is not acceptable", field, value)));
  }
  return {};
}

ossl::X509ExtStackPtr request_extensions(X509_REQ* req) {
  ossl::X509ExtStackPtr exts(X509_REQ_get_extensions(req));
  ossl::drain_errors();
  return exts;
}

template <class T>
T* find_ext_d2i(const STACK_OF(X509_EXTENSION) * exts, int nid) {
  if (!exts) return nullptr;
  return static_cast<T*>(X509V3_get_d2i(exts, nid, nullptr, nullptr));
}

}  // namespace

// Builds a subject name from CN + spec subject fields, in the order an
// Expressway writes them (C, ST, L, O, OU, CN, emailAddress).
Result<ossl::X509NamePtr> build_subject_name(const std::string& common_name,
                                             const SubjectFields& subject) {
  ossl::X509NamePtr name(X509_NAME_new());
  if (!name) return make_error(ErrorCode::kInternal, "out of memory");
  for (auto [field, value] : {std::pair<const char*, const std::string*>{"C", &subject.country},
                              {"ST", &subject.state},
                              {"L", &subject.locality},
                              {"O", &subject.organization},
                              {"OU", &subject.organizational_unit},
                              {"CN", &common_name},
                              {"emailAddress", &subject.email}}) {
    auto st = add_name_entry(name.get(), field, *value);
    if (!st) return std::unexpected(st.error());
  }
  return name;
}

Result<ossl::X509ExtPtr> make_eku_extension(const std::vector<std::string>& usages) {
  ossl::EkuPtr eku(sk_ASN1_OBJECT_new_null());
  for (const std::string& u : usages) {
    ASN1_OBJECT* obj = OBJ_txt2obj(u.c_str(), 0);
    if (!obj) {
      ossl::drain_errors();
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("unknown extended key usage '{}'", u));
    }
    sk_ASN1_OBJECT_push(eku.get(), obj);
  }
  ossl::X509ExtPtr ext(X509V3_EXT_i2d(NID_ext_key_usage, 0, eku.get()));
  if (!ext) return make_error(ErrorCode::kInternal, ossl::with_errors("cannot encode EKU"));
  return ext;
}

Result<ossl::X509ExtPtr> make_dns_san_extension(const std::vector<std::string>& names) {
  ossl::GeneralNamesPtr gens(GENERAL_NAMES_new());
  for (const std::string& n : names) {
    GENERAL_NAME* g = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!g || !ia5 || ASN1_STRING_set(ia5, n.data(), static_cast<int>(n.size())) != 1) {
      GENERAL_NAME_free(g);
      ASN1_IA5STRING_free(ia5);
      return make_error(ErrorCode::kInternal, ossl::with_errors("cannot encode SAN"));
    }
    GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
    sk_GENERAL_NAME_push(gens.get(), g);
  }
  ossl::X509ExtPtr ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, gens.get()));
  if (!ext) return make_error(ErrorCode::kInternal, ossl::with_errors("cannot encode SAN"));
  return ext;
}

CertificateRequest::CertificateRequest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertificateRequest::CertificateRequest(const CertificateRequest& other)
    : impl_(std::make_unique<Impl>()) {
  impl_->req.reset(X509_REQ_dup(other.impl_->req.get()));
}
CertificateRequest& CertificateRequest::operator=(const CertificateRequest& other) {
  if (this != &other) impl_->req.reset(X509_REQ_dup(other.impl_->req.get()));
  return *this;
}
CertificateRequest::CertificateRequest(CertificateRequest&&) noexcept = default;
CertificateRequest& CertificateRequest::operator=(CertificateRequest&&) noexcept = default;
CertificateRequest::~CertificateRequest() = default;

CertificateRequest wrap_request(ossl::X509ReqPtr req) {
  auto impl = std::make_unique<CertificateRequest::Impl>();
  impl->req = std::move(req);
  return CertificateRequest(std::move(impl));
}

Result<CertificateRequest> CertificateRequest::parse(std::string_view data,
                                                     const std::string& source) {
  ERR_clear_error();
  if (data.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: empty input", source));
  }
  if (looks_like_pem(data)) {
    auto blocks = split_pem(data, source);
    if (!blocks) return std::unexpected(blocks.error());
    for (size_t i = 0; i < blocks->size(); ++i) {
      const PemBlock& b = (*blocks)[i];
      if (b.label != "CERTIFICATE REQUEST" && b.label != "NEW CERTIFICATE REQUEST") {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: block {}: not a certificate request: PEM block is '{}'",
                                      source, i, b.label));
      }
      ossl::BioPtr bio = ossl::mem_bio(b.text);
      ossl::X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
      if (!req) {
        return make_error(
            ErrorCode::kInvalidArgument,
            ossl::with_errors(fmt::format("{}: block {}: not a certificate request", source, i)));
      }
      if (blocks->size() > 1) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: expected one certificate request, found {} blocks",
                                      source, blocks->size()));
      }
      return wrap_request(std::move(req));
    }
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  ossl::X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(data.size())));
  if (!req) {
    return make_error(ErrorCode::kInvalidArgument,
                      ossl::with_errors(fmt::format(
                          "{}: block 0: not a certificate request (neither PEM nor DER)", source)));
  }
  return wrap_request(std::move(req));
}

Result<CertificateRequest> CertificateRequest::create(const PrivateKey& key,
                                                      const CsrOptions& options) {
  ERR_clear_error();
  ossl::X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot create request"));
  }
  auto name = build_subject_name(options.common_name, options.subject);
  if (!name) return std::unexpected(name.error());
  if (X509_REQ_set_subject_name(req.get(), name->get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), raw(key)) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot fill request"));
  }

  ossl::X509ExtStackPtr exts(sk_X509_EXTENSION_new_null());
  if (!options.dns_names.empty()) {
    auto san = make_dns_san_extension(options.dns_names);
    if (!san) return std::unexpected(san.error());
    sk_X509_EXTENSION_push(exts.get(), san->release());
  }
  if (!options.extended_key_usage.empty()) {
    auto eku = make_eku_extension(options.extended_key_usage);
    if (!eku) return std::unexpected(eku.error());
    sk_X509_EXTENSION_push(exts.get(), eku->release());
  }
  // keyUsage as an Expressway requests it: RSA keys also encipher.
  ossl::X509ExtPtr ku(X509V3_EXT_conf_nid(
      nullptr, nullptr, NID_key_usage,
      EVP_PKEY_is_a(raw(key), "RSA") ? "digitalSignature,keyEncipherment" : "digitalSignature"));
  if (!ku) return make_error(ErrorCode::kInternal, ossl::with_errors("cannot encode keyUsage"));
  sk_X509_EXTENSION_push(exts.get(), ku.release());
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add extensions"));
  }
  if (X509_REQ_sign(req.get(), raw(key), digest_md(options.digest)) <= 0) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot sign request"));
  }
  return wrap_request(std::move(req));
}

std::string CertificateRequest::subject() const {
  return ossl::name_rfc2253(X509_REQ_get_subject_name(impl_->req.get()));
}
std::string CertificateRequest::subject_cn() const {
  return ossl::name_cn(X509_REQ_get_subject_name(impl_->req.get()));
}
std::vector<NameAttribute> CertificateRequest::subject_attributes() const {
  return name_attributes(X509_REQ_get_subject_name(impl_->req.get()));
}
KeyInfo CertificateRequest::key_info() const {
  return pkey_info(X509_REQ_get0_pubkey(impl_->req.get()));
}
std::string CertificateRequest::signature_algorithm() const {
  const char* ln = OBJ_nid2ln(X509_REQ_get_signature_nid(impl_->req.get()));
  return ln ? ln : "unknown";
}
std::string CertificateRequest::signature_digest() const {
  int md_nid = NID_undef, pk_nid = NID_undef;
  if (OBJ_find_sigid_algs(X509_REQ_get_signature_nid(impl_->req.get()), &md_nid, &pk_nid) != 1 ||
      md_nid == NID_undef)
    return {};
  const char* ln = OBJ_nid2ln(md_nid);
  return ln ? ln : "";
}

SubjectAltNames CertificateRequest::subject_alt_names() const {
  ossl::X509ExtStackPtr exts = request_extensions(impl_->req.get());
  ossl::GeneralNamesPtr gens(find_ext_d2i<GENERAL_NAMES>(exts.get(), NID_subject_alt_name));
  return general_names_to_sans(gens.get());
}

std::vector<std::string> CertificateRequest::extended_key_usage() const {
  std::vector<std::string> out;
  ossl::X509ExtStackPtr exts = request_extensions(impl_->req.get());
  ossl::EkuPtr eku(find_ext_d2i<EXTENDED_KEY_USAGE>(exts.get(), NID_ext_key_usage));
  if (!eku) return out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i)
    out.push_back(ossl::object_short_name(sk_ASN1_OBJECT_value(eku.get(), i)));
  return out;
}

std::vector<std::string> CertificateRequest::key_usage() const {
  std::vector<std::string> out;
  ossl::X509ExtStackPtr exts = request_extensions(impl_->req.get());
  std::unique_ptr<ASN1_BIT_STRING, ossl::Deleter<ASN1_BIT_STRING_free>> ku(
      find_ext_d2i<ASN1_BIT_STRING>(exts.get(), NID_key_usage));
  if (!ku) return out;
  static const char* kNames[] = {"digitalSignature", "nonRepudiation", "keyEncipherment",
                                 "dataEncipherment", "keyAgreement",   "keyCertSign",
                                 "cRLSign",          "encipherOnly",   "decipherOnly"};
  for (int i = 0; i < 9; ++i)
    if (ASN1_BIT_STRING_get_bit(ku.get(), i)) out.emplace_back(kNames[i]);
  return out;
}

bool CertificateRequest::signature_valid() const {
  EVP_PKEY* pub = X509_REQ_get0_pubkey(impl_->req.get());
  bool ok = pub && X509_REQ_verify(impl_->req.get(), pub) == 1;
  ossl::drain_errors();
  return ok;
}

std::string CertificateRequest::to_pem() const {
  ossl::BioPtr bio = ossl::new_mem_bio();
  PEM_write_bio_X509_REQ(bio.get(), impl_->req.get());
  return ossl::bio_contents(bio.get());
}

std::string CertificateRequest::to_der() const {
  return ossl::der_of(impl_->req.get(), i2d_X509_REQ);
}

}  // namespace edgecert::pki
