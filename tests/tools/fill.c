/* fill.c - fill edgemon's queue with N realistic messages (for the drain bench).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * usage: fill CONFIG N   (pushes N mppt messages for every publisher of CONFIG)
 */
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "dataset.h"
#include "message.h"
#include "queue.h"

int main(int argc, char **argv)
{
    struct em_errors errs;
    char err[256];
    static struct em_dataset ds;
    static char msg[64][EM_MSG_MAX];
    struct em_qmsg m[64];

    if (argc != 3) {
        fprintf(stderr, "usage: fill CONFIG N\n");
        return 2;
    }
    em_errors_init(&errs);
    struct em_conf *c = em_conf_load(argv[1], &errs);
    if (!c) {
        em_errors_print(&errs, stderr);
        return 1;
    }
    struct em_queue *q = em_queue_open(c, 0, err, sizeof err);
    if (!q) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    long n = atol(argv[2]);
    em_ds_reset(&ds, "mppt");
    em_ds_set_num(&ds, "pv_voltage_v", 72.48);
    em_ds_set_num(&ds, "pv_current_a", 10.35);
    em_ds_set_num(&ds, "pv_power_w", 750.17);
    em_ds_set_num(&ds, "battery_voltage_v", 27.12);
    em_ds_set_num(&ds, "battery_current_a", 24.54);
    em_ds_set_num(&ds, "charge_power_w", 750.14);
    em_ds_set_num(&ds, "load_power_w", 84.55);
    em_ds_set_int(&ds, "soc_pct", 78);
    em_ds_set_str(&ds, "charge_state", "boost");
    em_ds_set_num(&ds, "energy_total_kwh", 23456.78);
    for (long done = 0; done < n;) {
        size_t k = 0;
        for (; k < 64 && done < n; k++, done++) {
            struct em_msg_meta meta = {"mppt-1-old", c->agent.id, c->agent.site, (uint64_t)done + 1,
                                       "0123456789abcdef", 1763900000000 + done};
            int len = em_msg_format(&ds, &meta, msg[k], sizeof msg[k]);
            m[k].data = msg[k];
            m[k].len = (size_t)len;
            m[k].ts_ms = meta.ts_ms;
        }
        if (em_queue_push(q, m, k) < 0) {
            perror("push");
            return 1;
        }
    }
    printf("queued %ld messages of %zu bytes\n", n, m[0].len);
    em_queue_close(q);
    em_conf_free(c);
    return 0;
}
