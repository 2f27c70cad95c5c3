// The trust edgecert's own management connection puts in a node.
//
// An https:// peer is managed over TLS, verified against spec.access.caBundle
// (or the system store when unset; --insecure turns verification off). A
// rollout changes the certificate the node presents on that same interface:
// if the management connection does not trust the new chain, the first
// restarted node locks edgecert out in the middle of the rollout, with the
// cluster permissive. So the chain each node is about to serve is checked
// against this trust before anything changes, and a rollout that would lock
// edgecert out is refused, naming the file to fix (edgecert never widens the
// operator's trust on its own: the caBundle is the operator's statement of
// whom to trust).
//
// Checked twice: by the plan, when the issuer's CA is known ahead
// (openssl-ca), and by sign-csr / acme-sign for every chain as it is signed
// (external and ACME CAs are known only then) — both before TLS verification
// is relaxed or anything is uploaded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/pki/certificate.h"
#include "schema/spec.h"

namespace edgecert {

struct ManagementTrust {
  enum class Kind {
    kNotTls,    // no peer is reached over https://
    kInsecure,  // --insecure: nothing is verified
    kBundle,    // spec.access.caBundle: its certificates are the only trust
    kSystem,    // the system store: edgecert cannot check ahead
  };
  Kind kind = Kind::kNotTls;
  std::string bundle_path;                // kBundle
  std::vector<pki::Certificate> anchors;  // kBundle
  std::vector<std::string> https_peers;   // peers reached over https://
  bool covers(const std::string& peer) const;
};

// Reads spec.access.caBundle when an https:// peer needs it. Errors name the
// file.
Result<ManagementTrust> load_management_trust(Env& env, const spec::Spec& spec, bool insecure);

// Whether the management connection will trust `chain` (leaf first) served
// by `peer` (its FQDN, as the connection checks it). nullopt: trusted, or not
// checkable (system store, --insecure, not https://). Otherwise a kConflict
// naming the node, the caBundle file and the CA to add to it.
std::optional<Error> management_lockout(const ManagementTrust& trust, const spec::Peer& peer,
                                        const std::vector<pki::Certificate>& chain, TimePoint now);

// The same ahead of signing, for an issuer whose CA chain (intermediates,
// then root) is known: every https:// peer among `peers` will serve a leaf
// issued under `issuer_cas`. nullopt when the bundle trusts that chain.
std::optional<Error> management_lockout_ahead(const ManagementTrust& trust,
                                              const std::vector<std::string>& peers,
                                              const std::vector<pki::Certificate>& issuer_cas,
                                              TimePoint now);

}  // namespace edgecert
