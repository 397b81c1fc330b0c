/* natslib.c - load libnats at run time (see natslib.h).
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "dl.h"

#include "nats/natslib.h"

/* The soname of Debian's libnats-dev 3.4 (and OpenWrt's), overridable. */
#ifndef EM_NATS_LIB
#define EM_NATS_LIB "libnats.so.3.4"
#endif

static struct em_natslib api;
static int loaded;

const struct em_natslib *em_natslib_get(char *err, size_t errlen)
{
    const char *const sonames[] = {EM_NATS_LIB, "libnats.so.3", NULL};
    struct em_natslib *a = &api;
#define N(slot, fn) {#fn, &a->slot}
    const struct em_dl_sym syms[] = {
        N(GetVersion, nats_GetVersion),
        N(Status_GetText, natsStatus_GetText),
        N(GetLastError, nats_GetLastError),
        N(Options_Create, natsOptions_Create),
        N(Options_Destroy, natsOptions_Destroy),
        N(Options_SetURL, natsOptions_SetURL),
        N(Options_SetName, natsOptions_SetName),
        N(Options_SetTimeout, natsOptions_SetTimeout),
        N(Options_SetMaxReconnect, natsOptions_SetMaxReconnect),
        N(Options_SetReconnectWait, natsOptions_SetReconnectWait),
        N(Options_SetReconnectJitter, natsOptions_SetReconnectJitter),
        N(Options_SetReconnectBufSize, natsOptions_SetReconnectBufSize),
        N(Options_SetRetryOnFailedConnect, natsOptions_SetRetryOnFailedConnect),
        N(Options_SetPingInterval, natsOptions_SetPingInterval),
        N(Options_SetMaxPingsOut, natsOptions_SetMaxPingsOut),
        N(Options_SetUserInfo, natsOptions_SetUserInfo),
        N(Options_SetToken, natsOptions_SetToken),
        N(Options_SetSecure, natsOptions_SetSecure),
        N(Options_LoadCATrustedCertificates, natsOptions_LoadCATrustedCertificates),
        N(Options_LoadCertificatesChain, natsOptions_LoadCertificatesChain),
        N(Options_SkipServerVerification, natsOptions_SkipServerVerification),
        N(Connection_Connect, natsConnection_Connect),
        N(Connection_Status, natsConnection_Status),
        N(Connection_GetStats, natsConnection_GetStats),
        N(Connection_Publish, natsConnection_Publish),
        N(Connection_PublishMsg, natsConnection_PublishMsg),
        N(Connection_SubscribeSync, natsConnection_SubscribeSync),
        N(Connection_Close, natsConnection_Close),
        N(Connection_Destroy, natsConnection_Destroy),
        N(Statistics_Create, natsStatistics_Create),
        N(Statistics_GetCounts, natsStatistics_GetCounts),
        N(Statistics_Destroy, natsStatistics_Destroy),
        N(Subscription_NextMsg, natsSubscription_NextMsg),
        N(Subscription_Destroy, natsSubscription_Destroy),
        N(Msg_Create, natsMsg_Create),
        N(Msg_GetSubject, natsMsg_GetSubject),
        N(Msg_GetData, natsMsg_GetData),
        N(Msg_GetDataLength, natsMsg_GetDataLength),
        N(Msg_Destroy, natsMsg_Destroy),
        N(MsgHeader_Set, natsMsgHeader_Set),
        N(Connection_JetStream, natsConnection_JetStream),
        N(jsCtx_Destroy, jsCtx_Destroy),
        N(jsOptions_Init, jsOptions_Init),
        N(jsStreamConfig_Init, jsStreamConfig_Init),
        N(js_GetStreamInfo, js_GetStreamInfo),
        N(js_AddStream, js_AddStream),
        N(jsStreamInfo_Destroy, jsStreamInfo_Destroy),
    };
#undef N

    if (loaded)
        return &api;
    if (!em_dl_load("NATS library (libnats)", sonames, syms, sizeof syms / sizeof syms[0],
                    err, errlen))
        return NULL;
    loaded = 1;
    return &api;
}
