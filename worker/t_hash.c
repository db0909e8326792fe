/*
 * t_hash.c - hash commands.
 */
#include "server.h"
#include "commands.h"

#define TODO(name) \
    void name(struct cmd_ctx *x) { reply_error(x, "ERR not implemented yet"); }
TODO(hsetCommand) TODO(hsetnxCommand) TODO(hgetCommand) TODO(hmgetCommand)
TODO(hmsetCommand) TODO(hdelCommand) TODO(hexistsCommand) TODO(hlenCommand)
TODO(hstrlenCommand) TODO(hincrbyCommand) TODO(hincrbyfloatCommand) TODO(hkeysCommand)
TODO(hvalsCommand) TODO(hgetallCommand) TODO(hscanCommand) TODO(hrandfieldCommand)
