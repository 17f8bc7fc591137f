# SPDX-License-Identifier: LGPL-2.1-or-later
# Small TAP helpers for the host tier. Each test script sources this, calls
# `check NAME COMMAND...` or `ok`/`not_ok`, and finishes with `done_testing`.

_n=0
_failed=0

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }

# check DESCRIPTION CMD...: passes when CMD exits 0.
check() {
        local desc=$1; shift
        if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   expected: [$2]"; echo "#   actual:   [$3]"; fi
}

# check_contains DESCRIPTION HAYSTACK NEEDLE
check_contains() {
        if grep -qF -- "$3" <<<"$2"; then ok "$1"; else not_ok "$1"; echo "#   [$3] not in:"; sed 's/^/#     /' <<<"$2"; fi
}

check_not_contains() {
        if ! grep -qF -- "$3" <<<"$2"; then ok "$1"; else not_ok "$1"; echo "#   [$3] unexpectedly in:"; sed 's/^/#     /' <<<"$2"; fi
}

done_testing() {
        echo "1..$_n"
        [ "$_failed" -eq 0 ]
}

need_root() {
        if [ "$(id -u)" != 0 ]; then
                echo "Bail out! the host tier needs root (it creates real namespaces and mounts)"
                exit 1
        fi
}
