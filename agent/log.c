/* log.c - levelled logging to stderr or syslog, with repeat suppression.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

volatile int em_log_level_now = EM_LOG_INFO;
static int log_syslog;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void em_log_init(const char *ident, int use_syslog)
{
    log_syslog = use_syslog;
    if (use_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void em_log_set_level(enum em_log_level level)
{
    em_log_level_now = level;
}

int em_log_parse_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

const char *em_log_level_name(enum em_log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "?";
}

void em_log_vwrite(enum em_log_level level, const char *fmt, va_list ap)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char line[1024];
    size_t n = 0;

    if (log_syslog) {
        vsyslog(prio[level], fmt, ap);
        return;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %-5s ", ts.tv_nsec / 1000000,
                          level_names[level]);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    if (m < 0)
        return;
    n += (size_t)m;
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    /* One write per line so threads never interleave inside a line. */
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

void em_log_write(enum em_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    em_log_vwrite(level, fmt, ap);
    va_end(ap);
}

#define SUPPRESS_SLOTS 64

struct suppress_slot {
    unsigned long hash;
    time_t since;
    unsigned count;
};

static struct suppress_slot slots[SUPPRESS_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

int em_log_should(const char *key, int interval_s, unsigned *suppressed)
{
    unsigned long h = 5381;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = h * 33 + *p;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&slots_lock);
    struct suppress_slot *s = &slots[h % SUPPRESS_SLOTS];
    int emit;
    if (s->hash != h || now.tv_sec - s->since >= interval_s) {
        *suppressed = s->hash == h ? s->count : 0;
        s->hash = h;
        s->since = now.tv_sec;
        s->count = 0;
        emit = 1;
    } else {
        s->count++;
        *suppressed = 0;
        emit = 0;
    }
    pthread_mutex_unlock(&slots_lock);
    return emit;
}
