/*
 * cmd_info.h - COMMAND INFO, COMMAND LIST and COMMAND GETKEYS as Redis 7.0
 * gives them: every command's and subcommand's flags, ACL categories, tips
 * and key specifications, and the keys of a full command found from them.
 * See cmd_info.c for the table and its notation.
 */
#ifndef WORKER_CMD_INFO_H
#define WORKER_CMD_INFO_H

#include "worker/resp.h"

#include <stddef.h>

struct cmd;
struct resp_arg;

/*
 * Appends c's COMMAND INFO entry to out: the array of its ten fields (name,
 * arity, flags, first key, last key, key step, ACL categories, tips, key
 * specifications, subcommands), a container's subcommands each with its
 * own entry.  c is a public command of commands.h.  Never fails: a command
 * without an entry in cmd_info.c gets its arity and key positions from
 * commands.h and nothing else.
 */
void cmd_info_reply(struct resp_out *out, const struct cmd *c);

/*
 * COMMAND INFO of a subcommand named as Redis names it, "container|sub"
 * (len bytes, any case): appends its entry and returns 1; returns 0 with
 * nothing appended when name is no subcommand that ember has.
 */
int cmd_info_reply_sub(struct resp_out *out, const char *name, size_t len);

/*
 * The subcommand sub (len bytes, any case) of the container named
 * container (lower case), if ember has it: its name as the table spells it
 * (lower case, static) and its arity, counting the container, in *arity.
 * NULL when there is no such subcommand.
 */
const char *cmd_info_sub(const char *container, const char *sub, size_t len, int *arity);

/* A COMMAND LIST filter: none, or FILTERBY MODULE | ACLCAT | PATTERN. */
enum { CMD_INFO_ALL, CMD_INFO_MODULE, CMD_INFO_ACLCAT, CMD_INFO_PATTERN };

struct cmd_info_filter {
    int type;                      /* CMD_INFO_* */
    const char *arg;               /* the module, category or pattern; */
    size_t len;                    /* ...its length (not NUL-terminated) */
};

/*
 * Reads COMMAND LIST's options, the argc arguments after LIST, into f:
 * none, or FILTERBY MODULE|ACLCAT|PATTERN <arg>.  0, or -1 when they are
 * not that (Redis replies "ERR syntax error").  f points into argv.
 */
int cmd_info_filter_parse(struct cmd_info_filter *f, int argc, const struct resp_arg *argv);

/*
 * Appends the name of c, if it passes f, then those of its subcommands
 * that pass ("client|kill"), as bulk strings; returns how many.  c is a
 * public command of commands.h.
 */
long cmd_info_list(struct resp_out *out, const struct cmd *c, const struct cmd_info_filter *f);

/*
 * COMMAND GETKEYS (with_flags 0) and GETKEYSANDFLAGS (1): argv holds the
 * full command, argc >= 2 of its words.  Appends the array of its keys
 * (with_flags: each with the set of its key spec's flags) found as Redis
 * 7.0 finds them, or Redis's error: "Invalid command specified", "The
 * command has no key arguments", "Invalid number of arguments specified
 * for command", "Invalid arguments specified for command".
 */
void cmd_info_getkeys(struct resp_out *out, int argc, const struct resp_arg *argv,
                      int with_flags);

#endif /* WORKER_CMD_INFO_H */
