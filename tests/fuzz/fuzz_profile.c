/* fuzz_profile.c - libFuzzer harness for profile files (register maps as JSON).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The input is a profile file. The parser must reject every bad one with a
 * message; an accepted one is handed to the register engine and planned (fixed
 * points at once, SunSpec models on an assumed layout of every model it knows),
 * as a device with that profile would be. Any crash, sanitizer report or leak is
 * a bug. Build and run: make fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "profile.h"
#include "regdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct em_profile *p = em_profile_parse(text, "fuzz.json", err, sizeof err);
    free(text);
    if (!p)
        return 0;
    for (int rtu = 0; rtu < 2; rtu++) {
        struct em_regdev *d = em_regdev_new(p, rtu, err, sizeof err);
        if (!d)
            continue;
        if (p->nmodels) {
            uint16_t ids[8], lens[8];
            size_t n = 0;
            for (size_t m = 0; m < p->nmodels && n < 8; m++) {
                for (size_t k = 0; k < p->models[m].nids && n < 8; k++) {
                    ids[n] = p->models[m].ids[k];
                    lens[n] = (uint16_t)(p->models[m].repeat_offset +
                                         2 * p->models[m].repeat_len + 60);
                    n++;
                }
            }
            em_regdev_assume(d, 40000, ids, lens, n);
        } else {
            em_regdev_plan(d);
        }
        em_regdev_free(d);
    }
    em_profile_free(p);
    return 0;
}
