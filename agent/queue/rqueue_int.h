/* rqueue_int.h - the Redis queue's private structures, shared by its three files.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * rqueue.c       opening, publishers and their consumer groups, read, ack, stats,
 *                discovery: the stream operations behind rqueue.h
 * rqueue_conn.c  the connection: URL, connect with capped backoff, pipelining,
 *                replies and errors
 * rqueue_push.c  the write side: XADD in pipelined chunks, the bounds (length, age,
 *                Redis -OOM relief) and their exact drop counts
 * Nothing here is part of the interface; everything hangs off struct em_rqueue,
 * which owns it.
 */
#ifndef EM_RQUEUE_INT_H
#define EM_RQUEUE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "rqueue.h"

#define ITEM_CHUNK         256 /* items per push round trip */
#define ACK_CHUNK          64  /* ids per XACK/XDEL command */
#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define DEFAULT_TIMEOUT_MS 500
#define AGE_TRIM_EVERY_MS  1000
#define OOM_MIN_FREE       (64 * 1024) /* bytes an -OOM relief frees at least */
#define ID_LEN             48 /* "18446744073709551615-18446744073709551615" + NUL */

struct pub {
    char *name;                        /* also the consumer group's name */
    char *key;                         /* edgemon:AGENT:q:NAME */
    char *field[EM_RQ_NREASONS];       /* NAME:REASON in the dropped hash */
    redisReply *held;                  /* the reply the last read's entries point into */
    char cursor[ID_LEN];               /* last PEL id handed out while pel is set */
    int pel;                           /* re-reading this consumer's pending entries */
    int caught_up;                     /* see em_rqueue_caught_up() */
    int group_ok;                      /* group known to exist on this connection */
    long long unsaved[EM_RQ_NREASONS]; /* drops not yet added to the hash */
    long long sending[EM_RQ_NREASONS]; /* part of unsaved in the current pipeline */
    long long oom_need;                /* writes refused with -OOM in this chunk */
    long long trim_to;                 /* rq_oom_relief(): target length, -1 none */
};

struct em_rqueue {
    redisContext *c; /* NULL while down */
    char *host;
    int port;
    char *unix_path;
    int db;
    char *user;
    char *password;
    char *agent;
    char *dropkey;
    struct pub *pubs;
    size_t npub;           /* all publishers, including discovered ones */
    size_t npush;          /* the first npush (those given to open) receive pushes */
    unsigned char *failed; /* npush * ITEM_CHUNK: XADD refused with -OOM */
    long max_messages;
    long max_age_s;
    long timeout_ms;
    int up;
    int reported_up;
    unsigned long attempts;
    unsigned long connects;
    long backoff_ms;
    int64_t next_try_ms;
    int64_t last_age_trim_ms;
    char errbuf[256];
};

/* Shared between the three files; each is defined in the file its name suggests. */
void rq_set_err(struct em_rqueue *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void rq_open_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

char *rq_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int rq_parse_url(struct em_rqueue *q, const char *url, char *err, size_t errlen);

void rq_drop_conn(struct em_rqueue *q, int err);

int rq_is_err(const redisReply *r, const char *prefix);

int rq_reply_error(struct em_rqueue *q, const redisReply *r, const char *what);

int rq_append(struct em_rqueue *q, const char *fmt, ...);

redisReply *rq_next_reply(struct em_rqueue *q);

redisReply *rq_command(struct em_rqueue *q, const char *fmt, ...);

int rq_ensure_conn(struct em_rqueue *q);

int rq_append_flush(struct em_rqueue *q, size_t *ncmd);

int rq_read_flush(struct em_rqueue *q, size_t ncmd);

int rq_flush_drops(struct em_rqueue *q);

long long rq_oom_relief(struct em_rqueue *q);

int rq_trim_age_all(struct em_rqueue *q);

#endif
