#!/usr/bin/env bash
# The secrets scan catches what it must (tests/scripts/secrets_scan.py):
#   (a) a planted private-key PEM: exit 1, naming file and line;
#   (b) a planted test password: exit 1, naming file and line and the line
#       of tests/support/test-secrets.txt, never the password itself;
#   (c) the same key in an allow-listed file: exit 0;
#   (d) a clean folder: exit 0; an allow-list entry without a why: exit 1.
# Its folder is outside the suite's scan folder and always removed: the
# planted secrets must not fail the suite's own scan.
set -uo pipefail

script=secrets_scan_selftest_test
# shellcheck source=quickstart_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh" || exit 1
script_start "$@"
scan=$root/tests/scripts/secrets_scan.py
secrets=$root/tests/support/test-secrets.txt

work=$(mktemp -d /tmp/edgecert-secrets-selftest.XXXXXX) || fail "mktemp failed"
trap 'rm -rf "$work"' EXIT
cd "$work" || fail "cannot enter $work"

password=$(grep -v '^#' "$secrets" | grep -m1 'Pa55word') || fail "no Pa55word in $secrets"
key_line="-----BEGIN EC PRIVATE KEY-----"
printf 'keys/ca-key.pem\tthe self-test'"'"'s allow-listed key\n' >allow.txt

run_scan() {  # run_scan PATH...: sets $out, $rc
  out=$(python3 "$scan" --secrets "$secrets" --allow "$work/allow.txt" "$@" 2>&1)
  rc=$?
}

# (d) clean
mkdir -p clean/sub
echo "nothing to see" >clean/sub/a.txt
run_scan clean
expect_rc 0 "(d) a clean folder"
expect_out "1 files scanned" "(d)"

# (a) a planted key, line 3
mkdir -p planted
printf 'one\ntwo\n%s\nAAAA\n' "$key_line" >planted/leak.log
run_scan planted
expect_rc 1 "(a) a planted private key"
expect_out "planted/leak.log:3: private-key PEM" "(a)"

# (b) a planted password, line 2; the scan never prints it
rm planted/leak.log
printf 'apply output\nconnecting with %s\n' "$password" >planted/out.txt
run_scan planted
expect_rc 1 "(b) a planted password"
expect_out "planted/out.txt:2: test secret (tests/support/test-secrets.txt line" "(b)"
grep -qF -- "$password" <<<"$out" && fail "(b) the scan printed the password itself: $out"

# (c) allow-listed
mkdir -p allowed/keys
printf '%s\nAAAA\n' "$key_line" >allowed/keys/ca-key.pem
run_scan allowed
expect_rc 0 "(c) an allow-listed key file"
expect_out "1 allow-listed" "(c)"
# ... the same key one folder off is not allow-listed
mkdir -p allowed/other
cp allowed/keys/ca-key.pem allowed/other/ca-key.pem
run_scan allowed
expect_rc 1 "(c) a key outside the allow-list"
expect_out "other/ca-key.pem:1: private-key PEM" "(c)"

# (d) an allow-list entry without a why
printf 'keys/*\n' >allow.txt
run_scan clean
expect_rc 1 "(d) an allow-list entry without a why"
expect_out "says no why" "(d)"

echo "$script: PASS"
