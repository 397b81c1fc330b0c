/* core.c - the daemon: buses, hand-off, queue and publishers, signals.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * Threads: one per bus (polling), and this core thread, which moves messages from
 * the hand-off into the queue and from the queue to the publishers. Signals only
 * set flags; the loop acts on them.
 *
 * Delivery: a message stays in the queue for a publisher until that publisher's
 * broker confirmed it; the windows that ensure it are in core_pub.c.
 */
#include "core.h"
#include "core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "device.h"
#include "log.h"
#include "message.h"
#include "ops.h"
#ifdef WITH_HTTPD
#include "httpd.h"
#endif

static volatile sig_atomic_t quit_flag, reload_flag;
static struct em_handoff *signal_kicks; /* the running core's, woken by a signal */

static void on_signal(int sig)
{
    int saved = errno; /* the interrupted code may be about to read it */
    if (sig == SIGHUP)
        reload_flag = 1;
    else
        quit_flag = 1;
    if (signal_kicks)
        em_handoff_kick(signal_kicks);
    errno = saved;
}

/* ---- bus threads -------------------------------------------------------- */

/* Called on bus threads: report failures (deduplicated) and hand messages over. */
static void sink(void *arg, struct em_device *d, const char *msg, size_t len, int err)
{
    struct core *c = arg;
    char key[128];
    unsigned suppressed;
    em_ops_device(c->ops, (size_t)(d - c->devs), msg, len, err, em_mono_ms() - d->poll_started_ms);
    if (!msg) {
        snprintf(key, sizeof key, "poll:%s:%d", d->conf->id, err);
        if (em_log_should(key, 60, &suppressed))
            log_warnx("[device:%s:%s] poll failed: %s%s", d->driver->name, d->conf->id,
                      em_strerror(err), suppressed ? " (repeated)" : "");
        return;
    }
    struct em_handoff_tag tag = {&d->seq, d->last_seq};
    em_handoff_push(&c->handoff, msg, len, &tag);
}

/* ---- publishers --------------------------------------------------------- */

/* ---- setup and teardown ----------------------------------------------- */

static void teardown(struct core *c)
{
#ifdef WITH_HTTPD
    em_httpd_stop(c->httpd);
#endif
    c->httpd = NULL;
    for (size_t i = 0; i < c->nbuses; i++)
        em_bus_stop(&c->buses[i]);
    em_core_flags_teardown(c);
    for (size_t i = 0; i < c->nbuses; i++)
        em_bus_release(&c->buses[i]);
    for (size_t i = 0; i < c->ndevs; i++)
        em_device_release(&c->devs[i]);
    free(c->buses);
    free(c->devs);
    c->buses = NULL;
    c->devs = NULL;
    c->nbuses = c->ndevs = 0;
    em_core_teardown_publishers(c);
    em_queue_close(c->queue);
    c->queue = NULL;
    em_ops_free(c->ops);
    c->ops = NULL;
    if (c->site_on)
        em_seq_close(&c->site_seq);
    c->site_on = 0;
}

/* GET /api/snapshot (an HTTP thread): every bus polls all its devices now. */
static void snapshot_trigger(void *arg)
{
    struct core *c = arg;
    for (size_t i = 0; i < c->nbuses; i++) {
        __atomic_add_fetch(&c->buses[i].snap_want, 1, __ATOMIC_RELEASE);
        em_bus_wake(&c->buses[i]);
    }
}

#ifdef WITH_HTTPD
static void snapshot(void *arg, int timeout_ms, struct em_sb *b)
{
    struct core *c = arg;
    em_ops_snapshot(c->ops, snapshot_trigger, c, timeout_ms, b);
}
#endif

/* The operator surface: the snapshot when the HTTP server or the site dataset
 * needs it, then the server (after the buses: a snapshot triggers them). */
static int setup_ops(struct core *c)
{
    char err[256];
    const struct em_conf *conf = c->conf;
    unsigned want = 0;
    for (size_t i = 0; i < conf->npublishers; i++)
        want |= conf->publishers[i].datasets;
    if (!conf->http.enabled && !(want & EM_DS_BIT_SITE))
        return 0;
    if (!(c->ops = em_ops_new(conf, c->boot))) {
        log_error("out of memory");
        return -1;
    }
    if (want & EM_DS_BIT_SITE) {
        c->site_iv_ms = 0;
        for (size_t i = 0; i < conf->ndevices; i++)
            if (!c->site_iv_ms || conf->devices[i].interval_ms < c->site_iv_ms)
                c->site_iv_ms = conf->devices[i].interval_ms;
        if (!c->site_iv_ms)
            c->site_iv_ms = 1000;
        /* "_site" is no device id (those start with a letter or digit). */
        if (em_seq_open(&c->site_seq, conf->agent.state_dir, "_site", c->site_iv_ms, 0, err,
                        sizeof err) < 0) {
            log_error("site dataset: %s", err);
            return -1;
        }
        c->site_on = 1;
        c->site_last = em_mono_ms();
    }
    if (!conf->http.enabled)
        return 0;
#ifdef WITH_HTTPD
    if (!(c->httpd = em_httpd_start(conf, c->ops, snapshot, c, err, sizeof err))) {
        log_error("%s", err);
        return -1;
    }
    log_info("http: listening on %s%s", conf->http.listen,
             conf->http.token_file ? " (bearer token required)" : "");
    return 0;
#else
    log_error("http.listen: the HTTP server is not compiled into this build (WITH_HTTPD=no)");
    return -1;
#endif
}

/* The site dataset: the latest reading of every device gathered into one message
 * once per cycle (the shortest device interval), queued like any reading. */
static void site_cycle(struct core *c, int64_t now)
{
    static char msg[EM_MSG_MAX];
    uint64_t seq;
    if (!c->site_on || now - c->site_last < c->site_iv_ms)
        return;
    c->site_last += c->site_iv_ms;
    if (now - c->site_last >= c->site_iv_ms)
        c->site_last = now;
    if (c->site_off)
        return; /* feature site.snapshot false: the cycle keeps its phase */
    int64_t max_age = 0;
    for (size_t i = 0; i < c->conf->ndevices; i++)
        if (c->conf->devices[i].interval_ms + c->conf->devices[i].timeout_ms > max_age)
            max_age = c->conf->devices[i].interval_ms + c->conf->devices[i].timeout_ms;
    seq = em_seq_claim(&c->site_seq);
    int n = em_ops_site_message(c->ops, seq, 2 * max_age, msg, sizeof msg);
    struct em_handoff_tag tag = {&c->site_seq, seq};
    if (n > 0)
        em_handoff_push(&c->handoff, msg, (size_t)n, &tag);
    else
        em_seq_commit(&c->site_seq, seq + 1); /* skipped for good: never reused */
}

static int setup(struct core *c)
{
    char err[256];
    const struct em_conf *conf = c->conf;

    /* `edgemon queue` may hold the spool for a moment, or the previous daemon
     * may still be finishing its clean stop. */
    c->queue = em_queue_open(conf, STOP_DEADLINE_MS + 2000, err, sizeof err);
    if (!c->queue) {
        log_error("cannot open the queue: %s", err);
        return -1;
    }
    if (em_core_setup_publishers(c) < 0)
        return -1;
    c->devs = calloc(conf->ndevices ? conf->ndevices : 1, sizeof *c->devs);
    c->buses = calloc(conf->ndevices ? conf->ndevices : 1, sizeof *c->buses);
    if (!c->devs || !c->buses)
        goto oom;
    for (size_t i = 0; i < conf->ndevices; i++) {
        const struct em_dev_conf *dc = &conf->devices[i];
        if (em_device_init(&c->devs[i], dc, dc->addr.kind == EM_BUS_RTU, conf->agent.state_dir,
                           0, err, sizeof err) < 0) {
            log_error("%s", err);
            return -1;
        }
        c->ndevs++;
        struct em_bus *b = NULL;
        for (size_t k = 0; k < c->nbuses; k++)
            if (strcmp(c->buses[k].key, dc->bus_key) == 0)
                b = &c->buses[k];
        if (!b) {
            b = &c->buses[c->nbuses++];
            em_bus_init(b, &dc->addr, dc->bus_key);
            b->sink = sink;
            b->core = c;
            b->agent = conf->agent.id;
            b->site = conf->agent.site;
            b->boot = c->boot;
        }
        if (em_bus_add_device(b, &c->devs[i]) < 0)
            goto oom;
    }
    if (setup_ops(c) < 0 || em_core_flags_setup(c) < 0)
        return -1;
    for (size_t i = 0; i < c->nbuses; i++)
        if (em_bus_start(&c->buses[i]) < 0) {
            log_error("cannot start the poll thread of '%s': %s", c->buses[i].key,
                      strerror(errno));
            return -1;
        }
    return 0;
oom:
    log_error("out of memory");
    return -1;
}

/* ---- the loop ------------------------------------------------------------ */

/* Messages are a few hundred bytes to a few KiB: one arena holds a batch, and
 * only as much of it is touched as the batch needs. */
static char arena[64 * 1024];

/* Does a feature flag let this message's dataset out? */
static int published(const struct core *c, const char *m, size_t len)
{
    char dataset[16], id[80];
    uint64_t seq;
    if (em_core_envelope(m, len, dataset, sizeof dataset, id, sizeof id, &seq) < 0)
        return 1;
    return !(c->datasets_off & em_conf_dataset_bit(dataset));
}

/* The reading goes to the queue (or is deliberately left out): its seq is spent. */
static void commit_seq(const struct em_handoff_tag *t)
{
    unsigned suppressed;
    if (!t->store || em_seq_commit(t->store, t->seq + 1) == 0)
        return;
    if (em_log_should(t->store->path, 60, &suppressed))
        log_warnx("cannot persist seq to '%s': %s%s", t->store->path, strerror(errno),
                  suppressed ? " (repeated)" : "");
}

/* Move what the bus threads handed over into the queue. Returns how many it took. */
static size_t drain_handoff(struct core *c, int wait_ms)
{
    struct em_qmsg m[PUSH_BATCH];
    struct em_handoff_tag tags[PUSH_BATCH];
    size_t n = 0, used = 0, taken = 0;
    while (n < PUSH_BATCH && sizeof arena - used > EM_MSG_MAX) {
        char *buf = arena + used;
        long len = em_handoff_pop(&c->handoff, buf, EM_MSG_MAX - 1, n == 0 ? wait_ms : 0,
                                  &tags[n]);
        if (len < 0)
            commit_seq(&tags[n]); /* dropped (never: EM_MSG_MAX bounds every message) */
        if (len <= 0)
            break;
        taken++;
        m[n].data = buf;
        m[n].len = (size_t)len;
        m[n].ts_ms = em_wall_ms();
        if (c->print) {
            buf[len] = '\n';
            fwrite(buf, 1, (size_t)len + 1, stdout);
        }
        used += (size_t)len + 1;
        if (c->datasets_off && !published(c, buf, (size_t)len)) {
            commit_seq(&tags[n]);
            continue; /* feature dataset.<name> false: visible here, not queued */
        }
        n++;
    }
    if (c->print && taken)
        fflush(stdout);
    if (n == 0)
        return taken;
    for (size_t i = 0; i < c->npubs; i++) {
        struct pubrt *p = &c->pubs[i];
        char dataset[16], id[80];
        uint64_t seq;
        if (!p->backlogged || p->was_up != 1)
            continue;
        for (size_t k = 0; k < n; k++)
            if (em_core_envelope(m[k].data, m[k].len, dataset, sizeof dataset, id, sizeof id, &seq) == 0 &&
                (p->conf->datasets & em_conf_dataset_bit(dataset)))
                em_live_put(p->live, m[k].data, m[k].len);
    }
    /* Each seq is persisted only now, as its reading goes to the queue: an agent
     * killed while readings wait in the hand-off (a queue Redis that hangs holds
     * the core here for up to its timeout) leaves no gap, because the readings
     * after the restart take those seqs again. Before the push, not after: a
     * kill while the push waits for Redis's reply still stores the readings (Redis
     * runs the command it has read), so their seqs must not come back. Newest
     * first, so each store is written once per batch. */
    for (size_t k = n; k-- > 0;)
        commit_seq(&tags[k]);
    if (em_queue_push(c->queue, m, n) < 0) {
        unsigned sup;
        if (em_log_should("queue-push", 30, &sup))
            log_error("cannot store %zu readings in the queue: %s", n, strerror(errno));
    }
    return taken;
}

/* The numbers `edgemon queue` prints, also written to <state_dir>/queue.json
 * (save_stats) so the command can answer while the daemon holds the spool.
 * fresh: use each publisher's figures of this stats round (pubrt.st). */
static int write_stats(struct core *c, FILE *out, int fresh)
{
    fprintf(out, "{\"redis\":\"%s\",\"fallback_pending\":%lld,\"publishers\":{",
            c->conf->queue.backend == EM_QUEUE_SPOOL ? "unused"
            : em_queue_redis_up(c->queue)            ? "up"
                                                     : "down",
            em_queue_fallback_pending(c->queue));
    for (size_t i = 0; i < c->npubs; i++) {
        struct pubrt *p = &c->pubs[i];
        struct em_qstats st;
        if (fresh && p->st_ok)
            st = p->st;
        else if (em_queue_stats(c->queue, p->idx, &st) < 0)
            memset(&st, 0, sizeof st);
        fprintf(out,
                "%s\"%s\":{\"pending\":%lld,\"oldest_age_s\":%lld,\"dropped\":%lld,"
                "\"dropped_by\":{",
                i ? "," : "", p->conf->name, st.pending, st.oldest_age_s, st.dropped);
        for (size_t r = 0; r < st.nreasons; r++)
            fprintf(out, "%s\"%s\":%lld", r ? "," : "", st.reason_names[r], st.dropped_by[r]);
        fprintf(out,
                "},\"up\":%s,\"published\":%llu,\"dead_letter\":%llu,\"retries\":%llu,"
                "\"drain_rate\":%.1f,\"live_sent\":%llu}",
                p->was_up == 1 ? "true" : "false", (unsigned long long)p->published,
                (unsigned long long)p->deadletter, (unsigned long long)p->retries, p->rate,
                (unsigned long long)p->live_sent);
    }
    fprintf(out, "}}\n");
    return 0;
}

/* What an operator watches in queue.json: when it changes, the file is written at
 * the next stats round; the running counters alone (published, drain_rate, ...)
 * are refreshed every STATS_SAVE_MS. Each write is a rename in the state dir,
 * which may be flash. */
static uint64_t stats_signature(const struct core *c)
{
    uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
    MIX(em_queue_redis_up(c->queue));
    MIX(em_queue_fallback_pending(c->queue));
    for (size_t i = 0; i < c->npubs; i++) {
        const struct pubrt *p = &c->pubs[i];
        MIX(p->was_up);
        MIX(p->deadletter);
        if (p->st_ok) {
            MIX(p->st.pending);
            MIX(p->st.dropped);
        }
    }
#undef MIX
    return h;
}

static void save_stats(struct core *c, int fresh)
{
    char path[4200], tmp[4210];
    snprintf(path, sizeof path, "%s/queue.json", c->conf->agent.state_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    write_stats(c, f, fresh);
    if (fclose(f) == 0)
        rename(tmp, path);
    c->stats_saved = em_mono_ms();
}

static void every_second(struct core *c, double dt)
{
    for (size_t i = 0; i < c->npubs; i++) {
        struct pubrt *p = &c->pubs[i];
        p->rate = dt > 0 ? p->acked_since / dt : 0;
        p->acked_since = 0;
        /* One read of the queue's figures serves the lane, the metrics and queue.json. */
        p->st_ok = em_queue_stats(c->queue, p->idx, &p->st) == 0;
        if (p->st_ok)
            em_core_update_lane(c, p, &p->st);
        if (c->ops)
            em_ops_publisher(c->ops, i, p->was_up == 1, p->st_ok ? &p->st : NULL, p->published,
                             p->deadletter);
    }
    em_ops_tick(c->ops);
    em_queue_sync(c->queue);
    uint64_t sig = stats_signature(c);
    if (sig != c->stats_sig || em_mono_ms() - c->stats_saved >= STATS_SAVE_MS) {
        c->stats_sig = sig;
        save_stats(c, 1);
    }
    if (c->handoff.dropped != c->handoff_dropped_logged) {
        log_error("the core fell behind: %llu readings lost in the hand-off",
                  (unsigned long long)(c->handoff.dropped - c->handoff_dropped_logged));
        c->handoff_dropped_logged = c->handoff.dropped;
    }
}

/* Say once per new find that the spool stepped over damage (a power cut, a bad
 * sector): the readings around it are delivered, the damaged ones are lost. */
static void log_spool_damage(struct core *c)
{
    unsigned long long corrupt, truncated;
    if (em_queue_damage(c->queue, &corrupt, &truncated) < 0 ||
        corrupt + truncated <= c->damage_logged)
        return;
    c->damage_logged = corrupt + truncated;
    log_warnx("spool: skipped %llu corrupt record(s) (bad checksum) and cut %llu torn byte(s) "
              "in %s/spool; the records around them are delivered",
              corrupt, truncated, c->conf->agent.state_dir);
}

/* How long the core may sleep when nothing arrives: until its next timer when
 * everything is settled (every publisher up with nothing in flight, nothing to
 * ack, no backlog, Redis up), else 100 ms, the pace of reconnects and retries.
 * A reading, a signal or a snapshot request wakes it earlier. */
static int idle_wait_ms(const struct core *c, int64_t now, int64_t last_second)
{
    if (c->nacks || c->fetch || em_queue_fallback_pending(c->queue) > 0 ||
        (c->conf->queue.backend != EM_QUEUE_SPOOL && !em_queue_redis_up(c->queue)))
        return 100;
    for (size_t i = 0; i < c->npubs; i++) {
        const struct pubrt *p = &c->pubs[i];
        if (p->was_up != 1 || p->count || p->nacks || p->live_inflight || p->backlogged ||
            p->rewind_pending)
            return 100;
    }
    int64_t until = last_second + 1000;
    if (c->site_on && c->site_last + c->site_iv_ms < until)
        until = c->site_last + c->site_iv_ms;
    return until - now < 1 ? 1 : until - now > 1000 ? 1000 : (int)(until - now);
}

static int loop_once(struct core *c, int64_t *last_service, int64_t *last_second, int busy)
{
    int work = 0, spin = 0;
    /* New readings wake the hand-off at once; the timeout only paces the
     * publishers' housekeeping, and 1 ms while confirmations are awaited. A
     * publisher whose confirmations are streaming in (a backlog draining) is
     * looked at again after STREAMING_SLEEP_US instead: its client reads its
     * socket only when called, and a millisecond's nap would empty its window. */
    int awaiting = 0;
    for (size_t i = 0; i < c->npubs; i++)
        if (c->pubs[i].unresolved > 0) {
            awaiting = 1;
            spin |= c->pubs[i].streaming > 0;
        }
    /* idle_wait_ms reads the spool's figures: not on every turn of a drain. */
    int wait = busy ? 0 : awaiting ? 1 : idle_wait_ms(c, em_mono_ms(), *last_second);
    if (drain_handoff(c, spin ? 0 : wait) > 0)
        work = 1;
    int64_t now = em_mono_ms();
    if (now - *last_service >= 100) {
        int ev = em_queue_service(c->queue, em_wall_ms());
        if (ev < 0)
            log_warnx("redis down: buffering in the spool (%s/spool)", c->conf->agent.state_dir);
        else if (ev > 0)
            log_info("redis back: moving %lld spooled readings into Redis",
                     em_queue_fallback_pending(c->queue));
        log_spool_damage(c);
        em_core_flags_service(c, now, ev);
        *last_service = now;
    }
    site_cycle(c, now);
    for (size_t i = 0; i < c->npubs; i++)
        work |= em_core_pump(c, &c->pubs[i]);
    if (now - *last_second >= 1000) {
        every_second(c, (now - *last_second) / 1000.0);
        *last_second = now;
    }
    if (spin && !work) {
        struct timespec ts = {0, STREAMING_SLEEP_US * 1000L};
        nanosleep(&ts, NULL);
    }
    return work;
}

static void stop_cleanly(struct core *c)
{
    /* No new readings; everything polled so far goes into the queue. */
    for (size_t i = 0; i < c->nbuses; i++)
        em_bus_stop(&c->buses[i]);
    while (drain_handoff(c, 0) > 0)
        ;
    /* Give messages in flight a moment for their confirmations; anything not
     * confirmed stays queued and is sent again after the restart. */
    int64_t deadline = em_mono_ms() + STOP_DEADLINE_MS;
    for (;;) {
        size_t open = 0;
        for (size_t i = 0; i < c->npubs; i++) {
            struct pubrt *p = &c->pubs[i];
            if (p->impl->service)
                p->impl->service(p->ctx);
            em_core_settle(c, p, 1);
            open += p->unresolved + p->live_inflight;
        }
        if (open == 0 || em_mono_ms() >= deadline)
            break;
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
    em_queue_sync(c->queue);
    save_stats(c, 0);
}

static void reload(struct core *c, const char *conf_path)
{
    struct em_errors errs;
    em_errors_init(&errs);
    struct em_conf *next = em_conf_load(conf_path, &errs);
    if (!next) {
        log_error("reload: '%s' is invalid, keeping the running configuration", conf_path);
        for (size_t i = 0; i < errs.n; i++)
            log_error("reload: %s", errs.msg[i]);
        return;
    }
    log_info("reload: configuration valid, restarting buses and publishers");
    stop_cleanly(c);
    teardown(c);
    em_conf_free(c->conf);
    c->conf = next;
    if (setup(c) < 0) {
        /* The new tree validated but could not start (a port, a file): stop, and
         * let the supervisor restart us rather than run half-configured. */
        log_error("reload: cannot start with the new configuration");
        quit_flag = 1;
    }
}

int em_core_run(const char *conf_path, int print)
{
    static struct core c;
    struct em_errors errs;

    memset(&c, 0, sizeof c);
    c.print = print;
    c.log_level_start = em_log_level_now;
    em_boot_id(c.boot, sizeof c.boot);
    em_errors_init(&errs);
    c.conf = em_conf_load(conf_path, &errs);
    if (!c.conf) {
        for (size_t i = 0; i < errs.n; i++)
            log_error("%s", errs.msg[i]);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* hiredis and sockets write(2) to peers that may be gone. */
    signal(SIGPIPE, SIG_IGN);

    if (em_handoff_init(&c.handoff, HANDOFF_BYTES) < 0 || setup(&c) < 0) {
        teardown(&c);
        em_handoff_release(&c.handoff);
        em_conf_free(c.conf);
        return 1;
    }
    /* At once, so `edgemon queue` never answers with the previous run's figures. */
    save_stats(&c, 0);
    log_info("edgemon %s started: agent '%s', %zu devices on %zu buses, %zu publishers, "
             "queue %s, boot %s",
             EM_VERSION, c.conf->agent.id, c.ndevs, c.nbuses, c.npubs,
             c.conf->queue.backend == EM_QUEUE_SPOOL ? "spool" : "redis", c.boot);
    int64_t last_service = 0, last_second = em_mono_ms();
    int busy = 0;
    signal_kicks = &c.handoff;
    while (!quit_flag) {
        busy = loop_once(&c, &last_service, &last_second, busy);
        if (reload_flag) {
            reload_flag = 0;
            reload(&c, conf_path);
        }
    }
    log_info("stopping");
    signal_kicks = NULL;
    stop_cleanly(&c);
    teardown(&c);
    em_handoff_release(&c.handoff);
    em_conf_free(c.conf);
    return 0;
}

int em_core_queue(const char *conf_path, FILE *out)
{
    struct em_errors errs;
    char err[256], path[4200];
    static struct core c;

    em_errors_init(&errs);
    memset(&c, 0, sizeof c);
    c.conf = em_conf_load(conf_path, &errs);
    if (!c.conf) {
        em_errors_print(&errs, stderr);
        return 1;
    }
    c.queue = em_queue_open(c.conf, 0, err, sizeof err);
    if (!c.queue) {
        /* A running daemon holds the spool: answer with what it last wrote. */
        snprintf(path, sizeof path, "%s/queue.json", c.conf->agent.state_dir);
        FILE *f = fopen(path, "r");
        if (!f) {
            fprintf(stderr, "queue: %s\n", err);
            em_conf_free(c.conf);
            return 1;
        }
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, n, out);
        fclose(f);
        em_conf_free(c.conf);
        return 0;
    }
    c.pubs = calloc(c.conf->npublishers ? c.conf->npublishers : 1, sizeof *c.pubs);
    for (size_t i = 0; c.pubs && i < c.conf->npublishers; i++) {
        c.pubs[i].conf = &c.conf->publishers[i];
        c.pubs[i].idx = i;
        c.pubs[i].was_up = -1;
        c.npubs++;
    }
    em_queue_service(c.queue, em_wall_ms());
    write_stats(&c, out, 0);
    free(c.pubs);
    em_queue_close(c.queue);
    em_conf_free(c.conf);
    return 0;
}
