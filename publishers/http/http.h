/* http.h - the HTTP publisher (POST over libcurl, never blocking).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Serves publishers[] entries of type "http" (CONTRACT section 4):
 *   url        http(s):// URL template with {dataset} (and {id} {agent} {site})
 *   batch      1 (default): the message JSON is the body; N > 1: a JSON array of
 *              up to N messages that render to the same URL
 *   gzip       the body is sent gzip-compressed with Content-Encoding: gzip
 *   token / token_file  "Authorization: Bearer TOKEN"; username with password or
 *              password_file: HTTP basic auth
 *   ca_file, cert_file/key_file, tls_verify (default on)
 *   timeout_ms each request (connect included) ends within it; default 5000
 * Content-Type is application/json. Verdicts: a 2xx confirms (EM_PUB_OK); 408,
 * 429 and 5xx, connection errors and timeouts are EM_PUB_RETRY and pause the
 * publisher (down) for a capped, jittered backoff (0.2 s doubling to 5 s), or for
 * a 429's Retry-After seconds (at most 60); any other 4xx is EM_PUB_DROP (the
 * dead-letter count), logged with the status. Redirects are not followed: a 3xx
 * is retried like a 5xx, since it means a configuration to fix, not a bad message.
 */
#ifndef EM_PUB_HTTP_H
#define EM_PUB_HTTP_H

#include "publisher.h"

extern const struct em_publisher http_publisher;

#endif
