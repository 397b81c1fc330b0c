/* spool_bounds.c - the spool's segment rotation and its bounds: a new segment when
 * the active one is full, the oldest one dropped (and counted per consumer and
 * reason) when max_bytes, max_messages or max_age is hit, and the removal of
 * segments every consumer has confirmed.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
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

int sp_seg_push(struct em_spool *s, uint64_t base)
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
int sp_new_seg(struct em_spool *s)
{
    char name[NAME_LEN];
    int fd;

    if (sp_seg_push(s, s->next_id) < 0) {
        return -1;
    }
    sp_seg_name(name, s->next_id);
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
int sp_forget_seg(struct em_spool *s, size_t i)
{
    char name[NAME_LEN];
    sp_seg_name(name, s->segs[i].base);
    if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT) {
        return -1;
    }
    for (size_t k = 0; k < s->ncons; k++) {
        struct cons *c = &s->cons[k];
        if (c->pos.fd_base == s->segs[i].base) {
            sp_it_close(&c->pos);
        }
        if (c->pos.base == s->segs[i].base) {
            c->pos_ok = 0;
        }
    }
    sp_sc_drop(s, s->segs[i].base);
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
int sp_roll(struct em_spool *s)
{
    struct seg *g = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;

    if (g && g->count == 0) {
        /* Nothing worth sealing (only a failed write's garbage): replace it. */
        if (s->wfd >= 0) {
            close(s->wfd);
            s->wfd = -1;
        }
        if (sp_forget_seg(s, s->nsegs - 1) < 0) {
            return -1;
        }
        return sp_new_seg(s);
    }
    if (g && !g->sealed && g->count && s->wfd >= 0) {
        unsigned char *h = s->hdr;
        uint32_t crc;

        sp_put32(h, SEAL_MAGIC);
        sp_put32(h + 4, SEAL_LEN);
        sp_put64(h + 8, g->last);
        sp_put64(h + 16, (uint64_t)g->max_ts);
        sp_put32(h + 24, 0);
        sp_put64(h + HDR, g->count);
        sp_put64(h + HDR + 8, g->first);
        sp_put64(h + HDR + 16, g->last);
        sp_put64(h + HDR + 24, (uint64_t)g->max_ts);
        crc = sp_crc_update(s->crc_tab, 0xffffffffu, h, 28);
        crc = ~sp_crc_update(s->crc_tab, crc, h + HDR, SEAL_LEN);
        sp_put32(h + 28, crc);
        if (sp_write_full(s->wfd, h, HDR + SEAL_LEN) < 0) {
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
        s->last_sync = em_mono_ms();
    }
    return sp_new_seg(s);
}

/*
 * Delete the oldest segment. With a reason, every consumer's unacked records in it
 * are counted as dropped. Cursors move to the next segment. The active segment is
 * never passed here.
 */
int sp_unlink_seg(struct em_spool *s, int reason)
{
    struct seg *g = &s->segs[0];
    uint64_t next = s->nsegs > 1 ? s->segs[1].base : s->next_id;
    char name[NAME_LEN];
    size_t i;

    for (i = 0; i < s->ncons; i++) {
        s->cons[i].lost = 0;
        if (reason >= 0 && sp_count_from(s, g, s->cons[i].ack, &s->cons[i].lost) < 0) {
            return -1;
        }
    }
    for (i = 0; i < s->ncons; i++) {
        struct cons *c = &s->cons[i];
        if (c->pos.fd_base == g->base) {
            sp_it_close(&c->pos); /* an open fd would keep the deleted file's blocks */
        }
    }
    sp_seg_name(name, g->base);
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
    sp_sc_drop(s, g->base);
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
        if (sp_roll(s) < 0) {
            return -1;
        }
    }
    return sp_unlink_seg(s, reason) < 0 ? -1 : 1;
}

/* Make room for `add_bytes` / `add_count` more, and apply the age bound at `now`. */
int sp_enforce(struct em_spool *s, uint64_t add_bytes, uint64_t add_count, int64_t now,
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
int sp_gc(struct em_spool *s)
{
    while (s->nsegs > 1 && min_ack(s) >= s->segs[1].base) {
        if (sp_unlink_seg(s, -1) < 0) {
            return -1;
        }
    }
    return 0;
}
