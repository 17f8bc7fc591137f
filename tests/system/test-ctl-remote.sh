#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# System tier: berthctl -H over sd-bus's SSH transport (ssh + remote
# systemd-stdio-bridge), against the testbed itself through sshd on localhost.
set -eu   # no pipefail: see tests/system/lib/test-lib.sh

. "$BERTH_SRCDIR/tests/system/lib/test-lib.sh"
DUMP_UNITS+=(ssh.service)

command -v sshd >/dev/null || fail "openssh-server is not in the testbed image"
systemd-tmpfiles --create /usr/lib/tmpfiles.d/berth.conf
write_conf remote "/bin/sleep 1000"

# sshd on localhost with a throwaway root key.
ssh-keygen -A >/dev/null
install -d -m 0700 /root/.ssh
rm -f /root/.ssh/berth-test /root/.ssh/berth-test.pub
ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/berth-test
cat /root/.ssh/berth-test.pub >>/root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
cat >/root/.ssh/config <<'SSH'
Host localhost 127.0.0.1
        IdentityFile /root/.ssh/berth-test
        StrictHostKeyChecking no
        UserKnownHostsFile /dev/null
        LogLevel ERROR
        BatchMode yes
SSH
systemctl start ssh.service || fail "cannot start sshd"
for _ in $(seq 50); do ssh root@localhost true 2>/dev/null && break; sleep 0.1; done
ssh root@localhost true || fail "ssh to localhost does not work"

echo "== -H root@localhost"
expect_rc 0 berthctl -H root@localhost list --all --no-legend
echo "$out" | grep -q "^remote " || fail "-H list --all: $out"
expect_rc 0 berthctl -H root@localhost start remote
[ "$(berthctl show remote -p State --value)" = running ] || fail "remote start did not start it"
expect_rc 0 berthctl --host=root@localhost list
echo "$out" | grep -Eq "^remote +running" || fail "-H list: $out"
expect_rc 0 berthctl -H root@localhost status remote --no-pager
echo "$out" | grep -q "State: running" || fail "-H status: $out"
[ "$(berthctl -H root@localhost show remote -p Leader --value)" = "$(berthctl show remote -p Leader --value)" ] ||
        fail "-H show Leader differs"
expect_rc 0 berthctl -H root@localhost set-property remote --runtime TasksMax=99
[ "$(berthctl show remote -p TasksMax --value)" = 99 ] || fail "-H set-property"
expect_rc 4 berthctl -H root@localhost status nosuch
expect_rc 2 berthctl -H root@localhost logs remote
expect_rc 125 berthctl -H root@localhost exec remote true
expect_rc 0 berthctl -H root@localhost stop remote
[ "$(berthctl show remote -p State --value)" != running ] || fail "-H stop"
expect_rc 1 berthctl -H root@nonexistent.invalid list
ok "-H: list, start, status, show, set-property, stop; logs/exec refused; unreachable host exits 1"

systemctl stop ssh.service
echo "PASS: test-ctl-remote"
