/*
 * cmd_docs.h - COMMAND DOCS: every command's documentation as Redis 7.0
 * gives it (summary, arguments, subcommands), for redis-cli's help and
 * hints.  See cmd_docs.c for the table and its syntax.
 */
#ifndef WORKER_CMD_DOCS_H
#define WORKER_CMD_DOCS_H

#include "worker/resp.h"

struct cmd;

/*
 * Appends c's COMMAND DOCS entry to out: its name, then the map of its
 * documentation (summary, since, group, complexity, deprecation, arguments
 * and, for a container, its subcommands' own entries).  c is a public
 * command of the table in commands.h.  Never fails: a command without an
 * entry in cmd_docs.c gets its summary from commands.h and no arguments.
 */
void cmd_docs_reply(struct resp_out *out, const struct cmd *c);

#endif /* WORKER_CMD_DOCS_H */
