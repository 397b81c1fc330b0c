/* rqueue_hash.c - small Redis hashes beside the queue (the active feature flags).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The same connection as the streams: the agent's local Redis is where an
 * operator looks for its state, and a second connection would double the
 * reconnect logic for a write a minute.
 */
#include "rqueue.h"
#include "rqueue_int.h"

#include <errno.h>
#include <string.h>

int em_rqueue_hash_replace(struct em_rqueue *q, const char *key, const char *const *fields,
                           const char *const *values, size_t n)
{
    size_t ncmd = 0;
    int bad = 0;

    if (rq_ensure_conn(q) < 0)
        return -1;
    /* MULTI/EXEC: a reader never sees half a set. */
    bad |= rq_append(q, "MULTI") < 0;
    bad |= rq_append(q, "DEL %s", key) < 0;
    ncmd += 2;
    for (size_t i = 0; i < n && !bad; i++, ncmd++)
        bad |= rq_append(q, "HSET %s %s %s", key, fields[i], values[i]) < 0;
    bad |= rq_append(q, "EXEC") < 0;
    ncmd++;
    if (bad) {
        rq_drop_conn(q, ENOMEM);
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < ncmd; i++) {
        redisReply *r = rq_next_reply(q);
        if (!r)
            return -1; /* the connection is gone; errno from hiredis */
        if (i + 1 == ncmd && r->type != REDIS_REPLY_ARRAY) {
            rq_reply_error(q, r, "EXEC");
            rc = -1;
            errno = EPROTO;
        }
        freeReplyObject(r);
    }
    return rc;
}

int em_rqueue_hash_get(struct em_rqueue *q, const char *key,
                       void (*fn)(void *arg, const char *field, const char *value), void *arg)
{
    if (rq_ensure_conn(q) < 0)
        return -1;
    redisReply *r = rq_command(q, "HGETALL %s", key);
    if (!r)
        return -1;
    int n = -1;
    if (r->type == REDIS_REPLY_ARRAY) {
        n = 0;
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const redisReply *f = r->element[i], *v = r->element[i + 1];
            if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING) {
                fn(arg, f->str, v->str);
                n++;
            }
        }
    } else {
        rq_reply_error(q, r, "HGETALL");
        errno = EPROTO;
    }
    freeReplyObject(r);
    return n;
}
