/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guardrails: every rule under every profile, exceptions (parsing, waiving,
 * expiry around the clock and across time zones), policy.conf, the refusal
 * message, the formatters, and a config-repository lint over
 * tests/unit/policy-corpus/ as `berthctl audit --config` runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "util.h"
#include "policy.h"

#define USEC 1000000ULL
#define DAY (86400ULL * USEC)

/* The test clock: 2026-12-01T12:00:00Z. */
static uint64_t NOW;

#define BASE "[Rootfs]\nDirectory=/srv/web\n[Limits]\nMemoryMax=1G\nTasksMax=512\n"

/* ---------------------------------------------------------------------------------------------- */
/* helpers */

static uint64_t T(const char *s) {
        uint64_t u = 0;
        g_autofree char *reason = NULL;
        if (berth_parse_expiry(s, &u, &reason) < 0)
                g_error("cannot parse \"%s\": %s", s, reason);
        return u;
}

static int parse_cfg(const char *data, BerthConfig **ret, char **ret_msg) {
        g_autoptr(BerthConfig) c = berth_config_new("web");
        g_autoptr(GError) e = NULL;
        int r = berth_config_load_data(c, data, strlen(data), "web.conf", &e);
        if (r >= 0)
                r = berth_config_finalize(c, &e);
        if (r < 0) {
                g_assert_nonnull(e);
                g_assert_cmpint(e->code, ==, -r);
                if (ret_msg)
                        *ret_msg = g_strdup(e->message);
                return r;
        }
        g_assert_no_error(e);
        c->path = g_strdup("web.conf");
        if (ret)
                *ret = g_steal_pointer(&c);
        return r;
}

static BerthConfig *cfg(const char *data) {
        BerthConfig *c = NULL;
        g_autofree char *msg = NULL;
        if (parse_cfg(data, &c, &msg) < 0)
                g_error("config does not load: %s\n%s", msg, data);
        return c;
}

static void cfg_fails(const char *data, const char *const *needles) {
        g_autofree char *msg = NULL;
        if (parse_cfg(data, NULL, &msg) >= 0)
                g_error("expected a config error for:\n%s", data);
        for (const char *const *n = needles; *n; n++)
                if (!strstr(msg, *n))
                        g_error("error \"%s\" does not contain \"%s\"", msg, *n);
}
#define CFG_FAILS(data, ...) cfg_fails(data, (const char *const[]) { __VA_ARGS__, NULL })

static BerthPolicy *policy(BerthProfile prof) {
        BerthPolicy *p = berth_policy_new();
        p->profile = prof;
        p->resolve_host_paths = false;
        return p;
}

static GPtrArray *eval(const BerthPolicy *p, const BerthConfig *c, uint64_t now) {
        GPtrArray *f = NULL;
        g_assert_cmpint(berth_policy_evaluate(p, c, now, &f), ==, 0);
        g_assert_nonnull(f);
        return f;
}

static const BerthFinding *find(const GPtrArray *fs, const char *rule) {
        for (guint i = 0; i < fs->len; i++)
                if (strcmp(((const BerthFinding *) fs->pdata[i])->rule, rule) == 0)
                        return fs->pdata[i];
        return NULL;
}

static guint count_rule(const GPtrArray *fs, const char *rule) {
        guint n = 0;
        for (guint i = 0; i < fs->len; i++)
                n += strcmp(((const BerthFinding *) fs->pdata[i])->rule, rule) == 0;
        return n;
}

static int compare_strp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The set of rules of the findings (optionally only those at least at severity min), sorted. */
static char *rules_of(const GPtrArray *fs, BerthSeverity min) {
        g_autoptr(GPtrArray) ids = g_ptr_array_new();
        for (guint i = 0; i < fs->len; i++) {
                const BerthFinding *f = fs->pdata[i];
                if (f->severity < min)
                        continue;
                bool dup = false;
                for (guint j = 0; j < ids->len; j++)
                        dup = dup || strcmp(ids->pdata[j], f->rule) == 0;
                if (!dup)
                        g_ptr_array_add(ids, f->rule);
        }
        g_ptr_array_sort(ids, compare_strp);
        g_ptr_array_add(ids, NULL);
        return g_strjoinv(" ", (char **) ids->pdata);
}

static char *write_tmp(const char *dir, const char *name, const char *content) {
        char *p = g_build_filename(dir, name, NULL);
        g_autoptr(GError) e = NULL;
        g_assert_true(g_file_set_contents(p, content, -1, &e));
        return p;
}

/* The runtime's own remover: it never follows a symlink or crosses a mount. */
static void rm_rf(const char *path) {
        (void) rm_rf_at(AT_FDCWD, path);
}

/* ---------------------------------------------------------------------------------------------- */
/* The rule table */

#define E BERTH_SEVERITY_ERROR
#define W BERTH_SEVERITY_WARNING
#define O BERTH_SEVERITY_OFF

/* The documented table (README): a change to the profiles must change this too. Each case
 * is a config that triggers the rule. */
static const struct {
        const char *rule;
        const char *snippet;
        BerthSeverity sev[_BERTH_PROFILE_MAX]; /* restricted, baseline, privileged */
        const char *also; /* other rules the snippet necessarily triggers (sorted with the rule) */
} matrix[] = {
        { "host-pid", "[Security]\nHostNamespaces=pid\n", { E, E, W } },
        { "host-net", "[Network]\nMode=host\n", { E, E, W } },
        { "host-ipc", "[Security]\nHostNamespaces=ipc\n", { E, E, W } },
        { "host-uts", "[Security]\nHostNamespaces=uts\n", { E, W, W } },
        { "host-cgroup", "[Security]\nHostNamespaces=cgroup\n", { E, W, W } },
        { "no-userns", "", { O, O, O } },
        { "dangerous-capability", "[Security]\nCapability=CAP_SYS_ADMIN\n", { E, E, W } },
        { "added-capability", "[Security]\nCapability=IPC_LOCK\n", { W, O, O } },
        { "seccomp-off", "[Security]\nSeccomp=no\n", { E, E, W } },
        { "seccomp-reallowed", "[Security]\nSystemCallAllow=mount\n", { E, W, W } },
        { "no-new-privileges-off", "[Security]\nNoNewPrivileges=no\n", { E, W, W } },
        { "sensitive-bind", "[Files]\nBindReadOnly=/run/docker.sock\n", { E, E, W } },
        { "writable-sys", "[Files]\nBind=/sys/kernel/mm:/mnt/mm\n", { E, E, W }, "sensitive-bind writable-sys" },
        { "device-node", "[Files]\nBind=/dev/fuse\n", { E, E, W } },
        { "no-memory-max", "@[Rootfs]\nDirectory=/srv/web\n[Limits]\nTasksMax=512\n", { W, W, O } },
        { "no-tasks-max", "@[Rootfs]\nDirectory=/srv/web\n[Limits]\nMemoryMax=1G\n", { W, W, O } },
};

static char *matrix_config(guint i) {
        if (matrix[i].snippet[0] == '@')
                return g_strdup(matrix[i].snippet + 1);
        return g_strconcat(BASE, matrix[i].snippet, NULL);
}

static void test_rule_table(void) {
        size_t n;
        const BerthRule *rules = berth_policy_rules(&n);
        g_assert_cmpuint(n, >, 20);
        for (size_t i = 0; i < n; i++) {
                g_assert_true(berth_policy_rule_lookup(rules[i].id) == &rules[i]);
                g_assert_nonnull(rules[i].summary);
                g_assert_nonnull(rules[i].fix);
                g_assert_cmpint(rules[i].waivable, ==, rules[i].kind == BERTH_RULE_CONFIG);
                for (size_t j = 0; j < i; j++)
                        g_assert_cmpstr(rules[i].id, !=, rules[j].id);
        }
        /* every waivable rule is in the matrix, with the documented severities */
        for (size_t i = 0; i < n; i++) {
                if (!rules[i].waivable)
                        continue;
                bool found = false;
                for (guint m = 0; m < G_N_ELEMENTS(matrix); m++)
                        if (strcmp(matrix[m].rule, rules[i].id) == 0) {
                                found = true;
                                for (int pr = 0; pr < _BERTH_PROFILE_MAX; pr++)
                                        g_assert_cmpint(rules[i].severity[pr], ==, matrix[m].sev[pr]);
                        }
                if (!found)
                        g_error("rule %s is not tested", rules[i].id);
        }
        g_assert_null(berth_policy_rule_lookup("nope"));
        g_assert_null(berth_policy_rule_lookup(NULL));

        BerthProfile p;
        g_assert_cmpint(berth_profile_from_string("baseline", &p), ==, 0);
        g_assert_cmpint(p, ==, BERTH_PROFILE_BASELINE);
        g_assert_cmpint(berth_profile_from_string("Baseline", &p), ==, -EINVAL);
        g_assert_cmpstr(berth_profile_to_string(BERTH_PROFILE_PRIVILEGED), ==, "privileged");
        BerthSeverity s;
        g_assert_cmpint(berth_severity_from_string("warning", &s), ==, 0);
        g_assert_cmpint(s, ==, W);
        g_assert_cmpint(berth_severity_from_string("info", &s), ==, -EINVAL);
}

/* Every rule x every profile: the severity of its finding, the exit code, start refusal. */
static void test_rule_profile_matrix(void) {
        for (guint i = 0; i < G_N_ELEMENTS(matrix); i++) {
                g_autofree char *data = matrix_config(i);
                g_autoptr(BerthConfig) c = cfg(data);
                for (int pr = 0; pr < _BERTH_PROFILE_MAX; pr++) {
                        g_autoptr(BerthPolicy) p = policy(pr);
                        g_autoptr(GPtrArray) fs = eval(p, c, NOW);
                        const BerthFinding *f = find(fs, matrix[i].rule);
                        BerthSeverity want = matrix[i].sev[pr];
                        if (g_test_verbose())
                                g_printerr("%-22s %-10s -> %s\n", matrix[i].rule, berth_profile_to_string(pr),
                                           f ? berth_severity_to_string(f->severity) : "(none)");
                        if (want == O) {
                                g_assert_null(f);
                                continue;
                        }
                        g_assert_nonnull(f);
                        g_assert_cmpint(f->severity, ==, want);
                        g_assert_cmpint(f->rule_severity, ==, want);
                        g_assert_cmpint(berth_policy_rule_severity(p, matrix[i].rule), ==, want);
                        g_assert_nonnull(f->file);
                        g_assert_nonnull(f->section);
                        g_assert_nonnull(f->key);
                        g_assert_nonnull(f->message);
                        g_assert_nonnull(f->fix);
                        g_assert_cmpstr(f->container, ==, "web");
                        g_assert_false(f->drift);
                        g_assert_null(f->waived_by);
                        g_assert_cmpint(berth_findings_refuse_start(fs), ==, want == E);
                        g_assert_cmpint(berth_audit_exit_code(fs), >=, want == E ? 2 : 1);
                        /* the rule is the only weakening in the snippet */
                        g_autofree char *ids = rules_of(fs, W);
                        if (strcmp(ids, matrix[i].also ? matrix[i].also : matrix[i].rule) != 0)
                                g_error("%s under %s: unexpected findings: %s", matrix[i].rule,
                                        berth_profile_to_string(pr), ids);
                }
        }
}

static void test_clean_config(void) {
        g_autoptr(BerthConfig) c = cfg(BASE "[Security]\nPrivateUsers=yes\n");
        for (int pr = 0; pr < _BERTH_PROFILE_MAX; pr++) {
                g_autoptr(BerthPolicy) p = policy(pr);
                p->require_user_namespace = true;
                g_autoptr(GPtrArray) fs = eval(p, c, NOW);
                g_assert_cmpuint(fs->len, ==, 0);
                g_assert_cmpint(berth_audit_exit_code(fs), ==, 0);
                g_assert_false(berth_findings_refuse_start(fs));
                g_assert_null(berth_policy_format_refusal(p, c, fs, NOW));
        }
        /* The README's defaults without limits: warnings only. */
        g_autoptr(BerthConfig) bare = cfg("[Rootfs]\nDirectory=/srv/web\n");
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        g_autoptr(GPtrArray) fs = eval(p, bare, NOW);
        g_autofree char *ids = rules_of(fs, W);
        g_assert_cmpstr(ids, ==, "no-memory-max no-tasks-max");
        g_assert_cmpint(berth_audit_exit_code(fs), ==, 1);
        g_assert_false(berth_findings_refuse_start(fs));
        /* infinity is no limit */
        g_autoptr(BerthConfig) inf = cfg("[Rootfs]\nDirectory=/srv/web\n[Limits]\nMemoryMax=infinity\nTasksMax=infinity\n");
        g_autoptr(GPtrArray) fi = eval(p, inf, NOW);
        g_assert_cmpstr(find(fi, "no-memory-max")->value, ==, "infinity");
        g_assert_cmpstr(find(fi, "no-tasks-max")->value, ==, "infinity");
}

static void test_require_userns(void) {
        g_autoptr(BerthConfig) c = cfg(BASE);
        g_autoptr(BerthConfig) u = cfg(BASE "[Security]\nPrivateUsers=yes\n");
        for (int pr = 0; pr < _BERTH_PROFILE_MAX; pr++) {
                g_autoptr(BerthPolicy) p = policy(pr);
                p->require_user_namespace = true;
                g_autoptr(GPtrArray) fs = eval(p, c, NOW);
                const BerthFinding *f = find(fs, "no-userns");
                g_assert_nonnull(f);
                g_assert_cmpint(f->severity, ==, E);
                g_assert_cmpstr(f->section, ==, "Security");
                g_assert_cmpstr(f->key, ==, "PrivateUsers");
                g_assert_true(berth_findings_refuse_start(fs));
                g_autoptr(GPtrArray) fu = eval(p, u, NOW);
                g_assert_null(find(fu, "no-userns"));
        }
        /* an explicit PrivateUsers=no names its file */
        g_autoptr(BerthConfig) n = cfg(BASE "[Security]\nPrivateUsers=no\n");
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_BASELINE);
        p->require_user_namespace = true;
        g_autoptr(GPtrArray) fs = eval(p, n, NOW);
        g_assert_cmpstr(find(fs, "no-userns")->value, ==, "no");
        g_assert_cmpstr(find(fs, "no-userns")->file, ==, "web.conf");
}

/* Keys and files named by findings, across a drop-in. */
static void test_finding_location(void) {
        g_autoptr(BerthConfig) c = berth_config_new("web");
        g_autoptr(GError) e = NULL;
        const char *main_conf = BASE "[Security]\nHostNamespaces=ipc\nCapability=net_admin\n";
        const char *dropin = "[Security]\nHostNamespaces=pid,uts\nSystemCallAllow=keyctl\n[Network]\nMode=host\n";
        g_assert_cmpint(berth_config_load_data(c, main_conf, strlen(main_conf), "/etc/berth/containers/web.conf", &e), ==, 0);
        g_assert_cmpint(berth_config_load_data(c, dropin, strlen(dropin), "/etc/berth/containers/web.conf.d/10-debug.conf", &e), ==, 0);
        g_assert_cmpint(berth_config_finalize(c, &e), ==, 0);
        c->path = g_strdup("/etc/berth/containers/web.conf");

        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        g_autoptr(GPtrArray) fs = eval(p, c, NOW);
        const BerthFinding *f = find(fs, "host-pid");
        g_assert_cmpstr(f->file, ==, "/etc/berth/containers/web.conf.d/10-debug.conf");
        g_assert_cmpstr(f->section, ==, "Security");
        g_assert_cmpstr(f->key, ==, "HostNamespaces");
        g_assert_cmpstr(f->value, ==, "pid,uts");
        f = find(fs, "host-ipc");
        g_assert_cmpstr(f->file, ==, "/etc/berth/containers/web.conf");
        g_assert_cmpstr(f->value, ==, "ipc");
        f = find(fs, "host-net");
        g_assert_cmpstr(f->section, ==, "Network");
        g_assert_cmpstr(f->key, ==, "Mode");
        g_assert_cmpstr(f->value, ==, "host");
        f = find(fs, "dangerous-capability");
        g_assert_cmpstr(f->value, ==, "net_admin");
        g_assert_nonnull(strstr(f->message, "CAP_NET_ADMIN"));
        g_assert_cmpstr(f->file, ==, "/etc/berth/containers/web.conf");
        f = find(fs, "seccomp-reallowed");
        g_assert_cmpstr(f->value, ==, "keyctl");
        g_assert_cmpstr(f->key, ==, "SystemCallAllow");
        /* HostNamespaces=net without Mode= */
        g_autoptr(BerthConfig) n = cfg(BASE "[Security]\nHostNamespaces=net\n");
        g_autoptr(GPtrArray) fn = eval(p, n, NOW);
        g_assert_cmpstr(find(fn, "host-net")->key, ==, "HostNamespaces");
        g_assert_cmpstr(find(fn, "host-net")->value, ==, "net");
}

static void test_capabilities(void) {
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        /* one finding per capability; MKNOD and SYS_PTRACE are dangerous, a default one is nothing */
        g_autoptr(BerthConfig) c = cfg(BASE "[Security]\nCapability=mknod SYS_PTRACE,CAP_CHOWN\nCapability=CAP_SYS_NICE\n");
        g_autoptr(GPtrArray) fs = eval(p, c, NOW);
        g_assert_cmpuint(count_rule(fs, "dangerous-capability"), ==, 2);
        g_assert_cmpuint(count_rule(fs, "added-capability"), ==, 1);
        g_assert_cmpstr(find(fs, "added-capability")->value, ==, "CAP_SYS_NICE");
        static const char *const dangerous[] = { "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH",
                                                 "NET_ADMIN", "BPF", "PERFMON", "SYS_RAWIO", "SYS_TIME",
                                                 "SYS_BOOT", "MKNOD" };
        for (size_t i = 0; i < G_N_ELEMENTS(dangerous); i++) {
                g_autofree char *data = g_strdup_printf(BASE "[Security]\nCapability=%s\n", dangerous[i]);
                g_autoptr(BerthConfig) x = cfg(data);
                g_autoptr(GPtrArray) fx = eval(p, x, NOW);
                g_assert_cmpuint(count_rule(fx, "dangerous-capability"), ==, 1);
                g_assert_cmpuint(fx->len, ==, 1);
        }
        /* added then dropped: nothing */
        g_autoptr(BerthConfig) d = cfg(BASE "[Security]\nCapability=SYS_ADMIN\nCapability=\nDropCapability=NET_RAW\n");
        g_autoptr(GPtrArray) fd = eval(p, d, NOW);
        g_assert_cmpuint(fd->len, ==, 0);
}

static void test_seccomp(void) {
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        /* getpid is not on the deny list: re-allowing it lifts nothing */
        g_autoptr(BerthConfig) c = cfg(BASE "[Security]\nSystemCallAllow=getpid bpf\nSystemCallAllow=ptrace clone\n");
        g_autoptr(GPtrArray) fs = eval(p, c, NOW);
        g_assert_cmpuint(count_rule(fs, "seccomp-reallowed"), ==, 2); /* bpf, clone */
        for (guint i = 0; i < fs->len; i++) {
                const BerthFinding *f = fs->pdata[i];
                g_assert_true(g_str_has_prefix(f->message, "bpf()") || g_str_has_prefix(f->message, "clone()"));
                g_assert_true(strcmp(f->value, "getpid bpf") == 0 || strcmp(f->value, "ptrace clone") == 0);
                g_assert_cmpstr(f->file, ==, "web.conf");
        }
        /* with the filter off, only seccomp-off */
        g_autoptr(BerthConfig) o = cfg(BASE "[Security]\nSeccomp=no\nSystemCallAllow=mount\n");
        g_autoptr(GPtrArray) fo = eval(p, o, NOW);
        g_autofree char *ids = rules_of(fo, W);
        g_assert_cmpstr(ids, ==, "seccomp-off");
}

static void test_binds(void) {
        static const struct {
                const char *bind;
                const char *rules; /* sorted, space-separated */
        } cases[] = {
                { "BindReadOnly=/srv/data:/data", "" },
                { "BindReadOnly=/etc/ssl/certs", "" },
                { "BindReadOnly=/run/user/1000/app:/app", "" },
                { "Bind=/var/lib/app:/var/lib/app", "" },
                { "BindReadOnly=/:/host", "sensitive-bind" },
                { "Bind=/:/host", "sensitive-bind writable-sys" },
                { "Bind=/:/host:ro", "sensitive-bind" },
                { "BindReadOnly=/proc:/hostproc", "sensitive-bind" },
                { "Bind=/proc:/hostproc", "sensitive-bind writable-sys" },
                { "Bind=/proc/sys:/mnt/sys", "sensitive-bind writable-sys" },
                { "BindReadOnly=/proc/1/root:/mnt", "sensitive-bind" },
                { "BindReadOnly=/sys:/mnt/sys", "sensitive-bind" },
                { "Bind=/sys/fs/cgroup:/mnt/cg", "sensitive-bind writable-sys" },
                { "BindReadOnly=/dev:/mnt/dev", "sensitive-bind" },
                { "Bind=/dev/kvm", "device-node" },
                { "Bind=/dev/dri:/dev/dri", "device-node" },
                { "Bind=/var/run/docker.sock:/var/run/docker.sock", "sensitive-bind" },
                { "BindReadOnly=/run/docker.sock", "sensitive-bind" },
                { "Bind=//run///dbus/:/run/dbus", "sensitive-bind" },
                { "Bind=/var/run/dbus/system_bus_socket:/run/bus", "sensitive-bind" },
                { "BindReadOnly=/run:/hostrun", "sensitive-bind" },
                { "BindReadOnly=/var:/hostvar", "sensitive-bind" },
                { "Bind=/run/berth/other/rootfs:/mnt", "sensitive-bind" },
                { "Bind=/var/run/berth:/mnt", "sensitive-bind" },
                { "Bind=/var/lib/berth/containers/db/upper:/mnt", "sensitive-bind" },
                { "BindReadOnly=/etc:/hostetc", "sensitive-bind" },
                { "BindReadOnly=/etc/shadow:/etc/shadow", "sensitive-bind" },
                { "BindReadOnly=/etc/berth/policy.conf:/p", "sensitive-bind" },
                { "BindReadOnly=/boot:/boot", "sensitive-bind" },
                { "BindReadOnly=/lib/modules:/lib/modules", "sensitive-bind" },
                { "BindReadOnly=/lib/modules/6.1.0-13-amd64:/m", "sensitive-bind" },
                { "BindReadOnly=/usr:/usr", "sensitive-bind" },
                { "Bind=/run/systemd/private:/x", "sensitive-bind" },
                { "BindReadOnly=/root/.ssh:/keys", "sensitive-bind" },
        };
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *data = g_strdup_printf(BASE "[Files]\n%s\n", cases[i].bind);
                g_autoptr(BerthConfig) c = cfg(data);
                g_autoptr(GPtrArray) fs = eval(p, c, NOW);
                g_autofree char *ids = rules_of(fs, W);
                if (g_test_verbose())
                        for (guint k = 0; k < fs->len; k++)
                                g_printerr("%s -> %s: %s\n", cases[i].bind, ((BerthFinding *) fs->pdata[k])->rule,
                                           ((BerthFinding *) fs->pdata[k])->message);
                if (strcmp(ids, cases[i].rules) != 0)
                        g_error("%s: expected \"%s\", got \"%s\"", cases[i].bind, cases[i].rules, ids);
                for (guint k = 0; k < fs->len; k++) {
                        const BerthFinding *f = fs->pdata[k];
                        g_assert_cmpstr(f->section, ==, "Files");
                        g_assert_true(g_str_has_prefix(cases[i].bind, f->key) && cases[i].bind[strlen(f->key)] == '=');
                        g_assert_cmpstr(f->value, ==, strchr(cases[i].bind, '=') + 1);
                }
        }

        /* symlinks and device nodes on this host, when the policy resolves paths */
        g_autoptr(GError) e = NULL;
        g_autofree char *dir = g_dir_make_tmp("berth-policy-XXXXXX", &e);
        g_assert_no_error(e);
        g_autofree char *to_root = g_build_filename(dir, "root", NULL);
        g_autofree char *to_null = g_build_filename(dir, "null", NULL);
        g_assert_cmpint(symlink("/", to_root), ==, 0);
        g_assert_cmpint(symlink("/dev/null", to_null), ==, 0);
        g_autofree char *data = g_strdup_printf(BASE "[Files]\nBindReadOnly=%s:/a\nBindReadOnly=%s:/b\n", to_root, to_null);
        g_autoptr(BerthConfig) c = cfg(data);
        g_autoptr(GPtrArray) plain = eval(p, c, NOW);
        g_assert_cmpuint(plain->len, ==, 0);
        p->resolve_host_paths = true;
        g_autoptr(GPtrArray) real = eval(p, c, NOW);
        g_autofree char *ids = rules_of(real, W);
        g_assert_cmpstr(ids, ==, "device-node sensitive-bind");
        g_assert_nonnull(strstr(find(real, "sensitive-bind")->message, "(= /)"));
        rm_rf(dir);
}

/* ---------------------------------------------------------------------------------------------- */
/* Exceptions: parsing */

#define EXC(rule, just, exp) "[Exception:" rule "]\nJustification=" just "\nExpires=" exp "\n"

static void test_exception_parse(void) {
        g_autoptr(BerthConfig) c = cfg(BASE "[Security]\nHostNamespaces=pid\n" EXC("host-pid", "debugging INC-1234", "2026-12-15"));
        g_assert_cmpuint(c->exceptions->len, ==, 1);
        const BerthException *x = berth_config_find_exception(c, "host-pid");
        g_assert_nonnull(x);
        g_assert_cmpstr(x->rule, ==, "host-pid");
        g_assert_cmpstr(x->justification, ==, "debugging INC-1234");
        g_assert_cmpstr(x->expires, ==, "2026-12-15");
        g_assert_cmpuint(x->expires_usec, ==, T("2026-12-16T00:00:00Z"));
        g_assert_cmpstr(x->file, ==, "web.conf");
        g_assert_null(berth_config_find_exception(c, "host-net"));

        /* sources for `berthctl cat` */
        bool seen = false;
        for (guint i = 0; i < c->sources->len; i++) {
                const BerthConfigSource *s = c->sources->pdata[i];
                if (strcmp(s->section, "Exception:host-pid") == 0 && strcmp(s->key, "Expires") == 0)
                        seen = strcmp(s->value, "2026-12-15") == 0;
        }
        g_assert_true(seen);

        CFG_FAILS(BASE "[Exception:host-pid]\nExpires=2026-12-15\n", "web.conf", "[Exception:host-pid]",
                  "Justification=", "missing");
        CFG_FAILS(BASE "[Exception:host-pid]\nJustification=\nExpires=2026-12-15\n", "Justification=", "missing");
        CFG_FAILS(BASE "[Exception:host-pid]\nJustification=x\n", "web.conf", "[Exception:host-pid] Expires=", "missing");
        CFG_FAILS(BASE EXC("host-pid", "x", "15.12.2026"), "web.conf", "[Exception:host-pid] Expires=15.12.2026",
                  "invalid date");
        CFG_FAILS(BASE EXC("host-pid", "x", "2026-12-15T10:00"), "needs a time zone");
        CFG_FAILS(BASE EXC("host-pid", "x", "2026-02-30"), "no such day");
        CFG_FAILS(BASE EXC("host-pidd", "x", "2026-12-15"), "web.conf", "[Exception:host-pidd]", "unknown rule \"host-pidd\"",
                  "host-pid, host-net");
        CFG_FAILS(BASE EXC("exception-expiring", "x", "2026-12-15"), "[Exception:exception-expiring]", "cannot be waived");
        CFG_FAILS(BASE EXC("drift-namespace", "x", "2026-12-15"), "cannot be waived");
        CFG_FAILS(BASE "[Exception]\nJustification=x\nExpires=2026-12-15\n", "web.conf", "[Exception]", "names the rule");
        CFG_FAILS(BASE "[Exception:]\nJustification=x\nExpires=2026-12-15\n", "[Exception:]", "names the rule");
        /* an empty section for an unknown rule is still an error */
        CFG_FAILS(BASE "[Exception:nonsense]\n", "unknown rule");
        CFG_FAILS(BASE "[Exception:host-pid]\nJustification=a\x01b\nExpires=2026-12-15\n", "control character");

        /* unknown key: a warning with a hint, and the exception is then incomplete */
        g_autoptr(BerthConfig) w = cfg(BASE "[Exception:host-pid]\nJustification=x\nExpires=2026-12-15\nexpires=2027-01-01\nOwner=me\n");
        g_assert_cmpuint(w->warnings->len, ==, 2);
        g_assert_nonnull(strstr(w->warnings->pdata[0], "did you mean Expires=?"));

        /* a drop-in replaces keys and empty assignments withdraw the exception */
        g_autoptr(BerthConfig) d = berth_config_new("web");
        g_autoptr(GError) e = NULL;
        const char *a = BASE EXC("host-pid", "first", "2026-12-10") EXC("host-ipc", "ipc", "2026-12-10");
        const char *b = "[Exception:host-pid]\nExpires=2026-12-12\n[Exception:host-ipc]\nJustification=\nExpires=\n";
        g_assert_cmpint(berth_config_load_data(d, a, strlen(a), "web.conf", &e), ==, 0);
        g_assert_cmpint(berth_config_load_data(d, b, strlen(b), "web.conf.d/10.conf", &e), ==, 0);
        g_assert_cmpint(berth_config_finalize(d, &e), ==, 0);
        g_assert_no_error(e);
        g_assert_cmpuint(d->exceptions->len, ==, 1);
        x = berth_config_find_exception(d, "host-pid");
        g_assert_cmpstr(x->justification, ==, "first");
        g_assert_cmpstr(x->expires, ==, "2026-12-12");
        g_assert_cmpstr(x->file, ==, "web.conf.d/10.conf");

        /* berth_config_set (transient containers, set-property) */
        g_autoptr(BerthConfig) s = berth_config_new("web");
        g_assert_cmpint(berth_config_set(s, "Rootfs", "Directory", "/srv", "bus", &e), ==, 0);
        g_assert_cmpint(berth_config_set(s, NULL, "Exception:host-net.Justification", "tcpdump on the host", "bus", &e), ==, 0);
        g_assert_cmpint(berth_config_set(s, "Exception:host-net", "Expires", "2026-12-03T08:00:00+01:00", "bus", &e), ==, 0);
        g_assert_cmpint(berth_config_finalize(s, &e), ==, 0);
        g_assert_cmpuint(berth_config_find_exception(s, "host-net")->expires_usec, ==, T("2026-12-03T07:00:00Z"));
        g_assert_cmpint(berth_config_set(s, "Exception:bogus", "Expires", "2026-12-03", "bus", &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e->message, "unknown rule"));
        g_clear_error(&e);
        g_assert_cmpint(berth_config_set(s, "Exception:host-net", "Expires", "soon", "bus", &e), ==, -EINVAL);
        g_clear_error(&e);
}

/* ---------------------------------------------------------------------------------------------- */
/* Dates */

static void check_dates(void) {
        static const struct {
                const char *in, *utc; /* utc NULL: invalid */
        } cases[] = {
                { "2026-12-15", "2026-12-16T00:00:00Z" },
                { "2026-12-31", "2027-01-01T00:00:00Z" },
                { "2028-02-29", "2028-03-01T00:00:00Z" },
                { "2000-02-29", "2000-03-01T00:00:00Z" },
                { "1970-01-01", "1970-01-02T00:00:00Z" },
                { "2026-12-15T18:00:00Z", "2026-12-15T18:00:00Z" },
                { "2026-12-15t18:00z", "2026-12-15T18:00:00Z" },
                { "2026-12-15 18:00:00Z", "2026-12-15T18:00:00Z" },
                { "2026-12-15T23:59:59+14:00", "2026-12-15T09:59:59Z" },
                { "2026-12-15T00:00:00-12:00", "2026-12-15T12:00:00Z" },
                { "2026-12-15T20:00:00-12:00", "2026-12-16T08:00:00Z" },
                { "2026-12-15T18:00:00+05:30", "2026-12-15T12:30:00Z" },
                { "2026-12-15T18:00:00+0530", "2026-12-15T12:30:00Z" },
                { "2026-12-15T18:00:00+05", "2026-12-15T13:00:00Z" },
                { "2026-12-15T18:00:00-00:00", "2026-12-15T18:00:00Z" },
                { "2026-01-01T01:00:00+14:00", "2025-12-31T11:00:00Z" },
                { "2026-12-15T18:00:00.750Z", NULL }, /* checked below: fractions */
                { "2026-12-15T18:00:00+14:01", NULL },
                { "2026-12-15T18:00:00+15:00", NULL },
                { "2026-12-15T18:00:00-12:30", NULL },
                { "2026-12-15T18:00:00-13:00", NULL },
                { "2026-12-15T18:00:00+05:60", NULL },
                { "2026-12-15T24:00:00Z", NULL },
                { "2026-12-15T23:60:00Z", NULL },
                { "2026-12-15T23:59:60Z", NULL },
                { "2026-12-15T10:00", NULL },
                { "2026-12-15T10:00:00", NULL },
                { "2026-12-15T10Z", NULL },
                { "2026-02-29", NULL },
                { "1900-02-29", NULL },
                { "2026-13-01", NULL },
                { "2026-00-10", NULL },
                { "2026-12-32", NULL },
                { "2026-12-00", NULL },
                { "2026-12-5", NULL },
                { "26-12-15", NULL },
                { "2026/12/15", NULL },
                { "15.12.2026", NULL },
                { "1969-12-31", NULL },
                { "1970-01-01T00:00:00+01:00", NULL },
                { "2026-12-15 ", NULL },
                { " 2026-12-15", NULL },
                { "2026-12-15Z", NULL },
                { "tomorrow", NULL },
                { "", NULL },
                { "+10000-01-01", NULL },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                uint64_t u = 0;
                g_autofree char *reason = NULL;
                int r = berth_parse_expiry(cases[i].in, &u, &reason);
                if (!cases[i].utc) {
                        if (strstr(cases[i].in, ".750"))
                                continue;
                        if (r >= 0)
                                g_error("\"%s\" should be invalid", cases[i].in);
                        g_assert_nonnull(reason);
                        continue;
                }
                if (r < 0)
                        g_error("\"%s\": %s", cases[i].in, reason);
                /* compare with glib's own reading of the UTC form */
                g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(cases[i].utc, NULL);
                g_assert_nonnull(dt);
                g_assert_cmpuint(u, ==, (uint64_t) g_date_time_to_unix(dt) * USEC);
        }
        uint64_t u;
        g_assert_cmpint(berth_parse_expiry("2026-12-15T18:00:00.750Z", &u, NULL), ==, 0);
        g_assert_cmpuint(u, ==, T("2026-12-15T18:00:00Z") + 750000);
        g_assert_cmpint(berth_parse_expiry("2026-12-15T18:00:00,5+01:00", &u, NULL), ==, 0);
        g_assert_cmpuint(u, ==, T("2026-12-15T17:00:00Z") + 500000);
        g_assert_cmpint(berth_parse_expiry(NULL, &u, NULL), ==, -EINVAL);

        g_autofree char *a = berth_format_timestamp_utc(T("2026-12-15"));
        g_assert_cmpstr(a, ==, "2026-12-15T23:59:59Z");
        g_autofree char *b = berth_format_timestamp_utc(T("2026-12-15T18:00:00+14:00"));
        g_assert_cmpstr(b, ==, "2026-12-15T04:00:00Z");
}

static void set_tz(const char *tz) {
        if (tz)
                g_setenv("TZ", tz, TRUE);
        else
                g_unsetenv("TZ");
        tzset();
}

/* The same results whatever the local time zone of the evaluating process. */
static void test_dates_time_zones(void) {
        static const char *const zones[] = { NULL, "UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Etc/GMT-14",
                                             "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
                                             "<-12>12", "<+14>-14", "garbage/zone" };
        const char *old = g_getenv("TZ");
        g_autofree char *saved = old ? g_strdup(old) : NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(zones); i++) {
                set_tz(zones[i]);
                check_dates();
                /* and the expiry around the clock, evaluated under that zone */
                g_autoptr(BerthConfig) c = cfg(BASE "[Security]\nHostNamespaces=pid\n" EXC("host-pid", "x", "2026-12-15"));
                g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
                g_autoptr(GPtrArray) before = eval(p, c, T("2026-12-15T23:59:59Z"));
                g_autoptr(GPtrArray) after = eval(p, c, T("2026-12-15T23:59:59Z") + USEC);
                g_assert_false(berth_findings_refuse_start(before));
                g_assert_true(berth_findings_refuse_start(after));
        }
        set_tz(saved);
}

/* ---------------------------------------------------------------------------------------------- */
/* Exceptions: evaluation */

static void test_exception_waives(void) {
        g_autoptr(BerthConfig) c = cfg(BASE "[Security]\nHostNamespaces=pid\nCapability=SYS_PTRACE NET_ADMIN\n"
                                       EXC("host-pid", "debugging INC-1234", "2026-12-20")
                                       EXC("dangerous-capability", "strace in the container, INC-1234", "2026-12-20"));
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        g_autoptr(GPtrArray) fs = eval(p, c, NOW);
        const BerthFinding *f = find(fs, "host-pid");
        g_assert_nonnull(f);
        g_assert_cmpint(f->severity, ==, BERTH_SEVERITY_INFO);
        g_assert_cmpint(f->rule_severity, ==, E);
        g_assert_nonnull(f->waived_by);
        g_assert_cmpstr(f->waived_by->justification, ==, "debugging INC-1234");
        g_assert_null(f->rejected_exception);
        g_assert_nonnull(strstr(f->message, "waived by [Exception:host-pid]"));
        g_assert_cmpuint(count_rule(fs, "dangerous-capability"), ==, 2);
        g_assert_false(berth_findings_refuse_start(fs));
        g_assert_cmpint(berth_audit_exit_code(fs), ==, 0);
        g_assert_null(berth_policy_format_refusal(p, c, fs, NOW));

        g_autoptr(GPtrArray) w = berth_findings_active_waivers(fs);
        g_assert_cmpuint(w->len, ==, 2);
        g_assert_cmpstr(((BerthException *) w->pdata[0])->rule, ==, "host-pid");
        g_assert_cmpstr(((BerthException *) w->pdata[1])->rule, ==, "dangerous-capability");
        g_autofree char *ws = berth_waivers_to_string(w);
        g_assert_cmpstr(ws, ==, "host-pid: debugging INC-1234 (expires 2026-12-20); "
                                "dangerous-capability: strace in the container, INC-1234 (expires 2026-12-20)");
        g_assert_cmpuint(strlen(BERTH_MESSAGE_STARTED_WITH_EXCEPTIONS_STR), ==, 32);

        /* an exception waives a warning too; a rule that is off needs none and reports nothing */
        g_autoptr(BerthConfig) u = cfg(BASE "[Security]\nHostNamespaces=uts\n" EXC("host-uts", "legacy app", "2026-12-20"));
        g_autoptr(BerthPolicy) b = policy(BERTH_PROFILE_BASELINE);
        g_autoptr(GPtrArray) fu = eval(b, u, NOW);
        g_assert_cmpuint(fu->len, ==, 1);
        g_assert_cmpint(find(fu, "host-uts")->severity, ==, BERTH_SEVERITY_INFO);
        g_autoptr(BerthConfig) m = cfg("[Rootfs]\nDirectory=/srv\n" EXC("no-memory-max", "batch job", "2026-12-20"));
        g_autoptr(BerthPolicy) pv = policy(BERTH_PROFILE_PRIVILEGED);
        g_autoptr(GPtrArray) fm = eval(pv, m, NOW);
        g_assert_cmpuint(fm->len, ==, 0);
}

static void test_exception_expiry(void) {
        g_autoptr(BerthConfig) c = cfg(BASE "[Security]\nHostNamespaces=pid\n" EXC("host-pid", "debugging INC-1234", "2026-12-15"));
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        uint64_t end = T("2026-12-16T00:00:00Z");

        /* one second before the end of 2026-12-15 UTC: still valid, and expiring (warning) */
        g_autoptr(GPtrArray) before = eval(p, c, end - USEC);
        g_assert_false(berth_findings_refuse_start(before));
        g_assert_cmpint(find(before, "host-pid")->severity, ==, BERTH_SEVERITY_INFO);
        g_assert_nonnull(find(before, "exception-expiring"));
        g_assert_cmpint(find(before, "exception-expiring")->severity, ==, W);
        g_assert_cmpint(berth_audit_exit_code(before), ==, 1);

        /* at the end and one second after: refused, the message says which exception expired and when */
        for (uint64_t now = end; now <= end + USEC; now += USEC) {
                g_autoptr(GPtrArray) after = eval(p, c, now);
                g_assert_true(berth_findings_refuse_start(after));
                const BerthFinding *f = find(after, "host-pid");
                g_assert_cmpint(f->severity, ==, E);
                g_assert_null(f->waived_by);
                g_assert_nonnull(f->rejected_exception);
                g_assert_cmpstr(f->rejected_exception->expires, ==, "2026-12-15");
                g_assert_nonnull(strstr(f->message, "[Exception:host-pid] in web.conf expired on 2026-12-15 "
                                                    "(end of day UTC, 2026-12-15T23:59:59Z)"));
                g_assert_null(find(after, "exception-expiring"));
                g_assert_cmpint(berth_audit_exit_code(after), ==, 2);
                g_autoptr(GPtrArray) w = berth_findings_active_waivers(after);
                g_assert_cmpuint(w->len, ==, 0);
                g_autofree char *msg = berth_policy_format_refusal(p, c, after, now);
                g_assert_nonnull(strstr(msg, "expired on 2026-12-15"));
        }

        /* the 7-day window: 7 days before the end warns, 7 days and a second does not */
        g_autoptr(GPtrArray) at7 = eval(p, c, end - 7 * DAY);
        g_assert_nonnull(find(at7, "exception-expiring"));
        g_autoptr(GPtrArray) at8 = eval(p, c, end - 7 * DAY - USEC);
        g_assert_null(find(at8, "exception-expiring"));
        g_assert_cmpint(berth_audit_exit_code(at8), ==, 0);

        /* an offset expiry, one second around */
        g_autoptr(BerthConfig) o = cfg(BASE "[Security]\nHostNamespaces=pid\n"
                                       EXC("host-pid", "x", "2026-12-15T18:00:00+14:00"));
        uint64_t t = T("2026-12-15T04:00:00Z");
        g_autoptr(GPtrArray) ob = eval(p, o, t - USEC);
        g_autoptr(GPtrArray) oa = eval(p, o, t + USEC);
        g_assert_false(berth_findings_refuse_start(ob));
        g_assert_true(berth_findings_refuse_start(oa));
        g_autoptr(BerthConfig) m = cfg(BASE "[Security]\nHostNamespaces=pid\n"
                                       EXC("host-pid", "x", "2026-12-15T18:00:00-12:00"));
        t = T("2026-12-16T06:00:00Z");
        g_autoptr(GPtrArray) mb = eval(p, m, t - USEC);
        g_autoptr(GPtrArray) ma = eval(p, m, t + USEC);
        g_assert_false(berth_findings_refuse_start(mb));
        g_assert_true(berth_findings_refuse_start(ma));
}

static void test_exception_max_days(void) {
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        /* NOW = 2026-12-01T12:00Z; 30 days -> 2026-12-31 is the last accepted day */
        g_autoptr(BerthConfig) ok = cfg(BASE "[Security]\nHostNamespaces=pid\n" EXC("host-pid", "x", "2026-12-31"));
        g_autoptr(BerthConfig) ok2 = cfg(BASE "[Security]\nHostNamespaces=pid\n" EXC("host-pid", "x", "2026-12-31T23:59:59-00:00"));
        g_autoptr(BerthConfig) far = cfg(BASE "[Security]\nHostNamespaces=pid\n" EXC("host-pid", "x", "2027-01-01"));
        g_autoptr(BerthConfig) far2 = cfg(BASE "[Security]\nHostNamespaces=pid\n" EXC("host-pid", "x", "2026-12-31T23:59:59-01:00"));
        g_autoptr(GPtrArray) fo = eval(p, ok, NOW);
        g_autoptr(GPtrArray) fo2 = eval(p, ok2, NOW);
        g_autoptr(GPtrArray) ff = eval(p, far, NOW);
        g_autoptr(GPtrArray) ff2 = eval(p, far2, NOW);
        g_assert_false(berth_findings_refuse_start(fo));
        g_assert_false(berth_findings_refuse_start(fo2));
        g_assert_true(berth_findings_refuse_start(ff));
        g_assert_true(berth_findings_refuse_start(ff2));
        const BerthFinding *f = find(ff, "host-pid");
        g_assert_nonnull(f->rejected_exception);
        g_assert_nonnull(strstr(f->message, "more than 30 days away"));
        g_assert_nonnull(strstr(f->fix, "at most 30 days"));

        /* a policy with a shorter maximum, and one that accepts none */
        p->max_exception_days = 10;
        g_autoptr(GPtrArray) f10 = eval(p, ok, NOW);
        g_assert_true(berth_findings_refuse_start(f10));
        g_assert_nonnull(strstr(find(f10, "host-pid")->message, "more than 10 days"));
        p->max_exception_days = 0;
        g_autoptr(GPtrArray) f0 = eval(p, ok, NOW);
        g_assert_true(berth_findings_refuse_start(f0));
        g_assert_nonnull(strstr(find(f0, "host-pid")->message, "MaxExceptionDays=0"));
        g_autofree char *msg = berth_policy_format_refusal(p, ok, f0, NOW);
        g_assert_nonnull(strstr(msg, "accepts no exceptions"));
}

static void test_exception_unused(void) {
        g_autoptr(BerthConfig) c = cfg(BASE EXC("host-net", "was needed once", "2026-12-20"));
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        g_autoptr(GPtrArray) fs = eval(p, c, NOW);
        const BerthFinding *f = find(fs, "exception-unused");
        g_assert_nonnull(f);
        g_assert_cmpint(f->severity, ==, W);
        g_assert_cmpstr(f->section, ==, "Exception:host-net");
        g_assert_cmpint(berth_audit_exit_code(fs), ==, 1);
        g_assert_false(berth_findings_refuse_start(fs));
        /* a policy override silences it */
        p->overrides[berth_policy_rule_lookup("exception-unused") - berth_policy_rules(NULL)] = BERTH_SEVERITY_OFF;
        g_autoptr(GPtrArray) f2 = eval(p, c, NOW);
        g_assert_cmpuint(f2->len, ==, 0);
}

/* ---------------------------------------------------------------------------------------------- */
/* policy.conf */

static BerthPolicy *policy_ok(const char *data) {
        BerthPolicy *p = NULL;
        g_autoptr(GError) e = NULL;
        if (berth_policy_load_data(data, strlen(data), "policy.conf", &p, &e) < 0)
                g_error("policy does not load: %s", e->message);
        return p;
}

static void policy_fails(const char *data, const char *const *needles) {
        g_autoptr(BerthPolicy) p = NULL;
        g_autoptr(GError) e = NULL;
        int r = berth_policy_load_data(data, strlen(data), "policy.conf", &p, &e);
        if (r >= 0)
                g_error("expected a policy error for:\n%s", data);
        g_assert_cmpint(r, ==, -EINVAL);
        g_assert_null(p);
        g_assert_cmpint(e->code, ==, EINVAL);
        for (const char *const *n = needles; *n; n++)
                if (!strstr(e->message, *n))
                        g_error("error \"%s\" does not contain \"%s\"", e->message, *n);
}
#define POLICY_FAILS(data, ...) policy_fails(data, (const char *const[]) { "policy.conf", __VA_ARGS__, NULL })

static void test_policy_conf(void) {
        g_autoptr(BerthPolicy) d = policy_ok("");
        g_assert_cmpint(d->profile, ==, BERTH_PROFILE_RESTRICTED);
        g_assert_cmpuint(d->max_exception_days, ==, 30);
        g_assert_false(d->require_user_namespace);

        g_autoptr(BerthPolicy) p = policy_ok("# host policy\n[Policy]\nProfile=baseline\nMaxExceptionDays=14\n"
                                             "RequireUserNamespace=yes\n\n[Rules]\nhost-uts=error\n"
                                             "no-memory-max=off\nhost-pid = warning\n");
        g_assert_cmpint(p->profile, ==, BERTH_PROFILE_BASELINE);
        g_assert_cmpuint(p->max_exception_days, ==, 14);
        g_assert_true(p->require_user_namespace);
        g_assert_cmpstr(p->path, ==, "policy.conf");
        g_assert_cmpint(berth_policy_rule_severity(p, "host-uts"), ==, E);
        g_assert_cmpint(berth_policy_rule_severity(p, "host-pid"), ==, W);
        g_assert_cmpint(berth_policy_rule_severity(p, "no-memory-max"), ==, O);
        g_assert_cmpint(berth_policy_rule_severity(p, "no-userns"), ==, E);
        g_assert_cmpint(berth_policy_rule_severity(p, "host-cgroup"), ==, W);
        g_assert_cmpint(berth_policy_rule_severity(p, "nope"), ==, O);

        g_autoptr(BerthPolicy) z = policy_ok("[Policy]\nMaxExceptionDays=0\nProfile=privileged\n");
        g_assert_cmpuint(z->max_exception_days, ==, 0);
        g_assert_cmpint(z->profile, ==, BERTH_PROFILE_PRIVILEGED);

        POLICY_FAILS("[Policy]\nProfile=strict\n", "[Policy] Profile=strict", "unknown profile");
        POLICY_FAILS("[Policy]\nProfile=\n", "[Policy] Profile=", "unknown profile");
        POLICY_FAILS("[Policy]\nProfil=privileged\n", "[Policy] Profil=", "unknown key");
        POLICY_FAILS("[Policy]\nRequireUserNamespce=yes\n", "unknown key");
        POLICY_FAILS("[Policy]\nRequireUserNamespace=maybe\n", "RequireUserNamespace=maybe", "invalid boolean");
        POLICY_FAILS("[Policy]\nMaxExceptionDays=-1\n", "MaxExceptionDays=-1", "invalid number of days");
        POLICY_FAILS("[Policy]\nMaxExceptionDays=30d\n", "MaxExceptionDays=30d");
        POLICY_FAILS("[Policy]\nMaxExceptionDays=3651\n", "MaxExceptionDays=3651");
        POLICY_FAILS("[Policy]\nMaxExceptionDays=99999999999999999999999\n", "invalid number of days");
        POLICY_FAILS("[Policy]\nMaxExceptionDays=\n", "invalid number of days");
        POLICY_FAILS("[Rules]\nhost-pidd=error\n", "[Rules] host-pidd=error", "unknown rule");
        POLICY_FAILS("[Rules]\nhost-pid=fatal\n", "[Rules] host-pid=fatal", "invalid severity");
        POLICY_FAILS("[Rules]\nhost-pid=info\n", "invalid severity");
        POLICY_FAILS("[Profile]\nName=baseline\n", "[Profile]", "unknown section");
        POLICY_FAILS("Profile=baseline\n", "syntax error");
        POLICY_FAILS("[Policy\nProfile=baseline\n", "syntax error");
        POLICY_FAILS("[Policy]\ngarbage line\n", "syntax error");

        /* files */
        g_autoptr(GError) e = NULL;
        g_autofree char *dir = g_dir_make_tmp("berth-policy-XXXXXX", &e);
        g_assert_no_error(e);
        g_autofree char *good = write_tmp(dir, "policy.conf", "[Policy]\nProfile=baseline\n");
        g_autoptr(BerthPolicy) fp = NULL;
        g_assert_cmpint(berth_policy_load(good, &fp, &e), ==, 0);
        g_assert_cmpstr(fp->path, ==, good);
        g_assert_cmpint(fp->profile, ==, BERTH_PROFILE_BASELINE);
        g_autofree char *missing = g_build_filename(dir, "missing.conf", NULL);
        g_autoptr(BerthPolicy) mp = NULL;
        g_assert_cmpint(berth_policy_load(missing, &mp, &e), ==, -ENOENT);
        g_assert_nonnull(strstr(e->message, "missing.conf"));
        g_clear_error(&e);
        g_autoptr(BerthPolicy) dp = NULL;
        g_assert_cmpint(berth_policy_load(dir, &dp, &e), <, 0); /* a directory */
        g_clear_error(&e);
        if (!g_file_test(BERTH_POLICY_PATH, G_FILE_TEST_EXISTS)) {
                g_autoptr(BerthPolicy) def = NULL;
                g_assert_cmpint(berth_policy_load(NULL, &def, &e), ==, 0);
                g_assert_cmpint(def->profile, ==, BERTH_PROFILE_RESTRICTED);
                g_assert_null(def->path);
        }
        rm_rf(dir);
}

/* ---------------------------------------------------------------------------------------------- */
/* The refusal message and the formatters */

static void test_refusal(void) {
        g_autoptr(BerthConfig) c = cfg(BASE "[Security]\nHostNamespaces=pid\n");
        g_free(c->path);
        c->path = g_strdup("/etc/berth/containers/web.conf");
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        g_autoptr(GPtrArray) fs = eval(p, c, NOW);
        g_autofree char *msg = berth_policy_format_refusal(p, c, fs, NOW);
        g_assert_nonnull(msg);
        if (g_test_verbose())
                g_printerr("%s\n", msg);
        static const char *const needles[] = {
                "Refusing to start container \"web\"",
                "profile restricted",
                "host-pid: web.conf: [Security] HostNamespaces=pid",
                "shares the host's PID namespace",
                "fix: remove \"pid\" from [Security] HostNamespaces=",
                "[Exception:host-pid]\n    Justification=",
                "Expires=2026-12-08\n",          /* NOW + 7 days */
                "/etc/berth/containers/web.conf",
                "at most 30 days away",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(needles); i++)
                if (!strstr(msg, needles[i]))
                        g_error("refusal does not contain \"%s\":\n%s", needles[i], msg);
        g_assert_false(g_str_has_suffix(msg, "\n"));

        /* with MaxExceptionDays below 7 the example stays within the limit */
        p->max_exception_days = 3;
        g_autofree char *m3 = berth_policy_format_refusal(p, c, fs, NOW);
        g_assert_nonnull(strstr(m3, "Expires=2026-12-04\n"));
}

static void test_formatters(void) {
        g_autoptr(BerthConfig) c = cfg(BASE "[Container]\nDescription=say \"hi\"\\n\n[Security]\nHostNamespaces=pid\n"
                                       "NoNewPrivileges=no\n" EXC("host-pid", "ticket \"INC-1\" \\ back", "2026-12-05"));
        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        g_autoptr(GPtrArray) fs = eval(p, c, NOW);
        g_assert_cmpint(berth_audit_exit_code(fs), ==, 2);

        g_autofree char *text = berth_findings_format_text(fs);
        if (g_test_verbose())
                g_printerr("%s", text);
        g_assert_nonnull(strstr(text, "web.conf: [Security] HostNamespaces=pid: info: host-pid (waived):"));
        g_assert_nonnull(strstr(text, "web.conf: [Security] NoNewPrivileges=no: error: no-new-privileges-off:"));
        g_assert_nonnull(strstr(text, "  fix: remove [Security] NoNewPrivileges=no\n"));
        g_assert_nonnull(strstr(text, "exception-expiring"));
        g_assert_true(g_str_has_suffix(text, "1 error, 1 warning, 1 info\n"));

        g_autofree char *json = berth_findings_format_json(fs);
        if (g_test_verbose())
                g_printerr("%s\n", json);
        g_assert_true(g_str_has_prefix(json, "{\"findings\":[{\"rule\":\"host-pid\",\"severity\":\"info\""));
        g_assert_nonnull(strstr(json, "\"justification\":\"ticket \\\"INC-1\\\" \\\\ back\""));
        g_assert_nonnull(strstr(json, "\"expires_utc\":\"2026-12-05T23:59:59Z\""));
        g_assert_true(g_str_has_suffix(json, "\"errors\":1,\"warnings\":1,\"info\":1,\"exit_code\":2}"));

        /* a real JSON parser agrees, when one is around */
        g_autofree char *py = g_find_program_in_path("python3");
        if (py) {
                g_autoptr(GError) e = NULL;
                g_autofree char *out = NULL;
                int status = 0;
                const char *argv[] = { py, "-c",
                                       "import json,sys; d=json.loads(sys.argv[1]); "
                                       "print(d['findings'][0]['waived_by']['justification'], d['exit_code'])",
                                       json, NULL };
                g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                                           &status, &e));
                g_assert_no_error(e);
                g_assert_cmpint(status, ==, 0);
                g_assert_cmpstr(out, ==, "ticket \"INC-1\" \\ back 2\n");
        }

        /* control characters in any field */
        g_autoptr(GPtrArray) odd = berth_findings_new();
        BerthFinding *f = g_new0(BerthFinding, 1);
        f->rule = g_strdup("config-invalid");
        f->severity = f->rule_severity = BERTH_SEVERITY_ERROR;
        f->message = g_strdup("line\nbreak\ttab\x01" "ctl\x7f \xc3\xa9");
        g_ptr_array_add(odd, f);
        g_autofree char *oj = berth_findings_format_json(odd);
        g_assert_nonnull(strstr(oj, "\"message\":\"line\\nbreak\\ttab\\u0001ctl\\u007f \xc3\xa9\""));
        g_assert_nonnull(strstr(oj, "\"file\":null"));

        g_autoptr(GPtrArray) empty = berth_findings_new();
        g_autofree char *ej = berth_findings_format_json(empty);
        g_assert_cmpstr(ej, ==, "{\"findings\":[],\"errors\":0,\"warnings\":0,\"info\":0,\"exit_code\":0}");
        g_autofree char *et = berth_findings_format_text(empty);
        g_assert_cmpstr(et, ==, "0 errors, 0 warnings, 0 info\n");
        g_assert_cmpint(berth_audit_exit_code(NULL), ==, 0);
}

/* ---------------------------------------------------------------------------------------------- */
/* Config repository lint: tests/unit/policy-corpus/<name>.conf, each starting with
 *   # expect-exit: N
 *   # expect-rules: RULE... (the set of non-info findings; "-" for none)
 *   # expect-waived: RULE... (optional)
 *   # expect-message: TEXT (optional, repeatable)
 * evaluated at the test clock under the default restricted policy. */

static void test_corpus(void) {
        const char *dir = TEST_SRCDIR "/policy-corpus";
        g_autoptr(GError) e = NULL;
        GDir *d = g_dir_open(dir, 0, &e);
        g_assert_no_error(e);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *entry;
        while ((entry = g_dir_read_name(d)))
                if (g_str_has_suffix(entry, ".conf"))
                        g_ptr_array_add(names, g_strdup(entry));
        g_dir_close(d);
        g_ptr_array_sort(names, compare_strp);
        g_assert_cmpuint(names->len, >=, 10);

        g_autoptr(BerthPolicy) p = policy(BERTH_PROFILE_RESTRICTED);
        g_autoptr(GPtrArray) all = berth_findings_new();
        int clean = 0, warn = 0, err = 0;
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
                g_autofree char *data = NULL;
                g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
                int want_exit = -1;
                g_autofree char *want_rules = NULL, *want_waived = g_strdup("");
                g_autoptr(GPtrArray) want_msgs = g_ptr_array_new_with_free_func(g_free);
                g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
                for (char **l = lines; *l && g_str_has_prefix(*l, "# expect-"); l++) {
                        if (g_str_has_prefix(*l, "# expect-exit: "))
                                want_exit = atoi(*l + strlen("# expect-exit: "));
                        else if (g_str_has_prefix(*l, "# expect-rules: ")) {
                                g_free(want_rules);
                                want_rules = g_strdup(*l + strlen("# expect-rules: "));
                                if (strcmp(want_rules, "-") == 0)
                                        want_rules[0] = '\0';
                        } else if (g_str_has_prefix(*l, "# expect-waived: ")) {
                                g_free(want_waived);
                                want_waived = g_strdup(*l + strlen("# expect-waived: "));
                        } else if (g_str_has_prefix(*l, "# expect-message: "))
                                g_ptr_array_add(want_msgs, g_strdup(*l + strlen("# expect-message: ")));
                }
                if (want_exit < 0 || !want_rules)
                        g_error("%s: no expect-exit/expect-rules header", path);

                g_autoptr(GPtrArray) fs = berth_findings_new();
                g_assert_cmpint(berth_audit_config_file(p, path, NOW, fs), ==, 0);
                g_autofree char *text = berth_findings_format_text(fs);
                if (g_test_verbose())
                        g_printerr("== %s\n%s", (char *) names->pdata[i], text);
                g_autofree char *got = rules_of(fs, W);
                if (strcmp(got, want_rules) != 0)
                        g_error("%s: expected rules \"%s\", got \"%s\"\n%s", path, want_rules, got, text);
                g_autoptr(GPtrArray) w = berth_findings_active_waivers(fs);
                GString *ws = g_string_new(NULL);
                for (guint k = 0; k < w->len; k++)
                        g_string_append_printf(ws, "%s%s", k ? " " : "", ((BerthException *) w->pdata[k])->rule);
                if (strcmp(ws->str, want_waived) != 0)
                        g_error("%s: expected waived \"%s\", got \"%s\"", path, want_waived, ws->str);
                g_string_free(ws, TRUE);
                int code = berth_audit_exit_code(fs);
                if (code != want_exit)
                        g_error("%s: expected exit %d, got %d\n%s", path, want_exit, code, text);
                for (guint k = 0; k < want_msgs->len; k++)
                        if (!strstr(text, want_msgs->pdata[k]))
                                g_error("%s: output does not contain \"%s\":\n%s", path, (char *) want_msgs->pdata[k],
                                        text);
                /* every finding names a file that exists in the corpus */
                for (guint k = 0; k < fs->len; k++) {
                        const BerthFinding *f = fs->pdata[k];
                        g_assert_nonnull(f->file);
                        g_assert_true(g_str_has_prefix(f->file, dir));
                        g_assert_nonnull(f->fix);
                }
                clean += code == 0;
                warn += code == 1;
                err += code == 2;
                g_assert_cmpint(berth_audit_config_file(p, path, NOW, all), ==, 0);
        }
        g_assert_cmpint(clean, >=, 2);
        g_assert_cmpint(warn, >=, 2);
        g_assert_cmpint(err, >=, 2);
        /* `berthctl audit --config *.conf` over the repository: the worst wins */
        g_assert_cmpint(berth_audit_exit_code(all), ==, 2);
        g_autofree char *json = berth_findings_format_json(all);
        g_assert_true(g_str_has_suffix(json, "\"exit_code\":2}"));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        NOW = T("2026-12-01T12:00:00Z");

        g_test_add_func("/policy/rule-table", test_rule_table);
        g_test_add_func("/policy/rule-profile-matrix", test_rule_profile_matrix);
        g_test_add_func("/policy/clean", test_clean_config);
        g_test_add_func("/policy/require-userns", test_require_userns);
        g_test_add_func("/policy/finding-location", test_finding_location);
        g_test_add_func("/policy/capabilities", test_capabilities);
        g_test_add_func("/policy/seccomp", test_seccomp);
        g_test_add_func("/policy/binds", test_binds);
        g_test_add_func("/policy/exception-parse", test_exception_parse);
        g_test_add_func("/policy/dates", test_dates_time_zones);
        g_test_add_func("/policy/exception-waives", test_exception_waives);
        g_test_add_func("/policy/exception-expiry", test_exception_expiry);
        g_test_add_func("/policy/exception-max-days", test_exception_max_days);
        g_test_add_func("/policy/exception-unused", test_exception_unused);
        g_test_add_func("/policy/policy-conf", test_policy_conf);
        g_test_add_func("/policy/refusal", test_refusal);
        g_test_add_func("/policy/formatters", test_formatters);
        g_test_add_func("/policy/corpus", test_corpus);
        return g_test_run();
}
