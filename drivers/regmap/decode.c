/* decode.c - register words to numbers: types, word orders, scaling, sentinels.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "decode.h"

#include <math.h>
#include <string.h>

/*
 * Byte positions: the value's bytes A (most significant) .. D, and the registers
 * on the wire each carry a high and a low byte. For 32 bits:
 *   ABCD: reg0 = A B, reg1 = C D   (Modbus "big endian", SunSpec)
 *   CDAB: reg0 = C D, reg1 = A B   (low word first: EPEver)
 *   BADC: reg0 = B A, reg1 = D C   (bytes swapped in each word)
 *   DCBA: reg0 = D C, reg1 = B A   (little endian)
 * 64-bit values extend the same rule to four words.
 */
static uint16_t swap16(uint16_t v)
{
    return (uint16_t)((v >> 8) | (v << 8));
}

uint64_t em_words_u64(const uint16_t *w, enum em_order order)
{
    uint64_t v = 0;
    for (int i = 0; i < 4; i++) {
        int src = (order == EM_ORDER_ABCD || order == EM_ORDER_BADC) ? i : 3 - i;
        uint16_t word = w[src];
        if (order == EM_ORDER_BADC || order == EM_ORDER_DCBA)
            word = swap16(word);
        v = (v << 16) | word;
    }
    return v;
}

uint32_t em_words_u32(const uint16_t *w, enum em_order order)
{
    uint16_t hi, lo;
    if (order == EM_ORDER_ABCD || order == EM_ORDER_BADC) {
        hi = w[0];
        lo = w[1];
    } else {
        hi = w[1];
        lo = w[0];
    }
    if (order == EM_ORDER_BADC || order == EM_ORDER_DCBA) {
        hi = swap16(hi);
        lo = swap16(lo);
    }
    return ((uint32_t)hi << 16) | lo;
}

void em_u32_words(uint32_t v, enum em_order order, uint16_t *w)
{
    uint16_t hi = (uint16_t)(v >> 16), lo = (uint16_t)v;
    if (order == EM_ORDER_BADC || order == EM_ORDER_DCBA) {
        hi = swap16(hi);
        lo = swap16(lo);
    }
    if (order == EM_ORDER_ABCD || order == EM_ORDER_BADC) {
        w[0] = hi;
        w[1] = lo;
    } else {
        w[0] = lo;
        w[1] = hi;
    }
}

void em_u64_words(uint64_t v, enum em_order order, uint16_t *w)
{
    for (int i = 0; i < 4; i++) {
        uint16_t word = (uint16_t)(v >> (48 - 16 * i));
        if (order == EM_ORDER_BADC || order == EM_ORDER_DCBA)
            word = swap16(word);
        int dst = (order == EM_ORDER_ABCD || order == EM_ORDER_BADC) ? i : 3 - i;
        w[dst] = word;
    }
}

float em_words_f32(const uint16_t *w, enum em_order order)
{
    uint32_t bits = em_words_u32(w, order);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

double em_words_f64(const uint16_t *w, enum em_order order)
{
    uint64_t bits = em_words_u64(w, order);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

void em_f32_words(float f, enum em_order order, uint16_t *w)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    em_u32_words(bits, order, w);
}

void em_f64_words(double f, enum em_order order, uint16_t *w)
{
    uint64_t bits;
    memcpy(&bits, &f, sizeof bits);
    em_u64_words(bits, order, w);
}

/* SunSpec sentinels (reference/protocols.md section 4.1): int16 0x8000, uint16
 * 0xFFFF, int32 0x80000000, uint32 0xFFFFFFFF, float32 NaN, sunssf 0x8000. The
 * acc types use 0, but an accumulator at 0 is also a legitimate reading on a new
 * device, so profiles mark those explicitly with "na" if they want it. */
int em_sunspec_is_na(enum em_ptype t, unsigned nregs, uint64_t bits)
{
    switch (t) {
    case EM_T_S16:
    case EM_T_SUNSSF:
        return bits == 0x8000;
    case EM_T_U16:
        return bits == 0xFFFF;
    case EM_T_S32:
        return bits == 0x80000000u;
    case EM_T_U32:
        return bits == 0xFFFFFFFFu;
    case EM_T_S64:
        return bits == 0x8000000000000000ull;
    case EM_T_U64:
        return bits == 0xFFFFFFFFFFFFFFFFull;
    case EM_T_F32:
        return bits == 0x7FC00000u;
    case EM_T_BITFIELD:
        return nregs == 2 ? bits == 0xFFFFFFFFu : bits == 0xFFFF;
    default:
        return 0;
    }
}

static int64_t sign_magnitude(uint64_t v, unsigned bits)
{
    uint64_t sign = 1ull << (bits - 1);
    int64_t mag = (int64_t)(v & (sign - 1));
    return (v & sign) ? -mag : mag;
}

enum em_dres em_decode_point(const struct em_point *pt, const uint16_t *regs, int sf,
                             int64_t *raw, double *value)
{
    uint64_t bits = 0;
    int64_t r = 0;
    double v;
    int is_float = 0;

    switch (pt->type) {
    case EM_T_U16:
    case EM_T_S16:
    case EM_T_SM16:
    case EM_T_SUNSSF:
    case EM_T_BIT:
        bits = regs[0];
        if (pt->order == EM_ORDER_BADC || pt->order == EM_ORDER_DCBA)
            bits = swap16(regs[0]);
        break;
    case EM_T_U8:
    case EM_T_S8:
    case EM_T_SM8:
        bits = pt->byte_hi ? regs[0] >> 8 : regs[0] & 0xFF;
        break;
    case EM_T_U32:
    case EM_T_S32:
    case EM_T_F32:
        bits = em_words_u32(regs, pt->order);
        break;
    case EM_T_BITFIELD:
        bits = pt->nregs == 2 ? em_words_u32(regs, pt->order) : regs[0];
        break;
    case EM_T_U64:
    case EM_T_S64:
    case EM_T_F64:
        bits = em_words_u64(regs, pt->order);
        break;
    case EM_T_STRING:
        return EM_D_BAD;
    }

    if (pt->has_na && bits == pt->na)
        return EM_D_NA;
    if (pt->sunspec_na && em_sunspec_is_na(pt->type, pt->nregs, bits))
        return EM_D_NA;

    switch (pt->type) {
    case EM_T_S16:
    case EM_T_SUNSSF:
        r = (int16_t)bits;
        break;
    case EM_T_S8:
        r = (int8_t)bits;
        break;
    case EM_T_SM16:
        r = sign_magnitude(bits, 16);
        break;
    case EM_T_SM8:
        r = sign_magnitude(bits, 8);
        break;
    case EM_T_S32:
        r = (int32_t)(uint32_t)bits;
        break;
    case EM_T_S64:
        r = (int64_t)bits;
        break;
    case EM_T_F32: {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        v = f;
        is_float = 1;
        break;
    }
    case EM_T_F64: {
        double d;
        memcpy(&d, &bits, sizeof d);
        v = d;
        is_float = 1;
        break;
    }
    default:
        r = (int64_t)bits;
        break;
    }

    if (is_float) {
        if (!isfinite(v))
            return EM_D_BAD;
        r = (int64_t)v;
    } else {
        if (pt->mask)
            r = (int64_t)((uint64_t)r & pt->mask);
        r = (int64_t)((uint64_t)r >> pt->shift);
        v = (double)r;
    }
    *raw = r;
    v = v * pt->scale;
    if (sf)
        v *= pow(10.0, sf);
    v += pt->offset;
    if (!isfinite(v))
        return EM_D_BAD;
    *value = v;
    return EM_D_OK;
}
