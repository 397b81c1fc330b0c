/* bench_kafka.c - throughput of the Kafka publisher against librdkafka's mock cluster.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * N messages of 400 bytes (the size of a reading) through submit()/service() with
 * a window of 1000, until every delivery report came back; prints messages/s.
 * The mock cluster runs in this process, so the figure is the publisher's and
 * librdkafka's cost, not a network's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "publisher.h"

#ifdef WITH_KAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static size_t ok, other;

static void done(void *core, uint64_t token, enum em_pub_result r)
{
    (void)core;
    (void)token;
    if (r == EM_PUB_OK)
        ok++;
    else
        other++;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const struct em_publisher *pub = em_publisher_find("kafka");
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000, sent = 0;
    char err[256], body[400];
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    rd_kafka_t *owner;
    rd_kafka_mock_cluster_t *mc;
    struct em_pub_conf c;
    void *p;
    double t0;

    rd_kafka_conf_set(kc, "log_level", "2", err, sizeof err);
    owner = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    mc = owner ? rd_kafka_mock_cluster_new(owner, 1) : NULL;
    if (!pub || !mc) {
        printf("  kafka: no publisher or mock cluster\n");
        return 0;
    }
    rd_kafka_mock_topic_create(mc, "monitoring.mppt", 1, 1);
    memset(body, 'x', sizeof body);
    memset(&c, 0, sizeof c);
    c.name = "bench";
    c.type = "kafka";
    c.topic = "monitoring.{dataset}";
    c.bootstrap_servers = (char *)rd_kafka_mock_cluster_bootstraps(mc);
    c.timeout_ms = 5000;
    c.window = 1000;
    p = pub->create(&c, done, NULL, err, sizeof err);
    if (!p) {
        printf("  kafka: %s\n", err);
        return 1;
    }
    for (t0 = now_s(); !pub->up(p) && now_s() - t0 < 30;)
        pub->service(p);
    t0 = now_s();
    while (ok + other < n && now_s() - t0 < 120) {
        while (sent < n) {
            struct em_pub_msg m = {"mppt", "mppt-1", body, sizeof body, sent};
            if (pub->submit(p, &m) != EM_PUB_OK)
                break;
            sent++;
        }
        pub->service(p);
    }
    printf("  kafka publisher -> mock cluster (acks=1, window 1000, 400 B): %.0f messages/s "
           "(%zu confirmed, %zu not)\n",
           (double)ok / (now_s() - t0), ok, other);
    pub->destroy(p);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return 0;
}
#else
int main(void)
{
    printf("  kafka: compiled out\n");
    return 0;
}
#endif
