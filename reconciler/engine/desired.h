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
//
// What the diff compares besides the names (diff.h): the subject fields
// when the issuer copies them from the CSR (openssl-ca, external; an ACME CA
// writes its own subject), the key, the extended key usages the spec
// requires, and under keyRotation: retain the public key (set by the diff
// from the live certificate, see retained_spki).
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
  spec::Digest digest = spec::Digest::kSha256;  // of the CSR; the CA picks its own
  // What a CSR asks for: Expressway's CSRs always ask for both.
  std::vector<std::string> extended_key_usage = {"serverAuth", "clientAuth"};
  // What a certificate must carry (spec extendedKeyUsage).
  std::vector<std::string> required_extended_key_usage = {"serverAuth", "clientAuth"};
  // The issuer writes the CSR's subject fields into the certificate
  // (openssl-ca, external); an ACME CA sets the subject itself, so only the
  // CSR's subject is compared then.
  bool issuer_copies_subject = true;
  // Expressway-C adds the IM and Presence chat node aliases it discovered
  // to every CSR by itself: extra names of that shape are tolerated
  // (tolerated_extra_names).
  bool node_adds_chat_node_aliases = false;
  spec::KeyRotation key_rotation = spec::KeyRotation::kRotate;
  // keyRotation: retain and a current key worth keeping: the SPKI SHA-256
  // (pki::spki_sha256) every new CSR and certificate must carry. Empty = a
  // new key is fine. Set by the diff from live state, never by
  // desired_certificate().
  std::string retained_spki;
  // Context the checks need.
  spec::Product product = spec::Product::kExpresswayE;
  std::vector<spec::Role> roles;
  bool clustered = false;
};

DesiredCertificate desired_certificate(const spec::Spec& spec, const spec::Peer& peer);

// The names in `names` (a CSR's or certificate's DNS SANs) beyond the
// desired set that the node put there itself: on Expressway-C
// (node_adds_chat_node_aliases), every extra name that is a valid FQDN (the
// DNS format chat node aliases take, guide ch.3) and not a wildcard. Lower
// case, in `names` order. Empty on Expressway-E.
std::vector<std::string> tolerated_extra_names(const std::vector<std::string>& names,
                                               const DesiredCertificate& desired);

// The role context for pki::check_server_certificate.
pki::RoleContext role_context(const DesiredCertificate& desired);

// The CSR an Expressway would generate for this profile.
pki::CsrOptions csr_options(const DesiredCertificate& desired);

}  // namespace edgecert
