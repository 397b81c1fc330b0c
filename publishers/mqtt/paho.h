/* paho.h - paho.mqtt.c's MQTTAsync API, loaded at run time.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Paho comes as two libraries with one API: libpaho-mqtt3a (plain TCP) and
 * libpaho-mqtt3as (TLS, linked to OpenSSL). Linking the TLS one maps and
 * relocates libssl and libcrypto at start-up, about 2 MB resident on glibc,
 * even when every link is mqtt://. So the MQTT publisher loads paho itself:
 * the plain library for mqtt:// links, the TLS one as soon as one mqtts://
 * link is configured (or when the plain one is not installed). Once the TLS one
 * is loaded every later client uses it; a library is never unloaded (paho's
 * threads may still run in it).
 *
 * Core thread only (publisher create), like everything else in publishers/.
 */
#ifndef EM_PUB_PAHO_H
#define EM_PUB_PAHO_H

#include <stddef.h>

#include <MQTTAsync.h>

struct em_paho {
    __typeof__(MQTTAsync_createWithOptions) *createWithOptions;
    __typeof__(MQTTAsync_setCallbacks) *setCallbacks;
    __typeof__(MQTTAsync_setConnected) *setConnected;
    __typeof__(MQTTAsync_connect) *connect;
    __typeof__(MQTTAsync_sendMessage) *sendMessage;
    __typeof__(MQTTAsync_subscribeMany) *subscribeMany;
    __typeof__(MQTTAsync_destroy) *destroy;
    __typeof__(MQTTAsync_strerror) *strerror;
    __typeof__(MQTTAsync_freeMessage) *freeMessage;
    __typeof__(MQTTAsync_free) *free;
};

/*
 * The API of the TLS-capable (tls = 1) or plain (tls = 0) paho, loaded on
 * first use. The returned table lives as long as the process. NULL with a
 * message in err when the library or one of its functions cannot be loaded.
 */
const struct em_paho *em_paho_get(int tls, char *err, size_t errlen);

#endif
