/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Netlink sockets, including one bound to a container's network namespace.
 *
 * A netlink socket belongs to the namespace of the thread that created it,
 * for its whole life. To talk rtnetlink inside a container without moving
 * the daemon's main thread, a helper thread enters the namespace, opens the
 * socket and exits; the socket keeps working from any thread afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "net-internal.h"

int berth_nl_open(struct nl_sock **ret) {
        struct nl_sock *sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        int r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(sk);
                return berth_nl_errno(r);
        }
        /* Keep the default: each request waits for its ACK/error. */
        *ret = sk;
        return 0;
}

void berth_nl_close(struct nl_sock *sk) {
        if (sk)
                nl_socket_free(sk); /* closes the fd */
}

typedef struct NetnsRequest {
        int netns_fd;
        struct nl_sock *sk;
        int r;
} NetnsRequest;

static void *netns_thread(void *p) {
        NetnsRequest *req = p;
        /* Only this thread moves; it exits right after. */
        if (setns(req->netns_fd, CLONE_NEWNET) < 0) {
                req->r = -errno;
                return NULL;
        }
        req->r = berth_nl_open(&req->sk);
        return NULL;
}

int berth_nl_open_in_netns(int netns_fd, struct nl_sock **ret) {
        if (netns_fd < 0)
                return -EBADF;
        NetnsRequest req = { .netns_fd = netns_fd, .r = -EIO };
        pthread_t t;
        int k = pthread_create(&t, NULL, netns_thread, &req);
        if (k != 0)
                return -k;
        k = pthread_join(t, NULL);
        if (k != 0)
                return -k; /* cannot happen for a joinable thread we own */
        if (req.r < 0)
                return req.r;
        *ret = req.sk;
        return 0;
}

int berth_netns_open_pid(pid_t pid) {
        char path[64];
        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static void *new_netns_thread(void *p) {
        int *r = p;
        if (unshare(CLONE_NEWNET) < 0) {
                *r = -errno;
                return NULL;
        }
        *r = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (*r < 0)
                *r = -errno;
        return NULL;
}

int berth_netns_new(void) {
        int r = -EIO;
        pthread_t t;
        int k = pthread_create(&t, NULL, new_netns_thread, &r);
        if (k != 0)
                return -k;
        pthread_join(t, NULL);
        return r;
}

/*
 * A long-lived helper thread doing the same as berth_nl_open_in_netns()
 * without paying for a thread creation per container (~0.1 ms): it enters
 * the container's namespace, opens the socket and goes straight back to the
 * namespace it started in, so it never pins a container's namespace.
 */
struct BerthNetnsWorker {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int home_fd;          /* the worker's own netns, owned by the worker */
        bool pending, done, quit, broken;
        int netns_fd;
        struct nl_sock *sk;
        int r;
};

static void *worker_main(void *p) {
        BerthNetnsWorker *w = p;
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (!w->pending && !w->quit)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (w->quit)
                        break;
                int nsfd = w->netns_fd;
                pthread_mutex_unlock(&w->lock);

                struct nl_sock *sk = NULL;
                int r = setns(nsfd, CLONE_NEWNET) < 0 ? -errno : 0;
                if (r >= 0) {
                        r = berth_nl_open(&sk);
                        if (setns(w->home_fd, CLONE_NEWNET) < 0) {
                                /* Cannot go home: never serve again from a
                                 * container's namespace. */
                                berth_nl_close(sk);
                                sk = NULL;
                                r = -errno;
                                pthread_mutex_lock(&w->lock);
                                w->broken = true;
                                goto reply;
                        }
                }
                pthread_mutex_lock(&w->lock);
        reply:
                w->sk = sk;
                w->r = r;
                w->pending = false;
                w->done = true;
                pthread_cond_broadcast(&w->cond);
                if (w->broken)
                        break;
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

int berth_netns_worker_new(BerthNetnsWorker **ret) {
        BerthNetnsWorker *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (w->home_fd < 0) {
                int r = -errno;
                free(w);
                return r;
        }
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        int k = pthread_create(&w->thread, NULL, worker_main, w);
        if (k != 0) {
                close(w->home_fd);
                free(w);
                return -k;
        }
        *ret = w;
        return 0;
}

void berth_netns_worker_free(BerthNetnsWorker *w) {
        if (!w)
                return;
        pthread_mutex_lock(&w->lock);
        w->quit = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        close(w->home_fd);
        free(w);
}

int berth_netns_worker_open(BerthNetnsWorker *w, int netns_fd, struct nl_sock **ret) {
        if (netns_fd < 0)
                return -EBADF;
        pthread_mutex_lock(&w->lock);
        if (w->broken) {
                pthread_mutex_unlock(&w->lock);
                return berth_nl_open_in_netns(netns_fd, ret); /* one-shot thread instead */
        }
        w->netns_fd = netns_fd;
        w->done = false;
        w->pending = true;
        pthread_cond_broadcast(&w->cond);
        while (!w->done)
                pthread_cond_wait(&w->cond, &w->lock);
        int r = w->r;
        struct nl_sock *sk = w->sk;
        w->sk = NULL;
        pthread_mutex_unlock(&w->lock);
        if (r < 0)
                return r;
        *ret = sk;
        return 0;
}
