/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * For unit tests that change the state of the process (capabilities, a
 * seccomp filter): run each case in a forked child, count CHECK() failures
 * there, and assert in the parent that the child exited 0.
 */

#include <glib.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                        \
        do {                                                                    \
                if (!(cond)) {                                                  \
                        fprintf(stderr, "FAIL %s:%d (%s): ", __FILE__, __LINE__, #cond); \
                        fprintf(stderr, __VA_ARGS__);                           \
                        fputc('\n', stderr);                                    \
                        failures++;                                             \
                }                                                               \
        } while (0)

typedef void (*ChildFunc)(const void *data);

/* Run f in a forked child; assert it exits 0 (no CHECK failed, no signal). */
static inline void run_in_child(ChildFunc f, const void *data) {
        int status;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                failures = 0;
                f(data);
                fflush(NULL);
                _exit(failures > 100 ? 100 : failures);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        if (WIFSIGNALED(status))
                g_error("child killed by signal %d", WTERMSIG(status));
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}
