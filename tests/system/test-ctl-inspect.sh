#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: berthctl inspect reads the kernel's view of a container:
# namespaces against the host's (a default container, one sharing the host's
# PID and network namespaces), cgroup files, the overlay as mounted, the veth
# and bridge, capabilities and seccomp of PID 1; text and --json.
set -euo pipefail

BB=${BERTH_TEST_BUSYBOX:-/var/lib/berth-test/busybox}
CONF=/etc/berth/containers
export SYSTEMD_PAGER= PAGER= SYSTEMD_COLORS=0
fail() { echo "FAIL: $*" >&2; dump; exit 1; }
ok() { echo "ok: $*"; }
dump() {
        echo "--- diagnostics" >&2
        systemctl --no-pager status berthd.service 'berth-*.scope' >&2 || true
        journalctl --no-pager -n 60 -u berthd.service >&2 || true
}
expect_rc() {
        local want=$1 rc=0; shift
        out=$("$@" 2>&1) || rc=$?
        [ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want; output: $out"
}
write_conf() { # write_conf NAME [EXTRA LINES...]
        local name=$1; shift
        mkdir -p "$CONF"
        rm -rf "$CONF/$name.conf.d"
        {
                echo "[Container]"
                echo "Command=/bin/sleep 1000"
                echo "KillTimeoutSec=5s"
                echo "[Rootfs]"
                echo "Directory=$BB"
                for l in "$@"; do echo "$l"; done
        } >"$CONF/$name.conf"
}
JSONPY=$(mktemp /tmp/ctl-json.XXXXXX.py)
cat >"$JSONPY" <<'PY'
import sys, re
try:
    from json import loads
except ImportError:
    # python3-minimal (the testbed) has no json module: a small strict parser.
    _tok = re.compile(r'\s*(?:(?P<s>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")|(?P<n>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<p>[{}\[\],:])|(?P<w>true|false|null))')
    _esc = {'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
    def _str(t):
        out, i, t = [], 0, t[1:-1]
        while i < len(t):
            if t[i] == '\\':
                if t[i + 1] == 'u':
                    out.append(chr(int(t[i + 2:i + 6], 16))); i += 6
                else:
                    out.append(_esc[t[i + 1]]); i += 2
            else:
                out.append(t[i]); i += 1
        return ''.join(out)
    def loads(text):
        toks, pos = [], 0
        text = text.rstrip()
        while pos < len(text):
            m = _tok.match(text, pos)
            if not m:
                raise ValueError('bad JSON at %d: %r' % (pos, text[pos:pos + 20]))
            toks.append((m.lastgroup, m.group(m.lastgroup))); pos = m.end()
        def val(i):
            k, t = toks[i]
            if k == 's': return _str(t), i + 1
            if k == 'n': return (float(t) if any(c in t for c in '.eE') else int(t)), i + 1
            if k == 'w': return {'true': True, 'false': False, 'null': None}[t], i + 1
            if t == '[':
                r, i = [], i + 1
                if toks[i][1] == ']': return r, i + 1
                while True:
                    v, i = val(i); r.append(v)
                    if toks[i][1] == ']': return r, i + 1
                    if toks[i][1] != ',': raise ValueError('expected ,')
                    i += 1
            if t == '{':
                r, i = {}, i + 1
                if toks[i][1] == '}': return r, i + 1
                while True:
                    if toks[i][0] != 's' or toks[i + 1][1] != ':': raise ValueError('expected key')
                    key = _str(toks[i][1]); v, i = val(i + 2); r[key] = v
                    if toks[i][1] == '}': return r, i + 1
                    if toks[i][1] != ',': raise ValueError('expected ,')
                    i += 1
            raise ValueError('unexpected %r' % t)
        v, i = val(0)
        if i != len(toks): raise ValueError('trailing data')
        return v
d = loads(sys.stdin.read())
exec(sys.argv[1])
PY
check() { # check PYTHON-CODE < JSON (asserts over the document d)
        python3 "$JSONPY" "$1"
}

systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
systemctl daemon-reload

echo "== a default container (private namespaces, bridge network)"
write_conf dflt "Ephemeral=yes" "[Network]" "Port=tcp:8080:80"
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
write_conf hostns "Ephemeral=yes" "[Security]" "HostNamespaces=pid" "[Network]" "Mode=host" \
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
