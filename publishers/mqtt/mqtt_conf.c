/* mqtt_conf.c - the MQTT publisher's configuration checks (see mqtt_conf.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "mqtt/mqtt_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int em_mqtt_topic_ok(const char *t)
{
    return *t && !strpbrk(t, "+#");
}

static int parse_url(const char *url, struct em_mqtt_names *out, char *err, size_t errlen)
{
    char *uri = out->uri;
    size_t urilen = sizeof out->uri;
    int *tls = &out->tls;
    const char *host, *end;
    char *stop, shown[256]; /* the url for messages, credentials masked */
    long port;
    int n;

    if (!url || !*url) {
        em_pub_err(err, errlen, "url is not set");
        return -1;
    }
    if (strncmp(url, "mqtt://", 7) == 0) {
        *tls = 0;
        host = url + 7;
    } else if (strncmp(url, "mqtts://", 8) == 0) {
#ifdef EM_MQTT_NO_TLS
        /* Built with MQTT_TLS=no: linked to paho without OpenSSL. */
        em_pub_err(err, errlen, "'%s': this build has no MQTT over TLS (MQTT_TLS=no)",
                em_pub_url_shown(url, shown, sizeof shown));
        return -1;
#endif
        *tls = 1;
        host = url + 8;
    } else {
        em_pub_err(err, errlen, "unsupported url '%s' (use mqtt:// or mqtts://)",
                em_pub_url_shown(url, shown, sizeof shown));
        return -1;
    }
    if (*host == '[') { /* IPv6 literal, kept in brackets for paho */
        end = strchr(host, ']');
        if (!end)
            goto bad;
        end++;
    } else {
        end = host + strcspn(host, ":/");
    }
    if (end == host)
        goto bad;
    stop = (char *)end;
    port = *tls ? MQTTS_PORT : MQTT_PORT;
    if (*end == ':') {
        errno = 0;
        port = strtol(end + 1, &stop, 10);
        if (errno || stop == end + 1 || port < 1 || port > 65535)
            goto bad;
    }
    if (*stop == '/') /* a bare trailing slash is harmless; a path is not */
        stop++;
    if (*stop)
        goto bad;
    n = snprintf(uri, urilen, "%s://%.*s:%ld", *tls ? "ssl" : "tcp", (int)(end - host), host,
                 port);
    /* The probe (reach.h) resolves HOST itself: no brackets. */
    int bracketed = *host == '[';
    size_t hl = (size_t)(end - host) - (bracketed ? 2 : 0);
    if (n < 0 || (size_t)n >= urilen || hl >= sizeof out->host) {
        em_pub_err(err, errlen, "url '%s' is too long", em_pub_url_shown(url, shown, sizeof shown));
        return -1;
    }
    memcpy(out->host, host + bracketed, hl);
    out->host[hl] = '\0';
    snprintf(out->port, sizeof out->port, "%ld", port);
    return 0;

bad:
    em_pub_err(err, errlen, "invalid url '%s' (expected mqtt[s]://HOST[:PORT])",
            em_pub_url_shown(url, shown, sizeof shown));
    return -1;
}

static int readable(const char *key, const char *path, char *err, size_t errlen)
{
    if (access(path, R_OK) == 0)
        return 0;
    em_pub_err(err, errlen, "cannot read %s '%s': %s", key, path, strerror(errno));
    return -1;
}

int em_mqtt_names(const struct em_pub_conf *conf, struct em_mqtt_names *out, char *err,
                  size_t errlen)
{
    int n;

    memset(out, 0, sizeof *out);
    if (parse_url(conf->url, out, err, errlen) < 0)
        return -1;
    if (!out->tls && (conf->ca_file || conf->cert_file || conf->key_file)) {
        em_pub_err(err, errlen, "ca_file/cert_file/key_file need an mqtts:// url, not '%s'",
                conf->url);
        return -1;
    }
    if (conf->key_file && !conf->cert_file) {
        em_pub_err(err, errlen, "key_file '%s' given without cert_file", conf->key_file);
        return -1;
    }
    if ((conf->ca_file && readable("ca_file", conf->ca_file, err, errlen) < 0) ||
        (conf->cert_file && readable("cert_file", conf->cert_file, err, errlen) < 0) ||
        (conf->key_file && readable("key_file", conf->key_file, err, errlen) < 0))
        return -1;

    if (conf->password && conf->password_file) {
        em_pub_err(err, errlen, "set password or password_file, not both");
        return -1;
    }
    if ((conf->password || conf->password_file) && !conf->username) {
        em_pub_err(err, errlen, "a password needs a username (MQTT 3.1.1)");
        return -1;
    }

    if (conf->client_id)
        n = snprintf(out->client_id, sizeof out->client_id, "%s", conf->client_id);
    else
        n = snprintf(out->client_id, sizeof out->client_id, "edgemon-%s", conf->agent);
    if (n < 0 || (size_t)n >= sizeof out->client_id || !*out->client_id) {
        em_pub_err(err, errlen, "client_id is empty or too long");
        return -1;
    }
    n = snprintf(out->status_topic, sizeof out->status_topic, "edgemon/%s/status", conf->agent);
    if (n < 0 || (size_t)n >= sizeof out->status_topic || !em_mqtt_topic_ok(out->status_topic)) {
        em_pub_err(err, errlen, "agent id '%s' cannot be part of an MQTT topic", conf->agent);
        return -1;
    }
    return 0;
}
