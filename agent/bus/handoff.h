/* handoff.h - the bounded hand-off of messages from bus threads to the core.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A byte ring of length-prefixed records under one mutex: many producers (bus
 * threads), one consumer (the core). The ring is allocated once; pushing copies
 * the message and never allocates. When the core falls behind so far that the
 * ring is full, the oldest records are dropped and counted rather than blocking
 * a bus thread: polling must never wait for the uplink.
 *
 * Each record carries a tag: the seq store and seq of its reading, which the core
 * commits as it hands the reading to the queue (see seqstore.h).
 *
 * The core sleeps in poll(2) on an eventfd rather than on a condition variable,
 * so a signal handler can wake it too (em_handoff_kick): the core can then sleep
 * as long as it has nothing to do and still stop or reload at once. A producer
 * writes the eventfd only when the core is asleep, not per record.
 */
#ifndef EM_HANDOFF_H
#define EM_HANDOFF_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct em_seq;

struct em_handoff_tag {
    struct em_seq *store; /* borrowed; NULL: nothing to commit */
    uint64_t seq;
};

struct em_handoff {
    pthread_mutex_t lock;
    int wake_fd;        /* owned eventfd */
    int sleeping;       /* under lock: the consumer is (about to be) in poll */
    unsigned char *buf; /* owned */
    size_t cap, head, tail, used;
    uint64_t dropped;
    uint64_t pushed;
};

/* Allocate a ring of `cap` bytes and its eventfd. 0 or -1 with errno. */
int em_handoff_init(struct em_handoff *h, size_t cap);
void em_handoff_release(struct em_handoff *h);

/* Copy one record (borrowed for the call) and its tag (NULL: none) in; drops
 * oldest records if needed. Returns 0, or -1 with EMSGSIZE when the record can
 * never fit. */
int em_handoff_push(struct em_handoff *h, const void *rec, size_t len,
                    const struct em_handoff_tag *tag);

/* Pop one record into out (outlen bytes) and its tag into *tag (may be NULL);
 * waits up to timeout_ms when empty, less when kicked or interrupted by a signal.
 * Returns its length, 0 when nothing arrived, -1 with EMSGSIZE if out is small
 * (the record is dropped, its tag still set). */
long em_handoff_pop(struct em_handoff *h, void *out, size_t outlen, int timeout_ms,
                    struct em_handoff_tag *tag);

/* End the consumer's current or next wait. Async-signal-safe (one write(2)). */
void em_handoff_kick(struct em_handoff *h);

#endif
