/*
 * client.h - client connections of a worker.
 *
 * A read parses every complete command in the input buffer in place and
 * runs (or forwards) each in order; replies accumulate in the client's
 * output buffer, which is written once per loop turn (clients_flush) and,
 * when the socket is full, again as it drains.  Replies owed by other
 * shards hold their place in the output (cross.c), so the bytes written
 * are always a prefix of the replies in command order.
 *
 * Clients are never freed inside their own handlers or commands: closing
 * marks them CLIENT_CLOSE_ASAP and the loop frees them at a safe point.
 */
#ifndef WORKER_CLIENT_H
#define WORKER_CLIENT_H

#include "server.h"

/* Accept callback for a listening socket (arg unused). */
void client_on_accept(int fd, short what, void *arg);

/* Clients connected to every worker (maxclients, INFO connected_clients). */
int64_t clients_total(void);

/* Marks the client for writing at the end of this loop turn. */
void client_queue_write(struct client *c);

/* Writes every queued client's output once; frees closed clients. */
void clients_flush(void);

/* Closes after the pending output is written (QUIT, protocol errors). */
void client_close_after_reply(struct client *c);

/* Closes at the next safe point, dropping output. */
void client_close_asap(struct client *c);

/* Runs commands waiting in the client's input (after it was paused). */
void client_process_input(struct client *c);

/* Idle timeouts; called from the cron. */
void clients_cron(void);

/* Frees every client (shutdown). */
void clients_free_all(void);

/* Formats one CLIENT LIST line (no newline); returns its length. */
int client_info_line(const struct client *c, char *buf, size_t len);

/* Finds a local client by id, or NULL. */
struct client *client_by_id(uint64_t id);

/* Pending replies a client may owe before it stops reading commands. */
#define CLIENT_MAX_PENDING 4096

#endif /* WORKER_CLIENT_H */
