/*
 * t_set.c - set commands, and set algebra and SMOVE across shards.
 *
 * A set is a keyspace entry whose value is an hset (shm/hset.h) without
 * values: a pack of members inline while small, a dict of member blocks
 * beyond the limits.  Commands follow Redis 7.0's t_set.c in semantics,
 * reply types (RESP3 sets for SMEMBERS, SINTER, SUNION, SDIFF and SPOP
 * with a count; arrays for SRANDMEMBER) and error strings.  A set is never
 * empty: the first member creates the key, removing the last deletes it.
 *
 * Single-key commands run where the dispatcher routed them.  SPOP and
 * SRANDMEMBER with a count cost O(count) (coll_sample, t_hash.c); SPOP
 * replies its picks, then removes them from copies (a removal may free
 * what the picks point at).
 *
 * Multi-key commands (SINTER, SINTERCARD, SUNION, SDIFF, their *STORE
 * forms, SMOVE) route themselves (CMD_NOKEYROUTE).  When every key lives
 * on one shard (always with one worker, and for keys sharing a {hash
 * tag}) the command runs there whole, atomically: here, or forwarded
 * whole to that shard, where it runs with x->c == NULL, meaning "all keys
 * are mine".  When the keys span shards:
 *
 *   SINTER/SUNION/SDIFF/SINTERCARD  one "SMEMBERS key" part per key, each
 *       run by the key's owner; the merge function parses the members and
 *       computes the answer (WRONGTYPE if any part replied it: Redis type
 *       checks every key, and all such errors read the same).
 *   *STORE  the same first phase; its merge computes the result and starts
 *       a second phase (cross_rearm) that sends "@sstore dst member..." to
 *       the destination's owner, which replaces dst (any type, expiry
 *       dropped, as Redis's setKey) or deletes it when the result is empty
 *       and replies the count.
 *   SMOVE  see smove_split() below.
 *
 * A multi-phase command blocks its client's input until its reply is in,
 * as MSETNX does, so that a pipelined "SUNIONSTORE d a b; SMEMBERS d" reads
 * d after the store.  Across shards these commands are not atomic: each
 * key is read at its own moment, and a writer may come between the reads
 * and the store; each shard's part is atomic.
 *
 * Pointers into the arena are valid for the current command only; parts'
 * replies only until the pending moves to its next phase, so a merge
 * copies what the next phase sends.
 */
#include "server.h"
#include "coll.h"
#include "commands.h"
#include "cross.h"
#include "util.h"

#include "shm/hset.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- member tables (process-local) ---------------------------------------------- */

/*
 * A list of members, optionally indexed for lookups: the members of a set
 * another shard sent, or a result being built.  Members point at bytes
 * owned by someone else (a part's reply, the arena).
 */
struct mentry {
    const uint8_t *p;
    size_t len;
    uint64_t h;
};

struct mset {
    struct mentry *e;     /* members, in insertion order */
    size_t n, cap;
    size_t *idx;          /* open addressing: 1 + index into e, 0 free; NULL: none */
    size_t mask;
};

static void mset_free(struct mset *s)
{
    free(s->e);
    free(s->idx);
    memset(s, 0, sizeof(*s));
}

/* Appends a member, without looking for it.  0 or -1 (out of memory). */
static int mset_push(struct mset *s, const uint8_t *p, size_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct mentry *e = realloc(s->e, cap * sizeof(*e));
        if (e == NULL)
            return -1;
        s->e = e;
        s->cap = cap;
    }
    s->e[s->n++] = (struct mentry){ p, len, XXH3_64bits(p, len) };
    return 0;
}

static void idx_insert(struct mset *s, size_t i)
{
    size_t at = (size_t)s->e[i].h & s->mask;

    while (s->idx[at] != 0)
        at = (at + 1) & s->mask;
    s->idx[at] = i + 1;
}

/* Makes the index hold every member with room for `want`.  0 or -1. */
static int mset_reindex(struct mset *s, size_t want)
{
    size_t cap = 16, i;

    while (cap < 2 * want)
        cap <<= 1;
    if (s->idx != NULL && s->mask + 1 >= cap)
        return 0;
    free(s->idx);
    s->idx = calloc(cap, sizeof(*s->idx));
    if (s->idx == NULL)
        return -1;
    s->mask = cap - 1;
    for (i = 0; i < s->n; i++)
        idx_insert(s, i);
    return 0;
}

static int mset_find(const struct mset *s, const uint8_t *p, size_t len, uint64_t h)
{
    size_t at = (size_t)h & s->mask;

    for (; s->idx[at] != 0; at = (at + 1) & s->mask) {
        const struct mentry *e = &s->e[s->idx[at] - 1];
        if (e->h == h && e->len == len && memcmp(e->p, p, len) == 0)
            return 1;
    }
    return 0;
}

/* Is p a member?  1, 0, or -1 when out of memory for the index. */
static int mset_has(struct mset *s, const uint8_t *p, size_t len)
{
    if (s->n == 0)
        return 0;
    if (s->idx == NULL && mset_reindex(s, s->n) != 0)
        return -1;
    return mset_find(s, p, len, XXH3_64bits(p, len));
}

/* Adds p unless present: 1 added, 0 present, -1 out of memory. */
static int mset_add(struct mset *s, const uint8_t *p, size_t len)
{
    uint64_t h = XXH3_64bits(p, len);

    if (mset_reindex(s, s->n + 1) != 0)
        return -1;
    if (mset_find(s, p, len, h))
        return 0;
    if (mset_push(s, p, len) != 0)
        return -1;
    idx_insert(s, s->n - 1);
    return 1;
}

/*
 * Copies members[0..n) into one allocation: an argument vector with
 * `lead` places left for the caller, then the members, then their bytes.
 * NULL when out of memory.
 */
static struct resp_arg *copy_members(const struct mentry *e, size_t n, size_t lead)
{
    size_t bytes = 0, i;
    struct resp_arg *v;
    char *at;

    for (i = 0; i < n; i++)
        bytes += e[i].len;
    v = malloc((lead + n) * sizeof(*v) + bytes);
    if (v == NULL)
        return NULL;
    at = (char *)(v + lead + n);
    for (i = 0; i < n; i++) {
        memcpy(at, e[i].p, e[i].len);
        v[lead + i].ptr = at;
        v[lead + i].len = e[i].len;
        at += e[i].len;
    }
    return v;
}

/* ---- simple commands -------------------------------------------------------------- */

void saddCommand(struct cmd_ctx *x)
{
    long long added = 0;
    struct ks_ref r;
    int i, a, rc;

    if (coll_open(x, 1, KS_T_SET, 1, &r) < 0)
        return;
    for (i = 2; i < x->argc; i++) {
        rc = hset_put(W.arena, &r, KS_T_SET, x->argv[i].ptr, x->argv[i].len, NULL, 0, 0, &a);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
        added += a;
    }
    x->dirty += (int)added;
    resp_add_int(&x->out, added);
}

void sremCommand(struct cmd_ctx *x)
{
    coll_del_members(x, KS_T_SET, hset_del);
}

/* Every member of r as a RESP3 set (an array in RESP2). */
static void reply_all(struct cmd_ctx *x, const struct ks_ref *r)
{
    const uint8_t *m, *v;
    struct hset_it it;
    size_t ml, vl;

    resp_add_set(&x->out, (long)hset_len(W.arena, r));
    hset_iter(W.arena, r, &it);
    while (hset_next(&it, &m, &ml, &v, &vl))
        resp_add_bulk(&x->out, m, ml);
}

void smembersCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int found = coll_open(x, 1, KS_T_SET, 0, &r);

    if (found < 0)
        return;
    if (found)
        reply_all(x, &r);
    else
        resp_add_set(&x->out, 0);
}

static int is_member(const struct ks_ref *r, const struct resp_arg *m)
{
    const uint8_t *v;
    size_t vl;

    return r->off != 0 && hset_get(W.arena, r, m->ptr, m->len, &v, &vl);
}

void sismemberCommand(struct cmd_ctx *x)
{
    struct ks_ref r;

    if (coll_open(x, 1, KS_T_SET, 0, &r) >= 0)
        resp_add_int(&x->out, is_member(&r, &x->argv[2]));
}

void smismemberCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int i;

    /* A missing key is an empty set: a zero per member. */
    if (coll_open(x, 1, KS_T_SET, 0, &r) < 0)
        return;
    resp_add_array(&x->out, x->argc - 2);
    for (i = 2; i < x->argc; i++)
        resp_add_int(&x->out, is_member(&r, &x->argv[i]));
}

void scardCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int found = coll_open(x, 1, KS_T_SET, 0, &r);

    if (found >= 0)
        resp_add_int(&x->out, found ? (long long)hset_len(W.arena, &r) : 0);
}

void sscanCommand(struct cmd_ctx *x)
{
    coll_scan(x, KS_T_SET);
}

/* ---- SPOP and SRANDMEMBER ---------------------------------------------------------- */

/*
 * SPOP key count: a set of min(count, size) distinct members, removed.
 * Asking for the whole set (or more) deletes the key.  An empty set for a
 * missing key or a zero count.
 */
static void spop_count(struct cmd_ctx *x)
{
    struct resp_arg *copy = NULL;
    struct coll_pick *pk;
    struct ks_ref r;
    uint64_t size, count, i;
    long long l;
    int found, removed, rc = EMBER_OK;

    if (coll_arg_count(x, 2, 0, &l, "ERR value is out of range, must be positive") != 0)
        return;
    found = coll_open(x, 1, KS_T_SET, 1, &r);
    if (found < 0)
        return;
    if (!found || l == 0) {
        resp_add_set(&x->out, 0);
        return;
    }
    size = hset_len(W.arena, &r);
    count = (uint64_t)l;
    if (count >= size) {
        reply_all(x, &r);
        rc = ks_ref_delete(W.arena, &r);
        if (rc != EMBER_OK)
            db_fail(x, rc);
        x->dirty += (int)size;
        return;
    }
    pk = coll_sample(&r, size, count);
    if (pk != NULL) {
        struct mset picks = { NULL, 0, 0, NULL, 0 };
        for (i = 0; i < count && mset_push(&picks, pk[i].m, pk[i].mlen) == 0; i++)
            ;
        if (i == count)
            copy = copy_members(picks.e, count, 0);
        mset_free(&picks);
        free(pk);
    }
    if (copy == NULL) {
        reply_error(x, "ERR out of memory");
        return;
    }
    resp_add_set(&x->out, (long)count);
    for (i = 0; i < count; i++)
        resp_add_bulk(&x->out, copy[i].ptr, copy[i].len);
    for (i = 0; i < count && rc == EMBER_OK; i++)
        rc = hset_del(W.arena, &r, copy[i].ptr, copy[i].len, &removed);
    free(copy);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty += (int)count;
}

void spopCommand(struct cmd_ctx *x)
{
    const uint8_t *m, *v;
    struct ks_ref r;
    size_t ml, vl;
    int found, removed, rc;

    if (x->argc == 3) {
        spop_count(x);
        return;
    }
    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    found = coll_open(x, 1, KS_T_SET, 1, &r);
    if (found < 0)
        return;
    if (!found) {
        resp_add_null(&x->out);
        return;
    }
    hset_random(W.arena, &r, worker_rand(), &m, &ml, &v, &vl);
    resp_add_bulk(&x->out, m, ml);
    /* hset_del reads m only before it frees anything. */
    rc = hset_del(W.arena, &r, m, ml, &removed);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty++;
}

/*
 * SRANDMEMBER key count: an array; negative counts repeat members, others
 * are distinct and capped at the size.  An empty array for a missing key
 * or a zero count.
 */
static void srandmember_count(struct cmd_ctx *x)
{
    const uint8_t *m, *v;
    struct coll_pick *pk;
    struct ks_ref r;
    uint64_t size, count, i;
    size_t ml, vl;
    long long l;
    int found;

    if (coll_arg_count(x, 2, -LLONG_MAX, &l, NULL) != 0)
        return;
    found = coll_open(x, 1, KS_T_SET, 0, &r);
    if (found < 0)
        return;
    count = l < 0 ? (uint64_t)-l : (uint64_t)l;
    if (!found || count == 0) {
        resp_add_array(&x->out, 0);
        return;
    }
    size = hset_len(W.arena, &r);
    if (l < 0 || count == 1) {
        resp_add_array(&x->out, (long)count);
        coll_reply_random(x, &r, size, count, 0);
        return;
    }
    if (count >= size) {
        struct hset_it it;
        resp_add_array(&x->out, (long)size);
        hset_iter(W.arena, &r, &it);
        while (hset_next(&it, &m, &ml, &v, &vl))
            resp_add_bulk(&x->out, m, ml);
        return;
    }
    pk = coll_sample(&r, size, count);
    if (pk == NULL) {
        reply_error(x, "ERR out of memory");
        return;
    }
    resp_add_array(&x->out, (long)count);
    for (i = 0; i < count; i++)
        resp_add_bulk(&x->out, pk[i].m, pk[i].mlen);
    free(pk);
}

void srandmemberCommand(struct cmd_ctx *x)
{
    const uint8_t *m, *v;
    struct ks_ref r;
    size_t ml, vl;
    int found;

    if (x->argc == 3) {
        srandmember_count(x);
        return;
    }
    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    found = coll_open(x, 1, KS_T_SET, 0, &r);
    if (found < 0)
        return;
    if (!found) {
        resp_add_null(&x->out);
        return;
    }
    hset_random(W.arena, &r, worker_rand(), &m, &ml, &v, &vl);
    resp_add_bulk(&x->out, m, ml);
}

/* ---- set algebra ------------------------------------------------------------------- */

enum setop { OP_INTER, OP_INTERCARD, OP_UNION, OP_DIFF };

/* One operand: a set in this arena, or the members its owner sent. */
struct src {
    int local;            /* r is an arena set; else t holds the members */
    uint64_t n;           /* members; 0 for a missing key */
    struct ks_ref r;
    struct mset t;
};

/* Is m a member of s?  1, 0, or -1 when out of memory. */
static int src_has(struct src *s, const uint8_t *m, size_t len)
{
    const uint8_t *v;
    size_t vl;

    if (s->n == 0)
        return 0;
    if (s->local)
        return hset_get(W.arena, &s->r, m, len, &v, &vl);
    return mset_has(&s->t, m, len);
}

struct src_it {
    struct src *s;
    struct hset_it it;
    size_t i;
};

static void src_iter(struct src *s, struct src_it *it)
{
    it->s = s;
    it->i = 0;
    if (s->local && s->n > 0)
        hset_iter(W.arena, &s->r, &it->it);
}

static int src_next(struct src_it *it, const uint8_t **m, size_t *len)
{
    const uint8_t *v;
    size_t vl;

    if (it->s->n == 0)
        return 0;
    if (it->s->local)
        return hset_next(&it->it, m, len, &v, &vl);
    if (it->i >= it->s->t.n)
        return 0;
    *m = it->s->t.e[it->i].p;
    *len = it->s->t.e[it->i].len;
    it->i++;
    return 1;
}

static void srcs_free(struct src *s, int n)
{
    int i;

    if (s == NULL)
        return;
    for (i = 0; i < n; i++)
        mset_free(&s[i].t);
    free(s);
}

/*
 * Computes op over s[0..n): res gets the result's members (pointing where
 * the operands' do; nothing for OP_INTERCARD), *card its size (for
 * OP_INTERCARD capped at limit when limit > 0).  As Redis: an
 * intersection walks the smallest operand and is empty if any is; a
 * difference walks the first operand.  0, or -1 when out of memory.
 */
static int setop_compute(int op, struct src *s, int n, long long limit, struct mset *res,
                         long long *card)
{
    struct src_it it;
    const uint8_t *m;
    size_t len;
    int i, j, rc;

    *card = 0;
    if (op == OP_UNION) {
        for (i = 0; i < n; i++) {
            src_iter(&s[i], &it);
            while (src_next(&it, &m, &len)) {
                if ((rc = mset_add(res, m, len)) < 0)
                    return -1;
                *card += rc;
            }
        }
        return 0;
    }
    if (op == OP_DIFF) {
        src_iter(&s[0], &it);
        while (src_next(&it, &m, &len)) {
            for (j = 1; j < n; j++) {
                if ((rc = src_has(&s[j], m, len)) < 0)
                    return -1;
                if (rc)
                    break;
            }
            if (j < n)
                continue;
            if (mset_push(res, m, len) != 0)
                return -1;
            (*card)++;
        }
        return 0;
    }
    for (i = j = 0; i < n; i++) {
        if (s[i].n == 0)
            return 0;
        if (s[i].n < s[j].n)
            j = i;
    }
    src_iter(&s[j], &it);
    while (src_next(&it, &m, &len)) {
        for (i = 0; i < n; i++) {
            if (i == j)
                continue;
            if ((rc = src_has(&s[i], m, len)) < 0)
                return -1;
            if (!rc)
                break;
        }
        if (i < n)
            continue;
        (*card)++;
        if (op == OP_INTERCARD) {
            if (limit > 0 && *card >= limit)
                break;
        } else if (mset_push(res, m, len) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The reply of a read operation: a set of members, or SINTERCARD's count. */
static void reply_result(struct resp_out *o, int op, const struct mset *res, long long card)
{
    size_t i;

    if (op == OP_INTERCARD) {
        resp_add_int(o, card);
        return;
    }
    resp_add_set(o, (long)res->n);
    for (i = 0; i < res->n; i++)
        resp_add_bulk(o, res->e[i].p, res->e[i].len);
}

/*
 * Replaces dst by a set of members m[0..n) (duplicates allowed), or
 * deletes it when n == 0, whatever it held; a new key has no expiry, as
 * with Redis's setKey.  Replies the set's size.
 */
static void store_members(struct cmd_ctx *x, const struct resp_arg *dst,
                          const struct resp_arg *m, long n)
{
    struct ks_ref r;
    long i;
    int added, rc;

    if (coll_lookup(x, dst, 1, &r)) {
        rc = ks_ref_delete(W.arena, &r);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
        x->dirty += n == 0;   /* Redis counts a replaced dst once, below */
    }
    for (i = 0; i < n; i++) {
        rc = hset_put(W.arena, &r, KS_T_SET, m[i].ptr, m[i].len, NULL, 0, 0, &added);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
    }
    if (n > 0)
        x->dirty++;
    resp_add_int(&x->out, r.off ? (long long)hset_len(W.arena, &r) : 0);
}

/* @sstore dst member...: the second phase of a *STORE across shards. */
void isstoreCommand(struct cmd_ctx *x)
{
    store_members(x, &x->argv[1], &x->argv[2], x->argc - 2);
}

/*
 * Runs op here on the keys argv[first..first+n), all this shard's; with
 * store, into argv[1].  Atomic: one mutation when it stores.
 */
static void setop_local(struct cmd_ctx *x, int op, int first, int n, int store,
                        long long limit)
{
    struct src *s = calloc((size_t)n, sizeof(*s));
    struct mset res = { NULL, 0, 0, NULL, 0 };
    struct resp_arg *copy;
    long long card;
    int i;

    if (s == NULL) {
        reply_error(x, "ERR out of memory");
        return;
    }
    for (i = 0; i < n; i++) {
        int found = coll_open(x, first + i, KS_T_SET, 0, &s[i].r);
        if (found < 0)
            goto done;
        s[i].local = 1;
        s[i].n = found ? hset_len(W.arena, &s[i].r) : 0;
    }
    if (setop_compute(op, s, n, limit, &res, &card) != 0) {
        reply_error(x, "ERR out of memory");
        goto done;
    }
    if (!store) {
        reply_result(&x->out, op, &res, card);
        goto done;
    }
    /* The members point into sets that storing may free (dst may be one). */
    copy = copy_members(res.e, res.n, 0);
    if (copy == NULL) {
        reply_error(x, "ERR out of memory");
        goto done;
    }
    store_members(x, &x->argv[1], copy, (long)res.n);
    free(copy);
done:
    mset_free(&res);
    srcs_free(s, n);
}

/* ---- across shards ------------------------------------------------------------------- */

/*
 * Decides where a multi-key command with keys argv[first..last] runs:
 * 1 here (a forwarded command, one worker, or every key ours); 0 when it
 * went whole to the one other shard owning every key; -1 when the keys
 * span shards.
 */
static int route_range(struct cmd_ctx *x, int first, int last)
{
    unsigned owner;
    int j;

    if (x->c == NULL || W.nworkers <= 1)
        return 1;
    owner = key_shard(x->argv[first].ptr, x->argv[first].len);
    for (j = first + 1; j <= last; j++)
        if (key_shard(x->argv[j].ptr, x->argv[j].len) != owner)
            return -1;
    if (owner == W.id)
        return 1;
    cross_forward(x, owner);
    W.st.forwarded++;
    return 0;
}

/* The client's reply waits for later phases: read nothing more meanwhile. */
static void block_client(struct pending *p, struct client *c)
{
    p->blocking = 1;
    c->flags |= CLIENT_BLOCKED;
}

/* Part i's reply as an integer: 0, or -1 when it is not one. */
static int part_int(const struct pending *p, unsigned i, long long *v)
{
    const struct rbuf *r = &p->parts[i].reply;

    if (r->len < 4 || r->data[0] != ':' || r->data[r->len - 2] != '\r')
        return -1;
    return util_str2ll(r->data + 1, r->len - 3, v) ? 0 : -1;
}

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

static void reply_malformed(struct resp_out *out)
{
    resp_add_error(out, "ERR malformed reply from the owning shard");
}

/* A RESP line's integer after its type byte: p..nl is "Xdigits\r". */
static int line_ll(const char *p, const char *end, const char **next, long long *v)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));

    if (nl == NULL || nl - p < 3 || nl[-1] != '\r' ||
        !util_str2ll(p + 1, (size_t)(nl - p - 2), v))
        return -1;
    *next = nl + 1;
    return 0;
}

/*
 * Parses an SMEMBERS reply (an array or a set of bulks) into s's member
 * list.  0; 1 when the reply is an error; -1 when malformed or out of
 * memory.
 */
static int parse_members(const struct rbuf *b, struct src *s)
{
    const char *p = b->data, *end = b->data + b->len;
    long long n, len, i;

    if (b->len == 0)
        return -1;
    if (p[0] == '-')
        return 1;
    if ((p[0] != '*' && p[0] != '~') || line_ll(p, end, &p, &n) != 0 || n < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (p >= end || p[0] != '$' || line_ll(p, end, &p, &len) != 0 || len < 0 ||
            len > end - p - 2 || p[len] != '\r' || p[len + 1] != '\n' ||
            mset_push(&s->t, (const uint8_t *)p, (size_t)len) != 0)
            return -1;
        p += len + 2;
    }
    s->local = 0;
    s->n = (uint64_t)n;
    return 0;
}

/* What a split set operation remembers (a pending's ctx, one allocation). */
struct setop_ctx {
    unsigned db;
    int op;
    long long limit;      /* SINTERCARD's LIMIT */
    size_t dlen;          /* *STORE: the destination key */
    char dst[];
};

/*
 * The operands from the parts' replies, in key order.  Returns them, or
 * NULL after replying the first part's error (WRONGTYPE, in key order as
 * Redis checks) or a failure.
 */
static struct src *gather_parts(struct pending *p, struct resp_out *out)
{
    struct src *s = calloc(p->nparts, sizeof(*s));
    unsigned i;
    int rc;

    if (s == NULL) {
        resp_add_error(out, "ERR out of memory");
        return NULL;
    }
    for (i = 0; i < p->nparts; i++) {
        rc = parse_members(&p->parts[i].reply, &s[i]);
        if (rc == 0)
            continue;
        if (rc > 0)
            copy_part(p, i, out);
        else
            reply_malformed(out);
        srcs_free(s, (int)p->nparts);
        return NULL;
    }
    return s;
}

/* SINTER, SUNION, SDIFF, SINTERCARD: every operand is in. */
static void merge_setop(struct pending *p, struct resp_out *out)
{
    const struct setop_ctx *c = p->ctx;
    struct mset res = { NULL, 0, 0, NULL, 0 };
    struct src *s = gather_parts(p, out);
    long long card;

    if (s == NULL)
        return;
    if (setop_compute(c->op, s, (int)p->nparts, c->limit, &res, &card) != 0)
        resp_add_error(out, "ERR out of memory");
    else
        reply_result(out, c->op, &res, card);
    mset_free(&res);
    srcs_free(s, (int)p->nparts);
}

/* *STORE: every operand is in; the result goes to dst's owner (phase 2),
 * whose reply (the count, or an error) is the client's. */
static void merge_setop_store(struct pending *p, struct resp_out *out)
{
    const struct setop_ctx *c = p->ctx;
    struct mset res = { NULL, 0, 0, NULL, 0 };
    struct src *s = gather_parts(p, out);
    struct resp_arg *argv = NULL;
    long long card;

    if (s == NULL)
        return;
    if (setop_compute(c->op, s, (int)p->nparts, 0, &res, &card) != 0 || res.n > INT_MAX - 2 ||
        (argv = copy_members(res.e, res.n, 2)) == NULL) {
        resp_add_error(out, "ERR out of memory");
        goto done;
    }
    /* argv holds copies: the rearm frees the replies res points into. */
    argv[0].ptr = "@sstore";
    argv[0].len = 7;
    argv[1].ptr = c->dst;
    argv[1].len = c->dlen;
    cross_rearm(p, 1, NULL);
    cross_send_part(p, 0, key_shard(c->dst, c->dlen), c->db, (int)res.n + 2, argv);
done:
    free(argv);
    mset_free(&res);
    srcs_free(s, (int)p->nparts);
}

/*
 * Runs op on keys argv[first..first+n) spanning shards: one SMEMBERS part
 * per key, merged (and, with store, stored into argv[1]) when all are in.
 */
static void setop_split(struct cmd_ctx *x, int op, int first, int n, int store,
                        long long limit)
{
    size_t dlen = store ? x->argv[1].len : 0;
    struct setop_ctx *c = malloc(sizeof(*c) + dlen);
    struct pending *p = NULL;
    int i;

    if (c != NULL)
        p = cross_pending(x->c, x->c->proto, (unsigned)n, store ? merge_setop_store : merge_setop);
    if (p == NULL) {
        free(c);
        reply_error(x, "ERR out of memory");
        return;
    }
    c->db = x->db;
    c->op = op;
    c->limit = limit;
    c->dlen = dlen;
    if (store)
        memcpy(c->dst, x->argv[1].ptr, dlen);
    p->ctx = c;
    if (store)
        block_client(p, x->c);
    for (i = 0; i < n; i++) {
        struct resp_arg v[2] = { { "SMEMBERS", 8 }, x->argv[first + i] };
        cross_send_part(p, (unsigned)i, key_shard(v[1].ptr, v[1].len), x->db, 2, v);
    }
    cross_pending_issued(p);
}

/* A set operation on keys argv[first..argc), storing into argv[1] with store. */
static void setop_command(struct cmd_ctx *x, int op, int first, int store)
{
    int r = route_range(x, store ? 1 : first, x->argc - 1);

    if (r > 0)
        setop_local(x, op, first, x->argc - first, store, 0);
    else if (r < 0)
        setop_split(x, op, first, x->argc - first, store, 0);
}

void sinterCommand(struct cmd_ctx *x)
{
    setop_command(x, OP_INTER, 1, 0);
}

void sunionCommand(struct cmd_ctx *x)
{
    setop_command(x, OP_UNION, 1, 0);
}

void sdiffCommand(struct cmd_ctx *x)
{
    setop_command(x, OP_DIFF, 1, 0);
}

void sinterstoreCommand(struct cmd_ctx *x)
{
    setop_command(x, OP_INTER, 2, 1);
}

void sunionstoreCommand(struct cmd_ctx *x)
{
    setop_command(x, OP_UNION, 2, 1);
}

void sdiffstoreCommand(struct cmd_ctx *x)
{
    setop_command(x, OP_DIFF, 2, 1);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
void sintercardCommand(struct cmd_ctx *x)
{
    long long numkeys, limit = 0;
    int j, r;

    if (coll_arg_count(x, 1, 1, &numkeys, "ERR numkeys should be greater than 0") != 0)
        return;
    if (numkeys > x->argc - 2) {
        reply_error(x, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (j = 2 + (int)numkeys; j < x->argc; j++) {
        if (ARG_EQ(x, j, "limit") && j + 1 < x->argc) {
            j++;
            if (coll_arg_count(x, j, 0, &limit, "ERR LIMIT can't be negative") != 0)
                return;
        } else {
            reply_syntax(x);
            return;
        }
    }
    r = route_range(x, 2, 1 + (int)numkeys);
    if (r > 0)
        setop_local(x, OP_INTERCARD, 2, (int)numkeys, 0, limit);
    else if (r < 0)
        setop_split(x, OP_INTERCARD, 2, (int)numkeys, 0, limit);
}

/* ---- SMOVE --------------------------------------------------------------------------- */

static int same_arg(const struct resp_arg *a, const struct resp_arg *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* SMOVE with both keys here: atomic, exactly Redis's smoveCommand. */
static void smove_local(struct cmd_ctx *x)
{
    const struct resp_arg *member = &x->argv[3];
    struct ks_ref src, dst;
    int removed, added, rc;

    if (!coll_lookup(x, &x->argv[1], 1, &src)) {
        resp_add_int(&x->out, 0);
        return;
    }
    if (src.e.type != KS_T_SET ||
        (coll_lookup(x, &x->argv[2], 1, &dst) && dst.e.type != KS_T_SET)) {
        reply_wrongtype(x);
        return;
    }
    if (same_arg(&x->argv[1], &x->argv[2])) {
        resp_add_int(&x->out, is_member(&src, member));
        return;
    }
    /* Looking dst up may have deleted it (expired), moving src's slot:
     * look each key up again right before changing it. */
    if (!coll_lookup(x, &x->argv[1], 1, &src)) {
        resp_add_int(&x->out, 0);
        return;
    }
    rc = hset_del(W.arena, &src, member->ptr, member->len, &removed);
    if (rc == EMBER_OK && !removed) {
        resp_add_int(&x->out, 0);
        return;
    }
    if (rc == EMBER_OK) {
        coll_lookup(x, &x->argv[2], 1, &dst);
        rc = hset_put(W.arena, &dst, KS_T_SET, member->ptr, member->len, NULL, 0, 0, &added);
    }
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty += 1 + added;
    resp_add_int(&x->out, 1);
}

/*
 * SMOVE src dst member with src and dst on different shards: three
 * phases of one pending, the client blocked throughout.
 *
 *   1. "SCARD src" and "SISMEMBER src member" to src's owner, "SCARD dst"
 *      to dst's: replies 0 for a missing src, WRONGTYPE for a src or dst
 *      of another type, 0 when member is not in src (Redis's order).
 *   2. "SADD dst member" to dst's owner.
 *   3. "SREM src member" to src's owner; replies 1.
 *
 * A single client sees exactly Redis's results.  Others may see, between
 * phases 2 and 3, the member in both sets; two concurrent SMOVEs of one
 * member may both reply 1; a dst that changes type after phase 1 makes
 * phase 2 reply WRONGTYPE with src untouched.  Adding before removing
 * means a client that disconnects mid-way (its later phases are dropped)
 * or a failure leaves the member in both sets, never in neither.
 */

/* The command, copied: later phases are sent after the client's input
 * moved on. */
/* Sends "name key [member]" as part i to key's owner. */
static void send_key_cmd(struct pending *p, unsigned i, const char *name,
                         const struct argv_copy *m, int key, int with_member)
{
    struct resp_arg v[3] = { { name, strlen(name) }, m->argv[key], m->argv[3] };

    cross_send_part(p, i, key_shard(v[1].ptr, v[1].len), m->db, with_member ? 3 : 2, v);
}

/* Phase 3 done: the member moved. */
static void merge_smove_removed(struct pending *p, struct resp_out *out)
{
    (void)p;
    resp_add_int(out, 1);
}

/* Phase 2 done: added to dst (or dst refused it); remove from src. */
static void merge_smove_added(struct pending *p, struct resp_out *out)
{
    if (part_is_error(p, 0)) {
        copy_part(p, 0, out);
        return;
    }
    cross_rearm(p, 1, merge_smove_removed);
    send_key_cmd(p, 0, "SREM", p->ctx, 1, 1);
}

/* Phase 1 done: check as Redis does, then add to dst. */
static void merge_smove_check(struct pending *p, struct resp_out *out)
{
    long long card, ismember;

    if (part_is_error(p, 0)) {
        copy_part(p, 0, out);
        return;
    }
    if (part_int(p, 0, &card) != 0) {
        reply_malformed(out);
        return;
    }
    if (card == 0) {
        resp_add_int(out, 0);
        return;
    }
    if (part_is_error(p, 2) || part_is_error(p, 1)) {
        copy_part(p, part_is_error(p, 2) ? 2 : 1, out);
        return;
    }
    if (part_int(p, 1, &ismember) != 0) {
        reply_malformed(out);
        return;
    }
    if (ismember == 0) {
        resp_add_int(out, 0);
        return;
    }
    cross_rearm(p, 1, merge_smove_added);
    send_key_cmd(p, 0, "SADD", p->ctx, 2, 1);
}

static void smove_split(struct cmd_ctx *x)
{
    struct argv_copy *m = cross_argv_copy(x);
    struct pending *p = NULL;

    if (m != NULL)
        p = cross_pending(x->c, x->c->proto, 3, merge_smove_check);
    if (p == NULL) {
        free(m);
        reply_error(x, "ERR out of memory");
        return;
    }
    p->ctx = m;
    block_client(p, x->c);
    send_key_cmd(p, 0, "SCARD", m, 1, 0);
    send_key_cmd(p, 1, "SISMEMBER", m, 1, 1);
    send_key_cmd(p, 2, "SCARD", m, 2, 0);
    cross_pending_issued(p);
}

void smoveCommand(struct cmd_ctx *x)
{
    int r = route_range(x, 1, 2);

    if (r > 0)
        smove_local(x);
    else if (r < 0)
        smove_split(x);
}
