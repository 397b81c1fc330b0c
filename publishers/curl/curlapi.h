/* curlapi.h - libcurl and zlib, loaded at run time for the kubemq and http publishers.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * libcurl pulls in OpenSSL or GnuTLS, nghttp2, libssh2, LDAP and Kerberos: several
 * megabytes of RSS that a site without a kubemq or http publisher must not pay
 * (publishers/dl.h). So libcurl is opened when the first such publisher is
 * created, zlib only when one of them sets `gzip`. Both stay loaded for the life
 * of the process. Only the functions listed here are used.
 *
 * Core thread only, like everything in publishers/.
 */
#ifndef EM_PUB_CURLAPI_H
#define EM_PUB_CURLAPI_H

#include <stddef.h>

#include <curl/curl.h>
#include <zlib.h>

struct em_curl {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_setopt) *multi_setopt;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_perform) *multi_perform;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
};

struct em_zlib {
    __typeof__(deflateInit2_) *deflateInit2_;
    __typeof__(deflate) *deflate;
    __typeof__(deflateReset) *deflateReset;
    __typeof__(deflateEnd) *deflateEnd;
    __typeof__(deflateBound) *deflateBound;
};

/*
 * libcurl (libcurl.so.4, else libcurl-gnutls.so.4), loaded and globally
 * initialised on first use. The table lives as long as the process. NULL with
 * a message in err when no library or one of its functions cannot be loaded.
 */
const struct em_curl *em_curl_get(char *err, size_t errlen);

/* zlib (libz.so.1) the same way. */
const struct em_zlib *em_zlib_get(char *err, size_t errlen);

#endif
