/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthd: the container manager service on the system bus.
 *
 * One sd-event loop drives the bus, pidfds, timers and signals. On SIGTERM
 * berthd exits and leaves running containers alone: they live in their own
 * scopes, and the next berthd re-adopts them from /run/berth. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "berthd.h"

static const char *env_or(const char *name, const char *def) {
        const char *v = getenv(name);
        return v && *v ? v : def;
}

static int manager_new(Manager **ret) {
        Manager *m = g_new0(Manager, 1);
        int r;

        m->containers = g_hash_table_new(g_str_hash, g_str_equal);
        m->removed_jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        m->config_dir = env_or("BERTH_CONFIG_DIR", BERTH_CONFIG_DIR);
        m->run_dir = env_or("BERTH_RUN_DIR", BERTH_RUNTIME_DIR);
        m->state_dir = env_or("BERTH_STATE_DIR", BERTH_STATE_DIR);
        m->policy_path = getenv("BERTH_POLICY") ?: NULL;

        r = sd_event_default(&m->event);
        if (r < 0)
                goto fail;
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                goto fail;
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                goto fail;
        *ret = m;
        return 0;
fail:
        sd_bus_unref(m->bus);
        sd_event_unref(m->event);
        g_hash_table_unref(m->containers);
        g_hash_table_unref(m->removed_jobs);
        g_free(m);
        return r;
}

/* Running containers are deliberately not stopped or freed: only our
 * references go away with the process. */
static void manager_free_leave_containers(Manager *m) {
        if (!m)
                return;
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        g_free(m);
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_daemon(LOG_INFO, 0, "Received %s, exiting; running containers are left running",
                   sigabbrev_np((int) si->ssi_signo) ?: "signal");
        return sd_event_exit(m->event, 0);
}

int main(int argc, char *argv[]) {
        Manager *m = NULL;
        sigset_t mask;
        int r;

        berth_runtime_set_argv(argc, argv);

        if (argc > 1 && strcmp(argv[1], "--version") == 0) {
                printf("berthd %s\n", "0.1");
                return 0;
        }

        umask(0022);
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = manager_new(&m);
        if (r < 0) {
                log_daemon(LOG_ERR, r, "Failed to set up event loop and system bus connection");
                return EXIT_FAILURE;
        }
        (void) mkdir(m->run_dir, 0755);

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_exit_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_exit_signal, m);
        if (r < 0) {
                log_daemon(LOG_ERR, r, "Failed to install signal handlers");
                goto finish;
        }

        r = bus_manager_add_objects(m);
        if (r < 0) {
                log_daemon(LOG_ERR, r, "Failed to register bus objects");
                goto finish;
        }
        r = scope_subscribe(m);
        if (r < 0)
                log_daemon(LOG_WARNING, r, "Failed to subscribe to systemd's job signals");

        r = adopt_scan(m);
        if (r < 0)
                log_daemon(LOG_WARNING, r, "Failed to scan %s for running containers", m->run_dir);

        r = sd_bus_request_name(m->bus, BERTH_BUS_NAME, 0);
        if (r < 0) {
                log_daemon(LOG_ERR, r, "Failed to acquire bus name %s", BERTH_BUS_NAME);
                goto finish;
        }

        (void) sd_notify(false, "READY=1\nSTATUS=Managing containers");
        log_daemon(LOG_INFO, 0, "berthd started");

        r = sd_event_loop(m->event);
        if (r < 0)
                log_daemon(LOG_ERR, r, "Event loop failed");

finish:
        manager_free_leave_containers(m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
