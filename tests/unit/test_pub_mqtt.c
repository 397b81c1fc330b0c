/* test_pub_mqtt.c - the MQTT publisher against a real mosquitto: window, QoS, will, outage, TLS, auth.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The binary starts its own brokers (mosquitto, fork+exec) on free loopback ports
 * with generated configs in a mkdtemp directory, and stops them by PID. What
 * arrived is read back from mosquitto_sub processes.
 * `test_pub_mqtt --child URL AGENT` is the helper process of the last-will test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pubcore.h"
#include "mqtt/mqtt.h"
#include "mqtt/mqtt_conf.h"
#include "publisher.h"
#include "testutil.h"

static const struct em_publisher *pub = &mqtt_publisher;
static char tmpdir[PATH_MAX];
static const char *self_path;

static void pathf(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------------------- time */

/* Deadlines stretch under emulation (qemu cross-tests set EM_TEST_TIME_SCALE). */
static long long T(long long ms)
{
    static long long scale;
    if (!scale) {
        const char *e = getenv("EM_TEST_TIME_SCALE");
        scale = e && atoll(e) > 0 ? atoll(e) : 1;
    }
    return ms * scale;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

    nanosleep(&ts, NULL);
}

/* ----------------------------------------------------------- processes */

#define MAX_PIDS 16
static pid_t live_pids[MAX_PIDS];

static void track(pid_t pid)
{
    for (int i = 0; i < MAX_PIDS; i++) {
        if (live_pids[i] == 0) {
            live_pids[i] = pid;
            return;
        }
    }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_PIDS; i++) {
        if (live_pids[i] == pid)
            live_pids[i] = 0;
    }
}

/* fork+exec argv with stdout/stderr to `out` (or /dev/null); the child dies with us. */
static pid_t spawn(char *const argv[], const char *out, const char *in)
{
    pid_t pid = fork();

    if (pid == 0) {
        int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
        int fdin = open(in ? in : "/dev/null", O_RDONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd < 0 || fdin < 0)
            _exit(126);
        dup2(fdin, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid > 0)
        track(pid);
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    untrack(pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run(char *const argv[])
{
    char log[PATH_MAX];
    pid_t pid;

    pathf(log, sizeof log, "%s/commands.log", tmpdir);
    pid = spawn(argv, log, NULL);
    return pid < 0 ? -1 : wait_exit(pid);
}

/* SIGTERM, then SIGKILL after 3 s. */
static void stop_pid(pid_t pid)
{
    int st;

    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            untrack(pid);
            return;
        }
        sleep_us(10000);
    }
    kill(pid, SIGKILL);
    wait_exit(pid);
}

static void stop_all(void)
{
    for (int i = 0; i < MAX_PIDS; i++) {
        if (live_pids[i] > 0)
            stop_pid(live_pids[i]);
    }
}

static void cleanup(void)
{
    stop_all();
    if (tmpdir[0] && !getenv("KEEP_TMP"))
        rm_rf(tmpdir);
}

static int write_file(const char *path, const char *fmt, ...)
{
    va_list ap;
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    return fclose(f);
}

/* snprintf for paths: truncation would point a test at the wrong file. */
static void pathf(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        abort();
}

static void tmp_path(char *out, size_t len, const char *name)
{
    pathf(out, len, "%s/%s", tmpdir, name);
}

/* -------------------------------------------------------------- broker */

struct broker {
    pid_t pid;
    int port; /* the port to wait for; the config may open more */
    char conf[PATH_MAX];
};

/* Write a config (common head + `listeners`) and start mosquitto; 0 when it accepts. */
static int broker_start(struct broker *b, const char *listeners)
{
    char log[PATH_MAX];
    char *argv[] = {"mosquitto", "-c", b->conf, NULL};
    long long until;

    pathf(b->conf, sizeof b->conf, "%s/mosquitto-%d.conf", tmpdir, b->port);
    pathf(log, sizeof log, "%s/mosquitto-%d.log", tmpdir, b->port);
    /* As root mosquitto would switch to user "mosquitto", who cannot read tmpdir. */
    if (write_file(b->conf, "%spersistence false\nlog_dest file %s\nlog_type all\n%s",
                   geteuid() == 0 ? "user root\n" : "", log, listeners) < 0)
        return -1;
    b->pid = spawn(argv, log, NULL);
    if (b->pid < 0)
        return -1;
    for (until = now_ms() + T(5000); now_ms() < until; sleep_us(5000)) {
        if (port_open(b->port))
            return 0;
        if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
            untrack(b->pid);
            b->pid = 0;
            return -1;
        }
    }
    return -1;
}

/* A plain broker on a fresh port: anonymous access. */
static int broker_plain(struct broker *b, int port)
{
    char body[256];

    b->port = port ? port : free_port();
    snprintf(body, sizeof body, "listener %d 127.0.0.1\nallow_anonymous true\n", b->port);
    return broker_start(b, body);
}

static void broker_stop(struct broker *b)
{
    stop_pid(b->pid);
    b->pid = 0;
}

/* ---------------------------------------------------------- subscriber */

/*
 * mosquitto_sub in its own process, one line per message: "RETAIN TOPIC PAYLOAD".
 * A second paho client in this process would slow every connect down: paho's
 * receive thread notices new sockets only when its 1 s select times out.
 */
#define SUB_MAX 2048

struct sub {
    pid_t pid;
    int port;
    char id[48];
    char out[PATH_MAX];
    char *buf;
    char *line[SUB_MAX];
    size_t n;
};

/* Re-read the output; complete lines only. Returns how many. */
static size_t sub_read(struct sub *s)
{
    FILE *f = fopen(s->out, "r");
    long len;
    char *p;

    free(s->buf);
    s->buf = NULL;
    s->n = 0;
    if (!f)
        return 0;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (s->buf = malloc((size_t)len + 1)) != NULL) {
        len = (long)fread(s->buf, 1, (size_t)len, f);
        s->buf[len] = '\0';
        for (p = s->buf; s->n < SUB_MAX;) {
            char *nl = strchr(p, '\n');

            if (!nl)
                break;
            *nl = '\0';
            s->line[s->n++] = p;
            p = nl + 1;
        }
    }
    fclose(f);
    return s->n;
}

static int sub_wait_count(struct sub *s, size_t n, int ms)
{
    for (long long until = now_ms() + T(ms); now_ms() < until; sleep_us(5000)) {
        if (sub_read(s) >= n)
            return 1;
    }
    return sub_read(s) >= n;
}

/* Does the broker log on `port` contain `what`? */
static int broker_logged(int port, const char *what)
{
    char log[PATH_MAX], line[512];
    int found = 0;
    FILE *f;

    pathf(log, sizeof log, "%s/mosquitto-%d.log", tmpdir, port);
    f = fopen(log, "r");
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, what) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Subscribe to `filter` at `qos` on 127.0.0.1:port; 0 once the broker sent the SUBACK. */
static int sub_start(struct sub *s, int port, const char *filter, int qos)
{
    static unsigned seq;
    char portstr[16], qosstr[4], suback[80];
    char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", portstr, "-q", qosstr, "-t",
                    (char *)filter, "-F", "%r %t %p", "-i", s->id, NULL};

    memset(s, 0, sizeof *s);
    s->port = port;
    snprintf(portstr, sizeof portstr, "%d", port);
    snprintf(qosstr, sizeof qosstr, "%d", qos);
    snprintf(s->id, sizeof s->id, "test-sub-%u", seq++);
    pathf(s->out, sizeof s->out, "%s/%s.out", tmpdir, s->id);
    snprintf(suback, sizeof suback, "Sending SUBACK to %s\n", s->id);
    s->pid = spawn(argv, s->out, NULL);
    if (s->pid < 0)
        return -1;
    for (long long until = now_ms() + T(3000); now_ms() < until; sleep_us(2000)) {
        if (broker_logged(port, suback))
            return 0;
    }
    return -1;
}

static void sub_stop(struct sub *s)
{
    stop_pid(s->pid);
    s->pid = 0;
    free(s->buf);
    s->buf = NULL;
    s->n = 0;
}

/* Line i of what the subscriber got, "" when there is none. */
static const char *sub_line(struct sub *s, size_t i)
{
    return i < s->n ? s->line[i] : "";
}

/* The retained message of `topic` as a new subscriber sees it: "1 PAYLOAD", or "". */
static void retained_of(int port, const char *topic, char *out, size_t outlen)
{
    char portstr[16], path[PATH_MAX];
    char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", portstr, "-q", "1", "-t",
                    (char *)topic, "-C", "1", "-W", "2", "-F", "%r %p", NULL};
    FILE *f;
    pid_t pid;

    out[0] = '\0';
    snprintf(portstr, sizeof portstr, "%d", port);
    pathf(path, sizeof path, "%s/retained.out", tmpdir);
    unlink(path);
    pid = spawn(argv, path, NULL);
    if (pid < 0)
        return;
    wait_exit(pid);
    f = fopen(path, "r");
    if (f) {
        if (fgets(out, (int)outlen, f))
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
}

/* ------------------------------------------------------------ the core */

static struct em_pub_conf base_conf(char *url, const char *agent)
{
    struct em_pub_conf c;

    memset(&c, 0, sizeof c);
    c.name = "test";
    c.type = "mqtt";
    c.url = url;
    c.qos = 1;
    c.datasets = EM_DS_BIT_PMS | EM_DS_BIT_MPPT | EM_DS_BIT_INVERTER | EM_DS_BIT_SITE;
    c.tls_verify = 1;
    c.timeout_ms = 2000;
    c.window = 64;
    c.agent = agent;
    c.site = "site-a";
    return c;
}

static void *make_pub(struct em_pub_conf *c, struct core *k)
{
    char err[256];
    void *ctx = pub->create(c, core_done, k, err, sizeof err);

    if (!ctx)
        printf("    create: %s\n", err);
    return ctx;
}

static int wait_up(void *ctx, int want, int ms)
{
    for (long long until = now_ms() + T(ms); now_ms() < until; sleep_us(5000)) {
        pub->service(ctx);
        if (pub->up(ctx) == want)
            return 1;
    }
    return pub->up(ctx) == want;
}

static struct em_pub_msg make_msg(uint64_t token, char *buf, size_t len)
{
    struct em_pub_msg m;

    m.dataset = "pms";
    m.device = "bms-1";
    m.payload = buf;
    m.len = (size_t)snprintf(buf, len, "{\"seq\":%llu}", (unsigned long long)token);
    m.token = token;
    return m;
}

/*
 * The core's loop: offer tokens [first, first+n) in order, calling service()
 * whenever the window is full, until every accepted one has its verdict.
 * Returns how many were accepted; *max_inflight gets the highest inflight().
 */
static size_t publish_range(void *ctx, uint64_t first, size_t n, int ms, unsigned *max_inflight)
{
    uint64_t next = first;
    char buf[64];

    if (max_inflight)
        *max_inflight = 0;
    for (long long until = now_ms() + T(ms); now_ms() < until;) {
        pub->service(ctx);
        while (next < first + n) {
            struct em_pub_msg m = make_msg(next, buf, sizeof buf);

            if (pub->submit(ctx, &m) != EM_PUB_OK)
                break;
            next++;
            if (max_inflight && pub->inflight(ctx) > *max_inflight)
                *max_inflight = pub->inflight(ctx);
        }
        if (next == first + n && pub->inflight(ctx) == 0)
            break;
        sleep_us(100);
    }
    return (size_t)(next - first);
}

/* The subscriber got tokens [first, first+n) live on `topic`, in order, and nothing else. */
static int received_in_order(struct sub *s, uint64_t first, size_t n, const char *topic)
{
    char want[128];

    if (sub_read(s) != n) {
        printf("    subscriber got %zu messages, expected %zu\n", s->n, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(want, sizeof want, "0 %s {\"seq\":%llu}", topic,
                 (unsigned long long)(first + i));
        if (strcmp(s->line[i], want) != 0) {
            printf("    message %zu: \"%s\", expected \"%s\"\n", i, s->line[i], want);
            return 0;
        }
    }
    return 1;
}

static struct broker main_broker;
static char main_url[64];

/* --------------------------------------------------------------- tests */

static void test_topic_render(void)
{
    char out[64];

    CHECK_EQ_INT(em_topic_render("monitoring/{dataset}/{id}", "pms", "bms-1", "gw", "s", out,
                                 sizeof out),
                 20);
    CHECK_STR(out, "monitoring/pms/bms-1");
    CHECK_EQ_INT(em_topic_render("{agent}/{site}/{dataset}.{id}", "mppt", "m1", "gw-01",
                                 "site-a", out, sizeof out),
                 20);
    CHECK_STR(out, "gw-01/site-a/mppt.m1");
    CHECK_EQ_INT(em_topic_render("plain/topic}", "d", "i", "a", "s", out, sizeof out), 12);
    CHECK_STR(out, "plain/topic}");
    CHECK_EQ_INT(em_topic_render("a/{site}/b", "d", "i", "a", NULL, out, sizeof out), 4);
    CHECK_STR(out, "a//b");
    CHECK_EQ_INT(em_topic_render("", "d", "i", "a", "s", out, sizeof out), 0);
    CHECK_STR(out, "");

    errno = 0;
    CHECK_EQ_INT(em_topic_render("x/{device}", "d", "i", "a", "s", out, sizeof out), -1);
    CHECK_EQ_INT(errno, EINVAL);
    errno = 0;
    CHECK_EQ_INT(em_topic_render("x/{dataset", "d", "i", "a", "s", out, sizeof out), -1);
    CHECK_EQ_INT(errno, EINVAL);
    errno = 0;
    CHECK_EQ_INT(em_topic_render("x/{}", "d", "i", "a", "s", out, sizeof out), -1);
    CHECK_EQ_INT(errno, EINVAL);
    /* An unknown placeholder beyond the overflow point is still EINVAL. */
    errno = 0;
    CHECK_EQ_INT(em_topic_render("0123456789/{nope}", "d", "i", "a", "s", out, 4), -1);
    CHECK_EQ_INT(errno, EINVAL);

    /* Exact fit: 3 characters + NUL in 4 bytes; one byte less overflows. */
    CHECK_EQ_INT(em_topic_render("{id}", "d", "abc", "a", "s", out, 4), 3);
    CHECK_STR(out, "abc");
    errno = 0;
    CHECK_EQ_INT(em_topic_render("{id}", "d", "abc", "a", "s", out, 3), -1);
    CHECK_EQ_INT(errno, ENAMETOOLONG);
    CHECK_STR(out, "");
    errno = 0;
    CHECK_EQ_INT(em_topic_render("monitoring/{dataset}/{id}", "inverter", "inv-1", "a", "s",
                                 out, 12),
                 -1);
    CHECK_EQ_INT(errno, ENAMETOOLONG);
    errno = 0;
    CHECK_EQ_INT(em_topic_render("x", "d", "i", "a", "s", out, 0), -1);
    CHECK_EQ_INT(errno, ENAMETOOLONG);
}

static void test_registry(void)
{
    CHECK(em_publisher_find("mqtt") == &mqtt_publisher);
    CHECK(em_publisher_find("MQTT") == NULL);
    CHECK(em_publisher_find("nosuch") == NULL);
    CHECK(em_publisher_find(NULL) == NULL);
    CHECK_EQ_INT(mqtt_publisher.abi, EM_PUBLISHER_ABI);
    CHECK_STR(mqtt_publisher.name, "mqtt");
    CHECK(mqtt_publisher.create && mqtt_publisher.submit && mqtt_publisher.service &&
          mqtt_publisher.up && mqtt_publisher.inflight && mqtt_publisher.destroy);
}

/* create() must fail with this message fragment. */
static int create_fails(struct em_pub_conf *c, const char *fragment)
{
    struct core k;
    char err[256] = "";
    void *ctx = pub->create(c, core_done, &k, err, sizeof err);

    if (ctx) {
        pub->destroy(ctx);
        printf("    create succeeded, expected an error with \"%s\"\n", fragment);
        return 0;
    }
    if (!strstr(err, fragment)) {
        printf("    error \"%s\" lacks \"%s\"\n", err, fragment);
        return 0;
    }
    return 1;
}

static void test_create_errors(void)
{
    char url[64] = "mqtt://127.0.0.1:1";
    char pw_missing[PATH_MAX];
    struct em_pub_conf c;
    struct core k;
    void *ctx;
    char err[256];
    char *bad_urls[] = {"http://127.0.0.1:1883", "mqtt://", "mqtt://:1883",
                        "mqtt://h:0", "mqtt://h:65536", "mqtt://h:12x",
                        "mqtt://h:1883/topic", "mqtt://[::1", "tcp://h:1883"};

    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        c = base_conf(bad_urls[i], "gw");
        CHECK(create_fails(&c, bad_urls[i]));
    }
    /* Credentials in a rejected url never reach the message. */
    c = base_conf("mqtt://edge:hunter2@127.0.0.1:1883", "gw");
    CHECK(create_fails(&c, "'mqtt://***@127.0.0.1:1883'"));
    c = base_conf(NULL, "gw");
    CHECK(create_fails(&c, "url is not set"));
    c = base_conf(url, "gw");
    c.qos = 3;
    CHECK(create_fails(&c, "qos 3"));
    c = base_conf(url, "gw");
    c.topic = "monitoring/{bogus}";
    CHECK(create_fails(&c, "monitoring/{bogus}"));
    c = base_conf(url, NULL);
    CHECK(create_fails(&c, "agent"));
    c = base_conf(url, "gw/+");
    CHECK(create_fails(&c, "gw/+"));
    c = base_conf(url, "gw");
    c.ca_file = "/etc/hostname";
    CHECK(create_fails(&c, "mqtts://"));

    tmp_path(pw_missing, sizeof pw_missing, "no-such-password");
    c = base_conf(url, "gw");
    c.username = "u";
    c.password_file = pw_missing;
    CHECK(create_fails(&c, pw_missing));
    CHECK(create_fails(&c, "No such file or directory"));
    c = base_conf(url, "gw");
    c.password = "p";
    CHECK(create_fails(&c, "username"));

    char ca_missing[PATH_MAX];
    char surl[64] = "mqtts://127.0.0.1:1";
    tmp_path(ca_missing, sizeof ca_missing, "no-such-ca.crt");
    c = base_conf(surl, "gw");
    c.ca_file = ca_missing;
    CHECK(create_fails(&c, ca_missing));

    /* A good config: nothing connects before the first submit/service. */
    c = base_conf(url, "gw");
    c.window = 0;
    c.timeout_ms = 0;
    ctx = pub->create(&c, core_done, &k, err, sizeof err);
    CHECK(ctx != NULL);
    CHECK_EQ_INT(pub->up(ctx), 0);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    pub->destroy(ctx);
    pub->destroy(NULL);

    /* Default ports and an IPv6 literal are accepted. */
    char u1[] = "mqtt://localhost", u2[] = "mqtts://[::1]:8883/", u3[] = "mqtts://h";
    char *good[] = {u1, u2, u3};
    for (size_t i = 0; i < 3; i++) {
        c = base_conf(good[i], "gw");
        ctx = pub->create(&c, core_done, &k, err, sizeof err);
        if (!ctx)
            printf("    %s: %s\n", good[i], err);
        CHECK(ctx != NULL);
        pub->destroy(ctx);
    }
    /* The connect probe gets HOST without brackets and the port, defaulted or given. */
    const char *want[][2] = {{"localhost", "1883"}, {"::1", "8883"}, {"h", "8883"}};
    for (size_t i = 0; i < 3; i++) {
        struct em_mqtt_names nm;

        c = base_conf(good[i], "gw");
        CHECK_EQ_INT(em_mqtt_names(&c, &nm, err, sizeof err), 0);
        CHECK_STR(nm.host, want[i][0]);
        CHECK_STR(nm.port, want[i][1]);
    }
}

static void test_qos1_window_1000(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(main_url, "gw-q1");
    struct sub s;
    char buf[64], status[32];
    unsigned max_inflight = 0;
    void *ctx;
    size_t n;

    memset(&k, 0, sizeof k);
    CHECK(sub_start(&s, main_broker.port, "monitoring/#", 1) == 0);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, T(5000)));

    /* The window: 64 accepted back to back, the 65th refused until service(). */
    for (uint64_t t = 0; t < 64; t++) {
        struct em_pub_msg m = make_msg(t, buf, sizeof buf);
        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
    }
    CHECK_EQ_INT(pub->inflight(ctx), 64);
    struct em_pub_msg m65 = make_msg(64, buf, sizeof buf);
    CHECK_EQ_INT(pub->submit(ctx, &m65), EM_PUB_RETRY);
    CHECK_EQ_INT(k.ok + k.retry + k.drop, 0); /* verdicts only come from service() */

    n = publish_range(ctx, 64, 1000 - 64, 10000, &max_inflight);
    CHECK_EQ_INT(n, 1000 - 64);
    CHECK(max_inflight <= 64);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK_EQ_INT(core_count(&k, 0, 1000, EM_PUB_OK), 1000);
    CHECK_EQ_INT(k.ok, 1000);
    CHECK_EQ_INT(k.retry, 0);
    CHECK_EQ_INT(k.drop, 0);
    CHECK(sub_wait_count(&s, 1000, T(5000)));
    sleep_us(50000); /* nothing more should arrive */
    CHECK(received_in_order(&s, 0, 1000, "monitoring/pms/bms-1"));
    sub_stop(&s);

    retained_of(main_broker.port, "edgemon/gw-q1/status", status, sizeof status);
    CHECK_STR(status, "1 online");
    pub->destroy(ctx);
}

static void one_qos(int qos, const char *agent, int *result)
{
    static struct core k;
    struct em_pub_conf c = base_conf(main_url, agent);
    struct sub s;
    void *ctx = NULL;
    char topic[64];
    unsigned max_inflight = 0;

    *result = 0;
    memset(&k, 0, sizeof k);
    c.qos = qos;
    c.topic = "q/{agent}/{dataset}/{id}";
    snprintf(topic, sizeof topic, "q/%s/pms/bms-1", agent);
    if (sub_start(&s, main_broker.port, "q/#", 1) < 0)
        return;
    ctx = make_pub(&c, &k);
    /* QoS 2 keeps at most 20 in flight whatever the window (see mqtt.c); QoS 0
     * is confirmed once paho wrote it, so nothing stays in flight. */
    if (ctx && wait_up(ctx, 1, 5000) &&
        publish_range(ctx, 0, 300, 10000, &max_inflight) == 300 &&
        max_inflight == (qos == 2 ? 20u : qos == 0 ? 0u : 64u) && core_count(&k, 0, 300, EM_PUB_OK) == 300 &&
        k.ok == 300 && k.retry == 0 && sub_wait_count(&s, 300, 5000) &&
        received_in_order(&s, 0, 300, topic))
        *result = 1;
    if (!*result)
        printf("    qos %d: ok %zu retry %zu drop %zu max inflight %u received %zu\n", qos,
               k.ok, k.retry, k.drop, max_inflight, sub_read(&s));
    pub->destroy(ctx);
    sub_stop(&s);
}

static void test_qos0_and_qos2(void)
{
    int ok;

    one_qos(0, "gw-q0", &ok);
    CHECK(ok);
    one_qos(2, "gw-q2", &ok);
    CHECK(ok);
}

/* A message whose topic cannot be published is dropped, the link stays up. */
static void test_bad_topic_dropped(void)
{
    static struct core k;
    struct em_pub_conf c = base_conf(main_url, "gw-drop");
    char buf[64];
    void *ctx;

    memset(&k, 0, sizeof k);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, T(5000)));
    struct em_pub_msg m = make_msg(0, buf, sizeof buf);
    m.device = "dev/+";
    CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK); /* accepted, and dropped at once */
    CHECK_EQ_INT(k.drop, 1);
    CHECK_EQ_INT(k.last[0], EM_PUB_DROP);
    m = make_msg(1, buf, sizeof buf);
    m.device = "\xff\xfe";
    CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
    CHECK_EQ_INT(k.drop, 2);
    CHECK_EQ_INT(k.last[1], EM_PUB_DROP);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK_EQ_INT(publish_range(ctx, 2, 10, T(5000), NULL), 10);
    CHECK_EQ_INT(core_count(&k, 2, 10, EM_PUB_OK), 10);
    CHECK_EQ_INT(pub->up(ctx), 1);
    pub->destroy(ctx);
}

/* The helper process of test_last_will: connect, say online, then wait to be killed. */
static int child_main(char *url, const char *agent)
{
    static struct core k;
    struct em_pub_conf c = base_conf(url, agent);
    void *ctx = make_pub(&c, &k);

    if (!ctx)
        return 2;
    for (;;) {
        pub->service(ctx);
        sleep_us(10000);
    }
}

static void test_last_will(void)
{
    char *argv[] = {(char *)self_path, "--child", main_url, "gw-will", NULL};
    /* Under a cross-test the child is a foreign binary: run it through qemu. */
    char *qemu = getenv("EM_QEMU");
    char *qargv[] = {qemu, (char *)self_path, "--child", main_url, "gw-will", NULL};
    struct em_pub_conf c = base_conf(main_url, "gw-bye");
    static struct core k;
    char status[32], log[PATH_MAX];
    struct sub s;
    pid_t child;
    void *ctx;

    /* The will: the broker publishes "offline" when the client dies. */
    CHECK(sub_start(&s, main_broker.port, "edgemon/gw-will/status", 1) == 0);
    tmp_path(log, sizeof log, "child.log");
    child = spawn(qemu && *qemu ? qargv : argv, log, NULL);
    CHECK(child > 0);
    CHECK(sub_wait_count(&s, 1, T(5000)));
    CHECK_STR(sub_line(&s, 0), "0 edgemon/gw-will/status online");
    kill(child, SIGKILL);
    wait_exit(child);
    CHECK(sub_wait_count(&s, 2, T(5000)));
    CHECK_STR(sub_line(&s, 1), "0 edgemon/gw-will/status offline");
    sleep_us(100000);
    CHECK_EQ_INT(sub_read(&s), 2);
    sub_stop(&s);
    retained_of(main_broker.port, "edgemon/gw-will/status", status, sizeof status);
    CHECK_STR(status, "1 offline");

    /* A clean destroy() disconnects (the broker drops the will) and says "offline" itself. */
    memset(&k, 0, sizeof k);
    CHECK(sub_start(&s, main_broker.port, "edgemon/gw-bye/status", 1) == 0);
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, T(5000)));
    pub->service(ctx); /* publishes "online" */
    CHECK(sub_wait_count(&s, 1, T(5000)));
    CHECK_STR(sub_line(&s, 0), "0 edgemon/gw-bye/status online");
    pub->destroy(ctx);
    CHECK(sub_wait_count(&s, 2, T(5000)));
    CHECK_STR(sub_line(&s, 1), "0 edgemon/gw-bye/status offline");
    sleep_us(100000);
    CHECK_EQ_INT(sub_read(&s), 2); /* exactly one "offline": no will on a clean stop */
    sub_stop(&s);
    retained_of(main_broker.port, "edgemon/gw-bye/status", status, sizeof status);
    CHECK_STR(status, "1 offline");
}

static void test_broker_outage(void)
{
    static struct core k;
    struct broker b;
    char url[64], status[32], buf[64];
    struct em_pub_conf c;
    unsigned window = 16;
    size_t ok_before;
    long long t0;
    void *ctx;

    memset(&k, 0, sizeof k);
    CHECK(broker_plain(&b, 0) == 0);
    snprintf(url, sizeof url, "mqtt://127.0.0.1:%d", b.port);
    c = base_conf(url, "gw-outage");
    c.window = (int)window;
    ctx = make_pub(&c, &k);
    CHECK(ctx != NULL);
    CHECK(wait_up(ctx, 1, T(5000)));
    CHECK_EQ_INT(publish_range(ctx, 0, 100, T(5000), NULL), 100);
    CHECK_EQ_INT(core_count(&k, 0, 100, EM_PUB_OK), 100);

    /* Freeze the broker: a full window goes out and no PUBACK can come back. */
    kill(b.pid, SIGSTOP);
    ok_before = k.ok;
    for (uint64_t t = 100; t < 100 + window; t++) {
        struct em_pub_msg m = make_msg(t, buf, sizeof buf);
        CHECK_EQ_INT(pub->submit(ctx, &m), EM_PUB_OK);
    }
    struct em_pub_msg extra = make_msg(100 + window, buf, sizeof buf);
    CHECK_EQ_INT(pub->submit(ctx, &extra), EM_PUB_RETRY);
    for (int i = 0; i < 30; i++) {
        pub->service(ctx);
        sleep_us(10000);
    }
    CHECK_EQ_INT(k.ok, ok_before);
    CHECK_EQ_INT(pub->inflight(ctx), window);

    /* Kill it: the connection drops and every unconfirmed message comes back RETRY. */
    kill(b.pid, SIGKILL);
    wait_exit(b.pid);
    b.pid = 0;
    CHECK(wait_up(ctx, 0, T(5000)));
    pub->service(ctx);
    CHECK_EQ_INT(pub->inflight(ctx), 0);
    CHECK_EQ_INT(k.ok, ok_before);
    CHECK_EQ_INT(k.retry, window);
    CHECK_EQ_INT(core_count(&k, 100, window, EM_PUB_RETRY), window);
    CHECK_EQ_INT(pub->submit(ctx, &extra), EM_PUB_RETRY);

    /* Down for a while (paho's reconnect attempts fail), then back on the same port. */
    for (int i = 0; i < 120; i++) {
        pub->service(ctx);
        sleep_us(10000);
    }
    CHECK_EQ_INT(pub->up(ctx), 0);
    CHECK_EQ_INT(pub->submit(ctx, &extra), EM_PUB_RETRY);
    CHECK(broker_plain(&b, b.port) == 0);
    t0 = now_ms();
    CHECK(wait_up(ctx, 1, 15000));
    printf("    reconnected %lld ms after the broker came back\n", now_ms() - t0);

    /* The core re-sends what came back RETRY, then carries on. */
    memset(k.verdicts + 100, 0, window);
    CHECK_EQ_INT(publish_range(ctx, 100, 200, T(5000), NULL), 200);
    CHECK_EQ_INT(core_count(&k, 100, 200, EM_PUB_OK), 200);
    retained_of(b.port, "edgemon/gw-outage/status", status, sizeof status);
    CHECK_STR(status, "1 online");
    pub->destroy(ctx);
    broker_stop(&b);
}

/* Publish 10 messages through a config; 1 when all were confirmed. */
static int publishes(struct em_pub_conf *c)
{
    static struct core k;
    void *ctx;
    int ok;

    memset(&k, 0, sizeof k);
    ctx = make_pub(c, &k);
    if (!ctx)
        return 0;
    ok = wait_up(ctx, 1, 5000) && publish_range(ctx, 0, 10, T(5000), NULL) == 10 &&
         core_count(&k, 0, 10, EM_PUB_OK) == 10;
    pub->destroy(ctx);
    return ok;
}

/*
 * Configs that must never get through: after `ms` of trying, each is still
 * down, refuses submit() and has confirmed nothing.
 */
static int all_refused(struct em_pub_conf *confs, int n, int ms)
{
    static struct core k[4];
    void *ctx[4] = {NULL};
    char buf[64];
    int ok = 1;

    for (int i = 0; i < n; i++) {
        memset(&k[i], 0, sizeof k[i]);
        ctx[i] = make_pub(&confs[i], &k[i]);
        if (!ctx[i])
            ok = 0;
    }
    for (long long until = now_ms() + T(ms); ok && now_ms() < until; sleep_us(10000)) {
        for (int i = 0; i < n; i++) {
            struct em_pub_msg m = make_msg(0, buf, sizeof buf);

            pub->service(ctx[i]);
            if (pub->up(ctx[i]) || pub->submit(ctx[i], &m) != EM_PUB_RETRY) {
                printf("    %s (agent %s) got through\n", confs[i].url, confs[i].agent);
                ok = 0;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        if (ctx[i] && (k[i].ok || pub->inflight(ctx[i])))
            ok = 0;
        pub->destroy(ctx[i]);
    }
    return ok;
}

static int openssl_ca(const char *name)
{
    char key[PATH_MAX], crt[PATH_MAX], subj[64];

    pathf(key, sizeof key, "%s/%s.key", tmpdir, name);
    pathf(crt, sizeof crt, "%s/%s.crt", tmpdir, name);
    snprintf(subj, sizeof subj, "/CN=edgemon test %s", name);
    char *argv[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", subj, "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign", NULL};
    return run(argv);
}

/* A key + certificate signed by ca.crt, with the given X.509 extensions. */
static int openssl_leaf(const char *name, const char *cn, const char *ext)
{
    char key[PATH_MAX], csr[PATH_MAX], crt[PATH_MAX], extf[PATH_MAX], ca[PATH_MAX],
        cakey[PATH_MAX], subj[64];

    pathf(key, sizeof key, "%s/%s.key", tmpdir, name);
    pathf(csr, sizeof csr, "%s/%s.csr", tmpdir, name);
    pathf(crt, sizeof crt, "%s/%s.crt", tmpdir, name);
    pathf(extf, sizeof extf, "%s/%s.ext", tmpdir, name);
    pathf(ca, sizeof ca, "%s/ca.crt", tmpdir);
    pathf(cakey, sizeof cakey, "%s/ca.key", tmpdir);
    snprintf(subj, sizeof subj, "/CN=%s", cn);
    if (write_file(extf, "%s\n", ext) < 0)
        return -1;
    char *req[] = {"openssl", "req", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
                   "-subj", subj, NULL};
    char *sign[] = {"openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
                    "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", extf, NULL};
    return run(req) == 0 && run(sign) == 0 ? 0 : -1;
}

static void test_tls(void)
{
    char ca[PATH_MAX], other_ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], srv_crt[PATH_MAX],
        srv_key[PATH_MAX], body[6 * PATH_MAX + 256];
    char url_a[64], url_b[64], url_a_name[64];
    struct em_pub_conf c, bad[3];
    struct broker b;
    int port_b;

    CHECK_EQ_INT(openssl_ca("ca"), 0);
    CHECK_EQ_INT(openssl_ca("other-ca"), 0);
    CHECK_EQ_INT(openssl_leaf("server", "127.0.0.1",
                              "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                              "extendedKeyUsage=serverAuth"),
                 0);
    CHECK_EQ_INT(openssl_leaf("client", "edgemon-client", "extendedKeyUsage=clientAuth"), 0);
    tmp_path(ca, sizeof ca, "ca.crt");
    tmp_path(other_ca, sizeof other_ca, "other-ca.crt");
    tmp_path(cert, sizeof cert, "client.crt");
    tmp_path(key, sizeof key, "client.key");
    tmp_path(srv_crt, sizeof srv_crt, "server.crt");
    tmp_path(srv_key, sizeof srv_key, "server.key");

    /* Listener A: server authentication only. Listener B: client certificate required. */
    b.port = free_port();
    port_b = free_port();
    CHECK(port_b != b.port);
    snprintf(body, sizeof body,
             "allow_anonymous true\n"
             "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
             "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
             "require_certificate true\n",
             b.port, ca, srv_crt, srv_key, port_b, ca, srv_crt, srv_key);
    CHECK(broker_start(&b, body) == 0);
    snprintf(url_a, sizeof url_a, "mqtts://127.0.0.1:%d", b.port);
    snprintf(url_a_name, sizeof url_a_name, "mqtts://localhost:%d", b.port);
    snprintf(url_b, sizeof url_b, "mqtts://127.0.0.1:%d", port_b);

    c = base_conf(url_a, "gw-tls-a");
    c.ca_file = ca;
    CHECK(publishes(&c));
    c = base_conf(url_a_name, "gw-tls-name");
    c.ca_file = ca;
    CHECK(publishes(&c));
    c = base_conf(url_b, "gw-tls-b");
    c.ca_file = ca;
    c.cert_file = cert;
    c.key_file = key;
    CHECK(publishes(&c));
    /* tls_verify off: a certificate from an unknown CA is accepted. */
    c = base_conf(url_a, "gw-tls-noverify");
    c.ca_file = other_ca;
    c.tls_verify = 0;
    CHECK(publishes(&c));

    /* Wrong CA; no client certificate where one is required; plain MQTT on TLS. */
    bad[0] = base_conf(url_a, "gw-tls-wrongca");
    bad[0].ca_file = other_ca;
    bad[1] = base_conf(url_b, "gw-tls-nocert");
    bad[1].ca_file = ca;
    char url_plain[64];
    snprintf(url_plain, sizeof url_plain, "mqtt://127.0.0.1:%d", b.port);
    bad[2] = base_conf(url_plain, "gw-tls-plain");
    CHECK(all_refused(bad, 3, T(2000)));
    broker_stop(&b);
}

static void test_password(void)
{
    char pwfile[PATH_MAX], good[PATH_MAX], wrong[PATH_MAX], body[PATH_MAX + 128], url[64];
    struct em_pub_conf c, bad[2];
    struct broker b;

    tmp_path(pwfile, sizeof pwfile, "mosquitto.passwd");
    tmp_path(good, sizeof good, "good.secret");
    tmp_path(wrong, sizeof wrong, "wrong.secret");
    char *argv[] = {"mosquitto_passwd", "-b", "-c", pwfile, "edge", "s3cret pass", NULL};
    CHECK_EQ_INT(run(argv), 0);
    CHECK_EQ_INT(write_file(good, "s3cret pass\n"), 0);
    CHECK_EQ_INT(write_file(wrong, "s3cret\n"), 0);
    /* Secrets must be private to their owner. */
    CHECK_EQ_INT(chmod(good, 0600), 0);
    CHECK_EQ_INT(chmod(wrong, 0600), 0);

    b.port = free_port();
    snprintf(body, sizeof body,
             "listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s\n", b.port,
             pwfile);
    CHECK(broker_start(&b, body) == 0);
    snprintf(url, sizeof url, "mqtt://127.0.0.1:%d", b.port);

    c = base_conf(url, "gw-pw-file");
    c.username = "edge";
    c.password_file = good;
    CHECK(publishes(&c));
    c = base_conf(url, "gw-pw-inline");
    c.username = "edge";
    c.password = "s3cret pass";
    CHECK(publishes(&c));

    bad[0] = base_conf(url, "gw-pw-wrong");
    bad[0].username = "edge";
    bad[0].password_file = wrong;
    bad[1] = base_conf(url, "gw-pw-anon");
    CHECK(all_refused(bad, 2, 1500));
    broker_stop(&b);
}

/* RUN, plus how long the test took: the whole binary should stay well under 30 s. */
#define TIMED_RUN(fn)                                                                    \
    do {                                                                                 \
        long long t_ = now_ms();                                                         \
        RUN(fn);                                                                         \
        printf("    %s: %lld ms\n", #fn, now_ms() - t_);                                 \
    } while (0)

int main(int argc, char **argv)
{
    long long t0 = now_ms();

    signal(SIGPIPE, SIG_IGN);
    self_path = strchr(argv[0], '/') ? argv[0] : "/proc/self/exe";
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3]);

    snprintf(tmpdir, sizeof tmpdir, "%s/edgemon-mqtt.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    atexit(cleanup);

    TIMED_RUN(test_topic_render);
    TIMED_RUN(test_registry);
    TIMED_RUN(test_create_errors);
    if (broker_plain(&main_broker, 0) < 0) {
        printf("FAIL cannot start mosquitto (see %s)\n", tmpdir);
        return 1;
    }
    snprintf(main_url, sizeof main_url, "mqtt://127.0.0.1:%d", main_broker.port);
    TIMED_RUN(test_qos1_window_1000);
    TIMED_RUN(test_qos0_and_qos2);
    TIMED_RUN(test_bad_topic_dropped);
    TIMED_RUN(test_last_will);
    TIMED_RUN(test_broker_outage);
    broker_stop(&main_broker);
    TIMED_RUN(test_tls);
    TIMED_RUN(test_password);
    printf("    (%lld ms)\n", now_ms() - t0);
    DONE();
}
