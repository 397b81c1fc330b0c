/* busaddr.h - bus URLs (tcp://, rtu:) and Redis URLs parsed into fixed-size structs.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Accepted bus URLs:
 *   tcp://HOST:PORT    HOST is a name, an IPv4 address or an [IPv6] address in
 *                      brackets; PORT 1-65535, 502 (Modbus/TCP) when left out.
 *   rtu:DEVICE?baud=N&parity=N|E|O&data=7|8&stop=1|2
 *                      DEVICE is an absolute path; every option is optional
 *                      (defaults 9600, N, 8, 1); unknown or repeated options are
 *                      errors. baud is one of 1200 2400 4800 9600 19200 38400
 *                      57600 115200 230400 460800 921600.
 * Schemes are case-insensitive. Nothing here resolves names or touches devices:
 * parsing is pure, so `edgemon check` gives the same answer on any machine.
 *
 * Accepted Redis URLs (the queue and the redis publisher):
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]   PORT 6379 and DB 0 by default
 *   redis:///PATH/TO/SOCKET[?db=N]               Unix socket (empty host)
 *   unix:///PATH/TO/SOCKET[?db=N]                the same, hiredis-cli style
 * USER and PASSWORD may be %-encoded. DB is 0-9999.
 */
#ifndef EM_BUSADDR_H
#define EM_BUSADDR_H

#include <stddef.h>

enum em_bus_kind { EM_BUS_NONE = 0, EM_BUS_TCP = 1, EM_BUS_RTU = 2 };

#define EM_BUSADDR_HOST_MAX 256
#define EM_BUSADDR_PATH_MAX 256
/* "tcp://[" + host + "]:65535" or "rtu:" + device, with the terminating NUL. */
#define EM_BUSADDR_KEY_MAX 272
/* The key plus "?baud=921600&parity=N&data=8&stop=1". */
#define EM_BUSADDR_FMT_MAX 320

#define EM_MODBUS_TCP_PORT 502 /* IANA port of Modbus/TCP */

struct em_bus_addr {
    int kind;                       /* enum em_bus_kind; EM_BUS_NONE after a failure */
    char host[EM_BUSADDR_HOST_MAX]; /* TCP: lowercase name, dotted IPv4 or canonical IPv6
                                     */
    int port;                       /* TCP */
    char device[EM_BUSADDR_PATH_MAX]; /* RTU: path with repeated '/' collapsed */
    int baud;                         /* RTU */
    char parity;                      /* RTU: 'N', 'E' or 'O' */
    int data_bits, stop_bits;         /* RTU */
};

/*
 * Parse a bus URL into *out (zeroed first, kind EM_BUS_NONE on failure).
 * `url`, `out` and `err` are borrowed for the call. Returns 0, or -1 with a
 * message (without the JSON path) in err, e.g. "port must be between 1 and 65535".
 */
int em_busaddr_parse(const char *url, struct em_bus_addr *out, char *err, size_t errlen);

/*
 * The identity of the physical line: "tcp://HOST:PORT" or "rtu:DEVICE", from the
 * canonical fields, so "rtu:/dev/ttyUSB0" and "RTU://dev/ttyUSB0?baud=9600" give
 * the same key. Devices with equal keys share one bus (one poll thread, one
 * modbus_t). Returns 0, or -1 (errno ENAMETOOLONG/EINVAL) when it does not fit.
 */
int em_busaddr_key(const struct em_bus_addr *a, char *out, size_t outlen);

/* The full canonical URL including serial settings; same returns as em_busaddr_key. */
int em_busaddr_format(const struct em_bus_addr *a, char *out, size_t outlen);

/* 1 when two RTU addresses use the same baud, parity, data and stop bits. */
int em_busaddr_same_serial(const struct em_bus_addr *a, const struct em_bus_addr *b);

/*
 * Parse "HOST[:PORT]" of exactly `len` bytes at `s` (HOST as above, IPv6 in
 * brackets). default_port: the port when absent, or -1 to make it mandatory.
 * The canonical host goes into host[hostlen]. Returns 0 or -1 with err.
 */
int em_busaddr_parse_hostport(const char *s, size_t len, char *host, size_t hostlen,
                              int *port, int default_port, char *err, size_t errlen);

struct em_redis_addr {
    int is_unix; /* 1: Unix socket at `path` */
    char host[EM_BUSADDR_HOST_MAX];
    int port;
    char path[EM_BUSADDR_PATH_MAX];
    int db;
    char username[128]; /* "" when none */
    char password[256]; /* "" when none */
};

/* Parse a Redis URL (forms above) into *out. Returns 0, or -1 with err. */
int em_busaddr_parse_redis(const char *url, struct em_redis_addr *out, char *err,
                           size_t errlen);

#endif
