/* engine.c - request slots over the curl multi interface (see engine.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl/engine.h"
#include "publisher.h"

/* libcurl >= 7.66 answers CURLINFO_RETRY_AFTER; older ones refuse it at run time. */
#if LIBCURL_VERSION_NUM >= 0x074200
#define HAVE_RETRY_AFTER 1
#endif

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct em_cx_req *r = arg;
    size_t n = size * nmemb, room = r->resp_max - r->resp.len;

    /* Keep what fits (preallocated); the rest is read and dropped. */
    if (n > room) {
        r->resp_truncated = 1;
        memcpy(r->resp.p + r->resp.len, data, room);
        r->resp.len += room;
    } else {
        memcpy(r->resp.p + r->resp.len, data, n);
        r->resp.len += n;
    }
    return n;
}

/* Keep the ETag (a feature poll sends it back in If-None-Match); ignore the rest. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct em_cx_req *r = arg;
    size_t n = size * nmemb;

    if (n > 5 && strncasecmp(data, "etag:", 5) == 0) {
        const char *v = data + 5, *end = data + n;

        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        if ((size_t)(end - v) < sizeof r->etag) {
            memcpy(r->etag, v, (size_t)(end - v));
            r->etag[end - v] = '\0';
        }
    }
    return n;
}

static struct curl_slist *headers(struct em_cx *cx, int gzip)
{
    const struct em_curl *a = cx->api;
    struct curl_slist *l = NULL, *t;
    const char *h[] = {
        "Content-Type: application/json",
        /* curl waits up to 1 s for "100 Continue" before a large body otherwise. */
        "Expect:",
        gzip ? "Content-Encoding: gzip" : NULL,
        cx->auth_header,
    };

    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        if (!h[i])
            continue;
        t = a->slist_append(l, h[i]);
        if (!t) {
            a->slist_free_all(l);
            return NULL;
        }
        l = t;
    }
    return l;
}

/* Options that never change for a slot. 0, or -1. */
static int setup_easy(struct em_cx *cx, struct em_cx_req *r)
{
    const struct em_curl *a = cx->api;
    CURL *e = r->easy;
    int bad = 0;

    bad |= a->easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= a->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
    bad |= a->easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK;
    bad |= a->easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) != CURLE_OK;
    bad |= a->easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= a->easy_setopt(e, CURLOPT_HEADERDATA, r) != CURLE_OK;
    bad |= a->easy_setopt(e, CURLOPT_TIMEOUT_MS, cx->o.timeout_ms) != CURLE_OK;
    bad |= a->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cx->o.timeout_ms) != CURLE_OK;
    bad |= a->easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    /* A redirect is the server's configuration problem; never follow it blindly. */
    bad |= a->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    /* Only http and https, whatever the URL says (best effort: conf checks it too). */
#if LIBCURL_VERSION_NUM >= 0x075500
    (void)a->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    (void)a->easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (!cx->o.tls_verify) {
        bad |= a->easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
        bad |= a->easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
    }
    if (cx->o.ca_file)
        bad |= a->easy_setopt(e, CURLOPT_CAINFO, cx->o.ca_file) != CURLE_OK;
    if (cx->o.cert_file)
        bad |= a->easy_setopt(e, CURLOPT_SSLCERT, cx->o.cert_file) != CURLE_OK;
    if (cx->o.key_file)
        bad |= a->easy_setopt(e, CURLOPT_SSLKEY, cx->o.key_file) != CURLE_OK;
    if (cx->o.username) {
        bad |= a->easy_setopt(e, CURLOPT_USERNAME, cx->o.username) != CURLE_OK;
        bad |= a->easy_setopt(e, CURLOPT_PASSWORD, cx->o.password ? cx->o.password : "") !=
               CURLE_OK;
    }
    return bad ? -1 : 0;
}

int em_cx_init(struct em_cx *cx, unsigned nreq, unsigned per_req, size_t resp_max,
               const struct em_cx_opts *o, char *err, size_t errlen)
{
    memset(cx, 0, sizeof *cx);
    cx->o = *o;
    cx->api = em_curl_get(err, errlen);
    if (!cx->api)
        return -1;
    if (o->gzip && em_gzip_init(&cx->gz, err, errlen) < 0)
        goto fail_quiet;
    if (o->token) {
        static const char pre[] = "Authorization: Bearer ";
        size_t n = sizeof pre + strlen(o->token);

        cx->auth_header = malloc(n);
        if (!cx->auth_header)
            goto oom;
        snprintf(cx->auth_header, n, "%s%s", pre, o->token);
    }
    cx->hdr_json = headers(cx, 0);
    cx->hdr_gzip = headers(cx, 1);
    cx->multi = cx->api->multi_init();
    cx->reqs = calloc(nreq, sizeof *cx->reqs);
    if (!cx->hdr_json || !cx->hdr_gzip || !cx->multi || !cx->reqs)
        goto oom;
    /*
     * A window of single-message requests must not open a window of TCP
     * connections to one collector: the rest wait for a free one (best effort).
     */
    (void)cx->api->multi_setopt(cx->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                                (long)EM_CX_HOST_CONNECTIONS);
    cx->nreq = nreq;
    for (unsigned i = 0; i < nreq; i++) {
        struct em_cx_req *r = &cx->reqs[i];

        r->resp_max = resp_max;
        r->tokens = calloc(per_req ? per_req : 1, sizeof *r->tokens);
        r->easy = cx->api->easy_init();
        if (!r->tokens || !r->easy || em_buf_reserve(&r->resp, resp_max) < 0 ||
            em_buf_reserve(&r->body, 4096) < 0)
            goto oom;
        if (setup_easy(cx, r) < 0) {
            snprintf(err, errlen, "libcurl refused an option (too old a libcurl?)");
            goto fail_quiet;
        }
    }
    return 0;

oom:
    snprintf(err, errlen, "out of memory");
fail_quiet:
    em_cx_release(cx);
    return -1;
}

struct em_cx_req *em_cx_take(struct em_cx *cx)
{
    for (unsigned i = 0; i < cx->nreq; i++) {
        struct em_cx_req *r = &cx->reqs[i];

        if (r->state == EM_CX_FREE) {
            r->state = EM_CX_FILLING;
            r->body.len = 0;
            r->ntok = 0;
            r->kind = 0;
            r->url[0] = '\0';
            r->get_headers = NULL;
            return r;
        }
    }
    return NULL;
}

void em_cx_put(struct em_cx *cx, struct em_cx_req *r)
{
    (void)cx;
    r->state = EM_CX_FREE;
}

int em_cx_start(struct em_cx *cx, struct em_cx_req *r, int post)
{
    const struct em_curl *a = cx->api;
    const struct em_buf *b = &r->body;
    int bad = 0;

    if (post && cx->o.gzip) {
        if (em_gzip_body(&cx->gz, r->body.p, r->body.len, &r->zbody) < 0)
            return -1;
        b = &r->zbody;
    }
    r->resp.len = 0;
    r->resp_truncated = 0;
    r->status = 0;
    r->retry_after_s = -1;
    r->errbuf[0] = '\0';
    r->etag[0] = '\0';
    r->rc = CURLE_OK;
    bad |= a->easy_setopt(r->easy, CURLOPT_URL, r->url) != CURLE_OK;
    if (post) {
        bad |= a->easy_setopt(r->easy, CURLOPT_HTTPHEADER,
                              cx->o.gzip ? cx->hdr_gzip : cx->hdr_json) != CURLE_OK;
        bad |= a->easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len) !=
               CURLE_OK;
        /* Not copied: the slot's buffer stays untouched while the request runs. */
        bad |= a->easy_setopt(r->easy, CURLOPT_POSTFIELDS, b->len ? b->p : "") != CURLE_OK;
    } else {
        bad |= a->easy_setopt(r->easy, CURLOPT_HTTPHEADER,
                              r->get_headers ? r->get_headers : cx->hdr_json) != CURLE_OK;
        bad |= a->easy_setopt(r->easy, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    }
    if (bad) {
        errno = EINVAL;
        return -1;
    }
    if (a->multi_add_handle(cx->multi, r->easy) != CURLM_OK) {
        errno = ENOMEM;
        return -1;
    }
    r->state = EM_CX_RUNNING;
    cx->running++;
    return 0;
}

int em_cx_poll(struct em_cx *cx, em_cx_done_fn fn, void *arg)
{
    const struct em_curl *a = cx->api;
    int still = 0, left = 0, n = 0;
    CURLMsg *m;

    if (!cx->running)
        return 0;
    (void)a->multi_perform(cx->multi, &still);
    while ((m = a->multi_info_read(cx->multi, &left))) {
        struct em_cx_req *r = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        for (unsigned i = 0; i < cx->nreq && !r; i++)
            if (cx->reqs[i].easy == m->easy_handle)
                r = &cx->reqs[i];
        if (!r)
            continue;
        r->rc = m->data.result;
        a->multi_remove_handle(cx->multi, r->easy); /* m is invalid from here */
        if (a->easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status) != CURLE_OK)
            r->status = 0;
#ifdef HAVE_RETRY_AFTER
        {
            curl_off_t ra = -1;

            if (a->easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
                r->retry_after_s = (long)ra;
        }
#endif
        cx->running--;
        r->state = EM_CX_FREE; /* before fn, which may take it again */
        n++;
        fn(arg, r);
    }
    return n;
}

const char *em_cx_strerror(const struct em_cx *cx, const struct em_cx_req *r)
{
    return r->errbuf[0] ? r->errbuf : cx->api->easy_strerror(r->rc);
}

void em_cx_release(struct em_cx *cx)
{
    const struct em_curl *a = cx->api;

    if (!a)
        return;
    for (unsigned i = 0; cx->reqs && i < cx->nreq; i++) {
        struct em_cx_req *r = &cx->reqs[i];

        if (r->easy) {
            if (r->state == EM_CX_RUNNING && cx->multi)
                a->multi_remove_handle(cx->multi, r->easy);
            a->easy_cleanup(r->easy);
        }
        free(r->tokens);
        em_buf_release(&r->body);
        em_buf_release(&r->zbody);
        em_buf_release(&r->resp);
    }
    free(cx->reqs);
    if (cx->multi)
        a->multi_cleanup(cx->multi);
    a->slist_free_all(cx->hdr_json);
    a->slist_free_all(cx->hdr_gzip);
    em_pub_free_secret(cx->auth_header);
    em_gzip_release(&cx->gz);
    memset(cx, 0, sizeof *cx);
}
