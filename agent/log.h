/* log.h - levelled logging to stderr or syslog, with repeat suppression.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Only the layer that decides what to do about an error logs it; helpers return
 * -1 with errno or an error buffer. The level check happens before arguments are
 * evaluated. Thread-safe: one write(2)/syslog(3) per line.
 */
#ifndef EM_LOG_H
#define EM_LOG_H

#include <stdarg.h>

enum em_log_level { EM_LOG_ERROR, EM_LOG_WARN, EM_LOG_INFO, EM_LOG_DEBUG };

extern volatile int em_log_level_now;

/* Log to syslog (1) or stderr (0). `ident` is borrowed for the process lifetime. */
void em_log_init(const char *ident, int use_syslog);
void em_log_set_level(enum em_log_level level);
/* Parse "error"/"warn"/"info"/"debug"; -1 when unknown. */
int em_log_parse_level(const char *s);
const char *em_log_level_name(enum em_log_level level);

void em_log_write(enum em_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void em_log_vwrite(enum em_log_level level, const char *fmt, va_list ap);

/*
 * Suppress identical messages under one `key`: the first is logged, repeats within
 * `interval_s` are counted and summarised when the interval ends. `key` is any
 * stable string (a device or publisher id plus the error); borrowed for the call.
 * Returns 1 if the caller should log now, 0 if suppressed. *suppressed receives how
 * many were swallowed since the last logged one.
 */
int em_log_should(const char *key, int interval_s, unsigned *suppressed);

#define EM_LOG(level, ...)                                                               \
    do {                                                                                 \
        if ((int)(level) <= em_log_level_now)                                            \
            em_log_write((level), __VA_ARGS__);                                          \
    } while (0)
#define log_error(...) EM_LOG(EM_LOG_ERROR, __VA_ARGS__)
#define log_warnx(...) EM_LOG(EM_LOG_WARN, __VA_ARGS__)
#define log_info(...)  EM_LOG(EM_LOG_INFO, __VA_ARGS__)
#define log_debug(...) EM_LOG(EM_LOG_DEBUG, __VA_ARGS__)

#endif
