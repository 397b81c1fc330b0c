/* test_spool.c - unit tests of the embedded spool: order, restarts, crashes, corruption, bounds.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Every test works in its own mkdtemp() directory under /tmp, removed after the
 * test whether it passed or not (checks return early, so the spool and the
 * directory live in globals that teardown() cleans).
 */
#include "harness.h"
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFSZ (EM_SPOOL_MAX_REC + 1024)

static char g_tmp[64];
static char g_dir[128];
static struct em_spool *g_s;
static unsigned char g_buf[BUFSZ];
static struct em_spool_rec g_recs[4096];
static char g_err[256];

static const char *const ABC[] = {"a", "b", "c"};

static void setup(void)
{
    snprintf(g_tmp, sizeof(g_tmp), "/tmp/test_spool.XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(g_dir, sizeof(g_dir), "%s/spool", g_tmp);
}

static void rm_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;

    if (!d) {
        return;
    }
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
    rmdir(path);
}

static void teardown(void)
{
    em_spool_close(g_s);
    g_s = NULL;
    rm_dir(g_dir);
    rmdir(g_tmp);
}

#define T(fn)                                                                            \
    do {                                                                                 \
        setup();                                                                         \
        RUN(fn);                                                                         \
        teardown();                                                                      \
    } while (0)

static struct em_spool *sp_open(const char *const *names, size_t n,
                                const struct em_spool_limits *lim)
{
    struct em_spool *s = em_spool_open(g_dir, lim, names, n, g_err, sizeof(g_err));
    if (!s) {
        printf("    open: %s\n", g_err);
    }
    return s;
}

static void reopen(const char *const *names, size_t n, const struct em_spool_limits *lim)
{
    em_spool_close(g_s);
    g_s = sp_open(names, n, lim);
}

/* Record k's payload: its number, padded to a length that varies with k. */
static size_t payload(char *buf, unsigned k, size_t base_len)
{
    size_t len = base_len + k % 7;
    int n = snprintf(buf, len + 1, "{\"k\":%u,\"pad\":\"", k);
    memset(buf + n, 'x', len - (size_t)n);
    buf[len] = '\0';
    return len;
}

static int append_n(unsigned from, unsigned n, size_t base_len, int64_t ts0)
{
    char buf[2048];
    for (unsigned k = from; k < from + n; k++) {
        size_t len = payload(buf, k, base_len);
        if (em_spool_append(g_s, buf, len, ts0 + (int64_t)k, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Record number k stored in a payload made by payload(). */
static unsigned rec_k(const struct em_spool_rec *r)
{
    return (unsigned)strtoul((const char *)r->data + 5, NULL, 10);
}

/* Read everything unread for consumer c, in batches of `batch`; returns the count. */
static int drain(size_t c, size_t batch, uint64_t *ids, size_t maxids)
{
    size_t total = 0;
    for (;;) {
        int n = em_spool_read(g_s, c, g_recs, batch, g_buf, sizeof(g_buf));
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            return (int)total;
        }
        for (int i = 0; i < n && total < maxids; i++) {
            ids[total++] = g_recs[i].id;
        }
    }
}

static int count_segs(void)
{
    DIR *d = opendir(g_dir);
    struct dirent *de;
    int n = 0;
    if (!d) {
        return -1;
    }
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".seg") == 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Path of the n-th segment file in name order (0 = oldest, -1 = newest). */
static int seg_path(int nth, char *out, size_t outlen)
{
    DIR *d = opendir(g_dir);
    struct dirent *de;
    char names[256][32];
    int n = 0;
    if (!d) {
        return -1;
    }
    while ((de = readdir(d)) && n < 256) {
        size_t l = strlen(de->d_name);
        if (l == 20 && strcmp(de->d_name + 16, ".seg") == 0) {
            memcpy(names[n++], de->d_name, 21);
        }
    }
    closedir(d);
    if (n == 0) {
        return -1;
    }
    qsort(names, (size_t)n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
    if (nth < 0) {
        nth = n + nth;
    }
    if (nth < 0 || nth >= n) {
        return -1;
    }
    snprintf(out, outlen, "%s/%s", g_dir, names[nth]);
    return 0;
}

static int flip_byte(const char *path, off_t off)
{
    unsigned char b = 0;
    int fd = open(path, O_RDWR);
    int ok = fd >= 0 && pread(fd, &b, 1, off) == 1;
    b ^= 0x5a;
    ok = ok && pwrite(fd, &b, 1, off) == 1;
    if (fd >= 0) {
        close(fd);
    }
    return ok ? 0 : -1;
}

/* Open descriptors of deleted spool files: they would keep dropped segments on the
 * disk. Linux /proc only; elsewhere 0. */
static int deleted_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    char link[600], path[64];
    int n = 0;
    if (!d) {
        return 0;
    }
    while ((de = readdir(d))) {
        ssize_t l;
        snprintf(path, sizeof(path), "/proc/self/fd/%.20s", de->d_name);
        l = readlink(path, link, sizeof(link) - 1);
        if (l > 0) {
            link[l] = '\0';
            n += strstr(link, g_dir) == link && strstr(link, "(deleted)") != NULL;
        }
    }
    closedir(d);
    return n;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_roundtrip_consumers(void)
{
    struct em_spool_stats st;
    uint64_t id, ids[100];
    int n;

    g_s = sp_open(ABC, 3, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(em_spool_consumer(g_s, "b"), 1);
    CHECK_EQ_INT(em_spool_consumer(g_s, "zz"), -1);
    CHECK(append_n(1, 50, 300, 1000) == 0);

    /* a drains in batches of 7, acking each batch */
    for (unsigned want = 1; want <= 50;) {
        n = em_spool_read(g_s, 0, g_recs, 7, g_buf, sizeof(g_buf));
        CHECK(n > 0);
        for (int i = 0; i < n; i++, want++) {
            char exp[2048];
            size_t len = payload(exp, want, 300);
            CHECK_EQ_INT(g_recs[i].id, want);
            CHECK_EQ_INT(g_recs[i].ts_ms, 1000 + want);
            CHECK_EQ_INT(g_recs[i].len, len);
            CHECK(memcmp(g_recs[i].data, exp, len) == 0);
        }
        CHECK(em_spool_ack(g_s, 0, g_recs[n - 1].id) == 0);
    }
    CHECK_EQ_INT(em_spool_read(g_s, 0, g_recs, 7, g_buf, sizeof(g_buf)), 0);

    /* b reads 20 without acking, reconnects: everything comes again from 1 */
    n = em_spool_read(g_s, 1, g_recs, 20, g_buf, sizeof(g_buf));
    CHECK_EQ_INT(n, 20);
    CHECK_EQ_INT(em_spool_stats(g_s, 1, &st), 0);
    CHECK_EQ_INT(st.pending, 50);
    CHECK_EQ_INT(st.unread, 30);
    CHECK_EQ_INT(em_spool_rewind(g_s, 1), 0);
    CHECK_EQ_INT(drain(1, 16, ids, 100), 50);
    CHECK_EQ_INT(ids[0], 1);
    CHECK_EQ_INT(ids[49], 50);
    CHECK_EQ_INT(em_spool_ack(g_s, 1, 25), 0);
    CHECK_EQ_INT(em_spool_ack(g_s, 1, 10), 0); /* older ack: no-op */
    CHECK_EQ_INT(em_spool_stats(g_s, 1, &st), 0);
    CHECK_EQ_INT(st.pending, 25);
    CHECK_EQ_INT(st.ack_id, 26);
    CHECK_EQ_INT(st.oldest_ts_ms, 1026);

    /* c untouched; acking past its read cursor moves the read cursor */
    CHECK_EQ_INT(em_spool_stats(g_s, 2, &st), 0);
    CHECK_EQ_INT(st.pending, 50);
    CHECK_EQ_INT(st.oldest_ts_ms, 1001);
    CHECK_EQ_INT(em_spool_ack(g_s, 2, 40), 0);
    n = em_spool_read(g_s, 2, g_recs, 100, g_buf, sizeof(g_buf));
    CHECK_EQ_INT(n, 10);
    CHECK_EQ_INT(g_recs[0].id, 41);

    /* errors */
    errno = 0;
    CHECK_EQ_INT(em_spool_ack(g_s, 2, 51), -1);
    CHECK_EQ_INT(errno, EINVAL);
    CHECK_EQ_INT(em_spool_read(g_s, 3, g_recs, 1, g_buf, sizeof(g_buf)), -1);
    CHECK_EQ_INT(em_spool_rewind(g_s, 2), 0);
    errno = 0;
    CHECK_EQ_INT(em_spool_read(g_s, 2, g_recs, 1, g_buf, 10), -1);
    CHECK_EQ_INT(errno, ENOBUFS);
    CHECK_EQ_INT(em_spool_append(g_s, g_buf, EM_SPOOL_MAX_REC + 1, 0, &id), -1);
    CHECK_EQ_INT(errno, EMSGSIZE);
    CHECK_EQ_INT(em_spool_append(g_s, g_buf, 0, 0, &id), -1);
    CHECK_EQ_INT(errno, EINVAL);
    /* a full-size record still round-trips */
    memset(g_buf, 'z', EM_SPOOL_MAX_REC);
    CHECK_EQ_INT(em_spool_append(g_s, g_buf, EM_SPOOL_MAX_REC, 5, &id), 0);
    CHECK_EQ_INT(id, 51);
    n = em_spool_read(g_s, 0, g_recs, 10, g_buf, sizeof(g_buf));
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(g_recs[0].len, EM_SPOOL_MAX_REC);
    CHECK_EQ_INT(((const unsigned char *)g_recs[0].data)[EM_SPOOL_MAX_REC - 1], 'z');
    CHECK_STR(em_spool_drop_name(EM_SPOOL_DROP_MAX_AGE), "max_age");
}

static void test_restart_resumes_at_ack(void)
{
    uint64_t ids[64], id;

    g_s = sp_open(ABC, 3, NULL);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 20, 200, 0) == 0);
    CHECK_EQ_INT(em_spool_read(g_s, 0, g_recs, 10, g_buf, sizeof(g_buf)), 10);
    CHECK_EQ_INT(em_spool_ack(g_s, 0, 5), 0);
    CHECK_EQ_INT(drain(1, 64, ids, 64), 20);
    CHECK_EQ_INT(em_spool_ack(g_s, 1, 20), 0);
    reopen(ABC, 3, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 15);
    CHECK_EQ_INT(ids[0], 6);
    CHECK_EQ_INT(ids[14], 20);
    CHECK_EQ_INT(drain(1, 64, ids, 64), 0);
    CHECK_EQ_INT(drain(2, 64, ids, 64), 20);
    CHECK_EQ_INT(ids[0], 1);
    /* a clean close leaves no gap in the ids */
    CHECK_EQ_INT(em_spool_append(g_s, "x", 1, 0, &id), 0);
    CHECK_EQ_INT(id, 21);
}

/* The child appends, syncs part of it, acks, and dies without close or sync. */
static void test_crash_exit_without_close(void)
{
    uint64_t ids[256], id;
    pid_t pid;
    int status = 0, n;

    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        static const char *const one[] = {"a"};
        struct em_spool_limits lim = {.sync_every = 1000000, .sync_ms = 1000000};
        g_s = em_spool_open(g_dir, &lim, one, 1, g_err, sizeof(g_err));
        if (!g_s || append_n(1, 100, 400, 0) < 0 || em_spool_ack(g_s, 0, 40) < 0 ||
            em_spool_sync(g_s) < 0 || append_n(101, 50, 400, 0) < 0 ||
            em_spool_ack(g_s, 0, 120) < 0) {
            _exit(3);
        }
        _exit(0); /* no sync, no close: the ack of 120 is lost, the data is not */
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    n = drain(0, 33, ids, 256);
    CHECK_EQ_INT(n, 110);
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(ids[i], 41 + i);
    }
    /* after an unclean stop ids continue above the child's reservation */
    CHECK_EQ_INT(em_spool_append(g_s, "y", 1, 0, &id), 0);
    CHECK_EQ_INT(id, 1 + EM_SPOOL_ID_BLOCK);
    n = em_spool_read(g_s, 0, g_recs, 10, g_buf, sizeof(g_buf));
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(g_recs[0].id, 1 + EM_SPOOL_ID_BLOCK);
}

static void test_crash_sigkill(void)
{
    struct em_spool_stats st;
    uint64_t total = 0;
    int pfd[2], status = 0, n;
    pid_t pid;
    char c;

    CHECK(pipe(pfd) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        static const char *const one[] = {"a"};
        struct em_spool_limits lim = {.sync_every = 10, .segment_bytes = 8192};
        close(pfd[0]);
        g_s = em_spool_open(g_dir, &lim, one, 1, g_err, sizeof(g_err));
        if (!g_s) {
            _exit(3);
        }
        for (unsigned k = 1; k < 200000; k++) {
            if (append_n(k, 1, 150, 0) < 0) {
                _exit(4);
            }
            if (k == 300 && write(pfd[1], "x", 1) != 1) {
                _exit(5);
            }
        }
        _exit(0);
    }
    close(pfd[1]);
    CHECK(read(pfd[0], &c, 1) == 1);
    close(pfd[0]);
    kill(pid, SIGKILL);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    while ((n = em_spool_read(g_s, 0, g_recs, 4096, g_buf, sizeof(g_buf))) > 0) {
        for (int i = 0; i < n; i++) {
            /* in order, no gap, no duplicate, payload belongs to its id */
            total++;
            CHECK_EQ_INT(g_recs[i].id, total);
            CHECK_EQ_INT(rec_k(&g_recs[i]), total);
        }
    }
    CHECK_EQ_INT(n, 0);
    CHECK(total >= 300);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.records, total);
    CHECK_EQ_INT(st.corrupt, 0);
}

static void test_torn_tail(void)
{
    char path[256];
    uint64_t ids[64], id;
    struct em_spool_stats st;
    off_t sz;

    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 10, 100, 0) == 0);
    em_spool_close(g_s);
    g_s = NULL;
    CHECK(seg_path(-1, path, sizeof(path)) == 0);
    sz = file_size(path);
    CHECK(truncate(path, sz - 10) == 0); /* a power cut in the middle of record 10 */
    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 9);
    CHECK_EQ_INT(ids[8], 9);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    /* record 10 is a 32-byte header + 103 bytes; 125 of its 135 bytes were on disk */
    CHECK_EQ_INT(st.truncated, 125);
    /* cut back to record 9, then sealed (+64) because id 10 is never reused */
    CHECK_EQ_INT(file_size(path), sz - 135 + 64);
    /* id 10 was handed out before the cut and is never reused */
    CHECK_EQ_INT(em_spool_append(g_s, "z", 1, 0, &id), 0);
    CHECK_EQ_INT(id, 11);
}

/* Records 1..10 of payload(k, 100) in one segment: offset of record k. */
static off_t rec_off(unsigned k)
{
    off_t off = 0;
    for (unsigned i = 1; i < k; i++) {
        off += 32 + 100 + i % 7;
    }
    return off;
}

static void test_bad_crc(void)
{
    char path[256];
    uint64_t ids[64];
    struct em_spool_stats st;

    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 10, 100, 0) == 0);
    em_spool_close(g_s);
    g_s = NULL;
    CHECK(seg_path(-1, path, sizeof(path)) == 0);
    /* a CRC byte in the middle of the last segment: that record is skipped and
     * counted, everything before and after it kept */
    CHECK(flip_byte(path, rec_off(5) + 29) == 0);
    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(file_size(path), rec_off(11));
    CHECK_EQ_INT(drain(0, 64, ids, 64), 9);
    CHECK_EQ_INT(ids[3], 4);
    CHECK_EQ_INT(ids[4], 6);
    CHECK_EQ_INT(ids[8], 10);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.corrupt, 1);
    CHECK_EQ_INT(st.pending, 9);
    CHECK_EQ_INT(st.truncated, 0);
    em_spool_close(g_s);
    g_s = NULL;
    /* a CRC byte of the last record: a torn tail, cut off; then the segment is
     * sealed (+64 bytes) because id 10 is never reused */
    CHECK(flip_byte(path, rec_off(10) + 28) == 0);
    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(file_size(path), rec_off(10) + 64);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 8);
    CHECK_EQ_INT(ids[7], 9);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.corrupt, 1);
    CHECK_EQ_INT(st.truncated, rec_off(11) - rec_off(10));
    CHECK_EQ_INT(st.next_id, 11);
}

/*
 * Power loss while running: a record damaged on disk after open (a flipped byte in
 * its payload, or a length field gone wild) is found by its checksum when read,
 * skipped and counted, and the queue keeps moving: later records and new appends
 * are delivered, nothing blocks, the read cursor never sticks on the bad frame.
 */
static void test_damage_while_running(void)
{
    char path[256];
    uint64_t ids[64], id;
    struct em_spool_stats st;

    g_s = sp_open(ABC, 2, NULL);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 10, 100, 0) == 0);
    CHECK_EQ_INT(em_spool_sync(g_s), 0);
    CHECK(seg_path(-1, path, sizeof(path)) == 0);
    CHECK(flip_byte(path, rec_off(4) + 32 + 50) == 0);  /* payload of record 4 */
    CHECK(flip_byte(path, rec_off(7) + 6) == 0);        /* length of record 7: huge */
    CHECK_EQ_INT(drain(0, 3, ids, 64), 8);
    CHECK_EQ_INT(ids[2], 3);
    CHECK_EQ_INT(ids[3], 5);
    CHECK_EQ_INT(ids[4], 6);
    CHECK_EQ_INT(ids[5], 8);
    CHECK_EQ_INT(ids[7], 10);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.corrupt, 2);
    /* acking past the damage frees the queue; new records flow */
    CHECK_EQ_INT(em_spool_ack(g_s, 0, 10), 0);
    CHECK_EQ_INT(em_spool_append(g_s, "{\"k\":11}", 8, 11, &id), 0);
    CHECK_EQ_INT(id, 11);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 1);
    CHECK_EQ_INT(ids[0], 11);
    /* the other consumer sees the same, and the damage is not counted twice */
    CHECK_EQ_INT(drain(1, 64, ids, 64), 9);
    CHECK_EQ_INT(em_spool_stats(g_s, 1, &st), 0);
    CHECK_EQ_INT(st.corrupt, 2);
    /* after a restart the damage is found again, still skipped, still not fatal */
    reopen(ABC, 2, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(drain(1, 64, ids, 64), 9);
    CHECK_EQ_INT(em_spool_stats(g_s, 1, &st), 0);
    CHECK_EQ_INT(st.corrupt, 2);
    CHECK_EQ_INT(st.pending, 9);
}

/* A tail torn mid-record and then a flipped byte in what is left: both handled in
 * one open, with the ids never reused. */
static void test_torn_and_flipped(void)
{
    char path[256];
    uint64_t ids[64], id;
    struct em_spool_stats st;

    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 10, 100, 0) == 0);
    em_spool_close(g_s);
    g_s = NULL;
    CHECK(seg_path(-1, path, sizeof(path)) == 0);
    CHECK(truncate(path, rec_off(9) + 40) == 0); /* record 9 torn after 40 bytes */
    CHECK(flip_byte(path, rec_off(2) + 32 + 7) == 0);
    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 7);
    CHECK_EQ_INT(ids[0], 1);
    CHECK_EQ_INT(ids[1], 3);
    CHECK_EQ_INT(ids[6], 8);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.corrupt, 1);
    CHECK_EQ_INT(st.truncated, 40);
    CHECK_EQ_INT(em_spool_append(g_s, "z", 1, 0, &id), 0);
    CHECK(id > 10);
}

static void test_corrupt_older_segment(void)
{
    static const char *const one[] = {"a"};
    struct em_spool_limits lim = {.segment_bytes = 1024};
    char path[256];
    uint64_t ids[64];
    struct em_spool_stats st;

    g_s = sp_open(one, 1, &lim);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 30, 100, 0) == 0);
    em_spool_close(g_s);
    g_s = NULL;
    CHECK(count_segs() >= 4);
    CHECK(seg_path(0, path, sizeof(path)) == 0);
    CHECK(flip_byte(path, rec_off(3) + 32 + 20) == 0); /* payload of record 3 */
    g_s = sp_open(one, 1, &lim);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(drain(0, 5, ids, 64), 29);
    CHECK_EQ_INT(ids[1], 2);
    CHECK_EQ_INT(ids[2], 4);
    CHECK_EQ_INT(ids[28], 30);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.corrupt, 1);
    /* reading it again does not count it again */
    CHECK_EQ_INT(em_spool_rewind(g_s, 0), 0);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 29);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.corrupt, 1);
}

static void test_max_bytes_drops_exactly(void)
{
    struct em_spool_limits lim = {.max_bytes = 16384, .segment_bytes = 4096};
    struct em_spool_stats st, st2;
    uint64_t first;
    int n;

    g_s = sp_open(ABC, 2, &lim);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 100, 100, 0) == 0);
    CHECK_EQ_INT(em_spool_ack(g_s, 1, 100), 0); /* b has confirmed the first 100 */
    /* a has read (not acked) 50: its read position sits in a segment about to go */
    CHECK_EQ_INT(em_spool_read(g_s, 0, g_recs, 50, g_buf, sizeof(g_buf)), 50);
    CHECK(append_n(101, 900, 100, 0) == 0);
    CHECK_EQ_INT(deleted_fds(), 0);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK(st.bytes <= 16384);
    CHECK(st.bytes >= 16384 - 4096 - 200);
    n = em_spool_read(g_s, 0, g_recs, 1, g_buf, sizeof(g_buf));
    CHECK_EQ_INT(n, 1);
    first = g_recs[0].id;
    CHECK(first > 101);
    /* a acked nothing: it lost exactly every record before the oldest retained one */
    CHECK_EQ_INT(st.dropped[EM_SPOOL_DROP_MAX_BYTES], first - 1);
    CHECK_EQ_INT(st.dropped[EM_SPOOL_DROP_MAX_MESSAGES], 0);
    CHECK_EQ_INT(st.dropped[EM_SPOOL_DROP_MAX_AGE], 0);
    CHECK_EQ_INT(st.pending, 1000 - (first - 1));
    CHECK_EQ_INT(st.records, st.pending);
    /* b only lost what it had not acked */
    CHECK_EQ_INT(em_spool_stats(g_s, 1, &st2), 0);
    CHECK_EQ_INT(st2.dropped[EM_SPOOL_DROP_MAX_BYTES], first - 101);
    CHECK_EQ_INT(st2.pending, st.pending);
    CHECK_EQ_INT(st.segments, count_segs());
    /* drop counters survive a restart */
    reopen(ABC, 2, &lim);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st2), 0);
    CHECK_EQ_INT(st2.dropped[EM_SPOOL_DROP_MAX_BYTES], first - 1);
    CHECK_EQ_INT(st2.pending, st.pending);
    CHECK_EQ_INT(em_spool_stats(g_s, 1, &st2), 0);
    CHECK_EQ_INT(st2.dropped[EM_SPOOL_DROP_MAX_BYTES], first - 101);
}

static void test_max_messages(void)
{
    struct em_spool_limits lim = {.max_messages = 100};
    struct em_spool_stats st;
    int n;

    g_s = sp_open(ABC, 1, &lim);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 250, 100, 0) == 0);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK(st.records <= 100);
    CHECK(st.records >= 75);
    n = em_spool_read(g_s, 0, g_recs, 1000, g_buf, sizeof(g_buf));
    CHECK_EQ_INT(n, st.records);
    CHECK_EQ_INT(g_recs[n - 1].id, 250); /* the newest is kept */
    CHECK_EQ_INT(st.dropped[EM_SPOOL_DROP_MAX_MESSAGES], g_recs[0].id - 1);
    CHECK_EQ_INT(st.dropped[EM_SPOOL_DROP_MAX_MESSAGES] + st.records, 250);
}

static void test_max_age(void)
{
    struct em_spool_limits lim = {.max_age_s = 10, .segment_bytes = 1024};
    struct em_spool_stats st;
    uint64_t id;

    g_s = sp_open(ABC, 1, &lim);
    CHECK(g_s != NULL);
    for (unsigned k = 1; k <= 20; k++) {
        char buf[256];
        size_t len = payload(buf, k, 100);
        CHECK_EQ_INT(em_spool_append(g_s, buf, len, 100000 + (int64_t)k * 100, NULL), 0);
    }
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.records, 20); /* all within 2 s of each other */
    CHECK_EQ_INT(st.dropped[EM_SPOOL_DROP_MAX_AGE], 0);
    CHECK_EQ_INT(em_spool_append(g_s, "late", 4, 200000, &id), 0);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.dropped[EM_SPOOL_DROP_MAX_AGE], 20);
    CHECK_EQ_INT(st.records, 1);
    CHECK_EQ_INT(st.pending, 1);
    CHECK_EQ_INT(st.oldest_ts_ms, 200000);
    /* a quiet spool expires by the timer call too */
    CHECK_EQ_INT(em_spool_expire(g_s, 205000), 0);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.records, 1);
    CHECK_EQ_INT(em_spool_expire(g_s, 211000), 0);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.records, 0);
    CHECK_EQ_INT(st.pending, 0);
    CHECK_EQ_INT(st.dropped[EM_SPOOL_DROP_MAX_AGE], 21);
    CHECK_EQ_INT(em_spool_read(g_s, 0, g_recs, 10, g_buf, sizeof(g_buf)), 0);
    CHECK_EQ_INT(em_spool_append(g_s, "next", 4, 211000, &id), 0);
    CHECK_EQ_INT(id, 22);
    CHECK_EQ_INT(em_spool_read(g_s, 0, g_recs, 10, g_buf, sizeof(g_buf)), 1);
    CHECK_EQ_INT(g_recs[0].id, 22);
}

static void test_ids_increase_across_restarts(void)
{
    uint64_t id, last = 0;
    pid_t pid;
    int status;

    for (int round = 0; round < 3; round++) {
        g_s = sp_open(ABC, 1, NULL);
        CHECK(g_s != NULL);
        for (int i = 0; i < 5; i++) {
            CHECK_EQ_INT(em_spool_append(g_s, "r", 1, 0, &id), 0);
            CHECK_EQ_INT(id, last + 1);
            last = id;
        }
        em_spool_close(g_s);
        g_s = NULL;
    }
    CHECK_EQ_INT(last, 15);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        g_s = em_spool_open(g_dir, NULL, ABC, 1, g_err, sizeof(g_err));
        _exit(g_s && em_spool_append(g_s, "c", 1, 0, &id) == 0 && id == 16 ? 0 : 3);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(em_spool_append(g_s, "r", 1, 0, &id), 0);
    CHECK_EQ_INT(id, 16 + EM_SPOOL_ID_BLOCK);
}

static void test_segment_deleted_after_all_acked(void)
{
    struct em_spool_limits lim = {.segment_bytes = 1024};
    struct em_spool_stats st;
    uint64_t ids[64];
    int before;

    g_s = sp_open(ABC, 2, &lim);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 50, 100, 0) == 0);
    before = count_segs();
    CHECK(before >= 6);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 50);
    CHECK_EQ_INT(em_spool_ack(g_s, 0, 50), 0);
    CHECK_EQ_INT(count_segs(), before); /* b still needs them */
    CHECK_EQ_INT(em_spool_ack(g_s, 1, 25), 0);
    CHECK(count_segs() < before);
    CHECK(count_segs() > 1);
    CHECK_EQ_INT(em_spool_stats(g_s, 1, &st), 0);
    CHECK_EQ_INT(st.pending, 25);
    CHECK_EQ_INT(st.segments, count_segs());
    CHECK_EQ_INT(st.dropped[0] + st.dropped[1] + st.dropped[2], 0);
    CHECK_EQ_INT(drain(1, 64, ids, 64), 25);
    CHECK_EQ_INT(ids[0], 26);
    CHECK_EQ_INT(em_spool_ack(g_s, 1, 50), 0);
    CHECK_EQ_INT(count_segs(), 1); /* only the active segment stays */
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.segments, 1);
    CHECK_EQ_INT(st.pending, 0);
    CHECK(st.records < 10); /* what is left in the active segment */
}

static void test_consumer_added_and_removed(void)
{
    static const char *const a[] = {"a"};
    static const char *const ab[] = {"a", "b"};
    static const char *const b[] = {"b"};
    struct em_spool_limits lim = {.segment_bytes = 1024};
    struct em_spool_stats st;
    uint64_t ids[64], id;

    g_s = sp_open(a, 1, &lim);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 20, 100, 0) == 0);
    reopen(ab, 2, &lim);
    CHECK(g_s != NULL);
    /* b is new: it starts at the end; a keeps its backlog */
    CHECK_EQ_INT(drain(1, 64, ids, 64), 0);
    CHECK_EQ_INT(em_spool_stats(g_s, 1, &st), 0);
    CHECK_EQ_INT(st.pending, 0);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 20);
    CHECK_EQ_INT(em_spool_append(g_s, "new", 3, 0, &id), 0);
    CHECK_EQ_INT(id, 21);
    CHECK_EQ_INT(drain(1, 64, ids, 64), 1);
    CHECK_EQ_INT(ids[0], 21);
    CHECK(count_segs() > 2);
    /* a is removed: it no longer pins the old segments */
    reopen(b, 1, &lim);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 1);
    CHECK_EQ_INT(em_spool_ack(g_s, 0, 21), 0);
    CHECK_EQ_INT(count_segs(), 1);
    CHECK_EQ_INT(em_spool_stats(g_s, 0, &st), 0);
    CHECK_EQ_INT(st.pending, 0);
}

static void test_lost_state_resends(void)
{
    char path[256];
    uint64_t ids[64];

    g_s = sp_open(ABC, 2, NULL);
    CHECK(g_s != NULL);
    CHECK(append_n(1, 10, 100, 0) == 0);
    CHECK_EQ_INT(em_spool_ack(g_s, 0, 8), 0);
    em_spool_close(g_s);
    g_s = NULL;
    snprintf(path, sizeof(path), "%s/state", g_dir);
    CHECK(flip_byte(path, 20) == 0); /* unreadable state: start at the oldest, never skip */
    g_s = sp_open(ABC, 2, NULL);
    CHECK(g_s != NULL);
    CHECK_EQ_INT(drain(0, 64, ids, 64), 10);
    CHECK_EQ_INT(ids[0], 1);
    CHECK_EQ_INT(drain(1, 64, ids, 64), 10);
}

static void test_locked_by_other_process(void)
{
    pid_t pid;
    int status;

    g_s = sp_open(ABC, 1, NULL);
    CHECK(g_s != NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct em_spool *s2 = em_spool_open(g_dir, NULL, ABC, 1, g_err, sizeof(g_err));
        _exit(!s2 && errno == EAGAIN ? 0 : 3);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A daemon starting while `edgemon queue` holds the spool for a moment waits for it. */
static void test_lock_wait(void)
{
    struct em_spool_limits now = {0}, wait = {.lock_wait_ms = 5000};
    int ready[2], go[2], status;
    char c = 0;
    pid_t pid;

    CHECK(pipe(ready) == 0 && pipe(go) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct em_spool *s2 = em_spool_open(g_dir, NULL, ABC, 1, g_err, sizeof(g_err));
        if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1) {
            _exit(3);
        }
        /* Hold it a little longer after the parent's first, failing, attempt. */
        usleep(200 * 1000);
        em_spool_close(s2);
        _exit(s2 ? 0 : 4);
    }
    CHECK(read(ready[0], &c, 1) == 1);
    g_s = em_spool_open(g_dir, &now, ABC, 1, g_err, sizeof(g_err));
    CHECK(g_s == NULL && errno == EAGAIN);
    CHECK(strstr(g_err, "in use by another process") != NULL);
    CHECK(write(go[1], "g", 1) == 1);
    g_s = sp_open(ABC, 1, &wait);
    CHECK(g_s != NULL);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

static void test_bad_config(void)
{
    static const char *const dup[] = {"a", "a"};
    static const char *const bad[] = {"a b"};
    struct em_spool_limits lim = {.max_bytes = 100};

    CHECK(em_spool_open(g_dir, NULL, dup, 2, g_err, sizeof(g_err)) == NULL);
    CHECK(strstr(g_err, "named twice") != NULL);
    CHECK(em_spool_open(g_dir, NULL, bad, 1, g_err, sizeof(g_err)) == NULL);
    CHECK_EQ_INT(errno, EINVAL);
    CHECK(em_spool_open(g_dir, &lim, ABC, 1, g_err, sizeof(g_err)) == NULL);
    CHECK(strstr(g_err, "max_bytes") != NULL);
    em_spool_close(NULL);
}

int main(void)
{
    T(test_roundtrip_consumers);
    T(test_restart_resumes_at_ack);
    T(test_crash_exit_without_close);
    T(test_crash_sigkill);
    T(test_torn_tail);
    T(test_bad_crc);
    T(test_corrupt_older_segment);
    T(test_damage_while_running);
    T(test_torn_and_flipped);
    T(test_max_bytes_drops_exactly);
    T(test_max_messages);
    T(test_max_age);
    T(test_ids_increase_across_restarts);
    T(test_segment_deleted_after_all_acked);
    T(test_consumer_added_and_removed);
    T(test_lost_state_resends);
    T(test_locked_by_other_process);
    T(test_lock_wait);
    T(test_bad_config);
    DONE();
}
