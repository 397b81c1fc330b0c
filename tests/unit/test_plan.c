/* test_plan.c - the request planner: exact request lists for every built-in profile.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "plan.h"
#include "profile.h"
#include "regdev.h"

/* Render a plan as "space:addr+count ..." so a whole request list is one string. */
static const char *render(const struct em_plan *p)
{
    static char buf[1024];
    static const char sp[] = {'h', 'i', 'c', 'd'};
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < p->nreqs && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%c:%u+%u", i ? " " : "",
                              sp[p->reqs[i].space], p->reqs[i].addr, p->reqs[i].count);
    return buf;
}

static const char *plan_profile(const char *name, int rtu)
{
    static char err[256];
    static char out[1024];
    struct em_profile *p = em_profile_load(name, err, sizeof err);
    if (!p)
        return err;
    struct em_regdev *d = em_regdev_new(p, rtu, err, sizeof err);
    if (!d) {
        em_profile_free(p);
        return err;
    }
    int rc;
    if (p->nmodels) {
        /* Common model 1 (L 66) at 40002, then the device model(s), as found
         * on real devices and in the simulator. */
        uint16_t inv_ids[] = {1, 103, 160}, inv_lens[] = {66, 50, 48};
        uint16_t bat_ids[] = {1, 802}, bat_lens[] = {66, 62};
        int bat = strcmp(name, "sunspec-battery") == 0;
        rc = em_regdev_assume(d, 40000, bat ? bat_ids : inv_ids, bat ? bat_lens : inv_lens,
                              bat ? 2 : 3);
    } else {
        rc = em_regdev_plan(d);
    }
    snprintf(out, sizeof out, "%s", rc < 0 ? "plan failed" : render(&d->plan));
    em_regdev_free(d);
    em_profile_free(p);
    return out;
}

static void test_epever_tcp(void)
{
    /* 0x311A is a barrier (a hole precedes it); the statistics block reads
     * through the 7-register gap before 0x331B over TCP. */
    CHECK_STR(plan_profile("epever-tracer", 0), "i:12544+18 i:12570+1 i:12800+3 i:13068+17");
}

/* RTU reads through gaps of up to 8 registers: at 9600 baud a register costs
 * about 2.3 ms, a new request (13 framing bytes, two 3.5-character silences and
 * the device's turnaround) 25 ms or more. 0x3314-0x331A is 7. */
static void test_epever_rtu(void)
{
    CHECK_STR(plan_profile("epever-tracer", 1),
              "i:12544+18 i:12570+1 i:12800+3 i:13068+17");
}

static void test_renogy(void)
{
    CHECK_STR(plan_profile("renogy-rover", 0), "h:256+35");
    CHECK_STR(plan_profile("renogy-rover", 1), "h:256+10 h:275+16");
}

static void test_seplos(void)
{
    CHECK_STR(plan_profile("seplos-v3", 0), "i:4096+14 i:4352+16");
    CHECK_STR(plan_profile("seplos-v3", 1), "i:4096+14 i:4352+16");
}

static void test_sunspec_inverter(void)
{
    /* 103 at 40070: A (40072) .. Evt1 (40111); 160 at 40122: SFs 40124-40126,
     * modules at 40132 and 40152 (id, DCA/DCV/DCW at +9..+11). */
    CHECK_STR(plan_profile("sunspec", 0), "h:40072+92");
    CHECK_STR(plan_profile("sunspec", 1), "h:40072+40 h:40124+40");
}

static void test_sunspec_battery(void)
{
    /* 802 at 40070: AHRtg +2 .. W_SF +63. */
    CHECK_STR(plan_profile("sunspec-battery", 0), "h:40072+62");
    CHECK_STR(plan_profile("sunspec-battery", 1),
              "h:40072+15 h:40096+38");
}

static struct em_point mk(enum em_space s, uint32_t addr, uint16_t nregs, uint16_t count)
{
    struct em_point p;
    memset(&p, 0, sizeof p);
    p.space = s;
    p.addr = addr;
    p.nregs = nregs;
    p.count = count;
    p.type = s >= EM_SPACE_COIL ? EM_T_BIT : EM_T_U16;
    p.sf_index = -1;
    return p;
}

static void test_limits_and_barriers(void)
{
    struct em_plan plan = {0};
    struct em_point pts[6];
    /* 0..99 and 100..149: 150 registers exceed one request. */
    pts[0] = mk(EM_SPACE_HOLDING, 0, 1, 100);
    pts[1] = mk(EM_SPACE_HOLDING, 100, 1, 50);
    CHECK(em_plan_build(&plan, pts, 2, NULL, NULL, 8) == 0);
    CHECK_STR(render(&plan), "h:0+100 h:100+50");
    /* Exactly 125 fits. */
    pts[1] = mk(EM_SPACE_HOLDING, 100, 1, 25);
    CHECK(em_plan_build(&plan, pts, 2, NULL, NULL, 8) == 0);
    CHECK_STR(render(&plan), "h:0+125");
    /* Bits up to 2000 in one request, other spaces apart. */
    pts[0] = mk(EM_SPACE_DISCRETE, 0, 1, 1);
    pts[1] = mk(EM_SPACE_DISCRETE, 1999, 1, 1);
    pts[2] = mk(EM_SPACE_COIL, 5, 1, 1);
    pts[3] = mk(EM_SPACE_INPUT, 5, 1, 1);
    CHECK(em_plan_build(&plan, pts, 4, NULL, NULL, 2000) == 0);
    CHECK_STR(render(&plan), "i:5+1 c:5+1 d:0+2000");
    /* A barrier point starts its own request; a gap beyond gap_max too. */
    pts[0] = mk(EM_SPACE_HOLDING, 10, 1, 1);
    pts[1] = mk(EM_SPACE_HOLDING, 11, 1, 1);
    pts[1].barrier = 1;
    pts[2] = mk(EM_SPACE_HOLDING, 12, 2, 1);
    pts[3] = mk(EM_SPACE_HOLDING, 20, 1, 1); /* gap 6 */
    pts[4] = mk(EM_SPACE_HOLDING, 30, 1, 1); /* gap 9 */
    CHECK(em_plan_build(&plan, pts, 5, NULL, NULL, 6) == 0);
    CHECK_STR(render(&plan), "h:10+1 h:11+10 h:30+1");
    /* Skipped (unsupported) points and learned splits. */
    uint8_t skip[5] = {0, 0, 1, 0, 0}, split[5] = {0, 0, 0, 1, 0};
    pts[1].barrier = 0;
    CHECK(em_plan_build(&plan, pts, 5, skip, split, 10) == 0);
    CHECK_STR(render(&plan), "h:10+2 h:20+11");
    /* Overlapping points (two fields of one status word) share a request. */
    pts[0] = mk(EM_SPACE_INPUT, 0x3201, 1, 1);
    pts[1] = mk(EM_SPACE_INPUT, 0x3201, 1, 1);
    pts[1].barrier = 1;
    CHECK(em_plan_build(&plan, pts, 2, NULL, NULL, 0) == 0);
    CHECK_STR(render(&plan), "i:12801+1");
    /* Buffer offsets point at each point's words. */
    pts[0] = mk(EM_SPACE_HOLDING, 100, 1, 1);
    pts[1] = mk(EM_SPACE_HOLDING, 0, 2, 1);
    pts[2] = mk(EM_SPACE_HOLDING, 103, 1, 1);
    CHECK(em_plan_build(&plan, pts, 3, NULL, NULL, 4) == 0);
    CHECK_STR(render(&plan), "h:0+2 h:100+4");
    CHECK_EQ_INT(plan.point_off[1], 0);
    CHECK_EQ_INT(plan.point_off[0], 2);
    CHECK_EQ_INT(plan.point_off[2], 5);
    CHECK_EQ_INT(plan.nwords, 6);
    /* A point larger than one request is refused. */
    pts[0] = mk(EM_SPACE_HOLDING, 0, 1, 126);
    CHECK(em_plan_build(&plan, pts, 1, NULL, NULL, 4) == -1 && errno == EINVAL);
    em_plan_release(&plan);
}

static void test_optimum(void)
{
    char err[256];
    struct em_profile *p = em_profile_load("epever-tracer", err, sizeof err);
    CHECK(p);
    /* Even reading every gap: the barrier at 0x311A, and 0x311A..0x3202 and
     * 0x3200..0x331C each spanning more than 125 registers, leave 4 requests. */
    size_t opt = em_plan_optimum(p->points, p->npoints);
    em_profile_free(p);
    CHECK_EQ_INT(opt, 4);
}

int main(void)
{
    RUN(test_epever_tcp);
    RUN(test_epever_rtu);
    RUN(test_renogy);
    RUN(test_seplos);
    RUN(test_sunspec_inverter);
    RUN(test_sunspec_battery);
    RUN(test_limits_and_barriers);
    RUN(test_optimum);
    DONE();
}
