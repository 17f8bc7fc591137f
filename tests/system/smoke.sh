#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System-tier smoke test: proves the testbed itself. Runs inside the booted
# nspawn testbed (tests/system/testbed.sh): systemd as PID 1, the system bus,
# machined, journald, transient scopes, polkit, the unprivileged user and the
# busybox container rootfs.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"

[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is $(cat /proc/1/comm), not systemd"
ok "PID 1 is systemd ($(systemctl --version | head -n1))"

state=$(timeout 120 systemctl is-system-running --wait || true)
case $state in
        running) ok "system is running" ;;
        degraded)
                echo "warning: system is degraded; failed units:"
                systemctl --failed --no-legend --no-pager || true
                ok "system is degraded (accepted)" ;;
        *) systemctl list-jobs --no-pager || true; fail "system state is '$state'" ;;
esac

# The system bus, with busctl as the client.
busctl --system list --no-pager >/dev/null || fail "busctl list"
id=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId) \
        || fail "busctl call GetId"
ok "system bus answers (GetId: $id)"
busctl --system get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.systemd1.Manager Virtualization | grep -q nspawn \
        || fail "systemd1.Manager Virtualization is not nspawn"
ok "org.freedesktop.systemd1 answers"

# machined (bus-activated).
machinectl list --no-pager --no-legend >/dev/null || fail "machinectl list"
systemctl is-active -q systemd-machined.service || fail "systemd-machined is not active after machinectl list"
ok "machined answers machinectl list"

# journald: a tagged message goes in and comes back out.
token=berth-smoke-$$-$RANDOM
echo "$token" | systemd-cat -t berth-smoke -p info
journalctl --sync 2>/dev/null || true
for _ in $(seq 50); do
        journalctl -t berth-smoke -o cat --no-pager 2>/dev/null | grep -qx "$token" && break
        sleep 0.1
done
journalctl -t berth-smoke -o cat --no-pager | grep -qx "$token" || fail "journal did not return the message"
ok "journald stores and returns messages"

# Transient units: a scope (the way berthd places containers) and a service.
out=$(systemd-run --quiet --scope --unit=berth-smoke-$$ --slice=machine.slice cat /proc/self/cgroup)
grep -q "machine.slice/berth-smoke-$$.scope" <<<"$out" || { echo "$out"; fail "systemd-run --scope did not place us in the scope"; }
ok "systemd-run --scope places processes in machine.slice/berth-smoke-$$.scope"
out=$(systemd-run --quiet --wait --pipe --collect echo transient-service-ok)
[ "$out" = transient-service-ok ] || fail "systemd-run --wait --pipe"
ok "systemd-run --wait --pipe runs a transient service"

# polkit: active, or activatable over the bus.
if ! systemctl is-active -q polkit.service; then
        busctl --system call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority \
                org.freedesktop.DBus.Properties Get ss org.freedesktop.PolicyKit1.Authority BackendName \
                >/dev/null || fail "polkit is not activatable"
fi
systemctl is-active -q polkit.service || fail "polkit.service is not active after activation"
ok "polkitd is active ($(busctl --system get-property org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority org.freedesktop.PolicyKit1.Authority BackendVersion))"

# The unprivileged user can use the bus but is not root.
[ "$(id -u tester)" = 1000 ] || fail "user tester is not uid 1000"
setpriv --reuid=tester --regid=tester --init-groups busctl --system list --no-pager >/dev/null \
        || fail "tester cannot use the system bus"
if setpriv --reuid=tester --regid=tester --init-groups \
        busctl --system call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.systemd1.Manager StartUnit ss polkit.service replace >/dev/null 2>&1; then
        fail "tester could start a unit"
fi
ok "tester (uid 1000) reads the bus and is denied StartUnit"

# The busybox container rootfs.
bb=${BERTH_TEST_BUSYBOX:-/var/lib/berth-test/busybox}
[ -x "$bb/bin/busybox" ] && [ -L "$bb/bin/sh" ] || fail "no busybox rootfs at $bb"
grep -q '^nobody:x:65534:' "$bb/etc/passwd" || fail "$bb/etc/passwd has no nobody"
[ "$(chroot "$bb" /bin/sh -c 'echo hi')" = hi ] || fail "cannot run the busybox rootfs"
ok "busybox rootfs at $bb"

# Private network: only loopback (and no host links).
links=$(ip -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ')
[ "$links" = "lo " ] || fail "unexpected links in the testbed: $links"
ok "private network (links: $links)"

# What berth installed (informational: berth's own tests check it).
for f in /usr/bin/berthctl /usr/lib/berth/berthd /usr/lib/berthd; do
        [ -e "$f" ] && echo "info: installed $f"
done
for f in /usr/lib/systemd/system/berthd.service /usr/lib/systemd/system/container@.service; do
        [ -e "$f" ] && echo "info: unit $f"
done
true
echo "system smoke: PASS"
