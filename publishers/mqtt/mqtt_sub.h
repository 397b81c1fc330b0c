/* mqtt_sub.h - the MQTT publisher's subscribe side: feature flags in.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * paho's MQTTClient_receive, called by the publisher's service(), returns the
 * messages that arrived on the core thread itself, so they go straight to the
 * receiver, NUL-terminated. The broker forgets subscriptions on every clean
 * session, so the publisher subscribes again after each connect; a refused or
 * timed-out subscription is tried again about once a second.
 */
#ifndef EM_PUB_MQTT_SUB_H
#define EM_PUB_MQTT_SUB_H

#include <stddef.h>

#include "mqtt/paho.h"
#include "publisher.h"

struct em_mqtt_inbox;

/* Topics are copied; fn/arg kept. NULL with errno (ENOMEM). */
struct em_mqtt_inbox *em_mqtt_inbox_new(const char *const *topics, size_t n, int qos,
                                        em_pub_inbox_fn fn, void *arg);
void em_mqtt_inbox_free(struct em_mqtt_inbox *ib); /* NULL-safe */

/* A new session began: subscribe again at the next em_mqtt_inbox_service. */
void em_mqtt_inbox_connected(struct em_mqtt_inbox *ib);

/*
 * Subscribe when a connect asked for it (paho waits for the SUBACK, about one
 * round trip). `client` is connected.
 */
void em_mqtt_inbox_service(struct em_mqtt_inbox *ib, const struct em_paho *paho,
                           MQTTClient client);

/* One message from MQTTClient_receive (borrowed for the call), to the receiver. */
void em_mqtt_inbox_deliver(struct em_mqtt_inbox *ib, const char *topic, const void *payload,
                           size_t len);

#endif
