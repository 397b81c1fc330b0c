/* main.c - edgemon-sim command line: a Modbus device simulator and a probe client.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static const char usage_text[] =
    "usage: edgemon-sim (--tcp HOST:PORT | --rtu DEVICE [--baud 9600] [--parity N|E|O]\n"
    "                   [--data 8] [--stop 1])\n"
    "                   --device MODEL[@UNIT] ...\n"
    "                   [--sunspec-base 40000|0|50000] [--sunspec-inverter-model N]\n"
    "                   [--mppt-modules N] [--fault SPEC]... [--control FILE] [--vary]\n"
    "                   [--pidfile FILE] [--verbose]\n"
    "       edgemon-sim --probe (--tcp HOST:PORT | --rtu DEVICE [serial options])\n"
    "                   --unit N --space holding|input|coil|discrete --addr A --count C\n"
    "                   [--timeout-ms 1000] [--repeat 1] [--interval-ms 0]\n"
    "\n"
    "Simulates Modbus devices for edgemon's tests and demos.\n"
    "\n"
    "  --device MODEL[@UNIT]  add a device (repeatable; unit 1..247, default 1).\n"
    "                         MODEL is one of\n"
    "      epever-tracer      EPEver Tracer MPPT: FC04 0x3000-0x331E (with holes),\n"
    "                         FC03 0x9000-0x9070, FC02 0x2000-0x200C\n"
    "      renogy-rover       Renogy Rover MPPT: FC03 0x000A-0x0022, 0x0100-0x0122,\n"
    "                         0xE002-0xE004\n"
    "      seplos-v3          Seplos BMS V3: FC04 0x1000-0x1010, 0x1100-0x1119,\n"
    "                         FC02 0x1200-0x127F\n"
    "      sunspec            SunSpec inverter: models 1, 101..103 or 111..113, 160,\n"
    "                         end\n"
    "      sunspec-battery    SunSpec battery: models 1, 802, end\n"
    "  --sunspec-base B       where \"SunS\" sits: 40000 (default), 0 or 50000\n"
    "  --sunspec-inverter-model N\n"
    "                         101, 102, 103 (default), 111, 112 or 113\n"
    "  --mppt-modules N       modules in model 160, 1..10 (default 2)\n"
    "  --fault SPEC           inject a fault (repeatable):\n"
    "      exception:UNIT:SPACE:START[-END][:CODE]\n"
    "                         any access touching that range of SPACE\n"
    "                         (holding|input|coil|discrete) answers exception CODE\n"
    "                         (1..11, default 2)\n"
    "      silent:UNIT        never answer that unit\n"
    "      slow:UNIT:MS       answer that unit after MS milliseconds\n"
    "      drop:UNIT:N        drop every Nth request to that unit\n"
    "      disconnect:N       (TCP) close a connection once its Nth, 2Nth, ...\n"
    "                         request has been answered\n"
    "  --control FILE         fault specs, one a line (# comments), re-read within\n"
    "                         100 ms of a change; replaces the faults of the\n"
    "                         previous read, command-line faults stay. A missing\n"
    "                         file means no faults.\n"
    "  --vary                 let some values drift (demo); without it every value\n"
    "                         is the documented one (tests/sim/README.md)\n"
    "  --pidfile FILE         write the process id once listening; removed on exit\n"
    "  --verbose              log every request to stderr\n"
    "\n"
    "Unknown unit ids: RTU stays silent (like a real bus), TCP answers exception 11\n"
    "(gateway target device failed to respond). Prints \"listening\" on stdout when\n"
    "ready; SIGTERM or SIGINT stop it with status 0.\n"
    "\n"
    "--probe reads once (or --repeat times over one connection) and prints one\n"
    "line per read: the values as decimal numbers, or \"exception N\", \"timeout\",\n"
    "\"closed\" or \"error TEXT\"; exit status 0 only if every read returned values.\n";

enum {
    OPT_TCP = 256,
    OPT_RTU,
    OPT_BAUD,
    OPT_PARITY,
    OPT_DATA,
    OPT_STOP,
    OPT_DEVICE,
    OPT_SUNSPEC_BASE,
    OPT_INVERTER_MODEL,
    OPT_MPPT_MODULES,
    OPT_FAULT,
    OPT_CONTROL,
    OPT_VARY,
    OPT_PIDFILE,
    OPT_VERBOSE,
    OPT_HELP,
    OPT_PROBE,
    OPT_UNIT,
    OPT_SPACE,
    OPT_ADDR,
    OPT_COUNT,
    OPT_TIMEOUT,
    OPT_REPEAT,
    OPT_INTERVAL
};

static const struct option long_options[] = {
    {"tcp", required_argument, NULL, OPT_TCP},
    {"rtu", required_argument, NULL, OPT_RTU},
    {"baud", required_argument, NULL, OPT_BAUD},
    {"parity", required_argument, NULL, OPT_PARITY},
    {"data", required_argument, NULL, OPT_DATA},
    {"stop", required_argument, NULL, OPT_STOP},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"sunspec-base", required_argument, NULL, OPT_SUNSPEC_BASE},
    {"sunspec-inverter-model", required_argument, NULL, OPT_INVERTER_MODEL},
    {"mppt-modules", required_argument, NULL, OPT_MPPT_MODULES},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"vary", no_argument, NULL, OPT_VARY},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {"probe", no_argument, NULL, OPT_PROBE},
    {"unit", required_argument, NULL, OPT_UNIT},
    {"space", required_argument, NULL, OPT_SPACE},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"count", required_argument, NULL, OPT_COUNT},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"interval-ms", required_argument, NULL, OPT_INTERVAL},
    {NULL, 0, NULL, 0},
};

/* Everything the command line can say, before it is turned into devices. */
struct cli {
    struct sim_server_conf server;
    struct sim_probe_conf probe;
    struct sim_model_opts model;
    const char *device_specs[SIM_MAX_DEVICES];
    int ndevice_specs;
    int probe_mode;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "edgemon-sim: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'edgemon-sim --help'.\n");
    return 2;
}

static int num_arg(const char *opt, const char *arg, long min, long max, long *out)
{
    if (sim_parse_num(arg, min, max, out, NULL) < 0) {
        fprintf(stderr, "edgemon-sim: bad %s '%s': want %ld..%ld\n", opt, arg, min, max);
        return -1;
    }
    return 0;
}

/* Parses argv into cli; returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, struct cli *c)
{
    int opt;
    long v;
    char err[256];

    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (opt) {
        case OPT_TCP:
            c->server.tcp = c->probe.tcp = optarg;
            break;
        case OPT_RTU:
            c->server.rtu = c->probe.rtu = optarg;
            break;
        case OPT_BAUD:
            if (num_arg("--baud", optarg, 50, 4000000, &v) < 0) {
                return 2;
            }
            c->server.baud = c->probe.baud = (int)v;
            break;
        case OPT_PARITY:
            if (strcmp(optarg, "N") != 0 && strcmp(optarg, "E") != 0 &&
                strcmp(optarg, "O") != 0) {
                return usage_error("bad --parity '%s': want N, E or O", optarg);
            }
            c->server.parity = c->probe.parity = optarg[0];
            break;
        case OPT_DATA:
            if (num_arg("--data", optarg, 5, 8, &v) < 0) {
                return 2;
            }
            c->server.data_bits = c->probe.data_bits = (int)v;
            break;
        case OPT_STOP:
            if (num_arg("--stop", optarg, 1, 2, &v) < 0) {
                return 2;
            }
            c->server.stop_bits = c->probe.stop_bits = (int)v;
            break;
        case OPT_DEVICE:
            if (c->ndevice_specs >= SIM_MAX_DEVICES) {
                return usage_error("too many devices at '%s'", optarg);
            }
            c->device_specs[c->ndevice_specs++] = optarg;
            break;
        case OPT_SUNSPEC_BASE:
            if (num_arg("--sunspec-base", optarg, 0, 50000, &v) < 0) {
                return 2;
            }
            if (v != 0 && v != 40000 && v != 50000) {
                return usage_error("bad --sunspec-base '%s': want 40000, 0 or 50000",
                                   optarg);
            }
            c->model.sunspec_base = (unsigned int)v;
            break;
        case OPT_INVERTER_MODEL:
            if (num_arg("--sunspec-inverter-model", optarg, 101, 113, &v) < 0) {
                return 2;
            }
            if (!((v >= 101 && v <= 103) || v >= 111)) {
                return usage_error("bad --sunspec-inverter-model '%s'", optarg);
            }
            c->model.inverter_model = (int)v;
            break;
        case OPT_MPPT_MODULES:
            if (num_arg("--mppt-modules", optarg, 1, SIM_MAX_MPPT, &v) < 0) {
                return 2;
            }
            c->model.mppt_modules = (int)v;
            break;
        case OPT_FAULT:
            if (c->server.cli_faults->n >= SIM_MAX_FAULTS) {
                return usage_error("too many faults at '%s'", optarg);
            }
            if (sim_fault_parse(optarg, &c->server.cli_faults->f[c->server.cli_faults->n],
                                err, sizeof(err)) < 0) {
                return usage_error("%s", err);
            }
            c->server.cli_faults->n++;
            break;
        case OPT_CONTROL:
            c->server.control->path = optarg;
            break;
        case OPT_VARY:
            c->server.vary = 1;
            break;
        case OPT_PIDFILE:
            c->server.pidfile = optarg;
            break;
        case OPT_VERBOSE:
            c->server.verbose = 1;
            break;
        case 'h':
        case OPT_HELP:
            fputs(usage_text, stdout);
            return 0;
        case OPT_PROBE:
            c->probe_mode = 1;
            break;
        case OPT_UNIT:
            if (num_arg("--unit", optarg, 0, 255, &v) < 0) {
                return 2;
            }
            c->probe.unit = (int)v;
            break;
        case OPT_SPACE:
            if (sim_space_parse(optarg, &c->probe.space) < 0) {
                return usage_error("bad --space '%s': want holding|input|coil|discrete",
                                   optarg);
            }
            break;
        case OPT_ADDR:
            if (num_arg("--addr", optarg, 0, 0xFFFF, &v) < 0) {
                return 2;
            }
            c->probe.addr = (unsigned int)v;
            break;
        case OPT_COUNT:
            if (num_arg("--count", optarg, 1, 2000, &v) < 0) {
                return 2;
            }
            c->probe.count = (unsigned int)v;
            break;
        case OPT_TIMEOUT:
            if (num_arg("--timeout-ms", optarg, 1, 600000, &v) < 0) {
                return 2;
            }
            c->probe.timeout_ms = (int)v;
            break;
        case OPT_REPEAT:
            if (num_arg("--repeat", optarg, 1, 100000, &v) < 0) {
                return 2;
            }
            c->probe.repeat = (int)v;
            break;
        case OPT_INTERVAL:
            if (num_arg("--interval-ms", optarg, 0, 600000, &v) < 0) {
                return 2;
            }
            c->probe.interval_ms = (int)v;
            break;
        default:
            fprintf(stderr, "Try 'edgemon-sim --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if ((c->server.tcp == NULL) == (c->server.rtu == NULL)) {
        return usage_error("%s", "give exactly one of --tcp HOST:PORT or --rtu DEVICE");
    }
    return -1;
}

/* Turns the --device specs into devices; returns 0 or an exit status. */
static int build_devices(struct cli *c, struct sim_device *devices)
{
    for (int i = 0; i < c->ndevice_specs; i++) {
        const char *spec = c->device_specs[i];
        const char *at = strchr(spec, '@');
        char model[32];
        size_t mlen = at ? (size_t)(at - spec) : strlen(spec);
        long unit = 1;

        if (mlen == 0 || mlen >= sizeof(model)) {
            return usage_error("bad --device '%s'", spec);
        }
        memcpy(model, spec, mlen);
        model[mlen] = '\0';
        if (at != NULL && sim_parse_num(at + 1, 1, 247, &unit, NULL) < 0) {
            return usage_error("bad unit in --device '%s': want 1..247", spec);
        }
        for (int j = 0; j < i; j++) {
            if (devices[j].unit == unit) {
                return usage_error("unit of --device '%s' is already taken", spec);
            }
        }
        if (sim_device_init(&devices[i], model, (int)unit, &c->model) < 0) {
            if (errno == EINVAL) {
                fprintf(stderr, "edgemon-sim: unknown model '%s' (known: %s)\n", model,
                        sim_model_names());
            } else {
                fprintf(stderr, "edgemon-sim: cannot build the map of '%s'\n", model);
            }
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* Large (register pools), so not on the stack. */
    static struct sim_device devices[SIM_MAX_DEVICES];
    static struct sim_faults cli_faults;
    static struct sim_control control;
    struct cli c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.server.baud = c.probe.baud = 9600;
    c.server.parity = c.probe.parity = 'N';
    c.server.data_bits = c.probe.data_bits = 8;
    c.server.stop_bits = c.probe.stop_bits = 1;
    c.server.cli_faults = &cli_faults;
    c.server.control = &control;
    c.model.sunspec_base = 40000;
    c.model.inverter_model = 103;
    c.model.mppt_modules = 2;
    c.probe.unit = 1;
    c.probe.space = SIM_HOLDING;
    c.probe.count = 1;
    c.probe.timeout_ms = 1000;
    c.probe.repeat = 1;

    rc = parse_args(argc, argv, &c);
    if (rc >= 0) {
        return rc;
    }
    if (c.probe_mode) {
        unsigned int max =
            (c.probe.space == SIM_COIL || c.probe.space == SIM_DISCRETE) ? 2000 : 125;
        if (c.probe.count > max) {
            fprintf(stderr, "edgemon-sim: --count must be at most %u for this space\n",
                    max);
            return 2;
        }
        return sim_probe_run(&c.probe);
    }
    if (c.ndevice_specs == 0) {
        return usage_error("%s", "give at least one --device MODEL[@UNIT]");
    }
    rc = build_devices(&c, devices);
    if (rc != 0) {
        return rc;
    }
    c.server.devices = devices;
    c.server.ndevices = c.ndevice_specs;
    return sim_server_run(&c.server);
}
