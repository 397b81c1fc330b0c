/* mqtt.c - the MQTT publisher: paho MQTTAsync with a window of QoS 0/1/2 messages in flight.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Threading. Paho runs its own send and receive threads and calls every
 * callback below (mqtt_connected, mqtt_lost, mqtt_sent, ...) on them, with
 * paho's global mutex held. The core thread calls create/submit/service/up/
 * inflight/destroy. The two sides share only what sits under `lock`: the link
 * state, the message slots and the verdict ring. Never call paho while holding
 * `lock`: a paho callback holds paho's mutex and waits for `lock`, so the
 * opposite order would deadlock.
 *
 * Message slots. Each accepted message owns one slot until paho has finished
 * with it; the slot's address is the context of the paho send, so a slot is
 * reused only after paho called onSuccess/onFailure for its previous message.
 * A callback can therefore never be taken for another message's confirmation,
 * even though paho restarts its message ids (= tokens) on every clean session.
 * When the link drops, paho fails the messages waiting for an ack (onFailure)
 * before it calls connectionLost; messages still queued inside paho would be
 * sent after the reconnect. Both get EM_PUB_RETRY at once; the queued ones keep
 * their slot as an orphan until paho reports on them, and whatever paho then
 * says is ignored. There are twice as many slots as the window, so orphans do
 * not shrink the window.
 *
 * Verdicts travel from paho's threads to the core thread through a fixed ring
 * (no allocation per message) and are handed to done() in service(). The
 * window counts messages accepted and not yet reported through done(), so the
 * ring can never hold more than `window` verdicts.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mqtt/mqtt.h"
#include "mqtt/mqtt_conf.h"
#include "mqtt/mqtt_sub.h"
#include "mqtt/paho.h"
#include "publisher.h"

#define MQTT_DEFAULT_TOPIC      "monitoring/{dataset}/{id}"
#define MQTT_DEFAULT_WINDOW     64
#define MQTT_MAX_WINDOW         32768 /* half of MQTT's 16-bit packet id space */
#define MQTT_DEFAULT_TIMEOUT_MS 5000
/* A dead link is noticed within 1.5 keepalives when nothing is in flight. */
#define MQTT_KEEPALIVE_S        30
/*
 * Reconnect backoff, ours rather than paho's (whose steps are whole seconds,
 * doubling to its maximum): 100 ms doubling to 0.5 s, less up to a quarter of
 * jitter, reset once the broker accepts. paho itself notices a refused connect
 * only on its receive thread's select tick (up to 1 s), so a 1 s cap put the
 * first message 1.7-1.9 s after a broker's return; 0.5 s gives 1.1-1.2 s. A
 * refused attempt costs one SYN and its RST, two a second during an outage.
 */
#define MQTT_RETRY_MIN_MS       100
#define MQTT_RETRY_MAX_MS       500
/*
 * QoS 2 in flight. Mosquitto 2.0.11 (max_inflight_messages, default 20) counts
 * incoming QoS 2 messages until their PUBREL and silently discards a PUBLISH
 * beyond that limit from an MQTT 3.1.1 client, yet still answers PUBREC and
 * PUBCOMP (measured: 300 sent with 64 in flight, all PUBCOMPed, 183 delivered).
 * MQTT 3.1.1 cannot tell us the broker's limit, so stay within the default.
 */
#define MQTT_QOS2_INFLIGHT      20
#define MQTT_DISCONNECT_MS      1000 /* destroy(): wait for the "offline" PUBACK */

enum slot_state {
    SLOT_FREE,
    SLOT_SENDING,  /* submit() is inside MQTTAsync_sendMessage for it */
    SLOT_INFLIGHT, /* paho has it; the core waits for its verdict */
    SLOT_ORPHAN,   /* verdict already given (RETRY); waiting for paho to let go */
};

#define VERDICT_NONE (-1)

struct mqtt_ctx;

struct mqtt_slot {
    struct mqtt_ctx *ctx;
    uint64_t token;
    unsigned epoch; /* link generation when the send started */
    int state;      /* enum slot_state */
    int early;      /* verdict that arrived while SENDING, or VERDICT_NONE */
};

struct mqtt_verdict {
    uint64_t token;
    enum em_pub_result r;
};

struct mqtt_ctx {
    const struct em_paho *paho; /* the loaded library; lives as long as the process */
    MQTTAsync client;
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

    MQTTAsync_connectOptions copts;
    MQTTAsync_willOptions will;
    MQTTAsync_SSLOptions ssl;

    /* Core thread only. */
    unsigned inflight;              /* accepted, not yet reported through done() */
    int started;                    /* a connect in progress, or connected */
    struct timespec next_connect;   /* when the next connect may start */
    int retry_ms;                   /* the next backoff step */
    uint32_t rng;                   /* jitter */

    /* Shared with paho's threads: under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int lock_ready;
    int connected;
    int need_online;   /* publish the retained "online" from the core thread */
    int need_connect;  /* the link was lost or a connect failed: connect again */
    int offline_done;  /* destroy(): the broker answered the "offline" status */
    unsigned epoch;    /* bumped on every connection loss */
    struct mqtt_slot *slots;
    unsigned nslots;
    unsigned *free_slots; /* stack of free slot indexes */
    unsigned nfree;
    struct mqtt_verdict *ring;
    unsigned ring_cap, ring_head, ring_len;

    /* Feature flags: set by listen() before the first connect, then read by
     * paho's thread too (it has its own lock). NULL without. */
    struct em_mqtt_inbox *inbox;
};

static void mqtt_destroy(void *ctx);

static struct timespec mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

static int time_reached(struct timespec t)
{
    struct timespec now = mono_now();

    return now.tv_sec > t.tv_sec || (now.tv_sec == t.tv_sec && now.tv_nsec >= t.tv_nsec);
}

/* Called with lock held. Cannot overflow: see the window rule at the top. */
static void ring_push(struct mqtt_ctx *c, uint64_t token, enum em_pub_result r)
{
    unsigned i = (c->ring_head + c->ring_len) % c->ring_cap;

    if (c->ring_len == c->ring_cap)
        abort(); /* a verdict would be lost: the window bookkeeping is broken */
    c->ring[i].token = token;
    c->ring[i].r = r;
    c->ring_len++;
}

/* Called with lock held. */
static void slot_release(struct mqtt_ctx *c, struct mqtt_slot *s)
{
    s->state = SLOT_FREE;
    c->free_slots[c->nfree++] = (unsigned)(s - c->slots);
}

/* A paho verdict for the message in slot `s` (paho thread). */
static void settle(struct mqtt_slot *s, enum em_pub_result r)
{
    struct mqtt_ctx *c = s->ctx;

    pthread_mutex_lock(&c->lock);
    switch (s->state) {
    case SLOT_SENDING:
        /* submit() has not seen the send return yet; it reports this. */
        if (s->early == VERDICT_NONE)
            s->early = (int)r;
        break;
    case SLOT_INFLIGHT:
        ring_push(c, s->token, r);
        slot_release(c, s);
        break;
    case SLOT_ORPHAN:
        slot_release(c, s);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&c->lock);
}

/* onSuccess of a send: PUBACK (QoS 1), PUBCOMP (QoS 2), written (QoS 0). */
static void mqtt_sent(void *context, MQTTAsync_successData *response)
{
    (void)response;
    settle(context, EM_PUB_OK);
}

/* onFailure of a send: the link failed under it, or paho gave up on it. */
static void mqtt_failed(void *context, MQTTAsync_failureData *response)
{
    (void)response;
    settle(context, EM_PUB_RETRY);
}

/* First connect and every automatic reconnect (paho thread). */
static void mqtt_connected(void *context, char *cause)
{
    struct mqtt_ctx *c = context;

    (void)cause;
    pthread_mutex_lock(&c->lock);
    c->connected = 1;
    c->need_online = 1;
    pthread_mutex_unlock(&c->lock);
    if (c->inbox)
        em_mqtt_inbox_connected(c->inbox);
}

/* connect onFailure: the core thread tries again after the backoff. */
static void mqtt_connect_failed(void *context, MQTTAsync_failureData *response)
{
    struct mqtt_ctx *c = context;

    (void)response;
    pthread_mutex_lock(&c->lock);
    c->need_connect = 1;
    pthread_mutex_unlock(&c->lock);
}

static void mqtt_lost(void *context, char *cause)
{
    struct mqtt_ctx *c = context;

    (void)cause; /* always NULL in paho 1.3 */
    pthread_mutex_lock(&c->lock);
    c->connected = 0;
    c->need_connect = 1;
    c->epoch++;
    for (unsigned i = 0; i < c->nslots; i++) {
        struct mqtt_slot *s = &c->slots[i];

        if (s->state == SLOT_INFLIGHT) {
            ring_push(c, s->token, EM_PUB_RETRY);
            s->state = SLOT_ORPHAN;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* Only the feature flag topics are subscribed (listen). */
static int mqtt_arrived(void *context, char *topic, int topiclen, MQTTAsync_message *msg)
{
    struct mqtt_ctx *c = context;

    (void)topiclen;
    if (c->inbox && msg->payloadlen >= 0)
        em_mqtt_inbox_put(c->inbox, topic, msg->payload, (size_t)msg->payloadlen);
    c->paho->freeMessage(&msg);
    c->paho->free(topic);
    return 1;
}

static void offline_done(struct mqtt_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    c->offline_done = 1;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void mqtt_offline_sent(void *context, MQTTAsync_successData *response)
{
    (void)response;
    offline_done(context);
}

static void mqtt_offline_failed(void *context, MQTTAsync_failureData *response)
{
    (void)response;
    offline_done(context);
}

/*
 * Publish the retained status. "online" is fire and forget (a lost one is
 * redone on the next connect); destroy() waits for the "offline" PUBACK.
 */
static int publish_status(struct mqtt_ctx *c, const char *state, int wait)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

    msg.payload = (void *)state;
    msg.payloadlen = (int)strlen(state);
    msg.qos = 1;
    msg.retained = 1;
    if (wait) {
        ro.onSuccess = mqtt_offline_sent;
        ro.onFailure = mqtt_offline_failed;
        ro.context = c;
    }
    return c->paho->sendMessage(c->client, c->status_topic, &msg, &ro);
}

/* The next connect after one backoff step, which then doubles (core thread). */
static void schedule_connect(struct mqtt_ctx *c)
{
    int ms;

    c->rng = c->rng * 1103515245u + 12345u;
    ms = c->retry_ms - (int)((c->rng >> 8) % (uint32_t)(c->retry_ms / 4 + 1));
    c->next_connect = mono_now();
    c->next_connect.tv_nsec += (long)ms * 1000000L;
    c->next_connect.tv_sec += c->next_connect.tv_nsec / 1000000000L;
    c->next_connect.tv_nsec %= 1000000000L;
    c->retry_ms = c->retry_ms * 2 > MQTT_RETRY_MAX_MS ? MQTT_RETRY_MAX_MS : c->retry_ms * 2;
}

/* The lazy first connect, and every reconnect after a loss or failure (core thread). */
static void start_connect(struct mqtt_ctx *c)
{
    int again, connected;

    pthread_mutex_lock(&c->lock);
    again = c->need_connect;
    c->need_connect = 0;
    connected = c->connected;
    pthread_mutex_unlock(&c->lock);
    if (connected)
        c->retry_ms = MQTT_RETRY_MIN_MS; /* the broker answered: start over */
    if (again && c->started) {
        c->started = 0;
        schedule_connect(c);
    }
    if (c->started || !time_reached(c->next_connect))
        return;
    if (c->paho->connect(c->client, &c->copts) == MQTTASYNC_SUCCESS)
        c->started = 1;
    else
        schedule_connect(c);
}

/* The retained "online" after each (re)connect, sent from the core thread. */
static void send_online(struct mqtt_ctx *c)
{
    if (publish_status(c, "online", 0) != MQTTASYNC_SUCCESS) {
        pthread_mutex_lock(&c->lock);
        c->need_online = c->connected;
        pthread_mutex_unlock(&c->lock);
    }
}

/* Core-thread housekeeping for service(): lazy connect, the "online" status. */
static void pump(struct mqtt_ctx *c)
{
    int online;

    start_connect(c);
    pthread_mutex_lock(&c->lock);
    online = c->connected && c->need_online;
    c->need_online = 0;
    pthread_mutex_unlock(&c->lock);
    if (online)
        send_online(c);
}

static enum em_pub_result mqtt_submit(void *ctx, const struct em_pub_msg *m)
{
    struct mqtt_ctx *c = ctx;
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    char topic[MQTT_TOPIC_MAX];
    struct mqtt_slot *s;
    int online, rc;

    start_connect(c);
    if (c->inflight >= c->window)
        return EM_PUB_RETRY;
    if (m->len > INT_MAX ||
        em_topic_render(c->topic, m->dataset, m->device, c->agent, c->site, topic,
                        sizeof topic) < 0 ||
        !em_mqtt_topic_ok(topic)) {
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }

    /* One critical section per direction and message: paho's threads want this lock too. */
    pthread_mutex_lock(&c->lock);
    if (!c->connected || c->nfree == 0) { /* nfree: only when orphans fill the spare half */
        pthread_mutex_unlock(&c->lock);
        return EM_PUB_RETRY;
    }
    online = c->need_online;
    c->need_online = 0;
    s = &c->slots[c->free_slots[--c->nfree]];
    s->state = SLOT_SENDING;
    s->token = m->token;
    s->epoch = c->epoch;
    s->early = VERDICT_NONE;
    pthread_mutex_unlock(&c->lock);
    if (online)
        send_online(c); /* before the data, so consumers see the gateway come back first */

    /* Paho copies topic and payload before returning. */
    msg.payload = (void *)m->payload;
    msg.payloadlen = (int)m->len;
    msg.qos = c->qos;
    msg.retained = 0;
    ro.onSuccess = mqtt_sent;
    ro.onFailure = mqtt_failed;
    ro.context = s;
    rc = c->paho->sendMessage(c->client, topic, &msg, &ro);

    pthread_mutex_lock(&c->lock);
    if (rc != MQTTASYNC_SUCCESS) {
        /* Paho did not take it, so no callback will come for this slot. */
        slot_release(c, s);
        pthread_mutex_unlock(&c->lock);
        if (rc == MQTTASYNC_BAD_UTF8_STRING) {
            c->done(c->core, m->token, EM_PUB_DROP);
            return EM_PUB_OK;
        }
        /* DISCONNECTED, MAX_BUFFERED_MESSAGES, NO_MORE_MSGIDS, ...: later. */
        return EM_PUB_RETRY;
    }
    c->inflight++;
    if (s->early != VERDICT_NONE) {
        ring_push(c, s->token, (enum em_pub_result)s->early);
        slot_release(c, s);
    } else if (s->epoch != c->epoch) {
        /* The link dropped while paho queued it: the core sends it again. */
        ring_push(c, s->token, EM_PUB_RETRY);
        s->state = SLOT_ORPHAN;
    } else {
        s->state = SLOT_INFLIGHT;
    }
    pthread_mutex_unlock(&c->lock);
    return EM_PUB_OK;
}

static void mqtt_service(void *ctx)
{
    struct mqtt_ctx *c = ctx;

    pump(c);
    if (c->inbox) {
        int connected;
        pthread_mutex_lock(&c->lock);
        connected = c->connected;
        pthread_mutex_unlock(&c->lock);
        em_mqtt_inbox_service(c->inbox, c->paho, c->client, connected);
    }
    /*
     * Take verdicts in batches under one lock, and call done() without it:
     * done() may call submit(), which takes the lock.
     */
    for (;;) {
        struct mqtt_verdict v[64];
        unsigned n = 0;

        pthread_mutex_lock(&c->lock);
        while (n < sizeof v / sizeof v[0] && c->ring_len > 0) {
            v[n++] = c->ring[c->ring_head];
            c->ring_head = (c->ring_head + 1) % c->ring_cap;
            c->ring_len--;
        }
        pthread_mutex_unlock(&c->lock);
        if (n == 0)
            break;
        for (unsigned i = 0; i < n; i++) {
            c->inflight--;
            c->done(c->core, v[i].token, v[i].r);
        }
    }
}

static int mqtt_up(void *ctx)
{
    struct mqtt_ctx *c = ctx;
    int up;

    pthread_mutex_lock(&c->lock);
    up = c->connected;
    pthread_mutex_unlock(&c->lock);
    return up;
}

static unsigned mqtt_inflight(void *ctx)
{
    return ((struct mqtt_ctx *)ctx)->inflight;
}

/*
 * mqtt://HOST[:PORT] -> tcp://HOST:PORT, mqtts://... -> ssl://HOST:PORT.
 * Returns 0, or -1 with a message in err.
 */
static void *mqtt_create(const struct em_pub_conf *conf, em_pub_done_fn done, void *core,
                         char *err, size_t errlen)
{
    struct mqtt_ctx *c = NULL;
    MQTTAsync_createOptions cropts = MQTTAsync_createOptions_initializer;
    pthread_condattr_t cattr;
    char probe[MQTT_TOPIC_MAX];
    struct em_mqtt_names names;
    int tls = 0, rc;

    if (err && errlen)
        err[0] = '\0';
    if (!conf || !done) {
        em_pub_err(err, errlen, "no configuration or done callback");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    if (pthread_condattr_init(&cattr) != 0)
        goto oom;
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        pthread_condattr_destroy(&cattr);
        goto oom;
    }
    if (pthread_cond_init(&c->cond, &cattr) != 0) {
        pthread_mutex_destroy(&c->lock);
        pthread_condattr_destroy(&cattr);
        goto oom;
    }
    pthread_condattr_destroy(&cattr);
    c->lock_ready = 1;
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
    tls = names.tls;
    memcpy(c->uri, names.uri, sizeof c->uri);
    memcpy(c->client_id, names.client_id, sizeof c->client_id);
    memcpy(c->status_topic, names.status_topic, sizeof c->status_topic);
    if (conf->password_file) {
        c->password = em_pub_read_secret("password_file", conf->password_file, err, errlen);
        if (!c->password)
            goto fail;
    }

    c->nslots = 2 * c->window;
    c->ring_cap = c->nslots;
    c->slots = calloc(c->nslots, sizeof *c->slots);
    c->free_slots = calloc(c->nslots, sizeof *c->free_slots);
    c->ring = calloc(c->ring_cap, sizeof *c->ring);
    if (!c->slots || !c->free_slots || !c->ring)
        goto oom;
    for (unsigned i = 0; i < c->nslots; i++) {
        c->slots[i].ctx = c;
        c->free_slots[c->nfree++] = c->nslots - 1 - i;
    }

    /*
     * No file persistence (our queue is the durable store, and paho's files are
     * not crash-safe, protocols.md 2.2) and no offline buffering: a send while
     * disconnected fails with MQTTASYNC_DISCONNECTED and the core keeps the
     * message. maxBufferedMessages also caps the commands queued while
     * connected, so it must cover every slot plus the status messages.
     */
    cropts.sendWhileDisconnected = 0;
    cropts.allowDisconnectedSendAtAnyTime = 0;
    cropts.maxBufferedMessages = (int)c->nslots + 8;
    cropts.deleteOldestMessages = 0;
    cropts.restoreMessages = 0;
    c->paho = em_paho_get(tls, err, errlen);
    if (!c->paho)
        goto fail;
    rc = c->paho->createWithOptions(&c->client, c->uri, c->client_id,
                                    MQTTCLIENT_PERSISTENCE_NONE, NULL, &cropts);
    if (rc != MQTTASYNC_SUCCESS) {
        c->client = NULL;
        em_pub_err(err, errlen, "cannot create MQTT client for '%s': %s", c->uri,
                 c->paho->strerror(rc));
        goto fail;
    }
    if (c->paho->setCallbacks(c->client, c, mqtt_lost, mqtt_arrived, NULL) !=
            MQTTASYNC_SUCCESS ||
        c->paho->setConnected(c->client, c, mqtt_connected) != MQTTASYNC_SUCCESS) {
        em_pub_err(err, errlen, "cannot set MQTT callbacks");
        goto fail;
    }

    c->will = (MQTTAsync_willOptions)MQTTAsync_willOptions_initializer;
    c->will.topicName = c->status_topic;
    c->will.message = "offline";
    c->will.retained = 1;
    c->will.qos = 1;

    c->copts = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer;
    c->copts.keepAliveInterval = MQTT_KEEPALIVE_S;
    /*
     * Clean session: after a reconnect the core re-sends what was unconfirmed,
     * so a broker-side session would only add duplicates (protocols.md 2.6).
     */
    c->copts.cleansession = 1;
    c->copts.will = &c->will;
    c->copts.username = conf->username;
    c->copts.password = c->password ? c->password : conf->password;
    c->copts.connectTimeout =
        ((conf->timeout_ms > 0 ? conf->timeout_ms : MQTT_DEFAULT_TIMEOUT_MS) + 999) / 1000;
    c->copts.retryInterval = 0;
    if (c->qos == 2) /* also covers orphans paho still sends after a reconnect */
        c->copts.maxInflight = MQTT_QOS2_INFLIGHT;
    /* 3.1.1 only: paho's fallback to 3.1 would also skip the session clean-up on loss. */
    c->copts.MQTTVersion = MQTTVERSION_3_1_1;
    c->copts.automaticReconnect = 0; /* start_connect() does it, sooner */
    c->copts.onFailure = mqtt_connect_failed;
    c->copts.context = c;
    c->retry_ms = MQTT_RETRY_MIN_MS;
    c->rng = (uint32_t)(uintptr_t)c ^ (uint32_t)time(NULL);
    if (tls) {
        c->ssl = (MQTTAsync_SSLOptions)MQTTAsync_SSLOptions_initializer;
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

static void mqtt_destroy(void *ctx)
{
    struct mqtt_ctx *c = ctx;

    if (!c)
        return;
    if (c->client) {
        /*
         * MQTTAsync_destroy sends DISCONNECT, and the broker then discards the
         * will: say "offline" ourselves first. Waiting for its PUBACK here is
         * quicker than MQTTAsync_disconnect's drain, which paho checks only
         * every few seconds. Unconfirmed messages are forgotten (publisher.h).
         */
        if (c->started && mqtt_up(c) && publish_status(c, "offline", 1) == MQTTASYNC_SUCCESS) {
            struct timespec until = mono_now();

            until.tv_sec += MQTT_DISCONNECT_MS / 1000;
            until.tv_nsec += (MQTT_DISCONNECT_MS % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_mutex_lock(&c->lock);
            while (!c->offline_done &&
                   pthread_cond_timedwait(&c->cond, &c->lock, &until) != ETIMEDOUT)
                ;
            pthread_mutex_unlock(&c->lock);
        }
        /* May call mqtt_failed for what is still in flight: lock must be free. */
        c->paho->destroy(&c->client);
    }
    em_mqtt_inbox_free(c->inbox); /* paho and its threads are gone */
    em_pub_free_secret(c->password);
    free(c->slots);
    free(c->free_slots);
    free(c->ring);
    if (c->lock_ready) {
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
    }
    free(c);
}

static int mqtt_listen(void *ctx, const char *const *topics, size_t n, em_pub_inbox_fn fn,
                       void *arg)
{
    struct mqtt_ctx *c = ctx;

    if (c->inbox || c->started) {
        errno = EALREADY; /* once, before the first connect (paho reads c->inbox) */
        return -1;
    }
    c->inbox = em_mqtt_inbox_new(topics, n, 1, fn, arg);
    return c->inbox ? 0 : -1;
}

/* Fire and forget at QoS 1, like the "online" status. */
static int mqtt_notify(void *ctx, const char *topic, const char *payload, size_t len)
{
    struct mqtt_ctx *c = ctx;
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    int connected;

    pthread_mutex_lock(&c->lock);
    connected = c->connected;
    pthread_mutex_unlock(&c->lock);
    if (!connected) {
        errno = ENOTCONN;
        return -1;
    }
    msg.payload = (void *)payload;
    msg.payloadlen = (int)len;
    msg.qos = 1;
    if (c->paho->sendMessage(c->client, topic, &msg, &ro) != MQTTASYNC_SUCCESS) {
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
