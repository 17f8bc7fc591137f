/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl logs: a container's story from the local journal. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "berthctl.h"
#include "config.h"

static void sd_journal_closep_(sd_journal **j) {
        if (*j)
                sd_journal_close(*j);
}

/* Parse --since: absolute local time, "today", "yesterday", "-5min",
 * "5min ago", "@EPOCH". Returns CLOCK_REALTIME usec. */
static int parse_since(const char *s, uint64_t *ret) {
        uint64_t now = (uint64_t) g_get_real_time(), span;
        struct tm tm;
        time_t t = time(NULL);

        if (s[0] == '@') {
                char *end;
                errno = 0;
                double v = strtod(s + 1, &end);
                if (errno || *end || v < 0)
                        return -EINVAL;
                *ret = (uint64_t) (v * 1e6);
                return 0;
        }
        if (s[0] == '-' || g_str_has_suffix(s, " ago")) {
                g_autofree char *x = g_strdup(s[0] == '-' ? s + 1 : s);
                if (g_str_has_suffix(x, " ago"))
                        x[strlen(x) - 4] = 0;
                if (berth_parse_timespan(g_strstrip(x), &span) < 0)
                        return -EINVAL;
                *ret = now > span ? now - span : 0;
                return 0;
        }
        if (strcmp(s, "now") == 0) {
                *ret = now;
                return 0;
        }
        localtime_r(&t, &tm);
        if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                if (strcmp(s, "yesterday") == 0)
                        tm.tm_mday--;
                tm.tm_isdst = -1;
                *ret = (uint64_t) mktime(&tm) * 1000000;
                return 0;
        }
        static const char *const date_formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d" };
        static const char *const time_formats[] = { "%H:%M:%S", "%H:%M" };
        for (size_t i = 0; i < G_N_ELEMENTS(date_formats); i++) {
                struct tm x = {};
                const char *end = strptime(s, date_formats[i], &x);
                if (end && !*end) {
                        x.tm_isdst = -1;
                        *ret = (uint64_t) mktime(&x) * 1000000;
                        return 0;
                }
        }
        for (size_t i = 0; i < G_N_ELEMENTS(time_formats); i++) {
                struct tm x = tm;
                const char *end = strptime(s, time_formats[i], &x);
                if (end && !*end) {
                        x.tm_isdst = -1;
                        *ret = (uint64_t) mktime(&x) * 1000000;
                        return 0;
                }
        }
        return -EINVAL;
}

static int add_matches(sd_journal *j, const char *name) {
        g_autofree char *m1 = g_strdup_printf("CONTAINER_NAME=%s", name);
        g_autofree char *m2 = g_strdup_printf("_SYSTEMD_UNIT=container@%s.service", name);
        g_autofree char *m3 = g_strdup_printf("_SYSTEMD_UNIT=berth-%s.scope", name);
        g_autofree char *m4 = g_strdup_printf("SYSLOG_IDENTIFIER=%s", name);
        int r;

        /* berthd's own messages about it */
        if ((r = sd_journal_add_match(j, m1, 0)) < 0)
                return r;
        /* its unit and scope */
        if ((r = sd_journal_add_disjunction(j)) < 0 || (r = sd_journal_add_match(j, m2, 0)) < 0 ||
            (r = sd_journal_add_match(j, m3, 0)) < 0)
                return r;
        /* its stdout/stderr: journal streams with the container's name as
         * identifier. journald resolves the unit of a stream's process
         * lazily, so lines of a short-lived payload may carry no
         * _SYSTEMD_UNIT at all: match on the transport instead. */
        if ((r = sd_journal_add_disjunction(j)) < 0 || (r = sd_journal_add_match(j, m4, 0)) < 0 ||
            (r = sd_journal_add_match(j, "_TRANSPORT=stdout", 0)) < 0)
                return r;
        return 0;
}

static char *get_field(sd_journal *j, const char *field) {
        const void *data;
        size_t len, fl = strlen(field);
        if (sd_journal_get_data(j, field, &data, &len) < 0 || len <= fl + 1)
                return NULL;
        return g_strndup((const char *) data + fl + 1, len - fl - 1);
}

static void print_entry(sd_journal *j, const char *mode) {
        if (strcmp(mode, "json") == 0 || strcmp(mode, "json-pretty") == 0) {
                _cleanup_json_ JsonValue *o = json_object();
                const void *data;
                size_t len;
                char *cursor = NULL;
                uint64_t rt = 0, mono = 0;
                sd_id128_t boot;
                if (sd_journal_get_cursor(j, &cursor) >= 0) {
                        json_set(o, "__CURSOR", json_string(cursor));
                        free(cursor);
                }
                if (sd_journal_get_realtime_usec(j, &rt) >= 0) {
                        g_autofree char *s = g_strdup_printf("%" PRIu64, rt);
                        json_set(o, "__REALTIME_TIMESTAMP", json_string(s));
                }
                if (sd_journal_get_monotonic_usec(j, &mono, &boot) >= 0) {
                        g_autofree char *s = g_strdup_printf("%" PRIu64, mono);
                        json_set(o, "__MONOTONIC_TIMESTAMP", json_string(s));
                }
                SD_JOURNAL_FOREACH_DATA(j, data, len) {
                        const char *eq = memchr(data, '=', len);
                        if (!eq)
                                continue;
                        g_autofree char *k = g_strndup(data, (const char *) eq - (const char *) data);
                        g_autofree char *v = g_strndup(eq + 1, len - (size_t) (eq + 1 - (const char *) data));
                        json_set(o, k, json_string(v));
                }
                json_print(stdout, o, strcmp(mode, "json") == 0 ? JSON_SHORT : JSON_PRETTY);
                return;
        }

        g_autofree char *msg = get_field(j, "MESSAGE");
        if (strcmp(mode, "cat") == 0) {
                printf("%s\n", msg ? msg : "");
                return;
        }
        g_autofree char *ident = get_field(j, "SYSLOG_IDENTIFIER");
        g_autofree char *comm = ident ? NULL : get_field(j, "_COMM");
        g_autofree char *pid = get_field(j, "_PID");
        g_autofree char *host = get_field(j, "_HOSTNAME");
        g_autofree char *prio = get_field(j, "PRIORITY");
        uint64_t rt = 0;
        char ts[64] = "";
        (void) sd_journal_get_realtime_usec(j, &rt);
        time_t t = (time_t) (rt / 1000000);
        struct tm tm;
        if (localtime_r(&t, &tm))
                strftime(ts, sizeof(ts), "%b %d %H:%M:%S", &tm);
        bool hl = prio && atoi(prio) <= 3;
        printf("%s %s %s%s%s%s: %s%s%s\n", ts, host ? host : "localhost", ident ? ident : (comm ? comm : "unknown"),
               pid ? "[" : "", pid ? pid : "", pid ? "]" : "", hl ? ansi_red() : "", msg ? msg : "",
               hl ? ansi_normal() : "");
}

int show_journal(const char *name, int64_t lines, bool follow, const char *since, const char *output) {
        __attribute__((cleanup(sd_journal_closep_))) sd_journal *j = NULL;
        const char *mode = output ? output : "short";
        uint64_t since_usec = 0;
        int r;

        if (since && parse_since(since, &since_usec) < 0) {
                fprintf(stderr, "Invalid --since= time: %s\n", since);
                return EXIT_INVALID_ARGS;
        }
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0) {
                fprintf(stderr, "Failed to open the journal: %s\n", strerror(-r));
                return EXIT_FAIL;
        }
        r = add_matches(j, name);
        if (r < 0) {
                fprintf(stderr, "Failed to add journal matches: %s\n", strerror(-r));
                return EXIT_FAIL;
        }

        bool have_current = false;
        if (lines > 0) {
                /* The last N entries (at or after --since): step back from the
                 * tail; the entry we stop at is printed first. */
                int64_t k = 0;
                (void) sd_journal_seek_tail(j);
                while (k < lines && (r = sd_journal_previous(j)) > 0) {
                        uint64_t rt;
                        if (since_usec && sd_journal_get_realtime_usec(j, &rt) >= 0 && rt < since_usec) {
                                if (k > 0)
                                        (void) sd_journal_next(j);
                                break;
                        }
                        k++;
                }
                have_current = k > 0;
                if (k == 0) {
                        (void) sd_journal_seek_tail(j);
                        (void) sd_journal_previous(j);
                }
        } else if (lines == 0) {
                (void) sd_journal_seek_tail(j);
                (void) sd_journal_previous(j);
        } else if (since_usec)
                (void) sd_journal_seek_realtime_usec(j, since_usec);
        else
                (void) sd_journal_seek_head(j);

        for (;;) {
                if (have_current) {
                        print_entry(j, mode);
                        have_current = false;
                }
                for (;;) {
                        r = sd_journal_next(j);
                        if (r < 0) {
                                fprintf(stderr, "Failed to read the journal: %s\n", strerror(-r));
                                return EXIT_FAIL;
                        }
                        if (r == 0)
                                break;
                        print_entry(j, mode);
                }
                if (!follow)
                        break;
                fflush(stdout);
                r = sd_journal_wait(j, UINT64_MAX);
                if (r < 0) {
                        fprintf(stderr, "Failed to wait for the journal: %s\n", strerror(-r));
                        return EXIT_FAIL;
                }
        }
        return EXIT_OK;
}

int verb_logs(int argc, char **argv) {
        if (arg.host) {
                fprintf(stderr, "logs reads the local journal; run it on the host (ssh %s berthctl logs ...).\n",
                        arg.host);
                return EXIT_INVALID_ARGS;
        }
        if (berth_name_validate(argv[1]) < 0) {
                fprintf(stderr, "Invalid container name: %s\n", argv[1]);
                return EXIT_INVALID_ARGS;
        }
        int64_t lines = arg.lines;
        if (lines < 0 && arg.follow && !arg.since)
                lines = 10;
        if (!arg.follow && (!arg.output || strncmp(arg.output, "json", 4) != 0))
                pager_open();
        return show_journal(argv[1], lines, arg.follow, arg.since, arg.output);
}

int journal_open_for(const char *name, sd_journal **ret) {
        sd_journal *j = NULL;
        int r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0)
                return r;
        /* Only the container's own output: its journal streams carry its name
         * as identifier (see add_matches() for why not its unit). */
        g_autofree char *m = g_strdup_printf("SYSLOG_IDENTIFIER=%s", name);
        r = sd_journal_add_match(j, m, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, "_TRANSPORT=stdout", 0);
        /* From now on (not seek_tail: the first next() after it jumps to the
         * newest entry and would skip lines that arrived meanwhile). */
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, (uint64_t) g_get_real_time());
        /* Watch for changes from now on, so that sd_journal_wait() sees them. */
        if (r >= 0)
                r = sd_journal_get_fd(j);
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }
        *ret = j;
        return 0;
}

int journal_print_new(sd_journal *j) {
        int r, n = 0;
        while ((r = sd_journal_next(j)) > 0) {
                print_entry(j, "cat");
                n++;
        }
        fflush(stdout);
        return r < 0 ? r : n;
}

void journal_closep(sd_journal **j) {
        if (*j)
                sd_journal_close(*j);
}
