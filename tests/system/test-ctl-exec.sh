#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: berthctl exec and shell against a container started with
# systemctl start container@...: exit status propagation (0, 1, 42, signals,
# 127), stdin through pipes, a pty session driven by script(1), and that the
# exec'd process lands in the container's cgroup and namespaces with the
# payload's restrictions (seccomp, no_new_privs, capabilities).
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
mkdir -p "$CONF"
rm -rf "$CONF/ex.conf.d"
cat >"$CONF/ex.conf" <<CONF
[Container]
Command=/bin/sleep 1000
Environment=FROM_CONFIG=yes
KillTimeoutSec=5s
[Rootfs]
Directory=$BB
Ephemeral=yes
[Security]
DropCapability=CAP_NET_RAW
[Network]
Mode=none
CONF
systemctl daemon-reload
systemctl start container@ex.service || fail "start container@ex"
leader=$(berthctl show ex -p Leader --value)
[ "$leader" -gt 1 ] || fail "no leader"

echo "== exit status"
expect_rc 0 berthctl exec ex true
expect_rc 1 berthctl exec ex false
expect_rc 42 berthctl exec ex -- /bin/sh -c 'exit 42'
expect_rc 137 berthctl exec ex /bin/sh -c 'kill -KILL $$'
expect_rc 143 berthctl exec ex /bin/sh -c 'kill -TERM $$'
expect_rc 127 berthctl exec ex /no/such/command
expect_rc 125 berthctl exec nosuch true
expect_rc 125 berthctl exec idle-never-started true
expect_rc 2 berthctl exec ex
ok "exit status 0, 1, 42, 128+9, 128+15, 127, 125"

echo "== stdio without a pty"
[ "$(echo piped-in | berthctl exec ex cat)" = piped-in ] || fail "stdin pipe"
[ "$(berthctl exec ex sh -c 'echo to-stderr >&2' 2>&1 >/dev/null)" = to-stderr ] || fail "stderr"
[ "$(berthctl exec ex sh -c 'tty >/dev/null && echo tty || echo notty' </dev/null)" = notty ] || fail "pty without a terminal"
ok "pipes: stdin, stdout, stderr"

echo "== environment, user, workdir, hostname"
env_out=$(berthctl exec -E EXTRA=1 ex env)
echo "$env_out" | grep -qx "container=berth" || fail "env container=: $env_out"
echo "$env_out" | grep -qx "FROM_CONFIG=yes" || fail "env from config: $env_out"
echo "$env_out" | grep -qx "EXTRA=1" || fail "env -E: $env_out"
[ "$(berthctl exec ex hostname)" = ex ] || fail "hostname"
[ "$(berthctl exec -u nobody ex id -u)" = 65534 ] || fail "exec -u nobody"
[ "$(berthctl exec -w /tmp ex pwd)" = /tmp ] || fail "exec -w"
ok "env (config + -E), -u, -w, hostname"

echo "== namespaces, cgroup and restrictions"
for ns in mnt pid net uts ipc cgroup; do
        want=$(readlink "/proc/$leader/ns/$ns")
        got=$(berthctl exec ex readlink "/proc/self/ns/$ns")
        [ "$got" = "$want" ] || fail "exec is not in the container's $ns namespace: $got vs $want"
done
# The exec'd process as the host sees it.
berthctl exec ex sleep 29.75 &
execpid=$!
sp=
for _ in $(seq 100); do
        for p in $(pgrep -x sleep); do
                if [ "$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)" = "sleep 29.75 " ]; then sp=$p; fi
        done
        [ -n "$sp" ] && break
        sleep 0.05
done
[ -n "$sp" ] || fail "cannot find the exec'd sleep on the host"
grep -q "berth-ex.scope" "/proc/$sp/cgroup" || fail "exec'd process not in the scope: $(cat /proc/$sp/cgroup)"
for ns in mnt pid net uts ipc cgroup; do
        [ "$(readlink /proc/$sp/ns/$ns)" = "$(readlink /proc/$leader/ns/$ns)" ] || fail "host view: $ns differs"
done
systemctl show -P ControlGroup berth-ex.scope | grep -q berth-ex.scope || fail "scope cgroup"
grep -q "^Seccomp:[[:space:]]*2" "/proc/$sp/status" || fail "exec'd process has no seccomp filter"
grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$sp/status" || fail "exec'd process lacks no_new_privs"
kill "$execpid" 2>/dev/null || true
wait "$execpid" 2>/dev/null || true
# Inside: the same restrictions as the payload.
[ "$(berthctl exec ex sh -c 'grep ^CapBnd /proc/self/status')" = "$(grep ^CapBnd /proc/$leader/status)" ] ||
        fail "capability bounding set differs from PID 1's"
if berthctl exec ex sh -c 'ping -c1 127.0.0.1' >/dev/null 2>&1; then
        fail "CAP_NET_RAW (dropped in the config) still works in exec"
fi
expect_rc 1 berthctl exec ex sh -c 'mount -t tmpfs none /mnt 2>&1; exit 1'
echo "$out" | grep -qi "permission denied\|operation not permitted" || fail "mount not EPERM: $out"
expect_rc 0 berthctl exec ex sh -c 'unshare -n true 2>/dev/null && exit 1; exit 0'
ok "namespaces, cgroup (berth-ex.scope), seccomp, no_new_privs, caps; mount fails with EPERM"

echo "== pty"
command -v script >/dev/null || fail "script(1) missing"
rc=0
script -qec "berthctl exec ex sh -c 'tty; test -t 0 && echo stdin-is-tty; exit 7'" /dev/null </dev/null >pty.out 2>&1 || rc=$?
cat pty.out
[ "$rc" = 7 ] || fail "pty exec exit status $rc"
grep -q "/dev/pts/[0-9]" pty.out || fail "no pty inside"
grep -q "stdin-is-tty" pty.out || fail "stdin is not the pty"
rc=0
printf 'echo in-$((6*7))\nexit 3\n' | script -qec "berthctl shell ex" /dev/null >shell.out 2>&1 || rc=$?
cat shell.out
[ "$rc" = 3 ] || fail "shell exit status $rc"
grep -q "in-42" shell.out || fail "shell did not run the input"
rc=0
printf 'stty size\nexit 0\n' | script -qec "stty rows 33 cols 101; berthctl exec -t ex sh" /dev/null >size.out 2>&1 || rc=$?
grep -q "33 101" size.out || fail "window size not passed: $(cat size.out)"
ok "pty: exit 7 through script, shell exit 3, window size"

systemctl stop container@ex.service
echo "PASS: test-ctl-exec"
