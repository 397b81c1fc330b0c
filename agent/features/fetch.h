/* fetch.h - features.url: the flag document polled over HTTP(S) with libcurl.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * GET every poll_s seconds without blocking (the curl engine of publishers/curl,
 * so libcurl is loaded only when features.url is set). The reply's ETag goes back
 * in If-None-Match: 304 means unchanged; a 200 whose body equals the last one is
 * unchanged too (servers without ETags). Failures back off: poll_s doubled per
 * failure in a row, up to 16 times poll_s (at most 10 minutes, never below
 * poll_s), jittered. Core thread only.
 */
#ifndef EM_FETCH_H
#define EM_FETCH_H

#include <stddef.h>
#include <stdint.h>

struct em_fetch;

/* url and the token are copied. NULL with a message in err (no libcurl, or this
 * build has no curl at all: ENOTSUP). The first GET goes out at the first service. */
struct em_fetch *em_fetch_new(const char *url, int poll_s, long timeout_ms, char *err,
                              size_t errlen);
void em_fetch_free(struct em_fetch *f); /* NULL-safe */

/*
 * Progress. Returns 1 when a changed document arrived: *body (owned by the
 * fetcher, valid until the next call) and *len; *body is NULL when the document
 * was larger than the flag size limit (*len is then the limit + 1). Returns -1
 * with the reason in err when a poll failed, 0 otherwise.
 */
int em_fetch_service(struct em_fetch *f, int64_t now_ms, const char **body, size_t *len,
                     char *err, size_t errlen);

#endif
