/* fuzz_flags.c - libFuzzer harness for feature flag messages (agent/features/flagset).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Flag messages come from any client of the site's brokers or from features.url,
 * so every input must parse or be refused cleanly, strictly and leniently (the
 * restore path), and a refused one must leave the defaults. Seeds in
 * tests/fuzz/corpus_flags.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "flagset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_json[] =
    "{\"agent\":{\"id\":\"gw-z\",\"site\":\"s\",\"state_dir\":\"/tmp\"},"
    "\"devices\":[{\"id\":\"bms-1\",\"driver\":\"pms\",\"profile\":\"seplos-v3\","
    "\"bus\":\"tcp://127.0.0.1:1\"}],\"queue\":{\"backend\":\"spool\"},\"publishers\":[]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct em_conf *conf;
    static struct em_features *f;
    char err[256];

    if (!conf) {
        struct em_errors e;
        em_errors_init(&e);
        conf = em_conf_parse(conf_json, strlen(conf_json), &e);
        f = conf ? em_features_new(conf) : NULL;
        if (!f)
            abort();
    }
    for (int lenient = 0; lenient < 2; lenient++) {
        if (em_features_parse(conf, (const char *)data, size, lenient, f, err, sizeof err) < 0 &&
            (f->nnames != 0 || strcmp(f->active, "{}") != 0 || !err[0]))
            abort(); /* refused, yet not back at the defaults, or without a reason */
    }
    return 0;
}
