/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "util.h"

/* ---------------------------------------------------------------------------------------------- */
/* helpers */

static void write_file(const char *dir, const char *name, const char *content) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_autoptr(GError) e = NULL;
        g_assert_true(g_file_set_contents(p, content, -1, &e));
        g_assert_no_error(e);
}

static char *make_tmpdir(void) {
        g_autoptr(GError) e = NULL;
        char *d = g_dir_make_tmp("berth-config-XXXXXX", &e);
        g_assert_no_error(e);
        return d;
}

/* The runtime's own remover: it never follows a symlink or crosses a mount. */
static void rm_rf(const char *path) {
        (void) rm_rf_at(AT_FDCWD, path);
}

/* Parse data into a fresh config named "web"; return the error code, keep the message. */
static int parse(const char *data, BerthConfig **ret, char **ret_msg) {
        g_autoptr(BerthConfig) c = berth_config_new("web");
        g_autoptr(GError) e = NULL;
        int r = berth_config_load_data(c, data, strlen(data), "web.conf", &e);
        if (r >= 0)
                r = berth_config_finalize(c, &e);
        if (r < 0) {
                g_assert_nonnull(e);
                g_assert_true(e->domain == BERTH_CONFIG_ERROR);
                g_assert_cmpint(e->code, ==, -r);
                if (ret_msg)
                        *ret_msg = g_strdup(e->message);
        } else
                g_assert_no_error(e);
        if (ret)
                *ret = g_steal_pointer(&c);
        return r;
}

#define ROOTFS "[Rootfs]\nDirectory=/srv/web\n"

static void assert_parse_fails(const char *data, const char *const *needles) {
        g_autofree char *msg = NULL;
        int r = parse(data, NULL, &msg);
        if (r >= 0)
                g_error("expected failure for:\n%s", data);
        g_assert_cmpint(r, ==, -EINVAL);
        for (const char *const *n = needles; *n; n++)
                if (!strstr(msg, *n))
                        g_error("error \"%s\" does not contain \"%s\"", msg, *n);
}

#define FAILS(data, ...) assert_parse_fails(data, (const char *const[]) { __VA_ARGS__, NULL })

static const BerthConfigSource *find_source(BerthConfig *c, const char *key, guint nth) {
        for (guint i = 0; i < c->sources->len; i++) {
                const BerthConfigSource *s = c->sources->pdata[i];
                if (strcmp(s->key, key) == 0 && nth-- == 0)
                        return s;
        }
        return NULL;
}

static guint count_sources(BerthConfig *c, const char *key) {
        guint n = 0;
        for (guint i = 0; i < c->sources->len; i++)
                n += strcmp(((BerthConfigSource *) c->sources->pdata[i])->key, key) == 0;
        return n;
}

static bool warnings_contain(BerthConfig *c, const char *a, const char *b) {
        for (guint i = 0; i < c->warnings->len; i++) {
                const char *w = c->warnings->pdata[i];
                if (strstr(w, a) && (!b || strstr(w, b)))
                        return true;
        }
        return false;
}

/* ---------------------------------------------------------------------------------------------- */

static void test_defaults(void) {
        g_autoptr(BerthConfig) c = berth_config_new("web");

        g_assert_cmpstr(c->name, ==, "web");
        g_assert_true(c->no_new_privileges);
        g_assert_true(c->seccomp);
        g_assert_false(c->boot);
        g_assert_false(c->private_users);
        g_assert_cmpuint(c->kill_timeout_usec, ==, 10 * G_USEC_PER_SEC);
        g_assert_cmpint(c->network_mode, ==, BERTH_NETWORK_BRIDGE);
        g_assert_cmpuint(c->limits.memory_max, ==, BERTH_LIMIT_UNSET);
        g_assert_cmpuint(c->limits.memory_high, ==, BERTH_LIMIT_UNSET);
        g_assert_cmpuint(c->limits.memory_swap_max, ==, BERTH_LIMIT_UNSET);
        g_assert_cmpuint(c->limits.cpu_quota_per_sec_usec, ==, BERTH_LIMIT_UNSET);
        g_assert_cmpuint(c->limits.cpu_weight, ==, BERTH_LIMIT_UNSET);
        g_assert_cmpuint(c->limits.io_weight, ==, BERTH_LIMIT_UNSET);
        g_assert_cmpuint(c->limits.tasks_max, ==, BERTH_LIMIT_UNSET);
        g_assert_null(c->limits.allowed_cpus);
        g_assert_nonnull(c->binds);
        g_assert_nonnull(c->tmpfs);
        g_assert_nonnull(c->ports);
        g_assert_nonnull(c->warnings);
        g_assert_nonnull(c->sources);
        g_assert_nonnull(c->dropins);
        g_assert_nonnull(c->environment);
        g_assert_null(c->environment[0]);
        g_assert_null(c->command);
        g_assert_null(c->layers);
        g_assert_cmpuint(c->host_namespaces, ==, 0);
}

static const char full_config[] =
        "# a full configuration\n"
        "[Container]\n"
        "Description=The web server\n"
        "Boot=no\n"
        "Command=/usr/sbin/nginx -g \"daemon off;\"\n"
        "Environment=LANG=C.UTF-8 \"GREETING=hello world\"\n"
        "Environment=_X1=\n"
        "WorkingDirectory=/var/www//html/\n"
        "User=www-data\n"
        "Group=33\n"
        "SupplementaryGroups=adm video\n"
        "Hostname=web-1.example\n"
        "KillTimeoutSec=1min 30s\n"
        "\n"
        "[Rootfs]\n"
        "Layers=/var/lib/berth/layers/base /var/lib/berth/layers/app\n"
        "Ephemeral=no\n"
        "ReadOnly=yes\n"
        "UpperDirectory=/srv/upper\n"
        "\n"
        "[Files]\n"
        "Bind=/srv/data\n"
        "Bind=/srv/logs:/var/log/nginx:rw\n"
        "Bind=/etc/ssl:/etc/ssl:ro\n"
        "Bind=/srv/cache:ro\n"
        "BindReadOnly=/srv/static:/var/www/static\n"
        "TemporaryFileSystem=/tmp:size=64M,mode=1777,nr_inodes=10k,uid=0,huge=within_size,ro\n"
        "TemporaryFileSystem=/run\n"
        "\n"
        "[Security]\n"
        "Capability=CAP_NET_ADMIN net_raw\n"
        "DropCapability=CAP_MKNOD,sys_chroot\n"
        "NoNewPrivileges=false\n"
        "Seccomp=on\n"
        "SystemCallAllow=keyctl add_key\n"
        "SystemCallDeny=ptrace\n"
        "PrivateUsers=524288:65536\n"
        "HostNamespaces=ipc uts\n"
        "\n"
        "[Limits]\n"
        "MemoryMax=1.5G\n"
        "MemoryHigh=1G\n"
        "MemorySwapMax=0\n"
        "CPUQuota=150%\n"
        "CPUWeight=200\n"
        "IOWeight=10000\n"
        "TasksMax=512\n"
        "AllowedCPUs=0-1,3\n"
        "\n"
        "[Network]\n"
        "Mode=bridge\n"
        "Network=frontend\n"
        "Address=10.88.0.5\n"
        "Port=tcp:8080:80 udp:53:53\n"
        "Port=tcp:127.0.0.1:8443:443\n"
        "IPv6=yes\n";

static void test_full(void) {
        g_autoptr(BerthConfig) c = NULL;
        g_autofree char *msg = NULL;

        g_assert_cmpint(parse(full_config, &c, &msg), ==, 0);
        g_assert_cmpuint(c->warnings->len, ==, 0);

        g_assert_cmpstr(c->description, ==, "The web server");
        g_assert_false(c->boot);
        g_assert_cmpuint(g_strv_length(c->command), ==, 3);
        g_assert_cmpstr(c->command[0], ==, "/usr/sbin/nginx");
        g_assert_cmpstr(c->command[1], ==, "-g");
        g_assert_cmpstr(c->command[2], ==, "daemon off;");
        g_assert_cmpuint(g_strv_length(c->environment), ==, 3);
        g_assert_cmpstr(c->environment[0], ==, "LANG=C.UTF-8");
        g_assert_cmpstr(c->environment[1], ==, "GREETING=hello world");
        g_assert_cmpstr(c->environment[2], ==, "_X1=");
        g_assert_cmpstr(c->working_directory, ==, "/var/www/html");
        g_assert_cmpstr(c->user, ==, "www-data");
        g_assert_cmpstr(c->group, ==, "33");
        g_assert_cmpuint(g_strv_length(c->supplementary_groups), ==, 2);
        g_assert_cmpstr(c->supplementary_groups[1], ==, "video");
        g_assert_cmpstr(c->hostname, ==, "web-1.example");
        g_assert_cmpuint(c->kill_timeout_usec, ==, 90 * G_USEC_PER_SEC);

        g_assert_null(c->directory);
        g_assert_cmpuint(g_strv_length(c->layers), ==, 2);
        g_assert_cmpstr(c->layers[0], ==, "/var/lib/berth/layers/base");
        g_assert_cmpstr(c->layers[1], ==, "/var/lib/berth/layers/app");
        g_assert_false(c->ephemeral);
        g_assert_true(c->read_only);
        g_assert_cmpstr(c->upper_directory, ==, "/srv/upper");

        g_assert_cmpuint(c->binds->len, ==, 5);
        BerthBind *b = c->binds->pdata[0];
        g_assert_cmpstr(b->source, ==, "/srv/data");
        g_assert_cmpstr(b->destination, ==, "/srv/data");
        g_assert_false(b->read_only);
        b = c->binds->pdata[1];
        g_assert_cmpstr(b->source, ==, "/srv/logs");
        g_assert_cmpstr(b->destination, ==, "/var/log/nginx");
        g_assert_false(b->read_only);
        b = c->binds->pdata[2];
        g_assert_cmpstr(b->destination, ==, "/etc/ssl");
        g_assert_true(b->read_only);
        b = c->binds->pdata[3];
        g_assert_cmpstr(b->source, ==, "/srv/cache");
        g_assert_cmpstr(b->destination, ==, "/srv/cache");
        g_assert_true(b->read_only);
        b = c->binds->pdata[4];
        g_assert_cmpstr(b->source, ==, "/srv/static");
        g_assert_cmpstr(b->destination, ==, "/var/www/static");
        g_assert_true(b->read_only);

        g_assert_cmpuint(c->tmpfs->len, ==, 2);
        BerthTmpfs *t = c->tmpfs->pdata[0];
        g_assert_cmpstr(t->destination, ==, "/tmp");
        g_assert_cmpstr(t->options, ==, "size=64M,mode=1777,nr_inodes=10k,uid=0,huge=within_size,ro");
        t = c->tmpfs->pdata[1];
        g_assert_cmpstr(t->destination, ==, "/run");
        g_assert_null(t->options);

        g_assert_cmphex(c->capability_add, ==, (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW));
        g_assert_cmphex(c->capability_drop, ==, (1ULL << CAP_MKNOD) | (1ULL << CAP_SYS_CHROOT));
        g_assert_false(c->no_new_privileges);
        g_assert_true(c->seccomp);
        g_assert_cmpuint(g_strv_length(c->syscall_allow), ==, 2);
        g_assert_cmpstr(c->syscall_allow[0], ==, "keyctl");
        g_assert_cmpstr(c->syscall_deny[0], ==, "ptrace");
        g_assert_true(c->private_users);
        g_assert_cmpuint(c->uid_shift, ==, 524288);
        g_assert_cmpuint(c->uid_range, ==, 65536);
        g_assert_cmpuint(c->host_namespaces, ==, BERTH_NS_IPC | BERTH_NS_UTS);

        g_assert_cmpuint(c->limits.memory_max, ==, 1536ULL << 20);
        g_assert_cmpuint(c->limits.memory_high, ==, 1ULL << 30);
        g_assert_cmpuint(c->limits.memory_swap_max, ==, 0);
        g_assert_cmpuint(c->limits.cpu_quota_per_sec_usec, ==, 1500000);
        g_assert_cmpuint(c->limits.cpu_weight, ==, 200);
        g_assert_cmpuint(c->limits.io_weight, ==, 10000);
        g_assert_cmpuint(c->limits.tasks_max, ==, 512);
        g_assert_cmpstr(c->limits.allowed_cpus, ==, "0-1,3");

        g_assert_cmpint(c->network_mode, ==, BERTH_NETWORK_BRIDGE);
        g_assert_cmpstr(c->network, ==, "frontend");
        g_assert_cmpstr(c->address, ==, "10.88.0.5");
        g_assert_true(c->ipv6);
        g_assert_cmpuint(c->ports->len, ==, 3);
        BerthPort *p = c->ports->pdata[0];
        g_assert_cmpint(p->protocol, ==, IPPROTO_TCP);
        g_assert_null(p->host_address);
        g_assert_cmpuint(p->host_port, ==, 8080);
        g_assert_cmpuint(p->container_port, ==, 80);
        p = c->ports->pdata[1];
        g_assert_cmpint(p->protocol, ==, IPPROTO_UDP);
        g_assert_cmpuint(p->host_port, ==, 53);
        p = c->ports->pdata[2];
        g_assert_cmpstr(p->host_address, ==, "127.0.0.1");
        g_assert_cmpuint(p->host_port, ==, 8443);
        g_assert_cmpuint(p->container_port, ==, 443);

        /* Repeated list keys in one file each contribute a source. */
        g_assert_cmpuint(count_sources(c, "Bind"), ==, 4);
        g_assert_cmpuint(count_sources(c, "Port"), ==, 2);
        g_assert_cmpstr(find_source(c, "MemoryMax", 0)->value, ==, "1.5G");
        g_assert_cmpstr(find_source(c, "MemoryMax", 0)->section, ==, "Limits");
        g_assert_cmpstr(find_source(c, "MemoryMax", 0)->file, ==, "web.conf");
}

static void test_finalize_defaults(void) {
        g_autoptr(BerthConfig) c = NULL;

        g_assert_cmpint(parse(ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpstr(c->directory, ==, "/srv/web");
        g_assert_cmpstr(c->hostname, ==, "web");
        g_assert_cmpuint(g_strv_length(c->command), ==, 1);
        g_assert_cmpstr(c->command[0], ==, "/bin/sh");
        g_assert_true(c->no_new_privileges);
        g_assert_true(c->seccomp);
        /* finalize is idempotent */
        g_assert_cmpint(berth_config_finalize(c, NULL), ==, 0);
        g_assert_cmpstr(c->command[0], ==, "/bin/sh");
        g_clear_pointer(&c, berth_config_free);

        g_assert_cmpint(parse("[Container]\nBoot=yes\n" ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpstr(c->command[0], ==, "/sbin/init");
}

static void test_error_format(void) {
        g_autofree char *msg = NULL;

        g_assert_cmpint(parse("[Limits]\nMemoryMax=12Q\n" ROOTFS, NULL, &msg), ==, -EINVAL);
        g_assert_true(g_str_has_prefix(msg, "web.conf: [Limits] MemoryMax=12Q: invalid size"));
        g_clear_pointer(&msg, g_free);

        /* Control characters in values are escaped, long values cut. */
        g_autofree char *long_value = g_strnfill(5000, 'x');
        g_autofree char *data = g_strdup_printf("[Container]\nHostname=\x1b%s\n", long_value);
        g_assert_cmpint(parse(data, NULL, &msg), ==, -EINVAL);
        g_assert_nonnull(strstr(msg, "Hostname=\\x1bxxx"));
        g_assert_nonnull(strstr(msg, "...: invalid hostname"));
        g_assert_cmpuint(strlen(msg), <, 600);
}

static void test_unknown(void) {
        g_autoptr(BerthConfig) c = NULL;

        g_assert_cmpint(parse("[Container]\nFoo=bar\nmemorymax=1G\n[Bogus]\nX=1\n"
                              "[Limits]\nmemorymax=1G\nLimit[de]=1\n" ROOTFS, &c, NULL), ==, 0);
        g_assert_true(warnings_contain(c, "web.conf: [Container] Foo=: unknown key", NULL));
        g_assert_true(warnings_contain(c, "[Bogus]: unknown section", "web.conf"));
        g_assert_true(warnings_contain(c, "[Limits] memorymax=", "did you mean [Limits] MemoryMax=?"));
        g_assert_true(warnings_contain(c, "Limit[de]=", "localized"));
        g_assert_cmpuint(c->warnings->len, ==, 5);
        g_assert_cmpuint(c->limits.memory_max, ==, BERTH_LIMIT_UNSET);
}

static void test_repeated_keys(void) {
        g_autoptr(BerthConfig) c = NULL;

        /* Scalars: the last one wins; lists: all, in order; trailing blanks ignored. */
        g_assert_cmpint(parse("[Limits]\nMemoryMax=1G\nMemoryMax = 2G  \n"
                              "[Files]\nBind=/a\nBindReadOnly=/b\nBind = /c:/d \n" ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpuint(c->limits.memory_max, ==, 2ULL << 30);
        g_assert_cmpuint(count_sources(c, "MemoryMax"), ==, 1);
        g_assert_cmpstr(find_source(c, "MemoryMax", 0)->value, ==, "2G");
        g_assert_cmpuint(c->binds->len, ==, 3);
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[0])->source, ==, "/a");
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[1])->source, ==, "/b");
        g_assert_true(((BerthBind *) c->binds->pdata[1])->read_only);
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[2])->destination, ==, "/d");
        g_clear_pointer(&c, berth_config_free);

        /* An empty list assignment in the same file resets what came before it. */
        g_assert_cmpint(parse("[Files]\nBind=/a\nBind=\nBind=/c\n"
                              "[Container]\nEnvironment=A=1 B=2\nEnvironment=A=3\n" ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpuint(c->binds->len, ==, 1);
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[0])->source, ==, "/c");
        g_assert_cmpuint(count_sources(c, "Bind"), ==, 1);
        /* Environment: a later assignment of the same variable replaces it in place. */
        g_assert_cmpuint(g_strv_length(c->environment), ==, 2);
        g_assert_cmpstr(c->environment[0], ==, "A=3");
        g_assert_cmpstr(c->environment[1], ==, "B=2");
        g_clear_pointer(&c, berth_config_free);

        /* Whitespace GKeyFile tolerates: indented groups and keys, blanks around '=', tabs,
         * trailing blanks after a group, blank-only lines, indented comments. */
        g_assert_cmpint(parse("  # indented comment\n\t[Limits] \t\n"
                              "\tMemoryMax\t=\t 1G\t\n   \n  TasksMax   =7\n"
                              "  [Files]\n Bind = /a:/b \n\tBind=\t/c\n"
                              "[Container]\nDescription=  two  words  \nDescription = x = y\n" ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpuint(c->limits.memory_max, ==, 1ULL << 30);
        g_assert_cmpuint(c->limits.tasks_max, ==, 7);
        g_assert_cmpuint(c->binds->len, ==, 2);
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[0])->destination, ==, "/b");
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[1])->source, ==, "/c");
        g_assert_cmpstr(c->description, ==, "x = y");
        g_assert_cmpuint(c->warnings->len, ==, 0);
        g_clear_pointer(&c, berth_config_free);

        /* CRLF line ends work. */
        g_assert_cmpint(parse("[Rootfs]\r\nDirectory=/srv/crlf\r\n", &c, NULL), ==, 0);
        g_assert_cmpstr(c->directory, ==, "/srv/crlf");
}

static void test_dropins(void) {
        g_autofree char *dir = make_tmpdir();
        g_autofree char *ddir = g_build_filename(dir, "web.conf.d", NULL);
        g_autoptr(BerthConfig) c = NULL;
        g_autoptr(GError) e = NULL;

        g_assert_cmpint(g_mkdir(ddir, 0755), ==, 0);
        write_file(dir, "web.conf",
                   "[Rootfs]\nDirectory=/srv/web\n"
                   "[Limits]\nMemoryMax=1G\nTasksMax=100\n"
                   "[Files]\nBind=/srv/a\nTemporaryFileSystem=/tmp\n"
                   "[Security]\nCapability=net_admin\nSystemCallDeny=ptrace\n"
                   "[Container]\nEnvironment=A=1\nHostname=main\n");
        /* Written out of order on purpose: application order is lexical. */
        write_file(ddir, "20-late.conf",
                   "[Limits]\nMemoryMax=3G\n"
                   "[Files]\nBind=/srv/c\n"
                   "[Container]\nEnvironment=C=3\n");
        write_file(ddir, "10-early.conf",
                   "[Limits]\nMemoryMax=2G\n"
                   "[Files]\nBind=/srv/b\nTemporaryFileSystem=\n"
                   "[Security]\nCapability=\nCapability=sys_time\n"
                   "[Container]\nEnvironment=B=2\nHostname=\n");
        write_file(ddir, "15-reset.conf", "[Container]\nEnvironment=\n[Limits]\nTasksMax=\n");
        write_file(ddir, ".hidden.conf", "[Limits]\nMemoryMax=9G\n");
        write_file(ddir, "30-ignored.conf.bak", "[Limits]\nMemoryMax=9G\n");
        g_autofree char *subdir = g_build_filename(ddir, "40-dir.conf", NULL);
        g_assert_cmpint(g_mkdir(subdir, 0755), ==, 0);

        g_assert_cmpint(berth_config_load(dir, "web", &c, &e), ==, 0);
        g_assert_no_error(e);

        g_autofree char *main_path = g_build_filename(dir, "web.conf", NULL);
        g_autofree char *early = g_build_filename(ddir, "10-early.conf", NULL);
        g_autofree char *reset = g_build_filename(ddir, "15-reset.conf", NULL);
        g_autofree char *late = g_build_filename(ddir, "20-late.conf", NULL);
        g_assert_cmpstr(c->path, ==, main_path);
        g_assert_cmpuint(c->dropins->len, ==, 3);
        g_assert_cmpstr(c->dropins->pdata[0], ==, early);
        g_assert_cmpstr(c->dropins->pdata[1], ==, reset);
        g_assert_cmpstr(c->dropins->pdata[2], ==, late);
        g_assert_true(warnings_contain(c, "40-dir.conf", "not a regular file"));

        /* scalar: last drop-in wins, and is the source */
        g_assert_cmpuint(c->limits.memory_max, ==, 3ULL << 30);
        g_assert_cmpuint(count_sources(c, "MemoryMax"), ==, 1);
        g_assert_cmpstr(find_source(c, "MemoryMax", 0)->file, ==, late);
        /* empty scalar: back to the default, no source */
        g_assert_cmpuint(c->limits.tasks_max, ==, BERTH_LIMIT_UNSET);
        g_assert_cmpuint(count_sources(c, "TasksMax"), ==, 0);
        g_assert_cmpstr(c->hostname, ==, "web");
        /* list: appended across files, each assignment its own source */
        g_assert_cmpuint(c->binds->len, ==, 3);
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[0])->source, ==, "/srv/a");
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[1])->source, ==, "/srv/b");
        g_assert_cmpstr(((BerthBind *) c->binds->pdata[2])->source, ==, "/srv/c");
        g_assert_cmpuint(count_sources(c, "Bind"), ==, 3);
        g_assert_cmpstr(find_source(c, "Bind", 0)->file, ==, main_path);
        g_assert_cmpstr(find_source(c, "Bind", 1)->file, ==, early);
        g_assert_cmpstr(find_source(c, "Bind", 2)->file, ==, late);
        /* list reset in a drop-in */
        g_assert_cmpuint(c->tmpfs->len, ==, 0);
        g_assert_cmpuint(count_sources(c, "TemporaryFileSystem"), ==, 0);
        g_assert_cmphex(c->capability_add, ==, 1ULL << CAP_SYS_TIME);
        g_assert_cmpuint(count_sources(c, "Capability"), ==, 1);
        g_assert_cmpstr(find_source(c, "Capability", 0)->file, ==, early);
        g_assert_cmpuint(g_strv_length(c->environment), ==, 1);
        g_assert_cmpstr(c->environment[0], ==, "C=3");
        /* untouched keys keep their main-file source */
        g_assert_cmpstr(find_source(c, "SystemCallDeny", 0)->file, ==, main_path);
        g_assert_cmpstr(find_source(c, "Directory", 0)->file, ==, main_path);
        g_clear_pointer(&c, berth_config_free);

        /* An error in a drop-in names the drop-in. */
        write_file(ddir, "50-bad.conf", "[Limits]\nCPUWeight=0\n");
        g_assert_cmpint(berth_config_load(dir, "web", &c, &e), ==, -EINVAL);
        g_assert_null(c);
        g_assert_error(e, BERTH_CONFIG_ERROR, EINVAL);
        g_assert_nonnull(strstr(e->message, "50-bad.conf: [Limits] CPUWeight=0: invalid weight"));
        g_clear_error(&e);

        /* Missing main file */
        g_assert_cmpint(berth_config_load(dir, "nothere", &c, &e), ==, -ENOENT);
        g_assert_error(e, BERTH_CONFIG_ERROR, ENOENT);
        g_assert_nonnull(strstr(e->message, "nothere.conf"));
        g_clear_error(&e);

        /* Invalid name: refused before any path is built */
        g_assert_cmpint(berth_config_load(dir, "../web", &c, &e), ==, -EINVAL);
        g_assert_error(e, BERTH_CONFIG_ERROR, EINVAL);
        g_clear_error(&e);

        rm_rf(dir);
}

static void test_set(void) {
        g_autoptr(BerthConfig) c = berth_config_new("tr");
        g_autoptr(GError) e = NULL;

        g_assert_cmpint(berth_config_set(c, "Limits", "MemoryMax", "1G", "bus", &e), ==, 0);
        g_assert_no_error(e);
        g_assert_cmpuint(c->limits.memory_max, ==, 1ULL << 30);
        g_assert_cmpint(berth_config_set(c, NULL, "Limits.MemoryMax", "2G", "set-property", &e), ==, 0);
        g_assert_cmpuint(c->limits.memory_max, ==, 2ULL << 30);
        g_assert_cmpint(berth_config_set(c, NULL, "TasksMax", "infinity", NULL, &e), ==, 0);
        g_assert_cmpuint(c->limits.tasks_max, ==, BERTH_LIMIT_INFINITY);
        g_assert_cmpint(berth_config_set(c, NULL, "Directory", "/srv/tr", "bus", &e), ==, 0);
        g_assert_cmpint(berth_config_set(c, "Files", "Bind", "/a", "bus", &e), ==, 0);
        g_assert_cmpint(berth_config_set(c, "Files", "Bind", "/b", "bus", &e), ==, 0);
        g_assert_cmpuint(c->binds->len, ==, 2);
        g_assert_cmpstr(find_source(c, "MemoryMax", 0)->file, ==, "set-property");
        g_assert_cmpuint(count_sources(c, "MemoryMax"), ==, 1);

        g_assert_cmpint(berth_config_set(c, "Limits", "MemoryMax", "lots", "bus", &e), ==, -EINVAL);
        g_assert_error(e, BERTH_CONFIG_ERROR, EINVAL);
        g_assert_cmpstr(e->message, ==,
                        "bus: [Limits] MemoryMax=lots: invalid size (expected bytes with optional K, M, G or T "
                        "suffix, base 1024, or \"infinity\")");
        g_clear_error(&e);
        g_assert_cmpuint(c->limits.memory_max, ==, 2ULL << 30); /* unchanged on error */

        g_assert_cmpint(berth_config_set(c, "Limits", "Bind", "/x", "bus", &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e->message, "[Limits] Bind=: unknown key"));
        g_clear_error(&e);
        g_assert_cmpint(berth_config_set(c, NULL, "Nope", "1", "bus", &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e->message, "Nope=: unknown key"));
        g_clear_error(&e);
        g_assert_cmpint(berth_config_set(c, NULL, "Bogus.Key", "1", "bus", &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e->message, "[Bogus] Key=: unknown section"));
        g_clear_error(&e);
        g_assert_cmpint(berth_config_set(c, NULL, "Bad\xffKey", "1", "bus", &e), ==, -EINVAL);
        g_assert_true(g_utf8_validate(e->message, -1, NULL));
        g_assert_nonnull(strstr(e->message, "unknown key"));
        g_clear_error(&e);
        g_assert_cmpint(berth_config_set(c, NULL, "Description", "\xff", "bus", &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e->message, "UTF-8"));
        g_clear_error(&e);

        g_assert_cmpint(berth_config_set(c, NULL, "Command", "/bin/true\n[Security]", "bus", &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e->message, "[Container] Command=: value contains a line break"));
        g_clear_error(&e);
        g_assert_null(c->command);

        /* A failed item in a list changes nothing. */
        g_assert_cmpint(berth_config_set(c, NULL, "SystemCallDeny", "ptrace nosuchcall", "bus", &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e->message, "nosuchcall"));
        g_clear_error(&e);
        g_assert_null(c->syscall_deny[0]);
        g_assert_cmpint(berth_config_set(c, NULL, "Port", "tcp:1:1 tcp:0:1", "bus", &e), ==, -EINVAL);
        g_clear_error(&e);
        g_assert_cmpuint(c->ports->len, ==, 0);

        g_assert_cmpint(berth_config_finalize(c, &e), ==, 0);
        g_assert_no_error(e);
        g_assert_cmpstr(c->hostname, ==, "tr");
}

static void test_private_users(void) {
        g_autoptr(BerthConfig) a = NULL, b = NULL, d = NULL;

        g_assert_cmpint(parse("[Security]\nPrivateUsers=yes\n" ROOTFS, &a, NULL), ==, 0);
        g_assert_true(a->private_users);
        g_assert_cmpuint(a->uid_range, ==, 65536);
        g_assert_cmpuint(a->uid_shift % 65536, ==, 0);
        g_assert_cmpuint(a->uid_shift, >=, 0x80000);
        g_assert_cmpuint(a->uid_shift, <=, 0x6fff0000);
        g_assert_cmpint(parse("[Security]\nPrivateUsers=true\n" ROOTFS, &b, NULL), ==, 0);
        g_assert_cmpuint(a->uid_shift, ==, b->uid_shift); /* deterministic */

        /* Different names spread over the range. */
        g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
        for (int i = 0; i < 64; i++) {
                g_autofree char *name = g_strdup_printf("c%d", i);
                g_autoptr(BerthConfig) x = berth_config_new(name);
                g_assert_cmpint(berth_config_set(x, NULL, "PrivateUsers", "yes", "t", NULL), ==, 0);
                g_assert_cmpuint(x->uid_shift % 65536, ==, 0);
                g_assert_cmpuint(x->uid_shift, >=, 0x80000);
                g_assert_cmpuint(x->uid_shift, <=, 0x6fff0000);
                g_hash_table_add(seen, GUINT_TO_POINTER(x->uid_shift));
        }
        g_assert_cmpuint(g_hash_table_size(seen), >, 50);

        g_assert_cmpint(parse("[Security]\nPrivateUsers=100000\n" ROOTFS, &d, NULL), ==, 0);
        g_assert_cmpuint(d->uid_shift, ==, 100000);
        g_assert_cmpuint(d->uid_range, ==, 65536);
        g_assert_cmpint(berth_config_set(d, NULL, "PrivateUsers", "no", "t", NULL), ==, 0);
        g_assert_false(d->private_users);
        g_assert_cmpuint(d->uid_range, ==, 0);

        FAILS("[Security]\nPrivateUsers=maybe\n" ROOTFS, "PrivateUsers=maybe", "expected yes, no, UID");
        FAILS("[Security]\nPrivateUsers=100:0\n" ROOTFS, "PrivateUsers=100:0", "range");
        FAILS("[Security]\nPrivateUsers=4294967295\n" ROOTFS, "PrivateUsers=", "range");
        FAILS("[Security]\nPrivateUsers=4294901760:65536\n" ROOTFS, "PrivateUsers=", "range");
        FAILS("[Security]\nPrivateUsers=-1\n" ROOTFS, "PrivateUsers=-1");
}

static void test_network_modes(void) {
        g_autoptr(BerthConfig) c = NULL;

        g_assert_cmpint(parse("[Network]\nMode=host\n" ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpint(c->network_mode, ==, BERTH_NETWORK_HOST);
        g_assert_true(c->host_namespaces & BERTH_NS_NET);
        g_clear_pointer(&c, berth_config_free);

        /* A later Mode= wins, and takes the net namespace with it. */
        g_assert_cmpint(parse("[Network]\nMode=host\nMode=none\n" ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpint(c->network_mode, ==, BERTH_NETWORK_NONE);
        g_assert_false(c->host_namespaces & BERTH_NS_NET);
        g_clear_pointer(&c, berth_config_free);

        g_assert_cmpint(parse("[Security]\nHostNamespaces=net,pid cgroup\n" ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpint(c->network_mode, ==, BERTH_NETWORK_HOST);
        g_assert_cmpuint(c->host_namespaces, ==, BERTH_NS_NET | BERTH_NS_PID | BERTH_NS_CGROUP);
        g_assert_cmpint(berth_config_set(c, NULL, "HostNamespaces", "", "t", NULL), ==, 0);
        g_assert_cmpuint(c->host_namespaces, ==, 0);
        g_assert_cmpint(c->network_mode, ==, BERTH_NETWORK_BRIDGE);
        g_clear_pointer(&c, berth_config_free);

        FAILS("[Security]\nHostNamespaces=pid mount\n" ROOTFS, "HostNamespaces=pid mount", "mount namespace");
        FAILS("[Security]\nHostNamespaces=user\n" ROOTFS, "HostNamespaces=user", "PrivateUsers");
        FAILS("[Security]\nHostNamespaces=time\n" ROOTFS, "HostNamespaces=time", "unknown namespace");
        FAILS("[Network]\nMode=host\nPort=tcp:80:80\n" ROOTFS, "[Network] Port=tcp:80:80", "Mode=bridge");
        FAILS("[Network]\nMode=none\nAddress=10.0.0.2\n" ROOTFS, "[Network] Address=10.0.0.2", "Mode=bridge");
        FAILS("[Network]\nMode=host\nIPv6=yes\n" ROOTFS, "IPv6=yes", "Mode=bridge");
        FAILS("[Network]\nMode=nat\n" ROOTFS, "Mode=nat", "bridge, none or host");
        FAILS("[Network]\nNetwork=../etc\n" ROOTFS, "Network=../etc", "invalid name");
        FAILS("[Network]\nPort=tcp:80:80\nPort=tcp:0.0.0.0:80:81\n" ROOTFS, "Port=", "published twice");
        FAILS("[Network]\nPort=sctp:80:80\n" ROOTFS, "Port=sctp:80:80", "protocol");
        FAILS("[Network]\nPort=tcp:::1:80:80\n" ROOTFS, "Port=", "expected PROTO");
        FAILS("[Network]\nAddress=127.0.0.1\n" ROOTFS, "Address=127.0.0.1", "unicast");
        FAILS("[Network]\nAddress=255.255.255.255\n" ROOTFS, "Address=255.255.255.255", "unicast");
        FAILS("[Network]\nAddress=224.0.0.1\n" ROOTFS, "Address=224.0.0.1", "unicast");
        FAILS("[Network]\nAddress=0.0.0.0\n" ROOTFS, "Address=0.0.0.0", "unicast");
        FAILS("[Network]\nAddress=10.0.0\n" ROOTFS, "Address=10.0.0", "invalid IPv4");

        /* different protocols or host addresses may share a port number */
        g_assert_cmpint(parse("[Network]\nPort=tcp:53:53 udp:53:53 tcp:10.0.0.1:80:80 tcp:10.0.0.2:80:80\n" ROOTFS,
                              &c, NULL), ==, 0);
        g_assert_cmpuint(c->ports->len, ==, 4);
}

static void test_finalize_conflicts(void) {
        FAILS("", "web: [Rootfs] Directory=, Layers=", "required");
        FAILS("[Rootfs]\nDirectory=/a\nLayers=/b /c\n", "web.conf: [Rootfs] Layers=/b /c", "Directory=");
        FAILS("[Rootfs]\nLayers=/b\nEphemeral=yes\nUpperDirectory=/u\n", "UpperDirectory=/u", "Ephemeral");
        FAILS("[Security]\nCapability=sys_admin\nDropCapability=CAP_SYS_ADMIN\n" ROOTFS,
              "[Security] DropCapability=CAP_SYS_ADMIN", "CAP_SYS_ADMIN is also listed");
        FAILS("[Security]\nSystemCallAllow=keyctl\nSystemCallDeny=keyctl\n" ROOTFS,
              "[Security] SystemCallDeny=keyctl", "also listed");
        FAILS("[Files]\nBind=/a:/x\nTemporaryFileSystem=/x\n" ROOTFS, "TemporaryFileSystem=", "/x is used");
        FAILS("[Files]\nBind=/a:/x\nBindReadOnly=/b:/x/\n" ROOTFS, "[Files] Bind=", "/x is used");

        /* Directory= reset in a later assignment makes Layers= valid */
        g_autoptr(BerthConfig) c = NULL;
        g_assert_cmpint(parse("[Rootfs]\nDirectory=/a\nDirectory=\nLayers=/b\n", &c, NULL), ==, 0);
        g_assert_null(c->directory);
        g_assert_cmpstr(c->layers[0], ==, "/b");

        /* an invalid name is caught by finalize */
        g_autoptr(BerthConfig) bad = berth_config_new("-bad");
        g_autoptr(GError) e = NULL;
        g_assert_cmpint(berth_config_set(bad, NULL, "Directory", "/a", "t", NULL), ==, 0);
        g_assert_cmpint(berth_config_finalize(bad, &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e->message, "invalid container name"));
}

static void test_values(void) {
        FAILS("[Container]\nBoot=maybe\n" ROOTFS, "[Container] Boot=maybe", "invalid boolean");
        FAILS("[Container]\nCommand=/bin/sh -c 'unterminated\n" ROOTFS, "Command=", "invalid command line");
        FAILS("[Container]\nCommand=\"\" -x\n" ROOTFS, "Command=\"\" -x", "empty program name");
        FAILS("[Container]\nEnvironment=1A=x\n" ROOTFS, "Environment=1A=x", "valid name");
        FAILS("[Container]\nEnvironment=NOEQUALS\n" ROOTFS, "Environment=NOEQUALS", "NAME=VALUE");
        FAILS("[Container]\nEnvironment=A=\"x\n" ROOTFS, "Environment=", "quoting");
        FAILS("[Container]\nWorkingDirectory=srv\n" ROOTFS, "WorkingDirectory=srv", "not absolute");
        FAILS("[Container]\nUser=root:root\n" ROOTFS, "User=root:root", "invalid user");
        FAILS("[Container]\nUser=4294967295\n" ROOTFS, "User=4294967295", "numeric");
        FAILS("[Container]\nGroup=-wheel\n" ROOTFS, "Group=-wheel", "invalid");
        FAILS("[Container]\nSupplementaryGroups=adm b/d\n" ROOTFS, "SupplementaryGroups=", "\"b/d\"");
        FAILS("[Container]\nHostname=-web\n" ROOTFS, "Hostname=-web", "invalid hostname");
        FAILS("[Container]\nHostname=a..b\n" ROOTFS, "Hostname=a..b", "invalid hostname");
        FAILS("[Container]\nHostname=under_score\n" ROOTFS, "Hostname=under_score", "invalid hostname");
        FAILS("[Container]\nKillTimeoutSec=0\n" ROOTFS, "KillTimeoutSec=0", "greater than zero");
        FAILS("[Container]\nKillTimeoutSec=5 parsecs\n" ROOTFS, "KillTimeoutSec=5 parsecs", "time span");
        FAILS("[Rootfs]\nDirectory=/srv/../etc\n", "Directory=/srv/../etc", "\"..\"");
        FAILS("[Rootfs]\nLayers=/a b\n", "Layers=/a b", "\"b\": path is not absolute");
        FAILS("[Rootfs]\nReadOnly=2\nDirectory=/srv\n", "ReadOnly=2", "boolean");
        FAILS("[Files]\nBind=/a:/b:rx\n" ROOTFS, "Bind=/a:/b:rx", "bind option");
        FAILS("[Files]\nBind=/a:/b:ro:rw\n" ROOTFS, "Bind=/a:/b:ro:rw", "expected SOURCE");
        FAILS("[Files]\nBind=/a:/\n" ROOTFS, "Bind=/a:/", "root directory");
        FAILS("[Files]\nBindReadOnly=/a:/b:ro\n" ROOTFS, "BindReadOnly=/a:/b:ro", "expected SOURCE[:DESTINATION]");
        FAILS("[Files]\nBind=/a:/x/../../etc\n" ROOTFS, "Bind=", "destination", "\"..\"");
        FAILS("[Files]\nTemporaryFileSystem=/tmp:size=1M,exec;rm\n" ROOTFS, "TemporaryFileSystem=", "tmpfs option");
        FAILS("[Files]\nTemporaryFileSystem=/tmp:mode=999\n" ROOTFS, "TemporaryFileSystem=/tmp:mode=999", "tmpfs option");
        FAILS("[Files]\nTemporaryFileSystem=/tmp:noexec\n" ROOTFS, "TemporaryFileSystem=/tmp:noexec", "tmpfs option");
        FAILS("[Files]\nTemporaryFileSystem=/tmp:size=12X\n" ROOTFS, "TemporaryFileSystem=", "tmpfs option");
        FAILS("[Files]\nTemporaryFileSystem=/tmp:huge=sometimes\n" ROOTFS, "TemporaryFileSystem=", "tmpfs option");
        FAILS("[Files]\nTemporaryFileSystem=/tmp:\n" ROOTFS, "TemporaryFileSystem=/tmp:", "empty option");
        FAILS("[Files]\nTemporaryFileSystem=/tmp:size=\n" ROOTFS, "TemporaryFileSystem=", "tmpfs option");
        FAILS("[Security]\nCapability=all\n" ROOTFS, "Capability=all", "\"all\" is not allowed");
        FAILS("[Security]\nDropCapability=CAP_FLY\n" ROOTFS, "DropCapability=CAP_FLY", "unknown capability");
        FAILS("[Security]\nSystemCallAllow=not_a_syscall\n" ROOTFS, "SystemCallAllow=", "unknown system call");
        FAILS("[Security]\nSeccomp=\xc3\xa9\n" ROOTFS, "Seccomp=\xc3\xa9", "boolean");
        FAILS("[Limits]\nMemoryMax=0\n" ROOTFS, "MemoryMax=0", "greater than zero");
        FAILS("[Limits]\nMemoryHigh=-1\n" ROOTFS, "MemoryHigh=-1", "invalid size");
        FAILS("[Limits]\nMemorySwapMax=99999999999T\n" ROOTFS, "MemorySwapMax=", "out of range");
        FAILS("[Limits]\nCPUQuota=50\n" ROOTFS, "CPUQuota=50", "percentage");
        FAILS("[Limits]\nCPUQuota=0%\n" ROOTFS, "CPUQuota=0%", "percentage");
        FAILS("[Limits]\nCPUQuota=99999999999999999999%\n" ROOTFS, "CPUQuota=", "out of range");
        FAILS("[Limits]\nCPUWeight=10001\n" ROOTFS, "CPUWeight=10001", "1 to 10000");
        FAILS("[Limits]\nIOWeight=0\n" ROOTFS, "IOWeight=0", "1 to 10000");
        FAILS("[Limits]\nTasksMax=0\n" ROOTFS, "TasksMax=0", "task count");
        FAILS("[Limits]\nTasksMax=18446744073709551614\n" ROOTFS, "TasksMax=", "task count");
        FAILS("[Limits]\nAllowedCPUs=3-1\n" ROOTFS, "AllowedCPUs=3-1", "CPU list");

        g_autoptr(BerthConfig) c = NULL;
        g_assert_cmpint(parse("[Limits]\nMemoryMax=infinity\nCPUQuota=0.5%\nTasksMax=infinity\n"
                              "[Container]\nKillTimeoutSec=250ms\nCommand=\"/bin/my prog\" 'a b' c\\ d\n"
                              "[Security]\nNoNewPrivileges=\nSeccomp=no\nSeccomp=\n" ROOTFS, &c, NULL), ==, 0);
        g_assert_cmpuint(c->limits.memory_max, ==, BERTH_LIMIT_INFINITY);
        g_assert_cmpuint(c->limits.cpu_quota_per_sec_usec, ==, 5000);
        g_assert_cmpuint(c->limits.tasks_max, ==, BERTH_LIMIT_INFINITY);
        g_assert_cmpuint(c->kill_timeout_usec, ==, 250000);
        g_assert_cmpstr(c->command[0], ==, "/bin/my prog");
        g_assert_cmpstr(c->command[1], ==, "a b");
        g_assert_cmpstr(c->command[2], ==, "c d");
        g_assert_true(c->no_new_privileges); /* empty = default */
        g_assert_true(c->seccomp);
}

/* ---------------------------------------------------------------------------------------------- */
/* parse helpers */

static void test_parse_size(void) {
        static const struct { const char *s; uint64_t v; } ok[] = {
                { "0", 0 }, { "512", 512 }, { "64K", 65536 }, { "64k", 65536 }, { "1M", 1 << 20 },
                { "1.5G", 3ULL << 29 }, { "2T", 2ULL << 40 }, { "0.5K", 512 }, { "1.0009765625K", 1025 },
                { "infinity", BERTH_LIMIT_INFINITY }, { "18446744073709551613", UINT64_MAX - 2 },
                { "16777215T", 16777215ULL << 40 },
        };
        static const char *const bad[] = {
                "", " 1", "1 ", "-1", "+1", "1.5", "1.", ".5K", "1KB", "1Q", "K", "1e3", "0x10",
                "infinite", "Infinity", "18446744073709551614", "18446744073709551615",
                "18446744073709551616", "16777216T", "99999999999999999999999", "1,5G",
        };
        uint64_t v;

        for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
                v = 42;
                if (berth_parse_size(ok[i].s, &v) != 0)
                        g_error("size \"%s\" rejected", ok[i].s);
                g_assert_cmpuint(v, ==, ok[i].v);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                v = 42;
                if (berth_parse_size(bad[i], &v) != -EINVAL)
                        g_error("size \"%s\" accepted", bad[i]);
                g_assert_cmpuint(v, ==, 42);
        }
        g_assert_cmpint(berth_parse_size(NULL, &v), ==, -EINVAL);
}

static void test_parse_percent(void) {
        uint64_t v;

        g_assert_cmpint(berth_parse_percent_quota("50%", &v), ==, 0);
        g_assert_cmpuint(v, ==, 500000);
        g_assert_cmpint(berth_parse_percent_quota("100%", &v), ==, 0);
        g_assert_cmpuint(v, ==, 1000000);
        g_assert_cmpint(berth_parse_percent_quota("250%", &v), ==, 0);
        g_assert_cmpuint(v, ==, 2500000);
        g_assert_cmpint(berth_parse_percent_quota("12.5%", &v), ==, 0);
        g_assert_cmpuint(v, ==, 125000);
        g_assert_cmpint(berth_parse_percent_quota("0.0001%", &v), ==, 0);
        g_assert_cmpuint(v, ==, 1);
        static const char *const bad[] = {
                "", "%", "50", "50 %", "-50%", "0%", "0.00001%", "50%%", "1.%", "abc%",
                "99999999999999999999%", "1844674407370956%",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                if (berth_parse_percent_quota(bad[i], &v) != -EINVAL)
                        g_error("quota \"%s\" accepted", bad[i]);
}

static void test_parse_bool(void) {
        static const char *const yes[] = { "1", "yes", "YES", "y", "true", "True", "t", "on", "ON" };
        static const char *const no[] = { "0", "no", "No", "n", "false", "FALSE", "f", "off" };
        static const char *const bad[] = { "", "2", "yess", "enable", " yes", "yes ", "-1", "nope" };
        bool b;

        for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
                b = false;
                g_assert_cmpint(berth_parse_bool(yes[i], &b), ==, 0);
                g_assert_true(b);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(no); i++) {
                b = true;
                g_assert_cmpint(berth_parse_bool(no[i], &b), ==, 0);
                g_assert_false(b);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                g_assert_cmpint(berth_parse_bool(bad[i], &b), ==, -EINVAL);
        g_assert_cmpint(berth_parse_bool(NULL, &b), ==, -EINVAL);
}

static void test_capabilities(void) {
        int cap;

        for (int i = 0; i <= CAP_LAST_CAP; i++) {
                const char *n = berth_capability_name(i);
                g_assert_nonnull(n);
                g_assert_true(g_str_has_prefix(n, "CAP_"));
                g_assert_cmpint(berth_parse_capability(n, &cap), ==, 0);
                g_assert_cmpint(cap, ==, i);
                g_autofree char *lower = g_ascii_strdown(n + 4, -1);
                g_assert_cmpint(berth_parse_capability(lower, &cap), ==, 0);
                g_assert_cmpint(cap, ==, i);
        }
        g_assert_cmpstr(berth_capability_name(CAP_CHOWN), ==, "CAP_CHOWN");
        g_assert_cmpstr(berth_capability_name(CAP_SYS_ADMIN), ==, "CAP_SYS_ADMIN");
        g_assert_cmpstr(berth_capability_name(CAP_NET_BIND_SERVICE), ==, "CAP_NET_BIND_SERVICE");
        g_assert_cmpstr(berth_capability_name(40), ==, "CAP_CHECKPOINT_RESTORE");
        g_assert_null(berth_capability_name(41));
        g_assert_null(berth_capability_name(-1));
        g_assert_cmpint(berth_parse_capability("cap_net_admin", &cap), ==, 0);
        g_assert_cmpint(cap, ==, CAP_NET_ADMIN);
        g_assert_cmpint(berth_parse_capability("bpf", &cap), ==, 0);
        g_assert_cmpint(cap, ==, CAP_BPF);
        static const char *const bad[] = { "", "CAP_", "all", "ALL", "12", "CAP_FLY", "net admin",
                                           "CAP_NET_ADMIN ", "CAP_CAP_CHOWN", "chown2" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                g_assert_cmpint(berth_parse_capability(bad[i], &cap), ==, -EINVAL);
}

static void test_parse_cpuset(void) {
        static const char *const ok[] = { "0", "0-3", "0-3,5", "1,3,5-7", "8191", "0-0", "7,1" };
        static const char *const bad[] = { "", ",", "0,", ",0", "3-1", "-1", "1-", "a", "0 - 3",
                                           "0-3, 5", "8192", "0-8192", "99999999999999999999", "1--2" };
        for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
                if (berth_parse_cpuset(ok[i]) != 0)
                        g_error("cpuset \"%s\" rejected", ok[i]);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                if (berth_parse_cpuset(bad[i]) != -EINVAL)
                        g_error("cpuset \"%s\" accepted", bad[i]);
        g_assert_cmpint(berth_parse_cpuset(NULL), ==, -EINVAL);
}

static void test_parse_timespan(void) {
        static const struct { const char *s; uint64_t v; } ok[] = {
                { "10s", 10000000 }, { "10", 10000000 }, { "500ms", 500000 }, { "1min", 60000000 },
                { "1min 30s", 90000000 }, { "1min30s", 90000000 }, { "2h", 7200000000ULL },
                { "1.5s", 1500000 }, { "7us", 7 }, { "1d", 86400000000ULL }, { "1w", 604800000000ULL },
                { "0", 0 }, { " 3 s ", 3000000 }, { "1h 1m 1s 1ms 1us", 3661001001ULL },
        };
        static const char *const bad[] = { "", " ", "s", "-1s", "10 parsecs", "1.s", "10S", "1min -1s",
                                           "infinity", "99999999999999999999s", "40000000w", "1,5s" };
        uint64_t v;

        for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
                if (berth_parse_timespan(ok[i].s, &v) != 0)
                        g_error("timespan \"%s\" rejected", ok[i].s);
                g_assert_cmpuint(v, ==, ok[i].v);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                if (berth_parse_timespan(bad[i], &v) != -EINVAL)
                        g_error("timespan \"%s\" accepted", bad[i]);
}

static void test_name_validate(void) {
        g_autofree char *max = g_strnfill(BERTH_NAME_MAX, 'a');
        g_autofree char *too_long = g_strnfill(BERTH_NAME_MAX + 1, 'a');
        static const char *const ok[] = { "web", "a", "0", "Web-01", "my_app.v2", "a.b.c", "x-" };
        static const char *const bad[] = {
                "", ".", "..", "a..b", "-web", "_web", ".web", "a/b", "/web", "web/", "a b", "caf\xc3\xa9",
                "\xe2\x98\x83", "a:b", "a\nb", "web*", "a\\b", "a@b",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
                g_assert_cmpint(berth_name_validate(ok[i]), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                if (berth_name_validate(bad[i]) != -EINVAL)
                        g_error("name \"%s\" accepted", bad[i]);
        g_assert_cmpint(berth_name_validate(max), ==, 0);
        g_assert_cmpint(berth_name_validate(too_long), ==, -EINVAL);
        g_assert_cmpint(berth_name_validate(NULL), ==, -EINVAL);
}

/* ---------------------------------------------------------------------------------------------- */
/* Malformed-input corpus: every tests/unit/corpus/<name>.conf must fail to load. Lines
 * "# expect: TEXT" at the top list substrings the error message must contain (the file name
 * is always required too). */

static char **corpus_expectations(const char *path) {
        g_autofree char *data = NULL;
        gsize len;
        g_autoptr(GPtrArray) out = g_ptr_array_new();

        g_assert_true(g_file_get_contents(path, &data, &len, NULL));
        g_auto(GStrv) lines = g_strsplit(data, "\n", 16);
        for (char **l = lines; *l; l++) {
                if (!g_str_has_prefix(*l, "# expect: "))
                        break;
                g_ptr_array_add(out, g_strdup(*l + strlen("# expect: ")));
        }
        g_ptr_array_add(out, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static void test_corpus(void) {
        const char *dir = TEST_SRCDIR "/corpus";
        g_autoptr(GError) e = NULL;
        GDir *d = g_dir_open(dir, 0, &e);
        const char *entry;
        guint n = 0;

        g_assert_no_error(e);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        while ((entry = g_dir_read_name(d)))
                if (g_str_has_suffix(entry, ".conf"))
                        g_ptr_array_add(names, g_strndup(entry, strlen(entry) - strlen(".conf")));
        g_dir_close(d);

        for (guint i = 0; i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autofree char *path = g_strdup_printf("%s/%s.conf", dir, name);
                g_autofree char *file = g_strdup_printf("%s.conf", name);
                g_auto(GStrv) expect = corpus_expectations(path);
                g_autoptr(BerthConfig) c = NULL;

                if (!expect[0])
                        g_error("%s: no \"# expect: \" line", path);
                int r = berth_config_load(dir, name, &c, &e);
                if (r >= 0)
                        g_error("%s: loaded without error", path);
                g_assert_null(c);
                g_assert_nonnull(e);
                g_assert_true(e->domain == BERTH_CONFIG_ERROR);
                g_assert_cmpint(e->code, ==, -r);
                if (g_test_verbose())
                        g_printerr("%s: %s\n", file, e->message);
                if (!strstr(e->message, file))
                        g_error("%s: error \"%s\" does not name the file", path, e->message);
                for (char **x = expect; *x; x++)
                        if (!strstr(e->message, *x))
                                g_error("%s: error \"%s\" does not contain \"%s\"", path, e->message, *x);
                g_clear_error(&e);
                n++;
        }
        g_assert_cmpuint(n, >=, 25);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/defaults", test_defaults);
        g_test_add_func("/config/full", test_full);
        g_test_add_func("/config/finalize-defaults", test_finalize_defaults);
        g_test_add_func("/config/error-format", test_error_format);
        g_test_add_func("/config/unknown", test_unknown);
        g_test_add_func("/config/repeated-keys", test_repeated_keys);
        g_test_add_func("/config/dropins", test_dropins);
        g_test_add_func("/config/set", test_set);
        g_test_add_func("/config/private-users", test_private_users);
        g_test_add_func("/config/network-modes", test_network_modes);
        g_test_add_func("/config/finalize-conflicts", test_finalize_conflicts);
        g_test_add_func("/config/values", test_values);
        g_test_add_func("/config/parse-size", test_parse_size);
        g_test_add_func("/config/parse-percent", test_parse_percent);
        g_test_add_func("/config/parse-bool", test_parse_bool);
        g_test_add_func("/config/capabilities", test_capabilities);
        g_test_add_func("/config/parse-cpuset", test_parse_cpuset);
        g_test_add_func("/config/parse-timespan", test_parse_timespan);
        g_test_add_func("/config/name-validate", test_name_validate);
        g_test_add_func("/config/corpus", test_corpus);
        return g_test_run();
}
