#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# testbed.sh BUILDDIR SCRIPT [SCRIPT...]
#
# System tier: install berth (configured from BUILDDIR's source tree with
# --prefix=/usr) into a fresh copy of the cached Debian 12 testbed rootfs
# (scripts/testbed-image.sh), boot it with systemd as PID 1 under
# `systemd-nspawn -b --private-network` in a private cgroup, and run each
# SCRIPT inside as a real in-container process (berth-testbed-runner.service,
# see tests/system/lib/runner.sh). Script output is streamed to stdout. Exits
# non-zero, naming the failed scripts, if any script fails or the testbed does
# not complete.
#
# Inside, scripts see BERTH_SRCDIR, BERTH_BUILDDIR (both read-only, same path
# as on the host), BERTH_TEST_BUSYBOX=/var/lib/berth-test/busybox,
# BERTH_TEST_TIER=system and BERTH_TEST_RESULTS (a writable per-script dir,
# also the working directory).
#
# Env:
#   BERTH_TESTBED_KEEP=1        keep the run directory (rootfs, results, logs)
#   BERTH_TESTBED_RESULTS=DIR   copy the results (output.log, status, per-script
#                               dirs, console.log) to DIR at the end
#   BERTH_TESTBED_TIMEOUT=SECS  hard limit for the whole run (default 1800)
#   BERTH_TESTBED_TMPDIR=DIR    where run directories go (default /var/tmp)
#   BERTH_TESTBED_TMPFS=0       unpack onto disk instead of a tmpfs (the default
#                               is a tmpfs in a private mount namespace, which
#                               vanishes with this script even on SIGKILL;
#                               BERTH_TESTBED_KEEP=1 implies the disk)
#   BERTH_TESTBED_NO_INSTALL=1  boot without installing berth
#   BERTH_TESTBED_MESON_ARGS    extra `meson setup` args for the install build
#   BERTH_TESTBED_SHELL=1       after the scripts, keep the testbed running and
#                               print an nsenter command line (Ctrl-C ends it)
set -euo pipefail

if [ $# -lt 2 ]; then
        sed -n '3,32p' "$0" >&2
        exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/system/lib/testbed-lib.sh
. "$here/lib/testbed-lib.sh"

tb_setup "$0" "$@"
timeout_s=${BERTH_TESTBED_TIMEOUT:-1800}

t_start=$(date +%s.%N)
image=$("$srcdir/scripts/testbed-image.sh")

run='' root='' results=''
cg_unified='' cg_named='' nspawn_pid='' tail_pid=''
cg_kill_all() {
        local cg=$1 p
        [ -n "$cg" ] && [ -d "$cg" ] || return 0
        for _ in $(seq 50); do
                if [ -f "$cg/cgroup.kill" ]; then
                        echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
                else
                        find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null \
                                | while read -r p; do kill -9 "$p" 2>/dev/null || true; done
                fi
                [ -z "$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && break
                sleep 0.1
        done
        find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        [ ! -d "$cg" ] || tb_log "warning: could not remove cgroup $cg"
}
cleanup() {
        local rc=$?
        # Finish cleaning up even if signalled again.
        trap '' INT TERM HUP
        trap - EXIT
        [ -n "$run" ] || exit "$rc"
        if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
                # nspawn halts the container on SIGTERM; force after 15 s.
                kill -TERM "$nspawn_pid" 2>/dev/null || true
                for _ in $(seq 150); do
                        kill -0 "$nspawn_pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$nspawn_pid" 2>/dev/null || true
                wait "$nspawn_pid" 2>/dev/null || true
        fi
        if [ -n "$tail_pid" ]; then
                kill "$tail_pid" 2>/dev/null || true
                wait "$tail_pid" 2>/dev/null || true
        fi
        # Whatever is left of the testbed lives in our private cgroups.
        cg_kill_all "$cg_unified"
        cg_kill_all "$cg_named"
        # nspawn works in its own mount namespace; nothing should be mounted
        # under the run dir, but never rm through a mount.
        awk -v p="$run/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo \
                | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
        if mountpoint -q "$root"; then umount "$root" || umount -l "$root"; fi
        tb_keep_or_remove "$run" "$results"
        exit "$rc"
}
tb_traps

tmpbase=${BERTH_TESTBED_TMPDIR:-/var/tmp}
run=$(mktemp -d "$tmpbase/berth-testbed.XXXXXX")
id=${run##*.}
machine=berth-tb-$id
root=$run/root
results=$run/results
mkdir -p "$results" "$run/scripts" "$root"
chmod 0755 "$run" "$results"
if [ "$use_tmpfs" = 1 ]; then
        mount -t tmpfs -o mode=0755,size=${BERTH_TESTBED_TMPFS_SIZE:-8G} berth-testbed "$root"
fi

tb_unpack "$image" "$root"
t_unpacked=$(date +%s.%N)
tb_install "$srcdir" "$builddir" "$root"
t_installed=$(date +%s.%N)

# Scripts outside the source and build trees are copied in.
inner=()
for s in "${scripts[@]}"; do
        if tb_inside_path "$s" "$srcdir" "$builddir"; then
                inner+=("$s")
        else
                cp "$s" "$run/scripts/"
                inner+=("$run/scripts/$(basename "$s")")
        fi
done
action='exit'
tb_write_runner "$root" "$results" "$action" "$srcdir" "$builddir" system "${inner[@]}"
if [ "${BERTH_TESTBED_SHELL:-0}" = 1 ]; then
        sed -i -e '/^SuccessAction=/d' -e '/^FailureAction=/d' "$root/etc/systemd/system/berth-testbed-runner.service"
fi

binds=(--bind-ro="$srcdir" --bind="$results")
case $builddir in
        "$srcdir"/*) ;;
        *) binds+=(--bind-ro="$builddir") ;;
esac
case $run/scripts in
        "$srcdir"/*|"$builddir"/*) ;;
        *) binds+=(--bind-ro="$run/scripts") ;;
esac

# A private cgroup per run, so that concurrent testbeds do not share one and
# everything the testbed leaves is killed on exit.
if [ -d /run/systemd/system ]; then
        # systemd host: let systemd make a delegated scope for us.
        launcher=(systemd-run --quiet --scope --collect -p Delegate=yes --unit="$machine")
else
        launcher=()
        self_cg=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
        if [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then
                cg_unified=/sys/fs/cgroup/unified${self_cg%/}/$machine
        elif [ -f /sys/fs/cgroup/cgroup.procs ]; then
                cg_unified=/sys/fs/cgroup${self_cg%/}/$machine
        fi
        named=$(awk -F: '$2 == "name=systemd" { print $3 }' /proc/self/cgroup)
        if [ -n "$named" ] && [ -d /sys/fs/cgroup/systemd ]; then
                cg_named=/sys/fs/cgroup/systemd${named%/}/$machine
        fi
        [ -n "$cg_unified$cg_named" ] || tb_die "no writable cgroup hierarchy found"
        # Collect empty cgroups of testbeds that were SIGKILLed (older than
        # a minute, so as not to race a testbed that is starting).
        for cg in "${cg_unified%/*}"/berth-tb-* "${cg_named%/*}"/berth-tb-*; do
                [ -d "$cg" ] || continue
                [ -n "$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && continue
                [ -n "$(find "$cg" -maxdepth 0 -mmin +1)" ] || continue
                find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        done
        for cg in $cg_unified $cg_named; do
                mkdir "$cg" || tb_die "cannot create cgroup $cg"
        done
fi

tb_log "booting $machine ($run), timeout ${timeout_s} s"
: >"$results/output.log"
(
        for cg in $cg_unified $cg_named; do
                echo "$BASHPID" >"$cg/cgroup.procs"
        done
        # If this script dies (even SIGKILL), nspawn is told to halt.
        exec "${launcher[@]}" setpriv --pdeathsig TERM systemd-nspawn --quiet --register=no --keep-unit \
                --private-network --machine="$machine" -D "$root" \
                --console=read-only "${binds[@]}" \
                --setenv=SYSTEMD_COLORS=0 \
                -b systemd.wants=berth-testbed-runner.service \
                systemd.show_status=false systemd.log_color=false
) </dev/null >"$run/console.log" 2>&1 &
nspawn_pid=$!
tail -n +1 -s 0.2 -f "$results/output.log" &
tail_pid=$!

# Hard timeout: the whole run can never hang CI.
rc=0
deadline=$(( $(date +%s) + timeout_s ))
while kill -0 "$nspawn_pid" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
                tb_log "TIMEOUT after ${timeout_s} s: halting the testbed"
                kill -TERM "$nspawn_pid" 2>/dev/null || true
                for _ in $(seq 150); do
                        kill -0 "$nspawn_pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$nspawn_pid" 2>/dev/null || true
                wait "$nspawn_pid" 2>/dev/null || true
                rc=124
                break
        fi
        if [ "${BERTH_TESTBED_SHELL:-0}" = 1 ] && [ -f "$results/done" ] && [ -z "${shell_hint:-}" ]; then
                leader=$(find "$cg_unified" -path '*init.scope/cgroup.procs' -exec cat {} + 2>/dev/null | head -n1)
                tb_log "scripts done; enter with: nsenter -t ${leader:-PID} -a systemd-run -q --pty bash  (Ctrl-C here ends the testbed)"
                shell_hint=1
        fi
        sleep 0.2
done
if [ $rc = 0 ]; then
        wait "$nspawn_pid" || rc=$?
fi
nspawn_pid=
sleep 0.3
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true
tail_pid=

t_end=$(date +%s.%N)
timing=$(awk -v a="$t_start" -v b="$t_unpacked" -v c="$t_installed" -v d="$t_end" \
        'BEGIN { printf "image+unpack %.1f s, install %.1f s, boot+scripts %.1f s", b - a, c - b, d - c }')
if tb_report "$results" "$rc"; then
        tb_log "PASS ($timing)"
        exit 0
fi
tb_log "FAIL ($timing); console log of $machine:"
tail -n 80 "$run/console.log" >&2 || true
exit 1
