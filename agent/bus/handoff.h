/* handoff.h - the bounded hand-off of messages from bus threads to the core.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A byte ring of length-prefixed records under one mutex: many producers (bus
 * threads), one consumer (the core). The ring is allocated once; pushing copies
 * the message and never allocates. When the core falls behind so far that the
 * ring is full, the oldest records are dropped and counted rather than blocking
 * a bus thread: polling must never wait for the uplink.
 */
#ifndef EM_HANDOFF_H
#define EM_HANDOFF_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct em_handoff {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    unsigned char *buf; /* owned */
    size_t cap, head, tail, used;
    uint64_t dropped;
    uint64_t pushed;
};

/* Allocate a ring of `cap` bytes. 0 or -1 (ENOMEM). */
int em_handoff_init(struct em_handoff *h, size_t cap);
void em_handoff_release(struct em_handoff *h);

/* Copy one record (borrowed for the call) in; drops oldest records if needed.
 * Returns 0, or -1 with EMSGSIZE when the record can never fit. */
int em_handoff_push(struct em_handoff *h, const void *rec, size_t len);

/* Pop one record into out (outlen bytes); waits up to timeout_ms when empty.
 * Returns its length, 0 when nothing arrived, -1 with EMSGSIZE if out is small
 * (the record is dropped). */
long em_handoff_pop(struct em_handoff *h, void *out, size_t outlen, int timeout_ms);

#endif
