/*
 * t_zset.c - sorted set commands; the multi-key pops and stores across shards.
 *
 * A sorted set is a keyspace entry whose value is a zset (shm/zset.h): a
 * pack of (member, score) pairs while small, a skiplist with spans plus a
 * dict beyond the zset-max-listpack-* limits.  Commands follow Redis 7.0's
 * t_zset.c in semantics, argument checks (and their order), error strings,
 * reply types (RESP3 doubles for scores, WITHSCORES pairs nested in RESP3
 * where Redis nests them) and score formatting (%.17g).  A sorted set is
 * never empty: the first member creates the key, removing the last deletes
 * it.  Writes run inside the dispatcher's mutation; an arena error is
 * db_fail()ed and the dispatcher undoes everything.  ZUNION, ZINTER, ZDIFF,
 * ZINTERCARD and their stores live in t_zsetop.c; the helpers both files
 * use (payloads, routing, the store) are declared in zcmd.h.
 *
 * Costs: ranks and counts are O(log n) on skiplists; ZRANGE streams from
 * the iterator into the reply with its length known up front (score ranges
 * are counted in O(log n) first), so nothing is allocated per member;
 * ZRANDMEMBER costs O(count) (random ranks, deduplicated by address); pops
 * reply first, then delete the run of ranks (the replies are copies).
 *
 * Sign of zero: Redis keeps a listpack's scores as integers where they are
 * integral, so a -0 written into a listpack reads back as 0, while a
 * skiplist keeps -0.  ember's compact encoding keeps -0, so the commands
 * drop its sign wherever Redis would write it into a listpack
 * (listpack_score()).  One difference remains: Redis never turns a skiplist
 * back into a listpack, ember's full values go back to compact when they
 * shrink to half the limit (shm/zset.c), and a -0 added after that reads
 * back as 0 where Redis, still on a skiplist, says -0.
 *
 * Single-key commands run where the dispatcher routed them.  The multi-key
 * ones (the algebra, ZRANGESTORE, ZMPOP, BZMPOP) route themselves: when
 * every key lives on one shard (one worker, or keys sharing a {hash tag})
 * the command runs there whole and atomically, here or forwarded, where it
 * runs with x->c == NULL meaning "all my keys are here".  When the keys
 * span shards:
 *
 *   ZUNION/ZINTER/ZDIFF/ZINTERCARD and their stores  see t_zsetop.c: the
 *       sources are gathered with "@zread key" (below), the result computed
 *       on this worker and stored with "@zstore dst payload".
 *   ZRANGESTORE  "@zread src RANGE ..." computes the range at the source's
 *       owner, then "@zstore dst payload" stores it at the destination's.
 *   ZMPOP  asks the keys' owners in key order, one phase per run of keys
 *       with the same owner ("ZMPOP n keys... MIN|MAX COUNT c"), until one
 *       pops something: Redis's "first non-empty key".
 *   BZPOPMIN, BZPOPMAX, BZMPOP  reply "CROSSSLOT Keys in request don't hash
 *       to the same slot", as Redis Cluster does (the dispatcher does it
 *       for BZPOP*, bzmpopCommand for BZMPOP): a blocked client waits at
 *       its keys' one owner (blocking.h).
 *
 * What another client may observe across shards (each shard's part is
 * atomic, the whole is not): the sources are read each at its own moment,
 * so a result may combine states no single instant had; between the reads
 * and the store, writers may change the sources or dst (the store then
 * overwrites dst with the older result, as if it had run first); two
 * concurrent stores into one dst end with either result, never a mix; dst
 * changes in one step (the @zstore mutation), so no reader sees it half
 * written; a cross-shard ZMPOP may pop from a later key while an earlier
 * one, already found empty, has been filled meanwhile.  The client that
 * sent a multi-phase command reads nothing more until its reply is in
 * (so "ZUNIONSTORE d ..; ZRANGE d .." reads the stored d), and the phases
 * run to the end even if it disconnects, as Redis applies a command it
 * received whole.
 *
 * Pointers into the arena are valid for the current command only, and
 * part replies only until the pending's next phase: what outlives either
 * is copied (a payload) first.
 */
#include "server.h"
#include "blocking.h"
#include "coll.h"
#include "commands.h"
#include "cross.h"
#include "util.h"
#include "zcmd.h"

#include "shm/hset.h"
#include "shm/zset.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char ERR_FLOAT[] = "ERR value is not a valid float";
static const char ERR_RANGE[] = "ERR min or max is not a float";
static const char ERR_LEX[] = "ERR min or max not valid string range item";
static const char ERR_NAN[] = "ERR resulting score is not a number (NaN)";
static const char ERR_OOM[] = "ERR out of memory";
static const char ERR_POSITIVE[] = "ERR value is out of range, must be positive";
static const char ERR_CROSSSLOT[] = "CROSSSLOT Keys in request don't hash to the same slot";

/* As t_hash.c: a random reply with repeats stops (the client is closed)
 * past this many bytes, where Redis would hit the output buffer limit. */
#define RAND_REPLY_MAX ((size_t)1 << 30)

/* ---- arguments ----------------------------------------------------------------------- */

/* A score bound as Redis's zslParseRange reads it: "(" makes it exclusive,
 * then strtod over the whole argument (so "" is 0 and leading spaces
 * pass), NaN refused.  0 or -1. */
static int score_bound(const struct resp_arg *a, double *v, int *ex)
{
    char small[128], *buf = small, *end;
    int ok;

    if (a->len >= sizeof(small) && (buf = malloc(a->len + 1)) == NULL)
        return -1;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    *ex = buf[0] == '(';
    *v = strtod(buf + *ex, &end);
    ok = *end == '\0' && !isnan(*v);
    if (buf != small)
        free(buf);
    return ok ? 0 : -1;
}

/* argv[imin], argv[imax] as a score range; replies Redis's error.  0 or -1. */
static int arg_range(struct cmd_ctx *x, int imin, int imax, struct zset_range *r)
{
    if (score_bound(&x->argv[imin], &r->min, &r->minex) != 0 ||
        score_bound(&x->argv[imax], &r->max, &r->maxex) != 0) {
        reply_error(x, ERR_RANGE);
        return -1;
    }
    return 0;
}

/* argv[imin], argv[imax] as a lex range (bytes stay in argv).  0 or -1. */
static int arg_lex(struct cmd_ctx *x, int imin, int imax, struct zset_lex *l)
{
    if (zset_lex_parse(x->argv[imin].ptr, x->argv[imin].len, &l->min) != EMBER_OK ||
        zset_lex_parse(x->argv[imax].ptr, x->argv[imax].len, &l->max) != EMBER_OK) {
        reply_error(x, ERR_LEX);
        return -1;
    }
    return 0;
}

/* A double argument (getDoubleFromObject); replies msg.  0 or -1. */
static int arg_double(struct cmd_ctx *x, int i, double *d, const char *msg)
{
    if (!util_str2d(x->argv[i].ptr, x->argv[i].len, d)) {
        reply_error(x, msg);
        return -1;
    }
    return 0;
}

/*
 * The score Redis would keep when adding member m to r.  Redis writes a
 * listpack's scores as integers where they are integral, which loses the
 * sign of a zero: -0 added to a sorted set that is (and stays) a listpack
 * reads back as 0, while a skiplist keeps -0.  ember's compact encoding
 * keeps -0, so the sign is dropped here wherever Redis would drop it: r
 * is missing or compact and stays compact (m is already there, or one more
 * member of its length fits the limits, as zset_add decides).
 */
static double listpack_score(const struct ks_ref *r, const void *m, size_t mlen, double s)
{
    double cur;

    if (s != 0 || !signbit(s) || (r->off != 0 && r->e.enc))
        return s;
    if (r->off != 0 && zset_score(W.arena, r, m, mlen, &cur))
        return 0.0;
    if ((r->off != 0 ? zset_len(W.arena, r) : 0) + 1 <= ks_limits.zset_entries &&
        mlen <= ks_limits.zset_value)
        return 0.0;
    return s;
}

/* ---- replies ---------------------------------------------------------------------------- */

/* The header of a list of n members, with or without scores: pairs are
 * flat in RESP2 (2n elements) and nested in RESP3. */
void zcmd_reply_members_hdr(struct resp_out *o, uint64_t n, int withscores)
{
    resp_add_array(o, (long)(withscores && o->proto == 2 ? 2 * n : n));
}

void zcmd_reply_member(struct resp_out *o, const uint8_t *m, size_t ml, double s,
                       int withscores)
{
    if (withscores && o->proto > 2)
        resp_add_array(o, 2);
    resp_add_bulk(o, m, ml);
    if (withscores)
        resp_add_double(o, s);
}

/* For replies of client-chosen size (t_hash.c's rule): past RAND_REPLY_MAX
 * the output is failed, which closes the client. */
static int reply_full(struct cmd_ctx *x, size_t start)
{
    if (x->out.b->len - start <= RAND_REPLY_MAX && !x->out.b->failed)
        return 0;
    x->out.b->failed = 1;
    return 1;
}

/* ---- payloads (see the top of the file) --------------------------------------------------- */

void zcmd_pay_init(struct rbuf *b)
{
    uint64_t zero = 0;

    rbuf_init(b);
    rbuf_append(b, &zero, 8);
}

void zcmd_pay_add(struct rbuf *b, const uint8_t *m, size_t ml, double s)
{
    uint32_t l = (uint32_t)ml;
    char *d;

    if (rbuf_reserve(b, 12 + ml) != EMBER_OK)
        return;
    d = b->data + b->len;
    memcpy(d, &s, 8);
    memcpy(d + 8, &l, 4);
    if (ml)
        memcpy(d + 12, m, ml);
    b->len += 12 + ml;
}

void zcmd_pay_finish(struct rbuf *b, uint64_t n)
{
    if (!b->failed && b->len >= 8)
        memcpy(b->data, &n, 8);
}

/* Opens a payload; an empty one (0 bytes) holds nothing.  Checks every
 * record (bounds, no NaN) so readers need not.  0 or -1 when malformed. */
int zcmd_pay_open(const char *p, size_t len, struct zcmd_pay_it *it)
{
    const char *q, *end = p + len;
    uint64_t n, i;
    uint32_t l;
    double s;

    it->p = it->end = p;
    it->left = 0;
    if (len == 0)
        return 0;
    if (len < 8)
        return -1;
    memcpy(&n, p, 8);
    for (q = p + 8, i = 0; i < n; i++) {
        if ((size_t)(end - q) < 12)
            return -1;
        memcpy(&s, q, 8);
        memcpy(&l, q + 8, 4);
        if (isnan(s) || (size_t)(end - q - 12) < l)
            return -1;
        q += 12 + l;
    }
    if (q != end)
        return -1;
    it->p = p + 8;
    it->end = end;
    it->left = n;
    return 0;
}

int zcmd_pay_next(struct zcmd_pay_it *it, const uint8_t **m, size_t *ml, double *s)
{
    uint32_t l;

    if (it->left == 0)
        return 0;
    memcpy(s, it->p, 8);
    memcpy(&l, it->p + 8, 4);
    *m = (const uint8_t *)it->p + 12;
    *ml = l;
    it->p += 12 + l;
    it->left--;
    return 1;
}

/*
 * A part's reply as a bulk (an @zread payload): 0 with *p and *len; 1 when
 * it is an error reply; -1 when malformed.
 */
int zcmd_part_bulk(const struct rbuf *b, const char **p, size_t *len)
{
    const char *nl;
    long long n;

    if (b->len == 0)
        return -1;
    if (b->data[0] == '-')
        return 1;
    if (b->data[0] != '$' || (nl = memchr(b->data, '\n', b->len)) == NULL || nl - b->data < 3 ||
        !util_str2ll(b->data + 1, (size_t)(nl - b->data - 2), &n) || n < 0 ||
        (size_t)n != b->len - (size_t)(nl + 1 - b->data) - 2)
        return -1;
    *p = nl + 1;
    *len = (size_t)n;
    return 0;
}

void zcmd_copy_part(const struct pending *p, unsigned i, struct resp_out *out)
{
    const struct rbuf *r = &p->parts[i].reply;

    if (r->len > 0)
        rbuf_append(out->b, r->data, r->len);
    else
        resp_add_error(out, "ERR no reply from the owning shard");
}

void zcmd_reply_malformed(struct resp_out *out)
{
    resp_add_error(out, "ERR malformed reply from the owning shard");
}

/* ---- routing ---------------------------------------------------------------------------- */

/* The shard owning argv[dst] (dst >= 0) and argv[first..first+n), or -1
 * when they span shards. */
static int keys_owner(const struct cmd_ctx *x, int dst, int first, int n)
{
    unsigned owner;
    int j;

    owner = dst >= 0 ? key_shard(x->argv[dst].ptr, x->argv[dst].len)
                     : key_shard(x->argv[first].ptr, x->argv[first].len);
    for (j = first; j < first + n; j++)
        if (key_shard(x->argv[j].ptr, x->argv[j].len) != owner)
            return -1;
    return (int)owner;
}

/*
 * Where a multi-key command with keys argv[dst] (if >= 0) and
 * argv[first..first+n) runs: 1 here (forwarded to us, one worker, a
 * blocked command's retry, or every key ours); 0 when it went whole to
 * the one other shard owning every key; -1 when the keys span shards.
 */
int zcmd_route(struct cmd_ctx *x, int dst, int first, int n)
{
    int owner;

    if (x->c == NULL || W.nworkers <= 1 || x->retry)
        return 1;
    owner = keys_owner(x, dst, first, n);
    if (owner < 0)
        return -1;
    if ((unsigned)owner == W.id)
        return 1;
    cross_forward(x, (unsigned)owner);
    W.st.forwarded++;
    return 0;
}

/* ---- storing a result ------------------------------------------------------------------- */

/*
 * Replaces dst by the members of a payload (zcmd.h).  The mode only
 * decides the sign of zero scores, as listpack_score() explains: a result
 * stored whole is a listpack in Redis when it fits, one stored member by
 * member (ZRANGESTORE) starts as a listpack and converts when it must.
 */
void zcmd_store(struct cmd_ctx *x, const struct resp_arg *dst, const char *pay, size_t len,
                int mode)
{
    const uint8_t *m;
    struct zcmd_pay_it it;
    struct ks_ref r;
    unsigned out;
    size_t ml, maxlen = 0;
    double s;
    int rc, deleted = 0, lp = 0;

    if (zcmd_pay_open(pay, len, &it) != 0) {
        reply_error(x, "ERR malformed sorted set payload");
        return;
    }
    if (mode == ZCMD_STORE_WHOLE) {
        struct zcmd_pay_it scan = it;
        while (zcmd_pay_next(&scan, &m, &ml, &s))
            maxlen = ml > maxlen ? ml : maxlen;
        lp = it.left <= ks_limits.zset_entries && maxlen <= ks_limits.zset_value;
    }
    if (coll_lookup(x, dst, 1, &r)) {
        rc = ks_ref_delete(W.arena, &r);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
        deleted = 1;
    }
    while (zcmd_pay_next(&it, &m, &ml, &s)) {
        if (mode == ZCMD_STORE_SEQ)
            s = listpack_score(&r, m, ml, s);
        else if (lp && s == 0)
            s = 0.0;
        rc = zset_add(W.arena, &r, m, ml, s, 0, &out, NULL);
        if (rc != EMBER_OK) {
            db_fail(x, rc);
            return;
        }
    }
    if (r.off == 0) {
        x->dirty += deleted;
        resp_add_int(&x->out, 0);
        return;
    }
    x->dirty++;
    block_signal_key(x->db, dst->ptr, dst->len);
    resp_add_int(&x->out, (long long)zset_len(W.arena, &r));
}

/* @zstore dst [payload [SEQ]]: the last phase of a *STORE across shards. */
void izstoreCommand(struct cmd_ctx *x)
{
    int mode = x->argc == 4 && ARG_EQ(x, 3, "seq") ? ZCMD_STORE_SEQ : ZCMD_STORE_WHOLE;

    if (x->argc > 4 || (x->argc == 4 && mode != ZCMD_STORE_SEQ)) {
        reply_syntax(x);
        return;
    }
    if (x->argc >= 3)
        zcmd_store(x, &x->argv[1], x->argv[2].ptr, x->argv[2].len, mode);
    else
        zcmd_store(x, &x->argv[1], "", 0, mode);
}

/* ---- ZADD, ZINCRBY, ZREM ------------------------------------------------------------------ */

/*
 * ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and
 * ZINCRBY key increment member (flags = ZSET_INCR: the options are looked
 * for at argv[2] too, so "ZINCRBY k nx m" is a syntax error, as in Redis).
 * Redis's order: options, pairs, option conflicts, every score parsed, then
 * the key.
 */
static void zadd_generic(struct cmd_ctx *x, unsigned flags)
{
    long long added = 0, updated = 0, processed = 0;
    double small[16], *scores = small, score = 0, newscore;
    int idx = 2, ch = 0, elements, j, found, rc, incr, nx, xx, gt, lt;
    struct ks_ref r;
    unsigned out;

    for (; idx < x->argc; idx++) {
        if (ARG_EQ(x, idx, "nx"))
            flags |= ZSET_NX;
        else if (ARG_EQ(x, idx, "xx"))
            flags |= ZSET_XX;
        else if (ARG_EQ(x, idx, "ch"))
            ch = 1;
        else if (ARG_EQ(x, idx, "incr"))
            flags |= ZSET_INCR;
        else if (ARG_EQ(x, idx, "gt"))
            flags |= ZSET_GT;
        else if (ARG_EQ(x, idx, "lt"))
            flags |= ZSET_LT;
        else
            break;
    }
    incr = (flags & ZSET_INCR) != 0;
    nx = (flags & ZSET_NX) != 0;
    xx = (flags & ZSET_XX) != 0;
    gt = (flags & ZSET_GT) != 0;
    lt = (flags & ZSET_LT) != 0;
    elements = x->argc - idx;
    if (elements % 2 || elements == 0) {
        reply_syntax(x);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        reply_error(x, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_error(x, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        reply_error(x, "ERR INCR option supports a single increment-element pair");
        return;
    }
    if (elements > (int)(sizeof(small) / sizeof(small[0])) &&
        (scores = malloc((size_t)elements * sizeof(*scores))) == NULL) {
        reply_error(x, ERR_OOM);
        return;
    }
    for (j = 0; j < elements; j++)
        if (arg_double(x, idx + 2 * j, &scores[j], ERR_FLOAT) != 0)
            goto done;
    found = coll_open(x, 1, KS_T_ZSET, 1, &r);
    if (found < 0)
        goto done;
    if (found || !xx) {
        for (j = 0; j < elements; j++) {
            const struct resp_arg *m = &x->argv[idx + 2 * j + 1];
            rc = zset_add(W.arena, &r, m->ptr, m->len,
                          listpack_score(&r, m->ptr, m->len, scores[j]), flags, &out, &newscore);
            if (rc != EMBER_OK) {
                db_fail(x, rc);
                goto done;
            }
            if (out & ZSET_NAN) {
                /* INCR takes one pair: nothing has changed. */
                reply_error(x, ERR_NAN);
                goto done;
            }
            added += (out & ZSET_ADDED) != 0;
            updated += (out & ZSET_UPDATED) != 0;
            if (!(out & ZSET_NOP)) {
                /* Redis replies the score it computed, before a listpack
                 * drops the sign of a zero: a new member's is the input. */
                processed++;
                score = (out & ZSET_ADDED) ? scores[j] : newscore;
            }
        }
        x->dirty += (int)(added + updated);
        /* A new key: clients blocked on it may pop (Redis's dbAdd). */
        if (!found && r.off != 0)
            block_signal_key(x->db, x->argv[1].ptr, x->argv[1].len);
    }
    if (!incr)
        resp_add_int(&x->out, ch ? added + updated : added);
    else if (processed)
        resp_add_double(&x->out, score);
    else
        resp_add_null(&x->out);
done:
    if (scores != small)
        free(scores);
}

void zaddCommand(struct cmd_ctx *x)
{
    zadd_generic(x, 0);
}

void zincrbyCommand(struct cmd_ctx *x)
{
    zadd_generic(x, ZSET_INCR);
}

void zremCommand(struct cmd_ctx *x)
{
    coll_del_members(x, KS_T_ZSET, zset_del);
}

/* ---- reading single members ------------------------------------------------------------------ */

void zcardCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    int found = coll_open(x, 1, KS_T_ZSET, 0, &r);

    if (found >= 0)
        resp_add_int(&x->out, found ? (long long)zset_len(W.arena, &r) : 0);
}

void zscoreCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    double s;
    int found = coll_open(x, 1, KS_T_ZSET, 0, &r);

    if (found < 0)
        return;
    if (found && zset_score(W.arena, &r, x->argv[2].ptr, x->argv[2].len, &s))
        resp_add_double(&x->out, s);
    else
        resp_add_null(&x->out);
}

void zmscoreCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    double s;
    int j, found = coll_open(x, 1, KS_T_ZSET, 0, &r);

    /* A missing key is an empty sorted set: a null per member. */
    if (found < 0)
        return;
    resp_add_array(&x->out, x->argc - 2);
    for (j = 2; j < x->argc; j++) {
        if (found && zset_score(W.arena, &r, x->argv[j].ptr, x->argv[j].len, &s))
            resp_add_double(&x->out, s);
        else
            resp_add_null(&x->out);
    }
}

static void zrank_generic(struct cmd_ctx *x, int rev)
{
    struct ks_ref r;
    uint64_t rank;
    int found = coll_open(x, 1, KS_T_ZSET, 0, &r);

    if (found < 0)
        return;
    if (found && zset_rank(W.arena, &r, x->argv[2].ptr, x->argv[2].len, rev, &rank, NULL))
        resp_add_int(&x->out, (long long)rank);
    else
        resp_add_null(&x->out);
}

void zrankCommand(struct cmd_ctx *x)
{
    zrank_generic(x, 0);
}

void zrevrankCommand(struct cmd_ctx *x)
{
    zrank_generic(x, 1);
}

void zcountCommand(struct cmd_ctx *x)
{
    struct zset_range range;
    struct ks_ref r;
    int found;

    if (arg_range(x, 2, 3, &range) != 0)
        return;
    found = coll_open(x, 1, KS_T_ZSET, 0, &r);
    if (found >= 0)
        resp_add_int(&x->out, found ? (long long)zset_count_score(W.arena, &r, &range) : 0);
}

void zlexcountCommand(struct cmd_ctx *x)
{
    struct zset_lex lex;
    struct ks_ref r;
    int found;

    if (arg_lex(x, 2, 3, &lex) != 0)
        return;
    found = coll_open(x, 1, KS_T_ZSET, 0, &r);
    if (found >= 0)
        resp_add_int(&x->out, found ? (long long)zset_count_lex(W.arena, &r, &lex) : 0);
}

/* ---- ranges ------------------------------------------------------------------------------- */

enum { ZR_AUTO = -1, ZR_RANK, ZR_SCORE, ZR_LEX };

/* A parsed ZRANGE-family request. */
struct zrange_spec {
    int type;                  /* ZR_RANK, ZR_SCORE or ZR_LEX */
    int rev;                   /* walk from the highest */
    int withscores;            /* the client asked for scores */
    long long start, end;      /* ZR_RANK: indexes as given */
    long long offset, limit;   /* LIMIT (limit < 0: no limit) */
    struct zset_range range;   /* ZR_SCORE */
    struct zset_lex lex;       /* ZR_LEX: bounds point into argv */
};

/*
 * Parses argv[first+1..] of a ZRANGE-family command (argv[first] is the
 * source key) as Redis's zrangeGenericCommand: options first, then their
 * conflicts, then the range (its two bounds swapped for REV by score or
 * lex).  type is ZR_AUTO unless the command fixes it; rev is -1 unless the
 * command fixes the direction.  Replies the error; 0 or -1.
 */
static int zrange_parse(struct cmd_ctx *x, int first, int store, int type, int rev,
                        struct zrange_spec *s)
{
    int minidx = first + 1, maxidx = first + 2, j;

    s->withscores = 0;
    s->start = s->end = s->offset = 0;
    s->limit = -1;
    for (j = first + 3; j < x->argc; j++) {
        int left = x->argc - j - 1;
        if (!store && ARG_EQ(x, j, "withscores")) {
            s->withscores = 1;
        } else if (ARG_EQ(x, j, "limit") && left >= 2) {
            if (arg_ll(x, j + 1, &s->offset) != 0 || arg_ll(x, j + 2, &s->limit) != 0)
                return -1;
            j += 2;
        } else if (rev < 0 && ARG_EQ(x, j, "rev")) {
            rev = 1;
        } else if (type == ZR_AUTO && ARG_EQ(x, j, "bylex")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && ARG_EQ(x, j, "byscore")) {
            type = ZR_SCORE;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    s->rev = rev > 0;
    s->type = type == ZR_AUTO ? ZR_RANK : type;
    if (s->limit != -1 && s->type == ZR_RANK) {
        reply_error(x, "ERR syntax error, LIMIT is only supported in combination with either "
                       "BYSCORE or BYLEX");
        return -1;
    }
    if (s->withscores && s->type == ZR_LEX) {
        reply_error(x, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return -1;
    }
    if (s->rev && s->type != ZR_RANK) {
        minidx = first + 2;
        maxidx = first + 1;
    }
    switch (s->type) {
    case ZR_RANK:
        return arg_ll(x, minidx, &s->start) != 0 || arg_ll(x, maxidx, &s->end) != 0 ? -1 : 0;
    case ZR_SCORE:
        return arg_range(x, minidx, maxidx, &s->range);
    default:
        return arg_lex(x, minidx, maxidx, &s->lex);
    }
}

/* Where a range goes: a reply (o) or a payload (pay). */
struct zsink {
    struct resp_out *o;
    struct rbuf *pay;
    int withscores;
};

static void sink_put(struct zsink *k, const uint8_t *m, size_t ml, double s)
{
    if (k->pay)
        zcmd_pay_add(k->pay, m, ml, s);
    else
        zcmd_reply_member(k->o, m, ml, s, k->withscores);
}

/*
 * Emits the range s of the zset r into k: a reply's header and members,
 * or a payload's members.  Returns how many.  Rank and score ranges know
 * their length before the first member (a score range is counted in
 * O(log n)); a lex range's reply header is deferred, since over mixed
 * scores only the walk itself says where it ends.
 */
static uint64_t zrange_emit(const struct ks_ref *r, const struct zrange_spec *s, struct zsink *k)
{
    uint64_t len = zset_len(W.arena, r), n = 0, i;
    struct zset_it it;
    const uint8_t *m;
    size_t ml, h = 0;
    double sc;

    if (s->type == ZR_LEX) {
        if (!k->pay)
            h = resp_add_deferred(k->o);
        if (s->offset >= 0) {
            zset_iter_lex(W.arena, r, &s->lex, s->rev, &it);
            zset_skip(&it, (uint64_t)s->offset);
            while ((s->limit < 0 || n < (uint64_t)s->limit) && zset_next(&it, &m, &ml, &sc)) {
                sink_put(k, m, ml, sc);
                n++;
            }
        }
        if (!k->pay)
            resp_set_deferred_array(k->o, h, (long)n);
        return n;
    }
    if (s->type == ZR_RANK) {
        long long start = s->start, end = s->end, l = (long long)len;
        if (start < 0)
            start += l;
        if (end < 0)
            end += l;
        if (start < 0)
            start = 0;
        if (start <= end && start < l) {
            if (end >= l)
                end = l - 1;
            n = (uint64_t)(end - start + 1);
            zset_iter_rank(W.arena, r, (uint64_t)start, s->rev, &it);
        }
    } else if (s->offset >= 0) {
        uint64_t total = zset_count_score(W.arena, r, &s->range);
        n = total > (uint64_t)s->offset ? total - (uint64_t)s->offset : 0;
        if (s->limit >= 0 && n > (uint64_t)s->limit)
            n = (uint64_t)s->limit;
        if (n > 0) {
            zset_iter_score(W.arena, r, &s->range, s->rev, &it);
            zset_skip(&it, (uint64_t)s->offset);
        }
    }
    if (!k->pay)
        zcmd_reply_members_hdr(k->o, n, k->withscores);
    for (i = 0; i < n; i++) {
        BUG_ON(!zset_next(&it, &m, &ml, &sc));
        sink_put(k, m, ml, sc);
    }
    return n;
}

/* ZRANGE and its older forms: key min max [options]. */
static void zrange_generic(struct cmd_ctx *x, int type, int rev)
{
    struct zrange_spec s;
    struct zsink k;
    struct ks_ref r;
    int found;

    if (zrange_parse(x, 1, 0, type, rev, &s) != 0)
        return;
    found = coll_open(x, 1, KS_T_ZSET, 0, &r);
    if (found < 0)
        return;
    if (!found) {
        resp_add_array(&x->out, 0);
        return;
    }
    k.o = &x->out;
    k.pay = NULL;
    k.withscores = s.withscores;
    zrange_emit(&r, &s, &k);
}

void zrangeCommand(struct cmd_ctx *x)
{
    zrange_generic(x, ZR_AUTO, -1);
}

void zrevrangeCommand(struct cmd_ctx *x)
{
    zrange_generic(x, ZR_RANK, 1);
}

void zrangebyscoreCommand(struct cmd_ctx *x)
{
    zrange_generic(x, ZR_SCORE, 0);
}

void zrevrangebyscoreCommand(struct cmd_ctx *x)
{
    zrange_generic(x, ZR_SCORE, 1);
}

void zrangebylexCommand(struct cmd_ctx *x)
{
    zrange_generic(x, ZR_LEX, 0);
}

void zrevrangebylexCommand(struct cmd_ctx *x)
{
    zrange_generic(x, ZR_LEX, 1);
}

/*
 * The range of src (argv[2]) as a payload: empty for a missing key.  -1
 * after replying WRONGTYPE or an out-of-memory error.  The members are
 * copies: storing may free what the range pointed at (dst may be src).
 */
static int zrange_collect(struct cmd_ctx *x, int src, const struct zrange_spec *s,
                          struct rbuf *pay)
{
    struct zsink k;
    struct ks_ref r;
    uint64_t n = 0;
    int found = coll_open(x, src, KS_T_ZSET, 0, &r);

    if (found < 0)
        return -1;
    zcmd_pay_init(pay);
    k.o = NULL;
    k.pay = pay;
    k.withscores = 1;
    if (found)
        n = zrange_emit(&r, s, &k);
    zcmd_pay_finish(pay, n);
    if (pay->failed) {
        rbuf_free(pay);
        reply_error(x, ERR_OOM);
        return -1;
    }
    return 0;
}

/*
 * How ZRANGESTORE writes its result (Redis's zrangeResultBeginStore): a
 * rank range longer than the listpack limit starts as a skiplist, which is
 * ZCMD_STORE_WHOLE's rule; any other starts as a listpack.
 */
static int zrangestore_mode(const struct zrange_spec *s, const char *pay, size_t len)
{
    uint64_t n = 0;

    if (len >= 8)
        memcpy(&n, pay, 8);
    return s->type == ZR_RANK && n > ks_limits.zset_entries ? ZCMD_STORE_WHOLE : ZCMD_STORE_SEQ;
}

/* ZRANGESTORE across shards: the range, then its store (see the top). */
struct zrs_ctx {
    unsigned db;
    struct zrange_spec spec;   /* its bounds' bytes are gone: type only */
    size_t dlen;
    char dst[];
};

static void merge_zrangestore(struct pending *p, struct resp_out *out)
{
    const struct zrs_ctx *c = p->ctx;
    struct resp_arg v[4];
    const char *pay;
    size_t len;
    char *copy;
    int rc = zcmd_part_bulk(&p->parts[0].reply, &pay, &len), seq;

    if (rc != 0) {
        if (rc > 0)
            zcmd_copy_part(p, 0, out);
        else
            zcmd_reply_malformed(out);
        return;
    }
    /* The rearm drops the part's reply: send a copy. */
    if ((copy = malloc(len ? len : 1)) == NULL) {
        resp_add_error(out, ERR_OOM);
        return;
    }
    memcpy(copy, pay, len);
    seq = zrangestore_mode(&c->spec, pay, len) == ZCMD_STORE_SEQ;
    v[0].ptr = "@zstore";
    v[0].len = 7;
    v[1].ptr = c->dst;
    v[1].len = c->dlen;
    v[2].ptr = copy;
    v[2].len = len;
    v[3].ptr = "SEQ";
    v[3].len = 3;
    cross_rearm(p, 1, NULL);
    cross_send_part(p, 0, key_shard(c->dst, c->dlen), c->db, seq ? 4 : 3, v);
    free(copy);
}

static void zrangestore_split(struct cmd_ctx *x, const struct zrange_spec *s)
{
    struct zrs_ctx *c = malloc(sizeof(*c) + x->argv[1].len);
    struct resp_arg *v = malloc((size_t)x->argc * sizeof(*v));
    struct pending *p = NULL;
    int j;

    if (c != NULL && v != NULL)
        p = cross_pending(x->c, x->c->proto, 1, merge_zrangestore);
    if (p == NULL) {
        free(c);
        free(v);
        reply_error(x, ERR_OOM);
        return;
    }
    c->db = x->db;
    c->spec = *s;
    c->dlen = x->argv[1].len;
    memcpy(c->dst, x->argv[1].ptr, c->dlen);
    p->ctx = c;
    cross_pause_client(p);
    /* "@zread src RANGE min max [options]": the options as given. */
    v[0].ptr = "@zread";
    v[0].len = 6;
    v[1] = x->argv[2];
    v[2].ptr = "RANGE";
    v[2].len = 5;
    for (j = 3; j < x->argc; j++)
        v[j] = x->argv[j];
    cross_send_part(p, 0, key_shard(v[1].ptr, v[1].len), x->db, x->argc, v);
    free(v);
    cross_pending_issued(p);
}

/* ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] */
void zrangestoreCommand(struct cmd_ctx *x)
{
    struct zrange_spec s;
    struct rbuf pay;
    int r;

    if (zrange_parse(x, 2, 1, ZR_AUTO, -1, &s) != 0)
        return;
    r = zcmd_route(x, 1, 2, 1);
    if (r < 0)
        zrangestore_split(x, &s);
    if (r <= 0)
        return;
    if (zrange_collect(x, 2, &s, &pay) != 0)
        return;
    zcmd_store(x, &x->argv[1], pay.data, pay.len, zrangestore_mode(&s, pay.data, pay.len));
    rbuf_free(&pay);
}

/* ---- ZREMRANGEBY* ------------------------------------------------------------------------- */

static void zremrange_generic(struct cmd_ctx *x, int type)
{
    long long start = 0, end = 0, len;
    struct zset_range range;
    struct zset_lex lex;
    struct ks_ref r;
    uint64_t deleted = 0;
    int found, rc = EMBER_OK;

    if (type == ZR_RANK) {
        if (arg_ll(x, 2, &start) != 0 || arg_ll(x, 3, &end) != 0)
            return;
    } else if (type == ZR_SCORE) {
        if (arg_range(x, 2, 3, &range) != 0)
            return;
    } else if (arg_lex(x, 2, 3, &lex) != 0) {
        return;
    }
    found = coll_open(x, 1, KS_T_ZSET, 1, &r);
    if (found <= 0) {
        if (found == 0)
            resp_add_int(&x->out, 0);
        return;
    }
    if (type == ZR_RANK) {
        len = (long long)zset_len(W.arena, &r);
        if (start < 0)
            start += len;
        if (end < 0)
            end += len;
        if (start < 0)
            start = 0;
        if (start > end || start >= len) {
            resp_add_int(&x->out, 0);
            return;
        }
        if (end >= len)
            end = len - 1;
        rc = zset_del_range_rank(W.arena, &r, (uint64_t)start, (uint64_t)end, &deleted);
    } else if (type == ZR_SCORE) {
        rc = zset_del_range_score(W.arena, &r, &range, &deleted);
    } else {
        rc = zset_del_range_lex(W.arena, &r, &lex, &deleted);
    }
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty += (int)deleted;
    resp_add_int(&x->out, (long long)deleted);
}

void zremrangebyrankCommand(struct cmd_ctx *x)
{
    zremrange_generic(x, ZR_RANK);
}

void zremrangebyscoreCommand(struct cmd_ctx *x)
{
    zremrange_generic(x, ZR_SCORE);
}

void zremrangebylexCommand(struct cmd_ctx *x)
{
    zremrange_generic(x, ZR_LEX);
}

/* ---- pops ----------------------------------------------------------------------------------- */

/* Reply shapes of a pop (Redis's genericZpopCommand). */
enum {
    POP_FLAT,        /* ZPOPMIN/MAX: m s m s ... */
    POP_NESTED,      /* ZPOPMIN/MAX with a count in RESP3: [m s] [m s] ... */
    POP_KEY_FLAT,    /* BZPOPMIN/MAX: key m s */
    POP_KEY_NESTED,  /* ZMPOP, BZMPOP: key [[m s] ...] */
};

/*
 * Pops min(count, size) members (count >= 1) of the zset r under key,
 * from the lowest or (max) the highest, replying them in `shape`.  The
 * replies are copies in the output, so the run of ranks is then deleted
 * at once.  On an arena error db_fail() is set.
 */
static void zpop_members(struct cmd_ctx *x, struct ks_ref *r, const struct resp_arg *key,
                         int max, long long count, int shape)
{
    uint64_t len = zset_len(W.arena, r), n = (uint64_t)count < len ? (uint64_t)count : len, i;
    uint64_t deleted;
    struct zset_it it;
    const uint8_t *m;
    size_t ml;
    double s;
    int rc;

    switch (shape) {
    case POP_FLAT:
        resp_add_array(&x->out, (long)(2 * n));
        break;
    case POP_NESTED:
        resp_add_array(&x->out, (long)n);
        break;
    case POP_KEY_FLAT:
        resp_add_array(&x->out, (long)(2 * n + 1));
        resp_add_bulk(&x->out, key->ptr, key->len);
        break;
    default:
        resp_add_array(&x->out, 2);
        resp_add_bulk(&x->out, key->ptr, key->len);
        resp_add_array(&x->out, (long)n);
        break;
    }
    zset_iter_rank(W.arena, r, 0, max, &it);
    for (i = 0; i < n; i++) {
        BUG_ON(!zset_next(&it, &m, &ml, &s));
        if (shape == POP_NESTED || shape == POP_KEY_NESTED)
            resp_add_array(&x->out, 2);
        resp_add_bulk(&x->out, m, ml);
        resp_add_double(&x->out, s);
    }
    rc = zset_del_range_rank(W.arena, r, max ? len - n : 0, max ? len - 1 : n - 1, &deleted);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty += (int)n;
}

/* ZPOPMIN / ZPOPMAX key [count] */
static void zpop_command(struct cmd_ctx *x, int max)
{
    long long count = -1;
    struct ks_ref r;
    int found;

    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    if (x->argc == 3 && coll_arg_count(x, 2, 0, &count, ERR_POSITIVE) != 0)
        return;
    found = coll_open(x, 1, KS_T_ZSET, 1, &r);
    if (found < 0)
        return;
    if (!found || count == 0) {
        resp_add_array(&x->out, 0);
        return;
    }
    zpop_members(x, &r, &x->argv[1], max, count < 0 ? 1 : count,
                 x->out.proto > 2 && count != -1 ? POP_NESTED : POP_FLAT);
}

void zpopminCommand(struct cmd_ctx *x)
{
    zpop_command(x, 0);
}

void zpopmaxCommand(struct cmd_ctx *x)
{
    zpop_command(x, 1);
}

/*
 * Pops from the first non-empty zset of argv[first..first+n) in `shape`.
 * 1 popped (or replied WRONGTYPE: Redis stops at the first key of another
 * type), 0 when every key is missing.
 */
static int zpop_first(struct cmd_ctx *x, int first, int n, int max, long long count, int shape)
{
    struct ks_ref r;
    int j, found;

    for (j = first; j < first + n; j++) {
        found = coll_open(x, j, KS_T_ZSET, 1, &r);
        if (found < 0)
            return 1;
        if (found) {
            zpop_members(x, &r, &x->argv[j], max, count, shape);
            return 1;
        }
    }
    return 0;
}

/*
 * The blocking pops: pop from the first non-empty key, or block on all of
 * them (blocking.h).  Re-run when a key got data (x->retry), they pop
 * from that key only, as Redis serves the key that became ready; a key
 * that is missing or now holds another type leaves them blocked.
 */
static void bzpop_generic(struct cmd_ctx *x, int first, int n, int max, long long count,
                          int shape, int64_t timeout)
{
    int small[16], *idx = small, j;
    struct ks_ref r;

    if (x->retry) {
        struct resp_arg k = { x->ready_key, x->ready_klen };
        if (!coll_lookup(x, &k, 1, &r) || r.e.type != KS_T_ZSET) {
            x->deferred = 1;
            return;
        }
        zpop_members(x, &r, &k, max, count, shape);
        return;
    }
    if (zpop_first(x, first, n, max, count, shape))
        return;
    if (n > (int)(sizeof(small) / sizeof(small[0])) &&
        (idx = malloc((size_t)n * sizeof(*idx))) == NULL) {
        reply_error(x, ERR_OOM);
        return;
    }
    for (j = 0; j < n; j++)
        idx[j] = first + j;
    block_on_keys(x, idx, n, timeout, BLOCK_NULL_ARRAY);
    if (idx != small)
        free(idx);
}

/* BZPOPMIN / BZPOPMAX key [key ...] timeout: the dispatcher has routed it
 * (CROSSSLOT for keys on different shards). */
static void bzpop_command(struct cmd_ctx *x, int max)
{
    int64_t timeout;

    if (block_parse_timeout(x, x->argc - 1, &timeout) != 0)
        return;
    bzpop_generic(x, 1, x->argc - 2, max, 1, POP_KEY_FLAT, timeout);
}

void bzpopminCommand(struct cmd_ctx *x)
{
    bzpop_command(x, 0);
}

void bzpopmaxCommand(struct cmd_ctx *x)
{
    bzpop_command(x, 1);
}

/* ZMPOP and BZMPOP's arguments after numkeys. */
struct mpop_args {
    int first, n;          /* keys: argv[first..first+n) */
    int max;
    long long count;
};

/*
 * The keys of [B]ZMPOP when numkeys (argv[nk]) is valid and they all fit:
 * what routing needs, before (and whatever) the rest of the arguments.
 * 0, or -1 (no reply) when the command will reply an error anyway.
 */
static int mpop_keys(const struct cmd_ctx *x, int nk, struct mpop_args *a)
{
    long long n;

    if (!util_str2ll(x->argv[nk].ptr, x->argv[nk].len, &n) || n < 1 || n > x->argc - nk - 2)
        return -1;
    a->first = nk + 1;
    a->n = (int)n;
    return 0;
}

/* Parses [B]ZMPOP as Redis: numkeys, MIN|MAX, [COUNT count].  0 or -1. */
static int mpop_parse(struct cmd_ctx *x, int nk, struct mpop_args *a)
{
    long long numkeys;
    int where, j;

    if (coll_arg_count(x, nk, 1, &numkeys, "ERR numkeys should be greater than 0") != 0)
        return -1;
    if (numkeys > x->argc - nk - 2) {     /* no room left for MIN|MAX */
        reply_syntax(x);
        return -1;
    }
    where = nk + (int)numkeys + 1;
    if (ARG_EQ(x, where, "min")) {
        a->max = 0;
    } else if (ARG_EQ(x, where, "max")) {
        a->max = 1;
    } else {
        reply_syntax(x);
        return -1;
    }
    a->count = -1;
    for (j = where + 1; j < x->argc; j++) {
        if (a->count == -1 && ARG_EQ(x, j, "count") && j + 1 < x->argc) {
            j++;
            if (coll_arg_count(x, j, 1, &a->count, "ERR count should be greater than 0") != 0)
                return -1;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    if (a->count == -1)
        a->count = 1;
    a->first = nk + 1;
    a->n = (int)numkeys;
    return 0;
}

/* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
void bzmpopCommand(struct cmd_ctx *x)
{
    struct mpop_args a;
    int64_t timeout;
    int owner;

    /* As Redis Cluster: CROSSSLOT before anything, when the keys are known. */
    if (x->c != NULL && W.nworkers > 1 && !x->retry && mpop_keys(x, 2, &a) == 0) {
        owner = keys_owner(x, -1, a.first, a.n);
        if (owner < 0) {
            reply_error(x, ERR_CROSSSLOT);
            return;
        }
        if ((unsigned)owner != W.id) {
            cross_forward(x, (unsigned)owner);
            W.st.forwarded++;
            return;
        }
    }
    if (mpop_parse(x, 2, &a) != 0 || block_parse_timeout(x, 1, &timeout) != 0)
        return;
    bzpop_generic(x, a.first, a.n, a.max, a.count, POP_KEY_NESTED, timeout);
}

/*
 * ZMPOP across shards: the keys copied, and the next one to ask.  Each
 * phase sends "ZMPOP n keys... MIN|MAX COUNT c" for the run of keys
 * starting at `next` that share an owner; a null reply moves on.
 */
struct zmpop_ctx {
    unsigned db;
    int next, n;
    int max;
    long long count;
    struct resp_arg keys[];    /* then the bytes */
};

static void zmpop_send(struct pending *p)
{
    struct zmpop_ctx *c = p->ctx;
    unsigned owner = key_shard(c->keys[c->next].ptr, c->keys[c->next].len);
    char nbuf[24], cbuf[24];
    struct resp_arg *v;
    int k = 0, j;

    for (j = c->next; j < c->n && key_shard(c->keys[j].ptr, c->keys[j].len) == owner; j++)
        k++;
    v = malloc((size_t)(k + 5) * sizeof(*v));
    if (v == NULL) {
        static const char oom[] = "-ERR out of memory\r\n";
        cross_local_part(p, 0, oom, sizeof(oom) - 1);
        c->next = c->n;
        return;
    }
    v[0].ptr = "ZMPOP";
    v[0].len = 5;
    v[1].ptr = nbuf;
    v[1].len = resp_ll2str(nbuf, k);
    for (j = 0; j < k; j++)
        v[2 + j] = c->keys[c->next + j];
    v[2 + k].ptr = c->max ? "MAX" : "MIN";
    v[2 + k].len = 3;
    v[3 + k].ptr = "COUNT";
    v[3 + k].len = 5;
    v[4 + k].ptr = cbuf;
    v[4 + k].len = resp_ll2str(cbuf, c->count);
    c->next += k;
    cross_send_part(p, 0, owner, c->db, k + 5, v);
    free(v);
}

static int is_null_array(const struct rbuf *b)
{
    return (b->len == 5 && memcmp(b->data, "*-1\r\n", 5) == 0) ||
           (b->len == 3 && memcmp(b->data, "_\r\n", 3) == 0);
}

static void merge_zmpop(struct pending *p, struct resp_out *out)
{
    struct zmpop_ctx *c = p->ctx;

    if (is_null_array(&p->parts[0].reply) && c->next < c->n) {
        cross_rearm(p, 1, merge_zmpop);
        zmpop_send(p);
        return;
    }
    zcmd_copy_part(p, 0, out);
}

static void zmpop_split(struct cmd_ctx *x, const struct mpop_args *a)
{
    size_t bytes = 0;
    struct zmpop_ctx *c;
    struct pending *p = NULL;
    char *at;
    int j;

    for (j = 0; j < a->n; j++)
        bytes += x->argv[a->first + j].len;
    c = malloc(sizeof(*c) + (size_t)a->n * sizeof(c->keys[0]) + bytes);
    if (c != NULL)
        p = cross_pending(x->c, x->c->proto, 1, merge_zmpop);
    if (p == NULL) {
        free(c);
        reply_error(x, ERR_OOM);
        return;
    }
    c->db = x->db;
    c->next = 0;
    c->n = a->n;
    c->max = a->max;
    c->count = a->count;
    at = (char *)(c->keys + a->n);
    for (j = 0; j < a->n; j++) {
        const struct resp_arg *k = &x->argv[a->first + j];
        memcpy(at, k->ptr, k->len);
        c->keys[j].ptr = at;
        c->keys[j].len = k->len;
        at += k->len;
    }
    p->ctx = c;
    cross_pause_client(p);
    zmpop_send(p);
    cross_pending_issued(p);
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
void zmpopCommand(struct cmd_ctx *x)
{
    struct mpop_args a;
    int r;

    if (mpop_parse(x, 1, &a) != 0)
        return;
    r = zcmd_route(x, -1, a.first, a.n);
    if (r < 0)
        zmpop_split(x, &a);
    if (r <= 0)
        return;
    if (!zpop_first(x, a.first, a.n, a.max, a.count, POP_KEY_NESTED))
        resp_add_null_array(&x->out);
}

/* ---- ZRANDMEMBER ---------------------------------------------------------------------------- */

struct zpick {
    const uint8_t *m;
    size_t ml;
    double s;
};

/* Every member of r (size of them) in an array the caller frees; NULL
 * when out of memory.  Pointers into the arena. */
static struct zpick *all_members(const struct ks_ref *r, uint64_t size)
{
    struct zpick *pk = malloc((size ? size : 1) * sizeof(*pk));
    struct zset_it it;
    uint64_t n = 0;

    if (pk == NULL)
        return NULL;
    zset_iter_rank(W.arena, r, 0, 0, &it);
    while (n < size && zset_next(&it, &pk[n].m, &pk[n].ml, &pk[n].s))
        n++;
    BUG_ON(n != size);
    return pk;
}

/* A table of addresses: distinct random picks (a member lives in one place). */
static int addr_add(const void **slot, size_t mask, const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 20) & mask;

    while (slot[i] != NULL) {
        if (slot[i] == p)
            return 0;
        i = (i + 1) & mask;
    }
    slot[i] = p;
    return 1;
}

/*
 * ZRANDMEMBER key count [WITHSCORES], as Redis's zrandmemberWithCountCommand:
 * a negative count repeats members, a positive one gives distinct members,
 * capped at the size.  O(count): a compact value is indexed once (reaching
 * a place in a pack means walking it); a full one is picked by random rank
 * (O(log n) each), deduplicated by address, unless count is over a third
 * of the size, where a partial shuffle of every member is cheaper.
 */
static void zrandmember_count(struct cmd_ctx *x, long long l, int withscores)
{
    uint64_t count = l < 0 ? (uint64_t)-l : (uint64_t)l, size, i, n;
    struct zpick *all = NULL, pk;
    size_t start;
    struct ks_ref r;
    int found = coll_open(x, 1, KS_T_ZSET, 0, &r);

    if (found < 0)
        return;
    if (!found || count == 0) {
        resp_add_array(&x->out, 0);
        return;
    }
    size = zset_len(W.arena, &r);
    if (l < 0 || count == 1) {
        zcmd_reply_members_hdr(&x->out, count, withscores);
        start = x->out.b->len;
        if (!r.e.enc && count > 1)
            all = all_members(&r, size);   /* without memory: the slow way */
        for (i = 0; i < count && !reply_full(x, start); i++) {
            if (all != NULL)
                pk = all[worker_rand() % size];
            else
                zset_random(W.arena, &r, worker_rand(), &pk.m, &pk.ml, &pk.s);
            zcmd_reply_member(&x->out, pk.m, pk.ml, pk.s, withscores);
        }
        free(all);
        return;
    }
    n = count < size ? count : size;
    if (count >= size || count * 3 > size || !r.e.enc) {
        if ((all = all_members(&r, size)) == NULL) {
            reply_error(x, ERR_OOM);
            return;
        }
        for (i = 0; i < n && n < size; i++) {
            uint64_t j = i + worker_rand() % (size - i);
            pk = all[i];
            all[i] = all[j];
            all[j] = pk;
        }
        zcmd_reply_members_hdr(&x->out, n, withscores);
        for (i = 0; i < n; i++)
            zcmd_reply_member(&x->out, all[i].m, all[i].ml, all[i].s, withscores);
        free(all);
    } else {
        size_t cap = 16;
        const void **seen;
        while (cap < 2 * count)
            cap <<= 1;
        if ((seen = calloc(cap, sizeof(*seen))) == NULL) {
            reply_error(x, ERR_OOM);
            return;
        }
        zcmd_reply_members_hdr(&x->out, n, withscores);
        for (i = 0; i < n;) {
            zset_random(W.arena, &r, worker_rand(), &pk.m, &pk.ml, &pk.s);
            if (addr_add(seen, cap - 1, pk.m)) {
                zcmd_reply_member(&x->out, pk.m, pk.ml, pk.s, withscores);
                i++;
            }
        }
        free(seen);
    }
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
void zrandmemberCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    struct zpick pk;
    long long l;
    int found, withscores = 0;

    if (x->argc >= 3) {
        if (coll_arg_count(x, 2, -LLONG_MAX, &l, NULL) != 0)
            return;
        if (x->argc > 4 || (x->argc == 4 && !ARG_EQ(x, 3, "withscores"))) {
            reply_syntax(x);
            return;
        }
        if (x->argc == 4) {
            withscores = 1;
            if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
                reply_error(x, "ERR value is out of range");
                return;
            }
        }
        zrandmember_count(x, l, withscores);
        return;
    }
    found = coll_open(x, 1, KS_T_ZSET, 0, &r);
    if (found < 0)
        return;
    if (!found) {
        resp_add_null(&x->out);
        return;
    }
    zset_random(W.arena, &r, worker_rand(), &pk.m, &pk.ml, &pk.s);
    resp_add_bulk(&x->out, pk.m, pk.ml);
}

/* ---- ZSCAN ------------------------------------------------------------------------------------ */

struct scan_acc {
    struct zpick *e;
    size_t n, cap;
    int oom;
};

static void scan_collect(void *ctx, const uint8_t *m, size_t ml, double s)
{
    struct scan_acc *a = ctx;

    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        struct zpick *e = realloc(a->e, cap * sizeof(*e));
        if (e == NULL) {
            a->oom = 1;
            return;
        }
        a->e = e;
        a->cap = cap;
    }
    a->e[a->n++] = (struct zpick){ m, ml, s };
}

/*
 * ZSCAN key cursor [MATCH pattern] [COUNT count] (coll_scan_begin): a full
 * value is scanned a bucket at a time until COUNT members or 20 * COUNT
 * steps (Redis counts a member and its score as two elements); a compact
 * one is returned whole, cursor 0.  Scores are bulk strings, "%.17g"
 * (Redis's ld2string).
 */
void zscanCommand(struct cmd_ctx *x)
{
    struct scan_acc acc = { NULL, 0, 0, 0 };
    struct coll_scan_args a;
    struct ks_ref r;
    size_t i, kept = 0;
    long long maxiter;
    uint64_t cursor;
    int l;
    char num[64];

    if (!coll_scan_begin(x, KS_T_ZSET, &r, &a))
        return;
    cursor = a.cursor;
    maxiter = a.count > LLONG_MAX / 20 ? LLONG_MAX : a.count * 20;
    do {
        cursor = zset_scan(W.arena, &r, cursor, scan_collect, &acc);
    } while (cursor && maxiter-- && (long long)acc.n < a.count && !acc.oom);
    if (acc.oom) {
        free(acc.e);
        reply_error(x, ERR_OOM);
        return;
    }
    for (i = 0; i < acc.n; i++)
        if (coll_scan_match(&a, acc.e[i].m, acc.e[i].ml))
            acc.e[kept++] = acc.e[i];
    resp_add_array(&x->out, 2);
    resp_add_bulk(&x->out, num, resp_ull2str(num, cursor));
    resp_add_array(&x->out, (long)(2 * kept));
    for (i = 0; i < kept; i++) {
        resp_add_bulk(&x->out, acc.e[i].m, acc.e[i].ml);
        l = util_d2str(num, sizeof(num), acc.e[i].s);
        resp_add_bulk(&x->out, num, (size_t)l);
    }
    free(acc.e);
}

/* ---- @zread: the internal read of the multi-key commands ------------------------------- */

/*
 * @zread key               the zset (a set: every score 1) as a payload
 * @zread key TYPE          type check only: an empty payload
 * @zread key RANGE min max [BYSCORE|BYLEX] [REV] [LIMIT o c]
 *                          ZRANGESTORE's range of a zset, as a payload
 * A missing key gives an empty payload, another type WRONGTYPE.
 */
void izreadCommand(struct cmd_ctx *x)
{
    static struct rbuf scratch;
    struct zrange_spec s;
    struct ks_ref r;
    struct rbuf pay;
    int found, range = x->argc >= 5 && ARG_EQ(x, 2, "range");
    uint64_t n = 0;

    if (x->argc > 3 && !range) {
        reply_syntax(x);
        return;
    }
    if (range) {
        if (zrange_parse(x, 2, 1, ZR_AUTO, -1, &s) != 0 || zrange_collect(x, 1, &s, &pay) != 0)
            return;
        resp_add_bulk(&x->out, pay.data, pay.len);
        rbuf_free(&pay);
        return;
    }
    found = coll_lookup(x, &x->argv[1], 0, &r) != 0;
    if (found && r.e.type != KS_T_ZSET && r.e.type != KS_T_SET) {
        reply_wrongtype(x);
        return;
    }
    if (!found || x->argc == 3) {
        resp_add_bulk(&x->out, "", 0);
        return;
    }
    /* Built in a buffer kept across calls, then copied into the reply. */
    rbuf_clear(&scratch);
    pay = scratch;
    {
        uint64_t zero = 0;
        rbuf_append(&pay, &zero, 8);
    }
    if (r.e.type == KS_T_ZSET) {
        struct zset_it it;
        const uint8_t *m;
        size_t ml;
        double sc;
        zset_iter_rank(W.arena, &r, 0, 0, &it);
        while (zset_next(&it, &m, &ml, &sc)) {
            zcmd_pay_add(&pay, m, ml, sc);
            n++;
        }
    } else {
        struct hset_it it;
        const uint8_t *m, *v;
        size_t ml, vl;
        hset_iter(W.arena, &r, &it);
        while (hset_next(&it, &m, &ml, &v, &vl)) {
            zcmd_pay_add(&pay, m, ml, 1.0);
            n++;
        }
    }
    zcmd_pay_finish(&pay, n);
    if (pay.failed)
        reply_error(x, ERR_OOM);
    else
        resp_add_bulk(&x->out, pay.data, pay.len);
    if (pay.cap > (1u << 20)) {
        rbuf_free(&pay);
        rbuf_init(&pay);
    }
    scratch = pay;
}
