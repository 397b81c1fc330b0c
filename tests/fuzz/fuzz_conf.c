/* fuzz_conf.c - libFuzzer harness for the JSON configuration loader.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Built and run by `make fuzz` (FUZZ_S seconds, default 60) or `make fuzz-smoke`,
 * with the seeds in tests/fuzz/corpus_conf; tests/fuzz/run.sh says where findings go.
 * Any crash, sanitizer report or leak (libFuzzer's -detect_leaks) is a bug: the
 * loader must reject every input cleanly. Strings that name profiles or secret
 * files may make the loader open local files; run it in a scratch directory.
 */
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct em_errors errs;
    struct em_conf *c;

    em_errors_init(&errs);
    c = em_conf_parse((const char *)data, size, &errs);
    em_conf_free(c);
    /* The broker-file path shares the publisher parser but enters at the root;
     * the input length picks the kind, so every type's keys are reached. */
    static const char *const kinds[] = {"mqtt", "redis", "kubemq", "http", "kafka", "nats"};
    const char *kind = kinds[size % 6];
    em_errors_init(&errs);
    em_conf_check_broker(kind, (const char *)data, size, "fuzz", &errs, NULL);
    return 0;
}
