// `edgecert-sim ui`: the operator's side channel. It plays the person at the
// node's web UI (and, for put-file, the root shell) for the steps a real
// Expressway offers no API for (the interface reference §4), so tests can
// carry out a plan's manual steps:
//
//   edgecert-sim ui --state DIR NODE COMMAND [ARGS...]
//     set-tls permissive|enforce       System > Clustering: TLS verification mode
//     delete-ca SHA256                 Trusted CA certificate: tick one, Delete
//     reset-cas                        Trusted CA certificate: Reset to default
//     discard-csr                      Server certificate: Discard CSR
//     set-crl --auto on|off [--url U]... [--time HH:MM]
//                                      CRL management: automatic updates (a
//                                      host under .invalid makes the node raise
//                                      alarms 40002/40006)
//     upload-crl FILE                  CRL management: Upload CRL file
//     remove-crl                       CRL management: Remove revocation list
//     put-file NODEPATH [--from FILE]  copy FILE (default: NODEPATH on this
//                                      machine) onto the node as NODEPATH (the
//                                      superseded certificate ACME Revoke names)
//     set-peers [ADDR...]              the node's own peer list (none: back to
//                                      edgecert-sim's default, its nodes' FQDNs)
//     set-product expressway-c|expressway-e
//     set-software-version X15.0.2
//
// It edits the node file through SimNode (re-read per operation, under the
// node's lock), so it works while edgecert-sim serves the node and a request
// in flight is not lost. It never boots a node: the file must exist. Prints
// one line saying what changed and returns 0; prints "edgecert-sim ui: ..."
// and returns 1 on an error (2 for a bad command line).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "providers/base/env.h"

namespace edgecert::simserver {

// `args` are the words after "ui".
int run_ui(Env& env, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace edgecert::simserver
