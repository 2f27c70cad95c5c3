// Diff: what differs between the spec and each node's live state, and why.
//
// Pure: no I/O besides reading the spec's own manual CRL file through the
// Env. Every difference carries a human reason that the plan shows verbatim.
// Level-triggered like a Kubernetes controller: the diff looks only at live
// state, so re-running it after a crash yields exactly the remaining work
// (a staged certificate needs only its restart; a pending CSR that matches the
// spec is reused, never regenerated).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "providers/node/node.h"
#include "reconciler/engine/desired.h"
#include "reconciler/engine/live_state.h"
#include "schema/spec.h"

namespace edgecert {

// The CA certificates the cluster should trust.
struct DesiredTrust {
  std::vector<pki::Certificate> anchors;     // spec trustedCAs, all certificates in file order
  std::vector<pki::Certificate> issuer_cas;  // the issuer's CA chain (may be empty)
  // Issuer chain first (the appliance refuses a certificate whose CA it does
  // not trust), then the spec's anchors; no duplicates.
  // Also everything a valid server certificate may chain to.
  std::vector<pki::Certificate> required() const;
};

// Whether a certificate (chain, leaf first) satisfies the spec for a node.
// Every problem names the field and both values ("subject.organization:
// live 'Example KK', spec 'Example GK'").
struct Assessment {
  bool ok = false;
  std::vector<std::string> problems;  // human reasons, empty when ok
  // Worth saying, never a reason to reissue: a CA signature hash weaker
  // than SHA-256 (the CA picks its hash; `digest` is the CSR's).
  std::vector<std::string> warnings;
  // Differences tolerated on purpose: the chat node aliases an Expressway-C
  // adds to its CSRs itself.
  std::vector<std::string> notes;
};
// `check_renewal` false: a certificate inside its renewal window still counts
// as valid (used to decide whether the cluster can go back to Enforce).
Assessment assess_certificate(const std::vector<pki::Certificate>& chain,
                              const DesiredCertificate& desired, const DesiredTrust& trust,
                              const spec::ServerCertificate& config, TimePoint now,
                              bool check_renewal = true);

// SHA-256 fingerprints of the CAs a chain (leaf first) builds through on a
// node with `trusted` anchors, leaf excluded: the CAs it still needs.
std::vector<std::string> chain_ca_fingerprints(const std::vector<pki::Certificate>& chain,
                                               const std::vector<pki::Certificate>& trusted,
                                               TimePoint now);

// Why a pending CSR does not match the desired profile (CN, subject fields,
// SAN set with the Expressway-C tolerance, key, digest, and the retained
// public key under keyRotation: retain); empty when it matches.
std::vector<std::string> csr_differences(const node::PendingCsr& csr,
                                         const DesiredCertificate& desired);
bool csr_matches(const node::PendingCsr& csr, const DesiredCertificate& desired);

// keyRotation: retain: sets desired.retained_spki to the serving
// certificate's SPKI when its key is worth keeping (not the factory
// certificate, and of the spec's algorithm and size). Returns why the key
// cannot be kept when retain is asked for but does not apply, else "".
std::string apply_key_retention(DesiredCertificate& desired,
                                const std::vector<pki::Certificate>& server_chain);

enum class CertificateChange {
  kNone,
  kRestartOnly,  // a good certificate is staged; only the restart is missing
  kReissue,  // CSR → sign → upload → restart (expressway-acme: CSR → node signs → deploy)
  kDeployOnly,  // expressway-acme: a good certificate is pending in the node's ACME
                // service; only its deployment is missing
};

// The spec's ACME service settings as a node holds them.
node::AcmeSettings desired_acme_settings(const spec::Acme& acme);
bool same_acme_settings(const node::AcmeSettings& a, const node::AcmeSettings& b);

// The certificate (chain, leaf first) pending in a node's ACME service, when
// there is one and it parses.
std::optional<std::vector<pki::Certificate>> pending_acme_chain(const node::NodeState& state);

// True when the spec's issuer is the nodes' own ACME service (expressway-acme):
// the node signs its CSR itself and deploys without a restart.
bool node_signs(const spec::Spec& spec);

struct NodeDiff {
  std::string peer;
  DesiredCertificate desired;
  CertificateChange certificate = CertificateChange::kNone;
  std::vector<std::string> certificate_reasons;
  bool reuse_pending_csr = false;  // kReissue with a matching CSR already on the node
  bool discard_pending_csr = false;
  std::string discard_reason;
  std::vector<pki::Certificate> missing_cas;           // to append, in order
  std::vector<pki::Certificate> prune_cas;             // to delete (prune: true)
  std::vector<std::string> prune_refused;              // "CN (sha256): why it must stay"
  std::optional<node::CrlSettings> crl_settings;       // set when it differs
  std::optional<std::string> manual_crl_path;          // upload when it differs
  std::string manual_crl_sha256;                       // of the spec's file, when planned
  std::optional<spec::RevocationChecking> revocation;  // set when it differs
  std::optional<spec::TlsVerification> tls;            // set when it differs
  std::optional<node::AcmeSettings> acme_settings;     // spec.acme, set when it differs
  // kDeployOnly: SHA-256 of the pending ACME leaf to deploy.
  std::string pending_acme_sha256;
  // A certificate pending in the node's ACME service that does not match the
  // spec (spec.acme managed): in automated mode the node would deploy it.
  bool discard_pending_acme = false;
  std::string discard_pending_acme_reason;
  bool restart_required_other = false;  // node wants a restart for another reason
  // spec.crl without manualFile: the manual CRL on the node goes.
  bool remove_manual_crl = false;
  // For the plan's notes, "warning: " first for warnings: never a reason
  // to change anything (a weak CA signature hash, more than 1000 trusted
  // CAs, names an Expressway-C adds itself).
  std::vector<std::string> notes;
  // The superseded leaf (for rollout.revokeSuperseded), when reissuing.
  std::optional<pki::Certificate> superseded;
  // Set when the superseded leaf is revoked already (the reason): the plan
  // does not revoke it again.
  std::string superseded_revoked;

  bool has_changes() const;
};

// Cluster TLS verification through a run, decided here and only here: the
// mode is cluster-wide, so these lists cover every peer, targeted or not.
struct ClusterTlsChange {
  // Peers in a mode other than the spec's (e.g. left permissive by an
  // interrupted or failed run) while every node serves a valid certificate:
  // set back to the spec's value first, before anything else in the plan;
  // (peer, its mode before). `relax` and `restore` start from the spec's
  // value for these.
  std::vector<std::pair<std::string, spec::TlsVerification>> restore_first;
  // Peers set to permissive before the first certificate change
  // (rollout.relaxTlsVerification, only when a targeted node's certificate
  // changes or it needs a restart, never on a one-peer spec), in live-state
  // order. A node whose mode the operator sets by hand (a manual step) is
  // listed even when permissive already, and is then not restored first.
  std::vector<std::string> relax;
  // Peers whose mode, after the relax, differs from the spec's value and is
  // set back at the end: (peer, its mode before that).
  std::vector<std::pair<std::string, spec::TlsVerification>> restore;
};

struct ClusterDiff {
  std::vector<NodeDiff> nodes;  // spec peer order
  ClusterTlsChange tls;
  bool any_certificate_change() const;
  bool has_changes() const;
  const NodeDiff* find(const std::string& peer) const;
};

// Requires every node in `live` to be readable (callers report unreadable
// nodes before diffing). Refused (kConflict) when a node's trusted CA list,
// after the planned appends and prunes, would hold two self-signed CAs with
// the same CN: Expressway trusts only one of them; the error names the node
// and the CN. More than 1000 CAs there is a warning note.
// `targets` (peer names; empty = all) limits what will change: a node outside
// it keeps its certificates, so the CAs they chain to are never pruned.
// `replace` (peer names, `--replace`): these nodes get a new certificate even
// when theirs matches the spec (reason "replacement requested with
// --replace"), through the same rollout as any reissue.
// `revoked` (leaf SHA-256 fingerprint -> "revoked by CA ..." reason, from
// RevocationReport::revoked_by_fingerprint): a revoked serving, staged or
// pending ACME certificate does not satisfy the spec, the reason first
// among the problems; a revoked superseded certificate is not revoked again
// (NodeDiff::superseded_revoked).
// The manual CRL is compared in the form the node gets (manual_crl_pem).
Result<ClusterDiff> diff_cluster(const spec::Spec& spec, const ClusterLive& live,
                                 const DesiredTrust& trust, Env& env, TimePoint now,
                                 const std::vector<std::string>& targets = {},
                                 const std::vector<std::string>& replace = {},
                                 const std::map<std::string, std::string>& revoked = {});

}  // namespace edgecert
