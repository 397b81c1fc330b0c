/* profile.c - device register maps as data: parsing profile JSON into points.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "profile.h"

#include "fsutil.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum em_ptype type;
    unsigned regs;
} ptypes[] = {
    {"u16", EM_T_U16, 1},       {"s16", EM_T_S16, 1},         {"u32", EM_T_U32, 2},
    {"s32", EM_T_S32, 2},       {"u64", EM_T_U64, 4},         {"s64", EM_T_S64, 4},
    {"f32", EM_T_F32, 2},       {"f64", EM_T_F64, 4},         {"string", EM_T_STRING, 0},
    {"bitfield", EM_T_BITFIELD, 1}, {"sm16", EM_T_SM16, 1},   {"u8", EM_T_U8, 1},
    {"s8", EM_T_S8, 1},         {"sm8", EM_T_SM8, 1},         {"sunssf", EM_T_SUNSSF, 1},
    {"bit", EM_T_BIT, 1},
};

static const char *const orders[] = {"ABCD", "CDAB", "BADC", "DCBA"};
static const char *const spaces[] = {"holding", "input", "coil", "discrete"};

unsigned em_ptype_regs(enum em_ptype t)
{
    for (size_t i = 0; i < sizeof ptypes / sizeof ptypes[0]; i++)
        if (ptypes[i].type == t)
            return ptypes[i].regs;
    return 1;
}

static char *dupstr(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Build "path.key" / "path[i]" for error messages; a cut path is still useful. */
__attribute__((format(printf, 3, 4))) static const char *subpath(char *buf, size_t len,
                                                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0)
        buf[0] = 0;
    return buf;
}

struct perr {
    char *buf;
    size_t len;
    const char *origin;
};

__attribute__((format(printf, 3, 4))) static int fail(struct perr *e, const char *path,
                                                      const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(e->buf, e->len, "%s: %s: ", e->origin, path);
    if (n >= 0 && (size_t)n < e->len) {
        va_start(ap, fmt);
        vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    errno = EINVAL;
    return -1;
}

/* Numbers may be written as JSON numbers or as "0x3100" strings (register maps
 * are published in hex). */
static int get_u64(const cJSON *it, uint64_t *out)
{
    if (cJSON_IsNumber(it)) {
        if (it->valuedouble < 0 || it->valuedouble > 18446744073709551615.0 ||
            it->valuedouble != (double)(uint64_t)it->valuedouble)
            return -1;
        *out = (uint64_t)it->valuedouble;
        return 0;
    }
    if (cJSON_IsString(it)) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(it->valuestring, &end, 0);
        if (errno || end == it->valuestring || *end)
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

static int parse_map(struct perr *e, const char *path, const cJSON *obj, struct em_point *pt,
                     int bits)
{
    const cJSON *it;
    if (!cJSON_IsObject(obj))
        return fail(e, path, "must be an object of code: name");
    cJSON_ArrayForEach(it, obj)
    {
        char *end;
        errno = 0;
        unsigned long code = strtoul(it->string, &end, 0);
        if (errno || *end || end == it->string || (bits && code > 63) || code > 0xFFFFFFFFul)
            return fail(e, path, "'%s' is not a valid %s", it->string, bits ? "bit" : "code");
        if (!cJSON_IsString(it))
            return fail(e, path, "'%s' must map to a string", it->string);
        if (pt->nmap >= EM_MAP_MAX)
            return fail(e, path, "more than %d entries", EM_MAP_MAX);
        pt->map[pt->nmap].code = (uint32_t)code;
        pt->map[pt->nmap].name = dupstr(it->valuestring);
        if (!pt->map[pt->nmap].name)
            return fail(e, path, "out of memory");
        pt->nmap++;
    }
    pt->is_bits = bits;
    return 0;
}

static const char *const point_keys[] = {
    "name", "space", "addr", "at", "type", "order", "byte", "mask", "shift", "scale",
    "offset", "sf", "na", "sunspec_na", "barrier", "optional", "count", "size", "enum",
    "bits", "append", "unit", "comment", NULL};

static int known_key(const char *k, const char *const *keys)
{
    for (; *keys; keys++)
        if (strcmp(k, *keys) == 0)
            return 1;
    return 0;
}

/* Parse one point object. `relative` = inside a SunSpec model ("at" instead of
 * "addr"). `def_order` applies to multi-register points without "order". */
static int parse_point(struct perr *e, const char *path, const cJSON *o, struct em_point *pt,
                       int relative, enum em_order def_order, int def_sunspec_na)
{
    char sub[160];
    const cJSON *it;
    uint64_t u;

    memset(pt, 0, sizeof *pt);
    pt->scale = 1.0;
    pt->count = 1;
    pt->sf_index = -1;
    pt->repeat = -1;
    pt->order = def_order;
    pt->sunspec_na = def_sunspec_na;
    if (!cJSON_IsObject(o))
        return fail(e, path, "must be an object");
    cJSON_ArrayForEach(it, o)
    {
        if (!known_key(it->string, point_keys)) {
            subpath(sub, sizeof sub, "%s.%s", path, it->string);
            return fail(e, sub, "unknown key");
        }
    }
#define SUB(k) subpath(sub, sizeof sub, "%s.%s", path, k)
    it = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(it) || !it->valuestring[0])
        return fail(e, SUB("name"), "missing or not a string");
    pt->name = dupstr(it->valuestring);
    if (!pt->name)
        return fail(e, SUB("name"), "out of memory");

    it = cJSON_GetObjectItemCaseSensitive(o, "type");
    pt->type = EM_T_U16;
    if (it) {
        size_t i;
        if (!cJSON_IsString(it))
            return fail(e, SUB("type"), "must be a string");
        for (i = 0; i < sizeof ptypes / sizeof ptypes[0]; i++)
            if (strcmp(ptypes[i].name, it->valuestring) == 0)
                break;
        if (i == sizeof ptypes / sizeof ptypes[0])
            return fail(e, SUB("type"), "unknown type '%s'", it->valuestring);
        pt->type = ptypes[i].type;
    }
    pt->nregs = (uint16_t)em_ptype_regs(pt->type);

    it = cJSON_GetObjectItemCaseSensitive(o, "space");
    pt->space = pt->type == EM_T_BIT ? EM_SPACE_DISCRETE : EM_SPACE_HOLDING;
    if (it) {
        int i;
        if (!cJSON_IsString(it))
            return fail(e, SUB("space"), "must be a string");
        for (i = 0; i < 4; i++)
            if (strcmp(spaces[i], it->valuestring) == 0)
                break;
        if (i == 4)
            return fail(e, SUB("space"), "must be holding, input, coil or discrete");
        pt->space = (enum em_space)i;
    }
    if ((pt->space == EM_SPACE_COIL || pt->space == EM_SPACE_DISCRETE) != (pt->type == EM_T_BIT))
        return fail(e, SUB("type"), "bit points live in coil/discrete space, others in registers");

    const char *akey = relative ? "at" : "addr";
    it = cJSON_GetObjectItemCaseSensitive(o, akey);
    if (!it || get_u64(it, &u) || u > 0xFFFF)
        return fail(e, SUB(akey), "missing or not an address 0..65535");
    if (cJSON_GetObjectItemCaseSensitive(o, relative ? "addr" : "at"))
        return fail(e, SUB(relative ? "addr" : "at"),
                    relative ? "SunSpec model points use \"at\"" : "use \"addr\"");
    pt->addr = (uint32_t)u;

    if ((it = cJSON_GetObjectItemCaseSensitive(o, "size"))) {
        if (get_u64(it, &u) || u < 1 || u > 125)
            return fail(e, SUB("size"), "must be 1..125 registers");
        if (pt->type == EM_T_BITFIELD && u != 1 && u != 2)
            return fail(e, SUB("size"), "a bitfield is 1 or 2 registers");
        if (pt->type != EM_T_STRING && pt->type != EM_T_BITFIELD)
            return fail(e, SUB("size"), "only for string and bitfield points");
        pt->nregs = (uint16_t)u;
    } else if (pt->type == EM_T_STRING) {
        return fail(e, SUB("size"), "a string needs its size in registers");
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "count"))) {
        if (get_u64(it, &u) || u < 1 || u > 64)
            return fail(e, SUB("count"), "must be 1..64");
        pt->count = (uint16_t)u;
    }
    if (pt->addr + (uint32_t)pt->nregs * pt->count > 0x10000)
        return fail(e, path, "registers run past address 65535");

    if ((it = cJSON_GetObjectItemCaseSensitive(o, "order"))) {
        int i;
        if (!cJSON_IsString(it))
            return fail(e, SUB("order"), "must be a string");
        for (i = 0; i < 4; i++)
            if (strcmp(orders[i], it->valuestring) == 0)
                break;
        if (i == 4)
            return fail(e, SUB("order"), "must be ABCD, CDAB, BADC or DCBA");
        pt->order = (enum em_order)i;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "byte"))) {
        if (!cJSON_IsString(it) ||
            (strcmp(it->valuestring, "hi") != 0 && strcmp(it->valuestring, "lo") != 0))
            return fail(e, SUB("byte"), "must be \"hi\" or \"lo\"");
        if (pt->type != EM_T_U8 && pt->type != EM_T_S8 && pt->type != EM_T_SM8)
            return fail(e, SUB("byte"), "only for u8, s8 and sm8 points");
        pt->byte_hi = strcmp(it->valuestring, "hi") == 0;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "mask"))) {
        if (get_u64(it, &u) || u == 0 || u > 0xFFFFFFFFull)
            return fail(e, SUB("mask"), "must be a non-zero 32-bit mask");
        pt->mask = (uint32_t)u;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "shift"))) {
        if (get_u64(it, &u) || u > 31)
            return fail(e, SUB("shift"), "must be 0..31");
        pt->shift = (uint8_t)u;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "scale"))) {
        if (!cJSON_IsNumber(it) || it->valuedouble == 0)
            return fail(e, SUB("scale"), "must be a non-zero number");
        pt->scale = it->valuedouble;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "offset"))) {
        if (!cJSON_IsNumber(it))
            return fail(e, SUB("offset"), "must be a number");
        pt->offset = it->valuedouble;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "sf"))) {
        if (!cJSON_IsString(it) || !it->valuestring[0])
            return fail(e, SUB("sf"), "must name a scale-factor point");
        pt->sf = dupstr(it->valuestring);
        if (!pt->sf)
            return fail(e, SUB("sf"), "out of memory");
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "na"))) {
        if (get_u64(it, &u))
            return fail(e, SUB("na"), "must be a raw register value");
        pt->has_na = 1;
        pt->na = u;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "sunspec_na"))) {
        if (!cJSON_IsBool(it))
            return fail(e, SUB("sunspec_na"), "must be true or false");
        pt->sunspec_na = cJSON_IsTrue(it);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "barrier"))) {
        if (!cJSON_IsBool(it))
            return fail(e, SUB("barrier"), "must be true or false");
        pt->barrier = cJSON_IsTrue(it);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "optional"))) {
        if (!cJSON_IsBool(it))
            return fail(e, SUB("optional"), "must be true or false");
        pt->optional = cJSON_IsTrue(it);
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enum");
    const cJSON *bi = cJSON_GetObjectItemCaseSensitive(o, "bits");
    if (en && bi)
        return fail(e, path, "\"enum\" and \"bits\" exclude each other");
    if (en && parse_map(e, SUB("enum"), en, pt, 0))
        return -1;
    if (bi && parse_map(e, SUB("bits"), bi, pt, 1))
        return -1;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "append"))) {
        if (!cJSON_IsBool(it) || !en)
            return fail(e, SUB("append"), "must be true or false, with \"enum\"");
        pt->append = cJSON_IsTrue(it);
    }
    if (pt->type == EM_T_BITFIELD && !bi)
        return fail(e, SUB("bits"), "a bitfield needs its bit names");
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "unit")) && !cJSON_IsString(it))
        return fail(e, SUB("unit"), "must be a string");
#undef SUB
    return 0;
}

void em_point_release(struct em_point *pt)
{
    if (!pt)
        return;
    free(pt->name);
    free(pt->sf);
    free(pt->group);
    for (size_t i = 0; i < pt->nmap; i++)
        free(pt->map[i].name);
    memset(pt, 0, sizeof *pt);
}

int em_point_copy(struct em_point *dst, const struct em_point *src)
{
    *dst = *src;
    dst->name = dupstr(src->name);
    dst->sf = dupstr(src->sf);
    dst->group = dupstr(src->group);
    for (size_t i = 0; i < src->nmap; i++)
        dst->map[i].name = dupstr(src->map[i].name);
    int bad = !dst->name || (src->sf && !dst->sf) || (src->group && !dst->group);
    for (size_t i = 0; i < src->nmap; i++)
        bad |= !dst->map[i].name;
    if (bad) {
        em_point_release(dst);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

static int resolve_sf(struct perr *e, const char *path, struct em_point *pts, size_t n,
                      const struct em_point *outer, size_t nouter)
{
    char sub[160];
    for (size_t i = 0; i < n; i++) {
        struct em_point *pt = &pts[i];
        int found = 0;
        if (!pt->sf)
            continue;
        for (size_t j = 0; j < n && !found; j++)
            if (strcmp(pts[j].name, pt->sf) == 0) {
                pt->sf_index = (int)j;
                found = pts[j].type == EM_T_SUNSSF || pts[j].type == EM_T_S16 ? 1 : -1;
            }
        for (size_t j = 0; j < nouter && !found; j++)
            if (strcmp(outer[j].name, pt->sf) == 0)
                found = outer[j].type == EM_T_SUNSSF || outer[j].type == EM_T_S16 ? 1 : -1;
        subpath(sub, sizeof sub, "%s[%zu].sf", path, i);
        if (!found)
            return fail(e, sub, "no point named '%s'", pt->sf);
        if (found < 0)
            return fail(e, sub, "'%s' is not a sunssf or s16 point", pt->sf);
    }
    return 0;
}

static int parse_points(struct perr *e, const char *path, const cJSON *arr,
                        struct em_point **out, size_t *nout, int relative,
                        enum em_order def_order, int def_na)
{
    char sub[160];
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n == 0)
        return fail(e, path, "must be a non-empty array of points");
    *out = calloc((size_t)n, sizeof **out);
    if (!*out)
        return fail(e, path, "out of memory");
    *nout = 0;
    for (int i = 0; i < n; i++) {
        subpath(sub, sizeof sub, "%s[%d]", path, i);
        int rc = parse_point(e, sub, cJSON_GetArrayItem(arr, i), &(*out)[i], relative,
                             def_order, def_na);
        (*nout)++;
        if (rc)
            return -1;
    }
    return 0;
}

static void free_points(struct em_point *pts, size_t n)
{
    for (size_t i = 0; pts && i < n; i++)
        em_point_release(&pts[i]);
    free(pts);
}

void em_profile_free(struct em_profile *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->driver);
    free(p->source);
    free_points(p->points, p->npoints);
    for (size_t i = 0; i < p->nmodels; i++) {
        free_points(p->models[i].points, p->models[i].npoints);
        free_points(p->models[i].rpoints, p->models[i].nrpoints);
        free(p->models[i].group);
    }
    free(p->models);
    free(p);
}

static int parse_model(struct perr *e, const char *path, const cJSON *o,
                       struct em_sunspec_model *m)
{
    static const char *const keys[] = {"models", "points", "repeat", "comment", NULL};
    char sub[160];
    const cJSON *it;

    if (!cJSON_IsObject(o))
        return fail(e, path, "must be an object");
    cJSON_ArrayForEach(it, o)
    {
        if (!known_key(it->string, keys)) {
            subpath(sub, sizeof sub, "%s.%s", path, it->string);
            return fail(e, sub, "unknown key");
        }
    }
    subpath(sub, sizeof sub, "%s.models", path);
    it = cJSON_GetObjectItemCaseSensitive(o, "models");
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) < 1 || cJSON_GetArraySize(it) > 4)
        return fail(e, sub, "must list 1 to 4 SunSpec model ids");
    const cJSON *id;
    cJSON_ArrayForEach(id, it)
    {
        uint64_t u;
        if (get_u64(id, &u) || u == 0 || u >= 0xFFFF)
            return fail(e, sub, "not a model id");
        m->ids[m->nids++] = (uint16_t)u;
    }
    subpath(sub, sizeof sub, "%s.points", path);
    if (parse_points(e, sub, cJSON_GetObjectItemCaseSensitive(o, "points"), &m->points,
                     &m->npoints, 1, EM_ORDER_ABCD, 1))
        return -1;
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(o, "repeat");
    if (rep) {
        static const char *const rkeys[] = {"at", "length", "group", "points", NULL};
        uint64_t u;
        if (!cJSON_IsObject(rep))
            return fail(e, path, "repeat: must be an object");
        cJSON_ArrayForEach(it, rep)
        {
            if (!known_key(it->string, rkeys)) {
                subpath(sub, sizeof sub, "%s.repeat.%s", path, it->string);
                return fail(e, sub, "unknown key");
            }
        }
        subpath(sub, sizeof sub, "%s.repeat.at", path);
        it = cJSON_GetObjectItemCaseSensitive(rep, "at");
        if (!it || get_u64(it, &u) || u < 2 || u > 0xFFFF)
            return fail(e, sub, "must be the offset of the first block");
        m->repeat_offset = (uint16_t)u;
        subpath(sub, sizeof sub, "%s.repeat.length", path);
        it = cJSON_GetObjectItemCaseSensitive(rep, "length");
        if (!it || get_u64(it, &u) || u < 1 || u > 0xFFFF)
            return fail(e, sub, "must be the registers per block");
        m->repeat_len = (uint16_t)u;
        subpath(sub, sizeof sub, "%s.repeat.group", path);
        it = cJSON_GetObjectItemCaseSensitive(rep, "group");
        if (!cJSON_IsString(it))
            return fail(e, sub, "must name the group (e.g. mppt_inputs)");
        m->group = dupstr(it->valuestring);
        if (!m->group)
            return fail(e, sub, "out of memory");
        subpath(sub, sizeof sub, "%s.repeat.points", path);
        if (parse_points(e, sub, cJSON_GetObjectItemCaseSensitive(rep, "points"), &m->rpoints,
                         &m->nrpoints, 1, EM_ORDER_ABCD, 1))
            return -1;
        /* Repeated points may take scale factors from the fixed block. */
        if (resolve_sf(e, sub, m->rpoints, m->nrpoints, m->points, m->npoints))
            return -1;
    }
    subpath(sub, sizeof sub, "%s.points", path);
    return resolve_sf(e, sub, m->points, m->npoints, NULL, 0);
}

struct em_profile *em_profile_parse(const char *json, const char *origin, char *err,
                                    size_t errlen)
{
    static const char *const keys[] = {"name",   "driver", "source",  "word_order", "gap",
                                       "points", "sunspec", "comment", NULL};
    struct perr e = {err, errlen, origin};
    struct em_profile *p = NULL;
    cJSON *root = cJSON_Parse(json);
    const cJSON *it;
    char sub[64];

    if (!root) {
        fail(&e, "(root)", "not valid JSON near '%.20s'",
             cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        fail(&e, "(root)", "must be an object");
        goto fail;
    }
    cJSON_ArrayForEach(it, root)
    {
        if (!known_key(it->string, keys)) {
            fail(&e, it->string, "unknown key");
            goto fail;
        }
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        fail(&e, "(root)", "out of memory");
        goto fail;
    }
    p->gap_tcp = 16;
    p->gap_rtu = 8;
    it = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!cJSON_IsString(it) || !it->valuestring[0]) {
        fail(&e, "name", "missing or not a string");
        goto fail;
    }
    p->name = dupstr(it->valuestring);
    it = cJSON_GetObjectItemCaseSensitive(root, "driver");
    if (!cJSON_IsString(it) ||
        (strcmp(it->valuestring, "pms") && strcmp(it->valuestring, "mppt") &&
         strcmp(it->valuestring, "inverter"))) {
        fail(&e, "driver", "must be pms, mppt or inverter");
        goto fail;
    }
    p->driver = dupstr(it->valuestring);
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "source"))) {
        if (!cJSON_IsString(it)) {
            fail(&e, "source", "must be a string");
            goto fail;
        }
        p->source = dupstr(it->valuestring);
    }
    enum em_order def_order = EM_ORDER_ABCD;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "word_order"))) {
        int i;
        for (i = 0; i < 4; i++)
            if (cJSON_IsString(it) && strcmp(orders[i], it->valuestring) == 0)
                break;
        if (i == 4) {
            fail(&e, "word_order", "must be ABCD, CDAB, BADC or DCBA");
            goto fail;
        }
        def_order = (enum em_order)i;
    }
    p->word_order_default = (uint8_t)def_order;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "gap"))) {
        const cJSON *g;
        uint64_t u;
        if (!cJSON_IsObject(it)) {
            fail(&e, "gap", "must be {\"tcp\": N, \"rtu\": N}");
            goto fail;
        }
        cJSON_ArrayForEach(g, it)
        {
            subpath(sub, sizeof sub, "gap.%s", g->string);
            if ((strcmp(g->string, "tcp") && strcmp(g->string, "rtu")) || get_u64(g, &u) ||
                u > 124) {
                fail(&e, sub, "must be tcp or rtu with 0..124 registers");
                goto fail;
            }
            *(strcmp(g->string, "tcp") == 0 ? &p->gap_tcp : &p->gap_rtu) = (int)u;
        }
    }
    if (!p->name || !p->driver || (cJSON_GetObjectItemCaseSensitive(root, "source") && !p->source)) {
        fail(&e, "(root)", "out of memory");
        goto fail;
    }
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(root, "points");
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(root, "sunspec");
    if (!pts && !ss) {
        fail(&e, "points", "missing (or give \"sunspec\" models)");
        goto fail;
    }
    if (pts && (parse_points(&e, "points", pts, &p->points, &p->npoints, 0, def_order, 0) ||
                resolve_sf(&e, "points", p->points, p->npoints, NULL, 0)))
        goto fail;
    if (ss) {
        int n = cJSON_GetArraySize(ss);
        if (!cJSON_IsArray(ss) || n == 0) {
            fail(&e, "sunspec", "must be a non-empty array of models");
            goto fail;
        }
        p->models = calloc((size_t)n, sizeof *p->models);
        if (!p->models) {
            fail(&e, "sunspec", "out of memory");
            goto fail;
        }
        for (int i = 0; i < n; i++) {
            subpath(sub, sizeof sub, "sunspec[%d]", i);
            p->nmodels++;
            if (parse_model(&e, sub, cJSON_GetArrayItem(ss, i), &p->models[i]))
                goto fail;
        }
    }
    cJSON_Delete(root);
    return p;
fail:
    cJSON_Delete(root);
    em_profile_free(p);
    return NULL;
}

struct em_profile *em_profile_load(const char *name, char *err, size_t errlen)
{
    size_t n = strlen(name);
    if (strchr(name, '/') || (n > 5 && strcmp(name + n - 5, ".json") == 0)) {
        size_t len;
        char *text = em_read_file(name, &len, err, errlen);
        if (!text)
            return NULL;
        struct em_profile *p = em_profile_parse(text, name, err, errlen);
        free(text);
        return p;
    }
    const char *text = em_profile_builtin(name);
    if (!text) {
        snprintf(err, errlen, "unknown profile '%s' (built-in: epever-tracer, renogy-rover, "
                              "sunspec, seplos-v3, sunspec-battery; or a path to a .json file)",
                 name);
        errno = ENOENT;
        return NULL;
    }
    char origin[80];
    snprintf(origin, sizeof origin, "builtin:%s", name);
    return em_profile_parse(text, origin, err, errlen);
}
