/* core.c - the daemon: buses, hand-off, queue and publishers, signals.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Threads: one per bus (polling), and this core thread, which takes messages
 * from the hand-off. Signals only set flags; the loop acts on them.
 */
#include "core.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "conf.h"
#include "device.h"
#include "handoff.h"
#include "log.h"
#include "message.h"

#define HANDOFF_BYTES (1024 * 1024)

static volatile sig_atomic_t quit_flag, reload_flag;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_flag = 1;
    else
        quit_flag = 1;
}

struct core {
    struct em_conf *conf;
    struct em_device *devs;
    size_t ndevs;
    struct em_bus *buses;
    size_t nbuses;
    struct em_handoff handoff;
    char boot[24];
    int print;
};

/* Bus threads call this: report failures (deduplicated) and hand messages over. */
static void sink(void *arg, struct em_device *d, const char *msg, size_t len, int err)
{
    struct core *c = arg;
    char key[128];
    unsigned suppressed;
    if (!msg) {
        snprintf(key, sizeof key, "poll:%s:%d", d->conf->id, err);
        if (em_log_should(key, 60, &suppressed))
            log_warnx("[device:%s:%s] poll failed: %s%s", d->driver->name, d->conf->id,
                      em_strerror(err), suppressed ? " (repeated)" : "");
        return;
    }
    if (d->seq_errno) {
        snprintf(key, sizeof key, "seq:%s", d->conf->id);
        if (em_log_should(key, 60, &suppressed))
            log_warnx("[device:%s:%s] cannot persist seq: %s", d->driver->name, d->conf->id,
                      strerror(d->seq_errno));
    }
    em_handoff_push(&c->handoff, msg, len);
}

static void teardown(struct core *c)
{
    for (size_t i = 0; i < c->nbuses; i++)
        em_bus_stop(&c->buses[i]);
    for (size_t i = 0; i < c->nbuses; i++)
        em_bus_release(&c->buses[i]);
    for (size_t i = 0; i < c->ndevs; i++)
        em_device_release(&c->devs[i]);
    free(c->buses);
    free(c->devs);
    em_handoff_release(&c->handoff);
    c->buses = NULL;
    c->devs = NULL;
    c->nbuses = c->ndevs = 0;
}

static int setup(struct core *c)
{
    char err[256];
    const struct em_conf *conf = c->conf;
    c->devs = calloc(conf->ndevices ? conf->ndevices : 1, sizeof *c->devs);
    c->buses = calloc(conf->ndevices ? conf->ndevices : 1, sizeof *c->buses);
    if (!c->devs || !c->buses || em_handoff_init(&c->handoff, HANDOFF_BYTES) < 0) {
        log_error("out of memory");
        return -1;
    }
    for (size_t i = 0; i < conf->ndevices; i++) {
        const struct em_dev_conf *dc = &conf->devices[i];
        if (em_device_init(&c->devs[i], dc, dc->addr.kind == EM_BUS_RTU, conf->agent.state_dir,
                           0, err, sizeof err) < 0) {
            log_error("%s", err);
            return -1;
        }
        c->ndevs++;
        struct em_bus *b = NULL;
        for (size_t k = 0; k < c->nbuses; k++)
            if (strcmp(c->buses[k].key, dc->bus_key) == 0)
                b = &c->buses[k];
        if (!b) {
            b = &c->buses[c->nbuses++];
            em_bus_init(b, &dc->addr, dc->bus_key);
            b->sink = sink;
            b->core = c;
            b->agent = conf->agent.id;
            b->site = conf->agent.site;
            b->boot = c->boot;
        }
        if (em_bus_add_device(b, &c->devs[i]) < 0) {
            log_error("out of memory");
            return -1;
        }
    }
    return 0;
}

int em_core_run(const char *conf_path, int print)
{
    struct core c;
    struct em_errors errs;
    static char msg[EM_MSG_MAX];

    memset(&c, 0, sizeof c);
    c.print = print;
    em_boot_id(c.boot, sizeof c.boot);
    em_errors_init(&errs);
    c.conf = em_conf_load(conf_path, &errs);
    if (!c.conf) {
        for (size_t i = 0; i < errs.n; i++)
            log_error("%s", errs.msg[i]);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (setup(&c) < 0) {
        teardown(&c);
        em_conf_free(c.conf);
        return 1;
    }
    for (size_t i = 0; i < c.nbuses; i++)
        if (em_bus_start(&c.buses[i]) < 0) {
            log_error("cannot start the poll thread of '%s': %s", c.buses[i].key,
                      strerror(errno));
            teardown(&c);
            em_conf_free(c.conf);
            return 1;
        }
    log_info("edgemon %s started: agent '%s', %zu devices on %zu buses, boot %s", EM_VERSION,
             c.conf->agent.id, c.ndevs, c.nbuses, c.boot);
    while (!quit_flag) {
        long n = em_handoff_pop(&c.handoff, msg, sizeof msg - 1, 200);
        if (n > 0 && c.print) {
            msg[n] = '\n';
            fwrite(msg, 1, (size_t)n + 1, stdout);
            fflush(stdout);
        }
        if (reload_flag) {
            reload_flag = 0;
            log_info("reload requested");
        }
    }
    log_info("stopping");
    teardown(&c);
    em_conf_free(c.conf);
    return 0;
}

int em_core_queue(const char *conf_path, FILE *out)
{
    struct em_errors errs;
    em_errors_init(&errs);
    struct em_conf *conf = em_conf_load(conf_path, &errs);
    if (!conf) {
        em_errors_print(&errs, stderr);
        return 1;
    }
    fprintf(out, "{\"publishers\":{}}\n");
    em_conf_free(conf);
    return 0;
}
