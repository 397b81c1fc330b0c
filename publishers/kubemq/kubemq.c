/* kubemq.c - the KubeMQ publisher: queue batches or events_store over REST.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * No threads: submit() builds request bodies in the engine's preallocated slots
 * and service() drives them (publishers/curl/engine.h). Queue mode keeps one
 * batch open: submit() appends to it, and it goes out when full or as soon as no
 * other batch is in flight, so batches grow by themselves while the broker is
 * slow and a lone reading is not held back when it is fast.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl/engine.h"
#include "curl/wire.h"
#include "kubemq/kubemq.h"
#include "kubemq/reply.h"
#include "log.h"
#include "publisher.h"

#define KMQ_DEFAULT_CHANNEL "monitoring.{dataset}"
#define KMQ_DEFAULT_BATCH   100
#define KMQ_QUEUE_SLOTS     4  /* one filling, the rest in flight */
#define KMQ_EVENT_SLOTS_MAX 64 /* events_store: one message per request, a window */
#define KMQ_BACKOFF_MIN_MS  200
#define KMQ_BACKOFF_MAX_MS  5000
#define KMQ_NAME_MAX        512
#define KMQ_LOG_EVERY_S     10

enum { LINK_DOWN, LINK_PINGING, LINK_UP };
enum { REQ_DATA, REQ_PING };

struct kmq {
    em_pub_done_fn done;
    void *core;
    const char *name, *agent, *site;
    const char *channel; /* template, borrowed */
    int events;          /* mode events_store */
    unsigned batch;
    char client_id[KMQ_NAME_MAX];
    char url_send[EM_CX_URL_MAX], url_ping[EM_CX_URL_MAX];
    char *token; /* owned, from token or token_file */

    struct em_cx cx;
    int state;
    int64_t next_try_ms;
    struct em_backoff bo;
    struct em_cx_req *open; /* queue mode: the batch being filled */
    unsigned inflight;      /* accepted, no verdict yet */
    int in_service;
    int version_logged;
    enum em_pub_result *verdicts; /* batch entries, for the reply parser */
};

static void kubemq_destroy(void *ctx);

/* Every message of a slot gets verdict v; the slot is given back if FILLING. */
static void settle_all(struct kmq *c, struct em_cx_req *r, enum em_pub_result v)
{
    unsigned n = r->ntok;

    r->ntok = 0;
    c->inflight -= n;
    if (r->state == EM_CX_FILLING)
        em_cx_put(&c->cx, r);
    if (r == c->open)
        c->open = NULL;
    for (unsigned i = 0; i < n; i++)
        c->done(c->core, r->tokens[i], v);
}

/*
 * Something failed: report down, wait the backoff, then ping again. `what`
 * groups the log lines (one per kind of failure per interval).
 */
static void go_down(struct kmq *c, const char *what, const char *why)
{
    long d = em_backoff_next(&c->bo);

    c->state = LINK_DOWN;
    c->next_try_ms = em_wire_now_ms() + d;
    em_pub_warn("kubemq", c->name, KMQ_LOG_EVERY_S, what, "%s; retrying in %ld ms", why,
                d);
    if (c->open)
        settle_all(c, c->open, EM_PUB_RETRY);
}

static void on_ping(struct kmq *c, struct em_cx_req *r)
{
    char host[128], version[64], why[256];

    if (r->rc != CURLE_OK) {
        snprintf(why, sizeof why, "ping: %s", em_cx_strerror(&c->cx, r));
        go_down(c, "ping", why);
        return;
    }
    if (r->resp_truncated ||
        em_kmq_ping_reply(r->status, r->resp.p, r->resp.len, host, sizeof host, version,
                          sizeof version, why, sizeof why) < 0) {
        go_down(c, "ping", r->resp_truncated ? "ping: reply too long" : why);
        return;
    }
    if (!c->version_logged) {
        c->version_logged = 1;
        log_info("[pub:kubemq:%s] KubeMQ %s on host '%s'", c->name, version, host);
    }
    c->state = LINK_UP;
}

static void on_data(struct kmq *c, struct em_cx_req *r)
{
    enum em_kmq_outcome out;
    char why[512];
    unsigned n = r->ntok, retry = 0, drop = 0;

    if (r->rc != CURLE_OK) {
        snprintf(why, sizeof why, "%s", em_cx_strerror(&c->cx, r));
        settle_all(c, r, EM_PUB_RETRY);
        go_down(c, "transfer", why);
        return;
    }
    if (r->resp_truncated) {
        settle_all(c, r, EM_PUB_RETRY);
        go_down(c, "reply", "reply too long");
        return;
    }
    if (c->events)
        out = em_kmq_event_reply(r->status, r->resp.p, r->resp.len, c->verdicts, why,
                                 sizeof why);
    else
        out = em_kmq_batch_reply(r->status, r->resp.p, r->resp.len, c->verdicts, n, why,
                                 sizeof why);
    if (out == EM_KMQ_RETRY) {
        settle_all(c, r, EM_PUB_RETRY);
        go_down(c, r->status == 200 ? "reply" : "status", why);
        return;
    }
    if (out == EM_KMQ_REFUSED) {
        em_pub_warn("kubemq", c->name, KMQ_LOG_EVERY_S, "refused",
                    "request refused for good (%s), dead-lettered", why);
        settle_all(c, r, EM_PUB_DROP);
        return;
    }
    r->ntok = 0;
    c->inflight -= n;
    for (unsigned i = 0; i < n; i++) {
        retry += c->verdicts[i] == EM_PUB_RETRY;
        drop += c->verdicts[i] == EM_PUB_DROP;
        c->done(c->core, r->tokens[i], c->verdicts[i]);
    }
    if (drop)
        em_pub_warn("kubemq", c->name, KMQ_LOG_EVERY_S, "drop",
                    "%u of %u refused by the server, dead-lettered (%s)", drop, n, why);
    if (retry)
        go_down(c, "unconfirmed", why);
    else
        em_backoff_reset(&c->bo);
}

static void on_done(void *arg, struct em_cx_req *r)
{
    struct kmq *c = arg;

    if (r->kind == REQ_PING)
        on_ping(c, r);
    else
        on_data(c, r);
}

/* Send a filled slot; on failure its messages get RETRY. */
static void send_slot(struct kmq *c, struct em_cx_req *r)
{
    if (!c->events && em_buf_add(&r->body, "]}", 2) < 0) {
        settle_all(c, r, EM_PUB_RETRY);
        return;
    }
    if (r == c->open)
        c->open = NULL;
    if (em_cx_start(&c->cx, r, 1) < 0) {
        settle_all(c, r, EM_PUB_RETRY);
        go_down(c, "start", "cannot start a request");
    }
}

/* Append one message object to r's body. 0, or -1 (ENOMEM, ENAMETOOLONG). */
static int add_message(struct kmq *c, struct em_cx_req *r, const struct em_pub_msg *m,
                       const char *channel)
{
    struct em_buf *b = &r->body;
    size_t mark = b->len;
    char id[KMQ_NAME_MAX];
    uint64_t seq;
    int rc = 0;

    if (em_msg_seq(m->payload, m->len, &seq) == 0) {
        if (em_msg_id(id, sizeof id, c->agent, m->device, seq) < 0)
            return -1;
    } else {
        id[0] = '\0'; /* not a dataset message: the server generates an id */
    }
    /* Fields and encodings: protocols.md 1.4 (Event, QueueMessage). */
    if (!c->events && r->ntok > 0)
        rc |= em_buf_add(b, ",", 1);
    rc |= em_buf_adds(b, c->events ? "{\"EventID\":" : "{\"MessageID\":");
    rc |= em_buf_json_str(b, id);
    rc |= em_buf_adds(b, ",\"ClientID\":");
    rc |= em_buf_json_str(b, c->client_id);
    rc |= em_buf_adds(b, ",\"Channel\":");
    rc |= em_buf_json_str(b, channel);
    rc |= em_buf_adds(b, ",\"Metadata\":");
    rc |= em_buf_json_str(b, m->dataset);
    rc |= em_buf_adds(b, ",\"Body\":\"");
    rc |= em_buf_base64(b, m->payload, m->len);
    rc |= em_buf_adds(b, c->events ? "\",\"Store\":true}" : "\"}");
    if (rc) {
        b->len = mark;
        return -1;
    }
    return 0;
}

static enum em_pub_result kubemq_submit(void *ctx, const struct em_pub_msg *m)
{
    struct kmq *c = ctx;
    char channel[KMQ_NAME_MAX];
    struct em_cx_req *r;

    if (c->state != LINK_UP)
        return EM_PUB_RETRY;
    if (em_topic_render(c->channel, m->dataset, m->device, c->agent, c->site, channel,
                        sizeof channel) < 0) {
        em_pub_warn("kubemq", c->name, KMQ_LOG_EVERY_S, "channel",
                    "the channel of '%s' does not fit, dead-lettered", m->device);
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    r = c->events ? NULL : c->open;
    if (!r) {
        r = em_cx_take(&c->cx);
        if (!r)
            return EM_PUB_RETRY;
        r->kind = REQ_DATA;
        memcpy(r->url, c->url_send, sizeof r->url);
        if (!c->events) {
            if (em_buf_adds(&r->body, "{\"Messages\":[") < 0) {
                em_cx_put(&c->cx, r);
                return EM_PUB_RETRY;
            }
            c->open = r;
        }
    }
    if (add_message(c, r, m, channel) < 0) {
        if (r->ntok == 0) {
            if (r == c->open)
                c->open = NULL;
            em_cx_put(&c->cx, r);
        }
        return EM_PUB_RETRY;
    }
    r->tokens[r->ntok++] = m->token;
    c->inflight++;
    if (c->events || r->ntok >= c->batch)
        send_slot(c, r);
    return EM_PUB_OK;
}

static void start_ping(struct kmq *c)
{
    struct em_cx_req *r = em_cx_take(&c->cx);

    if (!r)
        return; /* every slot still busy: the next service() tries again */
    r->kind = REQ_PING;
    memcpy(r->url, c->url_ping, sizeof r->url);
    if (em_cx_start(&c->cx, r, 0) < 0) {
        em_cx_put(&c->cx, r);
        go_down(c, "start", "cannot start the ping");
        return;
    }
    c->state = LINK_PINGING;
}

static void kubemq_service(void *ctx)
{
    struct kmq *c = ctx;

    if (c->in_service)
        return; /* called from inside done() */
    c->in_service = 1;
    em_cx_poll(&c->cx, on_done, c);
    if (c->state == LINK_DOWN && em_wire_now_ms() >= c->next_try_ms)
        start_ping(c);
    /* The open batch goes when nothing else is in flight (or it is full: submit). */
    if (c->state == LINK_UP && c->open && c->cx.running == 0)
        send_slot(c, c->open);
    if (c->cx.running)
        em_cx_poll(&c->cx, on_done, c); /* start connects and writes at once */
    c->in_service = 0;
}

static int kubemq_up(void *ctx)
{
    return ((struct kmq *)ctx)->state == LINK_UP;
}

static unsigned kubemq_inflight(void *ctx)
{
    return ((struct kmq *)ctx)->inflight;
}

/* base + suffix into out, without a doubled '/'; -1 when it does not fit. */
static int join_url(char *out, size_t outlen, const char *base, const char *suffix)
{
    size_t n = strlen(base);
    int w;

    while (n > 0 && base[n - 1] == '/')
        n--;
    w = snprintf(out, outlen, "%.*s%s", (int)n, base, suffix);
    return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

static void *kubemq_create(const struct em_pub_conf *conf, em_pub_done_fn done,
                           void *core, char *err, size_t errlen)
{
    struct kmq *c = NULL;
    struct em_cx_opts o;
    char probe[KMQ_NAME_MAX];
    unsigned slots;

    if (err && errlen)
        err[0] = '\0';
    if (!conf || !done) {
        snprintf(err, errlen, "no configuration or done callback");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->done = done;
    c->core = core;
    c->name = conf->name ? conf->name : "kubemq";
    c->agent = conf->agent ? conf->agent : "";
    c->site = conf->site;
    c->state = LINK_DOWN;
    em_backoff_init(&c->bo, KMQ_BACKOFF_MIN_MS, KMQ_BACKOFF_MAX_MS,
                    (uint32_t)em_wire_now_ms() ^ (uint32_t)(uintptr_t)c);

    if (!conf->url || (strncasecmp(conf->url, "http://", 7) != 0 &&
                       strncasecmp(conf->url, "https://", 8) != 0)) {
        snprintf(err, errlen, "url must start with http:// or https://");
        goto fail;
    }
    if (!conf->mode || strcmp(conf->mode, "queue") == 0) {
        c->events = 0;
    } else if (strcmp(conf->mode, "events_store") == 0) {
        c->events = 1;
    } else {
        snprintf(err, errlen, "mode '%s' is not queue or events_store", conf->mode);
        goto fail;
    }
    if (join_url(c->url_send, sizeof c->url_send, conf->url,
                 c->events ? "/send/event" : "/queue/send_batch") < 0 ||
        join_url(c->url_ping, sizeof c->url_ping, conf->url, "/ping") < 0) {
        snprintf(err, errlen, "url is too long");
        goto fail;
    }
    c->channel = conf->channel ? conf->channel
                 : conf->topic ? conf->topic
                               : KMQ_DEFAULT_CHANNEL;
    if (!*c->channel) {
        snprintf(err, errlen, "channel is empty");
        goto fail;
    }
    if (em_topic_render(c->channel, "pms", "dev", c->agent, c->site, probe,
                        sizeof probe) < 0 &&
        errno == EINVAL) {
        snprintf(err, errlen, "channel '%s' has an unknown {placeholder}", c->channel);
        goto fail;
    }
    if (em_topic_render(conf->client_id ? conf->client_id : "{agent}", "", "", c->agent,
                        c->site, c->client_id, sizeof c->client_id) <= 0) {
        snprintf(err, errlen,
                 "client_id: cannot render '%s' (empty, too long or unknown "
                 "{placeholder})",
                 conf->client_id ? conf->client_id : "{agent}");
        goto fail;
    }
    if (conf->token_file) {
        c->token = em_pub_read_secret("token_file", conf->token_file, err, errlen);
        if (!c->token)
            goto fail;
    } else if (conf->token && !(c->token = strdup(conf->token))) {
        goto oom;
    }
    c->batch = c->events         ? 1
               : conf->batch > 0 ? (unsigned)conf->batch
                                 : KMQ_DEFAULT_BATCH;
    if (!c->events && conf->window > 0 && c->batch > (unsigned)conf->window)
        c->batch = (unsigned)conf->window; /* the core never has more in flight */
    slots = KMQ_QUEUE_SLOTS;
    if (c->events)
        slots = conf->window > 0 && conf->window < KMQ_EVENT_SLOTS_MAX
                    ? (unsigned)conf->window
                    : KMQ_EVENT_SLOTS_MAX;
    c->verdicts = calloc(c->batch, sizeof *c->verdicts);
    if (!c->verdicts)
        goto oom;
    memset(&o, 0, sizeof o);
    o.timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 5000;
    o.tls_verify = conf->tls_verify;
    o.ca_file = conf->ca_file;
    o.cert_file = conf->cert_file;
    o.key_file = conf->key_file;
    o.token = c->token;
    /* A reply result is ~150 bytes pretty-printed: room for a full batch. */
    if (em_cx_init(&c->cx, slots, c->batch, 4096 + (size_t)c->batch * 512, &o, err,
                   errlen) < 0)
        goto fail;
    return c;

oom:
    snprintf(err, errlen, "out of memory");
fail:
    kubemq_destroy(c);
    return NULL;
}

static void kubemq_destroy(void *ctx)
{
    struct kmq *c = ctx;

    if (!c)
        return;
    /* Unconfirmed messages are forgotten, not reported (publisher.h). */
    em_cx_release(&c->cx);
    em_pub_free_secret(c->token);
    free(c->verdicts);
    free(c);
}

const struct em_publisher kubemq_publisher = {
    .abi = EM_PUBLISHER_ABI,
    .name = "kubemq",
    .create = kubemq_create,
    .submit = kubemq_submit,
    .service = kubemq_service,
    .up = kubemq_up,
    .inflight = kubemq_inflight,
    .destroy = kubemq_destroy,
};
