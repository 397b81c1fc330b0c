/* pms.c - battery / power management system driver: aggregates, state, signs.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "driver.h"

#include <math.h>
#include <string.h>

/* Below this current (A) a pack counts as idle: BMS current sensors read a few
 * tens of mA of noise at rest. */
#define IDLE_CURRENT_A 0.05

static void cell_aggregates(struct em_dataset *ds)
{
    const struct em_value *cells = em_ds_cfind(ds, "cell_voltages_v");
    if (!cells || cells->type != EM_V_NUMS || cells->u.list.n == 0)
        return;
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (unsigned i = 0; i < cells->u.list.n; i++) {
        double v = ds->nums[cells->u.list.off + i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
    }
    if (!em_ds_cfind(ds, "cell_voltage_min_v"))
        em_ds_set_num(ds, "cell_voltage_min_v", lo);
    if (!em_ds_cfind(ds, "cell_voltage_max_v"))
        em_ds_set_num(ds, "cell_voltage_max_v", hi);
    if (!em_ds_cfind(ds, "cell_voltage_avg_v"))
        em_ds_set_num(ds, "cell_voltage_avg_v", round(sum / cells->u.list.n * 1e4) / 1e4);
}

static int pms_fixup(void *ctx, struct em_dataset *ds)
{
    double soc, cap, amps;
    (void)ctx;
    em_derive_product(ds, "power_w", "voltage_v", "current_a");
    cell_aggregates(ds);
    if (!em_ds_cfind(ds, "remaining_ah") && em_ds_get_num(ds, "soc_pct", &soc) == 0 &&
        em_ds_get_num(ds, "capacity_ah", &cap) == 0)
        em_ds_set_num(ds, "remaining_ah", round(soc * cap) / 100.0);
    /* Sign convention (CONTRACT section 3): current_a > 0 means charging. */
    if (!em_ds_cfind(ds, "state") && em_ds_get_num(ds, "current_a", &amps) == 0)
        em_ds_set_str(ds, "state", amps > IDLE_CURRENT_A    ? "charging"
                                   : amps < -IDLE_CURRENT_A ? "discharging"
                                                            : "idle");
    return 0;
}

const struct em_driver pms_driver = {
    .abi = EM_DRIVER_ABI,
    .name = "pms",
    .description = "battery / power management system",
    .create = em_driver_stateless,
    .fixup = pms_fixup,
    .destroy = em_driver_nothing,
};
