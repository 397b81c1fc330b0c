/* rqueue.h - the durable store-and-forward queue: one Redis stream per publisher.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The queue sits between the poller and the publishers. Every pushed message is
 * appended to the stream of every publisher, so each publisher drains on its own:
 * a broker that is down never holds back another one. A publisher reads entries,
 * hands them to its broker and acks them only after the broker confirmed them;
 * an acked entry is deleted, so a stream's length is exactly the number of
 * messages that publisher has not delivered yet.
 *
 * Redis layout (AGENT = conf.agent, PUB = publisher name):
 *   edgemon:AGENT:q:PUB      stream, fields m (message bytes) and ts (ms),
 *                            consumer group PUB, consumer AGENT
 *   edgemon:AGENT:dropped    hash, field "PUB:REASON" -> messages dropped
 *
 * Delivery is at least once. After a reconnect, a restart or em_rqueue_rewind(),
 * a publisher first gets back what it read but did not ack (its pending entries,
 * in order), then new entries. A push that fails may already have stored part of
 * its items; pushing them again gives duplicates, which consumers drop on
 * id + seq (CONTRACT.md section 3).
 *
 * Bounds and drops (oldest first, counted per publisher and reason in the hash
 * above and in em_rqueue_stats()):
 *   "max_messages"  the stream is trimmed to exactly max_messages entries;
 *   "max_age"       entries older than max_age_s (stream ids are Redis's wall
 *                   clock in ms) are trimmed;
 *   "redis_oom"     Redis refused a write with -OOM (maxmemory + noeviction):
 *                   every stream loses its oldest 1% (at least as many entries
 *                   as failed), then the failed writes are retried once.
 * Trimming ignores consumer groups, so an entry read but not yet acked can be
 * dropped too; it is then skipped (and counted once, when trimmed).
 *
 * Connection: lazy. Any call connects when no connection is up and the reconnect
 * backoff has elapsed (100 ms doubling to 5 s, reset by a successful connect).
 * One attempt blocks for at most about timeout_ms (connect, then AUTH/SELECT/PING
 * within what is left of it); each command then waits at most timeout_ms for its
 * reply. The command timeout is set again on every new connection (hiredis 0.14
 * loses it in redisReconnect, which is therefore not used). While the backoff
 * runs, calls fail at once with ENOTCONN and do no I/O.
 *
 * Not thread-safe: one thread (the core loop) owns a queue. hiredis writes with
 * write(2), so the process must ignore SIGPIPE.
 *
 * Errors (errno after -1): EINVAL bad argument; ENOTCONN Redis is down or the
 * reconnect backoff has not elapsed; ETIMEDOUT no reply within timeout_ms;
 * ECONNRESET / ECONNREFUSED / other socket errors as reported; ENOSPC Redis is
 * out of memory even after dropping the oldest; EACCES AUTH was refused; EIO an
 * unexpected error reply (the text is in em_rqueue_conn().last_error); EPROTO an
 * unexpected reply shape; ENOMEM allocation failed. A connection-level error
 * closes the connection and starts the backoff.
 */
#ifndef EM_RQUEUE_H
#define EM_RQUEUE_H

#include <stddef.h>
#include <stdint.h>

/* Why messages were dropped; index of em_rq_stats.dropped. */
enum em_rq_reason {
    EM_RQ_DROP_MAX_MESSAGES, /* "max_messages" */
    EM_RQ_DROP_MAX_AGE,      /* "max_age" */
    EM_RQ_DROP_REDIS_OOM,    /* "redis_oom" */
    EM_RQ_NREASONS
};

/* Edge-triggered connection news from em_rqueue_service(). */
enum em_rq_event {
    EM_RQ_EV_NONE, /* no change since the last report */
    EM_RQ_EV_DOWN, /* log "redis down" and switch to the spool fallback */
    EM_RQ_EV_UP,   /* log "redis back" and flush the fallback */
};

struct em_rqueue;

/* Everything is copied by em_rqueue_open(); nothing is kept borrowed. */
struct em_rqueue_conf {
    /*
     * redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]  (HOST may be [v6addr]; the
     * password may be %-encoded), or unix:///PATH[?db=N]. NULL means
     * redis://127.0.0.1:6379/0.
     */
    const char *url;
    const char *password;          /* overrides the URL's; NULL: none */
    const char *agent;             /* agent id: key prefix and consumer name */
    const char *const *publishers; /* publisher names; unique, non-empty */
    size_t npub;                   /* may be 0 (inspection, see discover) */
    long max_messages;             /* per publisher stream; 0: unbounded */
    long max_age_s;                /* 0: no age limit */
    long timeout_ms;               /* connect and command timeout; 0: 500 */
};

/* One message to push. `data` is borrowed for the call and may hold any bytes. */
struct em_rq_item {
    const void *data;
    size_t len;
    int64_t ts_ms; /* stored as field ts; the reading's time */
};

/* One entry read for a publisher. */
struct em_rq_entry {
    uint64_t id_ms; /* stream id "id_ms-id_seq"; id_ms is when Redis stored it */
    uint64_t id_seq;
    int64_t ts_ms; /* the ts given to push; 0 when missing */
    /*
     * The message bytes, owned by the queue (no copy: they point into the reply).
     * Valid until the next em_rqueue_read() for the same publisher or
     * em_rqueue_close(). A NUL follows the len bytes, for convenience.
     */
    const void *data;
    size_t len;
};

struct em_rq_stats {
    long long pending;      /* entries not yet acked (stream length) */
    long long inflight;     /* of those, read and not yet acked (the group's PEL) */
    long long oldest_age_s; /* age of the oldest pending entry; 0 when empty */
    long long dropped[EM_RQ_NREASONS]; /* since the key was created, all runs */
};

struct em_rq_conn {
    int up;                 /* a connection is established */
    unsigned long attempts; /* connection attempts since open */
    unsigned long connects; /* successful ones */
    long backoff_ms;        /* current backoff; 0 while up */
    long retry_in_ms;       /* until the next attempt is allowed; 0 now/up */
    const char *last_error; /* owned by the queue, until its next call; "" if none */
};

/*
 * Creates a queue. Does not connect (the first call that needs Redis does), so it
 * succeeds while Redis is down. Returns NULL with errno (EINVAL for a bad url,
 * agent or publisher list, ENOMEM) and a message in err[errlen] (err may be NULL).
 */
struct em_rqueue *em_rqueue_open(const struct em_rqueue_conf *conf, char *err,
                                 size_t errlen);

/*
 * Flushes drop counters not yet written (best effort, one timeout at most), then
 * frees the queue, its connection and every entry handed out. NULL-safe.
 */
void em_rqueue_close(struct em_rqueue *q);

/*
 * Appends n items to every publisher's stream, in order, pipelined (one round
 * trip per 256 items), then applies max_age_s and max_messages. Returns 0 when
 * every item is stored for every publisher, else -1 with errno (ENOTCONN,
 * ETIMEDOUT, ECONNRESET..., ENOSPC, EIO); then some items may be stored already
 * (see duplicates above) and the caller keeps them (spool fallback).
 */
int em_rqueue_push(struct em_rqueue *q, const struct em_rq_item *items, size_t n);

/*
 * Reads up to max entries for publisher index pub (0 .. em_rqueue_npub()-1),
 * without blocking on Redis: first the entries this agent read before and did not
 * ack (after open, reconnect or rewind), then new ones. Returns how many entries
 * were written to out (0: nothing to send), or -1 with errno. Entries returned by
 * the previous call for this publisher become invalid.
 */
int em_rqueue_read(struct em_rqueue *q, size_t pub, struct em_rq_entry *out, size_t max);

/*
 * 1 when the last em_rqueue_read() for pub read new entries (not the pending
 * ones) and got fewer than it asked for: the stream held nothing more, so until
 * the next push another read would find nothing. 0 otherwise.
 */
int em_rqueue_caught_up(const struct em_rqueue *q, size_t pub);

/*
 * Confirms n entries of publisher pub (only their ids are used): acks and deletes
 * them in one round trip. Ids that are unknown or already acked are ignored.
 * Returns 0 or -1 with errno; after -1 the entries will be delivered again.
 */
int em_rqueue_ack(struct em_rqueue *q, size_t pub, const struct em_rq_entry *e, size_t n);

/*
 * Makes the next em_rqueue_read() for pub start again at the oldest entry read
 * but not acked (call it when the broker asked to retry). No I/O; entries already
 * handed out stay valid. Returns 0, or -1 with EINVAL.
 */
int em_rqueue_rewind(struct em_rqueue *q, size_t pub);

/* 1 when a connection is established, 0 when not (no I/O). NULL gives 0. */
int em_rqueue_up(const struct em_rqueue *q);

/*
 * Call from a loop timer (every 100 ms .. 1 s): reconnects when the backoff has
 * elapsed, writes pending drop counters, and applies max_age_s to idle streams
 * (at most once a second). Returns the up/down change since the last call that
 * reported one, so each transition is reported exactly once. The state starts
 * as "up": a queue that never connects reports EM_RQ_EV_DOWN once.
 */
enum em_rq_event em_rqueue_service(struct em_rqueue *q);

/* Fills *ci with the connection state (no I/O). */
void em_rqueue_conn(const struct em_rqueue *q, struct em_rq_conn *ci);

/*
 * Reads publisher pub's counters in one round trip, without consuming anything.
 * Returns 0, or -1 with errno (then *st is zeroed and st->pending is -1).
 */
int em_rqueue_stats(struct em_rqueue *q, size_t pub, struct em_rq_stats *st);

/*
 * Adds the publishers that have a stream or drop counters in Redis under this
 * agent but were not given to em_rqueue_open() (for `edgemon queue`, which shows
 * everything buffered, also for publishers removed from the config). Writes
 * nothing to Redis. Returns the new em_rqueue_npub(), or -1 with errno.
 */
int em_rqueue_discover(struct em_rqueue *q);

/* Number of publishers, and the name of index pub (owned by the queue; NULL when
 * out of range). Indexes never change while the queue is open. */
size_t em_rqueue_npub(const struct em_rqueue *q);
const char *em_rqueue_pub_name(const struct em_rqueue *q, size_t pub);

/*
 * Small hashes beside the streams (the active feature flags). Replace makes `key`
 * hold exactly the n field/value pairs (MULTI, DEL, HSET..., EXEC); get calls fn
 * for each pair (strings valid for the call) and returns how many. Both -1 with
 * errno (ENOTCONN: Redis is down).
 */
int em_rqueue_hash_replace(struct em_rqueue *q, const char *key, const char *const *fields,
                           const char *const *values, size_t n);
int em_rqueue_hash_get(struct em_rqueue *q, const char *key,
                       void (*fn)(void *arg, const char *field, const char *value), void *arg);

/* "max_messages", "max_age", "redis_oom"; "?" when out of range. */
const char *em_rqueue_reason_name(enum em_rq_reason r);

#endif
