/* core_int.h - what the core's files share: the publisher runtimes and the core.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * core.c owns the daemon (setup, loop, signals, reload); core_pub.c drives each
 * publisher's window of messages in flight and its live lane. Everything here
 * runs on the core thread.
 */
#ifndef EM_CORE_INT_H
#define EM_CORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "handoff.h"
#include "live.h"
#include "publisher.h"
#include "queue.h"
#include "seqstore.h"

#define HANDOFF_BYTES  (1024 * 1024)
/* A publisher that confirmed something in one of its last STREAMING_PUMPS pumps
 * is polled every STREAMING_SLEEP_US while it has messages in flight. */
#define STREAMING_PUMPS    16
#define STREAMING_SLEEP_US 20
/* Confirmed messages reach the queue in acks of up to ACK_BATCH, at most
 * ACK_DELAY_MS late: a Redis queue pays a round trip per ack. */
#define ACK_BATCH      256
#define ACK_DELAY_MS   20
#define PUSH_BATCH     64
#define WINDOW_MAX     4096
#define STOP_DEADLINE_MS 3000
#define STATS_SAVE_MS    5000 /* queue.json when only its counters moved */
/* Live lane: fresh readings go out beside a backlog of more than this many. */
#define LIVE_BACKLOG_MIN 128
#define LIVE_WINDOW      8
#define LIVE_BYTES       (32 * 1024)
#define LIVE_TOKEN       (1ull << 63)

enum slot_state { SLOT_FREE, SLOT_SENT, SLOT_OK, SLOT_RETRY, SLOT_DROP, SLOT_SKIP };

struct slot {
    uint64_t a, b;
    uint32_t gen;
    uint8_t state;
};

struct core;

struct pubrt {
    struct core *core;              /* back to the owner */
    const struct em_pub_conf *conf; /* borrowed from the config tree */
    const struct em_publisher *impl;
    void *ctx;
    size_t idx;                     /* queue consumer index */
    struct slot *ring;              /* owned: messages in send order */
    size_t cap, head, count, unresolved;
    int streaming; /* pumps left before a round without confirmations counts as idle */
    uint32_t gen;
    int rewind_pending;
    int was_up;                     /* -1 before the first connect */
    uint64_t published, deadletter, retries;
    uint64_t acked_since;           /* for the drain rate */
    struct em_qentry *acks;         /* owned: confirmed, not yet acked, in order */
    size_t nacks;
    int64_t acks_since;             /* monotonic ms of the oldest of them */
    /* A backlog found at connect: when, for the "delivered" line (0: none). */
    int64_t drain_start;
    uint64_t drain_base;            /* published + deadletter at its start */
    double rate;                    /* confirmed messages per second */
    /* live lane (see live.h) */
    struct em_live *live;           /* owned */
    int backlogged;
    struct {
        uint32_t gen;
        int busy;
        size_t dev;
        uint64_t seq;
    } ls[LIVE_WINDOW];
    uint32_t lgen;
    unsigned live_inflight;
    uint64_t live_sent, live_skipped;
    long long dropped_logged;       /* drops already reported in the log */
    struct em_qstats st;            /* queue figures of the last stats round */
    int st_ok;                      /* st was read */
    int64_t since;                  /* monotonic ms when created */
};

/* A flag acknowledgement waiting for publishers that are down (core_flags.c). */
#define FLAG_ACKS 8
struct flag_ack {
    char *text; /* owned */
    size_t len;
    uint32_t sent; /* bit i: publisher i has it */
    int64_t expires;
};

struct core {
    struct em_conf *conf;
    struct em_device *devs;
    size_t ndevs;
    struct em_bus *buses;
    size_t nbuses;
    struct pubrt *pubs;
    size_t npubs;
    struct em_queue *queue;
    struct em_handoff handoff;
    char boot[24];
    int print;
    int redis_reported_down;
    uint64_t handoff_dropped_logged;
    unsigned long long damage_logged; /* spool corrupt records + torn bytes reported */
    /* operator surface (agent/ops): snapshot, HTTP server, the site dataset */
    struct em_ops *ops;          /* owned; NULL when neither HTTP nor site is wanted */
    void *httpd;                 /* owned struct em_httpd */
    struct em_seq site_seq;
    int site_on, site_iv_ms;
    int64_t site_last;
    /* feature flags (core_flags.c) */
    struct em_features *flags;      /* owned: the active set */
    struct em_features *flags_next; /* owned: where a candidate is checked */
    struct em_fetch *fetch;         /* owned; NULL without features.url */
    int flags_redis_dirty, flags_from_redis_pending;
    int64_t flags_redis_last;
    int log_level_start;            /* the level before any flag */
    unsigned datasets_off;          /* EM_DS_BIT_* left out of the queue */
    int site_off;
    int64_t stats_saved;            /* monotonic ms queue.json was last written */
    uint64_t stats_sig;             /* stats_signature() of what it holds */
    char ack_topic[300];
    struct flag_ack acks[FLAG_ACKS];
    size_t nacks;
};

/* Message envelope fields, from the fixed layout em_msg_format writes: dataset
 * and id into the buffers given, seq into *seq. Returns 0, or -1 when the message
 * does not start like one. */
int em_core_envelope(const char *m, size_t len, char *dataset, size_t dl, char *id, size_t il,
                     uint64_t *seq);

/* One runtime per publishers[] entry in c->pubs (none connects yet: that is
 * lazy); logs and returns -1 on failure. Teardown destroys them all. */
int em_core_setup_publishers(struct core *c);
void em_core_teardown_publishers(struct core *c);

/* Send what the window allows and settle the verdicts. Returns 1 when it did work. */
int em_core_pump(struct core *c, struct pubrt *p);

/* Ack the confirmed head of the window in the queue; handle a rewind. */
/* force: ack every confirmed message now (at stop). */
void em_core_settle(struct core *c, struct pubrt *p, int force);

/* Once a second: whether the live lane is on (a backlog) and the uplink log lines.
 * st: the publisher's queue figures just read, or NULL to read them here. */
void em_core_update_lane(struct core *c, struct pubrt *p, const struct em_qstats *st);

/* Feature flags: restore and apply the stored set, listen, start features.url
 * (after the devices, buses and ops exist, before the buses start); -1 logged.
 * Service from the loop with em_queue_service's event; teardown frees. */
int em_core_flags_setup(struct core *c);
void em_core_flags_service(struct core *c, int64_t now, int redis_event);
void em_core_flags_teardown(struct core *c);

#endif
