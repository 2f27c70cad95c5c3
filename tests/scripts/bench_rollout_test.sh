#!/usr/bin/env bash
# bench/rollout works: `bench/rollout/run --quick` (one peer on sim:// and one
# over https://, 1 s restarts) with the binary under test prints a ratio row
# per transport. The figures themselves are not checked (bench/rollout/README.md).
#
# Usage: bench_rollout_test.sh PATH/TO/edgecert   (edgecert-sim next to it;
# the working folder is the repository root).
set -uo pipefail

fail() {
  echo "bench_rollout_test: FAIL: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || fail "usage: $0 PATH/TO/edgecert"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$("$root/bench/rollout/run" --quick --edgecert "$1" 2>&1) || fail "the bench failed:
$out"
for t in sim https; do
  grep -Eq "^$t +1 +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]{3}$" <<<"$out" ||
    fail "no result row for $t in:
$out"
done
echo "bench_rollout_test: ok"
