/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * New network namespaces for containers, from one long-lived thread.
 *
 * A container's network namespace is made while its first process builds its
 * root filesystem (see runtime.c): made by clone3() it would cost that process
 * about a millisecond. Creating a thread for it on every start still put a
 * tenth of that in front of the child's first instruction: the thread's
 * creation, and its copy-on-write faults on a stack the new child shares.
 * One thread per process serves every start instead. For each request it
 * unshares a new namespace, opens it and goes straight back to the
 * namespace of the process (its main thread's), so it never pins a
 * container's namespace. It keeps no fd between requests.
 *
 * The thread exists whenever the runtime clone3()s a container. It allocates
 * nothing and holds its mutex only to take a request or to answer one, so a
 * child cloned at any moment inherits no lock it needs: the child takes no
 * lock of ours, and malloc's are never held by this thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "netns-maker.h"

static struct {
        pthread_mutex_t lock;
        pthread_cond_t work;       /* a request was queued */
        pthread_cond_t done;       /* a request was answered */
        BerthNetnsRequest *head, *tail;
        bool started;
        int broken;                /* -errno: the thread could not go home and stopped */
} maker = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .work = PTHREAD_COND_INITIALIZER,
        .done = PTHREAD_COND_INITIALIZER,
};

static void answer(BerthNetnsRequest *req, int fd, int error) {
        req->fd = fd;
        req->error = error;
        req->done = true;
}

static void *maker_main(void *userdata) {
        sigset_t all;

        (void) userdata;
        /* Signals are for the threads that asked for them. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);

        pthread_mutex_lock(&maker.lock);
        for (;;) {
                while (!maker.head)
                        pthread_cond_wait(&maker.work, &maker.lock);
                BerthNetnsRequest *req = maker.head;
                maker.head = req->next;
                if (!maker.head)
                        maker.tail = NULL;
                pthread_mutex_unlock(&maker.lock);

                int fd = -1, error = 0, home_error = 0;
                if (unshare(CLONE_NEWNET) < 0)
                        error = -errno;
                else {
                        fd = open("/proc/thread-self/ns/net", O_RDONLY|O_CLOEXEC);
                        if (fd < 0)
                                error = -errno;
                        int home = open("/proc/self/ns/net", O_RDONLY|O_CLOEXEC);
                        if (home < 0 || setns(home, CLONE_NEWNET) < 0)
                                home_error = -errno;
                        if (home >= 0)
                                close(home);
                }

                pthread_mutex_lock(&maker.lock);
                if (home_error < 0) {
                        /* Stuck in a container's namespace: never serve again. */
                        if (fd >= 0)
                                close(fd);
                        answer(req, -1, home_error);
                        maker.broken = home_error;
                        for (BerthNetnsRequest *q = maker.head; q; q = q->next)
                                answer(q, -1, home_error);
                        maker.head = maker.tail = NULL;
                        pthread_cond_broadcast(&maker.done);
                        break;
                }
                answer(req, fd, error);
                pthread_cond_broadcast(&maker.done);
        }
        pthread_mutex_unlock(&maker.lock);
        return NULL;
}

/* With maker.lock held. */
static int maker_start(void) {
        pthread_attr_t attr;
        pthread_t t;
        int r;

        if (maker.started)
                return 0;
        /* Not whatever scheduling policy the first caller happens to run with. */
        r = pthread_attr_init(&attr);
        if (r == 0) {
                struct sched_param p = { .sched_priority = 0 };
                (void) pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
                (void) pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
                (void) pthread_attr_setschedparam(&attr, &p);
                (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                r = pthread_create(&t, &attr, maker_main, NULL);
                pthread_attr_destroy(&attr);
        }
        if (r != 0)
                return -r;
        maker.started = true;
        return 0;
}

int berth_netns_request(BerthNetnsRequest *req) {
        int r;

        *req = (BerthNetnsRequest) { .fd = -1 };
        pthread_mutex_lock(&maker.lock);
        r = maker.broken;
        if (r >= 0)
                r = maker_start();
        if (r >= 0) {
                if (maker.tail)
                        maker.tail->next = req;
                else
                        maker.head = req;
                maker.tail = req;
                pthread_cond_signal(&maker.work);
        }
        pthread_mutex_unlock(&maker.lock);
        return r;
}

int berth_netns_wait(BerthNetnsRequest *req, int *ret_fd) {
        pthread_mutex_lock(&maker.lock);
        while (!req->done)
                pthread_cond_wait(&maker.done, &maker.lock);
        pthread_mutex_unlock(&maker.lock);
        *ret_fd = req->fd;
        req->fd = -1;
        return req->error;
}
