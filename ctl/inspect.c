/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * berthctl inspect: the kernel's view of a running container. Nothing here
 * comes from berth's own records except the leader PID: namespaces from
 * /proc/PID/ns, the cgroup from /proc/PID/cgroup and its files, the overlay
 * from the container's mountinfo (libmount), the network from rtnetlink inside
 * its network namespace (libnl), capabilities and seccomp from
 * /proc/PID/status.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libmount.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berthctl.h"
#include "config.h"

static const char *const ns_types[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };

static JsonValue *inspect_namespaces(pid_t pid) {
        JsonValue *a = json_array();
        for (size_t i = 0; i < G_N_ELEMENTS(ns_types); i++) {
                g_autofree char *cp = g_strdup_printf("/proc/%d/ns/%s", (int) pid, ns_types[i]);
                g_autofree char *hp = g_strdup_printf("/proc/1/ns/%s", ns_types[i]);
                struct stat cs, hs;
                if (stat(cp, &cs) < 0)
                        continue;
                if (stat(hp, &hs) < 0) {
                        g_free(hp);
                        hp = g_strdup_printf("/proc/self/ns/%s", ns_types[i]);
                        if (stat(hp, &hs) < 0)
                                continue;
                }
                JsonValue *o = json_object();
                json_set(o, "type", json_string(ns_types[i]));
                json_set(o, "inode", json_uint(cs.st_ino));
                json_set(o, "host_inode", json_uint(hs.st_ino));
                json_set(o, "shared", json_bool(cs.st_ino == hs.st_ino && cs.st_dev == hs.st_dev));
                json_append(a, o);
        }
        return a;
}

static JsonValue *cgroup_file(const char *dir, const char *file) {
        g_autofree char *p = g_build_filename(dir, file, NULL), *s = NULL;
        if (read_one_line(p, &s) < 0)
                return json_null();
        return json_string(s);
}

static JsonValue *inspect_cgroup(pid_t pid) {
        g_autofree char *dir = NULL, *path = NULL;
        JsonValue *o = json_object();

        if (cgroup_dir_of_pid(pid, &dir, &path) < 0) {
                json_set(o, "path", json_null());
                return o;
        }
        json_set(o, "path", json_string(path));
        json_set(o, "directory", json_string(dir));
        static const char *const files[] = { "memory.current", "memory.max", "memory.high", "memory.swap.max",
                                             "pids.current", "pids.max", "cpu.max", "cpu.weight", "io.weight",
                                             "cpuset.cpus" };
        for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
                json_set(o, files[i], cgroup_file(dir, files[i]));
        g_autofree char *ep = g_build_filename(dir, "memory.events", NULL), *ev = NULL;
        if (read_full(ep, &ev, NULL) >= 0) {
                const char *k = strstr(ev, "oom_kill ");
                json_set(o, "oom_kill", k ? json_uint(g_ascii_strtoull(k + 9, NULL, 10)) : json_null());
        } else
                json_set(o, "oom_kill", json_null());
        return o;
}

static JsonValue *opt_value(const char *optstr, const char *name) {
        char *val = NULL;
        size_t len = 0;
        if (!optstr || mnt_optstr_get_option(optstr, name, &val, &len) != 0 || !val)
                return json_null();
        g_autofree char *v = g_strndup(val, len);
        return json_string(v);
}

static JsonValue *inspect_mounts(pid_t pid, JsonValue **ret_overlay) {
        g_autofree char *p = g_strdup_printf("/proc/%d/mountinfo", (int) pid);
        struct libmnt_table *tb = mnt_new_table();
        struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        JsonValue *mounts = json_array();

        *ret_overlay = json_null();
        if (!tb || !it || mnt_table_parse_file(tb, p) != 0)
                goto out;
        while (mnt_table_next_fs(tb, it, &fs) == 0) {
                const char *target = mnt_fs_get_target(fs), *type = mnt_fs_get_fstype(fs);
                const char *fsopts = mnt_fs_get_fs_options(fs);
                JsonValue *m = json_object();
                json_set(m, "target", json_string(target));
                json_set(m, "type", json_string(type));
                json_set(m, "source", json_string(mnt_fs_get_source(fs)));
                json_set(m, "root", json_string(mnt_fs_get_root(fs)));
                json_set(m, "options", json_string(mnt_fs_get_vfs_options(fs)));
                json_append(mounts, m);
                if (target && strcmp(target, "/") == 0 && type && strcmp(type, "overlay") == 0) {
                        JsonValue *o = json_object();
                        json_set(o, "lowerdir", opt_value(fsopts, "lowerdir"));
                        json_set(o, "upperdir", opt_value(fsopts, "upperdir"));
                        json_set(o, "workdir", opt_value(fsopts, "workdir"));
                        json_set(o, "options", json_string(fsopts));
                        json_free(*ret_overlay);
                        *ret_overlay = o;
                }
        }
out:
        mnt_free_iter(it);
        mnt_unref_table(tb);
        return mounts;
}

/* A NETLINK_ROUTE socket inside the network namespace of pid. The socket stays
 * bound to that namespace after we switch back to ours. */
static struct nl_sock *netns_socket(pid_t pid, bool *ret_shared) {
        g_autofree char *p = g_strdup_printf("/proc/%d/ns/net", (int) pid);
        _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY|O_CLOEXEC);
        _cleanup_close_ int target = open(p, O_RDONLY|O_CLOEXEC);
        struct nl_sock *sock;
        struct stat a, b;

        if (self < 0 || target < 0)
                return NULL;
        if (ret_shared)
                *ret_shared = fstat(self, &a) >= 0 && fstat(target, &b) >= 0 && a.st_ino == b.st_ino &&
                              a.st_dev == b.st_dev;
        sock = nl_socket_alloc();
        if (!sock)
                return NULL;
        if (setns(target, CLONE_NEWNET) < 0) {
                nl_socket_free(sock);
                return NULL;
        }
        int r = nl_connect(sock, NETLINK_ROUTE);
        if (setns(self, CLONE_NEWNET) < 0) {
                /* Cannot get back: do not carry on in the container's netns. */
                fprintf(stderr, "Failed to return to our network namespace: %s\n", strerror(errno));
                _exit(EXIT_FAIL);
        }
        if (r < 0) {
                nl_socket_free(sock);
                return NULL;
        }
        return sock;
}

static char *addr_str(struct nl_addr *a) {
        char buf[128];
        if (!a)
                return NULL;
        if (nl_addr_get_prefixlen(a) == 0 && nl_addr_iszero(a))
                return g_strdup("default");
        return g_strdup(nl_addr2str(a, buf, sizeof(buf)));
}

char **container_addresses(pid_t leader) {
        struct nl_sock *sock = netns_socket(leader, NULL);
        struct nl_cache *cache = NULL;
        GPtrArray *out;

        if (!sock)
                return NULL;
        if (rtnl_addr_alloc_cache(sock, &cache) < 0) {
                nl_socket_free(sock);
                return NULL;
        }
        out = g_ptr_array_new();
        /* IPv4 first, then global IPv6. */
        for (int pass = 0; pass < 2; pass++)
                for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                        struct rtnl_addr *a = (struct rtnl_addr *) o;
                        int family = rtnl_addr_get_family(a);
                        if ((pass == 0 && family != AF_INET) || (pass == 1 && family != AF_INET6))
                                continue;
                        if (rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
                                continue;
                        g_autofree char *s = addr_str(rtnl_addr_get_local(a));
                        if (s)
                                g_ptr_array_add(out, g_steal_pointer(&s));
                }
        g_ptr_array_add(out, NULL);
        nl_cache_free(cache);
        nl_socket_free(sock);
        return (char **) g_ptr_array_free(out, FALSE);
}

static char *link_name(struct nl_cache *links, int ifindex) {
        char buf[IFNAMSIZ + 1];
        if (ifindex <= 0 || !links || !rtnl_link_i2name(links, ifindex, buf, sizeof(buf)))
                return NULL;
        return g_strdup(buf);
}

static JsonValue *inspect_network(pid_t pid) {
        JsonValue *o = json_object();
        struct nl_sock *sock, *host_sock = NULL;
        struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL, *host_links = NULL;
        bool shared = false;

        sock = netns_socket(pid, &shared);
        if (!sock) {
                json_set(o, "error", json_string("cannot enter the container's network namespace"));
                return o;
        }
        json_set(o, "shared_with_host", json_bool(shared));
        if (rtnl_link_alloc_cache(sock, AF_UNSPEC, &links) < 0 || rtnl_addr_alloc_cache(sock, &addrs) < 0 ||
            rtnl_route_alloc_cache(sock, AF_UNSPEC, 0, &routes) < 0) {
                json_set(o, "error", json_string("netlink dump failed"));
                goto out;
        }
        host_sock = nl_socket_alloc();
        if (host_sock && nl_connect(host_sock, NETLINK_ROUTE) >= 0)
                (void) rtnl_link_alloc_cache(host_sock, AF_UNSPEC, &host_links);

        JsonValue *la = json_array();
        for (struct nl_object *x = nl_cache_get_first(links); x; x = nl_cache_get_next(x)) {
                struct rtnl_link *l = (struct rtnl_link *) x;
                JsonValue *lo = json_object();
                char buf[128];
                int32_t nsid;
                int ifindex = rtnl_link_get_ifindex(l);

                json_set(lo, "name", json_string(rtnl_link_get_name(l)));
                json_set(lo, "ifindex", json_int(ifindex));
                json_set(lo, "type", json_string(rtnl_link_get_type(l) ? rtnl_link_get_type(l) :
                                                 (rtnl_link_get_arptype(l) == 772 ? "loopback" : "device")));
                json_set(lo, "mac", json_string(rtnl_link_get_addr(l) ? nl_addr2str(rtnl_link_get_addr(l), buf, sizeof(buf)) : NULL));
                json_set(lo, "mtu", json_uint(rtnl_link_get_mtu(l)));
                json_set(lo, "up", json_bool(rtnl_link_get_flags(l) & IFF_UP));
                json_set(lo, "operstate", json_string(rtnl_link_operstate2str(rtnl_link_get_operstate(l), buf, sizeof(buf))));
                /* The peer of a veth lives in another namespace (the host's,
                 * if berthd made it): name it and its bridge there. */
                int peer = rtnl_link_get_link(l);
                if (peer > 0 && rtnl_link_get_link_netnsid(l, &nsid) == 0 && !shared && host_links) {
                        struct rtnl_link *hl = rtnl_link_get(host_links, peer);
                        if (hl) {
                                json_set(lo, "host_peer", json_string(rtnl_link_get_name(hl)));
                                g_autofree char *br = link_name(host_links, rtnl_link_get_master(hl));
                                json_set(lo, "host_bridge", json_string(br));
                                rtnl_link_put(hl);
                        }
                }
                JsonValue *aa = json_array();
                for (struct nl_object *y = nl_cache_get_first(addrs); y; y = nl_cache_get_next(y)) {
                        struct rtnl_addr *a = (struct rtnl_addr *) y;
                        if (rtnl_addr_get_ifindex(a) != ifindex)
                                continue;
                        g_autofree char *s = addr_str(rtnl_addr_get_local(a));
                        if (s)
                                json_append(aa, json_string(s));
                }
                json_set(lo, "addresses", aa);
                json_append(la, lo);
        }
        json_set(o, "links", la);

        JsonValue *ra = json_array();
        for (struct nl_object *x = nl_cache_get_first(routes); x; x = nl_cache_get_next(x)) {
                struct rtnl_route *rt = (struct rtnl_route *) x;
                if (rtnl_route_get_table(rt) != RT_TABLE_MAIN)
                        continue;
                JsonValue *ro = json_object();
                g_autofree char *dst = addr_str(rtnl_route_get_dst(rt));
                json_set(ro, "family", json_string(rtnl_route_get_family(rt) == AF_INET6 ? "ipv6" : "ipv4"));
                json_set(ro, "destination", json_string(dst));
                struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
                if (nh) {
                        g_autofree char *gw = rtnl_route_nh_get_gateway(nh) ? addr_str(rtnl_route_nh_get_gateway(nh)) : NULL;
                        g_autofree char *dev = link_name(links, rtnl_route_nh_get_ifindex(nh));
                        json_set(ro, "gateway", json_string(gw));
                        json_set(ro, "device", json_string(dev));
                }
                json_append(ra, ro);
        }
        json_set(o, "routes", ra);
out:
        if (links) nl_cache_free(links);
        if (addrs) nl_cache_free(addrs);
        if (routes) nl_cache_free(routes);
        if (host_links) nl_cache_free(host_links);
        if (host_sock) nl_socket_free(host_sock);
        nl_socket_free(sock);
        return o;
}

static JsonValue *caps_to_json(uint64_t mask) {
        JsonValue *a = json_array();
        for (int c = 0; c < 64; c++)
                if (mask & (UINT64_C(1) << c)) {
                        const char *n = berth_capability_name(c);
                        if (n)
                                json_append(a, json_string(n));
                        else {
                                g_autofree char *s = g_strdup_printf("cap_%d", c);
                                json_append(a, json_string(s));
                        }
                }
        return a;
}

static JsonValue *inspect_process(pid_t pid) {
        g_autofree char *p = g_strdup_printf("/proc/%d/status", (int) pid), *data = NULL;
        JsonValue *o = json_object();

        json_set(o, "pid", json_int(pid));
        if (read_full(p, &data, NULL) < 0)
                return o;
        g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
        for (char **l = lines; *l; l++) {
                char *colon = strchr(*l, ':');
                if (!colon)
                        continue;
                *colon = 0;
                const char *v = g_strstrip(colon + 1);
                if (g_str_has_prefix(*l, "Cap")) {
                        uint64_t m = g_ascii_strtoull(v, NULL, 16);
                        JsonValue *c = json_object();
                        json_set(c, "mask", json_string(v));
                        json_set(c, "names", caps_to_json(m));
                        json_set(o, *l, c);
                } else if (strcmp(*l, "NoNewPrivs") == 0 || strcmp(*l, "Seccomp") == 0 ||
                           strcmp(*l, "Seccomp_filters") == 0)
                        json_set(o, *l, json_int(atoi(v)));
                else if (strcmp(*l, "Uid") == 0 || strcmp(*l, "Gid") == 0 || strcmp(*l, "Name") == 0)
                        json_set(o, *l, json_string(v));
        }
        static const char *const maps[] = { "uid_map", "gid_map" };
        for (size_t i = 0; i < G_N_ELEMENTS(maps); i++) {
                g_autofree char *mp = g_strdup_printf("/proc/%d/%s", (int) pid, maps[i]), *m = NULL;
                if (read_full(mp, &m, NULL) >= 0) {
                        JsonValue *a = json_array();
                        g_auto(GStrv) ml = g_strsplit(m, "\n", -1);
                        for (char **x = ml; *x; x++) {
                                g_auto(GStrv) f = g_strsplit_set(g_strstrip(*x), " \t", -1);
                                GString *s = g_string_new(NULL);
                                for (char **y = f; *y; y++)
                                        if (**y)
                                                g_string_append_printf(s, "%s%s", s->len ? " " : "", *y);
                                if (s->len)
                                        json_append(a, json_string(s->str));
                                g_string_free(s, TRUE);
                        }
                        json_set(o, maps[i], a);
                }
        }
        return o;
}

static void print_kv(const char *k, const char *v) {
        printf("  %-16s %s\n", k, v ? v : "-");
}

static const char *jstr(const JsonValue *o, const char *k) {
        return json_get_string(prop_get(o, k));
}

static void print_inspect(const JsonValue *r) {
        const JsonValue *v;

        int64_t leader = 0;
        json_get_number(prop_get(r, "leader"), NULL, &leader);
        printf("%sContainer%s %s, PID 1 is %" PRIi64 " in the host's PID namespace\n", ansi_highlight(), ansi_normal(),
               jstr(r, "name") ? jstr(r, "name") : "-", leader);

        printf("\n%sNamespaces%s (container vs. host PID 1)\n", ansi_highlight(), ansi_normal());
        v = prop_get(r, "namespaces");
        for (size_t i = 0; i < json_length(v); i++) {
                const JsonValue *n = json_index(v, i);
                uint64_t ino = 0, hino = 0;
                bool shared = false;
                json_get_number(prop_get(n, "inode"), &ino, NULL);
                json_get_number(prop_get(n, "host_inode"), &hino, NULL);
                json_get_boolean(prop_get(n, "shared"), &shared);
                const char *type = jstr(n, "type");
                /* berth never isolates time, and user only with PrivateUsers=:
                 * sharing those is the default, not a weakening. */
                bool expected = shared && (strcmp(type, "time") == 0 || strcmp(type, "user") == 0);
                printf("  %-7s %-12" PRIu64 " %-12" PRIu64 " %s%s%s\n", type, ino, hino,
                       shared && !expected ? ansi_red() : "",
                       !shared ? "private" : expected ? (strcmp(type, "user") == 0 ? "host (no PrivateUsers=)" : "host")
                                                      : "SHARED with the host",
                       shared && !expected ? ansi_normal() : "");
        }

        const JsonValue *cg = prop_get(r, "cgroup");
        printf("\n%sCgroup%s %s\n", ansi_highlight(), ansi_normal(), jstr(cg, "path") ? jstr(cg, "path") : "-");
        for (size_t i = 0; i < json_length(cg); i++) {
                const char *k = json_object_key(cg, i);
                if (strcmp(k, "path") == 0)
                        continue;
                g_autofree char *t = json_to_text(json_index(cg, i));
                print_kv(k, *t ? t : NULL);
        }

        const JsonValue *ov = prop_get(r, "overlay");
        printf("\n%sRoot filesystem%s\n", ansi_highlight(), ansi_normal());
        if (jstr(ov, "options") || prop_get(ov, "lowerdir")) {
                print_kv("lowerdir", jstr(ov, "lowerdir"));
                print_kv("upperdir", jstr(ov, "upperdir"));
                print_kv("workdir", jstr(ov, "workdir"));
        } else
                print_kv("overlay", "not mounted at / (no overlay root)");
        print_kv("merged", jstr(r, "merged"));
        print_kv("mounts", NULL);
        v = prop_get(r, "mounts");
        for (size_t i = 0; i < json_length(v); i++) {
                const JsonValue *m = json_index(v, i);
                printf("    %-28s %-10s %s\n", jstr(m, "target"), jstr(m, "type"), jstr(m, "options") ? jstr(m, "options") : "");
        }

        const JsonValue *net = prop_get(r, "network");
        bool shared = false;
        json_get_boolean(prop_get(net, "shared_with_host"), &shared);
        printf("\n%sNetwork%s%s\n", ansi_highlight(), ansi_normal(), shared ? " (the host's namespace!)" : "");
        if (jstr(net, "error"))
                print_kv("error", jstr(net, "error"));
        v = prop_get(net, "links");
        for (size_t i = 0; i < json_length(v); i++) {
                const JsonValue *l = json_index(v, i);
                g_autofree char *a = json_to_text(prop_get(l, "addresses"));
                bool up = false;
                json_get_boolean(prop_get(l, "up"), &up);
                printf("  %-10s %-9s %-5s %s", jstr(l, "name"), jstr(l, "type") ? jstr(l, "type") : "-", up ? "up" : "down",
                       *a ? a : "-");
                if (jstr(l, "host_peer"))
                        printf("  (host side %s%s%s)", jstr(l, "host_peer"), jstr(l, "host_bridge") ? " on bridge " : "",
                               jstr(l, "host_bridge") ? jstr(l, "host_bridge") : "");
                putchar('\n');
        }
        v = prop_get(net, "routes");
        for (size_t i = 0; i < json_length(v); i++) {
                const JsonValue *rt = json_index(v, i);
                printf("  route %s%s%s%s%s\n", jstr(rt, "destination") ? jstr(rt, "destination") : "?",
                       jstr(rt, "gateway") ? " via " : "", jstr(rt, "gateway") ? jstr(rt, "gateway") : "",
                       jstr(rt, "device") ? " dev " : "", jstr(rt, "device") ? jstr(rt, "device") : "");
        }

        const JsonValue *pr = prop_get(r, "process");
        printf("\n%sPID 1%s %s\n", ansi_highlight(), ansi_normal(), jstr(pr, "Name") ? jstr(pr, "Name") : "");
        static const char *const sets[] = { "CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb" };
        for (size_t i = 0; i < G_N_ELEMENTS(sets); i++) {
                const JsonValue *c = prop_get(pr, sets[i]);
                if (!c)
                        continue;
                g_autofree char *names = json_to_text(prop_get(c, "names"));
                g_autofree char *l = g_strdup_printf("%s %s", jstr(c, "mask"), names);
                print_kv(sets[i], l);
        }
        int64_t nnp = -1, sc = -1, scf = -1;
        json_get_number(prop_get(pr, "NoNewPrivs"), NULL, &nnp);
        json_get_number(prop_get(pr, "Seccomp"), NULL, &sc);
        json_get_number(prop_get(pr, "Seccomp_filters"), NULL, &scf);
        print_kv("NoNewPrivs", nnp < 0 ? NULL : nnp ? "1 (set)" : "0");
        {
                g_autofree char *nf = scf >= 0 ? g_strdup_printf(", %" PRIi64 " filter(s)", scf) : g_strdup("");
                g_autofree char *s = g_strdup_printf("%" PRIi64 " (%s)%s", sc,
                                                     sc == 2 ? "filter" : sc == 1 ? "strict" : sc == 0 ? "disabled" : "?",
                                                     nf);
                print_kv("Seccomp", sc < 0 ? NULL : s);
        }
        g_autofree char *um = json_to_text(prop_get(pr, "uid_map"));
        print_kv("uid_map", um);
}

int verb_inspect(int argc, char **argv) {
        _cleanup_json_ JsonValue *props = NULL;
        const char *name = argc > 1 ? argv[1] : arg.name_override;
        pid_t leader = arg.pid;

        if (arg.host) {
                fprintf(stderr, "inspect reads the local kernel; it does not work with -H.\n");
                return EXIT_INVALID_ARGS;
        }
        if (geteuid() != 0)
                fprintf(stderr, "Warning: not running as root; some kernel state of the container cannot be read.\n");
        if (leader <= 0) {
                _cleanup_bus_ sd_bus *bus = NULL;
                if (bus_connect(&bus) < 0)
                        return EXIT_FAIL;
                int r = container_leader(bus, name, &leader, &props);
                if (r < 0)
                        return -r;
        }
        if (kill(leader, 0) < 0 && errno == ESRCH) {
                fprintf(stderr, "PID %d does not exist.\n", (int) leader);
                return EXIT_NOT_RUNNING;
        }

        _cleanup_json_ JsonValue *o = json_object();
        json_set(o, "name", json_string(name));
        json_set(o, "leader", json_int(leader));
        json_set(o, "namespaces", inspect_namespaces(leader));
        json_set(o, "cgroup", inspect_cgroup(leader));
        JsonValue *overlay = NULL;
        JsonValue *mounts = inspect_mounts(leader, &overlay);
        json_set(o, "overlay", overlay);
        json_set(o, "merged", json_string(props ? prop_str(props, "RootDirectory") : NULL));
        json_set(o, "mounts", mounts);
        json_set(o, "network", inspect_network(leader));
        json_set(o, "process", inspect_process(leader));

        if (arg.json != JSON_OFF) {
                json_print(stdout, o, arg.json);
                return EXIT_OK;
        }
        pager_open();
        print_inspect(o);
        return EXIT_OK;
}
