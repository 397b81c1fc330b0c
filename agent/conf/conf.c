/* conf.c - the JSON configuration parsed into typed structs, validated and cross-checked.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Every parse helper reports its own errors (with the JSON path) and carries on,
 * so one run finds every problem. A helper returns 1 when a value was set, 0 when
 * the key is absent, -1 when it was invalid; the tree is thrown away at the end
 * if anything was reported. Plain libc allocation is used: there is no
 * agent/mem.c yet; switch to em_malloc & co. when it lands.
 */
#include "conf.h"

#include "fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "profile.h"

#define PATH_LEN  160
#define FILE_MAX  (4u * 1024 * 1024)
#define IDENT_MAX 64
#define DS_ALL    (EM_DS_BIT_PMS | EM_DS_BIT_MPPT | EM_DS_BIT_INVERTER | EM_DS_BIT_SITE)

/* Publisher types as bits, for the table of which key applies to which type. */
#define T_MQTT   (1u << 0)
#define T_REDIS  (1u << 1)
#define T_KUBEMQ (1u << 2)
#define T_HTTP   (1u << 3)
#define T_KAFKA  (1u << 4)
#define T_NATS   (1u << 5)
#define T_ALL    (T_MQTT | T_REDIS | T_KUBEMQ | T_HTTP | T_KAFKA | T_NATS)
#define T_TLS    (T_MQTT | T_KUBEMQ | T_HTTP | T_KAFKA | T_NATS)

/* Every publisher type the configuration knows, built into this binary or not. */
const char *const em_pub_types[] = {"mqtt", "redis", "kubemq", "http", "kafka", "nats", NULL};
#define PUB_TYPES_TEXT "mqtt, redis, kubemq, http, kafka or nats"


struct ctx {
    struct em_errors *errs;
    size_t nerr;        /* every error reported, also when errs is NULL or full */
    const char *origin; /* "" for the main file, else a broker file name */
};

/* Where a publisher came from, for cross-check messages. */
struct pub_where {
    char origin[96];
    char path[40];
};

/* ---- error list ---- */

void em_errors_init(struct em_errors *e)
{
    if (e) {
        e->n = 0;
        e->dropped = 0;
    }
}

void em_errors_add(struct em_errors *e, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return;
    if (e->n >= EM_ERRORS_MAX) {
        e->dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(e->msg[e->n], EM_ERROR_LEN, fmt, ap);
    va_end(ap);
    e->n++;
}

size_t em_errors_count(const struct em_errors *e)
{
    return e ? e->n + e->dropped : 0;
}

void em_errors_print(const struct em_errors *e, FILE *out)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        fprintf(out, "%s\n", e->msg[i]);
    if (e->dropped)
        fprintf(out, "... and %zu more error%s\n", e->dropped,
                e->dropped == 1 ? "" : "s");
}

static void report(struct ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct ctx *x, const char *path, const char *fmt, ...)
{
    char m[EM_ERROR_LEN];
    va_list ap;
    int has_origin = x->origin && *x->origin, has_path = path && *path;

    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    x->nerr++;
    if (has_origin && has_path)
        em_errors_add(x->errs, "%s: %s: %s", x->origin, path, m);
    else if (has_origin || has_path)
        em_errors_add(x->errs, "%s: %s", has_origin ? x->origin : path, m);
    else
        em_errors_add(x->errs, "%s", m);
}

/* ---- small helpers ---- */

/* Paths are for people: an overlong one (a silly key) is cut and marked, not an error. */
static void mark_cut(char *out, int n)
{
    if (n < 0 || n >= PATH_LEN)
        memcpy(out + PATH_LEN - 4, "...", 4);
}

static void join(char *out, const char *base, const char *key)
{
    mark_cut(out, snprintf(out, PATH_LEN, *base ? "%s.%s" : "%s%s", base, key));
}

static void index_path(char *out, const char *base, size_t i)
{
    mark_cut(out, snprintf(out, PATH_LEN, "%s[%zu]", base, i));
}

static char *sdup(struct ctx *x, const char *path, const char *s)
{
    char *d = strdup(s);

    if (!d)
        report(x, path, "out of memory");
    return d;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* Unknown and repeated keys; cJSON keeps both copies of a repeated key. */
static void check_keys(struct ctx *x, const cJSON *obj, const char *path,
                       const char *const *known)
{
    char p[PATH_LEN];

    for (const cJSON *it = obj->child; it; it = it->next) {
        join(p, path, it->string);
        if (!in_list(known, it->string)) {
            report(x, p, "unknown key");
            continue;
        }
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (strcmp(prev->string, it->string) == 0) {
                report(x, p, "duplicate key");
                break;
            }
    }
}

static int opt_str(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                   char **out)
{
    const cJSON *v = get(obj, key);
    char p[PATH_LEN];

    if (!v)
        return 0;
    join(p, path, key);
    if (!cJSON_IsString(v) || !v->valuestring) {
        report(x, p, "must be a string");
        return -1;
    }
    if (!v->valuestring[0]) {
        report(x, p, "must not be empty");
        return -1;
    }
    *out = sdup(x, p, v->valuestring);
    return *out ? 1 : -1;
}

static int req_str(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                   char **out)
{
    char p[PATH_LEN];
    int rc = opt_str(x, obj, path, key, out);

    if (rc == 0) {
        join(p, path, key);
        report(x, p, "missing");
        return -1;
    }
    return rc;
}

/* A string field with a default when absent. */
static int str_or(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                  const char *def, char **out)
{
    char p[PATH_LEN];
    int rc = opt_str(x, obj, path, key, out);

    if (rc != 0)
        return rc;
    join(p, path, key);
    *out = sdup(x, p, def);
    return *out ? 0 : -1;
}

static int opt_int(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                   long long lo, long long hi, long long *out)
{
    const cJSON *v = get(obj, key);
    char p[PATH_LEN];
    long long n;

    if (!v)
        return 0;
    join(p, path, key);
    if (!cJSON_IsNumber(v)) {
        report(x, p, "must be an integer");
        return -1;
    }
    /* Bound before converting: a double outside long long makes the cast undefined. */
    if (!(v->valuedouble >= -9.0e18 && v->valuedouble <= 9.0e18)) {
        report(x, p, "must be between %lld and %lld", lo, hi);
        return -1;
    }
    n = (long long)v->valuedouble;
    if ((double)n != v->valuedouble) {
        report(x, p, "must be an integer");
        return -1;
    }
    if (n < lo || n > hi) {
        report(x, p, "must be between %lld and %lld", lo, hi);
        return -1;
    }
    *out = n;
    return 1;
}

static int int_or(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                  long long lo, long long hi, int def, int *out)
{
    long long v = def;
    int rc = opt_int(x, obj, path, key, lo, hi, &v);

    *out = (int)v;
    return rc;
}

static int opt_bool(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                    int *out)
{
    const cJSON *v = get(obj, key);
    char p[PATH_LEN];

    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        join(p, path, key);
        report(x, p, "must be a boolean");
        return -1;
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 1;
}

/*
 * Ids end up in MQTT topic levels, Redis keys and Prometheus labels, so they
 * keep to characters that need no escaping anywhere.
 */
static int check_ident(struct ctx *x, const char *path, const char *s)
{
    size_t n = strlen(s);
    int ok = n > 0 && n <= IDENT_MAX && isalnum((unsigned char)s[0]);

    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        ok = isalnum(ch) || ch == '.' || ch == '_' || ch == '-';
    }
    if (!ok) {
        report(
            x, path,
            "'%s' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            s);
        return -1;
    }
    return 0;
}

static int one_of(const char *s, const char *const *set)
{
    return in_list(set, s);
}

/* Placeholders a topic, channel, client id or http URL may use (CONTRACT section 2). */
static int check_template(const char *t, char *err, size_t errlen)
{
    static const char *const names[] = {"dataset", "id", "agent", "site", NULL};

    for (const char *p = t; *p; p++) {
        if (*p == '}') {
            snprintf(err, errlen, "unmatched '}'");
            return -1;
        }
        if (*p != '{')
            continue;
        const char *e = strchr(p, '}');
        if (!e) {
            snprintf(err, errlen, "unterminated '{'");
            return -1;
        }
        size_t n = (size_t)(e - p - 1);
        int known = 0;
        for (const char *const *nm = names; *nm; nm++)
            if (strlen(*nm) == n && memcmp(*nm, p + 1, n) == 0)
                known = 1;
        if (!known) {
            snprintf(err, errlen,
                     "unknown placeholder '{%.*s}' (allowed: {dataset}, {id}, {agent}, "
                     "{site})",
                     (int)(n > 40 ? 40 : n), p + 1);
            return -1;
        }
        p = e;
    }
    return 0;
}

/* A readable regular file: TLS material and secrets are read at startup, fail early. */
static void check_file(struct ctx *x, const char *path, const char *file)
{
    struct stat st;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0) {
        report(x, path, "cannot read '%s': %s", file, strerror(errno));
        return;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        report(x, path, "'%s' is not a regular file", file);
    close(fd);
}

/*
 * http(s):// and mqtt(s):// URLs: a known scheme, a valid host, a port in range.
 * Credentials belong in username/password/token keys, where *_file can hide them.
 */
static int check_url(const char *url, const char *s1, const char *s2, int allow_path,
                     int allow_tmpl, char *err, size_t errlen)
{
    const char *sep = strstr(url, "://"), *a, *rest;
    char host[EM_BUSADDR_HOST_MAX];
    size_t sn, n;
    int port;

    for (const char *p = url; *p; p++)
        if (iscntrl((unsigned char)*p) || *p == ' ') {
            snprintf(err, errlen, "must not contain spaces or control characters");
            return -1;
        }
    sn = sep ? (size_t)(sep - url) : 0;
    if (!sep || !((strlen(s1) == sn && strncasecmp(url, s1, sn) == 0) ||
                  (s2 && strlen(s2) == sn && strncasecmp(url, s2, sn) == 0))) {
        if (s2)
            snprintf(err, errlen, "must start with %s:// or %s://", s1, s2);
        else
            snprintf(err, errlen, "must start with %s://", s1);
        return -1;
    }
    a = sep + 3;
    n = strcspn(a, "/?#");
    if (memchr(a, '@', n)) {
        snprintf(err, errlen,
                 "credentials in the URL are not supported; use the "
                 "username/password or token keys");
        return -1;
    }
    if (memchr(a, '{', n)) {
        snprintf(err, errlen, "placeholders are not allowed in the host");
        return -1;
    }
    if (em_busaddr_parse_hostport(a, n, host, sizeof host, &port, 0, err, errlen) < 0)
        return -1;
    rest = a + n;
    if (!allow_path && *rest && strcmp(rest, "/") != 0) {
        snprintf(err, errlen, "unexpected '%s' after the host", rest);
        return -1;
    }
    if (allow_tmpl)
        return check_template(rest, err, errlen);
    return 0;
}

int em_http_host_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

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

/* ---- JSON text ---- */

static cJSON *parse_json(struct ctx *x, const char *json, size_t len)
{
    const char *end = NULL;
    cJSON *root;

    if (!json || len == 0) {
        report(x, "", "invalid JSON: empty input");
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!end || end < json || end > json + len)
        end = json;
    if (root) {
        /* cJSON stops after the first value; anything but blanks after it is an error. */
        const char *p = end;
        while (p < json + len && *p && isspace((unsigned char)*p))
            p++;
        if (p == json + len || !*p)
            return root;
        cJSON_Delete(root);
        end = p;
    }
    unsigned line = 1, col = 1;
    for (const char *p = json; p < end; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    report(x, "", "invalid JSON at line %u, column %u", line, col);
    return NULL;
}


/* ---- sections ---- */

static const cJSON *section(struct ctx *x, const cJSON *root, const char *key,
                            int required)
{
    const cJSON *s = get(root, key);

    if (!s) {
        if (required)
            report(x, key, "missing");
        return NULL;
    }
    if (!cJSON_IsObject(s)) {
        report(x, key, "must be an object");
        return NULL;
    }
    return s;
}

static void parse_agent(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    static const char *const keys[] = {"id", "site", "state_dir", NULL};
    const cJSON *a = section(x, root, "agent", 1);

    if (!a)
        return;
    check_keys(x, a, "agent", keys);
    if (req_str(x, a, "agent", "id", &c->agent.id) > 0)
        check_ident(x, "agent.id", c->agent.id);
    if (req_str(x, a, "agent", "site", &c->agent.site) > 0)
        check_ident(x, "agent.site", c->agent.site);
    str_or(x, a, "agent", "state_dir", EM_DEFAULT_STATE_DIR, &c->agent.state_dir);
}

static void parse_device(struct ctx *x, const cJSON *d, const char *path,
                         struct em_dev_conf *dev)
{
    static const char *const keys[] = {"id",   "driver",      "profile",    "bus",
                                       "unit", "interval_ms", "timeout_ms", NULL};
    static const char *const drivers[] = {"pms", "mppt", "inverter", NULL};
    char p[PATH_LEN], err[200];
    long long unit = 1;
    int unit_rc;

    dev->unit = -1;
    if (!cJSON_IsObject(d)) {
        report(x, path, "must be an object");
        return;
    }
    check_keys(x, d, path, keys);
    if (req_str(x, d, path, "id", &dev->id) > 0) {
        join(p, path, "id");
        check_ident(x, p, dev->id);
    }
    if (req_str(x, d, path, "driver", &dev->driver) > 0 &&
        !one_of(dev->driver, drivers)) {
        join(p, path, "driver");
        report(x, p, "unknown driver '%s' (expected pms, mppt or inverter)", dev->driver);
        free(dev->driver);
        dev->driver = NULL;
    }
    req_str(x, d, path, "profile", &dev->profile);
    if (req_str(x, d, path, "bus", &dev->bus) > 0) {
        join(p, path, "bus");
        if (em_busaddr_parse(dev->bus, &dev->addr, err, sizeof err) < 0)
            report(x, p, "%s", err);
        else if (em_busaddr_key(&dev->addr, dev->bus_key, sizeof dev->bus_key) < 0)
            report(x, p, "bus URL too long");
    }
    unit_rc = opt_int(x, d, path, "unit", 0, 255, &unit);
    if (unit_rc >= 0) {
        /* Modbus RTU: 0 is broadcast, 248-255 reserved (Modbus over serial line 2.2). */
        if (dev->addr.kind == EM_BUS_RTU && (unit < 1 || unit > 247)) {
            join(p, path, "unit");
            report(x, p, "must be between 1 and 247 on an RTU bus");
        } else {
            dev->unit = (int)unit;
        }
    }
    int_or(x, d, path, "interval_ms", 100, 3600000, 1000, &dev->interval_ms);
    int_or(x, d, path, "timeout_ms", 10, 60000, 500, &dev->timeout_ms);
}

static void parse_devices(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    const cJSON *ds = get(root, "devices");
    char p[PATH_LEN];
    size_t n, i = 0;

    if (!ds) {
        report(x, "devices", "missing");
        return;
    }
    if (!cJSON_IsArray(ds)) {
        report(x, "devices", "must be an array");
        return;
    }
    n = (size_t)cJSON_GetArraySize(ds);
    if (n == 0)
        return;
    c->devices = calloc(n, sizeof *c->devices);
    if (!c->devices) {
        report(x, "devices", "out of memory");
        return;
    }
    c->ndevices = n;
    for (const cJSON *d = ds->child; d && i < n; d = d->next, i++) {
        index_path(p, "devices", i);
        parse_device(x, d, p, &c->devices[i]);
    }
}

static void parse_queue(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    static const char *const keys[] = {
        "backend", "url", "max_messages", "max_age_s", "spool_max_bytes", NULL};
    struct em_queue_conf *q = &c->queue;
    const cJSON *s = section(x, root, "queue", 0);
    char *backend = NULL, err[200];

    q->backend = EM_QUEUE_REDIS;
    q->max_messages = 1000000;
    q->max_age_s = 604800;
    q->spool_max_bytes = 64ll * 1024 * 1024;
    if (s) {
        check_keys(x, s, "queue", keys);
        if (opt_str(x, s, "queue", "backend", &backend) > 0) {
            if (strcmp(backend, "spool") == 0)
                q->backend = EM_QUEUE_SPOOL;
            else if (strcmp(backend, "redis") != 0)
                report(x, "queue.backend",
                       "unknown backend '%s' (expected redis or spool)", backend);
            free(backend);
        }
        opt_int(x, s, "queue", "max_messages", 1, 1000000000, &q->max_messages);
        opt_int(x, s, "queue", "max_age_s", 1, 315360000, &q->max_age_s);
        opt_int(x, s, "queue", "spool_max_bytes", 65536, 1ll << 40, &q->spool_max_bytes);
    }
    if (s ? str_or(x, s, "queue", "url", EM_DEFAULT_QUEUE_URL, &q->url) >= 0
          : (q->url = sdup(x, "queue.url", EM_DEFAULT_QUEUE_URL)) != NULL) {
        if (em_busaddr_parse_redis(q->url, &q->redis, err, sizeof err) < 0)
            report(x, "queue.url", "%s", err);
    }
}

static void parse_features(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    static const char *const keys[] = {"topic", "url", "poll_s", NULL};
    struct em_features_conf *f = &c->features;
    const cJSON *s = section(x, root, "features", 0);
    char err[200];

    f->poll_s = 60;
    if (!s) {
        f->topic = sdup(x, "features.topic", EM_DEFAULT_FEATURE_TOPIC);
        return;
    }
    check_keys(x, s, "features", keys);
    if (str_or(x, s, "features", "topic", EM_DEFAULT_FEATURE_TOPIC, &f->topic) > 0 &&
        strpbrk(f->topic, "+#"))
        report(x, "features.topic", "must not contain the MQTT wildcards '+' or '#'");
    if (opt_str(x, s, "features", "url", &f->url) > 0 &&
        check_url(f->url, "http", "https", 1, 0, err, sizeof err) < 0)
        report(x, "features.url", "%s", err);
    int_or(x, s, "features", "poll_s", 1, 86400, 60, &f->poll_s);
}

static void parse_http(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    static const char *const keys[] = {"listen", "token_file", NULL};
    struct em_http_conf *h = &c->http;
    const cJSON *s = section(x, root, "http", 0);
    char err[200];

    if (!s)
        return;
    check_keys(x, s, "http", keys);
    if (req_str(x, s, "http", "listen", &h->listen) <= 0)
        return;
    if (em_busaddr_parse_hostport(h->listen, strlen(h->listen), h->host, sizeof h->host,
                                  &h->port, -1, err, sizeof err) < 0) {
        report(x, "http.listen", "%s (expected HOST:PORT, e.g. 127.0.0.1:8080)", err);
        return;
    }
    /* Anyone on the network could read the site otherwise (agent/ops/httpd.h). */
    if (opt_str(x, s, "http", "token_file", &h->token_file) == 0 &&
        !em_http_host_loopback(h->host))
        report(x, "http.token_file", "required when http.listen is not a loopback address");
    h->enabled = 1;
}

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
    {"ca_file", T_TLS},
    {"cert_file", T_TLS},
    {"key_file", T_TLS},
    {"tls_verify", T_TLS},
    {"timeout_ms", T_ALL},
    {"window", T_ALL},
    {"stream_maxlen", T_REDIS},
    {"client_id", T_MQTT | T_KUBEMQ | T_KAFKA | T_NATS},
};

static void check_pub_keys(struct ctx *x, const cJSON *obj, const char *path,
                           unsigned tbit, const char *type)
{
    char p[PATH_LEN];

    for (const cJSON *it = obj->child; it; it = it->next) {
        const struct pub_key *k = NULL;
        join(p, path, it->string);
        for (size_t i = 0; i < sizeof pub_keys / sizeof pub_keys[0]; i++)
            if (strcmp(pub_keys[i].name, it->string) == 0)
                k = &pub_keys[i];
        if (!k) {
            report(x, p, "unknown key");
            continue;
        }
        if (tbit && !(k->types & tbit)) {
            report(x, p, "not used by publishers of type '%s'", type);
            continue;
        }
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (strcmp(prev->string, it->string) == 0) {
                report(x, p, "duplicate key");
                break;
            }
    }
}

static void parse_datasets(struct ctx *x, const cJSON *pobj, const char *path,
                           unsigned *mask)
{
    const cJSON *v = get(pobj, "datasets");
    char p[PATH_LEN], ep[PATH_LEN];
    size_t i = 0;

    /* Without the key: the device datasets; `site` only when asked for. */
    *mask = DS_ALL & ~EM_DS_BIT_SITE;
    if (!v)
        return;
    join(p, path, "datasets");
    if (!cJSON_IsArray(v)) {
        report(x, p, "must be an array of strings");
        return;
    }
    if (!v->child) {
        report(x, p, "must name at least one dataset");
        return;
    }
    *mask = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        unsigned bit;
        index_path(ep, p, i);
        if (!cJSON_IsString(e) || !e->valuestring) {
            report(x, ep, "must be a string");
            continue;
        }
        bit = em_conf_dataset_bit(e->valuestring);
        if (!bit)
            report(x, ep, "unknown dataset '%s' (expected pms, mppt, inverter or site)",
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
        rc = check_url(url, "mqtt", "mqtts", 0, 0, err, sizeof err);
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
        rc = check_url(url, "http", "https", 1, 0, err, sizeof err);
        break;
    case T_HTTP:
        rc = check_url(url, "http", "https", 1, 1, err, sizeof err);
        break;
    case T_NATS:
        rc = check_url(url, "nats", "tls", 0, 0, err, sizeof err);
        break;
    default:
        return;
    }
    if (rc < 0)
        report(x, path, "%s", err);
}

static void check_tmpl_field(struct ctx *x, const char *path, const char *key,
                             const char *v, int mqtt_topic)
{
    char p[PATH_LEN], err[200];

    join(p, path, key);
    if (check_template(v, err, sizeof err) < 0)
        report(x, p, "%s", err);
    else if (mqtt_topic && strpbrk(v, "+#"))
        report(x, p, "must not contain the MQTT wildcards '+' or '#'");
}

/* Two ways to give one secret are a mistake, never a fallback. */
static void exclusive(struct ctx *x, const char *path, const char *a, const char *b,
                      const char *va, const char *vb)
{
    char p[PATH_LEN];

    if (va && vb) {
        join(p, path, b);
        report(x, p, "cannot be used together with %s", a);
    }
}

/*
 * Kafka's brokers: `bootstrap_servers` (or `bootstrapServers`), required, a
 * comma-separated list of HOST:PORT as librdkafka takes it.
 */
static void parse_bootstrap(struct ctx *x, const cJSON *o, const char *path,
                            struct em_pub_conf *pc)
{
    const char *key = get(o, "bootstrapServers") ? "bootstrapServers" : "bootstrap_servers";
    char p[PATH_LEN], err[200];

    join(p, path, key);
    if (get(o, "bootstrapServers") && get(o, "bootstrap_servers")) {
        report(x, p, "cannot be used together with bootstrap_servers");
        return;
    }
    if (req_str(x, o, path, key, &pc->bootstrap_servers) <= 0)
        return;
    for (const char *a = pc->bootstrap_servers;;) {
        char host[EM_BUSADDR_HOST_MAX];
        size_t n = strcspn(a, ",");
        int port;

        while (n && *a == ' ')
            a++, n--;
        if (n == 0 || em_busaddr_parse_hostport(a, n, host, sizeof host, &port, 0, err,
                                                sizeof err) < 0 ||
            port == 0) {
            report(x, p, "'%.*s': expected HOST:PORT[,HOST:PORT...]", (int)(n > 60 ? 60 : n),
                   a);
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
static void parse_pub(struct ctx *x, const cJSON *o, const char *path, const char *kind,
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
        report(x, path, *path ? "must be an object" : "must be a JSON object");
        return;
    }
    t = get(o, "type");
    join(p, path, "type");
    if (kind) {
        type = kind;
        if (t &&
            !(cJSON_IsString(t) && t->valuestring && strcmp(t->valuestring, kind) == 0))
            report(x, p, "must be \"%s\" or left out", kind);
    } else if (!t) {
        report(x, p, "missing");
    } else if (!cJSON_IsString(t) || !t->valuestring) {
        report(x, p, "must be a string");
    } else if (!type_bit(t->valuestring)) {
        report(x, p, "unknown publisher type '%s' (expected " PUB_TYPES_TEXT ")",
               t->valuestring);
    } else {
        type = t->valuestring;
    }
    tbit = type_bit(type);
    if (type)
        pc->type = sdup(x, p, type);
    check_pub_keys(x, o, path, tbit, type);

    if (kind && !get(o, "name"))
        pc->name = sdup(x, path, kind);
    else if (req_str(x, o, path, "name", &pc->name) > 0) {
        join(p, path, "name");
        check_ident(x, p, pc->name);
    }
    if (tbit == T_KAFKA)
        parse_bootstrap(x, o, path, pc);
    else if (req_str(x, o, path, "url", &pc->url) > 0) {
        join(p, path, "url");
        check_pub_url(x, p, tbit, pc->url);
    }

    if (opt_str(x, o, path, "topic", &pc->topic) > 0)
        check_tmpl_field(x, path, "topic", pc->topic, tbit == T_MQTT);
    if (opt_str(x, o, path, "channel", &pc->channel) > 0) {
        check_tmpl_field(x, path, "channel", pc->channel, 0);
        exclusive(x, path, "topic", "channel", pc->topic, pc->channel);
        if (!pc->topic)
            pc->topic = sdup(x, path, pc->channel);
    }
    if (!pc->topic && tbit && tbit != T_HTTP) {
        /* CONTRACT section 4 defaults. */
        join(p, path, "topic");
        pc->topic = sdup(
            x, p, tbit == T_MQTT ? "monitoring/{dataset}/{id}" : "monitoring.{dataset}");
    }
    if (tbit == T_KUBEMQ && pc->topic && !pc->channel) {
        join(p, path, "channel");
        pc->channel = sdup(x, p, pc->topic);
    }

    if (get(o, "qos")) {
        const cJSON *q = get(o, "qos");
        join(p, path, "qos");
        if (!cJSON_IsNumber(q) ||
            (q->valuedouble != 0 && q->valuedouble != 1 && q->valuedouble != 2))
            report(x, p, "must be 0, 1 or 2");
        else
            pc->qos = (int)q->valuedouble;
    }

    parse_datasets(x, o, path, &pc->datasets);

    if (opt_str(x, o, path, "mode", &pc->mode) > 0) {
        static const char *const rmodes[] = {"publish", "stream", NULL};
        static const char *const kmodes[] = {"queue", "events_store", NULL};
        static const char *const nmodes[] = {"jetstream", "core", NULL};
        join(p, path, "mode");
        if (tbit == T_REDIS && !one_of(pc->mode, rmodes))
            report(x, p, "unknown mode '%s' (expected publish or stream)", pc->mode);
        else if (tbit == T_KUBEMQ && !one_of(pc->mode, kmodes))
            report(x, p, "unknown mode '%s' (expected queue or events_store)", pc->mode);
        else if (tbit == T_NATS && !one_of(pc->mode, nmodes))
            report(x, p, "unknown mode '%s' (expected jetstream or core)", pc->mode);
    } else if (tbit == T_REDIS || tbit == T_KUBEMQ || tbit == T_NATS) {
        join(p, path, "mode");
        pc->mode = sdup(x, p,
                        tbit == T_REDIS ? "publish" : tbit == T_KUBEMQ ? "queue" : "jetstream");
    }

    opt_str(x, o, path, "username", &pc->username);
    opt_str(x, o, path, "password", &pc->password);
    if (opt_str(x, o, path, "password_file", &pc->password_file) > 0) {
        join(p, path, "password_file");
        if (pc->password)
            report(x, p, "cannot be used together with password");
        else
            check_file(x, p, pc->password_file);
    }
    opt_str(x, o, path, "token", &pc->token);
    if (opt_str(x, o, path, "token_file", &pc->token_file) > 0) {
        join(p, path, "token_file");
        if (pc->token)
            report(x, p, "cannot be used together with token");
        else
            check_file(x, p, pc->token_file);
    }
    if (opt_str(x, o, path, "ca_file", &pc->ca_file) > 0) {
        join(p, path, "ca_file");
        check_file(x, p, pc->ca_file);
    }
    if (opt_str(x, o, path, "cert_file", &pc->cert_file) > 0) {
        join(p, path, "cert_file");
        check_file(x, p, pc->cert_file);
    }
    if (opt_str(x, o, path, "key_file", &pc->key_file) > 0) {
        join(p, path, "key_file");
        check_file(x, p, pc->key_file);
    }
    if (!!get(o, "cert_file") != !!get(o, "key_file")) {
        join(p, path, get(o, "cert_file") ? "key_file" : "cert_file");
        report(x, p, "missing (cert_file and key_file go together)");
    }
    opt_bool(x, o, path, "tls_verify", &pc->tls_verify);
    int_or(x, o, path, "timeout_ms", 100, 120000, 5000, &pc->timeout_ms);
    int_or(x, o, path, "window", 1, 65535, 64, &pc->window);
    v = 100000;
    if (opt_int(x, o, path, "stream_maxlen", 1, 1000000000, &v) > 0)
        pc->stream_maxlen = (long)v;
    if (opt_str(x, o, path, "client_id", &pc->client_id) > 0)
        check_tmpl_field(x, path, "client_id", pc->client_id, 0);
    /* kubemq: up to 100 messages per /queue/send_batch; http: one message per POST. */
    int_or(x, o, path, "batch", 1, 1000, tbit == T_KUBEMQ ? 100 : 1, &pc->batch);
    opt_bool(x, o, path, "gzip", &pc->gzip);
    opt_bool(x, o, path, "ordered", &pc->ordered);
    opt_bool(x, o, path, "idempotence", &pc->idempotence);
    if (opt_str(x, o, path, "stream", &pc->stream) > 0) {
        join(p, path, "stream");
        check_ident(x, p, pc->stream);
    } else if (tbit == T_NATS) {
        join(p, path, "stream");
        pc->stream = sdup(x, p, "monitoring");
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
    report(x, path, "out of memory");
    em_conf_pub_release(pc);
    return -1;
}

static void parse_publishers(struct ctx *x, const cJSON *root, struct em_conf *c,
                             struct pub_where **where)
{
    const cJSON *ps = get(root, "publishers");
    char p[PATH_LEN];
    size_t i = 0;

    if (!ps)
        return;
    if (!cJSON_IsArray(ps)) {
        report(x, "publishers", "must be an array");
        return;
    }
    for (const cJSON *o = ps->child; o; o = o->next, i++) {
        struct em_pub_conf pc;
        memset(&pc, 0, sizeof pc);
        index_path(p, "publishers", i);
        parse_pub(x, o, p, NULL, &pc);
        pub_append(x, c, where, &pc, p);
    }
}

/*
 * brokers.d/<KIND>.json replaces the publishers of type KIND from the main file:
 * `edgemon broker config KIND` means "this is the KIND broker", and running it
 * again must not add a second uplink.
 */
static void merge_brokers(struct ctx *x, struct em_conf *c, const char *cfg_path,
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
            report(x, "", "config path too long");
            return;
        }
        if (stat(file, &st) < 0 && errno == ENOENT)
            continue;
        snprintf(origin, sizeof origin, "brokers.d/%s.json", *k);
        x->origin = origin;
        text = em_read_file(file, &len, err, sizeof err);
        if (!text) {
            report(x, "", "%s", err);
            x->origin = saved;
            continue;
        }
        root = parse_json(x, text, len);
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
            parse_pub(x, root, "", *k, &pc);
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

/* ---- cross-check ---- */

static void format_serial(char *out, size_t n, const struct em_bus_addr *a)
{
    snprintf(out, n, "%d %d%c%d", a->baud, a->data_bits, a->parity, a->stop_bits);
}

static void check_devices(struct ctx *x, struct em_conf *c)
{
    char p[PATH_LEN], err[200];

    for (size_t i = 0; i < c->ndevices; i++) {
        struct em_dev_conf *d = &c->devices[i];
        int serial_reported = 0, unit_reported = 0;

        for (size_t j = 0; j < i && d->id; j++)
            if (c->devices[j].id && strcmp(c->devices[j].id, d->id) == 0) {
                snprintf(p, sizeof p, "devices[%zu].id", i);
                report(x, p, "duplicate device id '%s' (also devices[%zu])", d->id, j);
                break;
            }
        for (size_t j = 0; j < i && d->addr.kind; j++) {
            const struct em_dev_conf *o = &c->devices[j];
            if (!o->addr.kind || strcmp(o->bus_key, d->bus_key) != 0)
                continue;
            if (d->addr.kind == EM_BUS_RTU && !serial_reported &&
                !em_busaddr_same_serial(&o->addr, &d->addr)) {
                char s1[32], s2[32];
                format_serial(s1, sizeof s1, &o->addr);
                format_serial(s2, sizeof s2, &d->addr);
                snprintf(p, sizeof p, "devices[%zu].bus", i);
                report(x, p,
                       "bus '%s' used with different serial settings (devices[%zu]: %s, "
                       "here: %s)",
                       d->bus_key, j, s1, s2);
                serial_reported = 1;
            }
            if (!unit_reported && d->unit >= 0 && o->unit == d->unit) {
                snprintf(p, sizeof p, "devices[%zu].unit", i);
                report(x, p, "unit %d is already used on bus '%s' by devices[%zu]",
                       d->unit, d->bus_key, j);
                unit_reported = 1;
            }
        }
        if (d->profile && d->driver) {
            snprintf(p, sizeof p, "devices[%zu].profile", i);
            err[0] = '\0';
            d->prof = em_profile_load(d->profile, err, sizeof err);
            if (!d->prof)
                report(x, p, "%s", err[0] ? err : "cannot load profile");
            else if (!d->prof->driver || strcmp(d->prof->driver, d->driver) != 0)
                report(x, p, "profile '%s' is for driver '%s', not '%s'", d->profile,
                       d->prof->driver ? d->prof->driver : "(none)", d->driver);
        }
    }
}

static void check_publishers(struct ctx *x, struct em_conf *c, const struct pub_where *w)
{
    const char *saved = x->origin;
    char p[PATH_LEN];

    for (size_t i = 0; i < c->npublishers; i++) {
        const char *name = c->publishers[i].name;
        for (size_t j = 0; j < i && name; j++) {
            if (!c->publishers[j].name || strcmp(c->publishers[j].name, name) != 0)
                continue;
            x->origin = w[i].origin;
            join(p, w[i].path, "name");
            report(x, p, "duplicate publisher name '%s' (also %s%s%s)", name, w[j].origin,
                   *w[j].origin && *w[j].path ? ": " : "", w[j].path);
            x->origin = saved;
            break;
        }
    }
}

/* ---- entry points ---- */

static struct em_conf *build(const char *json, size_t len, const char *path,
                             struct em_errors *errs)
{
    static const char *const root_keys[] = {"agent",    "devices", "queue", "publishers",
                                            "features", "http",    NULL};
    struct ctx x = {errs, 0, ""};
    struct pub_where *where = NULL;
    struct em_conf *c;
    cJSON *root = NULL;

    c = calloc(1, sizeof *c);
    if (!c) {
        report(&x, "", "out of memory");
        return NULL;
    }
    if (path && !(c->path = sdup(&x, "", path)))
        goto done;
    root = parse_json(&x, json, len);
    if (!root)
        goto done;
    if (!cJSON_IsObject(root)) {
        report(&x, "", "the configuration must be a JSON object");
        goto done;
    }
    check_keys(&x, root, "", root_keys);
    parse_agent(&x, root, c);
    parse_devices(&x, root, c);
    parse_queue(&x, root, c);
    parse_publishers(&x, root, c, &where);
    parse_features(&x, root, c);
    parse_http(&x, root, c);
    if (path)
        merge_brokers(&x, c, path, &where);
    check_devices(&x, c);
    check_publishers(&x, c, where);

done:
    cJSON_Delete(root);
    free(where);
    if (x.nerr) {
        em_conf_free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->npublishers; i++) {
        c->publishers[i].agent = c->agent.id;
        c->publishers[i].site = c->agent.site;
    }
    return c;
}

struct em_conf *em_conf_parse(const char *json, size_t len, struct em_errors *errs)
{
    return build(json, len, NULL, errs);
}

struct em_conf *em_conf_load(const char *path, struct em_errors *errs)
{
    char err[EM_ERROR_LEN];
    struct em_conf *c;
    size_t len;
    char *text = em_read_file(path, &len, err, sizeof err);

    if (!text) {
        em_errors_add(errs, "%s", err);
        return NULL;
    }
    c = build(text, len, path, errs);
    free(text);
    return c;
}

int em_conf_check_broker(const char *kind, const char *json, size_t len,
                         const char *origin, struct em_errors *errs,
                         struct em_pub_conf *out)
{
    struct ctx x = {errs, 0, origin ? origin : ""};
    struct em_pub_conf pc;
    cJSON *root;

    memset(&pc, 0, sizeof pc);
    if (out)
        memset(out, 0, sizeof *out);
    if (!em_conf_pub_type_known(kind))
        return -2;
    root = parse_json(&x, json, len);
    if (root) {
        parse_pub(&x, root, "", kind, &pc);
        cJSON_Delete(root);
    }
    if (x.nerr) {
        em_conf_pub_release(&pc);
        return -1;
    }
    if (out)
        *out = pc;
    else
        em_conf_pub_release(&pc);
    return 0;
}

void em_conf_free(struct em_conf *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->agent.id);
    free(c->agent.site);
    free(c->agent.state_dir);
    for (size_t i = 0; i < c->ndevices; i++) {
        struct em_dev_conf *d = &c->devices[i];
        free(d->id);
        free(d->driver);
        free(d->profile);
        free(d->bus);
        em_profile_free(d->prof);
    }
    free(c->devices);
    free(c->queue.url);
    for (size_t i = 0; i < c->npublishers; i++)
        em_conf_pub_release(&c->publishers[i]);
    free(c->publishers);
    free(c->features.topic);
    free(c->features.url);
    free(c->http.listen);
    free(c->http.token_file);
    free(c);
}

int em_conf_check(const char *path, FILE *out, FILE *errout)
{
    struct em_errors e;
    struct em_conf *c;

    em_errors_init(&e);
    c = em_conf_load(path, &e);
    if (!c) {
        em_errors_print(&e, errout);
        return 1;
    }
    /* What only this build can tell: whether each publisher type is compiled in. */
    for (size_t i = 0; i < c->npublishers; i++)
        if (!em_publisher_find(c->publishers[i].type))
            em_errors_add(&e, "publishers[%zu].type: '%s' is not compiled into this build", i,
                          c->publishers[i].type);
    em_conf_free(c);
    if (e.n) {
        em_errors_print(&e, errout);
        return 1;
    }
    fprintf(out, "configuration OK\n");
    return 0;
}

const struct em_dev_conf *em_conf_device(const struct em_conf *c, const char *id)
{
    for (size_t i = 0; c && id && i < c->ndevices; i++)
        if (strcmp(c->devices[i].id, id) == 0)
            return &c->devices[i];
    return NULL;
}
