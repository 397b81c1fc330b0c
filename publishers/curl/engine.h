/* engine.h - a small non-blocking HTTP client over the curl multi interface,
 * shared by the kubemq and http publishers.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A fixed set of request slots, each with its own easy handle and buffers,
 * allocated at init. A publisher takes a free slot, fills its body and its
 * tokens (the messages riding in it), and starts it; em_cx_poll() progresses
 * every running request with curl_multi_perform, which never waits on the
 * network, and hands each finished one to the publisher's callback. Nothing
 * blocks the core thread: connects, TLS and DNS (libcurl's threaded resolver)
 * all proceed between calls. Every request ends within timeout_ms.
 *
 * Slot states: FREE -> FILLING (taken by the publisher) -> RUNNING (started)
 * -> FREE (after the callback). Core thread only.
 */
#ifndef EM_PUB_ENGINE_H
#define EM_PUB_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "curl/curlapi.h"
#include "curl/gzip.h"
#include "curl/wire.h"

#define EM_CX_URL_MAX 2048
/* Connections per host: more requests than this wait in curl's queue for one. */
#define EM_CX_HOST_CONNECTIONS 8

enum em_cx_state { EM_CX_FREE, EM_CX_FILLING, EM_CX_RUNNING };

/* How requests go out. Strings are borrowed for the engine's lifetime; NULL = unset. */
struct em_cx_opts {
    long timeout_ms;  /* connect + whole request */
    int tls_verify;   /* 0: accept any certificate and host name */
    const char *ca_file, *cert_file, *key_file;
    const char *token;    /* Authorization: Bearer TOKEN */
    const char *username; /* HTTP basic auth, with password */
    const char *password;
    int gzip; /* POST bodies are gzip-compressed (Content-Encoding: gzip) */
};

struct em_cx_req {
    int state;               /* enum em_cx_state */
    int kind;                /* the publisher's (data, ping...) */
    struct em_buf body;      /* FILLING: the request body, built by the publisher */
    char url[EM_CX_URL_MAX]; /* FILLING: where it goes */
    uint64_t *tokens;        /* the messages in it: `ntok` of at most per_req */
    unsigned ntok;
    /* Set when the request finished, for the callback. */
    CURLcode rc;          /* CURLE_OK: a complete HTTP reply arrived */
    long status;          /* HTTP status, 0 without a reply */
    long retry_after_s;   /* Retry-After in seconds, -1 when absent */
    struct em_buf resp;   /* the reply body, at most resp_max bytes */
    int resp_truncated;   /* the reply was longer than resp_max */
    char errbuf[CURL_ERROR_SIZE];
    char etag[128];       /* the reply's ETag header as sent, "" when none (or longer) */
    /* FILLING: headers for a GET instead of the JSON ones (borrowed; feature polls
     * send If-None-Match); NULL = the usual ones. */
    struct curl_slist *get_headers;
    /* engine internals */
    CURL *easy;
    struct em_buf zbody;
    size_t resp_max;
};

struct em_cx {
    const struct em_curl *api;
    CURLM *multi;
    struct em_cx_req *reqs;
    unsigned nreq, running;
    struct em_cx_opts o;
    struct curl_slist *hdr_json, *hdr_gzip;
    char *auth_header; /* owned; wiped on release */
    struct em_gzip gz;
};

/*
 * Load libcurl (and zlib when o->gzip) and set up nreq slots of per_req tokens
 * each, reply bodies up to resp_max bytes. 0, or -1 with a message in err (the
 * engine is then released).
 */
int em_cx_init(struct em_cx *cx, unsigned nreq, unsigned per_req, size_t resp_max,
               const struct em_cx_opts *o, char *err, size_t errlen);
/* A FREE slot, now FILLING with an empty body and no tokens; NULL when none. */
struct em_cx_req *em_cx_take(struct em_cx *cx);
/* Give a FILLING slot back unused. */
void em_cx_put(struct em_cx *cx, struct em_cx_req *r);
/*
 * Start a FILLING slot: POST its body (post = 1) or GET (post = 0) to r->url.
 * 0, or -1 with errno (the slot stays FILLING; the caller decides).
 */
int em_cx_start(struct em_cx *cx, struct em_cx_req *r, int post);

/* Called for each finished request; the slot is FREE again when it returns. */
typedef void (*em_cx_done_fn)(void *arg, struct em_cx_req *r);
/* Progress running requests without waiting; returns how many finished. */
int em_cx_poll(struct em_cx *cx, em_cx_done_fn fn, void *arg);
/* Text for r->rc (the curl error detail when there is one). */
const char *em_cx_strerror(const struct em_cx *cx, const struct em_cx_req *r);
/* Abort everything and free all; accepts a zeroed or failed engine. */
void em_cx_release(struct em_cx *cx);

#endif
