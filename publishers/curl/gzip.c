/* gzip.c - gzip bodies through zlib's deflate (see gzip.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "curl/gzip.h"

/*
 * windowBits 12 + 16: a gzip wrapper (zlib manual, deflateInit2) with a 4 KiB
 * window; memLevel 6. deflate then needs about 48 KiB instead of 256 KiB for the
 * defaults, and dataset messages repeat their key names within far less than 4 KiB.
 */
#define GZ_WINDOW_BITS (12 + 16)
#define GZ_MEM_LEVEL   6

int em_gzip_init(struct em_gzip *g, char *err, size_t errlen)
{
    const struct em_zlib *z = em_zlib_get(err, errlen);

    memset(g, 0, sizeof *g);
    if (!z)
        return -1;
    if (z->deflateInit2_(&g->s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZ_WINDOW_BITS, GZ_MEM_LEVEL,
                         Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof g->s) != Z_OK) {
        snprintf(err, errlen, "cannot set up gzip compression");
        return -1;
    }
    g->z = z;
    return 0;
}

int em_gzip_body(struct em_gzip *g, const void *in, size_t n, struct em_buf *out)
{
    uLong bound;
    int rc;

    if (!g->z || n > 0x7fffffffu) {
        errno = EINVAL;
        return -1;
    }
    g->z->deflateReset(&g->s);
    /* deflateBound is for deflateInit's defaults; a small margin covers the gzip header. */
    bound = g->z->deflateBound(&g->s, (uLong)n) + 64;
    out->len = 0;
    if (em_buf_reserve(out, bound) < 0)
        return -1;
    g->s.next_in = (Bytef *)(uintptr_t)in; /* zlib does not write through next_in */
    g->s.avail_in = (uInt)n;
    g->s.next_out = (Bytef *)out->p;
    g->s.avail_out = (uInt)bound;
    rc = g->z->deflate(&g->s, Z_FINISH);
    if (rc != Z_STREAM_END) {
        errno = EIO;
        return -1;
    }
    out->len = bound - g->s.avail_out;
    return 0;
}

void em_gzip_release(struct em_gzip *g)
{
    if (g->z)
        g->z->deflateEnd(&g->s);
    g->z = NULL;
}
