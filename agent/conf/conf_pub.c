/* conf_pub.c - publishers[] and brokers.d/<KIND>.json: the keys each publisher type
 * takes, their defaults (CONTRACT section 4) and checks, and the broker files that
 * `edgemon broker config` installs, which replace the main file's publishers of
 * their kind.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "conf_int.h"
#include "fsutil.h"

/* Every publisher type the configuration knows, built into this binary or not. */
const char *const em_pub_types[] = {"mqtt",  "redis", "kubemq", "http",
                                    "kafka", "nats",  NULL};
#define PUB_TYPES_TEXT "mqtt, redis, kubemq, http, kafka or nats"

/* ---- publishers ---- */

struct pub_key {
    const char *name;
    unsigned types;
};

static const struct pub_key pub_keys[] = {
    {"name", T_ALL},
    {"type", T_ALL},
    {"url", T_ALL & ~T_KAFKA},
    {"topic", T_ALL & ~T_HTTP},
    {"channel", T_REDIS | T_KUBEMQ}, /* a Redis pub/sub channel or stream key */
    {"qos", T_MQTT},
    {"datasets", T_ALL},
    {"mode", T_REDIS | T_KUBEMQ | T_NATS},
    {"username", T_MQTT | T_REDIS | T_HTTP | T_KAFKA | T_NATS},
    {"password", T_MQTT | T_REDIS | T_HTTP | T_KAFKA | T_NATS},
    {"password_file", T_MQTT | T_REDIS | T_HTTP | T_KAFKA | T_NATS},
    {"token", T_KUBEMQ | T_HTTP | T_NATS},
    {"token_file", T_KUBEMQ | T_HTTP | T_NATS},
    {"batch", T_KUBEMQ | T_HTTP},
    {"gzip", T_HTTP},
    {"ordered", T_ALL},
    {"bootstrap_servers", T_KAFKA},
    {"bootstrapServers", T_KAFKA}, /* the Multibroker design's broker-file spelling */
    {"idempotence", T_KAFKA},
    {"stream", T_NATS},
    {"features", T_MQTT | T_REDIS}, /* feature flags ride on these (CONTRACT section 5) */
    {"ca_file", T_TLS},
    {"cert_file", T_TLS},
    {"key_file", T_TLS},
    {"tls_verify", T_TLS},
    {"timeout_ms", T_ALL},
    {"window", T_ALL},
    {"stream_maxlen", T_REDIS},
    {"client_id", T_MQTT | T_KUBEMQ | T_KAFKA | T_NATS},
};

unsigned em_conf_dataset_bit(const char *name)
{
    if (!name)
        return 0;
    if (strcmp(name, "pms") == 0)
        return EM_DS_BIT_PMS;
    if (strcmp(name, "mppt") == 0)
        return EM_DS_BIT_MPPT;
    if (strcmp(name, "inverter") == 0)
        return EM_DS_BIT_INVERTER;
    if (strcmp(name, "site") == 0)
        return EM_DS_BIT_SITE;
    return 0;
}

static unsigned type_bit(const char *type)
{
    if (!type)
        return 0;
    if (strcmp(type, "mqtt") == 0)
        return T_MQTT;
    if (strcmp(type, "redis") == 0)
        return T_REDIS;
    if (strcmp(type, "kubemq") == 0)
        return T_KUBEMQ;
    if (strcmp(type, "http") == 0)
        return T_HTTP;
    if (strcmp(type, "kafka") == 0)
        return T_KAFKA;
    if (strcmp(type, "nats") == 0)
        return T_NATS;
    return 0;
}

int em_conf_pub_type_known(const char *type)
{
    return type_bit(type) != 0;
}

static void check_pub_keys(struct ctx *x, const cJSON *obj, const char *path,
                           unsigned tbit, const char *type)
{
    char p[PATH_LEN];

    for (const cJSON *it = obj->child; it; it = it->next) {
        const struct pub_key *k = NULL;
        cf_join(p, path, it->string);
        for (size_t i = 0; i < sizeof pub_keys / sizeof pub_keys[0]; i++)
            if (strcmp(pub_keys[i].name, it->string) == 0)
                k = &pub_keys[i];
        if (!k) {
            cf_report(x, p, "unknown key");
            continue;
        }
        if (tbit && !(k->types & tbit)) {
            cf_report(x, p, "not used by publishers of type '%s'", type);
            continue;
        }
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (strcmp(prev->string, it->string) == 0) {
                cf_report(x, p, "duplicate key");
                break;
            }
    }
}

static void parse_datasets(struct ctx *x, const cJSON *pobj, const char *path,
                           unsigned *mask)
{
    const cJSON *v = cf_get(pobj, "datasets");
    char p[PATH_LEN], ep[PATH_LEN];
    size_t i = 0;

    /* Without the key: the device datasets; `site` only when asked for. */
    *mask = DS_ALL & ~EM_DS_BIT_SITE;
    if (!v)
        return;
    cf_join(p, path, "datasets");
    if (!cJSON_IsArray(v)) {
        cf_report(x, p, "must be an array of strings");
        return;
    }
    if (!v->child) {
        cf_report(x, p, "must name at least one dataset");
        return;
    }
    *mask = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        unsigned bit;
        cf_index_path(ep, p, i);
        if (!cJSON_IsString(e) || !e->valuestring) {
            cf_report(x, ep, "must be a string");
            continue;
        }
        bit = em_conf_dataset_bit(e->valuestring);
        if (!bit)
            cf_report(x, ep,
                      "unknown dataset '%s' (expected pms, mppt, inverter or site)",
                      e->valuestring);
        *mask |= bit;
    }
}

static void check_pub_url(struct ctx *x, const char *path, unsigned tbit, const char *url)
{
    struct em_redis_addr ra;
    char err[200];
    int rc = 0;

    switch (tbit) {
    case T_MQTT:
        rc = cf_check_url(url, "mqtt", "mqtts", 0, 0, err, sizeof err);
        break;
    case T_REDIS:
        if (strncasecmp(url, "redis://", 8) != 0) {
            snprintf(err, sizeof err, "must start with redis://");
            rc = -1;
        } else {
            rc = em_busaddr_parse_redis(url, &ra, err, sizeof err);
        }
        break;
    case T_KUBEMQ:
        rc = cf_check_url(url, "http", "https", 1, 0, err, sizeof err);
        break;
    case T_HTTP:
        rc = cf_check_url(url, "http", "https", 1, 1, err, sizeof err);
        break;
    case T_NATS:
        rc = cf_check_url(url, "nats", "tls", 0, 0, err, sizeof err);
        break;
    default:
        return;
    }
    if (rc < 0)
        cf_report(x, path, "%s", err);
}

static void check_tmpl_field(struct ctx *x, const char *path, const char *key,
                             const char *v, int mqtt_topic)
{
    char p[PATH_LEN], err[200];

    cf_join(p, path, key);
    if (cf_check_template(v, err, sizeof err) < 0)
        cf_report(x, p, "%s", err);
    else if (mqtt_topic && strpbrk(v, "+#"))
        cf_report(x, p, "must not contain the MQTT wildcards '+' or '#'");
}

/* Two ways to give one secret are a mistake, never a fallback. */
static void exclusive(struct ctx *x, const char *path, const char *a, const char *b,
                      const char *va, const char *vb)
{
    char p[PATH_LEN];

    if (va && vb) {
        cf_join(p, path, b);
        cf_report(x, p, "cannot be used together with %s", a);
    }
}

/*
 * Kafka's brokers: `bootstrap_servers` (or `bootstrapServers`), required, a
 * comma-separated list of HOST:PORT as librdkafka takes it.
 */
static void parse_bootstrap(struct ctx *x, const cJSON *o, const char *path,
                            struct em_pub_conf *pc)
{
    const char *key =
        cf_get(o, "bootstrapServers") ? "bootstrapServers" : "bootstrap_servers";
    char p[PATH_LEN], err[200];

    cf_join(p, path, key);
    if (cf_get(o, "bootstrapServers") && cf_get(o, "bootstrap_servers")) {
        cf_report(x, p, "cannot be used together with bootstrap_servers");
        return;
    }
    if (cf_req_str(x, o, path, key, &pc->bootstrap_servers) <= 0)
        return;
    for (const char *a = pc->bootstrap_servers;;) {
        char host[EM_BUSADDR_HOST_MAX];
        size_t n = strcspn(a, ",");
        int port;

        while (n && *a == ' ')
            a++, n--;
        if (n == 0 ||
            em_busaddr_parse_hostport(a, n, host, sizeof host, &port, 0, err,
                                      sizeof err) < 0 ||
            port == 0) {
            cf_report(x, p, "'%.*s': expected HOST:PORT[,HOST:PORT...]",
                      (int)(n > 60 ? 60 : n), a);
            return;
        }
        if (!a[n])
            break;
        a += n + 1;
    }
}

/*
 * One publishers[] entry (or broker file, when kind is set). Everything set in
 * *pc is owned by it, valid or not; the caller releases it either way.
 */
void cf_parse_pub(struct ctx *x, const cJSON *o, const char *path, const char *kind,
                  struct em_pub_conf *pc)
{
    const cJSON *t;
    const char *type = NULL;
    unsigned tbit = 0;
    char p[PATH_LEN];
    long long v;

    pc->qos = 1;
    pc->datasets = DS_ALL & ~EM_DS_BIT_SITE;
    pc->tls_verify = 1;
    pc->timeout_ms = 5000;
    pc->window = 64;
    pc->stream_maxlen = 100000;
    if (!cJSON_IsObject(o)) {
        cf_report(x, path, *path ? "must be an object" : "must be a JSON object");
        return;
    }
    t = cf_get(o, "type");
    cf_join(p, path, "type");
    if (kind) {
        type = kind;
        if (t &&
            !(cJSON_IsString(t) && t->valuestring && strcmp(t->valuestring, kind) == 0))
            cf_report(x, p, "must be \"%s\" or left out", kind);
    } else if (!t) {
        cf_report(x, p, "missing");
    } else if (!cJSON_IsString(t) || !t->valuestring) {
        cf_report(x, p, "must be a string");
    } else if (!type_bit(t->valuestring)) {
        cf_report(x, p, "unknown publisher type '%s' (expected " PUB_TYPES_TEXT ")",
                  t->valuestring);
    } else {
        type = t->valuestring;
    }
    tbit = type_bit(type);
    if (type)
        pc->type = cf_sdup(x, p, type);
    check_pub_keys(x, o, path, tbit, type);

    if (kind && !cf_get(o, "name"))
        pc->name = cf_sdup(x, path, kind);
    else if (cf_req_str(x, o, path, "name", &pc->name) > 0) {
        cf_join(p, path, "name");
        cf_check_ident(x, p, pc->name);
    }
    if (tbit == T_KAFKA)
        parse_bootstrap(x, o, path, pc);
    else if (cf_req_str(x, o, path, "url", &pc->url) > 0) {
        cf_join(p, path, "url");
        check_pub_url(x, p, tbit, pc->url);
    }

    if (cf_opt_str(x, o, path, "topic", &pc->topic) > 0)
        check_tmpl_field(x, path, "topic", pc->topic, tbit == T_MQTT);
    if (cf_opt_str(x, o, path, "channel", &pc->channel) > 0) {
        check_tmpl_field(x, path, "channel", pc->channel, 0);
        exclusive(x, path, "topic", "channel", pc->topic, pc->channel);
        if (!pc->topic)
            pc->topic = cf_sdup(x, path, pc->channel);
    }
    if (!pc->topic && tbit && tbit != T_HTTP) {
        /* CONTRACT section 4 defaults. */
        cf_join(p, path, "topic");
        pc->topic = cf_sdup(
            x, p, tbit == T_MQTT ? "monitoring/{dataset}/{id}" : "monitoring.{dataset}");
    }
    if (tbit == T_KUBEMQ && pc->topic && !pc->channel) {
        cf_join(p, path, "channel");
        pc->channel = cf_sdup(x, p, pc->topic);
    }

    if (cf_get(o, "qos")) {
        const cJSON *q = cf_get(o, "qos");
        cf_join(p, path, "qos");
        if (!cJSON_IsNumber(q) ||
            (q->valuedouble != 0 && q->valuedouble != 1 && q->valuedouble != 2))
            cf_report(x, p, "must be 0, 1 or 2");
        else
            pc->qos = (int)q->valuedouble;
    }

    parse_datasets(x, o, path, &pc->datasets);

    if (cf_opt_str(x, o, path, "mode", &pc->mode) > 0) {
        static const char *const rmodes[] = {"publish", "stream", NULL};
        static const char *const kmodes[] = {"queue", "events_store", NULL};
        static const char *const nmodes[] = {"jetstream", "core", NULL};
        cf_join(p, path, "mode");
        if (tbit == T_REDIS && !cf_one_of(pc->mode, rmodes))
            cf_report(x, p, "unknown mode '%s' (expected publish or stream)", pc->mode);
        else if (tbit == T_KUBEMQ && !cf_one_of(pc->mode, kmodes))
            cf_report(x, p, "unknown mode '%s' (expected queue or events_store)",
                      pc->mode);
        else if (tbit == T_NATS && !cf_one_of(pc->mode, nmodes))
            cf_report(x, p, "unknown mode '%s' (expected jetstream or core)", pc->mode);
    } else if (tbit == T_REDIS || tbit == T_KUBEMQ || tbit == T_NATS) {
        cf_join(p, path, "mode");
        pc->mode = cf_sdup(x, p,
                           tbit == T_REDIS    ? "publish"
                           : tbit == T_KUBEMQ ? "queue"
                                              : "jetstream");
    }

    cf_opt_str(x, o, path, "username", &pc->username);
    cf_opt_str(x, o, path, "password", &pc->password);
    if (cf_opt_str(x, o, path, "password_file", &pc->password_file) > 0) {
        cf_join(p, path, "password_file");
        if (pc->password)
            cf_report(x, p, "cannot be used together with password");
        else
            cf_check_secret(x, p, pc->password_file);
    }
    cf_opt_str(x, o, path, "token", &pc->token);
    if (cf_opt_str(x, o, path, "token_file", &pc->token_file) > 0) {
        cf_join(p, path, "token_file");
        if (pc->token)
            cf_report(x, p, "cannot be used together with token");
        else
            cf_check_secret(x, p, pc->token_file);
    }
    if (cf_opt_str(x, o, path, "ca_file", &pc->ca_file) > 0) {
        cf_join(p, path, "ca_file");
        cf_check_file(x, p, pc->ca_file);
    }
    if (cf_opt_str(x, o, path, "cert_file", &pc->cert_file) > 0) {
        cf_join(p, path, "cert_file");
        cf_check_file(x, p, pc->cert_file);
    }
    if (cf_opt_str(x, o, path, "key_file", &pc->key_file) > 0) {
        cf_join(p, path, "key_file");
        cf_check_file(x, p, pc->key_file);
    }
    if (!!cf_get(o, "cert_file") != !!cf_get(o, "key_file")) {
        cf_join(p, path, cf_get(o, "cert_file") ? "key_file" : "cert_file");
        cf_report(x, p, "missing (cert_file and key_file go together)");
    }
    cf_opt_bool(x, o, path, "tls_verify", &pc->tls_verify);
    cf_int_or(x, o, path, "timeout_ms", 100, 120000, 5000, &pc->timeout_ms);
    cf_int_or(x, o, path, "window", 1, 65535, 64, &pc->window);
    v = 100000;
    if (cf_opt_int(x, o, path, "stream_maxlen", 1, 1000000000, &v) > 0)
        pc->stream_maxlen = (long)v;
    if (cf_opt_str(x, o, path, "client_id", &pc->client_id) > 0)
        check_tmpl_field(x, path, "client_id", pc->client_id, 0);
    /* kubemq: up to 100 messages per /queue/send_batch; http: one message per POST. */
    cf_int_or(x, o, path, "batch", 1, 1000, tbit == T_KUBEMQ ? 100 : 1, &pc->batch);
    cf_opt_bool(x, o, path, "gzip", &pc->gzip);
    cf_opt_bool(x, o, path, "ordered", &pc->ordered);
    cf_opt_bool(x, o, path, "idempotence", &pc->idempotence);
    cf_opt_bool(x, o, path, "features", &pc->features);
    if (cf_opt_str(x, o, path, "stream", &pc->stream) > 0) {
        cf_join(p, path, "stream");
        cf_check_ident(x, p, pc->stream);
    } else if (tbit == T_NATS) {
        cf_join(p, path, "stream");
        pc->stream = cf_sdup(x, p, "monitoring");
    }
}

void em_conf_pub_release(struct em_pub_conf *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->type);
    free(p->url);
    free(p->topic);
    free(p->mode);
    free(p->username);
    free(p->password);
    free(p->password_file);
    free(p->token);
    free(p->token_file);
    free(p->ca_file);
    free(p->cert_file);
    free(p->key_file);
    free(p->client_id);
    free(p->channel);
    free(p->bootstrap_servers);
    free(p->stream);
    memset(p, 0, sizeof *p);
}

/* Append *pc (ownership moves) with where it came from; on failure it is released. */
static int pub_append(struct ctx *x, struct em_conf *c, struct pub_where **where,
                      struct em_pub_conf *pc, const char *path)
{
    struct em_pub_conf *np;
    struct pub_where *nw;

    np = realloc(c->publishers, (c->npublishers + 1) * sizeof *np);
    if (!np)
        goto oom;
    c->publishers = np;
    nw = realloc(*where, (c->npublishers + 1) * sizeof *nw);
    if (!nw)
        goto oom;
    *where = nw;
    snprintf(nw[c->npublishers].origin, sizeof nw->origin, "%s", x->origin);
    snprintf(nw[c->npublishers].path, sizeof nw->path, "%s", path);
    np[c->npublishers++] = *pc;
    memset(pc, 0, sizeof *pc);
    return 0;
oom:
    cf_report(x, path, "out of memory");
    em_conf_pub_release(pc);
    return -1;
}

void cf_parse_publishers(struct ctx *x, const cJSON *root, struct em_conf *c,
                         struct pub_where **where)
{
    const cJSON *ps = cf_get(root, "publishers");
    char p[PATH_LEN];
    size_t i = 0;

    if (!ps)
        return;
    if (!cJSON_IsArray(ps)) {
        cf_report(x, "publishers", "must be an array");
        return;
    }
    for (const cJSON *o = ps->child; o; o = o->next, i++) {
        struct em_pub_conf pc;
        memset(&pc, 0, sizeof pc);
        cf_index_path(p, "publishers", i);
        cf_parse_pub(x, o, p, NULL, &pc);
        pub_append(x, c, where, &pc, p);
    }
}

/*
 * brokers.d/<KIND>.json replaces the publishers of type KIND from the main file:
 * `edgemon broker config KIND` means "this is the KIND broker", and running it
 * again must not add a second uplink.
 */
void cf_merge_brokers(struct ctx *x, struct em_conf *c, const char *cfg_path,
                      struct pub_where **where)
{
    const char *saved = x->origin;

    for (const char *const *k = em_pub_types; *k; k++) {
        char file[4096], origin[64], err[300];
        struct em_pub_conf pc;
        struct stat st;
        size_t len;
        char *text;
        cJSON *root;

        if (em_conf_broker_path(cfg_path, *k, file, sizeof file) < 0) {
            cf_report(x, "", "config path too long");
            return;
        }
        if (stat(file, &st) < 0 && errno == ENOENT)
            continue;
        snprintf(origin, sizeof origin, "brokers.d/%s.json", *k);
        x->origin = origin;
        text = em_read_file(file, &len, err, sizeof err);
        if (!text) {
            cf_report(x, "", "%s", err);
            x->origin = saved;
            continue;
        }
        root = cf_parse_json(x, text, len);
        free(text);
        if (root) {
            size_t o = 0;
            for (size_t i = 0; i < c->npublishers; i++) {
                if (c->publishers[i].type && strcmp(c->publishers[i].type, *k) == 0) {
                    em_conf_pub_release(&c->publishers[i]);
                    continue;
                }
                c->publishers[o] = c->publishers[i];
                (*where)[o++] = (*where)[i];
            }
            c->npublishers = o;
            memset(&pc, 0, sizeof pc);
            cf_parse_pub(x, root, "", *k, &pc);
            pub_append(x, c, where, &pc, "");
            cJSON_Delete(root);
        }
        x->origin = saved;
    }
}

int em_conf_broker_path(const char *conf_path, const char *kind, char *out, size_t outlen)
{
    const char *slash = strrchr(conf_path, '/');
    int n;

    if (!slash)
        n = snprintf(out, outlen, "brokers.d/%s.json", kind);
    else
        n = snprintf(out, outlen, "%.*s/brokers.d/%s.json", (int)(slash - conf_path),
                     conf_path, kind);
    if (n < 0 || (size_t)n >= outlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

void cf_check_publishers(struct ctx *x, struct em_conf *c, const struct pub_where *w)
{
    const char *saved = x->origin;
    char p[PATH_LEN];

    for (size_t i = 0; i < c->npublishers; i++) {
        const char *name = c->publishers[i].name;
        for (size_t j = 0; j < i && name; j++) {
            if (!c->publishers[j].name || strcmp(c->publishers[j].name, name) != 0)
                continue;
            x->origin = w[i].origin;
            cf_join(p, w[i].path, "name");
            cf_report(x, p, "duplicate publisher name '%s' (also %s%s%s)", name,
                      w[j].origin, *w[j].origin && *w[j].path ? ": " : "", w[j].path);
            x->origin = saved;
            break;
        }
    }
}
