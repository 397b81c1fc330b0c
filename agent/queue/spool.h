/* spool.h - durable, bounded, multi-consumer FIFO of opaque records in segment files.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The spool is the whole queue when `queue.backend` is "spool", and the fallback
 * store while Redis is down (then one consumer, e.g. "redis", moves the records
 * into Redis in order). It never loses a record that reached the disk unless a
 * configured bound forces it to, and then it counts the loss per consumer.
 *
 * On disk, in the directory given to em_spool_open():
 *   <16 hex digits>.seg  append-only segment files, named by the first id they hold.
 *                        Each record is a 32-byte frame header (magic, length, id,
 *                        timestamp, CRC32) plus the payload. A segment that is full
 *                        ends with a "seal" frame that summarises it, so opening a
 *                        large backlog reads one frame per old segment, not all data.
 *   state                consumer ack cursors, drop counters and the id reservation
 *                        (text, with a CRC line),
 *                        rewritten as state.tmp + fsync + rename + fsync(dir).
 *   lock                 an fcntl() lock so two processes never share one spool.
 *
 * Ids are 64-bit, strictly increasing and never reused, even after a power cut:
 * ids are reserved in blocks of EM_SPOOL_ID_BLOCK in the state file (one fsync per
 * block), and a restart after a crash continues above the reservation. So ids can
 * jump after a crash; they never go back.
 *
 * Durability and what a failure costs:
 *   - em_spool_append() write(2)s the record at once, so a crash of the process
 *     (kill -9, abort) loses nothing that was appended.
 *   - Data is fdatasync()ed by em_spool_sync(), automatically every `sync_every`
 *     records (default 1000) or when an append finds `sync_ms` (default 1000 ms)
 *     passed since the last sync, and whenever a segment is sealed. A power cut
 *     therefore loses at most the records appended since the last sync: at most
 *     1 s or 1000 records with the defaults, provided the caller also calls
 *     em_spool_sync() from a timer at least every `sync_ms` (the automatic sync
 *     only runs inside em_spool_append(), so the tail of a burst waits for that
 *     timer). `sync_every = 1` fsyncs every record (no loss, slow on flash).
 *   - Acks and drop counters are persisted at sync time only when they changed
 *     (no fsync per ack; an idle spool writes nothing). After a crash a consumer
 *     resumes at its last persisted ack: records acked after that are handed out
 *     again (at-least-once: duplicates, never a gap). Drop counters may lose the
 *     increments of the last sync interval.
 *   - A torn tail (power cut mid-write) is cut off at open; a corrupt record in
 *     the middle of a segment is skipped and counted (`corrupt`), never fatal.
 *
 * Consumers are named at open (publisher names, "redis"). Each has
 *   - an ack cursor: every record with an id below it is confirmed;
 *   - a read cursor: the next record em_spool_read() hands out (>= ack cursor).
 * A segment is deleted only when every consumer's ack cursor is past its end.
 * A consumer missing from the state file is new and starts at the current end
 * (it receives records appended from now on), unless `new_at_oldest` is set. When
 * the state file is missing or unreadable while segments exist, every consumer
 * starts at the oldest retained record: re-sending beats losing. A consumer that
 * is no longer named at open is forgotten and pins nothing.
 *
 * Bounds (`max_bytes`, `max_messages`, `max_age_s`) are enforced on append (and by
 * em_spool_expire() for age): the oldest whole segment is deleted first, so the
 * newest data is always kept, and for every consumer the records it had not acked
 * in that segment are added to its drop counter for the reason. Total bytes never
 * exceed `max_bytes`; segments are at most max_bytes / 4, so at least 3/4 of the
 * bound stays usable (at least 98% with the defaults of 64 MiB and 1 MiB).
 * Record age uses the caller's timestamps: with an untrusted clock (no RTC, no NTP
 * yet) leave `max_age_s` at 0.
 *
 * Threads: none inside. A struct em_spool is not thread-safe; the caller
 * serialises every call on one spool. Memory is allocated at open (about 70 KiB
 * of fixed buffers) and when the segment table grows; never per appended or read
 * record.
 * Portable C11 + POSIX.1-2008 (glibc, musl).
 */
#ifndef EM_SPOOL_H
#define EM_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Largest record payload; em_spool_append() refuses larger ones with EMSGSIZE. */
#define EM_SPOOL_MAX_REC (64u * 1024u)
/* Bytes the spool adds to every record on disk (frame header). */
#define EM_SPOOL_FRAME_OVERHEAD 32u
/* Longest consumer name; names are [A-Za-z0-9_.:@/-]. */
#define EM_SPOOL_NAME_MAX 63
/* Ids reserved per fsync of the state file. */
#define EM_SPOOL_ID_BLOCK 65536u

/* Zero in any field means the default. */
struct em_spool_limits {
    uint64_t max_bytes;     /* total segment bytes; default 64 MiB, minimum 16 KiB */
    uint64_t max_messages;  /* records retained; default unlimited */
    uint32_t max_age_s;     /* drop segments whose newest record is older; default off */
    uint32_t segment_bytes; /* roll segments at this size; default 1 MiB, min 1 KiB */
    uint32_t sync_every;    /* auto-sync after this many appends; default 1000 */
    uint32_t sync_ms;       /* auto-sync when an append comes this long after the
                             * last sync; default 1000 */
    int new_at_oldest;      /* new consumers start at the oldest retained record */
    uint32_t lock_wait_ms;  /* wait this long for another process to let go of the
                             * spool (a status query, a daemon still stopping);
                             * default 0: fail at once */
};

enum em_spool_drop {
    EM_SPOOL_DROP_MAX_BYTES,
    EM_SPOOL_DROP_MAX_MESSAGES,
    EM_SPOOL_DROP_MAX_AGE,
    EM_SPOOL_DROP_NREASONS
};

/*
 * One record handed out by em_spool_read(). `data` points into the buffer the
 * caller passed to that call (borrowed from the caller's own buffer: valid as long
 * as the caller keeps that buffer unchanged; the spool never touches it again).
 */
struct em_spool_rec {
    uint64_t id;
    int64_t ts_ms;
    const void *data;
    size_t len;
};

struct em_spool_stats {
    /* the consumer */
    uint64_t pending;      /* records at or after the ack cursor */
    uint64_t unread;       /* records at or after the read cursor */
    int64_t oldest_ts_ms;  /* timestamp of the oldest pending record; 0 if none */
    uint64_t ack_id;       /* ack cursor: first id not yet acked */
    uint64_t read_id;      /* read cursor: next id to hand out */
    uint64_t dropped[EM_SPOOL_DROP_NREASONS]; /* persisted, survive restarts */
    /* the whole spool */
    uint64_t bytes;        /* bytes in segment files */
    uint64_t segments;
    uint64_t records;      /* records retained (acked by some, not all, included) */
    uint64_t next_id;      /* id the next append gets */
    uint64_t corrupt;      /* corrupt records or regions skipped since open (found
                            * again after a restart while still retained) */
    uint64_t truncated;    /* torn-tail bytes cut off by this open */
};

struct em_spool;

/*
 * Open (creating `dir`, but not its parent, if needed) the spool in `dir`.
 * `lim` may be NULL for all defaults; it is copied. `consumers` is an array of
 * `nconsumers` distinct names (0 is allowed: nothing then pins data); the names
 * are copied, and their index in this array is the consumer number used by the
 * other calls. `dir` is copied. All pointers are borrowed for the call.
 * Recovers from torn tails and corruption, never refuses to start because of
 * them. Returns the spool (free it with em_spool_close()), or NULL with a message
 * in `err` (and errno set): bad limits or names (EINVAL), spool locked by another
 * process for longer than lim->lock_wait_ms (EAGAIN), I/O errors.
 */
struct em_spool *em_spool_open(const char *dir, const struct em_spool_limits *lim,
                               const char *const *consumers, size_t nconsumers,
                               char *err, size_t errlen);

/*
 * Append one record of `len` bytes (1..EM_SPOOL_MAX_REC) stamped `ts_ms` (wall
 * clock, ms since the epoch; also used as "now" for the age bound). `rec` is
 * borrowed for the call. On success stores the new id in *id_out (may be NULL)
 * and returns 0. May delete the oldest segment first to stay within the bounds
 * (counted as drops). Returns -1 with errno: EINVAL (len 0), EMSGSIZE (too big
 * for EM_SPOOL_MAX_REC or max_bytes / 2), or an I/O error (ENOSPC, EIO...; the
 * record is then not stored and no id is used). An error of the automatic sync
 * does not fail the append (the record is stored); the next em_spool_sync()
 * reports it.
 */
int em_spool_append(struct em_spool *s, const void *rec, size_t len, int64_t ts_ms,
                    uint64_t *id_out);

/*
 * Make every appended record durable (fdatasync), then persist the cursors and
 * counters if they changed. Cheap when there is nothing to do. Returns 0, or -1
 * with errno (also for an error of an earlier automatic sync).
 */
int em_spool_sync(struct em_spool *s);

/*
 * Hand out up to `max` records for `consumer`, oldest first, starting at its read
 * cursor, and advance the read cursor past them. Payloads are copied into `buf`
 * (`buflen` bytes, owned by the caller; pass at least EM_SPOOL_MAX_REC to be sure
 * any record fits) and out[i].data points into it. `out` and `buf` are borrowed
 * for the call. Returns the count (0: nothing unread), or -1 with errno: EINVAL
 * (bad consumer), ENOBUFS (the next record alone does not fit in `buflen`), I/O
 * errors.
 */
int em_spool_read(struct em_spool *s, size_t consumer, struct em_spool_rec *out,
                  size_t max, void *buf, size_t buflen);

/*
 * Move the read cursor of `consumer` back to its ack cursor, so everything handed
 * out but not acked is handed out again (after a reconnect). Returns 0, or -1 with
 * EINVAL for a bad consumer.
 */
int em_spool_rewind(struct em_spool *s, size_t consumer);

/*
 * Confirm every record of `consumer` with an id <= `upto_id`. Cumulative and
 * idempotent: an id below the ack cursor changes nothing. Acking past the read
 * cursor moves the read cursor too. Deletes segments no consumer needs any more.
 * Persisted at the next sync. Returns 0, or -1 with errno EINVAL (bad consumer, or
 * an id never appended).
 */
int em_spool_ack(struct em_spool *s, size_t consumer, uint64_t upto_id);

/*
 * Apply the age bound at `now_ms` without appending (call it from a timer when
 * the input is quiet). Returns 0, or -1 with errno on I/O errors.
 */
int em_spool_expire(struct em_spool *s, int64_t now_ms);

/*
 * Fill *st (borrowed for the call) with the statistics of `consumer` and the
 * totals. May read segment files to find exact figures. Returns 0, or -1 with
 * errno (EINVAL for a bad consumer, I/O errors).
 */
int em_spool_stats(struct em_spool *s, size_t consumer, struct em_spool_stats *st);

/* Index of the consumer called `name` (borrowed for the call), or -1 (ENOENT). */
int em_spool_consumer(const struct em_spool *s, const char *name);

/* "max_bytes", "max_messages", "max_age" (the metric label), or "unknown". */
const char *em_spool_drop_name(enum em_spool_drop reason);

/*
 * Sync, persist the state (so the next open continues ids without a gap), close
 * and free. NULL-safe. Errors cannot be reported here: call em_spool_sync() first
 * if they matter.
 */
void em_spool_close(struct em_spool *s);

#endif
