/* kafka.h - the Kafka publisher (librdkafka, loaded at run time).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Serves publishers[] entries of type "kafka":
 *   bootstrap_servers (or bootstrapServers)  HOST:PORT[,HOST:PORT...], required
 *   topic       template, default "monitoring.{dataset}"; the message key is the
 *               device id (the agent id for "site"), so one device's readings go
 *               to one partition, in order
 *   client_id   default "producer.NNNN" (4 random digits)
 *   idempotence enable.idempotence (default false); it makes librdkafka demand
 *               acks=all, so acks is "all" then instead of 1
 *   ordered     one produce request in flight per broker (no reordering by retries)
 *   window      messages produced and not yet reported, 1..65535; default 64
 *   timeout_ms  request and connect timeout; a message not delivered within
 *               3 x timeout_ms (message.timeout.ms) comes back as EM_PUB_RETRY
 *   username + password or password_file  SASL PLAIN
 *   ca_file, cert_file + key_file, tls_verify  TLS (SSL, or SASL_SSL with a username)
 * Fixed producer settings, as the platform's other Kafka producers have them:
 * acks=1 (the partition leader wrote it), 8 retries inside librdkafka per message
 * (message.send.max.retries), enable.idempotence=false unless configured.
 *
 * Delivery: submit() hands the message to librdkafka (a copy) and returns at once;
 * service() polls librdkafka, whose delivery reports give the verdict: delivered
 * (acks=1) is EM_PUB_OK; a message too large or an invalid topic is EM_PUB_DROP
 * (logged, rate-limited); anything else (broker down, message timeout, leader
 * errors after the 8 retries, authorisation) is EM_PUB_RETRY, so the core keeps
 * the reading. Duplicates are possible after a RETRY (at-least-once).
 * up() is 1 while librdkafka has a broker connection (statistics every second,
 * the all-brokers-down error, successful deliveries).
 */
#ifndef EM_PUB_KAFKA_H
#define EM_PUB_KAFKA_H

#include "publisher.h"

extern const struct em_publisher kafka_publisher;

/* The verdict for a librdkafka error code (rd_kafka_resp_err_t) in a delivery
 * report or from produce: EM_PUB_OK for no error, EM_PUB_DROP for errors that
 * a resend of the same message would meet again, EM_PUB_RETRY otherwise. */
enum em_pub_result em_kafka_verdict(int err);

/* Any librdkafka broker in state UP in a statistics JSON (internal ones aside):
 * 1, 0, or -1 when the JSON cannot be read. */
int em_kafka_stats_up(const char *json, size_t len);

#endif
