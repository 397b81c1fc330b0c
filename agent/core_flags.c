/* core_flags.c - feature flags in the running daemon (CONTRACT 5).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Sources: the MQTT and Redis publishers with "features": true listen on
 * <topic> and <topic>/<agent>; features.url is polled (agent/features/fetch).
 * Every message is checked whole (agent/features/flagset.c); a valid one
 * replaces the active set and is applied at once, on this thread, without
 * stopping a bus or touching the queue:
 *   dataset.*         drain_handoff leaves those readings out of the queue (they
 *                     are still polled, printed and on the local API)
 *   device.*          the bus thread skips the device (em_device.disabled)
 *   poll.interval_ms  every bus re-plans its devices from now (em_bus.sched_gen)
 *   site.snapshot     site_cycle stops
 *   log.level         em_log_set_level, back to the start level when absent
 * The set is kept in <state_dir>/features.json and the Redis hash
 * env.active.features (agent/features/fstore), restored at start, and each
 * message is answered on <topic>.ack. Acks wait (up to ACK_KEEP_MS) for a
 * publisher that is down, so an operator's change is not answered by silence.
 */
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "device.h"
#include "fetch.h"
#include "fstore.h"
#include "log.h"
#include "ops.h"

#define ACK_KEEP_MS      60000
#define REDIS_REWRITE_MS 60000

static int wants_flags(const struct pubrt *p)
{
    return p->conf->features && p->impl->listen && p->impl->notify;
}

/* ---- acks ---- */

static void ack_queue(struct core *c, int applied, const char *error)
{
    struct em_sb b = {0};
    em_sb_printf(&b, "{\"agent\":");
    em_sb_json_str(&b, c->conf->agent.id);
    em_sb_printf(&b, ",\"applied\":%s,\"error\":", applied ? "true" : "false");
    if (error)
        em_sb_json_str(&b, error);
    else
        em_sb_printf(&b, "null");
    em_sb_printf(&b, ",\"active\":%s}", c->flags->active);
    if (b.oom || !b.p) {
        em_sb_release(&b);
        return;
    }
    if (c->nacks == FLAG_ACKS) {
        /* Full: the oldest goes (the newest says what is active now). */
        free(c->acks[0].text);
        memmove(&c->acks[0], &c->acks[1], (FLAG_ACKS - 1) * sizeof c->acks[0]);
        c->nacks--;
    }
    struct flag_ack *a = &c->acks[c->nacks++];
    a->text = b.p;
    a->len = b.n;
    a->sent = 0;
    a->expires = em_mono_ms() + ACK_KEEP_MS;
}

/* Send each waiting ack on every flag publisher that has not had it yet. */
static void ack_flush(struct core *c, int64_t now)
{
    size_t keep = 0;
    for (size_t k = 0; k < c->nacks; k++) {
        struct flag_ack *a = &c->acks[k];
        int open = 0;
        for (size_t i = 0; i < c->npubs && i < 32; i++) {
            struct pubrt *p = &c->pubs[i];
            if (!wants_flags(p) || (a->sent & (1u << i)))
                continue;
            if (p->impl->notify(p->ctx, c->ack_topic, a->text, a->len) == 0)
                a->sent |= 1u << i;
            else
                open = 1;
        }
        if (open && now < a->expires)
            c->acks[keep++] = *a;
        else
            free(a->text);
    }
    c->nacks = keep;
}

/* ---- applying ---- */

static void apply(struct core *c)
{
    const struct em_features *f = c->flags;
    c->datasets_off = f->datasets_off;
    c->site_off = !f->site_snapshot;
    for (size_t i = 0; i < c->ndevs && i < f->ndevices; i++) {
        __atomic_store_n(&c->devs[i].disabled, f->devices_off[i], __ATOMIC_RELAXED);
        em_ops_device_enabled(c->ops, i, !f->devices_off[i]);
    }
    for (size_t i = 0; i < c->nbuses; i++) {
        struct em_bus *b = &c->buses[i];
        if (__atomic_load_n(&b->interval_override_ms, __ATOMIC_RELAXED) == f->poll_interval_ms)
            continue;
        __atomic_store_n(&b->interval_override_ms, f->poll_interval_ms, __ATOMIC_RELAXED);
        __atomic_add_fetch(&b->sched_gen, 1, __ATOMIC_RELEASE);
        em_bus_wake(b);
    }
    em_log_set_level(f->log_level >= 0 ? (enum em_log_level)f->log_level
                                       : (enum em_log_level)c->log_level_start);
    em_ops_features(c->ops, f->active, f->datasets_off);
}

static void persist(struct core *c)
{
    unsigned sup;
    if (em_fstore_save_file(c->conf->agent.state_dir, c->flags) < 0 &&
        em_log_should("features-save", 60, &sup))
        log_error("features: cannot write %s/%s: %s", c->conf->agent.state_dir, EM_FSTORE_FILE,
                  strerror(errno));
    c->flags_redis_dirty = 1;
}

/* One flag message from `source` (NULL payload: over the size limit). */
static void take_message(struct core *c, const char *source, const char *payload, size_t len)
{
    char err[256];
    int rc;
    if (!payload) {
        snprintf(err, sizeof err, "message of %zu bytes is over the %d byte limit", len,
                 EM_FEATURES_MAX_BYTES);
        rc = -1;
    } else {
        rc = em_features_parse(c->conf, payload, len, 0, c->flags_next, err, sizeof err);
    }
    if (rc < 0) {
        log_warnx("features: rejected a message from %s: %s (nothing changed)", source, err);
        ack_queue(c, 0, err);
        return;
    }
    int changed = !em_features_equal(c->flags, c->flags_next);
    struct em_features *t = c->flags;
    c->flags = c->flags_next;
    c->flags_next = t;
    c->flags_from_redis_pending = 0; /* a live message wins over a late restore */
    if (changed) {
        apply(c);
        log_info("features: applied from %s: %s", source, c->flags->active);
        persist(c);
    }
    ack_queue(c, 1, NULL);
}

/* A publisher's inbox (inside its service(), core thread). */
static void on_inbox(void *arg, const char *topic, const char *payload, size_t len)
{
    struct pubrt *p = arg;
    char source[160];
    snprintf(source, sizeof source, "%s %s", p->conf->name, topic);
    take_message(p->core, source, payload, len);
}

/* A stored set at start: lenient about devices the configuration lost. */
static void restore(struct core *c, const char *text, size_t len, const char *where)
{
    char err[256];
    if (em_features_parse(c->conf, text, len, 1, c->flags, err, sizeof err) < 0) {
        log_warnx("features: the set stored in %s is invalid (%s): starting with the defaults",
                  where, err);
        return;
    }
    if (err[0])
        log_warnx("features: stored set from %s: %s (left out)", where, err);
    log_info("features: restored from %s: %s", where, c->flags->active);
}

static void restore_from_redis(struct core *c)
{
    size_t len = 0;
    char *text = em_fstore_load_redis(c->queue, &len);
    if (!text) {
        /* Down: try again when Redis is back; empty or no Redis: nothing stored. */
        c->flags_from_redis_pending = errno == ENOTCONN;
        return;
    }
    c->flags_from_redis_pending = 0;
    restore(c, text, len, "redis " EM_FSTORE_HASH);
    free(text);
    apply(c);
    em_fstore_save_file(c->conf->agent.state_dir, c->flags);
}

int em_core_flags_setup(struct core *c)
{
    const struct em_features_conf *fc = &c->conf->features;
    char err[256];
    size_t len = 0;

    if (!(c->flags = em_features_new(c->conf)) || !(c->flags_next = em_features_new(c->conf))) {
        log_error("out of memory");
        return -1;
    }
    snprintf(c->ack_topic, sizeof c->ack_topic, "%s.ack", fc->topic);
    char *text = em_fstore_load_file(c->conf->agent.state_dir, &len);
    if (text) {
        restore(c, text, len, EM_FSTORE_FILE);
        free(text);
        c->flags_redis_dirty = 1; /* the hash follows the file */
    } else if (c->conf->queue.backend != EM_QUEUE_SPOOL) {
        restore_from_redis(c);
    }
    apply(c);

    char agent_topic[sizeof c->ack_topic];
    snprintf(agent_topic, sizeof agent_topic, "%s/%s", fc->topic, c->conf->agent.id);
    const char *topics[] = {fc->topic, agent_topic};
    for (size_t i = 0; i < c->npubs; i++) {
        struct pubrt *p = &c->pubs[i];
        if (!p->conf->features)
            continue;
        if (!wants_flags(p)) {
            log_warnx("publisher '%s': type %s carries no feature flags; \"features\" ignored",
                      p->conf->name, p->conf->type);
            continue;
        }
        if (p->impl->listen(p->ctx, topics, 2, on_inbox, p) < 0) {
            log_error("publisher '%s': cannot listen for feature flags: %s", p->conf->name,
                      strerror(errno));
            return -1;
        }
    }
    if (fc->url) {
        long tmo = 10000;
        if (!(c->fetch = em_fetch_new(fc->url, fc->poll_s, tmo, err, sizeof err))) {
            log_error("features.url: %s", err);
            return -1;
        }
    }
    return 0;
}

void em_core_flags_service(struct core *c, int64_t now, int redis_event)
{
    const char *body;
    size_t len;
    char err[200];
    unsigned sup;

    if (!c->flags)
        return;
    if (c->fetch) {
        int r = em_fetch_service(c->fetch, now, &body, &len, err, sizeof err);
        if (r > 0)
            take_message(c, "features.url", body, len);
        else if (r < 0 && em_log_should("features-url", 300, &sup))
            log_warnx("features.url: %s (keeping the active set; retrying with backoff)%s", err,
                      sup ? " (repeated)" : "");
    }
    if (redis_event > 0) {
        if (c->flags_from_redis_pending)
            restore_from_redis(c);
        c->flags_redis_dirty = 1; /* a restarted Redis may have lost the hash */
    }
    if (c->conf->queue.backend != EM_QUEUE_SPOOL &&
        (c->flags_redis_dirty || now - c->flags_redis_last >= REDIS_REWRITE_MS) &&
        !c->flags_from_redis_pending && em_queue_redis_up(c->queue)) {
        c->flags_redis_last = now;
        c->flags_redis_dirty = em_fstore_save_redis(c->queue, c->flags) < 0;
    }
    if (c->nacks)
        ack_flush(c, now);
}

void em_core_flags_teardown(struct core *c)
{
    for (size_t k = 0; k < c->nacks; k++)
        free(c->acks[k].text);
    c->nacks = 0;
    em_fetch_free(c->fetch);
    c->fetch = NULL;
    em_features_free(c->flags);
    em_features_free(c->flags_next);
    c->flags = c->flags_next = NULL;
    c->datasets_off = 0;
    c->site_off = 0;
}
