/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Container configuration: /etc/berth/containers/<name>.conf plus drop-ins
 * <name>.conf.d/NN-*.conf, parsed with GKeyFile into a BerthConfig.
 *
 * Merge rules across the main file and its drop-ins (lexical order), as
 * systemd users expect: a scalar key in a later file overrides an earlier
 * one; a list key appends; an empty assignment of a list key resets it.
 *
 * Every parse error names file, section, key and value. Unknown sections and
 * keys produce warnings (collected in BerthConfig.warnings), not errors.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define BERTH_NAME_MAX 64
#define BERTH_CONFIG_DIR "/etc/berth/containers"
#define BERTH_STATE_DIR "/var/lib/berth"
#define BERTH_RUNTIME_DIR "/run/berth"

/* Value meaning "not set" for optional uint64 limits. */
#define BERTH_LIMIT_UNSET UINT64_MAX
/* Value meaning "infinity" for limits that accept it. */
#define BERTH_LIMIT_INFINITY (UINT64_MAX - 1)

typedef enum BerthNamespace {
        BERTH_NS_PID    = 1 << 0,
        BERTH_NS_MOUNT  = 1 << 1,
        BERTH_NS_UTS    = 1 << 2,
        BERTH_NS_IPC    = 1 << 3,
        BERTH_NS_NET    = 1 << 4,
        BERTH_NS_CGROUP = 1 << 5,
        BERTH_NS_USER   = 1 << 6,
} BerthNamespace;

typedef enum BerthNetworkMode {
        BERTH_NETWORK_BRIDGE, /* default: own netns, veth on a bridge */
        BERTH_NETWORK_NONE,   /* own netns, loopback only */
        BERTH_NETWORK_HOST,   /* host netns: a weakening */
} BerthNetworkMode;

typedef struct BerthBind {
        char *source;      /* absolute host path */
        char *destination; /* absolute path inside the container */
        bool read_only;
} BerthBind;

typedef struct BerthTmpfs {
        char *destination; /* absolute path inside the container */
        char *options;     /* e.g. "size=64M,mode=1777", may be NULL */
} BerthTmpfs;

typedef struct BerthPort {
        int protocol;      /* IPPROTO_TCP or IPPROTO_UDP */
        char *host_address;/* NULL = any */
        uint16_t host_port;
        uint16_t container_port;
} BerthPort;

typedef struct BerthLimits {
        uint64_t memory_max;      /* bytes, or UNSET / INFINITY */
        uint64_t memory_high;
        uint64_t memory_swap_max;
        uint64_t cpu_quota_per_sec_usec; /* CPUQuota=50% -> 500000 */
        uint64_t cpu_weight;      /* 1..10000 */
        uint64_t tasks_max;       /* count, or UNSET / INFINITY */
        uint64_t io_weight;       /* 1..10000 */
        char *allowed_cpus;       /* cpuset list "0-1,3", validated, may be NULL */
} BerthLimits;

/* A temporary, justified waiver of one policy rule (policy.h), written in the
 * container's own config as
 *
 *     [Exception:host-pid]
 *     Justification=debugging INC-1234
 *     Expires=2026-12-15
 *
 * Both keys are required. Expires= is YYYY-MM-DD (the end of that day, UTC) or
 * an ISO 8601 date and time with an explicit offset (2026-12-15T18:00:00+01:00,
 * ...Z). Whether the date is too far away or already past is decided by the
 * policy at evaluation time, not by the parser. */
#define BERTH_EXCEPTION_SECTION_PREFIX "Exception:"

typedef struct BerthException {
        char *rule;          /* policy rule id, validated against the rule table */
        char *justification; /* free text, non-empty */
        char *expires;       /* Expires= as written */
        uint64_t expires_usec; /* CLOCK_REALTIME usec: valid while now < expires_usec */
        char *file;          /* file that last set a key of this exception */
} BerthException;

/* Where a key's effective value came from, for `berthctl cat`. */
typedef struct BerthConfigSource {
        char *section;
        char *key;
        char *value; /* raw string as written */
        char *file;
} BerthConfigSource;

typedef struct BerthConfig {
        char *name;
        char *path;          /* main .conf file (NULL for transient containers) */
        GPtrArray *dropins;  /* char*, in the order applied */

        /* [Container] */
        char *description;
        bool boot;           /* exec payload as PID 1 (init) instead of the stub */
        char **command;      /* argv, NULL-terminated; NULL = /bin/sh */
        char **environment;  /* "K=V", NULL-terminated */
        char *working_directory;
        char *user;          /* name or numeric; resolved in the container's /etc/passwd */
        char *group;         /* may be NULL: primary group of user */
        char **supplementary_groups;
        char *hostname;      /* NULL = name */
        uint64_t kill_timeout_usec; /* graceful stop before SIGKILL */

        /* [Rootfs] */
        char *directory;     /* single read-only lower */
        char **layers;       /* ordered lowers, first = bottom; exclusive with directory */
        bool ephemeral;      /* upper on tmpfs, gone on stop */
        bool read_only;      /* read-only root */
        char *upper_directory; /* persistent upper override; NULL = /var/lib/berth/containers/<name>/upper */

        /* [Files] */
        GPtrArray *binds;    /* BerthBind* */
        GPtrArray *tmpfs;    /* BerthTmpfs* */

        /* [Security] */
        uint64_t capability_add;  /* bitmask of CAP_* */
        uint64_t capability_drop;
        bool no_new_privileges;   /* default true */
        bool seccomp;             /* default true */
        char **syscall_allow;     /* re-allowed from the default deny list */
        char **syscall_deny;      /* extra denied syscalls */
        bool private_users;
        uid_t uid_shift;          /* host uid of container uid 0 */
        uint32_t uid_range;       /* number of ids mapped */
        unsigned host_namespaces; /* BerthNamespace mask shared with the host */

        /* [Limits] */
        BerthLimits limits;

        /* [Network] */
        BerthNetworkMode network_mode;
        char *network;       /* named network; NULL = default */
        char *address;       /* fixed IPv4 address, optional */
        GPtrArray *ports;    /* BerthPort* */
        bool ipv6;

        /* Warnings gathered while parsing (unknown keys...), char*. */
        GPtrArray *warnings;
        /* Effective key sources, BerthConfigSource*. */
        GPtrArray *sources;

        /* [Exception:RULE] sections, BerthException*, one per rule, in first-seen order. */
        GPtrArray *exceptions;
} BerthConfig;

BerthConfig *berth_config_new(const char *name);
void berth_config_free(BerthConfig *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BerthConfig, berth_config_free)

/* Container names become paths, unit names and bus object paths:
 * [A-Za-z0-9][A-Za-z0-9_.-]*, no "..", at most BERTH_NAME_MAX. Returns 0 or -EINVAL. */
int berth_name_validate(const char *name);

/* Load <dir>/<name>.conf and <dir>/<name>.conf.d/ *.conf (lexical). dir NULL = BERTH_CONFIG_DIR.
 * -ENOENT if the main file is missing. On error *error says file/section/key/value. */
int berth_config_load(const char *dir, const char *name, BerthConfig **ret, GError **error);

/* Parse one file (as main file or drop-in) into an existing config. */
int berth_config_load_file(BerthConfig *c, const char *path, GError **error);

/* Parse from memory; "origin" names the data in errors. */
int berth_config_load_data(BerthConfig *c, const char *data, gsize len, const char *origin, GError **error);

/* Apply one "Section.Key=value" or "Key=value" assignment (used by transient
 * containers from the bus and by set-property). */
int berth_config_set(BerthConfig *c, const char *section, const char *key, const char *value,
                     const char *origin, GError **error);

/* Check cross-key consistency after all files are loaded (rootfs given, paths
 * absolute, ...). Fills defaults (hostname...). */
int berth_config_finalize(BerthConfig *c, GError **error);

/* Value parsers, exported for unit tests and the bus layer. Return 0 or -EINVAL. */
int berth_parse_size(const char *s, uint64_t *ret);          /* 512, 64K, 1.5G, infinity */
int berth_parse_percent_quota(const char *s, uint64_t *ret); /* 50% -> 500000 usec/sec */
int berth_parse_bool(const char *s, bool *ret);
int berth_parse_capability(const char *s, int *ret);          /* CAP_SYS_ADMIN or sys_admin */
const char *berth_capability_name(int cap);
int berth_parse_cpuset(const char *s);                         /* validate "0-3,5" */
int berth_parse_timespan(const char *s, uint64_t *ret_usec);   /* 10s, 500ms, 1min */

/* The exception for rule, or NULL. */
const BerthException *berth_config_find_exception(const BerthConfig *c, const char *rule);
BerthException *berth_exception_copy(const BerthException *e);
void berth_exception_free(BerthException *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BerthException, berth_exception_free)

/* Expires= syntax: "YYYY-MM-DD" = end of that day UTC (the next midnight UTC is
 * returned, exclusive), or "YYYY-MM-DDTHH:MM[:SS[.frac]]" followed by "Z" or an
 * offset "+HH:MM", "+HHMM", "+HH" (-12:00 to +14:00). The result does not depend
 * on TZ. Years 1970..9999. Returns 0 or -EINVAL with a reason in *ret_reason
 * (may be NULL). */
int berth_parse_expiry(const char *s, uint64_t *ret_usec, char **ret_reason);

GQuark berth_config_error_quark(void);
#define BERTH_CONFIG_ERROR berth_config_error_quark()
