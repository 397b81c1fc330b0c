/* seqstore.h - per-device message sequence numbers that never repeat.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The next seq of a device lives in <state_dir>/seq/<device>. The file holds two
 * fixed-size, checksummed slots (at offset 0 and EM_SEQ_SLOT2_OFF) and every reading
 * overwrites the older one in place (one pwrite, no new file, no rename: a flash
 * file system journals one small data write instead of an inode, a directory entry
 * and a rename per reading). Each slot carries a generation count; at open the
 * valid slot with the higher generation wins, so a write torn by a power cut costs
 * only that write: the other slot still holds the state before it. A killed agent
 * (same boot) resumes exactly where it stopped, from the page cache.
 *
 * A seq is claimed when a reading is made (on its bus thread) but persisted only
 * once the reading's fate is decided, as the core hands it to the queue
 * (em_seq_commit, on the core thread). A reading still in the hand-off between
 * the two when the agent is killed was never stored anywhere; the first reading
 * after the restart claims its seq again, so a kill leaves no gap in seq.
 *
 * The file is fdatasynced every EM_SEQ_SYNC_S seconds, at open and at close, not
 * per reading, to spare flash. A power cut can lose the unsynced updates (and tear
 * the slot being written); to never repeat a seq, each slot also records the
 * kernel's boot id, and when the machine has rebooted since the last clean close
 * the store skips ahead by the most readings that could have been taken in one
 * sync interval (twice, plus two, for margin). A power cut therefore shows as a
 * small gap in seq, never a repeat.
 *
 * Slot layout (EM_SEQ_SLOT bytes, little-endian): "EMSQ", u32 version (1), u64
 * generation, u64 next seq, u32 flags (1: clean close), 40 bytes boot id
 * (NUL-padded), zero padding, u32 CRC-32 of the bytes before it. The older text
 * format ("NEXT BOOT clean|running") is read and rewritten once in the slot format.
 */
#ifndef EM_SEQSTORE_H
#define EM_SEQSTORE_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#define EM_SEQ_SYNC_S 10
#define EM_SEQ_SLOT 128u
/* The second slot sits in another page and sector than the first, so writing back
 * one never rewrites the other. */
#define EM_SEQ_SLOT2_OFF 4096u

struct em_seq {
    char path[PATH_MAX];
    char boot[40];        /* kernel boot id at open */
    uint64_t next;        /* the seq the next reading gets (the claiming thread's) */
    uint64_t committed;   /* the `next` persisted: one past the last decided reading
                             (this and the rest: the committing thread's) */
    uint64_t gen;         /* generation of the last slot written (or read) */
    time_t last_sync;     /* monotonic seconds */
    int fd;               /* the open file (writable stores), else -1 */
    int dirty;
    int readonly;         /* `edgemon poll`: show, never consume */
};

/*
 * Open (creating directories and the file) the store of `device` under state_dir.
 * `interval_ms` sizes the skip after a power cut. With readonly set nothing is
 * written and no file is kept open. Returns 0, or -1 with a message in err (the
 * state_dir is not writable, both slots corrupt).
 */
int em_seq_open(struct em_seq *s, const char *state_dir, const char *device, int interval_ms,
                int readonly, char *err, size_t errlen);

/* Claim the next seq in memory only. */
uint64_t em_seq_claim(struct em_seq *s);

/* Persist that every seq below `next` is decided (stored, or deliberately not
 * queued). A value below the committed one is ignored. -1 with errno when the file
 * cannot be written (the value stays in memory and goes out with the next commit). */
int em_seq_commit(struct em_seq *s, uint64_t next);

/* Claim and commit at once, for single-threaded users. -1 with errno as
 * em_seq_commit (the seq is still valid). */
int em_seq_take(struct em_seq *s, uint64_t *seq);

/* Sync, mark a clean close (of the committed value) and close the file. Only
 * once nothing claims or commits any more. */
void em_seq_close(struct em_seq *s);

#endif
