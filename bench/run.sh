#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/run.sh [start-latency options]
#
# Prepare everything the start-latency benchmark needs and run it (as root):
# the dependencies (scripts/install-deps.sh, idempotent), a build in
# $BUILDDIR (default /tmp/build-bench), a busybox rootfs under $BENCH_DIR
# (default /var/tmp/berth-bench, built once with tests/system/lib/mkbusybox.sh)
# and the OCI bundle for crun/runc (bench/oci-config.json).
#
# Options go to start-latency, e.g.:  bench/run.sh -n 100 -r raw,berth,crun
# Environment: SKIP_DEPS=1 skips install-deps.sh; BENCH_NICE (default -10) is
# the niceness of the harness and so of every runtime it starts, to keep
# other work on the machine from skewing the numbers (0 to leave it alone).
set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=${BUILDDIR:-/tmp/build-bench}
benchdir=${BENCH_DIR:-/var/tmp/berth-bench}

if [ "$(id -u)" -ne 0 ]; then
        echo "run.sh: the benchmark creates namespaces and mounts; run it as root" >&2
        exit 1
fi

if [ "${SKIP_DEPS:-0}" != 1 ]; then
        "$srcdir/scripts/install-deps.sh" >&2
fi

if [ ! -f "$builddir/build.ninja" ]; then
        meson setup "$builddir" "$srcdir" >&2
fi
ninja -C "$builddir" bench/start-latency >&2

rootfs=$benchdir/rootfs
if [ ! -e "$benchdir/rootfs.done" ]; then
        mkbusybox=$srcdir/tests/system/lib/mkbusybox.sh
        if [ ! -x "$mkbusybox" ] && [ ! -f "$mkbusybox" ]; then
                echo "run.sh: $mkbusybox is missing" >&2
                exit 1
        fi
        rm -rf "$rootfs"
        mkdir -p "$benchdir"
        bash "$mkbusybox" "$rootfs" >&2
        touch "$benchdir/rootfs.done"
fi

exec nice -n "${BENCH_NICE:--10}" "$builddir/bench/start-latency" \
        --rootfs "$rootfs" \
        --workdir "$benchdir/work" \
        --oci-config "$srcdir/bench/oci-config.json" \
        "$@"
