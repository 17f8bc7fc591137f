#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host tier: one real container at a time through berth-run (the runtime
# library without the daemon), checked from inside against the host.
# Usage: test-runtime.sh BERTH_RUN SYSCALL_PROBE MKBUSYBOX
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root

RUN=$1
PROBE=$2
MKBUSYBOX=$3

W=$(mktemp -d /var/tmp/berth-host.XXXXXX)
RUNDIR=$W/run
STATE=$W/state
ROOTFS=$W/rootfs
cleanup() {
        # Anything still running is a bug, but never leave it behind.
        pkill -KILL -f "berth-run .*--run-dir $RUNDIR" 2>/dev/null
        for f in "$W"/pids/*; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
        rm -rf "$W"
}
trap cleanup EXIT
bash "$MKBUSYBOX" "$ROOTFS" >/dev/null
install -m 0755 "$PROBE" "$W/probe"
mkdir -p "$W/pids"
echo "lower-original" > "$ROOTFS/etc/lowerfile"
# Other things may mount on a busy host meanwhile: compare our kinds only.
count_ours() { grep -cE " - (overlay|tmpfs|proc|sysfs|devpts|mqueue|cgroup2) " /proc/self/mountinfo; }
mounts_before=$(count_ours)

# berth-run takes NAME then "-- CMD"; wrap to keep call sites readable.
b() {
        local name=$1; shift
        local opts=()
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
        shift
        "$RUN" --run-dir "$RUNDIR" --state-dir "$STATE" -p "Rootfs.Directory=$ROOTFS" -p Network.Mode=none \
                --pid-file "$W/pids/$name" "${opts[@]}" "$name" -- "$@"
}
E=(-p Rootfs.Ephemeral=yes)

# --- namespaces -------------------------------------------------------------
out=$(b ns "${E[@]}" -- /bin/sh -c 'for n in pid mnt uts ipc net cgroup user; do echo "$n $(readlink /proc/self/ns/$n)"; done')
for n in pid mnt uts ipc net cgroup; do
        host=$(readlink /proc/self/ns/$n)
        inside=$(awk -v n=$n '$1==n {print $2}' <<<"$out")
        if [ -n "$inside" ] && [ "$inside" != "$host" ]; then ok "$n namespace differs from the host's ($inside vs $host)"
        else not_ok "$n namespace differs from the host's (inside [$inside], host [$host])"; fi
done
inside=$(awk '$1=="user" {print $2}' <<<"$out")
check_eq "without PrivateUsers the user namespace is the host's" "$(readlink /proc/self/ns/user)" "$inside"

out=$(b ns2 "${E[@]}" -p Security.PrivateUsers=400000:65536 -- /bin/sh -c 'readlink /proc/self/ns/user; cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /x && stat -c %u /x')
check_not_contains "PrivateUsers= gives a new user namespace" "$out" "$(readlink /proc/self/ns/user)"
check_contains "uid_map maps 0 to the configured shift" "$out" "0     400000      65536"
check_eq "root inside, files it creates are its own" "0 0" "$(tail -n2 <<<"$out" | tr '\n' ' ' | sed 's/ $//')"

b userns -p Security.PrivateUsers=500000:65536 -- /bin/sh -c 'echo v > /etc/lowerfile; echo n > /new' >/dev/null
out=$(b userns -p Security.PrivateUsers=500000:65536 -- /bin/sh -c 'stat -c "%u:%g" /bin/busybox /etc/lowerfile')
check_eq "image files are owned by the container's root (idmapped layers)" "0:0 0:0" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
check_eq "files the container creates are owned by the shifted uid on the host" "500000:500000" "$(stat -c %u:%g "$STATE/containers/userns/upper/new" 2>/dev/null)"
check_eq "copied-up files too" "500000:500000" "$(stat -c %u:%g "$STATE/containers/userns/upper/etc/lowerfile" 2>/dev/null)"
check_eq "the image stays owned by host root" "0:0" "$(stat -c %u:%g "$ROOTFS/etc/lowerfile")"

# --- PID 1, process tree, hostname -------------------------------------------
out=$(b tree "${E[@]}" -p Container.Hostname=box1 -- /bin/sh -c 'echo "self=$$"; hostname; ps -o pid,comm | tail -n +2 | wc -l; cat /proc/1/status | grep ^PPid')
check_contains "the payload is PID 2 under the stub init" "$out" "self=2"
check_contains "Hostname= is set" "$out" "box1"
check_contains "PID 1 has no parent inside the namespace" "$out" "PPid:	0"
out=$(b tree2 "${E[@]}" -- /bin/ps -o pid,comm)
check_eq "the process tree is the stub init and the payload" "PID COMMAND 1 berth-init 2 ps" "$(tr -s ' \n' ' ' <<<"$out" | sed 's/ $//')"
check_eq "the hostname defaults to the container name" "dflt" "$(b dflt "${E[@]}" -- /bin/hostname)"

# --- masked and read-only paths -----------------------------------------------
out=$(b masks "${E[@]}" -- /bin/sh -c '
        for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/sysrq-trigger; do
                [ -e $f ] || { echo "$f absent"; continue; }
                echo "$f bytes=$(head -c 100 $f 2>/dev/null | wc -c)"
        done
        echo "firmware=$(ls -A /sys/firmware | wc -l)"
        echo c > /proc/sysrq-trigger 2>/dev/null && echo "sysrq writable" || echo "sysrq refused"
        echo x > /proc/sys/kernel/hostname 2>/dev/null && echo "procsys writable" || echo "procsys refused"
        echo 1 > /proc/sys/net/ipv4/ip_forward 2>/dev/null && echo "procsysnet writable" || echo "procsysnet refused"
        touch /sys/kernel/x 2>/dev/null && echo "sys writable" || echo "sys refused"
        mount | grep -c " /proc/"')
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
        if grep -qE "^$f (absent|bytes=0)$" <<<"$out"; then ok "$f is masked or absent"; else not_ok "$f is masked"; echo "$out" | sed 's/^/#  /'; fi
done
check_contains "/sys/firmware is an empty mask" "$out" "firmware=0"
check_contains "/proc/sysrq-trigger refuses writes" "$out" "sysrq refused"
check_contains "/proc/sys refuses writes" "$out" "procsys refused"
check_contains "/proc/sys/net refuses writes" "$out" "procsysnet refused"
check_contains "/sys refuses writes" "$out" "sys refused"
if [ -e /proc/kcore ]; then
        out=$(b kcore "${E[@]}" -- /bin/sh -c 'ls -l /proc/kcore; mount | grep kcore')
        check_contains "/proc/kcore has a mount on top" "$out" "/proc/kcore"
fi
# Directory masks are bind clones of one empty read-only tmpfs.
if [ -d /proc/acpi ] && [ -d /sys/firmware ]; then
        out=$(b dirmasks "${E[@]}" -- /bin/sh -c 'stat -c %d /proc/acpi /sys/firmware | sort -u | wc -l
                mount | grep -cE " on /(proc/acpi|sys/firmware) type tmpfs \(ro,"
                touch /proc/acpi/x 2>/dev/null && echo "acpi writable" || echo "acpi refused"')
        check_eq "directory masks share one read-only tmpfs" "1 2 acpi refused" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
fi
# A mount below /proc comes before the masks, so it cannot cover them.
if [ -d /proc/driver ]; then
        out=$(b procmount "${E[@]}" -p Files.TemporaryFileSystem=/proc/driver -- /bin/sh -c '
                mount | grep -c " on /proc/driver type tmpfs"
                echo "kcore bytes=$(head -c 100 /proc/kcore 2>/dev/null | wc -c)"
                echo c > /proc/sysrq-trigger 2>/dev/null && echo "sysrq writable" || echo "sysrq refused"')
        check_eq "TemporaryFileSystem= below /proc, masks still on top" "1 kcore bytes=0 sysrq refused" \
                "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
fi

# --- /dev ---------------------------------------------------------------------
out=$(b dev "${E[@]}" -- /bin/sh -c 'ls -A /dev | tr "\n" " "; echo; stat -c "%n %t:%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; readlink /dev/ptmx; readlink /dev/fd; head -c 4 /dev/zero | wc -c; mount | grep -E " /dev/(pts|shm) "')
check_contains "/dev holds the usual nodes" "$out" "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"
check_contains "/dev/null is 1:3" "$out" "/dev/null 1:3"
check_contains "/dev/urandom is 1:9" "$out" "/dev/urandom 1:9"
check_contains "/dev/ptmx points into the private devpts" "$out" "pts/ptmx"
check_contains "devpts is a new instance" "$out" "ptmxmode=666"
check_contains "/dev/shm is a tmpfs" "$out" "on /dev/shm type tmpfs"
# The runtime's own nodes (mknod), and the host's nodes bound in a user
# namespace, where mknod is not allowed: the same devices, usable by anyone.
nodes='stat -c "%n %F %a %t:%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | tr "\n" ";"; head -c 3 /dev/urandom | wc -c; echo x > /dev/null && echo null-ok'
want="/dev/null character special file 666 1:3;/dev/zero character special file 666 1:5;/dev/full character special file 666 1:7;/dev/random character special file 666 1:8;/dev/urandom character special file 666 1:9;/dev/tty character special file 666 5:0;3 null-ok"
check_eq "/dev nodes: char devices, mode 0666, usable" "$want" "$(b devnodes "${E[@]}" -- /bin/sh -c "$nodes" | tr '\n' ' ' | sed 's/ $//')"
check_eq "/dev nodes with PrivateUsers= (host nodes bound)" "$want" \
        "$(b devnodes2 "${E[@]}" -p Security.PrivateUsers=600000:65536 -- /bin/sh -c "$nodes" | tr '\n' ' ' | sed 's/ $//')"

# --- capabilities ------------------------------------------------------------
default_caps=$(b caps "${E[@]}" -- /bin/sh -c 'grep ^CapEff /proc/self/status | cut -f2')
check_eq "default capabilities: Docker's 14 minus MKNOD" "00000000a00425fb" "$default_caps"
out=$(b caps2 "${E[@]}" -p Security.Capability=CAP_NET_ADMIN -p Security.DropCapability=CAP_CHOWN -- /bin/sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status | cut -f2 | tr "\n" " "')
check_eq "Capability= adds and DropCapability= removes (eff and bounding)" "00000000a00435fa 00000000a00435fa " "$out"
out=$(b caps3 "${E[@]}" -p Container.User=nobody -- /bin/sh -c 'id -u; grep -E "^Cap(Eff|Prm|Bnd|Amb)" /proc/self/status | cut -f2 | tr "\n" " "')
check_contains "a non-root user has no effective caps, bounding kept" "$out" "0000000000000000 0000000000000000 00000000a00425fb 0000000000000000"
check_contains "User=nobody resolves in the container's /etc/passwd" "$out" "65534"
{ cat "$ROOTFS/etc/passwd"; echo "binduser:x:4242:4243::/home/binduser:/bin/sh"; } > "$W/passwd"
out=$(b bindpw "${E[@]}" -p "Files.BindReadOnly=$W/passwd:/etc/passwd" -p Container.User=binduser -- /bin/sh -c 'id -u; id -g; echo $HOME')
check_eq "User= resolves in a bind-mounted /etc/passwd" "4242 4243 /home/binduser" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
# /etc/passwd a symlink into a bind: read after the binds, not before GO.
mkdir -p "$W/pwlink/etc" "$W/pwdata"
ln -sfn /data/passwd "$W/pwlink/etc/passwd"
{ cat "$ROOTFS/etc/passwd"; echo "linkuser:x:4343:4344::/home/linkuser:/bin/sh"; } > "$W/pwdata/passwd"
out=$(b linkpw -p Rootfs.Ephemeral=yes -p Rootfs.Directory= -p "Rootfs.Layers=$ROOTFS $W/pwlink" \
        -p "Files.BindReadOnly=$W/pwdata:/data" -p Container.User=linkuser -- /bin/sh -c 'id -u; id -g; echo $HOME')
check_eq "User= resolves through an /etc/passwd symlink into a bind" "4343 4344 /home/linkuser" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
check_eq "NoNewPrivileges is on by default" "1" "$(b nnp "${E[@]}" -- /bin/sh -c 'grep ^NoNewPrivs /proc/self/status | cut -f2')"

# --- seccomp -----------------------------------------------------------------
BIND=(-p "Files.BindReadOnly=$W/probe:/probe")
check_eq "Seccomp: 2 inside" "2" "$(b sc "${E[@]}" -- /bin/sh -c 'grep ^Seccomp: /proc/self/status | cut -f2')"
denied="mount umount2 unshare setns pivot_root keyctl add_key request_key bpf perf_event_open userfaultfd open_by_handle_at kexec_load kexec_file_load init_module finit_module delete_module reboot fsopen fsmount open_tree move_mount mount_setattr io_uring_setup swapon acct settimeofday sethostname clone_newuser clone_newns"
out=$(b sc2 "${E[@]}" "${BIND[@]}" -- /probe $denied clone3 fork getpid)
for s in $denied; do check_contains "$s fails with EPERM" "$out" "$s EPERM"; done
check_contains "clone3 fails with ENOSYS (glibc falls back to clone)" "$out" "clone3 ENOSYS"
check_contains "plain fork still works" "$out" "fork ok"
out=$(b sc3 "${E[@]}" "${BIND[@]}" -p Security.SystemCallAllow=keyctl -p Security.SystemCallDeny=uname -- /probe keyctl uname getpid)
check_not_contains "SystemCallAllow= lifts a default denial" "$out" "keyctl EPERM"
check_contains "SystemCallDeny= adds a denial" "$out" "uname EPERM"
out=$(b sc4 "${E[@]}" "${BIND[@]}" -p Security.Seccomp=no -- /bin/sh -c 'grep ^Seccomp: /proc/self/status | cut -f2')
check_eq "Seccomp=no installs no filter" "0" "$out"

out=$(b sc5 "${E[@]}" -p Security.SystemCallDeny=execve -- /bin/true 2>&1); rc=$?
check_eq "denying a syscall the runtime needs is refused (125)" 125 $rc
check_contains "the refusal names the key and the syscall" "$out" "SystemCallDeny=execve"

# --- overlay: upper, lower, whiteouts, ephemeral ------------------------------
b persist -- /bin/sh -c 'echo new > /newfile; echo changed > /etc/lowerfile; rm /etc/group' >/dev/null
UP=$STATE/containers/persist/upper
check_eq "writes land in the upper dir" "new" "$(cat "$UP/newfile" 2>/dev/null)"
check_eq "modified files are copied up" "changed" "$(cat "$UP/etc/lowerfile" 2>/dev/null)"
check_eq "the lower dir is untouched" "lower-original" "$(cat "$ROOTFS/etc/lowerfile")"
check "the lower dir keeps deleted files" test -f "$ROOTFS/etc/group"
check_eq "deletes leave a whiteout (0:0 char device)" "character special file 0:0" "$(stat -c '%F %t:%T' "$UP/etc/group" 2>/dev/null)"
check_eq "the persistent upper survives a restart" "new" "$(b persist -- /bin/cat /newfile)"
# The user comes from the merged /etc/passwd: a copy in the upper wins over
# the image's (the runtime looks it up itself only while the upper has no /etc).
b persistpw -- /bin/sh -c 'sed -i "s/^nobody:x:65534:/nobody:x:4545:/" /etc/passwd' >/dev/null
check_eq "User= resolves in the persistent upper's /etc/passwd" "4545" "$(b persistpw -p Container.User=nobody -- /bin/sh -c 'id -u')"
b eph "${E[@]}" -- /bin/sh -c 'echo x > /ephfile' >/dev/null
check "an ephemeral container leaves no state dir" test ! -e "$STATE/containers/eph"
check "an ephemeral container leaves no run dir" test ! -e "$RUNDIR/eph"
check_eq "ephemeral writes never reach the lower dir" "" "$(ls "$ROOTFS/ephfile" 2>/dev/null)"

mkdir -p "$W/l1/etc" "$W/l2/etc"
echo one > "$W/l1/etc/a"; echo one > "$W/l1/etc/b"; echo two > "$W/l2/etc/b"
out=$("$RUN" --run-dir "$RUNDIR" --state-dir "$STATE" -p "Rootfs.Layers=$ROOTFS $W/l1 $W/l2" -p Rootfs.Ephemeral=yes -p Network.Mode=none layers -- /bin/cat /etc/a /etc/b 2>&1)
check_eq "Layers= stacks bottom first, later layers win" "one two" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"

# --- exit status, signals, reaping ----------------------------------------------
b ex "${E[@]}" -- /bin/sh -c 'exit 42'; check_eq "exit code propagates" 42 $?
b ex "${E[@]}" -- /bin/sh -c 'kill -KILL $$'; check_eq "death by SIGKILL is 128+9" 137 $?
b ex "${E[@]}" -- /bin/sh -c 'kill -SEGV $$'; check_eq "death by SIGSEGV is 128+11" 139 $?
b ex "${E[@]}" -- /nonexistent >/dev/null 2>&1; check_eq "a missing command is refused before it runs (125)" 125 $?
out=$(b ex "${E[@]}" -- /nonexistent 2>&1)
check_contains "the error names the command" "$out" "executing /nonexistent: No such file or directory"

"$RUN" --run-dir "$RUNDIR" --state-dir "$STATE" -p "Rootfs.Directory=$ROOTFS" -p Network.Mode=none "${E[@]}" \
        --pid-file "$W/term.pid" term -- /bin/sh -c 'trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done' >"$W/term.out" 2>&1 &
bpid=$!
for _ in $(seq 100); do grep -q ready "$W/term.out" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$(cat "$W/term.pid")"   # to PID 1 of the container, from the host
wait $bpid; rc=$?
check_eq "SIGTERM to PID 1 reaches the payload's handler" 7 "$rc"
check_contains "the payload saw SIGTERM" "$(cat "$W/term.out")" "got-TERM"

"$RUN" --run-dir "$RUNDIR" --state-dir "$STATE" -p "Rootfs.Directory=$ROOTFS" -p Network.Mode=none "${E[@]}" \
        --pid-file "$W/pids/fwd" fwd -- /bin/sh -c 'trap "exit 9" USR1; echo ready; while :; do sleep 0.05; done' >"$W/fwd.out" 2>&1 &
bpid=$!
for _ in $(seq 100); do grep -q ready "$W/fwd.out" 2>/dev/null && break; sleep 0.05; done
kill -USR1 $bpid 2>/dev/null; sleep 0.2; kill -TERM $bpid 2>/dev/null
wait $bpid; rc=$?
check "SIGUSR1 and SIGTERM are forwarded (exit 9 or 143)" test "$rc" = 9 -o "$rc" = 143

out=$(b orphans "${E[@]}" -- /bin/sh -c '(sh -c "sleep 0.1 &" ; sh -c "true &") ; sleep 0.5; ps -o stat,comm | grep -c "^Z" || true')
check_eq "orphans are reaped by the stub (no zombies)" "0" "$(tail -n1 <<<"$out")"

out=$(b boot "${E[@]}" -p Container.Boot=yes -- /bin/sh -c 'echo "pid=$$"')
check_eq "Boot=yes execs the payload as PID 1" "pid=1" "$out"

# --- binds, tmpfs, read-only ---------------------------------------------------
mkdir -p "$W/hostdir" && echo hostdata > "$W/hostdir/in"
out=$(b binds "${E[@]}" -p "Files.Bind=$W/hostdir:/mnt/rw" -p "Files.BindReadOnly=$W/hostdir:/mnt/ro" \
        -p "Files.TemporaryFileSystem=/scratch:size=1M" -- /bin/sh -c '
        cat /mnt/rw/in; echo out > /mnt/rw/out && echo rw-ok
        echo x > /mnt/ro/x 2>/dev/null && echo ro-writable || echo ro-refused
        mount | grep " /scratch "; echo t > /scratch/t && echo tmpfs-ok')
check_contains "Bind= shows host data" "$out" "hostdata"
check_eq "Bind= writes reach the host" "out" "$(cat "$W/hostdir/out" 2>/dev/null)"
check_contains "BindReadOnly= refuses writes" "$out" "ro-refused"
check_contains "TemporaryFileSystem= mounts a tmpfs" "$out" "on /scratch type tmpfs"
check_contains "TemporaryFileSystem= is writable" "$out" "tmpfs-ok"
out=$(b ro "${E[@]}" -p Rootfs.ReadOnly=yes -p Files.TemporaryFileSystem=/tmp -- /bin/sh -c 'touch /x 2>/dev/null && echo root-writable || echo root-refused; touch /tmp/y && echo tmp-ok')
check_contains "ReadOnly= root refuses writes" "$out" "root-refused"
check_contains "tmpfs stays writable under a read-only root" "$out" "tmp-ok"
out=$(b esc "${E[@]}" -- /bin/sh -c 'ln -s /../../../../etc /esc; ls /esc/hostname 2>&1; cat /etc/lowerfile')
check_contains "the container sees its own /etc, not the host's" "$out" "lower-original"

# --- failures and leftovers --------------------------------------------------
out=$(b fail1 "${E[@]}" -p Container.User=nosuchuser -- /bin/true 2>&1); rc=$?
check_eq "an unknown User= fails setup (125)" 125 $rc
check_contains "the error names User=" "$out" "User=nosuchuser"
out=$(b fail2 "${E[@]}" -p "Files.Bind=$W/does-not-exist:/x" -- /bin/true 2>&1); rc=$?
check_eq "a missing bind source fails setup" 125 $rc
check_contains "the error names the bind source" "$out" "does-not-exist"
out=$(b fail3 "${E[@]}" -p Container.WorkingDirectory=/nope -- /bin/true 2>&1); rc=$?
check_contains "a missing WorkingDirectory= is named" "$out" "WorkingDirectory=/nope"

"$RUN" --run-dir "$RUNDIR" --state-dir "$STATE" -p "Rootfs.Directory=$ROOTFS" -p Network.Mode=none "${E[@]}" \
        --pid-file "$W/kill.pid" killed -- /bin/sh -c 'sleep 1000 & sleep 1000 & echo ready; wait' >"$W/kill.out" 2>&1 &
bpid=$!
for _ in $(seq 100); do grep -q ready "$W/kill.out" 2>/dev/null && break; sleep 0.05; done
cpid=$(cat "$W/kill.pid")
cns=$(readlink /proc/$cpid/ns/pid)
kill -KILL "$cpid"
wait $bpid; rc=$?
check_eq "SIGKILL of PID 1 is reported as 137" 137 $rc
sleep 0.2
left=0
for p in /proc/[0-9]*; do [ "$(readlink $p/ns/pid 2>/dev/null)" = "$cns" ] && left=$((left + 1)); done
check_eq "no process of the killed container is left" 0 $left

check_eq "no overlay, tmpfs, proc, sysfs, devpts, mqueue or cgroup2 mount was left on the host" "$mounts_before" "$(count_ours)"
check_eq "no overlay of ours is mounted on the host" "" "$(grep "$W" /proc/self/mountinfo)"
check_eq "every run dir was removed" "" "$(ls -A "$RUNDIR" 2>/dev/null)"
check_eq "no berth-run process is left" "" "$(pgrep -f "berth-run .*--run-dir $RUNDIR")"

done_testing
