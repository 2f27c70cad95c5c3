// PRIVATE to providers/sim/sim_node*.cpp: NOT part of the simulator's
// contract (that is sim_node.h). Nothing outside providers/sim may include
// this header; the node file's schema and the operation harness may change
// without notice.
//
// SimNode is implemented in several files, one per concern:
// - sim_node.cpp             the operation harness (re-read per operation,
//                            restart, scheduler catch-up, fault injection,
//                            save, audit trail) and the administration API
// - sim_node_file.cpp        the node file: its JSON schema, load, save, boot
// - sim_node_certs.cpp       status, server certificate, CSR, trusted CAs
// - sim_node_revocation.cpp  CRL, revocation checking and TLS verification
// - sim_node_acme.cpp        the Expressway-E ACME service operations
// - sim_node_scheduler.cpp   the ACME service's automated mode
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/sim/sim_acme.h"
#include "providers/sim/sim_node.h"

namespace edgecert::sim::internal {

using nlohmann::json;

// --- The node file, decoded (sim_node_file.cpp) -------------------------------

// A certificate chain (PEM, leaf first) with the key the node holds for it.
struct KeyedChain {
  std::vector<std::string> chain;
  std::string key;  // PEM; the node's disk only
};

// A certificate the ACME provider signed, staged until deployed.
struct AcmePending {
  std::vector<std::string> chain;  // PEM, leaf first
  std::string key;                 // PEM of the CSR's key; the node's disk only
  std::string csr;                 // the request it answers (PEM)
};

// The CSR (and key) of the deployed ACME certificate: what automated renewal
// re-submits (renew key retain) or copies the subject and names from (rotate).
struct AcmeStored {
  std::string csr;
  std::string key;  // PEM; the node's disk only
};

struct RestartInProgress {
  int64_t until_ms = 0;      // back up at (Unix epoch milliseconds)
  int64_t down_from_ms = 0;  // still answering before this (restart_delay_seconds)
  bool never = false;
  bool keep_old = false;
};

struct State {
  std::string name;
  std::string fqdn;
  std::string version = kSoftwareVersion;
  KeyedChain active;
  std::optional<KeyedChain> staged;
  std::optional<KeyedChain> csr;  // chain = {CSR PEM}
  std::vector<std::string> factory_cas;
  std::vector<std::string> trusted_cas;
  node::CrlSettings crl;
  std::optional<std::string> manual_crl_hex;  // bytes as uploaded, hex
  spec::RevocationChecking revocation;
  node::AcmeSettings acme;
  std::string acme_last_sign;
  std::string acme_last_deploy;
  std::string acme_account_key;        // PEM; "" until first needed; the node's disk only
  std::string acme_account_url;        // "" = not registered
  std::string acme_account_directory;  // the directory acme_account_url belongs to
  std::optional<AcmePending> acme_pending;
  std::optional<AcmeStored> acme_stored;
  std::string acme_deployed_sha256;  // leaf the ACME service deployed last
  // Simulator administration (sim_node.h): the http-01 listener address and
  // the automated-mode scheduler's seed and progress.
  std::string http01_listen = kDefaultHttp01Listen;
  uint64_t scheduler_seed = 1;
  int64_t scheduler_done_ms = 0;  // scheduler events up to here have run
  // The IM and Presence chat node aliases this node (as an Expressway-C)
  // discovered: added to every CSR it generates (sim_node.h).
  std::vector<std::string> chat_node_aliases;
  spec::TlsVerification tls = spec::TlsVerification::kEnforce;
  bool restart_required = false;
  std::optional<RestartInProgress> restarting;
  int restart_seconds = kDefaultRestartSeconds;
  FaultConfig faults;
  uint64_t request_counter = 0;
  // Set by set_faults with any fault configured, cleared by one without:
  // every request is then audited, reads too, even once a fault is used up
  // (tests count the attempts a client made).
  bool audit_reads = false;
  // What the node says it is: spec product name ("expressway-c",
  // "expressway-e") or "" (not set), and when it last came up (Unix epoch
  // ms; 0 = unknown, a file from before uptime was kept).
  std::string product;
  int64_t booted_ms = 0;
  // The operator's peer list (SimNode::set_cluster_peers); nullopt = unset.
  std::optional<std::vector<std::string>> cluster_peers;
  // Files an operator put on the node's disk (SimNode::put_file).
  std::map<std::string, std::string> node_files;
};

// Where one node keeps its files (SimNode::files()), so that the free
// functions of the implementation need no access to the class.
struct NodeFiles {
  Env& env;
  std::string name;
  std::string fqdn;  // used only when the node boots
  std::string state_path;
  std::string audit_path;
  std::string lock_path;  // held by every operation (sim_node.h)
};

// The node file as it is: kNotFound without one (nothing is booted),
// kCorrupt when it does not decode.
Result<State> read_state_file(const NodeFiles& f);
// The node file; a node without one boots like a fresh install (and is
// written) first.
Result<State> load_state(const NodeFiles& f);
// Writes the whole node file atomically, mode 0600 (it holds keys).
Status save_state(const NodeFiles& f, const State& s);

// --- Small helpers shared by the operations (sim_node_file.cpp) ---------------

int64_t to_ms(TimePoint t);
std::string to_hex(std::string_view data);
std::string from_hex(std::string_view hex);

inline Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// Parses PEMs the node stored itself: a failure means a corrupt node file.
Result<std::vector<pki::Certificate>> parse_pems(const std::vector<std::string>& pems,
                                                 const std::string& what);
// The active (served) leaf; kCorrupt when the node file's PEM does not parse.
Result<pki::Certificate> active_leaf(const State& s);
// The key as PEM text, the way the node file holds keys.
Result<std::string> key_pem(const pki::PrivateKey& key);

// --- The operation harness (sim_node.cpp) --------------------------------------

// Deterministic randomness for faults and the scheduler: SplitMix64 of
// (seed, counter), in [0, 1).
double unit_random(uint64_t seed, uint64_t counter);

// What an operation's body works on: the state re-read for this request,
// what it tells the audit trail, and whether to save.
struct OpContext {
  State state;
  json details = json::object();
  bool changed = false;
  // Save the state even when the operation fails: a failed ACME sign still
  // registered the account and records its last sign status.
  bool persist_on_error = false;
};

// How run_op treats a request. Appliance operations get everything; the
// administration API's scheduler run is neither faulted nor audited itself
// (only what its events do is). A read is audited only when it changed the
// node or faults are configured (sim_node.h: reads write nothing).
struct OpMode {
  bool faults = true;
  bool audit = true;
  bool read = false;
};
inline constexpr OpMode kReadOp{true, true, true};

// Holds the node's lock (NodeFiles::lock_path), waiting for another holder
// (kUnavailable after about a minute). A lock that cannot be taken at all (a
// read-only folder, an Env that refuses locks) yields a null lock: nobody
// else can hold it either.
Result<std::unique_ptr<FileLock>> lock_node(const NodeFiles& f);

// Appends one line to the node's audit trail (best effort: an operation does
// not fail because its audit line could not be written).
void write_audit(const NodeFiles& f, TimePoint t, const std::string& op, const std::string& outcome,
                 const json& details);
// "error: <category>: <message>", the audit outcome of a failure.
std::string error_outcome(const Error& e);

// Whether a restart has run its time and the node's next request finishes it.
bool restart_due(const State& s, TimePoint now);

// run_op without the result type: `body` reports success or its error.
Status run_op_status(const NodeFiles& f, const char* op, OpMode mode,
                     const std::function<Status(OpContext&)>& body);

// Runs one appliance operation: every request goes through the same restart,
// scheduler catch-up, fault and persistence handling, then lands in the audit
// trail. `body` returns the operation's Result/Status.
template <class Body>
auto run_op(const NodeFiles& f, const char* op, Body&& body, OpMode mode = {})
    -> decltype(body(std::declval<OpContext&>())) {
  using R = decltype(body(std::declval<OpContext&>()));
  std::optional<R> result;
  Status st = run_op_status(f, op, mode, [&](OpContext& c) -> Status {
    result.emplace(body(c));
    if (!result->has_value()) return std::unexpected(result->error());
    return {};
  });
  if (!st) return std::unexpected(st.error());
  return std::move(*result);
}

// --- Revocation (sim_node_revocation.cpp) -------------------------------------

// The appliance's "Unknown CRL" upload warning for `leaf`: revocation
// checking by CRL is on but the node has no CRL source for its issuer.
std::optional<node::UploadWarning> unknown_crl_warning(const State& s,
                                                       const pki::Certificate& leaf);

// --- The ACME service (sim_node_acme.cpp, sim_node_scheduler.cpp) -------------

// Whether the node holds an account registered with the configured provider.
bool acme_account_registered(const State& s);
// "Success: 2027-01-01T00:00:00Z" (what = "Success") and, with a reason,
// "Failed: 2027-01-01T00:00:00Z: <reason>".
std::string status_line(const char* what, TimePoint t);
std::string failed_status_line(TimePoint t, const std::string& reason);
// Signs `csr_pem` through the provider (registering the account when
// needed, kept in `s` whatever happens next); returns the chain (PEM, leaf
// first) after checking that it certifies the request's key.
Result<std::vector<std::string>> acme_sign_csr(Env& env, State& s, const std::string& csr_pem,
                                               json& details);
// Makes the pending ACME certificate the active one, at once (no restart:
// the appliance reloads its certificate in place, guide ch.4). The request it
// answers becomes the stored CSR for automated renewal.
void acme_activate(State& s, TimePoint t, json& details);
// The appliance's automated mode brought up to `now` (SimNode::run_scheduler
// states what it does); its events are audited through `f`. Returns whether
// the state changed.
bool run_acme_scheduler(const NodeFiles& f, State& s, TimePoint now);

}  // namespace edgecert::sim::internal
