/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A network's bridge: created on first use, address = gateway, fixed MAC. */
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "net-internal.h"

static int bridge_create(struct nl_sock *sk, const BerthNetworkDef *def) {
        struct rtnl_link *link = rtnl_link_alloc();
        if (!link)
                return -ENOMEM;
        int r = berth_nl_errno(rtnl_link_set_type(link, "bridge"));
        if (r < 0)
                goto out;
        rtnl_link_set_name(link, def->bridge);
        /* A bridge otherwise takes the lowest MAC of its ports, which changes
         * as containers come and go and stales the containers' ARP caches. */
        uint8_t mac[6];
        char seed[128];
        snprintf(seed, sizeof seed, "berth-bridge:%s", def->bridge);
        berth_net_mac_from_string(seed, mac);
        struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);
        if (!a) {
                r = -ENOMEM;
                goto out;
        }
        rtnl_link_set_addr(link, a);
        nl_addr_put(a);
        rtnl_link_set_flags(link, IFF_UP);
        r = berth_nl_errno(rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL));
out:
        rtnl_link_put(link);
        return r;
}

int berth_bridge_ensure(struct nl_sock *sk, const BerthNetworkDef *def, int *ret_ifindex, bool *ret_created) {
        struct rtnl_link *link = NULL;
        bool created = false;
        int r = berth_nl_errno(rtnl_link_get_kernel(sk, 0, def->bridge, &link));
        if (r == -ENOENT || r == -ENODEV) {
                r = bridge_create(sk, def);
                if (r < 0 && r != -EEXIST)
                        return r;
                created = r >= 0;
                r = berth_nl_errno(rtnl_link_get_kernel(sk, 0, def->bridge, &link));
        }
        if (r < 0)
                return r;
        const char *type = rtnl_link_get_type(link);
        bool is_bridge = type && strcmp(type, "bridge") == 0;
        int ifindex = rtnl_link_get_ifindex(link);
        bool up = rtnl_link_get_flags(link) & IFF_UP;
        rtnl_link_put(link);
        if (!is_bridge)
                return -ENOTTY; /* a foreign non-bridge link holds the name */

        r = berth_address_add4(sk, ifindex, def->gateway, def->prefixlen, true);
        if (r < 0 && r != -EEXIST)
                goto fail;
        if (def->ipv6) {
                struct in6_addr gw6 = def->ula_prefix;
                gw6.s6_addr[15] = 1;
                r = berth_address_add6(sk, ifindex, &gw6, 64);
                if (r < 0 && r != -EEXIST)
                        goto fail;
        }
        if (!up) {
                r = berth_link_set_up(sk, ifindex);
                if (r < 0)
                        goto fail;
        }
        *ret_ifindex = ifindex;
        if (ret_created)
                *ret_created = created;
        return 0;
fail:
        if (created)
                (void) berth_link_delete(sk, def->bridge);
        return r;
}

int berth_bridge_port_flags(struct nl_sock *sk, int port_ifindex, bool isolated, bool hairpin) {
        /* IFLA_BRPORT_ISOLATED (4.18+): isolated ports cannot talk to each
         * other, only to the bridge itself (the host) and non-isolated ports.
         * IFLA_BRPORT_MODE (hairpin): lets a frame leave by the port it came
         * in, needed for a container to reach its own published port through
         * the host address when br_netfilter DNATs at the bridge level. */
        struct nl_msg *m = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
        if (!m)
                return -ENOMEM;
        struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = port_ifindex };
        struct nlattr *pi;
        if (nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
            !(pi = nla_nest_start(m, IFLA_PROTINFO | NLA_F_NESTED)) ||
            (isolated && nla_put_u8(m, IFLA_BRPORT_ISOLATED, 1) < 0) ||
            (hairpin && nla_put_u8(m, IFLA_BRPORT_MODE, 1) < 0)) {
                nlmsg_free(m);
                return -ENOMEM;
        }
        nla_nest_end(m, pi);
        return berth_nl_errno(nl_send_sync(sk, m));
}
