// Decoding spec.serverCertificate: subject, key, digest, roles, the SAN
// lists, renewal settings and the issuer (one key set per issuer type).
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "providers/base/fqdn.h"
#include "schema/decode_internal.h"
#include "schema/values.h"

namespace edgecert::schema::detail {
namespace {

const KeyList kServerCertificateKeys = {"subject",
                                        "key",
                                        "digest",
                                        "roles",
                                        "unifiedCmRegistrationDomains",
                                        "xmppFederationDomains",
                                        "chatNodeAliases",
                                        "phoneSecurityProfiles",
                                        "additionalNames",
                                        "issuer",
                                        "renewBefore",
                                        "renewAtLifetimeFraction",
                                        "keyRotation",
                                        "extendedKeyUsage"};
const KeyList kSubjectKeys = {"country", "state", "locality", "organization", "organizationalUnit",
                              "email"};
const KeyList kKeyKeys = {"algorithm", "size"};
const KeyList kUcmDomainsKeys = {"format", "domains"};
const KeyList kIssuerKeysOpenssl = {"type", "directory"};
const KeyList kIssuerKeysExternal = {"type", "requestsDir", "certificatesDir"};
const KeyList kIssuerKeysAcme = {"type", "directory", "email", "caBundle", "eab", "challenge"};
const KeyList kIssuerKeysExpresswayAcme = {"type"};
const KeyList kEabKeys = {"keyId", "hmacFrom"};
const KeyList kChallengeKeys = {"http01", "webroot"};
const KeyList kHttp01Keys = {"listen"};

}  // namespace

void Decoder::decode_key(const Field& f) {
  Map m = map(f, kKeyKeys);
  if (!m.ok) return;
  spec::KeySpec& key = spec_.server_certificate.key;
  if (auto a = enumeration<spec::KeyAlgorithm>(m, "algorithm")) key.algorithm = *a;
  key.size = key.algorithm == spec::KeyAlgorithm::kRsa ? 4096 : 256;
  const Field* sf = m.get("size");
  if (!sf) return;
  auto size = integer(*sf);
  if (!size) return;
  if (key.algorithm == spec::KeyAlgorithm::kRsa) {
    if (*size == 2048 || *size == 4096) {
      key.size = static_cast<int>(*size);
    } else if (*size == 8192) {
      error(sf->value_pos,
            "spec.serverCertificate.key.size: RSA 8192-bit keys are not supported: SIP TLS zones "
            "may not go active with an 8192-bit key; use 4096 (recommended) or 2048");
    } else if (*size < 2048) {
      error(sf->value_pos, fmt::format("spec.serverCertificate.key.size: RSA {}-bit keys are too "
                                       "weak; use 4096 (recommended) or 2048",
                                       *size));
    } else {
      error(sf->value_pos, fmt::format("spec.serverCertificate.key.size: {} is not a supported RSA "
                                       "key size; allowed values: 2048, 4096",
                                       *size));
    }
  } else {
    if (*size == 256 || *size == 384 || *size == 521)
      key.size = static_cast<int>(*size);
    else
      error(sf->value_pos, fmt::format("spec.serverCertificate.key.size: {} is not a supported "
                                       "ECDSA curve size; allowed values: 256, 384, 521",
                                       *size));
  }
}

void Decoder::decode_subject(const Field& f) {
  spec::Subject& subject = spec_.server_certificate.subject;
  Map s = map(f, kSubjectKeys);
  std::vector<std::pair<const char*, std::string*>> parts = {
      {"country", &subject.country},
      {"state", &subject.state},
      {"locality", &subject.locality},
      {"organization", &subject.organization},
      {"organizationalUnit", &subject.organizational_unit}};
  if (const Field* ef = s.get("email")) {
    if (auto v = email(*ef)) {
      if (v->size() > 128)
        error(ef->value_pos,
              fmt::format("{}: is {} characters long (at most 128)", ef->name(), v->size()));
      else
        subject.email = *v;
    }
  }
  for (auto& [key, out] : parts) {
    auto v = str(s, key);
    if (!v) continue;
    const Field* vf = s.get(key);
    if (std::string(key) == "country" &&
        (v->size() != 2 || !all_of_chars(*v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))) {
      error(vf->value_pos, fmt::format("{}: '{}' must be a two-letter upper-case country code "
                                       "(ISO 3166), e.g. JP",
                                       vf->name(), clip_for_message(*v)));
      continue;
    }
    if (v->size() > 64) {
      error(vf->value_pos,
            fmt::format("{}: is {} characters long (at most 64)", vf->name(), v->size()));
      continue;
    }
    *out = *v;
  }
}

void Decoder::decode_server_certificate(const Field& f) {
  Map m = map(f, kServerCertificateKeys);
  if (!m.ok) return;
  require(m, "issuer");
  spec::ServerCertificate& sc = spec_.server_certificate;

  if (const Field* sf = m.get("subject")) decode_subject(*sf);
  if (const Field* kf = m.get("key")) decode_key(*kf);
  if (const Field* df = m.get("digest")) {
    auto d =
        enumeration<spec::Digest>(*df, [&](const std::string& v) -> std::optional<std::string> {
          if (to_lower_ascii(v) == "sha1" || to_lower_ascii(v) == "sha-1")
            return fmt::format(
                "{}: SHA-1 is not allowed: Expressway has not offered it since X8.10; "
                "use sha256 (default), sha384 or sha512",
                df->name());
          return std::nullopt;
        });
    if (d) sc.digest = *d;
  }
  if (const Field* rf = m.get("roles")) {
    for (const Field& item : seq(*rf)) {
      auto r = enumeration<spec::Role>(item);
      if (!r) continue;
      if (sc.has_role(*r)) {
        error(item.value_pos,
              fmt::format("{}: role '{}' is listed twice", item.name(), spec::role_name(*r)));
        continue;
      }
      sc.roles.push_back(*r);
    }
  }
  if (const Field* uf = m.get("unifiedCmRegistrationDomains")) {
    Map u = map(*uf, kUcmDomainsKeys);
    require(u, "domains");
    spec::UnifiedCmDomains ucm;
    if (auto fm = enumeration<spec::DomainFormat>(u, "format")) ucm.format = *fm;
    if (const Field* d = u.get("domains")) ucm.domains = fqdn_list(*d);
    if (u.ok) sc.unified_cm_registration_domains = std::move(ucm);
  }
  if (const Field* x = m.get("xmppFederationDomains")) sc.xmpp_federation_domains = fqdn_list(*x);
  if (const Field* c = m.get("chatNodeAliases")) sc.chat_node_aliases = fqdn_list(*c);
  if (const Field* p = m.get("phoneSecurityProfiles")) sc.phone_security_profiles = fqdn_list(*p);
  if (const Field* a = m.get("additionalNames")) sc.additional_names = fqdn_list(*a);
  if (const Field* i = m.get("issuer"))
    if (auto issuer = decode_issuer(*i)) sc.issuer = std::move(*issuer);

  const Field* before = m.get("renewBefore");
  const Field* fraction = m.get("renewAtLifetimeFraction");
  if (before && fraction) {
    const Field* later = before->key_pos.line > fraction->key_pos.line ? before : fraction;
    error(later->key_pos,
          "spec.serverCertificate: renewBefore and renewAtLifetimeFraction are "
          "mutually exclusive; set one of them");
  }
  if (before) {
    if (auto d = duration(*before)) {
      // A renewBefore as long as the certificate's lifetime makes every
      // certificate due the moment it is issued: each apply would sign again.
      const bool openssl_ca = issuer_type_ == IssuerType::kOpensslCa;
      const std::chrono::seconds lifetime =
          openssl_ca ? kOpensslCaLeafValidity : kMaxCertificateLifetime;
      if (d->count() <= 0) {
        error(before->value_pos, "spec.serverCertificate.renewBefore: must be longer than zero");
      } else if (*d >= lifetime) {
        error(before->value_pos,
              fmt::format("spec.serverCertificate.renewBefore: {} is not shorter than {}; "
                          "every certificate would be due for renewal as soon as it is issued, "
                          "and every apply would replace it; use e.g. 30d",
                          format_duration(*d),
                          openssl_ca ? fmt::format("the {} days the openssl-ca issuer signs for",
                                                   kOpensslCaLeafValidity.count())
                                     : fmt::format("the longest certificate lifetime ({} days, "
                                                   "the CA/Browser Forum maximum)",
                                                   kMaxCertificateLifetime.count())));
      } else {
        sc.renew_before = *d;
      }
    }
  }
  if (fraction) {
    if (auto x = number(*fraction)) {
      if (!(*x > 0.0 && *x < 1.0))
        error(fraction->value_pos,
              fmt::format("spec.serverCertificate.renewAtLifetimeFraction: {} must be greater than "
                          "0 and less than 1 (e.g. 0.667 renews after two thirds of the lifetime)",
                          clip_for_message(fraction->value.Scalar())));
      else
        sc.renew_at_lifetime_fraction = *x;
    }
  }
  if (auto k = enumeration<spec::KeyRotation>(m, "keyRotation")) sc.key_rotation = *k;
  if (auto e = enumeration<spec::ExtendedKeyUsage>(m, "extendedKeyUsage"))
    sc.extended_key_usage = *e;
}

std::optional<spec::Issuer> Decoder::decode_issuer(const Field& f) {
  if (!expect_map(f)) return std::nullopt;
  // The type selects which other keys exist; read it first.
  YAML::Node type_node = f.value["type"];
  std::optional<IssuerType> type;
  if (!type_node) {
    error(f.key_pos, fmt::format("{}: missing required key 'type' (one of: {})", f.name(),
                                 fmt::join(enum_spellings<IssuerType>(), ", ")));
    return std::nullopt;
  }
  {
    Field tf{f.path + ".type", type_node, mark_of(type_node), mark_of(type_node)};
    type = enumeration<IssuerType>(tf);
    issuer_type_ = type;
  }
  if (!type) {
    spec_.positions.set(f.path + ".type", mark_of(type_node));
    return std::nullopt;
  }
  switch (*type) {
    case IssuerType::kOpensslCa: {
      Map m = map(f, kIssuerKeysOpenssl);
      require(m, "directory");
      spec::OpensslCaIssuer i;
      if (const Field* d = m.get("directory")) {
        auto p = file_path(*d, PathUse::kWritten);
        if (!p) return std::nullopt;
        i.directory = *p;
      } else {
        return std::nullopt;
      }
      return i;
    }
    case IssuerType::kExternal: {
      Map m = map(f, kIssuerKeysExternal);
      require(m, "requestsDir");
      require(m, "certificatesDir");
      spec::ExternalIssuer i;
      const Field* r = m.get("requestsDir");
      const Field* c = m.get("certificatesDir");
      auto rp = r ? file_path(*r, PathUse::kWritten) : std::nullopt;
      auto cp = c ? file_path(*c, PathUse::kWritten) : std::nullopt;
      if (!rp || !cp) return std::nullopt;
      i.requests_dir = *rp;
      i.certificates_dir = *cp;
      return i;
    }
    case IssuerType::kAcme:
      if (auto i = decode_acme_issuer(f)) return *i;
      return std::nullopt;
    case IssuerType::kExpresswayAcme: {
      map(f, kIssuerKeysExpresswayAcme);
      return spec::ExpresswayAcmeIssuer{};
    }
  }
  return std::nullopt;
}

std::optional<spec::AcmeIssuer> Decoder::decode_acme_issuer(const Field& f) {
  Map m = map(f, kIssuerKeysAcme);
  require(m, "directory");
  require(m, "email");
  require(m, "challenge");
  spec::AcmeIssuer i;
  bool ok = m.has("directory") && m.has("email") && m.has("challenge");
  if (const Field* d = m.get("directory")) {
    if (auto u = http_url(*d, true))
      i.directory = *u;
    else
      ok = false;
  }
  if (const Field* e = m.get("email")) {
    if (auto v = email(*e))
      i.email = *v;
    else
      ok = false;
  }
  if (const Field* c = m.get("caBundle")) i.ca_bundle = ca_bundle(*c);
  if (const Field* e = m.get("eab")) {
    Map em = map(*e, kEabKeys,
                 {{"hmac", fmt::format("{}.hmac: an inline EAB HMAC key is not allowed (specs "
                                       "live in git); use hmacFrom: env:VARIABLE or hmacFrom: "
                                       "file:PATH",
                                       e->name())}});
    require(em, "keyId");
    if (!e->value.IsMap() || !e->value["hmac"]) require(em, "hmacFrom");
    spec::AcmeIssuer::Eab eab;
    auto kid = str(em, "keyId");
    const Field* hf = em.get("hmacFrom");
    auto hmac = hf ? secret_ref(*hf) : std::nullopt;
    if (kid && hmac) {
      eab.key_id = *kid;
      eab.hmac_from = *hmac;
      i.eab = eab;
    } else {
      ok = false;
    }
  }
  if (const Field* c = m.get("challenge")) {
    Map cm = map(*c, kChallengeKeys);
    if (cm.ok) {
      const Field* h = cm.get("http01");
      const Field* w = cm.get("webroot");
      if (h && w) {
        error(w->key_pos, fmt::format("{}: set either http01 or webroot, not both", c->name()));
        ok = false;
      } else if (!h && !w) {
        error(c->key_pos, fmt::format("{}: one of http01 or webroot is required", c->name()));
        ok = false;
      }
      if (h) {
        Map hm = map(*h, kHttp01Keys);
        require(hm, "listen");
        if (auto l = str(hm, "listen")) {
          std::string why;
          if (!split_host_port(*l, true, nullptr, &why))
            error(hm.get("listen")->value_pos, fmt::format("{}.listen: '{}' must be HOST:PORT: {}",
                                                           h->name(), clip_for_message(*l), why));
          else
            i.http01_listen = *l;
        }
      }
      if (w) i.webroot = file_path(*w, PathUse::kWritten);
    }
    if (!i.http01_listen && !i.webroot) ok = false;
  }
  if (!ok) return std::nullopt;
  return i;
}

}  // namespace edgecert::schema::detail
