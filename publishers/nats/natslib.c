/* natslib.c - load libnats at run time (see natslib.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "dl.h"

#include "nats/natslib.h"

/* The soname of Debian's libnats-dev 3.4 (and OpenWrt's), overridable. */
#ifndef EM_NATS_LIB
#define EM_NATS_LIB "libnats.so.3.4"
#endif

#define EM_NATSLIB_NAME(fn) #fn "\0"
#define EM_NATSLIB_ONE(fn)  +1
enum { NSYMS = 0 EM_NATSLIB_FUNCS(EM_NATSLIB_ONE) };

static struct em_natslib api;
static int loaded;

/* The slots are all function pointers, in list order, without padding. */
_Static_assert(sizeof api == NSYMS * sizeof(void (*)(void)), "em_natslib has padding");

const struct em_natslib *em_natslib_get(char *err, size_t errlen)
{
    const char *const sonames[] = {EM_NATS_LIB, NULL};
    /*
     * The names as one string, the slots by position: a static table of
     * pointers would cost two relocations per function in a PIE, and an
     * initialised local array the code that fills it (flash is short).
     */
    static const char names[] = EM_NATSLIB_FUNCS(EM_NATSLIB_NAME);
    struct em_dl_sym syms[NSYMS];
    const char *p = names;

    if (loaded)
        return &api;
    for (size_t i = 0; i < NSYMS; i++) {
        syms[i].name = p;
        syms[i].slot = (char *)&api + i * sizeof(void (*)(void));
        p += strlen(p) + 1;
    }
    if (!em_dl_load("NATS library (libnats)", sonames, syms, NSYMS, err, errlen))
        return NULL;
    loaded = 1;
    return &api;
}
