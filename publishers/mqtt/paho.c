/* paho.c - load paho.mqtt.c's MQTTClient API at run time (see paho.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "dl.h"

#include "mqtt/paho.h"

/* Sonames, overridable for systems that name them differently. */
#ifndef EM_PAHO_PLAIN_LIB
#define EM_PAHO_PLAIN_LIB "libpaho-mqtt3c.so.1"
#endif
#ifndef EM_PAHO_TLS_LIB
#define EM_PAHO_TLS_LIB "libpaho-mqtt3cs.so.1"
#endif

struct variant {
    const char *soname;
    int loaded;
    struct em_paho api;
};

static struct variant plain = {.soname = EM_PAHO_PLAIN_LIB};
static struct variant tls_variant = {.soname = EM_PAHO_TLS_LIB};

static int load(struct variant *v, char *err, size_t errlen)
{
    MQTTClient_init_options io = MQTTClient_init_options_initializer;
    __typeof__(MQTTClient_global_init) *global_init;
    struct em_paho *a = &v->api;
    const char *const sonames[] = {v->soname, NULL};
#define PAHO(fn) {"MQTTClient_" #fn, &a->fn}
    const struct em_dl_sym syms[] = {
        PAHO(create),        PAHO(connect),     PAHO(isConnected),
        PAHO(publishMessage), PAHO(receive),    PAHO(getPendingDeliveryTokens),
        PAHO(subscribeMany), PAHO(disconnect),  PAHO(destroy),
        PAHO(strerror),      PAHO(freeMessage), PAHO(free),
        {"MQTTClient_global_init", &global_init},
    };
#undef PAHO

    if (!em_dl_load("MQTT library", sonames, syms, sizeof syms / sizeof syms[0], err, errlen))
        return -1;
    /*
     * Left to itself, paho initialises all of OpenSSL (every cipher, digest
     * and error string) when the first client is created. OpenSSL >= 1.1
     * initialises itself on first use, so leave it to OpenSSL: only a TLS
     * handshake pays for it.
     */
    io.do_openssl_init = 0;
    global_init(&io);
    v->loaded = 1;
    return 0;
}

const struct em_paho *em_paho_get(int tls, char *err, size_t errlen)
{
    struct variant *v = tls || tls_variant.loaded ? &tls_variant : &plain;

    if (v->loaded || load(v, err, errlen) == 0)
        return &v->api;
#ifndef EM_MQTT_NO_TLS
    /* Only the TLS library installed: it speaks plain TCP too. */
    if (v == &plain) {
        char ignored[256];

        if (load(&tls_variant, ignored, sizeof ignored) == 0)
            return &tls_variant.api;
    }
#endif
    return NULL;
}
