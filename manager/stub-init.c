/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub-init.h"
#include "util.h"

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };

void berth_sync_send(int fd, int type, int error, const char *text) {
        BerthSyncMsg m = { .type = type, .error = error };
        if (text)
                strncpy(m.text, text, sizeof(m.text) - 1);
        (void) !write(fd, &m, sizeof(m));
}

static void noop_handler(int sig) {
        (void) sig;
}

typedef struct PayloadSpawn {
        char **argv;
        char **envp;
        int exec_error;       /* positive errno if exec failed, else 0 */
} PayloadSpawn;

/* exec, in the working directory the runtime left us in. Only returns on
 * failure, with errno recorded in *s. No allocation, no stdio: this also
 * runs in a CLONE_VM child. */
static void exec_payload(PayloadSpawn *s) {
        /* Everything but stdio is closed by exec. */
        (void) syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
        /* execvp() searches the container's PATH, so it must be in environ. */
        environ = s->envp;
        execvp(s->argv[0], s->argv);
        s->exec_error = errno;
}

static int payload_exit_code(const PayloadSpawn *s) {
        return s->exec_error == ENOENT ? 127 : 126;
}

static void send_payload_error(int fd, const PayloadSpawn *s) {
        char text[200];
        snprintf(text, sizeof(text), "executing %s: %s", s->argv[0], strerror(s->exec_error));
        berth_sync_send(fd, BERTH_SYNC_ERROR, s->exec_error, text);
}

_Noreturn void berth_exec_payload(char **argv, char **envp, int sync_fd) {
        PayloadSpawn s = { .argv = argv, .envp = envp };
        /* The sync socket is O_CLOEXEC: the runtime sees EOF once exec succeeds. */
        exec_payload(&s);
        send_payload_error(sync_fd, &s);
        _exit(payload_exit_code(&s));
}

/* The payload child, in the stub's memory until it execs (CLONE_VM|CLONE_VFORK):
 * no page tables to copy, and the stub resumes exactly when exec succeeded or
 * the child gave up. Signal dispositions are the child's own (no CLONE_SIGHAND). */
static int payload_main(void *userdata) {
        PayloadSpawn *s = userdata;
        sigset_t none;

        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                signal(forwarded[i], SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (setsid() >= 0 && isatty(STDIN_FILENO))
                (void) ioctl(STDIN_FILENO, TIOCSCTTY, 0);
        exec_payload(s);
        _exit(payload_exit_code(s));
}

/* Start the payload; returns its pid, or -errno if it could not even be
 * created. An exec failure is reported in *s, with the child already gone.
 *
 * The child runs on a stack carved out of ours: CLONE_VFORK keeps us
 * suspended until it has exec'd or exited, so nothing else uses this frame
 * meanwhile, and there is no mapping to make and tear down (with the TLB
 * flush that comes with it) on every start. execvp() may build a new argv on
 * its stack (for a script without #!), which the size leaves room for. */
static pid_t __attribute__((noinline)) spawn_payload(PayloadSpawn *s) {
        char stack[128 * 1024] __attribute__((aligned(64)));
        size_t argc = 0;

        while (s->argv[argc])
                argc++;
        if ((argc + 2) * sizeof(char *) > sizeof(stack) / 2)
                return -E2BIG;
        pid_t pid = clone(payload_main, stack + sizeof(stack), CLONE_VM|CLONE_VFORK|SIGCHLD, s);
        return pid < 0 ? -errno : pid;
}

/* Decimal of a non-negative int at p, returns the end. (No printf family in
 * PID 1: its first use would fault libc's formatting code in at exit.) */
static char *put_uint(char *p, unsigned v) {
        char d[12];
        size_t n = 0;
        do
                d[n++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        while (n > 0)
                *p++ = d[--n];
        return p;
}

static void write_exit(int exit_fd, int code, int sig) {
        char buf[64], *p = buf;
        if (exit_fd < 0)
                return;
        /* code is 0..255 (or 128+N), sig 0..64: never negative. */
        memcpy(p, "EXIT_CODE=", 10);
        p = put_uint(p + 10, (unsigned) code);
        memcpy(p, "\nEXIT_SIGNAL=", 13);
        p = put_uint(p + 13, (unsigned) sig);
        *p++ = '\n';
        int n = (int) (p - buf);
        /* No fsync: the file lives under /run (a tmpfs on systemd hosts) and
         * only has to survive a restart of berthd, not of the machine. */
        /* PID 1 writes last and whole: whatever the container's root may
         * have scribbled into this file through /proc/1/fd is replaced. */
        (void) !pwrite(exit_fd, buf, (size_t) n, 0);
        (void) !ftruncate(exit_fd, n);
}

_Noreturn void berth_stub_init(char **argv, char **envp, int sync_fd, int exit_fd) {
        sigset_t all;
        pid_t payload;

        /* A PID namespace's init ignores signals it has no handler for (even
         * when they come from the parent namespace, for some): install real
         * handlers, keep everything blocked and take signals synchronously. */
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++) {
                struct sigaction sa = { .sa_handler = noop_handler };
                sigaction(forwarded[i], &sa, NULL);
        }
        struct sigaction chld = { .sa_handler = noop_handler, .sa_flags = SA_NOCLDSTOP };
        sigaction(SIGCHLD, &chld, NULL);
        /* PID 1 of its own PID namespace reaps every orphan anyway; sharing
         * the host's, it has to ask for them. */
        if (getpid() != 1)
                prctl(PR_SET_CHILD_SUBREAPER, 1);

        PayloadSpawn spawn = { .argv = argv, .envp = envp };
        payload = spawn_payload(&spawn);
        if (payload < 0) {
                berth_sync_send(sync_fd, BERTH_SYNC_ERROR, -payload, "starting the payload");
                _exit(127);
        }
        if (spawn.exec_error != 0) {
                /* exec failed: report it, reap the child, give up. */
                int code = payload_exit_code(&spawn);
                send_payload_error(sync_fd, &spawn);
                (void) waitpid(payload, NULL, 0);
                write_exit(exit_fd, code, 0);
                _exit(code);
        }
        berth_sync_send(sync_fd, BERTH_SYNC_READY, 0, NULL);
        close(sync_fd);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                                if (forwarded[i] == sig)
                                        (void) kill(payload, sig);
                        continue;
                }
                for (;;) {
                        int status;
                        pid_t p = waitpid(-1, &status, WNOHANG);
                        if (p <= 0)
                                break;
                        if (p != payload)
                                continue; /* an orphan: reaped, nothing else to do */
                        int code, s = 0;
                        if (WIFEXITED(status))
                                code = WEXITSTATUS(status);
                        else {
                                s = WTERMSIG(status);
                                code = 128 + s;
                        }
                        write_exit(exit_fd, code, s);
                        /* Exiting tears down the PID namespace: the kernel
                         * kills whatever is left. */
                        _exit(code);
                }
        }
}
