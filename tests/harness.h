/* harness.h - a tiny test harness: checks, named tests, and the closing count.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Each test function runs its checks; the first failed check fails the test.
 * Output: one "PASS name" / "FAIL name: why" line per test, then
 * "N passed, N failed". tests/run.sh sums these over all binaries.
 */
#ifndef EM_HARNESS_H
#define EM_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int th_failed_now;
static int th_pass, th_fail;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            printf("    %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
            th_failed_now = 1;                                                           \
            return;                                                                      \
        }                                                                                \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                               \
    do {                                                                                 \
        long long th_a = (long long)(a), th_b = (long long)(b);                          \
        if (th_a != th_b) {                                                              \
            printf("    %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, th_a, \
                   th_b);                                                                \
            th_failed_now = 1;                                                           \
            return;                                                                      \
        }                                                                                \
    } while (0)

#define CHECK_NEAR(a, b, eps)                                                            \
    do {                                                                                 \
        double th_a = (double)(a), th_b = (double)(b);                                   \
        if (!(fabs(th_a - th_b) <= (eps))) {                                             \
            printf("    %s:%d: %s == %.9g, expected %.9g\n", __FILE__, __LINE__, #a, th_a, \
                   th_b);                                                                \
            th_failed_now = 1;                                                           \
            return;                                                                      \
        }                                                                                \
    } while (0)

#define CHECK_STR(a, b)                                                                  \
    do {                                                                                 \
        const char *th_a = (a), *th_b = (b);                                             \
        if (!th_a || strcmp(th_a, th_b) != 0) {                                          \
            printf("    %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,   \
                   th_a ? th_a : "(null)", th_b);                                        \
            th_failed_now = 1;                                                           \
            return;                                                                      \
        }                                                                                \
    } while (0)

#define RUN(fn)                                                                          \
    do {                                                                                 \
        th_failed_now = 0;                                                               \
        fn();                                                                            \
        if (th_failed_now) {                                                             \
            printf("FAIL %s\n", #fn);                                                    \
            th_fail++;                                                                   \
        } else {                                                                         \
            printf("PASS %s\n", #fn);                                                    \
            th_pass++;                                                                   \
        }                                                                                \
        fflush(stdout);                                                                  \
    } while (0)

#define DONE()                                                                           \
    do {                                                                                 \
        printf("%d passed, %d failed\n", th_pass, th_fail);                              \
        return th_fail ? 1 : 0;                                                          \
    } while (0)

#endif
