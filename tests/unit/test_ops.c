/* test_ops.c - the operator snapshot: site gathering, missing devices, metrics, status
 * routing and the snapshot deadline, with no network.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "device.h"
#include "harness.h"
#include "ops.h"

static const char conf_json[] =
    "{\"agent\":{\"id\":\"gw-u\",\"site\":\"s-u\",\"state_dir\":\"/tmp\"},"
    "\"devices\":["
    "{\"id\":\"bms-1\",\"driver\":\"pms\",\"profile\":\"seplos-v3\",\"bus\":\"tcp://127.0.0.1:1\"},"
    "{\"id\":\"mppt-1\",\"driver\":\"mppt\",\"profile\":\"epever-tracer\",\"bus\":\"tcp://127.0.0.1:1\",\"unit\":2},"
    "{\"id\":\"inv-1\",\"driver\":\"inverter\",\"profile\":\"sunspec\",\"bus\":\"tcp://127.0.0.1:2\"}],"
    "\"queue\":{\"backend\":\"spool\"},"
    "\"publishers\":[{\"name\":\"uplink\",\"type\":\"mqtt\",\"url\":\"mqtt://127.0.0.1:1883\","
    "\"datasets\":[\"pms\",\"site\"]}]}";

static const char bms[] = "{\"schema\":\"edgemon/1\",\"dataset\":\"pms\",\"id\":\"bms-1\",\"seq\":1,"
                          "\"quality\":\"ok\",\"values\":{\"soc_pct\":80.5,\"power_w\":-120.25}}";
static const char mppt[] = "{\"schema\":\"edgemon/1\",\"dataset\":\"mppt\",\"id\":\"mppt-1\",\"seq\":1,"
                           "\"quality\":\"partial\",\"values\":{\"pv_power_w\":300,"
                           "\"load_power_w\":20.5,\"soc_pct\":70}}";
static const char inv[] = "{\"schema\":\"edgemon/1\",\"dataset\":\"inverter\",\"id\":\"inv-1\","
                          "\"seq\":1,\"quality\":\"ok\",\"values\":{\"ac_power_w\":1000}}";

static struct em_conf *load(void)
{
    struct em_errors e;
    em_errors_init(&e);
    struct em_conf *c = em_conf_parse(conf_json, strlen(conf_json), &e);
    for (size_t i = 0; i < e.n; i++)
        printf("    conf: %s\n", e.msg[i]);
    return c;
}

static void test_site_gathers_and_lists_missing(void)
{
    struct em_conf *c = load();
    CHECK(c);
    struct em_ops *o = em_ops_new(c, "boot-1");
    CHECK(o);
    char msg[EM_MSG_MAX];
    em_ops_device(o, 0, bms, strlen(bms), 0, 5);
    em_ops_device(o, 1, mppt, strlen(mppt), 0, 5);
    em_ops_device(o, 2, NULL, 0, ETIMEDOUT, 500);
    int n = em_ops_site_message(o, 7, 60000, msg, sizeof msg);
    CHECK(n > 0);
    CHECK(strstr(msg, "\"dataset\":\"site\",\"id\":\"gw-u\",\"agent\":\"gw-u\",\"site\":\"s-u\","
                      "\"seq\":7,\"boot\":\"boot-1\""));
    CHECK(strstr(msg, "\"quality\":\"partial\""));
    CHECK(strstr(msg, "\"values\":{\"pv_power_w\":300.0,\"battery_soc_pct\":80.5,"
                      "\"battery_power_w\":-120.2,\"load_power_w\":20.5,\"devices_ok\":2,"
                      "\"devices_total\":3}"));
    CHECK(strstr(msg, "\"missing\":[\"inv-1\"]"));
    /* The inverter answers again: complete, AC power counted as load too. */
    em_ops_device(o, 2, inv, strlen(inv), 0, 5);
    n = em_ops_site_message(o, 8, 60000, msg, sizeof msg);
    CHECK(n > 0);
    CHECK(strstr(msg, "\"quality\":\"ok\""));
    CHECK(strstr(msg, "\"load_power_w\":1020.5,\"ac_power_w\":1000.0"));
    CHECK(strstr(msg, "\"missing\":[]"));
    /* Too small a buffer is an error, not a cut message. */
    CHECK(em_ops_site_message(o, 9, 60000, msg, 20) == -1 && errno == ENOSPC);
    em_ops_free(o);
    em_conf_free(c);
}

static void test_metrics_and_status(void)
{
    struct em_conf *c = load();
    CHECK(c);
    struct em_ops *o = em_ops_new(c, "b");
    CHECK(o);
    em_ops_device(o, 0, bms, strlen(bms), 0, 5);      /* 0.005 s */
    em_ops_device(o, 1, mppt, strlen(mppt), 0, 40);   /* partial, 0.04 s */
    em_ops_device(o, 2, NULL, 0, ETIMEDOUT, 3000);    /* 3 s */
    struct em_qstats st = {.pending = 12, .oldest_age_s = 4, .nreasons = 1,
                           .dropped_by = {3}, .reason_names = {"max_messages"}};
    em_ops_publisher(o, 0, 1, &st, 99, 2);
    struct em_sb b = {0};
    em_ops_render_metrics(o, &b);
    CHECK(b.p && !b.oom);
    CHECK(strstr(b.p, "edgemon_polls_total{device=\"bms-1\",result=\"ok\"} 1\n"));
    CHECK(strstr(b.p, "edgemon_polls_total{device=\"mppt-1\",result=\"partial\"} 1\n"));
    CHECK(strstr(b.p, "edgemon_polls_total{device=\"inv-1\",result=\"error\"} 1\n"));
    CHECK(strstr(b.p, "edgemon_device_up{device=\"inv-1\"} 0\n"));
    CHECK(strstr(b.p, "edgemon_poll_duration_seconds_bucket{bus=\"tcp://127.0.0.1:1\",le=\"0.01\"} 1\n"));
    CHECK(strstr(b.p, "edgemon_poll_duration_seconds_bucket{bus=\"tcp://127.0.0.1:1\",le=\"0.05\"} 2\n"));
    CHECK(strstr(b.p, "edgemon_poll_duration_seconds_bucket{bus=\"tcp://127.0.0.1:2\",le=\"2.5\"} 0\n"));
    CHECK(strstr(b.p, "edgemon_poll_duration_seconds_bucket{bus=\"tcp://127.0.0.1:2\",le=\"5\"} 1\n"));
    CHECK(strstr(b.p, "edgemon_poll_duration_seconds_count{bus=\"tcp://127.0.0.1:2\"} 1\n"));
    CHECK(strstr(b.p, "edgemon_queue_pending{publisher=\"uplink\"} 12\n"));
    CHECK(strstr(b.p, "edgemon_queue_oldest_age_seconds{publisher=\"uplink\"} 4\n"));
    CHECK(strstr(b.p, "edgemon_published_total{publisher=\"uplink\"} 99\n"));
    CHECK(strstr(b.p, "edgemon_publisher_up{publisher=\"uplink\"} 1\n"));
    CHECK(strstr(b.p, "edgemon_dropped_total{publisher=\"uplink\",reason=\"max_messages\"} 3\n"));
    CHECK(strstr(b.p, "edgemon_dropped_total{publisher=\"uplink\",reason=\"dead_letter\"} 2\n"));
    em_sb_release(&b);

    em_ops_render_status(o, &b);
    CHECK(b.p && !b.oom);
    CHECK(strstr(b.p, "\"id\":\"inv-1\",\"driver\":\"inverter\",\"bus\":\"tcp://127.0.0.1:2\","
                      "\"state\":\"down\",\"up\":false,\"last_error\":\"Connection timed out\""));
    CHECK(strstr(b.p, "{\"dataset\":\"pms\",\"published\":true,\"devices\":[\"bms-1\"],\"publishers\":[{\"name\":"
                      "\"uplink\",\"state\":\"up\",\"pending\":12}]}"));
    CHECK(strstr(b.p, "{\"dataset\":\"mppt\",\"published\":true,\"devices\":[\"mppt-1\"],\"publishers\":[]}"));
    em_sb_release(&b);

    em_ops_render_latest(o, &b);
    CHECK(b.p && strstr(b.p, "\"inv-1\":null") && strstr(b.p, bms));
    em_sb_release(&b);
    em_ops_tick(o);
    em_ops_render_history(o, &b);
    CHECK(b.p && strstr(b.p, "\"points\":[[") && strstr(b.p, ",300.0,-120.2,20.5]]"));
    em_sb_release(&b);
    em_ops_free(o);
    em_conf_free(c);
}

/* A stand-in for the bus threads: two devices answer 50 ms after the trigger,
 * the third never does. */
struct fake_buses {
    struct em_ops *o;
    int all; /* the third answers too */
    pthread_t t;
    int started;
};

static void *answer(void *arg)
{
    struct fake_buses *f = arg;
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
    em_ops_device(f->o, 0, bms, strlen(bms), 0, 0);
    em_ops_device(f->o, 1, mppt, strlen(mppt), 0, 0);
    if (f->all)
        em_ops_device(f->o, 2, inv, strlen(inv), 0, 0);
    return NULL;
}

static void trigger(void *arg)
{
    struct fake_buses *f = arg;
    f->started = pthread_create(&f->t, NULL, answer, f) == 0;
}

static void test_snapshot_deadline(void)
{
    struct em_conf *c = load();
    CHECK(c);
    struct em_ops *o = em_ops_new(c, "b");
    CHECK(o);
    /* An old reading of the inverter must not count as fresh. */
    em_ops_device(o, 2, inv, strlen(inv), 0, 0);
    struct timespec ts = {0, 5 * 1000000};
    nanosleep(&ts, NULL);
    struct fake_buses f = {o, 0, 0, 0};
    struct em_sb b = {0};
    int64_t t0 = em_mono_ms();
    em_ops_snapshot(o, trigger, &f, 300, &b);
    int64_t took = em_mono_ms() - t0;
    if (f.started)
        pthread_join(f.t, NULL);
    CHECK(f.started);
    CHECK(took >= 290 && took < 3000);
    CHECK(b.p && !b.oom);
    CHECK(strstr(b.p, "\"quality\":\"partial\""));
    CHECK(strstr(b.p, "\"missing\":[\"inv-1\"]"));
    CHECK(strstr(b.p, "\"devices\":{\"bms-1\":{"));
    CHECK(strstr(b.p, "\"mppt-1\":{"));
    CHECK(!strstr(b.p, "\"inv-1\":{"));
    CHECK(!strstr(b.p, "ac_power_w"));
    em_sb_release(&b);

    /* Everyone answers: the snapshot returns when the last one did, not at the deadline. */
    struct fake_buses g = {o, 1, 0, 0};
    t0 = em_mono_ms();
    em_ops_snapshot(o, trigger, &g, 20000, &b);
    took = em_mono_ms() - t0;
    if (g.started)
        pthread_join(g.t, NULL);
    CHECK(took < 10000);
    CHECK(strstr(b.p, "\"quality\":\"ok\""));
    CHECK(strstr(b.p, "\"missing\":[]"));
    CHECK(strstr(b.p, "\"inv-1\":{"));
    em_sb_release(&b);
    em_ops_free(o);
    em_conf_free(c);
}

/* Feature flags: a disabled device is neither expected nor missing; the set and
 * the datasets left out show in the API. */
static void test_flags_in_ops(void)
{
    struct em_conf *c = load();
    CHECK(c);
    struct em_ops *o = em_ops_new(c, "boot-1");
    CHECK(o);
    char msg[EM_MSG_MAX];
    em_ops_device(o, 0, bms, strlen(bms), 0, 5);
    em_ops_device(o, 1, mppt, strlen(mppt), 0, 5);
    em_ops_device_enabled(o, 2, 0);
    CHECK(em_ops_site_message(o, 1, 60000, msg, sizeof msg) > 0);
    CHECK(strstr(msg, "\"quality\":\"ok\""));
    CHECK(strstr(msg, "\"devices_ok\":2,\"devices_total\":2"));
    CHECK(strstr(msg, "\"missing\":[]"));
    em_ops_features(o, "{\"device.inv-1\":false,\"dataset.mppt\":false}", EM_DS_BIT_MPPT);
    struct em_sb b = {0};
    em_ops_render_features(o, &b);
    CHECK_STR(b.p, "{\"features\":{\"device.inv-1\":false,\"dataset.mppt\":false}}\n");
    em_sb_release(&b);
    em_ops_render_status(o, &b);
    CHECK(strstr(b.p, "\"id\":\"inv-1\",\"driver\":\"inverter\""));
    CHECK(strstr(b.p, "\"state\":\"disabled\""));
    CHECK(strstr(b.p, "{\"dataset\":\"mppt\",\"published\":false,"));
    em_sb_release(&b);
    em_ops_device_enabled(o, 2, 1);
    CHECK(em_ops_site_message(o, 2, 60000, msg, sizeof msg) > 0);
    CHECK(strstr(msg, "\"missing\":[\"inv-1\"]"));
    em_ops_free(o);
    em_conf_free(c);
}

static void test_text_buffer(void)
{
    struct em_sb b = {0};
    em_sb_json_str(&b, "a\"b\\c\n\x01");
    CHECK_STR(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\"");
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    em_sb_printf(&b, "%s|%d", big, 42);
    CHECK_EQ_INT(b.n, 21 + 2999 + 3);
    CHECK(strcmp(b.p + b.n - 3, "|42") == 0);
    em_sb_release(&b);
    CHECK(b.p == NULL && b.n == 0);
}

int main(void)
{
    RUN(test_site_gathers_and_lists_missing);
    RUN(test_metrics_and_status);
    RUN(test_snapshot_deadline);
    RUN(test_flags_in_ops);
    RUN(test_text_buffer);
    DONE();
}
