#include "schema/spec.h"

#include <algorithm>

#include <fmt/core.h>

namespace edgecert::spec {

SourcePos SourceMap::find(const std::string& key) const {
  std::string k = key;
  while (true) {
    auto it = positions_.find(k);
    if (it != positions_.end()) return it->second;
    auto dot = k.find_last_of('.');
    if (dot == std::string::npos) return {};
    k.resize(dot);
  }
}

bool ServerCertificate::has_role(Role r) const {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

const Peer* Spec::find_peer(const std::string& peer_name) const {
  for (const Peer& p : peers)
    if (p.name == peer_name) return &p;
  return nullptr;
}

const char* issuer_type_name(const Issuer& issuer) {
  struct V {
    const char* operator()(const OpensslCaIssuer&) const { return "openssl-ca"; }
    const char* operator()(const ExternalIssuer&) const { return "external"; }
    const char* operator()(const AcmeIssuer&) const { return "acme"; }
    const char* operator()(const ExpresswayAcmeIssuer&) const { return "expressway-acme"; }
  };
  return std::visit(V{}, issuer);
}

const char* product_name(Product p) {
  return p == Product::kExpresswayE ? "expressway-e" : "expressway-c";
}

const char* role_name(Role r) {
  switch (r) {
    case Role::kMra:
      return "mra";
    case Role::kJabberGuest:
      return "jabber-guest";
    case Role::kXmppFederation:
      return "xmpp-federation";
    case Role::kB2b:
      return "b2b";
  }
  return "?";
}

const char* key_algorithm_name(KeyAlgorithm a) {
  return a == KeyAlgorithm::kRsa ? "rsa" : "ecdsa";
}

const char* digest_name(Digest d) {
  switch (d) {
    case Digest::kSha256:
      return "sha256";
    case Digest::kSha384:
      return "sha384";
    case Digest::kSha512:
      return "sha512";
  }
  return "?";
}

const char* tls_verification_name(TlsVerification t) {
  return t == TlsVerification::kEnforce ? "enforce" : "permissive";
}

const char* acme_mode_name(AcmeMode m) {
  switch (m) {
    case AcmeMode::kDisabled:
      return "disabled";
    case AcmeMode::kManual:
      return "manual";
    case AcmeMode::kAutomated:
      return "automated";
  }
  return "?";
}

const char* key_rotation_name(KeyRotation k) {
  return k == KeyRotation::kRotate ? "rotate" : "retain";
}

const char* revocation_fallback_name(RevocationFallback f) {
  return f == RevocationFallback::kTreatAsRevoked ? "treat-as-revoked" : "treat-as-not-revoked";
}

std::string key_display_name(KeyAlgorithm a, int size) {
  return a == KeyAlgorithm::kRsa ? fmt::format("RSA {}", size) : fmt::format("ECDSA P-{}", size);
}

}  // namespace edgecert::spec
