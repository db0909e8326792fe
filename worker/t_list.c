/*
 * t_list.c - list commands.
 */
#include "server.h"
#include "commands.h"

#define TODO(name) \
    void name(struct cmd_ctx *x) { reply_error(x, "ERR not implemented yet"); }
TODO(lpushCommand) TODO(rpushCommand) TODO(lpushxCommand) TODO(rpushxCommand)
TODO(lpopCommand) TODO(rpopCommand) TODO(llenCommand) TODO(lrangeCommand)
TODO(lindexCommand) TODO(lsetCommand) TODO(linsertCommand) TODO(lremCommand)
TODO(ltrimCommand) TODO(lposCommand) TODO(lmoveCommand) TODO(rpoplpushCommand)
TODO(blpopCommand) TODO(brpopCommand) TODO(blmoveCommand) TODO(brpoplpushCommand)
