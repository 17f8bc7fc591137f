#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# /init of the berth vm-tier initrd (busybox): load virtio, ext4 and 9p,
# mount /dev/vda read-write, mount the 9p shares named on the kernel command
# line (berth.share=TAG:PATH:ro|rw, PATH without spaces) inside it and
# switch_root to systemd. On any error: say so on the console and power off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

die() {
        echo "berth-initrd: FATAL: $*" >/dev/console
        echo "berth-initrd: FATAL: $*" >/dev/kmsg 2>/dev/null
        sync
        poweroff -f
        sleep 5
        exit 1
}

while read -r m; do
        [ -n "$m" ] || continue
        insmod "/modules/$m" 2>/dev/null || echo "berth-initrd: insmod $m failed (builtin or unsupported)"
done </modules/order

i=0
while [ ! -b /dev/vda ]; do
        i=$((i + 1))
        [ $i -gt 200 ] && die "no /dev/vda"
        sleep 0.05
done
mkdir -p /newroot
mount -t ext4 -o rw /dev/vda /newroot || die "cannot mount /dev/vda"

for arg in $(cat /proc/cmdline); do
        case $arg in
                berth.share=*)
                        spec=${arg#berth.share=}
                        tag=${spec%%:*}; rest=${spec#*:}
                        path=${rest%:*}; mode=${rest##*:}
                        mkdir -p "/newroot$path"
                        mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,cache=none,$mode" "$tag" "/newroot$path" \
                                || die "cannot mount 9p share $tag at $path"
                        ;;
        esac
done

umount /sys /proc
umount /dev 2>/dev/null || umount -l /dev
exec switch_root /newroot /lib/systemd/systemd
