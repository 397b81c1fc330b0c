/* http.c - the HTTP publisher: one message or a JSON array per POST.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * No threads: submit() fills the engine's preallocated slots and service()
 * drives them (publishers/curl/engine.h). With batch 1 every message is its own
 * request, a window of them in flight over at most 8 connections (curl queues
 * the rest). With batch > 1 a slot per URL collects messages
 * and goes out when full or as soon as no request is in flight.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl/engine.h"
#include "curl/wire.h"
#include "http/http.h"
#include "log.h"
#include "publisher.h"

#define HTTP_SLOTS_MAX         64 /* the core's default window: no refusals below it */
#define HTTP_BATCH_SLOTS       8  /* up to four datasets filling, four in flight */
#define HTTP_BACKOFF_MIN_MS    200
#define HTTP_BACKOFF_MAX_MS    5000
#define HTTP_RETRY_AFTER_MAX_S 60
#define HTTP_LOG_EVERY_S       10

struct hp {
    em_pub_done_fn done;
    void *core;
    const char *name, *agent, *site;
    const char *url; /* template, borrowed */
    unsigned batch;
    char *token, *password; /* owned */
    struct em_cx cx;
    int64_t resume_ms; /* paused (down) until then */
    struct em_backoff bo;
    unsigned inflight;
    int in_service;
};

static void http_destroy(void *ctx);

static void settle_all(struct hp *c, struct em_cx_req *r, enum em_pub_result v)
{
    unsigned n = r->ntok;

    r->ntok = 0;
    c->inflight -= n;
    if (r->state == EM_CX_FILLING)
        em_cx_put(&c->cx, r);
    for (unsigned i = 0; i < n; i++)
        c->done(c->core, r->tokens[i], v);
}

/* Pause for delay_ms; batches still filling get RETRY (the core sends them again). */
static void pause_for(struct hp *c, long delay_ms)
{
    c->resume_ms = em_wire_now_ms() + delay_ms;
    for (unsigned i = 0; i < c->cx.nreq; i++)
        if (c->cx.reqs[i].state == EM_CX_FILLING)
            settle_all(c, &c->cx.reqs[i], EM_PUB_RETRY);
}

static void on_done(void *arg, struct em_cx_req *r)
{
    struct hp *c = arg;
    long s = r->status, d;
    char what[32];

    if (r->rc != CURLE_OK) {
        d = em_backoff_next(&c->bo);
        em_pub_warn("http", c->name, HTTP_LOG_EVERY_S, "down", "%s; retrying in %ld ms",
                    em_cx_strerror(&c->cx, r), d);
        settle_all(c, r, EM_PUB_RETRY);
        pause_for(c, d);
    } else if (s >= 200 && s < 300) {
        em_backoff_reset(&c->bo);
        settle_all(c, r, EM_PUB_OK);
    } else if (s == 408 || s == 429 || s >= 500 || s < 400) {
        d = em_backoff_next(&c->bo);
        /* RFC 9110 10.2.3: the server says how long to wait; capped, never shorter. */
        if (s == 429 && r->retry_after_s > 0)
            d = (r->retry_after_s > HTTP_RETRY_AFTER_MAX_S ? HTTP_RETRY_AFTER_MAX_S
                                                           : r->retry_after_s) *
                1000L;
        snprintf(what, sizeof what, "status-%ld", s); /* a 429 is news after a 500 */
        em_pub_warn("http", c->name, HTTP_LOG_EVERY_S, what,
                    "server answered HTTP %ld; retrying in %ld ms", s, d);
        settle_all(c, r, EM_PUB_RETRY);
        pause_for(c, d);
    } else {
        em_pub_warn("http", c->name, HTTP_LOG_EVERY_S, "drop",
                    "refused with HTTP %ld, dead-lettered", s);
        settle_all(c, r, EM_PUB_DROP);
    }
}

static void send_slot(struct hp *c, struct em_cx_req *r)
{
    if (c->batch > 1 && em_buf_add(&r->body, "]", 1) < 0) {
        settle_all(c, r, EM_PUB_RETRY);
        return;
    }
    if (em_cx_start(&c->cx, r, 1) < 0) {
        settle_all(c, r, EM_PUB_RETRY);
        pause_for(c, em_backoff_next(&c->bo));
    }
}

static enum em_pub_result http_submit(void *ctx, const struct em_pub_msg *m)
{
    struct hp *c = ctx;
    char url[EM_CX_URL_MAX];
    struct em_cx_req *r = NULL;

    if (em_wire_now_ms() < c->resume_ms)
        return EM_PUB_RETRY;
    if (em_topic_render(c->url, m->dataset, m->device, c->agent, c->site, url,
                        sizeof url) < 0) {
        em_pub_warn("http", c->name, HTTP_LOG_EVERY_S, "url",
                    "the url of '%s' does not fit, dead-lettered", m->device);
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    if (c->batch > 1) {
        for (unsigned i = 0; i < c->cx.nreq && !r; i++) {
            struct em_cx_req *q = &c->cx.reqs[i];

            if (q->state == EM_CX_FILLING && q->ntok < c->batch &&
                strcmp(q->url, url) == 0)
                r = q;
        }
    }
    if (!r) {
        r = em_cx_take(&c->cx);
        if (!r)
            return EM_PUB_RETRY;
        memcpy(r->url, url, sizeof r->url);
    }
    if (em_buf_add(&r->body, c->batch > 1 ? (r->ntok ? "," : "[") : "", c->batch > 1) <
            0 ||
        em_buf_add(&r->body, m->payload, m->len) < 0) {
        if (r->ntok == 0)
            em_cx_put(&c->cx, r);
        return EM_PUB_RETRY;
    }
    r->tokens[r->ntok++] = m->token;
    c->inflight++;
    if (r->ntok >= c->batch)
        send_slot(c, r);
    return EM_PUB_OK;
}

static void http_service(void *ctx)
{
    struct hp *c = ctx;

    if (c->in_service)
        return;
    c->in_service = 1;
    em_cx_poll(&c->cx, on_done, c);
    /* Partly filled batches go when nothing else is in flight. */
    if (c->cx.running == 0 && em_wire_now_ms() >= c->resume_ms)
        for (unsigned i = 0; i < c->cx.nreq; i++)
            if (c->cx.reqs[i].state == EM_CX_FILLING && c->cx.reqs[i].ntok)
                send_slot(c, &c->cx.reqs[i]);
    if (c->cx.running)
        em_cx_poll(&c->cx, on_done, c);
    c->in_service = 0;
}

static int http_up(void *ctx)
{
    return em_wire_now_ms() >= ((struct hp *)ctx)->resume_ms;
}

static unsigned http_inflight(void *ctx)
{
    return ((struct hp *)ctx)->inflight;
}

static void *http_create(const struct em_pub_conf *conf, em_pub_done_fn done, void *core,
                         char *err, size_t errlen)
{
    struct hp *c = NULL;
    struct em_cx_opts o;
    char probe[EM_CX_URL_MAX];
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
    c->name = conf->name ? conf->name : "http";
    c->agent = conf->agent;
    c->site = conf->site;
    em_backoff_init(&c->bo, HTTP_BACKOFF_MIN_MS, HTTP_BACKOFF_MAX_MS,
                    (uint32_t)em_wire_now_ms() ^ (uint32_t)(uintptr_t)c);
    c->url = conf->url;
    if (!c->url || (strncasecmp(c->url, "http://", 7) != 0 &&
                    strncasecmp(c->url, "https://", 8) != 0)) {
        snprintf(err, errlen, "url must start with http:// or https://");
        goto fail;
    }
    if (em_topic_render(c->url, "pms", "dev", c->agent, c->site, probe, sizeof probe) <
        0) {
        snprintf(err, errlen,
                 errno == EINVAL ? "url has an unknown {placeholder}"
                                 : "url is too long");
        goto fail;
    }
    if (conf->token_file) {
        c->token = em_pub_read_secret("token_file", conf->token_file, err, errlen);
        if (!c->token)
            goto fail;
    } else if (conf->token && !(c->token = strdup(conf->token))) {
        goto oom;
    }
    if (conf->password_file) {
        c->password =
            em_pub_read_secret("password_file", conf->password_file, err, errlen);
        if (!c->password)
            goto fail;
    } else if (conf->password && !(c->password = strdup(conf->password))) {
        goto oom;
    }
    if (c->password && !conf->username) {
        snprintf(err, errlen, "password needs a username");
        goto fail;
    }
    c->batch = conf->batch > 0 ? (unsigned)conf->batch : 1;
    if (conf->window > 0 && c->batch > (unsigned)conf->window)
        c->batch = (unsigned)conf->window;
    if (c->batch > 1)
        slots = HTTP_BATCH_SLOTS;
    else
        slots = conf->window > 0 && conf->window < HTTP_SLOTS_MAX ? (unsigned)conf->window
                                                                  : HTTP_SLOTS_MAX;
    memset(&o, 0, sizeof o);
    o.timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 5000;
    o.tls_verify = conf->tls_verify;
    o.ca_file = conf->ca_file;
    o.cert_file = conf->cert_file;
    o.key_file = conf->key_file;
    o.token = c->token;
    o.username = conf->username;
    o.password = c->password;
    o.gzip = conf->gzip;
    /* The reply is only read for the log: a little of it is enough. */
    if (em_cx_init(&c->cx, slots, c->batch, 1024, &o, err, errlen) < 0)
        goto fail;
    return c;

oom:
    snprintf(err, errlen, "out of memory");
fail:
    http_destroy(c);
    return NULL;
}

static void http_destroy(void *ctx)
{
    struct hp *c = ctx;

    if (!c)
        return;
    em_cx_release(&c->cx);
    em_pub_free_secret(c->token);
    em_pub_free_secret(c->password);
    free(c);
}

const struct em_publisher http_publisher = {
    .abi = EM_PUBLISHER_ABI,
    .name = "http",
    .create = http_create,
    .submit = http_submit,
    .service = http_service,
    .up = http_up,
    .inflight = http_inflight,
    .destroy = http_destroy,
};
