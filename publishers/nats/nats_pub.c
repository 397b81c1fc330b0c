/* nats_pub.c - the NATS publisher: JetStream PubAcks or core-NATS markers, read on the core thread.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Threads. libnats runs its own threads (reader, flusher, timers, reconnect).
 * This publisher sets no libnats callback at all: PubAcks and markers arrive on
 * a synchronous subscription (libnats' locked message queue) that service()
 * empties with natsSubscription_NextMsg(0), which never waits, so every verdict
 * is taken and given on the core thread. libnats' async publish API
 * (js_PublishAsync) would call its ack handler on a library thread, and could
 * still call it after destroy(); a sync subscription has no such callback.
 * The link state is polled (natsConnection_Status, the reconnect count).
 *
 * One helper thread of ours, `worker`, does the calls that block: the first
 * natsConnection_Connect (up to timeout_ms for the TCP connect and the server's
 * first PONG; with RetryOnFailedConnect libnats then keeps trying by itself)
 * and, for jetstream, the stream lookup/creation (JetStream API requests, each
 * up to timeout_ms). The core thread posts it tasks and reads its results under
 * `lock`; destroy() joins it.
 *
 * Slots. Each accepted message takes a slot (allocated at create, `window` of
 * them) until its verdict. In jetstream mode the reply subject is
 * "<inbox>.<slot>.<gen>": the generation is bumped at each verdict, so a late
 * PubAck for a message already given up (timeout, reconnect) is recognised and
 * ignored; the re-send carries the same Nats-Msg-Id and the stream drops the
 * duplicate. In core mode the slots wait for the next marker.
 *
 * Core-mode markers and reconnects. A message sent on a connection that then
 * broke may be lost, while a marker sent after the reconnect comes back. So each
 * message records libnats' reconnect count before it is published, and a marker
 * confirms only messages with the count seen when the marker arrived (libnats
 * increments it before it sends anything on the new connection).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "curl/wire.h"
#include "log.h"
#include "nats/nats_pub.h"
#include "nats/natslib.h"
#include "publisher.h"

#define NATS_DEFAULT_TOPIC      "monitoring.{dataset}"
#define NATS_DEFAULT_STREAM     "monitoring"
#define NATS_DEFAULT_CLIENT_ID  "edgemon-{agent}"
#define NATS_DEFAULT_WINDOW     64
#define NATS_MAX_WINDOW         65535
#define NATS_DEFAULT_TIMEOUT_MS 5000
#define NATS_SUBJECT_MAX        256
#define NATS_ID_MAX             256
#define NATS_RECONNECT_WAIT_MS  250
#define NATS_RECONNECT_JITTER   100
/* Published while reconnecting: only what the core sent before it saw the link down. */
#define NATS_RECONNECT_BUF      (64 * 1024)
#define NATS_PING_INTERVAL_MS   10000 /* a dead link is noticed within 2 pings */
#define NATS_MAX_PINGS_OUT      2
#define NATS_RETRY_TASK_MS      1000 /* between failed connect / stream attempts */
#define NATS_SCAN_MS            50   /* how often deadlines are checked */
#define NATS_LOG_EVERY_S        10
#define NATS_ERR_MAX            512

/* Worker tasks and the state of the stream check. */
enum { TASK_NONE, TASK_CONNECT, TASK_STREAM };

struct slot {
    uint64_t token;
    uint64_t epoch;  /* core: reconnect count before publishing */
    uint64_t marker; /* core: the marker that covers it */
    int64_t deadline_ms;
    uint32_t gen;
    int busy;
    struct slot *next_free;
};

struct nats_ctx {
    em_pub_done_fn done;
    void *core;
    const struct em_natslib *n;

    const char *name, *topic, *agent, *site, *url;
    char stream[128];
    char subjects[NATS_SUBJECT_MAX]; /* the stream's subject filter */
    char inbox[64];                  /* "_INBOX.edgemon.<random>" */
    char client_id[128];
    int jetstream;
    int timeout_ms;
    unsigned window;

    natsOptions *opts;
    natsStatistics *stats;
    natsSubscription *sub; /* core thread, once the worker handed it over */
    natsConnection *nc;

    struct slot *slots, *free_list;
    unsigned used;
    int64_t next_scan_ms, next_task_ms;
    uint64_t last_reconnects; /* the count seen at the last service() */
    int was_up;

    /* core mode: markers */
    uint64_t marker_next;    /* id the next marker will get */
    uint64_t marker_out;     /* id of the marker in flight, 0 when none */
    unsigned unmarked;       /* slots published after the last marker went out */

    /* Shared with the worker thread: under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    int thread_started;
    int quit, task, busy;
    /* The worker's results: see do_connect. */
    natsConnection *w_nc;
    natsSubscription *w_sub;
    int w_created;            /* it created the stream */
    char w_err[NATS_ERR_MAX]; /* its last failure, logged by the core thread */
    char w_note[NATS_ERR_MAX]; /* why the first connect failed while libnats retries */
    _Atomic int stream_ok;    /* jetstream: the stream exists (read without the lock) */
};

static void nats_destroy(void *ctx);

/* ---------------------------------------------------------- pure parts */

enum em_pub_result em_nats_puback(const char *data, size_t len, char *why, size_t whylen)
{
    /*
     * JetStream API, io.nats.jetstream.api.v1.pub_ack_response:
     * {"stream":S,"seq":N[,"duplicate":true]} or {"error":{"code":C,"err_code":E,
     * "description":D}}. Keys, not a parse: the stream name is an identifier, so a
     * key pattern cannot occur inside a value. (No cJSON: flash is short.)
     */
    static const char dkey[] = "\"description\":\"";
    const char *e = data ? memmem(data, len, "\"error\":", 8) : NULL;
    const char *q = data ? memmem(data, len, "\"seq\":", 6) : NULL;
    size_t n = 0;

    if (!e && q && q + 6 < data + len && q[6] >= '1' && q[6] <= '9')
        return EM_PUB_OK;
    if (e && (e = memmem(e, len - (size_t)(e - data), dkey, sizeof dkey - 1))) {
        e += sizeof dkey - 1;
        while (e + n < data + len && e[n] != '"')
            n++;
    }
    /* A negative precision prints the whole string. */
    em_pub_err(why, whylen, "%.*s", n ? (int)n : -1, n ? e : "no PubAck");
    return EM_PUB_RETRY;
}

int em_nats_stream_subjects(const char *tmpl, const char *agent, const char *site, char *out,
                            size_t outlen)
{
    int n = em_topic_render(tmpl, "*", "*", agent, site, out, outlen);

    /* Subjects match token by token: a variable may only be a whole token. */
    for (char *p = out; n > 0 && (p = strchr(p, '*')); p++) {
        if ((p > out && p[-1] != '.') || (p[1] && p[1] != '.')) {
            errno = EINVAL;
            return -1;
        }
    }
    return n;
}

/* -------------------------------------------------------------- worker */

/*
 * Worker thread. Its results (w_*) are written while `busy` is set and read by
 * the core thread only under the lock once it is clear, so they need no lock.
 * The first connect: NATS_NOT_YET_CONNECTED leaves a connection that libnats
 * goes on connecting by itself.
 */
static void do_connect(struct nats_ctx *c)
{
    const struct em_natslib *n = c->n;
    natsConnection *nc = NULL;
    char subj[sizeof c->inbox + 4];
    natsStatus s = n->natsConnection_Connect(&nc, c->opts);

    if (s == NATS_NOT_YET_CONNECTED) {
        /* libnats goes on trying in the background and says nothing more: the
         * first attempt's reason (refused, TLS verification, auth) is all an
         * operator gets, so it is logged. */
        const char *why = n->nats_GetLastError(NULL);
        snprintf(c->w_note, sizeof c->w_note, "%s",
                 why && *why ? why : "the first attempt failed (refused, TLS or credentials)");
    }
    if (s == NATS_OK || s == NATS_NOT_YET_CONNECTED) {
        snprintf(subj, sizeof subj, "%s.>", c->inbox);
        s = n->natsConnection_SubscribeSync(&c->w_sub, nc, subj);
        if (s == NATS_OK) {
            c->w_nc = nc;
            return;
        }
        n->natsConnection_Destroy(nc);
    }
    snprintf(c->w_err, sizeof c->w_err, "cannot connect: %s", n->nats_GetLastError(NULL));
}

/* Worker thread: make sure the stream exists (JetStream API requests). */
static void do_stream(struct nats_ctx *c)
{
    const struct em_natslib *n = c->n;
    jsOptions jo;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    natsStatus s;

    n->jsOptions_Init(&jo);
    jo.Wait = c->timeout_ms;
    s = n->natsConnection_JetStream(&js, c->w_nc, &jo);
    if (s == NATS_OK)
        s = n->js_GetStreamInfo(&si, js, c->stream, NULL, NULL);
    if (s == NATS_NOT_FOUND) {
        jsStreamConfig sc;
        const char *subjects[] = {c->subjects};

        n->jsStreamConfig_Init(&sc);
        sc.Name = c->stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        s = n->js_AddStream(&si, js, &sc, NULL, NULL);
        c->w_created = s == NATS_OK;
    }
    if (s != NATS_OK)
        snprintf(c->w_err, sizeof c->w_err, "stream '%s': %s", c->stream,
                 n->nats_GetLastError(NULL));
    c->stream_ok = s == NATS_OK;
    if (si)
        n->jsStreamInfo_Destroy(si);
    if (js)
        n->jsCtx_Destroy(js);
}

static void *worker(void *arg)
{
    struct nats_ctx *c = arg;

    pthread_mutex_lock(&c->lock);
    while (!c->quit) {
        int task = c->task;

        if (task == TASK_NONE) {
            pthread_cond_wait(&c->cond, &c->lock);
            continue;
        }
        c->task = TASK_NONE;
        c->busy = 1;
        pthread_mutex_unlock(&c->lock);
        if (task == TASK_CONNECT)
            do_connect(c);
        else
            do_stream(c);
        pthread_mutex_lock(&c->lock);
        c->busy = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Core thread: hand the worker a task unless it is busy. 0, or -1 when not posted. */
static int post(struct nats_ctx *c, int task)
{
    int posted = 0;

    pthread_mutex_lock(&c->lock);
    if (!c->busy && c->task == TASK_NONE) {
        c->task = task;
        posted = 1;
        pthread_cond_signal(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    return posted ? 0 : -1;
}

/* ------------------------------------------------------------- verdicts */

static void verdict(struct nats_ctx *c, struct slot *s, enum em_pub_result r)
{
    uint64_t token = s->token;

    s->busy = 0;
    s->gen++;
    s->next_free = c->free_list;
    c->free_list = s;
    c->used--;
    c->done(c->core, token, r);
}

/* Every message in flight goes back to the queue (link lost, stream missing). */
static void retry_all(struct nats_ctx *c)
{
    for (unsigned i = 0; i < c->window && c->used; i++)
        if (c->slots[i].busy)
            verdict(c, &c->slots[i], EM_PUB_RETRY);
    c->marker_out = 0;
    c->unmarked = 0;
}

static uint64_t reconnects(struct nats_ctx *c)
{
    uint64_t r = 0;

    if (c->nc && c->n->natsConnection_GetStats(c->nc, c->stats) == NATS_OK)
        c->n->natsStatistics_GetCounts(c->stats, NULL, NULL, NULL, NULL, &r);
    return r;
}

/*
 * "<inbox>.<slot>.<gen>" -> its slot, or NULL: a late reply for a message given
 * up already, or "<inbox>.m.<id>", a marker (*marker set). Only our inbox's
 * subjects reach the subscription.
 */
static struct slot *slot_of(struct nats_ctx *c, const char *subject, uint64_t *marker)
{
    size_t il = strlen(c->inbox);
    const char *p;
    unsigned long a, b;
    char *e;

    *marker = 0;
    if (strlen(subject) <= il + 1)
        return NULL;
    p = subject + il + 1;
    if (*p == 'm') {
        *marker = strtoull(p + 2, NULL, 10);
        return NULL;
    }
    a = strtoul(p, &e, 10);
    if (*e != '.' || a >= c->window)
        return NULL;
    b = strtoul(e + 1, NULL, 10);
    if (!c->slots[a].busy || c->slots[a].gen != (uint32_t)b)
        return NULL;
    return &c->slots[a];
}

/* Core mode: marker m came back; what it covers is confirmed. */
static void marker_back(struct nats_ctx *c, uint64_t m)
{
    uint64_t now_epoch;

    if (m == 0 || m != c->marker_out)
        return; /* an old one, after a timeout */
    now_epoch = reconnects(c);
    c->marker_out = 0;
    for (unsigned i = 0; i < c->window; i++) {
        struct slot *s = &c->slots[i];

        if (s->busy && s->marker <= m)
            verdict(c, s, s->epoch == now_epoch ? EM_PUB_OK : EM_PUB_RETRY);
    }
}

static void read_replies(struct nats_ctx *c, int64_t now)
{
    const struct em_natslib *n = c->n;
    char why[NATS_ERR_MAX];

    /* At most one window's worth per call, so service() stays short. */
    for (unsigned k = 0; k <= c->window; k++) {
        natsMsg *msg = NULL;
        natsStatus s = n->natsSubscription_NextMsg(&msg, c->sub, 0);
        uint64_t marker;
        struct slot *sl;

        if (s == NATS_NO_RESPONDERS) {
            /* libnats swallows the 503 and its subject: no stream takes the subject. */
            em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "noresp",
                        "no JetStream stream takes the subjects (stream '%s', subjects %s)",
                        c->stream, c->subjects);
            c->stream_ok = 0;
            c->next_task_ms = now + NATS_RETRY_TASK_MS;
            retry_all(c);
            continue;
        }
        if (s != NATS_OK)
            break; /* NATS_TIMEOUT: nothing pending */
        sl = slot_of(c, n->natsMsg_GetSubject(msg), &marker);
        if (sl) {
            enum em_pub_result r = em_nats_puback(n->natsMsg_GetData(msg),
                                                  (size_t)n->natsMsg_GetDataLength(msg), why,
                                                  sizeof why);

            if (r != EM_PUB_OK)
                em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "puback",
                            "JetStream refused a message, will retry: %s", why);
            verdict(c, sl, r);
        } else if (marker) {
            marker_back(c, marker);
        }
        n->natsMsg_Destroy(msg);
    }
}

/*
 * Deadlines: a message not confirmed within timeout_ms (no PubAck, or no marker
 * back) goes back to the queue. In core mode the marker is then given up too: the
 * next one, with a higher id, covers every older message still waiting.
 */
static void scan_deadlines(struct nats_ctx *c, int64_t now)
{
    int expired = 0;

    if (now < c->next_scan_ms)
        return;
    c->next_scan_ms = now + NATS_SCAN_MS;
    for (unsigned i = 0; i < c->window && c->used; i++) {
        struct slot *s = &c->slots[i];

        if (s->busy && now >= s->deadline_ms) {
            verdict(c, s, EM_PUB_RETRY);
            expired = 1;
        }
    }
    if (expired) {
        c->marker_out = 0;
        em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "timeout",
                    "no confirmation within %d ms, will retry", c->timeout_ms);
    }
}

/* Core mode: one marker in flight behind the messages published since the last. */
static void send_marker(struct nats_ctx *c)
{
    char subj[sizeof c->inbox + 32];

    if (c->jetstream || c->marker_out || !c->unmarked)
        return;
    snprintf(subj, sizeof subj, "%s.m.%" PRIu64, c->inbox, c->marker_next);
    if (c->n->natsConnection_Publish(c->nc, subj, NULL, 0) != NATS_OK)
        return; /* tried again next time; the deadline scan covers the messages */
    c->marker_out = c->marker_next++;
    c->unmarked = 0;
}

/* ------------------------------------------------------------ interface */

static int link_up(struct nats_ctx *c)
{
    return c->nc && c->n->natsConnection_Status(c->nc) == NATS_CONN_STATUS_CONNECTED;
}

static int nats_up(void *ctx)
{
    struct nats_ctx *c = ctx;

    return link_up(c) && (!c->jetstream || c->stream_ok);
}

static void nats_service(void *ctx)
{
    struct nats_ctx *c = ctx;
    int64_t now = em_wire_now_ms();
    char err[NATS_ERR_MAX] = "", note[NATS_ERR_MAX] = "";
    int up, created = 0, busy, stream_ok;
    uint64_t rc;

    pthread_mutex_lock(&c->lock);
    busy = c->busy || c->task != TASK_NONE;
    if (!busy) {
        c->nc = c->w_nc;
        c->sub = c->w_sub;
        memcpy(err, c->w_err, sizeof err);
        c->w_err[0] = '\0';
        memcpy(note, c->w_note, sizeof note);
        c->w_note[0] = '\0';
        created = c->w_created;
        c->w_created = 0;
    }
    pthread_mutex_unlock(&c->lock);
    stream_ok = c->stream_ok;
    if (err[0]) {
        em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "worker", "%s", err);
        c->next_task_ms = now + NATS_RETRY_TASK_MS;
    }
    if (note[0])
        em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "connect",
                    "not connected yet: %s (libnats keeps trying)", note);
    if (created)
        log_info("[pub:nats:%s] created JetStream stream '%s' (subjects %s)", c->name, c->stream,
                 c->subjects);

    if (!c->nc) {
        if (!busy && now >= c->next_task_ms)
            (void)post(c, TASK_CONNECT);
        return;
    }
    up = link_up(c);
    rc = reconnects(c);
    /* Replies to what went out on a lost connection never come: retry it now. */
    if ((!up && c->was_up) || rc != c->last_reconnects)
        retry_all(c);
    c->was_up = up;
    c->last_reconnects = rc;
    if (up && c->jetstream && !stream_ok && !busy && now >= c->next_task_ms)
        (void)post(c, TASK_STREAM);
    read_replies(c, now);
    scan_deadlines(c, now);
    if (up)
        send_marker(c);
}

static enum em_pub_result nats_submit(void *ctx, const struct em_pub_msg *m)
{
    struct nats_ctx *c = ctx;
    const struct em_natslib *n = c->n;
    char subject[NATS_SUBJECT_MAX], reply[sizeof c->inbox + 48], id[NATS_ID_MAX];
    natsMsg *msg = NULL;
    struct slot *s = c->free_list;
    uint64_t seq, epoch = 0;
    natsStatus st;

    if (!s || !nats_up(c))
        return EM_PUB_RETRY;
    if (m->len > INT32_MAX ||
        em_topic_render(c->topic, m->dataset, m->device, c->agent, c->site, subject,
                        sizeof subject) <= 0)
        goto drop;
    if (c->jetstream)
        snprintf(reply, sizeof reply, "%s.%u.%" PRIu32, c->inbox, (unsigned)(s - c->slots),
                 s->gen);
    else
        epoch = reconnects(c); /* before publishing: see the top of the file */
    st = n->natsMsg_Create(&msg, subject, c->jetstream ? reply : NULL, m->payload, (int)m->len);
    /* The same id on every re-send, so the stream drops duplicates. */
    if (st == NATS_OK && c->jetstream && em_msg_seq(m->payload, m->len, &seq) == 0 &&
        em_msg_id(id, sizeof id, c->agent, m->device, seq) > 0)
        st = n->natsMsgHeader_Set(msg, "Nats-Msg-Id", id);
    if (st == NATS_OK)
        st = n->natsConnection_PublishMsg(c->nc, msg);
    n->natsMsg_Destroy(msg);
    if (st == NATS_MAX_PAYLOAD)
        goto drop;
    if (st != NATS_OK)
        return EM_PUB_RETRY; /* not connected after all, buffer full, out of memory */
    c->free_list = s->next_free;
    s->busy = 1;
    s->token = m->token;
    s->epoch = epoch;
    s->marker = c->marker_next;
    s->deadline_ms = em_wire_now_ms() + c->timeout_ms;
    c->used++;
    c->unmarked++;
    return EM_PUB_OK;

drop: /* sending it again cannot help */
    em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "drop",
                "a %zu-byte message of '%s' is larger than the server takes, or its subject "
                "does not fit: dead-lettered", m->len, m->device);
    c->done(c->core, m->token, EM_PUB_DROP);
    return EM_PUB_OK;
}

static unsigned nats_inflight(void *ctx)
{
    return ((struct nats_ctx *)ctx)->used;
}

/* ---------------------------------------------------------------- create */

/*
 * With a connected callback, natsConnection_Connect returns NATS_NOT_YET_CONNECTED
 * after one failed attempt and libnats goes on in the background; with NULL it
 * would block until connected. It runs on a libnats thread and touches nothing
 * (the state is polled), so it can never outlive what it refers to.
 */
static void on_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
}

/*
 * Every option; 0, or -1 with a message in err. The calls only fail on bad
 * arguments or memory, so their statuses are OR-ed (flash is short) and the
 * message names the step. The url is not echoed: it may hold a password.
 */
static int build_options(struct nats_ctx *c, const struct em_pub_conf *conf, char *err,
                         size_t errlen)
{
    const struct em_natslib *n = c->n;
    natsOptions *o;
    char *secret = NULL;
    const char *what = "url", *pw;
    int s;

    if (n->natsOptions_Create(&c->opts) != NATS_OK)
        goto oom;
    o = c->opts;
    if (n->natsOptions_SetURL(o, c->url) != NATS_OK)
        goto fail;
    s = n->natsOptions_SetName(o, c->client_id);
    s |= n->natsOptions_SetTimeout(o, c->timeout_ms);
    s |= n->natsOptions_SetMaxReconnect(o, -1); /* forever */
    s |= n->natsOptions_SetReconnectWait(o, NATS_RECONNECT_WAIT_MS);
    s |= n->natsOptions_SetReconnectJitter(o, NATS_RECONNECT_JITTER, NATS_RECONNECT_JITTER * 10);
    s |= n->natsOptions_SetReconnectBufSize(o, NATS_RECONNECT_BUF);
    s |= n->natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL);
    s |= n->natsOptions_SetPingInterval(o, NATS_PING_INTERVAL_MS);
    s |= n->natsOptions_SetMaxPingsOut(o, NATS_MAX_PINGS_OUT);
    if (s)
        goto oom;

    what = conf->password_file ? "password_file" : "token_file";
    if (conf->password_file || conf->token_file) {
        secret = em_pub_read_secret(what, conf->password_file ? conf->password_file
                                                              : conf->token_file,
                                    err, errlen);
        if (!secret)
            return -1;
    }
    pw = conf->password_file ? secret : conf->password;
    if (conf->username && !pw) {
        em_pub_err(err, errlen, "username '%s' needs a password or password_file",
                conf->username);
        return -1;
    }
    if (pw && !conf->username) {
        em_pub_err(err, errlen, "password needs a username");
        em_pub_free_secret(secret);
        return -1;
    }
    s = 0;
    if (conf->username)
        s = n->natsOptions_SetUserInfo(o, conf->username, pw);
    else if (conf->token_file || conf->token)
        s = n->natsOptions_SetToken(o, conf->token_file ? secret : conf->token);
    em_pub_free_secret(secret);
    what = "credentials";
    if (s)
        goto fail;

    what = "TLS";
    if (conf->ca_file || conf->cert_file || strncmp(c->url, "tls://", 6) == 0) {
        s = n->natsOptions_SetSecure(o, true);
        if (!conf->tls_verify)
            s |= n->natsOptions_SkipServerVerification(o, true);
        if (!s && conf->ca_file) {
            what = "ca_file";
            s = n->natsOptions_LoadCATrustedCertificates(o, conf->ca_file);
        }
        if (!s && conf->cert_file) {
            what = "cert_file";
            s = n->natsOptions_LoadCertificatesChain(
                o, conf->cert_file, conf->key_file ? conf->key_file : conf->cert_file);
        }
        if (s)
            goto fail;
    }
    return 0;

oom:
    em_pub_err(err, errlen, "out of memory");
    return -1;
fail:
    em_pub_err(err, errlen, "%s: %s", what, n->nats_GetLastError(NULL));
    return -1;
}

static void *nats_create(const struct em_pub_conf *conf, em_pub_done_fn done, void *core,
                         char *err, size_t errlen)
{
    struct nats_ctx *c = NULL;
    char probe[NATS_SUBJECT_MAX];
    int e;

    if (err && errlen)
        err[0] = '\0';
    if (!conf || !done) {
        em_pub_err(err, errlen, "no configuration or done callback");
        return NULL;
    }
    if (!conf->url || !*conf->url) {
        em_pub_err(err, errlen, "url: missing");
        return NULL;
    }
    if (conf->mode && strcmp(conf->mode, "jetstream") != 0 && strcmp(conf->mode, "core") != 0) {
        em_pub_err(err, errlen, "mode '%s' is not jetstream or core", conf->mode);
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->done = done;
    c->core = core;
    c->name = conf->name ? conf->name : "nats";
    c->agent = conf->agent;
    c->site = conf->site;
    c->url = conf->url;
    c->jetstream = !conf->mode || strcmp(conf->mode, "jetstream") == 0;
    c->topic = conf->topic ? conf->topic : NATS_DEFAULT_TOPIC;
    c->marker_next = 1;
    /* Default attributes: the static initialisers, which cannot fail. */
    c->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    c->cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
    /* Empty, unknown {placeholder}, too long, wildcards, spaces; for a stream, a
     * {dataset} or {id} inside a token (see em_nats_stream_subjects). */
    if (em_topic_render(c->topic, "pms", "dev", c->agent, c->site, probe, sizeof probe) <= 0 ||
        strpbrk(probe, " *>\t\r\n") ||
        (c->jetstream && em_nats_stream_subjects(c->topic, c->agent, c->site, c->subjects,
                                                 sizeof c->subjects) < 0)) {
        em_pub_err(err, errlen, "topic '%s' is not a usable subject template", c->topic);
        goto fail;
    }
    snprintf(c->stream, sizeof c->stream, "%s",
             conf->stream && *conf->stream ? conf->stream : NATS_DEFAULT_STREAM);
    if (strpbrk(c->stream, " .*>/\\\t")) {
        em_pub_err(err, errlen, "stream '%s' must not contain spaces, '.', '*', '>' or slashes",
                c->stream);
        goto fail;
    }
    if (em_topic_render(conf->client_id ? conf->client_id : NATS_DEFAULT_CLIENT_ID, "", "",
                        c->agent, c->site, c->client_id, sizeof c->client_id) < 0) {
        em_pub_err(err, errlen, "client_id is too long or has an unknown {placeholder}");
        goto fail;
    }
    c->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : NATS_DEFAULT_TIMEOUT_MS;
    c->window = conf->window <= 0                ? NATS_DEFAULT_WINDOW
                : conf->window > NATS_MAX_WINDOW ? NATS_MAX_WINDOW
                                                 : (unsigned)conf->window;
    /* Our reply subjects: unique per context (pid, clock, address; not rand()). */
    snprintf(c->inbox, sizeof c->inbox, "_INBOX.edgemon.%x.%llx.%lx", (unsigned)getpid(),
             (unsigned long long)em_wire_now_ms(), (unsigned long)(uintptr_t)c);
    c->slots = calloc(c->window, sizeof *c->slots);
    if (!c->slots)
        goto oom;
    for (unsigned i = c->window; i-- > 0;) {
        c->slots[i].next_free = c->free_list;
        c->free_list = &c->slots[i];
    }
    c->n = em_natslib_get(err, errlen);
    if (!c->n)
        goto fail;
    if (build_options(c, conf, err, errlen) < 0)
        goto fail;
    if (c->n->natsStatistics_Create(&c->stats) != NATS_OK)
        goto oom;
    if ((e = pthread_create(&c->thread, NULL, worker, c)) != 0) {
        em_pub_err(err, errlen, "cannot start a thread: %s", strerror(e));
        goto fail;
    }
    c->thread_started = 1;
    return c;

oom:
    em_pub_err(err, errlen, "out of memory");
fail:
    nats_destroy(c);
    return NULL;
}

static void nats_destroy(void *ctx)
{
    struct nats_ctx *c = ctx;

    if (!c)
        return;
    if (c->thread_started) {
        pthread_mutex_lock(&c->lock);
        c->quit = 1;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
        /* The worker's calls end within timeout_ms (connect, JetStream requests). */
        pthread_join(c->thread, NULL);
    }
    c->nc = c->w_nc; /* the worker is gone: its results are ours */
    c->sub = c->w_sub;
    /* Unconfirmed messages are forgotten, not reported (publisher.h). */
    if (c->n) { /* libnats' destroy functions accept NULL */
        c->n->natsSubscription_Destroy(c->sub);
        c->n->natsConnection_Destroy(c->nc);
        c->n->natsStatistics_Destroy(c->stats);
        c->n->natsOptions_Destroy(c->opts);
    }
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c);
}

const struct em_publisher nats_publisher = {
    .abi = EM_PUBLISHER_ABI,
    .name = "nats",
    .create = nats_create,
    .submit = nats_submit,
    .service = nats_service,
    .up = nats_up,
    .inflight = nats_inflight,
    .destroy = nats_destroy,
};
