#!/usr/bin/env bash
# The diff sees every field the spec sets, end to end with the real binary on
# sim:// (issue 12).
#
# Usage: diff_fields_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# edgecert-sim is next to it; the working folder is the repository root).
#
# On a copy of examples/quickstart (its CA made by `edgecert ca init`, sim
# nodes with instant restarts set up by edgecert-sim, run state in a
# temporary folder):
#   (a) apply; then each subject field (C, ST, L, O, OU, e-mail) changed in
#       turn: plan names the field with both values, apply reissues (the
#       served certificate changes), plan says "No changes";
#   (b) keyRotation: retain: a reissue keeps the public key (openssl x509
#       -pubkey on the PEM `status -o json` shows);
#   (c) digest: sha384 while the CA signed with SHA-256: no reissue, no loop;
#   (d) an external CA that issues serverAuth-only certificates: accepted with
#       extendedKeyUsage: server-auth-only; without it the plan reissues,
#       naming the extended key usage;
#   (e) an Expressway-C sim node that adds its chat node aliases to its CSRs:
#       apply, then plan shows "No changes" (no reissue loop).
set -uo pipefail

script=diff_fields_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1

script_start "$@"
edgecert_sim=$(dirname "$edgecert")/edgecert-sim
[[ -x $edgecert_sim ]] || fail "edgecert-sim is not next to $edgecert"
command -v openssl >/dev/null || fail "openssl is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/edgecert-diff-fields.XXXXXX") || fail "mktemp failed"
sim_pid=
cleanup() {
  if [[ -n $sim_pid ]]; then kill "$sim_pid" 2>/dev/null; fi
  remove_work "$work"
}
trap cleanup EXIT
cd "$work" || fail "cannot enter $work"

quickstart_spec "Diff Fields Test CA"
# ECDSA keys: generating RSA keys on a busy machine would dominate the run time.
sed -i "s#key: {algorithm: rsa, size: 2048}#key: {algorithm: ecdsa, size: 256}#" spec.yaml
grep -q "algorithm: ecdsa" spec.yaml || fail "could not switch the spec to ECDSA keys"

sim=$work/sim
state=$work/state
echo "sim-password" >pw

# boot_nodes DIR NAME[=ALIASES]...: boots sim nodes in DIR with instant
# restarts (and chat node aliases) through edgecert-sim, then stops it.
boot_nodes() {
  local dir=$1
  shift
  local args=() spec name
  for spec in "$@"; do
    name=${spec%%=*}
    args+=(--node "$name=127.0.0.1:0")
    # A node with chat node aliases is an Expressway-C (only C discovers them).
    [[ $spec == *=* ]] && args+=(--chat-node-aliases "$spec" --product "$name=expressway-c")
  done
  "$edgecert_sim" --state "$dir" --restart-seconds 0 --scheduler-interval 0 --password-file pw \
    "${args[@]}" >sim.log 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do
    grep -q "edgecert-sim ready" sim.log && break
    kill -0 "$sim_pid" 2>/dev/null || fail "edgecert-sim exited: $(cat sim.log)"
    sleep 0.1
  done
  grep -q "edgecert-sim ready" sim.log || fail "edgecert-sim did not start: $(cat sim.log)"
  kill "$sim_pid"
  wait "$sim_pid" 2>/dev/null
  sim_pid=
}

no_changes() {  # no_changes WHAT
  ec plan spec.yaml --detailed-exitcode
  expect_rc 0 "$1: plan --detailed-exitcode"
  expect_out "No changes" "$1"
}
# served FIELD NODE: a field of the node's served certificate in status -o json.
served() {
  "$edgecert" status spec.yaml -o json --sim-dir "$sim" |
    jq -r --arg n "$2" ".nodes[] | select(.name == \$n) | .server_certificate.$1"
}
pubkey() {  # pubkey NODE: the served certificate's public key, as openssl prints it
  served pem "$1" | openssl x509 -noout -pubkey
}
set_line() {  # set_line REGEX REPLACEMENT: replace the spec line matching REGEX
  sed -i "s#^$1.*#$2#" spec.yaml
  grep -qF -- "${2%%\\n*}" spec.yaml || fail "could not edit the spec to '$2'"
}

boot_nodes "$sim" edge1 edge2

# --- (a) subject fields ------------------------------------------------------
ec apply spec.yaml --auto-approve
expect_rc 0 "(a) first apply"
no_changes "(a) after the first apply"

# expect_reissue REASON WHAT: the spec as edited plans a reissue whose reason
# says REASON; apply replaces edge1's certificate; then nothing differs.
expect_reissue() {
  local before
  before=$(served sha256 edge1)
  ec plan spec.yaml
  expect_rc 0 "$2: plan"
  expect_out "$1" "$2: plan"
  ec apply spec.yaml --auto-approve
  expect_rc 0 "$2: apply"
  [[ $(served sha256 edge1) != "$before" ]] || fail "$2: edge1 was not reissued"
  no_changes "$2: after apply"
}
check_field() {  # check_field NEW-SUBJECT-TAIL FIELD LIVE SPEC
  set_line "    subject:" "$subject$1}"
  expect_reissue "subject.$2: live '$3', spec '$4'" "(a) $2"
}
subject='    subject: {country: US, state: Tokyo, locality: Chiyoda, organization: Example KK, organizationalUnit: UC'
check_field "" country JP US
subject='    subject: {country: US, state: Osaka, locality: Chiyoda, organization: Example KK, organizationalUnit: UC'
check_field "" state Tokyo Osaka
subject='    subject: {country: US, state: Osaka, locality: Kita, organization: Example KK, organizationalUnit: UC'
check_field "" locality Chiyoda Kita
subject='    subject: {country: US, state: Osaka, locality: Kita, organization: Example GK, organizationalUnit: UC'
check_field "" organization "Example KK" "Example GK"
subject='    subject: {country: US, state: Osaka, locality: Kita, organization: Example GK, organizationalUnit: Voice'
check_field "" organizationalUnit UC Voice
check_field ", email: pki@example.com" email "" pki@example.com

# --- (b) keyRotation: retain ------------------------------------------------------
set_line "    renewBefore:" "    renewBefore: 30d\n    keyRotation: retain"
no_changes "(b) retain alone changes nothing"
key_before=$(pubkey edge1)
[[ -n $key_before ]] || fail "(b) no public key from status -o json"
set_line "    roles:" "    roles: [b2b]\n    additionalNames: [retain.example.com]"
expect_reissue "missing retain.example.com" "(b) a new name under retain"
[[ $(pubkey edge1) == "$key_before" ]] || fail "(b) keyRotation: retain: the public key changed"

# --- (c) digest is the CSR's --------------------------------------------------------
[[ $(served pem edge1 | openssl x509 -noout -text | grep -c "Signature Algorithm: .*[Ss][Hh][Aa]256") -ge 1 ]] ||
  fail "(c) the certificate is not signed with SHA-256"
set_line "    digest:" "    digest: sha384"
no_changes "(c) digest sha384 with a SHA-256 signed certificate"
ec apply spec.yaml --auto-approve
expect_rc 0 "(c) apply"
no_changes "(c) still no changes after apply (no loop)"

# --- (d) extended key usage ---------------------------------------------------------
sed -i "/keyRotation: retain/d" spec.yaml
no_changes "(d) back to keyRotation: rotate changes nothing by itself"
mkdir -p req certs
set_line "    issuer:" "    issuer: {type: external, requestsDir: $work/req, certificatesDir: $work/certs}\n    extendedKeyUsage: server-auth-only"
set_line "    additionalNames:" "    additionalNames: [retain.example.com, eku.example.com]"
# sign_all EKU: the CA signs every pending CSR with these extended key usages.
sign_all() {
  local n serial=100
  for n in edge1 edge2; do
    serial=$((serial + 1))
    [[ -s req/quickstart/$n.csr ]] || fail "(d) no CSR for $n in req/quickstart"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=DNS:edge.example.com,DNS:%s.example.com,DNS:retain.example.com,DNS:eku.example.com\n' \
      "$1" "$n" >ext.cnf
    mkdir -p certs/quickstart
    openssl x509 -req -in "req/quickstart/$n.csr" -CA ca/cacert.pem -CAkey ca/private/cakey.pem \
      -set_serial "$serial$RANDOM" -days 200 -sha256 -extfile ext.cnf \
      -out "certs/quickstart/$n.pem" >openssl.log 2>&1 || fail "(d) openssl x509 -req: $(cat openssl.log)"
  done
}
ec apply spec.yaml --auto-approve
[[ $rc -ne 1 ]] || fail "(d) apply with the external issuer failed: $out"
expect_out "waiting" "(d) the external issuer waits for certificates"
sign_all serverAuth
ec apply spec.yaml --auto-approve
expect_rc 0 "(d) apply of serverAuth-only certificates under server-auth-only"
served pem edge1 | openssl x509 -noout -ext extendedKeyUsage | grep -q "Client" &&
  fail "(d) the served certificate has clientAuth"
no_changes "(d) serverAuth-only under server-auth-only"
sed -i "/    extendedKeyUsage: server-auth-only/d" spec.yaml
ec plan spec.yaml
expect_rc 0 "(d) plan without the opt-in"
expect_out "extended key usage: live serverAuth, spec serverAuth+clientAuth" "(d)"
rm -rf req/quickstart certs/quickstart
ec apply spec.yaml --auto-approve
[[ $rc -ne 1 ]] || fail "(d) apply for the reissue failed: $out"
sign_all serverAuth,clientAuth
ec apply spec.yaml --auto-approve
expect_rc 0 "(d) apply of serverAuth+clientAuth certificates"
no_changes "(d) after the reissue"

# --- (e) Expressway-C adds its chat node aliases -------------------------------------
mkdir core
cat >core/spec.yaml <<EOF
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: core
spec:
  product: expressway-c
  peers:
    - name: core1
      fqdn: core1.example.com
      endpoint: sim://core1
  serverCertificate:
    subject: {country: JP, organization: Example KK}
    key: {algorithm: ecdsa, size: 256}
    roles: [mra]
    issuer: {type: openssl-ca, directory: $work/ca}
  rollout:
    healthTimeout: 2m
EOF
sim=$work/sim-core
boot_nodes "$sim" core1=chatnode1.example.com,chatnode2.example.com
out=$("$edgecert" apply core/spec.yaml --auto-approve --sim-dir "$sim" --state-dir "$state" 2>&1)
rc=$?
expect_rc 0 "(e) apply on expressway-c"
sans=$("$edgecert" status core/spec.yaml -o json --sim-dir "$sim" |
  jq -r '.nodes[0].server_certificate.sans | join(",")')
[[ $sans == *chatnode1.example.com* && $sans == *chatnode2.example.com* ]] ||
  fail "(e) the node did not add its chat node aliases: $sans"
out=$("$edgecert" plan core/spec.yaml --detailed-exitcode --sim-dir "$sim" --state-dir "$state" 2>&1)
rc=$?
expect_rc 0 "(e) plan after apply on expressway-c"
expect_out "No changes" "(e)"
expect_out "chatnode1.example.com, chatnode2.example.com: tolerated" "(e)"

echo "diff_fields_test: ok"
