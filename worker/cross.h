/*
 * cross.h - commands that cross shards, over the shared-memory rings.
 *
 * A command whose keys another shard owns is forwarded to it: the request
 * (db, protocol, arguments) goes over the ring from this worker to the
 * owner, which runs it and sends back the reply already encoded for the
 * client's protocol.  Multi-key commands split by owner and gather: each
 * owner runs its part, and a merge function assembles the client's reply
 * from the parts (MGET in key order, DEL as a sum...).  Commands about the
 * whole keyspace (DBSIZE, KEYS, FLUSHALL, INFO keyspace...) fan out to
 * every shard the same way.
 *
 * Every such reply is a `pending`: a place in the client's output buffer
 * that later bytes queue behind, so replies leave in command order however
 * the shards answer.  A ring carries requests and replies first in first
 * out, so a worker matches a peer's replies to its requests with a queue
 * per peer, no lookup table.
 *
 * Exactly once: the owner stores, in the same arena mutation as a forwarded
 * write, how far into the requester's ring it has applied; a successor
 * resumes after that point.  When an owner dies, the requester closes the
 * clients that were waiting on it: they see a dropped connection, nothing
 * else, as with any server crash; and the successor drops the requests
 * still meant for its predecessor, so none of them runs late.
 */
#ifndef WORKER_CROSS_H
#define WORKER_CROSS_H

#include "server.h"

struct pending;

/* Builds a client's reply from the parts' replies (raw RESP bytes). */
typedef void merge_fn(struct pending *p, struct resp_out *out);

struct pending_part {
    struct rbuf reply;           /* the part's reply bytes once arrived */
    int done;
};

struct pending {
    struct pending *next;        /* client's list, in output order */
    struct client *c;            /* NULL once the client is gone */
    uint64_t pos;                /* where the reply goes: virtual offset (cross.c) */
    unsigned nparts, left;
    merge_fn *merge;             /* NULL: the one part's reply as is */
    struct pending_part *parts;
    struct pending_part part1;   /* storage when nparts == 1 */
    long long arg[4];            /* merge context (small) */
    void *ctx;                   /* merge context (allocated, freed with it) */
    int proto;
    int ready;                   /* complete: part1.reply holds the reply */
    int issuing;                 /* parts are still being sent */
    int rearmed;                 /* the merge started another phase */
    int blocking;                /* a blocking command: the client waits on it */
    int pauses;                  /* the client reads nothing until it completes */
    int finish;                  /* run the merges even if the client goes away */
    int rearm_failed;            /* part1.reply holds the error to reply */
    int parked_peer;             /* >= 0: its request is blocked at that peer */
    uint64_t parked_id;
    size_t at;                   /* splice_ready(): where it goes in c->out */
};

/* Sets up the rings for this worker (after a restart: resume, skip what the
 * arena says was applied, wake every peer once).  0 or -1. */
int cross_init(void);

/* Sends a request on behalf of a client: the whole command to one owner. */
void cross_forward(struct cmd_ctx *x, unsigned owner);

/* A multi-part reply for client c with nparts parts and a merge function. */
struct pending *cross_pending(struct client *c, int proto, unsigned nparts, merge_fn *merge);

/* Issues part i as a request to `owner` (argv as given, db from the pending's
 * client); or fills part i with a reply computed locally. */
void cross_send_part(struct pending *p, unsigned i, unsigned owner, unsigned db,
                     int argc, const struct resp_arg *argv);
void cross_local_part(struct pending *p, unsigned i, const char *bytes, size_t len);

/* Runs argv locally as part i (the command must be one this shard can run). */
void cross_run_local_part(struct pending *p, unsigned i, unsigned db, int argc,
                          const struct resp_arg *argv);

/* Declares all parts issued: completes now if none is remote. */
void cross_pending_issued(struct pending *p);

/*
 * From a merge function: start another phase instead of completing (a
 * command that needs one shard's answer before asking another, like
 * MSETNX or a cross-shard LMOVE).  The pending keeps its place in the
 * output; its parts are replaced by nparts new ones to be sent with
 * cross_send_part(), and `merge` runs when they are all in.  Do not call
 * cross_pending_issued() from the merge: completion handles it.
 */
void cross_rearm(struct pending *p, unsigned nparts, merge_fn *merge);

/*
 * For a command that runs in phases (its merge calls cross_rearm): the
 * client reads no further command until the reply is in, so nothing it sent
 * later can overtake a later phase; and the phases run to the end even if
 * the client disconnects (a command Redis received whole, it applies).
 */
void cross_pause_client(struct pending *p);

/* Owner side of a blocked request (blocking.c): its real reply, later. */
void cross_send_late(unsigned peer, uint64_t id, const char *bytes, size_t len);

/* Sends argv (db) to every shard, this one included, as one pending. */
struct pending *cross_broadcast(struct client *c, int proto, unsigned db, merge_fn *merge,
                                int argc, const struct resp_arg *argv);

/* The client is going away: its pending replies are dropped on arrival. */
void cross_client_gone(struct client *c);

/* How far a client's output may be written: up to its first pending. */
size_t cross_write_limit(const struct client *c);

/* Loop hooks: run requests and deliver replies from the rings; publish
 * what this turn queued and wake peers.  Returns records processed. */
unsigned cross_poll(void);
void cross_flush(void);

/* True while requests or replies are still in flight (shutdown waits). */
int cross_busy(void);

/* A peer was restarted: fail what was waiting on its predecessor. */
void cross_check_peers(void);

/* A command's arguments copied into one malloc'd block (free() it), for
 * phases that need them after the command returned: p->ctx, typically. */
struct argv_copy {
    unsigned db;
    int argc;
    struct resp_arg argv[];   /* then the bytes */
};
struct argv_copy *cross_argv_copy(const struct cmd_ctx *x);

/* Merge helpers for common shapes. */
merge_fn merge_sum_ints;        /* :n parts -> :sum */
merge_fn merge_first_error_or_ok; /* +OK unless a part failed */
merge_fn merge_concat_arrays;   /* arrays -> one array */

/* Skips one RESP value at p (len bytes); returns its size or 0 if bad. */
size_t resp_value_size(const char *p, size_t len);

#endif /* WORKER_CROSS_H */
