// Spec decoding and validation (see loader.h for the contract).
//
// Two passes over one document: decode() walks the YAML tree once, checking
// structure (known keys, types, enums, value syntaxes) and filling the Spec
// while recording the position of every key; then the cross-field rules
// (role/product table, peer uniqueness, rollout order, files on disk) run on
// the decoded values and position their findings through those recorded
// positions. Every problem becomes a Diagnostic; nothing stops at the first.
#include "schema/loader.h"

#include <algorithm>
#include <functional>
#include <set>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "providers/pki/certificate.h"
#include "providers/pki/checks.h"
#include "providers/pki/crl.h"
#include "providers/base/fqdn.h"
#include "schema/values.h"

namespace edgecert::schema {
namespace {

using spec::SourcePos;

// Limits from the product (reference/expressway.md §1, §2).
constexpr size_t kMaxPeers = 6;
constexpr size_t kMaxCrlFileBytes = 16 * 1024 * 1024;
constexpr long long kMaxWindowSeconds = 7LL * 86400;

// ---- YAML scalar typing -------------------------------------------------
//
// yaml-cpp hands every scalar over as text. To agree with JSON Schema
// validators (which see YAML through the YAML 1.2 core schema) a plain scalar
// that reads as a number, boolean or null is not a string; quoting makes it
// one. Quoted scalars carry the "!" tag, plain ones "?".

enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

bool all_of_chars(std::string_view s, const char* set) {
  return !s.empty() && s.find_first_not_of(set) == std::string_view::npos;
}

ScalarKind plain_kind(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarKind::kNull;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return ScalarKind::kBool;
  std::string_view v = s;
  std::string_view body = (v[0] == '-' || v[0] == '+') ? v.substr(1) : v;
  if (all_of_chars(body, "0123456789")) return ScalarKind::kInt;
  if (v.size() > 2 && v[0] == '0' && v[1] == 'x' &&
      all_of_chars(v.substr(2), "0123456789abcdefABCDEF"))
    return ScalarKind::kInt;
  if (v.size() > 2 && v[0] == '0' && v[1] == 'o' && all_of_chars(v.substr(2), "01234567"))
    return ScalarKind::kInt;
  static const std::set<std::string> kSpecialFloats = {".inf",  ".Inf",  ".INF", "-.inf", "-.Inf",
                                                       "-.INF", "+.inf", ".nan", ".NaN",  ".NAN"};
  if (kSpecialFloats.count(s)) return ScalarKind::kFloat;
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = 0;
  auto digits = [&]() {
    size_t start = i;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i;
    return i - start;
  };
  size_t int_digits = digits();
  bool dot = i < body.size() && body[i] == '.';
  size_t frac_digits = 0;
  if (dot) {
    ++i;
    frac_digits = digits();
  }
  if (int_digits == 0 && frac_digits == 0) return ScalarKind::kString;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    if (digits() == 0) return ScalarKind::kString;
  }
  return i == body.size() ? ScalarKind::kFloat : ScalarKind::kString;
}

ScalarKind scalar_kind(const YAML::Node& n) {
  if (n.IsNull()) return ScalarKind::kNull;
  if (n.Tag() == "!") return ScalarKind::kString;  // quoted
  return plain_kind(n.Scalar());
}

std::string describe_type(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  switch (scalar_kind(n)) {
    case ScalarKind::kNull:
      return "null";
    case ScalarKind::kBool:
      return fmt::format("a boolean ({})", n.Scalar());
    case ScalarKind::kInt:
      return fmt::format("an integer ({})", n.Scalar());
    case ScalarKind::kFloat:
      return fmt::format("a number ({})", n.Scalar());
    case ScalarKind::kString:
      return fmt::format("a string ('{}')", n.Scalar());
  }
  return "?";
}

SourcePos mark_of(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

// "spec.peers.1.fqdn" -> "spec.peers[1].fqdn" for messages.
std::string display(const std::string& key) {
  std::string out;
  size_t start = 0;
  while (start <= key.size()) {
    size_t dot = key.find('.', start);
    std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!part.empty() && all_of_chars(part, "0123456789"))
      out += "[" + part + "]";
    else
      out += (out.empty() ? "" : ".") + part;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// One value in the tree: where it sits (key path, key and value positions).
struct Field {
  std::string path;  // "spec.peers.1.fqdn"
  YAML::Node value;
  SourcePos key_pos;    // the key (or the list item) that introduced the value
  SourcePos value_pos;  // the value itself; key_pos when the value is empty

  std::string name() const { return display(path); }
};

// ---- Known keys ------------------------------------------------------------
//
// One table row per mapping: its known keys in documentation order. Used for
// unknown-key errors and "did you mean" suggestions.

using KeyList = std::vector<std::string>;

const KeyList kRootKeys = {"apiVersion", "kind", "metadata", "spec"};
const KeyList kMetadataKeys = {"name"};
const KeyList kSpecKeys = {
    "product",    "clusterFqdn", "tlsVerification",    "peers", "access", "serverCertificate",
    "trustedCAs", "crl",         "revocationChecking", "acme",  "rollout"};
const KeyList kPeerKeys = {"name", "fqdn", "endpoint"};
const KeyList kAccessKeys = {"username", "passwordFrom", "caBundle"};
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
                                        "keyRotation"};
const KeyList kSubjectKeys = {"country", "state", "locality", "organization", "organizationalUnit"};
const KeyList kKeyKeys = {"algorithm", "size"};
const KeyList kUcmDomainsKeys = {"format", "domains"};
const KeyList kIssuerKeysOpenssl = {"type", "directory"};
const KeyList kIssuerKeysExternal = {"type", "requestsDir", "certificatesDir"};
const KeyList kIssuerKeysAcme = {"type", "directory", "email", "caBundle", "eab", "challenge"};
const KeyList kIssuerKeysExpresswayAcme = {"type"};
const KeyList kEabKeys = {"keyId", "hmacFrom"};
const KeyList kChallengeKeys = {"http01", "webroot"};
const KeyList kHttp01Keys = {"listen"};
const KeyList kTrustedCasKeys = {"certificates", "prune"};
const KeyList kCrlKeys = {"automaticUpdates", "manualFile"};
const KeyList kCrlAutoKeys = {"enabled", "distributionPoints", "dailyUpdateTime"};
const KeyList kRevocationKeys = {"enabled", "ocsp", "crl", "cdpDownloads", "fallback"};
const KeyList kAcmeKeys = {"provider", "email",    "acceptTermsOfService",
                           "mode",     "renewKey", "schedule"};
const KeyList kAcmeProviderKeys = {"name", "directory"};
const KeyList kScheduleKeys = {"days", "time"};
const KeyList kRolloutKeys = {"order", "healthTimeout", "relaxTlsVerification", "windows",
                              "revokeSuperseded"};
const KeyList kWindowKeys = {"days", "start", "duration", "timezone"};

// Enum spellings, in the order the messages list them.
template <class E>
using EnumTable = std::vector<std::pair<std::string, E>>;

const EnumTable<spec::Product> kProducts = {{"expressway-e", spec::Product::kExpresswayE},
                                            {"expressway-c", spec::Product::kExpresswayC}};
const EnumTable<spec::TlsVerification> kTlsVerifications = {
    {"enforce", spec::TlsVerification::kEnforce},
    {"permissive", spec::TlsVerification::kPermissive}};
const EnumTable<spec::Role> kRoles = {{"mra", spec::Role::kMra},
                                      {"jabber-guest", spec::Role::kJabberGuest},
                                      {"xmpp-federation", spec::Role::kXmppFederation},
                                      {"b2b", spec::Role::kB2b}};
const EnumTable<spec::KeyAlgorithm> kKeyAlgorithms = {{"rsa", spec::KeyAlgorithm::kRsa},
                                                      {"ecdsa", spec::KeyAlgorithm::kEcdsa}};
const EnumTable<spec::Digest> kDigests = {{"sha256", spec::Digest::kSha256},
                                          {"sha384", spec::Digest::kSha384},
                                          {"sha512", spec::Digest::kSha512}};
const EnumTable<spec::DomainFormat> kDomainFormats = {
    {"dns", spec::DomainFormat::kDns}, {"collab-edge-dns", spec::DomainFormat::kCollabEdgeDns}};
const EnumTable<spec::KeyRotation> kKeyRotations = {{"rotate", spec::KeyRotation::kRotate},
                                                    {"retain", spec::KeyRotation::kRetain}};
const EnumTable<spec::AcmeMode> kAcmeModes = {{"disabled", spec::AcmeMode::kDisabled},
                                              {"manual", spec::AcmeMode::kManual},
                                              {"automated", spec::AcmeMode::kAutomated}};
const EnumTable<spec::RevocationFallback> kFallbacks = {
    {"treat-as-not-revoked", spec::RevocationFallback::kTreatAsNotRevoked},
    {"treat-as-revoked", spec::RevocationFallback::kTreatAsRevoked}};
enum class IssuerType { kOpensslCa, kExternal, kAcme, kExpresswayAcme };
const EnumTable<IssuerType> kIssuerTypes = {{"openssl-ca", IssuerType::kOpensslCa},
                                            {"external", IssuerType::kExternal},
                                            {"acme", IssuerType::kAcme},
                                            {"expressway-acme", IssuerType::kExpresswayAcme}};

template <class E>
std::string enum_list(const EnumTable<E>& table) {
  std::vector<std::string> names;
  for (const auto& [name, value] : table) names.push_back(name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// [a-z0-9-]{1,63}, not starting or ending with '-' (metadata.name, peer names,
// sim:// endpoint names).
bool is_simple_name(std::string_view s) {
  return !s.empty() && s.size() <= 63 && all_of_chars(s, "abcdefghijklmnopqrstuvwxyz0123456789-") &&
         s.front() != '-' && s.back() != '-';
}

bool is_env_var_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return all_of_chars(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
}

// A host name as used in URLs and listen addresses: an IP literal (IPv6 in
// brackets) or dot-separated labels of letters, digits and hyphens (single
// labels such as "localhost" are fine here; certificate names use check_fqdn).
bool is_host(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') return host.back() == ']' && looks_like_ip_address(host);
  if (looks_like_ip_address(host)) return host.find(':') == std::string_view::npos;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !all_of_chars(label, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// "HOST[:PORT]" -> ok? Port 1..65535 when present.
bool split_host_port(std::string_view s, bool port_required, std::string* host_out,
                     std::string* why) {
  std::string_view host = s;
  std::string_view port;
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && (s.front() != '[' || colon > s.find(']'))) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (!all_of_chars(port, "0123456789") || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
        std::stoi(std::string(port)) > 65535) {
      *why = fmt::format("port '{}' is not a number from 1 to 65535", port);
      return false;
    }
  } else if (port_required) {
    *why = "a port is required (HOST:PORT)";
    return false;
  }
  if (!is_host(host)) {
    *why = fmt::format("'{}' is not a valid host name or IP address", host);
    return false;
  }
  if (host_out) *host_out = std::string(host);
  return true;
}

struct Url {
  std::string scheme;
  std::string host;
};

// Absolute http(s) URL with a valid host and optional port and path.
std::optional<Url> parse_http_url(std::string_view s, std::string* why) {
  Url u;
  for (std::string_view scheme : {"https", "http"}) {
    if (s.substr(0, scheme.size() + 3) == std::string(scheme) + "://") {
      u.scheme = scheme;
      s.remove_prefix(scheme.size() + 3);
      break;
    }
  }
  if (u.scheme.empty()) {
    *why = "it must start with http:// or https://";
    return std::nullopt;
  }
  size_t end = s.find_first_of("/?#");
  std::string_view authority = s.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    *why = "credentials in URLs are not allowed";
    return std::nullopt;
  }
  if (s.find_first_of(" \t") != std::string_view::npos) {
    *why = "it contains white space";
    return std::nullopt;
  }
  if (authority.empty() || !split_host_port(authority, false, &u.host, why)) {
    if (authority.empty()) *why = "it has no host";
    return std::nullopt;
  }
  return u;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

// local@domain with a plausible domain: a sanity check, not RFC 5322.
bool is_plausible_email(std::string_view s) {
  size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
    return false;
  std::string_view local = s.substr(0, at);
  if (local.find_first_of(" \t<>()[],;:\"") != std::string_view::npos) return false;
  return is_valid_fqdn(s.substr(at + 1));
}

// ---- The decoder -----------------------------------------------------------

class Decoder {
 public:
  Decoder(const std::string& path, Env& env, const LoadOptions& options, Diagnostics& diags)
      : path_(path), env_(env), options_(options), diags_(diags) {
    spec_.path = path;
    spec_.directory = path_dirname(path);
    if (spec_.directory.empty()) spec_.directory = ".";
  }

  spec::Spec& spec() { return spec_; }

  void run(const YAML::Node& root);

 private:
  // ---- diagnostics ----
  void error(SourcePos p, std::string message) {
    diags_.error(path_, p.line, p.column, std::move(message));
  }
  void warning(SourcePos p, std::string message) {
    diags_.warning(path_, p.line, p.column, std::move(message));
  }
  // Cross-field findings are positioned through the recorded key positions.
  SourcePos at(const std::string& key) const { return spec_.positions.find(key); }

  // ---- structure ----
  // A mapping's known entries after unknown/duplicate key checks.
  class Map {
   public:
    bool ok = false;
    Field self;
    std::map<std::string, Field> entries;
    bool has(const std::string& k) const { return entries.count(k) > 0; }
    const Field* get(const std::string& k) const {
      auto it = entries.find(k);
      return it == entries.end() ? nullptr : &it->second;
    }
  };

  Map map(const Field& f, const KeyList& known,
          const std::map<std::string, std::string>& forbidden = {});
  std::vector<Field> seq(const Field& f);
  void require(const Map& m, const std::string& key);

  // `secret`: the field may hold (a mistyped) secret, so messages never quote
  // its value.
  std::optional<std::string> str(const Field& f, bool secret = false);
  std::optional<std::string> str(const Map& m, const std::string& key) {
    const Field* f = m.get(key);
    return f ? str(*f) : std::nullopt;
  }
  std::optional<bool> boolean(const Field& f);
  std::optional<bool> boolean(const Map& m, const std::string& key) {
    const Field* f = m.get(key);
    return f ? boolean(*f) : std::nullopt;
  }
  std::optional<long long> integer(const Field& f);
  std::optional<double> number(const Field& f);
  template <class E>
  std::optional<E> enumeration(
      const Field& f, const EnumTable<E>& table,
      const std::function<std::optional<std::string>(const std::string&)>& special = nullptr);
  template <class E>
  std::optional<E> enumeration(const Map& m, const std::string& key, const EnumTable<E>& table) {
    const Field* f = m.get(key);
    return f ? enumeration(*f, table) : std::nullopt;
  }
  std::optional<std::chrono::seconds> duration(const Field& f);
  std::optional<int> time_of_day(const Field& f);
  std::vector<spec::Weekday> days(const Field& f);
  std::optional<std::string> fqdn(const Field& f);
  std::vector<std::string> fqdn_list(const Field& f);
  std::optional<std::string> file_path(const Field& f);
  std::optional<std::string> secret_ref(const Field& f);
  std::optional<std::string> http_url(const Field& f, bool https_only);
  std::optional<std::string> email(const Field& f);

  // ---- sections ----
  void decode_metadata(const Field& f);
  void decode_spec(const Field& f);
  void decode_peers(const Field& f);
  void decode_access(const Field& f);
  void decode_server_certificate(const Field& f);
  std::optional<spec::Issuer> decode_issuer(const Field& f);
  void decode_key(const Field& f);
  void decode_trusted_cas(const Field& f);
  void decode_crl(const Field& f);
  void decode_revocation(const Field& f);
  void decode_acme(const Field& f);
  void decode_rollout(const Field& f);

  // ---- cross-field rules ----
  void check_roles();
  void check_endpoints_and_access();
  void check_rollout_order();
  void check_trusted_ca_files();
  void check_certificate_file(const std::string& key, const std::string& file);
  void check_crl_file(const std::string& key, const std::string& file);
  bool check_timezone(const Field& f, const std::string& zone);

  const std::string& path_;
  Env& env_;
  const LoadOptions& options_;
  Diagnostics& diags_;
  spec::Spec spec_;

  // What was present, for the cross-field rules.
  bool have_product_ = false;
  std::optional<Field> order_field_;
  std::vector<Field> trusted_ca_fields_;
  std::optional<IssuerType> issuer_type_;
  // Every well-formed peer name and the number of list items, including peers
  // dropped for other errors, so that one bad FQDN does not also produce
  // "unknown peer" noise in rollout.order or hide the clusterFqdn rule.
  std::vector<std::string> peer_names_;
  size_t peer_count_ = 0;
};

Decoder::Map Decoder::map(const Field& f, const KeyList& known,
                          const std::map<std::string, std::string>& forbidden) {
  Map m;
  m.self = f;
  if (!f.value.IsMap()) {
    error(f.value_pos,
          fmt::format("{}: expected a mapping, got {}", f.name(), describe_type(f.value)));
    return m;
  }
  m.ok = true;
  std::map<std::string, SourcePos> seen;
  for (auto it = f.value.begin(); it != f.value.end(); ++it) {
    const YAML::Node k = it->first;  // a copy: it-> yields a temporary proxy
    SourcePos kp = mark_of(k);
    if (!k.IsScalar()) {
      error(kp, fmt::format("{}: keys must be plain strings", f.name()));
      continue;
    }
    std::string key = k.Scalar();
    std::string child = f.path.empty() ? key : f.path + "." + key;
    if (auto prev = seen.find(key); prev != seen.end()) {
      error(kp, fmt::format("duplicate key '{}' in {} (first defined at line {})", key,
                            f.path.empty() ? "the document" : f.name(), prev->second.line));
      continue;
    }
    seen[key] = kp;
    if (auto fb = forbidden.find(key); fb != forbidden.end()) {
      error(kp, fb->second);
      continue;
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string msg =
          fmt::format("unknown key '{}' in {}", key, f.path.empty() ? "the document" : f.name());
      if (auto s = suggest(key, known))
        msg += fmt::format("; did you mean '{}'?", *s);
      else
        msg += fmt::format(" (known keys: {})", fmt::join(known, ", "));
      error(kp, std::move(msg));
      continue;
    }
    Field child_field{child, it->second, kp, mark_of(it->second)};
    if (it->second.IsNull() || child_field.value_pos.line == 0) child_field.value_pos = kp;
    spec_.positions.set(child, kp);
    m.entries.emplace(key, std::move(child_field));
  }
  return m;
}

std::vector<Field> Decoder::seq(const Field& f) {
  std::vector<Field> out;
  if (!f.value.IsSequence()) {
    error(f.value_pos,
          fmt::format("{}: expected a list, got {}", f.name(), describe_type(f.value)));
    return out;
  }
  size_t i = 0;
  for (const YAML::Node& item : f.value) {
    std::string child = fmt::format("{}.{}", f.path, i++);
    Field c{child, item, mark_of(item), mark_of(item)};
    if (c.value_pos.line == 0) c.value_pos = c.key_pos = f.value_pos;
    spec_.positions.set(child, c.key_pos);
    out.push_back(std::move(c));
  }
  return out;
}

void Decoder::require(const Map& m, const std::string& key) {
  if (m.ok && !m.has(key))
    error(m.self.key_pos, fmt::format("{}: missing required key '{}'",
                                      m.self.path.empty() ? "the document" : m.self.name(), key));
}

std::optional<std::string> Decoder::str(const Field& f, bool secret) {
  if (!f.value.IsScalar() || scalar_kind(f.value) != ScalarKind::kString) {
    std::string hint;
    if (f.value.IsScalar() && !f.value.IsNull()) hint = " (quote it to make it a string)";
    std::string type = describe_type(f.value);
    if (secret) type = type.substr(0, type.find(" ("));
    error(f.value_pos, fmt::format("{}: expected a string, got {}{}", f.name(), type, hint));
    return std::nullopt;
  }
  return f.value.Scalar();
}

std::optional<bool> Decoder::boolean(const Field& f) {
  if (!f.value.IsScalar() || scalar_kind(f.value) != ScalarKind::kBool) {
    error(f.value_pos,
          fmt::format("{}: expected true or false, got {}", f.name(), describe_type(f.value)));
    return std::nullopt;
  }
  char c = f.value.Scalar()[0];
  return c == 't' || c == 'T';
}

std::optional<long long> Decoder::integer(const Field& f) {
  if (f.value.IsScalar() && scalar_kind(f.value) == ScalarKind::kInt) {
    try {
      return std::stoll(f.value.Scalar(), nullptr, 0);
    } catch (const std::exception&) {
    }
  }
  error(f.value_pos,
        fmt::format("{}: expected an integer, got {}", f.name(), describe_type(f.value)));
  return std::nullopt;
}

std::optional<double> Decoder::number(const Field& f) {
  if (f.value.IsScalar()) {
    ScalarKind k = scalar_kind(f.value);
    if (k == ScalarKind::kInt || k == ScalarKind::kFloat) {
      try {
        return std::stod(f.value.Scalar());
      } catch (const std::exception&) {
      }
    }
  }
  error(f.value_pos,
        fmt::format("{}: expected a number, got {}", f.name(), describe_type(f.value)));
  return std::nullopt;
}

template <class E>
std::optional<E> Decoder::enumeration(
    const Field& f, const EnumTable<E>& table,
    const std::function<std::optional<std::string>(const std::string&)>& special) {
  auto s = str(f);
  if (!s) return std::nullopt;
  for (const auto& [name, value] : table)
    if (name == *s) return value;
  if (special) {
    if (auto msg = special(*s)) {
      error(f.value_pos, *msg);
      return std::nullopt;
    }
  }
  std::vector<std::string> names;
  for (const auto& [name, value] : table) names.push_back(name);
  std::string msg = fmt::format("{}: invalid value '{}'; allowed values: {}", f.name(), *s,
                                fmt::join(names, ", "));
  if (auto sg = suggest(*s, names)) msg += fmt::format(" (did you mean '{}'?)", *sg);
  error(f.value_pos, std::move(msg));
  return std::nullopt;
}

std::optional<std::chrono::seconds> Decoder::duration(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  auto d = parse_duration(*s);
  if (!d) {
    error(f.value_pos, fmt::format("{}: invalid duration '{}'; use a number with a unit d, h, m or "
                                   "s, e.g. 30d, 4h, 10m, 90s or 1h30m",
                                   f.name(), *s));
  }
  return d;
}

std::optional<int> Decoder::time_of_day(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  auto t = parse_time_of_day(*s);
  if (!t)
    error(f.value_pos,
          fmt::format("{}: invalid time '{}'; use HH:MM from 00:00 to 23:59 (quote it)", f.name(),
                      *s));
  return t;
}

std::vector<spec::Weekday> Decoder::days(const Field& f) {
  std::vector<spec::Weekday> out;
  std::vector<Field> items = seq(f);
  if (f.value.IsSequence() && items.empty())
    error(f.value_pos, fmt::format("{}: at least one day is required", f.name()));
  for (const Field& item : items) {
    auto s = str(item);
    if (!s) continue;
    auto d = parse_weekday(*s);
    if (!d) {
      error(item.value_pos, fmt::format("{}: invalid day '{}'; allowed values: mon, tue, wed, thu, "
                                        "fri, sat, sun",
                                        item.name(), *s));
      continue;
    }
    if (std::find(out.begin(), out.end(), *d) != out.end()) {
      error(item.value_pos, fmt::format("{}: day '{}' is listed twice", item.name(), *s));
      continue;
    }
    out.push_back(*d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> Decoder::fqdn(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  FqdnProblem p = check_fqdn(*s);
  if (p != FqdnProblem::kOk) {
    error(f.value_pos, fmt::format("{}: {}", f.name(), describe_fqdn_problem(*s, p)));
    return std::nullopt;
  }
  return s;
}

std::vector<std::string> Decoder::fqdn_list(const Field& f) {
  std::vector<std::string> out;
  std::map<std::string, SourcePos> seen;
  for (const Field& item : seq(f)) {
    auto name = fqdn(item);
    if (!name) continue;
    std::string lower = to_lower_ascii(*name);
    if (auto it = seen.find(lower); it != seen.end()) {
      error(item.value_pos, fmt::format("{}: '{}' is listed twice (first at line {})", item.name(),
                                        *name, it->second.line));
      continue;
    }
    seen[lower] = item.value_pos;
    out.push_back(*name);
  }
  return out;
}

std::optional<std::string> Decoder::file_path(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  if (s->empty()) {
    error(f.value_pos, fmt::format("{}: the path is empty", f.name()));
    return std::nullopt;
  }
  return path_resolve(spec_.directory, *s);
}

// "env:VAR" or "file:PATH" (PATH resolved). Only the reference is ever
// handled here: the secret itself is read at apply time, never by validation,
// so it cannot leak into a diagnostic.
std::optional<std::string> Decoder::secret_ref(const Field& f) {
  auto s = str(f, /*secret=*/true);
  if (!s) return std::nullopt;
  if (s->starts_with("env:")) {
    std::string var = s->substr(4);
    if (!is_env_var_name(var)) {
      error(f.value_pos, fmt::format("{}: '{}' is not a valid environment variable name (letters, "
                                     "digits and '_', not starting with a digit)",
                                     f.name(), var));
      return std::nullopt;
    }
    return s;
  }
  if (s->starts_with("file:")) {
    std::string file = s->substr(5);
    if (file.empty()) {
      error(f.value_pos, fmt::format("{}: 'file:' needs a path", f.name()));
      return std::nullopt;
    }
    std::string resolved = path_resolve(spec_.directory, file);
    if (options_.check_files && !env_.exists(resolved))
      error(f.value_pos, fmt::format("{}: file '{}' does not exist", f.name(), resolved));
    return "file:" + resolved;
  }
  error(f.value_pos,
        fmt::format("{}: must be env:VARIABLE or file:PATH (the value is a reference, not the "
                    "secret itself)",
                    f.name()));
  return std::nullopt;
}

std::optional<std::string> Decoder::http_url(const Field& f, bool https_only) {
  auto s = str(f);
  if (!s) return std::nullopt;
  std::string why;
  auto u = parse_http_url(*s, &why);
  if (!u) {
    error(f.value_pos, fmt::format("{}: '{}' is not a valid http(s) URL: {}", f.name(), *s, why));
    return std::nullopt;
  }
  if (https_only && u->scheme != "https" && !is_loopback_host(u->host)) {
    error(f.value_pos, fmt::format("{}: '{}' must be an https:// URL (http:// is accepted only for "
                                   "localhost and 127.0.0.1, for test servers)",
                                   f.name(), *s));
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Decoder::email(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  if (!is_plausible_email(*s)) {
    error(f.value_pos, fmt::format("{}: '{}' is not a valid e-mail address", f.name(), *s));
    return std::nullopt;
  }
  return s;
}

// ---- sections --------------------------------------------------------------

void Decoder::run(const YAML::Node& root) {
  SourcePos start = mark_of(root);
  if (start.line == 0) start = {1, 1};
  Field doc{"", root, start, start};
  if (!root.IsDefined() || root.IsNull()) {
    error({1, 1}, fmt::format("the spec is empty; expected apiVersion: {} and kind: {}",
                              kApiVersion, kKind));
    return;
  }
  Map m = map(doc, kRootKeys);
  if (!m.ok) return;
  for (const char* k : {"apiVersion", "kind", "metadata", "spec"}) require(m, k);
  if (const Field* f = m.get("apiVersion")) {
    if (auto s = str(*f)) {
      spec_.api_version = *s;
      if (*s != kApiVersion)
        error(f->value_pos,
              fmt::format("unsupported apiVersion '{}'; supported: {}", *s, kApiVersion));
    }
  }
  if (const Field* f = m.get("kind")) {
    if (auto s = str(*f)) {
      spec_.kind = *s;
      if (*s != kKind)
        error(f->value_pos, fmt::format("unsupported kind '{}'; supported: {}", *s, kKind));
    }
  }
  if (const Field* f = m.get("metadata")) decode_metadata(*f);
  if (const Field* f = m.get("spec")) decode_spec(*f);
}

void Decoder::decode_metadata(const Field& f) {
  Map m = map(f, kMetadataKeys);
  require(m, "name");
  if (auto s = str(m, "name")) {
    if (!is_simple_name(*s))
      error(m.get("name")->value_pos,
            fmt::format("metadata.name: '{}' must be 1 to 63 lower-case letters, digits and "
                        "hyphens, not starting or ending with a hyphen",
                        *s));
    else
      spec_.name = *s;
  }
}

void Decoder::decode_spec(const Field& f) {
  Map m = map(f, kSpecKeys);
  if (!m.ok) return;
  require(m, "product");
  require(m, "peers");
  require(m, "serverCertificate");
  if (auto p = enumeration(m, "product", kProducts)) {
    spec_.product = *p;
    have_product_ = true;
  }
  if (const Field* c = m.get("clusterFqdn")) spec_.cluster_fqdn = fqdn(*c);
  if (auto t = enumeration(m, "tlsVerification", kTlsVerifications)) spec_.tls_verification = *t;
  if (const Field* p = m.get("peers")) decode_peers(*p);
  if (const Field* a = m.get("access")) decode_access(*a);
  if (const Field* s = m.get("serverCertificate")) decode_server_certificate(*s);
  if (const Field* t = m.get("trustedCAs")) decode_trusted_cas(*t);
  if (const Field* c = m.get("crl")) decode_crl(*c);
  if (const Field* r = m.get("revocationChecking")) decode_revocation(*r);
  if (const Field* a = m.get("acme")) decode_acme(*a);
  if (const Field* r = m.get("rollout")) decode_rollout(*r);

  // Cluster shape.
  if (peer_count_ > 1 && !m.has("clusterFqdn"))
    error(at("spec.peers"), fmt::format("spec.clusterFqdn is required when the cluster has more "
                                        "than one peer ({} peers)",
                                        peer_count_));
  if (spec_.cluster_fqdn) {
    for (const spec::Peer& p : spec_.peers)
      if (to_lower_ascii(p.fqdn) == to_lower_ascii(*spec_.cluster_fqdn) && spec_.clustered())
        error(at("spec.clusterFqdn"),
              fmt::format("spec.clusterFqdn '{}' is also the FQDN of peer '{}'; the cluster name "
                          "must be its own DNS name",
                          *spec_.cluster_fqdn, p.name));
  }
  check_endpoints_and_access();
  if (have_product_) check_roles();
  check_rollout_order();
  if (options_.check_files) check_trusted_ca_files();
}

void Decoder::decode_peers(const Field& f) {
  std::vector<Field> items = seq(f);
  peer_count_ = items.size();
  if (f.value.IsSequence() && (items.empty() || items.size() > kMaxPeers))
    error(f.key_pos,
          fmt::format("spec.peers: a cluster has 1 to {} peers, got {}", kMaxPeers, items.size()));
  std::map<std::string, SourcePos> names, fqdns, endpoints;
  for (const Field& item : items) {
    Map m = map(item, kPeerKeys);
    if (!m.ok) continue;
    for (const char* k : {"name", "fqdn", "endpoint"}) require(m, k);
    spec::Peer peer;
    bool ok = m.has("name") && m.has("fqdn") && m.has("endpoint");
    if (auto s = str(m, "name")) {
      const Field* nf = m.get("name");
      if (!is_simple_name(*s)) {
        error(nf->value_pos, fmt::format("{}: '{}' must be 1 to 63 lower-case letters, digits and "
                                         "hyphens, not starting or ending with a hyphen",
                                         nf->name(), *s));
        ok = false;
      } else if (auto it = names.find(*s); it != names.end()) {
        error(nf->value_pos, fmt::format("{}: duplicate peer name '{}' (first at line {})",
                                         nf->name(), *s, it->second.line));
        ok = false;
      } else {
        names[*s] = nf->value_pos;
        peer_names_.push_back(*s);
        peer.name = *s;
      }
    } else {
      ok = false;
    }
    if (const Field* ff = m.get("fqdn")) {
      if (auto s = fqdn(*ff)) {
        std::string lower = to_lower_ascii(*s);
        if (auto it = fqdns.find(lower); it != fqdns.end()) {
          error(ff->value_pos, fmt::format("{}: duplicate peer FQDN '{}' (first at line {})",
                                           ff->name(), *s, it->second.line));
          ok = false;
        } else {
          fqdns[lower] = ff->value_pos;
          peer.fqdn = *s;
        }
      } else {
        ok = false;
      }
    }
    if (const Field* ef = m.get("endpoint")) {
      if (auto s = str(*ef)) {
        std::string why;
        if (s->starts_with("sim://")) {
          if (!is_simple_name(s->substr(6))) {
            error(
                ef->value_pos,
                fmt::format("{}: '{}': a sim:// endpoint names the simulated node with lower-case "
                            "letters, digits and hyphens (sim://NAME)",
                            ef->name(), *s));
            ok = false;
          }
        } else if (s->starts_with("https://")) {
          if (!split_host_port(s->substr(8), false, nullptr, &why)) {
            error(ef->value_pos,
                  fmt::format("{}: '{}' must be https://HOST[:PORT]: {}", ef->name(), *s, why));
            ok = false;
          }
        } else {
          error(ef->value_pos, fmt::format("{}: '{}' has an unsupported scheme; use sim://NAME or "
                                           "https://HOST[:PORT]",
                                           ef->name(), *s));
          ok = false;
        }
        if (ok || s->starts_with("sim://") || s->starts_with("https://")) {
          if (auto it = endpoints.find(*s); it != endpoints.end()) {
            error(ef->value_pos, fmt::format("{}: endpoint '{}' is already used by another peer "
                                             "(line {})",
                                             ef->name(), *s, it->second.line));
            ok = false;
          } else {
            endpoints[*s] = ef->value_pos;
          }
        }
        peer.endpoint = *s;
      } else {
        ok = false;
      }
    }
    if (ok) spec_.peers.push_back(std::move(peer));
  }
}

void Decoder::decode_access(const Field& f) {
  Map m = map(f, kAccessKeys,
              {{"password",
                "spec.access.password: inline passwords are not allowed (specs live in git); use "
                "passwordFrom: env:VARIABLE or passwordFrom: file:PATH"}});
  if (!m.ok) return;
  require(m, "username");
  if (!f.value["password"]) require(m, "passwordFrom");  // the "inline password" error says it
  spec::Access a;
  if (auto u = str(m, "username")) {
    if (u->empty()) error(m.get("username")->value_pos, "spec.access.username: must not be empty");
    a.username = *u;
  }
  if (const Field* p = m.get("passwordFrom"))
    if (auto r = secret_ref(*p)) a.password_from = *r;
  if (const Field* c = m.get("caBundle")) {
    a.ca_bundle = file_path(*c);
    if (a.ca_bundle && options_.check_files) check_certificate_file(c->path, *a.ca_bundle);
  }
  spec_.access = std::move(a);
}

void Decoder::decode_key(const Field& f) {
  Map m = map(f, kKeyKeys);
  if (!m.ok) return;
  spec::KeySpec& key = spec_.server_certificate.key;
  if (auto a = enumeration(m, "algorithm", kKeyAlgorithms)) key.algorithm = *a;
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

void Decoder::decode_server_certificate(const Field& f) {
  Map m = map(f, kServerCertificateKeys);
  if (!m.ok) return;
  require(m, "issuer");
  spec::ServerCertificate& sc = spec_.server_certificate;

  if (const Field* sf = m.get("subject")) {
    Map s = map(*sf, kSubjectKeys);
    std::vector<std::pair<const char*, std::string*>> parts = {
        {"country", &sc.subject.country},
        {"state", &sc.subject.state},
        {"locality", &sc.subject.locality},
        {"organization", &sc.subject.organization},
        {"organizationalUnit", &sc.subject.organizational_unit}};
    for (auto& [key, out] : parts) {
      auto v = str(s, key);
      if (!v) continue;
      const Field* vf = s.get(key);
      if (std::string(key) == "country" &&
          (v->size() != 2 || !all_of_chars(*v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))) {
        error(vf->value_pos, fmt::format("{}: '{}' must be a two-letter upper-case country code "
                                         "(ISO 3166), e.g. JP",
                                         vf->name(), *v));
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
  if (const Field* kf = m.get("key")) decode_key(*kf);
  if (const Field* df = m.get("digest")) {
    auto d = enumeration(*df, kDigests, [&](const std::string& v) -> std::optional<std::string> {
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
      auto r = enumeration(item, kRoles);
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
    if (auto fm = enumeration(u, "format", kDomainFormats)) ucm.format = *fm;
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
      if (d->count() <= 0)
        error(before->value_pos, "spec.serverCertificate.renewBefore: must be longer than zero");
      else
        sc.renew_before = *d;
    }
  }
  if (fraction) {
    if (auto x = number(*fraction)) {
      if (!(*x > 0.0 && *x < 1.0))
        error(fraction->value_pos,
              fmt::format("spec.serverCertificate.renewAtLifetimeFraction: {} must be greater than "
                          "0 and less than 1 (e.g. 0.667 renews after two thirds of the lifetime)",
                          fraction->value.Scalar()));
      else
        sc.renew_at_lifetime_fraction = *x;
    }
  }
  if (auto k = enumeration(m, "keyRotation", kKeyRotations)) sc.key_rotation = *k;
}

std::optional<spec::Issuer> Decoder::decode_issuer(const Field& f) {
  if (!f.value.IsMap()) {
    error(f.value_pos,
          fmt::format("{}: expected a mapping, got {}", f.name(), describe_type(f.value)));
    return std::nullopt;
  }
  // The type selects which other keys exist; read it first.
  YAML::Node type_node = f.value["type"];
  std::optional<IssuerType> type;
  if (!type_node) {
    error(f.key_pos, fmt::format("{}: missing required key 'type' (one of: {})", f.name(),
                                 enum_list(kIssuerTypes)));
    return std::nullopt;
  }
  {
    Field tf{f.path + ".type", type_node, mark_of(type_node), mark_of(type_node)};
    type = enumeration(tf, kIssuerTypes);
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
        auto p = file_path(*d);
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
      auto rp = r ? file_path(*r) : std::nullopt;
      auto cp = c ? file_path(*c) : std::nullopt;
      if (!rp || !cp) return std::nullopt;
      i.requests_dir = *rp;
      i.certificates_dir = *cp;
      return i;
    }
    case IssuerType::kAcme: {
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
      if (const Field* c = m.get("caBundle")) {
        i.ca_bundle = file_path(*c);
        if (i.ca_bundle && options_.check_files) check_certificate_file(c->path, *i.ca_bundle);
      }
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
                error(hm.get("listen")->value_pos,
                      fmt::format("{}.listen: '{}' must be HOST:PORT: {}", h->name(), *l, why));
              else
                i.http01_listen = *l;
            }
          }
          if (w) i.webroot = file_path(*w);
        }
        if (!i.http01_listen && !i.webroot) ok = false;
      }
      if (!ok) return std::nullopt;
      return i;
    }
    case IssuerType::kExpresswayAcme: {
      map(f, kIssuerKeysExpresswayAcme);
      return spec::ExpresswayAcmeIssuer{};
    }
  }
  return std::nullopt;
}

void Decoder::decode_trusted_cas(const Field& f) {
  Map m = map(f, kTrustedCasKeys);
  if (!m.ok) return;
  require(m, "certificates");
  spec::TrustedCAs t;
  if (auto p = boolean(m, "prune")) t.prune = *p;
  std::set<std::string> seen;
  if (const Field* cf = m.get("certificates")) {
    for (const Field& item : seq(*cf)) {
      auto p = file_path(item);
      if (!p) continue;
      if (!seen.insert(*p).second) {
        error(item.value_pos, fmt::format("{}: '{}' is listed twice", item.name(), *p));
        continue;
      }
      t.certificates.push_back(*p);
      trusted_ca_fields_.push_back(item);
    }
    if (cf->value.IsSequence() && cf->value.size() == 0 && t.prune)
      error(cf->value_pos,
            "spec.trustedCAs: prune: true with no certificates would delete every "
            "trusted CA on the nodes; list the CAs to keep");
  }
  spec_.trusted_cas = std::move(t);
}

void Decoder::decode_crl(const Field& f) {
  Map m = map(f, kCrlKeys);
  if (!m.ok) return;
  spec::Crl crl;
  if (const Field* af = m.get("automaticUpdates")) {
    Map a = map(*af, kCrlAutoKeys);
    spec::CrlAutomaticUpdates au;
    if (auto e = boolean(a, "enabled")) au.enabled = *e;
    if (const Field* dp = a.get("distributionPoints"))
      for (const Field& item : seq(*dp))
        if (auto u = http_url(item, false)) au.distribution_points.push_back(*u);
    if (const Field* t = a.get("dailyUpdateTime"))
      if (auto minute = time_of_day(*t)) au.daily_update_minute = *minute;
    if (a.ok && au.enabled && !a.has("distributionPoints"))
      error(af->key_pos,
            "spec.crl.automaticUpdates: enabled automatic updates need at least one "
            "entry in distributionPoints");
    else if (a.ok && au.enabled && a.get("distributionPoints")->value.IsSequence() &&
             a.get("distributionPoints")->value.size() == 0)
      error(a.get("distributionPoints")->value_pos,
            "spec.crl.automaticUpdates.distributionPoints: enabled automatic updates need at least "
            "one distribution point");
    if (a.ok) crl.automatic_updates = std::move(au);
  }
  if (const Field* mf = m.get("manualFile")) {
    crl.manual_file = file_path(*mf);
    if (crl.manual_file && options_.check_files) check_crl_file(mf->path, *crl.manual_file);
  }
  spec_.crl = std::move(crl);
}

void Decoder::decode_revocation(const Field& f) {
  Map m = map(f, kRevocationKeys);
  if (!m.ok) return;
  spec::RevocationChecking r;
  if (auto v = boolean(m, "enabled")) r.enabled = *v;
  if (auto v = boolean(m, "ocsp")) r.ocsp = *v;
  if (auto v = boolean(m, "crl")) r.crl = *v;
  if (auto v = boolean(m, "cdpDownloads")) r.cdp_downloads = *v;
  if (auto v = enumeration(m, "fallback", kFallbacks)) r.fallback = *v;
  if (r.enabled && !r.ocsp && !r.crl)
    error(f.key_pos,
          "spec.revocationChecking: enabled with both ocsp and crl off leaves no way to "
          "check revocation; turn on ocsp or crl");
  spec_.revocation_checking = r;
}

void Decoder::decode_acme(const Field& f) {
  Map m = map(f, kAcmeKeys);
  if (!m.ok) return;
  require(m, "provider");
  require(m, "email");
  spec::Acme a;
  if (const Field* pf = m.get("provider")) {
    Map p = map(*pf, kAcmeProviderKeys);
    require(p, "name");
    require(p, "directory");
    if (auto n = str(p, "name")) {
      if (n->empty()) error(p.get("name")->value_pos, "spec.acme.provider.name: must not be empty");
      a.provider_name = *n;
    }
    if (const Field* d = p.get("directory"))
      if (auto u = http_url(*d, true)) a.provider_directory = *u;
  }
  if (const Field* e = m.get("email"))
    if (auto v = email(*e)) a.email = *v;
  if (const Field* t = m.get("acceptTermsOfService")) {
    if (auto v = boolean(*t)) {
      a.accept_terms_of_service = *v;
      if (!*v)
        error(t->value_pos,
              "spec.acme.acceptTermsOfService: must be true: the ACME account cannot "
              "be created without accepting the provider's terms of service");
    }
  } else {
    error(f.key_pos,
          "spec.acme: acceptTermsOfService: true is required (the ACME account cannot "
          "be created without accepting the provider's terms of service)");
  }
  if (auto v = enumeration(m, "mode", kAcmeModes)) a.mode = *v;
  if (auto v = enumeration(m, "renewKey", kKeyRotations)) a.renew_key = *v;
  if (const Field* sf = m.get("schedule")) {
    Map s = map(*sf, kScheduleKeys);
    require(s, "days");
    require(s, "time");
    spec::Schedule sch;
    bool ok = s.ok && s.has("days") && s.has("time");
    if (const Field* d = s.get("days")) {
      sch.days = days(*d);
      if (sch.days.empty()) ok = false;
    }
    if (const Field* t = s.get("time")) {
      if (auto minute = time_of_day(*t))
        sch.minute_of_day = *minute;
      else
        ok = false;
    }
    if (ok) a.schedule = std::move(sch);
  }
  if (a.mode == spec::AcmeMode::kAutomated && !m.has("schedule"))
    error(m.get("mode")->value_pos,
          "spec.acme.mode: automated mode deploys only in scheduled "
          "slots; add spec.acme.schedule with days and time");
  spec_.acme = std::move(a);
}

bool Decoder::check_timezone(const Field& f, const std::string& zone) {
  // IANA names are path-like ("Asia/Tokyo"); refuse anything that could
  // escape the zoneinfo folder before touching the file system.
  bool syntax =
      !zone.empty() && zone.front() != '/' && zone.find("..") == std::string::npos &&
      all_of_chars(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-");
  if (syntax) {
    auto data = env_.read_file("/usr/share/zoneinfo/" + zone);
    if (data && data->starts_with("TZif")) return true;
  }
  error(f.value_pos, fmt::format("{}: '{}' is not a known IANA time zone (e.g. UTC, Asia/Tokyo, "
                                 "Europe/Berlin)",
                                 f.name(), zone));
  return false;
}

void Decoder::decode_rollout(const Field& f) {
  Map m = map(f, kRolloutKeys);
  if (!m.ok) return;
  spec::Rollout& r = spec_.rollout;
  if (const Field* o = m.get("order")) {
    order_field_ = *o;
    for (const Field& item : seq(*o))
      if (auto s = str(item)) r.order.push_back(*s);
  }
  if (const Field* h = m.get("healthTimeout")) {
    if (auto d = duration(*h)) {
      if (d->count() <= 0)
        error(h->value_pos, "spec.rollout.healthTimeout: must be longer than zero");
      else
        r.health_timeout = *d;
    }
  }
  if (auto v = boolean(m, "relaxTlsVerification")) r.relax_tls_verification = *v;
  if (auto v = boolean(m, "revokeSuperseded")) r.revoke_superseded = *v;
  if (const Field* wf = m.get("windows")) {
    std::vector<Field> items = seq(*wf);
    if (wf->value.IsSequence() && items.empty())
      error(wf->value_pos,
            "spec.rollout.windows: an empty list of windows never opens; omit "
            "windows to allow rollouts at any time");
    bool any_long_enough = false;
    for (const Field& item : items) {
      Map w = map(item, kWindowKeys);
      if (!w.ok) continue;
      require(w, "days");
      require(w, "start");
      require(w, "duration");
      spec::RolloutWindow win;
      bool ok = w.has("days") && w.has("start") && w.has("duration");
      if (const Field* d = w.get("days")) {
        win.days = days(*d);
        if (win.days.empty()) ok = false;
      }
      if (const Field* s = w.get("start")) {
        if (auto minute = time_of_day(*s))
          win.start_minute = *minute;
        else
          ok = false;
      }
      if (const Field* d = w.get("duration")) {
        if (auto dur = duration(*d)) {
          if (dur->count() <= 0 || dur->count() > kMaxWindowSeconds) {
            error(d->value_pos, fmt::format("{}: must be longer than zero and at most 7d (a window "
                                            "of zero length never opens)",
                                            d->name()));
            ok = false;
          } else {
            win.duration = *dur;
          }
        } else {
          ok = false;
        }
      }
      if (const Field* tz = w.get("timezone")) {
        if (auto z = str(*tz)) {
          if (check_timezone(*tz, *z))
            win.timezone = *z;
          else
            ok = false;
        } else {
          ok = false;
        }
      }
      if (ok) {
        if (win.duration >= r.health_timeout) any_long_enough = true;
        r.windows.push_back(std::move(win));
      }
    }
    if (!r.windows.empty() && r.windows.size() == items.size() && !any_long_enough)
      warning(wf->key_pos, fmt::format("spec.rollout.windows: no window is as long as "
                                       "healthTimeout ({}); a peer that needs the full health "
                                       "timeout cannot finish inside a window",
                                       format_duration(r.health_timeout)));
  }
}

// ---- cross-field rules -----------------------------------------------------

void Decoder::check_endpoints_and_access() {
  bool any_https = false;
  for (const spec::Peer& p : spec_.peers)
    if (p.endpoint.starts_with("https://")) any_https = true;
  if (any_https && !spec_.access) {
    error(at("spec.peers"),
          "spec.access is required when a peer has an https:// endpoint "
          "(username and passwordFrom for the management API)");
  }
  if (spec_.access && !spec_.peers.empty() && !any_https)
    warning(at("spec.access"), "spec.access is not used: every peer has a sim:// endpoint");
}

void Decoder::check_roles() {
  const spec::ServerCertificate& sc = spec_.server_certificate;
  bool e = spec_.product == spec::Product::kExpresswayE;
  const char* product = spec::product_name(spec_.product);
  const std::string base = "spec.serverCertificate.";
  auto has = [&](const char* key) { return spec_.positions.all().count(base + key) > 0; };

  if (has("unifiedCmRegistrationDomains")) {
    if (!e)
      error(at(base + "unifiedCmRegistrationDomains"),
            fmt::format("unifiedCmRegistrationDomains apply only to expressway-e (product is {}); "
                        "Unified CM registration domains are an Expressway-E SAN for MRA",
                        product));
    else if (!sc.has_role(spec::Role::kMra))
      error(at(base + "unifiedCmRegistrationDomains"),
            "unifiedCmRegistrationDomains need the 'mra' role in spec.serverCertificate.roles");
  }
  if (has("xmppFederationDomains")) {
    if (!e)
      error(
          at(base + "xmppFederationDomains"),
          fmt::format("xmppFederationDomains apply only to expressway-e (product is {})", product));
    else if (!sc.has_role(spec::Role::kXmppFederation))
      error(
          at(base + "xmppFederationDomains"),
          "xmppFederationDomains need the 'xmpp-federation' role in spec.serverCertificate.roles");
  }
  if (has("chatNodeAliases") && !sc.has_role(spec::Role::kXmppFederation))
    error(at(base + "chatNodeAliases"),
          "chatNodeAliases need the 'xmpp-federation' role in spec.serverCertificate.roles");
  if (has("phoneSecurityProfiles")) {
    if (e)
      error(at(base + "phoneSecurityProfiles"),
            "phoneSecurityProfiles apply only to expressway-c (product is expressway-e)");
    else if (!sc.has_role(spec::Role::kMra))
      error(at(base + "phoneSecurityProfiles"),
            "phoneSecurityProfiles need the 'mra' role in spec.serverCertificate.roles");
  }

  bool expressway_acme = issuer_type_ == IssuerType::kExpresswayAcme;
  bool acme_issuer = issuer_type_ == IssuerType::kAcme;
  if (spec_.positions.all().count("spec.acme") && !e)
    error(at("spec.acme"), fmt::format("spec.acme: the ACME service exists only on expressway-e "
                                       "(product is {})",
                                       product));
  if (expressway_acme) {
    if (!e)
      error(at(base + "issuer.type"),
            fmt::format("issuer type expressway-acme needs product expressway-e (product is {})",
                        product));
    else if (!spec_.positions.all().count("spec.acme"))
      error(at(base + "issuer.type"),
            "issuer type expressway-acme needs spec.acme (the node's ACME service settings)");
    else if (spec_.acme && spec_.acme->mode == spec::AcmeMode::kDisabled)
      // The node signs only while its ACME service is on.
      error(at(spec_.positions.all().count("spec.acme.mode") ? "spec.acme.mode" : "spec.acme"),
            "spec.acme.mode: issuer type expressway-acme signs through the node's ACME service, "
            "which mode disabled turns off; use manual or automated");
  }
  if ((expressway_acme || acme_issuer) && sc.has_role(spec::Role::kJabberGuest)) {
    std::string key = base + "roles";
    for (size_t i = 0; i < sc.roles.size(); ++i)
      if (sc.roles[i] == spec::Role::kJabberGuest) key = base + "roles." + std::to_string(i);
    error(at(key), fmt::format("role jabber-guest cannot be used with an ACME issuer ({}): "
                               "Expressway ACME does not support Jabber Guest",
                               expressway_acme ? "expressway-acme" : "acme"));
  }
}

void Decoder::check_rollout_order() {
  if (!order_field_) {
    for (const spec::Peer& p : spec_.peers) spec_.rollout.order.push_back(p.name);
    return;
  }
  if (!order_field_->value.IsSequence()) return;
  std::set<std::string> seen;
  for (size_t i = 0; i < order_field_->value.size(); ++i) {
    std::string key = fmt::format("{}.{}", order_field_->path, i);
    if (!order_field_->value[i].IsScalar()) continue;
    std::string name = order_field_->value[i].Scalar();
    if (std::find(peer_names_.begin(), peer_names_.end(), name) == peer_names_.end()) {
      std::string msg = fmt::format("spec.rollout.order: '{}' is not a peer name", name);
      if (auto s = suggest(name, peer_names_)) msg += fmt::format("; did you mean '{}'?", *s);
      error(at(key), std::move(msg));
    } else if (!seen.insert(name).second) {
      error(at(key), fmt::format("spec.rollout.order: peer '{}' is listed twice", name));
    }
  }
  std::vector<std::string> missing;
  for (const std::string& name : peer_names_)
    if (!seen.count(name)) missing.push_back(name);
  if (!missing.empty())
    error(order_field_->key_pos,
          fmt::format("spec.rollout.order: must list every peer exactly once; missing: {}",
                      fmt::join(missing, ", ")));
}

void Decoder::check_certificate_file(const std::string& key, const std::string& file) {
  auto certs = pki::load_certificates(env_, file);
  if (!certs) error(at(key), fmt::format("{}: {}", display(key), certs.error().message));
}

void Decoder::check_trusted_ca_files() {
  if (!spec_.trusted_cas) return;
  std::vector<pki::Certificate> all;
  std::vector<size_t> origin;  // index into trusted_ca_fields_ for each certificate
  for (size_t i = 0; i < trusted_ca_fields_.size(); ++i) {
    const Field& item = trusted_ca_fields_[i];
    const std::string& file = spec_.trusted_cas->certificates[i];
    auto certs = pki::load_certificates(env_, file);
    if (!certs) {
      error(item.value_pos, fmt::format("{}: {}", item.name(), certs.error().message));
      continue;
    }
    for (pki::Certificate& c : *certs) {
      all.push_back(std::move(c));
      origin.push_back(i);
    }
  }
  for (const pki::Finding& finding : pki::check_ca_set(all, env_.now())) {
    SourcePos pos = at("spec.trustedCAs.certificates");
    std::string where = "spec.trustedCAs.certificates";
    if (finding.index && *finding.index < origin.size()) {
      const Field& item = trusted_ca_fields_[origin[*finding.index]];
      pos = item.value_pos;
      where = item.name();
    }
    std::string msg = fmt::format("{}: {} [{}]", where, finding.message, finding.id);
    if (finding.severity == Severity::kError)
      error(pos, std::move(msg));
    else
      warning(pos, std::move(msg));
  }
}

void Decoder::check_crl_file(const std::string& key, const std::string& file) {
  auto data = env_.read_file(file);
  if (!data) {
    error(at(key),
          fmt::format("{}: cannot read the CRL file: {}", display(key), data.error().message));
    return;
  }
  if (data->empty()) {
    error(at(key), fmt::format("{}: '{}' is empty", display(key), file));
    return;
  }
  if (data->size() >= kMaxCrlFileBytes) {
    error(at(key), fmt::format("{}: '{}' is {} bytes; Expressway accepts manual CRL files under "
                               "16 MB",
                               display(key), file, data->size()));
    return;
  }
  // PEM or DER, one or more CRLs: what the node accepts for a manual upload.
  auto crls = pki::Crl::parse_all(*data, file);
  if (!crls)
    error(at(key), fmt::format("{}: not a valid CRL file: {}", display(key), crls.error().message));
}

}  // namespace

LoadResult load_spec_text(const std::string& text, const std::string& path, Env& env,
                          const LoadOptions& options) {
  LoadResult r;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    r.diagnostics.error(path, e.mark.line + 1, e.mark.column + 1,
                        fmt::format("YAML syntax error: {}", e.msg));
    return r;
  } catch (const YAML::Exception& e) {
    r.diagnostics.error(path, e.mark.is_null() ? 0 : e.mark.line + 1,
                        e.mark.is_null() ? 0 : e.mark.column + 1,
                        fmt::format("YAML error: {}", e.msg));
    return r;
  }
  // One cluster per file: a second document would otherwise be ignored silently.
  if (docs.size() > 1) {
    SourcePos p = mark_of(docs[1]);
    r.diagnostics.error(path, p.line, p.column,
                        "a spec file holds exactly one YAML document; put each cluster in its own "
                        "file");
  }
  YAML::Node root = docs.empty() ? YAML::Node() : docs[0];
  Decoder d(path, env, options, r.diagnostics);
  d.run(root);
  if (!r.diagnostics.has_errors()) r.spec = std::move(d.spec());
  return r;
}

LoadResult load_spec_file(const std::string& path, Env& env, const LoadOptions& options) {
  auto text = env.read_file(path);
  if (!text) {
    LoadResult r;
    r.diagnostics.error(path, 0, 0, text.error().message);
    return r;
  }
  return load_spec_text(*text, path, env, options);
}

}  // namespace edgecert::schema
