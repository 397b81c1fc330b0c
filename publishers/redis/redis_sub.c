/* redis_sub.c - SUBSCRIBE on a second non-blocking connection (see redis_sub.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "redis/redis_sub.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>

#include "clock.h"

#define SUB_BACKOFF_MIN_MS 100
#define SUB_BACKOFF_MAX_MS 5000
#define SUB_PING_MS        30000
#define SUB_READ_ROUNDS    8

enum sub_state { SUB_DOWN, SUB_CONNECTING, SUB_WAITING, SUB_READY };

struct em_redis_sub {
    const struct em_redis_addr *addr;
    const char *username, *password;
    long timeout_ms;
    char **topics; /* owned */
    size_t n;
    em_pub_inbox_fn fn;
    void *arg;
    redisContext *rc;
    int state;          /* enum sub_state */
    unsigned want_auth; /* AUTH replies still to come */
    size_t want_sub;    /* subscribe confirmations still to come */
    int64_t deadline;   /* CONNECTING/WAITING: give up; READY: a PING overdue */
    int64_t next_try_ms, next_ping_ms;
    int ping_out;
    long backoff_ms;
    uint32_t rng;
};

struct em_redis_sub *em_redis_sub_new(const struct em_redis_addr *addr, const char *username,
                                      const char *password, long timeout_ms,
                                      const char *const *topics, size_t n, em_pub_inbox_fn fn,
                                      void *arg)
{
    struct em_redis_sub *s = calloc(1, sizeof *s);
    if (!s || !(s->topics = calloc(n ? n : 1, sizeof *s->topics)))
        goto oom;
    for (; s->n < n; s->n++)
        if (!(s->topics[s->n] = strdup(topics[s->n])))
            goto oom;
    s->addr = addr;
    s->username = username;
    s->password = password;
    s->timeout_ms = timeout_ms;
    s->fn = fn;
    s->arg = arg;
    s->backoff_ms = SUB_BACKOFF_MIN_MS;
    s->rng = (uint32_t)(uintptr_t)s ^ (uint32_t)em_mono_ms();
    if (!s->rng)
        s->rng = 1;
    return s;
oom:
    em_redis_sub_free(s);
    errno = ENOMEM;
    return NULL;
}

void em_redis_sub_free(struct em_redis_sub *s)
{
    if (!s)
        return;
    if (s->rc)
        redisFree(s->rc);
    for (size_t i = 0; i < s->n; i++)
        free(s->topics[i]);
    free(s->topics);
    free(s);
}

int em_redis_sub_up(const struct em_redis_sub *s)
{
    return s && s->state == SUB_READY;
}

static void lost(struct em_redis_sub *s)
{
    if (s->rc)
        redisFree(s->rc);
    s->rc = NULL;
    s->state = SUB_DOWN;
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 17;
    s->rng ^= s->rng << 5;
    s->next_try_ms =
        em_mono_ms() + s->backoff_ms - (int64_t)(s->rng % (uint32_t)(s->backoff_ms / 4 + 1));
    s->backoff_ms = s->backoff_ms * 2 > SUB_BACKOFF_MAX_MS ? SUB_BACKOFF_MAX_MS
                                                           : s->backoff_ms * 2;
}

static int flush(struct em_redis_sub *s)
{
    int done = 0;
    for (int i = 0; i < 2 && !done; i++)
        if (redisBufferWrite(s->rc, &done) != REDIS_OK)
            return -1;
    return 0;
}

/* Connected: AUTH when needed, then SUBSCRIBE to every topic in one command. */
static void subscribe(struct em_redis_sub *s)
{
    const char *argv[1 + 8];
    size_t argl[1 + 8], k = 0;
    int rc = REDIS_OK;

    if (!s->addr->is_unix)
        em_redis_keepalive(s->rc->fd);
    s->want_auth = 0;
    if (s->password) {
        if (s->username)
            rc = redisAppendCommand(s->rc, "AUTH %s %s", s->username, s->password);
        else
            rc = redisAppendCommand(s->rc, "AUTH %s", s->password);
        s->want_auth = 1;
    }
    argv[k] = "SUBSCRIBE";
    argl[k++] = 9;
    for (size_t i = 0; i < s->n && k < sizeof argv / sizeof argv[0]; i++, k++) {
        argv[k] = s->topics[i];
        argl[k] = strlen(s->topics[i]);
    }
    if (rc == REDIS_OK)
        rc = redisAppendCommandArgv(s->rc, (int)k, argv, argl);
    s->want_sub = k - 1;
    s->state = SUB_WAITING;
    s->deadline = em_mono_ms() + s->timeout_ms;
    if (rc != REDIS_OK || flush(s) < 0)
        lost(s);
}

static int is_str(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STRING && r->len == strlen(s) &&
           strncasecmp(r->str, s, r->len) == 0;
}

/* One reply or push. 0, or -1 when the link is unusable. */
static int take(struct em_redis_sub *s, redisReply *r)
{
    if (s->want_auth) {
        s->want_auth = 0;
        return r->type == REDIS_REPLY_ERROR ? -1 : 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        return r->type == REDIS_REPLY_ERROR ? -1 : 0;
    const redisReply *kind = r->element[0];
    if (is_str(kind, "subscribe")) {
        if (s->want_sub > 0 && --s->want_sub == 0) {
            s->state = SUB_READY;
            s->backoff_ms = SUB_BACKOFF_MIN_MS;
            s->next_ping_ms = em_mono_ms() + SUB_PING_MS;
            s->ping_out = 0;
        }
    } else if (is_str(kind, "pong")) {
        s->ping_out = 0;
    } else if (is_str(kind, "message") && r->elements == 3 &&
               r->element[1]->type == REDIS_REPLY_STRING &&
               r->element[2]->type == REDIS_REPLY_STRING) {
        const redisReply *p = r->element[2];
        s->fn(s->arg, r->element[1]->str, p->len > EM_PUB_INBOX_MAX ? NULL : p->str, p->len);
    }
    return 0;
}

static void pump(struct em_redis_sub *s)
{
    if (flush(s) < 0) {
        lost(s);
        return;
    }
    for (int i = 0; i < SUB_READ_ROUNDS; i++) {
        void *r = NULL;
        if (redisBufferRead(s->rc) != REDIS_OK) {
            lost(s);
            return;
        }
        int got = 0;
        for (;;) {
            if (redisGetReplyFromReader(s->rc, &r) != REDIS_OK) {
                lost(s);
                return;
            }
            if (!r)
                break;
            got = 1;
            int rc = take(s, r);
            freeReplyObject(r);
            if (rc < 0) {
                lost(s);
                return;
            }
        }
        if (!got)
            break;
    }
    int64_t now = em_mono_ms();
    if (s->state == SUB_WAITING && now >= s->deadline) {
        lost(s);
    } else if (s->state == SUB_READY && s->ping_out && now >= s->deadline) {
        lost(s); /* no PONG: Redis went away without closing */
    } else if (s->state == SUB_READY && !s->ping_out && now >= s->next_ping_ms) {
        if (redisAppendCommand(s->rc, "PING") != REDIS_OK || flush(s) < 0) {
            lost(s);
            return;
        }
        s->ping_out = 1;
        s->deadline = now + s->timeout_ms;
        s->next_ping_ms = now + SUB_PING_MS;
    }
}

void em_redis_sub_service(struct em_redis_sub *s)
{
    if (s->state == SUB_DOWN) {
        if (em_mono_ms() < s->next_try_ms)
            return;
        s->rc = s->addr->is_unix ? redisConnectUnixNonBlock(s->addr->path)
                                 : redisConnectNonBlock(s->addr->host, s->addr->port);
        if (!s->rc || s->rc->err) {
            lost(s);
            return;
        }
        s->state = SUB_CONNECTING;
        s->deadline = em_mono_ms() + s->timeout_ms;
    }
    if (s->state == SUB_CONNECTING) {
        struct pollfd p = {.fd = s->rc->fd, .events = POLLOUT};
        int n = poll(&p, 1, 0), soerr = 0;
        socklen_t len = sizeof soerr;
        if (n == 0) {
            if (em_mono_ms() >= s->deadline)
                lost(s);
            return;
        }
        if (n < 0 || getsockopt(s->rc->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
            lost(s);
            return;
        }
        subscribe(s);
        if (s->state == SUB_DOWN)
            return;
    }
    pump(s);
}
