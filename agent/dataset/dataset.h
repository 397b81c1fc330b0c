/* dataset.h - the normalised reading of one device: canonical keys and values.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A dataset is a fixed-size value table filled on the poll path without any
 * allocation. Keys are borrowed: they point into a profile (owned by the
 * device for its lifetime) or to string literals. Text values that come off
 * the wire (SunSpec strings) are copied into the dataset's own text pool.
 */
#ifndef EM_DATASET_H
#define EM_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define EM_DS_MAX_VALUES 64
#define EM_DS_MAX_NUMS   96  /* pool for numeric lists (cell voltages) */
#define EM_DS_MAX_STRS   48  /* pool for string lists (alarms, faults, events) */
#define EM_DS_MAX_INPUTS 8   /* mppt_inputs entries */
#define EM_DS_TEXT       512 /* pool for text values read from the device */

enum em_vtype {
    EM_V_NUM,    /* double */
    EM_V_INT,    /* integer count */
    EM_V_STR,    /* one string */
    EM_V_STRS,   /* list of strings: index into strs[] */
    EM_V_NUMS,   /* list of numbers: index into nums[] */
    EM_V_INPUTS, /* mppt_inputs: the dataset's inputs[] */
};

enum em_quality { EM_Q_OK, EM_Q_PARTIAL, EM_Q_STALE };

struct em_value {
    const char *key; /* borrowed */
    enum em_vtype type;
    union {
        double num;
        int64_t integer;
        const char *str; /* borrowed: profile, literal or the dataset's text pool */
        struct {
            uint16_t off, n;
        } list;
    } u;
};

struct em_mppt_input {
    int64_t id;
    double dc_voltage_v, dc_current_a, dc_power_w;
    unsigned have; /* bit 0 voltage, 1 current, 2 power */
};

struct em_dataset {
    const char *dataset; /* "pms", "mppt", "inverter", "site"; borrowed literal */
    enum em_quality quality;
    size_t n;
    struct em_value v[EM_DS_MAX_VALUES];
    size_t nnums, nstrs, ninputs, ntext;
    double nums[EM_DS_MAX_NUMS];
    const char *strs[EM_DS_MAX_STRS];
    struct em_mppt_input inputs[EM_DS_MAX_INPUTS];
    char text[EM_DS_TEXT];
    unsigned overflow; /* values that did not fit: a profile bug, reported by check */
};

/* Empty the dataset; keeps nothing. */
void em_ds_reset(struct em_dataset *ds, const char *dataset);

/* Find a value by key; NULL when absent. Returned pointer is valid until the next
 * change to the dataset. */
struct em_value *em_ds_find(struct em_dataset *ds, const char *key);
const struct em_value *em_ds_cfind(const struct em_dataset *ds, const char *key);

/* Read a numeric value (NUM or INT) into *out; returns 0, or -1 when absent. */
int em_ds_get_num(const struct em_dataset *ds, const char *key, double *out);

/*
 * Setters replace an existing value of the same key or append one. They return
 * 0, or -1 when the table or pool is full (counted in ds->overflow).
 */
int em_ds_set_num(struct em_dataset *ds, const char *key, double v);
int em_ds_set_int(struct em_dataset *ds, const char *key, int64_t v);
int em_ds_set_str(struct em_dataset *ds, const char *key, const char *s);
/* Copies len bytes of s (trailing NULs and spaces trimmed) into the text pool. */
int em_ds_set_text(struct em_dataset *ds, const char *key, const char *s, size_t len);
/* Appends to the string list `key` (created empty on first use). */
int em_ds_add_str(struct em_dataset *ds, const char *key, const char *s);
/* Ensure the string list `key` exists, even if empty (alarms: []). */
int em_ds_touch_strs(struct em_dataset *ds, const char *key);
/* Sets element idx of numeric list `key`; the list must be appended in order. */
int em_ds_add_num(struct em_dataset *ds, const char *key, double v);
/* Returns the mppt input with that id, creating it; NULL when full. */
struct em_mppt_input *em_ds_input(struct em_dataset *ds, int64_t id);
/* Appends a new mppt input with that id (ids may repeat: a device numbers its
 * inputs itself); NULL when full. */
struct em_mppt_input *em_ds_input_add(struct em_dataset *ds, int64_t id);

#endif
