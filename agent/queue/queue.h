/* queue.h - the store-and-forward queue: Redis Streams with a spool fallback, or spool.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * backend "redis": every message goes to Redis (agent/queue/rqueue), one stream per
 * publisher. While Redis is down, messages go to the embedded spool instead
 * (consumer "redis") and move into Redis, in order, once it is back; while the
 * spool holds any, new messages queue behind them so order is kept.
 * backend "spool": the spool alone, one consumer per publisher.
 * Publishers read entries, and ack each one only after their broker confirmed it.
 * Not thread-safe: the core thread owns the queue.
 */
#ifndef EM_QUEUE_H
#define EM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* One queued message handed to a publisher. `data` is owned by the queue and
 * valid until the next em_queue_read() for the same publisher. */
struct em_qentry {
    uint64_t a, b;     /* Redis stream id (ms, seq), or spool id in a (b = 0) */
    int64_t ts_ms;
    const char *data;
    size_t len;
};

struct em_qstats {
    long long pending;      /* not yet confirmed by this publisher's broker */
    long long oldest_age_s; /* age of the oldest of those; 0 when none */
    long long dropped;      /* by the queue's bounds, all reasons, all runs */
    long long dropped_by[4];
    const char *reason_names[4];
    size_t nreasons;
};

struct em_queue;

/* Open for the publishers of `c` (borrowed for the queue's lifetime). The
 * spool lives in <state_dir>/spool. Redis may be down: it connects lazily.
 * NULL with err when the spool cannot be opened (state_dir not writable, or
 * another edgemon held it for longer than lock_wait_ms: EAGAIN). */
struct em_queue *em_queue_open(const struct em_conf *c, unsigned lock_wait_ms, char *err,
                               size_t errlen);
void em_queue_close(struct em_queue *q);

/* Store messages (borrowed for the call) in order. Returns 0, or -1 with errno
 * when neither Redis nor the spool could take them (disk full). */
struct em_qmsg {
    const char *data;
    size_t len;
    int64_t ts_ms;
};
int em_queue_push(struct em_queue *q, const struct em_qmsg *m, size_t n);

/* Reconnect Redis, move spooled messages into Redis, sync the spool, apply age
 * limits. Call every ~100 ms. Returns +1 when Redis came back, -1 when it went
 * down, 0 otherwise (only for backend redis). */
int em_queue_service(struct em_queue *q, int64_t now_ms);

/* Entries for publisher `pub`: first those handed out before but not acked after
 * a rewind, then new ones. Returns the count (0: none), or -1 with errno
 * (ENOTCONN: Redis is down). */
int em_queue_read(struct em_queue *q, size_t pub, struct em_qentry *out, size_t max);
/* Confirm entries (only ids are used). Spool acks are cumulative: pass them in
 * order. 0 or -1 with errno (they will be delivered again). */
int em_queue_ack(struct em_queue *q, size_t pub, const struct em_qentry *e, size_t n);
/* Hand out the unconfirmed entries again from the oldest. */
int em_queue_rewind(struct em_queue *q, size_t pub);

int em_queue_stats(struct em_queue *q, size_t pub, struct em_qstats *st);
/* Messages waiting in the spool fallback for Redis (backend redis), else 0. */
long long em_queue_fallback_pending(struct em_queue *q);
int em_queue_redis_up(const struct em_queue *q);
int em_queue_sync(struct em_queue *q);
/* Damage the spool found and stepped over since it was opened: records whose
 * checksum failed (skipped) and torn-tail bytes cut off at open (a power cut
 * mid-write). Both only grow; 0 or -1 with errno. */
int em_queue_damage(struct em_queue *q, unsigned long long *corrupt,
                    unsigned long long *truncated);

/* A small hash in the queue's Redis (see em_rqueue_hash_replace / _get), for
 * state an operator reads there. -1 with errno: ENOTSUP with backend spool,
 * ENOTCONN while Redis is down. */
int em_queue_hash_replace(struct em_queue *q, const char *key, const char *const *fields,
                          const char *const *values, size_t n);
int em_queue_hash_get(struct em_queue *q, const char *key,
                      void (*fn)(void *arg, const char *field, const char *value), void *arg);

#endif
