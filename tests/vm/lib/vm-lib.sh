# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for tests/vm/vm.sh: kernel, initrd and kernel modules. Source it.
# Kernel and initrd are cached in BERTH_CACHE_DIR (default /var/cache/berth).

vm_libdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Modules loaded by the initrd (plus their dependencies).
VM_INITRD_MODULES=(virtio_pci virtio_blk crc32c_intel crc32c_generic ext4 9pnet_virtio 9p)
# Module trees copied into the VM's /lib/modules/KVER; everything else in
# drivers/ and sound/ is left out. The kernel loads the rest on demand with
# the rootfs's modprobe (overlay, veth, bridge, nf_tables, ...).
VM_MODULE_DIRS=(kernel/fs kernel/net kernel/lib kernel/crypto kernel/arch kernel/block
        kernel/mm kernel/virt kernel/drivers/virtio kernel/drivers/block kernel/drivers/char
        kernel/drivers/net/veth.ko kernel/drivers/net/dummy.ko kernel/drivers/net/tun.ko
        kernel/drivers/net/macvlan.ko kernel/drivers/net/ipvlan kernel/drivers/net/vxlan
        kernel/drivers/net/virtio_net.ko kernel/drivers/net/net_failover.ko
        kernel/drivers/net/wireguard kernel/drivers/net/bonding kernel/drivers/net/team)

# vm_kernel_version: the kernel to boot (BERTH_VM_KERNEL=/boot/vmlinuz-X picks
# one; default: the newest /boot/vmlinuz-*).
vm_kernel_image() {
        if [ -n "${BERTH_VM_KERNEL:-}" ]; then
                echo "$BERTH_VM_KERNEL"
                return
        fi
        local k
        k=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)
        [ -n "$k" ] || { echo "vm: no /boot/vmlinuz-* (install linux-image-amd64)" >&2; return 1; }
        echo "$k"
}

# vm_vmlinux BZIMAGE CACHEDIR: print the path of the cached uncompressed
# kernel, extracting it on first use.
vm_vmlinux() {
        local bz=$1 cache=$2 sum out
        sum=$(cat "$bz" "$vm_libdir/extract-vmlinux.py" | sha256sum | cut -c1-16)
        out=$cache/vmlinux-$(basename "$bz" | sed 's/^vmlinuz-//')-$sum
        if [ ! -s "$out" ]; then
                python3 "$vm_libdir/extract-vmlinux.py" "$bz" "$out.tmp.$$" >&2
                mv -f "$out.tmp.$$" "$out"
        fi
        echo "$out"
}

# vm_initrd KVER CACHEDIR: print the path of the cached busybox initrd.
vm_initrd() {
        local kver=$1 cache=$2 moddir=/lib/modules/$1 sum out tmp m p
        [ -d "$moddir" ] || { echo "vm: no $moddir for the VM kernel" >&2; return 1; }
        local bb=/bin/busybox
        [ -x "$bb" ] || bb=/usr/bin/busybox
        sum=$( (cat "$vm_libdir/initrd-init.sh" "${BASH_SOURCE[0]}" "$bb" "$moddir/modules.dep") | sha256sum | cut -c1-16)
        out=$cache/initrd-$kver-$sum.cpio.gz
        if [ -s "$out" ]; then
                echo "$out"
                return
        fi
        tmp=$(mktemp -d "$cache/.initrd.XXXXXX")
        (
                set -e
                trap 'rm -rf "$tmp"' EXIT
                mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,modules}
                install -m 0755 "$bb" "$tmp/bin/busybox"
                for a in sh mount umount insmod sleep cat mkdir switch_root poweroff echo sync; do
                        ln -s busybox "$tmp/bin/$a"
                done
                install -m 0755 "$vm_libdir/initrd-init.sh" "$tmp/init"
                : >"$tmp/modules/order"
                for m in "${VM_INITRD_MODULES[@]}"; do
                        modprobe --show-depends -S "$kver" "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
                done | awk '!seen[$0]++' | while read -r p; do
                        cp "$p" "$tmp/modules/"
                        basename "$p" >>"$tmp/modules/order"
                done
                (cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp.$$"
                mv -f "$out.tmp.$$" "$out"
        )
        echo "$out"
}

# vm_install_modules KVER ROOT: copy the kernel's modules the VM needs into
# ROOT/lib/modules/KVER and run depmod there.
vm_install_modules() {
        local kver=$1 root=$2 src=/lib/modules/$1 d
        local dst=$root/lib/modules/$kver
        mkdir -p "$dst"
        for d in "${VM_MODULE_DIRS[@]}"; do
                [ -e "$src/$d" ] || continue
                mkdir -p "$dst/$(dirname "$d")"
                cp -a "$src/$d" "$dst/$(dirname "$d")/"
        done
        cp -a "$src"/modules.order "$src"/modules.builtin* "$dst/" 2>/dev/null || true
        depmod -b "$root" "$kver"
}
