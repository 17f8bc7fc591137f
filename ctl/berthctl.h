/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "json.h"
#include "util.h"

#define _cleanup_bus_ __attribute__((cleanup(sd_bus_flush_close_unrefp)))
#define _cleanup_bus_error_ __attribute__((cleanup(sd_bus_error_free)))
#define _cleanup_msg_ __attribute__((cleanup(sd_bus_message_unrefp)))

#define BERTH_BUS_NAME "org.berth.berth1"
#define BERTH_BUS_PATH "/org/berth/berth1"
#define BERTH_MANAGER_IFACE "org.berth.berth1.Manager"
#define BERTH_CONTAINER_IFACE "org.berth.berth1.Container"
#define BERTH_CONTAINER_PATH_PREFIX "/org/berth/berth1/container"

/* Exit codes, as systemctl (LSB) uses them. Documented in berthctl(1). */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,             /* generic or unspecified failure */
        EXIT_INVALID_ARGS = 2,     /* invalid or excess arguments */
        EXIT_NOT_ACTIVE = 3,       /* status: the container is not running */
        EXIT_NO_SUCH = 4,          /* no such container, or access denied */
        EXIT_NOT_INSTALLED = 5,    /* a file berthctl needs (config) is missing */
        EXIT_NOT_CONFIGURED = 6,   /* the configuration is invalid */
        EXIT_NOT_RUNNING = 7,      /* an action needs a running container */
        EXIT_EXEC_FAILED = 125,    /* exec/shell: berthctl could not run the command */
        EXIT_CANNOT_EXEC = 126,    /* exec/shell: the command is not executable */
        EXIT_NOT_FOUND = 127,      /* exec/shell: the command was not found */
};

/* Options shared by all verbs. */
typedef struct Args {
        const char *host;          /* -H */
        JsonFormat json;
        bool no_pager;
        bool no_legend;
        bool quiet;
        bool all;
        char **properties;         /* -p, NULL-terminated */
        bool value;                /* show --value */
        const char *whom;          /* kill */
        int signal;                /* kill */
        bool runtime;              /* set-property, enable */
        bool now;                  /* enable/disable */
        bool follow;               /* logs */
        int64_t lines;             /* logs -n, -1 = all */
        const char *since;         /* logs */
        const char *output;        /* logs -o */
        const char *config_dir;    /* cat --config-dir */
        pid_t pid;                 /* inspect/exec --pid (debugging without the daemon) */
        const char *name_override; /* exec/inspect --name with --pid */
        int tty;                   /* exec: -1 auto, 0 pipes, 1 pty */
        const char *user;          /* exec -u */
        const char *workdir;       /* exec -w */
        char **setenv;             /* exec/run -E */
        /* run */
        GPtrArray *run_props;      /* char* "Section.Key=value" */
        bool wait;
        bool full;                 /* -l: do not ellipsize */
        /* audit */
        GPtrArray *audit_configs;  /* char*, --config=FILE */
        const char *policy;        /* --policy=FILE, NULL = /etc/berth/policy.conf */
} Args;

extern Args arg;

/* util.c */
bool colors_enabled(void);
const char *ansi_highlight(void);
const char *ansi_red(void);
const char *ansi_green(void);
const char *ansi_grey(void);
const char *ansi_normal(void);
const char *state_color(const char *state);

void pager_open(void);
void pager_close(void);

int bus_connect(sd_bus **ret);
/* Log "what: message" and return the exit code for a failed bus call. */
int bus_log_error(const char *what, const sd_bus_error *e, int r);
int bus_error_to_exit_status(const sd_bus_error *e, int r);
/* Object path of a container; r < 0 and *error on failure. */
int bus_get_container(sd_bus *bus, const char *name, char **ret_path, sd_bus_error *error);

/* All properties of an object's interface as JSON (generic variant decode). */
int bus_get_all_properties(sd_bus *bus, const char *path, const char *iface, JsonValue **ret,
                           sd_bus_error *error);
/* Decode the next complete value of message m into JSON. */
int bus_message_to_json(sd_bus_message *m, JsonValue **ret);

/* Property accessors on a JSON object produced by bus_get_all_properties(). */
const char *prop_str(const JsonValue *props, const char *name);
uint64_t prop_u64(const JsonValue *props, const char *name, uint64_t def);
int64_t prop_i64(const JsonValue *props, const char *name, int64_t def);
bool prop_bool(const JsonValue *props, const char *name);

char *format_bytes(uint64_t b);             /* "1.5M"; UINT64_MAX -> "infinity" */
char *format_timestamp(uint64_t usec);      /* local time */
char *format_timespan(uint64_t usec);       /* "1min 3s" */
char *format_limit(uint64_t b, bool bytes);

int parse_signal(const char *s, int *ret);
const char *signal_name(int sig);

/* Tables */
typedef struct Table Table;
Table *table_new(size_t n_columns, const char *const *headers);
void table_add_row(Table *t, const char *const *cells);
void table_print(Table *t, FILE *f);
size_t table_rows(const Table *t);
void table_free(Table *t);

/* Read a small file into a string (trailing newline stripped). */
int read_one_line(const char *path, char **ret);
int read_full(const char *path, char **ret, size_t *ret_size);

/* Cgroup v2 directory of a process, or of the unified hierarchy on a hybrid
 * system ("/sys/fs/cgroup/unified/..."). */
int cgroup_dir_of_pid(pid_t pid, char **ret_dir, char **ret_path);

/* Shell-quote and join argv into one Container.Command= string. */
char *shell_join(char **argv);

/* Addresses of a running container (IPv4 and global IPv6, "10.0.0.2/24"),
 * read with netlink inside its network namespace. NULL if unreadable. */
char **container_addresses(pid_t leader);

/* verbs */
int verb_exec(int argc, char **argv);
int verb_shell(int argc, char **argv);
int verb_inspect(int argc, char **argv);
int verb_logs(int argc, char **argv);
int show_journal(const char *name, int64_t lines, bool follow, const char *since, const char *output);
int verb_cat(int argc, char **argv);
int verb_audit(int argc, char **argv);

/* run -f: the container's output, from the end of the journal on. */
typedef struct sd_journal sd_journal;
int journal_open_for(const char *name, sd_journal **ret);
/* Print new entries (messages only); returns how many. */
int journal_print_new(sd_journal *j);
void journal_closep(sd_journal **j);

/* Fetch the leader pid (and object path) of a running container. */
int container_leader(sd_bus *bus, const char *name, pid_t *ret_pid, JsonValue **ret_props);
