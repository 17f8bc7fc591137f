/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nftables, through libnftables, confined to one table: "inet berth".
 *
 * Static part (berth_nft_ensure_table(), idempotent, re-applied atomically
 * at each daemon start; it flushes and refills only berth's own base chains,
 * never the sets/maps, so running containers keep their rules):
 *
 *   set bridges      ifnames of berth bridges
 *   set nat_nets     subnets of networks with NAT=yes
 *   set subnets      subnets of all berth networks
 *   map netjump      bridge ifname -> jump n_<network> (isolation chain)
 *   map pub          proto . port -> container address . port (any host address)
 *   map pub_addr     host address . proto . port -> container address . port
 *   chain guard      prerouting/raw: drop 127.0.0.0/8 to/from berth bridges
 *                    (route_localnet is on for the bridges, see README)
 *   chain prerouting nat: to a local address -> dnat_ports
 *   chain output     nat: same, for connections from the host itself,
 *                    including 127.0.0.1 (systemd issue 6106)
 *   chain postrouting masquerade: DNATed connections from loopback or from a
 *                    container (hairpin: the reply must come back through the
 *                    host, also when br_netfilter DNATs at the bridge level
 *                    where no input interface is known), and NAT networks' egress
 *   chain forward    accept DNATed connections; jump to the isolation chain
 *                    of the ingress bridge
 *
 * Per network:   element in bridges, subnets, nat_nets, netjump; chain n_<network>
 *                ("oifname @bridges oifname != <bridge> drop").
 * Per container: elements in pub / pub_addr.
 * Everything is addressed by name or key, never by rule handle, so it can be
 * removed individually after a daemon restart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

#include "net-internal.h"

struct BerthNft {
        struct nft_ctx *ctx;
};

int berth_nft_new(BerthNft **ret) {
        BerthNft *f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!f->ctx) {
                free(f);
                return -ENOMEM;
        }
        if (nft_ctx_buffer_output(f->ctx) < 0 || nft_ctx_buffer_error(f->ctx) < 0) {
                nft_ctx_free(f->ctx);
                free(f);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
}

void berth_nft_free(BerthNft *f) {
        if (!f)
                return;
        nft_ctx_free(f->ctx);
        free(f);
}

static int nft_run(BerthNft *f, const char *cmds, char **ret_error) {
        int k = nft_run_cmd_from_buffer(f->ctx, cmds);
        const char *err = nft_ctx_get_error_buffer(f->ctx);
        (void) nft_ctx_get_output_buffer(f->ctx); /* drain */
        if (k == 0)
                return 0;
        int r = -EIO;
        if (err) {
                if (strstr(err, "File exists"))
                        r = -EEXIST;
                else if (strstr(err, "No such file or directory"))
                        r = -ENOENT;
                else if (strstr(err, "Operation not permitted"))
                        r = -EPERM;
                else if (strstr(err, "Device or resource busy"))
                        r = -EBUSY;
                else if (strstr(err, "Protocol not supported") || strstr(err, "Operation not supported"))
                        r = -EOPNOTSUPP;
        }
        return berth_net_error(ret_error, r, "nft: %s", err && *err ? err : "failed");
}

static const char table_def[] =
        "add table inet berth\n"
        "add set inet berth bridges { type ifname; }\n"
        "add set inet berth nat_nets { type ipv4_addr; flags interval; }\n"
        "add set inet berth subnets { type ipv4_addr; flags interval; }\n"
        "add map inet berth netjump { type ifname : verdict; }\n"
        "add map inet berth pub { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
        "add map inet berth pub_addr { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n"
        "add chain inet berth guard { type filter hook prerouting priority -300; policy accept; }\n"
        "add chain inet berth prerouting { type nat hook prerouting priority -100; policy accept; }\n"
        "add chain inet berth output { type nat hook output priority -100; policy accept; }\n"
        "add chain inet berth dnat_ports\n"
        "add chain inet berth postrouting { type nat hook postrouting priority 100; policy accept; }\n"
        "add chain inet berth forward { type filter hook forward priority 0; policy accept; }\n"
        "flush chain inet berth guard\n"
        "flush chain inet berth prerouting\n"
        "flush chain inet berth output\n"
        "flush chain inet berth dnat_ports\n"
        "flush chain inet berth postrouting\n"
        "flush chain inet berth forward\n"
        "add rule inet berth guard iifname @bridges ip daddr 127.0.0.0/8 drop\n"
        "add rule inet berth guard iifname @bridges ip saddr 127.0.0.0/8 drop\n"
        "add rule inet berth prerouting fib daddr type local jump dnat_ports\n"
        "add rule inet berth output fib daddr type local jump dnat_ports\n"
        "add rule inet berth dnat_ports meta nfproto ipv4 meta l4proto { tcp, udp } "
                "dnat ip to ip daddr . meta l4proto . th dport map @pub_addr\n"
        "add rule inet berth dnat_ports meta nfproto ipv4 meta l4proto { tcp, udp } "
                "dnat ip to meta l4proto . th dport map @pub\n"
        "add rule inet berth postrouting ct status dnat ip saddr 127.0.0.0/8 masquerade\n"
        "add rule inet berth postrouting ct status dnat ip saddr @subnets masquerade\n"
        "add rule inet berth postrouting ip saddr @nat_nets oifname != @bridges masquerade\n"
        "add rule inet berth forward ct status dnat accept\n"
        "add rule inet berth forward iifname vmap @netjump\n";

int berth_nft_ensure_table(BerthNft *f, char **ret_error) {
        return nft_run(f, table_def, ret_error);
}

static void subnet_str(const BerthNetworkDef *def, char *buf, size_t size) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &def->subnet, a, sizeof a);
        snprintf(buf, size, "%s/%u", a, def->prefixlen);
}

int berth_nft_network_add(BerthNft *f, const BerthNetworkDef *def, char **ret_error) {
        char sn[INET_ADDRSTRLEN + 4];
        subnet_str(def, sn, sizeof sn);
        _cleanup_free_ char *cmds = NULL;
        /* Names were validated: bridge has no quotes, network is [A-Za-z0-9_.-]. */
        if (berth_net_printf(&cmds,
                             "add element inet berth bridges { \"%1$s\" }\n"
                             "add chain inet berth n_%2$s\n"
                             "flush chain inet berth n_%2$s\n"
                             "add rule inet berth n_%2$s oifname @bridges oifname != \"%1$s\" drop\n"
                             "add element inet berth netjump { \"%1$s\" : jump n_%2$s }\n"
                             "add element inet berth subnets { %6$s }\n"
                             "%3$s%4$s%5$s",
                             def->bridge, def->name,
                             def->nat ? "add element inet berth nat_nets { " : "",
                             def->nat ? sn : "",
                             def->nat ? " }\n" : "", sn) < 0)
                return -ENOMEM;
        return nft_run(f, cmds, ret_error);
}

int berth_nft_network_remove(BerthNft *f, const BerthNetworkDef *def, char **ret_error) {
        char sn[INET_ADDRSTRLEN + 4];
        subnet_str(def, sn, sizeof sn);
        _cleanup_free_ char *nat = NULL;
        if (berth_net_printf(&nat,
                             "add element inet berth nat_nets { %1$s }\n"
                             "delete element inet berth nat_nets { %1$s }\n", sn) < 0)
                return -ENOMEM;
        _cleanup_free_ char *cmds = NULL;
        /* "add" before each "delete" makes the removal idempotent on nft
         * 1.0.6 / kernel 6.1, which lack "destroy". One transaction. */
        if (berth_net_printf(&cmds,
                             "add chain inet berth n_%2$s\n"
                             "add element inet berth netjump { \"%1$s\" : jump n_%2$s }\n"
                             "delete element inet berth netjump { \"%1$s\" }\n"
                             "delete chain inet berth n_%2$s\n"
                             "add element inet berth bridges { \"%1$s\" }\n"
                             "delete element inet berth bridges { \"%1$s\" }\n"
                             "add element inet berth subnets { %4$s }\n"
                             "delete element inet berth subnets { %4$s }\n"
                             "%3$s",
                             def->bridge, def->name, def->nat ? nat : "", sn) < 0)
                return -ENOMEM;
        return nft_run(f, cmds, ret_error);
}

static int port_key(const BerthPortClaim *c, char *key, size_t size) {
        const char *proto = c->protocol == IPPROTO_TCP ? "tcp" : c->protocol == IPPROTO_UDP ? "udp" : NULL;
        if (!proto)
                return -EINVAL;
        if (c->host_address.s_addr == INADDR_ANY)
                snprintf(key, size, "%s . %u", proto, (unsigned) c->host_port);
        else {
                char h[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &c->host_address, h, sizeof h);
                snprintf(key, size, "%s . %s . %u", h, proto, (unsigned) c->host_port);
        }
        return 0;
}

int berth_nft_port_add(BerthNft *f, const BerthPortClaim *c, char **ret_error) {
        char key[64], a[INET_ADDRSTRLEN];
        int r = port_key(c, key, sizeof key);
        if (r < 0)
                return r;
        inet_ntop(AF_INET, &c->address, a, sizeof a);
        _cleanup_free_ char *cmd = NULL;
        if (berth_net_printf(&cmd, "add element inet berth %s { %s : %s . %u }\n",
                             c->host_address.s_addr == INADDR_ANY ? "pub" : "pub_addr", key, a,
                             (unsigned) c->container_port) < 0)
                return -ENOMEM;
        return nft_run(f, cmd, ret_error);
}

int berth_nft_port_remove(BerthNft *f, const BerthPortClaim *c, char **ret_error) {
        char key[64], a[INET_ADDRSTRLEN];
        int r = port_key(c, key, sizeof key);
        if (r < 0)
                return r;
        inet_ntop(AF_INET, &c->address, a, sizeof a);
        const char *map = c->host_address.s_addr == INADDR_ANY ? "pub" : "pub_addr";
        _cleanup_free_ char *cmd = NULL;
        /* If the element is absent the add creates it; if it exists with
         * this value the add is a no-op; either way the delete removes it. */
        if (berth_net_printf(&cmd,
                             "add element inet berth %1$s { %2$s : %3$s . %4$u }\n"
                             "delete element inet berth %1$s { %2$s }\n",
                             map, key, a, (unsigned) c->container_port) < 0)
                return -ENOMEM;
        return nft_run(f, cmd, ret_error);
}
