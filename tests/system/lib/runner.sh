#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# runner.sh RESULTSDIR SCRIPT [SCRIPT...]
#
# Runs inside a booted testbed (system tier: nspawn; vm tier: qemu) as the
# main process of berth-testbed-runner.service. Waits for the boot to settle,
# then runs each SCRIPT in order, as root, with:
#   BERTH_SRCDIR BERTH_BUILDDIR BERTH_TEST_BUSYBOX BERTH_TEST_TIER
#   BERTH_TEST_RESULTS  (a fresh RESULTSDIR/<n>-<script name>/ per script; it
#                        is also the script's working directory)
# All output goes to RESULTSDIR/output.log (the host streams it). One line per
# script is appended to RESULTSDIR/status: "<exit code> <script path>".
# Exit status: 0 if every script passed, else 1. RESULTSDIR/done marks a
# complete run.
set -uo pipefail

results=$1
shift
log=$results/output.log
exec >>"$log" 2>&1 </dev/null

export BERTH_TEST_BUSYBOX=${BERTH_TEST_BUSYBOX:-/var/lib/berth-test/busybox}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8
export SYSTEMD_PAGER='' SYSTEMD_COLORS=0

state=$(timeout 120 systemctl is-system-running --wait 2>/dev/null)
echo "testbed: system is $state after $(ps -o etimes= -p 1 | tr -d ' ') s, kernel $(uname -r)"

failed=0
n=0
for script in "$@"; do
        n=$((n + 1))
        name=$(basename "$script")
        dir=$results/$n-${name%.*}
        mkdir -p "$dir"
        echo "=== testbed: running $script"
        t0=$(date +%s.%N)
        if [ -x "$script" ]; then
                (cd "$dir" && BERTH_TEST_RESULTS=$dir exec "$script")
        else
                (cd "$dir" && BERTH_TEST_RESULTS=$dir exec bash "$script")
        fi
        rc=$?
        t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
        if [ $rc = 0 ]; then
                echo "=== testbed: PASS $script (${t} s)"
        else
                echo "=== testbed: FAIL $script: exit $rc (${t} s)"
                failed=1
                # The journal dies with the testbed: keep this boot's.
                journalctl -b --no-pager -o short-monotonic >"$dir/journal.log" 2>&1 || true
                echo "=== testbed: last journal lines (all of it in $dir/journal.log):"
                tail -n 40 "$dir/journal.log"
        fi
        echo "$rc $script" >>"$results/status"
done
sync
: >"$results/done"
exit $failed
