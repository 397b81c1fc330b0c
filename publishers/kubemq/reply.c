/* reply.c - KubeMQ REST replies to verdicts (see reply.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kubemq/reply.h"

int em_kmq_is_validation(const char *t)
{
    /* pkg/entities/errors.go: "Error 101: ...", "Error 120: ...", ... */
    return t && strncmp(t, "Error 1", 7) == 0 && t[7] >= '0' && t[7] <= '9' && t[8] >= '0' &&
           t[8] <= '9' && t[9] == ':';
}

/* cJSON_GetObjectItem matches keys case-insensitively, as Go's encoding/json does. */
static const cJSON *item(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItem(o, key) : NULL;
}

static int truthy(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(item(o, key));
}

static const char *text(const cJSON *o, const char *key)
{
    const cJSON *s = item(o, key);

    return cJSON_IsString(s) && s->valuestring ? s->valuestring : NULL;
}

/*
 * Parse the envelope. NULL (and why) when the body is not one: truncated,
 * invalid JSON, or missing is_error/message, all of which a resend may fix.
 */
static cJSON *envelope(long status, const char *body, size_t len, char *why, size_t whylen)
{
    cJSON *root = len ? cJSON_ParseWithLength(body, len) : NULL;

    if (!root || !cJSON_IsObject(root) || !item(root, "message")) {
        snprintf(why, whylen, "HTTP %ld with %s", status,
                 !len ? "an empty body" : root ? "no KubeMQ envelope" : "a malformed reply");
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* Status and envelope checks shared by both senders; NULL means *out is decided. */
static cJSON *common(long status, const char *body, size_t len, enum em_kmq_outcome *out,
                     char *why, size_t whylen)
{
    cJSON *root;

    *out = EM_KMQ_RETRY;
    if (status == 503) {
        /* interfaces/rest/traffic.go: "rest server is not ready to accept requests" */
        snprintf(why, whylen, "HTTP 503 (server not ready)");
        return NULL;
    }
    if (status != 200 && status != 400) {
        snprintf(why, whylen, "HTTP %ld", status);
        return NULL;
    }
    root = envelope(status, body, len, why, whylen);
    if (!root)
        return NULL;
    if (status == 400 || truthy(root, "is_error")) {
        const char *m = text(root, "message");

        snprintf(why, whylen, "HTTP %ld: %s", status, m ? m : "(no message)");
        /*
         * "code=415, message=..." / "code=400, message=Syntax error...": echo
         * could not bind our body. Sending the same bytes again cannot help.
         */
        if (status == 400 && m && strncmp(m, "code=", 5) == 0)
            *out = EM_KMQ_REFUSED;
    }
    return root;
}

enum em_kmq_outcome em_kmq_batch_reply(long status, const char *body, size_t len,
                                       enum em_pub_result *v, size_t n, char *why,
                                       size_t whylen)
{
    enum em_kmq_outcome out;
    cJSON *root = common(status, body, len, &out, why, whylen);
    const cJSON *data, *results, *r;
    size_t i = 0;
    int noted = 0;

    if (!root)
        return out;
    if (status == 400 || truthy(root, "is_error")) {
        cJSON_Delete(root);
        return out; /* REFUSED for a bind error, else RETRY; why is set */
    }
    data = item(root, "data");
    results = item(data, "Results");
    if (!cJSON_IsArray(results)) {
        snprintf(why, whylen, "reply without data.Results");
        cJSON_Delete(root);
        return EM_KMQ_RETRY;
    }
    why[0] = '\0';
    for (r = results->child; r && i < n; r = r->next, i++) {
        const char *err = text(r, "Error"), *id = text(r, "MessageID");
        const cJSON *sent = item(r, "SentAt");

        if (truthy(r, "IsError"))
            v[i] = em_kmq_is_validation(err) ? EM_PUB_DROP : EM_PUB_RETRY;
        else if (cJSON_IsNumber(sent) && sent->valuedouble > 0)
            v[i] = EM_PUB_OK;
        else
            v[i] = EM_PUB_RETRY; /* neither error nor SentAt: not confirmed */
        if (v[i] != EM_PUB_OK && !noted) {
            noted = 1;
            snprintf(why, whylen, "message '%s': %s", id ? id : "?",
                     err ? err : "not confirmed (no SentAt)");
        }
    }
    for (; i < n; i++) {
        v[i] = EM_PUB_RETRY;
        if (!noted) {
            noted = 1;
            snprintf(why, whylen, "reply has %d results for %zu messages",
                     cJSON_GetArraySize(results), n);
        }
    }
    cJSON_Delete(root);
    return EM_KMQ_VERDICTS;
}

enum em_kmq_outcome em_kmq_event_reply(long status, const char *body, size_t len,
                                       enum em_pub_result *v, char *why, size_t whylen)
{
    enum em_kmq_outcome out;
    cJSON *root = common(status, body, len, &out, why, whylen);
    const cJSON *data;
    const char *m;

    if (!root)
        return out;
    m = text(root, "message");
    if (status == 400 || truthy(root, "is_error")) {
        int validation = em_kmq_is_validation(m);

        cJSON_Delete(root);
        if (out == EM_KMQ_RETRY && status == 400 && validation) {
            /* interfaces/rest/handlers.go: events validation errors are 400s */
            *v = EM_PUB_DROP;
            return EM_KMQ_VERDICTS;
        }
        return out;
    }
    data = item(root, "data");
    if (truthy(data, "Sent")) {
        *v = EM_PUB_OK;
        why[0] = '\0';
    } else {
        const char *err = text(data, "Error");

        *v = em_kmq_is_validation(err) ? EM_PUB_DROP : EM_PUB_RETRY;
        snprintf(why, whylen, "event not sent: %s", err ? err : "(no error given)");
    }
    cJSON_Delete(root);
    return EM_KMQ_VERDICTS;
}

int em_kmq_ping_reply(long status, const char *body, size_t len, char *host, size_t hostlen,
                      char *version, size_t versionlen, char *why, size_t whylen)
{
    cJSON *root;
    const cJSON *data;
    const char *h, *ver;

    if (status != 200) {
        snprintf(why, whylen, "ping: HTTP %ld", status);
        return -1;
    }
    root = envelope(status, body, len, why, whylen);
    if (!root)
        return -1;
    data = item(root, "data");
    if (truthy(root, "is_error") || !cJSON_IsObject(data)) {
        const char *m = text(root, "message");

        snprintf(why, whylen, "ping: %s", m ? m : "no data");
        cJSON_Delete(root);
        return -1;
    }
    h = text(data, "Host");
    ver = text(data, "Version");
    snprintf(host, hostlen, "%s", h ? h : "?");
    snprintf(version, versionlen, "%s", ver ? ver : "?");
    cJSON_Delete(root);
    return 0;
}
