/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * berthctl: manage berth containers over the bus (org.berth.berth1).
 * Everything it changes goes through berthd (or systemd for enable/disable);
 * exec, shell and inspect additionally read and join the kernel's view of
 * the container on the local host.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth-build.h"
#include <systemd/sd-journal.h>

#include "berthctl.h"
#include "config.h"

Args arg = {
        .json = JSON_OFF,
        .signal = SIGTERM,
        .lines = -1,
        .tty = -1,
};


/* ---- list ----------------------------------------------------------------- */

static char *container_image(const JsonValue *props) {
        const JsonValue *lower = prop_get(props, "LowerDirectories");
        size_t n = json_length(lower);
        if (n == 0)
                return NULL;
        /* Bottom layer: the image the container was made from. */
        return g_strdup(json_get_string(json_index(lower, n - 1)));
}

static uint64_t cgroup_read_u64(pid_t pid, const char *file) {
        g_autofree char *dir = NULL, *p = NULL, *s = NULL;
        if (pid <= 0 || arg.host || cgroup_dir_of_pid(pid, &dir, NULL) < 0)
                return UINT64_MAX;
        p = g_strdup_printf("%s/%s", dir, file);
        if (read_one_line(p, &s) < 0)
                return UINT64_MAX;
        if (strcmp(s, "max") == 0)
                return UINT64_MAX - 1;
        return g_ascii_strtoull(s, NULL, 10);
}

static JsonValue *container_summary(sd_bus *bus, const char *name, const char *state, uint32_t leader,
                                    const char *scope, const char *path) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ JsonValue *props = NULL;
        JsonValue *o = json_object();

        (void) bus_get_all_properties(bus, path, BERTH_CONTAINER_IFACE, &props, &error);
        json_set(o, "name", json_string(name));
        json_set(o, "state", json_string(state ? state : prop_str(props, "State")));
        json_set(o, "leader", leader ? json_uint(leader) : json_null());
        json_set(o, "scope", json_string(scope && *scope ? scope : NULL));
        json_set(o, "unit", json_string(prop_str(props, "Unit") && *prop_str(props, "Unit") ? prop_str(props, "Unit") : NULL));
        json_set(o, "path", json_string(path));
        g_autofree char *image = container_image(props);
        json_set(o, "image", json_string(image));
        JsonValue *addrs = json_array();
        if (leader > 0 && !arg.host) {
                g_auto(GStrv) a = container_addresses(leader);
                for (char **x = a; x && *x; x++)
                        json_append(addrs, json_string(*x));
        }
        json_set(o, "addresses", addrs);
        uint64_t ts = prop_u64(props, "StartTimestamp", 0);
        json_set(o, "started_usec", ts && leader ? json_uint(ts) : json_null());
        json_set(o, "memory_current", json_limit(cgroup_read_u64(leader, "memory.current")));
        json_set(o, "memory_max", json_limit(prop_u64(props, "MemoryMax", UINT64_MAX)));
        return o;
}

static gint compare_by_name(gconstpointer a, gconstpointer b) {
        const JsonValue *x = *(const JsonValue *const *) a, *y = *(const JsonValue *const *) b;
        return g_strcmp0(json_get_string(prop_get(x, "name")), json_get_string(prop_get(y, "name")));
}

static int verb_list(int argc, char **argv) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        _cleanup_json_ JsonValue *list = json_array();
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        const char *name, *state, *scope, *path;
        uint32_t leader;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAIL;
        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE, "ListContainers",
                               &error, &reply, NULL);
        if (r < 0)
                return bus_log_error("Failed to list containers", &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(ssuso)");
        if (r < 0)
                return bus_log_error("Failed to parse reply", NULL, r);
        while ((r = sd_bus_message_read(reply, "(ssuso)", &name, &state, &leader, &scope, &path)) > 0) {
                json_append(list, container_summary(bus, name, state, leader, scope, path));
                g_hash_table_add(seen, g_strdup(name));
        }
        if (r < 0)
                return bus_log_error("Failed to parse reply", NULL, r);

        if (arg.all) {
                _cleanup_msg_ sd_bus_message *conf = NULL;
                char **names = NULL;
                sd_bus_error_free(&error);
                r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE,
                                       "ListConfigured", &error, &conf, NULL);
                if (r < 0)
                        return bus_log_error("Failed to list configured containers", &error, r);
                r = sd_bus_message_read_strv(conf, &names);
                if (r < 0)
                        return bus_log_error("Failed to parse reply", NULL, r);
                for (char **n = names; n && *n; n++) {
                        g_autofree char *p = NULL;
                        if (g_hash_table_contains(seen, *n))
                                continue;
                        sd_bus_error_free(&error);
                        if (bus_get_container(bus, *n, &p, &error) < 0)
                                continue;
                        json_append(list, container_summary(bus, *n, NULL, 0, NULL, p));
                }
                g_strfreev(names);
        }

        /* Sorted by name, as machinectl does. */
        {
                g_autoptr(GPtrArray) items = g_ptr_array_new();
                for (size_t i = 0; i < json_length(list); i++)
                        g_ptr_array_add(items, json_copy(json_index(list, i)));
                g_ptr_array_sort(items, compare_by_name);
                json_free(list);
                list = json_array();
                for (guint i = 0; i < items->len; i++)
                        json_append(list, items->pdata[i]);
        }

        if (arg.json != JSON_OFF) {
                json_print(stdout, list, arg.json);
                return EXIT_OK;
        }

        static const char *const headers[] = { "NAME", "STATE", "ADDRESS", "IMAGE", "UPTIME", "MEMORY", "LIMIT" };
        Table *t = table_new(G_N_ELEMENTS(headers), headers);
        uint64_t now = (uint64_t) g_get_real_time();
        for (size_t i = 0; i < json_length(list); i++) {
                const JsonValue *c = json_index(list, i);
                const JsonValue *addrs = prop_get(c, "addresses");
                g_autofree char *addr = NULL, *uptime = NULL, *mem = NULL, *lim = NULL;
                uint64_t ts = 0, cur = UINT64_MAX, max = UINT64_MAX;
                const char *image = json_get_string(prop_get(c, "image"));

                addr = json_length(addrs) > 0 ? g_strdup(json_get_string(json_index(addrs, 0))) : NULL;
                if (json_get_number(prop_get(c, "started_usec"), &ts, NULL) && ts > 0 && now > ts)
                        uptime = format_timespan((now - ts) / 1000000 * 1000000);
                if (json_get_number(prop_get(c, "memory_current"), &cur, NULL))
                        mem = format_bytes(cur);
                (void) json_get_number(prop_get(c, "memory_max"), &max, NULL);
                lim = format_limit(max, true);
                const char *cells[] = {
                        json_get_string(prop_get(c, "name")), json_get_string(prop_get(c, "state")),
                        addr, image, uptime, mem, lim,
                };
                table_add_row(t, cells);
        }
        pager_open();
        if (table_rows(t) > 0 || !arg.no_legend)
                table_print(t, stdout);
        if (!arg.no_legend)
                printf("\n%zu container%s listed.\n", table_rows(t), table_rows(t) == 1 ? "" : "s");
        table_free(t);
        return EXIT_OK;
}

/* ---- status --------------------------------------------------------------- */

int container_leader(sd_bus *bus, const char *name, pid_t *ret_pid, JsonValue **ret_props) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        g_autofree char *path = NULL;
        _cleanup_json_ JsonValue *props = NULL;
        int r;

        r = bus_get_container(bus, name, &path, &error);
        if (r < 0)
                return -bus_log_error(name, &error, r);
        r = bus_get_all_properties(bus, path, BERTH_CONTAINER_IFACE, &props, &error);
        if (r < 0) {
                g_autofree char *what = g_strdup_printf("Failed to read the properties of container %s", name);
                return -bus_log_error(what, &error, r);
        }
        uint64_t leader = prop_u64(props, "Leader", 0);
        const char *state = prop_str(props, "State");
        if (leader == 0 || !state || strcmp(state, "running") != 0) {
                fprintf(stderr, "Container %s is not running (%s).\n", name, state ? state : "unknown");
                return -EXIT_NOT_RUNNING;
        }
        *ret_pid = (pid_t) leader;
        if (ret_props) {
                *ret_props = props;
                props = NULL;
        }
        return 0;
}

static char **container_ports(const char *name) {
        g_autoptr(BerthConfig) cfg = NULL;
        g_autoptr(GError) e = NULL;
        GPtrArray *out;

        if (berth_config_load(arg.config_dir, name, &cfg, &e) < 0 || !cfg->ports)
                return NULL;
        out = g_ptr_array_new();
        for (guint i = 0; i < cfg->ports->len; i++) {
                const BerthPort *p = cfg->ports->pdata[i];
                g_ptr_array_add(out, g_strdup_printf("%s %s:%u -> %u", p->protocol == IPPROTO_UDP ? "udp" : "tcp",
                                                     p->host_address ? p->host_address : "0.0.0.0",
                                                     (unsigned) p->host_port, (unsigned) p->container_port));
        }
        g_ptr_array_add(out, NULL);
        return (char **) g_ptr_array_free(out, FALSE);
}

typedef struct CgNode {
        char *name;
        GArray *pids;
        GPtrArray *children;
} CgNode;

static void cg_node_free(CgNode *n) {
        g_free(n->name);
        g_array_unref(n->pids);
        g_ptr_array_unref(n->children);
        g_free(n);
}

static CgNode *cg_read(const char *dir, const char *name, int depth) {
        CgNode *n = g_new0(CgNode, 1);
        g_autofree char *procs = NULL, *p = g_strdup_printf("%s/cgroup.procs", dir);

        n->name = g_strdup(name);
        n->pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
        n->children = g_ptr_array_new_with_free_func((GDestroyNotify) cg_node_free);
        if (read_full(p, &procs, NULL) >= 0) {
                g_auto(GStrv) lines = g_strsplit(procs, "\n", -1);
                for (char **l = lines; *l; l++)
                        if (**l) {
                                pid_t pid = (pid_t) atoi(*l);
                                g_array_append_val(n->pids, pid);
                        }
        }
        if (depth > 16)
                return n;
        GDir *d = g_dir_open(dir, 0, NULL);
        if (!d)
                return n;
        const char *e;
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        while ((e = g_dir_read_name(d))) {
                g_autofree char *sub = g_build_filename(dir, e, NULL);
                if (g_file_test(sub, G_FILE_TEST_IS_DIR) && !g_file_test(sub, G_FILE_TEST_IS_SYMLINK))
                        g_ptr_array_add(names, g_strdup(e));
        }
        g_dir_close(d);
        g_ptr_array_sort(names, (GCompareFunc) (void (*)(void)) g_strcmp0);
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *sub = g_build_filename(dir, (char *) names->pdata[i], NULL);
                g_ptr_array_add(n->children, cg_read(sub, names->pdata[i], depth + 1));
        }
        g_ptr_array_unref(names);
        return n;
}

static char *pid_cmdline(pid_t pid) {
        g_autofree char *p = g_strdup_printf("/proc/%d/cmdline", (int) pid), *data = NULL;
        size_t n = 0;
        if (read_full(p, &data, &n) < 0 || n == 0) {
                g_autofree char *c = NULL, *cp = g_strdup_printf("/proc/%d/comm", (int) pid);
                if (read_one_line(cp, &c) < 0)
                        return g_strdup("n/a");
                return g_strdup_printf("[%s]", c);
        }
        for (size_t i = 0; i + 1 < n; i++)
                if (data[i] == 0)
                        data[i] = ' ';
        if (!arg.full && strlen(data) > 100)
                strcpy(data + 97, "...");
        return g_steal_pointer(&data);
}

static void cg_print(const CgNode *n, const char *prefix) {
        size_t total = n->pids->len + n->children->len;
        size_t k = 0;

        for (guint i = 0; i < n->pids->len; i++, k++) {
                pid_t pid = g_array_index(n->pids, pid_t, i);
                g_autofree char *cmd = pid_cmdline(pid);
                printf("%s%s%s%d %s%s\n", prefix, k + 1 == total ? "└─" : "├─", ansi_grey(), (int) pid, cmd, ansi_normal());
        }
        for (guint i = 0; i < n->children->len; i++, k++) {
                const CgNode *c = n->children->pdata[i];
                bool last = k + 1 == total;
                printf("%s%s%s\n", prefix, last ? "└─" : "├─", c->name);
                g_autofree char *p = g_strconcat(prefix, last ? "  " : "│ ", NULL);
                cg_print(c, p);
        }
}

static void print_field(const char *label, const char *value) {
        if (value && *value)
                printf("%12s: %s\n", label, value);
}

static int verb_status(int argc, char **argv) {
        _cleanup_bus_ sd_bus *bus = NULL;
        int ret = EXIT_OK;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAIL;

        _cleanup_json_ JsonValue *all = json_array();
        if (arg.json == JSON_OFF)
                pager_open();
        for (int i = 1; i < argc; i++) {
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
                g_autofree char *path = NULL;
                _cleanup_json_ JsonValue *props = NULL;
                const char *name = argv[i];

                r = bus_get_container(bus, name, &path, &error);
                if (r >= 0)
                        r = bus_get_all_properties(bus, path, BERTH_CONTAINER_IFACE, &props, &error);
                if (r < 0) {
                        int k = bus_log_error(name, &error, r);
                        if (ret == EXIT_OK)
                                ret = k;
                        continue;
                }
                const char *state = prop_str(props, "State");
                pid_t leader = (pid_t) prop_u64(props, "Leader", 0);
                bool running = state && strcmp(state, "running") == 0 && leader > 0;
                if (!running && ret == EXIT_OK)
                        ret = EXIT_NOT_ACTIVE;

                /* Kernel-side facts, local only. */
                g_autofree char *cg_dir = NULL, *cg_path = NULL;
                uint64_t mem = UINT64_MAX, tasks = UINT64_MAX, cpu = UINT64_MAX;
                g_auto(GStrv) addrs = NULL;
                if (leader > 0 && !arg.host && cgroup_dir_of_pid(leader, &cg_dir, &cg_path) >= 0) {
                        g_autofree char *s = NULL, *p = NULL;
                        mem = cgroup_read_u64(leader, "memory.current");
                        tasks = cgroup_read_u64(leader, "pids.current");
                        p = g_strdup_printf("%s/cpu.stat", cg_dir);
                        if (read_full(p, &s, NULL) >= 0) {
                                const char *u = strstr(s, "usage_usec ");
                                if (u)
                                        cpu = g_ascii_strtoull(u + 11, NULL, 10);
                        }
                        addrs = container_addresses(leader);
                }

                /* Published ports are configuration (the bus has none): from the
                 * local file, when there is one. */
                g_auto(GStrv) ports = arg.host ? NULL : container_ports(name);

                if (arg.json != JSON_OFF) {
                        JsonValue *o = json_object();
                        JsonValue *pa = json_array();
                        for (char **x = ports; x && *x; x++)
                                json_append(pa, json_string(*x));
                        json_set(o, "name", json_string(name));
                        json_set(o, "ports", pa);
                        json_set(o, "path", json_string(path));
                        json_set(o, "properties", props);
                        props = NULL;
                        json_set(o, "cgroup", json_string(cg_path));
                        json_set(o, "memory_current", json_limit(mem));
                        json_set(o, "tasks_current", json_limit(tasks));
                        json_set(o, "cpu_usage_usec", json_limit(cpu));
                        JsonValue *a = json_array();
                        for (char **x = addrs; x && *x; x++)
                                json_append(a, json_string(*x));
                        json_set(o, "addresses", a);
                        json_append(all, o);
                        continue;
                }

                if (i > 1)
                        putchar('\n');
                printf("%s●%s %s\n", running ? ansi_green() : (state && strcmp(state, "failed") == 0 ? ansi_red() : ""),
                       ansi_normal(), name);
                {
                        const char *reason = prop_str(props, "StateReason");
                        uint64_t ts = prop_u64(props, "StartTimestamp", 0);
                        g_autofree char *since = NULL, *ago = NULL, *line = NULL;
                        if (running && ts > 0) {
                                since = format_timestamp(ts);
                                uint64_t now = (uint64_t) g_get_real_time();
                                ago = format_timespan(now > ts ? (now - ts) / 1000000 * 1000000 : 0);
                        }
                        line = g_strdup_printf("%s%s%s%s%s%s%s%s%s", state_color(state), state ? state : "unknown",
                                               ansi_normal(), reason && *reason ? " (" : "", reason ? reason : "",
                                               reason && *reason ? ")" : "", since ? " since " : "",
                                               since ? since : "", "");
                        if (ago) {
                                g_autofree char *l2 = g_strdup_printf("%s; %s ago", line, ago);
                                print_field("State", l2);
                        } else
                                print_field("State", line);
                }
                if (!running) {
                        int64_t code = prop_i64(props, "ExitCode", 0);
                        int64_t sig = prop_i64(props, "ExitSignal", 0);
                        g_autofree char *ex = NULL;
                        if (sig > 0)
                                ex = g_strdup_printf("signal %s%s", signal_name((int) sig),
                                                     prop_bool(props, "OOMKilled") ? " (OOM killed)" : "");
                        else
                                ex = g_strdup_printf("code %" PRIi64 "%s", code,
                                                     prop_bool(props, "OOMKilled") ? " (OOM killed)" : "");
                        print_field("Last exit", ex);
                }
                print_field("Unit", prop_str(props, "Unit"));
                print_field("Scope", prop_str(props, "Scope"));
                if (leader > 0) {
                        g_autofree char *comm = NULL, *cp = g_strdup_printf("/proc/%d/comm", (int) leader);
                        g_autofree char *l = NULL;
                        if (!arg.host && read_one_line(cp, &comm) >= 0)
                                l = g_strdup_printf("%d (%s)", (int) leader, comm);
                        else
                                l = g_strdup_printf("%d", (int) leader);
                        print_field("Leader", l);
                }
                {
                        g_autofree char *image = container_image(props);
                        print_field("Image", image);
                }
                print_field("Root", prop_str(props, "RootDirectory"));
                print_field("Upper", prop_str(props, "UpperDirectory"));
                if (addrs && addrs[0]) {
                        g_autofree char *a = g_strjoinv(", ", addrs);
                        print_field("Address", a);
                }
                if (ports && ports[0]) {
                        g_autofree char *p = g_strjoinv(", ", ports);
                        print_field("Ports", p);
                }
                {
                        /* Sharing the user namespace (no PrivateUsers=) is the
                         * default, not a weakening: flag the others. */
                        const JsonValue *shared = prop_get(props, "SharedNamespaces");
                        g_autoptr(GPtrArray) names = g_ptr_array_new();
                        for (size_t k = 0; k < json_length(shared); k++) {
                                const char *ns = json_get_string(json_index(shared, k));
                                if (ns && strcmp(ns, "user") != 0 && strcmp(ns, "time") != 0)
                                        g_ptr_array_add(names, (char *) ns);
                        }
                        g_ptr_array_add(names, NULL);
                        if (names->len > 1) {
                                g_autofree char *s = g_strjoinv(" ", (char **) names->pdata);
                                g_autofree char *l = g_strdup_printf("%s%s%s (shared with the host)", ansi_red(), s, ansi_normal());
                                print_field("Host ns", l);
                        }
                }
                {
                        uint64_t max = prop_u64(props, "MemoryMax", UINT64_MAX);
                        g_autofree char *m = mem != UINT64_MAX ? format_bytes(mem) : NULL;
                        g_autofree char *lim = max != UINT64_MAX ? format_limit(max, true) : NULL;
                        g_autofree char *l = NULL;
                        if (m || lim)
                                l = g_strdup_printf("%s%s%s%s", m ? m : "n/a", lim ? " (max: " : "", lim ? lim : "", lim ? ")" : "");
                        print_field("Memory", l);
                }
                {
                        uint64_t max = prop_u64(props, "TasksMax", UINT64_MAX);
                        g_autofree char *lim = max != UINT64_MAX ? format_limit(max, false) : NULL;
                        g_autofree char *l = NULL;
                        g_autofree char *cur = tasks != UINT64_MAX ? g_strdup_printf("%" PRIu64, tasks) : NULL;
                        if (cur || lim)
                                l = g_strdup_printf("%s%s%s%s", cur ? cur : "n/a",
                                                    lim ? " (limit: " : "", lim ? lim : "", lim ? ")" : "");
                        print_field("Tasks", l);
                }
                {
                        uint64_t q = prop_u64(props, "CPUQuotaPerSecUSec", UINT64_MAX);
                        g_autofree char *c = cpu != UINT64_MAX ? format_timespan(cpu) : NULL;
                        g_autofree char *l = NULL;
                        g_autofree char *qs = q != UINT64_MAX ? g_strdup_printf(" (quota: %g%%)", (double) q / 10000.0) : NULL;
                        if (c || qs)
                                l = g_strdup_printf("%s%s", c ? c : "n/a", qs ? qs : "");
                        print_field("CPU", l);
                }
                if (cg_dir) {
                        print_field("CGroup", cg_path);
                        CgNode *n = cg_read(cg_dir, cg_path, 0);
                        cg_print(n, "              ");
                        cg_node_free(n);
                }
                if (!arg.host) {
                        putchar('\n');
                        fflush(stdout);
                        (void) show_journal(name, arg.lines >= 0 ? arg.lines : 10, false, NULL, "short");
                }
        }
        if (arg.json != JSON_OFF)
                json_print(stdout, argc == 2 && json_length(all) == 1 ? json_index(all, 0) : all, arg.json);
        return ret;
}

/* ---- show ----------------------------------------------------------------- */

static bool property_wanted(const char *name) {
        if (!arg.properties)
                return true;
        for (char **p = arg.properties; *p; p++)
                if (g_ascii_strcasecmp(*p, name) == 0)
                        return true;
        return false;
}

static int verb_show(int argc, char **argv) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_json_ JsonValue *all = json_array();
        int ret = EXIT_OK, r;

        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAIL;
        if (arg.json == JSON_OFF)
                pager_open();
        for (int i = 1; i < argc; i++) {
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
                g_autofree char *path = NULL;
                _cleanup_json_ JsonValue *props = NULL;

                r = bus_get_container(bus, argv[i], &path, &error);
                if (r >= 0)
                        r = bus_get_all_properties(bus, path, BERTH_CONTAINER_IFACE, &props, &error);
                if (r < 0) {
                        int k = bus_log_error(argv[i], &error, r);
                        if (ret == EXIT_OK)
                                ret = k;
                        continue;
                }
                JsonValue *o = json_object();
                for (size_t k = 0; k < json_length(props); k++) {
                        const char *key = json_object_key(props, k);
                        const JsonValue *v = json_index(props, k);
                        if (!property_wanted(key))
                                continue;
                        if (arg.json != JSON_OFF) {
                                json_set(o, key, json_copy(v));
                                continue;
                        }
                        g_autofree char *text = json_to_text(v);
                        if (arg.value)
                                printf("%s\n", text);
                        else
                                printf("%s=%s\n", key, text);
                }
                if (arg.json == JSON_OFF && i + 1 < argc && !arg.value)
                        putchar('\n');
                json_append(all, o);
        }
        if (arg.json != JSON_OFF)
                json_print(stdout, argc == 2 && json_length(all) == 1 ? json_index(all, 0) : all, arg.json);
        return ret;
}

/* ---- systemd jobs (restart of a unit-managed container, enable --now) ---- */

typedef struct JobWait {
        const char *job;
        char *result;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && strcmp(path, w->job) == 0 && !w->result)
                w->result = g_strdup(result);
        return 0;
}

static int systemd_unit_job(sd_bus *bus, const char *method, const char *unit) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        sd_bus_slot *slot = NULL;
        JobWait w = {};
        const char *job;
        int r;

        r = sd_bus_match_signal(bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return bus_log_error("Failed to subscribe to systemd jobs", NULL, r);
        (void) sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", method, &error, &reply, "ss", unit, "replace");
        if (r < 0) {
                g_autofree char *what = g_strdup_printf("Failed to %s %s", method, unit);
                sd_bus_slot_unref(slot);
                return bus_log_error(what, &error, r);
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                g_autofree char *what = g_strdup_printf("Failed to parse the reply to %s %s", method, unit);
                sd_bus_slot_unref(slot);
                return bus_log_error(what, NULL, r);
        }
        w.job = job;
        while (!w.result) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        break;
        }
        sd_bus_slot_unref(slot);
        if (!w.result) {
                fprintf(stderr, "Lost the connection while waiting for %s: %s\n", unit, strerror(-r));
                return EXIT_FAIL;
        }
        if (strcmp(w.result, "done") != 0) {
                fprintf(stderr, "Job for %s failed (result: %s). See \"systemctl status %s\" and \"journalctl -xeu %s\".\n",
                        unit, w.result, unit, unit);
                g_free(w.result);
                return EXIT_FAIL;
        }
        g_free(w.result);
        return EXIT_OK;
}

/* ---- start, stop, restart, kill ------------------------------------------- */

static int call_on_each(int argc, char **argv, const char *method, const char *verb) {
        _cleanup_bus_ sd_bus *bus = NULL;
        int ret = EXIT_OK, r;

        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAIL;
        for (int i = 1; i < argc; i++) {
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
                if (strcmp(method, "KillContainer") == 0)
                        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE, method,
                                               &error, NULL, "ssi", argv[i], arg.whom ? arg.whom : "all", arg.signal);
                else
                        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE, method,
                                               &error, NULL, "s", argv[i]);
                /* Stopping a container that does not run is not an error (as
                 * systemctl stop); an unknown one is (NoSuchContainer, exit 4). */
                if (r < 0 && strcmp(method, "StopContainer") == 0 &&
                    sd_bus_error_has_name(&error, "org.berth.berth1.NotRunning"))
                        r = 0;
                if (r < 0) {
                        g_autofree char *what = g_strdup_printf("Failed to %s %s", verb, argv[i]);
                        int k = bus_log_error(what, &error, r);
                        if (ret == EXIT_OK)
                                ret = k;
                }
        }
        return ret;
}

static int verb_start(int argc, char **argv) { return call_on_each(argc, argv, "StartContainer", "start"); }
static int verb_stop(int argc, char **argv) { return call_on_each(argc, argv, "StopContainer", "stop"); }
static int verb_kill(int argc, char **argv) { return call_on_each(argc, argv, "KillContainer", "kill"); }

static int verb_restart(int argc, char **argv) {
        _cleanup_bus_ sd_bus *bus = NULL;
        int ret = EXIT_OK, r;

        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAIL;
        for (int i = 1; i < argc; i++) {
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
                g_autofree char *path = NULL;
                _cleanup_json_ JsonValue *props = NULL;
                const char *unit = NULL, *state = NULL;
                int k = EXIT_OK;

                r = bus_get_container(bus, argv[i], &path, &error);
                if (r >= 0)
                        r = bus_get_all_properties(bus, path, BERTH_CONTAINER_IFACE, &props, &error);
                if (r < 0) {
                        k = bus_log_error(argv[i], &error, r);
                        goto next;
                }
                unit = prop_str(props, "Unit");
                state = prop_str(props, "State");
                if (unit && *unit && state && strcmp(state, "running") == 0) {
                        /* Started through container@NAME.service: restart the unit,
                         * so that systemd keeps supervising it. */
                        k = systemd_unit_job(bus, "RestartUnit", unit);
                        goto next;
                }
                r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE, "StopContainer",
                                       &error, NULL, "s", argv[i]);
                if (r < 0 && !sd_bus_error_has_name(&error, "org.berth.berth1.NotRunning")) {
                        g_autofree char *what = g_strdup_printf("Failed to stop %s", argv[i]);
                        k = bus_log_error(what, &error, r);
                        goto next;
                }
                sd_bus_error_free(&error);
                r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE, "StartContainer",
                                       &error, NULL, "s", argv[i]);
                if (r < 0) {
                        g_autofree char *what = g_strdup_printf("Failed to start %s", argv[i]);
                        k = bus_log_error(what, &error, r);
                }
        next:
                if (k != EXIT_OK && ret == EXIT_OK)
                        ret = k;
        }
        return ret;
}

/* ---- set-property --------------------------------------------------------- */

static int append_assignments(sd_bus_message *m, char **assignments) {
        int r = sd_bus_message_open_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        for (char **a = assignments; a && *a; a++) {
                const char *eq = strchr(*a, '=');
                if (!eq || eq == *a) {
                        fprintf(stderr, "Not an assignment: %s (expected KEY=VALUE)\n", *a);
                        return -EINVAL;
                }
                g_autofree char *key = g_strndup(*a, eq - *a);
                r = sd_bus_message_append(m, "(ss)", key, eq + 1);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static int verb_set_property(int argc, char **argv) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *m = NULL;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAIL;
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE,
                                           "SetContainerProperties");
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", argv[1], arg.runtime);
        if (r >= 0)
                r = append_assignments(m, argv + 2);
        if (r == -EINVAL)
                return EXIT_INVALID_ARGS;
        if (r < 0)
                return bus_log_error("Failed to build the request", NULL, r);
        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0) {
                g_autofree char *what = g_strdup_printf("Failed to set properties of %s", argv[1]);
                return bus_log_error(what, &error, r);
        }
        return EXIT_OK;
}

/* ---- enable, disable ------------------------------------------------------ */

static void print_unit_file_changes(sd_bus_message *reply) {
        const char *type, *path, *source;

        if (sd_bus_message_enter_container(reply, 'a', "(sss)") < 0)
                return;
        while (sd_bus_message_read(reply, "(sss)", &type, &path, &source) > 0) {
                if (arg.quiet)
                        continue;
                if (strcmp(type, "symlink") == 0)
                        fprintf(stderr, "Created symlink %s → %s.\n", path, source);
                else if (strcmp(type, "unlink") == 0)
                        fprintf(stderr, "Removed \"%s\".\n", path);
                else
                        fprintf(stderr, "%s: %s %s\n", type, path, source);
        }
        (void) sd_bus_message_exit_container(reply);
}

static int enable_disable(int argc, char **argv, bool enable) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
        g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func(g_free);
        int r;

        for (int i = 1; i < argc; i++) {
                if (berth_name_validate(argv[i]) < 0) {
                        fprintf(stderr, "Invalid container name: %s\n", argv[i]);
                        return EXIT_INVALID_ARGS;
                }
                g_ptr_array_add(units, g_strdup_printf("container@%s.service", argv[i]));
        }
        g_ptr_array_add(units, NULL);

        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAIL;
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager",
                                           enable ? "EnableUnitFiles" : "DisableUnitFiles");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **) units->pdata);
        if (r >= 0)
                r = enable ? sd_bus_message_append(m, "bb", arg.runtime, false)
                           : sd_bus_message_append(m, "b", arg.runtime);
        if (r < 0)
                return bus_log_error("Failed to build the request", NULL, r);
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return bus_log_error(enable ? "Failed to enable" : "Failed to disable", &error, r);
        if (enable) {
                int carries;
                (void) sd_bus_message_read(reply, "b", &carries);
        }
        print_unit_file_changes(reply);
        sd_bus_error_free(&error);
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "Reload", &error, NULL, NULL);
        if (r < 0)
                return bus_log_error("Failed to reload systemd", &error, r);

        if (!arg.now)
                return EXIT_OK;
        int ret = EXIT_OK;
        for (guint i = 0; units->pdata[i]; i++) {
                int k = systemd_unit_job(bus, enable ? "StartUnit" : "StopUnit", units->pdata[i]);
                if (k != EXIT_OK && ret == EXIT_OK)
                        ret = k;
        }
        return ret;
}

static int verb_enable(int argc, char **argv) { return enable_disable(argc, argv, true); }
static int verb_disable(int argc, char **argv) { return enable_disable(argc, argv, false); }

/* ---- run ------------------------------------------------------------------ */

typedef struct RunWait {
        const char *name;
        char *state;
        char *reason;
} RunWait;

static int on_state_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        RunWait *w = userdata;
        const char *name, *path, *state, *reason;

        if (sd_bus_message_read(m, "soss", &name, &path, &state, &reason) < 0)
                return 0;
        if (strcmp(name, w->name) != 0)
                return 0;
        if (strcmp(state, "exited") == 0 || strcmp(state, "failed") == 0) {
                g_free(w->state);
                g_free(w->reason);
                w->state = g_strdup(state);
                w->reason = g_strdup(reason);
        }
        return 0;
}

static int exit_status_from_reason(const char *state, const char *reason) {
        int sig;
        if (g_str_has_prefix(reason, "exit-code="))
                return atoi(reason + 10);
        if (g_str_has_prefix(reason, "signal=") && parse_signal(reason + 7, &sig) >= 0)
                return 128 + sig;
        if (strcmp(reason, "oom-kill") == 0)
                return 128 + SIGKILL;
        return strcmp(state, "exited") == 0 ? EXIT_OK : EXIT_FAIL;
}

static int verb_run(int argc, char **argv) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
        const char *name = argv[1], *path;
        sd_bus_slot *slot = NULL;
        RunWait w = { .name = name };
        __attribute__((cleanup(journal_closep))) sd_journal *journal = NULL;
        int r;

        if (berth_name_validate(name) < 0) {
                fprintf(stderr, "Invalid container name: %s\n", name);
                return EXIT_INVALID_ARGS;
        }
        char **cmd = argv + 2;
        if (*cmd && strcmp(*cmd, "--") == 0)
                cmd++;
        if (*cmd) {
                g_autofree char *joined = shell_join(cmd);
                g_ptr_array_add(arg.run_props, g_strdup_printf("Container.Command=%s", joined));
        }
        g_ptr_array_add(arg.run_props, NULL);

        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAIL;
        if (arg.follow) {
                if (arg.host) {
                        fprintf(stderr, "run -f reads the local journal; it does not work with -H.\n");
                        return EXIT_INVALID_ARGS;
                }
                arg.wait = true;
                r = journal_open_for(name, &journal);
                if (r < 0)
                        fprintf(stderr, "Warning: cannot read the journal (%s); not showing output.\n", strerror(-r));
        }
        if (arg.wait) {
                r = sd_bus_match_signal(bus, &slot, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE,
                                        "ContainerStateChanged", on_state_changed, &w);
                if (r < 0)
                        return bus_log_error("Failed to subscribe to state changes", NULL, r);
        }
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE,
                                           "RunContainer");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = append_assignments(m, (char **) arg.run_props->pdata);
        if (r == -EINVAL)
                return EXIT_INVALID_ARGS;
        if (r < 0)
                return bus_log_error("Failed to build the request", NULL, r);
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                g_autofree char *what = g_strdup_printf("Failed to run %s", name);
                sd_bus_slot_unref(slot);
                return bus_log_error(what, &error, r);
        }
        if (sd_bus_message_read(reply, "o", &path) < 0)
                path = "";
        if (!arg.quiet)
                fprintf(stderr, "Running as container %s (%s).\n", name, path);
        if (!arg.wait)
                return EXIT_OK;

        while (!w.state) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                if (journal) {
                        (void) journal_print_new(journal);
                        struct pollfd p[2] = {
                                { .fd = sd_bus_get_fd(bus), .events = (short) sd_bus_get_events(bus) },
                                { .fd = sd_journal_get_fd(journal), .events = (short) sd_journal_get_events(journal) },
                        };
                        r = poll(p, 2, 250);
                        if (r < 0 && errno != EINTR)
                                break;
                        (void) sd_journal_process(journal);
                        continue;
                }
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        break;
        }
        sd_bus_slot_unref(slot);
        if (journal) {
                /* journald may still be writing the last lines: give it a moment. */
                /* Until nothing new came for 300 ms (at most 2 s): sd_journal_wait()
                 * may return at once, so count time, not wakeups. */
                uint64_t start = (uint64_t) g_get_monotonic_time(), last = start, t;
                for (;;) {
                        t = (uint64_t) g_get_monotonic_time();
                        if (journal_print_new(journal) > 0)
                                last = t;
                        if (t - last > 300 * 1000 || t - start > 2000 * 1000)
                                break;
                        (void) sd_journal_wait(journal, 50 * 1000);
                }
        }
        if (!w.state) {
                fprintf(stderr, "Lost the connection to berthd while waiting for %s: %s\n", name, strerror(-r));
                return EXIT_FAIL;
        }
        int ret = exit_status_from_reason(w.state, w.reason);
        if (!arg.quiet)
                fprintf(stderr, "Container %s %s (%s).\n", name, w.state, w.reason);
        g_free(w.state);
        g_free(w.reason);
        return ret;
}

/* ---- help ----------------------------------------------------------------- */

typedef struct Verb {
        const char *name;
        int min_args, max_args;  /* positional arguments after the verb; -1 = unlimited */
        int (*func)(int argc, char **argv);
        const char *synopsis;
        const char *help;
} Verb;

static int verb_help(int argc, char **argv);

static const Verb verbs[] = {
        { "list", 0, 0, verb_list, "list [--all]",
          "List containers that are starting, running or stopping, one per line: name,\n"
          "state, first IPv4 address, image (bottom lower directory), uptime, memory in\n"
          "use and the MemoryMax= limit.\n\n"
          "  -a --all            Also list configured containers that are not running\n"
          "     --no-legend      Omit the header and the footer\n"
          "     --json=MODE      Print a JSON array (pretty or short)\n\n"
          "Address and memory are read from the kernel and shown only on the local host." },
        { "status", 1, -1, verb_status, "status NAME...",
          "Show the runtime status of containers, like systemctl status: state and\n"
          "reason, unit, scope, leader, root and upper directories, addresses, memory,\n"
          "tasks and CPU time against their limits, the process tree of the container's\n"
          "cgroup and its most recent journal lines.\n\n"
          "  -n --lines=N        Number of journal lines to show (default 10)\n"
          "  -l --full           Do not ellipsize command lines\n"
          "     --json=MODE      Print the properties and kernel readings as JSON\n\n"
          "Exits 0 if every container runs, 3 if one does not, 4 if one does not exist." },
        { "show", 1, -1, verb_show, "show NAME... [-p PROPERTY...]",
          "Show the bus properties of containers as KEY=VALUE lines (the\n"
          "org.berth.berth1.Container interface). Limits of UINT64_MAX mean unset.\n\n"
          "  -p --property=NAME  Show only this property (repeatable, or comma-separated)\n"
          "     --value          Print only the values\n"
          "     --json=MODE      Print a JSON object of the properties" },
        { "start", 1, -1, verb_start, "start NAME...",
          "Start configured containers (/etc/berth/containers/NAME.conf) directly through\n"
          "berthd. Returns once the payload runs, or with the setup error. To start a\n"
          "container under its unit, use systemctl start container@NAME." },
        { "stop", 1, -1, verb_stop, "stop NAME...",
          "Stop containers gracefully: SIGTERM to PID 1 (SIGRTMIN+3 with Boot=yes), and\n"
          "SIGKILL to the whole scope after KillTimeoutSec=. Returns when the container\n"
          "has exited. Stopping a container that does not run succeeds." },
        { "restart", 1, -1, verb_restart, "restart NAME...",
          "Stop and start containers. A container running under container@NAME.service is\n"
          "restarted through systemd (RestartUnit), so the unit keeps supervising it." },
        { "kill", 1, -1, verb_kill, "kill NAME... [--whom=leader|all] [--signal=SIGNAL]",
          "Send a signal to the processes of containers.\n\n"
          "     --whom=WHOM      leader (PID 1 of the container) or all (every process of\n"
          "                      its scope; the default)\n"
          "  -s --signal=SIGNAL  Signal name (TERM, SIGKILL, RTMIN+3) or number\n"
          "                      (default SIGTERM)" },
        { "enable", 1, -1, verb_enable, "enable NAME... [--now] [--runtime]",
          "Enable container@NAME.service, so the container starts at boot, through\n"
          "systemd's EnableUnitFiles, then reload systemd.\n\n"
          "     --now            Also start the units and wait for them\n"
          "     --runtime        Enable until the next reboot only (/run)" },
        { "disable", 1, -1, verb_disable, "disable NAME... [--now] [--runtime]",
          "Disable container@NAME.service (systemd's DisableUnitFiles), then reload\n"
          "systemd.\n\n"
          "     --now            Also stop the units and wait for them\n"
          "     --runtime        Disable the runtime (/run) enablement only" },
        { "run", 1, -1, verb_run, "run [OPTIONS] NAME [--] [COMMAND [ARG...]]",
          "Run a transient container, forgotten when it exits (berthd's RunContainer). The\n"
          "container has no configuration file; options become \"Section.Key\" assignments,\n"
          "exactly as in berth.conf(5). Its output goes to the journal: see berthctl logs.\n\n"
          "  -D --directory=DIR  Rootfs.Directory=: the read-only lower directory\n"
          "     --layer=DIR      Rootfs.Layers=: a lower layer, bottom first (repeatable)\n"
          "     --upper=DIR      Rootfs.UpperDirectory=: keep changes in DIR (default: an\n"
          "                      ephemeral upper directory on tmpfs)\n"
          "     --read-only      Rootfs.ReadOnly=yes\n"
          "     --bind=SRC[:DST][:ro|rw]   Files.Bind= (repeatable)\n"
          "     --bind-ro=SRC[:DST]        Files.BindReadOnly= (repeatable)\n"
          "     --tmpfs=DST[:OPTIONS]      Files.TemporaryFileSystem= (repeatable)\n"
          "  -E --setenv=NAME=VALUE        Container.Environment= (repeatable)\n"
          "  -u --user=USER      Container.User=\n"
          "  -w --workdir=DIR    Container.WorkingDirectory=\n"
          "     --hostname=NAME  Container.Hostname=\n"
          "     --boot           Container.Boot=yes: COMMAND is an init\n"
          "     --description=TEXT         Container.Description=\n"
          "     --memory-max=SIZE          Limits.MemoryMax=\n"
          "     --memory-high=SIZE         Limits.MemoryHigh=\n"
          "     --cpu-quota=PERCENT        Limits.CPUQuota=\n"
          "     --cpu-weight=WEIGHT        Limits.CPUWeight=\n"
          "     --io-weight=WEIGHT         Limits.IOWeight=\n"
          "     --tasks-max=N              Limits.TasksMax=\n"
          "     --allowed-cpus=LIST        Limits.AllowedCPUs=\n"
          "     --network=MODE   Network.Mode=: bridge, none or host\n"
          "     --port=PROTO:[ADDR:]HOST:CONTAINER   Network.Port= (repeatable)\n"
          "     --capability=CAP           Security.Capability= (repeatable)\n"
          "     --drop-capability=CAP      Security.DropCapability= (repeatable)\n"
          "     --private-users=yes|UID[:RANGE]   Security.PrivateUsers=\n"
          "  -p --property=SECTION.KEY=VALUE   Any other assignment (repeatable)\n"
          "     --wait           Wait until the container exits and exit with its status\n"
          "                      (128+N if it died of signal N)\n"
          "  -f --follow         Print the container's output (from the journal) while\n"
          "                      waiting; implies --wait. Local host only\n"
          "  -q --quiet          Do not print the container's name and object path" },
        { "exec", 1, -1, verb_exec, "exec [OPTIONS] NAME [--] COMMAND [ARG...]",
          "Run a command inside a running container. The command joins all of the\n"
          "container's namespaces (setns on a pidfd of its PID 1) and its cgroup, runs\n"
          "with the container's capability bounding set, no_new_privs and seccomp filter,\n"
          "as its configured user, with its environment. It gets a pseudo-terminal from\n"
          "the container's own devpts when stdin is a terminal, and plain file\n"
          "descriptors otherwise.\n\n"
          "berthctl exits with the command's exit status, or 128+N if it died of signal\n"
          "N; 125 if the command could not be started, 126 if it is not executable and\n"
          "127 if it was not found.\n\n"
          "  -t --tty            Always allocate a pseudo-terminal\n"
          "  -T --no-tty         Never allocate one\n"
          "  -u --user=USER      Run as USER (name or id, from the container's /etc/passwd)\n"
          "  -w --workdir=DIR    Working directory inside the container\n"
          "  -E --setenv=NAME=VALUE   Set an environment variable (repeatable)\n\n"
          "Local host only; needs root." },
        { "shell", 1, 1, verb_shell, "shell [OPTIONS] NAME",
          "Start the login shell (from the container's /etc/passwd) of the container's\n"
          "user, or of --user, inside the container, as exec does, with a\n"
          "pseudo-terminal when stdin is a terminal. Exits with the shell's status.\n\n"
          "  -u --user=USER      Log in as USER\n"
          "  -E --setenv=NAME=VALUE   Set an environment variable (repeatable)" },
        { "logs", 1, 1, verb_logs, "logs NAME [-f] [-n N] [--since=TIME] [-o MODE]",
          "Show the journal of a container: its output (stdout journal streams with\n"
          "SYSLOG_IDENTIFIER=NAME), berthd's messages about it (CONTAINER_NAME=NAME) and\n"
          "those of container@NAME.service and berth-NAME.scope.\n\n"
          "  -f --follow         Wait for new entries and print them\n"
          "  -n --lines=N        Show only the last N entries\n"
          "  -S --since=TIME     Start at TIME: \"2025-01-31 12:00[:00]\", \"12:00\", \"today\",\n"
          "                      \"yesterday\", \"-5min\", \"5min ago\" or \"@EPOCH\"\n"
          "  -o --output=MODE    short (default), cat (messages only), json (one\n"
          "                      object per entry) or json-pretty\n\n"
          "Local host only." },
        { "set-property", 2, -1, verb_set_property, "set-property NAME KEY=VALUE...",
          "Change configuration keys of a container. Limits (MemoryMax=, MemoryHigh=,\n"
          "MemorySwapMax=, CPUQuota=, CPUWeight=, IOWeight=, TasksMax=, AllowedCPUs=)\n"
          "apply at once to a running container's scope. Keys may carry their section\n"
          "(Limits.MemoryMax=1G). Unless --runtime, every assignment is also saved to\n"
          "/etc/berth/containers/NAME.conf.d/50-berth-set-property.conf.\n\n"
          "     --runtime        Do not persist; only limits, container must run" },
        { "inspect", 1, 1, verb_inspect, "inspect NAME",
          "Show the real kernel state of a running container, each item read from the\n"
          "kernel rather than from berth's records:\n"
          "  - each namespace's inode beside the host's (PID 1's), shared ones flagged;\n"
          "  - the cgroup path and its memory.current, memory.max, pids.current,\n"
          "    pids.max, cpu.max and the oom_kill count of memory.events;\n"
          "  - the overlay's lowerdir, upperdir and workdir as mounted (from the\n"
          "    container's mountinfo) and the merged directory;\n"
          "  - network links, the host side of the veth and its bridge, addresses and\n"
          "    routes (netlink inside the container's network namespace);\n"
          "  - the capability sets, no_new_privs and seccomp mode of PID 1.\n\n"
          "     --json=MODE      Print a JSON object\n\n"
          "Local host only; needs root." },
        { "cat", 1, 1, verb_cat, "cat NAME [--config-dir=DIR]",
          "Show the effective configuration of a container after its drop-ins are\n"
          "applied, with the file that set each key: the list of files read, then each\n"
          "section with its keys, each group of keys preceded by a comment naming its\n"
          "source. For a list key every assignment that still contributes is shown.\n"
          "Warnings (unknown keys...) are printed to stderr.\n\n"
          "     --config-dir=DIR Read DIR instead of /etc/berth/containers\n"
          "     --json=MODE      Print the files, keys and warnings as JSON\n\n"
          "Reads the local configuration; exits 5 if NAME.conf does not exist and 6 if\n"
          "it is invalid." },
        { "audit", 0, -1, verb_audit, "audit [NAME... | --all] [--config=FILE...] [--policy=FILE] [--json]",
          "Check containers against the host's guardrail policy (/etc/berth/policy.conf,\n"
          "or the built-in restricted profile when it does not exist): every weakening of\n"
          "isolation (host namespaces, dangerous or added capabilities, seccomp off or\n"
          "syscalls re-allowed, no_new_privs off, sensitive or writable binds, device\n"
          "nodes, missing MemoryMax= or TasksMax=) is a finding with the severity the\n"
          "profile gives its rule, unless an [Exception:RULE] section with a\n"
          "Justification= and an Expires= not yet past waives it (then it is info).\n"
          "Exceptions that expire within 7 days, exceptions that waive nothing and keys\n"
          "the parser ignored are warnings; a config that does not load is an error.\n\n"
          "  --config=FILE       Lint FILE and its FILE.d/*.conf drop-ins (repeatable).\n"
          "                      The file need not be installed, so a repository of\n"
          "                      configs can be checked before deployment (CI gate);\n"
          "                      the container name is FILE's name without .conf, and\n"
          "                      bind sources are judged by their path only, without\n"
          "                      resolving them on this host.\n"
          "  NAME...             Audit running containers: their configuration in\n"
          "                      /etc/berth/containers (--config-dir=DIR), evaluated as\n"
          "                      at start, and drift: the kernel's view of PID 1 (its\n"
          "                      namespace inodes against the host's, CapEff and CapBnd,\n"
          "                      seccomp mode, NoNewPrivs, and the host paths mounted in\n"
          "                      it) compared with what the configuration says. Drift\n"
          "                      (rules drift-*) is always an error: the container is\n"
          "                      weaker than its configuration, e.g. its config was\n"
          "                      tightened while it ran, or something joined it to a\n"
          "                      host namespace.\n"
          "  -a --all            Audit every running container\n"
          "     --policy=FILE    Use FILE as the host policy instead of\n"
          "                      /etc/berth/policy.conf (e.g. the production policy in CI)\n"
          "     --config-dir=DIR Read running containers' configs from DIR\n"
          "     --json[=MODE]    Print a JSON object: policy, profile, targets (each with\n"
          "                      the indices of its findings), findings (rule, severity,\n"
          "                      rule_severity, container, file, section, key, value,\n"
          "                      message, fix, drift, waived_by, rejected_exception),\n"
          "                      errors, warnings, info, exit_code. MODE is pretty\n"
          "                      (default) or short\n"
          "  -q --quiet          Do not list waived (info) findings\n"
          "     --no-legend      Omit the summary line\n\n"
          "Each finding names its rule, the file, section, key and value that caused it,\n"
          "its severity, what the weakening allows and how to fix it.\n\n"
          "Exit status: 0 clean (info findings at most), 1 warnings only, 2 errors.\n"
          "When a target cannot be audited: 3 (or more) in any case, 4 access denied or\n"
          "no such container, 5 config file missing (e.g. a transient container), 6\n"
          "invalid host policy or config, 7 container not running. Invalid arguments exit\n"
          "2 with a message on stderr.\n\n"
          "Drift detection reads /proc of the container's PID 1: local host only, as\n"
          "root. Transient containers (berthctl run) have no config and are not audited." },
        { "help", 0, 1, verb_help, "help [VERB]", "Show help for berthctl or one verb." },
};

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

static void help_verb(const Verb *v) {
        printf("%sberthctl %s%s\n\n%s\n", ansi_highlight(), v->synopsis, ansi_normal(), v->help);
        printf("\nSee berthctl(1) for the global options (-H, --json, --no-pager, --no-legend).\n");
}

static void help(void) {
        pager_open();
        printf("%sberthctl%s [OPTIONS...] COMMAND ...\n\n"
               "Manage berth containers.\n\n"
               "%sContainer commands:%s\n", ansi_highlight(), ansi_normal(), ansi_highlight(), ansi_normal());
        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
                printf("  %s\n", verbs[i].synopsis);
        printf("\n%sOptions:%s\n"
               "  -h --help              Show this help, or with a COMMAND, its help\n"
               "     --version           Show the version\n"
               "  -H --host=[USER@]HOST  Operate on a remote host (over SSH)\n"
               "     --json[=pretty|short|off]  JSON output for read commands (bare: pretty)\n"
               "     --no-pager          Do not pipe output into a pager\n"
               "     --no-legend         Do not print headers and footers\n"
               "  -q --quiet             Suppress informational messages\n"
               "  -a --all               list: include configured containers\n"
               "  -p --property=NAME     show: only this property; run: SECTION.KEY=VALUE\n"
               "\nRun \"berthctl COMMAND --help\" for the options of one command, and see\n"
               "berthctl(1) and berth.conf(5).\n\n"
               "Exit status: 0 success, 1 failure, 2 invalid arguments, 3 not running\n"
               "(status), 4 no such container or access denied, 5 no configuration file,\n"
               "6 invalid configuration, 7 container not running; exec and shell return\n"
               "the command's status.\n", ansi_highlight(), ansi_normal());
}

static int verb_help(int argc, char **argv) {
        if (argc > 1) {
                const Verb *v = find_verb(argv[1]);
                if (!v) {
                        fprintf(stderr, "Unknown command: %s\n", argv[1]);
                        return EXIT_INVALID_ARGS;
                }
                help_verb(v);
                return EXIT_OK;
        }
        help();
        return EXIT_OK;
}

/* ---- option parsing ------------------------------------------------------- */

enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_PAGER,
        ARG_NO_LEGEND,
        ARG_VALUE,
        ARG_WHOM,
        ARG_RUNTIME,
        ARG_NOW,
        ARG_CONFIG_DIR,
        ARG_PID,
        ARG_NAME,
        ARG_LAYER,
        ARG_UPPER,
        ARG_READ_ONLY,
        ARG_BIND,
        ARG_BIND_RO,
        ARG_TMPFS,
        ARG_HOSTNAME,
        ARG_BOOT,
        ARG_DESCRIPTION,
        ARG_MEMORY_MAX,
        ARG_MEMORY_HIGH,
        ARG_CPU_QUOTA,
        ARG_CPU_WEIGHT,
        ARG_IO_WEIGHT,
        ARG_TASKS_MAX,
        ARG_ALLOWED_CPUS,
        ARG_NETWORK,
        ARG_PORT,
        ARG_CAPABILITY,
        ARG_DROP_CAPABILITY,
        ARG_PRIVATE_USERS,
        ARG_WAIT,
        ARG_CONFIG,
        ARG_POLICY,
};

static const struct option options[] = {
        { "help",            no_argument,       NULL, 'h' },
        { "version",         no_argument,       NULL, ARG_VERSION },
        { "host",            required_argument, NULL, 'H' },
        { "json",            optional_argument, NULL, ARG_JSON },
        { "no-pager",        no_argument,       NULL, ARG_NO_PAGER },
        { "no-legend",       no_argument,       NULL, ARG_NO_LEGEND },
        { "quiet",           no_argument,       NULL, 'q' },
        { "all",             no_argument,       NULL, 'a' },
        { "full",            no_argument,       NULL, 'l' },
        { "property",        required_argument, NULL, 'p' },
        { "value",           no_argument,       NULL, ARG_VALUE },
        { "whom",            required_argument, NULL, ARG_WHOM },
        { "signal",          required_argument, NULL, 's' },
        { "runtime",         no_argument,       NULL, ARG_RUNTIME },
        { "now",             no_argument,       NULL, ARG_NOW },
        { "follow",          no_argument,       NULL, 'f' },
        { "lines",           required_argument, NULL, 'n' },
        { "since",           required_argument, NULL, 'S' },
        { "output",          required_argument, NULL, 'o' },
        { "config-dir",      required_argument, NULL, ARG_CONFIG_DIR },
        { "pid",             required_argument, NULL, ARG_PID },
        { "name",            required_argument, NULL, ARG_NAME },
        { "tty",             no_argument,       NULL, 't' },
        { "no-tty",          no_argument,       NULL, 'T' },
        { "user",            required_argument, NULL, 'u' },
        { "workdir",         required_argument, NULL, 'w' },
        { "setenv",          required_argument, NULL, 'E' },
        { "directory",       required_argument, NULL, 'D' },
        { "layer",           required_argument, NULL, ARG_LAYER },
        { "upper",           required_argument, NULL, ARG_UPPER },
        { "read-only",       no_argument,       NULL, ARG_READ_ONLY },
        { "bind",            required_argument, NULL, ARG_BIND },
        { "bind-ro",         required_argument, NULL, ARG_BIND_RO },
        { "tmpfs",           required_argument, NULL, ARG_TMPFS },
        { "hostname",        required_argument, NULL, ARG_HOSTNAME },
        { "boot",            no_argument,       NULL, ARG_BOOT },
        { "description",     required_argument, NULL, ARG_DESCRIPTION },
        { "memory-max",      required_argument, NULL, ARG_MEMORY_MAX },
        { "memory-high",     required_argument, NULL, ARG_MEMORY_HIGH },
        { "cpu-quota",       required_argument, NULL, ARG_CPU_QUOTA },
        { "cpu-weight",      required_argument, NULL, ARG_CPU_WEIGHT },
        { "io-weight",       required_argument, NULL, ARG_IO_WEIGHT },
        { "tasks-max",       required_argument, NULL, ARG_TASKS_MAX },
        { "allowed-cpus",    required_argument, NULL, ARG_ALLOWED_CPUS },
        { "network",         required_argument, NULL, ARG_NETWORK },
        { "port",            required_argument, NULL, ARG_PORT },
        { "capability",      required_argument, NULL, ARG_CAPABILITY },
        { "drop-capability", required_argument, NULL, ARG_DROP_CAPABILITY },
        { "private-users",   required_argument, NULL, ARG_PRIVATE_USERS },
        { "wait",            no_argument,       NULL, ARG_WAIT },
        { "config",          required_argument, NULL, ARG_CONFIG },
        { "policy",          required_argument, NULL, ARG_POLICY },
        {}
};

static GPtrArray *props_list, *env_list;
static bool run_upper_given;

static void run_prop(const char *key, const char *value) {
        g_ptr_array_add(arg.run_props, g_strdup_printf("%s=%s", key, value));
}

/* Returns -1 to continue, or an exit status. */
static int parse_one(int c, bool *show_help) {
        switch (c) {
        case 'h':
                *show_help = true;
                break;
        case ARG_VERSION:
                printf("berthctl %s\n", BERTH_VERSION);
                return EXIT_OK;
        case 'H':
                arg.host = optarg;
                break;
        case ARG_JSON:
                /* A bare --json means pretty. */
                if (json_format_from_string(optarg ?: "pretty", &arg.json) < 0) {
                        fprintf(stderr, "Invalid --json= mode: %s (pretty, short or off)\n", optarg);
                        return EXIT_INVALID_ARGS;
                }
                arg.no_pager = arg.no_pager || arg.json != JSON_OFF;
                break;
        case ARG_NO_PAGER: arg.no_pager = true; break;
        case ARG_NO_LEGEND: arg.no_legend = true; break;
        case 'q': arg.quiet = true; break;
        case 'a': arg.all = true; break;
        case 'l': arg.full = true; break;
        case 'p': g_ptr_array_add(props_list, g_strdup(optarg)); break;
        case ARG_VALUE: arg.value = true; break;
        case ARG_WHOM:
                if (strcmp(optarg, "leader") != 0 && strcmp(optarg, "all") != 0) {
                        fprintf(stderr, "Invalid --whom=: %s (leader or all)\n", optarg);
                        return EXIT_INVALID_ARGS;
                }
                arg.whom = optarg;
                break;
        case 's':
                if (parse_signal(optarg, &arg.signal) < 0) {
                        fprintf(stderr, "Invalid signal: %s\n", optarg);
                        return EXIT_INVALID_ARGS;
                }
                break;
        case ARG_RUNTIME: arg.runtime = true; break;
        case ARG_NOW: arg.now = true; break;
        case 'f': arg.follow = true; break;
        case 'n': {
                char *end;
                errno = 0;
                long long v = strtoll(optarg, &end, 10);
                if (errno || *end || v < 0) {
                        fprintf(stderr, "Invalid number of lines: %s\n", optarg);
                        return EXIT_INVALID_ARGS;
                }
                arg.lines = v;
                break;
        }
        case 'S': arg.since = optarg; break;
        case 'o':
                if (strcmp(optarg, "short") != 0 && strcmp(optarg, "cat") != 0 && strcmp(optarg, "json") != 0 &&
                    strcmp(optarg, "json-pretty") != 0) {
                        fprintf(stderr, "Invalid output mode: %s (short, cat, json, json-pretty)\n", optarg);
                        return EXIT_INVALID_ARGS;
                }
                arg.output = optarg;
                break;
        case ARG_CONFIG_DIR: arg.config_dir = optarg; break;
        case ARG_PID: {
                char *end;
                errno = 0;
                long v = strtol(optarg, &end, 10);
                if (errno || *end || v <= 0 || v > INT_MAX) {
                        fprintf(stderr, "Invalid PID: %s\n", optarg);
                        return EXIT_INVALID_ARGS;
                }
                arg.pid = (pid_t) v;
                break;
        }
        case ARG_NAME: arg.name_override = optarg; break;
        case 't': arg.tty = 1; break;
        case 'T': arg.tty = 0; break;
        case 'u': arg.user = optarg; run_prop("Container.User", optarg); break;
        case 'w': arg.workdir = optarg; run_prop("Container.WorkingDirectory", optarg); break;
        case 'E':
                if (!strchr(optarg, '=') || *optarg == '=') {
                        fprintf(stderr, "Invalid environment assignment: %s (NAME=VALUE)\n", optarg);
                        return EXIT_INVALID_ARGS;
                } else {
                        g_autofree char *q = g_shell_quote(optarg);
                        g_ptr_array_add(env_list, g_strdup(optarg));
                        run_prop("Container.Environment", q);
                }
                break;
        case 'D': run_prop("Rootfs.Directory", optarg); break;
        case ARG_LAYER: run_prop("Rootfs.Layers", optarg); break;
        case ARG_UPPER: run_upper_given = true; run_prop("Rootfs.UpperDirectory", optarg); break;
        case ARG_READ_ONLY: run_prop("Rootfs.ReadOnly", "yes"); break;
        case ARG_BIND: run_prop("Files.Bind", optarg); break;
        case ARG_BIND_RO: run_prop("Files.BindReadOnly", optarg); break;
        case ARG_TMPFS: run_prop("Files.TemporaryFileSystem", optarg); break;
        case ARG_HOSTNAME: run_prop("Container.Hostname", optarg); break;
        case ARG_BOOT: run_prop("Container.Boot", "yes"); break;
        case ARG_DESCRIPTION: run_prop("Container.Description", optarg); break;
        case ARG_MEMORY_MAX: run_prop("Limits.MemoryMax", optarg); break;
        case ARG_MEMORY_HIGH: run_prop("Limits.MemoryHigh", optarg); break;
        case ARG_CPU_QUOTA: run_prop("Limits.CPUQuota", optarg); break;
        case ARG_CPU_WEIGHT: run_prop("Limits.CPUWeight", optarg); break;
        case ARG_IO_WEIGHT: run_prop("Limits.IOWeight", optarg); break;
        case ARG_TASKS_MAX: run_prop("Limits.TasksMax", optarg); break;
        case ARG_ALLOWED_CPUS: run_prop("Limits.AllowedCPUs", optarg); break;
        case ARG_NETWORK: run_prop("Network.Mode", optarg); break;
        case ARG_PORT: run_prop("Network.Port", optarg); break;
        case ARG_CAPABILITY: run_prop("Security.Capability", optarg); break;
        case ARG_DROP_CAPABILITY: run_prop("Security.DropCapability", optarg); break;
        case ARG_PRIVATE_USERS: run_prop("Security.PrivateUsers", optarg); break;
        case ARG_WAIT: arg.wait = true; break;
        case ARG_CONFIG: g_ptr_array_add(arg.audit_configs, g_strdup(optarg)); break;
        case ARG_POLICY: arg.policy = optarg; break;
        case '?':
                return EXIT_INVALID_ARGS;
        default:
                return EXIT_INVALID_ARGS;
        }
        return -1;
}

static const char short_options[] = "hH:qalp:s:fn:S:o:tTu:w:E:D:";

int main(int argc, char **argv) {
        bool show_help = false;
        int c, r;

        setlocale(LC_ALL, "");
        props_list = g_ptr_array_new_with_free_func(g_free);
        env_list = g_ptr_array_new_with_free_func(g_free);
        arg.run_props = g_ptr_array_new_with_free_func(g_free);
        arg.audit_configs = g_ptr_array_new_with_free_func(g_free);

        /* Options before the verb. */
        while ((c = getopt_long(argc, argv, "+hH:qalp:s:fn:S:o:tTu:w:E:D:", options, NULL)) >= 0) {
                r = parse_one(c, &show_help);
                if (r >= 0)
                        return r;
        }
        if (optind >= argc) {
                if (show_help) {
                        help();
                        return EXIT_OK;
                }
                /* No command: list, as machinectl does. */
                r = verb_list(1, argv);
                fflush(stdout);
                pager_close();
                return r;
        }
        const Verb *v = find_verb(argv[optind]);
        if (!v) {
                fprintf(stderr, "Unknown command: %s (see berthctl --help)\n", argv[optind]);
                return EXIT_INVALID_ARGS;
        }

        /* Options after the verb. exec, shell and run stop at the container
         * name: what follows is the command and its own options. */
        int vargc = argc - optind;
        char **vargv = argv + optind;
        bool stop_at_name = strcmp(v->name, "exec") == 0 || strcmp(v->name, "run") == 0 ||
                            strcmp(v->name, "shell") == 0;
        g_autoptr(GPtrArray) positional = g_ptr_array_new();
        g_ptr_array_add(positional, vargv[0]);
        optind = 0;
        if (stop_at_name) {
                while ((c = getopt_long(vargc, vargv, "+hH:qalp:s:fn:S:o:tTu:w:E:D:", options, NULL)) >= 0) {
                        r = parse_one(c, &show_help);
                        if (r >= 0)
                                return r;
                }
                for (int i = optind; i < vargc; i++)
                        g_ptr_array_add(positional, vargv[i]);
        } else {
                while ((c = getopt_long(vargc, vargv, short_options, options, NULL)) >= 0) {
                        r = parse_one(c, &show_help);
                        if (r >= 0)
                                return r;
                }
                for (int i = optind; i < vargc; i++)
                        g_ptr_array_add(positional, vargv[i]);
        }
        if (show_help) {
                help_verb(v);
                return EXIT_OK;
        }

        /* -p: comma-separated property names for show; assignments for run. */
        if (strcmp(v->name, "run") == 0) {
                for (guint i = 0; i < props_list->len; i++) {
                        const char *p = props_list->pdata[i];
                        if (!strchr(p, '=')) {
                                fprintf(stderr, "Invalid -p: %s (SECTION.KEY=VALUE)\n", p);
                                return EXIT_INVALID_ARGS;
                        }
                        g_ptr_array_add(arg.run_props, g_strdup(p));
                }
                if (!run_upper_given)
                        g_ptr_array_insert(arg.run_props, 0, g_strdup("Rootfs.Ephemeral=yes"));
        } else if (props_list->len > 0) {
                GPtrArray *names = g_ptr_array_new();
                for (guint i = 0; i < props_list->len; i++) {
                        g_auto(GStrv) parts = g_strsplit(props_list->pdata[i], ",", -1);
                        for (char **p = parts; *p; p++)
                                if (**p)
                                        g_ptr_array_add(names, g_strdup(*p));
                }
                g_ptr_array_add(names, NULL);
                arg.properties = (char **) g_ptr_array_free(names, FALSE);
        }
        g_ptr_array_add(env_list, NULL);
        arg.setenv = (char **) env_list->pdata;

        int n = (int) positional->len - 1;
        /* exec and run take the command as extra arguments. */
        bool takes_command = strcmp(v->name, "exec") == 0 || strcmp(v->name, "run") == 0;
        bool pid_mode = arg.pid > 0 && (strcmp(v->name, "inspect") == 0 || strcmp(v->name, "exec") == 0 ||
                                        strcmp(v->name, "shell") == 0);
        if (n < v->min_args && !(pid_mode && n == 0 && !takes_command)) {
                fprintf(stderr, "Too few arguments for %s. Usage: berthctl %s\n", v->name, v->synopsis);
                return EXIT_INVALID_ARGS;
        }
        if (!takes_command && v->max_args >= 0 && n > v->max_args) {
                fprintf(stderr, "Too many arguments for %s. Usage: berthctl %s\n", v->name, v->synopsis);
                return EXIT_INVALID_ARGS;
        }
        if (arg.host && arg.pid > 0) {
                fprintf(stderr, "--pid= cannot be combined with -H.\n");
                return EXIT_INVALID_ARGS;
        }
        g_ptr_array_add(positional, NULL);
        r = v->func(n + 1, (char **) positional->pdata);
        fflush(stdout);
        pager_close();
        return r;
}
