/* broker_cmd.h - `edgemon broker config KIND FILE -c CONF`: validate and install a broker
 * file. Copyright (c) 2026 edgemon authors SPDX-License-Identifier: MIT
 */
#ifndef EM_BROKER_CMD_H
#define EM_BROKER_CMD_H

#include <stdio.h>

/*
 * Validate the broker file `file` as one publishers[] entry of type `kind`
 * (CONTRACT section 5; same checks as the main config, `name` defaults to kind),
 * make sure its name does not clash with a publisher of another type in
 * `conf_path` or its brokers.d, and install it as <dir of conf_path>/brokers.d/
 * <kind>.json (temp file, fsync, rename, fsync of the directory). Relative
 * *_file paths are made absolute; `type` is dropped; mode and owner follow the
 * main config file. em_conf_load then uses it in place of every publishers[]
 * entry of that type.
 * Prints "successfully configured broker KIND" to `out`, errors (one per line,
 * "FILE: qos: must be 0, 1 or 2") to `errout`. All arguments borrowed.
 * Returns 0 ok, 1 invalid file (or it could not be installed), 2 unknown KIND.
 */
int em_broker_config(const char *kind, const char *file, const char *conf_path, FILE *out,
                     FILE *errout);

#endif
