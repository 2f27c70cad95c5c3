#!/usr/bin/env bash
# Change control (spec.rollout.changeControl) end to end, with the real
# binary: approvals of a saved plan bound to its bytes, and the change ID.
#
# Usage: change_control_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
# On a copy of examples/quickstart requiring 2 approvals and a change ID
# matching ^CHG[0-9]{7}$ (sim nodes and run state in a temporary folder):
#   (a) plan --change-id that does not match: exit 1 before reading a node;
#       plan --out without a change ID: exit 1, no plan saved;
#       apply of the spec itself: refused, an approved saved plan is needed;
#   (b) plan --change-id CHG0000042 --out plan.json; apply plan.json with no
#       approval, then with one: exit 1 saying how many and the approve
#       command, nothing changed, no lock;
#   (c) approve twice by one name (also as Alice, "alice ", " alice"): exit 1,
#       the file unchanged; a name with a line break: exit 1;
#   (d) the plan edited after approval (one field): apply refused naming
#       both digests; approve then refuses too; restored, it is accepted;
#   (e) a corrupt approvals file: apply and approve exit 1 naming the file;
#   (f) apply plan.json --change-id of another change: refused;
#   (g) with both approvals: apply exit 0; the audit log records the change
#       ID and both approvers; `show plan.json -o markdown` names the change.
set -uo pipefail

script=change_control_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"

bg_workdir edgecert-change-control
quickstart_spec "Change Control Test CA"
sed -i 's#^  rollout:#  rollout:\n    changeControl:\n      approvals: 2\n      changeIdPattern: "^CHG[0-9]{7}$"#' spec.yaml
grep -q "changeIdPattern" spec.yaml || fail "could not add changeControl to the spec"
sim=$work/sim
state=$work/state

node_status() { "$edgecert" status spec.yaml -o json --sim-dir "$sim" 2>/dev/null | jq -S '[.nodes[] | {name, tls_verification, certificate}]'; }
no_lock() { [[ ! -e $state/quickstart/lock.json ]] || fail "$1: a lock was left behind"; }
run() { # run ARGS...: edgecert without the sim/state options; sets $out, $rc
  out=$("$edgecert" "$@" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}

# --- (a) -----------------------------------------------------------------------
ec plan spec.yaml --change-id CHG42 --out plan.json
expect_rc 1 "(a) plan with a change ID the pattern refuses"
expect_out "--change-id 'CHG42' does not match spec.rollout.changeControl.changeIdPattern '^CHG[0-9]{7}\$'" "(a)"
[[ ! -e plan.json ]] || fail "(a) a plan was saved for a refused change ID"
before=$(node_status)
[[ -n $before ]] || fail "status gave no nodes"
ec apply spec.yaml --auto-approve --change-id CHG0000042
expect_rc 1 "(a) apply of the spec itself under change control"
expect_out "requires 2 approvals of a saved plan" "(a)"
expect_out "edgecert approve PLAN --by NAME" "(a)"
no_lock "(a)"

# A plan to be approved must carry the change ID: approvals cover it.
ec plan spec.yaml --out no-id.json
expect_rc 1 "(a) plan --out without --change-id under approvals"
expect_out "give --change-id; nothing was saved" "(a)"
[[ ! -e no-id.json ]] || fail "(a) a plan without a change ID was saved"

# --- (b) -----------------------------------------------------------------------
ec plan spec.yaml --change-id CHG0000042 --out plan.json
expect_rc 0 "(b) plan --change-id --out"
[[ $(jq -r .change_id plan.json) == CHG0000042 ]] || fail "(b) the plan does not record the change ID"
expect_out "requires 2 approvals: 'edgecert approve plan.json --by NAME' (each approver)" "(b) plan --out"
expect_out "Change: CHG0000042" "(b) plan --out"
ec apply plan.json
expect_rc 1 "(b) apply without approvals"
expect_out "plan.json has 0 of the 2 approvals spec.rollout.changeControl requires" "(b)"
expect_out "edgecert approve plan.json --by NAME" "(b)"
no_lock "(b)"
run approve plan.json --by alice --comment "CAB 2026-12-03"
expect_rc 0 "(b) approve by alice"
expect_out "Approved plan.json (cluster quickstart" "(b)"
expect_out "1 of the 2 approvals" "(b)"
ec apply plan.json
expect_rc 1 "(b) apply with one approval"
expect_out "has 1 of the 2 approvals spec.rollout.changeControl requires (alice)" "(b)"
[[ $(node_status) == "$before" ]] || fail "(b) the nodes changed after a refused apply"

# --- (c) -----------------------------------------------------------------------
cp plan.json.approvals.json approvals.keep
run approve plan.json --by alice
expect_rc 1 "(c) a second approval by alice"
expect_out "alice already approved plan.json" "(c)"
cmp -s plan.json.approvals.json approvals.keep || fail "(c) the refused approval changed the file"
run approve plan.json --by $'bob\nmallory'
expect_rc 1 "(c) a name with a line break"
expect_out "--by" "(c)"
# One person, spelled twice: not a second approver.
for same in Alice "alice " " alice"; do
  run approve plan.json --by "$same"
  expect_rc 1 "(c) alice again as '$same'"
done
cmp -s plan.json.approvals.json approvals.keep || fail "(c) a refused approval changed the file"

# --- (d) -----------------------------------------------------------------------
cp plan.json plan.keep
jq '.created_at = "2026-12-03 00:00:00 UTC"' plan.keep >plan.json
ec apply plan.json
expect_rc 1 "(d) a plan edited after approval"
expect_out "plan.json changed after it was approved (approved sha256 " "(d)"
no_lock "(d)"
run approve plan.json --by bob
expect_rc 1 "(d) approving the edited plan on top of the old approvals"
expect_out "its approvals are for other plan contents" "(d)"
cmp -s plan.json.approvals.json approvals.keep || fail "(d) the refused approval changed the file"
cp plan.keep plan.json

# --- (e) -----------------------------------------------------------------------
for bad in '' '{"format_version": 1, "plan_sha256": "x", "approvals": []}' \
  '{"format_version": 1, "plan_sha256": "'"$(sha256sum plan.json | cut -c1-64)"'", "approvals": [{"by": "bob"}]}'; do
  printf '%s' "$bad" >plan.json.approvals.json
  ec apply plan.json
  expect_rc 1 "(e) approvals file '$bad': apply"
  expect_out "plan.json.approvals.json: not an approvals file" "(e) apply"
  run approve plan.json --by bob
  expect_rc 1 "(e) approvals file '$bad': approve"
  expect_out "plan.json.approvals.json: not an approvals file" "(e) approve"
done
cp approvals.keep plan.json.approvals.json
[[ $(node_status) == "$before" ]] || fail "(e) the nodes changed after refused applies"

# --- (f) -----------------------------------------------------------------------
run approve plan.json --by bob
expect_rc 0 "(f) approve by bob"
expect_out "2 of the 2 approvals" "(f)"
ec apply plan.json --change-id CHG0000043
expect_rc 1 "(f) apply for another change"
expect_out "--change-id CHG0000043 differs from the change the plan was made for (CHG0000042)" "(f)"
no_lock "(f)"

# --- (g) -----------------------------------------------------------------------
ec apply plan.json
expect_rc 0 "(g) apply with both approvals"
audit=$state/quickstart/audit.jsonl
[[ -s $audit ]] || fail "(g) no audit log"
jq -e -s 'all(.[]; .change_id == "CHG0000042" and .approved_by == ["alice", "bob"])' "$audit" \
  >/dev/null || fail "(g) the audit log lacks the change ID or the approvers: $(head -2 "$audit")"
run show plan.json -o markdown
expect_rc 0 "(g) show -o markdown"
expect_out "change CHG0000042" "(g) show -o markdown"
ec plan spec.yaml --detailed-exitcode --change-id CHG0000042
expect_rc 0 "(g) plan after the apply"
echo "change_control_test: ok"
