/* fuzz_spool.c - libFuzzer harness for the spool reader: corrupt, truncated and foreign segment files.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Each input becomes files in a scratch spool directory, which is then opened
 * and drained through the spool API as the daemon would after a power cut: open
 * (recovery scans and cuts torn tails), read everything for two consumers, ack,
 * stats, append, sync, expire, close, and open once more. Input: byte 0 flags
 * (bit 0: the second part is the state file instead of a second segment; bit 1:
 * small segments; bit 2: new consumers start at the oldest record; bit 3: the second
 * segment starts at id 14, else 256), bytes 1-2 the
 * split point, the rest the first segment (and the second part). Any crash,
 * sanitizer report, hang or leak is a bug; the spool must never refuse to open
 * because of what it finds in its files. Build and run: make fuzz.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static unsigned char buf[EM_SPOOL_MAX_REC + 1024];
static struct em_spool_rec recs[64];

static void put(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    if (n && write(fd, p, n) != (ssize_t)n)
        abort();
    close(fd);
}

static void clear(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

static void remove_dir(void)
{
    clear();
    rmdir(dir);
}

static void drain(struct em_spool *s, size_t c)
{
    uint64_t last = 0;
    for (int round = 0; round < 1000; round++) {
        int n = em_spool_read(s, c, recs, 64, buf, sizeof buf);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            /* Ids handed out only ever increase. */
            if (recs[i].id <= last)
                abort();
            last = recs[i].id;
        }
    }
    if (last && c == 0)
        em_spool_ack(s, c, last);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"a", "b"};
    char err[256];
    struct em_spool_stats st;
    uint64_t id;

    if (!dir[0]) {
        /* tmpfs when there is one: the spool's fsyncs then cost nothing. */
        snprintf(dir, sizeof dir, "/dev/shm/fuzz_spool.XXXXXX");
        if (!mkdtemp(dir)) {
            snprintf(dir, sizeof dir, "/tmp/fuzz_spool.XXXXXX");
            if (!mkdtemp(dir))
                abort();
        }
        atexit(remove_dir);
    }
    if (size < 3)
        return 0;
    uint8_t flags = data[0];
    size_t rest = size - 3, split = ((size_t)data[1] << 8 | data[2]);
    const uint8_t *p = data + 3;
    split = rest ? split % (rest + 1) : 0;
    clear();
    put("0000000000000001.seg", p, split);
    if (flags & 1)
        put("state", p + split, rest - split);
    else if (rest > split)
        put((flags & 8) ? "000000000000000e.seg" : "0000000000000100.seg", p + split,
            rest - split);

    struct em_spool_limits lim = {.segment_bytes = (flags & 2) ? 1024 : 0,
                                  .max_bytes = (flags & 2) ? 16384 : 0,
                                  .new_at_oldest = (flags & 4) != 0};
    for (int pass = 0; pass < 2; pass++) {
        struct em_spool *s = em_spool_open(dir, &lim, names, 2, err, sizeof err);
        if (!s) {
            /* Only resource problems may stop an open; the files never do. */
            fprintf(stderr, "spool refused to open: %s\n", err);
            abort();
        }
        drain(s, 0);
        em_spool_stats(s, 0, &st);
        em_spool_rewind(s, 1);
        drain(s, 1);
        em_spool_stats(s, 1, &st);
        if (em_spool_append(s, "{\"k\":1}", 7, 1000, &id) == 0 && id < st.next_id)
            abort();
        drain(s, 0);
        em_spool_sync(s);
        em_spool_expire(s, 2000);
        em_spool_close(s);
    }
    return 0;
}
