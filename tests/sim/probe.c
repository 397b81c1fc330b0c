/* probe.c - edgemon-sim --probe: a tiny Modbus client for tests and manual checks.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Prints one line per read: the values as decimal numbers separated by spaces, or
 * "exception N", "timeout", "closed" (the server dropped the TCP connection) or
 * "error TEXT". Exit status 0 only when every read returned values.
 */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int read_once(modbus_t *ctx, const struct sim_probe_conf *c, uint16_t *regs,
                     uint8_t *bits)
{
    int n = (int)c->count;

    switch (c->space) {
    case SIM_COIL:
        return modbus_read_bits(ctx, (int)c->addr, n, bits);
    case SIM_DISCRETE:
        return modbus_read_input_bits(ctx, (int)c->addr, n, bits);
    case SIM_HOLDING:
        return modbus_read_registers(ctx, (int)c->addr, n, regs);
    default:
        return modbus_read_input_registers(ctx, (int)c->addr, n, regs);
    }
}

/* Prints the outcome of a failed call; returns 1 when the link must be reopened. */
static int print_error(int err)
{
    if (err > MODBUS_ENOBASE && err <= MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_TARGET) {
        printf("exception %d\n", err - MODBUS_ENOBASE);
        return 0;
    }
    if (err == ETIMEDOUT) {
        printf("timeout\n");
        return 1;
    }
    if (err == ECONNRESET || err == EPIPE || err == EBADF) {
        printf("closed\n");
        return 1;
    }
    printf("error %s\n", modbus_strerror(err));
    return 1;
}

int sim_probe_run(const struct sim_probe_conf *c)
{
    modbus_t *ctx;
    uint16_t regs[MODBUS_MAX_READ_REGISTERS];
    uint8_t bits[MODBUS_MAX_READ_BITS];
    int all_ok = 1;
    int connected;

    if (c->tcp != NULL) {
        char host[256], port[32];

        if (sim_split_hostport(c->tcp, host, sizeof(host), port, sizeof(port)) < 0) {
            fprintf(stderr, "edgemon-sim: bad --tcp '%s': want HOST:PORT\n", c->tcp);
            return 1;
        }
        ctx = modbus_new_tcp_pi(host, port);
    } else {
        ctx = modbus_new_rtu(c->rtu, c->baud, c->parity, c->data_bits, c->stop_bits);
    }
    if (ctx == NULL) {
        printf("error %s\n", modbus_strerror(errno));
        return 1;
    }
    modbus_set_slave(ctx, c->unit);
    modbus_set_response_timeout(ctx, (uint32_t)(c->timeout_ms / 1000),
                                (uint32_t)(c->timeout_ms % 1000) * 1000);
    connected = modbus_connect(ctx) == 0;
    if (!connected) {
        printf("error %s\n", modbus_strerror(errno));
        modbus_free(ctx);
        return 1;
    }

    for (int r = 0; r < c->repeat; r++) {
        int rc;

        if (r > 0 && c->interval_ms > 0) {
            sleep_ms(c->interval_ms);
        }
        if (!connected) {
            connected = modbus_connect(ctx) == 0;
            if (!connected) {
                printf("error %s\n", modbus_strerror(errno));
                all_ok = 0;
                continue;
            }
        }
        rc = read_once(ctx, c, regs, bits);
        if (rc < 0) {
            int err = errno;

            all_ok = 0;
            if (print_error(err)) {
                /* A late answer must not be taken for the next read's: start afresh. */
                if (c->tcp != NULL) {
                    modbus_close(ctx);
                    connected = 0;
                } else {
                    modbus_flush(ctx);
                }
            }
            continue;
        }
        for (int i = 0; i < rc; i++) {
            printf("%s%u", i ? " " : "",
                   (c->space == SIM_COIL || c->space == SIM_DISCRETE)
                       ? (unsigned int)bits[i]
                       : (unsigned int)regs[i]);
        }
        printf("\n");
    }
    fflush(stdout);
    if (connected) {
        modbus_close(ctx);
    }
    modbus_free(ctx);
    return all_ok ? 0 : 1;
}
