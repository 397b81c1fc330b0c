/* rqueue.c - the durable store-and-forward queue on Redis streams (hiredis, sync API).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Only the synchronous hiredis API common to 0.14.1 (Debian) and 1.x (OpenWrt) is
 * used, and only Redis commands available in 6.2. See rqueue.h for the semantics
 * and README.md ("Redis settings") for the operator's side.
 */
#include "rqueue.h"

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

#define ITEM_CHUNK         256 /* items per push round trip */
#define ACK_CHUNK          64  /* ids per XACK/XDEL command */
#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define DEFAULT_TIMEOUT_MS 500
#define AGE_TRIM_EVERY_MS  1000
#define OOM_MIN_FREE       (64 * 1024) /* bytes an -OOM relief frees at least */
#define ID_LEN             48 /* "18446744073709551615-18446744073709551615" + NUL */

/* em_rqueue_stats() asks for the counters with one HMGET of three fields. */
_Static_assert(EM_RQ_NREASONS == 3, "update the HMGET in em_rqueue_stats()");

static const char *const reason_names[EM_RQ_NREASONS] = {"max_messages", "max_age",
                                                         "redis_oom"};

struct pub {
    char *name;                        /* also the consumer group's name */
    char *key;                         /* edgemon:AGENT:q:NAME */
    char *field[EM_RQ_NREASONS];       /* NAME:REASON in the dropped hash */
    redisReply *held;                  /* the reply the last read's entries point into */
    char cursor[ID_LEN];               /* last PEL id handed out while pel is set */
    int pel;                           /* re-reading this consumer's pending entries */
    int group_ok;                      /* group known to exist on this connection */
    long long unsaved[EM_RQ_NREASONS]; /* drops not yet added to the hash */
    long long sending[EM_RQ_NREASONS]; /* part of unsaved in the current pipeline */
    long long oom_need;                /* writes refused with -OOM in this chunk */
    long long trim_to;                 /* oom_relief(): target length, -1 none */
};

struct em_rqueue {
    redisContext *c; /* NULL while down */
    char *host;
    int port;
    char *unix_path;
    int db;
    char *user;
    char *password;
    char *agent;
    char *dropkey;
    struct pub *pubs;
    size_t npub;           /* all publishers, including discovered ones */
    size_t npush;          /* the first npush (those given to open) receive pushes */
    unsigned char *failed; /* npush * ITEM_CHUNK: XADD refused with -OOM */
    long max_messages;
    long max_age_s;
    long timeout_ms;
    int up;
    int reported_up;
    unsigned long attempts;
    unsigned long connects;
    long backoff_ms;
    int64_t next_try_ms;
    int64_t last_age_trim_ms;
    char errbuf[256];
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(long ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static void set_err(struct em_rqueue *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_err(struct em_rqueue *q, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q->errbuf, sizeof(q->errbuf), fmt, ap);
    va_end(ap);
}

static void open_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void open_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static char *strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *strfmt(const char *fmt, ...)
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
        open_err(err, errlen, "unix url needs an absolute path (unix:///PATH)");
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
            open_err(err, errlen, "unix url: only ?db=N is understood");
            errno = EINVAL;
            return -1;
        }
    }
    return 0;
}

static int parse_url(struct em_rqueue *q, const char *url, char *err, size_t errlen)
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
        open_err(err, errlen, "url must start with redis:// or unix://");
        errno = EINVAL;
        return -1;
    }
    s = url + 8;
    /* The db part holds digits only, so the last '@' ends the user info. */
    if ((at = strrchr(s, '@'))) {
        const char *colon = memchr(s, ':', (size_t)(at - s));

        if (!colon) {
            open_err(err, errlen, "url: user info must be [USER]:PASSWORD@");
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
    open_err(err, errlen, "url: bad %%-encoding in user info");
    errno = EINVAL;
    return -1;
bad:
    open_err(err, errlen, "url: expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]");
    errno = EINVAL;
    return -1;
}

static struct pub *find_pub(struct em_rqueue *q, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < q->npub; i++) {
        if (strlen(q->pubs[i].name) == len && memcmp(q->pubs[i].name, name, len) == 0) {
            return &q->pubs[i];
        }
    }
    return NULL;
}

static void pub_release(struct pub *p)
{
    int r;

    free(p->name);
    free(p->key);
    for (r = 0; r < EM_RQ_NREASONS; r++) {
        free(p->field[r]);
    }
    if (p->held) {
        freeReplyObject(p->held);
    }
}

static int add_pub(struct em_rqueue *q, const char *name, size_t len)
{
    struct pub *np, *p;
    int r;

    if (!(np = realloc(q->pubs, (q->npub + 1) * sizeof(*np)))) {
        return -1;
    }
    q->pubs = np;
    p = &np[q->npub];
    memset(p, 0, sizeof(*p));
    p->pel = 1;
    strcpy(p->cursor, "0");
    if (!(p->name = strndup(name, len))) {
        goto fail;
    }
    if (!(p->key = strfmt("edgemon:%s:q:%s", q->agent, p->name))) {
        goto fail;
    }
    for (r = 0; r < EM_RQ_NREASONS; r++) {
        if (!(p->field[r] = strfmt("%s:%s", p->name, reason_names[r]))) {
            goto fail;
        }
    }
    q->npub++;
    return 0;
fail:
    pub_release(p);
    errno = ENOMEM;
    return -1;
}

static void free_queue(struct em_rqueue *q)
{
    size_t i;

    if (q->c) {
        redisFree(q->c);
    }
    for (i = 0; i < q->npub; i++) {
        pub_release(&q->pubs[i]);
    }
    free(q->pubs);
    free(q->failed);
    free(q->host);
    free(q->unix_path);
    free(q->user);
    free(q->password);
    free(q->agent);
    free(q->dropkey);
    free(q);
}

struct em_rqueue *em_rqueue_open(const struct em_rqueue_conf *conf, char *err,
                                 size_t errlen)
{
    struct em_rqueue *q = NULL;
    size_t i, j;
    int e;

    if (!conf || !conf->agent || !*conf->agent || (conf->npub && !conf->publishers) ||
        conf->max_messages < 0 || conf->max_age_s < 0 || conf->timeout_ms < 0) {
        open_err(err, errlen, "queue: agent id missing or negative limit");
        errno = EINVAL;
        return NULL;
    }
    for (i = 0; i < conf->npub; i++) {
        if (!conf->publishers[i] || !*conf->publishers[i]) {
            open_err(err, errlen, "queue: publisher %zu has no name", i);
            errno = EINVAL;
            return NULL;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(conf->publishers[i], conf->publishers[j]) == 0) {
                open_err(err, errlen, "queue: publisher \"%s\" given twice",
                         conf->publishers[i]);
                errno = EINVAL;
                return NULL;
            }
        }
    }
    if (!(q = calloc(1, sizeof(*q)))) {
        goto nomem;
    }
    if (parse_url(q, conf->url, err, errlen) < 0) {
        if (errno == ENOMEM) {
            goto nomem;
        }
        goto fail;
    }
    if (conf->password) {
        free(q->password);
        if (!(q->password = strdup(conf->password))) {
            goto nomem;
        }
    }
    if (!(q->agent = strdup(conf->agent)) ||
        !(q->dropkey = strfmt("edgemon:%s:dropped", q->agent))) {
        goto nomem;
    }
    for (i = 0; i < conf->npub; i++) {
        if (add_pub(q, conf->publishers[i], strlen(conf->publishers[i])) < 0) {
            goto nomem;
        }
    }
    q->npush = q->npub;
    if (q->npush && !(q->failed = calloc(q->npush, ITEM_CHUNK))) {
        goto nomem;
    }
    q->max_messages = conf->max_messages;
    q->max_age_s = conf->max_age_s;
    q->timeout_ms = conf->timeout_ms ? conf->timeout_ms : DEFAULT_TIMEOUT_MS;
    q->reported_up = 1;
    return q;
nomem:
    open_err(err, errlen, "queue: out of memory");
    errno = ENOMEM;
fail:
    e = errno;
    if (q) {
        free_queue(q);
    }
    errno = e;
    return NULL;
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
static void drop_conn(struct em_rqueue *q, int err)
{
    if (q->c) {
        if (q->c->err) {
            set_err(q, "redis %s: %s", q->host ? q->host : q->unix_path, q->c->errstr);
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
    q->next_try_ms = mono_ms() + q->backoff_ms;
    errno = err;
}

static int is_err(const redisReply *r, const char *prefix)
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
static int reply_error(struct em_rqueue *q, const redisReply *r, const char *what)
{
    if (r->type != REDIS_REPLY_ERROR) {
        set_err(q, "%s: unexpected reply type %d", what, r->type);
        return EPROTO;
    }
    set_err(q, "%s: %.*s", what, (int)(r->len > 200 ? 200 : r->len), r->str);
    if (is_err(r, "LOADING") || is_err(r, "BUSY ") || is_err(r, "MASTERDOWN") ||
        is_err(r, "NOAUTH") || is_err(r, "READONLY")) {
        char keep[sizeof(q->errbuf)];

        memcpy(keep, q->errbuf, sizeof(keep));
        drop_conn(q, ENOTCONN);
        memcpy(q->errbuf, keep, sizeof(keep));
        return ENOTCONN;
    }
    return EIO;
}

static int vappend(struct em_rqueue *q, const char *fmt, va_list ap)
{
    if (redisvAppendCommand(q->c, fmt, ap) != REDIS_OK) {
        set_err(q, "redis: cannot queue a command (out of memory)");
        drop_conn(q, ENOMEM);
        return -1;
    }
    return 0;
}

static int append(struct em_rqueue *q, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vappend(q, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reads the next pipelined reply. A connection error closes the connection. */
static redisReply *next_reply(struct em_rqueue *q)
{
    void *r = NULL;

    if (!q->c) {
        errno = ENOTCONN;
        return NULL;
    }
    errno = 0;
    if (redisGetReply(q->c, &r) != REDIS_OK || !r) {
        drop_conn(q, ctx_errno(q->c, errno));
        return NULL;
    }
    return r;
}

/* One command and its reply: append() plus next_reply(). */
static redisReply *command(struct em_rqueue *q, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vappend(q, fmt, ap);
    va_end(ap);
    return rc < 0 ? NULL : next_reply(q);
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
    int64_t t0 = mono_ms();
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
        set_err(q, "redis %s: %s", q->host ? q->host : q->unix_path,
                c ? c->errstr : "out of memory");
        if (c) {
            redisFree(c);
        }
        drop_conn(q, e);
        return -1;
    }
    q->c = c;
    /* The daemon may spawn helpers; they must not inherit the Redis socket. */
    (void)fcntl(c->fd, F_SETFD, FD_CLOEXEC);
    if (!q->unix_path) {
        (void)redisEnableKeepAlive(c);
    }
    left = q->timeout_ms - (long)(mono_ms() - t0);
    if (left < 50) {
        left = 50;
    }
    if (redisSetTimeout(c, ms_tv(left)) != REDIS_OK) {
        drop_conn(q, ctx_errno(c, errno));
        return -1;
    }
    if (q->password) {
        if (q->user) {
            e = append(q, "AUTH %s %s", q->user, q->password);
        } else {
            e = append(q, "AUTH %s", q->password);
        }
        if (e < 0) {
            return -1;
        }
        n++;
    }
    if (q->db) {
        if (append(q, "SELECT %d", q->db) < 0) {
            return -1;
        }
        n++;
    }
    if (append(q, "PING") < 0) {
        return -1;
    }
    n++;
    e = 0;
    for (i = 0; i < n; i++) {
        if (!(r = next_reply(q))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR && !e) {
            e = (q->password && i == 0) ? EACCES : EIO;
            set_err(q, "redis handshake: %.*s", (int)(r->len > 200 ? 200 : r->len),
                    r->str);
        }
        freeReplyObject(r);
    }
    if (e) {
        char keep[sizeof(q->errbuf)];

        memcpy(keep, q->errbuf, sizeof(keep));
        drop_conn(q, e);
        memcpy(q->errbuf, keep, sizeof(keep));
        return -1;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        drop_conn(q, ctx_errno(c, errno));
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

static int ensure_conn(struct em_rqueue *q)
{
    if (q->c) {
        return 0;
    }
    if (mono_ms() < q->next_try_ms) {
        errno = ENOTCONN;
        return -1;
    }
    return try_connect(q);
}

static void count_drop(struct pub *p, enum em_rq_reason r, const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0) {
        p->unsaved[r] += rep->integer;
    }
}

/*
 * Queues HINCRBYs for drops not yet in the hash. Written in the same round trip
 * as the next push, so steady trimming costs no extra round trip. HINCRBY is
 * refused under -OOM; the counts then stay in unsaved and go out later.
 */
static int append_flush(struct em_rqueue *q, size_t *ncmd)
{
    size_t i;
    int r;

    *ncmd = 0;
    for (i = 0; i < q->npub; i++) {
        struct pub *p = &q->pubs[i];

        for (r = 0; r < EM_RQ_NREASONS; r++) {
            p->sending[r] = p->unsaved[r];
            if (p->sending[r] == 0) {
                continue;
            }
            if (append(q, "HINCRBY %s %s %lld", q->dropkey, p->field[r], p->sending[r]) <
                0) {
                return -1;
            }
            (*ncmd)++;
        }
    }
    return 0;
}

static int read_flush(struct em_rqueue *q, size_t ncmd)
{
    size_t i;
    int r, rc = 0;

    for (i = 0; i < q->npub && ncmd; i++) {
        struct pub *p = &q->pubs[i];

        for (r = 0; r < EM_RQ_NREASONS; r++) {
            redisReply *rep;

            if (p->sending[r] == 0) {
                continue;
            }
            if (rc == 0 && (rep = next_reply(q))) {
                if (rep->type == REDIS_REPLY_INTEGER) {
                    p->unsaved[r] -= p->sending[r];
                }
                freeReplyObject(rep);
            } else {
                rc = -1;
            }
            p->sending[r] = 0;
        }
    }
    return rc;
}

static int flush_drops(struct em_rqueue *q)
{
    size_t n;

    if (append_flush(q, &n) < 0) {
        return -1;
    }
    return n ? read_flush(q, n) : 0;
}

/* Stream ids are Redis's wall clock in ms; the queue runs next to its Redis. */
static unsigned long long age_cutoff(const struct em_rqueue *q)
{
    int64_t now, lim;

    if (q->max_age_s <= 0) {
        return 0;
    }
    now = wall_ms();
    lim = (int64_t)q->max_age_s * 1000;
    return now > lim ? (unsigned long long)(now - lim) : 0;
}

static int append_trims(struct em_rqueue *q, const struct pub *p, unsigned long long cut,
                        int with_max)
{
    if (cut && append(q, "XTRIM %s MINID = %llu", p->key, cut) < 0) {
        return -1;
    }
    if (with_max && q->max_messages > 0 &&
        append(q, "XTRIM %s MAXLEN = %ld", p->key, q->max_messages) < 0) {
        return -1;
    }
    return 0;
}

/* Reads the replies of append_trims(); returns 0, the errno of an error reply, or -1. */
static int read_trims(struct em_rqueue *q, struct pub *p, unsigned long long cut,
                      int with_max)
{
    redisReply *r;
    int perr = 0;

    if (cut) {
        if (!(r = next_reply(q))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_INTEGER) {
            count_drop(p, EM_RQ_DROP_MAX_AGE, r);
        } else {
            perr = reply_error(q, r, "XTRIM MINID");
        }
        freeReplyObject(r);
    }
    if (with_max && q->max_messages > 0) {
        if (!(r = next_reply(q))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_INTEGER) {
            count_drop(p, EM_RQ_DROP_MAX_MESSAGES, r);
        } else if (!perr) {
            perr = reply_error(q, r, "XTRIM MAXLEN");
        }
        freeReplyObject(r);
    }
    return perr;
}

/*
 * "Buffer full": Redis refused writes with -OOM (maxmemory, noeviction). Drops from
 * every pushed-to stream its oldest 1%, at least as many entries as were refused
 * for it, and at least OOM_MIN_FREE bytes' worth (sized by MEMORY USAGE): Redis's
 * used_memory moves by tens of KB with client buffers alone, so 1% of a small
 * buffer would not make room for the retry. Returns how many were dropped, or -1.
 */
static long long oom_relief(struct em_rqueue *q)
{
    long long total = 0, len, bytes;
    size_t i;
    redisReply *r, *u;

    for (i = 0; i < q->npush; i++) {
        if (append(q, "XLEN %s", q->pubs[i].key) < 0 ||
            append(q, "MEMORY USAGE %s", q->pubs[i].key) < 0) {
            return -1;
        }
    }
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        if (!(r = next_reply(q))) {
            return -1;
        }
        if (!(u = next_reply(q))) {
            freeReplyObject(r);
            return -1;
        }
        len = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        bytes = u->type == REDIS_REPLY_INTEGER ? u->integer : 0;
        freeReplyObject(r);
        freeReplyObject(u);
        p->trim_to = -1;
        if (len > 0) {
            long long drop = len / 100, avg = bytes / len;

            if (avg > 0 && drop < (OOM_MIN_FREE + avg - 1) / avg) {
                drop = (OOM_MIN_FREE + avg - 1) / avg;
            }
            if (drop < p->oom_need) {
                drop = p->oom_need;
            }
            if (drop < 1) {
                drop = 1;
            }
            if (drop > len) {
                drop = len;
            }
            p->trim_to = len - drop;
            total += drop;
        }
    }
    if (total == 0) {
        return 0;
    }
    for (i = 0; i < q->npush; i++) {
        if (q->pubs[i].trim_to >= 0 &&
            append(q, "XTRIM %s MAXLEN = %lld", q->pubs[i].key, q->pubs[i].trim_to) < 0) {
            return -1;
        }
    }
    total = 0;
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        if (p->trim_to < 0) {
            continue;
        }
        if (!(r = next_reply(q))) {
            return -1;
        }
        count_drop(p, EM_RQ_DROP_REDIS_OOM, r);
        if (r->type == REDIS_REPLY_INTEGER) {
            total += r->integer;
        }
        freeReplyObject(r);
    }
    return total;
}

static int append_xadd(struct em_rqueue *q, const struct pub *p,
                       const struct em_rq_item *it)
{
    return append(q, "XADD %s * m %b ts %lld", p->key, it->data ? it->data : "", it->len,
                  (long long)it->ts_ms);
}

/* Frees writes refused with -OOM, retries them once. */
static int oom_retry(struct em_rqueue *q, const struct em_rq_item *it, size_t k)
{
    size_t i, j, still = 0;
    long long dropped;
    redisReply *r;
    int perr = 0, rc;

    if ((dropped = oom_relief(q)) < 0) {
        return -1;
    }
    if (dropped == 0) {
        set_err(q, "redis out of memory (maxmemory) with nothing left to drop");
        errno = ENOSPC;
        return -1;
    }
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        for (j = 0; j < k && p->oom_need; j++) {
            if (q->failed[i * ITEM_CHUNK + j] && append_xadd(q, p, &it[j]) < 0) {
                return -1;
            }
        }
        if (p->oom_need && append_trims(q, p, 0, 1) < 0) {
            return -1;
        }
    }
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        for (j = 0; j < k && p->oom_need; j++) {
            if (!q->failed[i * ITEM_CHUNK + j]) {
                continue;
            }
            if (!(r = next_reply(q))) {
                return -1;
            }
            if (is_err(r, "OOM")) {
                still++;
            } else if (r->type == REDIS_REPLY_ERROR && !perr) {
                perr = reply_error(q, r, "XADD");
            }
            freeReplyObject(r);
        }
        if (p->oom_need && (rc = read_trims(q, p, 0, 1)) != 0) {
            if (rc < 0) {
                return -1;
            }
            perr = perr ? perr : rc;
        }
    }
    if (perr) {
        errno = perr;
        return -1;
    }
    if (still) {
        set_err(q,
                "redis out of memory (maxmemory): %zu writes refused after dropping "
                "the oldest %lld",
                still, dropped);
        errno = ENOSPC;
        return -1;
    }
    return 0;
}

/*
 * One round trip: pending drop counters, k XADDs per publisher, then the age and
 * length trims. Trimming after the XADDs keeps the count exact: XTRIM answers how
 * many entries it removed.
 */
static int push_chunk(struct em_rqueue *q, const struct em_rq_item *it, size_t k)
{
    unsigned long long cut = age_cutoff(q);
    size_t nflush, i, j, noom = 0;
    redisReply *r;
    int perr = 0, rc;

    if (append_flush(q, &nflush) < 0) {
        return -1;
    }
    for (i = 0; i < q->npush; i++) {
        for (j = 0; j < k; j++) {
            if (append_xadd(q, &q->pubs[i], &it[j]) < 0) {
                return -1;
            }
        }
    }
    for (i = 0; i < q->npush; i++) {
        if (append_trims(q, &q->pubs[i], cut, 1) < 0) {
            return -1;
        }
    }
    if (read_flush(q, nflush) < 0) {
        return -1;
    }
    for (i = 0; i < q->npush; i++) {
        struct pub *p = &q->pubs[i];

        p->oom_need = 0;
        for (j = 0; j < k; j++) {
            if (!(r = next_reply(q))) {
                return -1;
            }
            q->failed[i * ITEM_CHUNK + j] = 0;
            if (is_err(r, "OOM")) {
                q->failed[i * ITEM_CHUNK + j] = 1;
                p->oom_need++;
                noom++;
            } else if (r->type == REDIS_REPLY_ERROR && !perr) {
                perr = reply_error(q, r, "XADD");
            }
            freeReplyObject(r);
        }
    }
    for (i = 0; i < q->npush; i++) {
        if ((rc = read_trims(q, &q->pubs[i], cut, 1)) != 0) {
            if (rc < 0) {
                return -1;
            }
            perr = perr ? perr : rc;
        }
    }
    if (cut) {
        q->last_age_trim_ms = mono_ms();
    }
    if (perr) {
        errno = perr;
        return -1;
    }
    return noom ? oom_retry(q, it, k) : 0;
}

int em_rqueue_push(struct em_rqueue *q, const struct em_rq_item *items, size_t n)
{
    size_t off, k;

    if (!q || (n && !items)) {
        errno = EINVAL;
        return -1;
    }
    if (n == 0 || q->npush == 0) {
        return 0;
    }
    if (ensure_conn(q) < 0) {
        return -1;
    }
    for (off = 0; off < n; off += k) {
        k = n - off < ITEM_CHUNK ? n - off : ITEM_CHUNK;
        if (push_chunk(q, items + off, k) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * Creates the publisher's group at id 0, so entries pushed before it existed are
 * delivered too. XGROUP CREATE is refused under -OOM: free room and retry once,
 * else a full Redis could never be drained. Returns 1 when the group exists, 0
 * when there is no stream to read yet, -1 on error.
 */
static int make_group(struct em_rqueue *q, struct pub *p)
{
    redisReply *r;
    int attempt, e;

    for (attempt = 0; attempt < 2; attempt++) {
        if (!(r = command(q, "XGROUP CREATE %s %s 0 MKSTREAM", p->key, p->name))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_STATUS || is_err(r, "BUSYGROUP")) {
            freeReplyObject(r);
            p->group_ok = 1;
            return 1;
        }
        if (is_err(r, "OOM") && attempt == 0) {
            long long len;
            size_t i;

            freeReplyObject(r);
            if (!(r = command(q, "XLEN %s", p->key))) {
                return -1;
            }
            len = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
            freeReplyObject(r);
            if (len == 0) {
                return 0;
            }
            for (i = 0; i < q->npush; i++) {
                q->pubs[i].oom_need = 0;
            }
            if (oom_relief(q) < 0) {
                return -1;
            }
            continue;
        }
        e = is_err(r, "OOM") ? ENOSPC : reply_error(q, r, "XGROUP CREATE");
        if (e == ENOSPC) {
            set_err(q, "XGROUP CREATE: redis out of memory (maxmemory)");
        }
        freeReplyObject(r);
        errno = e;
        return -1;
    }
    errno = ENOSPC;
    return -1;
}

static int parse_id(const char *s, uint64_t *ms, uint64_t *seq)
{
    char *end;

    errno = 0;
    *ms = strtoull(s, &end, 10);
    if (end == s || *end != '-' || errno) {
        return -1;
    }
    s = end + 1;
    *seq = strtoull(s, &end, 10);
    if (end == s || *end || errno) {
        return -1;
    }
    return 0;
}

/* Pipelines XACK + XDEL for up to ACK_CHUNK ids (argv strings). */
static int append_ack(struct em_rqueue *q, const struct pub *p, const char **ids,
                      const size_t *lens, size_t n)
{
    const char *argv[ACK_CHUNK + 3];
    size_t alen[ACK_CHUNK + 3];
    size_t i;

    argv[0] = "XACK";
    alen[0] = 4;
    argv[1] = p->key;
    alen[1] = strlen(p->key);
    argv[2] = p->name;
    alen[2] = strlen(p->name);
    for (i = 0; i < n; i++) {
        argv[3 + i] = ids[i];
        alen[3 + i] = lens[i];
    }
    if (redisAppendCommandArgv(q->c, (int)(n + 3), argv, alen) != REDIS_OK) {
        goto nomem;
    }
    /* XDEL takes the same ids after the key: shift the argv by one. */
    argv[1] = "XDEL";
    alen[1] = 4;
    argv[2] = p->key;
    alen[2] = strlen(p->key);
    if (redisAppendCommandArgv(q->c, (int)(n + 2), argv + 1, alen + 1) != REDIS_OK) {
        goto nomem;
    }
    return 0;
nomem:
    set_err(q, "redis: cannot queue a command (out of memory)");
    drop_conn(q, ENOMEM);
    return -1;
}

/* Reads the nack XACK/XDEL pairs; NOGROUP on XACK is fine (XDEL still deletes). */
static int read_acks(struct em_rqueue *q, size_t nack)
{
    redisReply *r;
    size_t i;
    int perr = 0;

    for (i = 0; i < nack * 2; i++) {
        if (!(r = next_reply(q))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR && !is_err(r, "NOGROUP") && !perr) {
            perr = reply_error(q, r, i % 2 ? "XDEL" : "XACK");
        }
        freeReplyObject(r);
    }
    if (perr) {
        errno = perr;
        return -1;
    }
    return 0;
}

/*
 * Parses an XREADGROUP reply into out. Entries whose fields are nil were trimmed
 * while pending (already counted as dropped); their ids are acked here so they
 * leave the PEL. *nseen counts all entries including those, *last their last id.
 */
static int parse_read(struct em_rqueue *q, struct pub *p, const redisReply *r,
                      struct em_rq_entry *out, size_t max, size_t *nseen,
                      const char **last)
{
    const redisReply *ents;
    const char *gone[ACK_CHUNK];
    size_t gonelen[ACK_CHUNK], ngone = 0, nack = 0, i, j, n = 0;

    *nseen = 0;
    *last = NULL;
    if (r->type == REDIS_REPLY_NIL) {
        return 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
        r->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
        goto proto;
    }
    ents = r->element[0]->element[1];
    for (i = 0; i < ents->elements; i++) {
        const redisReply *e = ents->element[i], *f;
        struct em_rq_entry *o;

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING) {
            goto proto;
        }
        *last = e->element[0]->str;
        (*nseen)++;
        f = e->element[1];
        if (f->type != REDIS_REPLY_ARRAY) {
            if (ngone == ACK_CHUNK) {
                if (append_ack(q, p, gone, gonelen, ngone) < 0) {
                    return -1;
                }
                nack++;
                ngone = 0;
            }
            gone[ngone] = e->element[0]->str;
            gonelen[ngone++] = e->element[0]->len;
            continue;
        }
        if (n == max) {
            goto proto;
        }
        o = &out[n];
        memset(o, 0, sizeof(*o));
        if (parse_id(e->element[0]->str, &o->id_ms, &o->id_seq) < 0) {
            goto proto;
        }
        o->data = "";
        for (j = 0; j + 1 < f->elements; j += 2) {
            const redisReply *k = f->element[j], *v = f->element[j + 1];

            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
                continue;
            }
            if (k->len == 1 && k->str[0] == 'm') {
                o->data = v->str;
                o->len = v->len;
            } else if (k->len == 2 && memcmp(k->str, "ts", 2) == 0) {
                o->ts_ms = strtoll(v->str, NULL, 10);
            }
        }
        n++;
    }
    if (ngone) {
        if (append_ack(q, p, gone, gonelen, ngone) < 0) {
            return -1;
        }
        nack++;
    }
    if (nack && read_acks(q, nack) < 0) {
        return -1;
    }
    return (int)n;
proto:
    set_err(q, "XREADGROUP: unexpected reply shape");
    if (nack) {
        (void)read_acks(q, nack);
    }
    errno = EPROTO;
    return -1;
}

int em_rqueue_read(struct em_rqueue *q, size_t pub, struct em_rq_entry *out, size_t max)
{
    struct pub *p;
    redisReply *r;
    int regroup = 0, n, e;

    if (!q || pub >= q->npub || (max && !out)) {
        errno = EINVAL;
        return -1;
    }
    p = &q->pubs[pub];
    if (p->held) {
        freeReplyObject(p->held);
        p->held = NULL;
    }
    if (max == 0) {
        return 0;
    }
    if (max > INT_MAX) {
        max = INT_MAX;
    }
    if (ensure_conn(q) < 0) {
        return -1;
    }
    /*
     * Bounded: the group is recreated at most twice and the PEL pass ends once;
     * every other turn moves the PEL cursor past entries that were trimmed.
     */
    for (;;) {
        size_t nseen;
        const char *last;

        if (!p->group_ok && (e = make_group(q, p)) <= 0) {
            return e;
        }
        r = command(q, "XREADGROUP GROUP %s %s COUNT %llu STREAMS %s %s", p->name,
                    q->agent, (unsigned long long)max, p->key, p->pel ? p->cursor : ">");
        if (!r) {
            return -1;
        }
        if (is_err(r, "NOGROUP") && ++regroup <= 2) {
            /* The key or group vanished (FLUSHALL, a Redis without AOF restarted). */
            freeReplyObject(r);
            p->group_ok = 0;
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            e = reply_error(q, r, "XREADGROUP");
            freeReplyObject(r);
            errno = e;
            return -1;
        }
        if ((n = parse_read(q, p, r, out, max, &nseen, &last)) < 0) {
            freeReplyObject(r);
            return -1;
        }
        if (p->pel) {
            if (nseen == 0) {
                p->pel = 0; /* the PEL is drained: on to new entries */
                freeReplyObject(r);
                continue;
            }
            snprintf(p->cursor, sizeof(p->cursor), "%s", last);
        }
        if (n == 0) {
            freeReplyObject(r);
            if (p->pel) {
                continue; /* only trimmed entries so far: read on */
            }
            return 0;
        }
        p->held = r;
        return n;
    }
}

int em_rqueue_ack(struct em_rqueue *q, size_t pub, const struct em_rq_entry *e, size_t n)
{
    char idbuf[ACK_CHUNK][ID_LEN];
    const char *ids[ACK_CHUNK];
    size_t lens[ACK_CHUNK];
    size_t off, k, i, nack = 0;
    struct pub *p;

    if (!q || pub >= q->npub || (n && !e)) {
        errno = EINVAL;
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    if (ensure_conn(q) < 0) {
        return -1;
    }
    p = &q->pubs[pub];
    /* All chunks go out before the first reply is read: one round trip. */
    for (off = 0; off < n; off += k) {
        k = n - off < ACK_CHUNK ? n - off : ACK_CHUNK;
        for (i = 0; i < k; i++) {
            int len = snprintf(idbuf[i], ID_LEN, "%llu-%llu",
                               (unsigned long long)e[off + i].id_ms,
                               (unsigned long long)e[off + i].id_seq);

            ids[i] = idbuf[i];
            lens[i] = (size_t)len;
        }
        if (append_ack(q, p, ids, lens, k) < 0) {
            return -1;
        }
        nack++;
    }
    return read_acks(q, nack);
}

int em_rqueue_rewind(struct em_rqueue *q, size_t pub)
{
    if (!q || pub >= q->npub) {
        errno = EINVAL;
        return -1;
    }
    q->pubs[pub].pel = 1;
    strcpy(q->pubs[pub].cursor, "0");
    return 0;
}

int em_rqueue_up(const struct em_rqueue *q)
{
    return q && q->up;
}

/* Applies max_age_s to every stream: nothing else trims a stream nobody pushes to. */
static int trim_age_all(struct em_rqueue *q)
{
    unsigned long long cut = age_cutoff(q);
    size_t i;
    int rc;

    if (!cut) {
        return 0;
    }
    for (i = 0; i < q->npush; i++) {
        if (append_trims(q, &q->pubs[i], cut, 0) < 0) {
            return -1;
        }
    }
    q->last_age_trim_ms = mono_ms();
    for (i = 0; i < q->npush; i++) {
        if ((rc = read_trims(q, &q->pubs[i], cut, 0)) < 0) {
            return -1;
        }
    }
    return 0;
}

enum em_rq_event em_rqueue_service(struct em_rqueue *q)
{
    enum em_rq_event ev = EM_RQ_EV_NONE;

    if (!q) {
        return ev;
    }
    if (q->c || ensure_conn(q) == 0) {
        if (q->max_age_s > 0 && mono_ms() - q->last_age_trim_ms >= AGE_TRIM_EVERY_MS) {
            (void)trim_age_all(q);
        }
        if (q->c) {
            (void)flush_drops(q);
        }
    }
    if (q->up != q->reported_up) {
        ev = q->up ? EM_RQ_EV_UP : EM_RQ_EV_DOWN;
        q->reported_up = q->up;
    }
    return ev;
}

void em_rqueue_conn(const struct em_rqueue *q, struct em_rq_conn *ci)
{
    int64_t left;

    memset(ci, 0, sizeof(*ci));
    ci->last_error = "";
    if (!q) {
        return;
    }
    ci->up = q->up;
    ci->attempts = q->attempts;
    ci->connects = q->connects;
    ci->backoff_ms = q->backoff_ms;
    left = q->c ? 0 : q->next_try_ms - mono_ms();
    ci->retry_in_ms = left > 0 ? (long)left : 0;
    ci->last_error = q->errbuf;
}

static long long reply_ll(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER) {
        return r->integer;
    }
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
        return strtoll(r->str, NULL, 10);
    }
    return 0;
}

int em_rqueue_stats(struct em_rqueue *q, size_t pub, struct em_rq_stats *st)
{
    redisReply *rep[5] = {NULL, NULL, NULL, NULL, NULL};
    size_t nflush, i;
    struct pub *p;
    long long now_ms;
    int r, rc = -1;

    if (st) {
        memset(st, 0, sizeof(*st));
        st->pending = -1;
    }
    if (!q || pub >= q->npub || !st) {
        errno = EINVAL;
        return -1;
    }
    p = &q->pubs[pub];
    if (ensure_conn(q) < 0 || append_flush(q, &nflush) < 0) {
        return -1;
    }
    /* TIME: ages are measured on the clock that made the ids. */
    if (append(q, "TIME") < 0 || append(q, "XLEN %s", p->key) < 0 ||
        append(q, "XRANGE %s - + COUNT 1", p->key) < 0 ||
        append(q, "XPENDING %s %s", p->key, p->name) < 0 ||
        append(q, "HMGET %s %s %s %s", q->dropkey, p->field[0], p->field[1],
               p->field[2]) < 0) {
        return -1;
    }
    if (read_flush(q, nflush) < 0) {
        return -1;
    }
    for (i = 0; i < 5; i++) {
        if (!(rep[i] = next_reply(q))) {
            goto out;
        }
    }
    if (rep[0]->type != REDIS_REPLY_ARRAY || rep[0]->elements != 2 ||
        rep[1]->type != REDIS_REPLY_INTEGER || rep[2]->type != REDIS_REPLY_ARRAY ||
        rep[4]->type != REDIS_REPLY_ARRAY || rep[4]->elements != EM_RQ_NREASONS) {
        for (i = 0; i < 5; i++) {
            if (rep[i]->type == REDIS_REPLY_ERROR) {
                errno = reply_error(q, rep[i], "stats");
                goto out;
            }
        }
        set_err(q, "stats: unexpected reply shape");
        errno = EPROTO;
        goto out;
    }
    now_ms = reply_ll(rep[0]->element[0]) * 1000 + reply_ll(rep[0]->element[1]) / 1000;
    st->pending = rep[1]->integer;
    if (rep[2]->elements > 0 && rep[2]->element[0]->type == REDIS_REPLY_ARRAY &&
        rep[2]->element[0]->elements > 0 &&
        rep[2]->element[0]->element[0]->type == REDIS_REPLY_STRING) {
        uint64_t ms, seq;

        if (parse_id(rep[2]->element[0]->element[0]->str, &ms, &seq) == 0 &&
            (long long)ms < now_ms) {
            st->oldest_age_s = (now_ms - (long long)ms) / 1000;
        }
    }
    /* XPENDING also counts trimmed ids still in the PEL; those are not pending. */
    if (rep[3]->type == REDIS_REPLY_ARRAY && rep[3]->elements > 0) {
        st->inflight = reply_ll(rep[3]->element[0]);
        if (st->inflight > st->pending) {
            st->inflight = st->pending;
        }
    }
    for (r = 0; r < EM_RQ_NREASONS; r++) {
        st->dropped[r] = reply_ll(rep[4]->element[r]) + p->unsaved[r];
    }
    rc = 0;
out:
    for (i = 0; i < 5; i++) {
        if (rep[i]) {
            freeReplyObject(rep[i]);
        }
    }
    if (rc < 0) {
        int e = errno;

        memset(st, 0, sizeof(*st));
        st->pending = -1;
        errno = e;
    }
    return rc;
}

/* Escapes glob characters so that names are matched literally by SCAN MATCH. */
static char *glob_escape(const char *s)
{
    char *out = malloc(strlen(s) * 2 + 1), *o = out;

    if (!out) {
        return NULL;
    }
    for (; *s; s++) {
        if (strchr("*?[]\\", *s)) {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

static int cmp_pub(const void *a, const void *b)
{
    return strcmp(((const struct pub *)a)->name, ((const struct pub *)b)->name);
}

int em_rqueue_discover(struct em_rqueue *q)
{
    char *esc = NULL, *prefix = NULL, cursor[32] = "0";
    size_t plen, first, i;
    redisReply *r = NULL;
    int rc = -1;

    if (!q) {
        errno = EINVAL;
        return -1;
    }
    if (ensure_conn(q) < 0) {
        return -1;
    }
    first = q->npub;
    if (!(esc = glob_escape(q->agent)) || !(prefix = strfmt("edgemon:%s:q:", q->agent))) {
        errno = ENOMEM;
        goto out;
    }
    plen = strlen(prefix);
    do {
        r = command(q, "SCAN %s MATCH edgemon:%s:q:* COUNT 1000 TYPE stream", cursor,
                    esc);
        if (!r) {
            goto out;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            errno = r->type == REDIS_REPLY_ERROR ? reply_error(q, r, "SCAN") : EPROTO;
            goto out;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (i = 0; i < r->element[1]->elements; i++) {
            const redisReply *k = r->element[1]->element[i];

            if (k->type == REDIS_REPLY_STRING && k->len > plen &&
                memcmp(k->str, prefix, plen) == 0 &&
                !find_pub(q, k->str + plen, k->len - plen) &&
                add_pub(q, k->str + plen, k->len - plen) < 0) {
                goto out;
            }
        }
        freeReplyObject(r);
        r = NULL;
    } while (strcmp(cursor, "0") != 0);
    /* Publishers whose stream is gone may still have drop counts worth showing. */
    if (!(r = command(q, "HKEYS %s", q->dropkey))) {
        goto out;
    }
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *f = r->element[i];
        const char *colon;

        int known = 0, k;

        if (f->type != REDIS_REPLY_STRING || !(colon = strrchr(f->str, ':')) ||
            colon == f->str) {
            continue;
        }
        for (k = 0; k < EM_RQ_NREASONS; k++) {
            known |= strcmp(colon + 1, reason_names[k]) == 0;
        }
        if (!known) {
            continue;
        }
        if (!find_pub(q, f->str, (size_t)(colon - f->str)) &&
            add_pub(q, f->str, (size_t)(colon - f->str)) < 0) {
            goto out;
        }
    }
    if (q->npub - first > 1) {
        qsort(q->pubs + first, q->npub - first, sizeof(*q->pubs), cmp_pub);
    }
    rc = (int)q->npub;
out:
    if (r) {
        freeReplyObject(r);
    }
    free(esc);
    free(prefix);
    return rc;
}

size_t em_rqueue_npub(const struct em_rqueue *q)
{
    return q ? q->npub : 0;
}

const char *em_rqueue_pub_name(const struct em_rqueue *q, size_t pub)
{
    return q && pub < q->npub ? q->pubs[pub].name : NULL;
}

const char *em_rqueue_reason_name(enum em_rq_reason r)
{
    return (unsigned)r < EM_RQ_NREASONS ? reason_names[r] : "?";
}

void em_rqueue_close(struct em_rqueue *q)
{
    if (!q) {
        return;
    }
    if (q->c) {
        (void)flush_drops(q);
    }
    free_queue(q);
}
