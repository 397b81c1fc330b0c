/* conf.c - the JSON configuration parsed into typed structs, validated and cross-checked:
 * the agent, devices, queue, features and http sections, the checks across them, and
 * the entry points of conf.h (publishers are in conf_pub.c, the tools in conf_json.c).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Every parse helper reports its own errors (with the JSON path) and carries on,
 * so one run finds every problem; the tree is thrown away at the end if anything
 * was reported. Plain libc allocation throughout.
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

#include "conf_int.h"

/* ---- sections ---- */

const cJSON *cf_section(struct ctx *x, const cJSON *root, const char *key, int required)
{
    const cJSON *s = cf_get(root, key);

    if (!s) {
        if (required)
            cf_report(x, key, "missing");
        return NULL;
    }
    if (!cJSON_IsObject(s)) {
        cf_report(x, key, "must be an object");
        return NULL;
    }
    return s;
}

static void parse_agent(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    static const char *const keys[] = {"id", "site", "state_dir", NULL};
    const cJSON *a = cf_section(x, root, "agent", 1);

    if (!a)
        return;
    cf_check_keys(x, a, "agent", keys);
    if (cf_req_str(x, a, "agent", "id", &c->agent.id) > 0)
        cf_check_ident(x, "agent.id", c->agent.id);
    if (cf_req_str(x, a, "agent", "site", &c->agent.site) > 0)
        cf_check_ident(x, "agent.site", c->agent.site);
    cf_str_or(x, a, "agent", "state_dir", EM_DEFAULT_STATE_DIR, &c->agent.state_dir);
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
        cf_report(x, path, "must be an object");
        return;
    }
    cf_check_keys(x, d, path, keys);
    if (cf_req_str(x, d, path, "id", &dev->id) > 0) {
        cf_join(p, path, "id");
        cf_check_ident(x, p, dev->id);
    }
    if (cf_req_str(x, d, path, "driver", &dev->driver) > 0 &&
        !cf_one_of(dev->driver, drivers)) {
        cf_join(p, path, "driver");
        cf_report(x, p, "unknown driver '%s' (expected pms, mppt or inverter)",
                  dev->driver);
        free(dev->driver);
        dev->driver = NULL;
    }
    cf_req_str(x, d, path, "profile", &dev->profile);
    if (cf_req_str(x, d, path, "bus", &dev->bus) > 0) {
        cf_join(p, path, "bus");
        if (em_busaddr_parse(dev->bus, &dev->addr, err, sizeof err) < 0)
            cf_report(x, p, "%s", err);
        else if (em_busaddr_key(&dev->addr, dev->bus_key, sizeof dev->bus_key) < 0)
            cf_report(x, p, "bus URL too long");
    }
    unit_rc = cf_opt_int(x, d, path, "unit", 0, 255, &unit);
    if (unit_rc >= 0) {
        /* Modbus RTU: 0 is broadcast, 248-255 reserved (Modbus over serial line 2.2). */
        if (dev->addr.kind == EM_BUS_RTU && (unit < 1 || unit > 247)) {
            cf_join(p, path, "unit");
            cf_report(x, p, "must be between 1 and 247 on an RTU bus");
        } else {
            dev->unit = (int)unit;
        }
    }
    cf_int_or(x, d, path, "interval_ms", 100, 3600000, 1000, &dev->interval_ms);
    cf_int_or(x, d, path, "timeout_ms", 10, 60000, 500, &dev->timeout_ms);
}

static void parse_devices(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    const cJSON *ds = cf_get(root, "devices");
    char p[PATH_LEN];
    size_t n, i = 0;

    if (!ds) {
        cf_report(x, "devices", "missing");
        return;
    }
    if (!cJSON_IsArray(ds)) {
        cf_report(x, "devices", "must be an array");
        return;
    }
    n = (size_t)cJSON_GetArraySize(ds);
    if (n == 0)
        return;
    c->devices = calloc(n, sizeof *c->devices);
    if (!c->devices) {
        cf_report(x, "devices", "out of memory");
        return;
    }
    c->ndevices = n;
    for (const cJSON *d = ds->child; d && i < n; d = d->next, i++) {
        cf_index_path(p, "devices", i);
        parse_device(x, d, p, &c->devices[i]);
    }
}

static void parse_queue(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    static const char *const keys[] = {
        "backend", "url", "max_messages", "max_age_s", "spool_max_bytes", NULL};
    struct em_queue_conf *q = &c->queue;
    const cJSON *s = cf_section(x, root, "queue", 0);
    char *backend = NULL, err[200];

    q->backend = EM_QUEUE_REDIS;
    q->max_messages = 1000000;
    q->max_age_s = 604800;
    q->spool_max_bytes = 64ll * 1024 * 1024;
    if (s) {
        cf_check_keys(x, s, "queue", keys);
        if (cf_opt_str(x, s, "queue", "backend", &backend) > 0) {
            if (strcmp(backend, "spool") == 0)
                q->backend = EM_QUEUE_SPOOL;
            else if (strcmp(backend, "redis") != 0)
                cf_report(x, "queue.backend",
                          "unknown backend '%s' (expected redis or spool)", backend);
            free(backend);
        }
        cf_opt_int(x, s, "queue", "max_messages", 1, 1000000000, &q->max_messages);
        cf_opt_int(x, s, "queue", "max_age_s", 1, 315360000, &q->max_age_s);
        cf_opt_int(x, s, "queue", "spool_max_bytes", 65536, 1ll << 40,
                   &q->spool_max_bytes);
    }
    if (s ? cf_str_or(x, s, "queue", "url", EM_DEFAULT_QUEUE_URL, &q->url) >= 0
          : (q->url = cf_sdup(x, "queue.url", EM_DEFAULT_QUEUE_URL)) != NULL) {
        if (em_busaddr_parse_redis(q->url, &q->redis, err, sizeof err) < 0)
            cf_report(x, "queue.url", "%s", err);
    }
}

static void parse_features(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    static const char *const keys[] = {"topic", "url", "poll_s", NULL};
    struct em_features_conf *f = &c->features;
    const cJSON *s = cf_section(x, root, "features", 0);
    char err[200];

    f->poll_s = 60;
    if (!s) {
        f->topic = cf_sdup(x, "features.topic", EM_DEFAULT_FEATURE_TOPIC);
        return;
    }
    cf_check_keys(x, s, "features", keys);
    if (cf_str_or(x, s, "features", "topic", EM_DEFAULT_FEATURE_TOPIC, &f->topic) > 0 &&
        strpbrk(f->topic, "+#"))
        cf_report(x, "features.topic", "must not contain the MQTT wildcards '+' or '#'");
    if (cf_opt_str(x, s, "features", "url", &f->url) > 0 &&
        cf_check_url(f->url, "http", "https", 1, 0, err, sizeof err) < 0)
        cf_report(x, "features.url", "%s", err);
    cf_int_or(x, s, "features", "poll_s", 1, 86400, 60, &f->poll_s);
}

static void parse_http(struct ctx *x, const cJSON *root, struct em_conf *c)
{
    static const char *const keys[] = {"listen", "token_file", NULL};
    struct em_http_conf *h = &c->http;
    const cJSON *s = cf_section(x, root, "http", 0);
    char err[200];

    if (!s)
        return;
    cf_check_keys(x, s, "http", keys);
    if (cf_req_str(x, s, "http", "listen", &h->listen) <= 0)
        return;
    if (em_busaddr_parse_hostport(h->listen, strlen(h->listen), h->host, sizeof h->host,
                                  &h->port, -1, err, sizeof err) < 0) {
        cf_report(x, "http.listen", "%s (expected HOST:PORT, e.g. 127.0.0.1:8080)", err);
        return;
    }
    /* Anyone on the network could read the site otherwise (agent/ops/httpd.h). */
    if (cf_opt_str(x, s, "http", "token_file", &h->token_file) == 0 &&
        !em_http_host_loopback(h->host))
        cf_report(x, "http.token_file", "required when http.listen is not a loopback address");
    h->enabled = 1;
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
                cf_report(x, p, "duplicate device id '%s' (also devices[%zu])", d->id, j);
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
                cf_report(
                    x, p,
                    "bus '%s' used with different serial settings (devices[%zu]: %s, "
                    "here: %s)",
                    d->bus_key, j, s1, s2);
                serial_reported = 1;
            }
            if (!unit_reported && d->unit >= 0 && o->unit == d->unit) {
                snprintf(p, sizeof p, "devices[%zu].unit", i);
                cf_report(x, p, "unit %d is already used on bus '%s' by devices[%zu]",
                          d->unit, d->bus_key, j);
                unit_reported = 1;
            }
        }
        if (d->profile && d->driver) {
            snprintf(p, sizeof p, "devices[%zu].profile", i);
            err[0] = '\0';
            d->prof = em_profile_load(d->profile, err, sizeof err);
            if (!d->prof)
                cf_report(x, p, "%s", err[0] ? err : "cannot load profile");
            else if (!d->prof->driver || strcmp(d->prof->driver, d->driver) != 0)
                cf_report(x, p, "profile '%s' is for driver '%s', not '%s'", d->profile,
                          d->prof->driver ? d->prof->driver : "(none)", d->driver);
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
        cf_report(&x, "", "out of memory");
        return NULL;
    }
    if (path && !(c->path = cf_sdup(&x, "", path)))
        goto done;
    root = cf_parse_json(&x, json, len);
    if (!root)
        goto done;
    if (!cJSON_IsObject(root)) {
        cf_report(&x, "", "the configuration must be a JSON object");
        goto done;
    }
    cf_check_keys(&x, root, "", root_keys);
    parse_agent(&x, root, c);
    parse_devices(&x, root, c);
    parse_queue(&x, root, c);
    cf_parse_publishers(&x, root, c, &where);
    parse_features(&x, root, c);
    parse_http(&x, root, c);
    if (path)
        cf_merge_brokers(&x, c, path, &where);
    check_devices(&x, c);
    cf_check_publishers(&x, c, where);

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
    root = cf_parse_json(&x, json, len);
    if (root) {
        cf_parse_pub(&x, root, "", kind, &pc);
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
            em_errors_add(&e,
                          "publishers[%zu].type: '%s' is not compiled into this build", i,
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
