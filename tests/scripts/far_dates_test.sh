#!/usr/bin/env bash
# Dates up to 9999-12-31 (RFC 5280's "no well-defined expiration date") end
# to end with the real binary (issue 16). Before TimePoint moved to 64-bit
# microseconds, 99991231235959Z read back as 1816-03-30 and was "expired".
#
# Usage: far_dates_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# the working folder is the repository root).
#
#   (a) an openssl-ca folder whose CA certificate openssl re-signs valid from
#       1950-01-01 to 9999-12-31 23:59:59: `edgecert show` prints both dates,
#       `ca init --if-missing` and apply accept it (nodes trust it, leaves
#       are signed), and a second plan has no changes (nothing expired);
#   (b) issuer `external`, leaves signed by `openssl ca -startdate
#       19500101000000Z -enddate 99991231235959Z`: apply rolls them out,
#       status (table and JSON) shows 9999-12-31 23:59:59 UTC for both nodes,
#       and plan has no changes (not expired, renewal window far away).
set -uo pipefail
script=far_dates_test
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
command -v openssl >/dev/null || fail "openssl is not installed"

sim_workdir edgecert-far-dates
sim=$work/sim
state=$work/state

# --- (a) a CA certificate valid 1950 .. 9999 ---------------------------------
quickstart_spec "Far Dates Test CA"
cp ca/index.txt index.before || fail "(a) ca init wrote no index.txt"
openssl_ca_cnf "$work/ca" 30 >ca.cnf
printf '[ v3_ca ]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' >ca.ext
openssl req -new -key ca/private/cakey.pem -subj "/CN=Far Dates Test CA" -out ca.csr \
  >ca.log 2>&1 || fail "(a) openssl req failed: $(cat ca.log)"
openssl ca -batch -config ca.cnf -selfsign -keyfile ca/private/cakey.pem -in ca.csr \
  -startdate 19500101000000Z -enddate 99991231235959Z -extfile ca.ext -extensions v3_ca \
  -notext -out ca/cacert.pem >>ca.log 2>&1 || fail "(a) openssl ca -selfsign failed: $(cat ca.log)"
# The CA's own entry is not one of the certificates the folder issued.
cp index.before ca/index.txt

out=$("$edgecert" show ca/cacert.pem 2>&1)
rc=$?
expect_rc 0 "(a) show the CA"
expect_out "Not Before: 1950-01-01 00:00:00 UTC" "(a) show the CA"
expect_out "Not After : 9999-12-31 23:59:59 UTC" "(a) show the CA"

ec plan spec.yaml
expect_rc 0 "(a) plan with the far CA"
grep -q "1816\|expired" <<<"$out" && fail "(a) the plan calls something expired:
$out"
ec apply spec.yaml --auto-approve
expect_rc 0 "(a) apply with the far CA"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(a) plan after the rollout"
ec status spec.yaml -o json
expect_rc 0 "(a) status"
jq -e '[.nodes[] | .trusted_ca_count] | all(. >= 1)' <<<"$out" >/dev/null ||
  fail "(a) a node trusts no CA: $out"

# --- (b) leaves valid to 9999-12-31 ------------------------------------------
mkdir -p req certs
cat >spec.yaml <<EOF
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: far
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
    renewBefore: 30d
    issuer: {type: external, requestsDir: $work/req, certificatesDir: $work/certs}
  trustedCAs:
    certificates: [$work/ca/cacert.pem]
  rollout:
    healthTimeout: 1m
EOF

ec apply spec.yaml --auto-approve
expect_out "waiting for signed certificate" "(b) first apply"
mkdir -p certs/far
for node in edge1 edge2; do
  [[ -s req/far/$node.csr ]] || fail "(b) no CSR for $node in req/far"
  sans=$(openssl req -in "req/far/$node.csr" -noout -text |
    grep -A1 'Subject Alternative Name' | tail -1 | tr -d ' ')
  [[ -n $sans ]] || fail "(b) no SANs in req/far/$node.csr"
  printf '[ leaf ]\nsubjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n' \
    "$sans" >"$node.ext"
  openssl ca -batch -config ca.cnf -in "req/far/$node.csr" -startdate 19500101000000Z \
    -enddate 99991231235959Z -extfile "$node.ext" -extensions leaf -notext \
    -out "certs/far/$node.pem" >"$node.log" 2>&1 ||
    fail "(b) openssl ca for $node failed: $(cat "$node.log")"
done

ec apply spec.yaml --auto-approve
expect_rc 0 "(b) apply with leaves valid to 9999"
ec status spec.yaml
expect_rc 0 "(b) status"
[[ $(grep -c "9999-12-31 23:59:59 UTC" <<<"$out") -eq 2 ]] ||
  fail "(b) status does not show 9999-12-31 for both nodes:
$out"
ec status spec.yaml -o json
jq -e '[.nodes[] | .server_certificate.not_after] == ["9999-12-31 23:59:59 UTC", "9999-12-31 23:59:59 UTC"]' \
  <<<"$out" >/dev/null || fail "(b) status -o json: $(jq -c '[.nodes[] | .server_certificate.not_after]' <<<"$out")"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(b) plan with leaves valid to 9999 (nothing expired, nothing to renew)"
echo "far_dates_test: ok"
