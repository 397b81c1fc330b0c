/* test_seqstore.c - unit tests of the two-slot seq file: torn and corrupt slots, migration, restarts.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * The slots are written and read here with an independent implementation of the
 * layout documented in seqstore.h, so the tests pin the on-disk format too.
 * A power cut is simulated by putting back the file as it was at the last sync
 * with another boot id in its slots (the machine rebooted).
 */
#include "harness.h"
#include "seqstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define OTHER_BOOT "00000000-dead-beef-0000-000000000000"

static char g_dir[64];
static char g_path[160];
static char g_err[256];

static uint32_t crc(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

static void le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t rd(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

struct tslot {
    uint64_t gen, next;
    uint32_t flags;
    char boot[40];
};

static void enc(unsigned char *b, const struct tslot *t)
{
    memset(b, 0, EM_SEQ_SLOT);
    memcpy(b, "EMSQ", 4);
    le(b + 4, 1, 4);
    le(b + 8, t->gen, 8);
    le(b + 16, t->next, 8);
    le(b + 24, t->flags, 4);
    memcpy(b + 28, t->boot, strlen(t->boot));
    le(b + EM_SEQ_SLOT - 4, crc(b, EM_SEQ_SLOT - 4), 4);
}

static int dec(const unsigned char *b, struct tslot *t)
{
    if (memcmp(b, "EMSQ", 4) != 0 || rd(b + EM_SEQ_SLOT - 4, 4) != crc(b, EM_SEQ_SLOT - 4))
        return 0;
    t->gen = rd(b + 8, 8);
    t->next = rd(b + 16, 8);
    t->flags = (uint32_t)rd(b + 24, 4);
    memcpy(t->boot, b + 28, 39);
    t->boot[39] = 0;
    return 1;
}

static int put_slot(int which, const unsigned char *b)
{
    int fd = open(g_path, O_WRONLY | O_CREAT, 0640);
    int ok = fd >= 0 && pwrite(fd, b, EM_SEQ_SLOT, which ? EM_SEQ_SLOT2_OFF : 0) ==
                            (ssize_t)EM_SEQ_SLOT;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

static int get_slot(int which, unsigned char *b)
{
    int fd = open(g_path, O_RDONLY);
    int ok = fd >= 0 && pread(fd, b, EM_SEQ_SLOT, which ? EM_SEQ_SLOT2_OFF : 0) ==
                            (ssize_t)EM_SEQ_SLOT;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

static int put_text(const char *text)
{
    FILE *f = fopen(g_path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void setup(void)
{
    char seqdir[96];
    snprintf(g_dir, sizeof g_dir, "/tmp/test_seqstore.XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(seqdir, sizeof seqdir, "%s/seq", g_dir);
    mkdir(seqdir, 0750);
    snprintf(g_path, sizeof g_path, "%s/dev", seqdir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        printf("    cannot remove %s\n", g_dir);
}

#define T(fn)                                                                            \
    do {                                                                                 \
        setup();                                                                         \
        RUN(fn);                                                                         \
        teardown();                                                                      \
    } while (0)

/* Open, take one seq, close; the seq taken (0 when the open failed). */
static uint64_t take_one(void)
{
    struct em_seq s;
    uint64_t q = 0;
    if (em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) < 0)
        return 0;
    if (em_seq_take(&s, &q) < 0)
        q = 0;
    em_seq_close(&s);
    return q;
}

/* Readings overwrite the file in place: same inode, fixed size, no temp file. */
static void test_in_place(void)
{
    struct em_seq s;
    struct stat a, b;
    uint64_t q;
    CHECK(em_seq_open(&s, g_dir, "dev", 100, 0, g_err, sizeof g_err) == 0);
    CHECK(stat(g_path, &a) == 0);
    CHECK_EQ_INT(a.st_size, EM_SEQ_SLOT2_OFF + EM_SEQ_SLOT);
    for (int i = 1; i <= 50; i++) {
        CHECK(em_seq_take(&s, &q) == 0);
        CHECK_EQ_INT(q, i);
    }
    CHECK(stat(g_path, &b) == 0);
    CHECK_EQ_INT(b.st_ino, a.st_ino);
    CHECK_EQ_INT(b.st_size, a.st_size);
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%s.tmp", g_path);
    CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
    em_seq_close(&s);
    CHECK(stat(g_path, &b) == 0);
    CHECK_EQ_INT(b.st_ino, a.st_ino);
    /* Both slots are valid now and the newer one holds the clean close. */
    unsigned char s0[EM_SEQ_SLOT], s1[EM_SEQ_SLOT];
    struct tslot t0, t1;
    CHECK(get_slot(0, s0) == 0 && get_slot(1, s1) == 0);
    CHECK(dec(s0, &t0) && dec(s1, &t1));
    struct tslot *w = t0.gen > t1.gen ? &t0 : &t1;
    CHECK_EQ_INT(w->next, 51);
    CHECK_EQ_INT(w->flags, 1);
    CHECK_EQ_INT(t0.gen > t1.gen ? t0.gen - t1.gen : t1.gen - t0.gen, 1);
}

static void test_newer_slot_wins(void)
{
    unsigned char b[EM_SEQ_SLOT];
    struct tslot t = {.gen = 7, .next = 50, .flags = 1, .boot = OTHER_BOOT};
    enc(b, &t);
    CHECK(put_slot(0, b) == 0);
    t.gen = 8;
    t.next = 60;
    enc(b, &t);
    CHECK(put_slot(1, b) == 0);
    CHECK_EQ_INT(take_one(), 60);
    /* The newer generation wins wherever it sits, whatever its seq says. */
    teardown();
    setup();
    t.gen = 9;
    t.next = 70;
    enc(b, &t);
    CHECK(put_slot(0, b) == 0);
    t.gen = 8;
    t.next = 90;
    enc(b, &t);
    CHECK(put_slot(1, b) == 0);
    CHECK_EQ_INT(take_one(), 70);
}

/* A power cut mid-write: the slot being written is torn, the other one wins and
 * the reboot skip covers what the torn write (and the unsynced ones) held. */
static void test_torn_slot(void)
{
    unsigned char b[EM_SEQ_SLOT];
    struct tslot t = {.gen = 5, .next = 100, .boot = OTHER_BOOT};
    enc(b, &t);
    CHECK(put_slot(0, b) == 0);
    t.gen = 6;
    t.next = 101;
    enc(b, &t);
    memset(b + 40, 0xff, EM_SEQ_SLOT - 40); /* only the first 40 bytes arrived */
    CHECK(put_slot(1, b) == 0);
    uint64_t q = take_one();
    CHECK(q > 101);
    CHECK(q <= 100 + 2 * EM_SEQ_SYNC_S + 2);
    /* A flipped bit in the newer slot: the same. */
    teardown();
    setup();
    t.gen = 5;
    t.next = 300;
    enc(b, &t);
    CHECK(put_slot(1, b) == 0);
    t.gen = 6;
    t.next = 301;
    enc(b, &t);
    b[17] ^= 0x04;
    CHECK(put_slot(0, b) == 0);
    q = take_one();
    CHECK(q > 301 && q <= 300 + 2 * EM_SEQ_SYNC_S + 2);
    /* The file cut short (slot 2 never written): slot 0 alone. */
    teardown();
    setup();
    t.gen = 2;
    t.next = 40;
    t.flags = 1;
    enc(b, &t);
    CHECK(put_slot(0, b) == 0);
    CHECK_EQ_INT(take_one(), 40);
    CHECK_EQ_INT(take_one(), 41);
}

static void test_both_slots_corrupt(void)
{
    unsigned char b[EM_SEQ_SLOT];
    struct tslot t = {.gen = 5, .next = 100, .boot = OTHER_BOOT};
    struct em_seq s;
    enc(b, &t);
    b[20] ^= 1;
    CHECK(put_slot(0, b) == 0);
    t.gen = 6;
    enc(b, &t);
    b[EM_SEQ_SLOT - 1] ^= 1;
    CHECK(put_slot(1, b) == 0);
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) == -1);
    CHECK(strstr(g_err, "corrupt") != NULL);
    CHECK(strstr(g_err, g_path) != NULL);
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 1, g_err, sizeof g_err) == -1);
    /* A damaged slot that starts with digits never passes for the old text format. */
    memcpy(b, "12 ", 3);
    CHECK(put_slot(0, b) == 0);
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) == -1);
    /* An empty file is corrupt too (it existed, so seqs were handed out). */
    CHECK(put_text("") == 0);
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) == -1);
}

static void test_old_format_migration(void)
{
    struct em_seq s;
    struct stat st;
    uint64_t q;
    unsigned char b[EM_SEQ_SLOT];
    struct tslot t;
    /* Cleanly closed by an older version: continues exactly, rewritten as slots. */
    CHECK(put_text("200 " OTHER_BOOT " clean\n") == 0);
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 1, g_err, sizeof g_err) == 0);
    CHECK_EQ_INT(s.next, 200);
    CHECK(stat(g_path, &st) == 0);
    CHECK(st.st_size < (off_t)EM_SEQ_SLOT); /* read-only: untouched */
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) == 0);
    CHECK(stat(g_path, &st) == 0);
    CHECK_EQ_INT(st.st_size, EM_SEQ_SLOT2_OFF + EM_SEQ_SLOT);
    CHECK(get_slot(0, b) == 0 && dec(b, &t));
    CHECK_EQ_INT(t.next, 200);
    CHECK(em_seq_take(&s, &q) == 0);
    CHECK_EQ_INT(q, 200);
    CHECK(em_seq_take(&s, &q) == 0);
    CHECK_EQ_INT(q, 201);
    em_seq_close(&s);
    CHECK_EQ_INT(take_one(), 202);
    /* Left running by another boot: the power-cut skip applies. */
    CHECK(put_text("500 " OTHER_BOOT " running\n") == 0);
    q = take_one();
    CHECK(q > 500 && q <= 500 + 2 * EM_SEQ_SYNC_S + 2);
    CHECK_EQ_INT(take_one(), q + 1);
    /* The format before boot ids: just the number. */
    CHECK(put_text("77\n") == 0);
    CHECK_EQ_INT(take_one(), 77);
    /* Garbage is refused, as before. */
    CHECK(put_text("garbage\n") == 0);
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) == -1);
    CHECK(strstr(g_err, "corrupt") != NULL);
}

/*
 * Put back the slots as they were at `snap` with the other boot id: a power cut.
 * With `tear`, the first write after the sync (to the older slot) was in flight.
 */
static int power_cut(unsigned char snap[2][EM_SEQ_SLOT], int tear)
{
    struct tslot t[2] = {{0}, {0}};
    int ok[2];
    for (int i = 0; i < 2; i++) {
        unsigned char b[EM_SEQ_SLOT];
        memcpy(b, snap[i], EM_SEQ_SLOT);
        if ((ok[i] = dec(b, &t[i]))) {
            snprintf(t[i].boot, sizeof t[i].boot, "%s", OTHER_BOOT);
            enc(b, &t[i]);
        }
        if (put_slot(i, b) < 0)
            return -1;
    }
    if (tear) {
        unsigned char b[EM_SEQ_SLOT];
        int older = !ok[0] ? 0 : !ok[1] ? 1 : t[0].gen < t[1].gen ? 0 : 1;
        memset(b, 0x00, sizeof b);
        memcpy(b, "EMSQ", 4);
        if (put_slot(older, b) < 0)
            return -1;
    }
    return 0;
}

/*
 * Many restarts: clean stops, kills (no close) and power cuts (the file back as of
 * the last sync, a slot torn, another boot). Never a repeat, never back.
 */
static void test_never_back_across_restarts(void)
{
    unsigned char snap[2][EM_SEQ_SLOT];
    uint64_t last = 0, q;
    unsigned r = 12345;
    struct em_seq s;
    for (int round = 0; round < 200; round++) {
        CHECK(em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) == 0);
        /* Open synced: this is what the disk holds for sure. */
        CHECK(get_slot(0, snap[0]) == 0);
        if (get_slot(1, snap[1]) < 0)
            memset(snap[1], 0, EM_SEQ_SLOT);
        r = r * 1103515245u + 12345u;
        /* At most one sync interval of readings at 1 s (the store's contract). */
        unsigned k = 1 + (r >> 16) % EM_SEQ_SYNC_S;
        for (unsigned i = 0; i < k; i++) {
            CHECK(em_seq_take(&s, &q) == 0);
            CHECK(q > last);
            last = q;
        }
        switch ((r >> 8) % 4) {
        case 0:
            em_seq_close(&s);
            break;
        case 1: /* kill -9: the page cache keeps every write */
            close(s.fd);
            break;
        default: /* power cut, with or without a torn slot */
            close(s.fd);
            CHECK(power_cut(snap, (r >> 8) % 4 == 3) == 0);
            break;
        }
    }
}

/*
 * Claimed but never committed (the reading was in the hand-off when the agent was
 * killed): the restart hands the same seq out again, so the kill leaves no gap;
 * committed ones are never handed out again, and a commit never goes back.
 */
static void test_claim_then_commit(void)
{
    struct em_seq s;
    uint64_t a, b, c;
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) == 0);
    a = em_seq_claim(&s);
    b = em_seq_claim(&s);
    c = em_seq_claim(&s);
    CHECK(a == 1 && b == 2 && c == 3);
    CHECK(em_seq_commit(&s, a + 1) == 0); /* 1 is in the queue; 2 and 3 are not */
    CHECK(em_seq_commit(&s, a) == 0);     /* an older commit changes nothing */
    CHECK_EQ_INT(s.committed, 2);
    close(s.fd); /* kill -9 */
    CHECK(em_seq_open(&s, g_dir, "dev", 1000, 0, g_err, sizeof g_err) == 0);
    CHECK_EQ_INT(em_seq_claim(&s), 2);
    CHECK(em_seq_commit(&s, 3) == 0);
    em_seq_claim(&s); /* 3: still in the hand-off at a clean stop, never stored */
    em_seq_close(&s); /* the clean close records what was committed */
    CHECK_EQ_INT(take_one(), 3);
}

int main(void)
{
    T(test_claim_then_commit);
    T(test_in_place);
    T(test_newer_slot_wins);
    T(test_torn_slot);
    T(test_both_slots_corrupt);
    T(test_old_format_migration);
    T(test_never_back_across_restarts);
    DONE();
}
