/* publisher.h - the publisher interface: how a reading leaves the gateway.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A publisher is a const struct em_publisher registered in a static table. The
 * core owns the queue; a publisher only moves messages to its broker and reports,
 * per message, whether the broker confirmed it. Submission is asynchronous so a
 * window of messages can be in flight (MQTT QoS 1): submit() accepts a message,
 * and the verdict arrives later through the `done` callback.
 *
 * Threading: every callback is called on the core thread. `done` is called only
 * from inside submit() or service(), never from a library thread; a publisher
 * whose client library confirms on its own thread (paho) hands the verdicts over
 * internally and reports them from service().
 */
#ifndef EM_PUBLISHER_H
#define EM_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EM_PUBLISHER_ABI 1

enum em_pub_result {
    EM_PUB_OK,    /* submit: accepted; done: the broker confirmed it */
    EM_PUB_RETRY, /* submit: not now (window full, link down); done: send again later */
    EM_PUB_DROP,  /* the broker refused it for good (HTTP 4xx): dead-letter count */
};

/* Dataset bits for em_pub_conf.datasets. */
#define EM_DS_BIT_PMS      (1u << 0)
#define EM_DS_BIT_MPPT     (1u << 1)
#define EM_DS_BIT_INVERTER (1u << 2)
#define EM_DS_BIT_SITE     (1u << 3)

/* One publishers[] entry of the configuration. Strings belong to the config tree
 * and are borrowed by the publisher for its lifetime. NULL = not set. */
struct em_pub_conf {
    char *name;
    char *type;           /* "mqtt", "redis", "kubemq", "http", "kafka", "nats" */
    char *url;
    char *topic;          /* template with {dataset} {id} {agent} {site}; NULL = default */
    int qos;              /* mqtt: 0, 1 (default), 2 */
    unsigned datasets;    /* EM_DS_BIT_* mask; default all */
    char *mode;           /* redis: "publish"|"stream"; kubemq: "queue"|"events_store";
                             nats: "jetstream"|"core" */
    char *username;
    char *password;
    char *password_file;
    char *token;
    char *token_file;
    char *ca_file, *cert_file, *key_file;
    int tls_verify;       /* default 1 */
    int timeout_ms;       /* connect/IO timeout, default 5000 */
    int window;           /* messages in flight, default 64 */
    long stream_maxlen;   /* redis stream mode cap, default 100000 */
    char *client_id;      /* mqtt; default "edgemon-{agent}" */
    char *channel;        /* kubemq channel template (alias of topic) */
    int batch;            /* messages per request: kubemq default 100, http default 1 */
    int gzip;             /* http: Content-Encoding: gzip; default 0 */
    int ordered;          /* strict seq order per device: no live lane; default 0 */
    char *bootstrap_servers; /* kafka: "HOST:PORT[,HOST:PORT...]", required */
    int idempotence;      /* kafka: enable.idempotence; default 0 */
    char *stream;         /* nats jetstream: stream name, default "monitoring" */
    int features;         /* mqtt, redis: carry feature flags and their acks; default 0 */
    /* Filled by the core from agent.id / agent.site before create(). */
    const char *agent;
    const char *site;
};

/* One message handed to submit(); every pointer is borrowed for the call only. */
struct em_pub_msg {
    const char *dataset; /* "pms", "mppt", "inverter", "site" */
    const char *device;  /* device id, or the agent id for "site" */
    const char *payload; /* the JSON message of CONTRACT section 3 */
    size_t len;
    uint64_t token;      /* opaque to the publisher; given back in done() */
};

typedef void (*em_pub_done_fn)(void *core, uint64_t token, enum em_pub_result r);

/* Feature-flag messages (CONTRACT section 5) are at most this many bytes. */
#define EM_PUB_INBOX_MAX (16 * 1024)

/*
 * One message that arrived on a topic a publisher listens on. `topic` and
 * `payload` are borrowed for the call. A message larger than EM_PUB_INBOX_MAX
 * arrives with payload NULL and len = its size, so the receiver can say why it
 * refused it.
 */
typedef void (*em_pub_inbox_fn)(void *arg, const char *topic, const char *payload, size_t len);

struct em_publisher {
    int abi;
    const char *name; /* the `type` it serves */
    /*
     * Build a context from a validated config. Does not connect: connecting is
     * lazy and non-blocking beyond conf->timeout_ms. `done`/`core` are kept for
     * the context's lifetime. Returns NULL with a message in err on failure.
     */
    void *(*create)(const struct em_pub_conf *conf, em_pub_done_fn done, void *core,
                    char *err, size_t errlen);
    /*
     * Offer one message. EM_PUB_OK: accepted, done() follows exactly once with
     * the broker's verdict (possibly before submit returns). EM_PUB_RETRY: not
     * accepted (window full or link down); the core offers it again later.
     * Never blocks longer than the configured timeout.
     */
    enum em_pub_result (*submit)(void *ctx, const struct em_pub_msg *m);
    /* Pump the client: reconnects, keepalive, deliver verdicts. Optional (NULL). */
    void (*service)(void *ctx);
    /* 1 when connected and accepting, 0 otherwise. */
    int (*up)(void *ctx);
    /* Messages accepted but not yet confirmed or failed. */
    unsigned (*inflight)(void *ctx);
    /* Release everything; unconfirmed messages are simply forgotten (the queue
     * still holds them). Accepts NULL. */
    void (*destroy)(void *ctx);
    /*
     * The subscribe side, for feature flags; both NULL when the broker has none.
     * listen(): from now on, across reconnects, receive what is published on the
     * `n` topics/channels (copied; exact names, no wildcards) and hand each
     * message to fn(arg, ...) on the core thread, from inside service() only.
     * Returns 0, or -1 with errno. Called at most once per context.
     * notify(): send one message to `topic` outside the queue, best effort (no
     * verdict, not retried): the flag acknowledgement. Returns 0 when handed to
     * the client, -1 with errno (ENOTCONN while the link is down).
     */
    int (*listen)(void *ctx, const char *const *topics, size_t n, em_pub_inbox_fn fn, void *arg);
    int (*notify)(void *ctx, const char *topic, const char *payload, size_t len);
};

/*
 * Render a topic/channel template. `tmpl` may use {dataset} {id} {agent} {site}.
 * Returns the length written, or -1 with errno ENAMETOOLONG when it does not fit,
 * EINVAL for an unknown {placeholder}.
 */
int em_topic_render(const char *tmpl, const char *dataset, const char *id,
                    const char *agent, const char *site, char *out, size_t outlen);

/* Secrets (password_file, token_file) are at most this many bytes. */
#define EM_PUB_SECRET_MAX 4096

/*
 * Read the secret file `path` for config key `key` (named in errors): the whole
 * file minus one trailing newline (LF or CRLF). Returns a new NUL-terminated
 * string the caller owns (explicit_bzero, then free), or NULL with a message in
 * err: unreadable, readable by group or others (em_pub_secret_private), larger
 * than EM_PUB_SECRET_MAX, or holding a NUL byte.
 */
char *em_pub_read_secret(const char *key, const char *path, char *err, size_t errlen);

/* Wipe a NUL-terminated secret (password, token, auth header) and free it. Accepts NULL. */
void em_pub_free_secret(char *s);

/*
 * Whether a secret file of `mode` (st_mode) is private to its owner: 0 when
 * neither group nor others may read it, else -1 with "'PATH' is readable by group
 * or others (chmod 600 it)" in err (the caller prefixes the key). `path` is
 * borrowed for the call.
 */
int em_pub_secret_private(const char *path, mode_t mode, char *err, size_t errlen);

/*
 * `url` as it may appear in a message: user info (USER:PASSWORD@) before the host
 * is shown as "***@", and the query (?...) as "?***", so no credential reaches a
 * log. Writes into `out` (outlen bytes, truncated) and returns it. Both pointers
 * are borrowed for the call.
 */
const char *em_pub_url_shown(const char *url, char *out, size_t outlen);

/* A create() error message into err (which may be NULL or 0 long). */
void em_pub_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A warning "[pub:TYPE:NAME] ..." from a publisher, at most one per (type, name,
 * what) every interval_s seconds (em_log_should), so an uplink that fails on every
 * request logs once, not once per message. Core thread.
 */
void em_pub_warn(const char *type, const char *name, int interval_s, const char *what,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Look up a compiled-in publisher by type; NULL when unknown or compiled out. */
const struct em_publisher *em_publisher_find(const char *type);

#endif
