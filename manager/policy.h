/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Guardrails: every weakening of a container's isolation is a named rule with
 * a severity set by the host's profile. A container that needs a weakening the
 * profile forbids carries a justified, expiring exception in its own config
 * ([Exception:RULE], see config.h). Start is refused while any finding is an
 * unwaived error.
 *
 * Host policy: /etc/berth/policy.conf (GKeyFile)
 *
 *     [Policy]
 *     Profile=restricted          # restricted (default) | baseline | privileged
 *     MaxExceptionDays=30         # 0..3650; 0 = exceptions are not accepted
 *     RequireUserNamespace=no     # yes: no-userns becomes an error
 *
 *     [Rules]
 *     host-uts=error              # per-rule override: error | warning | off
 *
 * No logging here: the daemon logs what the functions return. All times are
 * CLOCK_REALTIME microseconds passed in by the caller (tests pin the clock).
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define BERTH_POLICY_PATH "/etc/berth/policy.conf"
#define BERTH_POLICY_MAX_EXCEPTION_DAYS_DEFAULT 30
/* Exceptions expiring within this many days get a warning finding. */
#define BERTH_EXCEPTION_EXPIRY_WARN_DAYS 7

/* Journal MESSAGE_ID of "container started with active exceptions" (one entry
 * per start, listing the waived rules and their justifications). */
#define BERTH_MESSAGE_STARTED_WITH_EXCEPTIONS_STR "5d7f56f6170e4d409f7c6d1a60b89c51"
#define BERTH_MESSAGE_STARTED_WITH_EXCEPTIONS \
        SD_ID128_MAKE(5d,7f,56,f6,17,0e,4d,40,9f,7c,6d,1a,60,b8,9c,51)

typedef enum BerthSeverity {
        BERTH_SEVERITY_OFF,     /* rule not evaluated (profile tables only) */
        BERTH_SEVERITY_INFO,    /* reported, never blocks (a waived finding) */
        BERTH_SEVERITY_WARNING, /* reported, audit exit code 1, start allowed */
        BERTH_SEVERITY_ERROR,   /* start refused unless waived, audit exit code 2 */
} BerthSeverity;

typedef enum BerthProfile {
        BERTH_PROFILE_RESTRICTED,
        BERTH_PROFILE_BASELINE,
        BERTH_PROFILE_PRIVILEGED,
        _BERTH_PROFILE_MAX,
} BerthProfile;

typedef enum BerthRuleKind {
        BERTH_RULE_CONFIG, /* a weakening written in the config; waivable */
        BERTH_RULE_META,   /* about exceptions or the config file itself */
        BERTH_RULE_DRIFT,  /* the kernel's view is weaker than the config (audit-kernel.c) */
} BerthRuleKind;

typedef struct BerthRule {
        const char *id;          /* stable: used in [Exception:ID], [Rules], JSON */
        BerthRuleKind kind;
        bool waivable;           /* an [Exception:ID] may waive it */
        const char *section;     /* the key that triggers it, e.g. "Security" */
        const char *key;         /*   "HostNamespaces" (for docs; findings name the real one) */
        BerthSeverity severity[_BERTH_PROFILE_MAX];
        const char *summary;     /* one line: what the weakening allows */
        const char *fix;         /* generic fix hint */
} BerthRule;

/* The rule table, in report order. */
const BerthRule *berth_policy_rules(size_t *ret_n);
const BerthRule *berth_policy_rule_lookup(const char *id);
const char *berth_profile_to_string(BerthProfile p);
int berth_profile_from_string(const char *s, BerthProfile *ret);
const char *berth_severity_to_string(BerthSeverity s); /* "off" "info" "warning" "error" */
int berth_severity_from_string(const char *s, BerthSeverity *ret); /* off|warning|error */

typedef struct BerthPolicy {
        char *path;                  /* file it was loaded from, NULL = built-in defaults */
        BerthProfile profile;
        unsigned max_exception_days; /* 0 = no exception is accepted */
        bool require_user_namespace;
        int *overrides;              /* per rule (table index): -1 or a BerthSeverity */
        /* Also check the real host path behind each bind source (symlinks, device
         * nodes). Default true; lint of configs for another host may turn it off. */
        bool resolve_host_paths;
} BerthPolicy;

BerthPolicy *berth_policy_new(void); /* built-in defaults: restricted, 30 days */
void berth_policy_free(BerthPolicy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BerthPolicy, berth_policy_free)

/* path NULL = BERTH_POLICY_PATH, and a missing default file means the built-in
 * defaults. An explicit path must exist. Unknown sections, keys, profiles or
 * rules are errors (a typo must not weaken the policy). Errors are
 * BERTH_CONFIG_ERROR with a positive errno code and name file, section, key. */
int berth_policy_load(const char *path, BerthPolicy **ret, GError **error);
int berth_policy_load_data(const char *data, gsize len, const char *origin, BerthPolicy **ret, GError **error);

/* Severity of a rule under this policy (profile, RequireUserNamespace=, overrides). */
BerthSeverity berth_policy_rule_severity(const BerthPolicy *p, const char *rule_id);

typedef struct BerthFinding {
        char *rule;
        BerthSeverity severity;      /* effective: INFO when waived */
        BerthSeverity rule_severity; /* what the policy says for the rule */
        char *container;             /* config name, may be NULL */
        char *file;                  /* file that set the key (or the main config) */
        char *section;
        char *key;
        char *value;                 /* the assignment's value as written, may be NULL */
        char *message;               /* what is weak, and why it matters */
        char *fix;                   /* how to fix it */
        BerthException *waived_by;   /* the valid exception that waives it, or NULL */
        /* An exception for this rule that was not honoured (expired, or expiring
         * more than MaxExceptionDays from now), or NULL. */
        BerthException *rejected_exception;
        bool drift;                  /* from the kernel (audit-kernel.c) */
} BerthFinding;

void berth_finding_free(BerthFinding *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BerthFinding, berth_finding_free)
/* A GPtrArray with the right free function, for callers that collect findings. */
GPtrArray *berth_findings_new(void);

/* Evaluate a finalized config. *ret_findings is a new array of BerthFinding*,
 * in rule-table order. Returns 0, or -EINVAL on bad arguments. */
int berth_policy_evaluate(const BerthPolicy *p, const BerthConfig *c, uint64_t now_usec, GPtrArray **ret_findings);
/* The same, appending to an existing array. */
int berth_policy_evaluate_append(const BerthPolicy *p, const BerthConfig *c, uint64_t now_usec, GPtrArray *findings);

/* Lint one config file, as `berthctl audit --config FILE` does: the container
 * name is the file name without ".conf"; FILE.d/ *.conf drop-ins are applied
 * when present. A file that does not load becomes a "config-invalid" error
 * finding carrying the parser's message. Appends to findings; returns 0. */
int berth_audit_config_file(const BerthPolicy *p, const char *path, uint64_t now_usec, GPtrArray *findings);

/* True when any finding is an unwaived error. */
bool berth_findings_refuse_start(const GPtrArray *findings);

/* The start-refusal message (multi-line, no trailing newline), or NULL when
 * start is allowed: each blocking finding with its file, section, key and value,
 * then how to write an exception, with an example expiring 7 days from now
 * (capped at MaxExceptionDays). */
char *berth_policy_format_refusal(const BerthPolicy *p, const BerthConfig *c, const GPtrArray *findings,
                                  uint64_t now_usec);

/* The exceptions in use: one BerthException copy per waived rule, in rule
 * order. For the container's bus property and the MESSAGE_ID journal entry. */
GPtrArray *berth_findings_active_waivers(const GPtrArray *findings);
/* "host-pid: debugging INC-1234 (expires 2026-12-15); ..." for the journal. */
char *berth_waivers_to_string(const GPtrArray *waivers);

/* 0 = clean (info at most), 1 = warnings only, 2 = any unwaived error. */
int berth_audit_exit_code(const GPtrArray *findings);

/* Text for humans: one block per finding, then a summary line. */
char *berth_findings_format_text(const GPtrArray *findings);
/* JSON: {"findings":[{...}],"errors":N,"warnings":N,"info":N,"exit_code":N}. */
char *berth_findings_format_json(const GPtrArray *findings);

/* Whether a (normalized, real) host path is one that must not be bound into a
 * container: itself, a directory containing one, or inside a protected subtree.
 * Returns a description of what it exposes, or NULL; *ret_matched = the entry. */
const char *berth_policy_sensitive_path(const char *host_path, const char **ret_matched);

/* "2026-12-15T23:59:59Z" for a usec timestamp (seconds precision, rounded down;
 * an end-of-day exclusive bound is shown as its last second). */
char *berth_format_timestamp_utc(uint64_t usec);
