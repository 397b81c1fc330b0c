/* rdk.h - the part of librdkafka's C API the Kafka publisher uses, loaded at run time.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * librdkafka brings OpenSSL, SASL, zstd, lz4 and zlib with it, and starts its
 * own threads; a gateway without a Kafka publisher must not pay for any of it
 * (publishers/dl.h). The library is opened when the first Kafka publisher is
 * created and stays loaded for the life of the process.
 *
 * Core thread only, like everything in publishers/.
 */
#ifndef EM_PUB_RDK_H
#define EM_PUB_RDK_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

struct em_rdk {
    __typeof__(rd_kafka_version_str) *version_str;
    __typeof__(rd_kafka_conf_new) *conf_new;
    __typeof__(rd_kafka_conf_set) *conf_set;
    __typeof__(rd_kafka_conf_destroy) *conf_destroy;
    __typeof__(rd_kafka_conf_set_opaque) *conf_set_opaque;
    __typeof__(rd_kafka_conf_set_dr_msg_cb) *conf_set_dr_msg_cb;
    __typeof__(rd_kafka_conf_set_error_cb) *conf_set_error_cb;
    __typeof__(rd_kafka_conf_set_stats_cb) *conf_set_stats_cb;
    __typeof__(rd_kafka_conf_set_log_cb) *conf_set_log_cb;
    __typeof__(rd_kafka_new) *new_;
    __typeof__(rd_kafka_destroy) *destroy;
    __typeof__(rd_kafka_produceva) *produceva;
    __typeof__(rd_kafka_error_code) *error_code;
    __typeof__(rd_kafka_error_string) *error_string;
    __typeof__(rd_kafka_error_destroy) *error_destroy;
    __typeof__(rd_kafka_poll) *poll;
    __typeof__(rd_kafka_flush) *flush;
    __typeof__(rd_kafka_purge) *purge;
    __typeof__(rd_kafka_err2str) *err2str;
    __typeof__(rd_kafka_err2name) *err2name;
};

/*
 * librdkafka's API, loaded on first use; the table lives as long as the
 * process. NULL with a message in err when the library or one of its
 * functions cannot be loaded.
 */
const struct em_rdk *em_rdk_get(char *err, size_t errlen);

#endif
