/* device.c - one polled device at run time: profile engine, driver, sequence, health.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "device.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *em_strerror(int err)
{
    if (err == ENOTSUP)
        return "no SunSpec model this profile knows";
    if (err == ENODATA)
        return "every register read failed with an exception";
    /* modbus_strerror covers libmodbus's own range and falls back to strerror. */
    return modbus_strerror(err);
}

int em_device_init(struct em_device *d, const struct em_dev_conf *c, int rtu,
                   const char *state_dir, int seq_readonly, char *err, size_t errlen)
{
    char e[200];
    memset(d, 0, sizeof *d);
    d->conf = c;
    d->driver = em_driver_find(c->driver);
    if (!d->driver) {
        snprintf(err, errlen, "device '%s': no driver '%s'", c->id, c->driver);
        return -1;
    }
    d->drv_ctx = d->driver->create(c->id, e, sizeof e);
    if (!d->drv_ctx) {
        snprintf(err, errlen, "device '%s': %s", c->id, e);
        return -1;
    }
    d->rd = em_regdev_new(c->prof, rtu, e, sizeof e);
    if (!d->rd) {
        snprintf(err, errlen, "device '%s': %s", c->id, e);
        goto fail;
    }
    if (em_seq_open(&d->seq, state_dir, c->id, c->interval_ms, seq_readonly, e, sizeof e) < 0) {
        snprintf(err, errlen, "device '%s': %s", c->id, e);
        goto fail;
    }
    d->seq_open = 1;
    return 0;
fail:
    em_device_release(d);
    return -1;
}

static void set_timeout(modbus_t *mb, int ms)
{
    modbus_set_response_timeout(mb, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
}

int em_device_poll(struct em_device *d, modbus_t *mb)
{
    em_ds_reset(&d->ds, d->driver->name);
    modbus_set_slave(mb, d->conf->unit);
    set_timeout(mb, d->conf->timeout_ms);
    if (em_regdev_read(d->rd, mb, &d->ds) < 0) {
        d->last_errno = errno;
        d->polls_failed++;
        d->fails++;
        d->up = 0;
        errno = d->last_errno;
        return -1;
    }
    if (d->driver->fixup(d->drv_ctx, &d->ds) < 0) {
        d->last_errno = errno;
        d->polls_failed++;
        d->fails++;
        return -1;
    }
    d->fails = 0;
    d->up = 1;
    d->last_errno = 0;
    if (d->ds.quality == EM_Q_PARTIAL)
        d->polls_partial++;
    else
        d->polls_ok++;
    return 0;
}

int em_device_message(struct em_device *d, const char *agent, const char *site,
                      const char *boot, int64_t ts_ms, char *out, size_t outlen)
{
    struct em_msg_meta m = {d->conf->id, agent, site, 0, boot, ts_ms};
    m.seq = d->seq.readonly ? d->seq.next : em_seq_claim(&d->seq);
    d->last_seq = m.seq;
    return em_msg_format(&d->ds, &m, out, outlen);
}

void em_device_link_reset(struct em_device *d)
{
    em_regdev_reset(d->rd);
}

void em_device_release(struct em_device *d)
{
    if (d->seq_open)
        em_seq_close(&d->seq);
    em_regdev_free(d->rd);
    if (d->driver && d->drv_ctx)
        d->driver->destroy(d->drv_ctx);
    memset(d, 0, sizeof *d);
}
