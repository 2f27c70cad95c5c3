#!/usr/bin/env bash
# edgecert-sim as an operator meets it, end to end with the real binary
# (docs/edgecert-sim.md):
#   (a) start-up lines: "NAME listening on", then "NAME ssh listening on" for
#       a node with --ssh, then "edgecert-sim ready"; the SSH host key is
#       written 0600 and the SSH port answers with an SSH banner;
#   (b) XML SystemUnit says each node's product (--product), 401 without a
#       password, an unrecognised request is 404 and logged on stderr;
#   (c) `edgecert-sim ui` changes the running node (TLS permissive raises alarm
#       40049), exits 1 naming the node when the node refuses, 2 for a bad
#       command line;
#   (d) a restart refuses HTTPS and SSH connections, then the node is back on
#       the same ports with a fresh uptime;
#   (e) SIGTERM stops it cleanly (exit 0).
#
# Usage: edgecert_sim_test.sh PATH/TO/edgecert (edgecert-sim is next to it).
set -uo pipefail

script=edgecert_sim_test
source "$(dirname "${BASH_SOURCE[0]}")/quickstart_lib.sh"
script_start "$@"
command -v curl >/dev/null || fail "curl is not installed"

sim_workdir edgecert-sim-test
echo "sim-test-password" >password

# (a)
sim_start --state "$work/st" --password-file "$work/password" --restart-seconds 2 \
  --scheduler-interval 0 --cluster-name lab --product edge2=expressway-c \
  --node edge1=127.0.0.1:0 --ssh edge1=127.0.0.1:0 --node edge2=127.0.0.1:0
mapfile -t lines <sim.out
[[ ${lines[0]} =~ ^edge1\ listening\ on\ 127\.0\.0\.1:[0-9]+$ &&
  ${lines[1]} =~ ^edge1\ ssh\ listening\ on\ 127\.0\.0\.1:[0-9]+$ &&
  ${lines[2]} =~ ^edge2\ listening\ on\ 127\.0\.0\.1:[0-9]+$ &&
  ${lines[3]} == "edgecert-sim ready" ]] || fail "unexpected start-up lines: $(cat sim.out)"
p1=${lines[0]##*:}
s1=${lines[1]##*:}
p2=${lines[2]##*:}
[[ $(stat -c %a st/edge1.ssh_host_key) == 600 ]] || fail "SSH host key is not 0600"
ssh_banner() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$s1 && head -c 7 <&3" 2>/dev/null; }
[[ $(ssh_banner) == "SSH-2.0" ]] || fail "no SSH banner on port $s1"

# (b)
get() { curl -sk -u "admin:sim-test-password" "https://127.0.0.1:$1$2"; }
get "$p1" "/getxml?location=/Status/SystemUnit" | grep -q "<ProductType item=\"1\">Expressway-E<" ||
  fail "edge1 is not an Expressway-E"
get "$p2" "/getxml?location=/Status/SystemUnit" | grep -q "<ProductType item=\"1\">Expressway-C<" ||
  fail "edge2 is not an Expressway-C (--product)"
[[ $(curl -sk -u admin:wrong "https://127.0.0.1:$p1/status.xml") == '{"Message":"Unauthorized"}' ]] ||
  fail "a wrong password is not 401 Unauthorized"
code=$(curl -sk -o /dev/null -w '%{http_code}' -u "admin:sim-test-password" \
  "https://127.0.0.1:$p1/api/provisioning/nothing")
[[ $code == 404 ]] || fail "an unknown path answered $code, not 404"
grep -q "edgecert-sim: edge1: unrecognised GET /api/provisioning/nothing -> 404" sim.err ||
  fail "the unrecognised request is not logged: $(cat sim.err)"

# (c)
out=$("$sim_bin" ui --state st edge1 set-tls permissive) || fail "ui set-tls failed: $out"
[[ $out == "edge1: cluster TLS verification mode set to Permissive" ]] || fail "ui said: $out"
get "$p1" "/getxml?location=/Status/Warnings" | grep -q "Cluster TLS permissive" ||
  fail "no alarm 40049 after ui set-tls permissive"
"$sim_bin" ui --state st edge1 discard-csr >ui.out 2>&1
[[ $? == 1 ]] || fail "ui discard-csr without a CSR did not exit 1"
grep -q "edgecert-sim ui: edge1: discard-csr: no CSR is in progress" ui.out || fail "$(cat ui.out)"
"$sim_bin" ui --state st edge1 set-tls sometimes >ui.out 2>&1
[[ $? == 2 ]] || fail "a bad ui command line did not exit 2"

# (d)
asked_ms=$(date +%s%3N)
reply=$(curl -sk -u "admin:sim-test-password" -H "X-CSRF-Header: test" -d '' \
  "https://127.0.0.1:$p1/api/provisioning/restart")
[[ $reply == '{"Message":"The operation was successful"}' ]] || fail "restart said: $reply"
refused=
for _ in $(seq 1 100); do
  curl -sk -o /dev/null -u "admin:sim-test-password" "https://127.0.0.1:$p1/status.xml"
  if [[ $? == 7 ]]; then
    refused=yes
    break
  fi
  sleep 0.02
done
[[ -n $refused ]] || fail "HTTPS connections were not refused while edge1 restarts"
[[ $(ssh_banner) != "SSH-2.0" ]] || fail "SSH still answers while edge1 restarts"
uptime=
for _ in $(seq 1 100); do
  uptime=$(get "$p1" "/getxml?location=/Status/SystemUnit" | sed -n 's/.*<Uptime item="1">\([0-9]*\)<.*/\1/p')
  [[ -n $uptime ]] && break
  sleep 0.1
done
# Back 2 s after the restart was asked: its uptime counts from then, so it is
# at least 2 s below the time since the request (an uptime from the first
# boot, before the request, would not be).
elapsed=$((($(date +%s%3N) - asked_ms) / 1000))
[[ -n $uptime && $uptime -le $((elapsed - 2)) ]] ||
  fail "edge1 not back with a fresh uptime (uptime '$uptime' s, $elapsed s since the restart)"
[[ $(ssh_banner) == "SSH-2.0" ]] || fail "SSH not back on port $s1 after the restart"

# (e)
kill -TERM "$sim_pid"
wait "$sim_pid"
rc=$?
sim_pid=
[[ $rc == 0 ]] || fail "edgecert-sim exited $rc on SIGTERM"
grep -q "edgecert-sim: stopped (SIGTERM)" sim.err || fail "no stop line: $(tail -3 sim.err)"
echo "edgecert_sim_test: ok"
