/* kubemq.h - the KubeMQ publisher (REST API over libcurl, never blocking).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Serves publishers[] entries of type "kubemq" (CONTRACT section 4; wire facts
 * from /work/shared/reference/protocols.md section 1, kubemq-community server):
 *   url        http(s)://HOST:PORT of the REST interface (default port 9090)
 *   channel    channel template (topic is an alias), default "monitoring.{dataset}"
 *   mode       "queue" (default): up to `batch` messages per POST /queue/send_batch;
 *              "events_store": one message per POST /send/event with Store: true
 *   batch      messages per queue batch, default 100 (the core's `window` caps how
 *              many are in flight, so a batch never exceeds it)
 *   client_id  ClientID (template), default the agent id
 *   token / token_file  sent as "Authorization: Bearer TOKEN"
 *   ca_file, cert_file/key_file, tls_verify (default on) for https://
 *   timeout_ms each request (connect included) ends within it; default 5000
 * Each message: MessageID/EventID "{agent}:{device}:{seq}" (the same on every
 * resend), Channel the rendered template, Metadata the dataset, Body the message
 * JSON in standard base64.
 *
 * Confirmation (EM_PUB_OK): queue mode: Results[i] of the batch reply has no
 * IsError and a SentAt (the server replies once the store acked every message);
 * events_store: data.Sent, i.e. handed to the store asynchronously ("probably
 * stored"). Verdicts: a validation error for the message ("Error 1xx", or a 400
 * for an event) is EM_PUB_DROP, logged with the server's text (rate-limited);
 * everything else that is not a confirmation (503, connection errors, timeouts,
 * malformed or truncated replies, unconfirmed results) is EM_PUB_RETRY, and the
 * publisher then reports down and waits a capped, jittered backoff (0.2 s doubling
 * to 5 s) before it pings again. up() turns 1 after GET /ping answered; the
 * server's Version and Host are logged once.
 */
#ifndef EM_PUB_KUBEMQ_H
#define EM_PUB_KUBEMQ_H

#include "publisher.h"

extern const struct em_publisher kubemq_publisher;

#endif
