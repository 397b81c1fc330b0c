/* fstore.c - the active feature set in state_dir and in the queue's Redis.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "fstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fsutil.h"

int em_fstore_save_file(const char *state_dir, const struct em_features *f)
{
    char path[4200], text[EM_FEATURES_ACTIVE_MAX + 32];
    int n = snprintf(text, sizeof text, "{\"features\":%s}\n", f->active);
    if (snprintf(path, sizeof path, "%s/%s", state_dir, EM_FSTORE_FILE) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return em_write_file_atomic(path, text, (size_t)n, 0640);
}

char *em_fstore_load_file(const char *state_dir, size_t *len)
{
    char path[4200], err[8];
    snprintf(path, sizeof path, "%s/%s", state_dir, EM_FSTORE_FILE);
    return em_read_file(path, len, err, sizeof err);
}

int em_fstore_save_redis(struct em_queue *q, const struct em_features *f)
{
    const char *fields[256];
    char *values[256];
    size_t n = 0;
    int rc = -1, saved = ENOMEM;
    cJSON *set = cJSON_Parse(f->active);
    if (!set)
        return errno = ENOMEM, -1;
    for (const cJSON *v = set->child; v; v = v->next) {
        if (n == sizeof fields / sizeof fields[0]) {
            saved = E2BIG;
            goto out;
        }
        fields[n] = v->string;
        if (!(values[n] = cJSON_PrintUnformatted(v)))
            goto out;
        n++;
    }
    rc = em_queue_hash_replace(q, EM_FSTORE_HASH, fields, (const char *const *)values, n);
    saved = errno;
out:
    for (size_t i = 0; i < n; i++)
        cJSON_free(values[i]);
    cJSON_Delete(set);
    errno = saved;
    return rc;
}

struct collect {
    cJSON *set;
    int bad;
};

static void collect_one(void *arg, const char *field, const char *value)
{
    struct collect *c = arg;
    cJSON *v = cJSON_Parse(value);
    /* A value someone edited into garbage: keep it as a string, so the whole
     * set fails validation with that name instead of silently losing it. */
    if (!v)
        v = cJSON_CreateString(value);
    if (!v) {
        c->bad = 1;
        return;
    }
    cJSON_AddItemToObject(c->set, field, v);
}

char *em_fstore_load_redis(struct em_queue *q, size_t *len)
{
    struct collect c = {cJSON_CreateObject(), 0};
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    int n;
    if (!c.set || !root) {
        cJSON_Delete(c.set);
        cJSON_Delete(root);
        errno = ENOMEM;
        return NULL;
    }
    cJSON_AddItemToObject(root, "features", c.set);
    n = em_queue_hash_get(q, EM_FSTORE_HASH, collect_one, &c);
    if (n == 0)
        errno = ENOENT;
    else if (n > 0 && c.bad)
        errno = ENOMEM;
    else if (n > 0 && !(text = cJSON_PrintUnformatted(root)))
        errno = ENOMEM;
    cJSON_Delete(root);
    if (text)
        *len = strlen(text);
    return text;
}
