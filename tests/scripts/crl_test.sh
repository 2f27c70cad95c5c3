#!/usr/bin/env bash
# CRL sources end to end, with real processes: the real `edgecert` binary on
# sim:// nodes, CRLs made by the real `openssl ca -gencrl` on the openssl-ca
# issuer's folder, packed by the real `zip` and `gzip`, served by Python's
# http.server over HTTP and HTTPS on free loopback ports.
#
# Usage: crl_test.sh PATH/TO/edgecert   (CTest passes the built binary; the
# working folder is the repository root).
#
# After a first apply (both peers serve certificates of the test CA):
#   (a) the CA revokes both serving certificates (keyCompromise) and
#       publishes a CRL as DER, PEM, ZIP and GZIP: `crl check` shows every
#       source (table and JSON) and which node certificates it revokes;
#       `show --issuer` verifies it;
#   (b) every broken source refuses plan and apply (exit 1, a message naming
#       the source) and leaves the nodes untouched: a stale CRL, a forged one
#       (same issuer name, other key), an HTTPS server whose certificate does
#       not verify, truncated DER, garbage in a ZIP, a ZIP bomb, a 20 MB file,
#       an HTML page served as a CRL, a redirect loop, and a dead distribution
#       point under "treat as revoked" (a warning with --allow-unreachable-crl
#       or under "treat as not revoked");
#   (c) the good sources (HTTP ZIP, HTTPS with crl.caBundle, the manual file):
#       status and plan name the revocation with its reason, apply reissues
#       both certificates, and the next plan has nothing to do;
#   (d) OCSP: a second cluster whose certificates `openssl ca` signs with an
#       AIA naming an `openssl ocsp` responder (external issuer); the CA
#       revokes edge2's: plan and status say so, per the responder.
set -uo pipefail

script=crl_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1

script_start "$@"
for tool in openssl python3 zip gzip; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps installs it)"
done

sim_workdir edgecert-crl
server_pids=()
stop_servers() {
  local p
  for p in "${server_pids[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  sim_cleanup
}
trap stop_servers EXIT

sim=$work/sim
state=$work/state
www=$work/www
mkdir -p "$www" || fail "cannot create $www"

# --- the CA, the cluster ------------------------------------------------------
quickstart_spec "CRL Test CA"
ca=$work/ca
cp spec.yaml base.yaml
cat >>base.yaml <<EOF
  trustedCAs:
    certificates: [$ca/cacert.pem]
EOF
cp base.yaml spec.yaml
ec apply spec.yaml --auto-approve
expect_rc 0 "first apply"

serving_pem() {  # serving_pem NODE: the certificate NODE serves, PEM
  "$edgecert" status spec.yaml -o json --sim-dir "$sim" --state-dir "$state" 2>/dev/null |
    jq -r --arg n "$1" '.nodes[] | select(.name == $n) | .server_certificate.pem // empty'
}
serving_serial() { serving_pem "$1" | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2; }
serving_pem edge1 >edge1-serving.pem
serving_pem edge2 >edge2-serving.pem
serial1=$(serving_serial edge1)
serial2=$(serving_serial edge2)
[[ -n $serial1 && -n $serial2 ]] ||
  fail "status gives no serving certificates (edge1 '$serial1', edge2 '$serial2')"

openssl_ca_cnf "$ca" 7 >openssl.cnf
gencrl() {  # gencrl OUT [openssl ca options]: a PEM CRL of the test CA
  local out=$1
  shift
  openssl ca -config openssl.cnf -batch -gencrl -out "$out" "$@" >gencrl.log 2>&1 ||
    fail "openssl ca -gencrl failed: $(cat gencrl.log)"
}
# The CA revokes both serving certificates.
for n in edge1 edge2; do
  openssl ca -config openssl.cnf -batch -revoke "$n-serving.pem" -crl_reason keyCompromise \
    >revoke.log 2>&1 || fail "openssl ca -revoke of $n's certificate failed: $(cat revoke.log)"
done
gencrl crl.pem
openssl crl -in crl.pem -outform DER -out "$www/ca.der" || fail "openssl crl -outform DER failed"
cp crl.pem "$www/ca.pem"
cp crl.pem manual-crl.pem
(cd "$www" && zip -q ca.zip ca.der) || fail "zip failed"
gzip -c "$www/ca.der" >"$www/ca.gz" || fail "gzip failed"
[[ $(openssl crl -in "$www/ca.der" -inform DER -noout -text | grep -c "Serial Number") -eq 2 ]] ||
  fail "the CRL does not list two revoked serials"

# A stale CRL (nextUpdate passed) and a forged one: the same issuer name and
# AKI, signed by another key (what `openssl x509 -signkey` makes of the CA).
gencrl stale.pem -crl_lastupdate 20200101000000Z -crl_nextupdate 20200108000000Z
openssl crl -in stale.pem -outform DER -out "$www/stale.crl" || fail "stale CRL to DER failed"
mkdir -p forged/private forged/newcerts && touch forged/index.txt && echo 1000 >forged/crlnumber
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out forged/private/cakey.pem 2>/dev/null ||
  fail "openssl genpkey failed"
openssl x509 -in "$ca/cacert.pem" -signkey forged/private/cakey.pem -out forged/cacert.pem 2>/dev/null ||
  fail "openssl x509 -signkey failed"
sed "s#^dir = .*#dir = $work/forged#" openssl.cnf >forged.cnf
openssl ca -config forged.cnf -batch -gencrl -out forged.pem >gencrl.log 2>&1 ||
  fail "the forged CRL: $(cat gencrl.log)"
cp forged.pem "$www/forged.crl"
[[ $(openssl crl -in forged.pem -noout -issuer) == $(openssl crl -in crl.pem -noout -issuer) ]] ||
  fail "the forged CRL does not carry the CA's name"

# Bad inputs.
head -c 300 "$www/ca.der" >"$www/truncated.crl"
echo "these are not the CRLs you are looking for" >notes.txt
(zip -q "$www/garbage.zip" notes.txt) || fail "zip failed"
head -c 30000000 /dev/zero >zeros.der && (zip -q "$www/bomb.zip" zeros.der) && rm -f zeros.der ||
  fail "zip (bomb) failed"
head -c 20971520 /dev/urandom >"$www/big.crl" || fail "cannot write the 20 MB file"
printf '<!DOCTYPE html>\n<html><head><title>Not Found</title></head><body>gone</body></html>\n' \
  >"$www/error.crl"

# --- the servers ----------------------------------------------------------------
# HTTPS: a certificate for 127.0.0.1 from a web CA the system store does not know.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=CRL Test Web CA" -keyout web-ca.key -out web-ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=keyCertSign,cRLSign" \
  >/dev/null 2>&1 || fail "openssl req (web CA) failed"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout web.key -out web.csr >/dev/null 2>&1 || fail "openssl req (web server) failed"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >web.ext
openssl x509 -req -in web.csr -CA web-ca.pem -CAkey web-ca.key -CAcreateserial -days 2 \
  -extfile web.ext -out web.pem >/dev/null 2>&1 || fail "openssl x509 -req (web server) failed"

start_server() {  # start_server NAME [CERT KEY]: sets $port
  local name=$1
  shift
  python3 "$root/tests/scripts/crl_test_server.py" "$www" "$work/$name.port" "$@" \
    2>"$work/$name.log" &
  server_pids+=($!)
  for _ in $(seq 1 200); do
    [[ -s $work/$name.port ]] && break
    sleep 0.05
  done
  [[ -s $work/$name.port ]] || fail "the $name server did not start: $(cat "$work/$name.log")"
  port=$(cat "$work/$name.port")
}
start_server http
http=http://127.0.0.1:$port
start_server https web.pem web.key
https=https://127.0.0.1:$port

# spec_with FALLBACK URL... [-- extra crl keys]: base.yaml with these CRL sources.
spec_with() {
  local fallback=$1
  shift
  cp base.yaml spec.yaml
  {
    echo "  crl:"
    echo "    automaticUpdates:"
    echo "      enabled: true"
    echo "      distributionPoints:"
    while [[ $# -gt 0 && $1 != -- ]]; do
      echo "        - $1"
      shift
    done
    [[ ${1:-} == -- ]] && shift
    for line in "$@"; do echo "    $line"; done
    echo "  revocationChecking: {enabled: true, crl: true, cdpDownloads: true, fallback: $fallback}"
  } >>spec.yaml
}
nodes_digest() { find "$sim" -type f -name '*.json' | sort | xargs sha256sum; }

# --- (a) crl check, show --issuer ---------------------------------------------
spec_with treat-as-revoked "$http/ca.der" "$http/ca.pem" "$http/ca.zip" "$http/ca.gz" \
  "$https/ca.der" -- "caBundle: $work/web-ca.pem" "manualFile: $work/manual-crl.pem"
out=$("$edgecert" validate --strict spec.yaml 2>&1)
rc=$?
expect_rc 0 "(a) validate --strict"
ec crl check spec.yaml
expect_rc 0 "(a) crl check"
for want in "$http/ca.der" "$http/ca.zip" "$http/ca.gz" "$https/ca.der" "manual-crl.pem" \
  "DER" "PEM" "ZIP/DER" "GZIP/DER" "CRL Test CA" "revokes" "edge1" "edge2" "$serial1" \
  "$serial2"; do
  expect_out "$want" "(a) crl check"
done
out=$("$edgecert" crl check spec.yaml --output json --sim-dir "$sim" --state-dir "$state" 2>crl-check.err)
rc=$?
expect_rc 0 "(a) crl check --output json"
jq -e --arg u "$http/ca.zip" '.sources | length == 6 and any(.[]; .source == $u)' <<<"$out" \
  >/dev/null || fail "(a) crl check json: not six sources with $http/ca.zip: $out"
jq -e '[.sources[].crls[]] | length >= 6 and all(.[]; .entries == 2)' <<<"$out" >/dev/null ||
  fail "(a) crl check json: not every CRL with its two entries: $out"
jq -e '.revoked | length >= 2' <<<"$out" >/dev/null || fail "(a) crl check json: no revoked: $out"

out=$("$edgecert" show --issuer "$ca/cacert.pem" "$www/ca.der" 2>&1)
rc=$?
expect_rc 0 "(a) show --issuer"
expect_out "Signature: valid, signed by" "(a) show --issuer"
expect_out "X509v3 CRL Reason Code: keyCompromise" "(a) show --issuer"
expect_out "Checks: ok" "(a) show --issuer"
out=$("$edgecert" show --issuer "$ca/cacert.pem" "$www/forged.crl" "$www/stale.crl" 2>&1)
expect_out "[crl-forged]" "(a) show --issuer of a forged CRL"
expect_out "[crl-stale]" "(a) show --issuer of a stale CRL"
out=$("$edgecert" show "$www/stale.crl" 2>&1)
expect_out "Signature: not checked" "(a) show without --issuer"
expect_out "[crl-stale]" "(a) show without --issuer"

# --- (b) broken sources refuse plan and apply, nodes untouched -----------------
before=$(nodes_digest)
[[ -n $before ]] || fail "no simulator files under $sim"
refused() {  # refused WHAT SOURCE TEXT: plan and crl check exit 1 naming SOURCE
  local what=$1 source=$2 text=$3
  ec plan spec.yaml
  expect_rc 1 "(b) $what: plan"
  expect_out "$source" "(b) $what: plan"
  expect_out "$text" "(b) $what: plan"
  ec crl check spec.yaml
  expect_rc 1 "(b) $what: crl check"
  expect_out "$source" "(b) $what: crl check"
  [[ $(nodes_digest) == "$before" ]] || fail "(b) $what: the nodes changed"
}
spec_with treat-as-not-revoked "$http/stale.crl"
refused "stale CRL" "$http/stale.crl" "stale"
ec apply spec.yaml --auto-approve
expect_rc 1 "(b) stale CRL: apply"
expect_out "$http/stale.crl" "(b) stale CRL: apply"
[[ $(nodes_digest) == "$before" ]] || fail "(b) stale CRL: apply changed the nodes"

# WHAT|SOURCE|TEXT: bad under any fallback (the content, or TLS).
for row in "forged CRL|$http/forged.crl|signature" \
  "https without caBundle|$https/ca.der|certificate" \
  "truncated DER|$http/truncated.crl|truncated" \
  "garbage in a ZIP|$http/garbage.zip|notes.txt" \
  "ZIP bomb|$http/bomb.zip|archive" \
  "20 MB file|$http/big.crl|16777216" \
  "HTML page|$http/error.crl|HTML" \
  "redirect loop|$http/loop-a|redirect"; do
  IFS='|' read -r what url text <<<"$row"
  spec_with treat-as-not-revoked "$url"
  refused "$what" "$url" "$text"
done

dead=http://127.0.0.1:1/x.crl
spec_with treat-as-revoked "$dead"
refused "dead distribution point, treat-as-revoked" "$dead" "--allow-unreachable-crl"
ec apply spec.yaml --auto-approve
expect_rc 1 "(b) dead distribution point: apply"
[[ $(nodes_digest) == "$before" ]] || fail "(b) dead distribution point: apply changed the nodes"
ec plan spec.yaml --allow-unreachable-crl
expect_rc 0 "(b) dead distribution point with --allow-unreachable-crl"
expect_out "alarm 40006" "(b) dead distribution point with --allow-unreachable-crl"
expect_out "$dead" "(b) dead distribution point with --allow-unreachable-crl"
spec_with treat-as-not-revoked "$dead"
ec plan spec.yaml
expect_rc 0 "(b) dead distribution point, treat-as-not-revoked"
expect_out "alarm 40006" "(b) dead distribution point, treat-as-not-revoked"
expect_out "$dead" "(b) dead distribution point, treat-as-not-revoked"
ec status spec.yaml
expect_out "40006" "(b) status with a dead distribution point"
[[ $(nodes_digest) == "$before" ]] || fail "(b) the nodes changed"

# --- (c) the revocation acted on --------------------------------------------------
spec_with treat-as-revoked "$http/ca.zip" "$https/ca.der" -- "caBundle: $work/web-ca.pem" \
  "manualFile: $work/manual-crl.pem"
ec status spec.yaml
expect_rc 0 "(c) status"
expect_out "revoked by CA" "(c) status"
ec plan spec.yaml
expect_rc 0 "(c) plan"
for n in edge1 edge2; do expect_out "$n" "(c) plan"; done
expect_out "revoked by CA" "(c) plan"
expect_out "keyCompromise" "(c) plan"
expect_out "$serial1" "(c) plan"
ec apply spec.yaml --auto-approve
expect_rc 0 "(c) apply"
new1=$(serving_serial edge1)
new2=$(serving_serial edge2)
[[ $new1 != "$serial1" && $new2 != "$serial2" ]] ||
  fail "(c) apply did not reissue (edge1 $serial1 -> $new1, edge2 $serial2 -> $new2)"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(c) plan after apply (no changes)"
grep -q "GET /ca.zip" "$work/http.log" || fail "(c) the HTTP server never served ca.zip"
# --- (d) OCSP: a certificate naming a responder in its AIA ------------------------
# A second cluster whose certificates the same CA signs with `openssl ca`
# (external issuer), each naming an `openssl ocsp` responder; the CA revokes
# edge2's, and only the responder says so (no CRL in this spec).
ocsp_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ocsp=http://127.0.0.1:$ocsp_port
sed -e "s#issuer: {type: openssl-ca, directory: .*}#issuer: {type: external, requestsDir: $work/req, certificatesDir: $work/certs}#" \
  -e "s#^  name: quickstart#  name: ocsp#" base.yaml >ocsp.yaml
grep -q "type: external" ocsp.yaml || fail "(d) could not switch the spec to the external issuer"
{
  sed 's/^default_crl_days = 7$/default_crl_days = 7\ncopy_extensions = copy/' openssl.cnf
  # The whole subject the spec asks for (policy_anything keeps only the CN).
  printf 'countryName = optional\nstateOrProvinceName = optional\nlocalityName = optional\n'
  printf 'organizationName = optional\norganizationalUnitName = optional\n'
  printf '[ leaf ]\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\n'
  printf 'extendedKeyUsage = serverAuth, clientAuth\nauthorityInfoAccess = OCSP;URI:%s\n' "$ocsp"
} >ocsp-sign.cnf
oc() {  # oc ARGS...: edgecert on the OCSP cluster
  out=$("$edgecert" "$@" --sim-dir "$work/sim-ocsp" --state-dir "$work/state-ocsp" </dev/null 2>&1)
  rc=$?
}
oc apply ocsp.yaml --auto-approve
expect_rc 3 "(d) apply with the external issuer (waits for certificates)"
mkdir -p certs/ocsp
for n in edge1 edge2; do
  [[ -s req/ocsp/$n.csr ]] || fail "(d) no CSR for $n under req/ocsp"
  openssl ca -config ocsp-sign.cnf -batch -extensions leaf -days 200 -notext \
    -in "req/ocsp/$n.csr" -out "certs/ocsp/$n.pem" >sign.log 2>&1 ||
    fail "(d) openssl ca could not sign $n's CSR: $(cat sign.log)"
done
oc apply ocsp.yaml --auto-approve
expect_rc 0 "(d) apply with the signed certificates"
openssl ca -config openssl.cnf -batch -revoke certs/ocsp/edge2.pem -crl_reason superseded \
  >revoke.log 2>&1 || fail "(d) openssl ca -revoke failed: $(cat revoke.log)"
openssl ocsp -index "$ca/index.txt" -port "$ocsp_port" -rsigner "$ca/cacert.pem" \
  -rkey "$ca/private/cakey.pem" -CA "$ca/cacert.pem" -ignore_err >ocsp.log 2>&1 &
server_pids+=($!)
for _ in $(seq 1 100); do
  openssl ocsp -issuer "$ca/cacert.pem" -cert certs/ocsp/edge1.pem -url "$ocsp" \
    -CAfile "$ca/cacert.pem" >/dev/null 2>&1 && break
  sleep 0.1
done
oc plan ocsp.yaml
expect_rc 0 "(d) plan with an OCSP-revoked certificate"
expect_out "revoked by CA" "(d) plan"
expect_out "superseded" "(d) plan"
expect_out "per $ocsp" "(d) plan"
oc status ocsp.yaml
expect_out "edge2: serving certificate" "(d) status"
grep -q "^edge1: serving certificate" <<<"$out" && fail "(d) status says edge1 is revoked: $out"
echo "crl_test: ok"
