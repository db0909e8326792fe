/*
 * blocking.h - commands that wait for a key (BLPOP, BRPOP, BLMOVE...).
 *
 * A blocked command waits where its keys live: on the shard that owns
 * them, whichever worker its client is connected to.  So a push that makes
 * a key non-empty, from any client on any worker, runs on the same worker
 * as the waiters, which it serves at once, first blocked first served, each
 * pop atomic with respect to every other command: Redis's semantics.
 *
 * How a command blocks: its handler finds nothing to pop and, unless this is
 * a retry (x->retry), calls block_on_keys().  That saves a copy of the
 * command and marks the context deferred: no reply now.  When a waited key
 * may have data (block_signal_key(), called by commands that add list
 * elements), the loop re-runs the saved command with x->retry set and
 * x->ready_key naming that key; the handler pops and replies, or replies
 * nothing and leaves it blocked.  On timeout the waiter gets the reply given
 * at block time (a null array, a null bulk).
 *
 * For a client on another worker, the reply travels back over the rings as
 * a late reply (cross.c); if the client goes away, its worker cancels the
 * waiter.  A blocked client reads no further commands until it is answered,
 * as in Redis.
 */
#ifndef WORKER_BLOCKING_H
#define WORKER_BLOCKING_H

#include "server.h"

/* What a waiter that times out replies. */
enum block_timeout_reply {
    BLOCK_NULL_ARRAY,       /* *-1 / _: every list command (BLMOVE too, in Redis 7.0) */
    BLOCK_NULL_BULK,        /* $-1 / _ */
};

/*
 * Blocks command x on the keys at argv positions key_idx[0..nkeys) until
 * one may have data, or for timeout_ms (0: forever).  Sets x->deferred.
 * Returns 0, or -1 after replying an error (out of memory).
 */
int block_on_keys(struct cmd_ctx *x, const int *key_idx, int nkeys, int64_t timeout_ms,
                  enum block_timeout_reply on_timeout);

/* A key in db may have gained data: serve its waiters at the end of the
 * loop turn.  Cheap when nobody waits. */
void block_signal_key(unsigned db, const char *key, size_t klen);

/* Loop hook: serves waiters of the keys signalled this turn. */
void block_serve_ready(void);

/* The client (local) went away; a peer cancelled; a peer restarted. */
void block_client_gone(struct client *c);
void block_cancel_remote(unsigned peer, uint64_t id);
void block_peer_restarted(unsigned peer);

/* Local clients now blocked, anywhere (INFO blocked_clients). */
unsigned block_local_clients(void);

/* Parses a blocking timeout in seconds (a float), Redis's errors:
 * "timeout is not a float or out of range", "timeout is negative".
 * 0 or -1 after replying. */
int block_parse_timeout(struct cmd_ctx *x, int arg, int64_t *ms);

#endif /* WORKER_BLOCKING_H */
