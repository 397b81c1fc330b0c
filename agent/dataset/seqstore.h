/* seqstore.h - per-device message sequence numbers that never repeat.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The next seq of a device lives in <state_dir>/seq/<device>. Every reading
 * rewrites it (write temp, rename), so a killed agent resumes exactly where it
 * stopped: no gap, no repeat. The file is fsynced every EM_SEQ_SYNC_S seconds
 * and at close, not per reading, to spare flash. A power cut can lose the
 * unsynced updates; to never repeat a seq, the file also records the kernel's
 * boot id, and when the machine has rebooted since the last clean close the
 * store skips ahead by the most readings that could have been taken in one
 * sync interval. A power cut therefore shows as a small gap, never a repeat.
 */
#ifndef EM_SEQSTORE_H
#define EM_SEQSTORE_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#define EM_SEQ_SYNC_S 10

struct em_seq {
    char path[PATH_MAX];
    char boot[40];        /* kernel boot id at open */
    uint64_t next;        /* the seq the next reading gets */
    time_t last_sync;     /* monotonic seconds */
    int dirty;
    int readonly;         /* `edgemon poll`: show, never consume */
};

/*
 * Open (creating directories) the store of `device` under state_dir. `interval_ms`
 * sizes the skip after a power cut. With readonly set nothing is written. Returns
 * 0, or -1 with a message in err (the state_dir is not writable, a corrupt file).
 */
int em_seq_open(struct em_seq *s, const char *state_dir, const char *device, int interval_ms,
                int readonly, char *err, size_t errlen);

/* Take the next seq and persist the one after it. Returns -1 with errno when the
 * file cannot be written (the seq is still valid and in memory). */
int em_seq_take(struct em_seq *s, uint64_t *seq);

/* Sync and mark a clean close. */
void em_seq_close(struct em_seq *s);

#endif
