/* gzip.h - gzip-compress request bodies with the run-time loaded zlib.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * One deflate stream per publisher, set up once and reset per body, so the
 * per-request path does not allocate (zlib's state is allocated at init).
 */
#ifndef EM_PUB_GZIP_H
#define EM_PUB_GZIP_H

#include <stddef.h>

#include "curl/curlapi.h"
#include "curl/wire.h"

struct em_gzip {
    const struct em_zlib *z; /* NULL until init succeeded */
    z_stream s;
};

/* Load zlib and set up the stream. 0, or -1 with a message in err. */
int em_gzip_init(struct em_gzip *g, char *err, size_t errlen);
/* Replace out's contents with the gzip member of in[0..n). 0, or -1 (ENOMEM, EIO). */
int em_gzip_body(struct em_gzip *g, const void *in, size_t n, struct em_buf *out);
/* Free zlib's state; accepts a never-initialised (zeroed) struct. */
void em_gzip_release(struct em_gzip *g);

#endif
