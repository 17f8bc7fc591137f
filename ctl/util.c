/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "berthctl.h"

/* ---- colors --------------------------------------------------------------- */

static int colors_cached = -1;

bool colors_enabled(void) {
        if (colors_cached < 0) {
                const char *e = getenv("SYSTEMD_COLORS");
                const char *t = getenv("TERM");
                if (getenv("NO_COLOR"))
                        colors_cached = 0;
                else if (e && (strcmp(e, "0") == 0 || strcmp(e, "false") == 0 || strcmp(e, "no") == 0))
                        colors_cached = 0;
                else if (e && (strcmp(e, "1") == 0 || strcmp(e, "true") == 0 || strcmp(e, "yes") == 0))
                        colors_cached = 1;
                else
                        colors_cached = isatty(STDOUT_FILENO) && !(t && strcmp(t, "dumb") == 0);
        }
        return colors_cached;
}

const char *ansi_highlight(void) { return colors_enabled() ? "\033[1m" : ""; }
const char *ansi_red(void) { return colors_enabled() ? "\033[1;31m" : ""; }
const char *ansi_green(void) { return colors_enabled() ? "\033[1;32m" : ""; }
const char *ansi_grey(void) { return colors_enabled() ? "\033[0;38;5;245m" : ""; }
const char *ansi_normal(void) { return colors_enabled() ? "\033[0m" : ""; }

const char *state_color(const char *state) {
        if (!state)
                return "";
        if (strcmp(state, "running") == 0)
                return ansi_green();
        if (strcmp(state, "failed") == 0)
                return ansi_red();
        return "";
}

/* ---- pager ---------------------------------------------------------------- */

static pid_t pager_pid = 0;
static int saved_stdout = -1;

void pager_open(void) {
        const char *pager;
        int fds[2];

        if (arg.no_pager || pager_pid > 0 || !isatty(STDOUT_FILENO))
                return;
        pager = getenv("BERTH_PAGER");
        if (!pager)
                pager = getenv("SYSTEMD_PAGER");
        if (!pager)
                pager = getenv("PAGER");
        if (pager && (!*pager || strcmp(pager, "cat") == 0))
                return;
        if (!pager)
                pager = "less";

        /* Colors are decided before stdout becomes a pipe. */
        (void) colors_enabled();
        fflush(stdout);
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;
        pid_t pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                if (dup2(fds[0], STDIN_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                setenv("LESS", "FRSXMK", 0);
                setenv("LESSCHARSET", "utf-8", 0);
                execlp("/bin/sh", "sh", "-c", pager, (char *) NULL);
                /* No pager: copy through. */
                execlp("cat", "cat", (char *) NULL);
                _exit(EXIT_FAILURE);
        }
        saved_stdout = dup(STDOUT_FILENO);
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                close(fds[0]);
                close(fds[1]);
                saved_stdout = safe_close(saved_stdout);
                (void) kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                return;
        }
        close(fds[0]);
        close(fds[1]);
        pager_pid = pid;
        atexit(pager_close);
}

void pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        /* EOF for the pager, then wait for the user to leave it. */
        if (saved_stdout >= 0) {
                dup2(saved_stdout, STDOUT_FILENO);
                close(saved_stdout);
                saved_stdout = -1;
        } else
                close(STDOUT_FILENO);
        (void) kill(pager_pid, SIGCONT);
        while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}

/* ---- bus ------------------------------------------------------------------ */

int bus_connect(sd_bus **ret) {
        int r;

        if (arg.host)
                r = sd_bus_open_system_remote(ret, arg.host);
        else
                r = sd_bus_open_system(ret);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the system bus%s%s: %s\n",
                        arg.host ? " of " : "", arg.host ? arg.host : "", strerror(-r));
                return r;
        }
        return 0;
}

int bus_error_to_exit_status(const sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e)) {
                if (sd_bus_error_has_names(e, "org.berth.berth1.NoSuchContainer",
                                           SD_BUS_ERROR_ACCESS_DENIED,
                                           "org.freedesktop.systemd1.NoSuchUnit",
                                           SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                        return EXIT_NO_SUCH;
                if (sd_bus_error_has_names(e, "org.berth.berth1.ConfigError",
                                           "org.freedesktop.systemd1.UnitMasked"))
                        return EXIT_NOT_CONFIGURED;
                if (sd_bus_error_has_name(e, "org.berth.berth1.NotRunning"))
                        return EXIT_NOT_RUNNING;
                if (sd_bus_error_has_name(e, SD_BUS_ERROR_INVALID_ARGS))
                        return EXIT_INVALID_ARGS;
                return EXIT_FAIL;
        }
        if (r == -ENOENT || r == -ENXIO)
                return EXIT_NO_SUCH;
        if (r == -EACCES || r == -EPERM)
                return EXIT_NO_SUCH;
        return EXIT_FAIL;
}

int bus_log_error(const char *what, const sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e) && e->message)
                fprintf(stderr, "%s: %s\n", what, e->message);
        else
                fprintf(stderr, "%s: %s\n", what, strerror(r < 0 ? -r : r));
        return bus_error_to_exit_status(e, r);
}

int bus_get_container(sd_bus *bus, const char *name, char **ret_path, sd_bus_error *error) {
        sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_BUS_PATH, BERTH_MANAGER_IFACE,
                               "GetContainer", error, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                *ret_path = g_strdup(path);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 0;
}

/* The next element of the container m is in, as JSON: 1, or 0 at its end. */
static int bus_message_next_json(sd_bus_message *m, JsonValue **ret) {
        int r = sd_bus_message_at_end(m, false);
        if (r < 0)
                return r;
        if (r > 0)
                return 0;
        return bus_message_to_json(m, ret);
}

int bus_message_to_json(sd_bus_message *m, JsonValue **ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r < 0 ? r : -ENODATA;

        switch (type) {
        case SD_BUS_TYPE_ARRAY: {
                bool dict = contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN;
                _cleanup_json_ JsonValue *v = dict ? json_object() : json_array();
                g_autofree char *entry = dict ? g_strndup(contents + 1, strlen(contents) - 2) : NULL;
                r = sd_bus_message_enter_container(m, type, contents);
                if (r < 0)
                        return r;
                for (;;) {
                        if (dict) {
                                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, entry);
                                if (r < 0)
                                        return r;
                                if (r == 0)
                                        break;
                                JsonValue *k = NULL, *val = NULL;
                                r = bus_message_to_json(m, &k);
                                if (r < 0)
                                        return r;
                                r = bus_message_to_json(m, &val);
                                if (r < 0) {
                                        json_free(k);
                                        return r;
                                }
                                g_autofree char *ks = json_to_text(k);
                                json_free(k);
                                json_set(v, ks, val);
                                r = sd_bus_message_exit_container(m);
                                if (r < 0)
                                        return r;
                        } else {
                                JsonValue *item = NULL;
                                r = bus_message_next_json(m, &item);
                                if (r < 0)
                                        return r;
                                if (r == 0)
                                        break;
                                json_append(v, item);
                        }
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                *ret = v;
                v = NULL;
                return 1;
        }
        case SD_BUS_TYPE_STRUCT:
        case SD_BUS_TYPE_VARIANT: {
                _cleanup_json_ JsonValue *v = type == SD_BUS_TYPE_STRUCT ? json_array() : NULL;
                r = sd_bus_message_enter_container(m, type, contents);
                if (r < 0)
                        return r;
                for (;;) {
                        JsonValue *item = NULL;
                        r = bus_message_next_json(m, &item);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;
                        if (v)
                                json_append(v, item);
                        else
                                v = item;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                *ret = v ? v : json_null();
                v = NULL;
                return 1;
        }
        default: {
                union {
                        uint8_t u8;
                        int b;
                        int16_t i16;
                        uint16_t u16;
                        int32_t i32;
                        uint32_t u32;
                        int64_t i64;
                        uint64_t u64;
                        double d;
                        const char *s;
                        int fd;
                } u;
                r = sd_bus_message_read_basic(m, type, &u);
                if (r < 0)
                        return r;
                switch (type) {
                case SD_BUS_TYPE_BYTE: *ret = json_uint(u.u8); break;
                case SD_BUS_TYPE_BOOLEAN: *ret = json_bool(u.b); break;
                case SD_BUS_TYPE_INT16: *ret = json_int(u.i16); break;
                case SD_BUS_TYPE_UINT16: *ret = json_uint(u.u16); break;
                case SD_BUS_TYPE_INT32: *ret = json_int(u.i32); break;
                case SD_BUS_TYPE_UINT32: *ret = json_uint(u.u32); break;
                case SD_BUS_TYPE_INT64: *ret = json_int(u.i64); break;
                case SD_BUS_TYPE_UINT64: *ret = json_uint(u.u64); break;
                case SD_BUS_TYPE_DOUBLE: *ret = json_double(u.d); break;
                case SD_BUS_TYPE_UNIX_FD: *ret = json_int(u.fd); break;
                default: *ret = json_string(u.s); break;
                }
                return 1;
        }
        }
}

int bus_get_all_properties(sd_bus *bus, const char *path, const char *iface, JsonValue **ret,
                           sd_bus_error *error) {
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, BERTH_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               error, &reply, "s", iface);
        if (r < 0)
                return r;
        r = bus_message_to_json(reply, ret);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 0;
}

/* ---- properties ---------------------------------------------------------- */

const char *prop_str(const JsonValue *props, const char *name) {
        return json_get_string(prop_get(props, name));
}

uint64_t prop_u64(const JsonValue *props, const char *name, uint64_t def) {
        uint64_t u;
        return json_get_number(prop_get(props, name), &u, NULL) ? u : def;
}

int64_t prop_i64(const JsonValue *props, const char *name, int64_t def) {
        int64_t i;
        return json_get_number(prop_get(props, name), NULL, &i) ? i : def;
}

bool prop_bool(const JsonValue *props, const char *name) {
        bool b = false;
        (void) json_get_boolean(prop_get(props, name), &b);
        return b;
}

/* ---- formatting ----------------------------------------------------------- */

char *format_bytes(uint64_t b) {
        static const char suffix[] = "KMGTPE";
        if (b == UINT64_MAX)
                return g_strdup("infinity");
        if (b < 1024)
                return g_strdup_printf("%" PRIu64 "B", b);
        double v = (double) b;
        int i = -1;
        while (v >= 1024.0 && i < 5) {
                v /= 1024.0;
                i++;
        }
        if (v < 10.0 && v != (double) (uint64_t) v)
                return g_strdup_printf("%.1f%c", v, suffix[i]);
        return g_strdup_printf("%.0f%c", v, suffix[i]);
}

char *format_limit(uint64_t b, bool bytes) {
        if (b == UINT64_MAX)
                return g_strdup("-");
        if (b == UINT64_MAX - 1)
                return g_strdup("infinity");
        return bytes ? format_bytes(b) : g_strdup_printf("%" PRIu64, b);
}

char *format_timestamp(uint64_t usec) {
        char buf[64];
        struct tm tm;
        time_t t;

        if (usec == 0 || usec == UINT64_MAX)
                return g_strdup("n/a");
        t = (time_t) (usec / 1000000);
        if (!localtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                return g_strdup("n/a");
        return g_strdup(buf);
}

char *format_timespan(uint64_t usec) {
        static const struct { const char *suffix; uint64_t usec; } table[] = {
                { "d", 86400ULL * 1000000 }, { "h", 3600ULL * 1000000 }, { "min", 60ULL * 1000000 },
                { "s", 1000000 }, { "ms", 1000 }, { "us", 1 },
        };
        GString *s = g_string_new(NULL);
        int parts = 0;

        if (usec == UINT64_MAX)
                return g_string_free(s, TRUE), g_strdup("infinity");
        if (usec == 0)
                return g_string_free(s, TRUE), g_strdup("0s");
        for (size_t i = 0; i < G_N_ELEMENTS(table) && usec > 0 && parts < 2; i++) {
                if (usec < table[i].usec)
                        continue;
                /* Below a second, one unit is enough. */
                if (parts > 0 && table[i].usec < 1000000)
                        break;
                g_string_append_printf(s, "%s%" PRIu64 "%s", parts ? " " : "", usec / table[i].usec, table[i].suffix);
                usec %= table[i].usec;
                parts++;
        }
        return g_string_free(s, FALSE);
}

int parse_signal(const char *s, int *ret) {
        char *end;
        const char *n = s;

        errno = 0;
        long v = strtol(s, &end, 10);
        if (*s && !*end && errno == 0) {
                if (v < 1 || v > SIGRTMAX)
                        return -EINVAL;
                *ret = (int) v;
                return 0;
        }
        if (g_ascii_strncasecmp(n, "SIG", 3) == 0)
                n += 3;
        for (int i = 1; i < SIGRTMIN; i++) {
                const char *a = sigabbrev_np(i);
                if (a && g_ascii_strcasecmp(a, n) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        if (g_ascii_strncasecmp(n, "RTMIN", 5) == 0 || g_ascii_strncasecmp(n, "RTMAX", 5) == 0) {
                bool max = g_ascii_toupper(n[2]) == 'M' && g_ascii_toupper(n[3]) == 'A';
                long off = 0;
                if (n[5]) {
                        errno = 0;
                        off = strtol(n + 5, &end, 10);
                        if (*end || errno)
                                return -EINVAL;
                }
                int sig = max ? SIGRTMAX + (int) off : SIGRTMIN + (int) off;
                if (sig < SIGRTMIN || sig > SIGRTMAX)
                        return -EINVAL;
                *ret = sig;
                return 0;
        }
        return -EINVAL;
}

const char *signal_name(int sig) {
        static char buf[16];
        const char *a = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;
        if (a)
                snprintf(buf, sizeof(buf), "SIG%s", a);
        else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
                snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
        else
                snprintf(buf, sizeof(buf), "%d", sig);
        return buf;
}

/* ---- tables --------------------------------------------------------------- */

struct Table {
        size_t n_columns;
        char **headers;
        GPtrArray *rows; /* char** of n_columns */
};

Table *table_new(size_t n_columns, const char *const *headers) {
        Table *t = g_new0(Table, 1);
        t->n_columns = n_columns;
        t->headers = g_new0(char *, n_columns + 1);
        for (size_t i = 0; i < n_columns; i++)
                t->headers[i] = g_strdup(headers[i]);
        t->rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
        return t;
}

void table_add_row(Table *t, const char *const *cells) {
        char **row = g_new0(char *, t->n_columns + 1);
        for (size_t i = 0; i < t->n_columns; i++)
                row[i] = g_strdup(cells[i] ? cells[i] : "-");
        g_ptr_array_add(t->rows, row);
}

size_t table_rows(const Table *t) {
        return t->rows->len;
}

void table_print(Table *t, FILE *f) {
        g_autofree size_t *w = g_new0(size_t, t->n_columns);

        for (size_t c = 0; c < t->n_columns; c++) {
                if (!arg.no_legend)
                        w[c] = g_utf8_strlen(t->headers[c], -1);
                for (guint r = 0; r < t->rows->len; r++) {
                        char **row = t->rows->pdata[r];
                        w[c] = MAX(w[c], (size_t) g_utf8_strlen(row[c], -1));
                }
        }
        if (!arg.no_legend) {
                fputs(ansi_highlight(), f);
                for (size_t c = 0; c < t->n_columns; c++) {
                        if (c + 1 < t->n_columns)
                                fprintf(f, "%-*s ", (int) w[c], t->headers[c]);
                        else
                                fputs(t->headers[c], f);
                }
                fprintf(f, "%s\n", ansi_normal());
        }
        for (guint r = 0; r < t->rows->len; r++) {
                char **row = t->rows->pdata[r];
                for (size_t c = 0; c < t->n_columns; c++) {
                        size_t len = g_utf8_strlen(row[c], -1);
                        const char *color = c == 1 ? state_color(row[c]) : "";
                        fprintf(f, "%s%s%s", color, row[c], *color ? ansi_normal() : "");
                        if (c + 1 < t->n_columns)
                                fprintf(f, "%*s", (int) (w[c] - len + 1), "");
                }
                fputc('\n', f);
        }
}

void table_free(Table *t) {
        if (!t)
                return;
        g_strfreev(t->headers);
        g_ptr_array_unref(t->rows);
        g_free(t);
}

/* ---- files ---------------------------------------------------------------- */

int read_full(const char *path, char **ret, size_t *ret_size) {
        g_autofree char *data = NULL;
        gsize len = 0;
        g_autoptr(GError) e = NULL;

        if (!g_file_get_contents(path, &data, &len, &e))
                return e->domain == G_FILE_ERROR && e->code == G_FILE_ERROR_NOENT ? -ENOENT
                     : e->domain == G_FILE_ERROR && e->code == G_FILE_ERROR_ACCES ? -EACCES
                     : -EIO;
        if (ret_size)
                *ret_size = len;
        *ret = g_steal_pointer(&data);
        return 0;
}

int read_one_line(const char *path, char **ret) {
        char *s = NULL;
        int r = read_full(path, &s, NULL);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = 0;
        *ret = s;
        return 0;
}

int cgroup_dir_of_pid(pid_t pid, char **ret_dir, char **ret_path) {
        g_autofree char *p = g_strdup_printf("/proc/%d/cgroup", (int) pid);
        g_autofree char *data = NULL;
        const char *base;
        int r;

        r = read_full(p, &data, NULL);
        if (r < 0)
                return r;
        char **lines = g_strsplit(data, "\n", -1);
        char *cg = NULL;
        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, "0::")) {
                        cg = g_strdup(*l + 3);
                        break;
                }
        g_strfreev(lines);
        if (!cg)
                return -ENOMEDIUM;
        if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
                base = "/sys/fs/cgroup";
        else if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
                base = "/sys/fs/cgroup/unified";
        else
                base = "/sys/fs/cgroup";
        if (ret_dir)
                *ret_dir = g_strconcat(base, strcmp(cg, "/") == 0 ? "" : cg, NULL);
        if (ret_path)
                *ret_path = cg;
        else
                g_free(cg);
        return 0;
}

char *shell_join(char **argv) {
        GString *s = g_string_new(NULL);
        for (char **a = argv; a && *a; a++) {
                g_autofree char *q = NULL;
                bool plain = **a != 0;
                for (const char *c = *a; *c; c++)
                        if (!g_ascii_isalnum(*c) && !strchr("-_./=:,+@%", *c)) {
                                plain = false;
                                break;
                        }
                if (a != argv)
                        g_string_append_c(s, ' ');
                if (plain)
                        g_string_append(s, *a);
                else {
                        q = g_shell_quote(*a);
                        g_string_append(s, q);
                }
        }
        return g_string_free(s, FALSE);
}
