/* seqstore.c - per-device message sequence numbers that never repeat.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include "seqstore.h"

#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static time_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void kernel_boot_id(char *buf, size_t len)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    buf[0] = 0;
    if (f) {
        if (fgets(buf, (int)len, f))
            buf[strcspn(buf, "\n")] = 0;
        fclose(f);
    }
    if (!buf[0])
        snprintf(buf, len, "unknown");
}

/* Device ids become file names: keep them to a safe alphabet. */
static int safe_name(const char *id)
{
    if (!id[0] || id[0] == '.')
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return 0;
    return 1;
}

static int write_state(struct em_seq *s, int clean, int do_fsync)
{
    char tmp[PATH_MAX + 8], line[128];
    int n = snprintf(line, sizeof line, "%" PRIu64 " %s %s\n", s->next, s->boot,
                     clean ? "clean" : "running");
    if (snprintf(tmp, sizeof tmp, "%s.tmp", s->path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    if (write(fd, line, (size_t)n) != n || (do_fsync && fsync(fd) < 0)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, s->path) < 0)
        return -1;
    if (do_fsync) {
        /* The rename itself must reach the disk too. */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", s->path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = 0;
            int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
        s->last_sync = mono_s();
        s->dirty = 0;
    } else {
        s->dirty = 1;
    }
    return 0;
}

int em_seq_open(struct em_seq *s, const char *state_dir, const char *device, int interval_ms,
                int readonly, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    memset(s, 0, sizeof *s);
    s->readonly = readonly;
    s->next = 1;
    kernel_boot_id(s->boot, sizeof s->boot);
    if (!safe_name(device)) {
        snprintf(err, errlen, "device id '%s' cannot name a state file", device);
        return -1;
    }
    if (snprintf(dir, sizeof dir, "%s/seq", state_dir) >= (int)sizeof dir ||
        snprintf(s->path, sizeof s->path, "%s/%s", dir, device) >= (int)sizeof s->path) {
        snprintf(err, errlen, "state_dir '%s' is too long", state_dir);
        return -1;
    }
    if (!readonly && em_mkdirs(dir, 0750) < 0) {
        snprintf(err, errlen, "cannot create '%s': %s", dir, strerror(errno));
        return -1;
    }
    FILE *f = fopen(s->path, "r");
    if (f) {
        uint64_t next;
        char boot[40] = "", how[16] = "";
        int n = fscanf(f, "%" SCNu64 " %39s %15s", &next, boot, how);
        fclose(f);
        if (n < 1 || next == 0) {
            snprintf(err, errlen, "'%s' is corrupt; remove it only if you accept repeated "
                                  "seq numbers", s->path);
            return -1;
        }
        s->next = next;
        if (n == 3 && strcmp(how, "clean") != 0 && strcmp(boot, s->boot) != 0) {
            /* Rebooted without a clean close: skip what one sync interval held. */
            uint64_t skip = (uint64_t)EM_SEQ_SYNC_S * 1000 / (uint64_t)(interval_ms > 0 ? interval_ms : 1000);
            s->next += 2 * skip + 2;
        }
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read '%s': %s", s->path, strerror(errno));
        return -1;
    }
    s->last_sync = mono_s();
    if (!readonly && write_state(s, 0, 1) < 0) {
        snprintf(err, errlen, "cannot write '%s': %s", s->path, strerror(errno));
        return -1;
    }
    return 0;
}

int em_seq_take(struct em_seq *s, uint64_t *seq)
{
    *seq = s->next++;
    if (s->readonly)
        return 0;
    int force = mono_s() - s->last_sync >= EM_SEQ_SYNC_S;
    return write_state(s, 0, force);
}

void em_seq_close(struct em_seq *s)
{
    if (!s->readonly && s->path[0])
        write_state(s, 1, 1);
}
