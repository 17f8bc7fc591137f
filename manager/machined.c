/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Registration with systemd-machined, so machinectl list/status/terminate
 * see the container. The scope already exists, so RegisterMachine (not
 * CreateMachine) is used: machined finds the unit from the leader's cgroup
 * and drops the machine by itself when the scope goes away. */

#include <errno.h>

#include "berthd.h"

static int on_register_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Container *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        c->machine_slot = sd_bus_slot_unref(c->machine_slot);
        /* Not fatal: the container runs fine without machined. */
        if (e)
                log_container(c, LOG_WARNING, sd_bus_message_get_errno(reply),
                              "Failed to register with systemd-machined: %s", e->message ?: e->name);
        return 0;
}

int machined_register(Container *c) {
        sd_bus_message *msg = NULL;
        int r;

        r = sd_bus_message_new_method_call(c->manager->bus, &msg, "org.freedesktop.machine1",
                                           "/org/freedesktop/machine1", "org.freedesktop.machine1.Manager",
                                           "RegisterMachine");
        if (r < 0)
                return r;
        r = sd_bus_message_append(msg, "s", c->name);
        if (r >= 0)
                r = sd_bus_message_append_array(msg, 'y', "", 0);
        if (r >= 0)
                r = sd_bus_message_append(msg, "ssus", "berth", "container", (uint32_t) c->leader,
                                          c->root_directory ?: "");
        if (r >= 0)
                r = sd_bus_call_async(c->manager->bus, &c->machine_slot, msg, on_register_reply, c, 0);
        sd_bus_message_unref(msg);
        return r;
}
