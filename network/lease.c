/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Address leases: <state_dir>/leases/<network>/<a.b.c.d>, content "<owner>\n".
 *
 * A lease file is created by linking an already written O_TMPFILE into the
 * directory (linkat fails with EEXIST if the address is taken), so a lease
 * appears complete or not at all, and two processes can never both get an
 * address. Without O_TMPFILE support we fall back to O_CREAT|O_EXCL and a
 * write; a crash in between leaves an empty lease, which lists with owner ""
 * and is reclaimable like any stale lease. Leases are not fsync'ed: after a
 * power loss no container is running, so every lease is stale anyway.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "net-internal.h"

/* Open (and with create, make) the state directory path. */
int berth_state_dir_open(const char *path, bool create, int *ret) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                int r = berth_mkdir_p(path, 0755);
                if (r < 0)
                        return r;
                fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return -errno;
        *ret = fd;
        return 0;
}

/* A DIR stream on a duplicate of dfd; dfd stays usable for *at() calls. */
int berth_state_dir_fdopen(int dfd, DIR **ret) {
        int dfd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dfd2 < 0)
                return -errno;
        DIR *d = fdopendir(dfd2);
        if (!d) {
                int r = -errno;
                close(dfd2);
                return r;
        }
        *ret = d;
        return 0;
}

/* Move the n elements of a into a malloc'ed array (never NULL when n is 0);
 * frees a either way. NULL on ENOMEM. */
void *berth_garray_steal(GArray *a, size_t *ret_n) {
        size_t n = a->len, size = g_array_get_element_size(a);
        void *v = calloc(n ? n : 1, size);
        if (v && n)
                memcpy(v, a->data, n * size);
        g_array_free(a, TRUE);
        if (v)
                *ret_n = n;
        return v;
}

static int lease_dir_open(const char *state_dir, const char *network, bool create, int *ret) {
        if (berth_network_name_validate(network) < 0)
                return -EINVAL;
        _cleanup_free_ char *path = NULL;
        if (berth_net_printf(&path, "%s/leases/%s", state_dir ? state_dir : BERTH_STATE_DIR, network) < 0)
                return -ENOMEM;
        return berth_state_dir_open(path, create, ret);
}

static int write_all(int fd, const char *s) {
        size_t len = strlen(s);
        while (len > 0) {
                ssize_t k = write(fd, s, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                s += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Create dfd/name with content atomically; -EEXIST if it exists. */
int berth_state_file_create(int dfd, const char *name, const char *content) {
        _cleanup_close_ int fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        int r;
        if (fd >= 0) {
                r = write_all(fd, content);
                if (r < 0)
                        return r;
                if (linkat(fd, "", dfd, name, AT_EMPTY_PATH) >= 0)
                        return 0;
                if (errno != ENOENT && errno != EPERM)
                        return -errno;
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                if (linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) < 0)
                        return -errno;
                return 0;
        }
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return -errno;
        fd = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = write_all(fd, content);
        if (r < 0) {
                unlinkat(dfd, name, 0);
                return r;
        }
        return 0;
}

/* Read the first line of dfd/name into buf. */
int berth_state_file_read(int dfd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        ssize_t k = read(fd, buf, size - 1);
        if (k < 0)
                return -errno;
        buf[k] = 0;
        return (int) k;
}

/* The owner (first line) of dfd/name. */
int berth_state_file_read_owner(int dfd, const char *name, char owner[BERTH_NAME_MAX + 1]) {
        char buf[BERTH_NAME_MAX + 2];
        int r = berth_state_file_read(dfd, name, buf, sizeof buf);
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = 0;
        g_strlcpy(owner, buf, BERTH_NAME_MAX + 1);
        return 0;
}

/* 0: created, 1: already ours, -EEXIST: someone else's (owner in holder). */
static int try_address(int dfd, struct in_addr a, const char *content, const char *owner,
                       char holder[BERTH_NAME_MAX + 1]) {
        char name[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, name, sizeof name);
        int r = berth_state_file_create(dfd, name, content);
        if (r != -EEXIST)
                return r;
        if (berth_state_file_read_owner(dfd, name, holder) >= 0 && strcmp(holder, owner) == 0)
                return 1;
        return -EEXIST;
}

int berth_lease_acquire(const char *state_dir, const BerthNetworkDef *def, const char *owner,
                        const struct in_addr *fixed, struct in_addr *ret, char **ret_holder) {
        if (!owner || !*owner || strlen(owner) > BERTH_NAME_MAX || strchr(owner, '\n'))
                return -EINVAL;
        _cleanup_close_ int dfd = -1;
        int r = lease_dir_open(state_dir, def->name, true, &dfd);
        if (r < 0)
                return r;
        _cleanup_free_ char *content = NULL;
        if (berth_net_printf(&content, "%s\n", owner) < 0)
                return -ENOMEM;
        char holder[BERTH_NAME_MAX + 1] = "";

        if (fixed) {
                r = berth_network_address_validate(def, *fixed);
                if (r < 0)
                        return r;
                r = try_address(dfd, *fixed, content, owner, holder);
                if (r == -EEXIST) {
                        if (ret_holder)
                                *ret_holder = strdup(holder);
                        return -EADDRINUSE;
                }
                if (r < 0)
                        return r;
                *ret = *fixed;
                return 0;
        }

        uint32_t net = ntohl(def->subnet.s_addr);
        uint32_t size = (1U << (32 - def->prefixlen)) - 2; /* host addresses */
        uint32_t start = (uint32_t) (berth_net_hash(owner, 0x6c6561) % size);
        for (uint32_t i = 0; i < size; i++) {
                struct in_addr a = { .s_addr = htonl(net + 1 + (start + i) % size) };
                if (a.s_addr == def->gateway.s_addr)
                        continue;
                r = try_address(dfd, a, content, owner, holder);
                if (r == -EEXIST)
                        continue;
                if (r < 0)
                        return r;
                *ret = a;
                return 0;
        }
        return -ENOSPC;
}

int berth_lease_release(const char *state_dir, const char *network, struct in_addr a, const char *owner) {
        _cleanup_close_ int dfd = -1;
        int r = lease_dir_open(state_dir, network, false, &dfd);
        if (r < 0)
                return r;
        char name[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, name, sizeof name);
        if (owner) {
                char holder[BERTH_NAME_MAX + 1];
                r = berth_state_file_read_owner(dfd, name, holder);
                if (r < 0)
                        return r;
                if (strcmp(holder, owner) != 0)
                        return -EPERM;
        }
        if (unlinkat(dfd, name, 0) < 0)
                return -errno;
        return 0;
}

static int lease_scan(const char *state_dir, const char *network, const char *release_owner,
                      BerthLease **ret, size_t *ret_n) {
        _cleanup_close_ int dfd = -1;
        int r = lease_dir_open(state_dir, network, false, &dfd);
        if (r == -ENOENT) {
                if (ret) {
                        *ret = NULL;
                        *ret_n = 0;
                }
                return 0;
        }
        if (r < 0)
                return r;
        DIR *d;
        r = berth_state_dir_fdopen(dfd, &d);
        if (r < 0)
                return r;
        GArray *a = g_array_new(FALSE, TRUE, sizeof(BerthLease));
        int count = 0;
        struct dirent *de;
        r = 0;
        while ((errno = 0, de = readdir(d))) {
                BerthLease l = {};
                if (inet_pton(AF_INET, de->d_name, &l.address) != 1)
                        continue;
                if (berth_state_file_read_owner(dfd, de->d_name, l.owner) < 0)
                        continue; /* vanished meanwhile */
                if (release_owner) {
                        if (strcmp(l.owner, release_owner) == 0 && unlinkat(dfd, de->d_name, 0) >= 0)
                                count++;
                        continue;
                }
                g_array_append_val(a, l);
        }
        if (errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0 || !ret) {
                g_array_free(a, TRUE);
                return r < 0 ? r : count;
        }
        BerthLease *v = berth_garray_steal(a, ret_n);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return (int) *ret_n;
}

int berth_lease_release_owner(const char *state_dir, const char *network, const char *owner) {
        return lease_scan(state_dir, network, owner, NULL, NULL);
}

static int lease_cmp(const void *x, const void *y) {
        uint32_t a = ntohl(((const BerthLease *) x)->address.s_addr);
        uint32_t b = ntohl(((const BerthLease *) y)->address.s_addr);
        return a < b ? -1 : a > b;
}

int berth_lease_list(const char *state_dir, const char *network, BerthLease **ret, size_t *ret_n) {
        int r = lease_scan(state_dir, network, NULL, ret, ret_n);
        if (r > 0)
                qsort(*ret, *ret_n, sizeof **ret, lease_cmp);
        return r;
}

int berth_lease_networks(const char *state_dir, char ***ret) {
        _cleanup_free_ char *path = NULL;
        if (berth_net_printf(&path, "%s/leases", state_dir ? state_dir : BERTH_STATE_DIR) < 0)
                return -ENOMEM;
        GPtrArray *v = g_ptr_array_new();
        DIR *d = opendir(path);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (berth_network_name_validate(de->d_name) >= 0)
                                g_ptr_array_add(v, g_strdup(de->d_name));
                closedir(d);
        } else if (errno != ENOENT) {
                int r = -errno;
                g_ptr_array_free(v, TRUE);
                return r;
        }
        g_ptr_array_add(v, NULL);
        *ret = (char **) g_ptr_array_free(v, FALSE);
        return 0;
}
