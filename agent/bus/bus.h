/* bus.h - Modbus links and their poll threads: one thread and one modbus_t per bus.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * libmodbus is blocking, so every bus (a serial line or a TCP endpoint) gets its
 * own thread that owns its modbus_t: a device that times out on one bus never
 * delays another bus, and the devices of one RS-485 line are polled one at a
 * time, as the line demands. Schedules run on the monotonic clock at fixed
 * phases (due += interval), so polls do not drift and a slow cycle does not
 * shift later ones; missed slots are skipped, not bunched.
 */
#ifndef EM_BUS_H
#define EM_BUS_H

#include <modbus.h>
#include <pthread.h>
#include <stddef.h>

#include "busaddr.h"
#include "device.h"

#define EM_BUS_BACKOFF_MIN_MS 500
#define EM_BUS_BACKOFF_MAX_MS 30000
/* TCP: consecutive timeouts, with no device answering in between, that make us
 * drop and re-open the connection. */
#define EM_BUS_TIMEOUTS_TO_RECONNECT 3

struct em_bus;

/*
 * Called on the bus thread after each poll of `d`: with `msg` (the formatted
 * message, len bytes, borrowed for the call) on success, or msg == NULL and
 * `err` (an errno) on failure. Must not block for long: hand the message over
 * and return.
 */
typedef void (*em_bus_sink_fn)(void *core, struct em_device *d, const char *msg, size_t len,
                               int err);

struct em_bus {
    struct em_bus_addr addr;       /* copy */
    char key[EM_BUSADDR_KEY_MAX];
    modbus_t *mb;                  /* owned; NULL until the first connect */
    int connected;
    int backoff_ms;
    int64_t next_connect;          /* monotonic ms */
    int last_errno;
    int timeouts_in_row;
    struct em_device **devs;       /* borrowed devices; the array is owned */
    size_t ndevs;
    em_bus_sink_fn sink;
    void *core;
    const char *agent, *site, *boot; /* borrowed for the bus lifetime */
    pthread_t thread;
    int started;
    volatile int stop;
    /* The thread sleeps on wake_cv (CLOCK_MONOTONIC) until its next device is due
     * or em_bus_wake: stop, a snapshot or a new schedule, never on a timer tick. */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv;
    int wake_ready;
    /* Feature flags, set by the core thread (__atomic): poll.interval_ms (0 = each
     * device its own); bumping sched_gen makes the thread re-plan every device
     * from now, so a new interval applies at once. */
    int interval_override_ms;
    unsigned sched_gen;
    /* Snapshot requests (GET /api/snapshot): another thread bumps snap_want
     * (__atomic), the bus thread then polls all its devices in turn at once. */
    unsigned snap_want, snap_done;
    char msg[EM_MSG_MAX];
};

/* Create the modbus_t for an address (not connected). NULL with errno. */
modbus_t *em_bus_modbus_new(const struct em_bus_addr *a);

/* Initialise a bus for `addr` with no devices. Returns 0 or -1 (ENOMEM). */
int em_bus_init(struct em_bus *b, const struct em_bus_addr *addr, const char *key);
int em_bus_add_device(struct em_bus *b, struct em_device *d);

/* Connect now (blocking up to the first device's timeout). 0 or -1 with errno. */
int em_bus_connect(struct em_bus *b);
void em_bus_disconnect(struct em_bus *b);

/* Start / stop the poll thread. Stop waits for the current request to finish. */
int em_bus_start(struct em_bus *b);
void em_bus_stop(struct em_bus *b);

/* Wake the sleeping poll thread after changing snap_want or sched_gen, so it
 * acts at once. Any thread. */
void em_bus_wake(struct em_bus *b);

void em_bus_release(struct em_bus *b);

#endif
