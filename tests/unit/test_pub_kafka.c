/* test_pub_kafka.c - the Kafka publisher: its pure parts, and verdicts against
 * librdkafka's mock cluster (a Kafka protocol server inside this process).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "pubcore.h"
#include "publisher.h"

#ifdef WITH_KAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka/kafka.h"

static rd_kafka_mock_cluster_t *mc;
static struct core k;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_verdicts_by_error(void)
{
    CHECK_EQ_INT(em_kafka_verdict(RD_KAFKA_RESP_ERR_NO_ERROR), EM_PUB_OK);
    CHECK_EQ_INT(em_kafka_verdict(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE), EM_PUB_DROP);
    CHECK_EQ_INT(em_kafka_verdict(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION), EM_PUB_DROP);
    CHECK_EQ_INT(em_kafka_verdict(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT), EM_PUB_RETRY);
    CHECK_EQ_INT(em_kafka_verdict(RD_KAFKA_RESP_ERR__TRANSPORT), EM_PUB_RETRY);
    CHECK_EQ_INT(em_kafka_verdict(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION), EM_PUB_RETRY);
    CHECK_EQ_INT(em_kafka_verdict(RD_KAFKA_RESP_ERR__QUEUE_FULL), EM_PUB_RETRY);
}

static void test_stats_up(void)
{
    const char *up = "{\"brokers\":{\"a/internal\":{\"source\":\"internal\",\"state\":\"UP\"},"
                     "\"b/1\":{\"source\":\"learned\",\"state\":\"UP\"}}}";
    const char *down = "{\"brokers\":{\"a/internal\":{\"source\":\"internal\",\"state\":\"UP\"},"
                       "\"b/1\":{\"source\":\"learned\",\"state\":\"CONNECT\"}}}";

    CHECK_EQ_INT(em_kafka_stats_up(up, strlen(up)), 1);
    CHECK_EQ_INT(em_kafka_stats_up(down, strlen(down)), 0);
    CHECK_EQ_INT(em_kafka_stats_up("{", 1), -1);
}

/* Service p until `n` verdicts in all arrived or ms passed. */
static void wait_verdicts(void *ctx, size_t n, long ms)
{
    long long end = now_ms() + ms;

    while (k.ok + k.retry + k.drop < n && now_ms() < end) {
        kafka_publisher.service(ctx);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

static void *make(int window)
{
    static struct em_pub_conf c;
    char err[256];
    void *ctx;

    memset(&c, 0, sizeof c);
    c.name = "t";
    c.type = "kafka";
    c.topic = "monitoring.{dataset}";
    c.bootstrap_servers = (char *)rd_kafka_mock_cluster_bootstraps(mc);
    c.timeout_ms = 500;
    c.window = window;
    c.agent = "gw";
    memset(&k, 0, sizeof k);
    ctx = kafka_publisher.create(&c, core_done, &k, err, sizeof err);
    if (!ctx)
        printf("    create: %s\n", err);
    return ctx;
}

static struct em_pub_msg msg(uint64_t token)
{
    static const char body[] = "{\"id\":\"mppt-1\"}";
    struct em_pub_msg m = {"mppt", "mppt-1", body, sizeof body - 1, token};

    return m;
}

static void test_delivered_ok_and_window(void)
{
    void *p = make(4);
    long long end = now_ms() + 20000; /* generous: valgrind, a loaded machine */

    CHECK(p);
    while (!kafka_publisher.up(p) && now_ms() < end) {
        struct timespec ts = {0, 5000000}; /* valgrind runs one thread at a time */
        kafka_publisher.service(p);
        nanosleep(&ts, NULL);
    }
    CHECK(kafka_publisher.up(p));
    for (uint64_t t = 0; t < 4; t++) {
        struct em_pub_msg m = msg(t);
        CHECK_EQ_INT(kafka_publisher.submit(p, &m), EM_PUB_OK);
    }
    struct em_pub_msg m = msg(4);
    CHECK_EQ_INT(kafka_publisher.submit(p, &m), EM_PUB_RETRY); /* window full */
    CHECK_EQ_INT(kafka_publisher.inflight(p), 4);
    wait_verdicts(p, 4, 20000);
    CHECK_EQ_INT(core_count(&k, 0, 4, EM_PUB_OK), 4);
    CHECK_EQ_INT(kafka_publisher.inflight(p), 0);
    CHECK(core_once(&k));
    kafka_publisher.destroy(p);
}

static void test_too_large_is_dropped(void)
{
    void *p = make(8);

    CHECK(p);
    rd_kafka_mock_push_request_errors(mc, 0, 9, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    struct em_pub_msg m = msg(10);
    CHECK_EQ_INT(kafka_publisher.submit(p, &m), EM_PUB_OK);
    wait_verdicts(p, 1, 20000);
    rd_kafka_mock_clear_request_errors(mc, 0);
    CHECK_EQ_INT(core_count(&k, 10, 1, EM_PUB_DROP), 1);
    kafka_publisher.destroy(p);
}

static void test_broker_down_gives_retry(void)
{
    void *p = make(8);
    long long t0;

    CHECK(p);
    rd_kafka_mock_broker_set_down(mc, -1);
    t0 = now_ms();
    struct em_pub_msg m = msg(20);
    CHECK_EQ_INT(kafka_publisher.submit(p, &m), EM_PUB_OK);
    wait_verdicts(p, 1, 20000); /* message.timeout.ms = 3 x 500 */
    rd_kafka_mock_broker_set_up(mc, -1);
    CHECK_EQ_INT(core_count(&k, 20, 1, EM_PUB_RETRY), 1);
    CHECK(now_ms() - t0 < 15000);
    CHECK(!kafka_publisher.up(p));
    t0 = now_ms();
    kafka_publisher.destroy(p);
    CHECK(now_ms() - t0 < 3000); /* destroy does not wait on the brokers */
}

int main(void)
{
    char err[256];
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    rd_kafka_t *owner;

    rd_kafka_conf_set(kc, "log_level", "2", err, sizeof err);
    owner = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    mc = owner ? rd_kafka_mock_cluster_new(owner, 1) : NULL;
    if (!mc) {
        printf("FAIL mock-cluster: cannot start\n");
        return 1;
    }
    rd_kafka_mock_topic_create(mc, "monitoring.mppt", 1, 1);
    RUN(test_verdicts_by_error);
    RUN(test_stats_up);
    RUN(test_delivered_ok_and_window);
    RUN(test_too_large_is_dropped);
    RUN(test_broker_down_gives_retry);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    DONE();
}
#else
int main(void)
{
    printf("PASS kafka-compiled-out\n");
    return 0;
}
#endif
