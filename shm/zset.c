/*
 * zset.c - sorted-set values (see zset.h for the encodings and layouts).
 *
 * Invariants:
 *   - compact: the entry's value is a valid pack of exactly vlen bytes and
 *     2n >= 2 elements (n <= PACK_COUNT_MAX / 2), member then score, pairs
 *     strictly increasing by (score, member), each score element in its
 *     canonical encoding and not NaN, no member twice;
 *   - full: the value is the offset of a descriptor; level 0 links every
 *     node in strictly increasing (score, member) order, backward links
 *     mirror it and tail is the last node; at level i >= 1 each node of more
 *     than i levels is linked from the previous such node (or the head) with
 *     a span equal to the difference of their ranks (0 after the last one);
 *     length == the dict's count == the nodes, each in the dict under its
 *     member's hash, no member twice; level == max(node levels).
 *
 * The mutation model (arena.h): stores into live nodes, the head and the
 * descriptor are logged; a new node is written plainly and linked with
 * logged stores into its neighbours, O(level) records per insert or
 * delete.  A node whose score changes is unlinked and relinked in place
 * (its header logged once), as Redis's zslUpdateScore does.  A range delete
 * unlinks the whole run of ranks with O(level) stores, then drops each node
 * from the dict and frees it: a bounded cost per member.
 *
 * Reading a block that the current mutation freed is safe until commit
 * (frees are deferred, shm_free), which is how a compact value is rebuilt
 * from its old pack after ks_ref_rewrite() has released the old entry.
 */
#include "zset.h"
#include "alloc.h"
#include "check.h"

#include <math.h>

/* A skiplist node (zset.h has the byte layout); spans and the member follow
 * fwd[level]. */
struct znode {
    double score;
    uint64_t back_level;  /* bits 0-7 level, bits 8-63 backward node offset */
    uint64_t fwd[];       /* forward node per level */
};

#define HEAD_WORDS 50     /* the head: 12 * ZSET_MAXLEVEL + 12 bytes, rounded up */
struct zdesc {
    struct shm_dict dict; /* member -> node */
    uint64_t tail;        /* the last node */
    uint64_t length;      /* members */
    uint32_t level;       /* highest node level (>= 1) */
    uint32_t zero;
    uint64_t head[HEAD_WORDS];  /* a node of ZSET_MAXLEVEL levels */
};
#define HEAD_OFF 56u
_Static_assert(offsetof(struct zdesc, head) == HEAD_OFF, "zset descriptor layout");
_Static_assert(HEAD_WORDS * 8 >= 12 * ZSET_MAXLEVEL + 12, "zset head size");

#define NODE_HDR(l) (12u * (l) + 12u)

/* A compact value never passes this size, whatever the limits say
 * (Redis's listpacks stop at 1 GB too; check_compact keeps 32-bit offsets). */
#define PACK_MAX (1u << 30)

unsigned zset_debug_level;
int zset_shrink_to_compact;

/* The most members a compact value may hold: zset_entries within what a
 * pack's 16-bit count can hold (two elements a member).  worker.c clamps
 * the setting already; tests and tools set ks_limits directly. */
static uint64_t compact_max(void)
{
    return ks_limits.zset_entries < PACK_COUNT_MAX / 2 ? ks_limits.zset_entries
                                                       : PACK_COUNT_MAX / 2;
}

/* Stop conditions of iterators. */
#define STOP_NONE  0
#define STOP_SCORE 1
#define STOP_LEX   2

/* ---- score elements of compact values ----------------------------------------------- */

#define INT_LIMIT 36028797018963968.0   /* 2^55: integers of 7 bytes or less */
#define DEC_LIMIT 8796093022208.0       /* 2^43: decimal mantissas, 6 bytes with the scale */
#define DEC_SCALES 15                   /* decimal places, 1..15 (4 bits) */

static const double pow10_tab[DEC_SCALES + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
};

static int fits_bytes(int64_t v, unsigned n)
{
    if (n == 0)
        return v == 0;
    return v >= -(INT64_C(1) << (8 * n - 1)) && v < (INT64_C(1) << (8 * n - 1));
}

static size_t put_int(int64_t v, unsigned n, uint8_t *buf)
{
    memcpy(buf, &v, n);   /* little-endian host (layout.h) */
    return n;
}

/* The fewest bytes that hold v, sign-extended. */
static unsigned int_bytes(int64_t v)
{
    unsigned n = 0;
    while (!fits_bytes(v, n))
        n++;
    return n;
}

/* Encodes a score into buf (8 bytes); returns the element's length.  The
 * three forms (zset.h), canonical in this order: an integer in the fewest
 * bytes; a decimal m / 10^k (k = 1..15, the smallest that gives back d
 * exactly) stored as the integer m * 16 + k in ONE MORE byte than it needs,
 * which no integer uses; else the double's 8 bytes. */
static size_t score_enc(double d, uint8_t *buf)
{
    if (d >= -INT_LIMIT && d < INT_LIMIT && d == (double)(int64_t)d && !(d == 0 && signbit(d)))
        return put_int((int64_t)d, int_bytes((int64_t)d), buf);
    if (isfinite(d) && d != 0) {      /* -0 keeps its sign as a double */
        unsigned k;
        for (k = 1; k <= DEC_SCALES; k++) {
            double t = d * pow10_tab[k];
            int64_t m;
            if (!(t > -DEC_LIMIT && t < DEC_LIMIT))
                break;
            m = (int64_t)nearbyint(t);
            /* Division is correctly rounded: this is what score_dec gives. */
            if ((double)m / pow10_tab[k] == d) {
                int64_t v = m * 16 + (int64_t)k;
                if (!fits_bytes(v, 6))   /* rounded up to 2^43 */
                    break;
                return put_int(v, int_bytes(v) + 1, buf);
            }
        }
    }
    memcpy(buf, &d, 8);
    return 8;
}

/* Decodes a score element; 0, or -1 if its length is not a valid one. */
static int score_dec(const uint8_t *s, size_t len, double *d)
{
    uint64_t v = 0;
    int64_t iv;

    if (len == 8) {
        memcpy(d, s, 8);
        return 0;
    }
    if (len > 8)
        return -1;
    if (len > 0) {
        memcpy(&v, s, len);
        if (s[len - 1] & 0x80)
            v |= ~UINT64_C(0) << (8 * len);
    }
    iv = (int64_t)v;
    if (len >= 2 && fits_bytes(iv, (unsigned)len - 1)) {
        /* A decimal: one byte longer than its integer needs. */
        int64_t k = iv & 15;
        if (k == 0)
            return -1;
        *d = (double)(iv >> 4) / pow10_tab[k];
        return 0;
    }
    *d = (double)iv;
    return 0;
}

static size_t pair_size(size_t mlen, double score)
{
    uint8_t buf[8];
    return pack_elem_size(mlen) + 1 + score_enc(score, buf);
}

static size_t put_pair(uint8_t *dst, const void *m, size_t mlen, double score)
{
    uint8_t buf[8];
    size_t n = pack_put(dst, m, mlen);
    return n + pack_put(dst + n, buf, score_enc(score, buf));
}

/* A decoded pair of a pack. */
struct pair {
    const uint8_t *m;
    size_t mlen;
    double score;
    const uint8_t *next;  /* the following pair */
};

/* Reads the pair at p (bounded by end): 0, or -1 if malformed. */
static int pair_read(const uint8_t *p, const uint8_t *end, struct pair *x)
{
    const uint8_t *s;
    size_t len, n1, n2;

    n1 = pack_get(p, end, &x->m, &x->mlen);
    if (n1 == 0)
        return -1;
    n2 = pack_get(p + n1, end, &s, &len);
    if (n2 == 0 || score_dec(s, len, &x->score) != 0)
        return -1;
    x->next = p + n1 + n2;
    return 0;
}

/* Reads the pair at p of the valid pack of len bytes at pack. */
static inline void pair_at(const uint8_t *pack, size_t len, const uint8_t *p, struct pair *x)
{
    BUG_ON(pair_read(p, pack + len, x) != 0);
}

static inline uint64_t pack_pairs(const uint8_t *pack)
{
    return pack_count(pack) / 2;
}

static const uint8_t *pair_ptr(const uint8_t *pack, size_t len, uint64_t i)
{
    const uint8_t *p = pack + PACK_HDR;
    struct pair x;

    while (i--) {
        pair_at(pack, len, p, &x);
        p = x.next;
    }
    return p;
}

/* ---- comparisons and range predicates ------------------------------------------------ */

/* Redis's sdscmplex order: memcmp, then the shorter first. */
static int lexcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl;
}

static int elem_cmp(double s1, const uint8_t *m1, size_t l1, double s2, const uint8_t *m2,
                    size_t l2)
{
    if (s1 < s2)
        return -1;
    if (s1 > s2)
        return 1;
    return lexcmp(m1, l1, m2, l2);
}

static int gte_min(double v, const struct zset_range *r)
{
    return r->minex ? v > r->min : v >= r->min;
}

static int lte_max(double v, const struct zset_range *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}

static int range_empty(const struct zset_range *r)
{
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

static int lex_gte_min(const uint8_t *m, size_t ml, const struct zset_lex *lex)
{
    int c;

    if (lex->min.kind != ZSET_LEX_STR)
        return lex->min.kind == ZSET_LEX_MIN;
    c = lexcmp(m, ml, lex->min.s, lex->min.len);
    return lex->min.ex ? c > 0 : c >= 0;
}

static int lex_lte_max(const uint8_t *m, size_t ml, const struct zset_lex *lex)
{
    int c;

    if (lex->max.kind != ZSET_LEX_STR)
        return lex->max.kind == ZSET_LEX_MAX;
    c = lexcmp(m, ml, lex->max.s, lex->max.len);
    return lex->max.ex ? c < 0 : c <= 0;
}

/* Redis's sdscmplex() with its shared min and max strings. */
static int bound_cmp(const struct zset_lex_bound *a, const struct zset_lex_bound *b)
{
    if (a->kind == b->kind && a->kind != ZSET_LEX_STR)
        return 0;
    if (a->kind == ZSET_LEX_MIN || b->kind == ZSET_LEX_MAX)
        return -1;
    if (a->kind == ZSET_LEX_MAX || b->kind == ZSET_LEX_MIN)
        return 1;
    return lexcmp(a->s, a->len, b->s, b->len);
}

static int lex_empty(const struct zset_lex *lex)
{
    int c = bound_cmp(&lex->min, &lex->max);
    return c > 0 || (c == 0 && (lex->min.ex || lex->max.ex));
}

int zset_lex_parse(const void *s, size_t len, struct zset_lex_bound *b)
{
    const uint8_t *p = s;

    if (len == 0)
        return EMBER_EINVAL;
    b->s = NULL;
    b->len = 0;
    b->ex = 1;
    switch (p[0]) {
    case '+':
    case '-':
        if (len != 1)
            return EMBER_EINVAL;
        b->kind = p[0] == '+' ? ZSET_LEX_MAX : ZSET_LEX_MIN;
        return EMBER_OK;
    case '(':
    case '[':
        b->kind = ZSET_LEX_STR;
        b->ex = p[0] == '(';
        b->s = p + 1;
        b->len = len - 1;
        return EMBER_OK;
    default:
        return EMBER_EINVAL;
    }
}

/*
 * A monotone predicate over the order: "below the range's min", "within
 * its max", "before element (s, m)" ...  Walks take members while it holds.
 */
#define P_SCORE_MIN 0     /* gte_min (with neg: below the min) */
#define P_SCORE_MAX 1     /* lte_max */
#define P_LEX_MIN   2
#define P_LEX_MAX   3
#define P_ELEM_LT   4     /* (score, member) < (s, m) */
#define P_ELEM_LE   5     /* (score, member) <= (s, m) */
struct pred {
    int kind;
    int neg;
    const struct zset_range *range;
    const struct zset_lex *lex;
    double s;
    const uint8_t *m;
    size_t ml;
};

static int pred_eval(const struct pred *p, double score, const uint8_t *m, size_t ml)
{
    int v;

    switch (p->kind) {
    case P_SCORE_MIN: v = gte_min(score, p->range); break;
    case P_SCORE_MAX: v = lte_max(score, p->range); break;
    case P_LEX_MIN: v = lex_gte_min(m, ml, p->lex); break;
    case P_LEX_MAX: v = lex_lte_max(m, ml, p->lex); break;
    case P_ELEM_LT: v = elem_cmp(score, m, ml, p->s, p->m, p->ml) < 0; break;
    default: v = elem_cmp(score, m, ml, p->s, p->m, p->ml) <= 0; break;
    }
    return v ^ p->neg;
}

static struct pred pred_score(int kind, int neg, const struct zset_range *r)
{
    struct pred p = { kind, neg, r, NULL, 0, NULL, 0 };
    return p;
}

static struct pred pred_lex(int kind, int neg, const struct zset_lex *lex)
{
    struct pred p = { kind, neg, NULL, lex, 0, NULL, 0 };
    return p;
}

static struct pred pred_elem(int kind, double s, const uint8_t *m, size_t ml)
{
    struct pred p = { kind, 0, NULL, NULL, s, m, ml };
    return p;
}

/* ---- nodes ------------------------------------------------------------------------ */

static inline struct znode *nodep(const struct shm_arena *a, uint64_t off)
{
    return SHM_PTR(a, off, struct znode);
}

static inline struct zdesc *descp(const struct shm_arena *a, uint64_t desc)
{
    return SHM_PTR(a, desc, struct zdesc);
}

static inline unsigned nlevel(const struct znode *n)
{
    return (unsigned)(n->back_level & 0xff);
}

static inline uint64_t nback(const struct znode *n)
{
    return n->back_level >> 8;
}

/* The span of level i >= 1 (stored after the forwards). */
static inline uint32_t *spanp(struct znode *n, unsigned i)
{
    ASSERT(i >= 1 && i < nlevel(n));
    return (uint32_t *)((char *)n + 16 + 8 * nlevel(n)) + (i - 1);
}

static inline uint64_t span(struct znode *n, unsigned i)
{
    if (i == 0)
        return n->fwd[0] != 0;
    return *spanp(n, i);
}

static inline const uint8_t *nmember(const struct znode *n, size_t *len)
{
    const uint8_t *p = (const uint8_t *)n + NODE_HDR(nlevel(n));
    uint64_t v = 0;
    unsigned shift = 0;

    while (*p & 0x80) {
        v |= (uint64_t)(*p++ & 0x7f) << shift;
        shift += 7;
    }
    v |= (uint64_t)*p++ << shift;
    *len = (size_t)v;
    return p;
}

/* p on a node; its member is read only when p needs it (an element
 * comparison only on a score tie): one cache line less per node visited. */
static int pred_node(const struct pred *p, const struct znode *n)
{
    const uint8_t *m = NULL;
    size_t ml = 0;

    if (p->kind == P_SCORE_MIN || p->kind == P_SCORE_MAX)
        return pred_eval(p, n->score, NULL, 0);
    if ((p->kind == P_ELEM_LT || p->kind == P_ELEM_LE) && n->score != p->s)
        return n->score < p->s;
    m = nmember(n, &ml);
    return pred_eval(p, n->score, m, ml);
}

static int node_cmp(const struct znode *n, double s, const uint8_t *m, size_t ml)
{
    size_t nl;
    const uint8_t *nm;

    if (n->score != s)
        return n->score < s ? -1 : 1;
    nm = nmember(n, &nl);
    return lexcmp(nm, nl, m, ml);
}

static uint64_t node_hash(const struct shm_arena *a, uint64_t off, const void *ctx)
{
    size_t ml;
    const uint8_t *m = nmember(nodep(a, off), &ml);
    (void)ctx;
    return ks_hash(a, m, ml);
}

/* Logged stores into live nodes, skipped when nothing changes. */
static void set_fwd(struct shm_arena *a, struct znode *n, unsigned i, uint64_t v)
{
    if (n->fwd[i] != v)
        shm_set64(a, &n->fwd[i], v);
}

static void set_span(struct shm_arena *a, struct znode *n, unsigned i, uint64_t v)
{
    uint32_t *p;

    if (i == 0)
        return;
    ASSERT(v <= ZSET_MAXLEN);
    p = spanp(n, i);
    if (*p != v)
        shm_set32(a, p, (uint32_t)v);
}

static void set_back(struct shm_arena *a, struct znode *n, uint64_t back)
{
    uint64_t w = back << 8 | nlevel(n);
    if (n->back_level != w)
        shm_set64(a, &n->back_level, w);
}

/* A level for a new node: 1 + k with probability 4^-k (1 - 1/4). */
static unsigned random_level(void)
{
    static __thread uint64_t state = 0x9e3779b97f4a7c15ull;
    uint64_t r;
    unsigned l;

    if (zset_debug_level)
        return zset_debug_level;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    r = state * 0x2545f4914f6cdd1dull;
    l = 1 + (unsigned)__builtin_ctzll(r | (UINT64_C(1) << 62)) / 2;
    return l > ZSET_MAXLEVEL ? ZSET_MAXLEVEL : l;
}

/* Allocates and fills a node, unlinked (fresh: plain writes). */
static int node_new(struct shm_arena *a, const void *m, size_t mlen, double score,
                    unsigned level, uint64_t *off)
{
    struct znode *n;
    int rc = shm_alloc(a, NODE_HDR(level) + pack_elem_size(mlen), off);

    if (rc != EMBER_OK)
        return rc;
    n = nodep(a, *off);
    memset(n, 0, NODE_HDR(level));
    n->score = score;
    n->back_level = level;
    pack_put((uint8_t *)n + NODE_HDR(level), m, mlen);
    return EMBER_OK;
}

/* ---- full values: reading ---------------------------------------------------------- */

static inline uint64_t head_of(uint64_t desc)
{
    return desc + HEAD_OFF;
}

/*
 * Walks down from the head taking forwards while p holds for the node they
 * lead to.  Returns how many members it passed (the 1-based rank of *last,
 * the last node passed, or 0 and the head); fills update[i] / ranks[i]
 * with the last node (and its rank) passed at each level below the list's
 * level, when update is not NULL.
 */
static uint64_t descend(const struct shm_arena *a, uint64_t desc, const struct pred *p,
                        uint64_t *update, uint64_t *ranks, uint64_t *last)
{
    uint64_t x = head_of(desc), rank = 0, f;
    int i;

    for (i = (int)descp(a, desc)->level - 1; i >= 0; i--) {
        struct znode *xn = nodep(a, x);
        while ((f = xn->fwd[i]) != 0) {
            /* The walk's next node is f's forward or, if p fails on f,
             * x's forward one level down: fetch that one meanwhile. */
            if (i > 0 && xn->fwd[i - 1] != f)
                __builtin_prefetch(nodep(a, xn->fwd[i - 1]));
            if (!pred_node(p, nodep(a, f)))
                break;
            rank += span(xn, (unsigned)i);
            x = f;
            xn = nodep(a, x);
        }
        if (update != NULL) {
            update[i] = x;
            ranks[i] = rank;
        }
    }
    if (last != NULL)
        *last = x;
    return rank;
}

/* The same walk by rank: stops at the last node of rank <= target. */
static uint64_t descend_rank(const struct shm_arena *a, uint64_t desc, uint64_t target,
                             uint64_t *update, uint64_t *ranks)
{
    uint64_t x = head_of(desc), rank = 0, f;
    int i;

    for (i = (int)descp(a, desc)->level - 1; i >= 0; i--) {
        struct znode *xn = nodep(a, x);
        while ((f = xn->fwd[i]) != 0 && rank + span(xn, (unsigned)i) <= target) {
            rank += span(xn, (unsigned)i);
            x = f;
            xn = nodep(a, x);
        }
        if (update != NULL) {
            update[i] = x;
            ranks[i] = rank;
        }
    }
    return x;
}

/* The node of 1-based rank `rank` (in range). */
static uint64_t node_at(const struct shm_arena *a, uint64_t desc, uint64_t rank)
{
    uint64_t x = descend_rank(a, desc, rank, NULL, NULL);
    BUG_ON(x == head_of(desc));
    return x;
}

/* The 1-based rank of node x. */
static uint64_t node_rank(const struct shm_arena *a, uint64_t desc, uint64_t x)
{
    struct znode *n = nodep(a, x);
    size_t ml;
    const uint8_t *m = nmember(n, &ml);
    struct pred p = pred_elem(P_ELEM_LE, n->score, m, ml);
    uint64_t last, rank = descend(a, desc, &p, NULL, NULL, &last);

    BUG_ON(last != x);
    return rank;
}

/* Finds a member: its node (0 if absent) and dict slot. */
static uint64_t full_find(const struct shm_arena *a, uint64_t desc, const void *m, size_t mlen,
                          uint64_t h, struct dict_pos *pos)
{
    struct dict_probe p;
    uint64_t off;

    if (!dict_probe_start(a, &descp(a, desc)->dict, h, &p))
        return 0;
    while ((off = dict_probe_next(a, &p, pos)) != 0) {
        size_t nl;
        const uint8_t *nm = nmember(nodep(a, off), &nl);
        if (nl == mlen && (mlen == 0 || memcmp(nm, m, mlen) == 0))
            return off;
    }
    return 0;
}

/* ---- compact values: reading ---------------------------------------------------------- */

/* Index of member m in a pack (its pair in *x), or -1. */
static long compact_find(const uint8_t *pack, size_t len, const void *m, size_t mlen,
                         struct pair *x)
{
    const uint8_t *p = pack + PACK_HDR;
    uint64_t i, n = pack_pairs(pack);

    for (i = 0; i < n; i++) {
        pair_at(pack, len, p, x);
        if (x->mlen == mlen && (mlen == 0 || memcmp(x->m, m, mlen) == 0))
            return (long)i;
        p = x->next;
    }
    return -1;
}

/* Index of the first pair for which p holds, or the pair count. */
static uint64_t compact_first(const uint8_t *pack, size_t len, const struct pred *p)
{
    const uint8_t *q = pack + PACK_HDR;
    uint64_t i, n = pack_pairs(pack);
    struct pair x;

    for (i = 0; i < n; i++) {
        pair_at(pack, len, q, &x);
        if (pred_eval(p, x.score, x.m, x.mlen))
            break;
        q = x.next;
    }
    return i;
}

/* Index of the last pair for which p holds, or -1. */
static int64_t compact_last(const uint8_t *pack, size_t len, const struct pred *p)
{
    const uint8_t *q = pack + PACK_HDR;
    uint64_t i, n = pack_pairs(pack);
    int64_t last = -1;
    struct pair x;

    for (i = 0; i < n; i++) {
        pair_at(pack, len, q, &x);
        if (pred_eval(p, x.score, x.m, x.mlen))
            last = (int64_t)i;
        q = x.next;
    }
    return last;
}

/* Pairs from index i on for which p holds, up to the first that fails. */
static uint64_t compact_run(const uint8_t *pack, size_t len, uint64_t i, const struct pred *p)
{
    const uint8_t *q = pair_ptr(pack, len, i);
    uint64_t n = pack_pairs(pack), k = 0;
    struct pair x;

    for (; i < n; i++, k++) {
        pair_at(pack, len, q, &x);
        if (!pred_eval(p, x.score, x.m, x.mlen))
            break;
        q = x.next;
    }
    return k;
}

/* ---- reading: the API --------------------------------------------------------------- */

static inline const uint8_t *pack_of(const struct ks_ref *r)
{
    return (const uint8_t *)r->e.val;
}

/* The pack's length: the entry's value is the whole pack. */
static inline size_t pack_len(const struct ks_ref *r)
{
    return r->e.vlen;
}

uint64_t zset_len(const struct shm_arena *a, const struct ks_ref *r)
{
    if (r->e.enc)
        return descp(a, ks_desc(&r->e))->length;
    return pack_pairs(pack_of(r));
}

int zset_score(const struct shm_arena *a, const struct ks_ref *r, const void *m, size_t mlen,
               double *score)
{
    if (r->e.enc) {
        struct dict_pos pos;
        uint64_t x = full_find(a, ks_desc(&r->e), m, mlen, ks_hash(a, m, mlen), &pos);
        if (x == 0)
            return 0;
        *score = nodep(a, x)->score;
        return 1;
    } else {
        struct pair x;
        if (compact_find(pack_of(r), pack_len(r), m, mlen, &x) < 0)
            return 0;
        *score = x.score;
        return 1;
    }
}

int zset_rank(const struct shm_arena *a, const struct ks_ref *r, const void *m, size_t mlen,
              int rev, uint64_t *rank, double *score)
{
    uint64_t len = zset_len(a, r), k;
    double s;

    if (r->e.enc) {
        struct dict_pos pos;
        uint64_t desc = ks_desc(&r->e), x = full_find(a, desc, m, mlen, ks_hash(a, m, mlen), &pos);
        if (x == 0)
            return 0;
        k = node_rank(a, desc, x) - 1;
        s = nodep(a, x)->score;
    } else {
        struct pair x;
        long i = compact_find(pack_of(r), pack_len(r), m, mlen, &x);
        if (i < 0)
            return 0;
        k = (uint64_t)i;
        s = x.score;
    }
    if (rank != NULL)
        *rank = rev ? len - 1 - k : k;
    if (score != NULL)
        *score = s;
    return 1;
}

/* The first and last members, for Redis's early "all out of range" tests. */
static void ends(const struct shm_arena *a, const struct ks_ref *r, struct pair *first,
                 struct pair *last)
{
    if (r->e.enc) {
        uint64_t desc = ks_desc(&r->e);
        struct znode *f = nodep(a, nodep(a, head_of(desc))->fwd[0]);
        struct znode *l = nodep(a, descp(a, desc)->tail);
        first->m = nmember(f, &first->mlen);
        first->score = f->score;
        last->m = nmember(l, &last->mlen);
        last->score = l->score;
    } else {
        const uint8_t *pack = pack_of(r);
        size_t len = pack_len(r);
        pair_at(pack, len, pack + PACK_HDR, first);
        pair_at(pack, len, pair_ptr(pack, len, pack_pairs(pack) - 1), last);
    }
}

/* Can the range hold anything?  (Redis's zslIsInRange / zzlIsInLexRange.) */
static int score_overlaps(const struct shm_arena *a, const struct ks_ref *r,
                          const struct zset_range *range)
{
    struct pair first, last;

    if (range_empty(range))
        return 0;
    ends(a, r, &first, &last);
    return gte_min(last.score, range) && lte_max(first.score, range);
}

static int lex_overlaps(const struct shm_arena *a, const struct ks_ref *r,
                        const struct zset_lex *lex)
{
    struct pair first, last;

    if (lex_empty(lex))
        return 0;
    ends(a, r, &first, &last);
    return lex_gte_min(last.m, last.mlen, lex) && lex_lte_max(first.m, first.mlen, lex);
}

/*
 * The ranks [*first, *first + count) of a range, positioned by its min
 * (the first member not below it) and ended by the first member past its
 * max: O(log n) for full values, a scan for compact ones (as Redis's
 * listpack code, which is what makes lex ranges over mixed scores agree).
 */
static uint64_t range_span(const struct shm_arena *a, const struct ks_ref *r,
                           const struct pred *below, const struct pred *within,
                           uint64_t *first)
{
    if (r->e.enc) {
        uint64_t desc = ks_desc(&r->e), x, f = descend(a, desc, below, NULL, NULL, &x), l;
        if (f == descp(a, desc)->length || !pred_node(within, nodep(a, nodep(a, x)->fwd[0])))
            return 0;
        l = descend(a, desc, within, NULL, NULL, NULL);
        *first = f;
        return l > f ? l - f : 0;
    } else {
        const uint8_t *pack = pack_of(r);
        struct pred above = *below;
        above.neg = !above.neg;
        *first = compact_first(pack, pack_len(r), &above);
        return compact_run(pack, pack_len(r), *first, within);
    }
}

uint64_t zset_count_score(const struct shm_arena *a, const struct ks_ref *r,
                          const struct zset_range *range)
{
    struct pred below = pred_score(P_SCORE_MIN, 1, range);
    struct pred within = pred_score(P_SCORE_MAX, 0, range);
    uint64_t first;

    if (!score_overlaps(a, r, range))
        return 0;
    return range_span(a, r, &below, &within, &first);
}

uint64_t zset_count_lex(const struct shm_arena *a, const struct ks_ref *r,
                        const struct zset_lex *lex)
{
    struct pred below = pred_lex(P_LEX_MIN, 1, lex), within = pred_lex(P_LEX_MAX, 0, lex);
    uint64_t first;

    if (!lex_overlaps(a, r, lex))
        return 0;
    return range_span(a, r, &below, &within, &first);
}

/* ---- iterators ---------------------------------------------------------------------- */

static void it_init(const struct shm_arena *a, const struct ks_ref *r, int rev, struct zset_it *it)
{
    it->a = a;
    it->full = r->e.enc;
    it->rev = rev;
    it->stop = STOP_NONE;
    it->rank = 0;
    it->left = 0;
    it->desc = r->e.enc ? ks_desc(&r->e) : 0;
    it->node = 0;
    it->pack = r->e.enc ? NULL : pack_of(r);
    it->plen = r->e.enc ? 0 : pack_len(r);
    it->p = NULL;
    it->wlo = 0;
    it->nwin = 0;
}

static uint64_t it_len(const struct zset_it *it)
{
    return it->full ? descp(it->a, it->desc)->length : pack_pairs(it->pack);
}

/* Positions at forward rank `rank` (< the length). */
static void it_at(struct zset_it *it, uint64_t rank)
{
    uint64_t len = it_len(it);

    ASSERT(rank < len);
    it->rank = rank;
    it->left = it->rev ? rank + 1 : len - rank;
    if (it->full)
        it->node = node_at(it->a, it->desc, rank + 1);
    else if (!it->rev)
        it->p = pair_ptr(it->pack, it->plen, rank);
    it->nwin = 0;
}

void zset_iter_rank(const struct shm_arena *a, const struct ks_ref *r, uint64_t start, int rev,
                    struct zset_it *it)
{
    uint64_t len;

    it_init(a, r, rev, it);
    len = it_len(it);
    if (start < len)
        it_at(it, rev ? len - 1 - start : start);
}

/* Positions an iterator set up by it_init() on the first member inside
 * the range p bounds (rev: the last one); leaves it at the end if none. */
static void it_seek(const struct shm_arena *a, struct zset_it *it, struct pred *p, int rev)
{
    if (it->full) {
        uint64_t k = descend(a, it->desc, p, NULL, NULL, NULL);
        if (!rev && k < it_len(it))
            it_at(it, k);
        else if (rev && k > 0)
            it_at(it, k - 1);
    } else if (!rev) {
        uint64_t i;
        p->neg = 0;
        i = compact_first(it->pack, it->plen, p);
        if (i < it_len(it))
            it_at(it, i);
    } else {
        int64_t i = compact_last(it->pack, it->plen, p);
        if (i >= 0)
            it_at(it, (uint64_t)i);
    }
}

void zset_iter_score(const struct shm_arena *a, const struct ks_ref *r,
                     const struct zset_range *range, int rev, struct zset_it *it)
{
    struct pred p = rev ? pred_score(P_SCORE_MAX, 0, range) : pred_score(P_SCORE_MIN, 1, range);

    it_init(a, r, rev, it);
    it->stop = STOP_SCORE;
    it->range = *range;
    if (!score_overlaps(a, r, range))
        return;
    it_seek(a, it, &p, rev);
}

void zset_iter_lex(const struct shm_arena *a, const struct ks_ref *r, const struct zset_lex *lex,
                   int rev, struct zset_it *it)
{
    struct pred p = rev ? pred_lex(P_LEX_MAX, 0, lex) : pred_lex(P_LEX_MIN, 1, lex);

    it_init(a, r, rev, it);
    it->stop = STOP_LEX;
    it->lex = *lex;
    if (!lex_overlaps(a, r, lex))
        return;
    it_seek(a, it, &p, rev);
}

/* Compact, reverse: the pair at it->rank, through a window of offsets
 * refilled by a forward scan every ZSET_IT_WINDOW pairs. */
static const uint8_t *window_get(struct zset_it *it)
{
    if (it->nwin == 0 || it->rank < it->wlo || it->rank >= it->wlo + it->nwin) {
        uint64_t lo = it->rank + 1 >= ZSET_IT_WINDOW ? it->rank + 1 - ZSET_IT_WINDOW : 0, i;
        const uint8_t *p = it->pack + PACK_HDR;
        struct pair x;
        for (i = 0; i <= it->rank; i++) {
            if (i >= lo)
                it->win[i - lo] = (uint32_t)(p - it->pack);
            pair_at(it->pack, it->plen, p, &x);
            p = x.next;
        }
        it->wlo = lo;
        it->nwin = (uint32_t)(it->rank - lo + 1);
    }
    return it->pack + it->win[it->rank - it->wlo];
}

int zset_next(struct zset_it *it, const uint8_t **m, size_t *mlen, double *score)
{
    struct znode *n = NULL;
    struct pair x;
    int ok = 1;

    if (it->left == 0)
        return 0;
    if (it->full) {
        n = nodep(it->a, it->node);
        x.m = nmember(n, &x.mlen);
        x.score = n->score;
    } else {
        pair_at(it->pack, it->plen, it->rev ? window_get(it) : it->p, &x);
    }
    if (it->stop == STOP_SCORE)
        ok = it->rev ? gte_min(x.score, &it->range) : lte_max(x.score, &it->range);
    else if (it->stop == STOP_LEX)
        ok = it->rev ? lex_gte_min(x.m, x.mlen, &it->lex) : lex_lte_max(x.m, x.mlen, &it->lex);
    if (!ok) {
        it->left = 0;
        return 0;
    }
    *m = x.m;
    *mlen = x.mlen;
    *score = x.score;
    if (--it->left > 0) {
        if (it->rev)
            it->rank--;
        else
            it->rank++;
        if (it->full)
            it->node = it->rev ? nback(n) : n->fwd[0];
        else if (!it->rev)
            it->p = x.next;
    }
    return 1;
}

void zset_skip(struct zset_it *it, uint64_t n)
{
    if (n == 0 || it->left == 0)
        return;
    if (n >= it->left) {
        it->left = 0;
        return;
    }
    it->left -= n;
    it->rank = it->rev ? it->rank - n : it->rank + n;
    if (it->full) {
        it->node = node_at(it->a, it->desc, it->rank + 1);
    } else if (!it->rev) {
        struct pair x;
        while (n--) {
            pair_at(it->pack, it->plen, it->p, &x);
            it->p = x.next;
        }
    }
}

void zset_random(const struct shm_arena *a, const struct ks_ref *r, uint64_t rnd,
                 const uint8_t **m, size_t *mlen, double *score)
{
    uint64_t len = zset_len(a, r);

    BUG_ON(len == 0);
    if (r->e.enc) {
        /* A random rank: exactly uniform, O(log n). */
        struct znode *n = nodep(a, node_at(a, ks_desc(&r->e), rnd % len + 1));
        *m = nmember(n, mlen);
        *score = n->score;
    } else {
        struct pair x;
        pair_at(pack_of(r), pack_len(r), pair_ptr(pack_of(r), pack_len(r), rnd % len), &x);
        *m = x.m;
        *mlen = x.mlen;
        *score = x.score;
    }
}

struct scan_ctx {
    zset_scan_fn *fn;
    void *ctx;
};

static void scan_node(const struct shm_arena *a, uint64_t off, void *ctx)
{
    struct scan_ctx *s = ctx;
    struct znode *n = nodep(a, off);
    size_t ml;
    const uint8_t *m = nmember(n, &ml);

    s->fn(s->ctx, m, ml, n->score);
}

uint64_t zset_scan(const struct shm_arena *a, const struct ks_ref *r, uint64_t cursor,
                   zset_scan_fn *fn, void *ctx)
{
    if (r->e.enc) {
        struct scan_ctx s = { fn, ctx };
        return dict_scan_exact(a, &descp(a, ks_desc(&r->e))->dict, cursor, node_hash, NULL,
                               scan_node, &s);
    } else {
        const uint8_t *pack = pack_of(r), *p = pack + PACK_HDR;
        uint64_t i, n = pack_pairs(pack);
        struct pair x;
        for (i = 0; i < n; i++) {
            pair_at(pack, pack_len(r), p, &x);
            fn(ctx, x.m, x.mlen, x.score);
            p = x.next;
        }
        return 0;
    }
}

const char *zset_encoding(const struct ks_ref *r)
{
    return r->e.enc ? "skiplist" : "listpack";
}

/* ---- full values: writing ------------------------------------------------------------ */

/*
 * Links node x (unlinked, its level set) in at the position of (s, its
 * member) and gives it score s.  A fresh node is written plainly; a live
 * one (a score update) has its header logged first, in one record.
 */
static void full_link(struct shm_arena *a, uint64_t desc, uint64_t x, double s, int fresh)
{
    struct zdesc *d = descp(a, desc);
    struct znode *n = nodep(a, x);
    unsigned l = nlevel(n), old = d->level, i;
    uint64_t update[ZSET_MAXLEVEL], ranks[ZSET_MAXLEVEL], head = head_of(desc), f;
    size_t ml;
    const uint8_t *m = nmember(n, &ml);
    struct pred p = pred_elem(P_ELEM_LT, s, m, ml);

    descend(a, desc, &p, update, ranks, NULL);
    for (i = old; i < l; i++) {
        update[i] = head;
        ranks[i] = 0;
    }
    if (l > old)
        shm_set32(a, &d->level, l);
    if (!fresh)
        shm_preserve(a, n, NODE_HDR(l));
    n->score = s;
    for (i = 0; i < l; i++) {
        struct znode *u = nodep(a, update[i]);
        f = u->fwd[i];
        n->fwd[i] = f;
        if (i > 0) {
            *spanp(n, i) = f ? (uint32_t)(span(u, i) - (ranks[0] - ranks[i])) : 0;
            set_span(a, u, i, ranks[0] - ranks[i] + 1);
        }
        set_fwd(a, u, i, x);
    }
    for (i = l; i < old; i++) {
        struct znode *u = nodep(a, update[i]);
        if (u->fwd[i] != 0)
            set_span(a, u, i, span(u, i) + 1);
    }
    n->back_level = (update[0] == head ? 0 : update[0]) << 8 | l;
    if (n->fwd[0] != 0)
        set_back(a, nodep(a, n->fwd[0]), x);
    else
        shm_set64(a, &d->tail, x);
    shm_set64(a, &d->length, d->length + 1);
}

/*
 * Unlinks the k nodes of 0-based ranks [first, first + k) with O(level)
 * logged stores, whatever k is; the nodes themselves are left untouched
 * (still chained to each other at level 0).  update[i] / ranks[i]: the
 * last node before them at each level and its rank (a descend).  Returns
 * the first unlinked node.
 */
static uint64_t unlink_after(struct shm_arena *a, uint64_t desc, const uint64_t *update,
                             const uint64_t *ranks, uint64_t first, uint64_t k)
{
    struct zdesc *d = descp(a, desc);
    uint64_t lastdel[ZSET_MAXLEVEL] = { 0 }, lastrank[ZSET_MAXLEVEL];
    uint64_t head = head_of(desc), x, y, j;
    unsigned i, lvl;

    ASSERT(k > 0 && first + k <= d->length && ranks[0] == first);
    x = y = nodep(a, update[0])->fwd[0];
    for (j = 0; j < k; j++) {
        struct znode *yn = nodep(a, y);
        BUG_ON(y == 0);
        for (i = 0; i < nlevel(yn); i++) {
            lastdel[i] = y;
            lastrank[i] = first + 1 + j;
        }
        y = yn->fwd[0];
    }
    for (i = 0; i < d->level; i++) {
        struct znode *u = nodep(a, update[i]);
        if (lastdel[i] != 0) {
            struct znode *ln = nodep(a, lastdel[i]);
            uint64_t nf = ln->fwd[i];
            if (i > 0)
                set_span(a, u, i, nf ? lastrank[i] + span(ln, i) - k - ranks[i] : 0);
            set_fwd(a, u, i, nf);
        } else if (u->fwd[i] != 0) {
            set_span(a, u, i, span(u, i) - k);
        }
    }
    if (y != 0)
        set_back(a, nodep(a, y), update[0] == head ? 0 : update[0]);
    else
        shm_set64(a, &d->tail, update[0] == head ? 0 : update[0]);
    shm_set64(a, &d->length, d->length - k);
    lvl = d->level;
    while (lvl > 1 && nodep(a, head)->fwd[lvl - 1] == 0)
        lvl--;
    if (lvl != d->level)
        shm_set32(a, &d->level, lvl);
    return x;
}

static uint64_t full_unlink(struct shm_arena *a, uint64_t desc, uint64_t first, uint64_t k)
{
    uint64_t update[ZSET_MAXLEVEL], ranks[ZSET_MAXLEVEL];

    descend_rank(a, desc, first, update, ranks);
    return unlink_after(a, desc, update, ranks, first, k);
}

/* Unlinks node x, found by its (score, member) in one walk. */
static void full_unlink_node(struct shm_arena *a, uint64_t desc, uint64_t x)
{
    uint64_t update[ZSET_MAXLEVEL], ranks[ZSET_MAXLEVEL];
    struct znode *n = nodep(a, x);
    size_t ml;
    const uint8_t *m = nmember(n, &ml);
    struct pred p = pred_elem(P_ELEM_LT, n->score, m, ml);

    descend(a, desc, &p, update, ranks, NULL);
    BUG_ON(nodep(a, update[0])->fwd[0] != x);
    unlink_after(a, desc, update, ranks, ranks[0], 1);
}

/* Deletes ranks [first, first + k) (not all of them): unlink, then drop
 * each node from the dict and free it. */
static int full_delete(struct shm_arena *a, uint64_t desc, uint64_t first, uint64_t k)
{
    struct zdesc *d = descp(a, desc);
    uint64_t x = full_unlink(a, desc, first, k), j;

    for (j = 0; j < k; j++) {
        uint64_t next = nodep(a, x)->fwd[0];
        struct dict_pos pos;
        int rc;
        BUG_ON(!dict_find_elem(a, &d->dict, node_hash(a, x, NULL), x, &pos));
        rc = dict_delete(a, &d->dict, &pos, node_hash, NULL);
        if (rc != EMBER_OK)
            return rc;
        shm_free(a, x);
        x = next;
    }
    return EMBER_OK;
}

/* Inserts a new member (not present). */
static int full_insert(struct shm_arena *a, uint64_t desc, const void *m, size_t mlen, double s)
{
    struct zdesc *d = descp(a, desc);
    uint64_t x;
    int rc;

    if (d->length >= ZSET_MAXLEN)
        return EMBER_EFULL;
    rc = node_new(a, m, mlen, s, random_level(), &x);
    if (rc != EMBER_OK)
        return rc;
    full_link(a, desc, x, s, 1);
    return dict_add(a, &d->dict, ks_hash(a, m, mlen), x, node_hash, NULL);
}

/* Changes node x's score to s, in place when its position holds. */
static void full_update(struct shm_arena *a, uint64_t desc, uint64_t x, double s)
{
    struct znode *n = nodep(a, x);
    uint64_t back = nback(n), next = n->fwd[0];
    size_t ml;
    const uint8_t *m = nmember(n, &ml);

    if ((back == 0 || node_cmp(nodep(a, back), s, m, ml) < 0) &&
        (next == 0 || node_cmp(nodep(a, next), s, m, ml) > 0)) {
        shm_store(a, &n->score, &s, 8);
        return;
    }
    full_unlink_node(a, desc, x);
    full_link(a, desc, x, s, 0);
}

/* Builds a skiplist by appending in order (all fresh memory). */
struct builder {
    uint64_t desc;
    uint64_t last[ZSET_MAXLEVEL];
    uint64_t lastrank[ZSET_MAXLEVEL];
    uint64_t prev, rank;
};

static int build_append(struct shm_arena *a, struct builder *b, const void *m, size_t mlen,
                        double s)
{
    struct zdesc *d = descp(a, b->desc);
    unsigned l = random_level(), i;
    uint64_t x;
    struct znode *n;
    int rc = node_new(a, m, mlen, s, l, &x);

    if (rc != EMBER_OK)
        return rc;
    n = nodep(a, x);
    b->rank++;
    n->back_level = b->prev << 8 | l;
    for (i = 0; i < l; i++) {
        struct znode *ln = nodep(a, b->last[i]);
        ln->fwd[i] = x;
        if (i > 0)
            *spanp(ln, i) = (uint32_t)(b->rank - b->lastrank[i]);
        b->last[i] = x;
        b->lastrank[i] = b->rank;
    }
    if (l > d->level)
        d->level = l;
    b->prev = x;
    d->tail = x;
    d->length = b->rank;
    return dict_add(a, &d->dict, ks_hash(a, m, mlen), x, node_hash, NULL);
}

/*
 * Converts r's value (or, when r->off is 0, nothing) to the full encoding,
 * adding the new member (m, s) in its place.
 */
static int to_full(struct shm_arena *a, struct ks_ref *r, const void *m, size_t mlen, double s)
{
    struct builder b;
    struct zdesc *d;
    uint8_t *val;
    unsigned i;
    int rc, pending = 1;

    rc = shm_calloc(a, sizeof(struct zdesc), &b.desc);
    if (rc != EMBER_OK)
        return rc;
    d = descp(a, b.desc);
    nodep(a, head_of(b.desc))->back_level = ZSET_MAXLEVEL;
    d->level = 1;
    for (i = 0; i < ZSET_MAXLEVEL; i++) {
        b.last[i] = head_of(b.desc);
        b.lastrank[i] = 0;
    }
    b.prev = b.rank = 0;
    if (r->off) {
        const uint8_t *pack = pack_of(r), *p = pack + PACK_HDR;
        uint64_t j, n = pack_pairs(pack);
        struct pair x;
        for (j = 0; j < n; j++) {
            pair_at(pack, pack_len(r), p, &x);
            if (pending && elem_cmp(s, m, mlen, x.score, x.m, x.mlen) < 0) {
                pending = 0;
                if ((rc = build_append(a, &b, m, mlen, s)) != EMBER_OK)
                    return rc;
            }
            if ((rc = build_append(a, &b, x.m, x.mlen, x.score)) != EMBER_OK)
                return rc;
            p = x.next;
        }
    }
    if (pending && (rc = build_append(a, &b, m, mlen, s)) != EMBER_OK)
        return rc;
    rc = ks_ref_rewrite(a, r, KS_T_ZSET, 1, 8, &val);
    if (rc == EMBER_OK)
        memcpy(val, &b.desc, 8);
    return rc;
}

/*
 * A full value that shrank to half the entry limit goes back to compact
 * when its members are small.  The pack is written after the rewrite has
 * released the skiplist, from its nodes: freeing them (ops_free_all or the
 * garbage list) writes nothing into them and frees are deferred.
 */
static int maybe_compact(struct shm_arena *a, struct ks_ref *r)
{
    uint64_t desc = ks_desc(&r->e), first = nodep(a, head_of(desc))->fwd[0], x, count;
    size_t n = PACK_HDR, pos = PACK_HDR;
    uint8_t *val;
    int rc;

    if (!zset_shrink_to_compact)
        return EMBER_OK;
    count = descp(a, desc)->length;
    if (count > compact_max() / 2)
        return EMBER_OK;
    for (x = first; x != 0; x = nodep(a, x)->fwd[0]) {
        size_t ml;
        nmember(nodep(a, x), &ml);
        if (ml > ks_limits.zset_value)
            return EMBER_OK;
        n += pair_size(ml, nodep(a, x)->score);
    }
    if (n > PACK_MAX)
        return EMBER_OK;
    rc = ks_ref_rewrite(a, r, KS_T_ZSET, 0, n, &val);
    if (rc != EMBER_OK)
        return rc;
    for (x = first; x != 0; x = nodep(a, x)->fwd[0]) {
        size_t ml;
        const uint8_t *m = nmember(nodep(a, x), &ml);
        pos += put_pair(val + pos, m, ml, nodep(a, x)->score);
    }
    BUG_ON(pos != n);
    pack_set_header(val, (uint32_t)(count * 2));
    return EMBER_OK;
}

/* ---- compact values: writing --------------------------------------------------------- */

/*
 * Rewrites a compact value (r->off may be 0: a new key) as its pairs minus
 * pair `skip` (-1: none) plus (m, s) in its sorted place.  The old pack is
 * read after ks_ref_rewrite() released it (frees are deferred), so its
 * length is taken before the rewrite changes r.
 */
static int compact_put(struct shm_arena *a, struct ks_ref *r, long skip, const void *m,
                       size_t mlen, double s)
{
    static const uint8_t empty[PACK_HDR];   /* no pairs */
    const uint8_t *old = r->off ? pack_of(r) : empty, *p = old + PACK_HDR;
    size_t oldlen = r->off ? pack_len(r) : PACK_HDR;
    uint64_t i, n = pack_pairs(old), pairs = n + 1;
    size_t size = oldlen + pair_size(mlen, s), pos = PACK_HDR;
    uint8_t *val;
    struct pair x;
    int rc, pending = 1;

    if (skip >= 0) {
        const uint8_t *q = pair_ptr(old, oldlen, (uint64_t)skip);
        pair_at(old, oldlen, q, &x);
        size -= (size_t)(x.next - q);
        pairs--;
    }
    rc = ks_ref_rewrite(a, r, KS_T_ZSET, 0, size, &val);
    if (rc != EMBER_OK)
        return rc;
    for (i = 0; i < n; i++) {
        pair_at(old, oldlen, p, &x);
        if (pending && elem_cmp(s, m, mlen, x.score, x.m, x.mlen) < 0) {
            pos += put_pair(val + pos, m, mlen, s);
            pending = 0;
        }
        if ((long)i != skip) {
            memcpy(val + pos, p, (size_t)(x.next - p));
            pos += (size_t)(x.next - p);
        }
        p = x.next;
    }
    if (pending)
        pos += put_pair(val + pos, m, mlen, s);
    BUG_ON(pos != size);
    pack_set_header(val, (uint32_t)(pairs * 2));
    return EMBER_OK;
}

/* Removes pairs [first, first + k) of a compact value (not all of them). */
static int compact_delete(struct shm_arena *a, struct ks_ref *r, uint64_t first, uint64_t k)
{
    const uint8_t *old = pack_of(r);
    size_t oldlen = pack_len(r);   /* r changes with the rewrite */
    size_t n = pack_edit_size(old, oldlen, (uint32_t)(first * 2), (uint32_t)(k * 2), NULL, 0);
    uint8_t *val;
    int rc = ks_ref_rewrite(a, r, KS_T_ZSET, 0, n, &val);

    if (rc == EMBER_OK)
        pack_edit(val, old, oldlen, (uint32_t)(first * 2), (uint32_t)(k * 2), NULL, 0);
    return rc;
}

/* ---- writing: the API ---------------------------------------------------------------- */

/* ZADD's options on an existing member: 1 if its score must become *s. */
static int apply_existing(double cur, double *s, unsigned flags, unsigned *out, double *newscore)
{
    if (flags & ZSET_NX) {
        *out |= ZSET_NOP;
        return 0;
    }
    if (flags & ZSET_INCR) {
        *s += cur;
        if (isnan(*s)) {
            *out |= ZSET_NAN;
            return 0;
        }
    }
    if (((flags & ZSET_LT) && *s >= cur) || ((flags & ZSET_GT) && *s <= cur)) {
        *out |= ZSET_NOP;
        return 0;
    }
    if (newscore != NULL)
        *newscore = *s;
    if (*s == cur)
        return 0;
    *out |= ZSET_UPDATED;
    return 1;
}

int zset_add(struct shm_arena *a, struct ks_ref *r, const void *m, size_t mlen, double score,
             unsigned flags, unsigned *out, double *newscore)
{
    uint64_t n = 0;

    BUG_ON(isnan(score));
    *out = 0;
    ASSERT(r->off == 0 || r->e.type == KS_T_ZSET);
    if (r->off && r->e.enc) {
        uint64_t desc = ks_desc(&r->e), x;
        struct dict_pos pos;
        x = full_find(a, desc, m, mlen, ks_hash(a, m, mlen), &pos);
        if (x != 0) {
            if (apply_existing(nodep(a, x)->score, &score, flags, out, newscore))
                full_update(a, desc, x, score);
            return EMBER_OK;
        }
        if (flags & ZSET_XX) {
            *out |= ZSET_NOP;
            return EMBER_OK;
        }
        *out |= ZSET_ADDED;
        if (newscore != NULL)
            *newscore = score;
        return full_insert(a, desc, m, mlen, score);
    }
    if (r->off) {
        struct pair x;
        long i = compact_find(pack_of(r), pack_len(r), m, mlen, &x);
        if (i >= 0) {
            if (apply_existing(x.score, &score, flags, out, newscore))
                return compact_put(a, r, i, m, mlen, score);
            return EMBER_OK;
        }
        n = pack_pairs(pack_of(r));
    }
    if (flags & ZSET_XX) {
        *out |= ZSET_NOP;
        return EMBER_OK;
    }
    *out |= ZSET_ADDED;
    if (newscore != NULL)
        *newscore = score;
    if ((flags & ZSET_FULL) ||
        (!(flags & ZSET_COMPACT) && (n + 1 > compact_max() || mlen > ks_limits.zset_value)) ||
        n + 1 > PACK_COUNT_MAX / 2 ||
        (r->off ? pack_len(r) : PACK_HDR) + pair_size(mlen, score) > PACK_MAX)
        return to_full(a, r, m, mlen, score);
    return compact_put(a, r, -1, m, mlen, score);
}

int zset_del(struct shm_arena *a, struct ks_ref *r, const void *m, size_t mlen, int *removed)
{
    *removed = 0;
    if (r->e.enc) {
        uint64_t desc = ks_desc(&r->e), x;
        struct zdesc *d = descp(a, desc);
        struct dict_pos pos;
        int rc;
        x = full_find(a, desc, m, mlen, ks_hash(a, m, mlen), &pos);
        if (x == 0)
            return EMBER_OK;
        *removed = 1;
        if (d->length == 1)
            return ks_ref_delete(a, r);
        full_unlink_node(a, desc, x);
        rc = dict_delete(a, &d->dict, &pos, node_hash, NULL);
        if (rc != EMBER_OK)
            return rc;
        shm_free(a, x);
        return maybe_compact(a, r);
    } else {
        struct pair x;
        long i = compact_find(pack_of(r), pack_len(r), m, mlen, &x);
        if (i < 0)
            return EMBER_OK;
        *removed = 1;
        if (pack_pairs(pack_of(r)) == 1)
            return ks_ref_delete(a, r);
        return compact_delete(a, r, (uint64_t)i, 1);
    }
}

/* Deletes ranks [first, first + k) whatever the encoding. */
static int delete_ranks(struct shm_arena *a, struct ks_ref *r, uint64_t first, uint64_t k,
                        uint64_t *deleted)
{
    int rc;

    *deleted = k;
    if (k == 0)
        return EMBER_OK;
    if (k == zset_len(a, r))
        return ks_ref_delete(a, r);
    if (!r->e.enc)
        return compact_delete(a, r, first, k);
    rc = full_delete(a, ks_desc(&r->e), first, k);
    if (rc == EMBER_OK)
        rc = maybe_compact(a, r);
    return rc;
}

int zset_del_range_rank(struct shm_arena *a, struct ks_ref *r, uint64_t start, uint64_t end,
                        uint64_t *deleted)
{
    uint64_t len = zset_len(a, r);

    *deleted = 0;
    if (end >= len)
        end = len - 1;
    if (start > end)
        return EMBER_OK;
    return delete_ranks(a, r, start, end - start + 1, deleted);
}

int zset_del_range_score(struct shm_arena *a, struct ks_ref *r, const struct zset_range *range,
                         uint64_t *deleted)
{
    struct pred below = pred_score(P_SCORE_MIN, 1, range);
    struct pred within = pred_score(P_SCORE_MAX, 0, range);
    uint64_t first = 0, k;

    *deleted = 0;
    if (!score_overlaps(a, r, range))
        return EMBER_OK;
    k = range_span(a, r, &below, &within, &first);
    return delete_ranks(a, r, first, k, deleted);
}

int zset_del_range_lex(struct shm_arena *a, struct ks_ref *r, const struct zset_lex *lex,
                       uint64_t *deleted)
{
    struct pred below = pred_lex(P_LEX_MIN, 1, lex), within = pred_lex(P_LEX_MAX, 0, lex);
    uint64_t first = 0, k;

    *deleted = 0;
    if (!lex_overlaps(a, r, lex))
        return EMBER_OK;
    k = range_span(a, r, &below, &within, &first);
    return delete_ranks(a, r, first, k, deleted);
}

/* ---- type operations: freeing ---------------------------------------------------------- */

static uint64_t ops_count(const struct shm_arena *a, uint64_t desc)
{
    return descp(a, desc)->length;
}

static void ops_free_all(struct shm_arena *a, uint64_t desc)
{
    struct zdesc *d = descp(a, desc);
    uint64_t x = nodep(a, head_of(desc))->fwd[0];

    while (x != 0) {
        uint64_t next = nodep(a, x)->fwd[0];
        shm_free(a, x);
        x = next;
    }
    dict_free(a, &d->dict);
    shm_free(a, desc);
}

/* MEMORY USAGE: descriptor, dict table and nodes (level 0 walked for the
 * first `samples` nodes, averaged over the length; all when 0). */
static uint64_t ops_usage(const struct shm_arena *a, uint64_t desc, uint64_t samples)
{
    const struct zdesc *d = descp(a, desc);
    uint64_t total = shm_usable(a, desc) + dict_mem(a, &d->dict), sum = 0, n = 0;
    uint64_t x = nodep(a, head_of(desc))->fwd[0];

    while (x != 0 && (samples == 0 || n < samples)) {
        sum += shm_usable(a, x);
        n++;
        x = nodep(a, x)->fwd[0];
    }
    if (n > 0)
        total += n == d->length ? sum : (uint64_t)((double)sum / (double)n * (double)d->length);
    return total;
}

/*
 * Garbage: frees nodes from the front of level 0 (one logged store per
 * step: the head's level-0 forward), then the dict's table a chain at a
 * time.  Only level 0 and the dict's blocks are meaningful meanwhile.
 */
static uint64_t ops_free_step(struct shm_arena *a, uint64_t desc, uint64_t budget)
{
    struct znode *head = nodep(a, head_of(desc));
    uint64_t x = head->fwd[0], done = 0;

    while (x != 0 && done < budget) {
        uint64_t next = nodep(a, x)->fwd[0];
        shm_free(a, x);
        x = next;
        done++;
    }
    if (done > 0)
        shm_set64(a, &head->fwd[0], x);
    if (x == 0 && done < budget)
        done += dict_drain_step(a, &descp(a, desc)->dict, NULL, budget - done);
    return done;
}

/* ---- type operations: checking ------------------------------------------------------ */

/* Parses node `off` within its block: 0, or -1 if it overruns. */
static int node_parse(const struct shm_arena *a, uint64_t off, const uint8_t **m, size_t *ml)
{
    size_t usable = shm_usable(a, off);
    const struct znode *n = nodep(a, off);
    const uint8_t *p;
    unsigned l;

    if (usable < NODE_HDR(1) + 1)
        return -1;
    l = nlevel(n);
    if (l < 1 || l > ZSET_MAXLEVEL || NODE_HDR(l) >= usable)
        return -1;
    p = (const uint8_t *)n + NODE_HDR(l);
    return pack_get(p, (const uint8_t *)n + usable, m, ml) == 0 ? -1 : 0;
}

static int mark_table(const struct shm_arena *a, uint64_t block, int kind, void *ctx)
{
    (void)a;
    (void)kind;
    return shm_check_mark(ctx, block, "zset table");
}

#define DUP_SLOTS 1024u

static int check_compact(struct shm_check_ctx *c, const struct ks_entry *e)
{
    const uint8_t *pack = (const uint8_t *)e->val, *p, *q, *end;
    struct pair x, prev = { NULL, 0, 0, NULL }, y;
    uint32_t slots[DUP_SLOTS], cap = 16;
    uint64_t i, j, n;

    if (pack_validate(pack, e->vlen) != 0)
        return shm_check_fail(c, "compact zset: malformed pack");
    if (pack_count(pack) == 0 || pack_count(pack) % 2 != 0)
        return shm_check_fail(c, "compact zset: %u elements", pack_count(pack));
    n = pack_pairs(pack);
    while (cap < 2 * n && cap <= DUP_SLOTS)
        cap *= 2;
    if (cap <= DUP_SLOTS)
        memset(slots, 0, cap * sizeof(slots[0]));
    end = pack + e->vlen;
    p = pack + PACK_HDR;
    for (i = 0; i < n; i++) {
        const uint8_t *s;
        size_t len;
        uint8_t buf[8];
        if (pair_read(p, end, &x) != 0)
            return shm_check_fail(c, "compact zset: bad score element at pair %llu",
                                  (unsigned long long)i);
        pack_get(x.m + x.mlen, end, &s, &len);
        if (isnan(x.score))
            return shm_check_fail(c, "compact zset: NaN score");
        if (score_enc(x.score, buf) != len || memcmp(buf, s, len) != 0)
            return shm_check_fail(c, "compact zset: score not canonically encoded");
        if (i > 0 && elem_cmp(prev.score, prev.m, prev.mlen, x.score, x.m, x.mlen) >= 0)
            return shm_check_fail(c, "compact zset: pair %llu out of order",
                                  (unsigned long long)i);
        /* No member twice: a table of the members seen so far (a
         * quadratic scan for values too big for it). */
        if (cap <= DUP_SLOTS) {
            uint32_t h = (uint32_t)ks_hash(shm_check_arena(c), x.m, x.mlen) & (cap - 1);
            while (slots[h] != 0) {
                pair_read(pack + slots[h], end, &y);
                if (y.mlen == x.mlen && (x.mlen == 0 || memcmp(y.m, x.m, x.mlen) == 0))
                    return shm_check_fail(c, "compact zset: member twice");
                h = (h + 1) & (cap - 1);
            }
            slots[h] = (uint32_t)(p - pack);
        } else if (n <= 8192) {
            q = pack + PACK_HDR;
            for (j = 0; j < i; j++) {
                pair_read(q, end, &y);
                if (y.mlen == x.mlen && (x.mlen == 0 || memcmp(y.m, x.m, x.mlen) == 0))
                    return shm_check_fail(c, "compact zset: member twice");
                q = y.next;
            }
        }
        prev = x;
        p = x.next;
    }
    return 0;
}

static int check_full(struct shm_check_ctx *c, uint64_t desc)
{
    const struct shm_arena *a = shm_check_arena(c);
    struct zdesc *d = descp(a, desc);
    uint64_t head = head_of(desc), last[ZSET_MAXLEVEL], lastrank[ZSET_MAXLEVEL];
    uint64_t x, prev = 0, rank = 0;
    unsigned i, maxlevel = 1;
    char err[200];

    if (nodep(a, head)->back_level != ZSET_MAXLEVEL)
        return shm_check_fail(c, "zset %llu: bad head", (unsigned long long)desc);
    if (d->level < 1 || d->level > ZSET_MAXLEVEL)
        return shm_check_fail(c, "zset %llu: level %u", (unsigned long long)desc, d->level);
    if (d->length == 0 || d->length > ZSET_MAXLEN || d->length != d->dict.count)
        return shm_check_fail(c, "zset %llu: length %llu, dict count %llu",
                              (unsigned long long)desc, (unsigned long long)d->length,
                              (unsigned long long)d->dict.count);
    if (dict_validate(a, &d->dict, 1, err, sizeof(err)) != 0)
        return shm_check_fail(c, "zset dict: %s", err);
    if (dict_blocks(a, &d->dict, mark_table, c) != 0)
        return -1;
    for (i = 0; i < ZSET_MAXLEVEL; i++) {
        last[i] = head;
        lastrank[i] = 0;
    }
    /* Level 0 in order; every higher level proved against it. */
    for (x = nodep(a, head)->fwd[0]; x != 0; x = nodep(a, x)->fwd[0]) {
        struct znode *n;
        const uint8_t *m;
        size_t ml;
        if (++rank > d->length)
            return shm_check_fail(c, "zset %llu: more nodes than its length",
                                  (unsigned long long)desc);
        if (shm_check_mark(c, x, "zset node") != 0)
            return -1;
        if (node_parse(a, x, &m, &ml) != 0)
            return shm_check_fail(c, "zset node %llu overruns its block", (unsigned long long)x);
        n = nodep(a, x);
        if (isnan(n->score))
            return shm_check_fail(c, "zset node %llu: NaN score", (unsigned long long)x);
        if (nlevel(n) > d->level)
            return shm_check_fail(c, "zset node %llu: level %u above the list's %u",
                                  (unsigned long long)x, nlevel(n), d->level);
        if (nlevel(n) > maxlevel)
            maxlevel = nlevel(n);
        if (nback(n) != prev)
            return shm_check_fail(c, "zset node %llu: backward link %llu, expected %llu",
                                  (unsigned long long)x, (unsigned long long)nback(n),
                                  (unsigned long long)prev);
        if (prev != 0 && node_cmp(nodep(a, prev), n->score, m, ml) >= 0)
            return shm_check_fail(c, "zset node %llu out of order", (unsigned long long)x);
        for (i = 0; i < nlevel(n); i++) {
            struct znode *ln = nodep(a, last[i]);
            if (ln->fwd[i] != x)
                return shm_check_fail(c, "zset node %llu: level %u skips it",
                                      (unsigned long long)x, i);
            if (i > 0 && *spanp(ln, i) != rank - lastrank[i])
                return shm_check_fail(c, "zset node %llu: span %u at level %u, expected %llu",
                                      (unsigned long long)x, *spanp(ln, i), i,
                                      (unsigned long long)(rank - lastrank[i]));
            last[i] = x;
            lastrank[i] = rank;
        }
        prev = x;
    }
    if (rank != d->length || d->tail != prev)
        return shm_check_fail(c, "zset %llu: %llu nodes, length %llu, tail %llu (last %llu)",
                              (unsigned long long)desc, (unsigned long long)rank,
                              (unsigned long long)d->length, (unsigned long long)d->tail,
                              (unsigned long long)prev);
    if (maxlevel != d->level)
        return shm_check_fail(c, "zset %llu: level %u, highest node level %u",
                              (unsigned long long)desc, d->level, maxlevel);
    for (i = 0; i < ZSET_MAXLEVEL; i++) {
        struct znode *ln = nodep(a, last[i]);
        if (ln->fwd[i] != 0 || (i > 0 && *spanp(ln, i) != 0))
            return shm_check_fail(c, "zset %llu: level %u runs past its last node",
                                  (unsigned long long)desc, i);
    }
    /* Each node in the dict where its hash leads: with count == length,
     * the dict holds exactly the nodes.  Then no member twice. */
    for (x = nodep(a, head)->fwd[0]; x != 0; x = nodep(a, x)->fwd[0]) {
        struct dict_pos pos;
        if (!dict_find_elem(a, &d->dict, node_hash(a, x, NULL), x, &pos))
            return shm_check_fail(c, "zset node %llu not where its hash leads",
                                  (unsigned long long)x);
    }
    for (x = nodep(a, head)->fwd[0]; x != 0; x = nodep(a, x)->fwd[0]) {
        struct dict_probe p;
        struct dict_pos pos;
        size_t ml;
        const uint8_t *m = nmember(nodep(a, x), &ml);
        uint64_t o;
        dict_probe_start(a, &d->dict, ks_hash(a, m, ml), &p);
        while ((o = dict_probe_next(a, &p, &pos)) != 0) {
            size_t ol;
            const uint8_t *om;
            if (o == x)
                continue;
            om = nmember(nodep(a, o), &ol);
            if (ol == ml && (ml == 0 || memcmp(om, m, ml) == 0))
                return shm_check_fail(c, "zset %llu: member twice", (unsigned long long)desc);
        }
    }
    return 0;
}

static int ops_check(struct shm_check_ctx *c, unsigned type, const struct ks_entry *e)
{
    const struct shm_arena *a = shm_check_arena(c);
    uint64_t desc;

    (void)type;
    if (!e->enc)
        return check_compact(c, e);
    if (e->vlen != 8)
        return shm_check_fail(c, "full zset value of %llu bytes", (unsigned long long)e->vlen);
    desc = ks_desc(e);
    if (shm_check_mark(c, desc, "zset descriptor") != 0)
        return -1;
    if (shm_usable(a, desc) < sizeof(struct zdesc))
        return shm_check_fail(c, "zset descriptor too small");
    return check_full(c, desc);
}

/* A zset on the garbage list (its descriptor already marked): the dict's
 * blocks and the nodes left on level 0. */
static int ops_check_garbage(struct shm_check_ctx *c, uint64_t desc)
{
    const struct shm_arena *a = shm_check_arena(c);
    struct zdesc *d = descp(a, desc);
    uint64_t x, n = 0;
    char err[200];

    if (shm_usable(a, desc) < sizeof(struct zdesc))
        return shm_check_fail(c, "zset descriptor too small");
    if (dict_validate(a, &d->dict, 0, err, sizeof(err)) != 0)
        return shm_check_fail(c, "garbage zset dict: %s", err);
    if (dict_blocks(a, &d->dict, mark_table, c) != 0)
        return -1;
    for (x = nodep(a, head_of(desc))->fwd[0]; x != 0; x = nodep(a, x)->fwd[0]) {
        const uint8_t *m;
        size_t ml;
        if (++n > d->length)
            return shm_check_fail(c, "garbage zset %llu: more nodes than its length",
                                  (unsigned long long)desc);
        if (shm_check_mark(c, x, "zset node") != 0)
            return -1;
        if (node_parse(a, x, &m, &ml) != 0)
            return shm_check_fail(c, "zset node %llu overruns its block", (unsigned long long)x);
    }
    return 0;
}

const struct ks_type_ops zset_ops = {
    ops_count, ops_free_all, ops_free_step, ops_check, ops_check_garbage, ops_usage,
};
