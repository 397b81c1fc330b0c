/* sim.h - shared declarations of the edgemon device simulator (edgemon-sim).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The simulator is a test tool, not part of libedgemon: its cross-file names use the
 * prefix sim_ so they can never clash with em_ symbols of the library it is linked with.
 */
#ifndef EDGEMON_SIM_H
#define EDGEMON_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* The four Modbus data tables, in the order of their read function codes 01..04. */
enum sim_space {
    SIM_COIL,     /* FC 01 read, FC 05/15 write */
    SIM_DISCRETE, /* FC 02 */
    SIM_HOLDING,  /* FC 03 read, FC 06/16 write */
    SIM_INPUT,    /* FC 04 */
    SIM_NSPACES
};

#define SIM_MAX_DEVICES 16
#define SIM_MAX_BLOCKS  8    /* contiguous ranges per table per device */
#define SIM_POOL_WORDS  1024 /* register storage per device */
#define SIM_MAX_DRIFT   48
#define SIM_MAX_MPPT    10
#define SIM_MAX_FAULTS  64

/* One contiguous range of a table; values point into the device's pool (bits as 0/1). */
struct sim_block {
    unsigned int start;
    unsigned int count;
    uint16_t *val;
};

/* A register that moves with --vary: base + amp * sin(2 pi t / period + phase). */
struct sim_drift {
    enum sim_space space;
    unsigned int addr;
    int is_float; /* 0: 16-bit integer (signed math, stored two's complement); 1: f32 ABCD
                   */
    double base;
    double amp;
    double period_s;
};

struct sim_device {
    int unit;
    char model[32];
    struct sim_block blocks[SIM_NSPACES][SIM_MAX_BLOCKS];
    int nblocks[SIM_NSPACES];
    uint16_t pool[SIM_POOL_WORDS];
    size_t pool_used;
    struct sim_drift drift[SIM_MAX_DRIFT];
    int ndrift;
    int build_errors; /* map-building mistakes (a value set into a hole): a bug */
};

/* Options that shape the SunSpec register maps. */
struct sim_model_opts {
    unsigned int sunspec_base; /* 40000, 0 or 50000 */
    int inverter_model;        /* 101, 102, 103, 111, 112, 113 */
    int mppt_modules;          /* 1..SIM_MAX_MPPT */
};

enum sim_fault_kind {
    SIM_FAULT_EXCEPTION,
    SIM_FAULT_SILENT,
    SIM_FAULT_SLOW,
    SIM_FAULT_DROP,
    SIM_FAULT_DISCONNECT
};

struct sim_fault {
    enum sim_fault_kind kind;
    int unit;             /* all kinds but disconnect */
    enum sim_space space; /* exception */
    unsigned int start;   /* exception: inclusive range */
    unsigned int end;
    int code;              /* exception code 1..11 */
    int ms;                /* slow */
    unsigned long n;       /* drop, disconnect */
    unsigned long counter; /* drop: requests seen so far */
};

struct sim_faults {
    struct sim_fault f[SIM_MAX_FAULTS];
    int n;
};

/* The --control file and the faults last loaded from it. */
struct sim_control {
    const char *path; /* borrowed from argv; NULL = no control file */
    int seen;         /* 1 once a stat result has been recorded */
    struct timespec mtime;
    off_t size;
    ino_t ino;
    struct sim_faults faults;
};

/* models.c */

/*
 * Fills dev with the register map of MODEL for unit id unit. Returns 0, or -1 with errno
 * EINVAL (unknown model) or ENOSPC (the map does not fit the fixed pool; a bug).
 */
int sim_device_init(struct sim_device *dev, const char *model, int unit,
                    const struct sim_model_opts *opts);
/* Looks up one value. Returns 0 and stores it in *val, or -1 (errno ENOENT) in a hole. */
int sim_device_get(const struct sim_device *dev, enum sim_space sp, unsigned int addr,
                   uint16_t *val);
/* Stores one value where the device has a register. Returns 0 or -1 (errno ENOENT). */
int sim_device_set(struct sim_device *dev, enum sim_space sp, unsigned int addr,
                   uint16_t val);
/* Applies --vary drift for time t (seconds since start). */
void sim_device_vary(struct sim_device *dev, double t);
/* Space-separated list of the model names, for --help. */
const char *sim_model_names(void);

/* faults.c */

/*
 * Parses one fault SPEC (see --help) into *out. Returns 0, or -1 with errno EINVAL and a
 * reason in err.
 */
int sim_fault_parse(const char *spec, struct sim_fault *out, char *err, size_t errlen);
/*
 * Re-reads the control file when its mtime, size or inode changed (or it appeared or
 * vanished). Returns 1 when the fault set was replaced, 0 when nothing changed.
 * Bad lines are reported on stderr and skipped.
 */
int sim_control_poll(struct sim_control *ctl);
/* Name of a space as used in fault specs ("holding", ...). */
const char *sim_space_name(enum sim_space sp);
/* Parses a space name. Returns 0 or -1 (errno EINVAL). */
int sim_space_parse(const char *s, enum sim_space *sp);
/*
 * Parses a decimal or 0x-prefixed hexadecimal number in [min, max]. With endp NULL the
 * number must fill s; otherwise *endp gets the first character after it. Returns 0, or
 * -1 with errno EINVAL (not a number) or ERANGE (outside [min, max]).
 */
int sim_parse_num(const char *s, long min, long max, long *out, const char **endp);

/* server.c */

struct sim_server_conf {
    const char *tcp; /* HOST:PORT or NULL */
    const char *rtu; /* device or NULL */
    int baud;
    char parity;
    int data_bits;
    int stop_bits;
    struct sim_device *devices;
    int ndevices;
    struct sim_faults *cli_faults;
    struct sim_control *control;
    int vary;
    int verbose;
    const char *pidfile;
};

/* Runs the server until SIGTERM/SIGINT. Returns the process exit status. */
int sim_server_run(struct sim_server_conf *conf);
/* Splits HOST:PORT (also [v6]:PORT) into host and port buffers. Returns 0 or -1 (EINVAL).
 */
int sim_split_hostport(const char *s, char *host, size_t hostlen, char *port,
                       size_t portlen);

/* probe.c */

struct sim_probe_conf {
    const char *tcp;
    const char *rtu;
    int baud;
    char parity;
    int data_bits;
    int stop_bits;
    int unit;
    enum sim_space space;
    unsigned int addr;
    unsigned int count;
    int timeout_ms;
    int repeat;
    int interval_ms;
};

/* Client mode (--probe). Returns the process exit status. */
int sim_probe_run(const struct sim_probe_conf *conf);

#endif
