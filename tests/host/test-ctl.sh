#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host tier: the parts of berthctl that work without berthd. Argument parsing
# and --help; cat from a local configuration directory; and inspect and exec
# against a real container started by berth-run in the background, addressed
# with --pid (exec: exit status, namespaces, seccomp/no_new_privs/caps, a pty
# through script(1)). TAP output.
#
# Usage: test-ctl.sh BERTHCTL BERTH-RUN MKBUSYBOX
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/host/lib.sh
. "$here/lib.sh"
need_root

CTL=$1
RUN=$2
MKBB=$3
W=$(mktemp -d /var/tmp/berth-ctl.XXXXXX)
export SYSTEMD_PAGER= PAGER= SYSTEMD_COLORS=0
runpid=

cleanup() {
        if [ -n "$runpid" ]; then
                kill -TERM "$runpid" 2>/dev/null
                for _ in $(seq 50); do kill -0 "$runpid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$runpid" 2>/dev/null
                wait "$runpid" 2>/dev/null
        fi
        rm -rf --one-file-system "$W"
}
trap cleanup EXIT

rc_of() { "$@" >/dev/null 2>&1; echo $?; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); exec(sys.argv[1])' "$1"; }

# ---- arguments and help ----------------------------------------------------
check_eq "--help exits 0" 0 "$(rc_of "$CTL" --help)"
for v in list status show start stop restart kill enable disable run exec shell logs set-property inspect cat help; do
        out=$("$CTL" "$v" --help 2>&1)
        check_contains "$v --help" "$out" "berthctl $v"
done
check_eq "unknown verb exits 2" 2 "$(rc_of "$CTL" frobnicate)"
check_eq "missing NAME exits 2" 2 "$(rc_of "$CTL" status)"
check_eq "too many arguments exits 2" 2 "$(rc_of "$CTL" cat a b)"
check_eq "bad --json exits 2" 2 "$(rc_of "$CTL" list --json=yaml)"
check_eq "bad signal exits 2" 2 "$(rc_of "$CTL" kill x --signal=SIGNOPE)"
check_eq "bad --whom exits 2" 2 "$(rc_of "$CTL" kill x --whom=some)"
check_eq "exec without command exits 2" 2 "$(rc_of "$CTL" exec x)"
check_eq "logs with -H exits 2" 2 "$(rc_of "$CTL" -H nowhere logs x)"

# ---- cat ---------------------------------------------------------------------
C=$W/conf
mkdir -p "$C/web.conf.d"
cat >"$C/web.conf" <<'CONF'
[Container]
Command=/bin/sh -c "sleep 100"
Bogus=1
[Rootfs]
Directory=/srv/rootfs
[Limits]
MemoryMax=512M
[Network]
Port=tcp:8080:80
CONF
cat >"$C/web.conf.d/10-debug.conf" <<'CONF'
[Limits]
MemoryMax=1G
[Network]
Port=
Port=tcp:127.0.0.1:8080:80
Port=udp:53:53
CONF
out=$("$CTL" cat --config-dir="$C" web 2>"$W/cat.err")
check_eq "cat exits 0" 0 $?
check_contains "cat lists the main file" "$out" "# $C/web.conf"
check_contains "cat lists the drop-in" "$out" "# $C/web.conf.d/10-debug.conf"
check_contains "cat: the drop-in's MemoryMax wins" "$out" "MemoryMax=1G"
check_not_contains "cat: the overridden MemoryMax is gone" "$out" "MemoryMax=512M"
check_not_contains "cat: the cleared Port is gone" "$out" "Port=tcp:8080:80"
check_contains "cat: both contributing Port= lines" "$out" "Port=udp:53:53"
check_contains "cat names the source of the limits" "$(grep -A1 '^\[Limits\]' <<<"$out")" "# from $C/web.conf.d/10-debug.conf"
check_contains "cat warns about the unknown key on stderr" "$(cat "$W/cat.err")" "Bogus"
"$CTL" cat --config-dir="$C" web --json=short 2>/dev/null >"$W/cat.json"
check "cat --json: sources and warnings" json '
k = {(x["section"], x["key"], x["value"]): x["file"] for x in d["keys"]}
assert k[("Limits", "MemoryMax", "1G")].endswith("10-debug.conf"), k
assert k[("Container", "Command", "/bin/sh -c \"sleep 100\"")].endswith("web.conf"), k
assert len([x for x in d["keys"] if x["key"] == "Port"]) == 2, k
assert d["files"][1].endswith("10-debug.conf")
assert any("Bogus" in w for w in d["warnings"])
' <"$W/cat.json"
check_eq "cat of a missing configuration exits 5" 5 "$(rc_of "$CTL" cat --config-dir="$C" nosuch)"
printf '[Limits]\nMemoryMax=12Q\n' >"$C/bad.conf"
check_eq "cat of an invalid configuration exits 6" 6 "$(rc_of "$CTL" cat --config-dir="$C" bad)"

# ---- a container from berth-run ---------------------------------------------
"$MKBB" "$W/bb" >/dev/null
mkdir -p "$W/run" "$W/state"
cat >"$C/ct.conf" <<CONF
[Container]
Command=/bin/sleep 1000
Environment=FROM_CONFIG=yes
[Rootfs]
Directory=$W/bb
Ephemeral=yes
[Security]
DropCapability=CAP_NET_RAW
[Network]
Mode=none
CONF
"$RUN" --config-dir "$C" --run-dir "$W/run" --state-dir "$W/state" --pid-file "$W/pid" ct \
        >"$W/run.log" 2>&1 &
runpid=$!
for _ in $(seq 100); do [ -s "$W/pid" ] && break; sleep 0.05; done
leader=$(cat "$W/pid" 2>/dev/null)
if [ -z "$leader" ]; then
        not_ok "berth-run started the container"
        sed 's/^/#   /' "$W/run.log"
        done_testing
        exit 1
fi
ok "berth-run started the container (PID $leader)"
X=("$CTL" exec --pid="$leader" --name=ct --config-dir="$C")

# inspect
out=$("$CTL" inspect --pid="$leader" ct --no-pager 2>&1)
check_contains "inspect: namespaces section" "$out" "Namespaces"
check "inspect: net is private" grep -Eq "^  net +[0-9]+ +[0-9]+ +private" <<<"$out"
check_contains "inspect: lowerdir as mounted" "$out" "lowerdir         $W/bb"
"$CTL" inspect --pid="$leader" ct --json=short >"$W/inspect.json"
check "inspect --json: namespaces, overlay, seccomp" json "
ns = {n['type']: n for n in d['namespaces']}
import os
for t in ('mnt', 'pid', 'net', 'uts', 'ipc', 'cgroup'):
    assert not ns[t]['shared'], t
    assert ns[t]['inode'] == os.stat('/proc/$leader/ns/' + t).st_ino, t
assert d['overlay']['lowerdir'] == '$W/bb', d['overlay']
p = d['process']
assert p['Seccomp'] == 2 and p['NoNewPrivs'] == 1, p
assert 'CAP_NET_RAW' not in p['CapBnd']['names'], p['CapBnd']
assert [l['name'] for l in d['network']['links']] == ['lo'], d['network']
" <"$W/inspect.json"
check_eq "inspect of a dead PID exits 7" 7 "$(rc_of "$CTL" inspect --pid=999999999 x)"

# exec: exit status
check_eq "exec true" 0 "$(rc_of "${X[@]}" true)"
check_eq "exec false" 1 "$(rc_of "${X[@]}" false)"
check_eq "exec exit 42" 42 "$(rc_of "${X[@]}" -- /bin/sh -c 'exit 42')"
check_eq "exec killed by SIGKILL: 137" 137 "$(rc_of "${X[@]}" /bin/sh -c 'kill -KILL $$')"
check_eq "exec killed by SIGTERM: 143" 143 "$(rc_of "${X[@]}" /bin/sh -c 'kill -TERM $$')"
check_eq "exec of a missing command: 127" 127 "$(rc_of "${X[@]}" /no/such/thing)"
check_eq "exec into a dead PID: 125" 125 "$(rc_of "$CTL" exec --pid=999999999 true)"
# exec: where it runs
for ns in mnt pid net uts ipc cgroup; do
        check_eq "exec joins the $ns namespace" "$(readlink "/proc/$leader/ns/$ns")" "$("${X[@]}" readlink "/proc/self/ns/$ns")"
done
check_eq "exec sees the container's hostname" ct "$("${X[@]}" hostname)"
check_eq "exec: stdin through a pipe" piped "$(echo piped | "${X[@]}" cat)"
env_out=$("${X[@]}" env)
check_contains "exec: container=berth" "$env_out" "container=berth"
check_contains "exec: the config's Environment=" "$env_out" "FROM_CONFIG=yes"
check_eq "exec -u nobody" 65534 "$("${X[@]}" -u nobody id -u 2>&1)"
check_eq "exec: same bounding set as PID 1" "$(grep ^CapBnd "/proc/$leader/status")" "$("${X[@]}" grep ^CapBnd /proc/self/status)"
check_contains "exec: seccomp filter" "$("${X[@]}" grep ^Seccomp: /proc/self/status)" "2"
check_contains "exec: no_new_privs" "$("${X[@]}" grep ^NoNewPrivs /proc/self/status)" "1"
out=$("${X[@]}" sh -c 'mount -t tmpfs none /mnt 2>&1; echo rc=$?')
check_contains "exec: mount is refused" "$out" "rc=1"
check_contains "exec: ... with EPERM" "$out" "ermission denied"
# exec: pty
if command -v script >/dev/null; then
        out=$(script -qec "$(printf '%q ' "${X[@]}") sh -c 'tty; exit 7'" /dev/null </dev/null 2>&1)
        rc=$?
        check_eq "pty exec: exit status through script(1)" 7 "$rc"
        check_contains "pty exec: a pty of the container's devpts" "$out" "/dev/pts/"
        out=$(printf 'echo in-$((6*7))\nexit 3\n' | script -qec "$CTL shell --pid=$leader ct" /dev/null 2>&1)
        rc=$?
        check_eq "shell: exit status" 3 "$rc"
        check_contains "shell: ran the input" "$out" "in-42"
fi
check_eq "the container still runs" 0 "$(rc_of kill -0 "$leader")"

done_testing
