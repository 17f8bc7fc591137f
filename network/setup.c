/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-container network setup and teardown, with rollback. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <netlink/netlink.h>

#include "net-internal.h"

typedef struct NetState {
        BerthNetworkDef *def;
        int bridge_ifindex;
} NetState;

struct BerthNet {
        char *config_dir, *state_dir, *resolv_conf, *resolved_resolv_conf;
        int (*fail_hook)(BerthNetStep step, void *userdata);
        void *fail_userdata;
        struct nl_sock *sk;   /* host netns */
        BerthNft *nft;
        BerthNetnsWorker *worker; /* opens netlink sockets in container netns */
        bool host_ready;      /* ip_forward set, nft table ensured */
        GHashTable *up;       /* network name -> NetState*: bridge and rules known to be in place */
};

static void net_state_free(void *p) {
        NetState *s = p;
        if (!s)
                return;
        berth_network_def_free(s->def);
        free(s);
}

static char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

int berth_net_new(const BerthNetOptions *o, BerthNet **ret) {
        BerthNetOptions none = {};
        if (!o)
                o = &none;
        BerthNet *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->config_dir = strdup(o->config_dir ? o->config_dir : BERTH_NETWORK_CONFIG_DIR);
        n->state_dir = strdup(o->state_dir ? o->state_dir : BERTH_STATE_DIR);
        n->resolv_conf = strdup_or_null(o->resolv_conf);
        n->resolved_resolv_conf = strdup_or_null(o->resolved_resolv_conf);
        n->fail_hook = o->fail_hook;
        n->fail_userdata = o->fail_userdata;
        n->up = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, net_state_free);
        int r = -ENOMEM;
        if (!n->config_dir || !n->state_dir || (o->resolv_conf && !n->resolv_conf) ||
            (o->resolved_resolv_conf && !n->resolved_resolv_conf))
                goto fail;
        r = berth_nl_open(&n->sk);
        if (r < 0)
                goto fail;
        r = berth_nft_new(&n->nft);
        if (r < 0)
                goto fail;
        r = berth_netns_worker_new(&n->worker);
        if (r < 0)
                goto fail;
        *ret = n;
        return 0;
fail:
        berth_net_free(n);
        return r;
}

void berth_net_free(BerthNet *n) {
        if (!n)
                return;
        berth_netns_worker_free(n->worker);
        berth_nl_close(n->sk);
        berth_nft_free(n->nft);
        g_hash_table_destroy(n->up);
        free(n->config_dir);
        free(n->state_dir);
        free(n->resolv_conf);
        free(n->resolved_resolv_conf);
        free(n);
}

static int step(BerthNet *n, BerthNetStep s) {
        return n->fail_hook ? n->fail_hook(s, n->fail_userdata) : 0;
}

static int host_prepare(BerthNet *n, char **ret_error) {
        if (n->host_ready)
                return 0;
        int r = berth_sysctl_write("net/ipv4/ip_forward", "1");
        if (r < 0)
                return berth_net_error(ret_error, r, "cannot set net.ipv4.ip_forward=1: %s", strerror(-r));
        r = berth_nft_ensure_table(n->nft, ret_error);
        if (r < 0)
                return r;
        n->host_ready = true;
        return 0;
}

static int def_get(BerthNet *n, const char *network, BerthNetworkDef **ret_owned, const BerthNetworkDef **ret,
                   char **ret_error) {
        NetState *s = g_hash_table_lookup(n->up, network);
        if (s) {
                *ret = s->def;
                return 0;
        }
        int r = berth_network_def_load(n->config_dir, network, ret_owned, ret_error);
        if (r < 0)
                return r;
        *ret = *ret_owned;
        return 0;
}

/* Bridge, its sysctl and the network's nft elements; cached once done. */
static int network_up(BerthNet *n, BerthNetworkDef **def_owned, const BerthNetworkDef *def, int *ret_ifindex,
                      char **ret_error) {
        NetState *s = g_hash_table_lookup(n->up, def->name);
        if (s) {
                *ret_ifindex = s->bridge_ifindex;
                return 0;
        }
        int r = step(n, BERTH_NET_STEP_BRIDGE);
        int ifindex = 0;
        if (r >= 0)
                r = berth_bridge_ensure(n->sk, def, &ifindex, NULL);
        if (r < 0)
                return berth_net_error(ret_error, r, "bridge %s: %s", def->bridge,
                                       r == -ENOTTY ? "exists and is not a bridge" : strerror(-r));
        char key[128];
        snprintf(key, sizeof key, "net/ipv4/conf/%s/route_localnet", def->bridge);
        r = berth_sysctl_write(key, "1");
        if (r < 0)
                return berth_net_error(ret_error, r, "sysctl %s: %s", key, strerror(-r));
        r = step(n, BERTH_NET_STEP_NFT_NETWORK);
        if (r >= 0)
                r = berth_nft_network_add(n->nft, def, ret_error);
        if (r < 0)
                return berth_net_error(ret_error, r, "nft rules of network %s: %s", def->name, strerror(-r));
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->def = TAKE_PTR(*def_owned);
        s->bridge_ifindex = ifindex;
        g_hash_table_replace(n->up, g_strdup(def->name), s);
        *ret_ifindex = ifindex;
        return 0;
}

/* Remove bridge and rules if nobody holds a lease (and not persistent unless forced). */
static int network_maybe_down(BerthNet *n, const char *network, const BerthNetworkDef *def_hint, bool force,
                              char **ret_error) {
        BerthNetworkDef *owned = NULL;
        const BerthNetworkDef *def = def_hint;
        NetState *s = g_hash_table_lookup(n->up, network);
        if (s)
                def = s->def;
        if (!def) {
                int r = berth_network_def_load(n->config_dir, network, &owned, ret_error);
                if (r < 0)
                        return r;
                def = owned;
        }
        BerthLease *leases = NULL;
        size_t n_leases = 0;
        int r = berth_lease_list(n->state_dir, network, &leases, &n_leases);
        free(leases);
        if (r < 0)
                goto out;
        if (n_leases > 0) {
                r = force ? -EBUSY : 0;
                goto out;
        }
        if (def->persistent && !force) {
                r = 0;
                goto out;
        }
        r = berth_nft_network_remove(n->nft, def, ret_error);
        if (r == -ENOENT) /* no table at all */
                r = 0;
        int k = berth_link_delete(n->sk, def->bridge);
        if (k < 0 && k != -ENODEV && r >= 0)
                r = berth_net_error(ret_error, k, "delete bridge %s: %s", def->bridge, strerror(-k));
        if (s)
                g_hash_table_remove(n->up, network);
out:
        berth_network_def_free(owned);
        return r;
}


int berth_net_network_down(BerthNet *n, const char *network, char **ret_error) {
        return network_maybe_down(n, network ? network : BERTH_NETWORK_DEFAULT, NULL, true, ret_error);
}

static int parse_ports(const BerthConfig *cfg, struct in_addr address, BerthPortClaim **ret, size_t *ret_n,
                       char **ret_error) {
        size_t count = cfg->ports ? cfg->ports->len : 0;
        BerthPortClaim *v = calloc(count ? count : 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                const BerthPort *p = g_ptr_array_index(cfg->ports, i);
                BerthPortClaim *c = &v[i];
                c->protocol = p->protocol;
                c->host_port = p->host_port;
                c->container_port = p->container_port;
                c->address = address;
                g_strlcpy(c->owner, cfg->name, sizeof c->owner);
                if ((p->protocol != IPPROTO_TCP && p->protocol != IPPROTO_UDP) || !p->host_port ||
                    !p->container_port) {
                        free(v);
                        return berth_net_error(ret_error, -EINVAL, "invalid Port= entry #%zu", i + 1);
                }
                if (p->host_address && *p->host_address &&
                    inet_pton(AF_INET, p->host_address, &c->host_address) != 1) {
                        free(v);
                        return berth_net_error(ret_error, -EAFNOSUPPORT,
                                               "Port= host address %s: only IPv4 addresses are supported",
                                               p->host_address);
                }
                for (size_t j = 0; j < i; j++)
                        if (v[j].protocol == c->protocol && v[j].host_port == c->host_port) {
                                free(v);
                                return berth_net_error(ret_error, -EINVAL, "port %u published twice",
                                                       (unsigned) c->host_port);
                        }
        }
        *ret = v;
        *ret_n = count;
        return 0;
}

static int write_files(BerthNet *n, const char *run_dir, const char *hostname, const struct in_addr *addr,
                       bool host_mode, char **ret_error) {
        _cleanup_free_ char *resolv = NULL, *hosts = NULL, *p1 = NULL, *p2 = NULL;
        int r;
        if (host_mode) {
                /* The host's resolvers, loopback stubs included, are reachable. */
                g_autofree char *data = NULL;
                if (!g_file_get_contents(n->resolv_conf ? n->resolv_conf : "/etc/resolv.conf", &data, NULL, NULL))
                        data = g_strdup("");
                resolv = strdup(data);
                r = resolv ? 0 : -ENOMEM;
        } else
                r = berth_net_resolv_conf(n->resolv_conf, n->resolved_resolv_conf, &resolv);
        if (r < 0)
                return r;
        r = berth_net_hosts(hostname, addr, &hosts);
        if (r < 0)
                return r;
        if (berth_net_printf(&p1, "%s/resolv.conf", run_dir) < 0 || berth_net_printf(&p2, "%s/hosts", run_dir) < 0)
                return -ENOMEM;
        r = berth_write_file_atomic(p1, resolv, 0644);
        if (r < 0)
                return berth_net_error(ret_error, r, "write %s: %s", p1, strerror(-r));
        r = berth_write_file_atomic(p2, hosts, 0644);
        if (r < 0) {
                unlink(p1);
                return berth_net_error(ret_error, r, "write %s: %s", p2, strerror(-r));
        }
        return 0;
}

static int setup_none(BerthNet *n, int netns_fd, char **ret_error) {
        struct nl_sock *in = NULL;
        int r = step(n, BERTH_NET_STEP_NETNS);
        if (r >= 0)
                r = berth_netns_worker_open(n->worker, netns_fd, &in);
        if (r < 0)
                return berth_net_error(ret_error, r, "netlink in the container's netns: %s", strerror(-r));
        r = step(n, BERTH_NET_STEP_INNER_LINK);
        if (r >= 0)
                r = berth_link_set_up(in, 1 /* lo is always ifindex 1 */);
        berth_nl_close(in);
        if (r < 0)
                return berth_net_error(ret_error, r, "lo up: %s", strerror(-r));
        return 0;
}

/* An existing veth with our name and the MAC derived from this container's
 * name is the leftover of this container's previous run, whose netns the
 * kernel has not finished destroying. (Whether the other end's netns is dying
 * cannot be told reliably: its nsid stays reported until the cleanup work
 * runs.) berthd never sets up a container that is running, names being
 * unique, so this never hits a live container's veth. */
static bool stale_veth(BerthNet *n, const char *ifname, const uint8_t mac[6]) {
        char type[32];
        uint8_t cur[6];
        if (berth_link_info(n->sk, ifname, type, sizeof type, cur) < 0)
                return false;
        return strcmp(type, "veth") == 0 && memcmp(cur, mac, 6) == 0;
}

static void ula_address(const BerthNetworkDef *def, struct in_addr a, struct in6_addr *ret) {
        *ret = def->ula_prefix;
        uint32_t host = ntohl(a.s_addr) & ~ntohl(berth_prefix_mask(def->prefixlen).s_addr);
        ret->s6_addr[12] = (uint8_t) (host >> 24);
        ret->s6_addr[13] = (uint8_t) (host >> 16);
        ret->s6_addr[14] = (uint8_t) (host >> 8);
        ret->s6_addr[15] = (uint8_t) host;
}

int berth_net_setup(BerthNet *n, const BerthConfig *cfg, int netns_fd, const char *run_dir,
                    BerthNetAttachment *ret, char **ret_error) {
        BerthNetAttachment att = { .mode = cfg->network_mode };
        const char *hostname = cfg->hostname ? cfg->hostname : cfg->name;
        int r;

        if (berth_name_validate(cfg->name) < 0)
                return berth_net_error(ret_error, -EINVAL, "invalid container name \"%s\"", cfg->name ? cfg->name : "");

        if (cfg->network_mode == BERTH_NETWORK_HOST) {
                att.weakens_isolation = true;
                if (run_dir) {
                        r = step(n, BERTH_NET_STEP_FILES);
                        if (r >= 0)
                                r = write_files(n, run_dir, hostname, NULL, true, ret_error);
                        if (r < 0)
                                return r;
                }
                if (ret)
                        *ret = att;
                return 0;
        }
        if (cfg->network_mode == BERTH_NETWORK_NONE) {
                r = setup_none(n, netns_fd, ret_error);
                if (r < 0)
                        return r;
                if (run_dir) {
                        r = step(n, BERTH_NET_STEP_FILES);
                        if (r >= 0)
                                r = write_files(n, run_dir, hostname, NULL, false, ret_error);
                        if (r < 0)
                                return r;
                }
                if (ret)
                        *ret = att;
                return 0;
        }
        if (cfg->network_mode != BERTH_NETWORK_BRIDGE)
                return -EINVAL;

        /* ---- Mode=bridge ---- */
        const char *network = cfg->network ? cfg->network : BERTH_NETWORK_DEFAULT;
        BerthNetworkDef *def_owned = NULL;
        const BerthNetworkDef *def = NULL;
        BerthPortClaim *ports = NULL;
        size_t n_ports = 0, n_claimed = 0, n_nft_ports = 0;
        bool leased = false, veth = false;
        struct nl_sock *in = NULL;
        int bridge_ifindex = 0;

        r = def_get(n, network, &def_owned, &def, ret_error);
        if (r < 0)
                return r;
        g_strlcpy(att.network, def->name, sizeof att.network);
        g_strlcpy(att.bridge, def->bridge, sizeof att.bridge);
        att.prefixlen = def->prefixlen;
        att.gateway = def->gateway;
        berth_net_host_ifname(cfg->name, att.host_ifname);
        /* IPv6 needs both: the container asks (IPv6=yes), the network has a ULA prefix. */
        bool want6 = cfg->ipv6;
        if (want6 && !def->ipv6) {
                r = berth_net_error(ret_error, -EINVAL, "IPv6=yes but network %s has no IPv6ULA=", def->name);
                goto fail;
        }

        /* 1. lease */
        struct in_addr fixed, *fixedp = NULL;
        if (cfg->address) {
                if (inet_pton(AF_INET, cfg->address, &fixed) != 1) {
                        r = berth_net_error(ret_error, -EINVAL, "Address=%s: not an IPv4 address", cfg->address);
                        goto fail;
                }
                fixedp = &fixed;
        }
        r = step(n, BERTH_NET_STEP_LEASE);
        if (r >= 0) {
                _cleanup_free_ char *holder = NULL;
                r = berth_lease_acquire(n->state_dir, def, cfg->name, fixedp, &att.address, &holder);
                if (r == -EADDRINUSE)
                        r = berth_net_error(ret_error, r, "Address=%s is leased to container '%s'", cfg->address,
                                            holder ? holder : "?");
                else if (fixedp && (r == -EINVAL || r == -EADDRNOTAVAIL))
                        r = berth_net_error(ret_error, r, "Address=%s is not a usable address of network %s",
                                            cfg->address, def->name);
                else if (r == -ENOSPC)
                        r = berth_net_error(ret_error, r, "network %s has no free address", def->name);
        }
        if (r < 0)
                goto fail;
        leased = true;

        /* 2. port claims (before touching the kernel: a conflict is cheap) */
        r = parse_ports(cfg, att.address, &ports, &n_ports, ret_error);
        if (r < 0)
                goto fail;
        for (; n_claimed < n_ports; n_claimed++) {
                r = step(n, BERTH_NET_STEP_PORT_CLAIM);
                if (r >= 0)
                        r = berth_port_claim(n->state_dir, &ports[n_claimed], ret_error);
                if (r < 0)
                        goto fail;
        }

        /* 3. host: sysctl, nft table */
        r = step(n, BERTH_NET_STEP_HOST);
        if (r >= 0)
                r = host_prepare(n, ret_error);
        if (r < 0)
                goto fail;

        /* 4. bridge and network rules */
        r = network_up(n, &def_owned, def, &bridge_ifindex, ret_error);
        if (r < 0)
                goto fail;

        /* 5. veth, peer born in the container's netns */
        char seed[BERTH_NAME_MAX + 32];
        uint8_t host_mac[6];
        snprintf(seed, sizeof seed, "berth-host0:%s", cfg->name);
        berth_net_mac_from_string(seed, att.mac);
        snprintf(seed, sizeof seed, "berth-ve:%s", cfg->name);
        berth_net_mac_from_string(seed, host_mac);
        r = step(n, BERTH_NET_STEP_VETH);
        if (r >= 0) {
                r = berth_link_veth_create(n->sk, att.host_ifname, host_mac, bridge_ifindex,
                                           BERTH_NET_IFNAME_CONTAINER, att.mac, netns_fd);
                if (r == -ENODEV) {
                        /* Bridge deleted behind our back: recreate once. */
                        g_hash_table_remove(n->up, def->name);
                        def = NULL;
                        r = def_get(n, network, &def_owned, &def, ret_error);
                        if (r >= 0)
                                r = network_up(n, &def_owned, def, &bridge_ifindex, ret_error);
                        if (r >= 0)
                                r = berth_link_veth_create(n->sk, att.host_ifname, host_mac, bridge_ifindex,
                                                           BERTH_NET_IFNAME_CONTAINER, att.mac, netns_fd);
                } else if (r == -EEXIST && stale_veth(n, att.host_ifname, host_mac)) {
                        /* The previous run of this container: its netns is
                         * going away but the kernel has not reaped the veth
                         * yet. It is ours by name and bridge: delete it. */
                        r = berth_link_delete(n->sk, att.host_ifname);
                        if (r >= 0 || r == -ENODEV)
                                r = berth_link_veth_create(n->sk, att.host_ifname, host_mac, bridge_ifindex,
                                                           BERTH_NET_IFNAME_CONTAINER, att.mac, netns_fd);
                }
                if (r < 0)
                        r = berth_net_error(ret_error, r, "create veth %s: %s", att.host_ifname,
                                            r == -EEXIST ? "interface exists" : strerror(-r));
        }
        if (r < 0)
                goto fail;
        veth = true;

        bool hairpin = n_ports > 0;
        if (!def->inter_container || hairpin) {
                int ifindex;
                r = step(n, BERTH_NET_STEP_PORT_ISOLATE);
                if (r >= 0)
                        r = berth_link_ifindex(n->sk, att.host_ifname, &ifindex);
                if (r >= 0)
                        r = berth_bridge_port_flags(n->sk, ifindex, !def->inter_container, hairpin);
                if (r < 0) {
                        r = berth_net_error(ret_error, r, "bridge port flags of %s: %s", att.host_ifname, strerror(-r));
                        goto fail;
                }
        }

        /* 6. inside the container */
        r = step(n, BERTH_NET_STEP_NETNS);
        if (r >= 0)
                r = berth_netns_worker_open(n->worker, netns_fd, &in);
        if (r < 0) {
                r = berth_net_error(ret_error, r, "netlink in the container's netns: %s", strerror(-r));
                goto fail;
        }
        int host0 = 0;
        r = step(n, BERTH_NET_STEP_INNER_LINK);
        if (r >= 0)
                r = berth_link_set_up(in, 1);
        if (r >= 0)
                r = berth_link_ifindex(in, BERTH_NET_IFNAME_CONTAINER, &host0);
        if (r < 0) {
                r = berth_net_error(ret_error, r, "container links: %s", strerror(-r));
                goto fail;
        }
        r = step(n, BERTH_NET_STEP_INNER_ADDR);
        if (r >= 0)
                r = berth_address_add4(in, host0, att.address, def->prefixlen, true);
        if (r >= 0 && want6) {
                ula_address(def, att.address, &att.address6);
                att.has_ipv6 = true;
                r = berth_address_add6(in, host0, &att.address6, 64);
        }
        if (r < 0) {
                r = berth_net_error(ret_error, r, "container address: %s", strerror(-r));
                goto fail;
        }
        r = step(n, BERTH_NET_STEP_INNER_UP);
        if (r >= 0)
                r = berth_link_set_up(in, host0);
        if (r < 0) {
                r = berth_net_error(ret_error, r, "host0 up: %s", strerror(-r));
                goto fail;
        }
        r = step(n, BERTH_NET_STEP_INNER_ROUTE);
        if (r >= 0)
                r = berth_route_default4(in, def->gateway);
        if (r >= 0 && want6) {
                struct in6_addr gw6 = def->ula_prefix;
                gw6.s6_addr[15] = 1;
                r = berth_route_default6(in, &gw6, host0);
        }
        if (r < 0) {
                r = berth_net_error(ret_error, r, "default route: %s", strerror(-r));
                goto fail;
        }
        berth_nl_close(in);
        in = NULL;

        /* 7. published ports */
        for (; n_nft_ports < n_ports; n_nft_ports++) {
                r = step(n, BERTH_NET_STEP_NFT_PORTS);
                char *perr = NULL;
                if (r >= 0)
                        r = berth_nft_port_add(n->nft, &ports[n_nft_ports], &perr);
                if (r == -ENOENT) {
                        /* Someone deleted our table ("nft flush ruleset"):
                         * rebuild it and this network's part, then retry. */
                        free(perr);
                        perr = NULL;
                        n->host_ready = false;
                        r = host_prepare(n, &perr);
                        if (r >= 0)
                                r = berth_nft_network_add(n->nft, def, &perr);
                        if (r >= 0)
                                r = berth_nft_port_add(n->nft, &ports[n_nft_ports], &perr);
                }
                if (r < 0) {
                        if (ret_error && !*ret_error)
                                *ret_error = perr;
                        else
                                free(perr);
                        goto fail;
                }
                free(perr);
        }

        /* 8. resolv.conf, hosts */
        if (run_dir) {
                r = step(n, BERTH_NET_STEP_FILES);
                if (r >= 0)
                        r = write_files(n, run_dir, hostname, &att.address, false, ret_error);
                if (r < 0)
                        goto fail;
        }

        free(ports);
        berth_network_def_free(def_owned);
        if (ret)
                *ret = att;
        return 0;

fail:
        berth_nl_close(in);
        while (n_nft_ports > 0)
                (void) berth_nft_port_remove(n->nft, &ports[--n_nft_ports], NULL);
        if (veth)
                /* Synchronous here (unlike teardown): the netns may outlive the failure. */
                (void) berth_link_delete(n->sk, att.host_ifname);
        while (n_claimed > 0)
                (void) berth_port_unclaim(n->state_dir, &ports[--n_claimed]);
        free(ports);
        if (leased) {
                (void) berth_lease_release(n->state_dir, network, att.address, cfg->name);
                (void) network_maybe_down(n, network, def, false, NULL);
        }
        berth_network_def_free(def_owned);
        return r;
}

int berth_net_teardown(BerthNet *n, const char *container, const char *network) {
        int r = 0, k;
        if (!network)
                network = BERTH_NETWORK_DEFAULT;

        BerthPortClaim *claims = NULL;
        size_t n_claims = 0;
        k = berth_port_claims_list(n->state_dir, &claims, &n_claims);
        if (k < 0)
                r = k;
        for (size_t i = 0; i < n_claims; i++) {
                if (strcmp(claims[i].owner, container) != 0)
                        continue;
                k = berth_nft_port_remove(n->nft, &claims[i], NULL);
                if (k < 0 && k != -ENOENT && r >= 0)
                        r = k; /* keep the claim: a retry can still remove the rule */
                else
                        (void) berth_port_unclaim(n->state_dir, &claims[i]);
        }
        free(claims);

        k = berth_lease_release_owner(n->state_dir, network, container);
        if (k < 0 && k != -ENOENT && r >= 0)
                r = k;
        k = network_maybe_down(n, network, NULL, false, NULL);
        if (k < 0 && r >= 0)
                r = k;
        return r;
}

static int64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int berth_net_bench(BerthNet *n, unsigned iterations, uint64_t *ret_ns) {
        if (iterations == 0 || iterations > 1024)
                return -EINVAL;
        g_autoptr(BerthConfig) keep = berth_config_new("berth-bench-keep");
        if (!keep)
                return -ENOMEM;
        /* A member that stays, so the bridge exists as in steady state. */
        _cleanup_close_ int keep_ns = berth_netns_new();
        if (keep_ns < 0)
                return keep_ns;
        int r = berth_net_setup(n, keep, keep_ns, NULL, NULL, NULL);
        if (r < 0)
                return r;
        /* Namespaces first, teardown last: closing a netns makes the kernel
         * destroy its veth in the background, which would be measured as
         * rtnl lock contention by the next setup. */
        int *ns = calloc(iterations, sizeof *ns);
        if (!ns) {
                (void) berth_net_teardown(n, keep->name, NULL);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < iterations; i++)
                ns[i] = -1;
        for (unsigned i = 0; i < iterations && r >= 0; i++) {
                ns[i] = berth_netns_new();
                if (ns[i] < 0)
                        r = ns[i];
        }
        uint64_t total = 0;
        unsigned done = 0;
        for (; done < iterations && r >= 0; done++) {
                char name[32];
                snprintf(name, sizeof name, "berth-bench-%u", done);
                g_autoptr(BerthConfig) cfg = berth_config_new(name);
                if (!cfg) {
                        r = -ENOMEM;
                        break;
                }
                int64_t t0 = now_ns();
                r = berth_net_setup(n, cfg, ns[done], NULL, NULL, NULL);
                total += (uint64_t) (now_ns() - t0);
                if (r < 0)
                        break;
        }
        for (unsigned i = 0; i < done; i++) {
                char name[32];
                snprintf(name, sizeof name, "berth-bench-%u", i);
                int k = berth_net_teardown(n, name, NULL);
                if (k < 0 && r >= 0)
                        r = k;
        }
        for (unsigned i = 0; i < iterations; i++)
                if (ns[i] >= 0)
                        close(ns[i]);
        free(ns);
        int k = berth_net_teardown(n, keep->name, NULL);
        if (r >= 0 && k < 0)
                r = k;
        if (r >= 0 && ret_ns)
                *ret_ns = total / iterations;
        return r;
}
