# Helpers the end-to-end scripts share (sourced, not a test itself: only
# *_test.sh files are registered). Before sourcing, set `script` (the name
# used in failure messages); the script runs in its own temporary folder.
#
#   script_start "$@"       check the argument (the edgecert binary) and the
#                           tools; sets $edgecert and $root
#   quickstart_spec CA-CN   copy examples/quickstart/cluster.yaml to spec.yaml
#                           with a CA made by `edgecert ca init` in $work/ca
#   openssl_ca_cnf DIR DAYS an openssl.cnf (stdout) for `openssl ca` on the
#                           openssl-ca folder DIR (docs/issuers.md), CRLs
#                           valid DAYS days
#   ec ARGS...              edgecert with the script's $sim and $state
#                           folders; sets $out and $rc
#   fl ARGS...              edgecert as an operator runs it on a fleet (each
#                           cluster's simulator and state next to its spec,
#                           no --sim-dir); sets $out and $rc
#   expect_rc CODE WHAT, expect_out TEXT WHAT
#   sim_workdir PREFIX      a fresh temporary folder $work, entered; on exit
#                           edgecert-sim ($sim_pid) is stopped and $work removed
#   sim_start ARGS...       edgecert-sim (next to $edgecert) in the background
#                           with ARGS, its output in sim.out and sim.err of the
#                           current folder; waits for "edgecert-sim ready";
#                           sets $sim_bin and $sim_pid (the caller stops it)
#   sim_port NAME, sim_ssh_port NAME
#                           the HTTPS / SSH port node NAME listens on
#   pids_workdir PREFIX     a fresh temporary folder $work (not entered) and
#                           an array $bg_pids of background processes, all
#                           killed on exit before $work is removed
#   interrupted OUT PATTERN N ARGS...
#                           edgecert ARGS in the background (its own session,
#                           output in OUT, its pid in $bg_pids); once OUT
#                           matches PATTERN (grep -E), N SIGINTs, each after
#                           the one before was taken; sets $out and $rc
#   wait_for WHAT CMD...    polls CMD every 50 ms until it succeeds; fails
#                           naming WHAT after $wait_for_seconds (default 30)
#   set_restart_seconds SIM SECONDS
#                           the sim nodes edge1 and edge2 in folder SIM take
#                           SECONDS real seconds to restart
#   remove_work DIR         rm -rf DIR unless EDGECERT_KEEP_TEST_FILES is set
#                           (ctest sets it: the secrets scan reads the files)
#   keep_output TEXT        appends TEXT to $EDGECERT_TEST_OUTPUT_DIR/$script.out
#                           when that is set (ctest: build/test-scan/output)

fail() {
  echo "$script: FAIL: $*" >&2
  exit 1
}

script_start() {
  [[ $# -ge 1 ]] || fail "usage: $0 PATH/TO/edgecert"
  [[ -x $1 ]] || fail "edgecert binary '$1' is not executable"
  edgecert=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  command -v jq >/dev/null || fail "jq is not installed (scripts/install-deps installs it)"
}

quickstart_spec() {
  cp "$root/examples/quickstart/cluster.yaml" spec.yaml || fail "cannot copy the quickstart spec"
  "$edgecert" ca init "$work/ca" --cn "$1" >ca-init.log 2>&1 ||
    fail "ca init failed: $(cat ca-init.log)"
  sed -i "s#directory: ca/#directory: $work/ca#" spec.yaml
  grep -q "directory: $work/ca" spec.yaml || fail "could not point the spec's issuer at $work/ca"
}

openssl_ca_cnf() {
  cat <<CNF
[ ca ]
default_ca = edgecert
[ edgecert ]
dir = $1
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
certificate = \$dir/cacert.pem
private_key = \$dir/private/cakey.pem
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_crl_days = $2
policy = policy_anything
[ policy_anything ]
commonName = supplied
CNF
}

ec() {
  out=$("$edgecert" "$@" --sim-dir "$sim" --state-dir "$state" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}
fl() {
  out=$("$edgecert" "$@" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}
# What edgecert printed, kept for the secrets scan (tests/scripts/secrets_scan.py).
keep_output() {
  [[ -n ${EDGECERT_TEST_OUTPUT_DIR:-} ]] || return 0
  printf '%s\n' "$1" >>"$EDGECERT_TEST_OUTPUT_DIR/${script:-script}.out"
}
# The work folder goes unless the suite keeps it for the secrets scan.
remove_work() {
  [[ -n ${EDGECERT_KEEP_TEST_FILES:-} ]] || rm -rf "$1"
}
expect_rc() {  # expect_rc CODE WHAT
  [[ $rc -eq $1 ]] || fail "$2: expected exit $1, got $rc; output:
$out"
}
expect_out() {  # expect_out TEXT WHAT
  grep -qF -- "$1" <<<"$out" || fail "$2: output does not mention '$1'; output:
$out"
}

sim_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || fail "mktemp failed"
  sim_pid=
  trap sim_cleanup EXIT
  cd "$work" || fail "cannot enter $work"
}
# A work folder for scripts that run edgecert in the background: $bg_pid
# (when set) is killed on exit, then the folder goes.
bg_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || fail "mktemp failed"
  bg_pid=
  trap bg_cleanup EXIT
  cd "$work" || fail "cannot enter $work"
}
bg_cleanup() {
  if [[ -n $bg_pid ]]; then kill -9 "$bg_pid" 2>/dev/null; fi
  remove_work "$work"
}
sim_cleanup() {
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null
    wait "$sim_pid" 2>/dev/null
  fi
  remove_work "$work"
}

sim_start() {
  sim_bin=$(dirname "$edgecert")/edgecert-sim
  [[ -x $sim_bin ]] || fail "edgecert-sim is not next to $edgecert"
  "$sim_bin" "$@" >sim.out 2>sim.err &
  sim_pid=$!
  for _ in $(seq 1 200); do
    grep -q "edgecert-sim ready" sim.out 2>/dev/null && return 0
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.05
  done
  fail "edgecert-sim did not start: $(cat sim.err)"
}
sim_port() { awk -v n="$1" '$1 == n && $2 == "listening" { sub(/.*:/, "", $4); print $4 }' sim.out; }
sim_ssh_port() { awk -v n="$1" '$1 == n && $2 == "ssh" { sub(/.*:/, "", $5); print $5 }' sim.out; }

set_restart_seconds() {
  local n
  for n in edge1 edge2; do
    jq ".restart_seconds = $2" "$1/$n.json" >"$1/$n.tmp" &&
      chmod 600 "$1/$n.tmp" && mv "$1/$n.tmp" "$1/$n.json" ||
      fail "could not set the restart time of $n"
  done
}

pids_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || fail "mktemp failed"
  bg_pids=()
  trap pids_cleanup EXIT
}
pids_cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  remove_work "$work"
}

wait_for() {
  local what=$1 i
  shift
  for ((i = 0; i < ${wait_for_seconds:-30} * 20; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  fail "timed out waiting for $what"
}

interrupted() {
  local file=$1 pattern=$2 count=$3 pid i
  shift 3
  setsid "$edgecert" "$@" >"$file" 2>&1 &
  pid=$!
  bg_pids+=("$pid")
  wait_for "'$pattern' in $file" grep -qE "$pattern" "$file"
  kill -INT "$pid"
  for ((i = 1; i < count; i++)); do
    wait_for "interrupt $i to be taken" grep -q "interrupt received" "$file"
    kill -INT "$pid"
  done
  wait "$pid"
  rc=$?
  out=$(cat "$file")
  keep_output "$out"
}
