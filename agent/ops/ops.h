/* ops.h - the operator's view of the agent: a small locked snapshot the HTTP thread reads.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The HTTP server runs on its own thread and must never reach into the bus
 * threads' or the core's state. Instead both write what an operator wants to
 * see into this snapshot under one mutex, held only for a copy (no I/O, no
 * allocation on the update paths: every buffer is allocated by em_ops_new), and
 * the HTTP thread renders its answers from it under the same mutex. A slow
 * client therefore never delays polling; at worst a bus thread waits for one
 * JSON rendering of a few KiB.
 *
 * Updates: em_ops_device from bus threads, em_ops_publisher and em_ops_tick
 * from the core thread. Reads: the em_ops_render_* functions, any thread.
 */
#ifndef EM_OPS_H
#define EM_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "queue.h"

/* Power history for the page's chart: one point every EM_OPS_HISTORY_STEP_S,
 * the last hour. */
#define EM_OPS_HISTORY_STEP_S 5
#define EM_OPS_HISTORY_LEN    720

struct em_ops;

/* A growable text buffer for answers (HTTP thread only). */
struct em_sb {
    char *p;   /* owned, NUL-terminated; NULL after an allocation failure */
    size_t n, cap;
    int oom;
};
void em_sb_printf(struct em_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void em_sb_put(struct em_sb *b, const char *s, size_t n);
/* A JSON string literal, quoted and escaped. */
void em_sb_json_str(struct em_sb *b, const char *s);
void em_sb_release(struct em_sb *b);

/*
 * A snapshot for the devices and publishers of `conf` (borrowed for the
 * snapshot's lifetime; a reload builds a new one). `boot` is the boot id
 * (copied). NULL with errno ENOMEM.
 */
struct em_ops *em_ops_new(const struct em_conf *conf, const char *boot);
void em_ops_free(struct em_ops *o); /* NULL-safe */

/*
 * Bus thread, after each poll of device number `dev` (its index in
 * conf->devices): `msg` (len bytes, borrowed for the call) on success, or NULL
 * and `err` (errno) on failure; `latency_ms` is how long the poll took.
 */
void em_ops_device(struct em_ops *o, size_t dev, const char *msg, size_t len, int err,
                   int64_t latency_ms);

/* Core thread: the state of publisher `pub` (index in conf->publishers). */
void em_ops_publisher(struct em_ops *o, size_t pub, int up, const struct em_qstats *st,
                      uint64_t published, uint64_t deadletter);

/* Core thread, feature flags: device `dev` polled or not (a disabled device is
 * neither expected nor missing in site messages and snapshots), and the active
 * set (JSON text, copied) with the datasets not published. */
void em_ops_device_enabled(struct em_ops *o, size_t dev, int on);
void em_ops_features(struct em_ops *o, const char *active, unsigned datasets_off);

/* Core thread, about once a second: samples the power history. */
void em_ops_tick(struct em_ops *o);

/* Answers (any thread); each appends to `b`. */
void em_ops_render_status(struct em_ops *o, struct em_sb *b);
void em_ops_render_latest(struct em_ops *o, struct em_sb *b);
void em_ops_render_history(struct em_ops *o, struct em_sb *b);
void em_ops_render_features(struct em_ops *o, struct em_sb *b); /* {"features":{...}} */
void em_ops_render_metrics(struct em_ops *o, struct em_sb *b);

/*
 * The `site` values of CONTRACT section 3 gathered from the latest message of
 * every device (renders `"values":{...}` content without braces into b). Sums
 * over devices: pv_power_w (mppt pv_power_w), battery_power_w (pms power_w,
 * positive = charging), load_power_w (mppt load_power_w plus inverter
 * ac_power_w), ac_power_w (inverter ac_power_w); battery_soc_pct is the mean of
 * the pms soc_pct (the mppt's when there is no pms). *ok / *total count the
 * devices whose latest poll succeeded.
 */
void em_ops_render_site_values(struct em_ops *o, struct em_sb *b, int *ok, int *total);

/*
 * GET /api/snapshot (any thread but the bus threads): calls trigger(arg) to
 * have every bus poll all its devices now, waits until each device answered or
 * failed, at most timeout_ms, and renders the site message (CONTRACT section
 * 3, seq 0: a snapshot is an answer, not a reading of the queue) with
 * "devices": {id: message} of the fresh readings and "missing": [ids] of the
 * devices that failed or missed the deadline (then quality is "partial").
 */
void em_ops_snapshot(struct em_ops *o, void (*trigger)(void *), void *arg, int timeout_ms,
                     struct em_sb *b);

/*
 * The periodic `site` message (core thread) into out (outlen bytes): gathered
 * from every device's latest reading; a device whose last poll failed or whose
 * last reading is older than max_age_ms is listed in "missing" and makes
 * quality "partial". Returns the length, or -1 (ENOSPC).
 */
int em_ops_site_message(struct em_ops *o, uint64_t seq, int64_t max_age_ms, char *out,
                        size_t outlen);

/*
 * The page of GET /, agent/ops/page.html gzipped at build time (static). It is
 * one self-contained file (inline CSS, JS, SVG): a gateway often sits on a site
 * without internet access, so it loads nothing from elsewhere. It holds no data
 * itself: its script reads the same JSON API an operator's scripts use every 5 s,
 * with the bearer token from the address's fragment (`/#token=...`, never sent
 * to the server) when one is configured.
 */
extern const unsigned char em_ops_page_gz[];
extern const size_t em_ops_page_gz_len;

#endif
