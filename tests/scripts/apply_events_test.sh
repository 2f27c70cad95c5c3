#!/usr/bin/env bash
# apply's progress events and forced renewal end to end, with the real binary.
#
# Usage: apply_events_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# the working folder is the repository root).
#
# On a copy of examples/quickstart (2 peers; CA by `edgecert ca init`; sim
# nodes and run state in a temporary folder), edge2 restarting in 12 s:
#   (a) apply --auto-approve --output json: exit 0; every stdout line parses
#       with jq; run-start first, result (complete, exit_code 0) last, nodes
#       right before it; every action-start before its action-done; at least
#       one heartbeat for edge2/wait-healthy with elapsed and timeout;
#   (b) the real `openssl ca` revokes one of the two same-subject certificates
#       edgecert signed into the CA folder and publishes a CRL;
#   (c) apply --replace edge2: exit 0, only edge2 serves a new certificate
#       (one new serial in the CA), then plan shows "No changes" (exit 0 with
#       --detailed-exitcode);
#   (d) --replace edge9 and a mistyped command: exit 1 with the peers / the
#       nearest command named.
set -uo pipefail

script=apply_events_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
command -v openssl >/dev/null || fail "openssl is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/edgecert-apply-events.XXXXXX") || fail "mktemp failed"
trap '[[ -n ${KEEP:-} ]] || remove_work "$work"' EXIT
cd "$work" || fail "cannot enter $work"

cp "$root/examples/quickstart/cluster.yaml" spec.yaml || fail "cannot copy the quickstart spec"
"$edgecert" ca init "$work/ca" --cn "Apply Events Test CA" --key ecdsa:256 >ca-init.log 2>&1 ||
  fail "ca init failed: $(cat ca-init.log)"
sed -i "s#directory: ca/#directory: $work/ca#" spec.yaml
grep -q "directory: $work/ca" spec.yaml || fail "could not point the spec's issuer at $work/ca"

sim=$work/sim
state=$work/state
status_json() {
  "$edgecert" status spec.yaml -o json --sim-dir "$sim" 2>status.err ||
    fail "status failed: $(cat status.err)"
}
leaf_of() {  # leaf_of NODE: the SHA-256 of the certificate NODE serves
  status_json | jq -r --arg n "$1" '.nodes[] | select(.name == $n) | .server_certificate.sha256'
}

# Boot the simulated nodes, then make edge2's restarts take 12 s.
status_json >/dev/null
edge2_file=$(find "$sim" -name edge2.json | head -n 1)
[[ -f $edge2_file ]] || fail "no simulator file for edge2 under $sim"
jq '.faults.slow_restart_seconds = 12' "$edge2_file" >edge2.json.new &&
  mv edge2.json.new "$edge2_file" || fail "could not slow down edge2's restart"

# --- (a) apply --output json --------------------------------------------------
"$edgecert" apply spec.yaml --auto-approve --output json --sim-dir "$sim" --state-dir "$state" \
  </dev/null >events.jsonl 2>events.err
rc=$?
[[ $rc -eq 0 ]] || fail "(a) apply --output json: exit $rc; stderr: $(cat events.err); stdout:
$(cat events.jsonl)"
[[ -s events.jsonl ]] || fail "(a) no events on stdout"
n=0
while IFS= read -r line; do
  n=$((n + 1))
  jq -e 'type == "object" and has("event") and has("time")' <<<"$line" >/dev/null 2>&1 ||
    fail "(a) line $n is not a JSON event: $line"
done <events.jsonl
jq -s -e '.[0].event == "run-start" and .[0].cluster == "quickstart" and .[0].actions > 0' \
  events.jsonl >/dev/null || fail "(a) the first event is not run-start: $(head -n 1 events.jsonl)"
jq -s -e '.[-1].event == "result" and .[-1].status == "complete" and .[-1].exit_code == 0' \
  events.jsonl >/dev/null || fail "(a) the last event is not a complete result: $(tail -n 1 events.jsonl)"
jq -s -e '.[-2].event == "nodes" and (.[-2].nodes | map(.node)) == ["edge1", "edge2"]' \
  events.jsonl >/dev/null || fail "(a) no nodes event before the result"
# Every action: start, then done. generate-csr / sign-csr run concurrently (a
# wave's starts first, then its outcomes in the same order); every other
# action runs alone, never interleaved with another.
order=$(jq -s -r '
  reduce (.[] | select(.event | test("^action-"))) as $e ({open: [], ok: true, n: 0};
    if $e.event == "action-start" then
      (if (.open | length) == 0 or ($e.kind == "generate-csr" or $e.kind == "sign-csr")
       then .open += [$e.action] else .ok = false end) | .n += 1
    else
      (if (.open | length) > 0 and .open[0] == $e.action then .open = .open[1:]
       else .ok = false end)
    end)
  | "\(.ok and (.open | length) == 0) \(.n)"' events.jsonl)
[[ $order == "true "* ]] || fail "(a) action events out of order ($order):
$(cat events.jsonl)"
[[ ${order#true } -eq $(jq -s '.[0].actions' events.jsonl) ]] ||
  fail "(a) not every action of the plan started ($order)"
jq -s -e 'any(.[]; .event == "heartbeat" and .action == "edge2/wait-healthy" and .node == "edge2"
             and .elapsed_ms >= 10000 and .timeout_ms == 120000
             and (.waiting_for | test("come back")))' events.jsonl >/dev/null ||
  fail "(a) no heartbeat during edge2's 12 s restart:
$(cat events.jsonl)"
# Heartbeats belong to the action running at the time.
jq -s -e '[foreach .[] as $e (null;
             if $e.event == "action-start" then $e.action elif $e.event == "action-done" then null
             else . end;
             select($e.event == "heartbeat") | $e.action == .)] | all' events.jsonl >/dev/null ||
  fail "(a) a heartbeat outside its action"

# --- (b) the real openssl ca on the folder edgecert signed into ----------------
[[ $(grep -c 'CN=edge.example.com' ca/index.txt) -eq 2 ]] ||
  fail "(b) expected two same-subject certificates in index.txt: $(cat ca/index.txt)"
openssl_ca_cnf "$work/ca" 30 >openssl.cnf
first_serial=$(cut -f4 ca/index.txt | head -n 1)
openssl ca -config openssl.cnf -revoke "ca/newcerts/$first_serial.pem" -crl_reason superseded \
  >revoke.log 2>&1 || fail "(b) openssl ca -revoke failed: $(cat revoke.log)"
openssl ca -config openssl.cnf -gencrl -out ca/crl.pem >gencrl.log 2>&1 ||
  fail "(b) openssl ca -gencrl failed: $(cat gencrl.log)"
openssl crl -in ca/crl.pem -noout -text | grep -q "Serial Number: $first_serial" ||
  fail "(b) the CRL does not list serial $first_serial"

# --- (c) apply --replace edge2 ------------------------------------------------
jq '.faults.slow_restart_seconds = 0' "$edge2_file" >edge2.json.new && mv edge2.json.new "$edge2_file"
edge1_before=$(leaf_of edge1)
edge2_before=$(leaf_of edge2)
[[ -n $edge1_before && $edge1_before != null ]] || fail "(c) edge1 serves no certificate"
signed_before=$(wc -l <ca/index.txt)
out=$("$edgecert" plan spec.yaml --replace edge2 --sim-dir "$sim" --state-dir "$state" 2>&1)
grep -qF "replacement requested with --replace" <<<"$out" ||
  fail "(c) the plan does not say why edge2 is reissued: $out"
out=$("$edgecert" apply spec.yaml --replace edge2 --auto-approve --sim-dir "$sim" \
  --state-dir "$state" </dev/null 2>&1)
rc=$?
[[ $rc -eq 0 ]] || fail "(c) apply --replace edge2: exit $rc: $out"
[[ $(leaf_of edge1) == "$edge1_before" ]] || fail "(c) edge1's certificate changed"
[[ $(leaf_of edge2) != "$edge2_before" ]] || fail "(c) edge2 still serves its old certificate"
[[ $(wc -l <ca/index.txt) -eq $((signed_before + 1)) ]] ||
  fail "(c) expected exactly one new serial in the CA: $(cat ca/index.txt)"
out=$("$edgecert" plan spec.yaml --detailed-exitcode --sim-dir "$sim" --state-dir "$state" 2>&1)
rc=$?
[[ $rc -eq 0 ]] || fail "(c) plan after the replacement: exit $rc: $out"
grep -qF "No changes" <<<"$out" || fail "(c) plan after the replacement: $out"

# --- (d) wrong names ----------------------------------------------------------
out=$("$edgecert" apply spec.yaml --replace edge9 --auto-approve --sim-dir "$sim" \
  --state-dir "$state" </dev/null 2>&1)
rc=$?
[[ $rc -eq 1 ]] || fail "(d) --replace edge9: expected exit 1, got $rc: $out"
grep -qF "'edge9' is not a peer of quickstart (peers: edge1, edge2)" <<<"$out" ||
  fail "(d) --replace edge9 does not name the peers: $out"
out=$("$edgecert" aply spec.yaml 2>&1)
rc=$?
[[ $rc -eq 1 ]] || fail "(d) 'aply': expected exit 1, got $rc"
grep -qF "edgecert: unknown command 'aply'. Did you mean 'apply'?" <<<"$out" ||
  fail "(d) 'aply' does not suggest apply: $out"

echo "apply_events_test: ok"
