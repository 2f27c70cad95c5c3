// The `external` issuer: a file drop between edgecert and any CA.
//
// sign() writes the node's CSR to requestsDir/<cluster>/<node>.csr and returns
// "waiting" until a certificate for that CSR's key appears at
// certificatesDir/<cluster>/<node>.pem (PEM or DER, optionally followed by its
// chain, in any order). A certificate whose public key is not the current
// CSR's (left from an earlier round) is never picked up. edgecert cannot revoke
// through a file drop: revoke() says so and names the serial. sign() keeps no
// state of its own: calls for different nodes may run concurrently (each
// node has its own files).
#pragma once

#include <memory>
#include <string>

#include "providers/issuer/issuer.h"

namespace edgecert::issuer {

std::unique_ptr<Issuer> make_external_issuer(Env& env, std::string requests_dir,
                                             std::string certificates_dir);

std::string external_request_path(const std::string& requests_dir, const std::string& cluster,
                                  const std::string& node);
std::string external_certificate_path(const std::string& certificates_dir,
                                      const std::string& cluster, const std::string& node);

}  // namespace edgecert::issuer
