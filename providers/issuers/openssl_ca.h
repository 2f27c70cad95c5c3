// The `openssl-ca` issuer: a local CA directory that `openssl ca` could use too.
//
// Layout (docs/issuers.md), the one the certificate guide's OpenSSL appendix
// sets up: cacert.pem (the CA certificate, optionally followed by its own
// issuers), private/cakey.pem (unencrypted, 0600, folder 0700), serial (next
// serial, hex), index.txt (openssl ca's database) with index.txt.attr
// (`unique_subject = no`: every peer's certificate has the cluster FQDN as its
// subject; written by init, and by the next sign in a folder without one),
// newcerts/<SERIAL>.pem, crlnumber and crl.pem. Signing copies the requested SANs and sets EKU
// serverAuth + clientAuth (the guide's `copy_extensions = copy`), with
// policy_anything. A lock file serialises concurrent signers of other
// processes; sign() and revoke() may be called from several threads (apply
// signs every node's CSR concurrently), which take turns on a mutex first.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "providers/issuer/issuer.h"

namespace edgecert::issuer {

struct CaInitOptions {
  std::string common_name = "edgecert local CA";
  spec::Subject subject;
  spec::KeyAlgorithm algorithm = spec::KeyAlgorithm::kRsa;
  int key_size = 4096;
  std::chrono::days validity{3650};
};

// Creates a new CA in `dir` (created if missing). kAlreadyExists when
// dir/cacert.pem exists: an existing CA is never overwritten.
Status init_openssl_ca(Env& env, const std::string& dir, const CaInitOptions& options);

// True when `dir` holds an initialised CA.
bool openssl_ca_exists(Env& env, const std::string& dir);

// An issuer over an existing CA directory. Leaf validity: `validity`, capped
// at the CA certificate's own expiry.
std::unique_ptr<Issuer> make_openssl_ca_issuer(Env& env, std::string dir,
                                               std::chrono::days validity = std::chrono::days(365));

}  // namespace edgecert::issuer
