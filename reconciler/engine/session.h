// A session: everything plan and apply share — the loaded spec, its digest,
// the opened nodes and issuer, the desired trust, the live state.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "providers/issuer/issuer.h"
#include "providers/node/node.h"
#include "reconciler/engine/diff.h"
#include "reconciler/engine/live_state.h"
#include "reconciler/engine/management_trust.h"
#include "reconciler/engine/plan.h"
#include "reconciler/engine/revocation_report.h"
#include "reconciler/engine/synchronized_env.h"
#include "schema/diagnostic.h"
#include "schema/spec.h"

namespace edgecert {

// What a run was asked to touch, from the command line or a caller.
struct SessionOptions {
  std::string sim_dir;  // simulator node files ("" = default)
  // Root of the run state (locks, journals, audit logs), as given on the
  // command line ("" = .edgecert/state in the spec's folder; see
  // state_root()).
  std::string state_dir;
  // See node::NodeOpenContext::local_dir (specs read from git set it).
  std::string local_dir;
  // See schema::LoadOptions::read_only_root (specs read from git set it).
  std::string read_only_root;
  // How many nodes are read at once (--parallelism; 1 = one after another).
  size_t parallelism = 10;
  // Shared by the sessions of a fleet read concurrently: the bound on reads
  // across clusters (live_state.h). Null = only `parallelism` bounds them.
  std::shared_ptr<ReadSlots> read_slots;
  // The Env given to open_session is one many threads may share already
  // (apply's, synchronized_env.h): it is used as it is. Otherwise the
  // session wraps it in a SynchronizedEnv for its concurrent reads.
  bool env_is_shared = false;
  bool insecure = false;            // HTTPS: skip management certificate checks
  bool trust_new_host_key = false;  // SSH: record an unpinned host key (--trust-new-host-key)
  // See node::NodeOpenContext::appliance_env (apply sets it to the Env whose
  // clock does not run ahead after a stop).
  Env* appliance_env = nullptr;
  std::vector<std::string> targets;   // only these peers (empty = all)
  std::vector<std::string> excludes;  // never these peers
  std::vector<std::string> replace;   // reissue these peers' certificates anyway (--replace)
  // --allow-unreachable-crl: under fallback "treat as revoked", a CRL source
  // that cannot be fetched is a warning instead of refusing the plan.
  bool allow_unreachable_crl = false;
  // How CRL distribution points and OCSP responders are reached (tests
  // inject a fake); empty = the real network (libcurl).
  revocation::TransportFactory crl_transport;
};

struct Session {
  // The Env open_session was given, made safe for the concurrent reads of
  // read_live; null when it was safe already (SessionOptions::env_is_shared).
  std::unique_ptr<SynchronizedEnv> shared_env;
  spec::Spec spec;
  std::string spec_sha256;  // of the spec file's bytes
  std::string state_dir;    // <state_root>/<cluster>
  std::unique_ptr<node::NodeOpenContext> open_context;
  OpenedNodes nodes;
  std::unique_ptr<issuer::Issuer> issuer;
  std::string issuer_description;
  DesiredTrust trust;
  ManagementTrust management_trust;       // what edgecert's https:// connection trusts
  std::vector<std::string> targets;       // resolved: empty = all peers
  std::vector<std::string> replace;       // peers whose certificate is reissued anyway
  RevocationOptions revocation;           // from SessionOptions (allow_unreachable, transport)
  size_t parallelism = 10;                // from SessionOptions
  std::shared_ptr<ReadSlots> read_slots;  // from SessionOptions
};

// The outcome of open_session: a session, or why there is none. Nothing is
// printed here; the caller renders diagnostics, warnings and the error.
struct OpenedSession {
  std::optional<Session> session;
  // The spec's diagnostics, sorted: its warnings on success; its errors (and
  // warnings) when it did not load. An unreadable spec file is one error
  // positioned at 0:0.
  std::vector<Diagnostic> diagnostics;
  // Other warnings the operator must see (e.g. --insecure).
  std::vector<std::string> warnings;
  // Set when the session could not be opened for a reason other than the
  // spec's diagnostics (a --target that is no peer, a node or issuer that
  // cannot be opened, an unreadable trusted CA file).
  std::optional<Error> error;
};

// The root of the run state for a spec: `state_dir` when given (a path on
// the command line, so relative to the working folder), else
// `.edgecert/state` next to the spec, like every relative path in a spec. The
// cluster's own folder is `<root>/<metadata.name>`: the same lock, journal
// and audit log whatever folder edgecert runs from.
std::string state_root(const std::string& spec_path, const std::string& state_dir);

// Loads and validates the spec, resolves targets, opens the nodes and the
// issuer and loads the trusted CAs.
OpenedSession open_session(Env& env, const std::string& spec_path, const SessionOptions& options);

// Progress notices for a person ("edge1: unreachable (...); waiting up to
// 600s for it to come back").
using Notify = std::function<void(const std::string&)>;

// Reads every node's live state. With `wait_for_unavailable` (apply), a node
// that answers kUnavailable (it may be restarting after an interrupted run)
// is first given rollout.healthTimeout to come back, announced through
// `notify`. Nodes that could not be read carry their error in the result
// (ClusterLive::all_readable() is false). Values a node cannot show (its CRL
// settings, its manual CRL) are the ones the operator confirmed, from the
// cluster's state folder (manual_steps.h); a damaged record makes those
// nodes unreadable.
ClusterLive read_live(Session& session, bool wait_for_unavailable, const Notify& notify);

// Product and release checks (compat.h): an error naming each node that does
// not fit the spec (kInvalidArgument); `warnings` (when set) gets the
// warnings.
Status check_nodes_fit(const spec::Spec& spec, const ClusterLive& live,
                       std::vector<std::string>* warnings = nullptr);

// What the CRLs and OCSP responders say now (assess_revocation with the
// session's options and the cluster's state folder for the fetch cache).
// kInvalidArgument when the report has errors: one line per error, each
// naming its source, and "nothing was changed".
Result<RevocationReport> check_revocation(Session& session, const ClusterLive& live, Env& env);

// Diff + plan (+ the next rollout window) at env.now(). Refused first when
// a node does not fit the spec (check_nodes_fit; its warnings become
// "warning: " notes), then when a CRL source is bad (check_revocation); its
// warnings and revoked trusted CAs become "warning: " notes, and a node
// certificate it finds revoked is reissued with the revocation as the first
// reason. Refused (kConflict,
// naming access.caBundle) when a node would serve a chain from the issuer's
// known CA that edgecert's management connection does not trust
// (management_trust.h).
Result<Plan> make_plan(Session& session, const ClusterLive& live, Env& env);

}  // namespace edgecert
