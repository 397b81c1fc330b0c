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

/* Bytes e7 5d a1 0x: 0xe7 followed by a non-continuation byte is never valid UTF-8,
 * so a JSON payload cannot contain a false frame start. */
#define REC_MAGIC  0x01a15de7u
#define SEAL_MAGIC 0x02a15de7u
#define HDR        32
#define SEAL_LEN   32
/* The scratch window must hold the largest frame; reads fill it in one pread. */
#define SCRATCH    (HDR + EM_SPOOL_MAX_REC + HDR)
#define STATE_FILE "state"
#define STATE_TMP  "state.tmp"
#define STATE_MAX  (1024 * 1024)
#define NAME_LEN   32

#define DEF_MAX_BYTES  (64ull * 1024 * 1024)
#define MIN_MAX_BYTES  (16u * 1024)
#define DEF_SEG_BYTES  (1024u * 1024)
#define MIN_SEG_BYTES  1024u
#define DEF_SYNC_EVERY 1000u
#define DEF_SYNC_MS    1000u

struct seg {
    uint64_t base;  /* id in the file name; <= first */
    uint64_t first; /* first and last record id, valid when count > 0 */
    uint64_t last;
    uint64_t count;
    int64_t max_ts; /* newest record timestamp, for the age bound */
    off_t size;     /* bytes in the file (our view; we never read past it) */
    off_t bad_hi;   /* start of the last corrupt region counted, so rereads don't recount */
    int sealed;
};

/* A read position: a segment (by base id, which survives array shifts) and an offset. */
struct it {
    uint64_t base;
    off_t off;
    int fd;           /* read fd, cached for the segment fd_base */
    uint64_t fd_base;
};

struct cons {
    char name[EM_SPOOL_NAME_MAX + 1];
    uint64_t ack;  /* ids below are confirmed */
    uint64_t read; /* next id to hand out */
    uint64_t dropped[EM_SPOOL_DROP_NREASONS];
    uint64_t lost; /* scratch for unlink_seg() */
    struct it pos; /* where `read` is in the files, when pos_ok */
    int pos_ok;
    int ots_ok; /* cache of the oldest pending timestamp for ack == ots_ack */
    uint64_t ots_ack;
    int64_t ots;
};

struct frame {
    uint32_t magic;
    uint32_t len;
    uint64_t id;
    int64_t ts;
    off_t off;
    const unsigned char *data; /* into the scratch window, until the next frame_at() */
};

struct em_spool {
    char *dir;
    int dirfd;
    int lockfd;
    int wfd; /* the active (last) segment, opened O_APPEND; -1 after a failed roll */
    struct em_spool_limits lim;
    uint64_t seg_bytes;
    uint64_t seg_recs;
    int64_t age_ms;
    struct seg *segs;
    size_t nsegs, capsegs;
    struct cons *cons;
    size_t ncons;
    uint64_t next_id;
    uint64_t id_reserved; /* persisted: no id at or above it was handed out */
    uint64_t bytes;
    uint64_t records;
    uint64_t corrupt;
    uint64_t truncated;
    uint64_t unsynced;
    int64_t last_sync;
    int sync_errno;
    int state_dirty;
    int must_roll;
    uint32_t crc_tab[256];
    unsigned char hdr[HDR + SEAL_LEN];
    unsigned char *sc; /* scratch window: bytes [sc_off, sc_off + sc_len) of segment sc_base */
    uint64_t sc_base;
    off_t sc_off;
    size_t sc_len;
    char *sbuf; /* state file text */
    size_t scap;
};

static const char *const drop_names[EM_SPOOL_DROP_NREASONS] = {"max_bytes", "max_messages",
                                                                 "max_age"};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* CRC-32/IEEE (zlib's polynomial), table-driven; the table lives in the spool so
 * there is no global state to initialise across threads. */
static void crc_init(uint32_t *t)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        t[i] = c;
    }
}

static uint32_t crc_update(const uint32_t *t, uint32_t c, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n--) {
        c = t[(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return c;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void seg_name(char *buf, uint64_t base)
{
    snprintf(buf, NAME_LEN, "%016" PRIx64 ".seg", base);
}

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

static int write_full(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One writev for header + payload; a short write (signal, full disk) finishes with write(). */
static int writev_full(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
    struct iovec iov[2];
    ssize_t r;

    iov[0].iov_base = (void *)a;
    iov[0].iov_len = alen;
    iov[1].iov_base = (void *)b;
    iov[1].iov_len = blen;
    do {
        r = writev(fd, iov, 2);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return -1;
    }
    if ((size_t)r < alen) {
        if (write_full(fd, (const unsigned char *)a + r, alen - (size_t)r) < 0) {
            return -1;
        }
        r = (ssize_t)alen;
    }
    return write_full(fd, (const unsigned char *)b + ((size_t)r - alen),
                      blen - ((size_t)r - alen));
}

static void sc_drop(struct em_spool *s, uint64_t base)
{
    if (s->sc_base == base) {
        s->sc_len = 0;
    }
}

/*
 * Make bytes [off, off + need) of segment `g` available in the scratch window,
 * reading as much as fits so sequential access costs one pread per window.
 * The caller guarantees off + need <= g->size. Returns a pointer or NULL (errno).
 */
static const unsigned char *window(struct em_spool *s, const struct seg *g, int fd, off_t off,
                                   size_t need)
{
    size_t want, got = 0;

    if (s->sc_len && s->sc_base == g->base && off >= s->sc_off &&
        (uint64_t)(off - s->sc_off) + need <= s->sc_len) {
        return s->sc + (off - s->sc_off);
    }
    want = (size_t)(g->size - off) < SCRATCH ? (size_t)(g->size - off) : SCRATCH;
    s->sc_len = 0;
    while (got < want) {
        ssize_t r = pread(fd, s->sc + got, want - got, off + (off_t)got);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return NULL;
        }
        if (r == 0) {
            break; /* file shorter than we think: whatever we got must cover `need` */
        }
        got += (size_t)r;
    }
    if (got < need) {
        errno = EIO;
        return NULL;
    }
    s->sc_base = g->base;
    s->sc_off = off;
    s->sc_len = got;
    return s->sc;
}

/* Check the frame at `off`. Returns 1 record, 2 seal, 0 not a valid frame, -1 I/O error. */
static int frame_at(struct em_spool *s, const struct seg *g, int fd, off_t off,
                    struct frame *f)
{
    const unsigned char *p;
    uint32_t crc;

    if (off < 0 || (uint64_t)off + HDR > (uint64_t)g->size) {
        return 0;
    }
    if (!(p = window(s, g, fd, off, HDR))) {
        return -1;
    }
    f->magic = get32(p);
    f->len = get32(p + 4);
    if (f->magic == REC_MAGIC) {
        if (f->len == 0 || f->len > EM_SPOOL_MAX_REC) {
            return 0;
        }
    } else if (f->magic == SEAL_MAGIC) {
        if (f->len != SEAL_LEN) {
            return 0;
        }
    } else {
        return 0;
    }
    if ((uint64_t)off + HDR + f->len > (uint64_t)g->size) {
        return 0;
    }
    if (!(p = window(s, g, fd, off, HDR + f->len))) {
        return -1;
    }
    crc = crc_update(s->crc_tab, 0xffffffffu, p, 28);
    crc = ~crc_update(s->crc_tab, crc, p + HDR, f->len);
    if (crc != get32(p + 28)) {
        return 0;
    }
    f->id = get64(p + 8);
    f->ts = (int64_t)get64(p + 16);
    f->off = off;
    f->data = p + HDR;
    return f->magic == REC_MAGIC ? 1 : 2;
}

/* Find the next valid frame at or after `from`. Returns 1 (*at set), 0 none, -1 error. */
static int find_next(struct em_spool *s, const struct seg *g, int fd, off_t from, off_t *at)
{
    off_t pos = from;

    while ((uint64_t)pos + HDR <= (uint64_t)g->size) {
        size_t n = (size_t)(g->size - pos) < SCRATCH ? (size_t)(g->size - pos) : SCRATCH;
        const unsigned char *p = window(s, g, fd, pos, n);
        size_t i;
        off_t cand = -1;

        if (!p) {
            return -1;
        }
        for (i = 0; i + 4 <= n; i++) {
            if (p[i] == 0xe7 && p[i + 1] == 0x5d && p[i + 2] == 0xa1 &&
                (p[i + 3] == 0x01 || p[i + 3] == 0x02)) {
                cand = pos + (off_t)i;
                break;
            }
        }
        if (cand >= 0) {
            struct frame f;
            int r = frame_at(s, g, fd, cand, &f);
            if (r < 0) {
                return -1;
            }
            if (r > 0) {
                *at = cand;
                return 1;
            }
            pos = cand + 1;
            continue;
        }
        if (n <= 3) {
            break;
        }
        pos += (off_t)(n - 3); /* overlap, so a magic across the window edge is seen */
    }
    return 0;
}

/* Index of the segment with this base, or -1. */
static long seg_index(const struct em_spool *s, uint64_t base)
{
    size_t lo = 0, hi = s->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->segs[mid].base == base) {
            return (long)mid;
        }
        if (s->segs[mid].base < base) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

/* Index of the segment that would hold `id`: the last with base <= id (0 if none). */
static size_t seg_find(const struct em_spool *s, uint64_t id)
{
    size_t lo = 0, hi = s->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->segs[mid].base <= id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo ? lo - 1 : 0;
}

static void it_init(struct it *it)
{
    memset(it, 0, sizeof(*it));
    it->fd = -1;
}

static void it_close(struct it *it)
{
    if (it->fd >= 0) {
        close(it->fd);
    }
    it->fd = -1;
    it->fd_base = 0;
}

static int it_fd(struct em_spool *s, struct it *it, const struct seg *g)
{
    char name[NAME_LEN];

    if (it->fd >= 0 && it->fd_base == g->base) {
        return it->fd;
    }
    it_close(it);
    seg_name(name, g->base);
    it->fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (it->fd < 0) {
        return -1;
    }
    it->fd_base = g->base;
    return it->fd;
}

/*
 * The record at or after the position, skipping seals and corrupt regions and
 * crossing into later segments. Leaves it->off at the record; the caller moves
 * past it with it->off = f->off + HDR + f->len. Returns 1, 0 at the end, -1 error.
 */
static int it_next(struct em_spool *s, struct it *it, struct frame *f)
{
    for (;;) {
        long idx = seg_index(s, it->base);
        struct seg *g;
        int fd, r;
        off_t nxt;

        if (idx < 0) {
            return 0; /* callers drop positions in deleted segments; be safe anyway */
        }
        g = &s->segs[idx];
        if (it->off >= g->size) {
            if ((size_t)idx + 1 >= s->nsegs) {
                return 0;
            }
            it->base = s->segs[idx + 1].base;
            it->off = 0;
            continue;
        }
        if ((fd = it_fd(s, it, g)) < 0) {
            return -1;
        }
        r = frame_at(s, g, fd, it->off, f);
        if (r < 0) {
            return -1;
        }
        if (r == 1) {
            return 1;
        }
        if (r == 2) {
            it->off = g->size;
            continue;
        }
        if (it->off > g->bad_hi) {
            s->corrupt++;
            s->state_dirty = 1;
            g->bad_hi = it->off;
        }
        r = find_next(s, g, fd, it->off + 1, &nxt);
        if (r < 0) {
            return -1;
        }
        it->off = r ? nxt : g->size;
    }
}

/* Records of segment `g` with an id >= `id`; reads the file only if ids have gaps. */
static int count_from(struct em_spool *s, const struct seg *g, uint64_t id, uint64_t *out)
{
    struct it it;
    struct frame f;
    uint64_t n = 0;
    int r;

    if (g->count == 0 || id > g->last) {
        *out = 0;
        return 0;
    }
    if (id <= g->first) {
        *out = g->count;
        return 0;
    }
    if (g->count == g->last - g->first + 1) {
        *out = g->last - id + 1;
        return 0;
    }
    it_init(&it);
    it.base = g->base;
    while ((r = it_next(s, &it, &f)) == 1 && it.base == g->base) {
        if (f.id >= id) {
            n++;
        }
        it.off = f.off + HDR + (off_t)f.len;
    }
    it_close(&it);
    if (r < 0) {
        return -1;
    }
    *out = n;
    return 0;
}

static int seg_push(struct em_spool *s, uint64_t base)
{
    struct seg *g;

    if (s->nsegs == s->capsegs) {
        size_t cap = s->capsegs ? s->capsegs * 2 : 16;
        struct seg *n = realloc(s->segs, cap * sizeof(*n));
        if (!n) {
            return -1;
        }
        s->segs = n;
        s->capsegs = cap;
    }
    g = &s->segs[s->nsegs++];
    memset(g, 0, sizeof(*g));
    g->base = base;
    g->max_ts = INT64_MIN;
    g->bad_hi = -1;
    return 0;
}

/* Start a new active segment named after the next id; durable in the directory. */
static int new_seg(struct em_spool *s)
{
    char name[NAME_LEN];
    int fd;

    if (seg_push(s, s->next_id) < 0) {
        return -1;
    }
    seg_name(name, s->next_id);
    fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || fsync(s->dirfd) < 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlinkat(s->dirfd, name, 0);
        }
        s->nsegs--;
        errno = e;
        return -1;
    }
    s->wfd = fd;
    s->must_roll = 0;
    return 0;
}

/* Remove segment i from disk and the table without counting drops (empty or acked). */
static int forget_seg(struct em_spool *s, size_t i)
{
    char name[NAME_LEN];
    seg_name(name, s->segs[i].base);
    if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT) {
        return -1;
    }
    for (size_t k = 0; k < s->ncons; k++) {
        struct cons *c = &s->cons[k];
        if (c->pos.fd_base == s->segs[i].base) {
            it_close(&c->pos);
        }
        if (c->pos.base == s->segs[i].base) {
            c->pos_ok = 0;
        }
    }
    sc_drop(s, s->segs[i].base);
    s->bytes -= (uint64_t)s->segs[i].size;
    s->records -= s->segs[i].count;
    memmove(&s->segs[i], &s->segs[i + 1], (s->nsegs - i - 1) * sizeof(*s->segs));
    s->nsegs--;
    return 0;
}

/*
 * Seal the active segment (so a later open reads one frame instead of all of it),
 * make it durable, and start a new one. Safe to call again after a failure.
 */
static int roll(struct em_spool *s)
{
    struct seg *g = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;

    if (g && g->count == 0) {
        /* Nothing worth sealing (only a failed write's garbage): replace it. */
        if (s->wfd >= 0) {
            close(s->wfd);
            s->wfd = -1;
        }
        if (forget_seg(s, s->nsegs - 1) < 0) {
            return -1;
        }
        return new_seg(s);
    }
    if (g && !g->sealed && g->count && s->wfd >= 0) {
        unsigned char *h = s->hdr;
        uint32_t crc;

        put32(h, SEAL_MAGIC);
        put32(h + 4, SEAL_LEN);
        put64(h + 8, g->last);
        put64(h + 16, (uint64_t)g->max_ts);
        put32(h + 24, 0);
        put64(h + HDR, g->count);
        put64(h + HDR + 8, g->first);
        put64(h + HDR + 16, g->last);
        put64(h + HDR + 24, (uint64_t)g->max_ts);
        crc = crc_update(s->crc_tab, 0xffffffffu, h, 28);
        crc = ~crc_update(s->crc_tab, crc, h + HDR, SEAL_LEN);
        put32(h + 28, crc);
        if (write_full(s->wfd, h, HDR + SEAL_LEN) < 0) {
            int e = errno;
            if (ftruncate(s->wfd, g->size) < 0) {
                s->must_roll = 1;
            }
            errno = e;
            return -1;
        }
        g->size += HDR + SEAL_LEN;
        s->bytes += HDR + SEAL_LEN;
        g->sealed = 1;
    }
    if (s->wfd >= 0) {
        if (fdatasync(s->wfd) < 0) {
            return -1;
        }
        close(s->wfd);
        s->wfd = -1;
        s->unsynced = 0;
        s->last_sync = mono_ms();
    }
    return new_seg(s);
}

/*
 * Delete the oldest segment. With a reason, every consumer's unacked records in it
 * are counted as dropped. Cursors move to the next segment. The active segment is
 * never passed here.
 */
static int unlink_seg(struct em_spool *s, int reason)
{
    struct seg *g = &s->segs[0];
    uint64_t next = s->nsegs > 1 ? s->segs[1].base : s->next_id;
    char name[NAME_LEN];
    size_t i;

    for (i = 0; i < s->ncons; i++) {
        s->cons[i].lost = 0;
        if (reason >= 0 && count_from(s, g, s->cons[i].ack, &s->cons[i].lost) < 0) {
            return -1;
        }
    }
    for (i = 0; i < s->ncons; i++) {
        struct cons *c = &s->cons[i];
        if (c->pos.fd_base == g->base) {
            it_close(&c->pos); /* an open fd would keep the deleted file's blocks */
        }
    }
    seg_name(name, g->base);
    if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT) {
        return -1;
    }
    for (i = 0; i < s->ncons; i++) {
        struct cons *c = &s->cons[i];
        if (reason >= 0) {
            c->dropped[reason] += c->lost;
        }
        if (c->ack < next) {
            c->ack = next;
            c->ots_ok = 0;
        }
        if (c->read < next) {
            c->read = next;
            c->pos_ok = 0;
        }
        if (c->pos.base == g->base) {
            c->pos_ok = 0;
        }
    }
    sc_drop(s, g->base);
    s->bytes -= (uint64_t)g->size;
    s->records -= g->count;
    memmove(&s->segs[0], &s->segs[1], (s->nsegs - 1) * sizeof(*s->segs));
    s->nsegs--;
    s->state_dirty = 1;
    return 0;
}

/* Drop the oldest segment for `reason`, sealing the active one first if it is the
 * only one. Returns 1 dropped, 0 nothing to drop, -1 error. */
static int drop_oldest(struct em_spool *s, int reason)
{
    if (s->nsegs == 1) {
        if (s->segs[0].count == 0) {
            return 0;
        }
        if (roll(s) < 0) {
            return -1;
        }
    }
    return unlink_seg(s, reason) < 0 ? -1 : 1;
}

/* Make room for `add_bytes` / `add_count` more, and apply the age bound at `now`. */
static int enforce(struct em_spool *s, uint64_t add_bytes, uint64_t add_count, int64_t now,
                   int use_age)
{
    for (;;) {
        int reason = -1, r;
        const struct seg *g = &s->segs[0];

        if (s->bytes + add_bytes > s->lim.max_bytes) {
            reason = EM_SPOOL_DROP_MAX_BYTES;
        } else if (s->lim.max_messages && s->records + add_count > s->lim.max_messages) {
            reason = EM_SPOOL_DROP_MAX_MESSAGES;
        } else if (use_age && s->age_ms && g->count && now > INT64_MIN + s->age_ms &&
                   g->max_ts < now - s->age_ms) {
            reason = EM_SPOOL_DROP_MAX_AGE;
        }
        if (reason < 0) {
            return 0;
        }
        if ((r = drop_oldest(s, reason)) <= 0) {
            return r;
        }
    }
}

static uint64_t min_ack(const struct em_spool *s)
{
    uint64_t m = s->next_id;
    for (size_t i = 0; i < s->ncons; i++) {
        if (s->cons[i].ack < m) {
            m = s->cons[i].ack;
        }
    }
    return m;
}

/* Delete old segments every consumer has acked past. */
static int gc(struct em_spool *s)
{
    while (s->nsegs > 1 && min_ack(s) >= s->segs[1].base) {
        if (unlink_seg(s, -1) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * Persist ack cursors, drop counters and the id reservation `reserve` (no id at or
 * above it has been handed out): temp file, fsync, rename, fsync of the directory.
 * The corrupt and truncated counts are not kept: every open finds still-retained
 * corruption again, so carrying them over would count it twice.
 */
static int write_state(struct em_spool *s, uint64_t reserve)
{
    size_t n;
    int fd, e;
    uint32_t crc;

    n = (size_t)snprintf(s->sbuf, s->scap,
                         "edgemon-spool 1\nnext_id %" PRIu64 "\n", reserve);
    for (size_t i = 0; i < s->ncons; i++) {
        const struct cons *c = &s->cons[i];
        n += (size_t)snprintf(s->sbuf + n, s->scap - n,
                              "consumer %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                              c->name, c->ack, c->dropped[0], c->dropped[1], c->dropped[2]);
    }
    crc = ~crc_update(s->crc_tab, 0xffffffffu, s->sbuf, n);
    n += (size_t)snprintf(s->sbuf + n, s->scap - n, "crc %08" PRIx32 "\n", crc);
    if (n >= s->scap) {
        errno = EOVERFLOW; /* cannot happen: scap is sized for the longest lines */
        return -1;
    }

    fd = openat(s->dirfd, STATE_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    if (write_full(fd, s->sbuf, n) < 0 || fsync(fd) < 0) {
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(s->dirfd, STATE_TMP, s->dirfd, STATE_FILE) < 0 || fsync(s->dirfd) < 0) {
        goto fail;
    }
    s->id_reserved = reserve;
    s->state_dirty = 0;
    return 0;
fail:
    e = errno;
    if (fd >= 0) {
        close(fd);
    }
    unlinkat(s->dirfd, STATE_TMP, 0);
    errno = e;
    return -1;
}

static int parse_u64(const char **p, uint64_t *v)
{
    char *end;
    while (**p == ' ') {
        (*p)++;
    }
    if (**p < '0' || **p > '9') {
        return -1;
    }
    errno = 0;
    *v = strtoull(*p, &end, 10);
    if (errno) {
        return -1;
    }
    *p = end;
    return 0;
}

/*
 * Load the state file. Returns 1 loaded, 0 absent or unusable (then every consumer
 * is treated as unknown, which re-sends rather than skips), -1 on read errors.
 */
static int load_state(struct em_spool *s, uint64_t *reserve, int *found)
{
    char *buf = NULL, *line, *crcline;
    struct stat st;
    size_t got = 0;
    int fd, ret = 0;
    uint32_t crc;
    unsigned long want;

    fd = openat(s->dirfd, STATE_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? 0 : -1;
    }
    if (fstat(fd, &st) < 0) {
        ret = -1;
        goto out;
    }
    if (st.st_size <= 0 || st.st_size > STATE_MAX) {
        goto out;
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        ret = -1;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            ret = -1;
            goto out;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    /* The last line is "crc XXXXXXXX" over everything before it. */
    crcline = strstr(buf, "\ncrc ");
    if (!crcline || strncmp(buf, "edgemon-spool 1\n", 16) != 0) {
        goto out;
    }
    crcline++;
    crc = ~crc_update(s->crc_tab, 0xffffffffu, buf, (size_t)(crcline - buf));
    want = strtoul(crcline + 4, NULL, 16);
    if (want != crc) {
        goto out;
    }
    *crcline = '\0';
    for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *p;
        uint64_t v[1 + EM_SPOOL_DROP_NREASONS];
        if (strncmp(line, "next_id ", 8) == 0) {
            p = line + 8;
            if (parse_u64(&p, reserve) < 0) {
                goto out;
            }
        } else if (strncmp(line, "consumer ", 9) == 0) {
            const char *name = line + 9;
            size_t nl = strcspn(name, " \n");
            p = name + nl;
            for (int k = 0; k < 1 + EM_SPOOL_DROP_NREASONS; k++) {
                if (parse_u64(&p, &v[k]) < 0) {
                    goto out;
                }
            }
            for (size_t i = 0; i < s->ncons; i++) {
                struct cons *c = &s->cons[i];
                if (strlen(c->name) == nl && memcmp(c->name, name, nl) == 0) {
                    c->ack = v[0];
                    memcpy(c->dropped, &v[1], sizeof(c->dropped));
                    found[i] = 1;
                }
            }
        }
    }
    ret = 1;
out:
    if (ret == 0) {
        /* Unusable: forget what was half-parsed. */
        *reserve = 0;
        for (size_t i = 0; i < s->ncons; i++) {
            found[i] = 0;
            memset(s->cons[i].dropped, 0, sizeof(s->cons[i].dropped));
        }
    }
    free(buf);
    close(fd);
    return ret;
}

/*
 * Learn a segment's extent. An older segment with a valid seal costs one frame;
 * otherwise every frame is checked. Corrupt regions are skipped and counted; in
 * the last segment a bad tail (torn write) is cut off.
 */
static int scan_seg(struct em_spool *s, struct seg *g, int is_last)
{
    char name[NAME_LEN];
    struct stat st;
    struct frame f;
    off_t off = 0, good = 0;
    int fd, r, e;

    seg_name(name, g->base);
    fd = openat(s->dirfd, name, (is_last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        goto fail;
    }
    g->size = st.st_size;
    sc_drop(s, g->base);
    if (!is_last && g->size >= HDR + SEAL_LEN) {
        r = frame_at(s, g, fd, g->size - HDR - SEAL_LEN, &f);
        if (r < 0) {
            goto fail;
        }
        if (r == 2) {
            g->count = get64(f.data);
            g->first = get64(f.data + 8);
            g->last = get64(f.data + 16);
            g->max_ts = (int64_t)get64(f.data + 24);
            if (g->count && g->first >= g->base && g->last >= g->first &&
                g->count <= g->last - g->first + 1) {
                g->sealed = 1;
                close(fd);
                return 0;
            }
            g->count = g->first = g->last = 0;
            g->max_ts = INT64_MIN;
        }
    }
    while (off < g->size) {
        r = frame_at(s, g, fd, off, &f);
        if (r < 0) {
            goto fail;
        }
        if (r == 1 && f.id >= g->base && (g->count == 0 || f.id > g->last)) {
            if (g->count++ == 0) {
                g->first = f.id;
            }
            g->last = f.id;
            if (f.ts > g->max_ts) {
                g->max_ts = f.ts;
            }
            off += HDR + (off_t)f.len;
            good = off;
            continue;
        }
        if (r == 2 && g->count) {
            g->sealed = 1;
            good = off + HDR + SEAL_LEN;
            break;
        }
        r = find_next(s, g, fd, off + 1, &off);
        if (r < 0) {
            goto fail;
        }
        if (r == 0) {
            break;
        }
        s->corrupt++;
    }
    if (good < g->size) {
        if (is_last) {
            /* A torn tail: never acknowledged as durable, so cutting it loses nothing synced. */
            if (ftruncate(fd, good) < 0 || fsync(fd) < 0) {
                goto fail;
            }
            s->truncated += (uint64_t)(g->size - good);
            g->size = good;
        } else {
            s->corrupt++;
        }
        sc_drop(s, g->base);
    }
    g->bad_hi = g->size;
    close(fd);
    return 0;
fail:
    e = errno;
    if (fd >= 0) {
        close(fd);
    }
    errno = e;
    return -1;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

static int list_segs(struct em_spool *s)
{
    DIR *d;
    struct dirent *de;
    int dfd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dfd < 0) {
        return -1;
    }
    if (!(d = fdopendir(dfd))) {
        close(dfd);
        return -1;
    }
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        uint64_t base = 0;
        int i;

        if (strlen(n) != 20 || strcmp(n + 16, ".seg") != 0) {
            continue;
        }
        for (i = 0; i < 16; i++) {
            int c = n[i];
            int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (v < 0) {
                break;
            }
            base = (base << 4) | (uint64_t)v;
        }
        if (i < 16 || base == 0) {
            continue;
        }
        if (seg_push(s, base) < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    if (s->nsegs > 1) {
        qsort(s->segs, s->nsegs, sizeof(*s->segs), cmp_seg);
    }
    return 0;
}

static int name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > EM_SPOOL_NAME_MAX) {
        return 0;
    }
    for (; *n; n++) {
        char c = *n;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("_.:@/-", c))) {
            return 0;
        }
    }
    return 1;
}

/* Pick or create the active segment once the existing ones are scanned. */
static int open_active(struct em_spool *s)
{
    char name[NAME_LEN];
    struct seg *g;

    if (s->nsegs == 0) {
        return new_seg(s);
    }
    g = &s->segs[s->nsegs - 1];
    if (g->count == 0) {
        if (g->base != s->next_id || g->sealed) {
            if (forget_seg(s, s->nsegs - 1) < 0) {
                return -1;
            }
            return new_seg(s);
        }
    } else if (g->sealed) {
        return new_seg(s);
    }
    seg_name(name, g->base);
    s->wfd = openat(s->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (s->wfd < 0) {
        return -1;
    }
    /* Ids jumped over a crash's reservation: keep each segment's ids contiguous. */
    if (g->count && g->last + 1 != s->next_id) {
        return roll(s);
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
    int64_t until = mono_ms() + wait_ms;

    for (;;) {
        if (fcntl(fd, F_SETLK, fl) == 0) {
            return 0;
        }
        if (errno != EAGAIN && errno != EACCES) {
            return -1;
        }
        if (mono_ms() >= until) {
            errno = EAGAIN;
            return -1;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

struct em_spool *em_spool_open(const char *dir, const struct em_spool_limits *lim,
                               const char *const *consumers, size_t nconsumers,
                               char *err, size_t errlen)
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
        if (!consumers[i] || !name_ok(consumers[i])) {
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
    crc_init(s->crc_tab);
    s->last_sync = mono_ms();

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
        it_init(&s->cons[i].pos);
    }
    s->scap = 128 + nconsumers * (EM_SPOOL_NAME_MAX + 5 * 21 + 16);
    if (!(s->sbuf = malloc(s->scap))) {
        goto oom;
    }

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        seterr(err, errlen, "cannot create spool directory '%s': %s", dir, strerror(errno));
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

    if (list_segs(s) < 0) {
        seterr(err, errlen, "cannot list spool '%s': %s", dir, strerror(errno));
        goto fail;
    }
    for (i = 0; i < s->nsegs; i++) {
        if (scan_seg(s, &s->segs[i], i + 1 == s->nsegs) < 0) {
            char name[NAME_LEN];
            seg_name(name, s->segs[i].base);
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
            if (forget_seg(s, i) < 0) {
                seterr(err, errlen, "cannot remove empty segment in '%s': %s", dir,
                       strerror(errno));
                goto fail;
            }
        } else {
            i++;
        }
    }
    if ((loaded = load_state(s, &reserve, found)) < 0) {
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
        seterr(err, errlen, "cannot open active segment in '%s': %s", dir, strerror(errno));
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
    if (enforce(s, 0, 0, 0, 0) < 0 || gc(s) < 0) {
        seterr(err, errlen, "cannot apply spool bounds in '%s': %s", dir, strerror(errno));
        goto fail;
    }
    if (write_state(s, s->next_id + EM_SPOOL_ID_BLOCK) < 0) {
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
            it_close(&s->cons[i].pos);
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
    s->last_sync = mono_ms();
    /* Data first, then the cursors that may point into it. */
    if (s->state_dirty && write_state(s, s->id_reserved) < 0) {
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
        write_state(s, s->next_id + EM_SPOOL_ID_BLOCK) < 0) {
        return -1;
    }
    g = &s->segs[s->nsegs - 1];
    if (s->wfd < 0 || s->must_roll ||
        (g->count && ((uint64_t)g->size + frame > s->seg_bytes || g->count >= s->seg_recs))) {
        if (roll(s) < 0) {
            return -1;
        }
    }
    if (enforce(s, frame, 1, ts_ms, 1) < 0) {
        return -1;
    }
    g = &s->segs[s->nsegs - 1];

    h = s->hdr;
    put32(h, REC_MAGIC);
    put32(h + 4, (uint32_t)len);
    put64(h + 8, s->next_id);
    put64(h + 16, (uint64_t)ts_ms);
    put32(h + 24, 0);
    crc = crc_update(s->crc_tab, 0xffffffffu, h, 28);
    crc = ~crc_update(s->crc_tab, crc, rec, len);
    put32(h + 28, crc);
    old = g->size;
    if (writev_full(s->wfd, h, HDR, rec, len) < 0) {
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
        mono_ms() - s->last_sync >= (int64_t)s->lim.sync_ms) {
        if (do_sync(s) < 0) {
            s->sync_errno = errno;
        }
    }
    return 0;
}

int em_spool_read(struct em_spool *s, size_t consumer, struct em_spool_rec *out, size_t max,
                  void *buf, size_t buflen)
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
        c->pos.base = s->segs[seg_find(s, c->read)].base;
        c->pos.off = 0;
        c->pos_ok = 1;
    }
    while (n < max && c->read < s->next_id) {
        int r = it_next(s, &c->pos, &f);
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
    return gc(s);
}

int em_spool_expire(struct em_spool *s, int64_t now_ms)
{
    if (!s) {
        errno = EINVAL;
        return -1;
    }
    return enforce(s, 0, 0, now_ms, 1);
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
    it_init(&it);
    it.base = s->segs[seg_find(s, id)].base;
    while ((r = it_next(s, &it, &f)) == 1) {
        if (f.id >= id) {
            *ts = f.ts;
            break;
        }
        it.off = f.off + HDR + (off_t)f.len;
    }
    it_close(&it);
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
        if (count_from(s, &s->segs[i], c->ack, &a) < 0 ||
            count_from(s, &s->segs[i], c->read, &r) < 0) {
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
        write_state(s, reserve);
    }
    if (s->wfd >= 0) {
        close(s->wfd);
    }
    for (size_t i = 0; i < s->ncons; i++) {
        it_close(&s->cons[i].pos);
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
