/* redis.h - the Redis publisher (hiredis, non-blocking, pipelined).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Serves publishers[] entries of type "redis" (CONTRACT section 4):
 *   url         redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (port 6379, db 0) or
 *               redis:///PATH/TO/SOCKET[?db=N]; USER and PASSWORD may be %-encoded
 *   topic       key template (channel is an alias), default "monitoring.{dataset}"
 *   mode        "publish" (default): PUBLISH key payload
 *               "stream": XADD key MAXLEN ~ stream_maxlen * data payload, one entry
 *               per message with the single field "data" holding the JSON message
 *   stream_maxlen  the approximate cap of each stream; <= 0 means 100000. "~" lets
 *               Redis trim whole macro nodes, so a stream keeps at least this many
 *               entries and at most about one node (stream-node-max-entries) more
 *   window      commands awaiting their reply, 1..4096 (larger values are taken as
 *               4096, the most the core keeps in flight); <= 0 means 64
 *   timeout_ms  connect timeout, and the longest wait for the next reply while
 *               commands are outstanding; <= 0 means 5000
 *   username, password or password_file (read once at create, one trailing newline
 *               stripped); a password in the url is the same as `password`. With a
 *               username the publisher sends AUTH USER PASSWORD (Redis 6 ACL)
 * After every (re)connect the publisher sends AUTH and SELECT (or PING when it needs
 * neither) and reports up() only once Redis answered them without an error.
 *
 * Delivery: a message is confirmed (EM_PUB_OK) when Redis answered its command:
 * PUBLISH with an integer (the number of subscribers, 0 included), XADD with the
 * entry id. Errors that depend on the server's state (OOM, LOADING, BUSY, READONLY,
 * MISCONF, MASTERDOWN, TRYAGAIN, CLUSTERDOWN, NOREPLICAS, NOAUTH) give EM_PUB_RETRY;
 * any other error reply (WRONGTYPE, NOPERM, ERR ...) will not change on a resend and
 * gives EM_PUB_DROP, as does a key the template cannot render (too long). When the
 * connection is lost or a reply is overdue, every command still awaiting its reply
 * gets EM_PUB_RETRY once, so a message may reach Redis twice (at-least-once), and
 * the publisher reconnects after 0.1 s, doubling up to 5 s. Nothing is buffered
 * while the link is down: submit() answers EM_PUB_RETRY.
 *
 * The process must ignore SIGPIPE (hiredis writes with write(2)); the daemon does.
 */
#ifndef EM_PUB_REDIS_H
#define EM_PUB_REDIS_H

#include "publisher.h"

extern const struct em_publisher redis_publisher;

#endif
