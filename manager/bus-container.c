/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.berth.berth1.Container objects, one per container, served through a
 * fallback vtable below /org/berth/berth1/container: an object exists for
 * every container berthd knows, running or configured. */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "audit-kernel.h"
#include "berthd.h"

_Static_assert(BERTH_NS_MOUNT == 1 << NS_MNT && BERTH_NS_CGROUP == 1 << NS_CGROUP && BERTH_NS_USER == 1 << NS_USER,
               "BerthNamespace bits follow ContainerNsType");

int bus_container_path(const char *name, char **ret) {
        char *p = NULL;
        int r;

        r = sd_bus_path_encode(BERTH_CONTAINER_PATH_PREFIX, name, &p);
        if (r < 0)
                return r;
        *ret = g_strdup(p);
        free(p);
        return 0;
}

static Container *container_from_path(Manager *m, const char *path) {
        char *name = NULL;
        Container *c = NULL;

        if (!path || sd_bus_path_decode(path, BERTH_CONTAINER_PATH_PREFIX, &name) <= 0)
                return NULL;
        if (berth_name_validate(name) >= 0)
                c = manager_find_or_load_container(m, name);
        free(name);
        return c;
}

static int container_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                                 void **found, sd_bus_error *error) {
        Container *c = container_from_path(userdata, path);

        if (!c)
                return 0;
        *found = c;
        return 1;
}

static int container_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                     sd_bus_error *error) {
        Manager *m = userdata;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer k;
        char **ret;
        GDir *d;

        g_hash_table_iter_init(&it, m->containers);
        while (g_hash_table_iter_next(&it, &k, NULL))
                g_ptr_array_add(names, g_strdup(k));
        d = g_dir_open(m->config_dir, 0, NULL);
        if (d) {
                for (const char *f; (f = g_dir_read_name(d));) {
                        g_autofree char *n = NULL;
                        if (!g_str_has_suffix(f, ".conf"))
                                continue;
                        n = g_strndup(f, strlen(f) - 5);
                        if (berth_name_validate(n) < 0 || g_hash_table_contains(m->containers, n))
                                continue;
                        g_ptr_array_add(names, g_steal_pointer(&n));
                }
                g_dir_close(d);
        }

        /* sd-bus frees the result with free(). */
        ret = calloc(names->len + 1, sizeof(char *));
        if (!ret)
                return -ENOMEM;
        for (guint i = 0; i < names->len; i++) {
                if (sd_bus_path_encode(BERTH_CONTAINER_PATH_PREFIX, names->pdata[i], &ret[i]) < 0) {
                        for (guint j = 0; j < i; j++)
                                free(ret[j]);
                        free(ret);
                        return -ENOMEM;
                }
        }
        *nodes = ret;
        return 0;
}

static uint64_t limit_prop(uint64_t v) {
        return v == BERTH_LIMIT_UNSET || v == BERTH_LIMIT_INFINITY ? UINT64_MAX : v;
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        const BerthLimits *l = &c->limits;
        int r;

#define IS(x) (strcmp(property, x) == 0)
        if (IS("Name"))
                return sd_bus_message_append(reply, "s", c->name);
        if (IS("State"))
                return sd_bus_message_append(reply, "s", container_state_to_string(c->state));
        if (IS("StateReason"))
                return sd_bus_message_append(reply, "s", c->state_reason ?: "");
        if (IS("Leader"))
                return sd_bus_message_append(reply, "u", (uint32_t) (c->live ? c->leader : 0));
        if (IS("Scope"))
                return sd_bus_message_append(reply, "s", c->live && c->scope ? c->scope : "");
        if (IS("Unit"))
                return sd_bus_message_append(reply, "s", c->unit ?: "");
        if (IS("RootDirectory"))
                return sd_bus_message_append(reply, "s", c->root_directory ?: "");
        if (IS("UpperDirectory"))
                return sd_bus_message_append(reply, "s", c->upper_directory ?: "");
        if (IS("LowerDirectories"))
                return sd_bus_message_append_strv(reply, c->lower_directories);
        if (IS("ExitCode"))
                return sd_bus_message_append(reply, "i", (int32_t) c->exit_code);
        if (IS("ExitSignal"))
                return sd_bus_message_append(reply, "i", (int32_t) c->exit_signal);
        if (IS("OOMKilled"))
                return sd_bus_message_append(reply, "b", (int) c->oom_killed);
        if (IS("StartTimestamp"))
                return sd_bus_message_append(reply, "t", c->start_timestamp);
        if (IS("MemoryMax"))
                return sd_bus_message_append(reply, "t", limit_prop(l->memory_max));
        if (IS("MemoryHigh"))
                return sd_bus_message_append(reply, "t", limit_prop(l->memory_high));
        if (IS("MemorySwapMax"))
                return sd_bus_message_append(reply, "t", limit_prop(l->memory_swap_max));
        if (IS("CPUQuotaPerSecUSec"))
                return sd_bus_message_append(reply, "t", limit_prop(l->cpu_quota_per_sec_usec));
        if (IS("CPUWeight"))
                return sd_bus_message_append(reply, "t", limit_prop(l->cpu_weight));
        if (IS("TasksMax"))
                return sd_bus_message_append(reply, "t", limit_prop(l->tasks_max));
        if (IS("IOWeight"))
                return sd_bus_message_append(reply, "t", limit_prop(l->io_weight));
        if (IS("AllowedCPUs"))
                return sd_bus_message_append(reply, "s", l->allowed_cpus ?: "");
        if (IS("Namespaces")) {
                r = sd_bus_message_open_container(reply, 'a', "(stb)");
                if (r < 0)
                        return r;
                for (int i = 0; c->live && i < _NS_MAX; i++) {
                        if (c->ns_inode[i] == 0)
                                continue;
                        r = sd_bus_message_append(reply, "(stb)", container_ns_name(i), c->ns_inode[i],
                                                  (int) c->ns_shared[i]);
                        if (r < 0)
                                return r;
                }
                return sd_bus_message_close_container(reply);
        }
        if (IS("SharedNamespaces")) {
                /* Read from the kernel now (the leader's ns links against PID 1's
                 * and berthd's). "user" is listed only when the config asks for a
                 * user namespace: without PrivateUsers= sharing the host's is the
                 * documented default (rule no-userns), not a weakening. */
                unsigned mask = 0;
                r = sd_bus_message_open_container(reply, 'a', "s");
                if (r < 0)
                        return r;
                if (c->live && c->leader > 0 && berth_kernel_shared_namespaces(c->leader, &mask) >= 0) {
                        if (!c->config || !c->config->private_users)
                                mask &= ~(unsigned) BERTH_NS_USER;
                        /* BerthNamespace bits are in ContainerNsType order; kernel names ("mnt"). */
                        for (int i = 0; i < _NS_MAX; i++) {
                                if (!(mask & (1u << i)))
                                        continue;
                                r = sd_bus_message_append(reply, "s", container_ns_name(i));
                                if (r < 0)
                                        return r;
                        }
                }
                return sd_bus_message_close_container(reply);
        }
        if (IS("Exceptions")) {
                r = sd_bus_message_open_container(reply, 'a', "(sst)");
                if (r < 0)
                        return r;
                for (guint i = 0; c->live && c->waivers && i < c->waivers->len; i++) {
                        const BerthException *x = c->waivers->pdata[i];
                        r = sd_bus_message_append(reply, "(sst)", x->rule, x->justification ?: "", x->expires_usec);
                        if (r < 0)
                                return r;
                }
                return sd_bus_message_close_container(reply);
        }
#undef IS
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "Unknown property %s", property);
}

/* --- methods, carried out after authorization --- */

static Container *live_container_from_msg(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        const char *path = sd_bus_message_get_path(msg);
        Container *c = container_from_path(m, path);

        if (!c)
                sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER, "No such container (object %s)", path ?: "?");
        return c;
}

static int do_stop(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        Container *c = live_container_from_msg(m, msg, error);
        if (!c)
                return -ENOENT;
        return container_stop(c, msg, error);
}

static int do_kill(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        Container *c = live_container_from_msg(m, msg, error);
        const char *whom;
        int32_t sig;
        int r;

        if (!c)
                return -ENOENT;
        r = sd_bus_message_read(msg, "si", &whom, &sig);
        if (r < 0)
                return r;
        r = container_kill(c, whom, sig, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int do_set_properties(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        Container *c = live_container_from_msg(m, msg, error);
        g_auto(GStrv) assignments = NULL;
        int runtime, r;

        if (!c)
                return -ENOENT;
        r = sd_bus_message_read(msg, "b", &runtime);
        if (r < 0)
                return r;
        r = bus_read_assignments(msg, &assignments);
        if (r < 0)
                return r;
        r = container_set_properties_async(c, runtime, assignments, msg, error);
        if (r == 0)
                return sd_bus_reply_method_return(msg, NULL);
        return r;
}

static int method_stop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return bus_verify_manage_async(c->manager, msg, do_stop, error);
}

static int method_kill(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return bus_verify_manage_async(c->manager, msg, do_kill, error);
}

static int method_set_properties(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        return bus_verify_manage_async(c->manager, msg, do_set_properties, error);
}

#define PROP(name, sig) SD_BUS_PROPERTY(name, sig, property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        PROP("Name", "s"),
        PROP("State", "s"),
        PROP("StateReason", "s"),
        PROP("Leader", "u"),
        PROP("Scope", "s"),
        PROP("Unit", "s"),
        PROP("RootDirectory", "s"),
        PROP("UpperDirectory", "s"),
        PROP("LowerDirectories", "as"),
        PROP("ExitCode", "i"),
        PROP("ExitSignal", "i"),
        PROP("OOMKilled", "b"),
        PROP("StartTimestamp", "t"),
        PROP("MemoryMax", "t"),
        PROP("MemoryHigh", "t"),
        PROP("MemorySwapMax", "t"),
        PROP("CPUQuotaPerSecUSec", "t"),
        PROP("CPUWeight", "t"),
        PROP("TasksMax", "t"),
        PROP("IOWeight", "t"),
        PROP("AllowedCPUs", "s"),
        PROP("Namespaces", "a(stb)"),
        PROP("SharedNamespaces", "as"),
        PROP("Exceptions", "a(sst)"),
        SD_BUS_METHOD("Stop", "", "", method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Kill", "si", SD_BUS_PARAM(whom) SD_BUS_PARAM(signal), "", ,
                                 method_kill, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SetProperties", "ba(ss)", SD_BUS_PARAM(runtime) SD_BUS_PARAM(properties), "", ,
                                 method_set_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_container_add_objects(Manager *m);
int bus_container_add_objects(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, BERTH_CONTAINER_PATH_PREFIX, BERTH_CONTAINER_IFACE,
                                       container_vtable, container_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, BERTH_CONTAINER_PATH_PREFIX, container_node_enumerator, m);
}

/* --- signals --- */

int bus_container_emit_new(Container *c) {
        if (!c->manager->bus || !c->path)
                return 0;
        return sd_bus_emit_signal(c->manager->bus, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, "ContainerNew",
                                  "so", c->name, c->path);
}

int bus_container_emit_removed(Container *c) {
        if (!c->manager->bus || !c->path)
                return 0;
        return sd_bus_emit_signal(c->manager->bus, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, "ContainerRemoved",
                                  "so", c->name, c->path);
}

int bus_container_emit_state_changed(Container *c) {
        int r;

        if (!c->manager->bus || !c->path)
                return 0;
        /* Properties first, so a client reacting to the signal reads fresh values. */
        (void) sd_bus_emit_properties_changed_strv(c->manager->bus, c->path, BERTH_CONTAINER_IFACE, NULL);
        r = sd_bus_emit_signal(c->manager->bus, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, "ContainerStateChanged",
                               "soss", c->name, c->path, container_state_to_string(c->state),
                               c->state_reason ?: "");
        if (r < 0)
                log_container(c, LOG_WARNING, r, "Failed to emit ContainerStateChanged");
        return r;
}

int bus_container_emit_properties_changed(Container *c, const char *first, ...) {
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        va_list ap;

        if (!c->manager->bus || !c->path)
                return 0;
        va_start(ap, first);
        for (const char *n = first; n; n = va_arg(ap, const char *))
                g_ptr_array_add(names, (gpointer) n);
        va_end(ap);
        g_ptr_array_add(names, NULL);
        return sd_bus_emit_properties_changed_strv(c->manager->bus, c->path, BERTH_CONTAINER_IFACE,
                                                   (char **) names->pdata);
}

int bus_read_assignments(sd_bus_message *msg, char ***ret) {
        g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
        const char *k, *v;
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(msg, "(ss)", &k, &v)) > 0)
                g_ptr_array_add(a, g_strdup_printf("%s=%s", k, v));
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        g_ptr_array_add(a, NULL);
        *ret = (char **) g_ptr_array_free(g_steal_pointer(&a), FALSE);
        return 0;
}
