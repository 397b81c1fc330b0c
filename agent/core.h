/* core.h - the daemon: buses, hand-off, queue and publishers, signals.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#ifndef EM_CORE_H
#define EM_CORE_H

#include <stdio.h>

/* `edgemon run -c path`: returns the process exit status. With `print`, every
 * message is also written to stdout, one JSON object per line. */
int em_core_run(const char *conf_path, int print);

/* `edgemon queue -c path`: store-and-forward state as JSON to out. */
int em_core_queue(const char *conf_path, FILE *out);

#endif
