/* test_pub_nats.c - the NATS publisher against real nats-server -js processes.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Every server runs on a free 127.0.0.1 port with its own JetStream store in a
 * mkdtemp directory, and is stopped by its PID (it also dies with this process:
 * PR_SET_PDEATHSIG). What the stream holds is read back with libnats directly
 * (this test links it; the publisher still loads it at run time, and gets the
 * same copy). Each test uses its own stream or its own server.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "harness.h"
#include "nats/nats_pub.h"
#include "pubcore.h"
#include "publisher.h"
#include "testutil.h"

static const struct em_publisher *pub = &nats_publisher;
static char tmpdir[PATH_MAX - 64];

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

/* -------------------------------------------------------------- servers */

struct srv {
    pid_t pid; /* 0 when not running */
    int port;
    char dir[PATH_MAX];
    char url[64];
};

#define MAX_SRV 8
static struct srv *servers[MAX_SRV];

static void remember(struct srv *s)
{
    for (int i = 0; i < MAX_SRV; i++)
        if (servers[i] == s)
            return;
    for (int i = 0; i < MAX_SRV; i++)
        if (!servers[i]) {
            servers[i] = s;
            return;
        }
}

/* A plain libnats connection for checks; NULL when nothing answers. */
static natsConnection *raw_connect(const char *url)
{
    natsConnection *nc = NULL;
    natsOptions *o = NULL;

    if (natsOptions_Create(&o) != NATS_OK)
        return NULL;
    natsOptions_SetURL(o, url);
    natsOptions_SetTimeout(o, 2000);
    natsOptions_SetAllowReconnect(o, false);
    if (natsConnection_Connect(&nc, o) != NATS_OK)
        nc = NULL;
    natsOptions_Destroy(o);
    return nc;
}

/* 1 once JetStream answers on the server (it starts after the client port). */
static int js_ready(const char *url)
{
    natsConnection *nc = raw_connect(url);
    jsCtx *js = NULL;
    jsAccountInfo *ai = NULL;
    int ok = 0;

    if (!nc)
        return 0;
    if (natsConnection_JetStream(&js, nc, NULL) == NATS_OK &&
        js_GetAccountInfo(&ai, js, NULL, NULL) == NATS_OK)
        ok = 1;
    jsAccountInfo_Destroy(ai);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return ok;
}

/* nats-server -js on s->port (a new free port when 0), store in s->dir. 0 when ready. */
static int srv_start(struct srv *s)
{
    char port[16];

    if (!s->dir[0]) {
        snprintf(s->dir, sizeof s->dir, "%s/nats.XXXXXX", tmpdir);
        if (!mkdtemp(s->dir))
            return -1;
    }
    if (!s->port && (s->port = free_port()) < 0)
        return -1;
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(s->url, sizeof s->url, "nats://127.0.0.1:%d", s->port);
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
        execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1", "-p", port, "-sd",
               s->dir, (char *)NULL);
        _exit(127);
    }
    remember(s);
    for (long long until = now_ms() + T(10000); now_ms() < until; sleep_ms(20)) {
        int st;

        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        if (port_open(s->port) && js_ready(s->url))
            return 0;
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
    for (int i = 0; i < MAX_SRV; i++)
        if (servers[i] == s)
            servers[i] = NULL;
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------- stream contents */

struct held {
    size_t n;
    char subject[64];   /* of the last message */
    char id[128];       /* Nats-Msg-Id of the last message */
    int ok;             /* every message i is {"seq":first+i} with id gw:bms-1:first+i */
};

/* What `stream` holds; n = (size_t)-1 when it cannot be read. */
static struct held stream_holds(const char *url, const char *stream, uint64_t first)
{
    struct held h = {(size_t)-1, "", "", 0};
    natsConnection *nc = raw_connect(url);
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    char want[64], wid[64];

    if (!nc)
        return h;
    if (natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
        js_GetStreamInfo(&si, js, stream, NULL, NULL) != NATS_OK)
        goto out;
    h.n = 0;
    h.ok = 1;
    for (uint64_t seq = si->State.FirstSeq; si->State.Msgs && seq <= si->State.LastSeq;
         seq++) {
        natsMsg *m = NULL;
        const char *id = NULL;

        if (js_GetMsg(&m, js, stream, seq, NULL, NULL) != NATS_OK) {
            h.ok = 0;
            continue;
        }
        snprintf(want, sizeof want, "{\"seq\":%llu}", (unsigned long long)(first + h.n));
        snprintf(wid, sizeof wid, "gw:bms-1:%llu", (unsigned long long)(first + h.n));
        natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
        snprintf(h.subject, sizeof h.subject, "%s", natsMsg_GetSubject(m));
        snprintf(h.id, sizeof h.id, "%s", id ? id : "");
        if ((size_t)natsMsg_GetDataLength(m) != strlen(want) ||
            memcmp(natsMsg_GetData(m), want, strlen(want)) != 0 || !id ||
            strcmp(id, wid) != 0) {
            if (h.ok)
                printf("    message %zu: '%.*s' id %s, expected '%s' id %s\n", h.n,
                       natsMsg_GetDataLength(m), natsMsg_GetData(m), id ? id : "-", want,
                       wid);
            h.ok = 0;
        }
        h.n++;
        natsMsg_Destroy(m);
    }
out:
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return h;
}

/* A stream made by the test itself (limits the publisher must live with). */
static int make_stream(const char *url, const char *name, const char *subject, int64_t max_msgs)
{
    natsConnection *nc = raw_connect(url);
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsStreamConfig sc;
    const char *subjects[] = {subject};
    natsStatus s = NATS_ERR;

    if (!nc)
        return -1;
    jsStreamConfig_Init(&sc);
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_MemoryStorage;
    if (max_msgs > 0) {
        sc.MaxMsgs = max_msgs;
        sc.Discard = js_DiscardNew;
    }
    if (natsConnection_JetStream(&js, nc, NULL) == NATS_OK)
        s = js_AddStream(&si, js, &sc, NULL, NULL);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return s == NATS_OK ? 0 : -1;
}

/* ------------------------------------------------------------ the core */

static struct em_pub_conf base_conf(char *url, char *mode, char *stream)
{
    struct em_pub_conf c;

    memset(&c, 0, sizeof c);
    c.name = "test";
    c.type = "nats";
    c.url = url;
    c.mode = mode;
    c.stream = stream;
    c.datasets = EM_DS_BIT_PMS | EM_DS_BIT_MPPT | EM_DS_BIT_INVERTER | EM_DS_BIT_SITE;
    c.timeout_ms = 2000;
    c.window = 64;
    c.tls_verify = 1;
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

static long long slowest_call; /* the longest submit()/service() seen, ms */

static void timed_service(void *ctx)
{
    long long t0 = now_ms();

    pub->service(ctx);
    if (now_ms() - t0 > slowest_call)
        slowest_call = now_ms() - t0;
}

static int wait_up(void *ctx, int want, long long ms)
{
    for (long long until = now_ms() + T(ms); now_ms() < until; sleep_ms(2)) {
        timed_service(ctx);
        if (pub->up(ctx) == want)
            return 1;
    }
    return pub->up(ctx) == want;
}

static void serve_for(void *ctx, long long ms)
{
    for (long long until = now_ms() + T(ms); now_ms() < until; sleep_ms(2))
        timed_service(ctx);
}

/* Payload of token t: {"seq":t}, device bms-1. */
static struct em_pub_msg make_msg(uint64_t token, const char *dataset, char *buf, size_t len)
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
 * The core's loop: offer tokens [first, first+n) in order until every accepted
 * one has its verdict. Returns how many were accepted.
 */
static size_t publish_range(void *ctx, const char *dataset, uint64_t first, size_t n,
                            long long ms, unsigned *max_inflight)
{
    uint64_t next = first;
    char buf[64];

    if (max_inflight)
        *max_inflight = 0;
    for (long long until = now_ms() + T(ms); now_ms() < until;) {
        timed_service(ctx);
        while (next < first + n) {
            struct em_pub_msg m = make_msg(next, dataset, buf, sizeof buf);
            long long t0 = now_ms();
            enum em_pub_result r = pub->submit(ctx, &m);

            if (now_ms() - t0 > slowest_call)
                slowest_call = now_ms() - t0;
            if (r != EM_PUB_OK)
                break;
            next++;
            if (max_inflight && pub->inflight(ctx) > *max_inflight)
                *max_inflight = pub->inflight(ctx);
        }
        if (next == first + n && pub->inflight(ctx) == 0)
            break;
        sleep_ms(1);
    }
    return (size_t)(next - first);
}

/* Like publish_range, but every RETRY verdict is offered again (as the core does). */
static size_t deliver_all(void *ctx, struct core *k, uint64_t first, size_t n, long long ms)
{
    char buf[64];

    for (long long until = now_ms() + T(ms); now_ms() < until;) {
        size_t ok = 0;

        timed_service(ctx);
        for (uint64_t t = first; t < first + n; t++) {
            if (k->verdicts[t] && k->last[t] == EM_PUB_OK) {
                ok++;
                continue;
            }
            if (k->verdicts[t] && k->last[t] == EM_PUB_DROP)
                return 0;
            if (k->verdicts[t] == 0 && k->last[t] == (enum em_pub_result)-1)
                continue; /* in flight */
            {
                struct em_pub_msg m = make_msg(t, "pms", buf, sizeof buf);

                if (pub->submit(ctx, &m) != EM_PUB_OK)
                    break;
                k->verdicts[t] = 0;
                k->last[t] = (enum em_pub_result)-1;
            }
        }
        if (ok == n)
            return n;
        sleep_ms(2);
    }
    return 0;
}

/* ------------------------------------------------------------ the tests */

static struct srv shared;

static void test_registry(void)
{
    CHECK(em_publisher_find("nats") == &nats_publisher);
    CHECK_EQ_INT(nats_publisher.abi, EM_PUBLISHER_ABI);
    CHECK_STR(nats_publisher.name, "nats");
    CHECK(nats_publisher.create && nats_publisher.submit && nats_publisher.service &&
          nats_publisher.up && nats_publisher.inflight && nats_publisher.destroy);
}

static void test_puback(void)
{
    char why[128];
    static const char ok[] = "{\"stream\":\"monitoring\",\"seq\":12}";
    static const char dup[] = "{\"stream\":\"monitoring\",\"seq\":12,\"duplicate\":true}";
    static const char bad[] = "{\"error\":{\"code\":503,\"err_code\":10077,"
                              "\"description\":\"maximum messages exceeded\"}}";

    CHECK_EQ_INT(em_nats_puback(ok, strlen(ok), why, sizeof why), EM_PUB_OK);
    CHECK_EQ_INT(em_nats_puback(dup, strlen(dup), why, sizeof why), EM_PUB_OK);
    CHECK_EQ_INT(em_nats_puback(bad, strlen(bad), why, sizeof why), EM_PUB_RETRY);
    CHECK_STR(why, "maximum messages exceeded");
    CHECK_EQ_INT(em_nats_puback("{\"stream\":\"x\",\"seq\":0}", 22, why, sizeof why), EM_PUB_RETRY);
    CHECK_STR(why, "no PubAck");
    /* Not NUL-terminated: only len bytes are read. */
    CHECK_EQ_INT(em_nats_puback(ok, 8, why, sizeof why), EM_PUB_RETRY);
    CHECK_EQ_INT(em_nats_puback("{\"stream\":\"x\"}", 14, why, sizeof why), EM_PUB_RETRY);
    CHECK_EQ_INT(em_nats_puback("{\"seq\":", 7, why, sizeof why), EM_PUB_RETRY);
    CHECK_EQ_INT(em_nats_puback("", 0, NULL, 0), EM_PUB_RETRY);
    CHECK_EQ_INT(em_nats_puback(NULL, 0, why, sizeof why), EM_PUB_RETRY);
}

static void test_stream_subjects(void)
{
    char out[128];

    CHECK(em_nats_stream_subjects("monitoring.{dataset}", "gw", "s", out, sizeof out) > 0);
    CHECK_STR(out, "monitoring.*");
    CHECK(em_nats_stream_subjects("edge.{site}.{agent}.{dataset}.{id}", "gw", "s1", out,
                                  sizeof out) > 0);
    CHECK_STR(out, "edge.s1.gw.*.*");
    /* A variable inside a token cannot be matched by a stream. */
    CHECK_EQ_INT(em_nats_stream_subjects("edge.dev-{id}", "gw", "s", out, sizeof out), -1);
    CHECK_EQ_INT(errno, EINVAL);
    CHECK(em_nats_stream_subjects("fixed.subject", "gw", "s", out, sizeof out) > 0);
    CHECK_STR(out, "fixed.subject");
    CHECK(em_nats_stream_subjects("{dataset}", "gw", "s", out, sizeof out) > 0);
    CHECK_STR(out, "*");
    CHECK_EQ_INT(em_nats_stream_subjects("a.{nope}", "gw", "s", out, sizeof out), -1);
    CHECK_EQ_INT(errno, EINVAL);
    CHECK_EQ_INT(em_nats_stream_subjects("abcdefgh.{dataset}", "gw", "s", out, 8), -1);
    CHECK_EQ_INT(errno, ENAMETOOLONG);
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
    char url[] = "nats://127.0.0.1:1";
    char missing[PATH_MAX], secret[PATH_MAX];
    struct em_pub_conf c;
    char err[256];
    void *ctx;

    c = base_conf(NULL, NULL, NULL);
    CHECK(create_fails(&c, "url: missing"));
    c = base_conf(url, "queue", NULL);
    CHECK(create_fails(&c, "mode 'queue'"));
    c = base_conf(url, NULL, NULL);
    c.topic = "monitoring.{device}";
    CHECK(create_fails(&c, "topic 'monitoring.{device}' is not a usable subject template"));
    c.topic = "monitoring.*";
    CHECK(create_fails(&c, "topic 'monitoring.*'"));
    c.topic = "";
    CHECK(create_fails(&c, "topic ''"));
    c.topic = "monitoring.dev-{id}"; /* a stream cannot take it */
    CHECK(create_fails(&c, "topic 'monitoring.dev-{id}'"));
    c = base_conf(url, NULL, "a.b");
    CHECK(create_fails(&c, "stream 'a.b'"));
    c = base_conf(url, NULL, NULL);
    c.client_id = "x-{nope}";
    CHECK(create_fails(&c, "client_id"));
    c = base_conf(url, NULL, NULL);
    c.username = "u";
    CHECK(create_fails(&c, "username 'u' needs a password"));
    c = base_conf(url, NULL, NULL);
    c.password = "p";
    CHECK(create_fails(&c, "password needs a username"));
    snprintf(missing, sizeof missing, "%s/no-such-file", tmpdir);
    c = base_conf(url, NULL, NULL);
    c.username = "u";
    c.password_file = missing;
    CHECK(create_fails(&c, "password_file"));
    c = base_conf(url, NULL, NULL);
    c.ca_file = missing;
    CHECK(create_fails(&c, "ca_file"));
    c = base_conf(url, NULL, NULL);
    c.token_file = missing;
    CHECK(create_fails(&c, "token_file"));

    /* Good configs: nothing is reported before the first service(). */
    snprintf(secret, sizeof secret, "%s/secret", tmpdir);
    FILE *f = fopen(secret, "w");
    CHECK(f != NULL);
    fputs("pw\n", f);
    fclose(f);
    CHECK(chmod(secret, 0600) == 0);
    for (int i = 0; i < 4; i++) {
        c = base_conf(url, i % 2 ? "core" : NULL, i == 2 ? "other" : NULL);
        c.window = i == 3 ? 100000 : 0;
        c.timeout_ms = 0;
        if (i == 1) {
            c.username = "u";
            c.password_file = secret;
        }
        if (i == 2)
            c.token_file = secret;
        ctx = pub->create(&c, core_done, &k, err, sizeof err);
        if (!ctx)
            printf("    config %d: %s\n", i, err);
        CHECK(ctx != NULL);
        CHECK_EQ_INT(pub->up(ctx), 0);
        CHECK_EQ_INT(pub->inflight(ctx), 0);
        pub->destroy(ctx);
    }
    pub->destroy(NULL);
    CHECK_EQ_INT(k.ok + k.retry + k.drop + k.bad, 0);
}

/* JetStream: the stream is created; every message lands once with its id; PubAcks confirm. */
static void test_jetstream(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared.url, "jetstream", "js1");
    const size_t n = 1000;
    unsigned max_inflight = 0;
    struct held h;
    void *ctx;

    memset(&k, 0, sizeof k);
    c.topic = "js1.{dataset}";
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 5000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, n, 20000, &max_inflight), n);
    CHECK_EQ_INT(core_count(&k, 0, n, EM_PUB_OK), n);
    CHECK(core_once(&k));
    CHECK(max_inflight > 1 && max_inflight <= 64); /* pipelined, within the window */
    h = stream_holds(shared.url, "js1", 0);
    CHECK_EQ_INT(h.n, n);
    CHECK(h.ok);
    CHECK_STR(h.subject, "js1.pms");
    CHECK_STR(h.id, "gw:bms-1:999");

    /* Re-sends (after a crash) carry the same ids: confirmed, and stored once. */
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(publish_range(ctx, "pms", 500, 500, 20000, NULL), 500);
    CHECK_EQ_INT(core_count(&k, 500, 500, EM_PUB_OK), 500);
    h = stream_holds(shared.url, "js1", 0);
    CHECK_EQ_INT(h.n, n);
    CHECK(h.ok);

    /* An idle link stays up. */
    serve_for(ctx, 300);
    CHECK_EQ_INT(pub->up(ctx), 1);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    pub->destroy(ctx);
}

/* An existing stream is used as it is; one that refuses (limits) makes RETRY, not OK. */
static void test_stream_refuses(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared.url, NULL, "lim");
    struct held h;
    void *ctx;

    memset(&k, 0, sizeof k);
    CHECK(make_stream(shared.url, "lim", "lim.>", 5) == 0);
    c.topic = "lim.{dataset}";
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 5000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, 8, 10000, NULL), 8);
    CHECK_EQ_INT(core_count(&k, 0, 5, EM_PUB_OK), 5);
    CHECK_EQ_INT(core_count(&k, 5, 3, EM_PUB_RETRY), 3); /* maximum messages exceeded */
    CHECK(core_once(&k));
    h = stream_holds(shared.url, "lim", 0);
    CHECK_EQ_INT(h.n, 5);
    CHECK(h.ok);
    pub->destroy(ctx);
}

/* A stream that does not take the subject: no responders, RETRY, never OK. */
static void test_no_stream_for_subject(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared.url, NULL, "elsewhere");
    void *ctx;

    memset(&k, 0, sizeof k);
    CHECK(make_stream(shared.url, "elsewhere", "elsewhere.>", 0) == 0);
    c.topic = "nowhere.{dataset}";
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 5000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, 3, 10000, NULL), 3);
    CHECK_EQ_INT(core_count(&k, 0, 3, EM_PUB_RETRY), 3);
    CHECK_EQ_INT(k.ok, 0);
    pub->destroy(ctx);
}

/* Core NATS: a subscriber gets every message in order; the markers confirm them. */
static void test_core_mode(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared.url, "core", NULL);
    natsConnection *nc = raw_connect(shared.url);
    natsSubscription *sub = NULL;
    const size_t n = 500;
    char want[64];
    void *ctx;

    memset(&k, 0, sizeof k);
    CHECK(nc != NULL);
    CHECK(natsConnection_SubscribeSync(&sub, nc, "core.>") == NATS_OK);
    CHECK(natsConnection_FlushTimeout(nc, 2000) == NATS_OK);
    c.topic = "core.{dataset}.{id}";
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 5000));
    CHECK_EQ_INT(publish_range(ctx, "mppt", 0, n, 20000, NULL), n);
    CHECK_EQ_INT(core_count(&k, 0, n, EM_PUB_OK), n);
    CHECK(core_once(&k));
    for (size_t i = 0; i < n; i++) {
        natsMsg *m = NULL;

        CHECK(natsSubscription_NextMsg(&m, sub, 2000) == NATS_OK);
        snprintf(want, sizeof want, "{\"seq\":%zu}", i);
        CHECK_STR(natsMsg_GetSubject(m), "core.mppt.bms-1");
        CHECK((size_t)natsMsg_GetDataLength(m) == strlen(want) &&
              memcmp(natsMsg_GetData(m), want, strlen(want)) == 0);
        natsMsg_Destroy(m);
    }
    pub->destroy(ctx);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
}

/* Core NATS, the server gone with messages in flight: each one RETRY (or OK), none hangs. */
static void test_core_server_killed(void)
{
    static struct core k;
    static struct srv s;
    struct em_pub_conf c;
    char buf[64];
    uint64_t t = 0;
    void *ctx;

    memset(&k, 0, sizeof k);
    memset(&s, 0, sizeof s);
    CHECK(srv_start(&s) == 0);
    c = base_conf(s.url, "core", NULL);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 5000));
    while (t < 64) {
        struct em_pub_msg m = make_msg(t, "pms", buf, sizeof buf);

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
        t++;
    }
    CHECK_EQ_INT(pub->inflight(ctx), 64); /* no marker sent yet: service() sends it */
    srv_stop(&s, SIGKILL);
    CHECK(wait_up(ctx, 0, 5000));
    serve_for(ctx, 100);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK_EQ_INT(core_count(&k, 0, 64, EM_PUB_RETRY), 64);
    CHECK(core_once(&k));
    pub->destroy(ctx);
    srv_destroy(&s);
}

/* Down at create: not up, submit refuses; the server comes: up, and it delivers. */
static void test_down_at_create(void)
{
    static struct core k;
    static struct srv s;
    struct em_pub_conf c;
    char buf[64];
    void *ctx;

    memset(&k, 0, sizeof k);
    memset(&s, 0, sizeof s);
    CHECK((s.port = free_port()) > 0);
    snprintf(s.url, sizeof s.url, "nats://127.0.0.1:%d", s.port);
    c = base_conf(s.url, NULL, NULL);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    serve_for(ctx, 500);
    CHECK_EQ_INT(pub->up(ctx), 0);
    {
        struct em_pub_msg m = make_msg(0, "pms", buf, sizeof buf);

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_RETRY);
    }
    CHECK(srv_start(&s) == 0);
    CHECK(wait_up(ctx, 1, 10000));
    CHECK_EQ_INT(publish_range(ctx, "pms", 0, 10, 10000, NULL), 10);
    CHECK_EQ_INT(core_count(&k, 0, 10, EM_PUB_OK), 10);
    CHECK_EQ_INT(stream_holds(s.url, "monitoring", 0).n, 10);
    pub->destroy(ctx);
    srv_destroy(&s);
}

/*
 * The server killed with messages in flight, away for a while, then back on the same
 * port with the same store: every message is confirmed in the end, and the stream
 * holds each seq exactly once (re-sends de-duplicated by Nats-Msg-Id).
 */
static void test_server_restart(void)
{
    static struct core k;
    static struct srv s;
    struct em_pub_conf c;
    const size_t n = 3000;
    struct held h;
    char buf[64];
    void *ctx;
    uint64_t next = 0;

    memset(&k, 0, sizeof k);
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < MAX_TOKENS; i++)
        k.last[i] = EM_PUB_OK;
    CHECK(srv_start(&s) == 0);
    c = base_conf(s.url, NULL, NULL);
    c.window = 256;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 5000));
    /* Fill the window, then kill the server before the PubAcks are all in. */
    while (next < 600) {
        struct em_pub_msg m = make_msg(next, "pms", buf, sizeof buf);

        if (pub->submit(ctx, &m) != EM_PUB_OK) {
            timed_service(ctx);
            continue;
        }
        k.last[next] = (enum em_pub_result)-1;
        next++;
    }
    srv_stop(&s, SIGKILL);
    CHECK(wait_up(ctx, 0, 5000));
    serve_for(ctx, 300);
    CHECK_EQ_INT(pub->inflight(ctx), 0); /* all given back (RETRY) or confirmed */
    CHECK_EQ_INT(k.ok + k.retry, 600);
    printf("    at the kill: %zu confirmed, %zu given back\n", k.ok, k.retry);
    CHECK(k.retry > 0); /* or the test proved nothing */
    CHECK(core_once(&k));
    {
        struct em_pub_msg m = make_msg(next, "pms", buf, sizeof buf);

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_RETRY);
    }
    sleep_ms(1000);
    CHECK(srv_start(&s) == 0);
    CHECK(wait_up(ctx, 1, 10000));
    /* The core re-sends every RETRY and the rest. */
    for (size_t t = 0; t < n; t++) {
        if (!(k.verdicts[t] && k.last[t] == EM_PUB_OK)) {
            k.verdicts[t] = 1;
            k.last[t] = EM_PUB_RETRY;
        }
    }
    CHECK_EQ_INT(deliver_all(ctx, &k, 0, n, 30000), n);
    h = stream_holds(s.url, "monitoring", 0);
    CHECK_EQ_INT(h.n, n);
    CHECK(h.ok);
    pub->destroy(ctx);
    srv_destroy(&s);
}

/* A stalled server (SIGSTOP): no PubAck, RETRY after timeout_ms, no call blocks. */
static void test_stalled_server(void)
{
    static struct core k;
    static struct srv s;
    struct em_pub_conf c;
    long long t0;
    void *ctx;
    char buf[64];

    memset(&k, 0, sizeof k);
    memset(&s, 0, sizeof s);
    CHECK(srv_start(&s) == 0);
    c = base_conf(s.url, NULL, NULL);
    c.timeout_ms = 500;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 5000));
    kill(s.pid, SIGSTOP);
    slowest_call = 0;
    t0 = now_ms();
    for (uint64_t t = 0; t < 10; t++) {
        struct em_pub_msg m = make_msg(t, "pms", buf, sizeof buf);

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
    }
    while (k.retry < 10 && now_ms() - t0 < T(5000))
        serve_for(ctx, 10);
    CHECK_EQ_INT(core_count(&k, 0, 10, EM_PUB_RETRY), 10);
    CHECK(now_ms() - t0 >= 450); /* not before the timeout */
    CHECK(slowest_call < T(500));
    kill(s.pid, SIGCONT);
    pub->destroy(ctx);
    srv_destroy(&s);
}

/* destroy() with messages in flight: no verdict afterwards, nothing left behind. */
static void test_destroy_in_flight(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(shared.url, NULL, "js1");
    char buf[64];
    size_t before;
    void *ctx;

    memset(&k, 0, sizeof k);
    c.topic = "js1.{dataset}";
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, 5000));
    for (uint64_t t = 0; t < 50; t++) {
        struct em_pub_msg m = make_msg(2000 + t, "pms", buf, sizeof buf);

        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
    }
    before = k.ok + k.retry + k.drop;
    pub->destroy(ctx);
    sleep_ms(200);
    CHECK_EQ_INT(k.ok + k.retry + k.drop, before);

    /* Destroyed while the first connect is still pending (a black-holed address). */
    char blackhole[] = "nats://10.255.255.1:4222";
    c = base_conf(blackhole, NULL, NULL);
    c.timeout_ms = 300;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    serve_for(ctx, 50);
    CHECK_EQ_INT(pub->up(ctx), 0);
    pub->destroy(ctx);
}

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
    for (int i = 0; i < MAX_SRV; i++)
        if (servers[i])
            srv_stop(servers[i], SIGKILL);
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
    long long t0 = now_ms();

    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, watchdog);
    snprintf(tmpdir, sizeof tmpdir, "%s/edgemon-nats.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    atexit(cleanup);

    RUN_T(test_registry);
    RUN_T(test_puback);
    RUN_T(test_stream_subjects);
    RUN_T(test_create_errors);
    if (srv_start(&shared) < 0) {
        printf("FAIL setup: cannot start nats-server -js (tests/deps.sh installs it)\n");
        return 1;
    }
    RUN_T(test_jetstream);
    RUN_T(test_stream_refuses);
    RUN_T(test_no_stream_for_subject);
    RUN_T(test_core_mode);
    RUN_T(test_destroy_in_flight);
    RUN_T(test_down_at_create);
    RUN_T(test_core_server_killed);
    RUN_T(test_server_restart);
    RUN_T(test_stalled_server);
    srv_destroy(&shared);
    nats_Close();
    printf("    (%lld ms)\n", now_ms() - t0);
    DONE();
}
