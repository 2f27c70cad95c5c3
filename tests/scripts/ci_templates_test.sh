#!/usr/bin/env bash
# The CI templates in examples/ci run real edgecert commands with real
# options, and have the shape docs/gitops.md describes (ci_templates_check.py).
#
# Usage: ci_templates_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
# The checker is also shown a copy with an option edgecert does not have and
# a command it does not have, and must refuse each: a checker that passes
# everything would prove nothing.
set -uo pipefail

script=ci_templates_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is not installed (scripts/install-deps installs it)"

check=$root/tests/scripts/ci_templates_check.py
templates=("$root/examples/ci/github-actions.yml" "$root/examples/ci/gitlab-ci.yml"
  "$root/examples/ci/github-actions-fleet.yml" "$root/examples/kubernetes/cronjob.yaml")
out=$(python3 "$check" "$edgecert" "${templates[@]}" 2>&1)
rc=$?
expect_rc 0 "the CI templates"

bg_workdir edgecert-ci-templates
# refused FILE WHAT TEXT...: the checker must refuse FILE, saying each TEXT.
refused() {
  local file=$1 what=$2 text
  shift 2
  out=$(python3 "$check" "$edgecert" "$file" 2>&1)
  rc=$?
  expect_rc 1 "$what"
  for text in "$@"; do expect_out "$text" "$what"; done
}
sed 's/--detailed-exitcode/--detailed-exit-code/' "${templates[0]}" >bad-flag.yml
refused bad-flag.yml "a template with an option edgecert lacks" "'edgecert plan' has no option --detailed-exit-code"
sed 's/edgecert approve /edgecert sign-off /' "${templates[1]}" >bad-command.yml
refused bad-command.yml "a template with a command edgecert lacks" "'edgecert sign-off' is not an edgecert command" "never runs 'edgecert approve'"
sed '/environment: production/d' "${templates[0]}" >no-gate.yml
refused no-gate.yml "a workflow whose apply runs without an environment" "no job runs behind an environment"
# Fleets: shards that leave clusters out are refused.
sed 's#--shard 2/2#--shard 1/2#g' "${templates[3]}" >bad-shards.yaml
refused bad-shards.yaml "CronJobs whose shards leave one out" "shards [1] do not cover 1..2"
sed 's/shard: \[1, 2, 3, 4\]/shard: [1, 2, 3]/' "${templates[2]}" >bad-matrix.yml
refused bad-matrix.yml "a fleet matrix that leaves a shard out" "does not cover 1..4"
sed 's/concurrencyPolicy: Forbid/concurrencyPolicy: Allow/' "${templates[3]}" >overlap.yaml
refused overlap.yaml "CronJobs whose runs may overlap" "concurrencyPolicy is not Forbid"
echo "ci_templates_test: ok"
