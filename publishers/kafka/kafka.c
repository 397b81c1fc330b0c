/* kafka.c - the Kafka publisher: librdkafka's producer, verdicts from its delivery reports.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * librdkafka runs its own threads (one per broker plus a main one) and keeps its
 * own queue; it never blocks the caller of rd_kafka_produceva. Every callback set
 * here except the log one is served by rd_kafka_poll, which only service() calls,
 * on the core thread: so done() is only ever called from submit() or service(),
 * and the context needs no lock. The log callback runs on librdkafka's threads
 * and only reads constant fields.
 *
 * Tokens. The core's token is 64 bits, a pointer on a 32-bit router is not, so
 * each accepted message takes a slot (allocated at create, `window` of them)
 * that holds its token; the slot's address is the message's opaque, and the
 * delivery report gives it back. librdkafka reports every produced message
 * exactly once, so a slot is free again exactly when its verdict is given.
 *
 * Settings are librdkafka's CONFIGURATION.md names (v2.0.2).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "kafka/kafka.h"
#include "kafka/rdk.h"
#include "log.h"
#include "publisher.h"

#define KAFKA_DEFAULT_TOPIC      "monitoring.{dataset}"
#define KAFKA_DEFAULT_WINDOW     64
#define KAFKA_MAX_WINDOW         65535
#define KAFKA_DEFAULT_TIMEOUT_MS 5000
#define KAFKA_RETRIES            "8"
#define KAFKA_TIMEOUT_FACTOR     3    /* message.timeout.ms = 3 x timeout_ms */
#define KAFKA_STATS_MS           "1000"
#define KAFKA_BACKOFF_MAX_MS     "5000"
#define KAFKA_FLUSH_MS           500  /* destroy(): the most it waits for the brokers */
#define KAFKA_TOPIC_MAX          250  /* Kafka's limit is 249 characters */
#define KAFKA_LOG_EVERY_S        60
#define KAFKA_REBUILD_MS         5000 /* between attempts to recreate a failed producer */

struct slot {
    uint64_t token;
    struct slot *next_free;
    int busy;
};

struct kafka_ctx {
    em_pub_done_fn done;
    void *core;
    const struct em_rdk *rk_api;

    const char *name;
    const char *topic; /* template, borrowed from the config */
    const char *agent, *site;
    unsigned window;
    int timeout_ms;

    rd_kafka_t *rk;
    int up;
    int fatal;     /* librdkafka reported a fatal error: the handle must be rebuilt */
    int closing;   /* delivery reports are no longer verdicts (destroy, rebuild) */
    unsigned used; /* slots taken: inflight() */
    struct slot *slots, *free_list;
    char topic_buf[KAFKA_TOPIC_MAX + 1];

    /* For a rebuild after a fatal error: the same settings again (strings borrowed). */
    struct em_pub_conf conf;
    int64_t next_build_ms;
    char client_id[64];
    char *password; /* owned, from password or password_file; NULL when none */
};

static void kafka_destroy(void *ctx);

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------- pure parts */

enum em_pub_result em_kafka_verdict(int err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return EM_PUB_OK;
    /* The message itself is refused: it would be refused again. */
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
        return EM_PUB_DROP;
    /*
     * Everything else depends on the cluster's state and may pass: broker or
     * leader away, timeouts, the local queue full, a topic not (yet) there,
     * credentials or ACLs an operator can fix. Keeping a reading queued too long
     * costs queue space; dropping one that would have passed loses it for good.
     */
    default:
        return EM_PUB_RETRY;
    }
}

int em_kafka_stats_up(const char *json, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *brokers, *b;
    int up = 0;

    if (!root)
        return -1;
    brokers = cJSON_GetObjectItemCaseSensitive(root, "brokers");
    if (!cJSON_IsObject(brokers)) {
        cJSON_Delete(root);
        return -1;
    }
    cJSON_ArrayForEach(b, brokers)
    {
        const cJSON *state = cJSON_GetObjectItemCaseSensitive(b, "state");
        const cJSON *source = cJSON_GetObjectItemCaseSensitive(b, "source");

        /* The internal broker (and 2.x's logical ones) are not connections. */
        if (cJSON_IsString(source) && (strcmp(source->valuestring, "internal") == 0 ||
                                       strcmp(source->valuestring, "logical") == 0))
            continue;
        if (cJSON_IsString(state) && strcmp(state->valuestring, "UP") == 0)
            up = 1;
    }
    cJSON_Delete(root);
    return up;
}

/* ----------------------------------------------------------- callbacks */

static void verdict(struct kafka_ctx *c, struct slot *s, enum em_pub_result r)
{
    uint64_t token = s->token;

    s->next_free = c->free_list;
    s->busy = 0;
    c->free_list = s;
    c->used--;
    c->done(c->core, token, r);
}

static void log_drop(struct kafka_ctx *c, const char *what, int err)
{
    char key[160];
    unsigned suppressed;

    snprintf(key, sizeof key, "kafka:%s:%d", c->name, err);
    if (em_log_should(key, KAFKA_LOG_EVERY_S, &suppressed))
        log_warnx("[pub:kafka:%s] dropped a message (%s): %s%s", c->name, what,
                  c->rk_api->err2str((rd_kafka_resp_err_t)err),
                  suppressed ? " (repeated)" : "");
}

/* Delivery report: the broker's (or librdkafka's) verdict on one message. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kafka_ctx *c = opaque;
    struct slot *s = m->_private;
    enum em_pub_result r;

    (void)rk;
    if (c->closing || !s)
        return; /* forgotten: the queue still holds it (publisher.h) */
    r = em_kafka_verdict(m->err);
    if (r == EM_PUB_OK)
        c->up = 1;
    else if (r == EM_PUB_DROP)
        log_drop(c, "refused", m->err);
    verdict(c, s, r);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_ctx *c = opaque;

    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        c->up = 0;
    } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
        /* Only the idempotent producer has these (e.g. a sequence gap). */
        log_error("[pub:kafka:%s] fatal producer error, restarting the producer: %s",
                  c->name, reason);
        c->fatal = 1;
        c->up = 0;
    }
    /* Transport errors are logged by librdkafka itself (on_log). */
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct kafka_ctx *c = opaque;
    int up = em_kafka_stats_up(json, len);

    (void)rk;
    if (up >= 0)
        c->up = up;
    return 0; /* librdkafka frees json */
}

/* librdkafka's own log lines, on its threads; em_log_write is thread-safe. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum em_log_level l = level <= LOG_WARNING ? EM_LOG_WARN
                          : level <= LOG_INFO  ? EM_LOG_INFO
                                               : EM_LOG_DEBUG;

    (void)rk;
    EM_LOG(l, "[pub:kafka] librdkafka %s: %s", fac, buf);
}

/* ------------------------------------------------------------- producer */

static int set(const struct em_rdk *k, rd_kafka_conf_t *kc, const char *name,
               const char *value, char *err, size_t errlen)
{
    char why[256];

    if (k->conf_set(kc, name, value, why, sizeof why) == RD_KAFKA_CONF_OK)
        return 0;
    em_pub_err(err, errlen, "librdkafka setting %s: %s", name, why);
    return -1;
}

static int set_int(const struct em_rdk *k, rd_kafka_conf_t *kc, const char *name, long v,
                   char *err, size_t errlen)
{
    char s[24];

    snprintf(s, sizeof s, "%ld", v);
    return set(k, kc, name, s, err, errlen);
}

/* A new producer with the configured settings; 0, or -1 with a message in err. */
static int build(struct kafka_ctx *c, char *err, size_t errlen)
{
    const struct em_rdk *k = c->rk_api;
    const struct em_pub_conf *conf = &c->conf;
    int tls = conf->ca_file || conf->cert_file;
    const char *proto = conf->username ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT")
                                       : (tls ? "SSL" : "PLAINTEXT");
    char why[512];
    rd_kafka_conf_t *kc = k->conf_new();
    int rc = 0;

    if (!kc) {
        em_pub_err(err, errlen, "out of memory");
        return -1;
    }
    rc |= set(k, kc, "bootstrap.servers", conf->bootstrap_servers, err, errlen);
    rc |= set(k, kc, "client.id", c->client_id, err, errlen);
    /* librdkafka refuses idempotence without acks=all. */
    rc |= set(k, kc, "acks", conf->idempotence ? "all" : "1", err, errlen);
    rc |= set(k, kc, "enable.idempotence", conf->idempotence ? "true" : "false", err, errlen);
    rc |= set(k, kc, "message.send.max.retries", KAFKA_RETRIES, err, errlen);
    rc |= set_int(k, kc, "message.timeout.ms", (long)c->timeout_ms * KAFKA_TIMEOUT_FACTOR, err,
                  errlen);
    rc |= set_int(k, kc, "request.timeout.ms", c->timeout_ms, err, errlen);
    rc |= set_int(k, kc, "socket.connection.setup.timeout.ms",
                  c->timeout_ms < 1000 ? 1000 : c->timeout_ms, err, errlen);
    rc |= set(k, kc, "reconnect.backoff.max.ms", KAFKA_BACKOFF_MAX_MS, err, errlen);
    rc |= set(k, kc, "statistics.interval.ms", KAFKA_STATS_MS, err, errlen);
    /* Delivery reports for successes too (the default, said out loud). */
    rc |= set(k, kc, "delivery.report.only.error", "false", err, errlen);
    if (conf->ordered && !conf->idempotence)
        rc |= set(k, kc, "max.in.flight.requests.per.connection", "1", err, errlen);
    rc |= set(k, kc, "security.protocol", proto, err, errlen);
    if (conf->username) {
        rc |= set(k, kc, "sasl.mechanisms", "PLAIN", err, errlen);
        rc |= set(k, kc, "sasl.username", conf->username, err, errlen);
        rc |= set(k, kc, "sasl.password", c->password ? c->password : "", err, errlen);
    }
    if (conf->ca_file)
        rc |= set(k, kc, "ssl.ca.location", conf->ca_file, err, errlen);
    if (conf->cert_file)
        rc |= set(k, kc, "ssl.certificate.location", conf->cert_file, err, errlen);
    if (conf->key_file)
        rc |= set(k, kc, "ssl.key.location", conf->key_file, err, errlen);
    if (tls)
        rc |= set(k, kc, "enable.ssl.certificate.verification",
                  conf->tls_verify ? "true" : "false", err, errlen);
    if (rc) {
        k->conf_destroy(kc);
        return -1;
    }
    k->conf_set_opaque(kc, c);
    k->conf_set_dr_msg_cb(kc, on_delivery);
    k->conf_set_error_cb(kc, on_error);
    k->conf_set_stats_cb(kc, on_stats);
    k->conf_set_log_cb(kc, on_log);
    /* rd_kafka_new takes kc on success only. It resolves nothing and connects later. */
    c->rk = k->new_(RD_KAFKA_PRODUCER, kc, why, sizeof why);
    if (!c->rk) {
        k->conf_destroy(kc);
        em_pub_err(err, errlen, "cannot create the Kafka producer: %s", why);
        return -1;
    }
    return 0;
}

/* Stop the producer without waiting on the brokers; its messages are forgotten. */
static void teardown(struct kafka_ctx *c, int flush_ms)
{
    if (!c->rk)
        return;
    c->closing = 1;
    if (flush_ms > 0)
        (void)c->rk_api->flush(c->rk, flush_ms); /* serves reports: ignored now */
    (void)c->rk_api->purge(c->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                      RD_KAFKA_PURGE_F_NON_BLOCKING);
    (void)c->rk_api->poll(c->rk, 0);
    c->rk_api->destroy(c->rk);
    c->rk = NULL;
}

/* After a fatal error: every message still out gets RETRY, then a fresh producer. */
static void rebuild(struct kafka_ctx *c)
{
    char err[256];
    unsigned suppressed;

    c->fatal = 0;
    c->up = 0;
    teardown(c, 0);
    c->closing = 0;
    for (unsigned i = 0; i < c->window; i++) {
        if (c->slots[i].busy)
            verdict(c, &c->slots[i], EM_PUB_RETRY);
    }
    if (mono_ms() < c->next_build_ms)
        return;
    if (build(c, err, sizeof err) < 0) {
        c->next_build_ms = mono_ms() + KAFKA_REBUILD_MS;
        if (em_log_should("kafka:rebuild", KAFKA_LOG_EVERY_S, &suppressed))
            log_error("[pub:kafka:%s] cannot restart the producer: %s", c->name, err);
    }
}

/* ------------------------------------------------------------ interface */

static enum em_pub_result kafka_submit(void *ctx, const struct em_pub_msg *m)
{
    struct kafka_ctx *c = ctx;
    const struct em_rdk *k = c->rk_api;
    rd_kafka_error_t *e;
    struct slot *s;
    int tlen, code;

    if (!c->rk || c->fatal || !c->free_list)
        return EM_PUB_RETRY;
    tlen = em_topic_render(c->topic, m->dataset, m->device, c->agent, c->site, c->topic_buf,
                           sizeof c->topic_buf);
    if (tlen <= 0) {
        log_drop(c, "topic", RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    s = c->free_list;
    {
        /* RD_KAFKA_MSG_F_COPY: the payload is borrowed for this call only. */
        rd_kafka_vu_t vu[] = {
            {.vtype = RD_KAFKA_VTYPE_TOPIC, .u.cstr = c->topic_buf},
            {.vtype = RD_KAFKA_VTYPE_KEY,
             .u.mem = {(void *)(uintptr_t)m->device, strlen(m->device)}},
            {.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {(void *)(uintptr_t)m->payload, m->len}},
            {.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
            {.vtype = RD_KAFKA_VTYPE_OPAQUE, .u.ptr = s},
        };

        e = k->produceva(c->rk, vu, sizeof vu / sizeof vu[0]);
    }
    if (!e) {
        c->free_list = s->next_free;
        s->token = m->token;
        s->busy = 1;
        c->used++;
        return EM_PUB_OK;
    }
    code = k->error_code(e);
    k->error_destroy(e);
    if (em_kafka_verdict(code) == EM_PUB_DROP) {
        log_drop(c, "not accepted", code);
        c->done(c->core, m->token, EM_PUB_DROP);
        return EM_PUB_OK;
    }
    return EM_PUB_RETRY; /* the local queue is full, the topic is unknown... */
}

static void kafka_service(void *ctx)
{
    struct kafka_ctx *c = ctx;

    if (c->fatal || !c->rk)
        rebuild(c); /* !rk: the last rebuild failed; it waits KAFKA_REBUILD_MS */
    if (c->rk)
        (void)c->rk_api->poll(c->rk, 0);
}

static int kafka_up(void *ctx)
{
    struct kafka_ctx *c = ctx;

    return c->rk && c->up && !c->fatal;
}

static unsigned kafka_inflight(void *ctx)
{
    return ((struct kafka_ctx *)ctx)->used;
}

/* ---------------------------------------------------------------- create */

static void *kafka_create(const struct em_pub_conf *conf, em_pub_done_fn done, void *core,
                          char *err, size_t errlen)
{
    struct kafka_ctx *c = NULL;
    char probe[KAFKA_TOPIC_MAX + 1];
    struct timespec ts;

    if (err && errlen)
        err[0] = '\0';
    if (!conf || !done) {
        em_pub_err(err, errlen, "no configuration or done callback");
        return NULL;
    }
    if (!conf->bootstrap_servers || !*conf->bootstrap_servers) {
        em_pub_err(err, errlen, "bootstrap_servers: missing");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->done = done;
    c->core = core;
    c->conf = *conf;
    c->name = conf->name ? conf->name : "kafka";
    c->agent = conf->agent;
    c->site = conf->site;
    c->topic = conf->topic && *conf->topic ? conf->topic : KAFKA_DEFAULT_TOPIC;
    if (em_topic_render(c->topic, "pms", "dev", c->agent, c->site, probe, sizeof probe) < 0 &&
        errno == EINVAL) {
        em_pub_err(err, errlen, "topic '%s' has an unknown {placeholder}", c->topic);
        goto fail;
    }
    c->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : KAFKA_DEFAULT_TIMEOUT_MS;
    c->window = conf->window <= 0                 ? KAFKA_DEFAULT_WINDOW
                : conf->window > KAFKA_MAX_WINDOW ? KAFKA_MAX_WINDOW
                                                  : (unsigned)conf->window;
    if (conf->client_id) {
        if (em_topic_render(conf->client_id, "", "", c->agent, c->site, c->client_id,
                            sizeof c->client_id) < 0) {
            em_pub_err(err, errlen, "client_id '%s' is too long or has an unknown {placeholder}",
                    conf->client_id);
            goto fail;
        }
    } else {
        /* The platform's producers call themselves producer.NNNN (4 random digits);
         * the clock and the context's address, not rand(), whose state is global. */
        uint32_t r;

        clock_gettime(CLOCK_REALTIME, &ts);
        r = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^ (uint32_t)(uintptr_t)c ^ 0x9e3779b9u;
        r ^= r << 13;
        r ^= r >> 17;
        r ^= r << 5;
        snprintf(c->client_id, sizeof c->client_id, "producer.%04u", (unsigned)(r % 10000));
    }
    if (conf->password_file) {
        c->password = em_pub_read_secret("password_file", conf->password_file, err, errlen);
        if (!c->password)
            goto fail;
    } else if (conf->password) {
        c->password = strdup(conf->password);
        if (!c->password)
            goto oom;
    }
    if (c->password && !conf->username) {
        em_pub_err(err, errlen, "password needs a username (SASL PLAIN)");
        goto fail;
    }
    if (conf->username && !c->password) {
        em_pub_err(err, errlen, "username '%s' needs a password or password_file",
                conf->username);
        goto fail;
    }
    c->slots = calloc(c->window, sizeof *c->slots);
    if (!c->slots)
        goto oom;
    for (unsigned i = c->window; i-- > 0;) {
        c->slots[i].next_free = c->free_list;
        c->free_list = &c->slots[i];
    }
    c->rk_api = em_rdk_get(err, errlen);
    if (!c->rk_api || build(c, err, errlen) < 0)
        goto fail;
    return c;

oom:
    em_pub_err(err, errlen, "out of memory");
fail:
    kafka_destroy(c);
    return NULL;
}

static void kafka_destroy(void *ctx)
{
    struct kafka_ctx *c = ctx;

    if (!c)
        return;
    /* Unconfirmed messages are forgotten, not reported (publisher.h). */
    teardown(c, c->timeout_ms < KAFKA_FLUSH_MS ? c->timeout_ms : KAFKA_FLUSH_MS);
    em_pub_free_secret(c->password);
    free(c->slots);
    free(c);
}

const struct em_publisher kafka_publisher = {
    .abi = EM_PUBLISHER_ABI,
    .name = "kafka",
    .create = kafka_create,
    .submit = kafka_submit,
    .service = kafka_service,
    .up = kafka_up,
    .inflight = kafka_inflight,
    .destroy = kafka_destroy,
};
