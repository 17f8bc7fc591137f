/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Published port claims: <state_dir>/ports/<tcp|udp>-<port>, one file per
 * host port whatever the bind address (a host port belongs to one container),
 * created atomically like leases. Content, one per line: owner, host
 * address ("*" for any), container address, container port. The files are
 * the source of truth for who owns a port (to name the holder on conflict)
 * and for removing the nft elements after a daemon restart.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net-internal.h"

static const char *proto_name(int p) {
        return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : NULL;
}

static int ports_dir_open(const char *state_dir, bool create, int *ret) {
        _cleanup_free_ char *path = NULL;
        if (berth_net_printf(&path, "%s/ports", state_dir ? state_dir : BERTH_STATE_DIR) < 0)
                return -ENOMEM;
        return berth_state_dir_open(path, create, ret);
}

static int claim_name(const BerthPortClaim *c, char *buf, size_t size) {
        const char *p = proto_name(c->protocol);
        if (!p || c->host_port == 0)
                return -EINVAL;
        snprintf(buf, size, "%s-%u", p, (unsigned) c->host_port);
        return 0;
}

static int parse_claim(const char *fname, const char *content, BerthPortClaim *c) {
        char proto[4];
        unsigned port;
        if (sscanf(fname, "%3[a-z]-%u", proto, &port) != 2 || port == 0 || port > 65535)
                return -EINVAL;
        memset(c, 0, sizeof *c);
        c->protocol = strcmp(proto, "tcp") == 0 ? IPPROTO_TCP : strcmp(proto, "udp") == 0 ? IPPROTO_UDP : -1;
        if (c->protocol < 0)
                return -EINVAL;
        c->host_port = (uint16_t) port;
        g_auto(GStrv) lines = g_strsplit(content, "\n", 5);
        if (g_strv_length(lines) < 4)
                return -EINVAL;
        g_strlcpy(c->owner, lines[0], sizeof c->owner);
        if (strcmp(lines[1], "*") != 0 && inet_pton(AF_INET, lines[1], &c->host_address) != 1)
                return -EINVAL;
        if (inet_pton(AF_INET, lines[2], &c->address) != 1)
                return -EINVAL;
        unsigned cp;
        if (sscanf(lines[3], "%u", &cp) != 1 || cp == 0 || cp > 65535)
                return -EINVAL;
        c->container_port = (uint16_t) cp;
        return 0;
}

int berth_port_claim(const char *state_dir, const BerthPortClaim *c, char **ret_error) {
        char name[32];
        int r = claim_name(c, name, sizeof name);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = -1;
        r = ports_dir_open(state_dir, true, &dfd);
        if (r < 0)
                return r;
        char host[INET_ADDRSTRLEN] = "*", addr[INET_ADDRSTRLEN];
        if (c->host_address.s_addr != INADDR_ANY)
                inet_ntop(AF_INET, &c->host_address, host, sizeof host);
        inet_ntop(AF_INET, &c->address, addr, sizeof addr);
        _cleanup_free_ char *content = NULL;
        if (berth_net_printf(&content, "%s\n%s\n%s\n%u\n", c->owner, host, addr, (unsigned) c->container_port) < 0)
                return -ENOMEM;
        r = berth_state_file_create(dfd, name, content);
        if (r == -EEXIST) {
                char holder[BERTH_NAME_MAX + 1];
                if (berth_state_file_read_owner(dfd, name, holder) < 0)
                        strcpy(holder, "?");
                return berth_net_error(ret_error, -EADDRINUSE,
                                       "port %s/%u is already published by container '%s'",
                                       proto_name(c->protocol), (unsigned) c->host_port, holder);
        }
        return r;
}

int berth_port_unclaim(const char *state_dir, const BerthPortClaim *c) {
        char name[32];
        int r = claim_name(c, name, sizeof name);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = -1;
        r = ports_dir_open(state_dir, false, &dfd);
        if (r < 0)
                return r;
        char holder[BERTH_NAME_MAX + 1];
        r = berth_state_file_read_owner(dfd, name, holder);
        if (r < 0)
                return r;
        if (strcmp(holder, c->owner) != 0)
                return -EPERM;
        return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
}

int berth_port_claims_list(const char *state_dir, BerthPortClaim **ret, size_t *ret_n) {
        _cleanup_close_ int dfd = -1;
        int r = ports_dir_open(state_dir, false, &dfd);
        *ret = NULL;
        *ret_n = 0;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        DIR *d;
        r = berth_state_dir_fdopen(dfd, &d);
        if (r < 0)
                return r;
        GArray *a = g_array_new(FALSE, TRUE, sizeof(BerthPortClaim));
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                char buf[256];
                BerthPortClaim c;
                if (de->d_name[0] == '.')
                        continue;
                if (berth_state_file_read(dfd, de->d_name, buf, sizeof buf) < 0)
                        continue;
                if (parse_claim(de->d_name, buf, &c) < 0)
                        continue;
                g_array_append_val(a, c);
        }
        /* A claim we could not list would keep its rule and its port: say so. */
        r = errno > 0 ? -errno : 0;
        closedir(d);
        if (r < 0) {
                g_array_unref(a);
                return r;
        }
        BerthPortClaim *v = berth_garray_steal(a, ret_n);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return (int) *ret_n;
}
