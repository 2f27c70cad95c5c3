#!/usr/bin/env bash
# The monitoring examples (docs/monitoring.md) are checked, not just shipped:
#
#   (a) examples/prometheus/edgecert-alerts.yml passes `promtool check rules`,
#       and tests/prometheus/edgecert-alerts-test.yml passes `promtool test
#       rules`; that test shows every alert of the rule file both firing and
#       silent, and every metric the rules use is documented in
#       docs/monitoring.md;
#   (b) examples/systemd/edgecert-check.{service,timer} pass `systemd-analyze
#       verify` (with any warning about them an error), or, where
#       systemd-analyze cannot work, a small parser (see below); the service is
#       a oneshot with SuccessExitStatus=2, the timer Persistent=true;
#   (c) every edgecert command line in examples/systemd/*.service uses a real
#       subcommand and only flags that `edgecert SUBCOMMAND --help` lists, so a
#       renamed flag fails here.
#
# Usage: monitoring_examples_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
# promtool comes with Debian's package `prometheus`. Without it the test is
# skipped (exit 0, with a message) unless CI=true or EDGECERT_REQUIRE_PROMTOOL=1,
# where it fails.
set -euo pipefail

script=monitoring_examples_test
fail() {
  echo "$script: FAIL: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || fail "usage: $0 PATH/TO/edgecert"
[[ -x $1 ]] || fail "edgecert binary '$1' is not executable"
edgecert=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rules=$root/examples/prometheus/edgecert-alerts.yml
rules_test=$root/tests/prometheus/edgecert-alerts-test.yml
units=$root/examples/systemd

if ! command -v promtool >/dev/null; then
  if [[ ${CI:-} == true || ${EDGECERT_REQUIRE_PROMTOOL:-} == 1 ]]; then
    fail "promtool is not installed (Debian package prometheus) and CI=true or EDGECERT_REQUIRE_PROMTOOL=1"
  fi
  echo "$script: SKIP: promtool is not installed (Debian package prometheus); set EDGECERT_REQUIRE_PROMTOOL=1 to fail instead"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/edgecert-monitoring.XXXXXX") || fail "mktemp failed"
cleanup() { [[ -n ${EDGECERT_KEEP_TEST_FILES:-} ]] || rm -rf "$work"; }
trap cleanup EXIT

# ---- (a) the alert rules -----------------------------------------------------
out=$(promtool check rules "$rules" 2>&1) || fail "promtool check rules $rules:
$out"
grep -q "SUCCESS" <<<"$out" || fail "promtool check rules did not report SUCCESS:
$out"
out=$(cd "$root" && promtool test rules "$rules_test" 2>&1) || fail "promtool test rules $rules_test:
$out"

# Every alert of the rule file has at least one test where it fires and one
# where it stays silent (an `exp_alerts: []` for its name).
alerts=$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "$rules")
[[ -n $alerts ]] || fail "no alert found in $rules"
coverage=$(awk '
  /^ *alertname:/ { name = $2 }
  /^ *exp_alerts:/ { if ($0 ~ /\[\]/) print name, "silent"; else print name, "fires" }
' "$rules_test")
for alert in $alerts; do
  grep -qx "$alert fires" <<<"$coverage" || fail "$rules_test has no test where $alert fires"
  grep -qx "$alert silent" <<<"$coverage" || fail "$rules_test has no test where $alert stays silent"
done

# Every metric the rules use is one edgecert writes, as documented.
while read -r metric; do
  grep -q "\`$metric\`" "$root/docs/monitoring.md" ||
    fail "$rules uses $metric, which docs/monitoring.md does not list"
done < <(grep -o 'edgecert_[a-z_]*' "$rules" | sort -u)

# ---- (b) the systemd units ---------------------------------------------------
service=$units/edgecert-check.service
timer=$units/edgecert-check.timer
[[ -f $service && -f $timer ]] || fail "missing $service or $timer"
grep -qx 'Type=oneshot' "$service" || fail "$service is not Type=oneshot"
grep -qx 'SuccessExitStatus=2' "$service" || fail "$service lacks SuccessExitStatus=2 (drift is not a failure)"
grep -qx 'Persistent=true' "$timer" || fail "$timer lacks Persistent=true"
grep -q '^OnCalendar=' "$timer" || fail "$timer has no OnCalendar="

# systemd-analyze verify checks the binary of ExecStart= exists: the copies
# checked run the edgecert under test instead of /usr/local/bin/edgecert.
mkdir "$work/units"
for f in "$units"/*.service "$units"/*.timer; do
  sed "s#/usr/local/bin/edgecert #$edgecert #" "$f" >"$work/units/$(basename "$f")"
done

# Does systemd-analyze work here? In a container without systemd as PID 1 it
# usually does (verify only loads unit files), but it may be missing or fail
# for reasons of its own: then a known-good unit fails as well.
analyze_works=
if command -v systemd-analyze >/dev/null; then
  mkdir "$work/probe"
  printf '[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=%s --version\n' \
    "$edgecert" >"$work/probe/edgecert-probe.service"
  if probe=$(cd "$work/probe" && systemd-analyze verify ./edgecert-probe.service 2>&1) &&
    ! grep -q 'edgecert-probe' <<<"$probe"; then
    analyze_works=1
  else
    echo "$script: note: systemd-analyze does not work here ($probe); checking the units with the fallback parser"
  fi
fi

if [[ -n $analyze_works ]]; then
  # Unknown keys and unparsable values are only warnings (exit 0) for
  # systemd-analyze: any line about our units fails the test.
  rc=0
  out=$(cd "$work/units" && systemd-analyze verify ./*.service ./*.timer 2>&1) || rc=$?
  if [[ $rc -ne 0 ]] || grep -q 'edgecert-check' <<<"$out"; then
    fail "systemd-analyze verify (exit $rc) on examples/systemd:
$out"
  fi
else
  # Fallback: systemd-analyze is missing or cannot run here. This parser
  # checks the syntax (sections, KEY=VALUE, continuation lines) and that every
  # key is a known directive of its section: it catches typos, not bad values.
  python3 - "$work/units" <<'PY' || fail "the systemd units do not parse (see above)"
import pathlib, sys
common_exec = {
    "User", "Group", "ExecStart", "ExecStartPre", "ExecStartPost", "Type",
    "SuccessExitStatus", "TimeoutStartSec", "TimeoutStopSec", "LoadCredential",
    "SetCredential", "StateDirectory", "StateDirectoryMode", "UMask",
    "NoNewPrivileges", "ProtectSystem", "ReadWritePaths", "ReadOnlyPaths",
    "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
    "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
    "ProtectClock", "ProtectHostname", "ProtectProc", "ProcSubset",
    "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime",
    "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute",
    "RemoveIPC", "CapabilityBoundingSet", "AmbientCapabilities",
    "SystemCallArchitectures", "SystemCallFilter", "Environment",
    "EnvironmentFile", "WorkingDirectory", "Nice", "IOSchedulingClass",
}
known = {
    "Unit": {"Description", "Documentation", "Wants", "Requires", "After",
             "Before", "OnFailure", "ConditionPathExists"},
    "Service": common_exec,
    "Timer": {"OnCalendar", "OnBootSec", "OnUnitActiveSec", "RandomizedDelaySec",
              "AccuracySec", "Persistent", "Unit", "FixedRandomDelay"},
    "Install": {"WantedBy", "RequiredBy", "Also", "Alias"},
}
allowed = {".service": {"Unit", "Service", "Install"}, ".timer": {"Unit", "Timer", "Install"}}
bad = 0
for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    section, cont, seen = None, False, set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        s = line.strip()
        where = f"{path.name}:{n}"
        if cont:
            cont = s.endswith("\\")
            continue
        if not s or s[0] in "#;":
            continue
        if s.startswith("["):
            section = s.strip("[]")
            if not s.endswith("]") or section not in allowed[path.suffix]:
                print(f"{where}: unexpected section {s}"); bad = 1
            seen.add(section)
            continue
        key, eq, value = s.partition("=")
        if not eq or section is None:
            print(f"{where}: not KEY=VALUE in a section: {s}"); bad = 1
            continue
        if key.strip() not in known.get(section, ()):
            print(f"{where}: unknown key {key.strip()!r} in [{section}]"); bad = 1
        cont = s.endswith("\\")
    need = {"Unit", "Service"} if path.suffix == ".service" else {"Unit", "Timer"}
    if not need <= seen:
        print(f"{path.name}: missing section(s) {sorted(need - seen)}"); bad = 1
sys.exit(bad)
PY
fi

# ---- (c) the edgecert command lines in the units -----------------------------
help=$("$edgecert" --help 2>&1) || fail "edgecert --help failed:
$help"
commands=0
for f in "$units"/*.service; do
  # ExecStart= lines, continuation lines joined.
  while IFS= read -r cmdline; do
    read -r -a words <<<"$cmdline"
    [[ ${words[0]##*/} == edgecert ]] || continue
    commands=$((commands + 1))
    sub=${words[1]:-}
    [[ -n $sub && $sub != -* ]] || fail "$f: no subcommand in: $cmdline"
    grep -Eq "^  $sub( |$)" <<<"$help" ||
      fail "$f: 'edgecert $sub' is not a subcommand of this edgecert (edgecert --help):
$help"
    subhelp=$("$edgecert" "$sub" --help 2>&1) || fail "$f: edgecert $sub --help failed:
$subhelp"
    for word in "${words[@]:2}"; do
      [[ $word == -* ]] || continue
      flag=${word%%=*}
      grep -Eq -- "(^|[ ,])$flag([ ,=]|$)" <<<"$subhelp" ||
        fail "$f: 'edgecert $sub' has no option $flag (edgecert $sub --help):
$subhelp"
    done
  done < <(sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$f" | sed -n 's/^ExecStart=[-@:+!]*//p')
done
[[ $commands -ge 1 ]] || fail "no edgecert command line found in $units/*.service"

echo "$script: OK: promtool check/test rules, the systemd units ($([[ -n $analyze_works ]] && echo systemd-analyze verify || echo fallback parser)), $commands edgecert command line(s)"
