/* server.c - Modbus TCP and RTU server loops of the simulator, dispatch and faults.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * One thread, one select() loop. libmodbus frames the TCP requests (modbus_receive) and
 * builds every reply (modbus_reply on a throw-away mapping that covers exactly the
 * requested range, or modbus_reply_exception). The answers come from our own sparse
 * per-device tables, because a libmodbus mapping has one range per table and one slave.
 *
 * RTU requests are framed here, not by modbus_receive: libmodbus 3.1.6 drops every RTU
 * request whose slave id differs from the context's single slave, but one simulated line
 * carries several devices.
 */
#include <errno.h>
#include <modbus.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define MAX_CONNS       64
#define MAX_DEFERRED    64
#define REQ_MAX         MODBUS_TCP_MAX_ADU_LENGTH /* 260, larger than the RTU ADU (256) */
#define CONTROL_POLL_MS 50                        /* the brief asks for <= 100 ms */
#define VARY_STEP_MS    1000

/* Read limits from the Modbus specification (also MODBUS_MAX_* in modbus.h). */
#define MAX_READ_BITS  2000
#define MAX_READ_REGS  125
#define MAX_WRITE_BITS 1968
#define MAX_WRITE_REGS 123

struct conn {
    int fd;           /* -1 when the slot is free */
    unsigned int gen; /* bumped on every reuse, so deferred replies find the right peer */
    unsigned long nreq; /* requests on this connection, for disconnect:N */
};

struct deferred {
    int used;
    int conn; /* TCP: connection slot; RTU: -1 */
    unsigned int gen;
    long long due_ms;
    int close_after;
    int len;
    uint8_t req[REQ_MAX];
};

struct server {
    struct sim_server_conf *conf;
    modbus_t *ctx;
    int is_rtu;
    int hdr; /* offset of the function code in a request */
    int listen_fd;
    struct conn conns[MAX_CONNS];
    struct deferred defq[MAX_DEFERRED];
    /* RTU framing */
    int rtu_fd;
    uint8_t rbuf[512];
    size_t rlen;
    long long rlast_ms;
    long long gap_ms;
    long long start_ms;
};

static volatile sig_atomic_t quit_signal;

static void on_signal(int sig)
{
    quit_signal = sig;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sim_split_hostport(const char *s, char *host, size_t hostlen, char *port,
                       size_t portlen)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    long pnum;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            errno = EINVAL;
            return -1;
        }
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            errno = EINVAL;
            return -1;
        }
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen || strlen(colon + 1) == 0 ||
        strlen(colon + 1) >= portlen) {
        errno = EINVAL;
        return -1;
    }
    /* getaddrinfo() would take "99999" or a service name; a test wants a plain port. */
    if (sim_parse_num(colon + 1, 1, 65535, &pnum, NULL) < 0) {
        errno = EINVAL;
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    strcpy(port, colon + 1);
    return 0;
}

static struct sim_device *find_device(struct server *s, int unit)
{
    for (int i = 0; i < s->conf->ndevices; i++) {
        if (s->conf->devices[i].unit == unit) {
            return &s->conf->devices[i];
        }
    }
    return NULL;
}

/* The i-th active fault (command line first, then control file), NULL past the end. */
static struct sim_fault *fault_at(struct server *s, int i)
{
    int ncli = s->conf->cli_faults->n;

    if (i < ncli) {
        return &s->conf->cli_faults->f[i];
    }
    i -= ncli;
    if (s->conf->control->path != NULL && i < s->conf->control->faults.n) {
        return &s->conf->control->faults.f[i];
    }
    return NULL;
}

static unsigned long disconnect_every(struct server *s)
{
    struct sim_fault *f;
    unsigned long n = 0;

    for (int i = 0; (f = fault_at(s, i)) != NULL; i++) {
        if (f->kind == SIM_FAULT_DISCONNECT && (n == 0 || f->n < n)) {
            n = f->n;
        }
    }
    return n;
}

static void close_conn(struct server *s, int ci)
{
    if (ci < 0 || s->conns[ci].fd < 0) {
        return;
    }
    close(s->conns[ci].fd);
    s->conns[ci].fd = -1;
    s->conns[ci].gen++;
    s->conns[ci].nreq = 0;
    if (s->conf->verbose) {
        fprintf(stderr, "edgemon-sim: connection %d closed\n", ci);
    }
}

/* Points the libmodbus context at the peer of this request (TCP) before a reply. */
static int select_peer(struct server *s, int ci)
{
    if (s->is_rtu) {
        return 0;
    }
    if (ci < 0 || s->conns[ci].fd < 0) {
        return -1;
    }
    return modbus_set_socket(s->ctx, s->conns[ci].fd);
}

static void reply_exception(struct server *s, const uint8_t *req, int ci, int code)
{
    if (s->conf->verbose) {
        fprintf(stderr, "edgemon-sim: unit %d fc %d -> exception %d\n", req[s->hdr - 1],
                req[s->hdr], code);
    }
    if (select_peer(s, ci) < 0) {
        return;
    }
    if (modbus_reply_exception(s->ctx, req, (unsigned int)code) < 0 && !s->is_rtu) {
        close_conn(s, ci);
    }
}

static int space_of_function(int fc, enum sim_space *sp)
{
    switch (fc) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
        *sp = SIM_COIL;
        return 0;
    case MODBUS_FC_READ_DISCRETE_INPUTS:
        *sp = SIM_DISCRETE;
        return 0;
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        *sp = SIM_HOLDING;
        return 0;
    case MODBUS_FC_READ_INPUT_REGISTERS:
        *sp = SIM_INPUT;
        return 0;
    default:
        return -1;
    }
}

/* The exception code an exception fault forces on this access, or 0. */
static int forced_exception(struct server *s, int unit, enum sim_space sp,
                            unsigned int addr, unsigned int count)
{
    struct sim_fault *f;

    for (int i = 0; (f = fault_at(s, i)) != NULL; i++) {
        if (f->kind == SIM_FAULT_EXCEPTION && f->unit == unit && f->space == sp &&
            addr <= f->end && addr + count - 1 >= f->start) {
            return f->code;
        }
    }
    return 0;
}

/*
 * Answers one request of a known device: first the checks every Modbus device makes
 * (function, quantity, address overflow), then exception faults, then holes, then data
 * from the device's tables.
 */
static void answer(struct server *s, struct sim_device *dev, const uint8_t *req, int len,
                   int ci)
{
    const uint8_t *pdu = req + s->hdr;
    int fc = pdu[0];
    enum sim_space sp;
    unsigned int addr, count, max;
    int exc;
    uint16_t regs[MAX_READ_REGS];
    uint8_t bits[MAX_READ_BITS];
    modbus_mapping_t map;

    if (space_of_function(fc, &sp) < 0 || len < s->hdr + 5) {
        reply_exception(s, req, ci, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
        return;
    }
    addr = (unsigned int)(pdu[1] << 8 | pdu[2]);
    switch (fc) {
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
        count = 1;
        max = 1;
        break;
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
        count = (unsigned int)(pdu[3] << 8 | pdu[4]);
        max = MAX_WRITE_BITS;
        break;
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        count = (unsigned int)(pdu[3] << 8 | pdu[4]);
        max = MAX_WRITE_REGS;
        break;
    default:
        count = (unsigned int)(pdu[3] << 8 | pdu[4]);
        max = (sp == SIM_COIL || sp == SIM_DISCRETE) ? MAX_READ_BITS : MAX_READ_REGS;
        break;
    }
    if (count < 1 || count > max) {
        reply_exception(s, req, ci, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
        return;
    }
    if (addr + count > 0x10000u) {
        reply_exception(s, req, ci, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
        return;
    }
    exc = forced_exception(s, dev->unit, sp, addr, count);
    if (exc != 0) {
        reply_exception(s, req, ci, exc);
        return;
    }
    /* A range that touches a hole fails as a whole, like on the real devices. */
    for (unsigned int i = 0; i < count; i++) {
        uint16_t v;

        if (sim_device_get(dev, sp, addr + i, &v) < 0) {
            reply_exception(s, req, ci, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
            return;
        }
        if (sp == SIM_COIL || sp == SIM_DISCRETE) {
            bits[i] = (uint8_t)v;
        } else {
            regs[i] = v;
        }
    }

    /* A mapping that covers exactly [addr, addr + count) of the one table asked for. */
    memset(&map, 0, sizeof(map));
    switch (sp) {
    case SIM_COIL:
        map.start_bits = (int)addr;
        map.nb_bits = (int)count;
        map.tab_bits = bits;
        break;
    case SIM_DISCRETE:
        map.start_input_bits = (int)addr;
        map.nb_input_bits = (int)count;
        map.tab_input_bits = bits;
        break;
    case SIM_HOLDING:
        map.start_registers = (int)addr;
        map.nb_registers = (int)count;
        map.tab_registers = regs;
        break;
    default:
        map.start_input_registers = (int)addr;
        map.nb_input_registers = (int)count;
        map.tab_input_registers = regs;
        break;
    }
    if (s->conf->verbose) {
        fprintf(stderr, "edgemon-sim: unit %d fc %d addr %u count %u -> data\n",
                dev->unit, fc, addr, count);
    }
    if (select_peer(s, ci) < 0) {
        return;
    }
    if (modbus_reply(s->ctx, req, len, &map) < 0 && !s->is_rtu) {
        close_conn(s, ci);
        return;
    }
    /* Writes landed in the throw-away mapping; keep them. */
    if (fc == MODBUS_FC_WRITE_SINGLE_COIL || fc == MODBUS_FC_WRITE_MULTIPLE_COILS ||
        fc == MODBUS_FC_WRITE_SINGLE_REGISTER ||
        fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS) {
        for (unsigned int i = 0; i < count; i++) {
            sim_device_set(dev, sp, addr + i, sp == SIM_COIL ? bits[i] : regs[i]);
        }
    }
}

static void defer(struct server *s, const uint8_t *req, int len, int ci, int ms,
                  int close_after)
{
    for (int i = 0; i < MAX_DEFERRED; i++) {
        struct deferred *d = &s->defq[i];

        if (!d->used) {
            d->used = 1;
            d->conn = ci;
            d->gen = ci >= 0 ? s->conns[ci].gen : 0;
            d->due_ms = now_ms() + ms;
            d->close_after = close_after;
            d->len = len;
            memcpy(d->req, req, (size_t)len);
            return;
        }
    }
    /* Queue full: the request is lost, which a slow device would do too. */
    fprintf(stderr, "edgemon-sim: too many delayed replies, request dropped\n");
}

/*
 * One request from the line or a TCP peer (ci = connection slot, -1 for RTU). The faults
 * that decide whether and when to answer are applied here; exception faults at answer
 * time.
 */
static void on_request(struct server *s, const uint8_t *req, int len, int ci)
{
    int unit = req[s->hdr - 1];
    struct sim_device *dev = find_device(s, unit);
    struct sim_fault *f;
    int ignore = 0, delay = 0, close_after = 0;

    if (ci >= 0) {
        unsigned long every = disconnect_every(s);

        s->conns[ci].nreq++;
        close_after = every > 0 && s->conns[ci].nreq % every == 0;
    }
    if (dev == NULL) {
        /*
         * RTU: nobody on the line has this address, so nobody answers. TCP: we act as a
         * gateway whose target does not exist and say so at once (exception 0x0B), which
         * is quicker to test than a timeout.
         */
        if (!s->is_rtu) {
            reply_exception(s, req, ci, MODBUS_EXCEPTION_GATEWAY_TARGET);
        } else if (s->conf->verbose) {
            fprintf(stderr, "edgemon-sim: unit %d: no such device, silent\n", unit);
        }
        goto done;
    }
    for (int i = 0; (f = fault_at(s, i)) != NULL; i++) {
        if (f->unit != unit) {
            continue;
        }
        if (f->kind == SIM_FAULT_SILENT) {
            ignore = 1;
        } else if (f->kind == SIM_FAULT_DROP) {
            f->counter++;
            if (f->counter % f->n == 0) {
                ignore = 1;
            }
        } else if (f->kind == SIM_FAULT_SLOW && f->ms > delay) {
            delay = f->ms;
        }
    }
    if (ignore) {
        if (s->conf->verbose) {
            fprintf(stderr, "edgemon-sim: unit %d fc %d -> no answer (fault)\n", unit,
                    req[s->hdr]);
        }
        goto done;
    }
    if (delay > 0) {
        defer(s, req, len, ci, delay, close_after);
        return;
    }
    answer(s, dev, req, len, ci);
done:
    if (close_after) {
        close_conn(s, ci);
    }
}

static void run_deferred(struct server *s, long long now)
{
    for (int i = 0; i < MAX_DEFERRED; i++) {
        struct deferred *d = &s->defq[i];
        struct sim_device *dev;

        if (!d->used || d->due_ms > now) {
            continue;
        }
        d->used = 0;
        if (d->conn >= 0 &&
            (s->conns[d->conn].fd < 0 || s->conns[d->conn].gen != d->gen)) {
            continue; /* the peer went away meanwhile */
        }
        dev = find_device(s, d->req[s->hdr - 1]);
        if (dev != NULL) {
            answer(s, dev, d->req, d->len, d->conn);
        }
        if (d->close_after) {
            close_conn(s, d->conn);
        }
    }
}

static long long next_deferred_ms(struct server *s)
{
    long long due = -1;

    for (int i = 0; i < MAX_DEFERRED; i++) {
        if (s->defq[i].used && (due < 0 || s->defq[i].due_ms < due)) {
            due = s->defq[i].due_ms;
        }
    }
    return due;
}

/* CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial 0xFFFF, sent low byte
 * first. */
static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) {
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
        }
    }
    return crc;
}

static int crc_ok(const uint8_t *p, size_t n)
{
    uint16_t c;

    if (n < 4) {
        return 0;
    }
    c = crc16(p, n - 2);
    return p[n - 2] == (c & 0xFF) && p[n - 1] == (c >> 8);
}

/*
 * Length of the RTU request at the start of buf from its function code: > 0 when known,
 * 0 when more bytes are needed to tell, -1 for a function whose length we do not know
 * (then the end of the frame is the line going silent).
 */
static int rtu_frame_length(const uint8_t *buf, size_t len)
{
    if (len < 2) {
        return 0;
    }
    switch (buf[1]) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS:
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
        return 8; /* slave, fc, address, quantity or value, crc */
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        return len < 7 ? 0 : 9 + buf[6]; /* ... quantity, byte count, data, crc */
    case MODBUS_FC_WRITE_AND_READ_REGISTERS:
        return len < 11 ? 0 : 13 + buf[10];
    case MODBUS_FC_MASK_WRITE_REGISTER:
        return 10;
    case MODBUS_FC_READ_EXCEPTION_STATUS:
    case MODBUS_FC_REPORT_SLAVE_ID:
        return 4;
    default:
        return -1;
    }
}

static void rtu_frame(struct server *s, const uint8_t *frame, size_t len)
{
    if (!crc_ok(frame, len)) {
        if (s->conf->verbose) {
            fprintf(stderr, "edgemon-sim: rtu: bad CRC, %zu bytes discarded\n", len);
        }
        return;
    }
    /* Broadcasts (slave 0) are never answered on RTU; no simulated device sits at 0. */
    if (frame[0] == 0) {
        return;
    }
    on_request(s, frame, (int)len, -1);
}

/* Takes every complete request out of the receive buffer. */
static void rtu_consume(struct server *s, long long now)
{
    for (;;) {
        int need = rtu_frame_length(s->rbuf, s->rlen);

        if (need > 0 && (size_t)need > sizeof(s->rbuf)) {
            s->rlen = 0;
            return;
        }
        if (need > 0 && s->rlen >= (size_t)need) {
            uint8_t frame[REQ_MAX];
            int bad;

            memcpy(frame, s->rbuf, (size_t)need);
            bad = !crc_ok(frame, (size_t)need);
            memmove(s->rbuf, s->rbuf + need, s->rlen - (size_t)need);
            s->rlen -= (size_t)need;
            rtu_frame(s, frame, (size_t)need);
            if (bad) {
                /* Out of step: drop the rest too and resynchronise on the next silence.
                 */
                s->rlen = 0;
                tcflush(s->rtu_fd, TCIFLUSH);
                return;
            }
            continue;
        }
        break;
    }
    if (s->rlen > 0 && now - s->rlast_ms >= s->gap_ms) {
        /* The line went quiet: what is left is one frame of unknown length, or junk. */
        int need = rtu_frame_length(s->rbuf, s->rlen);

        if (need < 0 && crc_ok(s->rbuf, s->rlen) && s->rbuf[0] != 0) {
            uint8_t frame[REQ_MAX];
            size_t n = s->rlen < sizeof(frame) ? s->rlen : sizeof(frame);

            memcpy(frame, s->rbuf, n);
            s->rlen = 0;
            on_request(s, frame, (int)n, -1);
        } else {
            if (s->conf->verbose) {
                fprintf(stderr, "edgemon-sim: rtu: %zu stray bytes discarded\n", s->rlen);
            }
            s->rlen = 0;
        }
    }
}

static void rtu_read(struct server *s)
{
    for (;;) {
        ssize_t n;

        if (s->rlen == sizeof(s->rbuf)) {
            s->rlen = 0; /* garbage flood; start over */
        }
        n = read(s->rtu_fd, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen);
        if (n > 0) {
            s->rlen += (size_t)n;
            s->rlast_ms = now_ms();
            continue;
        }
        /* EAGAIN (the port is non-blocking) or EIO while the other pty end is closed. */
        return;
    }
}

static void accept_client(struct server *s)
{
    int lfd = s->listen_fd;
    int fd = modbus_tcp_pi_accept(s->ctx, &lfd);

    if (fd < 0) {
        return;
    }
    for (int i = 0; i < MAX_CONNS; i++) {
        if (s->conns[i].fd < 0) {
            s->conns[i].fd = fd;
            s->conns[i].nreq = 0;
            if (s->conf->verbose) {
                fprintf(stderr, "edgemon-sim: connection %d accepted\n", i);
            }
            return;
        }
    }
    fprintf(stderr, "edgemon-sim: more than %d clients, connection refused\n", MAX_CONNS);
    close(fd);
}

static void tcp_readable(struct server *s, int ci)
{
    uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
    int rc;

    modbus_set_socket(s->ctx, s->conns[ci].fd);
    rc = modbus_receive(s->ctx, req);
    if (rc < 0) {
        /* Peer closed (ECONNRESET) or sent something that is not Modbus TCP. */
        close_conn(s, ci);
        return;
    }
    if (rc > 0) {
        on_request(s, req, rc, ci);
    }
}

static void log_start(struct server *s)
{
    struct sim_server_conf *c = s->conf;
    char devs[512] = "";
    size_t off = 0;

    for (int i = 0; i < c->ndevices && off < sizeof(devs); i++) {
        int n = snprintf(devs + off, sizeof(devs) - off, "%s%s@%d", i ? " " : "",
                         c->devices[i].model, c->devices[i].unit);
        if (n < 0) {
            break;
        }
        off += (size_t)n;
    }
    if (c->tcp != NULL) {
        fprintf(stderr,
                "edgemon-sim: tcp %s: %s; %d fault(s) from the command line%s%s%s\n",
                c->tcp, devs, c->cli_faults->n, c->control->path ? "; control " : "",
                c->control->path ? c->control->path : "", c->vary ? "; vary" : "");
    } else {
        fprintf(stderr,
                "edgemon-sim: rtu %s %d %c%d%d: %s; %d fault(s) from the command "
                "line%s%s%s\n",
                c->rtu, c->baud, c->parity, c->data_bits, c->stop_bits, devs,
                c->cli_faults->n, c->control->path ? "; control " : "",
                c->control->path ? c->control->path : "", c->vary ? "; vary" : "");
    }
}

static int write_pidfile(const char *path)
{
    char tmp[4096];
    FILE *fp;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fp = fopen(tmp, "w");
    if (fp == NULL) {
        return -1;
    }
    fprintf(fp, "%ld\n", (long)getpid());
    if (fclose(fp) != 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int open_transport(struct server *s)
{
    struct sim_server_conf *c = s->conf;

    if (c->tcp != NULL) {
        char host[256], port[32];

        if (sim_split_hostport(c->tcp, host, sizeof(host), port, sizeof(port)) < 0) {
            fprintf(stderr, "edgemon-sim: bad --tcp '%s': want HOST:PORT\n", c->tcp);
            return -1;
        }
        s->ctx = modbus_new_tcp_pi(host, port);
        if (s->ctx == NULL) {
            fprintf(stderr, "edgemon-sim: cannot create tcp context: %s\n",
                    modbus_strerror(errno));
            return -1;
        }
        s->listen_fd = modbus_tcp_pi_listen(s->ctx, MAX_CONNS);
        if (s->listen_fd < 0) {
            fprintf(stderr, "edgemon-sim: cannot listen on '%s': %s\n", c->tcp,
                    modbus_strerror(errno));
            return -1;
        }
        s->hdr = modbus_get_header_length(s->ctx);
        return 0;
    }
    s->is_rtu = 1;
    s->ctx = modbus_new_rtu(c->rtu, c->baud, c->parity, c->data_bits, c->stop_bits);
    if (s->ctx == NULL) {
        fprintf(stderr, "edgemon-sim: cannot create rtu context for '%s': %s\n", c->rtu,
                modbus_strerror(errno));
        return -1;
    }
    if (modbus_connect(s->ctx) < 0) {
        fprintf(stderr, "edgemon-sim: cannot open '%s': %s\n", c->rtu,
                modbus_strerror(errno));
        return -1;
    }
    s->rtu_fd = modbus_get_socket(s->ctx);
    s->hdr = modbus_get_header_length(s->ctx);
    /* 3.5 character times of silence end a frame (11 bits a character); a pty or a USB
     * adapter delivers in bursts, so never wait less than 20 ms. */
    s->gap_ms = 3500LL * 11 / c->baud + 1;
    if (s->gap_ms < 20) {
        s->gap_ms = 20;
    }
    return 0;
}

static void close_transport(struct server *s)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        if (s->conns[i].fd >= 0) {
            close(s->conns[i].fd);
            s->conns[i].fd = -1;
        }
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    if (s->ctx != NULL) {
        if (s->is_rtu) {
            modbus_close(s->ctx); /* restores the port settings */
        } else {
            modbus_set_socket(s->ctx, -1); /* its fd was one of ours, closed above */
        }
        modbus_free(s->ctx);
        s->ctx = NULL;
    }
}

int sim_server_run(struct sim_server_conf *conf)
{
    static struct server srv; /* large (deferred queue); one per process */
    struct server *s = &srv;
    struct sigaction sa;
    long long next_control, next_vary;
    int status = 0;

    memset(s, 0, sizeof(*s));
    s->conf = conf;
    s->listen_fd = -1;
    s->rtu_fd = -1;
    for (int i = 0; i < MAX_CONNS; i++) {
        s->conns[i].fd = -1;
    }

    /* No SA_RESTART: select() must return on a signal so the loop sees quit_signal. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_start(s);
    if (open_transport(s) < 0) {
        close_transport(s);
        return 1;
    }
    if (sim_control_poll(conf->control)) {
        fprintf(stderr, "edgemon-sim: control %s: %d fault(s)\n", conf->control->path,
                conf->control->faults.n);
    }
    s->start_ms = now_ms();
    if (conf->vary) {
        for (int i = 0; i < conf->ndevices; i++) {
            sim_device_vary(&conf->devices[i], 0.0);
        }
    }
    if (conf->pidfile != NULL && write_pidfile(conf->pidfile) < 0) {
        fprintf(stderr, "edgemon-sim: cannot write '%s': %s\n", conf->pidfile,
                strerror(errno));
        close_transport(s);
        return 1;
    }
    printf("listening\n");
    fflush(stdout);

    next_control = now_ms() + CONTROL_POLL_MS;
    next_vary = now_ms() + VARY_STEP_MS;
    while (!quit_signal) {
        fd_set rfds;
        int maxfd = -1;
        long long now = now_ms(), wake = next_control, due;
        struct timeval tv;
        int rc;

        FD_ZERO(&rfds);
        if (s->is_rtu) {
            FD_SET(s->rtu_fd, &rfds);
            maxfd = s->rtu_fd;
            if (s->rlen > 0 && s->rlast_ms + s->gap_ms < wake) {
                wake = s->rlast_ms + s->gap_ms;
            }
        } else {
            FD_SET(s->listen_fd, &rfds);
            maxfd = s->listen_fd;
            for (int i = 0; i < MAX_CONNS; i++) {
                if (s->conns[i].fd >= 0) {
                    FD_SET(s->conns[i].fd, &rfds);
                    if (s->conns[i].fd > maxfd) {
                        maxfd = s->conns[i].fd;
                    }
                }
            }
        }
        due = next_deferred_ms(s);
        if (due >= 0 && due < wake) {
            wake = due;
        }
        if (conf->vary && next_vary < wake) {
            wake = next_vary;
        }
        if (wake < now) {
            wake = now;
        }
        tv.tv_sec = (time_t)((wake - now) / 1000);
        tv.tv_usec = (suseconds_t)((wake - now) % 1000 * 1000);
        rc = select(maxfd + 1, &rfds, NULL, NULL, &tv);
        if (rc < 0 && errno != EINTR) {
            fprintf(stderr, "edgemon-sim: select: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (rc > 0) {
            if (s->is_rtu) {
                if (FD_ISSET(s->rtu_fd, &rfds)) {
                    rtu_read(s);
                }
            } else {
                if (FD_ISSET(s->listen_fd, &rfds)) {
                    accept_client(s);
                }
                for (int i = 0; i < MAX_CONNS; i++) {
                    if (s->conns[i].fd >= 0 && FD_ISSET(s->conns[i].fd, &rfds)) {
                        tcp_readable(s, i);
                    }
                }
            }
        }
        now = now_ms();
        if (s->is_rtu) {
            rtu_consume(s, now);
        }
        run_deferred(s, now);
        if (now >= next_control) {
            if (sim_control_poll(conf->control)) {
                fprintf(stderr, "edgemon-sim: control %s: %d fault(s)\n",
                        conf->control->path, conf->control->faults.n);
            }
            next_control = now + CONTROL_POLL_MS;
        }
        if (conf->vary && now >= next_vary) {
            for (int i = 0; i < conf->ndevices; i++) {
                sim_device_vary(&conf->devices[i], (double)(now - s->start_ms) / 1000.0);
            }
            next_vary = now + VARY_STEP_MS;
        }
    }

    close_transport(s);
    if (conf->pidfile != NULL) {
        unlink(conf->pidfile);
    }
    if (quit_signal) {
        fprintf(stderr, "edgemon-sim: stopped by signal %d\n", (int)quit_signal);
    }
    return status;
}
