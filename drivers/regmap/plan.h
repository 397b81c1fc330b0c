/* plan.h - turn a device's points into the fewest Modbus read requests.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Neighbouring points are merged; a gap of unread registers is read through when
 * it is at most `gap_max` registers (cheaper than another request: a TCP round
 * trip costs far more than a few registers, an RTU request costs framing, two
 * silent intervals and the device's turnaround). A request never exceeds the
 * Modbus limits (125 registers, 2000 bits) and never spans into a point marked as
 * a barrier, nor across a split the engine learned from an exception.
 */
#ifndef EM_PLAN_H
#define EM_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

#define EM_MAX_READ_REGS 125  /* MODBUS_MAX_READ_REGISTERS (FC 03/04) */
#define EM_MAX_READ_BITS 2000 /* MODBUS_MAX_READ_BITS (FC 01/02) */
#define EM_NOT_PLANNED   UINT32_MAX

struct em_req {
    enum em_space space;
    uint16_t addr;
    uint16_t count;    /* registers or bits */
    uint32_t buf_off;  /* where its words land in the device's register buffer */
    uint32_t first;    /* index into plan->order of its first point */
    uint32_t npoints;  /* points served by this request */
};

struct em_plan {
    struct em_req *reqs; /* owned */
    size_t nreqs;
    uint32_t *order;     /* owned: point indices sorted by space, address */
    uint32_t *point_off; /* owned: per point, its buffer offset or EM_NOT_PLANNED */
    size_t nwords;       /* buffer words needed (bits use one word each) */
};

/* Registers (or bits) one point occupies. */
unsigned em_point_span(const struct em_point *pt);

/*
 * Build the plan for `pts` (borrowed for the call). `skip[i]` excludes point i
 * (unsupported); `split_before[i]` forbids a request from spanning into point i
 * from a lower address. Either array may be NULL. Returns 0, or -1 with errno
 * EINVAL (a point larger than one request) or ENOMEM. The plan is released with
 * em_plan_release; building into a plan that holds one releases it first.
 */
int em_plan_build(struct em_plan *plan, const struct em_point *pts, size_t npts,
                  const uint8_t *skip, const uint8_t *split_before, int gap_max);
void em_plan_release(struct em_plan *plan);

/* The fewest requests possible if every gap could be read through: the lower
 * bound `make bench` prints next to the plan. */
size_t em_plan_optimum(const struct em_point *pts, size_t npts);

#endif
