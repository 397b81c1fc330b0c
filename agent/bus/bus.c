/* bus.c - Modbus links and their poll threads: one thread and one modbus_t per bus.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "bus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

modbus_t *em_bus_modbus_new(const struct em_bus_addr *a)
{
    modbus_t *mb = NULL;
    if (a->kind == EM_BUS_TCP) {
        char port[8];
        snprintf(port, sizeof port, "%d", a->port);
        /* _pi resolves names and IPv6, unlike modbus_new_tcp. */
        mb = modbus_new_tcp_pi(a->host, port);
    } else if (a->kind == EM_BUS_RTU) {
        mb = modbus_new_rtu(a->device, a->baud, a->parity, a->data_bits, a->stop_bits);
    } else {
        errno = EINVAL;
    }
    if (mb)
        /* Recovery stays off: libmodbus's link recovery can loop on connect and
         * block the thread (reference/protocols.md 7.5); we back off ourselves. */
        modbus_set_error_recovery(mb, MODBUS_ERROR_RECOVERY_NONE);
    return mb;
}

int em_bus_init(struct em_bus *b, const struct em_bus_addr *addr, const char *key)
{
    memset(b, 0, sizeof *b);
    b->addr = *addr;
    snprintf(b->key, sizeof b->key, "%s", key);
    b->backoff_ms = EM_BUS_BACKOFF_MIN_MS;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return errno = ENOMEM, -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&b->wake_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return errno = rc, -1;
    if ((rc = pthread_mutex_init(&b->wake_mu, NULL)) != 0) {
        pthread_cond_destroy(&b->wake_cv);
        return errno = rc, -1;
    }
    b->wake_ready = 1;
    return 0;
}

int em_bus_add_device(struct em_bus *b, struct em_device *d)
{
    struct em_device **n = realloc(b->devs, (b->ndevs + 1) * sizeof *n);
    if (!n) {
        errno = ENOMEM;
        return -1;
    }
    b->devs = n;
    b->devs[b->ndevs++] = d;
    return 0;
}

int em_bus_connect(struct em_bus *b)
{
    if (!b->mb && !(b->mb = em_bus_modbus_new(&b->addr)))
        return -1;
    /* The TCP connect timeout is the response timeout (modbus-tcp.c _connect):
     * use the shortest device timeout so a dead endpoint costs little. */
    int ms = 500;
    for (size_t i = 0; i < b->ndevs; i++)
        if (i == 0 || b->devs[i]->conf->timeout_ms < ms)
            ms = b->devs[i]->conf->timeout_ms;
    modbus_set_response_timeout(b->mb, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
    if (modbus_connect(b->mb) < 0) {
        b->last_errno = errno;
        return -1;
    }
    b->connected = 1;
    b->timeouts_in_row = 0;
    b->backoff_ms = EM_BUS_BACKOFF_MIN_MS;
    for (size_t i = 0; i < b->ndevs; i++)
        em_device_link_reset(b->devs[i]);
    return 0;
}

void em_bus_disconnect(struct em_bus *b)
{
    if (b->mb && b->connected)
        modbus_close(b->mb);
    b->connected = 0;
}

static int interval_of(const struct em_bus *b, const struct em_device *d)
{
    int iv = __atomic_load_n(&b->interval_override_ms, __ATOMIC_RELAXED);
    return iv > 0 ? iv : d->conf->interval_ms;
}

/* Next slot strictly after `now` on the device's fixed phase; a device that keeps
 * failing is probed on a backoff instead. */
static void reschedule(struct em_bus *b, struct em_device *d, int64_t now)
{
    int64_t iv = interval_of(b, d);
    if (d->fails >= EM_DEV_FAILS_BEFORE_BACKOFF) {
        int64_t back = iv << (d->fails - EM_DEV_FAILS_BEFORE_BACKOFF + 1 > 6
                                  ? 6
                                  : d->fails - EM_DEV_FAILS_BEFORE_BACKOFF + 1);
        if (back > EM_DEV_BACKOFF_MAX_MS)
            back = EM_DEV_BACKOFF_MAX_MS > iv ? EM_DEV_BACKOFF_MAX_MS : iv;
        iv = back;
    }
    d->next_due += iv;
    if (d->next_due <= now)
        d->next_due += ((now - d->next_due) / iv + 1) * iv;
}

/* Is errno a failure of the link (reconnect) rather than of one device? */
static int link_broken(struct em_bus *b, int err)
{
    if (err == ECONNRESET || err == EPIPE || err == EBADF || err == ECONNREFUSED ||
        err == ENOTCONN || err == ENXIO || err == EIO)
        return 1;
    /* Behind a TCP gateway one silent unit times out while the others answer, so
     * one timeout says nothing about the link. Timeouts from every device in a
     * row, with no answer in between, look like a dead gateway or a half-open
     * socket: then reconnect. On RTU a timeout is a silent device on a live line. */
    if (err == ETIMEDOUT && b->addr.kind == EM_BUS_TCP)
        return ++b->timeouts_in_row >= EM_BUS_TIMEOUTS_TO_RECONNECT;
    return 0;
}

/* Writers change stop, snap_want or sched_gen first and then signal under wake_mu,
 * and the conditions are checked under it here, so no wake-up is lost. */
static int wake_reason(struct em_bus *b, unsigned gen)
{
    return b->stop || __atomic_load_n(&b->snap_want, __ATOMIC_ACQUIRE) != b->snap_done ||
           __atomic_load_n(&b->sched_gen, __ATOMIC_ACQUIRE) != gen;
}

static void sleep_until(struct em_bus *b, int64_t when, unsigned gen)
{
    struct timespec at = {when / 1000, (when % 1000) * 1000000};
    pthread_mutex_lock(&b->wake_mu);
    while (!wake_reason(b, gen) && em_mono_ms() < when)
        if (pthread_cond_timedwait(&b->wake_cv, &b->wake_mu, &at) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&b->wake_mu);
}

void em_bus_wake(struct em_bus *b)
{
    if (!b->wake_ready)
        return;
    pthread_mutex_lock(&b->wake_mu);
    pthread_cond_broadcast(&b->wake_cv);
    pthread_mutex_unlock(&b->wake_mu);
}

static void poll_one(struct em_bus *b, struct em_device *d)
{
    int64_t ts = em_wall_ms();
    d->poll_started_ms = em_mono_ms();
    if (!b->connected) {
        int64_t now = em_mono_ms();
        if (now < b->next_connect || em_bus_connect(b) < 0) {
            if (now >= b->next_connect) {
                b->next_connect = now + b->backoff_ms;
                b->backoff_ms = b->backoff_ms * 2 > EM_BUS_BACKOFF_MAX_MS ? EM_BUS_BACKOFF_MAX_MS
                                                                         : b->backoff_ms * 2;
            }
            d->polls_failed++;
            d->up = 0;
            d->last_errno = b->last_errno ? b->last_errno : ENOTCONN;
            b->sink(b->core, d, NULL, 0, d->last_errno);
            return;
        }
    }
    if (em_device_poll(d, b->mb) < 0) {
        int err = errno;
        if (err != ETIMEDOUT)
            b->timeouts_in_row = 0;
        if (link_broken(b, err)) {
            em_bus_disconnect(b);
            b->last_errno = err;
            b->next_connect = em_mono_ms() + b->backoff_ms;
        }
        b->sink(b->core, d, NULL, 0, err);
        return;
    }
    b->timeouts_in_row = 0;
    int n = em_device_message(d, b->agent, b->site, b->boot, ts, b->msg, sizeof b->msg);
    if (n < 0) {
        b->sink(b->core, d, NULL, 0, errno);
        return;
    }
    b->sink(b->core, d, b->msg, (size_t)n, 0);
}

static void *bus_main(void *arg)
{
    struct em_bus *b = arg;
    int64_t start = em_mono_ms();
    unsigned gen = __atomic_load_n(&b->sched_gen, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < b->ndevs; i++)
        b->devs[i]->next_due = start;
    while (!b->stop) {
        struct em_device *next = NULL;
        unsigned g = __atomic_load_n(&b->sched_gen, __ATOMIC_ACQUIRE);
        if (g != gen) {
            /* The interval changed: every device starts its new phase now. */
            int64_t now = em_mono_ms();
            for (size_t i = 0; i < b->ndevs; i++)
                b->devs[i]->next_due = now;
            gen = g;
        }
        for (size_t i = 0; i < b->ndevs; i++)
            if (!next || b->devs[i]->next_due < next->next_due)
                next = b->devs[i];
        if (!next)
            break;
        sleep_until(b, next->next_due, gen);
        if (b->stop || __atomic_load_n(&b->sched_gen, __ATOMIC_ACQUIRE) != gen)
            continue;
        unsigned want = __atomic_load_n(&b->snap_want, __ATOMIC_ACQUIRE);
        if (want != b->snap_done) {
            /* A snapshot: every device now, in turn; the schedules stay as they are. */
            for (size_t i = 0; i < b->ndevs && !b->stop; i++)
                if (!__atomic_load_n(&b->devs[i]->disabled, __ATOMIC_RELAXED))
                    poll_one(b, b->devs[i]);
            b->snap_done = want;
            continue;
        }
        /* A device switched off by a flag keeps its phase but is not asked. */
        if (!__atomic_load_n(&next->disabled, __ATOMIC_RELAXED))
            poll_one(b, next);
        reschedule(b, next, em_mono_ms());
    }
    return NULL;
}

int em_bus_start(struct em_bus *b)
{
    int rc = pthread_create(&b->thread, NULL, bus_main, b);
    if (rc) {
        errno = rc;
        return -1;
    }
    b->started = 1;
    return 0;
}

void em_bus_stop(struct em_bus *b)
{
    if (!b->started)
        return;
    b->stop = 1;
    em_bus_wake(b);
    pthread_join(b->thread, NULL);
    b->started = 0;
}

void em_bus_release(struct em_bus *b)
{
    em_bus_stop(b);
    if (b->mb) {
        em_bus_disconnect(b);
        modbus_free(b->mb);
    }
    free(b->devs);
    if (b->wake_ready) {
        pthread_cond_destroy(&b->wake_cv);
        pthread_mutex_destroy(&b->wake_mu);
    }
    memset(b, 0, sizeof *b);
}
