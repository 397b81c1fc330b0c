/* bench_spool.c - throughput of the embedded spool: appends, reopen, reads + acks.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Appends N records of 500 bytes (default 100000) with an fdatasync every 1000,
 * reopens the spool with that backlog, then drains it in batches of 256 with one
 * cumulative ack per batch. Works in a mkdtemp() directory under /tmp (or the
 * directory given as the second argument, to measure a real flash device) and
 * removes it at the end.
 *   bench_spool [N] [PARENT_DIR]
 */
#include "spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REC_LEN 500
#define BATCH   256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rm_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;

    if (!d) {
        return;
    }
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            unlinkat(dirfd(d), de->d_name, 0);
        }
    }
    closedir(d);
    rmdir(path);
}

int main(int argc, char **argv)
{
    static const char *const cons[] = {"uplink"};
    static unsigned char buf[EM_SPOOL_MAX_REC + 4096];
    static struct em_spool_rec recs[BATCH];
    struct em_spool_limits lim = {.sync_every = 1000};
    struct em_spool_stats st;
    struct em_spool *s;
    char tmp[256], dir[300], err[256], rec[REC_LEN];
    long n = argc > 1 ? atol(argv[1]) : 100000;
    uint64_t got = 0, id;
    double t0, t_app, t_open, t_read;
    int rc = 1, k;

    snprintf(tmp, sizeof(tmp), "%s/bench_spool.XXXXXX", argc > 2 ? argv[2] : "/tmp");
    if (n <= 0 || !mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s/spool", tmp);
    memset(rec, 'x', sizeof(rec));
    memcpy(rec, "{\"schema\":\"edgemon/1\",\"dataset\":\"mppt\"", 38);

    if (!(s = em_spool_open(dir, &lim, cons, 1, err, sizeof(err)))) {
        fprintf(stderr, "bench_spool: %s\n", err);
        goto out;
    }
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (em_spool_append(s, rec, sizeof(rec), 1763900000000 + i, &id) < 0) {
            perror("bench_spool: append");
            goto out;
        }
    }
    if (em_spool_sync(s) < 0) {
        perror("bench_spool: sync");
        goto out;
    }
    t_app = now_s() - t0;
    em_spool_stats(s, 0, &st);
    printf("records            %ld x %d bytes, fdatasync every %u\n", n, REC_LEN,
           lim.sync_every);
    printf("appends/s          %.0f  (%.2f s, %.1f MB/s payload)\n", (double)n / t_app, t_app,
           (double)n * REC_LEN / t_app / 1e6);
    printf("bytes on disk      %llu in %llu segments (%.3f x payload)\n",
           (unsigned long long)st.bytes, (unsigned long long)st.segments,
           (double)st.bytes / ((double)n * REC_LEN));

    em_spool_close(s);
    t0 = now_s();
    if (!(s = em_spool_open(dir, &lim, cons, 1, err, sizeof(err)))) {
        fprintf(stderr, "bench_spool: %s\n", err);
        goto out;
    }
    t_open = now_s() - t0;
    printf("reopen with backlog %.1f ms\n", t_open * 1e3);

    t0 = now_s();
    while ((k = em_spool_read(s, 0, recs, BATCH, buf, sizeof(buf))) > 0) {
        got += (uint64_t)k;
        if (em_spool_ack(s, 0, recs[k - 1].id) < 0) {
            perror("bench_spool: ack");
            goto out;
        }
    }
    if (k < 0 || em_spool_sync(s) < 0) {
        perror("bench_spool: read");
        goto out;
    }
    t_read = now_s() - t0;
    em_spool_stats(s, 0, &st);
    printf("reads+acks/s       %.0f  (%llu records in %.2f s, batches of %d)\n",
           (double)got / t_read, (unsigned long long)got, t_read, BATCH);
    printf("after drain        %llu bytes, %llu segments, pending %llu\n",
           (unsigned long long)st.bytes, (unsigned long long)st.segments,
           (unsigned long long)st.pending);
    rc = got == (uint64_t)n && st.pending == 0 ? 0 : 1;
out:
    em_spool_close(s);
    rm_dir(dir);
    rmdir(tmp);
    return rc;
}
