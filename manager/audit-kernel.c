/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Drift detection from the kernel: namespaces, capabilities, no_new_privs,
 * seccomp mode and mounts of a container's PID 1, read from /proc.
 *
 * Mounts: /proc/PID/mountinfo gives, for each mount in the container, the
 * device and the path of its root inside that file system. The same device in
 * our own mountinfo tells where that file system is on the host, so each
 * container mount maps back to the host path it exposes (the overlay root, the
 * container's own tmpfs, proc and devpts have devices the host does not have
 * mounted and map to nothing). The host path is then judged like a bind source.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit-kernel.h"
#include "runtime.h"

static const struct {
        const char *name;
        unsigned flag;
} ns_table[] = {
        { "pid", BERTH_NS_PID }, { "mnt", BERTH_NS_MOUNT }, { "uts", BERTH_NS_UTS }, { "ipc", BERTH_NS_IPC },
        { "net", BERTH_NS_NET }, { "cgroup", BERTH_NS_CGROUP }, { "user", BERTH_NS_USER },
};

char *berth_namespaces_to_string(unsigned mask) {
        static const char *const words[] = { "pid", "mount", "uts", "ipc", "net", "cgroup", "user" };
        GString *s = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(ns_table); i++)
                if (mask & ns_table[i].flag)
                        g_string_append_printf(s, "%s%s", s->len ? " " : "", words[i]);
        return g_string_free(s, FALSE);
}

static int read_ns(const char *proc_pid, const char *ns, char **ret) {
        g_autofree char *path = g_strdup_printf("/proc/%s/ns/%s", proc_pid, ns);
        char buf[128];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        *ret = g_strdup(buf);
        return 0;
}

/* mask of namespaces identical to the host's; ret_ids[i] = the container's link text */
static int shared_namespaces(pid_t pid, unsigned *ret_mask, char **ret_ids) {
        g_autofree char *spid = g_strdup_printf("%d", (int) pid);
        unsigned mask = 0;

        if (pid <= 0)
                return -EINVAL;
        for (size_t i = 0; i < G_N_ELEMENTS(ns_table); i++) {
                g_autofree char *mine = NULL, *init = NULL, *self = NULL;
                int r = read_ns(spid, ns_table[i].name, &mine);
                if (r == -ENOENT && kill(pid, 0) < 0 && errno == ESRCH)
                        return -ESRCH;
                if (r < 0)
                        return r;
                (void) read_ns("1", ns_table[i].name, &init);
                (void) read_ns("self", ns_table[i].name, &self);
                if ((init && strcmp(mine, init) == 0) || (self && strcmp(mine, self) == 0))
                        mask |= ns_table[i].flag;
                if (ret_ids)
                        ret_ids[i] = g_steal_pointer(&mine);
        }
        *ret_mask = mask;
        return 0;
}

int berth_kernel_shared_namespaces(pid_t pid, unsigned *ret_mask) {
        g_return_val_if_fail(ret_mask, -EINVAL);
        return shared_namespaces(pid, ret_mask, NULL);
}

typedef struct ProcStatus {
        uint64_t cap_eff, cap_bnd;
        int no_new_privs, seccomp;
} ProcStatus;

static int read_status(pid_t pid, ProcStatus *ret) {
        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int) pid);
        g_autofree char *data = NULL;
        g_autoptr(GError) e = NULL;

        if (!g_file_get_contents(path, &data, NULL, &e))
                return g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ESRCH : -EIO;
        *ret = (ProcStatus) { .no_new_privs = -1, .seccomp = -1 };
        g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
        for (char **l = lines; *l; l++) {
                char *colon = strchr(*l, ':');
                if (!colon)
                        continue;
                const char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                        v++;
                *colon = '\0';
                if (strcmp(*l, "CapEff") == 0)
                        ret->cap_eff = g_ascii_strtoull(v, NULL, 16);
                else if (strcmp(*l, "CapBnd") == 0)
                        ret->cap_bnd = g_ascii_strtoull(v, NULL, 16);
                else if (strcmp(*l, "NoNewPrivs") == 0)
                        ret->no_new_privs = atoi(v);
                else if (strcmp(*l, "Seccomp") == 0)
                        ret->seccomp = atoi(v);
        }
        return 0;
}

typedef struct MountEntry {
        unsigned major, minor;
        char *root;
        char *target;
        char *fstype;
        char *source;
} MountEntry;

static void mount_entry_free(void *p) {
        MountEntry *m = p;
        g_free(m->root);
        g_free(m->target);
        g_free(m->fstype);
        g_free(m->source);
        g_free(m);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s) {
        GString *o = g_string_new(NULL);
        for (const char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
                    p[3] <= '7') {
                        g_string_append_c(o, (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0')));
                        p += 3;
                } else
                        g_string_append_c(o, *p);
        }
        return g_string_free(o, FALSE);
}

static int read_mountinfo(const char *path, GPtrArray **ret) {
        g_autofree char *data = NULL;
        g_autoptr(GError) e = NULL;

        if (!g_file_get_contents(path, &data, NULL, &e))
                return g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ESRCH
                     : g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_ACCES) ? -EACCES : -EIO;
        g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(mount_entry_free);
        g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
        for (char **l = lines; *l; l++) {
                if (!**l)
                        continue;
                g_auto(GStrv) f = g_strsplit(*l, " ", -1);
                guint n = g_strv_length(f), sep = 0;
                for (guint i = 6; i < n; i++)
                        if (strcmp(f[i], "-") == 0) {
                                sep = i;
                                break;
                        }
                if (n < 7 || sep == 0 || sep + 2 >= n)
                        return -EBADMSG;
                MountEntry *m = g_new0(MountEntry, 1);
                if (sscanf(f[2], "%u:%u", &m->major, &m->minor) != 2) {
                        mount_entry_free(m);
                        return -EBADMSG;
                }
                m->root = unescape(f[3]);
                m->target = unescape(f[4]);
                m->fstype = unescape(f[sep + 1]);
                m->source = unescape(f[sep + 2]);
                g_ptr_array_add(a, m);
        }
        *ret = g_steal_pointer(&a);
        return 0;
}

static bool below_or_equal(const char *path, const char *prefix) {
        if (strcmp(prefix, "/") == 0)
                return path[0] == '/';
        size_t n = strlen(prefix);
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The host path a container mount exposes, from our own mount table, or NULL. */
static char *host_path_of(GPtrArray *host, const MountEntry *m) {
        const MountEntry *best = NULL;
        for (guint i = 0; i < host->len; i++) {
                const MountEntry *h = host->pdata[i];
                if (h->major != m->major || h->minor != m->minor || !below_or_equal(m->root, h->root))
                        continue;
                /* The shortest root wins (the most general view of the file system), then the
                 * shortest mount point. */
                if (!best || strlen(h->root) < strlen(best->root) ||
                    (strlen(h->root) == strlen(best->root) && strlen(h->target) < strlen(best->target)))
                        best = h;
        }
        if (!best)
                return NULL;
        const char *rest = m->root + (strcmp(best->root, "/") == 0 ? 0 : strlen(best->root));
        if (strcmp(best->target, "/") == 0)
                return g_strdup(*rest ? rest : "/");
        return g_strconcat(best->target, rest, NULL);
}

/* The runtime's own kernel file system mounts: not binds of the host's. */
static bool runtime_kernel_mount(const MountEntry *m) {
        static const char *const types[] = { "proc", "sysfs", "cgroup2", "cgroup", "mqueue", "devpts" };
        bool kernel_fs = false;
        for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
                kernel_fs = kernel_fs || strcmp(m->fstype, types[i]) == 0;
        if (!kernel_fs)
                return false;
        return below_or_equal(m->target, "/proc") || below_or_equal(m->target, "/sys") ||
               below_or_equal(m->target, "/dev");
}

static bool expected_source(const char *host_path, const char *source) {
        char buf[PATH_MAX];
        if (!source)
                return false;
        if (below_or_equal(host_path, source))
                return true;
        return realpath(source, buf) && below_or_equal(host_path, buf);
}

static void drift_add(const BerthPolicy *p, const BerthConfig *c, GPtrArray *findings, const char *rule,
                      const char *section, const char *key, char *value, char *message) {
        BerthSeverity sev = berth_policy_rule_severity(p, rule);
        if (sev == BERTH_SEVERITY_OFF) {
                g_free(value);
                g_free(message);
                return;
        }
        BerthFinding *f = g_new0(BerthFinding, 1);
        f->rule = g_strdup(rule);
        f->severity = f->rule_severity = sev;
        f->container = g_strdup(c->name);
        f->file = g_strdup(c->path ? c->path : c->name);
        f->section = g_strdup(section);
        f->key = g_strdup(key);
        f->value = value;
        f->message = message;
        f->fix = g_strdup(berth_policy_rule_lookup(rule)->fix);
        f->drift = true;
        g_ptr_array_add(findings, f);
}

static char *caps_to_string(uint64_t mask) {
        GString *s = g_string_new(NULL);
        for (int cap = 0; cap < 64; cap++)
                if (mask & (1ULL << cap)) {
                        const char *n = berth_capability_name(cap);
                        if (n)
                                g_string_append_printf(s, "%s%s", s->len ? " " : "", n);
                        else
                                g_string_append_printf(s, "%s%d", s->len ? " " : "", cap);
                }
        return g_string_free(s, FALSE);
}

int berth_audit_kernel(const BerthPolicy *p, const BerthConfig *c, pid_t pid, const char *const *extra_bind_sources,
                       GPtrArray *findings) {
        g_autoptr(BerthPolicy) def = NULL;
        char *ids[G_N_ELEMENTS(ns_table)] = {};
        unsigned shared = 0;
        ProcStatus st;
        int r;

        if (!c || !findings || pid <= 0)
                return -EINVAL;
        if (!p)
                p = def = berth_policy_new();

        /* Namespaces */
        r = shared_namespaces(pid, &shared, ids);
        if (r < 0) {
                for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
                        g_free(ids[i]);
                return r;
        }
        unsigned allowed = c->host_namespaces;
        if (!c->private_users)
                allowed |= BERTH_NS_USER;
        for (size_t i = 0; i < G_N_ELEMENTS(ns_table); i++) {
                unsigned flag = ns_table[i].flag;
                if ((shared & flag) && !(allowed & flag)) {
                        const char *key = flag == BERTH_NS_USER ? "PrivateUsers" : "HostNamespaces";
                        drift_add(p, c, findings, "drift-namespace", "Security", key,
                                  g_strdup(flag == BERTH_NS_USER ? "yes" : ns_table[i].name),
                                  g_strdup_printf("PID %d is in the host's %s namespace (%s) although the config says "
                                                  "it is private",
                                                  (int) pid, ns_table[i].name, ids[i] ? ids[i] : "?"));
                }
                g_free(ids[i]);
        }

        /* Capabilities, no_new_privs, seccomp */
        r = read_status(pid, &st);
        if (r < 0)
                return r;
        uint64_t expected = berth_caps_effective(c);
        uint64_t extra = (st.cap_eff | st.cap_bnd) & ~expected;
        if (extra) {
                g_autofree char *names = caps_to_string(extra);
                drift_add(p, c, findings, "drift-capability", "Security", "Capability", g_strdup(names),
                          g_strdup_printf("PID %d holds %s beyond the configured set (CapEff=%016" G_GINT64_MODIFIER
                                          "x CapBnd=%016" G_GINT64_MODIFIER "x)",
                                          (int) pid, names, st.cap_eff, st.cap_bnd));
        }
        if (c->seccomp && st.seccomp != 2)
                drift_add(p, c, findings, "drift-seccomp", "Security", "Seccomp", g_strdup("yes"),
                          g_strdup_printf("PID %d has seccomp mode %d (2 = filter) although Seccomp=yes", (int) pid,
                                          st.seccomp));
        if (c->no_new_privileges && st.no_new_privs != 1)
                drift_add(p, c, findings, "drift-no-new-privileges", "Security", "NoNewPrivileges", g_strdup("yes"),
                          g_strdup_printf("PID %d has NoNewPrivs=%d although NoNewPrivileges=yes", (int) pid,
                                          st.no_new_privs));

        /* Mounts */
        g_autoptr(GPtrArray) mine = NULL, host = NULL;
        g_autofree char *mi = g_strdup_printf("/proc/%d/mountinfo", (int) pid);
        r = read_mountinfo(mi, &mine);
        if (r < 0)
                return r;
        r = read_mountinfo("/proc/self/mountinfo", &host);
        if (r < 0)
                return r;
        static const char *const default_devices[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                                       "/dev/urandom", "/dev/tty", NULL };
        for (guint i = 0; i < mine->len; i++) {
                const MountEntry *m = mine->pdata[i];
                if (runtime_kernel_mount(m))
                        continue;
                g_autofree char *hp = host_path_of(host, m);
                if (!hp)
                        continue;
                if (g_strv_contains(default_devices, hp))
                        continue;
                bool expected_bind = false;
                for (guint b = 0; c->binds && b < c->binds->len && !expected_bind; b++)
                        expected_bind = expected_source(hp, ((const BerthBind *) c->binds->pdata[b])->source);
                for (size_t b = 0; extra_bind_sources && extra_bind_sources[b] && !expected_bind; b++)
                        expected_bind = expected_source(hp, extra_bind_sources[b]);
                if (expected_bind)
                        continue;
                const char *matched = NULL;
                const char *what = berth_policy_sensitive_path(hp, &matched);
                bool device = strncmp(hp, "/dev/", 5) == 0;
                if (!what && !device)
                        continue;
                drift_add(p, c, findings, "drift-mount", "Files", "Bind", g_strdup_printf("%s:%s", hp, m->target),
                          g_strdup_printf("%s of the host (%s, %s) is mounted at %s in the container without a "
                                          "configured bind",
                                          hp, what ? what : "a device", m->fstype, m->target));
        }
        return 0;
}
