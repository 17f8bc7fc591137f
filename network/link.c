/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* veth pairs and generic link operations. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "net-internal.h"

void berth_net_host_ifname(const char *container, char ret[IFNAMSIZ]) {
        if (strlen("ve-") + strlen(container) < IFNAMSIZ)
                snprintf(ret, IFNAMSIZ, "ve-%s", container);
        else
                /* 3 + 12 = 15 chars; 48 bits of hash make collisions unlikely
                 * enough, and a collision fails loudly (-EEXIST), never silently. */
                snprintf(ret, IFNAMSIZ, "ve-%012llx",
                         (unsigned long long) (berth_net_hash(container, 0x7665) & 0xffffffffffffULL));
}

void berth_net_mac_from_string(const char *s, uint8_t ret[6]) {
        uint64_t h = berth_net_hash(s, 0x6d6163);
        for (int i = 0; i < 6; i++)
                ret[i] = (uint8_t) (h >> (8 * i));
        ret[0] &= 0xfe; /* unicast */
        ret[0] |= 0x02; /* locally administered */
}

static int set_mac(struct rtnl_link *link, const uint8_t mac[6]) {
        struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);
        if (!a)
                return -ENOMEM;
        rtnl_link_set_addr(link, a);
        nl_addr_put(a);
        return 0;
}

int berth_link_veth_create(struct nl_sock *sk, const char *host_ifname, const uint8_t host_mac[6],
                           int master_ifindex, const char *peer_ifname, const uint8_t peer_mac[6],
                           int netns_fd) {
        struct rtnl_link *veth = rtnl_link_veth_alloc();
        if (!veth)
                return -ENOMEM;
        struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
        int r;

        rtnl_link_set_name(veth, host_ifname);
        r = set_mac(veth, host_mac);
        if (r < 0)
                goto out;
        if (master_ifindex > 0)
                rtnl_link_set_master(veth, master_ifindex);
        rtnl_link_set_flags(veth, IFF_UP);

        /* The peer is born in the container's namespace: no move, no rename. */
        rtnl_link_set_name(peer, peer_ifname);
        r = set_mac(peer, peer_mac);
        if (r < 0)
                goto out;
        rtnl_link_set_ns_fd(peer, netns_fd);
        /* The peer cannot be created up: veth_open() fails with ENOTCONN
         * until both ends exist. It is set up from inside afterwards. */

        r = berth_nl_errno(rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL));
out:
        rtnl_link_put(peer);
        rtnl_link_veth_release(veth);
        return r;
}

int berth_link_ifindex(struct nl_sock *sk, const char *name, int *ret) {
        struct rtnl_link *link = NULL;
        int r = berth_nl_errno(rtnl_link_get_kernel(sk, 0, name, &link));
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        *ret = rtnl_link_get_ifindex(link);
        rtnl_link_put(link);
        return 0;
}

static int link_request(struct nl_sock *sk, int type, int flags, int ifindex, const char *name,
                        unsigned ifi_flags, unsigned ifi_change) {
        struct nl_msg *m = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
        if (!m)
                return -ENOMEM;
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_index = ifindex,
                .ifi_flags = ifi_flags,
                .ifi_change = ifi_change,
        };
        if (nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
            (name && nla_put_string(m, IFLA_IFNAME, name) < 0)) {
                nlmsg_free(m);
                return -ENOMEM;
        }
        return berth_nl_errno(nl_send_sync(sk, m)); /* frees m */
}

int berth_link_set_up(struct nl_sock *sk, int ifindex) {
        return link_request(sk, RTM_NEWLINK, 0, ifindex, NULL, IFF_UP, IFF_UP);
}

int berth_link_delete(struct nl_sock *sk, const char *name) {
        int r = link_request(sk, RTM_DELLINK, 0, 0, name, 0, 0);
        return r == -ENOENT ? -ENODEV : r;
}

int berth_link_info(struct nl_sock *sk, const char *name, char *type, size_t type_size, uint8_t ret_mac[6]) {
        struct rtnl_link *link = NULL;
        int r = berth_nl_errno(rtnl_link_get_kernel(sk, 0, name, &link));
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        const char *t = rtnl_link_get_type(link);
        snprintf(type, type_size, "%s", t ? t : "");
        struct nl_addr *a = rtnl_link_get_addr(link);
        memset(ret_mac, 0, 6);
        if (a && nl_addr_get_len(a) == 6)
                memcpy(ret_mac, nl_addr_get_binary_addr(a), 6);
        rtnl_link_put(link);
        return 0;
}
