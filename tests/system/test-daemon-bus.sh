#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: every method and signal of org.berth.berth1, driven with busctl
# as an independent client; machinectl terminate.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
mon_pid=
cleanup() { [ -n "$mon_pid" ] && kill "$mon_pid" 2>/dev/null || true; }
trap cleanup EXIT

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
write_conf demo "/bin/sh -c 'echo hello; exec sleep 1000'" "[Limits]" "MemoryMax=256M" "TasksMax=64"
rm -rf "$CONF/demo.conf.d"

# Make sure berthd runs (bus activation) before the monitor starts.
mgr ListContainers >/dev/null
busctl monitor --match "type='signal',sender='$DEST'" >monitor.out 2>&1 &
mon_pid=$!
sleep 0.5

echo "== ListConfigured / GetContainer"
mgr ListConfigured | tee configured.out
grep -q '"demo"' configured.out || fail "ListConfigured"
path=$(mgr GetContainer s demo | awk '{print $2}' | tr -d '"')
[ "$path" = /org/berth/berth1/container/demo ] || fail "GetContainer: $path"
prop "$path" State | grep -q '"exited"' || fail "idle configured container state: $(prop "$path" State)"
out=$(mgr GetContainer s nosuch 2>&1) && fail "GetContainer nosuch succeeded"
echo "$out" | grep -qi "no container\|NoSuchContainer" || fail "GetContainer nosuch: $out"
for call in "StopContainer s nosuch" "KillContainer ssi nosuch all 15"; do
        # shellcheck disable=SC2086
        out=$(mgr $call 2>&1) && fail "$call succeeded"
        echo "$out" | grep -q "No container nosuch" || fail "$call: not NoSuchContainer: $out"
done
out=$(mgr KillContainer ssi demo all 15 2>&1) && fail "KillContainer of a stopped container succeeded"
echo "$out" | grep -q "is not running" || fail "KillContainer demo (stopped): $out"

echo "== StartContainer"
mgr StartContainer s demo | grep -q "$path" || fail "StartContainer"
prop "$path" State | grep -q '"running"' || fail "not running after StartContainer"
[ "$(systemctl show -P MemoryMax berth-demo.scope)" = 268435456 ] || fail "scope MemoryMax $(systemctl show -P MemoryMax berth-demo.scope)"
[ "$(systemctl show -P TasksMax berth-demo.scope)" = 64 ] || fail "scope TasksMax"
prop "$path" MemoryMax | grep -q 268435456 || fail "MemoryMax property"
mgr StartContainer s demo | grep -q "$path" || fail "StartContainer on a running container"
leader=$(prop "$path" Leader | awk '{print $2}')

echo "== KillContainer"
mgr KillContainer ssi demo leader 18 || fail "KillContainer leader SIGCONT"
mgr KillContainer ssi demo all 18 || fail "KillContainer all SIGCONT"
busctl call $DEST "$path" $CIF Kill si all 18 || fail "Container.Kill"
out=$(mgr KillContainer ssi demo bogus 18 2>&1) && fail "KillContainer bogus whom succeeded"
out=$(mgr KillContainer ssi nosuch leader 18 2>&1) && fail "KillContainer nosuch succeeded"
prop "$path" State | grep -q '"running"' || fail "SIGCONT stopped it"

echo "== SetContainerProperties runtime"
mgr SetContainerProperties sba\(ss\) demo true 1 Limits.MemoryMax 100M || fail "SetContainerProperties runtime"
[ "$(systemctl show -P MemoryMax berth-demo.scope)" = 104857600 ] || fail "scope MemoryMax not updated"
prop "$path" MemoryMax | grep -q 104857600 || fail "MemoryMax property not updated"
[ -e "$CONF/demo.conf.d/50-berth-set-property.conf" ] && fail "runtime change was saved"
out=$(mgr SetContainerProperties sba\(ss\) demo true 1 Container.Command /bin/true 2>&1) &&
        fail "runtime change of a non-limit accepted"
out=$(mgr SetContainerProperties sba\(ss\) demo true 1 Limits.MemoryMax lots 2>&1) && fail "bad value accepted"
echo "$out" | grep -q MemoryMax || fail "error does not name the key: $out"

echo "== SetContainerProperties persistent, Container.SetProperties"
mgr SetContainerProperties sba\(ss\) demo false 2 Limits.TasksMax 99 CPUWeight 50 || fail "persistent"
[ "$(systemctl show -P TasksMax berth-demo.scope)" = 99 ] || fail "scope TasksMax not updated"
[ "$(systemctl show -P CPUWeight berth-demo.scope)" = 50 ] || fail "scope CPUWeight not updated"
grep -q '^TasksMax=99' "$CONF/demo.conf.d/50-berth-set-property.conf" || fail "drop-in not written"
busctl call $DEST "$path" $CIF SetProperties ba\(ss\) true 1 MemoryHigh 90M || fail "Container.SetProperties"
[ "$(systemctl show -P MemoryHigh berth-demo.scope)" = 94371840 ] || fail "scope MemoryHigh not updated"
mgr SetContainerProperties sba\(ss\) demo true 5 Limits.AllowedCPUs 0 Limits.IOWeight 300 Limits.CPUQuota 150% \
        Limits.MemorySwapMax 0 Limits.CPUWeight 77 || fail "more limits"
[ "$(systemctl show -P AllowedCPUs berth-demo.scope)" = 0 ] || fail "AllowedCPUs $(systemctl show -P AllowedCPUs berth-demo.scope)"
[ "$(systemctl show -P IOWeight berth-demo.scope)" = 300 ] || fail "IOWeight"
[ "$(systemctl show -P CPUQuotaPerSecUSec berth-demo.scope)" = 1.500000s ] ||
        fail "CPUQuotaPerSecUSec $(systemctl show -P CPUQuotaPerSecUSec berth-demo.scope)"
[ "$(systemctl show -P MemorySwapMax berth-demo.scope)" = 0 ] || fail "MemorySwapMax"
prop "$path" AllowedCPUs | grep -q '"0"' || fail "AllowedCPUs property"
prop "$path" CPUQuotaPerSecUSec | grep -q 1500000 || fail "CPUQuotaPerSecUSec property"

echo "== SetContainerProperties on a container that is not running"
write_conf idle "/bin/sleep 1000"
rm -rf "$CONF/idle.conf.d"
out=$(mgr SetContainerProperties sba\(ss\) idle true 1 Limits.MemoryMax 10M 2>&1) && fail "runtime change of a stopped container"
echo "$out" | grep -q "not running" || fail "runtime change of a stopped container: $out"
mgr SetContainerProperties sba\(ss\) idle false 1 Container.Hostname idlehost || fail "persistent change of a stopped container"
grep -q '^Hostname=idlehost' "$CONF/idle.conf.d/50-berth-set-property.conf" || fail "drop-in of idle"

echo "== Namespaces"
prop "$path" Namespaces | tee ns.out
grep -q '"pid" [0-9]* false' ns.out || fail "pid namespace"
[ "$(prop "$path" Namespaces | grep -o '"mnt" [0-9]*' | awk '{print $2}')" = "$(stat -L -c %i /proc/$leader/ns/mnt)" ] ||
        fail "mnt inode"

echo "== StopContainer"
mgr StopContainer s demo || fail "StopContainer"
prop "$path" State | grep -q '"exited"' || fail "not exited after stop: $(prop "$path" State)"
prop "$path" StateReason | grep -q '"stopped"' || fail "reason: $(prop "$path" StateReason)"
[ -d /proc/$leader ] && fail "leader survived"
out=$(mgr StopContainer s demo 2>&1) && fail "StopContainer of a stopped container succeeded"
echo "$out" | grep -q "not running" || fail "StopContainer stopped: $out"

echo "== restart after stop picks up the saved drop-in"
mgr StartContainer s demo >/dev/null || fail "second start"
[ "$(systemctl show -P TasksMax berth-demo.scope)" = 99 ] || fail "saved TasksMax not applied on start"
busctl call $DEST "$path" $CIF Stop || fail "Container.Stop"
rm -rf "$CONF/demo.conf.d"

echo "== machinectl terminate"
mgr StartContainer s demo >/dev/null || fail "third start"
wait_for 5 sh -c 'machinectl list --no-legend | grep -q "^demo "' || fail "not registered"
machinectl terminate demo || fail "machinectl terminate"
wait_for 10 sh -c "busctl get-property $DEST $path $CIF State | grep -q -e exited -e failed" ||
        fail "machinectl terminate did not end it: $(prop "$path" State)"
wait_for 5 sh -c '! systemctl is-active --quiet berth-demo.scope' || fail "scope left"

echo "== RunContainer (transient)"
tpath=$(mgr RunContainer sa\(ss\) adhoc 5 Rootfs.Directory "$BB" Rootfs.Ephemeral yes \
        Container.Command "/bin/sh -c 'echo adhoc-out; exec sleep 1000'" Network.Mode none Limits.TasksMax 32 |
        awk '{print $2}' | tr -d '"')
[ "$tpath" = /org/berth/berth1/container/adhoc ] || fail "RunContainer: $tpath"
mgr ListContainers | grep -q '"adhoc" "running"' || fail "adhoc not listed"
[ "$(systemctl show -P TasksMax berth-adhoc.scope)" = 32 ] || fail "adhoc TasksMax"
out=$(mgr RunContainer sa\(ss\) adhoc 1 Rootfs.Directory "$BB" 2>&1) && fail "second RunContainer adhoc succeeded"
out=$(mgr RunContainer sa\(ss\) demo 1 Rootfs.Directory "$BB" 2>&1) && fail "RunContainer over a configured name"
out=$(mgr RunContainer sa\(ss\) bad1 1 Limits.Bogus 1 2>&1) && fail "RunContainer with a bogus key"
mgr StopContainer s adhoc || fail "stop adhoc"
out=$(mgr GetContainer s adhoc 2>&1) && fail "transient container still known after exit"
wait_for 5 sh -c "journalctl --no-pager -t adhoc | grep -q adhoc-out" || fail "adhoc output not in the journal"

echo "== RunContainer exit code"
mgr RunContainer sa\(ss\) coded 4 Rootfs.Directory "$BB" Rootfs.Ephemeral yes \
        Container.Command "/bin/sh -c 'sleep 0.5; exit 7'" Network.Mode none >/dev/null || fail "RunContainer coded"
wait_for 10 sh -c "! busctl call $MGR GetContainer s coded" || fail "coded not removed"
wait_for 5 sh -c "journalctl --no-pager CONTAINER_NAME=coded | grep -q 'exit-code=7'" || fail "exit code 7 not logged"

echo "== a payload that exits at once still counts as started"
for i in $(seq 10); do
        mgr RunContainer sa\(ss\) "quick$i" 4 Rootfs.Directory "$BB" Rootfs.Ephemeral yes Container.Command /bin/true \
                Network.Mode none >/dev/null || fail "RunContainer quick$i (/bin/true) failed"
done
wait_for 10 sh -c "[ \$(journalctl --no-pager -o cat -t berthd | grep -c 'quick[0-9]*: Container stopped (exit-code=0)') -ge 10 ]" ||
        fail "not every quick container exited cleanly: $(journalctl --no-pager -o cat -t berthd | grep quick)"

echo "== Reload"
mgr Reload || fail "Reload"

echo "== signals"
sleep 0.5
kill "$mon_pid"; mon_pid=
grep -c "Member=ContainerNew" monitor.out | grep -qv '^0$' || fail "no ContainerNew"
grep -c "Member=ContainerRemoved" monitor.out | grep -qv '^0$' || fail "no ContainerRemoved"
grep -c "Member=ContainerStateChanged" monitor.out | grep -qv '^0$' || fail "no ContainerStateChanged"
grep -c "Member=PropertiesChanged" monitor.out | grep -qv '^0$' || fail "no PropertiesChanged"
for s in starting running stopping exited; do
        grep -q "STRING \"$s\"" monitor.out || fail "no ContainerStateChanged $s"
done

systemctl list-units --no-legend 'berth-*.scope' | grep -q . && fail "scopes left"
echo PASS
