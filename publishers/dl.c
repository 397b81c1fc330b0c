/* dl.c - open a client library and resolve its functions (see dl.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <dlfcn.h>
#include <stdio.h>

#include "dl.h"

void *em_dl_load(const char *what, const char *const *sonames, const struct em_dl_sym *syms,
                 size_t n, char *err, size_t errlen)
{
    void *lib = NULL;

    /*
     * RTLD_LOCAL: two libraries with the same symbols (paho's plain and TLS
     * variants) each keep their own, so each only ever sees its own clients.
     */
    for (const char *const *s = sonames; *s && !lib; s++)
        lib = dlopen(*s, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "cannot load %s: %s", what, dlerror());
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        void *fn = dlsym(lib, syms[i].name);

        if (!fn) {
            snprintf(err, errlen, "cannot load %s: %s", what, dlerror());
            dlclose(lib);
            return NULL;
        }
        /* POSIX guarantees a function pointer round-trips through void *. */
        *(void **)syms[i].slot = fn;
    }
    return lib;
}
