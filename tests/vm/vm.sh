#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vm.sh BUILDDIR SCRIPT [SCRIPT...]
#
# VM tier: the system tier's rootfs with berth installed (see
# tests/system/testbed.sh), booted by qemu with TCG (no KVM) on the host's
# Debian kernel with systemd.unified_cgroup_hierarchy=1, so cgroup v2
# controllers are real. The uncompressed kernel is extracted from
# /boot/vmlinuz-* and booted directly; a busybox initrd loads virtio, ext4
# and 9p, mounts the root (an ext4 image made with mkfs.ext4 -d, attached
# with snapshot=on) and the 9p shares, and switch_roots to systemd. The
# SCRIPTs run in berth-testbed-runner.service (tests/system/lib/runner.sh),
# which powers the VM off at the end; output is streamed from the results
# share, and the exit status is read from it.
#
# Inside, scripts see BERTH_SRCDIR, BERTH_BUILDDIR (9p, read-only, same path
# as on the host), BERTH_TEST_BUSYBOX=/var/lib/berth-test/busybox,
# BERTH_TEST_TIER=vm and BERTH_TEST_RESULTS (a writable per-script dir on the
# results share, also the working directory).
#
# Env:
#   BERTH_VM_TIMEOUT=SECS   hard limit for the qemu run (default 900)
#   BERTH_VM_MEMORY=SIZE    guest memory (default 2G); BERTH_VM_CPUS (default 2)
#   BERTH_VM_KERNEL=PATH    bzImage to boot (default: newest /boot/vmlinuz-*)
#   BERTH_VM_DISK_FREE=MB   free space in the root image (default 2048)
#   BERTH_VM_APPEND=ARGS    extra kernel command line
#   BERTH_TESTBED_KEEP=1    keep the run directory (image, logs, results)
#   BERTH_TESTBED_RESULTS=DIR  copy the results and console.log to DIR
#   BERTH_TESTBED_TMPDIR, BERTH_TESTBED_TMPFS, BERTH_TESTBED_NO_INSTALL,
#   BERTH_TESTBED_MESON_ARGS: as for tests/system/testbed.sh
set -euo pipefail

if [ $# -lt 2 ]; then
        sed -n '3,33p' "$0" >&2
        exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/system/lib/testbed-lib.sh
. "$here/../system/lib/testbed-lib.sh"
# shellcheck source=tests/vm/lib/vm-lib.sh
. "$here/lib/vm-lib.sh"

tb_setup "$0" "$@"
timeout_s=${BERTH_VM_TIMEOUT:-900}
cachedir=${BERTH_CACHE_DIR:-/var/cache/berth}
command -v qemu-system-x86_64 >/dev/null || tb_die "qemu-system-x86_64 missing (scripts/install-deps.sh)"

t_start=$(date +%s.%N)
image=$("$srcdir/scripts/testbed-image.sh")
bzimage=$(vm_kernel_image)
kver=$(basename "$bzimage" | sed 's/^vmlinuz-//')
mkdir -p "$cachedir"
vmlinux=$(vm_vmlinux "$bzimage" "$cachedir")
initrd=$(vm_initrd "$kver" "$cachedir")

run='' results=''
qemu_pid='' tail_pid=''
cleanup() {
        local rc=$?
        # Finish cleaning up even if signalled again.
        trap '' INT TERM HUP
        trap - EXIT
        [ -n "$run" ] || exit "$rc"
        if [ -n "$qemu_pid" ]; then
                kill -TERM "$qemu_pid" 2>/dev/null || true
                for _ in $(seq 50); do
                        kill -0 "$qemu_pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$qemu_pid" 2>/dev/null || true
                wait "$qemu_pid" 2>/dev/null || true
        fi
        if [ -n "$tail_pid" ]; then
                kill "$tail_pid" 2>/dev/null || true
                wait "$tail_pid" 2>/dev/null || true
        fi
        if mountpoint -q "$run/work"; then umount "$run/work" 2>/dev/null || umount -l "$run/work"; fi
        tb_keep_or_remove "$run" "$results"
        exit "$rc"
}
tb_traps

tmpbase=${BERTH_TESTBED_TMPDIR:-/var/tmp}
run=$(mktemp -d "$tmpbase/berth-vm.XXXXXX")
results=$run/results
mkdir -p "$results" "$run/scripts"
chmod 0755 "$run" "$results"

# Work on a tmpfs (the rootfs, the ext4 image and qemu's snapshot overlay);
# the results stay on disk under $run so they survive for reporting.
work=$run/work
mkdir -p "$work"
if [ "$use_tmpfs" = 1 ]; then
        mount -t tmpfs -o mode=0755,size=${BERTH_TESTBED_TMPFS_SIZE:-8G} berth-vm "$work"
fi
root=$work/root
mkdir -p "$root"
tb_unpack "$image" "$root"
tb_install "$srcdir" "$builddir" "$root"
vm_install_modules "$kver" "$root"

inner=()
for s in "${scripts[@]}"; do
        if tb_inside_path "$s" "$srcdir" "$builddir"; then
                inner+=("$s")
        else
                cp "$s" "$run/scripts/"
                inner+=("$run/scripts/$(basename "$s")")
        fi
done
# Units that only cost boot time under TCG and that no test needs.
for u in modprobe@drm.service modprobe@dm_mod.service modprobe@loop.service \
        sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount \
        systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
        sys-fs-fuse-connections.mount systemd-update-utmp.service \
        systemd-update-utmp-runlevel.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
done
# Generators run on every boot before any unit; under TCG each costs ~0.5 s.
# Kept: fstab, and debug (it implements systemd.wants=).
mkdir -p "$root/etc/systemd/system-generators"
for g in cryptsetup getty gpt-auto hibernate-resume integritysetup rc-local run \
        system-update sysv veritysetup; do
        ln -sf /dev/null "$root/etc/systemd/system-generators/systemd-$g-generator"
done
tb_write_runner "$root" "$results" poweroff-force "$srcdir" "$builddir" vm "${inner[@]}"

# 9p shares, mounted by the initrd at the same paths as on the host.
shares=()
append_shares=
n=0
add_share() { # PATH MODE
        n=$((n + 1))
        local tag=berth$n ro=
        [ "$2" = ro ] && ro=,readonly=on
        case $1 in *' '*|*:*) tb_die "cannot share a path with spaces or colons: $1" ;; esac
        shares+=(-virtfs "local,path=$1,mount_tag=$tag,security_model=none,id=fs$n$ro")
        append_shares+=" berth.share=$tag:$1:$2"
}
add_share "$srcdir" ro
case $builddir in "$srcdir"/*) ;; *) add_share "$builddir" ro ;; esac
add_share "$results" rw
case $run/scripts in "$srcdir"/*|"$builddir"/*) ;; *) add_share "$run/scripts" ro ;; esac

# The root image: the rootfs plus free space for the tests.
used_mb=$(du -sm "$root" | cut -f1)
size_mb=$(( used_mb + used_mb / 5 + ${BERTH_VM_DISK_FREE:-2048} ))
mkfs.ext4 -q -F -L berth-vm -E root_owner=0:0 -d "$root" "$work/root.ext4" "${size_mb}M" >"$run/mkfs.log" 2>&1 \
        || { cat "$run/mkfs.log" >&2; tb_die "mkfs.ext4 failed"; }
rm -rf --one-file-system "$root"
t_ready=$(date +%s.%N)

append="console=ttyS0,115200 root=/dev/vda rw panic=-1 loglevel=4 mitigations=off"
append+=" systemd.unified_cgroup_hierarchy=1 systemd.show_status=false systemd.log_color=false"
append+=" systemd.wants=berth-testbed-runner.service$append_shares ${BERTH_VM_APPEND:-}"

tb_log "booting qemu (TCG, kernel $kver), timeout ${timeout_s} s, console log $run/console.log"
: >"$results/output.log"
TMPDIR=$work setpriv --pdeathsig KILL qemu-system-x86_64 \
        -accel tcg,thread=multi -smp "${BERTH_VM_CPUS:-2}" -cpu max -m "${BERTH_VM_MEMORY:-2G}" -M q35 \
        -nodefaults -no-reboot -display none -monitor none -nic none \
        -serial "file:$run/console.log" \
        -kernel "$vmlinux" -initrd "$initrd" -append "$append" \
        -drive "file=$work/root.ext4,format=raw,if=virtio,snapshot=on,cache=unsafe" \
        -device virtio-rng-pci \
        "${shares[@]}" </dev/null >"$run/qemu.log" 2>&1 &
qemu_pid=$!
tail -n +1 -s 0.2 -f "$results/output.log" &
tail_pid=$!

rc=0
deadline=$(( $(date +%s) + timeout_s ))
while kill -0 "$qemu_pid" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
                tb_log "TIMEOUT after ${timeout_s} s: killing qemu"
                kill -KILL "$qemu_pid" 2>/dev/null || true
                rc=124
                break
        fi
        sleep 0.2
done
wait "$qemu_pid" || { [ $rc != 0 ] || rc=$?; }
qemu_pid=
sleep 0.3
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true
tail_pid=

t_end=$(date +%s.%N)
timing=$(awk -v a="$t_start" -v b="$t_ready" -v c="$t_end" \
        'BEGIN { printf "prepare %.1f s, qemu %.1f s", b - a, c - b }')
if tb_report "$results" "$rc"; then
        tb_log "PASS ($timing)"
        exit 0
fi
tb_log "FAIL ($timing); qemu said:"
cat "$run/qemu.log" >&2 || true
tb_log "serial console:"
tail -n 150 "$run/console.log" >&2 || true
exit 1
