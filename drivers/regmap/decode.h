/* decode.h - register words to numbers: types, word orders, scaling, sentinels.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Our own word-order helpers: libmodbus 3.1.6's float setters do not round-trip
 * and its getters differ between the v3.1.6 tag and Debian's binary
 * (reference/protocols.md section 7.2), so nothing here relies on them.
 */
#ifndef EM_DECODE_H
#define EM_DECODE_H

#include <stdint.h>

#include "profile.h"

/* Assemble 2 or 4 registers (wire order) into an integer, honouring `order`.
 * A is the most significant byte of the value. */
uint32_t em_words_u32(const uint16_t *w, enum em_order order);
uint64_t em_words_u64(const uint16_t *w, enum em_order order);
/* The inverse, for the simulator and tests. */
void em_u32_words(uint32_t v, enum em_order order, uint16_t *w);
void em_u64_words(uint64_t v, enum em_order order, uint16_t *w);
float em_words_f32(const uint16_t *w, enum em_order order);
double em_words_f64(const uint16_t *w, enum em_order order);
void em_f32_words(float f, enum em_order order, uint16_t *w);
void em_f64_words(double f, enum em_order order, uint16_t *w);

/* Decode result of one element. */
enum em_dres {
    EM_D_OK,
    EM_D_NA,   /* the device says "not implemented" (sentinel) */
    EM_D_BAD,  /* not a finite number */
};

/*
 * Decode element `idx` of point `pt` from `regs` (its registers, borrowed).
 * `raw` receives the masked, shifted integer (for enums and bit maps); `value`
 * the engineering value before scale factors other than pt->scale/offset are
 * applied: value = raw * scale + offset. sf (the SunSpec exponent, 0 if none)
 * multiplies by 10^sf. Strings are not handled here.
 */
enum em_dres em_decode_point(const struct em_point *pt, const uint16_t *regs, int sf,
                             int64_t *raw, double *value);

/* The SunSpec "not implemented" sentinel check for a raw bit pattern. */
int em_sunspec_is_na(enum em_ptype t, unsigned nregs, uint64_t bits);

#endif
