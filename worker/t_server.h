/*
 * t_server.h - what the server commands (t_server.c) share with INFO
 * (t_info.c).
 *
 * Both answer questions about the whole server, which every shard holds a
 * part of: they ask every shard over the rings (cross.h) and merge the
 * answers on the client's worker.
 */
#ifndef WORKER_T_SERVER_H
#define WORKER_T_SERVER_H

#include "server.h"
#include "cross.h"

/*
 * Starts a fan-out of argv to every shard: a pending reply for x's client
 * with one part per shard, this shard's part filled with `local` (a ready
 * RESP reply) when not NULL, else run here.  Returns the pending, still
 * issuing so that the caller may set its merge context, or NULL after
 * replying an error (out of memory).  Finish with cross_pending_issued().
 * argv is copied before it returns.
 */
struct pending *srv_fan_out(struct cmd_ctx *x, merge_fn *merge, const char *local,
                            int argc, const struct resp_arg *argv);

/* When the server started, in Unix seconds: LASTSAVE and INFO's
 * rdb_last_save_time (nothing is ever saved yet). */
long long srv_start_seconds(void);

#endif /* WORKER_T_SERVER_H */
