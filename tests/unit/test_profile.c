/* test_profile.c - profile parsing: built-ins load, errors name their JSON path.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "profile.h"

static char err[512];

static struct em_profile *parse(const char *json)
{
    err[0] = 0;
    return em_profile_parse(json, "t.json", err, sizeof err);
}

static void test_builtins_load(void)
{
    int n = 0;
    for (const char *const *name = em_profile_builtin_names; *name; name++, n++) {
        struct em_profile *p = em_profile_load(*name, err, sizeof err);
        if (!p)
            printf("    %s: %s\n", *name, err);
        CHECK(p != NULL);
        em_profile_free(p);
        /* Each cites its register map, in the file (the copy in the binary drops
         * "source", like the comments, to spare flash). */
        char path[128];
        snprintf(path, sizeof path, "conf/profiles/%s.json", *name);
        p = em_profile_load(path, err, sizeof err);
        CHECK(p && p->source && strlen(p->source) > 20);
        em_profile_free(p);
    }
    CHECK_EQ_INT(n, 5);
    struct em_profile *p = em_profile_load("sunspec", err, sizeof err);
    CHECK(p && p->nmodels == 3 && p->models[2].repeat_len == 20);
    CHECK_STR(p->models[2].group, "mppt_inputs");
    em_profile_free(p);
}

static void test_unknown_profile(void)
{
    CHECK(em_profile_load("victron", err, sizeof err) == NULL);
    CHECK(strstr(err, "unknown profile 'victron'") != NULL);
    CHECK(em_profile_load("/nonexistent/x.json", err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot read '/nonexistent/x.json'") != NULL);
}

static void test_minimal_and_defaults(void)
{
    struct em_profile *p = parse("{\"name\":\"x\",\"driver\":\"mppt\",\"points\":"
                                 "[{\"name\":\"pv_voltage_v\",\"addr\":\"0x10\"}]}");
    CHECK(p != NULL);
    CHECK_EQ_INT(p->points[0].addr, 16);
    CHECK_EQ_INT(p->points[0].type, EM_T_U16);
    CHECK_EQ_INT(p->points[0].space, EM_SPACE_HOLDING);
    CHECK_NEAR(p->points[0].scale, 1.0, 0);
    CHECK_EQ_INT(p->gap_tcp, 16);
    CHECK_EQ_INT(p->gap_rtu, 8);
    em_profile_free(p);
}

/* Each bad profile and the exact start of its error. */
static void test_errors_name_paths(void)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{", "t.json: (root): not valid JSON"},
        {"{\"name\":\"x\",\"driver\":\"ups\",\"points\":[]}", "t.json: driver: must be pms"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"colour\":1,\"points\":[]}", "t.json: colour: unknown key"},
        {"{\"name\":\"x\",\"driver\":\"pms\"}", "t.json: points: missing"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1},"
         "{\"name\":\"b\",\"addr\":2,\"type\":\"u17\"}]}",
         "t.json: points[1].type: unknown type 'u17'"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"adr\":1}]}",
         "t.json: points[0].adr: unknown key"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\"}]}",
         "t.json: points[0].addr: missing"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":70000}]}",
         "t.json: points[0].addr: missing or not an address"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"sf\":\"b\"}]}",
         "t.json: points[0].sf: no point named 'b'"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"order\":\"ACBD\"}]}",
         "t.json: points[0].order: must be ABCD"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"type\":\"string\"}]}",
         "t.json: points[0].size: a string needs its size"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"type\":\"bitfield\"}]}",
         "t.json: points[0].bits: a bitfield needs its bit names"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"type\":\"bitfield\","
         "\"bits\":{\"64\":\"x\"}}]}",
         "t.json: points[0].bits: '64' is not a valid bit"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"byte\":\"hi\"}]}",
         "t.json: points[0].byte: only for u8"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":65535,\"type\":\"u32\"}]}",
         "t.json: points[0]: registers run past"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"space\":\"coil\"}]}",
         "t.json: points[0].type: bit points live"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"scale\":0}]}",
         "t.json: points[0].scale: must be a non-zero number"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"sunspec\":[{\"models\":[802],\"points\":"
         "[{\"name\":\"a\",\"addr\":3}]}]}",
         "t.json: sunspec[0].points[0].at: missing"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"sunspec\":[{\"models\":[65535],\"points\":"
         "[{\"name\":\"a\",\"at\":3}]}]}",
         "t.json: sunspec[0].models: not a model id"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"sunspec\":[{\"models\":[160],\"points\":"
         "[{\"name\":\"_S\",\"at\":2,\"type\":\"sunssf\"}],\"repeat\":{\"at\":10,\"length\":20,"
         "\"group\":\"g\",\"points\":[{\"name\":\"v\",\"at\":1,\"sf\":\"_T\"}]}}]}",
         "t.json: sunspec[0].repeat.points[0].sf: no point named '_T'"},
        {"{\"name\":\"x\",\"driver\":\"pms\",\"points\":[{\"name\":\"a\",\"addr\":1,\"append\":true}]}",
         "t.json: points[0].append: must be true or false, with \"enum\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct em_profile *p = parse(cases[i].json);
        if (p || strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            printf("    case %zu: got '%s', want '%s...'\n", i, p ? "(parsed)" : err,
                   cases[i].want);
        CHECK(p == NULL);
        CHECK(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0);
    }
}

static void test_repeat_sf_resolves_to_fixed_block(void)
{
    struct em_profile *p = parse(
        "{\"name\":\"x\",\"driver\":\"inverter\",\"sunspec\":[{\"models\":[160],\"points\":"
        "[{\"name\":\"_S\",\"at\":2,\"type\":\"sunssf\"}],\"repeat\":{\"at\":10,\"length\":20,"
        "\"group\":\"mppt_inputs\",\"points\":[{\"name\":\"dc_voltage_v\",\"at\":1,\"sf\":\"_S\"}]}}]}");
    if (!p)
        printf("    %s\n", err);
    CHECK(p != NULL);
    CHECK_EQ_INT(p->models[0].nrpoints, 1);
    em_profile_free(p);
}

int main(void)
{
    RUN(test_builtins_load);
    RUN(test_unknown_profile);
    RUN(test_minimal_and_defaults);
    RUN(test_errors_name_paths);
    RUN(test_repeat_sf_resolves_to_fixed_block);
    DONE();
}
