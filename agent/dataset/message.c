/* message.c - the dataset message of CONTRACT section 3, written without allocation.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "message.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct out {
    char *p;
    size_t len, cap;
    int full;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    if (o->full)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = 1;
        return;
    }
    o->len += (size_t)n;
}

static void put_str(struct out *o, const char *s)
{
    put(o, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c && !o->full; c++) {
        if (*c == '"' || *c == '\\')
            put(o, "\\%c", *c);
        else if (*c < 0x20)
            put(o, "\\u%04x", *c);
        else
            put(o, "%c", *c);
    }
    put(o, "\"");
}

/* Integral values print without a fraction; others with enough digits to
 * survive a round trip of the 6-decimal rounding the engine applies. */
static void put_num(struct out *o, double v)
{
    if (!isfinite(v)) {
        put(o, "null");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        put(o, "%" PRId64, (int64_t)v);
    else
        put(o, "%.12g", v);
}

const char *em_quality_name(enum em_quality q)
{
    return q == EM_Q_OK ? "ok" : q == EM_Q_PARTIAL ? "partial" : "stale";
}

int em_msg_format(const struct em_dataset *ds, const struct em_msg_meta *meta, char *out,
                  size_t outlen)
{
    struct out o = {out, 0, outlen, 0};
    put(&o, "{\"schema\":\"edgemon/1\",\"dataset\":");
    put_str(&o, ds->dataset);
    put(&o, ",\"id\":");
    put_str(&o, meta->id);
    put(&o, ",\"agent\":");
    put_str(&o, meta->agent);
    put(&o, ",\"site\":");
    put_str(&o, meta->site ? meta->site : "");
    put(&o, ",\"seq\":%" PRIu64 ",\"boot\":", meta->seq);
    put_str(&o, meta->boot);
    put(&o, ",\"ts\":%" PRId64 ",\"quality\":\"%s\",\"values\":{", meta->ts_ms,
        em_quality_name(ds->quality));
    for (size_t i = 0; i < ds->n; i++) {
        const struct em_value *v = &ds->v[i];
        if (i)
            put(&o, ",");
        put_str(&o, v->key);
        put(&o, ":");
        switch (v->type) {
        case EM_V_NUM:
            put_num(&o, v->u.num);
            break;
        case EM_V_INT:
            put(&o, "%" PRId64, v->u.integer);
            break;
        case EM_V_STR:
            put_str(&o, v->u.str);
            break;
        case EM_V_STRS:
            put(&o, "[");
            for (unsigned k = 0; k < v->u.list.n; k++) {
                if (k)
                    put(&o, ",");
                put_str(&o, ds->strs[v->u.list.off + k]);
            }
            put(&o, "]");
            break;
        case EM_V_NUMS:
            put(&o, "[");
            for (unsigned k = 0; k < v->u.list.n; k++) {
                if (k)
                    put(&o, ",");
                put_num(&o, ds->nums[v->u.list.off + k]);
            }
            put(&o, "]");
            break;
        case EM_V_INPUTS:
            put(&o, "[");
            for (size_t k = 0; k < ds->ninputs; k++) {
                const struct em_mppt_input *in = &ds->inputs[k];
                put(&o, "%s{\"id\":%" PRId64, k ? "," : "", in->id);
                if (in->have & 1) {
                    put(&o, ",\"dc_voltage_v\":");
                    put_num(&o, in->dc_voltage_v);
                }
                if (in->have & 2) {
                    put(&o, ",\"dc_current_a\":");
                    put_num(&o, in->dc_current_a);
                }
                if (in->have & 4) {
                    put(&o, ",\"dc_power_w\":");
                    put_num(&o, in->dc_power_w);
                }
                put(&o, "}");
            }
            put(&o, "]");
            break;
        }
    }
    put(&o, "}}");
    if (o.full) {
        errno = ENOSPC;
        return -1;
    }
    return (int)o.len;
}

void em_boot_id(char *buf, size_t len)
{
    uint64_t r = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &r, sizeof r) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
    }
    if (fd >= 0)
        close(fd);
    snprintf(buf, len, "%016" PRIx64, r);
}
