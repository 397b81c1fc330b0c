/* test_decode.c - every type and word order, scale factors and sentinels.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "decode.h"
#include "harness.h"

/* Wire registers written out by hand (not with our encoders) so a symmetric bug
 * in encoder and decoder cannot hide. 0x01020304 and 123456.0f = 0x47F12000
 * (the float table of reference/protocols.md 7.2). */
static void test_u32_orders(void)
{
    const uint16_t abcd[2] = {0x0102, 0x0304}, cdab[2] = {0x0304, 0x0102};
    const uint16_t badc[2] = {0x0201, 0x0403}, dcba[2] = {0x0403, 0x0201};
    CHECK_EQ_INT(em_words_u32(abcd, EM_ORDER_ABCD), 0x01020304);
    CHECK_EQ_INT(em_words_u32(cdab, EM_ORDER_CDAB), 0x01020304);
    CHECK_EQ_INT(em_words_u32(badc, EM_ORDER_BADC), 0x01020304);
    CHECK_EQ_INT(em_words_u32(dcba, EM_ORDER_DCBA), 0x01020304);
    CHECK_EQ_INT(em_words_u32(abcd, EM_ORDER_CDAB), 0x03040102);
}

static void test_f32_orders(void)
{
    const uint16_t abcd[2] = {0x47F1, 0x2000}, cdab[2] = {0x2000, 0x47F1};
    const uint16_t badc[2] = {0xF147, 0x0020}, dcba[2] = {0x0020, 0xF147};
    CHECK_NEAR(em_words_f32(abcd, EM_ORDER_ABCD), 123456.0, 0);
    CHECK_NEAR(em_words_f32(cdab, EM_ORDER_CDAB), 123456.0, 0);
    CHECK_NEAR(em_words_f32(badc, EM_ORDER_BADC), 123456.0, 0);
    CHECK_NEAR(em_words_f32(dcba, EM_ORDER_DCBA), 123456.0, 0);
}

static void test_u64_orders(void)
{
    const uint16_t abcd[4] = {0x0102, 0x0304, 0x0506, 0x0708};
    const uint16_t cdab[4] = {0x0708, 0x0506, 0x0304, 0x0102};
    const uint16_t badc[4] = {0x0201, 0x0403, 0x0605, 0x0807};
    const uint16_t dcba[4] = {0x0807, 0x0605, 0x0403, 0x0201};
    CHECK(em_words_u64(abcd, EM_ORDER_ABCD) == 0x0102030405060708ull);
    CHECK(em_words_u64(cdab, EM_ORDER_CDAB) == 0x0102030405060708ull);
    CHECK(em_words_u64(badc, EM_ORDER_BADC) == 0x0102030405060708ull);
    CHECK(em_words_u64(dcba, EM_ORDER_DCBA) == 0x0102030405060708ull);
}

static void test_f64_orders(void)
{
    /* -1234.5 = 0xC0934A0000000000 */
    const uint16_t abcd[4] = {0xC093, 0x4A00, 0x0000, 0x0000};
    const uint16_t dcba[4] = {0x0000, 0x0000, 0x004A, 0x93C0};
    CHECK_NEAR(em_words_f64(abcd, EM_ORDER_ABCD), -1234.5, 0);
    CHECK_NEAR(em_words_f64(dcba, EM_ORDER_DCBA), -1234.5, 0);
}

static void test_encoders_round_trip(void)
{
    uint16_t w[4];
    for (int o = 0; o < 4; o++) {
        em_u32_words(0xDEADBEEFu, (enum em_order)o, w);
        CHECK(em_words_u32(w, (enum em_order)o) == 0xDEADBEEFu);
        em_u64_words(0x0123456789ABCDEFull, (enum em_order)o, w);
        CHECK(em_words_u64(w, (enum em_order)o) == 0x0123456789ABCDEFull);
        em_f32_words(-0.15625f, (enum em_order)o, w);
        CHECK_NEAR(em_words_f32(w, (enum em_order)o), -0.15625, 0);
        em_f64_words(6.02214076e23, (enum em_order)o, w);
        CHECK_NEAR(em_words_f64(w, (enum em_order)o), 6.02214076e23, 0);
    }
    /* CDAB must put the low word first, as EPEver does. */
    em_u32_words(0x00010002u, EM_ORDER_CDAB, w);
    CHECK_EQ_INT(w[0], 0x0002);
    CHECK_EQ_INT(w[1], 0x0001);
}

static struct em_point pt_of(enum em_ptype t, enum em_order o)
{
    struct em_point p;
    memset(&p, 0, sizeof p);
    p.type = t;
    p.order = o;
    p.nregs = (uint16_t)em_ptype_regs(t);
    p.count = 1;
    p.scale = 1.0;
    p.sf_index = -1;
    return p;
}

/* Decode one point; returns the result and the value. */
static enum em_dres dec(const struct em_point *p, const uint16_t *r, int sf, double *v)
{
    int64_t raw;
    return em_decode_point(p, r, sf, &raw, v);
}

static void test_every_type(void)
{
    double v;
    struct em_point p;
    uint16_t r[4] = {0xFFFE, 0xFFFF, 0xFFFF, 0xFFF6};

    p = pt_of(EM_T_U16, EM_ORDER_ABCD);
    CHECK(dec(&p, r, 0, &v) == EM_D_OK);
    CHECK_NEAR(v, 65534, 0);
    p = pt_of(EM_T_S16, EM_ORDER_ABCD);
    dec(&p, r, 0, &v);
    CHECK_NEAR(v, -2, 0);
    p = pt_of(EM_T_U32, EM_ORDER_ABCD);
    dec(&p, r, 0, &v);
    CHECK_NEAR(v, 4294901759.0, 0); /* 0xFFFEFFFF */
    p = pt_of(EM_T_S32, EM_ORDER_CDAB);
    dec(&p, r, 0, &v);
    CHECK_NEAR(v, -2, 0); /* CDAB: high word r[1] 0xFFFF, low word r[0] 0xFFFE */
    p = pt_of(EM_T_S64, EM_ORDER_ABCD);
    dec(&p, r, 0, &v);
    CHECK_NEAR(v, (double)(int64_t)0xFFFEFFFFFFFFFFF6ull, 0);
    p = pt_of(EM_T_U64, EM_ORDER_ABCD);
    uint16_t big[4] = {0, 0, 0x0001, 0x0000};
    dec(&p, big, 0, &v);
    CHECK_NEAR(v, 65536, 0);

    uint16_t sm[1] = {0x8005};
    p = pt_of(EM_T_SM16, EM_ORDER_ABCD);
    dec(&p, sm, 0, &v);
    CHECK_NEAR(v, -5, 0);

    /* Renogy 0x0103: controller +25 in the high byte, battery -5 in the low byte. */
    uint16_t temps[1] = {0x1985};
    p = pt_of(EM_T_SM8, EM_ORDER_ABCD);
    p.byte_hi = 1;
    dec(&p, temps, 0, &v);
    CHECK_NEAR(v, 25, 0);
    p.byte_hi = 0;
    dec(&p, temps, 0, &v);
    CHECK_NEAR(v, -5, 0);
    p = pt_of(EM_T_S8, EM_ORDER_ABCD);
    dec(&p, temps, 0, &v);
    CHECK_NEAR(v, -123, 0); /* 0x85 two's complement */
    p = pt_of(EM_T_U8, EM_ORDER_ABCD);
    p.byte_hi = 1;
    dec(&p, temps, 0, &v);
    CHECK_NEAR(v, 0x19, 0);

    uint16_t fl[2] = {0x47F1, 0x2000};
    p = pt_of(EM_T_F32, EM_ORDER_ABCD);
    dec(&p, fl, 0, &v);
    CHECK_NEAR(v, 123456, 0);
    uint16_t d64[4] = {0xC093, 0x4A00, 0, 0};
    p = pt_of(EM_T_F64, EM_ORDER_ABCD);
    dec(&p, d64, 0, &v);
    CHECK_NEAR(v, -1234.5, 0);

    uint16_t sf[1] = {0xFFFE};
    p = pt_of(EM_T_SUNSSF, EM_ORDER_ABCD);
    dec(&p, sf, 0, &v);
    CHECK_NEAR(v, -2, 0);

    uint16_t bit[1] = {1};
    p = pt_of(EM_T_BIT, EM_ORDER_ABCD);
    dec(&p, bit, 0, &v);
    CHECK_NEAR(v, 1, 0);

    uint16_t bf[2] = {0x0001, 0x8000};
    p = pt_of(EM_T_BITFIELD, EM_ORDER_ABCD);
    p.nregs = 2;
    int64_t raw;
    CHECK(em_decode_point(&p, bf, 0, &raw, &v) == EM_D_OK);
    CHECK(raw == 0x00018000);
}

static void test_s32_cdab_sign(void)
{
    /* EPEver net battery current -12.34 A = -1234 = 0xFFFFFB2E, low word first. */
    uint16_t r[2] = {0xFB2E, 0xFFFF};
    struct em_point p = pt_of(EM_T_S32, EM_ORDER_CDAB);
    double v;
    p.scale = 0.01;
    CHECK(dec(&p, r, 0, &v) == EM_D_OK);
    CHECK_NEAR(v, -12.34, 1e-9);
}

static void test_byte_swapped_u16(void)
{
    uint16_t r[1] = {0x3412};
    struct em_point p = pt_of(EM_T_U16, EM_ORDER_BADC);
    double v;
    dec(&p, r, 0, &v);
    CHECK_NEAR(v, 0x1234, 0);
}

static void test_scale_offset_sf(void)
{
    double v;
    uint16_t r[1] = {2981};
    struct em_point p = pt_of(EM_T_U16, EM_ORDER_ABCD);
    p.scale = 0.1;
    p.offset = -273.15; /* Seplos: 0.1 K */
    dec(&p, r, 0, &v);
    CHECK_NEAR(v, 24.95, 1e-9);
    p = pt_of(EM_T_U16, EM_ORDER_ABCD);
    uint16_t w[1] = {2301};
    dec(&p, w, -1, &v);
    CHECK_NEAR(v, 230.1, 1e-9);
    dec(&p, w, 2, &v);
    CHECK_NEAR(v, 230100, 1e-6);
}

static void test_mask_shift(void)
{
    /* EPEver 0x3201: D3-2 charging status 2 = boost, D0 running. */
    uint16_t r[1] = {0x0009};
    struct em_point p = pt_of(EM_T_U16, EM_ORDER_ABCD);
    int64_t raw;
    double v;
    p.mask = 0x000C;
    p.shift = 2;
    CHECK(em_decode_point(&p, r, 0, &raw, &v) == EM_D_OK);
    CHECK_EQ_INT(raw, 2);
}

static void test_sentinels(void)
{
    double v;
    struct em_point p = pt_of(EM_T_S16, EM_ORDER_ABCD);
    p.sunspec_na = 1;
    uint16_t s16[1] = {0x8000}, u16[1] = {0xFFFF}, ok[1] = {0x7FFF};
    CHECK(dec(&p, s16, 0, &v) == EM_D_NA);
    CHECK(dec(&p, ok, 0, &v) == EM_D_OK);
    p = pt_of(EM_T_U16, EM_ORDER_ABCD);
    p.sunspec_na = 1;
    CHECK(dec(&p, u16, 0, &v) == EM_D_NA);
    p = pt_of(EM_T_U32, EM_ORDER_ABCD);
    p.sunspec_na = 1;
    uint16_t u32[2] = {0xFFFF, 0xFFFF}, s32[2] = {0x8000, 0x0000};
    CHECK(dec(&p, u32, 0, &v) == EM_D_NA);
    p = pt_of(EM_T_S32, EM_ORDER_ABCD);
    p.sunspec_na = 1;
    CHECK(dec(&p, s32, 0, &v) == EM_D_NA);
    p = pt_of(EM_T_F32, EM_ORDER_ABCD);
    p.sunspec_na = 1;
    uint16_t nan[2] = {0x7FC0, 0x0000};
    CHECK(dec(&p, nan, 0, &v) == EM_D_NA);
    p = pt_of(EM_T_SUNSSF, EM_ORDER_ABCD);
    p.sunspec_na = 1;
    CHECK(dec(&p, s16, 0, &v) == EM_D_NA);
    /* Without the flag, the same patterns are values. */
    p = pt_of(EM_T_U16, EM_ORDER_ABCD);
    CHECK(dec(&p, u16, 0, &v) == EM_D_OK);
    /* A profile's own sentinel. */
    p.has_na = 1;
    p.na = 0;
    uint16_t zero[1] = {0};
    CHECK(dec(&p, zero, 0, &v) == EM_D_NA);
}

static void test_non_finite_is_bad(void)
{
    double v;
    struct em_point p = pt_of(EM_T_F32, EM_ORDER_ABCD);
    uint16_t inf[2] = {0x7F80, 0x0000}, nan[2] = {0x7FC0, 0x0001};
    CHECK(dec(&p, inf, 0, &v) == EM_D_BAD);
    CHECK(dec(&p, nan, 0, &v) == EM_D_BAD);
}

int main(void)
{
    RUN(test_u32_orders);
    RUN(test_f32_orders);
    RUN(test_u64_orders);
    RUN(test_f64_orders);
    RUN(test_encoders_round_trip);
    RUN(test_every_type);
    RUN(test_s32_cdab_sign);
    RUN(test_byte_swapped_u16);
    RUN(test_scale_offset_sf);
    RUN(test_mask_shift);
    RUN(test_sentinels);
    RUN(test_non_finite_is_bad);
    DONE();
}
