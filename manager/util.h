/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -1;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Hand an fd out of a _cleanup_close_ variable. */
static inline int take_fd(int *fd) {
        int r = *fd;
        *fd = -1;
        return r;
}
#define TAKE_FD(fd) take_fd(&(fd))

#define NEG_ERRNO() (errno > 0 ? -errno : -EIO)
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

uint64_t now_usec(clockid_t clock);

/* write()/read() loops; return 0 / bytes read, or -errno. */
int loop_write(int fd, const void *buf, size_t n);
ssize_t loop_read(int fd, void *buf, size_t n);

/* One datagram on a SOCK_SEQPACKET/SOCK_DGRAM socket with at most one fd
 * (SCM_RIGHTS; fd < 0: none). Retries EINTR, no SIGPIPE, allocates nothing.
 * 0 or -errno. */
int send_with_fd(int sock, const void *buf, size_t len, int fd);
/* Receive one datagram into buf and at most one fd (*ret_fd, O_CLOEXEC; -1
 * if none came). The length received, 0 at EOF, or -errno; -EBADMSG if
 * control data was cut off (then no fd). */
ssize_t recv_with_fd(int sock, void *buf, size_t len, int *ret_fd);

/* glibc's setgroups() and setres[ug]id() signal every other thread of the
 * process on the way (its setxid protocol), and wait for a thread that is
 * still being created. A child made by a raw clone3 inherits glibc's list of
 * the parent's threads without the threads: the runtime's network namespace
 * thread, or any thread of the embedding program, would be waited for
 * forever. The container's child is single-threaded and uses the system
 * calls. 0 or -errno. */
int sys_setgroups(size_t n, const gid_t *groups);
int sys_setresgid(gid_t rgid, gid_t egid, gid_t sgid);
int sys_setresuid(uid_t ruid, uid_t euid, uid_t suid);

/* path is prefix or below it ("/" covers everything); both normalized, absolute. */
bool path_equal_or_below(const char *path, const char *prefix);

/* mkdir -p with mode, for host-side state dirs (trusted, absolute paths). */
int mkdir_p(const char *path, mode_t mode);

/* Remove a directory tree without crossing mount points or following symlinks. */
int rm_rf_at(int dirfd, const char *name);

/* Close every fd >= 3 except those listed (unordered, -1 entries ignored). */
int close_all_fds_except(const int *keep, size_t n_keep);

/* Move fd to >= minfd with O_CLOEXEC; closes the old one. */
int fd_move_above(int fd, int minfd);

/* Raw syscall wrappers that glibc 2.36 lacks (it has the new mount API). */
int sys_pidfd_send_signal(int pidfd, int sig);
int sys_pidfd_open(pid_t pid);
int sys_pivot_root(const char *new_root, const char *put_old);
int sys_openat2(int dfd, const char *path, int oflags, uint64_t resolve);
