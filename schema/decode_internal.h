// INTERNAL to schema/: the spec decoder shared by the loader's source files.
// Nothing outside schema/ may include this header; the public contract is
// schema/loader.h.
//
// Two passes over one document: Decoder::run() walks the YAML tree once,
// checking structure (known keys, types, enums, value syntaxes) and filling
// the Spec while recording the position of every key; then the cross-field
// rules (role/product table, peer uniqueness, rollout order, files on disk)
// run on the decoded values and position their findings through those
// recorded positions. Every problem becomes a Diagnostic; nothing stops at
// the first.
//
// Where the parts live:
//   yaml_fields.cpp             YAML scalar typing, mappings, lists, typed getters
//   value_fields.cpp            value syntaxes (durations, FQDNs, URLs, secret refs, ...)
//   decode_document.cpp         root, metadata, spec, peers, access
//   decode_server_certificate.cpp  serverCertificate, key, issuer
//   decode_trust.cpp            trustedCAs, crl, revocationChecking
//   decode_acme.cpp             acme
//   decode_rollout.cpp          rollout
//   cross_field_rules.cpp       rules spanning sections
//   file_checks.cpp             referenced certificate and CRL files
//   loader.cpp                  reading and parsing the file (size, UTF-8, yaml-cpp errors)
//   yaml_syntax.cpp             the libfyaml syntax pass ahead of yaml-cpp (yaml_syntax.h)
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "providers/base/env.h"
#include "schema/diagnostic.h"
#include "schema/enums.h"
#include "schema/loader.h"
#include "schema/spec.h"

namespace edgecert::schema::detail {

using spec::SourcePos;

// ---- YAML scalar typing ------------------------------------------------------
//
// yaml-cpp hands every scalar over as text. To agree with JSON Schema
// validators (which see YAML through the YAML 1.2 core schema) a plain scalar
// that reads as a number, boolean or null is not a string; quoting makes it
// one.

enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

// True when `s` is non-empty and every character is in `set`.
bool all_of_chars(std::string_view s, const char* set);

ScalarKind scalar_kind(const YAML::Node& n);

// "null", "a mapping", "a list", "an integer (5)", "a string ('x')", ... for
// "expected X, got Y" messages.
std::string describe_type(const YAML::Node& n);

// The node's 1-based position; {0, 0} when yaml-cpp has none.
SourcePos mark_of(const YAML::Node& n);

// "spec.peers.1.fqdn" -> "spec.peers[1].fqdn" for messages.
std::string display(const std::string& key);

// [a-z0-9-]{1,63}, not starting or ending with '-' (metadata.name, peer names,
// sim:// endpoint names).
bool is_simple_name(std::string_view s);

// "HOST[:PORT]": true when valid (port 1..65535 when present or required);
// else false with the reason in *why. The host goes to *host_out if given.
bool split_host_port(std::string_view s, bool port_required, std::string* host_out,
                     std::string* why);

// One value in the tree: where it sits (key path, key and value positions).
struct Field {
  std::string path;  // "spec.peers.1.fqdn"
  YAML::Node value;
  SourcePos key_pos;    // the key (or the list item) that introduced the value
  SourcePos value_pos;  // the value itself; key_pos when the value is empty

  // For messages: the document root has no path and is "the document".
  std::string name() const { return path.empty() ? "the document" : display(path); }
};

// A mapping's known keys in documentation order: unknown-key errors list
// them and "did you mean" suggestions choose among them.
using KeyList = std::vector<std::string>;

// The issuer kinds of spec.serverCertificate.issuer.type (spec::Issuer is a
// variant; this names its alternatives before one is built).
enum class IssuerType { kOpensslCa, kExternal, kAcme, kExpresswayAcme };
const char* enum_name(IssuerType t);  // "openssl-ca", ...

}  // namespace edgecert::schema::detail

namespace edgecert::schema {
template <>
std::span<const detail::IssuerType> enum_values<detail::IssuerType>();
}  // namespace edgecert::schema

namespace edgecert::schema::detail {

// Limits from the product (reference/expressway.md §1, §2).
inline constexpr size_t kMaxPeers = 6;
inline constexpr size_t kMaxCrlFileBytes = 16 * 1024 * 1024;
inline constexpr long long kMaxWindowSeconds = 7LL * 86400;
// How long the openssl-ca issuer signs a node certificate for (the default
// validity of make_openssl_ca_issuer, providers/issuers/openssl_ca.h; less
// when the CA's own certificate expires sooner): renewBefore stays below it.
inline constexpr std::chrono::days kOpensslCaLeafValidity{365};
// The longest lifetime a publicly trusted TLS server certificate may have
// (CA/Browser Forum Baseline Requirements: 398 days). With an issuer whose
// lifetime edgecert cannot know, renewBefore stays below it: a longer one
// would make every certificate due as soon as it is issued.
inline constexpr std::chrono::days kMaxCertificateLifetime{398};

// Decodes one document into a Spec, reporting every problem into `diags`
// (positioned in `path`). Reads files through `env` only when
// options.check_files says so (and the zoneinfo database for time zones).
class Decoder {
 public:
  Decoder(const std::string& path, Env& env, const LoadOptions& options, Diagnostics& diags);

  // Decodes the document root and runs the cross-field rules; call once.
  void run(const YAML::Node& root);
  // The decoded spec; complete only when no error was reported.
  spec::Spec& spec() { return spec_; }

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

  // ---- structure (yaml_fields.cpp) ----
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

  // Keys in `forbidden` are errors with the given message instead of
  // "unknown key" (e.g. inline secrets). Records every known key's position.
  Map map(const Field& f, const KeyList& known,
          const std::map<std::string, std::string>& forbidden = {});
  // Reports "expected a mapping" unless f is one.
  bool expect_map(const Field& f);
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

  // A spelling that is not a value but deserves its own message (e.g.
  // "sha1"): returns that message, or nullopt for the generic one.
  using SpecialSpelling = std::function<std::optional<std::string>(const std::string&)>;
  // Index into `spellings` of f's string; an unknown spelling is a positioned
  // error (with a suggestion when one is close) and nullopt.
  std::optional<size_t> choice(const Field& f, const std::vector<std::string>& spellings,
                               const SpecialSpelling& special);
  template <class E>
  std::optional<E> enumeration(const Field& f, const SpecialSpelling& special = nullptr) {
    auto i = choice(f, enum_spellings<E>(), special);
    return i ? std::optional<E>(enum_values<E>()[*i]) : std::nullopt;
  }
  template <class E>
  std::optional<E> enumeration(const Map& m, const std::string& key) {
    const Field* f = m.get(key);
    return f ? enumeration<E>(*f) : std::nullopt;
  }

  // ---- value syntaxes (value_fields.cpp) ----
  std::optional<std::chrono::seconds> duration(const Field& f);
  std::optional<int> time_of_day(const Field& f);
  std::vector<spec::Weekday> days(const Field& f);
  // m's required "days" list and `time_key` time of day into *out_days and
  // *minute; false when either is missing or invalid.
  bool weekly_time(const Map& m, const std::string& time_key, std::vector<spec::Weekday>* out_days,
                   int* minute);
  std::optional<std::string> simple_name(const Field& f);
  std::optional<std::string> fqdn(const Field& f);
  std::vector<std::string> fqdn_list(const Field& f);
  // How a path is used, for specs read from git (LoadOptions::read_only_root).
  enum class PathUse {
    kRead,     // read, and its content is not part of the plan (known_hosts)
    kContent,  // a certificate or CRL file: what it holds is what the plan does
    kWritten,  // a folder edgecert writes to
  };
  std::optional<std::string> file_path(const Field& f, PathUse use = PathUse::kRead);
  // file_path plus, when checking files, that it holds certificates.
  std::optional<std::string> ca_bundle(const Field& f);
  std::optional<std::string> secret_ref(const Field& f);
  std::optional<std::string> http_url(const Field& f, bool https_only);
  std::optional<std::string> email(const Field& f);
  bool check_timezone(const Field& f, const std::string& zone);

  // ---- sections ----
  void decode_metadata(const Field& f);
  void decode_spec(const Field& f);
  void decode_peers(const Field& f);
  void decode_access(const Field& f);
  void decode_server_certificate(const Field& f);
  void decode_subject(const Field& f);
  std::optional<spec::Issuer> decode_issuer(const Field& f);
  std::optional<spec::AcmeIssuer> decode_acme_issuer(const Field& f);
  void decode_key(const Field& f);
  void decode_trusted_cas(const Field& f);
  void decode_crl(const Field& f);
  void decode_revocation(const Field& f);
  void decode_acme(const Field& f);
  void decode_rollout(const Field& f);
  void decode_lock_repository(const Field& f);
  void decode_change_control(const Field& f);
  void decode_traversal(const Field& f);

  // ---- cross-field rules (cross_field_rules.cpp) ----
  void check_cluster_shape(bool has_cluster_fqdn);
  void check_roles();
  void check_endpoints_and_access();
  void check_rollout_order();
  // SIP TLS revocation checking against the CRL sources the spec gives.
  void check_revocation_sources();

  // ---- referenced files (file_checks.cpp) ----
  void check_trusted_ca_files();
  void check_certificate_file(const std::string& key, const std::string& file);
  void check_crl_file(const std::string& key, const std::string& file);
  // A PEM bundle of certificates (what libcurl reads as CA file).
  void check_pem_bundle_file(const std::string& key, const std::string& file);

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
  // spec.crl lists an enabled distribution point / a manual file (valid or
  // not: a bad entry is its own error, not also "no CRL source").
  bool crl_points_listed_ = false;
  bool crl_manual_listed_ = false;
  // Every well-formed peer name and the number of list items, including peers
  // dropped for other errors, so that one bad FQDN does not also produce
  // "unknown peer" noise in rollout.order or hide the clusterFqdn rule.
  std::vector<std::string> peer_names_;
  size_t peer_count_ = 0;
};

}  // namespace edgecert::schema::detail
