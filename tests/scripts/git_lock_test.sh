#!/usr/bin/env bash
# The cluster lock in a git repository (spec.rollout.lockRepository), end to
# end with the real binary, real git repositories and real processes.
#
# Usage: git_lock_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# the working folder is the repository root).
#
# Two "machines" are two copies of one spec in two folders: each has its own
# state folder (so the state folder's lock cannot keep them apart, as on two
# CI runners), and both reach the same sim:// nodes and the same lock
# repository.
#   (a) a local bare repository: two applies started together, one wins, the
#       other exits 1 naming the holder and the repository; the loser's state
#       folder holds no lock; the ref is gone after the winner's apply;
#   (b) the holder killed with SIGKILL: the other machine's apply finds the
#       lock stale ("died or was killed", the id), force-unlock from there
#       removes the ref (status there names the holder first); the killed
#       run's machine then finds its own state
#       folder's lock under the same id, force-unlock removes it, and its
#       apply resumes; plan is 0;
#   (c) the same race through a remote (git daemon, git://), whose pushes
#       carry the expected old value; `check` on the other machine sees the
#       lock (lock_held); force-unlock through the remote;
#   (d) bad input: a repository that does not exist, and a lock ref someone
#       pointed at a commit without lock.json: exit 1, clear, nothing changed;
#       `force-unlock unreadable SPEC` removes the latter.
set -uo pipefail

script=git_lock_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
command -v git >/dev/null || fail "git is not installed"

pids_workdir edgecert-git-lock

"$edgecert" ca init "$work/ca" --cn "Git Lock Test CA" --key ecdsa:256 >"$work/ca-init.log" 2>&1 ||
  fail "ca init failed: $(cat "$work/ca-init.log")"

ref=refs/edgecert/locks/quickstart
sim=$work/sim

# machine NAME REPO: a copy of the quickstart spec in $work/NAME whose lock
# repository is REPO; its state folder is $work/NAME/.edgecert/state.
machine() {
  mkdir -p "$work/$1" || fail "mkdir $work/$1"
  local spec=$work/$1/spec.yaml
  cp "$root/examples/quickstart/cluster.yaml" "$spec" || fail "cannot copy the quickstart spec"
  sed -i "s#directory: ca/#directory: $work/ca#; s#^  rollout:#  rollout:\n    lockRepository: $2#" "$spec"
  grep -q "lockRepository: $2" "$spec" || fail "could not set the lock repository in $spec"
}
# new_nodes: fresh sim nodes whose restart takes a second (so an apply holds
# the lock for seconds).
new_nodes() {
  rm -rf "$sim"
  "$edgecert" status "$work/one/spec.yaml" --sim-dir "$sim" >/dev/null 2>&1 # boots the nodes
  set_restart_seconds "$sim" 1
}
# on NAME ARGS...: edgecert on machine NAME (its own folder); sets $out, $rc.
on() {
  local m=$1
  shift
  out=$(cd "$work/$m" && "$edgecert" "$@" --sim-dir "$sim" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}
fu() { # fu MACHINE ID [ARGS]: force-unlock there (it takes no --sim-dir)
  local m=$1
  shift
  out=$(cd "$work/$m" && "$edgecert" force-unlock "$@" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}
ref_of() { git --git-dir "$1" rev-parse -q --verify "$ref"; }
has_ref() { ref_of "$1" >/dev/null; }
# killed_holder REPO: an apply on machine one, killed with SIGKILL once it
# holds both locks (the ref in REPO, its state folder's); sets $id.
killed_holder() {
  (cd "$work/one" && exec "$edgecert" apply spec.yaml --auto-approve --sim-dir "$sim" \
    </dev/null >"$work/killed.log" 2>&1) &
  local holder=$!
  bg_pids+=("$holder")
  wait_for "the apply's lock ref" has_ref "$1"
  wait_for "the apply's state-folder lock" test -s "$work/one/.edgecert/state/quickstart/lock.json"
  kill -9 "$holder"
  wait "$holder" 2>/dev/null
  id=$(git --git-dir "$1" show "$ref:lock.json" | jq -r .id)
}
# race NAME...: applies on both machines at once; sets $winner, $loser and
# $loser_out.
race() {
  local pids=() m
  for m in one two; do
    (cd "$work/$m" && exec "$edgecert" apply spec.yaml --auto-approve --sim-dir "$sim" \
      </dev/null >"$work/$m.log" 2>&1) &
    pids+=($!)
    bg_pids+=($!)
  done
  local rcs=()
  for p in "${pids[@]}"; do
    wait "$p"
    rcs+=($?)
  done
  winner='' loser=''
  for i in 0 1; do
    m=$([[ $i -eq 0 ]] && echo one || echo two)
    case ${rcs[$i]} in
      0) winner=$m ;;
      1) loser=$m ;;
      *) fail "$1: apply on $m exited ${rcs[$i]}: $(cat "$work/$m.log")" ;;
    esac
  done
  [[ -n $winner && -n $loser ]] ||
    fail "$1: expected one apply to win and one to be refused, got exits ${rcs[*]}:
one: $(cat "$work/one.log")
two: $(cat "$work/two.log")"
  loser_out=$(cat "$work/$loser.log")
  keep_output "$loser_out"
}

echo "git_lock_test: ${SECONDS}s: (a)"
# --- (a) a local bare repository --------------------------------------------
git init -q --bare "$work/locks.git" || fail "git init --bare"
machine one "$work/locks.git"
machine two "$work/locks.git"
new_nodes
race "(a)"
out=$loser_out
expect_out "the cluster is locked in $work/locks.git ($ref)" "(a) the refused apply"
expect_out "held by" "(a) the refused apply"
expect_out "for apply since" "(a) the refused apply"
expect_out "Nothing was changed" "(a) the refused apply"
[[ ! -e $work/$loser/.edgecert/state/quickstart/lock.json ]] ||
  fail "(a) the refused apply left a lock in its state folder"
! has_ref "$work/locks.git" || fail "(a) the winner left its lock ref behind"
on one plan spec.yaml --detailed-exitcode
expect_rc 0 "(a) plan after the winner's apply"

echo "git_lock_test: ${SECONDS}s: (b)"
# --- (b) the holder killed ---------------------------------------------------
new_nodes
killed_holder "$work/locks.git"
[[ $id =~ ^[0-9a-f]{16}$ ]] || fail "(b) the lock ref holds no id: $id"
[[ $(jq -r .id "$work/one/.edgecert/state/quickstart/lock.json") == "$id" ]] ||
  fail "(b) the state folder's lock and the git lock differ in id"
on two status spec.yaml
expect_out "The cluster is locked in $work/locks.git ($ref): lock $id" "(b) status on the other machine"
expect_out "no longer running" "(b) status on the other machine"
on two apply spec.yaml --auto-approve
expect_rc 1 "(b) apply on the other machine while the killed run's lock stays"
expect_out "died or was killed" "(b)"
expect_out "force-unlock $id spec.yaml" "(b)"
fu two "$id" spec.yaml
expect_rc 1 "(b) force-unlock without --force and a terminal"
has_ref "$work/locks.git" || fail "(b) the refused force-unlock removed the ref"
fu two "$id" spec.yaml --force
expect_rc 0 "(b) force-unlock --force on the other machine"
expect_out "Removed lock $id" "(b)"
! has_ref "$work/locks.git" || fail "(b) force-unlock left the ref"
on one apply spec.yaml --auto-approve
expect_rc 1 "(b) apply on the killed run's machine: its own state folder's lock"
expect_out "force-unlock $id" "(b) the killed run's machine"
fu one "$id" spec.yaml --force
expect_rc 0 "(b) force-unlock of the state folder's lock"
on one apply spec.yaml --auto-approve
expect_rc 0 "(b) apply resumes after both locks are gone"
! has_ref "$work/locks.git" || fail "(b) the resumed apply left its lock ref"
on two plan spec.yaml --detailed-exitcode
expect_rc 0 "(b) plan after the resumed apply"

echo "git_lock_test: ${SECONDS}s: (c)"
# --- (c) a remote through git daemon -----------------------------------------
git init -q --bare "$work/served/locks.git" || fail "git init --bare (served)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --base-path="$work/served" \
  --export-all --enable=receive-pack "$work/served" >"$work/daemon.log" 2>&1 &
bg_pids+=($!)
disown $! # killed at exit without the shell's "Killed" notice
daemon_up() { git ls-remote "git://127.0.0.1:$port/locks.git" >/dev/null 2>&1; }
wait_for "git daemon" daemon_up
url=git://127.0.0.1:$port/locks.git
machine one "$url"
machine two "$url"
new_nodes
race "(c)"
out=$loser_out
expect_out "the cluster is locked in $url ($ref)" "(c) the refused apply"
expect_out "held by" "(c) the refused apply"
! has_ref "$work/served/locks.git" || fail "(c) the winner left its lock ref behind"
# A lock the other machine holds, removed through the remote.
new_nodes
killed_holder "$work/served/locks.git"
on two check spec.yaml --output json
[[ $(jq -r '.clusters[0].lock_held' <<<"$out" 2>/dev/null) == true ]] ||
  fail "(c) check on the other machine does not see the remote lock: $out"
fu two "$id" spec.yaml --force
expect_rc 0 "(c) force-unlock through the remote"
! has_ref "$work/served/locks.git" || fail "(c) force-unlock left the remote ref"
fu one "$id" spec.yaml --force
on one apply spec.yaml --auto-approve
expect_rc 0 "(c) apply after force-unlock"

echo "git_lock_test: ${SECONDS}s: (d)"
# --- (d) bad input ------------------------------------------------------------
machine one "$work/no-such.git"
before=$(cat "$sim/edge1.json" "$sim/edge2.json" | sha256sum)
on one apply spec.yaml --auto-approve
expect_rc 1 "(d) a lock repository that does not exist"
expect_out "the lock repository $work/no-such.git (spec.rollout.lockRepository) cannot be opened" "(d)"
expect_out "nothing was changed" "(d)"
[[ $(cat "$sim/edge1.json" "$sim/edge2.json" | sha256sum) == "$before" ]] ||
  fail "(d) the nodes changed after a refused apply"
machine one "$work/locks.git"
tree=$(git --git-dir "$work/locks.git" hash-object -t tree -w /dev/null)
junk=$(git --git-dir "$work/locks.git" -c user.name=x -c user.email=x@x commit-tree "$tree" -m junk)
git --git-dir "$work/locks.git" update-ref "$ref" "$junk" || fail "(d) update-ref"
on one apply spec.yaml --auto-approve
expect_rc 1 "(d) a lock ref without lock.json"
expect_out "not a commit holding lock.json" "(d)"
expect_out "edgecert force-unlock unreadable spec.yaml" "(d)"
fu one unreadable spec.yaml --force
expect_rc 0 "(d) force-unlock unreadable"
! has_ref "$work/locks.git" || fail "(d) force-unlock unreadable left the ref"
on one apply spec.yaml --auto-approve
expect_rc 0 "(d) apply once the unreadable lock is gone"

echo "git_lock_test: ${SECONDS}s: ok"
