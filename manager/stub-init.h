/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Messages from the container's first process to the runtime, over the
 * SOCK_SEQPACKET sync socket. */
enum {
        BERTH_SYNC_ERROR = 1, /* setup failed: error + text */
        BERTH_SYNC_READY = 2, /* the payload was exec'd */
};

/* The runtime's one-byte messages to the child, each maybe with an fd. */
#define BERTH_SYNC_OVERLAY 'O'  /* + the detached overlay: build the root */
#define BERTH_SYNC_GO      'G'  /* + the netns, if made apart: finish and run */

typedef struct BerthSyncMsg {
        int32_t type;
        int32_t error;       /* positive errno */
        char text[248];
} BerthSyncMsg;

/* Send a message on the sync socket (async-signal-safe). */
void berth_sync_send(int fd, int type, int error, const char *text);

/* PID 1 of a container in stub mode, entered with every restriction already
 * applied and in the payload's working directory: spawns the payload
 * (CLONE_VM|CLONE_VFORK), reports READY (or the exec error) on sync_fd, reaps
 * every child, forwards SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGUSR2 to the
 * payload, and exits with the payload's status (128+N for signal N), after
 * writing it to exit_fd. Never returns. */
_Noreturn void berth_stub_init(char **argv, char **envp, int sync_fd, int exit_fd);

/* Boot mode: exec the payload as PID 1 directly. Only returns on failure
 * (after reporting it on sync_fd). */
_Noreturn void berth_exec_payload(char **argv, char **envp, int sync_fd);
