/*
 * server.h - the worker: one process, one shard, one event loop.
 *
 * A worker owns its shard's arena (nobody else writes it), accepts clients
 * on its own SO_REUSEPORT listener, parses their commands in place, runs
 * those whose keys it owns and forwards the others over the rings to their
 * owners (cross.c), keeping every client's replies in order.
 *
 * This header is what command implementations (t_*.c) see: the worker's
 * state, the client, and the context a command runs in.  A command runs
 * either for a local client or, on the owner, for a request another worker
 * forwarded; both look the same to it: arguments in, a reply appended to
 * x->out in the requester's protocol.
 */
#ifndef WORKER_SERVER_H
#define WORKER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/arena.h"
#include "shm/ks.h"
#include "worker/resp.h"

#define EMBER_VERSION "7.0.15"          /* the Redis version we behave as */
#define EMBER_RELEASE "0.1.0"           /* ember's own */
#define MAX_WORKERS 128
#define SCAN_SHARD_SHIFT 56             /* SCAN cursors carry their shard here */

struct event_base;
struct event;
struct ringset;
struct config_shared;
struct cmd;
struct client;
struct pending;

/* ---- state shared by all workers (a MAP_SHARED page from the supervisor) ---- */

enum worker_state { WS_DOWN = 0, WS_STARTING, WS_RUNNING, WS_STOPPING, WS_DONE };

struct worker_slot {
    atomic_int pid;
    atomic_int state;                  /* enum worker_state */
    atomic_uint_fast64_t generation;   /* bumped by the supervisor per fork */
    atomic_int_fast64_t started_ms;
    atomic_int_fast64_t clients;       /* connected clients (maxclients adds them up;
                                          reset by the supervisor at each fork) */
    atomic_uint_fast64_t commands;     /* commands processed */
    atomic_uint_fast64_t keys;         /* keys in all databases */
    atomic_uint_fast64_t used_bytes;   /* arena used bytes */
    atomic_uint_fast64_t arena_bytes;  /* arena region size */
    atomic_int arena_state;            /* what attach found: SHM_ATTACH_* */
    /* Held by the live worker for its whole life.  Robust: the kernel
     * marks it owner-dead as the process dies, before its sockets close,
     * so a peer that finds it free knows the worker is gone before any of
     * its clients can (cross.c: requests of a dead worker are dropped). */
    pthread_mutex_t alive;
    char pad[64];
};

struct shared_page {
    atomic_uint_fast64_t next_client_id;
    atomic_int_fast64_t started_ms;     /* supervisor start */
    uint64_t ring_epoch;                /* identifies this run's ring set */
    atomic_int shutdown_by;             /* 1 + id of a worker that ran SHUTDOWN, for
                                           the supervisor's log; 0: none */
    struct worker_slot w[MAX_WORKERS];
};

/* ---- the worker --------------------------------------------------------------- */

struct stats {
    uint64_t commands;
    uint64_t connections;          /* accepted */
    uint64_t rejected;             /* refused at maxclients */
    uint64_t expired;              /* keys expired, lazily or actively */
    uint64_t hits, misses;         /* keyspace lookups by reading commands */
    uint64_t net_in, net_out;      /* bytes */
    uint64_t forwarded;            /* commands sent to other shards */
    uint64_t served_remote;        /* commands run for other shards */
    uint64_t error_replies;        /* error replies, INFO's total_error_replies */
    uint64_t ops_sec_samples[16];  /* ring of commands-per-second samples */
    uint64_t ops_last_cmds;
    int64_t ops_last_ms;
    int ops_idx;
};

struct worker {
    unsigned id;                   /* shard id, 0..n-1 */
    unsigned nworkers;
    struct shm_arena *arena;
    struct ringset *rings;
    struct shared_page *shared;
    struct config_shared *cshared; /* mutable settings of every worker (config.h) */
    struct event_base *base;
    int *listen_fds;
    int nlisten;
    struct event **listen_ev;
    int *wake_fds;                 /* every worker's eventfd, by id */
    struct event *wake_ev;
    struct event *cron_ev;
    struct client *clients;        /* all local clients */
    unsigned nclients;
    struct client *to_write;       /* clients with output to flush this turn */
    int64_t start_ms;
    int64_t now_ms;                /* time of the current command */
    uint64_t cmd_clock;            /* when a run of commands, one after another, has
                                      got to (cmd_run), or 0: read the clock */
    int stopping;                  /* SIGTERM seen */
    int active_expire;             /* DEBUG SET-ACTIVE-EXPIRE */
    uint64_t dirty;                /* keyspace changes since start (Redis's server.dirty:
                                      nothing is saved yet); CONFIG RESETSTAT keeps it */
    struct stats st;
    uint64_t rnd;                  /* xorshift state */
};

extern struct worker W;

/* ---- clients ------------------------------------------------------------------ */

#define CLIENT_CLOSE_AFTER_REPLY 1u   /* QUIT, protocol errors */
#define CLIENT_CLOSE_ASAP        2u   /* killed, write error */
#define CLIENT_QUEUED_WRITE      4u   /* on W.to_write */
#define CLIENT_WRITE_EVENT       8u   /* waiting for the socket to drain */
#define CLIENT_IN_LOOP          16u   /* inside its read handler */
#define CLIENT_BLOCKED          32u   /* a blocking command waits: no more input */
#define CLIENT_PAUSED           64u   /* a multi-phase command runs: no more input */
#define CLIENT_SPLICE          128u   /* on cross.c's list of replies to splice */

struct client {
    uint64_t id;
    int fd;
    unsigned flags;
    struct event *ev;              /* EV_READ | EV_PERSIST */
    struct event *wev;             /* EV_WRITE, armed when the socket is full */
    char *ibuf;                    /* unconsumed input: ibuf[ipos..ilen) */
    size_t ipos, ilen, icap;
    struct resp_parser parser;
    struct rbuf out;               /* replies not yet written */
    size_t out_sent;               /* of which already written */
    uint64_t out_consumed;         /* bytes dropped from out's front, ever */
    uint64_t out_spliced;          /* bytes cross.c spliced into out, ever */
    int proto;                     /* 2 or 3 */
    unsigned db;
    char *name;
    int64_t ctime_ms, last_ms;     /* created, last command */
    char addr[64], laddr[64];
    const struct cmd *last_cmd;    /* for CLIENT LIST */
    const char *last_sub;          /* its subcommand (static), or NULL */
    struct pending *pend_head;     /* replies owed by other shards, in order */
    struct pending *pend_tail;
    unsigned npend;
    struct client *next, *prev;    /* W.clients */
    struct client *wnext;          /* W.to_write */
    struct client *snext;          /* cross.c's splice list */
};

/* ---- commands ------------------------------------------------------------------ */

/*
 * The context of one command run.  `c` is the local client, or NULL when
 * the command was forwarded by another worker (then db and proto come from
 * the request).  A command never writes to anything but x->out and the
 * arena; a write command runs inside one arena mutation that the dispatcher
 * begins and commits (or aborts when x->failed is set).
 */
struct cmd_ctx {
    struct client *c;
    const struct cmd *cmd;
    int argc;
    const struct resp_arg *argv;
    unsigned db;
    struct resp_out out;
    int failed;                    /* an arena error: abort the mutation */
    int dirty;                     /* the command changed the keyspace */
    int ring_peer;                 /* forwarded by this worker, or -1 */
    uint64_t ring_pos;             /* end of the request in its ring */
    uint64_t ring_id;              /* the request's id (blocking.c) */
    int deferred;                  /* blocked: the reply comes later (blocking.h) */
    int retry;                     /* a blocked command re-run: never block again */
    int part;                      /* a piece of a multi-shard command: its calls
                                      were counted where the client sent it */
    const char *ready_key;         /* on retry: the key that may have data */
    size_t ready_klen;
    const char *hint_key;          /* a key whose hash was computed ahead... */
    uint64_t hint_hash;            /* ...(client.c prefetches pipelined lookups) */
};

#define ARG_EQ(x, i, lit) util_strcaseeq((x)->argv[i].ptr, (x)->argv[i].len, (lit))

/* Replies (thin wrappers over resp.h on x->out). */
static inline void reply_ok(struct cmd_ctx *x) { resp_add_simple_len(&x->out, "OK", 2); }
void reply_error(struct cmd_ctx *x, const char *msg);
void reply_errorf(struct cmd_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_arity(struct cmd_ctx *x);
void reply_syntax(struct cmd_ctx *x);
void reply_wrongtype(struct cmd_ctx *x);
void reply_not_integer(struct cmd_ctx *x);
void reply_oom(struct cmd_ctx *x, int status);
void reply_unknown_subcommand(struct cmd_ctx *x, const char *cmd);

/* Parses argv[i] as an integer, replying the error itself on failure
 * ("value is not an integer or out of range"); returns 0 or -1. */
int arg_ll(struct cmd_ctx *x, int i, long long *v);
/* A container command's known subcommand with the wrong argument count gets
 * Redis's "wrong number of arguments for 'client|setname' command" (the
 * arities are COMMAND INFO's, cmd_info.c).  0, or -1 after replying. */
int check_sub_arity(struct cmd_ctx *x, const char *container);

/* Parses argv[i] as a SCAN cursor, as Redis does ("ERR invalid cursor"). */
int arg_cursor(struct cmd_ctx *x, int i, uint64_t *cursor);

/* Command flags. */
#define CMD_WRITE     1u      /* runs in an arena mutation */
#define CMD_READONLY  2u
#define CMD_DENYOOM   4u      /* refused when maxmemory is reached */
#define CMD_FAST      8u
#define CMD_LOADING  16u
#define CMD_STALE    32u
#define CMD_NOSCRIPT 64u
#define CMD_INTERNAL 128u     /* only from another worker */
#define CMD_ADMIN    256u
#define CMD_PUBSUB   512u
#define CMD_BLOCKING 1024u
#define CMD_CONN     2048u    /* needs the local client (c != NULL) */
#define CMD_NOKEYROUTE 4096u  /* handles cross-shard routing itself */

typedef void cmd_proc(struct cmd_ctx *x);

struct cmd {
    const char *name;
    cmd_proc *proc;
    int arity;                     /* Redis: > 0 exact, < 0 at least -arity */
    unsigned flags;
    int first_key, last_key, step; /* key positions, Redis style; 0: keyless */
    const char *group;             /* COMMAND DOCS group */
    const char *summary;
    const char *since;
    const char *complexity;
    const char *tips;              /* Redis's command tips, or NULL */
    uint64_t calls;                /* process-local stats: runs, */
    uint64_t ns;                   /* time spent in them, */
    uint64_t rejected_calls;       /* refused before running (arity, CROSSSLOT, OOM), */
    uint64_t failed_calls;         /* ran and replied an error */
};

const struct cmd *cmd_lookup(const char *name, size_t len);

/* Calls fn for every public command that has run or been rejected (INFO
 * commandstats). */
void cmd_each_stat(void (*fn)(const struct cmd *c, void *ctx), void *ctx);

/* Calls fn for every error prefix replied since the last reset ("ERR",
 * "WRONGTYPE"...) with its count (INFO errorstats). */
void cmd_each_error(void (*fn)(const char *prefix, uint64_t count, void *ctx), void *ctx);

/* Zeroes the command and error statistics of this worker (CONFIG
 * RESETSTAT; the caller resets W.st). */
void cmd_reset_stats(void);

/* Runs a command for a client or a forwarded request; the routing has
 * already decided that this shard owns its keys. */
void cmd_run(struct cmd_ctx *x);

/* Entry point for a parsed client command: routes, runs or forwards. */
void cmd_dispatch(struct client *c, int argc, const struct resp_arg *argv);

/* The same for a command whose lookup and key were worked out ahead (a
 * pipelined batch): `key` is its only key (NULL: none known), `shard` its
 * owner, `hash` its hash when this shard owns it. */
struct cmd_hint {
    const char *key;
    unsigned shard;
    uint64_t hash;
};
void cmd_dispatch_hint(struct client *c, int argc, const struct resp_arg *argv,
                       const struct cmd *cmd, const struct cmd_hint *h);

/* ---- the shard's keyspace (db.c) ------------------------------------------------- */

/* Which shard owns a key (CRC16 slot with Redis's hash tags). */
unsigned key_shard(const char *key, size_t len);

/*
 * Prefetching a batch of lookups (pipelined or forwarded commands): first
 * every key's bucket, then, once those have arrived, the entries their
 * tags point to.  The lookups then overlap their cache misses instead of
 * paying them one after the other.  Hints only: nothing is read.
 */
void db_prefetch_bucket(unsigned db, uint64_t hash);
void db_prefetch_entry(unsigned db, uint64_t hash);
unsigned key_slot(const char *key, size_t len);

/*
 * Looks a key up for reading or writing: an expired key is deleted (and
 * counted) and reported absent.  Returns the entry offset or 0; fills e and
 * the slot position (valid until the keyspace next changes).
 */
/* A looked-up key is a keyspace reference (shm/ks.h): hash, slot, entry,
 * db and key bytes, as the collection types want it. */
#define db_key ks_ref
uint64_t db_lookup_read(struct cmd_ctx *x, const char *key, size_t len, struct db_key *k);
uint64_t db_lookup_write(struct cmd_ctx *x, const char *key, size_t len, struct db_key *k);

/* Deletes a looked-up key; counts it in dirty.  0 or an EMBER_E* status. */
int db_delete(struct cmd_ctx *x, struct db_key *k, uint64_t off);

/* Is an entry expired at x's time? */
int db_expired(const struct ks_entry *e);

/* The arena status of a failed mutation step, as the client sees it. */
int db_fail(struct cmd_ctx *x, int status);

/* Does the shard have room for a command that may grow memory? */
int db_over_maxmemory(void);

/* Active expiry: up to budget_us of work.  Returns keys expired. */
uint64_t db_active_expire(uint64_t budget_us);

/* Stores key = val as a string in x's database, replacing any value of
 * any type; expire is absolute ms, -1 for none, -2 to keep the key's
 * current one.  0, or an arena status after db_fail(). */
int string_store(struct cmd_ctx *x, const char *key, size_t klen, const char *val,
                 size_t vlen, long long expire);

/* Random number (xorshift). */
uint64_t worker_rand(void);

/* Applies the settings in `config` to this running worker: compact-encoding
 * limits, log level, cron period (hz), connected clients' parser limits.
 * Call after the settings changed (CONFIG SET, config_shared_sync). */
void worker_apply_settings(void);

/* Keys and expiring keys of database db (this shard). */
uint64_t db_size(unsigned db);

#endif /* WORKER_SERVER_H */
