#!/usr/bin/env bash
# Fleet plans: `plan FOLDER --out FILE` saves every cluster's plan in one
# file, which is shown, approved and applied as one, with staleness checked
# per cluster (docs/plan-format.md, "Fleet plans"). The real binary on three
# clusters of the quickstart spec, each with its simulated nodes next to it.
#
# Usage: fleet_plan_test.sh PATH/TO/edgecert   (CTest passes the built binary;
# the working folder is the repository root).
#
#   (a) plan --out saves three plans in one file; show renders them (text,
#       JSON); a fleet with a spec that does not load, or an empty shard,
#       saves nothing and removes an earlier plan at that path;
#   (b) one cluster changed behind the plan's back (applied alone): apply
#       FILE --cluster-parallelism 2 applies the two others, refuses that one
#       naming it in the table and saying what changed; exit 1;
#   (c) a spec edited after the plan: that cluster is refused naming its
#       spec, a converged cluster's empty plan is "no-changes", the other
#       applied;
#   (d) a plan edited after it was saved: the cluster it touches is refused
#       naming the entry and the field; a truncated file, a malformed one
#       (plans not a list, a cluster twice, another version), --target and
#       --git are refused, nothing changed;
#   (e) change control: a cluster requiring one approval is refused until
#       `approve FILE --by` records one, then applied; the same plan again
#       says it was applied already; a new plan saved over it drops the old
#       approvals;
#   (f) Ctrl-C during a fleet plan's apply: exit 130, and the way to resume
#       names the spec (the plan is stale once a node changed);
#   (g) apply over a fleet with --output json: every line JSON naming its
#       cluster, one result per cluster, a last "fleet" event.
set -uo pipefail

script=fleet_plan_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"

pids_workdir edgecert-fleet-plan
cd "$work" || fail "cannot enter $work"
unset EDGECERT_SIM_DIR

# Every simulated node's files, hashed: "nothing changed" on a node.
nodes_digest() { find fleet -path '*/.edgecert/sim/*' -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum; }

"$edgecert" ca init "$work/ca" --cn "Fleet CA" >ca-init.log 2>&1 || fail "ca init: $(cat ca-init.log)"
names=(tokyo osaka nagoya)
for n in "${names[@]}"; do
  mkdir -p "fleet/$n"
  sed -e "s/name: quickstart/name: $n/" -e "s#directory: ca/#directory: $work/ca#" \
    -e "s/edge\([12]\)\?\.example\.com/$n\1.example.com/g" \
    "$root/examples/quickstart/cluster.yaml" >"fleet/$n/cluster.yaml"
done
# set_ou CLUSTER OU: a subject change, so the cluster's certificates are reissued.
set_ou() { sed -i "s/organizationalUnit: [A-Za-z0-9-]*/organizationalUnit: $2/" "fleet/$1/cluster.yaml"; }

# --- (a) save, show; a failed cluster saves nothing ---------------------------
fl plan fleet --out fleet1.json
expect_rc 0 "(a) plan --out"
expect_out "Saved the plans of 3 clusters to fleet1.json. Apply exactly them with: edgecert apply fleet1.json" "(a) plan --out"
[[ $(jq '.fleet_format_version' fleet1.json) == 1 && $(jq -r '[.plans[].cluster] | join(",")' fleet1.json) == "nagoya,osaka,tokyo" ]] ||
  fail "(a) the fleet plan: $(jq -c '{fleet_format_version, clusters: [.plans[].cluster]}' fleet1.json)"
for n in "${names[@]}"; do set_restart_seconds "fleet/$n/.edgecert/sim/$n" 0; done
fl show fleet1.json
expect_rc 0 "(a) show"
expect_out "fleet1.json: saved plans of 3 clusters" "(a) show"
expect_out "== osaka (fleet/osaka/cluster.yaml) ==" "(a) show"
[[ $("$edgecert" show fleet1.json -o json | jq '.files[0].plans | length') -eq 3 ]] || fail "(a) show -o json"
cp fleet/osaka/cluster.yaml osaka.bak
sed -i 's/digest: sha256/digest: md5/' fleet/osaka/cluster.yaml
cp fleet1.json broken.json # an earlier plan where this run saves none
fl plan fleet --out broken.json
expect_rc 1 "(a) plan --out with a spec that does not load"
expect_out "edgecert: error: --out: no plan could be made for fleet/osaka/cluster.yaml; a fleet plan holds every cluster's plan, so nothing was saved" "(a) nothing saved"
expect_out "edgecert: note: removed broken.json, an earlier plan: this run saved none" "(a) the earlier plan removed"
[[ -e broken.json ]] && fail "(a) a fleet plan was left that is not this run's"
cp osaka.bak fleet/osaka/cluster.yaml
# A shard with no cluster in it saves nothing either, and leaves no earlier plan.
for k in 1 2 3 4 5 6 7 8; do
  [[ $("$edgecert" validate fleet --shard "$k/8" -o json | jq '.specs | length') -eq 0 ]] && break
done
cp fleet1.json shard.json
fl plan fleet --shard "$k/8" --out shard.json
expect_rc 0 "(a) plan --out of an empty shard"
expect_out "No cluster in this run: nothing was saved to shard.json" "(a) an empty shard"
[[ -e shard.json ]] && fail "(a) an empty shard left an earlier plan in shard.json"

# --- (b) a cluster changed behind the plan's back ------------------------------
fl apply fleet/osaka/cluster.yaml --auto-approve
expect_rc 0 "(b) apply osaka alone"
fl apply fleet1.json --cluster-parallelism 2
expect_rc 1 "(b) apply the fleet plan"
expect_out "[osaka] edgecert: error: the plan is stale: the live state changed since the plan was made" "(b) osaka refused"
grep -qE '^osaka +fleet/osaka/cluster.yaml +refused \(stale or altered\) +0$' <<<"$out" || fail "(b) the table does not name osaka as refused:
$out"
[[ $(grep -cE '^(tokyo|nagoya) +fleet/.* complete +[0-9]+$' <<<"$out") -eq 2 ]] || fail "(b) tokyo and nagoya were not applied:
$out"
expect_out "Fleet: 3 clusters of fleet1.json: 2 applied, 0 in sync, 1 failed, 0 stopped or not started" "(b) summary"
fl plan fleet --detailed-exitcode
expect_rc 0 "(b) the fleet is in sync"

# --- (c) a spec edited after the plan -------------------------------------------
set_ou tokyo Voice
set_ou osaka Voice
fl plan fleet --out fleet2.json
expect_rc 0 "(c) plan --out"
set_ou osaka Video
fl apply fleet2.json
expect_rc 1 "(c) apply with osaka's spec edited"
expect_out "[osaka] edgecert: error: the plan is stale: fleet/osaka/cluster.yaml changed since the plan was made" "(c) osaka refused"
grep -qE '^nagoya +.* no-changes +0$' <<<"$out" || fail "(c) nagoya's empty plan:
$out"
grep -qE '^tokyo +.* complete +[0-9]+$' <<<"$out" || fail "(c) tokyo was not applied:
$out"
fl apply fleet/osaka/cluster.yaml --auto-approve
expect_rc 0 "(c) apply osaka as edited"

# --- (d) an edited plan, malformed files -----------------------------------------
set_ou nagoya Voice
fl plan fleet --out fleet3.json
expect_rc 0 "(d) plan --out"
# The first action of nagoya's plan, edited after the review.
jq '(.plans[] | select(.cluster == "nagoya") | .actions[0].reason) = "edited"' fleet3.json >edited.json
before=$(nodes_digest)
fl apply edited.json
expect_rc 1 "(d) an edited plan"
expect_out "[nagoya] edgecert: error: edited.json, cluster 'nagoya': " "(d) the entry named"
expect_out "field \`reason\` differs from the plan edgecert makes now" "(d) the field named"
[[ $(nodes_digest) == "$before" ]] || fail "(d) an edited fleet plan changed a node"
head -c 3000 fleet3.json >truncated.json
for cmd in "apply truncated.json" "show truncated.json"; do
  # shellcheck disable=SC2086
  fl $cmd
  expect_rc 1 "(d) $cmd"
  expect_out "truncated.json: starts like a JSON plan but is not valid JSON (truncated or edited?): parse error at line " "(d) $cmd"
done
fl apply fleet3.json --target edge1
expect_rc 1 "(d) --target with a fleet plan"
[[ $(grep -c "cannot change a saved plan" <<<"$out") -eq 1 ]] || fail "(d) --target: one refusal expected:
$out"
fl apply fleet3.json --git "$work" --ref main
expect_rc 1 "(d) --git with a fleet plan"
expect_out "fleet3.json is a fleet plan: each cluster's plan names where its spec comes from; apply it without --git" "(d) --git"
printf '{"fleet_format_version": 1, "plans": {}}\n' >bad-list.json
jq '.plans += [.plans[0]]' fleet3.json >bad-twice.json
jq '.fleet_format_version = 2' fleet3.json >bad-version.json
for f in bad-list bad-twice bad-version; do
  for cmd in "apply $f.json" "approve $f.json --by alice" "show $f.json"; do
    # shellcheck disable=SC2086
    fl $cmd
    expect_rc 1 "(d) $cmd"
  done
done
fl apply bad-list.json
expect_out "bad-list.json: field plans: expected a list of plans; nothing was changed" "(d) plans not a list"
fl apply bad-twice.json
expect_out "bad-twice.json: field plans[3]: cluster 'nagoya' has a plan earlier in the file" "(d) a cluster twice"
fl show bad-version.json
expect_out "bad-version.json: field fleet_format_version: 2 is not supported" "(d) another version"
[[ -e bad-list.json.approvals.json || -e bad-twice.json.approvals.json ]] && fail "(d) a malformed plan was approved"
[[ $(nodes_digest) == "$before" ]] || fail "(d) a malformed fleet plan changed a node"
fl apply fleet3.json
expect_rc 0 "(d) the plan as saved"

# --- (e) change control ---------------------------------------------------------------
sed -i 's/^  rollout:$/  rollout:\n    changeControl: {approvals: 1}/' fleet/tokyo/cluster.yaml
grep -q "changeControl" fleet/tokyo/cluster.yaml || fail "(e) could not add changeControl"
set_ou tokyo Data
fl plan fleet --out fleet4.json
expect_rc 0 "(e) plan --out"
expect_out "approve fleet4.json --by NAME" "(e) approvals named"
fl apply fleet4.json
expect_rc 1 "(e) apply without the approval"
expect_out "[tokyo] edgecert: error: fleet4.json has 0 of the 1 approval" "(e) tokyo refused for want of an approval"
grep -qE '^tokyo +.* refused +0$' <<<"$out" || fail "(e) tokyo is not simply 'refused' in the table:
$out"
fl approve fleet4.json --by alice --comment "CAB 42"
expect_rc 0 "(e) approve"
expect_out "Approved fleet4.json (3 clusters: nagoya, osaka, tokyo;" "(e) approve"
expect_out "tokyo: 1 of the 1 approval its spec requires" "(e) approve"
fl apply fleet4.json
expect_rc 0 "(e) apply with the approval"
grep -qE '^tokyo +.* complete +[0-9]+$' <<<"$out" || fail "(e) tokyo was not applied:
$out"
fl apply fleet4.json
expect_rc 1 "(e) the same plan again"
expect_out "the cluster now matches its spec (was this plan applied already?)" "(e) applied already"
# A new plan saved over it voids the approvals of the old bytes.
fl plan fleet --out fleet4.json
expect_rc 0 "(e) plan --out over an approved plan"
expect_out "edgecert: note: removed fleet4.json.approvals.json: its approvals were for the plan this one replaces" "(e) old approvals"
fl approve fleet4.json --by bob
expect_rc 0 "(e) approve the new plan"

# --- (f) Ctrl-C during a fleet plan's apply ----------------------------------------
set_ou osaka Sales
set_restart_seconds fleet/osaka/.edgecert/sim/osaka 2
fl plan fleet --out fleet5.json
expect_rc 0 "(f) plan --out"
interrupted apply5.out '\[1/2 edge1\] restart: started' 1 apply fleet5.json
expect_rc 130 "(f) Ctrl-C"
expect_out "(give it the spec, fleet/osaka/cluster.yaml: fleet5.json is stale once this run changed a node" "(f) how to resume"
fl apply fleet/osaka/cluster.yaml --auto-approve
expect_rc 0 "(f) the spec resumes the run"

# --- (g) apply over a fleet with --output json --------------------------------------
set_restart_seconds fleet/osaka/.edgecert/sim/osaka 0
sed -i '/changeControl/d' fleet/tokyo/cluster.yaml # a spec under approvals applies only saved plans
set_ou osaka Ops
set_ou nagoya Ops
"$edgecert" apply fleet --auto-approve --cluster-parallelism 2 -o json >events.jsonl 2>events.err
rc=$?
keep_output "$(cat events.jsonl events.err)"
expect_rc 0 "(g) apply -o json over a fleet"
jq -e . events.jsonl >/dev/null || fail "(g) a line that is not JSON: $(cat events.jsonl)"
[[ $(jq -s '[.[] | select(.event != "fleet" and (.cluster | type) != "string")] | length' events.jsonl) -eq 0 ]] ||
  fail "(g) an event without its cluster: $(jq -c 'select(.cluster == null)' events.jsonl)"
[[ $(jq -s '[.[] | select(.event == "result")] | length' events.jsonl) -eq 3 ]] || fail "(g) expected 3 result events"
last=$(tail -n 1 events.jsonl)
[[ $(jq -r '.event' <<<"$last") == fleet && $(jq '.exit_code' <<<"$last") == 0 &&
  $(jq -r '[.clusters[].outcome] | join(",")' <<<"$last") == "complete,complete,no-changes" &&
  $(jq -r '.summary' <<<"$last") == "Fleet: 3 clusters: 2 applied, 1 in sync, 0 failed, 0 stopped or not started" ]] ||
  fail "(g) the fleet event: $last"
[[ $(jq -r 'select(.event == "result" and .cluster == "tokyo") | .status' events.jsonl) == no-changes ]] ||
  fail "(g) tokyo's result"

echo "fleet_plan_test: all checks passed"
