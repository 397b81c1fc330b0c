/* rdk.c - load librdkafka at run time (see rdk.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "dl.h"

#include "kafka/rdk.h"

/* The soname, overridable for systems that name it differently. */
#ifndef EM_RDKAFKA_LIB
#define EM_RDKAFKA_LIB "librdkafka.so.1"
#endif

static struct em_rdk api;
static int loaded;

const struct em_rdk *em_rdk_get(char *err, size_t errlen)
{
    const char *const sonames[] = {EM_RDKAFKA_LIB, NULL};
    struct em_rdk *a = &api;
#define RDK(slot, fn) {"rd_kafka_" #fn, &a->slot}
    const struct em_dl_sym syms[] = {
        RDK(version_str, version_str),
        RDK(conf_new, conf_new),
        RDK(conf_set, conf_set),
        RDK(conf_destroy, conf_destroy),
        RDK(conf_set_opaque, conf_set_opaque),
        RDK(conf_set_dr_msg_cb, conf_set_dr_msg_cb),
        RDK(conf_set_error_cb, conf_set_error_cb),
        RDK(conf_set_stats_cb, conf_set_stats_cb),
        RDK(conf_set_log_cb, conf_set_log_cb),
        RDK(new_, new),
        RDK(destroy, destroy),
        RDK(produceva, produceva),
        RDK(error_code, error_code),
        RDK(error_string, error_string),
        RDK(error_destroy, error_destroy),
        RDK(poll, poll),
        RDK(flush, flush),
        RDK(purge, purge),
        RDK(err2str, err2str),
        RDK(err2name, err2name),
    };
#undef RDK

    if (loaded)
        return &api;
    if (!em_dl_load("Kafka library (librdkafka)", sonames, syms, sizeof syms / sizeof syms[0],
                    err, errlen))
        return NULL;
    loaded = 1;
    return &api;
}
