/* core_pub.c - the publishers' windows: send in order, settle verdicts, the live lane.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Each publisher has a ring of messages in flight, kept in send order;
 * confirmations advance an ack frontier, so the queue is acked in order. A retry
 * verdict stops sending until every outstanding verdict is in, then the window
 * re-reads from the oldest unconfirmed message. Beside a backlog, a live lane
 * sends the freshest reading of each device first (live.h).
 */
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static void on_done(void *arg, uint64_t token, enum em_pub_result r)
{
    struct pubrt *p = arg;
    if (token & LIVE_TOKEN) {
        size_t k = (size_t)(token & 0xFF);
        if (k >= LIVE_WINDOW || !p->ls[k].busy || p->ls[k].gen != (uint32_t)(token >> 8))
            return;
        p->ls[k].busy = 0;
        p->live_inflight--;
        if (r == EM_PUB_OK) {
            /* Its backlog copy will be acked without being sent again. */
            em_live_confirmed(p->live, p->ls[k].dev, p->ls[k].seq);
            p->live_sent++;
            p->published++;
        }
        return;
    }
    size_t i = (size_t)(token & 0xFFFFFFFFu);
    if (i >= p->cap || p->ring[i].gen != (uint32_t)(token >> 32) ||
        p->ring[i].state != SLOT_SENT)
        return; /* a verdict for a slot already given up (after a rewind) */
    p->ring[i].state = r == EM_PUB_OK ? SLOT_OK : r == EM_PUB_DROP ? SLOT_DROP : SLOT_RETRY;
    p->unresolved--;
}

/* Message envelope fields, from the fixed layout em_msg_format writes. */
int em_core_envelope(const char *m, size_t len, char *dataset, size_t dl, char *id, size_t il,
                    uint64_t *seq)
{
    static const char seq_key[] = "\"seq\":";
    static const char ds_key[] = "\"dataset\":\"", id_key[] = "\"id\":\"";
    const char *end = m + len, *p = NULL, *q;
    size_t n;
    for (const char *s = m; s + sizeof ds_key < end; s++)
        if (memcmp(s, ds_key, sizeof ds_key - 1) == 0) {
            p = s + sizeof ds_key - 1;
            break;
        }
    if (!p || !(q = memchr(p, '"', (size_t)(end - p))) || (n = (size_t)(q - p)) >= dl)
        return -1;
    memcpy(dataset, p, n);
    dataset[n] = 0;
    p = NULL;
    for (const char *s = q; s + sizeof id_key < end; s++)
        if (memcmp(s, id_key, sizeof id_key - 1) == 0) {
            p = s + sizeof id_key - 1;
            break;
        }
    if (!p || !(q = memchr(p, '"', (size_t)(end - p))) || (n = (size_t)(q - p)) >= il)
        return -1;
    memcpy(id, p, n);
    id[n] = 0;
    *seq = 0;
    for (const char *t = q; t + sizeof seq_key < end; t++)
        if (memcmp(t, seq_key, sizeof seq_key - 1) == 0) {
            *seq = strtoull(t + sizeof seq_key - 1, NULL, 10);
            break;
        }
    return 0;
}

/* Index of a device in the configuration (the live lane's table), or ndevices. */
static size_t dev_index(const struct core *c, const char *id)
{
    for (size_t i = 0; i < c->conf->ndevices; i++)
        if (strcmp(c->conf->devices[i].id, id) == 0)
            return i;
    return c->conf->ndevices;
}

/* Send waiting fresh readings beside the backlog. Returns 1 if any went out. */
static int pump_live(struct core *c, struct pubrt *p)
{
    char dataset[16], id[80];
    uint64_t seq;
    size_t len;
    int sent = 0;
    const char *m;

    while (p->live_inflight < LIVE_WINDOW && (m = em_live_peek(p->live, &len))) {
        size_t k = 0;
        while (k < LIVE_WINDOW && p->ls[k].busy)
            k++;
        if (k == LIVE_WINDOW || em_core_envelope(m, len, dataset, sizeof dataset, id, sizeof id, &seq) < 0) {
            em_live_pop(p->live);
            continue;
        }
        p->ls[k].busy = 1;
        p->ls[k].gen = ++p->lgen;
        p->ls[k].dev = dev_index(c, id);
        p->ls[k].seq = seq;
        p->live_inflight++;
        struct em_pub_msg pm = {dataset, id, m, len,
                                LIVE_TOKEN | ((uint64_t)p->ls[k].gen << 8) | (uint64_t)k};
        enum em_pub_result r = p->impl->submit(p->ctx, &pm);
        if (r == EM_PUB_RETRY) {
            /* Window full or link down: keep the copy for the next round. */
            if (p->ls[k].busy) {
                p->ls[k].busy = 0;
                p->live_inflight--;
            }
            break;
        }
        em_live_pop(p->live);
        sent = 1;
    }
    return sent;
}

static void flush_acks(struct core *c, struct pubrt *p)
{
    if (p->nacks && em_queue_ack(c->queue, p->idx, p->acks, p->nacks) < 0)
        /* Not acked: they come again after a rewind; a duplicate, not a loss. */
        p->rewind_pending = 1;
    p->nacks = 0;
}

/*
 * Move the confirmed run at the head of the window out of it, and ack it to the
 * queue once ACK_BATCH are waiting, ACK_DELAY_MS after the first, when nothing
 * else is in flight (a live site acks each reading at once), before a rewind
 * (which re-reads everything unacked) and at stop.
 */
void em_core_settle(struct core *c, struct pubrt *p, int force)
{
    while (p->count > 0) {
        struct slot *s = &p->ring[p->head];
        if (s->state == SLOT_SENT)
            break;
        if (s->state == SLOT_RETRY) {
            p->rewind_pending = 1;
            break;
        }
        if (s->state == SLOT_OK) {
            p->published++;
            p->acked_since++;
        } else if (s->state == SLOT_DROP) {
            p->deadletter++;
        }
        if (p->nacks == 0)
            p->acks_since = em_mono_ms();
        p->acks[p->nacks].a = s->a;
        p->acks[p->nacks].b = s->b;
        p->nacks++;
        s->state = SLOT_FREE;
        p->head = (p->head + 1) % p->cap;
        p->count--;
        if (p->nacks == ACK_BATCH)
            flush_acks(c, p);
    }
    for (size_t k = 0, i = p->head; k < p->count; k++, i = (i + 1) % p->cap)
        if (p->ring[i].state == SLOT_RETRY)
            p->rewind_pending = 1;
    if (p->nacks && (force || p->rewind_pending || p->count == 0 ||
                     em_mono_ms() - p->acks_since >= ACK_DELAY_MS))
        flush_acks(c, p);
}

/* Report new drops once a minute at most, with the count and the reasons. */
static void log_drops(struct pubrt *p, const struct em_qstats *st)
{
    char key[96], why[160];
    unsigned suppressed;
    size_t n = 0;
    if (st->dropped <= p->dropped_logged)
        return;
    snprintf(key, sizeof key, "drops:%s", p->conf->name);
    if (!em_log_should(key, 60, &suppressed))
        return;
    why[0] = 0;
    for (size_t r = 0; r < st->nreasons && n < sizeof why; r++)
        if (st->dropped_by[r])
            n += (size_t)snprintf(why + n, sizeof why - n, "%s%s %lld", n ? ", " : "",
                                  st->reason_names[r], st->dropped_by[r]);
    log_warnx("[pub:%s:%s] queue full: %lld oldest readings dropped since the last report "
              "(%lld in all: %s)",
              p->conf->type, p->conf->name, st->dropped - p->dropped_logged, st->dropped, why);
    p->dropped_logged = st->dropped;
}

/* The live lane is on while the backlog exceeds two windows (at least
 * LIVE_BACKLOG_MIN), off again once it fits in one window; never for an
 * `ordered` publisher. */
void em_core_update_lane(struct core *c, struct pubrt *p, const struct em_qstats *fresh)
{
    struct em_qstats st;
    if (fresh)
        st = *fresh;
    else if (em_queue_stats(c->queue, p->idx, &st) < 0)
        return;
    log_drops(p, &st);
    size_t window = p->conf->window > 0 ? (size_t)p->conf->window : 64;
    size_t on = 2 * window > LIVE_BACKLOG_MIN ? 2 * window : LIVE_BACKLOG_MIN;
    /* `ordered`: a consumer that rejects out-of-order points gets the backlog first. */
    if (!p->backlogged && !p->conf->ordered && st.pending > (long long)on) {
        p->backlogged = 1;
    } else if (p->backlogged && st.pending <= (long long)window) {
        p->backlogged = 0;
        em_live_drop_waiting(p->live);
    }
}

static void log_uplink(struct core *c, struct pubrt *p, int up)
{
    struct em_qstats st;
    if (up == p->was_up)
        return;
    /* Never connected yet: say so once the first attempts had their time. */
    if (!up && p->was_up == -1 && em_mono_ms() - p->since < 3000)
        return;
    char pending[48] = "";
    st.pending = 0;
    int st_ok = em_queue_stats(c->queue, p->idx, &st) == 0;
    if (st_ok)
        snprintf(pending, sizeof pending, ", %lld pending", st.pending);
    p->drain_start = 0;
    if (up && st.pending > 0) {
        p->drain_start = em_mono_ms();
        p->drain_base = p->published + p->deadletter;
    }
    if (up && p->was_up == -1)
        log_info("[pub:%s:%s] uplink up%s", p->conf->type, p->conf->name, pending);
    else if (up)
        log_info("[pub:%s:%s] uplink back%s, draining", p->conf->type, p->conf->name, pending);
    if (up)
        em_core_update_lane(c, p, st_ok ? &st : NULL);
    else if (p->was_up == -1)
        log_warnx("[pub:%s:%s] uplink not reachable since start, buffering%s", p->conf->type,
                  p->conf->name, pending);
    else
        log_warnx("[pub:%s:%s] uplink down, buffering%s", p->conf->type, p->conf->name, pending);
    p->was_up = up;
}

/* Service one publisher; returns 1 when it did work (the loop should not sleep). */
int em_core_pump(struct core *c, struct pubrt *p)
{
    struct em_qentry e[256];
    char dataset[16], id[80];
    uint64_t seq;
    int busy = 0;

    uint64_t settled = p->published + p->deadletter;
    if (p->impl->service)
        p->impl->service(p->ctx);
    em_core_settle(c, p, 0);
    if (p->published + p->deadletter != settled)
        p->streaming = STREAMING_PUMPS;
    else if (p->streaming > 0)
        p->streaming--;
    int up = p->impl->up(p->ctx);
    log_uplink(c, p, up);
    if (p->rewind_pending) {
        if (p->unresolved > 0)
            return 0;
        for (size_t k = 0, i = p->head; k < p->count; k++, i = (i + 1) % p->cap)
            p->ring[i].state = SLOT_FREE;
        p->count = 0;
        p->head = 0;
        if (em_queue_rewind(c->queue, p->idx) < 0)
            return 0;
        p->rewind_pending = 0;
        p->retries++;
    }
    if (!up) {
        em_live_drop_waiting(p->live);
        return 0;
    }
    if (p->backlogged)
        busy |= pump_live(c, p);
    size_t window = p->conf->window > 0 ? (size_t)p->conf->window : 64;
    if (window > p->cap)
        window = p->cap;
    if (p->count + p->live_inflight >= window)
        return busy;
    size_t room = window - p->count - p->live_inflight;
    /* A backlog is read a quarter window at a time at least: each read of a
     * Redis queue is a round trip. */
    if (p->count > 0 && room < window / 4)
        return busy;
    if (room > sizeof e / sizeof e[0])
        room = sizeof e / sizeof e[0];
    int n = em_queue_read(c->queue, p->idx, e, room);
    if (n == 0 && p->backlogged) {
        /* Caught up: every queued reading is out, so the fresh copies waiting in
         * the lane would only go twice. Off now, not at the next stats round. */
        p->backlogged = 0;
        em_live_drop_waiting(p->live);
    }
    for (int k = 0; k < n; k++) {
        size_t i = (p->head + p->count) % p->cap;
        struct slot *s = &p->ring[i];
        s->a = e[k].a;
        s->b = e[k].b;
        s->gen = ++p->gen;
        p->count++;
        busy = 1;
        if (em_core_envelope(e[k].data, e[k].len, dataset, sizeof dataset, id, sizeof id, &seq) < 0 ||
            !(p->conf->datasets & em_conf_dataset_bit(dataset))) {
            /* Not for this publisher (or not a message at all): confirm it away. */
            s->state = SLOT_SKIP;
            continue;
        }
        if (em_live_take(p->live, dev_index(c, id), seq)) {
            /* Already confirmed through the live lane. */
            s->state = SLOT_SKIP;
            p->live_skipped++;
            continue;
        }
        s->state = SLOT_SENT;
        p->unresolved++;
        struct em_pub_msg m = {dataset, id, e[k].data, e[k].len,
                               ((uint64_t)s->gen << 32) | (uint64_t)i};
        enum em_pub_result r = p->impl->submit(p->ctx, &m);
        if (r == EM_PUB_OK)
            continue;
        if (s->state == SLOT_SENT) {
            s->state = r == EM_PUB_DROP ? SLOT_DROP : SLOT_RETRY;
            p->unresolved--;
        }
        if (r == EM_PUB_RETRY) {
            /* The rest of this batch was read but not sent: the rewind re-reads it. */
            p->rewind_pending = 1;
            break;
        }
    }
    em_core_settle(c, p, 0);
    if (p->drain_start && n == 0 && p->count == 0) {
        /* What an operator waits for after an outage, and what `make bench` reads. */
        int64_t ms = em_mono_ms() - p->drain_start;
        unsigned long long done = p->published + p->deadletter - p->drain_base;
        log_info("[pub:%s:%s] backlog delivered: %llu readings in %.3f s (%.0f/s)",
                 p->conf->type, p->conf->name, done, ms / 1000.0,
                 ms > 0 ? done * 1000.0 / ms : 0.0);
        p->drain_start = 0;
    }
    return busy;
}

void em_core_teardown_publishers(struct core *c)
{
    for (size_t i = 0; i < c->npubs; i++) {
        struct pubrt *p = &c->pubs[i];
        if (p->impl && p->ctx)
            p->impl->destroy(p->ctx);
        free(p->ring);
        free(p->acks);
        em_live_free(p->live);
    }
    free(c->pubs);
    c->pubs = NULL;
    c->npubs = 0;
}

/* One runtime per publishers[] entry; none connects yet (that is lazy). */
int em_core_setup_publishers(struct core *c)
{
    char err[256];
    const struct em_conf *conf = c->conf;
    c->pubs = calloc(conf->npublishers ? conf->npublishers : 1, sizeof *c->pubs);
    if (!c->pubs)
        goto oom;
    for (size_t i = 0; i < conf->npublishers; i++) {
        struct pubrt *p = &c->pubs[c->npubs];
        const struct em_pub_conf *pc = &conf->publishers[i];
        p->conf = pc;
        p->idx = i;
        p->was_up = -1;
        p->since = em_mono_ms();
        p->impl = em_publisher_find(pc->type);
        if (!p->impl) {
            log_error("publishers[%zu].type: '%s' is not compiled into this build", i, pc->type);
            return -1;
        }
        p->cap = pc->window > 0 && pc->window < WINDOW_MAX ? (size_t)pc->window * 2 : 128;
        p->ring = calloc(p->cap, sizeof *p->ring);
        p->acks = calloc(ACK_BATCH, sizeof *p->acks);
        p->live = em_live_new(conf->ndevices, LIVE_BYTES);
        if (!p->ring || !p->acks || !p->live) {
            free(p->ring);
            free(p->acks);
            em_live_free(p->live);
            goto oom;
        }
        p->core = c;
        p->ctx = p->impl->create(pc, on_done, p, err, sizeof err);
        if (!p->ctx) {
            log_error("publishers[%zu] '%s': %s", i, pc->name, err);
            free(p->ring);
            free(p->acks);
            em_live_free(p->live);
            return -1;
        }
        struct em_qstats st;
        if (em_queue_stats(c->queue, p->idx, &st) == 0)
            p->dropped_logged = st.dropped; /* earlier runs' drops are not news */
        c->npubs++;
    }
    return 0;
oom:
    log_error("out of memory");
    return -1;
}
