#!/usr/bin/env bash
# bench/show works: `bench/show/run --quick` (100 certificates) with the
# binary under test prints the ratio against openssl storeutl and the
# scaling figure, having checked that every certificate was shown. The
# figures themselves are not checked (bench/show/README.md).
#
# Usage: bench_show_test.sh PATH/TO/edgecert   (the working folder is the
# repository root).
set -uo pipefail

fail() {
  echo "bench_show_test: FAIL: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || fail "usage: $0 PATH/TO/edgecert"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$("$root/bench/show/run" --quick --edgecert "$1" 2>&1) || fail "the bench failed:
$out"
for key in ratio scaling_2x; do
  grep -Eq "^$key: [0-9]+\.[0-9]+$" <<<"$out" || fail "no '$key' in:
$out"
done
for key in edgecert_show_ms openssl_storeutl_ms edgecert_show_2x_ms; do
  grep -Eq "^$key: [0-9]+$" <<<"$out" || fail "no '$key' in:
$out"
done
grep -Eq '^certificates: 100$' <<<"$out" || fail "certificates line:
$out"
echo "bench_show_test: ok"
