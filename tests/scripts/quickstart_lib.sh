# Helpers the end-to-end scripts share (sourced, not a test itself: only
# *_test.sh files are registered). Before sourcing, set `script` (the name
# used in failure messages); the script runs in its own temporary folder.
#
#   script_start "$@"       check the argument (the edgecert binary) and the
#                           tools; sets $edgecert and $root
#   quickstart_spec CA-CN   copy examples/quickstart/cluster.yaml to spec.yaml
#                           with a CA made by `edgecert ca init` in $work/ca
#   ec ARGS...              edgecert with the script's $sim and $state
#                           folders; sets $out and $rc
#   expect_rc CODE WHAT, expect_out TEXT WHAT

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

ec() {
  out=$("$edgecert" "$@" --sim-dir "$sim" --state-dir "$state" </dev/null 2>&1)
  rc=$?
}
expect_rc() {  # expect_rc CODE WHAT
  [[ $rc -eq $1 ]] || fail "$2: expected exit $1, got $rc; output:
$out"
}
expect_out() {  # expect_out TEXT WHAT
  grep -qF -- "$1" <<<"$out" || fail "$2: output does not mention '$1'; output:
$out"
}
