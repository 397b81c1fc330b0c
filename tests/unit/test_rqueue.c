/* test_rqueue.c - tests of the Redis stream queue against real redis-server processes.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Each server runs on a free 127.0.0.1 port in its own mkdtemp directory and is
 * stopped by its PID. Every test uses its own agent id, so tests sharing a server
 * never see each other's keys.
 */
#include "harness.h"
#include "rqueue.h"
#include "testutil.h"

#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define TIMEOUT_MS 300

struct srv {
    pid_t pid;
    int port;
    char dir[64];
    int in_use;
};

static struct srv shared; /* tests without faults */
static struct srv own[2]; /* per-test servers, stopped after each test */

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

static redisContext *raw_connect(const struct srv *s)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);

    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c) {
        redisSetTimeout(c, tv);
    }
    return c;
}

/* Runs one command on a fresh connection; returns its integer (or -1). */
static long long raw_int(const struct srv *s, const char *fmt, const char *arg)
{
    redisContext *c = raw_connect(s);
    redisReply *r;
    long long v = -1;

    if (!c) {
        return -1;
    }
    if ((r = redisCommand(c, fmt, arg))) {
        if (r->type == REDIS_REPLY_INTEGER) {
            v = r->integer;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return v;
}

/* Starts redis-server on s->port (a new free port when 0) in s->dir (new when ""). */
static int srv_start(struct srv *s, const char *appendonly, const char *const *extra)
{
    char port[16], log[96];
    long long deadline;
    const char *argv[32];
    int n = 0, i;

    if (!s->dir[0]) {
        snprintf(s->dir, sizeof(s->dir), "/tmp/em-rqueue.XXXXXX");
        if (!mkdtemp(s->dir)) {
            return -1;
        }
    }
    if (!s->port && (s->port = free_port()) < 0) {
        return -1;
    }
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(log, sizeof(log), "%s/redis.log", s->dir);
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
    argv[n++] = appendonly;
    argv[n++] = "--logfile";
    argv[n++] = log;
    for (i = 0; extra && extra[i] && n < 31; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    if ((s->pid = fork()) < 0) {
        return -1;
    }
    if (s->pid == 0) {
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    s->in_use = 1;
    deadline = now_ms() + 5000;
    while (now_ms() < deadline) {
        redisContext *c;
        int st;

        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->in_use = 0;
            return -1;
        }
        if ((c = raw_connect(s))) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r != NULL; /* PONG, or NOAUTH with requirepass */

            if (r) {
                freeReplyObject(r);
            }
            redisFree(c);
            if (ok) {
                return 0;
            }
        }
        sleep_ms(20);
    }
    return -1;
}

/* Stops the server by PID: SIGCONT (it may be stopped), SIGTERM, SIGKILL after 5 s. */
static void srv_kill(struct srv *s, int sig)
{
    long long deadline = now_ms() + 5000;
    int st;

    if (!s->in_use) {
        return;
    }
    kill(s->pid, SIGCONT);
    kill(s->pid, sig);
    while (waitpid(s->pid, &st, WNOHANG) != s->pid) {
        if (now_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            break;
        }
        sleep_ms(10);
    }
    s->in_use = 0;
}

static void srv_destroy(struct srv *s)
{
    srv_kill(s, SIGTERM);
    if (s->dir[0]) {
        rm_rf(s->dir);
    }
    memset(s, 0, sizeof(*s));
}

static struct em_rqueue *open_q(const struct srv *s, const char *agent,
                                const char *const *pubs, size_t npub, long max_messages,
                                long max_age_s)
{
    char url[64], err[128];
    struct em_rqueue_conf conf;
    struct em_rqueue *q;

    snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", s->port);
    memset(&conf, 0, sizeof(conf));
    conf.url = url;
    conf.agent = agent;
    conf.publishers = pubs;
    conf.npub = npub;
    conf.max_messages = max_messages;
    conf.max_age_s = max_age_s;
    conf.timeout_ms = TIMEOUT_MS;
    q = em_rqueue_open(&conf, err, sizeof(err));
    if (!q) {
        printf("    open: %s\n", err);
    }
    return q;
}

/*
 * Message i: "seq=<i>", a NUL, then filler up to len bytes, so binary safety is
 * checked on every entry (the NUL and the 0xff filler must survive).
 */
static size_t make_msg(char *buf, size_t cap, long seq, size_t len)
{
    size_t n = (size_t)snprintf(buf, cap, "seq=%ld", seq) + 1;

    if (len < n) {
        len = n;
    }
    memset(buf + n, 0xff, len - n);
    return len;
}

static long msg_seq(const struct em_rq_entry *e)
{
    const char *d = e->data;
    size_t n;

    if (e->len < 5 || memcmp(d, "seq=", 4) != 0) {
        return -1;
    }
    n = strlen(d) + 1;
    for (; n < e->len; n++) {
        if ((unsigned char)d[n] != 0xff) {
            return -2;
        }
    }
    return strtol(d + 4, NULL, 10);
}

/* Pushes seq from..to-1, `batch` per call, each with ts = 1000 + seq. */
static int push_range(struct em_rqueue *q, long from, long to, size_t batch, size_t len)
{
    static char bufs[300][1100];
    struct em_rq_item it[300];
    long s = from;

    if (batch > 300 || len > 1000) {
        return -1;
    }
    while (s < to) {
        size_t k = 0;

        for (; k < batch && s < to; k++, s++) {
            it[k].data = bufs[k];
            it[k].len = make_msg(bufs[k], sizeof(bufs[k]), s, len);
            it[k].ts_ms = 1000 + s;
        }
        if (em_rqueue_push(q, it, k) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Reads everything for pub (acking when asked), appending seqs to out. Returns count. */
static long drain(struct em_rqueue *q, size_t pub, long *out, long cap, int ack,
                  size_t per)
{
    struct em_rq_entry e[128];
    long n = 0;
    int got, i;

    while ((got = em_rqueue_read(q, pub, e, per)) > 0) {
        for (i = 0; i < got; i++) {
            if (n < cap) {
                out[n] = msg_seq(&e[i]);
            }
            n++;
        }
        if (ack && em_rqueue_ack(q, pub, e, (size_t)got) < 0) {
            return -1;
        }
    }
    return got < 0 ? -1 : n;
}

static void test_open_and_url(void)
{
    static const char *const pubs[] = {"a", "b"};
    static const char *const dup[] = {"a", "a"};
    struct em_rqueue_conf conf;
    struct em_rq_conn ci;
    struct em_rqueue *q;
    char err[128];
    size_t i;
    static const char *const good[] = {
        NULL,
        "redis://127.0.0.1",
        "redis://localhost:6380/3",
        "redis://:p%40ss%2Fw@host:1/0",
        "redis://user:pw@[::1]:6379/1",
        "unix:///run/redis.sock",
        "unix:///run/redis.sock?db=4",
    };
    static const char *const bad[] = {
        "http://x",        "redis://",        "redis://h:0",  "redis://h:99999",
        "redis://h/x",     "redis://h:12x",   "redis://pw@h", "redis://:%4@h",
        "unix://relative", "unix:///s?foo=1", "redis://[::1",
    };

    memset(&conf, 0, sizeof(conf));
    conf.agent = "gw";
    conf.publishers = pubs;
    conf.npub = 2;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        conf.url = good[i];
        q = em_rqueue_open(&conf, err, sizeof(err));
        CHECK(q != NULL);
        /* Lazy: open never touches the network. */
        em_rqueue_conn(q, &ci);
        CHECK_EQ_INT(ci.attempts, 0);
        CHECK_EQ_INT(em_rqueue_up(q), 0);
        CHECK_EQ_INT(em_rqueue_npub(q), 2);
        CHECK_STR(em_rqueue_pub_name(q, 1), "b");
        CHECK(em_rqueue_pub_name(q, 2) == NULL);
        em_rqueue_close(q);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        conf.url = bad[i];
        errno = 0;
        q = em_rqueue_open(&conf, err, sizeof(err));
        if (q) {
            printf("    accepted bad url %s\n", bad[i]);
        }
        CHECK(q == NULL);
        CHECK_EQ_INT(errno, EINVAL);
    }
    conf.url = NULL;
    conf.publishers = dup;
    CHECK(em_rqueue_open(&conf, err, sizeof(err)) == NULL);
    conf.publishers = pubs;
    conf.agent = "";
    CHECK(em_rqueue_open(&conf, NULL, 0) == NULL);
    CHECK_STR(em_rqueue_reason_name(EM_RQ_DROP_REDIS_OOM), "redis_oom");
    CHECK_STR(em_rqueue_reason_name(EM_RQ_DROP_MAX_AGE), "max_age");
    CHECK_STR(em_rqueue_reason_name(EM_RQ_DROP_MAX_MESSAGES), "max_messages");
    em_rqueue_close(NULL);
}

static void test_two_publishers_drain_independently(void)
{
    static const char *const pubs[] = {"mqtt", "kube mq"}; /* a space in a name too */
    struct em_rqueue *q = open_q(&shared, "t-two", pubs, 2, 0, 0);
    struct em_rq_entry e[16];
    struct em_rq_stats st;
    long seqs[32];
    int n, i;

    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 10, 3, 600), 0);
    CHECK_EQ_INT(em_rqueue_up(q), 1);
    /* The layout the README documents. */
    CHECK_EQ_INT(raw_int(&shared, "XLEN %s", "edgemon:t-two:q:mqtt"), 10);
    CHECK_EQ_INT(raw_int(&shared, "XLEN %s", "edgemon:t-two:q:kube mq"), 10);

    n = em_rqueue_read(q, 0, e, 4);
    CHECK_EQ_INT(n, 4);
    for (i = 0; i < 4; i++) {
        CHECK_EQ_INT(msg_seq(&e[i]), i);
        CHECK_EQ_INT(e[i].len, 600);
        CHECK_EQ_INT(e[i].ts_ms, 1000 + i);
    }
    CHECK(e[0].id_ms < e[3].id_ms ||
          (e[0].id_ms == e[3].id_ms && e[0].id_seq < e[3].id_seq));
    CHECK_EQ_INT(em_rqueue_ack(q, 0, e, 4), 0);
    /* Publisher 1 reads everything and confirms nothing (its broker is down). */
    n = em_rqueue_read(q, 1, e, 16);
    CHECK_EQ_INT(n, 10);
    CHECK_EQ_INT(msg_seq(&e[9]), 9);

    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 6);
    CHECK_EQ_INT(st.inflight, 0);
    CHECK_EQ_INT(em_rqueue_stats(q, 1, &st), 0);
    CHECK_EQ_INT(st.pending, 10);
    CHECK_EQ_INT(st.inflight, 10);
    CHECK_EQ_INT(st.dropped[0] + st.dropped[1] + st.dropped[2], 0);
    CHECK(st.oldest_age_s >= 0 && st.oldest_age_s < 5);

    /* Publisher 0 keeps draining while publisher 1 is stuck. */
    CHECK_EQ_INT(drain(q, 0, seqs, 32, 1, 4), 6);
    for (i = 0; i < 6; i++) {
        CHECK_EQ_INT(seqs[i], 4 + i);
    }
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 0);
    CHECK_EQ_INT(raw_int(&shared, "XLEN %s", "edgemon:t-two:q:mqtt"), 0);
    /* Nothing new for publisher 1 until it rewinds; then the same 10 again. */
    CHECK_EQ_INT(em_rqueue_read(q, 1, e, 16), 0);
    CHECK_EQ_INT(em_rqueue_rewind(q, 1), 0);
    CHECK_EQ_INT(drain(q, 1, seqs, 32, 1, 7), 10);
    for (i = 0; i < 10; i++) {
        CHECK_EQ_INT(seqs[i], i);
    }
    CHECK_EQ_INT(em_rqueue_stats(q, 1, &st), 0);
    CHECK_EQ_INT(st.pending, 0);
    CHECK_EQ_INT(st.inflight, 0);
    CHECK_EQ_INT(em_rqueue_rewind(q, 2), -1);
    CHECK_EQ_INT(em_rqueue_read(q, 2, e, 1), -1);
    em_rqueue_close(q);
}

static void test_restart_redelivers_pending_first(void)
{
    static const char *const pubs[] = {"up"};
    struct em_rqueue *q = open_q(&shared, "t-restart", pubs, 1, 0, 0);
    struct em_rq_entry e[8];
    long seqs[32];
    int i;

    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 12, 12, 50), 0);
    CHECK_EQ_INT(em_rqueue_read(q, 0, e, 3), 3);
    CHECK_EQ_INT(em_rqueue_read(q, 0, e + 3, 3), 3);
    /* 0..5 delivered; confirm 0 and 1 only. */
    CHECK_EQ_INT(em_rqueue_ack(q, 0, e, 2), 0);
    em_rqueue_close(q);

    q = open_q(&shared, "t-restart", pubs, 1, 0, 0);
    CHECK(q != NULL);
    /* First the pending 2..5 (in order, in pages of 3), then the new 6..11. */
    CHECK_EQ_INT(drain(q, 0, seqs, 32, 0, 3), 10);
    for (i = 0; i < 10; i++) {
        CHECK_EQ_INT(seqs[i], 2 + i);
    }
    em_rqueue_close(q);

    q = open_q(&shared, "t-restart", pubs, 1, 0, 0);
    CHECK(q != NULL);
    CHECK_EQ_INT(drain(q, 0, seqs, 32, 1, 5), 10);
    CHECK_EQ_INT(seqs[0], 2);
    CHECK_EQ_INT(seqs[9], 11);
    CHECK_EQ_INT(raw_int(&shared, "XLEN %s", "edgemon:t-restart:q:up"), 0);
    em_rqueue_close(q);
}

static void test_max_messages_counts_exactly(void)
{
    static const char *const pubs[] = {"p1", "p2"};
    struct em_rqueue *q = open_q(&shared, "t-max", pubs, 2, 100, 0);
    struct em_rq_entry e[16];
    struct em_rq_stats st;
    long seqs[300];
    int i;

    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 250, 7, 100), 0);
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 100);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_MESSAGES], 150);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_AGE], 0);
    /* p1 reads 10 (150..159) and does not confirm them; p2 drains 40. */
    CHECK_EQ_INT(em_rqueue_read(q, 0, e, 10), 10);
    CHECK_EQ_INT(msg_seq(&e[0]), 150);
    for (i = 0; i < 4; i++) {
        CHECK_EQ_INT(em_rqueue_read(q, 1, e, 10), 10);
        CHECK_EQ_INT(em_rqueue_ack(q, 1, e, 10), 0);
    }
    /* 50 more: p1 loses 150..199 (its 10 pending included), p2 only 190..199. */
    CHECK_EQ_INT(push_range(q, 250, 300, 300, 100), 0);
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 100);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_MESSAGES], 200);
    CHECK_EQ_INT(em_rqueue_stats(q, 1, &st), 0);
    CHECK_EQ_INT(st.pending, 100);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_MESSAGES], 150 + 10);
    /* The drop counter equals the gap: p1 resumes at 200, trimmed pending skipped. */
    CHECK_EQ_INT(em_rqueue_rewind(q, 0), 0);
    CHECK_EQ_INT(drain(q, 0, seqs, 300, 1, 16), 100);
    for (i = 0; i < 100; i++) {
        CHECK_EQ_INT(seqs[i], 200 + i);
    }
    CHECK_EQ_INT(drain(q, 1, seqs, 300, 1, 16), 100);
    CHECK_EQ_INT(seqs[0], 200);
    CHECK_EQ_INT(seqs[99], 299);
    em_rqueue_close(q);

    /* The counts live in Redis and survive a restart of the agent. */
    q = open_q(&shared, "t-max", pubs, 2, 100, 0);
    CHECK(q != NULL);
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_MESSAGES], 200);
    CHECK_EQ_INT(st.pending, 0);
    em_rqueue_close(q);
}

static void test_many_trimmed_pending_are_skipped(void)
{
    static const char *const pubs[] = {"slow"};
    struct em_rqueue *q = open_q(&shared, "t-skip", pubs, 1, 100, 0);
    struct em_rq_entry e[64];
    struct em_rq_stats st;
    int i;

    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 100, 100, 10), 0);
    /* 60 handed to the broker, never confirmed; then all of them trimmed. */
    CHECK_EQ_INT(em_rqueue_read(q, 0, e, 60), 60);
    CHECK_EQ_INT(push_range(q, 100, 200, 100, 10), 0);
    CHECK_EQ_INT(em_rqueue_rewind(q, 0), 0);
    /* Pages of 2: 30 pages of trimmed ids are walked in one call. */
    CHECK_EQ_INT(em_rqueue_read(q, 0, e, 2), 2);
    CHECK_EQ_INT(msg_seq(&e[0]), 100);
    CHECK_EQ_INT(msg_seq(&e[1]), 101);
    /* The trimmed ids left the PEL: only the 2 just read are in flight. */
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.inflight, 2);
    CHECK_EQ_INT(st.pending, 100);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_MESSAGES], 100);
    for (i = 0; i < 2; i++) {
        CHECK_EQ_INT(e[i].ts_ms, 1100 + i);
    }
    em_rqueue_close(q);
}

static void test_max_age_trims_by_minid(void)
{
    static const char *const pubs[] = {"old"};
    struct em_rqueue *q = open_q(&shared, "t-age", pubs, 1, 0, 1);
    struct em_rq_stats st;
    long seqs[16];

    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 5, 5, 20), 0);
    sleep_ms(1300);
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 5);
    CHECK(st.oldest_age_s >= 1 && st.oldest_age_s <= 3);
    /* The next push trims what is older than max_age_s before it. */
    CHECK_EQ_INT(push_range(q, 5, 8, 3, 20), 0);
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 3);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_AGE], 5);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_MESSAGES], 0);
    CHECK_EQ_INT(drain(q, 0, seqs, 16, 0, 16), 3);
    CHECK_EQ_INT(seqs[0], 5);
    /* With no pushes at all, the service timer trims (read but unacked ones too). */
    sleep_ms(1300);
    CHECK_EQ_INT(em_rqueue_service(q), EM_RQ_EV_NONE);
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 0);
    CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_AGE], 8);
    CHECK_EQ_INT(em_rqueue_rewind(q, 0), 0);
    CHECK_EQ_INT(drain(q, 0, seqs, 16, 1, 16), 0);
    em_rqueue_close(q);
}

static void test_discover_for_inspection(void)
{
    static const char *const pubs[] = {"zeta", "alpha"};
    struct em_rqueue *q = open_q(&shared, "t-disc*", pubs, 2, 3, 0);
    struct em_rq_stats st;
    size_t i;

    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 5, 5, 20), 0);
    em_rqueue_close(q);
    /* A stream of another agent whose id the glob would match without escaping. */
    CHECK_EQ_INT(raw_int(&shared, "XADD %s * m x", "edgemon:t-discX:q:other") < 0, 1);
    CHECK_EQ_INT(raw_int(&shared, "XLEN %s", "edgemon:t-discX:q:other"), 1);

    /* `edgemon queue`: no publishers given, find them, read stats, write nothing. */
    q = open_q(&shared, "t-disc*", NULL, 0, 0, 0);
    CHECK(q != NULL);
    CHECK_EQ_INT(em_rqueue_discover(q), 2);
    CHECK_STR(em_rqueue_pub_name(q, 0), "alpha");
    CHECK_STR(em_rqueue_pub_name(q, 1), "zeta");
    for (i = 0; i < 2; i++) {
        CHECK_EQ_INT(em_rqueue_stats(q, i, &st), 0);
        CHECK_EQ_INT(st.pending, 3);
        CHECK_EQ_INT(st.dropped[EM_RQ_DROP_MAX_MESSAGES], 2);
    }
    CHECK_EQ_INT(em_rqueue_discover(q), 2);
    /* Pushing with no configured publishers stores nothing. */
    CHECK_EQ_INT(push_range(q, 0, 1, 1, 20), 0);
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 3);
    em_rqueue_close(q);
}

static void test_unix_socket_and_db(void)
{
    static const char *const pubs[] = {"u"};
    struct em_rqueue_conf conf;
    struct em_rq_entry e[2];
    struct em_rqueue *q;
    char url[128], err[128];
    redisContext *c;
    redisReply *r;

    snprintf(url, sizeof(url), "unix://%s/redis.sock?db=3", shared.dir);
    memset(&conf, 0, sizeof(conf));
    conf.url = url;
    conf.agent = "t-unix";
    conf.publishers = pubs;
    conf.npub = 1;
    q = em_rqueue_open(&conf, err, sizeof(err));
    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 7, 8, 1, 10), 0);
    CHECK_EQ_INT(em_rqueue_read(q, 0, e, 2), 1);
    CHECK_EQ_INT(msg_seq(&e[0]), 7);
    em_rqueue_close(q);
    /* The entry went to db 3, not db 0. */
    CHECK_EQ_INT(raw_int(&shared, "XLEN %s", "edgemon:t-unix:q:u"), 0);
    CHECK((c = raw_connect(&shared)) != NULL);
    r = redisCommand(c, "SELECT 3");
    if (r) {
        freeReplyObject(r);
    }
    r = redisCommand(c, "XLEN edgemon:t-unix:q:u");
    CHECK(r != NULL);
    CHECK_EQ_INT(r->integer, 1);
    freeReplyObject(r);
    redisFree(c);
}

static void test_auth(void)
{
    static const char *const extra[] = {"--requirepass", "s3cr@t/pw", NULL};
    static const char *const pubs[] = {"a"};
    struct em_rqueue_conf conf;
    struct em_rq_conn ci;
    struct em_rqueue *q;
    char url[128], err[128];

    CHECK_EQ_INT(srv_start(&own[0], "no", extra), 0);
    memset(&conf, 0, sizeof(conf));
    conf.agent = "t-auth";
    conf.publishers = pubs;
    conf.npub = 1;
    conf.timeout_ms = TIMEOUT_MS;
    conf.url = url;
    snprintf(url, sizeof(url), "redis://:s3cr%%40t%%2Fpw@127.0.0.1:%d/1", own[0].port);
    q = em_rqueue_open(&conf, err, sizeof(err));
    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 2, 2, 10), 0);
    em_rqueue_close(q);

    snprintf(url, sizeof(url), "redis://:wrong@127.0.0.1:%d/1", own[0].port);
    q = em_rqueue_open(&conf, err, sizeof(err));
    CHECK(q != NULL);
    errno = 0;
    CHECK_EQ_INT(push_range(q, 0, 1, 1, 10), -1);
    CHECK_EQ_INT(errno, EACCES);
    em_rqueue_conn(q, &ci);
    CHECK(strstr(ci.last_error, "WRONGPASS") != NULL ||
          strstr(ci.last_error, "invalid") != NULL);
    CHECK_EQ_INT(ci.up, 0);
    em_rqueue_close(q);

    /* The password may also come from a file (conf.password beats the URL). */
    snprintf(url, sizeof(url), "redis://:wrong@127.0.0.1:%d/1", own[0].port);
    conf.password = "s3cr@t/pw";
    q = em_rqueue_open(&conf, err, sizeof(err));
    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 1, 1, 10), 0);
    em_rqueue_close(q);
}

/* Calls service until it reports an event or the deadline passes. */
static enum em_rq_event wait_event(struct em_rqueue *q, long ms)
{
    long long deadline = now_ms() + ms;
    enum em_rq_event ev;

    while ((ev = em_rqueue_service(q)) == EM_RQ_EV_NONE && now_ms() < deadline) {
        sleep_ms(20);
    }
    return ev;
}

static void test_redis_down_then_back(void)
{
    static const char *const pubs[] = {"a", "b"};
    struct em_rq_entry e[8];
    struct em_rq_conn ci;
    struct em_rqueue *q;
    long long t0, dt;
    unsigned long attempts;
    long seqs[32];
    int i, rc;

    CHECK_EQ_INT(srv_start(&own[0], "yes", NULL), 0);
    q = open_q(&own[0], "t-down", pubs, 2, 0, 0);
    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 5, 5, 100), 0);
    CHECK_EQ_INT(em_rqueue_read(q, 0, e, 2), 2); /* 0, 1 in flight for a */
    CHECK_EQ_INT(em_rqueue_service(q), EM_RQ_EV_NONE);

    /* A crash: kill by PID; with appendonly yes nothing acknowledged is lost. */
    srv_kill(&own[0], SIGKILL);
    t0 = now_ms();
    rc = push_range(q, 5, 6, 1, 100);
    dt = now_ms() - t0;
    CHECK_EQ_INT(rc, -1);
    CHECK(dt < 2 * TIMEOUT_MS);
    CHECK_EQ_INT(em_rqueue_up(q), 0);
    CHECK_EQ_INT(em_rqueue_service(q), EM_RQ_EV_DOWN);
    CHECK_EQ_INT(em_rqueue_service(q), EM_RQ_EV_NONE);

    /* While the backoff runs, calls fail at once without touching the network. */
    em_rqueue_conn(q, &ci);
    attempts = ci.attempts;
    CHECK(ci.backoff_ms >= 100);
    t0 = now_ms();
    errno = 0;
    CHECK_EQ_INT(push_range(q, 5, 6, 1, 100), -1);
    CHECK_EQ_INT(errno, ENOTCONN);
    CHECK_EQ_INT(em_rqueue_read(q, 1, e, 8), -1);
    CHECK(now_ms() - t0 < 50);
    em_rqueue_conn(q, &ci);
    CHECK_EQ_INT(ci.attempts, attempts);

    /* Hammering for 1.2 s costs a handful of spaced attempts (100, 200, 400 ms...). */
    t0 = now_ms();
    while (now_ms() - t0 < 1200) {
        (void)push_range(q, 5, 6, 1, 100);
        (void)em_rqueue_service(q);
        sleep_ms(2);
    }
    em_rqueue_conn(q, &ci);
    CHECK(ci.attempts - attempts >= 2 && ci.attempts - attempts <= 5);
    CHECK(ci.backoff_ms >= 800 && ci.backoff_ms <= 5000);
    CHECK_EQ_INT(em_rqueue_service(q), EM_RQ_EV_NONE);

    /* Same port, same dir: the AOF brings back entries, group and PEL. */
    CHECK_EQ_INT(srv_start(&own[0], "yes", NULL), 0);
    CHECK_EQ_INT(wait_event(q, 8000), EM_RQ_EV_UP);
    CHECK_EQ_INT(em_rqueue_up(q), 1);
    CHECK_EQ_INT(em_rqueue_service(q), EM_RQ_EV_NONE);
    em_rqueue_conn(q, &ci);
    CHECK_EQ_INT(ci.connects, 2);
    CHECK_EQ_INT(ci.backoff_ms, 0);
    CHECK_EQ_INT(push_range(q, 5, 8, 3, 100), 0);
    /* a: the two in flight first, then the rest; b: all of it, once. */
    CHECK_EQ_INT(drain(q, 0, seqs, 32, 1, 3), 8);
    for (i = 0; i < 8; i++) {
        CHECK_EQ_INT(seqs[i], i);
    }
    CHECK_EQ_INT(drain(q, 1, seqs, 32, 1, 8), 8);
    CHECK_EQ_INT(seqs[7], 7);
    em_rqueue_close(q);
}

static void test_timeout_survives_reconnect(void)
{
    static const char *const pubs[] = {"a"};
    struct em_rq_entry e[4];
    struct em_rq_conn ci;
    struct em_rqueue *q;
    long long t0, dt;
    int rc;

    CHECK_EQ_INT(srv_start(&own[0], "no", NULL), 0);
    q = open_q(&own[0], "t-stop", pubs, 1, 0, 0);
    CHECK(q != NULL);
    CHECK_EQ_INT(push_range(q, 0, 1, 1, 10), 0);
    /* Force a reconnect: restart the server, wait for the queue to come back. */
    srv_kill(&own[0], SIGKILL);
    CHECK_EQ_INT(push_range(q, 1, 2, 1, 10), -1);
    CHECK_EQ_INT(srv_start(&own[0], "no", NULL), 0);
    CHECK_EQ_INT(wait_event(q, 8000), EM_RQ_EV_DOWN);
    CHECK_EQ_INT(wait_event(q, 8000), EM_RQ_EV_UP);
    em_rqueue_conn(q, &ci);
    CHECK_EQ_INT(ci.connects, 2);

    /* A hung server (SIGSTOP) must cost one timeout on the new socket, not forever. */
    CHECK_EQ_INT(kill(own[0].pid, SIGSTOP), 0);
    t0 = now_ms();
    errno = 0;
    rc = em_rqueue_read(q, 0, e, 4);
    dt = now_ms() - t0;
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_INT(errno, ETIMEDOUT);
    CHECK(dt >= TIMEOUT_MS - 20 && dt < 3 * TIMEOUT_MS);
    /* The next attempt connects (the kernel still accepts) but PING times out. */
    sleep_ms(150);
    t0 = now_ms();
    rc = push_range(q, 1, 2, 1, 10);
    dt = now_ms() - t0;
    CHECK_EQ_INT(rc, -1);
    CHECK(dt < 3 * TIMEOUT_MS);
    em_rqueue_conn(q, &ci);
    CHECK_EQ_INT(ci.up, 0);
    CHECK(ci.attempts >= 3);
    CHECK_EQ_INT(em_rqueue_service(q), EM_RQ_EV_DOWN);
    CHECK_EQ_INT(kill(own[0].pid, SIGCONT), 0);
    CHECK_EQ_INT(wait_event(q, 8000), EM_RQ_EV_UP);
    CHECK_EQ_INT(push_range(q, 1, 2, 1, 10), 0);
    em_rqueue_close(q);
}

static void test_oom_drops_oldest(void)
{
    static const char *const extra[] = {"--maxmemory", "2mb", "--maxmemory-policy",
                                        "noeviction", NULL};
    static const char *const pubs[] = {"a"};
    static long stored[20000], seqs[20000];
    struct em_rq_stats st;
    struct em_rqueue *q;
    long nstored = 0, after = -1, s, nfail = 0, n, i;

    CHECK_EQ_INT(srv_start(&own[0], "no", extra), 0);
    q = open_q(&own[0], "t-oom", pubs, 1, 0, 0);
    CHECK(q != NULL);
    /* Nothing reads before Redis is full: the group is created under -OOM too. */
    for (s = 0; s < 20000; s++) {
        if (push_range(q, s, s + 1, 1, 1000) == 0) {
            stored[nstored++] = s;
        } else {
            struct em_rq_conn ci;

            em_rqueue_conn(q, &ci);
            printf("    push %ld: %s (%s)\n", s, strerror(errno), ci.last_error);
            CHECK_EQ_INT(errno, ENOSPC);
            nfail++;
        }
        if (after < 0) {
            CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
            if (st.dropped[EM_RQ_DROP_REDIS_OOM] > 0) {
                after = 300; /* full: keep going a while */
            }
        } else if (--after == 0) {
            break;
        }
    }
    CHECK(after == 0);
    CHECK_EQ_INT(nfail, 0);
    CHECK_EQ_INT(em_rqueue_stats(q, 0, &st), 0);
    printf("    oom: %ld pushed, %lld kept, %lld dropped (redis_oom)\n", nstored,
           st.pending, st.dropped[EM_RQ_DROP_REDIS_OOM]);
    CHECK(st.dropped[EM_RQ_DROP_REDIS_OOM] >= 300);
    CHECK_EQ_INT(st.pending + st.dropped[EM_RQ_DROP_REDIS_OOM], nstored);
    /* Exactly the oldest went; the newest are all there, in order. */
    n = drain(q, 0, seqs, 20000, 1, 100);
    CHECK_EQ_INT(n, st.pending);
    for (i = 0; i < n; i++) {
        CHECK_EQ_INT(seqs[i], stored[st.dropped[EM_RQ_DROP_REDIS_OOM] + i]);
    }
    CHECK_EQ_INT(seqs[n - 1], stored[nstored - 1]);
    /* Drained, there is room again and the counter (kept while -OOM refused HINCRBY)
     * reaches the hash. */
    CHECK_EQ_INT(push_range(q, 0, 10, 10, 1000), 0);
    em_rqueue_close(q);
    {
        redisContext *c = raw_connect(&own[0]);
        redisReply *r;

        CHECK(c != NULL);
        r = redisCommand(c, "HGET edgemon:t-oom:dropped a:redis_oom");
        CHECK(r != NULL && r->type == REDIS_REPLY_STRING);
        CHECK_EQ_INT(strtoll(r->str, NULL, 10), st.dropped[EM_RQ_DROP_REDIS_OOM]);
        freeReplyObject(r);
        redisFree(c);
    }
}

/*
 * A hang (a timeout that was lost, a blocking call) must fail the run, not stall
 * it: the watchdog stops our servers by PID and exits non-zero.
 */
static void watchdog(int sig)
{
    static const char msg[] = "FAIL watchdog: a test hung for 60 s\n";
    size_t i;

    (void)sig;
    if (write(1, msg, sizeof(msg) - 1) < 0) {
        /* nothing left to report to */
    }
    if (shared.in_use) {
        kill(shared.pid, SIGKILL);
    }
    for (i = 0; i < 2; i++) {
        if (own[i].in_use) {
            kill(own[i].pid, SIGCONT);
            kill(own[i].pid, SIGKILL);
        }
    }
    _exit(2);
}

#define RUN_T(fn)                                                                        \
    do {                                                                                 \
        alarm(60);                                                                       \
        RUN(fn);                                                                         \
        alarm(0);                                                                        \
        stop_own();                                                                      \
    } while (0)

static void stop_own(void)
{
    srv_destroy(&own[0]);
    srv_destroy(&own[1]);
}

int main(void)
{
    static const char *const extra[] = {"--unixsocket", NULL, "--unixsocketperm", "700",
                                        NULL};
    char sock[96];
    const char *ex[5];

    signal(SIGPIPE, SIG_IGN); /* hiredis writes with write(2); see rqueue.h */
    signal(SIGALRM, watchdog);
    snprintf(shared.dir, sizeof(shared.dir), "/tmp/em-rqueue.XXXXXX");
    if (!mkdtemp(shared.dir)) {
        printf("FAIL setup: mkdtemp\n");
        return 1;
    }
    snprintf(sock, sizeof(sock), "%s/redis.sock", shared.dir);
    memcpy(ex, extra, sizeof(ex));
    ex[1] = sock;
    if (srv_start(&shared, "no", ex) < 0) {
        printf("FAIL setup: cannot start redis-server\n");
        srv_destroy(&shared);
        return 1;
    }
    RUN_T(test_open_and_url);
    RUN_T(test_two_publishers_drain_independently);
    RUN_T(test_restart_redelivers_pending_first);
    RUN_T(test_max_messages_counts_exactly);
    RUN_T(test_many_trimmed_pending_are_skipped);
    RUN_T(test_max_age_trims_by_minid);
    RUN_T(test_discover_for_inspection);
    RUN_T(test_unix_socket_and_db);
    RUN_T(test_auth);
    RUN_T(test_redis_down_then_back);
    RUN_T(test_timeout_survives_reconnect);
    RUN_T(test_oom_drops_oldest);
    srv_destroy(&shared);
    DONE();
}
