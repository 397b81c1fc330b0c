/* live.c - the live lane: fresh readings overtake a draining backlog.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "live.h"

#include <stdlib.h>
#include <string.h>

/* Confirmed seqs lo..hi; lo == 0 marks an unused run (seq starts at 1). */
struct run {
    uint64_t lo, hi;
};

struct seen {
    struct run run[EM_LIVE_RUNS];
};

struct em_live {
    unsigned char *buf; /* ring of [uint32 len][bytes] */
    size_t cap, head, used, count;
    struct seen *seen;
    size_t ndev;
    unsigned char tmp[]; /* a contiguous copy of the peeked record */
};

struct em_live *em_live_new(size_t ndevices, size_t bytes)
{
    struct em_live *l = calloc(1, sizeof *l + bytes);
    if (!l)
        return NULL;
    l->buf = malloc(bytes);
    l->seen = calloc(ndevices ? ndevices : 1, sizeof *l->seen);
    if (!l->buf || !l->seen) {
        em_live_free(l);
        return NULL;
    }
    l->cap = bytes;
    l->ndev = ndevices;
    return l;
}

void em_live_free(struct em_live *l)
{
    if (!l)
        return;
    free(l->buf);
    free(l->seen);
    free(l);
}

static void ring_copy_out(const struct em_live *l, size_t at, void *dst, size_t n)
{
    size_t first = l->cap - at < n ? l->cap - at : n;
    memcpy(dst, l->buf + at, first);
    memcpy((unsigned char *)dst + first, l->buf, n - first);
}

static void ring_copy_in(struct em_live *l, size_t at, const void *src, size_t n)
{
    size_t first = l->cap - at < n ? l->cap - at : n;
    memcpy(l->buf + at, src, first);
    memcpy(l->buf, (const unsigned char *)src + first, n - first);
}

void em_live_pop(struct em_live *l)
{
    uint32_t n;
    if (!l->count)
        return;
    ring_copy_out(l, l->head, &n, sizeof n);
    l->head = (l->head + sizeof n + n) % l->cap;
    l->used -= sizeof n + n;
    l->count--;
}

void em_live_put(struct em_live *l, const char *msg, size_t len)
{
    uint32_t n = (uint32_t)len;
    if (len + sizeof n > l->cap)
        return;
    while (l->cap - l->used < len + sizeof n)
        em_live_pop(l);
    size_t tail = (l->head + l->used) % l->cap;
    ring_copy_in(l, tail, &n, sizeof n);
    ring_copy_in(l, (tail + sizeof n) % l->cap, msg, len);
    l->used += sizeof n + len;
    l->count++;
}

const char *em_live_peek(struct em_live *l, size_t *len)
{
    uint32_t n;
    if (!l->count)
        return NULL;
    ring_copy_out(l, l->head, &n, sizeof n);
    /* The ring may wrap: hand out a contiguous copy. */
    ring_copy_out(l, (l->head + sizeof n) % l->cap, l->tmp, n);
    *len = n;
    return (const char *)l->tmp;
}

size_t em_live_waiting(const struct em_live *l)
{
    return l->count;
}

void em_live_drop_waiting(struct em_live *l)
{
    l->head = l->used = l->count = 0;
}

void em_live_confirmed(struct em_live *l, size_t dev, uint64_t seq)
{
    if (dev >= l->ndev || seq == 0)
        return;
    struct run *r = l->seen[dev].run, *oldest = &r[0];
    for (unsigned i = 0; i < EM_LIVE_RUNS; i++) {
        if (!r[i].lo)
            continue;
        if (seq >= r[i].lo && seq <= r[i].hi)
            return;
        if (seq == r[i].hi + 1) {
            r[i].hi = seq;
            return;
        }
        if (seq + 1 == r[i].lo) {
            r[i].lo = seq;
            return;
        }
    }
    /* A new run: in a free slot, else over the oldest (lowest) run. */
    for (unsigned i = 0; i < EM_LIVE_RUNS; i++) {
        if (!r[i].lo) {
            oldest = &r[i];
            break;
        }
        if (r[i].hi < oldest->hi)
            oldest = &r[i];
    }
    oldest->lo = oldest->hi = seq;
}

int em_live_take(struct em_live *l, size_t dev, uint64_t seq)
{
    if (dev >= l->ndev)
        return 0;
    const struct run *r = l->seen[dev].run;
    for (unsigned i = 0; i < EM_LIVE_RUNS; i++)
        if (r[i].lo && seq >= r[i].lo && seq <= r[i].hi)
            return 1;
    return 0;
}
