#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's demo command. As root on Debian 12:
#  - on a host booted with systemd: build, install berth for real (/usr, /etc),
#    then start the demo container with `systemctl start container@demo`;
#  - where PID 1 is not systemd (build machines, CI): build, then boot the
#    system testbed (Debian 12 with systemd under systemd-nspawn) with berth
#    installed, and run the same demo inside it.
# Either way it shows the unit, `berthctl list`, `machinectl list` and the
# container's journal.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
        echo "demo: run as root (it installs packages and berth)" >&2
        exit 1
fi
./scripts/install-deps.sh

if [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm)" = systemd ]; then
        [ -f build-install/build.ninja ] || meson setup build-install --prefix=/usr --sysconfdir=/etc \
                --localstatedir=/var --libexecdir=lib
        ninja -C build-install
        meson install -C build-install
        systemctl daemon-reload
        systemd-tmpfiles --create berth.conf
        systemctl reload dbus 2>/dev/null || busctl call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus ReloadConfig
        exec ./scripts/demo-show.sh
fi

echo "demo: PID 1 is not systemd here: running the demo inside the system testbed"
[ -f build/build.ninja ] || meson setup build
ninja -C build
exec tests/system/testbed.sh build scripts/demo-show.sh
