/* test_kubemq_wire.c - the pure parts of the kubemq and http publishers: base64,
 * JSON strings, message ids, backoff, and KubeMQ replies to verdicts.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Reply texts are shaped like kubemq-community's (protocols.md section 1):
 * pretty-printed envelopes, omitted zero fields, any key case.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "curl/wire.h"
#include "harness.h"
#include "kubemq/reply.h"

static const char *b64(const char *in, size_t n)
{
    static struct em_buf b;

    b.len = 0;
    if (em_buf_base64(&b, in, n) < 0 || em_buf_add(&b, "", 1) < 0)
        return NULL;
    return b.p;
}

static void test_base64_rfc4648(void)
{
    /* RFC 4648 section 10 test vectors. */
    CHECK_STR(b64("", 0), "");
    CHECK_STR(b64("f", 1), "Zg==");
    CHECK_STR(b64("fo", 2), "Zm8=");
    CHECK_STR(b64("foo", 3), "Zm9v");
    CHECK_STR(b64("foob", 4), "Zm9vYg==");
    CHECK_STR(b64("fooba", 5), "Zm9vYmE=");
    CHECK_STR(b64("foobar", 6), "Zm9vYmFy");
    /* The high bits and the two characters standard base64 has and URL base64 not. */
    CHECK_STR(b64("\xfb\xff\xfe", 3), "+//+");
    CHECK_STR(b64("{\"seq\":1}", 9), "eyJzZXEiOjF9");
    CHECK_EQ_INT(em_base64_len(0), 0);
    CHECK_EQ_INT(em_base64_len(4), 8);
}

static void test_json_str(void)
{
    struct em_buf b = {0};

    CHECK(em_buf_json_str(&b, "a\"b\\c\n\x01") == 0);
    CHECK(em_buf_add(&b, "", 1) == 0);
    CHECK_STR(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\"");
    em_buf_release(&b);
}

static void test_seq_and_id(void)
{
    const char *m = "{\"schema\":\"edgemon/1\",\"dataset\":\"mppt\",\"id\":\"mppt-1\","
                    "\"seq\":1042,\"ts\":1}";
    uint64_t seq = 0;
    char id[32];

    CHECK(em_msg_seq(m, strlen(m), &seq) == 0);
    CHECK_EQ_INT(seq, 1042);
    CHECK(em_msg_seq("{\"seq\":18446744073709551615}", 28, &seq) == 0);
    CHECK(seq == UINT64_MAX);
    CHECK(em_msg_seq("{\"seq\":18446744073709551616}", 28, &seq) < 0);
    CHECK(em_msg_seq("{\"id\":\"x\"}", 10, &seq) < 0);
    CHECK(em_msg_seq("{\"seq\":\"1\"}", 11, &seq) < 0);
    /* Only the given length counts: the key cut in half is not found. */
    CHECK(em_msg_seq("{\"seq\":5}", 5, &seq) < 0);
    CHECK_EQ_INT(em_msg_id(id, sizeof id, "gw-01", "mppt-1", 1042), 17);
    CHECK_STR(id, "gw-01:mppt-1:1042");
    CHECK(em_msg_id(id, 10, "gw-01", "mppt-1", 1042) < 0);
    CHECK_STR(id, "");
}

static void test_backoff(void)
{
    struct em_backoff b;
    long prev = 0;

    em_backoff_init(&b, 200, 5000, 0);
    for (int i = 0; i < 20; i++) {
        long cur = b.cur_ms, d = em_backoff_next(&b);

        CHECK(d <= cur && d >= cur - cur / 4); /* at most a quarter off */
        CHECK(d <= 5000);
        prev = d;
    }
    CHECK(prev >= 3750); /* reached the cap */
    em_backoff_reset(&b);
    CHECK_EQ_INT(b.cur_ms, 200);
}

#define OKB(results) "{\n\t\"is_error\": false,\n\t\"message\": \"OK\",\n\t\"data\": " results "}"

static enum em_kmq_outcome batch(long status, const char *body, enum em_pub_result *v, size_t n,
                                 char *why)
{
    return em_kmq_batch_reply(status, body, strlen(body), v, n, why, 256);
}

static void test_batch_all_ok(void)
{
    enum em_pub_result v[2] = {EM_PUB_DROP, EM_PUB_DROP};
    char why[256];

    CHECK(batch(200, OKB("{\"BatchID\":\"b\",\"Results\":[{\"MessageID\":\"a:b:1\",\"SentAt\":"
                         "1796528883161677704},{\"MessageID\":\"a:b:2\",\"SentAt\":1796528883161677705}]}"),
                v, 2, why) == EM_KMQ_VERDICTS);
    CHECK(v[0] == EM_PUB_OK && v[1] == EM_PUB_OK);
    CHECK_STR(why, "");
    /* Keys in any case bind in Go; they must here too. */
    CHECK(batch(200, "{\"IS_ERROR\":false,\"Message\":\"OK\",\"DATA\":{\"results\":[{\"sentat\":5},"
                     "{\"SENTAT\":6}]}}",
                v, 2, why) == EM_KMQ_VERDICTS);
    CHECK(v[0] == EM_PUB_OK && v[1] == EM_PUB_OK);
}

static void test_batch_mixed(void)
{
    enum em_pub_result v[4];
    char why[256];

    /* HaveErrors absent (false) although one failed validation: every result counts. */
    CHECK(batch(200, OKB("{\"Results\":[{\"MessageID\":\"a:b:1\",\"SentAt\":1},"
                         "{\"MessageID\":\"a:b:2\",\"IsError\":true,\"Error\":\"Error 110: invalid "
                         "message, cannot be empty\"},{\"MessageID\":\"a:b:3\"},"
                         "{\"MessageID\":\"a:b:4\",\"IsError\":true,\"Error\":\"Error 302: "
                         "connection not available, please retry\"}]}"),
                v, 4, why) == EM_KMQ_VERDICTS);
    CHECK(v[0] == EM_PUB_OK);
    CHECK(v[1] == EM_PUB_DROP);
    CHECK(v[2] == EM_PUB_RETRY); /* no IsError and no SentAt: not confirmed */
    CHECK(v[3] == EM_PUB_RETRY); /* not a validation error */
    CHECK_STR(why, "message 'a:b:2': Error 110: invalid message, cannot be empty");
    /* Fewer results than messages: the missing ones are not confirmed. */
    CHECK(batch(200, OKB("{\"Results\":[{\"SentAt\":1}]}"), v, 3, why) == EM_KMQ_VERDICTS);
    CHECK(v[0] == EM_PUB_OK && v[1] == EM_PUB_RETRY && v[2] == EM_PUB_RETRY);
    CHECK_STR(why, "reply has 1 results for 3 messages");
}

static void test_batch_whole_request(void)
{
    enum em_pub_result v[2];
    char why[256];
    const char *good = OKB("{\"Results\":[{\"SentAt\":1},{\"SentAt\":2}]}");
    char cut[512];

    CHECK(batch(503, "{\"is_error\":true,\"message\":\"rest server is not ready to accept "
                     "requests\",\"data\":null}",
                v, 2, why) == EM_KMQ_RETRY);
    CHECK(strstr(why, "503") != NULL);
    CHECK(batch(200, "<html>not json", v, 2, why) == EM_KMQ_RETRY);
    CHECK(batch(200, "", v, 2, why) == EM_KMQ_RETRY);
    /* A reply cut half-way is malformed, not "no results". */
    snprintf(cut, sizeof cut, "%.*s", (int)strlen(good) / 2, good);
    CHECK(batch(200, cut, v, 2, why) == EM_KMQ_RETRY);
    CHECK(batch(200, OKB("{}"), v, 2, why) == EM_KMQ_RETRY);
    CHECK(batch(200, "{\"is_error\":true,\"message\":\"Error 302: connection not available\"}",
                v, 2, why) == EM_KMQ_RETRY);
    CHECK(batch(400, "{\"is_error\":true,\"message\":\"no messages to send\",\"data\":null}", v, 2,
                why) == EM_KMQ_RETRY);
    CHECK(batch(400, "{\"is_error\":true,\"message\":\"code=400, message=Syntax error: "
                     "offset=3\",\"data\":null}",
                v, 2, why) == EM_KMQ_REFUSED);
    CHECK(batch(404, "{\"error_code\":404,\"message\":\"Not Found\"}", v, 2, why) ==
          EM_KMQ_RETRY);
    CHECK_STR(why, "HTTP 404");
}

static void test_event_reply(void)
{
    enum em_pub_result v = EM_PUB_RETRY;
    char why[256];
    const char *ok = OKB("{\"EventID\":\"a:b:1\",\"Sent\":true}");
    const char *bad = "{\"is_error\":true,\"message\":\"Error 102: invalid channel value, "
                      "cannot be empty\",\"data\":null}";
    const char *notsent = OKB("{\"EventID\":\"a:b:1\",\"Error\":\"store unavailable\"}");

    CHECK(em_kmq_event_reply(200, ok, strlen(ok), &v, why, sizeof why) == EM_KMQ_VERDICTS);
    CHECK(v == EM_PUB_OK);
    CHECK(em_kmq_event_reply(400, bad, strlen(bad), &v, why, sizeof why) == EM_KMQ_VERDICTS);
    CHECK(v == EM_PUB_DROP);
    CHECK(strstr(why, "Error 102") != NULL);
    CHECK(em_kmq_event_reply(200, notsent, strlen(notsent), &v, why, sizeof why) ==
          EM_KMQ_VERDICTS);
    CHECK(v == EM_PUB_RETRY);
    CHECK(em_kmq_event_reply(503, "", 0, &v, why, sizeof why) == EM_KMQ_RETRY);
}

static void test_ping_reply(void)
{
    const char *ok = OKB("{\"Host\":\"kmq-0\",\"Version\":\"2.3.0\",\"ServerStartTime\":1}");
    char host[16], ver[16], why[128];

    CHECK(em_kmq_ping_reply(200, ok, strlen(ok), host, sizeof host, ver, sizeof ver, why,
                            sizeof why) == 0);
    CHECK_STR(host, "kmq-0");
    CHECK_STR(ver, "2.3.0");
    CHECK(em_kmq_ping_reply(503, ok, strlen(ok), host, sizeof host, ver, sizeof ver, why,
                            sizeof why) < 0);
    CHECK(em_kmq_ping_reply(200, "hi", 2, host, sizeof host, ver, sizeof ver, why,
                            sizeof why) < 0);
}

static void test_is_validation(void)
{
    CHECK(em_kmq_is_validation("Error 110: invalid message, cannot be empty"));
    CHECK(em_kmq_is_validation("Error 120: invalid queue name value"));
    CHECK(!em_kmq_is_validation("Error 302: connection not available, please retry"));
    CHECK(!em_kmq_is_validation("Error 1: x"));
    CHECK(!em_kmq_is_validation(NULL));
}

int main(void)
{
    RUN(test_base64_rfc4648);
    RUN(test_json_str);
    RUN(test_seq_and_id);
    RUN(test_backoff);
    RUN(test_batch_all_ok);
    RUN(test_batch_mixed);
    RUN(test_batch_whole_request);
    RUN(test_event_reply);
    RUN(test_ping_reply);
    RUN(test_is_validation);
    DONE();
}
