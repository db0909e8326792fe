/*
 * worker.c - a worker's life: attach, serve, stop.
 *
 * The loop is libevent's, one turn at a time, with our own work between
 * turns (what Redis calls beforeSleep): run requests and deliver replies
 * from the rings, write every client's output once, publish ring records
 * and wake peers, take a step of lazy freeing.  The worker blocks only when
 * there is nothing left to do and its rings are empty: it then marks itself
 * asleep in the ring set so that producers know to wake it, and only then.
 *
 * Stopping (SIGTERM): stop accepting and stop reading clients, keep serving
 * other workers' requests and delivering replies until nothing is in flight
 * and every peer is stopping too (or five seconds pass), then detach the
 * arena cleanly.  The data stays in the arena for the next start.
 */
#include "worker.h"
#include "blocking.h"
#include "client.h"
#include "cross.h"
#include "log.h"
#include "util.h"

#include "shm/alloc.h"
#include "shm/pack.h"
#include "shm/qlist.h"
#include "shm/ring.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define STOP_GRACE_MS 5000
#define GC_BUDGET     4096

static int64_t stop_started_ms;

static void on_signal(int sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (sig == SIGTERM || sig == SIGINT) {
        if (!W.stopping)
            log_notice("shutting down: no new clients or commands, finishing what is in flight");
        W.stopping = 1;
    }
}

static void on_wake(int fd, short what, void *arg)
{
    uint64_t v;

    (void)what;
    (void)arg;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        log_warning("reading the wake-up eventfd: %s", strerror(errno));
}

static void publish_stats(void)
{
    struct worker_slot *s = &W.shared->w[W.id];
    uint64_t keys = 0;
    unsigned db;

    for (db = 0; db < W.arena->hdr->dbcount; db++)
        keys += ks_count(W.arena, db);
    atomic_store(&s->keys, keys);
    atomic_store(&s->used_bytes, W.arena->hdr->used_bytes);
    atomic_store(&s->arena_bytes, (uint64_t)W.arena->reg.size);
    atomic_store(&s->commands, W.st.commands);
}

static void sample_ops(void)
{
    int64_t now = util_mstime();

    if (now - W.st.ops_last_ms >= 100) {
        uint64_t ops = (W.st.commands - W.st.ops_last_cmds) * 1000 /
                       (uint64_t)(now - W.st.ops_last_ms ? now - W.st.ops_last_ms : 1);
        W.st.ops_sec_samples[W.st.ops_idx++ % 16] = ops;
        W.st.ops_last_ms = now;
        W.st.ops_last_cmds = W.st.commands;
    }
}

static void on_cron(int fd, short what, void *arg)
{
    uint64_t period_us = 1000000 / (uint64_t)(config.hz > 0 ? config.hz : 10);

    (void)fd;
    (void)what;
    (void)arg;
    /* A quarter of each period at most for expiry, as Redis does. */
    util_clock_tick();
    db_active_expire(period_us / 4);
    clients_cron();
    if (shm_arena_tick(W.arena) != EMBER_OK)
        log_verbose("cannot grow the arena ahead of need (it will grow on demand)");
    sample_ops();
    publish_stats();
}

static long long cron_hz;            /* the period the cron is armed with */

/* Creates the cron event, or re-arms it at config.hz.  0 or -1. */
static int setup_cron(void)
{
    struct timeval tv;
    long long hz = config.hz > 0 ? config.hz : 10;

    if (W.cron_ev == NULL)
        W.cron_ev = event_new(W.base, -1, EV_PERSIST, on_cron, NULL);
    if (W.cron_ev == NULL)
        return -1;
    tv.tv_sec = (time_t)(1000000 / hz / 1000000);     /* hz 1: one whole second */
    tv.tv_usec = (suseconds_t)(1000000 / hz % 1000000);
    /* Adding a pending event again re-arms it with the new period. */
    if (event_add(W.cron_ev, &tv) != 0)
        return -1;
    cron_hz = config.hz;
    return 0;
}

/*
 * The settings take any value Redis takes; the compact encodings are
 * linear scans, so past these a value is always converted (Redis also
 * converts a listpack that would pass 1 GB, and caps a quicklist node at
 * 2^15 entries and treats sizes below -5 as -5).
 */
#define LIMIT_MAX (1 << 20)

/* A setting as the arena code reads it: at most `max`. */
static uint32_t limit(long long v, uint32_t max)
{
    return v > (long long)max ? max : (uint32_t)v;
}

/* The compact-encoding limits the arena code reads. */
static void apply_limits(void)
{
    long long ls = config.list_max_listpack_size;

    /* A pack counts its elements in 16 bits (pack.h): hashes and sorted
     * sets take two per member, sets one. */
    ks_limits.hash_entries = limit(config.hash_max_listpack_entries, PACK_COUNT_MAX / 2);
    ks_limits.hash_value = limit(config.hash_max_listpack_value, LIMIT_MAX);
    ks_limits.set_entries = limit(config.set_max_listpack_entries, PACK_COUNT_MAX);
    ks_limits.set_value = limit(config.set_max_listpack_value, LIMIT_MAX);
    ks_limits.set_int_entries = limit(config.set_max_intset_entries, PACK_COUNT_MAX);
    ks_limits.zset_entries = limit(config.zset_max_listpack_entries, PACK_COUNT_MAX / 2);
    ks_limits.zset_value = limit(config.zset_max_listpack_value, LIMIT_MAX);
    ks_limits.list_size = (int32_t)(ls < -5 ? -5 : ls > (1 << 15) ? (1 << 15) : ls);
}

void worker_apply_settings(void)
{
    struct client *c;

    apply_limits();
    log_set_level((enum log_level)config.loglevel);
    /* Before the loop is set up, worker_main() arms the cron itself. */
    if (W.cron_ev != NULL && config.hz != cron_hz && setup_cron() != 0)
        log_warning("cannot re-arm the cron at hz %lld; keeping the old period", config.hz);
    /* proto-max-bulk-len lives in each parser; client-query-buffer-limit,
     * maxmemory, maxclients and timeout are read where they are used. */
    for (c = W.clients; c; c = c->next) {
        if (c->parser.lim.max_bulk_len != config.proto_max_bulk_len) {
            struct resp_limits lim = c->parser.lim;
            lim.max_bulk_len = config.proto_max_bulk_len;
            resp_parser_set_limits(&c->parser, &lim);
        }
    }
}

static int attach_arena(const struct worker_args *a)
{
    struct shm_arena_opts o;
    char name[256], err[1024];
    uint64_t t0 = util_monotonic_ns();
    int rc;

    memset(&o, 0, sizeof(o));
    snprintf(name, sizeof(name), "%s-%u", a->name, a->id);
    o.region.name = name;
    o.region.huge = config.hugepages == HUGE_ON ? SHM_HUGE_ON :
                    config.hugepages == HUGE_AUTO ? SHM_HUGE_AUTO : SHM_HUGE_OFF;
    o.region.huge_dir = config.hugetlbfs_dir[0] ? config.hugetlbfs_dir : NULL;
    o.region.shm_dir = config.shm_dir;
    o.shard_id = a->id;
    o.shard_count = a->nworkers;
    o.dbcount = (uint32_t)config.databases;
    o.create = 1;
    o.check = config.arena_check == CHECK_NEVER ? SHM_CHECK_NEVER :
              config.arena_check == CHECK_ALWAYS ? SHM_CHECK_ALWAYS : SHM_CHECK_UNCLEAN;
    rc = shm_arena_open(&o, &W.arena, err, sizeof(err));
    if (rc != EMBER_OK) {
        log_warning("cannot attach arena %s: %s", name, err);
        return rc;
    }
    if (W.arena->hdr->dbcount != (uint32_t)config.databases)
        log_warning("arena %s has %u databases (created so); --databases %lld is ignored "
                    "for it", name, W.arena->hdr->dbcount, config.databases);
    if (W.arena->attach & SHM_ATTACH_CREATED)
        log_notice("created arena %s (%s)", W.arena->reg.path,
                   W.arena->reg.huge ? "hugetlbfs" : "shm");
    else if (W.arena->attach & SHM_ATTACH_UNCLEAN)
        log_notice("attached arena %s after an unclean exit: %s%s, no reload, %.3f s",
                   W.arena->reg.path,
                   W.arena->attach & SHM_ATTACH_ROLLED_BACK ?
                   "interrupted command rolled back" : "nothing to roll back",
                   W.arena->attach & SHM_ATTACH_CHECKED ? ", consistency check passed" : "",
                   (double)(util_monotonic_ns() - t0) / 1e9);
    else
        log_notice("attached arena %s (%s exit), no reload", W.arena->reg.path,
                   W.arena->attach & SHM_ATTACH_HANDED_OFF ? "handed off" : "clean");
    if (W.arena->reg.note[0])
        log_notice("arena %s: %s; using %s instead", name, W.arena->reg.note, config.shm_dir);
    atomic_store(&W.shared->w[a->id].arena_state, (int)W.arena->attach);
    return EMBER_OK;
}

/* Every peer stopping (or down), nothing in flight, every client flushed. */
static int ready_to_stop(void)
{
    unsigned p;
    struct client *c;

    if (util_mstime() - stop_started_ms > STOP_GRACE_MS)
        return 1;
    for (p = 0; p < W.nworkers; p++) {
        int s = atomic_load(&W.shared->w[p].state);
        if (p != W.id && (s == WS_RUNNING || s == WS_STARTING))
            return 0;
    }
    if (cross_busy())
        return 0;
    for (c = W.clients; c; c = c->next)
        if (c->pend_head || (c->out.len > c->out_sent && !(c->flags & CLIENT_CLOSE_ASAP)))
            return 0;
    return 1;
}

static void begin_stop(void)
{
    struct client *c;
    int i;

    stop_started_ms = util_mstime();
    atomic_store(&W.shared->w[W.id].state, WS_STOPPING);
    for (i = 0; i < W.nlisten; i++)
        event_del(W.listen_ev[i]);
    /* Commands already read still run; no more are read. */
    for (c = W.clients; c; c = c->next)
        event_del(c->ev);
}

int worker_main(const struct worker_args *a)
{
    char role[16];
    struct event *sig_term, *sig_int;
    int i, rc = WORKER_EXIT_OK;

    memset(&W, 0, sizeof(W));
    W.id = a->id;
    W.nworkers = a->nworkers;
    W.shared = a->shared;
    W.wake_fds = a->wake_fds;
    W.active_expire = 1;
    W.start_ms = util_mstime();
    W.rnd = (uint64_t)util_ustime() ^ ((uint64_t)getpid() << 32);
    util_clock_tick();
    W.cshared = a->cshared;
    /* Start from the settings in force now (CONFIG SET included). */
    config_shared_attach(W.cshared);
    worker_apply_settings();
    snprintf(role, sizeof(role), "W%u", a->id);
    log_set_role(role);
    log_set_level((enum log_level)config.loglevel);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);

    /* Before any client connection exists (see worker_slot.alive); a
     * predecessor that died holding it left it owner-dead. */
    rc = pthread_mutex_lock(&W.shared->w[W.id].alive);
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&W.shared->w[W.id].alive);
    if (rc != 0) {
        log_warning("cannot take the worker's liveness lock: %s", strerror(rc));
        return WORKER_EXIT_ERROR;
    }
    rc = WORKER_EXIT_OK;
    atomic_store(&W.shared->w[W.id].state, WS_STARTING);
    atomic_store(&W.shared->w[W.id].started_ms, W.start_ms);
    switch (attach_arena(a)) {
    case EMBER_OK:
        break;
    case EMBER_EVERSION: case EMBER_ESHARD: case EMBER_EACCES: case EMBER_ENOHUGE:
    case EMBER_EMAGIC:
        return WORKER_EXIT_FATAL;
    default:
        return WORKER_EXIT_ERROR;
    }
    if (a->nworkers > 1) {
        rc = ringset_attach(a->ring_mem, a->ring_size, a->nworkers, a->ring_bytes, &W.rings);
        if (rc != EMBER_OK) {
            log_warning("cannot attach the ring set: %s", ember_strerror(rc));
            shm_arena_close(&W.arena);
            return WORKER_EXIT_FATAL;
        }
    }
    W.base = event_base_new();
    if (W.base == NULL || cross_init() != 0 || qlist_codec_init() != 0) {
        log_warning("cannot set up the event loop, the rings or the list codec");
        shm_arena_close(&W.arena);
        return WORKER_EXIT_ERROR;
    }
    W.nlisten = a->nlisten;
    W.listen_fds = (int *)a->listen_fds;
    W.listen_ev = calloc((size_t)a->nlisten + 1, sizeof(*W.listen_ev));
    for (i = 0; i < a->nlisten; i++) {
        W.listen_ev[i] = event_new(W.base, a->listen_fds[i], EV_READ | EV_PERSIST,
                                   client_on_accept, NULL);
        if (W.listen_ev[i] == NULL || event_add(W.listen_ev[i], NULL) != 0) {
            log_warning("cannot watch listening socket %d", a->listen_fds[i]);
            shm_arena_close(&W.arena);
            return WORKER_EXIT_ERROR;
        }
    }
    W.wake_ev = event_new(W.base, a->wake_fds[a->id], EV_READ | EV_PERSIST, on_wake, NULL);
    sig_term = evsignal_new(W.base, SIGTERM, on_signal, NULL);
    sig_int = evsignal_new(W.base, SIGINT, on_signal, NULL);
    if (W.wake_ev == NULL || event_add(W.wake_ev, NULL) != 0 || sig_term == NULL ||
        sig_int == NULL || event_add(sig_term, NULL) != 0 || event_add(sig_int, NULL) != 0 ||
        setup_cron() != 0) {
        log_warning("cannot set up worker events");
        shm_arena_close(&W.arena);
        return WORKER_EXIT_ERROR;
    }
    publish_stats();
    atomic_store(&W.shared->w[W.id].state, WS_RUNNING);
    log_notice("worker %u of %u ready: shard of %llu keys, pid %d", W.id, W.nworkers,
               (unsigned long long)atomic_load(&W.shared->w[W.id].keys), (int)getpid());

    for (;;) {
        unsigned polled;
        int block;

        /* Settings another worker changed (CONFIG SET). */
        if (config_shared_sync(W.cshared))
            worker_apply_settings();
        W.now_ms = util_mstime();
        if (W.nworkers > 1)
            cross_check_peers();
        polled = cross_poll();
        block_serve_ready();
        clients_flush();
        cross_flush();
        if (ks_gc_pending(W.arena))
            ks_gc_step(W.arena, GC_BUDGET);
        if (W.stopping) {
            if (stop_started_ms == 0)
                begin_stop();
            if (ready_to_stop())
                break;
        }
        block = polled == 0 && W.to_write == NULL && !ks_gc_pending(W.arena) &&
                (W.nworkers == 1 || ringset_prepare_sleep(W.rings, W.id));
        if (W.stopping && block) {
            /* Wake up now and then to re-check the peers' progress. */
            struct timeval tv = { 0, 20000 };
            event_base_loopexit(W.base, &tv);
        }
        event_base_loop(W.base, block ? EVLOOP_ONCE : EVLOOP_NONBLOCK);
        if (W.nworkers > 1)
            ringset_awake(W.rings, W.id);
    }

    atomic_store(&W.shared->w[W.id].state, WS_DONE);
    clients_free_all();
    publish_stats();
    log_notice("worker %u stopped; arena detached cleanly with %llu keys", W.id,
               (unsigned long long)atomic_load(&W.shared->w[W.id].keys));
    shm_arena_close(&W.arena);
    return WORKER_EXIT_OK;
}
