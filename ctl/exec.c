/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * berthctl exec / shell: run a command inside a running container.
 *
 *   berthctl (host, never enters the container)
 *     └─ joiner: joins the leader's cgroup (cgroup.procs), then
 *        setns(pidfd, every namespace); opens a pty in the container's devpts
 *        and passes the master back; forks the payload and reports its wait
 *        status over a socket. Stays in the host PID namespace, invisible to
 *        the container.
 *          └─ payload: in the container's PID namespace; no_new_privs,
 *             seccomp, uid/gid switch and capability drop exactly in the
 *             order the runtime uses for the container's own payload; exec.
 *
 * berthctl relays the pty (stdin raw, window size, SIGWINCH) or, without a
 * pty, the payload simply inherits berthctl's stdin/stdout/stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <termios.h>
#include <unistd.h>

#include "berthctl.h"
#include "config.h"
#include "runtime.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

extern char **environ;

enum {
        MSG_PTY = 1,     /* value: payload pid; SCM_RIGHTS: pty master */
        MSG_PID,         /* value: payload pid (no pty) */
        MSG_STATUS,      /* value: wait status of the payload */
        MSG_ERROR,       /* value: errno; text: what failed */
};

typedef struct Msg {
        int type;
        int value;
        char text[200];
} Msg;

static int send_msg(int fd, int type, int value, const char *text, int pass_fd) {
        Msg m = { .type = type, .value = value };
        if (text)
                snprintf(m.text, sizeof(m.text), "%s", text);
        return send_with_fd(fd, &m, sizeof(m), pass_fd);
}

/* 1 and the message (and an fd, if ret_fd), 0 at EOF, or -errno. */
static int recv_msg(int fd, Msg *m, int *ret_fd) {
        int passed = -1;
        if (ret_fd)
                *ret_fd = -1;
        ssize_t n = recv_with_fd(fd, m, sizeof(*m), &passed);
        if (n <= 0)
                return (int) n;
        if ((size_t) n != sizeof(*m)) {
                safe_close(passed);
                return -EBADMSG;
        }
        m->text[sizeof(m->text) - 1] = 0;
        if (ret_fd)
                *ret_fd = passed;
        else
                safe_close(passed);
        return 1;
}

/* cgroup.procs files of every hierarchy the leader is in (v2, and on a
 * hybrid host the named systemd hierarchy and v1 controllers), opened here in
 * the host's mount namespace. */
static GArray *open_cgroup_procs(pid_t leader, char **ret_error) {
        g_autofree char *p = g_strdup_printf("/proc/%d/cgroup", (int) leader), *data = NULL;
        GArray *fds = g_array_new(FALSE, FALSE, sizeof(int));
        bool unified = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
        bool required_ok = false;

        if (read_full(p, &data, NULL) < 0) {
                *ret_error = g_strdup_printf("cannot read %s", p);
                return fds;
        }
        g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit(*l, ":", 3);
                g_autofree char *dir = NULL;
                bool required = false;
                if (g_strv_length(f) != 3)
                        continue;
                if (strcmp(f[0], "0") == 0 && !*f[1]) {
                        dir = g_strconcat(unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified", f[2], NULL);
                        required = true;
                } else if (strcmp(f[1], "name=systemd") == 0) {
                        dir = g_strconcat("/sys/fs/cgroup/systemd", f[2], NULL);
                        required = true;
                } else if (*f[1] && !unified)
                        dir = g_strconcat("/sys/fs/cgroup/", f[1], f[2], NULL);
                else
                        continue;
                g_autofree char *procs = g_build_filename(dir, "cgroup.procs", NULL);
                int fd = open(procs, O_WRONLY|O_CLOEXEC|O_NOCTTY);
                if (fd < 0)
                        continue;
                /* The hierarchy that must work (v2, or systemd's named one)
                 * goes first: the joiner fails only if that write fails. */
                if (required && !required_ok) {
                        g_array_prepend_val(fds, fd);
                        required_ok = true;
                } else
                        g_array_append_val(fds, fd);
        }
        if (!required_ok)
                *ret_error = g_strdup_printf("cannot open the cgroup of PID %d", (int) leader);
        return fds;
}

static bool same_ns(pid_t pid, const char *ns) {
        g_autofree char *a = g_strdup_printf("/proc/%d/ns/%s", (int) pid, ns);
        g_autofree char *b = g_strdup_printf("/proc/self/ns/%s", ns);
        struct stat sa, sb;
        if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
                return false;
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Effective capability bounding set and flags of the leader, from the kernel. */
static void leader_status(pid_t leader, uint64_t *ret_bnd, bool *ret_nnp, int *ret_seccomp) {
        g_autofree char *p = g_strdup_printf("/proc/%d/status", (int) leader), *data = NULL;
        *ret_bnd = UINT64_MAX;
        *ret_nnp = false;
        *ret_seccomp = 0;
        if (read_full(p, &data, NULL) < 0)
                return;
        g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
        for (char **l = lines; *l; l++) {
                if (g_str_has_prefix(*l, "CapBnd:"))
                        *ret_bnd = g_ascii_strtoull(*l + 7, NULL, 16);
                else if (g_str_has_prefix(*l, "NoNewPrivs:"))
                        *ret_nnp = atoi(*l + 11) != 0;
                else if (g_str_has_prefix(*l, "Seccomp:"))
                        *ret_seccomp = atoi(*l + 8);
        }
}

static const struct {
        const char *name;
        int flag;
} ns_order[] = {
        { "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
        { "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};

typedef struct ExecContext {
        int pidfd;
        int ns_fds[7];       /* by ns_order, opened in the host's mount namespace; -1 if none */
        int ns_flags;
        GArray *cgroup_fds;
        BerthConfig *cfg;
        const BerthSeccompProgram *seccomp;
        bool nnp;
        uint64_t caps;
        const char *user, *group;
        char **supplementary;
        const char *workdir;
        char **argv;         /* NULL for shell */
        bool shell;
        bool pty;
        int sock;            /* joiner's end */
} ExecContext;

/* Close the namespace and cgroup fds opened for the joiner (parent side). */
static void exec_context_close_fds(ExecContext *x) {
        for (size_t i = 0; i < G_N_ELEMENTS(ns_order); i++)
                x->ns_fds[i] = safe_close(x->ns_fds[i]);
        if (x->cgroup_fds) {
                for (guint i = 0; i < x->cgroup_fds->len; i++)
                        close(g_array_index(x->cgroup_fds, int, i));
                g_clear_pointer(&x->cgroup_fds, g_array_unref);
        }
}

static _Noreturn void payload_fail(const char *what, int err) {
        fprintf(stderr, "berthctl: %s: %s\n", what, strerror(err));
        _exit(EXIT_EXEC_FAILED);
}

static _Noreturn void run_payload(ExecContext *x, BerthUser *u, char **envp, int slave) {
        sigset_t all;
        int r;

        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) signal(s, SIG_DFL);

        if (slave >= 0) {
                if (setsid() < 0)
                        payload_fail("setsid", errno);
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        payload_fail("TIOCSCTTY", errno);
                for (int i = 0; i < 3; i++)
                        if (dup2(slave, i) < 0)
                                payload_fail("dup2", errno);
                if (slave > 2)
                        close(slave);
        }
        /* Nothing but stdio crosses into the container. */
        if (close_all_fds_except(NULL, 0) < 0)
                for (int fd = 3; fd < 1024; fd++)
                        (void) close(fd);

        const char *cwd = x->workdir ? x->workdir : (x->cfg->working_directory ? x->cfg->working_directory : NULL);
        if (cwd) {
                if (chdir(cwd) < 0)
                        payload_fail(cwd, errno);
        } else if (!u->home || chdir(u->home) < 0)
                (void) chdir("/");

        if (x->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                payload_fail("PR_SET_NO_NEW_PRIVS", errno);
        if (x->seccomp) {
                r = berth_seccomp_load(x->seccomp);
                if (r < 0)
                        payload_fail("loading the seccomp filter", -r);
        }
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                payload_fail("PR_SET_KEEPCAPS", errno);
        if (setgroups(u->n_groups, u->groups) < 0)
                payload_fail("setgroups", errno);
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                payload_fail("setresgid", errno);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                payload_fail("setresuid", errno);
        r = berth_caps_apply(x->caps, u->uid == 0);
        if (r < 0)
                payload_fail("applying the capability sets", -r);
        (void) prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);

        environ = envp;
        if (x->shell) {
                const char *sh = u->shell && *u->shell ? u->shell : "/bin/sh";
                const char *base = strrchr(sh, '/');
                g_autofree char *argv0 = g_strconcat("-", base ? base + 1 : sh, NULL);
                char *argv[] = { argv0, NULL };
                execv(sh, argv);
                r = errno;
                fprintf(stderr, "berthctl: %s: %s\n", sh, strerror(r));
        } else {
                execvp(x->argv[0], x->argv);
                r = errno;
                fprintf(stderr, "berthctl: %s: %s\n", x->argv[0], strerror(r));
        }
        _exit(r == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

static _Noreturn void joiner_fail(int sock, const char *what, int err) {
        (void) send_msg(sock, MSG_ERROR, err, what, -1);
        _exit(EXIT_EXEC_FAILED);
}

static _Noreturn void run_joiner(ExecContext *x) {
        _cleanup_close_ int master = -1, slave = -1;
        int r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The payload must not be ptrace-able by the container before exec. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        /* Signals are for the payload; the joiner only waits. */
        (void) signal(SIGINT, SIG_IGN);
        (void) signal(SIGQUIT, SIG_IGN);
        (void) signal(SIGTERM, SIG_IGN);
        (void) signal(SIGHUP, SIG_IGN);
        (void) signal(SIGTSTP, SIG_IGN);

        for (guint i = 0; i < x->cgroup_fds->len; i++) {
                int fd = g_array_index(x->cgroup_fds, int, i);
                if (write(fd, "0\n", 2) < 0 && i == 0)
                        joiner_fail(x->sock, "joining the container's cgroup", errno);
                close(fd);
        }

        if (setns(x->pidfd, x->ns_flags) < 0) {
                /* Kernels before 5.8 take no pidfd: one namespace fd at a time,
                 * user first, mount last (as nsenter does). */
                if (errno != EINVAL)
                        joiner_fail(x->sock, "joining the container's namespaces (setns)", errno);
                for (size_t i = 0; i < G_N_ELEMENTS(ns_order); i++) {
                        if (x->ns_fds[i] < 0 || !(x->ns_flags & ns_order[i].flag))
                                continue;
                        if (setns(x->ns_fds[i], ns_order[i].flag) < 0) {
                                g_autofree char *m = g_strdup_printf("joining the container's %s namespace", ns_order[i].name);
                                joiner_fail(x->sock, m, errno);
                        }
                }
        }
        for (size_t i = 0; i < G_N_ELEMENTS(ns_order); i++)
                if (x->ns_fds[i] >= 0)
                        close(x->ns_fds[i]);
        if (chdir("/") < 0)
                joiner_fail(x->sock, "chdir /", errno);

        BerthUser u = {};
        {
                _cleanup_close_ int root = open("/", O_PATH|O_DIRECTORY|O_CLOEXEC);
                if (root < 0)
                        joiner_fail(x->sock, "opening the container's root", errno);
                r = berth_user_resolve(root, x->user, x->group, x->supplementary, &u);
                if (r < 0) {
                        g_autofree char *m = g_strdup_printf("user %s in the container's /etc/passwd",
                                                             x->user ? x->user : "root");
                        joiner_fail(x->sock, m, r == -ESRCH ? ESRCH : -r);
                }
        }
        /* A terminal gets TERM, which the config and --setenv may still change. */
        const char *term = getenv("TERM");
        g_autofree char *term_kv = g_strdup_printf("TERM=%s", term && *term ? term : "xterm");
        char *term_list[] = { x->pty ? term_kv : NULL, NULL };
        char **envp = berth_payload_environment(&u, x->user, (char **const[]) { term_list, x->cfg->environment, arg.setenv }, 3);

        if (x->pty) {
                /* The container's own devpts instance, reached through its /dev. */
                master = open("/dev/ptmx", O_RDWR|O_NOCTTY|O_CLOEXEC);
                if (master < 0)
                        joiner_fail(x->sock, "opening /dev/ptmx in the container", errno);
                if (unlockpt(master) < 0)
                        joiner_fail(x->sock, "unlockpt", errno);
                slave = ioctl(master, TIOCGPTPEER, O_RDWR|O_NOCTTY|O_CLOEXEC);
                if (slave < 0)
                        joiner_fail(x->sock, "opening the pty peer", errno);
                struct winsize ws;
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) >= 0)
                        (void) ioctl(master, TIOCSWINSZ, &ws);
                struct termios t;
                if (tcgetattr(STDIN_FILENO, &t) >= 0) {
                        /* Start from the user's terminal settings, in cooked mode. */
                        (void) tcsetattr(slave, TCSANOW, &t);
                }
        }

        pid_t pid = fork();
        if (pid < 0)
                joiner_fail(x->sock, "fork", errno);
        if (pid == 0) {
                close(x->sock);
                if (master >= 0)
                        close(master);
                run_payload(x, &u, envp, slave);
        }
        if (slave >= 0)
                slave = safe_close(slave);
        if (x->pty)
                r = send_msg(x->sock, MSG_PTY, pid, NULL, master);
        else
                r = send_msg(x->sock, MSG_PID, pid, NULL, -1);
        master = safe_close(master);

        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(EXIT_EXEC_FAILED);
        (void) send_msg(x->sock, MSG_STATUS, status, NULL, -1);
        _exit(0);
}

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void) {
        if (termios_saved) {
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
                termios_saved = false;
        }
}

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd p = { .fd = fd, .events = POLLOUT };
                                (void) poll(&p, 1, -1);
                                continue;
                        }
                        return -errno;
                }
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

static int status_to_exit(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return EXIT_EXEC_FAILED;
}

/* After a failed start: stop the payload if there is one and the joiner, and
 * reap the joiner, so neither outlives berthctl. */
static int supervise_fail(pid_t joiner, pid_t payload) {
        if (payload > 0)
                (void) kill(payload, SIGKILL);
        (void) kill(joiner, SIGKILL);
        while (waitpid(joiner, NULL, 0) < 0 && errno == EINTR)
                ;
        return EXIT_EXEC_FAILED;
}

/* Parent: relay and wait. Returns the exit status. */
static int supervise(int sock, pid_t joiner, bool pty, const char *target) {
        _cleanup_close_ int master = -1, sfd = -1;
        pid_t payload = 0;
        int status = -1;
        bool master_open = false, stdin_open = pty;
        sigset_t mask;
        Msg m;
        int r, fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC|SFD_NONBLOCK);

        r = recv_msg(sock, &m, &fd);
        if (r <= 0) {
                fprintf(stderr, "berthctl: the process joining %s died\n", target);
                return supervise_fail(joiner, 0);
        }
        if (m.type == MSG_ERROR) {
                fprintf(stderr, "Failed %s (%s): %s\n", m.text, target, strerror(m.value));
                return supervise_fail(joiner, 0);
        }
        payload = m.value;
        if (m.type == MSG_PTY) {
                master = fd;
                if (master < 0) {
                        fprintf(stderr, "berthctl: no pty master received from %s\n", target);
                        return supervise_fail(joiner, payload);
                }
                master_open = true;
                (void) fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
                struct termios raw;
                if (tcgetattr(STDIN_FILENO, &saved_termios) >= 0) {
                        termios_saved = true;
                        atexit(restore_terminal);
                        raw = saved_termios;
                        cfmakeraw(&raw);
                        raw.c_oflag = saved_termios.c_oflag; /* keep output processing on our side */
                        (void) tcsetattr(STDIN_FILENO, TCSANOW, &raw);
                }
        } else if (fd >= 0)
                close(fd);

        char buf[16384];
        bool got_status = false;
        while (!got_status || master_open) {
                struct pollfd p[4];
                int n = 0, i_sock = -1, i_master = -1, i_stdin = -1, i_sig = -1;

                if (got_status) {
                        /* Payload gone: drain what is left of its output, then stop. */
                        ssize_t k;
                        while (master_open && (k = read(master, buf, sizeof(buf))) > 0)
                                (void) write_all(STDOUT_FILENO, buf, (size_t) k);
                        break;
                }
                i_sock = n; p[n++] = (struct pollfd) { .fd = sock, .events = POLLIN };
                if (master_open) {
                        i_master = n;
                        p[n++] = (struct pollfd) { .fd = master, .events = POLLIN };
                }
                if (stdin_open && master_open) {
                        i_stdin = n;
                        p[n++] = (struct pollfd) { .fd = STDIN_FILENO, .events = POLLIN };
                }
                if (sfd >= 0) {
                        i_sig = n;
                        p[n++] = (struct pollfd) { .fd = sfd, .events = POLLIN };
                }
                if (poll(p, (nfds_t) n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (i_master >= 0 && p[i_master].revents) {
                        ssize_t k = read(master, buf, sizeof(buf));
                        if (k > 0)
                                (void) write_all(STDOUT_FILENO, buf, (size_t) k);
                        else if (k == 0 || (errno != EAGAIN && errno != EINTR))
                                master_open = false; /* EIO: every slave fd closed */
                }
                if (i_stdin >= 0 && p[i_stdin].revents) {
                        ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
                        if (k > 0)
                                (void) write_all(master, buf, (size_t) k);
                        else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
                                /* End of our input: end of file for the pty's reader too. */
                                (void) write_all(master, "\004", 1);
                                stdin_open = false;
                        }
                }
                if (i_sig >= 0 && p[i_sig].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                int sig = (int) si.ssi_signo;
                                if (sig == SIGWINCH && master_open) {
                                        struct winsize ws;
                                        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) >= 0)
                                                (void) ioctl(master, TIOCSWINSZ, &ws);
                                } else if (sig == SIGTERM || sig == SIGHUP || (pty && (sig == SIGINT || sig == SIGQUIT))) {
                                        /* Without a pty the terminal already signals the
                                         * payload (same process group) for ^C. */
                                        if (payload > 0)
                                                (void) kill(payload, sig);
                                }
                        }
                }
                if (p[i_sock].revents) {
                        r = recv_msg(sock, &m, NULL);
                        if (r <= 0)
                                break;
                        if (m.type == MSG_STATUS) {
                                status = m.value;
                                got_status = true;
                        }
                }
        }
        restore_terminal();
        while (waitpid(joiner, NULL, 0) < 0 && errno == EINTR)
                ;
        /* Signals stay blocked: a ^C that killed the payload must not kill us
         * before we exit with its status. */
        if (!got_status) {
                fprintf(stderr, "berthctl: lost the payload's exit status\n");
                return EXIT_EXEC_FAILED;
        }
        return status_to_exit(status);
}

static int exec_common(const char *name, char **cmd, bool shell) {
        g_autoptr(BerthConfig) cfg = NULL;
        g_autoptr(GError) gerr = NULL;
        _cleanup_close_ int pidfd = -1;
        ExecContext x = { .shell = shell, .argv = cmd };
        pid_t leader = arg.pid;
        int r;

        if (arg.host) {
                fprintf(stderr, "%s only works on the local host (not with -H).\n", shell ? "shell" : "exec");
                return EXIT_EXEC_FAILED;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "berthctl %s must be run as root: it joins the container's namespaces and cgroup.\n",
                        shell ? "shell" : "exec");
                return EXIT_EXEC_FAILED;
        }
        if (!shell && (!cmd || !cmd[0])) {
                fprintf(stderr, "No command given. Usage: berthctl exec NAME [--] COMMAND [ARG...]\n");
                return EXIT_INVALID_ARGS;
        }
        if (leader <= 0) {
                _cleanup_bus_ sd_bus *bus = NULL;
                if (bus_connect(&bus) < 0)
                        return EXIT_EXEC_FAILED;
                r = container_leader(bus, name, &leader, NULL);
                if (r < 0)
                        return EXIT_EXEC_FAILED;
        }

        g_autofree char *target = name ? g_strdup_printf("container %s (PID %d)", name, (int) leader)
                                       : g_strdup_printf("PID %d", (int) leader);

        /* The container's configuration says which user, environment and
         * seccomp changes its payload has; a transient container has none
         * on disk and gets the defaults, as it did at start. */
        if (name) {
                r = berth_config_load(arg.config_dir, name, &cfg, &gerr);
                if (r < 0) {
                        if (r != -ENOENT)
                                fprintf(stderr, "Warning: %s; using the default restrictions.\n",
                                        gerr ? gerr->message : strerror(-r));
                        g_clear_pointer(&cfg, berth_config_free);
                }
        }
        if (!cfg)
                cfg = berth_config_new(name ? name : "exec");

        /* The kernel's view of PID 1 tightens, never loosens, the config. */
        uint64_t bnd;
        bool leader_nnp;
        int leader_seccomp;
        leader_status(leader, &bnd, &leader_nnp, &leader_seccomp);
        x.caps = berth_caps_effective(cfg) & bnd;
        x.nnp = cfg->no_new_privileges || leader_nnp;
        if (cfg->seccomp || leader_seccomp == 2) {
                r = berth_seccomp_compile(cfg->syscall_allow, cfg->syscall_deny, &x.seccomp);
                if (r < 0) {
                        fprintf(stderr, "Failed to compile the seccomp filter of %s: %s\n", target, strerror(-r));
                        return EXIT_EXEC_FAILED;
                }
        }
        if (arg.user) {
                x.user = arg.user;
        } else {
                x.user = cfg->user;
                x.group = cfg->group;
                x.supplementary = cfg->supplementary_groups;
        }
        x.workdir = arg.workdir;
        x.cfg = cfg;
        x.pty = arg.tty >= 0 ? arg.tty == 1 : isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        /* -t without a terminal: still a pty, but stdin cannot be made raw. */

        pidfd = sys_pidfd_open(leader);
        if (pidfd < 0) {
                fprintf(stderr, "Failed to open %s: %s\n", target, strerror(-pidfd));
                return EXIT_EXEC_FAILED;
        }
        x.pidfd = pidfd;
        x.ns_flags = CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWPID|CLONE_NEWCGROUP;
        /* Re-entering one's own user namespace is refused by the kernel. */
        if (!same_ns(leader, "user"))
                x.ns_flags |= CLONE_NEWUSER;

        for (size_t i = 0; i < G_N_ELEMENTS(ns_order); i++) {
                g_autofree char *p = g_strdup_printf("/proc/%d/ns/%s", (int) leader, ns_order[i].name);
                x.ns_fds[i] = open(p, O_RDONLY|O_CLOEXEC);
        }

        g_autofree char *cg_error = NULL;
        x.cgroup_fds = open_cgroup_procs(leader, &cg_error);
        if (cg_error) {
                fprintf(stderr, "Failed to join the cgroup of %s: %s\n", target, cg_error);
                exec_context_close_fds(&x);
                return EXIT_EXEC_FAILED;
        }

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, sv) < 0) {
                fprintf(stderr, "Failed to create a socket pair to join %s: %s\n", target, strerror(errno));
                exec_context_close_fds(&x);
                return EXIT_EXEC_FAILED;
        }
        fflush(stdout);
        fflush(stderr);
        pid_t joiner = fork();
        if (joiner < 0) {
                fprintf(stderr, "Failed to fork to join %s: %s\n", target, strerror(errno));
                close(sv[0]);
                close(sv[1]);
                exec_context_close_fds(&x);
                return EXIT_EXEC_FAILED;
        }
        if (joiner == 0) {
                close(sv[0]);
                x.sock = sv[1];
                run_joiner(&x);
        }
        close(sv[1]);
        exec_context_close_fds(&x);
        r = supervise(sv[0], joiner, x.pty, target);
        close(sv[0]);
        return r;
}

int verb_exec(int argc, char **argv) {
        const char *name;
        char **cmd;

        if (arg.pid > 0) {
                /* Debugging without the daemon: every argument is the command. */
                name = arg.name_override;
                cmd = argv + 1;
        } else {
                name = argv[1];
                cmd = argv + 2;
        }
        if (*cmd && strcmp(*cmd, "--") == 0)
                cmd++;
        return exec_common(name, cmd, false);
}

int verb_shell(int argc, char **argv) {
        const char *name = arg.pid > 0 ? (argc > 1 ? argv[1] : arg.name_override) : argv[1];
        return exec_common(name, NULL, true);
}
