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
templates=("$root/examples/ci/github-actions.yml" "$root/examples/ci/gitlab-ci.yml")
out=$(python3 "$check" "$edgecert" "${templates[@]}" 2>&1)
rc=$?
expect_rc 0 "the CI templates"

bg_workdir edgecert-ci-templates
sed 's/--detailed-exitcode/--detailed-exit-code/' "${templates[0]}" >bad-flag.yml
out=$(python3 "$check" "$edgecert" bad-flag.yml 2>&1)
rc=$?
expect_rc 1 "a template with an option edgecert lacks"
expect_out "'edgecert plan' has no option --detailed-exit-code" "bad option"
sed 's/edgecert approve /edgecert sign-off /' "${templates[1]}" >bad-command.yml
out=$(python3 "$check" "$edgecert" bad-command.yml 2>&1)
rc=$?
expect_rc 1 "a template with a command edgecert lacks"
expect_out "'edgecert sign-off' is not an edgecert command" "bad command"
expect_out "never runs 'edgecert approve'" "bad command"
sed '/environment: production/d' "${templates[0]}" >no-gate.yml
out=$(python3 "$check" "$edgecert" no-gate.yml 2>&1)
rc=$?
expect_rc 1 "a workflow whose apply runs without an environment"
expect_out "no job runs behind an environment" "no gate"
echo "ci_templates_test: ok"
