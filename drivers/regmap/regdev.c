/* regdev.c - one device's register engine: plan, read, split on exceptions, decode.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "regdev.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

/* SunSpec discovery (reference/protocols.md section 4.1, after pysunspec2's
 * scan): candidate bases in this order, "SunS" marker, model walk to 0xFFFF. */
static const uint32_t sunspec_bases[] = {40000, 0, 50000};
#define SUNS_HI        0x5375 /* "Su" */
#define SUNS_LO        0x6E53 /* "nS" */
#define SUNS_END_MODEL 0xFFFF
#define SUNS_MAX_MODELS 64

static int is_exception(int err)
{
    return err > MODBUS_ENOBASE && err <= MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_TARGET;
}

/* Exceptions that say "this address does not exist here": permanent, so the
 * points behind them are remembered as unsupported. Busy/acknowledge/failure
 * exceptions are transient and only cost this cycle. */
static int is_permanent_exception(int err)
{
    return err == EMBXILFUN || err == EMBXILADD || err == EMBXILVAL;
}

int em_modbus_link_error(int err)
{
    if (is_exception(err))
        /* A gateway that cannot reach the device is as good as a timeout. */
        return err == EMBXGPATH || err == EMBXGTAR;
    return err != EMBMDATA;
}

struct em_regdev *em_regdev_new(const struct em_profile *profile, int rtu, char *err,
                                size_t errlen)
{
    struct em_regdev *d = calloc(1, sizeof *d);
    if (!d)
        goto oom;
    d->profile = profile;
    d->gap_max = rtu ? profile->gap_rtu : profile->gap_tcp;
    d->bits = malloc(EM_MAX_READ_BITS);
    if (!d->bits)
        goto oom;
    if (profile->nmodels == 0) {
        d->pts = profile->points;
        d->npts = profile->npoints;
        d->unsupported = calloc(d->npts, 1);
        d->split_before = calloc(d->npts, 1);
        d->valid = calloc(d->npts, 1);
        if (!d->unsupported || !d->split_before || !d->valid)
            goto oom;
        d->need_plan = 1;
        d->discovered = 1;
    }
    return d;
oom:
    snprintf(err, errlen, "out of memory");
    em_regdev_free(d);
    errno = ENOMEM;
    return NULL;
}

static void drop_points(struct em_regdev *d)
{
    if (d->pts_owned) {
        for (size_t i = 0; i < d->npts; i++)
            em_point_release(&d->pts[i]);
        free(d->pts);
        d->pts = NULL;
        d->npts = 0;
        d->pts_owned = 0;
    }
}

void em_regdev_free(struct em_regdev *d)
{
    if (!d)
        return;
    drop_points(d);
    em_plan_release(&d->plan);
    free(d->unsupported);
    free(d->split_before);
    free(d->valid);
    free(d->regs);
    free(d->bits);
    free(d);
}

void em_regdev_reset(struct em_regdev *d)
{
    if (d->profile->nmodels == 0)
        return;
    drop_points(d);
    free(d->unsupported);
    free(d->split_before);
    free(d->valid);
    d->unsupported = d->split_before = d->valid = NULL;
    em_plan_release(&d->plan);
    d->discovered = 0;
    d->nmodels_found = 0;
}

/* ---- SunSpec discovery ------------------------------------------------ */

static int find_in(const struct em_point *pts, size_t from, size_t to, const char *name)
{
    for (size_t i = from; i < to; i++)
        if (strcmp(pts[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int push_point(struct em_point **pts, size_t *n, size_t *cap, const struct em_point *src,
                      uint32_t addr, int repeat, const char *group)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct em_point *np = realloc(*pts, nc * sizeof *np);
        if (!np)
            return -1;
        *pts = np;
        *cap = nc;
    }
    struct em_point *pt = &(*pts)[*n];
    if (em_point_copy(pt, src) < 0)
        return -1;
    pt->addr = addr;
    pt->repeat = repeat;
    if (group && !pt->group && !(pt->group = strdup(group))) {
        em_point_release(pt);
        return -1;
    }
    (*n)++;
    return 0;
}

static const struct em_sunspec_model *model_for(const struct em_profile *p, uint16_t id)
{
    for (size_t i = 0; i < p->nmodels; i++)
        for (size_t j = 0; j < p->models[i].nids; j++)
            if (p->models[i].ids[j] == id)
                return &p->models[i];
    return NULL;
}

/* Copy a model's points to their absolute addresses; scale factors resolve inside
 * the same repeating block first, then in the model's fixed block. */
static int instantiate(struct em_point **pts, size_t *n, size_t *cap,
                       const struct em_sunspec_model *m, uint32_t maddr, uint16_t len)
{
    size_t fixed_start = *n;
    for (size_t i = 0; i < m->npoints; i++) {
        const struct em_point *src = &m->points[i];
        if (src->addr + em_point_span(src) > (uint32_t)len + 2)
            continue; /* beyond this device's model length */
        if (push_point(pts, n, cap, src, maddr + src->addr, -1, NULL) < 0)
            return -1;
    }
    size_t fixed_end = *n;
    for (size_t i = fixed_start; i < fixed_end; i++)
        if ((*pts)[i].sf)
            (*pts)[i].sf_index = find_in(*pts, fixed_start, fixed_end, (*pts)[i].sf);
    if (m->repeat_len && (uint32_t)len + 2 > m->repeat_offset) {
        unsigned blocks = ((unsigned)len + 2 - m->repeat_offset) / m->repeat_len;
        if (blocks > EM_DS_MAX_INPUTS)
            blocks = EM_DS_MAX_INPUTS;
        for (unsigned k = 0; k < blocks; k++) {
            size_t bstart = *n;
            uint32_t baddr = maddr + m->repeat_offset + k * m->repeat_len;
            for (size_t i = 0; i < m->nrpoints; i++)
                if (push_point(pts, n, cap, &m->rpoints[i], baddr + m->rpoints[i].addr,
                               (int)k, m->group) < 0)
                    return -1;
            for (size_t i = bstart; i < *n; i++) {
                struct em_point *pt = &(*pts)[i];
                if (!pt->sf)
                    continue;
                pt->sf_index = find_in(*pts, bstart, *n, pt->sf);
                if (pt->sf_index < 0)
                    pt->sf_index = find_in(*pts, fixed_start, fixed_end, pt->sf);
            }
        }
    }
    return 0;
}

static int adopt(struct em_regdev *d, struct em_point *pts, size_t n, uint32_t base);
static int replan(struct em_regdev *d);

static int discover(struct em_regdev *d, modbus_t *mb)
{
    uint16_t w[2];
    uint32_t base = 0;
    int found = 0;
    struct em_point *pts = NULL;
    size_t n = 0, cap = 0;

    d->stats.discoveries++;
    for (size_t i = 0; i < sizeof sunspec_bases / sizeof sunspec_bases[0] && !found; i++) {
        d->stats.requests++;
        int rc = modbus_read_registers(mb, (int)sunspec_bases[i], 2, w);
        if (rc == 2 && w[0] == SUNS_HI && w[1] == SUNS_LO) {
            base = sunspec_bases[i];
            found = 1;
        } else if (rc < 0 && em_modbus_link_error(errno)) {
            return -1;
        }
    }
    if (!found) {
        errno = ENOTSUP;
        return -1;
    }
    d->nmodels_found = 0;
    uint32_t addr = base + 2;
    for (int m = 0; m < SUNS_MAX_MODELS && addr + 2 <= 0x10000; m++) {
        /* ID and L separately from the data: some devices do not give a
         * length for the end model (pysunspec2 reads them the same way). */
        d->stats.requests++;
        if (modbus_read_registers(mb, (int)addr, 2, w) != 2) {
            if (em_modbus_link_error(errno))
                goto fail;
            break; /* an exception past the last model ends the map */
        }
        if (w[0] == SUNS_END_MODEL)
            break;
        const struct em_sunspec_model *model = model_for(d->profile, w[0]);
        if (model) {
            if (instantiate(&pts, &n, &cap, model, addr, w[1]) < 0) {
                errno = ENOMEM;
                goto fail;
            }
            if (d->nmodels_found < sizeof d->models_found / sizeof d->models_found[0])
                d->models_found[d->nmodels_found++] = w[0];
        }
        addr += (uint32_t)w[1] + 2;
    }
    if (adopt(d, pts, n, base) < 0)
        goto fail;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        em_point_release(&pts[i]);
    free(pts);
    return -1;
}

/* Take ownership of an instantiated point table (on success only). */
static int adopt(struct em_regdev *d, struct em_point *pts, size_t n, uint32_t base)
{
    if (n == 0) {
        errno = ENOTSUP;
        return -1;
    }
    uint8_t *u = calloc(n, 1), *s = calloc(n, 1), *v = calloc(n, 1);
    if (!u || !s || !v) {
        free(u);
        free(s);
        free(v);
        errno = ENOMEM;
        return -1;
    }
    drop_points(d);
    d->pts = pts;
    d->npts = n;
    d->pts_owned = 1;
    d->sunspec_base = base;
    free(d->unsupported);
    free(d->split_before);
    free(d->valid);
    d->unsupported = u;
    d->split_before = s;
    d->valid = v;
    d->discovered = 1;
    d->need_plan = 1;
    return 0;
}

int em_regdev_assume(struct em_regdev *d, uint32_t base, const uint16_t *ids,
                     const uint16_t *lens, size_t n)
{
    struct em_point *pts = NULL;
    size_t np = 0, cap = 0;
    uint32_t addr = base + 2;
    d->nmodels_found = 0;
    for (size_t i = 0; i < n; i++) {
        const struct em_sunspec_model *m = model_for(d->profile, ids[i]);
        if (m && instantiate(&pts, &np, &cap, m, addr, lens[i]) < 0) {
            errno = ENOMEM;
            goto fail;
        }
        if (m && d->nmodels_found < sizeof d->models_found / sizeof d->models_found[0])
            d->models_found[d->nmodels_found++] = ids[i];
        addr += (uint32_t)lens[i] + 2;
    }
    if (adopt(d, pts, np, base) < 0)
        goto fail;
    return em_regdev_plan(d);
fail:
    for (size_t i = 0; i < np; i++)
        em_point_release(&pts[i]);
    free(pts);
    return -1;
}

int em_regdev_plan(struct em_regdev *d)
{
    return replan(d);
}

/* ---- reading ------------------------------------------------------------ */

static int replan(struct em_regdev *d)
{
    if (em_plan_build(&d->plan, d->pts, d->npts, d->unsupported, d->split_before, d->gap_max) < 0)
        return -1;
    uint16_t *r = realloc(d->regs, (d->plan.nwords ? d->plan.nwords : 1) * sizeof *r);
    if (!r) {
        errno = ENOMEM;
        return -1;
    }
    d->regs = r;
    d->need_plan = 0;
    return 0;
}

static int do_read(struct em_regdev *d, modbus_t *mb, enum em_space space, int addr, int count,
                   uint16_t *dest)
{
    int rc;
    d->stats.requests++;
    switch (space) {
    case EM_SPACE_HOLDING:
        rc = modbus_read_registers(mb, addr, count, dest);
        break;
    case EM_SPACE_INPUT:
        rc = modbus_read_input_registers(mb, addr, count, dest);
        break;
    default:
        rc = space == EM_SPACE_COIL ? modbus_read_bits(mb, addr, count, d->bits)
                                    : modbus_read_input_bits(mb, addr, count, d->bits);
        if (rc == count)
            for (int i = 0; i < count; i++)
                dest[i] = d->bits[i];
        break;
    }
    if (rc >= 0 && rc != count) {
        errno = EMBBADDATA;
        return -1;
    }
    return rc < 0 ? -1 : 0;
}

/*
 * Read points order[first .. first+n) of request `rq`. On an exception the range
 * is halved (and the split remembered, so the next plan does not merge it again)
 * until the failing points are isolated; a single point failing with a permanent
 * exception is marked unsupported. Returns 0, or -1 on a link error.
 */
static int read_range(struct em_regdev *d, modbus_t *mb, const struct em_req *rq, uint32_t first,
                      uint32_t n, int *exceptions)
{
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint32_t k = first; k < first + n; k++) {
        const struct em_point *pt = &d->pts[d->plan.order[k]];
        uint32_t e = pt->addr + em_point_span(pt);
        if (pt->addr < lo)
            lo = pt->addr;
        if (e > hi)
            hi = e;
    }
    /* A whole request keeps its gap registers; a split part reads just its points. */
    if (n == rq->npoints) {
        lo = rq->addr;
        hi = (uint32_t)rq->addr + rq->count;
    }
    uint16_t *dest = d->regs + rq->buf_off + (lo - rq->addr);
    if (do_read(d, mb, rq->space, (int)lo, (int)(hi - lo), dest) == 0) {
        for (uint32_t k = first; k < first + n; k++)
            d->valid[d->plan.order[k]] = 1;
        return 0;
    }
    int err = errno;
    if (!is_exception(err) || em_modbus_link_error(err)) {
        if (err == ETIMEDOUT || err == EMBBADDATA || err == EMBBADCRC)
            /* A late reply must not be taken as the answer to the next request. */
            modbus_flush(mb);
        errno = err;
        return -1;
    }
    d->stats.exceptions++;
    (*exceptions)++;
    if (!is_permanent_exception(err))
        return 0;
    if (n == 1) {
        uint32_t i = d->plan.order[first];
        d->unsupported[i] = 1;
        d->stats.unsupported++;
        d->need_plan = 1;
        return 0;
    }
    uint32_t half = n / 2;
    d->split_before[d->plan.order[first + half]] = 1;
    d->stats.splits++;
    d->need_plan = 1;
    if (read_range(d, mb, rq, first, half, exceptions) < 0)
        return -1;
    return read_range(d, mb, rq, first + half, n - half, exceptions);
}

static double round6(double v)
{
    double r = round(v * 1e6) / 1e6;
    return isfinite(r) ? r : v;
}

static int is_integer_type(enum em_ptype t)
{
    return t != EM_T_F32 && t != EM_T_F64 && t != EM_T_STRING;
}

static const char *map_name(const struct em_point *pt, uint32_t code)
{
    for (size_t i = 0; i < pt->nmap; i++)
        if (pt->map[i].code == code)
            return pt->map[i].name;
    return NULL;
}

/* Decode element `el` of point i; returns EM_D_* and the scaled value. */
static enum em_dres point_value(struct em_regdev *d, size_t i, unsigned el, int64_t *raw,
                                double *val)
{
    const struct em_point *pt = &d->pts[i];
    int sf = 0;
    if (pt->sf_index >= 0) {
        size_t s = (size_t)pt->sf_index;
        int64_t sraw;
        double sv;
        if (!d->valid[s] || d->plan.point_off[s] == EM_NOT_PLANNED)
            return EM_D_NA;
        if (em_decode_point(&d->pts[s], d->regs + d->plan.point_off[s], 0, &sraw, &sv) != EM_D_OK)
            return EM_D_NA;
        if (sraw < -10 || sraw > 10)
            return EM_D_BAD; /* no real device scales by more than 10^10 */
        sf = (int)sraw;
    }
    return em_decode_point(pt, d->regs + d->plan.point_off[i] + el * pt->nregs, sf, raw, val);
}

static void emit(struct em_regdev *d, size_t i, struct em_dataset *ds)
{
    const struct em_point *pt = &d->pts[i];
    int64_t raw;
    double val;
    char text[2 * EM_MAX_READ_REGS];

    if (pt->name[0] == '_')
        return; /* internal: scale factors and helpers */
    if (pt->type == EM_T_STRING) {
        const uint16_t *r = d->regs + d->plan.point_off[i];
        size_t len = 0;
        for (unsigned k = 0; k < pt->nregs; k++) {
            text[len++] = (char)(r[k] >> 8);
            text[len++] = (char)(r[k] & 0xFF);
        }
        size_t z = strnlen(text, len);
        if (z > 0)
            em_ds_set_text(ds, pt->name, text, z);
        return;
    }
    if (pt->group) {
        if ((size_t)pt->repeat >= EM_DS_MAX_INPUTS)
            return;
        /* By position, not by id: a device's own input ids may collide with the
         * default numbering (block 0 saying id 2), and a lookup would then never
         * add the slot (an endless loop, found by tests/fuzz/fuzz_decode). */
        while (ds->ninputs <= (size_t)pt->repeat)
            if (!em_ds_input_add(ds, (int64_t)ds->ninputs + 1))
                return;
        struct em_mppt_input *in = &ds->inputs[pt->repeat];
        if (point_value(d, i, 0, &raw, &val) != EM_D_OK)
            return;
        val = round6(val);
        if (strcmp(pt->name, "id") == 0)
            in->id = raw;
        else if (strcmp(pt->name, "dc_voltage_v") == 0)
            in->dc_voltage_v = val, in->have |= 1;
        else if (strcmp(pt->name, "dc_current_a") == 0)
            in->dc_current_a = val, in->have |= 2;
        else if (strcmp(pt->name, "dc_power_w") == 0)
            in->dc_power_w = val, in->have |= 4;
        return;
    }
    if (pt->is_bits) {
        em_ds_touch_strs(ds, pt->name);
        if (point_value(d, i, 0, &raw, &val) != EM_D_OK)
            return;
        for (size_t k = 0; k < pt->nmap; k++)
            if ((uint64_t)raw & (1ull << pt->map[k].code))
                em_ds_add_str(ds, pt->name, pt->map[k].name);
        return;
    }
    if (pt->count > 1) {
        for (unsigned el = 0; el < pt->count; el++) {
            /* A list ends at the first "not present" element (unused cells). */
            if (point_value(d, i, el, &raw, &val) != EM_D_OK)
                break;
            em_ds_add_num(ds, pt->name, round6(val));
        }
        return;
    }
    if (point_value(d, i, 0, &raw, &val) != EM_D_OK)
        return;
    if (pt->append) {
        /* Status codes feeding an alarm list: unmapped codes (normal) add nothing. */
        const char *s = map_name(pt, (uint32_t)raw);
        em_ds_touch_strs(ds, pt->name);
        if (s)
            em_ds_add_str(ds, pt->name, s);
    } else if (pt->nmap) {
        const char *s = map_name(pt, (uint32_t)raw);
        em_ds_set_str(ds, pt->name, s ? s : "unknown");
    } else if (is_integer_type(pt->type) && pt->scale == 1.0 && pt->offset == 0.0 &&
               pt->sf_index < 0) {
        em_ds_set_int(ds, pt->name, raw);
    } else {
        em_ds_set_num(ds, pt->name, round6(val));
    }
}

int em_regdev_read(struct em_regdev *d, modbus_t *mb, struct em_dataset *ds)
{
    int exceptions = 0;

    if (!d->discovered && discover(d, mb) < 0)
        return -1;
    if (d->need_plan && replan(d) < 0)
        return -1;
    memset(d->valid, 0, d->npts);
    /* Iterate over a copy of the request list: read_range may ask for a replan,
     * which takes effect from the next cycle. */
    for (size_t r = 0; r < d->plan.nreqs; r++) {
        const struct em_req *rq = &d->plan.reqs[r];
        if (read_range(d, mb, rq, rq->first, rq->npoints, &exceptions) < 0)
            return -1;
    }
    size_t nvalid = 0, missing = 0;
    for (size_t i = 0; i < d->npts; i++) {
        if (d->valid[i])
            nvalid++;
        else if (!d->pts[i].optional)
            missing++;
    }
    if (nvalid == 0 && d->npts > 0) {
        errno = ENODATA;
        return -1;
    }
    for (size_t i = 0; i < d->npts; i++)
        if (d->valid[i])
            emit(d, i, ds);
    if (missing)
        ds->quality = EM_Q_PARTIAL;
    return 0;
}
