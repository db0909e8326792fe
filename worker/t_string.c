/*
 * t_string.c - string commands.
 *
 * A string is one keyspace entry: key and value in one block (shm/ks.h).
 * Commands follow Redis 7.0's t_string.c in semantics, reply types and
 * error strings.  Writes run inside the dispatcher's arena mutation: on an
 * arena error a command calls db_fail() and returns, and the dispatcher
 * undoes everything and replies the error.
 *
 * Values that grow (APPEND, SETRANGE) grow in place when the entry's block
 * has room, with logged stores of the bytes written and of the length
 * field (a rollback restores a live block byte for byte, its slack too).
 * When the block is full, a new entry with room to spare (doubling up to
 * 1 MB, then 1 MB more, as Redis's sds) replaces it, so repeated APPENDs
 * cost O(1) amortized; a fresh block is written without logging.  The
 * key's expiry always stays.
 *
 * MGET, MSET and MSETNX route themselves (CMD_NOKEYROUTE).  For a local
 * client whose keys span shards the command splits into one part per
 * owner, each a command of the same name holding that owner's keys; the
 * owner runs it with x->c == NULL, which means "all keys are mine".  MGET
 * puts the values back in key order, MSET replies +OK once every part did.
 * Each part is atomic on its shard; across shards MSET is not atomic, and
 * keys sharing a {hash tag} always share a shard.  MSETNX needs two
 * phases; see the comment before msetnxCommand().
 */
#include "server.h"
#include "commands.h"
#include "config.h"
#include "cross.h"
#include "util.h"

#include "shm/alloc.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
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
    /* Redis's sum wraps negative on overflow and is refused below: same
     * answer, without the undefined behaviour. */
    if ((flags & (SET_EX | SET_PX)) && *ms > LLONG_MAX - W.now_ms)
        *ms = -1;
    else if (flags & (SET_EX | SET_PX))
        *ms += W.now_ms;
    if (*ms <= 0) {
        reply_errorf(x, "ERR invalid expire time in '%s' command", x->cmd->name);
        return -1;
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

#define GROW_STEP_MAX   (1u << 20)   /* greedy capacity: double up to 1 MB, then +1 MB */
#define INPLACE_MAX     512          /* rewrite a whole value in place up to this size */
#define LD_STR_MAX      (5 * 1024)   /* Redis's MAX_LONG_DOUBLE_CHARS */

/* Bytes of an entry's value length field for a value of v bytes (ks.h). */
static unsigned len_width(uint64_t v)
{
    return v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x100000000ull ? 4 : 8;
}

/* Capacity to reserve for a value that grew to n bytes, as sds does. */
static uint64_t grow_cap(uint64_t n)
{
    return n < GROW_STEP_MAX ? n * 2 : n + GROW_STEP_MAX;
}

/*
 * Redis's checkStringLength: would a string of size + append bytes pass
 * proto-max-bulk-len?  Replies the error and returns 0 when it would.
 */
static int length_ok(struct cmd_ctx *x, uint64_t size, uint64_t append)
{
    uint64_t max = (uint64_t)config.proto_max_bulk_len;

    if (append > max || size > max - append) {
        reply_error(x, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return 0;
    }
    return 1;
}

/* Can entry e hold a value of n bytes in its own block? */
static int fits_in_place(const struct ks_entry *e, uint64_t n)
{
    return !e->enc && len_width(n) <= e->vw &&
           (uint64_t)e->hdrlen + e->klen + n <= shm_usable(W.arena, e->off);
}

/* Sets a live entry's value length (a logged store). */
static void set_vlen(struct ks_entry *e, uint64_t n)
{
    char *field = SHM_PTR(W.arena, e->off, char) + e->hdrlen - e->vw - (e->has_expire ? 8 : 0);

    shm_store(W.arena, field, &n, e->vw);   /* little-endian: the low bytes */
    e->vlen = n;
}

/* The key's expiry, for a new entry that replaces entry off (-1: none). */
static int64_t kept_expire(uint64_t off, const struct ks_entry *e)
{
    return off != 0 && e->has_expire ? ks_entry_expire(e) : -1;
}

/*
 * Gives argv[1], looked up in k (entry off, or 0 when absent), a new
 * string entry of vlen bytes with room for vcap, whose value starts with
 * init[0..ilen) (copied before the old entry goes).  The rest of the value
 * is the caller's to fill through *val: a fresh block, no logging.
 * 0, or an arena status after db_fail().
 */
static int string_new(struct cmd_ctx *x, struct db_key *k, uint64_t off, uint64_t vlen,
                      uint64_t vcap, int64_t expire, const char *init, size_t ilen, char **val)
{
    struct ks_entry n;
    int rc;

    rc = ks_entry_new(W.arena, KS_T_STRING, 0, x->argv[1].ptr, x->argv[1].len, vlen, vcap,
                      expire, &n);
    if (rc != EMBER_OK && vcap > vlen)   /* no room to spare: then just enough */
        rc = ks_entry_new(W.arena, KS_T_STRING, 0, x->argv[1].ptr, x->argv[1].len, vlen, vlen,
                          expire, &n);
    if (rc == EMBER_OK) {
        if (ilen > 0)
            memcpy(n.val, init, ilen);
        rc = off ? ks_replace(W.arena, x->db, &k->pos, k->hash, off, n.off)
                 : ks_insert(W.arena, x->db, k->hash, n.off);
    }
    if (rc != EMBER_OK)
        return db_fail(x, rc);
    *val = n.val;
    x->dirty++;
    return 0;
}

/*
 * Gives argv[1], looked up in k (entry off, or 0 when absent), the value
 * val[0..vlen), keeping its expiry: in place when small and the block has
 * room, else in a new entry.  0, or an arena status after db_fail().
 */
static int string_put(struct cmd_ctx *x, struct db_key *k, uint64_t off, const char *val,
                      size_t vlen)
{
    char *dst;

    if (off != 0 && vlen <= INPLACE_MAX && fits_in_place(&k->e, vlen)) {
        if (vlen > 0)
            shm_store(W.arena, k->e.val, val, vlen);
        if (vlen != k->e.vlen)
            set_vlen(&k->e, vlen);
        x->dirty++;
        return 0;
    }
    return string_new(x, k, off, vlen, vlen, kept_expire(off, &k->e), val, vlen, &dst);
}

/*
 * Lengthens the string entry of argv[1], looked up in k (at off), to n
 * bytes, keeping its bytes and its expiry.  *val gets the value; *fresh
 * says whether it is in a new block (writable without logging) or in
 * place (a live block: log every byte before writing it).  The bytes past
 * the old length are the caller's to fill.  0, or an arena status after
 * db_fail().
 */
static int string_grow(struct cmd_ctx *x, struct db_key *k, uint64_t off, uint64_t n,
                       char **val, int *fresh)
{
    if (fits_in_place(&k->e, n)) {
        set_vlen(&k->e, n);
        *val = k->e.val;
        *fresh = 0;
        x->dirty++;
        return 0;
    }
    *fresh = 1;
    return string_new(x, k, off, n, grow_cap(n), kept_expire(off, &k->e), k->e.val,
                      k->e.vlen, val);
}

/* ---- GET and SET variants ---------------------------------------------------------- */

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

void setnxCommand(struct cmd_ctx *x)
{
    struct db_key k;

    if (db_lookup_write(x, x->argv[1].ptr, x->argv[1].len, &k)) {
        resp_add_int(&x->out, 0);
        return;
    }
    if (string_store(x, x->argv[1].ptr, x->argv[1].len, x->argv[2].ptr, x->argv[2].len,
                     -1) != 0)
        return;
    resp_add_int(&x->out, 1);
}

/* SETEX and PSETEX: key, time in `flags` units, value. */
static void setex_generic(struct cmd_ctx *x, int flags)
{
    long long ms;

    if (expire_ms(x, 2, flags, &ms) != 0)
        return;
    if (string_store(x, x->argv[1].ptr, x->argv[1].len, x->argv[3].ptr, x->argv[3].len,
                     ms) != 0)
        return;
    reply_ok(x);
}

void setexCommand(struct cmd_ctx *x)
{
    setex_generic(x, SET_EX);
}

void psetexCommand(struct cmd_ctx *x)
{
    setex_generic(x, SET_PX);
}

/*
 * The first half of GETSET, GETDEL and GETEX (Redis's getGenericCommand):
 * looks the key up for reading and replies its value, or nil.  Returns the
 * entry's offset when it is a string, else 0 (nil or WRONGTYPE replied;
 * *wrong tells which).
 */
static uint64_t get_generic(struct cmd_ctx *x, struct db_key *k, int *wrong)
{
    uint64_t off = db_lookup_read(x, x->argv[1].ptr, x->argv[1].len, k);

    *wrong = 0;
    if (off == 0) {
        resp_add_null(&x->out);
        return 0;
    }
    if (k->e.type != KS_T_STRING) {
        reply_wrongtype(x);
        *wrong = 1;
        return 0;
    }
    resp_add_bulk(&x->out, k->e.val, k->e.vlen);
    return off;
}

void getsetCommand(struct cmd_ctx *x)
{
    struct db_key k;
    int wrong;

    (void)get_generic(x, &k, &wrong);
    if (wrong)
        return;
    /* A plain SET: the key loses any expiry. */
    (void)string_store(x, x->argv[1].ptr, x->argv[1].len, x->argv[2].ptr, x->argv[2].len, -1);
}

void getdelCommand(struct cmd_ctx *x)
{
    struct db_key k;
    int wrong;
    uint64_t off = get_generic(x, &k, &wrong);

    if (off != 0)
        (void)db_delete(x, &k, off);
}

void getexCommand(struct cmd_ctx *x)
{
    int flags = 0, exp_arg = 0, rc;
    long long ms = -1;
    struct db_key k;
    uint64_t off, newoff;

    if (parse_string_opts(x, 0, &flags, &exp_arg) != 0)
        return;
    off = db_lookup_read(x, x->argv[1].ptr, x->argv[1].len, &k);
    if (off == 0) {
        resp_add_null(&x->out);
        return;
    }
    if (k.e.type != KS_T_STRING) {
        reply_wrongtype(x);
        return;
    }
    /* Redis validates the time only once it knows the key is a string. */
    if (exp_arg && expire_ms(x, exp_arg, flags, &ms) != 0)
        return;
    resp_add_bulk(&x->out, k.e.val, k.e.vlen);
    if ((flags & (SET_EXAT | SET_PXAT)) && ms <= W.now_ms) {
        (void)db_delete(x, &k, off);
    } else if (exp_arg || ((flags & SET_PERSIST) && k.e.has_expire)) {
        rc = ks_set_expire(W.arena, x->db, &k.pos, k.hash, off, exp_arg ? ms : -1, &newoff);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
        x->dirty++;
    }
}

/* ---- APPEND, SETRANGE, STRLEN, GETRANGE -------------------------------------------- */

void appendCommand(struct cmd_ctx *x)
{
    const struct resp_arg *add = &x->argv[2];
    struct db_key k;
    uint64_t off = db_lookup_write(x, x->argv[1].ptr, x->argv[1].len, &k), len;
    char *val;
    int fresh;

    if (off == 0) {
        /* A new key holds the argument as is, without spare room (Redis
         * stores the argument's object). */
        if (string_new(x, &k, 0, add->len, add->len, -1, add->ptr, add->len, &val) != 0)
            return;
        resp_add_int(&x->out, (long long)add->len);
        return;
    }
    if (k.e.type != KS_T_STRING) {
        reply_wrongtype(x);
        return;
    }
    if (!length_ok(x, k.e.vlen, add->len))
        return;
    len = k.e.vlen;
    if (add->len > 0) {
        if (string_grow(x, &k, off, len + add->len, &val, &fresh) != 0)
            return;
        if (fresh)
            memcpy(val + len, add->ptr, add->len);
        else
            shm_store(W.arena, val + len, add->ptr, add->len);
    }
    resp_add_int(&x->out, (long long)(len + add->len));
}

void setrangeCommand(struct cmd_ctx *x)
{
    const struct resp_arg *arg = &x->argv[3];
    long long offset;
    struct db_key k;
    uint64_t off, olen, end;
    char *val;
    int fresh = 0;

    if (arg_ll(x, 2, &offset) != 0)
        return;
    if (offset < 0) {
        reply_error(x, "ERR offset is out of range");
        return;
    }
    off = db_lookup_write(x, x->argv[1].ptr, x->argv[1].len, &k);
    if (off == 0) {
        /* Setting nothing on a missing key creates nothing. */
        if (arg->len == 0) {
            resp_add_int(&x->out, 0);
            return;
        }
        if (!length_ok(x, (uint64_t)offset, arg->len))
            return;
        end = (uint64_t)offset + arg->len;
        if (string_new(x, &k, 0, end, end, -1, NULL, 0, &val) != 0)
            return;
        memset(val, 0, (size_t)offset);
        memcpy(val + offset, arg->ptr, arg->len);
        resp_add_int(&x->out, (long long)end);
        return;
    }
    if (k.e.type != KS_T_STRING) {
        reply_wrongtype(x);
        return;
    }
    olen = k.e.vlen;
    if (arg->len == 0) {
        resp_add_int(&x->out, (long long)olen);
        return;
    }
    if (!length_ok(x, (uint64_t)offset, arg->len))
        return;
    end = (uint64_t)offset + arg->len;
    if (end > olen) {
        if (string_grow(x, &k, off, end, &val, &fresh) != 0)
            return;
    } else {
        val = k.e.val;
        x->dirty++;
    }
    /* In place, log what changes: the zeroed gap past the old end, if
     * any, and the bytes written. */
    if (!fresh) {
        uint64_t from = (uint64_t)offset < olen ? (uint64_t)offset : olen;
        shm_log(W.arena, val + from, end - from);
    }
    if ((uint64_t)offset > olen)
        memset(val + olen, 0, (size_t)((uint64_t)offset - olen));
    memcpy(val + offset, arg->ptr, arg->len);
    resp_add_int(&x->out, (long long)(end > olen ? end : olen));
}

void strlenCommand(struct cmd_ctx *x)
{
    struct db_key k;

    if (!db_lookup_read(x, x->argv[1].ptr, x->argv[1].len, &k)) {
        resp_add_int(&x->out, 0);
        return;
    }
    if (k.e.type != KS_T_STRING) {
        reply_wrongtype(x);
        return;
    }
    resp_add_int(&x->out, (long long)k.e.vlen);
}

/* GETRANGE and SUBSTR. */
void getrangeCommand(struct cmd_ctx *x)
{
    long long start, end, len;
    struct db_key k;

    if (arg_ll(x, 2, &start) != 0 || arg_ll(x, 3, &end) != 0)
        return;
    if (!db_lookup_read(x, x->argv[1].ptr, x->argv[1].len, &k)) {
        resp_add_bulk(&x->out, "", 0);
        return;
    }
    if (k.e.type != KS_T_STRING) {
        reply_wrongtype(x);
        return;
    }
    len = (long long)k.e.vlen;
    if (start < 0 && end < 0 && start > end) {
        resp_add_bulk(&x->out, "", 0);
        return;
    }
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (start > end || len == 0)
        resp_add_bulk(&x->out, "", 0);
    else
        resp_add_bulk(&x->out, k.e.val + start, (size_t)(end - start + 1));
}

/* ---- INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT --------------------------------------- */

/* Looks argv[1] up for a write; 0 when absent, the entry when a string,
 * or -1 after replying WRONGTYPE (in *off: the entry or 0). */
static int lookup_string(struct cmd_ctx *x, struct db_key *k, uint64_t *off)
{
    *off = db_lookup_write(x, x->argv[1].ptr, x->argv[1].len, k);
    if (*off != 0 && k->e.type != KS_T_STRING) {
        reply_wrongtype(x);
        return -1;
    }
    return 0;
}

static void incr_generic(struct cmd_ctx *x, long long incr)
{
    struct db_key k;
    uint64_t off;
    long long value = 0;
    char buf[24];
    int n;

    if (lookup_string(x, &k, &off) != 0)
        return;
    if (off != 0 && !util_str2ll(k.e.val, k.e.vlen, &value)) {
        reply_not_integer(x);
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(x, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    n = util_ll2str(buf, value);
    if (string_put(x, &k, off, buf, (size_t)n) != 0)
        return;
    resp_add_int(&x->out, value);
}

void incrCommand(struct cmd_ctx *x)
{
    incr_generic(x, 1);
}

void decrCommand(struct cmd_ctx *x)
{
    incr_generic(x, -1);
}

void incrbyCommand(struct cmd_ctx *x)
{
    long long incr;

    if (arg_ll(x, 2, &incr) != 0)
        return;
    incr_generic(x, incr);
}

void decrbyCommand(struct cmd_ctx *x)
{
    long long incr;

    if (arg_ll(x, 2, &incr) != 0)
        return;
    if (incr == LLONG_MIN) {
        reply_error(x, "ERR decrement would overflow");
        return;
    }
    incr_generic(x, -incr);
}

void incrbyfloatCommand(struct cmd_ctx *x)
{
    long double value = 0, incr;
    struct db_key k;
    uint64_t off;
    char buf[LD_STR_MAX + 64];
    int n;

    if (lookup_string(x, &k, &off) != 0)
        return;
    if ((off != 0 && !util_str2ld(k.e.val, k.e.vlen, &value)) ||
        !util_str2ld(x->argv[2].ptr, x->argv[2].len, &incr)) {
        reply_error(x, "ERR value is not a valid float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(x, "ERR increment would produce NaN or Infinity");
        return;
    }
    n = util_ld2str_human(buf, sizeof(buf), value);
    BUG_ON(n <= 0);   /* a finite long double always fits */
    if (string_put(x, &k, off, buf, (size_t)n) != 0)
        return;
    resp_add_bulk(&x->out, buf, (size_t)n);
}

/* ---- MGET, MSET, MSETNX ------------------------------------------------------------ */

/* Which part holds each key of a split command, for MGET's merge (a
 * pending's ctx: one allocation). */
struct key_map {
    uint32_t nkeys;
    uint32_t part[];                    /* part of the j-th key */
};

/* A multi-key command's keys grouped by owning shard, one part each. */
struct split {
    unsigned nparts;
    unsigned owner[MAX_WORKERS];        /* shard of part i */
    int argc[MAX_WORKERS];              /* part i's arguments, its name included */
    struct resp_arg *argv[MAX_WORKERS]; /* part i's vector, inside `all` */
    struct resp_arg *all;               /* every vector, one allocation */
    struct key_map *map;                /* part of each key; the caller may take it */
};

static void split_free(struct split *s)
{
    free(s->all);
    free(s->map);
    s->all = NULL;
    s->map = NULL;
}

/*
 * Splits argv (a command whose keys are argv[1], argv[1+step]...) by key
 * owner into parts named `name`, each with `take` arguments per key (the
 * key, or the key and its value).  The vectors point into argv's bytes.
 * 0, or -1 when out of memory.
 */
static int split_keys(int argc, const struct resp_arg *argv, int step, int take,
                      const char *name, struct split *s)
{
    int part_of_shard[MAX_WORKERS], t;
    uint32_t nkeys = (uint32_t)((argc - 1) / step), i;
    size_t used = 0;
    unsigned p;

    memset(s, 0, offsetof(struct split, argv));
    s->all = NULL;
    s->map = malloc(sizeof(*s->map) + nkeys * sizeof(s->map->part[0]));
    if (s->map == NULL)
        return -1;
    s->map->nkeys = nkeys;
    for (p = 0; p < W.nworkers; p++)
        part_of_shard[p] = -1;
    for (i = 0; i < nkeys; i++) {
        const struct resp_arg *key = &argv[1 + (int)i * step];
        unsigned sh = key_shard(key->ptr, key->len);
        if (part_of_shard[sh] < 0) {
            part_of_shard[sh] = (int)s->nparts;
            s->owner[s->nparts] = sh;
            s->argc[s->nparts++] = 1;
        }
        s->map->part[i] = (uint32_t)part_of_shard[sh];
        s->argc[part_of_shard[sh]] += take;
    }
    s->all = malloc(((size_t)nkeys * (size_t)take + s->nparts) * sizeof(*s->all));
    if (s->all == NULL) {
        split_free(s);
        return -1;
    }
    for (p = 0; p < s->nparts; p++) {
        s->argv[p] = s->all + used;
        used += (size_t)s->argc[p];
        s->argv[p][0].ptr = name;
        s->argv[p][0].len = strlen(name);
        s->argc[p] = 1;   /* recounted as the vector fills */
    }
    for (i = 0; i < nkeys; i++) {
        struct resp_arg *v = s->argv[s->map->part[i]];
        int *n = &s->argc[s->map->part[i]];
        for (t = 0; t < take; t++)
            v[(*n)++] = argv[1 + (int)i * step + t];
    }
    return 0;
}

/* The one shard owning every key of x (keys every `step` from argv[1]),
 * or -1 when they span several. */
static int single_owner(const struct cmd_ctx *x, int step)
{
    unsigned owner = key_shard(x->argv[1].ptr, x->argv[1].len);
    int j;

    for (j = 1 + step; j < x->argc; j += step)
        if (key_shard(x->argv[j].ptr, x->argv[j].len) != owner)
            return -1;
    return (int)owner;
}

/*
 * Decides where a multi-key command runs.  Returns 1 when the handler
 * should do all the work here (a part from another worker, one worker,
 * or every key ours); 0 when the command went whole to the one other
 * shard that owns all its keys; -1 when the keys span shards (split).
 */
static int route_multi(struct cmd_ctx *x, int step)
{
    int owner;

    if (x->c == NULL || W.nworkers <= 1)
        return 1;
    owner = single_owner(x, step);
    if (owner == (int)W.id)
        return 1;
    if (owner >= 0) {
        cross_forward(x, (unsigned)owner);
        W.st.forwarded++;
        return 0;
    }
    return -1;
}

/* Sends each part of s as a part of p (db: the client's). */
static void send_parts(struct pending *p, const struct split *s, unsigned db)
{
    unsigned i;

    for (i = 0; i < s->nparts; i++)
        cross_send_part(p, i, s->owner[i], db, s->argc[i], s->argv[i]);
    cross_pending_issued(p);
}

/* The first part that replied an error, or -1. */
static int part_error(const struct pending *p)
{
    unsigned i;

    for (i = 0; i < p->nparts; i++)
        if (p->parts[i].reply.len == 0 || p->parts[i].reply.data[0] == '-')
            return (int)i;
    return -1;
}

/* Replies part i's error (or a generic one for an empty reply). */
static void copy_error(const struct pending *p, int i, struct resp_out *out)
{
    const struct rbuf *r = &p->parts[i].reply;

    if (r->len > 0)
        rbuf_append(out->b, r->data, r->len);
    else
        resp_add_error(out, "ERR no reply from the owning shard");
}

static void mget_local(struct cmd_ctx *x)
{
    struct db_key k;
    int j;

    resp_add_array(&x->out, x->argc - 1);
    for (j = 1; j < x->argc; j++) {
        if (db_lookup_read(x, x->argv[j].ptr, x->argv[j].len, &k) && k.e.type == KS_T_STRING)
            resp_add_bulk(&x->out, k.e.val, k.e.vlen);
        else
            resp_add_null(&x->out);
    }
}

/* MGET: the parts' arrays interleaved back into key order. */
static void merge_mget(struct pending *p, struct resp_out *out)
{
    const struct key_map *m = p->ctx;
    size_t pos[MAX_WORKERS];
    unsigned i;
    uint32_t j;
    int e = part_error(p);

    if (e >= 0) {
        copy_error(p, e, out);
        return;
    }
    /* Check every part first: an array of bulks or nulls, nothing else. */
    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        const char *nl = memchr(r->data, '\n', r->len);
        size_t at;
        if (r->data[0] != '*' || nl == NULL)
            goto bad;
        pos[i] = (size_t)(nl - r->data) + 1;
        for (at = pos[i]; at < r->len;) {
            size_t n = resp_value_size(r->data + at, r->len - at);
            if (n == 0)
                goto bad;
            at += n;
        }
    }
    resp_add_array(out, (long)m->nkeys);
    for (j = 0; j < m->nkeys; j++) {
        const struct rbuf *r = &p->parts[m->part[j]].reply;
        size_t *at = &pos[m->part[j]];
        size_t n = *at < r->len ? resp_value_size(r->data + *at, r->len - *at) : 0;
        if (n == 0) {
            resp_add_null(out);   /* a short part: cannot happen (checked) */
            continue;
        }
        rbuf_append(out->b, r->data + *at, n);
        *at += n;
    }
    return;
bad:
    resp_add_error(out, "ERR malformed reply from the owning shard");
}

void mgetCommand(struct cmd_ctx *x)
{
    struct pending *p;
    struct split s;
    int r = route_multi(x, 1);

    if (r >= 0) {
        if (r == 1)
            mget_local(x);
        return;
    }
    if (split_keys(x->argc, x->argv, 1, 1, "MGET", &s) != 0 ||
        (p = cross_pending(x->c, x->c->proto, s.nparts, merge_mget)) == NULL) {
        split_free(&s);
        reply_error(x, "ERR out of memory");
        return;
    }
    p->ctx = s.map;
    s.map = NULL;
    send_parts(p, &s, x->db);
    split_free(&s);
}

/* MSET's arity: keys and values in pairs. */
static int pairs_ok(struct cmd_ctx *x)
{
    if (x->argc % 2 == 0) {
        reply_arity(x);
        return 0;
    }
    return 1;
}

static void mset_local(struct cmd_ctx *x)
{
    int j;

    for (j = 1; j < x->argc; j += 2)
        if (string_store(x, x->argv[j].ptr, x->argv[j].len, x->argv[j + 1].ptr,
                         x->argv[j + 1].len, -1) != 0)
            return;
    reply_ok(x);
}

void msetCommand(struct cmd_ctx *x)
{
    struct pending *p;
    struct split s;
    int r;

    if (!pairs_ok(x))
        return;
    r = route_multi(x, 2);
    if (r >= 0) {
        if (r == 1)
            mset_local(x);
        return;
    }
    if (split_keys(x->argc, x->argv, 2, 2, "MSET", &s) != 0 ||
        (p = cross_pending(x->c, x->c->proto, s.nparts, merge_first_error_or_ok)) == NULL) {
        split_free(&s);
        reply_error(x, "ERR out of memory");
        return;
    }
    send_parts(p, &s, x->db);
    split_free(&s);
}

/*
 * MSETNX across shards: two phases of one pending, which keeps MSETNX's
 * place in the client's replies throughout.
 *
 *   1. "EXISTS keys..." to each owner.  Its merge replies :0 when a key
 *      exists (or a part's error), else starts phase 2 (cross_rearm).
 *   2. "MSET keys values..." to each owner; replies :1, or the first
 *      part's error.
 *
 * The client reads no command until MSETNX's reply is in
 * (cross_pause_client): its later commands cannot overtake phase 2, so a
 * pipelined "MSETNX a 1 b 2; GET a" sees a = 1, the rings being first in
 * first out.  The phases run to the end even if the client disconnects, as
 * Redis applies a command it received whole.
 *
 * What others may see: the check and the writes are not one atomic step
 * across shards.  Between them another client may create one of the keys
 * (MSETNX then overwrites it and still replies 1), two MSETNX with
 * overlapping keys may both succeed (each shard keeping whichever wrote
 * last), and a reader may see some of the keys set and not yet the
 * others.  Each shard's part is atomic, and keys that share a {hash tag}
 * share a shard: when every key lives on one shard, MSETNX runs there
 * whole and is atomic.  A single client observes exactly Redis's results.
 */

/* The command, copied: phase 2 is sent after the client's input moved on. */
struct msetnx_ctx {
    unsigned db;
    int argc;
    struct resp_arg argv[];              /* then the argument bytes */
};

static void msetnx_local(struct cmd_ctx *x)
{
    struct db_key k;
    int j;

    for (j = 1; j < x->argc; j += 2) {
        if (db_lookup_write(x, x->argv[j].ptr, x->argv[j].len, &k)) {
            resp_add_int(&x->out, 0);
            return;
        }
    }
    for (j = 1; j < x->argc; j += 2)
        if (string_store(x, x->argv[j].ptr, x->argv[j].len, x->argv[j + 1].ptr,
                         x->argv[j + 1].len, -1) != 0)
            return;
    resp_add_int(&x->out, 1);
}

/* Phase 2 done: :1 unless a part failed. */
static void merge_msetnx_set(struct pending *p, struct resp_out *out)
{
    int e = part_error(p);

    if (e >= 0)
        copy_error(p, e, out);
    else
        resp_add_int(out, 1);
}

/* Phase 1 done: answer :0 (or an error), or start phase 2. */
static void merge_msetnx_check(struct pending *p, struct resp_out *out)
{
    const struct msetnx_ctx *m = p->ctx;
    struct split s;
    long long n;
    unsigned i;
    int e = part_error(p);

    if (e >= 0) {
        copy_error(p, e, out);
        return;
    }
    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        if (r->len < 4 || r->data[0] != ':' || !util_str2ll(r->data + 1, r->len - 3, &n)) {
            resp_add_error(out, "ERR malformed reply from the owning shard");
            return;
        }
        if (n > 0) {
            resp_add_int(out, 0);
            return;
        }
    }
    if (split_keys(m->argc, m->argv, 2, 2, "MSET", &s) != 0) {
        resp_add_error(out, "ERR out of memory");
        return;
    }
    cross_rearm(p, s.nparts, merge_msetnx_set);
    if (!p->rearmed) {
        /* No memory for the new parts: the error is ours to reply. */
        resp_add_error(out, "ERR out of memory");
    } else {
        for (i = 0; i < s.nparts; i++)
            cross_send_part(p, i, s.owner[i], m->db, s.argc[i], s.argv[i]);
    }
    split_free(&s);
}

/* Copies x's arguments into one allocation (the pending's context). */
static struct msetnx_ctx *msetnx_ctx_new(const struct cmd_ctx *x)
{
    size_t bytes = 0;
    struct msetnx_ctx *m;
    char *at;
    int j;

    for (j = 0; j < x->argc; j++)
        bytes += x->argv[j].len;
    m = malloc(sizeof(*m) + (size_t)x->argc * sizeof(m->argv[0]) + bytes);
    if (m == NULL)
        return NULL;
    m->db = x->db;
    m->argc = x->argc;
    at = (char *)(m->argv + x->argc);
    for (j = 0; j < x->argc; j++) {
        memcpy(at, x->argv[j].ptr, x->argv[j].len);
        m->argv[j].ptr = at;
        m->argv[j].len = x->argv[j].len;
        at += x->argv[j].len;
    }
    return m;
}

void msetnxCommand(struct cmd_ctx *x)
{
    struct msetnx_ctx *m = NULL;
    struct pending *p = NULL;
    struct split s;
    int r;

    if (!pairs_ok(x))
        return;
    r = route_multi(x, 2);
    if (r >= 0) {
        if (r == 1)
            msetnx_local(x);
        return;
    }
    s.all = NULL;
    s.map = NULL;
    if ((m = msetnx_ctx_new(x)) == NULL || split_keys(x->argc, x->argv, 2, 1, "EXISTS", &s) != 0 ||
        (p = cross_pending(x->c, x->c->proto, s.nparts, merge_msetnx_check)) == NULL) {
        free(m);
        split_free(&s);
        reply_error(x, "ERR out of memory");
        return;
    }
    p->ctx = m;
    /* Read nothing more from the client until the reply is in (see above). */
    cross_pause_client(p);
    send_parts(p, &s, x->db);
    split_free(&s);
}
