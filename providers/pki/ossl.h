// OpenSSL plumbing private to providers/pki/*.cpp: owning pointers, PEM block
// splitting, error-queue draining. Never include this from a public header:
// raw OpenSSL types stay inside the pki layer.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/env.h"
#include "providers/pki/certificate.h"
#include "providers/pki/crl.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"

namespace edgecert::pki {

namespace ossl {

// unique_ptr deleter calling an OpenSSL free function.
template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, Deleter<X509_REVOKED_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>>;
using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, Deleter<ASN1_ENUMERATED_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS_free>>;
using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<EXTENDED_KEY_USAGE_free>>;
using CrlDistPointsPtr = std::unique_ptr<CRL_DIST_POINTS, Deleter<CRL_DIST_POINTS_free>>;

inline void free_x509_stack(STACK_OF(X509) * s) {
  sk_X509_pop_free(s, X509_free);
}
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<free_x509_stack>>;
inline void free_ext_stack(STACK_OF(X509_EXTENSION) * s) {
  sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}
using X509ExtStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), Deleter<free_ext_stack>>;
inline void free_string_stack(STACK_OF(OPENSSL_STRING) * s) {
  X509_email_free(s);
}
using StringStackPtr = std::unique_ptr<STACK_OF(OPENSSL_STRING), Deleter<free_string_stack>>;

// Drains the thread's OpenSSL error queue into one line ("" when empty), so a
// failure never leaves stale errors behind for the next caller.
std::string drain_errors();
// `what` plus the drained OpenSSL reason, e.g. "cannot sign: key too small".
std::string with_errors(const std::string& what);

// The DER encoding of an OpenSSL object through its i2d_* function ("" on
// failure): one place for the allocate/copy/free dance.
template <class T>
std::string der_of(const T* object, int (*i2d)(const T*, unsigned char**)) {
  unsigned char* der = nullptr;
  int n = i2d(object, &der);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

// A read-only memory BIO over `data` (must outlive the BIO).
BioPtr mem_bio(std::string_view data);
BioPtr new_mem_bio();
std::string bio_contents(BIO* bio);

// Upper-case hex bytes joined by ':' ("AB:CD").
std::string hex_colon(const unsigned char* data, size_t len);
// Upper-case hex bytes without separators ("ABCD").
std::string hex_plain(const unsigned char* data, size_t len);

std::string asn1_string_utf8(const ASN1_STRING* s);
std::string name_rfc2253(const X509_NAME* name);
std::string name_oneline(const X509_NAME* name);  // "C=GB, O=x, CN=y", openssl -text order
std::string name_cn(const X509_NAME* name);
TimePoint asn1_time_to_timepoint(const ASN1_TIME* t);
std::string serial_hex(const ASN1_INTEGER* serial);
// "1.2.3" for any object.
std::string oid_text(const ASN1_OBJECT* obj);
// Short name when OpenSSL knows the object, else the dotted OID.
std::string object_short_name(const ASN1_OBJECT* obj);
// Parses an upper- or lower-case hex serial ("01AB", "01:AB") into an ASN1_INTEGER.
Result<Asn1IntegerPtr> serial_from_hex(const std::string& hex);

}  // namespace ossl

// One "-----BEGIN LABEL-----" .. "-----END LABEL-----" block of a PEM file,
// including the armour lines.
struct PemBlock {
  std::string label;
  std::string text;
  bool has_encrypted_header = false;  // legacy "Proc-Type: 4,ENCRYPTED"
};

// True when `data` contains PEM armour; DER data never does.
bool looks_like_pem(std::string_view data);
// Every PEM block in order. Text outside blocks (comments, "Bag Attributes")
// is ignored. An unterminated block is an error naming the source and index.
Result<std::vector<PemBlock>> split_pem(std::string_view data, const std::string& source);

struct Certificate::Impl {
  ossl::X509Ptr x509;
};

struct PrivateKey::Impl {
  ossl::EvpPkeyPtr pkey;
};

struct CertificateRequest::Impl {
  ossl::X509ReqPtr req;
};

// One revoked entry's serial in find_revoked's index: the integer's
// magnitude bytes (leading zero bytes stripped), pointing into the CRL's own
// storage, and the entry. The entry, not its position: OpenSSL's own
// revocation lookup (X509_verify_cert) sorts the CRL's stack in place.
struct CrlSerialKey {
  const unsigned char* bytes = nullptr;
  std::uint32_t length = 0;
  bool negative = false;
  const X509_REVOKED* entry = nullptr;
};

struct Crl::Impl {
  ossl::X509CrlPtr crl;
  // Built by the first find_revoked (call_once: concurrent first lookups
  // build it once); copies of a Crl build their own.
  mutable std::once_flag index_once;
  mutable std::vector<CrlSerialKey> index;
};

// Wraps an owned X509 (takes the reference).
Certificate wrap_certificate(ossl::X509Ptr x509);
PrivateKey wrap_private_key(ossl::EvpPkeyPtr pkey);
CertificateRequest wrap_request(ossl::X509ReqPtr req);
Crl wrap_crl(ossl::X509CrlPtr crl);

// Raw handles for pki/*.cpp (borrowed, never owned by the caller).
inline X509* raw(const Certificate& c) {
  return c.impl().x509.get();
}
inline EVP_PKEY* raw(const PrivateKey& k) {
  return k.impl().pkey.get();
}
inline X509_REQ* raw(const CertificateRequest& r) {
  return r.impl().req.get();
}
inline X509_CRL* raw(const Crl& c) {
  return c.impl().crl.get();
}

// EVP_MD for a spec digest.
const EVP_MD* digest_md(Digest d);
KeyInfo pkey_info(EVP_PKEY* pk);
SubjectAltNames general_names_to_sans(const GENERAL_NAMES* gens);
std::vector<NameAttribute> name_attributes(const X509_NAME* name);
// Subject C, ST, L, O, OU, CN (empty fields left out).
Result<ossl::X509NamePtr> build_subject_name(const std::string& common_name,
                                             const SubjectFields& subject);
Result<ossl::X509ExtPtr> make_eku_extension(const std::vector<std::string>& usages);
Result<ossl::X509ExtPtr> make_dns_san_extension(const std::vector<std::string>& names);

}  // namespace edgecert::pki
