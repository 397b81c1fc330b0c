/* rqueue_conn.c - the Redis queue's connection: the redis:// URL, connecting with a
 * capped backoff, pipelined commands and their replies, and what an error reply or
 * a broken connection means for the queue.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "rqueue_int.h"

static struct timeval ms_tv(long ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

void rq_set_err(struct em_rqueue *q, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q->errbuf, sizeof(q->errbuf), fmt, ap);
    va_end(ap);
}

void rq_open_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

char *rq_strfmt(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1))) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes %XX so that passwords may hold '@', ':' or '/'; NULL on bad input. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    unsigned v;
    size_t i;

    if (!out) {
        errno = ENOMEM;
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;

            if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
                (lo = hexval(s[i + 2])) < 0) {
                free(out);
                errno = EINVAL;
                return NULL;
            }
            v = (unsigned)(hi << 4 | lo);
            *o++ = (char)v;
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* Parses a non-negative decimal of at most `max`; -1 when it is not one. */
static long parse_num(const char *s, size_t n, long max)
{
    long v = 0;
    size_t i;

    if (n == 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
        if (v > max) {
            return -1;
        }
    }
    return v;
}

static int parse_unix_url(struct em_rqueue *q, const char *path, char *err, size_t errlen)
{
    const char *qm = strchr(path, '?');
    size_t plen = qm ? (size_t)(qm - path) : strlen(path);

    if (plen == 0 || path[0] != '/') {
        rq_open_err(err, errlen, "unix url needs an absolute path (unix:///PATH)");
        errno = EINVAL;
        return -1;
    }
    if (!(q->unix_path = strndup(path, plen))) {
        return -1;
    }
    if (qm) {
        const char *v = qm + 1;

        if (strncmp(v, "db=", 3) != 0 ||
            (q->db = (int)parse_num(v + 3, strlen(v + 3), INT_MAX)) < 0) {
            rq_open_err(err, errlen, "unix url: only ?db=N is understood");
            errno = EINVAL;
            return -1;
        }
    }
    return 0;
}

int rq_parse_url(struct em_rqueue *q, const char *url, char *err, size_t errlen)
{
    const char *s, *at, *h, *hend, *rest;
    long v;

    if (!url || !*url) {
        url = "redis://127.0.0.1:6379/0";
    }
    q->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        return parse_unix_url(q, url + 7, err, errlen);
    }
    if (strncmp(url, "redis://", 8) != 0) {
        rq_open_err(err, errlen, "url must start with redis:// or unix://");
        errno = EINVAL;
        return -1;
    }
    s = url + 8;
    /* The db part holds digits only, so the last '@' ends the user info. */
    if ((at = strrchr(s, '@'))) {
        const char *colon = memchr(s, ':', (size_t)(at - s));

        if (!colon) {
            rq_open_err(err, errlen, "url: user info must be [USER]:PASSWORD@");
            errno = EINVAL;
            return -1;
        }
        if (colon > s && !(q->user = pct_decode(s, (size_t)(colon - s)))) {
            goto bad_enc;
        }
        if (!(q->password = pct_decode(colon + 1, (size_t)(at - colon - 1)))) {
            goto bad_enc;
        }
        s = at + 1;
    }
    if (*s == '[') {
        h = s + 1;
        if (!(hend = strchr(h, ']'))) {
            goto bad;
        }
        rest = hend + 1;
    } else {
        h = s;
        hend = s + strcspn(s, ":/");
        rest = hend;
    }
    if (hend == h) {
        goto bad;
    }
    if (!(q->host = strndup(h, (size_t)(hend - h)))) {
        return -1;
    }
    if (*rest == ':') {
        size_t n = strcspn(rest + 1, "/");

        if ((v = parse_num(rest + 1, n, 65535)) <= 0) {
            goto bad;
        }
        q->port = (int)v;
        rest += 1 + n;
    }
    if (*rest == '/') {
        rest++;
        if (*rest) {
            if ((v = parse_num(rest, strlen(rest), INT_MAX)) < 0) {
                goto bad;
            }
            q->db = (int)v;
        }
    } else if (*rest) {
        goto bad;
    }
    return 0;
bad_enc:
    if (errno == ENOMEM) {
        return -1;
    }
    rq_open_err(err, errlen, "url: bad %%-encoding in user info");
    errno = EINVAL;
    return -1;
bad:
    rq_open_err(err, errlen, "url: expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]");
    errno = EINVAL;
    return -1;
}

/* Maps a hiredis context error to an errno; `saved` is errno right after the call. */
static int ctx_errno(const redisContext *c, int saved)
{
    if (!c) {
        return ENOMEM;
    }
    switch (c->err) {
    case REDIS_ERR_IO:
        /* SO_RCVTIMEO expiry shows up as EAGAIN in both hiredis lines. */
        if (saved == EAGAIN || saved == EWOULDBLOCK || saved == ETIMEDOUT ||
            strstr(c->errstr, "temporarily unavailable") ||
            strstr(c->errstr, "timed out")) {
            return ETIMEDOUT;
        }
        return saved ? saved : EIO;
    case REDIS_ERR_EOF:
        return ECONNRESET;
    case REDIS_ERR_OOM:
        return ENOMEM;
    case REDIS_ERR_PROTOCOL:
        return EPROTO;
    default:
        return c->err == 6 ? ETIMEDOUT : EIO; /* 6: REDIS_ERR_TIMEOUT, 1.x only */
    }
}

/* Closes the connection and schedules the next attempt after a doubled backoff. */
void rq_drop_conn(struct em_rqueue *q, int err)
{
    if (q->c) {
        if (q->c->err) {
            rq_set_err(q, "redis %s: %s", q->host ? q->host : q->unix_path, q->c->errstr);
        }
        redisFree(q->c);
        q->c = NULL;
    }
    q->up = 0;
    if (q->backoff_ms == 0) {
        q->backoff_ms = BACKOFF_MIN_MS;
    } else if ((q->backoff_ms *= 2) > BACKOFF_MAX_MS) {
        q->backoff_ms = BACKOFF_MAX_MS;
    }
    q->next_try_ms = em_mono_ms() + q->backoff_ms;
    errno = err;
}

int rq_is_err(const redisReply *r, const char *prefix)
{
    return r->type == REDIS_REPLY_ERROR && r->str &&
           strncmp(r->str, prefix, strlen(prefix)) == 0;
}

/*
 * Records an error reply we have no plan for and returns its errno. Replies that
 * mean "this server cannot serve us now" (loading the AOF, a busy script, auth
 * required after a restart, a read-only replica) close the connection so the
 * backoff spaces out the next attempts.
 */
int rq_reply_error(struct em_rqueue *q, const redisReply *r, const char *what)
{
    if (r->type != REDIS_REPLY_ERROR) {
        rq_set_err(q, "%s: unexpected reply type %d", what, r->type);
        return EPROTO;
    }
    rq_set_err(q, "%s: %.*s", what, (int)(r->len > 200 ? 200 : r->len), r->str);
    if (rq_is_err(r, "LOADING") || rq_is_err(r, "BUSY ") || rq_is_err(r, "MASTERDOWN") ||
        rq_is_err(r, "NOAUTH") || rq_is_err(r, "READONLY")) {
        char keep[sizeof(q->errbuf)];

        memcpy(keep, q->errbuf, sizeof(keep));
        rq_drop_conn(q, ENOTCONN);
        memcpy(q->errbuf, keep, sizeof(keep));
        return ENOTCONN;
    }
    return EIO;
}

static int vappend(struct em_rqueue *q, const char *fmt, va_list ap)
{
    if (redisvAppendCommand(q->c, fmt, ap) != REDIS_OK) {
        rq_set_err(q, "redis: cannot queue a rq_command (out of memory)");
        rq_drop_conn(q, ENOMEM);
        return -1;
    }
    return 0;
}

int rq_append(struct em_rqueue *q, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vappend(q, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reads the next pipelined reply. A connection error closes the connection. */
redisReply *rq_next_reply(struct em_rqueue *q)
{
    void *r = NULL;

    if (!q->c) {
        errno = ENOTCONN;
        return NULL;
    }
    errno = 0;
    if (redisGetReply(q->c, &r) != REDIS_OK || !r) {
        rq_drop_conn(q, ctx_errno(q->c, errno));
        return NULL;
    }
    return r;
}

/* One command and its reply: rq_append() plus rq_next_reply(). */
redisReply *rq_command(struct em_rqueue *q, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vappend(q, fmt, ap);
    va_end(ap);
    return rc < 0 ? NULL : rq_next_reply(q);
}

static void reset_pubs(struct em_rqueue *q)
{
    size_t i;

    for (i = 0; i < q->npub; i++) {
        q->pubs[i].pel = 1;
        strcpy(q->pubs[i].cursor, "0");
        q->pubs[i].group_ok = 0;
    }
}

/*
 * One connection attempt. The connect timeout bounds the TCP/unix connect; the
 * handshake (AUTH, SELECT, PING) gets what is left of the same budget, so a
 * stopped server that still accepts connections costs one timeout, not two.
 * The command timeout is then set on the new socket: hiredis 0.14 does not keep
 * it across connections.
 */
static int try_connect(struct em_rqueue *q)
{
    struct timeval tv = ms_tv(q->timeout_ms);
    int64_t t0 = em_mono_ms();
    long left;
    redisContext *c;
    redisReply *r;
    int e, n = 0, i;

    q->attempts++;
    errno = 0;
    if (q->unix_path) {
        c = redisConnectUnixWithTimeout(q->unix_path, tv);
    } else {
        c = redisConnectWithTimeout(q->host, q->port, tv);
    }
    if (!c || c->err) {
        e = ctx_errno(c, errno);
        rq_set_err(q, "redis %s: %s", q->host ? q->host : q->unix_path,
                   c ? c->errstr : "out of memory");
        if (c) {
            redisFree(c);
        }
        rq_drop_conn(q, e);
        return -1;
    }
    q->c = c;
    /* The daemon may spawn helpers; they must not inherit the Redis socket. */
    (void)fcntl(c->fd, F_SETFD, FD_CLOEXEC);
    if (!q->unix_path) {
        (void)redisEnableKeepAlive(c);
    }
    left = q->timeout_ms - (long)(em_mono_ms() - t0);
    if (left < 50) {
        left = 50;
    }
    if (redisSetTimeout(c, ms_tv(left)) != REDIS_OK) {
        rq_drop_conn(q, ctx_errno(c, errno));
        return -1;
    }
    if (q->password) {
        if (q->user) {
            e = rq_append(q, "AUTH %s %s", q->user, q->password);
        } else {
            e = rq_append(q, "AUTH %s", q->password);
        }
        if (e < 0) {
            return -1;
        }
        n++;
    }
    if (q->db) {
        if (rq_append(q, "SELECT %d", q->db) < 0) {
            return -1;
        }
        n++;
    }
    if (rq_append(q, "PING") < 0) {
        return -1;
    }
    n++;
    e = 0;
    for (i = 0; i < n; i++) {
        if (!(r = rq_next_reply(q))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR && !e) {
            e = (q->password && i == 0) ? EACCES : EIO;
            rq_set_err(q, "redis handshake: %.*s", (int)(r->len > 200 ? 200 : r->len),
                       r->str);
        }
        freeReplyObject(r);
    }
    if (e) {
        char keep[sizeof(q->errbuf)];

        memcpy(keep, q->errbuf, sizeof(keep));
        rq_drop_conn(q, e);
        memcpy(q->errbuf, keep, sizeof(keep));
        return -1;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        rq_drop_conn(q, ctx_errno(c, errno));
        return -1;
    }
    q->up = 1;
    q->connects++;
    q->backoff_ms = 0;
    q->next_try_ms = 0;
    q->errbuf[0] = '\0';
    reset_pubs(q);
    return 0;
}

int rq_ensure_conn(struct em_rqueue *q)
{
    if (q->c) {
        return 0;
    }
    if (em_mono_ms() < q->next_try_ms) {
        errno = ENOTCONN;
        return -1;
    }
    return try_connect(q);
}
