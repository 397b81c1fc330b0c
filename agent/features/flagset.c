/* flagset.c - feature flag messages: parse, validate, and the active set.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Checked whole into a fresh set, so a message that fails half-way leaves nothing
 * applied: the caller swaps sets only on success.
 */
#include "flagset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "log.h"

#define POLL_MIN_MS 100
#define POLL_MAX_MS 3600000

struct em_features *em_features_new(const struct em_conf *conf)
{
    struct em_features *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->ndevices = conf->ndevices;
    f->devices_off = calloc(f->ndevices ? f->ndevices : 1, 1);
    if (!f->devices_off) {
        free(f);
        errno = ENOMEM;
        return NULL;
    }
    em_features_reset(f);
    return f;
}

void em_features_free(struct em_features *f)
{
    if (!f)
        return;
    free(f->devices_off);
    free(f);
}

void em_features_reset(struct em_features *f)
{
    f->datasets_off = 0;
    memset(f->devices_off, 0, f->ndevices);
    f->poll_interval_ms = 0;
    f->site_snapshot = 1;
    f->log_level = -1;
    f->nnames = 0;
    strcpy(f->active, "{}");
}

void em_features_copy(struct em_features *dst, const struct em_features *src)
{
    unsigned char *keep = dst->devices_off;
    size_t n = dst->ndevices < src->ndevices ? dst->ndevices : src->ndevices;
    memcpy(keep, src->devices_off, n);
    dst->datasets_off = src->datasets_off;
    dst->poll_interval_ms = src->poll_interval_ms;
    dst->site_snapshot = src->site_snapshot;
    dst->log_level = src->log_level;
    dst->nnames = src->nnames;
    memcpy(dst->active, src->active, sizeof dst->active);
}

int em_features_equal(const struct em_features *a, const struct em_features *b)
{
    return strcmp(a->active, b->active) == 0;
}

static void say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int want_bool(const cJSON *v, const char *name, int *out, char *err, size_t errlen)
{
    if (!cJSON_IsBool(v)) {
        say(err, errlen, "'%s' must be true or false", name);
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

static long device_index(const struct em_conf *conf, const char *id)
{
    for (size_t i = 0; i < conf->ndevices; i++)
        if (strcmp(conf->devices[i].id, id) == 0)
            return (long)i;
    return -1;
}

/* One name and value into `f`. 1 = taken, 0 = left out (lenient), -1 = invalid. */
static int take(const struct em_conf *conf, const cJSON *v, int lenient, struct em_features *f,
                char *err, size_t errlen)
{
    const char *name = v->string;
    int on;

    if (strncmp(name, "dataset.", 8) == 0) {
        unsigned bit = em_conf_dataset_bit(name + 8);
        if (!bit) {
            say(err, errlen, "'%s': unknown dataset (pms, mppt, inverter or site)", name);
            return -1;
        }
        if (want_bool(v, name, &on, err, errlen) < 0)
            return -1;
        f->datasets_off = on ? f->datasets_off & ~bit : f->datasets_off | bit;
        return 1;
    }
    if (strncmp(name, "device.", 7) == 0) {
        long i = device_index(conf, name + 7);
        if (want_bool(v, name, &on, err, errlen) < 0)
            return -1;
        if (i < 0) {
            say(err, errlen, "'%s': no device '%s' in this agent's configuration", name,
                name + 7);
            return lenient ? 0 : -1;
        }
        f->devices_off[i] = !on;
        return 1;
    }
    if (strcmp(name, "poll.interval_ms") == 0) {
        double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
        if (!cJSON_IsNumber(v) || d != (double)(long)d || d < POLL_MIN_MS || d > POLL_MAX_MS) {
            say(err, errlen, "'%s' must be an integer from %d to %d", name, POLL_MIN_MS,
                POLL_MAX_MS);
            return -1;
        }
        f->poll_interval_ms = (int)d;
        return 1;
    }
    if (strcmp(name, "site.snapshot") == 0) {
        if (want_bool(v, name, &on, err, errlen) < 0)
            return -1;
        f->site_snapshot = on;
        return 1;
    }
    if (strcmp(name, "log.level") == 0) {
        int lv = cJSON_IsString(v) ? em_log_parse_level(v->valuestring) : -1;
        if (lv < 0) {
            say(err, errlen, "'%s' must be \"error\", \"warn\", \"info\" or \"debug\"", name);
            return -1;
        }
        f->log_level = lv;
        return 1;
    }
    say(err, errlen, "unknown feature '%.64s' (known: dataset.*, device.*, poll.interval_ms, "
                     "site.snapshot, log.level)",
        name);
    return -1;
}

int em_features_parse(const struct em_conf *conf, const char *text, size_t len, int lenient,
                      struct em_features *out, char *err, size_t errlen)
{
    cJSON *root = NULL, *norm = NULL;
    int rc = -1;
    char note[200] = "";

    em_features_reset(out);
    say(err, errlen, "%s", "");
    if (!text) {
        say(err, errlen, "no message");
        return -1;
    }
    if (len > EM_FEATURES_MAX_BYTES) {
        say(err, errlen, "message of %zu bytes is over the %d byte limit", len,
            EM_FEATURES_MAX_BYTES);
        return -1;
    }
    root = cJSON_ParseWithLength(text, len);
    if (!root) {
        say(err, errlen, "not JSON");
        return -1;
    }
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "features");
    if (!cJSON_IsObject(root) || !cJSON_IsObject(set)) {
        say(err, errlen, "not an object with a \"features\" object");
        goto out;
    }
    for (const cJSON *k = root->child; k; k = k->next)
        if (strcmp(k->string, "features") != 0) {
            say(err, errlen, "unknown key '%.64s' beside \"features\"", k->string);
            goto out;
        }
    if (!(norm = cJSON_CreateObject()))
        goto oom;
    for (const cJSON *v = set->child; v; v = v->next) {
        if (cJSON_GetObjectItemCaseSensitive(norm, v->string)) {
            say(err, errlen, "'%.64s' is given twice", v->string);
            goto out;
        }
        int t = take(conf, v, lenient, out, note, sizeof note);
        if (t < 0) {
            say(err, errlen, "%s", note);
            goto out;
        }
        if (t == 0)
            continue;
        cJSON *copy = cJSON_Duplicate(v, 0);
        if (!copy)
            goto oom;
        cJSON_AddItemToObject(norm, v->string, copy);
        out->nnames++;
    }
    if (!cJSON_PrintPreallocated(norm, out->active, (int)sizeof out->active, 0)) {
        /* Cannot happen for a message under the limit; refuse rather than cut. */
        say(err, errlen, "the set does not fit in %zu bytes", sizeof out->active);
        goto out;
    }
    say(err, errlen, "%s", note); /* what lenient left out, if anything */
    rc = 0;
    goto out;
oom:
    say(err, errlen, "out of memory");
out:
    cJSON_Delete(norm);
    cJSON_Delete(root);
    if (rc < 0)
        em_features_reset(out);
    return rc;
}
