/* dl.h - client libraries loaded at run time, only by the publishers that use them.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Linking a client library maps and relocates it and everything it pulls in
 * (libcurl brings OpenSSL, nghttp2, libssh2, LDAP, Kerberos...) at start-up,
 * megabytes of RSS on a router whose configuration never uses it. So each
 * publisher's library is opened when the first publisher of that type is
 * created, and stays loaded for the life of the process (its threads, if any,
 * may still run in it). The build still compiles against the library's own
 * header, so every slot has the library's exact prototype (__typeof__).
 *
 * Core thread only, like everything in publishers/.
 */
#ifndef EM_PUB_DL_H
#define EM_PUB_DL_H

#include <stddef.h>

/* One function to resolve: its name and where to store its address. */
struct em_dl_sym {
    const char *name;
    void *slot; /* a pointer to a function pointer of the right type */
};

#define EM_DL_SYM(table, fn) {#fn, &(table)->fn}

/*
 * Open the first loadable of the NULL-terminated `sonames` and resolve every
 * symbol of `syms` (n entries) into its slot. Returns the library handle, or
 * NULL with "cannot load <what>: <dlerror>" in err (nothing is left open).
 */
void *em_dl_load(const char *what, const char *const *sonames, const struct em_dl_sym *syms,
                 size_t n, char *err, size_t errlen);

#endif
