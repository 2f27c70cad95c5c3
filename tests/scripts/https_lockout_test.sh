#!/usr/bin/env bash
# No self-lockout over HTTPS, end to end: the real edgecert against
# edgecert-sim (two nodes behind real TLS listeners that present each node's
# current server certificate).
#
# Usage: https_lockout_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; edgecert-sim is next to it; the working folder is the repository
# root).
#
#   (a) access.caBundle holds only the nodes' factory CAs and the issuer is a
#       fresh openssl-ca: the first restarted node would present a certificate
#       the management connection does not trust. `plan` and `apply` exit 1
#       naming the caBundle file and "lock edgecert out"; no node changed
#       (factory certificates, TLS verification enforce, no CSR);
#   (b) the issuer's CA appended to the bundle: apply exits 0 over https://,
#       every node serves the new certificate, and a second plan (through the
#       same management connection, now to the new certificates) shows no
#       changes.
set -uo pipefail

script=https_lockout_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"

sim_workdir edgecert-https-lockout

"$edgecert" ca init "$work/ca" --cn "Lockout Test CA" >ca-init.log 2>&1 ||
  fail "ca init failed: $(cat ca-init.log)"
echo "lockout-test-password" >password
chmod 600 password

sim_start --state "$work/simstate" --password-file "$work/password" --restart-seconds 1 \
  --scheduler-interval 0 \
  --node edge1=127.0.0.1:0 --fqdn edge1=edge1.example.com \
  --node edge2=127.0.0.1:0 --fqdn edge2=edge2.example.com
p1=$(sim_port edge1)
p2=$(sim_port edge2)
[[ -n $p1 && -n $p2 ]] || fail "no ports in edgecert-sim's output: $(cat sim.out)"

# The management trust the operator starts with: the nodes' factory CAs.
for n in edge1 edge2; do
  jq -r '.factory_cas[]' "simstate/$n.json" >>bundle.pem || fail "no factory CAs for $n"
done
[[ -s bundle.pem ]] || fail "empty factory CA bundle"

cat >spec.yaml <<EOF
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: lockout
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  tlsVerification: enforce
  peers:
    - {name: edge1, fqdn: edge1.example.com, endpoint: "https://127.0.0.1:$p1"}
    - {name: edge2, fqdn: edge2.example.com, endpoint: "https://127.0.0.1:$p2"}
  access: {username: admin, passwordFrom: "file:$work/password", caBundle: $work/bundle.pem, interfaces: [rest, xml]}
  serverCertificate:
    key: {algorithm: ecdsa, size: 256}
    roles: [b2b]
    issuer: {type: openssl-ca, directory: $work/ca}
  rollout:
    healthTimeout: 1m
    relaxTlsVerification: false  # a manual step on a real node
EOF

state=$work/state
ec() {
  out=$("$edgecert" "$@" --state-dir "$state" </dev/null 2>&1)
  rc=$?
}
expect_rc() {
  [[ $rc -eq $1 ]] || fail "$2: expected exit $1, got $rc; output:
$out"
}
expect_out() {
  grep -qF -- "$1" <<<"$out" || fail "$2: output does not mention '$1'; output:
$out"
}
view() {
  "$edgecert" status spec.yaml -o json 2>/dev/null |
    jq -S '[.nodes[] | {name, reachable, tls: .tls_verification, issuer: .server_certificate.issuer_cn,
             serving: .server_certificate.sha256, csr: .pending_csr, cas: .trusted_ca_count}]'
}

before=$(view)
jq -e 'length == 2 and all(.[]; .reachable and .tls == "enforce" and .csr == null)' \
  <<<"$before" >/dev/null || fail "unexpected starting state: $before"

# --- (a) refused before any change ------------------------------------------
ec plan spec.yaml
expect_rc 1 "(a) plan"
expect_out "lock edgecert out" "(a) plan"
expect_out "$work/bundle.pem" "(a) plan"
expect_out "Lockout Test CA" "(a) plan"
ec apply spec.yaml --auto-approve
expect_rc 1 "(a) apply"
expect_out "lock edgecert out" "(a) apply"
expect_out "$work/bundle.pem" "(a) apply"
after=$(view)
[[ $after == "$before" ]] || fail "(a) a node changed although apply refused:
before: $before
after:  $after"

# --- (b) the operator trusts the issuer: the rollout goes through -----------
cat ca/cacert.pem >>bundle.pem
ec apply spec.yaml --auto-approve
expect_rc 0 "(b) apply"
jq -e 'all(.[]; .reachable and .tls == "enforce" and .issuer == "Lockout Test CA")' \
  <<<"$(view)" >/dev/null || fail "(b) not every node serves the new certificate: $(view)"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(b) plan after the rollout"
echo "https_lockout_test: ok"
