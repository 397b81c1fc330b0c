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

#include "rqueue_int.h"

/* em_rqueue_stats() asks for the counters with one HMGET of three fields. */
_Static_assert(EM_RQ_NREASONS == 3, "update the HMGET in em_rqueue_stats()");

static const char *const reason_names[EM_RQ_NREASONS] = {"max_messages", "max_age",
                                                         "redis_oom"};

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
    if (!(p->key = rq_strfmt("edgemon:%s:q:%s", q->agent, p->name))) {
        goto fail;
    }
    for (r = 0; r < EM_RQ_NREASONS; r++) {
        if (!(p->field[r] = rq_strfmt("%s:%s", p->name, reason_names[r]))) {
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
        rq_open_err(err, errlen, "queue: agent id missing or negative limit");
        errno = EINVAL;
        return NULL;
    }
    for (i = 0; i < conf->npub; i++) {
        if (!conf->publishers[i] || !*conf->publishers[i]) {
            rq_open_err(err, errlen, "queue: publisher %zu has no name", i);
            errno = EINVAL;
            return NULL;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(conf->publishers[i], conf->publishers[j]) == 0) {
                rq_open_err(err, errlen, "queue: publisher \"%s\" given twice",
                            conf->publishers[i]);
                errno = EINVAL;
                return NULL;
            }
        }
    }
    if (!(q = calloc(1, sizeof(*q)))) {
        goto nomem;
    }
    if (rq_parse_url(q, conf->url, err, errlen) < 0) {
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
        !(q->dropkey = rq_strfmt("edgemon:%s:dropped", q->agent))) {
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
    rq_open_err(err, errlen, "queue: out of memory");
    errno = ENOMEM;
fail:
    e = errno;
    if (q) {
        free_queue(q);
    }
    errno = e;
    return NULL;
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
        if (!(r = rq_command(q, "XGROUP CREATE %s %s 0 MKSTREAM", p->key, p->name))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_STATUS || rq_is_err(r, "BUSYGROUP")) {
            freeReplyObject(r);
            p->group_ok = 1;
            return 1;
        }
        if (rq_is_err(r, "OOM") && attempt == 0) {
            long long len;
            size_t i;

            freeReplyObject(r);
            if (!(r = rq_command(q, "XLEN %s", p->key))) {
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
            if (rq_oom_relief(q) < 0) {
                return -1;
            }
            continue;
        }
        e = rq_is_err(r, "OOM") ? ENOSPC : rq_reply_error(q, r, "XGROUP CREATE");
        if (e == ENOSPC) {
            rq_set_err(q, "XGROUP CREATE: redis out of memory (maxmemory)");
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
    rq_set_err(q, "redis: cannot queue a rq_command (out of memory)");
    rq_drop_conn(q, ENOMEM);
    return -1;
}

/* Reads the nack XACK/XDEL pairs; NOGROUP on XACK is fine (XDEL still deletes). */
static int read_acks(struct em_rqueue *q, size_t nack)
{
    redisReply *r;
    size_t i;
    int perr = 0;

    for (i = 0; i < nack * 2; i++) {
        if (!(r = rq_next_reply(q))) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR && !rq_is_err(r, "NOGROUP") && !perr) {
            perr = rq_reply_error(q, r, i % 2 ? "XDEL" : "XACK");
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
    rq_set_err(q, "XREADGROUP: unexpected reply shape");
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
    p->caught_up = 0;
    if (max == 0) {
        return 0;
    }
    if (max > INT_MAX) {
        max = INT_MAX;
    }
    if (rq_ensure_conn(q) < 0) {
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
        r = rq_command(q, "XREADGROUP GROUP %s %s COUNT %llu STREAMS %s %s", p->name,
                       q->agent, (unsigned long long)max, p->key,
                       p->pel ? p->cursor : ">");
        if (!r) {
            return -1;
        }
        if (rq_is_err(r, "NOGROUP") && ++regroup <= 2) {
            /* The key or group vanished (FLUSHALL, a Redis without AOF restarted). */
            freeReplyObject(r);
            p->group_ok = 0;
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            e = rq_reply_error(q, r, "XREADGROUP");
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
        p->caught_up = !p->pel && (size_t)n < max;
        return n;
    }
}

int em_rqueue_caught_up(const struct em_rqueue *q, size_t pub)
{
    return q && pub < q->npub && q->pubs[pub].caught_up;
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
    if (rq_ensure_conn(q) < 0) {
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

enum em_rq_event em_rqueue_service(struct em_rqueue *q)
{
    enum em_rq_event ev = EM_RQ_EV_NONE;

    if (!q) {
        return ev;
    }
    if (q->c || rq_ensure_conn(q) == 0) {
        if (q->max_age_s > 0 && em_mono_ms() - q->last_age_trim_ms >= AGE_TRIM_EVERY_MS) {
            (void)rq_trim_age_all(q);
        }
        if (q->c) {
            (void)rq_flush_drops(q);
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
    left = q->c ? 0 : q->next_try_ms - em_mono_ms();
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
    if (rq_ensure_conn(q) < 0 || rq_append_flush(q, &nflush) < 0) {
        return -1;
    }
    /* TIME: ages are measured on the clock that made the ids. */
    if (rq_append(q, "TIME") < 0 || rq_append(q, "XLEN %s", p->key) < 0 ||
        rq_append(q, "XRANGE %s - + COUNT 1", p->key) < 0 ||
        rq_append(q, "XPENDING %s %s", p->key, p->name) < 0 ||
        rq_append(q, "HMGET %s %s %s %s", q->dropkey, p->field[0], p->field[1],
                  p->field[2]) < 0) {
        return -1;
    }
    if (rq_read_flush(q, nflush) < 0) {
        return -1;
    }
    for (i = 0; i < 5; i++) {
        if (!(rep[i] = rq_next_reply(q))) {
            goto out;
        }
    }
    if (rep[0]->type != REDIS_REPLY_ARRAY || rep[0]->elements != 2 ||
        rep[1]->type != REDIS_REPLY_INTEGER || rep[2]->type != REDIS_REPLY_ARRAY ||
        rep[4]->type != REDIS_REPLY_ARRAY || rep[4]->elements != EM_RQ_NREASONS) {
        for (i = 0; i < 5; i++) {
            if (rep[i]->type == REDIS_REPLY_ERROR) {
                errno = rq_reply_error(q, rep[i], "stats");
                goto out;
            }
        }
        rq_set_err(q, "stats: unexpected reply shape");
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
    if (rq_ensure_conn(q) < 0) {
        return -1;
    }
    first = q->npub;
    if (!(esc = glob_escape(q->agent)) ||
        !(prefix = rq_strfmt("edgemon:%s:q:", q->agent))) {
        errno = ENOMEM;
        goto out;
    }
    plen = strlen(prefix);
    do {
        r = rq_command(q, "SCAN %s MATCH edgemon:%s:q:* COUNT 1000 TYPE stream", cursor,
                       esc);
        if (!r) {
            goto out;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            errno = r->type == REDIS_REPLY_ERROR ? rq_reply_error(q, r, "SCAN") : EPROTO;
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
    if (!(r = rq_command(q, "HKEYS %s", q->dropkey))) {
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
        (void)rq_flush_drops(q);
    }
    free_queue(q);
}
