# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared helpers for tests/system/testbed.sh and tests/vm/vm.sh. Source it.
# Callers run with `set -euo pipefail`.

tb_log() { echo "testbed: $*" >&2; }
tb_die() { echo "testbed: error: $*" >&2; exit 1; }

# tb_srcdir BUILDDIR: the source tree BUILDDIR was configured from (falls back
# to the tree this file lives in).
tb_srcdir() {
        local b=$1 s=
        if [ -f "$b/meson-info/meson-info.json" ]; then
                s=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["directories"]["source"])' \
                        "$b/meson-info/meson-info.json" 2>/dev/null || true)
        fi
        if [ -z "$s" ] || [ ! -f "$s/meson.build" ]; then
                s=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
        fi
        (cd "$s" && pwd)
}

# tb_unpack IMAGE ROOT: a fresh copy of the cached testbed rootfs.
tb_unpack() {
        mkdir -p "$2"
        zstd -q -dc "$1" | tar -C "$2" --numeric-owner -xf -
}

# tb_install_args BUILDDIR: the `meson setup` arguments of the install build:
# install dirs for a real install, then BUILDDIR's buildtype, b_sanitize,
# b_lundef and project options (so an ASan build tree gives an ASan testbed),
# then BERTH_TESTBED_MESON_ARGS (which wins for any option it names).
tb_install_args() {
        python3 - "$1/meson-info/intro-buildoptions.json" "${BERTH_TESTBED_MESON_ARGS:-}" <<'PY'
import json, shlex, sys
path, extra = sys.argv[1], shlex.split(sys.argv[2])
args = ["--prefix=/usr", "--sysconfdir=/etc", "--localstatedir=/var", "--libexecdir=lib"]
named = {a[2:].split("=", 1)[0] for a in extra if a.startswith("-D")}
try:
    opts = json.load(open(path))
except OSError:
    opts = []
for o in opts:
    n, v = o["name"], o["value"]
    if not (n in ("buildtype", "b_sanitize", "b_lundef") or o["section"] == "user"):
        continue
    if n in named or (n == "buildtype" and any(a.startswith("--buildtype") for a in extra)):
        continue
    if isinstance(v, bool):
        v = "true" if v else "false"
    elif isinstance(v, list):
        v = ",".join(map(str, v))
    args.append("-D%s=%s" % (n, v))
print(" ".join(shlex.quote(a) for a in args + extra))
PY
}

# tb_install SRCDIR BUILDDIR ROOT: install berth into ROOT as a real install
# (prefix /usr). Uses a dedicated build dir, BUILDDIR/testbed-install (kept,
# so reruns are incremental; set up again when its arguments change),
# configured from SRCDIR with tb_install_args. Skipped if
# BERTH_TESTBED_NO_INSTALL=1. The log is BUILDDIR/testbed-install.log.
tb_install() {
        local src=$1 build=$2 root=$3
        if [ "${BERTH_TESTBED_NO_INSTALL:-0}" = 1 ]; then
                tb_log "BERTH_TESTBED_NO_INSTALL=1: not installing berth"
                return 0
        fi
        local ib=$build/testbed-install log=$build/testbed-install.log args
        args=$(tb_install_args "$build")
        (
                flock 8
                if [ ! -f "$ib/build.ninja" ] || [ "$(cat "$ib/.berth-testbed-args" 2>/dev/null)" != "$args" ]; then
                        rm -rf "$ib"
                        eval "set -- $args"
                        meson setup "$ib" "$src" "$@" >"$log" 2>&1 \
                                || { tail -n 40 "$log" >&2; tb_die "meson setup of $ib failed ($log)"; }
                        echo "$args" >"$ib/.berth-testbed-args"
                fi
                meson compile -C "$ib" >"$log" 2>&1 \
                        || { tail -n 60 "$log" >&2; tb_die "build of $ib failed ($log)"; }
                meson install -C "$ib" --no-rebuild --quiet --destdir "$root" >>"$log" 2>&1 \
                        || { tail -n 60 "$log" >&2; tb_die "meson install into the testbed failed ($log)"; }
        ) 8>"$build/.testbed-install.lock"
        tb_log "installed berth ($args)"
}

# tb_inside_path PATH SRCDIR BUILDDIR: succeed if PATH is under SRCDIR or
# BUILDDIR (and so visible at the same path inside the testbed).
tb_inside_path() {
        case $1 in
                "$2"/*|"$3"/*) return 0 ;;
        esac
        return 1
}

# tb_write_runner ROOT RESULTS ACTION SRCDIR BUILDDIR TIER SCRIPT...: install
# runner.sh and berth-testbed-runner.service (pulled in by
# systemd.wants=berth-testbed-runner.service). ACTION is the
# SuccessAction=/FailureAction= value (exit for nspawn, poweroff-force for vm).
tb_write_runner() {
        local root=$1 results=$2 action=$3 src=$4 build=$5 tier=$6
        shift 6
        local libdir
        libdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
        install -D -m 0755 "$libdir/runner.sh" "$root/usr/lib/berth-testbed/runner.sh"
        local args="" s
        for s in "$@"; do
                args+=" $(printf '%q' "$s")"
        done
        cat >"$root/etc/systemd/system/berth-testbed-runner.service" <<UNIT
[Unit]
Description=berth testbed: run test scripts
After=multi-user.target
RequiresMountsFor=$results $src $build
SuccessAction=$action
FailureAction=$action

[Service]
Type=simple
ExecStart=/usr/lib/berth-testbed/runner.sh $results$args
Environment=BERTH_SRCDIR=$src
Environment=BERTH_BUILDDIR=$build
Environment=BERTH_TEST_TIER=$tier
Environment=BERTH_TEST_BUSYBOX=/var/lib/berth-test/busybox
StandardOutput=journal
StandardError=journal
UNIT
}

# tb_report RESULTS RC: print a summary from RESULTS/status; return non-zero
# (naming the failed scripts) unless every script passed and RC is 0.
tb_report() {
        local results=$1 rc=$2 bad=0 code script
        if [ ! -f "$results/done" ]; then
                tb_log "the run did not complete (exit $rc)"
                bad=1
        fi
        if [ -f "$results/status" ]; then
                while read -r code script; do
                        if [ "$code" != 0 ]; then
                                tb_log "FAILED: $script (exit $code)"
                                bad=1
                        fi
                done <"$results/status"
        fi
        if [ "$bad" = 0 ] && [ "$rc" != 0 ]; then
                tb_log "scripts passed but the testbed exited with $rc"
                bad=1
        fi
        return $bad
}

# tb_keep_or_remove RUN RESULTS: at the end of a run, copy the results out
# (BERTH_TESTBED_RESULTS=DIR), then keep the run dir (BERTH_TESTBED_KEEP=1)
# or remove it, never crossing into a mount.
tb_keep_or_remove() {
        local run=$1 results=$2
        if [ -n "${BERTH_TESTBED_RESULTS:-}" ] && [ -d "$results" ]; then
                mkdir -p "$BERTH_TESTBED_RESULTS"
                cp -a "$results/." "$BERTH_TESTBED_RESULTS/" 2>/dev/null || true
                [ ! -f "$run/console.log" ] || cp "$run/console.log" "$BERTH_TESTBED_RESULTS/" 2>/dev/null || true
                tb_log "results copied to $BERTH_TESTBED_RESULTS"
        fi
        if [ "${BERTH_TESTBED_KEEP:-0}" = 1 ]; then
                tb_log "kept $run (BERTH_TESTBED_KEEP=1)"
        else
                rm -rf --one-file-system "$run"
        fi
}

# tb_traps: run the caller's cleanup() on exit, and exit on INT/TERM/HUP.
tb_traps() {
        trap cleanup EXIT
        trap 'tb_log "interrupted"; exit 130' INT
        trap 'tb_log "terminated by a signal"; exit 143' TERM HUP
}

# tb_setup SELF BUILDDIR SCRIPT...: the common start of testbed.sh and vm.sh.
# Needs root; unless the run dir is kept, re-executes SELF in its own mount
# namespace, so the tmpfs it unpacks onto can never outlive it. Sets
# use_tmpfs, builddir, srcdir and scripts (absolute paths).
tb_setup() {
        local self=$1 s
        shift
        [ "$(id -u)" = 0 ] || tb_die "must run as root"
        use_tmpfs=${BERTH_TESTBED_TMPFS:-1}
        [ "${BERTH_TESTBED_KEEP:-0}" = 1 ] && use_tmpfs=0
        if [ "$use_tmpfs" = 1 ] && [ -z "${BERTH_TESTBED_UNSHARED:-}" ]; then
                exec unshare --mount --propagation private env BERTH_TESTBED_UNSHARED=1 "$self" "$@"
        fi
        builddir=$(cd "$1" && pwd)
        shift
        srcdir=$(tb_srcdir "$builddir")
        scripts=()
        for s in "$@"; do
                [ -f "$s" ] || tb_die "no such script: $s"
                scripts+=("$(cd "$(dirname "$s")" && pwd)/$(basename "$s")")
        done
}
