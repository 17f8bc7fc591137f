/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host tier: drift detection against real containers started with the runtime
 * library. A container is started from one config and audited against another
 * (a copy without the weakening) to simulate drift: the kernel's view is then
 * weaker than the config says, and berth_audit_kernel() must say where.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit-kernel.h"
#include "policy.h"
#include "host-fixture.h"
#include "runtime.h"

static char *datadir;

static BerthConfig *make_config(const char *name, const char *const *extra) {
        BerthConfig *c = berth_config_new(name);
        g_autoptr(GError) e = NULL;
        g_assert_cmpint(berth_config_set(c, "Rootfs", "Directory", rootfs, "test", &e), >=, 0);
        g_assert_cmpint(berth_config_set(c, "Rootfs", "Ephemeral", "yes", "test", &e), >=, 0);
        g_assert_cmpint(berth_config_set(c, "Network", "Mode", "none", "test", &e), >=, 0);
        g_assert_cmpint(berth_config_set(c, "Container", "Command", "/bin/sleep 1000", "test", &e), >=, 0);
        for (size_t i = 0; extra && extra[i]; i += 3) {
                int r = berth_config_set(c, extra[i], extra[i + 1], extra[i + 2], "test", &e);
                if (r < 0)
                        g_error("%s.%s=%s: %s", extra[i], extra[i + 1], extra[i + 2], e->message);
        }
        g_assert_cmpint(berth_config_finalize(c, &e), >=, 0);
        g_assert_no_error(e);
        return c;
}

static BerthContainer *start(BerthConfig *cfg) {
        BerthContainer *c = NULL;
        g_autofree char *msg = NULL;
        int r = berth_container_new_full(cfg, run_base, state_base, &c, &msg);
        if (r < 0)
                g_error("new: %s: %s", strerror(-r), msg ? msg : "");
        g_assert_cmpint(berth_container_clone(c), ==, 0);
        g_assert_cmpint(berth_container_release(c), ==, 0);
        r = berth_container_wait_ready(c);
        if (r < 0)
                g_error("wait_ready: %s: %s", strerror(-r), c->error_message ? c->error_message : "");
        g_assert_cmpint(c->pid, >, 0);
        return c;
}

static void stop(BerthContainer *c) {
        BerthExit ex = {};
        g_assert_cmpint(berth_container_kill(c, SIGKILL), ==, 0);
        g_assert_cmpint(berth_container_wait(c, &ex), ==, 0);
        berth_container_free(c);
}

static GPtrArray *audit(const BerthConfig *cfg, pid_t pid) {
        g_autoptr(GPtrArray) f = berth_findings_new();
        int r = berth_audit_kernel(NULL, cfg, pid, NULL, f);
        if (r < 0)
                g_error("berth_audit_kernel: %s", strerror(-r));
        if (g_test_verbose()) {
                g_autofree char *t = berth_findings_format_text(f);
                g_printerr("%s", t);
        }
        for (guint i = 0; i < f->len; i++) {
                const BerthFinding *x = f->pdata[i];
                g_assert_true(x->drift);
                g_assert_cmpint(x->severity, ==, BERTH_SEVERITY_ERROR);
                g_assert_nonnull(x->message);
                g_assert_nonnull(x->fix);
        }
        return g_steal_pointer(&f);
}

static guint count_rule(const GPtrArray *fs, const char *rule, const char *value) {
        guint n = 0;
        for (guint i = 0; i < fs->len; i++) {
                const BerthFinding *f = fs->pdata[i];
                n += strcmp(f->rule, rule) == 0 && (!value || g_strcmp0(f->value, value) == 0);
        }
        return n;
}

static void test_clean(void) {
        g_autoptr(BerthConfig) cfg = make_config("audit-clean", NULL);
        BerthContainer *c = start(cfg);
        g_autoptr(GPtrArray) f = audit(cfg, c->pid);
        g_assert_cmpuint(f->len, ==, 0);
        unsigned shared = 0;
        g_assert_cmpint(berth_kernel_shared_namespaces(c->pid, &shared), ==, 0);
        g_assert_cmphex(shared, ==, BERTH_NS_USER); /* no PrivateUsers=: the host's user namespace */
        g_autofree char *s = berth_namespaces_to_string(shared);
        g_assert_cmpstr(s, ==, "user");

        /* a non-root payload: stub and payload keep the bounding set only; still clean */
        stop(c);
        const char *const nobody[] = { "Container", "User", "nobody", NULL };
        g_autoptr(BerthConfig) ncfg = make_config("audit-nobody", nobody);
        c = start(ncfg);
        g_autoptr(GPtrArray) fn = audit(ncfg, c->pid);
        g_assert_cmpuint(fn->len, ==, 0);
        stop(c);
}

/* The incident: the host PID namespace, given through the config (with an exception), then
 * compared with a config that says private. */
static void test_host_pid(void) {
        const char *const hostpid[] = { "Security", "HostNamespaces", "pid",
                                        "Exception:host-pid", "Justification", "debugging INC-1234",
                                        "Exception:host-pid", "Expires", "2099-01-01", NULL };
        g_autoptr(BerthConfig) cfg = make_config("audit-hostpid", hostpid);
        g_autoptr(BerthConfig) private = make_config("audit-hostpid", NULL);

        BerthContainer *c = start(cfg);
        unsigned shared = 0;
        g_assert_cmpint(berth_kernel_shared_namespaces(c->pid, &shared), ==, 0);
        g_assert_cmphex(shared, ==, BERTH_NS_PID | BERTH_NS_USER);

        /* what the config says: no drift */
        g_autoptr(GPtrArray) same = audit(cfg, c->pid);
        g_assert_cmpuint(same->len, ==, 0);

        /* drift: reality shares the PID namespace the other config says is private */
        g_autoptr(GPtrArray) drift = audit(private, c->pid);
        g_assert_cmpuint(drift->len, ==, 1);
        const BerthFinding *f = drift->pdata[0];
        g_assert_cmpstr(f->rule, ==, "drift-namespace");
        g_assert_cmpstr(f->value, ==, "pid");
        g_assert_cmpstr(f->key, ==, "HostNamespaces");
        g_assert_cmpstr(f->container, ==, "audit-hostpid");
        g_assert_nonnull(strstr(f->message, "host's pid namespace (pid:["));
        g_assert_cmpint(berth_audit_exit_code(drift), ==, 2);
        stop(c);
}

static void test_host_namespaces(void) {
        const char *const many[] = { "Security", "HostNamespaces", "ipc uts cgroup", "Network", "Mode", "host", NULL };
        g_autoptr(BerthConfig) cfg = make_config("audit-hostns", many);
        g_autoptr(BerthConfig) private = make_config("audit-hostns", NULL);
        BerthContainer *c = start(cfg);
        unsigned shared = 0;
        g_assert_cmpint(berth_kernel_shared_namespaces(c->pid, &shared), ==, 0);
        g_assert_cmphex(shared, ==, BERTH_NS_IPC | BERTH_NS_UTS | BERTH_NS_NET | BERTH_NS_CGROUP | BERTH_NS_USER);
        g_autoptr(GPtrArray) same = audit(cfg, c->pid);
        g_assert_cmpuint(same->len, ==, 0);
        g_autoptr(GPtrArray) drift = audit(private, c->pid);
        g_assert_cmpuint(count_rule(drift, "drift-namespace", NULL), ==, 4);
        g_assert_cmpuint(count_rule(drift, "drift-namespace", "ipc"), ==, 1);
        g_assert_cmpuint(count_rule(drift, "drift-namespace", "uts"), ==, 1);
        g_assert_cmpuint(count_rule(drift, "drift-namespace", "net"), ==, 1);
        g_assert_cmpuint(count_rule(drift, "drift-namespace", "cgroup"), ==, 1);
        /* the host's sysfs (host netns) and cgroup tree (host cgroupns) are the runtime's own
         * kernel mounts, not binds: no drift-mount */
        g_assert_cmpuint(count_rule(drift, "drift-mount", NULL), ==, 0);

        /* and the user namespace, for a config that asks for one */
        const char *const userns[] = { "Security", "PrivateUsers", "yes", NULL };
        g_autoptr(BerthConfig) wants_userns = make_config("audit-hostns", userns);
        g_autoptr(GPtrArray) du = audit(wants_userns, c->pid);
        g_assert_cmpuint(count_rule(du, "drift-namespace", "yes"), ==, 1); /* [Security] PrivateUsers=yes */
        g_assert_cmpuint(du->len, ==, 5);
        stop(c);
}

static void test_capabilities(void) {
        const char *const caps[] = { "Security", "Capability", "SYS_ADMIN NET_ADMIN", NULL };
        g_autoptr(BerthConfig) cfg = make_config("audit-caps", caps);
        g_autoptr(BerthConfig) plain = make_config("audit-caps", NULL);
        BerthContainer *c = start(cfg);
        g_autoptr(GPtrArray) same = audit(cfg, c->pid);
        g_assert_cmpuint(same->len, ==, 0);
        g_autoptr(GPtrArray) drift = audit(plain, c->pid);
        g_assert_cmpuint(drift->len, ==, 1);
        const BerthFinding *f = drift->pdata[0];
        g_assert_cmpstr(f->rule, ==, "drift-capability");
        g_assert_cmpstr(f->value, ==, "CAP_NET_ADMIN CAP_SYS_ADMIN");
        stop(c);
}

static void test_seccomp_nnp(void) {
        const char *const weak[] = { "Security", "Seccomp", "no", "Security", "NoNewPrivileges", "no", NULL };
        g_autoptr(BerthConfig) cfg = make_config("audit-seccomp", weak);
        g_autoptr(BerthConfig) plain = make_config("audit-seccomp", NULL);
        BerthContainer *c = start(cfg);
        g_autoptr(GPtrArray) same = audit(cfg, c->pid);
        g_assert_cmpuint(same->len, ==, 0);
        g_autoptr(GPtrArray) drift = audit(plain, c->pid);
        g_assert_cmpuint(drift->len, ==, 2);
        g_assert_cmpuint(count_rule(drift, "drift-seccomp", NULL), ==, 1);
        g_assert_cmpuint(count_rule(drift, "drift-no-new-privileges", NULL), ==, 1);
        stop(c);
}

static void test_mounts(void) {
        g_autofree char *data_bind = g_strdup_printf("%s:/data", datadir);
        const char *const binds[] = { "Files", "BindReadOnly", "/etc:/mnt/etc",
                                      "Files", "Bind", "/dev/fuse:/mnt/fuse",
                                      "Files", "Bind", data_bind, NULL };
        const char *const only_data[] = { "Files", "Bind", data_bind, NULL };
        g_autoptr(BerthConfig) cfg = make_config("audit-mounts", binds);
        g_autoptr(BerthConfig) plain = make_config("audit-mounts", only_data);
        BerthContainer *c = start(cfg);

        /* the configured binds are not drift (the policy rules judge them) */
        g_autoptr(GPtrArray) same = audit(cfg, c->pid);
        g_assert_cmpuint(same->len, ==, 0);

        /* against a config without them: /etc and the device are drift, the data dir is not */
        g_autoptr(GPtrArray) drift = audit(plain, c->pid);
        g_assert_cmpuint(count_rule(drift, "drift-mount", "/etc:/mnt/etc"), ==, 1);
        g_assert_cmpuint(count_rule(drift, "drift-mount", "/dev/fuse:/mnt/fuse"), ==, 1);
        g_assert_cmpuint(drift->len, ==, 2);

        /* binds the daemon adds itself are passed as extra sources */
        g_autoptr(GPtrArray) extra = berth_findings_new();
        const char *const sources[] = { "/etc", "/dev/fuse", NULL };
        g_assert_cmpint(berth_audit_kernel(NULL, plain, c->pid, sources, extra), ==, 0);
        g_assert_cmpuint(extra->len, ==, 0);

        /* the policy judges the configured ones */
        g_autoptr(BerthPolicy) p = berth_policy_new();
        g_autoptr(GPtrArray) pf = NULL;
        g_assert_cmpint(berth_policy_evaluate(p, cfg, (uint64_t) g_get_real_time(), &pf), ==, 0);
        g_assert_true(berth_findings_refuse_start(pf));
        stop(c);
}

static void test_gone(void) {
        g_autoptr(BerthConfig) cfg = make_config("audit-gone", NULL);
        BerthContainer *c = start(cfg);
        pid_t pid = c->pid;
        stop(c);
        g_autoptr(GPtrArray) f = berth_findings_new();
        g_assert_cmpint(berth_audit_kernel(NULL, cfg, pid, NULL, f), ==, -ESRCH);
        unsigned shared;
        g_assert_cmpint(berth_kernel_shared_namespaces(pid, &shared), ==, -ESRCH);
        g_assert_cmpint(berth_audit_kernel(NULL, cfg, 0, NULL, f), ==, -EINVAL);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        host_fixture_setup("test-audit", argc, argv);
        datadir = g_build_filename(workdir, "data", NULL);
        g_mkdir(datadir, 0755);
        g_autofree char *mnt_etc = g_build_filename(rootfs, "mnt", "etc", NULL);
        g_autofree char *data = g_build_filename(rootfs, "data", NULL);
        g_assert_cmpint(g_mkdir_with_parents(mnt_etc, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(data, 0755), ==, 0);
        g_autofree char *fuse = g_build_filename(rootfs, "mnt", "fuse", NULL);
        g_assert_true(g_file_set_contents(fuse, "", 0, NULL));

        g_test_add_func("/audit/clean", test_clean);
        g_test_add_func("/audit/host-pid", test_host_pid);
        g_test_add_func("/audit/host-namespaces", test_host_namespaces);
        g_test_add_func("/audit/capabilities", test_capabilities);
        g_test_add_func("/audit/seccomp-nnp", test_seccomp_nnp);
        g_test_add_func("/audit/mounts", test_mounts);
        g_test_add_func("/audit/gone", test_gone);
        int r = g_test_run();

        host_fixture_teardown();
        return r;
}
