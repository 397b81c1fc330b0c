/* regdev.h - one device's register engine: plan, read, split on exceptions, decode.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Everything a poll needs is allocated when the device is created or (SunSpec)
 * discovered; a poll itself allocates nothing. Not thread-safe: a device belongs
 * to the poll thread of its bus.
 */
#ifndef EM_REGDEV_H
#define EM_REGDEV_H

#include <modbus.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "plan.h"
#include "profile.h"

struct em_regdev_stats {
    unsigned long requests;    /* Modbus requests sent */
    unsigned long exceptions;  /* exception replies */
    unsigned long splits;      /* merged requests split after an exception */
    unsigned long unsupported; /* points found unsupported (remembered) */
    unsigned long discoveries; /* SunSpec scans */
};

struct em_regdev {
    const struct em_profile *profile; /* borrowed for the device lifetime */
    struct em_point *pts;             /* fixed profile: borrowed; SunSpec: owned */
    size_t npts;
    int pts_owned;
    uint8_t *unsupported;             /* owned, per point: excluded from plans */
    uint8_t *split_before;            /* owned, per point: learned request splits */
    uint8_t *valid;                   /* owned, per point: read this cycle */
    struct em_plan plan;
    uint16_t *regs;                   /* owned: plan.nwords words */
    uint8_t *bits;                    /* owned: scratch for coil/discrete reads */
    int gap_max;
    int need_plan;
    int discovered;                   /* SunSpec: models located */
    uint32_t sunspec_base;
    uint16_t models_found[16];
    size_t nmodels_found;
    struct em_regdev_stats stats;
};

/* Create the engine for a profile (borrowed for the engine's lifetime). `rtu`
 * selects the smaller gap allowance. NULL with err on failure. */
struct em_regdev *em_regdev_new(const struct em_profile *profile, int rtu, char *err,
                                size_t errlen);

/* Forget discovery results (after a reconnect: the device may have changed). */
void em_regdev_reset(struct em_regdev *d);

/*
 * Poll the device once over `mb` (borrowed; slave id already selected) and fill
 * `ds` (reset by the caller) with the decoded points under their profile names.
 * Returns 0 when at least one point was read (ds->quality is EM_Q_PARTIAL when a
 * required point was not), or -1 with errno: ETIMEDOUT / ECONNRESET / EPIPE /
 * libmodbus codes when the device or link failed (the caller reconnects), ENOTSUP
 * when SunSpec discovery found no model the profile knows, ENODATA when every
 * point failed with exceptions.
 */
int em_regdev_read(struct em_regdev *d, modbus_t *mb, struct em_dataset *ds);

void em_regdev_free(struct em_regdev *d);

/*
 * Lay out a SunSpec device as if discovery had found `n` models with ids[i] and
 * lens[i] (their L) one after another from base + 2, then plan. Discovery uses
 * the same code; tests and the benchmark use this to plan without a device.
 * Returns 0, or -1 with errno (ENOTSUP: no model known to the profile).
 */
int em_regdev_assume(struct em_regdev *d, uint32_t base, const uint16_t *ids,
                     const uint16_t *lens, size_t n);

/* Build the plan now (normally done lazily by the first read). 0 or -1. */
int em_regdev_plan(struct em_regdev *d);

/* 1 when errno from a Modbus call means the link, not the request, failed. */
int em_modbus_link_error(int err);

#endif
