/* bench_poll.c - requests per poll cycle against the optimum, CPU per decoded reading.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * usage: bench_poll [PORT]   (PORT: a simulator serving the five models on units
 * 1..5 at 127.0.0.1; without it only the plans are printed)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dataset.h"
#include "driver.h"
#include "message.h"
#include "plan.h"
#include "profile.h"
#include "regdev.h"

static const char *const models[] = {"epever-tracer", "renogy-rover", "seplos-v3", "sunspec",
                                     "sunspec-battery"};
static const char *const drivers[] = {"mppt", "mppt", "pms", "inverter", "pms"};

static struct em_regdev *engine(const char *name, struct em_profile **pp, int rtu)
{
    char err[256];
    struct em_profile *p = em_profile_load(name, err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    struct em_regdev *d = em_regdev_new(p, rtu, err, sizeof err);
    if (!d)
        exit(1);
    if (p->nmodels) {
        uint16_t inv_ids[] = {1, 103, 160}, inv_lens[] = {66, 50, 48};
        uint16_t bat_ids[] = {1, 802}, bat_lens[] = {66, 62};
        int bat = strcmp(name, "sunspec-battery") == 0;
        em_regdev_assume(d, 40000, bat ? bat_ids : inv_ids, bat ? bat_lens : inv_lens,
                         bat ? 2 : 3);
    } else {
        em_regdev_plan(d);
    }
    *pp = p;
    return d;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    printf("requests per poll cycle (plan vs optimum; optimum = every gap read through)\n");
    printf("  %-16s %5s %5s %8s %6s\n", "profile", "tcp", "rtu", "optimum", "points");
    for (size_t i = 0; i < 5; i++) {
        struct em_profile *p, *q;
        struct em_regdev *t = engine(models[i], &p, 0), *r = engine(models[i], &q, 1);
        printf("  %-16s %5zu %5zu %8zu %6zu\n", models[i], t->plan.nreqs, r->plan.nreqs,
               em_plan_optimum(t->pts, t->npts), t->npts);
        em_regdev_free(t);
        em_regdev_free(r);
        em_profile_free(p);
        em_profile_free(q);
    }
    if (argc < 2)
        return 0;

    printf("\nCPU per decoded reading (libmodbus over loopback TCP + decode + driver + "
           "message), 2000 polls each\n");
    char port[16];
    snprintf(port, sizeof port, "%s", argv[1]);
    modbus_t *mb = modbus_new_tcp_pi("127.0.0.1", port);
    if (!mb || modbus_connect(mb) < 0) {
        fprintf(stderr, "bench_poll: cannot connect to 127.0.0.1:%s\n", port);
        return 1;
    }
    static struct em_dataset ds;
    static char msg[EM_MSG_MAX];
    for (size_t i = 0; i < 5; i++) {
        struct em_profile *p;
        char err[256];
        if (!(p = em_profile_load(models[i], err, sizeof err)))
            return 1;
        struct em_regdev *d = em_regdev_new(p, 0, err, sizeof err);
        const struct em_driver *drv = em_driver_find(drivers[i]);
        modbus_set_slave(mb, (int)i + 1);
        const int n = 2000;
        unsigned long before = 0;
        double c0 = cpu_s();
        int ok = 0;
        for (int k = 0; k < n; k++) {
            if (k == 1)
                before = d->stats.requests; /* exclude discovery */
            em_ds_reset(&ds, drv->name);
            if (em_regdev_read(d, mb, &ds) == 0 && drv->fixup(NULL, &ds) == 0) {
                struct em_msg_meta m = {"dev", "gw", "site", (uint64_t)k, "b", 0};
                if (em_msg_format(&ds, &m, msg, sizeof msg) > 0)
                    ok++;
            }
        }
        double c = cpu_s() - c0;
        printf("  %-16s %7.1f us CPU/reading  %4.2f requests/reading  %d/%d ok\n", models[i],
               c / n * 1e6, (double)(d->stats.requests - before) / (n - 1), ok, n);
        em_regdev_free(d);
        em_profile_free(p);
    }
    modbus_close(mb);
    modbus_free(mb);
    return 0;
}
