/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network definitions: /etc/berth/networks/<name>.conf (GKeyFile). */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "net-internal.h"

#define NETWORK_NAME_MAX 32

int berth_network_name_validate(const char *name) {
        if (!name || !*name || strlen(name) > NETWORK_NAME_MAX)
                return -EINVAL;
        if (!g_ascii_isalnum(name[0]))
                return -EINVAL;
        for (const char *p = name; *p; p++)
                if (!g_ascii_isalnum(*p) && !strchr("_.-", *p))
                        return -EINVAL;
        if (strstr(name, ".."))
                return -EINVAL;
        return 0;
}

void berth_network_def_free(BerthNetworkDef *d) {
        if (!d)
                return;
        free(d->name);
        free(d->bridge);
        free(d);
}

static int parse_cidr4(const char *s, struct in_addr *ret, unsigned *ret_prefix) {
        char buf[INET_ADDRSTRLEN + 4];
        if (strlen(s) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, s);
        char *slash = strchr(buf, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        char *end;
        errno = 0;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (*end || end == slash + 1 || p > 32)
                return -EINVAL;
        if (inet_pton(AF_INET, buf, ret) != 1)
                return -EINVAL;
        *ret_prefix = (unsigned) p;
        return 0;
}

/* Stricter than the kernel: the name also goes into nft commands. */
static bool bridge_name_ok(const char *s) {
        if (!s || !*s || strlen(s) >= IFNAMSIZ || !g_ascii_isalnum(s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!g_ascii_isalnum(*p) && !strchr("_.-", *p))
                        return false;
        return true;
}

int berth_network_address_validate(const BerthNetworkDef *def, struct in_addr a) {
        uint32_t mask = ntohl(berth_prefix_mask(def->prefixlen).s_addr);
        uint32_t net = ntohl(def->subnet.s_addr), h = ntohl(a.s_addr);
        if ((h & mask) != net)
                return -EINVAL;
        if (h == net || h == (net | ~mask) || a.s_addr == def->gateway.s_addr)
                return -EADDRNOTAVAIL;
        return 0;
}

static int get_bool(GKeyFile *kf, const char *key, bool *v, char **ret_error) {
        g_autofree char *s = g_key_file_get_string(kf, "Network", key, NULL);
        if (!s)
                return 0;
        bool b;
        if (berth_parse_bool(g_strstrip(s), &b) < 0)
                return berth_net_error(ret_error, -EINVAL, "[Network] %s=%s: not a boolean", key, s);
        *v = b;
        return 1;
}

static int def_from_keyfile(const char *name, GKeyFile *kf, BerthNetworkDef **ret, char **ret_error) {
        bool is_default = strcmp(name, BERTH_NETWORK_DEFAULT) == 0;
        g_autofree char *bridge = NULL, *subnet = NULL, *gw = NULL, *ula = NULL;
        BerthNetworkDef *d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        int r;
        d->nat = true;
        d->inter_container = true;
        d->name = strdup(name);
        if (!d->name) {
                r = -ENOMEM;
                goto fail;
        }

        if (kf) {
                gchar **keys = g_key_file_get_keys(kf, "Network", NULL, NULL);
                static const char *const known[] = { "Bridge", "Subnet", "Gateway", "NAT", "Isolated",
                                                     "AllowInterContainer", "Persistent", "IPv6ULA", NULL };
                for (gchar **k = keys; k && *k; k++)
                        if (!g_strv_contains(known, *k)) {
                                r = berth_net_error(ret_error, -EINVAL, "network %s: unknown key [Network] %s", name, *k);
                                g_strfreev(keys);
                                goto fail;
                        }
                g_strfreev(keys);
        }

        bridge = kf ? g_key_file_get_string(kf, "Network", "Bridge", NULL) : NULL;
        if (bridge) {
                g_strstrip(bridge);
                if (!bridge_name_ok(bridge)) {
                        r = berth_net_error(ret_error, -EINVAL, "network %s: [Network] Bridge=%s: invalid interface name", name, bridge);
                        goto fail;
                }
                d->bridge = strdup(bridge);
        } else if (is_default)
                d->bridge = strdup(BERTH_NETWORK_DEFAULT_BRIDGE);
        else {
                char b[IFNAMSIZ];
                if (strlen("bn-") + strlen(name) < IFNAMSIZ)
                        snprintf(b, sizeof b, "bn-%s", name);
                else
                        snprintf(b, sizeof b, "bn-%012llx",
                                 (unsigned long long) (berth_net_hash(name, 0x626e) & 0xffffffffffffULL));
                d->bridge = strdup(b);
        }
        if (!d->bridge) {
                r = -ENOMEM;
                goto fail;
        }

        subnet = kf ? g_key_file_get_string(kf, "Network", "Subnet", NULL) : NULL;
        if (!subnet && !is_default) {
                r = berth_net_error(ret_error, -EINVAL, "network %s: [Network] Subnet= is required", name);
                goto fail;
        }
        const char *sn = subnet ? g_strstrip(subnet) : BERTH_NETWORK_DEFAULT_SUBNET;
        if (parse_cidr4(sn, &d->subnet, &d->prefixlen) < 0 || d->prefixlen < 8 || d->prefixlen > 30) {
                r = berth_net_error(ret_error, -EINVAL, "network %s: [Network] Subnet=%s: need an IPv4 a.b.c.d/8..30", name, sn);
                goto fail;
        }
        if ((d->subnet.s_addr & ~berth_prefix_mask(d->prefixlen).s_addr) != 0) {
                r = berth_net_error(ret_error, -EINVAL, "network %s: [Network] Subnet=%s: host bits set", name, sn);
                goto fail;
        }

        gw = kf ? g_key_file_get_string(kf, "Network", "Gateway", NULL) : NULL;
        if (gw) {
                if (inet_pton(AF_INET, g_strstrip(gw), &d->gateway) != 1) {
                        r = berth_net_error(ret_error, -EINVAL, "network %s: [Network] Gateway=%s: not an IPv4 address", name, gw);
                        goto fail;
                }
        } else
                d->gateway.s_addr = htonl(ntohl(d->subnet.s_addr) + 1);
        {
                /* Gateway must be a host address of the subnet. */
                struct in_addr saved = d->gateway;
                d->gateway.s_addr = 0;
                r = berth_network_address_validate(d, saved);
                d->gateway = saved;
                if (r < 0) {
                        char sbuf[INET_ADDRSTRLEN];
                        inet_ntop(AF_INET, &saved, sbuf, sizeof sbuf);
                        r = berth_net_error(ret_error, -EINVAL, "network %s: Gateway %s is not a host address of %s", name, sbuf, sn);
                        goto fail;
                }
        }

        if (kf) {
                bool isolated = false;
                if ((r = get_bool(kf, "NAT", &d->nat, ret_error)) < 0 ||
                    (r = get_bool(kf, "Persistent", &d->persistent, ret_error)) < 0 ||
                    (r = get_bool(kf, "AllowInterContainer", &d->inter_container, ret_error)) < 0)
                        goto fail;
                r = get_bool(kf, "Isolated", &isolated, ret_error);
                if (r < 0)
                        goto fail;
                if (r > 0)
                        d->inter_container = !isolated;

                ula = g_key_file_get_string(kf, "Network", "IPv6ULA", NULL);
                if (ula) {
                        g_strstrip(ula);
                        char *slash = strchr(ula, '/');
                        if (slash) {
                                if (strcmp(slash, "/64") != 0) {
                                        r = berth_net_error(ret_error, -EINVAL, "network %s: IPv6ULA=%s: only /64 is supported", name, ula);
                                        goto fail;
                                }
                                *slash = 0;
                        }
                        if (inet_pton(AF_INET6, ula, &d->ula_prefix) != 1 || (d->ula_prefix.s6_addr[0] & 0xfe) != 0xfc) {
                                r = berth_net_error(ret_error, -EINVAL, "network %s: IPv6ULA=%s: need an fc00::/7 prefix", name, ula);
                                goto fail;
                        }
                        memset(d->ula_prefix.s6_addr + 8, 0, 8);
                        d->ipv6 = true;
                }
        }

        *ret = d;
        return 0;
fail:
        berth_network_def_free(d);
        return r;
}

int berth_network_def_parse(const char *name, const char *data, size_t len, BerthNetworkDef **ret, char **ret_error) {
        if (berth_network_name_validate(name) < 0)
                return berth_net_error(ret_error, -EINVAL, "invalid network name '%s'", name ? name : "");
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) e = NULL;
        if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &e))
                return berth_net_error(ret_error, -EINVAL, "network %s: %s", name, e->message);
        return def_from_keyfile(name, kf, ret, ret_error);
}

int berth_network_def_load(const char *dir, const char *name, BerthNetworkDef **ret, char **ret_error) {
        if (berth_network_name_validate(name) < 0)
                return berth_net_error(ret_error, -EINVAL, "invalid network name '%s'", name ? name : "");
        g_autofree char *path = g_strdup_printf("%s/%s.conf", dir ? dir : BERTH_NETWORK_CONFIG_DIR, name);
        g_autofree char *data = NULL;
        gsize len = 0;
        g_autoptr(GError) e = NULL;
        if (!g_file_get_contents(path, &data, &len, &e)) {
                if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                        if (strcmp(name, BERTH_NETWORK_DEFAULT) == 0)
                                return def_from_keyfile(name, NULL, ret, ret_error);
                        return berth_net_error(ret_error, -ENOENT, "network %s: %s does not exist", name, path);
                }
                return berth_net_error(ret_error, -EIO, "network %s: %s", name, e->message);
        }
        int r = berth_network_def_parse(name, data, len, ret, ret_error);
        if (r < 0 && ret_error && *ret_error) {
                char *m = g_strdup_printf("%s: %s", path, *ret_error);
                free(*ret_error);
                *ret_error = strdup(m);
                g_free(m);
        }
        return r;
}
