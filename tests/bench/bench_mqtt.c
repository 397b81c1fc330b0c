/* bench_mqtt.c - MQTT publisher throughput at QoS 1 against mosquitto_pub on the same broker.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Starts its own mosquitto on a free loopback port (fork+exec, stopped by PID),
 * publishes N messages of ~400 bytes at QoS 1 through mqtt_publisher with a
 * window of 64, then times `mosquitto_pub -l -q 1` sending the same N lines.
 * The target: at least 0.5 x the rate of mosquitto_pub.
 *   bench_mqtt [N]    (default 100000)
 * Exit status 1 when a message was not confirmed or a tool failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mqtt/mqtt.h"
#include "publisher.h"
#include "testutil.h"

#define PAYLOAD_LEN 400

static char tmpdir[256];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

    nanosleep(&ts, NULL);
}

static pid_t spawn(char *const argv[], const char *in)
{
    pid_t pid = fork();

    if (pid == 0) {
        int fdin = open(in ? in : "/dev/null", O_RDONLY);
        int fdout = open("/dev/null", O_WRONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fdin < 0 || fdout < 0)
            _exit(126);
        dup2(fdin, 0);
        dup2(fdout, 1);
        dup2(fdout, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct core {
    size_t ok, failed;
};

static void core_done(void *p, uint64_t token, enum em_pub_result r)
{
    struct core *k = p;

    (void)token;
    if (r == EM_PUB_OK)
        k->ok++;
    else
        k->failed++;
}

/* A reading-sized JSON message, padded to PAYLOAD_LEN bytes (no newline). */
static void make_payload(char *buf)
{
    int n = snprintf(buf, PAYLOAD_LEN + 1,
                     "{\"schema\":\"edgemon/1\",\"dataset\":\"mppt\",\"id\":\"mppt-1\","
                     "\"agent\":\"gw-01\",\"site\":\"site-a\",\"seq\":1042,\"boot\":\"5f1c\","
                     "\"ts\":1763900000123,\"quality\":\"ok\",\"values\":{\"pv_voltage_v\":36.5,"
                     "\"pv_current_a\":4.2,\"pv_power_w\":153.3,\"pad\":\"");

    while (n < PAYLOAD_LEN - 3)
        buf[n++] = 'x';
    memcpy(buf + n, "\"}}", 4);
}

/* Our publisher, the way the core drives it. Returns msgs/s, or -1. */
static double run_ours(int port, size_t n, const char *payload)
{
    static struct core k;
    struct em_pub_conf c;
    char url[64], err[256];
    size_t next = 0;
    double t0, t;
    void *ctx;

    memset(&c, 0, sizeof c);
    snprintf(url, sizeof url, "mqtt://127.0.0.1:%d", port);
    c.name = "bench";
    c.type = "mqtt";
    c.url = url;
    c.qos = 1;
    c.window = 64;
    c.tls_verify = 1;
    c.timeout_ms = 5000;
    c.agent = "bench";
    c.site = "lab";
    ctx = mqtt_publisher.create(&c, core_done, &k, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "create: %s\n", err);
        return -1;
    }
    for (t = now_s(); !mqtt_publisher.up(ctx) && now_s() - t < 10; sleep_us(1000))
        mqtt_publisher.service(ctx);
    mqtt_publisher.service(ctx); /* the "online" status goes out before the clock starts */

    t0 = now_s();
    while (k.ok + k.failed < n && now_s() - t0 < 300) {
        int progress = 0;

        mqtt_publisher.service(ctx);
        while (next < n) {
            struct em_pub_msg m = {"mppt", "mppt-1", payload, PAYLOAD_LEN, next};

            if (mqtt_publisher.submit(ctx, &m) != EM_PUB_OK)
                break;
            next++;
            progress = 1;
        }
        if (!progress)
            sleep_us(20);
    }
    t = now_s() - t0;
    mqtt_publisher.destroy(ctx);
    if (k.ok != n) {
        fprintf(stderr, "only %zu of %zu confirmed (%zu failed)\n", k.ok, n, k.failed);
        return -1;
    }
    printf("mqtt_publisher        %zu msgs QoS 1 window 64: %.3f s  %9.0f msgs/s\n", n, t,
           n / t);
    return n / t;
}

static double run_mosquitto_pub(int port, size_t n, const char *payload)
{
    char path[PATH_MAX], portstr[16];
    char *argv[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", portstr, "-l", "-q", "1",
                    "-t", "x", NULL};
    FILE *f;
    pid_t pid;
    double t0, t;
    int rc;

    snprintf(path, sizeof path, "%s/lines", tmpdir);
    snprintf(portstr, sizeof portstr, "%d", port);
    f = fopen(path, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\n", payload);
    if (fclose(f) != 0)
        return -1;
    t0 = now_s();
    pid = spawn(argv, path);
    rc = pid > 0 ? wait_exit(pid) : -1;
    t = now_s() - t0;
    unlink(path);
    if (rc != 0) {
        fprintf(stderr, "mosquitto_pub exited with %d\n", rc);
        return -1;
    }
    printf("mosquitto_pub -l -q 1 %zu msgs:                 %.3f s  %9.0f msgs/s\n", n, t,
           n / t);
    return n / t;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    char conf[PATH_MAX], payload[PAYLOAD_LEN + 1];
    char *mosq[] = {"mosquitto", "-c", conf, NULL};
    double ours = -1, theirs = -1;
    int port = free_port(), status = 1;
    pid_t broker = -1;

    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/edgemon-bench.XXXXXX");
    if (n == 0 || port < 0 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "usage: bench_mqtt [N]\n");
        return 1;
    }
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", tmpdir);
    FILE *f = fopen(conf, "w");
    if (!f)
        goto out;
    fprintf(f, "%slistener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
               "log_dest none\n",
            geteuid() == 0 ? "user root\n" : "", port);
    fclose(f);
    broker = spawn(mosq, NULL);
    for (int i = 0; i < 500 && !port_open(port); i++)
        sleep_us(10000);
    if (!port_open(port)) {
        fprintf(stderr, "mosquitto did not start\n");
        goto out;
    }

    make_payload(payload);
    ours = run_ours(port, n, payload);
    theirs = run_mosquitto_pub(port, n, payload);
    if (ours > 0 && theirs > 0) {
        printf("ratio mqtt_publisher / mosquitto_pub = %.2f (target >= 0.50: %s)\n",
               ours / theirs, ours / theirs >= 0.5 ? "met" : "NOT met");
        status = 0;
    }
out:
    if (broker > 0) {
        kill(broker, SIGTERM);
        wait_exit(broker);
    }
    unlink(conf);
    rmdir(tmpdir);
    return status;
}
