#!/usr/bin/env bash
# Sites: an Expressway-C spec naming its Expressway-E (spec.traversal), with
# the real binary and simulated nodes (docs/sites.md).
#
# Usage: site_test.sh PATH/TO/edgecert   (CTest passes the built binary; the
# working folder is the repository root).
#
# edge/cluster.yaml is an Expressway-E of two peers with its own CA,
# core/cluster.yaml an Expressway-C of one peer with another, each trusting
# the other's CA, the C's zone dialling both E peers by FQDN.
#   (a) validate and check take the agreeing pair; validate of the folder
#       takes both specs;
#   (b) plan of the C before anything is applied: both clusters still serve
#       factory certificates, but the two plans make the site agree, so no
#       site note; with the C's trust store not in its spec, its nodes'
#       trust is what counts and the notes say they will refuse the E's
#       certificates (text and -o json), exit 2 as any plan with changes;
#   (c) after applying the E and then the C, the C's plan has no site note
#       and exits 0;
#   (d) the C dials an address the E's certificates do not name: validate
#       exits 1 positioned in the C's spec and naming the E's file; plan
#       exits 1 and reads no node (the nodes' files are unchanged); check
#       reports the cluster as an error;
#   (e) the E adds the name to additionalNames: validate passes; the C's
#       plan has no site note (the E's plan reissues its certificates with
#       the name), nor after the E's apply;
#   (f) an E spec that does not load, an E that does not trust the C's CA,
#       chat node aliases that differ: each an error of the C naming both
#       files;
#   (g) an E whose nodes cannot be reached: the C's plan says so in one
#       note and still plans (exit 0).
set -uo pipefail

script=site_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"

sim_workdir edgecert-site
sim=$work/sim
state=$work/state

"$edgecert" ca init "$work/edge-ca" --cn "Edge CA" >ca-init.log 2>&1 || fail "ca init: $(cat ca-init.log)"
"$edgecert" ca init "$work/core-ca" --cn "Core CA" >>ca-init.log 2>&1 || fail "ca init: $(cat ca-init.log)"
mkdir -p edge core

# write_edge [EXTRA-CERTIFICATE-LINE] [TRUSTED-LIST]
write_edge() {
  cat >edge/cluster.yaml <<YAML
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: dmz
spec:
  product: expressway-e
  clusterFqdn: expe.example.com
  peers:
    - {name: expe1, fqdn: expe1.example.com, endpoint: ${edge_endpoint1:-sim://expe1}}
    - {name: expe2, fqdn: expe2.example.com, endpoint: ${edge_endpoint2:-sim://expe2}}
${edge_access:-}  serverCertificate:
    key: {algorithm: ecdsa, size: 256}
    roles: [mra, xmpp-federation]
    unifiedCmRegistrationDomains: {format: collab-edge-dns, domains: [example.com]}
    xmppFederationDomains: [example.com]
    chatNodeAliases: [chat1.example.com]
    issuer: {type: openssl-ca, directory: ../edge-ca}
${1:-}  trustedCAs:
    certificates: [${2:-../core-ca/cacert.pem}]
  rollout: {healthTimeout: 1m}
YAML
}
# write_core [PEER-ADDRESSES] [CHAT-ALIASES]
write_core() {
  cat >core/cluster.yaml <<YAML
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: core
spec:
  product: expressway-c
  peers:
    - {name: core1, fqdn: core1.example.com, endpoint: sim://core1}
  serverCertificate:
    key: {algorithm: ecdsa, size: 256}
    roles: [xmpp-federation]
    chatNodeAliases: ${2:-[chat1.example.com]}
    issuer: {type: openssl-ca, directory: ../core-ca}
  traversal:
    expresswayE: ../edge/cluster.yaml
    peerAddresses: ${1:-[expe1.example.com, expe2.example.com]}
${core_trusted-  trustedCAs:
    certificates: [../edge-ca/cacert.pem]
}  rollout: {healthTimeout: 1m}
YAML
}
write_edge
write_core

# validate reads no node: no --sim-dir or --state-dir.
val() {
  out=$("$edgecert" validate "$@" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}

# Simulated restarts take no time: what is tested is the site, not rollouts.
no_restart_wait() {
  local f
  for f in "$sim"/*.json; do
    if ! { jq '.restart_seconds = 0' "$f" >"$f.tmp" && chmod 600 "$f.tmp" && mv "$f.tmp" "$f"; }; then
      fail "could not set the restart time in $f"
    fi
  done
}
# A fingerprint of every simulated node's files (what "no node changed" means).
nodes_digest() { find "$sim" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum; }

# --- (a) an agreeing pair -------------------------------------------------------
val core/cluster.yaml
expect_rc 0 "(a) validate the C"
expect_out "core/cluster.yaml: valid" "(a) validate the C"
val edge core
expect_rc 0 "(a) validate both folders"
expect_out "2 specs: valid" "(a) validate both folders"

# --- (b) before anything is applied ---------------------------------------------
# Both still serve factory certificates, but the two plans make the site agree:
# no site note.
ec plan core/cluster.yaml --detailed-exitcode
expect_rc 2 "(b) plan the C"
grep -q "site:" <<<"$out" && fail "(b) a site note on an agreeing site:
$out"
no_restart_wait
# The C's trust store not managed by its spec: only its nodes tell, and they
# do not trust the E's CA.
core_trusted="" write_core
val core/cluster.yaml
expect_rc 0 "(b) validate: the specs cannot tell"
ec plan core/cluster.yaml --detailed-exitcode
expect_rc 2 "(b) plan the C"
expect_out "Note: site: Expressway-C node core1 of cluster 'core' will not trust the certificate Expressway-E node expe1 of cluster 'dmz' serves after its plan (issued by 'Edge CA'): traversal zones use mutual TLS; add that CA to core/cluster.yaml (add spec.trustedCAs)" "(b) the C's nodes do not trust the E's CA"
json=$("$edgecert" plan core/cluster.yaml -o json --sim-dir "$sim" --state-dir "$state" 2>/dev/null)
[[ $(jq '[.notes[] | select(startswith("site: "))] | length' <<<"$json") -eq 2 ]] ||
  fail "(b) -o json: expected 2 site notes (expe1, expe2): $(jq .notes <<<"$json")"
write_core

# --- (c) apply the E, then the C ------------------------------------------------
ec apply edge/cluster.yaml --auto-approve
expect_rc 0 "(c) apply the E"
ec apply core/cluster.yaml --auto-approve
expect_rc 0 "(c) apply the C"
ec plan core/cluster.yaml --detailed-exitcode
expect_rc 0 "(c) plan the C once both are applied"
grep -q "site:" <<<"$out" && fail "(c) a site note on an agreeing, applied site:
$out"

# --- (d) an address the E's certificates do not name ----------------------------
write_core "[expe1.example.com, dmz.example.net]"
val core/cluster.yaml
expect_rc 1 "(d) validate"
expect_out "core/cluster.yaml:16:40: error: spec.traversal.peerAddresses[1]: 'dmz.example.net' is not a name of the Expressway-E's certificates (edge/cluster.yaml: " "(d) validate"
expect_out "(edge/cluster.yaml:11:3 (spec.serverCertificate))" "(d) validate"
before=$(nodes_digest)
ec plan core/cluster.yaml
expect_rc 1 "(d) plan"
expect_out "the site does not agree (spec.traversal); nothing was read" "(d) plan"
[[ $(nodes_digest) == "$before" ]] || fail "(d) a refused plan changed a node's files"
ec check core/cluster.yaml
expect_rc 1 "(d) check"
expect_out "core (core/cluster.yaml): ERROR" "(d) check"
expect_out "'dmz.example.net' is not a name of the Expressway-E's certificates" "(d) check"

# --- (e) the E adds the name ------------------------------------------------------
write_edge "    additionalNames: [dmz.example.net]
"
val core/cluster.yaml
expect_rc 0 "(e) validate once the E names it"
ec plan core/cluster.yaml --detailed-exitcode
expect_rc 0 "(e) plan the C: nothing to change on the C"
# The E's certificates do not name it yet, but the E's plan reissues them
# with it: nothing to say.
grep -q "site:" <<<"$out" && fail "(e) a site note while the E's plan adds the name:
$out"
ec plan edge/cluster.yaml
expect_out "dmz.example.net" "(e) the E's plan adds the name"
ec apply edge/cluster.yaml --auto-approve
expect_rc 0 "(e) apply the E with the new name"
ec plan core/cluster.yaml --detailed-exitcode
expect_rc 0 "(e) plan the C after the E's apply"
grep -q "site:" <<<"$out" && fail "(e) a site note after the E serves the name:
$out"

# --- (f) disagreements from the specs ---------------------------------------------
write_core
write_edge "    colour: blue
"
val core/cluster.yaml
expect_rc 1 "(f) an E spec that does not load"
expect_out "spec.traversal.expresswayE: the Expressway-E spec 'edge/cluster.yaml' does not load" "(f) an E spec that does not load"
expect_out "unknown key 'colour'" "(f) an E spec that does not load"
write_edge "" "../edge-ca/cacert.pem"
val core/cluster.yaml
expect_rc 1 "(f) an E that does not trust the C's CA"
expect_out "core/cluster.yaml:15:5: error: the Expressway-E does not trust the CA that issues this Expressway-C's certificates ('Core CA')" "(f) E trust"
expect_out "edge/cluster.yaml:18:3 (spec.trustedCAs)" "(f) E trust"
write_edge
write_core "" "[chat2.example.com]"
val core/cluster.yaml
expect_rc 1 "(f) chat node aliases differ"
expect_out "core/cluster.yaml:12:5: error: chat node aliases differ across the site: this Expressway-C's certificates carry chat2.example.com, the Expressway-E's carry chat1.example.com (edge/cluster.yaml:16:5 (spec.serverCertificate.chatNodeAliases))" "(f) aliases"
write_core

# --- (g) an E that cannot be reached ----------------------------------------------
# A port nothing listens on: connecting is refused at once.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
edge_endpoint1="https://127.0.0.1:$port" edge_endpoint2="https://localhost:$port" \
  edge_access="  access: {username: admin, passwordFrom: env:SITE_TEST_EDGE_PASSWORD, interfaces: [rest]}
" write_edge
export SITE_TEST_EDGE_PASSWORD=not-a-real-password
ec plan core/cluster.yaml --detailed-exitcode
expect_rc 0 "(g) plan the C with its E unreachable"
expect_out "site: Expressway-E node expe1 of cluster 'dmz' could not be read (" "(g) E unreachable"
expect_out "its certificate and trust store were not checked against this Expressway-C" "(g) E unreachable"
grep -q "not-a-real-password" <<<"$out" && fail "(g) the E's password was printed"

echo "site_test: all checks passed"
