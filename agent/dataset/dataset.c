/* dataset.c - the normalised reading of one device: canonical keys and values.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "dataset.h"

#include <string.h>

void em_ds_reset(struct em_dataset *ds, const char *dataset)
{
    ds->dataset = dataset;
    ds->quality = EM_Q_OK;
    ds->n = ds->nnums = ds->nstrs = ds->ninputs = ds->ntext = 0;
    ds->overflow = 0;
}

struct em_value *em_ds_find(struct em_dataset *ds, const char *key)
{
    for (size_t i = 0; i < ds->n; i++)
        if (strcmp(ds->v[i].key, key) == 0)
            return &ds->v[i];
    return NULL;
}

const struct em_value *em_ds_cfind(const struct em_dataset *ds, const char *key)
{
    return em_ds_find((struct em_dataset *)ds, key);
}

int em_ds_get_num(const struct em_dataset *ds, const char *key, double *out)
{
    const struct em_value *v = em_ds_cfind(ds, key);
    if (!v)
        return -1;
    if (v->type == EM_V_NUM)
        *out = v->u.num;
    else if (v->type == EM_V_INT)
        *out = (double)v->u.integer;
    else
        return -1;
    return 0;
}

static struct em_value *slot(struct em_dataset *ds, const char *key, enum em_vtype type)
{
    struct em_value *v = em_ds_find(ds, key);
    if (!v) {
        if (ds->n >= EM_DS_MAX_VALUES) {
            ds->overflow++;
            return NULL;
        }
        v = &ds->v[ds->n++];
        v->key = key;
    }
    v->type = type;
    return v;
}

int em_ds_set_num(struct em_dataset *ds, const char *key, double val)
{
    struct em_value *v = slot(ds, key, EM_V_NUM);
    if (!v)
        return -1;
    v->u.num = val;
    return 0;
}

int em_ds_set_int(struct em_dataset *ds, const char *key, int64_t val)
{
    struct em_value *v = slot(ds, key, EM_V_INT);
    if (!v)
        return -1;
    v->u.integer = val;
    return 0;
}

int em_ds_set_str(struct em_dataset *ds, const char *key, const char *s)
{
    struct em_value *v = slot(ds, key, EM_V_STR);
    if (!v)
        return -1;
    v->u.str = s;
    return 0;
}

int em_ds_set_text(struct em_dataset *ds, const char *key, const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == '\0' || s[len - 1] == ' '))
        len--;
    if (ds->ntext + len + 1 > EM_DS_TEXT) {
        ds->overflow++;
        return -1;
    }
    char *dst = ds->text + ds->ntext;
    memcpy(dst, s, len);
    dst[len] = '\0';
    /* Device strings may carry NULs or control bytes in the middle. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)dst[i] < 0x20 || (unsigned char)dst[i] == 0x7F)
            dst[i] = ' ';
    if (em_ds_set_str(ds, key, dst) < 0)
        return -1;
    ds->ntext += len + 1;
    return 0;
}

/* Lists live at the end of their pool; appending to a list that is not the last
 * one in the pool moves it to the end first (rare: profiles append to one list
 * at a time, but two bitfields may feed "faults" with another list between). */
int em_ds_add_str(struct em_dataset *ds, const char *key, const char *s)
{
    struct em_value *v = em_ds_find(ds, key);
    if (v && v->type != EM_V_STRS)
        return -1;
    if (!v) {
        if (!(v = slot(ds, key, EM_V_STRS)))
            return -1;
        v->u.list.off = (uint16_t)ds->nstrs;
        v->u.list.n = 0;
    }
    if (v->u.list.off + v->u.list.n != ds->nstrs) {
        if (ds->nstrs + v->u.list.n + 1 > EM_DS_MAX_STRS) {
            ds->overflow++;
            return -1;
        }
        memmove(&ds->strs[ds->nstrs], &ds->strs[v->u.list.off], v->u.list.n * sizeof(char *));
        v->u.list.off = (uint16_t)ds->nstrs;
        ds->nstrs += v->u.list.n;
    }
    if (ds->nstrs >= EM_DS_MAX_STRS) {
        ds->overflow++;
        return -1;
    }
    ds->strs[ds->nstrs++] = s;
    v->u.list.n++;
    return 0;
}

int em_ds_touch_strs(struct em_dataset *ds, const char *key)
{
    struct em_value *v = em_ds_find(ds, key);
    if (v)
        return v->type == EM_V_STRS ? 0 : -1;
    if (!(v = slot(ds, key, EM_V_STRS)))
        return -1;
    v->u.list.off = (uint16_t)ds->nstrs;
    v->u.list.n = 0;
    return 0;
}

int em_ds_add_num(struct em_dataset *ds, const char *key, double val)
{
    struct em_value *v = em_ds_find(ds, key);
    if (v && v->type != EM_V_NUMS)
        return -1;
    if (!v) {
        if (!(v = slot(ds, key, EM_V_NUMS)))
            return -1;
        v->u.list.off = (uint16_t)ds->nnums;
        v->u.list.n = 0;
    }
    if (v->u.list.off + v->u.list.n != ds->nnums || ds->nnums >= EM_DS_MAX_NUMS) {
        ds->overflow++;
        return -1;
    }
    ds->nums[ds->nnums++] = val;
    v->u.list.n++;
    return 0;
}

struct em_mppt_input *em_ds_input(struct em_dataset *ds, int64_t id)
{
    for (size_t i = 0; i < ds->ninputs; i++)
        if (ds->inputs[i].id == id)
            return &ds->inputs[i];
    return em_ds_input_add(ds, id);
}

struct em_mppt_input *em_ds_input_add(struct em_dataset *ds, int64_t id)
{
    if (ds->ninputs >= EM_DS_MAX_INPUTS) {
        ds->overflow++;
        return NULL;
    }
    struct em_mppt_input *in = &ds->inputs[ds->ninputs++];
    memset(in, 0, sizeof *in);
    in->id = id;
    if (!em_ds_find(ds, "mppt_inputs")) {
        struct em_value *v = slot(ds, "mppt_inputs", EM_V_INPUTS);
        if (!v)
            return NULL;
    }
    return in;
}
