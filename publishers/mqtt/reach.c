/* reach.c - the broker's TCP port probed off the core thread (see reach.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "mqtt/reach.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* The thread looks at `stop` at least this often while a connect is pending. */
#define REACH_SLICE_MS 100

struct em_reach {
    char host[256], port[8];
    int timeout_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* under lock */
    int stop, asked;
    enum em_reach_state state;
};

static int stopping(struct em_reach *r)
{
    int s;

    pthread_mutex_lock(&r->lock);
    s = r->stop;
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* One non-blocking connect to `ai`, waited for in slices. 1 accepted, 0 not. */
static int try_addr(struct em_reach *r, const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    int ok = 0;

    if (fd < 0)
        return 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        ok = 1;
    } else if (errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};

        while (!stopping(r)) {
            int64_t left = deadline - em_mono_ms();
            int n;

            if (left <= 0)
                break;
            n = poll(&p, 1, left < REACH_SLICE_MS ? (int)left : REACH_SLICE_MS);
            if (n > 0) {
                int soerr = 0;
                socklen_t len = sizeof soerr;

                ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0;
                break;
            }
            if (n < 0 && errno != EINTR)
                break;
        }
    }
    close(fd);
    return ok;
}

static enum em_reach_state probe(struct em_reach *r)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    int64_t deadline = em_mono_ms() + r->timeout_ms;
    int ok = 0;

    if (getaddrinfo(r->host, r->port, &hints, &res) != 0)
        return EM_REACH_CLOSED;
    for (const struct addrinfo *ai = res; ai && !ok && !stopping(r); ai = ai->ai_next)
        ok = try_addr(r, ai, deadline);
    freeaddrinfo(res);
    return ok ? EM_REACH_OPEN : EM_REACH_CLOSED;
}

static void *reach_main(void *arg)
{
    struct em_reach *r = arg;

    pthread_mutex_lock(&r->lock);
    for (;;) {
        enum em_reach_state s;

        while (!r->stop && !r->asked)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->stop)
            break;
        r->asked = 0;
        pthread_mutex_unlock(&r->lock);
        s = probe(r);
        pthread_mutex_lock(&r->lock);
        r->state = s;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

struct em_reach *em_reach_new(const char *host, const char *port, int timeout_ms)
{
    struct em_reach *r = calloc(1, sizeof *r);
    int rc;

    if (!r)
        return NULL;
    if (strlen(host) >= sizeof r->host || strlen(port) >= sizeof r->port) {
        free(r);
        errno = EINVAL;
        return NULL;
    }
    strcpy(r->host, host);
    strcpy(r->port, port);
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    pthread_condattr_t ca;

    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    if ((rc = pthread_create(&r->thread, NULL, reach_main, r)) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r);
        errno = rc;
        return NULL;
    }
    return r;
}

void em_reach_start(struct em_reach *r)
{
    pthread_mutex_lock(&r->lock);
    if (r->state != EM_REACH_RUNNING) {
        r->state = EM_REACH_RUNNING;
        r->asked = 1;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
}

enum em_reach_state em_reach_take(struct em_reach *r, int wait_ms)
{
    enum em_reach_state s;
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)wait_ms * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&r->lock);
    while (wait_ms > 0 && r->state == EM_REACH_RUNNING &&
           pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
        ;
    s = r->state;
    if (s == EM_REACH_OPEN || s == EM_REACH_CLOSED)
        r->state = EM_REACH_IDLE;
    pthread_mutex_unlock(&r->lock);
    return s;
}

void em_reach_free(struct em_reach *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
