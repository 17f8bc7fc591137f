/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host tier: the runtime library's lifecycle, driven directly. Each phase is
 * abandoned on purpose (free right after new, after clone, after release,
 * after a setup failure in the parent, in the child, at exec) and the test
 * checks that no fd, mount, process or directory is left behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host-fixture.h"
#include "runtime.h"


static unsigned count_dir(const char *path) {
        DIR *d = opendir(path);
        unsigned n = 0;
        if (!d)
                return 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static unsigned count_fds(void) {
        return count_dir("/proc/self/fd");
}

static unsigned count_mounts(void) {
        g_autofree char *s = NULL;
        g_assert_true(g_file_get_contents("/proc/self/mountinfo", &s, NULL, NULL));
        unsigned n = 0;
        for (const char *p = s; *p; p++)
                n += *p == '\n';
        return n;
}

/* Children of this process that are still around (zombies included). */
static unsigned count_children(void) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%d/children", getpid());
        g_autofree char *s = NULL;
        if (!g_file_get_contents(path, &s, NULL, NULL))
                return 0;
        g_auto(GStrv) v = g_strsplit(g_strstrip(s), " ", -1);
        unsigned n = 0;
        for (size_t i = 0; v[i]; i++)
                n += v[i][0] != 0;
        return n;
}

static BerthConfig *make_config(const char *name, const char *const *extra) {
        BerthConfig *c = berth_config_new(name);
        g_autoptr(GError) e = NULL;
        g_assert_cmpint(berth_config_set(c, "Rootfs", "Directory", rootfs, "test", &e), >=, 0);
        g_assert_cmpint(berth_config_set(c, "Rootfs", "Ephemeral", "yes", "test", &e), >=, 0);
        g_assert_cmpint(berth_config_set(c, "Network", "Mode", "none", "test", &e), >=, 0);
        for (size_t i = 0; extra && extra[i]; i += 3)
                g_assert_cmpint(berth_config_set(c, extra[i], extra[i + 1], extra[i + 2], "test", &e), >=, 0);
        g_assert_cmpint(berth_config_finalize(c, &e), >=, 0);
        return c;
}

typedef struct Baseline {
        unsigned fds, mounts, children, runs;
} Baseline;

static Baseline baseline(void) {
        return (Baseline) { count_fds(), count_mounts(), count_children(), count_dir(run_base) };
}

static void assert_clean(const Baseline *b) {
        g_assert_cmpuint(count_fds(), ==, b->fds);
        g_assert_cmpuint(count_mounts(), ==, b->mounts);
        g_assert_cmpuint(count_children(), ==, b->children);
        g_assert_cmpuint(count_dir(run_base), ==, b->runs);
}

static void test_repeated_runs(void) {
        const char *const cmd[] = { "Container", "Command", "/bin/true", NULL };
        g_autoptr(BerthConfig) cfg = make_config("rep", cmd);
        Baseline b = baseline();
        for (int i = 0; i < 20; i++) {
                BerthExit ex = {};
                g_autofree char *msg = NULL;
                g_assert_cmpint(berth_container_run(cfg, run_base, state_base, &ex, &msg), ==, 0);
                g_assert_cmpint(ex.code, ==, 0);
                g_assert_cmpuint(ex.ready_usec, >=, ex.started_usec);
                g_assert_cmpuint(ex.exited_usec, >=, ex.ready_usec);
        }
        assert_clean(&b);
}

static void test_exit_and_signal(void) {
        const char *const e42[] = { "Container", "Command", "/bin/sh -c 'exit 42'", NULL };
        const char *const kill9[] = { "Container", "Command", "/bin/sh -c 'kill -9 $$'", NULL };
        g_autoptr(BerthConfig) a = make_config("ex1", e42);
        g_autoptr(BerthConfig) k = make_config("ex2", kill9);
        BerthExit ex = {};
        g_assert_cmpint(berth_container_run(a, run_base, state_base, &ex, NULL), ==, 0);
        g_assert_cmpint(ex.code, ==, 42);
        g_assert_cmpint(ex.signal, ==, 0);
        g_assert_cmpint(berth_container_run(k, run_base, state_base, &ex, NULL), ==, 0);
        g_assert_cmpint(ex.code, ==, 137);
        g_assert_cmpint(ex.signal, ==, SIGKILL);
}

/* The overlay path Linux 6.1 needs: ephemeral upper and idmapped lowers
 * attached in a helper's private mount namespace. */
static void test_attached_layers(void) {
        const char *const eph[] = { "Container", "Command", "/bin/sh -c 'touch /new && test -f /etc/passwd'", NULL };
        const char *const userns[] = {
                "Container", "Command", "/bin/sh -c 'touch /new && test \"$(stat -c %u /bin/busybox)\" = 0'",
                "Security", "PrivateUsers", "700000:65536", NULL };
        g_autoptr(BerthConfig) a = make_config("att1", eph);
        g_autoptr(BerthConfig) u = make_config("att2", userns);
        Baseline b = baseline();
        BerthExit ex = {};
        g_autofree char *msg = NULL, *msg2 = NULL;

        berth_runtime_force_attached_layers(true);
        g_assert_cmpint(berth_container_run(a, run_base, state_base, &ex, &msg), ==, 0);
        g_assert_cmpint(ex.code, ==, 0);
        g_assert_cmpint(berth_container_run(u, run_base, state_base, &ex, &msg2), ==, 0);
        g_assert_cmpint(ex.code, ==, 0);
        berth_runtime_force_attached_layers(false);
        assert_clean(&b);
}

/* The container's root can reach PID 1's exit-status file through
 * /proc/1/fd; what PID 1 writes at the end must be what a restarted daemon
 * reads, not what the container scribbled there. */
static void test_exit_file_not_forgeable(void) {
        const char *const cmd[] = {
                "Container", "Command",
                "/bin/sh -c 'for f in /proc/1/fd/*; do case $(readlink $f) in */exit) "
                "printf \"EXIT_CODE=0\\nEXIT_SIGNAL=0\\n%0200d\\n\" 0 > $f;; esac; done; exit 7'",
                NULL };
        g_autoptr(BerthConfig) cfg = make_config("forge", cmd);
        BerthContainer *c = NULL;
        BerthExit ex = {}, fromfile = {};
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &c), ==, 0);
        g_assert_cmpint(berth_container_clone(c), ==, 0);
        g_assert_cmpint(berth_container_release(c), ==, 0);
        g_assert_cmpint(berth_container_wait_ready(c), ==, 0);
        g_assert_cmpint(berth_container_wait(c, &ex), ==, 0);
        g_assert_cmpint(ex.code, ==, 7);
        g_assert_cmpint(berth_container_read_exit_file(c->run_dir, &fromfile), ==, 0);
        g_assert_cmpint(fromfile.code, ==, 7);
        g_autofree char *p = g_build_filename(c->run_dir, "exit", NULL);
        g_autofree char *data = NULL;
        g_assert_true(g_file_get_contents(p, &data, NULL, NULL));
        g_assert_cmpstr(data, ==, "EXIT_CODE=7\nEXIT_SIGNAL=0\n");
        berth_container_free(c);
}

static void test_abandon_after_new(void) {
        g_autoptr(BerthConfig) cfg = make_config("ab1", NULL);
        Baseline b = baseline();
        BerthContainer *c = NULL;
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &c), ==, 0);
        berth_container_free(c);
        assert_clean(&b);
}

static void test_abandon_after_clone(void) {
        g_autoptr(BerthConfig) cfg = make_config("ab2", NULL);
        Baseline b = baseline();
        BerthContainer *c = NULL;
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &c), ==, 0);
        g_assert_cmpint(berth_container_clone(c), ==, 0);
        g_assert_cmpint(c->pid, >, 0);
        pid_t pid = c->pid;
        berth_container_free(c);
        g_assert_cmpint(kill(pid, 0), <, 0);
        assert_clean(&b);
}

static void test_abandon_running(void) {
        const char *const cmd[] = { "Container", "Command", "/bin/sh -c 'sleep 100 & sleep 100 & wait'", NULL };
        g_autoptr(BerthConfig) cfg = make_config("ab3", cmd);
        Baseline b = baseline();
        BerthContainer *c = NULL;
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &c), ==, 0);
        g_assert_cmpint(berth_container_clone(c), ==, 0);
        g_assert_cmpint(berth_container_release(c), ==, 0);
        g_assert_cmpint(berth_container_wait_ready(c), ==, 0);
        g_assert_cmpint(c->phase, ==, BERTH_PHASE_RUNNING);
        g_autofree char *nspath = g_strdup_printf("/proc/%d/ns/pid", c->pid);
        char ns[64] = "";
        g_assert_cmpint(readlink(nspath, ns, sizeof(ns) - 1), >, 0);
        berth_container_free(c); /* kills PID 1: the whole PID namespace goes */
        assert_clean(&b);
        /* No process anywhere is left in that PID namespace. */
        g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
        const char *e;
        while ((e = g_dir_read_name(d))) {
                if (!g_ascii_isdigit(e[0]))
                        continue;
                g_autofree char *p = g_strdup_printf("/proc/%s/ns/pid", e);
                char other[64] = "";
                if (readlink(p, other, sizeof(other) - 1) > 0)
                        g_assert_cmpstr(other, !=, ns);
        }
}

static void test_fail_in_parent(void) {
        g_autofree char *missing = g_build_filename(workdir, "no-such-dir", NULL);
        g_autofree char *bind = g_strdup_printf("%s:/x", missing);
        const char *const extra[] = { "Files", "Bind", bind, NULL };
        g_autoptr(BerthConfig) cfg = make_config("fp", extra);
        Baseline b = baseline();
        BerthContainer *c = NULL;
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &c), ==, 0);
        g_assert_cmpint(berth_container_clone(c), <, 0);
        g_assert_nonnull(strstr(c->error_message, "no-such-dir"));
        berth_container_free(c);
        assert_clean(&b);
}

/* The network namespace the runtime hands out between clone and release (for
 * the daemon's network setup) is the one the container then runs in, and the
 * child enters it only at GO, not before. */
static void test_netns_handed_over(void) {
        const char *const cmd[] = { "Container", "Command", "/bin/sleep 100", NULL };
        g_autoptr(BerthConfig) cfg = make_config("netns", cmd);
        Baseline b = baseline();
        BerthContainer *c = NULL;
        struct stat given, inside, host;
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &c), ==, 0);
        g_assert_cmpint(berth_container_open_netns(c), ==, -EBUSY); /* not cloned yet */
        g_assert_cmpint(berth_container_clone(c), ==, 0);
        int fd = berth_container_open_netns(c);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fstat(fd, &given), ==, 0);
        g_assert_cmpint(stat("/proc/self/ns/net", &host), ==, 0);
        g_assert_cmpuint(given.st_ino, !=, host.st_ino);
        g_assert_cmpint(berth_container_release(c), ==, 0);
        g_assert_cmpint(berth_container_wait_ready(c), ==, 0);
        g_autofree char *p = g_strdup_printf("/proc/%d/ns/net", (int) c->pid);
        g_assert_cmpint(stat(p, &inside), ==, 0);
        g_assert_cmpuint(inside.st_ino, ==, given.st_ino);
        close(fd);
        berth_container_free(c);
        assert_clean(&b);
}

/* A child that fails while the caller is still between clone and release
 * (the daemon waiting for its scope) dies with its reason on the sync socket:
 * reaping it keeps that reason. Here the image's /dev is a file, so the
 * child cannot mount its /dev while it builds the root. */
static void test_fail_before_release(void) {
        g_autofree char *layer = g_build_filename(workdir, "dev-is-a-file", NULL);
        g_autofree char *devfile = g_build_filename(layer, "dev", NULL);
        g_autofree char *layers = g_strdup_printf("%s %s", rootfs, layer);
        g_assert_cmpint(g_mkdir_with_parents(layer, 0755), ==, 0);
        g_assert_true(g_file_set_contents(devfile, "", 0, NULL));
        const char *const extra[] = { "Rootfs", "Directory", "", "Rootfs", "Layers", layers, NULL };
        g_autoptr(BerthConfig) cfg = make_config("fbr", extra);
        Baseline b = baseline();
        BerthContainer *c = NULL;
        BerthExit ex = {};
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &c), ==, 0);
        g_assert_cmpint(berth_container_clone(c), ==, 0);
        g_assert_cmpint(berth_container_wait(c, &ex), ==, 0);
        g_assert_cmpint(ex.code, !=, 0);
        g_assert_nonnull(c->error_message);
        g_assert_nonnull(strstr(c->error_message, "/dev"));
        berth_container_free(c);
        assert_clean(&b);
}

/* Until the old root is detached (after GO) it is stacked on the container's
 * root, where ".." from inside would lead. An image whose /dev and /proc are
 * symlinks to "/.." must not get the host's directories mounted over: the
 * start fails naming the path, and nothing is left. */
static void test_dev_symlink_to_dotdot(void) {
        const char *const names[] = { "dev", "proc" };
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
                g_autofree char *layer = g_strdup_printf("%s/%s-is-dotdot", workdir, names[i]);
                g_autofree char *link = g_build_filename(layer, names[i], NULL);
                g_autofree char *layers = g_strdup_printf("%s %s", rootfs, layer);
                g_autofree char *want = g_strdup_printf("/%s", names[i]);
                g_autofree char *msg = NULL;
                g_assert_cmpint(g_mkdir_with_parents(layer, 0755), ==, 0);
                (void) unlink(link);
                g_assert_cmpint(symlink("/..", link), ==, 0);
                const char *const extra[] = { "Rootfs", "Directory", "", "Rootfs", "Layers", layers, NULL };
                g_autoptr(BerthConfig) cfg = make_config("dotdot", extra);
                Baseline b = baseline();
                g_assert_cmpint(berth_container_run(cfg, run_base, state_base, NULL, &msg), <, 0);
                g_assert_nonnull(msg);
                g_assert_nonnull(strstr(msg, want));
                assert_clean(&b);
        }
}

static void *thread_that_returns(void *p) {
        return p;
}

static void on_alarm(int sig) {
        (void) sig;
        static const char m[] = "container start hung\n";
        (void) !write(STDERR_FILENO, m, sizeof(m) - 1);
        _exit(99);
}

/* A runtime process that is just creating a thread when it clones a
 * container (any of the embedding program's threads, or the runtime's own
 * network namespace thread on its first use) hands the child glibc's record
 * of a thread that never starts there. glibc's setgroups() and setres[ug]id() would wait for it forever.
 * One CPU and SCHED_FIFO make sure the new thread has not run at clone3. */
static void test_thread_being_created(void) {
        const char *const cmd[] = { "Container", "Command", "/bin/true", NULL };
        g_autoptr(BerthConfig) cfg = make_config("thr", cmd);
        struct sched_param fifo = { .sched_priority = 1 }, saved_param;
        cpu_set_t one, saved_cpus;
        int saved_policy = sched_getscheduler(0);
        BerthExit ex = {};
        g_autofree char *msg = NULL;
        pthread_t t;

        g_assert_cmpint(sched_getparam(0, &saved_param), ==, 0);
        g_assert_cmpint(sched_getaffinity(0, sizeof(saved_cpus), &saved_cpus), ==, 0);
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu(), &one);
        g_assert_cmpint(sched_setaffinity(0, sizeof(one), &one), ==, 0);
        g_assert_cmpint(sched_setscheduler(0, SCHED_FIFO, &fifo), ==, 0);

        signal(SIGALRM, on_alarm);
        alarm(60);
        g_assert_cmpint(pthread_create(&t, NULL, thread_that_returns, NULL), ==, 0);
        int r = berth_container_run(cfg, run_base, state_base, &ex, &msg);
        alarm(0);

        g_assert_cmpint(sched_setscheduler(0, saved_policy, &saved_param), ==, 0);
        g_assert_cmpint(sched_setaffinity(0, sizeof(saved_cpus), &saved_cpus), ==, 0);
        g_assert_cmpint(pthread_join(t, NULL), ==, 0);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpint(ex.code, ==, 0);
}

static void test_fail_in_child(void) {
        const char *const extra[] = { "Container", "User", "nobody-here", NULL };
        g_autoptr(BerthConfig) cfg = make_config("fc", extra);
        Baseline b = baseline();
        g_autofree char *msg = NULL;
        g_assert_cmpint(berth_container_run(cfg, run_base, state_base, NULL, &msg), <, 0);
        g_assert_nonnull(strstr(msg, "User=nobody-here"));
        assert_clean(&b);
}

static void test_fail_at_exec(void) {
        const char *const extra[] = { "Container", "Command", "/does/not/exist", NULL };
        g_autoptr(BerthConfig) cfg = make_config("fe", extra);
        Baseline b = baseline();
        g_autofree char *msg = NULL;
        g_assert_cmpint(berth_container_run(cfg, run_base, state_base, NULL, &msg), ==, -ENOENT);
        g_assert_nonnull(strstr(msg, "/does/not/exist"));
        assert_clean(&b);
}

static void test_busy_name(void) {
        g_autoptr(BerthConfig) cfg = make_config("busy", NULL);
        BerthContainer *c = NULL, *d = NULL;
        g_autofree char *msg = NULL;
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &c), ==, 0);
        g_assert_cmpint(berth_container_new_full(cfg, run_base, state_base, &d, &msg), ==, -EEXIST);
        g_assert_nonnull(strstr(msg, "busy"));
        berth_container_free(c);
        g_assert_cmpint(berth_container_new(cfg, run_base, state_base, &d), ==, 0);
        berth_container_free(d);
}

static void test_no_fds_leak_into_container(void) {
        /* An fd without O_CLOEXEC in the runtime process must not reach the payload. */
        int leak = open("/dev/null", O_RDONLY);
        g_assert_cmpint(leak, >=, 0);
        g_autofree char *out = g_build_filename(workdir, "fds", NULL);
        g_autofree char *bind = g_strdup_printf("%s:/out", workdir);
        const char *const extra[] = {
                "Files", "Bind", bind,
                "Container", "Command", "/bin/sh -c 'ls /proc/self/fd > /out/fds; sleep 0.3; ls /proc/1/fd > /out/fds1'",
                NULL };
        g_autoptr(BerthConfig) cfg = make_config("fds", extra);
        g_assert_cmpint(berth_container_run(cfg, run_base, state_base, NULL, NULL), ==, 0);
        close(leak);
        g_autofree char *s = NULL;
        g_assert_true(g_file_get_contents(out, &s, NULL, NULL));
        /* ls itself holds fd 3 for the directory it lists; the stub keeps
         * 0-2 and its exit-status fd. */
        g_strdelimit(s, "\n", ' ');
        g_assert_cmpstr(g_strstrip(s), ==, "0 1 2 3");
        g_autofree char *out1 = g_build_filename(workdir, "fds1", NULL);
        g_autofree char *s1 = NULL;
        g_assert_true(g_file_get_contents(out1, &s1, NULL, NULL));
        g_auto(GStrv) pid1 = g_strsplit(g_strstrip(s1), "\n", -1);
        g_assert_cmpuint(g_strv_length(pid1), ==, 4); /* 0 1 2 and the exit-status file */
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        host_fixture_setup("test-lifecycle", argc, argv);

        g_test_add_func("/lifecycle/repeated-runs", test_repeated_runs);
        g_test_add_func("/lifecycle/exit-and-signal", test_exit_and_signal);
        g_test_add_func("/lifecycle/attached-layers", test_attached_layers);
        g_test_add_func("/lifecycle/exit-file-not-forgeable", test_exit_file_not_forgeable);
        g_test_add_func("/lifecycle/abandon-after-new", test_abandon_after_new);
        g_test_add_func("/lifecycle/abandon-after-clone", test_abandon_after_clone);
        g_test_add_func("/lifecycle/abandon-running", test_abandon_running);
        g_test_add_func("/lifecycle/fail-in-parent", test_fail_in_parent);
        g_test_add_func("/lifecycle/fail-in-child", test_fail_in_child);
        g_test_add_func("/lifecycle/fail-before-release", test_fail_before_release);
        g_test_add_func("/lifecycle/dev-or-proc-symlink-to-dotdot", test_dev_symlink_to_dotdot);
        g_test_add_func("/lifecycle/netns-handed-over", test_netns_handed_over);
        g_test_add_func("/lifecycle/thread-being-created", test_thread_being_created);
        g_test_add_func("/lifecycle/fail-at-exec", test_fail_at_exec);
        g_test_add_func("/lifecycle/busy-name", test_busy_name);
        g_test_add_func("/lifecycle/no-fd-leaks-into-container", test_no_fds_leak_into_container);
        int r = g_test_run();

        host_fixture_teardown();
        return r;
}
