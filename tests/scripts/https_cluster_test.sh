#!/usr/bin/env bash
# A real-node rollout end to end (issue 11): the real edgecert against
# edgecert-sim serving three Expressway-E nodes exactly as a real X14.2+ node
# does (REST, XML status over HTTPS, the CLI over SSH), with certificate and
# host-key verification on, and the operator's manual steps played through
# `edgecert-sim ui` between runs.
#
# Usage: https_cluster_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; edgecert-sim is next to it; the working folder is the repository
# root).
#
#   (a) first contact: plan refuses the unpinned SSH host keys (exit 1,
#       naming --trust-new-host-key); status --trust-new-host-key pins them
#       (0600) and shows each node's product, release, uptime and its own
#       view of the cluster's peers;
#   (b) plan from factory state counts its manual steps; apply stops before
#       each manual step with exit 4, printing the node, the web UI page and
#       the values; the operator plays each step (`edgecert-sim ui`), steps a
#       node cannot show are confirmed with --confirm-manual; the last apply
#       exits 0: every node serves the new certificate, cluster TLS
#       verification is enforced (no alarm 40049), revocation checking was
#       set over SSH; plan then says "No changes." (--detailed-exitcode 0);
#   (c) a node that says it is an Expressway-C under an expressway-e spec,
#       a node on a release too old for an ECDSA key, a node whose own peer
#       list names another peer, a wrong password (HTTP 401): plan and apply
#       exit 1 naming the node (and feature and release; interface and
#       operation), nothing changed;
#   (d) a changed SSH host key is refused naming both fingerprints, even with
#       --trust-new-host-key;
#   (e) edgecert-sim recognised every request edgecert made.
set -uo pipefail

script=https_cluster_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"

sim_workdir edgecert-https-cluster

"$edgecert" ca init "$work/ca" --cn "Cluster Test CA" --key ecdsa:256 >ca-init.log 2>&1 ||
  fail "ca init failed: $(cat ca-init.log)"
echo "cluster-test-Pa55word" >password
chmod 600 password

args=()
for n in edge1 edge2 edge3; do
  args+=(--node "$n=127.0.0.1:0" --fqdn "$n=$n.example.com" --ssh "$n=127.0.0.1:0")
done
sim_start --state "$work/simstate" --password-file "$work/password" --restart-seconds 1 \
  --scheduler-interval 0 --cluster-name edge "${args[@]}"
peers=""
for n in edge1 edge2 edge3; do
  hp=$(sim_port $n)
  sp=$(sim_ssh_port $n)
  [[ -n $hp && -n $sp ]] || fail "no ports for $n in edgecert-sim's output: $(cat sim.out)"
  peers+="    - {name: $n, fqdn: $n.example.com, endpoint: \"https://127.0.0.1:$hp\", ssh: \"127.0.0.1:$sp\"}
"
done

# The management connection trusts the factory CAs and the issuer's CA.
for n in edge1 edge2 edge3; do
  jq -r '.factory_cas[]' "simstate/$n.json" >>bundle.pem || fail "no factory CAs for $n"
done
cat ca/cacert.pem >>bundle.pem

cat >spec.yaml <<EOF
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: edge
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  tlsVerification: enforce
  peers:
$peers  access: {username: admin, passwordFrom: "file:$work/password", caBundle: $work/bundle.pem}
  serverCertificate:
    key: {algorithm: ecdsa, size: 256}
    roles: [b2b]
    issuer: {type: openssl-ca, directory: $work/ca}
  crl:
    automaticUpdates:
      enabled: true
      distributionPoints: [http://crl.example.com/root.crl]
      dailyUpdateTime: "02:30"
  revocationChecking: {enabled: true, ocsp: true, crl: true, cdpDownloads: true, fallback: treat-as-not-revoked}
  rollout:
    healthTimeout: 1m
EOF

ec() {
  out=$("$edgecert" "$@" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}
ui() { # ui NODE COMMAND ARGS...: the operator at the node's web UI
  "$sim_bin" ui --state "$work/simstate" "$@" >>ui.log 2>&1 || fail "edgecert-sim ui $* failed: $(tail -3 ui.log)"
}
view() { # what the nodes hold, for "nothing changed" checks
  for n in edge1 edge2 edge3; do
    jq -S '{active: .active.chain, staged: .staged.chain, trusted_cas, tls_verification, crl, revocation, csr: (.csr != null)}' \
      "simstate/$n.json" 2>/dev/null || echo "$n: unreadable"
  done
}

echo "$script: ${SECONDS}s: (a)"
# --- (a) host keys -----------------------------------------------------------
ec plan spec.yaml
expect_rc 1 "(a) plan with unpinned host keys"
expect_out "--trust-new-host-key" "(a) plan"
expect_out "SHA256:" "(a) plan"
[[ ! -s .edgecert/known_hosts ]] || fail "(a) a host key was recorded without --trust-new-host-key"
ec status spec.yaml --trust-new-host-key
expect_rc 0 "(a) status --trust-new-host-key"
[[ $(wc -l <.edgecert/known_hosts) -eq 3 ]] || fail "(a) expected 3 pinned keys: $(cat .edgecert/known_hosts)"
[[ $(stat -c %a .edgecert/known_hosts) == 600 ]] || fail "(a) known_hosts is not 0600"
expect_out "edge1: Expressway-E, X14.3.1, up " "(a) status: what the node says it is"
expect_out "cluster 'edge' peers [edge1.example.com, edge2.example.com, edge3.example.com]" "(a) status"

echo "$script: ${SECONDS}s: (b)"
# --- (b) factory state to the spec, manual steps played ---------------------
ec plan spec.yaml
expect_rc 0 "(b) plan"
expect_out "manual step" "(b) plan"
expect_out "System > Clustering" "(b) plan"
grep -qE "[0-9]+ manual steps? on 3 nodes" <<<"$out" || fail "(b) the plan summary does not count manual steps on 3 nodes: $out"

played_tls=0
played_crl=0
played_rm=0
confirm=()
for round in 1 2 3 4 5 6 7 8; do
  ec apply spec.yaml --auto-approve "${confirm[@]}" --output json
  confirm=()
  echo "$out" >"apply-$round.json"
  [[ $rc -eq 0 ]] && break
  [[ $rc -eq 4 ]] || fail "(b) apply round $round: expected exit 0 or 4, got $rc: $out"
  jq -e 'select(.event == "result") | .status == "manual"' <<<"$out" >/dev/null ||
    fail "(b) round $round: exit 4 without a manual result event: $out"
  steps=$(jq -c 'select(.event == "manual")' <<<"$out")
  [[ -n $steps ]] || fail "(b) round $round: no manual event: $out"
  while read -r step; do
    node=$(jq -r .node <<<"$step")
    kind=$(jq -r .kind <<<"$step")
    instruction=$(jq -r .instruction <<<"$step")
    [[ $instruction == "$node: "* ]] || fail "(b) the instruction does not start with the node: $instruction"
    case $kind in
      set-tls-verification)
        if grep -q "Permissive" <<<"$instruction"; then ui "$node" set-tls permissive; else ui "$node" set-tls enforce; fi
        played_tls=$((played_tls + 1))
        ;;
      set-crl-settings)
        grep -qF "http://crl.example.com/root.crl" <<<"$instruction$(jq -r '.settings | tostring' <<<"$step")" ||
          fail "(b) the CRL instruction does not give the distribution point: $step"
        ui "$node" set-crl --auto on --url http://crl.example.com/root.crl --time 02:30
        played_crl=$((played_crl + 1))
        confirm=(--confirm-manual)
        ;;
      remove-manual-crl)
        # The spec has a crl section without manualFile: no manual CRL may
        # stay. The operator looks and removes one if there is one.
        "$sim_bin" ui --state "$work/simstate" "$node" remove-crl >>ui.log 2>&1
        played_rm=$((played_rm + 1))
        confirm=(--confirm-manual)
        ;;
      *) fail "(b) unexpected manual step $kind: $step" ;;
    esac
  done <<<"$steps"
done
[[ $rc -eq 0 ]] || fail "(b) apply did not finish after 8 rounds: $out"
[[ $played_tls -eq 6 ]] || fail "(b) expected 6 TLS steps (relax and restore on 3 nodes), played $played_tls"
[[ $played_crl -eq 3 ]] || fail "(b) expected 3 CRL steps, played $played_crl"
[[ $played_rm -eq 3 ]] || fail "(b) expected 3 manual-CRL removals, played $played_rm"
for n in edge1 edge2 edge3; do
  jq -e '.tls_verification == "enforce" or .tls_verification == null' "simstate/$n.json" >/dev/null ||
    fail "(b) $n: TLS verification not enforced: $(jq .tls_verification "simstate/$n.json")"
done
ec status spec.yaml -o json
expect_rc 0 "(b) status"
jq -e '[.nodes[] | .server_certificate.issuer_cn] | all(. == "Cluster Test CA")' <<<"$out" >/dev/null ||
  fail "(b) not every node serves the new certificate: $out"
! jq -e '[.nodes[].alarms[]? | .id] | any(. == "40049")' <<<"$out" >/dev/null ||
  fail "(b) alarm 40049 (cluster TLS permissive) is still raised: $out"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(b) plan after the rollout"
expect_out "No changes." "(b) plan after the rollout"

echo "$script: ${SECONDS}s: (c)"
# --- (c) wrong product, old release ------------------------------------------
before=$(view)
ui edge2 set-product expressway-c
ec plan spec.yaml
expect_rc 1 "(c) plan with an Expressway-C peer"
expect_out "edge2" "(c) plan"
expect_out "Expressway-C" "(c) plan"
ec apply spec.yaml --auto-approve
expect_rc 1 "(c) apply with an Expressway-C peer"
ui edge2 set-product expressway-e
ui edge3 set-software-version X14.2.1
ec plan spec.yaml
expect_rc 1 "(c) plan with a node on X14.2.1"
expect_out "edge3" "(c) plan, old release"
expect_out "X14.3" "(c) plan, old release"
expect_out "X14.2.1" "(c) plan, old release"
grep -qi "ecdsa" <<<"$out" || fail "(c) the old-release error does not name the feature (ECDSA): $out"
ec apply spec.yaml --auto-approve
expect_rc 1 "(c) apply with a node on X14.2.1"
ui edge3 set-software-version X14.3.1
# The node's own view of its cluster differs from the spec's peers.
ui edge3 set-peers edge1.example.com edge2.example.com edge9.example.com
ec plan spec.yaml
expect_rc 1 "(c) plan with a node that sees another cluster"
expect_out "edge3" "(c) plan, peer list"
expect_out "edge9.example.com" "(c) plan, peer list"
ui edge3 set-peers
# A wrong password: every node refuses; the error names node, interface and
# operation, never the password.
echo "not-the-Pa55word" >wrong
chmod 600 wrong
sed "s#file:$work/password#file:$work/wrong#" spec.yaml >wrong.yaml
ec plan wrong.yaml
expect_rc 1 "(c) plan with a wrong password"
expect_out "edge1: REST GET" "(c) wrong password"
expect_out "401" "(c) wrong password"
! grep -qF "not-the-Pa55word" <<<"$out" || fail "(c) the password was printed: $out"
ec apply wrong.yaml --auto-approve
expect_rc 1 "(c) apply with a wrong password"
[[ $(view) == "$before" ]] || fail "(c) a node changed although plan and apply refused"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(c) plan once the nodes are right again"

echo "$script: ${SECONDS}s: (d)"
# --- (d) a changed host key --------------------------------------------------
# edge1's pinned key becomes edge2's: to edgecert, edge1's key changed.
k1=$(sed -n 1p .edgecert/known_hosts | awk '{print $2, $3}')
k2=$(sed -n 2p .edgecert/known_hosts | awk '{print $2, $3}')
[[ -n $k1 && -n $k2 && $k1 != "$k2" ]] || fail "(d) unexpected known_hosts: $(cat .edgecert/known_hosts)"
cp .edgecert/known_hosts known_hosts.orig
awk -v k="$k2" 'NR == 1 { print $1, k; next } { print }' known_hosts.orig >.edgecert/known_hosts
chmod 600 .edgecert/known_hosts
ec plan spec.yaml --trust-new-host-key
expect_rc 1 "(d) plan with a changed host key"
grep -qi "changed" <<<"$out" || fail "(d) the error does not say the key changed: $out"
[[ $(grep -o "SHA256:[A-Za-z0-9+/=]*" <<<"$out" | sort -u | wc -l) -ge 2 ]] ||
  fail "(d) the error does not name both fingerprints: $out"
cmp -s .edgecert/known_hosts <(awk -v k="$k2" 'NR == 1 { print $1, k; next } { print }' known_hosts.orig) ||
  fail "(d) the pinned keys were changed by --trust-new-host-key"

echo "$script: ${SECONDS}s: (e)"
# --- (e) nothing edgecert asked was unknown to the node ----------------------
! grep -q "unrecognised" sim.err || fail "(e) edgecert-sim did not recognise: $(grep unrecognised sim.err | head -5)"
echo "$script: ok (${SECONDS}s)"
