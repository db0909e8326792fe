/*
 * t_hash.c - hash commands, and the helpers hashes and sets share.
 *
 * A hash is a keyspace entry whose value is an hset (shm/hset.h): a pack
 * of field, value pairs inline in the entry while small, a dict of member
 * blocks beyond the *-max-listpack-* limits.  Commands follow Redis 7.0's
 * t_hash.c in semantics, reply types (RESP2 and RESP3) and error strings,
 * and each acts on the local arena: the dispatcher routed it to the
 * key's owner.  Writes run inside the dispatcher's mutation; on an arena
 * error a command calls db_fail() and returns, and the dispatcher undoes
 * everything and replies the error.
 *
 * Invariants kept here:
 *   - a hash is never empty: adding a field to a missing key creates it
 *     (hset_put), removing the last one deletes it (hset_del);
 *   - a reference (struct ks_ref) is only used until the keyspace changes
 *     under another key: a deletion or insertion may move other keys'
 *     slots (incremental rehash), so a command that writes a second key
 *     looks it up afresh;
 *   - fields and values read from the arena point into it and are valid
 *     for the current command only; one that deletes several members it
 *     read first copies them (a free is deferred to the commit, except
 *     when the allocator runs out of room for its list of frees).
 *
 * HRANDFIELD and SRANDMEMBER cost O(count): random picks with repeats
 * for negative counts; for distinct members either random picks
 * deduplicated by the member's address (a member's bytes live in one
 * place), or, when count is over a third of the size, a partial shuffle
 * of every member (Redis's two strategies).  A compact value is indexed
 * once per command, since reaching a random place means walking the pack.
 * HSCAN/SSCAN scan the dict a bucket at a time with Redis's COUNT and
 * MATCH rules; a compact value is returned whole with cursor 0, as Redis
 * does for listpacks and intsets.
 *
 * The coll_* helpers below (declared in coll.h) are shared with the other
 * collection types: lookups as a ks_ref (coll_lookup, coll_open), count
 * and cursor arguments, random members (coll_sample, coll_reply_random)
 * and HSCAN/SSCAN (coll_scan).
 */
#include "server.h"
#include "coll.h"
#include "commands.h"
#include "util.h"

#include "shm/hset.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LD_STR_MAX (5 * 1024)          /* Redis's MAX_LONG_DOUBLE_CHARS */

/*
 * Random replies with repeats (negative counts) can be asked to be any
 * size.  Redis writes on until the client's output buffer limit closes the
 * client (unlimited by default for normal clients); a shard shares its
 * memory with every client it serves, so past this many bytes the reply is
 * abandoned and the client closed as if it had hit that limit.
 */
#define RAND_REPLY_MAX ((size_t)1 << 30)

/* ---- shared with t_set.c and t_zset.c (coll.h) --------------------------------- */

/*
 * Looks key up in x's database as a ks_ref (expired keys are deleted and
 * reported absent), reading (hits/misses counted) or for writing.  r keeps
 * the key's bytes so that hset_put can create it.  Returns the entry's
 * offset, 0 when absent.
 */
uint64_t coll_lookup(struct cmd_ctx *x, const struct resp_arg *key, int write,
                     struct ks_ref *r)
{
    struct db_key k;
    uint64_t off = write ? db_lookup_write(x, key->ptr, key->len, &k)
                         : db_lookup_read(x, key->ptr, key->len, &k);

    memset(r, 0, sizeof(*r));
    r->db = x->db;
    r->hash = k.hash;
    r->key = key->ptr;
    r->klen = key->len;
    r->off = off;
    if (off) {
        r->pos = k.pos;
        r->e = k.e;
    }
    return off;
}

/*
 * Looks argv[i] up as a value of `type`: 1 found, 0 absent, -1 when it
 * holds another type (WRONGTYPE replied).
 */
int coll_open(struct cmd_ctx *x, int i, unsigned type, int write, struct ks_ref *r)
{
    if (!coll_lookup(x, &x->argv[i], write, r))
        return 0;
    if (r->e.type != type) {
        reply_wrongtype(x);
        return -1;
    }
    return 1;
}

/*
 * Parses argv[i] as a count >= min, as Redis's getRangeLongFromObjectOrReply
 * with max LONG_MAX: a bad integer replies msg (or "value is not an integer
 * or out of range"), one out of range msg (or Redis's range message).
 * 0 or -1 (replied).
 */
int coll_arg_count(struct cmd_ctx *x, int i, long long min, long long *v, const char *msg)
{
    if (!util_str2ll(x->argv[i].ptr, x->argv[i].len, v)) {
        reply_error(x, msg ? msg : "ERR value is not an integer or out of range");
        return -1;
    }
    if (*v < min) {
        if (msg)
            reply_error(x, msg);
        else
            reply_errorf(x, "ERR value is out of range, value must between %lld and %lld", min,
                         LLONG_MAX);
        return -1;
    }
    return 0;
}

/*
 * For replies of client-chosen size: has the reply begun at `start` grown
 * past RAND_REPLY_MAX?  Then it is abandoned: the output is marked failed,
 * which closes a local client (and turns a forwarded reply into an error).
 */
static int reply_full(struct cmd_ctx *x, size_t start)
{
    if (x->out.b->len - start <= RAND_REPLY_MAX && !x->out.b->failed)
        return 0;
    x->out.b->failed = 1;
    return 1;
}

/* A table of addresses, for picking distinct members at random. */
struct addr_set {
    const void **slot;
    size_t mask;
};

static int addr_set_init(struct addr_set *s, uint64_t n)
{
    size_t cap = 16;

    while (cap < 2 * n)
        cap <<= 1;
    s->slot = calloc(cap, sizeof(*s->slot));
    s->mask = cap - 1;
    return s->slot ? 0 : -1;
}

/* Adds p; 1 if it was new, 0 if already there.  Never full: 2n slots. */
static int addr_set_add(struct addr_set *s, const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 20) & s->mask;

    while (s->slot[i] != NULL) {
        if (s->slot[i] == p)
            return 0;
        i = (i + 1) & s->mask;
    }
    s->slot[i] = p;
    return 1;
}

/* Every member of r (size of them) in an array the caller frees; NULL
 * when out of memory.  Pointers into the arena, as coll_sample's. */
static struct coll_pick *all_members(const struct ks_ref *r, uint64_t size)
{
    struct coll_pick *pk = malloc(size * sizeof(*pk));
    struct hset_it it;
    uint64_t n = 0;

    if (pk == NULL)
        return NULL;
    hset_iter(W.arena, r, &it);
    while (n < size && hset_next(&it, &pk[n].m, &pk[n].mlen, &pk[n].v, &pk[n].vlen))
        n++;
    BUG_ON(n != size);
    return pk;
}

/* One random element of a reply: the member, or with values a pair
 * (nested in RESP3, flat in RESP2, as HRANDFIELD ... WITHVALUES). */
static void reply_pick(struct cmd_ctx *x, int withvalues, const struct coll_pick *pk)
{
    if (withvalues && x->out.proto > 2)
        resp_add_array(&x->out, 2);
    resp_add_bulk(&x->out, pk->m, pk->mlen);
    if (withvalues)
        resp_add_bulk(&x->out, pk->v, pk->vlen);
}

/*
 * Replies count random members of r (size of them), repeats allowed
 * (SRANDMEMBER and HRANDFIELD with a negative count): the elements only,
 * the caller wrote the header.  A compact value is indexed once, so a
 * pick costs O(1) in both encodings (a pack is walked to reach a place).
 * Stops early, failing the output, past RAND_REPLY_MAX.
 */
void coll_reply_random(struct cmd_ctx *x, const struct ks_ref *r, uint64_t size, uint64_t count,
                       int withvalues)
{
    struct coll_pick *all = NULL, pk;
    size_t start = x->out.b->len;
    uint64_t i;

    if (!r->e.enc && count > 1)
        all = all_members(r, size);   /* without memory, pick the slow way */
    for (i = 0; i < count && !reply_full(x, start); i++) {
        if (all != NULL)
            pk = all[worker_rand() % size];
        else
            hset_random(W.arena, r, worker_rand(), &pk.m, &pk.mlen, &pk.v, &pk.vlen);
        reply_pick(x, withvalues, &pk);
    }
    free(all);
}

/*
 * Picks `count` distinct members of r at random, where 0 < count < size
 * (size = hset_len).  With count over a third of the size, or a compact
 * value (where one random pick walks the pack), shuffles the first count
 * places of an array of every member: O(size), which is O(count) or
 * bounded by the compact limits; otherwise picks at random until count
 * distinct ones came up, O(count) expected.  Returns
 * a malloc'd array whose first count entries are the picks, in random
 * order (the caller frees it), or NULL when out of memory.  The picks
 * point into the arena: valid until the keyspace changes.
 */
struct coll_pick *coll_sample(const struct ks_ref *r, uint64_t size, uint64_t count)
{
    struct coll_pick *pk;
    uint64_t i, n = 0;

    if (count > size / 3 || !r->e.enc) {
        if ((pk = all_members(r, size)) == NULL)
            return NULL;
        for (i = 0; i < count; i++) {
            uint64_t j = i + worker_rand() % (size - i);
            struct coll_pick t = pk[i];
            pk[i] = pk[j];
            pk[j] = t;
        }
    } else {
        struct addr_set seen;
        pk = malloc(count * sizeof(*pk));
        if (pk == NULL || addr_set_init(&seen, count) != 0) {
            free(pk);
            return NULL;
        }
        while (n < count) {
            hset_random(W.arena, r, worker_rand(), &pk[n].m, &pk[n].mlen, &pk[n].v,
                        &pk[n].vlen);
            n += (uint64_t)addr_set_add(&seen, pk[n].m);
        }
        free(seen.slot);
    }
    return pk;
}

/* ---- HSCAN and SSCAN --------------------------------------------------------------- */

struct scan_acc {
    struct coll_pick *e;
    size_t n, cap;
    int oom;
};

static void scan_collect(void *ctx, const uint8_t *m, size_t mlen, const uint8_t *v,
                         size_t vlen)
{
    struct scan_acc *s = ctx;

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct coll_pick *e = realloc(s->e, cap * sizeof(*e));
        if (e == NULL) {
            s->oom = 1;
            return;
        }
        s->e = e;
        s->cap = cap;
    }
    s->e[s->n++] = (struct coll_pick){ m, v, mlen, vlen };
}

int coll_scan_begin(struct cmd_ctx *x, unsigned type, struct ks_ref *r,
                    struct coll_scan_args *a)
{
    int j, found;

    a->count = 10;
    a->pat = NULL;
    a->plen = 0;
    if (arg_cursor(x, 2, &a->cursor) != 0)
        return 0;
    found = coll_open(x, 1, type, 0, r);
    if (found < 0)
        return 0;
    if (found == 0) {
        resp_add_array(&x->out, 2);
        resp_add_bulk(&x->out, "0", 1);
        resp_add_array(&x->out, 0);
        return 0;
    }
    for (j = 3; j < x->argc; j += 2) {
        int left = x->argc - j;
        if (ARG_EQ(x, j, "count") && left >= 2) {
            if (arg_ll(x, j + 1, &a->count) != 0)
                return 0;
            if (a->count < 1) {
                reply_syntax(x);
                return 0;
            }
        } else if (ARG_EQ(x, j, "match") && left >= 2) {
            const struct resp_arg *p = &x->argv[j + 1];
            int all = p->len == 1 && p->ptr[0] == '*';
            a->pat = all ? NULL : p->ptr;
            a->plen = all ? 0 : p->len;
        } else {
            reply_syntax(x);
            return 0;
        }
    }
    return 1;
}

int coll_scan_match(const struct coll_scan_args *a, const uint8_t *m, size_t mlen)
{
    return a->pat == NULL || util_glob_match(a->pat, a->plen, (const char *)m, mlen, 0);
}

/*
 * HSCAN / SSCAN key cursor [MATCH pattern] [COUNT count] (coll_scan_begin):
 * a full value is scanned a bucket at a time until COUNT members were
 * collected or 10*COUNT steps were taken; MATCH filters them afterwards
 * (on fields only, for hashes).
 */
void coll_scan(struct cmd_ctx *x, unsigned type)
{
    struct scan_acc acc = { NULL, 0, 0, 0 };
    struct coll_scan_args a;
    struct ks_ref r;
    size_t i, kept = 0;
    long long maxiter;
    uint64_t cursor;
    char num[24];

    if (!coll_scan_begin(x, type, &r, &a))
        return;
    cursor = a.cursor;
    maxiter = a.count > LLONG_MAX / 10 ? LLONG_MAX : a.count * 10;
    do {
        cursor = hset_scan(W.arena, &r, cursor, scan_collect, &acc);
    } while (cursor && maxiter-- && (long long)acc.n < a.count && !acc.oom);
    if (acc.oom) {
        free(acc.e);
        reply_error(x, "ERR out of memory");
        return;
    }
    for (i = 0; i < acc.n; i++)
        if (coll_scan_match(&a, acc.e[i].m, acc.e[i].mlen))
            acc.e[kept++] = acc.e[i];
    resp_add_array(&x->out, 2);
    resp_add_bulk(&x->out, num, resp_ull2str(num, cursor));
    resp_add_array(&x->out, (long)(type == KS_T_HASH ? 2 * kept : kept));
    for (i = 0; i < kept; i++) {
        resp_add_bulk(&x->out, acc.e[i].m, acc.e[i].mlen);
        if (type == KS_T_HASH)
            resp_add_bulk(&x->out, acc.e[i].v, acc.e[i].vlen);
    }
    free(acc.e);
}

/* ---- setting fields ------------------------------------------------------------------ */

/* HSET and HMSET: same work, different replies. */
static void hset_generic(struct cmd_ctx *x, int hmset)
{
    long long created = 0;
    struct ks_ref r;
    int i, added, rc;

    if (x->argc % 2 == 1) {
        reply_arity(x);
        return;
    }
    if (coll_open(x, 1, KS_T_HASH, 1, &r) < 0)
        return;
    for (i = 2; i < x->argc; i += 2) {
        rc = hset_put(W.arena, &r, KS_T_HASH, x->argv[i].ptr, x->argv[i].len,
                      x->argv[i + 1].ptr, x->argv[i + 1].len, 0, &added);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
        created += added;
    }
    x->dirty += (x->argc - 2) / 2;
    if (hmset)
        reply_ok(x);
    else
        resp_add_int(&x->out, created);
}

void hsetCommand(struct cmd_ctx *x)
{
    hset_generic(x, 0);
}

void hmsetCommand(struct cmd_ctx *x)
{
    hset_generic(x, 1);
}

void hsetnxCommand(struct cmd_ctx *x)
{
    const uint8_t *v;
    struct ks_ref r;
    size_t vlen;
    int found = coll_open(x, 1, KS_T_HASH, 1, &r), added, rc;

    if (found < 0)
        return;
    if (found && hset_get(W.arena, &r, x->argv[2].ptr, x->argv[2].len, &v, &vlen)) {
        resp_add_int(&x->out, 0);
        return;
    }
    rc = hset_put(W.arena, &r, KS_T_HASH, x->argv[2].ptr, x->argv[2].len, x->argv[3].ptr,
                  x->argv[3].len, HSET_NX, &added);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty++;
    resp_add_int(&x->out, 1);
}

void hincrbyCommand(struct cmd_ctx *x)
{
    long long incr, value = 0;
    const uint8_t *v;
    struct ks_ref r;
    size_t vlen;
    char buf[24];
    int found, added, rc;

    if (arg_ll(x, 3, &incr) != 0)
        return;
    found = coll_open(x, 1, KS_T_HASH, 1, &r);
    if (found < 0)
        return;
    if (found && hset_get(W.arena, &r, x->argv[2].ptr, x->argv[2].len, &v, &vlen) &&
        !util_str2ll((const char *)v, vlen, &value)) {
        reply_error(x, "ERR hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(x, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    rc = hset_put(W.arena, &r, KS_T_HASH, x->argv[2].ptr, x->argv[2].len, buf,
                  resp_ll2str(buf, value), 0, &added);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty++;
    resp_add_int(&x->out, value);
}

void hincrbyfloatCommand(struct cmd_ctx *x)
{
    long double value = 0, incr;
    const uint8_t *v;
    struct ks_ref r;
    size_t vlen;
    char buf[LD_STR_MAX + 64];
    int found, added, rc, n;

    if (!util_str2ld(x->argv[3].ptr, x->argv[3].len, &incr)) {
        reply_error(x, "ERR value is not a valid float");
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(x, "ERR value is NaN or Infinity");
        return;
    }
    found = coll_open(x, 1, KS_T_HASH, 1, &r);
    if (found < 0)
        return;
    if (found && hset_get(W.arena, &r, x->argv[2].ptr, x->argv[2].len, &v, &vlen) &&
        !util_str2ld((const char *)v, vlen, &value)) {
        reply_error(x, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(x, "ERR increment would produce NaN or Infinity");
        return;
    }
    n = util_ld2str_human(buf, sizeof(buf), value);
    BUG_ON(n <= 0);   /* a finite long double always fits */
    rc = hset_put(W.arena, &r, KS_T_HASH, x->argv[2].ptr, x->argv[2].len, buf, (size_t)n, 0,
                  &added);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty++;
    resp_add_bulk(&x->out, buf, (size_t)n);
}

/* ---- reading fields ------------------------------------------------------------------- */

/* The value of a field as a bulk, or a null. */
static void reply_field(struct cmd_ctx *x, const struct ks_ref *r, const struct resp_arg *f)
{
    const uint8_t *v;
    size_t vlen;

    if (r->off && hset_get(W.arena, r, f->ptr, f->len, &v, &vlen))
        resp_add_bulk(&x->out, v, vlen);
    else
        resp_add_null(&x->out);
}

void hgetCommand(struct cmd_ctx *x)
{
    struct ks_ref r;

    if (coll_open(x, 1, KS_T_HASH, 0, &r) < 0)
        return;
    reply_field(x, &r, &x->argv[2]);
}

void hmgetCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int i;

    /* A missing key is an empty hash: a null per field. */
    if (coll_open(x, 1, KS_T_HASH, 0, &r) < 0)
        return;
    resp_add_array(&x->out, x->argc - 2);
    for (i = 2; i < x->argc; i++)
        reply_field(x, &r, &x->argv[i]);
}

void coll_del_members(struct cmd_ctx *x, unsigned type,
                      int (*del)(struct shm_arena *, struct ks_ref *, const void *, size_t, int *))
{
    long long deleted = 0;
    struct ks_ref r;
    int i, removed, rc, found = coll_open(x, 1, type, 1, &r);

    if (found <= 0) {
        if (found == 0)
            resp_add_int(&x->out, 0);
        return;
    }
    for (i = 2; i < x->argc && r.off != 0; i++) {
        rc = del(W.arena, &r, x->argv[i].ptr, x->argv[i].len, &removed);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
        deleted += removed;
    }
    x->dirty += (int)deleted;
    resp_add_int(&x->out, deleted);
}

void hdelCommand(struct cmd_ctx *x)
{
    coll_del_members(x, KS_T_HASH, hset_del);
}

void hlenCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int found = coll_open(x, 1, KS_T_HASH, 0, &r);

    if (found >= 0)
        resp_add_int(&x->out, found ? (long long)hset_len(W.arena, &r) : 0);
}

void hstrlenCommand(struct cmd_ctx *x)
{
    const uint8_t *v;
    struct ks_ref r;
    size_t vlen = 0;
    int found = coll_open(x, 1, KS_T_HASH, 0, &r);

    if (found < 0)
        return;
    if (!found || !hset_get(W.arena, &r, x->argv[2].ptr, x->argv[2].len, &v, &vlen))
        vlen = 0;
    resp_add_int(&x->out, (long long)vlen);
}

void hexistsCommand(struct cmd_ctx *x)
{
    const uint8_t *v;
    struct ks_ref r;
    size_t vlen;
    int found = coll_open(x, 1, KS_T_HASH, 0, &r);

    if (found >= 0)
        resp_add_int(&x->out,
                     found && hset_get(W.arena, &r, x->argv[2].ptr, x->argv[2].len, &v, &vlen));
}

#define WANT_FIELDS 1
#define WANT_VALUES 2

/* HKEYS, HVALS, HGETALL: an array (a map for HGETALL) in the hash's order. */
static void hgetall_generic(struct cmd_ctx *x, int want)
{
    const uint8_t *m, *v;
    struct hset_it it;
    struct ks_ref r;
    size_t ml, vl;
    int found = coll_open(x, 1, KS_T_HASH, 0, &r);
    long n;

    if (found < 0)
        return;
    n = found ? (long)hset_len(W.arena, &r) : 0;
    if (want == (WANT_FIELDS | WANT_VALUES))
        resp_add_map(&x->out, n);
    else
        resp_add_array(&x->out, n);
    if (!found)
        return;
    hset_iter(W.arena, &r, &it);
    while (hset_next(&it, &m, &ml, &v, &vl)) {
        if (want & WANT_FIELDS)
            resp_add_bulk(&x->out, m, ml);
        if (want & WANT_VALUES)
            resp_add_bulk(&x->out, v, vl);
    }
}

void hkeysCommand(struct cmd_ctx *x)
{
    hgetall_generic(x, WANT_FIELDS);
}

void hvalsCommand(struct cmd_ctx *x)
{
    hgetall_generic(x, WANT_VALUES);
}

void hgetallCommand(struct cmd_ctx *x)
{
    hgetall_generic(x, WANT_FIELDS | WANT_VALUES);
}

void hscanCommand(struct cmd_ctx *x)
{
    coll_scan(x, KS_T_HASH);
}

/* ---- HRANDFIELD ---------------------------------------------------------------------- */

/*
 * HRANDFIELD key count [WITHVALUES], as Redis's hrandfieldWithCountCommand:
 * negative counts repeat, positive ones are distinct and capped at the
 * size; an empty array for a missing key or a zero count.
 */
static void hrandfield_count(struct cmd_ctx *x, long long l, int withvalues)
{
    uint64_t count = l < 0 ? (uint64_t)-l : (uint64_t)l, size, i;
    struct coll_pick *pk, one;
    struct ks_ref r;
    int found = coll_open(x, 1, KS_T_HASH, 0, &r);
    int flat = withvalues && x->out.proto == 2;

    if (found < 0)
        return;
    if (!found || count == 0) {
        resp_add_array(&x->out, 0);
        return;
    }
    size = hset_len(W.arena, &r);
    if (l < 0 || count == 1) {
        resp_add_array(&x->out, (long)(flat ? 2 * count : count));
        coll_reply_random(x, &r, size, count, withvalues);
        return;
    }
    if (count >= size) {
        struct hset_it it;
        resp_add_array(&x->out, (long)(flat ? 2 * size : size));
        hset_iter(W.arena, &r, &it);
        while (hset_next(&it, &one.m, &one.mlen, &one.v, &one.vlen))
            reply_pick(x, withvalues, &one);
        return;
    }
    pk = coll_sample(&r, size, count);
    if (pk == NULL) {
        reply_error(x, "ERR out of memory");
        return;
    }
    resp_add_array(&x->out, (long)(flat ? 2 * count : count));
    for (i = 0; i < count; i++)
        reply_pick(x, withvalues, &pk[i]);
    free(pk);
}

void hrandfieldCommand(struct cmd_ctx *x)
{
    const uint8_t *m, *v;
    struct ks_ref r;
    size_t ml, vl;
    long long l;
    int found, withvalues = 0;

    if (x->argc >= 3) {
        if (coll_arg_count(x, 2, -LLONG_MAX, &l, NULL) != 0)
            return;
        if (x->argc > 4 || (x->argc == 4 && !ARG_EQ(x, 3, "withvalues"))) {
            reply_syntax(x);
            return;
        }
        if (x->argc == 4) {
            withvalues = 1;
            if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
                reply_error(x, "ERR value is out of range");
                return;
            }
        }
        hrandfield_count(x, l, withvalues);
        return;
    }
    found = coll_open(x, 1, KS_T_HASH, 0, &r);
    if (found < 0)
        return;
    if (!found) {
        resp_add_null(&x->out);
        return;
    }
    hset_random(W.arena, &r, worker_rand(), &m, &ml, &v, &vl);
    resp_add_bulk(&x->out, m, ml);
}
