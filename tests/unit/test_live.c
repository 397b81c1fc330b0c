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

static void test_confirmed_taken_once(void)
{
    struct em_live *l = em_live_new(2, 256);
    CHECK(l != NULL);
    em_live_confirmed(l, 0, 41);
    em_live_confirmed(l, 1, 41);
    CHECK_EQ_INT(em_live_take(l, 0, 40), 0);
    CHECK_EQ_INT(em_live_take(l, 0, 41), 1);
    CHECK_EQ_INT(em_live_take(l, 0, 41), 0); /* forgotten once taken */
    CHECK_EQ_INT(em_live_take(l, 1, 41), 1); /* per device */
    CHECK_EQ_INT(em_live_take(l, 5, 41), 0); /* unknown device */
    /* Only the last EM_LIVE_SEEN are remembered: the oldest is sent again. */
    for (uint64_t s = 1; s <= EM_LIVE_SEEN + 1; s++)
        em_live_confirmed(l, 0, s);
    CHECK_EQ_INT(em_live_take(l, 0, 1), 0);
    CHECK_EQ_INT(em_live_take(l, 0, 2), 1);
    CHECK_EQ_INT(em_live_take(l, 0, EM_LIVE_SEEN + 1), 1);
    em_live_free(l);
}

int main(void)
{
    RUN(test_ring_order_wrap_and_room);
    RUN(test_confirmed_taken_once);
    DONE();
}
