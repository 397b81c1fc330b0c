/* test_message.c - datasets, the CONTRACT message, seq persistence, the hand-off.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "driver.h"
#include "handoff.h"
#include "harness.h"
#include "message.h"
#include "seqstore.h"

static struct em_dataset ds;

static void test_message_shape(void)
{
    char out[EM_MSG_MAX];
    struct em_msg_meta m = {"mppt-1", "gw-01", "site-a", 1042, "5f1c00aa5f1c00aa", 1763900000123};
    em_ds_reset(&ds, "mppt");
    em_ds_set_num(&ds, "pv_voltage_v", 36.5);
    em_ds_set_int(&ds, "cycles", 12);
    em_ds_set_str(&ds, "charge_state", "bulk");
    em_ds_touch_strs(&ds, "faults");
    em_ds_add_num(&ds, "cell_voltages_v", 3.301);
    em_ds_add_num(&ds, "cell_voltages_v", 3.302);
    struct em_mppt_input *in = em_ds_input(&ds, 7);
    CHECK(in != NULL);
    in->dc_voltage_v = 380.5;
    in->have = 1;
    ds.quality = EM_Q_PARTIAL;
    int n = em_msg_format(&ds, &m, out, sizeof out);
    CHECK(n > 0 && (size_t)n == strlen(out));
    cJSON *j = cJSON_Parse(out);
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetObjectItem(j, "schema")->valuestring, "edgemon/1");
    CHECK_STR(cJSON_GetObjectItem(j, "dataset")->valuestring, "mppt");
    CHECK_STR(cJSON_GetObjectItem(j, "id")->valuestring, "mppt-1");
    CHECK_STR(cJSON_GetObjectItem(j, "agent")->valuestring, "gw-01");
    CHECK_STR(cJSON_GetObjectItem(j, "site")->valuestring, "site-a");
    CHECK_STR(cJSON_GetObjectItem(j, "quality")->valuestring, "partial");
    CHECK_NEAR(cJSON_GetObjectItem(j, "seq")->valuedouble, 1042, 0);
    CHECK_NEAR(cJSON_GetObjectItem(j, "ts")->valuedouble, 1763900000123.0, 0);
    cJSON *v = cJSON_GetObjectItem(j, "values");
    CHECK_NEAR(cJSON_GetObjectItem(v, "pv_voltage_v")->valuedouble, 36.5, 0);
    CHECK_STR(cJSON_GetObjectItem(v, "charge_state")->valuestring, "bulk");
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(v, "faults")));
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(v, "faults")), 0);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(v, "cell_voltages_v")), 2);
    cJSON *inputs = cJSON_GetObjectItem(v, "mppt_inputs");
    CHECK(cJSON_GetArraySize(inputs) == 1);
    CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetArrayItem(inputs, 0), "id")->valuedouble, 7, 0);
    CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(inputs, 0), "dc_current_a") == NULL);
    cJSON_Delete(j);
    /* Integral numbers print as integers, others without float noise. */
    CHECK(strstr(out, "\"cycles\":12,") != NULL);
    CHECK(strstr(out, "3.301,3.302") != NULL);
}

static void test_message_escaping_and_space(void)
{
    char out[EM_MSG_MAX];
    struct em_msg_meta m = {"a\"b\\c", "gw", "s", 1, "b", 0};
    em_ds_reset(&ds, "pms");
    em_ds_set_text(&ds, "state", "x\"y\x01z  \0\0", 10);
    int n = em_msg_format(&ds, &m, out, sizeof out);
    CHECK(n > 0);
    cJSON *j = cJSON_Parse(out);
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetObjectItem(j, "id")->valuestring, "a\"b\\c");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "values"), "state")->valuestring,
              "x\"y z");
    cJSON_Delete(j);
    errno = 0;
    CHECK(em_msg_format(&ds, &m, out, 40) == -1 && errno == ENOSPC);
}

static void test_dataset_bounds(void)
{
    static char keys[EM_DS_MAX_VALUES + 2][16];
    em_ds_reset(&ds, "pms");
    for (int i = 0; i < EM_DS_MAX_VALUES + 2; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        em_ds_set_num(&ds, keys[i], i);
    }
    CHECK_EQ_INT(ds.n, EM_DS_MAX_VALUES);
    CHECK_EQ_INT(ds.overflow, 2);
    /* Two lists filled alternately stay intact. */
    em_ds_reset(&ds, "mppt");
    em_ds_add_str(&ds, "faults", "a");
    em_ds_add_str(&ds, "events", "x");
    em_ds_add_str(&ds, "faults", "b");
    const struct em_value *f = em_ds_cfind(&ds, "faults");
    CHECK(f && f->u.list.n == 2);
    CHECK_STR(ds.strs[f->u.list.off], "a");
    CHECK_STR(ds.strs[f->u.list.off + 1], "b");
    const struct em_value *e = em_ds_cfind(&ds, "events");
    CHECK(e && e->u.list.n == 1);
    CHECK_STR(ds.strs[e->u.list.off], "x");
}

static void test_drivers_derive(void)
{
    const struct em_driver *pms = em_driver_find("pms"), *mppt = em_driver_find("mppt");
    const struct em_driver *inv = em_driver_find("inverter");
    double v;
    CHECK(pms && mppt && inv && !em_driver_find("ups"));
    em_ds_reset(&ds, "pms");
    em_ds_set_num(&ds, "voltage_v", 52.0);
    em_ds_set_num(&ds, "current_a", -10.0);
    em_ds_add_num(&ds, "cell_voltages_v", 3.30);
    em_ds_add_num(&ds, "cell_voltages_v", 3.34);
    em_ds_set_num(&ds, "soc_pct", 50);
    em_ds_set_num(&ds, "capacity_ah", 280);
    CHECK(pms->fixup(NULL, &ds) == 0);
    CHECK(em_ds_get_num(&ds, "power_w", &v) == 0);
    CHECK_NEAR(v, -520, 1e-9);
    em_ds_get_num(&ds, "cell_voltage_min_v", &v);
    CHECK_NEAR(v, 3.30, 1e-9);
    em_ds_get_num(&ds, "cell_voltage_max_v", &v);
    CHECK_NEAR(v, 3.34, 1e-9);
    em_ds_get_num(&ds, "cell_voltage_avg_v", &v);
    CHECK_NEAR(v, 3.32, 1e-9);
    em_ds_get_num(&ds, "remaining_ah", &v);
    CHECK_NEAR(v, 140, 1e-9);
    CHECK_STR(em_ds_cfind(&ds, "state")->u.str, "discharging");
    /* A device's own power value is never overwritten by a derived one. */
    em_ds_reset(&ds, "mppt");
    em_ds_set_num(&ds, "pv_voltage_v", 40);
    em_ds_set_num(&ds, "pv_current_a", 5);
    em_ds_set_num(&ds, "pv_power_w", 199);
    em_ds_set_num(&ds, "load_voltage_v", 12);
    em_ds_set_num(&ds, "load_current_a", 0.5);
    CHECK(mppt->fixup(NULL, &ds) == 0);
    em_ds_get_num(&ds, "pv_power_w", &v);
    CHECK_NEAR(v, 199, 0);
    em_ds_get_num(&ds, "load_power_w", &v);
    CHECK_NEAR(v, 6, 1e-9);
    CHECK(em_ds_cfind(&ds, "charge_power_w") == NULL);
    em_ds_reset(&ds, "inverter");
    struct em_mppt_input *in = em_ds_input(&ds, 1);
    in->dc_voltage_v = 400;
    in->dc_current_a = 2.5;
    in->have = 3;
    CHECK(inv->fixup(NULL, &ds) == 0);
    CHECK_NEAR(ds.inputs[0].dc_power_w, 1000, 1e-9);
}

static char dir[64];

static void test_seq_resumes_without_gap(void)
{
    struct em_seq s;
    char err[256];
    uint64_t q;
    snprintf(dir, sizeof dir, "/tmp/edgemon-seq.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK(em_seq_open(&s, dir, "dev-1", 1000, 0, err, sizeof err) == 0);
    for (int i = 1; i <= 5; i++) {
        CHECK(em_seq_take(&s, &q) == 0);
        CHECK_EQ_INT(q, i);
    }
    /* No close: as after kill -9 on the same boot, resume at 6. */
    struct em_seq s2;
    CHECK(em_seq_open(&s2, dir, "dev-1", 1000, 0, err, sizeof err) == 0);
    em_seq_take(&s2, &q);
    CHECK_EQ_INT(q, 6);
    em_seq_close(&s2);
    struct em_seq s3;
    CHECK(em_seq_open(&s3, dir, "dev-1", 1000, 0, err, sizeof err) == 0);
    em_seq_take(&s3, &q);
    CHECK_EQ_INT(q, 7);
    em_seq_close(&s3);
    /* Read-only (edgemon poll) shows the next one without consuming it. */
    struct em_seq r;
    CHECK(em_seq_open(&r, dir, "dev-1", 1000, 1, err, sizeof err) == 0);
    CHECK_EQ_INT(r.next, 8);
    em_seq_take(&r, &q);
    CHECK(em_seq_open(&r, dir, "dev-1", 1000, 1, err, sizeof err) == 0);
    CHECK_EQ_INT(r.next, 8);
}

static void test_seq_after_power_cut_skips(void)
{
    struct em_seq s;
    char err[256], path[128];
    uint64_t q;
    /* A file left "running" by another boot: the machine lost power. */
    snprintf(path, sizeof path, "%s/seq/dev-2", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "100 00000000-dead-beef-0000-000000000000 running\n");
    fclose(f);
    CHECK(em_seq_open(&s, dir, "dev-2", 1000, 0, err, sizeof err) == 0);
    em_seq_take(&s, &q);
    /* 10 s of sync interval at 1 s: never a repeat, a gap of at most ~22. */
    CHECK(q > 100 && q <= 100 + 2 * EM_SEQ_SYNC_S + 2);
    em_seq_close(&s);
    /* Cleanly closed on another boot: exact. */
    f = fopen(path, "w");
    fprintf(f, "200 00000000-dead-beef-0000-000000000000 clean\n");
    fclose(f);
    CHECK(em_seq_open(&s, dir, "dev-2", 1000, 0, err, sizeof err) == 0);
    em_seq_take(&s, &q);
    CHECK_EQ_INT(q, 200);
    em_seq_close(&s);
    /* Corrupt file: refuse rather than risk repeats. */
    f = fopen(path, "w");
    fprintf(f, "garbage\n");
    fclose(f);
    CHECK(em_seq_open(&s, dir, "dev-2", 1000, 0, err, sizeof err) == -1);
    CHECK(strstr(err, "corrupt") != NULL);
    /* Unsafe device ids never become paths. */
    CHECK(em_seq_open(&s, dir, "../etc", 1000, 0, err, sizeof err) == -1);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void test_handoff_order_and_drop(void)
{
    struct em_handoff h;
    struct em_handoff_tag t, t1 = {(struct em_seq *)&h, 41}, t2 = {NULL, 0};
    char buf[64];
    CHECK(em_handoff_init(&h, 200) == 0);
    CHECK(em_handoff_push(&h, "first", 5, &t1) == 0);
    CHECK(em_handoff_push(&h, "second", 6, NULL) == 0);
    CHECK_EQ_INT(em_handoff_pop(&h, buf, sizeof buf, 0, &t), 5);
    CHECK(memcmp(buf, "first", 5) == 0);
    CHECK(t.store == t1.store && t.seq == 41); /* the tag travels with its record */
    t = t1;
    CHECK_EQ_INT(em_handoff_pop(&h, buf, sizeof buf, 0, &t), 6);
    CHECK(t.store == t2.store && t.seq == 0); /* no tag given: an empty one */
    CHECK_EQ_INT(em_handoff_pop(&h, buf, sizeof buf, 10, NULL), 0);
    /* Overfill: oldest records go, counted; the newest survive, wrapping. */
    for (int i = 0; i < 20; i++) {
        char rec[16];
        int n = snprintf(rec, sizeof rec, "rec-%02d", i);
        struct em_handoff_tag ti = {NULL, (uint64_t)i};
        CHECK(em_handoff_push(&h, rec, (size_t)n, &ti) == 0);
    }
    CHECK(h.dropped > 0 && h.dropped < 20);
    int first = (int)h.dropped, popped = 0;
    char want[16];
    snprintf(want, sizeof want, "rec-%02d", first);
    CHECK_EQ_INT(em_handoff_pop(&h, buf, sizeof buf, 0, &t), 6);
    CHECK(memcmp(buf, want, 6) == 0 && t.seq == (uint64_t)first);
    for (popped = 1; em_handoff_pop(&h, buf, sizeof buf, 0, &t) == 6; popped++)
        CHECK(t.seq == (uint64_t)(first + popped));
    CHECK_EQ_INT(first + popped, 20);
    CHECK(em_handoff_push(&h, buf, 200, NULL) == -1 && errno == EMSGSIZE);
    em_handoff_release(&h);
}

struct waker {
    struct em_handoff *h;
    int push; /* 1: push a record, 0: only kick */
};

static void *wake_later(void *arg)
{
    struct waker *w = arg;
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
    if (w->push)
        em_handoff_push(w->h, "late", 4, NULL);
    else
        em_handoff_kick(w->h);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A consumer asleep for up to a minute is woken by a push and by a kick (what the
 * signal handler does). A lost wake-up would hold it the whole minute, so the
 * bound below tells a lost one from a slow machine by a factor of a thousand. */
static void test_handoff_wakes_sleeper(void)
{
    struct em_handoff h;
    char buf[16];
    pthread_t t;
    CHECK(em_handoff_init(&h, 256) == 0);
    for (int push = 1; push >= 0; push--) {
        struct waker w = {&h, push};
        double t0 = now_s();
        CHECK(pthread_create(&t, NULL, wake_later, &w) == 0);
        long n = em_handoff_pop(&h, buf, sizeof buf, 60000, NULL);
        double took = now_s() - t0;
        pthread_join(t, NULL);
        CHECK_EQ_INT(n, push ? 4 : 0);
        CHECK(took < 30);
    }
    /* A kick with nobody asleep ends the next wait at once; the ring stays empty. */
    em_handoff_kick(&h);
    double t0 = now_s();
    CHECK_EQ_INT(em_handoff_pop(&h, buf, sizeof buf, 60000, NULL), 0);
    CHECK(now_s() - t0 < 30);
    em_handoff_release(&h);
}

int main(void)
{
    RUN(test_message_shape);
    RUN(test_message_escaping_and_space);
    RUN(test_dataset_bounds);
    RUN(test_drivers_derive);
    RUN(test_seq_resumes_without_gap);
    RUN(test_seq_after_power_cut_skips);
    RUN(test_handoff_order_and_drop);
    RUN(test_handoff_wakes_sleeper);
    DONE();
}
