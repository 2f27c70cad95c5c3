// JSON Web Signature primitives for ACME (RFC 7515, 7517, 7518, 7638).
//
// Contract:
// - Keys stay inside pki::PrivateKey / SecretString: these functions read them
//   through OpenSSL and never copy key bytes into strings they return, except
//   the public JWK members. No error message contains key material.
// - Supported account keys: ECDSA P-256 (ES256), P-384 (ES384) and RSA >= 2048
//   (RS256). ECDSA signatures are the raw fixed-width r||s form JWS requires
//   (64 bytes for ES256), not OpenSSL's DER.
// - JWK JSON produced here is the RFC 7638 canonical form (required members
//   only, lexicographic order, no whitespace), so the thumbprint is simply
//   base64url(SHA-256(jwk_json(key))).
#pragma once

#include <string>
#include <string_view>

#include "providers/base/error.h"
#include "providers/pki/key.h"

namespace edgecert::pki {

// base64url without padding (RFC 7515 section 2).
std::string base64url_encode(std::string_view data);
// Accepts base64url with or without '=' padding; rejects any other character.
Result<std::string> base64url_decode(std::string_view text);

// SHA-256 of `data`, raw 32 bytes.
std::string sha256_raw(std::string_view data);

// "ES256", "ES384" or "RS256"; InvalidArgument for other key types.
Result<std::string> jws_algorithm(const PrivateKey& key);

// The public JWK of `key` in RFC 7638 canonical JSON:
// {"crv":"P-256","kty":"EC","x":"..","y":".."} or {"e":"..","kty":"RSA","n":".."}.
Result<std::string> jwk_json(const PrivateKey& key);

// RFC 7638 thumbprint: base64url(SHA-256(canonical JWK)).
Result<std::string> jwk_thumbprint(const PrivateKey& key);

// Signs `signing_input` (ASCII "protected.payload") with the algorithm of
// jws_algorithm(key). Returns the raw JWS signature bytes (not base64url).
Result<std::string> jws_sign(const PrivateKey& key, std::string_view signing_input);

// Flattened JWS JSON serialisation ({"protected","payload","signature"}):
// `protected_json` and `payload` are the exact bytes to encode; payload ""
// yields the POST-as-GET form (empty payload member).
Result<std::string> jws_flattened(const PrivateKey& key, std::string_view protected_json,
                                  std::string_view payload);

// HMAC-SHA256 of `data` under `key` (raw 32 bytes), for External Account
// Binding (HS256). The key is read in place, never copied.
Result<std::string> hmac_sha256(const SecretString& key, std::string_view data);

}  // namespace edgecert::pki
