/*
 * worker.h - how the supervisor starts a worker.
 *
 * The supervisor forks, then calls worker_main() in the child with
 * everything the worker inherits: its shard id, its listening sockets,
 * every worker's wake-up eventfd, the ring set region, the shared page and
 * the shared settings page.  worker_main() never returns to the
 * supervisor's code: its result is the child's exit status.
 */
#ifndef WORKER_WORKER_H
#define WORKER_WORKER_H

#include <stddef.h>

#include "server.h"
#include "config.h"

struct worker_args {
    unsigned id;
    unsigned nworkers;
    const int *listen_fds;
    int nlisten;
    int *wake_fds;                    /* nworkers eventfds */
    void *ring_mem;                   /* NULL with one worker */
    size_t ring_size;
    size_t ring_bytes;
    struct shared_page *shared;
    struct config_shared *cshared;
    const char *name;                 /* instance name; arenas are <name>-<id> */
};

/* Exit statuses the supervisor understands. */
#define WORKER_EXIT_OK        0
#define WORKER_EXIT_ERROR     1       /* failed: retry with backoff */
#define WORKER_EXIT_FATAL     78      /* (EX_CONFIG) will never work: stop */

int worker_main(const struct worker_args *a);

#endif /* WORKER_WORKER_H */
