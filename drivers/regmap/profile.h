/* profile.h - device register maps as data: parsing profile JSON into points.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A profile describes where a device keeps its values and how to decode them.
 * Built-in profiles are compiled in from the JSON files in conf/profiles; any
 * other name
 * is read as a file path. The profile format is documented in README.md.
 */
#ifndef EM_PROFILE_H
#define EM_PROFILE_H

#include <stddef.h>
#include <stdint.h>

enum em_space { EM_SPACE_HOLDING, EM_SPACE_INPUT, EM_SPACE_COIL, EM_SPACE_DISCRETE };

enum em_ptype {
    EM_T_U16,
    EM_T_S16,
    EM_T_U32,
    EM_T_S32,
    EM_T_U64,
    EM_T_S64,
    EM_T_F32,
    EM_T_F64,
    EM_T_STRING,   /* 2 chars per register, high byte first */
    EM_T_BITFIELD, /* u16/u32 by `size`; bits map to strings */
    EM_T_SM16,     /* sign-magnitude: bit 15 sign, bits 0-14 value */
    EM_T_U8,       /* one byte of a register (`byte`: hi/lo) */
    EM_T_S8,       /* two's complement byte */
    EM_T_SM8,      /* sign-magnitude byte: bit 7 sign (Renogy temperatures) */
    EM_T_SUNSSF,   /* SunSpec scale factor: int16 power-of-ten exponent */
    EM_T_BIT,      /* one coil or discrete input */
};

/* Word order for multi-register values: A = most significant byte. */
enum em_order { EM_ORDER_ABCD, EM_ORDER_CDAB, EM_ORDER_BADC, EM_ORDER_DCBA };

#define EM_MAP_MAX 32

/* One code (enum) or bit (bitfield) and its string. Strings owned by the profile. */
struct em_map_entry {
    uint32_t code;
    char *name;
};

struct em_point {
    char *name;               /* output key (canonical) or internal name starting '_' */
    enum em_space space;
    uint32_t addr;            /* 0-based PDU address (absolute once resolved) */
    uint16_t nregs;           /* registers (or bits) occupied by one element */
    uint16_t count;           /* elements: >1 makes a list (cell voltages) */
    enum em_ptype type;
    enum em_order order;
    int byte_hi;              /* U8/S8/SM8: 1 = high byte, 0 = low byte */
    uint32_t mask;            /* applied to integer raw before shift (0 = none) */
    uint8_t shift;
    double scale, offset;     /* value = raw * scale * 10^sf + offset */
    char *sf;                 /* name of a scale-factor point, or NULL */
    int sf_index;             /* resolved index of `sf` in the point table, -1 none */
    int has_na;               /* raw value that means "not implemented" */
    uint64_t na;
    int sunspec_na;           /* apply the SunSpec sentinel for this type */
    int barrier;              /* no request may span into this point from before */
    int optional;             /* absence does not make the reading partial */
    size_t nmap;
    struct em_map_entry map[EM_MAP_MAX]; /* enum (type integer) or bits (bitfield) */
    int is_bits;              /* map is a bit map: value becomes a string list */
    int append;               /* enum: append the code's string to list `name` */
    int repeat;               /* SunSpec repeating block index, -1 otherwise */
    char *group;              /* e.g. "mppt_inputs": element of a repeated group */
};

/* A SunSpec model block as a point template, offsets relative to the model ID. */
struct em_sunspec_model {
    uint16_t ids[4];          /* model ids sharing this layout (101/102/103) */
    size_t nids;
    struct em_point *points;  /* owned */
    size_t npoints;
    uint16_t repeat_offset;   /* first repeating block offset, 0 if none */
    uint16_t repeat_len;      /* registers per repeating block */
    struct em_point *rpoints; /* owned: points of one repeating block */
    size_t nrpoints;
    char *group;              /* group name for repeated blocks */
};

struct em_profile {
    char *name;
    char *driver;             /* "pms", "mppt", "inverter" */
    char *source;             /* citation of the register map */
    uint8_t word_order_default;
    int gap_tcp, gap_rtu;     /* max registers of a gap worth reading through */
    struct em_point *points;  /* owned; fixed-address points */
    size_t npoints;
    struct em_sunspec_model *models; /* owned; non-empty = SunSpec discovery */
    size_t nmodels;
};

/*
 * Parse a profile from JSON text. `origin` names it in errors (a file path or
 * "builtin:NAME"). Returns a new profile (caller frees with em_profile_free) or
 * NULL with a message naming the JSON path in err.
 */
struct em_profile *em_profile_parse(const char *json, const char *origin, char *err,
                                    size_t errlen);

/* Load a built-in profile by name, or a file when `name` contains '/' or ends
 * in ".json". NULL with err on failure. */
struct em_profile *em_profile_load(const char *name, char *err, size_t errlen);

/* Built-in profile text by name; NULL when unknown. Borrowed static storage. */
const char *em_profile_builtin(const char *name);
/* NULL-terminated list of built-in names. */
extern const char *const em_profile_builtin_names[];

void em_profile_free(struct em_profile *p);

/* Helpers used by the engine and the tests. */
unsigned em_ptype_regs(enum em_ptype t); /* registers per element (string: 0) */
int em_point_copy(struct em_point *dst, const struct em_point *src);
void em_point_release(struct em_point *pt);

#endif
