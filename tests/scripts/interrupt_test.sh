#!/usr/bin/env bash
# Interruptions and the cluster lock, end to end with the real binary.
#
# Usage: interrupt_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# the working folder is the repository root).
#
# On copies of examples/quickstart (two sim:// peers whose restart takes
# $restart_s real seconds; run state in .edgecert/state next to the spec):
#   (a) SIGINT during edge1's restart on a fresh cluster: exit 130, no lock,
#       every node's state printed, TLS verification left permissive and said
#       so (edge2 still has its factory certificate); status shows every node,
#       its TLS mode and "relaxed since ... by run ..."; the next apply resumes
#       and `plan --detailed-exitcode` is 0;
#   (b) SIGTERM during a restart-only rollout, after edge1's: exit 143, TLS
#       verification restored to enforce (every node serves a valid
#       certificate; or, if edge2 was caught restarting, said so), no lock;
#   (c) two signals: exit at once (130/143), the journal still reads, the lock
#       stays and names a holder that is no longer running; force-unlock
#       --force, then apply resumes and plan is 0;
#   (d) two applies of one cluster from two working folders: the second is
#       refused naming the holder; with --lock-timeout it waits (saying who
#       holds the lock), then finds nothing to do;
#   (e) force-unlock without --force and without a terminal: exit 1, lock kept;
#   (f) plan and status while an apply holds the lock name the holder.
# Synchronisation is by polling files and output lines, never by sleeping.
set -uo pipefail

script=interrupt_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"

pids_workdir edgecert-interrupt

restart_s=1

"$edgecert" ca init "$work/ca" --cn "Interrupt Test CA" --key ecdsa:256 >"$work/ca-init.log" 2>&1 ||
  fail "ca init failed: $(cat "$work/ca-init.log")"

# new_cluster DIR: a copy of the quickstart spec in DIR with its own sim nodes
# (restart time $restart_s s). Sets $spec, $sim, $state.
new_cluster() {
  mkdir -p "$1" || fail "mkdir $1"
  spec=$1/spec.yaml
  sim=$1/sim
  state=$1/.edgecert/state/quickstart
  cp "$root/examples/quickstart/cluster.yaml" "$spec" || fail "cannot copy the quickstart spec"
  sed -i "s#directory: ca/#directory: $work/ca#" "$spec"
  grep -q "directory: $work/ca" "$spec" || fail "could not point the spec's issuer at $work/ca"
  "$edgecert" status "$spec" --sim-dir "$sim" >/dev/null 2>&1 # boots the nodes
  set_restart_seconds "$sim" "$restart_s"
}

# ec ARGS...: edgecert with the current cluster's sim folder (not the
# library's: the state stays next to each spec here); sets $out, $rc.
ec() {
  out=$("$edgecert" "$@" --sim-dir "$sim" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}
# expect_rc and expect_out come from quickstart_lib.sh.
# wait_for comes from quickstart_lib.sh (30 s).
journal_has() { # journal_has EVENT ACTION
  [[ -f $state/journal.jsonl ]] &&
    grep -q "\"action\":\"$2\".*\"event\":\"$1\"\|\"event\":\"$1\".*\"action\":\"$2\"" \
      "$state/journal.jsonl"
}
status_ok() { "$edgecert" status "$spec" --sim-dir "$sim" >/dev/null 2>&1; }
log_has() { grep -qF -- "$2" "$1" 2>/dev/null; }
# start_apply LOG ARGS...: apply in the background; sets $apply_pid.
start_apply() {
  local log=$1
  shift
  "$edgecert" apply "$spec" --auto-approve --sim-dir "$sim" "$@" </dev/null >"$log" 2>&1 &
  apply_pid=$!
  bg_pids+=("$apply_pid")
}
finish_apply() { # finish_apply: waits for $apply_pid; sets $rc
  wait "$apply_pid"
  rc=$?
}
tls_modes() { # the TLS modes of the nodes, "edge1=enforce edge2=..."
  "$edgecert" status "$spec" -o json --sim-dir "$sim" 2>/dev/null |
    jq -r '[.nodes[] | "\(.name)=\(.tls_verification)"] | join(" ")'
}
no_lock() { [[ ! -e $state/lock.json ]] || fail "$1: the lock was left behind: $(cat "$state/lock.json")"; }

echo "interrupt_test: ${SECONDS}s: (a)"
# --- (a) SIGINT during a restart --------------------------------------------
new_cluster "$work/a"
start_apply "$work/a.log"
wait_for "edge1's restart to start" journal_has action-start edge1/restart
kill -INT "$apply_pid"
finish_apply
out=$(cat "$work/a.log")
expect_rc 130 "(a) apply after SIGINT"
expect_out "interrupt received" "(a)"
expect_out "apply interrupted" "(a)"
expect_out "edge1: " "(a) node report"
expect_out "edge2: " "(a) node report"
expect_out "TLS verification" "(a) node report"
expect_out "cluster TLS verification was left as it is" "(a)"
grep "left as it is" <<<"$out" | grep -q "edge2" || fail "(a) the report does not name edge2: $out"
no_lock "(a)"
grep -q '"event":"run-end".*"message":"interrupted"\|"message":"interrupted".*"event":"run-end"' \
  "$state/journal.jsonl" || fail "(a) the journal does not end the run as interrupted"
! journal_has action-start edge2/restart || fail "(a) edge2 was restarted after the interrupt"
# edge1 may have been caught in its restart: status shows every node once it
# is back.
wait_for "every node to answer (a)" status_ok
ec status "$spec"
expect_rc 0 "(a) status"
expect_out "edge1" "(a) status"
expect_out "edge2" "(a) status"
expect_out "permissive" "(a) status"
expect_out "cluster TLS verification relaxed since" "(a) status"
run_id=$(jq -r 'select(.event == "run-start") | .run' "$state/journal.jsonl" | tail -1)
expect_out "by run $run_id" "(a) status"
ec plan "$spec"
expect_out "cluster TLS verification relaxed since" "(a) plan"
ec apply "$spec" --auto-approve
expect_rc 0 "(a) apply after the interrupt"
no_lock "(a) resumed"
[[ $(tls_modes) == "edge1=enforce edge2=enforce" ]] || fail "(a) TLS modes after the resume: $(tls_modes)"
ec plan "$spec" --detailed-exitcode
expect_rc 0 "(a) plan after the resumed apply"

echo "interrupt_test: ${SECONDS}s: (b)"
# --- (b) SIGTERM during a rollout where every node stays valid -------------
# Both nodes report that they need a restart: relax, restart one at a time,
# restore; the certificates stay the same (and valid) throughout.
for n in edge1 edge2; do
  jq '.restart_required = true' "$sim/$n.json" >"$sim/$n.tmp" &&
    chmod 600 "$sim/$n.tmp" && mv "$sim/$n.tmp" "$sim/$n.json" ||
    fail "could not make $n want a restart"
done
start_apply "$work/b.log"
wait_for "edge1's restart to be verified (b)" journal_has action-done edge1/verify-served
kill -TERM "$apply_pid"
finish_apply
out=$(cat "$work/b.log")
expect_rc 143 "(b) apply after SIGTERM"
no_lock "(b)"
# Both serve valid certificates, unless the signal caught edge2 down in its
# restart (then it must say so, and status shows the relaxed verification).
if grep -qF "left as it is" <<<"$out"; then
  grep "left as it is" <<<"$out" | grep -q "edge2" || fail "(b) the report does not name edge2: $out"
  wait_for "every node to answer (b)" status_ok
  ec status "$spec"
  expect_out "cluster TLS verification relaxed since" "(b) status"
else
  expect_out "restored to enforce" "(b)"
  [[ $(tls_modes) == "edge1=enforce edge2=enforce" ]] || fail "(b) TLS not restored: $(tls_modes)"
fi
ec apply "$spec" --auto-approve
expect_rc 0 "(b) apply after SIGTERM"
ec plan "$spec" --detailed-exitcode
expect_rc 0 "(b) plan after the resumed apply"

echo "interrupt_test: ${SECONDS}s: (c)"
# --- (c) two SIGINTs: out at once, journal consistent -----------------------
new_cluster "$work/c"
start_apply "$work/c.log"
wait_for "a restart to start (c)" journal_has action-start edge1/restart
# Stopped, the process takes both signals when it continues, before it could
# finish its graceful stop: the second one ends it at once. (Two SIGINTs sent
# to a stopped process would merge into one; SIGINT + SIGTERM do not.)
kill -STOP "$apply_pid"
kill -INT "$apply_pid"
kill -TERM "$apply_pid"
kill -CONT "$apply_pid"
finish_apply
out=$(cat "$work/c.log")
[[ $rc -eq 130 || $rc -eq 143 ]] || fail "(c) expected exit 130 or 143 after two signals, got $rc: $out"
expect_out "second interrupt" "(c)"
! grep -qF "apply interrupted" <<<"$out" || fail "(c) the second signal did not exit at once: $out"
[[ -f $state/lock.json ]] || fail "(c) the lock should stay after an immediate exit"
id=$(jq -r .id "$state/lock.json")
wait_for "every node to answer (c)" status_ok
ec status "$spec"
expect_out "The cluster is locked: lock $id" "(c) status"
! grep -qF "cannot read the run state" <<<"$out" || fail "(c) the journal does not read: $out"
expect_out "no longer running" "(c) status"
ec apply "$spec" --auto-approve
expect_rc 1 "(c) apply while the dead run's lock stays"
expect_out "died or was killed" "(c)"
expect_out "force-unlock $id" "(c)"
# (e) force-unlock needs confirmation: no terminal and no --force refuses.
# fu ARGS...: force-unlock (it takes no --sim-dir); sets $out, $rc.
fu() {
  out=$("$edgecert" force-unlock "$@" </dev/null 2>&1)
  rc=$?
}
fu "$id" "$spec"
expect_rc 1 "(e) force-unlock without --force and a terminal"
expect_out "--force" "(e)"
[[ -f $state/lock.json ]] || fail "(e) the refused force-unlock removed the lock"
fu "$id" --force
expect_rc 1 "(e) force-unlock without the spec or --state-dir"
fu "$id" "$spec" --force
expect_rc 0 "(c) force-unlock --force"
no_lock "(c) after force-unlock"
ec apply "$spec" --auto-approve
expect_rc 0 "(c) apply after the double interrupt"
ec plan "$spec" --detailed-exitcode
expect_rc 0 "(c) plan after the resumed apply"

echo "interrupt_test: ${SECONDS}s: (d)"
# --- (d) two working folders, one cluster; (f) plan/status name the holder ---
new_cluster "$work/d"
mkdir -p "$work/d/one" "$work/d/two"
(cd "$work/d/one" && exec "$edgecert" apply ../spec.yaml --auto-approve --sim-dir "$sim" \
  </dev/null >"$work/d1.log" 2>&1) &
first=$!
bg_pids+=("$first")
wait_for "the first apply's lock" test -s "$state/lock.json"
# Stopped, it holds the lock for as long as this test needs.
kill -STOP "$first"
holder_pid=$(jq -r .pid "$state/lock.json")
[[ $holder_pid == "$first" ]] || fail "(d) the lock names pid $holder_pid, not the apply ($first)"
out=$(cd "$work/d/two" && "$edgecert" apply ../spec.yaml --auto-approve --sim-dir "$sim" </dev/null 2>&1)
rc=$?
expect_rc 1 "(d) a second apply from another folder"
expect_out "the cluster is locked" "(d)"
expect_out "pid $holder_pid" "(d)"
ec plan "$spec"
expect_out "The cluster is locked" "(f) plan"
expect_out "pid $holder_pid" "(f) plan"
expect_out "for apply since" "(f) plan"
ec status "$spec"
expect_out "The cluster is locked" "(f) status"
expect_out "pid $holder_pid" "(f) status"
(cd "$work/d/two" && exec "$edgecert" apply ../spec.yaml --auto-approve --sim-dir "$sim" \
  --lock-timeout 2m </dev/null >"$work/d2.log" 2>&1) &
second=$!
bg_pids+=("$second")
wait_for "the second apply to wait for the lock" log_has "$work/d2.log" "Waiting for the cluster lock"
out=$(cat "$work/d2.log")
expect_out "pid $holder_pid" "(d) the waiting apply names the holder"
kill -CONT "$first"
wait "$first" || fail "(d) the first apply failed: $(cat "$work/d1.log")"
wait "$second"
rc=$?
out=$(cat "$work/d2.log")
expect_rc 0 "(d) the waiting apply"
expect_out "No changes" "(d) the waiting apply"
no_lock "(d)"
ec plan "$spec" --detailed-exitcode
expect_rc 0 "(d) plan after both applies"

echo "interrupt_test: ok (${SECONDS}s)"
