/* message.h - the dataset message of CONTRACT section 3, written without allocation.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#ifndef EM_MESSAGE_H
#define EM_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

#define EM_MSG_MAX 8192

/* Envelope fields; all strings borrowed for the call. */
struct em_msg_meta {
    const char *id;     /* device id (agent id for "site") */
    const char *agent;
    const char *site;
    uint64_t seq;
    const char *boot;   /* this agent start's id */
    int64_t ts_ms;      /* wall clock, ms since the epoch */
};

/*
 * Write the JSON message for `ds` into out (outlen bytes, NUL-terminated).
 * Returns its length, or -1 with errno ENOSPC when it does not fit.
 * Keys and string values are JSON-escaped.
 */
int em_msg_format(const struct em_dataset *ds, const struct em_msg_meta *meta, char *out,
                  size_t outlen);

/* "ok", "partial", "stale". */
const char *em_quality_name(enum em_quality q);

/* Fill buf (>= 17 bytes) with a random 16-hex-digit id for this agent start. */
void em_boot_id(char *buf, size_t len);

#endif
