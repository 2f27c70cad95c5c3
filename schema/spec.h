// The spec model: a decoded, validated `edgecert/v1` ExpresswayCluster.
//
// This is the in-memory contract between schema/ (which produces it) and
// everything else (which only reads it). Every default documented in
// docs/spec-reference.md is already applied here, every relative path is
// already resolved against the spec's folder, and every value has passed
// validation. Optional sections (std::optional) are "not managed": edgecert
// leaves that part of the live state alone when the spec omits it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "providers/base/enum_table.h"
#include "providers/pki/types.h"

namespace edgecert::spec {

// 1-based line/column of a value in the spec file; 0/0 when unknown.
struct SourcePos {
  int line = 0;
  int column = 0;
};

// Positions of every decoded node, keyed by a dotted path such as
// "spec.peers.1.fqdn" or "spec.serverCertificate.roles.0". Later stages use it
// to position their own findings (e.g. a plan refusing a CA prune).
class SourceMap {
 public:
  void set(const std::string& key, SourcePos pos) { positions_[key] = pos; }
  // The position of `key`, or of its nearest recorded ancestor.
  SourcePos find(const std::string& key) const;
  const std::map<std::string, SourcePos>& all() const { return positions_; }

 private:
  std::map<std::string, SourcePos> positions_;
};

// Each enum's spellings (YAML, plans, journals, JSON output) live in one
// table; name and parse both come from it (providers/base/enum_table.h).
enum class Product { kExpresswayE, kExpresswayC };
inline constexpr EnumTable<Product, 2> kProductNames{{
    {Product::kExpresswayE, "expressway-e"},
    {Product::kExpresswayC, "expressway-c"},
}};
enum class TlsVerification { kEnforce, kPermissive };
inline constexpr EnumTable<TlsVerification, 2> kTlsVerificationNames{{
    {TlsVerification::kEnforce, "enforce"},
    {TlsVerification::kPermissive, "permissive"},
}};
enum class Role { kMra, kJabberGuest, kXmppFederation, kB2b };
inline constexpr EnumTable<Role, 4> kRoleNames{{
    {Role::kMra, "mra"},
    {Role::kJabberGuest, "jabber-guest"},
    {Role::kXmppFederation, "xmpp-federation"},
    {Role::kB2b, "b2b"},
}};
// pki owns these: the spec model uses them as they are.
using pki::Digest;
using pki::KeyAlgorithm;
enum class DomainFormat { kDns, kCollabEdgeDns };
inline constexpr EnumTable<DomainFormat, 2> kDomainFormatNames{{
    {DomainFormat::kDns, "dns"},
    {DomainFormat::kCollabEdgeDns, "collab-edge-dns"},
}};
enum class KeyRotation { kRotate, kRetain };
inline constexpr EnumTable<KeyRotation, 2> kKeyRotationNames{{
    {KeyRotation::kRotate, "rotate"},
    {KeyRotation::kRetain, "retain"},
}};
// The extended key usages the server certificate must carry. Expressway uses
// its server certificate as a client certificate too (mutual TLS: traversal
// zones, SIP TLS, cluster), so both are the default; serverAuth alone is
// acceptable only to Expressway-E on X15.4+ (Cisco FN74362: Let's Encrypt
// stopped issuing clientAuth in 2026).
enum class ExtendedKeyUsage { kServerAndClientAuth, kServerAuthOnly };
inline constexpr EnumTable<ExtendedKeyUsage, 2> kExtendedKeyUsageNames{{
    {ExtendedKeyUsage::kServerAndClientAuth, "server-and-client-auth"},
    {ExtendedKeyUsage::kServerAuthOnly, "server-auth-only"},
}};
enum class AcmeMode { kDisabled, kManual, kAutomated };
inline constexpr EnumTable<AcmeMode, 3> kAcmeModeNames{{
    {AcmeMode::kDisabled, "disabled"},
    {AcmeMode::kManual, "manual"},
    {AcmeMode::kAutomated, "automated"},
}};
enum class RevocationFallback { kTreatAsNotRevoked, kTreatAsRevoked };
inline constexpr EnumTable<RevocationFallback, 2> kRevocationFallbackNames{{
    {RevocationFallback::kTreatAsNotRevoked, "treat-as-not-revoked"},
    {RevocationFallback::kTreatAsRevoked, "treat-as-revoked"},
}};

// 0 = Sunday .. 6 = Saturday (std::chrono::weekday encoding).
using Weekday = unsigned;
inline constexpr EnumTable<Weekday, 7> kWeekdayNames{{
    {0, "sun"},
    {1, "mon"},
    {2, "tue"},
    {3, "wed"},
    {4, "thu"},
    {5, "fri"},
    {6, "sat"},
}};

// The interfaces of a real node edgecert may use (spec.access.interfaces;
// the interface reference, expressway-interfaces.md §1): REST under
// /api/provisioning, the XML status documents over HTTPS, the CLI over SSH.
enum class Interface { kRest, kXml, kCli };
inline constexpr EnumTable<Interface, 3> kInterfaceNames{{
    {Interface::kRest, "rest"},
    {Interface::kXml, "xml"},
    {Interface::kCli, "cli"},
}};

struct Peer {
  std::string name;      // [a-z0-9-]+, unique
  std::string fqdn;      // valid FQDN, unique
  std::string endpoint;  // "sim://NAME" or "https://HOST[:PORT]"
  // The CLI's SSH endpoint (peers[].ssh: HOST:PORT) of an https:// peer;
  // default the endpoint's host and port 22. Empty host for sim:// peers.
  std::string ssh_host = {};
  int ssh_port = 22;
};

struct Access {
  std::string username;
  std::string password_from;             // "env:VAR" or "file:/abs/path" (resolved)
  std::optional<std::string> ca_bundle;  // absolute path
  // Which interfaces the https:// provider may use, in spec order, no
  // duplicates; default all three.
  std::vector<Interface> interfaces = {Interface::kRest, Interface::kXml, Interface::kCli};
  // Pinned SSH host keys (OpenSSH known_hosts), resolved against the spec's
  // folder; default "<spec folder>/.edgecert/known_hosts". Empty only in a
  // Spec built by hand (the provider then uses that default).
  std::string known_hosts = {};
};

using Subject = pki::SubjectFields;

struct KeySpec {
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  int size = 4096;  // rsa: 2048|4096 (default 4096); ecdsa: 256|384|521 (default 256)
};

struct UnifiedCmDomains {
  DomainFormat format = DomainFormat::kCollabEdgeDns;
  std::vector<std::string> domains;
};

struct OpensslCaIssuer {
  std::string directory;  // absolute
};
struct ExternalIssuer {
  std::string requests_dir;      // absolute
  std::string certificates_dir;  // absolute
};
struct AcmeIssuer {
  struct Eab {
    std::string key_id;
    std::string hmac_from;  // "env:VAR" or "file:/abs/path"
  };
  std::string directory;  // URL
  std::string email;
  std::optional<std::string> ca_bundle;  // absolute
  std::optional<Eab> eab;
  // Exactly one of the two challenge modes is set.
  std::optional<std::string> http01_listen;  // "HOST:PORT"
  std::optional<std::string> webroot;        // absolute
};
struct ExpresswayAcmeIssuer {};
using Issuer = std::variant<OpensslCaIssuer, ExternalIssuer, AcmeIssuer, ExpresswayAcmeIssuer>;
const char* issuer_type_name(const Issuer& issuer);  // "openssl-ca", "external", ...

struct ServerCertificate {
  Subject subject;
  KeySpec key;
  Digest digest = Digest::kSha256;
  std::vector<Role> roles;  // unique, in spec order
  std::optional<UnifiedCmDomains> unified_cm_registration_domains;
  std::vector<std::string> xmpp_federation_domains;
  std::vector<std::string> chat_node_aliases;
  std::vector<std::string> phone_security_profiles;
  std::vector<std::string> additional_names;
  Issuer issuer;
  // Renewal: exactly one applies. renew_before wins when set; otherwise the
  // fraction (default 2/3) of the certificate's lifetime.
  std::optional<std::chrono::seconds> renew_before;
  double renew_at_lifetime_fraction = 2.0 / 3.0;
  KeyRotation key_rotation = KeyRotation::kRotate;
  ExtendedKeyUsage extended_key_usage = ExtendedKeyUsage::kServerAndClientAuth;

  bool has_role(Role r) const;
};

struct TrustedCAs {
  std::vector<std::string> certificates;  // absolute paths, spec order
  bool prune = false;
};

struct CrlAutomaticUpdates {
  bool enabled = false;
  std::vector<std::string> distribution_points;  // http/https URLs
  int daily_update_minute = 0;                   // minutes after 00:00 UTC
};

struct Crl {
  std::optional<CrlAutomaticUpdates> automatic_updates;
  std::optional<std::string> manual_file;  // absolute
  // crl.caBundle: PEM file (absolute) of the CAs an https:// distribution
  // point's server certificate must chain to when edgecert fetches it;
  // nullopt = the system store.
  std::optional<std::string> ca_bundle;
};

struct RevocationChecking {
  bool enabled = false;
  bool ocsp = true;
  bool crl = true;
  bool cdp_downloads = true;
  RevocationFallback fallback = RevocationFallback::kTreatAsNotRevoked;
};

struct Schedule {
  std::vector<Weekday> days;  // unique, sorted
  int minute_of_day = 0;      // minutes after 00:00
};

struct Acme {
  std::string provider_name;
  std::string provider_directory;  // URL
  std::string email;
  bool accept_terms_of_service = false;
  AcmeMode mode = AcmeMode::kManual;
  KeyRotation renew_key = KeyRotation::kRotate;
  std::optional<Schedule> schedule;
};

struct RolloutWindow {
  std::vector<Weekday> days;
  int start_minute = 0;  // minutes after 00:00 in `timezone`
  std::chrono::seconds duration{0};
  std::string timezone = "UTC";  // IANA name
};

// rollout.changeControl: what a change needs before apply runs it.
struct ChangeControl {
  // Distinct approvers (`edgecert approve PLAN --by NAME`) a saved plan
  // needs before apply runs it; above 0, apply runs only saved plans. 0: no
  // approval (the change ID rule alone).
  int approvals = 1;
  // ECMAScript regular expression the whole change ID must match; when set,
  // `--change-id` is required on plan (or apply).
  std::optional<std::string> change_id_pattern;
};

struct Rollout {
  std::vector<std::string> order;  // peer names; every peer exactly once
  std::chrono::seconds health_timeout{600};
  bool relax_tls_verification = true;
  std::vector<RolloutWindow> windows;  // empty = any time
  bool revoke_superseded = false;
  // A git repository holding the cluster lock as the ref
  // refs/edgecert/locks/<cluster>, so runs on different machines (CI jobs)
  // exclude each other: a URL (ssh://, git://, https://, file://, or scp-like
  // user@host:path) or a local path, resolved against the spec's folder.
  // Absent: only the lock in the cluster's state folder.
  std::optional<std::string> lock_repository;
  std::optional<ChangeControl> change_control;
};

// spec.traversal (Expressway-C only): the Expressway-E cluster this cluster's
// traversal client zone connects to. validate and plan then check the pair
// as one site (reconciler/engine/site.h): equal chat node aliases, the zone's
// peer addresses among E's certificate names, and mutual trust.
struct Traversal {
  std::string expressway_e;  // the E cluster's spec file (resolved)
  // The traversal zone's peer addresses, as configured on this C (FQDNs,
  // 1 to 6, unique): with TLS verification each must be a name of the E
  // certificate served there (guide appendix A).
  std::vector<std::string> peer_addresses;
  // The zone's "TLS verify mode": on, C checks that the address it dials is
  // in E's certificate.
  bool tls_verify = true;
};

struct Spec {
  // Where it came from.
  std::string path;       // as given on the command line
  std::string directory;  // folder that relative paths were resolved against

  std::string api_version;  // "edgecert/v1"
  std::string kind;         // "ExpresswayCluster"
  std::string name;         // metadata.name

  Product product = Product::kExpresswayE;
  std::optional<std::string> cluster_fqdn;
  TlsVerification tls_verification = TlsVerification::kEnforce;
  std::vector<Peer> peers;
  std::optional<Access> access;
  ServerCertificate server_certificate;
  std::optional<TrustedCAs> trusted_cas;
  std::optional<Crl> crl;
  std::optional<RevocationChecking> revocation_checking;
  std::optional<Acme> acme;
  Rollout rollout;  // order defaults to the peers' order
  std::optional<Traversal> traversal;

  SourceMap positions;

  bool clustered() const { return peers.size() > 1; }
  const Peer* find_peer(const std::string& name) const;
};

// Stable names used in output, JSON and the YAML spelling.
const char* product_name(Product p);  // "expressway-e"
const char* role_name(Role r);        // "mra", "jabber-guest", ...
using pki::digest_name;               // "sha256"
using pki::key_algorithm_name;        // "rsa"
const char* tls_verification_name(TlsVerification t);
const char* acme_mode_name(AcmeMode m);
const char* key_rotation_name(KeyRotation k);
const char* extended_key_usage_name(ExtendedKeyUsage e);     // "server-and-client-auth"
const char* revocation_fallback_name(RevocationFallback f);  // "treat-as-not-revoked"
using pki::key_display_name;                                 // "RSA 4096", "ECDSA P-256"

}  // namespace edgecert::spec
