#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# testbed-image.sh [--print-path] [--rebuild]
#
# Build (once) and cache the Debian 12 rootfs used by the system and vm test
# tiers: a bookworm `debootstrap --variant=minbase` with systemd as init, dbus,
# machined, polkit and the runtime libraries berth links against, plus a tiny
# busybox container rootfs at /var/lib/berth-test/busybox.
#
# The tarball is /var/cache/berth/testbed-<hash>.tar.zst (override the
# directory with BERTH_CACHE_DIR); <hash> covers this script (and so the
# package list) and tests/system/lib/mkbusybox.sh, so editing either rebuilds.
# The path is printed on stdout; all progress goes to stderr.
#   --print-path  print the path the tarball has (or would have) and exit,
#                 without building
#   --rebuild     build even if the tarball is cached
# Env: BERTH_MIRROR overrides the Debian mirror (default: the first URI in
# /etc/apt/sources.list.d/debian.sources, else http://deb.debian.org/debian).
set -euo pipefail

SUITE=bookworm
PACKAGES=(
        systemd systemd-sysv dbus systemd-container
        polkitd pkexec libpam-systemd
        libglib2.0-bin libglib2.0-0
        iproute2 nftables busybox-static procps util-linux kmod
        libseccomp2 libnl-3-200 libnl-route-3-200 libnftables1 libmount1 libsystemd0
        # full python3 (not -minimal): the tests parse --json output with the json module
        python3
        # runtime of ASan/UBSan builds (gcc 12), for sanitized testbeds
        libasan8 libubsan1
        openssh-server openssh-client
)
# Units that only slow a container/VM boot down or wait for hardware that
# minbase (no udev rules for ttys) never announces.
MASK_UNITS=(
        serial-getty@ttyS0.service getty@tty1.service console-getty.service
        systemd-networkd-wait-online.service systemd-firstboot.service
        apt-daily.service apt-daily.timer apt-daily-upgrade.service apt-daily-upgrade.timer
        dpkg-db-backup.service dpkg-db-backup.timer
        e2scrub_all.timer e2scrub_all.service e2scrub_reap.service
        fstrim.timer fstrim.service man-db.timer man-db.service
        systemd-pstore.service systemd-hwdb-update.service
        ssh.socket
)
# Installed but not started on boot; tests start them when they need them.
DISABLE_UNITS=(ssh.service)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(cd "$here/.." && pwd)
mkbusybox=$srcdir/tests/system/lib/mkbusybox.sh
cachedir=${BERTH_CACHE_DIR:-/var/cache/berth}

print_only=0
rebuild=0
for a in "$@"; do
        case $a in
                --print-path) print_only=1 ;;
                --rebuild) rebuild=1 ;;
                -h|--help) sed -n '3,20p' "$0"; exit 0 ;;
                *) echo "testbed-image: unknown argument $a" >&2; exit 2 ;;
        esac
done

hash=$(cat "${BASH_SOURCE[0]}" "$mkbusybox" | sha256sum | cut -c1-16)
image=$cachedir/testbed-$hash.tar.zst

if [ $print_only = 1 ]; then
        echo "$image"
        exit 0
fi
if [ $rebuild = 0 ] && [ -s "$image" ]; then
        echo "$image"
        exit 0
fi
if [ "$(id -u)" != 0 ]; then
        echo "testbed-image: must run as root to build $image" >&2
        exit 1
fi

mkdir -p "$cachedir"
# Serialise concurrent builders; the loser finds the tarball made.
exec 9>"$cachedir/.testbed.lock"
flock 9
if [ $rebuild = 0 ] && [ -s "$image" ]; then
        echo "$image"
        exit 0
fi

mirror=${BERTH_MIRROR:-}
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
        mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d "$cachedir/.build.XXXXXX")
root=$work/root
cleanup() {
        local rc=$?
        # debootstrap mounts proc/sys/dev bits inside the target; a failure
        # or Ctrl-C can leave them. Unmount deepest first.
        if [ -n "${work:-}" ] && [ -d "$work" ]; then
                awk -v p="$work/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo \
                        | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
                rm -rf --one-file-system "$work"
        fi
        exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

start=$(date +%s)
include=$(IFS=,; echo "${PACKAGES[*]}")
echo "testbed-image: debootstrap $SUITE from $mirror into $root" >&2
if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -n 40 "$work/debootstrap.log" >&2
        [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 40 "$root/debootstrap/debootstrap.log" >&2
        echo "testbed-image: debootstrap failed" >&2
        exit 1
fi

echo "testbed-image: configuring" >&2
# Identity: empty machine-id => not a first boot, a fresh ID on every boot.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"
echo berth-testbed > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost berth-testbed\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
# The VM mounts its root read-write from the initrd; nothing else to mount.
echo '# berth testbed: root is mounted by the initrd (vm) or by nspawn' > "$root/etc/fstab"

# root: locked password. tester: the unprivileged user (uid 1000).
chroot "$root" usermod -p '!*' root
chroot "$root" useradd -m -u 1000 -U -s /bin/bash tester
chroot "$root" passwd -l tester >/dev/null

for u in "${MASK_UNITS[@]}"; do
        systemctl --root="$root" mask "$u" >/dev/null 2>&1 || ln -sf /dev/null "$root/etc/systemd/system/$u"
done
for u in "${DISABLE_UNITS[@]}"; do
        systemctl --root="$root" disable "$u" >/dev/null 2>&1 || true
done

# Quiet, fast journal; keep it in memory (each testbed is thrown away).
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=64M\n' > "$root/etc/systemd/journald.conf.d/50-berth-testbed.conf"
# Do not wait on shutdown for stragglers.
mkdir -p "$root/etc/systemd/system.conf.d"
printf '[Manager]\nDefaultTimeoutStopSec=10s\nDefaultTimeoutStartSec=60s\n' > "$root/etc/systemd/system.conf.d/50-berth-testbed.conf"

# Container rootfs for the tests inside.
"$mkbusybox" "$root/var/lib/berth-test/busybox" "$root/bin/busybox"

# Trim: apt caches and lists, docs.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/var/log/*.log "$root"/debootstrap
mkdir -p "$root/var/lib/apt/lists/partial"

echo "testbed-image: packing $image" >&2
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' --acls -cf - . \
        | zstd -q -T0 -6 -o "$work/image.tar.zst"
mv -f "$work/image.tar.zst" "$image"
# Images of older versions of this script, unused for a day, are dead weight.
find "$cachedir" -maxdepth 1 -name 'testbed-*.tar.zst' ! -name "${image##*/}" -atime +1 -delete 2>/dev/null || true
echo "testbed-image: done in $(( $(date +%s) - start )) s: $(du -h "$image" | cut -f1)" >&2
echo "$image"
