/* busaddr.c - bus URLs (tcp://, rtu:) and Redis URLs parsed into fixed-size structs.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "busaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Baud rates termios can set on Linux for the range Modbus RTU gear uses. */
static const int std_bauds[] = {1200,  2400,   4800,   9600,   19200, 38400,
                                57600, 115200, 230400, 460800, 921600};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Copy exactly n bytes into a fixed field; truncation is an error (STYLE 8.7.6). */
static int copy_n(char *dst, size_t dstlen, const char *src, size_t n)
{
    if (n >= dstlen)
        return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* Parse a decimal number of n bytes without sign or spaces; -1 when not one. */
static long parse_uint(const char *s, size_t n, long max)
{
    long v = 0;

    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v > max ? -1 : v;
}

/*
 * Host names follow RFC 1123 (letters, digits, '-', labels up to 63), with '_'
 * tolerated because container and mDNS names use it. A name whose last label is
 * all digits must be an IPv4 address: "10.0.1" is a typo, not a host.
 */
static int check_host(const char *s, size_t n, char *host, size_t hostlen, char *err,
                      size_t errlen)
{
    size_t label = 0;
    int all_digits = 1, last_label_digits = 1;

    if (n == 0)
        return fail(err, errlen, "missing host");
    if (n > 253)
        return fail(err, errlen, "host name too long");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            if (label == 0)
                return fail(err, errlen, "invalid host '%.*s': empty label", (int)n, s);
            if (s[i - 1] == '-')
                return fail(err, errlen, "invalid host '%.*s'", (int)n, s);
            label = 0;
            last_label_digits = 1;
            continue;
        }
        if (!isalnum(ch) && ch != '-' && ch != '_')
            return fail(err, errlen, "invalid character '%c' in host '%.*s'",
                        isprint(ch) ? ch : '?', (int)n, s);
        if (ch == '-' && label == 0)
            return fail(err, errlen, "invalid host '%.*s'", (int)n, s);
        if (!isdigit(ch))
            all_digits = last_label_digits = 0;
        if (++label > 63)
            return fail(err, errlen, "invalid host '%.*s': label longer than 63", (int)n,
                        s);
    }
    if (s[n - 1] == '-' || s[n - 1] == '.')
        return fail(err, errlen, "invalid host '%.*s'", (int)n, s);
    if (copy_n(host, hostlen, s, n) < 0)
        return fail(err, errlen, "host name too long");
    if (all_digits || last_label_digits) {
        struct in_addr a4;
        if (inet_pton(AF_INET, host, &a4) != 1)
            return fail(err, errlen, "invalid IPv4 address '%s'", host);
        return 0;
    }
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}

int em_busaddr_parse_hostport(const char *s, size_t len, char *host, size_t hostlen,
                              int *port, int default_port, char *err, size_t errlen)
{
    const char *colon = NULL;
    size_t hn;

    if (len == 0)
        return fail(err, errlen, "missing host");
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        char buf[INET6_ADDRSTRLEN + 8];
        struct in6_addr a6;

        if (!close)
            return fail(err, errlen, "missing ']' after IPv6 address");
        hn = (size_t)(close - s - 1);
        if (hn == 0)
            return fail(err, errlen, "missing host");
        if (copy_n(buf, sizeof buf, s + 1, hn) < 0 || inet_pton(AF_INET6, buf, &a6) != 1)
            return fail(err, errlen, "invalid IPv6 address '%.*s'", (int)hn, s + 1);
        /* inet_ntop gives the RFC 5952 form, so [::0001] and [::1] compare equal. */
        if (!inet_ntop(AF_INET6, &a6, host, (socklen_t)hostlen))
            return fail(err, errlen, "host name too long");
        if ((size_t)(close - s) + 1 < len) {
            if (close[1] != ':')
                return fail(err, errlen, "unexpected text after ']'");
            colon = close + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        hn = colon ? (size_t)(colon - s) : len;
        if (colon && memchr(colon + 1, ':', len - hn - 1))
            return fail(err, errlen,
                        "IPv6 addresses must be written in brackets, as [::1]");
        if (check_host(s, hn, host, hostlen, err, errlen) < 0)
            return -1;
    }
    if (colon) {
        size_t pn = len - (size_t)(colon + 1 - s);
        long p = parse_uint(colon + 1, pn, 65535);
        if (pn == 0)
            return fail(err, errlen, "missing port after ':'");
        if (p < 1)
            return fail(err, errlen, "port must be between 1 and 65535");
        *port = (int)p;
    } else if (default_port < 0) {
        return fail(err, errlen, "missing port");
    } else {
        *port = default_port;
    }
    return 0;
}

static int parse_tcp(const char *rest, struct em_bus_addr *out, char *err, size_t errlen)
{
    size_t n = strcspn(rest, "/?#");

    if (rest[n] != '\0' && !(rest[n] == '/' && rest[n + 1] == '\0'))
        return fail(err, errlen, "unexpected '%s' after the port", rest + n);
    if (em_busaddr_parse_hostport(rest, n, out->host, sizeof out->host, &out->port,
                                  EM_MODBUS_TCP_PORT, err, errlen) < 0)
        return -1;
    out->kind = EM_BUS_TCP;
    return 0;
}

static int rtu_option(struct em_bus_addr *out, const char *k, size_t kn, const char *v,
                      size_t vn, unsigned *seen, char *err, size_t errlen)
{
    static const char *const names[] = {"baud", "parity", "data", "stop"};
    unsigned idx;
    long n;

    for (idx = 0; idx < 4; idx++)
        if (strlen(names[idx]) == kn && memcmp(names[idx], k, kn) == 0)
            break;
    if (idx == 4)
        return fail(err, errlen,
                    "unknown option '%.*s' (expected baud, parity, data, stop)", (int)kn,
                    k);
    if (*seen & (1u << idx))
        return fail(err, errlen, "option '%s' given twice", names[idx]);
    *seen |= 1u << idx;
    switch (idx) {
    case 0:
        n = parse_uint(v, vn, 10000000);
        for (size_t i = 0; i < sizeof std_bauds / sizeof std_bauds[0]; i++)
            if (std_bauds[i] == n) {
                out->baud = (int)n;
                return 0;
            }
        return fail(err, errlen,
                    "baud must be a standard rate (1200, 2400, 4800, 9600, 19200, 38400, "
                    "57600, 115200, 230400, 460800, 921600)");
    case 1:
        if (vn == 1 && strchr("NEOneo", v[0])) {
            out->parity = (char)toupper((unsigned char)v[0]);
            return 0;
        }
        return fail(err, errlen, "parity must be N, E or O");
    case 2:
        n = parse_uint(v, vn, 9);
        if (n != 7 && n != 8)
            return fail(err, errlen, "data must be 7 or 8");
        out->data_bits = (int)n;
        return 0;
    default:
        n = parse_uint(v, vn, 9);
        if (n != 1 && n != 2)
            return fail(err, errlen, "stop must be 1 or 2");
        out->stop_bits = (int)n;
        return 0;
    }
}

static int parse_rtu(const char *rest, struct em_bus_addr *out, char *err, size_t errlen)
{
    const char *q = strchr(rest, '?');
    size_t dn = q ? (size_t)(q - rest) : strlen(rest);
    size_t o = 0;
    unsigned seen = 0;

    if (dn == 0)
        return fail(err, errlen, "missing serial device (rtu:/dev/ttyUSB0)");
    if (rest[0] != '/')
        return fail(err, errlen,
                    "serial device must be an absolute path like /dev/ttyUSB0");
    /* Collapse "//" so rtu:///dev/x (URL habit) and rtu:/dev/x name the same line. */
    for (size_t i = 0; i < dn; i++) {
        unsigned char ch = (unsigned char)rest[i];
        if (iscntrl(ch) || ch == ' ' || ch == '&' || ch == '#')
            return fail(err, errlen, "invalid character in serial device path");
        if (ch == '/' && o > 0 && out->device[o - 1] == '/')
            continue;
        if (o + 1 >= sizeof out->device)
            return fail(err, errlen, "serial device path too long");
        out->device[o++] = (char)ch;
    }
    out->device[o] = '\0';
    if (o > 1 && out->device[o - 1] == '/')
        return fail(err, errlen, "serial device path must not end in '/'");
    out->baud = 9600;
    out->parity = 'N';
    out->data_bits = 8;
    out->stop_bits = 1;
    if (q) {
        const char *p = q + 1;
        while (*p) {
            size_t n = strcspn(p, "&");
            const char *eq = memchr(p, '=', n);
            if (!eq || eq == p)
                return fail(err, errlen, "option '%.*s' is not KEY=VALUE", (int)n, p);
            if (rtu_option(out, p, (size_t)(eq - p), eq + 1, n - (size_t)(eq + 1 - p),
                           &seen, err, errlen) < 0)
                return -1;
            p += n;
            if (*p == '&') {
                p++;
                if (*p == '\0')
                    return fail(err, errlen, "empty option after '&'");
            }
        }
    }
    out->kind = EM_BUS_RTU;
    return 0;
}

int em_busaddr_parse(const char *url, struct em_bus_addr *out, char *err, size_t errlen)
{
    int rc;

    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return fail(err, errlen, "empty bus URL");
    if (strncasecmp(url, "tcp://", 6) == 0)
        rc = parse_tcp(url + 6, out, err, errlen);
    else if (strncasecmp(url, "rtu:", 4) == 0)
        rc = parse_rtu(url + 4, out, err, errlen);
    else
        rc = fail(
            err, errlen,
            "unknown bus '%s' (expected tcp://HOST:PORT or rtu:DEVICE?baud=N&parity=N"
            "&data=8&stop=1)",
            url);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

static int put(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int put(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int em_busaddr_key(const struct em_bus_addr *a, char *out, size_t outlen)
{
    if (a->kind == EM_BUS_TCP)
        return put(out, outlen, strchr(a->host, ':') ? "tcp://[%s]:%d" : "tcp://%s:%d",
                   a->host, a->port);
    if (a->kind == EM_BUS_RTU)
        return put(out, outlen, "rtu:%s", a->device);
    errno = EINVAL;
    return -1;
}

int em_busaddr_format(const struct em_bus_addr *a, char *out, size_t outlen)
{
    if (a->kind == EM_BUS_RTU)
        return put(out, outlen, "rtu:%s?baud=%d&parity=%c&data=%d&stop=%d", a->device,
                   a->baud, a->parity, a->data_bits, a->stop_bits);
    return em_busaddr_key(a, out, outlen);
}

int em_busaddr_same_serial(const struct em_bus_addr *a, const struct em_bus_addr *b)
{
    return a->baud == b->baud && a->parity == b->parity && a->data_bits == b->data_bits &&
           a->stop_bits == b->stop_bits;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* %-decode n bytes into a fixed field; -1 on bad escapes, NUL bytes or overflow. */
static int pct_decode(char *dst, size_t dstlen, const char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return -1;
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            ch = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= dstlen)
            return -1;
        dst[o++] = (char)ch;
    }
    dst[o] = '\0';
    return 0;
}

static int redis_db(const char *s, size_t n, int *db, char *err, size_t errlen)
{
    long v = parse_uint(s, n, 9999);

    if (v < 0)
        return fail(err, errlen, "database must be a number between 0 and 9999");
    *db = (int)v;
    return 0;
}

static int parse_redis_unix(const char *p, struct em_redis_addr *out, char *err,
                            size_t errlen)
{
    const char *q = strchr(p, '?');
    size_t n = q ? (size_t)(q - p) : strlen(p);

    if (n < 2 || p[0] != '/')
        return fail(err, errlen, "missing socket path (redis:///run/redis/redis.sock)");
    if (copy_n(out->path, sizeof out->path, p, n) < 0)
        return fail(err, errlen, "socket path too long");
    out->is_unix = 1;
    if (q) {
        if (strncmp(q + 1, "db=", 3) != 0)
            return fail(err, errlen, "unknown option '%s' (expected db=N)", q + 1);
        return redis_db(q + 4, strlen(q + 4), &out->db, err, errlen);
    }
    return 0;
}

int em_busaddr_parse_redis(const char *url, struct em_redis_addr *out, char *err,
                           size_t errlen)
{
    const char *p, *at, *slash;
    size_t an;

    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return fail(err, errlen, "empty Redis URL");
    if (strncasecmp(url, "unix://", 7) == 0)
        return parse_redis_unix(url + 7, out, err, errlen);
    if (strncasecmp(url, "rediss://", 9) == 0)
        return fail(err, errlen, "rediss:// (TLS) is not supported; use redis://");
    if (strncasecmp(url, "redis://", 8) != 0)
        return fail(err, errlen, "must start with redis:// or unix://");
    p = url + 8;
    if (*p == '/')
        return parse_redis_unix(p, out, err, errlen);
    an = strcspn(p, "/?#");
    at = NULL;
    for (size_t i = 0; i < an; i++)
        if (p[i] == '@')
            at = p + i; /* the last '@': passwords may contain an encoded one */
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            /* redis://secret@host is the legacy form: the user part is the password. */
            if (pct_decode(out->password, sizeof out->password, p, (size_t)(at - p)) < 0)
                return fail(err, errlen, "invalid password in URL");
        } else {
            if (pct_decode(out->username, sizeof out->username, p, (size_t)(colon - p)) <
                0)
                return fail(err, errlen, "invalid user name in URL");
            if (pct_decode(out->password, sizeof out->password, colon + 1,
                           (size_t)(at - colon - 1)) < 0)
                return fail(err, errlen, "invalid password in URL");
        }
        an -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (em_busaddr_parse_hostport(p, an, out->host, sizeof out->host, &out->port, 6379,
                                  err, errlen) < 0)
        return -1;
    p += an;
    if (*p == '?' || *p == '#')
        /* Not echoed: a query may hold a password (redis://h?password=...). */
        return fail(err, errlen, "unexpected '%c' in Redis URL (no query or fragment allowed)",
                    *p);
    if (*p == '/') {
        slash = p + 1;
        if (*slash && redis_db(slash, strlen(slash), &out->db, err, errlen) < 0)
            return -1;
    }
    return 0;
}
