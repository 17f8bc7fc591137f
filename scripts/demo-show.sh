#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo proper, run on a systemd host where berth is installed (a real
# host, or the system testbed): a busybox container "demo" under systemd.
set -euo pipefail

rootfs=/var/lib/berth/images/demo-busybox
if [ ! -x "$rootfs/bin/busybox" ]; then
        if [ -n "${BERTH_TEST_BUSYBOX:-}" ] && [ -d "$BERTH_TEST_BUSYBOX" ]; then
                mkdir -p "$(dirname "$rootfs")"
                cp -a "$BERTH_TEST_BUSYBOX" "$rootfs"
        else
                bash "$(dirname "$0")/../tests/system/lib/mkbusybox.sh" "$rootfs" >/dev/null
        fi
fi

mkdir -p /etc/berth/containers
cat > /etc/berth/containers/demo.conf <<CONF
# Written by scripts/demo.sh
[Container]
Description=berth demo: a busybox loop
Command=/bin/sh -c 'echo "hello from \$(hostname), PID \$\$ in its own namespace"; while :; do date; sleep 5; done'

[Rootfs]
Directory=$rootfs
Ephemeral=yes

[Limits]
MemoryMax=64M
TasksMax=32

[Network]
Mode=none
CONF

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step cat /etc/berth/containers/demo.conf
step systemctl start container@demo
step systemctl --no-pager status container@demo
step berthctl list
step machinectl --no-pager list
sleep 1
step journalctl --no-pager -u container@demo -n 5
step berthctl --no-pager logs -n 3 demo
