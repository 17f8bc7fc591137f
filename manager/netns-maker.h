/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* One request for a new network namespace (see netns-maker.c). Owned by the
 * caller, which must wait for it before freeing it. */
typedef struct BerthNetnsRequest {
        int fd;                          /* the answer: an fd of the new namespace */
        int error;                       /* or -errno */
        bool done;
        struct BerthNetnsRequest *next;
} BerthNetnsRequest;

/* Queue a request; the namespace is made in the background. -errno if the
 * thread that makes them cannot be started (nothing was queued then). */
int berth_netns_request(BerthNetnsRequest *req);
/* Wait for the answer: 0 and the fd in *ret_fd (the caller's now), or -errno. */
int berth_netns_wait(BerthNetnsRequest *req, int *ret_fd);
