/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Drift detection: a running container's real isolation, read from the kernel,
 * compared with what its config says. Findings only where reality is weaker:
 *
 *   drift-namespace          /proc/PID/ns/X is the host's (/proc/1/ns/X or the
 *                            caller's own /proc/self/ns/X) while the config says
 *                            private (mnt: always; user: with PrivateUsers=)
 *   drift-capability         CapEff or CapBnd of PID 1 beyond the configured set
 *   drift-seccomp            Seccomp: != 2 while Seccomp=yes
 *   drift-no-new-privileges  NoNewPrivs: 0 while NoNewPrivileges=yes
 *   drift-mount              a mount in the container whose source is a
 *                            sensitive host path (policy.h) or a host device,
 *                            and that no configured bind explains
 *
 * Reads /proc only; needs the privileges to read another process's ns links
 * and mountinfo (root, or the same user). Returns negative errno: -ESRCH when
 * the process is gone.
 */

#include <glib.h>
#include <sys/types.h>

#include "config.h"
#include "policy.h"

/* Append drift findings (BerthFinding*, drift = true) to findings.
 * p may be NULL (built-in severities; drift rules are errors in every profile).
 * extra_bind_sources: host paths bound by the daemon or the network layer
 * outside the config (BerthContainer.extra_binds sources), NULL-terminated, may
 * be NULL. */
int berth_audit_kernel(const BerthPolicy *p, const BerthConfig *c, pid_t pid, const char *const *extra_bind_sources,
                       GPtrArray *findings);

/* BerthNamespace mask of the namespaces pid shares with the host (PID 1 or the
 * caller), for the bus property "SharedNamespaces". */
int berth_kernel_shared_namespaces(pid_t pid, unsigned *ret_mask);

/* "pid net" for a BerthNamespace mask (newly allocated; "" for 0). */
char *berth_namespaces_to_string(unsigned mask);
