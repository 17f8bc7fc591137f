/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount.h"
#include "runtime.h"
#include "stub-init.h"
#include "util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void set_error(BerthContainer *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_error(BerthContainer *c, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_free(c->error_message);
        c->error_message = g_strdup_vprintf(fmt, ap);
        va_end(ap);
}

static void bind_free(gpointer p) {
        BerthBind *b = p;
        g_free(b->source);
        g_free(b->destination);
        g_free(b);
}

int berth_container_add_bind(BerthContainer *c, const char *source, const char *destination, bool read_only) {
        if (c->phase != BERTH_PHASE_NEW)
                return -EBUSY;
        if (!g_path_is_absolute(source) || !g_path_is_absolute(destination))
                return -EINVAL;
        BerthBind *b = g_new0(BerthBind, 1);
        b->source = g_strdup(source);
        b->destination = g_strdup(destination);
        b->read_only = read_only;
        g_ptr_array_add(c->extra_binds, b);
        return 0;
}

int berth_container_new(BerthConfig *config, const char *run_dir_base, const char *state_dir_base,
                        BerthContainer **ret) {
        return berth_container_new_full(config, run_dir_base, state_dir_base, ret, NULL);
}

int berth_container_new_full(BerthConfig *config, const char *run_dir_base, const char *state_dir_base,
                             BerthContainer **ret, char **ret_error_message) {
        g_autofree char *state_dir = NULL;
        BerthContainer *c;
        int r;

        if (!config || !config->name || berth_name_validate(config->name) < 0) {
                if (ret_error_message)
                        *ret_error_message = g_strdup("invalid container name");
                return -EINVAL;
        }
        if (!config->directory && !(config->layers && config->layers[0])) {
                if (ret_error_message)
                        *ret_error_message = g_strdup_printf("container %s has no root filesystem", config->name);
                return -EINVAL;
        }

        c = g_new0(BerthContainer, 1);
        c->config = config;
        c->pid = -1;
        c->pidfd = c->sync_fd = c->exit_fd = c->netns_fd = -1;
        c->stdin_fd = c->stdout_fd = c->stderr_fd = -1;
        c->extra_binds = g_ptr_array_new_with_free_func(bind_free);

        run_dir_base = run_dir_base ?: BERTH_RUNTIME_DIR;
        state_dir_base = state_dir_base ?: BERTH_STATE_DIR;
        c->run_dir = g_build_filename(run_dir_base, config->name, NULL);
        c->rootfs_dir = g_build_filename(c->run_dir, "rootfs", NULL);

        if (config->directory) {
                c->lower_dirs = g_new0(char *, 2);
                c->lower_dirs[0] = g_strdup(config->directory);
        } else {
                /* Config lists layers bottom first; overlayfs wants the top first. */
                guint n = g_strv_length(config->layers);
                c->lower_dirs = g_new0(char *, n + 1);
                for (guint i = 0; i < n; i++)
                        c->lower_dirs[i] = g_strdup(config->layers[n - 1 - i]);
        }

        /* The base usually exists: create it only when that says it does not. */
        r = mkdir(c->run_dir, 0711) < 0 ? NEG_ERRNO() : 0;
        if (r == -ENOENT) {
                r = mkdir_p(run_dir_base, 0755);
                if (r < 0) {
                        set_error(c, "creating %s: %s", run_dir_base, strerror(-r));
                        goto fail;
                }
                r = mkdir(c->run_dir, 0711) < 0 ? NEG_ERRNO() : 0;
        }
        if (r < 0) {
                if (r == -EEXIST)
                        set_error(c, "%s exists: container %s is running or was not cleaned up",
                                  c->run_dir, config->name);
                else
                        set_error(c, "creating %s: %s", c->run_dir, strerror(-r));
                g_clear_pointer(&c->run_dir, g_free); /* not ours to remove */
                goto fail;
        }
        if (mkdir(c->rootfs_dir, 0755) < 0) {
                r = NEG_ERRNO();
                set_error(c, "creating %s: %m", c->rootfs_dir);
                goto fail;
        }

        if (!config->ephemeral) {
                if (config->upper_directory) {
                        c->upper_dir = g_strdup(config->upper_directory);
                        c->work_dir = g_strconcat(config->upper_directory, ".work", NULL);
                } else {
                        state_dir = g_build_filename(state_dir_base, "containers", config->name, NULL);
                        c->upper_dir = g_build_filename(state_dir, "upper", NULL);
                        c->work_dir = g_build_filename(state_dir, "work", NULL);
                }
                struct stat st;
                bool fresh = stat(c->upper_dir, &st) < 0;
                r = mkdir_p(c->upper_dir, 0755);
                if (r >= 0)
                        r = mkdir_p(c->work_dir, 0700);
                if (r < 0) {
                        set_error(c, "creating upper directory %s: %s", c->upper_dir, strerror(-r));
                        goto fail;
                }
                if (fresh && config->private_users &&
                    chown(c->upper_dir, config->uid_shift, config->uid_shift) < 0) {
                        r = NEG_ERRNO();
                        set_error(c, "chown %s: %m", c->upper_dir);
                        goto fail;
                }
        } else
                c->upper_dir = g_strdup("(ephemeral tmpfs)/upper");

        {
                g_autofree char *p = g_build_filename(c->run_dir, "exit", NULL);
                c->exit_fd = open(p, O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC|O_NOFOLLOW, 0644);
                if (c->exit_fd < 0) {
                        r = NEG_ERRNO();
                        set_error(c, "creating %s: %m", p);
                        goto fail;
                }
        }

        *ret = c;
        return 0;
fail:
        if (ret_error_message)
                *ret_error_message = g_steal_pointer(&c->error_message);
        berth_container_free(c);
        return r;
}

/* The argv area of the process, so that the container's PID 1 (a copy of
 * this process) can show up as "berth-init" rather than as the daemon. */
static char *argv_area;
static size_t argv_area_len;

void berth_runtime_set_argv(int argc, char **argv) {
        if (argc <= 0 || !argv || !argv[0])
                return;
        char *end = argv[0] + strlen(argv[0]);
        for (int i = 1; i < argc; i++)
                if (argv[i] == end + 1)
                        end = argv[i] + strlen(argv[i]);
        argv_area = argv[0];
        argv_area_len = (size_t) (end - argv[0]);
}

static void rename_process(const char *name) {
        (void) prctl(PR_SET_NAME, name);
        if (!argv_area || argv_area_len == 0)
                return;
        size_t n = strlen(name);
        if (n > argv_area_len)
                n = argv_area_len;
        memset(argv_area, 0, argv_area_len);
        memcpy(argv_area, name, n);
}

/* The network namespace is made apart from clone3 (by a thread, while the
 * child builds its root) unless the host's is shared or it must belong to
 * the container's user namespace. */
static bool netns_after_clone(const BerthConfig *cfg) {
        return !(cfg->host_namespaces & BERTH_NS_NET) && !cfg->private_users;
}

/* ---- the child ---- */

/* stdio of the container: the caller's fds, /dev/null for those it left -1. */
static int move_stdio(const BerthContainer *c, int null_fd) {
        int fds[3] = {
                c->stdin_fd >= 0 ? c->stdin_fd : null_fd,
                c->stdout_fd >= 0 ? c->stdout_fd : null_fd,
                c->stderr_fd >= 0 ? c->stderr_fd : null_fd,
        };
        /* Lift them all above 2 first, so dup2 cannot clobber one another. */
        for (int i = 0; i < 3; i++) {
                int n = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                if (n < 0)
                        return NEG_ERRNO();
                fds[i] = n;
        }
        for (int i = 0; i < 3; i++) {
                if (dup2(fds[i], i) < 0)
                        return NEG_ERRNO();
                close(fds[i]);
        }
        return 0;
}

char **berth_payload_environment(const BerthUser *u, const char *user_name, char **const *lists, size_t n) {
        GPtrArray *env = g_ptr_array_new();
        g_ptr_array_add(env, g_strdup("PATH=" DEFAULT_PATH));
        g_ptr_array_add(env, g_strdup("container=berth"));
        /* No printf family here: this runs in the container's first process,
         * where each first use of libc's formatting code faults its pages in
         * (and its internal realloc() is bound lazily). */
        g_ptr_array_add(env, g_strconcat("HOME=", u->home ? u->home : "/", NULL));
        if (user_name && !g_ascii_isdigit(user_name[0])) {
                g_ptr_array_add(env, g_strconcat("USER=", user_name, NULL));
                g_ptr_array_add(env, g_strconcat("LOGNAME=", user_name, NULL));
        } else if (u->uid == 0) {
                g_ptr_array_add(env, g_strdup("USER=root"));
                g_ptr_array_add(env, g_strdup("LOGNAME=root"));
        }
        for (size_t li = 0; li < n; li++)
                for (char **kv = lists[li]; kv && *kv; kv++) {
                        size_t klen = strcspn(*kv, "=");
                        for (guint j = 0; j < env->len; j++) {
                                const char *e = g_ptr_array_index(env, j);
                                if (strncmp(e, *kv, klen) == 0 && e[klen] == '=') {
                                        g_free(g_ptr_array_steal_index(env, j));
                                        break;
                                }
                        }
                        g_ptr_array_add(env, g_strdup(*kv));
                }
        g_ptr_array_add(env, NULL);
        return (char **) g_ptr_array_free(env, FALSE);
}

static _Noreturn void child_fail(int sync_fd, int r, const char *msg) {
        char text[248];
        const char *reason = strerror(-r);
        /* Messages from deeper down already carry their reason. */
        if (r < 0 && !strstr(msg, reason))
                snprintf(text, sizeof(text), "%s: %s", msg, reason);
        else
                snprintf(text, sizeof(text), "%s", msg);
        berth_sync_send(sync_fd, BERTH_SYNC_ERROR, -r, text);
        _exit(1);
}

/* Receive a message of type expect from the runtime, with an fd or none
 * (*ret_fd = -1). EOF: the runtime is gone, and so are we. */
static int recv_from_runtime(int sync_fd, char expect, int *ret_fd) {
        char type;
        ssize_t k = recv_with_fd(sync_fd, &type, 1, ret_fd);
        if (k == 0)
                _exit(1);
        if (k != 1 || type != expect) {
                *ret_fd = safe_close(*ret_fd);
                return k < 0 ? (int) k : -EBADMSG;
        }
        return 0;
}

/* User=, Group= and SupplementaryGroups= in the container's own files,
 * with extra RESOLVE_* flags; -errno if not resolved. */
static int resolve_user(const BerthConfig *cfg, uint64_t resolve, BerthUser *ret) {
        _cleanup_close_ int root_fd = open("/", O_PATH|O_DIRECTORY|O_CLOEXEC);
        if (root_fd < 0)
                return NEG_ERRNO();
        return berth_user_resolve_full(root_fd, resolve, cfg->user, cfg->group, cfg->supplementary_groups, ret);
}

static const char *user_error(const BerthConfig *cfg, int r, char *msg, size_t len) {
        snprintf(msg, len, "User=%s Group=%s: %s in the container's /etc/passwd or /etc/group",
                 cfg->user ? cfg->user : "root", cfg->group ? cfg->group : "(default)",
                 r == -ESRCH ? "not found" : strerror(-r));
        return msg;
}

static _Noreturn void child_main(BerthContainer *c, int sync_fd, int null_fd, const BerthSeccompProgram *prog,
                                 uint64_t caps) {
        const BerthConfig *cfg = c->config;
        char msg[240] = "";
        int keep[72];
        size_t n_keep = 0;
        int r;

        /* Die with the runtime until the payload runs. (If it died before
         * this, the next read of the sync socket sees EOF.) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(1);

        r = move_stdio(c, null_fd);
        if (r < 0)
                child_fail(sync_fd, r, "setting up stdio");

        keep[n_keep++] = sync_fd;
        keep[n_keep++] = c->exit_fd;
        n_keep += berth_mounts_fds(c->mounts, keep + n_keep, ELEMENTSOF(keep) - n_keep);
        r = close_all_fds_except(keep, n_keep);
        if (r < 0)
                child_fail(sync_fd, r, "closing inherited file descriptors");

        /* Build everything that needs neither the network nor the cgroup
         * namespace while the runtime prepares those. With a user namespace
         * the runtime makes the overlay, once it has written our id maps;
         * without, we make it ourselves. */
        if (cfg->private_users) {
                r = recv_from_runtime(sync_fd, BERTH_SYNC_OVERLAY, &c->mounts->overlay_fd);
                if (r < 0 || c->mounts->overlay_fd < 0)
                        child_fail(sync_fd, -EBADMSG, "no overlay mount came from the runtime");
        }
        bool netns_later = netns_after_clone(cfg);
        r = berth_mounts_setup_root(c, !netns_later, msg, sizeof(msg));
        if (r < 0)
                child_fail(sync_fd, r, msg);

        if (!(cfg->host_namespaces & BERTH_NS_UTS)) {
                const char *h = cfg->hostname ? cfg->hostname : cfg->name;
                if (sethostname(h, strlen(h)) < 0)
                        child_fail(sync_fd, NEG_ERRNO(), "sethostname");
        }

        /* The user, while the runtime may still be making our network
         * namespace, if nothing mounted later can change what /etc/passwd and
         * /etc/group say: no Bind= or TemporaryFileSystem= at or below /etc,
         * and the lookup neither follows a symlink (whose target a later
         * mount could replace) nor crosses a mount (the old root is still
         * stacked on ours, see berth_mounts_setup_root()). Otherwise after
         * the binds. */
        BerthUser u = {};
        bool have_user = false;
        if (!berth_mounts_any_at_or_below(c, "/etc")) {
                r = resolve_user(cfg, RESOLVE_NO_XDEV|RESOLVE_NO_SYMLINKS, &u);
                if (r >= 0)
                        have_user = true;
                else if (r != -EXDEV && r != -ELOOP)
                        child_fail(sync_fd, r, user_error(cfg, r, msg, sizeof(msg)));
        }

        /* Nothing more to do before GO: if it is not here yet, detach the old
         * root while we wait (its RCU grace period is long while the network
         * namespace is being made, but then we are waiting anyway). */
        struct pollfd go = { .fd = sync_fd, .events = POLLIN };
        if (poll(&go, 1, 0) == 0) {
                r = berth_mounts_detach_old_root(c, msg, sizeof(msg));
                if (r < 0)
                        child_fail(sync_fd, r, msg);
        }

        /* GO: the runtime has set up network and cgroup; the network namespace
         * comes with it unless we have been in it since clone3. */
        _cleanup_close_ int netns_fd = -1;
        r = recv_from_runtime(sync_fd, BERTH_SYNC_GO, &netns_fd);
        if (r < 0 || (netns_fd >= 0) != netns_later)
                child_fail(sync_fd, -EBADMSG, "unexpected message instead of GO from the runtime");
        if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
                child_fail(sync_fd, NEG_ERRNO(), "entering the network namespace");
        netns_fd = safe_close(netns_fd);

        /* A cgroup namespace rooted at the scope we were moved into meanwhile. */
        if (!(cfg->host_namespaces & BERTH_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
                child_fail(sync_fd, NEG_ERRNO(), "unsharing the cgroup namespace");

        r = berth_mounts_setup_rest(c, msg, sizeof(msg));
        if (r < 0)
                child_fail(sync_fd, r, msg);
        /* The mount fds did their job: PID 1 keeps only stdio, the sync
         * socket (until READY) and the exit-status file. */
        berth_mounts_free(c->mounts);
        c->mounts = NULL;

        /* After the binds: /etc/passwd may be one. */
        if (!have_user) {
                r = resolve_user(cfg, 0, &u);
                if (r < 0)
                        child_fail(sync_fd, r, user_error(cfg, r, msg, sizeof(msg)));
        }
        char **envp = berth_payload_environment(&u, cfg->user, (char **const[]) { cfg->environment }, 1);

        if (cfg->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(sync_fd, NEG_ERRNO(), "PR_SET_NO_NEW_PRIVS");

        /* The filter goes in while we still hold CAP_SYS_ADMIN, so it also
         * works with NoNewPrivileges=no. Nothing below needs a denied call. */
        if (prog) {
                r = berth_seccomp_load(prog);
                if (r < 0)
                        child_fail(sync_fd, r, "loading the seccomp filter");
        }

        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                child_fail(sync_fd, NEG_ERRNO(), "PR_SET_KEEPCAPS");
        r = sys_setgroups(u.n_groups, u.groups);
        if (r < 0)
                child_fail(sync_fd, r, "setgroups");
        r = sys_setresgid(u.gid, u.gid, u.gid);
        if (r < 0)
                child_fail(sync_fd, r, "setresgid");
        r = sys_setresuid(u.uid, u.uid, u.uid);
        if (r < 0)
                child_fail(sync_fd, r, "setresuid");
        r = berth_caps_apply(caps, u.uid == 0);
        if (r < 0)
                child_fail(sync_fd, r, "applying the capability sets");
        (void) prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);

        const char *default_cmd[] = { "/bin/sh", NULL };
        char **argv = cfg->command && cfg->command[0] ? cfg->command : (char **) default_cmd;
        /* With the payload's ids: WorkingDirectory=, or its home if it may
         * enter it, else /. The stub and the payload inherit it. */
        if (cfg->working_directory) {
                if (chdir(cfg->working_directory) < 0) {
                        r = NEG_ERRNO();
                        snprintf(msg, sizeof(msg), "WorkingDirectory=%s: %s", cfg->working_directory, strerror(-r));
                        child_fail(sync_fd, r, msg);
                }
        } else if ((!u.home || chdir(u.home) < 0) && chdir("/") < 0)
                child_fail(sync_fd, NEG_ERRNO(), "chdir /");

        /* From here the container outlives the runtime process. */
        (void) prctl(PR_SET_PDEATHSIG, 0);

        if (cfg->boot)
                berth_exec_payload(argv, envp, sync_fd);
        rename_process("berth-init");
        berth_stub_init(argv, envp, sync_fd, c->exit_fd);
}

/* ---- the parent ---- */

static int write_id_map(pid_t pid, const char *which, uint32_t shift, uint32_t range) {
        char path[64], buf[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, which);
        int n = snprintf(buf, sizeof(buf), "0 %u %u\n", shift, range);
        _cleanup_close_ int fd = open(path, O_WRONLY|O_CLOEXEC);
        if (fd < 0)
                return NEG_ERRNO();
        if (write(fd, buf, (size_t) n) != n)
                return NEG_ERRNO();
        return 0;
}

static int send_to_child(BerthContainer *c, char type, int fd) {
        return send_with_fd(c->sync_fd, &type, 1, fd);
}

/* A setup error the child left on the sync socket before it died, if any:
 * into c->error_message, as -errno. 0 if there is none. */
static int take_child_error(BerthContainer *c) {
        BerthSyncMsg m;
        if (c->sync_fd < 0)
                return 0;
        ssize_t k = recv(c->sync_fd, &m, sizeof(m), MSG_DONTWAIT);
        if (k != (ssize_t) sizeof(m) || m.type != BERTH_SYNC_ERROR)
                return 0;
        m.text[sizeof(m.text) - 1] = 0;
        set_error(c, "%s", m.text);
        return m.error > 0 ? -m.error : -EIO;
}

/* The child stopped listening: it failed on its own and (maybe) said why. */
static int child_gone(BerthContainer *c, int r) {
        int e = take_child_error(c);
        if (e < 0)
                return e;
        set_error(c, "container %s: its first process died during setup", c->config->name);
        return r;
}

/* The child starts with a copy-on-write image of our heap. glibc's malloc
 * keeps small freed chunks in fast bins and merges all of them on the next
 * larger request, writing chunk headers all over the heap: done first in the
 * child (it reads /etc/passwd and /etc/group into larger buffers), that
 * copies some fifty pages per start. A larger request here, just before the
 * clone, does the merging in pages that are ours alone. */
static void heap_settle(void) {
        void *volatile p = malloc(4096);
        free(p);
}

/* Collect the network namespace from the netns thread, if asked for; the
 * error (named) once, however often this is called. */
static int netns_join(BerthContainer *c) {
        if (c->netns_requested) {
                c->netns_error = berth_netns_wait(&c->netns_request, &c->netns_fd);
                c->netns_requested = false;
                if (c->netns_error < 0)
                        set_error(c, "container %s: creating the network namespace: %s", c->config->name,
                                  strerror(-c->netns_error));
        }
        return c->netns_error;
}

int berth_container_clone(BerthContainer *c) {
        const BerthConfig *cfg = c->config;
        const BerthSeccompProgram *prog = NULL;
        _cleanup_close_ int null_fd = -1;
        int sp[2], pidfd = -1, r;
        char msg[240] = "";
        uint64_t flags;

        if (c->phase != BERTH_PHASE_NEW)
                return -EBUSY;

        if (cfg->seccomp) {
                r = berth_seccomp_compile(cfg->syscall_allow, cfg->syscall_deny, &prog);
                if (r == -EPERM) {
                        const char *needed = berth_seccomp_required_denied(cfg->syscall_deny);
                        set_error(c, "container %s: [Security] SystemCallDeny=%s: berth needs %s to start the container",
                                  cfg->name, needed, needed);
                        return r;
                }
                if (r < 0) {
                        set_error(c, "container %s: compiling the seccomp filter: %s", cfg->name, strerror(-r));
                        return r;
                }
        }
        uint64_t caps = berth_caps_effective(cfg);
        (void) berth_caps_last_cap(); /* cached now: /proc is masked in the child */

        r = berth_mounts_prepare(c, msg, sizeof(msg));
        if (r < 0) {
                set_error(c, "%s", msg);
                return r;
        }

        if (c->stdin_fd < 0 || c->stdout_fd < 0 || c->stderr_fd < 0) {
                null_fd = open("/dev/null", O_RDWR|O_CLOEXEC|O_NOCTTY);
                if (null_fd < 0) {
                        r = NEG_ERRNO();
                        set_error(c, "container %s: opening /dev/null for its stdio: %s", cfg->name, strerror(-r));
                        return r;
                }
        }

        if (socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, sp) < 0) {
                r = NEG_ERRNO();
                set_error(c, "container %s: creating the sync socket: %s", cfg->name, strerror(-r));
                return r;
        }

        /* The cgroup namespace is unshared by the child once it sits in its
         * scope; the network namespace usually comes from netns-maker.c. */
        flags = CLONE_PIDFD | CLONE_NEWNS;
        if (!(cfg->host_namespaces & BERTH_NS_PID))
                flags |= CLONE_NEWPID;
        if (!(cfg->host_namespaces & BERTH_NS_UTS))
                flags |= CLONE_NEWUTS;
        if (!(cfg->host_namespaces & BERTH_NS_IPC))
                flags |= CLONE_NEWIPC;
        if (!(cfg->host_namespaces & BERTH_NS_NET) && !netns_after_clone(cfg))
                flags |= CLONE_NEWNET;
        if (cfg->private_users)
                flags |= CLONE_NEWUSER;

        struct clone_args args = {
                .flags = flags,
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
        };

        heap_settle();
        long pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0) {
                r = NEG_ERRNO();
                close(sp[0]);
                close(sp[1]);
                set_error(c, "container %s: clone3: %s", cfg->name, strerror(-r));
                return r;
        }
        if (pid == 0) {
                close(sp[0]);
                child_main(c, sp[1], null_fd, prog, caps);
        }

        close(sp[1]);
        c->sync_fd = sp[0];
        c->pid = (pid_t) pid;
        c->pidfd = pidfd;
        c->phase = BERTH_PHASE_CLONED;

        /* With a user namespace: the id maps, then the overlay with lower
         * layers idmapped into it. (Otherwise the child makes its own.) */
        if (cfg->private_users) {
                _cleanup_close_ int userns_fd = -1;
                r = write_id_map(c->pid, "uid_map", cfg->uid_shift, cfg->uid_range);
                if (r >= 0)
                        r = write_id_map(c->pid, "gid_map", cfg->uid_shift, cfg->uid_range);
                if (r < 0) {
                        set_error(c, "container %s: writing the user namespace id maps: %s", cfg->name, strerror(-r));
                        return r;
                }
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/ns/user", (int) c->pid);
                userns_fd = open(p, O_RDONLY|O_CLOEXEC);
                if (userns_fd < 0) {
                        r = NEG_ERRNO();
                        set_error(c, "container %s: opening its user namespace: %s", cfg->name, strerror(-r));
                        return r;
                }
                r = berth_mounts_make_overlay(c, userns_fd, msg, sizeof(msg));
                if (r < 0) {
                        set_error(c, "%s", msg);
                        return r;
                }
                r = send_to_child(c, BERTH_SYNC_OVERLAY, c->mounts->overlay_fd);
                if (r < 0)
                        return child_gone(c, r);
        }

        /* The network namespace, while the child builds its root. */
        if (netns_after_clone(cfg)) {
                r = berth_netns_request(&c->netns_request);
                if (r < 0) {
                        set_error(c, "container %s: starting the thread that creates network namespaces: %s",
                                  c->config->name, strerror(-r));
                        return r;
                }
                c->netns_requested = true;
        }

        /* The child holds its own references to every mount fd now. */
        berth_mounts_free(c->mounts);
        c->mounts = NULL;
        return 0;
}

int berth_container_open_netns(BerthContainer *c) {
        int r;

        if (c->phase != BERTH_PHASE_CLONED)
                return -EBUSY;
        if (c->config->host_namespaces & BERTH_NS_NET)
                return -ENOENT;
        if (!netns_after_clone(c->config)) {
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/ns/net", (int) c->pid);
                int fd = open(p, O_RDONLY|O_CLOEXEC);
                return fd < 0 ? NEG_ERRNO() : fd;
        }
        r = netns_join(c);
        if (r < 0)
                return r;
        r = fcntl(c->netns_fd, F_DUPFD_CLOEXEC, 3);
        return r < 0 ? NEG_ERRNO() : r;
}

int berth_container_release(BerthContainer *c) {
        int r;

        if (c->phase != BERTH_PHASE_CLONED)
                return -EBUSY;
        r = netns_join(c);
        if (r < 0)
                return r;

        c->exit.started_usec = now_usec(CLOCK_REALTIME);
        r = send_to_child(c, BERTH_SYNC_GO, c->netns_fd);
        if (r < 0)
                return child_gone(c, r);
        /* The child is in it now (or will die without it). */
        c->netns_fd = safe_close(c->netns_fd);
        c->phase = BERTH_PHASE_RELEASED;
        return 0;
}

int berth_container_wait_ready(BerthContainer *c) {
        BerthSyncMsg m;
        ssize_t k;

        if (c->phase != BERTH_PHASE_RELEASED)
                return -EBUSY;
        do
                k = recv(c->sync_fd, &m, sizeof(m), 0);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return NEG_ERRNO();

        if (k == (ssize_t) sizeof(m) && m.type == BERTH_SYNC_READY) {
                c->sync_fd = safe_close(c->sync_fd);
                c->exit.ready_usec = now_usec(CLOCK_REALTIME);
                c->phase = BERTH_PHASE_RUNNING;
                return 0;
        }
        if (k == (ssize_t) sizeof(m) && m.type == BERTH_SYNC_ERROR) {
                m.text[sizeof(m.text) - 1] = 0;
                set_error(c, "%s", m.text);
                c->sync_fd = safe_close(c->sync_fd);
                return m.error > 0 ? -m.error : -EIO;
        }
        c->sync_fd = safe_close(c->sync_fd);
        if (k == 0 && c->config->boot) {
                /* The sync socket closed on exec: the payload runs as PID 1. */
                c->exit.ready_usec = now_usec(CLOCK_REALTIME);
                c->phase = BERTH_PHASE_RUNNING;
                return 0;
        }
        set_error(c, "container %s: its first process died during setup", c->config->name);
        return -ECHILD;
}

/* The stub's exit-status file: "EXIT_CODE=N\nEXIT_SIGNAL=N\n". */
static int parse_exit(const char *data, BerthExit *ret) {
        int code = -1, sig = 0;
        if (sscanf(data, "EXIT_CODE=%d\nEXIT_SIGNAL=%d", &code, &sig) != 2)
                return -ENODATA;
        ret->code = code;
        ret->signal = sig;
        return 0;
}

static void fill_exit(BerthContainer *c, const siginfo_t *si, BerthExit *ret) {
        c->exit.exited_usec = now_usec(CLOCK_REALTIME);
        /* Died before anyone asked for READY: keep what it said. */
        if (c->phase < BERTH_PHASE_RUNNING && !c->error_message)
                (void) take_child_error(c);
        if (si->si_code == CLD_EXITED) {
                c->exit.code = si->si_status;
                c->exit.signal = 0;
        } else {
                c->exit.signal = si->si_status;
                c->exit.code = 128 + si->si_status;
                c->exit.dumped_core = si->si_code == CLD_DUMPED;
        }
        /* The stub reports the payload's signal death as 128+N: mirror it. */
        if (c->exit.signal == 0 && c->exit_fd >= 0) {
                char buf[64];
                BerthExit e;
                ssize_t k = pread(c->exit_fd, buf, sizeof(buf) - 1, 0);
                if (k > 0) {
                        buf[k] = 0;
                        if (parse_exit(buf, &e) >= 0 && e.signal)
                                c->exit.signal = e.signal;
                }
        }
        c->phase = BERTH_PHASE_EXITED;
        c->pidfd = safe_close(c->pidfd);
        if (ret)
                *ret = c->exit;
}

/* waitid() on the pidfd with flags (0 or WNOHANG); the exit, once known. */
static int collect(BerthContainer *c, int flags, BerthExit *ret) {
        siginfo_t si = {};
        if (c->phase == BERTH_PHASE_EXITED) {
                if (ret)
                        *ret = c->exit;
                return 0;
        }
        if (c->pidfd < 0)
                return -ECHILD;
        while (waitid((idtype_t) P_PIDFD, (id_t) c->pidfd, &si, WEXITED|flags) < 0) {
                if (errno == EINTR)
                        continue;
                if (errno != ECHILD || !(flags & WNOHANG))
                        return NEG_ERRNO();
                /* Not our child (re-adopted), and its pidfd said it is gone:
                 * the stub left its status behind. */
                BerthExit e = {};
                int r = berth_container_read_exit_file(c->run_dir, &e);
                if (r < 0)
                        return r;
                c->exit.code = e.code;
                c->exit.signal = e.signal;
                c->exit.exited_usec = now_usec(CLOCK_REALTIME);
                c->phase = BERTH_PHASE_EXITED;
                c->pidfd = safe_close(c->pidfd);
                if (ret)
                        *ret = c->exit;
                return 0;
        }
        if (si.si_pid == 0)
                return -EAGAIN;
        fill_exit(c, &si, ret);
        return 0;
}

int berth_container_wait(BerthContainer *c, BerthExit *ret) {
        return collect(c, 0, ret);
}

int berth_container_reap(BerthContainer *c, BerthExit *ret) {
        return collect(c, WNOHANG, ret);
}

int berth_container_read_exit_file(const char *run_dir, BerthExit *ret) {
        g_autofree char *p = g_build_filename(run_dir, "exit", NULL);
        g_autofree char *data = NULL;

        if (!g_file_get_contents(p, &data, NULL, NULL))
                return -ENODATA;
        return parse_exit(data, ret);
}

int berth_container_kill(BerthContainer *c, int sig) {
        if (c->pidfd < 0 || c->phase == BERTH_PHASE_EXITED)
                return -ESRCH;
        return sys_pidfd_send_signal(c->pidfd, sig);
}

void berth_container_free(BerthContainer *c) {
        if (!c)
                return;
        if (c->pidfd >= 0 && c->phase != BERTH_PHASE_EXITED) {
                /* Killing PID 1 of a PID namespace takes everything in it along. */
                (void) sys_pidfd_send_signal(c->pidfd, SIGKILL);
                (void) berth_container_wait(c, NULL);
        }
        (void) netns_join(c);
        safe_close(c->netns_fd);
        safe_close(c->pidfd);
        safe_close(c->sync_fd);
        safe_close(c->exit_fd);
        berth_mounts_free(c->mounts);

        if (c->run_dir) {
                _cleanup_close_ int dfd = open(c->run_dir, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                if (dfd >= 0) {
                        (void) unlinkat(dfd, "exit", 0);
                        (void) unlinkat(dfd, "rootfs", AT_REMOVEDIR);
                }
                (void) rmdir(c->run_dir);
        }

        g_free(c->run_dir);
        g_free(c->rootfs_dir);
        g_free(c->upper_dir);
        g_free(c->work_dir);
        g_strfreev(c->lower_dirs);
        g_ptr_array_unref(c->extra_binds);
        g_free(c->error_message);
        g_free(c);
}

int berth_container_run(BerthConfig *config, const char *run_dir_base, const char *state_dir_base,
                        BerthExit *ret, char **ret_error_message) {
        BerthContainer *c = NULL;
        int r;

        r = berth_container_new_full(config, run_dir_base, state_dir_base, &c, ret_error_message);
        if (r < 0)
                return r;
        r = berth_container_clone(c);
        if (r >= 0)
                r = berth_container_release(c);
        if (r >= 0)
                r = berth_container_wait_ready(c);
        if (r >= 0)
                r = berth_container_wait(c, ret);
        if (r < 0 && ret_error_message)
                *ret_error_message = g_strdup(c->error_message ? c->error_message : strerror(-r));
        berth_container_free(c);
        return r;
}
