// The `expressway-acme` issuer: the Expressway-E nodes' own ACME service
// signs (../shared/reference/expressway.md §4).
//
// Here edgecert is not the signer: the executor asks each node to sign its
// pending CSR with its configured ACME provider (NodeProvider::acme_sign) and
// to deploy the result (acme_deploy), and revokes through the node
// (acme_revoke) with the node's ACME account. This object exists so the
// issuer registry, plan descriptions and `edgecert revoke` treat every issuer
// type alike; its sign() and revoke() refuse with a message that says where
// the work happens, and the planner never calls them for this type.
#pragma once

#include <memory>
#include <string>

#include "providers/issuer/issuer.h"

namespace edgecert::issuer {

// `provider` names the spec's ACME provider (spec.acme.provider.name), for
// descriptions only.
std::unique_ptr<Issuer> make_expressway_acme_issuer(std::string provider);

}  // namespace edgecert::issuer
