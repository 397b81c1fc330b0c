/* testutil.h - helpers shared by the C tests and benchmarks that start servers.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Static inline so that each test binary takes only what it uses.
 */
#ifndef EM_TESTUTIL_H
#define EM_TESTUTIL_H

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * A TCP port on 127.0.0.1 that can be bound now, below the kernel's ephemeral
 * range: a port from that range may meanwhile become the local end of some
 * outgoing connection (a client of another server in the test) and then cannot
 * be bound. -1 when none is found.
 */
static inline int free_port(void)
{
    static unsigned seed;
    int lo = 20000, hi = 32767, eph;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

    if (f) {
        if (fscanf(f, "%d", &eph) == 1 && eph > lo + 1000)
            hi = eph - 1;
        fclose(f);
    }
    if (!seed)
        seed = (unsigned)getpid() * 2654435761u;
    for (int tries = 0; tries < 1000; tries++) {
        struct sockaddr_in a;
        int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

        seed = seed * 1103515245u + 12345u;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)(lo + (int)((seed >> 8) % (unsigned)(hi - lo + 1))));
        if (fd < 0)
            return -1;
        ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return ntohs(a.sin_port);
    }
    return -1;
}

/* 1 when something accepts connections on 127.0.0.1:port. */
static inline int port_open(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static inline int rm_rf_entry(const char *path, const struct stat *sb, int flag,
                              struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove a test's temporary directory and everything in it. */
static inline void rm_rf(const char *dir)
{
    nftw(dir, rm_rf_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
