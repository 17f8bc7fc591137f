/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The seccomp filter against the real kernel: every test that loads a filter
 * does so in a forked child (a filter cannot be removed), which reports each
 * failed expectation on stderr and exits with the number of failures.
 */
#include <errno.h>
#include <glib.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child-check.h"
#include "runtime.h"

static void load_or_die(const BerthSeccompProgram *p) {
        int r;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                fprintf(stderr, "FAIL: PR_SET_NO_NEW_PRIVS: %m\n");
                _exit(99);
        }
        r = berth_seccomp_load(p);
        if (r < 0) {
                fprintf(stderr, "FAIL: berth_seccomp_load: %s\n", strerror(-r));
                _exit(99);
        }
}

static void check_status_seccomp(void) {
        g_autofree char *status = NULL;

        CHECK(g_file_get_contents("/proc/self/status", &status, NULL, NULL), "read status");
        CHECK(status && strstr(status, "\nSeccomp:\t2\n"), "Seccomp mode 2 in /proc/self/status");
}

/* Call syscall nr with all arguments -1: should the filter not catch it, the
 * kernel rejects those arguments (EINVAL/EFAULT/EBADF/ESRCH/ENOSYS) before
 * doing anything. vhangup() takes no arguments; it is harmless because the
 * caller has no controlling terminal (setsid()). */
static long call_bogus(int nr) {
        errno = 0;
        return syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
}

static long raw_clone(unsigned long flags) {
        return syscall(SYS_clone, flags, 0L, NULL, NULL, 0L);
}

static void check_clone_flag(unsigned long flag, int expect_errno) {
        long r = raw_clone(flag | SIGCHLD);
        if (r == 0)
                _exit(0);
        if (r > 0) {
                waitpid(r, NULL, 0);
                CHECK(expect_errno == 0, "clone(0x%lx) succeeded, expected errno %d", flag, expect_errno);
                return;
        }
        CHECK(errno == expect_errno, "clone(0x%lx): errno %d (%s), expected %d", flag, errno,
              strerror(errno), expect_errno);
}

static void *thread_func(void *arg) {
        return arg;
}

#if defined(__x86_64__)
/* An i386 ABI syscall from a 64-bit process; the filter sees AUDIT_ARCH_I386. */
static long int80(long nr, long a, long b, long c) {
        long ret;
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(-1L), "D"(-1L)
                         : "memory", "r8", "r9", "r10", "r11");
        return ret;
}
static bool have_ia32(void) {
        return int80(20 /* getpid */, 0, 0, 0) == getpid();
}
#endif

static const unsigned long ns_flags[] = {
        CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

static void child_default(const void *data) {
        const BerthSeccompProgram *p = data;
        unsigned checked = 0;
        struct utsname u;
        pthread_t t;
        int status;
        pid_t pid;

        setsid();
        load_or_die(p);
        check_status_seccomp();

        for (const char *const *n = berth_seccomp_default_denylist(); *n; n++) {
                if (strcmp(*n, "clone") == 0 || strcmp(*n, "clone3") == 0 || strcmp(*n, "personality") == 0)
                        continue;
                int nr = seccomp_syscall_resolve_name(*n);
                if (nr < 0)
                        continue; /* not a native syscall (umount, vm86...) */
                long r = call_bogus(nr);
                CHECK(r == -1 && errno == EPERM, "%s: r=%ld errno=%d (%s)", *n, r, errno, strerror(errno));
                checked++;
        }
        CHECK(checked >= 55, "only %u denied syscalls checked", checked);

        /* clone with namespace flags */
        for (size_t i = 0; i < G_N_ELEMENTS(ns_flags); i++)
                check_clone_flag(ns_flags[i], EPERM);

        /* clone3 gives ENOSYS so that glibc falls back to clone */
        errno = 0;
        CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS, "clone3 errno %d", errno);

        /* ...and plain fork() and threads still work */
        pid = fork();
        if (pid == 0)
                _exit(7);
        CHECK(pid > 0, "fork: %m");
        if (pid > 0) {
                CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
                      "fork child status");
        }
        int rc = pthread_create(&t, NULL, thread_func, NULL);
        CHECK(rc == 0, "pthread_create: %s", strerror(rc));
        if (rc == 0)
                pthread_join(t, NULL);

        /* personality: standard values pass, others do not */
        CHECK(personality(0xffffffff) >= 0, "personality query: %m");
        CHECK(personality(PER_LINUX) >= 0, "personality(PER_LINUX): %m");
        CHECK(personality(PER_LINUX32) >= 0, "personality(PER_LINUX32): %m");
        CHECK(personality(UNAME26) >= 0, "personality(UNAME26): %m");
        CHECK(personality(UNAME26 | PER_LINUX32) >= 0, "personality(UNAME26|PER_LINUX32): %m");
        CHECK((personality(0xffffffff) & 0xffffffff) == (UNAME26 | PER_LINUX32), "personality set");
        CHECK(personality(PER_LINUX) >= 0, "personality(PER_LINUX): %m");
        errno = 0;
        CHECK(personality(PER_BSD) == -1 && errno == EPERM, "PER_BSD errno %d", errno);
        errno = 0;
        CHECK(personality(0x7fffffff) == -1 && errno == EPERM, "0x7fffffff errno %d", errno);
        errno = 0;
        CHECK(personality(0xfffffffe) == -1 && errno == EPERM, "0xfffffffe errno %d", errno);
        errno = 0;
        CHECK(personality(ADDR_NO_RANDOMIZE) == -1 && errno == EPERM, "ADDR_NO_RANDOMIZE errno %d", errno);
        errno = 0;
        CHECK(personality(READ_IMPLIES_EXEC) == -1 && errno == EPERM, "READ_IMPLIES_EXEC errno %d", errno);
        errno = 0;
        CHECK(personality(0x80040000UL) == -1 && errno == EPERM, "0x80040000 errno %d", errno);
        errno = 0;
        CHECK(syscall(SYS_personality, 0x100040000UL) == -1 && errno == EPERM, "0x100040000 errno %d", errno);
        CHECK((personality(0xffffffff) & 0xffffffff) == PER_LINUX, "personality unchanged");

        /* harmless syscalls are untouched */
        CHECK(uname(&u) == 0, "uname: %m");
        CHECK(getpid() > 0, "getpid");

#if defined(__x86_64__)
        if (have_ia32()) {
                /* i386 numbers: umount 22, unshare 310, personality 136, getpid 20 */
                CHECK(int80(22, 0, 0, 0) == -EPERM, "i386 umount");
                CHECK(int80(310, -1, 0, 0) == -EPERM, "i386 unshare");
                CHECK(int80(136, ADDR_NO_RANDOMIZE, 0, 0) == -EPERM, "i386 personality");
                CHECK(int80(20, 0, 0, 0) == getpid(), "i386 getpid");

                /* every denied name with its i386 number, including i386-only ones */
                unsigned n32 = 0;
                for (const char *const *n = berth_seccomp_default_denylist(); *n; n++) {
                        if (strcmp(*n, "clone") == 0 || strcmp(*n, "clone3") == 0 ||
                            strcmp(*n, "personality") == 0)
                                continue;
                        int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, *n);
                        if (nr < 0)
                                continue;
                        long r = int80(nr, -1, -1, -1);
                        CHECK(r == -EPERM, "i386 %s (%d): %ld", *n, nr, r);
                        n32++;
                }
                CHECK(n32 >= 60, "only %u i386 syscalls checked", n32);
                /* i386 clone: flags in ebx */
                long cr = int80(120, CLONE_NEWUSER | SIGCHLD, 0, 0);
                if (cr == 0)
                        _exit(0);
                CHECK(cr == -EPERM, "i386 clone(CLONE_NEWUSER): %ld", cr);
                CHECK(int80(435, 0, 0, 0) == -ENOSYS, "i386 clone3");
        } else
                fprintf(stderr, "# no ia32 emulation, i386 rules not exercised\n");
#endif
}

/* The same probes without a filter: proves they tell a filter from none. */
static void child_control(const void *data) {
        errno = 0;
        CHECK(syscall(SYS_unshare, -1L) == -1 && errno == EINVAL, "unshare(-1) errno %d", errno);
        errno = 0;
        CHECK(syscall(SYS_setns, -1L, 0L) == -1 && errno == EBADF, "setns(-1) errno %d", errno);
        errno = 0;
        CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == EINVAL, "clone3(NULL) errno %d", errno);
        CHECK(personality(ADDR_NO_RANDOMIZE) >= 0, "personality(ADDR_NO_RANDOMIZE): %m");
        CHECK((personality(0xffffffff) & ADDR_NO_RANDOMIZE) != 0, "ADDR_NO_RANDOMIZE set");
        CHECK(personality(PER_LINUX) >= 0, "reset");
#if defined(__x86_64__)
        if (have_ia32())
                CHECK(int80(310, -1, 0, 0) == -EINVAL, "i386 unshare(-1)");
#endif
}

static void child_variant(const void *data) {
        const BerthSeccompProgram *p = data;
        struct utsname u;

        setsid();
        load_or_die(p);
        check_status_seccomp();

        /* allowed: unshare, personality, clone */
        errno = 0;
        CHECK(syscall(SYS_unshare, -1L) == -1 && errno == EINVAL, "allowed unshare errno %d", errno);
        CHECK(personality(ADDR_NO_RANDOMIZE) >= 0, "allowed personality: %m");
        CHECK(personality(PER_LINUX) >= 0, "reset personality");
        if (getuid() == 0)
                check_clone_flag(CLONE_NEWUTS, 0);

        /* still denied */
        errno = 0;
        CHECK(syscall(SYS_setns, -1L, 0L) == -1 && errno == EPERM, "setns errno %d", errno);
        errno = 0;
        CHECK(syscall(SYS_mount, NULL, NULL, NULL, 0L, NULL) == -1 && errno == EPERM, "mount errno %d", errno);

        /* extra denied: uname, and clone3 explicitly (EPERM, not ENOSYS) */
        errno = 0;
        CHECK(uname(&u) == -1 && errno == EPERM, "uname errno %d", errno);
        errno = 0;
        CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == EPERM, "clone3 errno %d", errno);
        CHECK(getpid() > 0, "getpid");
}

static void test_default_enforced(void) {
        const BerthSeccompProgram *p = NULL;

        g_assert_cmpint(berth_seccomp_compile(NULL, NULL, &p), ==, 0);
        g_assert_nonnull(p);
        run_in_child(child_control, NULL);
        run_in_child(child_default, p);
}

/* Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses a filter:
 * the caller must set PR_SET_NO_NEW_PRIVS (or load while still privileged). */
static void child_needs_nnp(const void *data) {
        const BerthSeccompProgram *p = data;
        int r;

        if (geteuid() == 0)
                CHECK(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0,
                      "drop to nobody: %m");
        r = berth_seccomp_load(p);
        CHECK(r == -EACCES, "load without NNP: %d", r);
        CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "NNP: %m");
        r = berth_seccomp_load(p);
        CHECK(r == 0, "load with NNP: %d", r);
        check_status_seccomp();
}

static void test_needs_nnp(void) {
        const BerthSeccompProgram *p = NULL;

        g_assert_cmpint(berth_seccomp_compile(NULL, NULL, &p), ==, 0);
        run_in_child(child_needs_nnp, p);
}

static void test_variant_enforced(void) {
        char *allow[] = { "unshare", "personality", "clone", NULL };
        char *deny[] = { "uname", "clone3", NULL };
        const BerthSeccompProgram *p = NULL;

        g_assert_cmpint(berth_seccomp_compile(allow, deny, &p), ==, 0);
        run_in_child(child_variant, p);
}

/* SystemCallDeny=personality: no value passes, the query neither. */
static void child_personality_denied(const void *data) {
        const BerthSeccompProgram *p = data;

        setsid();
        load_or_die(p);
        errno = 0;
        CHECK(personality(PER_LINUX) == -1 && errno == EPERM, "PER_LINUX errno %d", errno);
        errno = 0;
        CHECK(personality(0xffffffff) == -1 && errno == EPERM, "query errno %d", errno);
#if defined(__x86_64__)
        if (have_ia32())
                CHECK(int80(136, 0xffffffff, 0, 0) == -EPERM, "i386 personality query");
#endif
        CHECK(getpid() > 0, "getpid");
}

static void test_personality_denied(void) {
        char *deny[] = { "personality", NULL };
        const BerthSeccompProgram *p = NULL;

        g_assert_cmpint(berth_seccomp_compile(NULL, deny, &p), ==, 0);
        run_in_child(child_personality_denied, p);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void test_cache(void) {
        char *allow1[] = { "acct", "mount", NULL };
        char *allow2[] = { "mount", "acct", "mount", NULL }; /* same set */
        char *deny1[] = { "getcwd", NULL };
        const BerthSeccompProgram *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        uint64_t t0, t1, t2;

        t0 = now_usec();
        g_assert_cmpint(berth_seccomp_compile(allow1, deny1, &a), ==, 0);
        t1 = now_usec();
        g_assert_cmpint(berth_seccomp_compile(allow2, deny1, &b), ==, 0);
        t2 = now_usec();
        g_test_message("compile %" G_GUINT64_FORMAT " usec, cache hit %" G_GUINT64_FORMAT " usec",
                       t1 - t0, t2 - t1);
        g_assert_true(a == b);
        g_assert_cmpuint(t2 - t1, <, t1 - t0);

        /* allow and deny are different keys */
        g_assert_cmpint(berth_seccomp_compile(deny1, allow1, &c), ==, 0);
        g_assert_true(c != a);
        g_assert_cmpint(berth_seccomp_compile(NULL, deny1, &d), ==, 0);
        g_assert_true(d != a && d != c);

        /* empty lists and NULL are the same set */
        char *empty[] = { NULL };
        g_assert_cmpint(berth_seccomp_compile(NULL, NULL, &a), ==, 0);
        g_assert_cmpint(berth_seccomp_compile(empty, empty, &b), ==, 0);
        g_assert_true(a == b);
}

static void test_invalid(void) {
        char *bad1[] = { "mount", "no_such_syscall", NULL };
        char *bad2[] = { "mount\n", NULL };
        char *bad3[] = { "", NULL };
        const BerthSeccompProgram *p = NULL;

        g_assert_cmpint(berth_seccomp_compile(bad1, NULL, &p), ==, -EINVAL);
        g_assert_cmpint(berth_seccomp_compile(NULL, bad1, &p), ==, -EINVAL);
        g_assert_cmpint(berth_seccomp_compile(bad2, NULL, &p), ==, -EINVAL);
        g_assert_cmpint(berth_seccomp_compile(NULL, bad3, &p), ==, -EINVAL);
        g_assert_null(p);
        /* still invalid the second time (not cached) */
        g_assert_cmpint(berth_seccomp_compile(bad1, NULL, &p), ==, -EINVAL);
        g_assert_cmpint(berth_seccomp_load(NULL), ==, -EINVAL);
}

static void test_known(void) {
        g_assert_true(berth_seccomp_syscall_known("mount"));
        g_assert_true(berth_seccomp_syscall_known("clone3"));
        g_assert_true(berth_seccomp_syscall_known("umount")); /* i386 only, still a name */
        g_assert_false(berth_seccomp_syscall_known("no_such_syscall"));
        g_assert_false(berth_seccomp_syscall_known(""));
        g_assert_false(berth_seccomp_syscall_known(NULL));
}

static void test_denylist(void) {
        const char *const *l = berth_seccomp_default_denylist();
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        const char *must[] = { "mount", "umount2", "unshare", "setns", "pivot_root", "keyctl", "bpf",
                               "kexec_load", "init_module", "reboot", "open_by_handle_at", "io_uring_setup",
                               "fsopen", "move_mount", "userfaultfd", "perf_event_open", "clone", "clone3",
                               "personality" };
        size_t n = 0;

        for (; l[n]; n++) {
                g_assert_true(berth_seccomp_syscall_known(l[n]));
                g_assert_false(g_hash_table_contains(seen, l[n])); /* no duplicates */
                g_hash_table_add(seen, (gpointer) l[n]);
        }
        g_assert_cmpuint(n, >=, 60);
        for (size_t i = 0; i < G_N_ELEMENTS(must); i++)
                g_assert_true(g_hash_table_contains(seen, must[i]));
        g_assert_false(g_hash_table_contains(seen, "chroot"));
        g_assert_false(g_hash_table_contains(seen, "adjtimex"));
        g_assert_false(g_hash_table_contains(seen, "pidfd_getfd"));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/seccomp/known", test_known);
        g_test_add_func("/seccomp/denylist", test_denylist);
        g_test_add_func("/seccomp/personality-denied", test_personality_denied);
        g_test_add_func("/seccomp/invalid", test_invalid);
        g_test_add_func("/seccomp/cache", test_cache);
        g_test_add_func("/seccomp/default-enforced", test_default_enforced);
        g_test_add_func("/seccomp/variant-enforced", test_variant_enforced);
        g_test_add_func("/seccomp/needs-nnp", test_needs_nnp);
        return g_test_run();
}
