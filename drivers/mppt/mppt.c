/* mppt.c - MPPT solar charge controller driver: derived values and defaults.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "driver.h"

static int mppt_fixup(void *ctx, struct em_dataset *ds)
{
    (void)ctx;
    /* Controllers without a power register still report volts and amps. */
    em_derive_product(ds, "pv_power_w", "pv_voltage_v", "pv_current_a");
    em_derive_product(ds, "load_power_w", "load_voltage_v", "load_current_a");
    em_derive_product(ds, "charge_power_w", "battery_voltage_v", "battery_current_a");
    return 0;
}

const struct em_driver mppt_driver = {
    .abi = EM_DRIVER_ABI,
    .name = "mppt",
    .description = "MPPT solar charge controller",
    .create = em_driver_stateless,
    .fixup = mppt_fixup,
    .destroy = em_driver_nothing,
};
