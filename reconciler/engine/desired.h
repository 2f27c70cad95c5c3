// The desired server certificate of one peer, derived from the spec.
//
// A pure function of (spec, peer): no I/O, no clock. The SAN set follows the
// Expressway certificate guide's role table (expressway.md §2):
//
// | SAN element                        | MRA    | Jabber Guest | XMPP fed.  | B2B |
// | Unified CM registration domains    | E only | -            | -          | -   |
// | XMPP federation domains            | -      | -            | E only     | -   |
// | IM&P chat node aliases             | -      | -            | C and E    | -   |
// | Unified CM phone security profiles | C only | -            | -          | -   |
// | Cluster name (clustered only)      | C      | C            | C          | -   |
//
// plus: CN = cluster FQDN when clustered (more than one peer), else the peer
// FQDN; clustered certificates also name the cluster FQDN and the peer FQDN;
// CollabEdgeDNS prefixes each UCM registration domain with "collab-edge.";
// additionalNames always. Names are lower-cased and deduplicated, in stable
// order: CN, peer FQDN, role elements in table order, additionalNames.
#pragma once

#include <string>
#include <vector>

#include "providers/pki/checks.h"
#include "providers/pki/csr.h"
#include "schema/spec.h"

namespace edgecert {

struct DesiredCertificate {
  std::string peer_name;
  std::string peer_fqdn;
  std::string common_name;
  std::vector<std::string> subject_alt_names;  // DNS names; CN first
  spec::Subject subject;
  spec::KeySpec key;
  spec::Digest digest = spec::Digest::kSha256;
  std::vector<std::string> extended_key_usage = {"serverAuth", "clientAuth"};
  // Context the checks need.
  spec::Product product = spec::Product::kExpresswayE;
  std::vector<spec::Role> roles;
  bool clustered = false;
};

DesiredCertificate desired_certificate(const spec::Spec& spec, const spec::Peer& peer);

// The role context for pki::check_server_certificate.
pki::RoleContext role_context(const DesiredCertificate& desired);

// The CSR an Expressway would generate for this profile.
pki::CsrOptions csr_options(const DesiredCertificate& desired);

}  // namespace edgecert
