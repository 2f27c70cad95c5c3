// Decoding of any PKI file by content: certificates, bundles, CSRs, CRLs and
// private keys, PEM (any mix of blocks, in order) or DER (one object).
// Used by `edgecert show`; the per-type parsers stay the strict entry points.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/error.h"
#include "providers/pki/certificate.h"
#include "providers/pki/crl.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"

namespace edgecert::pki {

enum class ObjectKind { kCertificate, kCertificateRequest, kCrl, kPrivateKey };
const char* object_kind_name(ObjectKind k);  // "certificate", "csr", "crl", "private-key"

struct DecodedObject {
  size_t index = 0;  // 0-based block index in the file
  ObjectKind kind = ObjectKind::kCertificate;
  std::string encoding;  // "PEM" or "DER"
  std::optional<Certificate> certificate;
  std::optional<CertificateRequest> request;
  std::optional<Crl> crl;
  std::optional<KeyFile> key;  // key->encrypted when password protected
};

// All objects in `data`. An unknown or unparsable block fails the whole file
// with "SOURCE: block N: ...".
Result<std::vector<DecodedObject>> decode_objects(std::string_view data, const std::string& source);

}  // namespace edgecert::pki
