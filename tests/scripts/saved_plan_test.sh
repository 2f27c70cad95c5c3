#!/usr/bin/env bash
# Saved plans end to end, with the real binary and real processes.
#
# Usage: saved_plan_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# the working folder is the repository root).
#
# On a copy of examples/quickstart (its CA made by `edgecert ca init`, sim
# nodes and run state inside a temporary folder):
#   plan --out plan.json; `show` renders it as text, JSON and Markdown (the
#   table as `plan -o markdown` prints it), and refuses -o markdown for a
#   file that is not a plan; then
#   (a) a plan with one action's params deleted: apply exits 1 naming the
#       action and params, leaves no lock, changes no node;
#   (b) a reordered plan (edge1's restart before its upload): exit 1 naming the
#       action and depends_on, nothing changed, no lock;
#   (c) an unknown kind: exit 1;
#   (f) a rogue trusted CA added to the append-trusted-cas action, and as an
#       action of its own per node: apply re-derives the plan and refuses
#       naming the action and field; no node trusts it, no lock;
#   (g) a plan for another cluster, a JSON object without format_version, a
#       wrongly typed params: exit 1, nothing changed, no lock;
#   (d) the untouched plan applies (exit 0), a second plan shows no changes;
#   (e) apply killed with SIGKILL mid-run on a fresh cluster: force-unlock the
#       lock it left (if any), apply again: exit 0, plan --detailed-exitcode 0.
set -uo pipefail

script=saved_plan_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1

script_start "$@"

bg_workdir edgecert-saved-plan

quickstart_spec "Saved Plan Test CA"

sim=$work/sim
state=$work/state
lock=$state/quickstart/lock.json

no_lock() {  # no_lock WHAT
  local left
  left=$(find "$state" -name lock.json 2>/dev/null)
  [[ -z $left ]] || fail "$1: a lock was left behind: $left"
}
# What the nodes hold, without their uptime: a simulated node's uptime is
# real time, so it may tick between two reads on a loaded machine.
node_status() {
  local out
  out=$("$edgecert" status spec.yaml -o json --sim-dir "$sim" 2>/dev/null) || {
    "$edgecert" status spec.yaml -o json --sim-dir "$sim" 2>&1
    return 1
  }
  jq -S 'walk(if type == "object" then del(.uptime_seconds) else . end)' <<<"$out" 2>&1
}

# --- plan --out -----------------------------------------------------------
ec plan spec.yaml --out plan.json
expect_rc 0 "plan --out"
[[ -s plan.json ]] || fail "plan --out wrote no plan.json"
jq -e '.format_version == 1 and (.actions | length) > 0' plan.json >/dev/null ||
  fail "plan.json is not a non-empty format 1 plan"
for id in edge1/upload-certificate edge1/restart edge2/restart; do
  jq -e --arg id "$id" 'any(.actions[]; .id == $id)' plan.json >/dev/null ||
    fail "plan.json has no action $id"
done
before=$(node_status) || fail "status failed: $before"
grep -q '"edge1"' <<<"$before" || fail "status names no edge1: $before"

# --- show PLAN and plan --output markdown ------------------------------------
out=$("$edgecert" show plan.json 2>&1)
rc=$?
expect_rc 0 "show plan.json"
expect_out "plan.json: saved plan for cluster quickstart" "show plan.json"
expect_out "$(jq -r '.actions | length' plan.json) actions on 2 nodes" "show plan.json"
out=$("$edgecert" show plan.json -o json 2>&1)
rc=$?
expect_rc 0 "show plan.json -o json"
[[ $(jq -c '.files[0].plan.actions | map(.id)' <<<"$out") == "$(jq -c '.actions | map(.id)' plan.json)" ]] ||
  fail "show -o json does not give the plan's actions: $out"
out=$("$edgecert" show plan.json -o markdown 2>&1)
rc=$?
expect_rc 0 "show plan.json -o markdown"
expect_out "### edgecert plan for cluster \`quickstart\`" "show -o markdown"
expect_out "| 1 | edge1 |" "show -o markdown"
expect_out "<details><summary>Plan details</summary>" "show -o markdown"
md_show=$out
ec plan spec.yaml -o markdown
expect_rc 0 "plan -o markdown"
# The same plan: the same table (the details differ only in the time).
[[ $(grep '^| ' <<<"$out") == "$(grep '^| ' <<<"$md_show")" ]] ||
  fail "plan -o markdown and show -o markdown of the same plan differ:
$out
---
$md_show"
out=$("$edgecert" show spec.yaml -o markdown 2>&1)
rc=$?
expect_rc 1 "show -o markdown of a spec"
expect_out "not a saved plan" "show -o markdown of a spec"

# --- (a) a missing params ---------------------------------------------------
jq 'del(.actions[] | select(.id == "edge2/restart") | .params)' plan.json >no-params.json ||
  fail "jq could not edit the plan"
jq -e 'any(.actions[]; .id == "edge2/restart" and (has("params") | not))' no-params.json \
  >/dev/null || fail "the edit did not remove params"
ec apply no-params.json
expect_rc 1 "(a) apply of a plan without params"
expect_out "edge2/restart" "(a)"
expect_out "params" "(a)"
expect_out "missing" "(a)"
no_lock "(a)"
[[ $(node_status) == "$before" ]] || fail "(a) the nodes changed after a refused plan"
# show refuses it the same way, naming the action and field.
out=$("$edgecert" show no-params.json 2>&1)
rc=$?
expect_rc 1 "(a) show of a plan without params"
expect_out "edge2/restart" "(a) show"
expect_out "params" "(a) show"
[[ ! -e $state/quickstart/journal.jsonl ]] || ! grep -q '"action-start"' "$state/quickstart/journal.jsonl" ||
  fail "(a) the refused plan started an action"

# --- (b) a reordered plan ---------------------------------------------------
jq '(.actions | map(.id)) as $ids
    | ($ids | index("edge1/upload-certificate")) as $u
    | ($ids | index("edge1/restart")) as $r
    | .actions = (.actions[:$u] + [.actions[$r]]
                  + (.actions[$u:] | map(select(.id != "edge1/restart"))))' \
  plan.json >reordered.json || fail "jq could not reorder the plan"
[[ $(jq '.actions | length' reordered.json) == $(jq '.actions | length' plan.json) ]] ||
  fail "the reordered plan lost actions"
[[ $(jq -r '.actions | map(.id) | index("edge1/restart") < index("edge1/upload-certificate")' \
  reordered.json) == true ]] || fail "the reordered plan does not put the restart first"
ec apply reordered.json
expect_rc 1 "(b) apply of a reordered plan"
expect_out "edge1/restart" "(b)"
expect_out "depends_on" "(b)"
expect_out "edge1/upload-certificate" "(b)"
no_lock "(b)"
[[ $(node_status) == "$before" ]] || fail "(b) the nodes changed after a refused plan"

# --- (c) an unknown kind ----------------------------------------------------
jq '(.actions[] | select(.id == "edge1/restart") | .kind) = "reboot-everything"' plan.json \
  >unknown-kind.json || fail "jq could not edit the kind"
ec apply unknown-kind.json
expect_rc 1 "(c) apply of a plan with an unknown kind"
expect_out "reboot-everything" "(c)"
expect_out "edge1/restart" "(c)"
no_lock "(c)"
[[ $(node_status) == "$before" ]] || fail "(c) the nodes changed after a refused plan"

# --- (f) a rogue trusted CA added to the plan (issue 16, defect 4) -----------
# The plan is re-derived from the spec and the live state; a saved plan that
# differs in any field is refused before anything is touched.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue.key \
  -out rogue.pem -days 30 -subj "/CN=Rogue CA" >openssl.log 2>&1 ||
  fail "openssl could not make the rogue CA: $(cat openssl.log)"
rogue_fp=$(openssl x509 -in rogue.pem -noout -fingerprint -sha256 | sed 's/.*=//')
[[ -n $rogue_fp ]] || fail "no fingerprint for the rogue CA"
jq -e 'any(.actions[]; .kind == "append-trusted-cas")' plan.json >/dev/null ||
  fail "plan.json has no append-trusted-cas action to edit"
jq --rawfile pem rogue.pem --arg fp "$rogue_fp" \
  '(first(.actions[] | select(.kind == "append-trusted-cas")) | .params)
     |= (.pem += [$pem] | .sha256 += [$fp])' plan.json >rogue-ca.json ||
  fail "jq could not add the rogue CA"
idx=$(jq '[.actions[].kind] | index("append-trusted-cas") + 1' rogue-ca.json)
node=$(jq -r 'first(.actions[] | select(.kind == "append-trusted-cas")) | .node' rogue-ca.json)
ec apply rogue-ca.json
expect_rc 1 "(f) apply of a plan with a rogue trusted CA"
expect_out "action $idx ($node append-trusted-cas): field \`params.pem\` differs from the plan edgecert makes now" "(f)"
expect_out "altered or is stale" "(f)"
no_lock "(f)"
after_rogue=$(node_status) || fail "status failed: $after_rogue"
[[ $after_rogue == "$before" ]] || fail "(f) the nodes changed after a refused plan"
grep -qi -- "${rogue_fp//:/}" <<<"${after_rogue//:/}" && fail "(f) a node trusts the rogue CA"
# The same CA as an action of its own, on every node.
jq --rawfile pem rogue.pem --arg fp "$rogue_fp" \
  '.actions += [.node_order[] | {id: (. + "/append-trusted-cas/rogue"), node: ., kind:
     "append-trusted-cas", reason: "x", before: null, after: null, disruptive: false,
     manual: false, depends_on: [], params: {pem: [$pem], sha256: [$fp]}}]' \
  plan.json >rogue-action.json || fail "jq could not add rogue actions"
n=$(jq '.actions | length' plan.json)
ec apply rogue-action.json
expect_rc 1 "(f) apply of a plan with added rogue actions"
expect_out "action $((n + 1)) (" "(f) added"
expect_out "not in the plan edgecert makes now" "(f) added"
no_lock "(f) added"
[[ $(node_status) == "$before" ]] || fail "(f) added: the nodes changed after a refused plan"

# --- (g) another cluster's plan; a JSON object that is no plan ---------------
jq '.cluster = "production"' plan.json >other-cluster.json || fail "jq could not edit cluster"
ec apply other-cluster.json
expect_rc 1 "(g) apply of a plan for another cluster"
expect_out "'production'" "(g)"
expect_out "'quickstart'" "(g)"
no_lock "(g)"
jq 'del(.format_version)' plan.json >no-version.json || fail "jq could not drop format_version"
ec apply no-version.json
expect_rc 1 "(g) apply of a JSON object without format_version"
expect_out "without format_version" "(g)"
no_lock "(g) no format_version"
jq '.actions[0].params = "x"' plan.json >typed.json || fail "jq could not retype params"
ec apply typed.json
expect_rc 1 "(g) apply of a plan whose params is a string"
expect_out "params" "(g) typed"
no_lock "(g) typed"
[[ $(node_status) == "$before" ]] || fail "(g) the nodes changed after a refused plan"

# --- (d) the untouched plan applies -----------------------------------------
ec apply plan.json
expect_rc 0 "(d) apply of the saved plan"
no_lock "(d)"
[[ $(node_status) != "$before" ]] || fail "(d) the nodes did not change"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(d) plan after apply (no changes)"
# A saved plan is applied once: the nodes it was made against have changed.
ec apply plan.json
expect_rc 1 "(d) the same saved plan applied twice"

# --- (e) apply killed with SIGKILL --------------------------------------------
sim=$work/sim-kill
state=$work/state-kill
lock=$state/quickstart/lock.json
"$edgecert" apply spec.yaml --auto-approve --sim-dir "$sim" --state-dir "$state" \
  </dev/null >killed.log 2>&1 &
bg_pid=$!
sleep 0.3
kill -9 "$bg_pid" 2>/dev/null
wait "$bg_pid" 2>/dev/null
bg_pid=
ec apply spec.yaml --auto-approve
if [[ $rc -ne 0 ]]; then
  # The killed run left its lock: the error names it, and so does lock.json.
  expect_rc 1 "(e) apply after the kill"
  expect_out "force-unlock" "(e)"
  [[ -f $lock ]] || fail "(e) apply refused but there is no lock.json: $out"
  id=$(jq -r .id "$lock") || fail "(e) unreadable lock.json"
  expect_out "force-unlock $id" "(e)"
  out=$("$edgecert" force-unlock "$id" spec.yaml --state-dir "$state" --force 2>&1)
  rc=$?
  expect_rc 0 "(e) force-unlock $id"
  no_lock "(e) after force-unlock"
  ec apply spec.yaml --auto-approve
fi
expect_rc 0 "(e) apply after the kill"
no_lock "(e)"
ec plan spec.yaml --detailed-exitcode
expect_rc 0 "(e) plan --detailed-exitcode after the resumed apply"

echo "saved_plan_test: ok"
