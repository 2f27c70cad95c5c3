#!/usr/bin/env bash
# bench/fleet works: `bench/fleet/run --quick` with the binary under test
# (and edgecert-sim beside it) plans a small sim fleet in one process and
# one process per cluster, an https fleet on edgecert-sim --latency 50 at
# --parallelism 10 and 1, and a converged cluster against --version, and
# prints every figure. The figures themselves are not checked
# (bench/fleet/README.md).
#
# Usage: bench_fleet_test.sh PATH/TO/edgecert   (the working folder is the
# repository root).
set -uo pipefail

fail() {
  echo "bench_fleet_test: FAIL: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || fail "usage: $0 PATH/TO/edgecert"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$("$root/bench/fleet/run" --quick --edgecert "$1" 2>&1) || fail "the bench failed:
$out"
for key in sim_plan_one_process_s sim_plan_process_per_cluster_s sim_one_process_vs_per_cluster \
  sim_peak_rss_mb https_plan_parallelism_10_s https_plan_parallelism_1_s https_floor_s \
  https_vs_floor https_speedup_vs_sequential noop_plan_ms version_ms noop_plan_vs_version; do
  grep -Eq "^$key: [0-9]+\.[0-9]+$" <<<"$out" || fail "no '$key' in:
$out"
done
grep -Eq '^sim_nodes: 72$' <<<"$out" || fail "sim_nodes line:
$out"
grep -Eq '^https_nodes: 12$' <<<"$out" || fail "https_nodes line:
$out"
echo "bench_fleet_test: ok"
