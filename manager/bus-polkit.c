/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Access control for mutating calls: root is allowed; anybody else is asked
 * about through polkit's CheckAuthorization, asynchronously, and the call is
 * carried out only once polkit said yes. A refusal (or polkit being absent)
 * answers org.freedesktop.DBus.Error.AccessDenied and nothing happens. */

#include <errno.h>

#include "berthd.h"

typedef struct AuthCall {
        Manager *manager;
        sd_bus_message *msg;
        bus_authorized_t cont;
} AuthCall;

static void auth_call_free(AuthCall *a) {
        sd_bus_message_unref(a->msg);
        g_free(a);
}

static void reply_result(sd_bus_message *msg, int r, sd_bus_error *error) {
        if (r >= 0)
                return;
        if (sd_bus_error_is_set(error))
                sd_bus_reply_method_error(msg, error);
        else
                sd_bus_reply_method_errno(msg, r, NULL);
}

static int on_check_authorization(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AuthCall *a = userdata;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        if (e)
                log_daemon(LOG_WARNING, sd_bus_message_get_errno(reply),
                           "polkit CheckAuthorization failed, denying: %s", e->message ?: e->name);
        else {
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        log_daemon(LOG_WARNING, r, "Failed to parse polkit reply, denying");
                        authorized = 0;
                }
        }

        if (!authorized)
                sd_bus_reply_method_errorf(a->msg, SD_BUS_ERROR_ACCESS_DENIED,
                                           "Access denied: not authorized for %s%s", BERTH_POLKIT_ACTION_MANAGE,
                                           challenge ? " (interactive authentication required)" : "");
        else {
                r = a->cont(a->manager, a->msg, &error);
                reply_result(a->msg, r, &error);
        }
        sd_bus_error_free(&error);
        auth_call_free(a);
        return 0;
}

int bus_verify_manage_async(Manager *m, sd_bus_message *msg, bus_authorized_t cont, sd_bus_error *error) {
        sd_bus_creds *creds = NULL;
        sd_bus_message *call = NULL;
        const char *sender;
        AuthCall *a;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0) {
                r = sd_bus_creds_get_euid(creds, &uid);
                sd_bus_creds_unref(creds);
        }
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to determine the caller: %s", g_strerror(-r));
        if (uid == 0) {
                /* > 0 tells sd-bus the call is handled, even with the reply still to come. */
                r = cont(m, msg, error);
                return r < 0 ? r : 1;
        }

        sender = sd_bus_message_get_sender(msg);
        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied");

        r = sd_bus_message_new_method_call(m->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender,
                                          BERTH_POLKIT_ACTION_MANAGE);
        if (r >= 0)
                r = sd_bus_message_append(call, "a{ss}us", 0,
                                          (uint32_t) (sd_bus_message_get_allow_interactive_authorization(msg) > 0),
                                          "");
        if (r < 0) {
                sd_bus_message_unref(call);
                return r;
        }

        a = g_new0(AuthCall, 1);
        a->manager = m;
        a->msg = sd_bus_message_ref(msg);
        a->cont = cont;
        r = sd_bus_call_async(m->bus, NULL, call, on_check_authorization, a, 0);
        sd_bus_message_unref(call);
        if (r < 0) {
                auth_call_free(a);
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: polkit unreachable");
        }
        return 1;
}
