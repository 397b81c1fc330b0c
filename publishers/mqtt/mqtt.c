/* mqtt.c - the MQTT publisher: paho's MQTTClient driven from the core loop, a window of
 * QoS 0/1/2 messages in flight.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Threading. paho's synchronous client in single-thread mode: no callback is
 * ever set, so paho runs no thread and reads the socket only inside
 * MQTTClient_receive, which service() calls with a zero timeout. Everything
 * here runs on the core thread, and nothing is shared with another thread but
 * the connect probe (reach.h), which touches no paho state. paho's blocking
 * calls are bounded: a publish never waits for room (the window stays under
 * paho's in-flight limit), a connect starts only once the probe found the
 * broker's port open (then about one round trip for the CONNACK and, with
 * flags, one for the SUBACK), and destroy() waits at most MQTT_DISCONNECT_MS.
 *
 * Confirmations. Each accepted QoS 1/2 message keeps a slot with its token
 * (paho's packet id) in submit order. paho drops a message from its outbound
 * list on its PUBACK (QoS 1) or PUBCOMP (QoS 2); after reading what arrived,
 * service() asks for that list once and confirms every slot whose id is gone.
 * An id cannot come back before its slot was settled: paho hands ids out in
 * rising order over 65535 values and at most `window` are taken between two
 * services. When the link drops, every slot gets EM_PUB_RETRY and the clean
 * session makes paho forget them too.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "mqtt/mqtt.h"
#include "mqtt/mqtt_conf.h"
#include "mqtt/mqtt_sub.h"
#include "mqtt/paho.h"
#include "mqtt/reach.h"
#include "publisher.h"

#define MQTT_DEFAULT_TOPIC      "monitoring/{dataset}/{id}"
#define MQTT_DEFAULT_WINDOW     64
#define MQTT_MAX_WINDOW         32768 /* half of MQTT's 16-bit packet id space */
#define MQTT_DEFAULT_TIMEOUT_MS 5000
/* A dead link is noticed within 1.5 keepalives when nothing is in flight. */
#define MQTT_KEEPALIVE_S        30
/*
 * Reconnect backoff: 100 ms doubling to 0.5 s, less up to a quarter of jitter,
 * reset once the broker accepts. A refused probe costs one SYN and its RST. A
 * broker that took the TCP connection but did not answer the CONNACK within a
 * second held the core thread that long: wait MQTT_SLOW_RETRY_MS before the
 * next try so a half-dead broker cannot stall the core more than a tenth of
 * the time.
 */
#define MQTT_RETRY_MIN_MS       100
#define MQTT_RETRY_MAX_MS       500
#define MQTT_SLOW_CONNECT_MS    1000
#define MQTT_SLOW_RETRY_MS      10000
/* How long service() waits for a probe's answer before looking again on its next
 * call (the core loop may then sleep 100 ms): a near broker answers well within. */
#define MQTT_PROBE_WAIT_MS      20
/*
 * QoS 2 in flight. Mosquitto 2.0.11 (max_inflight_messages, default 20) counts
 * incoming QoS 2 messages until their PUBREL and silently discards a PUBLISH
 * beyond that limit from an MQTT 3.1.1 client, yet still answers PUBREC and
 * PUBCOMP (measured: 300 sent with 64 in flight, all PUBCOMPed, 183 delivered).
 * MQTT 3.1.1 cannot tell us the broker's limit, so stay within the default.
 */
#define MQTT_QOS2_INFLIGHT      20
/* paho's own limit: the window plus the status and flag acks sent beside it. */
#define MQTT_EXTRA_INFLIGHT     16
#define MQTT_DISCONNECT_MS      1000 /* destroy(): wait for the "offline" PUBACK */
#define MQTT_RECEIVES_MAX       64   /* packets read per service() */
#define MQTT_IDS                65536

enum link_state {
    LINK_DOWN,    /* waiting for next_connect_ms */
    LINK_PROBING, /* the probe thread is trying the port */
    LINK_UP,
};

struct mqtt_slot {
    uint64_t token;
    int id; /* paho's delivery token = the packet id */
};

struct mqtt_ctx {
    const struct em_paho *paho; /* the loaded library; lives as long as the process */
    MQTTClient client;
    struct em_reach *reach;
    em_pub_done_fn done;
    void *core;

    const char *topic; /* template, borrowed from the config */
    const char *agent, *site;
    int qos;
    unsigned window;
    char uri[MQTT_URI_MAX];
    char client_id[MQTT_ID_MAX];
    char status_topic[MQTT_TOPIC_MAX];
    char *password; /* owned copy when read from password_file */

    MQTTClient_connectOptions copts;
    MQTTClient_willOptions will;
    MQTTClient_SSLOptions ssl;

    enum link_state link;
    int need_online;         /* publish the retained "online" before the next data */
    int64_t next_connect_ms; /* when the next probe may start */
    int retry_ms;            /* the next backoff step */
    uint32_t rng;            /* jitter */

    struct mqtt_slot *slots; /* `nslots` in flight, oldest first; window entries */
    unsigned nslots;
    uint64_t *settled;       /* window entries: tokens confirmed in one service */
    uint8_t *pending;        /* MQTT_IDS bits: ids paho still waits on */

    struct em_mqtt_inbox *inbox; /* feature flags; NULL without */
};

static void mqtt_destroy(void *ctx);

/* The next connect after one backoff step, which then doubles. */
static void schedule_connect(struct mqtt_ctx *c, int slow)
{
    int ms = c->retry_ms;

    c->rng = c->rng * 1103515245u + 12345u;
    ms -= (int)((c->rng >> 8) % (uint32_t)(ms / 4 + 1));
    c->next_connect_ms = em_mono_ms() + (slow ? MQTT_SLOW_RETRY_MS : ms);
    c->retry_ms = c->retry_ms * 2 > MQTT_RETRY_MAX_MS ? MQTT_RETRY_MAX_MS : c->retry_ms * 2;
    c->link = LINK_DOWN;
}

/* The retained status at QoS 1. Returns paho's code; *id gets its packet id. */
static int publish_status(struct mqtt_ctx *c, const char *state, int *id)
{
    MQTTClient_message msg = MQTTClient_message_initializer;
    MQTTClient_deliveryToken tok = 0;
    int rc;

    msg.payload = (void *)state;
    msg.payloadlen = (int)strlen(state);
    msg.qos = 1;
    msg.retained = 1;
    rc = c->paho->publishMessage(c->client, c->status_topic, &msg, &tok);
    if (id)
        *id = tok;
    return rc;
}

/* The link is gone: whatever was in flight is sent again by the core. */
static void link_lost(struct mqtt_ctx *c)
{
    unsigned n = c->nslots;

    for (unsigned i = 0; i < n; i++)
        c->settled[i] = c->slots[i].token;
    c->nslots = 0;
    schedule_connect(c, 0);
    for (unsigned i = 0; i < n; i++)
        c->done(c->core, c->settled[i], EM_PUB_RETRY);
}

/* Lazy first connect and every reconnect: probe, then paho's connect. */
static void connect_step(struct mqtt_ctx *c)
{
    int64_t t0;
    int rc;

    if (c->link == LINK_DOWN) {
        if (em_mono_ms() < c->next_connect_ms)
            return;
        em_reach_start(c->reach);
        c->link = LINK_PROBING;
    }
    switch (em_reach_take(c->reach, MQTT_PROBE_WAIT_MS)) {
    case EM_REACH_OPEN:
        break;
    case EM_REACH_CLOSED:
        schedule_connect(c, 0);
        return;
    default:
        return; /* still probing */
    }
    t0 = em_mono_ms();
    rc = c->paho->connect(c->client, &c->copts);
    if (rc != MQTTCLIENT_SUCCESS) {
        schedule_connect(c, em_mono_ms() - t0 >= MQTT_SLOW_CONNECT_MS);
        return;
    }
    c->link = LINK_UP;
    c->retry_ms = MQTT_RETRY_MIN_MS; /* the broker answered: start over */
    c->need_online = 1;
    if (c->inbox)
        em_mqtt_inbox_connected(c->inbox);
}

/* The retained "online" after each (re)connect; a failed one is tried again. */
static void send_online(struct mqtt_ctx *c)
{
    c->need_online = publish_status(c, "online", NULL) != MQTTCLIENT_SUCCESS;
}

/*
 * Read what arrived (acks, keepalive answers, flag messages): one packet per
 * receive, about a quarter of the window per call, as paho's own fastest loop
 * does. Returns 0, or -1 when the link dropped.
 */
static int read_arrivals(struct mqtt_ctx *c)
{
    unsigned n = c->nslots / 4 + 1;

    if (n > MQTT_RECEIVES_MAX)
        n = MQTT_RECEIVES_MAX;
    for (unsigned i = 0; i < n; i++) {
        MQTTClient_message *msg = NULL;
        char *topic = NULL;
        int topiclen = 0;
        int rc = c->paho->receive(c->client, &topic, &topiclen, &msg, 0);

        if (msg) {
            if (c->inbox && topic && msg->payloadlen >= 0)
                em_mqtt_inbox_deliver(c->inbox, topic, msg->payload, (size_t)msg->payloadlen);
            c->paho->freeMessage(&msg);
        }
        if (topic)
            c->paho->free(topic);
        if (rc == MQTTCLIENT_DISCONNECTED || !c->paho->isConnected(c->client))
            return -1;
    }
    return 0;
}

/* Confirm every slot whose packet id paho no longer waits on. */
static void settle(struct mqtt_ctx *c)
{
    MQTTClient_deliveryToken *ids = NULL;
    unsigned kept = 0, nsettled = 0;

    if (c->nslots == 0 ||
        c->paho->getPendingDeliveryTokens(c->client, &ids) != MQTTCLIENT_SUCCESS)
        return;
    for (int i = 0; ids && ids[i] != -1; i++)
        if (ids[i] > 0 && ids[i] < MQTT_IDS)
            c->pending[ids[i] >> 3] |= (uint8_t)(1u << (ids[i] & 7));
    for (unsigned i = 0; i < c->nslots; i++) {
        int id = c->slots[i].id;

        if (c->pending[id >> 3] & (1u << (id & 7)))
            c->slots[kept++] = c->slots[i];
        else
            c->settled[nsettled++] = c->slots[i].token;
    }
    c->nslots = kept;
    for (int i = 0; ids && ids[i] != -1; i++)
        if (ids[i] > 0 && ids[i] < MQTT_IDS)
            c->pending[ids[i] >> 3] = 0;
    if (ids)
        c->paho->free(ids);
    /* done() may call submit(), which appends to slots: the list is settled first. */
    for (unsigned i = 0; i < nsettled; i++)
        c->done(c->core, c->settled[i], EM_PUB_OK);
}

static enum em_pub_result mqtt_submit(void *ctx, const struct em_pub_msg *m)
{
    struct mqtt_ctx *c = ctx;
    MQTTClient_message msg = MQTTClient_message_initializer;
    MQTTClient_deliveryToken tok = 0;
    char topic[MQTT_TOPIC_MAX];
    int rc;

    if (c->link != LINK_UP || c->nslots >= c->window)
        return EM_PUB_RETRY;
    if (m->len > INT_MAX ||
        em_topic_render(c->topic, m->dataset, m->device, c->agent, c->site, topic,
                        sizeof topic) < 0 ||
        !em_mqtt_topic_ok(topic)) {
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    if (c->need_online)
        send_online(c); /* before the data, so consumers see the gateway come back first */

    /* paho copies topic and payload before returning. */
    msg.payload = (void *)m->payload;
    msg.payloadlen = (int)m->len;
    msg.qos = c->qos;
    msg.retained = 0;
    rc = c->paho->publishMessage(c->client, topic, &msg, &tok);
    if (rc == MQTTCLIENT_BAD_UTF8_STRING) {
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    if (rc != MQTTCLIENT_SUCCESS) {
        /* DISCONNECTED, MAX_MESSAGES_INFLIGHT, FAILURE: later. */
        if (!c->paho->isConnected(c->client))
            link_lost(c);
        return EM_PUB_RETRY;
    }
    if (c->qos == 0 || tok <= 0 || tok >= MQTT_IDS) {
        c->done(c->core, m->token, EM_PUB_OK); /* QoS 0: written, nothing to wait for */
        return EM_PUB_OK;
    }
    c->slots[c->nslots].token = m->token;
    c->slots[c->nslots].id = tok;
    c->nslots++;
    return EM_PUB_OK;
}

static void mqtt_service(void *ctx)
{
    struct mqtt_ctx *c = ctx;

    if (c->link != LINK_UP) {
        connect_step(c);
        if (c->link != LINK_UP)
            return;
    }
    if (read_arrivals(c) < 0) {
        link_lost(c);
        return;
    }
    if (c->inbox)
        em_mqtt_inbox_service(c->inbox, c->paho, c->client);
    if (c->need_online)
        send_online(c);
    settle(c);
}

static int mqtt_up(void *ctx)
{
    return ((struct mqtt_ctx *)ctx)->link == LINK_UP;
}

static unsigned mqtt_inflight(void *ctx)
{
    return ((struct mqtt_ctx *)ctx)->nslots;
}

static void *mqtt_create(const struct em_pub_conf *conf, em_pub_done_fn done, void *core,
                         char *err, size_t errlen)
{
    struct mqtt_ctx *c = NULL;
    char probe[MQTT_TOPIC_MAX];
    struct em_mqtt_names names;
    int timeout_ms, rc;

    if (err && errlen)
        err[0] = '\0';
    if (!conf || !done) {
        em_pub_err(err, errlen, "no configuration or done callback");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->done = done;
    c->core = core;
    c->agent = conf->agent;
    c->site = conf->site;

    if (!conf->agent || !*conf->agent) {
        em_pub_err(err, errlen, "agent id is not set");
        goto fail;
    }
    if (conf->qos < 0 || conf->qos > 2) {
        em_pub_err(err, errlen, "qos %d is not 0, 1 or 2", conf->qos);
        goto fail;
    }
    c->qos = conf->qos;
    if (conf->window > MQTT_MAX_WINDOW) {
        em_pub_err(err, errlen, "window %d is larger than %d", conf->window, MQTT_MAX_WINDOW);
        goto fail;
    }
    c->window = conf->window > 0 ? (unsigned)conf->window : MQTT_DEFAULT_WINDOW;
    if (c->qos == 2 && c->window > MQTT_QOS2_INFLIGHT)
        c->window = MQTT_QOS2_INFLIGHT;

    c->topic = conf->topic ? conf->topic : MQTT_DEFAULT_TOPIC;
    if (em_topic_render(c->topic, "pms", "dev", c->agent, c->site, probe, sizeof probe) < 0 &&
        errno == EINVAL) {
        em_pub_err(err, errlen, "topic '%s' has an unknown {placeholder}", c->topic);
        goto fail;
    }

    if (em_mqtt_names(conf, &names, err, errlen) < 0)
        goto fail;
    memcpy(c->uri, names.uri, sizeof c->uri);
    memcpy(c->client_id, names.client_id, sizeof c->client_id);
    memcpy(c->status_topic, names.status_topic, sizeof c->status_topic);
    if (conf->password_file) {
        c->password = em_pub_read_secret("password_file", conf->password_file, err, errlen);
        if (!c->password)
            goto fail;
    }

    c->slots = calloc(c->window, sizeof *c->slots);
    c->settled = calloc(c->window, sizeof *c->settled);
    c->pending = calloc(MQTT_IDS / 8, 1);
    if (!c->slots || !c->settled || !c->pending)
        goto oom;

    timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : MQTT_DEFAULT_TIMEOUT_MS;
    c->reach = em_reach_new(names.host, names.port, timeout_ms);
    if (!c->reach) {
        em_pub_err(err, errlen, "cannot start the connect probe for '%s': %s", c->uri,
                   strerror(errno));
        goto fail;
    }
    c->paho = em_paho_get(names.tls, err, errlen);
    if (!c->paho)
        goto fail;
    /*
     * No file persistence: our queue is the durable store, and paho's files are
     * not crash-safe (protocols.md 2.2).
     */
    rc = c->paho->create(&c->client, c->uri, c->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTCLIENT_SUCCESS) {
        c->client = NULL;
        em_pub_err(err, errlen, "cannot create MQTT client for '%s': %s", c->uri,
                   c->paho->strerror(rc));
        goto fail;
    }

    c->will = (MQTTClient_willOptions)MQTTClient_willOptions_initializer;
    c->will.topicName = c->status_topic;
    c->will.message = "offline";
    c->will.retained = 1;
    c->will.qos = 1;

    c->copts = (MQTTClient_connectOptions)MQTTClient_connectOptions_initializer;
    c->copts.keepAliveInterval = MQTT_KEEPALIVE_S;
    /*
     * Clean session: after a reconnect the core re-sends what was unconfirmed,
     * so a broker-side session would only add duplicates (protocols.md 2.6).
     */
    c->copts.cleansession = 1;
    c->copts.reliable = 0; /* a window, not one message at a time */
    c->copts.maxInflightMessages = (int)c->window + MQTT_EXTRA_INFLIGHT;
    c->copts.will = &c->will;
    c->copts.username = conf->username;
    c->copts.password = c->password ? c->password : conf->password;
    c->copts.connectTimeout = (timeout_ms + 999) / 1000;
    c->copts.retryInterval = 0;
    /* 3.1.1 only: paho's fallback to 3.1 would also skip the session clean-up on loss. */
    c->copts.MQTTVersion = MQTTVERSION_3_1_1;
    c->retry_ms = MQTT_RETRY_MIN_MS;
    c->rng = (uint32_t)(uintptr_t)c ^ (uint32_t)time(NULL);
    if (names.tls) {
        c->ssl = (MQTTClient_SSLOptions)MQTTClient_SSLOptions_initializer;
        c->ssl.trustStore = conf->ca_file;
        c->ssl.keyStore = conf->cert_file;
        c->ssl.privateKey = conf->key_file;
        c->ssl.enableServerCertAuth = conf->tls_verify ? 1 : 0;
        c->ssl.verify = conf->tls_verify ? 1 : 0; /* host name against the certificate */
        c->copts.ssl = &c->ssl;
    }
    return c;

oom:
    em_pub_err(err, errlen, "out of memory");
fail:
    mqtt_destroy(c);
    return NULL;
}

/* destroy(): "offline" retained, and its PUBACK awaited for a moment. */
static void say_offline(struct mqtt_ctx *c)
{
    int64_t until = em_mono_ms() + MQTT_DISCONNECT_MS;
    int id = 0;

    if (publish_status(c, "offline", &id) != MQTTCLIENT_SUCCESS)
        return;
    while (em_mono_ms() < until && c->paho->isConnected(c->client)) {
        MQTTClient_deliveryToken *ids = NULL;
        MQTTClient_message *msg = NULL;
        char *topic = NULL;
        int len = 0, waiting = 0;

        c->paho->receive(c->client, &topic, &len, &msg, 20);
        if (msg)
            c->paho->freeMessage(&msg);
        if (topic)
            c->paho->free(topic);
        if (c->paho->getPendingDeliveryTokens(c->client, &ids) != MQTTCLIENT_SUCCESS)
            break;
        for (int i = 0; ids && ids[i] != -1; i++)
            waiting |= ids[i] == id;
        if (ids)
            c->paho->free(ids);
        if (!waiting)
            break;
    }
}

static void mqtt_destroy(void *ctx)
{
    struct mqtt_ctx *c = ctx;

    if (!c)
        return;
    if (c->client) {
        /*
         * A DISCONNECT makes the broker discard the will: say "offline"
         * ourselves first. Unconfirmed messages are forgotten (publisher.h).
         */
        if (c->link == LINK_UP && c->paho->isConnected(c->client)) {
            say_offline(c);
            c->paho->disconnect(c->client, 0);
        }
        c->paho->destroy(&c->client);
    }
    em_reach_free(c->reach);
    em_mqtt_inbox_free(c->inbox);
    em_pub_free_secret(c->password);
    free(c->slots);
    free(c->settled);
    free(c->pending);
    free(c);
}

static int mqtt_listen(void *ctx, const char *const *topics, size_t n, em_pub_inbox_fn fn,
                       void *arg)
{
    struct mqtt_ctx *c = ctx;

    if (c->inbox) {
        errno = EALREADY;
        return -1;
    }
    c->inbox = em_mqtt_inbox_new(topics, n, 1, fn, arg); /* subscribes at the next service */
    return c->inbox ? 0 : -1;
}

/* Fire and forget at QoS 1, like the "online" status. */
static int mqtt_notify(void *ctx, const char *topic, const char *payload, size_t len)
{
    struct mqtt_ctx *c = ctx;
    MQTTClient_message msg = MQTTClient_message_initializer;
    MQTTClient_deliveryToken tok;

    if (c->link != LINK_UP) {
        errno = ENOTCONN;
        return -1;
    }
    msg.payload = (void *)payload;
    msg.payloadlen = (int)len;
    msg.qos = 1;
    if (c->paho->publishMessage(c->client, topic, &msg, &tok) != MQTTCLIENT_SUCCESS) {
        errno = EAGAIN;
        return -1;
    }
    return 0;
}

const struct em_publisher mqtt_publisher = {
    .abi = EM_PUBLISHER_ABI,
    .name = "mqtt",
    .create = mqtt_create,
    .submit = mqtt_submit,
    .service = mqtt_service,
    .up = mqtt_up,
    .inflight = mqtt_inflight,
    .destroy = mqtt_destroy,
    .listen = mqtt_listen,
    .notify = mqtt_notify,
};
