#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VM tier (real cgroup v2): the limits of a berth container are enforced by
# the kernel. Each check asserts the unit property and the kernel file.
#   - MemoryMax: a bounded allocation over the limit is OOM-killed, reported
#     as OOM on the bus and in the journal, and the unit is failed;
#   - TasksMax: a (bounded) fork bomb stops at pids.max, the host stays fine;
#   - CPUQuota: a busy loop is throttled (nr_throttled grows);
#   - SetContainerProperties: memory.max changes in place.
# All allocations are bounded: nothing here can take the machine down even if
# a limit were not applied.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
write_conf() { # write_conf NAME COMMAND LIMIT-LINES...: not ephemeral, [Limits] last
        local name=$1 cmd=$2; shift 2
        printf '%s\n' '[Container]' "Command=$cmd" 'KillTimeoutSec=5s' '[Rootfs]' "Directory=$BB" \
                '[Network]' 'Mode=none' '[Limits]' "$@" | install_conf "$name"
}
cg() { echo "/sys/fs/cgroup/machine.slice/berth-$1.scope"; }

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
systemctl daemon-reload
# TCG is slow: keep a live journal in the results share for debugging.
if [ -n "${BERTH_TEST_RESULTS:-}" ]; then
        journalctl -f -n 0 -o short-precise >"$BERTH_TEST_RESULTS/journal.log" 2>&1 &
        jpid=$!
        trap 'kill $jpid 2>/dev/null || true' EXIT
fi

echo "== MemoryMax: OOM kill"
# Sleeps first so the limit can be read, then one 96M buffer against a 32M limit.
write_conf oom "/bin/sh -c 'sleep 3; exec dd if=/dev/zero of=/dev/null bs=96M count=1'" \
        MemoryMax=32M MemorySwapMax=0
systemctl start container@oom.service || fail "start oom"
[ "$(systemctl show -P MemoryMax berth-oom.scope)" = 33554432 ] || fail "unit MemoryMax"
[ "$(cat "$(cg oom)/memory.max")" = 33554432 ] || fail "memory.max $(cat "$(cg oom)/memory.max")"
ok "memory.max=33554432"
wait_for 60 sh -c '[ "$(systemctl show -P ActiveState container@oom.service)" = failed ]' ||
        fail "container@oom not failed: $(systemctl show -P ActiveState container@oom.service)"
busctl get-property $DEST /org/berth/berth1/container/oom $CIF OOMKilled | grep -q true || fail "OOMKilled not true"
busctl get-property $DEST /org/berth/berth1/container/oom $CIF StateReason | grep -q oom-kill || fail "reason not oom-kill"
journalctl --no-pager -o verbose CONTAINER_NAME=oom MESSAGE_ID=0225a7eedaa44463af46074269e5de9c | grep -q . ||
        fail "no OOM MESSAGE_ID in the journal"
ok "OOM kill reported on the bus, in the journal, unit failed"
systemctl reset-failed container@oom.service

echo "== TasksMax: fork bomb"
# An inner shell forks sleepers (at most 60: bounded even without the limit)
# until pids.max stops it; the outer shell then execs (no fork needed) to
# keep the scope alive for inspection.
bomb_cmd='/bin/sh -c '"'"'sleep 1; sh -c "i=0; while [ \$i -lt 60 ]; do sleep 60 & i=\$((i+1)); done" 2>/dev/null; exec sleep 60'"'"''
write_conf bomb "$bomb_cmd" TasksMax=20
echo "starting container@bomb"
systemctl start container@bomb.service || fail "start bomb"
[ "$(systemctl show -P TasksMax berth-bomb.scope)" = 20 ] || fail "unit TasksMax"
[ "$(cat "$(cg bomb)/pids.max")" = 20 ] || fail "pids.max $(cat "$(cg bomb)/pids.max")"
wait_for 30 sh -c "grep -q '^max [1-9]' $(cg bomb)/pids.events" || fail "pids.max never hit: $(cat "$(cg bomb)/pids.events")"
cur=$(cat "$(cg bomb)/pids.current")
[ "$cur" -le 20 ] || fail "pids.current $cur > 20"
timeout 10 systemctl is-system-running >/dev/null || true
timeout 10 true || fail "host not responsive"
ok "pids.max=20 held (pids.current=$cur), host responsive"
systemctl stop container@bomb.service || fail "stop bomb"

echo "== CPUQuota: throttling"
write_conf spin "/bin/sh -c 'while :; do :; done'" CPUQuota=20%
systemctl start container@spin.service || fail "start spin"
[ "$(systemctl show -P CPUQuotaPerSecUSec berth-spin.scope)" = 200ms ] ||
        fail "unit CPUQuotaPerSecUSec $(systemctl show -P CPUQuotaPerSecUSec berth-spin.scope)"
[ "$(cat "$(cg spin)/cpu.max")" = "20000 100000" ] || fail "cpu.max $(cat "$(cg spin)/cpu.max")"
t1=$(awk '$1 == "nr_throttled" {print $2}' "$(cg spin)/cpu.stat")
sleep 3
t2=$(awk '$1 == "nr_throttled" {print $2}' "$(cg spin)/cpu.stat")
[ "$t2" -gt "$t1" ] || fail "nr_throttled did not grow ($t1 -> $t2)"
ok "cpu.max=20000 100000, nr_throttled $t1 -> $t2"
systemctl stop container@spin.service || fail "stop spin"

echo "== live set-property memory.max"
write_conf live "/bin/sleep 1000" MemoryMax=200M
systemctl start container@live.service || fail "start live"
[ "$(cat "$(cg live)/memory.max")" = 209715200 ] || fail "initial memory.max"
busctl call $MGR SetContainerProperties sba\(ss\) live true 1 Limits.MemoryMax 64M || fail "SetContainerProperties"
[ "$(cat "$(cg live)/memory.max")" = 67108864 ] || fail "memory.max not changed: $(cat "$(cg live)/memory.max")"
[ "$(systemctl show -P MemoryMax berth-live.scope)" = 67108864 ] || fail "unit MemoryMax not changed"
busctl get-property $DEST /org/berth/berth1/container/live $CIF MemoryMax | grep -q 67108864 || fail "bus MemoryMax"
ok "memory.max 209715200 -> 67108864 in place"
systemctl stop container@live.service || fail "stop live"

systemctl list-units --no-legend 'berth-*.scope' | grep -q . && fail "scopes left"
echo PASS
