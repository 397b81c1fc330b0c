/* publisher.c - topic templates and the static table of compiled-in publishers.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "publisher.h"

#ifdef WITH_MQTT
#include "mqtt/mqtt.h"
#endif
#ifdef WITH_REDIS_PUB
#include "redis/redis.h"
#endif
#ifdef WITH_KUBEMQ
#include "kubemq/kubemq.h"
#endif
#ifdef WITH_HTTP
#include "http/http.h"
#endif
#ifdef WITH_KAFKA
#include "kafka/kafka.h"
#endif
#ifdef WITH_NATS
#include "nats/nats_pub.h"
#endif

/*
 * Compiled-in publishers. A slot is added together with its implementation
 * (and its WITH_* switch in the Makefile); until then it stays a comment so
 * the table never names a symbol that does not exist.
 */
static const struct em_publisher *const publishers[] = {
#ifdef WITH_MQTT
    &mqtt_publisher,
#endif
#ifdef WITH_REDIS_PUB
    &redis_publisher,
#endif
#ifdef WITH_KUBEMQ
    &kubemq_publisher,
#endif
#ifdef WITH_HTTP
    &http_publisher,
#endif
#ifdef WITH_KAFKA
    &kafka_publisher,
#endif
#ifdef WITH_NATS
    &nats_publisher,
#endif
    NULL, /* keeps the array non-empty when every publisher is compiled out */
};

const struct em_publisher *em_publisher_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; publishers[i]; i++) {
        if (publishers[i]->abi == EM_PUBLISHER_ABI &&
            strcmp(publishers[i]->name, type) == 0)
            return publishers[i];
    }
    return NULL;
}

/* The value of one {name}; NULL when the name is not a placeholder. */
static const char *placeholder(const char *name, size_t len, const char *dataset,
                               const char *id, const char *agent, const char *site)
{
    static const char *const names[] = {"dataset", "id", "agent", "site"};
    const char *values[] = {dataset, id, agent, site};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return values[i] ? values[i] : ""; /* unset values render empty */
    }
    return NULL;
}

int em_topic_render(const char *tmpl, const char *dataset, const char *id,
                    const char *agent, const char *site, char *out, size_t outlen)
{
    size_t n = 0;
    int overflow = 0;

    if (!tmpl || !out) {
        errno = EINVAL;
        return -1;
    }
    /*
     * Scan the whole template even after the output overflowed, so an unknown
     * placeholder is reported as EINVAL whatever the buffer size.
     */
    for (const char *p = tmpl; *p;) {
        const char *piece = p;
        size_t len = 1;

        if (*p == '{') {
            const char *end = strchr(p + 1, '}');

            if (!end)
                goto invalid;
            piece = placeholder(p + 1, (size_t)(end - p - 1), dataset, id, agent, site);
            if (!piece)
                goto invalid;
            len = strlen(piece);
            p = end + 1;
        } else {
            p++;
        }
        if (!overflow && n + len < outlen) {
            memcpy(out + n, piece, len);
            n += len;
        } else {
            overflow = 1;
        }
    }
    if (overflow || outlen == 0) {
        if (outlen)
            out[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    out[n] = '\0';
    return (int)n;

invalid:
    if (outlen)
        out[0] = '\0';
    errno = EINVAL;
    return -1;
}

int em_pub_secret_private(const char *path, mode_t mode, char *err, size_t errlen)
{
    if (!(mode & (S_IRGRP | S_IROTH)))
        return 0;
    snprintf(err, errlen, "'%s' is readable by group or others (chmod 600 it)", path);
    return -1;
}

const char *em_pub_url_shown(const char *url, char *out, size_t outlen)
{
    const char *sep = strstr(url, "://");
    const char *host = sep ? sep + 3 : url;
    size_t an = strcspn(host, "/?#");
    const char *at = NULL, *query;

    for (size_t i = 0; i < an; i++)
        if (host[i] == '@')
            at = host + i;
    query = strchr(host, '?');
    snprintf(out, outlen, "%.*s%s%.*s%s", (int)(host - url), url, at ? "***@" : "",
             (int)((query ? query : host + strlen(host)) - (at ? at + 1 : host)),
             at ? at + 1 : host, query ? "?***" : "");
    return out;
}

char *em_pub_read_secret(const char *key, const char *path, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t n;
    FILE *f = fopen(path, "r");

    if (!f)
        goto fail;
    struct stat st;
    if (fstat(fileno(f), &st) < 0)
        goto fail;
    if (em_pub_secret_private(path, st.st_mode, err, errlen) < 0) {
        /* Prefix the key: "password_file '/x' is readable by ..." */
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s %s", key, why);
        fclose(f);
        return NULL;
    }
    buf = malloc(EM_PUB_SECRET_MAX + 1);
    if (!buf)
        goto fail;
    n = fread(buf, 1, EM_PUB_SECRET_MAX + 1, f);
    if (ferror(f))
        goto fail;
    if (n > EM_PUB_SECRET_MAX) {
        errno = EFBIG;
        goto fail;
    }
    fclose(f);
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        snprintf(err, errlen, "%s '%s' contains a NUL byte", key, path);
        explicit_bzero(buf, n);
        free(buf);
        return NULL;
    }
    return buf;

fail:
    snprintf(err, errlen, "cannot read %s '%s': %s", key, path, strerror(errno));
    if (f)
        fclose(f);
    free(buf);
    return NULL;
}

void em_pub_warn(const char *type, const char *name, int interval_s, const char *what,
                 const char *fmt, ...)
{
    char key[160], line[768];
    unsigned suppressed;
    va_list ap;

    snprintf(key, sizeof key, "%s:%s:%s", type, name, what);
    if (!em_log_should(key, interval_s, &suppressed))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_warnx("[pub:%s:%s] %s", type, name, line);
}

void em_pub_free_secret(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void em_pub_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
