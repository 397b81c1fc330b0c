/* registry.c - the static tables of compiled-in drivers.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "driver.h"

static const struct em_driver *const drivers[] = {&pms_driver, &mppt_driver, &inverter_driver};

const struct em_driver *em_driver_find(const char *name)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (drivers[i]->abi == EM_DRIVER_ABI && strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}
