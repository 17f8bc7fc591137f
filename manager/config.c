/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Container configuration parser: GKeyFile INI files, main file plus drop-ins.
 *
 * GKeyFile validates the syntax and gives the groups and keys in file order,
 * but it keeps only the last value of a key that is repeated inside one group
 * (repeated Bind= lines are normal here), silently merges repeated groups and
 * drops localized keys. So each file is also pre-scanned line by line, with
 * GKeyFile's own line rules, to collect every value of every key in order; the
 * two views are cross-checked and a mismatch is an error, never a guess.
 *
 * Values are taken raw (g_key_file_get_value semantics, no GKeyFile escapes):
 * Command= and Environment= are shell-quoted, so a second escaping layer would
 * only confuse. Leading and trailing whitespace of a value is ignored.
 *
 * GError codes in BERTH_CONFIG_ERROR are positive errno values (EINVAL, ENOENT,
 * EFBIG, EIO...), the same as the negative return value.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "policy.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define VALUE_SHOW_MAX 200
#define CPUSET_CPU_MAX 8192 /* the kernel's largest NR_CPUS */
#define DEFAULT_KILL_TIMEOUT_USEC (10ULL * 1000000ULL)
#define PRIVATE_USERS_PICK_MIN 0x00080000U
#define PRIVATE_USERS_PICK_MAX 0x6fff0000U
#define PRIVATE_USERS_RANGE 0x10000U

G_DEFINE_QUARK(berth-config-error-quark, berth_config_error)

/* ---------------------------------------------------------------------------------------------- */
/* Small helpers */

static void sources_remove(BerthConfig *c, const char *section, const char *key);

#define set_error(error, code, ...) g_set_error((error), BERTH_CONFIG_ERROR, (code), __VA_ARGS__)

/* A value fit for an error message: control characters escaped, long values cut. */
static char *value_show(const char *raw) {
        g_autofree char *valid = g_utf8_make_valid(raw, -1);
        const char *v = valid;
        GString *s = g_string_new(NULL);
        size_t n = 0;

        for (const char *p = v; *p; p++, n++) {
                if (n >= VALUE_SHOW_MAX) {
                        g_string_append(s, "...");
                        break;
                }
                unsigned char ch = (unsigned char) *p;
                if (ch < 0x20 || ch == 0x7f)
                        g_string_append_printf(s, "\\x%02x", ch);
                else
                        g_string_append_c(s, *p);
        }
        return g_string_free(s, FALSE);
}

static const char *origin_of(const BerthConfig *c) {
        if (c->path)
                return c->path;
        return c->name ? c->name : "(transient)";
}

static bool is_blank(char ch) {
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static char *strip_dup(const char *s) {
        char *r = g_strdup(s);
        return g_strstrip(r);
}

/* Split on blanks (and optionally commas); empty tokens are dropped. */
static char **split_words(const char *s, bool commas) {
        GPtrArray *a = g_ptr_array_new();
        const char *p = s;

        for (;;) {
                while (*p && (is_blank(*p) || (commas && *p == ',')))
                        p++;
                if (!*p)
                        break;
                const char *e = p;
                while (*e && !is_blank(*e) && !(commas && *e == ','))
                        e++;
                g_ptr_array_add(a, g_strndup(p, e - p));
                p = e;
        }
        g_ptr_array_add(a, NULL);
        return (char **) g_ptr_array_free(a, FALSE);
}

static bool strv_contains_str(char **l, const char *s) {
        return l && g_strv_contains((const char *const *) l, s);
}

/* Takes ownership of s. */
static void strv_push(char ***l, char *s) {
        size_t n = *l ? g_strv_length(*l) : 0;
        *l = g_renew(char *, *l, n + 2);
        (*l)[n] = s;
        (*l)[n + 1] = NULL;
}

static void strv_reset_empty(char ***l) {
        g_strfreev(*l);
        *l = g_new0(char *, 1);
}

/* Decimal digits only, no sign, no blanks. -ERANGE on overflow. Advances *p. */
static int parse_digits(const char **p, uint64_t *ret) {
        uint64_t v = 0;
        const char *s = *p;

        if (!g_ascii_isdigit(*s))
                return -EINVAL;
        for (; g_ascii_isdigit(*s); s++) {
                unsigned d = *s - '0';
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *p = s;
        *ret = v;
        return 0;
}

static int parse_uint64_full(const char *s, uint64_t *ret) {
        const char *p = s;
        uint64_t v;
        int r = parse_digits(&p, &v);
        if (r < 0)
                return r;
        if (*p)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Fractional part after '.': up to 18 digits kept (the rest truncated). */
static int parse_fraction(const char **p, uint64_t *num, uint64_t *den) {
        const char *s = *p;
        *num = 0;
        *den = 1;
        if (*s != '.')
                return 0;
        s++;
        if (!g_ascii_isdigit(*s))
                return -EINVAL;
        for (; g_ascii_isdigit(*s); s++)
                if (*den < 1000000000000000000ULL) {
                        *num = *num * 10 + (*s - '0');
                        *den *= 10;
                }
        *p = s;
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Public value parsers */

static int parse_size_full(const char *s, uint64_t *ret) {
        static const struct { char suffix; uint64_t factor; } table[] = {
                { 'K', 1ULL << 10 }, { 'M', 1ULL << 20 }, { 'G', 1ULL << 30 }, { 'T', 1ULL << 40 },
        };
        const char *p = s;
        uint64_t ip, num, den, factor = 1;
        int r;

        if (!s)
                return -EINVAL;
        if (strcmp(s, "infinity") == 0) {
                *ret = BERTH_LIMIT_INFINITY;
                return 0;
        }
        r = parse_digits(&p, &ip);
        if (r < 0)
                return r;
        if (parse_fraction(&p, &num, &den) < 0)
                return -EINVAL;
        if (*p) {
                bool found = false;
                for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
                        if (g_ascii_toupper(*p) == table[i].suffix) {
                                factor = table[i].factor;
                                found = true;
                        }
                if (!found)
                        return -EINVAL;
                p++;
                if (*p)
                        return -EINVAL;
        }
        if (factor == 1 && den > 1)
                return -EINVAL; /* fractions of a byte */

        unsigned __int128 total = (unsigned __int128) ip * factor +
                                  (unsigned __int128) num * factor / den;
        if (total >= BERTH_LIMIT_INFINITY)
                return -ERANGE;
        *ret = (uint64_t) total;
        return 0;
}

int berth_parse_size(const char *s, uint64_t *ret) {
        return parse_size_full(s, ret) < 0 ? -EINVAL : 0;
}

static int parse_percent_full(const char *s, uint64_t *ret) {
        const char *p = s;
        uint64_t ip, num, den;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_digits(&p, &ip);
        if (r < 0)
                return r;
        if (parse_fraction(&p, &num, &den) < 0)
                return -EINVAL;
        if (strcmp(p, "%") != 0)
                return -EINVAL;
        /* 1% = 10000 usec of CPU time per second */
        unsigned __int128 total = (unsigned __int128) ip * 10000 + (unsigned __int128) num * 10000 / den;
        if (total >= BERTH_LIMIT_INFINITY)
                return -ERANGE;
        if (total == 0)
                return -EINVAL;
        *ret = (uint64_t) total;
        return 0;
}

int berth_parse_percent_quota(const char *s, uint64_t *ret) {
        return parse_percent_full(s, ret) < 0 ? -EINVAL : 0;
}

int berth_parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < G_N_ELEMENTS(yes); i++)
                if (g_ascii_strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < G_N_ELEMENTS(no); i++)
                if (g_ascii_strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

static const char *const capability_names[] = {
        [CAP_CHOWN] = "CAP_CHOWN",
        [CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
        [CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
        [CAP_FOWNER] = "CAP_FOWNER",
        [CAP_FSETID] = "CAP_FSETID",
        [CAP_KILL] = "CAP_KILL",
        [CAP_SETGID] = "CAP_SETGID",
        [CAP_SETUID] = "CAP_SETUID",
        [CAP_SETPCAP] = "CAP_SETPCAP",
        [CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
        [CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
        [CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
        [CAP_NET_ADMIN] = "CAP_NET_ADMIN",
        [CAP_NET_RAW] = "CAP_NET_RAW",
        [CAP_IPC_LOCK] = "CAP_IPC_LOCK",
        [CAP_IPC_OWNER] = "CAP_IPC_OWNER",
        [CAP_SYS_MODULE] = "CAP_SYS_MODULE",
        [CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
        [CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
        [CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
        [CAP_SYS_PACCT] = "CAP_SYS_PACCT",
        [CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
        [CAP_SYS_BOOT] = "CAP_SYS_BOOT",
        [CAP_SYS_NICE] = "CAP_SYS_NICE",
        [CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
        [CAP_SYS_TIME] = "CAP_SYS_TIME",
        [CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
        [CAP_MKNOD] = "CAP_MKNOD",
        [CAP_LEASE] = "CAP_LEASE",
        [CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
        [CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
        [CAP_SETFCAP] = "CAP_SETFCAP",
        [CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
        [CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
        [CAP_SYSLOG] = "CAP_SYSLOG",
        [CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
        [CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
        [CAP_AUDIT_READ] = "CAP_AUDIT_READ",
        [CAP_PERFMON] = "CAP_PERFMON",
        [CAP_BPF] = "CAP_BPF",
        [CAP_CHECKPOINT_RESTORE] = "CAP_CHECKPOINT_RESTORE",
};
G_STATIC_ASSERT(G_N_ELEMENTS(capability_names) == CAP_CHECKPOINT_RESTORE + 1);

const char *berth_capability_name(int cap) {
        if (cap < 0 || (size_t) cap >= G_N_ELEMENTS(capability_names))
                return NULL;
        return capability_names[cap];
}

int berth_parse_capability(const char *s, int *ret) {
        if (!s)
                return -EINVAL;
        const char *bare = g_ascii_strncasecmp(s, "CAP_", 4) == 0 ? s + 4 : s;
        if (!*bare)
                return -EINVAL;
        for (size_t i = 0; i < G_N_ELEMENTS(capability_names); i++)
                if (g_ascii_strcasecmp(bare, capability_names[i] + 4) == 0) {
                        *ret = (int) i;
                        return 0;
                }
        return -EINVAL;
}

int berth_parse_cpuset(const char *s) {
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        for (;;) {
                uint64_t lo, hi;
                if (parse_digits(&p, &lo) < 0)
                        return -EINVAL;
                hi = lo;
                if (*p == '-') {
                        p++;
                        if (parse_digits(&p, &hi) < 0)
                                return -EINVAL;
                }
                if (lo > hi || hi >= CPUSET_CPU_MAX)
                        return -EINVAL;
                if (*p == '\0')
                        return 0;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
}

static int parse_timespan_full(const char *s, uint64_t *ret) {
        static const struct { const char *unit; uint64_t usec; } units[] = {
                { "us", 1 }, { "usec", 1 },
                { "ms", 1000 }, { "msec", 1000 },
                { "", 1000000 }, { "s", 1000000 }, { "sec", 1000000 }, { "second", 1000000 }, { "seconds", 1000000 },
                { "m", 60000000 }, { "min", 60000000 }, { "minute", 60000000 }, { "minutes", 60000000 },
                { "h", 3600000000ULL }, { "hr", 3600000000ULL }, { "hour", 3600000000ULL }, { "hours", 3600000000ULL },
                { "d", 86400000000ULL }, { "day", 86400000000ULL }, { "days", 86400000000ULL },
                { "w", 604800000000ULL }, { "week", 604800000000ULL }, { "weeks", 604800000000ULL },
        };
        const char *p = s;
        unsigned __int128 total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        for (;;) {
                uint64_t ip, num, den, factor = 0;
                int r;

                while (is_blank(*p))
                        p++;
                if (!*p)
                        break;
                r = parse_digits(&p, &ip);
                if (r < 0)
                        return r;
                if (parse_fraction(&p, &num, &den) < 0)
                        return -EINVAL;
                while (is_blank(*p))
                        p++;
                const char *u = p;
                while (g_ascii_isalpha(*p))
                        p++;
                for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
                        if (strlen(units[i].unit) == (size_t) (p - u) &&
                            strncmp(units[i].unit, u, p - u) == 0)
                                factor = units[i].usec;
                if (factor == 0)
                        return -EINVAL;
                total += (unsigned __int128) ip * factor + (unsigned __int128) num * factor / den;
                if (total >= UINT64_MAX)
                        return -ERANGE;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = (uint64_t) total;
        return 0;
}

int berth_parse_timespan(const char *s, uint64_t *ret_usec) {
        return parse_timespan_full(s, ret_usec) < 0 ? -EINVAL : 0;
}

int berth_name_validate(const char *name) {
        size_t n;

        if (!name)
                return -EINVAL;
        n = strlen(name);
        if (n == 0 || n > BERTH_NAME_MAX)
                return -EINVAL;
        if (!g_ascii_isalnum(name[0]))
                return -EINVAL;
        for (const char *p = name; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-')
                        return -EINVAL;
        if (strstr(name, ".."))
                return -EINVAL;
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Item validators: 0 and a normalized copy in *ret, or -EINVAL and a reason. */

typedef int (*ValidateFn)(const char *in, char **ret, char **reason);

/* Absolute, no "..", no control characters; "//" and "." collapsed, no trailing slash. */
static int validate_path(const char *in, char **ret, char **reason) {
        if (in[0] != '/') {
                *reason = g_strdup("path is not absolute");
                return -EINVAL;
        }
        if (strlen(in) >= PATH_MAX) {
                *reason = g_strdup("path too long");
                return -EINVAL;
        }
        for (const char *p = in; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                        *reason = g_strdup("path contains a control character");
                        return -EINVAL;
                }
        g_auto(GStrv) parts = g_strsplit(in, "/", -1);
        GString *s = g_string_new(NULL);
        for (char **p = parts; *p; p++) {
                if (**p == '\0' || strcmp(*p, ".") == 0)
                        continue;
                if (strcmp(*p, "..") == 0) {
                        g_string_free(s, TRUE);
                        *reason = g_strdup("path contains a \"..\" component");
                        return -EINVAL;
                }
                g_string_append_c(s, '/');
                g_string_append(s, *p);
        }
        if (s->len == 0)
                g_string_append_c(s, '/');
        *ret = g_string_free(s, FALSE);
        return 0;
}

static int validate_path_not_root(const char *in, char **ret, char **reason) {
        g_autofree char *p = NULL;
        int r = validate_path(in, &p, reason);
        if (r < 0)
                return r;
        if (strcmp(p, "/") == 0) {
                *reason = g_strdup("cannot mount over the container's root directory");
                return -EINVAL;
        }
        *ret = g_steal_pointer(&p);
        return 0;
}

/* Text for humans: anything printable, at most 1024 bytes. */
static int validate_text(const char *in, char **ret, char **reason) {
        if (strlen(in) > 1024) {
                *reason = g_strdup("too long (more than 1024 bytes)");
                return -EINVAL;
        }
        for (const char *p = in; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                        *reason = g_strdup("contains a control character");
                        return -EINVAL;
                }
        *ret = g_strdup(in);
        return 0;
}

/* A user or group: a number below 2^32-1, or a name as Debian allows it. */
static int validate_user(const char *in, char **ret, char **reason) {
        if (g_ascii_isdigit(in[0])) {
                uint64_t v;
                if (parse_uint64_full(in, &v) < 0 || v >= UINT32_MAX) {
                        *reason = g_strdup("invalid numeric id");
                        return -EINVAL;
                }
                *ret = g_strdup(in);
                return 0;
        }
        size_t n = strlen(in);
        bool ok = n > 0 && n <= 32 && (g_ascii_isalpha(in[0]) || in[0] == '_');
        for (size_t i = 1; ok && i < n; i++)
                ok = g_ascii_isalnum(in[i]) || in[i] == '_' || in[i] == '-' || in[i] == '.' ||
                     (in[i] == '$' && i == n - 1);
        if (!ok) {
                *reason = g_strdup("invalid user or group name");
                return -EINVAL;
        }
        *ret = g_strdup(in);
        return 0;
}

static bool hostname_valid(const char *s) {
        size_t n = strlen(s), label = 0;

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                if (ch == '.') {
                        if (label == 0 || s[i - 1] == '-' || i == n - 1)
                                return false;
                        label = 0;
                        continue;
                }
                if (!g_ascii_isalnum(ch) && ch != '-')
                        return false;
                if (ch == '-' && label == 0)
                        return false;
                if (++label > 63)
                        return false;
        }
        return s[n - 1] != '-';
}

static int validate_hostname(const char *in, char **ret, char **reason) {
        if (!hostname_valid(in)) {
                *reason = g_strdup("invalid hostname (letters, digits, '-' and '.' separated labels, "
                                   "at most 64 characters)");
                return -EINVAL;
        }
        *ret = g_strdup(in);
        return 0;
}

static int validate_name(const char *in, char **ret, char **reason) {
        if (berth_name_validate(in) < 0) {
                *reason = g_strdup_printf("invalid name (expected [A-Za-z0-9][A-Za-z0-9_.-]*, "
                                          "no \"..\", at most %d characters)", BERTH_NAME_MAX);
                return -EINVAL;
        }
        *ret = g_strdup(in);
        return 0;
}

static int validate_syscall(const char *in, char **ret, char **reason) {
        if (seccomp_syscall_resolve_name(in) == __NR_SCMP_ERROR) {
                *reason = g_strdup_printf("unknown system call \"%s\"", in);
                return -EINVAL;
        }
        *ret = g_strdup(in);
        return 0;
}

static bool env_name_valid(const char *s, size_t n) {
        if (n == 0 || !(g_ascii_isalpha(s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!g_ascii_isalnum(s[i]) && s[i] != '_')
                        return false;
        return true;
}

/* ---------------------------------------------------------------------------------------------- */
/* Keys */

typedef struct KeyDef KeyDef;
/* Apply a stripped value (never NULL; "" = reset) to c. On failure, set *reason. */
typedef int (*ApplyFn)(BerthConfig *c, const KeyDef *k, const char *value, char **reason);

struct KeyDef {
        const char *section;
        const char *key;
        bool list;
        ApplyFn apply;
        size_t offset;
        const void *aux;
        uint64_t arg;
};

#define FIELD(c, k, type) ((type *) ((char *) (c) + (k)->offset))

static int apply_string(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        char **field = FIELD(c, k, char *);
        char *n = NULL;

        if (*v) {
                int r = ((ValidateFn) k->aux)(v, &n, reason);
                if (r < 0)
                        return r;
        }
        g_free(*field);
        *field = n;
        return 0;
}

static int apply_bool(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        bool *field = FIELD(c, k, bool), b;

        if (!*v) {
                *field = k->arg;
                return 0;
        }
        if (berth_parse_bool(v, &b) < 0) {
                *reason = g_strdup("invalid boolean (expected yes/no, true/false, on/off, 1/0)");
                return -EINVAL;
        }
        *field = b;
        return 0;
}

/* arg: 1 = zero allowed */
static int apply_size(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        uint64_t *field = FIELD(c, k, uint64_t), x;
        int r;

        if (!*v) {
                *field = BERTH_LIMIT_UNSET;
                return 0;
        }
        r = parse_size_full(v, &x);
        if (r == -ERANGE) {
                *reason = g_strdup("invalid size: value out of range");
                return -EINVAL;
        }
        if (r < 0) {
                *reason = g_strdup("invalid size (expected bytes with optional K, M, G or T suffix, "
                                   "base 1024, or \"infinity\")");
                return -EINVAL;
        }
        if (x == 0 && !k->arg) {
                *reason = g_strdup("invalid size: must be greater than zero");
                return -EINVAL;
        }
        *field = x;
        return 0;
}

static int apply_weight(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        uint64_t *field = FIELD(c, k, uint64_t), x;

        if (!*v) {
                *field = BERTH_LIMIT_UNSET;
                return 0;
        }
        if (parse_uint64_full(v, &x) < 0 || x < 1 || x > 10000) {
                *reason = g_strdup("invalid weight (expected an integer from 1 to 10000)");
                return -EINVAL;
        }
        *field = x;
        return 0;
}

static int apply_tasks(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        uint64_t *field = FIELD(c, k, uint64_t), x;

        if (!*v) {
                *field = BERTH_LIMIT_UNSET;
                return 0;
        }
        if (strcmp(v, "infinity") == 0)
                x = BERTH_LIMIT_INFINITY;
        else if (parse_uint64_full(v, &x) < 0 || x == 0 || x >= BERTH_LIMIT_INFINITY) {
                *reason = g_strdup("invalid task count (expected a positive integer or \"infinity\")");
                return -EINVAL;
        }
        *field = x;
        return 0;
}

static int apply_quota(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        uint64_t *field = FIELD(c, k, uint64_t), x;
        int r;

        if (!*v) {
                *field = BERTH_LIMIT_UNSET;
                return 0;
        }
        r = parse_percent_full(v, &x);
        if (r < 0) {
                *reason = g_strdup(r == -ERANGE ? "invalid CPU quota: value out of range"
                                                : "invalid CPU quota (expected a percentage above 0, e.g. 50% or 200%)");
                return -EINVAL;
        }
        *field = x;
        return 0;
}

static int apply_cpuset(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        char **field = FIELD(c, k, char *);

        if (*v && berth_parse_cpuset(v) < 0) {
                *reason = g_strdup_printf("invalid CPU list (expected e.g. \"0-3,5\", CPUs below %d)",
                                          CPUSET_CPU_MAX);
                return -EINVAL;
        }
        g_free(*field);
        *field = *v ? g_strdup(v) : NULL;
        return 0;
}

static int apply_kill_timeout(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        uint64_t x;
        int r;

        if (!*v) {
                c->kill_timeout_usec = DEFAULT_KILL_TIMEOUT_USEC;
                return 0;
        }
        r = parse_timespan_full(v, &x);
        if (r < 0 || x == 0) {
                *reason = g_strdup(r == -ERANGE ? "invalid time span: value out of range"
                                                : "invalid time span (expected e.g. 10s, 500ms, 1min 30s; "
                                                  "greater than zero)");
                return -EINVAL;
        }
        c->kill_timeout_usec = x;
        return 0;
}

/* Whitespace-separated list into a char** field. aux: item validator. arg: 1 = reset to NULL
 * (Layers=, where NULL means unset) instead of an empty list. Duplicates are skipped. */
static int apply_words(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        char ***field = FIELD(c, k, char **);

        if (!*v) {
                if (k->arg) {
                        g_strfreev(*field);
                        *field = NULL;
                } else
                        strv_reset_empty(field);
                return 0;
        }
        g_auto(GStrv) words = split_words(v, false);
        g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
        for (char **w = words; *w; w++) {
                char *n = NULL;
                int r = ((ValidateFn) k->aux)(*w, &n, reason);
                if (r < 0) {
                        char *inner = *reason;
                        *reason = g_strdup_printf("\"%s\": %s", *w, inner);
                        g_free(inner);
                        return r;
                }
                g_ptr_array_add(items, n);
        }
        /* All valid: only now modify the config. */
        for (guint i = 0; i < items->len; i++) {
                char *n = items->pdata[i];
                if (strv_contains_str(*field, n))
                        continue;
                strv_push(field, g_strdup(n));
        }
        return 0;
}

static int apply_command(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) e = NULL;

        if (!*v) {
                g_clear_pointer(&c->command, g_strfreev);
                return 0;
        }
        if (!g_shell_parse_argv(v, NULL, &argv, &e)) {
                *reason = g_strdup_printf("invalid command line: %s", e->message);
                return -EINVAL;
        }
        if (!argv[0] || !argv[0][0]) {
                *reason = g_strdup("invalid command line: empty program name");
                return -EINVAL;
        }
        g_strfreev(c->command);
        c->command = g_steal_pointer(&argv);
        return 0;
}

static int apply_environment(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) e = NULL;

        if (!*v) {
                strv_reset_empty(&c->environment);
                return 0;
        }
        if (!g_shell_parse_argv(v, NULL, &argv, &e)) {
                *reason = g_strdup_printf("invalid quoting: %s", e->message);
                return -EINVAL;
        }
        for (char **a = argv; *a; a++) {
                const char *eq = strchr(*a, '=');
                if (!eq || !env_name_valid(*a, eq - *a)) {
                        g_autofree char *shown = value_show(*a);
                        *reason = g_strdup_printf("\"%s\" is not a NAME=VALUE assignment with a valid name", shown);
                        return -EINVAL;
                }
        }
        for (char **a = argv; *a; a++) {
                size_t n = strchr(*a, '=') - *a + 1;
                bool replaced = false;
                for (char **x = c->environment; x && *x; x++)
                        if (strncmp(*x, *a, n) == 0) {
                                g_free(*x);
                                *x = g_strdup(*a);
                                replaced = true;
                                break;
                        }
                if (!replaced)
                        strv_push(&c->environment, g_strdup(*a));
        }
        return 0;
}

static void bind_free(void *p) {
        BerthBind *b = p;
        if (!b)
                return;
        g_free(b->source);
        g_free(b->destination);
        g_free(b);
}

static void tmpfs_free(void *p) {
        BerthTmpfs *t = p;
        if (!t)
                return;
        g_free(t->destination);
        g_free(t->options);
        g_free(t);
}

static void port_free(void *p) {
        BerthPort *x = p;
        if (!x)
                return;
        g_free(x->host_address);
        g_free(x);
}

static void source_free(void *p) {
        BerthConfigSource *s = p;
        if (!s)
                return;
        g_free(s->section);
        g_free(s->key);
        g_free(s->value);
        g_free(s->file);
        g_free(s);
}

/* Bind=SRC[:DST][:ro|rw]; BindReadOnly=SRC[:DST] (arg = 1). Both share c->binds, so an empty
 * assignment of either clears all bind mounts. */
static int apply_bind(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        bool read_only = k->arg;
        g_autofree char *src = NULL, *dst = NULL;
        int r;

        if (!*v) {
                g_ptr_array_set_size(c->binds, 0);
                return 0;
        }
        g_auto(GStrv) parts = g_strsplit(v, ":", -1);
        guint n = g_strv_length(parts);
        if (n >= 2 && parts[n - 1][0] != '/' && !k->arg) {
                if (strcmp(parts[n - 1], "ro") == 0)
                        read_only = true;
                else if (strcmp(parts[n - 1], "rw") == 0)
                        read_only = false;
                else {
                        *reason = g_strdup_printf("invalid bind option \"%s\" (expected ro or rw)", parts[n - 1]);
                        return -EINVAL;
                }
                g_free(parts[n - 1]);
                parts[--n] = NULL;
        }
        if (n < 1 || n > 2) {
                *reason = g_strdup(k->arg ? "expected SOURCE[:DESTINATION]"
                                          : "expected SOURCE[:DESTINATION][:ro|rw]");
                return -EINVAL;
        }
        r = validate_path(parts[0], &src, reason);
        if (r >= 0)
                r = validate_path_not_root(n == 2 ? parts[1] : parts[0], &dst, reason);
        if (r < 0) {
                char *inner = *reason;
                *reason = g_strdup_printf("%s: %s", src ? "destination" : "source", inner);
                g_free(inner);
                return r;
        }

        BerthBind *b = g_new0(BerthBind, 1);
        b->source = g_steal_pointer(&src);
        b->destination = g_steal_pointer(&dst);
        b->read_only = read_only;
        g_ptr_array_add(c->binds, b);
        return 0;
}

/* Only what the runtime can hand to fsconfig() for a tmpfs: its own parameters and ro/rw.
 * (nosuid and nodev are always applied by the runtime; noexec is a mount attribute it does
 * not take from here.) */
static bool tmpfs_size_valid(const char *v, bool percent_ok) {
        const char *p = v;
        uint64_t x;
        if (parse_digits(&p, &x) < 0)
                return false;
        if (*p && strchr("kKmMgG", *p))
                p++;
        else if (*p == '%' && percent_ok)
                p++;
        return *p == '\0';
}

static bool tmpfs_option_valid(const char *o) {
        static const char *const huge[] = { "never", "always", "within_size", "advise", "deny", "force" };
        const char *eq = strchr(o, '=');
        uint64_t x;

        if (!eq)
                return strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0;
        g_autofree char *k = g_strndup(o, eq - o);
        const char *v = eq + 1;
        if (strcmp(k, "size") == 0)
                return tmpfs_size_valid(v, true);
        if (strcmp(k, "nr_blocks") == 0 || strcmp(k, "nr_inodes") == 0)
                return tmpfs_size_valid(v, false);
        if (strcmp(k, "mode") == 0) {
                size_t n = strlen(v);
                return n >= 1 && n <= 4 && strspn(v, "01234567") == n;
        }
        if (strcmp(k, "uid") == 0 || strcmp(k, "gid") == 0)
                return parse_uint64_full(v, &x) == 0 && x < UINT32_MAX;
        if (strcmp(k, "huge") == 0) {
                for (size_t i = 0; i < G_N_ELEMENTS(huge); i++)
                        if (strcmp(v, huge[i]) == 0)
                                return true;
        }
        return false;
}

static int apply_tmpfs(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        g_autofree char *dst = NULL, *path = NULL;
        const char *colon;
        int r;

        if (!*v) {
                g_ptr_array_set_size(c->tmpfs, 0);
                return 0;
        }
        colon = strchr(v, ':');
        path = colon ? g_strndup(v, colon - v) : g_strdup(v);
        r = validate_path_not_root(path, &dst, reason);
        if (r < 0)
                return r;
        if (colon) {
                g_auto(GStrv) opts = g_strsplit(colon + 1, ",", -1);
                if (!opts[0]) {
                        *reason = g_strdup("empty option list after ':'");
                        return -EINVAL;
                }
                for (char **o = opts; *o; o++)
                        if (!tmpfs_option_valid(*o)) {
                                g_autofree char *shown = value_show(*o);
                                *reason = g_strdup_printf("invalid tmpfs option \"%s\" (allowed: size=, nr_blocks=, "
                                                          "nr_inodes=, mode= (octal), uid=, gid=, huge=, ro, rw)", shown);
                                return -EINVAL;
                        }
        }
        BerthTmpfs *t = g_new0(BerthTmpfs, 1);
        t->destination = g_steal_pointer(&dst);
        t->options = colon ? g_strdup(colon + 1) : NULL;
        g_ptr_array_add(c->tmpfs, t);
        return 0;
}

static int apply_caps(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        uint64_t *field = FIELD(c, k, uint64_t), mask = 0;

        if (!*v) {
                *field = 0;
                return 0;
        }
        g_auto(GStrv) words = split_words(v, true);
        for (char **w = words; *w; w++) {
                int cap;
                if (g_ascii_strcasecmp(*w, "all") == 0) {
                        *reason = g_strdup("\"all\" is not allowed, list capabilities by name");
                        return -EINVAL;
                }
                if (berth_parse_capability(*w, &cap) < 0) {
                        g_autofree char *shown = value_show(*w);
                        *reason = g_strdup_printf("unknown capability \"%s\"", shown);
                        return -EINVAL;
                }
                mask |= UINT64_C(1) << cap;
        }
        *field |= mask;
        return 0;
}

/* Deterministic in the name: FNV-1a, then one 64K-aligned slot of the range. */
static uid_t pick_uid_shift(const char *name) {
        uint64_t h = 0xcbf29ce484222325ULL;
        uint32_t slots = (PRIVATE_USERS_PICK_MAX - PRIVATE_USERS_PICK_MIN) / PRIVATE_USERS_RANGE + 1;

        for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
                h ^= *p;
                h *= 0x100000001b3ULL;
        }
        return PRIVATE_USERS_PICK_MIN + (uid_t) (h % slots) * PRIVATE_USERS_RANGE;
}

static int apply_private_users(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        bool b;
        uint64_t shift, range = PRIVATE_USERS_RANGE;

        if (!*v || berth_parse_bool(v, &b) == 0) {
                if (!*v || !b) {
                        c->private_users = false;
                        c->uid_shift = 0;
                        c->uid_range = 0;
                        return 0;
                }
                c->private_users = true;
                /* Without a name yet, berth_config_finalize() picks (uid_range 0 = to pick). */
                c->uid_shift = c->name ? pick_uid_shift(c->name) : 0;
                c->uid_range = c->name ? PRIVATE_USERS_RANGE : 0;
                return 0;
        }
        const char *colon = strchr(v, ':');
        g_autofree char *first = colon ? g_strndup(v, colon - v) : g_strdup(v);
        if (parse_uint64_full(first, &shift) < 0 || (colon && parse_uint64_full(colon + 1, &range) < 0)) {
                *reason = g_strdup("invalid value (expected yes, no, UID or UID:RANGE)");
                return -EINVAL;
        }
        if (range == 0 || shift >= UINT32_MAX || range > UINT32_MAX - shift) {
                *reason = g_strdup("invalid UID range: must be non-empty and end below 4294967295");
                return -EINVAL;
        }
        c->private_users = true;
        c->uid_shift = (uid_t) shift;
        c->uid_range = (uint32_t) range;
        return 0;
}

static int apply_host_namespaces(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        static const struct { const char *name; unsigned flag; } table[] = {
                { "pid", BERTH_NS_PID }, { "net", BERTH_NS_NET }, { "ipc", BERTH_NS_IPC },
                { "uts", BERTH_NS_UTS }, { "cgroup", BERTH_NS_CGROUP },
        };
        unsigned mask = 0;

        if (!*v) {
                /* Nothing shared with the host any more, so host networking ends too. */
                c->host_namespaces = 0;
                if (c->network_mode == BERTH_NETWORK_HOST)
                        c->network_mode = BERTH_NETWORK_BRIDGE;
                return 0;
        }
        g_auto(GStrv) words = split_words(v, true);
        for (char **w = words; *w; w++) {
                bool found = false;
                if (strcmp(*w, "mount") == 0) {
                        *reason = g_strdup("sharing the host's mount namespace is not supported");
                        return -EINVAL;
                }
                if (strcmp(*w, "user") == 0) {
                        *reason = g_strdup("the user namespace cannot be listed here, use PrivateUsers=no");
                        return -EINVAL;
                }
                for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
                        if (strcmp(*w, table[i].name) == 0) {
                                mask |= table[i].flag;
                                found = true;
                        }
                if (!found) {
                        g_autofree char *shown = value_show(*w);
                        *reason = g_strdup_printf("unknown namespace \"%s\" (expected pid, net, ipc, uts, cgroup)", shown);
                        return -EINVAL;
                }
        }
        c->host_namespaces |= mask;
        /* Sharing the network namespace is host networking, whichever key says it. */
        if (mask & BERTH_NS_NET)
                c->network_mode = BERTH_NETWORK_HOST;
        return 0;
}

static int apply_mode(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        BerthNetworkMode m;

        if (!*v || strcmp(v, "bridge") == 0)
                m = BERTH_NETWORK_BRIDGE;
        else if (strcmp(v, "none") == 0)
                m = BERTH_NETWORK_NONE;
        else if (strcmp(v, "host") == 0)
                m = BERTH_NETWORK_HOST;
        else {
                *reason = g_strdup("invalid network mode (expected bridge, none or host)");
                return -EINVAL;
        }
        c->network_mode = m;
        if (m == BERTH_NETWORK_HOST)
                c->host_namespaces |= BERTH_NS_NET;
        else
                c->host_namespaces &= ~(unsigned) BERTH_NS_NET;
        return 0;
}

static int parse_ipv4(const char *s, struct in_addr *a) {
        /* inet_pton accepts only dotted quads with decimal parts: no shorthand, no octal */
        return inet_pton(AF_INET, s, a) == 1 ? 0 : -EINVAL;
}

static int apply_address(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        struct in_addr a;

        if (!*v) {
                g_clear_pointer(&c->address, g_free);
                return 0;
        }
        if (parse_ipv4(v, &a) < 0) {
                *reason = g_strdup("invalid IPv4 address");
                return -EINVAL;
        }
        uint32_t h = ntohl(a.s_addr);
        if (h == 0 || h == UINT32_MAX || (h >> 24) == 127 || (h >> 28) == 0xe) {
                *reason = g_strdup("not a unicast IPv4 address for a container");
                return -EINVAL;
        }
        g_free(c->address);
        c->address = g_strdup(v);
        return 0;
}

static int parse_port_number(const char *s, uint16_t *ret) {
        uint64_t v;
        if (parse_uint64_full(s, &v) < 0 || v < 1 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

static int apply_port(BerthConfig *c, const KeyDef *k, const char *v, char **reason) {
        if (!*v) {
                g_ptr_array_set_size(c->ports, 0);
                return 0;
        }
        g_auto(GStrv) words = split_words(v, false);
        g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func(port_free);
        for (char **w = words; *w; w++) {
                g_auto(GStrv) parts = g_strsplit(*w, ":", -1);
                guint n = g_strv_length(parts);
                g_autofree char *shown = value_show(*w);
                g_autofree char *addr = NULL;
                int proto;
                uint16_t hp, cp;

                if (n != 3 && n != 4) {
                        *reason = g_strdup_printf("\"%s\": expected PROTO:[HOSTADDR:]HOSTPORT:CONTAINERPORT", shown);
                        return -EINVAL;
                }
                if (strcmp(parts[0], "tcp") == 0)
                        proto = IPPROTO_TCP;
                else if (strcmp(parts[0], "udp") == 0)
                        proto = IPPROTO_UDP;
                else {
                        *reason = g_strdup_printf("\"%s\": invalid protocol (expected tcp or udp)", shown);
                        return -EINVAL;
                }
                if (n == 4) {
                        struct in_addr a;
                        if (parse_ipv4(parts[1], &a) < 0) {
                                *reason = g_strdup_printf("\"%s\": invalid IPv4 host address", shown);
                                return -EINVAL;
                        }
                        if (a.s_addr != INADDR_ANY)
                                addr = g_strdup(parts[1]);
                }
                if (parse_port_number(parts[n - 2], &hp) < 0 || parse_port_number(parts[n - 1], &cp) < 0) {
                        *reason = g_strdup_printf("\"%s\": invalid port (expected 1..65535)", shown);
                        return -EINVAL;
                }
                BerthPort *p = g_new0(BerthPort, 1);
                p->protocol = proto;
                p->host_address = g_steal_pointer(&addr);
                p->host_port = hp;
                p->container_port = cp;
                g_ptr_array_add(parsed, p);
        }
        for (guint i = 0; i < parsed->len; i++)
                g_ptr_array_add(c->ports, g_steal_pointer(&parsed->pdata[i]));
        g_ptr_array_set_size(parsed, 0);
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Exceptions: [Exception:RULE] Justification= Expires= */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        const int64_t era = (y >= 0 ? y : y - 399) / 400;
        const unsigned yoe = (unsigned) (y - era * 400);
        const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static bool fixed_digits(const char *p, unsigned n, unsigned *ret) {
        unsigned v = 0;
        for (unsigned i = 0; i < n; i++) {
                if (!g_ascii_isdigit(p[i]))
                        return false;
                v = v * 10 + (unsigned) (p[i] - '0');
        }
        *ret = v;
        return true;
}

static int expiry_fail(char **ret_reason, const char *msg) {
        if (ret_reason)
                *ret_reason = g_strdup(msg);
        return -EINVAL;
}

int berth_parse_expiry(const char *s, uint64_t *ret_usec, char **ret_reason) {
        static const char *const syntax =
                "invalid date (expected YYYY-MM-DD, the end of that day UTC, or YYYY-MM-DDTHH:MM[:SS]"
                " with Z or an offset such as +02:00)";
        unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
        uint64_t frac_usec = 0;
        int sign = 0;
        const char *p = s;

        if (!s || !ret_usec)
                return expiry_fail(ret_reason, syntax);
        if (!fixed_digits(p, 4, &y) || p[4] != '-' || !fixed_digits(p + 5, 2, &mo) || p[7] != '-' ||
            !fixed_digits(p + 8, 2, &d))
                return expiry_fail(ret_reason, syntax);
        p += 10;
        if (y < 1970 || y > 9999)
                return expiry_fail(ret_reason, "invalid date: year out of range (1970..9999)");
        static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (mo < 1 || mo > 12)
                return expiry_fail(ret_reason, "invalid date: month out of range");
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap))
                return expiry_fail(ret_reason, "invalid date: no such day in that month");
        int64_t days = days_from_civil(y, mo, d);

        if (*p == '\0') {
                /* A bare date: valid through the whole day, UTC. */
                *ret_usec = (uint64_t) (days + 1) * 86400ULL * 1000000ULL;
                return 0;
        }
        if (*p != 'T' && *p != 't' && *p != ' ')
                return expiry_fail(ret_reason, syntax);
        p++;
        if (!fixed_digits(p, 2, &h) || p[2] != ':' || !fixed_digits(p + 3, 2, &mi))
                return expiry_fail(ret_reason, syntax);
        p += 5;
        if (*p == ':') {
                if (!fixed_digits(p + 1, 2, &sec))
                        return expiry_fail(ret_reason, syntax);
                p += 3;
                if (*p == '.' || *p == ',') {
                        uint64_t scale = 100000;
                        p++;
                        if (!g_ascii_isdigit(*p))
                                return expiry_fail(ret_reason, syntax);
                        for (; g_ascii_isdigit(*p); p++) {
                                frac_usec += (uint64_t) (*p - '0') * scale;
                                scale /= 10;
                        }
                }
        }
        if (h > 23 || mi > 59 || sec > 59)
                return expiry_fail(ret_reason, "invalid time of day");
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p == '+' ? 1 : -1;
                p++;
                if (!fixed_digits(p, 2, &oh))
                        return expiry_fail(ret_reason, syntax);
                p += 2;
                if (*p == ':') {
                        if (!fixed_digits(p + 1, 2, &om))
                                return expiry_fail(ret_reason, syntax);
                        p += 3;
                } else if (g_ascii_isdigit(*p)) {
                        if (!fixed_digits(p, 2, &om))
                                return expiry_fail(ret_reason, syntax);
                        p += 2;
                }
                int off_min = sign * (int) (oh * 60 + om);
                if (om > 59 || off_min > 14 * 60 || off_min < -12 * 60)
                        return expiry_fail(ret_reason, "invalid UTC offset (from -12:00 to +14:00)");
        } else if (*p == '\0')
                return expiry_fail(ret_reason, "a date with a time of day needs a time zone: Z or an offset "
                                               "such as +02:00 (local time would depend on the host)");
        if (*p != '\0')
                return expiry_fail(ret_reason, syntax);

        int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t) sign * (oh * 3600 + om * 60);
        if (secs < 0)
                return expiry_fail(ret_reason, "invalid date: before 1970");
        *ret_usec = (uint64_t) secs * 1000000ULL + frac_usec;
        return 0;
}

void berth_exception_free(BerthException *e) {
        if (!e)
                return;
        g_free(e->rule);
        g_free(e->justification);
        g_free(e->expires);
        g_free(e->file);
        g_free(e);
}

static void exception_free_void(void *p) {
        berth_exception_free(p);
}

BerthException *berth_exception_copy(const BerthException *e) {
        if (!e)
                return NULL;
        BerthException *n = g_new0(BerthException, 1);
        n->rule = g_strdup(e->rule);
        n->justification = g_strdup(e->justification);
        n->expires = g_strdup(e->expires);
        n->expires_usec = e->expires_usec;
        n->file = g_strdup(e->file);
        return n;
}

const BerthException *berth_config_find_exception(const BerthConfig *c, const char *rule) {
        if (!c || !c->exceptions || !rule)
                return NULL;
        for (guint i = 0; i < c->exceptions->len; i++) {
                const BerthException *e = c->exceptions->pdata[i];
                if (strcmp(e->rule, rule) == 0)
                        return e;
        }
        return NULL;
}

static bool is_exception_group(const char *group) {
        return g_str_has_prefix(group, BERTH_EXCEPTION_SECTION_PREFIX) || strcmp(group, "Exception") == 0;
}

/* The rule an [Exception:RULE] group names, or -EINVAL and the error set. */
static int exception_group_rule(const char *group, const char *origin, const char **ret_rule, GError **error) {
        g_autofree char *shown = value_show(group);
        const char *id;

        if (!g_str_has_prefix(group, BERTH_EXCEPTION_SECTION_PREFIX) ||
            !*(id = group + strlen(BERTH_EXCEPTION_SECTION_PREFIX))) {
                set_error(error, EINVAL, "%s: [%s]: an exception names the rule it waives, e.g. [Exception:host-pid]",
                          origin, shown);
                return -EINVAL;
        }
        const BerthRule *rule = berth_policy_rule_lookup(id);
        if (!rule) {
                g_autoptr(GString) known = g_string_new(NULL);
                size_t n;
                const BerthRule *rules = berth_policy_rules(&n);
                for (size_t i = 0; i < n; i++)
                        if (rules[i].waivable)
                                g_string_append_printf(known, "%s%s", known->len ? ", " : "", rules[i].id);
                set_error(error, EINVAL, "%s: [%s]: unknown rule \"%s\" (rules that take an exception: %s)", origin,
                          shown, shown + strlen(BERTH_EXCEPTION_SECTION_PREFIX), known->str);
                return -EINVAL;
        }
        if (!rule->waivable) {
                set_error(error, EINVAL, "%s: [%s]: rule \"%s\" cannot be waived by an exception", origin, shown,
                          rule->id);
                return -EINVAL;
        }
        *ret_rule = rule->id;
        return 0;
}

/* Apply one key of an exception group (the group must be valid: exception_group_rule()). */
static int exception_apply(BerthConfig *c, const char *group, const char *key, const char *raw_value,
                           const char *origin, GError **error) {
        g_autofree char *value = strip_dup(raw_value);
        g_autofree char *reason = NULL;
        const char *rule;
        int r;

        r = exception_group_rule(group, origin, &rule, error);
        if (r < 0)
                return r;

        bool is_just = strcmp(key, "Justification") == 0, is_exp = strcmp(key, "Expires") == 0;
        if (!is_just && !is_exp) {
                g_autofree char *shown = value_show(key);
                const char *near = g_ascii_strcasecmp(key, "Justification") == 0 ? "Justification"
                                   : g_ascii_strcasecmp(key, "Expires") == 0 ? "Expires" : NULL;
                g_autofree char *hint = near ? g_strdup_printf(" (did you mean %s=?)", near) : NULL;
                g_ptr_array_add(c->warnings, g_strdup_printf("%s: [%s] %s=: unknown key, ignored%s", origin, group,
                                                             shown, hint ? hint : ""));
                return 0;
        }

        g_autofree char *just = NULL;
        uint64_t usec = 0;
        if (*value) {
                if (is_just)
                        r = validate_text(value, &just, &reason);
                else
                        r = berth_parse_expiry(value, &usec, &reason);
                if (r < 0) {
                        g_autofree char *shown = value_show(value);
                        set_error(error, EINVAL, "%s: [%s] %s=%s: %s", origin, group, key, shown,
                                  reason ? reason : "invalid value");
                        return -EINVAL;
                }
        }

        BerthException *e = (BerthException *) berth_config_find_exception(c, rule);
        if (!e) {
                e = g_new0(BerthException, 1);
                e->rule = g_strdup(rule);
                g_ptr_array_add(c->exceptions, e);
        }
        if (is_just) {
                g_free(e->justification);
                e->justification = g_steal_pointer(&just);
        } else {
                g_free(e->expires);
                e->expires = *value ? g_strdup(value) : NULL;
                e->expires_usec = usec;
        }
        g_free(e->file);
        e->file = g_strdup(origin);

        sources_remove(c, group, key);
        if (*value) {
                BerthConfigSource *s = g_new0(BerthConfigSource, 1);
                s->section = g_strdup(group);
                s->key = g_strdup(key);
                s->value = g_strdup(value);
                s->file = g_strdup(origin);
                g_ptr_array_add(c->sources, s);
        }
        return 0;
}

#define OFF(f) offsetof(BerthConfig, f)

static const KeyDef key_table[] = {
        { "Container", "Description", false, apply_string, OFF(description), validate_text, 0 },
        { "Container", "Boot", false, apply_bool, OFF(boot), NULL, false },
        { "Container", "Command", false, apply_command, 0, NULL, 0 },
        { "Container", "Environment", true, apply_environment, 0, NULL, 0 },
        { "Container", "WorkingDirectory", false, apply_string, OFF(working_directory), validate_path, 0 },
        { "Container", "User", false, apply_string, OFF(user), validate_user, 0 },
        { "Container", "Group", false, apply_string, OFF(group), validate_user, 0 },
        { "Container", "SupplementaryGroups", true, apply_words, OFF(supplementary_groups), validate_user, 0 },
        { "Container", "Hostname", false, apply_string, OFF(hostname), validate_hostname, 0 },
        { "Container", "KillTimeoutSec", false, apply_kill_timeout, 0, NULL, 0 },

        { "Rootfs", "Directory", false, apply_string, OFF(directory), validate_path, 0 },
        { "Rootfs", "Layers", true, apply_words, OFF(layers), validate_path, 1 },
        { "Rootfs", "Ephemeral", false, apply_bool, OFF(ephemeral), NULL, false },
        { "Rootfs", "ReadOnly", false, apply_bool, OFF(read_only), NULL, false },
        { "Rootfs", "UpperDirectory", false, apply_string, OFF(upper_directory), validate_path, 0 },

        { "Files", "Bind", true, apply_bind, 0, NULL, false },
        { "Files", "BindReadOnly", true, apply_bind, 0, NULL, true },
        { "Files", "TemporaryFileSystem", true, apply_tmpfs, 0, NULL, 0 },

        { "Security", "Capability", true, apply_caps, OFF(capability_add), NULL, 0 },
        { "Security", "DropCapability", true, apply_caps, OFF(capability_drop), NULL, 0 },
        { "Security", "NoNewPrivileges", false, apply_bool, OFF(no_new_privileges), NULL, true },
        { "Security", "Seccomp", false, apply_bool, OFF(seccomp), NULL, true },
        { "Security", "SystemCallAllow", true, apply_words, OFF(syscall_allow), validate_syscall, 0 },
        { "Security", "SystemCallDeny", true, apply_words, OFF(syscall_deny), validate_syscall, 0 },
        { "Security", "PrivateUsers", false, apply_private_users, 0, NULL, 0 },
        { "Security", "HostNamespaces", true, apply_host_namespaces, 0, NULL, 0 },

        { "Limits", "MemoryMax", false, apply_size, OFF(limits.memory_max), NULL, 0 },
        { "Limits", "MemoryHigh", false, apply_size, OFF(limits.memory_high), NULL, 0 },
        { "Limits", "MemorySwapMax", false, apply_size, OFF(limits.memory_swap_max), NULL, 1 },
        { "Limits", "CPUQuota", false, apply_quota, OFF(limits.cpu_quota_per_sec_usec), NULL, 0 },
        { "Limits", "CPUWeight", false, apply_weight, OFF(limits.cpu_weight), NULL, 0 },
        { "Limits", "IOWeight", false, apply_weight, OFF(limits.io_weight), NULL, 0 },
        { "Limits", "TasksMax", false, apply_tasks, OFF(limits.tasks_max), NULL, 0 },
        { "Limits", "AllowedCPUs", false, apply_cpuset, OFF(limits.allowed_cpus), NULL, 0 },

        { "Network", "Mode", false, apply_mode, 0, NULL, 0 },
        { "Network", "Network", false, apply_string, OFF(network), validate_name, 0 },
        { "Network", "Address", false, apply_address, 0, NULL, 0 },
        { "Network", "Port", true, apply_port, 0, NULL, 0 },
        { "Network", "IPv6", false, apply_bool, OFF(ipv6), NULL, false },
};

static bool section_known(const char *section) {
        for (size_t i = 0; i < G_N_ELEMENTS(key_table); i++)
                if (strcmp(key_table[i].section, section) == 0)
                        return true;
        return false;
}

static const KeyDef *key_lookup(const char *section, const char *key) {
        for (size_t i = 0; i < G_N_ELEMENTS(key_table); i++)
                if ((!section || strcmp(key_table[i].section, section) == 0) &&
                    strcmp(key_table[i].key, key) == 0)
                        return &key_table[i];
        return NULL;
}

static const KeyDef *key_lookup_fuzzy(const char *section, const char *key) {
        for (size_t i = 0; i < G_N_ELEMENTS(key_table); i++)
                if (g_ascii_strcasecmp(key_table[i].key, key) == 0)
                        return &key_table[i];
        return NULL;
}

/* ---------------------------------------------------------------------------------------------- */
/* Sources and applying one assignment */

static void sources_remove(BerthConfig *c, const char *section, const char *key) {
        for (guint i = c->sources->len; i > 0; i--) {
                BerthConfigSource *s = c->sources->pdata[i - 1];
                if (strcmp(s->section, section) == 0 && strcmp(s->key, key) == 0)
                        g_ptr_array_remove_index(c->sources, i - 1);
        }
}

static const BerthConfigSource *source_find(const BerthConfig *c, const char *section, const char *key) {
        for (guint i = c->sources->len; i > 0; i--) {
                const BerthConfigSource *s = c->sources->pdata[i - 1];
                if (strcmp(s->section, section) == 0 && strcmp(s->key, key) == 0)
                        return s;
        }
        return NULL;
}

static int apply_assignment(BerthConfig *c, const KeyDef *k, const char *raw_value, const char *origin,
                            GError **error) {
        g_autofree char *value = strip_dup(raw_value);
        g_autofree char *reason = NULL;
        int r;

        r = k->apply(c, k, value, &reason);
        if (r < 0) {
                g_autofree char *shown = value_show(value);
                set_error(error, -r, "%s: [%s] %s=%s: %s", origin, k->section, k->key, shown,
                          reason ? reason : "invalid value");
                return r;
        }

        /* Scalars: the last assignment is the source. Lists: every contributing assignment,
         * until an empty assignment resets them. An empty scalar restores the default. */
        if (!k->list || !*value)
                sources_remove(c, k->section, k->key);
        if (*value) {
                BerthConfigSource *s = g_new0(BerthConfigSource, 1);
                s->section = g_strdup(k->section);
                s->key = g_strdup(k->key);
                s->value = g_strdup(value);
                s->file = g_strdup(origin);
                g_ptr_array_add(c->sources, s);
        }
        /* Mode= and HostNamespaces= share the net namespace state; keep both sources. */
        return 0;
}

int berth_config_set(BerthConfig *c, const char *section, const char *key, const char *value,
                     const char *origin, GError **error) {
        g_autofree char *sec = NULL;
        const char *k = key;
        const KeyDef *def;

        g_return_val_if_fail(c, -EINVAL);
        if (!origin)
                origin = "(runtime)";
        if (!key || !value) {
                set_error(error, EINVAL, "%s: missing key or value", origin);
                return -EINVAL;
        }
        if (!section) {
                const char *dot = strchr(key, '.');
                if (dot) {
                        sec = g_strndup(key, dot - key);
                        k = dot + 1;
                        section = sec;
                }
        }
        if (section && is_exception_group(section)) {
                if (!g_utf8_validate(value, -1, NULL) || strpbrk(value, "\n\r")) {
                        set_error(error, EINVAL, "%s: [%s] %s=: value is not valid UTF-8 or contains a line break",
                                  origin, section, k);
                        return -EINVAL;
                }
                return exception_apply(c, section, k, value, origin, error);
        }
        def = key_lookup(section, k);
        if (!def) {
                g_autofree char *shown = value_show(k);
                g_autofree char *shown_sec = section ? value_show(section) : NULL;
                if (shown_sec && !section_known(section))
                        set_error(error, EINVAL, "%s: [%s] %s=: unknown section", origin, shown_sec, shown);
                else
                        set_error(error, EINVAL, "%s: %s%s%s%s=: unknown key", origin, shown_sec ? "[" : "",
                                  shown_sec ? shown_sec : "", shown_sec ? "] " : "", shown);
                return -EINVAL;
        }
        if (!g_utf8_validate(value, -1, NULL)) {
                set_error(error, EINVAL, "%s: [%s] %s=: value is not valid UTF-8", origin, def->section, def->key);
                return -EINVAL;
        }
        /* A value from a file never spans lines; keep set-property values writable as drop-ins. */
        if (strpbrk(value, "\n\r")) {
                set_error(error, EINVAL, "%s: [%s] %s=: value contains a line break", origin, def->section, def->key);
                return -EINVAL;
        }
        return apply_assignment(c, def, value, origin, error);
}

/* ---------------------------------------------------------------------------------------------- */
/* Files */

/* Every value of every key, in file order, following GKeyFile's own line rules. */
typedef struct Prescan {
        GHashTable *values; /* "group\nkey" -> GPtrArray of char* */
} Prescan;

static void prescan_done(Prescan *p) {
        g_clear_pointer(&p->values, g_hash_table_unref);
}

static int prescan(BerthConfig *c, const char *data, gsize len, const char *origin, Prescan *ret,
                   GError **error) {
        g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GHashTable) values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                             (GDestroyNotify) g_ptr_array_unref);
        g_autofree char *group = NULL;
        gsize pos = 0;
        unsigned line_no = 0;

        while (pos < len) {
                const char *nl = memchr(data + pos, '\n', len - pos);
                gsize end = nl ? (gsize) (nl - data) : len;
                g_autofree char *line = g_strndup(data + pos, end - pos);
                pos = end + 1;
                line_no++;

                size_t n = strlen(line);
                if (n > 0 && line[n - 1] == '\r')
                        line[--n] = '\0';
                const char *l = line;
                while (g_ascii_isspace(*l))
                        l++;
                if (*l == '\0' || *l == '#')
                        continue;
                if (*l == '[') {
                        const char *close = strchr(l, ']');
                        if (close) {
                                const char *t = close + 1;
                                while (*t == ' ' || *t == '\t')
                                        t++;
                                if (*t == '\0') {
                                        g_free(group);
                                        group = g_strndup(l + 1, close - l - 1);
                                        if (g_hash_table_contains(groups, group)) {
                                                g_autofree char *shown = value_show(group);
                                                set_error(error, EINVAL, "%s: line %u: [%s]: section appears more than once",
                                                          origin, line_no, shown);
                                                return -EINVAL;
                                        }
                                        g_hash_table_add(groups, g_strdup(group));
                                        continue;
                                }
                        }
                }
                const char *eq = strchr(l, '=');
                if (!eq || !group)
                        continue; /* GKeyFile has accepted the file, so this cannot happen */
                const char *ke = eq;
                while (ke > l && g_ascii_isspace(ke[-1]))
                        ke--;
                g_autofree char *key = g_strndup(l, ke - l);
                const char *vs = eq + 1;
                while (g_ascii_isspace(*vs))
                        vs++;
                if (strchr(key, '[')) {
                        g_autofree char *shown = value_show(key);
                        g_ptr_array_add(c->warnings,
                                        g_strdup_printf("%s: line %u: [%s] %s=: localized keys are not supported, ignored",
                                                        origin, line_no, group, shown));
                        continue;
                }
                char *hk = g_strdup_printf("%s\n%s", group, key);
                GPtrArray *a = g_hash_table_lookup(values, hk);
                if (!a) {
                        a = g_ptr_array_new_with_free_func(g_free);
                        g_hash_table_insert(values, hk, a);
                } else
                        g_free(hk);
                g_ptr_array_add(a, g_strdup(vs));
        }
        ret->values = g_steal_pointer(&values);
        return 0;
}

/* "line N: [Section] Key=" for a byte offset into data that is not valid text yet, as far as
 * the text before that offset tells. */
static char *describe_position(const char *data, gsize off) {
        g_autofree char *section = NULL, *key = NULL;
        unsigned line = 1;
        gsize start = 0;

        for (gsize i = 0; i < off; i++)
                if (data[i] == '\n') {
                        line++;
                        start = i + 1;
                        const char *l = data + start;
                        gsize rest = off - start;
                        while (rest > 0 && (*l == ' ' || *l == '\t'))
                                l++, rest--;
                        const char *close = rest > 0 && *l == '[' ? memchr(l, ']', rest) : NULL;
                        if (close) {
                                g_free(section);
                                section = g_strndup(l + 1, close - l - 1);
                        }
                }
        const char *eq = memchr(data + start, '=', off - start);
        if (eq) {
                const char *k = data + start;
                while (k < eq && g_ascii_isspace(*k))
                        k++;
                const char *ke = eq;
                while (ke > k && g_ascii_isspace(ke[-1]))
                        ke--;
                key = g_strndup(k, ke - k);
        }
        GString *s = g_string_new(NULL);
        g_string_append_printf(s, "line %u", line);
        if (section && g_utf8_validate(section, -1, NULL)) {
                g_autofree char *shown = value_show(section);
                g_string_append_printf(s, ": [%s]", shown);
        }
        if (key && g_utf8_validate(key, -1, NULL)) {
                g_autofree char *shown = value_show(key);
                g_string_append_printf(s, "%s%s=", section ? " " : ": ", shown);
        }
        return g_string_free(s, FALSE);
}

int berth_config_load_data(BerthConfig *c, const char *data, gsize len, const char *origin, GError **error) {
        g_autoptr(GKeyFile) kf = NULL;
        g_autoptr(GError) e = NULL;
        g_auto(GStrv) groups = NULL;
        g_autoptr(GHashTable) seen = NULL;
        Prescan ps = {};
        const char *bad;
        int r;

        g_return_val_if_fail(c, -EINVAL);
        if (!origin)
                origin = "(data)";
        if (!data)
                len = 0;
        if (len > CONFIG_FILE_MAX) {
                set_error(error, EFBIG, "%s: file too large (more than %d bytes)", origin, CONFIG_FILE_MAX);
                return -EFBIG;
        }
        if (len > 0 && memchr(data, '\0', len)) {
                g_autofree char *where = describe_position(data, (const char *) memchr(data, '\0', len) - data);
                set_error(error, EINVAL, "%s: %s: file contains a NUL byte (binary data?)", origin, where);
                return -EINVAL;
        }
        if (!g_utf8_validate(data ? data : "", len, &bad)) {
                g_autofree char *where = describe_position(data, bad - data);
                set_error(error, EINVAL, "%s: %s: file is not valid UTF-8", origin, where);
                return -EINVAL;
        }

        kf = g_key_file_new();
        if (!g_key_file_load_from_data(kf, data ? data : "", len, G_KEY_FILE_NONE, &e)) {
                set_error(error, EINVAL, "%s: syntax error: %s", origin, e->message);
                return -EINVAL;
        }
        r = prescan(c, data ? data : "", len, origin, &ps, error);
        if (r < 0)
                return r;

        seen = g_hash_table_new(g_str_hash, g_str_equal);
        groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; *g; g++) {
                g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
                g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);

                bool exception = is_exception_group(*g);
                if (exception) {
                        const char *rule;
                        r = exception_group_rule(*g, origin, &rule, error);
                        if (r < 0)
                                goto finish;
                } else if (!section_known(*g)) {
                        g_autofree char *shown = value_show(*g);
                        g_ptr_array_add(c->warnings,
                                        g_strdup_printf("%s: [%s]: unknown section, ignored", origin, shown));
                        continue;
                }
                for (char **k = keys; k && *k; k++) {
                        g_autofree char *hk = g_strdup_printf("%s\n%s", *g, *k);
                        GPtrArray *vals = g_hash_table_lookup(ps.values, hk);
                        guint i = GPOINTER_TO_UINT(g_hash_table_lookup(index, *k));
                        const KeyDef *def;

                        g_hash_table_insert(index, *k, GUINT_TO_POINTER(i + 1));
                        if (strchr(*k, '['))
                                continue; /* localized key, the pre-scan warned */
                        if (!vals || i >= vals->len) {
                                set_error(error, EIO, "%s: [%s] %s=: could not read the value", origin, *g, *k);
                                r = -EIO;
                                goto finish;
                        }
                        if (vals->len == 1) {
                                /* Cross-check the pre-scan against GKeyFile. */
                                g_autofree char *gv = g_key_file_get_value(kf, *g, *k, NULL);
                                g_autofree char *a = strip_dup(gv ? gv : "");
                                g_autofree char *b = strip_dup(vals->pdata[0]);
                                if (strcmp(a, b) != 0) {
                                        set_error(error, EIO, "%s: [%s] %s=: could not read the value", origin, *g, *k);
                                        r = -EIO;
                                        goto finish;
                                }
                        }
                        if (exception) {
                                r = exception_apply(c, *g, *k, vals->pdata[i], origin, error);
                                if (r < 0)
                                        goto finish;
                                continue;
                        }
                        def = key_lookup(*g, *k);
                        if (!def) {
                                if (i > 0)
                                        continue; /* warned once */
                                const KeyDef *near = key_lookup_fuzzy(*g, *k);
                                g_autofree char *shown = value_show(*k);
                                g_autofree char *hint = near ? g_strdup_printf(" (did you mean [%s] %s=?)",
                                                                               near->section, near->key)
                                                             : NULL;
                                g_ptr_array_add(c->warnings,
                                                g_strdup_printf("%s: [%s] %s=: unknown key, ignored%s", origin, *g,
                                                                shown, hint ? hint : ""));
                                continue;
                        }
                        r = apply_assignment(c, def, vals->pdata[i], origin, error);
                        if (r < 0)
                                goto finish;
                }
        }
        r = 0;
finish:
        prescan_done(&ps);
        return r;
}

int berth_config_load_file(BerthConfig *c, const char *path, GError **error) {
        g_autofree char *buf = NULL;
        struct stat st;
        size_t n = 0;
        int fd, r;

        g_return_val_if_fail(c, -EINVAL);
        g_return_val_if_fail(path, -EINVAL);

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                set_error(error, -r, "%s: cannot open: %s", path, g_strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                set_error(error, -r, "%s: cannot stat: %s", path, g_strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                set_error(error, EINVAL, "%s: not a regular file", path);
                return -EINVAL;
        }
        if (st.st_size > CONFIG_FILE_MAX) {
                close(fd);
                set_error(error, EFBIG, "%s: file too large (more than %d bytes)", path, CONFIG_FILE_MAX);
                return -EFBIG;
        }
        buf = g_malloc(CONFIG_FILE_MAX + 1);
        for (;;) {
                ssize_t k = read(fd, buf + n, CONFIG_FILE_MAX + 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        close(fd);
                        set_error(error, -r, "%s: cannot read: %s", path, g_strerror(-r));
                        return r;
                }
                if (k == 0)
                        break;
                n += k;
                if (n > CONFIG_FILE_MAX) {
                        close(fd);
                        set_error(error, EFBIG, "%s: file too large (more than %d bytes)", path, CONFIG_FILE_MAX);
                        return -EFBIG;
                }
        }
        close(fd);

        r = berth_config_load_data(c, buf, n, path, error);
        if (r < 0)
                return r;
        if (!c->path)
                c->path = g_strdup(path);
        else
                g_ptr_array_add(c->dropins, g_strdup(path));
        return 0;
}

static int compare_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int berth_config_load(const char *dir, const char *name, BerthConfig **ret, GError **error) {
        g_autoptr(BerthConfig) c = NULL;
        g_autofree char *path = NULL, *ddir = NULL;
        g_autoptr(GPtrArray) files = NULL;
        g_autoptr(GDir) d = NULL;
        g_autoptr(GError) e = NULL;
        const char *entry;
        int r;

        g_return_val_if_fail(ret, -EINVAL);
        if (!dir)
                dir = BERTH_CONFIG_DIR;
        if (berth_name_validate(name) < 0) {
                g_autofree char *shown = value_show(name ? name : "");
                set_error(error, EINVAL, "invalid container name \"%s\"", shown);
                return -EINVAL;
        }
        path = g_strdup_printf("%s/%s.conf", dir, name);
        c = berth_config_new(name);
        r = berth_config_load_file(c, path, error);
        if (r < 0)
                return r;

        ddir = g_strdup_printf("%s/%s.conf.d", dir, name);
        d = g_dir_open(ddir, 0, &e);
        if (!d) {
                if (!g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT) &&
                    !g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOTDIR)) {
                        set_error(error, EIO, "%s: cannot read drop-in directory: %s", ddir, e->message);
                        return -EIO;
                }
        } else {
                files = g_ptr_array_new_with_free_func(g_free);
                while ((entry = g_dir_read_name(d))) {
                        struct stat st;
                        if (entry[0] == '.' || !g_str_has_suffix(entry, ".conf"))
                                continue;
                        g_autofree char *p = g_build_filename(ddir, entry, NULL);
                        if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
                                g_ptr_array_add(c->warnings, g_strdup_printf("%s: not a regular file, ignored", p));
                                continue;
                        }
                        g_ptr_array_add(files, g_steal_pointer(&p));
                }
                g_ptr_array_sort(files, compare_str);
                for (guint i = 0; i < files->len; i++) {
                        r = berth_config_load_file(c, files->pdata[i], error);
                        if (r < 0)
                                return r;
                }
        }

        r = berth_config_finalize(c, error);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&c);
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Consistency */

static const char *file_of(const BerthConfig *c, const char *section, const char *key) {
        const BerthConfigSource *s = source_find(c, section, key);
        return s ? s->file : origin_of(c);
}

static const char *value_of(const BerthConfig *c, const char *section, const char *key) {
        const BerthConfigSource *s = source_find(c, section, key);
        return s ? s->value : "";
}

static int finalize_error(const BerthConfig *c, GError **error, const char *section, const char *key,
                          const char *fmt, ...) G_GNUC_PRINTF(5, 6);
static int finalize_error(const BerthConfig *c, GError **error, const char *section, const char *key,
                          const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_autofree char *shown = value_show(value_of(c, section, key));
        set_error(error, EINVAL, "%s: [%s] %s=%s: %s", file_of(c, section, key), section, key, shown, msg);
        return -EINVAL;
}

static bool mount_destination_taken(GPtrArray *seen, const char *dst) {
        for (guint i = 0; i < seen->len; i++)
                if (strcmp(seen->pdata[i], dst) == 0)
                        return true;
        g_ptr_array_add(seen, (void *) dst);
        return false;
}

int berth_config_finalize(BerthConfig *c, GError **error) {
        g_return_val_if_fail(c, -EINVAL);

        if (berth_name_validate(c->name) < 0) {
                g_autofree char *shown = value_show(c->name ? c->name : "");
                set_error(error, EINVAL, "%s: invalid container name \"%s\"", origin_of(c), shown);
                return -EINVAL;
        }

        /* [Rootfs] */
        bool has_layers = c->layers && c->layers[0];
        if (c->directory && has_layers)
                return finalize_error(c, error, "Rootfs", "Layers",
                                      "exclusive with Directory= (set in %s); reset one with an empty assignment",
                                      file_of(c, "Rootfs", "Directory"));
        if (!c->directory && !has_layers) {
                set_error(error, EINVAL, "%s: [Rootfs] Directory=, Layers=: no root file system, one of them is required",
                          origin_of(c));
                return -EINVAL;
        }
        if (c->ephemeral && c->upper_directory)
                return finalize_error(c, error, "Rootfs", "UpperDirectory",
                                      "exclusive with Ephemeral=yes (the upper directory is a tmpfs then)");

        /* [Files] */
        g_autoptr(GPtrArray) dsts = g_ptr_array_new();
        for (guint i = 0; i < c->binds->len; i++) {
                const BerthBind *b = c->binds->pdata[i];
                if (mount_destination_taken(dsts, b->destination))
                        return finalize_error(c, error, "Files", "Bind",
                                              "destination %s is used by more than one mount", b->destination);
        }
        for (guint i = 0; i < c->tmpfs->len; i++) {
                const BerthTmpfs *t = c->tmpfs->pdata[i];
                if (mount_destination_taken(dsts, t->destination))
                        return finalize_error(c, error, "Files", "TemporaryFileSystem",
                                              "destination %s is used by more than one mount", t->destination);
        }

        /* [Security] */
        uint64_t both = c->capability_add & c->capability_drop;
        if (both) {
                int cap = __builtin_ctzll(both);
                return finalize_error(c, error, "Security", "DropCapability",
                                      "%s is also listed in Capability=", berth_capability_name(cap));
        }
        for (char **s = c->syscall_allow; s && *s; s++)
                if (strv_contains_str(c->syscall_deny, *s))
                        return finalize_error(c, error, "Security", "SystemCallDeny",
                                              "%s is also listed in SystemCallAllow=", *s);
        if (c->private_users && c->uid_range == 0) {
                c->uid_shift = pick_uid_shift(c->name);
                c->uid_range = PRIVATE_USERS_RANGE;
        }

        /* [Network] */
        if (c->network_mode == BERTH_NETWORK_HOST)
                c->host_namespaces |= BERTH_NS_NET;
        else if (c->host_namespaces & BERTH_NS_NET)
                c->network_mode = BERTH_NETWORK_HOST;
        if (c->network_mode != BERTH_NETWORK_BRIDGE) {
                const char *mode = c->network_mode == BERTH_NETWORK_HOST ? "host" : "none";
                if (c->ports->len > 0)
                        return finalize_error(c, error, "Network", "Port",
                                              "published ports need Mode=bridge, not %s", mode);
                if (c->address)
                        return finalize_error(c, error, "Network", "Address", "needs Mode=bridge, not %s", mode);
                if (c->network)
                        return finalize_error(c, error, "Network", "Network", "needs Mode=bridge, not %s", mode);
                if (c->ipv6)
                        return finalize_error(c, error, "Network", "IPv6", "needs Mode=bridge, not %s", mode);
        }
        for (guint i = 0; i < c->ports->len; i++)
                for (guint j = 0; j < i; j++) {
                        const BerthPort *a = c->ports->pdata[i], *b = c->ports->pdata[j];
                        if (a->protocol == b->protocol && a->host_port == b->host_port &&
                            (!a->host_address || !b->host_address || strcmp(a->host_address, b->host_address) == 0))
                                return finalize_error(c, error, "Network", "Port",
                                                      "host port %s:%u is published twice",
                                                      a->protocol == IPPROTO_TCP ? "tcp" : "udp", a->host_port);
                }

        /* [Exception:RULE]: both keys required; a section emptied by drop-ins is withdrawn. */
        for (guint i = c->exceptions->len; i > 0; i--) {
                const BerthException *x = c->exceptions->pdata[i - 1];
                if (!x->justification && !x->expires)
                        g_ptr_array_remove_index(c->exceptions, i - 1);
        }
        for (guint i = 0; i < c->exceptions->len; i++) {
                const BerthException *x = c->exceptions->pdata[i];
                if (!x->justification) {
                        set_error(error, EINVAL,
                                  "%s: [%s%s] Justification=: missing; an exception must say why the weakening is "
                                  "needed (e.g. Justification=debugging INC-1234)",
                                  x->file ? x->file : origin_of(c), BERTH_EXCEPTION_SECTION_PREFIX, x->rule);
                        return -EINVAL;
                }
                if (!x->expires) {
                        set_error(error, EINVAL,
                                  "%s: [%s%s] Expires=: missing; an exception must expire (Expires=YYYY-MM-DD, the "
                                  "end of that day UTC)",
                                  x->file ? x->file : origin_of(c), BERTH_EXCEPTION_SECTION_PREFIX, x->rule);
                        return -EINVAL;
                }
        }

        /* Defaults */
        if (!c->hostname)
                c->hostname = g_strdup(c->name);
        if (!c->command) {
                c->command = g_new0(char *, 2);
                c->command[0] = g_strdup(c->boot ? "/sbin/init" : "/bin/sh");
        }
        return 0;
}

/* ---------------------------------------------------------------------------------------------- */

BerthConfig *berth_config_new(const char *name) {
        BerthConfig *c = g_new0(BerthConfig, 1);

        c->name = g_strdup(name);
        c->dropins = g_ptr_array_new_with_free_func(g_free);
        c->environment = g_new0(char *, 1);
        c->supplementary_groups = g_new0(char *, 1);
        c->kill_timeout_usec = DEFAULT_KILL_TIMEOUT_USEC;
        c->binds = g_ptr_array_new_with_free_func(bind_free);
        c->tmpfs = g_ptr_array_new_with_free_func(tmpfs_free);
        c->no_new_privileges = true;
        c->seccomp = true;
        c->syscall_allow = g_new0(char *, 1);
        c->syscall_deny = g_new0(char *, 1);
        c->limits = (BerthLimits) {
                .memory_max = BERTH_LIMIT_UNSET,
                .memory_high = BERTH_LIMIT_UNSET,
                .memory_swap_max = BERTH_LIMIT_UNSET,
                .cpu_quota_per_sec_usec = BERTH_LIMIT_UNSET,
                .cpu_weight = BERTH_LIMIT_UNSET,
                .tasks_max = BERTH_LIMIT_UNSET,
                .io_weight = BERTH_LIMIT_UNSET,
        };
        c->network_mode = BERTH_NETWORK_BRIDGE;
        c->ports = g_ptr_array_new_with_free_func(port_free);
        c->warnings = g_ptr_array_new_with_free_func(g_free);
        c->sources = g_ptr_array_new_with_free_func(source_free);
        c->exceptions = g_ptr_array_new_with_free_func(exception_free_void);
        return c;
}

void berth_config_free(BerthConfig *c) {
        if (!c)
                return;
        g_free(c->name);
        g_free(c->path);
        g_clear_pointer(&c->dropins, g_ptr_array_unref);
        g_free(c->description);
        g_strfreev(c->command);
        g_strfreev(c->environment);
        g_free(c->working_directory);
        g_free(c->user);
        g_free(c->group);
        g_strfreev(c->supplementary_groups);
        g_free(c->hostname);
        g_free(c->directory);
        g_strfreev(c->layers);
        g_free(c->upper_directory);
        g_clear_pointer(&c->binds, g_ptr_array_unref);
        g_clear_pointer(&c->tmpfs, g_ptr_array_unref);
        g_strfreev(c->syscall_allow);
        g_strfreev(c->syscall_deny);
        g_free(c->limits.allowed_cpus);
        g_free(c->network);
        g_free(c->address);
        g_clear_pointer(&c->ports, g_ptr_array_unref);
        g_clear_pointer(&c->warnings, g_ptr_array_unref);
        g_clear_pointer(&c->sources, g_ptr_array_unref);
        g_clear_pointer(&c->exceptions, g_ptr_array_unref);
        g_free(c);
}
