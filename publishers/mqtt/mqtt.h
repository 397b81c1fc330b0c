/* mqtt.h - the MQTT publisher (paho.mqtt.c MQTTClient, single-thread mode).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Serves publishers[] entries of type "mqtt" (CONTRACT section 4):
 *   url         mqtt://HOST[:PORT] (default port 1883) or mqtts://HOST[:PORT] (8883);
 *               HOST may be a bracketed IPv6 literal
 *   topic       template, default "monitoring/{dataset}/{id}"
 *   qos         0, 1 or 2, taken as given (the core fills the default 1)
 *   window      messages in flight, 1..32768; <= 0 means 64
 *   timeout_ms  connect timeout, rounded up to whole seconds; <= 0 means 5000
 *   client_id   default "edgemon-{agent}"
 *   username, password or password_file (read once at create, one trailing
 *               newline stripped)
 *   ca_file, cert_file, key_file, tls_verify (mqtts:// only; tls_verify checks
 *               the broker's chain and its host name, taken as given)
 * The publisher keeps `edgemon/{agent}/status` retained: "online" after every
 * (re)connect, "offline" as the last will and on destroy.
 *
 * Delivery: a message is confirmed (EM_PUB_OK) on PUBACK at QoS 1, PUBCOMP at
 * QoS 2, and once written to the socket at QoS 0. A message still unconfirmed
 * when the connection drops gets EM_PUB_RETRY, so it may reach the broker twice
 * (at-least-once). Paho keeps nothing on disk and buffers nothing while offline:
 * submit() answers EM_PUB_RETRY instead. A message whose rendered topic cannot
 * be published (too long, wildcards, invalid UTF-8) gets EM_PUB_DROP.
 */
#ifndef EM_PUB_MQTT_H
#define EM_PUB_MQTT_H

#include "publisher.h"

extern const struct em_publisher mqtt_publisher;

#endif
