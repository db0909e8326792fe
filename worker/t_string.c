/*
 * t_string.c - string commands.
 *
 * A string is one keyspace entry: key and value in one block (shm/ks.h).
 * Commands follow Redis 7.0's t_string.c in semantics, reply types and
 * error strings.  Writes run inside the dispatcher's arena mutation: on an
 * arena error a command calls db_fail() and returns, and the dispatcher
 * undoes everything and replies the error.
 */
#include "server.h"
#include "commands.h"
#include "config.h"
#include "cross.h"
#include "util.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#define SET_NX       (1 << 0)
#define SET_XX       (1 << 1)
#define SET_EX       (1 << 2)
#define SET_PX       (1 << 3)
#define SET_KEEPTTL  (1 << 4)
#define SET_GET      (1 << 5)
#define SET_EXAT     (1 << 6)
#define SET_PXAT     (1 << 7)
#define SET_PERSIST  (1 << 8)

#define TIMED (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/*
 * Parses SET's (from argument 3) or GETEX's (from 2) options exactly as
 * Redis's parseExtendedStringArgumentsOrReply; the expiry argument's index
 * goes to *exp_arg.  Returns 0 or -1 after replying a syntax error.
 */
static int parse_string_opts(struct cmd_ctx *x, int is_set, int *flags, int *exp_arg)
{
    int j;

    for (j = is_set ? 3 : 2; j < x->argc; j++) {
        int next = j + 1 < x->argc;
        if (is_set && ARG_EQ(x, j, "nx") && !(*flags & SET_XX)) {
            *flags |= SET_NX;
        } else if (is_set && ARG_EQ(x, j, "xx") && !(*flags & SET_NX)) {
            *flags |= SET_XX;
        } else if (is_set && ARG_EQ(x, j, "get")) {
            *flags |= SET_GET;
        } else if (is_set && ARG_EQ(x, j, "keepttl") && !(*flags & (SET_PERSIST | TIMED))) {
            *flags |= SET_KEEPTTL;
        } else if (!is_set && ARG_EQ(x, j, "persist") && !(*flags & (TIMED | SET_KEEPTTL))) {
            *flags |= SET_PERSIST;
        } else if (ARG_EQ(x, j, "ex") && next &&
                   !(*flags & (SET_KEEPTTL | SET_PERSIST | SET_EXAT | SET_PX | SET_PXAT))) {
            *flags |= SET_EX;
            *exp_arg = ++j;
        } else if (ARG_EQ(x, j, "px") && next &&
                   !(*flags & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PXAT))) {
            *flags |= SET_PX;
            *exp_arg = ++j;
        } else if (ARG_EQ(x, j, "exat") && next &&
                   !(*flags & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_PX | SET_PXAT))) {
            *flags |= SET_EXAT;
            *exp_arg = ++j;
        } else if (ARG_EQ(x, j, "pxat") && next &&
                   !(*flags & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PX))) {
            *flags |= SET_PXAT;
            *exp_arg = ++j;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    return 0;
}

/* The absolute expiry in ms from an EX/PX/EXAT/PXAT argument, replying
 * "invalid expire time" like Redis on bad values.  0 or -1. */
static int expire_ms(struct cmd_ctx *x, int arg, int flags, long long *ms)
{
    if (arg_ll(x, arg, ms) != 0)
        return -1;
    if (*ms <= 0 || ((flags & (SET_EX | SET_EXAT)) && *ms > LLONG_MAX / 1000)) {
        reply_errorf(x, "ERR invalid expire time in '%s' command", x->cmd->name);
        return -1;
    }
    if (flags & (SET_EX | SET_EXAT))
        *ms *= 1000;
    if (flags & (SET_EX | SET_PX))
        *ms += W.now_ms;
    if (*ms <= 0) {
        reply_errorf(x, "ERR invalid expire time in '%s' command", x->cmd->name);
        return -1;
    }
    return 0;
}

void getCommand(struct cmd_ctx *x)
{
    struct db_key k;

    if (!db_lookup_read(x, x->argv[1].ptr, x->argv[1].len, &k)) {
        resp_add_null(&x->out);
        return;
    }
    if (k.e.type != KS_T_STRING) {
        reply_wrongtype(x);
        return;
    }
    resp_add_bulk(&x->out, k.e.val, k.e.vlen);
}

/*
 * Stores key = val (SET and its variants).  `expire` is an absolute ms
 * time, -1 for none, or -2 to keep the current one (KEEPTTL).  Returns 0,
 * or an arena status after db_fail().
 */
int string_store(struct cmd_ctx *x, const char *key, size_t klen, const char *val,
                 size_t vlen, long long expire)
{
    int rc;

    if (expire == -2) {
        struct db_key k;
        expire = -1;
        if (db_lookup_write(x, key, klen, &k) && k.e.has_expire)
            expire = ks_entry_expire(&k.e);
    }
    rc = ks_set_string(W.arena, x->db, key, klen, val, vlen, expire);
    if (rc != EMBER_OK)
        return db_fail(x, rc);
    x->dirty++;
    return 0;
}

void setCommand(struct cmd_ctx *x)
{
    int flags = 0, exp_arg = 0, found;
    long long ms = -1;
    struct db_key k;
    uint64_t off;

    if (parse_string_opts(x, 1, &flags, &exp_arg) != 0)
        return;
    if (exp_arg && expire_ms(x, exp_arg, flags, &ms) != 0)
        return;
    off = db_lookup_write(x, x->argv[1].ptr, x->argv[1].len, &k);
    found = off != 0;
    if (flags & SET_GET) {
        if (found && k.e.type != KS_T_STRING) {
            reply_wrongtype(x);
            return;
        }
        if (found)
            resp_add_bulk(&x->out, k.e.val, k.e.vlen);
        else
            resp_add_null(&x->out);
    }
    if (((flags & SET_NX) && found) || ((flags & SET_XX) && !found)) {
        if (!(flags & SET_GET))
            resp_add_null(&x->out);
        return;
    }
    if (flags & SET_KEEPTTL)
        ms = found && k.e.has_expire ? ks_entry_expire(&k.e) : -1;
    if (string_store(x, x->argv[1].ptr, x->argv[1].len, x->argv[2].ptr, x->argv[2].len,
                     ms) != 0)
        return;
    if (!(flags & SET_GET))
        reply_ok(x);
}

/* ---- implemented by the string-commands work item -------------------------- */

#define TODO(name) \
    void name(struct cmd_ctx *x) { reply_error(x, "ERR not implemented yet"); }
TODO(setnxCommand)
TODO(setexCommand)
TODO(psetexCommand)
TODO(getsetCommand)
TODO(getdelCommand)
TODO(getexCommand)
TODO(mgetCommand)
TODO(msetCommand)
TODO(msetnxCommand)
TODO(appendCommand)
TODO(strlenCommand)
TODO(getrangeCommand)
TODO(setrangeCommand)
TODO(incrCommand)
TODO(decrCommand)
TODO(incrbyCommand)
TODO(decrbyCommand)
TODO(incrbyfloatCommand)
