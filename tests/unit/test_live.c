/* test_live.c - the live lane's copies ring and confirmed-reading memory.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "harness.h"
#include "live.h"

static void test_ring_order_wrap_and_room(void)
{
    struct em_live *l = em_live_new(2, 64);
    char msg[32];
    size_t len;
    CHECK(l != NULL);
    CHECK(em_live_peek(l, &len) == NULL);
    /* 20-byte records (4 + 16): three fit in 64 bytes; a fourth evicts the oldest. */
    for (int i = 0; i < 10; i++) {
        snprintf(msg, sizeof msg, "message-number-%d", i % 10);
        em_live_put(l, msg, 16);
    }
    CHECK_EQ_INT(em_live_waiting(l), 3);
    const char *m = em_live_peek(l, &len);
    CHECK(m && len == 16 && memcmp(m, "message-number-7", 16) == 0);
    em_live_pop(l);
    m = em_live_peek(l, &len);
    CHECK(m && memcmp(m, "message-number-8", 16) == 0);
    /* A record larger than the ring is refused, not truncated. */
    char big[100] = {0};
    em_live_put(l, big, sizeof big);
    CHECK_EQ_INT(em_live_waiting(l), 2);
    em_live_drop_waiting(l);
    CHECK_EQ_INT(em_live_waiting(l), 0);
    em_live_free(l);
}

static void test_confirmed_remembered(void)
{
    struct em_live *l = em_live_new(2, 256);
    CHECK(l != NULL);
    em_live_confirmed(l, 0, 41);
    em_live_confirmed(l, 1, 41);
    CHECK_EQ_INT(em_live_take(l, 0, 40), 0);
    CHECK_EQ_INT(em_live_take(l, 0, 41), 1);
    /* Still known when a rewind makes the backlog read it again. */
    CHECK_EQ_INT(em_live_take(l, 0, 41), 1);
    CHECK_EQ_INT(em_live_take(l, 1, 41), 1); /* per device */
    CHECK_EQ_INT(em_live_take(l, 1, 42), 0);
    CHECK_EQ_INT(em_live_take(l, 5, 41), 0); /* unknown device */
    em_live_free(l);
}

/* A long drain: one run covers every reading the lane confirmed, in any number. */
static void test_long_run(void)
{
    struct em_live *l = em_live_new(1, 256);
    CHECK(l != NULL);
    for (uint64_t s = 1000; s < 1000 + 100000; s++)
        em_live_confirmed(l, 0, s);
    CHECK_EQ_INT(em_live_take(l, 0, 999), 0);
    CHECK_EQ_INT(em_live_take(l, 0, 1000), 1);
    CHECK_EQ_INT(em_live_take(l, 0, 50000), 1);
    CHECK_EQ_INT(em_live_take(l, 0, 100999), 1);
    CHECK_EQ_INT(em_live_take(l, 0, 101000), 0);
    em_live_free(l);
}

/* Unconfirmed copies leave holes; a late confirmation closes one from either side. */
static void test_holes_and_runs(void)
{
    struct em_live *l = em_live_new(1, 256);
    CHECK(l != NULL);
    em_live_confirmed(l, 0, 10);
    em_live_confirmed(l, 0, 11);
    em_live_confirmed(l, 0, 13); /* 12 was never confirmed */
    CHECK_EQ_INT(em_live_take(l, 0, 12), 0);
    CHECK_EQ_INT(em_live_take(l, 0, 13), 1);
    em_live_confirmed(l, 0, 9); /* extends 10..11 downwards */
    CHECK_EQ_INT(em_live_take(l, 0, 9), 1);
    CHECK_EQ_INT(em_live_take(l, 0, 8), 0);
    em_live_confirmed(l, 0, 11); /* already known: no new run */
    /* More runs than fit: the oldest is forgotten (sent again, never lost). */
    for (uint64_t k = 0; k < EM_LIVE_RUNS; k++)
        em_live_confirmed(l, 0, 100 + 2 * k);
    CHECK_EQ_INT(em_live_take(l, 0, 10), 0);
    CHECK_EQ_INT(em_live_take(l, 0, 100), 1);
    CHECK_EQ_INT(em_live_take(l, 0, 100 + 2 * (EM_LIVE_RUNS - 1)), 1);
    CHECK_EQ_INT(em_live_take(l, 0, 101), 0);
    em_live_free(l);
}

int main(void)
{
    RUN(test_ring_order_wrap_and_room);
    RUN(test_confirmed_remembered);
    RUN(test_long_run);
    RUN(test_holes_and_runs);
    DONE();
}
