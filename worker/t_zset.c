/*
 * t_zset.c - sorted set commands.
 */
#include "server.h"
#include "commands.h"

#define TODO(name) \
    void name(struct cmd_ctx *x) { reply_error(x, "ERR not implemented yet"); }
TODO(zaddCommand) TODO(zremCommand) TODO(zcardCommand) TODO(zscoreCommand)
TODO(zmscoreCommand) TODO(zincrbyCommand) TODO(zrankCommand) TODO(zrevrankCommand)
TODO(zcountCommand) TODO(zlexcountCommand) TODO(zrangeCommand) TODO(zrangebyscoreCommand)
TODO(zrevrangebyscoreCommand) TODO(zrangebylexCommand) TODO(zrevrangebylexCommand)
TODO(zrevrangeCommand) TODO(zpopminCommand) TODO(zpopmaxCommand) TODO(zrangestoreCommand)
TODO(zremrangebyrankCommand) TODO(zremrangebyscoreCommand) TODO(zremrangebylexCommand)
TODO(zscanCommand) TODO(zrandmemberCommand) TODO(izstoreCommand)
