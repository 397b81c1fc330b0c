/* kafka_mock.c - librdkafka's mock cluster (a real Kafka wire-protocol server) for tests.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * kafka_mock TOPIC... : starts a one-broker mock cluster with TOPIC... (1
 * partition each), prints "bootstrap HOST:PORT" on stdout, then writes every
 * message of those topics as "topic<TAB>key<TAB>value" lines on stdout.
 * Commands, one per line on stdin (a FIFO in tests), each answered "ok CMD":
 *   down | up             rd_kafka_mock_broker_set_down / _up (all brokers)
 *   error CODE N          the next N Produce requests fail with error CODE
 *                         (e.g. 6 = NOT_LEADER_FOR_PARTITION, 10 = MSG_SIZE_TOO_LARGE)
 * Links librdkafka directly (a test tool, never part of edgemon). Ends on EOF
 * of stdin, SIGTERM or SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void command(rd_kafka_mock_cluster_t *mc, char *line)
{
    int code, n;

    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "down") == 0)
        rd_kafka_mock_broker_set_down(mc, -1);
    else if (strcmp(line, "up") == 0)
        rd_kafka_mock_broker_set_up(mc, -1);
    else if (sscanf(line, "error %d %d", &code, &n) == 2 && n > 0 && n < 10000) {
        rd_kafka_resp_err_t *e = malloc(sizeof *e * (size_t)n);

        for (int i = 0; i < n; i++)
            e[i] = (rd_kafka_resp_err_t)code;
        rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, (size_t)n, e);
        free(e);
    } else {
        printf("unknown command %s\n", line);
        fflush(stdout);
        return;
    }
    printf("ok %s\n", line);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    char err[512], line[256];
    size_t have = 0;
    rd_kafka_conf_t *kc;
    rd_kafka_t *owner, *cons;
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_topic_partition_list_t *parts;

    if (argc < 2) {
        fprintf(stderr, "usage: kafka_mock TOPIC...\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    kc = rd_kafka_conf_new();
    rd_kafka_conf_set(kc, "log_level", "2", err, sizeof err);
    owner = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (!owner) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(owner, 1);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        return 1;
    }
    parts = rd_kafka_topic_partition_list_new(argc - 1);
    for (int i = 1; i < argc; i++) {
        rd_kafka_mock_topic_create(mc, argv[i], 1, 1);
        rd_kafka_topic_partition_list_add(parts, argv[i], 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    kc = rd_kafka_conf_new();
    if (rd_kafka_conf_set(kc, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc), err,
                          sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(kc, "log_level", "2", err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(kc, "group.id", "kafka_mock", err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(kc, "enable.auto.commit", "false", err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(kc, "reconnect.backoff.max.ms", "1000", err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    if (getenv("KAFKA_MOCK_DEBUG"))
        rd_kafka_conf_set(kc, "debug", getenv("KAFKA_MOCK_DEBUG"), err, sizeof err);
    cons = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof err);
    if (!cons) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    rd_kafka_assign(cons, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);

    while (!stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 50);
        ssize_t r;

        if (m) {
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "kafka_mock: consumer: %s\n", rd_kafka_message_errstr(m));
            else if (!m->err)
                printf("%s\t%.*s\t%.*s\n", rd_kafka_topic_name(m->rkt), (int)m->key_len,
                       m->key ? (const char *)m->key : "", (int)m->len,
                       m->payload ? (const char *)m->payload : "");
            rd_kafka_message_destroy(m);
            fflush(stdout);
        }
        r = read(0, line + have, sizeof line - 1 - have);
        if (r == 0)
            break;
        if (r > 0) {
            char *nl;

            have += (size_t)r;
            line[have] = '\0';
            while ((nl = strchr(line, '\n'))) {
                *nl = '\0';
                command(mc, line);
                memmove(line, nl + 1, have - (size_t)(nl + 1 - line) + 1);
                have -= (size_t)(nl + 1 - line);
            }
            if (have == sizeof line - 1)
                have = 0; /* an overlong line: forget it */
        }
    }
    rd_kafka_consumer_close(cons);
    rd_kafka_destroy(cons);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return 0;
}
