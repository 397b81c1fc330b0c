/* bench_rqueue.c - throughput and memory of the Redis stream queue on a private
 * redis-server. Copyright (c) 2026 edgemon authors SPDX-License-Identifier: MIT
 *
 * Usage: bench_rqueue [ENTRIES [BYTES]]   (default 100000 entries of 500 bytes)
 * Starts redis-server on a free 127.0.0.1 port in a mkdtemp dir (no persistence,
 * so the figures are the queue's and hiredis's, not the disk's) and stops it by
 * PID. Prints push rate (pipelined batches, and one call per entry), read+ack
 * rate, the cost of fanning out to 4 publishers, and used_memory per 100k entries.
 */
#include "rqueue.h"
#include "testutil.h"

#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define BATCH 1000

static pid_t srv_pid = -1;
static int srv_port;
static char srv_dir[64];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long used_memory(void)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", srv_port, tv);
    redisReply *r;
    long long v = -1;
    const char *p;

    if (!c || c->err) {
        if (c) {
            redisFree(c);
        }
        return -1;
    }
    r = redisCommand(c, "INFO memory");
    if (r && r->type == REDIS_REPLY_STRING && (p = strstr(r->str, "used_memory:"))) {
        v = strtoll(p + 12, NULL, 10);
    }
    if (r) {
        freeReplyObject(r);
    }
    redisFree(c);
    return v;
}

static int srv_start(void)
{
    char port[16], log[96];
    int i, st;

    snprintf(srv_dir, sizeof(srv_dir), "/tmp/em-bench.XXXXXX");
    if (!mkdtemp(srv_dir) || (srv_port = free_port()) < 0) {
        return -1;
    }
    snprintf(port, sizeof(port), "%d", srv_port);
    snprintf(log, sizeof(log), "%s/redis.log", srv_dir);
    if ((srv_pid = fork()) < 0) {
        return -1;
    }
    if (srv_pid == 0) {
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
               "--dir", srv_dir, "--save", "", "--appendonly", "no", "--logfile", log,
               (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 250; i++) {
        if (waitpid(srv_pid, &st, WNOHANG) == srv_pid) {
            srv_pid = -1;
            return -1;
        }
        if (used_memory() > 0) {
            return 0;
        }
        usleep(20000);
    }
    return -1;
}

static void srv_stop(void)
{
    int st, i;

    if (srv_pid > 0) {
        kill(srv_pid, SIGTERM);
        for (i = 0; i < 500 && waitpid(srv_pid, &st, WNOHANG) != srv_pid; i++) {
            usleep(10000);
        }
        if (i == 500) {
            kill(srv_pid, SIGKILL);
            waitpid(srv_pid, &st, 0);
        }
        srv_pid = -1;
    }
    if (srv_dir[0]) {
        rm_rf(srv_dir);
    }
}

static struct em_rqueue *open_q_cap(const char *agent, const char *const *pubs,
                                    size_t npub, long cap)
{
    struct em_rqueue_conf conf;
    char url[64], err[128];
    struct em_rqueue *q;

    snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", srv_port);
    memset(&conf, 0, sizeof(conf));
    conf.url = url;
    conf.agent = agent;
    conf.publishers = pubs;
    conf.npub = npub;
    conf.timeout_ms = 5000;
    conf.max_messages = cap;
    if (!(q = em_rqueue_open(&conf, err, sizeof(err)))) {
        fprintf(stderr, "open: %s\n", err);
    }
    return q;
}

static struct em_rqueue *open_q(const char *agent, const char *const *pubs, size_t npub)
{
    return open_q_cap(agent, pubs, npub, 0);
}

/* Pushes n entries in calls of `batch`; returns seconds or -1. */
static double push_n(struct em_rqueue *q, char *payload, struct em_rq_item *it, long n,
                     size_t bytes, long batch)
{
    double t0 = now_s();
    long i = 0, k;

    while (i < n) {
        for (k = 0; k < batch && i < n; k++, i++) {
            /* A distinct head per entry, like real readings (seq differs). */
            it[k].data = payload + (size_t)k * bytes;
            snprintf(payload + (size_t)k * bytes, bytes, "seq=%ld", i);
            it[k].len = bytes;
            it[k].ts_ms = i;
        }
        if (em_rqueue_push(q, it, (size_t)k) < 0) {
            fprintf(stderr, "push: %s\n", strerror(errno));
            return -1;
        }
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    static const char *const one[] = {"uplink"};
    static const char *const four[] = {"mqtt", "redis", "kubemq", "http"};
    long n = argc > 1 ? atol(argv[1]) : 100000;
    size_t bytes = argc > 2 ? (size_t)atol(argv[2]) : 500;
    struct em_rq_entry *ents = NULL;
    struct em_rq_item *it = NULL;
    struct em_rqueue *q = NULL;
    char *payload = NULL;
    long long m0, m1;
    double dt;
    long got = 0;
    int rc = 1, r;
    size_t p;

    signal(SIGPIPE, SIG_IGN);
    if (n <= 0 || bytes < 16) {
        fprintf(stderr, "usage: bench_rqueue [ENTRIES [BYTES>=16]]\n");
        return 2;
    }
    if (!(payload = malloc((size_t)BATCH * bytes)) ||
        !(it = calloc(BATCH, sizeof(*it))) || !(ents = calloc(BATCH, sizeof(*ents)))) {
        goto out;
    }
    memset(payload, 'x', (size_t)BATCH * bytes);
    if (srv_start() < 0) {
        fprintf(stderr, "cannot start redis-server\n");
        goto out;
    }
    printf("bench_rqueue: %ld entries of %zu bytes, redis on 127.0.0.1:%d\n", n, bytes,
           srv_port);

    /* 1. Pipelined push, one publisher. */
    if (!(q = open_q("bench", one, 1))) {
        goto out;
    }
    m0 = used_memory();
    if ((dt = push_n(q, payload, it, n, bytes, BATCH)) < 0) {
        goto out;
    }
    m1 = used_memory();
    printf("push     (batches of %d)  %9.0f entries/s  %7.1f MB/s\n", BATCH, n / dt,
           n * (double)bytes / dt / 1e6);
    printf("memory   used_memory +%.1f MB per 100k entries (%.0f bytes/entry)\n",
           (double)(m1 - m0) * 100000.0 / n / 1e6, (double)(m1 - m0) / n);

    /* 2. Read + ack (XREADGROUP COUNT 1000, then XACK+XDEL). */
    dt = now_s();
    while ((r = em_rqueue_read(q, 0, ents, BATCH)) > 0) {
        got += r;
        if (em_rqueue_ack(q, 0, ents, (size_t)r) < 0) {
            fprintf(stderr, "ack: %s\n", strerror(errno));
            goto out;
        }
    }
    if (r < 0 || got != n) {
        fprintf(stderr, "read: got %ld of %ld (%s)\n", got, n, strerror(errno));
        goto out;
    }
    dt = now_s() - dt;
    printf("read+ack (batches of %d)  %9.0f entries/s\n", BATCH, n / dt);
    printf("memory   after drain: used_memory %+.1f MB vs. empty\n",
           (double)(used_memory() - m0) / 1e6);

    /* 3. One call per entry: what an unbatched core would get. */
    if ((dt = push_n(q, payload, it, n / 10, bytes, 1)) < 0) {
        goto out;
    }
    printf("push     (1 per call)      %9.0f entries/s  (%ld entries)\n", (n / 10) / dt,
           n / 10);
    em_rqueue_close(q);

    /* 4. Fan-out: every entry goes to 4 publisher streams. */
    if (!(q = open_q("bench4", four, 4))) {
        goto out;
    }
    m0 = used_memory();
    if ((dt = push_n(q, payload, it, n, bytes, BATCH)) < 0) {
        goto out;
    }
    m1 = used_memory();
    printf("push     (4 publishers)    %9.0f entries/s  used_memory +%.1f MB per 100k\n",
           n / dt, (double)(m1 - m0) * 100000.0 / n / 1e6);
    dt = now_s();
    for (p = 0; p < 4; p++) {
        while ((r = em_rqueue_read(q, p, ents, BATCH)) > 0) {
            if (em_rqueue_ack(q, p, ents, (size_t)r) < 0) {
                goto out;
            }
        }
        if (r < 0) {
            goto out;
        }
    }
    dt = now_s() - dt;
    printf("read+ack (4 publishers)    %9.0f entries/s (all streams)\n", 4 * n / dt);
    em_rqueue_close(q);

    /* 5. At the cap: every push also trims exactly as many as it adds. */
    if (!(q = open_q("bench-cap", one, 1))) {
        goto out;
    }
    if (push_n(q, payload, it, n / 2, bytes, BATCH) < 0) {
        goto out;
    }
    em_rqueue_close(q);
    if (!(q = open_q_cap("bench-cap", one, 1, n / 2))) {
        goto out;
    }
    if ((dt = push_n(q, payload, it, n, bytes, BATCH)) < 0) {
        goto out;
    }
    printf("push     (at max_messages) %9.0f entries/s  (cap %ld, %ld dropped)\n", n / dt,
           n / 2, n);
    rc = 0;
out:
    em_rqueue_close(q);
    srv_stop();
    free(payload);
    free(it);
    free(ents);
    return rc;
}
