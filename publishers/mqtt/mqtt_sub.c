/* mqtt_sub.c - (re)subscribing and handing arrivals to the receiver (see mqtt_sub.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "mqtt/mqtt_sub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define SUB_RETRY_MS 1000
#define SUBACK_FAILURE 0x80

struct em_mqtt_inbox {
    char **topics; /* owned */
    int *qos;      /* paho overwrites it with the granted QoS */
    size_t n;
    int want_qos;
    em_pub_inbox_fn fn;
    void *arg;
    int want_sub;
    int64_t next_sub_ms;
    char *out; /* the message being delivered, NUL-terminated */
};

struct em_mqtt_inbox *em_mqtt_inbox_new(const char *const *topics, size_t n, int qos,
                                        em_pub_inbox_fn fn, void *arg)
{
    struct em_mqtt_inbox *ib = calloc(1, sizeof *ib);
    if (!ib)
        goto oom;
    ib->fn = fn;
    ib->arg = arg;
    ib->want_sub = 1;
    ib->want_qos = qos;
    if (!(ib->topics = calloc(n ? n : 1, sizeof *ib->topics)) ||
        !(ib->qos = calloc(n ? n : 1, sizeof *ib->qos)) ||
        !(ib->out = malloc(EM_PUB_INBOX_MAX + 1)))
        goto oom;
    for (; ib->n < n; ib->n++)
        if (!(ib->topics[ib->n] = strdup(topics[ib->n])))
            goto oom;
    return ib;
oom:
    em_mqtt_inbox_free(ib);
    errno = ENOMEM;
    return NULL;
}

void em_mqtt_inbox_free(struct em_mqtt_inbox *ib)
{
    if (!ib)
        return;
    for (size_t i = 0; i < ib->n; i++)
        free(ib->topics[i]);
    free(ib->topics);
    free(ib->qos);
    free(ib->out);
    free(ib);
}

void em_mqtt_inbox_connected(struct em_mqtt_inbox *ib)
{
    ib->want_sub = 1;
    ib->next_sub_ms = 0;
}

void em_mqtt_inbox_service(struct em_mqtt_inbox *ib, const struct em_paho *paho,
                           MQTTClient client)
{
    int ok;

    if (!ib->want_sub || em_mono_ms() < ib->next_sub_ms)
        return;
    for (size_t i = 0; i < ib->n; i++)
        ib->qos[i] = ib->want_qos;
    ok = paho->subscribeMany(client, (int)ib->n, ib->topics, ib->qos) == MQTTCLIENT_SUCCESS;
    for (size_t i = 0; ok && i < ib->n; i++)
        ok = ib->qos[i] != SUBACK_FAILURE;
    ib->want_sub = !ok;
    ib->next_sub_ms = em_mono_ms() + SUB_RETRY_MS;
}

void em_mqtt_inbox_deliver(struct em_mqtt_inbox *ib, const char *topic, const void *payload,
                           size_t len)
{
    if (len > EM_PUB_INBOX_MAX) {
        ib->fn(ib->arg, topic, NULL, len);
        return;
    }
    memcpy(ib->out, payload, len);
    ib->out[len] = '\0';
    ib->fn(ib->arg, topic, ib->out, len);
}
