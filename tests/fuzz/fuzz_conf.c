/* fuzz_conf.c - libFuzzer harness for the JSON configuration loader.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Not built by default. Build and run, from the repository root:
 *   make build/libedgemon.a CC=clang SANITIZE=address,undefined
 *   clang -g -fsanitize=fuzzer,address,undefined -Iagent -Iagent/conf -Iagent/bus -Ipublishers -Idrivers/regmap \
 *       tests/fuzz/fuzz_conf.c build/libedgemon.a $(pkg-config --libs libmodbus hiredis \
 *       libcjson libcurl) -lpaho-mqtt3as -lm -o fuzz_conf
 *   ./fuzz_conf -max_total_time=60 tests/fuzz/corpus_conf
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
    /* The broker-file path shares the publisher parser but enters at the root. */
    em_conf_check_broker("mqtt", (const char *)data, size, "fuzz", &errs, NULL);
    return 0;
}
