/* natslib.h - the part of libnats (the NATS C client) the NATS publisher uses, loaded at run time.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * libnats brings OpenSSL with it and starts its own threads (timers, reader,
 * flusher, reconnect); a gateway without a NATS publisher must not pay for any
 * of it (publishers/dl.h). The library is opened when the first NATS publisher
 * is created and stays loaded for the life of the process.
 *
 * Core thread only (publisher create), like everything in publishers/.
 */
#ifndef EM_PUB_NATSLIB_H
#define EM_PUB_NATSLIB_H

#include <stddef.h>

#include <nats/nats.h>

/* Every function used, in one list: the table's slots and the names to resolve. */
#define EM_NATSLIB_FUNCS(X) \
    X(natsStatus_GetText) \
    X(nats_GetLastError) \
    X(natsOptions_Create) \
    X(natsOptions_Destroy) \
    X(natsOptions_SetURL) \
    X(natsOptions_SetName) \
    X(natsOptions_SetTimeout) \
    X(natsOptions_SetMaxReconnect) \
    X(natsOptions_SetReconnectWait) \
    X(natsOptions_SetReconnectJitter) \
    X(natsOptions_SetReconnectBufSize) \
    X(natsOptions_SetRetryOnFailedConnect) \
    X(natsOptions_SetPingInterval) \
    X(natsOptions_SetMaxPingsOut) \
    X(natsOptions_SetUserInfo) \
    X(natsOptions_SetToken) \
    X(natsOptions_SetSecure) \
    X(natsOptions_LoadCATrustedCertificates) \
    X(natsOptions_LoadCertificatesChain) \
    X(natsOptions_SkipServerVerification) \
    X(natsConnection_Connect) \
    X(natsConnection_Status) \
    X(natsConnection_GetStats) \
    X(natsConnection_Publish) \
    X(natsConnection_PublishMsg) \
    X(natsConnection_SubscribeSync) \
    X(natsConnection_Destroy) \
    X(natsStatistics_Create) \
    X(natsStatistics_GetCounts) \
    X(natsStatistics_Destroy) \
    X(natsSubscription_NextMsg) \
    X(natsSubscription_Destroy) \
    X(natsMsg_Create) \
    X(natsMsg_GetSubject) \
    X(natsMsg_GetData) \
    X(natsMsg_GetDataLength) \
    X(natsMsg_Destroy) \
    X(natsMsgHeader_Set) \
    X(natsConnection_JetStream) \
    X(jsCtx_Destroy) \
    X(jsOptions_Init) \
    X(jsStreamConfig_Init) \
    X(js_GetStreamInfo) \
    X(js_AddStream) \
    X(jsStreamInfo_Destroy)

struct em_natslib {
#define EM_NATSLIB_SLOT(fn) __typeof__(fn) *fn;
    EM_NATSLIB_FUNCS(EM_NATSLIB_SLOT)
#undef EM_NATSLIB_SLOT
};

/*
 * libnats' API, loaded on first use; the table lives as long as the process.
 * NULL with a message in err when the library or one of its functions cannot
 * be loaded.
 */
const struct em_natslib *em_natslib_get(char *err, size_t errlen);

#endif
