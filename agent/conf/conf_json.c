/* conf_json.c - the configuration parser's tools: the bounded error list, JSON
 * paths for messages, typed getters that report their own errors and carry on (so
 * one run finds every problem), and the checks of identifiers, templates, files and
 * URLs shared by the sections.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "conf_int.h"
#include "fsutil.h"

void em_errors_init(struct em_errors *e)
{
    if (e) {
        e->n = 0;
        e->dropped = 0;
    }
}

void em_errors_add(struct em_errors *e, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return;
    if (e->n >= EM_ERRORS_MAX) {
        e->dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(e->msg[e->n], EM_ERROR_LEN, fmt, ap);
    va_end(ap);
    e->n++;
}

size_t em_errors_count(const struct em_errors *e)
{
    return e ? e->n + e->dropped : 0;
}

void em_errors_print(const struct em_errors *e, FILE *out)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        fprintf(out, "%s\n", e->msg[i]);
    if (e->dropped)
        fprintf(out, "... and %zu more error%s\n", e->dropped,
                e->dropped == 1 ? "" : "s");
}

void cf_report(struct ctx *x, const char *path, const char *fmt, ...)
{
    char m[EM_ERROR_LEN];
    va_list ap;
    int has_origin = x->origin && *x->origin, has_path = path && *path;

    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    x->nerr++;
    if (has_origin && has_path)
        em_errors_add(x->errs, "%s: %s: %s", x->origin, path, m);
    else if (has_origin || has_path)
        em_errors_add(x->errs, "%s: %s", has_origin ? x->origin : path, m);
    else
        em_errors_add(x->errs, "%s", m);
}

/* Paths are for people: an overlong one (a silly key) is cut and marked, not an error. */
static void mark_cut(char *out, int n)
{
    if (n < 0 || n >= PATH_LEN)
        memcpy(out + PATH_LEN - 4, "...", 4);
}

void cf_join(char *out, const char *base, const char *key)
{
    mark_cut(out, snprintf(out, PATH_LEN, *base ? "%s.%s" : "%s%s", base, key));
}

void cf_index_path(char *out, const char *base, size_t i)
{
    mark_cut(out, snprintf(out, PATH_LEN, "%s[%zu]", base, i));
}

char *cf_sdup(struct ctx *x, const char *path, const char *s)
{
    char *d = strdup(s);

    if (!d)
        cf_report(x, path, "out of memory");
    return d;
}

const cJSON *cf_get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* Unknown and repeated keys; cJSON keeps both copies of a repeated key. */
void cf_check_keys(struct ctx *x, const cJSON *obj, const char *path,
                   const char *const *known)
{
    char p[PATH_LEN];

    for (const cJSON *it = obj->child; it; it = it->next) {
        cf_join(p, path, it->string);
        if (!in_list(known, it->string)) {
            cf_report(x, p, "unknown key");
            continue;
        }
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (strcmp(prev->string, it->string) == 0) {
                cf_report(x, p, "duplicate key");
                break;
            }
    }
}

int cf_opt_str(struct ctx *x, const cJSON *obj, const char *path, const char *key,
               char **out)
{
    const cJSON *v = cf_get(obj, key);
    char p[PATH_LEN];

    if (!v)
        return 0;
    cf_join(p, path, key);
    if (!cJSON_IsString(v) || !v->valuestring) {
        cf_report(x, p, "must be a string");
        return -1;
    }
    if (!v->valuestring[0]) {
        cf_report(x, p, "must not be empty");
        return -1;
    }
    *out = cf_sdup(x, p, v->valuestring);
    return *out ? 1 : -1;
}

int cf_req_str(struct ctx *x, const cJSON *obj, const char *path, const char *key,
               char **out)
{
    char p[PATH_LEN];
    int rc = cf_opt_str(x, obj, path, key, out);

    if (rc == 0) {
        cf_join(p, path, key);
        cf_report(x, p, "missing");
        return -1;
    }
    return rc;
}

/* A string field with a default when absent. */
int cf_str_or(struct ctx *x, const cJSON *obj, const char *path, const char *key,
              const char *def, char **out)
{
    char p[PATH_LEN];
    int rc = cf_opt_str(x, obj, path, key, out);

    if (rc != 0)
        return rc;
    cf_join(p, path, key);
    *out = cf_sdup(x, p, def);
    return *out ? 0 : -1;
}

int cf_opt_int(struct ctx *x, const cJSON *obj, const char *path, const char *key,
               long long lo, long long hi, long long *out)
{
    const cJSON *v = cf_get(obj, key);
    char p[PATH_LEN];
    long long n;

    if (!v)
        return 0;
    cf_join(p, path, key);
    if (!cJSON_IsNumber(v)) {
        cf_report(x, p, "must be an integer");
        return -1;
    }
    /* Bound before converting: a double outside long long makes the cast undefined. */
    if (!(v->valuedouble >= -9.0e18 && v->valuedouble <= 9.0e18)) {
        cf_report(x, p, "must be between %lld and %lld", lo, hi);
        return -1;
    }
    n = (long long)v->valuedouble;
    if ((double)n != v->valuedouble) {
        cf_report(x, p, "must be an integer");
        return -1;
    }
    if (n < lo || n > hi) {
        cf_report(x, p, "must be between %lld and %lld", lo, hi);
        return -1;
    }
    *out = n;
    return 1;
}

int cf_int_or(struct ctx *x, const cJSON *obj, const char *path, const char *key,
              long long lo, long long hi, int def, int *out)
{
    long long v = def;
    int rc = cf_opt_int(x, obj, path, key, lo, hi, &v);

    *out = (int)v;
    return rc;
}

int cf_opt_bool(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                int *out)
{
    const cJSON *v = cf_get(obj, key);
    char p[PATH_LEN];

    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        cf_join(p, path, key);
        cf_report(x, p, "must be a boolean");
        return -1;
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 1;
}

/*
 * Ids end up in MQTT topic levels, Redis keys and Prometheus labels, so they
 * keep to characters that need no escaping anywhere.
 */
int cf_check_ident(struct ctx *x, const char *path, const char *s)
{
    size_t n = strlen(s);
    int ok = n > 0 && n <= IDENT_MAX && isalnum((unsigned char)s[0]);

    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        ok = isalnum(ch) || ch == '.' || ch == '_' || ch == '-';
    }
    if (!ok) {
        cf_report(
            x, path,
            "'%s' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            s);
        return -1;
    }
    return 0;
}

int cf_one_of(const char *s, const char *const *set)
{
    return in_list(set, s);
}

/* Placeholders a topic, channel, client id or http URL may use (CONTRACT section 2). */
int cf_check_template(const char *t, char *err, size_t errlen)
{
    static const char *const names[] = {"dataset", "id", "agent", "site", NULL};

    for (const char *p = t; *p; p++) {
        if (*p == '}') {
            snprintf(err, errlen, "unmatched '}'");
            return -1;
        }
        if (*p != '{')
            continue;
        const char *e = strchr(p, '}');
        if (!e) {
            snprintf(err, errlen, "unterminated '{'");
            return -1;
        }
        size_t n = (size_t)(e - p - 1);
        int known = 0;
        for (const char *const *nm = names; *nm; nm++)
            if (strlen(*nm) == n && memcmp(*nm, p + 1, n) == 0)
                known = 1;
        if (!known) {
            snprintf(err, errlen,
                     "unknown placeholder '{%.*s}' (allowed: {dataset}, {id}, {agent}, "
                     "{site})",
                     (int)(n > 40 ? 40 : n), p + 1);
            return -1;
        }
        p = e;
    }
    return 0;
}

/* A readable regular file: TLS material and secrets are read at startup, fail early. */
void cf_check_file(struct ctx *x, const char *path, const char *file)
{
    struct stat st;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0) {
        cf_report(x, path, "cannot read '%s': %s", file, strerror(errno));
        return;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        cf_report(x, path, "'%s' is not a regular file", file);
    close(fd);
}

/* A password_file or token_file: readable, regular, and private to its owner. */
void cf_check_secret(struct ctx *x, const char *path, const char *file)
{
    struct stat st;
    char err[1024];

    cf_check_file(x, path, file);
    if (stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
        em_pub_secret_private(file, st.st_mode, err, sizeof err) < 0)
        cf_report(x, path, "%s", err);
}

/*
 * http(s):// and mqtt(s):// URLs: a known scheme, a valid host, a port in range.
 * Credentials belong in username/password/token keys, where *_file can hide them.
 */
int cf_check_url(const char *url, const char *s1, const char *s2, int allow_path,
                 int allow_tmpl, char *err, size_t errlen)
{
    const char *sep = strstr(url, "://"), *a, *rest;
    char host[EM_BUSADDR_HOST_MAX];
    size_t sn, n;
    int port;

    for (const char *p = url; *p; p++)
        if (iscntrl((unsigned char)*p) || *p == ' ') {
            snprintf(err, errlen, "must not contain spaces or control characters");
            return -1;
        }
    sn = sep ? (size_t)(sep - url) : 0;
    if (!sep || !((strlen(s1) == sn && strncasecmp(url, s1, sn) == 0) ||
                  (s2 && strlen(s2) == sn && strncasecmp(url, s2, sn) == 0))) {
        if (s2)
            snprintf(err, errlen, "must start with %s:// or %s://", s1, s2);
        else
            snprintf(err, errlen, "must start with %s://", s1);
        return -1;
    }
    a = sep + 3;
    n = strcspn(a, "/?#");
    if (memchr(a, '@', n)) {
        snprintf(err, errlen,
                 "credentials in the URL are not supported; use the "
                 "username/password or token keys");
        return -1;
    }
    if (memchr(a, '{', n)) {
        snprintf(err, errlen, "placeholders are not allowed in the host");
        return -1;
    }
    if (em_busaddr_parse_hostport(a, n, host, sizeof host, &port, 0, err, errlen) < 0)
        return -1;
    rest = a + n;
    if (!allow_path && *rest && strcmp(rest, "/") != 0) {
        snprintf(err, errlen, "unexpected '%s' after the host", rest);
        return -1;
    }
    if (allow_tmpl)
        return cf_check_template(rest, err, errlen);
    return 0;
}

cJSON *cf_parse_json(struct ctx *x, const char *json, size_t len)
{
    const char *end = NULL;
    cJSON *root;

    if (!json || len == 0) {
        cf_report(x, "", "invalid JSON: empty input");
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!end || end < json || end > json + len)
        end = json;
    if (root) {
        /* cJSON stops after the first value; anything but blanks after it is an error. */
        const char *p = end;
        while (p < json + len && *p && isspace((unsigned char)*p))
            p++;
        if (p == json + len || !*p)
            return root;
        cJSON_Delete(root);
        end = p;
    }
    unsigned line = 1, col = 1;
    for (const char *p = json; p < end; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    cf_report(x, "", "invalid JSON at line %u, column %u", line, col);
    return NULL;
}

int em_http_host_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}
