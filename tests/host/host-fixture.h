/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The fixture of the C host tests: root is required, argv[1] is
 * tests/system/lib/mkbusybox.sh, and a work directory under /var/tmp holds a
 * busybox rootfs, a run dir base and a state dir base, removed at the end.
 */

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

static char *rootfs, *workdir, *run_base, *state_base;

static inline void host_fixture_setup(const char *prog, int argc, char **argv) {
        if (getuid() != 0) {
                g_printerr("%s: the host tier needs root\n", prog);
                exit(1);
        }
        if (argc < 2) {
                g_printerr("usage: %s MKBUSYBOX\n", prog);
                exit(1);
        }
        workdir = g_strdup_printf("/var/tmp/%s.XXXXXX", prog);
        g_assert_nonnull(g_mkdtemp(workdir));
        rootfs = g_build_filename(workdir, "rootfs", NULL);
        run_base = g_build_filename(workdir, "run", NULL);
        state_base = g_build_filename(workdir, "state", NULL);
        g_mkdir(run_base, 0755);
        g_autofree char *cmd = g_strdup_printf("bash %s %s >/dev/null", argv[1], rootfs);
        g_assert_cmpint(system(cmd), ==, 0);
}

static inline void host_fixture_teardown(void) {
        (void) rm_rf_at(AT_FDCWD, workdir);
}
