/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses and default routes. */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "net-internal.h"

struct in_addr berth_prefix_mask(unsigned prefixlen) {
        struct in_addr m = { .s_addr = prefixlen == 0 ? 0 : htonl(~0U << (32 - prefixlen)) };
        return m;
}

static int addr_add(struct nl_sock *sk, int ifindex, int family, const void *bin, size_t len,
                    unsigned prefixlen, const void *bcast, int flags) {
        struct rtnl_addr *a = rtnl_addr_alloc();
        struct nl_addr *local = nl_addr_build(family, bin, len);
        struct nl_addr *b = bcast ? nl_addr_build(family, bcast, len) : NULL;
        int r = -ENOMEM;
        if (!a || !local || (bcast && !b))
                goto out;
        nl_addr_set_prefixlen(local, (int) prefixlen);
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_family(a, family);
        r = berth_nl_errno(rtnl_addr_set_local(a, local));
        if (r < 0)
                goto out;
        if (b) {
                r = berth_nl_errno(rtnl_addr_set_broadcast(a, b));
                if (r < 0)
                        goto out;
        }
        if (flags)
                rtnl_addr_set_flags(a, flags);
        r = berth_nl_errno(rtnl_addr_add(sk, a, NLM_F_EXCL));
out:
        nl_addr_put(b);
        nl_addr_put(local);
        rtnl_addr_put(a);
        return r;
}

int berth_address_add4(struct nl_sock *sk, int ifindex, struct in_addr a, unsigned prefixlen, bool with_broadcast) {
        struct in_addr bc = { .s_addr = a.s_addr | ~berth_prefix_mask(prefixlen).s_addr };
        return addr_add(sk, ifindex, AF_INET, &a, sizeof a, prefixlen, with_broadcast ? &bc : NULL, 0);
}

int berth_address_add6(struct nl_sock *sk, int ifindex, const struct in6_addr *a, unsigned prefixlen) {
        /* No DAD: the addresses are unique by construction, and DAD would
         * keep them tentative (unusable) for a second after start. */
        return addr_add(sk, ifindex, AF_INET6, a, sizeof *a, prefixlen, NULL, IFA_F_NODAD);
}

static int route_default(struct nl_sock *sk, int family, const void *gw, size_t len, int ifindex) {
        struct rtnl_route *rt = rtnl_route_alloc();
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        uint8_t zero[16] = {};
        struct nl_addr *dst = nl_addr_build(family, zero, len);
        struct nl_addr *via = nl_addr_build(family, gw, len);
        int r = -ENOMEM;
        if (!rt || !nh || !dst || !via)
                goto out;
        nl_addr_set_prefixlen(dst, 0);
        rtnl_route_set_family(rt, (uint8_t) family);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(rt, RTN_UNICAST);
        r = berth_nl_errno(rtnl_route_set_dst(rt, dst));
        if (r < 0)
                goto out;
        rtnl_route_nh_set_gateway(nh, via);
        if (ifindex > 0)
                rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_add_nexthop(rt, nh);
        nh = NULL; /* owned by rt now */
        r = berth_nl_errno(rtnl_route_add(sk, rt, NLM_F_EXCL));
out:
        nl_addr_put(via);
        nl_addr_put(dst);
        if (nh)
                rtnl_route_nh_free(nh);
        if (rt)
                rtnl_route_put(rt);
        return r;
}

int berth_route_default4(struct nl_sock *sk, struct in_addr gateway) {
        return route_default(sk, AF_INET, &gateway, sizeof gateway, 0);
}

int berth_route_default6(struct nl_sock *sk, const struct in6_addr *gateway, int ifindex) {
        return route_default(sk, AF_INET6, gateway, sizeof *gateway, ifindex);
}
