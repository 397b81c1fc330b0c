/* reply.h - KubeMQ REST replies to verdicts: the pure part of the kubemq publisher.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Facts from /work/shared/reference/protocols.md section 1 (kubemq-community
 * interfaces/rest/response.go, handlers.go; pkg/client/queue.go): every reply is
 * the envelope {"is_error","message","data"}, keys match case-insensitively,
 * zero-valued fields are omitted; queue validation errors come back as 200 with
 * data.Results[i].IsError, events validation errors as 400; 503 means "not ready".
 */
#ifndef EM_PUB_KUBEMQ_REPLY_H
#define EM_PUB_KUBEMQ_REPLY_H

#include <stddef.h>

#include "publisher.h"

enum em_kmq_outcome {
    EM_KMQ_VERDICTS, /* per-message verdicts were filled in */
    EM_KMQ_RETRY,    /* the request as a whole failed: retry all, back off */
    EM_KMQ_REFUSED,  /* the request as a whole can never succeed: drop all */
};

/*
 * A reply to POST /queue/send_batch carrying n messages. On EM_KMQ_VERDICTS,
 * v[i] is message i's verdict: OK only when Results[i] has no IsError and a
 * SentAt (a result without either was not confirmed: RETRY); IsError with a
 * validation error ("Error 1xx: ...") is DROP, any other error RETRY; results
 * missing from the reply are RETRY. HaveErrors is not trusted (validation
 * failures do not set it). `why` gets the first error text (or the reason of a
 * whole-request outcome), with "message 'ID': " in front when the reply names it.
 */
enum em_kmq_outcome em_kmq_batch_reply(long status, const char *body, size_t len,
                                       enum em_pub_result *v, size_t n, char *why,
                                       size_t whylen);

/*
 * A reply to POST /send/event (one message). On EM_KMQ_VERDICTS, *v is OK
 * (data.Sent), DROP (a 400 with a validation error) or RETRY (not sent).
 */
enum em_kmq_outcome em_kmq_event_reply(long status, const char *body, size_t len,
                                       enum em_pub_result *v, char *why, size_t whylen);

/*
 * A reply to GET /ping: 0 with the server's Host and Version copied (truncated
 * to fit), or -1 with the reason in why.
 */
int em_kmq_ping_reply(long status, const char *body, size_t len, char *host, size_t hostlen,
                      char *version, size_t versionlen, char *why, size_t whylen);

/* 1 when text is a KubeMQ validation error ("Error 1NN: ..."). */
int em_kmq_is_validation(const char *text);

#endif
