/* ops.c - the operator's view of the agent: a small locked snapshot the HTTP thread reads.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "ops.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device.h"
#include "message.h"

/* Poll latency buckets (seconds): Modbus answers take 10 ms (TCP) to about a
 * second (a long RTU read at 9600 baud); timeouts default to 500 ms. */
static const double lat_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NLAT (sizeof lat_bounds / sizeof lat_bounds[0])

struct dev_snap {
    const struct em_dev_conf *conf;
    size_t bus;            /* index into buses */
    int polled, up, last_errno;
    int disabled;          /* feature device.<id> false: not polled */
    int64_t last_poll_ms;  /* wall clock of the last poll, answered or not */
    uint64_t ok, partial, failed;
    int64_t last_ok_ms;    /* wall clock of the last reading */
    char *msg;             /* owned, EM_MSG_MAX bytes */
    size_t len;            /* 0 = no reading yet */
};

struct bus_snap {
    const char *key;       /* borrowed from the first device's conf */
    uint64_t buckets[NLAT + 1];
    uint64_t count;
    double sum_s;
};

struct pub_snap {
    const struct em_pub_conf *conf;
    int known, up;
    struct em_qstats st;
    uint64_t published, deadletter;
};

struct hpoint {
    int64_t ts_ms;
    double pv, battery, load;
};

struct site_sum {
    double pv, battery, load, ac, soc_pms, soc_mppt;
    int npv, nbattery, nload, nac, nsoc_pms, nsoc_mppt, ok, total;
};

struct em_ops {
    pthread_mutex_t lock;
    pthread_cond_t polled; /* a device finished a poll (snapshots wait on it) */
    const struct em_conf *conf;
    char boot[32];
    int64_t start_mono;
    struct dev_snap *devs;
    size_t ndevs;
    struct bus_snap *buses;
    size_t nbuses;
    struct pub_snap *pubs;
    size_t npubs;
    struct hpoint hist[EM_OPS_HISTORY_LEN];
    size_t hhead, hcount;
    int64_t last_sample;
    char *features;        /* owned: the active flag set as JSON, NULL = none yet */
    unsigned datasets_off; /* feature dataset.<name> false (EM_DS_BIT_*) */
};

/* ---- text buffer ---- */

static int sb_grow(struct em_sb *b, size_t need)
{
    if (b->oom)
        return -1;
    if (b->n + need + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + need + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void em_sb_put(struct em_sb *b, const char *s, size_t n)
{
    if (sb_grow(b, n) < 0)
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void em_sb_printf(struct em_sb *b, const char *fmt, ...)
{
    va_list ap;
    char tmp[512];
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        em_sb_put(b, tmp, (size_t)n);
        return;
    }
    if (sb_grow(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

void em_sb_json_str(struct em_sb *b, const char *s)
{
    em_sb_put(b, "\"", 1);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            em_sb_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            em_sb_printf(b, "\\u%04x", ch);
        else
            em_sb_put(b, s, 1);
    }
    em_sb_put(b, "\"", 1);
}

void em_sb_release(struct em_sb *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void sb_label(struct em_sb *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '"')
            em_sb_printf(b, "\\%c", *s);
        else if (*s == '\n')
            em_sb_put(b, "\\n", 2);
        else
            em_sb_put(b, s, 1);
    }
}

/* ---- lifecycle ---- */

struct em_ops *em_ops_new(const struct em_conf *conf, const char *boot)
{
    struct em_ops *o = calloc(1, sizeof *o);
    if (!o)
        goto oom;
    pthread_mutex_init(&o->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&o->polled, &ca);
    pthread_condattr_destroy(&ca);
    o->conf = conf;
    snprintf(o->boot, sizeof o->boot, "%s", boot ? boot : "");
    o->start_mono = em_mono_ms();
    o->devs = calloc(conf->ndevices ? conf->ndevices : 1, sizeof *o->devs);
    o->buses = calloc(conf->ndevices ? conf->ndevices : 1, sizeof *o->buses);
    o->pubs = calloc(conf->npublishers ? conf->npublishers : 1, sizeof *o->pubs);
    if (!o->devs || !o->buses || !o->pubs)
        goto oom;
    for (size_t i = 0; i < conf->ndevices; i++) {
        struct dev_snap *d = &o->devs[i];
        d->conf = &conf->devices[i];
        if (!(d->msg = malloc(EM_MSG_MAX)))
            goto oom;
        o->ndevs++;
        size_t k = 0;
        while (k < o->nbuses && strcmp(o->buses[k].key, d->conf->bus_key) != 0)
            k++;
        if (k == o->nbuses)
            o->buses[o->nbuses++].key = d->conf->bus_key;
        d->bus = k;
    }
    for (size_t i = 0; i < conf->npublishers; i++)
        o->pubs[i].conf = &conf->publishers[i];
    o->npubs = conf->npublishers;
    return o;
oom:
    em_ops_free(o);
    errno = ENOMEM;
    return NULL;
}

void em_ops_free(struct em_ops *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->ndevs; i++)
        free(o->devs[i].msg);
    free(o->devs);
    free(o->buses);
    free(o->pubs);
    free(o->features);
    pthread_cond_destroy(&o->polled);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

/* ---- updates ---- */

void em_ops_device(struct em_ops *o, size_t dev, const char *msg, size_t len, int err,
                   int64_t latency_ms)
{
    if (!o || dev >= o->ndevs)
        return;
    pthread_mutex_lock(&o->lock);
    struct dev_snap *d = &o->devs[dev];
    struct bus_snap *b = &o->buses[d->bus];
    double s = latency_ms / 1000.0;
    size_t k = 0;
    while (k < NLAT && s > lat_bounds[k])
        k++;
    b->buckets[k]++;
    b->count++;
    b->sum_s += s;
    d->polled = 1;
    /* When the poll started: a snapshot wants readings taken after its request. */
    d->last_poll_ms = em_wall_ms() - latency_ms;
    if (msg && len < EM_MSG_MAX) {
        memcpy(d->msg, msg, len);
        d->msg[len] = 0;
        d->len = len;
        d->up = 1;
        d->last_ok_ms = d->last_poll_ms;
        if (memmem(msg, len, "\"quality\":\"partial\"", 19))
            d->partial++;
        else
            d->ok++;
    } else {
        d->up = 0;
        d->failed++;
        d->last_errno = msg ? EMSGSIZE : err;
    }
    pthread_cond_broadcast(&o->polled);
    pthread_mutex_unlock(&o->lock);
}

void em_ops_publisher(struct em_ops *o, size_t pub, int up, const struct em_qstats *st,
                      uint64_t published, uint64_t deadletter)
{
    if (!o || pub >= o->npubs)
        return;
    pthread_mutex_lock(&o->lock);
    struct pub_snap *p = &o->pubs[pub];
    p->known = 1;
    p->up = up;
    if (st)
        p->st = *st;
    p->published = published;
    p->deadletter = deadletter;
    pthread_mutex_unlock(&o->lock);
}

void em_ops_device_enabled(struct em_ops *o, size_t dev, int on)
{
    if (!o || dev >= o->ndevs)
        return;
    pthread_mutex_lock(&o->lock);
    o->devs[dev].disabled = !on;
    pthread_cond_broadcast(&o->polled); /* a snapshot stops waiting for it */
    pthread_mutex_unlock(&o->lock);
}

void em_ops_features(struct em_ops *o, const char *active, unsigned datasets_off)
{
    if (!o)
        return;
    char *copy = strdup(active);
    pthread_mutex_lock(&o->lock);
    if (copy) {
        free(o->features);
        o->features = copy;
    }
    o->datasets_off = datasets_off;
    pthread_mutex_unlock(&o->lock);
}

void em_ops_render_features(struct em_ops *o, struct em_sb *b)
{
    pthread_mutex_lock(&o->lock);
    em_sb_printf(b, "{\"features\":%s}\n", o->features ? o->features : "{}");
    pthread_mutex_unlock(&o->lock);
}

static double num(const cJSON *values, const char *key, int *have)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(values, key);
    if (!cJSON_IsNumber(v)) {
        *have = 0;
        return 0;
    }
    *have = 1;
    return v->valuedouble;
}

/* A device counts in a gathering when its last poll answered, at `since` or later. */
static int fresh(const struct dev_snap *d, int64_t since)
{
    return d->up && d->len && d->last_ok_ms >= since;
}

/* Sum the readings taken since `since` (wall ms; lock held). */
static void gather(struct em_ops *o, struct site_sum *s, int64_t since)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < o->ndevs; i++) {
        struct dev_snap *d = &o->devs[i];
        if (d->disabled)
            continue; /* switched off by a flag: neither expected nor missing */
        s->total++;
        if (!fresh(d, since))
            continue;
        s->ok++;
        cJSON *m = cJSON_ParseWithLength(d->msg, d->len);
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(m, "values");
        const char *ds = d->conf->driver;
        int h;
        double x;
        if (strcmp(ds, "mppt") == 0) {
            x = num(vals, "pv_power_w", &h);
            s->pv += x, s->npv += h;
            x = num(vals, "load_power_w", &h);
            s->load += x, s->nload += h;
            x = num(vals, "soc_pct", &h);
            s->soc_mppt += x, s->nsoc_mppt += h;
        } else if (strcmp(ds, "pms") == 0) {
            x = num(vals, "power_w", &h);
            s->battery += x, s->nbattery += h;
            x = num(vals, "soc_pct", &h);
            s->soc_pms += x, s->nsoc_pms += h;
        } else if (strcmp(ds, "inverter") == 0) {
            x = num(vals, "ac_power_w", &h);
            s->ac += x, s->nac += h;
            s->load += x, s->nload += h;
        }
        cJSON_Delete(m);
    }
}

void em_ops_tick(struct em_ops *o)
{
    if (!o)
        return;
    int64_t now = em_wall_ms();
    pthread_mutex_lock(&o->lock);
    if (o->hcount && now - o->last_sample < EM_OPS_HISTORY_STEP_S * 1000) {
        pthread_mutex_unlock(&o->lock);
        return;
    }
    struct site_sum s;
    gather(o, &s, 0);
    if (s.npv + s.nbattery + s.nload > 0) {
        size_t at = (o->hhead + o->hcount) % EM_OPS_HISTORY_LEN;
        if (o->hcount == EM_OPS_HISTORY_LEN)
            o->hhead = (o->hhead + 1) % EM_OPS_HISTORY_LEN;
        else
            o->hcount++;
        o->hist[at] = (struct hpoint){now, s.pv, s.battery, s.load};
        o->last_sample = now;
    }
    pthread_mutex_unlock(&o->lock);
}

/* ---- answers ---- */

static const char *ds_names[] = {"pms", "mppt", "inverter", "site"};
static const unsigned ds_bits[] = {EM_DS_BIT_PMS, EM_DS_BIT_MPPT, EM_DS_BIT_INVERTER,
                                   EM_DS_BIT_SITE};

void em_ops_render_status(struct em_ops *o, struct em_sb *b)
{
    pthread_mutex_lock(&o->lock);
    const struct em_conf *c = o->conf;
    em_sb_printf(b, "{\"agent\":");
    em_sb_json_str(b, c->agent.id);
    em_sb_printf(b, ",\"site\":");
    em_sb_json_str(b, c->agent.site);
    em_sb_printf(b, ",\"version\":\"%s\",\"boot\":", EM_VERSION);
    em_sb_json_str(b, o->boot);
    em_sb_printf(b, ",\"uptime_s\":%lld,\"ts\":%lld,\"devices\":[",
                 (long long)((em_mono_ms() - o->start_mono) / 1000), (long long)em_wall_ms());
    for (size_t i = 0; i < o->ndevs; i++) {
        struct dev_snap *d = &o->devs[i];
        em_sb_printf(b, "%s{\"id\":", i ? "," : "");
        em_sb_json_str(b, d->conf->id);
        em_sb_printf(b, ",\"driver\":\"%s\",\"bus\":", d->conf->driver);
        em_sb_json_str(b, d->conf->bus);
        em_sb_printf(b, ",\"state\":\"%s\",\"up\":%s,\"last_error\":",
                     d->disabled ? "disabled" : !d->polled ? "starting" : d->up ? "up" : "down",
                     d->up ? "true" : "false");
        if (d->polled && !d->up)
            em_sb_json_str(b, em_strerror(d->last_errno));
        else
            em_sb_printf(b, "null");
        em_sb_printf(b,
                     ",\"last_reading_ts\":%lld,\"polls\":{\"ok\":%llu,\"partial\":%llu,"
                     "\"error\":%llu}}",
                     (long long)d->last_ok_ms, (unsigned long long)d->ok,
                     (unsigned long long)d->partial, (unsigned long long)d->failed);
    }
    em_sb_printf(b, "],\"publishers\":[");
    for (size_t i = 0; i < o->npubs; i++) {
        struct pub_snap *p = &o->pubs[i];
        em_sb_printf(b, "%s{\"name\":", i ? "," : "");
        em_sb_json_str(b, p->conf->name);
        em_sb_printf(b, ",\"type\":\"%s\",\"state\":\"%s\",\"up\":%s,\"pending\":%lld,"
                        "\"oldest_age_s\":%lld,\"published\":%llu,\"dropped\":%lld,"
                        "\"dead_letter\":%llu,\"datasets\":[",
                     p->conf->type, !p->known ? "starting" : p->up ? "up" : "down",
                     p->up ? "true" : "false", p->st.pending, p->st.oldest_age_s,
                     (unsigned long long)p->published, p->st.dropped,
                     (unsigned long long)p->deadletter);
        int first = 1;
        for (size_t k = 0; k < 4; k++)
            if (p->conf->datasets & ds_bits[k]) {
                em_sb_printf(b, "%s\"%s\"", first ? "" : ",", ds_names[k]);
                first = 0;
            }
        em_sb_printf(b, "]}");
    }
    /* The routing map: where each dataset goes, and how each way is doing. */
    em_sb_printf(b, "],\"routing\":[");
    for (size_t k = 0; k < 4; k++) {
        em_sb_printf(b, "%s{\"dataset\":\"%s\",\"published\":%s,\"devices\":[", k ? "," : "",
                     ds_names[k], o->datasets_off & ds_bits[k] ? "false" : "true");
        int first = 1;
        for (size_t i = 0; i < o->ndevs && k < 3; i++)
            if (strcmp(o->devs[i].conf->driver, ds_names[k]) == 0) {
                em_sb_printf(b, "%s", first ? "" : ",");
                em_sb_json_str(b, o->devs[i].conf->id);
                first = 0;
            }
        em_sb_printf(b, "],\"publishers\":[");
        first = 1;
        for (size_t i = 0; i < o->npubs; i++) {
            struct pub_snap *p = &o->pubs[i];
            if (!(p->conf->datasets & ds_bits[k]))
                continue;
            em_sb_printf(b, "%s{\"name\":", first ? "" : ",");
            em_sb_json_str(b, p->conf->name);
            em_sb_printf(b, ",\"state\":\"%s\",\"pending\":%lld}",
                         !p->known ? "starting" : p->up ? "up" : "down", p->st.pending);
            first = 0;
        }
        em_sb_printf(b, "]}");
    }
    em_sb_printf(b, "]}\n");
    pthread_mutex_unlock(&o->lock);
}

void em_ops_render_latest(struct em_ops *o, struct em_sb *b)
{
    pthread_mutex_lock(&o->lock);
    em_sb_printf(b, "{\"agent\":");
    em_sb_json_str(b, o->conf->agent.id);
    em_sb_printf(b, ",\"ts\":%lld,\"devices\":{", (long long)em_wall_ms());
    for (size_t i = 0; i < o->ndevs; i++) {
        struct dev_snap *d = &o->devs[i];
        em_sb_printf(b, "%s", i ? "," : "");
        em_sb_json_str(b, d->conf->id);
        em_sb_put(b, ":", 1);
        if (d->len)
            em_sb_put(b, d->msg, d->len);
        else
            em_sb_printf(b, "null");
    }
    em_sb_printf(b, "}}\n");
    pthread_mutex_unlock(&o->lock);
}

void em_ops_render_history(struct em_ops *o, struct em_sb *b)
{
    pthread_mutex_lock(&o->lock);
    em_sb_printf(b, "{\"step_s\":%d,\"columns\":[\"ts\",\"pv_power_w\",\"battery_power_w\","
                    "\"load_power_w\"],\"points\":[",
                 EM_OPS_HISTORY_STEP_S);
    for (size_t k = 0; k < o->hcount; k++) {
        const struct hpoint *h = &o->hist[(o->hhead + k) % EM_OPS_HISTORY_LEN];
        em_sb_printf(b, "%s[%lld,%.1f,%.1f,%.1f]", k ? "," : "", (long long)h->ts_ms, h->pv,
                     h->battery, h->load);
    }
    em_sb_printf(b, "]}\n");
    pthread_mutex_unlock(&o->lock);
}

/* "values":{...} of a site message from the readings since `since` (lock held). */
static void site_values(struct em_ops *o, struct em_sb *b, int64_t since, int *ok, int *total)
{
    struct site_sum s;
    gather(o, &s, since);
    int first = 1;
#define FIELD(name, have, val)                                                          \
    do {                                                                                \
        if (have) {                                                                     \
            em_sb_printf(b, "%s\"" name "\":%.1f", first ? "" : ",", (double)(val));    \
            first = 0;                                                                  \
        }                                                                               \
    } while (0)
    FIELD("pv_power_w", s.npv, s.pv);
    if (s.nsoc_pms)
        FIELD("battery_soc_pct", 1, s.soc_pms / s.nsoc_pms);
    else
        FIELD("battery_soc_pct", s.nsoc_mppt, s.nsoc_mppt ? s.soc_mppt / s.nsoc_mppt : 0);
    FIELD("battery_power_w", s.nbattery, s.battery);
    FIELD("load_power_w", s.nload, s.load);
    FIELD("ac_power_w", s.nac, s.ac);
#undef FIELD
    em_sb_printf(b, "%s\"devices_ok\":%d,\"devices_total\":%d", first ? "" : ",", s.ok,
                 s.total);
    if (ok)
        *ok = s.ok;
    if (total)
        *total = s.total;
}

void em_ops_render_site_values(struct em_ops *o, struct em_sb *b, int *ok, int *total)
{
    pthread_mutex_lock(&o->lock);
    site_values(o, b, 0, ok, total);
    pthread_mutex_unlock(&o->lock);
}

/* A whole site message (lock held); with_devices adds each fresh device's message. */
static void site_message(struct em_ops *o, struct em_sb *b, uint64_t seq, int64_t since,
                         int with_devices)
{
    const struct em_conf *c = o->conf;
    struct em_sb v = {0};
    int ok = 0, total = 0;
    site_values(o, &v, since, &ok, &total);
    em_sb_printf(b, "{\"schema\":\"edgemon/1\",\"dataset\":\"site\",\"id\":");
    em_sb_json_str(b, c->agent.id);
    em_sb_printf(b, ",\"agent\":");
    em_sb_json_str(b, c->agent.id);
    em_sb_printf(b, ",\"site\":");
    em_sb_json_str(b, c->agent.site);
    em_sb_printf(b, ",\"seq\":%llu,\"boot\":", (unsigned long long)seq);
    em_sb_json_str(b, o->boot);
    em_sb_printf(b, ",\"ts\":%lld,\"quality\":\"%s\",\"values\":{%s}", (long long)em_wall_ms(),
                 ok == total ? "ok" : "partial", v.p ? v.p : "");
    if (v.oom)
        b->oom = 1;
    em_sb_release(&v);
    em_sb_printf(b, ",\"missing\":[");
    int first = 1;
    for (size_t i = 0; i < o->ndevs; i++)
        if (!o->devs[i].disabled && !fresh(&o->devs[i], since)) {
            em_sb_printf(b, "%s", first ? "" : ",");
            em_sb_json_str(b, o->devs[i].conf->id);
            first = 0;
        }
    em_sb_printf(b, "]");
    if (with_devices) {
        em_sb_printf(b, ",\"devices\":{");
        first = 1;
        for (size_t i = 0; i < o->ndevs; i++) {
            struct dev_snap *d = &o->devs[i];
            if (d->disabled || !fresh(d, since))
                continue;
            em_sb_printf(b, "%s", first ? "" : ",");
            em_sb_json_str(b, d->conf->id);
            em_sb_put(b, ":", 1);
            em_sb_put(b, d->msg, d->len);
            first = 0;
        }
        em_sb_printf(b, "}");
    }
    em_sb_printf(b, "}");
}

void em_ops_snapshot(struct em_ops *o, void (*trigger)(void *), void *arg, int timeout_ms,
                     struct em_sb *b)
{
    int64_t t0 = em_wall_ms(), deadline = em_mono_ms() + timeout_ms;
    pthread_mutex_lock(&o->lock);
    trigger(arg);
    for (;;) {
        size_t waiting = 0;
        for (size_t i = 0; i < o->ndevs; i++)
            waiting += !o->devs[i].disabled && o->devs[i].last_poll_ms < t0;
        int64_t now = em_mono_ms();
        if (!waiting || now >= deadline)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (deadline - now) * 1000000LL;
        ts.tv_sec += ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&o->polled, &o->lock, &ts);
    }
    site_message(o, b, 0, t0, 1);
    em_sb_put(b, "\n", 1);
    pthread_mutex_unlock(&o->lock);
}

int em_ops_site_message(struct em_ops *o, uint64_t seq, int64_t max_age_ms, char *out,
                        size_t outlen)
{
    struct em_sb b = {0};
    pthread_mutex_lock(&o->lock);
    site_message(o, &b, seq, em_wall_ms() - max_age_ms, 0);
    pthread_mutex_unlock(&o->lock);
    int n = -1;
    if (!b.oom && b.p && b.n < outlen) {
        memcpy(out, b.p, b.n + 1);
        n = (int)b.n;
    } else {
        errno = b.oom ? ENOMEM : ENOSPC;
    }
    em_sb_release(&b);
    return n;
}

void em_ops_render_metrics(struct em_ops *o, struct em_sb *b)
{
    pthread_mutex_lock(&o->lock);
    const struct em_conf *c = o->conf;
    em_sb_printf(b, "# HELP edgemon_info Build and identity of this agent.\n"
                    "# TYPE edgemon_info gauge\nedgemon_info{version=\"%s\",agent=\"",
                 EM_VERSION);
    sb_label(b, c->agent.id);
    em_sb_printf(b, "\",site=\"");
    sb_label(b, c->agent.site);
    em_sb_printf(b, "\"} 1\n# HELP edgemon_uptime_seconds Seconds since the agent started.\n"
                    "# TYPE edgemon_uptime_seconds gauge\nedgemon_uptime_seconds %lld\n",
                 (long long)((em_mono_ms() - o->start_mono) / 1000));

    em_sb_printf(b, "# HELP edgemon_polls_total Device polls by result (ok, partial, error).\n"
                    "# TYPE edgemon_polls_total counter\n");
    for (size_t i = 0; i < o->ndevs; i++) {
        struct dev_snap *d = &o->devs[i];
        static const char *res[] = {"ok", "partial", "error"};
        uint64_t v[] = {d->ok, d->partial, d->failed};
        for (size_t r = 0; r < 3; r++) {
            em_sb_printf(b, "edgemon_polls_total{device=\"");
            sb_label(b, d->conf->id);
            em_sb_printf(b, "\",result=\"%s\"} %llu\n", res[r], (unsigned long long)v[r]);
        }
    }
    em_sb_printf(b, "# HELP edgemon_device_up 1 when the device's last poll succeeded.\n"
                    "# TYPE edgemon_device_up gauge\n");
    for (size_t i = 0; i < o->ndevs; i++) {
        em_sb_printf(b, "edgemon_device_up{device=\"");
        sb_label(b, o->devs[i].conf->id);
        em_sb_printf(b, "\"} %d\n", o->devs[i].up);
    }
    em_sb_printf(b, "# HELP edgemon_poll_duration_seconds Time one device poll took, per bus.\n"
                    "# TYPE edgemon_poll_duration_seconds histogram\n");
    for (size_t i = 0; i < o->nbuses; i++) {
        struct bus_snap *bs = &o->buses[i];
        uint64_t cum = 0;
        for (size_t k = 0; k <= NLAT; k++) {
            cum += bs->buckets[k];
            em_sb_printf(b, "edgemon_poll_duration_seconds_bucket{bus=\"");
            sb_label(b, bs->key);
            if (k < NLAT)
                em_sb_printf(b, "\",le=\"%g\"} %llu\n", lat_bounds[k], (unsigned long long)cum);
            else
                em_sb_printf(b, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        em_sb_printf(b, "edgemon_poll_duration_seconds_sum{bus=\"");
        sb_label(b, bs->key);
        em_sb_printf(b, "\"} %.3f\nedgemon_poll_duration_seconds_count{bus=\"", bs->sum_s);
        sb_label(b, bs->key);
        em_sb_printf(b, "\"} %llu\n", (unsigned long long)bs->count);
    }

#define PUB_GAUGE(metric, help, type, fmt, expr)                                         \
    do {                                                                                 \
        em_sb_printf(b, "# HELP " metric " " help "\n# TYPE " metric " " type "\n");     \
        for (size_t i = 0; i < o->npubs; i++) {                                          \
            struct pub_snap *p = &o->pubs[i];                                            \
            em_sb_printf(b, metric "{publisher=\"");                                     \
            sb_label(b, p->conf->name);                                                  \
            em_sb_printf(b, "\"} " fmt "\n", expr);                                      \
        }                                                                                \
    } while (0)
    PUB_GAUGE("edgemon_publisher_up", "1 while the publisher's broker is connected.", "gauge",
              "%d", p->up);
    PUB_GAUGE("edgemon_queue_pending", "Readings queued for the publisher, not yet confirmed.",
              "gauge", "%lld", p->st.pending);
    PUB_GAUGE("edgemon_queue_oldest_age_seconds",
              "Age of the oldest reading waiting for the publisher.", "gauge", "%lld",
              p->st.oldest_age_s);
    PUB_GAUGE("edgemon_published_total", "Readings the publisher's broker confirmed.",
              "counter", "%llu", (unsigned long long)p->published);
#undef PUB_GAUGE
    em_sb_printf(b, "# HELP edgemon_dropped_total Readings given up for a publisher, by reason "
                    "(the queue's bounds, or dead_letter when the broker refused one).\n"
                    "# TYPE edgemon_dropped_total counter\n");
    for (size_t i = 0; i < o->npubs; i++) {
        struct pub_snap *p = &o->pubs[i];
        for (size_t r = 0; r <= p->st.nreasons && r < 5; r++) {
            const char *why = r < p->st.nreasons ? p->st.reason_names[r] : "dead_letter";
            long long v = r < p->st.nreasons ? p->st.dropped_by[r] : (long long)p->deadletter;
            em_sb_printf(b, "edgemon_dropped_total{publisher=\"");
            sb_label(b, p->conf->name);
            em_sb_printf(b, "\",reason=\"");
            sb_label(b, why ? why : "other");
            em_sb_printf(b, "\"} %lld\n", v);
        }
    }
    pthread_mutex_unlock(&o->lock);
}
