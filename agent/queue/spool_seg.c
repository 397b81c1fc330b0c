/* spool_seg.c - the spool's segment files: frame encoding, CRC, the scratch read
 * window, finding the next good frame after a corrupt one, read positions, and the
 * scan that rebuilds a segment's index at open.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 * (The frame layout is described at the top of spool.c.)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spool_int.h"

void sp_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

void sp_put64(unsigned char *p, uint64_t v)
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
void sp_crc_init(uint32_t *t)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        t[i] = c;
    }
}

uint32_t sp_crc_update(const uint32_t *t, uint32_t c, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n--) {
        c = t[(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return c;
}

void sp_seg_name(char *buf, uint64_t base)
{
    snprintf(buf, NAME_LEN, "%016" PRIx64 ".seg", base);
}

int sp_write_full(int fd, const void *buf, size_t n)
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

/* One writev for header + payload; a short write (signal, full disk) finishes with
 * write(). */
int sp_writev_full(int fd, const void *a, size_t alen, const void *b, size_t blen)
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
        if (sp_write_full(fd, (const unsigned char *)a + r, alen - (size_t)r) < 0) {
            return -1;
        }
        r = (ssize_t)alen;
    }
    return sp_write_full(fd, (const unsigned char *)b + ((size_t)r - alen),
                         blen - ((size_t)r - alen));
}

void sp_sc_drop(struct em_spool *s, uint64_t base)
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
const unsigned char *sp_window(struct em_spool *s, const struct seg *g, int fd, off_t off,
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

/* Check the frame at `off`. Returns 1 record, 2 seal, 0 not a valid frame, -1 I/O error.
 */
int sp_frame_at(struct em_spool *s, const struct seg *g, int fd, off_t off,
                struct frame *f)
{
    const unsigned char *p;
    uint32_t crc;

    if (off < 0 || (uint64_t)off + HDR > (uint64_t)g->size) {
        return 0;
    }
    if (!(p = sp_window(s, g, fd, off, HDR))) {
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
    if (!(p = sp_window(s, g, fd, off, HDR + f->len))) {
        return -1;
    }
    crc = sp_crc_update(s->crc_tab, 0xffffffffu, p, 28);
    crc = ~sp_crc_update(s->crc_tab, crc, p + HDR, f->len);
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
static int find_next(struct em_spool *s, const struct seg *g, int fd, off_t from,
                     off_t *at)
{
    off_t pos = from;

    while ((uint64_t)pos + HDR <= (uint64_t)g->size) {
        size_t n = (size_t)(g->size - pos) < SCRATCH ? (size_t)(g->size - pos) : SCRATCH;
        const unsigned char *p = sp_window(s, g, fd, pos, n);
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
            int r = sp_frame_at(s, g, fd, cand, &f);
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
size_t sp_seg_find(const struct em_spool *s, uint64_t id)
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

void sp_it_init(struct it *it)
{
    memset(it, 0, sizeof(*it));
    it->fd = -1;
}

void sp_it_close(struct it *it)
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
    sp_it_close(it);
    sp_seg_name(name, g->base);
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
int sp_it_next(struct em_spool *s, struct it *it, struct frame *f)
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
        r = sp_frame_at(s, g, fd, it->off, f);
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
int sp_count_from(struct em_spool *s, const struct seg *g, uint64_t id, uint64_t *out)
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
    sp_it_init(&it);
    it.base = g->base;
    while ((r = sp_it_next(s, &it, &f)) == 1 && it.base == g->base) {
        if (f.id >= id) {
            n++;
        }
        it.off = f.off + HDR + (off_t)f.len;
    }
    sp_it_close(&it);
    if (r < 0) {
        return -1;
    }
    *out = n;
    return 0;
}

/*
 * Learn a segment's extent. An older segment with a valid seal costs one frame;
 * otherwise every frame is checked. Corrupt regions are skipped and counted; in
 * the last segment a bad tail (torn write) is cut off.
 */
int sp_scan_seg(struct em_spool *s, struct seg *g, int is_last)
{
    char name[NAME_LEN];
    struct stat st;
    struct frame f;
    off_t off = 0, good = 0;
    int fd, r, e;

    sp_seg_name(name, g->base);
    fd = openat(s->dirfd, name, (is_last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        goto fail;
    }
    g->size = st.st_size;
    sp_sc_drop(s, g->base);
    if (!is_last && g->size >= HDR + SEAL_LEN) {
        r = sp_frame_at(s, g, fd, g->size - HDR - SEAL_LEN, &f);
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
        r = sp_frame_at(s, g, fd, off, &f);
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
            /* A torn tail: never acknowledged as durable, so cutting it loses nothing
             * synced. */
            if (ftruncate(fd, good) < 0 || fsync(fd) < 0) {
                goto fail;
            }
            s->truncated += (uint64_t)(g->size - good);
            g->size = good;
        } else {
            s->corrupt++;
        }
        sp_sc_drop(s, g->base);
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

int sp_list_segs(struct em_spool *s)
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
            int v = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                           : -1;
            if (v < 0) {
                break;
            }
            base = (base << 4) | (uint64_t)v;
        }
        if (i < 16 || base == 0) {
            continue;
        }
        if (sp_seg_push(s, base) < 0) {
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

int sp_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > EM_SPOOL_NAME_MAX) {
        return 0;
    }
    for (; *n; n++) {
        char c = *n;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("_.:@/-", c))) {
            return 0;
        }
    }
    return 1;
}
