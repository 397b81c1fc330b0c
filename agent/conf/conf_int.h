/* conf_int.h - what the configuration parser's files share.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * conf.c       the sections (agent, devices, queue, features, http), the cross-checks
 *              and the entry points of conf.h
 * conf_json.c  the error list and the typed getters every section uses: each reports
 *              its own error with the JSON path and returns 1 set, 0 absent, -1 bad
 * conf_pub.c   publishers[] and brokers.d/<KIND>.json: which key applies to which
 *              publisher type, defaults per CONTRACT section 4
 */
#ifndef EM_CONF_INT_H
#define EM_CONF_INT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "conf.h"

#define PATH_LEN  160
#define FILE_MAX  (4u * 1024 * 1024)
#define IDENT_MAX 64
#define DS_ALL    (EM_DS_BIT_PMS | EM_DS_BIT_MPPT | EM_DS_BIT_INVERTER | EM_DS_BIT_SITE)

/* Publisher types as bits, for the table of which key applies to which type. */
#define T_MQTT   (1u << 0)
#define T_REDIS  (1u << 1)
#define T_KUBEMQ (1u << 2)
#define T_HTTP   (1u << 3)
#define T_KAFKA  (1u << 4)
#define T_NATS   (1u << 5)
#define T_ALL    (T_MQTT | T_REDIS | T_KUBEMQ | T_HTTP | T_KAFKA | T_NATS)
#define T_TLS    (T_MQTT | T_KUBEMQ | T_HTTP | T_KAFKA | T_NATS)

struct ctx {
    struct em_errors *errs;
    size_t nerr;        /* every error reported, also when errs is NULL or full */
    const char *origin; /* "" for the main file, else a broker file name */
};

/* Where a publisher came from, for cross-check messages. */
struct pub_where {
    char origin[96];
    char path[40];
};

/* conf_json.c, conf_pub.c */
void cf_report(struct ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void cf_join(char *out, const char *base, const char *key);

void cf_index_path(char *out, const char *base, size_t i);

char *cf_sdup(struct ctx *x, const char *path, const char *s);

const cJSON *cf_get(const cJSON *obj, const char *key);

void cf_check_keys(struct ctx *x, const cJSON *obj, const char *path,
                   const char *const *known);

int cf_opt_str(struct ctx *x, const cJSON *obj, const char *path, const char *key,
               char **out);

int cf_req_str(struct ctx *x, const cJSON *obj, const char *path, const char *key,
               char **out);

int cf_str_or(struct ctx *x, const cJSON *obj, const char *path, const char *key,
              const char *def, char **out);

int cf_opt_int(struct ctx *x, const cJSON *obj, const char *path, const char *key,
               long long lo, long long hi, long long *out);

int cf_int_or(struct ctx *x, const cJSON *obj, const char *path, const char *key,
              long long lo, long long hi, int def, int *out);

int cf_opt_bool(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                int *out);

int cf_check_ident(struct ctx *x, const char *path, const char *s);

int cf_one_of(const char *s, const char *const *set);

int cf_check_template(const char *t, char *err, size_t errlen);

void cf_check_file(struct ctx *x, const char *path, const char *file);

void cf_check_secret(struct ctx *x, const char *path, const char *file);

int cf_check_url(const char *url, const char *s1, const char *s2, int allow_path,
                 int allow_tmpl, char *err, size_t errlen);

cJSON *cf_parse_json(struct ctx *x, const char *json, size_t len);

const cJSON *cf_section(struct ctx *x, const cJSON *root, const char *key, int required);

void cf_parse_pub(struct ctx *x, const cJSON *o, const char *path, const char *kind,
                  struct em_pub_conf *pc);

void cf_parse_publishers(struct ctx *x, const cJSON *root, struct em_conf *c,
                         struct pub_where **where);

void cf_merge_brokers(struct ctx *x, struct em_conf *c, const char *cfg_path,
                      struct pub_where **where);

void cf_check_publishers(struct ctx *x, struct em_conf *c, const struct pub_where *w);

#endif
