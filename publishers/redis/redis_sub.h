/* redis_sub.h - the Redis publisher's subscribe side: a second, non-blocking connection.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * A connection in SUBSCRIBE mode can send nothing but (un)subscribe and PING, so
 * feature flags get a connection of their own beside the data pipeline. Same
 * rules as redis.c: connect with redisConnectNonBlock and poll(2) at zero
 * timeout, read only what arrived, reconnect with a capped jittered backoff and
 * SUBSCRIBE again every time. A PING every SUB_PING_MS finds a Redis that
 * vanished without a FIN. Core thread only: em_redis_sub_service delivers.
 */
#ifndef EM_PUB_REDIS_SUB_H
#define EM_PUB_REDIS_SUB_H

#include <stddef.h>

#include "busaddr.h"
#include "publisher.h"

struct em_redis_sub;

/*
 * `addr`, `username` and `password` (NULL when none) are borrowed for the
 * subscriber's lifetime; the topics are copied. Nothing connects before the
 * first service. NULL with errno (ENOMEM).
 */
struct em_redis_sub *em_redis_sub_new(const struct em_redis_addr *addr, const char *username,
                                      const char *password, long timeout_ms,
                                      const char *const *topics, size_t n, em_pub_inbox_fn fn,
                                      void *arg);
/* Connect, subscribe, read, deliver; never waits. */
void em_redis_sub_service(struct em_redis_sub *s);
/* 1 while subscribed. */
int em_redis_sub_up(const struct em_redis_sub *s);
void em_redis_sub_free(struct em_redis_sub *s); /* NULL-safe */

/* TCP keepalive on a Redis socket (redis.c). */
void em_redis_keepalive(int fd);

#endif
