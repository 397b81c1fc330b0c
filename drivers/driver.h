/* driver.h - the driver interface: from decoded points to a canonical dataset.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The register map is data (a profile); the core reads and decodes it into the
 * dataset under the profile's names. A driver then applies what only knowledge
 * of the device class can: values derived where physics allows (P = V x I),
 * aggregates (cell minimum/maximum), states and sign conventions. Drivers are
 * const structs listed in drivers/registry.c; no dlopen. They never touch the bus,
 * Redis or publishers, never sleep and never allocate in fixup().
 */
#ifndef EM_DRIVER_H
#define EM_DRIVER_H

#include <stddef.h>

#include "dataset.h"

#define EM_DRIVER_ABI 1

struct em_driver {
    int abi;                 /* EM_DRIVER_ABI; the core refuses others */
    const char *name;        /* "pms", "mppt", "inverter": also the dataset name */
    const char *description;
    /* Build the per-device context; `device_id` is borrowed for the call. Returns
     * the context (may be a static sentinel for stateless drivers) or NULL with a
     * message in err. */
    void *(*create)(const char *device_id, char *err, size_t errlen);
    /* Complete the dataset after generic decoding. Returns 0, or -1 with errno. */
    int (*fixup)(void *ctx, struct em_dataset *ds);
    /* Accepts NULL and the sentinel create() returned. */
    void (*destroy)(void *ctx);
};

extern const struct em_driver pms_driver;
extern const struct em_driver mppt_driver;
extern const struct em_driver inverter_driver;

/* The compiled-in driver of that name, or NULL. */
const struct em_driver *em_driver_find(const char *name);

/* Shared helpers for drivers. */
/* If `out` is absent and both `a` and `b` are present, set out = a * b. */
void em_derive_product(struct em_dataset *ds, const char *out, const char *a, const char *b);
/* A stateless driver's context. */
void *em_driver_stateless(const char *device_id, char *err, size_t errlen);
void em_driver_nothing(void *ctx);

#endif
