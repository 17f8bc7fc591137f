/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * berth-run: run one container with the runtime library, in the foreground,
 * without the daemon. For the host test tier, benchmarks and debugging.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <poll.h>
#include <unistd.h>

#include "runtime.h"
#include "util.h"

static void help(void) {
        printf("Usage: berth-run [OPTIONS] NAME [-- COMMAND [ARG...]]\n"
               "\n"
               "Run the container NAME in the foreground with berth's runtime library, without\n"
               "berthd: no scope, no machined registration, no network beyond loopback.\n"
               "Exits with the container's exit status (128+N when killed by signal N).\n"
               "\n"
               "Options:\n"
               "  -c, --config-dir=DIR   read DIR/NAME.conf and DIR/NAME.conf.d/ (default "
               BERTH_CONFIG_DIR ")\n"
               "  -f, --file=PATH        read PATH as NAME's configuration instead\n"
               "  -p, --property=S.K=V   set one key, e.g. Rootfs.Directory=/srv/root (repeatable)\n"
               "      --run-dir=DIR      runtime state base (default " BERTH_RUNTIME_DIR ")\n"
               "      --state-dir=DIR    persistent state base (default " BERTH_STATE_DIR ")\n"
               "      --pid-file=PATH    write the container's PID 1 (as seen from here) to PATH\n"
               "      --print-exit       print exit code, signal and timings on stderr\n"
               "  -h, --help             show this help\n"
               "\n"
               "SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGUSR2 received by berth-run are forwarded to\n"
               "the container's PID 1, whose stub init passes them on to the payload.\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config-dir", required_argument, NULL, 'c' },
                { "file", required_argument, NULL, 'f' },
                { "property", required_argument, NULL, 'p' },
                { "run-dir", required_argument, NULL, 'R' },
                { "state-dir", required_argument, NULL, 'S' },
                { "pid-file", required_argument, NULL, 'P' },
                { "print-exit", no_argument, NULL, 'E' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *config_dir = NULL, *file = NULL, *run_dir = NULL, *state_dir = NULL, *pid_file = NULL;
        g_autoptr(GPtrArray) props = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(BerthConfig) cfg = NULL;
        bool print_exit = false;
        int c, r;

        berth_runtime_set_argv(argc, argv);

        while ((c = getopt_long(argc, argv, "+c:f:p:h", options, NULL)) >= 0) {
                switch (c) {
                case 'c': config_dir = optarg; break;
                case 'f': file = optarg; break;
                case 'p': g_ptr_array_add(props, optarg); break;
                case 'R': run_dir = optarg; break;
                case 'S': state_dir = optarg; break;
                case 'P': pid_file = optarg; break;
                case 'E': print_exit = true; break;
                case 'h': help(); return 0;
                default: return 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "berth-run: missing container NAME (see --help)\n");
                return 2;
        }
        const char *name = argv[optind++];
        if (optind < argc && strcmp(argv[optind], "--") == 0)
                optind++;

        if (berth_name_validate(name) < 0) {
                fprintf(stderr, "berth-run: invalid container name '%s'\n", name);
                return 2;
        }
        if (file) {
                cfg = berth_config_new(name);
                r = berth_config_load_file(cfg, file, &error);
        } else if (config_dir || props->len == 0)
                r = berth_config_load(config_dir, name, &cfg, &error);
        else {
                cfg = berth_config_new(name);
                r = 0;
        }
        for (guint i = 0; r >= 0 && i < props->len; i++) {
                const char *p = g_ptr_array_index(props, i);
                const char *dot = strchr(p, '.'), *eq = strchr(p, '=');
                if (!dot || !eq || dot > eq) {
                        fprintf(stderr, "berth-run: --property=%s: expected Section.Key=Value\n", p);
                        return 2;
                }
                g_autofree char *section = g_strndup(p, (gsize) (dot - p));
                g_autofree char *key = g_strndup(dot + 1, (gsize) (eq - dot - 1));
                r = berth_config_set(cfg, section, key, eq + 1, "--property", &error);
        }
        if (r >= 0 && optind < argc) {
                g_strfreev(cfg->command);
                cfg->command = g_strdupv(argv + optind);
        }
        if (r >= 0)
                r = berth_config_finalize(cfg, &error);
        if (r < 0) {
                fprintf(stderr, "berth-run: %s\n", error ? error->message : strerror(-r));
                return 2;
        }
        for (guint i = 0; i < cfg->warnings->len; i++)
                fprintf(stderr, "berth-run: warning: %s\n", (const char *) g_ptr_array_index(cfg->warnings, i));

        /* Signals are taken synchronously so they can be forwarded. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGUSR2);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

        BerthContainer *ct = NULL;
        g_autofree char *msg = NULL;
        r = berth_container_new_full(cfg, run_dir, state_dir, &ct, &msg);
        if (r < 0) {
                fprintf(stderr, "berth-run: %s: %s\n", name, msg ? msg : strerror(-r));
                return 125;
        }
        ct->stdin_fd = STDIN_FILENO;
        ct->stdout_fd = STDOUT_FILENO;
        ct->stderr_fd = STDERR_FILENO;

        r = berth_container_clone(ct);
        if (r >= 0 && pid_file) {
                g_autofree char *s = g_strdup_printf("%d\n", (int) ct->pid);
                if (!g_file_set_contents(pid_file, s, -1, NULL))
                        r = -EIO;
        }
        if (r >= 0)
                r = berth_container_release(ct);
        if (r >= 0)
                r = berth_container_wait_ready(ct);
        if (r < 0) {
                fprintf(stderr, "berth-run: %s: %s\n", name, ct->error_message ? ct->error_message : strerror(-r));
                berth_container_free(ct);
                return 125;
        }

        BerthExit ex = {};
        for (;;) {
                struct pollfd p[2] = { { .fd = ct->pidfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                if (poll(p, 2, -1) < 0)
                        continue;
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si))
                                (void) berth_container_kill(ct, (int) si.ssi_signo);
                }
                if (p[0].revents & POLLIN) {
                        r = berth_container_reap(ct, &ex);
                        if (r == -EAGAIN)
                                continue;
                        break;
                }
        }
        berth_container_free(ct);
        if (r < 0) {
                fprintf(stderr, "berth-run: %s: collecting exit status: %s\n", name, strerror(-r));
                return 125;
        }
        if (print_exit)
                fprintf(stderr, "berth-run: %s: exit_code=%d signal=%d setup_usec=%llu run_usec=%llu\n", name,
                        ex.code, ex.signal,
                        (unsigned long long) (ex.ready_usec - ex.started_usec),
                        (unsigned long long) (ex.exited_usec - ex.ready_usec));
        return ex.code;
}
