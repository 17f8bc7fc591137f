/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <signal.h>
#include <unistd.h>

#include "mount.h"
#include "util.h"

#define FAIL(r, ...) ({ snprintf(msgbuf, msglen, __VA_ARGS__); (r); })

static const struct {
        const char *name;
        unsigned major, minor;
} dev_nodes[6] = {
        { "null",    1, 3 },
        { "zero",    1, 5 },
        { "full",    1, 7 },
        { "random",  1, 8 },
        { "urandom", 1, 9 },
        { "tty",     5, 0 },
};

/* What Docker masks and makes read-only, relative to /proc and /sys. */
static const char *const proc_masked[] = {
        "asound", "acpi", "kcore", "keys", "latency_stats", "timer_list", "timer_stats",
        "sched_debug", "scsi", "sysrq-trigger",
};
static const char *const proc_read_only[] = { "bus", "fs", "irq", "sys" };
static const char *const sys_masked[] = { "firmware", "devices/virtual/powercap" };

void berth_mounts_free(BerthMounts *m) {
        if (!m)
                return;
        safe_close(m->overlay_fd);
        safe_close(m->devnull_fd);
        safe_close(m->sys_mfd);
        safe_close(m->mask_dir_fd);
        for (size_t i = 0; i < ELEMENTSOF(m->dev_fds); i++)
                safe_close(m->dev_fds[i]);
        for (size_t i = 0; i < m->n_bind_fds; i++)
                safe_close(m->bind_fds[i]);
        free(m->bind_fds);
        g_free(m->lower_shown);
        free(m);
}

size_t berth_mounts_fds(const BerthMounts *m, int *fds, size_t max) {
        size_t n = 0;
        if (n < max)
                fds[n++] = m->overlay_fd;

        for (size_t i = 0; i < ELEMENTSOF(m->dev_fds) && n < max; i++)
                fds[n++] = m->dev_fds[i];
        for (size_t i = 0; i < m->n_bind_fds && n < max; i++)
                fds[n++] = m->bind_fds[i];
        return n;
}

/* Append the kernel's own explanation (fs_context log) to a failed fsconfig. */
static void fs_log(int fsfd, char *msgbuf, size_t msglen) {
        char buf[256];
        ssize_t k = read(fsfd, buf, sizeof(buf) - 1);
        if (k <= 0)
                return;
        buf[k] = 0;
        buf[strcspn(buf, "\n")] = 0;
        size_t l = strlen(msgbuf);
        if (l + 3 < msglen)
                snprintf(msgbuf + l, msglen - l, " (%s)", buf);
}

/* Idmapped clones of the lower layers, so that files the image has as root
 * belong to the container's root. */
static int idmap_lowers(BerthContainer *c, int userns_fd, GArray *fds, char *msgbuf, size_t msglen) {
        for (size_t i = 0; c->lower_dirs[i]; i++) {
                struct mount_attr attr = {
                        .attr_set = MOUNT_ATTR_IDMAP,
                        .userns_fd = (uint64_t) userns_fd,
                };
                int fd = open_tree(AT_FDCWD, c->lower_dirs[i], OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC);
                if (fd < 0)
                        return FAIL(NEG_ERRNO(), "layer %s: %m", c->lower_dirs[i]);
                g_array_append_val(fds, fd);
                if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                        return FAIL(NEG_ERRNO(), "idmapping layer %s for the user namespace: %m", c->lower_dirs[i]);
        }
        return 0;
}

typedef GArray GArray_fds;
static void close_fd_array(GArray *a) {
        for (guint i = 0; i < a->len; i++)
                safe_close(g_array_index(a, int, i));
        g_array_unref(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GArray_fds, close_fd_array)

/* fsopen/fsconfig/fsmount of an overlay from path strings. Allocates nothing,
 * so the overlay helper below may call it between clone and _exit. "shown" is
 * what error messages call the lower layers. */
static int overlay_mount(const char *lower, const char *upper, const char *work, const char *shown,
                         int *ret, char *msgbuf, size_t msglen) {
        _cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        int r;

        if (fsfd < 0)
                return FAIL(NEG_ERRNO(), "fsopen(overlay): %m");
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0) {
                r = FAIL(NEG_ERRNO(), "overlay lowerdir=%s: %m", shown);
                fs_log(fsfd, msgbuf, msglen);
                return r;
        }
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0) {
                r = FAIL(NEG_ERRNO(), "overlay upperdir=%s workdir=%s: %m", upper, work);
                fs_log(fsfd, msgbuf, msglen);
                return r;
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                r = FAIL(NEG_ERRNO(), "mounting the overlay of %s: %m", shown);
                fs_log(fsfd, msgbuf, msglen);
                return r;
        }
        int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
        if (mfd < 0)
                return FAIL(NEG_ERRNO(), "fsmount(overlay): %m");
        *ret = mfd;
        return 0;
}

/* Newer kernels build an overlay from layers that are detached mounts (a
 * tmpfs upper, idmapped lowers) referenced through /proc/self/fd. Linux 6.1
 * refuses that ("failed to clone upperpath"): overlayfs there only takes
 * layers attached in the mounting process's namespace. Once we have seen
 * that, we go through the helper below directly. */
static bool overlay_needs_attached_layers;

void berth_runtime_force_attached_layers(bool b) {
        overlay_needs_attached_layers = b;
}

typedef struct HelperReply {
        int32_t error;
        char text[240];
} HelperReply;

/* Make the overlay in a short-lived child in a private mount namespace: it
 * attaches the layers on a staging tmpfs (over the run dir's empty rootfs
 * directory, in its own namespace only), mounts the overlay from those paths
 * and passes the detached overlay back over SCM_RIGHTS. The overlay keeps
 * private clones of its layers, so it outlives the child's namespace. */
static int overlay_via_helper(BerthContainer *c, GArray *lower_fds, const char *shown, int *ret,
                              char *msgbuf, size_t msglen) {
        const char *staging = c->rootfs_dir;
        bool eph = c->config->ephemeral;
        g_autofree char *lower = NULL, *upper = NULL, *work = NULL;
        char names[64][16];
        int sp[2];

        if (lower_fds->len > ELEMENTSOF(names))
                return FAIL(-E2BIG, "too many layers for a user namespace (at most %zu)", ELEMENTSOF(names));
        if (lower_fds->len > 0) {
                g_autoptr(GString) l = g_string_new(NULL);
                for (guint i = 0; i < lower_fds->len; i++) {
                        snprintf(names[i], sizeof(names[i]), "l%u", i);
                        g_string_append_printf(l, "%s%s/%s", i ? ":" : "", staging, names[i]);
                }
                lower = g_string_free(g_steal_pointer(&l), FALSE);
        } else
                lower = g_strjoinv(":", c->lower_dirs);
        upper = eph ? g_strconcat(staging, "/upper", NULL) : g_strdup(c->upper_dir);
        work = eph ? g_strconcat(staging, "/work", NULL) : g_strdup(c->work_dir);

        if (socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, sp) < 0)
                return FAIL(NEG_ERRNO(), "socketpair: %m");

        struct clone_args args = { .flags = CLONE_NEWNS, .exit_signal = SIGCHLD };
        long pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0) {
                int r = FAIL(NEG_ERRNO(), "cloning the overlay helper: %m");
                close(sp[0]);
                close(sp[1]);
                return r;
        }
        if (pid == 0) {
                HelperReply rep = {};
                char m[240] = "";
                int ofd = -1, r = 0;
                int tfs = -1, tm = -1;

                close(sp[0]);
                if (mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL) < 0) {
                        r = NEG_ERRNO();
                        snprintf(m, sizeof(m), "overlay helper: making / private: %m");
                } else if ((tfs = fsopen("tmpfs", FSOPEN_CLOEXEC)) < 0 ||
                           fsconfig(tfs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
                           fsconfig(tfs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
                           (tm = fsmount(tfs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV)) < 0 ||
                           move_mount(tm, "", AT_FDCWD, staging, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        r = NEG_ERRNO();
                        snprintf(m, sizeof(m), "overlay helper: staging tmpfs on %s: %m", staging);
                } else if (eph && (mkdirat(tm, "upper", 0755) < 0 || mkdirat(tm, "work", 0700) < 0 ||
                                   (c->config->private_users &&
                                    fchownat(tm, "upper", c->config->uid_shift, c->config->uid_shift, 0) < 0))) {
                        r = NEG_ERRNO();
                        snprintf(m, sizeof(m), "overlay helper: ephemeral upper: %m");
                }
                for (guint i = 0; r == 0 && i < lower_fds->len; i++)
                        if (mkdirat(tm, names[i], 0755) < 0 ||
                            move_mount(g_array_index(lower_fds, int, i), "", tm, names[i],
                                       MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                                r = NEG_ERRNO();
                                snprintf(m, sizeof(m), "overlay helper: attaching layer %s: %m",
                                         c->lower_dirs[i]);
                        }
                if (r == 0)
                        r = overlay_mount(lower, upper, work, shown, &ofd, m, sizeof(m));

                rep.error = -r;
                memcpy(rep.text, m, sizeof(rep.text));
                _exit(send_with_fd(sp[1], &rep, sizeof(rep), r == 0 ? ofd : -1) < 0 ? 2 : r == 0 ? 0 : 1);
        }

        close(sp[1]);
        HelperReply rep = {};
        _cleanup_close_ int ofd = -1;
        ssize_t k = recv_with_fd(sp[0], &rep, sizeof(rep), &ofd);
        close(sp[0]);
        while (waitpid((pid_t) pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (k != (ssize_t) sizeof(rep))
                return FAIL(k < 0 ? (int) k : -EIO, "the overlay helper died");
        if (rep.error == 0 && ofd >= 0) {
                *ret = TAKE_FD(ofd);
                return 0;
        }
        rep.text[sizeof(rep.text) - 1] = 0;
        snprintf(msgbuf, msglen, "%s", rep.text);
        return rep.error > 0 ? -rep.error : -EIO;
}

static int make_overlay(BerthContainer *c, int userns_fd, int *ret, char *msgbuf, size_t msglen) {
        g_autoptr(GArray_fds) lower_fds = g_array_new(FALSE, FALSE, sizeof(int));
        const char *shown = c->mounts->lower_shown;
        int r;

        if (userns_fd >= 0) {
                r = idmap_lowers(c, userns_fd, lower_fds, msgbuf, msglen);
                if (r < 0)
                        return r;
        }

        /* Plain directories on the host: nothing detached is involved. */
        if (!c->config->ephemeral && userns_fd < 0)
                return overlay_mount(shown, c->upper_dir, c->work_dir, shown, ret, msgbuf, msglen);

        if (!overlay_needs_attached_layers) {
                _cleanup_close_ int tmp = -1;
                g_autofree char *lower = NULL, *upper = NULL, *work = NULL;

                if (lower_fds->len > 0) {
                        g_autoptr(GString) l = g_string_new(NULL);
                        for (guint i = 0; i < lower_fds->len; i++)
                                g_string_append_printf(l, "%s/proc/self/fd/%d", i ? ":" : "",
                                                       g_array_index(lower_fds, int, i));
                        lower = g_string_free(g_steal_pointer(&l), FALSE);
                } else
                        lower = g_strdup(shown);

                if (c->config->ephemeral) {
                        /* A detached tmpfs: it is referenced only by the overlay, so it
                         * vanishes with the container's mount namespace, even if we crash. */
                        _cleanup_close_ int tfs = fsopen("tmpfs", FSOPEN_CLOEXEC);
                        if (tfs < 0)
                                return FAIL(NEG_ERRNO(), "fsopen(tmpfs): %m");
                        if (fsconfig(tfs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
                            fsconfig(tfs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                                return FAIL(NEG_ERRNO(), "ephemeral tmpfs: %m");
                        tmp = fsmount(tfs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
                        if (tmp < 0)
                                return FAIL(NEG_ERRNO(), "fsmount(tmpfs): %m");
                        if (mkdirat(tmp, "upper", 0755) < 0 || mkdirat(tmp, "work", 0700) < 0)
                                return FAIL(NEG_ERRNO(), "ephemeral upper: %m");
                        /* The root directory of the container belongs to its root. */
                        if (c->config->private_users &&
                            fchownat(tmp, "upper", c->config->uid_shift, c->config->uid_shift, AT_SYMLINK_NOFOLLOW) < 0)
                                return FAIL(NEG_ERRNO(), "ephemeral upper: chown: %m");
                        upper = g_strdup_printf("/proc/self/fd/%d/upper", tmp);
                        work = g_strdup_printf("/proc/self/fd/%d/work", tmp);
                } else {
                        upper = g_strdup(c->upper_dir);
                        work = g_strdup(c->work_dir);
                }
                r = overlay_mount(lower, upper, work, shown, ret, msgbuf, msglen);
                if (r != -EINVAL)
                        return r;
                /* Maybe a kernel that wants attached layers (6.1): try that.
                 * Only its success says so; a bad layer fails both ways and
                 * must not send every later start through the helper. */
                r = overlay_via_helper(c, lower_fds, shown, ret, msgbuf, msglen);
                if (r >= 0)
                        overlay_needs_attached_layers = true;
                return r;
        }

        return overlay_via_helper(c, lower_fds, shown, ret, msgbuf, msglen);
}

static int clone_bind_source(const char *source, bool read_only, int *ret, char *msgbuf, size_t msglen) {
        _cleanup_close_ int fd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE);
        if (fd < 0)
                return FAIL(NEG_ERRNO(), "bind source %s: %m", source);
        if (read_only) {
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
                if (mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                        return FAIL(NEG_ERRNO(), "bind source %s: making read-only: %m", source);
        }
        *ret = TAKE_FD(fd);
        return 0;
}

int berth_mounts_make_overlay(BerthContainer *c, int userns_fd, char *msgbuf, size_t msglen) {
        return make_overlay(c, userns_fd, &c->mounts->overlay_fd, msgbuf, msglen);
}

int berth_mounts_prepare(BerthContainer *c, char *msgbuf, size_t msglen) {
        BerthMounts *m = calloc(1, sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        m->overlay_fd = m->devnull_fd = m->sys_mfd = m->mask_dir_fd = -1;
        for (size_t i = 0; i < ELEMENTSOF(m->dev_fds); i++)
                m->dev_fds[i] = -1;
        c->mounts = m;
        m->lower_shown = g_strjoinv(":", c->lower_dirs);

        /* Root in a user namespace may not mknod: bind the host's nodes. */
        for (size_t i = 0; c->config->private_users && i < ELEMENTSOF(dev_nodes); i++) {
                g_autofree char *p = g_strconcat("/dev/", dev_nodes[i].name, NULL);
                struct stat st;
                int fd = open_tree(AT_FDCWD, p, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC);
                if (fd < 0)
                        return FAIL(NEG_ERRNO(), "cloning host %s: %m", p);
                m->dev_fds[i] = fd;
                /* Refuse anything but the expected character device. */
                if (fstat(fd, &st) < 0)
                        return FAIL(NEG_ERRNO(), "stat %s: %m", p);
                if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != dev_nodes[i].major ||
                    minor(st.st_rdev) != dev_nodes[i].minor)
                        return FAIL(-ENODEV, "host %s is not the expected device %u:%u", p,
                                    dev_nodes[i].major, dev_nodes[i].minor);
        }

        size_t n = c->config->binds->len + c->extra_binds->len;
        m->bind_fds = calloc(n ? n : 1, sizeof(int));
        if (!m->bind_fds)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const BerthBind *b = i < c->config->binds->len ?
                        g_ptr_array_index(c->config->binds, i) :
                        g_ptr_array_index(c->extra_binds, i - c->config->binds->len);
                int fd = -1;
                r = clone_bind_source(b->source, b->read_only, &fd, msgbuf, msglen);
                if (r < 0)
                        return r;
                m->bind_fds[m->n_bind_fds++] = fd;
        }
        return 0;
}

/* ---- child side: everything below runs inside the container's namespaces ---- */

/* Between pivot_root and the detach of the old root (see
 * berth_mounts_setup_root()), the host's root is mounted on top of the
 * container's: a lookup that reaches the container's root through ".."
 * continues there, RESOLVE_IN_ROOT or not. Nothing in that window may follow
 * a symlink or walk "..": mount points are single components then. */
static bool old_root_stacked;

/* path names one component, e.g. "/dev" (slashes around it aside). */
static bool single_component(const char *path) {
        path += strspn(path, "/");
        path += strcspn(path, "/");
        return path[strspn(path, "/")] == 0;
}

/* May path be looked up now? Every lookup of a container path below goes
 * through make_mount_point() or open_target(), which ask this first. */
static int lookup_allowed(const char *path) {
        return old_root_stacked && !single_component(path) ? -EXDEV : 0;
}

/* Create each missing component of an absolute path inside the (already
 * pivoted) root; the last one as a directory or an empty file. Intermediate
 * components are resolved with RESOLVE_IN_ROOT, so a symlink in the image
 * can never lead outside. */
static int make_mount_point(const char *path, bool directory) {
        char name[NAME_MAX + 1];
        int r = lookup_allowed(path);
        if (r < 0)
                return r;
        _cleanup_close_ int dir = open("/", O_PATH|O_DIRECTORY|O_CLOEXEC);
        if (dir < 0)
                return NEG_ERRNO();
        /* Component by component, in a buffer on the stack: no allocation
         * in the container's first process. */
        for (const char *p = path;;) {
                p += strspn(p, "/");
                if (*p == 0)
                        return 0;
                size_t len = strcspn(p, "/");
                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(name, p, len);
                name[len] = 0;
                p += len;
                bool final = p[strspn(p, "/")] == 0;
                if (strcmp(name, ".") == 0)
                        continue;
                if (strcmp(name, "..") == 0)
                        return -EINVAL;
                if (!final || directory) {
                        if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
                                return NEG_ERRNO();
                } else {
                        int f = openat(dir, name, O_WRONLY|O_CREAT|O_NOFOLLOW|O_CLOEXEC|O_NOCTTY, 0644);
                        if (f < 0 && errno != EEXIST && errno != ELOOP && errno != EISDIR)
                                return NEG_ERRNO();
                        safe_close(f);
                }
                if (final)
                        return 0;
                int next = sys_openat2(dir, name, O_PATH|O_DIRECTORY, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS);
                if (next < 0)
                        return next;
                safe_close(dir);
                dir = next;
        }
}

/* Open a mount target confined to the root, without following a final symlink. */
static int open_target(const char *path) {
        int r = lookup_allowed(path);
        if (r < 0)
                return r;
        return sys_openat2(AT_FDCWD, path, O_PATH|O_NOFOLLOW, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS);
}

static int attach_fd(int mfd, int target_fd) {
        if (move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return NEG_ERRNO();
        return 0;
}

static int new_fs(const char *type, const char *const *options, unsigned attrs, int *ret) {
        _cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return NEG_ERRNO();
        for (size_t i = 0; options && options[i]; i += 2) {
                if (options[i + 1]) {
                        if (fsconfig(fsfd, FSCONFIG_SET_STRING, options[i], options[i + 1], 0) < 0)
                                return NEG_ERRNO();
                } else if (fsconfig(fsfd, FSCONFIG_SET_FLAG, options[i], NULL, 0) < 0)
                        return NEG_ERRNO();
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return NEG_ERRNO();
        int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
        if (mfd < 0)
                return NEG_ERRNO();
        *ret = mfd;
        return 0;
}

/* Attach the mount *mfd_in (taken) on an absolute path inside the root;
 * returns the mount fd (pointing at the new mount's root) in *ret_fd if asked. */
static int attach_at(int *mfd_in, const char *where, int *ret_fd) {
        _cleanup_close_ int mfd = TAKE_FD(*mfd_in), target = -1;
        int r;

        /* The mount point is usually there already (/dev, /proc, /sys): make
         * it only if it is not. */
        target = open_target(where);
        if (target == -ENOENT) {
                r = make_mount_point(where, true);
                if (r < 0)
                        return r;
                target = open_target(where);
        }
        if (target < 0)
                return target;
        r = attach_fd(mfd, target);
        if (r < 0)
                return r;
        if (ret_fd)
                *ret_fd = TAKE_FD(mfd);
        return 0;
}

static int mount_new_at(const char *type, const char *const *options, unsigned attrs, const char *where,
                        int *ret_fd) {
        int mfd = -1;
        int r = new_fs(type, options, attrs, &mfd);
        if (r < 0)
                return r;
        return attach_at(&mfd, where, ret_fd);
}

/* Open a path beneath a pseudo-fs mount we made ourselves: never through a
 * symlink, never out of that mount. */
static int open_beneath(int base_fd, const char *rel, int extra_flags) {
        return sys_openat2(base_fd, rel, O_PATH|O_NOFOLLOW|extra_flags,
                           RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV);
}

/* Mask a path beneath a pseudo-fs mount we made ourselves: open it without
 * following any symlink and without leaving that mount, check what it is, and
 * mount over the fd (never over a path that could be swapped). Files get a
 * read-only bind of /dev/null; directories one empty read-only tmpfs, made
 * for the first and bind-cloned for the others (one superblock, not one per
 * mask). */
static int mask_beneath(BerthMounts *m, int base_fd, const char *rel) {
        _cleanup_close_ int target = -1, src = -1;
        struct stat st;
        int r;

        target = open_beneath(base_fd, rel, 0);
        if (target == -ENOENT)
                return 0;
        if (target < 0)
                return target;
        if (fstat(target, &st) < 0)
                return NEG_ERRNO();
        if (S_ISDIR(st.st_mode) && m->mask_dir_fd < 0) {
                static const char *const opts[] = { "mode", "0555", "size", "0", NULL };
                r = new_fs("tmpfs", opts, MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC, &src);
                if (r < 0)
                        return r;
                r = attach_fd(src, target);
                if (r < 0)
                        return r;
                /* Attached now: later masks clone it (a detached mount cannot be cloned on 6.1). */
                m->mask_dir_fd = TAKE_FD(src);
                return 0;
        }
        if (S_ISDIR(st.st_mode))
                src = open_tree(m->mask_dir_fd, "", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_EMPTY_PATH);
        else {
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC };
                src = open_tree(m->devnull_fd, "", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_EMPTY_PATH);
                if (src >= 0 && mount_setattr(src, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                        return NEG_ERRNO();
        }
        if (src < 0)
                return NEG_ERRNO();
        return attach_fd(src, target);
}

static int read_only_beneath(int base_fd, const char *rel) {
        _cleanup_close_ int target = -1, src = -1;
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC };

        target = open_beneath(base_fd, rel, 0);
        if (target == -ENOENT)
                return 0;
        if (target < 0)
                return target;
        src = open_tree(target, "", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_EMPTY_PATH|AT_RECURSIVE);
        if (src < 0)
                return NEG_ERRNO();
        if (mount_setattr(src, "", AT_EMPTY_PATH|AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return NEG_ERRNO();
        return attach_fd(src, target);
}

static int setup_dev(BerthContainer *c, char *msgbuf, size_t msglen) {
        static const char *const dev_opts[] = { "mode", "0755", "size", "4m", NULL };
        _cleanup_close_ int devfd = -1;
        BerthMounts *m = c->mounts;
        int r;

        r = mount_new_at("tmpfs", dev_opts, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC, "/dev", &devfd);
        if (r < 0)
                return FAIL(r, "mounting tmpfs on /dev: %s", strerror(-r));

        /* Our own nodes are 0666 whatever umask the runtime runs with. (On
         * failure the child exits: no need to restore it then.) */
        mode_t saved_umask = umask(0);
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                const char *name = dev_nodes[i].name;
                if (m->dev_fds[i] < 0) {
                        /* Our own node: no mount to make now and to tear down later. */
                        if (mknodat(devfd, name, S_IFCHR|0666, makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0)
                                return FAIL(NEG_ERRNO(), "creating /dev/%s: %m", name);
                        continue;
                }
                int f = openat(devfd, name, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0666);
                if (f < 0)
                        return FAIL(NEG_ERRNO(), "creating /dev/%s: %m", name);
                close(f);
                if (move_mount(m->dev_fds[i], "", devfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return FAIL(NEG_ERRNO(), "binding /dev/%s: %m", name);
                m->dev_fds[i] = safe_close(m->dev_fds[i]);
        }
        umask(saved_umask);
        /* The source of every file mask. */
        m->devnull_fd = openat(devfd, "null", O_PATH|O_NOFOLLOW|O_CLOEXEC);
        if (m->devnull_fd < 0)
                return FAIL(NEG_ERRNO(), "opening /dev/null: %m");

        if (mkdirat(devfd, "pts", 0755) < 0 || mkdirat(devfd, "shm", 01777) < 0 ||
            mkdirat(devfd, "mqueue", 0755) < 0)
                return FAIL(NEG_ERRNO(), "creating /dev subdirectories: %m");

        {
                static const char *const pts_opts[] = { "newinstance", NULL, "ptmxmode", "0666",
                                                        "mode", "0620", "gid", "5", NULL };
                _cleanup_close_ int pts = -1;
                r = new_fs("devpts", pts_opts, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC, &pts);
                if (r == -EINVAL) {
                        /* gid 5 (tty) may be unmapped in a user namespace. */
                        static const char *const pts_opts2[] = { "newinstance", NULL, "ptmxmode", "0666",
                                                                 "mode", "0620", NULL };
                        r = new_fs("devpts", pts_opts2, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC, &pts);
                }
                if (r < 0)
                        return FAIL(r, "mounting devpts: %s", strerror(-r));
                if (move_mount(pts, "", devfd, "pts", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return FAIL(NEG_ERRNO(), "attaching /dev/pts: %m");
        }
        {
                static const char *const shm_opts[] = { "mode", "1777", "size", "64m", NULL };
                _cleanup_close_ int shm = -1;
                r = new_fs("tmpfs", shm_opts, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC, &shm);
                if (r < 0)
                        return FAIL(r, "mounting /dev/shm: %s", strerror(-r));
                if (move_mount(shm, "", devfd, "shm", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return FAIL(NEG_ERRNO(), "attaching /dev/shm: %m");
        }
        if (!(c->config->host_namespaces & BERTH_NS_IPC)) {
                _cleanup_close_ int mq = -1;
                r = new_fs("mqueue", NULL, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC, &mq);
                if (r < 0)
                        return FAIL(r, "mounting /dev/mqueue: %s", strerror(-r));
                if (move_mount(mq, "", devfd, "mqueue", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return FAIL(NEG_ERRNO(), "attaching /dev/mqueue: %m");
        }

        static const char *const links[][2] = {
                { "pts/ptmx", "ptmx" },
                { "/proc/self/fd", "fd" },
                { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" },
                { "/proc/self/fd/2", "stderr" },
                { "/proc/kcore", "core" },
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][0], devfd, links[i][1]) < 0)
                        return FAIL(NEG_ERRNO(), "creating /dev/%s: %m", links[i][1]);
        return 0;
}

static int setup_sys(int *sys_mfd, char *msgbuf, size_t msglen) {
        _cleanup_close_ int sysfd = -1, target = -1, cg = -1;
        int r;

        r = attach_at(sys_mfd, "/sys", &sysfd);
        if (r < 0)
                return FAIL(r, "mounting /sys: %s", strerror(-r));
        target = open_beneath(sysfd, "fs/cgroup", O_DIRECTORY);
        if (target < 0)
                return 0;
        r = new_fs("cgroup2", NULL, MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC, &cg);
        if (r < 0)
                return FAIL(r, "mounting cgroup2 on /sys/fs/cgroup: %s", strerror(-r));
        r = attach_fd(cg, target);
        if (r < 0)
                return FAIL(r, "attaching /sys/fs/cgroup: %s", strerror(-r));
        return 0;
}

/* Open a pseudo-filesystem we mounted ourselves by its mount root: /proc and
 * /sys may be anything in the image, but what is mounted on them now is ours. */
static int open_own_mount(const char *path, char *msgbuf, size_t msglen) {
        int fd = sys_openat2(AT_FDCWD, path, O_PATH|O_DIRECTORY|O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
        if (fd < 0)
                return FAIL(fd, "opening %s: %s", path, strerror(-fd));
        return fd;
}

static int setup_proc_masks(BerthMounts *m, char *msgbuf, size_t msglen) {
        _cleanup_close_ int procfd = open_own_mount("/proc", msgbuf, msglen);
        int r;

        if (procfd < 0)
                return procfd;
        for (size_t i = 0; i < ELEMENTSOF(proc_read_only); i++) {
                r = read_only_beneath(procfd, proc_read_only[i]);
                if (r < 0)
                        return FAIL(r, "making /proc/%s read-only: %s", proc_read_only[i], strerror(-r));
        }
        for (size_t i = 0; i < ELEMENTSOF(proc_masked); i++) {
                r = mask_beneath(m, procfd, proc_masked[i]);
                if (r < 0)
                        return FAIL(r, "masking /proc/%s: %s", proc_masked[i], strerror(-r));
        }
        return 0;
}

static int setup_sys_masks(BerthMounts *m, char *msgbuf, size_t msglen) {
        _cleanup_close_ int sysfd = open_own_mount("/sys", msgbuf, msglen);
        int r;

        if (sysfd < 0)
                return sysfd;
        for (size_t i = 0; i < ELEMENTSOF(sys_masked); i++) {
                r = mask_beneath(m, sysfd, sys_masked[i]);
                if (r < 0)
                        return FAIL(r, "masking /sys/%s: %s", sys_masked[i], strerror(-r));
        }
        return 0;
}

bool berth_mounts_any_at_or_below(const BerthContainer *c, const char *path) {
        for (guint i = 0; i < c->config->binds->len; i++)
                if (path_equal_or_below(((const BerthBind *) g_ptr_array_index(c->config->binds, i))->destination, path))
                        return true;
        for (guint i = 0; i < c->extra_binds->len; i++)
                if (path_equal_or_below(((const BerthBind *) g_ptr_array_index(c->extra_binds, i))->destination, path))
                        return true;
        for (guint i = 0; i < c->config->tmpfs->len; i++)
                if (path_equal_or_below(((const BerthTmpfs *) g_ptr_array_index(c->config->tmpfs, i))->destination, path))
                        return true;
        return false;
}

static int setup_binds_and_tmpfs(BerthContainer *c, char *msgbuf, size_t msglen) {
        BerthMounts *m = c->mounts;
        int r;

        for (guint i = 0; i < c->config->tmpfs->len; i++) {
                const BerthTmpfs *t = g_ptr_array_index(c->config->tmpfs, i);
                g_autoptr(GPtrArray) opts = g_ptr_array_new_with_free_func(g_free);
                g_auto(GStrv) items = t->options ? g_strsplit(t->options, ",", -1) : NULL;
                bool has_mode = false;
                for (size_t j = 0; items && items[j]; j++) {
                        if (items[j][0] == 0)
                                continue;
                        char *eq = strchr(items[j], '=');
                        g_ptr_array_add(opts, eq ? g_strndup(items[j], (gsize) (eq - items[j])) : g_strdup(items[j]));
                        g_ptr_array_add(opts, eq ? g_strdup(eq + 1) : NULL);
                        if (eq && strncmp(items[j], "mode=", 5) == 0)
                                has_mode = true;
                }
                if (!has_mode) {
                        g_ptr_array_add(opts, g_strdup("mode"));
                        g_ptr_array_add(opts, g_strdup("1777"));
                }
                g_ptr_array_add(opts, NULL);
                r = mount_new_at("tmpfs", (const char *const *) opts->pdata, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV,
                                 t->destination, NULL);
                if (r < 0)
                        return FAIL(r, "TemporaryFileSystem=%s%s%s: %s", t->destination, t->options ? ":" : "",
                                    t->options ? t->options : "", strerror(-r));
        }

        for (size_t i = 0; i < m->n_bind_fds; i++) {
                const BerthBind *b = i < c->config->binds->len ?
                        g_ptr_array_index(c->config->binds, i) :
                        g_ptr_array_index(c->extra_binds, i - c->config->binds->len);
                struct stat st;
                _cleanup_close_ int target = -1;
                if (fstat(m->bind_fds[i], &st) < 0)
                        return FAIL(NEG_ERRNO(), "Bind=%s: %m", b->source);
                r = make_mount_point(b->destination, S_ISDIR(st.st_mode));
                if (r < 0)
                        return FAIL(r, "Bind=%s:%s: creating mount point: %s", b->source, b->destination,
                                    strerror(-r));
                target = open_target(b->destination);
                if (target < 0)
                        return FAIL(target, "Bind=%s:%s: %s", b->source, b->destination, strerror(-target));
                r = attach_fd(m->bind_fds[i], target);
                if (r < 0)
                        return FAIL(r, "Bind=%s:%s: %s", b->source, b->destination, strerror(-r));
        }
        return 0;
}

/* Without a user namespace the child makes the overlay itself, in its own
 * mount namespace and from attached layers: an Ephemeral= upper is a tmpfs
 * attached on the mount point first, and the overlay is stacked on top of it.
 * Nothing detached is left to dissolve (each dissolve waits for an RCU grace
 * period), and kernels that refuse detached layers (6.1) need no helper. */
static int overlay_here(BerthContainer *c, char *msgbuf, size_t msglen) {
        BerthMounts *m = c->mounts;
        char eph_upper[PATH_MAX], eph_work[PATH_MAX];
        const char *upper = c->upper_dir, *work = c->work_dir;
        int r;

        if (c->config->ephemeral) {
                static const char *const opts[] = { "mode", "0755", NULL };
                _cleanup_close_ int tfd = -1;
                r = new_fs("tmpfs", opts, MOUNT_ATTR_NODEV, &tfd);
                if (r < 0)
                        return FAIL(r, "ephemeral tmpfs: %s", strerror(-r));
                if (move_mount(tfd, "", AT_FDCWD, c->rootfs_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return FAIL(NEG_ERRNO(), "attaching the ephemeral tmpfs at %s: %m", c->rootfs_dir);
                if (mkdirat(tfd, "upper", 0755) < 0 || mkdirat(tfd, "work", 0700) < 0)
                        return FAIL(NEG_ERRNO(), "ephemeral upper: %m");
                size_t l = strlen(c->rootfs_dir);
                if (l + sizeof("/upper") > sizeof(eph_upper))
                        return FAIL(-ENAMETOOLONG, "ephemeral upper below %s: %s", c->rootfs_dir, strerror(ENAMETOOLONG));
                memcpy(mempcpy(eph_upper, c->rootfs_dir, l), "/upper", sizeof("/upper"));
                memcpy(mempcpy(eph_work, c->rootfs_dir, l), "/work", sizeof("/work"));
                upper = eph_upper;
                work = eph_work;
        }
        r = overlay_mount(m->lower_shown, upper, work, m->lower_shown, &m->overlay_fd, msgbuf, msglen);
        if (r < 0)
                return r;
        if (move_mount(m->overlay_fd, "", AT_FDCWD, c->rootfs_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return FAIL(NEG_ERRNO(), "attaching the overlay at %s: %m", c->rootfs_dir);
        return 0;
}

/* A read-only sysfs instance (of the caller's network namespace) for /sys. */
static int make_sysfs(BerthMounts *m, char *msgbuf, size_t msglen) {
        int r = new_fs("sysfs", NULL, MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC,
                       &m->sys_mfd);
        if (r < 0)
                return FAIL(r, "mounting /sys: %s", strerror(-r));
        return 0;
}

int berth_mounts_setup_root(BerthContainer *c, bool sysfs_now, char *msgbuf, size_t msglen) {
        _cleanup_close_ int proc_mfd = -1;
        BerthMounts *m = c->mounts;
        int r;

        /* Nothing we do from here on may propagate to the host. */
        if (mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL) < 0)
                return FAIL(NEG_ERRNO(), "making / private: %m");

        /* The runtime's overlay (user namespace) is attached while we still
         * carry the host's root uid, which owns the path to the mount point. */
        if (m->overlay_fd < 0) {
                r = overlay_here(c, msgbuf, msglen);
                if (r < 0)
                        return r;
        } else if (move_mount(m->overlay_fd, "", AT_FDCWD, c->rootfs_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return FAIL(NEG_ERRNO(), "attaching the overlay at %s: %m", c->rootfs_dir);
        /* The overlay fd now refers to the root of the attached mount. */
        if (fchdir(m->overlay_fd) < 0)
                return FAIL(NEG_ERRNO(), "entering the overlay: %m");
        r = sys_pivot_root(".", ".");
        if (r < 0)
                return FAIL(r, "pivot_root: %s", strerror(-r));
        /* In a user namespace the kernel only lets us create procfs and sysfs
         * instances while a fully visible one exists in this mount namespace:
         * make them while the old root is still stacked under the new one. */
        r = new_fs("proc", NULL, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC, &proc_mfd);
        if (r < 0)
                return FAIL(r, "mounting /proc: %s", strerror(-r));
        if (sysfs_now) {
                r = make_sysfs(m, msgbuf, msglen);
                if (r < 0)
                        return r;
        }

        /* The old root stays stacked on the new one until the child waits for
         * GO, or until right after GO (berth_mounts_detach_old_root()). A
         * lookup that starts at our root (the new root) does not step onto
         * what is mounted on top of it, but one that comes back to it through
         * ".." does: until then we only look up single components that are
         * never followed (/dev, /proc, and names beneath mounts of our own),
         * see old_root_stacked, and the user with
         * RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV (runtime.c). What we mount
         * hangs off the overlay, not off the old root. */
        old_root_stacked = true;
        if (chdir("/") < 0)
                return FAIL(NEG_ERRNO(), "chdir /: %m");

        /* The host's ids are unmapped in a new user namespace (files we
         * create would fail with EOVERFLOW): become its root now. */
        if (c->config->private_users && ((r = sys_setresgid(0, 0, 0)) < 0 || (r = sys_setresuid(0, 0, 0)) < 0))
                return FAIL(r, "becoming root in the user namespace: %s", strerror(-r));

        r = setup_dev(c, msgbuf, msglen);
        if (r < 0)
                return r;
        r = attach_at(&proc_mfd, "/proc", NULL);
        if (r < 0)
                return FAIL(r, "mounting /proc: %s", strerror(-r));
        /* Masks go on last, so that no mount can cover them: now, unless a
         * bind or tmpfs is still to come below /proc. */
        if (!berth_mounts_any_at_or_below(c, "/proc")) {
                r = setup_proc_masks(m, msgbuf, msglen);
                if (r < 0)
                        return r;
                m->proc_masked = true;
        }
        return 0;
}

int berth_mounts_detach_old_root(BerthContainer *c, char *msgbuf, size_t msglen) {
        if (!old_root_stacked)
                return 0;
        /* From here on no path can name anything outside the container.
         * umount2() returns only after an RCU grace period, which takes a few
         * hundred microseconds while another CPU sets up our network
         * namespace and some tens afterwards. "/" is the new root: umount2
         * resolves it to what is mounted on top. */
        if (umount2("/", MNT_DETACH) < 0)
                return FAIL(NEG_ERRNO(), "detaching the old root: %m");
        old_root_stacked = false;
        return 0;
}

int berth_mounts_setup_rest(BerthContainer *c, char *msgbuf, size_t msglen) {
        BerthMounts *m = c->mounts;
        int r;

        r = berth_mounts_detach_old_root(c, msgbuf, msglen);
        if (r < 0)
                return r;

        if (m->sys_mfd < 0) {
                r = make_sysfs(m, msgbuf, msglen);
                if (r < 0)
                        return r;
        }
        r = setup_sys(&m->sys_mfd, msgbuf, msglen);
        if (r < 0)
                return r;
        r = setup_binds_and_tmpfs(c, msgbuf, msglen);
        if (r < 0)
                return r;
        if (!m->proc_masked) {
                r = setup_proc_masks(m, msgbuf, msglen);
                if (r < 0)
                        return r;
        }
        r = setup_sys_masks(m, msgbuf, msglen);
        if (r < 0)
                return r;

        if (c->config->read_only) {
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
                if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
                        return FAIL(NEG_ERRNO(), "making the root read-only: %m");
        }
        return 0;
}
