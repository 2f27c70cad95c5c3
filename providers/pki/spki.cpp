#include "providers/pki/spki.h"

#include <openssl/sha.h>

#include "providers/pki/ossl.h"

namespace edgecert::pki {
namespace {

std::string digest_public_key(EVP_PKEY* pkey) {
  if (!pkey) return "";
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) {
    ossl::drain_errors();
    return "";
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(len), md);
  OPENSSL_free(der);
  return ossl::hex_colon(md, sizeof md);
}

}  // namespace

std::string spki_sha256(const Certificate& cert) {
  // X509_get0_pubkey does not transfer ownership.
  return digest_public_key(X509_get0_pubkey(cert.impl().x509.get()));
}

std::string spki_sha256(const CertificateRequest& csr) {
  return digest_public_key(X509_REQ_get0_pubkey(csr.impl().req.get()));
}

std::string spki_sha256(const PrivateKey& key) { return digest_public_key(key.impl().pkey.get()); }

std::string sha256_fingerprint(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return ossl::hex_colon(md, sizeof md);
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  std::string out = ossl::hex_plain(md, sizeof md);
  for (char& c : out)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace edgecert::pki
