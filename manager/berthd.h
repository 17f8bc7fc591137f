/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * berthd: the system bus service that manages many containers.
 *
 * One Manager owns the sd-event loop, the bus connection and the registry of
 * Container records (name -> Container). A Container record is the daemon's
 * view of one container: its configuration, its runtime handle (when berthd
 * started it in this process lifetime) or its adopted pidfd (when berthd was
 * restarted), its scope, its state and the bus calls waiting on it.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include <sys/inotify.h>
#include <sys/epoll.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "runtime.h"
#include "network.h"
#include "policy.h"

#define BERTH_BUS_NAME        "org.berth.berth1"
#define BERTH_MANAGER_PATH    "/org/berth/berth1"
#define BERTH_MANAGER_IFACE   "org.berth.berth1.Manager"
#define BERTH_CONTAINER_IFACE "org.berth.berth1.Container"
#define BERTH_CONTAINER_PATH_PREFIX "/org/berth/berth1/container"

#define BERTH_ERROR_NO_SUCH_CONTAINER "org.berth.berth1.NoSuchContainer"
#define BERTH_ERROR_NOT_RUNNING       "org.berth.berth1.NotRunning"
#define BERTH_ERROR_BUSY              "org.berth.berth1.Busy"
#define BERTH_ERROR_CONFIG            "org.berth.berth1.ConfigError"
#define BERTH_ERROR_START_FAILED      "org.berth.berth1.StartFailed"
#define BERTH_ERROR_POLICY            "org.berth.berth1.PolicyRefused"

#define BERTH_POLKIT_ACTION_MANAGE "org.berth.berth1.manage"

/* Default graceful stop time when the config gives none. */
#define BERTH_DEFAULT_KILL_TIMEOUT_USEC (10ULL * 1000000ULL)

typedef struct Manager Manager;
typedef struct Container Container;

typedef enum ContainerState {
        CONTAINER_STARTING,
        CONTAINER_RUNNING,
        CONTAINER_STOPPING,
        CONTAINER_EXITED,
        CONTAINER_FAILED,
        _CONTAINER_STATE_MAX,
} ContainerState;

const char *container_state_to_string(ContainerState s);

typedef enum ContainerNsType {
        NS_PID, NS_MNT, NS_UTS, NS_IPC, NS_NET, NS_CGROUP, NS_USER,
        _NS_MAX,
} ContainerNsType;

struct Container {
        Manager *manager;
        char *name;
        char *path;              /* bus object path */

        BerthConfig *config;     /* owned; NULL only for an adopted transient container */
        BerthContainer *rt;      /* runtime handle, NULL when adopted or not running */
        bool transient;          /* RunContainer: forget it when it exits */
        bool adopted;            /* re-adopted after a berthd restart */
        bool live;               /* starting, running or stopping */
        bool boot;
        bool stop_requested;     /* StopContainer while starting */

        ContainerState state;
        char *state_reason;

        pid_t leader;
        int pidfd;
        uint64_t leader_starttime; /* field 22 of /proc/PID/stat */
        char *scope;
        char *unit;              /* container@NAME.service if started through it */
        char *root_directory;
        char *upper_directory;
        char **lower_directories;
        uint64_t start_timestamp; /* µs CLOCK_REALTIME */
        uint64_t kill_timeout_usec;
        BerthLimits limits;      /* effective limits; allowed_cpus owned */
        uint64_t ns_inode[_NS_MAX]; /* remembered while running */
        bool ns_shared[_NS_MAX];

        int exit_code;
        int exit_signal;
        bool oom_killed;
        uint64_t oom_kill_count;   /* last value seen in memory.events */
        char *memory_events;       /* the scope's memory.events, found while running */
        bool oom_count_known;

        sd_event_source *pidfd_source;
        sd_event_source *sync_source;
        sd_event_source *stop_timer;
        sd_event_source *oom_watch;
        sd_event_source *retry_timer; /* StartTransientUnit retry while the old scope goes away */
        unsigned scope_retries;
        sd_bus_slot *unit_slot;    /* StartTransientUnit call */
        sd_bus_slot *machine_slot; /* RegisterMachine call */
        char *job_path;

        bool net_attached;         /* berth_net_setup() done: tear down at exit */
        char *network;             /* network name when attached (Mode=bridge) */
        char *address;             /* container address, for logs */
        char *exceptions;          /* guardrail exceptions in use this run, for the journal */
        GPtrArray *waivers;        /* BerthException*, the same, for the Exceptions property */

        GPtrArray *pending_start;  /* sd_bus_message*, replied when running or failed */
        GPtrArray *pending_stop;   /* sd_bus_message*, replied when exited */
};

struct Manager {
        sd_event *event;
        sd_bus *bus;
        GHashTable *containers;    /* char* name -> Container* */
        GHashTable *removed_jobs;  /* char* job path -> char* result, JobRemoved seen before the reply */
        bool pidfds_unsupported;   /* systemd refused PIDFDs= on StartTransientUnit */
        BerthNet *net;             /* networking context, made on first use */
        const char *config_dir;
        const char *run_dir;
        const char *state_dir;
        const char *policy_path;   /* NULL = /etc/berth/policy.conf (missing = built-in defaults) */
};

/* registry.c */
Container *container_new(Manager *m, const char *name);
void container_free(Container *c);
Container *manager_get_container(Manager *m, const char *name);
/* Find a record, or make an idle one for a configured container. NULL if neither. */
Container *manager_find_or_load_container(Manager *m, const char *name);
bool manager_config_exists(Manager *m, const char *name);
int container_start(Container *c, sd_bus_message *reply_to, sd_bus_error *error);
int container_stop(Container *c, sd_bus_message *reply_to, sd_bus_error *error);
int container_kill(Container *c, const char *whom, int sig, sd_bus_error *error);
/* Returns 1 when the reply is sent later (SetUnitProperties pending), 0 when
 * the caller should reply now, < 0 on error (error set). */
int container_set_properties_async(Container *c, bool runtime, char **assignments, sd_bus_message *reply_to,
                                   sd_bus_error *error);
const char *container_ns_name(int i);
void container_set_state(Container *c, ContainerState s, const char *reason);
void container_limits_from_config(Container *c);
void container_adopted_running(Container *c);
int manager_reload(Manager *m);
int manager_apply_assignment(BerthConfig *cfg, const char *assignment, const char *origin, GError **error);

int manager_net(Manager *m, BerthNet **ret);
void container_net_teardown(Manager *m, const char *name, const char *network);

/* bus-manager.c / bus-container.c */
int bus_manager_add_objects(Manager *m);
int bus_container_emit_new(Container *c);
int bus_container_emit_removed(Container *c);
int bus_container_emit_state_changed(Container *c);
int bus_container_emit_properties_changed(Container *c, const char *first, ...) __attribute__((sentinel));
int bus_container_path(const char *name, char **ret);
/* Read "a(ss)" into a NULL-terminated "Section.Key=value" vector. */
int bus_read_assignments(sd_bus_message *msg, char ***ret);

/* bus-polkit.c: run `cont` once the caller is authorized for org.berth.berth1.manage.
 * Replies AccessDenied (and runs nothing) otherwise. */
typedef int (*bus_authorized_t)(Manager *m, sd_bus_message *msg, sd_bus_error *error);
int bus_verify_manage_async(Manager *m, sd_bus_message *msg, bus_authorized_t cont, sd_bus_error *error);

/* scope.c */
int scope_subscribe(Manager *m);
int scope_start(Container *c);
int scope_set_limits_async(Container *c, const BerthLimits *l, sd_bus_message *reply_to);
int scope_kill(Container *c, const char *whom, int sig);
int scope_stop_unit(Manager *m, const char *unit);
int scope_append_limits(sd_bus_message *msg, const BerthLimits *l);
int scope_cpuset_to_mask(const char *s, uint8_t **ret, size_t *ret_size);
void scope_job_done(Container *c, const char *result);

/* machined.c */
int machined_register(Container *c);

/* adopt.c */
int adopt_save_state(Container *c, const char *phase);
void adopt_remove_state(Manager *m, const char *name);
int adopt_scan(Manager *m);
int adopt_read_exit_status(Container *c, int *ret_code, int *ret_signal);
int proc_get_starttime(pid_t pid, uint64_t *ret);

/* log.c */
#define BERTH_MESSAGE_STARTED  "8e428c59896d450fa4d14fc3144030cd"
#define BERTH_MESSAGE_STOPPED  "0a3c92f3e2e7410f9500623c0b7402d4"
#define BERTH_MESSAGE_FAILED   "bd1b8e7ba3b245b39eeec6c9caa3e338"
#define BERTH_MESSAGE_OOM      "0225a7eedaa44463af46074269e5de9c"
#define BERTH_MESSAGE_ADOPTED  "3313f4cb98bb463a9b3977644f921464"

/* Log one message. c may be NULL; error is a negative or positive errno or 0;
 * message_id may be NULL. Returns -abs(error) for convenience. */
int log_container_full(const Container *c, int priority, int error, const char *message_id,
                       const char *format, ...) __attribute__((format(printf, 5, 6)));
#define log_container(c, prio, err, ...) log_container_full(c, prio, err, NULL, __VA_ARGS__)
/* The same with extra journal fields ("KEY=value", NULL-terminated, may be NULL). */
int log_container_fields(const Container *c, int priority, int error, const char *message_id, char **fields,
                         const char *format, ...) __attribute__((format(printf, 6, 7)));
#define log_daemon(prio, err, ...) log_container_full(NULL, prio, err, NULL, __VA_ARGS__)

/* small helpers (registry.c) */
static inline void sd_bus_message_unrefp_void(void *p) { sd_bus_message_unref(p); }
