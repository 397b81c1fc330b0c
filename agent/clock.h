/* clock.h - the two clocks every part of the agent uses.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Deadlines, backoffs and schedules use the monotonic clock (a clock step from
 * NTP on a router that just got its time must not stall or rush anything);
 * message timestamps use wall-clock time. Both are thread-safe.
 */
#ifndef EM_CLOCK_H
#define EM_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t em_mono_ms(void);
/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t em_wall_ms(void);

#endif
