/* live.h - the live lane: fresh readings overtake a draining backlog.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * While a publisher drains a large backlog, readings polled now would wait
 * behind it. The core keeps a copy of each fresh reading here and sends it at
 * once, beside the backlog. Every copy the broker confirmed is remembered by
 * (device, seq); when the backlog reaches that reading it is acked without being
 * sent again, also when a rewind makes the backlog read it a second time. Each
 * lane keeps a device's readings in order; a consumer sees the newest readings
 * first and the backlog filling in behind them. A copy that is not confirmed
 * (link lost, window full) is simply forgotten: the backlog still holds the
 * reading, so nothing is lost and nothing is sent twice in the normal case.
 * Fixed memory: a byte ring for waiting copies and, per device, EM_LIVE_RUNS runs
 * of consecutive confirmed seqs. A device's lane confirms its readings in order,
 * so one run covers a whole drain however long; a run starts anew only where a
 * copy went unconfirmed. When a device needs more runs than that, the oldest is
 * forgotten and its readings go out twice: a duplicate, never a loss. Not
 * thread-safe (the core thread owns it).
 */
#ifndef EM_LIVE_H
#define EM_LIVE_H

#include <stddef.h>
#include <stdint.h>

#define EM_LIVE_RUNS 8

struct em_live;

/* A lane for `ndevices` devices and `bytes` of waiting copies. NULL (ENOMEM). */
struct em_live *em_live_new(size_t ndevices, size_t bytes);
void em_live_free(struct em_live *l);

/* Copy a fresh message in (borrowed for the call); the oldest waiting copies make
 * room when the ring is full (they are still in the backlog). */
void em_live_put(struct em_live *l, const char *msg, size_t len);
/* The oldest waiting copy, or NULL. Valid until the next put or pop. */
const char *em_live_peek(struct em_live *l, size_t *len);
void em_live_pop(struct em_live *l);
size_t em_live_waiting(const struct em_live *l);
/* Forget every waiting copy (the backlog is gone, or the link dropped). */
void em_live_drop_waiting(struct em_live *l);

/* The broker confirmed device `dev`'s reading `seq` ahead of the backlog. */
void em_live_confirmed(struct em_live *l, size_t dev, uint64_t seq);
/* 1 when the backlog's reading (dev, seq) was already confirmed, else 0. */
int em_live_take(struct em_live *l, size_t dev, uint64_t seq);

#endif
