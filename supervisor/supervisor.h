/*
 * supervisor.h - the supervisor's state, shared by emberd.c and control.c.
 */
#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/region.h"
#include "worker/server.h"

#define SUP_MAX_LISTEN 16

struct sup_listen {
    int fds[SUP_MAX_LISTEN];        /* this worker's listeners, one per address */
    int n;
};

struct sup_worker {
    pid_t pid;                      /* 0 while down */
    int64_t started_ms;
    int64_t restart_at_ms;
    int young_deaths;               /* consecutive deaths soon after start */
    unsigned restarts;
    struct event *timer;            /* delayed restart */
};

struct sup {
    pid_t pid;
    unsigned nworkers;
    char name[SHM_NAME_MAX + 1];    /* instance name: arenas are <name>-<shard> */
    struct sup_listen *listen;
    int *wake_fds;
    struct shm_region rings;
    size_t ring_bytes;
    struct shared_page *shared;
    struct config_shared *cshared;
    struct sup_worker *workers;
    struct event_base *base;
    int control_fd;
    struct event *control_ev;
    char control_path[PATH_MAX];
    int stopping;
    int exit_code;
    struct event *stop_ev;
};

extern struct sup S;

/* Stops every worker and then the supervisor, exiting with `code`. */
void sup_shutdown(int code);

/* The control socket: refuse to start if another emberd answers on it;
 * open it (mode 0600); close and remove it. */
int sup_control_check_running(void);
int sup_control_open(void);
void sup_control_close(void);
/* In a freshly forked worker (after event_reinit): drops the socket and
 * every open control connection, leaving the supervisor's untouched. */
void sup_control_close_in_child(void);

#endif /* SUPERVISOR_H */
