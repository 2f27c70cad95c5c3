// Public-key identity: the SHA-256 of the DER SubjectPublicKeyInfo.
//
// The same value for a certificate, a CSR and a private key that share a key
// pair, so callers can tell "this certificate answers that CSR" or "the key was
// rotated" without handling key material. Upper-case hex with colons.
#pragma once

#include <string>
#include <string_view>

#include "providers/pki/certificate.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"

namespace edgecert::pki {

std::string spki_sha256(const Certificate& cert);
std::string spki_sha256(const CertificateRequest& csr);
std::string spki_sha256(const PrivateKey& key);

// SHA-256 of arbitrary bytes (a CRL file, a plan, a spec), upper-case hex with
// colons like Certificate::sha256_fingerprint.
std::string sha256_fingerprint(std::string_view data);
// The same digest as 64 lower-case hex digits (for file formats and JSON).
std::string sha256_hex(std::string_view data);

}  // namespace edgecert::pki
