#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: an unprivileged user (tester, uid 1000) can list and read but
# is denied every mutating call (AccessDenied), and nothing happens.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
denied() { # denied WHAT busctl-args...
        local what=$1 out; shift
        if out=$(as_tester busctl call "$@" 2>&1); then
                fail "$what: allowed for tester"
        fi
        echo "$what: $out"
        echo "$out" | grep -qi "access denied" || fail "$what: not AccessDenied: $out"
}

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
mkdir -p "$CONF"
printf '[Container]\nCommand=/bin/sleep 1000\n[Rootfs]\nDirectory=%s\nEphemeral=yes\n[Network]\nMode=none\n' "$BB" >"$CONF/demo.conf"
printf '[Container]\nCommand=/bin/sleep 1000\n[Rootfs]\nDirectory=%s\nEphemeral=yes\n[Network]\nMode=none\n' "$BB" >"$CONF/idle.conf"
rm -rf "$CONF/demo.conf.d" "$CONF/idle.conf.d"

busctl call $MGR StartContainer s demo >/dev/null || fail "root cannot start"
path=/org/berth/berth1/container/demo
ipath=/org/berth/berth1/container/idle

echo "== reading is open"
as_tester busctl call $MGR ListContainers | grep -q '"demo" "running"' || fail "tester cannot list"
as_tester busctl call $MGR ListConfigured | grep -q '"idle"' || fail "tester cannot ListConfigured"
as_tester busctl call $MGR GetContainer s demo | grep -q "$path" || fail "tester cannot GetContainer"
as_tester busctl get-property $DEST $path $CIF State | grep -q running || fail "tester cannot read State"
as_tester busctl introspect $DEST $path $CIF >/dev/null || fail "tester cannot introspect"

echo "== mutating calls are denied"
denied StartContainer $MGR StartContainer s idle
denied StopContainer $MGR StopContainer s demo
denied KillContainer $MGR KillContainer ssi demo all 9
denied RunContainer $MGR RunContainer sa\(ss\) evil 2 Rootfs.Directory "$BB" Container.Command /bin/true
denied SetContainerProperties $MGR SetContainerProperties sba\(ss\) demo false 1 Limits.MemoryMax 1M
denied Reload $MGR Reload
denied Container.Stop $DEST $path $CIF Stop
denied Container.Kill $DEST $path $CIF Kill si leader 9
denied Container.SetProperties $DEST $path $CIF SetProperties ba\(ss\) true 1 Limits.MemoryMax 1M

echo "== and nothing happened"
busctl get-property $DEST $path $CIF State | grep -q running || fail "demo affected"
busctl get-property $DEST $ipath $CIF State | grep -q exited || fail "idle started"
busctl call $MGR GetContainer s evil 2>/dev/null && fail "evil exists"
[ -e "$CONF/demo.conf.d" ] && fail "drop-in written"
[ "$(systemctl show -P MemoryMax berth-demo.scope)" = infinity ] || fail "limit changed"

busctl call $MGR StopContainer s demo || fail "root cannot stop"
echo PASS
