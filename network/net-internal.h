/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internal interfaces of libberth-network; not installed, not a contract. */

#include <dirent.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "network.h"

struct nl_sock;
struct nl_addr;
struct _GArray;

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_free_ __attribute__((cleanup(freep)))

static inline int take_fd(int *fd) {
        int r = *fd;
        *fd = -1;
        return r;
}
static inline void *take_ptr_(void **p) {
        void *r = *p;
        *p = NULL;
        return r;
}
#define TAKE_PTR(p) take_ptr_((void **) &(p))

/* util.c */
int berth_nl_errno(int nlerr);               /* libnl -NLE_* -> -errno */
uint64_t berth_net_hash(const char *s, uint64_t salt);
int berth_net_printf(char **ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int berth_net_error(char **ret_error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int berth_write_file_atomic(const char *path, const char *content, mode_t mode);
int berth_mkdir_p(const char *path, mode_t mode);
int berth_sysctl_write(const char *key, const char *value); /* key "net/ipv4/ip_forward" */

/* netns.c */
int berth_nl_open(struct nl_sock **ret);                       /* in the caller's netns */
int berth_nl_open_in_netns(int netns_fd, struct nl_sock **ret); /* helper thread */
void berth_nl_close(struct nl_sock *sk);
typedef struct BerthNetnsWorker BerthNetnsWorker;
int berth_netns_worker_new(BerthNetnsWorker **ret);   /* home = the caller's netns */
void berth_netns_worker_free(BerthNetnsWorker *w);
int berth_netns_worker_open(BerthNetnsWorker *w, int netns_fd, struct nl_sock **ret);

/* link.c */
int berth_link_veth_create(struct nl_sock *sk, const char *host_ifname, const uint8_t host_mac[6],
                           int master_ifindex, const char *peer_ifname, const uint8_t peer_mac[6],
                           int netns_fd);
int berth_link_ifindex(struct nl_sock *sk, const char *name, int *ret);
int berth_link_set_up(struct nl_sock *sk, int ifindex);
int berth_link_delete(struct nl_sock *sk, const char *name); /* -ENODEV if absent */
/* Type ("veth", "bridge", ...) and MAC address of a link. */
int berth_link_info(struct nl_sock *sk, const char *name, char *type, size_t type_size, uint8_t ret_mac[6]);

/* bridge.c */
int berth_bridge_ensure(struct nl_sock *sk, const BerthNetworkDef *def, int *ret_ifindex, bool *ret_created);
int berth_bridge_port_flags(struct nl_sock *sk, int port_ifindex, bool isolated, bool hairpin);

/* address.c */
int berth_address_add4(struct nl_sock *sk, int ifindex, struct in_addr a, unsigned prefixlen, bool with_broadcast);
int berth_address_add6(struct nl_sock *sk, int ifindex, const struct in6_addr *a, unsigned prefixlen);
int berth_route_default4(struct nl_sock *sk, struct in_addr gateway);
int berth_route_default6(struct nl_sock *sk, const struct in6_addr *gateway, int ifindex);
struct in_addr berth_prefix_mask(unsigned prefixlen);

/* nft.c */
typedef struct BerthNft BerthNft;
int berth_nft_new(BerthNft **ret);
void berth_nft_free(BerthNft *f);
int berth_nft_ensure_table(BerthNft *f, char **ret_error);
int berth_nft_network_add(BerthNft *f, const BerthNetworkDef *def, char **ret_error);
int berth_nft_network_remove(BerthNft *f, const BerthNetworkDef *def, char **ret_error);
int berth_nft_port_add(BerthNft *f, const BerthPortClaim *c, char **ret_error);
int berth_nft_port_remove(BerthNft *f, const BerthPortClaim *c, char **ret_error);

/* ports.c */
/* Claim host ports for owner; on conflict -EADDRINUSE and *ret_error names the holder. */
int berth_port_claim(const char *state_dir, const BerthPortClaim *c, char **ret_error);
int berth_port_unclaim(const char *state_dir, const BerthPortClaim *c);

/* lease.c: small crash-safe state files */
int berth_state_file_create(int dfd, const char *name, const char *content);
int berth_state_file_read(int dfd, const char *name, char *buf, size_t size);
int berth_state_file_read_owner(int dfd, const char *name, char owner[BERTH_NAME_MAX + 1]);
int berth_state_dir_open(const char *path, bool create, int *ret);
int berth_state_dir_fdopen(int dfd, DIR **ret);
void *berth_garray_steal(struct _GArray *a, size_t *ret_n);
