/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * syscall-probe: statically linked helper bind-mounted into test containers.
 * For each syscall named on the command line it makes the call with harmless
 * arguments and prints "name errno-name" (or "name ok"), so the host tier can
 * check the seccomp filter from inside a real container.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long call(const char *n) {
        if (!strcmp(n, "mount")) return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);
        if (!strcmp(n, "umount2")) return syscall(SYS_umount2, "/tmp", 0);
        if (!strcmp(n, "unshare")) return syscall(SYS_unshare, CLONE_NEWUTS);
        if (!strcmp(n, "setns")) return syscall(SYS_setns, 0, 0);
        if (!strcmp(n, "pivot_root")) return syscall(SYS_pivot_root, "/", "/");
        if (!strcmp(n, "keyctl")) return syscall(SYS_keyctl, 0, 0, 0, 0, 0);
        if (!strcmp(n, "add_key")) return syscall(SYS_add_key, "user", "x", "y", 1, 0);
        if (!strcmp(n, "request_key")) return syscall(SYS_request_key, "user", "x", NULL, 0);
        if (!strcmp(n, "bpf")) return syscall(SYS_bpf, 0, NULL, 0);
        if (!strcmp(n, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
        if (!strcmp(n, "userfaultfd")) return syscall(SYS_userfaultfd, 0);
        if (!strcmp(n, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, NULL, 0);
        if (!strcmp(n, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
        if (!strcmp(n, "kexec_file_load")) return syscall(SYS_kexec_file_load, -1, -1, 0, "", 0);
        if (!strcmp(n, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
        if (!strcmp(n, "finit_module")) return syscall(SYS_finit_module, -1, "", 0);
        if (!strcmp(n, "delete_module")) return syscall(SYS_delete_module, "nonexistent", 0);
        if (!strcmp(n, "reboot")) return syscall(SYS_reboot, 0, 0, 0, NULL);
        if (!strcmp(n, "fsopen")) return syscall(SYS_fsopen, "tmpfs", 0);
        if (!strcmp(n, "fsmount")) return syscall(SYS_fsmount, -1, 0, 0);
        if (!strcmp(n, "open_tree")) return syscall(SYS_open_tree, AT_FDCWD, "/", 0);
        if (!strcmp(n, "move_mount")) return syscall(SYS_move_mount, -1, "", -1, "", 0);
        if (!strcmp(n, "mount_setattr")) return syscall(SYS_mount_setattr, -1, "", 0, NULL, 0);
        if (!strcmp(n, "io_uring_setup")) return syscall(SYS_io_uring_setup, 1, NULL);
        if (!strcmp(n, "swapon")) return syscall(SYS_swapon, "/nonexistent", 0);
        if (!strcmp(n, "acct")) return syscall(SYS_acct, NULL);
        if (!strcmp(n, "settimeofday")) return syscall(SYS_settimeofday, NULL, NULL);
        if (!strcmp(n, "sethostname")) return syscall(SYS_sethostname, "x", 1);
        if (!strcmp(n, "clone3")) {
                struct clone_args a = { .exit_signal = SIGCHLD };
                long r = syscall(SYS_clone3, &a, sizeof(a));
                if (r == 0) _exit(0);
                if (r > 0) waitpid((pid_t) r, NULL, 0);
                return r;
        }
        if (!strcmp(n, "clone_newuser") || !strcmp(n, "clone_newns")) {
                long f = !strcmp(n, "clone_newuser") ? CLONE_NEWUSER : CLONE_NEWNS;
                long r = syscall(SYS_clone, f | SIGCHLD, NULL, NULL, NULL, 0);
                if (r == 0) _exit(0);
                if (r > 0) waitpid((pid_t) r, NULL, 0);
                return r;
        }
        if (!strcmp(n, "fork")) {
                pid_t p = fork();
                if (p == 0) _exit(0);
                if (p > 0) waitpid(p, NULL, 0);
                return p < 0 ? -1 : 0;
        }
        if (!strcmp(n, "getpid")) return syscall(SYS_getpid);
        if (!strcmp(n, "uname")) { char b[512]; return syscall(SYS_uname, b); }
        errno = EINVAL;
        fprintf(stderr, "syscall-probe: unknown %s\n", n);
        return -2;
}

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                errno = 0;
                long r = call(argv[i]);
                if (r == -2)
                        return 2;
                if (r >= 0)
                        printf("%s ok\n", argv[i]);
                else
                        printf("%s %s\n", argv[i], strerrorname_np(errno));
        }
        return 0;
}
