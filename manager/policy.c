/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guardrails: the rule table, the host policy (profiles, overrides), the
 * evaluation of a container config against it with its exceptions, and the
 * formatters the daemon and berthctl share (refusal, text, JSON).
 *
 * Profiles, in the spirit of Kubernetes' Pod Security Admission:
 *
 *   restricted  (default) every isolation weakening is an error; missing
 *               resource limits and any added capability are warnings.
 *   baseline    weakenings that give a known path to the host (host pid/net/
 *               ipc, dangerous capabilities, seccomp off, sensitive binds,
 *               writable /sys, devices) are errors; the milder ones
 *               (host uts/cgroup, re-allowed syscalls, no_new_privs off)
 *               and missing limits are warnings.
 *   privileged  nothing is refused, but every weakening is still a warning:
 *               visible in `berthctl audit` and at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "runtime.h"
#include "util.h"

#define USEC_PER_SEC 1000000ULL
#define USEC_PER_DAY (86400ULL * USEC_PER_SEC)
#define MAX_EXCEPTION_DAYS_LIMIT 3650

#define E BERTH_SEVERITY_ERROR
#define W BERTH_SEVERITY_WARNING
#define O BERTH_SEVERITY_OFF
#define CFG BERTH_RULE_CONFIG
#define META BERTH_RULE_META
#define DRIFT BERTH_RULE_DRIFT

/* Severity per profile: { restricted, baseline, privileged } */
static const BerthRule rule_table[] = {
        { "host-pid", CFG, true, "Security", "HostNamespaces", { E, E, W },
          "the container shares the host's PID namespace: it sees every host process and can signal "
          "those running as its user (and all of them as root)",
          "remove \"pid\" from [Security] HostNamespaces=" },
        { "host-net", CFG, true, "Network", "Mode", { E, E, W },
          "the container shares the host's network namespace: it can bind host ports, reach services "
          "listening on localhost and, with NET_ADMIN, reconfigure the host's network",
          "use [Network] Mode=bridge (or none) and remove \"net\" from [Security] HostNamespaces=" },
        { "host-ipc", CFG, true, "Security", "HostNamespaces", { E, E, W },
          "the container shares the host's IPC namespace: host SysV shared memory, semaphores and "
          "POSIX message queues are visible to it",
          "remove \"ipc\" from [Security] HostNamespaces=" },
        { "host-uts", CFG, true, "Security", "HostNamespaces", { E, W, W },
          "the container shares the host's UTS namespace: hostname changes would affect the host",
          "remove \"uts\" from [Security] HostNamespaces=" },
        { "host-cgroup", CFG, true, "Security", "HostNamespaces", { E, W, W },
          "the container shares the host's cgroup namespace: it sees the host's whole cgroup tree",
          "remove \"cgroup\" from [Security] HostNamespaces=" },
        { "no-userns", CFG, true, "Security", "PrivateUsers", { O, O, O },
          "the container has no user namespace: its root is the host's root (uid 0)",
          "set [Security] PrivateUsers=yes" },
        { "dangerous-capability", CFG, true, "Security", "Capability", { E, E, W },
          "a capability that can break out of the container or control the host is added",
          "remove it from [Security] Capability=" },
        { "added-capability", CFG, true, "Security", "Capability", { W, O, O },
          "a capability beyond berth's default set is added",
          "remove it from [Security] Capability= unless the payload needs it" },
        { "seccomp-off", CFG, true, "Security", "Seccomp", { E, E, W },
          "the seccomp filter is off: mount, bpf, keyctl, kexec, module loading and every other "
          "kernel interface of the deny list are reachable",
          "remove [Security] Seccomp=no" },
        { "seccomp-reallowed", CFG, true, "Security", "SystemCallAllow", { E, W, W },
          "a system call from the default deny list is allowed again",
          "remove it from [Security] SystemCallAllow=" },
        { "no-new-privileges-off", CFG, true, "Security", "NoNewPrivileges", { E, W, W },
          "no_new_privs is off: setuid and file-capability binaries can raise privileges",
          "remove [Security] NoNewPrivileges=no" },
        { "sensitive-bind", CFG, true, "Files", "Bind", { E, E, W },
          "a host path that controls the host (or a directory containing one) is bind-mounted",
          "remove the bind, or bind only the specific, harmless path the payload needs" },
        { "writable-sys", CFG, true, "Files", "Bind", { E, E, W },
          "the host's /sys or /proc/sys is bind-mounted writable: kernel and device settings of the "
          "host can be changed",
          "remove the bind or make it read-only (BindReadOnly= or :ro)" },
        { "device-node", CFG, true, "Files", "Bind", { E, E, W },
          "a host device node is passed into the container: it gives raw access to the device",
          "remove the bind of the device" },
        { "no-memory-max", CFG, true, "Limits", "MemoryMax", { W, W, O },
          "no memory limit: the container can exhaust the host's memory",
          "set [Limits] MemoryMax=, e.g. MemoryMax=512M" },
        { "no-tasks-max", CFG, true, "Limits", "TasksMax", { W, W, O },
          "no task limit: a fork bomb in the container exhausts the host's pids",
          "set [Limits] TasksMax=, e.g. TasksMax=512" },

        { "exception-expiring", META, false, "Exception:RULE", "Expires", { W, W, W },
          "an exception expires soon; the container will then refuse to start with the weakening",
          "remove the weakening, or renew the exception with a new Expires= and justification" },
        { "exception-unused", META, false, "Exception:RULE", NULL, { W, W, W },
          "an exception waives a rule the config does not trigger",
          "remove the [Exception:RULE] section" },
        { "config-invalid", META, false, NULL, NULL, { E, E, E },
          "the configuration does not load", "fix the error the parser names" },
        { "config-warning", META, false, NULL, NULL, { W, W, W },
          "the parser ignored part of the configuration (unknown section or key)",
          "fix or remove the ignored line" },

        { "drift-namespace", DRIFT, false, "Security", "HostNamespaces", { E, E, E },
          "the running container shares a namespace with the host that its config says is private",
          "restart the container and find what joined it to the host namespace" },
        { "drift-capability", DRIFT, false, "Security", "Capability", { E, E, E },
          "the container's PID 1 holds capabilities beyond the configured set",
          "restart the container; investigate how it gained them" },
        { "drift-seccomp", DRIFT, false, "Security", "Seccomp", { E, E, E },
          "the container's PID 1 runs without a seccomp filter although the config enables it",
          "restart the container; investigate the runtime" },
        { "drift-no-new-privileges", DRIFT, false, "Security", "NoNewPrivileges", { E, E, E },
          "the container's PID 1 runs without no_new_privs although the config sets it",
          "restart the container; investigate the runtime" },
        { "drift-mount", DRIFT, false, "Files", "Bind", { E, E, E },
          "a sensitive host path or device is mounted in the container without a configured bind",
          "restart the container; find who mounted it (setns + mount from the host)" },
};

#undef E
#undef W
#undef O
#undef CFG
#undef META
#undef DRIFT

const BerthRule *berth_policy_rules(size_t *ret_n) {
        if (ret_n)
                *ret_n = G_N_ELEMENTS(rule_table);
        return rule_table;
}

static int rule_index(const char *id) {
        if (!id)
                return -1;
        for (size_t i = 0; i < G_N_ELEMENTS(rule_table); i++)
                if (strcmp(rule_table[i].id, id) == 0)
                        return (int) i;
        return -1;
}

const BerthRule *berth_policy_rule_lookup(const char *id) {
        int i = rule_index(id);
        return i < 0 ? NULL : &rule_table[i];
}

static const char *const profile_names[_BERTH_PROFILE_MAX] = {
        [BERTH_PROFILE_RESTRICTED] = "restricted",
        [BERTH_PROFILE_BASELINE] = "baseline",
        [BERTH_PROFILE_PRIVILEGED] = "privileged",
};

const char *berth_profile_to_string(BerthProfile p) {
        return p >= 0 && p < _BERTH_PROFILE_MAX ? profile_names[p] : NULL;
}

int berth_profile_from_string(const char *s, BerthProfile *ret) {
        for (int i = 0; s && i < _BERTH_PROFILE_MAX; i++)
                if (strcmp(s, profile_names[i]) == 0) {
                        *ret = (BerthProfile) i;
                        return 0;
                }
        return -EINVAL;
}

const char *berth_severity_to_string(BerthSeverity s) {
        switch (s) {
        case BERTH_SEVERITY_OFF: return "off";
        case BERTH_SEVERITY_INFO: return "info";
        case BERTH_SEVERITY_WARNING: return "warning";
        case BERTH_SEVERITY_ERROR: return "error";
        }
        return "unknown";
}

int berth_severity_from_string(const char *s, BerthSeverity *ret) {
        if (!s)
                return -EINVAL;
        if (strcmp(s, "off") == 0)
                *ret = BERTH_SEVERITY_OFF;
        else if (strcmp(s, "warning") == 0)
                *ret = BERTH_SEVERITY_WARNING;
        else if (strcmp(s, "error") == 0)
                *ret = BERTH_SEVERITY_ERROR;
        else
                return -EINVAL;
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Policy */

BerthPolicy *berth_policy_new(void) {
        BerthPolicy *p = g_new0(BerthPolicy, 1);
        p->profile = BERTH_PROFILE_RESTRICTED;
        p->max_exception_days = BERTH_POLICY_MAX_EXCEPTION_DAYS_DEFAULT;
        p->overrides = g_new(int, G_N_ELEMENTS(rule_table));
        for (size_t i = 0; i < G_N_ELEMENTS(rule_table); i++)
                p->overrides[i] = -1;
        p->resolve_host_paths = true;
        return p;
}

void berth_policy_free(BerthPolicy *p) {
        if (!p)
                return;
        g_free(p->path);
        g_free(p->overrides);
        g_free(p);
}

#define policy_error(error, code, ...) g_set_error((error), BERTH_CONFIG_ERROR, (code), __VA_ARGS__)

int berth_policy_load_data(const char *data, gsize len, const char *origin, BerthPolicy **ret, GError **error) {
        g_autoptr(BerthPolicy) p = berth_policy_new();
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) e = NULL;
        g_auto(GStrv) groups = NULL;

        g_return_val_if_fail(ret, -EINVAL);
        if (!origin)
                origin = "(policy)";
        if (!data)
                data = "", len = 0;
        if (!g_utf8_validate(data, len, NULL) || memchr(data, '\0', len)) {
                policy_error(error, EINVAL, "%s: not a valid UTF-8 text file", origin);
                return -EINVAL;
        }
        if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &e)) {
                policy_error(error, EINVAL, "%s: syntax error: %s", origin, e->message);
                return -EINVAL;
        }

        groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; *g; g++) {
                g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
                bool is_policy = strcmp(*g, "Policy") == 0, is_rules = strcmp(*g, "Rules") == 0;

                if (!is_policy && !is_rules) {
                        policy_error(error, EINVAL, "%s: [%s]: unknown section (expected [Policy] or [Rules])",
                                     origin, *g);
                        return -EINVAL;
                }
                for (char **k = keys; k && *k; k++) {
                        g_autofree char *raw = g_key_file_get_value(kf, *g, *k, NULL);
                        g_autofree char *v = g_strstrip(g_strdup(raw ? raw : ""));

                        if (is_rules) {
                                int i = rule_index(*k);
                                BerthSeverity s;
                                if (i < 0) {
                                        policy_error(error, EINVAL, "%s: [Rules] %s=%s: unknown rule", origin, *k, v);
                                        return -EINVAL;
                                }
                                if (berth_severity_from_string(v, &s) < 0) {
                                        policy_error(error, EINVAL,
                                                     "%s: [Rules] %s=%s: invalid severity (expected error, warning or off)",
                                                     origin, *k, v);
                                        return -EINVAL;
                                }
                                p->overrides[i] = (int) s;
                        } else if (strcmp(*k, "Profile") == 0) {
                                if (berth_profile_from_string(v, &p->profile) < 0) {
                                        policy_error(error, EINVAL,
                                                     "%s: [Policy] Profile=%s: unknown profile (expected restricted, "
                                                     "baseline or privileged)", origin, v);
                                        return -EINVAL;
                                }
                        } else if (strcmp(*k, "MaxExceptionDays") == 0) {
                                char *end = NULL;
                                errno = 0;
                                unsigned long n = g_ascii_isdigit(v[0]) ? strtoul(v, &end, 10) : ULONG_MAX;
                                if (errno != 0 || !end || *end || n > MAX_EXCEPTION_DAYS_LIMIT) {
                                        policy_error(error, EINVAL,
                                                     "%s: [Policy] MaxExceptionDays=%s: invalid number of days "
                                                     "(expected 0 to %d; 0 = no exceptions)",
                                                     origin, v, MAX_EXCEPTION_DAYS_LIMIT);
                                        return -EINVAL;
                                }
                                p->max_exception_days = (unsigned) n;
                        } else if (strcmp(*k, "RequireUserNamespace") == 0) {
                                if (berth_parse_bool(v, &p->require_user_namespace) < 0) {
                                        policy_error(error, EINVAL,
                                                     "%s: [Policy] RequireUserNamespace=%s: invalid boolean", origin, v);
                                        return -EINVAL;
                                }
                        } else {
                                policy_error(error, EINVAL,
                                             "%s: [Policy] %s=: unknown key (expected Profile=, MaxExceptionDays=, "
                                             "RequireUserNamespace=)", origin, *k);
                                return -EINVAL;
                        }
                }
        }
        p->path = g_strdup(origin);
        *ret = g_steal_pointer(&p);
        return 0;
}

int berth_policy_load(const char *path, BerthPolicy **ret, GError **error) {
        g_autofree char *data = NULL;
        g_autoptr(GError) e = NULL;
        bool is_default = !path;
        gsize len = 0;

        g_return_val_if_fail(ret, -EINVAL);
        if (!path)
                path = BERTH_POLICY_PATH;
        if (!g_file_get_contents(path, &data, &len, &e)) {
                if (is_default && g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                        *ret = berth_policy_new();
                        return 0;
                }
                int code = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? ENOENT
                         : g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_ACCES) ? EACCES : EIO;
                policy_error(error, code, "%s: cannot read the policy: %s", path, e->message);
                return -code;
        }
        return berth_policy_load_data(data, len, path, ret, error);
}

BerthSeverity berth_policy_rule_severity(const BerthPolicy *p, const char *rule_id) {
        int i = rule_index(rule_id);
        if (i < 0)
                return BERTH_SEVERITY_OFF;
        if (p && p->overrides && p->overrides[i] >= 0)
                return (BerthSeverity) p->overrides[i];
        if (p && p->require_user_namespace && strcmp(rule_id, "no-userns") == 0)
                return BERTH_SEVERITY_ERROR;
        BerthProfile prof = p ? p->profile : BERTH_PROFILE_RESTRICTED;
        return rule_table[i].severity[prof];
}

/* ---------------------------------------------------------------------------------------------- */
/* Findings */

void berth_finding_free(BerthFinding *f) {
        if (!f)
                return;
        g_free(f->rule);
        g_free(f->container);
        g_free(f->file);
        g_free(f->section);
        g_free(f->key);
        g_free(f->value);
        g_free(f->message);
        g_free(f->fix);
        berth_exception_free(f->waived_by);
        berth_exception_free(f->rejected_exception);
        g_free(f);
}

static void finding_free_void(void *p) {
        berth_finding_free(p);
}

GPtrArray *berth_findings_new(void) {
        return g_ptr_array_new_with_free_func(finding_free_void);
}

char *berth_format_timestamp_utc(uint64_t usec) {
        uint64_t secs = usec / USEC_PER_SEC;
        if (usec > 0 && usec % USEC_PER_DAY == 0)
                secs--; /* an end-of-day bound: show the day's last second */
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc((gint64) secs);
        if (!dt)
                return g_strdup("(invalid time)");
        return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static char *exception_expiry_show(const BerthException *x) {
        g_autofree char *ts = berth_format_timestamp_utc(x->expires_usec);
        if (x->expires && strlen(x->expires) == 10)
                return g_strdup_printf("%s (end of day UTC, %s)", x->expires, ts);
        return g_strdup_printf("%s (%s)", x->expires ? x->expires : "?", ts);
}

/* A raw trigger before the policy and the exceptions are applied. */
typedef struct Trigger {
        const char *rule;
        char *file, *section, *key, *value, *message, *fix;
} Trigger;

static void trigger_free(void *p) {
        Trigger *t = p;
        g_free(t->file);
        g_free(t->section);
        g_free(t->key);
        g_free(t->value);
        g_free(t->message);
        g_free(t->fix);
        g_free(t);
}

static const char *main_file(const BerthConfig *c) {
        if (c->path)
                return c->path;
        return c->name ? c->name : "(transient)";
}

static void trigger_add(GPtrArray *ts, const BerthConfig *c, const char *rule, const BerthConfigSource *src,
                        const char *section, const char *key, const char *value, char *message, char *fix) {
        Trigger *t = g_new0(Trigger, 1);
        t->rule = rule;
        t->file = g_strdup(src ? src->file : main_file(c));
        t->section = g_strdup(src ? src->section : section);
        t->key = g_strdup(src ? src->key : key);
        t->value = g_strdup(src ? src->value : value);
        t->message = message;
        t->fix = fix;
        g_ptr_array_add(ts, t);
}

static const BerthConfigSource *source_last(const BerthConfig *c, const char *section, const char *key) {
        for (guint i = c->sources ? c->sources->len : 0; i > 0; i--) {
                const BerthConfigSource *s = c->sources->pdata[i - 1];
                if (strcmp(s->section, section) == 0 && strcmp(s->key, key) == 0)
                        return s;
        }
        return NULL;
}

static bool word_in(const char *list, const char *word, bool ignore_case) {
        g_auto(GStrv) words = g_strsplit_set(list, " \t,", -1);
        for (char **w = words; *w; w++) {
                if (!**w)
                        continue;
                if (ignore_case ? g_ascii_strcasecmp(*w, word) == 0 : strcmp(*w, word) == 0)
                        return true;
        }
        return false;
}

/* The last assignment of a list key whose words contain word. */
static const BerthConfigSource *source_with_word(const BerthConfig *c, const char *section, const char *key,
                                                 const char *word, bool ignore_case) {
        for (guint i = c->sources ? c->sources->len : 0; i > 0; i--) {
                const BerthConfigSource *s = c->sources->pdata[i - 1];
                if (strcmp(s->section, section) == 0 && strcmp(s->key, key) == 0 && word_in(s->value, word, ignore_case))
                        return s;
        }
        return NULL;
}

static const BerthConfigSource *source_for_cap(const BerthConfig *c, int cap) {
        const char *name = berth_capability_name(cap); /* CAP_SYS_ADMIN */
        const BerthConfigSource *s = source_with_word(c, "Security", "Capability", name, true);
        if (!s && name && g_str_has_prefix(name, "CAP_"))
                s = source_with_word(c, "Security", "Capability", name + 4, true);
        return s;
}

/* "/a//b/./c/" -> "/a/b/c"; ".." kept as is (the config parser refuses it anyway). */
static char *path_normalize(const char *in) {
        g_auto(GStrv) parts = g_strsplit(in, "/", -1);
        GString *s = g_string_new(NULL);
        for (char **p = parts; *p; p++) {
                if (**p == '\0' || strcmp(*p, ".") == 0)
                        continue;
                g_string_append_c(s, '/');
                g_string_append(s, *p);
        }
        if (s->len == 0)
                g_string_append_c(s, '/');
        return g_string_free(s, FALSE);
}

/* Debian's symlinks, applied textually so that a config linted on another host
 * is judged the same: /var/run -> /run, /lib -> /usr/lib (merged /usr). */
static char *path_canonical_alias(const char *normalized) {
        static const struct { const char *from, *to; } aliases[] = {
                { "/var/run", "/run" }, { "/var/lock", "/run/lock" }, { "/lib", "/usr/lib" },
                { "/lib64", "/usr/lib64" }, { "/bin", "/usr/bin" }, { "/sbin", "/usr/sbin" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++) {
                size_t n = strlen(aliases[i].from);
                if (strncmp(normalized, aliases[i].from, n) == 0 && (normalized[n] == '\0' || normalized[n] == '/'))
                        return g_strconcat(aliases[i].to, normalized + n, NULL);
        }
        return g_strdup(normalized);
}

static bool path_strictly_below(const char *path, const char *prefix) {
        return strcmp(path, prefix) != 0 && path_equal_or_below(path, prefix);
}

typedef struct SensitivePath SensitivePath;
static const SensitivePath *sensitive_match(const char *path);

struct SensitivePath {
        const char *path;
        bool subtree; /* anything below is sensitive too */
        const char *what;
};

/* Host paths that must not be bound into a container. A bind of the path, of
 * any directory containing it, or (subtree) of anything below it matches. */
static const SensitivePath sensitive_paths[] = {
        { "/", false, "the host's root file system" },
        { "/proc", true, "the host's procfs (/proc/1/root is the host's root)" },
        { "/sys", true, "the host's sysfs" },
        { "/dev", false, "the host's /dev (every device of the host)" },
        { "/etc", false, "the host's configuration (/etc)" },
        { "/etc/shadow", true, "the host's password hashes" },
        { "/etc/gshadow", true, "the host's group password hashes" },
        { "/etc/sudoers", true, "the host's sudo configuration" },
        { "/etc/sudoers.d", true, "the host's sudo configuration" },
        { "/etc/ssh", true, "the host's SSH keys and configuration" },
        { "/etc/systemd", true, "the host's systemd configuration" },
        { "/etc/berth", true, "berth's own configuration and policy" },
        { "/etc/polkit-1", true, "the host's polkit rules" },
        { "/etc/pam.d", true, "the host's PAM configuration" },
        { "/root", true, "the host's root home directory" },
        { "/boot", true, "the host's kernels and boot loader" },
        { "/usr/lib/modules", true, "the host's kernel modules" },
        { "/run/docker.sock", true, "the Docker socket (root on the host)" },
        { "/run/containerd", true, "containerd's socket and state (root on the host)" },
        { "/run/podman", true, "podman's socket (root on the host)" },
        { "/run/crio", true, "CRI-O's socket (root on the host)" },
        { "/run/dbus", true, "the system bus socket (systemd, machined, polkit... of the host)" },
        { "/run/systemd", true, "systemd's runtime sockets (private bus, notify, journal)" },
        { "/run/berth", true, "berth's runtime state (other containers' roots)" },
        { "/var/lib/berth", true, "berth's persistent state (every container's files)" },
        { "/var/lib/docker", true, "Docker's state" },
        { "/var/lib/containerd", true, "containerd's state" },
        { "/var/lib/kubelet", true, "the kubelet's state and credentials" },
};

const char *berth_policy_sensitive_path(const char *host_path, const char **ret_matched) {
        const SensitivePath *s = sensitive_match(host_path);
        if (ret_matched)
                *ret_matched = s ? s->path : NULL;
        return s ? s->what : NULL;
}

static const SensitivePath *sensitive_match(const char *path) {
        /* Prefer the most specific entry: an exact match, then the deepest subtree. */
        const SensitivePath *best = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(sensitive_paths); i++) {
                const SensitivePath *s = &sensitive_paths[i];
                bool m = strcmp(path, s->path) == 0 || path_strictly_below(s->path, path) ||
                         (s->subtree && path_strictly_below(path, s->path));
                if (!m)
                        continue;
                if (strcmp(path, s->path) == 0)
                        return s;
                if (!best || (s->subtree && path_equal_or_below(path, s->path) &&
                              strlen(s->path) > strlen(best->path)))
                        best = s;
        }
        return best;
}

/* A bind source whose writable mount lets the container write to the host's
 * sysfs or /proc/sys (binds are recursive: a writable / includes /sys). */
static bool path_exposes_sys(const char *path) {
        return path_equal_or_below(path, "/sys") || path_equal_or_below(path, "/proc/sys") ||
               path_equal_or_below("/sys", path) || path_equal_or_below("/proc/sys", path);
}

static bool path_is_device(const char *path, bool resolve) {
        struct stat st;
        if (path_strictly_below(path, "/dev"))
                return true;
        return resolve && stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
}

static const BerthConfigSource *source_for_bind(const BerthConfig *c, const BerthBind *b) {
        for (guint i = c->sources ? c->sources->len : 0; i > 0; i--) {
                const BerthConfigSource *s = c->sources->pdata[i - 1];
                if (strcmp(s->section, "Files") != 0 ||
                    (strcmp(s->key, "Bind") != 0 && strcmp(s->key, "BindReadOnly") != 0))
                        continue;
                g_auto(GStrv) parts = g_strsplit(s->value, ":", 3);
                g_autofree char *src = path_normalize(parts[0] ? parts[0] : "");
                if (strcmp(src, b->source) != 0)
                        continue;
                if (parts[0] && parts[1] && parts[1][0] == '/') {
                        g_autofree char *dst = path_normalize(parts[1]);
                        if (strcmp(dst, b->destination) != 0)
                                continue;
                }
                return s;
        }
        return NULL;
}

static void collect_bind_triggers(const BerthPolicy *p, const BerthConfig *c, GPtrArray *ts) {
        for (guint i = 0; c->binds && i < c->binds->len; i++) {
                const BerthBind *b = c->binds->pdata[i];
                const BerthConfigSource *src = source_for_bind(c, b);
                const char *key = b->read_only ? "BindReadOnly" : "Bind";
                g_autofree char *value = g_strdup_printf("%s:%s%s", b->source, b->destination, b->read_only ? ":ro" : "");
                g_autofree char *norm = path_normalize(b->source);
                g_autofree char *alias = path_canonical_alias(norm);
                g_autofree char *real = NULL;
                char buf[PATH_MAX];

                if (p->resolve_host_paths && realpath(b->source, buf))
                        real = g_strdup(buf);
                const char *paths[] = { alias, real };

                const SensitivePath *sens = NULL;
                const char *via = NULL;
                bool sys = false, dev = false;
                for (size_t k = 0; k < G_N_ELEMENTS(paths); k++) {
                        if (!paths[k])
                                continue;
                        if (!sens && (sens = sensitive_match(paths[k])))
                                via = paths[k];
                        sys = sys || (!b->read_only && path_exposes_sys(paths[k]));
                        dev = dev || path_is_device(paths[k], p->resolve_host_paths);
                }
                if (sens) {
                        g_autofree char *shown = strcmp(via, norm) == 0 ? g_strdup(norm)
                                                                       : g_strdup_printf("%s (= %s)", norm, via);
                        const char *rel = strcmp(via, sens->path) == 0 ? "is"
                                        : path_strictly_below(sens->path, via) ? "contains"
                                        : "is inside";
                        trigger_add(ts, c, "sensitive-bind", src, "Files", key, value,
                                    g_strdup_printf("bind source %s %s %s%s%s%s, mounted %s at %s", shown, rel,
                                                    sens->what, strcmp(via, sens->path) == 0 ? "" : " (",
                                                    strcmp(via, sens->path) == 0 ? "" : sens->path,
                                                    strcmp(via, sens->path) == 0 ? "" : ")",
                                                    b->read_only ? "read-only" : "writable", b->destination),
                                    g_strdup_printf("remove the bind of %s, or bind only the specific path the "
                                                    "payload needs", norm));
                }
                if (sys)
                        trigger_add(ts, c, "writable-sys", src, "Files", key, value,
                                    g_strdup_printf("bind source %s is writable and exposes the host's /sys or "
                                                    "/proc/sys at %s", norm, b->destination),
                                    g_strdup_printf("remove the bind, or make it read-only: BindReadOnly=%s:%s",
                                                    b->source, b->destination));
                if (dev)
                        trigger_add(ts, c, "device-node", src, "Files", key, value,
                                    g_strdup_printf("bind source %s is a host device (node or directory under /dev), "
                                                    "mounted at %s", norm, b->destination),
                                    g_strdup_printf("remove the bind of %s", norm));
        }
}

static const uint64_t dangerous_caps =
        (1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_SYS_PTRACE) | (1ULL << CAP_SYS_MODULE) |
        (1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_BPF) | (1ULL << CAP_PERFMON) |
        (1ULL << CAP_SYS_RAWIO) | (1ULL << CAP_SYS_TIME) | (1ULL << CAP_SYS_BOOT) | (1ULL << CAP_MKNOD) |
        (1ULL << CAP_MAC_ADMIN) | (1ULL << CAP_MAC_OVERRIDE) | (1ULL << CAP_SYSLOG) |
        (1ULL << CAP_AUDIT_CONTROL) | (1ULL << CAP_LINUX_IMMUTABLE) | (1ULL << CAP_SYS_PACCT) |
        (1ULL << CAP_SYS_TTY_CONFIG) | (1ULL << CAP_CHECKPOINT_RESTORE) | (1ULL << CAP_SYS_RESOURCE);

static const char *cap_why(int cap) {
        switch (cap) {
        case CAP_SYS_ADMIN: return "mount, namespaces, and most of the kernel's admin interfaces";
        case CAP_SYS_PTRACE: return "ptrace and /proc/PID/mem of any process it can see";
        case CAP_SYS_MODULE: return "load kernel modules";
        case CAP_DAC_READ_SEARCH: return "open_by_handle_at: read any host file (the shocker exploit)";
        case CAP_NET_ADMIN: return "reconfigure network interfaces, routes and firewall";
        case CAP_BPF: return "load BPF programs";
        case CAP_PERFMON: return "perf events and kernel tracing";
        case CAP_SYS_RAWIO: return "raw I/O ports and device memory";
        case CAP_SYS_TIME: return "set the host's clock";
        case CAP_SYS_BOOT: return "reboot the host, kexec";
        case CAP_MKNOD: return "create device nodes (raw access to host disks)";
        case CAP_MAC_ADMIN: case CAP_MAC_OVERRIDE: return "change or bypass the LSM policy";
        case CAP_SYSLOG: return "read kernel addresses and the kernel log";
        case CAP_AUDIT_CONTROL: return "change the kernel audit configuration";
        case CAP_LINUX_IMMUTABLE: return "change immutable files";
        case CAP_SYS_PACCT: return "process accounting";
        case CAP_SYS_TTY_CONFIG: return "configure ttys (vhangup)";
        case CAP_CHECKPOINT_RESTORE: return "checkpoint/restore interfaces (set_tid, map_files)";
        case CAP_SYS_RESOURCE: return "override resource limits and quotas";
        default: return "not in the default set";
        }
}

static void collect_triggers(const BerthPolicy *p, const BerthConfig *c, GPtrArray *ts) {
        static const struct { unsigned flag; const char *rule, *word, *what; } nss[] = {
                { BERTH_NS_PID, "host-pid", "pid", "PID" },
                { BERTH_NS_NET, "host-net", "net", "network" },
                { BERTH_NS_IPC, "host-ipc", "ipc", "IPC" },
                { BERTH_NS_UTS, "host-uts", "uts", "UTS" },
                { BERTH_NS_CGROUP, "host-cgroup", "cgroup", "cgroup" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(nss); i++) {
                if (!(c->host_namespaces & nss[i].flag))
                        continue;
                const BerthConfigSource *src = NULL;
                if (nss[i].flag == BERTH_NS_NET) {
                        const BerthConfigSource *m = source_last(c, "Network", "Mode");
                        if (m && strcmp(m->value, "host") == 0)
                                src = m;
                }
                if (!src)
                        src = source_with_word(c, "Security", "HostNamespaces", nss[i].word, false);
                const BerthRule *r = berth_policy_rule_lookup(nss[i].rule);
                trigger_add(ts, c, nss[i].rule, src, "Security", "HostNamespaces", nss[i].word,
                            g_strdup(r->summary),
                            g_strdup(r->fix));
        }

        if (!c->private_users)
                trigger_add(ts, c, "no-userns", source_last(c, "Security", "PrivateUsers"), "Security", "PrivateUsers",
                            "no (default)", g_strdup(berth_policy_rule_lookup("no-userns")->summary),
                            g_strdup(berth_policy_rule_lookup("no-userns")->fix));

        uint64_t added = c->capability_add & ~c->capability_drop & ~berth_caps_default();
        for (int cap = 0; cap < 64; cap++) {
                if (!(added & (1ULL << cap)))
                        continue;
                const char *name = berth_capability_name(cap);
                bool danger = dangerous_caps & (1ULL << cap);
                trigger_add(ts, c, danger ? "dangerous-capability" : "added-capability", source_for_cap(c, cap),
                            "Security", "Capability", name,
                            g_strdup_printf("%s is added: %s", name ? name : "?", cap_why(cap)),
                            g_strdup_printf("remove %s from [Security] Capability=", name ? name : "?"));
        }

        if (!c->seccomp)
                trigger_add(ts, c, "seccomp-off", source_last(c, "Security", "Seccomp"), "Security", "Seccomp", "no",
                            g_strdup(berth_policy_rule_lookup("seccomp-off")->summary),
                            g_strdup(berth_policy_rule_lookup("seccomp-off")->fix));
        else {
                const char *const *deny = berth_seccomp_default_denylist();
                for (char **s = c->syscall_allow; s && *s; s++) {
                        if (!g_strv_contains(deny, *s))
                                continue;
                        trigger_add(ts, c, "seccomp-reallowed",
                                    source_with_word(c, "Security", "SystemCallAllow", *s, false), "Security",
                                    "SystemCallAllow", *s,
                                    g_strdup_printf("%s() is re-allowed although the default filter denies it", *s),
                                    g_strdup_printf("remove %s from [Security] SystemCallAllow=", *s));
                }
        }

        if (!c->no_new_privileges)
                trigger_add(ts, c, "no-new-privileges-off", source_last(c, "Security", "NoNewPrivileges"), "Security",
                            "NoNewPrivileges", "no", g_strdup(berth_policy_rule_lookup("no-new-privileges-off")->summary),
                            g_strdup(berth_policy_rule_lookup("no-new-privileges-off")->fix));

        collect_bind_triggers(p, c, ts);

        if (c->limits.memory_max == BERTH_LIMIT_UNSET || c->limits.memory_max == BERTH_LIMIT_INFINITY)
                trigger_add(ts, c, "no-memory-max", source_last(c, "Limits", "MemoryMax"), "Limits", "MemoryMax",
                            c->limits.memory_max == BERTH_LIMIT_UNSET ? "(unset)" : "infinity",
                            g_strdup(berth_policy_rule_lookup("no-memory-max")->summary),
                            g_strdup(berth_policy_rule_lookup("no-memory-max")->fix));
        if (c->limits.tasks_max == BERTH_LIMIT_UNSET || c->limits.tasks_max == BERTH_LIMIT_INFINITY)
                trigger_add(ts, c, "no-tasks-max", source_last(c, "Limits", "TasksMax"), "Limits", "TasksMax",
                            c->limits.tasks_max == BERTH_LIMIT_UNSET ? "(unset)" : "infinity",
                            g_strdup(berth_policy_rule_lookup("no-tasks-max")->summary),
                            g_strdup(berth_policy_rule_lookup("no-tasks-max")->fix));
}

typedef enum ExceptionState {
        EXC_NONE,
        EXC_VALID,
        EXC_EXPIRED,
        EXC_TOO_FAR,
        EXC_DISABLED,
} ExceptionState;

/* The latest accepted expiry: the end of the UTC day MaxExceptionDays after today. */
static uint64_t exception_limit(const BerthPolicy *p, uint64_t now_usec) {
        uint64_t day = now_usec / USEC_PER_DAY;
        return (day + p->max_exception_days + 1) * USEC_PER_DAY;
}

static ExceptionState exception_state(const BerthPolicy *p, const BerthException *x, uint64_t now_usec) {
        if (!x)
                return EXC_NONE;
        if (now_usec >= x->expires_usec)
                return EXC_EXPIRED;
        if (p->max_exception_days == 0)
                return EXC_DISABLED;
        if (x->expires_usec > exception_limit(p, now_usec))
                return EXC_TOO_FAR;
        return EXC_VALID;
}

static char *exception_problem(const BerthPolicy *p, const BerthException *x, ExceptionState st) {
        g_autofree char *exp = exception_expiry_show(x);
        switch (st) {
        case EXC_EXPIRED:
                return g_strdup_printf("the exception [%s%s] in %s expired on %s", BERTH_EXCEPTION_SECTION_PREFIX,
                                       x->rule, x->file ? x->file : "?", exp);
        case EXC_TOO_FAR:
                return g_strdup_printf("the exception [%s%s] in %s is not accepted: Expires=%s is more than %u days "
                                       "away (MaxExceptionDays= of the host policy)",
                                       BERTH_EXCEPTION_SECTION_PREFIX, x->rule, x->file ? x->file : "?", exp,
                                       p->max_exception_days);
        case EXC_DISABLED:
                return g_strdup_printf("the exception [%s%s] in %s is not accepted: the host policy accepts no "
                                       "exceptions (MaxExceptionDays=0)",
                                       BERTH_EXCEPTION_SECTION_PREFIX, x->rule, x->file ? x->file : "?");
        default:
                return NULL;
        }
}

static BerthFinding *finding_new(const char *rule, BerthSeverity sev, const BerthConfig *c) {
        BerthFinding *f = g_new0(BerthFinding, 1);
        f->rule = g_strdup(rule);
        f->severity = f->rule_severity = sev;
        f->container = c && c->name ? g_strdup(c->name) : NULL;
        return f;
}

int berth_policy_evaluate_append(const BerthPolicy *p, const BerthConfig *c, uint64_t now_usec, GPtrArray *findings) {
        g_autoptr(BerthPolicy) def = NULL;

        if (!c || !findings)
                return -EINVAL;
        if (!p)
                p = def = berth_policy_new();

        g_autoptr(GPtrArray) ts = g_ptr_array_new_with_free_func(trigger_free);
        collect_triggers(p, c, ts);

        for (size_t ri = 0; ri < G_N_ELEMENTS(rule_table); ri++) {
                const BerthRule *rule = &rule_table[ri];
                if (rule->kind != BERTH_RULE_CONFIG)
                        continue;
                BerthSeverity sev = berth_policy_rule_severity(p, rule->id);
                if (sev == BERTH_SEVERITY_OFF)
                        continue;
                const BerthException *x = berth_config_find_exception(c, rule->id);
                ExceptionState st = exception_state(p, x, now_usec);
                for (guint i = 0; i < ts->len; i++) {
                        const Trigger *t = ts->pdata[i];
                        if (strcmp(t->rule, rule->id) != 0)
                                continue;
                        BerthFinding *f = finding_new(rule->id, sev, c);
                        f->file = g_strdup(t->file);
                        f->section = g_strdup(t->section);
                        f->key = g_strdup(t->key);
                        f->value = g_strdup(t->value);
                        f->fix = g_strdup(t->fix);
                        if (st == EXC_VALID) {
                                f->severity = BERTH_SEVERITY_INFO;
                                f->waived_by = berth_exception_copy(x);
                                g_autofree char *exp = exception_expiry_show(x);
                                f->message = g_strdup_printf("%s; waived by [%s%s] (%s) until %s", t->message,
                                                             BERTH_EXCEPTION_SECTION_PREFIX, rule->id,
                                                             x->justification, exp);
                        } else if (st != EXC_NONE) {
                                g_autofree char *problem = exception_problem(p, x, st);
                                f->rejected_exception = berth_exception_copy(x);
                                f->message = g_strdup_printf("%s; %s", t->message, problem);
                                g_free(f->fix);
                                f->fix = g_strdup_printf("%s, or renew the exception: Expires= at most %u days away",
                                                         t->fix, p->max_exception_days);
                        } else
                                f->message = g_strdup(t->message);
                        g_ptr_array_add(findings, f);
                }
        }

        /* The exceptions themselves. */
        for (guint i = 0; c->exceptions && i < c->exceptions->len; i++) {
                const BerthException *x = c->exceptions->pdata[i];
                bool used = false;
                for (guint j = 0; j < ts->len && !used; j++)
                        used = strcmp(((const Trigger *) ts->pdata[j])->rule, x->rule) == 0;
                ExceptionState st = exception_state(p, x, now_usec);
                g_autofree char *section = g_strconcat(BERTH_EXCEPTION_SECTION_PREFIX, x->rule, NULL);
                g_autofree char *exp = exception_expiry_show(x);

                if (!used) {
                        BerthSeverity sev = berth_policy_rule_severity(p, "exception-unused");
                        if (sev == BERTH_SEVERITY_OFF)
                                continue;
                        BerthFinding *f = finding_new("exception-unused", sev, c);
                        f->file = g_strdup(x->file);
                        f->section = g_strdup(section);
                        f->key = g_strdup("Expires");
                        f->value = g_strdup(x->expires);
                        f->message = g_strdup_printf("[%s] waives %s, but the config does not trigger that rule%s",
                                                     section, x->rule, st == EXC_EXPIRED ? " (and it has expired)" : "");
                        f->fix = g_strdup_printf("remove the [%s] section", section);
                        g_ptr_array_add(findings, f);
                        continue;
                }
                if (st == EXC_VALID && x->expires_usec - now_usec <= BERTH_EXCEPTION_EXPIRY_WARN_DAYS * USEC_PER_DAY &&
                    berth_policy_rule_severity(p, x->rule) != BERTH_SEVERITY_OFF) {
                        BerthSeverity sev = berth_policy_rule_severity(p, "exception-expiring");
                        if (sev == BERTH_SEVERITY_OFF)
                                continue;
                        uint64_t left = x->expires_usec - now_usec;
                        BerthFinding *f = finding_new("exception-expiring", sev, c);
                        f->file = g_strdup(x->file);
                        f->section = g_strdup(section);
                        f->key = g_strdup("Expires");
                        f->value = g_strdup(x->expires);
                        f->message = g_strdup_printf("[%s] (%s) expires on %s, in %" G_GUINT64_FORMAT " h; after that "
                                                     "the container refuses to start with the weakening",
                                                     section, x->justification, exp, (guint64) (left / (3600 * USEC_PER_SEC)));
                        f->fix = g_strdup_printf("remove the %s weakening, or renew [%s] with a new Expires=", x->rule,
                                                 section);
                        f->waived_by = berth_exception_copy(x);
                        g_ptr_array_add(findings, f);
                }
        }
        return 0;
}

int berth_policy_evaluate(const BerthPolicy *p, const BerthConfig *c, uint64_t now_usec, GPtrArray **ret_findings) {
        if (!c || !ret_findings)
                return -EINVAL;
        g_autoptr(GPtrArray) f = berth_findings_new();
        int r = berth_policy_evaluate_append(p, c, now_usec, f);
        if (r < 0)
                return r;
        *ret_findings = g_steal_pointer(&f);
        return 0;
}

int berth_audit_config_file(const BerthPolicy *p, const char *path, uint64_t now_usec, GPtrArray *findings) {
        g_autoptr(BerthConfig) c = NULL;
        g_autoptr(GError) e = NULL;
        g_autofree char *base = NULL, *dir = NULL, *name = NULL;
        int r;

        if (!path || !findings)
                return -EINVAL;
        base = g_path_get_basename(path);
        dir = g_path_get_dirname(path);
        name = g_str_has_suffix(base, ".conf") ? g_strndup(base, strlen(base) - 5) : g_strdup(base);

        if (g_str_has_suffix(base, ".conf") && berth_name_validate(name) >= 0)
                r = berth_config_load(dir, name, &c, &e);
        else {
                c = berth_config_new(name);
                r = berth_config_load_file(c, path, &e);
                if (r >= 0)
                        r = berth_config_finalize(c, &e);
        }
        if (r < 0) {
                BerthFinding *f = finding_new("config-invalid", berth_policy_rule_severity(p, "config-invalid"), NULL);
                f->container = g_strdup(name);
                f->file = g_strdup(path);
                const char *m = e ? e->message : g_strerror(-r);
                if (g_str_has_prefix(m, path) && g_str_has_prefix(m + strlen(path), ": "))
                        m += strlen(path) + 2; /* the location is the finding's file already */
                f->message = g_strdup(m);
                f->fix = g_strdup(berth_policy_rule_lookup("config-invalid")->fix);
                if (f->severity == BERTH_SEVERITY_OFF)
                        berth_finding_free(f);
                else
                        g_ptr_array_add(findings, f);
                return 0;
        }
        BerthSeverity wsev = berth_policy_rule_severity(p, "config-warning");
        for (guint i = 0; wsev != BERTH_SEVERITY_OFF && i < c->warnings->len; i++) {
                BerthFinding *f = finding_new("config-warning", wsev, c);
                const char *w = c->warnings->pdata[i];
                const char *colon = strstr(w, ": ");
                f->file = colon ? g_strndup(w, colon - w) : g_strdup(c->path);
                f->message = g_strdup(colon ? colon + 2 : w);
                f->fix = g_strdup(berth_policy_rule_lookup("config-warning")->fix);
                g_ptr_array_add(findings, f);
        }
        return berth_policy_evaluate_append(p, c, now_usec, findings);
}

/* ---------------------------------------------------------------------------------------------- */
/* Results */

bool berth_findings_refuse_start(const GPtrArray *findings) {
        for (guint i = 0; findings && i < findings->len; i++)
                if (((const BerthFinding *) findings->pdata[i])->severity == BERTH_SEVERITY_ERROR)
                        return true;
        return false;
}

int berth_audit_exit_code(const GPtrArray *findings) {
        int code = 0;
        for (guint i = 0; findings && i < findings->len; i++) {
                const BerthFinding *f = findings->pdata[i];
                if (f->severity == BERTH_SEVERITY_ERROR)
                        return 2;
                if (f->severity == BERTH_SEVERITY_WARNING)
                        code = 1;
        }
        return code;
}

GPtrArray *berth_findings_active_waivers(const GPtrArray *findings) {
        GPtrArray *w = g_ptr_array_new_with_free_func((GDestroyNotify) berth_exception_free);
        for (guint i = 0; findings && i < findings->len; i++) {
                const BerthFinding *f = findings->pdata[i];
                if (!f->waived_by || f->severity != BERTH_SEVERITY_INFO)
                        continue;
                bool dup = false;
                for (guint j = 0; j < w->len && !dup; j++)
                        dup = strcmp(((BerthException *) w->pdata[j])->rule, f->waived_by->rule) == 0;
                if (!dup)
                        g_ptr_array_add(w, berth_exception_copy(f->waived_by));
        }
        return w;
}

char *berth_waivers_to_string(const GPtrArray *waivers) {
        GString *s = g_string_new(NULL);
        for (guint i = 0; waivers && i < waivers->len; i++) {
                const BerthException *x = waivers->pdata[i];
                g_string_append_printf(s, "%s%s: %s (expires %s)", i ? "; " : "", x->rule, x->justification,
                                       x->expires);
        }
        return g_string_free(s, FALSE);
}

static void append_location(GString *s, const BerthFinding *f) {
        g_string_append(s, f->file ? f->file : (f->container ? f->container : "(config)"));
        if (f->section) {
                g_string_append_printf(s, ": [%s]", f->section);
                if (f->key)
                        g_string_append_printf(s, " %s=%s", f->key, f->value ? f->value : "");
        }
}

char *berth_policy_format_refusal(const BerthPolicy *p, const BerthConfig *c, const GPtrArray *findings,
                                  uint64_t now_usec) {
        g_autoptr(BerthPolicy) def = NULL;
        if (!berth_findings_refuse_start(findings))
                return NULL;
        if (!p)
                p = def = berth_policy_new();

        GString *s = g_string_new(NULL);
        guint n = 0;
        for (guint i = 0; i < findings->len; i++)
                n += ((const BerthFinding *) findings->pdata[i])->severity == BERTH_SEVERITY_ERROR;
        g_string_append_printf(s, "Refusing to start container \"%s\": the host policy (profile %s, %s) forbids %u "
                               "weakening%s without a valid exception:\n",
                               c && c->name ? c->name : "?", berth_profile_to_string(p->profile),
                               p->path ? p->path : "built-in default", n, n == 1 ? "" : "s");

        const char *first_rule = NULL;
        for (guint i = 0; i < findings->len; i++) {
                const BerthFinding *f = findings->pdata[i];
                if (f->severity != BERTH_SEVERITY_ERROR)
                        continue;
                if (!first_rule && berth_policy_rule_lookup(f->rule) && berth_policy_rule_lookup(f->rule)->waivable)
                        first_rule = f->rule;
                g_string_append_printf(s, "\n  %s: ", f->rule);
                append_location(s, f);
                g_string_append_printf(s, "\n    %s\n    fix: %s\n", f->message, f->fix);
        }

        if (first_rule && p->max_exception_days > 0) {
                unsigned days = MIN(BERTH_EXCEPTION_EXPIRY_WARN_DAYS, p->max_exception_days);
                g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc((gint64) (now_usec / USEC_PER_SEC + days * 86400ULL));
                g_autofree char *date = dt ? g_date_time_format(dt, "%Y-%m-%d") : g_strdup("YYYY-MM-DD");
                g_string_append_printf(s,
                                       "\nIf the weakening is needed for a while, add an exception to the container's "
                                       "config (%s), one section per rule, e.g.:\n\n"
                                       "    [%s%s]\n"
                                       "    Justification=<why it is needed, e.g. debugging INC-1234>\n"
                                       "    Expires=%s\n\n"
                                       "Both keys are required. Expires= is YYYY-MM-DD (the end of that day, UTC) or "
                                       "an ISO 8601 time with an offset, at most %u days away. Every start with an "
                                       "exception is logged.",
                                       c && c->path ? c->path : "its .conf file", BERTH_EXCEPTION_SECTION_PREFIX,
                                       first_rule, date, p->max_exception_days);
        } else if (first_rule)
                g_string_append(s, "\nThe host policy accepts no exceptions (MaxExceptionDays=0): remove the "
                                   "weakening.");
        else
                g_string_truncate(s, s->len > 0 && s->str[s->len - 1] == '\n' ? s->len - 1 : s->len);
        return g_string_free(s, FALSE);
}

static void count(const GPtrArray *findings, guint *errors, guint *warnings, guint *infos) {
        *errors = *warnings = *infos = 0;
        for (guint i = 0; findings && i < findings->len; i++) {
                const BerthFinding *f = findings->pdata[i];
                if (f->severity == BERTH_SEVERITY_ERROR)
                        (*errors)++;
                else if (f->severity == BERTH_SEVERITY_WARNING)
                        (*warnings)++;
                else
                        (*infos)++;
        }
}

char *berth_findings_format_text(const GPtrArray *findings) {
        GString *s = g_string_new(NULL);
        guint e, w, inf;

        for (guint i = 0; findings && i < findings->len; i++) {
                const BerthFinding *f = findings->pdata[i];
                append_location(s, f);
                g_string_append_printf(s, ": %s: %s%s: %s\n", berth_severity_to_string(f->severity), f->rule,
                                       f->waived_by && f->severity == BERTH_SEVERITY_INFO ? " (waived)" : "",
                                       f->message ? f->message : "");
                if (f->fix && f->severity != BERTH_SEVERITY_INFO)
                        g_string_append_printf(s, "  fix: %s\n", f->fix);
        }
        count(findings, &e, &w, &inf);
        g_string_append_printf(s, "%u error%s, %u warning%s, %u info\n", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s",
                               inf);
        return g_string_free(s, FALSE);
}

static void json_string(GString *s, const char *v) {
        if (!v) {
                g_string_append(s, "null");
                return;
        }
        g_autofree char *valid = g_utf8_make_valid(v, -1);
        g_string_append_c(s, '"');
        for (const unsigned char *p = (const unsigned char *) valid; *p; p++) {
                switch (*p) {
                case '"': g_string_append(s, "\\\""); break;
                case '\\': g_string_append(s, "\\\\"); break;
                case '\n': g_string_append(s, "\\n"); break;
                case '\r': g_string_append(s, "\\r"); break;
                case '\t': g_string_append(s, "\\t"); break;
                case '\b': g_string_append(s, "\\b"); break;
                case '\f': g_string_append(s, "\\f"); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                g_string_append_printf(s, "\\u%04x", *p);
                        else
                                g_string_append_c(s, (char) *p); /* UTF-8 passes through */
                }
        }
        g_string_append_c(s, '"');
}

static void json_exception(GString *s, const BerthException *x) {
        if (!x) {
                g_string_append(s, "null");
                return;
        }
        g_autofree char *ts = berth_format_timestamp_utc(x->expires_usec);
        g_string_append(s, "{\"rule\":");
        json_string(s, x->rule);
        g_string_append(s, ",\"justification\":");
        json_string(s, x->justification);
        g_string_append(s, ",\"expires\":");
        json_string(s, x->expires);
        g_string_append(s, ",\"expires_utc\":");
        json_string(s, ts);
        g_string_append_printf(s, ",\"expires_usec\":%" G_GUINT64_FORMAT ",\"file\":", x->expires_usec);
        json_string(s, x->file);
        g_string_append_c(s, '}');
}

char *berth_findings_format_json(const GPtrArray *findings) {
        GString *s = g_string_new("{\"findings\":[");
        guint e, w, inf;

        for (guint i = 0; findings && i < findings->len; i++) {
                const BerthFinding *f = findings->pdata[i];
                const struct { const char *name, *value; } fields[] = {
                        { "rule", f->rule },
                        { "severity", berth_severity_to_string(f->severity) },
                        { "rule_severity", berth_severity_to_string(f->rule_severity) },
                        { "container", f->container },
                        { "file", f->file },
                        { "section", f->section },
                        { "key", f->key },
                        { "value", f->value },
                        { "message", f->message },
                        { "fix", f->fix },
                };
                g_string_append(s, i ? ",{" : "{");
                for (size_t k = 0; k < G_N_ELEMENTS(fields); k++) {
                        g_string_append_printf(s, "%s\"%s\":", k ? "," : "", fields[k].name);
                        json_string(s, fields[k].value);
                }
                g_string_append_printf(s, ",\"drift\":%s,\"waived_by\":", f->drift ? "true" : "false");
                json_exception(s, f->waived_by);
                g_string_append(s, ",\"rejected_exception\":");
                json_exception(s, f->rejected_exception);
                g_string_append_c(s, '}');
        }
        count(findings, &e, &w, &inf);
        g_string_append_printf(s, "],\"errors\":%u,\"warnings\":%u,\"info\":%u,\"exit_code\":%d}", e, w, inf,
                               berth_audit_exit_code(findings));
        return g_string_free(s, FALSE);
}
