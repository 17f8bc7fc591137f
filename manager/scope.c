/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transient scope of a running container: berth-<name>.scope in
 * machine.slice, created through systemd's StartTransientUnit with the
 * container's leader, Delegate=yes and its limits as unit properties. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berthd.h"

#define SD_DEST  "org.freedesktop.systemd1"
#define SD_PATH  "/org/freedesktop/systemd1"
#define SD_IFACE "org.freedesktop.systemd1.Manager"

static Container *find_by_job(Manager *m, const char *job) {
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, m->containers);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                if (c->job_path && strcmp(c->job_path, job) == 0)
                        return c;
        }
        return NULL;
}

static int on_job_removed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const char *job, *unit, *result;
        uint32_t id;
        Container *c;
        int r;

        r = sd_bus_message_read(msg, "uoss", &id, &job, &unit, &result);
        if (r < 0) {
                log_daemon(LOG_WARNING, r, "Failed to parse JobRemoved signal");
                return 0;
        }
        if (strncmp(unit, "berth-", 6) != 0)
                return 0;

        c = find_by_job(m, job);
        if (c) {
                scope_job_done(c, result);
                return 0;
        }
        /* The signal may overtake our handling of the StartTransientUnit reply. */
        if (g_hash_table_size(m->removed_jobs) > 256)
                g_hash_table_remove_all(m->removed_jobs);
        g_hash_table_replace(m->removed_jobs, g_strdup(job), g_strdup(result));
        return 0;
}

int scope_subscribe(Manager *m) {
        int r;

        r = sd_bus_match_signal_async(m->bus, NULL, SD_DEST, SD_PATH, SD_IFACE, "JobRemoved",
                                      on_job_removed, NULL, m);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(m->bus, NULL, SD_DEST, SD_PATH, SD_IFACE, "Subscribe",
                                        NULL, NULL, "");
}

int scope_cpuset_to_mask(const char *s, uint8_t **ret, size_t *ret_size) {
        g_auto(GStrv) parts = NULL;
        g_autofree uint8_t *mask = NULL;
        size_t size = 0;

        parts = g_strsplit(s, ",", -1);
        for (char **p = parts; *p; p++) {
                char *item = g_strstrip(*p), *end;
                unsigned long a, b;

                if (!*item)
                        continue;
                errno = 0;
                a = strtoul(item, &end, 10);
                if (errno || end == item)
                        return -EINVAL;
                b = a;
                if (*end == '-') {
                        char *s2 = end + 1;
                        b = strtoul(s2, &end, 10);
                        if (errno || end == s2)
                                return -EINVAL;
                }
                if (*end || b < a || b >= 8192)
                        return -EINVAL;
                if (b / 8 + 1 > size) {
                        size_t n = b / 8 + 1;
                        mask = g_realloc(mask, n);
                        memset(mask + size, 0, n - size);
                        size = n;
                }
                for (unsigned long i = a; i <= b; i++)
                        mask[i / 8] |= (uint8_t) (1u << (i % 8));
        }
        *ret = g_steal_pointer(&mask);
        *ret_size = size;
        return 0;
}

static uint64_t limit_to_unit(uint64_t v) {
        return v == BERTH_LIMIT_INFINITY ? UINT64_MAX : v;
}

int scope_append_limits(sd_bus_message *msg, const BerthLimits *l) {
        static const struct {
                const char *name;
                size_t offset;
        } table[] = {
                { "MemoryMax",          offsetof(BerthLimits, memory_max) },
                { "MemoryHigh",         offsetof(BerthLimits, memory_high) },
                { "MemorySwapMax",      offsetof(BerthLimits, memory_swap_max) },
                { "CPUQuotaPerSecUSec", offsetof(BerthLimits, cpu_quota_per_sec_usec) },
                { "CPUWeight",          offsetof(BerthLimits, cpu_weight) },
                { "TasksMax",           offsetof(BerthLimits, tasks_max) },
                { "IOWeight",           offsetof(BerthLimits, io_weight) },
        };
        int r;

        for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
                uint64_t v = *(const uint64_t *) ((const uint8_t *) l + table[i].offset);
                if (v == BERTH_LIMIT_UNSET)
                        continue;
                r = sd_bus_message_append(msg, "(sv)", table[i].name, "t", limit_to_unit(v));
                if (r < 0)
                        return r;
        }

        if (l->allowed_cpus) {
                g_autofree uint8_t *mask = NULL;
                size_t size = 0;

                r = scope_cpuset_to_mask(l->allowed_cpus, &mask, &size);
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(msg, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(msg, "s", "AllowedCPUs");
                if (r >= 0)
                        r = sd_bus_message_open_container(msg, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(msg, 'y', mask ? (const void *) mask : (const void *) "", size);
                if (r >= 0)
                        r = sd_bus_message_close_container(msg);
                if (r >= 0)
                        r = sd_bus_message_close_container(msg);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int start_transient_unit(Container *c, bool use_pidfd);

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Container *c = userdata;
        int r;

        c->retry_timer = sd_event_source_disable_unref(c->retry_timer);
        r = start_transient_unit(c, !c->manager->pidfds_unsupported);
        if (r < 0)
                scope_job_done(c, "failed-call");
        return 0;
}

static int on_start_transient_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Container *c = userdata;
        Manager *m = c->manager;
        const sd_bus_error *e;
        const char *job;
        char *result;
        int r;

        c->unit_slot = sd_bus_slot_unref(c->unit_slot);

        e = sd_bus_message_get_error(reply);
        if (e && sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists") && c->scope_retries < 50) {
                /* The scope of the previous run is still being collected
                 * (quick Restart=): try again shortly. */
                c->scope_retries++;
                r = sd_event_add_time_relative(m->event, &c->retry_timer, CLOCK_MONOTONIC, 100 * 1000, 0,
                                               on_retry_timer, c);
                if (r >= 0)
                        return 0;
        }
        if (e) {
                /* systemd < 253 does not know PIDFDs=: it refuses the property
                 * by name. Only that refusal means "fall back to PIDs=" for the
                 * life of the daemon; any other failure is this start's own. */
                if (!m->pidfds_unsupported &&
                    sd_bus_error_has_name(e, SD_BUS_ERROR_PROPERTY_READ_ONLY) &&
                    e->message && strstr(e->message, "PIDFDs")) {
                        log_container(c, LOG_DEBUG, 0, "StartTransientUnit with PIDFDs failed (%s), retrying with PIDs",
                                      e->message ?: e->name);
                        m->pidfds_unsupported = true;
                        r = start_transient_unit(c, false);
                        if (r >= 0)
                                return 0;
                        scope_job_done(c, "failed-call");
                        return 0;
                }
                log_container(c, LOG_ERR, sd_bus_message_get_errno(reply),
                              "Failed to create scope %s: %s", c->scope, e->message ?: e->name);
                g_free(c->state_reason);
                c->state_reason = g_strdup_printf("scope: %s", e->message ?: e->name);
                scope_job_done(c, "failed-call");
                return 0;
        }

        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                log_container(c, LOG_ERR, r, "Failed to parse StartTransientUnit reply");
                scope_job_done(c, "failed-call");
                return 0;
        }

        if (g_hash_table_lookup_extended(m->removed_jobs, job, NULL, (gpointer *) &result)) {
                g_autofree char *res = g_strdup(result);
                g_hash_table_remove(m->removed_jobs, job);
                scope_job_done(c, res);
                return 0;
        }
        g_free(c->job_path);
        c->job_path = g_strdup(job);
        return 0;
}

static int start_transient_unit(Container *c, bool use_pidfd) {
        Manager *m = c->manager;
        g_autoptr(GString) desc = g_string_new(NULL);
        sd_bus_message *msg = NULL;
        int r;

        r = sd_bus_message_new_method_call(m->bus, &msg, SD_DEST, SD_PATH, SD_IFACE, "StartTransientUnit");
        if (r < 0)
                return r;

        g_string_printf(desc, "berth container %s", c->name);
        if (c->config && c->config->description)
                g_string_printf(desc, "%s", c->config->description);

        r = sd_bus_message_append(msg, "ss", c->scope, "fail");
        if (r < 0)
                goto out;
        r = sd_bus_message_open_container(msg, 'a', "(sv)");
        if (r < 0)
                goto out;
        r = sd_bus_message_append(msg, "(sv)(sv)(sv)(sv)(sv)",
                                  "Description", "s", desc->str,
                                  "Slice", "s", "machine.slice",
                                  "Delegate", "b", 1,
                                  "CollectMode", "s", "inactive-or-failed",
                                  "TimeoutStopUSec", "t", c->kill_timeout_usec);
        if (r < 0)
                goto out;
        if (use_pidfd)
                r = sd_bus_message_append(msg, "(sv)", "PIDFDs", "ah", 1, c->pidfd);
        else
                r = sd_bus_message_append(msg, "(sv)", "PIDs", "au", 1, (uint32_t) c->leader);
        if (r < 0)
                goto out;
        r = scope_append_limits(msg, &c->limits);
        if (r < 0)
                goto out;
        r = sd_bus_message_close_container(msg);
        if (r < 0)
                goto out;
        r = sd_bus_message_append(msg, "a(sa(sv))", 0);
        if (r < 0)
                goto out;

        r = sd_bus_call_async(m->bus, &c->unit_slot, msg, on_start_transient_reply, c, 0);
out:
        sd_bus_message_unref(msg);
        return r;
}

/* c->scope is named by container_start, before the state file is saved. */
int scope_start(Container *c) {
        g_return_val_if_fail(c->scope, -EINVAL);
        c->scope_retries = 0;
        return start_transient_unit(c, !c->manager->pidfds_unsupported);
}

typedef struct SetPropsCall {
        Manager *manager;
        sd_bus_message *reply_to;
        char *name;
} SetPropsCall;

static int on_set_unit_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        SetPropsCall *call = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Container *c = manager_get_container(call->manager, call->name);

        if (e) {
                if (c)
                        log_container(c, LOG_WARNING, sd_bus_message_get_errno(reply),
                                      "SetUnitProperties failed: %s", e->message ?: e->name);
                else /* The container went away meanwhile: still name it. */
                        log_daemon(LOG_WARNING, sd_bus_message_get_errno(reply), "%s: SetUnitProperties failed: %s",
                                   call->name, e->message ?: e->name);
                if (call->reply_to)
                        sd_bus_reply_method_error(call->reply_to, e);
        } else if (call->reply_to)
                sd_bus_reply_method_return(call->reply_to, NULL);

        sd_bus_message_unref(call->reply_to);
        g_free(call->name);
        g_free(call);
        return 0;
}

/* Apply the limits set in l (others UNSET) to the running scope. Takes a
 * reference on the reply message and replies when systemd answered. */
int scope_set_limits_async(Container *c, const BerthLimits *l, sd_bus_message *reply_to) {
        Manager *m = c->manager;
        sd_bus_message *msg = NULL;
        SetPropsCall *call;
        int r;

        r = sd_bus_message_new_method_call(m->bus, &msg, SD_DEST, SD_PATH, SD_IFACE, "SetUnitProperties");
        if (r < 0)
                return r;
        r = sd_bus_message_append(msg, "sb", c->scope, 1);
        if (r >= 0)
                r = sd_bus_message_open_container(msg, 'a', "(sv)");
        if (r >= 0)
                r = scope_append_limits(msg, l);
        if (r >= 0)
                r = sd_bus_message_close_container(msg);
        if (r < 0) {
                sd_bus_message_unref(msg);
                return r;
        }

        call = g_new0(SetPropsCall, 1);
        call->manager = m;
        call->reply_to = sd_bus_message_ref(reply_to);
        call->name = g_strdup(c->name);
        r = sd_bus_call_async(m->bus, NULL, msg, on_set_unit_properties, call, 0);
        sd_bus_message_unref(msg);
        if (r < 0) {
                sd_bus_message_unref(call->reply_to);
                g_free(call->name);
                g_free(call);
        }
        return r;
}

static int on_simple_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        char *what = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                log_daemon(LOG_WARNING, sd_bus_message_get_errno(reply), "%s failed: %s", what,
                           e->message ?: e->name);
        g_free(what);
        return 0;
}

int scope_kill(Container *c, const char *whom, int sig) {
        char *what;
        int r;

        if (!c->scope)
                return -ESRCH;
        what = g_strdup_printf("KillUnit %s", c->scope);
        r = sd_bus_call_method_async(c->manager->bus, NULL, SD_DEST, SD_PATH, SD_IFACE, "KillUnit",
                                     on_simple_reply, what, "ssi", c->scope, whom, sig);
        if (r < 0)
                g_free(what);
        return r;
}

int scope_stop_unit(Manager *m, const char *unit) {
        char *what = g_strdup_printf("StopUnit %s", unit);
        int r;

        r = sd_bus_call_method_async(m->bus, NULL, SD_DEST, SD_PATH, SD_IFACE, "StopUnit",
                                     on_simple_reply, what, "ss", unit, "replace");
        if (r < 0)
                g_free(what);
        return r;
}
