/* pubcore.h - a stand-in for the core in publisher tests: records every verdict.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Pass core_done and a struct core to a publisher's create(); the tests then
 * check that each token got exactly one verdict, and which. Static inline so
 * that each test binary takes only what it uses.
 */
#ifndef EM_PUBCORE_H
#define EM_PUBCORE_H

#include <stdint.h>
#include <stdio.h>

#include "publisher.h"

#define MAX_TOKENS 8192

struct core {
    unsigned char verdicts[MAX_TOKENS]; /* how many done() calls per token */
    enum em_pub_result last[MAX_TOKENS];
    size_t ok, retry, drop, bad;
};

static inline void core_done(void *p, uint64_t token, enum em_pub_result r)
{
    struct core *k = p;

    if (token >= MAX_TOKENS) {
        k->bad++;
        return;
    }
    k->verdicts[token]++;
    k->last[token] = r;
    if (r == EM_PUB_OK)
        k->ok++;
    else if (r == EM_PUB_RETRY)
        k->retry++;
    else
        k->drop++;
}

/* Tokens in [first, first+n) that got exactly one verdict, and it was `r`. */
static inline size_t core_count(const struct core *k, uint64_t first, size_t n,
                                enum em_pub_result r)
{
    size_t c = 0;

    for (uint64_t t = first; t < first + n; t++)
        c += k->verdicts[t] == 1 && k->last[t] == r;
    return c;
}

/* No token got more than one verdict, and none was out of range. */
static inline int core_once(const struct core *k)
{
    for (size_t t = 0; t < MAX_TOKENS; t++) {
        if (k->verdicts[t] > 1) {
            printf("    token %zu got %d verdicts\n", t, k->verdicts[t]);
            return 0;
        }
    }
    return k->bad == 0;
}

#endif
