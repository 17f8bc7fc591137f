/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host tier: libberth-network against the real kernel.
 *
 * The whole test runs in a network namespace it creates first (unshare -n),
 * which plays "the host": the bridges, veths, sysctls and the nft table all
 * live there and vanish with the process, even if it crashes. "Containers"
 * and the "external host" are further namespaces made with berth_netns_new().
 * Every address used lives in those namespaces: 10.213.0.0/16 (default
 * network), 10.214.x.0/24 (named networks), 198.51.100.0/24 (TEST-NET-2,
 * host <-> external). State and config dirs are a mkdtemp() directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "net-internal.h"
#include "network.h"

static int failures;
static char tmpdir[] = "/tmp/berth-net-test-XXXXXX";
static char confdir[256], statedir[256], rundir[256];
static pid_t servers[32];
static int server_ns[32];
static unsigned n_servers;

#define CHECK(cond, ...)                                                       \
        do {                                                                   \
                if (!(cond)) {                                                 \
                        failures++;                                            \
                        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
                        fprintf(stderr, __VA_ARGS__);                          \
                        fputc('\n', stderr);                                   \
                }                                                              \
        } while (0)

#define CHECK_RC(r, err)                                                       \
        CHECK((r) >= 0, "r=%d (%s) %s", (r), strerror((r) < 0 ? -(r) : 0), (err) ? (err) : "")

/* Run a shell command in netns ns (-1: the test's "host" netns); capture
 * stdout into out (may be NULL). Returns the exit status or -1. */
static int sh_in(int ns, char *out, size_t out_size, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int sh_in(int ns, char *out, size_t out_size, const char *fmt, ...) {
        char cmd[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (ns >= 0 && setns(ns, CLONE_NEWNET) < 0)
                        _exit(126);
                dup2(p[1], 1);
                int nul = open("/dev/null", O_RDONLY);
                dup2(nul, 0);
                execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        size_t len = 0;
        char buf[4096];
        ssize_t k;
        while ((k = read(p[0], buf, sizeof buf)) > 0)
                if (out && len + 1 < out_size) {
                        size_t c = MIN((size_t) k, out_size - 1 - len);
                        memcpy(out + len, buf, c);
                        len += c;
                }
        close(p[0]);
        if (out)
                out[len] = 0;
        int st;
        if (waitpid(pid, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A busybox nc server answering "reply" on port, in ns, until the end. */
static void server_in(int ns, unsigned port, const char *reply) {
        pid_t pid = fork();
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (ns >= 0 && setns(ns, CLONE_NEWNET) < 0)
                        _exit(126);
                int nul = open("/dev/null", O_RDWR);
                dup2(nul, 0);
                dup2(nul, 1);
                dup2(nul, 2);
                char p[16];
                snprintf(p, sizeof p, "%u", port);
                execl("/bin/busybox", "busybox", "nc", "-ll", "-p", p, "-e", "/bin/busybox", "echo", reply,
                      (char *) NULL);
                _exit(127);
        }
        if (pid > 0 && n_servers < G_N_ELEMENTS(servers)) {
                server_ns[n_servers] = ns;
                servers[n_servers++] = pid;
        }
}

/* Kill the servers running in ns, so that the netns can die with its fd. */
static void kill_servers(int ns) {
        for (unsigned i = 0; i < n_servers; i++)
                if (servers[i] > 0 && server_ns[i] == ns) {
                        kill(servers[i], SIGKILL);
                        waitpid(servers[i], NULL, 0);
                        servers[i] = 0;
                }
}

/* A UDP server in ns answering every datagram with "reply". */
static void udp_server_in(int ns, unsigned port, const char *reply) {
        pid_t pid = fork();
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (ns >= 0 && setns(ns, CLONE_NEWNET) < 0)
                        _exit(126);
                int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
                if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) < 0)
                        _exit(1);
                for (;;) {
                        char buf[64];
                        struct sockaddr_in from;
                        socklen_t fl = sizeof from;
                        if (recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &fl) >= 0)
                                (void) sendto(fd, reply, strlen(reply), 0, (struct sockaddr *) &from, fl);
                }
        }
        if (pid > 0 && n_servers < G_N_ELEMENTS(servers)) {
                server_ns[n_servers] = ns;
                servers[n_servers++] = pid;
        }
}

/* UDP request from ns; true if the answer contains expect. */
static bool udp_ok(int ns, const char *addr, unsigned port, const char *expect) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return false;
        pid_t pid = fork();
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (ns >= 0 && setns(ns, CLONE_NEWNET) < 0)
                        _exit(126);
                int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
                inet_pton(AF_INET, addr, &a.sin_addr);
                struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                for (int i = 0; i < 10; i++) {
                        char buf[64];
                        (void) sendto(fd, "ping", 4, 0, (struct sockaddr *) &a, sizeof a);
                        ssize_t k = recv(fd, buf, sizeof buf - 1, 0);
                        if (k > 0) {
                                if (write(p[1], buf, (size_t) k) < 0)
                                        _exit(1);
                                _exit(0);
                        }
                }
                _exit(1);
        }
        close(p[1]);
        char out[64] = "";
        ssize_t k = read(p[0], out, sizeof out - 1);
        if (k > 0)
                out[k] = 0;
        close(p[0]);
        waitpid(pid, NULL, 0);
        return strstr(out, expect) != NULL;
}

/* TCP request from ns to addr:port; true if the answer contains expect. Retries ~2 s. */
static bool tcp_ok(int ns, const char *addr, unsigned port, const char *expect) {
        char out[256];
        for (int i = 0; i < 20; i++) {
                out[0] = 0;
                sh_in(ns, out, sizeof out, "busybox nc -w 1 %s %u 2>/dev/null", addr, port);
                if (strstr(out, expect))
                        return true;
                usleep(100 * 1000);
        }
        return false;
}

/* One try only, for "must not connect" checks. */
static bool tcp_once(int ns, const char *addr, unsigned port, const char *expect) {
        char out[256] = "";
        sh_in(ns, out, sizeof out, "timeout 2 busybox nc -w 1 %s %u 2>/dev/null", addr, port);
        return strstr(out, expect) != NULL;
}

/* Reachable: up to 3 tries (the first packet can race the bridge port's
 * carrier handling, which the kernel does from a workqueue). */
static bool ping_ok(int ns, const char *addr) {
        for (int i = 0; i < 3; i++)
                if (sh_in(ns, NULL, 0, "busybox ping -c 1 -W 5 %s >/dev/null 2>&1", addr) == 0)
                        return true;
        return false;
}

/* Blocked: one try with a 1 s timeout must fail. */
static bool ping_blocked(int ns, const char *addr) {
        return sh_in(ns, NULL, 0, "busybox ping -c 1 -W 5 %s >/dev/null 2>&1", addr) != 0;
}

static bool out_has(int ns, const char *needle, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool out_has(int ns, const char *needle, const char *fmt, ...) {
        char out[16384] = "";
        char cmd[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        sh_in(ns, out, sizeof out, "%s 2>&1", cmd);
        return strstr(out, needle) != NULL;
}

static bool link_exists(int ns, const char *name) {
        return sh_in(ns, NULL, 0, "ip link show dev %s >/dev/null 2>&1", name) == 0;
}

static bool wait_link_gone(int ns, const char *name) {
        for (int i = 0; i < 50; i++) {
                if (!link_exists(ns, name))
                        return true;
                usleep(50 * 1000);
        }
        return false;
}

static unsigned count_files(const char *dir) {
        GDir *d = g_dir_open(dir, 0, NULL);
        unsigned n = 0;
        if (!d)
                return 0;
        while (g_dir_read_name(d))
                n++;
        g_dir_close(d);
        return n;
}

static void write_conf(const char *name, const char *content) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.conf", confdir, name);
        g_file_set_contents(path, content, -1, NULL);
}

static BerthConfig *container(const char *name, BerthNetworkMode mode, const char *network) {
        BerthConfig *c = berth_config_new(name);
        c->network_mode = mode;
        c->network = network ? g_strdup(network) : NULL;
        if (!c->ports)
                c->ports = g_ptr_array_new();
        return c;
}

static void add_port(BerthConfig *c, int proto, const char *host_addr, uint16_t hp, uint16_t cp) {
        BerthPort *p = g_new0(BerthPort, 1);
        p->protocol = proto;
        p->host_address = host_addr ? g_strdup(host_addr) : NULL;
        p->host_port = hp;
        p->container_port = cp;
        g_ptr_array_add(c->ports, p);
}

static const char *ip4(struct in_addr a) {
        static char buf[4][INET_ADDRSTRLEN];
        static int i;
        i = (i + 1) % 4;
        inet_ntop(AF_INET, &a, buf[i], sizeof buf[i]);
        return buf[i];
}

static BerthNet *net_open(int (*hook)(BerthNetStep, void *), void *ud) {
        char resolv[512];
        snprintf(resolv, sizeof resolv, "%s/resolv.conf", tmpdir);
        BerthNetOptions o = {
                .config_dir = confdir,
                .state_dir = statedir,
                .resolv_conf = resolv,
                .resolved_resolv_conf = "/nonexistent",
                .fail_hook = hook,
                .fail_userdata = ud,
        };
        BerthNet *n = NULL;
        int r = berth_net_new(&o, &n);
        CHECK(r >= 0, "berth_net_new: %s", strerror(-r));
        return n;
}

static int ext_ns = -1;

/* External host: 198.51.100.2 on eth0, connected to the test host's ext0
 * (198.51.100.1). It has no route to any container subnet, so reaching it
 * from a container proves masquerading. */
static void make_external(void) {
        ext_ns = berth_netns_new();
        CHECK(ext_ns >= 0, "netns");
        struct nl_sock *sk = NULL;
        CHECK(berth_nl_open(&sk) >= 0, "nl");
        uint8_t m1[6], m2[6];
        berth_net_mac_from_string("ext0", m1);
        berth_net_mac_from_string("eth0", m2);
        int r = berth_link_veth_create(sk, "ext0", m1, 0, "eth0", m2, ext_ns);
        CHECK(r >= 0, "veth ext0: %s", strerror(-r));
        berth_nl_close(sk);
        CHECK(sh_in(-1, NULL, 0, "ip addr add 198.51.100.1/24 dev ext0 && ip link set ext0 up") == 0, "ext0");
        CHECK(sh_in(ext_ns, NULL, 0, "ip link set lo up && ip addr add 198.51.100.2/24 dev eth0 && ip link set eth0 up") == 0,
              "eth0");
        server_in(ext_ns, 7000, "pong-ext");
}

/* ---------------------------------------------------------------- */

static void test_names(void) {
        char n[IFNAMSIZ];
        berth_net_host_ifname("web", n);
        CHECK(strcmp(n, "ve-web") == 0, "%s", n);
        berth_net_host_ifname("a-very-long-container-name", n);
        CHECK(strncmp(n, "ve-", 3) == 0 && strlen(n) == 15, "%s", n);
        char n2[IFNAMSIZ];
        berth_net_host_ifname("a-very-long-container-name", n2);
        CHECK(strcmp(n, n2) == 0, "stable");
        berth_net_host_ifname("a-very-long-container-name2", n2);
        CHECK(strcmp(n, n2) != 0, "distinct");
        uint8_t m[6];
        berth_net_mac_from_string("x", m);
        CHECK((m[0] & 3) == 2, "locally administered unicast %02x", m[0]);
}

static void test_netdef(void) {
        BerthNetworkDef *d = NULL;
        char *err = NULL;
        int r = berth_network_def_load(confdir, "default", &d, &err);
        CHECK_RC(r, err);
        if (r >= 0) {
                CHECK(strcmp(d->bridge, "berth0") == 0, "%s", d->bridge);
                CHECK(strcmp(ip4(d->subnet), "10.213.0.0") == 0 && d->prefixlen == 16, "subnet");
                CHECK(strcmp(ip4(d->gateway), "10.213.0.1") == 0, "gw");
                CHECK(d->nat && d->inter_container && !d->persistent, "defaults");
        }
        berth_network_def_free(d);
        d = NULL;
        static const char *const bad[] = {
                "[Network]\nSubnet=10.1.0.0/33\n",
                "[Network]\nSubnet=10.1.0.1/24\n",
                "[Network]\nSubnet=10.1.0.0/24\nGateway=10.2.0.1\n",
                "[Network]\nSubnet=10.1.0.0/24\nGateway=10.1.0.255\n",
                "[Network]\nSubnet=10.1.0.0/24\nBridge=way-too-long-bridge-name\n",
                "[Network]\nSubnet=10.1.0.0/24\nBridge=br\" }; flush ruleset\n",
                "[Network]\nSubnet=10.1.0.0/24\nNAT=maybe\n",
                "[Network]\nSubnet=10.1.0.0/24\nFoo=bar\n",
                "[Network]\nBridge=x\n",
                "[Network]\nSubnet=10.1.0.0/24\nIPv6ULA=2001:db8::/64\n",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                free(err);
                err = NULL;
                r = berth_network_def_parse("x", bad[i], strlen(bad[i]), &d, &err);
                CHECK(r == -EINVAL && err, "bad[%zu] accepted", i);
                if (r >= 0)
                        berth_network_def_free(d);
        }
        free(err);
        err = NULL;
        const char *good = "[Network]\nSubnet=10.214.9.0/24\nIsolated=yes\nNAT=no\nPersistent=yes\nIPv6ULA=fd00:1:2:3::/64\n";
        r = berth_network_def_parse("web", good, strlen(good), &d, &err);
        CHECK_RC(r, err);
        if (r >= 0) {
                CHECK(strcmp(d->bridge, "bn-web") == 0, "%s", d->bridge);
                CHECK(strcmp(ip4(d->gateway), "10.214.9.1") == 0, "gw");
                CHECK(!d->nat && !d->inter_container && d->persistent && d->ipv6, "flags");
                berth_network_def_free(d);
        }
        free(err);
        CHECK(berth_network_name_validate("../x") < 0 && berth_network_name_validate("") < 0 &&
              berth_network_name_validate("ok.net-1") == 0, "names");
}

static void test_resolv(void) {
        char p1[512], p2[512];
        snprintf(p1, sizeof p1, "%s/r1", tmpdir);
        snprintf(p2, sizeof p2, "%s/r2", tmpdir);
        g_file_set_contents(p1, "# stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n", -1, NULL);
        g_file_set_contents(p2, "nameserver 192.0.2.53\nnameserver ::1\nnameserver 2001:db8::53\nsearch corp\n", -1, NULL);
        char *s = NULL;
        CHECK(berth_net_resolv_conf(p1, p2, &s) >= 0, "resolv");
        CHECK(s && strstr(s, "nameserver 192.0.2.53\n") && strstr(s, "nameserver 2001:db8::53\n") &&
              !strstr(s, "127.0.0.53") && !strstr(s, "::1\n") && strstr(s, "search corp"), "stub -> upstream: %s", s);
        free(s);
        g_file_set_contents(p1, "nameserver 127.0.0.1\nnameserver 192.0.2.1\n", -1, NULL);
        CHECK(berth_net_resolv_conf(p1, "/nonexistent", &s) >= 0, "resolv");
        CHECK(s && strstr(s, "nameserver 192.0.2.1\n") && !strstr(s, "127.0.0.1"), "loopback dropped: %s", s);
        free(s);
        struct in_addr a;
        inet_pton(AF_INET, "10.213.0.7", &a);
        CHECK(berth_net_hosts("web", &a, &s) >= 0 && strstr(s, "10.213.0.7\tweb\n") && strstr(s, "127.0.0.1\tlocalhost"),
              "hosts: %s", s);
        free(s);
}

static void test_leases(void) {
        const char *conf = "[Network]\nSubnet=10.214.50.0/29\n"; /* hosts .1-.6, .1 gateway: 5 usable */
        BerthNetworkDef *d = NULL;
        CHECK(berth_network_def_parse("tl", conf, strlen(conf), &d, NULL) >= 0, "def");
        if (!d)
                return;
        struct in_addr got[6];
        char owner[16];
        for (int i = 0; i < 5; i++) {
                snprintf(owner, sizeof owner, "c%d", i);
                int r = berth_lease_acquire(statedir, d, owner, NULL, &got[i], NULL);
                CHECK(r >= 0, "acquire %d: %s", i, strerror(-r));
                CHECK(berth_network_address_validate(d, got[i]) == 0, "valid %s", ip4(got[i]));
                for (int j = 0; j < i; j++)
                        CHECK(got[i].s_addr != got[j].s_addr, "duplicate %s", ip4(got[i]));
        }
        struct in_addr x;
        CHECK(berth_lease_acquire(statedir, d, "c9", NULL, &x, NULL) == -ENOSPC, "pool exhausted");
        /* the same owner gets its lease back */
        CHECK(berth_lease_acquire(statedir, d, "c3", NULL, &x, NULL) >= 0 && x.s_addr == got[3].s_addr, "reuse");

        /* "daemon restart": a fresh process view, only the directory persists */
        BerthLease *l = NULL;
        size_t n = 0;
        CHECK(berth_lease_list(statedir, "tl", &l, &n) == 5 && n == 5, "list %zu", n);
        for (size_t i = 0; l && i < n; i++)
                CHECK(l[i].owner[0] == 'c', "owner %s", l[i].owner);
        free(l);
        CHECK(berth_lease_release(statedir, "tl", got[2], "c1") == -EPERM, "foreign release refused");
        CHECK(berth_lease_release(statedir, "tl", got[2], "c2") == 0, "release");
        CHECK(berth_lease_release_owner(statedir, "tl", "c4") == 1, "release owner");
        /* after the restart, the two free addresses are the released ones */
        struct in_addr y1, y2;
        CHECK(berth_lease_acquire(statedir, d, "n1", NULL, &y1, NULL) >= 0, "n1");
        CHECK(berth_lease_acquire(statedir, d, "n2", NULL, &y2, NULL) >= 0, "n2");
        CHECK((y1.s_addr == got[2].s_addr && y2.s_addr == got[4].s_addr) ||
              (y1.s_addr == got[4].s_addr && y2.s_addr == got[2].s_addr), "reused released");
        for (int i = 0; i < 5; i++) {
                snprintf(owner, sizeof owner, "c%d", i);
                berth_lease_release_owner(statedir, "tl", owner);
        }
        berth_lease_release_owner(statedir, "tl", "n1");
        berth_lease_release_owner(statedir, "tl", "n2");

        /* fixed addresses */
        struct in_addr f;
        char *holder = NULL;
        inet_pton(AF_INET, "10.214.50.0", &f);
        CHECK(berth_lease_acquire(statedir, d, "f", &f, &x, NULL) == -EADDRNOTAVAIL, "network address");
        inet_pton(AF_INET, "10.214.50.7", &f);
        CHECK(berth_lease_acquire(statedir, d, "f", &f, &x, NULL) == -EADDRNOTAVAIL, "broadcast");
        inet_pton(AF_INET, "10.214.50.1", &f);
        CHECK(berth_lease_acquire(statedir, d, "f", &f, &x, NULL) == -EADDRNOTAVAIL, "gateway");
        inet_pton(AF_INET, "10.214.51.3", &f);
        CHECK(berth_lease_acquire(statedir, d, "f", &f, &x, NULL) == -EINVAL, "outside");
        inet_pton(AF_INET, "10.214.50.3", &f);
        CHECK(berth_lease_acquire(statedir, d, "f", &f, &x, NULL) >= 0 && x.s_addr == f.s_addr, "fixed");
        CHECK(berth_lease_acquire(statedir, d, "g", &f, &x, &holder) == -EADDRINUSE && holder &&
              strcmp(holder, "f") == 0, "fixed taken");
        free(holder);
        berth_lease_release_owner(statedir, "tl", "f");

        /* concurrent allocation from several processes: no duplicates */
        int p[2];
        CHECK(pipe(p) == 0, "pipe");
        pid_t kids[5];
        for (int i = 0; i < 5; i++)
                if ((kids[i] = fork()) == 0) {
                        char o[16];
                        struct in_addr a;
                        snprintf(o, sizeof o, "p%d", i);
                        /* same owner-hash start for all: worst case */
                        int r = berth_lease_acquire(statedir, d, o, NULL, &a, NULL);
                        if (r < 0)
                                a.s_addr = 0;
                        if (write(p[1], &a, sizeof a) < 0)
                                _exit(1);
                        _exit(0);
                }
        close(p[1]);
        struct in_addr all[5];
        for (int i = 0; i < 5; i++) {
                CHECK(read(p[0], &all[i], sizeof all[i]) == sizeof all[i], "read");
                CHECK(all[i].s_addr != 0, "child got none");
                for (int j = 0; j < i; j++)
                        CHECK(all[i].s_addr != all[j].s_addr, "concurrent duplicate %s", ip4(all[i]));
        }
        close(p[0]);
        for (int i = 0; i < 5; i++)
                waitpid(kids[i], NULL, 0);
        for (int i = 0; i < 5; i++) {
                snprintf(owner, sizeof owner, "p%d", i);
                berth_lease_release_owner(statedir, "tl", owner);
        }
        CHECK(berth_lease_list(statedir, "tl", &l, &n) == 0, "empty");
        free(l);
        berth_network_def_free(d);
}

static void test_none_and_host(BerthNet *net) {
        int ns = berth_netns_new();
        g_autoptr(BerthConfig) c = container("nonect", BERTH_NETWORK_NONE, NULL);
        BerthNetAttachment att;
        char *err = NULL;
        int r = berth_net_setup(net, c, ns, rundir, &att, &err);
        CHECK_RC(r, err);
        free(err);
        char out[4096] = "";
        sh_in(ns, out, sizeof out, "ip -o link");
        CHECK(strstr(out, "lo:") && strstr(out, "UP") && !strstr(out, "host0"), "none: %s", out);
        CHECK(ping_ok(ns, "127.0.0.1"), "none: lo works");
        CHECK(!link_exists(-1, "berth0"), "none: no bridge");
        char path[512];
        snprintf(path, sizeof path, "%s/hosts", rundir);
        CHECK(access(path, F_OK) == 0, "hosts written");
        close(ns);

        g_autoptr(BerthConfig) h = container("hostct", BERTH_NETWORK_HOST, NULL);
        err = NULL;
        r = berth_net_setup(net, h, -1, NULL, &att, &err);
        CHECK_RC(r, err);
        free(err);
        CHECK(att.weakens_isolation, "host mode is recorded as weakening");
}

static void test_bridge(BerthNet *net) {
        int nsA = berth_netns_new(), nsB = berth_netns_new(), nsC = berth_netns_new();
        g_autoptr(BerthConfig) A = container("ctA", BERTH_NETWORK_BRIDGE, NULL);
        g_autoptr(BerthConfig) B = container("ctB", BERTH_NETWORK_BRIDGE, NULL);
        g_autoptr(BerthConfig) C = container("ctC", BERTH_NETWORK_BRIDGE, NULL);
        add_port(A, IPPROTO_TCP, NULL, 8080, 80);
        add_port(A, IPPROTO_TCP, "198.51.100.1", 8081, 81);
        add_port(A, IPPROTO_UDP, NULL, 8053, 53);
        add_port(C, IPPROTO_TCP, NULL, 8080, 80);
        BerthNetAttachment a, b, c;
        char *err = NULL;
        int r = berth_net_setup(net, A, nsA, rundir, &a, &err);
        CHECK_RC(r, err);
        free(err), err = NULL;
        r = berth_net_setup(net, B, nsB, NULL, &b, &err);
        CHECK_RC(r, err);
        free(err), err = NULL;
        r = berth_net_setup(net, C, nsC, NULL, &c, &err);
        CHECK(r == -EADDRINUSE && err && strstr(err, "'ctA'"), "duplicate port refused naming ctA: %d %s", r,
              err ? err : "");
        free(err), err = NULL;
        CHECK(!link_exists(-1, "ve-ctC"), "refused container left no veth");

        /* addresses, routes, MAC */
        char want[64], out[8192];
        snprintf(want, sizeof want, "inet %s/16", ip4(a.address));
        CHECK(out_has(nsA, want, "ip -o -4 addr show dev %s", "host0"), "A address %s", want);
        CHECK(out_has(nsA, "default via 10.213.0.1", "ip route show%s", ""), "A default route");
        CHECK(out_has(nsA, "UP", "ip -o link show dev %s", "lo"), "A lo up");
        char mac[32];
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", a.mac[0], a.mac[1], a.mac[2], a.mac[3], a.mac[4],
                 a.mac[5]);
        CHECK(out_has(nsA, mac, "ip -o link show dev %s", "host0"), "A mac %s", mac);
        CHECK(out_has(-1, "master berth0", "ip -o link show dev %s", "ve-ctA"), "ve-ctA enslaved");
        CHECK(out_has(-1, "inet 10.213.0.1/16", "ip -o -4 addr show dev %s", "berth0"), "bridge address");
        snprintf(out, sizeof out, "%s/resolv.conf", rundir);
        CHECK(access(out, F_OK) == 0, "resolv.conf written");

        /* egress through NAT */
        CHECK(ping_ok(nsA, "10.213.0.1"), "ping gateway");
        CHECK(ping_ok(nsA, "198.51.100.2"), "ping external through NAT");
        CHECK(tcp_ok(nsA, "198.51.100.2", 7000, "pong-ext"), "tcp external through NAT");
        CHECK(ping_ok(nsA, ip4(b.address)), "A reaches B on the same network");

        /* published port */
        server_in(nsA, 80, "pong-A");
        server_in(nsA, 81, "pong-A81");
        CHECK(tcp_ok(ext_ns, "198.51.100.1", 8080, "pong-A"), "published port from external host");
        CHECK(tcp_ok(-1, "127.0.0.1", 8080, "pong-A"), "published port from host loopback");
        CHECK(tcp_ok(-1, "198.51.100.1", 8080, "pong-A"), "published port from host to its own address");
        CHECK(tcp_ok(nsB, "198.51.100.1", 8080, "pong-A"), "hairpin from B via host address");
        CHECK(tcp_ok(nsB, "10.213.0.1", 8080, "pong-A"), "hairpin from B via gateway");
        CHECK(tcp_ok(nsA, "198.51.100.1", 8080, "pong-A"), "hairpin to itself");
        CHECK(tcp_ok(ext_ns, "198.51.100.1", 8081, "pong-A81"), "address-bound port");
        udp_server_in(nsA, 53, "udp-A");
        CHECK(udp_ok(ext_ns, "198.51.100.1", 8053, "udp-A"), "udp published port from external host");
        CHECK(udp_ok(-1, "127.0.0.1", 8053, "udp-A"), "udp published port from host loopback");
        CHECK(udp_ok(nsB, "198.51.100.1", 8053, "udp-A"), "udp hairpin");
        CHECK(!tcp_once(-1, "127.0.0.1", 8081, "pong-A81"), "address-bound port not on other addresses");
        /* the guard: containers cannot reach host loopback services */
        server_in(-1, 9999, "host-lo-secret");
        CHECK(!tcp_once(nsB, "127.0.0.1", 9999, "secret"), "container cannot reach host loopback");

        /* stable MAC and address across restart */
        uint8_t mac1[6];
        memcpy(mac1, a.mac, 6);
        struct in_addr addr1 = a.address;
        r = berth_net_teardown(net, "ctA", NULL);
        CHECK(r >= 0, "teardown A %d", r);
        kill_servers(nsA);
        close(nsA);
        CHECK(wait_link_gone(-1, "ve-ctA"), "veth gone with the netns");
        CHECK(!tcp_once(ext_ns, "198.51.100.1", 8080, "pong-A"), "port unpublished");
        CHECK(link_exists(-1, "berth0"), "bridge stays while B is a member");
        nsA = berth_netns_new();
        g_autoptr(BerthConfig) A2 = container("ctA", BERTH_NETWORK_BRIDGE, NULL);
        r = berth_net_setup(net, A2, nsA, NULL, &a, &err);
        CHECK_RC(r, err);
        free(err), err = NULL;
        CHECK(memcmp(mac1, a.mac, 6) == 0 && addr1.s_addr == a.address.s_addr, "same MAC and address again");
        CHECK(out_has(nsA, mac, "ip -o link show dev %s", "host0"), "A mac %s after restart", mac);

        /* our table deleted behind our back: the next publish rebuilds it */
        CHECK(sh_in(-1, NULL, 0, "nft delete table inet berth") == 0, "delete table");
        g_autoptr(BerthConfig) D = container("ctD", BERTH_NETWORK_BRIDGE, NULL);
        add_port(D, IPPROTO_TCP, NULL, 8082, 80);
        int nsD = berth_netns_new();
        r = berth_net_setup(net, D, nsD, NULL, NULL, &err);
        CHECK_RC(r, err);
        free(err), err = NULL;
        server_in(nsD, 80, "pong-D");
        CHECK(tcp_ok(ext_ns, "198.51.100.1", 8082, "pong-D"), "publish after the table was deleted");
        CHECK(berth_net_teardown(net, "ctD", NULL) >= 0, "td D");
        kill_servers(nsD);
        close(nsD);

        /* IPv6=yes on a network without IPv6ULA= is refused, cleanly */
        g_autoptr(BerthConfig) E = container("ctE", BERTH_NETWORK_BRIDGE, NULL);
        E->ipv6 = true;
        int nsE = berth_netns_new();
        r = berth_net_setup(net, E, nsE, NULL, NULL, &err);
        CHECK(r == -EINVAL && err && strstr(err, "IPv6ULA"), "ipv6 without ULA: %d %s", r, err ? err : "");
        free(err), err = NULL;
        CHECK(!link_exists(-1, "ve-ctE"), "no veth for refused E");
        close(nsE);

        /* now C can publish 8080 */
        r = berth_net_setup(net, C, nsC, NULL, &c, &err);
        CHECK_RC(r, err);
        free(err), err = NULL;

        CHECK(berth_net_teardown(net, "ctA", NULL) >= 0, "td A");
        CHECK(berth_net_teardown(net, "ctB", NULL) >= 0, "td B");
        CHECK(berth_net_teardown(net, "ctC", NULL) >= 0, "td C");
        CHECK(berth_net_teardown(net, "ctC", NULL) >= 0, "td C twice is fine");
        kill_servers(nsA), kill_servers(nsB), kill_servers(nsC);
        close(nsA), close(nsB), close(nsC);
        CHECK(!link_exists(-1, "berth0"), "bridge removed with the last member");
        CHECK(wait_link_gone(-1, "ve-ctB") && wait_link_gone(-1, "ve-ctC") && wait_link_gone(-1, "ve-ctA"), "veths gone");
        out[0] = 0;
        sh_in(-1, out, sizeof out, "nft list table inet berth");
        CHECK(!strstr(out, "elements") && !strstr(out, "chain n_"), "no nft leftovers:\n%s", out);
        char d[512];
        snprintf(d, sizeof d, "%s/leases/default", statedir);
        CHECK(count_files(d) == 0, "no leases left");
        snprintf(d, sizeof d, "%s/ports", statedir);
        CHECK(count_files(d) == 0, "no port claims left");
}

/* Stop and start again at once: the old veth may still exist while the
 * kernel tears the old netns down. */
static void test_quick_restart(BerthNet *net) {
        for (int i = 0; i < 5; i++) {
                int ns = berth_netns_new();
                g_autoptr(BerthConfig) c = container("quick", BERTH_NETWORK_BRIDGE, NULL);
                char *err = NULL;
                int r = berth_net_setup(net, c, ns, NULL, NULL, &err);
                CHECK_RC(r, err);
                free(err);
                CHECK(ping_ok(ns, "10.213.0.1"), "quick %d works", i);
                CHECK(berth_net_teardown(net, "quick", NULL) >= 0, "td");
                close(ns);
        }
        CHECK(wait_link_gone(-1, "ve-quick"), "gone");
        CHECK(!link_exists(-1, "berth0"), "bridge gone");
}

/* berthd crashes (no teardown) and a new instance takes over from the state
 * directory and the kernel's state alone. */
static void test_daemon_restart(void) {
        BerthNet *n1 = net_open(NULL, NULL);
        int ns[4];
        BerthNetAttachment at[4];
        const char *names[] = { "rs1", "rs2", "rs3", "rs4" };
        for (int i = 0; i < 4; i++)
                ns[i] = berth_netns_new();
        for (int i = 0; i < 2; i++) {
                g_autoptr(BerthConfig) c = container(names[i], BERTH_NETWORK_BRIDGE, NULL);
                if (i == 0)
                        add_port(c, IPPROTO_TCP, NULL, 8090, 80);
                char *err = NULL;
                int r = berth_net_setup(n1, c, ns[i], NULL, &at[i], &err);
                CHECK_RC(r, err);
                free(err);
        }
        server_in(ns[0], 80, "pong-rs1");
        CHECK(tcp_ok(ext_ns, "198.51.100.1", 8090, "pong-rs1"), "port before restart");
        berth_net_free(n1); /* "crash" */

        BerthNet *n2 = net_open(NULL, NULL);
        g_autoptr(BerthConfig) c3 = container(names[2], BERTH_NETWORK_BRIDGE, NULL);
        char *err = NULL;
        int r = berth_net_setup(n2, c3, ns[2], NULL, &at[2], &err);
        CHECK_RC(r, err);
        free(err), err = NULL;
        CHECK(at[2].address.s_addr != at[0].address.s_addr && at[2].address.s_addr != at[1].address.s_addr,
              "no duplicate address after restart");
        CHECK(tcp_ok(ext_ns, "198.51.100.1", 8090, "pong-rs1"), "port survives the restart and the table refresh");
        CHECK(ping_ok(ns[2], ip4(at[0].address)), "new member reaches old one");
        g_autoptr(BerthConfig) c4 = container(names[3], BERTH_NETWORK_BRIDGE, NULL);
        add_port(c4, IPPROTO_TCP, NULL, 8090, 80);
        r = berth_net_setup(n2, c4, ns[3], NULL, &at[3], &err);
        CHECK(r == -EADDRINUSE && err && strstr(err, "'rs1'"), "port claim survives restart: %d %s", r, err ? err : "");
        free(err), err = NULL;

        /* reconcile: all three leases are listed with their owners */
        BerthLease *l = NULL;
        size_t n = 0;
        CHECK(berth_lease_list(statedir, "default", &l, &n) == 3, "3 leases");
        unsigned seen = 0;
        for (size_t i = 0; l && i < n; i++)
                for (int j = 0; j < 3; j++)
                        if (strcmp(l[i].owner, names[j]) == 0 && l[i].address.s_addr == at[j].address.s_addr)
                                seen |= 1u << j;
        CHECK(seen == 7, "lease owners %x", seen);
        free(l);
        BerthPortClaim *pc = NULL;
        CHECK(berth_port_claims_list(statedir, &pc, &n) == 1 && n == 1 && strcmp(pc[0].owner, "rs1") == 0 &&
              pc[0].host_port == 8090 && pc[0].address.s_addr == at[0].address.s_addr, "port claim listed");
        free(pc);

        for (int i = 0; i < 3; i++)
                CHECK(berth_net_teardown(n2, names[i], NULL) >= 0, "td %s", names[i]);
        CHECK(!tcp_once(ext_ns, "198.51.100.1", 8090, "pong-rs1"), "port gone");
        CHECK(!link_exists(-1, "berth0"), "bridge gone");
        char out[8192] = "";
        sh_in(-1, out, sizeof out, "nft list table inet berth");
        CHECK(!strstr(out, "elements") && !strstr(out, "chain n_"), "no nft leftovers:\n%s", out);
        for (int i = 0; i < 4; i++) {
                kill_servers(ns[i]);
                close(ns[i]);
        }
        berth_net_free(n2);
}

static void test_networks(BerthNet *net) {
        write_conf("bt-n1", "[Network]\nSubnet=10.214.1.0/24\n");
        write_conf("bt-n2", "[Network]\nSubnet=10.214.2.0/24\nNAT=no\n");
        write_conf("bt-iso", "[Network]\nSubnet=10.214.3.0/24\nIsolated=yes\nPersistent=yes\n");
        const char *names[] = { "x1", "y1", "x2", "i1", "i2" };
        const char *nets[] = { "bt-n1", "bt-n1", "bt-n2", "bt-iso", "bt-iso" };
        int ns[5];
        BerthNetAttachment at[5];
        for (int i = 0; i < 5; i++) {
                ns[i] = berth_netns_new();
                g_autoptr(BerthConfig) c = container(names[i], BERTH_NETWORK_BRIDGE, nets[i]);
                char *err = NULL;
                int r = berth_net_setup(net, c, ns[i], NULL, &at[i], &err);
                CHECK_RC(r, err);
                free(err);
        }
        CHECK(out_has(-1, "master bn-bt-n1", "ip -o link show dev %s", "ve-x1"), "x1 on bn-bt-n1");
        {
                /* fixed Address=: granted when free, refused naming the holder when not */
                int fns = berth_netns_new();
                g_autoptr(BerthConfig) f1 = container("fixed1", BERTH_NETWORK_BRIDGE, "bt-n1");
                f1->address = g_strdup("10.214.1.200");
                char *err = NULL;
                BerthNetAttachment fa;
                int r = berth_net_setup(net, f1, fns, NULL, &fa, &err);
                CHECK_RC(r, err);
                free(err), err = NULL;
                CHECK(out_has(fns, "inet 10.214.1.200/24", "ip -o -4 addr show dev %s", "host0"), "fixed address");
                int fns2 = berth_netns_new();
                g_autoptr(BerthConfig) f2 = container("fixed2", BERTH_NETWORK_BRIDGE, "bt-n1");
                f2->address = g_strdup("10.214.1.200");
                r = berth_net_setup(net, f2, fns2, NULL, NULL, &err);
                CHECK(r == -EADDRINUSE && err && strstr(err, "'fixed1'"), "taken: %d %s", r, err ? err : "");
                free(err), err = NULL;
                g_free(f2->address);
                f2->address = g_strdup("10.214.2.5");
                r = berth_net_setup(net, f2, fns2, NULL, NULL, &err);
                CHECK(r == -EINVAL && err, "outside the subnet: %d %s", r, err ? err : "");
                free(err), err = NULL;
                g_free(f2->address);
                f2->address = g_strdup("10.214.1.1");
                r = berth_net_setup(net, f2, fns2, NULL, NULL, &err);
                CHECK(r == -EADDRNOTAVAIL && err, "gateway: %d %s", r, err ? err : "");
                free(err), err = NULL;
                CHECK(!link_exists(-1, "ve-fixed2"), "refused left nothing");
                CHECK(berth_net_teardown(net, "fixed1", "bt-n1") >= 0, "td fixed1");
                close(fns);
                close(fns2);
        }
        CHECK(ping_ok(ns[0], ip4(at[1].address)), "same network reachable");
        server_in(ns[1], 80, "pong-y1");
        CHECK(tcp_ok(ns[0], ip4(at[1].address), 80, "pong-y1"), "same network tcp");
        CHECK(ping_ok(-1, ip4(at[2].address)), "host reaches x2");
        CHECK(ping_ok(-1, ip4(at[4].address)), "host reaches i2");
        CHECK(ping_blocked(ns[0], ip4(at[2].address)), "n1 -> n2 blocked");
        CHECK(ping_blocked(ns[2], ip4(at[0].address)), "n2 -> n1 blocked");
        server_in(ns[2], 80, "pong-x2");
        CHECK(!tcp_once(ns[0], ip4(at[2].address), 80, "pong-x2"), "n1 -> n2 tcp blocked");
        CHECK(ping_blocked(ns[3], ip4(at[4].address)), "isolated members cannot reach each other");
        CHECK(ping_ok(ns[3], "10.214.3.1"), "isolated member reaches its gateway");
        CHECK(ping_blocked(ns[3], ip4(at[0].address)), "iso -> n1 blocked");
        CHECK(ping_ok(ns[0], "198.51.100.2"), "n1 NAT egress");
        /* bt-n2 has NAT=no: the external host has no route back */
        CHECK(ping_blocked(ns[2], "198.51.100.2"), "n2 without NAT has no egress to a host without route");

        for (int i = 0; i < 5; i++) {
                CHECK(berth_net_teardown(net, names[i], nets[i]) >= 0, "td %s", names[i]);
                kill_servers(ns[i]);
                close(ns[i]);
        }
        CHECK(!link_exists(-1, "bn-bt-n1") && !link_exists(-1, "bn-bt-n2"), "bridges removed");
        CHECK(link_exists(-1, "bn-bt-iso"), "persistent bridge kept");
        char *err = NULL;
        CHECK(berth_net_network_down(net, "bt-iso", &err) >= 0, "network down %s", err ? err : "");
        free(err);
        CHECK(!link_exists(-1, "bn-bt-iso"), "persistent bridge removed by network_down");
        char out[8192] = "";
        sh_in(-1, out, sizeof out, "nft list table inet berth");
        CHECK(!strstr(out, "elements") && !strstr(out, "chain n_"), "no nft leftovers:\n%s", out);
}

typedef struct FailAt {
        BerthNetStep step;
        unsigned seen;
} FailAt;

static int fail_hook(BerthNetStep s, void *ud) {
        FailAt *f = ud;
        if (s == f->step) {
                f->seen++;
                return -ENOTRECOVERABLE;
        }
        return 0;
}

static void check_clean(int ns, const char *what, bool network_should_exist) {
        CHECK(!link_exists(-1, "ve-failct"), "%s: host veth left", what);
        if (ns >= 0)
                CHECK(!link_exists(ns, "host0"), "%s: host0 left in the container", what);
        CHECK(link_exists(-1, "bn-bt-f") == network_should_exist, "%s: bridge state", what);
        char out[8192] = "";
        sh_in(-1, out, sizeof out, "nft list table inet berth");
        CHECK(!strstr(out, "9090"), "%s: port rule left:\n%s", what, out);
        if (!network_should_exist)
                CHECK(!strstr(out, "n_bt-f") && !strstr(out, "bn-bt-f") && !strstr(out, "10.214.7.0"),
                      "%s: network rules left:\n%s", what, out);
        char d[512];
        snprintf(d, sizeof d, "%s/leases/bt-f", statedir);
        CHECK(count_files(d) == (network_should_exist ? 1u : 0u), "%s: leases left", what);
        snprintf(d, sizeof d, "%s/ports", statedir);
        CHECK(count_files(d) == 0, "%s: port claims left", what);
        out[0] = 0;
        sh_in(-1, out, sizeof out, "ip -o addr");
        CHECK(!strstr(out, "10.214.7.") || network_should_exist, "%s: addresses left: %s", what, out);
}

static void test_failures(void) {
        write_conf("bt-f", "[Network]\nSubnet=10.214.7.0/24\nIsolated=yes\nIPv6ULA=fd00:b:e:7::/64\n");
        char rd[512];
        snprintf(rd, sizeof rd, "%s/failrun", tmpdir);
        mkdir(rd, 0755);
        for (int pass = 0; pass < 2; pass++) {
                /* pass 0: the network comes up in the failing setup; pass 1: it is already up */
                for (int s = BERTH_NET_STEP_LEASE; s < _BERTH_NET_STEP_MAX; s++) {
                        FailAt f = { .step = (BerthNetStep) s };
                        BerthNet *net = net_open(fail_hook, &f);
                        int keep_ns = -1;
                        if (pass == 1) {
                                keep_ns = berth_netns_new();
                                g_autoptr(BerthConfig) k = container("keeper", BERTH_NETWORK_BRIDGE, "bt-f");
                                f.step = 0;
                                CHECK(berth_net_setup(net, k, keep_ns, NULL, NULL, NULL) >= 0, "keeper");
                                f.step = (BerthNetStep) s;
                        }
                        int ns = berth_netns_new();
                        g_autoptr(BerthConfig) c = container("failct", BERTH_NETWORK_BRIDGE, "bt-f");
                        c->ipv6 = true;
                        add_port(c, IPPROTO_TCP, NULL, 9090, 80);
                        add_port(c, IPPROTO_UDP, "198.51.100.1", 9090, 53);
                        char *err = NULL;
                        int r = berth_net_setup(net, c, ns, rd, NULL, &err);
                        char what[64];
                        snprintf(what, sizeof what, "pass %d step %d", pass, s);
                        bool network_up_step = s == BERTH_NET_STEP_BRIDGE || s == BERTH_NET_STEP_NFT_NETWORK;
                        if (pass == 1 && network_up_step)
                                CHECK(r >= 0 && f.seen == 0, "%s: network already up, step skipped", what);
                        else
                                CHECK(r == -ENOTRECOVERABLE && f.seen == 1, "%s: r=%d seen=%u %s", what, r, f.seen,
                                      err ? err : "");
                        free(err);
                        if (r >= 0) {
                                berth_net_teardown(net, "failct", "bt-f");
                                close(ns);
                                CHECK(wait_link_gone(-1, "ve-failct"), "%s: veth gone", what);
                                ns = -1;
                        }
                        check_clean(ns, what, pass == 1);
                        if (ns >= 0)
                                close(ns);
                        if (pass == 1) {
                                CHECK(berth_net_teardown(net, "keeper", "bt-f") >= 0, "keeper td");
                                close(keep_ns);
                                check_clean(-1, "after keeper", false);
                        }
                        berth_net_free(net);
                }
        }
        /* Mode=none: each of its steps fails cleanly too */
        const BerthNetStep none_steps[] = { BERTH_NET_STEP_NETNS, BERTH_NET_STEP_INNER_LINK, BERTH_NET_STEP_FILES };
        for (size_t i = 0; i < G_N_ELEMENTS(none_steps); i++) {
                FailAt f = { .step = none_steps[i] };
                BerthNet *nn = net_open(fail_hook, &f);
                int ns = berth_netns_new();
                g_autoptr(BerthConfig) c = container("failnone", BERTH_NETWORK_NONE, NULL);
                char *err = NULL;
                int r = berth_net_setup(nn, c, ns, rd, NULL, &err);
                CHECK(r == -ENOTRECOVERABLE && f.seen == 1, "none step %d: %d", none_steps[i], r);
                free(err);
                close(ns);
                berth_net_free(nn);
        }

        /* the same container works once the failure is gone */
        BerthNet *net = net_open(NULL, NULL);
        int ns = berth_netns_new();
        g_autoptr(BerthConfig) c = container("failct", BERTH_NETWORK_BRIDGE, "bt-f");
        c->ipv6 = true;
        char *err = NULL;
        BerthNetAttachment a;
        int r = berth_net_setup(net, c, ns, NULL, &a, &err);
        CHECK_RC(r, err);
        free(err);
        CHECK(a.has_ipv6, "ipv6");
        CHECK(out_has(ns, "inet6 fd00:b:e:7::", "ip -o -6 addr show dev %s", "host0"), "ULA address");
        CHECK(sh_in(ns, NULL, 0, "busybox ping -c 1 -W 5 fd00:b:e:7::1 >/dev/null 2>&1") == 0, "ping6 gateway");
        berth_net_teardown(net, "failct", "bt-f");
        close(ns);
        berth_net_free(net);
}

static void test_bench(void) {
        BerthNet *net = net_open(NULL, NULL);
        uint64_t ns = 0;
        int r = berth_net_bench(net, 50, &ns);
        CHECK(r >= 0, "bench %s", strerror(-r));
        fprintf(stderr, "bench: bridge-mode network setup %.3f ms mean over 50\n", (double) ns / 1e6);
        berth_net_free(net);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
        return remove(p);
}

int main(int argc, char **argv) {
        if (geteuid() != 0) {
                fprintf(stderr, "needs root\n");
                return 77;
        }
        /* Become "the host": nothing below touches the real host networking. */
        if (unshare(CLONE_NEWNET) < 0) {
                perror("unshare");
                return 1;
        }
        if (sh_in(-1, NULL, 0, "ip link set lo up") != 0)
                return 1;
        if (!mkdtemp(tmpdir))
                return 1;
        snprintf(confdir, sizeof confdir, "%s/networks", tmpdir);
        snprintf(statedir, sizeof statedir, "%s/state", tmpdir);
        snprintf(rundir, sizeof rundir, "%s/run", tmpdir);
        mkdir(confdir, 0755);
        mkdir(statedir, 0755);
        mkdir(rundir, 0755);
        char resolv[512];
        snprintf(resolv, sizeof resolv, "%s/resolv.conf", tmpdir);
        g_file_set_contents(resolv, "nameserver 192.0.2.53\n", -1, NULL);

        const char *only = argc > 1 ? argv[1] : NULL;
#define RUN(name, call)                                                   \
        do {                                                              \
                if (!only || strcmp(only, name) == 0) {                   \
                        int before = failures;                            \
                        call;                                             \
                        fprintf(stderr, "%s %s\n", failures == before ? "ok  " : "FAIL", name); \
                }                                                         \
        } while (0)

        make_external();
        BerthNet *net = net_open(NULL, NULL);
        RUN("names", test_names());
        RUN("netdef", test_netdef());
        RUN("resolv", test_resolv());
        RUN("leases", test_leases());
        RUN("none-host", test_none_and_host(net));
        RUN("bridge", test_bridge(net));
        RUN("quick-restart", test_quick_restart(net));
        RUN("daemon-restart", test_daemon_restart());
        RUN("networks", test_networks(net));
        RUN("failures", test_failures());
        berth_net_free(net);
        RUN("bench", test_bench());

        for (unsigned i = 0; i < n_servers; i++)
                if (servers[i] > 0) {
                        kill(servers[i], SIGKILL);
                        waitpid(servers[i], NULL, 0);
                }
        nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        fprintf(stderr, "%s (%d failures)\n", failures ? "FAILED" : "PASSED", failures);
        return failures ? 1 : 0;
}
