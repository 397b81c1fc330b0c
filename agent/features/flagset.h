/* flagset.h - feature flag messages: parse, validate, and the active set (CONTRACT 5).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A flag message is {"features": {NAME: VALUE, ...}}. It is checked whole before
 * anything changes: a valid one becomes the active set (names it leaves out take
 * their configured default), an invalid one changes nothing and the reason names
 * the first bad entry. Known names:
 *   dataset.<pms|mppt|inverter|site>  bool    publish that dataset or not
 *   device.<configured id>            bool    poll that device or not
 *   poll.interval_ms                  int     100..3600000, every device; absent: each its own
 *   site.snapshot                     bool    build the site dataset or not
 *   log.level                         string  error, warn, info, debug
 * An unknown name, a device id the configuration does not have, a wrong type or
 * range, a message over EM_FEATURES_MAX_BYTES or one that is not JSON is invalid.
 *
 * Pure data: no I/O, no threads. The core applies a set (core_flags.c).
 */
#ifndef EM_FLAGSET_H
#define EM_FLAGSET_H

#include <stddef.h>

#include "conf.h"

/* The size limit of one flag message, the same as a publisher's inbox. */
#define EM_FEATURES_MAX_BYTES EM_PUB_INBOX_MAX
/* The active set as JSON text is never longer than a valid message. */
#define EM_FEATURES_ACTIVE_MAX EM_FEATURES_MAX_BYTES

struct em_features {
    unsigned datasets_off;       /* EM_DS_BIT_* of the datasets not published */
    unsigned char *devices_off;  /* owned: one per configured device, 1 = not polled */
    size_t ndevices;
    int poll_interval_ms;        /* 0: each device its configured interval */
    int site_snapshot;           /* 1 (default) or 0 */
    int log_level;               /* enum em_log_level, or -1: as started */
    size_t nnames;               /* names set in the message */
    /* The set as given, normalised: {"name":value,...} ("{}" for none). */
    char active[EM_FEATURES_ACTIVE_MAX];
};

/* A set with every default, for `conf`'s devices (borrowed only for the call).
 * NULL with errno (ENOMEM). */
struct em_features *em_features_new(const struct em_conf *conf);
void em_features_free(struct em_features *f); /* NULL-safe */

/* Back to every default. */
void em_features_reset(struct em_features *f);

/*
 * Parse and check a whole message of `len` bytes (need not be NUL-terminated)
 * into `out`, which is reset first. Returns 0, or -1 with the reason in err
 * (then `out` holds defaults and must not be applied).
 *
 * `lenient` is for restoring a stored set after the configuration changed: a
 * `device.<id>` the configuration no longer has is left out with a note in err
 * (and 0 returned) instead of failing the whole set.
 */
int em_features_parse(const struct em_conf *conf, const char *text, size_t len, int lenient,
                      struct em_features *out, char *err, size_t errlen);

/* Copy a set; both made for the same configuration. */
void em_features_copy(struct em_features *dst, const struct em_features *src);

/* Is the set the same as another (the same names and values)? */
int em_features_equal(const struct em_features *a, const struct em_features *b);

#endif
