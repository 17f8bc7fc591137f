/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl audit: the guardrails as a lint and as drift detection.
 *
 *   --config FILE...  lint config files (need not be installed): the host
 *                     policy applied to each file and its FILE.d/ drop-ins;
 *                     bind sources are judged by name only (the files may be
 *                     meant for another host).
 *   NAME... | --all   running containers: the policy applied to their config
 *                     in the config directory, plus drift: the kernel's view of
 *                     PID 1 (namespaces, capabilities, seccomp, no_new_privs,
 *                     mounts) compared with that config.
 *
 * Exit status: 0 clean (info at most), 1 warnings only, 2 errors; when a
 * target cannot be audited at all, the larger of that and 3 (failure), 4 (no
 * such container, access denied), 6 (invalid policy), 7 (not running). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit-kernel.h"
#include "berthctl.h"
#include "config.h"
#include "policy.h"

typedef struct Target {
        char *kind;      /* "config" or "container" */
        char *name;      /* file path or container name */
        pid_t pid;       /* running containers */
        char *note;      /* why it could not be audited, or NULL */
        int failure;     /* exit status of that failure, 0 if audited */
        guint first, n;  /* its findings in the shared array */
} Target;

static void target_free(void *p) {
        Target *t = p;
        g_free(t->kind);
        g_free(t->name);
        g_free(t->note);
        g_free(t);
}

static Target *target_add(GPtrArray *targets, const char *kind, const char *name, GPtrArray *findings) {
        Target *t = g_new0(Target, 1);
        t->kind = g_strdup(kind);
        t->name = g_strdup(name);
        t->first = findings->len;
        g_ptr_array_add(targets, t);
        return t;
}

static void target_fail(Target *t, int status, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void target_fail(Target *t, int status, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_free(t->note);
        t->note = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        t->failure = status;
        fprintf(stderr, "%s: %s\n", t->name, t->note);
}

static const char *run_dir_base(void) {
        const char *e = getenv("BERTH_RUN_DIR");
        return e && *e ? e : BERTH_RUNTIME_DIR;
}

/* The policy evaluation of a running container's config plus its drift. */
static void audit_container(BerthPolicy *policy, sd_bus *bus, const char *name, uint64_t now, GPtrArray *targets,
                            GPtrArray *findings) {
        g_autoptr(BerthConfig) cfg = NULL;
        g_autoptr(GError) error = NULL;
        _cleanup_json_ JsonValue *props = NULL;
        const char *dir = arg.config_dir ?: BERTH_CONFIG_DIR;
        Target *t = target_add(targets, "container", name, findings);
        pid_t pid = 0;
        int r;

        if (berth_name_validate(name) < 0) {
                target_fail(t, EXIT_INVALID_ARGS, "invalid container name");
                return;
        }
        r = container_leader(bus, name, &pid, &props);
        if (r < 0) {
                /* container_leader() has said why. */
                t->failure = -r;
                t->note = g_strdup(-r == EXIT_NOT_RUNNING ? "not running" : "cannot be read from berthd");
                return;
        }
        t->pid = pid;

        g_autofree char *path = g_strdup_printf("%s/%s.conf", dir, name);
        if (access(path, F_OK) < 0) {
                target_fail(t, EXIT_NOT_INSTALLED,
                            "no configuration file %s (a transient container from berthctl run?); only "
                            "configured containers can be audited", path);
                return;
        }
        /* The config as the daemon would evaluate it at start: host paths resolved. */
        policy->resolve_host_paths = true;
        guint before = findings->len;
        (void) berth_audit_config_file(policy, path, now, findings);
        for (guint i = before; i < findings->len; i++)
                if (strcmp(((BerthFinding *) findings->pdata[i])->rule, "config-invalid") == 0) {
                        t->n = findings->len - t->first;
                        fprintf(stderr, "%s: the configuration does not load; drift not checked\n", name);
                        return;
                }

        r = berth_config_load(dir, name, &cfg, &error);
        if (r >= 0)
                r = berth_config_finalize(cfg, &error);
        if (r < 0) {
                t->n = findings->len - t->first;
                target_fail(t, EXIT_NOT_CONFIGURED, "%s", error ? error->message : g_strerror(-r));
                return;
        }

        /* berthd binds these into every bridged container, outside the config. */
        g_autofree char *resolv = g_strdup_printf("%s/%s/resolv.conf", run_dir_base(), name);
        g_autofree char *hosts = g_strdup_printf("%s/%s/hosts", run_dir_base(), name);
        const char *const extra[] = { resolv, hosts, NULL };
        r = berth_audit_kernel(policy, cfg, pid, extra, findings);
        t->n = findings->len - t->first;
        if (r == -ESRCH)
                target_fail(t, EXIT_NOT_RUNNING, "PID %d exited during the audit", (int) pid);
        else if (r == -EACCES || r == -EPERM)
                target_fail(t, EXIT_NO_SUCH, "cannot read /proc/%d: %s (drift detection needs root)", (int) pid,
                            g_strerror(-r));
        else if (r < 0)
                target_fail(t, 3, "cannot read the kernel's view of PID %d: %s", (int) pid, g_strerror(-r));
}

static int running_containers(sd_bus *bus, GPtrArray *names) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        const char *name, *state, *scope, *path;
        uint32_t leader;
        int r;

        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE, "ListContainers", &error,
                               &reply, NULL);
        if (r < 0)
                return -bus_log_error("Failed to list containers", &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(ssuso)");
        if (r < 0)
                return -bus_log_error("Failed to parse reply", NULL, r);
        while ((r = sd_bus_message_read(reply, "(ssuso)", &name, &state, &leader, &scope, &path)) > 0)
                if (strcmp(state, "running") == 0)
                        g_ptr_array_add(names, g_strdup(name));
        if (r < 0)
                return -bus_log_error("Failed to parse reply", NULL, r);
        return 0;
}

static JsonValue *exception_json(const BerthException *x) {
        if (!x)
                return json_null();
        JsonValue *o = json_object();
        g_autofree char *ts = berth_format_timestamp_utc(x->expires_usec);
        json_set(o, "rule", json_string(x->rule));
        json_set(o, "justification", json_string(x->justification));
        json_set(o, "expires", json_string(x->expires));
        json_set(o, "expires_utc", json_string(ts));
        json_set(o, "expires_usec", json_uint(x->expires_usec));
        json_set(o, "file", json_string(x->file));
        return o;
}

static JsonValue *finding_json(const BerthFinding *f) {
        JsonValue *o = json_object();
        json_set(o, "rule", json_string(f->rule));
        json_set(o, "severity", json_string(berth_severity_to_string(f->severity)));
        json_set(o, "rule_severity", json_string(berth_severity_to_string(f->rule_severity)));
        json_set(o, "container", json_string(f->container));
        json_set(o, "file", json_string(f->file));
        json_set(o, "section", json_string(f->section));
        json_set(o, "key", json_string(f->key));
        json_set(o, "value", json_string(f->value));
        json_set(o, "message", json_string(f->message));
        json_set(o, "fix", json_string(f->fix));
        json_set(o, "drift", json_bool(f->drift));
        json_set(o, "waived_by", exception_json(f->waived_by));
        json_set(o, "rejected_exception", exception_json(f->rejected_exception));
        return o;
}

static const char *severity_color(BerthSeverity s) {
        return s == BERTH_SEVERITY_ERROR ? ansi_red() : s == BERTH_SEVERITY_WARNING ? ansi_highlight() : ansi_grey();
}

static void print_finding(const BerthFinding *f) {
        printf("  %s%s%s %s%s", severity_color(f->severity), berth_severity_to_string(f->severity), ansi_normal(),
               f->rule, f->drift ? " (drift)" : f->waived_by && f->severity == BERTH_SEVERITY_INFO ? " (waived)" : "");
        printf("  %s", f->file ? f->file : f->container ? f->container : "(config)");
        if (f->section) {
                printf(": [%s]", f->section);
                if (f->key)
                        printf(" %s=%s", f->key, f->value ? f->value : "");
        }
        printf("\n    %s\n", f->message ? f->message : "");
        if (f->fix && f->severity != BERTH_SEVERITY_INFO)
                printf("    fix: %s\n", f->fix);
}

int verb_audit(int argc, char **argv) {
        g_autoptr(BerthPolicy) policy = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) findings = berth_findings_new();
        g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(target_free);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        _cleanup_bus_ sd_bus *bus = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME);
        int r, failure = 0;

        if (argc <= 1 && !arg.all && (!arg.audit_configs || arg.audit_configs->len == 0)) {
                fprintf(stderr, "Nothing to audit: give container names, --all or --config=FILE "
                                "(see berthctl audit --help).\n");
                return EXIT_INVALID_ARGS;
        }
        if (argc > 1 && arg.all) {
                fprintf(stderr, "Container names and --all exclude each other.\n");
                return EXIT_INVALID_ARGS;
        }
        if (arg.host && (argc > 1 || arg.all)) {
                fprintf(stderr, "audit reads the kernel's view of running containers; it does not work with -H.\n");
                return EXIT_INVALID_ARGS;
        }

        r = berth_policy_load(arg.policy, &policy, &error);
        if (r < 0) {
                fprintf(stderr, "Cannot load the host policy: %s\n", error ? error->message : g_strerror(-r));
                return EXIT_NOT_CONFIGURED;
        }

        for (guint i = 0; arg.audit_configs && i < arg.audit_configs->len; i++) {
                const char *path = arg.audit_configs->pdata[i];
                Target *t = target_add(targets, "config", path, findings);
                if (access(path, R_OK) < 0) {
                        target_fail(t, EXIT_NOT_INSTALLED, "cannot read: %s", g_strerror(errno));
                        continue;
                }
                /* The file may be meant for another host: judge bind sources by name. */
                policy->resolve_host_paths = false;
                (void) berth_audit_config_file(policy, path, now, findings);
                t->n = findings->len - t->first;
        }

        if (argc > 1 || arg.all) {
                r = bus_connect(&bus);
                if (r < 0)
                        return 3;
                if (arg.all) {
                        r = running_containers(bus, names);
                        if (r < 0)
                                return MAX(-r, 3);
                        if (names->len == 0 && !arg.quiet && arg.json == JSON_OFF)
                                fprintf(stderr, "No running containers.\n");
                } else
                        for (int i = 1; i < argc; i++)
                                g_ptr_array_add(names, g_strdup(argv[i]));
                for (guint i = 0; i < names->len; i++)
                        audit_container(policy, bus, names->pdata[i], now, targets, findings);
        }

        for (guint i = 0; i < targets->len; i++)
                failure = MAX(failure, ((Target *) targets->pdata[i])->failure);
        int code = berth_audit_exit_code(findings);
        guint errors = 0, warnings = 0, infos = 0;
        for (guint i = 0; i < findings->len; i++) {
                BerthSeverity s = ((BerthFinding *) findings->pdata[i])->severity;
                errors += s == BERTH_SEVERITY_ERROR;
                warnings += s == BERTH_SEVERITY_WARNING;
                infos += s != BERTH_SEVERITY_ERROR && s != BERTH_SEVERITY_WARNING;
        }
        int status = failure ? MAX(failure, MAX(code, 3)) : code;

        if (arg.json != JSON_OFF) {
                _cleanup_json_ JsonValue *root = json_object();
                JsonValue *tl = json_array(), *fl = json_array();
                for (guint i = 0; i < targets->len; i++) {
                        const Target *t = targets->pdata[i];
                        JsonValue *o = json_object(), *tf = json_array();
                        json_set(o, "kind", json_string(t->kind));
                        json_set(o, "name", json_string(t->name));
                        if (t->pid > 0)
                                json_set(o, "pid", json_int(t->pid));
                        json_set(o, "error", json_string(t->note));
                        for (guint k = t->first; k < t->first + t->n; k++)
                                json_append(tf, json_uint(k));
                        json_set(o, "findings", tf);
                        json_append(tl, o);
                }
                for (guint i = 0; i < findings->len; i++)
                        json_append(fl, finding_json(findings->pdata[i]));
                json_set(root, "policy", json_string(policy->path ? policy->path : "built-in default"));
                json_set(root, "profile", json_string(berth_profile_to_string(policy->profile)));
                json_set(root, "targets", tl);
                json_set(root, "findings", fl);
                json_set(root, "errors", json_uint(errors));
                json_set(root, "warnings", json_uint(warnings));
                json_set(root, "info", json_uint(infos));
                json_set(root, "exit_code", json_int(status));
                json_print(stdout, root, arg.json);
                return status;
        }

        pager_open();
        for (guint i = 0; i < targets->len; i++) {
                const Target *t = targets->pdata[i];
                if (strcmp(t->kind, "container") == 0)
                        printf("%s%s%s (container", ansi_highlight(), t->name, ansi_normal());
                else
                        printf("%s%s%s (config file", ansi_highlight(), t->name, ansi_normal());
                if (t->pid > 0)
                        printf(", PID %d", (int) t->pid);
                printf(")%s%s\n", t->note ? ": not audited: " : "", t->note ? t->note : "");
                if (t->n == 0 && !t->note)
                        printf("  %sclean%s\n", ansi_green(), ansi_normal());
                for (guint k = t->first; k < t->first + t->n; k++)
                        if (!arg.quiet || ((BerthFinding *) findings->pdata[k])->severity != BERTH_SEVERITY_INFO)
                                print_finding(findings->pdata[k]);
        }
        if (!arg.no_legend)
                printf("\n%u error%s, %u warning%s, %u info (policy %s, profile %s)%s\n", errors,
                       errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s", infos,
                       policy->path ? policy->path : "built-in default", berth_profile_to_string(policy->profile),
                       failure ? "; some targets could not be audited" : "");
        return status;
}
