/* test_conf.c - unit tests of the configuration loader, bus URLs and broker install.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * JSON in this file is written with single quotes for legibility; q() turns them
 * into double quotes before parsing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker_cmd.h"
#include "busaddr.h"
#include "conf.h"
#include "harness.h"

static char jbuf[16384];

static const char *q(const char *s)
{
    size_t n = strlen(s);

    if (n >= sizeof jbuf)
        n = sizeof jbuf - 1;
    for (size_t i = 0; i < n; i++)
        jbuf[i] = s[i] == '\'' ? '"' : s[i];
    jbuf[n] = '\0';
    return jbuf;
}

static struct em_conf *parse(const char *sq, struct em_errors *e)
{
    const char *j = q(sq);

    em_errors_init(e);
    return em_conf_parse(j, strlen(j), e);
}

/* 1 when `line` is one of the collected errors, word for word. */
static int has(const struct em_errors *e, const char *line)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->msg[i], line) == 0)
            return 1;
    for (size_t i = 0; i < e->n; i++)
        printf("    got: %s\n", e->msg[i]);
    return 0;
}

static int has_prefix(const struct em_errors *e, const char *prefix)
{
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->msg[i], prefix, strlen(prefix)) == 0)
            return 1;
    for (size_t i = 0; i < e->n; i++)
        printf("    got: %s\n", e->msg[i]);
    return 0;
}

/* Parse, expect failure with exactly one error equal to `want`. */
static int fails_with(const char *sq, const char *want)
{
    struct em_errors e;
    struct em_conf *c = parse(sq, &e);

    if (c) {
        printf("    parsed although '%s' was expected\n", want);
        em_conf_free(c);
        return 0;
    }
    if (e.n != 1)
        printf("    %zu errors, expected 1\n", e.n);
    return has(&e, want) && e.n == 1;
}

#define AGENT "'agent':{'id':'gw-01','site':'site-a'}"
#define DEV0                                                                             \
    "{'id':'mppt-1','driver':'mppt','profile':'epever-tracer','bus':'tcp://"             \
    "127.0.0.1:1502'}"
#define DEVS   "'devices':[" DEV0 "]"
#define PUB(x) "{" AGENT "," DEVS ",'publishers':[" x "]}"

static const char example[] =
    "{\n"
    "  'agent':   { 'id': 'gw-01', 'site': 'site-a', 'state_dir': '/var/lib/edgemon' },\n"
    "  'devices': [\n"
    "    { 'id': 'mppt-1', 'driver': 'mppt', 'profile': 'epever-tracer',\n"
    "      'bus': 'tcp://127.0.0.1:1502', 'unit': 1, 'interval_ms': 1000, 'timeout_ms': "
    "500 },\n"
    "    { 'id': 'inv-1', 'driver': 'inverter', 'profile': 'sunspec',\n"
    "      'bus': 'rtu:/dev/ttyUSB0?baud=9600&parity=N&data=8&stop=1', 'unit': 3 }\n"
    "  ],\n"
    "  'queue':   { 'backend': 'redis', 'url': 'redis://127.0.0.1:6379/0',\n"
    "               'max_messages': 1000000, 'max_age_s': 604800 },\n"
    "  'publishers': [\n"
    "    { 'name': 'uplink', 'type': 'mqtt', 'url': 'mqtt://127.0.0.1:1883',\n"
    "      'topic': 'monitoring/{dataset}/{id}', 'qos': 1,\n"
    "      'datasets': ['pms', 'mppt', 'inverter', 'site'] }\n"
    "  ],\n"
    "  'features': { 'topic': 'system.feature', 'url': 'http://api.local/api/features' "
    "},\n"
    "  'http':    { 'listen': '127.0.0.1:8080' }\n"
    "}\n";

static void test_contract_example(void)
{
    struct em_errors e;
    struct em_conf *c = parse(example, &e);
    const struct em_dev_conf *d;

    CHECK_EQ_INT(e.n, 0);
    CHECK(c != NULL);
    CHECK_STR(c->agent.id, "gw-01");
    CHECK_STR(c->agent.site, "site-a");
    CHECK_STR(c->agent.state_dir, "/var/lib/edgemon");
    CHECK_EQ_INT(c->ndevices, 2);
    d = &c->devices[0];
    CHECK_STR(d->id, "mppt-1");
    CHECK_STR(d->driver, "mppt");
    CHECK_STR(d->profile, "epever-tracer");
    CHECK_EQ_INT(d->addr.kind, EM_BUS_TCP);
    CHECK_STR(d->addr.host, "127.0.0.1");
    CHECK_EQ_INT(d->addr.port, 1502);
    CHECK_STR(d->bus_key, "tcp://127.0.0.1:1502");
    CHECK_EQ_INT(d->unit, 1);
    CHECK_EQ_INT(d->interval_ms, 1000);
    CHECK_EQ_INT(d->timeout_ms, 500);
    CHECK(d->prof != NULL);
    d = em_conf_device(c, "inv-1");
    CHECK(d == &c->devices[1]);
    CHECK_EQ_INT(d->addr.kind, EM_BUS_RTU);
    CHECK_STR(d->addr.device, "/dev/ttyUSB0");
    CHECK_EQ_INT(d->addr.baud, 9600);
    CHECK_EQ_INT(d->addr.parity, 'N');
    CHECK_EQ_INT(d->addr.data_bits, 8);
    CHECK_EQ_INT(d->addr.stop_bits, 1);
    CHECK_EQ_INT(d->unit, 3);
    CHECK_EQ_INT(d->interval_ms, 1000);
    CHECK_EQ_INT(d->timeout_ms, 500);
    CHECK(em_conf_device(c, "nope") == NULL);
    CHECK_EQ_INT(c->queue.backend, EM_QUEUE_REDIS);
    CHECK_STR(c->queue.url, "redis://127.0.0.1:6379/0");
    CHECK_STR(c->queue.redis.host, "127.0.0.1");
    CHECK_EQ_INT(c->queue.redis.port, 6379);
    CHECK_EQ_INT(c->queue.redis.db, 0);
    CHECK_EQ_INT(c->queue.max_messages, 1000000);
    CHECK_EQ_INT(c->queue.max_age_s, 604800);
    CHECK_EQ_INT(c->queue.spool_max_bytes, 64 * 1024 * 1024);
    CHECK_EQ_INT(c->npublishers, 1);
    CHECK_STR(c->publishers[0].name, "uplink");
    CHECK_STR(c->publishers[0].type, "mqtt");
    CHECK_STR(c->publishers[0].url, "mqtt://127.0.0.1:1883");
    CHECK_STR(c->publishers[0].topic, "monitoring/{dataset}/{id}");
    CHECK_EQ_INT(c->publishers[0].qos, 1);
    CHECK_EQ_INT(c->publishers[0].datasets,
                 EM_DS_BIT_PMS | EM_DS_BIT_MPPT | EM_DS_BIT_INVERTER | EM_DS_BIT_SITE);
    CHECK(c->publishers[0].agent == c->agent.id);
    CHECK(c->publishers[0].site == c->agent.site);
    CHECK_STR(c->features.topic, "system.feature");
    CHECK_STR(c->features.url, "http://api.local/api/features");
    CHECK_EQ_INT(c->features.poll_s, 60);
    CHECK_EQ_INT(c->http.enabled, 1);
    CHECK_STR(c->http.host, "127.0.0.1");
    CHECK_EQ_INT(c->http.port, 8080);
    em_conf_free(c);
}

/* The shipped example file is the CONTRACT example and must stay valid. */
static void test_example_file(void)
{
    struct em_errors e;
    struct em_conf *c;

    em_errors_init(&e);
    c = em_conf_load("conf/edgemon.example.json", &e);
    if (!c)
        em_errors_print(&e, stdout);
    CHECK(c != NULL);
    CHECK_STR(c->path, "conf/edgemon.example.json");
    CHECK_EQ_INT(c->ndevices, 2);
    CHECK_EQ_INT(c->npublishers, 1);
    em_conf_free(c);
}

static void test_defaults(void)
{
    struct em_errors e;
    struct em_conf *c = parse("{" AGENT "," DEVS "}", &e);

    CHECK(c != NULL);
    CHECK_STR(c->agent.state_dir, "/var/lib/edgemon");
    CHECK_EQ_INT(c->devices[0].unit, 1);
    CHECK_EQ_INT(c->devices[0].interval_ms, 1000);
    CHECK_EQ_INT(c->devices[0].timeout_ms, 500);
    CHECK_EQ_INT(c->queue.backend, EM_QUEUE_REDIS);
    CHECK_STR(c->queue.url, "redis://127.0.0.1:6379/0");
    CHECK_EQ_INT(c->queue.redis.port, 6379);
    CHECK_EQ_INT(c->queue.max_messages, 1000000);
    CHECK_EQ_INT(c->queue.max_age_s, 604800);
    CHECK_EQ_INT(c->queue.spool_max_bytes, 64 * 1024 * 1024);
    CHECK_EQ_INT(c->npublishers, 0);
    CHECK_STR(c->features.topic, "system.feature");
    CHECK(c->features.url == NULL);
    CHECK_EQ_INT(c->http.enabled, 0);
    em_conf_free(c);
}

static void test_publisher_defaults(void)
{
    struct em_errors e;
    struct em_conf *c = parse(
        PUB("{'name':'m','type':'mqtt','url':'mqtts://broker.example:8883'},"
            "{'name':'r','type':'redis','url':'redis://10.0.0.2/3'},"
            "{'name':'k','type':'kubemq','url':'http://kubemq:9090'},"
            "{'name':'h','type':'http','url':'https://x.example/in/{dataset}',"
            "'datasets':['site','pms','site']},"
            "{'name':'r2','type':'redis','url':'redis://h','channel':'ch.{dataset}',"
            "'mode':'stream'}"),
        &e);

    if (!c)
        em_errors_print(&e, stdout);
    CHECK(c != NULL);
    CHECK_EQ_INT(c->npublishers, 5);
    CHECK_STR(c->publishers[0].topic, "monitoring/{dataset}/{id}");
    CHECK_EQ_INT(c->publishers[0].qos, 1);
    CHECK(c->publishers[0].mode == NULL);
    CHECK_EQ_INT(c->publishers[0].tls_verify, 1);
    CHECK_EQ_INT(c->publishers[0].timeout_ms, 5000);
    CHECK_EQ_INT(c->publishers[0].window, 64);
    CHECK_STR(c->publishers[1].topic, "monitoring.{dataset}");
    CHECK_STR(c->publishers[1].mode, "publish");
    CHECK_EQ_INT(c->publishers[1].stream_maxlen, 100000);
    CHECK_STR(c->publishers[2].topic, "monitoring.{dataset}");
    CHECK_STR(c->publishers[2].channel, "monitoring.{dataset}");
    CHECK_STR(c->publishers[2].mode, "queue");
    CHECK(c->publishers[3].topic == NULL);
    CHECK_EQ_INT(c->publishers[3].datasets, EM_DS_BIT_SITE | EM_DS_BIT_PMS);
    CHECK_STR(c->publishers[4].topic, "ch.{dataset}"); /* channel: the redis alias */
    CHECK_STR(c->publishers[4].mode, "stream");
    em_conf_free(c);
}

static void test_busaddr_valid(void)
{
    struct em_bus_addr a, b;
    char err[200], k1[EM_BUSADDR_KEY_MAX], k2[EM_BUSADDR_KEY_MAX], f[EM_BUSADDR_FMT_MAX];

    CHECK_EQ_INT(em_busaddr_parse("tcp://Meter.LAN:1502", &a, err, sizeof err), 0);
    CHECK_EQ_INT(a.kind, EM_BUS_TCP);
    CHECK_STR(a.host, "meter.lan");
    CHECK_EQ_INT(a.port, 1502);
    CHECK_EQ_INT(em_busaddr_parse("tcp://10.1.2.3", &a, err, sizeof err), 0);
    CHECK_EQ_INT(a.port, 502);
    CHECK_EQ_INT(em_busaddr_parse("tcp://[::0001]:502", &a, err, sizeof err), 0);
    CHECK_STR(a.host, "::1");
    CHECK_EQ_INT(em_busaddr_key(&a, k1, sizeof k1), 0);
    CHECK_STR(k1, "tcp://[::1]:502");
    CHECK_EQ_INT(em_busaddr_parse("rtu:/dev/ttyUSB0", &a, err, sizeof err), 0);
    CHECK_EQ_INT(a.baud, 9600);
    CHECK_EQ_INT(a.parity, 'N');
    CHECK_EQ_INT(a.data_bits, 8);
    CHECK_EQ_INT(a.stop_bits, 1);
    CHECK_EQ_INT(em_busaddr_parse("RTU://dev//ttyUSB0?baud=9600", &b, err, sizeof err),
                 0);
    CHECK_EQ_INT(em_busaddr_key(&a, k1, sizeof k1), 0);
    CHECK_EQ_INT(em_busaddr_key(&b, k2, sizeof k2), 0);
    CHECK_STR(k1, "rtu:/dev/ttyUSB0");
    CHECK_STR(k2, k1);
    CHECK(em_busaddr_same_serial(&a, &b));
    CHECK_EQ_INT(em_busaddr_parse("rtu:/dev/ttyS1?stop=2&parity=e&data=7&baud=115200", &b,
                                  err, sizeof err),
                 0);
    CHECK(!em_busaddr_same_serial(&a, &b));
    CHECK_EQ_INT(em_busaddr_format(&b, f, sizeof f), 0);
    CHECK_STR(f, "rtu:/dev/ttyS1?baud=115200&parity=E&data=7&stop=2");
}

static int bus_err(const char *url, const char *want)
{
    struct em_bus_addr a;
    char err[200];

    if (em_busaddr_parse(url, &a, err, sizeof err) != -1) {
        printf("    '%s' parsed\n", url);
        return 0;
    }
    if (strcmp(err, want) != 0 || a.kind != EM_BUS_NONE) {
        printf("    '%s': got \"%s\", want \"%s\"\n", url, err, want);
        return 0;
    }
    return 1;
}

static void test_busaddr_errors(void)
{
    CHECK(bus_err("", "empty bus URL"));
    CHECK(bus_err("tcp://127.0.0.1:0", "port must be between 1 and 65535"));
    CHECK(bus_err("tcp://127.0.0.1:65536", "port must be between 1 and 65535"));
    CHECK(bus_err("tcp://127.0.0.1:x", "port must be between 1 and 65535"));
    CHECK(bus_err("tcp://127.0.0.1:", "missing port after ':'"));
    CHECK(bus_err("tcp://:502", "missing host"));
    CHECK(bus_err("tcp://10.0.0.300:502", "invalid IPv4 address '10.0.0.300'"));
    CHECK(bus_err("tcp://bad_host!:502", "invalid character '!' in host 'bad_host!'"));
    CHECK(
        bus_err("tcp://::1:502", "IPv6 addresses must be written in brackets, as [::1]"));
    CHECK(bus_err("tcp://[::g]:502", "invalid IPv6 address '::g'"));
    CHECK(bus_err("tcp://host:502/x", "unexpected '/x' after the port"));
    CHECK(bus_err("rtu:", "missing serial device (rtu:/dev/ttyUSB0)"));
    CHECK(bus_err("rtu:ttyUSB0",
                  "serial device must be an absolute path like /dev/ttyUSB0"));
    CHECK(bus_err(
        "rtu:/dev/ttyUSB0?baud=1234",
        "baud must be a standard rate (1200, 2400, 4800, 9600, 19200, 38400, 57600, "
        "115200, 230400, 460800, 921600)"));
    CHECK(bus_err("rtu:/dev/ttyUSB0?parity=X", "parity must be N, E or O"));
    CHECK(bus_err("rtu:/dev/ttyUSB0?data=6", "data must be 7 or 8"));
    CHECK(bus_err("rtu:/dev/ttyUSB0?stop=3", "stop must be 1 or 2"));
    CHECK(bus_err("rtu:/dev/ttyUSB0?speed=9600",
                  "unknown option 'speed' (expected baud, parity, data, stop)"));
    CHECK(bus_err("rtu:/dev/ttyUSB0?baud=9600&baud=9600", "option 'baud' given twice"));
    CHECK(bus_err("rtu:/dev/ttyUSB0?baud", "option 'baud' is not KEY=VALUE"));
    CHECK(bus_err("udp://1.2.3.4:502",
                  "unknown bus 'udp://1.2.3.4:502' (expected "
                  "tcp://HOST:PORT or rtu:DEVICE?baud=N&parity=N&data=8"
                  "&stop=1)"));
}

static void test_redis_url(void)
{
    struct em_redis_addr r;
    char err[200];

    CHECK_EQ_INT(
        em_busaddr_parse_redis("redis://:s%40cret@cache:6380/2", &r, err, sizeof err), 0);
    CHECK_STR(r.host, "cache");
    CHECK_EQ_INT(r.port, 6380);
    CHECK_EQ_INT(r.db, 2);
    CHECK_STR(r.password, "s@cret");
    CHECK_EQ_INT(r.is_unix, 0);
    CHECK_EQ_INT(
        em_busaddr_parse_redis("redis:///run/redis.sock?db=4", &r, err, sizeof err), 0);
    CHECK_EQ_INT(r.is_unix, 1);
    CHECK_STR(r.path, "/run/redis.sock");
    CHECK_EQ_INT(r.db, 4);
    CHECK_EQ_INT(em_busaddr_parse_redis("unix:///run/redis.sock", &r, err, sizeof err),
                 0);
    CHECK_EQ_INT(r.db, 0);
    CHECK_EQ_INT(em_busaddr_parse_redis("redis://h/x", &r, err, sizeof err), -1);
    CHECK_STR(err, "database must be a number between 0 and 9999");
    CHECK_EQ_INT(em_busaddr_parse_redis("http://h", &r, err, sizeof err), -1);
    CHECK_STR(err, "must start with redis:// or unix://");
}

static void test_err_unknown_key(void)
{
    CHECK(fails_with("{" AGENT
                     ",'devices':[{'id':'a','driver':'mppt','profile':'epever-tracer',"
                     "'bus':'tcp://h:1','intervall_ms':5}]}",
                     "devices[0].intervall_ms: unknown key"));
    CHECK(fails_with("{" AGENT "," DEVS ",'extra':1}", "extra: unknown key"));
    CHECK(fails_with("{'agent':{'id':'a','site':'b','sight':'c'}," DEVS "}",
                     "agent.sight: unknown key"));
    CHECK(fails_with("{" AGENT "," DEVS ",'agent':{'id':'a','site':'b'}}",
                     "agent: duplicate key"));
    CHECK(fails_with(PUB("{'name':'r','type':'redis','url':'redis://h','qos':1}"),
                     "publishers[0].qos: not used by publishers of type 'redis'"));
}

static void test_err_wrong_type(void)
{
    CHECK(fails_with("{" AGENT
                     ",'devices':[{'id':'a','driver':'mppt','profile':'epever-tracer',"
                     "'bus':'tcp://h:1','unit':'1'}]}",
                     "devices[0].unit: must be an integer"));
    CHECK(fails_with("{" AGENT
                     ",'devices':[{'id':'a','driver':'mppt','profile':'epever-tracer',"
                     "'bus':'tcp://h:1','timeout_ms':1.5}]}",
                     "devices[0].timeout_ms: must be an integer"));
    CHECK(fails_with("{'agent':{'id':7,'site':'s'}," DEVS "}",
                     "agent.id: must be a string"));
    CHECK(fails_with("{'agent':[]," DEVS "}", "agent: must be an object"));
    CHECK(fails_with("{" AGENT ",'devices':{}}", "devices: must be an array"));
    CHECK(fails_with("{" AGENT "," DEVS ",'publishers':{}}",
                     "publishers: must be an array"));
    CHECK(fails_with("{" AGENT ",'devices':[3]}", "devices[0]: must be an object"));
    CHECK(fails_with(PUB("{'name':'m','type':'mqtt','url':'mqtt://h','tls_verify':'no'}"),
                     "publishers[0].tls_verify: must be a boolean"));
    CHECK(fails_with(PUB("{'name':'m','type':'mqtt','url':'mqtt://h','datasets':'pms'}"),
                     "publishers[0].datasets: must be an array of strings"));
    CHECK(fails_with("[1]", "the configuration must be a JSON object"));
}

static void test_err_missing(void)
{
    CHECK(fails_with("{'agent':{'site':'s'}," DEVS "}", "agent.id: missing"));
    CHECK(fails_with("{" DEVS "}", "agent: missing"));
    CHECK(fails_with("{" AGENT "}", "devices: missing"));
    CHECK(fails_with("{" AGENT
                     ",'devices':[{'id':'a','driver':'mppt','profile':'epever-tracer'}]}",
                     "devices[0].bus: missing"));
    CHECK(fails_with(PUB("{'type':'mqtt','url':'mqtt://h'}"),
                     "publishers[0].name: missing"));
    CHECK(fails_with("{" AGENT "," DEVS ",'http':{}}", "http.listen: missing"));
}

static void test_err_bad_bus(void)
{
    CHECK(fails_with("{" AGENT ",'devices':[" DEV0 ",{'id':'b','driver':'mppt','profile':"
                     "'epever-tracer','bus':'tcp://127.0.0.1:99999'}]}",
                     "devices[1].bus: port must be between 1 and 65535"));
    CHECK(fails_with(
        "{" AGENT ",'devices':[{'id':'b','driver':'mppt','profile':'epever-tracer',"
        "'bus':'rtu:/dev/ttyUSB0?baud=9600&flow=rts'}]}",
        "devices[0].bus: unknown option 'flow' (expected baud, parity, data, stop)"));
    CHECK(fails_with("{" AGENT
                     ",'devices':[{'id':'b','driver':'mppt','profile':'epever-tracer',"
                     "'bus':'rtu:/dev/ttyUSB0','unit':0}]}",
                     "devices[0].unit: must be between 1 and 247 on an RTU bus"));
    CHECK(fails_with("{" AGENT
                     ",'devices':[{'id':'b','driver':'mppt','profile':'epever-tracer',"
                     "'bus':'tcp://h:502','unit':256}]}",
                     "devices[0].unit: must be between 0 and 255"));
}

static void test_err_duplicate_id(void)
{
    CHECK(fails_with("{" AGENT ",'devices':[" DEV0
                     ",{'id':'mppt-1','driver':'mppt','profile':"
                     "'epever-tracer','bus':'tcp://127.0.0.1:1502','unit':2}]}",
                     "devices[1].id: duplicate device id 'mppt-1' (also devices[0])"));
    CHECK(fails_with(
        PUB("{'name':'up','type':'mqtt','url':'mqtt://h'},"
            "{'name':'up','type':'redis','url':'redis://h'}"),
        "publishers[1].name: duplicate publisher name 'up' (also publishers[0])"));
    CHECK(fails_with(
        "{" AGENT ",'devices':[{'id':'a/b','driver':'mppt','profile':'epever-tracer',"
        "'bus':'tcp://h:1'}]}",
        "devices[0].id: 'a/b' must be 1-64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"));
}

static void test_err_duplicate_unit(void)
{
    CHECK(fails_with(
        "{" AGENT ",'devices':[" DEV0 ",{'id':'b','driver':'mppt','profile':"
        "'epever-tracer','bus':'TCP://127.0.0.1:1502/','unit':1}]}",
        "devices[1].unit: unit 1 is already used on bus 'tcp://127.0.0.1:1502' by "
        "devices[0]"));
    CHECK(fails_with(
        "{" AGENT ",'devices':["
        "{'id':'a','driver':'inverter','profile':'sunspec','bus':'rtu:/dev/ttyUSB0'},"
        "{'id':'b','driver':'inverter','profile':'sunspec',"
        "'bus':'rtu:/dev/ttyUSB0?baud=9600'}]}",
        "devices[1].unit: unit 1 is already used on bus 'rtu:/dev/ttyUSB0' by "
        "devices[0]"));
}

static void test_serial_settings(void)
{
    struct em_errors e;
    struct em_conf *c;

    /* The same line written two ways, different units: fine. */
    c = parse(
        "{" AGENT ",'devices':["
        "{'id':'a','driver':'inverter','profile':'sunspec','bus':'rtu:/dev/ttyUSB0'},"
        "{'id':'b','driver':'pms','profile':'seplos-v3',"
        "'bus':'rtu:/dev/ttyUSB0?baud=9600&parity=N','unit':2}]}",
        &e);
    CHECK(c != NULL);
    CHECK_STR(c->devices[0].bus_key, c->devices[1].bus_key);
    em_conf_free(c);
    CHECK(fails_with(
        "{" AGENT ",'devices':["
        "{'id':'a','driver':'inverter','profile':'sunspec','bus':'rtu:/dev/ttyUSB0'},"
        "{'id':'b','driver':'pms','profile':'seplos-v3',"
        "'bus':'rtu:/dev/ttyUSB0?baud=19200','unit':2}]}",
        "devices[1].bus: bus 'rtu:/dev/ttyUSB0' used with different serial settings "
        "(devices[0]: 9600 8N1, here: 19200 8N1)"));
}

static void test_err_ranges(void)
{
    CHECK(fails_with("{" AGENT
                     ",'devices':[{'id':'a','driver':'mppt','profile':'epever-tracer',"
                     "'bus':'tcp://h:1','interval_ms':50}]}",
                     "devices[0].interval_ms: must be between 100 and 3600000"));
    CHECK(fails_with("{" AGENT
                     ",'devices':[{'id':'a','driver':'mppt','profile':'epever-tracer',"
                     "'bus':'tcp://h:1','timeout_ms':1e30}]}",
                     "devices[0].timeout_ms: must be between 10 and 60000"));
    CHECK(fails_with("{" AGENT "," DEVS ",'queue':{'max_messages':0}}",
                     "queue.max_messages: must be between 1 and 1000000000"));
    CHECK(
        fails_with("{" AGENT "," DEVS ",'queue':{'backend':'sqlite'}}",
                   "queue.backend: unknown backend 'sqlite' (expected redis or spool)"));
    CHECK(fails_with(
        "{" AGENT "," DEVS ",'http':{'listen':'127.0.0.1'}}",
        "http.listen: missing port (expected HOST:PORT, e.g. 127.0.0.1:8080)"));
}

static void test_err_publishers(void)
{
    CHECK(fails_with(PUB("{'name':'m','type':'mqtt','url':'mqtt://h','qos':3}"),
                     "publishers[0].qos: must be 0, 1 or 2"));
    CHECK(fails_with(
        PUB("{'name':'m','type':'mqtt','url':'mqtt://h','datasets':['pms','foo']}"),
        "publishers[0].datasets[1]: unknown dataset 'foo' (expected pms, mppt, "
        "inverter or site)"));
    CHECK(fails_with(
        PUB("{'name':'m','type':'amqp','url':'amqp://h'}"),
        "publishers[0].type: unknown publisher type 'amqp' (expected mqtt, redis, "
        "kubemq, http, kafka or nats)"));
    CHECK(
        fails_with(PUB("{'name':'m','type':'mqtt','url':'mqtt://h','password':'x',"
                       "'password_file':'/etc/hostname'}"),
                   "publishers[0].password_file: cannot be used together with password"));
    CHECK(fails_with(PUB("{'name':'k','type':'kubemq','url':'http://h:9090','token':'x',"
                         "'token_file':'/etc/hostname'}"),
                     "publishers[0].token_file: cannot be used together with token"));
    CHECK(fails_with(
        PUB("{'name':'m','type':'mqtt','url':'mqtt://h','topic':'x/{device}'}"),
        "publishers[0].topic: unknown placeholder '{device}' (allowed: {dataset}, "
        "{id}, {agent}, {site})"));
    CHECK(fails_with(PUB("{'name':'m','type':'mqtt','url':'mqtt://h','topic':'x/{id'}"),
                     "publishers[0].topic: unterminated '{'"));
    CHECK(fails_with(
        PUB("{'name':'m','type':'mqtt','url':'mqtt://h','topic':'x/+/{id}'}"),
        "publishers[0].topic: must not contain the MQTT wildcards '+' or '#'"));
    CHECK(fails_with(PUB("{'name':'m','type':'mqtt','url':'http://h'}"),
                     "publishers[0].url: must start with mqtt:// or mqtts://"));
    CHECK(fails_with(PUB("{'name':'r','type':'redis','url':'unix:///x.sock'}"),
                     "publishers[0].url: must start with redis://"));
    CHECK(fails_with(
        PUB("{'name':'h','type':'http','url':'https://h/{x}'}"),
        "publishers[0].url: unknown placeholder '{x}' (allowed: {dataset}, {id}, "
        "{agent}, {site})"));
    CHECK(fails_with(PUB("{'name':'r','type':'redis','url':'redis://h','topic':'a',"
                         "'channel':'b'}"),
                     "publishers[0].channel: cannot be used together with topic"));
    CHECK(fails_with(PUB("{'name':'r','type':'redis','url':'redis://h','channel':'{x}'}"),
                     "publishers[0].channel: unknown placeholder '{x}' (allowed: "
                     "{dataset}, {id}, {agent}, {site})"));
    CHECK(fails_with(
        PUB("{'name':'r','type':'redis','url':'redis://h','mode':'list'}"),
        "publishers[0].mode: unknown mode 'list' (expected publish or stream)"));
    CHECK(fails_with(
        PUB("{'name':'k','type':'kubemq','url':'http://h','mode':'publish'}"),
        "publishers[0].mode: unknown mode 'publish' (expected queue or events_store)"));
    CHECK(fails_with(
        PUB("{'name':'m','type':'mqtt','url':'mqtt://h',"
            "'ca_file':'/nonexistent/ca.pem'}"),
        "publishers[0].ca_file: cannot read '/nonexistent/ca.pem': No such file or "
        "directory"));
    CHECK(fails_with(
        PUB("{'name':'m','type':'mqtt','url':'mqtt://h','cert_file':'/etc/hostname'}"),
        "publishers[0].key_file: missing (cert_file and key_file go together)"));
}

static void test_err_profile(void)
{
    struct em_errors e;
    struct em_conf *c;

    CHECK(
        fails_with("{" AGENT ",'devices':[{'id':'a','driver':'mppt','profile':'sunspec',"
                   "'bus':'tcp://h:1'}]}",
                   "devices[0].profile: profile 'sunspec' is for driver 'inverter', not "
                   "'mppt'"));
    c = parse("{" AGENT
              ",'devices':[{'id':'a','driver':'mppt','profile':'no-such-profile',"
              "'bus':'tcp://h:1'}]}",
              &e);
    CHECK(c == NULL);
    CHECK_EQ_INT(e.n, 1);
    CHECK(has_prefix(&e, "devices[0].profile: "));
    CHECK(fails_with(
        "{" AGENT ",'devices':[{'id':'a','driver':'meter','profile':'sunspec',"
        "'bus':'tcp://h:1'}]}",
        "devices[0].driver: unknown driver 'meter' (expected pms, mppt or inverter)"));
}

static void test_invalid_json(void)
{
    CHECK(fails_with("{\n 'agent': {,\n}", "invalid JSON at line 2, column 13"));
    CHECK(fails_with("{" AGENT "," DEVS "} x", "invalid JSON at line 1, column 141"));
    {
        struct em_errors e;
        em_errors_init(&e);
        CHECK(em_conf_parse("", 0, &e) == NULL);
        CHECK(has(&e, "invalid JSON: empty input"));
        /* Not NUL-terminated: only `len` bytes may be read. */
        CHECK(em_conf_parse("{}garbage", 2, &e) == NULL);
        CHECK(has(&e, "agent: missing"));
    }
}

/* A config with many mistakes reports each of them, in document order. */
static void test_many_errors(void)
{
    struct em_errors e;
    struct em_conf *c =
        parse("{'agent':{'site':'s'},'devices':["
              "{'id':'a','driver':'mppt','profile':'epever-tracer','bus':'tcp://h:0'},"
              "{'id':'a','driver':'mppt','profile':'epever-tracer','bus':'tcp://"
              "h:1','interval_ms':1}],"
              "'publishers':[{'name':'p','type':'mqtt','url':'mqtt://"
              "h','qos':7,'datasets':['x']}],"
              "'http':{'listen':'h:1','x':1}}",
              &e);

    CHECK(c == NULL);
    CHECK(has(&e, "agent.id: missing"));
    CHECK(has(&e, "devices[0].bus: port must be between 1 and 65535"));
    CHECK(has(&e, "devices[1].interval_ms: must be between 100 and 3600000"));
    CHECK(has(&e, "publishers[0].qos: must be 0, 1 or 2"));
    CHECK(has(
        &e,
        "publishers[0].datasets[0]: unknown dataset 'x' (expected pms, mppt, inverter "
        "or site)"));
    CHECK(has(&e, "http.x: unknown key"));
    CHECK(has(&e, "devices[1].id: duplicate device id 'a' (also devices[0])"));
    CHECK(has(&e, "http.token_file: required when http.listen is not a loopback address"));
    CHECK_EQ_INT(e.n, 8);
    CHECK_EQ_INT(e.dropped, 0);
    CHECK_STR(e.msg[0], "agent.id: missing");
}

/* More errors than the list holds: the rest are counted, never written past the end. */
static void test_errors_overflow(void)
{
    static char big[12000];
    struct em_errors e;
    size_t o;
    FILE *mf;
    char *out = NULL;
    size_t outlen = 0;

    o = (size_t)snprintf(big, sizeof big, "{" AGENT ",'devices':[");
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(big + o, sizeof big - o,
                              "%s{'id':'d%d','driver':'mppt','profile':'epever-tracer',"
                              "'bus':'tcp://h:1','unit':%d,'bogus':1}",
                              i ? "," : "", i, i);
    snprintf(big + o, sizeof big - o, "]}");
    CHECK(parse(big, &e) == NULL);
    CHECK_EQ_INT(e.n, EM_ERRORS_MAX);
    CHECK_EQ_INT(e.dropped, 40 - EM_ERRORS_MAX);
    CHECK_EQ_INT(em_errors_count(&e), 40);
    CHECK_STR(e.msg[31], "devices[31].bogus: unknown key");
    mf = open_memstream(&out, &outlen);
    CHECK(mf != NULL);
    em_errors_print(&e, mf);
    fclose(mf);
    CHECK(strstr(out, "... and 8 more errors\n") != NULL);
    free(out);
    /* A NULL error list is allowed. */
    CHECK(em_conf_parse("{}", 2, NULL) == NULL);
}

/* ---- files: load, brokers.d, broker config ---- */

static char tdir[64];

static void write_file(const char *path, const char *sq)
{
    FILE *f = fopen(path, "w");

    if (f) {
        fputs(q(sq), f);
        fclose(f);
    }
}

static int capture(const char *kind, const char *file, const char *conf, char *out,
                   size_t outlen, char *err, size_t errlen)
{
    FILE *fo, *fe;
    int rc;

    /* fmemopen leaves the buffer untouched when nothing is written. */
    memset(out, 0, outlen);
    memset(err, 0, errlen);
    fo = fmemopen(out, outlen, "w");
    fe = fmemopen(err, errlen, "w");
    rc = em_broker_config(kind, file, conf, fo, fe);

    fclose(fo);
    fclose(fe);
    return rc;
}

static void test_load_missing(void)
{
    struct em_errors e;

    em_errors_init(&e);
    CHECK(em_conf_load("/nonexistent/edgemon.json", &e) == NULL);
    CHECK(has(&e, "cannot read '/nonexistent/edgemon.json': No such file or directory"));
}

static void test_check_cmd(void)
{
    char conf[128], out[256] = "", err[1024] = "";
    FILE *fo, *fe;
    int rc;

    snprintf(conf, sizeof conf, "%s/check.json", tdir);
    write_file(conf, example);
    memset(err, 0, sizeof err);
    fo = fmemopen(out, sizeof out, "w");
    fe = fmemopen(err, sizeof err, "w");
    rc = em_conf_check(conf, fo, fe);
    fclose(fo);
    fclose(fe);
    CHECK_EQ_INT(rc, 0);
    CHECK_STR(out, "configuration OK\n");
    write_file(conf, "{'agent':{'site':'s'},'devices':[{'id':'a'}]}");
    memset(out, 0, sizeof out);
    memset(err, 0, sizeof err);
    fo = fmemopen(out, sizeof out, "w");
    fe = fmemopen(err, sizeof err, "w");
    rc = em_conf_check(conf, fo, fe);
    fclose(fo);
    fclose(fe);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR(
        err,
        "agent.id: missing\ndevices[0].driver: missing\ndevices[0].profile: missing\n"
        "devices[0].bus: missing\n");
}

static void test_broker_config(void)
{
    char conf[128], bfile[128], installed[160], out[256], err[1024];
    struct em_errors e;
    struct em_conf *c;
    struct stat st;

    snprintf(conf, sizeof conf, "%s/edgemon.json", tdir);
    snprintf(bfile, sizeof bfile, "%s/cloud.json", tdir);
    snprintf(installed, sizeof installed, "%s/brokers.d/mqtt.json", tdir);
    write_file(conf, "{" AGENT "," DEVS ",'publishers':["
                     "{'name':'uplink','type':'mqtt','url':'mqtt://127.0.0.1:1883'},"
                     "{'name':'uplink2','type':'mqtt','url':'mqtt://127.0.0.1:1884'},"
                     "{'name':'local','type':'redis','url':'redis://127.0.0.1'}]}");
    char secret[128], body[320];
    snprintf(secret, sizeof secret, "%s/cloud.secret", tdir);
    write_file(secret, "pw");
    CHECK_EQ_INT(chmod(secret, 0600), 0); /* secrets must be private */
    snprintf(body, sizeof body, "{'name':'cloud','url':'mqtts://cloud.example:8883','qos':0,"
                                "'datasets':['site'],'password_file':'%s'}", secret);
    write_file(bfile, body);
    CHECK_EQ_INT(capture("mqtt", bfile, conf, out, sizeof out, err, sizeof err), 0);
    CHECK_STR(out, "successfully configured broker mqtt\n");
    CHECK_STR(err, "");
    CHECK_EQ_INT(stat(installed, &st), 0);
    /* The broker file replaces both mqtt publishers; the redis one stays. */
    em_errors_init(&e);
    c = em_conf_load(conf, &e);
    if (!c)
        em_errors_print(&e, stdout);
    CHECK(c != NULL);
    CHECK_EQ_INT(c->npublishers, 2);
    CHECK_STR(c->publishers[0].name, "local");
    CHECK_STR(c->publishers[1].name, "cloud");
    CHECK_STR(c->publishers[1].type, "mqtt");
    CHECK_EQ_INT(c->publishers[1].qos, 0);
    CHECK_EQ_INT(c->publishers[1].datasets, EM_DS_BIT_SITE);
    CHECK_STR(c->publishers[1].password_file, secret);
    CHECK(c->publishers[1].agent == c->agent.id);
    em_conf_free(c);

    /* Configured again: replaced, not added; name defaults to the kind. */
    write_file(bfile, "{'type':'mqtt','url':'mqtt://10.0.0.9'}");
    CHECK_EQ_INT(capture("mqtt", bfile, conf, out, sizeof out, err, sizeof err), 0);
    em_errors_init(&e);
    c = em_conf_load(conf, &e);
    CHECK(c != NULL);
    CHECK_EQ_INT(c->npublishers, 2);
    CHECK_STR(c->publishers[1].name, "mqtt");
    CHECK_STR(c->publishers[1].url, "mqtt://10.0.0.9");
    em_conf_free(c);
}

static void test_broker_config_invalid(void)
{
    char conf[128], bfile[128], out[256], err[1024], want[512];

    snprintf(conf, sizeof conf, "%s/edgemon.json", tdir);
    snprintf(bfile, sizeof bfile, "%s/bad.json", tdir);
    write_file(bfile, "{'name':'x','url':'mqtt://h','qos':5,'datasets':['pms','meter']}");
    out[0] = err[0] = '\0';
    CHECK_EQ_INT(capture("mqtt", bfile, conf, out, sizeof out, err, sizeof err), 1);
    CHECK_STR(out, "");
    snprintf(want, sizeof want,
             "%s: qos: must be 0, 1 or 2\n"
             "%s: datasets[1]: unknown dataset 'meter' (expected pms, mppt, inverter or "
             "site)\n",
             bfile, bfile);
    CHECK_STR(err, want);
    write_file(bfile, "{'url':'mqtt://h','type':'redis'}");
    CHECK_EQ_INT(capture("mqtt", bfile, conf, out, sizeof out, err, sizeof err), 1);
    snprintf(want, sizeof want, "%s: type: must be \"mqtt\" or left out\n", bfile);
    CHECK_STR(err, want);
    /* A name taken by a publisher of another type. */
    write_file(bfile, "{'name':'local','url':'mqtt://h'}");
    CHECK_EQ_INT(capture("mqtt", bfile, conf, out, sizeof out, err, sizeof err), 1);
    CHECK(strstr(err, "name: 'local' is already used by publishers[2]") != NULL);
    /* Unknown kind. */
    CHECK_EQ_INT(capture("amqp", bfile, conf, out, sizeof out, err, sizeof err), 2);
    CHECK_STR(err, "unknown broker kind 'amqp' (expected mqtt, redis, kubemq, http, kafka or nats)\n");
    /* Missing broker file. */
    CHECK_EQ_INT(
        capture("redis", "/nonexistent/b.json", conf, out, sizeof out, err, sizeof err),
        1);
    CHECK_STR(err, "cannot read '/nonexistent/b.json': No such file or directory\n");
    CHECK_EQ_INT(
        em_conf_check_broker("kubemq", q("{'url':'http://h'}"), 18, NULL, NULL, NULL), 0);
}

/*
 * A password_file or token_file readable by group or others is refused, by the
 * config check (naming the JSON path) and by the reader the publishers use.
 */
static void test_secret_file_mode(void)
{
    char secret[128], doc[512], want[256], err[256];
    static const mode_t bad[] = {0644, 0640, 0604, 0444};
    struct em_errors e;
    struct em_conf *c;
    char *pw;

    snprintf(secret, sizeof secret, "%s/uplink.secret", tdir);
    write_file(secret, "s3cret\n");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(chmod(secret, bad[i]), 0);
        snprintf(doc, sizeof doc, PUB("{'name':'m','type':'mqtt','url':'mqtt://h',"
                                      "'username':'u','password_file':'%s'}"), secret);
        snprintf(want, sizeof want, "publishers[0].password_file: '%s' is readable by group "
                                    "or others (chmod 600 it)", secret);
        CHECK(fails_with(doc, want));
        snprintf(doc, sizeof doc, PUB("{'name':'k','type':'kubemq','url':'http://h:9090',"
                                      "'token_file':'%s'}"), secret);
        snprintf(want, sizeof want, "publishers[0].token_file: '%s' is readable by group "
                                    "or others (chmod 600 it)", secret);
        CHECK(fails_with(doc, want));
        CHECK(em_pub_read_secret("password_file", secret, err, sizeof err) == NULL);
        snprintf(want, sizeof want, "password_file '%s' is readable by group or others "
                                    "(chmod 600 it)", secret);
        CHECK_STR(err, want);
    }
    /* Owner-only modes pass, and the secret never appears in a message. */
    CHECK_EQ_INT(chmod(secret, 0600), 0);
    snprintf(doc, sizeof doc, PUB("{'name':'m','type':'mqtt','url':'mqtt://h',"
                                  "'username':'u','password_file':'%s'}"), secret);
    em_errors_init(&e);
    c = parse(doc, &e);
    CHECK(c != NULL);
    em_conf_free(c);
    CHECK_EQ_INT(chmod(secret, 0400), 0);
    pw = em_pub_read_secret("password_file", secret, err, sizeof err);
    CHECK(pw != NULL);
    CHECK_STR(pw, "s3cret");
    free(pw);
    /* URLs in messages hide user info and queries. */
    char shown[128];
    CHECK_STR(em_pub_url_shown("mqtt://u:p%40ss@h:1883/x?token=t", shown, sizeof shown),
              "mqtt://***@h:1883/x?***");
    CHECK_STR(em_pub_url_shown("redis://h:6379/0", shown, sizeof shown), "redis://h:6379/0");
    CHECK_STR(em_pub_url_shown("h?password=x", shown, sizeof shown), "h?***");
    CHECK_STR(em_pub_url_shown("http://a@b@h/p@q", shown, sizeof shown), "http://***@h/p@q");
    /* A CA file is not a secret: any mode is fine. */
    CHECK_EQ_INT(chmod(secret, 0644), 0);
    snprintf(doc, sizeof doc, PUB("{'name':'m','type':'mqtt','url':'mqtts://h',"
                                  "'ca_file':'%s'}"), secret);
    em_errors_init(&e);
    c = parse(doc, &e);
    CHECK(c != NULL);
    em_conf_free(c);
}

/* Errors in an installed broker file name that file when the config is loaded. */
static void test_brokers_d_errors(void)
{
    char conf[128], path[160];
    struct em_errors e;

    snprintf(conf, sizeof conf, "%s/edgemon.json", tdir);
    snprintf(path, sizeof path, "%s/brokers.d/redis.json", tdir);
    write_file(path, "{'name':'uplink','url':'redis://h','mode':'list'}");
    em_errors_init(&e);
    CHECK(em_conf_load(conf, &e) == NULL);
    CHECK(has(
        &e,
        "brokers.d/redis.json: mode: unknown mode 'list' (expected publish or stream)"));
    write_file(path, "{'name':'mqtt','url':'redis://h'}");
    em_errors_init(&e);
    CHECK(em_conf_load(conf, &e) == NULL);
    CHECK(has(&e, "brokers.d/redis.json: name: duplicate publisher name 'mqtt' (also "
                  "brokers.d/mqtt.json)"));
    CHECK_EQ_INT(e.n, 1);
    unlink(path);
}

static void rm_tree(void)
{
    char p[192];
    static const char *const files[] = {"brokers.d/mqtt.json",
                                        "brokers.d/redis.json",
                                        "edgemon.json",
                                        "cloud.json",
                                        "bad.json",
                                        "check.json",
                                        NULL};

    for (const char *const *f = files; *f; f++) {
        snprintf(p, sizeof p, "%s/%s", tdir, *f);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/brokers.d", tdir);
    rmdir(p);
    rmdir(tdir);
}

int main(void)
{
    snprintf(tdir, sizeof tdir, "/tmp/test_conf.XXXXXX");
    if (!mkdtemp(tdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_contract_example);
    RUN(test_example_file);
    RUN(test_defaults);
    RUN(test_publisher_defaults);
    RUN(test_busaddr_valid);
    RUN(test_busaddr_errors);
    RUN(test_redis_url);
    RUN(test_err_unknown_key);
    RUN(test_err_wrong_type);
    RUN(test_err_missing);
    RUN(test_err_bad_bus);
    RUN(test_err_duplicate_id);
    RUN(test_err_duplicate_unit);
    RUN(test_serial_settings);
    RUN(test_err_ranges);
    RUN(test_err_publishers);
    RUN(test_err_profile);
    RUN(test_invalid_json);
    RUN(test_many_errors);
    RUN(test_errors_overflow);
    RUN(test_load_missing);
    RUN(test_check_cmd);
    RUN(test_broker_config);
    RUN(test_broker_config_invalid);
    RUN(test_brokers_d_errors);
    RUN(test_secret_file_mode);
    rm_tree();
    DONE();
}
