/* wire.h - byte buffers, base64, JSON strings, message ids and backoff for the
 * kubemq and http publishers: the parts that touch no network (unit-tested).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#ifndef EM_PUB_WIRE_H
#define EM_PUB_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. `p` is owned by the buffer; em_buf_release frees it. */
struct em_buf {
    char *p;
    size_t len, cap;
};

/* Room for `more` bytes after len. 0, or -1 with errno ENOMEM (buffer unchanged). */
int em_buf_reserve(struct em_buf *b, size_t more);
/* Append n bytes; 0 or -1 (ENOMEM). */
int em_buf_add(struct em_buf *b, const void *data, size_t n);
int em_buf_adds(struct em_buf *b, const char *s);
void em_buf_release(struct em_buf *b);

/* Bytes of standard base64 (with padding) for n input bytes. */
size_t em_base64_len(size_t n);
/* Append the standard base64 of data[0..n) (RFC 4648 section 4, padded); 0 or -1. */
int em_buf_base64(struct em_buf *b, const void *data, size_t n);
/* Append s as a JSON string, quotes included, escaping what JSON requires; 0 or -1. */
int em_buf_json_str(struct em_buf *b, const char *s);

/*
 * The "seq" of a dataset message (CONTRACT section 3): the first `"seq":N` in
 * the JSON text. 0 with *seq set, or -1 when there is none.
 */
int em_msg_seq(const char *payload, size_t len, uint64_t *seq);

/*
 * The broker-side id of one reading, "{agent}:{device}:{seq}", stable across
 * re-sends (a resend after a crash carries the same id, so consumers can
 * de-duplicate). Returns the length, or -1 with errno ENAMETOOLONG.
 */
int em_msg_id(char *out, size_t outlen, const char *agent, const char *device, uint64_t seq);

/*
 * Capped exponential backoff with jitter: each next() returns the current delay
 * less up to a quarter (so a fleet of gateways does not come back in step) and
 * doubles it up to max_ms; reset() goes back to min_ms.
 */
struct em_backoff {
    long min_ms, max_ms, cur_ms;
    uint32_t rng; /* xorshift state, never 0 */
};

void em_backoff_init(struct em_backoff *b, long min_ms, long max_ms, uint32_t seed);
long em_backoff_next(struct em_backoff *b);
void em_backoff_reset(struct em_backoff *b);

/* Monotonic milliseconds. */
int64_t em_wire_now_ms(void);

#endif
