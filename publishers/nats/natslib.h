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

struct em_natslib {
    __typeof__(nats_GetVersion) *GetVersion;
    __typeof__(natsStatus_GetText) *Status_GetText;
    __typeof__(nats_GetLastError) *GetLastError;
    __typeof__(natsOptions_Create) *Options_Create;
    __typeof__(natsOptions_Destroy) *Options_Destroy;
    __typeof__(natsOptions_SetURL) *Options_SetURL;
    __typeof__(natsOptions_SetName) *Options_SetName;
    __typeof__(natsOptions_SetTimeout) *Options_SetTimeout;
    __typeof__(natsOptions_SetMaxReconnect) *Options_SetMaxReconnect;
    __typeof__(natsOptions_SetReconnectWait) *Options_SetReconnectWait;
    __typeof__(natsOptions_SetReconnectJitter) *Options_SetReconnectJitter;
    __typeof__(natsOptions_SetReconnectBufSize) *Options_SetReconnectBufSize;
    __typeof__(natsOptions_SetRetryOnFailedConnect) *Options_SetRetryOnFailedConnect;
    __typeof__(natsOptions_SetPingInterval) *Options_SetPingInterval;
    __typeof__(natsOptions_SetMaxPingsOut) *Options_SetMaxPingsOut;
    __typeof__(natsOptions_SetUserInfo) *Options_SetUserInfo;
    __typeof__(natsOptions_SetToken) *Options_SetToken;
    __typeof__(natsOptions_SetSecure) *Options_SetSecure;
    __typeof__(natsOptions_LoadCATrustedCertificates) *Options_LoadCATrustedCertificates;
    __typeof__(natsOptions_LoadCertificatesChain) *Options_LoadCertificatesChain;
    __typeof__(natsOptions_SkipServerVerification) *Options_SkipServerVerification;
    __typeof__(natsConnection_Connect) *Connection_Connect;
    __typeof__(natsConnection_Status) *Connection_Status;
    __typeof__(natsConnection_GetStats) *Connection_GetStats;
    __typeof__(natsConnection_Publish) *Connection_Publish;
    __typeof__(natsConnection_PublishMsg) *Connection_PublishMsg;
    __typeof__(natsConnection_SubscribeSync) *Connection_SubscribeSync;
    __typeof__(natsConnection_Close) *Connection_Close;
    __typeof__(natsConnection_Destroy) *Connection_Destroy;
    __typeof__(natsStatistics_Create) *Statistics_Create;
    __typeof__(natsStatistics_GetCounts) *Statistics_GetCounts;
    __typeof__(natsStatistics_Destroy) *Statistics_Destroy;
    __typeof__(natsSubscription_NextMsg) *Subscription_NextMsg;
    __typeof__(natsSubscription_Destroy) *Subscription_Destroy;
    __typeof__(natsMsg_Create) *Msg_Create;
    __typeof__(natsMsg_GetSubject) *Msg_GetSubject;
    __typeof__(natsMsg_GetData) *Msg_GetData;
    __typeof__(natsMsg_GetDataLength) *Msg_GetDataLength;
    __typeof__(natsMsg_Destroy) *Msg_Destroy;
    __typeof__(natsMsgHeader_Set) *MsgHeader_Set;
    __typeof__(natsConnection_JetStream) *Connection_JetStream;
    __typeof__(jsCtx_Destroy) *jsCtx_Destroy;
    __typeof__(jsOptions_Init) *jsOptions_Init;
    __typeof__(jsStreamConfig_Init) *jsStreamConfig_Init;
    __typeof__(js_GetStreamInfo) *js_GetStreamInfo;
    __typeof__(js_AddStream) *js_AddStream;
    __typeof__(jsStreamInfo_Destroy) *jsStreamInfo_Destroy;
};

/*
 * libnats' API, loaded on first use; the table lives as long as the process.
 * NULL with a message in err when the library or one of its functions cannot
 * be loaded.
 */
const struct em_natslib *em_natslib_get(char *err, size_t errlen);

#endif
