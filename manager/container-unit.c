/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-container-unit NAME: the main process of container@NAME.service.
 *
 * Asks berthd to start NAME, reports READY=1 once it runs, stays until it
 * ends and exits with its status: 0 for a clean exit (or a stop we asked
 * for), the container's exit code otherwise, so Restart=on-failure and
 * `systemctl status` mean what they say. SIGTERM (systemctl stop) becomes
 * StopContainer, then we wait for the exit. */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#define BUS_NAME "org.berth.berth1"
#define MANAGER_PATH "/org/berth/berth1"
#define MANAGER_IFACE "org.berth.berth1.Manager"
#define CONTAINER_IFACE "org.berth.berth1.Container"

typedef struct Helper {
        sd_event *event;
        sd_bus *bus;
        const char *name;
        char *path;
        bool started;
        bool stop_requested;
        bool stop_sent;
        bool done;
} Helper;

static void finish(Helper *h, int status) {
        if (h->done)
                return;
        h->done = true;
        (void) sd_notifyf(false, "STOPPING=1\nSTATUS=Container %s ended (status %d)", h->name, status);
        sd_event_exit(h->event, status);
}

static int exit_status_from_properties(Helper *h, const char *state, const char *reason) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int32_t code = -1, sig = 0;
        int oom = 0;

        if (strcmp(state, "exited") == 0)
                return 0;
        if (h->stop_requested)
                return 0;
        if (h->path) {
                (void) sd_bus_get_property_trivial(h->bus, BUS_NAME, h->path, CONTAINER_IFACE, "ExitCode",
                                                   &error, 'i', &code);
                sd_bus_error_free(&error);
                (void) sd_bus_get_property_trivial(h->bus, BUS_NAME, h->path, CONTAINER_IFACE, "ExitSignal",
                                                   &error, 'i', &sig);
                sd_bus_error_free(&error);
                (void) sd_bus_get_property_trivial(h->bus, BUS_NAME, h->path, CONTAINER_IFACE, "OOMKilled",
                                                   &error, 'b', &oom);
                sd_bus_error_free(&error);
        }
        if (reason && strncmp(reason, "exit-code=", 10) == 0 && code < 0)
                code = atoi(reason + 10);

        fprintf(stderr, "Container %s %s (%s)%s\n", h->name, state, reason ?: "", oom ? ", OOM-killed" : "");
        if (sig > 0)
                return 128 + sig;
        if (code > 0 && code < 256)
                return code;
        return EXIT_FAILURE;
}

static int on_state_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Helper *h = userdata;
        const char *name, *path, *state, *reason;

        if (sd_bus_message_read(msg, "soss", &name, &path, &state, &reason) < 0)
                return 0;
        if (strcmp(name, h->name) != 0)
                return 0;
        if (strcmp(state, "running") == 0 || strcmp(state, "starting") == 0 || strcmp(state, "stopping") == 0) {
                (void) sd_notifyf(false, "STATUS=Container %s %s", h->name, state);
                return 0;
        }
        /* exited or failed: before StartContainer replied, that reply tells the story. */
        if (!h->started)
                return 0;
        finish(h, exit_status_from_properties(h, state, reason));
        return 0;
}

static void check_state_now(Helper *h) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char *state = NULL, *reason = NULL;
        int r;

        if (!h->path || h->done)
                return;
        r = sd_bus_get_property_string(h->bus, BUS_NAME, h->path, CONTAINER_IFACE, "State", &error, &state);
        sd_bus_error_free(&error);
        if (r < 0) {
                fprintf(stderr, "Cannot read the state of %s: %s\n", h->name, strerror(-r));
                return;
        }
        (void) sd_bus_get_property_string(h->bus, BUS_NAME, h->path, CONTAINER_IFACE, "StateReason", &error, &reason);
        sd_bus_error_free(&error);
        if (strcmp(state, "exited") == 0 || strcmp(state, "failed") == 0)
                finish(h, exit_status_from_properties(h, state, reason));
        free(state);
        free(reason);
}

static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        /* Reading the state activates berthd again if nobody else did. */
        check_state_now(userdata);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Helper *h = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(msg, "sss", &name, &old, &new) < 0 || strcmp(name, BUS_NAME) != 0)
                return 0;
        if (!*new) {
                fprintf(stderr, "berthd went away; the container keeps running, waiting for berthd to return\n");
                if (h->started)
                        (void) sd_event_add_time_relative(h->event, NULL, CLOCK_MONOTONIC, 3ULL * 1000000ULL, 0,
                                                          on_reconnect_timer, h);
                return 0;
        }
        /* berthd is back: it re-adopted the container, or it ended meanwhile. */
        check_state_now(h);
        return 0;
}

static int on_stop_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Helper *h = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (!e || sd_bus_error_has_name(e, "org.berth.berth1.NotRunning")) {
                finish(h, EXIT_SUCCESS);
                return 0;
        }
        /* berthd went away while stopping (NoReply, ServiceUnknown...): the
         * container may still run; its state change or berthd's return tells. */
        fprintf(stderr, "StopContainer %s failed: %s; waiting for the container to end\n", h->name,
                e->message ?: e->name);
        h->stop_sent = false;
        return 0;
}

static void send_stop(Helper *h) {
        int r;

        if (h->stop_sent)
                return;
        h->stop_sent = true;
        sd_bus_message *call = NULL;

        r = sd_bus_message_new_method_call(h->bus, &call, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "StopContainer");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", h->name);
        /* berthd replies once the container is gone, which may take KillTimeoutSec=. */
        if (r >= 0)
                r = sd_bus_call_async(h->bus, NULL, call, on_stop_reply, h, 3600ULL * 1000000ULL);
        sd_bus_message_unref(call);
        if (r < 0) {
                fprintf(stderr, "Failed to call StopContainer: %s\n", strerror(-r));
                finish(h, EXIT_FAILURE);
        }
}

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Helper *h = userdata;

        h->stop_requested = true;
        (void) sd_notifyf(false, "STOPPING=1\nSTATUS=Stopping container %s", h->name);
        if (h->started)
                send_stop(h);
        /* else: StartContainer is pending; stop once it replies. */
        return 0;
}

static int on_start_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Helper *h = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *path;

        if (e) {
                fprintf(stderr, "%s\n", e->message ?: e->name);
                finish(h, h->stop_requested ? EXIT_SUCCESS : EXIT_FAILURE);
                return 0;
        }
        if (sd_bus_message_read(reply, "o", &path) < 0) {
                finish(h, EXIT_FAILURE);
                return 0;
        }
        h->path = strdup(path);
        h->started = true;
        (void) sd_notifyf(false, "READY=1\nSTATUS=Container %s running", h->name);
        if (h->stop_requested)
                send_stop(h);
        return 0;
}

int main(int argc, char *argv[]) {
        Helper h = { .name = argc > 1 ? argv[1] : NULL };
        sd_bus_message *call = NULL;
        char *match = NULL;
        sigset_t mask;
        int r;

        if (argc != 2 || !*argv[1]) {
                fprintf(stderr, "usage: %s NAME\n", argv[0]);
                return 2;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&h.event);
        if (r >= 0)
                r = sd_bus_open_system(&h.bus);
        if (r >= 0)
                r = sd_bus_attach_event(h.bus, h.event, 0);
        if (r >= 0)
                r = sd_event_add_signal(h.event, NULL, SIGTERM, on_term, &h);
        if (r >= 0)
                r = sd_event_add_signal(h.event, NULL, SIGINT, on_term, &h);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the system bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        /* Subscribe before starting, so no state change can slip past. */
        r = sd_bus_match_signal(h.bus, NULL, NULL, MANAGER_PATH, MANAGER_IFACE, "ContainerStateChanged",
                                on_state_changed, &h);
        if (r >= 0)
                r = sd_bus_add_match(h.bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                     "member='NameOwnerChanged',arg0='" BUS_NAME "'",
                                     on_name_owner_changed, &h);
        if (r < 0) {
                fprintf(stderr, "Failed to add bus matches: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = sd_bus_message_new_method_call(h.bus, &call, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "StartContainer");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", h.name);
        /* A start may take as long as the unit's TimeoutStartSec= allows. */
        if (r >= 0)
                r = sd_bus_call_async(h.bus, NULL, call, on_start_reply, &h, 3600ULL * 1000000ULL);
        sd_bus_message_unref(call);
        if (r < 0) {
                fprintf(stderr, "Failed to call StartContainer: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = sd_event_loop(h.event);
        free(match);
        free(h.path);
        sd_bus_flush_close_unref(h.bus);
        sd_event_unref(h.event);
        return r < 0 ? EXIT_FAILURE : r;
}
