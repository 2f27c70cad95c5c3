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
  return enum_name(kProductNames, p).data();
}
const char* role_name(Role r) {
  return enum_name(kRoleNames, r).data();
}
const char* tls_verification_name(TlsVerification t) {
  return enum_name(kTlsVerificationNames, t).data();
}
const char* acme_mode_name(AcmeMode m) {
  return enum_name(kAcmeModeNames, m).data();
}
const char* key_rotation_name(KeyRotation k) {
  return enum_name(kKeyRotationNames, k).data();
}
const char* extended_key_usage_name(ExtendedKeyUsage e) {
  return enum_name(kExtendedKeyUsageNames, e).data();
}
const char* revocation_fallback_name(RevocationFallback f) {
  return enum_name(kRevocationFallbackNames, f).data();
}

}  // namespace edgecert::spec
