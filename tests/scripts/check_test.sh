#!/usr/bin/env bash
# `edgecert check` end to end, with the real binary and the real `promtool`.
#
# Usage: check_test.sh PATH/TO/edgecert   (CTest passes the built binary; the
# working folder is the repository root).
#
# On a copy of examples/quickstart (sim nodes and run state in a temporary
# folder):
#   (a) before any apply: exit 2, the drift named, a metrics file that
#       `promtool check metrics` accepts, with edgecert_drift ... 1;
#   (b) after apply: exit 0, "in sync", the last apply recorded, promtool
#       accepts the file again;
#   (c) a node whose state cannot be read (its file damaged): exit 1 naming
#       the node, the metrics file still written with edgecert_check_success
#       0 and the other node's expiry;
#   (d) a metrics file in a folder that does not exist: exit 1, naming it;
#   (e) a folder of specs with one that does not load: exit 1, the good one
#       still checked;
#   (f) check changes nothing: the plan after all of this is empty.
set -uo pipefail

script=check_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1

script_start "$@"
command -v promtool >/dev/null ||
  fail "promtool is not installed (scripts/install-deps installs Debian's prometheus package)"

bg_workdir edgecert-check
quickstart_spec "Check Test CA"
sim=$work/sim
state=$work/state

promtool_ok() {  # promtool_ok WHAT
  local lint
  lint=$(promtool check metrics <metrics.prom 2>&1) || fail "$1: promtool check metrics: $lint
--- metrics.prom:
$(cat metrics.prom)"
}

# --- (a) drift before the first apply ----------------------------------------
ec check spec.yaml --metrics-file metrics.prom
expect_rc 2 "(a) check before apply"
expect_out "quickstart (spec.yaml): NEEDS APPLY" "(a) check before apply"
expect_out "generate-csr" "(a) check before apply"
[[ -s metrics.prom ]] || fail "(a) no metrics file written"
promtool_ok "(a)"
grep -q '^edgecert_drift{cluster="quickstart",node="edge1",kind="generate-csr"} 1$' metrics.prom ||
  fail "(a) no generate-csr drift for edge1 in metrics.prom"
grep -q '^edgecert_check_success{cluster="quickstart",spec="spec.yaml"} 1$' metrics.prom ||
  fail "(a) edgecert_check_success is not 1"
[[ ! -e $state/quickstart/journal.jsonl ]] || fail "(a) check wrote a journal"

# --- (b) in sync after apply ------------------------------------------------------
ec apply spec.yaml --auto-approve
expect_rc 0 "(b) apply"
ec check spec.yaml --metrics-file metrics.prom
expect_rc 0 "(b) check after apply"
expect_out "quickstart (spec.yaml): in sync" "(b) check after apply"
expect_out "last apply: " "(b) check after apply"
promtool_ok "(b)"
grep -q '^edgecert_last_apply_success{cluster="quickstart"} 1$' metrics.prom ||
  fail "(b) edgecert_last_apply_success is not 1"
if grep -q '^edgecert_drift{.*} 1$' metrics.prom; then
  fail "(b) drift after apply: $(grep '^edgecert_drift{.*} 1$' metrics.prom)"
fi
ec check spec.yaml -o json
expect_rc 0 "(b) check -o json"
jq -e '.clusters[0].status == "in-sync" and (.clusters[0].nodes | length) == 2' <<<"$out" \
  >/dev/null || fail "(b) check -o json: $out"

# --- (c) a node that cannot be read ---------------------------------------------
# Set aside inside the sim folder: the node file holds the node's private
# key, and a copy anywhere else would be a leak for the secrets scan.
mv "$sim/edge2.json" "$sim/edge2-set-aside.json"
printf '{"damaged": ' >"$sim/edge2.json"
ec check spec.yaml --metrics-file metrics.prom
expect_rc 1 "(c) check with a damaged node"
expect_out "edgecert: error: edge2" "(c) check with a damaged node"
expect_out "quickstart (spec.yaml): ERROR" "(c) check with a damaged node"
promtool_ok "(c)"
grep -q '^edgecert_check_success{cluster="quickstart",spec="spec.yaml"} 0$' metrics.prom ||
  fail "(c) edgecert_check_success is not 0"
grep -q '^edgecert_certificate_not_after_timestamp_seconds{cluster="quickstart",node="edge1"} [0-9]*$' \
  metrics.prom || fail "(c) edge1's expiry is missing"
mv "$sim/edge2-set-aside.json" "$sim/edge2.json"

# --- (d) a metrics file that cannot be written --------------------------------------
ec check spec.yaml --metrics-file "$work/no/such/folder/metrics.prom"
expect_rc 1 "(d) unwritable metrics file"
expect_out "writing the metrics to $work/no/such/folder/metrics.prom: " "(d) unwritable metrics file"

# --- (e) a folder with a broken spec ---------------------------------------------
mkdir -p specs
cp spec.yaml specs/quickstart.yaml
printf 'apiVersion: edgecert/v1\nkind: [\n' >specs/broken.yml
ec check specs --metrics-file metrics.prom
expect_rc 1 "(e) folder with a broken spec"
expect_out "specs/broken.yml:" "(e) folder with a broken spec"
expect_out "quickstart (specs/quickstart.yaml): in sync" "(e) folder with a broken spec"
promtool_ok "(e)"

# --- (f) nothing changed ---------------------------------------------------------------
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(f) plan after the checks"

echo "$script: OK"
