/* fsutil.h - small file helpers shared by the configuration, profiles and state.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#ifndef EM_FSUTIL_H
#define EM_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#define EM_READ_FILE_MAX (4u * 1024u * 1024u)

/*
 * Read a whole regular file (at most EM_READ_FILE_MAX bytes) into a new
 * NUL-terminated buffer; *len gets its size. Ownership of the buffer passes to
 * the caller (free()). NULL with "cannot read 'PATH': reason" in err on failure.
 */
char *em_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* mkdir -p: create `dir` and missing parents with `mode`. 0, or -1 with errno. */
int em_mkdirs(const char *dir, mode_t mode);

/*
 * Replace `path` by `len` bytes of `data` so that a power cut leaves the old or
 * the new content: a temp file beside it, fsync, rename, fsync of the directory
 * (best effort). The file gets `mode`. 0, or -1 with errno.
 */
int em_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

#endif
