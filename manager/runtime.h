/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libberth-runtime: build and run one container from one BerthConfig.
 * No D-Bus, no event loop, no logging: functions return negative errno and
 * fill a human-readable message where that helps.
 *
 * Lifecycle (the daemon interleaves its own steps where marked):
 *
 *   berth_container_new(cfg)          resolve paths, create run dir and upper
 *   berth_container_clone(c)          clone3 into new namespaces, pidfd; uid/gid
 *                                     maps are written; the overlay goes to the
 *                                     child, which builds its root, /dev and
 *                                     /proc meanwhile; a thread creates the
 *                                     network namespace meanwhile
 *       ... caller: network in berth_container_open_netns(c), transient
 *           scope with the pidfd, wait for JobRemoved ...
 *   berth_container_release(c)        GO: the child enters its network and
 *                                     cgroup namespaces, finishes and runs
 *   berth_container_wait_ready(c)     READY or the child's setup error
 *   berth_container_wait(c, &exit)    blocking waitid() on the pidfd (the
 *                                     daemon instead watches c->pidfd and
 *                                     calls berth_container_reap())
 *   berth_container_free(c)           kill leftovers, remove ephemeral state
 *
 * All mounts of a container are made inside its own mount namespace, so they
 * vanish with it: nothing is mounted on the host.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "netns-maker.h"

typedef enum BerthContainerPhase {
        BERTH_PHASE_NEW,
        BERTH_PHASE_CLONED,    /* child exists, waiting */
        BERTH_PHASE_RELEASED,  /* child setting up */
        BERTH_PHASE_RUNNING,   /* payload exec'd */
        BERTH_PHASE_EXITED,
} BerthContainerPhase;

typedef struct BerthExit {
        int code;          /* exit code; 128+N for a stub-reported signal death */
        int signal;        /* signal that killed PID 1 (boot mode, or SIGKILL), 0 if none */
        bool dumped_core;
        uint64_t started_usec;   /* CLOCK_REALTIME, release */
        uint64_t ready_usec;     /* CLOCK_REALTIME, payload exec'd */
        uint64_t exited_usec;    /* CLOCK_REALTIME */
} BerthExit;

typedef struct BerthContainer {
        BerthConfig *config;       /* borrowed, must outlive the container */
        BerthContainerPhase phase;

        char *run_dir;             /* /run/berth/<name> (or overridden) */
        char *rootfs_dir;          /* mount point of the overlay inside the child's mntns */
        char *upper_dir;           /* persistent upper, or inside the ephemeral tmpfs */
        char *work_dir;
        char **lower_dirs;         /* NULL-terminated, top first as overlayfs wants */

        pid_t pid;                 /* PID 1 of the container, in our pidns */
        int pidfd;
        int sync_fd;               /* our end of the sync socketpair */

        /* stdio for the container; -1 = /dev/null. Not owned. */
        int stdin_fd, stdout_fd, stderr_fd;

        /* Extra binds added by the daemon or the network layer (resolv.conf,
         * hosts), BerthBind*, applied after the config's binds. Owned. */
        GPtrArray *extra_binds;

        int exit_fd;               /* run_dir/exit, written by the stub at exit */

        /* The network namespace, made by the runtime's netns thread while the
         * child builds its root (not with clone3, where it would cost the
         * child ~1 ms). Not with PrivateUsers=, whose netns must belong to the
         * container's userns. */
        int netns_fd;
        int netns_error;
        bool netns_requested;      /* netns_request is queued, not yet collected */
        BerthNetnsRequest netns_request;
        struct BerthMounts *mounts; /* private: fds prepared before clone */

        char *error_message;       /* child's setup error, if any */
        BerthExit exit;
} BerthContainer;

/* run_dir_base NULL = BERTH_RUNTIME_DIR, state_dir_base NULL = BERTH_STATE_DIR. */
int berth_container_new(BerthConfig *config, const char *run_dir_base, const char *state_dir_base,
                        BerthContainer **ret);
/* The same, with a message naming what failed (free with g_free). */
int berth_container_new_full(BerthConfig *config, const char *run_dir_base, const char *state_dir_base,
                             BerthContainer **ret, char **ret_error_message);
int berth_container_clone(BerthContainer *c);
/* Between clone and release: a new fd of the container's network namespace
 * (for the network layer), or -errno. Close it. */
int berth_container_open_netns(BerthContainer *c);
int berth_container_release(BerthContainer *c);
int berth_container_wait_ready(BerthContainer *c);
int berth_container_wait(BerthContainer *c, BerthExit *ret);
/* Non-blocking: collect the exit status once c->pidfd polls readable. -EAGAIN if not yet. */
int berth_container_reap(BerthContainer *c, BerthExit *ret);
int berth_container_kill(BerthContainer *c, int sig);
/* Add a bind (source on the host, destination in the container) before clone. */
int berth_container_add_bind(BerthContainer *c, const char *source, const char *destination, bool read_only);
/* Read the exit status the stub wrote into run_dir/exit (for re-adopted
 * containers, whose exit status waitid() cannot give). -ENODATA if none. */
int berth_container_read_exit_file(const char *run_dir, BerthExit *ret);
/* Kill anything left, wait for it, remove ephemeral state and the run dir. */
void berth_container_free(BerthContainer *c);

/* Convenience for tests and benchmarks: new+clone+release+wait_ready+wait. */
int berth_container_run(BerthConfig *config, const char *run_dir_base, const char *state_dir_base,
                        BerthExit *ret, char **ret_error_message);

/* Give the runtime the process's argv, so the stub init of each container
 * (a copy of this process) rewrites it and shows up as "berth-init" in ps,
 * systemctl status and machinectl status. Call once from main(). */
void berth_runtime_set_argv(int argc, char **argv);

/* Build overlays the way Linux < 6.x needs (layers attached in a private
 * mount namespace of a helper) even where detached layers would do; chosen
 * automatically after the first refusal. For tests. */
void berth_runtime_force_attached_layers(bool b);

/* Seccomp (seccomp.c): the default deny filter plus the config's changes,
 * compiled with libseccomp once per distinct (allow, deny) set and cached as
 * BPF for the life of the process. */
typedef struct BerthSeccompProgram BerthSeccompProgram;
int berth_seccomp_compile(char **allow, char **deny, const BerthSeccompProgram **ret);
/* Load in the calling thread (no libseccomp calls, async-signal-safe). */
int berth_seccomp_load(const BerthSeccompProgram *p);
/* The default deny list, NULL-terminated, for docs and audit. */
const char *const *berth_seccomp_default_denylist(void);
bool berth_seccomp_syscall_known(const char *name);
/* The first name in deny that the runtime itself needs after the filter is
 * loaded (compiling such a set fails with -EPERM), or NULL. */
const char *berth_seccomp_required_denied(char **deny);

/* Capabilities (caps.c). */
uint64_t berth_caps_default(void);          /* the default set */
uint64_t berth_caps_effective(const BerthConfig *c); /* default + add - drop */
/* Drop bounding set to mask, set permitted/effective/inheritable. For a
 * non-root payload uid, bounding only (no effective caps), as Docker does. */
int berth_caps_apply(uint64_t mask, bool payload_is_root);
int berth_caps_last_cap(void);

/* Users (users.c): resolve User=/Group= in the container's own /etc/passwd
 * and /etc/group, opened with openat2(RESOLVE_IN_ROOT) relative to root_fd. */
typedef struct BerthUser {
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        char *home;
        char *shell;
} BerthUser;
int berth_user_resolve(int root_fd, const char *user, const char *group, char **supplementary,
                       BerthUser *ret);
/* The same, with extra RESOLVE_* flags for the lookups of etc/passwd and etc/group. */
int berth_user_resolve_full(int root_fd, uint64_t resolve, const char *user, const char *group,
                            char **supplementary, BerthUser *ret);
void berth_user_done(BerthUser *u);
/* The payload's environment, for the stub init and berthctl exec alike:
 * PATH, container=berth, HOME, USER and LOGNAME of u (user_name as the
 * config gives it, or NULL), then each of the n NULL-terminated KEY=VALUE
 * lists in order, a later key replacing an earlier one. g_strfreev() it. */
char **berth_payload_environment(const BerthUser *u, const char *user_name, char **const *lists, size_t n);
