#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: berthd killed with SIGKILL leaves its containers running; the
# restarted berthd re-adopts them (pidfd, start time, cgroup), reports their
# exit status from the stub's exit file, and cleans up half-made ones.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
kill_berthd() {
        local pid
        pid=$(systemctl show -P MainPID berthd.service)
        [ "$pid" -gt 0 ] || fail "berthd not running"
        kill -9 "$pid"
        wait_for 5 sh -c "! kill -0 $pid" || fail "berthd survived SIGKILL"
        # Three crashes in a few seconds would hit the unit's start rate limit.
        systemctl reset-failed berthd.service 2>/dev/null || true
}

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
mkdir -p "$CONF"
# Exits with 5 once /tmp/go exists inside it.
printf '%s\n' '[Container]' "Command=/bin/sh -c 'while [ ! -e /tmp/go ]; do sleep 0.2; done; exit 5'" \
        '[Rootfs]' "Directory=$BB" 'Ephemeral=yes' '[Network]' 'Mode=none' >"$CONF/demo.conf"
printf '%s\n' '[Container]' 'Command=/bin/sleep 1000' \
        '[Rootfs]' "Directory=$BB" 'Ephemeral=yes' '[Network]' 'Mode=none' >"$CONF/other.conf"
systemctl daemon-reload

systemctl start container@demo.service || fail "start demo"
busctl call $MGR StartContainer s other >/dev/null || fail "start other"
path=/org/berth/berth1/container/demo
leader=$(prop $path Leader | awk '{print $2}')
oleader=$(prop /org/berth/berth1/container/other Leader | awk '{print $2}')
[ -s /run/berth/demo/state ] || fail "no state file"

echo "== $(date +%T.%N | cut -c1-12) kill -9 berthd"
kill_berthd
kill -0 "$leader" || fail "container died with berthd"
systemctl is-active --quiet berth-demo.scope || fail "scope died with berthd"
systemctl is-active --quiet container@demo.service || fail "container@demo died with berthd"

# A half-made container: state says starting, its PID is gone.
mkdir -p /run/berth/ghost
printf '[Container]\nName=ghost\nPhase=starting\nPid=999999\nStartTime=1\nScope=berth-ghost.scope\n' >/run/berth/ghost/state

echo "== $(date +%T.%N | cut -c1-12) restart (Restart=on-failure or bus activation) and re-adoption"
wait_for 10 busctl call $MGR ListContainers || fail "berthd not back"
busctl call $MGR ListContainers | tee list.out
grep -q "\"demo\" \"running\" $leader " list.out || fail "demo not re-adopted"
grep -q "\"other\" \"running\" $oleader " list.out || fail "other not re-adopted"
prop $path StateReason | grep -q adopted || fail "reason: $(prop $path StateReason)"
prop $path Unit | grep -q 'container@demo.service' || fail "unit not remembered"
[ -e /run/berth/ghost ] && fail "half-made container not cleaned up"
journalctl --no-pager -o verbose CONTAINER_NAME=demo MESSAGE_ID=3313f4cb98bb463a9b3977644f921464 | grep -q . ||
        fail "no adopted message"

echo "== $(date +%T.%N | cut -c1-12) exit status of an adopted container"
touch "/proc/$leader/root/tmp/go"
wait_for 10 sh -c "[ \"\$(systemctl show -P ActiveState container@demo.service)\" = failed ]" ||
        fail "container@demo not failed: $(systemctl show -P ActiveState container@demo.service)"
[ "$(systemctl show -P ExecMainStatus container@demo.service)" = 5 ] ||
        fail "exit status $(systemctl show -P ExecMainStatus container@demo.service), not 5"
prop $path ExitCode | grep -q 'i 5' || fail "ExitCode $(prop $path ExitCode)"
[ -e /run/berth/demo ] && fail "/run/berth/demo left"
systemctl reset-failed container@demo.service

echo "== $(date +%T.%N | cut -c1-12) container ends while berthd is away"
kill_berthd
kill -TERM "$oleader"
wait_for 5 sh -c "! kill -0 $oleader" || fail "other did not end"
wait_for 10 busctl call $MGR ListContainers || fail "berthd not back"
busctl call $MGR ListContainers | grep -q '"other"' && fail "other still listed"
[ -e /run/berth/other ] && fail "/run/berth/other left"

echo "== $(date +%T.%N | cut -c1-12) systemctl restart berthd keeps containers"
systemctl start container@demo.service || fail "start demo again"
leader=$(prop $path Leader | awk '{print $2}')
systemctl restart berthd.service || fail "restart berthd"
kill -0 "$leader" || fail "container died with a berthd restart"
busctl call $MGR ListContainers | grep -q "\"demo\" \"running\" $leader " || fail "not re-adopted after restart"
systemctl is-active --quiet container@demo.service || fail "container@demo not active after a berthd restart"
systemctl stop container@demo.service || fail "stop after berthd restart"

echo "== $(date +%T.%N | cut -c1-12) container@ brings a stopped berthd back"
systemctl start container@demo.service || fail "start demo (helper reconnect)"
systemctl stop berthd.service
for _ in $(seq 100); do systemctl is-active --quiet berthd.service && break; sleep 0.1; done
systemctl is-active --quiet berthd.service || fail "berthd not brought back by container@demo"
busctl call $MGR ListContainers | grep -q '"demo" "running"' || fail "demo not re-adopted after a clean berthd stop"
systemctl stop container@demo.service || fail "stop demo after reconnect"

echo "== $(date +%T.%N | cut -c1-12) systemctl stop works on a re-adopted container"
systemctl start container@demo.service || fail "start demo again"
leader=$(prop $path Leader | awk '{print $2}')
kill_berthd
wait_for 10 busctl call $MGR ListContainers || fail "berthd not back"
systemctl stop container@demo.service || fail "stop"
[ "$(systemctl show -P ActiveState container@demo.service)" = inactive ] || fail "not inactive after stop"
wait_for 5 sh -c "! kill -0 $leader" || fail "leader left"
systemctl list-units --no-legend 'berth-*.scope' | grep -q . && fail "scopes left"
echo PASS
