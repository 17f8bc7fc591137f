/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void exec_or_die(char **argv, char **envp, const char *cwd, int err_fd) {
        if (cwd && chdir(cwd) < 0) {
                int e = errno;
                char text[200];
                snprintf(text, sizeof(text), "WorkingDirectory=%s: %s", cwd, strerror(e));
                berth_sync_send(err_fd, BERTH_SYNC_ERROR, e, text);
                _exit(127);
        }
        /* Everything but stdio is closed by exec. */
        (void) syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
        environ = envp;
        execvp(argv[0], argv);
        int e = errno;
        char text[200];
        snprintf(text, sizeof(text), "executing %s: %s", argv[0], strerror(e));
        berth_sync_send(err_fd, BERTH_SYNC_ERROR, e, text);
        _exit(e == ENOENT ? 127 : 126);
}

_Noreturn void berth_exec_payload(char **argv, char **envp, const char *cwd, int sync_fd) {
        /* The sync socket is O_CLOEXEC: the runtime sees EOF once exec succeeds. */
        exec_or_die(argv, envp, cwd, sync_fd);
        _exit(127);
}

static void write_exit(int exit_fd, int code, int sig) {
        char buf[64];
        if (exit_fd < 0)
                return;
        int n = snprintf(buf, sizeof(buf), "EXIT_CODE=%d\nEXIT_SIGNAL=%d\n", code, sig);
        /* No fsync: the file lives under /run (a tmpfs on systemd hosts) and
         * only has to survive a restart of berthd, not of the machine. */
        /* PID 1 writes last and whole: whatever the container's root may
         * have scribbled into this file through /proc/1/fd is replaced. */
        (void) !pwrite(exit_fd, buf, (size_t) n, 0);
        (void) !ftruncate(exit_fd, n);
}

_Noreturn void berth_stub_init(char **argv, char **envp, const char *cwd, int sync_fd, int exit_fd) {
        sigset_t all, none;
        int errpipe[2];
        pid_t payload;

        /* A PID namespace's init ignores signals it has no handler for (even
         * when they come from the parent namespace, for some): install real
         * handlers, keep everything blocked and take signals synchronously. */
        sigfillset(&all);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++) {
                struct sigaction sa = { .sa_handler = noop_handler };
                sigaction(forwarded[i], &sa, NULL);
        }
        struct sigaction chld = { .sa_handler = noop_handler, .sa_flags = SA_NOCLDSTOP };
        sigaction(SIGCHLD, &chld, NULL);
        prctl(PR_SET_CHILD_SUBREAPER, 1);

        if (pipe2(errpipe, O_CLOEXEC) < 0) {
                berth_sync_send(sync_fd, BERTH_SYNC_ERROR, errno, "pipe2 in the stub init");
                _exit(127);
        }

        payload = fork();
        if (payload < 0) {
                berth_sync_send(sync_fd, BERTH_SYNC_ERROR, errno, "forking the payload");
                _exit(127);
        }
        if (payload == 0) {
                for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                        signal(forwarded[i], SIG_DFL);
                signal(SIGCHLD, SIG_DFL);
                sigprocmask(SIG_SETMASK, &none, NULL);
                close(errpipe[0]);
                if (setsid() >= 0 && isatty(STDIN_FILENO))
                        (void) ioctl(STDIN_FILENO, TIOCSCTTY, 0);
                exec_or_die(argv, envp, cwd, errpipe[1]);
        }

        close(errpipe[1]);
        BerthSyncMsg m;
        ssize_t k;
        do
                k = read(errpipe[0], &m, sizeof(m));
        while (k < 0 && errno == EINTR);
        close(errpipe[0]);
        if (k == (ssize_t) sizeof(m)) {
                /* exec failed: pass the child's message on, reap it, give up. */
                (void) !write(sync_fd, &m, sizeof(m));
                (void) waitpid(payload, NULL, 0);
                write_exit(exit_fd, 127, 0);
                _exit(127);
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
