/* test_flagset.c - feature flag messages: every known name, every way to be invalid,
 * the atomic rule (an invalid message leaves defaults), and lenient restore.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "flagset.h"
#include "harness.h"
#include "log.h"

static const char conf_json[] =
    "{\"agent\":{\"id\":\"gw-f\",\"site\":\"s-f\",\"state_dir\":\"/tmp\"},"
    "\"devices\":["
    "{\"id\":\"bms-1\",\"driver\":\"pms\",\"profile\":\"seplos-v3\",\"bus\":\"tcp://127.0.0.1:1\"},"
    "{\"id\":\"mppt-1\",\"driver\":\"mppt\",\"profile\":\"epever-tracer\",\"bus\":\"tcp://127.0.0.1:1\",\"unit\":2}],"
    "\"queue\":{\"backend\":\"spool\"},"
    "\"publishers\":[{\"name\":\"uplink\",\"type\":\"redis\",\"url\":\"redis://127.0.0.1:1\"}]}";

static struct em_conf *conf;
static struct em_features *f;
static char err[256];

static int parse(const char *text)
{
    return em_features_parse(conf, text, strlen(text), 0, f, err, sizeof err);
}

static void test_every_name(void)
{
    CHECK_EQ_INT(parse("{\"features\":{\"dataset.mppt\":false,\"dataset.site\":true,"
                       "\"device.bms-1\":false,\"poll.interval_ms\":250,"
                       "\"site.snapshot\":false,\"log.level\":\"debug\"}}"),
                 0);
    CHECK_STR(err, "");
    CHECK_EQ_INT(f->datasets_off, EM_DS_BIT_MPPT);
    CHECK_EQ_INT(f->devices_off[0], 1);
    CHECK_EQ_INT(f->devices_off[1], 0);
    CHECK_EQ_INT(f->poll_interval_ms, 250);
    CHECK_EQ_INT(f->site_snapshot, 0);
    CHECK_EQ_INT(f->log_level, EM_LOG_DEBUG);
    CHECK_EQ_INT(f->nnames, 6);
    CHECK_STR(f->active, "{\"dataset.mppt\":false,\"dataset.site\":true,\"device.bms-1\":false,"
                         "\"poll.interval_ms\":250,\"site.snapshot\":false,\"log.level\":\"debug\"}");
}

static void test_empty_set_is_defaults(void)
{
    CHECK_EQ_INT(parse("{\"features\":{}}"), 0);
    CHECK_EQ_INT(f->datasets_off, 0);
    CHECK_EQ_INT(f->poll_interval_ms, 0);
    CHECK_EQ_INT(f->site_snapshot, 1);
    CHECK_EQ_INT(f->log_level, -1);
    CHECK_STR(f->active, "{}");
}

/* Each must fail, name what is wrong, and leave the set at its defaults. */
static void test_invalid_messages(void)
{
    static const struct {
        const char *msg, *why;
    } bad[] = {
        {"not json", "not JSON"},
        {"[1,2]", "\"features\" object"},
        {"{\"features\":[]}", "\"features\" object"},
        {"{\"flags\":{}}", "\"features\" object"},
        {"{\"features\":{},\"extra\":1}", "unknown key 'extra'"},
        {"{\"features\":{\"dataset.mppt\":false,\"bogus\":1}}", "unknown feature 'bogus'"},
        {"{\"features\":{\"dataset.weather\":true}}", "unknown dataset"},
        {"{\"features\":{\"dataset.pms\":0}}", "'dataset.pms' must be true or false"},
        {"{\"features\":{\"device.nope\":false}}", "no device 'nope'"},
        {"{\"features\":{\"device.bms-1\":\"off\"}}", "'device.bms-1' must be true or false"},
        {"{\"features\":{\"poll.interval_ms\":99}}", "from 100 to 3600000"},
        {"{\"features\":{\"poll.interval_ms\":3600001}}", "from 100 to 3600000"},
        {"{\"features\":{\"poll.interval_ms\":500.5}}", "integer"},
        {"{\"features\":{\"poll.interval_ms\":\"500\"}}", "integer"},
        {"{\"features\":{\"site.snapshot\":null}}", "'site.snapshot' must be true or false"},
        {"{\"features\":{\"log.level\":\"verbose\"}}", "'log.level' must be"},
        {"{\"features\":{\"log.level\":3}}", "'log.level' must be"},
        {"{\"features\":{\"dataset.pms\":true,\"dataset.pms\":false}}", "given twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Start from a non-default set: a failure must not leave half of the message. */
        CHECK_EQ_INT(parse("{\"features\":{\"dataset.pms\":false}}"), 0);
        int rc = parse(bad[i].msg);
        if (rc == 0 || !strstr(err, bad[i].why))
            printf("    message %s: rc %d, err '%s'\n", bad[i].msg, rc, err);
        CHECK_EQ_INT(rc, -1);
        CHECK(strstr(err, bad[i].why));
        CHECK_EQ_INT(f->datasets_off, 0);
        CHECK_STR(f->active, "{}");
    }
}

static void test_size_limit(void)
{
    size_t n = EM_FEATURES_MAX_BYTES + 10;
    char *big = malloc(n + 1);
    CHECK(big);
    memset(big, ' ', n);
    memcpy(big, "{\"features\":{}}", 15);
    big[n] = 0;
    int rc = em_features_parse(conf, big, n, 0, f, err, sizeof err);
    free(big);
    CHECK_EQ_INT(rc, -1);
    CHECK(strstr(err, "byte limit"));
    /* Not NUL-terminated: only len bytes are read. */
    const char m[] = "{\"features\":{\"site.snapshot\":false}}GARBAGE";
    CHECK_EQ_INT(em_features_parse(conf, m, sizeof m - 1 - 7, 0, f, err, sizeof err), 0);
    CHECK_EQ_INT(f->site_snapshot, 0);
}

static void test_lenient_restore(void)
{
    const char *m = "{\"features\":{\"device.gone\":false,\"device.mppt-1\":false}}";
    CHECK_EQ_INT(parse(m), -1);
    CHECK_EQ_INT(em_features_parse(conf, m, strlen(m), 1, f, err, sizeof err), 0);
    CHECK(strstr(err, "no device 'gone'"));
    CHECK_EQ_INT(f->devices_off[1], 1);
    CHECK_STR(f->active, "{\"device.mppt-1\":false}");
}

static void test_copy_and_equal(void)
{
    struct em_features *g = em_features_new(conf);
    CHECK(g);
    CHECK_EQ_INT(parse("{\"features\":{\"device.mppt-1\":false}}"), 0);
    CHECK(!em_features_equal(f, g));
    em_features_copy(g, f);
    CHECK(em_features_equal(f, g));
    CHECK_EQ_INT(g->devices_off[1], 1);
    em_features_free(g);
}

int main(void)
{
    struct em_errors e;
    em_errors_init(&e);
    conf = em_conf_parse(conf_json, strlen(conf_json), &e);
    for (size_t i = 0; i < e.n; i++)
        printf("    conf: %s\n", e.msg[i]);
    if (!conf || !(f = em_features_new(conf)))
        return 1;
    RUN(test_every_name);
    RUN(test_empty_set_is_defaults);
    RUN(test_invalid_messages);
    RUN(test_size_limit);
    RUN(test_lenient_restore);
    RUN(test_copy_and_equal);
    em_features_free(f);
    em_conf_free(conf);
    DONE();
}
