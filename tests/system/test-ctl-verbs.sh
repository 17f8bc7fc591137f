#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: every berthctl verb against the real berthd and systemd,
# exit codes, --json parsed back with python3, and an unprivileged user.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
systemctl daemon-reload
command -v berthctl >/dev/null || fail "berthctl is not installed"

write_conf demo "/bin/sh -c 'echo hello-from-demo; exec sleep 1000'"
write_conf idle "/bin/sleep 1000"

echo "== help and argument errors"
expect_rc 0 berthctl --help
echo "$out" | grep -q "exec \[OPTIONS\] NAME" || fail "--help lacks exec"
for v in list status show start stop restart kill enable disable run exec shell logs set-property inspect cat help; do
        expect_rc 0 berthctl "$v" --help
        echo "$out" | grep -q "^berthctl $v" || fail "$v --help: $out"
        expect_rc 0 berthctl help "$v"
done
expect_rc 0 berthctl --version
expect_rc 2 berthctl no-such-verb
expect_rc 2 berthctl status
expect_rc 2 berthctl list --json=bogus
expect_rc 2 berthctl kill demo --signal=NOPE
ok "help for every verb, usage errors exit 2"

echo "== list, start, status"
expect_rc 0 berthctl list --no-pager
echo "$out" | grep -q "0 containers listed" || fail "list not empty: $out"
expect_rc 0 berthctl list --all --no-legend
echo "$out" | grep -q "^demo " || fail "list --all lacks the configured demo: $out"
echo "$out" | grep -q "^idle " || fail "list --all lacks idle: $out"
expect_rc 0 berthctl start demo
expect_rc 0 berthctl list
echo "$out"
echo "$out" | grep -Eq "^NAME +STATE +ADDRESS +IMAGE +UPTIME +MEMORY +LIMIT" || fail "list header: $out"
echo "$out" | grep -Eq "^demo +running " || fail "demo not running in list: $out"
echo "$out" | grep -q "1 container listed" || fail "list footer: $out"
berthctl list --json=short >list.json
[ "$(json 'd[0]["name"]' <list.json)" = demo ] || fail "list --json name"
[ "$(json 'd[0]["state"]' <list.json)" = running ] || fail "list --json state"
[ "$(json 'd[0]["leader"] > 1' <list.json)" = True ] || fail "list --json leader"
[ "$(json 'd[0]["image"]' <list.json)" = "$BB" ] || fail "list --json image: $(cat list.json)"
[ "$(json 'd[0]["scope"]' <list.json)" = berth-demo.scope ] || fail "list --json scope"
berthctl list --all --json=pretty | json 'sorted(c["name"] for c in d)' | grep -q "'demo', 'idle'" || fail "list --all --json"
ok "list (table, --all, --json)"

expect_rc 0 berthctl status demo --no-pager
echo "$out"
echo "$out" | grep -q "State: running" || fail "status: state"
echo "$out" | grep -q "Scope: berth-demo.scope" || fail "status: scope"
echo "$out" | grep -q "Leader: [0-9]" || fail "status: leader"
echo "$out" | grep -q "CGroup: /.*berth-demo.scope" || fail "status: cgroup"
echo "$out" | grep -q "sleep 1000" || fail "status: process tree"
wait_for 5 sh -c 'berthctl status demo --no-pager | grep -q hello-from-demo' || fail "status: no journal lines"
expect_rc 3 berthctl status idle
echo "$out" | grep -q "State: exited\|State: inactive\|State: " || fail "status idle: $out"
expect_rc 4 berthctl status nosuch
berthctl status demo --json=short | json 'd["properties"]["State"] + " " + str(d["tasks_current"] is None or d["tasks_current"] >= 2)' |
        grep -q "running True" || fail "status --json"
ok "status (text, exit 3 not running, exit 4 no such container, --json)"

echo "== show"
expect_rc 0 berthctl show demo
echo "$out" | grep -q "^State=running$" || fail "show: State"
echo "$out" | grep -q "^Scope=berth-demo.scope$" || fail "show: Scope"
echo "$out" | grep -q "^Namespaces=(" || fail "show: Namespaces"
[ "$(berthctl show demo -p State --value)" = running ] || fail "show -p State --value"
[ "$(berthctl show demo -p Name,State | wc -l)" = 2 ] || fail "show -p Name,State"
leader=$(berthctl show demo -p Leader --value)
[ "$leader" -gt 1 ] || fail "Leader $leader"
berthctl show demo --json=pretty >show.json
[ "$(json 'd["Leader"]' <show.json)" = "$leader" ] || fail "show --json Leader"
[ "$(json 'd["Name"]' <show.json)" = demo ] || fail "show --json Name"
[ "$(json 'type(d["Namespaces"]).__name__' <show.json)" = list ] || fail "show --json Namespaces"
expect_rc 4 berthctl show nosuch
ok "show (all, -p, --value, --json)"

echo "== set-property and cat"
expect_rc 0 berthctl set-property demo --runtime MemoryMax=64M
[ "$(berthctl show demo -p MemoryMax --value)" = 67108864 ] || fail "runtime MemoryMax not visible"
[ "$(systemctl show -P MemoryMax berth-demo.scope)" = 67108864 ] || fail "scope MemoryMax not set"
[ ! -e "$CONF/demo.conf.d/50-berth-set-property.conf" ] || fail "--runtime persisted"
expect_rc 0 berthctl set-property demo TasksMax=77 Limits.MemoryHigh=48M
[ "$(berthctl show demo -p TasksMax --value)" = 77 ] || fail "TasksMax"
grep -q "TasksMax=77" "$CONF/demo.conf.d/50-berth-set-property.conf" || fail "set-property not persisted"
expect_rc 0 berthctl cat demo
echo "$out"
echo "$out" | grep -q "^# $CONF/demo.conf$" || fail "cat: main file"
echo "$out" | grep -q "^# $CONF/demo.conf.d/50-berth-set-property.conf$" || fail "cat: drop-in"
echo "$out" | grep -q "^# from $CONF/demo.conf.d/50-berth-set-property.conf$" || fail "cat: key source"
echo "$out" | grep -q "^TasksMax=77$" || fail "cat: TasksMax"
berthctl cat demo --json=short | json '[k["file"] for k in d["keys"] if k["key"] == "TasksMax"][0]' |
        grep -q "50-berth-set-property.conf" || fail "cat --json sources"
expect_rc 5 berthctl cat nosuch
expect_rc 4 berthctl set-property nosuch MemoryMax=1G
expect_rc 2 berthctl set-property demo MemoryMax
ok "set-property (--runtime, persistent) and cat"

echo "== logs"
expect_rc 0 berthctl logs demo --no-pager
echo "$out" | grep -q "hello-from-demo" || fail "logs: no container output: $out"
echo "$out" | grep -q "demo\[" || echo "$out" | grep -q " demo: " || fail "logs: short format: $out"
[ "$(berthctl logs demo -n 1 --no-pager | wc -l)" = 1 ] || fail "logs -n 1"
berthctl logs demo -o json | json_lines '
assert docs, "no entries"
assert any(m.get("MESSAGE") == "hello-from-demo" for m in docs), docs
assert all("__REALTIME_TIMESTAMP" in m for m in docs)
' || fail "logs -o json"
berthctl logs demo -o cat --since=-1h | grep -qx "hello-from-demo" || fail "logs -o cat --since"
[ -z "$(berthctl logs demo --since=@4102444800 -o cat)" ] || fail "logs --since in the future"
timeout 2 berthctl logs demo -f -n 100 -o cat >follow.out || [ $? = 124 ] || fail "logs -f"
grep -q hello-from-demo follow.out || fail "logs -f output"
expect_rc 2 berthctl logs demo --since=garbage
ok "logs (short, -n, -o json, -o cat, --since, -f)"

echo "== kill, restart, stop"
write_conf victim "/bin/sleep 1000"
expect_rc 0 berthctl start victim
expect_rc 0 berthctl kill victim --whom=all --signal=KILL
wait_for 10 sh -c '[ "$(berthctl show victim -p State --value)" != running ]' || fail "kill did not end victim"
expect_rc 0 berthctl start victim
expect_rc 0 berthctl kill victim --whom=leader -s SIGTERM
wait_for 15 sh -c '[ "$(berthctl show victim -p State --value)" != running ]' || fail "kill leader did not end victim"
expect_rc 7 berthctl kill victim
old=$(berthctl show demo -p Leader --value)
expect_rc 0 berthctl restart demo
new=$(berthctl show demo -p Leader --value)
[ "$(berthctl show demo -p State --value)" = running ] || fail "restart: not running"
[ "$new" != "$old" ] && [ "$new" -gt 1 ] || fail "restart: same leader $old $new"
expect_rc 0 berthctl stop demo
[ "$(berthctl show demo -p State --value)" != running ] || fail "stop: still running"
expect_rc 0 berthctl stop demo
expect_rc 4 berthctl start nosuch
expect_rc 4 berthctl stop nosuch
ok "kill (all, leader), restart, stop, exit 7 and 4"

echo "== run"
expect_rc 42 berthctl run -q --wait -D "$BB" --network=none runner1 -- /bin/sh -c 'exit 42'
expect_rc 0 berthctl run -q --wait -D "$BB" --network=none -E GREETING=hi -u nobody runner2 -- /bin/sh -c '[ "$GREETING" = hi ] && [ "$(id -u)" = 65534 ]'
expect_rc 137 berthctl run -q --wait -D "$BB" --network=none runner3 -- /bin/sh -c 'kill -9 $$'
expect_rc 5 berthctl run -f -D "$BB" --network=none runner5 -- /bin/sh -c 'echo line-one; echo line-two >&2; exit 5'
echo "$out" | grep -qx "line-one" || fail "run -f: no output: $out"
echo "$out" | grep -qx "line-two" || fail "run -f: no stderr output: $out"
expect_rc 0 berthctl run -D "$BB" --network=none --memory-max=32M --tasks-max=20 runner4 -- /bin/sleep 1000
echo "$out" | grep -q "Running as container runner4" || fail "run: message"
[ "$(berthctl show runner4 -p State --value)" = running ] || fail "run: not running"
[ "$(berthctl show runner4 -p MemoryMax --value)" = 33554432 ] || fail "run: MemoryMax"
[ "$(berthctl show runner4 -p TasksMax --value)" = 20 ] || fail "run: TasksMax"
expect_rc 0 berthctl stop runner4
expect_rc 2 berthctl run -D "$BB" "bad/name"
ok "run (--wait exit 0/42/137, -f output, env, user, limits)"

echo "== enable, disable (container@.service)"
expect_rc 0 berthctl enable demo
echo "$out" | grep -q "Created symlink" || fail "enable: $out"
[ "$(systemctl is-enabled container@demo.service)" = enabled ] || fail "not enabled"
expect_rc 0 berthctl disable demo
[ "$(systemctl is-enabled container@demo.service)" != enabled ] || fail "still enabled"
expect_rc 0 berthctl enable --now demo
systemctl is-active --quiet container@demo.service || fail "enable --now: unit not active"
[ "$(berthctl show demo -p Unit --value)" = container@demo.service ] || fail "Unit property"
old=$(berthctl show demo -p Leader --value)
expect_rc 0 berthctl restart demo
systemctl is-active --quiet container@demo.service || fail "restart: unit not active"
new=$(berthctl show demo -p Leader --value)
[ "$new" != "$old" ] || fail "restart through the unit kept leader $old"
expect_rc 0 berthctl disable --now demo
systemctl is-active --quiet container@demo.service && fail "disable --now: unit still active"
ok "enable, disable, --now, restart through the unit"

echo "== an unprivileged user reads but cannot change"
id tester >/dev/null 2>&1 || fail "no user tester in the testbed (scripts/testbed-image.sh creates it)"
expect_rc 0 berthctl start idle
expect_rc 0 as_tester berthctl list
echo "$out" | grep -q "^idle " || fail "tester list: $out"
expect_rc 0 as_tester berthctl show idle -p State
expect_rc 4 as_tester berthctl stop idle
echo "$out" | grep -qi "denied\|not authorized\|authoriz" || fail "tester stop: $out"
expect_rc 4 as_tester berthctl set-property idle --runtime MemoryMax=1G
[ "$(berthctl show idle -p State --value)" = running ] || fail "tester's stop did something"
expect_rc 0 berthctl stop idle
ok "tester: list/show allowed, stop/set-property exit 4"

echo "PASS: test-ctl-verbs"
