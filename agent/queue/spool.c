/* spool.c - durable, bounded, multi-consumer FIFO of opaque records in segment files.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Frame layout (little-endian, 32-byte header then the payload):
 *   0  u32 magic    REC_MAGIC for a record, SEAL_MAGIC for the trailer of a full segment
 *   4  u32 len      payload bytes
 *   8  u64 id       record id (for a seal: the segment's last id)
 *   16 i64 ts_ms    caller's timestamp (for a seal: the segment's newest timestamp)
 *   24 u32 flags    0, reserved
 *   28 u32 crc      CRC-32 (IEEE, reflected) of bytes 0..27 and the payload
 * A seal's payload is u64 count, u64 first id, u64 last id, i64 newest timestamp.
 * The magic lets a reader find the next frame after a corrupt one.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "spool_int.h"

static const char *const drop_names[EM_SPOOL_DROP_NREASONS] = {"max_bytes",
                                                               "max_messages", "max_age"};


static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Pick or create the active segment once the existing ones are scanned. */
static int open_active(struct em_spool *s)
{
    char name[NAME_LEN];
    struct seg *g;

    if (s->nsegs == 0) {
        return sp_new_seg(s);
    }
    g = &s->segs[s->nsegs - 1];
    if (g->count == 0) {
        if (g->base != s->next_id || g->sealed) {
            if (sp_forget_seg(s, s->nsegs - 1) < 0) {
                return -1;
            }
            return sp_new_seg(s);
        }
    } else if (g->sealed) {
        return sp_new_seg(s);
    }
    sp_seg_name(name, g->base);
    s->wfd = openat(s->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (s->wfd < 0) {
        return -1;
    }
    /* Ids jumped over a crash's reservation: keep each segment's ids contiguous. */
    if (g->count && g->last + 1 != s->next_id) {
        return sp_roll(s);
    }
    return 0;
}

/*
 * Take the write lock, retrying for up to wait_ms while another process holds
 * it. Polling, because F_SETLKW has no timeout. -1 with errno EAGAIN when it
 * stays held.
 */
static int lock_within(int fd, struct flock *fl, uint32_t wait_ms)
{
    int64_t until = em_mono_ms() + wait_ms;

    for (;;) {
        if (fcntl(fd, F_SETLK, fl) == 0) {
            return 0;
        }
        if (errno != EAGAIN && errno != EACCES) {
            return -1;
        }
        if (em_mono_ms() >= until) {
            errno = EAGAIN;
            return -1;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

struct em_spool *em_spool_open(const char *dir, const struct em_spool_limits *lim,
                               const char *const *consumers, size_t nconsumers, char *err,
                               size_t errlen)
{
    struct em_spool *s = NULL;
    struct flock fl;
    uint64_t reserve = 0;
    int *found = NULL;
    int loaded, e;
    size_t i, j;

    if (!dir || (nconsumers && !consumers)) {
        seterr(err, errlen, "spool: missing directory or consumers");
        errno = EINVAL;
        return NULL;
    }
    for (i = 0; i < nconsumers; i++) {
        if (!consumers[i] || !sp_name_ok(consumers[i])) {
            seterr(err, errlen, "spool: bad consumer name '%s'",
                   consumers[i] ? consumers[i] : "(null)");
            errno = EINVAL;
            return NULL;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(consumers[i], consumers[j]) == 0) {
                seterr(err, errlen, "spool: consumer '%s' named twice", consumers[i]);
                errno = EINVAL;
                return NULL;
            }
        }
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        goto oom;
    }
    s->dirfd = s->lockfd = s->wfd = -1;
    if (lim) {
        s->lim = *lim;
    }
    if (!s->lim.max_bytes) {
        s->lim.max_bytes = DEF_MAX_BYTES;
    }
    if (!s->lim.segment_bytes) {
        s->lim.segment_bytes = DEF_SEG_BYTES;
    }
    if (!s->lim.sync_every) {
        s->lim.sync_every = DEF_SYNC_EVERY;
    }
    if (!s->lim.sync_ms) {
        s->lim.sync_ms = DEF_SYNC_MS;
    }
    if (s->lim.max_bytes < MIN_MAX_BYTES || s->lim.segment_bytes < MIN_SEG_BYTES) {
        seterr(err, errlen, "spool: max_bytes must be >= %u and segment_bytes >= %u",
               MIN_MAX_BYTES, MIN_SEG_BYTES);
        errno = EINVAL;
        goto fail;
    }
    /* Whole segments are dropped, so keep them small against the bounds. */
    s->seg_bytes = s->lim.segment_bytes;
    if (s->seg_bytes > s->lim.max_bytes / 4) {
        s->seg_bytes = s->lim.max_bytes / 4;
    }
    s->seg_recs = s->lim.max_messages ? s->lim.max_messages / 4 : UINT64_MAX;
    if (s->seg_recs == 0) {
        s->seg_recs = 1;
    }
    s->age_ms = (int64_t)s->lim.max_age_s * 1000;
    sp_crc_init(s->crc_tab);
    s->last_sync = em_mono_ms();

    if (!(s->dir = strdup(dir)) || !(s->sc = malloc(SCRATCH))) {
        goto oom;
    }
    if (nconsumers && (!(s->cons = calloc(nconsumers, sizeof(*s->cons))) ||
                       !(found = calloc(nconsumers, sizeof(*found))))) {
        goto oom;
    }
    s->ncons = nconsumers;
    for (i = 0; i < nconsumers; i++) {
        memcpy(s->cons[i].name, consumers[i], strlen(consumers[i]) + 1);
        sp_it_init(&s->cons[i].pos);
    }
    s->scap = 128 + nconsumers * (EM_SPOOL_NAME_MAX + 5 * 21 + 16);
    if (!(s->sbuf = malloc(s->scap))) {
        goto oom;
    }

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        seterr(err, errlen, "cannot create spool directory '%s': %s", dir,
               strerror(errno));
        goto fail;
    }
    if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        seterr(err, errlen, "cannot open spool directory '%s': %s", dir, strerror(errno));
        goto fail;
    }
    s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (s->lockfd < 0 || lock_within(s->lockfd, &fl, s->lim.lock_wait_ms) < 0) {
        seterr(err, errlen, "cannot lock spool '%s': %s", dir,
               errno == EAGAIN ? "in use by another process" : strerror(errno));
        goto fail;
    }
    unlinkat(s->dirfd, STATE_TMP, 0);

    if (sp_list_segs(s) < 0) {
        seterr(err, errlen, "cannot list spool '%s': %s", dir, strerror(errno));
        goto fail;
    }
    for (i = 0; i < s->nsegs; i++) {
        if (sp_scan_seg(s, &s->segs[i], i + 1 == s->nsegs) < 0) {
            char name[NAME_LEN];
            sp_seg_name(name, s->segs[i].base);
            seterr(err, errlen, "cannot read spool segment '%s/%s': %s", dir, name,
                   strerror(errno));
            goto fail;
        }
    }
    for (i = 0; i < s->nsegs; i++) {
        s->bytes += (uint64_t)s->segs[i].size;
        s->records += s->segs[i].count;
    }
    /* Older segments without any valid record hold nothing worth keeping. */
    for (i = 0; i + 1 < s->nsegs;) {
        if (s->segs[i].count == 0) {
            if (sp_forget_seg(s, i) < 0) {
                seterr(err, errlen, "cannot remove empty segment in '%s': %s", dir,
                       strerror(errno));
                goto fail;
            }
        } else {
            i++;
        }
    }
    if ((loaded = sp_load_state(s, &reserve, found)) < 0) {
        seterr(err, errlen, "cannot read spool state in '%s': %s", dir, strerror(errno));
        goto fail;
    }
    s->next_id = reserve > 1 ? reserve : 1;
    for (i = 0; i < s->nsegs; i++) {
        const struct seg *g = &s->segs[i];
        if (g->base > s->next_id) {
            s->next_id = g->base;
        }
        if (g->count && g->last + 1 > s->next_id) {
            s->next_id = g->last + 1;
        }
    }
    if (open_active(s) < 0) {
        seterr(err, errlen, "cannot open active segment in '%s': %s", dir,
               strerror(errno));
        goto fail;
    }
    for (i = 0; i < s->ncons; i++) {
        struct cons *c = &s->cons[i];
        uint64_t oldest = s->segs[0].base;
        if (!found[i]) {
            c->ack = (s->lim.new_at_oldest || !loaded) ? oldest : s->next_id;
        }
        if (c->ack < oldest) {
            c->ack = oldest;
        }
        if (c->ack > s->next_id) {
            c->ack = s->next_id;
        }
        c->read = c->ack;
    }
    if (sp_enforce(s, 0, 0, 0, 0) < 0 || sp_gc(s) < 0) {
        seterr(err, errlen, "cannot apply spool bounds in '%s': %s", dir,
               strerror(errno));
        goto fail;
    }
    if (sp_write_state(s, s->next_id + EM_SPOOL_ID_BLOCK) < 0) {
        seterr(err, errlen, "cannot write spool state in '%s': %s", dir, strerror(errno));
        goto fail;
    }
    free(found);
    return s;
oom:
    seterr(err, errlen, "spool: out of memory");
    errno = ENOMEM;
fail:
    e = errno;
    free(found);
    if (s) {
        /* Do not write state for a spool that failed to open: it may be wrong. */
        if (s->wfd >= 0) {
            close(s->wfd);
            s->wfd = -1;
        }
        for (i = 0; i < s->ncons; i++) {
            sp_it_close(&s->cons[i].pos);
        }
        if (s->dirfd >= 0) {
            close(s->dirfd);
        }
        if (s->lockfd >= 0) {
            close(s->lockfd);
        }
        free(s->segs);
        free(s->cons);
        free(s->sc);
        free(s->sbuf);
        free(s->dir);
        free(s);
    }
    errno = e;
    return NULL;
}

static int do_sync(struct em_spool *s)
{
    if (s->unsynced && s->wfd >= 0) {
        if (fdatasync(s->wfd) < 0) {
            return -1;
        }
    }
    s->unsynced = 0;
    s->last_sync = em_mono_ms();
    /* Data first, then the cursors that may point into it. */
    if (s->state_dirty && sp_write_state(s, s->id_reserved) < 0) {
        return -1;
    }
    return 0;
}

int em_spool_sync(struct em_spool *s)
{
    int r, e;

    if (!s) {
        errno = EINVAL;
        return -1;
    }
    r = do_sync(s);
    e = errno;
    if (r == 0 && s->sync_errno) {
        e = s->sync_errno;
        r = -1;
    }
    s->sync_errno = 0;
    errno = e;
    return r;
}

int em_spool_append(struct em_spool *s, const void *rec, size_t len, int64_t ts_ms,
                    uint64_t *id_out)
{
    unsigned char *h;
    struct seg *g;
    uint64_t frame = HDR + (uint64_t)len;
    uint32_t crc;
    off_t old;

    if (!s || !rec || len == 0) {
        errno = EINVAL;
        return -1;
    }
    if (len > EM_SPOOL_MAX_REC || frame > s->lim.max_bytes / 2) {
        errno = EMSGSIZE;
        return -1;
    }
    if (s->next_id >= s->id_reserved &&
        sp_write_state(s, s->next_id + EM_SPOOL_ID_BLOCK) < 0) {
        return -1;
    }
    g = &s->segs[s->nsegs - 1];
    if (s->wfd < 0 || s->must_roll ||
        (g->count &&
         ((uint64_t)g->size + frame > s->seg_bytes || g->count >= s->seg_recs))) {
        if (sp_roll(s) < 0) {
            return -1;
        }
    }
    if (sp_enforce(s, frame, 1, ts_ms, 1) < 0) {
        return -1;
    }
    g = &s->segs[s->nsegs - 1];

    h = s->hdr;
    sp_put32(h, REC_MAGIC);
    sp_put32(h + 4, (uint32_t)len);
    sp_put64(h + 8, s->next_id);
    sp_put64(h + 16, (uint64_t)ts_ms);
    sp_put32(h + 24, 0);
    crc = sp_crc_update(s->crc_tab, 0xffffffffu, h, 28);
    crc = ~sp_crc_update(s->crc_tab, crc, rec, len);
    sp_put32(h + 28, crc);
    old = g->size;
    if (sp_writev_full(s->wfd, h, HDR, rec, len) < 0) {
        int e = errno;
        struct stat st;
        /* Take the partial frame back; if that fails, roll so it ends up mid-segment
         * where readers skip it. */
        if (ftruncate(s->wfd, old) < 0) {
            s->must_roll = 1;
            if (fstat(s->wfd, &st) == 0 && st.st_size > old) {
                s->bytes += (uint64_t)(st.st_size - old);
                g->size = st.st_size;
            }
        }
        errno = e;
        return -1;
    }
    if (g->count++ == 0) {
        g->first = s->next_id;
    }
    g->last = s->next_id;
    if (ts_ms > g->max_ts) {
        g->max_ts = ts_ms;
    }
    g->size += (off_t)frame;
    s->bytes += frame;
    s->records++;
    if (id_out) {
        *id_out = s->next_id;
    }
    s->next_id++;
    s->unsynced++;
    if (s->unsynced >= s->lim.sync_every ||
        em_mono_ms() - s->last_sync >= (int64_t)s->lim.sync_ms) {
        if (do_sync(s) < 0) {
            s->sync_errno = errno;
        }
    }
    return 0;
}

int em_spool_read(struct em_spool *s, size_t consumer, struct em_spool_rec *out,
                  size_t max, void *buf, size_t buflen)
{
    struct cons *c;
    struct frame f;
    size_t n = 0, used = 0;
    unsigned char *b = buf;

    if (!s || consumer >= s->ncons || (max && (!out || !buf))) {
        errno = EINVAL;
        return -1;
    }
    if (max > INT_MAX) {
        max = INT_MAX;
    }
    c = &s->cons[consumer];
    if (!c->pos_ok) {
        c->pos.base = s->segs[sp_seg_find(s, c->read)].base;
        c->pos.off = 0;
        c->pos_ok = 1;
    }
    while (n < max && c->read < s->next_id) {
        int r = sp_it_next(s, &c->pos, &f);
        if (r < 0) {
            if (n) {
                break; /* hand out what we have; the error comes back next call */
            }
            c->pos_ok = 0;
            return -1;
        }
        if (r == 0) {
            break;
        }
        if (f.id < c->read) {
            c->pos.off = f.off + HDR + (off_t)f.len;
            continue;
        }
        if (f.len > buflen - used) {
            if (n == 0) {
                errno = ENOBUFS;
                return -1;
            }
            break;
        }
        memcpy(b + used, f.data, f.len);
        out[n].id = f.id;
        out[n].ts_ms = f.ts;
        out[n].data = b + used;
        out[n].len = f.len;
        used += f.len;
        n++;
        c->read = f.id + 1;
        c->pos.off = f.off + HDR + (off_t)f.len;
    }
    return (int)n;
}

int em_spool_rewind(struct em_spool *s, size_t consumer)
{
    if (!s || consumer >= s->ncons) {
        errno = EINVAL;
        return -1;
    }
    s->cons[consumer].read = s->cons[consumer].ack;
    s->cons[consumer].pos_ok = 0;
    return 0;
}

int em_spool_ack(struct em_spool *s, size_t consumer, uint64_t upto_id)
{
    struct cons *c;

    if (!s || consumer >= s->ncons || upto_id >= s->next_id) {
        errno = EINVAL;
        return -1;
    }
    c = &s->cons[consumer];
    if (upto_id < c->ack) {
        return 0;
    }
    c->ack = upto_id + 1;
    c->ots_ok = 0;
    s->state_dirty = 1;
    if (c->read < c->ack) {
        c->read = c->ack;
        c->pos_ok = 0;
    }
    return sp_gc(s);
}

int em_spool_expire(struct em_spool *s, int64_t now_ms)
{
    if (!s) {
        errno = EINVAL;
        return -1;
    }
    return sp_enforce(s, 0, 0, now_ms, 1);
}

/* Timestamp of the first record with an id >= `id`; 0 when there is none. */
static int first_ts(struct em_spool *s, uint64_t id, int64_t *ts)
{
    struct it it;
    struct frame f;
    int r;

    *ts = 0;
    if (id >= s->next_id) {
        return 0;
    }
    sp_it_init(&it);
    it.base = s->segs[sp_seg_find(s, id)].base;
    while ((r = sp_it_next(s, &it, &f)) == 1) {
        if (f.id >= id) {
            *ts = f.ts;
            break;
        }
        it.off = f.off + HDR + (off_t)f.len;
    }
    sp_it_close(&it);
    return r < 0 ? -1 : 0;
}

int em_spool_stats(struct em_spool *s, size_t consumer, struct em_spool_stats *st)
{
    struct cons *c;

    if (!s || !st || consumer >= s->ncons) {
        errno = EINVAL;
        return -1;
    }
    c = &s->cons[consumer];
    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < s->nsegs; i++) {
        uint64_t a, r;
        if (sp_count_from(s, &s->segs[i], c->ack, &a) < 0 ||
            sp_count_from(s, &s->segs[i], c->read, &r) < 0) {
            return -1;
        }
        st->pending += a;
        st->unread += r;
    }
    /* ots 0: nothing was there yet when it was cached; look again. */
    if (!c->ots_ok || c->ots_ack != c->ack || c->ots == 0) {
        if (first_ts(s, c->ack, &c->ots) < 0) {
            return -1;
        }
        c->ots_ack = c->ack;
        c->ots_ok = 1;
    }
    st->oldest_ts_ms = st->pending ? c->ots : 0;
    st->ack_id = c->ack;
    st->read_id = c->read;
    memcpy(st->dropped, c->dropped, sizeof(st->dropped));
    st->bytes = s->bytes;
    st->segments = s->nsegs;
    st->records = s->records;
    st->next_id = s->next_id;
    st->corrupt = s->corrupt;
    st->truncated = s->truncated;
    return 0;
}

int em_spool_consumer(const struct em_spool *s, const char *name)
{
    if (s && name) {
        for (size_t i = 0; i < s->ncons; i++) {
            if (strcmp(s->cons[i].name, name) == 0) {
                return (int)i;
            }
        }
    }
    errno = ENOENT;
    return -1;
}

const char *em_spool_drop_name(enum em_spool_drop reason)
{
    if ((unsigned)reason < EM_SPOOL_DROP_NREASONS) {
        return drop_names[reason];
    }
    return "unknown";
}

void em_spool_close(struct em_spool *s)
{
    uint64_t reserve;

    if (!s) {
        return;
    }
    /* Everything appended is durable after a good sync, so the next open can
     * continue ids without a gap; otherwise keep the reservation. */
    reserve = do_sync(s) == 0 && !s->sync_errno ? s->next_id : s->id_reserved;
    if (reserve < s->id_reserved || s->state_dirty) {
        sp_write_state(s, reserve);
    }
    if (s->wfd >= 0) {
        close(s->wfd);
    }
    for (size_t i = 0; i < s->ncons; i++) {
        sp_it_close(&s->cons[i].pos);
    }
    close(s->dirfd);
    close(s->lockfd); /* releases the fcntl lock */
    free(s->segs);
    free(s->cons);
    free(s->sc);
    free(s->sbuf);
    free(s->dir);
    free(s);
}
