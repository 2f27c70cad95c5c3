#!/usr/bin/env bash
# bench/crl works: `bench/crl/run --quick` (a 20000-entry CRL) with the
# edgecert-crl-bench built next to the binary under test prints the parse
# ratio, the lookup time and the peak RSS, and its lookups found every revoked
# serial asked (the probe exits non-zero otherwise). The figures themselves are
# not checked (bench/crl/README.md).
#
# Usage: bench_crl_test.sh PATH/TO/edgecert   (the working folder is the
# repository root).
set -uo pipefail

fail() {
  echo "bench_crl_test: FAIL: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || fail "usage: $0 PATH/TO/edgecert"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench=$(dirname "$1")/edgecert-crl-bench
[[ -x $bench ]] || fail "no $bench"
out=$("$root/bench/crl/run" --quick --bench "$bench" 2>&1) || fail "the bench failed:
$out"
for key in ratio lookup_us_per_serial edgecert_peak_rss_mb openssl_peak_rss_mb; do
  grep -Eq "^$key: [0-9]+\.[0-9]+$" <<<"$out" || fail "no '$key' in:
$out"
done
grep -Eq '^entries: 20000$' <<<"$out" || fail "the CRL does not hold 20000 entries:
$out"
grep -Eq '^lookups: 1000 \(500 revoked, 500 absent\)$' <<<"$out" || fail "lookups line:
$out"
echo "bench_crl_test: ok"
