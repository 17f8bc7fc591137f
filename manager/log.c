/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthd's own logging: structured journal entries with CONTAINER_NAME=,
 * MESSAGE_ID= for lifecycle events, and OBJECT_SYSTEMD_UNIT= naming the
 * container@ service (journalctl -u trusts that field from root daemons). */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "berthd.h"

static bool log_to_stderr(void) {
        static int cached = -1;
        if (cached < 0) {
                const char *e = getenv("BERTH_LOG_STDERR");
                cached = e && strcmp(e, "1") == 0;
        }
        return cached;
}

static int log_container_va(const Container *c, int priority, int error, const char *message_id, char **fields,
                            const char *format, va_list ap) G_GNUC_PRINTF(6, 0);

int log_container_full(const Container *c, int priority, int error, const char *message_id,
                       const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_container_va(c, priority, error, message_id, NULL, format, ap);
        va_end(ap);
        return r;
}

int log_container_fields(const Container *c, int priority, int error, const char *message_id, char **fields,
                         const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_container_va(c, priority, error, message_id, fields, format, ap);
        va_end(ap);
        return r;
}

static int log_container_va(const Container *c, int priority, int error, const char *message_id, char **fields,
                            const char *format, va_list ap) {
        g_autofree char *text = NULL, *f_msg = NULL, *f_prio = NULL, *f_name = NULL,
                        *f_errno = NULL, *f_id = NULL, *f_unit = NULL, *f_scope = NULL;
        g_autofree struct iovec *iov = NULL;
        size_t n = 0;
        int saved_errno = errno;
        bool error_in_text = false;

        if (error < 0)
                error = -error;

        text = g_strdup_vprintf(format, ap);
        iov = g_new0(struct iovec, 8 + (fields ? g_strv_length(fields) : 0));

        /* Runtime messages often end in the error text already. */
        if (error && g_str_has_suffix(text, strerror(error)))
                error_in_text = true;
        if (c)
                f_msg = error && !error_in_text ? g_strdup_printf("MESSAGE=%s: %s: %s", c->name, text, strerror(error))
                              : g_strdup_printf("MESSAGE=%s: %s", c->name, text);
        else
                f_msg = error && !error_in_text ? g_strdup_printf("MESSAGE=%s: %s", text, strerror(error))
                              : g_strdup_printf("MESSAGE=%s", text);
        iov[n++] = (struct iovec) { f_msg, strlen(f_msg) };

        f_prio = g_strdup_printf("PRIORITY=%d", priority);
        iov[n++] = (struct iovec) { f_prio, strlen(f_prio) };

        if (c) {
                f_name = g_strdup_printf("CONTAINER_NAME=%s", c->name);
                iov[n++] = (struct iovec) { f_name, strlen(f_name) };
                if (c->unit && c->unit[0]) {
                        f_unit = g_strdup_printf("OBJECT_SYSTEMD_UNIT=%s", c->unit);
                        iov[n++] = (struct iovec) { f_unit, strlen(f_unit) };
                }
                if (c->scope && c->scope[0]) {
                        f_scope = g_strdup_printf("CONTAINER_SCOPE=%s", c->scope);
                        iov[n++] = (struct iovec) { f_scope, strlen(f_scope) };
                }
        }
        if (error) {
                f_errno = g_strdup_printf("ERRNO=%d", error);
                iov[n++] = (struct iovec) { f_errno, strlen(f_errno) };
        }
        if (message_id) {
                f_id = g_strdup_printf("MESSAGE_ID=%s", message_id);
                iov[n++] = (struct iovec) { f_id, strlen(f_id) };
        }

        for (char **f = fields; f && *f; f++)
                iov[n++] = (struct iovec) { *f, strlen(*f) };

        if (log_to_stderr() || sd_journal_sendv(iov, n) < 0)
                fprintf(stderr, "<%d>%s\n", priority, f_msg + strlen("MESSAGE="));

        errno = saved_errno;
        return -error;
}
