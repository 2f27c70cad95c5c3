#!/usr/bin/env bash
# `edgecert probe` end to end: the real edgecert against a real edgecert-sim
# serving two nodes over HTTPS (REST + XML) and SSH (the CLI).
#
# Usage: probe_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# edgecert-sim is next to it; the working folder is the repository root).
#
#   (a) first contact without a pinned host key: exit 1, SSH refused naming
#       the key's SHA256 fingerprint (the one ssh-keygen shows for the
#       node's host key file) and --trust-new-host-key; REST and XML still
#       answered; nothing recorded;
#   (b) --trust-new-host-key records both keys (0600) and the probe answers
#       on every interface: product, version, the cluster peers, the manual
#       steps; a second run without the flag passes on the pins;
#   (c) --output json parsed with jq (an Expressway-C peer: no ACME);
#   (d) a changed host key is refused, naming both fingerprints, even with
#       --trust-new-host-key;
#   (e) a wrong password: every interface fails naming interface and
#       operation, the password never printed;
#   (f) endpoints on the command line: the certificate names no 127.0.0.1
#       (TLS verification fails on REST and XML), --insecure is warned;
#   (g) no node file changed, and edgecert-sim recognised every request.
set -uo pipefail

script=probe_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
command -v ssh-keygen >/dev/null || fail "ssh-keygen is not installed (openssh-client)"

sim_workdir edgecert-probe

password="probe-test-Pa55word"
echo "$password" >password
echo "not-the-password" >wrong
chmod 600 password wrong

sim_start --state "$work/simstate" --password-file "$work/password" --scheduler-interval 0 \
  --cluster-name edge \
  --node edge1=127.0.0.1:0 --fqdn edge1=edge1.example.com --ssh edge1=127.0.0.1:0 \
  --software-version edge1=X15.0.2 \
  --node edge2=127.0.0.1:0 --fqdn edge2=edge2.example.com --ssh edge2=127.0.0.1:0 \
  --product edge2=expressway-c --software-version edge2=X14.3.1
p1=$(sim_port edge1)
p2=$(sim_port edge2)
s1=$(sim_ssh_port edge1)
s2=$(sim_ssh_port edge2)
[[ -n $p1 && -n $p2 && -n $s1 && -n $s2 ]] || fail "no ports in edgecert-sim's output: $(cat sim.out)"

# The management trust an operator starts with: the nodes' factory CAs.
for n in edge1 edge2; do
  jq -r '.factory_cas[]' "simstate/$n.json" >>bundle.pem || fail "no factory CAs for $n"
done
[[ -s bundle.pem ]] || fail "empty factory CA bundle"
fp1=$(ssh-keygen -l -E sha256 -f simstate/edge1.ssh_host_key | awk '{print $2}')
[[ $fp1 == SHA256:* ]] || fail "no fingerprint for edge1's host key: $fp1"

cat >spec.yaml <<EOF
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: probe
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  peers:
    - {name: edge1, fqdn: edge1.example.com, endpoint: "https://127.0.0.1:$p1", ssh: "127.0.0.1:$s1"}
    - {name: edge2, fqdn: edge2.example.com, endpoint: "https://127.0.0.1:$p2"}
  access: {username: admin, passwordFrom: "file:$work/password", caBundle: $work/bundle.pem}
  serverCertificate:
    issuer: {type: openssl-ca, directory: $work/ca}
EOF
known=$work/.edgecert/known_hosts
# edge1's SSH address comes from the spec (peers[].ssh), edge2's from --ssh.
ssh_opts=(--ssh "edge2=127.0.0.1:$s2")

ec() {
  out=$("$edgecert" "$@" </dev/null 2>err.txt)
  rc=$?
  err=$(cat err.txt)
}
expect_rc() {
  [[ $rc -eq $1 ]] || fail "$2: expected exit $1, got $rc; output:
$out
$err"
}
expect() {
  grep -qF -- "$1" <<<"$out$err" || fail "$2: output does not mention '$1'; output:
$out
$err"
}
no_secret() {
  ! grep -qF -- "$password" <<<"$out$err" || fail "$1: the password was printed"
  ! grep -qF -- "not-the-password" <<<"$out$err" || fail "$1: the wrong password was printed"
}

# What the nodes hold before any probe (the probe must not change it).
before=$(cd simstate && sha256sum edge1.json edge2.json)

# --- (a) first contact: refused with the fingerprint ---------------------------
ec probe --spec spec.yaml "${ssh_opts[@]}"
expect_rc 1 "(a)"
expect "edge1: SSH login (open the CLI session): SSH admin@127.0.0.1:$s1: host key $fp1 is not pinned in .edgecert/known_hosts" "(a)"
expect "--trust-new-host-key" "(a)"
expect "interfaces   REST answered, XML answered, SSH FAILED" "(a)"
expect "2 of 2 node(s) did not answer on every allowed interface" "(a)"
[[ ! -e $known ]] || fail "(a) a host key was recorded without --trust-new-host-key"
no_secret "(a)"

# --- (b) --trust-new-host-key records the keys --------------------------------
ec probe --spec spec.yaml "${ssh_opts[@]}" --trust-new-host-key
expect_rc 0 "(b)"
[[ $(grep -c . "$known") -eq 2 ]] || fail "(b) expected 2 pinned keys in $known: $(cat "$known")"
grep -q "^\[127.0.0.1\]:$s1 " "$known" || fail "(b) no entry for [127.0.0.1]:$s1: $(cat "$known")"
[[ $(stat -c %a "$known") == 600 ]] || fail "(b) $known is not 0600"
expect "product      Expressway-E (TANDBERG VCS), version X15.0.2" "(b)"
expect "product      Expressway-C (TANDBERG VCS), version X14.3.1" "(b)"
expect "cluster      \"edge\": edge1.example.com, edge2.example.com" "(b)"
expect "interfaces   REST answered, XML answered, SSH answered" "(b)"
expect "serves CN=edge1.example.com" "(b)"
expect "manual         -    set the cluster TLS verification mode" "(b)"
expect "automated      SSH  read and set SIP TLS certificate revocation checking" "(b)"
expect "note: the spec says product expressway-e, but this node is an Expressway-C" "(b)"
no_secret "(b)"
ec probe --spec spec.yaml "${ssh_opts[@]}"
expect_rc 0 "(b) second run on the pins"

# --- (c) JSON --------------------------------------------------------------
ec probe --spec spec.yaml "${ssh_opts[@]}" --output json
expect_rc 0 "(c)"
jq -e '.answered == true and (.nodes | length) == 2' <<<"$out" >/dev/null ||
  fail "(c) unexpected JSON: $out"
jq -e '.nodes[0] | .name == "edge1" and .product == "Expressway-E" and .version == "X15.0.2"
         and (.uptime_seconds | type) == "number"
         and .cluster.peers == ["edge1.example.com", "edge2.example.com"]
         and (.alarms | type) == "array"
         and .raml.served == true and (.raml.paths | all(.))
         and ([.interfaces[] | .answered] | all)
         and (.interfaces.cli.calls | index("xStatus SystemUnit")) != null
         and ([.operations[] | select(.id == "set-tls-verification")][0].mode == "manual")
         and ([.operations[] | select(.id == "generate-csr")][0] | .mode == "automated" and .interface == "rest")
         and ([.operations[] | select(.id == "acme-sign")][0].interface == "cli")' <<<"$out" >/dev/null ||
  fail "(c) edge1 not as expected: $(jq '.nodes[0]' <<<"$out")"
jq -e '.nodes[1] | .product == "Expressway-C" and .acme_managed == null
         and ([.operations[] | select(.id | startswith("acme-"))] | all(.mode == "not-applicable"))
         and (.interfaces.cli.calls | index("xCommand ACME Settings Read")) == null' <<<"$out" >/dev/null ||
  fail "(c) edge2 (Expressway-C) not as expected: $(jq '.nodes[1]' <<<"$out")"

# --- (d) a changed host key -------------------------------------------------
ssh-keygen -q -t ed25519 -N "" -f other_key || fail "(d) ssh-keygen failed"
fp_other=$(ssh-keygen -l -E sha256 -f other_key | awk '{print $2}')
cp "$known" known.orig
grep -v "^\[127.0.0.1\]:$s1 " "$known" >known.tmp
echo "[127.0.0.1]:$s1 $(cut -d' ' -f1,2 other_key.pub)" >>known.tmp
cp known.tmp "$known"
ec probe --spec spec.yaml "${ssh_opts[@]}" --trust-new-host-key
expect_rc 1 "(d)"
expect "HOST KEY CHANGED" "(d)"
expect "$fp_other" "(d)"
expect "$fp1" "(d)"
expect "edge1: SSH login (open the CLI session)" "(d)"
grep -qF "$(cut -d' ' -f2 other_key.pub)" "$known" || fail "(d) the pinned key was replaced"
cp known.orig "$known"

# --- (e) a wrong password --------------------------------------------------
ec probe https://127.0.0.1:"$p1" --ssh 127.0.0.1:"$s1" --username admin \
  --password-from "file:$work/wrong" --insecure --known-hosts "$work/kh2" --trust-new-host-key
expect_rc 1 "(e)"
expect "REST GET /api/provisioning/certs/server (read server certificate): HTTP 401 Unauthorized" "(e)"
expect "XML /getxml?location=/Status/SystemUnit (read product and version): HTTP 401 Unauthorized" "(e)"
expect "SSH login (open the CLI session): SSH admin@127.0.0.1:$s1: login refused" "(e)"
no_secret "(e)"

# --- (f) endpoints on the command line: TLS name checked, --insecure warned --
ec probe https://127.0.0.1:"$p1" --ssh 127.0.0.1:"$s1" --username admin \
  --password-from "file:$work/password" --ca-bundle bundle.pem --interfaces rest,xml
expect_rc 1 "(f)"
expect "REST GET /api/provisioning/certs/server (read server certificate): TLS verification failed" "(f)"
expect "interfaces   REST FAILED, XML FAILED, SSH not allowed" "(f)"
ec probe https://127.0.0.1:"$p1" --ssh 127.0.0.1:"$s1" --username admin \
  --password-from "file:$work/password" --insecure --known-hosts "$known" -o json
expect_rc 0 "(f) --insecure"
grep -qF "warning: --insecure" err.txt || fail "(f) --insecure was not warned: $err"
jq -e '.nodes[0].name == "127.0.0.1:'"$p1"'" and .answered' <<<"$out" >/dev/null ||
  fail "(f) unexpected JSON: $out"

# --- (g) nothing on the nodes changed, nothing unrecognised -----------------
after=$(cd simstate && sha256sum edge1.json edge2.json)
[[ $before == "$after" ]] || fail "(g) probing changed a node file:
$before
$after"
! grep -q "unrecognised" sim.err || fail "(g) edgecert-sim saw requests it does not recognise:
$(grep unrecognised sim.err)"

echo "probe_test: OK"
