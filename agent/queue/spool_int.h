/* spool_int.h - the spool's private structures, shared by its four files.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * spool.c        opening, locking, append, read, ack, stats: the public API
 * spool_seg.c    the segment file format: frames, checksums, scanning, read positions
 * spool_bounds.c segment rotation and the bounds (bytes, messages, age), garbage
 * spool_state.c  the consumers' cursors, persisted in the state file
 * Nothing here is part of the interface (spool.h); all of it is owned by the
 * struct em_spool it hangs off.
 */
#ifndef EM_SPOOL_INT_H
#define EM_SPOOL_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "spool.h"

/* Bytes e7 5d a1 0x: 0xe7 followed by a non-continuation byte is never valid UTF-8,
 * so a JSON payload cannot contain a false frame start. */
#define REC_MAGIC  0x01a15de7u
#define SEAL_MAGIC 0x02a15de7u
#define HDR        32
#define SEAL_LEN   32
/* The scratch window must hold the largest frame; reads fill it in one pread. */
#define SCRATCH    (HDR + EM_SPOOL_MAX_REC + HDR)
#define STATE_FILE "state"
#define STATE_TMP  "state.tmp"
#define STATE_MAX  (1024 * 1024)
#define NAME_LEN   32

#define DEF_MAX_BYTES  (64ull * 1024 * 1024)
#define MIN_MAX_BYTES  (16u * 1024)
#define DEF_SEG_BYTES  (1024u * 1024)
#define MIN_SEG_BYTES  1024u
#define DEF_SYNC_EVERY 1000u
#define DEF_SYNC_MS    1000u

struct seg {
    uint64_t base;  /* id in the file name; <= first */
    uint64_t first; /* first and last record id, valid when count > 0 */
    uint64_t last;
    uint64_t count;
    int64_t max_ts; /* newest record timestamp, for the age bound */
    off_t size;     /* bytes in the file (our view; we never read past it) */
    off_t bad_hi; /* start of the last corrupt region counted, so rereads don't recount */
    int sealed;
};

/* A read position: a segment (by base id, which survives array shifts) and an offset. */
struct it {
    uint64_t base;
    off_t off;
    int fd; /* read fd, cached for the segment fd_base */
    uint64_t fd_base;
};

struct cons {
    char name[EM_SPOOL_NAME_MAX + 1];
    uint64_t ack;  /* ids below are confirmed */
    uint64_t read; /* next id to hand out */
    uint64_t dropped[EM_SPOOL_DROP_NREASONS];
    uint64_t lost; /* scratch for sp_unlink_seg() */
    struct it pos; /* where `read` is in the files, when pos_ok */
    int pos_ok;
    int ots_ok; /* cache of the oldest pending timestamp for ack == ots_ack */
    uint64_t ots_ack;
    int64_t ots;
};

struct frame {
    uint32_t magic;
    uint32_t len;
    uint64_t id;
    int64_t ts;
    off_t off;
    const unsigned char
        *data; /* into the scratch window, until the next sp_frame_at() */
};

struct em_spool {
    char *dir;
    int dirfd;
    int lockfd;
    int wfd; /* the active (last) segment, opened O_APPEND; -1 after a failed roll */
    struct em_spool_limits lim;
    uint64_t seg_bytes;
    uint64_t seg_recs;
    int64_t age_ms;
    struct seg *segs;
    size_t nsegs, capsegs;
    struct cons *cons;
    size_t ncons;
    uint64_t next_id;
    uint64_t id_reserved; /* persisted: no id at or above it was handed out */
    uint64_t bytes;
    uint64_t records;
    uint64_t corrupt;
    uint64_t truncated;
    uint64_t unsynced;
    int64_t last_sync;
    int sync_errno;
    int state_dirty;
    int must_roll;
    uint32_t crc_tab[256];
    unsigned char hdr[HDR + SEAL_LEN];
    unsigned char
        *sc; /* scratch window: bytes [sc_off, sc_off + sc_len) of segment sc_base */
    uint64_t sc_base;
    off_t sc_off;
    size_t sc_len;
    char *sbuf; /* state file text */
    size_t scap;
};

/* Shared between the spool's files; each is defined in the file its name suggests. */
void sp_put32(unsigned char *p, uint32_t v);

void sp_put64(unsigned char *p, uint64_t v);

void sp_crc_init(uint32_t *t);

uint32_t sp_crc_update(const uint32_t *t, uint32_t c, const void *buf, size_t n);

void sp_seg_name(char *buf, uint64_t base);

int sp_write_full(int fd, const void *buf, size_t n);

int sp_writev_full(int fd, const void *a, size_t alen, const void *b, size_t blen);

void sp_sc_drop(struct em_spool *s, uint64_t base);

const unsigned char *sp_window(struct em_spool *s, const struct seg *g, int fd, off_t off,
                               size_t need);

int sp_frame_at(struct em_spool *s, const struct seg *g, int fd, off_t off,
                struct frame *f);

size_t sp_seg_find(const struct em_spool *s, uint64_t id);

void sp_it_init(struct it *it);

void sp_it_close(struct it *it);

int sp_it_next(struct em_spool *s, struct it *it, struct frame *f);

int sp_count_from(struct em_spool *s, const struct seg *g, uint64_t id, uint64_t *out);

int sp_seg_push(struct em_spool *s, uint64_t base);

int sp_new_seg(struct em_spool *s);

int sp_forget_seg(struct em_spool *s, size_t i);

int sp_roll(struct em_spool *s);

int sp_unlink_seg(struct em_spool *s, int reason);

int sp_enforce(struct em_spool *s, uint64_t add_bytes, uint64_t add_count, int64_t now,
               int use_age);

int sp_gc(struct em_spool *s);

int sp_write_state(struct em_spool *s, uint64_t reserve);

int sp_load_state(struct em_spool *s, uint64_t *reserve, int *found);

int sp_scan_seg(struct em_spool *s, struct seg *g, int is_last);

int sp_list_segs(struct em_spool *s);

int sp_name_ok(const char *n);

#endif
