#!/usr/bin/env bash
# Issued certificates pass the Expressway checks before any node is touched,
# end to end with the real binary (issuer `external`, a file drop signed here
# with the openssl CLI).
#
# Usage: issued_checks_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
#   (a) apply writes both CSRs and waits for the signed certificates;
#   (b) edge1's certificate is fine but expires in 2051+ (a warning), edge2's
#       carries a wildcard SAN (an error): apply exits 1 naming the check id
#       wildcard-name and edge2; no node's certificate, trusted CA list or TLS
#       verification changed (still enforce); the warning is in the output
#       and the audit log;
#   (c) edge2's file replaced by a good certificate: apply exits 0 (the
#       refused chain is not replayed from the journal), and a second plan
#       shows no changes.
set -uo pipefail

fail() {
  echo "issued_checks_test: FAIL: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || fail "usage: $0 PATH/TO/edgecert"
[[ -x $1 ]] || fail "edgecert binary '$1' is not executable"
edgecert=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v jq >/dev/null || fail "jq is not installed (scripts/install-deps installs it)"
command -v openssl >/dev/null || fail "openssl is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/edgecert-issued-checks.XXXXXX") || fail "mktemp failed"
trap '[[ -n ${EDGECERT_KEEP_TEST_FILES:-} ]] || rm -rf "$work"' EXIT
cd "$work" || fail "cannot enter $work"

"$edgecert" ca init "$work/ca" --cn "Issued Checks Test CA" >ca-init.log 2>&1 ||
  fail "ca init failed: $(cat ca-init.log)"
mkdir -p req certs

cat >spec.yaml <<EOF
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: checks
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  tlsVerification: enforce
  peers:
    - {name: edge1, fqdn: edge1.example.com, endpoint: "sim://edge1"}
    - {name: edge2, fqdn: edge2.example.com, endpoint: "sim://edge2"}
  serverCertificate:
    key: {algorithm: rsa, size: 2048}
    roles: [b2b]
    issuer: {type: external, requestsDir: $work/req, certificatesDir: $work/certs}
  trustedCAs:
    certificates: [$work/ca/cacert.pem]
  rollout:
    healthTimeout: 1m
EOF

sim=$work/sim
state=$work/state
ec() {
  out=$("$edgecert" "$@" --sim-dir "$sim" --state-dir "$state" </dev/null 2>&1)
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
# What a node holds that the refused run must not change: serving certificate,
# staged certificate, trusted CAs, TLS verification.
node_view() {
  "$edgecert" status spec.yaml -o json --sim-dir "$sim" 2>/dev/null |
    jq -S '[.nodes[] | {name, tls: .tls_verification, serving: .server_certificate.sha256,
             staged: .staged_certificate, cas: .trusted_ca_count}]'
}

# sign NODE EXTRA_SAN DAYS: signs req/checks/NODE.csr with the test CA into
# certs/checks/NODE.pem, the CSR's names plus EXTRA_SAN (may be empty).
sign() {
  local node=$1 extra=$2 days=$3 sans
  sans=$(openssl req -in "req/checks/$node.csr" -noout -text |
    grep -A1 'Subject Alternative Name' | tail -1 | tr -d ' ')
  [[ -n $sans ]] || fail "no SANs in req/checks/$node.csr"
  [[ -n $extra ]] && sans="$sans,DNS:$extra"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' \
    "$sans" >"$node.ext"
  mkdir -p certs/checks
  openssl x509 -req -in "req/checks/$node.csr" -CA ca/cacert.pem -CAkey ca/private/cakey.pem \
    -CAcreateserial -days "$days" -sha256 -extfile "$node.ext" -out "certs/checks/$node.pem" \
    >"$node.sign.log" 2>&1 || fail "openssl x509 -req for $node failed: $(cat "$node.sign.log")"
}

# --- (a) waiting for the file drop -------------------------------------------
ec apply spec.yaml --auto-approve
expect_out "waiting for signed certificate" "(a) first apply"
[[ -s req/checks/edge1.csr && -s req/checks/edge2.csr ]] || fail "(a) no CSRs in req/checks"
before=$(node_view)
[[ -n $before ]] || fail "(a) status -o json gave nothing to compare"
jq -e 'all(.[]; .tls == "enforce")' <<<"$before" >/dev/null ||
  fail "(a) a node is not enforce after waiting: $before"

# --- (b) a wildcard SAN is refused before anything is touched ---------------
sign edge1 "" 9300   # notAfter in 2051 or later: a warning only
sign edge2 "*.example.com" 365
ec apply spec.yaml --auto-approve
expect_rc 1 "(b) apply with a wildcard certificate"
expect_out "wildcard-name" "(b) the refusal"
expect_out "edge2" "(b) the refusal"
expect_out "expires-2050-or-later" "(b) edge1's warning in the output"
grep -q "expires-2050-or-later" "$state/checks/audit.jsonl" ||
  fail "(b) the warning is not in the audit log"
after=$(node_view)
[[ $after == "$before" ]] || fail "(b) a node changed although the chain was refused:
before: $before
after:  $after"
# What run (b) did, from its journal lines: the signatures, nothing after.
last_run=$(jq -rs '[.[] | select(.event == "run-start")] | last | .run' "$state/checks/journal.jsonl")
kinds=$(jq -rs --arg run "$last_run" \
  '[.[] | select(.run == $run and .event == "action-start") | .kind] | unique | join(" ")' \
  "$state/checks/journal.jsonl")
[[ $kinds == "sign-csr" ]] || fail "(b) the refused run did more than sign: $kinds"
jq -se --arg run "$last_run" \
  'any(.[]; .run == $run and .event == "action-failed" and .node == "edge2" and .kind == "sign-csr")' \
  "$state/checks/journal.jsonl" >/dev/null || fail "(b) no failed sign-csr for edge2 in the journal"

# --- (c) the corrected file is picked up -------------------------------------
sign edge2 "" 365
ec apply spec.yaml --auto-approve
expect_rc 0 "(c) apply with the corrected certificate"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(c) plan after the rollout"
jq -e 'all(.[]; .tls == "enforce")' <<<"$(node_view)" >/dev/null ||
  fail "(c) a node is not enforce after the rollout: $(node_view)"
echo "issued_checks_test: ok"
