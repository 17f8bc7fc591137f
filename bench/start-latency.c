/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * start-latency: how long a user waits for a fresh container that runs
 * /bin/true and is torn down again, for several runtimes, in one run.
 *
 * Every runtime starts from the same busybox rootfs as the lower layer of a
 * fresh overlay whose upper and work dirs live on a fresh tmpfs, and every
 * container gets new pid, mount, uts, ipc, net (loopback only) and cgroup
 * namespaces. One sample is the wall time (CLOCK_MONOTONIC) from "start" to
 * "everything is gone again":
 *
 *   raw     our own minimal path: clone3 into the namespaces, tmpfs, overlay,
 *           pivot_root, /proc, exec /bin/true, wait. No /dev, no caps, no
 *           seccomp: the floor.
 *   berth   berth_container_run() from libberth-runtime, in this process,
 *           full default isolation, network mode none.
 *   crun    fork+exec+wait of "crun run", harness mounts tmpfs+overlay as
 *   runc    the bundle's rootfs before and unmounts it after (both timed).
 *   nspawn  fork+exec+wait of systemd-nspawn --volatile=overlay (nspawn
 *           mounts a tmpfs-backed overlay over the directory itself).
 *   bwrap   fork+exec+wait of bwrap --unshare-all; bubblewrap 0.8 has no
 *           overlay support, so it gets the harness overlay like crun. It
 *           also makes a user namespace, and has no seccomp and no cap drop.
 *
 * A second table times libberth-network's berth_net_setup() (bridge mode)
 * and berth_net_teardown() for one more container on an existing bridge,
 * in a throwaway network namespace standing in for the host.
 *
 * The harness works in its own mount namespace. There, berth's run dir is a
 * tmpfs, as /run is on a systemd host, and so are the other runtimes' state
 * dirs under /run if /run is not a tmpfs on this machine.
 *
 * Samples are taken round-robin (the order rotates every round) so that
 * drift and asynchronous kernel work (netns teardown runs in a workqueue)
 * hit every runtime alike. berth compiles its seccomp filter once per
 * process; the steady state is what the table shows, and the cold start (a
 * fresh process that has never compiled the filter) is measured separately
 * in forked children before anything else.
 *
 * This is a benchmark, not a test: it asserts nothing about the numbers.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "runtime.h"
#include "network.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define NSEC_PER_MSEC UINT64_C(1000000)
#define NSEC_PER_SEC UINT64_C(1000000000)

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

static inline void closep_bench(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_bench_ __attribute__((cleanup(closep_bench)))

static inline void berth_config_freep_bench(BerthConfig **c) {
        if (*c)
                berth_config_free(*c);
}

#define ELEMENTS(x) (sizeof(x) / sizeof((x)[0]))

typedef struct Bench Bench;
typedef struct Runtime Runtime;
typedef int (*RunFunc)(Bench *b, Runtime *rt, unsigned iteration);

struct Runtime {
        const char *id;       /* name on the command line */
        const char *label;    /* name in the table */
        const char *binary;   /* external program, NULL for in-process */
        const char *note;     /* what exactly is measured */
        RunFunc run;
        bool selected;
        bool usable;          /* passed its warm-up */
        char version[48];
        char *path;           /* resolved binary */
        char error[256];      /* last failure */
        uint64_t *samples;    /* ns */
        size_t n_samples;
        unsigned failures;
};

struct Bench {
        unsigned iterations;
        unsigned warmup;
        unsigned cold;
        bool verbose;
        bool network;         /* also time libberth-network's setup */

        char *rootfs;         /* absolute busybox rootfs, the shared lower */
        char *workdir;        /* absolute scratch dir of this harness */
        char *oci_config;     /* config.json template for crun/runc */

        char *bundle;         /* workdir/bundle */
        char *bundle_rootfs;  /* workdir/bundle/rootfs: overlay mount point */
        char *scratch;        /* workdir/scratch: per-iteration tmpfs (external runtimes) */
        char *scratch_upper, *scratch_work, *scratch_overlay_opts;
        char *raw_dir;        /* workdir/raw: raw floor's tmpfs, mounted inside its child */
        char *raw_upper, *raw_work, *raw_root, *raw_overlay_opts;
        char *berth_run_dir, *berth_state_dir;
        char *log_path;
        int log_fd;
        int null_fd;
        bool hybrid_cgroups;
        bool run_tmpfs;       /* /run is no tmpfs here: runtime state dirs got one */
        char loadavg_start[32], loadavg_end[32];
        long fds_start, fds_end, mounts_start, mounts_end;

        BerthConfig *berth_config;
        /* Phases of the last berth start (ns), from BerthExit's timestamps,
         * and their samples: 0 new+clone (until release), 1 child setup
         * (release to payload exec), 2 payload to exit, 3 teardown. */
        uint64_t berth_last_phase[4];
        uint64_t *berth_phase[4];
        size_t n_berth_phase;
};

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0) {
                fputs("start-latency: out of memory\n", stderr);
                exit(EXIT_FAILURE);
        }
        va_end(ap);
        return s;
}

static void set_error(Runtime *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(Runtime *rt, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rt->error, sizeof(rt->error), fmt, ap);
        va_end(ap);
}

static int mkdir_if_missing(const char *path, mode_t mode) {
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int find_in_path(const char *name, char **ret) {
        const char *path = getenv("PATH");

        if (!path || !*path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                _cleanup_free_ char *candidate = xasprintf("%.*s/%s", (int) n, p, name);

                if (n > 0 && access(candidate, X_OK) == 0) {
                        *ret = candidate;
                        candidate = NULL;
                        return 0;
                }
                p += n;
                if (*p == ':')
                        p++;
        }
        return -ENOENT;
}

/* First line of "<binary> --version", shortened, for the table. */
static void read_version(Runtime *rt) {
        _cleanup_free_ char *cmd = xasprintf("'%s' --version 2>/dev/null", rt->path);
        char line[256] = "";
        FILE *f = popen(cmd, "re");

        if (!f)
                return;
        if (!fgets(line, sizeof(line), f))
                line[0] = 0;
        pclose(f);
        line[strcspn(line, "\n(")] = 0;
        for (size_t n = strlen(line); n > 0 && isspace((unsigned char) line[n - 1]); n--)
                line[n - 1] = 0;
        /* "crun version 1.8.1", "runc version 1.1.5+ds1", "systemd 252", "bubblewrap 0.8.0" */
        const char *v = strstr(line, "version ");
        v = v ? v + strlen("version ") : strchr(line, ' ');
        if (v && *v == ' ')
                v++;
        snprintf(rt->version, sizeof(rt->version), "%s", v && *v ? v : line);
}

static int wait_child(pid_t pid, int *ret_status) {
        int status;

        for (;;) {
                if (waitpid(pid, &status, 0) >= 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }
        *ret_status = status;
        return 0;
}

static int status_to_error(Runtime *rt, int status) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                set_error(rt, "exited with status %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                set_error(rt, "killed by signal %s", strsignal(WTERMSIG(status)));
        else
                set_error(rt, "unexpected wait status 0x%x", (unsigned) status);
        return -EPROTO;
}

/*
 * fork+exec+wait, stdin from /dev/null, stdout and stderr to the log. With
 * private_cgroup_unified, the child first gets its own mount namespace with
 * a tmpfs over /sys/fs/cgroup/unified (crun refuses hybrid cgroups
 * otherwise); the copy includes the overlay the harness just mounted.
 */
static int spawn_and_wait(Bench *b, Runtime *rt, char *const argv[], bool private_cgroup_unified) {
        static char *const empty_env[] = {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL
        };
        int status = 0, r;
        pid_t pid;

        pid = fork();
        if (pid < 0) {
                r = -errno;
                set_error(rt, "fork: %s", strerror(-r));
                return r;
        }
        if (pid == 0) {
                if (private_cgroup_unified && b->hybrid_cgroups) {
                        if (unshare(CLONE_NEWNS) < 0 ||
                            mount("tmpfs", "/sys/fs/cgroup/unified", "tmpfs",
                                  MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k") < 0) {
                                dprintf(b->log_fd, "start-latency: cgroup unified tmpfs: %m\n");
                                _exit(126);
                        }
                }
                if (dup2(b->null_fd, STDIN_FILENO) < 0 ||
                    dup2(b->log_fd, STDOUT_FILENO) < 0 ||
                    dup2(b->log_fd, STDERR_FILENO) < 0)
                        _exit(126);
                execve(argv[0], argv, empty_env);
                dprintf(b->log_fd, "start-latency: exec %s: %m\n", argv[0]);
                _exit(127);
        }

        r = wait_child(pid, &status);
        if (r < 0) {
                set_error(rt, "waitpid: %s", strerror(-r));
                return r;
        }
        return status_to_error(rt, status);
}

/* Unmount, falling back to a lazy unmount if something still holds it. */
static int umount_retry(const char *path) {
        if (umount2(path, UMOUNT_NOFOLLOW) == 0)
                return 0;
        if (errno != EBUSY)
                return -errno;
        if (umount2(path, UMOUNT_NOFOLLOW | MNT_DETACH) < 0)
                return -errno;
        return 0;
}

/* Fresh tmpfs with upper/ and work/, overlay on bundle/rootfs. */
static int overlay_prepare(Bench *b, Runtime *rt) {
        if (mount("tmpfs", b->scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
                int r = -errno;
                set_error(rt, "mount tmpfs %s: %s", b->scratch, strerror(-r));
                return r;
        }
        if (mkdir(b->scratch_upper, 0755) < 0 || mkdir(b->scratch_work, 0755) < 0) {
                int r = -errno;
                set_error(rt, "mkdir upper/work: %m");
                (void) umount_retry(b->scratch);
                return r;
        }
        if (mount("overlay", b->bundle_rootfs, "overlay", 0, b->scratch_overlay_opts) < 0) {
                int r = -errno;
                set_error(rt, "mount overlay %s: %m", b->bundle_rootfs);
                (void) umount_retry(b->scratch);
                return r;
        }
        return 0;
}

static int overlay_cleanup(Bench *b, Runtime *rt) {
        int r1 = umount_retry(b->bundle_rootfs);
        int r2 = umount_retry(b->scratch);

        if (r1 < 0 || r2 < 0) {
                set_error(rt, "umount overlay/tmpfs: %s", strerror(-(r1 < 0 ? r1 : r2)));
                return r1 < 0 ? r1 : r2;
        }
        return 0;
}

/* ---- raw floor ---------------------------------------------------------- */

/* Runs in the clone3 child: PID 1 of a new pid namespace, own mount ns. */
static int raw_child(Bench *b) {
        static char *const argv[] = { "/bin/true", NULL };
        static char *const envp[] = { "PATH=/bin:/sbin", NULL };

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 10;
        if (mount("tmpfs", b->raw_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
                return 11;
        if (mkdir(b->raw_upper, 0755) < 0 || mkdir(b->raw_work, 0755) < 0 || mkdir(b->raw_root, 0755) < 0)
                return 12;
        if (mount("overlay", b->raw_root, "overlay", 0, b->raw_overlay_opts) < 0)
                return 13;
        if (chdir(b->raw_root) < 0)
                return 14;
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return 15;
        if (umount2(".", MNT_DETACH) < 0)
                return 16;
        if (chdir("/") < 0)
                return 17;
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return 18;
        execve(argv[0], argv, envp);
        return 19;
}

static int run_raw(Bench *b, Runtime *rt, unsigned iteration) {
        struct clone_args args = {
                .flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                         CLONE_NEWNET | CLONE_NEWCGROUP,
                .exit_signal = SIGCHLD,
        };
        int status = 0, r;
        pid_t pid;

        pid = (pid_t) syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0) {
                r = -errno;
                set_error(rt, "clone3: %s", strerror(-r));
                return r;
        }
        if (pid == 0)
                _exit(raw_child(b));

        r = wait_child(pid, &status);
        if (r < 0) {
                set_error(rt, "waitpid: %s", strerror(-r));
                return r;
        }
        r = status_to_error(rt, status);
        if (r < 0 && WIFEXITED(status) && WEXITSTATUS(status) >= 10 && WEXITSTATUS(status) < 20)
                set_error(rt, "raw child failed at step %d (10 rprivate, 11 tmpfs, 12 mkdir, "
                          "13 overlay, 14 chdir, 15 pivot_root, 16 umount old root, 17 chdir, "
                          "18 /proc, 19 exec)", WEXITSTATUS(status));
        return r;
}

/* ---- berth --------------------------------------------------------------- */

static int berth_config_build(Bench *b, BerthConfig **ret) {
        __attribute__((cleanup(berth_config_freep_bench))) BerthConfig *c = NULL;
        GError *error = NULL;
        int r;

        c = berth_config_new("start-latency");
        if (!c)
                return -ENOMEM;

        /* Exactly the defaults except rootfs, command and network: full
         * isolation (all namespaces, default caps, seccomp, no_new_privs). */
        g_free(c->directory);
        c->directory = g_strdup(b->rootfs);
        c->ephemeral = true;
        g_strfreev(c->command);
        c->command = g_new0(char *, 2);
        c->command[0] = g_strdup("/bin/true");
        c->network_mode = BERTH_NETWORK_NONE;

        r = berth_config_finalize(c, &error);
        if (r < 0) {
                fprintf(stderr, "start-latency: berth config: %s\n", error ? error->message : strerror(-r));
                g_clear_error(&error);
                return r;
        }
        *ret = c;
        c = NULL;
        return 0;
}

static uint64_t realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static uint64_t usec_diff_ns(uint64_t from, uint64_t to) {
        return to > from ? (to - from) * 1000 : 0;
}

static int run_berth(Bench *b, Runtime *rt, unsigned iteration) {
        BerthExit exit_info = {};
        char *message = NULL;
        uint64_t t0, t1;
        int r;

        t0 = realtime_usec();
        r = berth_container_run(b->berth_config, b->berth_run_dir, b->berth_state_dir, &exit_info, &message);
        t1 = realtime_usec();
        if (r < 0) {
                set_error(rt, "berth_container_run: %s%s%s", strerror(-r), message ? ": " : "",
                          message ? message : "");
                g_free(message);
                return r;
        }
        g_free(message);
        b->berth_last_phase[0] = usec_diff_ns(t0, exit_info.started_usec);
        b->berth_last_phase[1] = usec_diff_ns(exit_info.started_usec, exit_info.ready_usec);
        b->berth_last_phase[2] = usec_diff_ns(exit_info.ready_usec, exit_info.exited_usec);
        b->berth_last_phase[3] = usec_diff_ns(exit_info.exited_usec, t1);
        if (exit_info.code != 0 || exit_info.signal != 0) {
                set_error(rt, "container exited with code %d, signal %d", exit_info.code, exit_info.signal);
                return -EPROTO;
        }
        return 0;
}

/* ---- external runtimes --------------------------------------------------- */

static int run_oci(Bench *b, Runtime *rt, unsigned iteration, bool is_crun) {
        char id[64];
        int r, k;

        snprintf(id, sizeof(id), "start-latency-%d-%u", (int) getpid(), iteration);

        r = overlay_prepare(b, rt);
        if (r < 0)
                return r;

        if (is_crun) {
                char *argv[] = { rt->path, "--cgroup-manager=disabled", "run", "--bundle", b->bundle, id, NULL };
                r = spawn_and_wait(b, rt, argv, true);
        } else {
                char *argv[] = { rt->path, "run", "--bundle", b->bundle, id, NULL };
                r = spawn_and_wait(b, rt, argv, true);
        }

        k = overlay_cleanup(b, rt);
        return r < 0 ? r : k;
}

static int run_crun(Bench *b, Runtime *rt, unsigned iteration) {
        return run_oci(b, rt, iteration, true);
}

static int run_runc(Bench *b, Runtime *rt, unsigned iteration) {
        return run_oci(b, rt, iteration, false);
}

static int run_nspawn(Bench *b, Runtime *rt, unsigned iteration) {
        char *argv[] = {
                rt->path, "--register=no", "--keep-unit", "-q", "--private-network",
                "--volatile=overlay", "-D", b->rootfs, "/bin/true", NULL
        };

        return spawn_and_wait(b, rt, argv, false);
}

static int run_bwrap(Bench *b, Runtime *rt, unsigned iteration) {
        char *argv[] = {
                rt->path, "--unshare-all", "--die-with-parent", "--bind", b->bundle_rootfs, "/",
                "--proc", "/proc", "--dev", "/dev", "/bin/true", NULL
        };
        int r, k;

        r = overlay_prepare(b, rt);
        if (r < 0)
                return r;
        r = spawn_and_wait(b, rt, argv, false);
        k = overlay_cleanup(b, rt);
        return r < 0 ? r : k;
}

/* ---- statistics and output ------------------------------------------------ */

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* Linear interpolation between closest ranks; v must be sorted. In ms. */
static double percentile_ms(const uint64_t *v, size_t n, double q) {
        double pos, frac;
        size_t lo;

        if (n == 0)
                return NAN;
        pos = q * (double) (n - 1);
        lo = (size_t) pos;
        frac = pos - (double) lo;
        if (lo + 1 >= n)
                return (double) v[n - 1] / NSEC_PER_MSEC;
        return ((double) v[lo] + ((double) v[lo + 1] - (double) v[lo]) * frac) / NSEC_PER_MSEC;
}

static void read_first_match(const char *path, const char *key, char *buf, size_t size) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[512];

        buf[0] = 0;
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, key, strlen(key)) != 0)
                        continue;
                char *v = line + strlen(key);
                while (*v == ' ' || *v == '\t' || *v == ':' || *v == '=' || *v == '"')
                        v++;
                v[strcspn(v, "\"\n")] = 0;
                snprintf(buf, size, "%s", v);
                return;
        }
}

/* Open fds and mounts of the harness, to notice a runtime leaking either. */
static long count_fds(void) {
        _cleanup_close_bench_ int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char buf[4096];
        long n = 0;

        if (fd < 0)
                return -1;
        for (;;) {
                long k = syscall(SYS_getdents64, fd, buf, sizeof(buf));
                if (k <= 0)
                        return k < 0 ? -1 : n - 3; /* ".", ".." and the directory fd */
                for (long off = 0; off < k;) {
                        unsigned short reclen;
                        memcpy(&reclen, buf + off + 16, sizeof(reclen));
                        n++;
                        off += reclen;
                }
        }
}

static long count_mounts(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        long n = 0;
        int ch;

        if (!f)
                return -1;
        while ((ch = fgetc(f)) != EOF)
                if (ch == '\n')
                        n++;
        return n;
}

/* The 1, 5 and 15 minute load averages: other work on the machine skews the numbers. */
static void read_loadavg(char *buf, size_t size) {
        _cleanup_fclose_ FILE *f = fopen("/proc/loadavg", "re");
        double a = 0, b = 0, c = 0;

        if (!f || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
                snprintf(buf, size, "?");
        else
                snprintf(buf, size, "%.2f/%.2f/%.2f", a, b, c);
}

static void print_machine(const Bench *b) {
        char cpu[128], os[128], date[64];
        struct utsname u;
        time_t t = time(NULL);
        struct tm tm;

        read_first_match("/proc/cpuinfo", "model name", cpu, sizeof(cpu));
        read_first_match("/etc/os-release", "PRETTY_NAME", os, sizeof(os));
        if (uname(&u) < 0)
                snprintf(u.release, sizeof(u.release), "?");
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);

        printf("machine: nproc %ld (%s), kernel %s, %s, %s cgroups%s\n",
               sysconf(_SC_NPROCESSORS_ONLN), cpu[0] ? cpu : "?", u.release, os[0] ? os : "?",
               b->hybrid_cgroups ? "hybrid" : "unified/legacy",
               b->run_tmpfs ? ", /run not a tmpfs (state dirs given one)" : "");
        printf("date:    %s, load average %s at start, %s at end\n", date, b->loadavg_start, b->loadavg_end);
}

static void print_table(Bench *b, Runtime *rts, size_t n_rts, const uint64_t *cold, size_t n_cold,
                        uint64_t first_in_process) {
        double raw_median = NAN, berth_median = NAN, crun_median = NAN;

        for (size_t i = 0; i < n_rts; i++) {
                Runtime *rt = &rts[i];
                if (!rt->usable || rt->n_samples == 0)
                        continue;
                qsort(rt->samples, rt->n_samples, sizeof(uint64_t), cmp_u64);
                double m = percentile_ms(rt->samples, rt->n_samples, 0.5);
                if (strcmp(rt->id, "raw") == 0)
                        raw_median = m;
                else if (strcmp(rt->id, "berth") == 0)
                        berth_median = m;
                else if (strcmp(rt->id, "crun") == 0)
                        crun_median = m;
        }

        printf("\nstart-latency: fresh container from the same busybox rootfs + overlay (tmpfs upper),\n"
               "/bin/true, teardown; new pid/mnt/uts/ipc/net/cgroup namespaces everywhere.\n");
        print_machine(b);
        errno = 0;
        int nice_value = getpriority(PRIO_PROCESS, 0);
        printf("samples: %u per runtime, round-robin, after %u warm-up start(s) each; nice %d\n\n",
               b->iterations, b->warmup, errno ? 0 : nice_value);

        printf("%-16s %-12s %9s %9s %9s %9s %7s  %s\n",
               "runtime", "version", "median", "p90", "min", "max", "x raw", "fails");
        printf("%-16s %-12s %9s %9s %9s %9s %7s\n", "", "", "ms", "ms", "ms", "ms", "");
        for (size_t i = 0; i < n_rts; i++) {
                Runtime *rt = &rts[i];

                if (!rt->selected)
                        continue;
                if (!rt->usable || rt->n_samples == 0) {
                        printf("%-16s %-12s %9s  (%s)\n", rt->label, rt->version[0] ? rt->version : "-",
                               "n/a", rt->error[0] ? rt->error : "no samples");
                        continue;
                }
                double m = percentile_ms(rt->samples, rt->n_samples, 0.5);
                printf("%-16s %-12s %9.2f %9.2f %9.2f %9.2f %7.2f  %u\n",
                       rt->label, rt->version[0] ? rt->version : "-", m,
                       percentile_ms(rt->samples, rt->n_samples, 0.9),
                       (double) rt->samples[0] / NSEC_PER_MSEC,
                       (double) rt->samples[rt->n_samples - 1] / NSEC_PER_MSEC,
                       m / raw_median, rt->failures);
        }

        if (n_cold > 0) {
                uint64_t sorted[n_cold];
                memcpy(sorted, cold, sizeof(sorted));
                qsort(sorted, n_cold, sizeof(uint64_t), cmp_u64);
                double m = percentile_ms(sorted, n_cold, 0.5);
                printf("%-16s %-12s %9.2f %9.2f %9.2f %9.2f %7.2f  (%zu fresh processes)\n",
                       "berth (cold)", "-", m, percentile_ms(sorted, n_cold, 0.9),
                       (double) sorted[0] / NSEC_PER_MSEC, (double) sorted[n_cold - 1] / NSEC_PER_MSEC,
                       m / raw_median, n_cold);
        }
        if (first_in_process > 0)
                printf("berth: first start in this process (cold, seccomp compiled): %.2f ms\n",
                       (double) first_in_process / NSEC_PER_MSEC);
        if (b->n_berth_phase > 0) {
                /* Until GO: new, clone3, the overlay, and the child building its
                 * root while a thread makes the network namespace. GO to READY:
                 * /sys, binds, user, seccomp, caps, the payload's exec. */
                static const char *const names[] = {
                        "until GO", "GO to READY", "payload", "teardown"
                };
                printf("berth phases (median ms, from BerthExit):");
                for (size_t k = 0; k < ELEMENTS(names); k++) {
                        qsort(b->berth_phase[k], b->n_berth_phase, sizeof(uint64_t), cmp_u64);
                        printf(" %s %.2f%s", names[k], percentile_ms(b->berth_phase[k], b->n_berth_phase, 0.5),
                               k + 1 < ELEMENTS(names) ? "," : "\n");
                }
        }

        printf("\nnotes:\n");
        for (size_t i = 0; i < n_rts; i++)
                if (rts[i].selected)
                        printf("  %-7s %s\n", rts[i].id, rts[i].note);
        if (!isnan(berth_median) && !isnan(raw_median))
                printf("\ntarget: berth median <= 1.5x raw floor: %.2fx", berth_median / raw_median);
        if (!isnan(berth_median) && !isnan(crun_median))
                printf("; <= 0.25x crun: %.2fx", berth_median / crun_median);
        if (!isnan(berth_median) && !isnan(raw_median))
                printf("\n");
        printf("harness leak check: %ld -> %ld open fds, %ld -> %ld mounts%s\n",
               b->fds_start, b->fds_end, b->mounts_start, b->mounts_end,
               b->fds_end != b->fds_start || b->mounts_end != b->mounts_start ? "  <-- LEAK" : "");
        printf("log of the external runtimes' output: %s\n", b->log_path);
}

/* ---- network setup (libberth-network) --------------------------------------- */

typedef struct NetResult {
        int r;
        char error[256];
        size_t n;
        uint64_t samples[];  /* n setup times, then n teardown times */
} NetResult;

/* A fresh network namespace, returned as an fd; the caller stays where it was. */
static int netns_new(int home_fd) {
        int fd;

        if (unshare(CLONE_NEWNET) < 0)
                return -errno;
        fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                (void) setns(home_fd, CLONE_NEWNET);
                return r;
        }
        if (setns(home_fd, CLONE_NEWNET) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static void net_fail(NetResult *res, int r, const char *what, char *message) {
        res->r = r;
        snprintf(res->error, sizeof(res->error), "%s: %s%s%s", what, strerror(-r),
                 message ? ": " : "", message ? message : "");
        free(message);
}

/*
 * Runs in a forked child inside a throwaway "host" network namespace, so the
 * bridge, the nft table and the sysctls never touch the real host. A holder
 * container stays attached so that the bridge and the network's nft rules
 * exist once (steady state); each sample attaches one more container in a
 * fresh netns (bridge mode: lease, veth, addresses, routes, nft) and then
 * tears it down.
 */
static void net_child(Bench *b, NetResult *res) {
        _cleanup_close_bench_ int home_fd = -1, hold_fd = -1;
        _cleanup_free_ char *conf_dir = xasprintf("%s/net-conf", b->workdir);
        _cleanup_free_ char *state_dir = xasprintf("%s/net-state", b->workdir);
        BerthNet *net = NULL;
        BerthNetAttachment att;
        BerthConfig *hold = NULL, *cfg = NULL;
        char *message = NULL;
        int r;

        if (unshare(CLONE_NEWNET) < 0) {
                net_fail(res, -errno, "unshare(CLONE_NEWNET)", NULL);
                return;
        }
        home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (home_fd < 0 || mkdir_if_missing(conf_dir, 0755) < 0 || mkdir_if_missing(state_dir, 0755) < 0) {
                net_fail(res, -errno, "preparing the namespace", NULL);
                return;
        }

        BerthNetOptions opts = { .config_dir = conf_dir, .state_dir = state_dir };
        r = berth_net_new(&opts, &net);
        if (r < 0) {
                net_fail(res, r, "berth_net_new", NULL);
                return;
        }

        hold = berth_config_new("bench-net-hold");
        cfg = berth_config_new("bench-net-0");
        if (!hold || !cfg) {
                net_fail(res, -ENOMEM, "berth_config_new", NULL);
                goto out;
        }
        hold->network_mode = cfg->network_mode = BERTH_NETWORK_BRIDGE;

        hold_fd = netns_new(home_fd);
        if (hold_fd < 0) {
                net_fail(res, hold_fd, "new netns", NULL);
                goto out;
        }
        r = berth_net_setup(net, hold, hold_fd, NULL, &att, &message);
        if (r < 0) {
                net_fail(res, r, "berth_net_setup (holder)", message);
                goto out;
        }

        for (unsigned i = 0; i < b->warmup + b->iterations; i++) {
                _cleanup_close_bench_ int fd = netns_new(home_fd);
                uint64_t t0, t1, t2;

                if (fd < 0) {
                        net_fail(res, fd, "new netns", NULL);
                        break;
                }
                /* A new name each time: the previous container's veth only
                 * goes away when the kernel gets round to destroying its
                 * netns (asynchronously), and its name would still be taken. */
                g_free(cfg->name);
                cfg->name = g_strdup_printf("bench-net-%u", i);
                t0 = now_ns();
                r = berth_net_setup(net, cfg, fd, NULL, &att, &message);
                t1 = now_ns();
                if (r < 0) {
                        net_fail(res, r, "berth_net_setup", message);
                        break;
                }
                r = berth_net_teardown(net, cfg->name, cfg->network);
                t2 = now_ns();
                if (r < 0) {
                        net_fail(res, r, "berth_net_teardown", NULL);
                        break;
                }
                if (i < b->warmup)
                        continue;
                res->samples[res->n] = t1 - t0;
                res->samples[b->iterations + res->n] = t2 - t1;
                res->n++;
        }
        (void) berth_net_teardown(net, hold->name, hold->network);
out:
        if (cfg)
                berth_config_free(cfg);
        if (hold)
                berth_config_free(hold);
        berth_net_free(net);
}

static void measure_network(Bench *b) {
        size_t size = sizeof(NetResult) + 2 * (size_t) b->iterations * sizeof(uint64_t);
        NetResult *res;
        int status;
        pid_t pid;

        res = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (res == MAP_FAILED) {
                printf("\nnetwork setup: n/a (mmap: %m)\n");
                return;
        }
        fprintf(stderr, "start-latency: network setup, %u samples\n", b->iterations);
        pid = fork();
        if (pid == 0) {
                net_child(b, res);
                _exit(0);
        }
        if (pid < 0 || wait_child(pid, &status) < 0)
                res->r = -ECHILD;

        printf("\nnetwork setup, libberth-network, bridge mode (lease, veth, addresses, routes, nft),\n"
               "one more container on an existing bridge, in a throwaway host netns:\n");
        if (res->n == 0) {
                printf("  n/a (%s)\n", res->r < 0 ? res->error : "no samples");
        } else {
                uint64_t *setup = res->samples, *teardown = res->samples + b->iterations;
                qsort(setup, res->n, sizeof(uint64_t), cmp_u64);
                qsort(teardown, res->n, sizeof(uint64_t), cmp_u64);
                printf("%-16s %9s %9s %9s %9s\n", "", "median", "p90", "min", "max");
                printf("%-16s %9.2f %9.2f %9.2f %9.2f ms\n", "berth_net_setup",
                       percentile_ms(setup, res->n, 0.5), percentile_ms(setup, res->n, 0.9),
                       (double) setup[0] / NSEC_PER_MSEC, (double) setup[res->n - 1] / NSEC_PER_MSEC);
                printf("%-16s %9.2f %9.2f %9.2f %9.2f ms\n", "  teardown",
                       percentile_ms(teardown, res->n, 0.5), percentile_ms(teardown, res->n, 0.9),
                       (double) teardown[0] / NSEC_PER_MSEC, (double) teardown[res->n - 1] / NSEC_PER_MSEC);
                if (res->r < 0)
                        printf("  (stopped early: %s)\n", res->error);
        }
        munmap(res, size);
}

/* ---- setup ---------------------------------------------------------------- */

static bool is_fs(const char *path, long magic) {
        struct statfs s;

        return statfs(path, &s) == 0 && (long) s.f_type == magic;
}

static int mount_tmpfs_on(const char *path) {
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
                return -errno;
        return 0;
}

static int copy_file(const char *from, const char *to) {
        _cleanup_close_bench_ int in = -1, out = -1;
        char buf[16384];
        ssize_t n;

        in = open(from, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
                return -errno;
        while ((n = read(in, buf, sizeof(buf))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(out, buf + done, (size_t) (n - done));
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        done += w;
                }
        }
        return 0;
}

static int bench_setup(Bench *b) {
        _cleanup_free_ char *true_path = NULL;
        struct stat st;
        int r;

        /* bin/true is usually an absolute symlink to /bin/busybox: do not follow it on the host. */
        true_path = xasprintf("%s/bin/true", b->rootfs);
        if (fstatat(AT_FDCWD, true_path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                fprintf(stderr, "start-latency: %s missing: not a busybox rootfs?\n", true_path);
                return -ENOENT;
        }

        /* Our own mount namespace: the harness's overlays can never leak. */
        if (unshare(CLONE_NEWNS) < 0) {
                r = -errno;
                fprintf(stderr, "start-latency: unshare(CLONE_NEWNS): %s\n", strerror(-r));
                return r;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                r = -errno;
                fprintf(stderr, "start-latency: make / private: %s\n", strerror(-r));
                return r;
        }
        b->hybrid_cgroups = is_fs("/sys/fs/cgroup", TMPFS_MAGIC) &&
                            is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC);

        b->bundle = xasprintf("%s/bundle", b->workdir);
        b->bundle_rootfs = xasprintf("%s/rootfs", b->bundle);
        b->scratch = xasprintf("%s/scratch", b->workdir);
        b->scratch_upper = xasprintf("%s/upper", b->scratch);
        b->scratch_work = xasprintf("%s/work", b->scratch);
        b->scratch_overlay_opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s",
                                            b->rootfs, b->scratch_upper, b->scratch_work);
        b->raw_dir = xasprintf("%s/raw", b->workdir);
        b->raw_upper = xasprintf("%s/upper", b->raw_dir);
        b->raw_work = xasprintf("%s/work", b->raw_dir);
        b->raw_root = xasprintf("%s/root", b->raw_dir);
        b->raw_overlay_opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s",
                                        b->rootfs, b->raw_upper, b->raw_work);
        b->berth_run_dir = xasprintf("%s/berth-run", b->workdir);
        b->berth_state_dir = xasprintf("%s/berth-state", b->workdir);
        b->log_path = xasprintf("%s/start-latency.log", b->workdir);

        const char *dirs[] = {
                b->workdir, b->bundle, b->bundle_rootfs, b->scratch, b->raw_dir,
                b->berth_run_dir, b->berth_state_dir,
        };
        for (size_t i = 0; i < ELEMENTS(dirs); i++) {
                r = mkdir_if_missing(dirs[i], 0755);
                if (r < 0) {
                        fprintf(stderr, "start-latency: mkdir %s: %s\n", dirs[i], strerror(-r));
                        return r;
                }
        }

        if (b->oci_config) {
                _cleanup_free_ char *dest = xasprintf("%s/config.json", b->bundle);
                r = copy_file(b->oci_config, dest);
                if (r < 0) {
                        fprintf(stderr, "start-latency: copy %s: %s\n", b->oci_config, strerror(-r));
                        return r;
                }
        }

        /* On a systemd host /run is a tmpfs, and that is where every runtime
         * keeps its state. On
         * a machine where /run is a plain directory, give each runtime's
         * state dir a tmpfs in our namespace, so that the disk is not what we
         * measure. berth's run dir is under the workdir: always a tmpfs. */
        r = mount_tmpfs_on(b->berth_run_dir);
        if (r < 0) {
                fprintf(stderr, "start-latency: tmpfs on %s: %s\n", b->berth_run_dir, strerror(-r));
                return r;
        }
        if (!is_fs("/run", TMPFS_MAGIC)) {
                static const char *const state_dirs[] = { "/run/crun", "/run/runc", "/run/systemd/nspawn" };

                b->run_tmpfs = true;
                for (size_t i = 0; i < ELEMENTS(state_dirs); i++) {
                        r = mkdir_if_missing("/run/systemd", 0755);
                        if (r >= 0)
                                r = mkdir_if_missing(state_dirs[i], 0700);
                        if (r >= 0)
                                r = mount_tmpfs_on(state_dirs[i]);
                        if (r < 0) {
                                fprintf(stderr, "start-latency: tmpfs on %s: %s\n", state_dirs[i], strerror(-r));
                                return r;
                        }
                }
        }

        b->log_fd = open(b->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (b->log_fd < 0) {
                r = -errno;
                fprintf(stderr, "start-latency: open %s: %s\n", b->log_path, strerror(-r));
                return r;
        }
        b->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (b->null_fd < 0)
                return -errno;
        return 0;
}

/* Cold berth starts: each in a fresh child that has never compiled the
 * seccomp filter; the child times itself and reports through a pipe. */
static size_t measure_berth_cold(Bench *b, Runtime *rt, uint64_t *out) {
        size_t n = 0;

        for (unsigned i = 0; i < b->cold; i++) {
                struct { int r; uint64_t ns; char error[256]; } result = {};
                _cleanup_close_bench_ int rfd = -1;
                int fds[2], status;
                pid_t pid;

                if (pipe2(fds, O_CLOEXEC) < 0)
                        break;
                pid = fork();
                if (pid < 0) {
                        close(fds[0]);
                        close(fds[1]);
                        break;
                }
                if (pid == 0) {
                        close(fds[0]);
                        uint64_t t0 = now_ns();
                        result.r = run_berth(b, rt, i);
                        result.ns = now_ns() - t0;
                        memcpy(result.error, rt->error, sizeof(result.error));
                        _exit(write(fds[1], &result, sizeof(result)) == sizeof(result) ? 0 : 1);
                }
                close(fds[1]);
                rfd = fds[0];
                ssize_t k = read(rfd, &result, sizeof(result));
                if (wait_child(pid, &status) < 0 || k != (ssize_t) sizeof(result))
                        break;
                if (result.r < 0) {
                        memcpy(rt->error, result.error, sizeof(rt->error));
                        rt->error[sizeof(rt->error) - 1] = 0;
                        fprintf(stderr, "start-latency: berth cold start failed: %s\n", rt->error);
                        break;
                }
                out[n++] = result.ns;
        }
        return n;
}

static void usage(void) {
        printf("usage: start-latency --rootfs DIR --workdir DIR [options]\n"
               "\n"
               "Start a fresh container (busybox rootfs + tmpfs-backed overlay) running /bin/true\n"
               "and tear it down, N times per runtime, round-robin, and print median and p90.\n"
               "Must run as root. The harness works in its own mount namespace.\n"
               "\n"
               "  -n, --iterations N     samples per runtime (default 50)\n"
               "  -w, --warmup N         unrecorded starts per runtime first (default 3)\n"
               "  -c, --cold N           berth cold starts, each in a fresh process (default 5)\n"
               "  -r, --runtimes LIST    comma-separated subset of raw,berth,crun,runc,nspawn,bwrap\n"
               "      --rootfs DIR       busybox rootfs, the overlay's lower layer\n"
               "      --workdir DIR      scratch directory (bundle, mount points, log)\n"
               "      --oci-config FILE  config.json for crun and runc (rootfs = \"rootfs\")\n"
               "      --no-network       skip the network setup table (libberth-network)\n"
               "  -v, --verbose          print every sample\n"
               "  -h, --help\n");
}

static int parse_uint(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > 100000)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int main(int argc, char *argv[]) {
        Runtime rts[] = {
                { .id = "raw", .label = "raw floor", .run = run_raw,
                  .note = "clone3(pid,mnt,uts,ipc,net,cgroup) + tmpfs + overlay + pivot_root + /proc + exec; "
                          "no /dev, caps, seccomp" },
                { .id = "berth", .label = "berth", .run = run_berth,
                  .note = "berth_container_run() in-process: Ephemeral=yes, network none, default caps+seccomp, "
                          "stub init; steady state (filter cached)" },
                { .id = "crun", .label = "crun", .binary = "crun", .run = run_crun,
                  .note = "crun --cgroup-manager=disabled run; Docker-like seccomp allowlist + 14 caps "
                          "(bench/oci-config.json); own mntns with tmpfs over /sys/fs/cgroup/unified; "
                          "harness tmpfs+overlay mount/umount timed" },
                { .id = "runc", .label = "runc", .binary = "runc", .run = run_runc,
                  .note = "runc run (cgroupfs driver, creates v1 cgroups); same bundle, namespace and overlay "
                          "handling as crun" },
                { .id = "nspawn", .label = "systemd-nspawn", .binary = "systemd-nspawn", .run = run_nspawn,
                  .note = "--register=no --keep-unit -q --private-network --volatile=overlay -D rootfs "
                          "(nspawn's own tmpfs-backed overlay and seccomp)" },
                { .id = "bwrap", .label = "bwrap", .binary = "bwrap", .run = run_bwrap,
                  .note = "--unshare-all (+ user ns) --bind <harness overlay> / --proc --dev; bwrap 0.8 has no "
                          "overlay option; no seccomp, no cap drop" },
        };
        static const struct option options[] = {
                { "iterations", required_argument, NULL, 'n' },
                { "warmup",     required_argument, NULL, 'w' },
                { "cold",       required_argument, NULL, 'c' },
                { "runtimes",   required_argument, NULL, 'r' },
                { "rootfs",     required_argument, NULL, 'R' },
                { "workdir",    required_argument, NULL, 'W' },
                { "oci-config", required_argument, NULL, 'O' },
                { "no-network", no_argument,       NULL, 'N' },
                { "verbose",    no_argument,       NULL, 'v' },
                { "help",       no_argument,       NULL, 'h' },
                {}
        };
        Bench b = { .iterations = 50, .warmup = 3, .cold = 5, .log_fd = -1, .null_fd = -1, .network = true };
        const char *runtimes = "raw,berth,crun,runc,nspawn,bwrap";
        uint64_t first_in_process = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "n:w:c:r:vh", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        if (parse_uint(optarg, &b.iterations) < 0 || b.iterations == 0) {
                                fprintf(stderr, "start-latency: bad --iterations: %s\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'w':
                        if (parse_uint(optarg, &b.warmup) < 0) {
                                fprintf(stderr, "start-latency: bad --warmup: %s\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'c':
                        if (parse_uint(optarg, &b.cold) < 0) {
                                fprintf(stderr, "start-latency: bad --cold: %s\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'r':
                        runtimes = optarg;
                        break;
                case 'R':
                        b.rootfs = realpath(optarg, NULL);
                        if (!b.rootfs) {
                                fprintf(stderr, "start-latency: rootfs %s: %m\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'W':
                        if (mkdir_if_missing(optarg, 0755) < 0 || !(b.workdir = realpath(optarg, NULL))) {
                                fprintf(stderr, "start-latency: workdir %s: %m\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'O':
                        b.oci_config = optarg;
                        break;
                case 'N':
                        b.network = false;
                        break;
                case 'v':
                        b.verbose = true;
                        break;
                case 'h':
                        usage();
                        return EXIT_SUCCESS;
                default:
                        usage();
                        return EXIT_FAILURE;
                }
        }
        if (optind < argc || !b.rootfs || !b.workdir) {
                usage();
                return EXIT_FAILURE;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "start-latency: must run as root\n");
                return EXIT_FAILURE;
        }

        /* Which runtimes. */
        for (const char *p = runtimes; *p;) {
                size_t n = strcspn(p, ",");
                bool found = false;

                for (size_t i = 0; i < ELEMENTS(rts); i++)
                        if (strlen(rts[i].id) == n && strncmp(rts[i].id, p, n) == 0) {
                                rts[i].selected = found = true;
                                break;
                        }
                if (!found && n > 0) {
                        fprintf(stderr, "start-latency: unknown runtime '%.*s'\n", (int) n, p);
                        return EXIT_FAILURE;
                }
                p += n;
                if (*p == ',')
                        p++;
        }

        r = bench_setup(&b);
        if (r < 0)
                return EXIT_FAILURE;
        read_loadavg(b.loadavg_start, sizeof(b.loadavg_start));
        b.fds_start = count_fds();
        b.mounts_start = count_mounts();

        for (size_t i = 0; i < ELEMENTS(rts); i++) {
                Runtime *rt = &rts[i];

                if (!rt->selected)
                        continue;
                rt->samples = calloc(b.iterations, sizeof(uint64_t));
                if (!rt->samples)
                        return EXIT_FAILURE;
                if (strcmp(rt->id, "berth") == 0)
                        for (size_t k = 0; k < ELEMENTS(b.berth_phase); k++) {
                                b.berth_phase[k] = calloc(b.iterations, sizeof(uint64_t));
                                if (!b.berth_phase[k])
                                        return EXIT_FAILURE;
                        }
                if (rt->binary) {
                        if (find_in_path(rt->binary, &rt->path) < 0) {
                                set_error(rt, "%s not installed", rt->binary);
                                continue;
                        }
                        read_version(rt);
                }
                if ((strcmp(rt->id, "crun") == 0 || strcmp(rt->id, "runc") == 0) && !b.oci_config) {
                        set_error(rt, "no --oci-config given");
                        continue;
                }
                rt->usable = true;
        }

        /* berth cold starts first, before this process compiles anything. */
        uint64_t cold[b.cold > 0 ? b.cold : 1];
        size_t n_cold = 0;
        Runtime *berth = NULL;
        for (size_t i = 0; i < ELEMENTS(rts); i++)
                if (strcmp(rts[i].id, "berth") == 0)
                        berth = &rts[i];
        if (berth && berth->usable) {
                r = berth_config_build(&b, &b.berth_config);
                if (r < 0) {
                        set_error(berth, "building BerthConfig: %s", strerror(-r));
                        berth->usable = false;
                } else {
                        n_cold = measure_berth_cold(&b, berth, cold);
                        uint64_t t0 = now_ns();
                        if (run_berth(&b, berth, 0) == 0)
                                first_in_process = now_ns() - t0;
                }
        }

        /* Warm-up: page cache, dentries, lazily loaded libraries; a runtime
         * that cannot start at all is reported and skipped. */
        for (size_t i = 0; i < ELEMENTS(rts); i++) {
                Runtime *rt = &rts[i];

                for (unsigned k = 0; rt->usable && k < (b.warmup > 0 ? b.warmup : 1); k++) {
                        if (rt->run(&b, rt, UINT32_MAX - k) < 0) {
                                fprintf(stderr, "start-latency: %s does not start: %s\n", rt->label, rt->error);
                                rt->usable = false;
                        }
                }
        }

        fprintf(stderr, "start-latency: %u rounds ", b.iterations);
        for (unsigned it = 0; it < b.iterations; it++) {
                for (size_t j = 0; j < ELEMENTS(rts); j++) {
                        Runtime *rt = &rts[(it + j) % ELEMENTS(rts)];
                        uint64_t t0, t1;

                        if (!rt->usable)
                                continue;
                        t0 = now_ns();
                        r = rt->run(&b, rt, it);
                        t1 = now_ns();
                        if (r < 0) {
                                rt->failures++;
                                if (b.verbose)
                                        fprintf(stderr, "\n%s #%u failed: %s", rt->id, it, rt->error);
                                continue;
                        }
                        rt->samples[rt->n_samples++] = t1 - t0;
                        if (strcmp(rt->id, "berth") == 0) {
                                for (size_t k = 0; k < ELEMENTS(b.berth_phase); k++)
                                        b.berth_phase[k][b.n_berth_phase] = b.berth_last_phase[k];
                                b.n_berth_phase++;
                        }
                        if (b.verbose)
                                fprintf(stderr, "\n%s #%u %.3f ms", rt->id, it, (double) (t1 - t0) / NSEC_PER_MSEC);
                }
                if (!b.verbose && (it + 1) % 10 == 0)
                        fputc('.', stderr);
        }
        fputc('\n', stderr);
        read_loadavg(b.loadavg_end, sizeof(b.loadavg_end));
        b.fds_end = count_fds();
        b.mounts_end = count_mounts();

        print_table(&b, rts, ELEMENTS(rts), cold, n_cold, first_in_process);
        if (b.network)
                measure_network(&b);
        return EXIT_SUCCESS;
}
