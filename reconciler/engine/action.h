// Action: one step of a plan, typed.
//
// Every action kind has exactly one params struct (the alternatives of
// ActionParams, in ActionKind order, so the variant's index *is* the kind) and
// one row in the traits table: its name, its plan symbol, and the rules the
// executor applies to it (disruptive, gated by rollout windows, allowed while
// an external signer waits, retry policy, whether a failure stops the run).
// Adding a kind means: an enumerator, a params struct, a traits row, a JSON
// codec case (action.cpp), a handler in the node runner, and the plan text.
//
// Params hold what the executor needs and nothing secret; their JSON form is
// the "params" object of docs/plan-format.md.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/base/enum_table.h"
#include "providers/base/error.h"
#include "providers/node/node.h"
#include "providers/pki/types.h"
#include "schema/spec.h"

namespace edgecert {

enum class ActionKind {
  kDiscardCsr,
  kAppendTrustedCas,
  kGenerateCsr,
  kSignCsr,
  kSetTlsVerification,
  kUploadCertificate,
  kRestart,
  kWaitHealthy,
  kVerifyServed,
  kRevokeSuperseded,
  kDeleteTrustedCa,
  kSetCrlSettings,
  kUploadManualCrl,
  kSetRevocationChecking,
  kSetAcmeSettings,  // the node's ACME service settings (spec.acme)
  kAcmeSign,         // expressway-acme: the node signs its pending CSR with its ACME provider
  kAcmeDeploy,       // expressway-acme: the node deploys its pending ACME certificate, no restart
  kAcmeDiscardPending,  // drop a pending ACME certificate that does not match the spec
  kRemoveManualCrl,     // spec.crl without manualFile: the node's manual CRL goes
};

// How the executor treats a transient failure (kUnavailable) of a kind.
enum class RetryPolicy {
  kTransient,        // retried with backoff: every handler re-reads before it changes anything
  kNever,            // never retried in-run (its own deadline, or each attempt costs)
  kRestart,          // retried only after checking whether the lost reply's restart happened
  kUnlessAcmeIssuer  // sign-csr: retried, except through an ACME issuer (each try is an order)
};

struct ActionTraits {
  ActionKind kind;
  std::string_view name;  // "generate-csr": plans, journals, audit log
  char symbol;            // plan text: '+' add, '~' change, '-' remove, '!' restart
  bool disruptive;        // the node stops serving
  bool window_gated;      // changes what a node serves: not begun after the window closed
  bool while_waiting;     // may run while an external signer is waiting (nothing disrupted)
  RetryPolicy retry;
  bool failure_stops_run;  // false: reported for a human to finish, the run goes on
};

// The traits of every kind, in ActionKind order.
const ActionTraits& traits(ActionKind kind);
const char* action_kind_name(ActionKind kind);  // "generate-csr", ...
std::optional<ActionKind> parse_action_kind(std::string_view name);

// The certificate a CSR asks for (generate-csr, sign-csr, acme-sign).
struct CsrParams {
  std::string common_name;
  std::vector<std::string> dns_names;
  pki::SubjectFields subject;
  pki::KeyAlgorithm key_algorithm = pki::KeyAlgorithm::kRsa;
  int key_size = 4096;
  pki::Digest digest = pki::Digest::kSha256;
  // keyRotation: retain: the node re-uses its current private key.
  bool reuse_current_key = false;
};

struct DiscardCsrParams {};
struct AppendTrustedCasParams {
  std::vector<std::string> pem;     // one CA certificate each
  std::vector<std::string> sha256;  // their fingerprints, same order
};
struct GenerateCsrParams {
  CsrParams csr;
};
struct SignCsrParams {
  CsrParams csr;
};
struct SetTlsVerificationParams {
  spec::TlsVerification mode = spec::TlsVerification::kEnforce;
};
struct UploadCertificateParams {};
struct RestartParams {};
struct WaitHealthyParams {
  std::chrono::seconds timeout{600};
};
struct VerifyServedParams {
  std::string fqdn;
};
struct RevokeSupersededParams {
  std::string pem;  // the superseded certificate (public)
  std::string sha256;
  pki::RevocationReason reason = pki::RevocationReason::kSuperseded;
};
struct DeleteTrustedCaParams {
  std::string sha256;
};
struct SetCrlSettingsParams {
  node::CrlSettings settings;
};
struct UploadManualCrlParams {
  std::string path;    // absolute, the spec's crl.manualFile
  std::string sha256;  // of the file when the plan was made
};
struct SetRevocationCheckingParams {
  spec::RevocationChecking settings;
};
struct SetAcmeSettingsParams {
  node::AcmeSettings settings;
};
struct AcmeSignParams {
  CsrParams csr;
};
struct AcmeDeployParams {
  // The pending certificate to deploy when the plan found it already pending
  // (deploy only); unset when this run's acme-sign produces it.
  std::optional<std::string> sha256;
};
struct AcmeDiscardPendingParams {
  std::optional<std::string> sha256;  // the pending certificate the plan judged
};
struct RemoveManualCrlParams {
  std::string sha256;  // the manual CRL the plan judged (node's fingerprint)
};

// In ActionKind order: params.index() == static_cast<size_t>(kind).
using ActionParams =
    std::variant<DiscardCsrParams, AppendTrustedCasParams, GenerateCsrParams, SignCsrParams,
                 SetTlsVerificationParams, UploadCertificateParams, RestartParams,
                 WaitHealthyParams, VerifyServedParams, RevokeSupersededParams,
                 DeleteTrustedCaParams, SetCrlSettingsParams, UploadManualCrlParams,
                 SetRevocationCheckingParams, SetAcmeSettingsParams, AcmeSignParams,
                 AcmeDeployParams, AcmeDiscardPendingParams, RemoveManualCrlParams>;

struct Action {
  std::string id;    // "<node>/<kind>[/<n>]", unique in the plan
  std::string node;  // peer name
  std::string reason;
  nlohmann::json before = nullptr;      // non-secret summary of the live value
  nlohmann::json after = nullptr;       // non-secret summary of the desired value
  std::vector<std::string> depends_on;  // ids of earlier actions that must be done first
  ActionParams params;                  // what the executor needs; also says the kind
  // The node has no interface for this (NodeState::manual_operations): the
  // operator does it in the web UI and the executor checks it (manual_steps.h).
  bool manual = false;

  ActionKind kind() const { return static_cast<ActionKind>(params.index()); }
  const ActionTraits& traits() const { return edgecert::traits(kind()); }
  bool disruptive() const { return traits().disruptive; }
  // The params of kind P; the caller has checked kind().
  template <class P>
  const P& as() const {
    return std::get<P>(params);
  }
};

// Default-constructed params of `kind` (the builder fills them in).
ActionParams default_params(ActionKind kind);

// The "params" object of docs/plan-format.md.
nlohmann::json params_to_json(const ActionParams& params);
// Decodes the "params" of an action of `kind`. Never throws: a missing or
// wrongly typed field is an error whose message is "params.FIELD: ...".
Result<ActionParams> params_from_json(ActionKind kind, const nlohmann::json& j);

// ACME service settings in plans (before/after/params of set-acme-settings):
// {"provider_name", "provider_directory", "email", "terms_accepted", "mode",
// "renew_key", "schedule": {"days": ["mon"], "time": "04:00"} | null}.
nlohmann::json acme_settings_json(const node::AcmeSettings& settings);
Result<node::AcmeSettings> acme_settings_from_json(const nlohmann::json& j);
// {"automatic_updates", "distribution_points", "daily_update_time": "HH:MM"}
// (the spec's own spelling of the time, UTC).
nlohmann::json crl_settings_json(const node::CrlSettings& settings);
// {"enabled", "ocsp", "crl", "cdp_downloads", "fallback"}
nlohmann::json revocation_checking_json(const spec::RevocationChecking& settings);

}  // namespace edgecert
