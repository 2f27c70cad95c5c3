#!/usr/bin/env bash
# Specs read from a git ref (--git REPO --ref REF --path DIR), with the real
# binary, real repositories and a remote served by `git daemon`.
#
# Usage: git_source_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
# A repository holds the quickstart spec at clusters/qs/cluster.yaml and a
# partner CA it trusts at clusters/common/partner.pem (named as
# ../common/partner.pem). edgecert runs from a folder outside it.
#   (a) validate from the ref; bad input, each exit 1 naming what is wrong:
#       a ref that does not exist (the branches listed), a --path missing at
#       the commit, a spec missing there, an absolute SPEC, a commit id the
#       repository does not have, --ref without --git, a trusted CA
#       that climbs out of the repository, a URL with a password (not
#       echoed), an issuer folder inside the commit (positioned); a CA file
#       read from the machine instead of the commit is a warning;
#   (b) plan --git --out records repository, ref and commit; an uncommitted
#       edit in the repository's working tree changes nothing (the commit is
#       read, not the folder); nothing is written into the repository;
#   (c) the ref moves, the spec does not: apply PLAN says so and runs; the
#       outcome is a note on the applied commit (refs/notes/edgecert);
#       check --git labels its metrics with the spec's path in the repository;
#   (d) the spec changes at the ref: apply PLAN exits 1 naming both commits,
#       nothing changed, no lock; the same for a changed CA file (the plan
#       made now differs); apply PLAN --ref the planned commit still runs,
#       and --ref another branch says which refs and commits it compares;
#   (e) a remote (git://): apply with --push-note adds the note there, a
#       second apply appends to it; without --push-note no note is pushed;
#   (f) the remote's notes ref moves under every push (a hook plays the other
#       writer): exit 1 "non-fast-forward", the apply itself reported done;
#   (g) a server that accepts the connection and never answers: apply exits
#       1 after EDGECERT_GIT_TIMEOUT, nothing changed.
set -uo pipefail

script=git_source_test
# shellcheck source=tests/scripts/quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
command -v git >/dev/null || fail "git is not installed"
command -v openssl >/dev/null || fail "openssl is not installed"

pids_workdir edgecert-git-source
cd "$work" || fail "cd $work"
sim=$work/sim
state=$work/state
quickstart_spec "Git Source Test CA"
gitq() { git -c user.name=t -c user.email=t@example.com "$@" >/dev/null 2>&1; }
node_status() { "$edgecert" status spec.yaml -o json --sim-dir "$sim" --state-dir "$state" 2>/dev/null | jq -S '[.nodes[] | {name, certificate}]'; }
# validate takes no --sim-dir.
ev() {
  out=$("$edgecert" "$@" --state-dir "$state" </dev/null 2>&1)
  rc=$?
  keep_output "$out"
}
partner_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=$1" -days 365 -out "$2" >/dev/null 2>&1 || fail "openssl req ($1)"
}

repo=$work/repo
mkdir -p "$repo/clusters/qs" "$repo/clusters/common" || fail "mkdir"
cp spec.yaml "$repo/clusters/qs/cluster.yaml" || fail "cp"
cat >>"$repo/clusters/qs/cluster.yaml" <<'EOF'
  trustedCAs:
    certificates: [../common/partner.pem]
EOF
partner_ca "Partner CA One" "$repo/clusters/common/partner.pem"
(cd "$repo" && gitq init -q -b main . && gitq add -A && gitq commit -q -m spec) || fail "git commit"
tip() { git -C "$repo" rev-parse HEAD; }
commit1=$(tip)
g=(--git "$repo" --ref main --path clusters/qs)

# --- (a) ----------------------------------------------------------------------
ev validate "${g[@]}"
expect_rc 0 "(a) validate from the ref"
expect_out "From git: $repo main at ${commit1:0:12} (path clusters/qs)" "(a)"
expect_out "git:${commit1:0:12}/clusters/qs/cluster.yaml: valid" "(a)"
ev validate --git "$repo" --ref nope
expect_rc 1 "(a) a ref that does not exist"
expect_out "no branch, tag, ref or commit 'nope' (branches: main)" "(a) missing ref"
ec plan cluster.yaml --git "$repo" --ref main --path clusters/none
expect_rc 1 "(a) a --path missing at the commit"
expect_out "--path clusters/none: no such folder in commit main at ${commit1:0:12}" "(a) missing path"
ec plan missing.yaml "${g[@]}"
expect_rc 1 "(a) a spec missing at the commit"
expect_out "git:${commit1:0:12}/clusters/qs/missing.yaml: no such file in commit main at ${commit1:0:12}" "(a) missing spec"
ec plan /etc/hostname "${g[@]}"
expect_rc 1 "(a) an absolute SPEC with --git"
expect_out "'/etc/hostname' is not a path in the repository" "(a) absolute SPEC"
ec plan cluster.yaml --git "$repo" --ref 0123456789abcdef
expect_rc 1 "(a) a commit id the repository does not have"
expect_out "no branch, tag, ref or commit '0123456789abcdef'" "(a) unknown commit"
ec plan cluster.yaml --ref main
expect_rc 1 "(a) --ref without --git"
expect_out "need --git REPO" "(a) --ref alone"
sed 's#\.\./common/partner.pem#../../../../etc/hostname#' "$repo/clusters/qs/cluster.yaml" >"$repo/clusters/qs/escape.yaml"
(cd "$repo" && gitq add -A && gitq commit -q -m escape) || fail "git commit (escape)"
ev validate escape.yaml "${g[@]}"
expect_rc 1 "(a) a trusted CA outside the repository"
expect_out "climbs out of the repository" "(a) escape"
ev validate --git "https://alice:S3cretPW@127.0.0.1:1/x.git" --ref main
expect_rc 1 "(a) a URL with a password"
expect_out "the repository URL carries a password" "(a) password"
! grep -q S3cretPW <<<"$out" || fail "(a) the password was echoed: $out"
sed 's#directory: [^}]*/ca}#directory: ca/}#' "$repo/clusters/qs/cluster.yaml" >"$repo/clusters/qs/relca.yaml"
partner_ca "Partner CA Outside" "$work/outside.pem"
sed "s#\.\./common/partner.pem#$work/outside.pem#" "$repo/clusters/qs/cluster.yaml" >"$repo/clusters/qs/absca.yaml"
(cd "$repo" && gitq add -A && gitq commit -q -m variants) || fail "git commit (variants)"
ev validate relca.yaml "${g[@]}"
expect_rc 1 "(a) an issuer folder inside the commit"
expect_out "relca.yaml:$(grep -n 'directory: ca/' "$repo/clusters/qs/relca.yaml" | cut -d: -f1):" "(a) relca positioned"
expect_out "lies in the git commit the spec is read from (--git), where nothing can be written" "(a) relca"
ev validate absca.yaml "${g[@]}"
expect_rc 0 "(a) a CA file outside the commit (a warning)"
expect_out "is read from this machine, not from the git commit (--git)" "(a) absca"
ev validate absca.yaml "${g[@]}" --strict
expect_rc 1 "(a) a CA file outside the commit under --strict"
(cd "$repo" && gitq rm -q clusters/qs/escape.yaml clusters/qs/relca.yaml clusters/qs/absca.yaml &&
  gitq commit -q -m "no variants") || fail "git rm"
commit1=$(tip)

# --- (b) ----------------------------------------------------------------------
before=$(node_status)
echo "  bogus: [" >>"$repo/clusters/qs/cluster.yaml" # uncommitted: not what runs
ec plan cluster.yaml "${g[@]}" --out plan.json --detailed-exitcode
expect_rc 2 "(b) plan from the ref (the working tree's edit is not read)"
expect_out "Partner CA One" "(b) the CA file from the commit"
[[ $(jq -r .git.commit plan.json) == "$commit1" ]] || fail "(b) the plan records commit $(jq -r .git.commit plan.json), not $commit1"
[[ $(jq -r .git.repository plan.json) == "$repo" && $(jq -r .git.ref plan.json) == main ]] ||
  fail "(b) the plan's git origin: $(jq -c .git plan.json)"
[[ $(jq -r .spec.path plan.json) == clusters/qs/cluster.yaml ]] || fail "(b) spec.path $(jq -r .spec.path plan.json)"
ec plan cluster.yaml "${g[@]}" -o markdown
expect_out "at commit \`${commit1:0:12}\`" "(b) the Markdown plan names the commit"
git -C "$repo" checkout -q -- clusters/qs/cluster.yaml || fail "git checkout"
[[ -z $(git -C "$repo" status --porcelain) ]] || fail "(b) edgecert wrote into the repository: $(git -C "$repo" status --porcelain)"
[[ -d $state/git-cache ]] || fail "(b) no git cache under the state folder"
[[ $(node_status) == "$before" ]] || fail "(b) plan changed the nodes"

# --- (c) ----------------------------------------------------------------------
echo "# notes" >"$repo/README.md"
(cd "$repo" && gitq add README.md && gitq commit -q -m readme) || fail "git commit (readme)"
commit2=$(tip)
ec apply plan.json
expect_rc 0 "(c) apply of the plan after the ref moved, the spec unchanged"
expect_out "main moved from commit ${commit1:0:12} (planned) to ${commit2:0:12}" "(c)"
expect_out "Git: noted in refs/notes/edgecert of $repo on commit ${commit2:0:12}" "(c)"
note=$(git -C "$repo" notes --ref=edgecert show "$commit2" 2>&1) || fail "(c) no note on $commit2: $note"
[[ $(jq -r .outcome <<<"$note") == complete && $(jq -r .cluster <<<"$note") == quickstart ]] ||
  fail "(c) the note: $note"
[[ $(jq -r '.git_commit' <"$state/quickstart/audit.jsonl" | sort -u) == "$commit2" ]] ||
  fail "(c) the audit log's git_commit: $(jq -r .git_commit <"$state/quickstart/audit.jsonl" | sort -u)"
ec check "${g[@]}" --metrics-file m.prom
expect_rc 0 "(c) check --git after the apply"
grep -q 'edgecert_check_success{cluster="quickstart",spec="clusters/qs/cluster.yaml"} 1' m.prom ||
  fail "(c) the metrics' spec label: $(grep check_success m.prom)"

# --- (d) ----------------------------------------------------------------------
ec plan cluster.yaml "${g[@]}" --replace edge1 --out plan2.json
expect_rc 0 "(d) plan --replace"
planned=$(tip)
sed -i 's/healthTimeout: 2m/healthTimeout: 3m/' "$repo/clusters/qs/cluster.yaml"
(cd "$repo" && gitq commit -q -am "3m") || fail "git commit (3m)"
commit3=$(tip)
before=$(node_status)
ec apply plan2.json
expect_rc 1 "(d) the spec changed at the ref"
expect_out "clusters/qs/cluster.yaml at main in $repo changed since the plan was made: commit ${planned:0:12} (planned) -> ${commit3:0:12} (now)" "(d)"
expect_out "nothing was changed" "(d)"
[[ $(node_status) == "$before" ]] || fail "(d) the nodes changed after a refused apply"
[[ ! -e $state/quickstart/lock.json ]] || fail "(d) a lock was left behind"
ec apply plan2.json --ref "$planned"
expect_rc 0 "(d) the plan applied from the commit it was made from"
# A file the spec names changes, the spec does not.
ec plan cluster.yaml "${g[@]}" --replace edge2 --out plan3.json
planned=$(tip)
partner_ca "Partner CA Two" "$repo/clusters/common/partner.pem"
(cd "$repo" && gitq commit -q -am "partner CA two") || fail "git commit (CA)"
commit4=$(tip)
before=$(node_status)
ec apply plan3.json
expect_rc 1 "(d) a CA file changed at the ref"
expect_out "main moved from commit ${planned:0:12} (planned) to ${commit4:0:12} (now): a file the spec names may have changed" "(d) CA"
[[ $(node_status) == "$before" ]] || fail "(d) the nodes changed after a refused apply (CA)"
# The plan applied from another branch whose spec and CA are the planned ones.
(cd "$repo" && gitq checkout -q -b release "$planned" && echo rel >REL && gitq add REL &&
  gitq commit -q -m rel && gitq checkout -q main) || fail "git branch release"
rel=$(git -C "$repo" rev-parse release)
ec apply plan3.json --ref release
expect_rc 0 "(d) the plan applied from another branch"
expect_out "The plan was made from main at ${planned:0:12}; release is at ${rel:0:12}" "(d) --ref release"

# --- (e) ----------------------------------------------------------------------
mkdir -p "$work/served" || fail "mkdir served"
git clone -q --bare "$repo" "$work/served/edge.git" || fail "git clone --bare"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --base-path="$work/served" \
  --export-all --enable=receive-pack "$work/served" >"$work/daemon.log" 2>&1 &
bg_pids+=($!)
disown $!
url=git://127.0.0.1:$port/edge.git
daemon_up() { git ls-remote "$url" >/dev/null 2>&1; }
wait_for "git daemon" daemon_up
r=(--git "$url" --ref main --path clusters/qs)
ec apply cluster.yaml "${r[@]}" --auto-approve --replace edge1
expect_rc 0 "(e) apply from the remote without --push-note"
expect_out "no git note: $url is remote, and --push-note was not given" "(e)"
ec apply cluster.yaml "${r[@]}" --auto-approve --replace edge1 --push-note
expect_rc 0 "(e) apply from the remote with --push-note"
expect_out "Git: noted in refs/notes/edgecert of $url on commit ${commit4:0:12}" "(e)"
ec apply cluster.yaml "${r[@]}" --auto-approve --replace edge2 --push-note
expect_rc 0 "(e) a second apply with --push-note"
lines=$(git --git-dir="$work/served/edge.git" notes --ref=edgecert show "$commit4" | wc -l)
[[ $lines -eq 2 ]] || fail "(e) the remote note has $lines lines, not 2: $(git --git-dir="$work/served/edge.git" notes --ref=edgecert show "$commit4")"

# --- (f) ----------------------------------------------------------------------
# Another writer gets its note in first on every push.
cat >"$work/served/edge.git/hooks/pre-receive" <<'EOF'
#!/bin/sh
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
export GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=o@example.com GIT_COMMITTER_NAME=other GIT_COMMITTER_EMAIL=o@example.com
while read -r old new ref; do
  if [ "$ref" = refs/notes/edgecert ]; then
    git notes --ref=edgecert append -m '{"other":"writer"}' "$(git rev-parse refs/heads/main)" >/dev/null 2>&1
  fi
done
exit 0
EOF
chmod +x "$work/served/edge.git/hooks/pre-receive"
ec apply cluster.yaml "${r[@]}" --auto-approve --replace edge1 --push-note
expect_rc 1 "(f) the note's push keeps losing the race"
expect_out "Apply complete" "(f) the apply itself"
expect_out "could not be added as a git note" "(f)"
expect_out "non-fast-forward" "(f)"

# --- (g) ----------------------------------------------------------------------
silent=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); held = []
while True: held.append(s.accept()[0])' "$silent" &
bg_pids+=($!)
disown $!
silent_up() { (exec 3<>"/dev/tcp/127.0.0.1/$silent") 2>/dev/null; }
wait_for "the silent server" silent_up
before=$(node_status)
started=$SECONDS
out=$(EDGECERT_GIT_TIMEOUT=2 "$edgecert" apply cluster.yaml --git "git://127.0.0.1:$silent/x.git" --ref main \
  --auto-approve --sim-dir "$sim" --state-dir "$state" </dev/null 2>&1)
rc=$?
keep_output "$out"
expect_rc 1 "(g) a server that never answers"
expect_out "no answer for 2s (EDGECERT_GIT_TIMEOUT); nothing was changed" "(g)"
((SECONDS - started < 30)) || fail "(g) the timeout took $((SECONDS - started))s"
[[ $(node_status) == "$before" ]] || fail "(g) the nodes changed"

echo "git_source_test: ok (${SECONDS}s)"
