/* fstore.h - where the active feature set is kept: state_dir and the queue's Redis.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * <state_dir>/features.json holds the last valid message, {"features":{...}},
 * replaced atomically. The Redis hash env.active.features (CONTRACT 5) holds one
 * field per name with its JSON value ("dataset.pms" -> "false"), for operators
 * and for a gateway whose state_dir was wiped. At start the file wins; the hash is
 * read only when there is no file.
 */
#ifndef EM_FSTORE_H
#define EM_FSTORE_H

#include <stddef.h>

#include "flagset.h"
#include "queue.h"

#define EM_FSTORE_FILE "features.json"
#define EM_FSTORE_HASH "env.active.features"

/* Write the set to <state_dir>/features.json. 0, or -1 with errno. */
int em_fstore_save_file(const char *state_dir, const struct em_features *f);

/* The stored message, NUL-terminated, owned by the caller; NULL with errno
 * (ENOENT: none stored). */
char *em_fstore_load_file(const char *state_dir, size_t *len);

/* Replace the hash with the set. 0, or -1 with errno (ENOTSUP: no Redis backend,
 * ENOTCONN: Redis down). */
int em_fstore_save_redis(struct em_queue *q, const struct em_features *f);

/* The hash as a flag message (owned by the caller), or NULL with errno (ENOENT:
 * an empty or missing hash). */
char *em_fstore_load_redis(struct em_queue *q, size_t *len);

#endif
