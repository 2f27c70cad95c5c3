#include "providers/pki/checks.h"

#include <algorithm>
#include <ctime>
#include <map>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/fqdn.h"

namespace edgecert::pki {

namespace {

std::string describe(const Certificate& c) {
  std::string cn = c.subject_cn();
  return cn.empty() ? fmt::format("'{}'", c.subject()) : fmt::format("'{}'", cn);
}

}  // namespace

std::vector<Finding> check_ca_set(const std::vector<Certificate>& cas, TimePoint now) {
  std::vector<Finding> out;
  if (cas.size() > kMaxTrustedCas) {
    out.push_back({"too-many-cas", Severity::kWarning,
                   fmt::format("{} trusted CA certificates exceed the recommended maximum of {}",
                               cas.size(), kMaxTrustedCas),
                   std::nullopt});
  }
  // CN (lower-cased) -> indexes carrying it, in input order.
  std::map<std::string, std::vector<size_t>> by_cn;
  for (size_t i = 0; i < cas.size(); ++i) {
    const Certificate& c = cas[i];
    if (!c.has_basic_constraints() || !c.is_ca()) {
      out.push_back({"ca-without-basic-constraints", Severity::kError,
                     fmt::format("CA certificate {} {}: CA certificates must carry "
                                 "BasicConstraints CA:TRUE",
                                 describe(c),
                                 c.has_basic_constraints() ? "has BasicConstraints CA:FALSE"
                                                           : "has no BasicConstraints extension"),
                     i});
    }
    if (c.is_expired_at(now)) {
      out.push_back(
          {"ca-expired", Severity::kWarning,
           fmt::format("CA certificate {} expired on {}", describe(c), format_time(c.not_after())),
           i});
    }
    std::string cn = c.subject_cn();
    if (!cn.empty()) by_cn[to_lower_ascii(cn)].push_back(i);
  }
  for (const auto& [cn, idx] : by_cn) {
    if (idx.size() < 2) continue;
    size_t self_signed = 0;
    for (size_t i : idx) self_signed += cas[i].is_self_signed() ? 1 : 0;
    for (size_t k = 1; k < idx.size(); ++k) {
      const Certificate& c = cas[idx[k]];
      if (self_signed >= 2 && c.is_self_signed()) {
        out.push_back({"self-signed-cn-pair", Severity::kError,
                       fmt::format("self-signed CA certificates #{} and #{} share the CN '{}': "
                                   "Expressway does not trust both",
                                   idx.front() + 1, idx[k] + 1, c.subject_cn()),
                       idx[k]});
      } else {
        out.push_back({"duplicate-ca-cn", Severity::kWarning,
                       fmt::format("CA certificates #{} and #{} share the CN '{}': uploading "
                                   "several CAs with the same CN is discouraged",
                                   idx.front() + 1, idx[k] + 1, c.subject_cn()),
                       idx[k]});
      }
    }
  }
  return out;
}

namespace {

int64_t year_of(TimePoint t) {
  return civil_from_time(t).year;
}

void check_common(const Certificate& c, std::vector<Finding>& out) {
  if (year_of(c.not_after()) >= 2050) {
    out.push_back({"expires-2050-or-later", Severity::kWarning,
                   fmt::format("notAfter {} is in 2050 or later, which may cause operational "
                               "problems on Expressway",
                               format_time(c.not_after())),
                   std::nullopt});
  }
  std::vector<std::string> unknown = c.unknown_name_oids();
  if (!unknown.empty()) {
    out.push_back({"unsupported-name-oid", Severity::kWarning,
                   fmt::format("subject or issuer contains OID(s) {}: only the EV OIDs "
                               "1.3.6.1.4.1.311.60.2.1.1/.2/.3 are supported; other OIDs break "
                               "SSH tunnels",
                               fmt::join(unknown, ", ")),
                   std::nullopt});
  }
}

void check_rsa_8192(const KeyInfo& k, const std::string& what, std::vector<Finding>& out) {
  if (k.algorithm == "RSA" && k.bits >= 8192) {
    out.push_back({"rsa-8192", Severity::kWarning,
                   fmt::format("{} is RSA {}: 8192-bit keys can stop SIP TLS zones from going "
                               "active; use RSA 2048 or 4096",
                               what, k.bits),
                   std::nullopt});
  }
}

// The guide's key choices (ch.2): RSA 2048 or 4096, ECDSA 256, 384 or 521.
// RSA 8192 has its own finding (rsa-8192).
void check_key_size(const KeyInfo& k, const std::string& what, std::vector<Finding>& out) {
  bool rsa = k.algorithm == "RSA";
  bool ec = k.algorithm == "EC";
  if (rsa && k.bits >= 8192) return;
  if ((rsa && (k.bits == 2048 || k.bits == 4096)) ||
      (ec && (k.bits == 256 || k.bits == 384 || k.bits == 521)))
    return;
  out.push_back({"unsupported-key-size", Severity::kWarning,
                 fmt::format("{} is {} {}: Expressway offers RSA 2048 or 4096 and ECDSA 256, 384 "
                             "or 521",
                             what, k.algorithm, k.bits),
                 std::nullopt});
}

void check_name(const std::string& name, bool is_cn, std::vector<Finding>& out) {
  FqdnProblem p = check_fqdn(name);
  if (p == FqdnProblem::kOk) return;
  if (p == FqdnProblem::kWildcard || name.find('*') != std::string::npos) {
    out.push_back({"wildcard-name", Severity::kError,
                   fmt::format("{} '{}' is a wildcard: wildcard certificates are not supported",
                               is_cn ? "common name" : "subject alternative name", name),
                   std::nullopt});
    return;
  }
  out.push_back({is_cn ? "invalid-common-name" : "invalid-san", Severity::kError,
                 fmt::format("{}: {}",
                             is_cn ? "Common name must be a valid FQDN"
                                   : "Subject alternative name must be a valid FQDN",
                             describe_fqdn_problem(name, p)),
                 std::nullopt});
}

// DNS SANs by the FQDN rule; IP SANs are always refused (the appliance
// rejects them on upload).
void check_sans(const SubjectAltNames& sans, std::vector<Finding>& out) {
  for (const std::string& d : sans.dns) check_name(d, false, out);
  for (const std::string& ip : sans.ip) {
    out.push_back({"invalid-san", Severity::kError,
                   fmt::format("Subject alternative name must be a valid FQDN: {}",
                               describe_fqdn_problem(ip, FqdnProblem::kIpAddress)),
                   std::nullopt});
  }
}

}  // namespace

bool needs_mutual_tls(const RoleContext& context) {
  return !context.roles.empty() || context.clustered;
}

TimePoint renewal_time(const Certificate& cert, std::optional<std::chrono::seconds> renew_before,
                       double fraction) {
  // Saturating: a certificate valid 1950..9999 must not wrap its window.
  if (renew_before) return sub_saturating(cert.not_after(), *renew_before);
  auto lifetime = cert.not_after() - cert.not_before();
  return add_saturating(cert.not_before(), std::chrono::duration<double, Clock::period>(
                                               static_cast<double>(lifetime.count()) * fraction));
}

std::vector<Finding> check_request(const CertificateRequest& csr) {
  std::vector<Finding> out;
  std::string cn = csr.subject_cn();
  if (cn.empty()) {
    out.push_back({"missing-common-name", Severity::kWarning,
                   "certificate request has no common name (CN)", std::nullopt});
  } else {
    check_name(cn, true, out);
  }
  SubjectAltNames sans = csr.subject_alt_names();
  check_sans(sans, out);
  check_rsa_8192(csr.key_info(), "request key", out);
  std::vector<std::string> eku = csr.extended_key_usage();
  if (!eku.empty() && std::find(eku.begin(), eku.end(), "clientAuth") == eku.end()) {
    out.push_back({"missing-client-auth", Severity::kWarning,
                   "certificate request does not ask for the clientAuth extended key usage, "
                   "which Expressway needs for mutual TLS",
                   std::nullopt});
  }
  return out;
}

std::vector<Finding> check_crl(const Crl& crl, TimePoint now) {
  std::vector<Finding> out;
  auto next = crl.next_update();
  if (next && now > *next) {
    out.push_back({"crl-stale", Severity::kWarning,
                   fmt::format("CRL nextUpdate {} has passed", format_time(*next)), std::nullopt});
  }
  return out;
}

std::vector<Finding> check_key_file(const KeyFile& key) {
  std::vector<Finding> out;
  if (key.encrypted) {
    out.push_back({"encrypted-private-key", Severity::kError,
                   fmt::format("{}: private key is password protected; Expressway needs an "
                               "unencrypted key",
                               key.source),
                   std::nullopt});
  }
  if (key.pem && !key.trailing_newline) {
    out.push_back({"key-missing-trailing-newline", Severity::kWarning,
                   fmt::format("{}: private key PEM does not end with a newline, which breaks "
                               "MRA; edgecert adds it when uploading",
                               key.source),
                   std::nullopt});
  }
  if (key.key) check_rsa_8192(key.key->info(), "private key", out);
  return out;
}

std::vector<Finding> check_ca_certificate(const Certificate& c, TimePoint now) {
  std::vector<Finding> out;
  if (!c.has_basic_constraints() || !c.is_ca()) {
    out.push_back({"ca-without-basic-constraints", Severity::kError,
                   fmt::format("CA certificate {} has no BasicConstraints CA:TRUE: CA "
                               "certificates must carry BasicConstraints",
                               describe(c)),
                   std::nullopt});
  }
  if (c.is_expired_at(now)) {
    out.push_back(
        {"ca-expired", Severity::kWarning,
         fmt::format("CA certificate {} expired on {}", describe(c), format_time(c.not_after())),
         std::nullopt});
  }
  check_common(c, out);
  return out;
}

std::vector<Finding> check_server_certificate(const Certificate& cert,
                                              const ServerCheckOptions& options) {
  std::vector<Finding> out;
  std::string cn = cert.subject_cn();
  if (cn.empty()) {
    out.push_back({"missing-common-name", Severity::kWarning,
                   "certificate has no common name (CN): Expressway accepts it with a warning "
                   "and raises an alarm",
                   std::nullopt});
  } else {
    check_name(cn, true, out);
  }
  SubjectAltNames sans = cert.subject_alt_names();
  check_sans(sans, out);

  if (options.key) {
    const KeyFile& k = *options.key;
    if (k.encrypted) {
      out.push_back({"encrypted-private-key", Severity::kError,
                     fmt::format("{}: private key is password protected; Expressway needs an "
                                 "unencrypted key",
                                 k.source),
                     std::nullopt});
    } else if (k.key && !k.key->matches(cert)) {
      out.push_back(
          {"key-mismatch", Severity::kError,
           fmt::format("{}: private key does not match the certificate's public key", k.source),
           std::nullopt});
    }
    if (k.pem && !k.trailing_newline) {
      out.push_back({"key-missing-trailing-newline", Severity::kWarning,
                     fmt::format("{}: private key PEM does not end with a newline, which breaks "
                                 "MRA; edgecert adds it when uploading",
                                 k.source),
                     std::nullopt});
    }
  }

  for (size_t i = 0; i < options.chain.size(); ++i) {
    const Certificate& c = options.chain[i];
    if (!c.has_basic_constraints() || !c.is_ca()) {
      out.push_back({"ca-without-basic-constraints", Severity::kError,
                     fmt::format("chain certificate {} has no BasicConstraints CA:TRUE: CA "
                                 "certificates must carry BasicConstraints",
                                 describe(c)),
                     i});
    }
  }

  if (cert.signature_digest() == "sha1" && !cert.is_ca()) {
    out.push_back({"sha1-signature", Severity::kError,
                   fmt::format("certificate is signed with {}: SHA-1 is not accepted for server "
                               "certificates",
                               cert.signature_algorithm()),
                   std::nullopt});
  }
  check_rsa_8192(cert.key_info(), "certificate key", out);
  check_key_size(cert.key_info(), "certificate key", out);
  check_common(cert, out);

  bool needs_client = !options.roles || needs_mutual_tls(*options.roles);
  if (needs_client && cert.has_extended_key_usage()) {
    std::vector<std::string> eku = cert.extended_key_usage();
    if (std::find(eku.begin(), eku.end(), "clientAuth") == eku.end()) {
      std::string why;
      if (options.roles && !options.roles->roles.empty()) {
        why = fmt::format("roles {} need mutual TLS", fmt::join(options.roles->roles, ", "));
      } else if (options.roles && options.roles->clustered) {
        why = "cluster peers authenticate each other with mutual TLS";
      } else {
        why = "Expressway presents its server certificate as a TLS client certificate too";
      }
      out.push_back({"missing-client-auth", Severity::kWarning,
                     fmt::format("certificate lacks the clientAuth extended key usage but {}; "
                                 "Let's Encrypt removed clientAuth from its certificates on "
                                 "2026-02-11 (Cisco field notice FN74362)",
                                 why),
                     std::nullopt});
    }
  }

  TimePoint renew =
      options.renew_at.value_or(sub_saturating(cert.not_after(), std::chrono::days(30)));
  if (options.now > cert.not_after()) {
    out.push_back({"expired", Severity::kWarning,
                   fmt::format("certificate expired on {}", format_time(cert.not_after())),
                   std::nullopt});
  } else if (options.now >= renew) {
    auto left = std::chrono::duration_cast<std::chrono::hours>(cert.not_after() - options.now);
    out.push_back({"expiring-soon", Severity::kWarning,
                   fmt::format("certificate expires on {} (in {} days), within the renewal window",
                               format_time(cert.not_after()), left.count() / 24),
                   std::nullopt});
  }
  return out;
}

IssuerIndex::IssuerIndex(const std::vector<Certificate>& certs) {
  for (const Certificate& c : certs) by_issuer_[c.issuer()].push_back(&c);
}

const std::vector<const Certificate*>& IssuerIndex::issued_by(const std::string& subject) const {
  static const std::vector<const Certificate*> kNone;
  auto it = by_issuer_.find(subject);
  return it == by_issuer_.end() ? kNone : it->second;
}

bool looks_like_ca(const Certificate& c, const std::vector<Certificate>& file_certs) {
  return looks_like_ca(c, IssuerIndex(file_certs));
}

bool looks_like_ca(const Certificate& c, const IssuerIndex& file_certs) {
  auto ku = c.key_usage();
  if (std::find(ku.begin(), ku.end(), "keyCertSign") != ku.end()) return true;
  for (const Certificate* other : file_certs.issued_by(c.subject()))
    if (!(*other == c) && other->is_signed_by(c)) return true;
  return (c.is_ca() || c.is_self_signed()) && c.subject_alt_names().empty();
}

std::vector<Finding> check_certificate(const Certificate& cert, bool as_ca,
                                       const ServerCheckOptions& options) {
  return as_ca ? check_ca_certificate(cert, options.now) : check_server_certificate(cert, options);
}

std::vector<Finding> check_issued_chain(const std::vector<Certificate>& chain,
                                        const ServerCheckOptions& options) {
  std::vector<Finding> out;
  ServerCheckOptions own = options;
  own.chain.clear();
  for (size_t i = 0; i < chain.size(); ++i)
    for (Finding& f : check_certificate(chain[i], /*as_ca=*/i > 0, own)) {
      f.index = i;
      out.push_back(std::move(f));
    }
  return out;
}

}  // namespace edgecert::pki
