#!/usr/bin/env bash
# Hostile spec text, end to end with the real binary (issue 16 defects 1 and
# 8): each run is under `ulimit -v` (1 GiB of address space) and `timeout 10`,
# so a regression of the yaml-cpp shield (which grew validate to 5 GB within
# 10 s on 5 bytes) fails here as a timeout or an allocation failure, never as
# a stuck suite or a swapping machine.
#
# Usage: hostile_yaml_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
#   (a) malformed YAML (",a: b", "# \n  ,ame: b", yaml-cpp issues #499, #1040,
#       #793 and the Falco report's shapes), deep nesting, a NUL byte, an
#       empty key, anchors: validate, plan and apply exit 1 at once with
#       FILE:LINE:COL and words, leave no lock and create no node;
#   (b) a 50 MB value, 200,000 unknown keys, a 900 KB value, 3,000 unknown
#       keys: exit 1 with stderr of a few kilobytes (bytes counted), at most
#       50 diagnostics and a line saying how many more there are;
#   (c) validate --output json on malformed YAML: exit 1, valid JSON.
set -uo pipefail

script=hostile_yaml_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1

script_start "$@"
command -v timeout >/dev/null || fail "timeout (coreutils) is not installed"

bg_workdir edgecert-hostile-yaml
sim=$work/sim
state=$work/state

# bounded ARGS...: edgecert ARGS under the limits; sets $out (stderr and
# stdout), $err_bytes (stderr's size) and $rc. 124 is the timeout, 134/137 an
# abort or a kill.
bounded() {
  (
    ulimit -v 1048576
    exec timeout -s KILL 10 "$edgecert" "$@" --sim-dir "$sim" --state-dir "$state" </dev/null
  ) >stdout.txt 2>stderr.txt
  rc=$?
  err_bytes=$(wc -c <stderr.txt)
  out=$(cat stdout.txt stderr.txt)
}
bounded_validate() {  # like bounded, for validate (it takes no --sim-dir)
  (
    ulimit -v 1048576
    exec timeout -s KILL 10 "$edgecert" validate "$@" </dev/null
  ) >stdout.txt 2>stderr.txt
  rc=$?
  err_bytes=$(wc -c <stderr.txt)
  out=$(cat stdout.txt stderr.txt)
}
nothing_changed() {  # nothing_changed WHAT
  [[ ! -e $state ]] || fail "$1: the state folder was created: $(find "$state" | head)"
  [[ ! -e $sim ]] || fail "$1: the sim folder was created: $(find "$sim" | head)"
}
small_stderr() {  # small_stderr MAX_BYTES WHAT
  [[ $err_bytes -le $1 ]] || fail "$2: $err_bytes bytes of stderr (at most $1 expected): $(head -c 600 stderr.txt)"
}

# refused FILE FILE:LINE:COL TEXT: validate, plan and apply all exit 1 at once,
# naming the position; nothing changed.
refused() {
  local file=$1 where=$2 text=$3
  bounded_validate "$file"
  expect_rc 1 "validate $file"
  expect_out "$where: error: $text" "validate $file"
  small_stderr 2000 "validate $file"
  for cmd in plan apply; do
    bounded "$cmd" "$file"
    expect_rc 1 "$cmd $file"
    expect_out "$where: error: $text" "$cmd $file"
    small_stderr 2000 "$cmd $file"
    nothing_changed "$cmd $file"
  done
}

# --- (a) malformed YAML -----------------------------------------------------
printf ',a: b' >comma.yaml
refused comma.yaml comma.yaml:1:1 "YAML syntax error: did not find expected node content"
printf '# \n  ,ame: b' >comment-comma.yaml
refused comment-comma.yaml comment-comma.yaml:2:3 "YAML syntax error"
printf ',' >lone-comma.yaml
refused lone-comma.yaml lone-comma.yaml:1:1 "YAML syntax error"
printf '[:' >bracket-colon.yaml
refused bracket-colon.yaml bracket-colon.yaml:1:1 "YAML syntax error: did not find expected node content; this '[' is never closed"
printf '{:' >brace-colon.yaml
refused brace-colon.yaml brace-colon.yaml:1:1 "YAML syntax error"
printf '[[:' >nested-colon.yaml
refused nested-colon.yaml nested-colon.yaml:1:2 "YAML syntax error"
printf -- '- !+(.,.)' >tag-flow.yaml
refused tag-flow.yaml tag-flow.yaml:1:3 "a tag (!+(.,.)): a spec does not use YAML tags"
printf -- '- macro: x\n  condition:\n    (a in (\n"/usr/b.sh",\n    "-c rsync"\n    )  )\n' \
  >falco.yaml
refused falco.yaml falco.yaml:4:12 "YAML syntax error: invalid trailing content"
printf 'a: %s\n' "$(printf '[%.0s' $(seq 100000))" >deep.yaml
refused deep.yaml deep.yaml:1:67 "nesting deeper than 64 levels"
printf 'apiVersion: ed\0ge\n' >nul.yaml
refused nul.yaml nul.yaml:1:15 "a NUL byte here: YAML does not allow control characters"
cp "$root/examples/quickstart/cluster.yaml" empty-key.yaml
printf ': x\n' >>empty-key.yaml
line=$(wc -l <empty-key.yaml)
refused empty-key.yaml "empty-key.yaml:$line:1" "the document: a key is empty"
printf 'a: &x b\nc: *x\n' >anchor.yaml
refused anchor.yaml anchor.yaml:1:5 "an anchor (&x): a spec does not use YAML anchors"

# --- (b) big values, many keys ----------------------------------------------
# 50 MB in one value: refused by size, the value never echoed.
{
  printf 'apiVersion: edgecert/v1\nkind: ExpresswayCluster\nmetadata:\n  name: '
  head -c 52428800 /dev/zero | tr '\0' x
  printf '\n'
} >big-value.yaml
for cmd in validate plan apply; do
  if [[ $cmd == validate ]]; then bounded_validate big-value.yaml; else bounded "$cmd" big-value.yaml; fi
  expect_rc 1 "$cmd big-value.yaml"
  expect_out "big-value.yaml" "$cmd big-value.yaml"
  small_stderr 1000 "$cmd big-value.yaml"
  nothing_changed "$cmd big-value.yaml"
done
# 200,000 unknown keys (2 MB): refused by size with one message; 60,000
# (600 KB) by the node cap, also with one.
seq 200000 | sed 's/^/k/; s/$/: 1/' >many-keys.yaml
bounded_validate many-keys.yaml
expect_rc 1 "200,000 keys"
expect_out "many-keys.yaml:0:0: error: " "200,000 keys"
small_stderr 1000 "200,000 keys"
seq 60000 | sed 's/^/k/; s/$/: 1/' >keys-60k.yaml
bounded_validate keys-60k.yaml
expect_rc 1 "60,000 keys"
expect_out "keys-60k.yaml:5000:8: error: more than 10000 values, lists and mappings" "60,000 keys"
small_stderr 1000 "60,000 keys"
# A 900 KB value (under the 1 MiB spec cap) is echoed cut.
{
  printf 'apiVersion: edgecert/v1\nkind: ExpresswayCluster\nmetadata:\n  name: '
  head -c 900000 /dev/zero | tr '\0' x
  printf '\n'
} >long-value.yaml
bounded_validate long-value.yaml
expect_rc 1 "900 KB value"
expect_out "long-value.yaml:4:9: error: metadata.name: 'xxxxxxxxxx" "900 KB value"
expect_out "... (900000 bytes)' must be 1 to 63" "900 KB value"
small_stderr 2000 "900 KB value"
# 3,000 unknown keys: 50 diagnostics and a count of the rest.
seq 3000 | sed 's/^/k/; s/$/: 1/' >keys.yaml
bounded_validate keys.yaml
expect_rc 1 "3,000 keys"
expect_out "keys.yaml:0:0: error: ... and 2954 more problems not shown (the first 50 are above)" \
  "3,000 keys"
[[ $(wc -l <stderr.txt) -eq 51 ]] || fail "3,000 keys: $(wc -l <stderr.txt) lines of stderr, expected 51"
small_stderr 8000 "3,000 keys"

# --- (c) JSON output ----------------------------------------------------------
bounded_validate --output json comma.yaml
expect_rc 1 "validate --output json comma.yaml"
jq -e '.valid == false and (.diagnostics | length) == 1 and .diagnostics[0].line == 1
       and .diagnostics[0].column == 1' stdout.txt >/dev/null ||
  fail "validate --output json: unexpected JSON: $(cat stdout.txt)"

echo "$script: PASS"
