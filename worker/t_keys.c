/*
 * t_keys.c - commands on keys of any type (Redis's "generic" group).
 */
#include "server.h"
#include "commands.h"
#include "cross.h"
#include "util.h"

#define TODO(name) \
    void name(struct cmd_ctx *x) { reply_error(x, "ERR not implemented yet"); }
TODO(delCommand)
TODO(unlinkCommand)
TODO(existsCommand)
TODO(touchCommand)
TODO(typeCommand)
TODO(expireCommand)
TODO(pexpireCommand)
TODO(expireatCommand)
TODO(pexpireatCommand)
TODO(ttlCommand)
TODO(pttlCommand)
TODO(expiretimeCommand)
TODO(pexpiretimeCommand)
TODO(persistCommand)
TODO(keysCommand)
TODO(scanCommand)
TODO(randomkeyCommand)
TODO(renameCommand)
TODO(renamenxCommand)
TODO(ikeysCommand)
TODO(iscanCommand)
TODO(irandomkeyCommand)
TODO(itakeCommand)
TODO(iputCommand)
