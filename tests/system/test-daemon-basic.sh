#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: container@.service front door, scope, machined, journal,
# nothing left behind after stop, Restart=on-failure, clean/failed exits.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
systemctl daemon-reload

write_conf demo "/bin/sh -c 'echo hello-from-demo; exec sleep 1000'"

echo "== start container@demo"
systemctl start container@demo.service || fail "systemctl start container@demo"
systemctl is-active --quiet container@demo.service || fail "container@demo not active"
systemctl is-active --quiet berth-demo.scope || fail "berth-demo.scope not active"
[ "$(systemctl show -P Slice berth-demo.scope)" = machine.slice ] || fail "scope not in machine.slice"
[ "$(systemctl show -P Delegate berth-demo.scope)" = yes ] || fail "scope not delegated"
systemctl status --no-pager container@demo.service | tee status.out || fail "systemctl status"
grep -q "Active: active (running)" status.out || fail "status not active (running)"
grep -q "Status: \"Container demo running\"" status.out || fail "no Status= line"
[ "$(systemctl show -P ProtectSystem berthd.service)" = full ] || fail "berthd not sandboxed"

echo "== busctl"
busctl --no-pager call org.berth.berth1 /org/berth/berth1 org.berth.berth1.Manager ListContainers | tee list.out
grep -q '"demo" "running"' list.out || fail "ListContainers does not show demo running"
path=$(busctl call org.berth.berth1 /org/berth/berth1 org.berth.berth1.Manager GetContainer s demo | awk '{print $2}' | tr -d '"')
[ "$path" = /org/berth/berth1/container/demo ] || fail "GetContainer: $path"
leader=$(busctl get-property org.berth.berth1 "$path" org.berth.berth1.Container Leader | awk '{print $2}')
[ "$leader" -gt 1 ] || fail "Leader $leader"
grep -q berth-demo.scope "/proc/$leader/cgroup" || fail "leader not in the scope: $(cat /proc/$leader/cgroup)"
[ "$(busctl get-property org.berth.berth1 "$path" org.berth.berth1.Container Unit)" = 's "container@demo.service"' ] ||
        fail "Unit property"
busctl --no-pager introspect org.berth.berth1 "$path" org.berth.berth1.Container | tee props.out
grep -q '^.State  *property  *s  *"running"' props.out || fail "State not running"

echo "== machinectl"
wait_for 5 sh -c 'machinectl list --no-legend | grep -q "^demo "' || fail "machinectl list"
machinectl status demo --no-pager | tee mstatus.out || fail "machinectl status"
grep -q "berth-demo.scope" mstatus.out || fail "machinectl status has no scope"

echo "== journal"
wait_for 5 sh -c 'journalctl --no-pager -t demo | grep -q hello-from-demo' || fail "container output not in the journal"
journalctl --no-pager -u berth-demo.scope | grep -q hello-from-demo || fail "output not attributed to the scope"
journalctl --no-pager CONTAINER_NAME=demo | tee jr.out
grep -q "Container started" jr.out || fail "no started message with CONTAINER_NAME"
journalctl --no-pager -o verbose CONTAINER_NAME=demo MESSAGE_ID=8e428c59896d450fa4d14fc3144030cd | grep -q . ||
        fail "no MESSAGE_ID for started"
journalctl --no-pager -u container@demo.service | grep -q "Container started" || fail "journalctl -u container@demo"

echo "== stop"
systemctl stop container@demo.service || fail "systemctl stop"
systemctl is-active --quiet container@demo.service && fail "still active"
[ "$(systemctl show -P ActiveState container@demo.service)" = inactive ] || fail "unit not inactive after stop"
wait_for 5 sh -c '! systemctl is-active --quiet berth-demo.scope' || fail "scope left behind"
[ -d /proc/$leader ] && fail "leader $leader left behind"
wait_for 5 sh -c '! machinectl list --no-legend | grep -q "^demo "' || fail "machine left behind"
[ -e /run/berth/demo ] && fail "/run/berth/demo left behind"
busctl call org.berth.berth1 /org/berth/berth1 org.berth.berth1.Manager ListContainers | grep -q demo &&
        fail "demo still listed"

grep -q /run/berth /proc/self/mountinfo && fail "mounts left on the host: $(grep /run/berth /proc/self/mountinfo)"

echo "== a payload ignoring SIGTERM is killed after KillTimeoutSec="
write_conf stubborn "/bin/sh -c 'trap \"\" TERM; while :; do sleep 0.2; done'"
sed -i 's/^KillTimeoutSec=.*/KillTimeoutSec=1s/' "$CONF/stubborn.conf"
systemctl start container@stubborn.service || fail "start stubborn"
t0=$(date +%s)
systemctl stop container@stubborn.service || fail "stop stubborn"
t1=$(date +%s)
[ $((t1 - t0)) -le 6 ] || fail "stop took $((t1 - t0)) s"
[ "$(systemctl show -P ActiveState container@stubborn.service)" = inactive ] || fail "stubborn not inactive"
journalctl --no-pager CONTAINER_NAME=stubborn | grep -q "killing" || fail "no kill after timeout logged"

echo "== binds work from the sandboxed berthd (ProtectSystem=full)"
mkdir -p /srv/shared /srv/ro
rm -f /srv/shared/written /srv/shared/ro-ok
echo ro-data >/srv/ro/data
write_conf binder "/bin/sh -c 'echo from-container >/shared/written; grep -q ro-data /ro/data && touch /shared/ro-ok; exec sleep 1000'" \
        "[Files]" "Bind=/srv/shared:/shared" "BindReadOnly=/srv/ro:/ro"
systemctl start container@binder.service || fail "start binder"
wait_for 5 test -s /srv/shared/written || fail "rw bind not writable"
wait_for 5 test -e /srv/shared/ro-ok || fail "ro bind not readable"
systemctl stop container@binder.service

echo "== the host policy refuses a forbidden weakening (guardrails)"
printf '[Policy]\nProfile=restricted\n' >/etc/berth/policy.conf
write_conf exposer "/bin/sleep 1000" "[Files]" "BindReadOnly=/etc:/hostetc"
if out=$(busctl call org.berth.berth1 /org/berth/berth1 org.berth.berth1.Manager StartContainer s exposer 2>&1); then
        fail "a bind of /etc was allowed"
fi
echo "$out"
journalctl --no-pager CONTAINER_NAME=exposer | grep -q "refused by the host policy" || fail "refusal not logged"
systemctl list-units --no-legend 'berth-exposer.scope' | grep -q . && fail "refused container got a scope"
rm /etc/berth/policy.conf

echo "== systemctl enable hooks into machines.target"
systemctl enable container@demo.service || fail "enable"
[ -L /etc/systemd/system/machines.target.wants/container@demo.service ] || fail "no machines.target.wants link"
systemctl disable container@demo.service

echo "== clean exit leaves the unit inactive"
write_conf quick "/bin/true"
systemctl start container@quick.service || true
wait_for 10 sh -c '[ "$(systemctl show -P ActiveState container@quick.service)" = inactive ]' ||
        fail "container@quick not inactive: $(systemctl show -P ActiveState container@quick.service)"

echo "== non-zero exit leaves the unit failed, Restart=on-failure restarts"
write_conf flaky "/bin/sh -c 'sleep 1; exit 3'"
mkdir -p /etc/systemd/system/container@flaky.service.d
printf '[Service]\nRestart=on-failure\nRestartSec=200ms\n' >/etc/systemd/system/container@flaky.service.d/restart.conf
systemctl daemon-reload
systemctl start container@flaky.service || fail "start flaky"
wait_for 20 sh -c '[ "$(systemctl show -P NRestarts container@flaky.service)" -ge 2 ]' ||
        fail "no restarts: NRestarts=$(systemctl show -P NRestarts container@flaky.service)"
systemctl stop container@flaky.service
rm -r /etc/systemd/system/container@flaky.service.d
systemctl daemon-reload
systemctl reset-failed container@flaky.service || true
write_conf flaky "/bin/sh -c 'exit 3'"
systemctl start container@flaky.service || true
wait_for 10 sh -c '[ "$(systemctl show -P ActiveState container@flaky.service)" = failed ]' ||
        fail "container@flaky not failed"
[ "$(systemctl show -P ExecMainStatus container@flaky.service)" = 3 ] || fail "exit status not 3"
journalctl --no-pager -o verbose CONTAINER_NAME=flaky MESSAGE_ID=bd1b8e7ba3b245b39eeec6c9caa3e338 | grep -q . ||
        fail "no failed MESSAGE_ID"

echo "== a bad config fails the start and names the key"
printf '[Container]\nCommand=/bin/true\n[Limits]\nMemoryMax=lots\n[Rootfs]\nDirectory=%s\n' "$BB" >"$CONF/bad.conf"
if out=$(busctl call org.berth.berth1 /org/berth/berth1 org.berth.berth1.Manager StartContainer s bad 2>&1); then
        fail "bad config started"
fi
echo "$out"
echo "$out" | grep -q MemoryMax || fail "error does not name the key: $out"

echo "== a missing image fails the start and says so (the child finds out, while berthd sets up the network)"
conf_text /bin/true | sed "s|^Directory=.*|Directory=/srv/no-such-image|" | install_conf noimage
if out=$(busctl call org.berth.berth1 /org/berth/berth1 org.berth.berth1.Manager StartContainer s noimage 2>&1); then
        fail "a container without its image started"
fi
echo "$out"
echo "$out" | grep -q "/srv/no-such-image" || fail "error does not name the image directory: $out"
wait_for 5 sh -c '! systemctl list-units --no-legend "berth-noimage.scope" | grep -q .' || fail "noimage left a scope"
[ -e /run/berth/noimage ] && fail "/run/berth/noimage left behind"
ip link show 2>/dev/null | grep -q "ve-noimage" && fail "noimage left its veth"

echo "== nothing left"
systemctl list-units --no-legend 'berth-*.scope' | grep -q . && fail "scopes left: $(systemctl list-units 'berth-*')"
echo "PASS"
