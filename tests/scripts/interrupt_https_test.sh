#!/usr/bin/env bash
# Ctrl-C and SIGTERM over https://, end to end: the real edgecert against
# edgecert-sim (two nodes speaking REST, XML status and the CLI over SSH like
# a real Expressway, 2 s restarts). Cluster TLS verification has no API on a
# real node: the operator plays those manual steps (`edgecert-sim ui`) when
# apply stops for them (exit 4).
#
# Usage: interrupt_https_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; edgecert-sim is next to it; the working folder is the repository
# root).
#
#   (a) SIGINT while edge1 restarts on a fresh cluster (TLS relaxed by the
#       operator when apply asked): exit 130, every node's state printed, the
#       lock released, TLS verification left permissive and said so naming
#       edge2 (still on its factory certificate); once edge1 is back, status
#       says "cluster TLS verification relaxed since ... by run ID"; the next
#       applies finish the rollout (the restore is a manual step) and plan is
#       then 0;
#   (b) SIGTERM while edge1 waits to come back in a restart-only rollout:
#       exit 143, the lock released, every node's state printed, and the
#       report either gives the web UI instruction to restore TLS
#       verification or says it was left as it is; the next applies then
#       finish and plan is 0.
# Synchronisation is by polling files and output lines.
set -uo pipefail

script=interrupt_https_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"

work=$(mktemp -d "${TMPDIR:-/tmp}/edgecert-interrupt-https.XXXXXX") || fail "mktemp failed"
sim_pid=
apply_pid=
cleanup() {
  [[ -n $apply_pid ]] && kill -9 "$apply_pid" 2>/dev/null
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null
    wait "$sim_pid" 2>/dev/null
  fi
  remove_work "$work"
}
trap cleanup EXIT
cd "$work" || fail "cannot enter $work"

"$edgecert" ca init "$work/ca" --cn "Interrupt HTTPS CA" --key ecdsa:256 >ca-init.log 2>&1 ||
  fail "ca init failed: $(cat ca-init.log)"
echo "interrupt-https-password" >password
chmod 600 password

sim_start --state "$work/simstate" --password-file "$work/password" --restart-seconds 2 \
  --scheduler-interval 0 \
  --node edge1=127.0.0.1:0 --fqdn edge1=edge1.example.com --ssh edge1=127.0.0.1:0 \
  --node edge2=127.0.0.1:0 --fqdn edge2=edge2.example.com --ssh edge2=127.0.0.1:0
p1=$(sim_port edge1)
p2=$(sim_port edge2)
s1=$(sim_ssh_port edge1)
s2=$(sim_ssh_port edge2)
[[ -n $p1 && -n $p2 && -n $s1 && -n $s2 ]] || fail "no ports in edgecert-sim's output: $(cat sim.out)"

# The management connection trusts the factory CAs and the issuer's CA (no
# self-lockout: https_lockout_test.sh).
for n in edge1 edge2; do
  jq -r '.factory_cas[]' "simstate/$n.json" >>bundle.pem || fail "no factory CAs for $n"
done
cat ca/cacert.pem >>bundle.pem

cat >spec.yaml <<EOF
apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: interrupt
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  tlsVerification: enforce
  peers:
    - {name: edge1, fqdn: edge1.example.com, endpoint: "https://127.0.0.1:$p1", ssh: "127.0.0.1:$s1"}
    - {name: edge2, fqdn: edge2.example.com, endpoint: "https://127.0.0.1:$p2", ssh: "127.0.0.1:$s2"}
  access: {username: admin, passwordFrom: "file:$work/password", caBundle: $work/bundle.pem}
  serverCertificate:
    key: {algorithm: ecdsa, size: 256}
    roles: [b2b]
    issuer: {type: openssl-ca, directory: $work/ca}
  rollout:
    healthTimeout: 1m
EOF
# The run state resolves next to the spec.
state=$work/.edgecert/state/interrupt
"$edgecert" status spec.yaml --trust-new-host-key >pin.log 2>&1 ||
  fail "could not pin the nodes' SSH host keys: $(cat pin.log)"

ec() {
  out=$("$edgecert" "$@" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}
wait_for_seconds=60 # wait_for (quickstart_lib.sh) polls up to 60 s here
journal_from=1 # journal_has looks at the journal from this line on
journal_has() { # journal_has EVENT ACTION
  [[ -f $state/journal.jsonl ]] &&
    tail -n "+$journal_from" "$state/journal.jsonl" |
    grep -q "\"action\":\"$2\".*\"event\":\"$1\"\|\"event\":\"$1\".*\"action\":\"$2\""
}
status_ok() { "$edgecert" status spec.yaml >/dev/null 2>&1; }
tls_modes() {
  "$edgecert" status spec.yaml -o json 2>/dev/null |
    jq -r '[.nodes[] | "\(.name)=\(.tls_verification)"] | join(" ")'
}
no_lock() { [[ ! -e $state/lock.json ]] || fail "$1: the lock was left behind: $(cat "$state/lock.json")"; }
start_apply() { # start_apply LOG [APPLY ARGS...]
  local log=$1
  shift
  "$edgecert" apply spec.yaml --auto-approve "$@" </dev/null >"$log" 2>&1 &
  apply_pid=$!
}
# play_manual_steps: the operator sets each node's cluster TLS verification mode
# as the last apply's manual steps (exit 4) said, from its JSON events in $out.
play_manual_steps() {
  local step node
  while read -r step; do
    [[ -n $step ]] || continue
    node=$(jq -r .node <<<"$step")
    case $(jq -r .kind <<<"$step") in
      set-tls-verification)
        if jq -r .instruction <<<"$step" | grep -q Permissive; then cmd=(set-tls permissive); else cmd=(set-tls enforce); fi ;;
      discard-csr) cmd=(discard-csr) ;;
      *) fail "unexpected manual step: $step" ;;
    esac
    "$sim_bin" ui --state "$work/simstate" "$node" "${cmd[@]}" >>ui.log 2>&1 ||
      fail "edgecert-sim ui $node ${cmd[*]} failed: $(tail -2 ui.log)"
  done < <(jq -c 'select(.event == "manual")' <<<"$out")
}
# relax_first: apply stops before relaxing TLS verification (exit 4); the
# operator relaxes it on every node.
relax_first() { # relax_first WHAT [APPLY ARGS...]
  local what=$1
  shift
  ec apply spec.yaml --auto-approve --output json "$@"
  expect_rc 4 "$what: apply before the relax"
  play_manual_steps
}
# apply_to_the_end WHAT: applies, playing the manual TLS steps, until exit 0.
apply_to_the_end() {
  for _ in 1 2 3 4; do
    ec apply spec.yaml --auto-approve --output json
    [[ $rc -eq 0 ]] && return 0
    [[ $rc -eq 4 ]] || fail "$1: expected exit 0 or 4, got $rc: $out"
    play_manual_steps
  done
  fail "$1: apply did not finish: $out"
}
finish_apply() {
  wait "$apply_pid"
  rc=$?
  apply_pid=
}

echo "$script: ${SECONDS}s: (a)"
# --- (a) SIGINT while edge1 restarts ----------------------------------------
relax_first "(a)"
start_apply a.log
wait_for "edge1's restart to start" journal_has action-start edge1/restart
kill -INT "$apply_pid"
finish_apply
out=$(cat a.log)
expect_rc 130 "(a) apply after SIGINT"
expect_out "interrupt received" "(a)"
expect_out "apply interrupted" "(a)"
expect_out "edge1: " "(a) node report"
expect_out "edge2: " "(a) node report"
expect_out "cluster TLS verification was left as it is" "(a)"
grep "left as it is" <<<"$out" | grep -q "edge2" || fail "(a) the report does not name edge2: $out"
no_lock "(a)"
! journal_has action-start edge2/restart || fail "(a) edge2 was restarted after the interrupt"
wait_for "every node to answer (a)" status_ok
ec status spec.yaml
expect_rc 0 "(a) status"
expect_out "permissive" "(a) status"
expect_out "cluster TLS verification relaxed since" "(a) status"
run_id=$(jq -r 'select(.event == "run-start") | .run' "$state/journal.jsonl" | tail -1)
expect_out "by run $run_id" "(a) status"
apply_to_the_end "(a) after the interrupt"
no_lock "(a) resumed"
[[ $(tls_modes) == "edge1=enforce edge2=enforce" ]] || fail "(a) TLS modes after the resume: $(tls_modes)"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(a) plan after the resumed apply"

echo "$script: ${SECONDS}s: (b)"
# --- (b) SIGTERM while edge1 is down in a forced renewal ------------------
# apply --replace reissues both certificates although they match the spec.
relax_first "(b)" --replace edge1 --replace edge2
journal_from=$(($(wc -l <"$state/journal.jsonl") + 1))
start_apply b.log --replace edge1 --replace edge2
wait_for "edge1's health wait to start (b)" journal_has action-start edge1/wait-healthy
kill -TERM "$apply_pid"
finish_apply
out=$(cat b.log)
expect_rc 143 "(b) apply after SIGTERM"
expect_out "edge1: " "(b) node report"
expect_out "edge2: " "(b) node report"
no_lock "(b)"
! journal_has action-start edge2/restart || fail "(b) edge2 was restarted after the signal"
# Restoring is a manual step on these nodes: the report gives the web UI
# instruction (every node valid) or says TLS was left relaxed.
grep -qF "left as it is" <<<"$out" || expect_out "System > Clustering" "(b) restore instruction"
wait_for "every node to answer (b, resume)" status_ok
apply_to_the_end "(b) after SIGTERM"
no_lock "(b) resumed"
[[ $(tls_modes) == "edge1=enforce edge2=enforce" ]] || fail "(b) TLS modes after the resume: $(tls_modes)"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(b) plan after the resumed apply"
! grep -q "unrecognised" sim.err || fail "edgecert-sim did not recognise: $(grep unrecognised sim.err | head -5)"
echo "$script: ok (${SECONDS}s)"
