/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User=/Group= resolution in fake root file systems built in a temp dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"
#include "util.h"

static char *base;

static const char passwd_main[] =
        "# the container's own users\n"
        "root:x:0:0:root:/root:/bin/bash\n"
        "\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "broken line without colons\n"
        "toofew:x:5:5\n"
        "toomany:x:6:6::/:/bin/sh:extra\n"
        "badnum:x:abc:5::/:/bin/sh\n"
        "neguid:x:-1:5::/:/bin/sh\n"
        "hugeuid:x:4294967295:5::/:/bin/sh\n"
        "badgid:x:7:7x::/:/bin/sh\n"
        ":x:8:8::/:/bin/sh\n"
        "+nisuser::::::\n"
        "web:x:1000:1001:Web User,,,:/srv/web:/bin/dash\n"
        "nohome:x:1002:1002:::\n"
        "dup:x:2000:2000::/first:/bin/sh\n"
        "dup:x:2001:2001::/second:/bin/sh\n"
        "crlf:x:3000:3000::/crlf:/bin/sh\r\n"
        "last:x:3001:3001::/last:/bin/last"; /* no final newline */

static const char group_main[] =
        "# groups\n"
        "root:x:0:\n"
        "daemon:x:1:\n"
        "\n"
        "web:x:1001:\n"
        "audio:x:29:web,other\n"
        "video:x:44:other,web2,web\n"
        "users:x:100:\n"
        "broken\n"
        "staff:x:50:webx,xweb,we\n"
        "badgid:x:5x:web\n"
        "toomany:x:51:web:extra\n"
        "dupgrp:x:60:\n"
        "dupgrp:x:61:\n"
        "lastgrp:x:3001:web";

static char *make_root(const char *name) {
        char *root = g_build_filename(base, name, NULL);
        g_autofree char *etc = g_build_filename(root, "etc", NULL);
        g_assert_cmpint(g_mkdir_with_parents(etc, 0755), ==, 0);
        return root;
}

static void write_file(const char *root, const char *rel, const char *data, gssize len) {
        g_autofree char *p = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(p);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(p, data, len, NULL));
}

static void make_symlink(const char *root, const char *rel, const char *target) {
        g_autofree char *p = g_build_filename(root, rel, NULL);
        g_assert_cmpint(symlink(target, p), ==, 0);
}

static int open_root(const char *root) {
        int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        return fd;
}

static char *main_root;

static int resolve(const char *root, const char *user, const char *group, char **supp, BerthUser *u) {
        int fd = open_root(root);
        int r = berth_user_resolve(fd, user, group, supp, u);
        close(fd);
        return r;
}

static void assert_groups(const BerthUser *u, const gid_t *want, size_t n) {
        g_assert_cmpuint(u->n_groups, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(u->groups[i], ==, want[i]);
}

static void test_root_default(void) {
        BerthUser u = {};

        g_assert_cmpint(resolve(main_root, NULL, NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 0);
        g_assert_cmpuint(u.gid, ==, 0);
        g_assert_cmpstr(u.home, ==, "/root");
        g_assert_cmpstr(u.shell, ==, "/bin/bash");
        g_assert_cmpuint(u.n_groups, ==, 0);
        berth_user_done(&u);
        g_assert_null(u.home);

        g_assert_cmpint(resolve(main_root, "root", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 0);
        berth_user_done(&u);
        g_assert_cmpint(resolve(main_root, "0", NULL, NULL, &u), ==, 0);
        g_assert_cmpstr(u.home, ==, "/root");
        berth_user_done(&u);
}

static void test_by_name(void) {
        const gid_t want[] = { 29, 44, 3001 };
        BerthUser u = {};

        g_assert_cmpint(resolve(main_root, "web", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 1000);
        g_assert_cmpuint(u.gid, ==, 1001);
        g_assert_cmpstr(u.home, ==, "/srv/web");
        g_assert_cmpstr(u.shell, ==, "/bin/dash");
        /* memberships: audio, video, lastgrp; not staff ("webx", "xweb", "we"),
         * not the malformed lines */
        assert_groups(&u, want, G_N_ELEMENTS(want));
        berth_user_done(&u);

        g_assert_cmpint(resolve(main_root, "daemon", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 1);
        g_assert_cmpstr(u.shell, ==, "/usr/sbin/nologin");
        berth_user_done(&u);

        /* empty home and shell fields get defaults */
        g_assert_cmpint(resolve(main_root, "nohome", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 1002);
        g_assert_cmpstr(u.home, ==, "/");
        g_assert_cmpstr(u.shell, ==, "/bin/sh");
        berth_user_done(&u);

        /* first entry wins */
        g_assert_cmpint(resolve(main_root, "dup", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 2000);
        g_assert_cmpstr(u.home, ==, "/first");
        berth_user_done(&u);

        /* CRLF line endings, missing final newline */
        g_assert_cmpint(resolve(main_root, "crlf", NULL, NULL, &u), ==, 0);
        g_assert_cmpstr(u.shell, ==, "/bin/sh");
        berth_user_done(&u);
        g_assert_cmpint(resolve(main_root, "last", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 3001);
        g_assert_cmpstr(u.shell, ==, "/bin/last");
        berth_user_done(&u);
}

static void test_by_number(void) {
        const gid_t want[] = { 29, 44, 3001 };
        BerthUser u = {};

        /* a number with an entry: everything from the entry, memberships by its name */
        g_assert_cmpint(resolve(main_root, "1000", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 1000);
        g_assert_cmpuint(u.gid, ==, 1001);
        g_assert_cmpstr(u.home, ==, "/srv/web");
        assert_groups(&u, want, G_N_ELEMENTS(want));
        berth_user_done(&u);

        /* without an entry */
        g_assert_cmpint(resolve(main_root, "4242", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 4242);
        g_assert_cmpuint(u.gid, ==, 4242);
        g_assert_cmpstr(u.home, ==, "/");
        g_assert_cmpstr(u.shell, ==, "/bin/sh");
        g_assert_cmpuint(u.n_groups, ==, 0);
        berth_user_done(&u);

        g_assert_cmpint(resolve(main_root, "4242", "users", NULL, &u), ==, 0);
        g_assert_cmpuint(u.gid, ==, 100);
        berth_user_done(&u);
        g_assert_cmpint(resolve(main_root, "4242", "77", NULL, &u), ==, 0);
        g_assert_cmpuint(u.gid, ==, 77);
        berth_user_done(&u);

        /* the largest valid id; -1 is not one */
        g_assert_cmpint(resolve(main_root, "4294967294", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 4294967294u);
        berth_user_done(&u);
        g_assert_cmpint(resolve(main_root, "4294967295", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "99999999999", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "4242", "4294967295", NULL, &u), ==, -ESRCH);
}

static void test_groups(void) {
        char *supp[] = { "users", "7", "audio", "users", NULL };
        const gid_t want[] = { 100, 7, 29, 44, 3001 };
        char *bad_supp[] = { "users", "nosuchgroup", NULL };
        BerthUser u = {};

        g_assert_cmpint(resolve(main_root, "web", "video", supp, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 1000);
        g_assert_cmpuint(u.gid, ==, 44);
        /* configured first, then memberships, no duplicates */
        assert_groups(&u, want, G_N_ELEMENTS(want));
        berth_user_done(&u);

        /* the first of two same-named groups */
        g_assert_cmpint(resolve(main_root, "web", "dupgrp", NULL, &u), ==, 0);
        g_assert_cmpuint(u.gid, ==, 60);
        berth_user_done(&u);

        g_assert_cmpint(resolve(main_root, "web", "nosuchgroup", NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "web", NULL, bad_supp, &u), ==, -ESRCH);
        /* malformed group lines are not groups */
        g_assert_cmpint(resolve(main_root, "web", "broken", NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "web", "badgid", NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "web", "toomany", NULL, &u), ==, -ESRCH);
}

static void test_unknown(void) {
        BerthUser u = {};

        g_assert_cmpint(resolve(main_root, "nosuchuser", NULL, NULL, &u), ==, -ESRCH);
        /* malformed lines are not users */
        g_assert_cmpint(resolve(main_root, "toofew", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "toomany", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "badnum", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "neguid", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "hugeuid", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "badgid", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "+nisuser", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "# the container's own users", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(main_root, "", NULL, NULL, &u), ==, -EINVAL);
        g_assert_cmpint(resolve(main_root, "-1", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(berth_user_resolve(-1, NULL, NULL, NULL, &u), ==, -EINVAL);
        g_assert_null(u.home);
}

static void test_not_host_nss(void) {
        g_autofree char *root = make_root("empty");
        BerthUser u = {};

        /* no etc/passwd, no etc/group: numbers work, names do not (the host's
         * "daemon" and "root" entries must not be used) */
        g_assert_cmpint(resolve(root, NULL, NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 0);
        g_assert_cmpuint(u.gid, ==, 0);
        g_assert_cmpstr(u.home, ==, "/");
        berth_user_done(&u);
        g_assert_cmpint(resolve(root, "5", "6", NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 5);
        g_assert_cmpuint(u.gid, ==, 6);
        berth_user_done(&u);
        g_assert_cmpint(resolve(root, "daemon", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(root, "root", NULL, NULL, &u), ==, -ESRCH);
        g_assert_cmpint(resolve(root, "5", "daemon", NULL, &u), ==, -ESRCH);
}

static void test_symlink_absolute(void) {
        g_autofree char *root = make_root("abs");
        BerthUser u = {};

        /* etc/passwd -> /etc/shadow: must be the image's /etc/shadow, not the host's */
        write_file(root, "etc/shadow", "inside:x:777:778::/inside:/bin/sh\n", -1);
        make_symlink(root, "etc/passwd", "/etc/shadow");
        /* etc/group -> /etc/group-real */
        write_file(root, "etc/group-real", "insidegrp:x:779:inside\n", -1);
        make_symlink(root, "etc/group", "/etc/group-real");

        g_assert_cmpint(resolve(root, "inside", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 777);
        g_assert_cmpuint(u.gid, ==, 778);
        g_assert_cmpuint(u.n_groups, ==, 1);
        g_assert_cmpuint(u.groups[0], ==, 779);
        berth_user_done(&u);
        g_assert_cmpint(resolve(root, "root", NULL, NULL, &u), ==, -ESRCH);
}

static void test_symlink_relative(void) {
        g_autofree char *root = make_root("rel");
        g_autofree char *host_side = g_build_filename(base, "passwd-outside", NULL);
        g_autofree char *dir = g_build_filename(root, "etc/sub", NULL);
        BerthUser u = {};

        /* A file right outside the root that a "../" escape would reach. */
        g_assert_true(g_file_set_contents(host_side, "outside:x:666:666::/:/bin/sh\n", -1, NULL));
        write_file(root, "passwd-outside", "rel:x:888:888::/rel:/bin/sh\n", -1);
        make_symlink(root, "etc/passwd", "../../../../../../../../passwd-outside");
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        make_symlink(root, "etc/group", "sub/../../../group-outside");

        g_assert_cmpint(resolve(root, "rel", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 888);
        g_assert_cmpstr(u.home, ==, "/rel");
        berth_user_done(&u);
        g_assert_cmpint(resolve(root, "outside", NULL, NULL, &u), ==, -ESRCH);

        /* a symlinked directory escaping too */
        g_autofree char *root2 = make_root("reldir");
        g_autofree char *etc2 = g_build_filename(root2, "etc", NULL);
        g_assert_cmpint(g_rmdir(etc2), ==, 0);
        make_symlink(root2, "etc", "../../../../../../../../../../etc");
        /* resolves to root2/etc -> itself: ELOOP, never the host's /etc */
        g_assert_cmpint(resolve(root2, "root", NULL, NULL, &u), <, 0);
        g_assert_cmpint(resolve(root2, "root", NULL, NULL, &u), !=, -ESRCH);
        g_autofree char *root3 = make_root("reldir2");
        write_file(root3, "real/etc/passwd", "r3:x:31:31::/:/bin/sh\n", -1);
        g_autofree char *etc3 = g_build_filename(root3, "etc", NULL);
        g_assert_cmpint(g_rmdir(etc3), ==, 0);
        make_symlink(root3, "etc", "/../../real/etc");
        g_assert_cmpint(resolve(root3, "r3", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 31);
        berth_user_done(&u);
}

static void test_not_regular(void) {
        g_autofree char *root = make_root("fifo");
        g_autofree char *fifo = g_build_filename(root, "etc/passwd", NULL);
        g_autofree char *root2 = make_root("dir");
        g_autofree char *dir = g_build_filename(root2, "etc/passwd", NULL);
        g_autofree char *root3 = make_root("devnull");
        BerthUser u = {};

        g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
        /* must fail, not block on the FIFO */
        g_assert_cmpint(resolve(root, "root", NULL, NULL, &u), ==, -EBADFD);
        g_assert_cmpint(resolve(root, "0", NULL, NULL, &u), ==, -EBADFD);

        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
        g_assert_cmpint(resolve(root2, "root", NULL, NULL, &u), ==, -EBADFD);

        /* a symlink to a device node of the host: inside the root it does not exist */
        make_symlink(root3, "etc/passwd", "/dev/zero");
        g_assert_cmpint(resolve(root3, "root", NULL, NULL, &u), ==, -ESRCH);
        write_file(root3, "dev/zero", "z:x:9:9::/:/bin/sh\n", -1);
        g_assert_cmpint(resolve(root3, "z", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 9);
        berth_user_done(&u);

        /* group file checked as well */
        g_autofree char *root4 = make_root("fifogroup");
        g_autofree char *fifo4 = g_build_filename(root4, "etc/group", NULL);
        write_file(root4, "etc/passwd", "a:x:1:1::/:/bin/sh\n", -1);
        g_assert_cmpint(mkfifo(fifo4, 0644), ==, 0);
        g_assert_cmpint(resolve(root4, "a", NULL, NULL, &u), ==, -EBADFD);
}

static void test_too_big(void) {
        g_autofree char *root = make_root("big");
        g_autofree char *p = g_build_filename(root, "etc/passwd", NULL);
        g_autofree char *root2 = make_root("nul");
        BerthUser u = {};
        int fd;

        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, 4 * 1024 * 1024 + 1), ==, 0);
        close(fd);
        g_assert_cmpint(resolve(root, "root", NULL, NULL, &u), ==, -EFBIG);

        /* 4 MiB is not too big; the NUL padding is what makes it invalid */
        fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        const char line[] = "big:x:12:12::/:/bin/sh\n";
        g_assert_cmpint(write(fd, line, sizeof(line) - 1), ==, (ssize_t) sizeof(line) - 1);
        close(fd);
        g_assert_cmpint(truncate(p, 4 * 1024 * 1024), ==, 0); /* pads with NULs */
        g_assert_cmpint(resolve(root, "big", NULL, NULL, &u), ==, -EBADMSG);

        /* NUL bytes make the file invalid (a name could otherwise be cut short) */
        static const char with_nul[] = "ok:x:1:1::/:/bin/sh\nev\0il:x:0:0::/:/bin/sh\n";
        write_file(root2, "etc/passwd", with_nul, sizeof(with_nul) - 1);
        g_assert_cmpint(resolve(root2, "ok", NULL, NULL, &u), ==, -EBADMSG);
}

static void test_exact_limit(void) {
        g_autofree char *root = make_root("limit");
        g_autofree char *p = g_build_filename(root, "etc/passwd", NULL);
        GString *s = g_string_new(NULL);
        BerthUser u = {};

        /* a 4 MiB file of comments ending with a real entry */
        const char tail[] = "limit:x:13:13::/lim:/bin/sh\n";
        while (s->len < 4 * 1024 * 1024 - (sizeof(tail) - 1) - 80)
                g_string_append(s, "# padding padding padding padding padding padding padding padding\n");
        while (s->len < 4 * 1024 * 1024 - (sizeof(tail) - 1))
                g_string_append_c(s, '\n');
        g_string_append(s, tail);
        g_assert_cmpuint(s->len, ==, 4 * 1024 * 1024);
        g_assert_true(g_file_set_contents(p, s->str, s->len, NULL));
        g_string_free(s, TRUE);

        g_assert_cmpint(resolve(root, "limit", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.uid, ==, 13);
        g_assert_cmpstr(u.home, ==, "/lim");
        berth_user_done(&u);
}

static void test_many_groups(void) {
        g_autofree char *root = make_root("many");
        g_autofree char *root2 = make_root("toomany");
        GString *g = g_string_new(NULL);
        BerthUser u = {};

        write_file(root, "etc/passwd", "m:x:1:1::/:/bin/sh\n", -1);
        write_file(root2, "etc/passwd", "m:x:1:1::/:/bin/sh\n", -1);

        /* 65536 distinct memberships (the kernel's NGROUPS_MAX), each listed
         * twice, plus one gid repeated under many names */
        for (unsigned i = 0; i < 65536; i++)
                g_string_append_printf(g, "g%u:x:%u:m\ngg%u:x:%u:x,m\n", i, 100000 + i, i, 100000 + i);
        for (unsigned i = 0; i < 1000; i++)
                g_string_append_printf(g, "same%u:x:100000:m\n", i);
        write_file(root, "etc/group", g->str, g->len);
        g_assert_cmpint(resolve(root, "m", NULL, NULL, &u), ==, 0);
        g_assert_cmpuint(u.n_groups, ==, 65536);
        for (unsigned i = 0; i < 65536; i++)
                g_assert_cmpuint(u.groups[i], ==, 100000 + i);
        berth_user_done(&u);

        /* one more is too many */
        g_string_append(g, "extra:x:99:m\n");
        write_file(root2, "etc/group", g->str, g->len);
        g_assert_cmpint(resolve(root2, "m", NULL, NULL, &u), ==, -E2BIG);
        g_string_free(g, TRUE);
}

/* The runtime's own remover: it never follows a symlink or crosses a mount. */
static void rm_rf(const char *path) {
        (void) rm_rf_at(AT_FDCWD, path);
}

int main(int argc, char **argv) {
        int r;

        g_test_init(&argc, &argv, NULL);

        base = g_dir_make_tmp("berth-test-users-XXXXXX", NULL);
        g_assert_nonnull(base);
        main_root = make_root("main");
        write_file(main_root, "etc/passwd", passwd_main, -1);
        write_file(main_root, "etc/group", group_main, -1);

        g_test_add_func("/users/root-default", test_root_default);
        g_test_add_func("/users/by-name", test_by_name);
        g_test_add_func("/users/by-number", test_by_number);
        g_test_add_func("/users/groups", test_groups);
        g_test_add_func("/users/unknown", test_unknown);
        g_test_add_func("/users/not-host-nss", test_not_host_nss);
        g_test_add_func("/users/symlink-absolute", test_symlink_absolute);
        g_test_add_func("/users/symlink-relative", test_symlink_relative);
        g_test_add_func("/users/not-regular", test_not_regular);
        g_test_add_func("/users/too-big", test_too_big);
        g_test_add_func("/users/exact-limit", test_exact_limit);
        g_test_add_func("/users/many-groups", test_many_groups);
        r = g_test_run();

        rm_rf(base);
        g_free(base);
        g_free(main_root);
        return r;
}
