#!/usr/bin/env bash
# Bounded file reads, end to end with the real binary (issue 16 defect 3):
# every file a spec names is read through a cap fitting its kind, and
# devices, FIFOs and directories are refused before anything is read.
#
# Usage: file_limits_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
# On a copy of examples/quickstart (sim:// nodes, its CA made by `edgecert ca
# init`), after a first apply so the simulated nodes exist: each of
# trustedCAs.certificates, crl.manualFile, crl.caBundle, access.caBundle and
# access.passwordFrom (file:) pointed at /dev/zero, /dev/urandom, a FIFO, a
# symlink to /dev/zero and a 17 MiB file. validate, plan and apply each run
# under `ulimit -v` (2 GiB of address space) and `timeout 20`: exit 1 (not a
# timeout, not an allocation failure), the message names the file (and, for
# the spec's fields, FILE:LINE:COL), the simulated nodes are unchanged and no
# lock is left behind. Before the fix, /dev/zero grew one apply to 18 GB and
# a FIFO hung it.
set -uo pipefail

script=file_limits_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1

script_start "$@"
for tool in timeout mkfifo; do
  command -v "$tool" >/dev/null || fail "$tool (coreutils) is not installed"
done

bg_workdir edgecert-file-limits

quickstart_spec "File Limits Test CA"
sim=$work/sim
state=$work/state
lock=$state/quickstart/lock.json

# bounded ARGS...: edgecert ARGS under the limits; sets $out and $rc. 124 or
# 137 is the timeout, 134 an abort (allocation failure under ulimit).
bounded() {
  local extra=()
  [[ $1 != validate ]] && extra=(--sim-dir "$sim" --state-dir "$state")
  (
    ulimit -v 2097152
    exec timeout -s KILL 20 "$edgecert" "$@" "${extra[@]}" </dev/null
  ) >out.txt 2>&1
  rc=$?
  out=$(head -c 20000 out.txt)
}
nodes_digest() { find "$sim" -type f -name '*.json' | sort | xargs sha256sum; }

# --- a first apply: the nodes exist and serve the spec's certificate -------
cp spec.yaml base.yaml
ec apply spec.yaml --auto-approve
expect_rc 0 "first apply"
[[ -n $(find "$sim" -name 'edge1.json') ]] || fail "first apply: no simulated node edge1"
before=$(nodes_digest)

# --- the bad files ----------------------------------------------------------
mkfifo "$work/pipe.pem" || fail "mkfifo failed"
ln -s /dev/zero "$work/zero-link.pem" || fail "ln -s failed"
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' A >"$work/big.pem"
mkdir -p "$work/a-folder.pem"
bad_files=(/dev/zero /dev/urandom "$work/pipe.pem" "$work/zero-link.pem" "$work/big.pem"
  "$work/a-folder.pem")

# spec_with FIELD FILE: base.yaml with FIELD pointing at FILE, as spec.yaml;
# sets $line (the line the path is on).
spec_with() {
  local field=$1 file=$2
  cp base.yaml spec.yaml
  case $field in
    trustedCAs)
      printf '  trustedCAs:\n    certificates:\n      - %s\n' "$file" >>spec.yaml ;;
    crl.manualFile)
      printf '  crl:\n    manualFile: %s\n' "$file" >>spec.yaml ;;
    crl.caBundle)
      printf '  crl:\n    automaticUpdates:\n      enabled: true\n      distributionPoints: [https://crl.invalid/root.crl]\n    caBundle: %s\n' \
        "$file" >>spec.yaml ;;
    access.caBundle)
      printf '  access:\n    username: admin\n    passwordFrom: env:EDGECERT_TEST_PASSWORD\n    caBundle: %s\n' \
        "$file" >>spec.yaml ;;
    access.passwordFrom)
      printf '  access:\n    username: admin\n    passwordFrom: file:%s\n' "$file" >>spec.yaml ;;
    *) fail "spec_with: unknown field $field" ;;
  esac
  line=$(grep -n -F -- "$file" spec.yaml | tail -n 1 | cut -d: -f1)
  [[ -n $line ]] || fail "spec_with $field: $file is not in spec.yaml"
}

export EDGECERT_TEST_PASSWORD=not-used
checked=0
for field in trustedCAs crl.manualFile crl.caBundle access.caBundle access.passwordFrom; do
  for file in "${bad_files[@]}"; do
    spec_with "$field" "$file"
    for cmd in validate plan apply; do
      what="$field -> $file: $cmd"
      if [[ $cmd == apply ]]; then bounded apply spec.yaml --auto-approve; else bounded "$cmd" spec.yaml; fi
      [[ $rc -ne 124 && $rc -ne 137 ]] || fail "$what: timed out (exit $rc): $out"
      expect_rc 1 "$what"
      expect_out "spec.yaml:$line:" "$what"
      expect_out "$file" "$what"
      [[ $(wc -c <out.txt) -le 20000 ]] || fail "$what: $(wc -c <out.txt) bytes of output"
      case $file in
        */big.pem) expect_out "larger than" "$what" ;;
        *) expect_out "not a regular file" "$what" ;;
      esac
      [[ ! -e $lock ]] || fail "$what: the lock was left behind: $(cat "$lock")"
      [[ $(nodes_digest) == "$before" ]] || fail "$what: a simulated node changed"
      checked=$((checked + 1))
    done
  done
done

# --- the spec itself --------------------------------------------------------
for file in /dev/zero "$work/pipe.pem"; do
  for cmd in validate plan apply; do
    what="spec $file: $cmd"
    if [[ $cmd == apply ]]; then bounded apply "$file" --auto-approve; else bounded "$cmd" "$file"; fi
    [[ $rc -ne 124 && $rc -ne 137 ]] || fail "$what: timed out (exit $rc): $out"
    expect_rc 1 "$what"
    expect_out "$file: not a regular file" "$what"
    [[ $(nodes_digest) == "$before" ]] || fail "$what: a simulated node changed"
    checked=$((checked + 1))
  done
done

# --- a lock file that is a FIFO: refused, naming it, never waited on -------
cp base.yaml spec.yaml
mkfifo "$lock" || fail "mkfifo $lock failed"
bounded apply spec.yaml --auto-approve
[[ $rc -ne 124 && $rc -ne 137 ]] || fail "lock FIFO: timed out (exit $rc): $out"
expect_rc 1 "lock FIFO: apply"
expect_out "$lock: not a regular file" "lock FIFO: apply"
[[ $(nodes_digest) == "$before" ]] || fail "lock FIFO: a simulated node changed"
rm -f "$lock"

# The good spec still applies cleanly: nothing above left a trace.
ec plan spec.yaml
expect_rc 0 "plan after the bad files"
echo "$script: ok ($checked refusals)"
