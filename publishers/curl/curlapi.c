/* curlapi.c - load libcurl and zlib at run time (see curlapi.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "dl.h"

#include "curl/curlapi.h"

/* Sonames, overridable for systems that name them differently. */
#ifndef EM_CURL_LIB
#define EM_CURL_LIB "libcurl.so.4"
#endif
#ifndef EM_CURL_ALT_LIB
#define EM_CURL_ALT_LIB "libcurl-gnutls.so.4"
#endif
#ifndef EM_ZLIB_LIB
#define EM_ZLIB_LIB "libz.so.1"
#endif

static struct em_curl curl_api;
static int curl_loaded;
static struct em_zlib zlib_api;
static int zlib_loaded;

const struct em_curl *em_curl_get(char *err, size_t errlen)
{
    static const char *const sonames[] = {EM_CURL_LIB, EM_CURL_ALT_LIB, NULL};
    struct em_curl *a = &curl_api;
#define C(fn) {"curl_" #fn, &a->fn}
    const struct em_dl_sym syms[] = {
        C(global_init),      C(easy_init),           C(easy_setopt),   C(easy_getinfo),
        C(easy_cleanup),     C(easy_strerror),       C(multi_init),    C(multi_setopt),     C(multi_add_handle),
        C(multi_remove_handle), C(multi_perform),    C(multi_info_read), C(multi_cleanup),
        C(slist_append),     C(slist_free_all),
    };
#undef C

    if (curl_loaded)
        return a;
    if (!em_dl_load("libcurl", sonames, syms, sizeof syms / sizeof syms[0], err, errlen))
        return NULL;
    /*
     * Once, before any handle exists and while the bus threads do not use curl
     * (they never do). Without CURL_GLOBAL_ALL's TLS part https:// would fail.
     */
    if (a->global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return NULL;
    }
    curl_loaded = 1;
    return a;
}

const struct em_zlib *em_zlib_get(char *err, size_t errlen)
{
    static const char *const sonames[] = {EM_ZLIB_LIB, NULL};
    struct em_zlib *a = &zlib_api;
    const struct em_dl_sym syms[] = {
        EM_DL_SYM(a, deflateInit2_), EM_DL_SYM(a, deflate),     EM_DL_SYM(a, deflateReset),
        EM_DL_SYM(a, deflateEnd),    EM_DL_SYM(a, deflateBound),
    };

    if (zlib_loaded)
        return a;
    if (!em_dl_load("zlib", sonames, syms, sizeof syms / sizeof syms[0], err, errlen))
        return NULL;
    zlib_loaded = 1;
    return a;
}
