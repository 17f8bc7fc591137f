/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Root filesystem of a container.
 *
 * Bind sources (and, with PrivateUsers=, the host's device nodes and the
 * idmapped overlay) become detached mount fds in the parent. The child makes
 * everything else inside its own mount namespace, which it first makes
 * private: without a user namespace the overlay from the configured layer
 * paths (the only host paths it resolves, before any container code exists),
 * then it pivots into the overlay and from there only resolves paths inside
 * the container, with every target of a security-relevant mount (masks,
 * read-only paths) opened as an O_PATH fd beneath a procfs/sysfs instance it
 * mounted itself, without following symlinks. Nothing is ever mounted in the
 * host's mount namespace.
 */

#include <stddef.h>

#include "runtime.h"

typedef struct BerthMounts {
        int overlay_fd;           /* PrivateUsers=: the detached overlay the runtime made for the
                                   * child; otherwise the child makes its own */
        char *lower_shown;        /* the lower layers, ":"-separated, top first */
        int dev_fds[6];           /* PrivateUsers= only: detached clones of host null zero full
                                   * random urandom tty (otherwise the child mknods its own) */
        int *bind_fds;            /* detached clones of each bind source, config binds then extra */
        size_t n_bind_fds;

        /* Child side, carried from berth_mounts_setup_root() to _rest(). */
        int devnull_fd;           /* O_PATH of the container's /dev/null: source of file masks */
        int sys_mfd;              /* sysfs instance, when made before the old root went */
        int mask_dir_fd;          /* the attached empty tmpfs that masks directories */
        bool proc_masked;
} BerthMounts;

/* Parent, before clone. On failure *msg (static or in msgbuf) says what failed. */
int berth_mounts_prepare(BerthContainer *c, char *msgbuf, size_t msglen);
/* Parent, after clone, with PrivateUsers=: the overlay with idmapped lower
 * layers (userns_fd), for the child. */
int berth_mounts_make_overlay(BerthContainer *c, int userns_fd, char *msgbuf, size_t msglen);
void berth_mounts_free(BerthMounts *m);
/* Collect the fds the child must keep open. Returns how many were stored. */
size_t berth_mounts_fds(const BerthMounts *m, int *fds, size_t max);

/* Does any Bind= or TemporaryFileSystem= land on or below path? */
bool berth_mounts_any_at_or_below(const BerthContainer *c, const char *path);

/* Child, in two steps. First, right after clone3 (or, with PrivateUsers=, as
 * soon as the overlay from the runtime arrives), in parallel with the
 * runtime's own work (network namespace, scope): make or attach the overlay,
 * pivot_root into it, /dev, /proc and its masks. sysfs_now: the child is in
 * its final network namespace already, and a sysfs instance is made before the
 * old root goes (a user namespace requires that). */
int berth_mounts_setup_root(BerthContainer *c, bool sysfs_now, char *msgbuf, size_t msglen);
/* Detach the old root, stacked on the new one since pivot_root; a no-op the
 * second time. The child does it while it waits for GO, or first thing after. */
int berth_mounts_detach_old_root(BerthContainer *c, char *msgbuf, size_t msglen);
/* Then after GO, in the final network and cgroup namespaces: the old root
 * (if still there), /sys with cgroup2, binds, tmpfs, the remaining masks, a
 * read-only root. */
int berth_mounts_setup_rest(BerthContainer *c, char *msgbuf, size_t msglen);
