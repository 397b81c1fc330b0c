/* test_pub_redis.c - the Redis publisher against real redis-server processes.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Every server runs on a free 127.0.0.1 port in its own mkdtemp directory and is
 * stopped by its PID (it also dies with this process: PR_SET_PDEATHSIG). What
 * arrived is read back with a second, plain hiredis connection. Every test uses
 * its own keys or its own server, so tests never see each other's data.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "harness.h"
#include "pubcore.h"
#include "publisher.h"
#include "redis/redis.h"
#include "testutil.h"

static const struct em_publisher *pub = &redis_publisher;
static char tmpdir[PATH_MAX];

/* ---------------------------------------------------------------- time */

/* Deadlines stretch under emulation and valgrind (EM_TEST_TIME_SCALE). */
static long long T(long long ms)
{
    static long long scale;

    if (!scale) {
        const char *e = getenv("EM_TEST_TIME_SCALE");
        scale = e && atoll(e) > 0 ? atoll(e) : 1;
    }
    return ms * scale;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};

    nanosleep(&ts, NULL);
}

/* snprintf for paths: truncation would point a test at the wrong file. */
static void pathf(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void pathf(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        abort();
}

/* -------------------------------------------------------------- servers */

struct srv {
    pid_t pid; /* 0 when not running */
    int port;
    char dir[PATH_MAX];
};

#define MAX_SRV 8
static struct srv *servers[MAX_SRV]; /* for the watchdog and cleanup */

static void remember(struct srv *s)
{
    for (int i = 0; i < MAX_SRV; i++) {
        if (servers[i] == s)
            return;
    }
    for (int i = 0; i < MAX_SRV; i++) {
        if (!servers[i]) {
            servers[i] = s;
            return;
        }
    }
}

/* A plain connection for checks; NULL when nothing answers. */
static redisContext *raw_connect(int port)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

/*
 * Start redis-server on s->port (a new free port when 0) in its own directory,
 * with `extra` options (NULL-terminated, may be NULL). 0 once it answers PING
 * (PONG, or NOAUTH with requirepass).
 */
static int srv_start(struct srv *s, const char *const *extra)
{
    char port[16], log[PATH_MAX + 16];
    const char *argv[32];
    int n = 0;

    if (!s->dir[0]) {
        pathf(s->dir, sizeof s->dir, "%s/redis.XXXXXX", tmpdir);
        if (!mkdtemp(s->dir))
            return -1;
    }
    if (!s->port && (s->port = free_port()) < 0)
        return -1;
    snprintf(port, sizeof port, "%d", s->port);
    pathf(log, sizeof log, "%s/redis.log", s->dir);
    argv[n++] = "redis-server";
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--logfile";
    argv[n++] = log;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid < 0) {
        s->pid = 0;
        return -1;
    }
    if (s->pid == 0) {
        int null = open("/dev/null", O_RDWR);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    remember(s);
    for (long long until = now_ms() + T(5000); now_ms() < until; sleep_ms(10)) {
        redisContext *c;
        int st;

        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        if ((c = raw_connect(s->port))) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r != NULL;

            if (r)
                freeReplyObject(r);
            redisFree(c);
            if (ok)
                return 0;
        }
    }
    return -1;
}

/* Stop by PID with `sig` (SIGCONT first: it may be stopped); SIGKILL after 5 s. */
static void srv_stop(struct srv *s, int sig)
{
    long long until = now_ms() + 5000;
    int st;

    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    kill(s->pid, SIGCONT);
    while (waitpid(s->pid, &st, WNOHANG) != s->pid) {
        if (now_ms() > until) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            break;
        }
        sleep_ms(5);
    }
    s->pid = 0;
}

static void srv_destroy(struct srv *s)
{
    srv_stop(s, SIGTERM);
    if (s->dir[0])
        rm_rf(s->dir);
    for (int i = 0; i < MAX_SRV; i++) {
        if (servers[i] == s)
            servers[i] = NULL;
    }
    memset(s, 0, sizeof *s);
}

/* Run one command on a fresh connection (after AUTH/SELECT when given). */
static redisReply *raw_cmd(int port, const char *password, int db, const char *fmt, ...)
{
    redisContext *c = raw_connect(port);
    redisReply *r = NULL;
    va_list ap;

    if (!c)
        return NULL;
    if (password) {
        r = redisCommand(c, "AUTH %s", password);
        if (!r || r->type == REDIS_REPLY_ERROR)
            goto out;
        freeReplyObject(r);
    }
    if (db) {
        r = redisCommand(c, "SELECT %d", db);
        if (!r || r->type == REDIS_REPLY_ERROR)
            goto out;
        freeReplyObject(r);
    }
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
out:
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return NULL;
}

/* An integer reply of one command, or -1. */
static long long raw_int(int port, const char *password, int db, const char *fmt,
                         const char *arg)
{
    redisReply *r = raw_cmd(port, password, db, fmt, arg);
    long long v = -1;

    if (r && r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    if (r)
        freeReplyObject(r);
    return v;
}

/* ------------------------------------------------------------ the core */

static struct em_pub_conf base_conf(char *url, char *mode, char *topic)
{
    struct em_pub_conf c;

    memset(&c, 0, sizeof c);
    c.name = "test";
    c.type = "redis";
    c.url = url;
    c.mode = mode;
    c.topic = topic;
    c.datasets = EM_DS_BIT_PMS | EM_DS_BIT_MPPT | EM_DS_BIT_INVERTER | EM_DS_BIT_SITE;
    c.timeout_ms = 2000;
    c.window = 64;
    c.stream_maxlen = 100000;
    c.agent = "gw";
    c.site = "site-a";
    return c;
}

static void *make_pub(struct em_pub_conf *c, struct core *k)
{
    char err[256];
    void *ctx = pub->create(c, core_done, k, err, sizeof err);

    if (!ctx)
        printf("    create: %s\n", err);
    return ctx;
}

static int wait_up(void *ctx, int want, long long ms)
{
    for (long long until = now_ms() + T(ms); now_ms() < until; sleep_ms(2)) {
        pub->service(ctx);
        if (pub->up(ctx) == want)
            return 1;
    }
    return pub->up(ctx) == want;
}

/* Call service() for `ms`, like the core's loop does. */
static void serve_for(void *ctx, long long ms)
{
    for (long long until = now_ms() + T(ms); now_ms() < until; sleep_ms(2))
        pub->service(ctx);
}

/* Payload of token t: {"seq":t}. */
static struct em_pub_msg make_msg(uint64_t token, const char *dataset, char *buf,
                                  size_t len)
{
    struct em_pub_msg m;

    m.dataset = dataset;
    m.device = "bms-1";
    m.payload = buf;
    m.len = (size_t)snprintf(buf, len, "{\"seq\":%llu}", (unsigned long long)token);
    m.token = token;
    return m;
}

/*
 * The core's loop: offer tokens [first, first+n) in order, calling service()
 * between rounds, until every accepted one has its verdict. Returns how many were
 * accepted; *max_inflight gets the highest inflight() seen.
 */
static size_t publish_range(void *ctx, const char *dataset, uint64_t first, size_t n,
                            long long ms, unsigned *max_inflight)
{
    uint64_t next = first;
    char buf[64];

    if (max_inflight)
        *max_inflight = 0;
    for (long long until = now_ms() + T(ms); now_ms() < until;) {
        pub->service(ctx);
        while (next < first + n) {
            struct em_pub_msg m = make_msg(next, dataset, buf, sizeof buf);

            if (pub->submit(ctx, &m) != EM_PUB_OK)
                break;
            next++;
            if (max_inflight && pub->inflight(ctx) > *max_inflight)
                *max_inflight = pub->inflight(ctx);
        }
        if (next == first + n && pub->inflight(ctx) == 0)
            break;
        sleep_us(100);
    }
    return (size_t)(next - first);
}

/* The stream at `key` holds exactly the payloads of tokens [first, first+n), in order. */
static int stream_holds(int port, const char *password, int db, const char *key,
                        uint64_t first, size_t n)
{
    redisReply *r = raw_cmd(port, password, db, "XRANGE %s - +", key);
    char want[64];
    int ok = 0;

    if (!r || r->type != REDIS_REPLY_ARRAY) {
        printf("    XRANGE %s failed\n", key);
        goto out;
    }
    if (r->elements != n) {
        printf("    %s has %zu entries, expected %zu\n", key, (size_t)r->elements, n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i], *f;

        snprintf(want, sizeof want, "{\"seq\":%llu}", (unsigned long long)(first + i));
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            (f = e->element[1])->type != REDIS_REPLY_ARRAY || f->elements != 2 ||
            strcmp(f->element[0]->str, "data") != 0 ||
            strcmp(f->element[1]->str, want) != 0) {
            printf("    %s entry %zu is not data=%s\n", key, i, want);
            goto out;
        }
    }
    ok = 1;
out:
    if (r)
        freeReplyObject(r);
    return ok;
}

/* A subscriber connection on `channel`; NULL when SUBSCRIBE was not confirmed. */
static redisContext *subscribe(int port, const char *channel)
{
    redisContext *c = raw_connect(port);
    redisReply *r;
    int ok;

    if (!c)
        return NULL;
    r = redisCommand(c, "SUBSCRIBE %s", channel);
    ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
         strcmp(r->element[0]->str, "subscribe") == 0;
    if (r)
        freeReplyObject(r);
    if (!ok) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* The next pub/sub message: its payload into buf (binary-safe); length or -1. */
static long next_message(redisContext *c, const char *channel, char *buf, size_t len)
{
    redisReply *r = NULL;
    long n = -1;

    if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        strcmp(r->element[0]->str, "message") == 0 &&
        strcmp(r->element[1]->str, channel) == 0 && r->element[2]->len <= len) {
        memcpy(buf, r->element[2]->str, r->element[2]->len);
        n = (long)r->element[2]->len;
    }
    freeReplyObject(r);
    return n;
}

/* ------------------------------------------------------------ the tests */

static struct srv shared;
static char shared_url[64];

static void test_registry(void)
{
    CHECK(em_publisher_find("redis") == &redis_publisher);
    CHECK_EQ_INT(redis_publisher.abi, EM_PUBLISHER_ABI);
    CHECK_STR(redis_publisher.name, "redis");
    CHECK(redis_publisher.create && redis_publisher.submit && redis_publisher.service &&
          redis_publisher.up && redis_publisher.inflight && redis_publisher.destroy);
}

/* create() must fail with an error containing `fragment`. */
static int create_fails(struct em_pub_conf *c, const char *fragment)
{
    static struct core k;
    char err[256] = "";
    void *ctx = pub->create(c, core_done, &k, err, sizeof err);

    if (ctx) {
        pub->destroy(ctx);
        printf("    create succeeded, expected an error with \"%s\"\n", fragment);
        return 0;
    }
    if (!strstr(err, fragment)) {
        printf("    error \"%s\" lacks \"%s\"\n", err, fragment);
        return 0;
    }
    return 1;
}

static void test_create_errors(void)
{
    static struct core k;
    char url[] = "redis://127.0.0.1:1/0";
    char *bad_urls[] = {"mqtt://127.0.0.1:6379",
                        "unix:///tmp/redis.sock",
                        "rediss://127.0.0.1:6379",
                        "127.0.0.1:6379",
                        "redis://h:0",
                        "redis://h:70000",
                        "redis://h:1/x",
                        "redis://[::1"};
    char missing[PATH_MAX], secret[PATH_MAX];
    struct em_pub_conf c;
    char err[256];
    void *ctx;

    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        c = base_conf(bad_urls[i], "publish", NULL);
        CHECK(create_fails(&c, "url"));
    }
    /* The url is not echoed: it may hold a password, and the error is logged. */
    char leaky[] = "http://:hunter2@h", leaky2[] = "redis://:hunter2@h:99999";
    c = base_conf(leaky, "publish", NULL);
    CHECK(create_fails(&c, "url must start with redis://"));
    CHECK(pub->create(&c, core_done, &k, err, sizeof err) == NULL);
    CHECK(strstr(err, "hunter2") == NULL);
    c = base_conf(leaky2, "publish", NULL);
    CHECK(pub->create(&c, core_done, &k, err, sizeof err) == NULL);
    CHECK(strstr(err, "url") != NULL && strstr(err, "hunter2") == NULL);
    c = base_conf(NULL, "publish", NULL);
    CHECK(create_fails(&c, "url"));
    c = base_conf(url, "x", NULL);
    CHECK(create_fails(&c, "mode 'x' is not publish or stream"));
    c = base_conf(url, "queue", NULL);
    CHECK(create_fails(&c, "mode 'queue'"));
    c = base_conf(url, "stream", "monitoring.{device}");
    CHECK(create_fails(&c, "topic 'monitoring.{device}' has an unknown {placeholder}"));
    c = base_conf(url, "stream", "monitoring.{dataset");
    CHECK(create_fails(&c, "topic"));
    c = base_conf(url, "publish", NULL);
    c.channel = "ch.{nope}";
    CHECK(create_fails(&c, "channel 'ch.{nope}'"));
    c = base_conf(url, "publish", "");
    CHECK(create_fails(&c, "topic is empty"));

    /* Credentials: one source each, a user needs a password, files are read at create. */
    char pwurl[] = "redis://:pw@127.0.0.1:1/0", userurl[] = "redis://u:pw@127.0.0.1:1";
    c = base_conf(pwurl, "publish", NULL);
    c.password = "other";
    CHECK(create_fails(&c, "password"));
    c = base_conf(userurl, "publish", NULL);
    c.username = "v";
    CHECK(create_fails(&c, "username"));
    c = base_conf(url, "publish", NULL);
    c.username = "u";
    CHECK(create_fails(&c, "username 'u' needs a password"));
    pathf(missing, sizeof missing, "%s/no-such-file", tmpdir);
    c = base_conf(url, "publish", NULL);
    c.password_file = missing;
    CHECK(create_fails(&c, "password_file"));
    CHECK(create_fails(&c, "No such file or directory"));
    c.password = "pw";
    CHECK(create_fails(&c, "password"));

    /* Good configs: nothing connects before the first submit/service. */
    pathf(secret, sizeof secret, "%s/secret", tmpdir);
    FILE *f = fopen(secret, "w");
    CHECK(f != NULL);
    fputs("pw\n", f);
    fclose(f);
    CHECK(chmod(secret, 0600) == 0); /* secrets must be private to their owner */
    char u1[] = "redis://localhost", u2[] = "redis://[::1]:6380/15",
         u3[] = "redis:///run/redis.sock?db=2", u4[] = "REDIS://u:p%40ss@h:1/1";
    char *good[] = {url, u1, u2, u3, u4};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        c = base_conf(good[i], i % 2 ? "stream" : NULL,
                      i == 1 ? NULL : "x.{agent}.{site}.{id}");
        c.window = i == 2 ? 100000 : 0; /* larger windows are taken as the maximum */
        c.timeout_ms = 0;
        c.stream_maxlen = 0;
        if (i == 0)
            c.password_file = secret;
        ctx = pub->create(&c, core_done, &k, err, sizeof err);
        if (!ctx)
            printf("    %s: %s\n", good[i], err);
        CHECK(ctx != NULL);
        CHECK_EQ_INT(pub->up(ctx), 0);
        CHECK_EQ_INT(pub->inflight(ctx), 0);
        pub->destroy(ctx);
    }
    pub->destroy(NULL);
    CHECK_EQ_INT(k.ok + k.retry + k.drop + k.bad, 0);
}

/* PUBLISH: a subscriber sees every message in order; each token confirmed once. */
static void test_publish_mode(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared_url, "publish", NULL);
    redisContext *sub = NULL;
    char buf[128], want[64];
    unsigned max_inflight = 0;
    const size_t n = 1000;
    void *ctx;

    memset(&k, 0, sizeof k);
    sub = subscribe(shared.port, "monitoring.pms");
    CHECK(sub != NULL);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, n, 10000, &max_inflight), n);
    CHECK_EQ_INT(k.ok, n);
    CHECK_EQ_INT(core_count(&k, 0, n, EM_PUB_OK), n);
    CHECK(core_once(&k));
    CHECK(max_inflight > 1 && max_inflight <= 64); /* pipelined, within the window */
    for (size_t i = 0; i < n; i++) {
        long len = next_message(sub, "monitoring.pms", buf, sizeof buf - 1);

        CHECK(len > 0);
        buf[len] = '\0';
        snprintf(want, sizeof want, "{\"seq\":%zu}", i);
        CHECK_STR(buf, want);
    }

    /* Binary-safe: a payload with a NUL and CR LF arrives byte for byte. */
    {
        static const char bin[] = "a\0b\r\nc \"d\"";
        struct em_pub_msg m = {"pms", "bms-1", bin, sizeof bin - 1, n};

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
        for (long long until = now_ms() + T(2000);
             now_ms() < until && k.verdicts[n] == 0;)
            pub->service(ctx);
        CHECK_EQ_INT(core_count(&k, n, 1, EM_PUB_OK), 1);
        CHECK_EQ_INT(next_message(sub, "monitoring.pms", buf, sizeof buf),
                     sizeof bin - 1);
        CHECK(memcmp(buf, bin, sizeof bin - 1) == 0);
    }

    /* No subscriber at all is still a confirmation (PUBLISH answers 0). */
    CHECK_EQ_INT(publish_range(ctx, "inverter", n + 1, 10, 3000, NULL), 10);
    CHECK_EQ_INT(core_count(&k, n + 1, 10, EM_PUB_OK), 10);
    CHECK_EQ_INT(k.ok, n + 11);
    CHECK_EQ_INT(k.retry + k.drop, 0);
    CHECK_EQ_INT(pub->inflight(ctx), 0);

    /* An idle link stays up: nothing to read is not an error. */
    serve_for(ctx, 200);
    CHECK_EQ_INT(pub->up(ctx), 1);
    pub->destroy(ctx);
    redisFree(sub);
}

/* Templates: {agent} {site} {dataset} {id} all reach the channel name. */
static void test_topic_template(void)
{
    static struct core k;
    struct em_pub_conf c =
        base_conf(shared_url, "publish", "edge.{agent}.{site}.{dataset}.{id}");
    redisContext *sub;
    char buf[64];
    void *ctx;

    memset(&k, 0, sizeof k);
    c.topic = NULL;
    c.channel = "edge.{agent}.{site}.{dataset}.{id}"; /* the alias works alone too */
    sub = subscribe(shared.port, "edge.gw.site-a.mppt.bms-1");
    CHECK(sub != NULL);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "mppt", 0, 3, 3000, NULL), 3);
    CHECK_EQ_INT(core_count(&k, 0, 3, EM_PUB_OK), 3);
    for (int i = 0; i < 3; i++) {
        long len = next_message(sub, "edge.gw.site-a.mppt.bms-1", buf, sizeof buf - 1);

        CHECK(len > 0);
        buf[len] = '\0';
        CHECK(strstr(buf, i == 0 ? ":0}" : i == 1 ? ":1}" : ":2}") != NULL);
    }

    /* A key the template cannot render (too long): dropped at once, nothing sent. */
    {
        static char longid[3000];
        char pay[] = "{}";
        struct em_pub_msg m = {"mppt", longid, pay, 2, 3};

        memset(longid, 'x', sizeof longid - 1);
        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
        CHECK_EQ_INT(core_count(&k, 3, 1, EM_PUB_DROP), 1);
        CHECK_EQ_INT(pub->inflight(ctx), 0);
    }
    CHECK(core_once(&k));
    pub->destroy(ctx);
    redisFree(sub);
}

/* XADD: the stream holds every payload in order, under the field "data". */
static void test_stream_mode(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared_url, "stream", "s1.{dataset}");
    const size_t n = 2000;
    unsigned max_inflight = 0;
    void *ctx;

    memset(&k, 0, sizeof k);
    c.window = 256;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "mppt", 0, n, 10000, &max_inflight), n);
    CHECK_EQ_INT(core_count(&k, 0, n, EM_PUB_OK), n);
    CHECK_EQ_INT(k.ok, n);
    CHECK(core_once(&k));
    CHECK(max_inflight > 32 && max_inflight <= 256);
    CHECK_EQ_INT(raw_int(shared.port, NULL, 0, "XLEN %s", "s1.mppt"), n);
    CHECK(stream_holds(shared.port, NULL, 0, "s1.mppt", 0, n));
    CHECK_EQ_INT(raw_int(shared.port, NULL, 0, "EXISTS %s", "s1.pms"), 0);
    pub->destroy(ctx);
}

/* MAXLEN ~ N: the stream keeps at least N and less than N + one macro node (100). */
static void test_stream_maxlen(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared_url, "stream", "s2.{dataset}");
    const size_t n = 1500, cap = 150;
    redisReply *r;
    long long len;
    void *ctx;

    memset(&k, 0, sizeof k);
    c.stream_maxlen = (long)cap;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, n, 10000, NULL), n);
    CHECK_EQ_INT(core_count(&k, 0, n, EM_PUB_OK), n);
    len = raw_int(shared.port, NULL, 0, "XLEN %s", "s2.pms");
    printf("    XLEN after %zu XADD with MAXLEN ~ %zu: %lld\n", n, cap, len);
    CHECK(len >= (long long)cap && len < (long long)cap + 100);
    /* What is left is the newest run, in order. */
    CHECK(stream_holds(shared.port, NULL, 0, "s2.pms", n - (uint64_t)len, (size_t)len));
    r = raw_cmd(shared.port, NULL, 0, "CONFIG GET %s", "stream-node-max-entries");
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    CHECK_STR(r->element[1]->str, "100");
    freeReplyObject(r);
    pub->destroy(ctx);
}

/* The window: submit refuses the message beyond it until a reply frees a slot. */
static void test_window(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared_url, "stream", "s3.{dataset}");
    const unsigned window = 8;
    unsigned max_inflight = 0;
    char buf[64];
    void *ctx;

    memset(&k, 0, sizeof k);
    c.window = (int)window;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    for (uint64_t t = 0; t < window; t++) {
        struct em_pub_msg m = make_msg(t, "pms", buf, sizeof buf);

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
        CHECK_EQ_INT(pub->inflight(ctx), t + 1);
    }
    /* Replies are taken only in service(): the window stays full until then. */
    sleep_ms(50);
    struct em_pub_msg extra = make_msg(window, "pms", buf, sizeof buf);
    CHECK_EQ_INT(pub->submit(ctx, &extra), EM_PUB_RETRY);
    CHECK_EQ_INT(pub->submit(ctx, &extra), EM_PUB_RETRY);
    CHECK_EQ_INT(pub->inflight(ctx), window);
    CHECK_EQ_INT(k.ok + k.retry + k.drop, 0);
    for (long long until = now_ms() + T(2000);
         now_ms() < until && pub->inflight(ctx) > 0;)
        pub->service(ctx);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK_EQ_INT(core_count(&k, 0, window, EM_PUB_OK), window);
    CHECK_EQ_INT(pub->submit(ctx, &extra), EM_PUB_OK);

    /* The core's loop never sees more than the window in flight. */
    CHECK_EQ_INT(publish_range(ctx, "pms", window + 1, 500, 5000, &max_inflight), 500);
    CHECK_EQ_INT(max_inflight, window);
    CHECK_EQ_INT(core_count(&k, 0, window + 501, EM_PUB_OK), window + 501);
    CHECK(core_once(&k));
    CHECK(stream_holds(shared.port, NULL, 0, "s3.pms", 0, window + 501));
    pub->destroy(ctx);
}

/* A permanent error for one key drops its messages; the others still go through. */
static void test_wrongtype_dropped(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared_url, "stream", "wt.{dataset}");
    redisReply *r;
    char buf[64];
    const size_t n = 40;
    void *ctx;

    memset(&k, 0, sizeof k);
    r = raw_cmd(shared.port, NULL, 0, "SET %s %s", "wt.pms", "a plain string");
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    /* Even tokens to wt.pms (WRONGTYPE), odd ones to wt.mppt, in one pipeline. */
    for (uint64_t t = 0; t < n; t++) {
        struct em_pub_msg m = make_msg(t, t % 2 ? "mppt" : "pms", buf, sizeof buf);

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
    }
    for (long long until = now_ms() + T(3000);
         now_ms() < until && pub->inflight(ctx) > 0;)
        pub->service(ctx);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    for (uint64_t t = 0; t < n; t++) {
        CHECK_EQ_INT(k.verdicts[t], 1);
        CHECK_EQ_INT(k.last[t], t % 2 ? EM_PUB_OK : EM_PUB_DROP);
    }
    CHECK_EQ_INT(k.drop, n / 2);
    CHECK_EQ_INT(k.ok, n / 2);
    CHECK_EQ_INT(k.retry, 0);
    /* The link survives an error reply. */
    CHECK_EQ_INT(pub->up(ctx), 1);
    CHECK_EQ_INT(raw_int(shared.port, NULL, 0, "XLEN %s", "wt.mppt"), n / 2);
    {
        redisReply *s = raw_cmd(shared.port, NULL, 0, "GET %s", "wt.pms");

        CHECK(s && s->type == REDIS_REPLY_STRING);
        CHECK_STR(s->str, "a plain string");
        freeReplyObject(s);
    }
    pub->destroy(ctx);
}

/* A Unix socket url with ?db=N: connected without TCP, SELECT before the data. */
static void test_unix_socket(void)
{
    static struct core k;
    char url[PATH_MAX + 32];
    struct em_pub_conf c;
    void *ctx;

    memset(&k, 0, sizeof k);
    pathf(url, sizeof url, "redis://%s/redis.sock?db=2", shared.dir);
    c = base_conf(url, "stream", "ux.{dataset}");
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "site", 0, 30, 3000, NULL), 30);
    CHECK_EQ_INT(core_count(&k, 0, 30, EM_PUB_OK), 30);
    CHECK(core_once(&k));
    CHECK(stream_holds(shared.port, NULL, 2, "ux.site", 0, 30));
    CHECK_EQ_INT(raw_int(shared.port, NULL, 0, "EXISTS %s", "ux.site"), 0);
    pub->destroy(ctx);
}

/* Redis not there at create: no error, RETRY; it starts later: up and confirmed. */
static void test_down_at_create(void)
{
    static struct core k;
    static struct srv s;
    struct em_pub_conf c;
    char url[64], buf[64];
    long long t0;
    void *ctx;

    memset(&k, 0, sizeof k);
    memset(&s, 0, sizeof s);
    s.port = free_port();
    CHECK(s.port > 0);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", s.port);
    c = base_conf(url, "stream", NULL);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK_EQ_INT(pub->up(ctx), 0);
    struct em_pub_msg m = make_msg(0, "pms", buf, sizeof buf);
    CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_RETRY);
    /* Attempts fail for a while; the backoff grows to about 1.6 s. */
    for (long long until = now_ms() + T(1500); now_ms() < until; sleep_ms(5)) {
        pub->service(ctx);
        CHECK_EQ_INT(pub->up(ctx), 0);
        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_RETRY);
    }
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK_EQ_INT(k.ok + k.retry + k.drop + k.bad, 0);

    CHECK(srv_start(&s, NULL) == 0);
    t0 = now_ms();
    CHECK(wait_up(ctx, 1, 6000)); /* at most one backoff (<= 5 s) after it came up */
    printf("    up %lld ms after redis-server answered\n", now_ms() - t0);
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, 100, 5000, NULL), 100);
    CHECK_EQ_INT(core_count(&k, 0, 100, EM_PUB_OK), 100);
    CHECK_EQ_INT(k.ok, 100);
    CHECK(stream_holds(s.port, NULL, 0, "monitoring.pms", 0, 100));
    pub->destroy(ctx);
    srv_destroy(&s);
}

/* Submit `n` tokens from `first`, without service() in between. */
static int submit_all(void *ctx, const char *dataset, uint64_t first, size_t n)
{
    char buf[64];

    for (uint64_t t = first; t < first + n; t++) {
        struct em_pub_msg m = make_msg(t, dataset, buf, sizeof buf);

        if (pub->submit(ctx, &m) != EM_PUB_OK)
            return 0;
    }
    return 1;
}

/* SIGKILL with commands in flight: one verdict each; then delivery resumes. */
static void test_killed_in_flight(void)
{
    static struct core k;
    static struct srv s;
    struct em_pub_conf c;
    const size_t w = 200;
    char url[64];
    void *ctx;

    memset(&k, 0, sizeof k);
    memset(&s, 0, sizeof s);
    CHECK(srv_start(&s, NULL) == 0);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", s.port);
    c = base_conf(url, "stream", NULL);
    c.window = (int)w;
    c.timeout_ms = 10000; /* the loss must be noticed by EOF, not by the deadline */
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));

    /* 1: frozen first, so none of them can have been executed: all RETRY. */
    CHECK_EQ_INT(kill(s.pid, SIGSTOP), 0);
    CHECK(submit_all(ctx, "pms", 0, w));
    serve_for(ctx, 100);
    CHECK_EQ_INT(pub->inflight(ctx), w);
    CHECK_EQ_INT(k.ok + k.retry + k.drop, 0);
    srv_stop(&s, SIGKILL);
    CHECK(wait_up(ctx, 0, 3000));
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK_EQ_INT(core_count(&k, 0, w, EM_PUB_RETRY), w);
    CHECK_EQ_INT(k.retry, w);
    CHECK_EQ_INT(k.ok, 0);
    {
        char buf[64];
        struct em_pub_msg m = make_msg(w, "pms", buf, sizeof buf);

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_RETRY);
    }

    /* Back on the same port: the core re-sends them, all confirmed. */
    CHECK(srv_start(&s, NULL) == 0);
    CHECK(wait_up(ctx, 1, 6000));
    memset(k.verdicts, 0, w);
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, w, 5000, NULL), w);
    CHECK_EQ_INT(core_count(&k, 0, w, EM_PUB_OK), w);
    CHECK(stream_holds(s.port, NULL, 0, "monitoring.pms", 0, w));

    /* 2: killed while running: some were answered, the rest RETRY; never both. */
    size_t ok_before = k.ok, retry_before = k.retry;
    CHECK(submit_all(ctx, "mppt", w, w));
    srv_stop(&s, SIGKILL);
    CHECK(wait_up(ctx, 0, 3000));
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK_EQ_INT(core_count(&k, w, w, EM_PUB_OK) + core_count(&k, w, w, EM_PUB_RETRY), w);
    CHECK_EQ_INT(k.ok - ok_before + k.retry - retry_before, w);
    CHECK(core_once(&k));
    printf("    killed while running: %zu confirmed, %zu to retry\n", k.ok - ok_before,
           k.retry - retry_before);

    CHECK(srv_start(&s, NULL) == 0);
    CHECK(wait_up(ctx, 1, 6000));
    CHECK_EQ_INT(publish_range(ctx, "inverter", 2 * w, 50, 5000, NULL), 50);
    CHECK_EQ_INT(core_count(&k, 2 * w, 50, EM_PUB_OK), 50);
    CHECK(stream_holds(s.port, NULL, 0, "monitoring.inverter", 2 * w, 50));
    pub->destroy(ctx);
    srv_destroy(&s);
}

/*
 * Redis alive but silent (SIGSTOP): no call blocks, every command in flight gets
 * RETRY once the reply is timeout_ms overdue, and the link is retried.
 */
static void test_stalled_server(void)
{
    static struct core k;
    static struct srv s;
    struct em_pub_conf c;
    long long worst = 0, t0;
    const size_t w = 32;
    char url[64];
    void *ctx;

    memset(&k, 0, sizeof k);
    memset(&s, 0, sizeof s);
    CHECK(srv_start(&s, NULL) == 0);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", s.port);
    c = base_conf(url, "publish", NULL);
    c.window = (int)w;
    c.timeout_ms = 400;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(kill(s.pid, SIGSTOP), 0);
    CHECK(submit_all(ctx, "pms", 0, w));
    t0 = now_ms();
    while (pub->inflight(ctx) > 0 && now_ms() - t0 < T(3000)) {
        long long a = now_ms();

        pub->service(ctx);
        if (now_ms() - a > worst)
            worst = now_ms() - a;
        sleep_ms(1);
    }
    printf("    in-flight failed after %lld ms; longest service() %lld ms\n",
           now_ms() - t0, worst);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK(now_ms() - t0 >= 350);
    CHECK_EQ_INT(core_count(&k, 0, w, EM_PUB_RETRY), w);
    CHECK_EQ_INT(k.retry, w);
    CHECK_EQ_INT(pub->up(ctx), 0);
    /* Reconnects reach the kernel's backlog, but PING goes unanswered: still down. */
    for (long long until = now_ms() + T(1500); now_ms() < until; sleep_ms(2)) {
        long long a = now_ms();

        pub->service(ctx);
        if (now_ms() - a > worst)
            worst = now_ms() - a;
        CHECK_EQ_INT(pub->up(ctx), 0);
    }
    CHECK(worst < 200); /* the timeouts are 300-400 ms: a blocking call shows */
    CHECK_EQ_INT(kill(s.pid, SIGCONT), 0);
    CHECK(wait_up(ctx, 1, 8000));
    memset(k.verdicts, 0, w);
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, w, 5000, NULL), w);
    CHECK_EQ_INT(core_count(&k, 0, w, EM_PUB_OK), w);
    CHECK(core_once(&k));
    pub->destroy(ctx);
    srv_destroy(&s);
}

/* A listener whose accept queue is full: connect() never completes; nothing blocks. */
static void test_connect_never_completes(void)
{
    static struct core k;
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int lfd, fill[4], port;
    long long worst = 0;
    struct em_pub_conf c;
    char url[64], buf[64];
    void *ctx;

    memset(&k, 0, sizeof k);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(lfd >= 0);
    CHECK(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(lfd, 0) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
    port = ntohs(a.sin_port);
    /* Fill the accept queue (backlog 0 holds one); later SYNs are dropped. */
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    sleep_ms(50);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    c = base_conf(url, "publish", NULL);
    c.timeout_ms = 300;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    struct em_pub_msg m = make_msg(0, "pms", buf, sizeof buf);
    for (long long until = now_ms() + T(2000); now_ms() < until; sleep_ms(2)) {
        long long t = now_ms();

        pub->service(ctx);
        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_RETRY);
        if (now_ms() - t > worst)
            worst = now_ms() - t;
        CHECK_EQ_INT(pub->up(ctx), 0);
    }
    printf("    longest service()+submit(): %lld ms\n", worst);
    CHECK(worst < 200); /* the timeouts are 300-400 ms: a blocking call shows */
    CHECK_EQ_INT(k.ok + k.retry + k.drop, 0);
    pub->destroy(ctx);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
}

/* requirepass: wrong or no password keeps up() at 0; the right one (any source) works. */
static void test_auth(void)
{
    static const char *const extra[] = {"--requirepass", "s3cret", NULL};
    static struct core k;
    static struct srv s;
    char url[128], pwfile[PATH_MAX], err[PATH_MAX + 128];
    struct em_pub_conf c;
    redisReply *r;
    void *ctx;

    memset(&k, 0, sizeof k);
    memset(&s, 0, sizeof s);
    CHECK(srv_start(&s, extra) == 0);

    /* Wrong password in the url, and none at all: never up, nothing accepted. */
    for (int i = 0; i < 2; i++) {
        char buf[64];

        if (i == 0)
            snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d/0", s.port);
        else
            snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", s.port);
        c = base_conf(url, "stream", "auth.{dataset}");
        ctx = make_pub(&c, &k);
        CHECK(ctx != NULL);
        struct em_pub_msg m = make_msg(0, "pms", buf, sizeof buf);
        for (long long until = now_ms() + T(1200); now_ms() < until; sleep_ms(2)) {
            pub->service(ctx);
            CHECK_EQ_INT(pub->up(ctx), 0);
            CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_RETRY);
        }
        CHECK_EQ_INT(pub->inflight(ctx), 0);
        pub->destroy(ctx);
    }
    CHECK_EQ_INT(k.ok + k.retry + k.drop + k.bad, 0);
    CHECK_EQ_INT(raw_int(s.port, "s3cret", 0, "EXISTS %s", "auth.pms"), 0);

    /* The right one as `password`, then from a file with db 3 (AUTH, then SELECT). */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", s.port);
    c = base_conf(url, "stream", "auth.{dataset}");
    c.password = "s3cret";
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, 20, 3000, NULL), 20);
    CHECK_EQ_INT(core_count(&k, 0, 20, EM_PUB_OK), 20);
    pub->destroy(ctx);
    CHECK(stream_holds(s.port, "s3cret", 0, "auth.pms", 0, 20));

    pathf(pwfile, sizeof pwfile, "%s/pw", s.dir);
    FILE *f = fopen(pwfile, "w");
    CHECK(f != NULL);
    fputs("s3cret\n", f);
    fclose(f);
    CHECK(chmod(pwfile, 0644) == 0);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", s.port);
    c = base_conf(url, "stream", "auth.{dataset}");
    c.password_file = pwfile;
    ctx = pub->create(&c, core_done, &k, err, sizeof err);
    CHECK(ctx == NULL);
    CHECK(strstr(err, "readable by group or others (chmod 600 it)") != NULL);
    CHECK(strstr(err, "s3cret") == NULL);
    CHECK(chmod(pwfile, 0600) == 0);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", s.port);
    c = base_conf(url, "stream", "auth.{dataset}");
    c.password_file = pwfile;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "mppt", 20, 20, 3000, NULL), 20);
    CHECK_EQ_INT(core_count(&k, 20, 20, EM_PUB_OK), 20);
    pub->destroy(ctx);
    CHECK(stream_holds(s.port, "s3cret", 3, "auth.mppt", 20, 20));
    CHECK_EQ_INT(raw_int(s.port, "s3cret", 0, "EXISTS %s", "auth.mppt"), 0);

    /* A Redis 6 ACL user from the url, %-encoded password: AUTH USER PASSWORD. */
    r = raw_cmd(s.port, "s3cret", 0, "ACL SETUSER edge on >p@ss ~auth.* &auth.* +@all");
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    snprintf(url, sizeof url, "redis://edge:p%%40ss@127.0.0.1:%d", s.port);
    c = base_conf(url, "publish", "auth.{dataset}");
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 40, 5, 3000, NULL), 5);
    CHECK_EQ_INT(core_count(&k, 40, 5, EM_PUB_OK), 5);
    /* Outside its key pattern: NOPERM will not pass on a resend, so it is dropped. */
    pub->destroy(ctx);
    c.topic = "other.{dataset}";
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 45, 5, 3000, NULL), 5);
    CHECK_EQ_INT(core_count(&k, 45, 5, EM_PUB_DROP), 5);
    CHECK_EQ_INT(pub->up(ctx), 1);
    CHECK(core_once(&k));
    CHECK_EQ_INT(k.ok, 45);
    CHECK_EQ_INT(k.retry, 0);
    pub->destroy(ctx);
    srv_destroy(&s);
}

/* destroy() with commands in flight: they are forgotten, not reported. */
static void test_destroy_in_flight(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared_url, "stream", "s4.{dataset}");
    void *ctx;

    memset(&k, 0, sizeof k);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 3000));
    CHECK(submit_all(ctx, "pms", 0, 50));
    CHECK_EQ_INT(pub->inflight(ctx), 50);
    pub->destroy(ctx);
    CHECK_EQ_INT(k.ok + k.retry + k.drop + k.bad, 0);
}

/* A hung test must fail the run, not stall it: stop our servers and exit. */
static void watchdog(int sig)
{
    static const char msg[] = "FAIL watchdog: a test hung for 60 s\n";

    (void)sig;
    if (write(1, msg, sizeof msg - 1) < 0) {
        /* nothing left to report to */
    }
    for (int i = 0; i < MAX_SRV; i++) {
        if (servers[i] && servers[i]->pid > 0) {
            kill(servers[i]->pid, SIGCONT);
            kill(servers[i]->pid, SIGKILL);
        }
    }
    _exit(2);
}

static void cleanup(void)
{
    for (int i = 0; i < MAX_SRV; i++) {
        if (servers[i])
            srv_stop(servers[i], SIGKILL);
    }
    if (tmpdir[0] && !getenv("KEEP_TMP"))
        rm_rf(tmpdir);
}

#define RUN_T(fn)                                                                        \
    do {                                                                                 \
        alarm(60);                                                                       \
        RUN(fn);                                                                         \
        alarm(0);                                                                        \
    } while (0)

int main(void)
{
    static char sock[PATH_MAX];
    static const char *shared_extra[] = {"--unixsocket", sock, "--unixsocketperm", "700",
                                         NULL};
    long long t0 = now_ms();

    signal(SIGPIPE, SIG_IGN); /* hiredis writes with write(2): see redis.h */
    signal(SIGALRM, watchdog);
    snprintf(tmpdir, sizeof tmpdir, "%s/edgemon-redis.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    atexit(cleanup);

    RUN_T(test_registry);
    RUN_T(test_create_errors);
    pathf(shared.dir, sizeof shared.dir, "%s/shared", tmpdir);
    pathf(sock, sizeof sock, "%s/redis.sock", shared.dir);
    if (mkdir(shared.dir, 0700) < 0 || srv_start(&shared, shared_extra) < 0) {
        printf("FAIL setup: cannot start redis-server\n");
        return 1;
    }
    snprintf(shared_url, sizeof shared_url, "redis://127.0.0.1:%d/0", shared.port);
    RUN_T(test_publish_mode);
    RUN_T(test_topic_template);
    RUN_T(test_stream_mode);
    RUN_T(test_stream_maxlen);
    RUN_T(test_window);
    RUN_T(test_wrongtype_dropped);
    RUN_T(test_destroy_in_flight);
    RUN_T(test_unix_socket);
    RUN_T(test_down_at_create);
    RUN_T(test_killed_in_flight);
    RUN_T(test_stalled_server);
    RUN_T(test_connect_never_completes);
    RUN_T(test_auth);
    srv_destroy(&shared);
    printf("    (%lld ms)\n", now_ms() - t0);
    DONE();
}
