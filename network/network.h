/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libberth-network: container networking on libnl-3 and libnftables.
 *
 * No logging, no exit, no event loop: functions return a negative errno on
 * failure (and fill *ret_error with a message where that helps, caller frees
 * with free()), >= 0 on success.
 *
 * Use from berthd, between berth_container_clone() and
 * berth_container_release():
 *
 *     BerthNet *net;                            once per daemon
 *     berth_net_new(&opts, &net);
 *     ...
 *     int nsfd = berth_container_open_netns(c);  per container
 *     berth_net_setup(net, cfg, nsfd, c->run_dir, &att, &err);
 *     close(nsfd);
 *     ... release the child ...
 *     berth_net_teardown(net, cfg->name, att.network);    on stop
 *
 * berth_net_new() must run in the host network namespace: the library keeps
 * a netlink socket and an nft context bound to the namespace it was created
 * in. The calling thread never changes namespace; work inside a container's
 * namespace uses a netlink socket opened there by the BerthNet's helper
 * thread, which enters the namespace only for the socket() call and goes
 * straight back (it is idle, holding no lock, between setups).
 *
 * What berth changes on the host (documented in README):
 *   - sysctl net.ipv4.ip_forward=1 (at the first bridge-mode setup)
 *   - sysctl net.ipv4.conf.<bridge>.route_localnet=1 for each berth bridge,
 *     so that 127.0.0.1:<published port> can be DNATed to a container; the
 *     "guard" chain drops packets from berth bridges to or from 127.0.0.0/8
 *     so that containers cannot reach host services bound to loopback.
 *   - one nftables table, "inet berth"; nothing else is touched.
 *   - bridges (default "berth0") and veths "ve-<name>".
 *
 * State (crash-safe, source of truth across daemon restarts):
 *   <state_dir>/leases/<network>/<a.b.c.d>   content: owner container name
 *   <state_dir>/ports/<tcp|udp>-<port>       content: owner, host address,
 *                                            container address, container port
 */

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define BERTH_NETWORK_CONFIG_DIR "/etc/berth/networks"
#define BERTH_NETWORK_DEFAULT "default"
#define BERTH_NETWORK_DEFAULT_BRIDGE "berth0"
/* 10.213.0.0/16: not Docker's 172.17-31/16 or 192.168.x pools, not Podman's
 * 10.88/16, not libvirt's 192.168.122/24, not LXD's random 10.x/24 as far as
 * that can be said, not CGNAT 100.64/10 (Tailscale). */
#define BERTH_NETWORK_DEFAULT_SUBNET "10.213.0.0/16"
#define BERTH_NETWORK_DEFAULT_GATEWAY "10.213.0.1"
#define BERTH_NFT_TABLE "berth" /* family inet */
#define BERTH_NET_IFNAME_CONTAINER "host0"

typedef struct BerthNetworkDef {
        char *name;
        char *bridge;              /* <= IFNAMSIZ-1 */
        struct in_addr subnet;     /* network address (network byte order, like all in_addr here) */
        unsigned prefixlen;        /* 8..30 */
        struct in_addr gateway;    /* bridge address, inside subnet */
        bool nat;                  /* masquerade egress (default true) */
        bool inter_container;      /* members reach each other (default true; Isolated=yes clears) */
        bool persistent;           /* keep bridge and rules when the last member stops */
        bool ipv6;                 /* IPv6ULA= given */
        struct in6_addr ula_prefix;/* /64 */
} BerthNetworkDef;

/*
 * /etc/berth/networks/<name>.conf:
 *
 *   [Network]
 *   Bridge=br-web              [A-Za-z0-9][A-Za-z0-9_.-]*, < IFNAMSIZ; default: "berth0" for
 *                              "default", else "bn-<name>" (or "bn-<hash>")
 *   Subnet=10.214.0.0/24       required except for "default"
 *   Gateway=10.214.0.1         default: first host address
 *   NAT=yes                    default yes
 *   Isolated=no                yes: members cannot reach each other (bridge port isolation)
 *   AllowInterContainer=yes    the inverse spelling of Isolated=
 *   Persistent=no
 *   IPv6ULA=fd42:1:2:3::/64    optional; containers with IPv6=yes get <prefix>::<host part of
 *                              their IPv4 address>/64 and a default route via <prefix>::1 (the
 *                              bridge). No IPv6 forwarding/NAT: IPv6 reaches the host and the
 *                              network's members only.
 *
 * The network "default" exists without a file (a file overrides it).
 * dir NULL = BERTH_NETWORK_CONFIG_DIR.
 */
int berth_network_def_load(const char *dir, const char *name, BerthNetworkDef **ret, char **ret_error);
int berth_network_def_parse(const char *name, const char *data, size_t len, BerthNetworkDef **ret,
                            char **ret_error);
void berth_network_def_free(BerthNetworkDef *d);
/* Network names: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 32 chars. */
int berth_network_name_validate(const char *name);
/* Is a usable container address of def: inside the subnet, not network,
 * broadcast or gateway. 0 or -EINVAL / -EADDRNOTAVAIL. */
int berth_network_address_validate(const BerthNetworkDef *def, struct in_addr a);

/* ---- leases (lease.c) ---- */

typedef struct BerthLease {
        struct in_addr address;
        char owner[BERTH_NAME_MAX + 1]; /* "" if the file is empty (crash while writing) */
} BerthLease;

/* Take an address for owner: fixed (validated) if non-NULL, else the first
 * free one probing from a slot derived from the owner's name (so a container
 * usually gets the same address again). A lease already held by owner is
 * reused. Atomic across processes: the lease file appears with its content
 * or not at all. -EADDRINUSE (fixed taken, *ret_holder set if non-NULL),
 * -ENOSPC (pool exhausted). */
int berth_lease_acquire(const char *state_dir, const BerthNetworkDef *def, const char *owner,
                        const struct in_addr *fixed, struct in_addr *ret, char **ret_holder);
/* Remove one lease. owner non-NULL: only if held by owner (else -EPERM).
 * -ENOENT if absent. */
int berth_lease_release(const char *state_dir, const char *network, struct in_addr a, const char *owner);
/* Remove every lease of network held by owner; returns the number removed. */
int berth_lease_release_owner(const char *state_dir, const char *network, const char *owner);
/* All leases of a network, sorted by address; *ret freed with free(). */
int berth_lease_list(const char *state_dir, const char *network, BerthLease **ret, size_t *ret_n);
/* Network names that have a lease directory (for reconciling at startup).
 * NULL-terminated, g_strfreev(). */
int berth_lease_networks(const char *state_dir, char ***ret);

/* ---- published ports (ports.c) ---- */

typedef struct BerthPortClaim {
        int protocol;                 /* IPPROTO_TCP / IPPROTO_UDP */
        uint16_t host_port;
        struct in_addr host_address;  /* INADDR_ANY = any */
        struct in_addr address;       /* container address */
        uint16_t container_port;
        char owner[BERTH_NAME_MAX + 1];
} BerthPortClaim;

/* Port claims of every container (reconcile at startup); free(). */
int berth_port_claims_list(const char *state_dir, BerthPortClaim **ret, size_t *ret_n);

/* ---- the context (setup.c) ---- */

typedef enum BerthNetStep {
        BERTH_NET_STEP_LEASE = 1,
        BERTH_NET_STEP_PORT_CLAIM,
        BERTH_NET_STEP_HOST,          /* sysctl ip_forward, nft base table */
        BERTH_NET_STEP_BRIDGE,
        BERTH_NET_STEP_NFT_NETWORK,
        BERTH_NET_STEP_VETH,          /* host end created up and enslaved */
        BERTH_NET_STEP_PORT_ISOLATE,  /* bridge port flags: isolated, hairpin */
        BERTH_NET_STEP_NETNS,         /* netlink socket inside the container */
        BERTH_NET_STEP_INNER_LINK,    /* lo up, find host0 */
        BERTH_NET_STEP_INNER_ADDR,
        BERTH_NET_STEP_INNER_UP,
        BERTH_NET_STEP_INNER_ROUTE,
        BERTH_NET_STEP_NFT_PORTS,
        BERTH_NET_STEP_FILES,         /* resolv.conf, hosts */
        _BERTH_NET_STEP_MAX,
} BerthNetStep;

typedef struct BerthNetOptions {
        const char *config_dir;          /* NULL = BERTH_NETWORK_CONFIG_DIR */
        const char *state_dir;           /* NULL = BERTH_STATE_DIR */
        const char *resolv_conf;         /* NULL = /etc/resolv.conf */
        const char *resolved_resolv_conf;/* NULL = /run/systemd/resolve/resolv.conf */
        /* Test only: called before each setup step; a negative return fails
         * the step with that errno (and setup rolls back). NULL in berthd. */
        int (*fail_hook)(BerthNetStep step, void *userdata);
        void *fail_userdata;
} BerthNetOptions;

typedef struct BerthNet BerthNet;

int berth_net_new(const BerthNetOptions *opts, BerthNet **ret);
void berth_net_free(BerthNet *n);

typedef struct BerthNetAttachment {
        BerthNetworkMode mode;
        char network[64];              /* bridge mode only */
        char bridge[IFNAMSIZ];
        char host_ifname[IFNAMSIZ];    /* "ve-<name>" or "ve-<hash>" */
        struct in_addr address;
        unsigned prefixlen;
        struct in_addr gateway;
        bool has_ipv6;
        struct in6_addr address6;
        uint8_t mac[6];                /* host0's MAC inside */
        bool weakens_isolation;        /* mode host: record on the container object */
} BerthNetAttachment;

/*
 * Set up networking for one container whose network namespace is netns_fd
 * (ignored for Mode=host, may be -1 then). Reads cfg->name, network_mode,
 * network, address, ports, ipv6, hostname. The caller should remember
 * ret->network for berth_net_teardown() (the config may change meanwhile).
 * run_dir non-NULL: writes <run_dir>/resolv.conf and <run_dir>/hosts for
 * the runtime to bind-mount over /etc/resolv.conf and /etc/hosts.
 * On failure everything done so far is undone.
 */
int berth_net_setup(BerthNet *n, const BerthConfig *cfg, int netns_fd, const char *run_dir,
                    BerthNetAttachment *ret, char **ret_error);

/*
 * Undo berth_net_setup() for a container, from persistent state only (so it
 * works after a daemon restart): nft elements and claims of its published
 * ports, its lease, and the network's bridge and rules if no lease is left
 * and the network is not persistent. The veth is not deleted: it goes away
 * with the container's network namespace. network NULL = default.
 * Idempotent. Use it also to reclaim leases of containers that are not
 * running any more (see berth_lease_list()).
 */
int berth_net_teardown(BerthNet *n, const char *container, const char *network);

/* Remove a network's bridge and rules now, whatever Persistent= says; -EBUSY if it has leases. */
int berth_net_network_down(BerthNet *n, const char *network, char **ret_error);

/* ---- helpers ---- */

/* open("/proc/<pid>/ns/net", O_RDONLY|O_CLOEXEC) */
int berth_netns_open_pid(pid_t pid);
/* A fresh, empty network namespace (made by a helper thread; the caller
 * stays where it is). Returns an O_CLOEXEC fd; the namespace lives while
 * the fd is open. For tests and benchmarks. */
int berth_netns_new(void);
/* Host-side interface name for a container: "ve-<name>" or "ve-<12 hex>". */
void berth_net_host_ifname(const char *container, char ret[IFNAMSIZ]);
/* Stable locally administered unicast MAC derived from a string. */
void berth_net_mac_from_string(const char *s, uint8_t ret[6]);

/* resolv.c: generate the container's files as strings (free()). */
int berth_net_resolv_conf(const char *resolv_conf, const char *resolved_resolv_conf, char **ret);
int berth_net_hosts(const char *hostname, const struct in_addr *address, char **ret);

/* Bench: set up `iterations` bridge-mode containers (default network, one
 * holder keeps the bridge up; namespaces created before and closed after the
 * timed part), then tear them down. Returns the mean setup time in ns
 * through ret_ns. Run it in a throwaway "host" namespace (unshare(CLONE_NEWNET)
 * first) with a BerthNet whose state_dir/config_dir are temporary. */
int berth_net_bench(BerthNet *n, unsigned iterations, uint64_t *ret_ns);
