/* device.h - one polled device at run time: profile engine, driver, sequence, health.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A device belongs to the poll thread of its bus; nothing here is shared with
 * other threads except through the messages it produces, and the commit side of
 * its seq store, which the core thread drives as the queue takes the messages.
 */
#ifndef EM_DEVICE_H
#define EM_DEVICE_H

#include <modbus.h>
#include <stdint.h>

#include "clock.h"

#include "conf.h"
#include "dataset.h"
#include "driver.h"
#include "message.h"
#include "regdev.h"
#include "seqstore.h"

/* A device failing this many polls in a row is probed less often, so a dead
 * device on a shared RS-485 line costs its neighbours at most one timeout per
 * backoff period instead of one per interval. */
#define EM_DEV_FAILS_BEFORE_BACKOFF 3
#define EM_DEV_BACKOFF_MAX_MS       60000

struct em_device {
    const struct em_dev_conf *conf;  /* borrowed from the config tree */
    const struct em_driver *driver;
    void *drv_ctx;                   /* owned via driver->destroy */
    struct em_regdev *rd;            /* owned */
    struct em_seq seq;
    int seq_open;
    uint64_t last_seq;               /* of the last message formatted */
    /* schedule (monotonic ms) */
    int64_t next_due;
    int fails;                       /* consecutive failed polls */
    int disabled;                    /* feature device.<id> false (__atomic, core thread) */
    int64_t poll_started_ms;         /* monotonic, when the current poll began */
    /* health */
    int up;
    int last_errno;
    uint64_t polls_ok, polls_partial, polls_failed;
    struct em_dataset ds;            /* the working dataset of the last poll */
};

/*
 * Set up a device from its config (borrowed for the device lifetime). `rtu`
 * tunes the request planner. The seq store opens under `state_dir`, read-only
 * when seq_readonly (one-shot `edgemon poll`). Returns 0 or -1 with err.
 */
int em_device_init(struct em_device *d, const struct em_dev_conf *c, int rtu,
                   const char *state_dir, int seq_readonly, char *err, size_t errlen);

/*
 * Poll once over `mb` (borrowed): selects the unit id and timeouts, reads,
 * decodes and completes d->ds. Returns 0 (d->ds.quality tells ok/partial) or -1
 * with errno (see em_regdev_read).
 */
int em_device_poll(struct em_device *d, modbus_t *mb);

/* Format d->ds as the CONTRACT message, claiming the next seq (unless readonly;
 * it is left in d->last_seq). Whoever stores the message commits the seq
 * (em_seq_commit). Returns the length or -1 (ENOSPC). */
int em_device_message(struct em_device *d, const char *agent, const char *site,
                      const char *boot, int64_t ts_ms, char *out, size_t outlen);

/* Forget discovery after the link was re-established. */
void em_device_link_reset(struct em_device *d);

void em_device_release(struct em_device *d);


/* Text for an errno from libmodbus or the system. */
const char *em_strerror(int err);

#endif
