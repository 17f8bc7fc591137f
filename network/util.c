/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <netlink/errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "net-internal.h"

int berth_nl_errno(int nlerr) {
        if (nlerr >= 0)
                return nlerr;
        switch (-nlerr) {
        case NLE_EXIST: return -EEXIST;
        case NLE_NODEV: return -ENODEV;
        case NLE_NOMEM: return -ENOMEM;
        case NLE_PERM: return -EPERM;
        case NLE_NOACCESS: return -EACCES;
        case NLE_INVAL: return -EINVAL;
        case NLE_RANGE: return -ERANGE;
        case NLE_OBJ_NOTFOUND: return -ENOENT;
        case NLE_BUSY: return -EBUSY;
        case NLE_AGAIN: return -EAGAIN;
        case NLE_INTR: return -EINTR;
        case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
        case NLE_OPNOTSUPP: return -EOPNOTSUPP;
        case NLE_MSGSIZE: return -EMSGSIZE;
        case NLE_NOATTR: return -ENODATA;
        case NLE_NOADDR: return -EADDRNOTAVAIL;
        case NLE_IMMUTABLE: return -EROFS;
        default: return -EIO;
        }
}

/* FNV-1a over the string, then a splitmix64 finalizer for avalanche. */
uint64_t berth_net_hash(const char *s, uint64_t salt) {
        uint64_t h = 0xcbf29ce484222325ULL ^ salt;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 0x100000001b3ULL;
        }
        h += 0x9e3779b97f4a7c15ULL;
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
        return h ^ (h >> 31);
}

int berth_net_printf(char **ret, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int k = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (k < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return k;
}

int berth_net_error(char **ret_error, int r, const char *fmt, ...) {
        if (ret_error && !*ret_error) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

int berth_write_file_atomic(const char *path, const char *content, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        if (berth_net_printf(&tmp, "%s.tmpXXXXXX", path) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t len = strlen(content);
        int r = 0;
        if (fchmod(fd, mode) < 0)
                r = -errno;
        for (size_t off = 0; r == 0 && off < len;) {
                ssize_t k = write(fd, content + off, len - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                } else
                        off += (size_t) k;
        }
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

int berth_mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int berth_sysctl_write(const char *key, const char *value) {
        char path[256];
        if (snprintf(path, sizeof path, "/proc/sys/%s", key) >= (int) sizeof path)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        size_t len = strlen(value);
        ssize_t k = write(fd, value, len);
        if (k < 0)
                return -errno;
        return (size_t) k == len ? 0 : -EIO;
}
