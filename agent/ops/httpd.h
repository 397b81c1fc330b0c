/* httpd.h - the local HTTP API and status page (CONTRACT section 6) on libmicrohttpd.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * libmicrohttpd is loaded at run time (publishers/dl.h) and only when
 * `http.listen` is set, so a site without the HTTP section pays nothing for it.
 * The server runs on libmicrohttpd's own threads (one per connection, at most
 * EM_HTTPD_MAX_CONNECTIONS, so a /api/snapshot waiting for its deadline does
 * not hold up /metrics) and reads the agent only through the em_ops snapshot.
 *
 * Security: GET and HEAD only; a request line and headers above
 * EM_HTTPD_MAX_REQUEST bytes are refused by libmicrohttpd (414/431); a request
 * with a body is answered 405 without reading the body. When `http.token_file`
 * is set every request needs `Authorization: Bearer <token>` (else 401); the
 * configuration refuses a non-loopback listen without a token file.
 */
#ifndef EM_HTTPD_H
#define EM_HTTPD_H

#include <stddef.h>

#include "conf.h"
#include "ops.h"

#define EM_HTTPD_MAX_CONNECTIONS 8
#define EM_HTTPD_MAX_REQUEST     8192
#define EM_HTTPD_IDLE_TIMEOUT_S  10
#define EM_HTTPD_SNAPSHOT_MAX_MS 30000

/*
 * Poll every device now and write the gathered site message into b, waiting at
 * most timeout_ms. Called on an HTTP thread; `arg` as given to em_httpd_start.
 */
typedef void (*em_httpd_snapshot_fn)(void *arg, int timeout_ms, struct em_sb *b);

struct em_httpd;

/*
 * Listen on conf->http (borrowed, like `ops` and `arg`, until em_httpd_stop).
 * Returns the server, or NULL with a message in err (the library cannot be
 * loaded, the token file cannot be read, the address is taken).
 */
struct em_httpd *em_httpd_start(const struct em_conf *conf, struct em_ops *ops,
                                em_httpd_snapshot_fn snapshot, void *arg, char *err,
                                size_t errlen);

/* Stop listening, wait for the requests in progress, free. NULL-safe. */
void em_httpd_stop(struct em_httpd *h);

#endif
