/*
 * t_zsetop.c - ZUNION, ZINTER, ZDIFF, ZINTERCARD and their *STORE forms.
 *
 * Redis 7.0's zunionInterDiffGenericCommand, argument checks in its order
 * (numkeys, then every key's type, then the options, so WRONGTYPE wins
 * over a bad WEIGHTS), sets accepted as sorted sets of score 1, weights,
 * AGGREGATE SUM|MIN|MAX with inf + -inf giving 0, results ordered by
 * (score, member) and WITHSCORES pairs nested in RESP3.  Sources are
 * visited smallest first for union and intersection as Redis does, in a
 * stable order, because a float sum depends on the order it adds up in.
 *
 * Operands are either values of this arena (a zset or set looked up here)
 * or the members another shard sent; the result is a list of members in
 * process memory pointing where the operands' do, sorted once at the end.
 * Nothing is allocated per member: one array per operand or result, and an
 * open-addressing index where lookups are needed.
 *
 * Keys on one shard: the command runs there whole, atomically (forwarded
 * whole when that shard is another).  Keys on several: one "@zread key"
 * part per source (t_zset.c) gathers each operand from its owner as an
 * exact payload (zcmd.h); the merge computes here, and a *STORE sends its
 * result to the destination's owner as "@zstore dst payload", whose reply
 * (the cardinality) is the client's.  What other clients may observe in
 * between is described at the top of t_zset.c.
 */
#include "server.h"
#include "coll.h"
#include "commands.h"
#include "cross.h"
#include "util.h"
#include "zcmd.h"

#include "shm/hset.h"
#include "shm/zset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const char ERR_OOM[] = "ERR out of memory";

static int same_bytes(const void *a, size_t al, const void *b, size_t bl)
{
    return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

/* Redis's sdscmplex: memcmp, then the shorter first. */
static int lexcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl;
}

/* ---- member lists ----------------------------------------------------------------------- */

enum { OP_UNION, OP_INTER, OP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

/* A member with its score: pointing into the arena or a part's reply. */
struct zent {
    const uint8_t *m;
    size_t len;
    double score;
    uint64_t h;
};

/* A list of members, optionally indexed (open addressing, 1 + index). */
struct zlist {
    struct zent *e;
    size_t n, cap;
    size_t *idx;
    size_t mask;
};

static void zl_free(struct zlist *l)
{
    free(l->e);
    free(l->idx);
    memset(l, 0, sizeof(*l));
}

/* Appends without looking.  The entry, or NULL when out of memory. */
static struct zent *zl_push(struct zlist *l, const uint8_t *m, size_t len, double s, uint64_t h)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct zent *e = realloc(l->e, cap * sizeof(*e));
        if (e == NULL)
            return NULL;
        l->e = e;
        l->cap = cap;
    }
    l->e[l->n] = (struct zent){ m, len, s, h };
    return &l->e[l->n++];
}

static void zl_link(struct zlist *l, size_t i)
{
    size_t at = (size_t)l->e[i].h & l->mask;

    while (l->idx[at] != 0)
        at = (at + 1) & l->mask;
    l->idx[at] = i + 1;
}

/* Makes the index cover every entry with room for `want`.  0 or -1. */
static int zl_reindex(struct zlist *l, size_t want)
{
    size_t cap = 16, i;

    while (cap < 2 * want)
        cap <<= 1;
    if (l->idx != NULL && l->mask + 1 >= cap)
        return 0;
    free(l->idx);
    if ((l->idx = calloc(cap, sizeof(*l->idx))) == NULL)
        return -1;
    l->mask = cap - 1;
    for (i = 0; i < l->n; i++)
        zl_link(l, i);
    return 0;
}

static struct zent *zl_find(const struct zlist *l, const uint8_t *m, size_t len, uint64_t h)
{
    size_t at = (size_t)h & l->mask;

    for (; l->idx[at] != 0; at = (at + 1) & l->mask) {
        struct zent *e = &l->e[l->idx[at] - 1];
        if (e->h == h && same_bytes(e->m, e->len, m, len))
            return e;
    }
    return NULL;
}

/* One operand: a zset or set of this arena, or the members a part sent. */
enum { SRC_NONE, SRC_ZSET, SRC_SET, SRC_LIST };
struct zsrc {
    int kind;             /* SRC_*; SRC_NONE: a missing key */
    unsigned order;       /* its place among the keys */
    uint64_t n;           /* members */
    double weight;
    struct ks_ref r;      /* SRC_ZSET, SRC_SET */
    struct zlist l;       /* SRC_LIST */
};

struct zsrc_it {
    struct zsrc *s;
    struct zset_it z;
    struct hset_it h;
    size_t i;
};

static void zsrc_iter(struct zsrc *s, struct zsrc_it *it)
{
    it->s = s;
    it->i = 0;
    if (s->kind == SRC_ZSET)
        zset_iter_rank(W.arena, &s->r, 0, 0, &it->z);
    else if (s->kind == SRC_SET)
        hset_iter(W.arena, &s->r, &it->h);
}

static int zsrc_next(struct zsrc_it *it, const uint8_t **m, size_t *len, double *score)
{
    const uint8_t *v;
    size_t vl;

    switch (it->s->kind) {
    case SRC_ZSET:
        return zset_next(&it->z, m, len, score);
    case SRC_SET:
        *score = 1.0;
        return hset_next(&it->h, m, len, &v, &vl);
    case SRC_LIST:
        if (it->i >= it->s->l.n)
            return 0;
        *m = it->s->l.e[it->i].m;
        *len = it->s->l.e[it->i].len;
        *score = it->s->l.e[it->i].score;
        it->i++;
        return 1;
    default:
        return 0;
    }
}

/* Is m in s?  1 with its score, 0, or -1 when out of memory (an index). */
static int zsrc_find(struct zsrc *s, const uint8_t *m, size_t len, double *score)
{
    const uint8_t *v;
    struct zent *e;
    size_t vl;

    switch (s->kind) {
    case SRC_ZSET:
        return zset_score(W.arena, &s->r, m, len, score);
    case SRC_SET:
        *score = 1.0;
        return hset_get(W.arena, &s->r, m, len, &v, &vl);
    case SRC_LIST:
        if (s->l.idx == NULL && zl_reindex(&s->l, s->l.n) != 0)
            return -1;
        e = zl_find(&s->l, m, len, XXH3_64bits(m, len));
        if (e == NULL)
            return 0;
        *score = e->score;
        return 1;
    default:
        return 0;
    }
}

static void zsrcs_free(struct zsrc *s, long n)
{
    long i;

    if (s == NULL)
        return;
    for (i = 0; i < n; i++)
        zl_free(&s[i].l);
    free(s);
}

/* Redis's zunionInterAggregate: inf + -inf gives 0, not NaN. */
static void aggregate(double *target, double val, int agg)
{
    if (agg == AGG_SUM) {
        *target += val;
        if (isnan(*target))
            *target = 0.0;
    } else if (agg == AGG_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

/* Smallest first; a stable order (glibc's qsort, which Redis relies on,
 * is a merge sort): float sums depend on the order they add up in. */
static int by_cardinality(const void *a, const void *b)
{
    const struct zsrc *x = a, *y = b;

    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int by_score(const void *a, const void *b)
{
    const struct zent *x = a, *y = b;

    if (x->score < y->score)
        return -1;
    if (x->score > y->score)
        return 1;
    return lexcmp(x->m, x->len, y->m, y->len);
}

/* What the options say (zop_options). */
struct zop_opts {
    int op;               /* OP_* */
    int card;             /* ZINTERCARD: the cardinality only */
    int agg;              /* AGG_* */
    int withscores;
    long long limit;      /* ZINTERCARD's LIMIT, 0: none */
};

/*
 * Computes the operation over s[0..n) (reordered by size for union and
 * intersection, as Redis does): res gets the members in (score, member)
 * order, or *card the count for ZINTERCARD.  Members point where the
 * operands' do.  0, or -1 when out of memory.
 */
static int zop_compute(const struct zop_opts *o, struct zsrc *s, long n, struct zlist *res,
                       long long *card)
{
    struct zsrc_it it;
    const uint8_t *m;
    size_t len;
    double sc, v;
    long i, j;
    int rc;

    *card = 0;
    if (o->op != OP_DIFF)
        qsort(s, (size_t)n, sizeof(*s), by_cardinality);
    if (o->op == OP_UNION) {
        for (i = 0; i < n; i++) {
            if (s[i].n == 0)
                continue;
            if (zl_reindex(res, res->n + s[i].n) != 0)
                return -1;
            zsrc_iter(&s[i], &it);
            while (zsrc_next(&it, &m, &len, &v)) {
                uint64_t h = XXH3_64bits(m, len);
                struct zent *e = zl_find(res, m, len, h);
                sc = s[i].weight * v;
                if (isnan(sc))
                    sc = 0;
                if (e != NULL) {
                    aggregate(&e->score, sc, o->agg);
                } else {
                    if (zl_push(res, m, len, sc, h) == NULL)
                        return -1;
                    zl_link(res, res->n - 1);
                }
            }
        }
    } else if (o->op == OP_INTER) {
        if (s[0].n == 0)
            return 0;
        zsrc_iter(&s[0], &it);
        while (zsrc_next(&it, &m, &len, &v)) {
            sc = s[0].weight * v;
            if (isnan(sc))
                sc = 0;
            for (j = 1; j < n; j++) {
                if ((rc = zsrc_find(&s[j], m, len, &v)) < 0)
                    return -1;
                if (rc == 0)
                    break;
                aggregate(&sc, v * s[j].weight, o->agg);
            }
            if (j < n)
                continue;
            if (o->card) {
                if (++*card >= o->limit && o->limit > 0)
                    break;
            } else if (zl_push(res, m, len, sc, 0) == NULL) {
                return -1;
            }
        }
    } else {
        if (s[0].n == 0)
            return 0;
        zsrc_iter(&s[0], &it);
        while (zsrc_next(&it, &m, &len, &v)) {
            for (j = 1; j < n; j++) {
                if ((rc = zsrc_find(&s[j], m, len, &sc)) < 0)
                    return -1;
                if (rc)
                    break;
            }
            if (j == n && zl_push(res, m, len, v, 0) == NULL)
                return -1;
        }
    }
    free(res->idx);
    res->idx = NULL;
    if (res->n > 1)
        qsort(res->e, res->n, sizeof(*res->e), by_score);
    return 0;
}

/* The reply of a read operation: the members (and scores), or the count. */
static void zop_reply(struct resp_out *out, const struct zop_opts *o, const struct zlist *res,
                      long long card)
{
    size_t i;

    if (o->card) {
        resp_add_int(out, card);
        return;
    }
    zcmd_reply_members_hdr(out, res->n, o->withscores);
    for (i = 0; i < res->n; i++)
        zcmd_reply_member(out, res->e[i].m, res->e[i].len, res->e[i].score, o->withscores);
}

/* The result as a payload (copies).  0, or -1 when out of memory. */
static int zop_payload(const struct zlist *res, struct rbuf *pay)
{
    size_t i;

    zcmd_pay_init(pay);
    for (i = 0; i < res->n; i++)
        zcmd_pay_add(pay, res->e[i].m, res->e[i].len, res->e[i].score);
    zcmd_pay_finish(pay, res->n);
    if (pay->failed) {
        rbuf_free(pay);
        return -1;
    }
    return 0;
}

/*
 * The options after the keys, argv[j..), as Redis reads them (WEIGHTS
 * needs a weight per key, AGGREGATE SUM|MIN|MAX, WITHSCORES for the reads,
 * LIMIT for ZINTERCARD).  Fills o and weights[0..setnum).  Returns NULL, or
 * the error to reply: Redis checks the keys' types first, so the caller
 * replies it only once every key proved to be a zset, a set or missing.
 */
static const char *zop_options(const struct cmd_ctx *x, int j, long setnum, int store,
                               struct zop_opts *o, double *weights)
{
    long i;

    o->agg = AGG_SUM;
    o->withscores = 0;
    o->limit = 0;
    for (i = 0; i < setnum; i++)
        weights[i] = 1.0;
    while (j < x->argc) {
        long remaining = x->argc - j;
        if (o->op != OP_DIFF && !o->card && remaining >= setnum + 1 && ARG_EQ(x, j, "weights")) {
            j++;
            for (i = 0; i < setnum; i++, j++)
                if (!util_str2d(x->argv[j].ptr, x->argv[j].len, &weights[i]))
                    return "ERR weight value is not a float";
        } else if (o->op != OP_DIFF && !o->card && remaining >= 2 &&
                   ARG_EQ(x, j, "aggregate")) {
            j++;
            if (ARG_EQ(x, j, "sum"))
                o->agg = AGG_SUM;
            else if (ARG_EQ(x, j, "min"))
                o->agg = AGG_MIN;
            else if (ARG_EQ(x, j, "max"))
                o->agg = AGG_MAX;
            else
                return "ERR syntax error";
            j++;
        } else if (!store && !o->card && ARG_EQ(x, j, "withscores")) {
            j++;
            o->withscores = 1;
        } else if (o->card && remaining >= 2 && ARG_EQ(x, j, "limit")) {
            j++;
            if (!util_str2ll(x->argv[j].ptr, x->argv[j].len, &o->limit) || o->limit < 0)
                return "ERR LIMIT can't be negative";
            j++;
        } else {
            return "ERR syntax error";
        }
    }
    return NULL;
}

/* The whole operation with every key here: Redis's zunionInterDiffGenericCommand. */
static void zop_local(struct cmd_ctx *x, struct zop_opts *o, int store, int first, long setnum)
{
    struct zsrc *s = calloc((size_t)setnum, sizeof(*s));
    double *weights = malloc((size_t)setnum * sizeof(*weights));
    struct zlist res = { NULL, 0, 0, NULL, 0 };
    const char *err;
    struct rbuf pay;
    long long card;
    long i;

    if (s == NULL || weights == NULL) {
        reply_error(x, ERR_OOM);
        goto done;
    }
    for (i = 0; i < setnum; i++) {
        s[i].order = (unsigned)i;
        if (!coll_lookup(x, &x->argv[first + i], 0, &s[i].r))
            continue;
        if (s[i].r.e.type == KS_T_ZSET) {
            s[i].kind = SRC_ZSET;
            s[i].n = zset_len(W.arena, &s[i].r);
        } else if (s[i].r.e.type == KS_T_SET) {
            s[i].kind = SRC_SET;
            s[i].n = hset_len(W.arena, &s[i].r);
        } else {
            reply_wrongtype(x);
            goto done;
        }
    }
    if ((err = zop_options(x, first + (int)setnum, setnum, store, o, weights)) != NULL) {
        reply_error(x, err);
        goto done;
    }
    for (i = 0; i < setnum; i++)
        s[i].weight = weights[i];
    if (zop_compute(o, s, setnum, &res, &card) != 0) {
        reply_error(x, ERR_OOM);
        goto done;
    }
    if (!store) {
        zop_reply(&x->out, o, &res, card);
        goto done;
    }
    /* The members point into values that storing may free (dst may be one). */
    if (zop_payload(&res, &pay) != 0) {
        reply_error(x, ERR_OOM);
        goto done;
    }
    zcmd_store(x, &x->argv[1], pay.data, pay.len, ZCMD_STORE_WHOLE);
    rbuf_free(&pay);
done:
    zl_free(&res);
    zsrcs_free(s, setnum);
    free(weights);
}

/* What a split operation remembers (the pending's ctx, one allocation). */
struct zop_ctx {
    unsigned db;
    struct zop_opts o;
    const char *err;      /* an option error, replied after the type checks */
    size_t dlen;          /* *STORE: the destination */
    double *weights;      /* one per key (in this block) */
    char dst[];
};

/*
 * The operands from the parts' replies, in key order.  NULL after
 * replying the first part's error (WRONGTYPE: in key order, as Redis checks
 * them), the option error, or a failure.
 */
static struct zsrc *gather_parts(struct pending *p, struct resp_out *out)
{
    const struct zop_ctx *c = p->ctx;
    struct zsrc *s;
    struct zcmd_pay_it it;
    const uint8_t *m;
    const char *pay;
    unsigned i;
    size_t len, ml;
    double sc;
    int rc;

    for (i = 0; i < p->nparts; i++) {
        rc = zcmd_part_bulk(&p->parts[i].reply, &pay, &len);
        if (rc > 0) {
            zcmd_copy_part(p, i, out);
            return NULL;
        }
        if (rc < 0) {
            zcmd_reply_malformed(out);
            return NULL;
        }
    }
    if (c->err != NULL) {
        resp_add_error(out, c->err);
        return NULL;
    }
    if ((s = calloc(p->nparts, sizeof(*s))) == NULL) {
        resp_add_error(out, ERR_OOM);
        return NULL;
    }
    for (i = 0; i < p->nparts; i++) {
        s[i].order = i;
        s[i].weight = c->weights[i];
        zcmd_part_bulk(&p->parts[i].reply, &pay, &len);
        if (zcmd_pay_open(pay, len, &it) != 0) {
            zcmd_reply_malformed(out);
            goto fail;
        }
        s[i].kind = it.left ? SRC_LIST : SRC_NONE;
        while (zcmd_pay_next(&it, &m, &ml, &sc))
            if (zl_push(&s[i].l, m, ml, sc, 0) == NULL) {
                resp_add_error(out, ERR_OOM);
                goto fail;
            }
        for (len = 0; len < s[i].l.n; len++)
            s[i].l.e[len].h = XXH3_64bits(s[i].l.e[len].m, s[i].l.e[len].len);
        s[i].n = s[i].l.n;
    }
    return s;
fail:
    zsrcs_free(s, p->nparts);
    return NULL;
}

/* ZUNION, ZINTER, ZDIFF, ZINTERCARD across shards: every operand is in. */
static void merge_zop(struct pending *p, struct resp_out *out)
{
    const struct zop_ctx *c = p->ctx;
    struct zlist res = { NULL, 0, 0, NULL, 0 };
    struct zsrc *s = gather_parts(p, out);
    long long card;

    if (s == NULL)
        return;
    if (zop_compute(&c->o, s, p->nparts, &res, &card) != 0)
        resp_add_error(out, ERR_OOM);
    else
        zop_reply(out, &c->o, &res, card);
    zl_free(&res);
    zsrcs_free(s, p->nparts);
}

/* The *STORE forms: compute, then send the result to dst's owner (phase
 * 2), whose reply (the cardinality, or an error) is the client's. */
static void merge_zop_store(struct pending *p, struct resp_out *out)
{
    const struct zop_ctx *c = p->ctx;
    struct zlist res = { NULL, 0, 0, NULL, 0 };
    struct zsrc *s = gather_parts(p, out);
    struct resp_arg v[3];
    struct rbuf pay;
    long long card;
    long n = p->nparts;

    if (s == NULL)
        return;
    if (zop_compute(&c->o, s, n, &res, &card) != 0 || zop_payload(&res, &pay) != 0) {
        resp_add_error(out, ERR_OOM);
        goto done;
    }
    /* The payload is a copy: the rearm frees the replies res points into. */
    v[0].ptr = "@zstore";
    v[0].len = 7;
    v[1].ptr = c->dst;
    v[1].len = c->dlen;
    v[2].ptr = pay.data;
    v[2].len = pay.len;
    cross_rearm(p, 1, NULL);
    cross_send_part(p, 0, key_shard(c->dst, c->dlen), c->db, 3, v);
    rbuf_free(&pay);
done:
    zl_free(&res);
    zsrcs_free(s, n);
}

/* One "@zread key" part per source (with an option error: type checks only). */
static void zop_split(struct cmd_ctx *x, const struct zop_opts *o, int store, int first,
                      long setnum)
{
    size_t dlen = store ? x->argv[1].len : 0;
    struct zop_ctx *c = malloc(sizeof(*c) + dlen + (size_t)setnum * sizeof(double) + 8);
    struct pending *p = NULL;
    long i;

    if (c != NULL)
        p = cross_pending(x->c, x->c->proto, (unsigned)setnum,
                          store ? merge_zop_store : merge_zop);
    if (p == NULL) {
        free(c);
        reply_error(x, ERR_OOM);
        return;
    }
    c->db = x->db;
    c->o = *o;
    c->dlen = dlen;
    memcpy(c->dst, store ? x->argv[1].ptr : "", dlen);
    c->weights = (double *)(void *)(((uintptr_t)(c->dst + dlen) + 7) & ~(uintptr_t)7);
    c->err = zop_options(x, first + (int)setnum, setnum, store, &c->o, c->weights);
    p->ctx = c;
    if (store)
        cross_pause_client(p);
    for (i = 0; i < setnum; i++) {
        struct resp_arg v[3] = { { "@zread", 6 }, x->argv[first + i], { "TYPE", 4 } };
        cross_send_part(p, (unsigned)i, key_shard(v[1].ptr, v[1].len), x->db,
                        c->err ? 3 : 2, v);
    }
    cross_pending_issued(p);
}

/* ZUNION/ZINTER/ZDIFF/ZINTERCARD numkeys key ... and the *STORE forms
 * (dst numkeys key ...): numkeys is checked before the keys are. */
static void zop_command(struct cmd_ctx *x, int op, int card, int store)
{
    struct zop_opts o = { op, card, AGG_SUM, 0, 0 };
    int nk = store ? 2 : 1, r;
    long long setnum;

    if (arg_ll(x, nk, &setnum) != 0)
        return;
    if (setnum < 1) {
        reply_errorf(x, "ERR at least 1 input key is needed for '%s' command", x->cmd->name);
        return;
    }
    if (setnum > x->argc - (nk + 1)) {
        reply_syntax(x);
        return;
    }
    r = zcmd_route(x, store ? 1 : -1, nk + 1, (int)setnum);
    if (r > 0)
        zop_local(x, &o, store, nk + 1, (long)setnum);
    else if (r < 0)
        zop_split(x, &o, store, nk + 1, (long)setnum);
}

void zunionCommand(struct cmd_ctx *x)
{
    zop_command(x, OP_UNION, 0, 0);
}

void zinterCommand(struct cmd_ctx *x)
{
    zop_command(x, OP_INTER, 0, 0);
}

void zdiffCommand(struct cmd_ctx *x)
{
    zop_command(x, OP_DIFF, 0, 0);
}

void zintercardCommand(struct cmd_ctx *x)
{
    zop_command(x, OP_INTER, 1, 0);
}

void zunionstoreCommand(struct cmd_ctx *x)
{
    zop_command(x, OP_UNION, 0, 1);
}

void zinterstoreCommand(struct cmd_ctx *x)
{
    zop_command(x, OP_INTER, 0, 1);
}

void zdiffstoreCommand(struct cmd_ctx *x)
{
    zop_command(x, OP_DIFF, 0, 1);
}

