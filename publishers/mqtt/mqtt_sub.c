/* mqtt_sub.c - arrivals copied off paho's thread, (re)subscribing (see mqtt_sub.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "mqtt/mqtt_sub.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define TOPIC_MAX        512
#define SUB_RETRY_MS     1000

struct inbox_msg {
    char topic[TOPIC_MAX];
    size_t len;   /* the size as it arrived */
    int oversize; /* len > EM_PUB_INBOX_MAX: no payload kept */
    char *payload; /* EM_PUB_INBOX_MAX + 1 bytes, owned */
};

struct em_mqtt_inbox {
    char **topics; /* owned */
    int *qos;
    size_t n;
    em_pub_inbox_fn fn;
    void *arg;
    int64_t next_sub_ms; /* core thread */
    char *out;           /* core thread: the message being delivered */
    /* under lock, shared with paho's thread */
    pthread_mutex_t lock;
    int want_sub;
    struct inbox_msg ring[EM_MQTT_INBOX_SLOTS];
    unsigned head, count;
    unsigned long dropped;
};

struct em_mqtt_inbox *em_mqtt_inbox_new(const char *const *topics, size_t n, int qos,
                                        em_pub_inbox_fn fn, void *arg)
{
    struct em_mqtt_inbox *ib = calloc(1, sizeof *ib);
    if (!ib)
        goto oom;
    pthread_mutex_init(&ib->lock, NULL);
    ib->fn = fn;
    ib->arg = arg;
    ib->want_sub = 1;
    if (!(ib->topics = calloc(n ? n : 1, sizeof *ib->topics)) ||
        !(ib->qos = calloc(n ? n : 1, sizeof *ib->qos)) ||
        !(ib->out = malloc(EM_PUB_INBOX_MAX + 1)))
        goto oom;
    for (; ib->n < n; ib->n++) {
        if (!(ib->topics[ib->n] = strdup(topics[ib->n])))
            goto oom;
        ib->qos[ib->n] = qos;
    }
    for (unsigned i = 0; i < EM_MQTT_INBOX_SLOTS; i++)
        if (!(ib->ring[i].payload = malloc(EM_PUB_INBOX_MAX + 1)))
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
    for (unsigned i = 0; i < EM_MQTT_INBOX_SLOTS; i++)
        free(ib->ring[i].payload);
    free(ib->topics);
    free(ib->qos);
    free(ib->out);
    pthread_mutex_destroy(&ib->lock);
    free(ib);
}

void em_mqtt_inbox_connected(struct em_mqtt_inbox *ib)
{
    pthread_mutex_lock(&ib->lock);
    ib->want_sub = 1;
    pthread_mutex_unlock(&ib->lock);
}

void em_mqtt_inbox_put(struct em_mqtt_inbox *ib, const char *topic, const void *payload,
                       size_t len)
{
    pthread_mutex_lock(&ib->lock);
    if (ib->count == EM_MQTT_INBOX_SLOTS) {
        ib->dropped++;
    } else {
        struct inbox_msg *m = &ib->ring[(ib->head + ib->count++) % EM_MQTT_INBOX_SLOTS];
        snprintf(m->topic, sizeof m->topic, "%s", topic);
        m->len = len;
        m->oversize = len > EM_PUB_INBOX_MAX;
        if (!m->oversize) {
            memcpy(m->payload, payload, len);
            m->payload[len] = '\0';
        }
    }
    pthread_mutex_unlock(&ib->lock);
}

static void sub_failed(void *context, MQTTAsync_failureData *response)
{
    (void)response;
    em_mqtt_inbox_connected(context); /* refused (SUBACK 0x80) or lost: try again */
}

void em_mqtt_inbox_service(struct em_mqtt_inbox *ib, const struct em_paho *paho,
                           MQTTAsync client, int connected)
{
    char topic[TOPIC_MAX];
    int want;

    pthread_mutex_lock(&ib->lock);
    want = ib->want_sub;
    if (want && connected && em_mono_ms() >= ib->next_sub_ms)
        ib->want_sub = 0;
    else
        want = 0;
    pthread_mutex_unlock(&ib->lock);
    if (want) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.onFailure = sub_failed;
        ro.context = ib;
        ib->next_sub_ms = em_mono_ms() + SUB_RETRY_MS;
        if (paho->subscribeMany(client, (int)ib->n, ib->topics, ib->qos, &ro) !=
            MQTTASYNC_SUCCESS)
            em_mqtt_inbox_connected(ib);
    }
    /* One at a time, copied out, so fn runs without the lock. */
    for (;;) {
        size_t len;
        int oversize;
        pthread_mutex_lock(&ib->lock);
        if (ib->count == 0) {
            pthread_mutex_unlock(&ib->lock);
            return;
        }
        struct inbox_msg *m = &ib->ring[ib->head];
        memcpy(topic, m->topic, sizeof topic);
        len = m->len;
        oversize = m->oversize;
        if (!oversize)
            memcpy(ib->out, m->payload, len + 1);
        ib->head = (ib->head + 1) % EM_MQTT_INBOX_SLOTS;
        ib->count--;
        pthread_mutex_unlock(&ib->lock);
        ib->fn(ib->arg, topic, oversize ? NULL : ib->out, len);
    }
}
