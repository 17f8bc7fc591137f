/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "util.h"

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

int loop_write(int fd, const void *buf, size_t n) {
        const char *p = buf;
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return NEG_ERRNO();
                }
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

ssize_t loop_read(int fd, void *buf, size_t n) {
        char *p = buf;
        size_t done = 0;
        while (done < n) {
                ssize_t k = read(fd, p + done, n - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return NEG_ERRNO();
                }
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        return (ssize_t) done;
}

bool path_equal_or_below(const char *path, const char *prefix) {
        if (strcmp(prefix, "/") == 0)
                return true;
        size_t n = strlen(prefix);
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int mkdir_p(const char *path, mode_t mode) {
        char buf[PATH_MAX];
        size_t len = strlen(path);
        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return NEG_ERRNO();
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return NEG_ERRNO();
        return 0;
}

static int rm_rf_children(int fd, dev_t dev) {
        DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return NEG_ERRNO();
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = NEG_ERRNO();
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev) { /* never cross into another mount */
                                if (r == 0)
                                        r = -EBUSY;
                                continue;
                        }
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                        if (sub < 0) {
                                if (r == 0)
                                        r = NEG_ERRNO();
                                continue;
                        }
                        int k = rm_rf_children(sub, dev);
                        if (k < 0 && r == 0)
                                r = k;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                                r = NEG_ERRNO();
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = NEG_ERRNO();
        }
        closedir(d);
        return r;
}

int rm_rf_at(int dirfd, const char *name) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : NEG_ERRNO();
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, 0) < 0 ? NEG_ERRNO() : 0;
        int fd = openat(dirfd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        if (fd < 0)
                return NEG_ERRNO();
        int r = rm_rf_children(fd, st.st_dev);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = NEG_ERRNO();
        return r;
}

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return (x > y) - (x < y);
}

int close_all_fds_except(const int *keep, size_t n_keep) {
        int sorted[64];
        size_t n = 0;
        if (n_keep > ELEMENTSOF(sorted))
                return -E2BIG;
        for (size_t i = 0; i < n_keep; i++)
                if (keep[i] >= 3)
                        sorted[n++] = keep[i];
        qsort(sorted, n, sizeof(int), cmp_int);
        unsigned lo = 3;
        for (size_t i = 0; i < n; i++) {
                if ((unsigned) sorted[i] > lo &&
                    syscall(SYS_close_range, lo, (unsigned) sorted[i] - 1, 0) < 0)
                        return NEG_ERRNO();
                lo = (unsigned) sorted[i] + 1;
        }
        if (syscall(SYS_close_range, lo, ~0U, 0) < 0)
                return NEG_ERRNO();
        return 0;
}

int fd_move_above(int fd, int minfd) {
        if (fd >= minfd)
                return fd;
        int n = fcntl(fd, F_DUPFD_CLOEXEC, minfd);
        if (n < 0)
                return NEG_ERRNO();
        close(fd);
        return n;
}

int sys_pidfd_send_signal(int pidfd, int sig) {
        return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? NEG_ERRNO() : 0;
}

int sys_pidfd_open(pid_t pid) {
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? NEG_ERRNO() : fd;
}

int sys_pivot_root(const char *new_root, const char *put_old) {
        return syscall(SYS_pivot_root, new_root, put_old) < 0 ? NEG_ERRNO() : 0;
}

int sys_openat2(int dfd, const char *path, int oflags, uint64_t resolve) {
        struct open_how how = {
                .flags = (uint64_t) oflags | O_CLOEXEC,
                .resolve = resolve,
        };
        if (oflags & O_CREAT)
                how.mode = 0644;
        int fd = (int) syscall(SYS_openat2, dfd, path, &how, sizeof(how));
        return fd < 0 ? NEG_ERRNO() : fd;
}

int send_with_fd(int sock, const void *buf, size_t len, int fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t k;

        if (fd >= 0) {
                mh.msg_control = &control;
                mh.msg_controllen = sizeof(control);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        }
        do
                k = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return NEG_ERRNO();
        return (size_t) k == len ? 0 : -EIO;
}

ssize_t recv_with_fd(int sock, void *buf, size_t len, int *ret_fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = &control, .msg_controllen = sizeof(control),
        };
        ssize_t k;

        *ret_fd = -1;
        do
                k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return NEG_ERRNO();
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
        if (mh.msg_flags & MSG_CTRUNC) {
                *ret_fd = safe_close(*ret_fd);
                return -EBADMSG;
        }
        return k;
}

int sys_setgroups(size_t n, const gid_t *groups) {
        return syscall(SYS_setgroups, n, groups) < 0 ? NEG_ERRNO() : 0;
}

int sys_setresgid(gid_t rgid, gid_t egid, gid_t sgid) {
        return syscall(SYS_setresgid, rgid, egid, sgid) < 0 ? NEG_ERRNO() : 0;
}

int sys_setresuid(uid_t ruid, uid_t euid, uid_t suid) {
        return syscall(SYS_setresuid, ruid, euid, suid) < 0 ? NEG_ERRNO() : 0;
}
