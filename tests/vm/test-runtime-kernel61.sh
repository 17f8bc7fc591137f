#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VM tier: the runtime on Debian 12's own kernel (6.1), which is older than the
# build machines'. Overlays whose layers are detached mounts (an ephemeral
# tmpfs upper, idmapped lower layers for PrivateUsers=) need a different path
# there; run each combination for real, through berth-run and through
# container@.service, and check nothing is left mounted.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
RUN=/usr/lib/berth/berth-run

echo "kernel: $(uname -r)"
mounts_before=$(grep -c overlay /proc/self/mountinfo || true)

out=$($RUN -p "Rootfs.Directory=$BB" -p Rootfs.Ephemeral=yes -p Network.Mode=none k1 -- \
        /bin/sh -c 'echo x > /new && cat /new && grep -c overlay /proc/self/mountinfo') || fail "ephemeral: $out"
[ "$(head -n1 <<<"$out")" = x ] || fail "ephemeral write: $out"
ok "Ephemeral=yes"

out=$($RUN -p "Rootfs.Directory=$BB" -p Security.PrivateUsers=800000:65536 -p Network.Mode=none k2 -- \
        /bin/sh -c 'echo y >> /etc/passwd && stat -c %u /bin/busybox && id -u') || fail "userns: $out"
[ "$(tr '\n' ' ' <<<"$out")" = "0 0 " ] || fail "userns ownership: $out"
[ "$(stat -c %u /var/lib/berth/containers/k2/upper/etc/passwd)" = 800000 ] || fail "userns upper owner"
ok "PrivateUsers= with idmapped layers (persistent upper)"

out=$($RUN -p "Rootfs.Directory=$BB" -p Rootfs.Ephemeral=yes -p Security.PrivateUsers=900000:65536 \
        -p Network.Mode=none k3 -- /bin/sh -c 'touch /etc/new && stat -c %u /etc/new /bin/busybox') || fail "eph+userns: $out"
[ "$(tr '\n' ' ' <<<"$out")" = "0 0 " ] || fail "eph+userns ownership: $out"
ok "Ephemeral=yes with PrivateUsers="

mkdir -p /etc/berth/containers
cat > /etc/berth/containers/k61.conf <<CONF
[Container]
Command=/bin/sh -c 'touch /ok; sleep 600'
[Rootfs]
Directory=$BB
Ephemeral=yes
[Security]
PrivateUsers=yes
[Limits]
MemoryMax=64M
TasksMax=32
[Network]
Mode=none
CONF
systemctl start container@k61 || { journalctl --no-pager -n 40 -u berthd -u container@k61; fail "container@k61 did not start"; }
systemctl is-active --quiet container@k61 || fail "container@k61 not active"
systemctl stop container@k61
ok "container@.service with Ephemeral=yes and PrivateUsers=yes"

[ "$(grep -c overlay /proc/self/mountinfo || true)" = "$mounts_before" ] || fail "an overlay was left mounted"
[ -z "$(ls -A /run/berth 2>/dev/null | grep -v -e '^\.' || true)" ] || echo "note: /run/berth holds $(ls -A /run/berth)"
ok "nothing left mounted"
