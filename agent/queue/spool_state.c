/* spool_state.c - the consumers' cursors (confirmed and read positions, drop counts)
 * and the id reservation, written to the state file by write-and-rename and read
 * back at open.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spool_int.h"

/*
 * Persist ack cursors, drop counters and the id reservation `reserve` (no id at or
 * above it has been handed out): temp file, fsync, rename, fsync of the directory.
 * The corrupt and truncated counts are not kept: every open finds still-retained
 * corruption again, so carrying them over would count it twice.
 */
int sp_write_state(struct em_spool *s, uint64_t reserve)
{
    size_t n;
    int fd, e;
    uint32_t crc;

    n = (size_t)snprintf(s->sbuf, s->scap, "edgemon-spool 1\nnext_id %" PRIu64 "\n",
                         reserve);
    for (size_t i = 0; i < s->ncons; i++) {
        const struct cons *c = &s->cons[i];
        n += (size_t)snprintf(
            s->sbuf + n, s->scap - n,
            "consumer %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", c->name,
            c->ack, c->dropped[0], c->dropped[1], c->dropped[2]);
    }
    crc = ~sp_crc_update(s->crc_tab, 0xffffffffu, s->sbuf, n);
    n += (size_t)snprintf(s->sbuf + n, s->scap - n, "crc %08" PRIx32 "\n", crc);
    if (n >= s->scap) {
        errno = EOVERFLOW; /* cannot happen: scap is sized for the longest lines */
        return -1;
    }

    fd = openat(s->dirfd, STATE_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    if (sp_write_full(fd, s->sbuf, n) < 0 || fsync(fd) < 0) {
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(s->dirfd, STATE_TMP, s->dirfd, STATE_FILE) < 0 || fsync(s->dirfd) < 0) {
        goto fail;
    }
    s->id_reserved = reserve;
    s->state_dirty = 0;
    return 0;
fail:
    e = errno;
    if (fd >= 0) {
        close(fd);
    }
    unlinkat(s->dirfd, STATE_TMP, 0);
    errno = e;
    return -1;
}

static int parse_u64(const char **p, uint64_t *v)
{
    char *end;
    while (**p == ' ') {
        (*p)++;
    }
    if (**p < '0' || **p > '9') {
        return -1;
    }
    errno = 0;
    *v = strtoull(*p, &end, 10);
    if (errno) {
        return -1;
    }
    *p = end;
    return 0;
}

/*
 * Load the state file. Returns 1 loaded, 0 absent or unusable (then every consumer
 * is treated as unknown, which re-sends rather than skips), -1 on read errors.
 */
int sp_load_state(struct em_spool *s, uint64_t *reserve, int *found)
{
    char *buf = NULL, *line, *crcline;
    struct stat st;
    size_t got = 0;
    int fd, ret = 0;
    uint32_t crc;
    unsigned long want;

    fd = openat(s->dirfd, STATE_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? 0 : -1;
    }
    if (fstat(fd, &st) < 0) {
        ret = -1;
        goto out;
    }
    if (st.st_size <= 0 || st.st_size > STATE_MAX) {
        goto out;
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        ret = -1;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            ret = -1;
            goto out;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    /* The last line is "crc XXXXXXXX" over everything before it. */
    crcline = strstr(buf, "\ncrc ");
    if (!crcline || strncmp(buf, "edgemon-spool 1\n", 16) != 0) {
        goto out;
    }
    crcline++;
    crc = ~sp_crc_update(s->crc_tab, 0xffffffffu, buf, (size_t)(crcline - buf));
    want = strtoul(crcline + 4, NULL, 16);
    if (want != crc) {
        goto out;
    }
    *crcline = '\0';
    for (line = buf; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *p;
        uint64_t v[1 + EM_SPOOL_DROP_NREASONS];
        if (strncmp(line, "next_id ", 8) == 0) {
            p = line + 8;
            if (parse_u64(&p, reserve) < 0) {
                goto out;
            }
        } else if (strncmp(line, "consumer ", 9) == 0) {
            const char *name = line + 9;
            size_t nl = strcspn(name, " \n");
            p = name + nl;
            for (int k = 0; k < 1 + EM_SPOOL_DROP_NREASONS; k++) {
                if (parse_u64(&p, &v[k]) < 0) {
                    goto out;
                }
            }
            for (size_t i = 0; i < s->ncons; i++) {
                struct cons *c = &s->cons[i];
                if (strlen(c->name) == nl && memcmp(c->name, name, nl) == 0) {
                    c->ack = v[0];
                    memcpy(c->dropped, &v[1], sizeof(c->dropped));
                    found[i] = 1;
                }
            }
        }
    }
    ret = 1;
out:
    if (ret == 0) {
        /* Unusable: forget what was half-parsed. */
        *reserve = 0;
        for (size_t i = 0; i < s->ncons; i++) {
            found[i] = 0;
            memset(s->cons[i].dropped, 0, sizeof(s->cons[i].dropped));
        }
    }
    free(buf);
    close(fd);
    return ret;
}
