#!/usr/bin/env bash
# The fence around main (providers/base/fence.h), with the real binaries:
# whatever escapes (an exception, std::bad_alloc, a thrown int, an exception
# escaping a thread) ends the process with exit 1 — never an abort (134) or a
# core — and one line "PROGRAM: internal error: ...; nothing further was
# changed; report this"; an apply that dies this way while holding the
# cluster lock leaves no lock and no changed node. Driven by the test hook
# EDGECERT_TEST_FAULT=MODE[@POINT] (docs/testing.md).
#
# Usage: main_fence_test.sh PATH/TO/edgecert   (edgecert-sim next to it)
set -uo pipefail

script=main_fence_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1

script_start "$@"
sim_bin=$(dirname "$edgecert")/edgecert-sim
[[ -x $sim_bin ]] || fail "edgecert-sim is not next to $edgecert"

bg_workdir edgecert-main-fence
ulimit -c 0
quickstart_spec "Main Fence Test CA"
sim=$work/sim
state=$work/state

# faulted MODE WHAT CMD...: runs CMD with EDGECERT_TEST_FAULT=MODE, sets $rc
# and $out (stderr and stdout).
faulted() {
  local mode=$1
  shift
  out=$(EDGECERT_TEST_FAULT=$mode timeout 60 "$@" </dev/null 2>&1)
  rc=$?
}
expect_fenced() {  # expect_fenced PROGRAM WHAT TEXT
  [[ $rc -ne 134 && $rc -lt 128 ]] || fail "$2: the process died of a signal (exit $rc): $out"
  expect_rc 1 "$2"
  expect_out "$1: internal error: $3; nothing further was changed; report this" "$2"
  [[ -z $(find . -maxdepth 1 -name 'core*' -print -quit) ]] || fail "$2: a core file was left"
}
no_lock() {  # no_lock WHAT
  local left
  left=$(find "$state" -name lock.json 2>/dev/null)
  [[ -z $left ]] || fail "$1: a lock was left behind: $left"
}
node_status() {
  "$edgecert" status spec.yaml -o json --sim-dir "$sim" --state-dir "$state" 2>&1 |
    jq -S 'walk(if type == "object" then del(.uptime_seconds) else . end)' 2>&1
}

# --- edgecert, at the start of main -------------------------------------------
faulted throw "$edgecert" validate spec.yaml
expect_fenced edgecert "throw" "EDGECERT_TEST_FAULT=throw at main"
faulted bad-alloc "$edgecert" validate spec.yaml
expect_fenced edgecert "bad-alloc" "out of memory"
faulted throw-int "$edgecert" validate spec.yaml
expect_fenced edgecert "throw-int" "an unknown exception"
faulted thread-throw "$edgecert" validate spec.yaml
expect_fenced edgecert "thread-throw" "EDGECERT_TEST_FAULT=thread-throw at main"
# Anything else is no fault at all: the hook only ever throws.
faulted exit "$edgecert" validate spec.yaml
expect_rc 0 "an unknown EDGECERT_TEST_FAULT value"
faulted throw@nowhere "$edgecert" validate spec.yaml
expect_rc 0 "a point no code reaches"

# --- apply dying while it holds the cluster lock ------------------------------
before=$(node_status)
grep -q '"edge1"' <<<"$before" || fail "status names no edge1: $before"
for mode in throw bad-alloc throw-int thread-throw; do
  faulted "$mode@apply-locked" "$edgecert" apply spec.yaml --auto-approve --sim-dir "$sim" \
    --state-dir "$state"
  case $mode in
    throw | thread-throw) text="EDGECERT_TEST_FAULT=$mode at apply-locked" ;;
    bad-alloc) text="out of memory" ;;
    throw-int) text="an unknown exception" ;;
  esac
  expect_fenced edgecert "apply $mode@apply-locked" "$text"
  [[ -d $state/quickstart ]] || fail "apply $mode: the fault fired before the lock was taken"
  no_lock "apply $mode@apply-locked"
  [[ $(node_status) == "$before" ]] || fail "apply $mode: a node changed"
done
# And the cluster is usable at once: no force-unlock needed.
ec apply spec.yaml --auto-approve
expect_rc 0 "apply after the faulted ones"
no_lock "apply after the faulted ones"

# --- edgecert-sim ---------------------------------------------------------------
printf 'secret-pw\n' >pw
for mode in throw thread-throw; do
  faulted "$mode" "$sim_bin" --state "$work/simsrv" --node edge1=127.0.0.1:0 --password-file pw
  expect_fenced edgecert-sim "edgecert-sim $mode" "EDGECERT_TEST_FAULT=$mode at main"
done
faulted bad-alloc "$sim_bin" ui --state "$work/simsrv" edge1 show
expect_fenced edgecert-sim "edgecert-sim ui bad-alloc" "out of memory"

echo "main_fence_test: ok"
