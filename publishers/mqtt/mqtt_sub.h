/* mqtt_sub.h - the MQTT publisher's subscribe side: feature flags in, acks out.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * paho calls messageArrived on its own thread; the core wants messages on the
 * core thread, from service(). So arrivals are copied into a small ring under
 * the inbox's own lock (never paho's: nothing here calls paho while holding it)
 * and handed out by em_mqtt_inbox_service, which also (re)subscribes after every
 * connect: with a clean session the broker forgets subscriptions on each one.
 */
#ifndef EM_PUB_MQTT_SUB_H
#define EM_PUB_MQTT_SUB_H

#include <stddef.h>

#include "mqtt/paho.h"
#include "publisher.h"

/* Messages held between two services; more are dropped (counted). */
#define EM_MQTT_INBOX_SLOTS 4

struct em_mqtt_inbox;

/* Topics are copied; fn/arg kept. NULL with errno (ENOMEM). */
struct em_mqtt_inbox *em_mqtt_inbox_new(const char *const *topics, size_t n, int qos,
                                        em_pub_inbox_fn fn, void *arg);
void em_mqtt_inbox_free(struct em_mqtt_inbox *ib); /* NULL-safe; paho destroyed first */

/* paho thread: the link is up (subscribe again), and a message arrived. */
void em_mqtt_inbox_connected(struct em_mqtt_inbox *ib);
void em_mqtt_inbox_put(struct em_mqtt_inbox *ib, const char *topic, const void *payload,
                       size_t len);

/* Core thread: subscribe when a connect asked for it, then deliver what arrived. */
void em_mqtt_inbox_service(struct em_mqtt_inbox *ib, const struct em_paho *paho,
                           MQTTAsync client, int connected);

#endif
