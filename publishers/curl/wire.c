/* wire.c - buffers, base64, JSON strings, ids and backoff (see wire.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curl/wire.h"

int em_buf_reserve(struct em_buf *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->cap - b->len >= more)
        return 0;
    if (more > SIZE_MAX / 2 - b->len) {
        errno = ENOMEM;
        return -1;
    }
    cap = b->cap ? b->cap : 256;
    while (cap - b->len < more)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int em_buf_add(struct em_buf *b, const void *data, size_t n)
{
    if (em_buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

int em_buf_adds(struct em_buf *b, const char *s)
{
    return em_buf_add(b, s, strlen(s));
}

void em_buf_release(struct em_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

size_t em_base64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

int em_buf_base64(struct em_buf *b, const void *data, size_t n)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = data;
    char *o;
    size_t i;

    if (em_buf_reserve(b, em_base64_len(n)) < 0)
        return -1;
    o = b->p + b->len;
    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
        *o++ = abc[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;

        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
        *o++ = '=';
    }
    b->len = (size_t)(o - b->p);
    return 0;
}

int em_buf_json_str(struct em_buf *b, const char *s)
{
    /* Worst case: every byte as \u00XX, plus the quotes. */
    if (em_buf_reserve(b, strlen(s) * 6 + 2) < 0)
        return -1;
    b->p[b->len++] = '"';
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            b->p[b->len++] = '\\';
            b->p[b->len++] = (char)*c;
        } else if (*c < 0x20) {
            b->len += (size_t)snprintf(b->p + b->len, 7, "\\u%04x", *c);
        } else {
            b->p[b->len++] = (char)*c;
        }
    }
    b->p[b->len++] = '"';
    return 0;
}

int em_msg_seq(const char *payload, size_t len, uint64_t *seq)
{
    static const char key[] = "\"seq\":";
    const size_t klen = sizeof key - 1;
    uint64_t v = 0;
    size_t i, k;

    for (i = 0; i + klen < len; i++) {
        if (memcmp(payload + i, key, klen) != 0)
            continue;
        k = i + klen;
        while (k < len && payload[k] == ' ')
            k++;
        if (k >= len || payload[k] < '0' || payload[k] > '9')
            return -1;
        for (; k < len && payload[k] >= '0' && payload[k] <= '9'; k++) {
            uint64_t d = (uint64_t)(payload[k] - '0');

            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
        }
        *seq = v;
        return 0;
    }
    return -1;
}

int em_msg_id(char *out, size_t outlen, const char *agent, const char *device, uint64_t seq)
{
    int n = snprintf(out, outlen, "%s:%s:%" PRIu64, agent ? agent : "", device ? device : "",
                     seq);

    if (n < 0 || (size_t)n >= outlen) {
        if (outlen)
            out[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    return n;
}

void em_backoff_init(struct em_backoff *b, long min_ms, long max_ms, uint32_t seed)
{
    b->min_ms = min_ms;
    b->max_ms = max_ms;
    b->cur_ms = min_ms;
    b->rng = seed ? seed : 1; /* xorshift stays at 0 forever */
}

long em_backoff_next(struct em_backoff *b)
{
    long d;

    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 17;
    b->rng ^= b->rng << 5;
    d = b->cur_ms - (long)(b->rng % (uint32_t)(b->cur_ms / 4 + 1));
    b->cur_ms = b->cur_ms * 2 > b->max_ms ? b->max_ms : b->cur_ms * 2;
    return d;
}

void em_backoff_reset(struct em_backoff *b)
{
    b->cur_ms = b->min_ms;
}

int64_t em_wire_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
