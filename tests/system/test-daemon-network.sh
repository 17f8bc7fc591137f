#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: berthd sets up a container's network (default Mode=bridge)
# before it runs, loopback only for Mode=none, and tears it down at exit.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
leader() { busctl get-property $DEST "/org/berth/berth1/container/$1" $CIF Leader | awk '{print $2}'; }

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
mkdir -p "$CONF"
printf '%s\n' '[Container]' 'Command=/bin/sleep 1000' '[Rootfs]' "Directory=$BB" 'Ephemeral=yes' >"$CONF/net1.conf"
printf '%s\n' '[Container]' 'Command=/bin/sleep 1000' '[Rootfs]' "Directory=$BB" 'Ephemeral=yes' \
        '[Network]' 'Mode=none' >"$CONF/net0.conf"

echo "== Mode=bridge (default)"
busctl call $MGR StartContainer s net1 >/dev/null || fail "start net1"
l=$(leader net1)
nsenter -t "$l" -n ip -4 -o addr show | tee addr.out
grep -q 'host0.*inet ' addr.out || fail "no address on host0"
nsenter -t "$l" -n ip -o link show lo | grep -q 'UP' || fail "lo not up"
nsenter -t "$l" -n ip route | grep -q default || fail "no default route"
ip -o link show | grep -q 've-net1' || fail "no host-side veth"
journalctl --no-pager CONTAINER_NAME=net1 | grep -q "Attached to network" || fail "no network log"
addr=$(grep -o 'host0 *inet [0-9.]*' addr.out | awk '{print $3}')
grep -qx net1 "/var/lib/berth/leases/default/$addr" || fail "no lease file for $addr"
grep -q "^$addr[[:space:]]net1\$" "/proc/$l/root/etc/hosts" || fail "/etc/hosts: $(cat /proc/$l/root/etc/hosts)"
grep -q '^nameserver' "/proc/$l/root/etc/resolv.conf" || fail "/etc/resolv.conf: $(cat /proc/$l/root/etc/resolv.conf)"
gw=$(nsenter -t "$l" -n ip route | awk '/default/ {print $3}')
nsenter -t "$l" -n "$BB/bin/busybox" ping -c1 -W2 "$gw" >/dev/null || fail "gateway $gw not reachable"

echo "== Mode=none"
busctl call $MGR StartContainer s net0 >/dev/null || fail "start net0"
l0=$(leader net0)
[ "$(nsenter -t "$l0" -n ip -o link show | wc -l)" = 1 ] || fail "Mode=none has more than lo"
nsenter -t "$l0" -n ip -o link show lo | grep -q 'UP' || fail "lo not up in Mode=none"

echo "== teardown, also after berthd was killed and re-adopted the container"
pid=$(systemctl show -P MainPID berthd.service)
kill -9 "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
systemctl reset-failed berthd.service 2>/dev/null || true
for _ in $(seq 100); do busctl call $MGR ListContainers >/dev/null 2>&1 && break; sleep 0.1; done
busctl call $MGR ListContainers | grep -q '"net1" "running"' || fail "net1 not re-adopted"
busctl call $MGR StopContainer s net1 || fail "stop net1"
busctl call $MGR StopContainer s net0 || fail "stop net0"
sleep 0.5
ip -o link show | grep -q 've-net1' && fail "veth left"
ls /var/lib/berth/leases/default/ | tee leases.out
[ -s leases.out ] || true
grep -rqsx net1 /var/lib/berth/leases && fail "lease left: $(grep -rs net1 /var/lib/berth/leases)"
echo PASS
