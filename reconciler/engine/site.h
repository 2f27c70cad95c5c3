// Sites: an Expressway-C cluster and the Expressway-E cluster its traversal
// zone connects to, checked as one (docs/sites.md).
//
// A C spec names its E spec in spec.traversal. The pair must agree on
// (guide ch.3, ch.4 and appendix A):
//   1. chat node aliases: the E certificate's must equal the C certificate's;
//   2. names: with TLS verification on the zone, every peer address C dials
//      is a name of the E certificates (C checks the address against E's
//      certificate);
//   3. trust: traversal zones use mutual TLS, so C trusts the CA chain that
//      issues E's certificates and E trusts C's;
//   4. ACME: with E on ACME, C trusts the ACME CA's root and intermediate.
//
// check_site_specs works from the two spec files alone (validate, plan,
// check): 1 and 2 always; 3 where the specs tell which CA issues (an
// openssl-ca issuer's CA certificate) and what the other side trusts (its
// spec.trustedCAs). check_site_live adds what only the nodes show (plan):
// the chains both clusters serve now against the trust stores each side will
// have after its own plan, which covers 3 and 4 for every issuer.
//
// Nothing here writes anything or changes a node.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "reconciler/engine/live_state.h"
#include "schema/diagnostic.h"
#include "schema/loader.h"
#include "schema/spec.h"

namespace edgecert {

struct SiteSpecCheck {
  // The E spec, when it loaded (even with site errors).
  std::optional<spec::Spec> expressway_e;
  // Positioned in the C spec (the field of C the finding is about); each
  // message names E's file, position and field as well.
  Diagnostics diagnostics;
};

// For a C spec with spec.traversal: loads the E spec it names (through
// `env`, with `options`) and checks the pair. Without spec.traversal:
// nothing to check (empty result).
SiteSpecCheck check_site_specs(const spec::Spec& c, Env& env, const schema::LoadOptions& options);

// One cluster of the site as plan sees it: its spec, its nodes as read, and
// what its own plan is about to change.
struct SiteSide {
  const spec::Spec& spec;
  const ClusterLive& live;
  // The issuer's CA chain when known before signing (DesiredTrust::
  // issuer_cas: an openssl-ca's; empty for ACME and external issuers).
  std::vector<pki::Certificate> issuer_cas;
  // The nodes whose certificate the cluster's plan replaces: judged by
  // `issuer_cas` when known, not by what they serve now.
  std::set<std::string> reissued;
};

// Findings from live state as the two clusters will be once both plans are
// applied, one line each, naming both clusters, the nodes and the spec
// field to change; empty when the site agrees. A node's trust store after
// its plan: its spec's trustedCAs (plus what it holds now unless it prunes),
// or what it holds now when trustedCAs is not managed, plus its issuer's CA
// chain. What a node serves after its plan: a certificate from its
// issuer's CA chain when the plan reissues it and the chain is known; what
// it serves now otherwise (a factory certificate its plan replaces through
// an ACME or external issuer is named as not checkable yet). E nodes that
// could not be read are named as not checked. Certificate files the specs
// name are read through `env`.
std::vector<std::string> check_site_live(Env& env, const SiteSide& c, const SiteSide& e);

}  // namespace edgecert
