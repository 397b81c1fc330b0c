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

#define SLOT_MAGIC "EMSQ"
#define SLOT_VERSION 1u
#define SLOT_CLEAN 1u
#define SLOT_BOOT_OFF 28
#define SLOT_CRC_OFF (EM_SEQ_SLOT - 4)

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

/* CRC-32 (IEEE, reflected), bitwise: 124 bytes per reading need no table. */
static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

struct slot {
    uint64_t gen, next;
    uint32_t flags;
    char boot[40];
};

static void slot_encode(unsigned char *b, const struct slot *sl)
{
    memset(b, 0, EM_SEQ_SLOT);
    memcpy(b, SLOT_MAGIC, 4);
    put32(b + 4, SLOT_VERSION);
    put64(b + 8, sl->gen);
    put64(b + 16, sl->next);
    put32(b + 24, sl->flags);
    memcpy(b + SLOT_BOOT_OFF, sl->boot, strnlen(sl->boot, sizeof sl->boot - 1));
    put32(b + SLOT_CRC_OFF, crc32_ieee(b, SLOT_CRC_OFF));
}

/* 1 for a valid slot, 0 for a torn, corrupt or never-written one. */
static int slot_decode(const unsigned char *b, struct slot *sl)
{
    if (memcmp(b, SLOT_MAGIC, 4) != 0 || get32(b + 4) != SLOT_VERSION ||
        get32(b + SLOT_CRC_OFF) != crc32_ieee(b, SLOT_CRC_OFF))
        return 0;
    sl->gen = get64(b + 8);
    sl->next = get64(b + 16);
    sl->flags = get32(b + 24);
    memcpy(sl->boot, b + SLOT_BOOT_OFF, sizeof sl->boot - 1);
    sl->boot[sizeof sl->boot - 1] = 0;
    return sl->next != 0;
}

static off_t slot_off(uint64_t gen)
{
    return (gen & 1) ? (off_t)EM_SEQ_SLOT2_OFF : 0;
}

static void fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

/*
 * A new file, or the one-time migration of the text format: the whole file is
 * written to a temporary name, synced and renamed, so a power cut leaves either
 * the old file or a complete new one. Slot 0 gets the state, slot 2 stays empty.
 */
static int create_file(struct em_seq *s)
{
    char tmp[PATH_MAX + 8];
    unsigned char b[EM_SEQ_SLOT];
    struct slot sl = {.gen = 2, .next = s->committed};
    snprintf(sl.boot, sizeof sl.boot, "%s", s->boot);
    if (snprintf(tmp, sizeof tmp, "%s.tmp", s->path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    slot_encode(b, &sl);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    if (pwrite(fd, b, sizeof b, 0) != (ssize_t)sizeof b ||
        ftruncate(fd, (off_t)(EM_SEQ_SLOT2_OFF + EM_SEQ_SLOT)) < 0 || fsync(fd) < 0 ||
        rename(tmp, s->path) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    fsync_dir_of(s->path);
    s->fd = fd;
    s->gen = sl.gen;
    s->last_sync = mono_s();
    s->dirty = 0;
    return 0;
}

/* Overwrite the older slot with the current state; sync when asked. */
static int write_slot(struct em_seq *s, int clean, int do_sync)
{
    unsigned char b[EM_SEQ_SLOT];
    struct slot sl = {.gen = s->gen + 1, .next = s->committed, .flags = clean ? SLOT_CLEAN : 0};
    snprintf(sl.boot, sizeof sl.boot, "%s", s->boot);
    slot_encode(b, &sl);
    ssize_t n = pwrite(s->fd, b, sizeof b, slot_off(sl.gen));
    if (n != (ssize_t)sizeof b) {
        if (n >= 0)
            errno = EIO;
        return -1;
    }
    s->gen = sl.gen;
    if (do_sync) {
        /* The file's size never changes: the data alone is the durability point. */
        if (fdatasync(s->fd) < 0)
            return -1;
        s->last_sync = mono_s();
        s->dirty = 0;
    } else {
        s->dirty = 1;
    }
    return 0;
}

/*
 * The text format of earlier versions: "NEXT BOOT clean|running\n", the whole
 * file. Only a short file of printable text qualifies, so a damaged slot file can
 * never pass for one (and send seq back).
 */
static int parse_text(const unsigned char *buf, size_t len, struct slot *sl)
{
    char line[EM_SEQ_SLOT + 1], how[16] = "";
    uint64_t next;
    if (len == 0 || len >= EM_SEQ_SLOT || buf[len - 1] != '\n')
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((buf[i] < 0x20 || buf[i] > 0x7e) && buf[i] != '\n')
            return -1;
    memcpy(line, buf, len);
    line[len] = 0;
    memset(sl, 0, sizeof *sl);
    int k = sscanf(line, "%" SCNu64 " %39s %15s", &next, sl->boot, how);
    if (k < 1 || next == 0 || line[0] < '0' || line[0] > '9')
        return -1;
    sl->next = next;
    if (k < 3)
        /* No boot id: treat as clean (the format before boot ids). */
        sl->flags = SLOT_CLEAN;
    else
        sl->flags = strcmp(how, "clean") == 0 ? SLOT_CLEAN : 0;
    return 0;
}

int em_seq_open(struct em_seq *s, const char *state_dir, const char *device, int interval_ms,
                int readonly, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    memset(s, 0, sizeof *s);
    s->fd = -1;
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
    int fd = open(s->path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    int migrate = 0;
    if (fd >= 0) {
        unsigned char a[EM_SEQ_SLOT] = {0}, b[EM_SEQ_SLOT] = {0};
        struct slot sa, sb, *win = NULL;
        ssize_t na = pread(fd, a, sizeof a, 0);
        ssize_t nb = pread(fd, b, sizeof b, (off_t)EM_SEQ_SLOT2_OFF);
        if (na < 0 || nb < 0) {
            snprintf(err, errlen, "cannot read '%s': %s", s->path, strerror(errno));
            close(fd);
            return -1;
        }
        int va = na == (ssize_t)sizeof a && slot_decode(a, &sa);
        int vb = nb == (ssize_t)sizeof b && slot_decode(b, &sb);
        if (va && vb)
            win = sa.gen > sb.gen ? &sa : &sb;
        else if (va || vb)
            win = va ? &sa : &sb;
        else if (nb == 0 && parse_text(a, (size_t)na, &sa) == 0) {
            win = &sa;
            migrate = 1;
        }
        if (!win) {
            snprintf(err, errlen, "'%s' is corrupt; remove it only if you accept repeated "
                                  "seq numbers", s->path);
            close(fd);
            return -1;
        }
        s->next = win->next;
        s->gen = win->gen;
        if (!(win->flags & SLOT_CLEAN) && strcmp(win->boot, s->boot) != 0) {
            /* Rebooted without a clean close: skip what one sync interval held. */
            uint64_t skip = (uint64_t)EM_SEQ_SYNC_S * 1000 / (uint64_t)(interval_ms > 0 ? interval_ms : 1000);
            s->next += 2 * skip + 2;
        }
        if (readonly || migrate)
            close(fd);
        else
            s->fd = fd;
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read '%s': %s", s->path, strerror(errno));
        return -1;
    } else {
        migrate = 1; /* no file yet */
    }
    s->committed = s->next;
    s->last_sync = mono_s();
    if (readonly)
        return 0;
    if (migrate ? create_file(s) < 0 : write_slot(s, 0, 1) < 0) {
        snprintf(err, errlen, "cannot write '%s': %s", s->path, strerror(errno));
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        return -1;
    }
    return 0;
}

uint64_t em_seq_claim(struct em_seq *s)
{
    return s->next++;
}

int em_seq_commit(struct em_seq *s, uint64_t next)
{
    if (s->readonly || next <= s->committed)
        return 0;
    s->committed = next;
    int force = mono_s() - s->last_sync >= EM_SEQ_SYNC_S;
    return write_slot(s, 0, force);
}

int em_seq_take(struct em_seq *s, uint64_t *seq)
{
    *seq = em_seq_claim(s);
    return em_seq_commit(s, *seq + 1);
}

void em_seq_close(struct em_seq *s)
{
    if (!s->readonly && s->path[0] && s->fd >= 0) {
        write_slot(s, 1, 1);
        close(s->fd);
    }
    s->fd = -1;
}
