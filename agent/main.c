/* main.c - the edgemon command line: run, check, poll, broker config, queue.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_cmd.h"
#include "bus.h"
#include "conf.h"
#include "core.h"
#include "device.h"
#include "log.h"
#include "message.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgemon COMMAND [options]\n"
            "\n"
            "  run -c FILE [-s] [--print]    run the agent in the foreground (-s: log to syslog;\n"
            "                                --print: also write every message to stdout)\n"
            "  check -c FILE                 validate the configuration\n"
            "  poll -c FILE DEVICE [--json]  poll one device once and print its dataset\n"
            "  broker config KIND FILE -c FILE\n"
            "                                validate a broker file and install it next to the\n"
            "                                configuration (KIND: mqtt, redis, kubemq, http)\n"
            "  queue -c FILE                 print the store-and-forward state as JSON\n"
            "  --version                     print the version\n"
            "  --help                        this text\n"
            "\n"
            "Exit status: 0 ok; 1 invalid configuration, device error or invalid broker file;\n"
            "2 usage error or unknown broker KIND.\n");
}

static const char *unit_of(const char *key)
{
    static const struct {
        const char *suffix, *unit;
    } units[] = {{"_kwh", "kWh"}, {"_wh", "Wh"}, {"_var", "var"}, {"_va", "VA"}, {"_hz", "Hz"},
                 {"_pct", "%"},   {"_ah", "Ah"}, {"_v", "V"},     {"_a", "A"},   {"_w", "W"},
                 {"_c", "°C"}};
    size_t kl = strlen(key);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t sl = strlen(units[i].suffix);
        if (kl > sl && strcmp(key + kl - sl, units[i].suffix) == 0)
            return units[i].unit;
    }
    return "";
}

static void print_table(const struct em_device *d)
{
    const struct em_dataset *ds = &d->ds;
    printf("%s (%s, %s) quality %s\n", d->conf->id, ds->dataset, d->conf->profile,
           em_quality_name(ds->quality));
    for (size_t i = 0; i < ds->n; i++) {
        const struct em_value *v = &ds->v[i];
        char val[512];
        size_t n = 0;
        val[0] = 0;
        switch (v->type) {
        case EM_V_NUM:
            snprintf(val, sizeof val, "%.10g", v->u.num);
            break;
        case EM_V_INT:
            snprintf(val, sizeof val, "%lld", (long long)v->u.integer);
            break;
        case EM_V_STR:
            snprintf(val, sizeof val, "%s", v->u.str);
            break;
        case EM_V_STRS:
            for (unsigned k = 0; k < v->u.list.n && n < sizeof val; k++)
                n += (size_t)snprintf(val + n, sizeof val - n, "%s%s", k ? ", " : "",
                                      ds->strs[v->u.list.off + k]);
            if (v->u.list.n == 0)
                snprintf(val, sizeof val, "(none)");
            break;
        case EM_V_NUMS:
            for (unsigned k = 0; k < v->u.list.n && n < sizeof val; k++)
                n += (size_t)snprintf(val + n, sizeof val - n, "%s%.10g", k ? " " : "",
                                      ds->nums[v->u.list.off + k]);
            break;
        case EM_V_INPUTS:
            for (size_t k = 0; k < ds->ninputs && n < sizeof val; k++)
                n += (size_t)snprintf(val + n, sizeof val - n, "%s#%lld %.10gV %.10gA %.10gW",
                                      k ? ", " : "", (long long)ds->inputs[k].id,
                                      ds->inputs[k].dc_voltage_v, ds->inputs[k].dc_current_a,
                                      ds->inputs[k].dc_power_w);
            break;
        }
        printf("  %-26s %-24s %s\n", v->key, val, v->type <= EM_V_INT ? unit_of(v->key) : "");
    }
}

static int load_conf(const char *path, struct em_conf **out)
{
    struct em_errors errs;
    em_errors_init(&errs);
    *out = em_conf_load(path, &errs);
    if (!*out) {
        em_errors_print(&errs, stderr);
        return -1;
    }
    return 0;
}

static int cmd_poll(const char *conf_path, const char *dev_id, int json)
{
    struct em_conf *c;
    struct em_device dev;
    struct em_bus bus;
    char err[256], boot[24];
    int rc = 1;

    if (load_conf(conf_path, &c) < 0)
        return 1;
    const struct em_dev_conf *dc = em_conf_device(c, dev_id);
    if (!dc) {
        fprintf(stderr, "poll: no device '%s' in '%s'\n", dev_id, conf_path);
        em_conf_free(c);
        return 1;
    }
    /* One-shot: the seq shown is the next the daemon will use, not consumed. */
    if (em_device_init(&dev, dc, dc->addr.kind == EM_BUS_RTU, c->agent.state_dir, 1, err,
                       sizeof err) < 0) {
        fprintf(stderr, "poll: %s\n", err);
        em_conf_free(c);
        return 1;
    }
    em_bus_init(&bus, &dc->addr, dc->bus_key);
    struct em_device *dp = &dev;
    if (em_bus_add_device(&bus, dp) < 0 || em_bus_connect(&bus) < 0) {
        fprintf(stderr, "poll: device '%s': cannot connect to '%s': %s\n", dev_id, dc->bus,
                em_strerror(errno));
        goto out;
    }
    if (em_device_poll(&dev, bus.mb) < 0) {
        fprintf(stderr, "poll: device '%s' (unit %d on '%s'): %s\n", dev_id, dc->unit, dc->bus,
                em_strerror(errno));
        goto out;
    }
    if (json) {
        static char msg[EM_MSG_MAX];
        em_boot_id(boot, sizeof boot);
        int n = em_device_message(&dev, c->agent.id, c->agent.site, boot, em_wall_ms(), msg,
                                  sizeof msg);
        if (n < 0) {
            fprintf(stderr, "poll: device '%s': message too large\n", dev_id);
            goto out;
        }
        printf("%s\n", msg);
    } else {
        print_table(&dev);
    }
    rc = 0;
out:
    em_bus_release(&bus);
    em_device_release(&dev);
    em_conf_free(c);
    return rc;
}

int main(int argc, char **argv)
{
    const char *conf_path = NULL;
    int json = 0, use_syslog = 0, print = 0;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("edgemon %s\n", EM_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"syslog", no_argument, NULL, 's'},
                                         {"print", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "c:jsph", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            conf_path = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 's':
            use_syslog = 1;
            break;
        case 'p':
            print = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    if (!conf_path) {
        fprintf(stderr, "%s: missing -c FILE\n", cmd);
        return 2;
    }
    if (strcmp(cmd, "check") == 0 && nargs == 0)
        return em_conf_check(conf_path, stdout, stdout);
    if (strcmp(cmd, "poll") == 0 && nargs == 1)
        return cmd_poll(conf_path, args[0], json);
    if (strcmp(cmd, "broker") == 0 && nargs == 3 && strcmp(args[0], "config") == 0)
        return em_broker_config(args[1], args[2], conf_path, stdout, stderr);
    if (strcmp(cmd, "run") == 0 && nargs == 0) {
        em_log_init("edgemon", use_syslog);
        return em_core_run(conf_path, print);
    }
    if (strcmp(cmd, "queue") == 0 && nargs == 0)
        return em_core_queue(conf_path, stdout);
    usage(stderr);
    return 2;
}
