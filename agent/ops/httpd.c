/* httpd.c - the local HTTP API and status page (CONTRACT section 6) on libmicrohttpd.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "httpd.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dl.h"
#include "log.h"

#ifndef EM_MHD_LIB
#define EM_MHD_LIB "libmicrohttpd.so.12"
#endif

static struct {
    int loaded;
    __typeof__(MHD_start_daemon) *MHD_start_daemon;
    __typeof__(MHD_stop_daemon) *MHD_stop_daemon;
    __typeof__(MHD_create_response_from_buffer) *MHD_create_response_from_buffer;
    __typeof__(MHD_add_response_header) *MHD_add_response_header;
    __typeof__(MHD_queue_response) *MHD_queue_response;
    __typeof__(MHD_destroy_response) *MHD_destroy_response;
    __typeof__(MHD_lookup_connection_value) *MHD_lookup_connection_value;
} mhd;

struct em_httpd {
    struct MHD_Daemon *d;
    struct em_ops *ops;
    em_httpd_snapshot_fn snapshot;
    void *arg;
    char *token; /* owned; NULL = no authentication */
};

static int load(char *err, size_t errlen)
{
    const char *const sonames[] = {EM_MHD_LIB, "libmicrohttpd.so", NULL};
    const struct em_dl_sym syms[] = {
        EM_DL_SYM(&mhd, MHD_start_daemon),
        EM_DL_SYM(&mhd, MHD_stop_daemon),
        EM_DL_SYM(&mhd, MHD_create_response_from_buffer),
        EM_DL_SYM(&mhd, MHD_add_response_header),
        EM_DL_SYM(&mhd, MHD_queue_response),
        EM_DL_SYM(&mhd, MHD_destroy_response),
        EM_DL_SYM(&mhd, MHD_lookup_connection_value),
    };
    if (mhd.loaded)
        return 0;
    if (!em_dl_load("HTTP server library", sonames, syms, sizeof syms / sizeof syms[0], err,
                    errlen))
        return -1;
    mhd.loaded = 1;
    return 0;
}

/* `allow`: the Allow header of a 405. `gz_static`: body is static and gzipped. */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
                              const void *body, size_t len, const char *allow, int gz_static)
{
    struct MHD_Response *r = mhd.MHD_create_response_from_buffer(
        len, (void *)body, gz_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    mhd.MHD_add_response_header(r, "Content-Type", type);
    mhd.MHD_add_response_header(r, "Cache-Control", "no-store");
    mhd.MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (allow)
        mhd.MHD_add_response_header(r, "Allow", allow);
    if (gz_static) {
        mhd.MHD_add_response_header(r, "Content-Encoding", "gzip");
        mhd.MHD_add_response_header(r, "Vary", "Accept-Encoding");
    }
    if (status == MHD_HTTP_UNAUTHORIZED)
        mhd.MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"edgemon\"");
    enum MHD_Result rc = mhd.MHD_queue_response(c, status, r);
    mhd.MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result json_error(struct MHD_Connection *c, unsigned status, const char *msg,
                                  const char *allow)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"status\":%u}\n", msg, status);
    return answer(c, status, "application/json", body, (size_t)n, allow, 0);
}

/* Does an Accept-Encoding header take gzip (RFC 9110 12.5.3: not with q=0)? */
static int takes_gzip(const char *ae)
{
    const char *p = ae ? strstr(ae, "gzip") : NULL;
    if (!p)
        return 0;
    p += 4;
    p += strspn(p, " ");
    if (*p != ';')
        return 1;
    p++;
    p += strspn(p, " ");
    if (strncmp(p, "q=0", 3) != 0)
        return 1;
    p += 3;
    if (*p == '.')
        p += 1 + strspn(p + 1, "0");
    return *p >= '1' && *p <= '9';
}

/* Constant-time comparison: the answer time must not tell how much matched. */
static int token_ok(const struct em_httpd *h, const char *auth)
{
    static const char prefix[] = "Bearer ";
    if (!h->token)
        return 1;
    if (!auth || strncmp(auth, prefix, sizeof prefix - 1) != 0)
        return 0;
    auth += sizeof prefix - 1;
    size_t a = strlen(auth), t = strlen(h->token);
    unsigned char diff = a != t;
    for (size_t i = 0; i < t; i++)
        diff |= (unsigned char)(h->token[i] ^ (i < a ? auth[i] : 0));
    return diff == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_len, void **req)
{
    struct em_httpd *h = cls;
    struct em_sb b = {0};
    const char *type = "application/json";
    (void)version;
    (void)upload;
    (void)req;

    /* Answered on the first call: a request with a body is refused before it is read. */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return json_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", "GET, HEAD");
    if (*upload_len)
        return json_error(c, MHD_HTTP_BAD_REQUEST, "a GET has no body", NULL);
    /* The page holds no data (its script asks the API, with the token), so a
     * browser, which cannot send a bearer token for a plain navigation, gets it. */
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
        /* Stored gzipped; every browser takes it so. */
        if (!takes_gzip(mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding")))
            return json_error(c, MHD_HTTP_NOT_ACCEPTABLE,
                              "the status page is sent gzip-compressed: open it in a browser, "
                              "or use curl --compressed",
                              NULL);
        return answer(c, MHD_HTTP_OK, "text/html; charset=utf-8", em_ops_page_gz,
                      em_ops_page_gz_len, NULL, 1);
    }
    if (!token_ok(h, mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization")))
        return json_error(c, MHD_HTTP_UNAUTHORIZED, "missing or wrong bearer token", NULL);

    if (strcmp(url, "/api/status") == 0) {
        em_ops_render_status(h->ops, &b);
    } else if (strcmp(url, "/api/latest") == 0) {
        em_ops_render_latest(h->ops, &b);
    } else if (strcmp(url, "/api/history") == 0) {
        em_ops_render_history(h->ops, &b);
    } else if (strcmp(url, "/api/features") == 0) {
        em_ops_render_features(h->ops, &b);
    } else if (strcmp(url, "/metrics") == 0) {
        type = "text/plain; version=0.0.4; charset=utf-8";
        em_ops_render_metrics(h->ops, &b);
    } else if (strcmp(url, "/api/snapshot") == 0) {
        const char *t = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout_ms");
        long ms = 2000;
        if (t) {
            char *end;
            errno = 0;
            ms = strtol(t, &end, 10);
            if (errno || end == t || *end || ms < 1 || ms > EM_HTTPD_SNAPSHOT_MAX_MS)
                return json_error(c, MHD_HTTP_BAD_REQUEST,
                                  "timeout_ms must be an integer from 1 to 30000", NULL);
        }
        if (!h->snapshot)
            return json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot", NULL);
        h->snapshot(h->arg, (int)ms, &b);
    } else {
        return json_error(c, MHD_HTTP_NOT_FOUND, "not found", NULL);
    }
    if (b.oom) {
        em_sb_release(&b);
        return json_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
    }
    enum MHD_Result rc = answer(c, MHD_HTTP_OK, type, b.p ? b.p : "", b.n, NULL, 0);
    em_sb_release(&b);
    return rc;
}

/* libmicrohttpd's own diagnostics (a client gone, the connection limit hit)
 * are news only when debugging. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (EM_LOG_DEBUG <= em_log_level_now)
        em_log_vwrite(EM_LOG_DEBUG, fmt, ap);
}

struct em_httpd *em_httpd_start(const struct em_conf *conf, struct em_ops *ops,
                                em_httpd_snapshot_fn snapshot, void *arg, char *err,
                                size_t errlen)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char port[8];
    struct em_httpd *h = NULL;

    if (load(err, errlen) < 0)
        return NULL;
    if (!(h = calloc(1, sizeof *h))) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->ops = ops;
    h->snapshot = snapshot;
    h->arg = arg;
    if (conf->http.token_file) {
        if (!(h->token = em_pub_read_secret("http.token_file", conf->http.token_file, err,
                                            errlen)))
            goto fail;
        if (!h->token[0]) {
            snprintf(err, errlen, "http.token_file: '%s' is empty", conf->http.token_file);
            goto fail;
        }
    }
    snprintf(port, sizeof port, "%d", conf->http.port);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(conf->http.host, port, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "http.listen: cannot resolve '%s': %s", conf->http.host,
                 gai_strerror(rc));
        goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = mhd.MHD_start_daemon(
        flags, (uint16_t)conf->http.port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)EM_HTTPD_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EM_HTTPD_MAX_REQUEST,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)EM_HTTPD_IDLE_TIMEOUT_S,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
    int e = errno;
    freeaddrinfo(ai);
    if (!h->d) {
        snprintf(err, errlen, "http.listen: cannot listen on '%s': %s", conf->http.listen,
                 e ? strerror(e) : "refused by the HTTP library");
        goto fail;
    }
    return h;
fail:
    free(h->token);
    free(h);
    return NULL;
}

void em_httpd_stop(struct em_httpd *h)
{
    if (!h)
        return;
    if (h->d)
        mhd.MHD_stop_daemon(h->d);
    if (h->token)
        memset(h->token, 0, strlen(h->token));
    free(h->token);
    free(h);
}
