/* rqueue_push.c - the Redis queue's write side: readings go in as XADDs pipelined in
 * chunks; the bounds (max_messages, max_age, Redis refusing writes with -OOM) trim
 * the oldest entries and count each drop exactly, per publisher and reason.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "rqueue_int.h"

static void count_drop(struct pub *p, enum em_rq_reason r, const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0) {
        p->unsaved[r] += rep->integer;
    }
}

/*
 * Queues HINCRBYs for drops not yet in the hash. Written in the same round trip
 * as the next push, so steady trimming costs no extra round trip. HINCRBY is
 * refused under -OOM; the counts then stay in unsaved and go out later.
 */
int rq_append_flush(struct em_rqueue *q, size_t *ncmd)
{
    size_t i;
    int r;

    *ncmd = 0;
    for (i = 0; i < q->npub; i++) {
        struct pub *p = &q->pubs[i];

        for (r = 0; r < EM_RQ_NREASONS; r++) {
            p->sending[r] = p->unsaved[r];
            if (p->sending[r] == 0) {
                continue;
            }
            if (rq_append(q, "HINCRBY %s %s %lld", q->dropkey, p->field[r],
                          p->sending[r]) < 0) {
                return -1;
            }
            (*ncmd)++;
        }
    }
    return 0;
}

int rq_read_flush(struct em_rqueue *q, size_t ncmd)
{
    size_t i;
    int r, rc = 0;

    for (i = 0; i < q->npub && ncmd; i++) {
        struct pub *p = &q->pubs[i];

        for (r = 0; r < EM_RQ_NREASONS; r++) {
            redisReply *rep;

            if (p->sending[r] == 0) {
                continue;
            }
            if (rc == 0 && (rep = rq_next_reply(q))) {
                if (rep->type == REDIS_REPLY_INTEGER) {
                    p->unsaved[r] -= p->sending[r];
                }
                freeReplyObject(rep);
            } else {
                rc = -1;
            }
            p->sending[r] = 0;
        }
    }
    return rc;
}

int rq_flush_drops(struct em_rqueue *q)
{
    size_t n;

    if (rq_append_flush(q, &n) < 0) {
        return -1;
    }
    return n ? rq_read_flush(q, n) : 0;
}

/* Stream ids are Redis's wall clock in ms; the queue runs next to its Redis. */
static unsigned long long age_cutoff(const struct em_rqueue *q)
{
    int64_t now, lim;

    if (q->max_age_s <= 0) {
        return 0;
    }
    now = em_wall_ms();
    lim = (int64_t)q->max_age_s * 1000;
    return now > lim ? (unsigned long long)(now - lim) : 0;
}

static int append_trims(struct em_rqueue *q, const struct pub *p, unsigned long long cut,
                        int with_max)
{
    if (cut && rq_append(q, "XTRIM %s MINID = %llu", p->key, cut) < 0) {
        return -1;
    }
    if (with_max && q->max_messages > 0 &&
        rq_append(q, "XTRIM %s MAXLEN = %ld", p->key, q->max_messages) < 0) {
        return -1;
    }
    return 0;
}

/* Reads the replies of append_trims(); returns 0, the errno of an error reply, or -1. */
static int read_trims(struct em_rqueue *q, struct pub *p, unsigned long long cut,
                      int with_max)
{
    redisReply *r;
    int perr = 0;

    if (cut) {
        if (!(r = rq_next_reply(q))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_INTEGER) {
            count_drop(p, EM_RQ_DROP_MAX_AGE, r);
        } else {
            perr = rq_reply_error(q, r, "XTRIM MINID");
        }
        freeReplyObject(r);
    }
    if (with_max && q->max_messages > 0) {
        if (!(r = rq_next_reply(q))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_INTEGER) {
            count_drop(p, EM_RQ_DROP_MAX_MESSAGES, r);
        } else if (!perr) {
            perr = rq_reply_error(q, r, "XTRIM MAXLEN");
        }
        freeReplyObject(r);
    }
    return perr;
}

/*
 * "Buffer full": Redis refused writes with -OOM (maxmemory, noeviction). Drops from
 * every pushed-to stream its oldest 1%, at least as many entries as were refused
 * for it, and at least OOM_MIN_FREE bytes' worth (sized by MEMORY USAGE): Redis's
 * used_memory moves by tens of KB with client buffers alone, so 1% of a small
 * buffer would not make room for the retry. Returns how many were dropped, or -1.
 */
long long rq_oom_relief(struct em_rqueue *q)
{
    long long total = 0, len, bytes;
    size_t i;
    redisReply *r, *u;

    for (i = 0; i < q->npush; i++) {
        if (rq_append(q, "XLEN %s", q->pubs[i].key) < 0 ||
            rq_append(q, "MEMORY USAGE %s", q->pubs[i].key) < 0) {
            return -1;
        }
    }
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        if (!(r = rq_next_reply(q))) {
            return -1;
        }
        if (!(u = rq_next_reply(q))) {
            freeReplyObject(r);
            return -1;
        }
        len = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        bytes = u->type == REDIS_REPLY_INTEGER ? u->integer : 0;
        freeReplyObject(r);
        freeReplyObject(u);
        p->trim_to = -1;
        if (len > 0) {
            long long drop = len / 100, avg = bytes / len;

            if (avg > 0 && drop < (OOM_MIN_FREE + avg - 1) / avg) {
                drop = (OOM_MIN_FREE + avg - 1) / avg;
            }
            if (drop < p->oom_need) {
                drop = p->oom_need;
            }
            if (drop < 1) {
                drop = 1;
            }
            if (drop > len) {
                drop = len;
            }
            p->trim_to = len - drop;
            total += drop;
        }
    }
    if (total == 0) {
        return 0;
    }
    for (i = 0; i < q->npush; i++) {
        if (q->pubs[i].trim_to >= 0 &&
            rq_append(q, "XTRIM %s MAXLEN = %lld", q->pubs[i].key, q->pubs[i].trim_to) <
                0) {
            return -1;
        }
    }
    total = 0;
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        if (p->trim_to < 0) {
            continue;
        }
        if (!(r = rq_next_reply(q))) {
            return -1;
        }
        count_drop(p, EM_RQ_DROP_REDIS_OOM, r);
        if (r->type == REDIS_REPLY_INTEGER) {
            total += r->integer;
        }
        freeReplyObject(r);
    }
    return total;
}

static int append_xadd(struct em_rqueue *q, const struct pub *p,
                       const struct em_rq_item *it)
{
    return rq_append(q, "XADD %s * m %b ts %lld", p->key, it->data ? it->data : "",
                     it->len, (long long)it->ts_ms);
}

/* Frees writes refused with -OOM, retries them once. */
static int oom_retry(struct em_rqueue *q, const struct em_rq_item *it, size_t k)
{
    size_t i, j, still = 0;
    long long dropped;
    redisReply *r;
    int perr = 0, rc;

    if ((dropped = rq_oom_relief(q)) < 0) {
        return -1;
    }
    if (dropped == 0) {
        rq_set_err(q, "redis out of memory (maxmemory) with nothing left to drop");
        errno = ENOSPC;
        return -1;
    }
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        for (j = 0; j < k && p->oom_need; j++) {
            if (q->failed[i * ITEM_CHUNK + j] && append_xadd(q, p, &it[j]) < 0) {
                return -1;
            }
        }
        if (p->oom_need && append_trims(q, p, 0, 1) < 0) {
            return -1;
        }
    }
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        for (j = 0; j < k && p->oom_need; j++) {
            if (!q->failed[i * ITEM_CHUNK + j]) {
                continue;
            }
            if (!(r = rq_next_reply(q))) {
                return -1;
            }
            if (rq_is_err(r, "OOM")) {
                still++;
            } else if (r->type == REDIS_REPLY_ERROR && !perr) {
                perr = rq_reply_error(q, r, "XADD");
            }
            freeReplyObject(r);
        }
        if (p->oom_need && (rc = read_trims(q, p, 0, 1)) != 0) {
            if (rc < 0) {
                return -1;
            }
            perr = perr ? perr : rc;
        }
    }
    if (perr) {
        errno = perr;
        return -1;
    }
    if (still) {
        rq_set_err(q,
                   "redis out of memory (maxmemory): %zu writes refused after dropping "
                   "the oldest %lld",
                   still, dropped);
        errno = ENOSPC;
        return -1;
    }
    return 0;
}

/*
 * One round trip: pending drop counters, k XADDs per publisher, then the age and
 * length trims. Trimming after the XADDs keeps the count exact: XTRIM answers how
 * many entries it removed.
 */
static int push_chunk(struct em_rqueue *q, const struct em_rq_item *it, size_t k)
{
    unsigned long long cut = age_cutoff(q);
    size_t nflush, i, j, noom = 0;
    redisReply *r;
    int perr = 0, rc;

    if (rq_append_flush(q, &nflush) < 0) {
        return -1;
    }
    for (i = 0; i < q->npush; i++) {
        for (j = 0; j < k; j++) {
            if (append_xadd(q, &q->pubs[i], &it[j]) < 0) {
                return -1;
            }
        }
    }
    for (i = 0; i < q->npush; i++) {
        if (append_trims(q, &q->pubs[i], cut, 1) < 0) {
            return -1;
        }
    }
    if (rq_read_flush(q, nflush) < 0) {
        return -1;
    }
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        p->oom_need = 0;
        for (j = 0; j < k; j++) {
            if (!(r = rq_next_reply(q))) {
                return -1;
            }
            q->failed[i * ITEM_CHUNK + j] = 0;
            if (rq_is_err(r, "OOM")) {
                q->failed[i * ITEM_CHUNK + j] = 1;
                p->oom_need++;
                noom++;
            } else if (r->type == REDIS_REPLY_ERROR && !perr) {
                perr = rq_reply_error(q, r, "XADD");
            }
            freeReplyObject(r);
        }
    }
    for (i = 0; i < q->npush; i++) {
        if ((rc = read_trims(q, &q->pubs[i], cut, 1)) != 0) {
            if (rc < 0) {
                return -1;
            }
            perr = perr ? perr : rc;
        }
    }
    if (cut) {
        q->last_age_trim_ms = em_mono_ms();
    }
    if (perr) {
        errno = perr;
        return -1;
    }
    return noom ? oom_retry(q, it, k) : 0;
}

int em_rqueue_push(struct em_rqueue *q, const struct em_rq_item *items, size_t n)
{
    size_t off, k;

    if (!q || (n && !items)) {
        errno = EINVAL;
        return -1;
    }
    if (n == 0 || q->npush == 0) {
        return 0;
    }
    if (rq_ensure_conn(q) < 0) {
        return -1;
    }
    for (off = 0; off < n; off += k) {
        k = n - off < ITEM_CHUNK ? n - off : ITEM_CHUNK;
        if (push_chunk(q, items + off, k) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Applies max_age_s to every stream: nothing else trims a stream nobody pushes to. */
int rq_trim_age_all(struct em_rqueue *q)
{
    unsigned long long cut = age_cutoff(q);
    size_t i;
    int rc;

    if (!cut) {
        return 0;
    }
    for (i = 0; i < q->npush; i++) {
        if (append_trims(q, &q->pubs[i], cut, 0) < 0) {
            return -1;
        }
    }
    q->last_age_trim_ms = em_mono_ms();
    for (i = 0; i < q->npush; i++) {
        if ((rc = read_trims(q, &q->pubs[i], cut, 0)) < 0) {
            return -1;
        }
    }
    return 0;
}
