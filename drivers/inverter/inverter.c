/* inverter.c - inverter driver: derived DC values and per-MPPT-input power.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "driver.h"

#include <math.h>

static int inverter_fixup(void *ctx, struct em_dataset *ds)
{
    (void)ctx;
    em_derive_product(ds, "dc_power_w", "dc_voltage_v", "dc_current_a");
    for (size_t i = 0; i < ds->ninputs; i++) {
        struct em_mppt_input *in = &ds->inputs[i];
        if (!(in->have & 4) && (in->have & 3) == 3) {
            in->dc_power_w = round(in->dc_voltage_v * in->dc_current_a * 1000.0) / 1000.0;
            in->have |= 4;
        }
    }
    return 0;
}

const struct em_driver inverter_driver = {
    .abi = EM_DRIVER_ABI,
    .name = "inverter",
    .description = "PV inverter",
    .create = em_driver_stateless,
    .fixup = inverter_fixup,
    .destroy = em_driver_nothing,
};
