/* conf.h - the JSON configuration parsed into typed structs, validated and cross-checked.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Loading runs in two passes, as mosquitto's config__read + config__check do:
 * every section is parsed into typed structs (defaults applied, each value
 * checked on its own), then a cross-check pass looks at the whole: unique device
 * ids and publisher names, one unit id per bus, one set of serial settings per
 * line, and each device's profile loads and is written for its driver.
 * Loading never stops at the first problem: every error is collected, each
 * naming its JSON path ("devices[1].bus: port must be between 1 and 65535"), so
 * `edgemon check` prints them all at once.
 *
 * Broker files: em_conf_load also reads <config dir>/brokers.d/<KIND>.json for
 * KIND in mqtt, redis, kubemq, http (installed by `edgemon broker config`, see
 * broker_cmd.h). Such a file holds one publishers[] entry without `type`, and it
 * REPLACES every publishers[] entry of that type in the main file. Its errors are
 * prefixed with its name: "brokers.d/mqtt.json: qos: must be 0, 1 or 2".
 *
 * Ownership: a struct em_conf owns every string and array reachable from it,
 * including the loaded profiles; all of it is released by em_conf_free. Drivers,
 * publishers and the core borrow these pointers for the lifetime of the tree
 * (a reload builds a new tree and rebuilds every instance, STYLE 8.7.3).
 */
#ifndef EM_CONF_H
#define EM_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "busaddr.h"
#include "publisher.h"

struct em_profile;

/* ---- error list ---- */

#define EM_ERRORS_MAX 32
#define EM_ERROR_LEN  256

/*
 * A bounded list of error lines. Errors past EM_ERRORS_MAX are counted in
 * `dropped`; a line longer than EM_ERROR_LEN-1 is cut. Caller-owned (usually on
 * the stack); no heap memory, so there is nothing to release.
 */
struct em_errors {
    size_t n;
    char msg[EM_ERRORS_MAX][EM_ERROR_LEN];
    size_t dropped;
};

/* Empty the list. */
void em_errors_init(struct em_errors *e);
/* Append one formatted line (no newline). `e` may be NULL: the error is lost. */
void em_errors_add(struct em_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Total errors seen, kept or dropped. */
size_t em_errors_count(const struct em_errors *e);
/* One line per error to `out`, then "... and N more errors" if some were dropped. */
void em_errors_print(const struct em_errors *e, FILE *out);

/* ---- the typed configuration ---- */

#define EM_DEFAULT_STATE_DIR     "/var/lib/edgemon"
#define EM_DEFAULT_QUEUE_URL     "redis://127.0.0.1:6379/0"
#define EM_DEFAULT_FEATURE_TOPIC "system.feature"

struct em_agent_conf {
    char *id;        /* required; [A-Za-z0-9][A-Za-z0-9._-]{0,63} */
    char *site;      /* required; same characters as id */
    char *state_dir; /* default EM_DEFAULT_STATE_DIR */
};

struct em_dev_conf {
    char *id;                         /* required, unique; same characters as agent.id */
    char *driver;                     /* "pms", "mppt" or "inverter" */
    char *profile;                    /* built-in name or path, as written */
    char *bus;                        /* the URL as written */
    int unit;                         /* default 1; RTU 1-247, TCP 0-255 */
    int interval_ms;                  /* default 1000; 100..3600000 */
    int timeout_ms;                   /* default 500; 10..60000 */
    struct em_bus_addr addr;          /* parsed `bus` */
    char bus_key[EM_BUSADDR_KEY_MAX]; /* line identity, see em_busaddr_key */
    struct em_profile *prof;          /* owned: loaded by the cross-check; borrow it */
};

enum em_queue_backend { EM_QUEUE_REDIS, EM_QUEUE_SPOOL };

struct em_queue_conf {
    int backend;                /* enum em_queue_backend; "redis" (default) or "spool" */
    char *url;                  /* default EM_DEFAULT_QUEUE_URL; unused by spool */
    struct em_redis_addr redis; /* parsed url */
    long long max_messages;     /* default 1000000; 1..1000000000, per publisher */
    long long max_age_s;        /* default 604800 (7 days); 1..315360000 */
    long long spool_max_bytes;  /* extension; default 64 MiB; 65536..1 TiB; spool only */
};

struct em_features_conf {
    char *topic; /* default EM_DEFAULT_FEATURE_TOPIC; also "<topic>/<agent id>" */
    char *url;   /* NULL = no HTTP polling; http:// or https:// */
    int poll_s;  /* default 60; 1..86400; used only with url */
};

struct em_http_conf {
    int enabled;                    /* 0 when the section is absent */
    char *listen;                   /* "HOST:PORT" as written */
    char host[EM_BUSADDR_HOST_MAX]; /* parsed; IPv6 without brackets */
    int port;
    char *token_file;               /* bearer token; required unless host is loopback */
};

/* 1 for 127.0.0.0/8, ::1 and "localhost" (a listen that needs no token). */
int em_http_host_loopback(const char *host);

struct em_conf {
    char *path; /* file it came from; NULL from em_conf_parse */
    struct em_agent_conf agent;
    struct em_dev_conf *devices;
    size_t ndevices;
    struct em_queue_conf queue;
    /*
     * Publisher defaults (publisher.h fields): topic per CONTRACT section 4 is
     * filled in ("monitoring/{dataset}/{id}" for mqtt, "monitoring.{dataset}" for
     * redis and kubemq, NULL for http whose url carries {dataset}); qos 1; mode
     * "publish" (redis) or "queue" (kubemq), NULL otherwise; datasets all;
     * tls_verify 1; timeout_ms 5000; window 64; stream_maxlen 100000; client_id
     * NULL (the publisher uses "edgemon-{agent}"). For kubemq, `channel` is an
     * alias of `topic` and both end up set. agent/site point at agent.id/.site.
     */
    struct em_pub_conf *publishers;
    size_t npublishers;
    struct em_features_conf features;
    struct em_http_conf http;
};

/*
 * Read, parse and check the file at `path`, merging <dir of path>/brokers.d/.
 * `path` is borrowed for the call; `errs` (may be NULL) receives every error.
 * Returns a new tree (free with em_conf_free), or NULL when there is any error,
 * including an unreadable file ("cannot read 'x': ...") and out of memory.
 */
struct em_conf *em_conf_load(const char *path, struct em_errors *errs);

/*
 * The same for JSON text of `len` bytes (need not be NUL-terminated); no
 * brokers.d merge. Used by tests and the fuzzer.
 */
struct em_conf *em_conf_parse(const char *json, size_t len, struct em_errors *errs);

/* Release the tree and everything it owns. Accepts NULL. */
void em_conf_free(struct em_conf *c);

/*
 * Validate one publisher entry of type `kind` given as a JSON object in `json`
 * (`len` bytes), as `edgemon broker config` does: the keys of publishers[]
 * without `type` (allowed only if equal to kind); `name` defaults to kind.
 * Error lines are prefixed with `origin` (e.g. the file name; may be NULL).
 * Returns 0 valid, -1 invalid (errors in errs), -2 unknown kind.
 * If out is not NULL and the entry is valid, *out receives it (caller releases
 * it with em_conf_pub_release); on failure *out is left zeroed.
 */
int em_conf_check_broker(const char *kind, const char *json, size_t len,
                         const char *origin, struct em_errors *errs,
                         struct em_pub_conf *out);

/*
 * Where the broker file of `kind` lives for the config at `conf_path`:
 * <dir of conf_path>/brokers.d/<kind>.json. Returns 0, or -1 (errno
 * ENAMETOOLONG) when it does not fit in out[outlen].
 */
int em_conf_broker_path(const char *conf_path, const char *kind, char *out,
                        size_t outlen);

/* Free the strings of one em_pub_conf filled by this module and zero it. NULL-safe. */
void em_conf_pub_release(struct em_pub_conf *p);

/*
 * `edgemon check -c path`: prints "configuration OK" to `out` and returns 0, or
 * one line per error to `errout` and returns 1. Both streams borrowed.
 */
int em_conf_check(const char *path, FILE *out, FILE *errout);

/* The device with that id, or NULL. Borrowed from the tree. */
const struct em_dev_conf *em_conf_device(const struct em_conf *c, const char *id);

/* EM_DS_BIT_* for "pms", "mppt", "inverter", "site"; 0 when unknown. */
unsigned em_conf_dataset_bit(const char *name);

/* Every publisher type the configuration knows, NULL-terminated. */
extern const char *const em_pub_types[];

/* 1 when `type` is one of em_pub_types (built into this binary or not). */
int em_conf_pub_type_known(const char *type);

#endif
