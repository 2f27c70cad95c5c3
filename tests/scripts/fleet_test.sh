#!/usr/bin/env bash
# Fleets: many specs and folders in one command, with the real binary.
#
# Usage: fleet_test.sh PATH/TO/edgecert   (CTest passes the built binary; the
# working folder is the repository root).
#
# Eight clusters of the quickstart spec, each in its own folder of a tree
# that also holds YAML that is not a spec (a CI workflow, a Kubernetes
# manifest) and a hidden folder with a spec in it. Each cluster's simulated
# nodes live next to its spec (no --sim-dir).
#   (a) validate FOLDER finds the eight specs, and only them;
#   (b) --shard K/N: for N = 1, 3 and 8 the shards partition the clusters
#       exactly (validate, plan and check agree); a bad --shard is refused;
#   (c) plan FOLDER --detailed-exitcode: one heading per cluster, a summary
#       line, exit 2; after applying two clusters "2 in sync"; after applying
#       all, exit 0; -o json is one document with every cluster's plan;
#   (d) one spec that does not load and one cluster whose node cannot be
#       read: exit 1, both named in the summary with their errors prefixed
#       by the cluster, every other cluster still planned; exactly one shard
#       reports the broken spec;
#   (e) two specs for one cluster, two for one node (a shared --sim-dir, or
#       one https:// node under two spellings): exit 1 naming both files,
#       no node read;
#   (f) --out with a folder of many clusters saves a fleet plan; with
#       a folder of one spec the plan is saved;
#   (g) status FOLDER: a table per cluster and a summary line;
#   (h) Ctrl-C while one cluster's node never answers: exit 130 at once;
#   (i) one cluster fails: --fail-fast starts none after it, without it the
#       others are applied; exit 1 either way;
#   (j) Ctrl-C during a concurrent apply: exit 130, each running cluster
#       stopped and its lock released, the rest "not started"; a second
#       Ctrl-C exits at once naming the clusters whose locks stay, which
#       force-unlock then takes; the next apply finishes the fleet;
#   (k) examples/kubernetes/cronjob.yaml's scripts, run as written against
#       a local repository of the fleet: check + plan per shard, then apply
#       per shard, then check says every cluster is in sync; on a fleet that
#       does not validate the apply job applies nothing and fails;
#   (l) one spec by three paths (a symbolic link, an absolute path) counts
#       once, a symbolic link loop ends; two specs for one cluster are a
#       JSON diagnostic under validate -o json.
set -uo pipefail

script=fleet_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
command -v python3 >/dev/null || fail "python3 is not installed"

pids_workdir edgecert-fleet
cd "$work" || fail "cannot enter $work"
unset EDGECERT_SIM_DIR


"$edgecert" ca init "$work/ca" --cn "Fleet CA" >ca-init.log 2>&1 || fail "ca init: $(cat ca-init.log)"
names=(tokyo osaka nagoya sapporo fukuoka sendai kobe kyoto)
for n in "${names[@]}"; do
  d=fleet/region-$((${#n} % 3))/$n
  mkdir -p "$d"
  sed -e "s/name: quickstart/name: $n/" -e "s#directory: ca/#directory: $work/ca#" \
    -e "s/edge\([12]\)\?\.example\.com/$n\1.example.com/g" \
    "$root/examples/quickstart/cluster.yaml" >"$d/cluster.yaml"
done
mkdir -p fleet/.github/workflows fleet/k8s fleet/.archive/old
printf 'name: ci\non: push\njobs: {}\n' >fleet/.github/workflows/plan.yaml
printf 'apiVersion: batch/v1\nkind: CronJob\n' >fleet/k8s/cronjob.yaml
cp fleet/region-2/tokyo/cluster.yaml fleet/.archive/old/tokyo.yaml # hidden: not taken

# --- (a) discovery -----------------------------------------------------------
fl validate fleet
expect_rc 0 "(a) validate fleet"
expect_out "8 specs: valid" "(a) validate fleet"
[[ $(grep -c 'cluster.yaml: valid$' <<<"$out") -eq 8 ]] || fail "(a) expected 8 specs, got:
$out"
grep -q 'cronjob\|workflows\|archive' <<<"$out" && fail "(a) a file that is not a spec was taken:
$out"

# --- (b) shards partition the fleet -------------------------------------------
all=$("$edgecert" validate fleet -o json | jq -r '.specs[]' | sort)
[[ $(wc -l <<<"$all") -eq 8 ]] || fail "(b) validate -o json lists $(wc -l <<<"$all") specs"
for n in 1 3 8; do
  union=""
  for ((k = 1; k <= n; k++)); do
    part=$("$edgecert" validate fleet --shard "$k/$n" -o json | jq -r '.specs[]')
    union+="$part"$'\n'
    # plan and check take the same clusters as validate.
    planned=$("$edgecert" plan fleet --shard "$k/$n" -o json 2>/dev/null | jq -r '.clusters[].spec')
    [[ $(sort <<<"$planned") == $(sort <<<"$part") ]] ||
      fail "(b) shard $k/$n: plan took [$planned], validate [$part]"
    checked=$("$edgecert" check fleet --shard "$k/$n" -o json 2>/dev/null | jq -r '.clusters[].spec')
    [[ $(sort <<<"$checked") == $(sort <<<"$part") ]] ||
      fail "(b) shard $k/$n: check took [$checked], validate [$part]"
  done
  # Every cluster in exactly one shard: the union, duplicates kept, is the fleet.
  [[ $(grep -v '^$' <<<"$union" | sort) == "$all" ]] || fail "(b) the $n shards do not partition the fleet:
$union"
done
for bad in 0/3 4/3 3 x/y; do
  fl plan fleet --shard "$bad"
  expect_rc 1 "(b) --shard $bad"
  expect_out "--shard $bad: " "(b) --shard $bad"
done
fl plan fleet --shard "" # an unset CI variable must not mean "every cluster"
expect_rc 1 "(b) an empty --shard"
expect_out "--shard needs K/N" "(b) an empty --shard"
fl validate fleet --shard 01/08
expect_out "(shard 1/8 of 8 found)" "(b) --shard 01/08 reads 1/8"

# --- (c) plan a fleet ---------------------------------------------------------
fl plan fleet --detailed-exitcode
expect_rc 2 "(c) plan fleet"
# Simulated restarts take no time: the applies below are not what is tested.
for n in "${names[@]}"; do
  set_restart_seconds "$(dirname "$(grep -l "name: $n\$" fleet/region-*/*/cluster.yaml)")/.edgecert/sim/$n" 0
done
expect_out "== tokyo (fleet/region-2/tokyo/cluster.yaml) ==" "(c) plan fleet"
expect_out "Fleet: 8 clusters: 8 to change (144 actions)" "(c) plan fleet"
[[ $(grep -c '^== ' <<<"$out") -eq 8 ]] || fail "(c) expected 8 headings"
for n in tokyo kobe; do
  d=$(dirname "$(grep -l "name: $n\$" fleet/region-*/*/cluster.yaml)")
  fl apply "$d/cluster.yaml" --auto-approve
  expect_rc 0 "(c) apply $n"
done
fl plan fleet --detailed-exitcode
expect_rc 2 "(c) plan after two applies"
expect_out "Fleet: 8 clusters: 6 to change (108 actions), 2 in sync" "(c) plan after two applies"
fl apply fleet
expect_rc 1 "(c) apply fleet without --auto-approve and no terminal"
expect_out "approval needed but standard input is not a terminal" "(c) apply fleet unapproved"
fl apply fleet --auto-approve --cluster-parallelism 3
expect_rc 0 "(c) apply fleet"
expect_out "Fleet: 8 clusters: 6 applied, 2 in sync, 0 failed, 0 stopped or not started" "(c) apply fleet"
[[ $(grep -cE '^(tokyo|kobe) .* no-changes +0$' <<<"$out") -eq 2 &&
  $(grep -cE '^[a-z]+ +fleet/.* complete +18$' <<<"$out") -eq 6 ]] || fail "(c) the end table:
$out"
# Concurrent clusters: every line but the end table says whose it is.
stray=$(grep -vE '^\[(nagoya|sendai|fukuoka|sapporo|kyoto|osaka|tokyo|kobe)\] |^$|^CLUSTER |^Fleet: |^(nagoya|sendai|fukuoka|sapporo|kyoto|osaka|tokyo|kobe) +fleet/' <<<"$out")
[[ -z $stray ]] || fail "(c) lines without their cluster:
$stray"
fl plan fleet --detailed-exitcode
expect_rc 0 "(c) plan of a converged fleet"
expect_out "Fleet: 8 clusters: 8 in sync" "(c) plan of a converged fleet"
"$edgecert" plan fleet -o json >plan.json 2>plan.err || fail "(c) plan -o json: $(cat plan.err)"
[[ $(jq '.clusters | length' plan.json) -eq 8 && $(jq -r '.summary' plan.json) == "Fleet: 8 clusters: 8 in sync" &&
  $(jq '[.clusters[] | select(.outcome == "in_sync" and .plan.cluster == .cluster)] | length' plan.json) -eq 8 ]] ||
  fail "(c) plan -o json: $(cat plan.json)"

# --- (d) one spec broken, one node unreadable: the rest still planned ---------
osaka=$(dirname "$(grep -l 'name: osaka$' fleet/region-*/*/cluster.yaml)")
kyoto=$(dirname "$(grep -l 'name: kyoto$' fleet/region-*/*/cluster.yaml)")
cp "$osaka/cluster.yaml" osaka.bak
sed -i 's/digest: sha256/digest: md5/' "$osaka/cluster.yaml"
cp "$kyoto/.edgecert/sim/kyoto/edge2.json" edge2.bak
echo '{ torn' >"$kyoto/.edgecert/sim/kyoto/edge2.json"
fl plan fleet --detailed-exitcode
expect_rc 1 "(d) plan with a broken spec and an unreadable node"
expect_out "Fleet: 8 clusters: 6 in sync, 2 failed (kyoto, $osaka/cluster.yaml)" "(d) summary"
expect_out "$osaka/cluster.yaml:22:13: error: spec.serverCertificate.digest" "(d) the spec's error, positioned"
expect_out "[kyoto] edgecert: error: edge2: " "(d) the node's error, prefixed"
reported=0
for k in 1 2 3; do
  "$edgecert" plan fleet --shard "$k/3" >shard.out 2>&1
  grep -q "digest: invalid value 'md5'" shard.out && reported=$((reported + 1))
done
[[ $reported -eq 1 ]] || fail "(d) the broken spec was reported by $reported shards of 3, expected 1"
cp osaka.bak "$osaka/cluster.yaml"
mv edge2.bak "$kyoto/.edgecert/sim/kyoto/edge2.json" # a sim node file holds its key: no copy stays behind

# --- (e) conflicts: nothing is read ------------------------------------------
cp "$osaka/cluster.yaml" fleet/osaka-copy.yaml
sed -i "s#directory: $work/ca#directory: ca-elsewhere#" fleet/osaka-copy.yaml
touch -d '2020-01-01' "$osaka/.edgecert/sim/osaka/edge1.json"
before=$(stat -c %Y "$osaka/.edgecert/sim/osaka/edge1.json")
fl plan fleet
expect_rc 1 "(e) two specs for one cluster"
expect_out "edgecert: error: fleet/region-2/osaka/cluster.yaml: cluster 'osaka' is also defined in fleet/osaka-copy.yaml" "(e) two specs for one cluster"
expect_out "nothing was read or changed" "(e) two specs for one cluster"
fl validate fleet
expect_rc 1 "(e) validate, two specs for one cluster"
rm fleet/osaka-copy.yaml
# One --sim-dir for all: every cluster's sim://edge1 is one node file.
fl plan fleet --sim-dir shared-sim
expect_rc 1 "(e) a shared --sim-dir"
expect_out "reaches sim:shared-sim/edge1.json, as peer edge1 of cluster" "(e) a shared --sim-dir"
[[ -e shared-sim ]] && fail "(e) the shared --sim-dir was created: a node was opened"
[[ $(stat -c %Y "$osaka/.edgecert/sim/osaka/edge1.json") == "$before" ]] ||
  fail "(e) a node file changed"
mkdir -p https
for n in a b; do
  host=edge1.example.com
  [[ $n == b ]] && host=EDGE1.Example.com:443
  sed -e "s/name: quickstart/name: https-$n/" -e "s#sim://edge1#https://$host#" \
    -e "s#sim://edge2#https://$n-2.example.com#" -e "s#directory: ca/#directory: $work/ca#" \
    "$root/examples/quickstart/cluster.yaml" >https/$n.yaml
  printf '  access: {username: admin, passwordFrom: env:EXPRESSWAY_PASSWORD}\n' >>https/$n.yaml
done
fl validate https
expect_rc 1 "(e) one https node in two specs"
expect_out "https/b.yaml: peers[0] (edge1) reaches https://edge1.example.com:443, as peer edge1 of cluster 'https-a' in https/a.yaml does" "(e) one https node in two specs"

# --- (f) --out: a fleet plan, or one cluster's plan ----------------------------
# (fleet_plan_test.sh applies fleet plans.)
fl plan fleet --out fleet-plan.json
expect_rc 0 "(f) --out with many clusters"
expect_out "Saved the plans of 8 clusters to fleet-plan.json" "(f) --out"
[[ $(jq '.plans | length' fleet-plan.json) -eq 8 ]] || fail "(f) fleet-plan.json holds $(jq '.plans | length' fleet-plan.json) plans"
# A folder holding one spec: that cluster's plan is saved as a spec's is.
fl plan fleet/region-0/nagoya --out one.json
expect_rc 0 "(f) --out with a folder of one spec"
[[ -s one.json && $(jq -r '.cluster' one.json) == nagoya ]] || fail "(f) one.json: $(cat one.json 2>&1)"

# --- (g) status -------------------------------------------------------------
fl status fleet
expect_rc 0 "(g) status fleet"
expect_out "Fleet: 8 clusters: 8 read" "(g) status fleet"
[[ $(grep -c '^== ' <<<"$out") -eq 8 ]] || fail "(g) expected 8 headings"

# --- (h) Ctrl-C while a node never answers ------------------------------------
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' >silent.port &
bg_pids+=($!)
disown
wait_for "the silent listener" test -s silent.port
port=$(head -1 silent.port)
mkdir -p hang
sed -e "s/name: quickstart/name: hang/" -e "s#sim://edge1#https://127.0.0.1:$port#" \
  -e "s#directory: ca/#directory: $work/ca#" \
  "$root/examples/quickstart/cluster.yaml" >hang/cluster.yaml
printf '  access: {username: admin, passwordFrom: env:EXPRESSWAY_PASSWORD}\n' >>hang/cluster.yaml
cp -r fleet/region-2 hang/a-region # clusters planned before the hang
EXPRESSWAY_PASSWORD=x setsid "$edgecert" plan hang --insecure >hang.out 2>&1 &
pid=$!
bg_pids+=("$pid")
# Clusters are planned concurrently and printed in order: the three quick
# ones print, the silent one (last in name order) keeps the run going.
wait_for "the clusters before the silent one" grep -q '^== tokyo' hang.out
sleep 0.5
kill -INT "$pid"
start=$SECONDS
wait "$pid"
rc=$?
out=$(cat hang.out)
keep_output "$out"
expect_rc 130 "(h) Ctrl-C during a fleet plan"
((SECONDS - start <= 5)) || fail "(h) plan took $((SECONDS - start)) s to stop"
expect_out "nothing was changed" "(h) Ctrl-C"

# --- (i) a failing cluster, with and without --fail-fast ------------------------
for n in "${names[@]}"; do
  d=$(dirname "$(grep -l "name: $n\$" fleet/region-*/*/cluster.yaml)")
  sed -i 's/organizationalUnit: UC}/organizationalUnit: UC2}/' "$d/cluster.yaml" # every cluster has a rollout to do
done
nagoya=$(dirname "$(grep -l 'name: nagoya$' fleet/region-*/*/cluster.yaml)")
sed -i "s#directory: $work/ca#directory: $work/no-such-ca#" "$nagoya/cluster.yaml"
fl apply fleet --auto-approve --fail-fast
expect_rc 1 "(i) --fail-fast"
# nagoya is the first cluster in name order: nothing after it starts.
expect_out "[nagoya] edgecert: error: " "(i) --fail-fast"
[[ $(grep -c 'not started (--fail-fast)' <<<"$out") -eq 7 ]] || fail "(i) --fail-fast: expected 7 clusters not started:
$out"
fl apply fleet --shard 1/1 --auto-approve
expect_rc 1 "(i) a failing cluster without --fail-fast"
expect_out "Fleet: 8 clusters (shard 1/1 of 8 specs): 7 applied, 0 in sync, 1 failed" "(i) the others applied"
sed -i "s#directory: $work/no-such-ca#directory: $work/ca#" "$nagoya/cluster.yaml"
fl plan fleet --detailed-exitcode
expect_rc 2 "(i) nagoya still to do"
expect_out "Fleet: 8 clusters: 1 to change (16 actions), 7 in sync" "(i) nagoya still to do"

# --- (j) Ctrl-C during a concurrent fleet apply --------------------------------
for n in "${names[@]}"; do
  d=$(dirname "$(grep -l "name: $n\$" fleet/region-*/*/cluster.yaml)")
  sed -i 's/organizationalUnit: UC2}/organizationalUnit: UC3}/' "$d/cluster.yaml"
  set_restart_seconds "$d/.edgecert/sim/$n" 2
done
interrupted apply.out '\] \[1/2 edge1\] restart: started' 1 apply fleet --auto-approve --cluster-parallelism 4
expect_rc 130 "(j) Ctrl-C during a fleet apply"
expect_out "not started (interrupted)" "(j) the clusters never started"
expect_out "the lock is released" "(j) each stopped cluster"
[[ $(find fleet -path '*/.edgecert/state/*' -name lock.json | wc -l) -eq 0 ]] ||
  fail "(j) a lock remains: $(find fleet -path '*/.edgecert/state/*' -name lock.json)"
# A second Ctrl-C exits at once and names the clusters that were running:
# their locks stay, and force-unlock takes each before the fleet resumes.
for n in "${names[@]}"; do
  d=$(dirname "$(grep -l "name: $n\$" fleet/region-*/*/cluster.yaml)")
  sed -i 's/organizationalUnit: UC3}/organizationalUnit: UC4}/' "$d/cluster.yaml"
done
interrupted apply2.out '\] \[1/2 edge1\] restart: started' 2 apply fleet --auto-approve --cluster-parallelism 2
expect_rc 130 "(j) a second Ctrl-C"
expect_out "second interrupt: exiting at once" "(j) a second Ctrl-C"
running=$(sed -n 's/^edgecert: the clusters\{0,1\} running, whose locks\{0,1\} stays\{0,1\}: //p' <<<"$out")
[[ -n $running ]] || fail "(j) the second interrupt did not name the running clusters:
$out"
locks=$(find fleet -path '*/.edgecert/state/*' -name lock.json | sort)
[[ -n $locks ]] || fail "(j) no lock stayed after a second Ctrl-C"
for lock in $locks; do
  n=$(basename "$(dirname "$lock")")
  spec=$(dirname "$(dirname "$(dirname "$(dirname "$lock")")")")/cluster.yaml
  grep -qF "$n ($spec)" <<<"$running" || fail "(j) the lock of $n stayed but was not named: $running"
  fl force-unlock "$(jq -r .id "$lock")" "$spec" --force
  expect_rc 0 "(j) force-unlock $n"
done
fl apply fleet --auto-approve --cluster-parallelism 4
expect_rc 0 "(j) the next apply finishes the fleet"
fl plan fleet --detailed-exitcode
expect_rc 0 "(j) converged after the interrupted run"
fl check fleet
expect_rc 0 "(j) check of the converged fleet"
expect_out "Fleet: 8 clusters: 0 need an apply, 8 in sync" "(j) check's summary"

# --- (l) one file by two paths, a symbolic link loop ---------------------------
mkdir -p links
ln -s ../fleet/region-2/tokyo/cluster.yaml links/tokyo.yaml
ln -s .. fleet/region-0/up # fleet/region-0/up/region-0/up/... is one folder
fl validate fleet links/tokyo.yaml "$work/fleet/region-2/tokyo/cluster.yaml"
expect_rc 0 "(l) one spec by three paths, and a loop"
expect_out "8 specs: valid" "(l) one spec by three paths, and a loop"
rm fleet/region-0/up
cp fleet/region-2/tokyo/cluster.yaml links/tokyo-copy.yaml # a second definition
fl validate -o json fleet links/tokyo-copy.yaml
expect_rc 1 "(l) two specs for one cluster, as JSON"
[[ $(jq -r '.valid' <<<"$out") == false && $(jq -r '.diagnostics[0].message' <<<"$out") == "links/tokyo-copy.yaml: cluster 'tokyo' is also defined in fleet/region-2/tokyo/cluster.yaml" ]] ||
  fail "(l) validate -o json: $out"
rm -r links

# --- (k) the Kubernetes example, as written ------------------------------------
command -v git >/dev/null || fail "git is not installed"
mkdir -p k8s/repo/clusters k8s/state k8s/metrics
for n in tokyo osaka nagoya kobe; do
  d=$(dirname "$(grep -l "name: $n\$" fleet/region-*/*/cluster.yaml)")
  mkdir -p "k8s/repo/clusters/$n"
  cp "$d/cluster.yaml" "k8s/repo/clusters/$n/"
done
if ! git -C k8s/repo init -q -b main || ! git -C k8s/repo add -A ||
  ! git -C k8s/repo -c user.name=t -c user.email=t@example.com commit -qm fleet; then
  fail "(k) could not make the repository"
fi
# Each CronJob's shell script, its repository and volumes made local.
python3 - "$root/examples/kubernetes/cronjob.yaml" "$work/k8s" <<'PY' || fail "(k) cannot read the CronJobs"
import sys, yaml
src, out = sys.argv[1], sys.argv[2]
for doc in yaml.safe_load_all(open(src)):
    c = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    script = c["args"][0].replace("https://git.example.com/uc/fleet.git", out + "/repo")
    script = script.replace("/state", out + "/state").replace("/metrics/", out + "/metrics/")
    open(f"{out}/{doc['metadata']['name']}.sh", "w").write(script)
PY
k8s_run() {
  out=$(cd k8s && PATH="$(dirname "$edgecert"):$PATH" sh "$1.sh" 2>&1)
  rc=$?
  keep_output "$out"
}
for k in 1 2; do
  k8s_run "edgecert-check-shard-$k"
  expect_rc 0 "(k) check CronJob $k/2 on a fresh fleet" # the plan's changes are not an error
  [[ -s k8s/metrics/edgecert-shard-$k.prom ]] || fail "(k) shard $k wrote no metrics"
done
for n in tokyo osaka nagoya kobe; do set_restart_seconds "k8s/.edgecert/sim/$n" 0; done
for k in 1 2; do
  k8s_run "edgecert-apply-shard-$k"
  expect_rc 0 "(k) apply CronJob $k/2"
done
for k in 1 2; do
  k8s_run "edgecert-check-shard-$k"
  expect_rc 0 "(k) check CronJob $k/2 after the applies"
  grep -q '^edgecert_drift{.*} 1$' "k8s/metrics/edgecert-shard-$k.prom" &&
    fail "(k) shard $k still needs an apply: $(cat "k8s/metrics/edgecert-shard-$k.prom")"
done
[[ $(cat k8s/metrics/*.prom | grep -c '^edgecert_check_success{') -eq 4 ]] ||
  fail "(k) the two shards' metrics do not cover the 4 clusters once each"
[[ $(git -C k8s/repo notes --ref edgecert list | wc -l) -eq 1 ]] || fail "(k) no note on the applied commit"
# A fleet that does not validate: the apply job applies nothing and fails.
cp k8s/repo/clusters/tokyo/cluster.yaml k8s/repo/clusters/tokyo-copy.yaml
if ! git -C k8s/repo add -A || ! git -C k8s/repo -c user.name=t -c user.email=t@example.com commit -qm dup; then
  fail "(k) could not commit"
fi
k8s_run edgecert-apply-shard-1
expect_rc 1 "(k) the apply job on a fleet that does not validate"

echo "$script: ok"
