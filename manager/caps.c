/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capabilities of the container's payload.
 *
 * Default set: Docker's 14 without CAP_MKNOD (device nodes are useless in a
 * container whose /dev is a fixed tmpfs, and the cgroup device policy would
 * refuse them anyway):
 *   CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
 *   NET_BIND_SERVICE NET_RAW SYS_CHROOT SETFCAP AUDIT_WRITE
 *
 * berth_caps_apply() runs in the container's child between clone() and
 * execve(): raw prctl/capget/capset syscalls only, no libcap, no allocation,
 * no file access (berth_caps_last_cap() must have been called once before
 * clone to cache /proc/sys/kernel/cap_last_cap; otherwise it probes with
 * PR_CAPBSET_READ).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))

uint64_t berth_caps_default(void) {
        return CAP_BIT(CAP_CHOWN) |
               CAP_BIT(CAP_DAC_OVERRIDE) |
               CAP_BIT(CAP_FOWNER) |
               CAP_BIT(CAP_FSETID) |
               CAP_BIT(CAP_KILL) |
               CAP_BIT(CAP_SETGID) |
               CAP_BIT(CAP_SETUID) |
               CAP_BIT(CAP_SETPCAP) |
               CAP_BIT(CAP_NET_BIND_SERVICE) |
               CAP_BIT(CAP_NET_RAW) |
               CAP_BIT(CAP_SYS_CHROOT) |
               CAP_BIT(CAP_SETFCAP) |
               CAP_BIT(CAP_AUDIT_WRITE);
}

uint64_t berth_caps_effective(const BerthConfig *c) {
        if (!c)
                return berth_caps_default();
        return (berth_caps_default() | c->capability_add) & ~c->capability_drop;
}

static int cached_last_cap = -1;

static int probe_last_cap(void) {
        /* PR_CAPBSET_READ fails with EINVAL for capabilities the kernel does not know. */
        int c;

        for (c = 0; c < 63; c++)
                if (prctl(PR_CAPBSET_READ, (unsigned long) c + 1, 0, 0, 0) < 0 && errno == EINVAL)
                        break;
        return c;
}

static int read_last_cap(void) {
        char buf[16];
        ssize_t n;
        int fd;

        fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = 0;

        char *end;
        errno = 0;
        long v = strtol(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\n' && *end != 0) || v < 0 || v > 62)
                return -EINVAL;
        return (int) v;
}

int berth_caps_last_cap(void) {
        int c = __atomic_load_n(&cached_last_cap, __ATOMIC_RELAXED);

        if (c >= 0)
                return c;
        c = read_last_cap();
        if (c < 0)
                c = probe_last_cap();
        __atomic_store_n(&cached_last_cap, c, __ATOMIC_RELAXED);
        return c;
}

static int capget_raw(struct __user_cap_data_struct data[2]) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

        if (syscall(SYS_capget, &h, data) < 0)
                return -errno;
        return 0;
}

static int capset_raw(uint64_t permitted, uint64_t effective, uint64_t inheritable) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2] = {
                { .effective = (uint32_t) effective,
                  .permitted = (uint32_t) permitted,
                  .inheritable = (uint32_t) inheritable },
                { .effective = (uint32_t) (effective >> 32),
                  .permitted = (uint32_t) (permitted >> 32),
                  .inheritable = (uint32_t) (inheritable >> 32) },
        };

        if (syscall(SYS_capset, &h, data) < 0)
                return -errno;
        return 0;
}

int berth_caps_apply(uint64_t mask, bool payload_is_root) {
        struct __user_cap_data_struct cur[2];
        uint64_t permitted, inheritable, valid;
        int last, r;

        /* No file access here: use the cached value or ask the kernel. */
        last = __atomic_load_n(&cached_last_cap, __ATOMIC_RELAXED);
        if (last < 0)
                last = probe_last_cap();
        valid = last >= 63 ? UINT64_MAX : CAP_BIT(last + 1) - 1;
        mask &= valid;

        /* After setuid() with PR_SET_KEEPCAPS the effective set is empty while
         * the permitted set is kept: raise effective to permitted, so that
         * CAP_SETPCAP is usable for dropping the bounding set. */
        r = capget_raw(cur);
        if (r < 0)
                return r;
        permitted = (uint64_t) cur[0].permitted | ((uint64_t) cur[1].permitted << 32);
        inheritable = (uint64_t) cur[0].inheritable | ((uint64_t) cur[1].inheritable << 32);
        r = capset_raw(permitted, permitted, inheritable);
        if (r < 0)
                return r;

        /* Dropping what is not in the bounding set is a no-op, not an error. */
        for (int c = 0; c <= last; c++) {
                if (mask & CAP_BIT(c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long) c, 0, 0, 0) < 0) {
                        int e = errno;
                        if (e == EINVAL)
                                continue; /* unknown to this kernel */
                        /* Without CAP_SETPCAP: fine if it is gone already. */
                        if (e == EPERM && prctl(PR_CAPBSET_READ, (unsigned long) c, 0, 0, 0) == 0)
                                continue;
                        return -e;
                }
        }

        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;

        /* Never ask for more than we hold: capset() would refuse it. */
        if (payload_is_root)
                return capset_raw(mask & permitted, mask & permitted, mask & permitted);
        return capset_raw(0, 0, 0);
}
