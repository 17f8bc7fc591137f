/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.berth.berth1.Manager on /org/berth/berth1. Read methods are open to
 * everybody; mutating ones go through bus_verify_manage_async() first. */

#include <errno.h>
#include <string.h>

#include "berthd.h"

int bus_container_add_objects(Manager *m);

static int validate_name(const char *name, sd_bus_error *error) {
        if (berth_name_validate(name) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid container name \"%s\"", name);
        return 0;
}

static int method_list_containers(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        sd_bus_message *reply = NULL;
        GHashTableIter it;
        gpointer v;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssuso)");
        g_hash_table_iter_init(&it, m->containers);
        while (r >= 0 && g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                if (!c->live)
                        continue;
                r = sd_bus_message_append(reply, "(ssuso)", c->name, container_state_to_string(c->state),
                                          (uint32_t) c->leader, c->scope ?: "", c->path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static gint compare_strp(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int method_list_configured(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        sd_bus_message *reply = NULL;
        GDir *d;
        int r;

        d = g_dir_open(m->config_dir, 0, NULL);
        if (d) {
                for (const char *f; (f = g_dir_read_name(d));) {
                        g_autofree char *n = NULL;
                        if (!g_str_has_suffix(f, ".conf"))
                                continue;
                        n = g_strndup(f, strlen(f) - 5);
                        if (manager_config_exists(m, n))
                                g_ptr_array_add(names, g_steal_pointer(&n));
                }
                g_dir_close(d);
        }
        g_ptr_array_sort(names, compare_strp);
        g_ptr_array_add(names, NULL);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, (char **) names->pdata);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

/* The container a call names: a validated name, a running container or a
 * configured one (loaded on demand). NoSuchContainer when there is neither. */
static int lookup_container(Manager *m, const char *name, sd_bus_error *error, Container **ret) {
        Container *c;
        int r;

        r = validate_name(name, error);
        if (r < 0)
                return r;
        c = manager_find_or_load_container(m, name);
        if (!c)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER,
                                         "No container %s (no %s/%s.conf)", name, m->config_dir, name);
        *ret = c;
        return 0;
}

/* The same for calls that need it running. */
static int lookup_running_container(Manager *m, const char *name, sd_bus_error *error, Container **ret) {
        int r = lookup_container(m, name, error, ret);
        if (r < 0)
                return r;
        if (!(*ret)->live)
                return sd_bus_error_setf(error, BERTH_ERROR_NOT_RUNNING, "Container %s is not running", name);
        return 0;
}

/* The prologue of methods whose only argument is the container name. */
static int read_name_and_lookup(Manager *m, sd_bus_message *msg, bool running, sd_bus_error *error,
                                Container **ret) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        return running ? lookup_running_container(m, name, error, ret) : lookup_container(m, name, error, ret);
}

static int method_get_container(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Container *c;
        int r;

        r = read_name_and_lookup(userdata, msg, false, error, &c);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", c->path);
}

/* After authorization. */

static int do_start(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        Container *c;
        int r;

        r = read_name_and_lookup(m, msg, false, error, &c);
        if (r < 0)
                return r;
        if (c->transient && !c->live)
                c->transient = false;
        return container_start(c, msg, error);
}

static int do_stop(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        Container *c;
        int r;

        r = read_name_and_lookup(m, msg, true, error, &c);
        if (r < 0)
                return r;
        return container_stop(c, msg, error);
}

static int do_kill(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        const char *name, *whom;
        int32_t sig;
        Container *c;
        int r;

        r = sd_bus_message_read(msg, "ssi", &name, &whom, &sig);
        if (r < 0)
                return r;
        r = lookup_running_container(m, name, error, &c);
        if (r < 0)
                return r;
        r = container_kill(c, whom, sig, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int do_run(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        g_autoptr(BerthConfig) cfg = NULL;
        g_autoptr(GError) gerr = NULL;
        g_auto(GStrv) assignments = NULL;
        const char *name;
        Container *c;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = validate_name(name, error);
        if (r < 0)
                return r;
        r = bus_read_assignments(msg, &assignments);
        if (r < 0)
                return r;

        c = manager_get_container(m, name);
        if ((c && c->live) || manager_config_exists(m, name))
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                         "A container named %s already exists", name);

        cfg = berth_config_new(name);
        if (!cfg)
                return -ENOMEM;
        for (char **a = assignments; *a; a++) {
                r = manager_apply_assignment(cfg, *a, "RunContainer", &gerr);
                if (r < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_CONFIG, "%s", gerr ? gerr->message : g_strerror(-r));
        }
        r = berth_config_finalize(cfg, &gerr);
        if (r < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_CONFIG, "%s", gerr ? gerr->message : g_strerror(-r));

        if (!c)
                c = container_new(m, name);
        berth_config_free(c->config);
        c->config = g_steal_pointer(&cfg);
        c->transient = true;
        r = container_start(c, msg, error);
        if (r < 0 && !c->live) {
                g_hash_table_remove(m->containers, c->name);
                container_free(c);
        }
        return r;
}

static int do_set_properties(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        g_auto(GStrv) assignments = NULL;
        const char *name;
        int runtime, r;
        Container *c;

        r = sd_bus_message_read(msg, "sb", &name, &runtime);
        if (r < 0)
                return r;
        r = bus_read_assignments(msg, &assignments);
        if (r < 0)
                return r;
        r = lookup_container(m, name, error, &c);
        if (r < 0)
                return r;
        r = container_set_properties_async(c, runtime, assignments, msg, error);
        if (r == 0)
                return sd_bus_reply_method_return(msg, NULL);
        return r;
}

static int do_reload(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        int r = manager_reload(m);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return bus_verify_manage_async(userdata, msg, do_start, error);
}
static int method_stop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return bus_verify_manage_async(userdata, msg, do_stop, error);
}
static int method_kill(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return bus_verify_manage_async(userdata, msg, do_kill, error);
}
static int method_run(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return bus_verify_manage_async(userdata, msg, do_run, error);
}
static int method_set_properties(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return bus_verify_manage_async(userdata, msg, do_set_properties, error);
}
static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return bus_verify_manage_async(userdata, msg, do_reload, error);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("ListContainers", "", , "a(ssuso)", SD_BUS_PARAM(containers),
                                 method_list_containers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListConfigured", "", , "as", SD_BUS_PARAM(names),
                                 method_list_configured, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetContainer", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(path),
                                 method_get_container, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StartContainer", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(path),
                                 method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StopContainer", "s", SD_BUS_PARAM(name), "", ,
                                 method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("KillContainer", "ssi", SD_BUS_PARAM(name) SD_BUS_PARAM(whom) SD_BUS_PARAM(signal),
                                 "", , method_kill, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RunContainer", "sa(ss)", SD_BUS_PARAM(name) SD_BUS_PARAM(properties),
                                 "o", SD_BUS_PARAM(path), method_run, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SetContainerProperties", "sba(ss)",
                                 SD_BUS_PARAM(name) SD_BUS_PARAM(runtime) SD_BUS_PARAM(properties), "", ,
                                 method_set_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("ContainerNew", "so", SD_BUS_PARAM(name) SD_BUS_PARAM(path), 0),
        SD_BUS_SIGNAL_WITH_NAMES("ContainerRemoved", "so", SD_BUS_PARAM(name) SD_BUS_PARAM(path), 0),
        SD_BUS_SIGNAL_WITH_NAMES("ContainerStateChanged", "soss",
                                 SD_BUS_PARAM(name) SD_BUS_PARAM(path) SD_BUS_PARAM(state) SD_BUS_PARAM(reason), 0),
        SD_BUS_VTABLE_END,
};

int bus_manager_add_objects(Manager *m) {
        int r;

        r = sd_bus_add_object_vtable(m->bus, NULL, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, manager_vtable, m);
        if (r < 0)
                return r;
        r = bus_container_add_objects(m);
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(m->bus, NULL, BERTH_MANAGER_PATH);
}
