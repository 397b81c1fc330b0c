/* paho.h - paho.mqtt.c's synchronous MQTTClient API, loaded at run time.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The publisher drives paho's MQTTClient in single-thread mode from the core
 * loop: no callbacks are ever set, so paho starts no thread of its own and does
 * its reading only inside our calls (MQTTClient_receive).
 *
 * Paho comes as two libraries with one API: libpaho-mqtt3c (plain TCP) and
 * libpaho-mqtt3cs (TLS, linked to OpenSSL). Linking the TLS one maps and
 * relocates libssl and libcrypto at start-up, about 2 MB resident on glibc,
 * even when every link is mqtt://. So the MQTT publisher loads paho itself:
 * the plain library for mqtt:// links, the TLS one as soon as one mqtts://
 * link is configured (or when the plain one is not installed). Once the TLS one
 * is loaded every later client uses it, since both would share one process;
 * a library is never unloaded.
 *
 * Core thread only, like everything else in publishers/.
 */
#ifndef EM_PUB_PAHO_H
#define EM_PUB_PAHO_H

#include <stddef.h>

#include <MQTTClient.h>

struct em_paho {
    __typeof__(MQTTClient_create) *create;
    __typeof__(MQTTClient_connect) *connect;
    __typeof__(MQTTClient_isConnected) *isConnected;
    __typeof__(MQTTClient_publishMessage) *publishMessage;
    __typeof__(MQTTClient_receive) *receive;
    __typeof__(MQTTClient_getPendingDeliveryTokens) *getPendingDeliveryTokens;
    __typeof__(MQTTClient_subscribeMany) *subscribeMany;
    __typeof__(MQTTClient_disconnect) *disconnect;
    __typeof__(MQTTClient_destroy) *destroy;
    __typeof__(MQTTClient_strerror) *strerror;
    __typeof__(MQTTClient_freeMessage) *freeMessage;
    __typeof__(MQTTClient_free) *free;
};

/*
 * The API of the TLS-capable (tls = 1) or plain (tls = 0) paho, loaded on
 * first use. The returned table lives as long as the process. NULL with a
 * message in err when the library or one of its functions cannot be loaded.
 */
const struct em_paho *em_paho_get(int tls, char *err, size_t errlen);

#endif
