#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: the guardrails wired into berthd and berthctl (issue 6), with
# the built-in restricted profile (no /etc/berth/policy.conf):
#   - a start refused without an exception: the bus error names the rule and
#     the key, the journal says which rule, and nothing is left behind;
#   - a start allowed with a valid exception: the MESSAGE_ID journal entry and
#     the Exceptions / SharedNamespaces bus properties;
#   - a refusal after expiry (a date in the past), the journal naming the
#     exception and when it expired;
#   - berthctl audit exit codes 0/1/2 over --config files (not installed) and
#     over running containers, --json;
#   - drift: a container running in the host's PID namespace through an
#     exception, audited after the exception and the weakening were removed
#     from its config on disk.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
REPO=/tmp/config-repo
# Here write_conf adds no [Network] section (a bridged container); the tests
# that want none pass NONET.
write_conf() { # write_conf NAME COMMAND [EXTRA LINES...]
        local name=$1; shift
        conf_text "$@" | install_conf "$name"
}
trap 'rm -rf "$REPO"' EXIT

[ ! -e /etc/berth/policy.conf ] || fail "the testbed has a policy.conf; this test is about the built-in default"
EXPIRES=$(date -u -d '+7 days' +%F)
SOON=$(date -u -d '+1 day' +%F)
PAST=$(date -u -d '-3 days' +%F)
FAR=$(date -u -d '+90 days' +%F)
LIMITS=("[Limits]" "MemoryMax=64M" "TasksMax=64")
NONET=("[Network]" "Mode=none")
HOSTPID=("[Security]" "HostNamespaces=pid")
JUSTIFICATION="debugging INC-1234: strace of a host daemon"
exception() { # exception RULE EXPIRES
        printf '%s\n' "[Exception:$1]" "Justification=$JUSTIFICATION" "Expires=$2"
}

echo "== a host PID namespace without an exception is refused"
write_conf grpid "/bin/sleep 1000" "${NONET[@]}" "${LIMITS[@]}" "${HOSTPID[@]}"
command -v dbus-send >/dev/null || fail "dbus-send is not in the testbed (package dbus-bin)"
if out=$(dbus-send --system --print-reply --dest=org.berth.berth1 /org/berth/berth1 \
                org.berth.berth1.Manager.StartContainer string:grpid 2>&1); then
        fail "start without an exception succeeded: $out"
fi
echo "$out" | grep -q "org.berth.berth1.PolicyRefused" || fail "not a PolicyRefused error: $out"
if out=$(busctl call org.berth.berth1 /org/berth/berth1 org.berth.berth1.Manager StartContainer s grpid 2>&1); then
        fail "start without an exception succeeded: $out"
fi
echo "$out"
echo "$out" | grep -q "host-pid" || fail "refusal does not name the rule: $out"
echo "$out" | grep -q "HostNamespaces=pid" || fail "refusal does not name the key: $out"
echo "$out" | grep -q "\[Exception:host-pid\]" || fail "refusal does not show how to write an exception: $out"
expect_rc 1 berthctl start grpid
echo "$out" | grep -q "host-pid" || fail "berthctl start: refusal not shown: $out"
if systemctl start container@grpid.service 2>/dev/null; then
        fail "container@grpid started without an exception"
fi
systemctl reset-failed container@grpid.service 2>/dev/null || true
journal_has "BERTH_RULES=host-pid" CONTAINER_NAME=grpid MESSAGE_ID=bd1b8e7ba3b245b39eeec6c9caa3e338 \
        || fail "refusal not in the journal with the rule"
journalctl --no-pager -u container@grpid.service | grep -q "refused by the host policy" \
        || fail "refusal not in journalctl -u container@grpid"
systemctl list-units --all --no-legend 'berth-grpid.scope' | grep -q . && fail "refused container got a scope"
[ ! -e /run/berth/grpid ] || fail "refused container left /run/berth/grpid"
machinectl list --no-legend | grep -q grpid && fail "refused container registered with machined"
[ "$(busctl get-property org.berth.berth1 /org/berth/berth1/container/grpid org.berth.berth1.Container State)" \
        != 's "running"' ] || fail "refused container runs"
ok "refused: PolicyRefused names rule and key, journal entry, no scope, no run dir"

echo "== the same with a valid exception starts, visibly"
write_conf grpid "/bin/sleep 1000" "${NONET[@]}" "${LIMITS[@]}" "${HOSTPID[@]}"
exception host-pid "$EXPIRES" >>"$CONF/grpid.conf"
since=$(date '+%Y-%m-%d %H:%M:%S')
expect_rc 0 berthctl start grpid
journal_has "MESSAGE_ID=5d7f56f6170e4d409f7c6d1a60b89c51" CONTAINER_NAME=grpid --since "$since" \
        || fail "no started-with-exceptions journal entry"
entry=$(journalctl --no-pager -o verbose CONTAINER_NAME=grpid MESSAGE_ID=5d7f56f6170e4d409f7c6d1a60b89c51 --since "$since")
echo "$entry" | grep -q "BERTH_RULES=host-pid" || fail "journal entry lacks the rule: $entry"
echo "$entry" | grep -q "$JUSTIFICATION" || fail "journal entry lacks the justification: $entry"
[ "$(echo "$entry" | grep -c "MESSAGE_ID=5d7f56f6170e4d409f7c6d1a60b89c51")" = 1 ] || fail "not exactly one entry"
obj=/org/berth/berth1/container/grpid
prop=$(busctl get-property org.berth.berth1 $obj org.berth.berth1.Container Exceptions)
echo "Exceptions: $prop"
echo "$prop" | grep -Eq "^a\(sst\) 1 \"host-pid\" \"$JUSTIFICATION\" [0-9]+$" || fail "Exceptions property: $prop"
usec=${prop##* }
[ "$usec" = "$(( $(date -u -d "$EXPIRES + 1 day" +%s) * 1000000 ))" ] || fail "Exceptions expiry $usec"
shared=$(busctl get-property org.berth.berth1 $obj org.berth.berth1.Container SharedNamespaces)
echo "SharedNamespaces: $shared"
[ "$shared" = 'as 1 "pid"' ] || fail "SharedNamespaces: $shared (expected only pid; user is not listed without PrivateUsers=)"
expect_rc 0 berthctl show grpid -p Exceptions
echo "$out" | grep -q "host-pid" || fail "berthctl show -p Exceptions: $out"
# A berthd restart keeps them (saved in the run dir's state, not re-read from the config).
systemctl restart berthd.service || fail "restart berthd"
wait_for 10 sh -c "busctl get-property org.berth.berth1 $obj org.berth.berth1.Container State | grep -q running" \
        || fail "grpid not re-adopted"
prop2=$(busctl get-property org.berth.berth1 $obj org.berth.berth1.Container Exceptions)
[ "$prop2" = "$prop" ] || fail "Exceptions after a berthd restart: $prop2"
shared=$(busctl get-property org.berth.berth1 $obj org.berth.berth1.Container SharedNamespaces)
[ "$shared" = 'as 1 "pid"' ] || fail "SharedNamespaces after a berthd restart: $shared"
ok "allowed with an exception: journal entry (MESSAGE_ID, rule, justification), Exceptions and SharedNamespaces (also after a berthd restart)"

echo "== berthctl audit of running containers: 0 clean, 1 warnings"
expect_rc 0 berthctl audit grpid --no-pager
echo "$out"
echo "$out" | grep -q "host-pid (waived)" || fail "audit does not show the waived rule: $out"
expect_rc 0 berthctl audit grpid --json=short
echo "$out" | check "
assert d['exit_code'] == 0 and d['errors'] == 0 and d['warnings'] == 0, d
f = [x for x in d['findings'] if x['rule'] == 'host-pid'][0]
assert f['severity'] == 'info' and f['waived_by']['justification'] == '$JUSTIFICATION', f
assert not any(x['drift'] for x in d['findings']), d
" || fail "audit --json of grpid: $out"
# A container without limits: only warnings (start allowed, logged).
write_conf grwarn "/bin/sleep 1000" "${NONET[@]}"
expect_rc 0 berthctl start grwarn
journal_has "policy warnings" CONTAINER_NAME=grwarn || fail "policy warnings not logged at start"
expect_rc 1 berthctl audit grwarn
echo "$out" | grep -q "no-memory-max" || fail "audit grwarn: $out"
echo "$out" | grep -q "no-tasks-max" || fail "audit grwarn: $out"
expect_rc 1 berthctl audit --all
expect_rc 0 berthctl stop grwarn
# A bridged container: the daemon's resolv.conf/hosts binds are not drift.
write_conf grnet "/bin/sleep 1000" "${LIMITS[@]}"
expect_rc 0 berthctl start grnet
netleader=$(busctl get-property org.berth.berth1 /org/berth/berth1/container/grnet org.berth.berth1.Container Leader)
grep -q " /etc/resolv.conf " "/proc/${netleader#u }/mountinfo" \
        || fail "grnet has no resolv.conf bind from berthd; this check would prove nothing"
expect_rc 0 berthctl audit grnet
expect_rc 0 berthctl stop grnet
expect_rc 0 berthctl audit --all
ok "audit NAME / --all: exit 0 clean, 1 warnings; waived findings as info, no false drift"

echo "== drift: the config on disk lost the exception while the container runs"
cp "$CONF/grpid.conf" /tmp/grpid.conf.orig
write_conf grpid "/bin/sleep 1000" "${NONET[@]}" "${LIMITS[@]}"
expect_rc 2 berthctl audit grpid
echo "$out"
echo "$out" | grep -q "drift-namespace" || fail "no drift-namespace finding: $out"
expect_rc 2 berthctl audit grpid --json
echo "$out" | check "
f = [x for x in d['findings'] if x['rule'] == 'drift-namespace']
assert len(f) == 1 and f[0]['drift'] and f[0]['severity'] == 'error', d
assert f[0]['key'] == 'HostNamespaces' and f[0]['value'] == 'pid' and f[0]['file'] == '$CONF/grpid.conf', f
assert f[0]['fix'], f
assert d['exit_code'] == 2, d
" || fail "audit --json drift: $out"
expect_rc 2 berthctl audit --all
expect_rc 0 berthctl stop grpid
expect_rc 7 berthctl audit grpid
expect_rc 4 berthctl audit nosuch
ok "drift detected (drift-namespace, exit 2); not running 7, no such container 4"

echo "== an expired exception refuses the start, and the journal says which and when"
write_conf grpid "/bin/sleep 1000" "${NONET[@]}" "${LIMITS[@]}" "${HOSTPID[@]}"
exception host-pid "$PAST" >>"$CONF/grpid.conf"
since=$(date '+%Y-%m-%d %H:%M:%S')
expect_rc 1 berthctl start grpid
echo "$out"
echo "$out" | grep -q "expired on $PAST" || fail "refusal does not say the exception expired: $out"
journal_has "BERTH_EXCEPTION_EXPIRES=$PAST" CONTAINER_NAME=grpid BERTH_RULE=host-pid --since "$since" \
        || fail "no journal entry about the expired exception"
journalctl --no-pager CONTAINER_NAME=grpid BERTH_RULE=host-pid --since "$since" \
        | grep -q "Exception \[Exception:host-pid\] in $CONF/grpid.conf .* expired on $PAST" \
        || fail "journal entry does not name the exception and its expiry"
[ ! -e /run/berth/grpid ] || fail "refused container left /run/berth/grpid"
# Too far away (more than MaxExceptionDays=30) is refused too.
write_conf grpid "/bin/sleep 1000" "${NONET[@]}" "${LIMITS[@]}" "${HOSTPID[@]}"
exception host-pid "$FAR" >>"$CONF/grpid.conf"
expect_rc 1 berthctl start grpid
echo "$out" | grep -q "more than 30 days" || fail "too-far exception accepted: $out"
ok "expired and too-far exceptions refused; journal names the exception and its expiry"

echo "== transient containers (RunContainer) are held to the same policy"
expect_rc 1 berthctl run -q -D "$BB" --network=host --memory-max=64M --tasks-max=64 grrun -- /bin/sleep 1000
echo "$out" | grep -q "host-net" || fail "transient host network not refused: $out"
expect_rc 0 berthctl run -q -D "$BB" --network=host --memory-max=64M --tasks-max=64 \
        -p "Exception:host-net.Justification=$JUSTIFICATION" -p "Exception:host-net.Expires=$EXPIRES" \
        grrun -- /bin/sleep 1000
prop=$(busctl get-property org.berth.berth1 /org/berth/berth1/container/grrun org.berth.berth1.Container Exceptions)
echo "$prop" | grep -q '"host-net"' || fail "transient Exceptions property: $prop"
expect_rc 5 berthctl audit grrun
echo "$out" | grep -q "transient" || fail "audit of a transient container: $out"
expect_rc 0 berthctl stop grrun
ok "transient: refused without, allowed with an exception given as Exception:RULE.KEY properties"

echo "== berthctl audit --config: a repository of configs that are not installed"
mkdir -p "$REPO/prod.conf.d"
conf_text "/bin/sleep 1" "${LIMITS[@]}" >"$REPO/clean.conf"
conf_text "/bin/sleep 1" >"$REPO/nolimits.conf"
conf_text "/bin/sleep 1" "${LIMITS[@]}" "${HOSTPID[@]}" >"$REPO/hostpid.conf"
{ conf_text "/bin/sleep 1" "${LIMITS[@]}" "${HOSTPID[@]}"; exception host-pid "$EXPIRES"; } >"$REPO/waived.conf"
{ conf_text "/bin/sleep 1" "${LIMITS[@]}" "${HOSTPID[@]}"; exception host-pid "$SOON"; } >"$REPO/expiring.conf"
{ conf_text "/bin/sleep 1" "${LIMITS[@]}" "${HOSTPID[@]}"; exception host-pid "$PAST"; } >"$REPO/expired.conf"
conf_text "/bin/sleep 1" "[Limits]" "MemoryMax=12Q" >"$REPO/broken.conf"
# Drop-ins next to the file are applied: this one adds a dangerous capability.
conf_text "/bin/sleep 1" "${LIMITS[@]}" >"$REPO/prod.conf"
printf '[Security]\nCapability=CAP_SYS_ADMIN\n' >"$REPO/prod.conf.d/10-debug.conf"
# Bind sources are judged by name, not resolved on this host.
conf_text "/bin/sleep 1" "${LIMITS[@]}" "[Files]" "BindReadOnly=/var/run/docker.sock" >"$REPO/docker.conf"
expect_rc 0 berthctl audit --config "$REPO/clean.conf"
expect_rc 0 berthctl audit --config "$REPO/waived.conf"
expect_rc 1 berthctl audit --config "$REPO/nolimits.conf"
expect_rc 1 berthctl audit --config "$REPO/expiring.conf"
echo "$out" | grep -q "exception-expiring" || fail "expiring exception not reported: $out"
expect_rc 2 berthctl audit --config "$REPO/hostpid.conf"
echo "$out" | grep -q "host-pid" || fail "audit hostpid: $out"
echo "$out" | grep -q "HostNamespaces=pid" || fail "audit hostpid: key not named: $out"
echo "$out" | grep -q "fix:" || fail "audit hostpid: no fix: $out"
expect_rc 2 berthctl audit --config "$REPO/expired.conf"
echo "$out" | grep -q "expired" || fail "audit expired: $out"
expect_rc 2 berthctl audit --config "$REPO/broken.conf"
echo "$out" | grep -q "config-invalid" || fail "audit broken: $out"
expect_rc 2 berthctl audit --config "$REPO/prod.conf"
echo "$out" | grep -q "dangerous-capability" || fail "audit prod (drop-in): $out"
echo "$out" | grep -q "10-debug.conf" || fail "audit prod: the drop-in is not named: $out"
expect_rc 2 berthctl audit --config "$REPO/docker.conf"
echo "$out" | grep -q "sensitive-bind" || fail "audit docker: $out"
expect_rc 2 berthctl audit --config "$REPO/clean.conf" --config "$REPO/nolimits.conf" --config "$REPO/hostpid.conf"
expect_rc 1 berthctl audit --config "$REPO/clean.conf" --config "$REPO/nolimits.conf"
expect_rc 2 berthctl audit --json=short --config "$REPO/clean.conf" --config "$REPO/hostpid.conf"
echo "$out" | check "
assert d['exit_code'] == 2 and d['errors'] == 1 and d['profile'] == 'restricted', d
assert [t['name'] for t in d['targets']] == ['$REPO/clean.conf', '$REPO/hostpid.conf'], d['targets']
assert d['targets'][0]['findings'] == [], d['targets']
f = d['findings'][d['targets'][1]['findings'][0]]
assert f['rule'] == 'host-pid' and f['file'] == '$REPO/hostpid.conf' and f['section'] == 'Security', f
assert f['key'] == 'HostNamespaces' and f['severity'] == 'error' and f['fix'], f
" || fail "audit --json --config: $out"
# A host policy given explicitly (e.g. the production one, in CI).
printf '[Policy]\nProfile=privileged\n' >"$REPO/policy.conf"
expect_rc 1 berthctl audit --policy "$REPO/policy.conf" --config "$REPO/hostpid.conf"
printf '[Policy]\nProfile=nonsense\n' >"$REPO/bad-policy.conf"
expect_rc 6 berthctl audit --policy "$REPO/bad-policy.conf" --config "$REPO/clean.conf"
expect_rc 2 berthctl audit
ok "audit --config: 0 clean or waived, 1 warnings or expiring, 2 errors/expired/invalid, drop-ins, --policy, --json"

echo "== unprivileged: --config works, drift detection needs root"
runuser -u tester -- berthctl audit --config "$REPO/clean.conf" >/dev/null || fail "tester cannot lint a config"

echo "PASS: test-guardrails"
