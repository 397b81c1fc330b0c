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

#include <cjson/cJSON.h>

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
    int64_t marker_deadline;
    unsigned unmarked;       /* slots published after the last marker went out */

    /* Shared with the worker thread: under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    int thread_started, lock_ready;
    int quit, task, busy;
    int connected_once;      /* the worker has set w_nc / w_sub */
    natsConnection *w_nc;
    natsSubscription *w_sub;
    int stream_ok;           /* jetstream: the stream exists */
    int stream_created;
    char w_err[NATS_ERR_MAX]; /* the last worker failure, logged by the core thread */
};

static void nats_destroy(void *ctx);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------- pure parts */

enum em_pub_result em_nats_puback(const char *data, size_t len, char *why, size_t whylen)
{
    cJSON *root = data && len ? cJSON_ParseWithLength(data, len) : NULL;
    const cJSON *e, *seq;
    enum em_pub_result r = EM_PUB_RETRY;

    if (why && whylen)
        why[0] = '\0';
    if (!root) {
        set_err(why, whylen, "unreadable PubAck");
        return EM_PUB_RETRY;
    }
    /* JetStream API: io.nats.jetstream.api.v1.pub_ack_response (ADR-1/ADR-4). */
    e = cJSON_GetObjectItemCaseSensitive(root, "error");
    seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
    if (e) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "description");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "err_code");

        set_err(why, whylen, "%s (err_code %d)",
                cJSON_IsString(d) ? d->valuestring : "error",
                cJSON_IsNumber(code) ? code->valueint : 0);
    } else if (cJSON_IsNumber(seq) && seq->valuedouble >= 1) {
        r = EM_PUB_OK;
    } else {
        set_err(why, whylen, "PubAck without seq");
    }
    cJSON_Delete(root);
    return r;
}

int em_nats_stream_subjects(const char *tmpl, const char *agent, const char *site, char *out,
                            size_t outlen)
{
    char tok[NATS_SUBJECT_MAX], rendered[NATS_SUBJECT_MAX];
    size_t n = 0;

    if (!tmpl || !out || !outlen) {
        errno = EINVAL;
        return -1;
    }
    for (const char *p = tmpl;;) {
        size_t tl = strcspn(p, ".");
        const char *piece;
        size_t pl;
        int r;

        if (tl >= sizeof tok) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(tok, p, tl);
        tok[tl] = '\0';
        /* Subjects are matched token by token: a variable token becomes '*'. */
        if (strstr(tok, "{dataset}") || strstr(tok, "{id}")) {
            piece = "*";
        } else {
            r = em_topic_render(tok, "", "", agent, site, rendered, sizeof rendered);
            if (r < 0)
                return -1;
            piece = rendered;
        }
        pl = strlen(piece);
        if (n + pl + 2 > outlen) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(out + n, piece, pl);
        n += pl;
        if (!p[tl])
            break;
        out[n++] = '.';
        p += tl + 1;
    }
    out[n] = '\0';
    return (int)n;
}

/* ---------------------------------------------------------------- time */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -------------------------------------------------------------- worker */

/* Worker thread: the first connect. Results under lock. */
static void do_connect(struct nats_ctx *c)
{
    const struct em_natslib *n = c->n;
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    char subj[sizeof c->inbox + 4];
    natsStatus s;

    s = n->Connection_Connect(&nc, c->opts);
    /* NATS_NOT_YET_CONNECTED: nc exists and libnats goes on trying by itself. */
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        pthread_mutex_lock(&c->lock);
        snprintf(c->w_err, sizeof c->w_err, "cannot connect: %s", n->Status_GetText(s));
        pthread_mutex_unlock(&c->lock);
        return;
    }
    snprintf(subj, sizeof subj, "%s.>", c->inbox);
    s = n->Connection_SubscribeSync(&sub, nc, subj);
    if (s != NATS_OK) {
        n->Connection_Destroy(nc);
        pthread_mutex_lock(&c->lock);
        snprintf(c->w_err, sizeof c->w_err, "cannot subscribe to %s: %s", subj,
                 n->Status_GetText(s));
        pthread_mutex_unlock(&c->lock);
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->w_nc = nc;
    c->w_sub = sub;
    c->connected_once = 1;
    pthread_mutex_unlock(&c->lock);
}

/* Worker thread: make sure the stream exists (JetStream API requests). */
static void do_stream(struct nats_ctx *c, natsConnection *nc)
{
    const struct em_natslib *n = c->n;
    jsOptions jo;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    int ok = 0, created = 0;
    char why[NATS_ERR_MAX] = "";

    n->jsOptions_Init(&jo);
    jo.Wait = c->timeout_ms;
    s = n->Connection_JetStream(&js, nc, &jo);
    if (s == NATS_OK)
        s = n->js_GetStreamInfo(&si, js, c->stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        jsStreamConfig sc;
        const char *subjects[] = {c->subjects};

        n->jsStreamConfig_Init(&sc);
        sc.Name = c->stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        jerr = 0;
        s = n->js_AddStream(&si, js, &sc, NULL, &jerr);
        created = s == NATS_OK;
    }
    if (s == NATS_OK) {
        ok = 1;
    } else {
        const char *text = n->GetLastError(NULL);

        snprintf(why, sizeof why, "stream '%s': %s%s%s", c->stream, n->Status_GetText(s),
                 text && *text ? ": " : "", text ? text : "");
    }
    if (si)
        n->jsStreamInfo_Destroy(si);
    if (js)
        n->jsCtx_Destroy(js);
    pthread_mutex_lock(&c->lock);
    c->stream_ok = ok;
    c->stream_created |= created;
    if (!ok)
        snprintf(c->w_err, sizeof c->w_err, "%s", why);
    pthread_mutex_unlock(&c->lock);
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
            do_stream(c, c->w_nc);
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

    if (c->nc && c->n->Connection_GetStats(c->nc, c->stats) == NATS_OK)
        c->n->Statistics_GetCounts(c->stats, NULL, NULL, NULL, NULL, &r);
    return r;
}

/* "<inbox>.<slot>.<gen>" -> slot, or NULL for anything else (a marker: *marker set). */
static struct slot *slot_of(struct nats_ctx *c, const char *subject, uint64_t *marker)
{
    size_t il = strlen(c->inbox);
    unsigned long long a, b;
    char tail;

    *marker = 0;
    if (!subject || strncmp(subject, c->inbox, il) != 0 || subject[il] != '.')
        return NULL;
    subject += il + 1;
    if (subject[0] == 'm' && sscanf(subject, "m.%llu%c", &a, &tail) == 1) {
        *marker = a;
        return NULL;
    }
    if (sscanf(subject, "%llu.%llu%c", &a, &b, &tail) != 2 || a >= c->window)
        return NULL;
    if (!c->slots[a].busy || c->slots[a].gen != (uint32_t)b)
        return NULL; /* a late reply: that message was given up already */
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

static void read_replies(struct nats_ctx *c)
{
    const struct em_natslib *n = c->n;
    char why[NATS_ERR_MAX];

    /* At most one window's worth per call, so service() stays short. */
    for (unsigned k = 0; k <= c->window; k++) {
        natsMsg *msg = NULL;
        natsStatus s = n->Subscription_NextMsg(&msg, c->sub, 0);
        uint64_t marker;
        struct slot *sl;

        if (s == NATS_NO_RESPONDERS) {
            /* libnats swallows the 503 and its subject: no stream takes the subject. */
            em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "noresp",
                        "no JetStream stream takes the subjects (stream '%s', subjects %s)",
                        c->stream, c->subjects);
            pthread_mutex_lock(&c->lock);
            c->stream_ok = 0;
            pthread_mutex_unlock(&c->lock);
            c->next_task_ms = mono_ms() + NATS_RETRY_TASK_MS;
            retry_all(c);
            continue;
        }
        if (s != NATS_OK)
            break; /* NATS_TIMEOUT: nothing pending */
        sl = slot_of(c, n->Msg_GetSubject(msg), &marker);
        if (sl) {
            enum em_pub_result r = em_nats_puback(n->Msg_GetData(msg),
                                                  (size_t)n->Msg_GetDataLength(msg), why,
                                                  sizeof why);

            if (r != EM_PUB_OK)
                em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "puback",
                            "JetStream refused a message, will retry: %s", why);
            verdict(c, sl, r);
        } else if (marker) {
            marker_back(c, marker);
        }
        n->Msg_Destroy(msg);
    }
}

/* Deadlines: PubAcks (jetstream) and the marker (core) not back in timeout_ms. */
static void scan_deadlines(struct nats_ctx *c, int64_t now)
{
    if (now < c->next_scan_ms)
        return;
    c->next_scan_ms = now + NATS_SCAN_MS;
    if (c->jetstream) {
        for (unsigned i = 0; i < c->window && c->used; i++) {
            struct slot *s = &c->slots[i];

            if (s->busy && now >= s->deadline_ms) {
                em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "timeout",
                            "no PubAck within %d ms, will retry", c->timeout_ms);
                verdict(c, s, EM_PUB_RETRY);
            }
        }
    } else if (c->marker_out && now >= c->marker_deadline) {
        uint64_t m = c->marker_out;

        c->marker_out = 0;
        for (unsigned i = 0; i < c->window; i++)
            if (c->slots[i].busy && c->slots[i].marker <= m)
                verdict(c, &c->slots[i], EM_PUB_RETRY);
    }
}

/* Core mode: one marker in flight behind the messages published since the last. */
static void send_marker(struct nats_ctx *c, int64_t now)
{
    char subj[sizeof c->inbox + 32];

    if (c->jetstream || c->marker_out || !c->unmarked)
        return;
    snprintf(subj, sizeof subj, "%s.m.%" PRIu64, c->inbox, c->marker_next);
    if (c->n->Connection_Publish(c->nc, subj, NULL, 0) != NATS_OK)
        return; /* tried again next time; the deadline scan covers the messages */
    c->marker_out = c->marker_next++;
    c->marker_deadline = now + c->timeout_ms;
    c->unmarked = 0;
}

/* ------------------------------------------------------------ interface */

static int link_up(struct nats_ctx *c)
{
    return c->nc && c->n->Connection_Status(c->nc) == NATS_CONN_STATUS_CONNECTED;
}

static int nats_up(void *ctx)
{
    struct nats_ctx *c = ctx;
    int ok;

    if (!link_up(c))
        return 0;
    if (!c->jetstream)
        return 1;
    pthread_mutex_lock(&c->lock);
    ok = c->stream_ok;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static void nats_service(void *ctx)
{
    struct nats_ctx *c = ctx;
    int64_t now = mono_ms();
    char err[NATS_ERR_MAX] = "";
    int up, created = 0, busy, stream_ok;
    uint64_t rc;

    pthread_mutex_lock(&c->lock);
    if (!c->nc && c->connected_once) {
        c->nc = c->w_nc;
        c->sub = c->w_sub;
    }
    if (c->w_err[0]) {
        snprintf(err, sizeof err, "%s", c->w_err);
        c->w_err[0] = '\0';
    }
    created = c->stream_created;
    c->stream_created = 0;
    busy = c->busy || c->task != TASK_NONE;
    stream_ok = c->stream_ok;
    pthread_mutex_unlock(&c->lock);
    if (err[0]) {
        em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "worker", "%s", err);
        c->next_task_ms = now + NATS_RETRY_TASK_MS;
    }
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
    read_replies(c);
    scan_deadlines(c, now);
    if (up)
        send_marker(c, now);
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
                        sizeof subject) <= 0) {
        em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "subject",
                    "the subject of '%s' does not fit, dead-lettered", m->device);
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    if (c->jetstream)
        snprintf(reply, sizeof reply, "%s.%u.%" PRIu32, c->inbox, (unsigned)(s - c->slots),
                 s->gen);
    else
        epoch = reconnects(c); /* before publishing: see the top of the file */
    st = n->Msg_Create(&msg, subject, c->jetstream ? reply : NULL, m->payload, (int)m->len);
    /* The same id on every re-send, so the stream drops duplicates. */
    if (st == NATS_OK && c->jetstream && em_msg_seq(m->payload, m->len, &seq) == 0 &&
        em_msg_id(id, sizeof id, c->agent, m->device, seq) > 0)
        st = n->MsgHeader_Set(msg, "Nats-Msg-Id", id);
    if (st == NATS_OK)
        st = n->Connection_PublishMsg(c->nc, msg);
    n->Msg_Destroy(msg);
    if (st == NATS_MAX_PAYLOAD) {
        em_pub_warn("nats", c->name, NATS_LOG_EVERY_S, "payload",
                    "a %zu-byte message is larger than the server takes, dead-lettered",
                    m->len);
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    if (st != NATS_OK)
        return EM_PUB_RETRY; /* not connected after all, buffer full, out of memory */
    c->free_list = s->next_free;
    s->busy = 1;
    s->token = m->token;
    s->epoch = epoch;
    s->marker = c->marker_next;
    s->deadline_ms = mono_ms() + c->timeout_ms;
    c->used++;
    c->unmarked++;
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

/* Every option; 0, or -1 with a message in err. */
static int build_options(struct nats_ctx *c, const struct em_pub_conf *conf, char *err,
                         size_t errlen)
{
    const struct em_natslib *n = c->n;
    char *secret = NULL;
    const char *what = "options";
    natsStatus s;

    if ((s = n->Options_Create(&c->opts)) != NATS_OK)
        goto fail;
    what = "url";
    if ((s = n->Options_SetURL(c->opts, c->url)) != NATS_OK)
        goto fail;
    what = "options";
    s = n->Options_SetName(c->opts, c->client_id);
    if (s == NATS_OK)
        s = n->Options_SetTimeout(c->opts, c->timeout_ms);
    if (s == NATS_OK)
        s = n->Options_SetMaxReconnect(c->opts, -1); /* forever */
    if (s == NATS_OK)
        s = n->Options_SetReconnectWait(c->opts, NATS_RECONNECT_WAIT_MS);
    if (s == NATS_OK)
        s = n->Options_SetReconnectJitter(c->opts, NATS_RECONNECT_JITTER,
                                          NATS_RECONNECT_JITTER * 10);
    if (s == NATS_OK)
        s = n->Options_SetReconnectBufSize(c->opts, NATS_RECONNECT_BUF);
    if (s == NATS_OK)
        s = n->Options_SetRetryOnFailedConnect(c->opts, true, on_connected, NULL);
    if (s == NATS_OK)
        s = n->Options_SetPingInterval(c->opts, NATS_PING_INTERVAL_MS);
    if (s == NATS_OK)
        s = n->Options_SetMaxPingsOut(c->opts, NATS_MAX_PINGS_OUT);
    if (s != NATS_OK)
        goto fail;

    if (conf->password_file) {
        secret = em_pub_read_secret("password_file", conf->password_file, err, errlen);
        if (!secret)
            return -1;
    } else if (conf->token_file) {
        secret = em_pub_read_secret("token_file", conf->token_file, err, errlen);
        if (!secret)
            return -1;
    }
    if (conf->username) {
        const char *pw = secret ? secret : conf->password;

        if (!pw) {
            set_err(err, errlen, "username '%s' needs a password or password_file",
                    conf->username);
            return -1;
        }
        what = "username";
        s = n->Options_SetUserInfo(c->opts, conf->username, pw);
    } else if (conf->password || conf->password_file) {
        set_err(err, errlen, "password needs a username");
        em_pub_free_secret(secret);
        return -1;
    } else if (conf->token || conf->token_file) {
        what = "token";
        s = n->Options_SetToken(c->opts, secret ? secret : conf->token);
    }
    em_pub_free_secret(secret);
    if (s != NATS_OK)
        goto fail;

    if (conf->ca_file || conf->cert_file || strncmp(c->url, "tls://", 6) == 0) {
        what = "TLS";
        s = n->Options_SetSecure(c->opts, true);
        if (s == NATS_OK && conf->ca_file) {
            what = "ca_file";
            s = n->Options_LoadCATrustedCertificates(c->opts, conf->ca_file);
        }
        if (s == NATS_OK && conf->cert_file) {
            what = "cert_file";
            s = n->Options_LoadCertificatesChain(c->opts, conf->cert_file,
                                                 conf->key_file ? conf->key_file
                                                                : conf->cert_file);
        }
        if (s == NATS_OK && !conf->tls_verify)
            s = n->Options_SkipServerVerification(c->opts, true);
        if (s != NATS_OK)
            goto fail;
    }
    return 0;

fail:
    /* The url is not echoed: it may hold a password, and the error is logged. */
    set_err(err, errlen, "%s: %s", what, n->Status_GetText(s));
    return -1;
}

static void *nats_create(const struct em_pub_conf *conf, em_pub_done_fn done, void *core,
                         char *err, size_t errlen)
{
    struct nats_ctx *c = NULL;
    char probe[NATS_SUBJECT_MAX];
    struct timespec ts;
    uint32_t r;

    if (err && errlen)
        err[0] = '\0';
    if (!conf || !done) {
        set_err(err, errlen, "no configuration or done callback");
        return NULL;
    }
    if (!conf->url || !*conf->url) {
        set_err(err, errlen, "url: missing");
        return NULL;
    }
    if (conf->mode && strcmp(conf->mode, "jetstream") != 0 && strcmp(conf->mode, "core") != 0) {
        set_err(err, errlen, "mode '%s' is not jetstream or core", conf->mode);
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
    if (!*c->topic) {
        set_err(err, errlen, "topic is empty");
        goto fail;
    }
    if (em_topic_render(c->topic, "pms", "dev", c->agent, c->site, probe, sizeof probe) < 0 ||
        strpbrk(probe, " *>\t\r\n")) {
        set_err(err, errlen, "topic '%s' has an unknown {placeholder}, a wildcard or a space, "
                "or is too long", c->topic);
        goto fail;
    }
    if (em_nats_stream_subjects(c->topic, c->agent, c->site, c->subjects,
                                sizeof c->subjects) < 0) {
        set_err(err, errlen, "topic '%s' cannot be turned into stream subjects", c->topic);
        goto fail;
    }
    snprintf(c->stream, sizeof c->stream, "%s",
             conf->stream && *conf->stream ? conf->stream : NATS_DEFAULT_STREAM);
    if (strpbrk(c->stream, " .*>/\\\t")) {
        set_err(err, errlen, "stream '%s' must not contain spaces, '.', '*', '>' or slashes",
                c->stream);
        goto fail;
    }
    if (em_topic_render(conf->client_id ? conf->client_id : NATS_DEFAULT_CLIENT_ID, "", "",
                        c->agent, c->site, c->client_id, sizeof c->client_id) < 0) {
        set_err(err, errlen, "client_id is too long or has an unknown {placeholder}");
        goto fail;
    }
    c->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : NATS_DEFAULT_TIMEOUT_MS;
    c->window = conf->window <= 0                ? NATS_DEFAULT_WINDOW
                : conf->window > NATS_MAX_WINDOW ? NATS_MAX_WINDOW
                                                 : (unsigned)conf->window;
    /* Our reply subjects: unique per context (clock, address; not rand()). */
    clock_gettime(CLOCK_REALTIME, &ts);
    r = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^ (uint32_t)(uintptr_t)c;
    r ^= r << 13;
    r ^= r >> 17;
    r ^= r << 5;
    snprintf(c->inbox, sizeof c->inbox, "_INBOX.edgemon.%08x%08x", r,
             (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() * 40503u);
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
    if (c->n->Statistics_Create(&c->stats) != NATS_OK)
        goto oom;
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        goto oom;
    if (pthread_cond_init(&c->cond, NULL) != 0) {
        pthread_mutex_destroy(&c->lock);
        goto oom;
    }
    c->lock_ready = 1;
    if (pthread_create(&c->thread, NULL, worker, c) != 0) {
        set_err(err, errlen, "cannot start a thread: %s", strerror(errno));
        goto fail;
    }
    c->thread_started = 1;
    return c;

oom:
    set_err(err, errlen, "out of memory");
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
    if (c->lock_ready && !c->nc && c->connected_once) {
        c->nc = c->w_nc;
        c->sub = c->w_sub;
    }
    /* Unconfirmed messages are forgotten, not reported (publisher.h). */
    if (c->sub)
        c->n->Subscription_Destroy(c->sub);
    if (c->nc)
        c->n->Connection_Destroy(c->nc);
    if (c->stats)
        c->n->Statistics_Destroy(c->stats);
    if (c->opts)
        c->n->Options_Destroy(c->opts);
    if (c->lock_ready) {
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
    }
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
