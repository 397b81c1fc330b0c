/* faults.c - fault specs of the simulator and the --control file that swaps them.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim.h"

static const char *const space_names[SIM_NSPACES] = {"coil", "discrete", "holding",
                                                     "input"};

const char *sim_space_name(enum sim_space sp)
{
    return (unsigned int)sp < SIM_NSPACES ? space_names[sp] : "?";
}

int sim_space_parse(const char *s, enum sim_space *sp)
{
    for (int i = 0; i < SIM_NSPACES; i++) {
        if (strcmp(s, space_names[i]) == 0) {
            *sp = (enum sim_space)i;
            return 0;
        }
    }
    errno = EINVAL;
    return -1;
}

/*
 * Own parser rather than strtol(base 0): a leading zero must not switch to octal, since
 * people write addresses such as 0100 meaning one hundred.
 */
int sim_parse_num(const char *s, long min, long max, long *out, const char **endp)
{
    int base = 10;
    int neg = 0;
    long v = 0;
    const char *p = s;
    const char *digits;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    digits = p;
    for (;; p++) {
        int d;

        if (*p >= '0' && *p <= '9') {
            d = *p - '0';
        } else if (base == 16 && *p >= 'a' && *p <= 'f') {
            d = *p - 'a' + 10;
        } else if (base == 16 && *p >= 'A' && *p <= 'F') {
            d = *p - 'A' + 10;
        } else {
            break;
        }
        if (v > (0x7FFFFFFFL - d) / base) {
            errno = ERANGE;
            return -1;
        }
        v = v * base + d;
    }
    if (p == digits || (endp == NULL && *p != '\0')) {
        errno = EINVAL;
        return -1;
    }
    if (neg) {
        v = -v;
    }
    if (v < min || v > max) {
        errno = ERANGE;
        return -1;
    }
    *out = v;
    if (endp != NULL) {
        *endp = p;
    }
    return 0;
}

/* Splits s at ':' into at most max fields (modified in place); returns the count. */
static int split_fields(char *s, char **fields, int max)
{
    int n = 0;

    fields[n++] = s;
    for (char *p = s; *p != '\0'; p++) {
        if (*p == ':') {
            if (n == max) {
                return max + 1;
            }
            *p = '\0';
            fields[n++] = p + 1;
        }
    }
    return n;
}

static int parse_unit(const char *s, int *unit)
{
    long v;

    if (sim_parse_num(s, 1, 247, &v, NULL) < 0) {
        return -1;
    }
    *unit = (int)v;
    return 0;
}

static int fault_fail(char *err, size_t errlen, const char *spec, const char *why)
{
    /* Bounded: a fault spec is a short word, and a cut message is still useful. */
    snprintf(err, errlen, "bad fault '%.100s': %.80s", spec, why);
    errno = EINVAL;
    return -1;
}

int sim_fault_parse(const char *spec, struct sim_fault *out, char *err, size_t errlen)
{
    char buf[128];
    char *f[6];
    int n;
    long v;

    if (strlen(spec) >= sizeof(buf)) {
        return fault_fail(err, errlen, spec, "too long");
    }
    strcpy(buf, spec);
    n = split_fields(buf, f, 5);
    memset(out, 0, sizeof(*out));

    if (strcmp(f[0], "exception") == 0) {
        const char *end;
        long start;

        /* exception:UNIT:SPACE:START-END[:CODE] */
        if (n != 4 && n != 5) {
            return fault_fail(err, errlen, spec,
                              "want exception:UNIT:SPACE:START-END[:CODE]");
        }
        out->kind = SIM_FAULT_EXCEPTION;
        if (parse_unit(f[1], &out->unit) < 0) {
            return fault_fail(err, errlen, spec, "unit must be 1..247");
        }
        if (sim_space_parse(f[2], &out->space) < 0) {
            return fault_fail(err, errlen, spec,
                              "space must be holding|input|coil|discrete");
        }
        if (sim_parse_num(f[3], 0, 0xFFFF, &start, &end) < 0) {
            return fault_fail(err, errlen, spec, "bad start address");
        }
        out->start = (unsigned int)start;
        if (*end == '\0') {
            out->end = out->start;
        } else if (*end == '-' && sim_parse_num(end + 1, start, 0xFFFF, &v, NULL) == 0) {
            out->end = (unsigned int)v;
        } else {
            return fault_fail(err, errlen, spec,
                              "range must be START-END with END >= START");
        }
        out->code = 2;
        if (n == 5) {
            /* libmodbus can send codes below MODBUS_EXCEPTION_MAX only. */
            if (sim_parse_num(f[4], 1, 11, &v, NULL) < 0) {
                return fault_fail(err, errlen, spec, "code must be 1..11");
            }
            out->code = (int)v;
        }
    } else if (strcmp(f[0], "silent") == 0) {
        if (n != 2) {
            return fault_fail(err, errlen, spec, "want silent:UNIT");
        }
        out->kind = SIM_FAULT_SILENT;
        if (parse_unit(f[1], &out->unit) < 0) {
            return fault_fail(err, errlen, spec, "unit must be 1..247");
        }
    } else if (strcmp(f[0], "slow") == 0) {
        if (n != 3) {
            return fault_fail(err, errlen, spec, "want slow:UNIT:MS");
        }
        out->kind = SIM_FAULT_SLOW;
        if (parse_unit(f[1], &out->unit) < 0) {
            return fault_fail(err, errlen, spec, "unit must be 1..247");
        }
        if (sim_parse_num(f[2], 0, 600000, &v, NULL) < 0) {
            return fault_fail(err, errlen, spec, "MS must be 0..600000");
        }
        out->ms = (int)v;
    } else if (strcmp(f[0], "drop") == 0) {
        if (n != 3) {
            return fault_fail(err, errlen, spec, "want drop:UNIT:N");
        }
        out->kind = SIM_FAULT_DROP;
        if (parse_unit(f[1], &out->unit) < 0) {
            return fault_fail(err, errlen, spec, "unit must be 1..247");
        }
        if (sim_parse_num(f[2], 1, 1000000, &v, NULL) < 0) {
            return fault_fail(err, errlen, spec, "N must be 1..1000000");
        }
        out->n = (unsigned long)v;
    } else if (strcmp(f[0], "disconnect") == 0) {
        if (n != 2) {
            return fault_fail(err, errlen, spec, "want disconnect:N");
        }
        out->kind = SIM_FAULT_DISCONNECT;
        if (sim_parse_num(f[1], 1, 1000000, &v, NULL) < 0) {
            return fault_fail(err, errlen, spec, "N must be 1..1000000");
        }
        out->n = (unsigned long)v;
    } else {
        return fault_fail(err, errlen, spec,
                          "kind must be exception|silent|slow|drop|disconnect");
    }
    return 0;
}

/* Strips leading and trailing blanks and a trailing "# comment". */
static char *trim(char *s)
{
    char *hash = strchr(s, '#');
    char *e;

    if (hash != NULL) {
        *hash = '\0';
    }
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) {
        *--e = '\0';
    }
    return s;
}

static void load_control(struct sim_control *ctl)
{
    FILE *fp = fopen(ctl->path, "r");
    char line[256];
    int lineno = 0;

    ctl->faults.n = 0;
    if (fp == NULL) {
        /* A missing file means "no runtime faults"; tests delete it to clear them. */
        return;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        char err[200];
        char *s = trim(line);

        lineno++;
        if (*s == '\0') {
            continue;
        }
        if (ctl->faults.n >= SIM_MAX_FAULTS) {
            fprintf(stderr, "edgemon-sim: %s:%d: more than %d faults, rest ignored\n",
                    ctl->path, lineno, SIM_MAX_FAULTS);
            break;
        }
        if (sim_fault_parse(s, &ctl->faults.f[ctl->faults.n], err, sizeof(err)) < 0) {
            fprintf(stderr, "edgemon-sim: %s:%d: %s\n", ctl->path, lineno, err);
            continue;
        }
        ctl->faults.n++;
    }
    fclose(fp);
}

int sim_control_poll(struct sim_control *ctl)
{
    struct stat st;
    int exists;

    if (ctl->path == NULL) {
        return 0;
    }
    exists = stat(ctl->path, &st) == 0;
    if (!exists) {
        memset(&st, 0, sizeof(st));
    }
    /*
     * mtime alone can miss a truncate followed by a write within one clock tick, so the
     * size and inode (a rename-over) count as changes too.
     */
    if (ctl->seen && st.st_mtim.tv_sec == ctl->mtime.tv_sec &&
        st.st_mtim.tv_nsec == ctl->mtime.tv_nsec && st.st_size == ctl->size &&
        st.st_ino == ctl->ino) {
        return 0;
    }
    ctl->seen = 1;
    ctl->mtime = st.st_mtim;
    ctl->size = st.st_size;
    ctl->ino = st.st_ino;
    load_control(ctl);
    return 1;
}
