#!/usr/bin/env bash
# --require-clean on plan and apply, with the real binary and real git
# repositories.
#
# Usage: require_clean_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
# On a copy of examples/quickstart committed in a fresh repository (the CA
# and .edgecert/ ignored):
#   (a) a spec outside any repository, and in a repository with no commit:
#       exit 1 "not in a git repository", nothing planned;
#   (b) committed and clean: plan --require-clean exits 2 (changes); an
#       untracked plan.json does not make the tree dirty;
#   (c) the spec edited: plan and apply exit 1 naming the spec and the
#       commit, nothing changed, no lock; committed, plan works again;
#   (d) another tracked file changed (staged, then deleted): exit 1 naming
#       it; reverted, apply --require-clean of the saved plan runs (exit 0).
set -uo pipefail

script=require_clean_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
command -v git >/dev/null || fail "git is not installed"

bg_workdir edgecert-require-clean
quickstart_spec "Require Clean Test CA"
sim=$work/sim
state=$work/state
gitq() { git -c user.name=t -c user.email=t@example.com "$@" >/dev/null 2>&1; }
node_status() { "$edgecert" status spec.yaml -o json --sim-dir "$sim" 2>/dev/null | jq -S '[.nodes[] | {name, certificate}]'; }

# --- (a) ----------------------------------------------------------------------
# ctest's temporary folder lies inside edgecert's own checkout: the spec
# "outside any repository" goes to a folder of its own under /tmp (it holds
# no secret: the CA stays in $work).
outside=$(mktemp -d /tmp/edgecert-require-clean-outside.XXXXXX) || fail "mktemp failed"
trap 'rm -rf "$outside"; bg_cleanup' EXIT
if git -C "$outside" rev-parse --git-dir >/dev/null 2>&1; then
  echo "require_clean_test: /tmp is inside a git repository; (a) outside a repository skipped"
else
  cp spec.yaml "$outside/spec.yaml" || fail "cp"
  out=$(cd "$outside" && "$edgecert" plan spec.yaml --require-clean --sim-dir "$sim" --state-dir "$state" </dev/null 2>&1)
  rc=$?
  expect_rc 1 "(a) a spec outside any repository"
  expect_out "--require-clean: spec.yaml is not in a git repository" "(a)"
fi
gitq init -q . || fail "git init"
ec plan spec.yaml --require-clean
expect_rc 1 "(a) a repository without a commit"
expect_out "is not in a git repository (or the repository has no commit yet)" "(a)"

# --- (b) ----------------------------------------------------------------------
printf 'ca/\n.edgecert/\nsim/\nstate/\n*.log\n' >.gitignore
echo "# notes" >README.md
gitq add spec.yaml .gitignore README.md && gitq commit -q -m spec || fail "git commit"
commit=$(git rev-parse --short=12 HEAD)
ec plan spec.yaml --require-clean --detailed-exitcode --out plan.json
expect_rc 2 "(b) a committed, clean spec"
ec plan spec.yaml --require-clean --detailed-exitcode
expect_rc 2 "(b) an untracked plan.json beside it"
before=$(node_status)

# --- (c) ----------------------------------------------------------------------
cp spec.yaml spec.keep
sed -i 's/healthTimeout: 2m/healthTimeout: 3m/' spec.yaml
ec plan spec.yaml --require-clean
expect_rc 1 "(c) an edited spec"
expect_out "--require-clean: spec.yaml differs from commit $commit" "(c)"
ec apply spec.yaml --auto-approve --require-clean
expect_rc 1 "(c) apply of an edited spec"
expect_out "--require-clean: spec.yaml differs from commit $commit" "(c) apply"
[[ $(node_status) == "$before" ]] || fail "(c) the nodes changed after a refused apply"
[[ ! -e $state/quickstart/lock.json ]] || fail "(c) a lock was left behind"
cp spec.keep spec.yaml

# --- (d) ----------------------------------------------------------------------
echo "more" >>README.md
gitq add README.md
ec plan spec.yaml --require-clean
expect_rc 1 "(d) a staged change to another tracked file"
expect_out "uncommitted changes to tracked files (README.md) since commit $commit" "(d)"
gitq reset -q --hard HEAD
rm README.md
ec apply plan.json --require-clean
expect_rc 1 "(d) a deleted tracked file"
expect_out "(README.md)" "(d) deleted"
gitq checkout -- README.md
ec apply plan.json --require-clean
expect_rc 0 "(d) apply of the saved plan from a clean tree"
echo "require_clean_test: ok"
