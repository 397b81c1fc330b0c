/* plan.c - turn a device's points into the fewest Modbus read requests.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

unsigned em_point_span(const struct em_point *pt)
{
    return (unsigned)pt->nregs * pt->count;
}

static int before(const struct em_point *pts, uint32_t a, uint32_t b)
{
    if (pts[a].space != pts[b].space)
        return pts[a].space < pts[b].space;
    return pts[a].addr < pts[b].addr;
}

/* Insertion sort: point tables are small, the sort is stable (equal addresses
 * keep profile order) and, unlike qsort, needs no global context, so bus threads
 * can plan concurrently. */
static void sort_points(const struct em_point *pts, uint32_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = idx[i];
        size_t j = i;
        while (j > 0 && before(pts, v, idx[j - 1])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

void em_plan_release(struct em_plan *plan)
{
    if (!plan)
        return;
    free(plan->reqs);
    free(plan->order);
    free(plan->point_off);
    memset(plan, 0, sizeof *plan);
}

static unsigned limit_of(enum em_space s)
{
    return s == EM_SPACE_COIL || s == EM_SPACE_DISCRETE ? EM_MAX_READ_BITS : EM_MAX_READ_REGS;
}

int em_plan_build(struct em_plan *plan, const struct em_point *pts, size_t npts,
                  const uint8_t *skip, const uint8_t *split_before, int gap_max)
{
    em_plan_release(plan);
    if (npts == 0)
        return 0;
    plan->order = malloc(npts * sizeof *plan->order);
    plan->point_off = malloc(npts * sizeof *plan->point_off);
    plan->reqs = malloc(npts * sizeof *plan->reqs);
    if (!plan->order || !plan->point_off || !plan->reqs) {
        em_plan_release(plan);
        errno = ENOMEM;
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < npts; i++) {
        plan->point_off[i] = EM_NOT_PLANNED;
        if (skip && skip[i])
            continue;
        if (em_point_span(&pts[i]) > limit_of(pts[i].space)) {
            em_plan_release(plan);
            errno = EINVAL;
            return -1;
        }
        plan->order[n++] = (uint32_t)i;
    }
    sort_points(pts, plan->order, n);

    struct em_req *cur = NULL;
    uint32_t end = 0; /* one past the last register of cur */
    for (size_t k = 0; k < n; k++) {
        uint32_t i = plan->order[k];
        const struct em_point *pt = &pts[i];
        uint32_t a = pt->addr, e = pt->addr + em_point_span(pt);
        int join = 0;
        if (cur && cur->space == pt->space) {
            uint32_t new_end = e > end ? e : end;
            int overlap = a < end;
            int gap_ok = overlap || (int)(a - end) <= gap_max;
            int barrier = !overlap && (pt->barrier || (split_before && split_before[i]));
            join = gap_ok && !barrier && new_end - cur->addr <= limit_of(pt->space);
        }
        if (join) {
            if (e > end)
                end = e;
            cur->count = (uint16_t)(end - cur->addr);
            cur->npoints++;
        } else {
            cur = &plan->reqs[plan->nreqs++];
            cur->space = pt->space;
            cur->addr = (uint16_t)a;
            cur->count = (uint16_t)(e - a);
            cur->first = (uint32_t)k;
            cur->npoints = 1;
            end = e;
        }
    }
    uint32_t off = 0;
    for (size_t r = 0; r < plan->nreqs; r++) {
        struct em_req *rq = &plan->reqs[r];
        rq->buf_off = off;
        for (uint32_t k = rq->first; k < rq->first + rq->npoints; k++) {
            uint32_t i = plan->order[k];
            plan->point_off[i] = off + (pts[i].addr - rq->addr);
        }
        off += rq->count;
    }
    plan->nwords = off;
    return 0;
}

size_t em_plan_optimum(const struct em_point *pts, size_t npts)
{
    struct em_plan p = {0};
    size_t n;
    if (em_plan_build(&p, pts, npts, NULL, NULL, EM_MAX_READ_BITS) < 0)
        return 0;
    n = p.nreqs;
    em_plan_release(&p);
    return n;
}
