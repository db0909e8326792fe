/*
 * t_set.c - set commands.
 */
#include "server.h"
#include "commands.h"

#define TODO(name) \
    void name(struct cmd_ctx *x) { reply_error(x, "ERR not implemented yet"); }
TODO(saddCommand) TODO(sremCommand) TODO(smembersCommand) TODO(sismemberCommand)
TODO(smismemberCommand) TODO(scardCommand) TODO(spopCommand) TODO(srandmemberCommand)
TODO(smoveCommand) TODO(sinterCommand) TODO(sintercardCommand) TODO(sinterstoreCommand)
TODO(sunionCommand) TODO(sunionstoreCommand) TODO(sdiffCommand) TODO(sdiffstoreCommand)
TODO(sscanCommand) TODO(isstoreCommand)
