#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mkbusybox.sh DIR [BUSYBOX]
#
# Create a tiny container rootfs in DIR from a static busybox (default: the
# host's /bin/busybox from busybox-static): bin/busybox plus a symlink per
# applet in bin/ and sbin/, etc/passwd and etc/group with root and nobody
# (65534), and empty dev, proc, sys, tmp, run, root.
# DIR must not exist or be empty. Used by the host tier, the benchmarks and
# scripts/testbed-image.sh.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        echo "usage: $0 DIR [BUSYBOX]" >&2
        exit 2
fi
dir=$1
bb=${2:-}
if [ -z "$bb" ]; then
        for c in /bin/busybox /usr/bin/busybox; do
                if [ -x "$c" ]; then bb=$c; break; fi
        done
fi
if [ -z "$bb" ] || [ ! -x "$bb" ]; then
        echo "mkbusybox: no busybox binary found (install busybox-static)" >&2
        exit 1
fi
# Must be static: the rootfs has no libc.
if file_out=$(LC_ALL=C readelf -l "$bb" 2>/dev/null) && grep -q 'Requesting program interpreter' <<<"$file_out"; then
        echo "mkbusybox: $bb is dynamically linked; need busybox-static" >&2
        exit 1
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "mkbusybox: $dir exists and is not empty" >&2
        exit 1
fi

mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys tmp run root var/tmp
chmod 1777 tmp var/tmp
chmod 0700 root
install -m 0755 "$bb" bin/busybox

# One symlink per applet, placed where busybox --list-full says.
"$bb" --list-full | while read -r applet; do
        [ -n "$applet" ] || continue
        name=${applet##*/}
        [ "$name" = busybox ] && continue
        d=${applet%/*}
        [ "$d" = "$applet" ] && d=bin
        mkdir -p "$d"
        [ -e "$d/$name" ] || [ -L "$d/$name" ] || ln -s /bin/busybox "$d/$name"
done
# Make sure the basics exist even if --list-full is missing in this build.
for a in sh ls cat echo sleep true false id env mount; do
        [ -e "bin/$a" ] || [ -L "bin/$a" ] || ln -s busybox "bin/$a"
done

cat > etc/passwd <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > etc/group <<'GR'
root:x:0:
nogroup:x:65534:
GR
chmod 0644 etc/passwd etc/group
: > etc/hostname
echo 'hosts: files' > etc/nsswitch.conf
cat > etc/os-release <<'OS'
NAME="berth-test-busybox"
ID=busybox
PRETTY_NAME="berth test busybox rootfs"
OS
