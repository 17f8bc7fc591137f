/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-container runtime state in /run/berth/<name>/state, and re-adoption of
 * running containers when berthd starts again: the leader is reopened as a
 * pidfd and checked against the saved start time and its cgroup, so a reused
 * PID is never mistaken for the container. Half-made containers (berthd died
 * while starting them) are killed and their state removed. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berthd.h"

#define STATE_GROUP "Container"

int proc_get_starttime(pid_t pid, uint64_t *ret) {
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int) pid);
        g_autofree char *data = NULL;
        g_auto(GStrv) fields = NULL;
        char *p, *end;

        if (!g_file_get_contents(path, &data, NULL, NULL))
                return -ESRCH;
        p = strrchr(data, ')');
        if (!p || p[1] != ' ')
                return -EIO;
        fields = g_strsplit(p + 2, " ", 0);
        if (g_strv_length(fields) < 20)
                return -EIO;
        /* fields[0] is field 3 (state); starttime is field 22. */
        errno = 0;
        *ret = strtoull(fields[19], &end, 10);
        if (errno || *end)
                return -EIO;
        return 0;
}

static char *state_path(Manager *m, const char *name, const char *file) {
        return g_build_filename(m->run_dir, name, file, NULL);
}

int adopt_save_state(Container *c, const char *phase) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *dir = g_build_filename(c->manager->run_dir, c->name, NULL);
        g_autofree char *path = state_path(c->manager, c->name, "state");
        g_autofree char *data = NULL;
        g_autoptr(GError) gerr = NULL;
        gsize len;

        g_key_file_set_string(kf, STATE_GROUP, "Name", c->name);
        g_key_file_set_string(kf, STATE_GROUP, "Phase", phase);
        g_key_file_set_int64(kf, STATE_GROUP, "Pid", c->leader);
        g_key_file_set_uint64(kf, STATE_GROUP, "StartTime", c->leader_starttime);
        g_key_file_set_string(kf, STATE_GROUP, "Scope", c->scope ?: "");
        g_key_file_set_string(kf, STATE_GROUP, "Unit", c->unit ?: "");
        g_key_file_set_boolean(kf, STATE_GROUP, "NetworkAttached", c->net_attached);
        g_key_file_set_string(kf, STATE_GROUP, "Network", c->network ?: "");
        g_key_file_set_string(kf, STATE_GROUP, "RootDirectory", c->root_directory ?: "");
        g_key_file_set_string(kf, STATE_GROUP, "UpperDirectory", c->upper_directory ?: "");
        if (c->lower_directories)
                g_key_file_set_string_list(kf, STATE_GROUP, "LowerDirectories",
                                           (const char *const *) c->lower_directories,
                                           g_strv_length(c->lower_directories));
        g_key_file_set_boolean(kf, STATE_GROUP, "Transient", c->transient);
        g_key_file_set_boolean(kf, STATE_GROUP, "Boot", c->boot);
        g_key_file_set_uint64(kf, STATE_GROUP, "StartTimestamp", c->start_timestamp);
        g_key_file_set_uint64(kf, STATE_GROUP, "KillTimeoutUSec", c->kill_timeout_usec);
        g_key_file_set_uint64(kf, STATE_GROUP, "MemoryMax", c->limits.memory_max);
        g_key_file_set_uint64(kf, STATE_GROUP, "MemoryHigh", c->limits.memory_high);
        g_key_file_set_uint64(kf, STATE_GROUP, "MemorySwapMax", c->limits.memory_swap_max);
        g_key_file_set_uint64(kf, STATE_GROUP, "CPUQuotaPerSecUSec", c->limits.cpu_quota_per_sec_usec);
        g_key_file_set_uint64(kf, STATE_GROUP, "CPUWeight", c->limits.cpu_weight);
        g_key_file_set_uint64(kf, STATE_GROUP, "TasksMax", c->limits.tasks_max);
        g_key_file_set_uint64(kf, STATE_GROUP, "IOWeight", c->limits.io_weight);
        g_key_file_set_string(kf, STATE_GROUP, "AllowedCPUs", c->limits.allowed_cpus ?: "");
        /* The guardrail exceptions this run started with (Exceptions property). */
        for (guint i = 0; c->waivers && i < c->waivers->len; i++) {
                const BerthException *x = c->waivers->pdata[i];
                g_autofree char *group = g_strconcat(BERTH_EXCEPTION_SECTION_PREFIX, x->rule, NULL);
                g_key_file_set_string(kf, group, "Justification", x->justification ?: "");
                g_key_file_set_string(kf, group, "Expires", x->expires ?: "");
                g_key_file_set_uint64(kf, group, "ExpiresUSec", x->expires_usec);
                g_key_file_set_string(kf, group, "File", x->file ?: "");
        }

        if (g_mkdir_with_parents(dir, 0700) < 0)
                return log_container(c, LOG_WARNING, errno, "Failed to create %s", dir);
        data = g_key_file_to_data(kf, &len, NULL);
        if (!g_file_set_contents_full(path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &gerr))
                return log_container(c, LOG_WARNING, EIO, "Failed to write %s: %s", path, gerr->message);
        return 0;
}

/* The [Exception:RULE] groups adopt_save_state() wrote. */
static void adopt_load_waivers(Container *c, GKeyFile *kf) {
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        GPtrArray *w = NULL;

        for (char **g = groups; g && *g; g++) {
                if (!g_str_has_prefix(*g, BERTH_EXCEPTION_SECTION_PREFIX))
                        continue;
                BerthException *x = g_new0(BerthException, 1);
                x->rule = g_strdup(*g + strlen(BERTH_EXCEPTION_SECTION_PREFIX));
                x->justification = g_key_file_get_string(kf, *g, "Justification", NULL);
                x->expires = g_key_file_get_string(kf, *g, "Expires", NULL);
                x->expires_usec = g_key_file_get_uint64(kf, *g, "ExpiresUSec", NULL);
                x->file = g_key_file_get_string(kf, *g, "File", NULL);
                if (!w)
                        w = g_ptr_array_new_with_free_func((GDestroyNotify) berth_exception_free);
                g_ptr_array_add(w, x);
        }
        if (!w)
                return;
        g_free(c->exceptions);
        c->exceptions = berth_waivers_to_string(w);
        if (c->waivers)
                g_ptr_array_unref(c->waivers);
        c->waivers = w;
}

/* Remove a directory tree we own below /run/berth, never crossing into
 * another file system and never following symlinks. */
static int rm_tree_at(int dfd, const char *name, dev_t dev) {
        struct stat st;
        DIR *d;
        int fd, r = 0;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (st.st_dev != dev)
                return -EXDEV;

        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                int k;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                k = rm_tree_at(dirfd(d), de->d_name, dev);
                if (k < 0 && r == 0)
                        r = k;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

void adopt_remove_state(Manager *m, const char *name) {
        struct stat st;
        int dfd, r;

        dfd = open(m->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                if (errno != ENOENT)
                        log_daemon(LOG_WARNING, -errno, "Failed to open %s to remove the state of %s",
                                   m->run_dir, name);
                return;
        }
        if (fstat(dfd, &st) == 0) {
                r = rm_tree_at(dfd, name, st.st_dev);
                if (r < 0)
                        log_daemon(LOG_WARNING, r, "Failed to remove %s/%s", m->run_dir, name);
        }
        close(dfd);
}

/* The stub (PID 1 of the container) leaves its exit status in
 * /run/berth/<name>/exit; the runtime knows its format. */
int adopt_read_exit_status(Container *c, int *ret_code, int *ret_signal) {
        g_autofree char *dir = g_build_filename(c->manager->run_dir, c->name, NULL);
        BerthExit e = {};
        int r;

        r = berth_container_read_exit_file(dir, &e);
        if (r < 0)
                return r;
        *ret_code = e.code;
        *ret_signal = e.signal;
        return 0;
}

static bool cgroup_matches(pid_t pid, const char *scope) {
        g_autofree char *path = g_strdup_printf("/proc/%d/cgroup", (int) pid);
        g_autofree char *data = NULL;

        if (!scope || !*scope || !g_file_get_contents(path, &data, NULL, NULL))
                return false;
        /* The leader sits in the scope itself or below it (Delegate=yes): the
         * scope must be a whole component of one of its cgroup paths. */
        size_t n = strlen(scope);
        for (const char *p = data; (p = strstr(p, scope)); p += n)
                if (p > data && p[-1] == '/' && (p[n] == '/' || p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

static int pidfd_open_checked(pid_t pid, uint64_t starttime) {
        uint64_t st;
        int fd;

        if (pid <= 1)
                return -ESRCH;
        fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return -errno;
        /* Check after opening: the pidfd pins the process, so a match now is final. */
        if (proc_get_starttime(pid, &st) < 0 || st != starttime) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

static void cleanup_half_made(Manager *m, const char *name, GKeyFile *kf) {
        pid_t pid = kf ? (pid_t) g_key_file_get_int64(kf, STATE_GROUP, "Pid", NULL) : 0;
        uint64_t starttime = kf ? g_key_file_get_uint64(kf, STATE_GROUP, "StartTime", NULL) : 0;
        g_autofree char *scope = kf ? g_key_file_get_string(kf, STATE_GROUP, "Scope", NULL) : NULL;
        int fd;

        fd = pid > 0 ? pidfd_open_checked(pid, starttime) : -1;
        if (fd >= 0) {
                syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
                close(fd);
        }
        if (scope && *scope)
                (void) scope_stop_unit(m, scope);
        if (kf && g_key_file_get_boolean(kf, STATE_GROUP, "NetworkAttached", NULL)) {
                g_autofree char *network = g_key_file_get_string(kf, STATE_GROUP, "Network", NULL);
                container_net_teardown(m, name, network);
        }
        adopt_remove_state(m, name);
}

static void adopt_one(Manager *m, const char *name) {
        g_autofree char *path = state_path(m, name, "state");
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) gerr = NULL;
        g_autofree char *phase = NULL;
        g_autoptr(BerthConfig) cfg = NULL;
        Container *c;
        pid_t pid;
        uint64_t starttime;
        int fd;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
                log_daemon(LOG_NOTICE, 0, "Removing %s/%s: no readable state (%s)", m->run_dir, name, gerr->message);
                cleanup_half_made(m, name, NULL);
                return;
        }
        phase = g_key_file_get_string(kf, STATE_GROUP, "Phase", NULL);
        if (!phase || strcmp(phase, "running") != 0) {
                log_daemon(LOG_NOTICE, 0, "Cleaning up half-made container %s", name);
                cleanup_half_made(m, name, kf);
                return;
        }

        c = container_new(m, name);
        c->leader = pid = (pid_t) g_key_file_get_int64(kf, STATE_GROUP, "Pid", NULL);
        c->leader_starttime = starttime = g_key_file_get_uint64(kf, STATE_GROUP, "StartTime", NULL);
        c->scope = g_key_file_get_string(kf, STATE_GROUP, "Scope", NULL);
        c->unit = g_key_file_get_string(kf, STATE_GROUP, "Unit", NULL);
        c->net_attached = g_key_file_get_boolean(kf, STATE_GROUP, "NetworkAttached", NULL);
        c->network = g_key_file_get_string(kf, STATE_GROUP, "Network", NULL);
        c->root_directory = g_key_file_get_string(kf, STATE_GROUP, "RootDirectory", NULL);
        c->upper_directory = g_key_file_get_string(kf, STATE_GROUP, "UpperDirectory", NULL);
        c->lower_directories = g_key_file_get_string_list(kf, STATE_GROUP, "LowerDirectories", NULL, NULL);
        c->transient = g_key_file_get_boolean(kf, STATE_GROUP, "Transient", NULL);
        c->boot = g_key_file_get_boolean(kf, STATE_GROUP, "Boot", NULL);
        c->start_timestamp = g_key_file_get_uint64(kf, STATE_GROUP, "StartTimestamp", NULL);
        c->kill_timeout_usec = g_key_file_get_uint64(kf, STATE_GROUP, "KillTimeoutUSec", NULL);
        if (c->kill_timeout_usec == 0)
                c->kill_timeout_usec = BERTH_DEFAULT_KILL_TIMEOUT_USEC;
        c->limits.memory_max = g_key_file_get_uint64(kf, STATE_GROUP, "MemoryMax", NULL);
        c->limits.memory_high = g_key_file_get_uint64(kf, STATE_GROUP, "MemoryHigh", NULL);
        c->limits.memory_swap_max = g_key_file_get_uint64(kf, STATE_GROUP, "MemorySwapMax", NULL);
        c->limits.cpu_quota_per_sec_usec = g_key_file_get_uint64(kf, STATE_GROUP, "CPUQuotaPerSecUSec", NULL);
        c->limits.cpu_weight = g_key_file_get_uint64(kf, STATE_GROUP, "CPUWeight", NULL);
        c->limits.tasks_max = g_key_file_get_uint64(kf, STATE_GROUP, "TasksMax", NULL);
        c->limits.io_weight = g_key_file_get_uint64(kf, STATE_GROUP, "IOWeight", NULL);
        c->limits.allowed_cpus = g_key_file_get_string(kf, STATE_GROUP, "AllowedCPUs", NULL);
        if (c->limits.allowed_cpus && !*c->limits.allowed_cpus)
                g_clear_pointer(&c->limits.allowed_cpus, g_free);

        if (!c->transient && berth_config_load(m->config_dir, name, &cfg, NULL) >= 0)
                c->config = g_steal_pointer(&cfg);
        adopt_load_waivers(c, kf);

        fd = pidfd_open_checked(pid, starttime);
        if (fd >= 0 && !cgroup_matches(pid, c->scope)) {
                close(fd);
                fd = -ESRCH;
        }
        if (fd < 0) {
                int code = -1, sig = 0;

                /* It ended while berthd was away. */
                if (adopt_read_exit_status(c, &code, &sig) >= 0) {
                        c->exit_code = code;
                        c->exit_signal = sig;
                        log_container_full(c, code == 0 ? LOG_INFO : LOG_WARNING, 0,
                                           code == 0 ? BERTH_MESSAGE_STOPPED : BERTH_MESSAGE_FAILED,
                                           "Container exited with status %d while berthd was not running", code);
                        c->state = code == 0 ? CONTAINER_EXITED : CONTAINER_FAILED;
                        g_free(c->state_reason);
                        c->state_reason = g_strdup_printf("exit-code=%d", code);
                } else {
                        log_container_full(c, LOG_WARNING, 0, BERTH_MESSAGE_FAILED,
                                           "Container vanished while berthd was not running");
                        c->state = CONTAINER_FAILED;
                        g_free(c->state_reason);
                        c->state_reason = g_strdup("vanished");
                }
                if (c->net_attached)
                        container_net_teardown(m, name, c->network);
                c->net_attached = false;
                adopt_remove_state(m, name);
                if (c->transient || !c->config) {
                        g_hash_table_remove(m->containers, c->name);
                        container_free(c);
                }
                return;
        }

        c->pidfd = fd;
        c->adopted = true;
        container_adopted_running(c);
        log_container_full(c, LOG_INFO, 0, BERTH_MESSAGE_ADOPTED, "Re-adopted running container (PID %d, %s)",
                           (int) pid, c->scope);
}

int adopt_scan(Manager *m) {
        DIR *d;
        int n = 0;

        d = opendir(m->run_dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' || berth_name_validate(de->d_name) < 0)
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (manager_get_container(m, de->d_name))
                        continue;
                adopt_one(m, de->d_name);
                n++;
        }
        closedir(d);
        return n;
}
