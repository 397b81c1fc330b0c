/* driver.c - helpers shared by the drivers.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "driver.h"

#include <math.h>

void em_derive_product(struct em_dataset *ds, const char *out, const char *a, const char *b)
{
    double x, y;
    if (em_ds_cfind(ds, out) || em_ds_get_num(ds, a, &x) < 0 || em_ds_get_num(ds, b, &y) < 0)
        return;
    em_ds_set_num(ds, out, round(x * y * 1000.0) / 1000.0);
}

static int stateless_ctx;

void *em_driver_stateless(const char *device_id, char *err, size_t errlen)
{
    (void)device_id;
    (void)err;
    (void)errlen;
    return &stateless_ctx;
}

void em_driver_nothing(void *ctx)
{
    (void)ctx;
}
