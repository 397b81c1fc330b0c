/* queue.c - the store-and-forward queue: Redis Streams with a spool fallback, or spool.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "queue.h"

#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "rqueue.h"
#include "spool.h"

#define READ_BATCH    256
#define READ_BUF      (256 * 1024)
#define MOVE_BATCH    256
/* A publisher that found its queue empty is not asked again (a Redis round trip,
 * ten times a second on an idle site) until something is pushed, moved in or
 * rewound, all of which pass through here; still at least this often, in case. */
#define EMPTY_RECHECK_MS 5000

struct em_queue {
    int backend;
    size_t npub;
    struct em_rqueue *rq;     /* backend redis */
    struct em_spool *sp;      /* backend spool, or the Redis fallback */
    const char **names;       /* owned array of borrowed names */
    char **bufs;              /* owned: per publisher spool read buffer */
    struct em_spool_rec *recs;
    struct em_rq_entry *rqe;
    struct em_qmsg *moving;
    struct em_rq_item *items;
    int64_t *empty_at;        /* owned, per publisher: when a read found nothing, 0 */
    int redis_up;
};

static void not_empty(struct em_queue *q)
{
    memset(q->empty_at, 0, q->npub * sizeof *q->empty_at);
}

struct em_queue *em_queue_open(const struct em_conf *c, unsigned lock_wait_ms, char *err,
                               size_t errlen)
{
    char dir[4096], e[256];
    struct em_queue *q = calloc(1, sizeof *q);
    if (!q)
        goto oom;
    q->backend = c->queue.backend;
    q->npub = c->npublishers;
    q->names = calloc(q->npub ? q->npub : 1, sizeof *q->names);
    q->bufs = calloc(q->npub ? q->npub : 1, sizeof *q->bufs);
    q->recs = calloc(READ_BATCH, sizeof *q->recs);
    q->rqe = calloc(READ_BATCH, sizeof *q->rqe);
    q->items = calloc(MOVE_BATCH, sizeof *q->items);
    q->empty_at = calloc(q->npub ? q->npub : 1, sizeof *q->empty_at);
    if (!q->names || !q->bufs || !q->recs || !q->rqe || !q->items || !q->empty_at)
        goto oom;
    for (size_t i = 0; i < q->npub; i++)
        q->names[i] = c->publishers[i].name;

    snprintf(dir, sizeof dir, "%s/spool", c->agent.state_dir);
    if (em_mkdirs(c->agent.state_dir, 0750) < 0) {
        snprintf(err, errlen, "cannot create '%s': %s", c->agent.state_dir, strerror(errno));
        goto fail;
    }
    struct em_spool_limits lim = {0};
    lim.max_bytes = (uint64_t)c->queue.spool_max_bytes;
    lim.max_messages = (uint64_t)c->queue.max_messages;
    lim.max_age_s = (uint32_t)c->queue.max_age_s;
    lim.lock_wait_ms = lock_wait_ms;
    if (q->backend == EM_QUEUE_SPOOL) {
        for (size_t i = 0; i < q->npub; i++)
            if (!(q->bufs[i] = malloc(READ_BUF)))
                goto oom;
        q->sp = em_spool_open(dir, &lim, q->names, q->npub, e, sizeof e);
    } else {
        /* The fallback holds what Redis could not take; it has one reader. */
        static const char *const fallback[] = {"redis"};
        if (!(q->bufs[0] = malloc(READ_BUF)))
            goto oom;
        q->sp = em_spool_open(dir, &lim, fallback, 1, e, sizeof e);
    }
    if (!q->sp) {
        snprintf(err, errlen, "spool '%s': %s", dir, e);
        goto fail;
    }
    if (q->backend == EM_QUEUE_REDIS) {
        struct em_rqueue_conf rc = {0};
        rc.url = c->queue.url;
        rc.agent = c->agent.id;
        rc.publishers = q->names;
        rc.npub = q->npub;
        rc.max_messages = (long)c->queue.max_messages;
        rc.max_age_s = (long)c->queue.max_age_s;
        q->rq = em_rqueue_open(&rc, e, sizeof e);
        if (!q->rq) {
            snprintf(err, errlen, "queue.url: %s", e);
            goto fail;
        }
        q->redis_up = 1; /* the first failure reports "down" once */
    }
    return q;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    em_queue_close(q);
    return NULL;
}

void em_queue_close(struct em_queue *q)
{
    if (!q)
        return;
    em_rqueue_close(q->rq);
    em_spool_close(q->sp);
    for (size_t i = 0; q->bufs && i < (q->npub ? q->npub : 1); i++)
        free(q->bufs[i]);
    free(q->bufs);
    free(q->names);
    free(q->empty_at);
    free(q->recs);
    free(q->rqe);
    free(q->items);
    free(q);
}

static long long spool_pending(struct em_queue *q, size_t consumer)
{
    struct em_spool_stats st;
    if (em_spool_stats(q->sp, consumer, &st) < 0)
        return 0;
    return (long long)st.pending;
}

static int to_spool(struct em_queue *q, const struct em_qmsg *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (em_spool_append(q->sp, m[i].data, m[i].len, m[i].ts_ms, NULL) < 0)
            return -1;
    return 0;
}

int em_queue_push(struct em_queue *q, const struct em_qmsg *m, size_t n)
{
    if (n)
        not_empty(q);
    if (q->backend == EM_QUEUE_SPOOL || !q->redis_up || spool_pending(q, 0) > 0)
        return to_spool(q, m, n);
    for (size_t off = 0; off < n; off += MOVE_BATCH) {
        size_t k = n - off < MOVE_BATCH ? n - off : MOVE_BATCH;
        for (size_t i = 0; i < k; i++) {
            q->items[i].data = m[off + i].data;
            q->items[i].len = m[off + i].len;
            q->items[i].ts_ms = m[off + i].ts_ms;
        }
        if (em_rqueue_push(q->rq, q->items, k) < 0) {
            /* Some may be in Redis already: sent twice at worst, never lost. */
            q->redis_up = em_rqueue_up(q->rq);
            return to_spool(q, m + off, n - off);
        }
    }
    return 0;
}

/* Move what the fallback holds into Redis, oldest first. */
static void move_to_redis(struct em_queue *q)
{
    for (int round = 0; round < 8; round++) {
        int n = em_spool_read(q->sp, 0, q->recs, MOVE_BATCH, q->bufs[0], READ_BUF);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            q->items[i].data = q->recs[i].data;
            q->items[i].len = q->recs[i].len;
            q->items[i].ts_ms = q->recs[i].ts_ms;
        }
        if (em_rqueue_push(q->rq, q->items, (size_t)n) < 0) {
            em_spool_rewind(q->sp, 0);
            return;
        }
        em_spool_ack(q->sp, 0, q->recs[n - 1].id); /* inclusive */
        not_empty(q);
    }
}

int em_queue_service(struct em_queue *q, int64_t now_ms)
{
    int change = 0;
    em_spool_expire(q->sp, now_ms);
    if (q->backend == EM_QUEUE_REDIS) {
        enum em_rq_event ev = em_rqueue_service(q->rq);
        if (ev == EM_RQ_EV_DOWN)
            change = -1;
        else if (ev == EM_RQ_EV_UP) {
            change = 1;
            not_empty(q); /* Redis may hold what an earlier run queued */
        }
        q->redis_up = em_rqueue_up(q->rq);
        if (q->redis_up)
            move_to_redis(q);
    }
    return change;
}

int em_queue_sync(struct em_queue *q)
{
    return em_spool_sync(q->sp);
}

int em_queue_damage(struct em_queue *q, unsigned long long *corrupt,
                    unsigned long long *truncated)
{
    struct em_spool_stats ss;
    if (em_spool_stats(q->sp, 0, &ss) < 0)
        return -1;
    *corrupt = ss.corrupt;
    *truncated = ss.truncated;
    return 0;
}

int em_queue_read(struct em_queue *q, size_t pub, struct em_qentry *out, size_t max)
{
    if (max > READ_BATCH)
        max = READ_BATCH;
    if (q->backend == EM_QUEUE_REDIS && !q->redis_up) {
        errno = ENOTCONN;
        return -1;
    }
    int64_t now = em_mono_ms();
    if (q->empty_at[pub] && now - q->empty_at[pub] < EMPTY_RECHECK_MS)
        return 0;
    if (q->backend == EM_QUEUE_SPOOL) {
        int n = em_spool_read(q->sp, pub, q->recs, max, q->bufs[pub], READ_BUF);
        q->empty_at[pub] = n == 0 ? now : 0;
        for (int i = 0; i < n; i++) {
            out[i].a = q->recs[i].id;
            out[i].b = 0;
            out[i].ts_ms = q->recs[i].ts_ms;
            out[i].data = q->recs[i].data;
            out[i].len = q->recs[i].len;
        }
        return n;
    }
    int n = em_rqueue_read(q->rq, pub, q->rqe, max);
    q->empty_at[pub] = n == 0 || (n > 0 && em_rqueue_caught_up(q->rq, pub)) ? now : 0;
    for (int i = 0; i < n; i++) {
        out[i].a = q->rqe[i].id_ms;
        out[i].b = q->rqe[i].id_seq;
        out[i].ts_ms = q->rqe[i].ts_ms;
        out[i].data = q->rqe[i].data;
        out[i].len = q->rqe[i].len;
    }
    if (n < 0)
        q->redis_up = em_rqueue_up(q->rq);
    return n;
}

int em_queue_ack(struct em_queue *q, size_t pub, const struct em_qentry *e, size_t n)
{
    if (n == 0)
        return 0;
    if (q->backend == EM_QUEUE_SPOOL)
        return em_spool_ack(q->sp, pub, e[n - 1].a); /* inclusive */
    struct em_rq_entry ids[READ_BATCH];
    for (size_t off = 0; off < n; off += READ_BATCH) {
        size_t k = n - off < READ_BATCH ? n - off : READ_BATCH;
        for (size_t i = 0; i < k; i++) {
            memset(&ids[i], 0, sizeof ids[i]);
            ids[i].id_ms = e[off + i].a;
            ids[i].id_seq = e[off + i].b;
        }
        if (em_rqueue_ack(q->rq, pub, ids, k) < 0)
            return -1;
    }
    return 0;
}

int em_queue_rewind(struct em_queue *q, size_t pub)
{
    q->empty_at[pub] = 0;
    if (q->backend == EM_QUEUE_SPOOL)
        return em_spool_rewind(q->sp, pub);
    return em_rqueue_rewind(q->rq, pub);
}

long long em_queue_fallback_pending(struct em_queue *q)
{
    return q->backend == EM_QUEUE_REDIS ? spool_pending(q, 0) : 0;
}

int em_queue_redis_up(const struct em_queue *q)
{
    return q->backend == EM_QUEUE_REDIS && q->redis_up;
}

int em_queue_stats(struct em_queue *q, size_t pub, struct em_qstats *st)
{
    memset(st, 0, sizeof *st);
    if (q->backend == EM_QUEUE_SPOOL) {
        struct em_spool_stats ss;
        if (em_spool_stats(q->sp, pub, &ss) < 0)
            return -1;
        st->pending = (long long)ss.pending;
        if (ss.oldest_ts_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long long age = (long long)ts.tv_sec - ss.oldest_ts_ms / 1000;
            st->oldest_age_s = age > 0 ? age : 0;
        }
        st->nreasons = EM_SPOOL_DROP_NREASONS;
        for (size_t r = 0; r < st->nreasons; r++) {
            st->dropped_by[r] = (long long)ss.dropped[r];
            st->reason_names[r] = em_spool_drop_name((enum em_spool_drop)r);
            st->dropped += st->dropped_by[r];
        }
        return 0;
    }
    struct em_rq_stats rs;
    if (em_rqueue_stats(q->rq, pub, &rs) < 0)
        return -1;
    st->pending = rs.pending + spool_pending(q, 0);
    st->oldest_age_s = rs.oldest_age_s;
    st->nreasons = EM_RQ_NREASONS;
    for (size_t r = 0; r < st->nreasons; r++) {
        st->dropped_by[r] = rs.dropped[r];
        st->reason_names[r] = em_rqueue_reason_name((enum em_rq_reason)r);
        st->dropped += rs.dropped[r];
    }
    /* The fallback's own bound drops count for every publisher. */
    struct em_spool_stats ss;
    if (em_spool_stats(q->sp, 0, &ss) == 0) {
        for (size_t r = 0; r < EM_SPOOL_DROP_NREASONS; r++)
            st->dropped += (long long)ss.dropped[r];
        if (ss.oldest_ts_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long long age = (long long)ts.tv_sec - ss.oldest_ts_ms / 1000;
            if (age > st->oldest_age_s)
                st->oldest_age_s = age;
        }
    }
    return 0;
}

int em_queue_hash_replace(struct em_queue *q, const char *key, const char *const *fields,
                          const char *const *values, size_t n)
{
    if (!q->rq) {
        errno = ENOTSUP;
        return -1;
    }
    return em_rqueue_hash_replace(q->rq, key, fields, values, n);
}

int em_queue_hash_get(struct em_queue *q, const char *key,
                      void (*fn)(void *arg, const char *field, const char *value), void *arg)
{
    if (!q->rq) {
        errno = ENOTSUP;
        return -1;
    }
    return em_rqueue_hash_get(q->rq, key, fn, arg);
}
