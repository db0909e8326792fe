/*
 * t_server.c - server commands: DBSIZE FLUSHDB FLUSHALL TIME INFO CONFIG
 * FUNCTION DEBUG LASTSAVE.
 */
#include "server.h"
#include "commands.h"
#include "cross.h"
#include "util.h"

#define TODO(name) \
    void name(struct cmd_ctx *x) { reply_error(x, "ERR not implemented yet"); }
TODO(dbsizeCommand)
TODO(flushdbCommand)
TODO(flushallCommand)
TODO(timeCommand)
TODO(infoCommand)
TODO(configCommand)
TODO(functionCommand)
TODO(debugCommand)
TODO(lastsaveCommand)
TODO(idbsizeCommand)
TODO(iflushdbCommand)
TODO(ishardinfoCommand)
TODO(idebugCommand)
