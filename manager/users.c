/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User=/Group=/SupplementaryGroups= resolved in the container's own
 * /etc/passwd and /etc/group, never through the host's NSS.
 *
 * The files are opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 * relative to the container's root, so symlinks in the image (absolute or
 * "../..") resolve inside it. They must be regular files of at most 4 MiB:
 * they are first opened O_PATH and checked with fstat(), so a FIFO or device
 * node planted in the image is never opened for reading.
 *
 * Plain libc only (no glib): this runs in the container's child process.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

#define USERS_FILE_MAX (UINT64_C(4) * 1024 * 1024)
#define USERS_GROUPS_MAX 65536 /* kernel NGROUPS_MAX */
#define USERS_RAW_GROUPS_MAX (16 * USERS_GROUPS_MAX) /* before removing duplicates */

/* reallocarray() calls realloc() through libc's own PLT, bound lazily on its
 * first use: in the container's first process that is a symbol lookup and
 * some ten page faults. Our own call is bound at startup (-z now). */
static void *realloc_n(void *p, size_t n, size_t size) {
        if (size && n > SIZE_MAX / size) {
                errno = ENOMEM;
                return NULL;
        }
        return realloc(p, n * size);
}

static void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

static void close_fdp(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ __attribute__((cleanup(close_fdp)))

static int openat2_in_root(int root_fd, const char *path, uint64_t flags, uint64_t resolve) {
        struct open_how how = {
                .flags = flags,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
        };
        /* With RESOLVE_IN_ROOT the kernel answers EAGAIN when a concurrent
         * rename could have let ".." escape; that is worth a retry. */
        for (unsigned attempt = 0;; attempt++) {
                int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
                if (fd >= 0)
                        return fd;
                if (errno != EAGAIN || attempt >= 32)
                        return -errno;
        }
}

/* Read a whole file of the container's root. A missing file gives *ret = NULL. */
static int read_root_file(int root_fd, const char *path, uint64_t resolve, char **ret) {
        _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st, st2;
        size_t n = 0;

        pfd = openat2_in_root(root_fd, path, O_PATH | O_CLOEXEC, resolve);
        if (pfd == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (pfd < 0)
                return pfd;
        if (fstat(pfd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > USERS_FILE_MAX)
                return -EFBIG;

        /* O_NONBLOCK: should the file be swapped for a FIFO in between, do not hang. */
        fd = openat2_in_root(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, resolve);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st2) < 0)
                return -errno;
        if (st.st_dev != st2.st_dev || st.st_ino != st2.st_ino || !S_ISREG(st2.st_mode))
                return -ESTALE;
        if ((uint64_t) st2.st_size > USERS_FILE_MAX)
                return -EFBIG;

        /* Sized by fstat(); one more byte tells us if it grew meanwhile. */
        size_t cap = (size_t) st2.st_size;
        buf = malloc(cap + 2);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + n, cap + 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += k;
                if (n > cap)
                        return -ESTALE; /* grew since fstat() */
        }
        if (memchr(buf, 0, n))
                return -EBADMSG;
        buf[n] = 0;

        *ret = buf;
        buf = NULL;
        return 0;
}

/* Decimal id, no sign, no spaces; (uid_t) -1 is not an id. */
static int parse_id(const char *s, uint32_t *ret) {
        uint64_t v = 0;

        if (!s || !*s || strlen(s) > 10)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (v >= UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* Next line of a buffer parsed in place; NUL-terminated, "\r\n" tolerated. */
static char *next_line(char **cursor) {
        char *line = *cursor, *nl;

        if (!line || !*line)
                return NULL;
        nl = strchr(line, '\n');
        if (nl) {
                *nl = 0;
                *cursor = nl + 1;
        } else
                *cursor = line + strlen(line);
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] == '\r')
                line[l - 1] = 0;
        return line;
}

/* Split on ':' into exactly n fields (in place). */
static bool split_fields(char *line, char **f, size_t n) {
        size_t i = 0;

        f[i++] = line;
        for (char *p = line; *p; p++)
                if (*p == ':') {
                        if (i == n)
                                return false;
                        *p = 0;
                        f[i++] = p + 1;
                }
        return i == n;
}

static bool skip_line(const char *line) {
        /* blank, comment, or NIS compat ("+" / "-" entries) */
        return line[0] == 0 || line[0] == '#' || line[0] == '+' || line[0] == '-';
}

typedef struct PasswdEntry {
        const char *name;
        uid_t uid;
        gid_t gid;
        const char *home;
        const char *shell;
} PasswdEntry;

/* By name, or by uid when name is NULL. First match wins. */
static bool passwd_find(char *buf, const char *name, uid_t uid, PasswdEntry *ret) {
        char *cursor = buf, *line;

        while ((line = next_line(&cursor))) {
                char *f[7];
                uint32_t u, g;

                if (skip_line(line) || !split_fields(line, f, 7))
                        continue;
                if (f[0][0] == 0 || parse_id(f[2], &u) < 0 || parse_id(f[3], &g) < 0)
                        continue;
                if (name ? strcmp(f[0], name) != 0 : u != uid)
                        continue;
                *ret = (PasswdEntry) { .name = f[0], .uid = u, .gid = g, .home = f[5], .shell = f[6] };
                return true;
        }
        return false;
}

typedef struct GroupEntry {
        const char *name;
        gid_t gid;
        const char *members; /* comma-separated */
} GroupEntry;

static int group_parse(char *buf, GroupEntry **ret, size_t *ret_n) {
        GroupEntry *e = NULL;
        size_t n = 0, allocated = 0;
        char *cursor = buf, *line;

        while (buf && (line = next_line(&cursor))) {
                char *f[4];
                uint32_t g;

                if (skip_line(line) || !split_fields(line, f, 4))
                        continue;
                if (f[0][0] == 0 || parse_id(f[2], &g) < 0)
                        continue;
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 64;
                        GroupEntry *t = realloc_n(e, a, sizeof(GroupEntry));
                        if (!t) {
                                free(e);
                                return -ENOMEM;
                        }
                        e = t;
                        allocated = a;
                }
                e[n++] = (GroupEntry) { .name = f[0], .gid = g, .members = f[3] };
        }
        *ret = e;
        *ret_n = n;
        return 0;
}

static bool members_contain(const char *members, const char *user) {
        size_t l = strlen(user);

        for (const char *p = members; *p;) {
                const char *comma = strchr(p, ',');
                size_t k = comma ? (size_t) (comma - p) : strlen(p);
                if (k == l && strncmp(p, user, l) == 0)
                        return true;
                if (!comma)
                        break;
                p = comma + 1;
        }
        return false;
}

static int group_resolve(const GroupEntry *groups, size_t n, const char *spec, gid_t *ret) {
        uint32_t g;

        if (!spec || !*spec)
                return -EINVAL;
        if (parse_id(spec, &g) >= 0) {
                *ret = g;
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                if (strcmp(groups[i].name, spec) == 0) {
                        *ret = groups[i].gid;
                        return 0;
                }
        return -ESRCH;
}

/* Appends; duplicates are removed once at the end (gid_list_uniq()), so
 * that a large /etc/group costs O(n log n), not O(n^2). */
static int gid_list_add(gid_t **list, size_t *n, size_t *allocated, gid_t g) {
        if (*n >= USERS_RAW_GROUPS_MAX)
                return -E2BIG;
        if (*n == *allocated) {
                size_t a = *allocated ? *allocated * 2 : 16;
                gid_t *t = realloc_n(*list, a, sizeof(gid_t));
                if (!t)
                        return -ENOMEM;
                *list = t;
                *allocated = a;
        }
        (*list)[(*n)++] = g;
        return 0;
}

typedef struct GidIndex {
        gid_t gid;
        size_t index;
} GidIndex;

static int gid_index_cmp(const void *a, const void *b) {
        const GidIndex *x = a, *y = b;

        if (x->gid != y->gid)
                return x->gid < y->gid ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Drop duplicates, keeping the first occurrence and the order. */
static int gid_list_uniq(gid_t *list, size_t *n) {
        _cleanup_free_ GidIndex *s = NULL;
        _cleanup_free_ bool *keep = NULL;
        size_t m = 0;

        if (*n < 2)
                return 0;
        s = calloc(*n, sizeof(GidIndex));
        keep = calloc(*n, sizeof(bool));
        if (!s || !keep)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                s[i] = (GidIndex) { list[i], i };
        qsort(s, *n, sizeof(GidIndex), gid_index_cmp);
        for (size_t i = 0; i < *n; i++)
                if (i == 0 || s[i].gid != s[i - 1].gid)
                        keep[s[i].index] = true;
        for (size_t i = 0; i < *n; i++)
                if (keep[i])
                        list[m++] = list[i];
        *n = m;
        return 0;
}

int berth_user_resolve_full(int root_fd, uint64_t resolve, const char *user, const char *group,
                            char **supplementary, BerthUser *ret) {
        _cleanup_free_ char *passwd = NULL, *group_buf = NULL, *home = NULL, *shell = NULL,
                            *user_name = NULL;
        _cleanup_free_ GroupEntry *groups = NULL;
        _cleanup_free_ gid_t *gids = NULL;
        size_t n_groups = 0, n_gids = 0, allocated = 0;
        PasswdEntry pw;
        bool found;
        uint32_t uid, gid;
        int r;

        if (root_fd < 0 || !ret)
                return -EINVAL;
        if (user && !*user)
                return -EINVAL;

        r = read_root_file(root_fd, "etc/passwd", resolve, &passwd);
        if (r < 0)
                return r;

        if (!user || parse_id(user, &uid) >= 0) {
                if (!user)
                        uid = 0;
                found = passwd && passwd_find(passwd, NULL, uid, &pw);
        } else {
                found = passwd && passwd_find(passwd, user, 0, &pw);
                if (!found)
                        return -ESRCH;
                uid = pw.uid;
        }

        if (found) {
                gid = pw.gid;
                home = strdup(pw.home[0] ? pw.home : "/");
                shell = strdup(pw.shell[0] ? pw.shell : "/bin/sh");
                user_name = strdup(pw.name);
                if (!user_name)
                        return -ENOMEM;
        } else {
                gid = uid;
                home = strdup("/");
                shell = strdup("/bin/sh");
        }
        if (!home || !shell)
                return -ENOMEM;

        r = read_root_file(root_fd, "etc/group", resolve, &group_buf);
        if (r < 0)
                return r;
        r = group_parse(group_buf, &groups, &n_groups);
        if (r < 0)
                return r;

        if (group) {
                r = group_resolve(groups, n_groups, group, &gid);
                if (r < 0)
                        return r;
        }

        for (char **s = supplementary; s && *s; s++) {
                gid_t g;

                r = group_resolve(groups, n_groups, *s, &g);
                if (r < 0)
                        return r;
                r = gid_list_add(&gids, &n_gids, &allocated, g);
                if (r < 0)
                        return r;
        }

        if (user_name)
                for (size_t i = 0; i < n_groups; i++)
                        if (members_contain(groups[i].members, user_name)) {
                                r = gid_list_add(&gids, &n_gids, &allocated, groups[i].gid);
                                if (r < 0)
                                        return r;
                        }

        r = gid_list_uniq(gids, &n_gids);
        if (r < 0)
                return r;
        if (n_gids > USERS_GROUPS_MAX)
                return -E2BIG;

        *ret = (BerthUser) {
                .uid = uid,
                .gid = gid,
                .groups = gids,
                .n_groups = n_gids,
                .home = home,
                .shell = shell,
        };
        gids = NULL;
        home = shell = NULL;
        return 0;
}

int berth_user_resolve(int root_fd, const char *user, const char *group, char **supplementary,
                       BerthUser *ret) {
        return berth_user_resolve_full(root_fd, 0, user, group, supplementary, ret);
}

void berth_user_done(BerthUser *u) {
        if (!u)
                return;
        free(u->groups);
        free(u->home);
        free(u->shell);
        *u = (BerthUser) {};
}
