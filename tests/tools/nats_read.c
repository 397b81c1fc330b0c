/* nats_read.c - what a NATS server holds or carries, for the NATS publisher's tests.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * nats_read URL STREAM
 *     every message the JetStream stream STREAM holds, oldest first, one line each:
 *     "subject<TAB>Nats-Msg-Id<TAB>data" ("-" when a message has no id); exit 0,
 *     or 1 (message on stderr) when the server or the stream cannot be read.
 * nats_read --sub URL SUBJECT
 *     a core-NATS subscriber: the same lines for every message published on
 *     SUBJECT (wildcards allowed) from now on; prints "ready" on stderr once
 *     subscribed; ends on SIGTERM or SIGINT.
 * A tls:// URL connects over TLS, verified against $NATS_READ_CA, with the client
 * certificate $NATS_READ_CERT and key $NATS_READ_KEY when those are set.
 * Links libnats directly (a test tool, never part of edgemon).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void print_msg(natsMsg *m)
{
    const char *id = NULL;

    if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id)
        id = "-";
    printf("%s\t%s\t%.*s\n", natsMsg_GetSubject(m), id, natsMsg_GetDataLength(m),
           natsMsg_GetData(m));
}

/* A subscriber (`reconnect`) survives server restarts; a dump fails at once. */
static natsConnection *connect_to(const char *url, int reconnect)
{
    natsConnection *nc = NULL;
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);

    if (s == NATS_OK)
        s = natsOptions_SetURL(o, url);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 2000);
    if (s == NATS_OK)
        s = natsOptions_SetAllowReconnect(o, reconnect != 0);
    if (s == NATS_OK && reconnect)
        s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK && reconnect)
        s = natsOptions_SetReconnectWait(o, 100);
    if (s == NATS_OK && strncmp(url, "tls://", 6) == 0) {
        const char *ca = getenv("NATS_READ_CA"), *cert = getenv("NATS_READ_CERT"),
                   *key = getenv("NATS_READ_KEY");
        s = natsOptions_SetSecure(o, true);
        if (s == NATS_OK && ca)
            s = natsOptions_LoadCATrustedCertificates(o, ca);
        if (s == NATS_OK && cert && key)
            s = natsOptions_LoadCertificatesChain(o, cert, key);
    }
    if (s == NATS_OK)
        s = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        fprintf(stderr, "nats_read: cannot connect to %s: %s\n", url, natsStatus_GetText(s));
        return NULL;
    }
    return nc;
}

static int dump_stream(const char *url, const char *stream)
{
    natsConnection *nc = connect_to(url, 0);
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsOptions jo;
    natsStatus s;
    int rc = 1;

    if (!nc)
        return 1;
    jsOptions_Init(&jo);
    jo.Wait = 3000;
    s = natsConnection_JetStream(&js, nc, &jo);
    if (s == NATS_OK)
        s = js_GetStreamInfo(&si, js, stream, NULL, NULL);
    if (s != NATS_OK) {
        fprintf(stderr, "nats_read: stream %s: %s\n", stream, natsStatus_GetText(s));
        goto out;
    }
    for (uint64_t seq = si->State.FirstSeq; si->State.Msgs && seq <= si->State.LastSeq;
         seq++) {
        natsMsg *m = NULL;

        s = js_GetMsg(&m, js, stream, seq, NULL, NULL);
        if (s == NATS_NOT_FOUND)
            continue; /* deleted */
        if (s != NATS_OK) {
            fprintf(stderr, "nats_read: %s seq %" PRIu64 ": %s\n", stream, seq,
                    natsStatus_GetText(s));
            goto out;
        }
        print_msg(m);
        natsMsg_Destroy(m);
    }
    rc = 0;
out:
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}

static int subscribe(const char *url, const char *subject)
{
    natsConnection *nc = connect_to(url, 1);
    natsSubscription *sub = NULL;
    natsStatus s;

    if (!nc)
        return 1;
    s = natsConnection_SubscribeSync(&sub, nc, subject);
    if (s == NATS_OK)
        s = natsConnection_FlushTimeout(nc, 2000);
    if (s != NATS_OK) {
        fprintf(stderr, "nats_read: subscribe %s: %s\n", subject, natsStatus_GetText(s));
        natsConnection_Destroy(nc);
        return 1;
    }
    fprintf(stderr, "ready\n");
    while (!stop) {
        natsMsg *m = NULL;

        s = natsSubscription_NextMsg(&m, sub, 200);
        if (s == NATS_OK) {
            print_msg(m);
            fflush(stdout);
            natsMsg_Destroy(m);
        } else if (s != NATS_TIMEOUT) {
            fprintf(stderr, "nats_read: %s\n", natsStatus_GetText(s));
            break;
        }
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    int rc;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (argc == 4 && strcmp(argv[1], "--sub") == 0)
        rc = subscribe(argv[2], argv[3]);
    else if (argc == 3)
        rc = dump_stream(argv[1], argv[2]);
    else {
        fprintf(stderr, "usage: nats_read URL STREAM | nats_read --sub URL SUBJECT\n");
        return 2;
    }
    nats_Close();
    return rc;
}
