/* nats_pub.h - the NATS publisher (libnats, loaded at run time): JetStream or core NATS.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * (Not nats/nats.h: with -Ipublishers that name would hide libnats' own <nats/nats.h>.)
 *
 * Serves publishers[] entries of type "nats":
 *   url         nats://HOST[:PORT] or tls://HOST[:PORT] (libnats' schemes), required
 *   topic       subject template, default "monitoring.{dataset}"
 *   mode        "jetstream" (default) or "core"
 *   stream      jetstream: the stream that takes the subjects, default "monitoring";
 *               created (file storage, subjects = the template with {dataset} and {id}
 *               as "*": "monitoring.*") when it does not exist; they must then be
 *               whole tokens ("a.{id}", not "a.dev-{id}")
 *   window      messages published and not yet confirmed, 1..65535; default 64
 *   timeout_ms  connect timeout, PubAck / flush wait; default 5000
 *   client_id   the connection name (template), default "edgemon-{agent}"
 *   username + password or password_file, or token / token_file: credentials
 *   ca_file, cert_file + key_file, tls_verify: TLS
 *
 * Confirmation.
 * - jetstream: each message is published with a reply subject of our own and the
 *   header Nats-Msg-Id = "{agent}:{device}:{seq}"; the stream's PubAck on that reply
 *   subject confirms it (EM_PUB_OK, also for "duplicate": the server already had it,
 *   de-duplicated within the stream's duplicate window, 2 minutes by default). An
 *   error reply, no reply within timeout_ms, no stream for the subject, or a lost
 *   connection is EM_PUB_RETRY: the core sends it again, with the same id.
 * - core: NATS itself has no acknowledgement. After a burst of messages the publisher
 *   publishes a marker to its own inbox; the server handles a connection's messages
 *   in order, so when the marker comes back every message before it was taken by the
 *   server (what natsConnection_Flush's PING/PONG proves, without blocking).
 *   Subscribers that were not there do not get it: core NATS is at-most-once.
 * up() is 1 while libnats is connected (and, for jetstream, the stream is there).
 * libnats reconnects by itself, forever, every 250 ms (plus jitter).
 */
#ifndef EM_PUB_NATS_H
#define EM_PUB_NATS_H

#include <stddef.h>

#include "publisher.h"

extern const struct em_publisher nats_publisher;

/*
 * The verdict on a JetStream PubAck reply `data` (len bytes): EM_PUB_OK for
 * {"stream":..,"seq":N,...}, EM_PUB_RETRY for an {"error":{...}} reply or anything
 * unreadable. When `why` is given (whylen > 0), an error's description is copied there.
 */
enum em_pub_result em_nats_puback(const char *data, size_t len, char *why, size_t whylen);

/*
 * The stream's subjects for a subject template: {agent} and {site} rendered, {dataset}
 * and {id} as the wildcard "*". Returns the length, or -1 with errno (EINVAL: an
 * unknown placeholder, or {dataset}/{id} inside a token; ENAMETOOLONG).
 */
int em_nats_stream_subjects(const char *tmpl, const char *agent, const char *site, char *out,
                            size_t outlen);

#endif
