/* mqtt_conf.h - the MQTT publisher's configuration checks and the names it derives.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Everything create() decides from the configuration alone, before paho is
 * loaded: the broker URI in paho's form, TLS files, credentials rules, the
 * client id and the status topic. No I/O beyond access(2) on the TLS files.
 */
#ifndef EM_PUB_MQTT_CONF_H
#define EM_PUB_MQTT_CONF_H

#include <stddef.h>

#include "publisher.h"

#define MQTT_PORT      1883
#define MQTTS_PORT     8883
#define MQTT_TOPIC_MAX 1024
#define MQTT_URI_MAX   512
#define MQTT_ID_MAX    256

struct em_mqtt_names {
    int tls;                         /* mqtts:// */
    char uri[MQTT_URI_MAX];          /* tcp://HOST:PORT or ssl://HOST:PORT */
    char host[256];                  /* HOST alone, an IPv6 literal without brackets */
    char port[8];                    /* PORT, the default filled in */
    char client_id[MQTT_ID_MAX];     /* client_id, or edgemon-<agent> */
    char status_topic[MQTT_TOPIC_MAX]; /* edgemon/<agent>/status */
};

/* Check conf (borrowed for the call) and fill *out. 0, or -1 with err naming the key. */
int em_mqtt_names(const struct em_pub_conf *conf, struct em_mqtt_names *out, char *err,
                  size_t errlen);

/* A topic we may publish to: MQTT forbids wildcards in PUBLISH (the broker drops the link). */
int em_mqtt_topic_ok(const char *t);

#endif
