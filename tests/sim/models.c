/* models.c - register maps of the simulated devices (EPEver, Renogy, Seplos, SunSpec).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Every map follows /work/shared/reference/protocols.md (sections 4, 5 and 6); addresses
 * are 0-based PDU addresses. The values are the ones listed in tests/sim/README.md and
 * tests/sim/expected/<model>.json: change all three together.
 *
 * A device is a set of sparse blocks per Modbus table. An address outside every block is
 * a hole and is answered with exception 2 (illegal data address), as real devices do.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* SunSpec "not implemented" sentinels (protocols.md section 4.1). */
#define SS_NI_U16   0xFFFFu
#define SS_NI_S16   0x8000u
#define SS_NI_SF    0x8000u
#define SS_NI_U32   0xFFFFFFFFu
#define SS_NAN_BITS 0x7FC00000u

/* Index of the block of table sp holding addr, or -1 in a hole. */
static int find_block(const struct sim_device *dev, enum sim_space sp, unsigned int addr)
{
    for (int i = 0; i < dev->nblocks[sp]; i++) {
        const struct sim_block *b = &dev->blocks[sp][i];
        if (addr >= b->start && addr - b->start < b->count) {
            return i;
        }
    }
    return -1;
}

int sim_device_get(const struct sim_device *dev, enum sim_space sp, unsigned int addr,
                   uint16_t *val)
{
    int i = find_block(dev, sp, addr);

    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    *val = dev->blocks[sp][i].val[addr - dev->blocks[sp][i].start];
    return 0;
}

int sim_device_set(struct sim_device *dev, enum sim_space sp, unsigned int addr,
                   uint16_t val)
{
    int i = find_block(dev, sp, addr);

    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    /* Bit tables hold 0/1 only, whatever a writer sends. */
    if (sp == SIM_COIL || sp == SIM_DISCRETE) {
        val = val ? 1 : 0;
    }
    dev->blocks[sp][i].val[addr - dev->blocks[sp][i].start] = val;
    return 0;
}

/* Adds a zero-filled block; a failure is counted as a build error. */
static void add_block(struct sim_device *dev, enum sim_space sp, unsigned int start,
                      unsigned int count)
{
    struct sim_block *b;

    if (dev->nblocks[sp] >= SIM_MAX_BLOCKS || count == 0 ||
        dev->pool_used + count > SIM_POOL_WORDS || start + count > 0x10000u) {
        dev->build_errors++;
        return;
    }
    b = &dev->blocks[sp][dev->nblocks[sp]++];
    b->start = start;
    b->count = count;
    b->val = &dev->pool[dev->pool_used];
    dev->pool_used += count;
}

static void put(struct sim_device *dev, enum sim_space sp, unsigned int addr, uint16_t v)
{
    if (sim_device_set(dev, sp, addr, v) < 0) {
        dev->build_errors++;
    }
}

/* Two's complement in one register (EPEver s16, Seplos s16, SunSpec int16/sunssf). */
static void put_s16(struct sim_device *dev, enum sim_space sp, unsigned int addr, int v)
{
    put(dev, sp, addr, (uint16_t)(v & 0xFFFF));
}

/* 32-bit value, high word at the lower address (ABCD: SunSpec, Renogy totals). */
static void put_u32_abcd(struct sim_device *dev, enum sim_space sp, unsigned int addr,
                         uint32_t v)
{
    put(dev, sp, addr, (uint16_t)(v >> 16));
    put(dev, sp, addr + 1, (uint16_t)(v & 0xFFFFu));
}

/* 32-bit value, low word at the lower address (CDAB: EPEver "L, H" pairs, 5.1). */
static void put_u32_cdab(struct sim_device *dev, enum sim_space sp, unsigned int addr,
                         uint32_t v)
{
    put(dev, sp, addr, (uint16_t)(v & 0xFFFFu));
    put(dev, sp, addr + 1, (uint16_t)(v >> 16));
}

static void put_s32_cdab(struct sim_device *dev, enum sim_space sp, unsigned int addr,
                         int32_t v)
{
    put_u32_cdab(dev, sp, addr, (uint32_t)v);
}

/*
 * IEEE-754 single, high word first (SunSpec float32). Own helper on purpose: the
 * libmodbus 3.1.6 float setters do not round-trip on Debian (protocols.md section 7.2).
 */
static void put_f32_abcd(struct sim_device *dev, enum sim_space sp, unsigned int addr,
                         float f)
{
    uint32_t bits;

    memcpy(&bits, &f, sizeof(bits));
    put_u32_abcd(dev, sp, addr, bits);
}

/* ASCII, two characters per register, first character in the high byte, NUL padded. */
static void put_str(struct sim_device *dev, enum sim_space sp, unsigned int addr,
                    unsigned int nregs, const char *s)
{
    size_t len = strlen(s);

    for (unsigned int i = 0; i < nregs; i++) {
        unsigned char hi = 2 * i < len ? (unsigned char)s[2 * i] : 0;
        unsigned char lo = 2 * i + 1 < len ? (unsigned char)s[2 * i + 1] : 0;
        put(dev, sp, addr + i, (uint16_t)(hi << 8 | lo));
    }
}

static void drift(struct sim_device *dev, enum sim_space sp, unsigned int addr,
                  int is_float, double base, double amp, double period_s)
{
    struct sim_drift *d;

    if (dev->ndrift >= SIM_MAX_DRIFT) {
        dev->build_errors++;
        return;
    }
    d = &dev->drift[dev->ndrift++];
    d->space = sp;
    d->addr = addr;
    d->is_float = is_float;
    d->base = base;
    d->amp = amp;
    d->period_s = period_s;
}

void sim_device_vary(struct sim_device *dev, double t)
{
    for (int i = 0; i < dev->ndrift; i++) {
        const struct sim_drift *d = &dev->drift[i];
        /* The phase differs per entry so the values do not move in lockstep. */
        double v = d->base + d->amp * sin(2.0 * M_PI * t / d->period_s + i);

        if (d->is_float) {
            put_f32_abcd(dev, d->space, d->addr, (float)v);
        } else {
            put_s16(dev, d->space, d->addr, (int)lround(v));
        }
    }
}

/*
 * EPEver Tracer (protocols.md section 5.1). Input registers are served in the blocks a
 * real controller answers; the holes we keep are 0x3009-0x300D (between the rated data
 * and rated load current), 0x3113-0x3119 (after the heat-sink temperature, before SOC),
 * everything between the blocks (0x300F-0x30FF, 0x311E-0x31FF, 0x3203-0x32FF) and above
 * 0x331E. Reserved words inside a block (0x3108-0x310B, 0x311C, 0x3316-0x3319 and the
 * unlisted holding registers) read as 0. 32-bit values are CDAB (low word first).
 */
static void model_epever(struct sim_device *dev)
{
    const enum sim_space in = SIM_INPUT, hr = SIM_HOLDING;
    static const uint16_t thresholds[12] = {
        /* 0x9003-0x900E, 12 V basis, /100: HVD, charging limit, over-voltage reconnect,
         * equalize, boost, float, boost reconnect, low-voltage reconnect, under-voltage
         * recover, under-voltage warning, LVD, discharging limit */
        1600, 1500, 1500, 1460, 1440, 1380, 1320, 1260, 1220, 1200, 1110, 1060};

    add_block(dev, in, 0x3000, 0x3008 - 0x3000 + 1);
    add_block(dev, in, 0x300E, 1);
    add_block(dev, in, 0x3100, 0x3112 - 0x3100 + 1);
    add_block(dev, in, 0x311A, 0x311D - 0x311A + 1);
    add_block(dev, in, 0x3200, 0x3202 - 0x3200 + 1);
    add_block(dev, in, 0x3300, 0x331E - 0x3300 + 1);
    add_block(dev, hr, 0x9000, 0x9070 - 0x9000 + 1);
    add_block(dev, SIM_DISCRETE, 0x2000, 0x200C - 0x2000 + 1);

    /* Rated data */
    put(dev, in, 0x3000, 15000);           /* PV rated voltage 150.00 V */
    put(dev, in, 0x3001, 4000);            /* PV rated current 40.00 A */
    put_u32_cdab(dev, in, 0x3002, 104000); /* PV rated power 1040.00 W */
    put(dev, in, 0x3004, 2400);            /* rated battery voltage 24.00 V */
    put(dev, in, 0x3005, 4000);            /* rated charging current 40.00 A */
    put_u32_cdab(dev, in, 0x3006, 104000); /* rated charging power 1040.00 W */
    put(dev, in, 0x3008, 2);               /* charging mode 2 = MPPT */
    put(dev, in, 0x300E, 4000);            /* rated load current 40.00 A */

    /* Real-time data */
    put(dev, in, 0x3100, 7248);           /* PV voltage 72.48 V */
    put(dev, in, 0x3101, 1035);           /* PV current 10.35 A */
    put_u32_cdab(dev, in, 0x3102, 75017); /* PV power 750.17 W: L 9481, H 1 */
    put(dev, in, 0x3104, 2712);           /* battery voltage 27.12 V */
    put(dev, in, 0x3105, 2766);           /* battery charging current 27.66 A */
    put_u32_cdab(dev, in, 0x3106, 75014); /* charging power 750.14 W: L 9478, H 1 */
    put(dev, in, 0x310C, 2710);           /* load voltage 27.10 V */
    put(dev, in, 0x310D, 312);            /* load current 3.12 A */
    put_u32_cdab(dev, in, 0x310E, 8455);  /* load power 84.55 W */
    put_s16(dev, in, 0x3110, -250);       /* battery temperature -2.50 C (0xFF06) */
    put_s16(dev, in, 0x3111, 3175);       /* case temperature 31.75 C */
    put_s16(dev, in, 0x3112, 3540);       /* heat-sink temperature 35.40 C */
    put(dev, in, 0x311A, 78);             /* SOC 78 % (scale 1) */
    put_s16(dev, in, 0x311B, -250);       /* remote battery temperature -2.50 C */
    put(dev, in, 0x311D, 2400);           /* battery real rated voltage 24.00 V */

    /* Status */
    put(dev, in, 0x3200, 0x0000); /* battery status: normal */
    put(dev, in, 0x3201, 0x0009); /* charging: D3-2 = 2 boost, D0 running */
    put(dev, in, 0x3202, 0x0001); /* discharging: D0 running */

    /* Statistics */
    put(dev, in, 0x3300, 9875);            /* max PV voltage today 98.75 V */
    put(dev, in, 0x3301, 112);             /* min PV voltage today 1.12 V */
    put(dev, in, 0x3302, 2856);            /* max battery voltage today 28.56 V */
    put(dev, in, 0x3303, 2498);            /* min battery voltage today 24.98 V */
    put_u32_cdab(dev, in, 0x3304, 123);    /* consumed today 1.23 kWh */
    put_u32_cdab(dev, in, 0x3306, 3210);   /* consumed this month 32.10 kWh */
    put_u32_cdab(dev, in, 0x3308, 45678);  /* consumed this year 456.78 kWh */
    put_u32_cdab(dev, in, 0x330A, 123456); /* consumed total 1234.56 kWh */
    put_u32_cdab(dev, in, 0x330C, 456);    /* generated today 4.56 kWh */
    put_u32_cdab(dev, in, 0x330E, 9876);   /* generated this month 98.76 kWh */
    put_u32_cdab(dev, in, 0x3310, 87654);  /* generated this year 876.54 kWh */
    put_u32_cdab(dev, in, 0x3312,
                 2345678);               /* generated total 23456.78 kWh: L 51918, H 35 */
    put_u32_cdab(dev, in, 0x3314, 2340); /* CO2 reduction 23.40 t */
    put(dev, in, 0x331A, 2712);          /* battery voltage 27.12 V */
    put_s32_cdab(dev, in, 0x331B, 2454); /* net battery current +24.54 A (charging) */
    put_s16(dev, in, 0x331D, -250);      /* battery temperature -2.50 C */
    put_s16(dev, in, 0x331E, 450);       /* ambient temperature 4.50 C */

    /* Settings */
    put(dev, hr, 0x9000, 1);   /* battery type: sealed */
    put(dev, hr, 0x9001, 200); /* battery capacity 200 Ah */
    put(dev, hr, 0x9002, 300); /* temperature compensation 3.00 mV/C/2V */
    for (unsigned int i = 0; i < 12; i++) {
        put(dev, hr, 0x9003 + i, thresholds[i]);
    }
    put(dev, hr, 0x9013, 0x2D0A); /* RTC: minute 45, second 10 */
    put(dev, hr, 0x9014, 0x0F0C); /* RTC: day 15, hour 12 */
    put(dev, hr, 0x9015, 0x1A06); /* RTC: year 26, month 6 */
    put(dev, hr, 0x9067, 2);      /* rated voltage code: 24 V */
    put(dev, hr, 0x9070, 0);      /* charging mode: voltage compensation */

    /* Discrete inputs 0x2000-0x200C all 0: no over-temperature, daytime. */

    drift(dev, in, 0x3100, 0, 7248, 60, 45);
    drift(dev, in, 0x3101, 0, 1035, 40, 60);
    drift(dev, in, 0x3104, 0, 2712, 6, 90);
    drift(dev, in, 0x3111, 0, 3175, 50, 120);
}

/* Renogy sign-magnitude byte: bit 7 is the sign, bits 0-6 the value (section 5.2). */
static uint16_t sign_magnitude(int v)
{
    return (uint16_t)(v < 0 ? 0x80 | (-v & 0x7F) : (v & 0x7F));
}

/*
 * Renogy Rover (protocols.md section 5.2): holding registers only, FC 03. Blocks
 * 0x000A-0x0022 (product data), 0x0100-0x0122 (real-time and history) and 0xE002-0xE004
 * (battery settings). Totals are 32-bit, high word first.
 */
static void model_renogy(struct sim_device *dev, int unit)
{
    const enum sim_space hr = SIM_HOLDING;

    add_block(dev, hr, 0x000A, 0x0022 - 0x000A + 1);
    add_block(dev, hr, 0x0100, 0x0122 - 0x0100 + 1);
    add_block(dev, hr, 0xE002, 0xE004 - 0xE002 + 1);

    put(dev, hr, 0x000A, 0x1828); /* 24 V system, 40 A rated charge current */
    put(dev, hr, 0x000B, 0x1400); /* 20 A rated discharge current, type 0 */
    put_str(dev, hr, 0x000C, 8, "RNG-CTRL-RVR40  ");
    put_u32_abcd(dev, hr, 0x0014, 0x00010203); /* software version 1.2.3 */
    put_u32_abcd(dev, hr, 0x0016, 0x00010100); /* hardware version 1.1.0 */
    put_u32_abcd(dev, hr, 0x0018, 0x12345678); /* serial number */
    put(dev, hr, 0x001A, (uint16_t)unit);      /* device address */

    put(dev, hr, 0x0100, 85);   /* SOC 85 % (low byte) */
    put(dev, hr, 0x0101, 266);  /* battery voltage 26.6 V */
    put(dev, hr, 0x0102, 1234); /* charging current 12.34 A */
    /* controller +25 C in the high byte, battery -5 C (0x85) in the low byte: 0x1985 */
    put(dev, hr, 0x0103, (uint16_t)(sign_magnitude(25) << 8 | sign_magnitude(-5)));
    put(dev, hr, 0x0104, 265);            /* load voltage 26.5 V */
    put(dev, hr, 0x0105, 215);            /* load current 2.15 A */
    put(dev, hr, 0x0106, 57);             /* load power 57 W */
    put(dev, hr, 0x0107, 683);            /* PV voltage 68.3 V */
    put(dev, hr, 0x0108, 496);            /* PV current 4.96 A */
    put(dev, hr, 0x0109, 339);            /* PV power 339 W */
    put(dev, hr, 0x010A, 1);              /* load on */
    put(dev, hr, 0x010B, 248);            /* min battery voltage today 24.8 V */
    put(dev, hr, 0x010C, 287);            /* max battery voltage today 28.7 V */
    put(dev, hr, 0x010D, 1890);           /* max charging current today 18.90 A */
    put(dev, hr, 0x010E, 520);            /* max discharging current today 5.20 A */
    put(dev, hr, 0x010F, 612);            /* max charging power today 612 W */
    put(dev, hr, 0x0110, 140);            /* max discharging power today 140 W */
    put(dev, hr, 0x0111, 37);             /* charging Ah today */
    put(dev, hr, 0x0112, 9);              /* discharging Ah today */
    put(dev, hr, 0x0113, 1234);           /* generation today 1234 Wh = 1.234 kWh */
    put(dev, hr, 0x0114, 210);            /* consumption today 210 Wh */
    put(dev, hr, 0x0115, 412);            /* operating days */
    put(dev, hr, 0x0116, 3);              /* over-discharge count */
    put(dev, hr, 0x0117, 198);            /* full-charge count */
    put_u32_abcd(dev, hr, 0x0118, 15678); /* total charging Ah */
    put_u32_abcd(dev, hr, 0x011A, 4321);  /* total discharging Ah */
    put_u32_abcd(dev, hr, 0x011C,
                 1234567); /* total generation 1234567 Wh: H 18, L 54919 */
    put_u32_abcd(dev, hr, 0x011E, 200000); /* total consumption 200000 Wh */
    put(dev, hr, 0x0120, 0x8002);          /* load on (bit 15), charging state 2 = mppt */
    put_u32_abcd(dev, hr, 0x0121, 0);      /* no controller faults */

    put(dev, hr, 0xE002, 200);    /* battery capacity 200 Ah */
    put(dev, hr, 0xE003, 0x1818); /* 24 V set, 24 V recognised */
    put(dev, hr, 0xE004, 2);      /* battery type: sealed */

    drift(dev, hr, 0x0101, 0, 266, 2, 90);
    drift(dev, hr, 0x0107, 0, 683, 10, 45);
    drift(dev, hr, 0x0108, 0, 496, 20, 60);
}

/* Seplos temperatures are in 0.1 K. */
static uint16_t deci_kelvin(double celsius)
{
    return (uint16_t)lround((celsius + 273.15) * 10.0);
}

/*
 * Seplos BMS V3 (protocols.md section 6.1): input registers 0x1000-0x1010 (pack) and
 * 0x1100-0x1119 (cells and temperatures), discrete inputs 0x1200-0x127F (alarm and state
 * bits). 0x100E and the absent cell-temperature sensors 5-8 (0x1114-0x1117) read as 0.
 */
static void model_seplos(struct sim_device *dev)
{
    const enum sim_space in = SIM_INPUT;
    static const uint16_t cells[16] = {3320, 3318, 3335, 3322, 3301, 3325, 3319, 3321,
                                       3316, 3324, 3320, 3317, 3323, 3322, 3318, 3319};

    add_block(dev, in, 0x1000, 0x1010 - 0x1000 + 1);
    add_block(dev, in, 0x1100, 0x1119 - 0x1100 + 1);
    add_block(dev, SIM_DISCRETE, 0x1200, 0x127F - 0x1200 + 1);

    put(dev, in, 0x1000, 5312);      /* pack voltage 53.12 V (sum of the cells) */
    put_s16(dev, in, 0x1001, -1234); /* current -12.34 A, discharging (0xFB2E) */
    put(dev, in, 0x1002, 21450);     /* remaining 214.50 Ah */
    put(dev, in, 0x1003, 28000);     /* capacity 280.00 Ah */
    put(dev, in, 0x1004, 1234);      /* total discharge capacity */
    put(dev, in, 0x1005, 766);       /* SOC 76.6 % */
    put(dev, in, 0x1006, 987);       /* SOH 98.7 % */
    put(dev, in, 0x1007, 123);       /* cycles */
    put(dev, in, 0x1008, 3320);      /* average cell 3.320 V */
    put(dev, in, 0x1009, 2982);      /* average temperature 298.2 K = 25.05 C */
    put(dev, in, 0x100A, 3335);      /* max cell 3.335 V */
    put(dev, in, 0x100B, 3301);      /* min cell 3.301 V */
    put(dev, in, 0x100C, 2995);      /* max temperature 26.35 C */
    put(dev, in, 0x100D, 2971);      /* min temperature 23.95 C */
    put(dev, in, 0x100F, 200);       /* max discharging current 200 A */
    put(dev, in, 0x1010, 150);       /* max charging current 150 A */
    for (unsigned int i = 0; i < 16; i++) {
        put(dev, in, 0x1100 + i, cells[i]);
    }
    put(dev, in, 0x1110, 2971); /* cell temperatures 1-4 */
    put(dev, in, 0x1111, 2980);
    put(dev, in, 0x1112, 2995);
    put(dev, in, 0x1113, 2982);
    put(dev, in, 0x1118, deci_kelvin(22.95)); /* environment 2961 = 22.95 C */
    put(dev, in, 0x1119, deci_kelvin(28.05)); /* power MOSFETs 3012 = 28.05 C */

    put(dev, SIM_DISCRETE, 0x1240, 1); /* TB09 system state bit 0: discharging */

    drift(dev, in, 0x1000, 0, 5312, 5, 90);
    drift(dev, in, 0x1001, 0, -1234, 40, 30);
    drift(dev, in, 0x1100, 0, 3320, 3, 60);
}

/* Writes "SunS" and model 1 (L = 66) at base; returns the address of the next model. */
static unsigned int sunspec_common(struct sim_device *dev, unsigned int base,
                                   const char *md, const char *sn_kind, int unit)
{
    const enum sim_space hr = SIM_HOLDING;
    unsigned int m = base + 2;
    char sn[33];

    snprintf(sn, sizeof(sn), "EMSIM-%s-%03d", sn_kind, unit);
    put(dev, hr, base, 0x5375);     /* "Su" */
    put(dev, hr, base + 1, 0x6E53); /* "nS" */
    put(dev, hr, m, 1);
    put(dev, hr, m + 1, 66);
    put_str(dev, hr, m + 2, 16, "edgemon"); /* Mn */
    put_str(dev, hr, m + 18, 16, md);       /* Md */
    put_str(dev, hr, m + 34, 8, "sim");     /* Opt */
    put_str(dev, hr, m + 42, 8, "1.0.0");   /* Vr */
    put_str(dev, hr, m + 50, 16, sn);       /* SN */
    put(dev, hr, m + 66, (uint16_t)unit);   /* DA */
    put(dev, hr, m + 67, 0x8000);           /* Pad */
    return m + 2 + 66;
}

/*
 * Model 101/102/103 (L = 50, integer + scale factors, section 4.3). 101 (single phase)
 * and 102 (split phase) mark the phases they lack "not implemented".
 */
static void sunspec_inverter_int(struct sim_device *dev, unsigned int m, int id)
{
    const enum sim_space hr = SIM_HOLDING;
    int has_b = id != 101, has_c = id == 103;

    put(dev, hr, m, (uint16_t)id);
    put(dev, hr, m + 1, 50);
    put(dev, hr, m + 2, 1452); /* A 14.52 A */
    put(dev, hr, m + 3, 484);  /* AphA */
    put(dev, hr, m + 4, has_b ? 485 : SS_NI_U16);
    put(dev, hr, m + 5, has_c ? 483 : SS_NI_U16);
    put_s16(dev, hr, m + 6, -2);                    /* A_SF: negative scale factor */
    put(dev, hr, m + 7, has_b ? 4002 : SS_NI_U16);  /* PPVphAB 400.2 V */
    put(dev, hr, m + 8, has_c ? 4005 : SS_NI_U16);  /* PPVphBC */
    put(dev, hr, m + 9, has_c ? 3998 : SS_NI_U16);  /* PPVphCA */
    put(dev, hr, m + 10, 2311);                     /* PhVphA 231.1 V */
    put(dev, hr, m + 11, has_b ? 2305 : SS_NI_U16); /* PhVphB 230.5 V */
    put(dev, hr, m + 12, has_c ? 2298 : SS_NI_U16); /* PhVphC 229.8 V */
    put_s16(dev, hr, m + 13, -1);                   /* V_SF */
    put_s16(dev, hr, m + 14, 334);                  /* W 3340 W */
    put_s16(dev, hr, m + 15, 1);                    /* W_SF: positive scale factor */
    put(dev, hr, m + 16, 5002);                     /* Hz 50.02 */
    put_s16(dev, hr, m + 17, -2);                   /* Hz_SF */
    put_s16(dev, hr, m + 18, 3361);                 /* VA 3361 */
    put_s16(dev, hr, m + 19, 0);                    /* VA_SF */
    put(dev, hr, m + 20, SS_NI_S16);         /* VAr not implemented: key must be absent */
    put_s16(dev, hr, m + 21, 0);             /* VAr_SF valid, so only the value says so */
    put_s16(dev, hr, m + 22, 994);           /* PF 99.4 % */
    put_s16(dev, hr, m + 23, -1);            /* PF_SF */
    put_u32_abcd(dev, hr, m + 24, 12345678); /* WH 12345678 Wh: H 188, L 24910 */
    put_s16(dev, hr, m + 26, 0);             /* WH_SF */
    put(dev, hr, m + 27, 920);               /* DCA 9.20 A */
    put_s16(dev, hr, m + 28, -2);            /* DCA_SF */
    put(dev, hr, m + 29, 3782);              /* DCV 378.2 V */
    put_s16(dev, hr, m + 30, -1);            /* DCV_SF */
    put_s16(dev, hr, m + 31, 348);           /* DCW 3480 W */
    put_s16(dev, hr, m + 32, 1);             /* DCW_SF */
    put_s16(dev, hr, m + 33, 412);           /* TmpCab 41.2 C */
    put_s16(dev, hr, m + 34, 487);           /* TmpSnk 48.7 C */
    put(dev, hr, m + 35, SS_NI_S16);         /* TmpTrns not implemented */
    put(dev, hr, m + 36, SS_NI_S16);         /* TmpOt not implemented */
    put_s16(dev, hr, m + 37, -1);            /* Tmp_SF */
    put(dev, hr, m + 38, 4);                 /* St 4 = MPPT */
    put(dev, hr, m + 39, SS_NI_U16);         /* StVnd not implemented */
    put_u32_abcd(dev, hr, m + 40, 1u << 7);  /* Evt1 bit 7 OVER_TEMP */
    /* Evt2 and EvtVnd1-4 (Off 42-51) stay 0. */

    drift(dev, hr, m + 10, 0, 2311, 15, 60);
    drift(dev, hr, m + 14, 0, 334, 10, 45);
    drift(dev, hr, m + 16, 0, 5002, 3, 30);
    drift(dev, hr, m + 29, 0, 3782, 20, 90);
}

/* Model 111/112/113 (L = 60, float32 ABCD, no scale factors). */
static void sunspec_inverter_float(struct sim_device *dev, unsigned int m, int id)
{
    const enum sim_space hr = SIM_HOLDING;
    int has_b = id != 111, has_c = id == 113;
    float nan_f;
    uint32_t nan_bits = SS_NAN_BITS;

    memcpy(&nan_f, &nan_bits, sizeof(nan_f));
    put(dev, hr, m, (uint16_t)id);
    put(dev, hr, m + 1, 60);
    put_f32_abcd(dev, hr, m + 2, 14.52f); /* A */
    put_f32_abcd(dev, hr, m + 4, 4.84f);  /* AphA */
    put_f32_abcd(dev, hr, m + 6, has_b ? 4.85f : nan_f);
    put_f32_abcd(dev, hr, m + 8, has_c ? 4.83f : nan_f);
    put_f32_abcd(dev, hr, m + 10, has_b ? 400.2f : nan_f); /* PPVphAB */
    put_f32_abcd(dev, hr, m + 12, has_c ? 400.5f : nan_f); /* PPVphBC */
    put_f32_abcd(dev, hr, m + 14, has_c ? 399.8f : nan_f); /* PPVphCA */
    put_f32_abcd(dev, hr, m + 16, 231.1f);                 /* PhVphA */
    put_f32_abcd(dev, hr, m + 18, has_b ? 230.5f : nan_f);
    put_f32_abcd(dev, hr, m + 20, has_c ? 229.8f : nan_f);
    put_f32_abcd(dev, hr, m + 22, 3340.0f);     /* W */
    put_f32_abcd(dev, hr, m + 24, 50.02f);      /* Hz */
    put_f32_abcd(dev, hr, m + 26, 3361.0f);     /* VA */
    put_f32_abcd(dev, hr, m + 28, nan_f);       /* VAr not implemented */
    put_f32_abcd(dev, hr, m + 30, 99.4f);       /* PF */
    put_f32_abcd(dev, hr, m + 32, 12345678.0f); /* WH, exact in float32 */
    put_f32_abcd(dev, hr, m + 34, 9.2f);        /* DCA */
    put_f32_abcd(dev, hr, m + 36, 378.2f);      /* DCV */
    put_f32_abcd(dev, hr, m + 38, 3480.0f);     /* DCW */
    put_f32_abcd(dev, hr, m + 40, 41.2f);       /* TmpCab */
    put_f32_abcd(dev, hr, m + 42, 48.7f);       /* TmpSnk */
    put_f32_abcd(dev, hr, m + 44, nan_f);       /* TmpTrns */
    put_f32_abcd(dev, hr, m + 46, nan_f);       /* TmpOt */
    put(dev, hr, m + 48, 4);                    /* St MPPT */
    put(dev, hr, m + 49, SS_NI_U16);            /* StVnd */
    put_u32_abcd(dev, hr, m + 50, 1u << 7);     /* Evt1 OVER_TEMP */

    drift(dev, hr, m + 16, 1, 231.1, 1.5, 60);
    drift(dev, hr, m + 22, 1, 3340.0, 100.0, 45);
    drift(dev, hr, m + 24, 1, 50.02, 0.03, 30);
}

/* Model 160 (L = 8 + 20 N, section 4.4). Module k: ID k+1, "PVk+1", MPPT state. */
static void sunspec_mppt(struct sim_device *dev, unsigned int m, int n)
{
    const enum sim_space hr = SIM_HOLDING;

    put(dev, hr, m, 160);
    put(dev, hr, m + 1, (uint16_t)(8 + 20 * n));
    put_s16(dev, hr, m + 2, -2);      /* DCA_SF */
    put_s16(dev, hr, m + 3, -1);      /* DCV_SF */
    put_s16(dev, hr, m + 4, 0);       /* DCW_SF */
    put_s16(dev, hr, m + 5, 0);       /* DCWH_SF */
    put_u32_abcd(dev, hr, m + 6, 0);  /* Evt: none */
    put(dev, hr, m + 8, (uint16_t)n); /* N */
    put(dev, hr, m + 9, SS_NI_U16);   /* TmsPer not implemented */
    for (int k = 0; k < n; k++) {
        unsigned int b = m + 10 + 20 * (unsigned int)k;
        /* Module 1: 4.70 A, 379.0 V, 1781 W; module 2: 4.50 A, 377.4 V, 1698 W; ... */
        unsigned int dca = 470 - 20 * (unsigned int)k;
        unsigned int dcv = 3790 - 16 * (unsigned int)k;
        unsigned int dcw = dca * dcv / 1000;
        char idstr[17];

        snprintf(idstr, sizeof(idstr), "PV%d", k + 1);
        put(dev, hr, b, (uint16_t)(k + 1));                             /* ID */
        put_str(dev, hr, b + 1, 8, idstr);                              /* IDStr */
        put(dev, hr, b + 9, (uint16_t)dca);                             /* DCA */
        put(dev, hr, b + 10, (uint16_t)dcv);                            /* DCV */
        put(dev, hr, b + 11, (uint16_t)dcw);                            /* DCW */
        put_u32_abcd(dev, hr, b + 12, 6200000u - 54321u * (uint32_t)k); /* DCWH */
        put_u32_abcd(dev, hr, b + 14, SS_NI_U32); /* Tms not implemented */
        put_s16(dev, hr, b + 16, 39 + k);         /* Tmp C */
        put(dev, hr, b + 17, 4);                  /* DCSt MPPT */
        put_u32_abcd(dev, hr, b + 18, 0);         /* DCEvt */
    }
}

/* Inverter: model 1, 10x (integer or float), 160, end. */
static void model_sunspec(struct sim_device *dev, int unit,
                          const struct sim_model_opts *o)
{
    int is_float = o->inverter_model >= 111;
    unsigned int inv_len = is_float ? 60 : 50;
    unsigned int mppt_len = 8 + 20 * (unsigned int)o->mppt_modules;
    unsigned int total = 2 + 68 + (inv_len + 2) + (mppt_len + 2) + 2;
    unsigned int m;

    add_block(dev, SIM_HOLDING, o->sunspec_base, total);
    m = sunspec_common(dev, o->sunspec_base, "SIM-INV", "INV", unit);
    if (is_float) {
        sunspec_inverter_float(dev, m, o->inverter_model);
    } else {
        sunspec_inverter_int(dev, m, o->inverter_model);
    }
    m += inv_len + 2;
    sunspec_mppt(dev, m, o->mppt_modules);
    m += mppt_len + 2;
    put(dev, SIM_HOLDING, m, 0xFFFF); /* end model */
    put(dev, SIM_HOLDING, m + 1, 0);
}

/* Battery: model 1, 802 (L = 62, section 4.5), end. */
static void model_sunspec_battery(struct sim_device *dev, int unit,
                                  const struct sim_model_opts *o)
{
    const enum sim_space hr = SIM_HOLDING;
    unsigned int total = 2 + 68 + 64 + 2;
    unsigned int m;

    add_block(dev, hr, o->sunspec_base, total);
    m = sunspec_common(dev, o->sunspec_base, "SIM-BAT", "BAT", unit);
    put(dev, hr, m, 802);
    put(dev, hr, m + 1, 62);
    put(dev, hr, m + 2, 280);                 /* AHRtg 280 Ah (SF 0) */
    put(dev, hr, m + 3, 1434);                /* WHRtg 14340 Wh (SF 1) */
    put(dev, hr, m + 4, 500);                 /* WChaRteMax 5000 W */
    put(dev, hr, m + 5, 500);                 /* WDisChaRteMax 5000 W */
    put(dev, hr, m + 6, SS_NI_U16);           /* DisChaRte */
    put(dev, hr, m + 7, 1000);                /* SoCMax 100.0 % */
    put(dev, hr, m + 8, 100);                 /* SoCMin 10.0 % */
    put(dev, hr, m + 9, SS_NI_U16);           /* SocRsvMax */
    put(dev, hr, m + 10, SS_NI_U16);          /* SoCRsvMin */
    put(dev, hr, m + 11, 823);                /* SoC 82.3 % */
    put(dev, hr, m + 12, SS_NI_U16);          /* DoD */
    put(dev, hr, m + 13, 965);                /* SoH 96.5 % */
    put_u32_abcd(dev, hr, m + 14, 456);       /* NCyc */
    put(dev, hr, m + 16, 4);                  /* ChaSt 4 = CHARGING */
    put(dev, hr, m + 17, 0);                  /* LocRemCtl REMOTE */
    put(dev, hr, m + 18, 1234);               /* Hb */
    put(dev, hr, m + 19, 0);                  /* CtrlHb */
    put(dev, hr, m + 20, 0);                  /* AlmRst */
    put(dev, hr, m + 21, 4);                  /* Typ LITHIUM_ION */
    put(dev, hr, m + 22, 3);                  /* State CONNECTED */
    put(dev, hr, m + 23, SS_NI_U16);          /* StateVnd */
    put_u32_abcd(dev, hr, m + 24, SS_NI_U32); /* WarrDt */
    put_u32_abcd(dev, hr, m + 26, 1u << 1);   /* Evt1 bit 1 OVER_TEMP_ALARM */
    /* Evt2, EvtVnd1, EvtVnd2 (Off 28-33) stay 0. */
    put(dev, hr, m + 34, 5336); /* V 53.36 V */
    put(dev, hr, m + 35, 5840); /* VMax 58.40 V */
    put(dev, hr, m + 36, 4480); /* VMin 44.80 V */
    put(dev, hr, m + 37, 3342); /* CellVMax 3.342 V */
    put(dev, hr, m + 38, 1);    /* CellVMaxStr */
    put(dev, hr, m + 39, 1);    /* CellVMaxMod */
    put(dev, hr, m + 40, 3327); /* CellVMin 3.327 V */
    put(dev, hr, m + 41, 1);
    put(dev, hr, m + 42, 1);
    put(dev, hr, m + 43, 3335);      /* CellVAvg 3.335 V */
    put_s16(dev, hr, m + 44, 1875);  /* A 18.75 A, charging */
    put(dev, hr, m + 45, 1000);      /* AChaMax 100.0 A */
    put(dev, hr, m + 46, 1000);      /* ADisChaMax 100.0 A */
    put_s16(dev, hr, m + 47, 100);   /* W 1000 W */
    put(dev, hr, m + 48, SS_NI_U16); /* ReqInvState */
    put(dev, hr, m + 49, SS_NI_S16); /* ReqW */
    put(dev, hr, m + 50, 1);         /* SetOp */
    put(dev, hr, m + 51, 1);         /* SetInvState */
    put_s16(dev, hr, m + 52, 0);     /* AHRtg_SF */
    put_s16(dev, hr, m + 53, 1);     /* WHRtg_SF */
    put_s16(dev, hr, m + 54, 1);     /* WChaDisChaMax_SF */
    put(dev, hr, m + 55, SS_NI_SF);  /* DisChaRte_SF */
    put_s16(dev, hr, m + 56, -1);    /* SoC_SF */
    put_s16(dev, hr, m + 57, -1);    /* DoD_SF */
    put_s16(dev, hr, m + 58, -1);    /* SoH_SF */
    put_s16(dev, hr, m + 59, -2);    /* V_SF */
    put_s16(dev, hr, m + 60, -3);    /* CellV_SF */
    put_s16(dev, hr, m + 61, -2);    /* A_SF */
    put_s16(dev, hr, m + 62, -1);    /* AMax_SF */
    put_s16(dev, hr, m + 63, 1);     /* W_SF */
    put(dev, hr, m + 64, 0xFFFF);    /* end model */
    put(dev, hr, m + 65, 0);

    drift(dev, hr, m + 34, 0, 5336, 5, 90);
    drift(dev, hr, m + 44, 0, 1875, 30, 30);
}

const char *sim_model_names(void)
{
    return "epever-tracer renogy-rover seplos-v3 sunspec sunspec-battery";
}

int sim_device_init(struct sim_device *dev, const char *model, int unit,
                    const struct sim_model_opts *opts)
{
    memset(dev, 0, sizeof(*dev));
    if (strlen(model) >= sizeof(dev->model)) {
        errno = EINVAL;
        return -1;
    }
    strcpy(dev->model, model);
    dev->unit = unit;
    if (strcmp(model, "epever-tracer") == 0) {
        model_epever(dev);
    } else if (strcmp(model, "renogy-rover") == 0) {
        model_renogy(dev, unit);
    } else if (strcmp(model, "seplos-v3") == 0) {
        model_seplos(dev);
    } else if (strcmp(model, "sunspec") == 0) {
        model_sunspec(dev, unit, opts);
    } else if (strcmp(model, "sunspec-battery") == 0) {
        model_sunspec_battery(dev, unit, opts);
    } else {
        errno = EINVAL;
        return -1;
    }
    if (dev->build_errors > 0) {
        errno = ENOSPC;
        return -1;
    }
    return 0;
}
