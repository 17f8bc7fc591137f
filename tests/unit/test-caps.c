/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capability sets against the real kernel. berth_caps_apply() runs in forked
 * children (it cannot be undone); they report failed expectations on stderr
 * and exit with the number of failures. Needs root; CI runs as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child-check.h"
#include "runtime.h"

#define BIT(c) (UINT64_C(1) << (c))

static uint64_t status_field(const char *status, const char *field) {
        g_autofree char *needle = g_strdup_printf("\n%s:\t", field);
        const char *p = strstr(status, needle);

        if (!p)
                return UINT64_MAX;
        return g_ascii_strtoull(p + strlen(needle), NULL, 16);
}

static char *read_status(void) {
        char *s = NULL;
        if (!g_file_get_contents("/proc/self/status", &s, NULL, NULL))
                return NULL;
        return s;
}

static uint64_t host_bounding, host_permitted;
static char *tmpdir;

static const uint64_t expected_default =
        BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FOWNER) | BIT(CAP_FSETID) | BIT(CAP_KILL) |
        BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETPCAP) | BIT(CAP_NET_BIND_SERVICE) |
        BIT(CAP_NET_RAW) | BIT(CAP_SYS_CHROOT) | BIT(CAP_SETFCAP) | BIT(CAP_AUDIT_WRITE);

static void test_default(void) {
        uint64_t d = berth_caps_default();

        g_assert_cmphex(d, ==, expected_default);
        g_assert_cmpint(__builtin_popcountll(d), ==, 13);
        g_assert_false(d & BIT(CAP_MKNOD));
        g_assert_false(d & BIT(CAP_SYS_ADMIN));
        g_assert_false(d & BIT(CAP_NET_ADMIN));
        g_assert_false(d & BIT(CAP_SYS_PTRACE));
        g_assert_false(d & BIT(CAP_DAC_READ_SEARCH));
}

static void test_effective(void) {
        BerthConfig cfg = {};

        g_assert_cmphex(berth_caps_effective(&cfg), ==, expected_default);
        cfg.capability_add = BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN);
        cfg.capability_drop = BIT(CAP_NET_RAW) | BIT(CAP_NET_ADMIN); /* drop wins */
        g_assert_cmphex(berth_caps_effective(&cfg), ==,
                        (expected_default | BIT(CAP_SYS_ADMIN)) & ~BIT(CAP_NET_RAW));
        cfg.capability_add = 0;
        cfg.capability_drop = UINT64_MAX;
        g_assert_cmphex(berth_caps_effective(&cfg), ==, 0);
}

static void test_last_cap(void) {
        g_autofree char *s = NULL;
        int last = berth_caps_last_cap();

        g_assert_true(g_file_get_contents("/proc/sys/kernel/cap_last_cap", &s, NULL, NULL));
        g_assert_cmpint(last, ==, atoi(s));
        g_assert_cmpint(last, >=, CAP_AUDIT_READ); /* 37, since 3.16 */
        g_assert_cmpint(prctl(PR_CAPBSET_READ, (unsigned long) last, 0, 0, 0), >=, 0);
        g_assert_cmpint(prctl(PR_CAPBSET_READ, (unsigned long) last + 1, 0, 0, 0), ==, -1);
        g_assert_cmpint(errno, ==, EINVAL);
        g_assert_cmpint(berth_caps_last_cap(), ==, last); /* cached */
}

/* exec cat /proc/self/status into path: what the payload really gets */
static int exec_status_to(const char *path) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
                        _exit(126);
                execl("/bin/cat", "cat", "/proc/self/status", (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        return 0;
}

typedef struct ApplyCase {
        uint64_t mask;
        bool root;
        const char *tag; /* unique per case, for file names */
} ApplyCase;

static void child_apply(const void *data) {
        const ApplyCase *c = data;
        g_autofree char *status = NULL, *after_exec = NULL, *secret = NULL, *chowned = NULL,
                        *exec_out = NULL;
        uint64_t bnd = c->mask & host_bounding, prm = c->mask & host_permitted;
        int r;

        secret = g_build_filename(tmpdir, "secret", NULL);
        chowned = g_strdup_printf("%s/chown-%s", tmpdir, c->tag);
        exec_out = g_strdup_printf("%s/exec-%s", tmpdir, c->tag);

        /* Put CAP_CHOWN into the inheritable and ambient sets, to see them cleared. */
        {
                struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
                struct __user_cap_data_struct d[2] = {};
                CHECK(syscall(SYS_capget, &h, d) == 0, "capget: %m");
                d[0].inheritable |= BIT(CAP_CHOWN);
                CHECK(syscall(SYS_capset, &h, d) == 0, "capset: %m");
                CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0) == 0, "ambient raise: %m");
                g_autofree char *s = read_status();
                CHECK(status_field(s, "CapAmb") == BIT(CAP_CHOWN), "ambient set up");
        }

        if (!c->root) {
                CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0, "KEEPCAPS: %m");
                CHECK(setgroups(0, NULL) == 0, "setgroups: %m");
                CHECK(setresgid(65534, 65534, 65534) == 0, "setresgid: %m");
                CHECK(setresuid(65534, 65534, 65534) == 0, "setresuid: %m");
                g_autofree char *s = read_status();
                CHECK(status_field(s, "CapEff") == 0, "effective empty after setuid");
                CHECK(status_field(s, "CapPrm") == host_permitted, "permitted kept by KEEPCAPS");
        }

        r = berth_caps_apply(c->mask, c->root);
        CHECK(r == 0, "berth_caps_apply: %s", strerror(-r));

        status = read_status();
        CHECK(status_field(status, "CapBnd") == bnd, "CapBnd %" G_GINT64_MODIFIER "x want %" G_GINT64_MODIFIER "x",
              status_field(status, "CapBnd"), bnd);
        CHECK(status_field(status, "CapAmb") == 0, "CapAmb %" G_GINT64_MODIFIER "x",
              status_field(status, "CapAmb"));
        if (c->root) {
                CHECK(status_field(status, "CapPrm") == prm, "CapPrm %" G_GINT64_MODIFIER "x",
                      status_field(status, "CapPrm"));
                CHECK(status_field(status, "CapEff") == prm, "CapEff %" G_GINT64_MODIFIER "x",
                      status_field(status, "CapEff"));
                CHECK(status_field(status, "CapInh") == prm, "CapInh %" G_GINT64_MODIFIER "x",
                      status_field(status, "CapInh"));
        } else {
                CHECK(status_field(status, "CapPrm") == 0, "CapPrm %" G_GINT64_MODIFIER "x",
                      status_field(status, "CapPrm"));
                CHECK(status_field(status, "CapEff") == 0, "CapEff %" G_GINT64_MODIFIER "x",
                      status_field(status, "CapEff"));
                CHECK(status_field(status, "CapInh") == 0, "CapInh %" G_GINT64_MODIFIER "x",
                      status_field(status, "CapInh"));
        }
        CHECK(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == !!(bnd & BIT(CAP_SYS_ADMIN)),
              "SYS_ADMIN bounding");

        /* Behaviour: DAC_OVERRIDE decides whether a mode 000 file opens. */
        int fd = open(secret, O_RDONLY | O_CLOEXEC);
        bool want_open = c->root && (prm & BIT(CAP_DAC_OVERRIDE));
        CHECK(want_open ? fd >= 0 : (fd < 0 && errno == EACCES), "open mode 000 file: fd %d %m", fd);
        if (fd >= 0)
                close(fd);

        /* CHOWN: giving a file away */
        if (c->root) {
                fd = open(chowned, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                CHECK(fd >= 0, "create: %m");
                if (fd >= 0) {
                        bool want_chown = prm & BIT(CAP_CHOWN);
                        int k = fchown(fd, 4242, 4242);
                        CHECK(want_chown ? k == 0 : (k < 0 && errno == EPERM), "fchown: %d %m", k);
                        close(fd);
                }
        } else
                CHECK(setuid(0) < 0 && errno == EPERM, "setuid(0) must fail");

        /* After execve: root keeps the mask through the bounding set, a
         * non-root uid gets nothing. */
        r = exec_status_to(exec_out);
        CHECK(r == 0, "exec cat: %s", strerror(-r));
        if (r == 0) {
                CHECK(g_file_get_contents(exec_out, &after_exec, NULL, NULL), "read exec output");
                uint64_t want = c->root ? prm : 0;
                CHECK(status_field(after_exec, "CapEff") == want, "exec CapEff %" G_GINT64_MODIFIER "x want %" G_GINT64_MODIFIER "x",
                      status_field(after_exec, "CapEff"), want);
                CHECK(status_field(after_exec, "CapPrm") == want, "exec CapPrm");
                CHECK(status_field(after_exec, "CapBnd") == bnd, "exec CapBnd");
                CHECK(status_field(after_exec, "CapAmb") == 0, "exec CapAmb");
        }
}

/* Applying capabilities needs root. A developer may run the unit tier as
 * a user and get these skipped; in CI (CI=true) a skip would hide a tier, so
 * it is a failure. */
static bool need_root(void) {
        if (geteuid() == 0)
                return true;
        if (g_strcmp0(g_getenv("CI"), "true") == 0)
                g_test_fail_printf("needs root, and CI=true does not allow skipping");
        else
                g_test_skip("needs root");
        return false;
}

static void test_apply_root_default(void) {
        ApplyCase c = { berth_caps_default(), true, "root-default" };
        if (need_root())
                run_in_child(child_apply, &c);
}

static void test_apply_root_reduced(void) {
        ApplyCase c = { (berth_caps_default() & ~BIT(CAP_DAC_OVERRIDE) & ~BIT(CAP_CHOWN)) | BIT(CAP_SYS_PTRACE), true, "root-reduced" };
        if (need_root())
                run_in_child(child_apply, &c);
}

static void test_apply_root_beyond_last(void) {
        /* bits past cap_last_cap are ignored, not an error */
        ApplyCase c = { berth_caps_default() | BIT(62), true, "root-beyond" };
        if (need_root())
                run_in_child(child_apply, &c);
}

static void test_apply_nonroot(void) {
        ApplyCase c = { berth_caps_default(), false, "user" };
        if (need_root())
                run_in_child(child_apply, &c);
}

int main(int argc, char **argv) {
        g_autofree char *status = NULL, *secret = NULL;
        int r;

        g_test_init(&argc, &argv, NULL);

        berth_caps_last_cap(); /* cache, as berthd does before clone */
        status = read_status();
        g_assert_nonnull(status);
        host_bounding = status_field(status, "CapBnd");
        host_permitted = status_field(status, "CapPrm");

        tmpdir = g_dir_make_tmp("berth-test-caps-XXXXXX", NULL);
        g_assert_nonnull(tmpdir);
        g_assert_cmpint(chmod(tmpdir, 01777), ==, 0);
        secret = g_build_filename(tmpdir, "secret", NULL);
        g_assert_true(g_file_set_contents(secret, "x", 1, NULL));
        g_assert_cmpint(chmod(secret, 0), ==, 0);

        g_test_add_func("/caps/default", test_default);
        g_test_add_func("/caps/effective", test_effective);
        g_test_add_func("/caps/last-cap", test_last_cap);
        g_test_add_func("/caps/apply-root-default", test_apply_root_default);
        g_test_add_func("/caps/apply-root-reduced", test_apply_root_reduced);
        g_test_add_func("/caps/apply-root-beyond-last", test_apply_root_beyond_last);
        g_test_add_func("/caps/apply-nonroot", test_apply_nonroot);
        r = g_test_run();

        g_autoptr(GDir) d = g_dir_open(tmpdir, 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(tmpdir, n, NULL);
                g_unlink(p);
        }
        g_rmdir(tmpdir);
        g_free(tmpdir);
        return r;
}
