#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: berthctl inspect reads the kernel's view of a container:
# namespaces against the host's (a default container, one sharing the host's
# PID and network namespaces), cgroup files, the overlay as mounted, the veth
# and bridge, capabilities and seccomp of PID 1; text and --json.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
write_conf() { # write_conf NAME [EXTRA LINES...]: an ephemeral /bin/sleep 1000, no [Network] section
        local name=$1; shift
        conf_text "/bin/sleep 1000" "$@" | install_conf "$name"
}

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
systemctl daemon-reload

echo "== a default container (private namespaces, bridge network)"
write_conf dflt "[Network]" "Port=tcp:8080:80"
expect_rc 0 berthctl start dflt
expect_rc 0 berthctl status dflt --no-pager
echo "$out" | grep -q "Ports: tcp 0.0.0.0:8080 -> 80" || fail "status: published port: $out"
echo "$out" | grep -Eq "Address: [0-9.]+/[0-9]+" || fail "status: address: $out"
leader=$(berthctl show dflt -p Leader --value)
expect_rc 0 berthctl inspect dflt --no-pager
echo "$out"
echo "$out" | grep -q "^Namespaces" || fail "inspect text: namespaces"
echo "$out" | grep -Eq "^  net +[0-9]+ +[0-9]+ +private" || fail "inspect text: net not private"
echo "$out" | grep -Eq "^  pid +[0-9]+ +[0-9]+ +private" || fail "inspect text: pid not private"
berthctl inspect dflt --json=short >dflt.json
check "
ns = {n['type']: n for n in d['namespaces']}
for t in ('mnt', 'pid', 'net', 'uts', 'ipc', 'cgroup'):
    assert not ns[t]['shared'], (t, ns[t])
    assert ns[t]['inode'] != ns[t]['host_inode'], t
assert ns['user']['shared']          # no PrivateUsers=
assert d['leader'] == $leader, d['leader']
assert 'berth-dflt.scope' in d['cgroup']['path'], d['cgroup']
assert d['overlay']['lowerdir'] == '$BB', d['overlay']
assert d['overlay']['upperdir'] and d['overlay']['workdir'], d['overlay']
assert d['merged'], d['merged']
assert any(m['target'] == '/proc' and m['type'] == 'proc' for m in d['mounts'])
p = d['process']
assert p['Seccomp'] == 2 and p['NoNewPrivs'] == 1, p
assert 'CAP_SYS_ADMIN' not in p['CapBnd']['names'], p['CapBnd']
assert 'CAP_CHOWN' in p['CapEff']['names'], p['CapEff']
assert not d['network']['shared_with_host'], d['network']
links = {l['name']: l for l in d['network']['links']}
assert 'lo' in links, links
" <dflt.json || fail "inspect --json of the default container: $(cat dflt.json)"
# Cross-check against what the kernel says from the host.
ino=$(stat -L -c %i "/proc/$leader/ns/net")
check "assert [n for n in d['namespaces'] if n['type'] == 'net'][0]['inode'] == $ino" <dflt.json ||
        fail "net inode differs from stat of /proc/$leader/ns/net"
# Bridge networking, if this build's network layer put a veth in.
if check "assert any(l.get('host_peer') for l in d['network']['links'])" <dflt.json 2>/dev/null; then
        check "
veth = [l for l in d['network']['links'] if l.get('host_peer')][0]
assert veth['addresses'], veth
assert veth.get('host_bridge'), veth
assert any(r['destination'] == 'default' for r in d['network']['routes']), d['network']['routes']
" <dflt.json || fail "veth/bridge/addresses/routes: $(cat dflt.json)"
        peer=$(check "print([l for l in d['network']['links'] if l.get('host_peer')][0]['host_peer'])" <dflt.json)
        ip link show "$peer" >/dev/null || fail "host peer $peer does not exist on the host"
        ok "veth $peer on the host, bridge, address and default route"
else
        echo "note: the default container has no veth (network layer not active in this build)"
fi
expect_rc 0 berthctl stop dflt
ok "default container: private namespaces, cgroup, overlay, caps, seccomp"

echo "== a container given the host's PID and network namespaces"
# The guardrails refuse host namespaces without an exception (restricted
# profile): this container carries the justified, expiring ones it needs.
expires=$(date -u -d '+7 days' +%F)
write_conf hostns "[Security]" "HostNamespaces=pid" "[Network]" "Mode=host" \
        "[Exception:host-pid]" "Justification=test-ctl-inspect: inspect must flag a shared PID namespace" \
        "Expires=$expires" \
        "[Exception:host-net]" "Justification=test-ctl-inspect: inspect must flag the host network namespace" \
        "Expires=$expires"
expect_rc 0 berthctl start hostns
expect_rc 0 berthctl inspect hostns --no-pager
echo "$out"
echo "$out" | grep -Eq "^  pid +[0-9]+ +[0-9]+ +SHARED with the host" || fail "inspect text: pid not flagged shared"
echo "$out" | grep -Eq "^  net +[0-9]+ +[0-9]+ +SHARED with the host" || fail "inspect text: net not flagged shared"
echo "$out" | grep -q "the host's namespace" || fail "inspect text: network not flagged"
berthctl inspect hostns --json=pretty | check "
ns = {n['type']: n for n in d['namespaces']}
assert ns['pid']['shared'] and ns['net']['shared'], ns
for t in ('mnt', 'uts', 'ipc', 'cgroup'):
    assert not ns[t]['shared'], (t, ns[t])
assert d['network']['shared_with_host']
" || fail "inspect --json of hostns"
expect_rc 0 berthctl status hostns --no-pager
echo "$out" | grep -q "Host ns: .*pid" || fail "status does not flag the shared pid namespace: $out"
expect_rc 0 berthctl stop hostns
ok "host namespaces flagged (inspect text and JSON, status)"

expect_rc 7 berthctl inspect dflt
expect_rc 4 berthctl inspect nosuch
ok "inspect of a stopped (7) or unknown (4) container"
echo "PASS: test-ctl-inspect"
