/* reach.h - is the broker accepting TCP connections? Asked off the core thread.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * paho's MQTTClient_connect blocks its caller through name resolution, the TCP
 * handshake and the CONNACK. The MQTT publisher calls it on the core thread, so
 * it must not do that while the broker is away: a dropped SYN would hold the
 * core for the whole connect timeout on every attempt. A probe thread of ours
 * resolves the host and opens (then closes) one TCP connection; only once that
 * succeeded does the publisher call paho, which then waits at most about one
 * round trip for the CONNACK.
 *
 * The probe thread touches no paho state. One probe at a time per context.
 */
#ifndef EM_PUB_MQTT_REACH_H
#define EM_PUB_MQTT_REACH_H

enum em_reach_state {
    EM_REACH_IDLE,    /* nothing asked, or the answer was taken */
    EM_REACH_RUNNING, /* the thread is probing */
    EM_REACH_OPEN,    /* a TCP connection was accepted */
    EM_REACH_CLOSED,  /* resolution failed, refused, or no answer in time */
};

struct em_reach;

/*
 * A prober for HOST (a name or an address, IPv6 without brackets) and PORT, both
 * copied, waiting at most timeout_ms per probe. Starts its thread. NULL with
 * errno (EINVAL for a HOST or PORT too long, ENOMEM, or what pthread_create said).
 */
struct em_reach *em_reach_new(const char *host, const char *port, int timeout_ms);

/* Core thread: start one probe unless one is running. */
void em_reach_start(struct em_reach *r);

/*
 * Core thread: the state, after waiting up to wait_ms for a running probe to
 * finish (a refused or accepted connection on a near broker answers at once).
 * OPEN and CLOSED are answered once, then IDLE.
 */
enum em_reach_state em_reach_take(struct em_reach *r, int wait_ms);

/* Stop and join the thread (after at most one probe step); NULL-safe. */
void em_reach_free(struct em_reach *r);

#endif
