/* redis.c - the Redis publisher: PUBLISH or XADD, pipelined, without ever blocking.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * No threads: everything runs on the core thread inside submit() and service().
 * Only the hiredis API common to 0.14.1 (Debian) and 1.x (OpenWrt) is used.
 *
 * Connecting. redisConnectNonBlock starts the TCP connect and returns at once;
 * service() then asks poll(2) with a zero timeout whether the socket became
 * writable and reads SO_ERROR for the outcome, giving up after timeout_ms.
 * redisConnectWithTimeout would be simpler, but it stalls the core thread (the
 * hand-off from the buses, every other publisher) for up to timeout_ms on every
 * attempt while the uplink is black-holed, which is exactly when attempts repeat.
 * One blocking step remains: hiredis resolves a host *name* with getaddrinfo(3);
 * an address, or a name in /etc/hosts, resolves without waiting on the network.
 *
 * Pipelining. submit() appends the command to hiredis's output buffer
 * (redisAppendCommand) and its token to a FIFO; service() writes the buffer
 * (redisBufferWrite) and collects whatever replies have arrived (redisBufferRead +
 * redisGetReplyFromReader), neither of which waits on a non-blocking socket.
 * Redis answers in order, so the head of the FIFO is the command each reply
 * belongs to. The handshake (AUTH, SELECT or PING) sits in the same FIFO ahead of
 * the data. The FIFO is a ring allocated at create: window + 2 entries.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "busaddr.h"
#include "clock.h"
#include "publisher.h"
#include "redis/redis.h"
#include "redis/redis_sub.h"

/*
 * REDIS_FLUSH_EVERY: commands submit() appends before it writes them itself
 * (service() writes the rest). REDIS_READ_ROUNDS: redisBufferRead takes 16 KiB a
 * call; this bounds the time one service() spends reading.
 */
#define REDIS_DEFAULT_TOPIC      "monitoring.{dataset}"
#define REDIS_DEFAULT_WINDOW     64
#define REDIS_MAX_WINDOW         4096 /* the core's own limit (agent/core.c WINDOW_MAX) */
#define REDIS_DEFAULT_TIMEOUT_MS 5000
#define REDIS_DEFAULT_MAXLEN     100000L
#define REDIS_BACKOFF_MIN_MS     100
#define REDIS_BACKOFF_MAX_MS     5000
#define REDIS_HANDSHAKE_MAX      2 /* AUTH + SELECT, or PING */
#define REDIS_NOTIFY_MAX         4 /* flag acks awaiting their reply */
#define REDIS_KEY_MAX            1024
#define REDIS_FLUSH_EVERY        32
#define REDIS_READ_ROUNDS        32
#define REDIS_KEEPIDLE_S         15
#define REDIS_KEEPINTVL_S        5
#define REDIS_KEEPCNT            3

enum link_state {
    LINK_DOWN,       /* no socket; next attempt at next_try_ms */
    LINK_CONNECTING, /* non-blocking connect under way */
    LINK_HANDSHAKE,  /* connected; AUTH/SELECT/PING sent, replies awaited */
    LINK_READY,      /* handshake answered: accepting messages */
};

enum entry_kind { ENTRY_DATA, ENTRY_HANDSHAKE, ENTRY_NOTIFY };

struct entry {
    uint64_t token;
    int kind; /* enum entry_kind */
};

struct redis_ctx {
    em_pub_done_fn done;
    void *core;

    const char *topic; /* template, borrowed from the config */
    const char *agent, *site;
    int stream;      /* mode "stream": XADD, else PUBLISH */
    char maxlen[24]; /* stream_maxlen as the command argument */
    unsigned window;
    long timeout_ms;
    struct em_redis_addr addr; /* its password field is cleared; see `password` */
    char *username;            /* owned; NULL when none */
    char *password;            /* owned; NULL when none */

    redisContext *rc;
    int state;        /* enum link_state */
    int64_t deadline; /* CONNECTING: give up; otherwise: next reply overdue */
    int64_t next_try_ms;
    long backoff_ms;
    uint32_t rng;       /* xorshift state for the backoff's jitter */
    unsigned unflushed; /* commands appended since the buffer was last empty */
    int in_service;     /* service() is running: done() may call back into us */

    struct entry *fifo; /* commands awaiting their reply, in send order */
    unsigned cap, head, len;
    unsigned ndata; /* ENTRY_DATA among them: inflight() */
    unsigned nhandshake;
    unsigned nnotify;

    struct em_redis_sub *sub; /* owned; the feature flag subscription, NULL without */
};

static void redis_destroy(void *ctx);


/* ------------------------------------------------------------------ FIFO */

/* Cannot overflow: data entries stop at window, handshake ones at REDIS_HANDSHAKE_MAX,
 * notify ones at REDIS_NOTIFY_MAX. */
static void fifo_push(struct redis_ctx *c, uint64_t token, int kind)
{
    struct entry *e;

    if (c->len == c->cap)
        abort(); /* a verdict would be lost: the window bookkeeping is broken */
    if (c->len == 0)
        c->deadline = em_mono_ms() + c->timeout_ms; /* the clock for the first reply */
    e = &c->fifo[(c->head + c->len) % c->cap];
    e->token = token;
    e->kind = kind;
    c->len++;
    if (kind == ENTRY_DATA)
        c->ndata++;
    else if (kind == ENTRY_NOTIFY)
        c->nnotify++;
    else
        c->nhandshake++;
}

static struct entry fifo_pop(struct redis_ctx *c)
{
    struct entry e = c->fifo[c->head];

    c->head = (c->head + 1) % c->cap;
    c->len--;
    if (e.kind == ENTRY_DATA)
        c->ndata--;
    else if (e.kind == ENTRY_NOTIFY)
        c->nnotify--;
    else
        c->nhandshake--;
    return e;
}

/* ------------------------------------------------------------------ link */

/*
 * The connection is gone (or unusable): free it, schedule the next attempt, and
 * give every command still awaiting its reply EM_PUB_RETRY, exactly once. The
 * state is DOWN before the first done(), so a submit() from inside done() is
 * refused instead of landing on the dead link.
 */
static void link_lost(struct redis_ctx *c)
{
    if (c->rc) {
        redisFree(c->rc);
        c->rc = NULL;
    }
    c->state = LINK_DOWN;
    c->unflushed = 0;
    /* Up to a quarter off, so a fleet of gateways does not return in step. */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 17;
    c->rng ^= c->rng << 5;
    c->next_try_ms =
        em_mono_ms() + c->backoff_ms - (int64_t)(c->rng % (uint32_t)(c->backoff_ms / 4 + 1));
    c->backoff_ms = c->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS
                                                             : c->backoff_ms * 2;
    while (c->len > 0) {
        struct entry e = fifo_pop(c);

        if (e.kind == ENTRY_DATA)
            c->done(c->core, e.token, EM_PUB_RETRY);
    }
}

/* Write what hiredis buffered; a full socket leaves the rest for the next call. */
static int flush(struct redis_ctx *c)
{
    int done = 0;

    /* One write(2) a call: a second one finishes a partial write or sees EAGAIN. */
    for (int i = 0; i < 2 && !done; i++) {
        if (redisBufferWrite(c->rc, &done) != REDIS_OK)
            return -1;
    }
    if (done)
        c->unflushed = 0;
    return 0;
}

/* TCP keepalive, so an idle link to a vanished peer is noticed (up() goes to 0). */
void em_redis_keepalive(int fd)
{
    int on = 1, idle = REDIS_KEEPIDLE_S, intvl = REDIS_KEEPINTVL_S, cnt = REDIS_KEEPCNT;

    /*
     * Set here rather than with redisEnableKeepAlive, which marks the whole
     * context failed when a socket option is refused; keepalive is a nicety.
     */
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* The socket is connected: queue the handshake ahead of any data. */
static void start_handshake(struct redis_ctx *c)
{
    int rc = REDIS_OK;

    if (!c->addr.is_unix)
        em_redis_keepalive(c->rc->fd);
    c->state = LINK_HANDSHAKE;
    if (c->password) {
        if (c->username)
            rc = redisAppendCommand(c->rc, "AUTH %s %s", c->username, c->password);
        else
            rc = redisAppendCommand(c->rc, "AUTH %s", c->password);
        if (rc == REDIS_OK)
            fifo_push(c, 0, ENTRY_HANDSHAKE);
    }
    if (rc == REDIS_OK && c->addr.db != 0) {
        rc = redisAppendCommand(c->rc, "SELECT %d", c->addr.db);
        if (rc == REDIS_OK)
            fifo_push(c, 0, ENTRY_HANDSHAKE);
    }
    /* PING otherwise: up() should mean that Redis answers, not that TCP connected. */
    if (rc == REDIS_OK && c->nhandshake == 0) {
        rc = redisAppendCommand(c->rc, "PING");
        if (rc == REDIS_OK)
            fifo_push(c, 0, ENTRY_HANDSHAKE);
    }
    if (rc != REDIS_OK || flush(c) < 0)
        link_lost(c);
}

/* CONNECTING: has the non-blocking connect finished, failed or run out of time? */
static void check_connect(struct redis_ctx *c)
{
    struct pollfd p = {.fd = c->rc->fd, .events = POLLOUT};
    int n = poll(&p, 1, 0), soerr = 0;
    socklen_t len = sizeof soerr;

    if (n < 0 && errno == EINTR)
        return;
    if (n == 0) {
        if (em_mono_ms() >= c->deadline)
            link_lost(c);
        return;
    }
    if (n < 0 || getsockopt(c->rc->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
        link_lost(c);
        return;
    }
    start_handshake(c);
}

/* DOWN: start a connect once the backoff has passed. */
static void start_connect(struct redis_ctx *c)
{
    if (c->state != LINK_DOWN || em_mono_ms() < c->next_try_ms)
        return;
    if (c->addr.is_unix)
        c->rc = redisConnectUnixNonBlock(c->addr.path);
    else
        c->rc = redisConnectNonBlock(c->addr.host, c->addr.port);
    if (!c->rc || c->rc->err) {
        link_lost(c); /* refused at once (loopback often is), or out of memory */
        return;
    }
    c->state = LINK_CONNECTING;
    c->deadline = em_mono_ms() + c->timeout_ms;
    check_connect(c); /* a loopback or Unix socket connect is often complete already */
}

/* --------------------------------------------------------------- replies */

/* An error reply starting with the code `code` ("OOM command not allowed ..."). */
static int is_code(const redisReply *r, const char *code)
{
    size_t n = strlen(code);

    return r->len >= n && memcmp(r->str, code, n) == 0 &&
           (r->len == n || r->str[n] == ' ');
}

/*
 * The verdict on an error reply. Retry what depends on the server's state and
 * may pass; drop the rest, which a resend would only meet again (WRONGTYPE).
 * *relink: the connection itself is no longer usable for data.
 */
static enum em_pub_result classify_error(const redisReply *r, int *relink)
{
    static const char *const transient[] = {"OOM",      "LOADING",     "BUSY",
                                            "READONLY", "MISCONF",     "MASTERDOWN",
                                            "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"};

    if (!r->str)
        return EM_PUB_DROP;
    if (is_code(r, "NOAUTH")) {
        *relink = 1; /* the server lost our AUTH (restart without us noticing): redo it */
        return EM_PUB_RETRY;
    }
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++) {
        if (is_code(r, transient[i]))
            return EM_PUB_RETRY;
    }
    return EM_PUB_DROP;
}

/*
 * One reply, for the command at the head of the FIFO. Returns 0, or -1 when the
 * link was dropped (the caller must stop using c->rc).
 */
static int handle_reply(struct redis_ctx *c, redisReply *r)
{
    enum em_pub_result v;
    struct entry e;
    int relink = 0;

    if (c->len == 0) {
        freeReplyObject(r); /* a reply to nothing we sent: the stream is out of step */
        link_lost(c);
        return -1;
    }
    e = fifo_pop(c);
    c->deadline = em_mono_ms() + c->timeout_ms; /* the clock for the next reply */
    if (e.kind == ENTRY_NOTIFY) {
        freeReplyObject(r); /* best effort: an error reply changes nothing */
        return 0;
    }
    if (e.kind == ENTRY_HANDSHAKE) {
        int ok = r->type != REDIS_REPLY_ERROR;

        freeReplyObject(r);
        if (!ok) {
            /* Wrong password, max clients, unknown db: try again after the backoff. */
            link_lost(c);
            return -1;
        }
        if (c->nhandshake == 0 && c->state == LINK_HANDSHAKE) {
            c->state = LINK_READY;
            c->backoff_ms = REDIS_BACKOFF_MIN_MS;
        }
        return 0;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        v = classify_error(r, &relink);
    } else if (r->type == (c->stream ? REDIS_REPLY_STRING : REDIS_REPLY_INTEGER)) {
        v = EM_PUB_OK;
    } else {
        /* Not what this command answers: something between us is confused. */
        v = EM_PUB_RETRY;
        relink = 1;
    }
    freeReplyObject(r);
    c->done(c->core, e.token, v);
    if (relink && c->rc) {
        link_lost(c);
        return -1;
    }
    return c->rc ? 0 : -1;
}

/* Hand every complete reply in the reader to its command. Count, or -1 if dropped. */
static int take_replies(struct redis_ctx *c)
{
    int n = 0;

    for (;;) {
        void *r = NULL;

        if (redisGetReplyFromReader(c->rc, &r) != REDIS_OK) {
            link_lost(c); /* protocol error */
            return -1;
        }
        if (!r)
            return n;
        n++;
        if (handle_reply(c, r) < 0)
            return -1;
    }
}

/* Connected: write the pipeline, read the replies, watch the reply deadline. */
static void pump(struct redis_ctx *c)
{
    if (c->rc->err || flush(c) < 0) {
        link_lost(c);
        return;
    }
    for (int i = 0; i < REDIS_READ_ROUNDS; i++) {
        int n;

        /* EOF ("Server closed the connection") comes only after the replies before it. */
        if (redisBufferRead(c->rc) != REDIS_OK) {
            link_lost(c);
            return;
        }
        n = take_replies(c);
        if (n < 0)
            return;
        if (n == 0 || c->len == 0)
            break;
    }
    /* Redis down without a FIN (power cut, cable) or stuck: do not wait forever. */
    if (c->len > 0 && em_mono_ms() >= c->deadline)
        link_lost(c);
}

/* ------------------------------------------------------------ interface */

static enum em_pub_result redis_submit(void *ctx, const struct em_pub_msg *m)
{
    struct redis_ctx *c = ctx;
    char key[REDIS_KEY_MAX];
    int klen, rc;

    if (c->state == LINK_DOWN && !c->in_service)
        start_connect(c);
    if (c->state != LINK_READY || c->rc->err || c->ndata >= c->window)
        return EM_PUB_RETRY;
    klen = em_topic_render(c->topic, m->dataset, m->device, c->agent, c->site, key,
                           sizeof key);
    if (klen < 0) {
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    /* %b: the payload and the key are sent as they are, whatever bytes they hold. */
    if (c->stream)
        rc = redisAppendCommand(c->rc, "XADD %b MAXLEN ~ %s * data %b", key, (size_t)klen,
                                c->maxlen, m->payload, m->len);
    else
        rc = redisAppendCommand(c->rc, "PUBLISH %b %b", key, (size_t)klen, m->payload,
                                m->len);
    if (rc != REDIS_OK)
        return EM_PUB_RETRY; /* out of memory: rc->err is set, service() drops the link */
    fifo_push(c, m->token, ENTRY_DATA);
    /*
     * The first command after a quiet spell goes out at once (a live reading should
     * not wait for the next service()); a burst is written in batches. A write
     * error is left in rc->err for service(), so submit() reports nothing early.
     */
    if (!c->in_service && (c->unflushed++ == 0 || c->unflushed >= REDIS_FLUSH_EVERY))
        (void)flush(c);
    return EM_PUB_OK;
}

static void redis_service(void *ctx)
{
    struct redis_ctx *c = ctx;

    if (c->in_service)
        return; /* called from inside done() */
    c->in_service = 1;
    start_connect(c);
    if (c->state == LINK_CONNECTING)
        check_connect(c);
    if (c->state == LINK_HANDSHAKE || c->state == LINK_READY)
        pump(c);
    if (c->sub)
        em_redis_sub_service(c->sub);
    c->in_service = 0;
}

static int redis_listen(void *ctx, const char *const *topics, size_t n, em_pub_inbox_fn fn,
                        void *arg)
{
    struct redis_ctx *c = ctx;

    if (c->sub) {
        errno = EALREADY;
        return -1;
    }
    c->sub = em_redis_sub_new(&c->addr, c->username, c->password, c->timeout_ms, topics, n,
                              fn, arg);
    return c->sub ? 0 : -1;
}

static int redis_notify(void *ctx, const char *topic, const char *payload, size_t len)
{
    struct redis_ctx *c = ctx;

    if (c->state != LINK_READY || !c->rc || c->rc->err) {
        errno = ENOTCONN;
        return -1;
    }
    if (c->nnotify >= REDIS_NOTIFY_MAX) {
        errno = EAGAIN;
        return -1;
    }
    if (redisAppendCommand(c->rc, "PUBLISH %s %b", topic, payload, len) != REDIS_OK) {
        errno = ENOMEM;
        return -1;
    }
    fifo_push(c, 0, ENTRY_NOTIFY);
    if (!c->in_service)
        (void)flush(c);
    return 0;
}

static int redis_up(void *ctx)
{
    struct redis_ctx *c = ctx;

    return c->state == LINK_READY && !c->rc->err;
}

static unsigned redis_inflight(void *ctx)
{
    return ((struct redis_ctx *)ctx)->ndata;
}

/* ---------------------------------------------------------------- create */

/* The credentials from the url, password/password_file and username; 0 or -1. */
static int take_credentials(struct redis_ctx *c, const struct em_pub_conf *conf,
                            char *err, size_t errlen)
{
    int in_url = c->addr.password[0] != '\0';

    if ((in_url ? 1 : 0) + (conf->password ? 1 : 0) + (conf->password_file ? 1 : 0) > 1) {
        em_pub_err(err, errlen, "password: give it once (url, password or password_file)");
        return -1;
    }
    if (c->addr.username[0] && conf->username) {
        em_pub_err(err, errlen, "username: give it in the url or as username, not both");
        return -1;
    }
    if (conf->password_file) {
        c->password = em_pub_read_secret("password_file", conf->password_file, err, errlen);
        if (!c->password)
            return -1;
    } else if (conf->password || in_url) {
        c->password = strdup(in_url ? c->addr.password : conf->password);
        if (!c->password)
            goto oom;
    }
    explicit_bzero(c->addr.password, sizeof c->addr.password);
    if (conf->username || c->addr.username[0]) {
        c->username = strdup(conf->username ? conf->username : c->addr.username);
        if (!c->username)
            goto oom;
        if (!c->password) {
            em_pub_err(err, errlen, "username '%s' needs a password", c->username);
            return -1;
        }
    }
    return 0;

oom:
    em_pub_err(err, errlen, "out of memory");
    return -1;
}

static void *redis_create(const struct em_pub_conf *conf, em_pub_done_fn done, void *core,
                          char *err, size_t errlen)
{
    struct redis_ctx *c = NULL;
    const char *field;
    char probe[REDIS_KEY_MAX];
    long maxlen;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!conf || !done) {
        em_pub_err(err, errlen, "no configuration or done callback");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->done = done;
    c->core = core;
    c->agent = conf->agent;
    c->site = conf->site;
    c->state = LINK_DOWN;
    c->backoff_ms = REDIS_BACKOFF_MIN_MS;
    c->rng = (uint32_t)em_mono_ms() ^ (uint32_t)(uintptr_t)c;
    if (!c->rng)
        c->rng = 1; /* xorshift stays at 0 forever */

    if (!conf->url || strncasecmp(conf->url, "redis://", 8) != 0) {
        /* The url is not echoed: it may hold a password, and this ends up in the log. */
        em_pub_err(err, errlen, "url must start with redis://");
        goto fail;
    }
    if (em_busaddr_parse_redis(conf->url, &c->addr, probe, sizeof probe) < 0) {
        em_pub_err(err, errlen, "url: %s", probe);
        goto fail;
    }
    if (take_credentials(c, conf, err, errlen) < 0)
        goto fail;

    if (!conf->mode || strcmp(conf->mode, "publish") == 0) {
        c->stream = 0;
    } else if (strcmp(conf->mode, "stream") == 0) {
        c->stream = 1;
    } else {
        em_pub_err(err, errlen, "mode '%s' is not publish or stream", conf->mode);
        goto fail;
    }

    /* conf.c copies channel into topic; a hand-made config may set channel only. */
    field = conf->topic ? "topic" : conf->channel ? "channel" : "topic";
    c->topic = conf->topic     ? conf->topic
               : conf->channel ? conf->channel
                               : REDIS_DEFAULT_TOPIC;
    if (!*c->topic) {
        em_pub_err(err, errlen, "%s is empty", field);
        goto fail;
    }
    rc = em_topic_render(c->topic, "pms", "dev", c->agent, c->site, probe, sizeof probe);
    if (rc < 0 && errno == EINVAL) {
        em_pub_err(err, errlen, "%s '%s' has an unknown {placeholder}", field, c->topic);
        goto fail;
    }

    maxlen = conf->stream_maxlen > 0 ? conf->stream_maxlen : REDIS_DEFAULT_MAXLEN;
    snprintf(c->maxlen, sizeof c->maxlen, "%ld", maxlen);
    c->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : REDIS_DEFAULT_TIMEOUT_MS;
    c->window = conf->window <= 0                 ? REDIS_DEFAULT_WINDOW
                : conf->window > REDIS_MAX_WINDOW ? REDIS_MAX_WINDOW
                                                  : (unsigned)conf->window;
    c->cap = c->window + REDIS_HANDSHAKE_MAX + REDIS_NOTIFY_MAX;
    c->fifo = calloc(c->cap, sizeof *c->fifo);
    if (!c->fifo)
        goto oom;
    return c;

oom:
    em_pub_err(err, errlen, "out of memory");
fail:
    redis_destroy(c);
    return NULL;
}

static void redis_destroy(void *ctx)
{
    struct redis_ctx *c = ctx;

    if (!c)
        return;
    /* Unconfirmed messages are forgotten, not reported (publisher.h). */
    if (c->rc)
        redisFree(c->rc);
    em_redis_sub_free(c->sub); /* before the password it borrows */
    em_pub_free_secret(c->password);
    explicit_bzero(&c->addr, sizeof c->addr);
    free(c->username);
    free(c->fifo);
    free(c);
}

const struct em_publisher redis_publisher = {
    .abi = EM_PUBLISHER_ABI,
    .name = "redis",
    .create = redis_create,
    .submit = redis_submit,
    .service = redis_service,
    .up = redis_up,
    .inflight = redis_inflight,
    .destroy = redis_destroy,
    .listen = redis_listen,
    .notify = redis_notify,
};
