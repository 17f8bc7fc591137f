#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VM-tier smoke test: proves the VM (tests/vm/vm.sh) has a pure cgroup v2
# hierarchy with real controllers and that systemd applies unit limits to the
# kernel files.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"

[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd"
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || fail "/sys/fs/cgroup is not cgroup2 (unified)"
ok "/sys/fs/cgroup is cgroup2 ($(uname -r))"

ctrl=$(cat /sys/fs/cgroup/cgroup.controllers)
for c in memory pids cpu; do
        grep -qw "$c" <<<"$ctrl" || fail "controller $c missing from cgroup.controllers: $ctrl"
done
ok "controllers: $ctrl"

state=$(timeout 120 systemctl is-system-running --wait || true)
case $state in
        running|degraded) ok "system is $state" ;;
        *) fail "system state is '$state'" ;;
esac
[ "$state" = degraded ] && systemctl --failed --no-legend --no-pager

# A transient scope gets its limits in the kernel files. The scope's own
# process reads them while it runs.
unit=berth-vm-smoke-$$.scope
out=$(systemd-run --quiet --scope --unit="$unit" -p MemoryMax=64M -p TasksMax=42 -p CPUQuota=50% \
        sh -c 'cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup | tail -n1)
               echo "cgroup=$cg"
               echo "memory.max=$(cat $cg/memory.max)"
               echo "pids.max=$(cat $cg/pids.max)"
               echo "cpu.max=$(cat $cg/cpu.max)"
               echo "unit.$(systemctl show -p MemoryMax '"$unit"')"')
echo "$out"
grep -q "cgroup=.*/$unit\$" <<<"$out" || fail "scope not in its own cgroup"
grep -qx 'memory.max=67108864' <<<"$out" || fail "memory.max is not 67108864"
grep -qx 'pids.max=42' <<<"$out" || fail "pids.max is not 42"
grep -qx 'cpu.max=50000 100000' <<<"$out" || fail "cpu.max is not '50000 100000'"
grep -qx 'unit.MemoryMax=67108864' <<<"$out" || fail "unit property MemoryMax is not 67108864"
ok "systemd-run --scope -p MemoryMax=64M: memory.max=67108864 (pids.max, cpu.max too)"

# The same check for the exact command of the spec: it must succeed.
systemd-run --quiet --scope -p MemoryMax=64M true || fail "systemd-run --scope -p MemoryMax=64M true"
ok "systemd-run --scope -p MemoryMax=64M true"
echo "vm smoke: PASS"
