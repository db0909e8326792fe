/*
 * t_list.c - list commands, blocking pops, and list moves across shards.
 *
 * A list is a keyspace entry whose value is a qlist (shm/qlist.h): a run
 * of elements inline while small, a chain of nodes beyond.  Commands follow
 * Redis 7.0's t_list.c in semantics, reply types (RESP2 and RESP3) and
 * error strings; a list is never empty (the first push creates the key,
 * popping the last element deletes it).  Writes run in the dispatcher's
 * mutation; on an arena error a command calls db_fail() and returns.
 *
 * Costs.  Pushes hand all their elements to one qlist_push().  LRANGE,
 * LPOS and big pops stream from an iterator straight into the reply: a pop
 * of many elements replies them from the iterator, then cuts them off with
 * qlist_trim() (whole nodes leave in O(1), big ones through the garbage
 * list), so nothing is allocated per element.  Popped elements point into
 * the arena and stay valid until the commit, except when the same list
 * changes again: LMOVE on one list copies its element first.
 *
 * Blocking pops (BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH) wait at the keys'
 * owner (blocking.h): every push calls block_signal_key(), and the worker
 * serves waiters right after the command that pushed (client.c, cross.c),
 * first blocked first served, as Redis does after each command.  A waiter
 * re-run with x->retry pops from x->ready_key only, or stays blocked
 * (x->deferred) when that key holds nothing for it; a key of another type
 * leaves waiters blocked, a BLMOVE whose destination has the wrong type
 * replies WRONGTYPE and pops nothing (Redis's serveClientBlockedOnList).
 * BLPOP, BRPOP and BLMPOP whose keys live on different shards reply
 * CROSSSLOT, as Redis Cluster does (the dispatcher checks BLPOP/BRPOP;
 * BLMPOP, whose keys follow numkeys, checks here).  LMPOP across shards
 * runs: it asks each owner in key order (consecutive keys of one owner in
 * one request) until one pops, so each owner's part is atomic.
 *
 * LMOVE / RPOPLPUSH / BLMOVE / BRPOPLPUSH with source and destination on
 * different shards move in phases of one pending (cross_rearm), the client
 * reading nothing meanwhile (cross_pause_client):
 *
 *   1. peek the source's end element E ("@lpeek"; BLMOVE: "@lbpeek", which
 *      blocks at the source's owner like any waiter and, once E is there,
 *      reserves the source for this move, see below);
 *   2. "LPUSH|RPUSH dst E" at the destination's owner: a destination of
 *      another type replies WRONGTYPE before anything was popped;
 *   3. "@lpopif src where E": pops the source's end only if it still is E.
 *
 * The element is pushed before it is popped, so a worker SIGKILLed between
 * phases, a failure, or a concurrent change can at worst duplicate E (in
 * both lists), never lose it.  What a concurrent client may observe: E in
 * both lists between phases 2 and 3; if another client pops the source's
 * end in that window, or pushes to that end, phase 3 finds another element
 * and leaves it, so E ends up both moved and popped (or still in the
 * source); a source deleted or retyped after phase 1 makes the move a
 * copy.  A single client observes exactly Redis's results; keys sharing a
 * {hash tag} share a shard, where every move is atomic.
 *
 * Reservations keep first-blocked-first-served across shards: once a
 * cross-shard BLMOVE was given E (phase 1), no other blocking pop on that
 * source (blocked or new) is served until phase 3 or a release
 * ("@lunreserve", after a WRONGTYPE at phase 2) arrives, so two waiters are
 * never handed the same element.  Non-blocking commands ignore
 * reservations (the race above).  A reservation whose mover vanished
 * (worker crash, a client gone at the wrong instant) expires after
 * RESV_MS and the source's waiters are served again.
 */
#include "server.h"
#include "blocking.h"
#include "coll.h"
#include "commands.h"
#include "cross.h"
#include "util.h"

#include "shm/qlist.h"

#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POP_CHUNK  64          /* pops up to this many use qlist_pop() */
#define PUSH_STACK 64          /* pushes of up to this many elements: no malloc */
#define KEYS_STACK 16          /* blocking commands on up to this many keys */
#define COPY_STACK 256         /* LMOVE on one list: element copied on the stack */
#define RESV_MS    3000        /* a reservation's lifetime without its mover */

static const char *const syntax_err = "ERR syntax error";

/* ---- small helpers -------------------------------------------------------------- */

/* LEFT / RIGHT (any case) -> QLIST_HEAD / QLIST_TAIL; syntax error. */
static int where_arg(struct cmd_ctx *x, int i, int *where)
{
    if (ARG_EQ(x, i, "left"))
        *where = QLIST_HEAD;
    else if (ARG_EQ(x, i, "right"))
        *where = QLIST_TAIL;
    else {
        reply_error(x, syntax_err);
        return -1;
    }
    return 0;
}

static const char *where_name(int where)
{
    return where == QLIST_HEAD ? "LEFT" : "RIGHT";
}

static int same_arg(const struct resp_arg *a, const struct resp_arg *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* A retried waiter pops from the key that got data only (Redis too). */
static int is_ready_key(const struct cmd_ctx *x, const struct resp_arg *key)
{
    return key->len == x->ready_klen && memcmp(key->ptr, x->ready_key, key->len) == 0;
}

/* Elements of r (0 when absent). */
static uint64_t llen(const struct ks_ref *r)
{
    return qlist_len(W.arena, r);
}

/* A key pushed to: its waiters get served after this command. */
static void signal_key(struct cmd_ctx *x, const char *key, size_t klen)
{
    block_signal_key(x->db, key, klen);
}

/*
 * Pushes v[0..n) at `where` (r from a write lookup, created when absent).
 * 0, or -1 after replying the error or calling db_fail().
 */
static int push_elems(struct cmd_ctx *x, struct ks_ref *r, int where, const struct pack_str *v,
                      uint32_t n)
{
    int rc = qlist_push(W.arena, r, where, v, n);

    if (rc == EMBER_ETOOBIG) {
        reply_error(x, "ERR element too large for a list");
        return -1;
    }
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return -1;
    }
    return 0;
}

/* Pushes argv[first..argc) in one qlist_push(): 0 or -1 (replied/failed). */
static int push_args(struct cmd_ctx *x, struct ks_ref *r, int where, int first)
{
    struct pack_str stack[PUSH_STACK], *v = stack;
    uint32_t n = (uint32_t)(x->argc - first), i;
    int rc;

    if (n > PUSH_STACK && (v = malloc(n * sizeof(*v))) == NULL) {
        reply_error(x, "ERR out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        v[i].s = x->argv[first + (int)i].ptr;
        v[i].len = x->argv[first + (int)i].len;
    }
    rc = push_elems(x, r, where, v, n);
    if (v != stack)
        free(v);
    return rc;
}

/* Pops one element from r's `where` end (r holds one) and replies it as a
 * bulk.  0 or -1 (db_fail). */
static int pop_one(struct cmd_ctx *x, struct ks_ref *r, int where)
{
    struct qlist_elem e;
    uint32_t n;
    int rc = qlist_pop(W.arena, r, where, &e, 1, &n);

    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return -1;
    }
    BUG_ON(n != 1);
    resp_add_bulk(&x->out, e.s, e.len);
    return 0;
}

/*
 * Replies the `count` elements at r's `where` end (0 < count <= length) in
 * the order they leave the list, as an array, and removes them.  A few go
 * through qlist_pop(); more are replied from an iterator and then cut off
 * with one trim (or the key deleted), so no memory grows with count.
 * 0 or -1 (db_fail).
 */
static int pop_many(struct cmd_ctx *x, struct ks_ref *r, int where, uint64_t count)
{
    uint64_t len = llen(r), i = 0;
    struct qlist_iter it;
    struct qlist_elem e;
    int rc = 0;

    resp_add_array(&x->out, (long)count);
    if (count <= POP_CHUNK) {
        struct qlist_elem out[POP_CHUNK];
        uint32_t n, j;
        rc = qlist_pop(W.arena, r, where, out, (uint32_t)count, &n);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return -1;
        }
        BUG_ON(n != count);
        for (j = 0; j < n; j++)
            resp_add_bulk(&x->out, out[j].s, out[j].len);
        return 0;
    }
    qlist_iter_init(W.arena, r, where == QLIST_HEAD ? 0 : -1,
                    where == QLIST_HEAD ? QLIST_TAIL : QLIST_HEAD, &it);
    while (i < count && (rc = qlist_iter_next(&it, &e)) > 0) {
        resp_add_bulk(&x->out, e.s, e.len);
        i++;
    }
    qlist_iter_release(&it);
    if (i < count) {
        /* No memory to decompress a node: nothing is popped. */
        db_fail(x, rc < 0 ? rc : EMBER_ENOMEM);
        return -1;
    }
    if (count >= len)
        rc = ks_ref_delete(W.arena, r);
    else if (where == QLIST_HEAD)
        rc = qlist_trim(W.arena, r, (int64_t)count, (int64_t)len - 1);
    else
        rc = qlist_trim(W.arena, r, 0, (int64_t)(len - count) - 1);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return -1;
    }
    return 0;
}

/* Key name and popped elements, LMPOP/BLMPOP's reply. */
static int pop_with_key(struct cmd_ctx *x, struct ks_ref *r, const struct resp_arg *key,
                        int where, long long count)
{
    uint64_t len = llen(r), n = (uint64_t)count < len ? (uint64_t)count : len;

    resp_add_array(&x->out, 2);
    resp_add_bulk(&x->out, key->ptr, key->len);
    if (pop_many(x, r, where, n) != 0)
        return -1;
    x->dirty += (int)n;
    return 0;
}

/* ---- reservations (cross-shard BLMOVE, see the top of the file) ------------------ */

struct resv {
    struct resv *next;
    unsigned db;
    uint64_t token;            /* the mover's */
    struct event *timer;       /* expiry: the mover may be gone */
    size_t klen;
    char key[];
};

static struct resv *resvs;

static struct resv **resv_find(unsigned db, const char *key, size_t klen)
{
    struct resv **pp;

    for (pp = &resvs; *pp; pp = &(*pp)->next)
        if ((*pp)->db == db && (*pp)->klen == klen && memcmp((*pp)->key, key, klen) == 0)
            return pp;
    return NULL;
}

/* Is this source reserved by a move in flight?  (Blocking pops wait.) */
static int reserved(unsigned db, const char *key, size_t klen)
{
    return resvs != NULL && resv_find(db, key, klen) != NULL;
}

/* Unlinks and frees *pp; the source's waiters are served again. */
static void resv_drop(struct resv **pp)
{
    struct resv *r = *pp;

    *pp = r->next;
    block_signal_key(r->db, r->key, r->klen);
    if (r->timer)
        event_free(r->timer);
    free(r);
}

static void resv_expired(evutil_socket_t fd, short what, void *arg)
{
    struct resv *r = arg;
    struct resv **pp = resv_find(r->db, r->key, r->klen);

    (void)fd;
    (void)what;
    W.now_ms = util_mstime();
    if (pp != NULL && *pp == r)
        resv_drop(pp);
}

/* Reserves key for `token`.  0, or -1 when out of memory. */
static int resv_add(unsigned db, const char *key, size_t klen, uint64_t token)
{
    struct resv *r = malloc(sizeof(*r) + klen);

    if (r == NULL)
        return -1;
    r->db = db;
    r->token = token;
    r->klen = klen;
    memcpy(r->key, key, klen);
    r->timer = NULL;
    if (W.base != NULL) {
        struct timeval tv = { RESV_MS / 1000, (RESV_MS % 1000) * 1000 };
        r->timer = evtimer_new(W.base, resv_expired, r);
        if (r->timer == NULL || evtimer_add(r->timer, &tv) != 0) {
            if (r->timer)
                event_free(r->timer);
            free(r);
            return -1;
        }
    }
    r->next = resvs;
    resvs = r;
    return 0;
}

/* Releases token's reservation of key, if it still holds one. */
static void resv_release(unsigned db, const char *key, size_t klen, uint64_t token)
{
    struct resv **pp = resv_find(db, key, klen);

    if (pp != NULL && (*pp)->token == token)
        resv_drop(pp);
}

/* A token no other move of this run uses. */
static uint64_t new_token(void)
{
    static uint64_t n;
    uint64_t gen = W.shared ? atomic_load(&W.shared->w[W.id].generation) : 0;

    return ((uint64_t)W.id << 56) ^ ((gen & 0xffff) << 40) ^ ++n;
}

/*
 * Looks up a key a blocking pop may take from: 1 when it is a list with
 * elements for us (not reserved), 0 when absent, empty for us, or (with
 * soft) of another type, -1 after replying WRONGTYPE.
 */
static int open_for_pop(struct cmd_ctx *x, const struct resp_arg *key, struct ks_ref *r,
                        int soft)
{
    if (!coll_lookup(x, key, 1, r))
        return 0;
    if (r->e.type != KS_T_LIST) {
        if (soft)
            return 0;
        reply_wrongtype(x);
        return -1;
    }
    return reserved(x->db, key->ptr, key->len) ? 0 : 1;
}

/* ---- pushes ---------------------------------------------------------------------- */

/* LPUSH / RPUSH / LPUSHX / RPUSHX: the new length. */
static void push_generic(struct cmd_ctx *x, int where, int xx)
{
    struct ks_ref r;
    int found = coll_open(x, 1, KS_T_LIST, 1, &r);

    if (found < 0)
        return;
    if (!found && xx) {
        resp_add_int(&x->out, 0);
        return;
    }
    if (push_args(x, &r, where, 2) != 0)
        return;
    x->dirty += x->argc - 2;
    resp_add_int(&x->out, (long long)llen(&r));
    signal_key(x, x->argv[1].ptr, x->argv[1].len);
}

void lpushCommand(struct cmd_ctx *x)
{
    push_generic(x, QLIST_HEAD, 0);
}

void rpushCommand(struct cmd_ctx *x)
{
    push_generic(x, QLIST_TAIL, 0);
}

void lpushxCommand(struct cmd_ctx *x)
{
    push_generic(x, QLIST_HEAD, 1);
}

void rpushxCommand(struct cmd_ctx *x)
{
    push_generic(x, QLIST_TAIL, 1);
}

/* LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the
 * pivot, 0 without the key. */
void linsertCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int after, found, rc;

    if (ARG_EQ(x, 2, "after"))
        after = 1;
    else if (ARG_EQ(x, 2, "before"))
        after = 0;
    else {
        reply_error(x, syntax_err);
        return;
    }
    found = coll_open(x, 1, KS_T_LIST, 1, &r);
    if (found <= 0) {
        if (found == 0)
            resp_add_int(&x->out, 0);
        return;
    }
    rc = qlist_insert(W.arena, &r, after, x->argv[3].ptr, x->argv[3].len, x->argv[4].ptr,
                      x->argv[4].len, &found);
    if (rc == EMBER_ETOOBIG) {
        reply_error(x, "ERR element too large for a list");
        return;
    }
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    if (!found) {
        resp_add_int(&x->out, -1);
        return;
    }
    x->dirty++;
    resp_add_int(&x->out, (long long)llen(&r));
}

/* ---- reading --------------------------------------------------------------------- */

void llenCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int found = coll_open(x, 1, KS_T_LIST, 0, &r);

    if (found >= 0)
        resp_add_int(&x->out, (long long)llen(&r));
}

void lindexCommand(struct cmd_ctx *x)
{
    struct qlist_elem e;
    struct ks_ref r;
    long long index;
    int found = coll_open(x, 1, KS_T_LIST, 0, &r);

    if (found <= 0) {
        if (found == 0)
            resp_add_null(&x->out);
        return;
    }
    if (arg_ll(x, 2, &index) != 0)
        return;
    if (qlist_index(W.arena, &r, index, &e))
        resp_add_bulk(&x->out, e.s, e.len);
    else
        resp_add_null(&x->out);
}

/*
 * LRANGE key start stop, Redis's index arithmetic, streamed from an
 * iterator.  The reply is as big as the range asked for, which the list's
 * own size bounds (as in Redis).
 */
void lrangeCommand(struct cmd_ctx *x)
{
    long long start, end, len;
    struct qlist_iter it;
    struct qlist_elem e;
    struct ks_ref r;
    uint64_t n, i = 0;
    int found, rc = 0;

    if (arg_ll(x, 2, &start) != 0 || arg_ll(x, 3, &end) != 0)
        return;
    found = coll_open(x, 1, KS_T_LIST, 0, &r);
    if (found <= 0) {
        if (found == 0)
            resp_add_array(&x->out, 0);
        return;
    }
    len = (long long)llen(&r);
    if (start < 0)
        start = len + start;
    if (end < 0)
        end = len + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= len) {
        resp_add_array(&x->out, 0);
        return;
    }
    if (end >= len)
        end = len - 1;
    n = (uint64_t)(end - start) + 1;
    resp_add_array(&x->out, (long)n);
    qlist_iter_init(W.arena, &r, start, QLIST_TAIL, &it);
    while (i < n && (rc = qlist_iter_next(&it, &e)) > 0) {
        resp_add_bulk(&x->out, e.s, e.len);
        i++;
    }
    qlist_iter_release(&it);
    if (i < n)
        x->out.b->failed = 1;   /* no memory to decompress a node: drop the client */
}

/*
 * LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].  As
 * Redis 7.0, a RANK of LONG_MIN stays negative when negated: every match
 * counts and COUNT never stops the scan.
 */
void lposCommand(struct cmd_ctx *x)
{
    const struct resp_arg *ele = &x->argv[2];
    long long rank = 1, count = -1, maxlen = 0, matches = 0, scanned = 0, found_at = -1;
    long long nreplied = 0;
    struct qlist_iter it;
    struct qlist_elem e;
    struct ks_ref r;
    size_t hdr = 0;
    int j, dir = QLIST_TAIL, nolimit = 0, rc = 0;

    for (j = 3; j < x->argc; j++) {
        int more = x->argc - 1 - j;
        if (ARG_EQ(x, j, "rank") && more) {
            if (arg_ll(x, ++j, &rank) != 0)
                return;
            if (rank == 0) {
                reply_error(x, "ERR RANK can't be zero: use 1 to start from the first match, "
                               "2 from the second ... or use negative to start from the end "
                               "of the list");
                return;
            }
        } else if (ARG_EQ(x, j, "count") && more) {
            if (coll_arg_count(x, ++j, 0, &count, "ERR COUNT can't be negative") != 0)
                return;
        } else if (ARG_EQ(x, j, "maxlen") && more) {
            if (coll_arg_count(x, ++j, 0, &maxlen, "ERR MAXLEN can't be negative") != 0)
                return;
        } else {
            reply_error(x, syntax_err);
            return;
        }
    }
    if (rank < 0) {
        dir = QLIST_HEAD;
        if (rank == LLONG_MIN)
            nolimit = 1;   /* Redis: -LONG_MIN wraps, so rank stays below any match count */
        rank = rank == LLONG_MIN ? 1 : -rank;
    }
    if ((j = coll_open(x, 1, KS_T_LIST, 0, &r)) <= 0) {
        if (j == 0) {
            if (count != -1)
                resp_add_array(&x->out, 0);
            else
                resp_add_null(&x->out);
        }
        return;
    }
    if (count != -1)
        hdr = resp_add_deferred(&x->out);
    qlist_iter_init(W.arena, &r, dir == QLIST_TAIL ? 0 : -1, dir, &it);
    while ((maxlen == 0 || scanned < maxlen) && (rc = qlist_iter_next(&it, &e)) > 0) {
        scanned++;
        if (!qlist_elem_eq(&e, ele->ptr, ele->len))
            continue;
        matches++;
        if (matches < rank)
            continue;
        found_at = (long long)it.index;
        if (count == -1)
            break;
        resp_add_int(&x->out, found_at);
        nreplied++;
        if (count && !nolimit && matches - rank + 1 >= count)
            break;
    }
    qlist_iter_release(&it);
    if (rc < 0)
        x->out.b->failed = 1;
    if (count != -1)
        resp_set_deferred_array(&x->out, hdr, nreplied);
    else if (found_at >= 0 && matches >= rank)
        resp_add_int(&x->out, found_at);
    else
        resp_add_null(&x->out);
}

/* ---- changing in place ---------------------------------------------------------- */

void lsetCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    long long index;
    int found = coll_open(x, 1, KS_T_LIST, 1, &r), rc;

    if (found <= 0) {
        if (found == 0)
            reply_error(x, "ERR no such key");
        return;
    }
    if (arg_ll(x, 2, &index) != 0)
        return;
    rc = qlist_set(W.arena, &r, index, x->argv[3].ptr, x->argv[3].len, &found);
    if (rc == EMBER_ETOOBIG) {
        reply_error(x, "ERR element too large for a list");
        return;
    }
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    if (!found) {
        reply_error(x, "ERR index out of range");
        return;
    }
    x->dirty++;
    reply_ok(x);
}

void lremCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    long long count;
    uint64_t removed;
    int found, rc;

    if (arg_ll(x, 2, &count) != 0)
        return;
    found = coll_open(x, 1, KS_T_LIST, 1, &r);
    if (found <= 0) {
        if (found == 0)
            resp_add_int(&x->out, 0);
        return;
    }
    rc = qlist_rem(W.arena, &r, count, x->argv[3].ptr, x->argv[3].len, &removed);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty += (int)removed;
    resp_add_int(&x->out, (long long)removed);
}

void ltrimCommand(struct cmd_ctx *x)
{
    long long start, end, len, ltrim, rtrim;
    struct ks_ref r;
    int found, rc;

    if (arg_ll(x, 2, &start) != 0 || arg_ll(x, 3, &end) != 0)
        return;
    found = coll_open(x, 1, KS_T_LIST, 1, &r);
    if (found <= 0) {
        if (found == 0)
            reply_ok(x);
        return;
    }
    /* Redis's arithmetic, for the count of removed elements (dirty). */
    len = (long long)llen(&r);
    ltrim = start < 0 ? len + start : start;
    rtrim = end < 0 ? len + end : end;
    if (ltrim < 0)
        ltrim = 0;
    if (ltrim > rtrim || ltrim >= len) {
        ltrim = len;
        rtrim = 0;
    } else {
        if (rtrim >= len)
            rtrim = len - 1;
        rtrim = len - rtrim - 1;
    }
    rc = qlist_trim(W.arena, &r, start, end);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty += (int)(ltrim + rtrim);
    reply_ok(x);
}

/* ---- pops ------------------------------------------------------------------------- */

/* LPOP / RPOP key [count]: a bulk, or with a count an array. */
static void pop_generic(struct cmd_ctx *x, int where)
{
    long long count = 0;
    struct ks_ref r;
    int found;

    if (x->argc > 3) {
        reply_arity(x);
        return;
    }
    if (x->argc == 3 &&
        coll_arg_count(x, 2, 0, &count, "ERR value is out of range, must be positive") != 0)
        return;
    found = coll_open(x, 1, KS_T_LIST, 1, &r);
    if (found <= 0) {
        if (found == 0) {
            if (x->argc == 3)
                resp_add_null_array(&x->out);
            else
                resp_add_null(&x->out);
        }
        return;
    }
    if (x->argc == 2) {
        if (pop_one(x, &r, where) == 0)
            x->dirty++;
        return;
    }
    if (count == 0) {
        resp_add_array(&x->out, 0);
        return;
    }
    if ((uint64_t)count > llen(&r))
        count = (long long)llen(&r);
    if (pop_many(x, &r, where, (uint64_t)count) == 0)
        x->dirty += (int)count;
}

void lpopCommand(struct cmd_ctx *x)
{
    pop_generic(x, QLIST_HEAD);
}

void rpopCommand(struct cmd_ctx *x)
{
    pop_generic(x, QLIST_TAIL);
}

/* ---- routing multi-key commands -------------------------------------------------- */

/*
 * Where a self-routing command on keys argv[idx[0..n)] runs: 1 here (a
 * forwarded command or part, one worker, or every key ours), 0 when it
 * went whole to the one other shard owning every key, -1 when the keys
 * span shards.
 */
static int route(struct cmd_ctx *x, const int *idx, int n)
{
    unsigned owner;
    int j;

    if (x->c == NULL || W.nworkers <= 1)
        return 1;
    owner = key_shard(x->argv[idx[0]].ptr, x->argv[idx[0]].len);
    for (j = 1; j < n; j++)
        if (key_shard(x->argv[idx[j]].ptr, x->argv[idx[j]].len) != owner)
            return -1;
    if (owner == W.id)
        return 1;
    cross_forward(x, owner);
    W.st.forwarded++;
    return 0;
}

/* The same for the keys argv[first..first+n). */
static int route_range(struct cmd_ctx *x, int first, long long n)
{
    unsigned owner;
    long long j;

    if (x->c == NULL || W.nworkers <= 1)
        return 1;
    owner = key_shard(x->argv[first].ptr, x->argv[first].len);
    for (j = 1; j < n; j++)
        if (key_shard(x->argv[first + j].ptr, x->argv[first + j].len) != owner)
            return -1;
    if (owner == W.id)
        return 1;
    cross_forward(x, owner);
    W.st.forwarded++;
    return 0;
}

/* ---- parts' replies --------------------------------------------------------------- */

static int part_is_error(const struct pending *p, unsigned i)
{
    return p->parts[i].reply.len == 0 || p->parts[i].reply.data[0] == '-';
}

static void copy_part(const struct pending *p, unsigned i, struct resp_out *out)
{
    const struct rbuf *r = &p->parts[i].reply;

    if (r->len > 0)
        rbuf_append(out->b, r->data, r->len);
    else
        resp_add_error(out, "ERR no reply from the owning shard");
}

static int part_is_null(const struct pending *p, unsigned i)
{
    const struct rbuf *r = &p->parts[i].reply;

    return (r->len == 5 && memcmp(r->data, "$-1\r\n", 5) == 0) ||
           (r->len == 5 && memcmp(r->data, "*-1\r\n", 5) == 0) ||
           (r->len == 3 && memcmp(r->data, "_\r\n", 3) == 0);
}

/* Part i's reply as a bulk string: 0 and s/len, -1 when it is not one. */
static int part_bulk(const struct pending *p, unsigned i, const char **s, size_t *len)
{
    const struct rbuf *r = &p->parts[i].reply;
    const char *nl;
    long long n;

    if (r->len < 4 || r->data[0] != '$' || (nl = memchr(r->data, '\n', r->len)) == NULL ||
        nl - r->data < 3 || !util_str2ll(r->data + 1, (size_t)(nl - r->data) - 2, &n) ||
        n < 0 || (size_t)(nl - r->data) + 1 + (size_t)n + 2 != r->len)
        return -1;
    *s = nl + 1;
    *len = (size_t)n;
    return 0;
}

/* The client's reply waits for a part that may block at its owner. */
static void block_client(struct pending *p, struct client *c)
{
    p->blocking = 1;
    c->flags |= CLIENT_BLOCKED;
}

/* ---- LMOVE, RPOPLPUSH, BLMOVE, BRPOPLPUSH ------------------------------------------ */

/*
 * LMOVE with both keys here: one mutation, atomic, exactly Redis's
 * lmoveGenericCommand (the source is checked first, then the destination's
 * type, before anything is popped).  On one list the element moves from
 * one end to the other (or nowhere), keeping the key and its expiry.
 */
static void lmove_local(struct cmd_ctx *x, int from, int to)
{
    const struct resp_arg *src = &x->argv[1], *dst = &x->argv[2];
    struct qlist_elem e;
    struct pack_str v;
    struct ks_ref s, d;
    char stack[COPY_STACK], *copy = NULL;
    uint32_t n;
    int rc;

    if (!coll_lookup(x, src, 1, &s)) {
        resp_add_null(&x->out);
        return;
    }
    if (s.e.type != KS_T_LIST || (coll_lookup(x, dst, 1, &d) && d.e.type != KS_T_LIST)) {
        reply_wrongtype(x);
        return;
    }
    if (same_arg(src, dst)) {
        if (from == to || llen(&s) == 1) {
            /* Popped and pushed back where it was: the list is unchanged. */
            (void)qlist_index(W.arena, &s, from == QLIST_HEAD ? 0 : -1, &e);
            resp_add_bulk(&x->out, e.s, e.len);
            x->dirty++;
            return;
        }
        /* The push may write where the popped bytes were: copy them. */
        rc = qlist_pop(W.arena, &s, from, &e, 1, &n);
        if (rc != EMBER_OK)
            goto fail;
        copy = e.len <= sizeof(stack) ? stack : malloc(e.len);
        if (copy == NULL) {
            rc = EMBER_ENOMEM;
            goto fail;
        }
        memcpy(copy, e.s, e.len);
        v.s = copy;
        v.len = e.len;
        if (push_elems(x, &s, to, &v, 1) == 0) {
            resp_add_bulk(&x->out, copy, v.len);
            x->dirty++;
        }
        if (copy != stack)
            free(copy);
        return;
    }
    /* Looking dst up may have deleted it (expired), moving slots: look
     * each key up again right before changing it. */
    (void)coll_lookup(x, src, 1, &s);
    rc = qlist_pop(W.arena, &s, from, &e, 1, &n);
    if (rc != EMBER_OK)
        goto fail;
    (void)coll_lookup(x, dst, 1, &d);
    v.s = e.s;
    v.len = e.len;
    if (push_elems(x, &d, to, &v, 1) != 0)
        return;
    resp_add_bulk(&x->out, e.s, e.len);
    x->dirty++;
    signal_key(x, dst->ptr, dst->len);
    return;
fail:
    db_fail(x, rc);
}

/*
 * A move across shards (see the top of the file): its context, one
 * allocation that grows to hold the element and a deferred error.
 */
struct move_ctx {
    unsigned db;
    int from, to;
    int blocked;               /* phase 1 could block: the client is BLOCKED */
    uint64_t token;            /* the source's reservation, 0 for none */
    int64_t timeout_ms;
    size_t slen, dlen;         /* src, dst */
    size_t elen;               /* the element, once known */
    size_t errlen;             /* an error replied after a release */
    char bytes[];              /* src, dst, element, error */
};

#define MV_SRC(m) ((m)->bytes)
#define MV_DST(m) ((m)->bytes + (m)->slen)
#define MV_ELEM(m) ((m)->bytes + (m)->slen + (m)->dlen)
#define MV_ERR(m) ((m)->bytes + (m)->slen + (m)->dlen + (m)->elen)

static struct move_ctx *move_ctx_new(const struct cmd_ctx *x, int from, int to)
{
    const struct resp_arg *src = &x->argv[1], *dst = &x->argv[2];
    struct move_ctx *m = malloc(sizeof(*m) + src->len + dst->len);

    if (m == NULL)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->db = x->db;
    m->from = from;
    m->to = to;
    m->slen = src->len;
    m->dlen = dst->len;
    memcpy(MV_SRC(m), src->ptr, src->len);
    memcpy(MV_DST(m), dst->ptr, dst->len);
    return m;
}

/* Appends the element (then, with err, an error) to p's context. */
static int move_ctx_add(struct pending *p, const char *s, size_t len, int err)
{
    struct move_ctx *m = p->ctx;
    size_t used = sizeof(*m) + m->slen + m->dlen + m->elen + m->errlen;

    m = realloc(m, used + len);
    if (m == NULL)
        return -1;
    memcpy((char *)m + used, s, len);
    if (err)
        m->errlen = len;
    else
        m->elen = len;
    p->ctx = m;
    return 0;
}

static void send_move_part(struct pending *p, const char *name, unsigned argc,
                           const struct resp_arg *rest)
{
    const struct move_ctx *m = p->ctx;
    struct resp_arg v[6];
    unsigned i;

    v[0].ptr = name;
    v[0].len = strlen(name);
    for (i = 0; i < argc; i++)
        v[i + 1] = rest[i];
    /* Every part of a move names its key first: that key's owner runs it. */
    cross_send_part(p, 0, key_shard(v[1].ptr, v[1].len), m->db, (int)argc + 1, v);
}

/* Phase 3 (or a release) done: the reply. */
static void merge_move_done(struct pending *p, struct resp_out *out)
{
    const struct move_ctx *m = p->ctx;

    if (m->errlen)
        rbuf_append(out->b, MV_ERR(m), m->errlen);
    else
        resp_add_bulk(out, MV_ELEM(m), m->elen);
}

/* Phase 2 done: pop the element at the source (or release it). */
static void merge_move_pushed(struct pending *p, struct resp_out *out)
{
    struct move_ctx *m = p->ctx;
    struct resp_arg a[4];
    char tok[24];
    size_t tlen = resp_ull2str(tok, m->token);
    int failed = part_is_error(p, 0);

    if (failed && m->token == 0) {
        copy_part(p, 0, out);     /* WRONGTYPE (or OOM) at dst: nothing popped */
        return;
    }
    if (failed) {
        /* Keep the error to reply once the source is released. */
        const struct rbuf *r = &p->parts[0].reply;
        if (r->len == 0 || move_ctx_add(p, r->data, r->len, 1) != 0) {
            copy_part(p, 0, out);
            return;
        }
        m = p->ctx;
    }
    cross_rearm(p, 1, merge_move_done);
    if (!p->rearmed) {
        resp_add_error(out, "ERR out of memory");
        return;
    }
    a[0].ptr = MV_SRC(m);
    a[0].len = m->slen;
    if (failed) {
        a[1].ptr = tok;
        a[1].len = tlen;
        send_move_part(p, "@lunreserve", 2, a);
        return;
    }
    a[1].ptr = where_name(m->from);
    a[1].len = strlen(a[1].ptr);
    a[2].ptr = MV_ELEM(m);
    a[2].len = m->elen;
    a[3].ptr = tok;
    a[3].len = tlen;
    send_move_part(p, "@lpopif", m->token ? 4 : 3, a);
}

/* Starts phase 2 on p, whose context holds the element. */
static void move_push(struct pending *p, struct resp_out *out)
{
    const struct move_ctx *m = p->ctx;
    struct resp_arg a[2];

    cross_rearm(p, 1, merge_move_pushed);
    if (!p->rearmed) {
        if (out != NULL)
            resp_add_error(out, "ERR out of memory");
        return;
    }
    a[0].ptr = MV_DST(m);
    a[0].len = m->dlen;
    a[1].ptr = MV_ELEM(m);
    a[1].len = m->elen;
    send_move_part(p, m->to == QLIST_HEAD ? "LPUSH" : "RPUSH", 2, a);
}

/* Phase 1 done: the source's end element (or nothing, or an error). */
static void merge_move_peeked(struct pending *p, struct resp_out *out)
{
    struct move_ctx *m = p->ctx;
    const char *s;
    size_t len;

    if (part_is_error(p, 0)) {
        copy_part(p, 0, out);
        return;
    }
    if (part_is_null(p, 0)) {
        /* LMOVE: no source, a null; BLMOVE timed out: a null array, as
         * every list blocking command's timeout in Redis 7.0. */
        if (m->blocked)
            resp_add_null_array(out);
        else
            resp_add_null(out);
        return;
    }
    if (part_bulk(p, 0, &s, &len) != 0) {
        resp_add_error(out, "ERR malformed reply from the owning shard");
        return;
    }
    if (move_ctx_add(p, s, len, 0) != 0) {
        resp_add_error(out, "ERR out of memory");
        return;
    }
    m = p->ctx;
    if (m->blocked) {
        /* No longer waiting for data: the move runs to its end now, even
         * if the client goes away (the element is reserved for it). */
        p->blocking = 0;
        if (p->c)
            p->c->flags &= ~CLIENT_BLOCKED;
        cross_pause_client(p);
    }
    move_push(p, out);
}

/*
 * Starts a move across shards at phase 1 ("@lpeek", or with a timeout
 * "@lbpeek", which may block at the source's owner).  timeout_ms < 0: not
 * blocking.
 */
static void move_split(struct cmd_ctx *x, int from, int to, int64_t timeout_ms)
{
    struct move_ctx *m = move_ctx_new(x, from, to);
    struct pending *p = NULL;
    struct resp_arg a[4];
    char tmo[24], tok[24];

    if (m != NULL)
        p = cross_pending(x->c, x->c->proto, 1, merge_move_peeked);
    if (p == NULL) {
        free(m);
        reply_error(x, "ERR out of memory");
        return;
    }
    p->ctx = m;
    a[0] = x->argv[1];
    a[1].ptr = where_name(from);
    a[1].len = strlen(a[1].ptr);
    if (timeout_ms < 0) {
        cross_pause_client(p);
        send_move_part(p, "@lpeek", 2, a);
    } else {
        m->blocked = 1;
        m->token = new_token();
        m->timeout_ms = timeout_ms;
        block_client(p, x->c);
        a[2].ptr = tmo;
        a[2].len = resp_ll2str(tmo, timeout_ms);
        a[3].ptr = tok;
        a[3].len = resp_ull2str(tok, m->token);
        send_move_part(p, "@lbpeek", 4, a);
    }
    cross_pending_issued(p);
}

/*
 * BLMOVE whose source is here and destination elsewhere: block here like
 * any local waiter; once the source has an element, reserve it and start
 * the move at phase 2.
 */
static void blmove_local_source(struct cmd_ctx *x, int from, int to, int64_t timeout_ms)
{
    const struct resp_arg *src = &x->argv[1];
    struct move_ctx *m, *grown;
    struct pending *p = NULL;
    struct qlist_elem e;
    struct ks_ref s;
    int one = 1, ok = open_for_pop(x, src, &s, x->retry);

    if (ok < 0)
        return;
    if (ok == 0) {
        if (x->retry)
            x->deferred = 1;
        else
            (void)block_on_keys(x, &one, 1, timeout_ms, BLOCK_NULL_ARRAY);
        return;
    }
    (void)qlist_index(W.arena, &s, from == QLIST_HEAD ? 0 : -1, &e);
    m = move_ctx_new(x, from, to);
    if (m != NULL && (grown = realloc(m, sizeof(*m) + m->slen + m->dlen + e.len)) == NULL) {
        free(m);
        m = NULL;
    } else if (m != NULL) {
        m = grown;
        memcpy(MV_ELEM(m), e.s, e.len);
        m->elen = e.len;
        m->token = new_token();
        if (resv_add(x->db, src->ptr, src->len, m->token) == 0 &&
            (p = cross_pending(x->c, x->c->proto, 1, NULL)) == NULL)
            resv_release(x->db, src->ptr, src->len, m->token);
    }
    if (p == NULL) {
        free(m);
        reply_error(x, "ERR out of memory");
        return;
    }
    p->ctx = m;
    cross_pause_client(p);
    move_push(p, NULL);           /* one part: cross_rearm cannot fail */
    cross_pending_issued(p);
}

/* BLMOVE and BRPOPLPUSH once their arguments are parsed. */
static void blmove_generic(struct cmd_ctx *x, int from, int to, int64_t timeout_ms)
{
    static const int keys[2] = { 1, 2 };
    struct ks_ref s;
    int one = 1, rt = route(x, keys, 2), ok;

    if (rt == 0)
        return;
    if (rt < 0) {
        if (key_shard(x->argv[1].ptr, x->argv[1].len) == W.id)
            blmove_local_source(x, from, to, timeout_ms);
        else
            move_split(x, from, to, timeout_ms);
        return;
    }
    ok = open_for_pop(x, &x->argv[1], &s, x->retry);
    if (ok < 0)
        return;
    if (ok == 0) {
        if (x->retry)
            x->deferred = 1;
        else
            (void)block_on_keys(x, &one, 1, timeout_ms, BLOCK_NULL_ARRAY);
        return;
    }
    lmove_local(x, from, to);
}

static void lmove_generic(struct cmd_ctx *x, int from, int to)
{
    static const int keys[2] = { 1, 2 };
    int rt = route(x, keys, 2);

    if (rt > 0)
        lmove_local(x, from, to);
    else if (rt < 0)
        move_split(x, from, to, -1);
}

void lmoveCommand(struct cmd_ctx *x)
{
    int from, to;

    if (where_arg(x, 3, &from) != 0 || where_arg(x, 4, &to) != 0)
        return;
    lmove_generic(x, from, to);
}

void rpoplpushCommand(struct cmd_ctx *x)
{
    lmove_generic(x, QLIST_TAIL, QLIST_HEAD);
}

void blmoveCommand(struct cmd_ctx *x)
{
    int64_t timeout;
    int from, to;

    if (where_arg(x, 3, &from) != 0 || where_arg(x, 4, &to) != 0 ||
        block_parse_timeout(x, 5, &timeout) != 0)
        return;
    blmove_generic(x, from, to, timeout);
}

void brpoplpushCommand(struct cmd_ctx *x)
{
    int64_t timeout;

    if (block_parse_timeout(x, 3, &timeout) != 0)
        return;
    blmove_generic(x, QLIST_TAIL, QLIST_HEAD, timeout);
}

/* ---- internal commands of moves across shards -------------------------------------- */

/* Replies the element at r's `where` end (r holds one): 0, or -1 when the
 * list is empty (nothing replied). */
static int peek_end(struct cmd_ctx *x, struct ks_ref *r, int where)
{
    struct qlist_elem e;

    if (!qlist_index(W.arena, r, where == QLIST_HEAD ? 0 : -1, &e))
        return -1;
    resp_add_bulk(&x->out, e.s, e.len);
    return 0;
}

/* @lpeek key LEFT|RIGHT: phase 1 of LMOVE across shards. */
void ilpeekCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int from;

    if (where_arg(x, 2, &from) != 0)
        return;
    if (!coll_lookup(x, &x->argv[1], 1, &r)) {
        resp_add_null(&x->out);
        return;
    }
    if (r.e.type != KS_T_LIST) {
        reply_wrongtype(x);
        return;
    }
    (void)peek_end(x, &r, from);
}

/*
 * @lbpeek key LEFT|RIGHT timeout-ms token: phase 1 of BLMOVE across
 * shards.  Blocks (like a BLMOVE waiter, FIFO with the others) until key
 * has an element that no other move reserved, then reserves key for token
 * and replies the element; WRONGTYPE at once for another type; a null on
 * timeout.
 */
void ilbpeekCommand(struct cmd_ctx *x)
{
    const struct resp_arg *key = &x->argv[1];
    struct resp_arg ready;
    long long timeout, token;
    struct ks_ref r;
    int from, one = 1, ok;

    if (where_arg(x, 2, &from) != 0 || arg_ll(x, 3, &timeout) != 0 || arg_ll(x, 4, &token) != 0)
        return;
    if (x->retry) {
        ready.ptr = x->ready_key;
        ready.len = x->ready_klen;
        key = &ready;
    }
    ok = open_for_pop(x, key, &r, x->retry);
    if (ok < 0)
        return;
    if (ok == 0) {
        if (x->retry)
            x->deferred = 1;
        else
            (void)block_on_keys(x, &one, 1, timeout, BLOCK_NULL_ARRAY);
        return;
    }
    if (resv_add(x->db, key->ptr, key->len, (uint64_t)token) != 0) {
        reply_error(x, "ERR out of memory");
        return;
    }
    (void)peek_end(x, &r, from);
}

/*
 * @lpopif key LEFT|RIGHT element [token]: phase 3 of a move across
 * shards: pops key's end when it is element (:1), else leaves key alone
 * (:0); releases token's reservation.
 */
void ilpopifCommand(struct cmd_ctx *x)
{
    const struct resp_arg *key = &x->argv[1], *ele = &x->argv[3];
    struct qlist_elem e;
    struct ks_ref r;
    long long token;
    int from, popped = 0;

    if (where_arg(x, 2, &from) != 0)
        return;
    if (x->argc > 5 || (x->argc == 5 && !util_str2ll(x->argv[4].ptr, x->argv[4].len, &token))) {
        reply_error(x, syntax_err);
        return;
    }
    if (x->argc == 5)
        resv_release(x->db, key->ptr, key->len, (uint64_t)token);
    if (coll_lookup(x, key, 1, &r) && r.e.type == KS_T_LIST &&
        qlist_index(W.arena, &r, from == QLIST_HEAD ? 0 : -1, &e) &&
        qlist_elem_eq(&e, ele->ptr, ele->len)) {
        uint32_t n;
        int rc = qlist_pop(W.arena, &r, from, &e, 1, &n);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
        popped = 1;
        x->dirty++;
    }
    resp_add_int(&x->out, popped);
}

/* @lunreserve key token: a move that pushed nothing releases its source. */
void ilunreserveCommand(struct cmd_ctx *x)
{
    long long token;

    if (!util_str2ll(x->argv[2].ptr, x->argv[2].len, &token)) {
        reply_error(x, syntax_err);
        return;
    }
    resv_release(x->db, x->argv[1].ptr, x->argv[1].len, (uint64_t)token);
    resp_add_int(&x->out, 1);
}

/* ---- BLPOP, BRPOP ------------------------------------------------------------------ */

/*
 * Blocks x on `n` keys at idx[] (a stack array, or malloc'd for many), or
 * leaves a retried waiter blocked.
 */
static void block_or_stay(struct cmd_ctx *x, int first, int n, int64_t timeout_ms,
                          enum block_timeout_reply tr)
{
    int stack[KEYS_STACK] = { 0 }, *idx = stack, j;

    if (x->retry) {
        x->deferred = 1;
        return;
    }
    if (n > KEYS_STACK && (idx = malloc(sizeof(*idx) * (size_t)n)) == NULL) {
        reply_error(x, "ERR out of memory");
        return;
    }
    for (j = 0; j < n; j++)
        idx[j] = first + j;
    (void)block_on_keys(x, idx, n, timeout_ms, tr);
    if (idx != stack)
        free(idx);
}

/* BLPOP / BRPOP key [key ...] timeout: [key, element], the first non-empty
 * key in order; blocks when all are empty.  The dispatcher routed it (all
 * keys on one shard, else CROSSSLOT). */
static void bpop_generic(struct cmd_ctx *x, int where)
{
    int64_t timeout;
    struct ks_ref r;
    int j, ok;

    if (block_parse_timeout(x, x->argc - 1, &timeout) != 0)
        return;
    for (j = 1; j < x->argc - 1; j++) {
        const struct resp_arg *key = &x->argv[j];
        /* A waiter is served from the key that got data, as Redis does. */
        if (x->retry && !is_ready_key(x, key))
            continue;
        ok = open_for_pop(x, key, &r, x->retry);
        if (ok < 0)
            return;
        if (ok == 0)
            continue;
        resp_add_array(&x->out, 2);
        resp_add_bulk(&x->out, key->ptr, key->len);
        if (pop_one(x, &r, where) != 0)
            return;
        x->dirty++;
        return;
    }
    block_or_stay(x, 1, x->argc - 2, timeout, BLOCK_NULL_ARRAY);
}

void blpopCommand(struct cmd_ctx *x)
{
    bpop_generic(x, QLIST_HEAD);
}

void brpopCommand(struct cmd_ctx *x)
{
    bpop_generic(x, QLIST_TAIL);
}

/* ---- LMPOP, BLMPOP -------------------------------------------------------------------- */

struct mpop_args {
    int first;                 /* argv index of the first key */
    long long numkeys;
    int where;
    long long count;
    int64_t timeout;           /* BLMPOP */
};

/* Parses [timeout] numkeys key... LEFT|RIGHT [COUNT n] as Redis's
 * lmpopGenericCommand, in its order.  0 or -1 (replied). */
static int mpop_parse(struct cmd_ctx *x, int numkeys_idx, int block, struct mpop_args *a)
{
    long long where_idx;
    int j;

    a->count = -1;
    if (coll_arg_count(x, numkeys_idx, 1, &a->numkeys, "ERR numkeys should be greater than 0") !=
        0)
        return -1;
    a->first = numkeys_idx + 1;
    if (a->numkeys >= x->argc) {
        reply_error(x, syntax_err);
        return -1;
    }
    where_idx = numkeys_idx + a->numkeys + 1;
    if (where_idx >= x->argc) {
        reply_error(x, syntax_err);
        return -1;
    }
    if (where_arg(x, (int)where_idx, &a->where) != 0)
        return -1;
    for (j = (int)where_idx + 1; j < x->argc; j++) {
        if (a->count == -1 && ARG_EQ(x, j, "count") && j + 1 < x->argc) {
            if (coll_arg_count(x, ++j, 1, &a->count, "ERR count should be greater than 0") != 0)
                return -1;
        } else {
            reply_error(x, syntax_err);
            return -1;
        }
    }
    if (a->count == -1)
        a->count = 1;
    if (block && block_parse_timeout(x, 1, &a->timeout) != 0)
        return -1;
    return 0;
}

/* LMPOP/BLMPOP on keys all here: the first non-empty one in key order
 * (a retried waiter: the key that got data).  1 popped (replied), 0
 * nothing, -1 replied an error. */
static int mpop_local(struct cmd_ctx *x, const struct mpop_args *a, int block)
{
    struct ks_ref r;
    long long j;
    int ok;

    for (j = 0; j < a->numkeys; j++) {
        const struct resp_arg *key = &x->argv[a->first + j];
        if (x->retry && !is_ready_key(x, key))
            continue;
        ok = block ? open_for_pop(x, key, &r, x->retry) : coll_open(x, a->first + (int)j,
                                                                      KS_T_LIST, 1, &r);
        if (ok < 0)
            return -1;
        if (ok == 0)
            continue;
        return pop_with_key(x, &r, key, a->where, a->count) == 0 ? 1 : -1;
    }
    return 0;
}

/*
 * LMPOP across shards: the keys in order, consecutive keys of one owner in
 * one "LMPOP n keys... where COUNT c" part, one part at a time until one
 * pops (or errs): a phase per group.  The context keeps the arguments.
 */
struct mpop_ctx {
    unsigned db;
    int where;
    long long count;
    long long next;            /* the next key to ask about */
    long long numkeys;
    struct resp_arg *keys;     /* into bytes */
    char bytes[];
};

static void mpop_send_group(struct pending *p);

static void merge_mpop(struct pending *p, struct resp_out *out)
{
    const struct mpop_ctx *m = p->ctx;

    if (part_is_null(p, 0) && m->next < m->numkeys) {
        mpop_send_group(p);
        if (!p->rearmed)
            resp_add_error(out, "ERR out of memory");
        return;
    }
    copy_part(p, 0, out);
}

/* Sends the next group of keys (from m->next) as p's only part. */
static void mpop_send_group(struct pending *p)
{
    struct mpop_ctx *m = p->ctx;
    struct resp_arg stack[KEYS_STACK + 5], *v = stack;
    unsigned owner = key_shard(m->keys[m->next].ptr, m->keys[m->next].len);
    long long n = 1, i;
    char num[24], cnt[24];

    while (m->next + n < m->numkeys &&
           key_shard(m->keys[m->next + n].ptr, m->keys[m->next + n].len) == owner)
        n++;
    cross_rearm(p, 1, merge_mpop);
    if (!p->rearmed)
        return;
    if (n + 5 > KEYS_STACK + 5 && (v = malloc(sizeof(*v) * (size_t)(n + 5))) == NULL) {
        static const char oom[] = "-ERR out of memory\r\n";
        cross_local_part(p, 0, oom, sizeof(oom) - 1);
        return;
    }
    v[0].ptr = "LMPOP";
    v[0].len = 5;
    v[1].ptr = num;
    v[1].len = resp_ll2str(num, n);
    for (i = 0; i < n; i++)
        v[2 + i] = m->keys[m->next + i];
    v[2 + n].ptr = where_name(m->where);
    v[2 + n].len = strlen(v[2 + n].ptr);
    v[3 + n].ptr = "COUNT";
    v[3 + n].len = 5;
    v[4 + n].ptr = cnt;
    v[4 + n].len = resp_ll2str(cnt, m->count);
    m->next += n;
    cross_send_part(p, 0, owner, m->db, (int)(n + 5), v);
    if (v != stack)
        free(v);
}

static void mpop_split(struct cmd_ctx *x, const struct mpop_args *a)
{
    size_t bytes = 0;
    struct mpop_ctx *m;
    struct pending *p = NULL;
    char *at;
    long long j;

    for (j = 0; j < a->numkeys; j++)
        bytes += x->argv[a->first + j].len;
    m = malloc(sizeof(*m) + (size_t)a->numkeys * sizeof(struct resp_arg) + bytes);
    if (m != NULL)
        p = cross_pending(x->c, x->c->proto, 1, merge_mpop);
    if (p == NULL) {
        free(m);
        reply_error(x, "ERR out of memory");
        return;
    }
    m->db = x->db;
    m->where = a->where;
    m->count = a->count;
    m->next = 0;
    m->numkeys = a->numkeys;
    m->keys = (struct resp_arg *)m->bytes;
    at = m->bytes + (size_t)a->numkeys * sizeof(struct resp_arg);
    for (j = 0; j < a->numkeys; j++) {
        const struct resp_arg *k = &x->argv[a->first + j];
        memcpy(at, k->ptr, k->len);
        m->keys[j].ptr = at;
        m->keys[j].len = k->len;
        at += k->len;
    }
    p->ctx = m;
    cross_pause_client(p);
    /* The first group; the merge sends the others while they pop nothing. */
    mpop_send_group(p);           /* one part: cross_rearm cannot fail */
    cross_pending_issued(p);
}

static void mpop_generic(struct cmd_ctx *x, int numkeys_idx, int block)
{
    struct mpop_args a;
    int rt, got;

    if (mpop_parse(x, numkeys_idx, block, &a) != 0)
        return;
    rt = route_range(x, a.first, a.numkeys);
    if (rt == 0)
        return;
    if (rt < 0) {
        if (block)
            reply_error(x, "CROSSSLOT Keys in request don't hash to the same slot");
        else
            mpop_split(x, &a);
        return;
    }
    got = mpop_local(x, &a, block);
    if (got != 0)
        return;
    if (block)
        block_or_stay(x, a.first, (int)a.numkeys, a.timeout, BLOCK_NULL_ARRAY);
    else
        resp_add_null_array(&x->out);
}

void lmpopCommand(struct cmd_ctx *x)
{
    mpop_generic(x, 1, 0);
}

void blmpopCommand(struct cmd_ctx *x)
{
    mpop_generic(x, 2, 1);
}
