/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The container's seccomp filter.
 *
 * Policy: default ALLOW, and ERRNO(EPERM) for the syscalls listed in
 * default_denylist[] below (a superset of what Docker's default profile
 * refuses to an unprivileged container), plus three conditional rules:
 *
 *   clone        EPERM when any CLONE_NEW* namespace flag is set in arg0
 *                (one SCMP_CMP_MASKED_EQ rule per flag); plain fork() and
 *                pthread_create() keep working.
 *   clone3       ENOSYS, unconditionally. clone3 passes its flags in memory,
 *                where a seccomp filter cannot look, so it can only be refused
 *                as a whole; ENOSYS (not EPERM) makes glibc (>= 2.34) fall
 *                back to clone(2), where the namespace flags are checked. This
 *                is what Docker does. CLONE_NEWTIME can only be requested via
 *                clone3 or unshare, and both are refused.
 *   personality  EPERM unless arg0 is one of the values Docker allows:
 *                PER_LINUX (0), PER_LINUX32 (8), UNAME26 (0x20000),
 *                UNAME26|PER_LINUX32 (0x20008) or the query 0xffffffff.
 *                This one is a few hand-written instructions in front of
 *                the program libseccomp makes (see personality_prologue()):
 *                as libseccomp rules it was half of the program.
 *
 * SystemCallAllow= removes names from the deny set (for clone, clone3 and
 * personality it removes the conditional rules: note that allowing clone3
 * therefore also allows namespace flags through clone3). SystemCallDeny=
 * adds names with EPERM, unconditionally; a name in both lists is denied.
 *
 * The same rules are generated for every ABI the kernel may accept from the
 * container: on x86-64 that is x86-64 and i386, each with its own syscall
 * numbers; a syscall that an ABI lacks is skipped for that ABI. Any other
 * ABI fails with ENOSYS as a whole. That covers x32, which Debian's kernels
 * only accept when booted with syscall.x32=y and many kernels do not build
 * at all: refusing it keeps a quarter of the filter, and of the time the
 * kernel takes to load it on every start, for an ABI next to nobody runs.
 *
 * libseccomp is slow (tens of milliseconds for a filter like this), so each
 * distinct (allow, deny) pair is compiled once per process, exported to BPF
 * and cached; berth_seccomp_load() then only needs the seccomp(2) syscall and
 * is safe between clone() and execve().
 */

#include <errno.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib.h>

#include "runtime.h"

struct BerthSeccompProgram {
        struct sock_fprog prog;
        char *key;
};

/* EPERM for all of these, unconditionally except for the last three (see
 * above). Names that libseccomp or a given ABI does not know are skipped. */
static const char *const default_denylist[] = {
        /* mounts and namespaces */
        "mount", "umount", "umount2", "pivot_root", "unshare", "setns",
        "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
        /* keyring (not namespaced) */
        "keyctl", "add_key", "request_key",
        /* kernel attack surface */
        "bpf", "perf_event_open", "userfaultfd", "lookup_dcookie",
        "io_uring_setup", "io_uring_enter", "io_uring_register",
        /* file handles bypass the mount namespace */
        "open_by_handle_at", "name_to_handle_at",
        /* kernel images and modules */
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        "create_module", "get_kernel_syms", "query_module",
        /* host-wide state */
        "reboot", "swapon", "swapoff", "acct",
        "settimeofday", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "stime",
        "syslog", "quotactl", "quotactl_fd", "nfsservctl", "sethostname", "setdomainname", "vhangup",
        /* NUMA policy of host memory */
        "mbind", "set_mempolicy", "get_mempolicy", "move_pages", "migrate_pages",
        /* obsolete or direct hardware access */
        "uselib", "ustat", "sysfs", "_sysctl", "vm86", "vm86old", "iopl", "ioperm",
        /* inspection of other processes and file systems */
        "kcmp", "fanotify_init",
        /* conditional, see above */
        "clone", "clone3", "personality",
        NULL
};

static bool is_conditional(const char *name) {
        return strcmp(name, "clone") == 0 || strcmp(name, "clone3") == 0 ||
               strcmp(name, "personality") == 0;
}

static const uint64_t clone_namespace_flags[] = {
        CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
        CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

const char *const *berth_seccomp_default_denylist(void) {
        return default_denylist;
}

bool berth_seccomp_syscall_known(const char *name) {
        if (!name || !*name)
                return false;
        return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

static bool strv_contains(char **l, const char *s) {
        for (char **i = l; i && *i; i++)
                if (strcmp(*i, s) == 0)
                        return true;
        return false;
}

static bool name_is_sane(const char *s) {
        if (!s || !*s || strlen(s) > 64)
                return false;
        for (const char *p = s; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '_')
                        return false;
        return true;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted, deduplicated copy (strings borrowed) as a NULL-terminated array. */
static int sorted_unique(char **l, char ***ret) {
        size_t n = l ? g_strv_length(l) : 0, m = 0;
        g_autofree char **s = g_new0(char *, n + 1);

        for (size_t i = 0; i < n; i++) {
                if (!name_is_sane(l[i]))
                        return -EINVAL;
                s[i] = l[i];
        }
        qsort(s, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                if (m == 0 || strcmp(s[m - 1], s[i]) != 0)
                        s[m++] = s[i];
        s[m] = NULL;
        *ret = g_steal_pointer(&s);
        return 0;
}

static void append_strv(GString *g, char **l) {
        for (char **i = l; *i; i++) {
                g_string_append(g, *i);
                g_string_append_c(g, ',');
        }
}

G_LOCK_DEFINE_STATIC(cache);
static GHashTable *cache; /* key -> BerthSeccompProgram*, never freed */

static void program_free(BerthSeccompProgram *p) {
        if (!p)
                return;
        free(p->prog.filter);
        g_free(p->key);
        g_free(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BerthSeccompProgram, program_free)

static void seccomp_ctx_releasep(scmp_filter_ctx *c) {
        if (*c)
                seccomp_release(*c);
}
#define _cleanup_seccomp_ __attribute__((cleanup(seccomp_ctx_releasep)))

static void close_fdp(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ __attribute__((cleanup(close_fdp)))

static int add_rule(scmp_filter_ctx ctx, uint32_t arch, const char *name, uint32_t action,
                    unsigned n_cmp, const struct scmp_arg_cmp *cmp) {
        int nr;

        /* Skip what this ABI lacks (libseccomp answers with __NR_SCMP_ERROR or
         * a negative pseudo number). */
        if (seccomp_syscall_resolve_name_arch(arch, name) < 0)
                return 0;

        /* libseccomp's rule functions take the syscall number of the *native*
         * ABI (a pseudo number if the native ABI lacks it, e.g. umount on
         * x86-64) and translate it into each filter ABI themselves, even in a
         * filter without the native ABI. Passing i386 or x32 numbers here
         * would deny unrelated syscalls. */
        nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0;
        return seccomp_rule_add_exact_array(ctx, action, nr, n_cmp, cmp);
}

static unsigned clone_flags_arg(uint32_t arch) {
        if (arch == SCMP_ARCH_NATIVE)
                arch = seccomp_arch_native();
        return arch == SCMP_ARCH_S390 || arch == SCMP_ARCH_S390X ? 1 : 0;
}

static int build_arch(uint32_t arch, bool native, char **allow, char **deny, scmp_filter_ctx *ret) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r;

        if (!ctx)
                return -ENOMEM;
        if (!native) {
                r = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
                if (r < 0)
                        return r;
                r = seccomp_arch_add(ctx, arch);
                if (r < 0)
                        return r;
        }
        /* Filters are exported, never loaded through libseccomp; the caller sets
         * no_new_privs itself. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        /* An ABI not in the filter (x32): what a kernel without it answers. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
        if (r < 0)
                return r;
        /* Every syscall of the payload runs this filter: dispatch on the
         * syscall number with a binary tree rather than a linear chain. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                return r;

        for (const char *const *n = default_denylist; *n; n++) {
                if (is_conditional(*n) || strv_contains(allow, *n) || strv_contains(deny, *n))
                        continue; /* deny: added below */
                r = add_rule(ctx, arch, *n, SCMP_ACT_ERRNO(EPERM), 0, NULL);
                if (r < 0)
                        return r;
        }

        for (char **n = deny; *n; n++) {
                r = add_rule(ctx, arch, *n, SCMP_ACT_ERRNO(EPERM), 0, NULL);
                if (r < 0)
                        return r;
        }

        if (!strv_contains(allow, "clone") && !strv_contains(deny, "clone"))
                for (size_t i = 0; i < G_N_ELEMENTS(clone_namespace_flags); i++) {
                        struct scmp_arg_cmp cmp = {
                                /* clone(flags, ...) everywhere but s390, where the
                                 * stack comes first (CLONE_BACKWARDS2) */
                                .arg = clone_flags_arg(arch),
                                .op = SCMP_CMP_MASKED_EQ,
                                .datum_a = clone_namespace_flags[i],
                                .datum_b = clone_namespace_flags[i],
                        };
                        r = add_rule(ctx, arch, "clone", SCMP_ACT_ERRNO(EPERM), 1, &cmp);
                        if (r < 0)
                                return r;
                }

        if (!strv_contains(allow, "clone3") && !strv_contains(deny, "clone3")) {
                r = add_rule(ctx, arch, "clone3", SCMP_ACT_ERRNO(ENOSYS), 0, NULL);
                if (r < 0)
                        return r;
        }

        /* personality: see personality_prologue(). */

        *ret = ctx;
        ctx = NULL;
        return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        g_autofree struct sock_filter *f = NULL;
        size_t done = 0;
        int r;

        fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -E2BIG;

        f = malloc(st.st_size);
        if (!f)
                return -ENOMEM;
        while (done < (size_t) st.st_size) {
                ssize_t n = pread(fd, (char *) f + done, st.st_size - done, done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                done += n;
        }

        ret->len = st.st_size / sizeof(struct sock_filter);
        ret->filter = g_steal_pointer(&f);
        return 0;
}

/*
 * personality(2) with Docker's values only: 0 (PER_LINUX), PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32 and the query 0xffffffff. libseccomp compares
 * an argument with one mask per rule and ORs the rules, and this set has no
 * short complement in those terms: it took 60 rules, 187 of the program's 380
 * instructions, and the kernel converts and JITs the whole program on every
 * start. The same decision is a few instructions, run before the program
 * libseccomp made (which has no rule for personality then): for the
 * personality of an ABI in the filter, the query passes, a value without a
 * bit outside PER_LINUX32|UNAME26 passes, anything else fails with EPERM;
 * every other call falls through to libseccomp's program. Only the lower 32
 * bits count: the kernel takes the argument as an unsigned int.
 *
 * Jumps in classic BPF are relative and forward only, so prepending leaves
 * libseccomp's program as it was.
 */
#define PROLOGUE_MAX 32

static size_t personality_prologue(const uint32_t *arches, size_t n_arches, struct sock_filter *out) {
        const uint32_t arg0_low = offsetof(struct seccomp_data, args[0]) +
                                  (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0);
        const uint32_t allowed_bits = UINT32_C(0x0020000) /* UNAME26 */ | UINT32_C(0x0008) /* PER_LINUX32 */;
        struct { uint32_t arch; int nr; } abi[4];
        size_t n = 0, k = 0;

        for (size_t i = 0; i < n_arches && n < G_N_ELEMENTS(abi); i++) {
                int nr = seccomp_syscall_resolve_name_arch(arches[i], "personality");
                if (nr >= 0)
                        abi[n++] = (typeof(abi[0])) { arches[i], nr };
        }
        if (n == 0)
                return 0;

        /* 1 + 3 per ABI + 5 for the check: CHECK starts at 1 + 3n, the
         * libseccomp program (END) at 6 + 3n. */
        const size_t check = 1 + 3 * n, end = check + 5;
        out[k++] = (struct sock_filter) BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, arch));
        for (size_t i = 0; i < n; i++) {
                /* at k: arch? then load nr and compare; else the next ABI (or END) */
                size_t next = k + 3;
                out[k] = (struct sock_filter) BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, abi[i].arch, 0,
                                                       (uint8_t) ((i + 1 < n ? next : end) - (k + 1)));
                k++;
                out[k++] = (struct sock_filter) BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, nr));
                out[k] = (struct sock_filter) BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, (uint32_t) abi[i].nr,
                                                       (uint8_t) (check - (k + 1)), (uint8_t) (end - (k + 1)));
                k++;
        }
        out[k++] = (struct sock_filter) BPF_STMT(BPF_LD|BPF_W|BPF_ABS, arg0_low);
        out[k] = (struct sock_filter) BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, UINT32_C(0xffffffff), (uint8_t) (end - (k + 1)), 0);
        k++;
        out[k++] = (struct sock_filter) BPF_STMT(BPF_ALU|BPF_AND|BPF_K, ~allowed_bits);
        out[k] = (struct sock_filter) BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, 0, (uint8_t) (end - (k + 1)), 0);
        k++;
        out[k++] = (struct sock_filter) BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
        return k;
}

static int prepend(struct sock_fprog *prog, const struct sock_filter *pre, size_t n) {
        if (n == 0)
                return 0;
        if (prog->len + n > BPF_MAXINSNS)
                return -E2BIG;
        struct sock_filter *f = malloc((prog->len + n) * sizeof(*f));
        if (!f)
                return -ENOMEM;
        memcpy(f, pre, n * sizeof(*f));
        memcpy(f + n, prog->filter, prog->len * sizeof(*f));
        free(prog->filter);
        prog->filter = f;
        prog->len += n;
        return 0;
}

static int compile(char **allow, char **deny, struct sock_fprog *ret) {
        /* The ABIs of the filter: the native one first, and on x86-64 i386. */
        uint32_t arches[2];
        size_t n_arches = 0;
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        int r;

        for (char **n = allow; *n; n++)
                if (!berth_seccomp_syscall_known(*n))
                        return -EINVAL;
        for (char **n = deny; *n; n++)
                if (!berth_seccomp_syscall_known(*n))
                        return -EINVAL;

        arches[n_arches++] = seccomp_arch_native();
        if (arches[0] == SCMP_ARCH_X86_64)
                arches[n_arches++] = SCMP_ARCH_X86;

        r = build_arch(SCMP_ARCH_NATIVE, true, allow, deny, &ctx);
        if (r < 0)
                return r;
        for (size_t i = 1; i < n_arches; i++) {
                scmp_filter_ctx other = NULL;

                r = build_arch(arches[i], false, allow, deny, &other);
                if (r < 0)
                        return r;
                /* seccomp_merge() consumes "other", on success only. */
                r = seccomp_merge(ctx, other);
                if (r < 0) {
                        seccomp_release(other);
                        return r;
                }
        }

        r = export_bpf(ctx, ret);
        if (r < 0)
                return r;

        if (!strv_contains(allow, "personality") && !strv_contains(deny, "personality")) {
                struct sock_filter pre[PROLOGUE_MAX];
                r = prepend(ret, pre, personality_prologue(arches, n_arches, pre));
                if (r < 0) {
                        free(ret->filter);
                        ret->filter = NULL;
                        return r;
                }
        }
        return 0;
}

/* What the runtime and the stub init still call after the filter is loaded:
 * denying one of these would make every start fail. */
static const char *const required_after_filter[] = {
        "setgroups", "setresuid", "setresgid", "capget", "capset", "prctl", "execve", "execveat",
        "exit", "exit_group", "wait4", "waitid", "rt_sigtimedwait", "rt_sigprocmask", "rt_sigaction",
        "kill", "clone", "fork", "vfork", "pipe2", "close", "close_range", "write", "pwrite64",
        "read", "fsync", "chdir", "setsid", "ioctl", "sendto", "sendmsg",
        NULL
};

const char *berth_seccomp_required_denied(char **deny) {
        for (char **d = deny; d && *d; d++)
                for (size_t i = 0; required_after_filter[i]; i++)
                        if (strcmp(*d, required_after_filter[i]) == 0)
                                return required_after_filter[i];
        return NULL;
}

int berth_seccomp_compile(char **allow, char **deny, const BerthSeccompProgram **ret) {
        g_autofree char **a = NULL, **d = NULL;
        g_autoptr(GString) key = NULL;
        g_autoptr(BerthSeccompProgram) p = NULL;
        BerthSeccompProgram *cached;
        int r;

        if (!ret)
                return -EINVAL;
        if (berth_seccomp_required_denied(deny))
                return -EPERM;

        r = sorted_unique(allow, &a);
        if (r < 0)
                return r;
        r = sorted_unique(deny, &d);
        if (r < 0)
                return r;

        key = g_string_new("A:");
        append_strv(key, a);
        g_string_append(key, "D:");
        append_strv(key, d);

        G_LOCK(cache);
        cached = cache ? g_hash_table_lookup(cache, key->str) : NULL;
        G_UNLOCK(cache);
        if (cached) {
                *ret = cached;
                return 0;
        }

        p = g_new0(BerthSeccompProgram, 1);
        r = compile(a, d, &p->prog);
        if (r < 0)
                return r;
        p->key = g_string_free(g_steal_pointer(&key), FALSE);

        G_LOCK(cache);
        if (!cache)
                cache = g_hash_table_new(g_str_hash, g_str_equal);
        cached = g_hash_table_lookup(cache, p->key);
        if (!cached) {
                /* Another thread may have compiled the same set meanwhile; first wins. */
                cached = g_steal_pointer(&p);
                g_hash_table_insert(cache, cached->key, cached);
        }
        G_UNLOCK(cache);

        *ret = cached;
        return 0;
}

int berth_seccomp_load(const BerthSeccompProgram *p) {
        if (!p || !p->prog.filter || p->prog.len == 0)
                return -EINVAL;

        /* No libseccomp, no allocation: safe between clone() and execve(). The
         * caller sets PR_SET_NO_NEW_PRIVS first (or still holds CAP_SYS_ADMIN). */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->prog) == 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p->prog, 0, 0) < 0)
                return -errno;
        return 0;
}
