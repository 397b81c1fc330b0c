/* bench_paho.c - what paho.mqtt.c itself can publish at QoS 1, without edgemon.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The ceiling for the drain rate: N messages of 400 bytes at QoS 1 to the
 * broker on 127.0.0.1:PORT, counted as confirmed on PUBACK, through
 *   - MQTTAsync, onSuccess per message, a window;
 *   - MQTTClient in single-thread mode (no callbacks, no paho threads): the
 *     cheapest way paho can publish, polling for PUBACKs in the same thread,
 *     which is how the publisher drives it.
 *   bench_paho PORT [N]    (default 100000)
 * Exit status 1 when a client failed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>
#include <MQTTClient.h>

#define PAYLOAD_LEN 400

static char payload[PAYLOAD_LEN];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- MQTTAsync: the main thread sends, paho's threads confirm ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int acked, failed, connected;

static void on_sent(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    pthread_mutex_lock(&lock);
    acked++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void on_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    (void)r;
    pthread_mutex_lock(&lock);
    failed = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void on_connected(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    pthread_mutex_lock(&lock);
    connected = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    on_failed(ctx, r);
}

static int on_arrived(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)topic;
    (void)len;
    (void)m;
    return 1;
}

static double run_async(const char *uri, int n, int window)
{
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    MQTTAsync client;
    double t0, t;
    int sent = 0;

    co.maxBufferedMessages = window + 8;
    if (MQTTAsync_createWithOptions(&client, uri, "bench-paho-async", MQTTCLIENT_PERSISTENCE_NONE,
                             NULL, &co) != MQTTASYNC_SUCCESS ||
        MQTTAsync_setCallbacks(client, NULL, NULL, on_arrived, NULL) != MQTTASYNC_SUCCESS)
        return -1;
    acked = failed = connected = 0;
    o.cleansession = 1;
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o.onSuccess = on_connected;
    o.onFailure = on_connect_failed;
    if (MQTTAsync_connect(client, &o) != MQTTASYNC_SUCCESS)
        return -1;
    pthread_mutex_lock(&lock);
    while (!connected && !failed)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);

    t0 = now_s();
    pthread_mutex_lock(&lock);
    while (acked < n && !failed) {
        while (sent < n && sent - acked < window) {
            MQTTAsync_message m = MQTTAsync_message_initializer;
            MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

            m.payload = payload;
            m.payloadlen = PAYLOAD_LEN;
            m.qos = 1;
            ro.onSuccess = on_sent;
            ro.onFailure = on_failed;
            pthread_mutex_unlock(&lock); /* paho's callbacks take `lock` under paho's mutex */
            if (MQTTAsync_sendMessage(client, "bench/paho", &m, &ro) != MQTTASYNC_SUCCESS)
                failed = 1;
            pthread_mutex_lock(&lock);
            sent++;
        }
        if (acked < n && !failed)
            pthread_cond_wait(&cond, &lock);
    }
    pthread_mutex_unlock(&lock);
    t = now_s() - t0;
    MQTTAsync_destroy(&client);
    return failed ? -1 : n / t;
}

/* ---- MQTTClient, single-threaded: publish, then read PUBACKs in the same thread ---- */

static double run_sync(const char *uri, int n, int window)
{
    MQTTClient client;
    MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
    MQTTClient_message m = MQTTClient_message_initializer;
    MQTTClient_deliveryToken tok;
    int sent = 0, done = 0, inflight = 0;
    double t0, t;

    if (MQTTClient_create(&client, uri, "bench-paho-sync", MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
        MQTTCLIENT_SUCCESS)
        return -1;
    o.cleansession = 1;
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o.maxInflightMessages = window + 1;
    if (MQTTClient_connect(client, &o) != MQTTCLIENT_SUCCESS) {
        MQTTClient_destroy(&client);
        return -1;
    }
    m.payload = payload;
    m.payloadlen = PAYLOAD_LEN;
    m.qos = 1;
    t0 = now_s();
    while (done < n) {
        MQTTClient_deliveryToken *pending = NULL;
        int left = 0;

        while (sent < n && inflight < window) {
            if (MQTTClient_publishMessage(client, "bench/paho", &m, &tok) != MQTTCLIENT_SUCCESS)
                goto fail;
            sent++;
            inflight++;
        }
        /* Each receive with timeout 0 reads at most one packet. */
        for (int k = 0; k < window / 4 + 1; k++) {
            char *topic;
            int len;
            MQTTClient_message *in = NULL;

            if (MQTTClient_receive(client, &topic, &len, &in, 0) == MQTTCLIENT_DISCONNECTED)
                goto fail;
            if (in) {
                MQTTClient_freeMessage(&in);
                MQTTClient_free(topic);
            }
        }
        if (MQTTClient_getPendingDeliveryTokens(client, &pending) != MQTTCLIENT_SUCCESS)
            goto fail;
        while (pending && pending[left] != -1)
            left++;
        MQTTClient_free(pending);
        done += inflight - left;
        inflight = left;
    }
    t = now_s() - t0;
    MQTTClient_disconnect(client, 1000);
    MQTTClient_destroy(&client);
    return n / t;
fail:
    MQTTClient_destroy(&client);
    return -1;
}

int main(int argc, char **argv)
{
    static const int windows[] = {20, 64, 256};
    char uri[64];
    int n = argc > 2 ? atoi(argv[2]) : 100000, rc = 0;

    if (argc < 2 || n <= 0) {
        fprintf(stderr, "usage: bench_paho PORT [N]\n");
        return 2;
    }
    memset(payload, 'x', sizeof payload);
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", atoi(argv[1]));
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        double r = run_async(uri, n, windows[i]);

        printf("  paho MQTTAsync alone, window %3d:            %s%.0f msgs/s\n", windows[i],
               r < 0 ? "FAILED " : "", r < 0 ? 0 : r);
        rc |= r < 0;
    }
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        double r = run_sync(uri, n, windows[i]);

        printf("  paho MQTTClient single thread, window %3d:   %s%.0f msgs/s\n", windows[i],
               r < 0 ? "FAILED " : "", r < 0 ? 0 : r);
        rc |= r < 0;
    }
    return rc;
}
