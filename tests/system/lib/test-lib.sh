# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared helpers of the system and vm test scripts, which run inside the
# testbed (tests/system/testbed.sh) or the VM (tests/vm/vm.sh). Source it:
#     . "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
# It defines variables and functions only; the script sets its own shell
# options (set -euo pipefail) and does its own setup.

BB=${BERTH_TEST_BUSYBOX:-/var/lib/berth-test/busybox}
CONF=/etc/berth/containers
DEST=org.berth.berth1
MGR="$DEST /org/berth/berth1 org.berth.berth1.Manager"
CIF=org.berth.berth1.Container
export SYSTEMD_PAGER= PAGER= SYSTEMD_COLORS=0

# The checks are pipelines ending in `grep -q`, which exits at the first match
# while the producer may still be writing: with pipefail the producer's EPIPE
# (SIGPIPE is ignored in the runner unit, as in every systemd service) or
# SIGPIPE would fail a check that matched. What a check asserts is the result
# of its last command, so pipefail is off for the scripts that source this.
set +o pipefail

# Units whose journal dump() shows; a script may add its own (ssh.service).
DUMP_UNITS=(berthd.service 'container@*')

# dump: diagnostics on stderr (the units' status and their recent journal).
dump() {
        local u args=()
        echo "--- diagnostics" >&2
        systemctl --no-pager status berthd.service 'container@*' 'berth-*.scope' >&2 || true
        for u in "${DUMP_UNITS[@]}"; do args+=(-u "$u"); done
        journalctl --no-pager -n 80 "${args[@]}" >&2 || true
}
fail() { echo "FAIL: $*" >&2; dump; exit 1; }
ok() { echo "ok: $*"; }

# expect_rc CODE CMD...: run CMD, check its exit status, keep its output in $out.
expect_rc() {
        local want=$1 rc=0; shift
        out=$("$@" 2>&1) || rc=$?
        [ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want; output: $out"
}
wait_for() { # wait_for SECONDS CMD...
        local t=$1; shift
        for _ in $(seq $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
        return 1
}
# journal_has PATTERN journalctl-args...: wait until an entry matches
journal_has() {
        local pat=$1; shift
        wait_for 5 sh -c 'journalctl --no-pager -o verbose "$@" | grep -q -- "$0"' "$pat" "$@"
}

# The unprivileged user of the testbed image (uid 1000).
as_tester() { setpriv --reuid=tester --regid=tester --init-groups -- "$@"; }

# busctl on berthd: mgr METHOD SIGNATURE ARGS... on the Manager;
# prop PATH PROPERTY of a Container object.
mgr() { busctl call $MGR "$@"; }
prop() { busctl get-property $DEST "$1" $CIF "$2"; }

# conf_text COMMAND [EXTRA LINES...]: a container config on stdout (busybox
# rootfs, ephemeral, KillTimeoutSec=5s; no [Network] section: bridged).
conf_text() {
        local cmd=$1; shift
        echo "[Container]"
        echo "Command=$cmd"
        echo "KillTimeoutSec=5s"
        echo "[Rootfs]"
        echo "Directory=$BB"
        echo "Ephemeral=yes"
        for l in "$@"; do echo "$l"; done
}
# install_conf NAME < TEXT: $CONF/NAME.conf, dropping its old drop-ins.
install_conf() {
        mkdir -p "$CONF"
        rm -rf "$CONF/$1.conf.d"
        cat >"$CONF/$1.conf"
}
# write_conf NAME COMMAND [EXTRA LINES...]: conf_text with [Network] Mode=none,
# installed as NAME.
write_conf() {
        local name=$1 cmd=$2; shift 2
        conf_text "$cmd" "[Network]" "Mode=none" "$@" | install_conf "$name"
}

# JSON output is parsed back with python3 (the full package, for json).
# json EXPR < JSON: print a python expression over the parsed document d
json() {
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
# json_lines CODE < one JSON document per line, as the list docs
json_lines() {
        python3 -c 'import json, sys; docs = [json.loads(l) for l in sys.stdin if l.strip()]; exec(sys.argv[1])' "$1"
}
# check CODE < JSON: run python code (assertions) over the parsed document d
check() {
        python3 -c 'import json, sys; d = json.load(sys.stdin); exec(sys.argv[1])' "$1"
}
