/* handoff.c - the bounded hand-off of messages from bus threads to the core.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "handoff.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int em_handoff_init(struct em_handoff *h, size_t cap)
{
    memset(h, 0, sizeof *h);
    h->buf = malloc(cap);
    if (!h->buf) {
        errno = ENOMEM;
        return -1;
    }
    h->cap = cap;
    h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (h->wake_fd < 0) {
        int e = errno;
        free(h->buf);
        h->buf = NULL;
        errno = e;
        return -1;
    }
    pthread_mutex_init(&h->lock, NULL);
    return 0;
}

void em_handoff_release(struct em_handoff *h)
{
    if (!h->buf)
        return;
    pthread_mutex_destroy(&h->lock);
    close(h->wake_fd);
    free(h->buf);
    h->buf = NULL;
}

static void ring_write(struct em_handoff *h, const void *src, size_t n)
{
    const unsigned char *s = src;
    size_t first = h->cap - h->tail < n ? h->cap - h->tail : n;
    memcpy(h->buf + h->tail, s, first);
    memcpy(h->buf, s + first, n - first);
    h->tail = (h->tail + n) % h->cap;
    h->used += n;
}

static void ring_read(struct em_handoff *h, void *dst, size_t n)
{
    unsigned char *d = dst;
    size_t first = h->cap - h->head < n ? h->cap - h->head : n;
    if (d) {
        memcpy(d, h->buf + h->head, first);
        memcpy(d + first, h->buf, n - first);
    }
    h->head = (h->head + n) % h->cap;
    h->used -= n;
}

/* What precedes each record in the ring. */
struct hdr {
    struct em_handoff_tag tag;
    uint32_t len;
};

int em_handoff_push(struct em_handoff *h, const void *rec, size_t len,
                    const struct em_handoff_tag *tag)
{
    struct hdr hd = {.len = (uint32_t)len};
    if (len + sizeof hd > h->cap) {
        errno = EMSGSIZE;
        return -1;
    }
    if (tag)
        hd.tag = *tag;
    pthread_mutex_lock(&h->lock);
    while (h->cap - h->used < len + sizeof hd) {
        struct hdr old;
        ring_read(h, &old, sizeof old);
        ring_read(h, NULL, old.len);
        h->dropped++;
    }
    ring_write(h, &hd, sizeof hd);
    ring_write(h, rec, len);
    h->pushed++;
    int wake = h->sleeping;
    h->sleeping = 0;
    pthread_mutex_unlock(&h->lock);
    if (wake)
        em_handoff_kick(h);
    return 0;
}

void em_handoff_kick(struct em_handoff *h)
{
    uint64_t one = 1;
    /* EAGAIN: the counter is full, so the consumer wakes anyway. */
    ssize_t n = write(h->wake_fd, &one, sizeof one);
    (void)n;
}

long em_handoff_pop(struct em_handoff *h, void *out, size_t outlen, int timeout_ms,
                    struct em_handoff_tag *tag)
{
    long rc = 0;
    pthread_mutex_lock(&h->lock);
    if (h->used == 0 && timeout_ms > 0) {
        /* A push after the unlock sees `sleeping` and writes the eventfd, so
         * poll returns at once: no wake-up is lost between the two. */
        h->sleeping = 1;
        pthread_mutex_unlock(&h->lock);
        struct pollfd pfd = {h->wake_fd, POLLIN, 0};
        if (poll(&pfd, 1, timeout_ms) > 0) {
            uint64_t count;
            ssize_t n = read(h->wake_fd, &count, sizeof count); /* back to 0 */
            (void)n;
        }
        pthread_mutex_lock(&h->lock);
        h->sleeping = 0;
    }
    if (h->used > 0) {
        struct hdr hd;
        ring_read(h, &hd, sizeof hd);
        if (tag)
            *tag = hd.tag;
        if (hd.len > outlen) {
            ring_read(h, NULL, hd.len);
            errno = EMSGSIZE;
            rc = -1;
        } else {
            ring_read(h, out, hd.len);
            rc = (long)hd.len;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return rc;
}
