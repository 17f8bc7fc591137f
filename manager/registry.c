/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry of containers and their lifecycle in the daemon:
 *
 *   start:  config -> berth_container_new/clone -> scope (StartTransientUnit,
 *           JobRemoved) -> machined -> release -> READY -> reply
 *   run:    the leader's pidfd is watched with sd-event; memory.events of the
 *           scope for OOM kills
 *   exit:   reap (or read the stub's exit file when adopted), log, update
 *           state, clean up, reply to waiting Stop calls
 *
 * Every step is asynchronous: nothing here blocks the bus for other callers,
 * except the runtime's own short synchronous steps (clone, reading READY
 * once the sync socket polls readable). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <systemd/sd-journal.h>

#include "berthd.h"

static const char *const state_table[_CONTAINER_STATE_MAX] = {
        [CONTAINER_STARTING] = "starting",
        [CONTAINER_RUNNING]  = "running",
        [CONTAINER_STOPPING] = "stopping",
        [CONTAINER_EXITED]   = "exited",
        [CONTAINER_FAILED]   = "failed",
};

const char *container_state_to_string(ContainerState s) {
        return s >= 0 && s < _CONTAINER_STATE_MAX ? state_table[s] : "unknown";
}

static const char *const ns_names[_NS_MAX] = {
        [NS_PID] = "pid", [NS_MNT] = "mnt", [NS_UTS] = "uts", [NS_IPC] = "ipc",
        [NS_NET] = "net", [NS_CGROUP] = "cgroup", [NS_USER] = "user",
};

static uint64_t now_realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int pidfd_signal(int pidfd, int sig) {
        if (pidfd < 0)
                return -ESRCH;
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}

static void limits_reset(BerthLimits *l) {
        g_free(l->allowed_cpus);
        *l = (BerthLimits) {
                .memory_max = BERTH_LIMIT_UNSET, .memory_high = BERTH_LIMIT_UNSET,
                .memory_swap_max = BERTH_LIMIT_UNSET, .cpu_quota_per_sec_usec = BERTH_LIMIT_UNSET,
                .cpu_weight = BERTH_LIMIT_UNSET, .tasks_max = BERTH_LIMIT_UNSET,
                .io_weight = BERTH_LIMIT_UNSET, .allowed_cpus = NULL,
        };
}

/* Copy the limits that are set in src over dst. */
static void limits_merge(BerthLimits *dst, const BerthLimits *src) {
        if (src->memory_max != BERTH_LIMIT_UNSET) dst->memory_max = src->memory_max;
        if (src->memory_high != BERTH_LIMIT_UNSET) dst->memory_high = src->memory_high;
        if (src->memory_swap_max != BERTH_LIMIT_UNSET) dst->memory_swap_max = src->memory_swap_max;
        if (src->cpu_quota_per_sec_usec != BERTH_LIMIT_UNSET) dst->cpu_quota_per_sec_usec = src->cpu_quota_per_sec_usec;
        if (src->cpu_weight != BERTH_LIMIT_UNSET) dst->cpu_weight = src->cpu_weight;
        if (src->tasks_max != BERTH_LIMIT_UNSET) dst->tasks_max = src->tasks_max;
        if (src->io_weight != BERTH_LIMIT_UNSET) dst->io_weight = src->io_weight;
        if (src->allowed_cpus) {
                g_free(dst->allowed_cpus);
                dst->allowed_cpus = g_strdup(src->allowed_cpus);
        }
}

void container_limits_from_config(Container *c) {
        limits_reset(&c->limits);
        if (c->config)
                limits_merge(&c->limits, &c->config->limits);
}

Container *container_new(Manager *m, const char *name) {
        Container *c = g_new0(Container, 1);

        c->manager = m;
        c->name = g_strdup(name);
        (void) bus_container_path(name, &c->path);
        c->pidfd = -1;
        c->state = CONTAINER_EXITED;
        c->state_reason = g_strdup("inactive");
        c->kill_timeout_usec = BERTH_DEFAULT_KILL_TIMEOUT_USEC;
        limits_reset(&c->limits);
        c->pending_start = g_ptr_array_new_with_free_func(sd_bus_message_unrefp_void);
        c->pending_stop = g_ptr_array_new_with_free_func(sd_bus_message_unrefp_void);
        g_hash_table_replace(m->containers, c->name, c);
        return c;
}

static void reply_all_error(GPtrArray *msgs, const char *name, const char *text) {
        for (guint i = 0; i < msgs->len; i++)
                sd_bus_reply_method_errorf(msgs->pdata[i], name, "%s", text);
        g_ptr_array_set_size(msgs, 0);
}

static void container_drop_runtime(Container *c) {
        c->pidfd_source = sd_event_source_disable_unref(c->pidfd_source);
        c->sync_source = sd_event_source_disable_unref(c->sync_source);
        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        c->oom_watch = sd_event_source_disable_unref(c->oom_watch);
        c->retry_timer = sd_event_source_disable_unref(c->retry_timer);
        c->unit_slot = sd_bus_slot_unref(c->unit_slot);
        c->machine_slot = sd_bus_slot_unref(c->machine_slot);
        g_clear_pointer(&c->job_path, g_free);
        if (c->pidfd >= 0) {
                close(c->pidfd);
                c->pidfd = -1;
        }
        if (c->rt) {
                berth_container_free(c->rt);
                c->rt = NULL;
        }
}

void container_free(Container *c) {
        if (!c)
                return;
        container_drop_runtime(c);
        reply_all_error(c->pending_start, BERTH_ERROR_START_FAILED, "Container record removed");
        reply_all_error(c->pending_stop, BERTH_ERROR_NOT_RUNNING, "Container record removed");
        g_ptr_array_unref(c->pending_start);
        g_ptr_array_unref(c->pending_stop);
        limits_reset(&c->limits);
        berth_config_free(c->config);
        g_free(c->name);
        g_free(c->path);
        g_free(c->state_reason);
        g_free(c->scope);
        g_free(c->unit);
        g_free(c->network);
        g_free(c->address);
        g_free(c->exceptions);
        if (c->waivers)
                g_ptr_array_unref(c->waivers);
        g_free(c->memory_events);
        g_free(c->root_directory);
        g_free(c->upper_directory);
        g_strfreev(c->lower_directories);
        g_free(c);
}

Container *manager_get_container(Manager *m, const char *name) {
        return name ? g_hash_table_lookup(m->containers, name) : NULL;
}

bool manager_config_exists(Manager *m, const char *name) {
        g_autofree char *path = NULL;
        struct stat st;

        if (berth_name_validate(name) < 0)
                return false;
        path = g_strdup_printf("%s/%s.conf", m->config_dir, name);
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

Container *manager_find_or_load_container(Manager *m, const char *name) {
        g_autoptr(BerthConfig) cfg = NULL;
        Container *c = manager_get_container(m, name);

        if (c || !manager_config_exists(m, name))
                return c;
        c = container_new(m, name);
        if (berth_config_load(m->config_dir, name, &cfg, NULL) >= 0) {
                c->config = g_steal_pointer(&cfg);
                container_limits_from_config(c);
        }
        return c;
}

void container_set_state(Container *c, ContainerState s, const char *reason) {
        c->state = s;
        g_free(c->state_reason);
        c->state_reason = g_strdup(reason ?: "");
        bus_container_emit_state_changed(c);
}

static void read_namespaces(Container *c) {
        for (int i = 0; i < _NS_MAX; i++) {
                g_autofree char *p = g_strdup_printf("/proc/%d/ns/%s", (int) c->leader, ns_names[i]);
                g_autofree char *self = g_strdup_printf("/proc/self/ns/%s", ns_names[i]);
                struct stat a, b;

                if (stat(p, &a) < 0) {
                        c->ns_inode[i] = 0;
                        c->ns_shared[i] = false;
                        continue;
                }
                c->ns_inode[i] = a.st_ino;
                c->ns_shared[i] = stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
        }
}

const char *container_ns_name(int i) {
        return i >= 0 && i < _NS_MAX ? ns_names[i] : NULL;
}

/* --- OOM detection: memory.events of the scope's cgroup --- */

static char *scope_cgroup_file(Container *c, const char *file) {
        g_autofree char *path = g_strdup_printf("/proc/%d/cgroup", (int) c->leader);
        g_autofree char *data = NULL;
        g_auto(GStrv) lines = NULL;

        if (!c->scope || !g_file_get_contents(path, &data, NULL, NULL))
                return NULL;
        lines = g_strsplit(data, "\n", 0);
        for (char **l = lines; *l; l++) {
                char *cg, *cut;

                if (!g_str_has_prefix(*l, "0::"))
                        continue;
                cg = *l + 3;
                /* The leader may sit below the delegated scope: cut at the scope. */
                cut = strstr(cg, c->scope);
                if (!cut)
                        return NULL;
                cut[strlen(c->scope)] = '\0';
                for (const char *root = "/sys/fs/cgroup"; root;
                     root = strcmp(root, "/sys/fs/cgroup") == 0 ? "/sys/fs/cgroup/unified" : NULL) {
                        char *f = g_strdup_printf("%s%s/%s", root, cg, file);
                        if (access(f, R_OK) == 0)
                                return f;
                        g_free(f);
                }
        }
        return NULL;
}

static int read_oom_kill(const char *path, uint64_t *ret) {
        g_autofree char *data = NULL;
        g_auto(GStrv) lines = NULL;

        if (!path || !g_file_get_contents(path, &data, NULL, NULL))
                return -ENOENT;
        lines = g_strsplit(data, "\n", 0);
        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, "oom_kill ")) {
                        *ret = g_ascii_strtoull(*l + 9, NULL, 10);
                        return 0;
                }
        return -ENOENT;
}

static int on_memory_events(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Container *c = userdata;
        uint64_t n;

        if (read_oom_kill(c->memory_events, &n) >= 0) {
                c->oom_kill_count = n;
                c->oom_count_known = true;
        }
        return 0;
}

static void watch_oom(Container *c) {
        int r;

        g_free(c->memory_events);
        c->memory_events = scope_cgroup_file(c, "memory.events");
        if (!c->memory_events)
                return;
        (void) on_memory_events(NULL, NULL, c);
        r = sd_event_add_inotify(c->manager->event, &c->oom_watch, c->memory_events, IN_MODIFY,
                                 on_memory_events, c);
        if (r < 0)
                log_container(c, LOG_DEBUG, r, "Cannot watch %s", c->memory_events);
}

/* --- exit --- */

static void container_finish(Container *c, ContainerState state, const char *reason) {
        Manager *m = c->manager;

        container_drop_runtime(c);
        if (c->net_attached)
                container_net_teardown(m, c->name, c->network);
        c->net_attached = false;
        /* The runtime removed its run dir; this removes our state file, the
         * stub's exit file, and everything of an adopted container. */
        adopt_remove_state(m, c->name);
        c->adopted = false;
        c->live = false;
        c->leader = 0;
        g_clear_pointer(&c->memory_events, g_free);

        reply_all_error(c->pending_start, BERTH_ERROR_START_FAILED, reason);
        for (guint i = 0; i < c->pending_stop->len; i++)
                sd_bus_reply_method_return(c->pending_stop->pdata[i], NULL);
        g_ptr_array_set_size(c->pending_stop, 0);

        container_set_state(c, state, reason);
        bus_container_emit_removed(c);

        if (c->transient || (!c->config && !manager_config_exists(m, c->name))) {
                g_hash_table_remove(m->containers, c->name);
                container_free(c);
        }
}

static void container_exited(Container *c, int code, int sig, const char *setup_error) {
        bool stop_requested = c->state == CONTAINER_STOPPING;
        bool starting = c->state == CONTAINER_STARTING;
        g_autofree char *reason = NULL;
        ContainerState st;
        const char *id;
        uint64_t n;

        /* The scope may already be gone; then the last inotify reading counts. */
        if (read_oom_kill(c->memory_events, &n) >= 0) {
                c->oom_kill_count = n;
                c->oom_count_known = true;
        }

        c->exit_code = code;
        c->exit_signal = sig;
        c->oom_killed = c->oom_count_known && c->oom_kill_count > 0 && (code != 0 || sig != 0);

        if (starting && c->stop_requested) {
                st = CONTAINER_EXITED;
                reason = g_strdup("stopped");
                id = BERTH_MESSAGE_STOPPED;
        } else if (starting) {
                st = CONTAINER_FAILED;
                reason = g_strdup_printf("start-failed: %s", setup_error ?: (c->state_reason && *c->state_reason ? c->state_reason : "container exited during setup"));
                id = BERTH_MESSAGE_FAILED;
        } else if (c->oom_killed) {
                st = CONTAINER_FAILED;
                reason = g_strdup("oom-kill");
                id = BERTH_MESSAGE_OOM;
        } else if (stop_requested && (code == 0 || sig == SIGTERM || sig == SIGKILL ||
                                      code == 128 + SIGTERM || code == 128 + SIGKILL ||
                                      (c->boot && sig == SIGRTMIN + 3))) {
                st = CONTAINER_EXITED;
                reason = g_strdup("stopped");
                id = BERTH_MESSAGE_STOPPED;
        } else if (sig != 0) {
                st = CONTAINER_FAILED;
                reason = g_strdup_printf("signal=%s", sigabbrev_np(sig) ?: "unknown");
                id = BERTH_MESSAGE_FAILED;
        } else if (code != 0) {
                st = CONTAINER_FAILED;
                reason = g_strdup_printf("exit-code=%d", code);
                id = BERTH_MESSAGE_FAILED;
        } else {
                st = CONTAINER_EXITED;
                reason = g_strdup("exit-code=0");
                id = BERTH_MESSAGE_STOPPED;
        }

        if (st == CONTAINER_EXITED)
                log_container_full(c, LOG_INFO, 0, id, "Container stopped (%s)", reason);
        else if (c->oom_killed)
                log_container_full(c, LOG_ERR, 0, id, "Container was OOM-killed (exit code %d, signal %d)", code, sig);
        else
                log_container_full(c, LOG_ERR, 0, id, "Container failed (%s)", reason);

        container_finish(c, st, reason);
}

static int container_process_ready(Container *c);

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Container *c = userdata;
        int code = -1, sig = 0, r;

        /* A payload that exits right away may be seen exiting before its
         * READY: take the READY first, so it counts as started and exited. */
        if (c->sync_source && c->state == CONTAINER_STARTING && container_process_ready(c) < 0)
                return 0;

        if (c->rt) {
                BerthExit ex = {};

                r = berth_container_reap(c->rt, &ex);
                if (r == -EAGAIN)
                        return 0;
                if (r < 0)
                        log_container(c, LOG_WARNING, r, "Failed to collect exit status");
                else {
                        code = ex.code;
                        sig = ex.signal;
                }
        } else {
                r = adopt_read_exit_status(c, &code, &sig);
                if (r < 0)
                        log_container(c, LOG_WARNING, r, "No exit status left by the container's PID 1");
        }

        container_exited(c, code, sig, c->rt && c->rt->error_message ? c->rt->error_message : NULL);
        return 0;
}

static int watch_pidfd(Container *c) {
        return sd_event_add_io(c->manager->event, &c->pidfd_source, c->pidfd, EPOLLIN, on_pidfd, c);
}

/* --- start --- */

static void start_failed(Container *c, int error, const char *why) {
        g_autofree char *reason = g_strdup_printf("start-failed: %s", why);

        log_container_full(c, LOG_ERR, error, BERTH_MESSAGE_FAILED, "Failed to start container: %s", why);
        if (c->pidfd >= 0)
                (void) pidfd_signal(c->pidfd, SIGKILL);
        if (c->scope)
                (void) scope_stop_unit(c->manager, c->scope);
        c->exit_code = -1;
        c->exit_signal = 0;
        container_finish(c, CONTAINER_FAILED, reason);
}

/* READY (or the setup error) is waiting on the sync socket. Returns < 0 if
 * the start failed, and then c may be gone. */
static int container_process_ready(Container *c) {
        int r;

        c->sync_source = sd_event_source_disable_unref(c->sync_source);
        r = berth_container_wait_ready(c->rt);
        if (r < 0) {
                g_autofree char *why = g_strdup_printf("%s%s%s", c->rt->error_message ?: "",
                                                       c->rt->error_message ? ": " : "", g_strerror(-r));
                start_failed(c, r, why);
                return r;
        }

        c->start_timestamp = c->rt->exit.ready_usec ?: now_realtime_usec();
        read_namespaces(c);
        watch_oom(c);
        (void) adopt_save_state(c, "running");
        log_container_full(c, LOG_INFO, 0, BERTH_MESSAGE_STARTED, "Container started (PID %d, %s)",
                           (int) c->leader, c->scope);
        if (c->exceptions && c->waivers) {
                g_autoptr(GString) rules = g_string_new(NULL);
                for (guint i = 0; i < c->waivers->len; i++)
                        g_string_append_printf(rules, "%s%s", i ? " " : "",
                                               ((const BerthException *) c->waivers->pdata[i])->rule);
                g_autofree char *f_rules = g_strdup_printf("BERTH_RULES=%s", rules->str);
                g_autofree char *f_exc = g_strdup_printf("BERTH_EXCEPTIONS=%s", c->exceptions);
                char *fields[] = { f_rules, f_exc, NULL };
                log_container_fields(c, LOG_NOTICE, 0, BERTH_MESSAGE_STARTED_WITH_EXCEPTIONS_STR, fields,
                                     "Container started with guardrail exceptions: %s", c->exceptions);
        }

        container_set_state(c, CONTAINER_RUNNING, "started");
        for (guint i = 0; i < c->pending_start->len; i++)
                sd_bus_reply_method_return(c->pending_start->pdata[i], "o", c->path);
        g_ptr_array_set_size(c->pending_start, 0);
        return 0;
}

static int on_sync_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) container_process_ready(userdata);
        return 0;
}

void scope_job_done(Container *c, const char *result) {
        int r;

        g_clear_pointer(&c->job_path, g_free);
        if (c->state != CONTAINER_STARTING || !c->rt)
                return;
        if (strcmp(result, "done") != 0) {
                g_autofree char *why = g_strdup_printf("scope %s: job %s", c->scope, result);
                start_failed(c, 0, why);
                return;
        }

        (void) adopt_save_state(c, "starting");
        r = machined_register(c);
        if (r < 0)
                log_container(c, LOG_WARNING, r, "Failed to ask systemd-machined to register the container");

        r = berth_container_release(c->rt);
        if (r < 0) {
                start_failed(c, r, c->rt->error_message ?: "release failed");
                return;
        }
        r = sd_event_add_io(c->manager->event, &c->sync_source, c->rt->sync_fd, EPOLLIN | EPOLLHUP,
                            on_sync_ready, c);
        if (r < 0)
                start_failed(c, r, "cannot watch the sync socket");
}

int manager_net(Manager *m, BerthNet **ret) {
        if (!m->net) {
                BerthNetOptions o = { .state_dir = m->state_dir };
                int r = berth_net_new(&o, &m->net);
                if (r < 0)
                        return r;
        }
        *ret = m->net;
        return 0;
}

void container_net_teardown(Manager *m, const char *name, const char *network) {
        BerthNet *net;
        int r;

        r = manager_net(m, &net);
        if (r >= 0)
                r = berth_net_teardown(net, name, network && *network ? network : NULL);
        if (r < 0) {
                /* No Container here when cleaning up after a crash: name it by field. */
                g_autofree char *f_name = g_strdup_printf("CONTAINER_NAME=%s", name);
                char *fields[] = { f_name, NULL };
                log_container_fields(NULL, LOG_WARNING, r, NULL, fields, "%s: Failed to tear down networking", name);
        }
}

static void container_net_hosts_update(Container *c, const struct in_addr *address);

/* Networking in the child's network namespace, before it runs anything:
 * loopback for Mode=none, veth, bridge, address and routes for Mode=bridge.
 * Nothing for Mode=host. */
static int container_net_setup(Container *c, char **ret_error) {
        BerthNetAttachment att = {};
        BerthNet *net;
        int fd, r;

        g_clear_pointer(&c->network, g_free);
        g_clear_pointer(&c->address, g_free);
        if (c->config->network_mode == BERTH_NETWORK_HOST)
                return 0;
        r = manager_net(c->manager, &net);
        if (r < 0)
                return r;
        /* Not /proc/PID/ns/net: the child only enters its namespace at GO. */
        fd = berth_container_open_netns(c->rt);
        if (fd < 0) {
                if (ret_error && c->rt->error_message)
                        *ret_error = g_strdup(c->rt->error_message);
                return fd;
        }
        r = berth_net_setup(net, c->config, fd, NULL, &att, ret_error);
        close(fd);
        if (r < 0)
                return r;
        if (c->config->network_mode == BERTH_NETWORK_BRIDGE) {
                char buf[INET_ADDRSTRLEN];

                c->net_attached = true;
                c->network = g_strdup(att.network);
                if (inet_ntop(AF_INET, &att.address, buf, sizeof buf))
                        c->address = g_strdup(buf);
                container_net_hosts_update(c, &att.address);
                log_container(c, LOG_INFO, 0, "Attached to network %s as %s (%s)", att.network,
                              c->address ?: "?", att.host_ifname);
        }
        return 0;
}

/* Write a file in place (no rename), so a bind mount of it sees new content. */
static int write_in_place(const char *path, const char *data) {
        size_t len = strlen(data);
        int fd, r = 0;

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t k = write(fd, data, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                data += k;
                len -= (size_t) k;
        }
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

/* /etc/resolv.conf and /etc/hosts of the container, bind-mounted read-only
 * from its run dir. They must exist before clone (binds are opened then);
 * hosts is rewritten in place once the address is known. */
static int container_net_files(Container *c, BerthContainer *rt, char **ret_error) {
        g_autofree char *resolv_path = g_build_filename(rt->run_dir, "resolv.conf", NULL);
        g_autofree char *hosts_path = g_build_filename(rt->run_dir, "hosts", NULL);
        g_autofree char *resolv = NULL;
        char *hosts = NULL;
        int r;

        if (c->config->network_mode == BERTH_NETWORK_HOST) {
                if (!g_file_get_contents("/etc/resolv.conf", &resolv, NULL, NULL))
                        resolv = g_strdup("");
        } else {
                char *v = NULL;
                r = berth_net_resolv_conf(NULL, NULL, &v);
                if (r < 0) {
                        *ret_error = g_strdup_printf("generating resolv.conf: %s", g_strerror(-r));
                        return r;
                }
                resolv = g_strdup(v);
                free(v);
        }
        r = berth_net_hosts(c->config->hostname ?: c->name, NULL, &hosts);
        if (r >= 0) {
                r = write_in_place(hosts_path, hosts);
                free(hosts);
        }
        if (r >= 0)
                r = write_in_place(resolv_path, resolv);
        if (r < 0) {
                *ret_error = g_strdup_printf("writing %s: %s", rt->run_dir, g_strerror(-r));
                return r;
        }
        r = berth_container_add_bind(rt, resolv_path, "/etc/resolv.conf", true);
        if (r >= 0)
                r = berth_container_add_bind(rt, hosts_path, "/etc/hosts", true);
        if (r < 0)
                *ret_error = g_strdup_printf("adding binds: %s", g_strerror(-r));
        return r;
}

static void container_net_hosts_update(Container *c, const struct in_addr *address) {
        g_autofree char *path = g_build_filename(c->rt->run_dir, "hosts", NULL);
        char *hosts = NULL;
        int r;

        r = berth_net_hosts(c->config->hostname ?: c->name, address, &hosts);
        if (r >= 0) {
                r = write_in_place(path, hosts);
                free(hosts);
        }
        if (r < 0)
                log_container(c, LOG_WARNING, r, "Failed to update %s", path);
}

/* Guardrails: refuse a start the host policy forbids (unwaived errors), log
 * weakenings that are only warnings, remember the exceptions in use. The
 * policy always applies: without /etc/berth/policy.conf it is the built-in
 * restricted profile. */
static void container_set_waivers(Container *c, GPtrArray *waivers) {
        g_clear_pointer(&c->exceptions, g_free);
        g_clear_pointer(&c->waivers, g_ptr_array_unref);
        if (waivers && waivers->len > 0) {
                c->exceptions = berth_waivers_to_string(waivers);
                c->waivers = g_ptr_array_ref(waivers);
        }
}

/* One journal entry per exception that was not honoured (expired, too far
 * away, or not accepted at all), naming it, its file and its expiry. */
static void log_rejected_exceptions(Container *c, const GPtrArray *findings) {
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < findings->len; i++) {
                const BerthFinding *f = findings->pdata[i];
                const BerthException *x = f->rejected_exception;
                if (!x || f->severity != BERTH_SEVERITY_ERROR || g_hash_table_contains(seen, x->rule))
                        continue;
                g_hash_table_add(seen, x->rule);
                g_autofree char *when = berth_format_timestamp_utc(x->expires_usec);
                g_autofree char *f_rule = g_strdup_printf("BERTH_RULE=%s", x->rule);
                g_autofree char *f_exp = g_strdup_printf("BERTH_EXCEPTION_EXPIRES=%s", x->expires);
                g_autofree char *f_file = g_strdup_printf("BERTH_EXCEPTION_FILE=%s", x->file ?: "");
                char *fields[] = { f_rule, f_exp, f_file, NULL };
                bool expired = now_realtime_usec() >= x->expires_usec;

                log_container_fields(c, LOG_ERR, 0, NULL, fields,
                                     "Exception [%s%s] in %s (\"%s\") %s %s (Expires=%s); start refused: %s",
                                     BERTH_EXCEPTION_SECTION_PREFIX, x->rule, x->file ?: "?", x->justification,
                                     expired ? "expired on" : "not accepted, it expires on", when, x->expires,
                                     f->message);
        }
}

static int container_check_policy(Container *c, sd_bus_error *error) {
        g_autoptr(BerthPolicy) policy = NULL;
        g_autoptr(GPtrArray) findings = NULL;
        g_autoptr(GPtrArray) waivers = NULL;
        g_autoptr(GString) warned = g_string_new(NULL);
        g_autoptr(GString) refused = g_string_new(NULL);
        g_autoptr(GError) gerr = NULL;
        uint64_t now = now_realtime_usec();
        int r;

        container_set_waivers(c, NULL);
        r = berth_policy_load(c->manager->policy_path, &policy, &gerr);
        if (r < 0) {
                log_container(c, LOG_ERR, r, "Cannot load the host policy, refusing to start: %s",
                              gerr ? gerr->message : g_strerror(-r));
                return sd_bus_error_setf(error, BERTH_ERROR_POLICY, "Host policy: %s",
                                         gerr ? gerr->message : g_strerror(-r));
        }
        r = berth_policy_evaluate(policy, c->config, now, &findings);
        if (r < 0) {
                log_container(c, LOG_ERR, r, "Cannot evaluate the host policy, refusing to start");
                return sd_bus_error_setf(error, BERTH_ERROR_POLICY, "Cannot evaluate the host policy: %s",
                                         g_strerror(-r));
        }
        if (berth_findings_refuse_start(findings)) {
                g_autofree char *msg = berth_policy_format_refusal(policy, c->config, findings, now);
                g_autofree char *f_rules = NULL;

                for (guint i = 0; i < findings->len; i++) {
                        const BerthFinding *f = findings->pdata[i];
                        if (f->severity == BERTH_SEVERITY_ERROR)
                                g_string_append_printf(refused, "%s%s", refused->len ? " " : "", f->rule);
                }
                f_rules = g_strdup_printf("BERTH_RULES=%s", refused->str);
                char *fields[] = { f_rules, NULL };
                log_rejected_exceptions(c, findings);
                log_container_fields(c, LOG_ERR, 0, BERTH_MESSAGE_FAILED, fields,
                                     "Start refused by the host policy (rules: %s): %s", refused->str,
                                     msg ?: "unwaived errors");
                return sd_bus_error_setf(error, BERTH_ERROR_POLICY, "%s", msg ?: "Start refused by the host policy");
        }
        for (guint i = 0; i < findings->len; i++) {
                const BerthFinding *f = findings->pdata[i];
                if (f->severity == BERTH_SEVERITY_WARNING)
                        g_string_append_printf(warned, "%s%s", warned->len ? ", " : "", f->rule);
        }
        if (warned->len > 0)
                log_container(c, LOG_WARNING, 0, "Isolation weakened (policy warnings): %s", warned->str);
        waivers = berth_findings_active_waivers(findings);
        container_set_waivers(c, waivers);
        return 0;
}

/* Undo a start that failed before the container went live: kill and free the
 * runtime (rt when not yet handed over to c) and remove the run dir. */
static void start_undo(Container *c, BerthContainer *rt) {
        berth_container_free(rt);
        container_drop_runtime(c);
        c->leader = 0;
        adopt_remove_state(c->manager, c->name);
}

static char *caller_unit(sd_bus_message *msg) {
        sd_bus_creds *creds = NULL;
        const char *unit = NULL;
        char *ret = NULL;

        if (!msg || sd_bus_query_sender_creds(msg, SD_BUS_CREDS_UNIT | SD_BUS_CREDS_AUGMENT, &creds) < 0)
                return NULL;
        if (sd_bus_creds_get_unit(creds, &unit) >= 0 && g_str_has_prefix(unit, "container@"))
                ret = g_strdup(unit);
        sd_bus_creds_unref(creds);
        return ret;
}

int container_start(Container *c, sd_bus_message *reply_to, sd_bus_error *error) {
        Manager *m = c->manager;
        g_autoptr(GError) gerr = NULL;
        g_autofree char *errmsg = NULL;
        BerthContainer *rt = NULL;
        int r, fd;

        if (c->live) {
                g_autofree char *unit = caller_unit(reply_to);

                /* container@NAME.service taking over a container started otherwise. */
                if (unit && (!c->unit || strcmp(c->unit, unit) != 0)) {
                        g_free(c->unit);
                        c->unit = g_steal_pointer(&unit);
                        bus_container_emit_properties_changed(c, "Unit", NULL);
                        if (c->state == CONTAINER_RUNNING)
                                (void) adopt_save_state(c, "running");
                }
                if (c->state == CONTAINER_RUNNING) {
                        if (reply_to)
                                return sd_bus_reply_method_return(reply_to, "o", c->path);
                        return 0;
                }
                if (c->state == CONTAINER_STARTING) {
                        if (reply_to)
                                g_ptr_array_add(c->pending_start, sd_bus_message_ref(reply_to));
                        return 0;
                }
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Container %s is stopping", c->name);
        }

        if (!c->transient) {
                g_autoptr(BerthConfig) cfg = NULL;

                r = berth_config_load(m->config_dir, c->name, &cfg, &gerr);
                if (r < 0) {
                        log_container(c, LOG_ERR, r, "Failed to load configuration: %s",
                                      gerr ? gerr->message : g_strerror(-r));
                        if (r == -ENOENT && !gerr)
                                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER,
                                                         "No configuration for container %s", c->name);
                        return sd_bus_error_setf(error, BERTH_ERROR_CONFIG, "%s",
                                                 gerr ? gerr->message : g_strerror(-r));
                }
                r = berth_config_finalize(cfg, &gerr);
                if (r < 0) {
                        log_container(c, LOG_ERR, r, "Invalid configuration: %s", gerr ? gerr->message : g_strerror(-r));
                        return sd_bus_error_setf(error, BERTH_ERROR_CONFIG, "%s", gerr ? gerr->message : g_strerror(-r));
                }
                berth_config_free(c->config);
                c->config = g_steal_pointer(&cfg);
        }

        /* Before the policy check, so a refusal is in journalctl -u container@NAME too. */
        g_free(c->unit);
        c->unit = caller_unit(reply_to);
        r = container_check_policy(c, error);
        if (r < 0)
                return r;

        container_limits_from_config(c);
        c->boot = c->config->boot;
        c->kill_timeout_usec = c->config->kill_timeout_usec ?: BERTH_DEFAULT_KILL_TIMEOUT_USEC;
        c->exit_code = 0;
        c->exit_signal = 0;
        c->stop_requested = false;
        c->oom_killed = false;
        c->oom_kill_count = 0;
        c->oom_count_known = false;
        c->start_timestamp = 0;
        memset(c->ns_inode, 0, sizeof(c->ns_inode));

        r = berth_container_new_full(c->config, m->run_dir, m->state_dir, &rt, &errmsg);
        if (r < 0) {
                log_container_full(c, LOG_ERR, r, BERTH_MESSAGE_FAILED, "Failed to prepare container: %s",
                                   errmsg ?: g_strerror(-r));
                return sd_bus_error_setf(error, BERTH_ERROR_START_FAILED, "Failed to prepare container %s: %s",
                                         c->name, errmsg ?: g_strerror(-r));
        }

        g_free(c->root_directory);
        c->root_directory = g_strdup(rt->rootfs_dir);
        g_free(c->upper_directory);
        c->upper_directory = g_strdup(rt->upper_dir);
        g_strfreev(c->lower_directories);
        c->lower_directories = g_strdupv(rt->lower_dirs);

        r = container_net_files(c, rt, &errmsg);
        if (r < 0) {
                log_container_full(c, LOG_ERR, r, BERTH_MESSAGE_FAILED, "Failed to prepare container: %s", errmsg);
                start_undo(c, rt);
                return sd_bus_error_setf(error, BERTH_ERROR_START_FAILED, "Failed to prepare container %s: %s",
                                         c->name, errmsg);
        }

        /* Output goes straight to journald, identified by the container's name. */
        fd = sd_journal_stream_fd(c->name, LOG_INFO, 0);
        if (fd < 0)
                log_container(c, LOG_WARNING, fd, "Cannot connect the container's output to the journal, using /dev/null");
        rt->stdin_fd = -1;
        rt->stdout_fd = fd;
        rt->stderr_fd = fd;

        r = berth_container_clone(rt);
        if (fd >= 0)
                close(fd);
        rt->stdout_fd = rt->stderr_fd = -1;
        if (r < 0) {
                g_autofree char *msg = g_strdup(rt->error_message ?: g_strerror(-r));
                log_container_full(c, LOG_ERR, r, BERTH_MESSAGE_FAILED, "Failed to create container: %s", msg);
                start_undo(c, rt);
                return sd_bus_error_setf(error, BERTH_ERROR_START_FAILED, "Failed to start container %s: %s",
                                         c->name, msg);
        }
        c->rt = rt;
        c->leader = rt->pid;
        c->pidfd = fcntl(rt->pidfd, F_DUPFD_CLOEXEC, 3);
        if (c->pidfd < 0) {
                r = -errno;
                log_container(c, LOG_ERR, r, "Failed to duplicate pidfd");
                start_undo(c, NULL);
                return sd_bus_error_set_errnof(error, -r, "Failed to start container %s", c->name);
        }
        (void) proc_get_starttime(c->leader, &c->leader_starttime);

        r = container_net_setup(c, &errmsg);
        if (r < 0) {
                g_autofree char *why = g_strdup_printf("network: %s", errmsg ?: g_strerror(-r));
                log_container_full(c, LOG_ERR, r, BERTH_MESSAGE_FAILED, "Failed to start container: %s", why);
                start_undo(c, NULL);
                return sd_bus_error_setf(error, BERTH_ERROR_START_FAILED, "Failed to start container %s: %s",
                                         c->name, why);
        }

        c->live = true;
        if (reply_to)
                g_ptr_array_add(c->pending_start, sd_bus_message_ref(reply_to));
        container_set_state(c, CONTAINER_STARTING, "starting");
        bus_container_emit_new(c);

        r = watch_pidfd(c);
        if (r < 0) {
                start_failed(c, r, "cannot watch the leader's pidfd");
                return 0;
        }
        c->scope = g_strdup_printf("berth-%s.scope", c->name);
        (void) adopt_save_state(c, "starting");
        r = scope_start(c);
        if (r < 0) {
                start_failed(c, r, "cannot call StartTransientUnit");
                return 0;
        }
        return 0;
}

/* Called by adopt.c once a re-adopted container's fields are filled in. */
void container_adopted_running(Container *c) {
        int r;

        c->live = true;
        c->state = CONTAINER_RUNNING;
        g_free(c->state_reason);
        c->state_reason = g_strdup("adopted");
        read_namespaces(c);
        watch_oom(c);
        r = watch_pidfd(c);
        if (r < 0)
                log_container(c, LOG_ERR, r, "Cannot watch the re-adopted leader");
        bus_container_emit_new(c);
}

/* --- stop / kill --- */

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Container *c = userdata;

        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        log_container(c, LOG_NOTICE, 0, "Did not stop within %" PRIu64 " ms, killing",
                      c->kill_timeout_usec / 1000);
        (void) scope_kill(c, "all", SIGKILL);
        (void) pidfd_signal(c->pidfd, SIGKILL);
        return 0;
}

int container_stop(Container *c, sd_bus_message *reply_to, sd_bus_error *error) {
        int sig = c->boot ? SIGRTMIN + 3 : SIGTERM;
        int r;

        if (!c->live)
                return sd_bus_error_setf(error, BERTH_ERROR_NOT_RUNNING, "Container %s is not running", c->name);

        if (reply_to)
                g_ptr_array_add(c->pending_stop, sd_bus_message_ref(reply_to));
        if (c->state == CONTAINER_STOPPING)
                return 0;

        if (c->state == CONTAINER_STARTING) {
                /* Not yet running anything of the payload: no grace needed. */
                c->stop_requested = true;
                (void) pidfd_signal(c->pidfd, SIGKILL);
                return 0;
        }

        container_set_state(c, CONTAINER_STOPPING, "stop requested");
        r = pidfd_signal(c->pidfd, sig);
        if (r < 0 && r != -ESRCH)
                log_container(c, LOG_WARNING, r, "Failed to send %s to the leader", sigabbrev_np(sig) ?: "signal");
        r = sd_event_add_time_relative(c->manager->event, &c->stop_timer, CLOCK_MONOTONIC, c->kill_timeout_usec,
                                       0, on_stop_timeout, c);
        if (r < 0) {
                log_container(c, LOG_WARNING, r, "Cannot arm stop timer, killing now");
                (void) on_stop_timeout(NULL, 0, c);
        }
        return 0;
}

int container_kill(Container *c, const char *whom, int sig, sd_bus_error *error) {
        int r;

        if (sig <= 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal %d", sig);
        if (!c->live)
                return sd_bus_error_setf(error, BERTH_ERROR_NOT_RUNNING, "Container %s is not running", c->name);
        if (strcmp(whom, "leader") == 0 || strcmp(whom, "") == 0) {
                r = pidfd_signal(c->pidfd, sig);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to signal %s: %s", c->name, g_strerror(-r));
                return 0;
        }
        if (strcmp(whom, "all") == 0) {
                if (c->state == CONTAINER_STARTING || !c->scope)
                        r = pidfd_signal(c->pidfd, sig);
                else
                        r = scope_kill(c, "all", sig);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to signal %s: %s", c->name, g_strerror(-r));
                return 0;
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "whom must be \"leader\" or \"all\", not \"%s\"", whom);
}

/* --- properties --- */

static bool is_limit_key(const char *key) {
        static const char *const keys[] = {
                "MemoryMax", "MemoryHigh", "MemorySwapMax", "CPUQuota", "CPUQuotaPerSecUSec",
                "CPUWeight", "TasksMax", "IOWeight", "AllowedCPUs", NULL,
        };
        for (const char *const *k = keys; *k; k++)
                if (strcmp(*k, key) == 0)
                        return true;
        return false;
}

/* Split "Section.Key=value". Section may come back NULL when absent; it is
 * inferred as "Limits" for the limit keys. */
static int split_assignment(const char *a, char **ret_section, char **ret_key, char **ret_value) {
        const char *eq = strchr(a, '=');
        g_autofree char *lhs = NULL;
        char *dot;

        if (!eq || eq == a)
                return -EINVAL;
        lhs = g_strndup(a, eq - a);
        dot = strchr(lhs, '.');
        if (dot) {
                *dot = '\0';
                if (!*lhs || !dot[1])
                        return -EINVAL;
                *ret_section = g_strdup(lhs);
                *ret_key = g_strdup(dot + 1);
        } else {
                *ret_section = is_limit_key(lhs) ? g_strdup("Limits") : NULL;
                *ret_key = g_strdup(lhs);
        }
        *ret_value = g_strdup(eq + 1);
        return 0;
}

int manager_apply_assignment(BerthConfig *cfg, const char *assignment, const char *origin, GError **error) {
        g_autofree char *section = NULL, *key = NULL, *value = NULL;
        int r;

        r = split_assignment(assignment, &section, &key, &value);
        if (r < 0) {
                g_set_error(error, BERTH_CONFIG_ERROR, 0, "Invalid assignment \"%s\": expected Section.Key=value",
                            assignment);
                return r;
        }
        return berth_config_set(cfg, section, key, value, origin, error);
}

static int write_dropin(Container *c, char **assignments, sd_bus_error *error) {
        Manager *m = c->manager;
        g_autofree char *dir = g_strdup_printf("%s/%s.conf.d", m->config_dir, c->name);
        g_autofree char *path = g_strdup_printf("%s/50-berth-set-property.conf", dir);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) gerr = NULL;
        g_autofree char *data = NULL;
        gsize len;

        (void) g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
        for (char **a = assignments; a && *a; a++) {
                g_autofree char *section = NULL, *key = NULL, *value = NULL;

                if (split_assignment(*a, &section, &key, &value) < 0 || !section)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "\"%s\" needs a section to be saved (Section.Key=value)", *a);
                g_key_file_set_value(kf, section, key, value);
        }
        if (g_mkdir_with_parents(dir, 0755) < 0) {
                int r = -errno;
                log_container(c, LOG_ERR, r, "Failed to create %s", dir);
                return sd_bus_error_set_errnof(error, -r, "Failed to create %s", dir);
        }
        data = g_key_file_to_data(kf, &len, NULL);
        if (!g_file_set_contents_full(path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &gerr)) {
                log_container(c, LOG_ERR, EIO, "Failed to write %s: %s", path, gerr->message);
                return sd_bus_error_setf(error, SD_BUS_ERROR_IO_ERROR, "Failed to write %s: %s", path, gerr->message);
        }
        return 0;
}

/* Returns 1 when the reply is sent later (SetUnitProperties pending), 0 when
 * the caller should reply now, < 0 on error (error set). */
int container_set_properties_async(Container *c, bool runtime, char **assignments, sd_bus_message *reply_to,
                                   sd_bus_error *error) {
        g_autoptr(BerthConfig) scratch = berth_config_new(c->name);
        g_autoptr(GError) gerr = NULL;
        bool any_limit = false;
        int r;

        for (char **a = assignments; a && *a; a++) {
                g_autofree char *section = NULL, *key = NULL, *value = NULL;

                if (split_assignment(*a, &section, &key, &value) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid assignment \"%s\": expected Section.Key=value", *a);
                if (section && strcmp(section, "Limits") == 0)
                        any_limit = true;
                else if (runtime)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Only Limits.* can be changed at runtime, not \"%s\"", *a);
                r = manager_apply_assignment(scratch, *a, "set-property", &gerr);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s",
                                                 gerr ? gerr->message : g_strerror(-r));
        }
        if (runtime && !c->live)
                return sd_bus_error_setf(error, BERTH_ERROR_NOT_RUNNING, "Container %s is not running", c->name);
        if (!runtime && !c->transient) {
                r = write_dropin(c, assignments, error);
                if (r < 0)
                        return r;
        }

        if (c->config)
                for (char **a = assignments; a && *a; a++)
                        (void) manager_apply_assignment(c->config, *a, "set-property", NULL);
        limits_merge(&c->limits, &scratch->limits);
        log_container(c, LOG_INFO, 0, "Properties changed%s", runtime ? " (runtime)" : "");
        bus_container_emit_properties_changed(c, "MemoryMax", "MemoryHigh", "MemorySwapMax", "CPUQuotaPerSecUSec",
                                              "CPUWeight", "TasksMax", "IOWeight", "AllowedCPUs", NULL);

        if (c->live && any_limit && c->scope && c->state != CONTAINER_STARTING) {
                (void) adopt_save_state(c, "running");
                r = scope_set_limits_async(c, &scratch->limits, reply_to);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to call SetUnitProperties: %s", g_strerror(-r));
                return 1;
        }
        return 0;
}

int manager_reload(Manager *m) {
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, m->containers);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                g_autoptr(BerthConfig) cfg = NULL;

                if (c->live || c->transient)
                        continue;
                if (!manager_config_exists(m, c->name)) {
                        g_hash_table_iter_remove(&it);
                        container_free(c);
                        continue;
                }
                if (berth_config_load(m->config_dir, c->name, &cfg, NULL) >= 0) {
                        berth_config_free(c->config);
                        c->config = g_steal_pointer(&cfg);
                        container_limits_from_config(c);
                }
        }
        log_daemon(LOG_INFO, 0, "Reloaded configuration");
        return 0;
}
