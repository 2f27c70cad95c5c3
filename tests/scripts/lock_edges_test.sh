#!/usr/bin/env bash
# Lock and journal edges, end to end with the real binary and real processes.
#
# Usage: lock_edges_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# the working folder is the repository root).
#
# On a copy of examples/quickstart (its CA made by `edgecert ca init`, sim
# nodes and run state inside a temporary folder):
#   (a) an empty, then a garbled lock.json: apply exits 1 naming the file and
#       what is wrong (no raw JSON parse error), status says so too;
#       `force-unlock unreadable SPEC --force` removes it, apply then works;
#   (b) a journal whose last entry lost its newline: the next apply keeps that
#       entry and writes its own on lines of their own;
#   (c) a process holding the CA folder's lock killed with SIGKILL: the next
#       apply signs at once (no "the CA is busy");
#   (d) "pid": 1e300 in lock.json and "seq": 1e300 in the journal: exit 1
#       naming the file and the field, nothing changed.
set -uo pipefail

script=lock_edges_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1

script_start "$@"
command -v flock >/dev/null || fail "flock (util-linux) is not installed"

bg_workdir edgecert-lock-edges

quickstart_spec "Lock Edges Test CA"

sim=$work/sim
state=$work/state
lock=$state/quickstart/lock.json
journal=$state/quickstart/journal.jsonl

fu() {  # fu ARGS...: force-unlock (it takes no --sim-dir); sets $out, $rc
  out=$("$edgecert" force-unlock "$@" --state-dir "$state" </dev/null 2>&1)
  rc=$?
}
no_raw_json() {
  ! grep -qF "json.exception" <<<"$out" || fail "$1: a raw JSON error: $out"
}

# --- (c) a killed holder of the CA lock ------------------------------------
# Before anything is signed: the first apply has to sign every node.
# The holder is one process (a shell that takes the lock on fd 9, then becomes
# sleep), so the kill ends the holder itself and leaves no orphan behind. The
# file holds a fresh time, as the old time-stamped lock of a killed signer did
# (which blocked signing for 20 s).
date +%s >"$work/ca/.edgecert-ca.lock"
(
  exec 9>>"$work/ca/.edgecert-ca.lock"
  flock 9
  exec sleep 60
) >/dev/null 2>&1 &
bg_pid=$!
for _ in $(seq 100); do
  flock -n "$work/ca/.edgecert-ca.lock" true || break
  sleep 0.05
done
! flock -n "$work/ca/.edgecert-ca.lock" true || fail "(c) the holder did not take the CA lock"
kill -9 "$bg_pid"
wait "$bg_pid" 2>/dev/null
bg_pid=
ec apply spec.yaml --auto-approve
expect_rc 0 "(c) apply right after the CA lock's holder was killed"
! grep -qF "the CA is busy" <<<"$out" || fail "(c) the killed holder still blocks: $out"
[[ -f $journal ]] || fail "(c) no journal at $journal"

# --- (a) empty and garbled lock.json ---------------------------------------
for content in "" '{"id": "4f1c'; do
  what="(a) lock.json '$content'"
  printf '%s' "$content" >"$lock"
  ec apply spec.yaml --auto-approve
  expect_rc 1 "$what: apply"
  expect_out "$lock: the cluster lock file is" "$what"
  expect_out "edgecert force-unlock unreadable spec.yaml --state-dir $state" "$what"
  no_raw_json "$what"
  ec status spec.yaml
  expect_out "$lock: the cluster lock file is" "$what: status"
  no_raw_json "$what: status"
  fu 0123456789abcdef spec.yaml --force
  expect_rc 1 "$what: force-unlock with an id"
  [[ -f $lock ]] || fail "$what: force-unlock with an id removed the lock"
  fu unreadable spec.yaml --force
  expect_rc 0 "$what: force-unlock unreadable"
  expect_out "Removed the unreadable lock file $lock" "$what"
  [[ ! -e $lock ]] || fail "$what: the lock is still there"
done
ec apply spec.yaml --auto-approve
expect_rc 0 "(a) apply after force-unlock unreadable"

# --- (b) a journal whose last entry has no newline ---------------------------
# Fresh nodes, so the apply has something to journal.
sim=$work/sim-b
lines=$(wc -l <"$journal")
last=$(tail -n 1 "$journal")
truncate -s -1 "$journal"
[[ $(tail -c 1 "$journal") == "}" ]] || fail "(b) could not strip the journal's last newline"
ec apply spec.yaml --auto-approve
expect_rc 0 "(b) apply after the journal lost its last newline"
grep -qxF -- "$last" "$journal" || fail "(b) the entry without a newline was lost or glued: $(cat "$journal")"
(($(wc -l <"$journal") > lines)) || fail "(b) the apply journalled nothing"
jq -ce . "$journal" >/dev/null || fail "(b) the journal no longer has one object per line"
[[ $(jq -c . "$journal" | wc -l) -eq $(wc -l <"$journal") ]] ||
  fail "(b) two entries share a line: $(cat "$journal")"
ec status spec.yaml
expect_rc 0 "(b) status reads the journal"

# --- (d) numbers out of range ----------------------------------------------
printf '{"id": "0123456789abcdef", "pid": 1e300, "host": "h", "user": "u"}\n' >"$lock"
ec apply spec.yaml --auto-approve
expect_rc 1 "(d) pid 1e300"
expect_out "$lock: the cluster lock file is unreadable: pid: expected an integer" "(d)"
rm -f "$lock"
printf '{"seq":1e300,"time_ms":1000,"run":"r","event":"run-start"}\n' >>"$journal"
cp "$journal" journal.saved
bad_line=$(wc -l <"$journal")
ec apply spec.yaml --auto-approve
expect_rc 1 "(d) seq 1e300"
expect_out "$journal:$bad_line: corrupt journal line: seq: expected an integer" "(d)"
no_raw_json "(d)"
cmp -s "$journal" journal.saved || fail "(d) the journal was changed"
[[ ! -e $lock ]] || fail "(d) the refused apply left a lock"

echo "lock_edges_test: ok"
