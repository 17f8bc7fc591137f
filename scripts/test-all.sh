#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every test tier of berth on a fresh Debian 12 machine, as root:
#   1. install the build and test dependencies from Debian's archive,
#   2. build (build/) and run the unit and host tiers,
#   3. rebuild with ASan+UBSan (build-asan/) and run the unit, host and system
#      tiers again (berthd, berthctl and the runtime sanitized in the testbed),
#   4. run the system tier (systemd-nspawn testbed) and the vm tier (qemu TCG).
# Each tier alone: meson test -C build --suite unit|host|system|vm
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
        echo "test-all: the host, system and vm tiers need root" >&2
        exit 1
fi

./scripts/install-deps.sh

# One closing line for every meson test run below, also when one fails.
summary() {
        python3 - build/meson-logs/tier-*.json build-asan/meson-logs/tier-*.json <<'PY'
import json, sys
ok = bad = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            ok += 1
        elif r in ("FAIL", "ERROR", "TIMEOUT", "UNEXPECTEDPASS", "SKIP"):
            bad += 1
print("%d passed, %d failed" % (ok, bad))
# A skipped test counts as failed: no tier may be skipped here.
sys.exit(1 if bad else 0)
PY
}
rm -f build/meson-logs/tier-*.json build-asan/meson-logs/tier-*.json
trap 'summary || exit 1' EXIT

setup() {
        local dir=$1; shift
        if [ -f "$dir/build.ninja" ]; then
                meson setup --reconfigure "$dir" "$@" >/dev/null
        else
                meson setup "$dir" "$@"
        fi
}

setup build
ninja -C build
meson test -C build --print-errorlogs --logbase tier-unit-host --suite unit --suite host

setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs --logbase tier-unit-host --suite unit --suite host
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs --logbase tier-system --suite system

meson test -C build --print-errorlogs --logbase tier-system-vm --suite system --suite vm
