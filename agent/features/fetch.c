/* fetch.c - features.url polled with the non-blocking curl engine (see fetch.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flagset.h"

#ifdef WITH_CURL
#include "curl/engine.h"

#define FETCH_BODY_MAX (EM_FEATURES_MAX_BYTES + 1)
#define FETCH_BACKOFF_MAX_FACTOR 16
#define FETCH_BACKOFF_MAX_S 600

struct em_fetch {
    struct em_cx cx;
    char *url;
    int poll_s;
    int64_t next_ms;
    int fails;
    uint32_t rng;
    struct curl_slist *hdrs;   /* If-None-Match, when we have an ETag */
    char etag[128];
    char *last;                /* the last document, FETCH_BODY_MAX bytes */
    size_t last_len;
    int have_last;
    /* what the finished request left for em_fetch_service */
    int result;                /* 1 changed, 0 unchanged, -1 failed */
    char why[160];
};

struct em_fetch *em_fetch_new(const char *url, int poll_s, long timeout_ms, char *err,
                              size_t errlen)
{
    struct em_fetch *f = calloc(1, sizeof *f);
    struct em_cx_opts o = {.timeout_ms = timeout_ms, .tls_verify = 1};
    if (!f || !(f->url = strdup(url)) || !(f->last = malloc(FETCH_BODY_MAX))) {
        snprintf(err, errlen, "out of memory");
        em_fetch_free(f);
        return NULL;
    }
    if (em_cx_init(&f->cx, 1, 1, FETCH_BODY_MAX, &o, err, errlen) < 0) {
        free(f->last);
        free(f->url);
        free(f);
        return NULL;
    }
    f->poll_s = poll_s;
    f->rng = (uint32_t)(uintptr_t)f ^ 0x9e3779b9u;
    return f;
}

void em_fetch_free(struct em_fetch *f)
{
    if (!f)
        return;
    if (f->cx.api) {
        f->cx.api->slist_free_all(f->hdrs);
        em_cx_release(&f->cx);
    }
    free(f->last);
    free(f->url);
    free(f);
}

static int64_t next_delay_ms(struct em_fetch *f)
{
    int64_t base = (int64_t)f->poll_s * 1000, d = base;
    if (f->fails > 0) {
        int64_t cap = base * FETCH_BACKOFF_MAX_FACTOR;
        if (cap > FETCH_BACKOFF_MAX_S * 1000LL)
            cap = FETCH_BACKOFF_MAX_S * 1000LL;
        if (cap < base)
            cap = base;
        d = base << (f->fails > 4 ? 4 : f->fails);
        if (d > cap)
            d = cap;
    }
    /* Up to a tenth off, so a fleet does not poll the server in step. */
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 17;
    f->rng ^= f->rng << 5;
    return d - (int64_t)(f->rng % (uint32_t)(d / 10 + 1));
}

static void set_etag(struct em_fetch *f, const char *etag)
{
    char h[160];
    if (strcmp(f->etag, etag) == 0)
        return;
    snprintf(f->etag, sizeof f->etag, "%s", etag);
    f->cx.api->slist_free_all(f->hdrs);
    f->hdrs = NULL;
    if (!etag[0])
        return;
    snprintf(h, sizeof h, "If-None-Match: %s", etag);
    f->hdrs = f->cx.api->slist_append(NULL, h);
}

static void on_done(void *arg, struct em_cx_req *r)
{
    struct em_fetch *f = arg;
    f->result = -1;
    if (r->rc != CURLE_OK) {
        snprintf(f->why, sizeof f->why, "%s", em_cx_strerror(&f->cx, r));
        return;
    }
    if (r->status == 304) {
        f->result = 0;
        return;
    }
    if (r->status != 200) {
        snprintf(f->why, sizeof f->why, "HTTP %ld", r->status);
        return;
    }
    size_t n = r->resp.len;
    f->result = !f->have_last || n != f->last_len || memcmp(f->last, r->resp.p, n) != 0;
    memcpy(f->last, r->resp.p, n);
    f->last_len = n;
    f->have_last = 1;
    set_etag(f, r->etag);
}

int em_fetch_service(struct em_fetch *f, int64_t now_ms, const char **body, size_t *len,
                     char *err, size_t errlen)
{
    if (f->cx.running) {
        f->result = 0;
        if (em_cx_poll(&f->cx, on_done, f) == 0)
            return 0;
        f->fails = f->result < 0 ? f->fails + 1 : 0;
        f->next_ms = now_ms + next_delay_ms(f);
        if (f->result < 0) {
            snprintf(err, errlen, "%s", f->why);
            return -1;
        }
        if (f->result == 0)
            return 0;
        *len = f->last_len;
        *body = f->last_len > EM_FEATURES_MAX_BYTES ? NULL : f->last;
        if (*body)
            f->last[f->last_len] = '\0';
        return 1;
    }
    if (now_ms < f->next_ms)
        return 0;
    struct em_cx_req *r = em_cx_take(&f->cx);
    if (!r)
        return 0;
    snprintf(r->url, sizeof r->url, "%s", f->url);
    r->get_headers = f->hdrs;
    if (em_cx_start(&f->cx, r, 0) < 0) {
        em_cx_put(&f->cx, r);
        f->fails++;
        f->next_ms = now_ms + next_delay_ms(f);
        snprintf(err, errlen, "cannot start the request: %s", strerror(errno));
        return -1;
    }
    return 0;
}

#else /* no libcurl in this build */

struct em_fetch *em_fetch_new(const char *url, int poll_s, long timeout_ms, char *err,
                              size_t errlen)
{
    (void)url, (void)poll_s, (void)timeout_ms;
    snprintf(err, errlen, "this build has no HTTP client (built without kubemq and http)");
    errno = ENOTSUP;
    return NULL;
}

void em_fetch_free(struct em_fetch *f)
{
    (void)f;
}

int em_fetch_service(struct em_fetch *f, int64_t now_ms, const char **body, size_t *len,
                     char *err, size_t errlen)
{
    (void)f, (void)now_ms, (void)body, (void)len, (void)err, (void)errlen;
    return 0;
}
#endif
