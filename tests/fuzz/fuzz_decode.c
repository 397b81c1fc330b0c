/* fuzz_decode.c - libFuzzer harness for the register engine: planning, SunSpec discovery, decoding.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The Modbus reads the engine makes are answered from the fuzz input: this file
 * defines modbus_read_registers() and its siblings, and the executable's own
 * definitions win over libmodbus's at link time, so no device or socket is
 * involved. Input: byte 0 picks a built-in profile, byte 1 the link (RTU or TCP
 * gap rules) and the SunSpec layout to assume, then a stream the fake reads
 * consume: per read one control byte (below 24: a failure, its errno picked by
 * the byte: Modbus exceptions, timeout, reset) and then the words of the reply.
 * Each input polls the device three times (splits and unsupported points carry
 * over between polls, as on a real bus), runs the driver's fixup, and plans the
 * assumed SunSpec layout taken from the input's tail.
 * Any crash or sanitizer report is a bug. Build and run: make fuzz.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <modbus/modbus.h>

#include "dataset.h"
#include "driver.h"
#include "plan.h"
#include "profile.h"
#include "regdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in;
static size_t in_len, in_pos;

static uint8_t next_byte(void)
{
    return in_pos < in_len ? in[in_pos++] : 0;
}

static const int fail_errno[] = {EMBXILFUN, EMBXILADD, EMBXILVAL, EMBXSFAIL, EMBXACK,
                                 EMBXSBUSY, EMBXNACK,  EMBXMEMPAR, EMBXGPATH, EMBXGTAR,
                                 ETIMEDOUT, ECONNRESET, EPIPE,     EMBBADDATA, EMBBADCRC,
                                 EMBBADEXC, EMBMDATA,  EMBBADSLAVE, EIO,      EINVAL};

/* -1 with errno when the control byte says so; else the count. */
static int reply(int count)
{
    uint8_t c = next_byte();
    if (in_pos >= in_len && c == 0) {
        /* The input is used up: a silent device. */
        errno = ETIMEDOUT;
        return -1;
    }
    if (c < 24) {
        errno = fail_errno[c % (sizeof fail_errno / sizeof fail_errno[0])];
        return -1;
    }
    return count;
}

static int read_words(int nb, uint16_t *dest)
{
    int n = reply(nb);
    for (int i = 0; i < n; i++)
        dest[i] = (uint16_t)(next_byte() << 8 | next_byte());
    return n;
}

static int read_bits(int nb, uint8_t *dest)
{
    int n = reply(nb);
    for (int i = 0; i < n; i++)
        dest[i] = next_byte() & 1;
    return n;
}

/* The libmodbus calls the engine makes, answered from the input. */
int modbus_read_registers(modbus_t *ctx, int addr, int nb, uint16_t *dest)
{
    (void)ctx;
    (void)addr;
    return read_words(nb, dest);
}

int modbus_read_input_registers(modbus_t *ctx, int addr, int nb, uint16_t *dest)
{
    (void)ctx;
    (void)addr;
    return read_words(nb, dest);
}

int modbus_read_bits(modbus_t *ctx, int addr, int nb, uint8_t *dest)
{
    (void)ctx;
    (void)addr;
    return read_bits(nb, dest);
}

int modbus_read_input_bits(modbus_t *ctx, int addr, int nb, uint8_t *dest)
{
    (void)ctx;
    (void)addr;
    return read_bits(nb, dest);
}

int modbus_flush(modbus_t *ctx)
{
    (void)ctx;
    return 0;
}

static struct em_profile *profiles[16];
static size_t nprofiles;

static void load_profiles(void)
{
    char err[256];
    for (size_t i = 0; em_profile_builtin_names[i] && nprofiles < 16; i++) {
        struct em_profile *p = em_profile_load(em_profile_builtin_names[i], err, sizeof err);
        if (p)
            profiles[nprofiles++] = p;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct em_dataset ds;
    char err[256];

    if (!nprofiles)
        load_profiles();
    if (size < 2 || !nprofiles)
        return 0;
    struct em_profile *p = profiles[data[0] % nprofiles];
    int rtu = data[1] & 1;
    in = data + 2;
    in_len = size - 2;
    in_pos = 0;

    const struct em_driver *drv = em_driver_find(p->driver);
    struct em_regdev *d = em_regdev_new(p, rtu, err, sizeof err);
    if (!d || !drv)
        goto out;
    void *ctx = drv->create("fuzz", err, sizeof err);
    /* A non-NULL context stands in for the bus: the fake reads never use it. */
    modbus_t *mb = (modbus_t *)(void *)&ds;
    for (int poll = 0; poll < 3 && in_pos < in_len; poll++) {
        em_ds_reset(&ds, drv->name);
        if (em_regdev_read(d, mb, &ds) == 0 && ctx)
            drv->fixup(ctx, &ds);
        if (poll == 1 && (data[1] & 2))
            em_regdev_reset(d); /* a reconnect: discover again */
    }
    if (ctx)
        drv->destroy(ctx);

    /* The planner on an assumed SunSpec layout from the input's tail. */
    if (p->nmodels && (data[1] & 4)) {
        uint16_t ids[8], lens[8];
        size_t n = 0;
        const uint8_t *t = data + 2;
        size_t tl = size - 2;
        while (n < 8 && tl >= 4) {
            ids[n] = (uint16_t)(t[0] << 8 | t[1]);
            lens[n] = (uint16_t)(t[2] << 8 | t[3]);
            n++;
            t += 4;
            tl -= 4;
        }
        if (n)
            em_regdev_assume(d, 40000, ids, lens, n);
    }
out:
    em_regdev_free(d);
    return 0;
}
