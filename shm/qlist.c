/*
 * qlist.c - list values (see qlist.h).
 *
 * Elements are stored back to back in runs, each behind a tag byte (table
 * below).  The canonical decimal form of an int64 is stored as the integer
 * (1..9 bytes); other strings take a 1-byte header below 64 bytes.  Each
 * value has one encoding, so LREM/LPOS/LINSERT compare encoded bytes.
 * Unlike Redis's listpack there is no back-length: that byte per element
 * is most of what we save (10-byte strings: 11 bytes, Redis 12; 1..1M:
 * 3.5, Redis 5), at the price of runs that can only be walked forward.
 *
 * Compact encoding: the entry's value is [u32 count][run], rewritten whole
 * by every change (at most one node limit, 8 KiB by default).  Full: the
 * value is the offset of a descriptor of a doubly linked chain of nodes.
 *
 * A node is a gap buffer: header, slack, run, slack.  LPUSH writes before
 * the run, RPUSH after it, LPOP/RPOP move one end: one logged copy of the
 * bytes written (the slack is live memory: its old bytes are logged) plus
 * a node header store and a descriptor store, 2-3 undo records whatever
 * the list's length.  Out of slack but not of its limit, a node moves to a
 * block twice its size (amortized O(1)); a full one gets a neighbour.
 * Copy-on-write nodes (a new block per push) measured 5-10 times slower
 * per push on 8 KiB nodes (0.7-2 us against 0.1-0.25 us), for no fewer
 * records.  RPOP must find the last element's start, i.e. walk the tail
 * node: a pop that walked a long node splits its last sqrt(n) elements off
 * into a small tail node, so later pops walk only those (amortized
 * O(sqrt(node)) steps; 0.2-0.5 us per RPOP on 8 KiB nodes).
 *
 * Inner nodes two or more away from both ends are compressed (zstd, level
 * 1) when that saves an eighth (qlist_compress): a node is compressed once
 * as pushes move it inward and decompressed once when pops or trims make it
 * an end, and edits decompress it into scratch.  Why zstd and not LZ4 (our
 * snapshot codec): its entropy stage shrinks text without repeats, random
 * words or ids, by a third or more where LZ4 finds nothing (16 random
 * letters: 10.3 bytes, LZ4 17), for ~5 us to decompress an 8 KiB node and
 * ~20 us to compress one, once.  Random bytes do not compress and stay
 * plain.
 *
 * Edits in the middle (LSET to another size, LINSERT, LREM) rebuild the
 * node(s) into fresh blocks from "pieces" (runs of existing elements, new
 * strings), split into balanced nodes over the limit, merged with a
 * neighbour when both fit in one.  LTRIM moves the ends in place and
 * detaches whole nodes in O(1), handing big chains to the garbage list.
 *
 * Invariants (qlist_ops.check): compact: vlen = 4 + run, exactly `count`
 * >= 1 well-formed canonical elements.  Full: head/tail/prev/next agree;
 * every node holds >= 1 element and at most the largest limit (64 KiB)
 * unless it holds one; its run (decompressed) lies in its block; counts
 * add up per node and overall; head and tail are never compressed.
 */
#include "qlist.h"
#include "alloc.h"
#include "check.h"

#include <stdlib.h>
#include <zstd.h>

/*
 * Element encoding (first byte):
 *
 *   TAG         SIZE    MEANING
 *   0xxxxxxx    1       integer 0..127
 *   10xxxxxx    1+n     string of n = 0..63 bytes
 *   1100xxxx    2+n     string of n = 64..4095 bytes (12-bit length)
 *   1101xxxx    2       integer, 12 bits two's complement
 *   1110xxxx    3       integer, 20 bits (tag bits high, then 2 bytes LE)
 *   11110xxx    4       integer, 27 bits (tag bits high, then 3 bytes LE)
 *   0xF8..0xFC  5..9    integer in the next 4..8 bytes (LE, sign-extended)
 *   0xFD        5+n     string, 4-byte length n >= 4096
 *   0xFE, 0xFF  -       invalid
 *
 * Integers always take the smallest form that holds them.
 */
#define EL_STR6   0x80u
#define EL_STR12  0xC0u
#define EL_INT12  0xD0u
#define EL_INT20  0xE0u
#define EL_INT27  0xF0u
#define EL_INT32  0xF8u   /* EL_INT32 + k: 4 + k bytes follow */
#define EL_INT64  0xFCu
#define EL_STR32  0xFDu
#define EL_MAXHDR 9

/*
 * Node block.
 *
 * OFFSET SIZE  MEANING
 *    0     8   previous node (0: this is the head)
 *    8     8   next node (0: this is the tail)
 *   16     4   elements in the node (>= 1)
 *   20     4   start: offset in the block of the run's first byte
 *   24     4   end: offset just past the run
 *   28     4   zraw: 0 for a plain run; Z_NOZ (bit 31) for a plain run not
 *              to compress; else [start, end) is a zstd frame of a run of
 *              zraw bytes (head and tail nodes are never compressed)
 *   32     -   slack, the run [start, end), slack up to the usable size
 */
struct qnode {
    uint64_t prev;
    uint64_t next;
    uint32_t count;
    uint32_t start;
    uint32_t end;
    uint32_t zraw;
};
#define Z_NOZ 0x80000000u
#define NODE_HDR ((uint32_t)sizeof(struct qnode))

/*
 * Descriptor block (the entry's value holds its offset).
 *
 * OFFSET SIZE  MEANING
 *    0     8   head node
 *    8     8   tail node
 *   16     8   elements
 *   24     8   nodes
 */
struct qdesc {
    uint64_t head;
    uint64_t tail;
    uint64_t count;
    uint64_t nodes;
};

_Static_assert(sizeof(struct qnode) == 32, "qlist node header");
_Static_assert(sizeof(struct qdesc) == 32, "qlist descriptor");

#define CPT_HDR        4u        /* compact value: u32 count, then the run */
#define NODE_MAX_BYTES 65536u    /* the largest node limit (-5) */
#define TAIL_SPLIT_MIN 128u      /* RPOP splits tail nodes longer than this */
#define ELEM_MAX (UINT32_MAX - (8u << 20))   /* node offsets are 32-bit */

#define NODE(a, off) SHM_PTR(a, off, struct qnode)

int qlist_compress = 1;

/*
 * Scratch space for decompressed runs (the worker is single-threaded): the
 * node being edited and its two neighbours, qlist_index(), the check; and
 * the compressor's output.
 */
enum { Z_X, Z_PREV, Z_NEXT, Z_READ, Z_CHECK, Z_NBUF };
static uint8_t zscratch[Z_NBUF][NODE_MAX_BYTES];
static uint8_t zout[ZSTD_COMPRESSBOUND(NODE_MAX_BYTES)];
static ZSTD_CCtx *zcctx;
static ZSTD_DCtx *zdctx;

int qlist_codec_init(void)
{
    if (zcctx == NULL)
        zcctx = ZSTD_createCCtx();
    if (zdctx == NULL)
        zdctx = ZSTD_createDCtx();
    return zcctx && zdctx ? 0 : -1;
}

/* Decompresses into dst (cap bytes); the size, or SIZE_MAX if the frame is
 * bad or no context could be had. */
static size_t zdecompress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    size_t n;

    if (zdctx == NULL && (zdctx = ZSTD_createDCtx()) == NULL)
        return SIZE_MAX;
    n = ZSTD_decompressDCtx(zdctx, dst, cap, src, len);
    return ZSTD_isError(n) ? SIZE_MAX : n;
}

/* Compresses a run into zout; its size, or 0 (no context: stay plain). */
static size_t zcompress(const uint8_t *src, size_t len)
{
    size_t n;

    if (zcctx == NULL && (zcctx = ZSTD_createCCtx()) == NULL)
        return 0;
    n = ZSTD_compressCCtx(zcctx, zout, sizeof(zout), src, len, 1);
    return ZSTD_isError(n) ? 0 : n;
}

/* ---- element codec ---------------------------------------------------------- */

static inline uint64_t load_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    memcpy(&v, p, n);   /* little-endian host (layout.h) */
    return v;
}

static inline int64_t sext(uint64_t v, unsigned bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

/* Size of the element at p (p inside a well-formed run). */
static inline size_t el_size(const uint8_t *p)
{
    unsigned t = p[0];

    if (t < 0x80)
        return 1;
    if (t < EL_STR12)
        return 1 + (t & 0x3f);
    if (t < EL_INT12)
        return 2 + (((size_t)(t & 0x0f) << 8) | p[1]);
    if (t < EL_INT20)
        return 2;
    if (t < EL_INT27)
        return 3;
    if (t < EL_INT32)
        return 4;
    if (t <= EL_INT64)
        return 5 + (t - EL_INT32);
    return 5 + (size_t)load_le(p + 1, 4);
}

static inline int el_is_int(unsigned t)
{
    return t < 0x80 || (t >= EL_INT12 && t <= EL_INT64);
}

static int64_t el_int(const uint8_t *p)
{
    unsigned t = p[0];

    if (t < 0x80)
        return t;
    if (t < EL_INT20)
        return sext(((uint64_t)(t & 0x0f) << 8) | p[1], 12);
    if (t < EL_INT27)
        return sext(((uint64_t)(t & 0x0f) << 16) | load_le(p + 1, 2), 20);
    if (t < EL_INT32)
        return sext(((uint64_t)(t & 0x07) << 24) | load_le(p + 1, 3), 27);
    return sext(load_le(p + 1, t - EL_INT32 + 4), 8 * (t - EL_INT32 + 4));
}

/* A string element's bytes and length. */
static size_t el_str(const uint8_t *p, const uint8_t **s)
{
    unsigned t = p[0];

    if (t < EL_STR12) {
        *s = p + 1;
        return t & 0x3f;
    }
    if (t < EL_INT12) {
        *s = p + 2;
        return ((size_t)(t & 0x0f) << 8) | p[1];
    }
    *s = p + 5;
    return (size_t)load_le(p + 1, 4);
}

/* Writes the smallest encoding of v; returns its size. */
static size_t el_put_int(uint8_t *d, int64_t v)
{
    uint64_t u = (uint64_t)v;
    unsigned w;

    if (v >= 0 && v <= 127) {
        d[0] = (uint8_t)v;
        return 1;
    }
    if (v >= -2048 && v <= 2047) {
        d[0] = (uint8_t)(EL_INT12 | ((u >> 8) & 0x0f));
        d[1] = (uint8_t)u;
        return 2;
    }
    if (v >= -(1 << 19) && v < (1 << 19)) {
        d[0] = (uint8_t)(EL_INT20 | ((u >> 16) & 0x0f));
        memcpy(d + 1, &u, 2);
        return 3;
    }
    if (v >= -(1 << 26) && v < (1 << 26)) {
        d[0] = (uint8_t)(EL_INT27 | ((u >> 24) & 0x07));
        memcpy(d + 1, &u, 3);
        return 4;
    }
    for (w = 4; w < 8; w++)
        if (v >= -(int64_t)(1ull << (8 * w - 1)) && v < (int64_t)(1ull << (8 * w - 1)))
            break;
    d[0] = (uint8_t)(EL_INT32 + (w - 4));
    memcpy(d + 1, &u, w);
    return 1 + w;
}

/* Is s the canonical decimal form of an int64?  Then 1 and *v. */
static int str_to_int(const uint8_t *s, size_t len, int64_t *v)
{
    size_t i = 0;
    uint64_t u = 0;
    int neg = 0;

    if (len == 0 || len > 20)
        return 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1)
            return 0;
    }
    if (s[i] == '0') {
        if (len != 1)
            return 0;   /* "007", "-0" */
        *v = 0;
        return 1;
    }
    for (; i < len; i++) {
        unsigned d = (unsigned)s[i] - '0';
        if (d > 9 || u > (UINT64_MAX - d) / 10)
            return 0;
        u = u * 10 + d;
    }
    if (neg) {
        if (u > (1ull << 63))
            return 0;
        *v = u == (1ull << 63) ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX)
            return 0;
        *v = (int64_t)u;
    }
    return 1;
}

static size_t int_render(uint8_t *buf, int64_t v)
{
    uint8_t tmp[24];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, k = 0;

    do {
        tmp[n++] = (uint8_t)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    return k;
}

/* Decodes the element at p into *out; returns its size. */
static size_t el_get(const uint8_t *p, struct qlist_elem *out)
{
    if (el_is_int(p[0])) {
        out->len = int_render(out->buf, el_int(p));
        out->s = out->buf;
    } else {
        out->len = el_str(p, &out->s);
    }
    return el_size(p);
}

/*
 * An element about to be written: its header (for an integer, all of it)
 * and payload.  Elements copied from an existing run have hlen 0 and the
 * whole element as payload.
 */
struct enc {
    uint8_t h[EL_MAXHDR];
    unsigned hlen;
    const uint8_t *pl;
    size_t plen;
};

static inline size_t enc_size(const struct enc *e)
{
    return e->hlen + e->plen;
}

/* Writes e at d (d may overlap the payload); returns the size. */
static inline size_t enc_put(uint8_t *d, const struct enc *e)
{
    if (e->plen)
        memmove(d + e->hlen, e->pl, e->plen);
    memcpy(d, e->h, e->hlen);
    return e->hlen + e->plen;
}

static void el_encode(const void *s, size_t len, struct enc *e)
{
    int64_t v;

    if (str_to_int(s, len, &v)) {
        e->hlen = (unsigned)el_put_int(e->h, v);
        e->pl = NULL;
        e->plen = 0;
        return;
    }
    if (len < 64) {
        e->h[0] = (uint8_t)(EL_STR6 | len);
        e->hlen = 1;
    } else if (len < 4096) {
        e->h[0] = (uint8_t)(EL_STR12 | (len >> 8));
        e->h[1] = (uint8_t)len;
        e->hlen = 2;
    } else {
        uint32_t n = (uint32_t)len;
        e->h[0] = EL_STR32;
        memcpy(e->h + 1, &n, 4);
        e->hlen = 5;
    }
    e->pl = s;
    e->plen = len;
}

/* Is the element at p (n bytes) equal to e? */
static inline int el_eq(const uint8_t *p, size_t n, const struct enc *e)
{
    return n == enc_size(e) && memcmp(p, e->h, e->hlen) == 0 &&
           (e->plen == 0 || memcmp(p + e->hlen, e->pl, e->plen) == 0);
}

/* Size of the element at p if it is well-formed, canonical and ends by
 * `end`; else 0.  For the consistency check. */
static size_t el_check(const uint8_t *p, const uint8_t *end)
{
    size_t avail = (size_t)(end - p), n, len;
    const uint8_t *s;
    unsigned t;
    uint8_t tmp[EL_MAXHDR];
    int64_t v;

    if (avail == 0)
        return 0;
    t = p[0];
    if (t > EL_STR32 || (t >= EL_STR12 && t < EL_INT12 && avail < 2) ||
        (t == EL_STR32 && avail < 5))
        return 0;
    n = el_size(p);
    if (n > avail)
        return 0;
    if (el_is_int(t))
        return el_put_int(tmp, el_int(p)) == n ? n : 0;
    len = el_str(p, &s);
    if ((len < 64 ? 1u : len < 4096 ? 2u : 5u) != n - len)
        return 0;   /* not the smallest header */
    if (str_to_int(s, len, &v))
        return 0;   /* an integer stored as a string */
    return n;
}

static inline const uint8_t *run_skip(const uint8_t *p, uint64_t k)
{
    while (k--)
        p += el_size(p);
    return p;
}

/* ---- limits ------------------------------------------------------------------ */

struct lim {
    uint32_t bytes;   /* a node's block: header + run */
    uint32_t count;   /* elements per node */
};

/* Redis's list-max-listpack-size: -1..-5 are 4..64 KiB per node; a count
 * n > 0 caps elements per node, with 8 KiB as a safety size limit. */
static struct lim lim_get(void)
{
    int32_t s = ks_limits.list_size;
    struct lim l;

    if (s < 0) {
        unsigned k = s < -5 ? 5u : (unsigned)-s;
        l.bytes = 4096u << (k - 1);
        l.count = UINT32_MAX;
    } else {
        l.bytes = 8192;
        l.count = s < 1 ? 1u : s > 32767 ? 32767u : (uint32_t)s;
    }
    return l;
}

/* Do `count` elements of `bytes` fit one node (or the compact encoding)? */
static inline int fits(const struct lim *l, uint64_t bytes, uint64_t count)
{
    return bytes + NODE_HDR <= l->bytes && count <= l->count;
}

/* ---- pieces: element sources for building runs --------------------------------- */

/* Either a run of encoded elements or an array of new strings. */
struct piece {
    const uint8_t *run;           /* encoded elements, or NULL */
    size_t bytes;                 /* run: its size */
    const struct pack_str *v;     /* strings (when run is NULL) */
    uint32_t n;                   /* strings: how many */
    int rev;                      /* strings: taken last first */
};

struct src {
    const struct piece *pc;
    unsigned npc, i;    /* pieces, the current one */
    size_t off;         /* run: next byte */
    uint32_t k;         /* strings: taken so far */
};

static void src_init(struct src *s, const struct piece *pc, unsigned npc)
{
    s->pc = pc;
    s->npc = npc;
    s->i = 0;
    s->off = 0;
    s->k = 0;
}

static int src_next(struct src *s, struct enc *e)
{
    while (s->i < s->npc) {
        const struct piece *p = &s->pc[s->i];
        if (p->run != NULL) {
            if (s->off < p->bytes) {
                const uint8_t *x = p->run + s->off;
                e->hlen = 0;
                e->pl = x;
                e->plen = el_size(x);
                s->off += e->plen;
                return 1;
            }
        } else if (s->k < p->n) {
            const struct pack_str *v = &p->v[p->rev ? p->n - 1 - s->k : s->k];
            s->k++;
            el_encode(v->s, v->len, e);
            return 1;
        }
        s->i++;
        s->off = 0;
        s->k = 0;
    }
    return 0;
}

static void src_total(const struct src *s0, uint64_t *bytes, uint64_t *count)
{
    struct src s = *s0;
    struct enc e;

    *bytes = *count = 0;
    while (src_next(&s, &e)) {
        *bytes += enc_size(&e);
        (*count)++;
    }
}

static inline struct piece run_piece(const uint8_t *from, const uint8_t *to)
{
    struct piece p = { from, (size_t)(to - from), NULL, 0, 0 };
    return p;
}

/* A growable array of pieces (LREM: one per kept stretch).  Slot 0 stays
 * free for node_rewrite's merge with the previous node. */
struct pvec {
    struct piece *p;
    size_t n, cap;
    struct piece inl[8];
};

static void pv_init(struct pvec *v)
{
    v->p = v->inl;
    v->n = 1;
    v->cap = sizeof(v->inl) / sizeof(v->inl[0]);
}

static void pv_free(struct pvec *v)
{
    if (v->p != v->inl)
        free(v->p);
}

/* Appends a run piece (empty ones are dropped), keeping one spare slot. */
static int pv_run(struct pvec *v, const uint8_t *from, const uint8_t *to)
{
    if (from == to)
        return EMBER_OK;
    if (v->n + 2 > v->cap) {
        size_t cap = v->cap * 2;
        struct piece *p = v->p == v->inl ? malloc(cap * sizeof(*p))
                                         : realloc(v->p, cap * sizeof(*p));
        if (p == NULL)
            return EMBER_ENOMEM;
        if (v->p == v->inl)
            memcpy(p, v->inl, v->n * sizeof(*p));
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = run_piece(from, to);
    return EMBER_OK;
}

/* ---- nodes --------------------------------------------------------------------- */

static inline struct qdesc *desc_of(const struct shm_arena *a, const struct ks_ref *r)
{
    return SHM_PTR(a, ks_desc(&r->e), struct qdesc);
}

static inline int node_z(const struct qnode *n)
{
    return (n->zraw & ~Z_NOZ) != 0;
}

/* A plain node's run. */
static inline uint8_t *node_run(struct qnode *n)
{
    ASSERT(!node_z(n));
    return (uint8_t *)n + n->start;
}

/* The bytes of a node's run (decompressed). */
static inline uint32_t node_bytes(const struct qnode *n)
{
    return node_z(n) ? n->zraw & ~Z_NOZ : n->end - n->start;
}

/* A node's run: in place, or decompressed into buf (NODE_MAX_BYTES). */
static const uint8_t *node_view(const struct qnode *n, uint8_t *buf)
{
    if (!node_z(n))
        return (const uint8_t *)n + n->start;
    BUG_ON(zdecompress((const uint8_t *)n + n->start, n->end - n->start, buf,
                       NODE_MAX_BYTES) != node_bytes(n));
    return buf;
}

/* Logged store of a live plain node's count and bounds (and zraw = 0: a
 * changed node may be worth compressing again). */
static void node_set(struct shm_arena *a, struct qnode *n, uint32_t count, uint32_t start,
                     uint32_t end)
{
    uint32_t v[4] = { count, start, end, 0 };
    ASSERT(!node_z(n));
    shm_store(a, &n->count, v, sizeof(v));
}

/* Points prev's next link (the head when prev is 0) at x; logged. */
static void set_next(struct shm_arena *a, struct qdesc *d, uint64_t prev, uint64_t x)
{
    shm_set64(a, prev ? &NODE(a, prev)->next : &d->head, x);
}

static void set_prev(struct shm_arena *a, struct qdesc *d, uint64_t next, uint64_t x)
{
    shm_set64(a, next ? &NODE(a, next)->prev : &d->tail, x);
}

/* Adds to the descriptor's counts (one logged store). */
static void desc_add(struct shm_arena *a, struct qdesc *d, int64_t dcount, int64_t dnodes)
{
    uint64_t v[2];

    if (dcount == 0 && dnodes == 0)
        return;
    v[0] = d->count + (uint64_t)dcount;
    v[1] = d->nodes + (uint64_t)dnodes;
    shm_store(a, &d->count, v, sizeof(v));
}

/* Fresh nodes, linked to each other (first->prev and last->next are 0). */
struct chain {
    uint64_t first, last;
    uint64_t nodes, count;
};

#define B_BALANCED 1u   /* as few nodes as fit, of about equal size */
#define B_REVERSE  2u   /* elements go in last first (head pushes) */

/*
 * Builds fresh nodes holding the elements of s.  By default nodes are
 * filled in turn (pushes) with the slack at the back; B_BALANCED spreads
 * the elements evenly over as few nodes as the limits allow (edits);
 * B_REVERSE puts the elements in the list last first, slack in front, and
 * fills the node nearest the old head first (LPUSH).  An element bigger
 * than a node gets a node of its own.  On an error the nodes built so far
 * are left to the caller's abort.
 */
static int build_chain(struct shm_arena *a, const struct lim *l, const struct src *s0,
                       unsigned mode, struct chain *c)
{
    struct src s = *s0, peek, mark;
    struct enc e;
    uint64_t target = UINT64_MAX, tcount = UINT64_MAX, k = 1, built = 0;
    size_t cap = l->bytes - NODE_HDR;

    memset(c, 0, sizeof(*c));
    if (mode & B_BALANCED) {
        uint64_t total, n;
        src_total(s0, &total, &n);
        k = (total + cap - 1) / cap;
        if ((n + l->count - 1) / l->count > k)
            k = (n + l->count - 1) / l->count;
        if (k > 1) {
            target = (total + k - 1) / k;
            tcount = (n + k - 1) / k;
        }
    }
    for (;;) {
        size_t bytes = 0, u, slack;
        uint32_t cnt = 0, i;
        uint64_t off;
        struct qnode *nd;
        uint8_t *blk, *p;
        int rc;

        mark = s;
        for (;;) {
            size_t es;
            peek = s;
            if (!src_next(&peek, &e))
                break;
            es = enc_size(&e);
            if (cnt > 0 && (bytes + es > cap || cnt + 1 > l->count ||
                            (built + 1 < k && (bytes + es > target || cnt + 1 > tcount))))
                break;
            s = peek;
            bytes += es;
            cnt++;
        }
        if (cnt == 0)
            break;
        rc = shm_alloc(a, NODE_HDR + bytes, &off);
        if (rc != EMBER_OK)
            return rc;
        blk = SHM_PTR(a, off, uint8_t);
        nd = (struct qnode *)blk;
        u = shm_usable(a, off);
        slack = u - NODE_HDR - bytes;
        nd->count = cnt;
        nd->zraw = 0;
        if (mode & B_REVERSE) {
            nd->start = (uint32_t)(NODE_HDR + slack);
            nd->end = (uint32_t)u;
            p = blk + u;
            for (i = 0; i < cnt; i++) {
                src_next(&mark, &e);
                p -= enc_size(&e);
                enc_put(p, &e);
            }
            /* built last first: the new node goes before the others */
            nd->prev = 0;
            nd->next = c->first;
            if (c->first)
                NODE(a, c->first)->prev = off;
            else
                c->last = off;
            c->first = off;
        } else {
            nd->start = NODE_HDR;
            nd->end = (uint32_t)(NODE_HDR + bytes);
            p = blk + NODE_HDR;
            for (i = 0; i < cnt; i++) {
                src_next(&mark, &e);
                p += enc_put(p, &e);
            }
            nd->prev = c->last;
            nd->next = 0;
            if (c->last)
                NODE(a, c->last)->next = off;
            else
                c->first = off;
            c->last = off;
        }
        c->nodes++;
        c->count += cnt;
        built++;
    }
    return EMBER_OK;
}

/*
 * Puts chain c (possibly empty) between the live nodes prev and next (0:
 * the list's ends), freeing whatever nodes were between them.  Returns
 * the number of nodes freed.
 */
static uint64_t splice(struct shm_arena *a, struct qdesc *d, uint64_t prev, uint64_t next,
                       const struct chain *c)
{
    uint64_t x = prev ? NODE(a, prev)->next : d->head, freed = 0;

    while (x != next) {
        uint64_t nx = NODE(a, x)->next;
        shm_free(a, x);
        freed++;
        x = nx;
    }
    if (c->nodes) {
        NODE(a, c->first)->prev = prev;   /* fresh nodes: plain stores */
        NODE(a, c->last)->next = next;
        set_next(a, d, prev, c->first);
        set_prev(a, d, next, c->last);
    } else {
        set_next(a, d, prev, next);
        set_prev(a, d, next, prev);
    }
    return freed;
}

/* ---- compressed interior nodes -------------------------------------------------- */

/* Puts fresh node n (x's elements) in x's place in the chain; frees x. */
static void node_replace(struct shm_arena *a, struct qdesc *d, uint64_t x, uint64_t n)
{
    struct qnode *o = NODE(a, x), *nn = NODE(a, n);

    nn->prev = o->prev;
    nn->next = o->next;
    set_next(a, d, o->prev, n);
    set_prev(a, d, o->next, n);
    shm_free(a, x);
}

/* Replaces compressed node x by a plain copy (it became an end). */
static int zplain(struct shm_arena *a, struct qdesc *d, uint64_t x, uint64_t *nx)
{
    struct qnode *o = NODE(a, x), *n;
    uint32_t raw = node_bytes(o);
    uint64_t off;
    int rc = shm_alloc(a, NODE_HDR + raw, &off);

    if (rc != EMBER_OK)
        return rc;
    n = NODE(a, off);
    BUG_ON(zdecompress((const uint8_t *)o + o->start, o->end - o->start,
                       (uint8_t *)n + NODE_HDR, raw) != raw);
    n->count = o->count;
    n->start = NODE_HDR;
    n->end = NODE_HDR + raw;
    n->zraw = 0;
    node_replace(a, d, x, off);
    *nx = off;
    return EMBER_OK;
}

/* Keeps the head and the tail plain: pushes and pops work on them in place. */
static int zends(struct shm_arena *a, struct qdesc *d)
{
    uint64_t x;
    int rc;

    if (d->head && node_z(NODE(a, d->head)) && (rc = zplain(a, d, d->head, &x)) != EMBER_OK)
        return rc;
    if (d->tail && node_z(NODE(a, d->tail)) && (rc = zplain(a, d, d->tail, &x)) != EMBER_OK)
        return rc;
    return EMBER_OK;
}

/*
 * Looks at a plain node not yet looked at (zraw 0).  Two or more nodes away
 * from both ends (so the nodes that pushes and pops come back to soon stay
 * plain), it is compressed when that saves an eighth of its block;
 * otherwise it is marked Z_NOZ, copied first to a block of its size when
 * it has slack (an end node that became interior).
 */
static int zcheck(struct shm_arena *a, struct qdesc *d, uint64_t x)
{
    struct qnode *n = NODE(a, x), *z;
    uint32_t raw = node_bytes(n);
    size_t fit = shm_alloc_size(NODE_HDR + raw);
    uint64_t off;
    size_t clen = 0;
    int rc;

    if (n->zraw != 0 || x == d->head || x == d->tail || n->prev == d->head ||
        n->next == d->tail)
        return EMBER_OK;
    if (qlist_compress && n->count > 1 && raw <= NODE_MAX_BYTES)
        clen = zcompress(node_run(n), raw);
    if (clen > 0 && shm_alloc_size(NODE_HDR + clen) <= fit - fit / 8) {
        rc = shm_alloc(a, NODE_HDR + clen, &off);
        if (rc != EMBER_OK)
            return rc;
        z = NODE(a, off);
        z->count = n->count;
        z->start = NODE_HDR;
        z->end = NODE_HDR + (uint32_t)clen;
        z->zraw = raw;
        memcpy((uint8_t *)z + NODE_HDR, zout, clen);
        node_replace(a, d, x, off);
        return EMBER_OK;
    }
    if (shm_usable(a, x) > fit) {
        rc = shm_alloc(a, NODE_HDR + raw, &off);
        if (rc != EMBER_OK)
            return rc;
        z = NODE(a, off);
        z->count = n->count;
        z->start = NODE_HDR;
        z->end = NODE_HDR + raw;
        z->zraw = Z_NOZ;
        memcpy((uint8_t *)z + NODE_HDR, node_run(n), raw);
        node_replace(a, d, x, off);
        return EMBER_OK;
    }
    shm_set32(a, &n->zraw, Z_NOZ);
    return EMBER_OK;
}

/* zcheck() on up to n nodes from x toward the tail. */
static int zcheck_span(struct shm_arena *a, struct qdesc *d, uint64_t x, uint64_t n)
{
    while (x && n--) {
        uint64_t nx = NODE(a, x)->next;
        int rc = zcheck(a, d, x);
        if (rc != EMBER_OK)
            return rc;
        x = nx;
    }
    return EMBER_OK;
}

/* The node k nodes before x (or the head). */
static uint64_t back_from(const struct shm_arena *a, uint64_t x, uint64_t k)
{
    while (k-- && NODE(a, x)->prev)
        x = NODE(a, x)->prev;
    return x;
}

#define MERGE_PREV 1u
#define MERGE_NEXT 2u

/*
 * Replaces live node x by the elements of pieces pc[1..np] (pc[0] and
 * pc[np + 1] are scratch), merged with its previous and/or next node (as
 * `merge` allows) when the result fits in one node with it.  dcount is the
 * change in the list's element count.  *before / *after get the live nodes
 * around what replaced x (0 at the ends), *built the number of new nodes.
 * The caller settles compression (zcheck, zends) once it is done.
 */
static int node_rewrite(struct shm_arena *a, struct qdesc *d, const struct lim *l, uint64_t x,
                        struct piece *pc, unsigned np, unsigned merge, int64_t dcount,
                        uint64_t *before, uint64_t *after, uint64_t *built)
{
    struct qnode *nd = NODE(a, x);
    uint64_t prev = nd->prev, next = nd->next, bytes, count, freed;
    unsigned lo = 1, hi = np + 1;
    struct src s;
    struct chain c;
    int rc;

    src_init(&s, pc + 1, np);
    src_total(&s, &bytes, &count);
    if (count > 0 && (merge & MERGE_PREV) && prev) {
        struct qnode *pn = NODE(a, prev);
        if (fits(l, bytes + node_bytes(pn), count + pn->count)) {
            const uint8_t *v = node_view(pn, zscratch[Z_PREV]);
            pc[0] = run_piece(v, v + node_bytes(pn));
            lo = 0;
            bytes += node_bytes(pn);
            count += pn->count;
            prev = pn->prev;
        }
    }
    if (count > 0 && (merge & MERGE_NEXT) && next) {
        struct qnode *nn = NODE(a, next);
        if (fits(l, bytes + node_bytes(nn), count + nn->count)) {
            const uint8_t *v = node_view(nn, zscratch[Z_NEXT]);
            pc[hi++] = run_piece(v, v + node_bytes(nn));
            next = nn->next;
        }
    }
    src_init(&s, pc + lo, hi - lo);
    rc = build_chain(a, l, &s, B_BALANCED, &c);
    if (rc != EMBER_OK)
        return rc;
    freed = splice(a, d, prev, next, &c);
    desc_add(a, d, dcount, (int64_t)c.nodes - (int64_t)freed);
    *before = prev;
    *after = next;
    *built = c.nodes;
    return EMBER_OK;
}

/*
 * Copies node x into a bigger block with at least `add` bytes of slack at
 * `where`: twice the size, within the limit (amortized O(1) per push).  The
 * new node replaces x in the chain; *nx gets it.
 */
static int node_grow(struct shm_arena *a, struct qdesc *d, const struct lim *l, uint64_t x,
                     size_t add, int where, uint64_t *nx)
{
    struct qnode *o = NODE(a, x), *n;
    size_t used = node_bytes(o), want = NODE_HDR + used + add, cap = 2 * shm_usable(a, x);
    size_t u, slack, front;
    uint64_t off;
    int rc;

    if (cap > l->bytes)
        cap = l->bytes;
    if (cap < want)
        cap = want;
    rc = shm_alloc(a, cap, &off);
    if (rc != EMBER_OK)
        return rc;
    n = NODE(a, off);
    u = shm_usable(a, off);
    slack = u - NODE_HDR - used;
    if (o->prev == 0 && o->next == 0)   /* the only node: room at both ends */
        front = where == QLIST_HEAD ? (slack / 2 > add ? slack / 2 : add)
                                    : (slack / 2 < slack - add ? slack / 2 : slack - add);
    else
        front = where == QLIST_HEAD ? slack : 0;
    n->prev = o->prev;
    n->next = o->next;
    n->count = o->count;
    n->start = (uint32_t)(NODE_HDR + front);
    n->end = (uint32_t)(NODE_HDR + front + used);
    n->zraw = 0;
    memcpy(node_run(n), node_run(o), used);
    set_next(a, d, o->prev, off);
    set_prev(a, d, o->next, off);
    shm_free(a, x);
    *nx = off;
    return EMBER_OK;
}

/* Finds element i (in range) of a full list: its node and index in it. */
static uint64_t locate(const struct shm_arena *a, const struct qdesc *d, uint64_t i,
                       uint32_t *in)
{
    uint64_t x;

    if (i < d->count / 2) {
        x = d->head;
        while (i >= NODE(a, x)->count) {
            i -= NODE(a, x)->count;
            x = NODE(a, x)->next;
        }
        *in = (uint32_t)i;
    } else {
        uint64_t j = d->count - 1 - i;
        x = d->tail;
        while (j >= NODE(a, x)->count) {
            j -= NODE(a, x)->count;
            x = NODE(a, x)->prev;
        }
        *in = (uint32_t)(NODE(a, x)->count - 1 - j);
    }
    return x;
}

/* ---- whole values: compact rewrites and conversions ------------------------------- */

static inline uint32_t cpt_count(const uint8_t *v)
{
    uint32_t n;
    memcpy(&n, v, 4);
    return n;
}

static inline const uint8_t *cpt_run(const struct ks_ref *r)
{
    return (const uint8_t *)r->e.val + CPT_HDR;
}

static inline const uint8_t *cpt_end(const struct ks_ref *r)
{
    return (const uint8_t *)r->e.val + r->e.vlen;
}

/*
 * Gives r the elements of s as its whole value: compact when they fit one
 * node, else full (nodes built per `mode`).  Deletes the key when s is
 * empty, creates it when r->off is 0.  s may point into r's current value:
 * the old entry and structure are freed only at commit.
 */
static int rewrite_from(struct shm_arena *a, struct ks_ref *r, const struct lim *l,
                        const struct src *s0, unsigned mode)
{
    uint64_t bytes, count, doff;
    uint8_t *val;
    struct qdesc *d;
    struct chain c;
    int rc;

    src_total(s0, &bytes, &count);
    if (count == 0)
        return r->off ? ks_ref_delete(a, r) : EMBER_OK;
    if (fits(l, bytes, count)) {
        struct src s = *s0;
        struct enc e;
        uint32_t n = (uint32_t)count;
        uint8_t *p;
        rc = ks_ref_rewrite(a, r, KS_T_LIST, 0, CPT_HDR + bytes, &val);
        if (rc != EMBER_OK)
            return rc;
        memcpy(val, &n, 4);
        p = val + CPT_HDR;
        while (src_next(&s, &e))
            p += enc_put(p, &e);
        return EMBER_OK;
    }
    rc = build_chain(a, l, s0, mode, &c);
    if (rc == EMBER_OK)
        rc = shm_alloc(a, sizeof(*d), &doff);
    if (rc != EMBER_OK)
        return rc;
    d = SHM_PTR(a, doff, struct qdesc);
    d->head = c.first;
    d->tail = c.last;
    d->count = c.count;
    d->nodes = c.nodes;
    rc = ks_ref_rewrite(a, r, KS_T_LIST, 1, 8, &val);
    if (rc != EMBER_OK)
        return rc;
    memcpy(val, &doff, 8);
    return zcheck_span(a, d, c.first, c.nodes);
}

/* A full list that shrank to one node under half the limit goes compact. */
static int maybe_compact(struct shm_arena *a, struct ks_ref *r, const struct lim *l)
{
    struct qdesc *d = desc_of(a, r);
    struct qnode *n;
    struct piece pc;
    struct src s;

    if (d->nodes != 1)
        return EMBER_OK;
    n = NODE(a, d->head);
    if (node_bytes(n) + NODE_HDR > l->bytes / 2 || n->count > l->count / 2)
        return EMBER_OK;
    pc = run_piece(node_run(n), (uint8_t *)n + n->end);
    src_init(&s, &pc, 1);
    return rewrite_from(a, r, l, &s, 0);
}

/* After a removal: delete the key if empty, else maybe go compact. */
static int after_removal(struct shm_arena *a, struct ks_ref *r, const struct lim *l)
{
    if (desc_of(a, r)->count == 0)
        return ks_ref_delete(a, r);
    return maybe_compact(a, r, l);
}

/*
 * Frees a detached chain of nodes (first->prev and last->next are 0): at
 * once when it holds few elements, else through the garbage list, in O(1)
 * here and bounded steps in ks_gc_step().
 */
static void drop_chain(struct shm_arena *a, uint64_t first, uint64_t last, uint64_t count,
                       uint64_t nodes)
{
    uint64_t doff, goff, x, i;

    if (count > KS_LAZYFREE_MIN && shm_alloc(a, sizeof(struct qdesc), &doff) == EMBER_OK) {
        if (shm_alloc(a, sizeof(struct ks_garbage), &goff) == EMBER_OK) {
            struct qdesc *d = SHM_PTR(a, doff, struct qdesc);
            struct ks_garbage *g = SHM_PTR(a, goff, struct ks_garbage);
            d->head = first;
            d->tail = last;
            d->count = count;
            d->nodes = nodes;
            memset(g, 0, sizeof(*g));
            g->next = a->hdr->garbage;
            g->kind = KS_GARBAGE_VALUE;
            g->type = KS_T_LIST;
            g->u.desc = doff;
            shm_set64(a, &a->hdr->garbage, goff);
            return;
        }
        shm_free(a, doff);
    }
    for (x = first, i = 0; i < nodes; i++) {
        uint64_t nx = NODE(a, x)->next;
        shm_free(a, x);
        x = nx;
    }
}

/* ---- reading --------------------------------------------------------------------- */

uint64_t qlist_len(const struct shm_arena *a, const struct ks_ref *r)
{
    if (r->off == 0)
        return 0;
    if (r->e.enc)
        return desc_of(a, r)->count;
    return cpt_count((const uint8_t *)r->e.val);
}

const char *qlist_encoding(const struct ks_ref *r)
{
    return r->e.enc ? "quicklist" : "listpack";
}

/* Normalizes a Redis index; 0 if out of range. */
static int norm_index(int64_t index, uint64_t len, uint64_t *i)
{
    if (index < 0)
        index += (int64_t)len;
    if (index < 0 || (uint64_t)index >= len)
        return 0;
    *i = (uint64_t)index;
    return 1;
}

/* The element at index i (in range): its address, in the arena or (for a
 * compressed node) in buf; *node and *run say where it was found. */
static const uint8_t *elem_at(const struct shm_arena *a, const struct ks_ref *r, uint64_t i,
                              uint8_t *buf, uint64_t *node, const uint8_t **run)
{
    uint32_t in;

    if (!r->e.enc) {
        *node = 0;
        *run = cpt_run(r);
        return run_skip(*run, i);
    }
    *node = locate(a, desc_of(a, r), i, &in);
    *run = node_view(NODE(a, *node), buf);
    return run_skip(*run, in);
}

int qlist_index(const struct shm_arena *a, const struct ks_ref *r, int64_t index,
                struct qlist_elem *out)
{
    const uint8_t *run;
    uint64_t i, node;

    if (!norm_index(index, qlist_len(a, r), &i))
        return 0;
    el_get(elem_at(a, r, i, zscratch[Z_READ], &node, &run), out);
    return 1;
}

/* ---- pushing and popping -------------------------------------------------------------- */

/* Pushes onto a full list: the end node's slack first, then new nodes. */
static int push_full(struct shm_arena *a, struct ks_ref *r, const struct lim *l, int where,
                     const struct pack_str *v, uint32_t n)
{
    struct qdesc *d = desc_of(a, r);
    uint64_t x = where == QLIST_TAIL ? d->tail : d->head;
    struct qnode *nd = NODE(a, x);
    uint64_t add = 0;
    uint32_t k = 0, i;
    struct enc e;
    int rc;

    while (k < n) {
        el_encode(v[k].s, v[k].len, &e);
        if (!fits(l, node_bytes(nd) + add + enc_size(&e), (uint64_t)nd->count + k + 1))
            break;
        add += enc_size(&e);
        k++;
    }
    if (k > 0) {
        size_t room = where == QLIST_TAIL ? shm_usable(a, x) - nd->end : nd->start - NODE_HDR;
        int fresh = 0;
        uint8_t *p;
        if (room < add) {
            rc = node_grow(a, d, l, x, add, where, &x);
            if (rc != EMBER_OK)
                return rc;
            nd = NODE(a, x);
            fresh = 1;
        }
        p = where == QLIST_TAIL ? (uint8_t *)nd + nd->end : node_run(nd) - add;
        if (!fresh)
            shm_preserve(a, p, add);
        if (where == QLIST_TAIL) {
            for (i = 0; i < k; i++) {
                el_encode(v[i].s, v[i].len, &e);
                p += enc_put(p, &e);
            }
        } else {
            for (i = k; i-- > 0;) {
                el_encode(v[i].s, v[i].len, &e);
                p += enc_put(p, &e);
            }
        }
        if (fresh) {
            nd->count += k;
            if (where == QLIST_TAIL)
                nd->end += (uint32_t)add;
            else
                nd->start -= (uint32_t)add;
        } else if (where == QLIST_TAIL) {
            node_set(a, nd, nd->count + k, nd->start, nd->end + (uint32_t)add);
        } else {
            node_set(a, nd, nd->count + k, nd->start - (uint32_t)add, nd->end);
        }
    }
    if (k < n) {
        struct piece pc = { NULL, 0, v + k, n - k, 0 };
        struct chain c;
        struct src s;
        src_init(&s, &pc, 1);
        rc = build_chain(a, l, &s, where == QLIST_HEAD ? B_REVERSE : 0, &c);
        if (rc != EMBER_OK)
            return rc;
        if (where == QLIST_TAIL)
            splice(a, d, d->tail, 0, &c);
        else
            splice(a, d, 0, d->head, &c);
        desc_add(a, d, n, (int64_t)c.nodes);
        /* The new nodes and the two they pushed inward may compress now. */
        return zcheck_span(a, d, where == QLIST_TAIL ? back_from(a, d->tail, c.nodes + 1)
                                                     : d->head, c.nodes + 2);
    }
    desc_add(a, d, n, 0);
    return EMBER_OK;
}

int qlist_push(struct shm_arena *a, struct ks_ref *r, int where, const struct pack_str *v,
               uint32_t n)
{
    struct lim l = lim_get();
    struct piece pc[2];
    struct src s;
    uint32_t i;

    for (i = 0; i < n; i++)
        if (v[i].len > ELEM_MAX)
            return EMBER_ETOOBIG;
    if (n == 0)
        return EMBER_OK;
    ASSERT(r->off == 0 || r->e.type == KS_T_LIST);
    if (r->off && r->e.enc)
        return push_full(a, r, &l, where, v, n);
    /* Compact or new: a new entry, or the conversion to full. */
    {
        struct piece old = { NULL, 0, NULL, 0, 0 }, add = { NULL, 0, v, n, 0 };
        if (r->off)
            old = run_piece(cpt_run(r), cpt_end(r));
        if (where == QLIST_TAIL) {
            pc[0] = old;
            pc[1] = add;
        } else {
            add.rev = 1;
            pc[0] = add;
            pc[1] = old;
        }
    }
    src_init(&s, pc, 2);
    return rewrite_from(a, r, &l, &s, 0);
}

static uint32_t isqrt32(uint64_t n)
{
    uint32_t x = 1;
    while ((uint64_t)(x + 1) * (x + 1) <= n)
        x++;
    return x;
}

/*
 * Takes `take` elements off the tail node x (it has more), leaving m.  A
 * long node (it was walked anyway) leaves its last sqrt(m) elements in a
 * new small tail node, so the next pops walk only those.
 */
static int cut_tail(struct shm_arena *a, struct qdesc *d, uint64_t x, uint32_t m,
                    const uint8_t *p)
{
    struct qnode *nd = NODE(a, x);
    uint8_t *run = node_run(nd);

    if (m > TAIL_SPLIT_MIN) {
        uint32_t k = isqrt32(m);
        const uint8_t *sp;
        size_t bytes;
        struct qnode *t;
        uint64_t off;
        int rc;
        if (k < 32)
            k = 32;
        if (k > 256)
            k = 256;
        sp = run_skip(run, m - k);
        bytes = (size_t)(p - sp);
        rc = shm_alloc(a, NODE_HDR + bytes, &off);
        if (rc != EMBER_OK)
            return rc;
        t = NODE(a, off);
        t->prev = x;
        t->next = 0;
        t->count = k;
        t->start = NODE_HDR;
        t->end = (uint32_t)(NODE_HDR + bytes);
        t->zraw = 0;
        memcpy(node_run(t), sp, bytes);
        shm_set64(a, &nd->next, off);
        shm_set64(a, &d->tail, off);
        node_set(a, nd, m - k, nd->start, (uint32_t)(sp - (uint8_t *)nd));
        desc_add(a, d, 0, 1);
        return EMBER_OK;
    }
    node_set(a, nd, m, nd->start, (uint32_t)(p - (uint8_t *)nd));
    return EMBER_OK;
}

static int pop_full(struct shm_arena *a, struct ks_ref *r, const struct lim *l, int where,
                    struct qlist_elem *out, uint32_t max, uint32_t *n)
{
    struct qdesc *d = desc_of(a, r);
    uint32_t got = 0;
    int rc;

    while (got < max && d->count > 0) {
        uint64_t x = where == QLIST_HEAD ? d->head : d->tail;
        struct qnode *nd = NODE(a, x);
        uint32_t take = nd->count < max - got ? nd->count : max - got, i;
        const uint8_t *p, *q;
        uint8_t *run;

        if (node_z(nd)) {   /* an inner node reached by a long pop */
            rc = zplain(a, d, x, &x);
            if (rc != EMBER_OK)
                return rc;
            nd = NODE(a, x);
        }
        run = node_run(nd);

        if (where == QLIST_HEAD) {
            for (p = run, i = 0; i < take; i++)
                p += el_get(p, &out[got++]);
        } else {
            p = run_skip(run, nd->count - take);
            for (q = p, i = 0; i < take; i++)
                q += el_get(q, &out[got + take - 1 - i]);
            got += take;
        }
        if (take == nd->count) {
            set_next(a, d, nd->prev, nd->next);
            set_prev(a, d, nd->next, nd->prev);
            shm_free(a, x);
            desc_add(a, d, -(int64_t)take, -1);
            continue;
        }
        if (where == QLIST_HEAD) {
            node_set(a, nd, nd->count - take, nd->start + (uint32_t)(p - run), nd->end);
        } else {
            rc = cut_tail(a, d, x, nd->count - take, p);
            if (rc != EMBER_OK)
                return rc;
        }
        desc_add(a, d, -(int64_t)take, 0);
    }
    *n = got;
    rc = zends(a, d);
    if (rc != EMBER_OK)
        return rc;
    return after_removal(a, r, l);
}

int qlist_pop(struct shm_arena *a, struct ks_ref *r, int where, struct qlist_elem *out,
              uint32_t max, uint32_t *n)
{
    struct lim l = lim_get();
    const uint8_t *run, *end, *p, *q;
    uint32_t count, take, i;
    struct piece pc;
    struct src s;

    *n = 0;
    if (r->off == 0 || max == 0)
        return EMBER_OK;
    if (r->e.enc)
        return pop_full(a, r, &l, where, out, max, n);
    run = cpt_run(r);
    end = cpt_end(r);
    count = cpt_count((const uint8_t *)r->e.val);
    take = count < max ? count : max;
    if (where == QLIST_HEAD) {
        for (p = run, i = 0; i < take; i++)
            p += el_get(p, &out[i]);
        pc = run_piece(p, end);
    } else {
        p = run_skip(run, count - take);
        for (q = p, i = 0; i < take; i++)
            q += el_get(q, &out[take - 1 - i]);
        pc = run_piece(run, p);
    }
    *n = take;
    src_init(&s, &pc, 1);
    return rewrite_from(a, r, &l, &s, 0);
}

/* ---- edits in the middle ----------------------------------------------------------- */

/*
 * Replaces element i (or, with ndel 0, inserts before it; i may then be
 * the length) by v: an in-place store when the encoded sizes match, else a
 * rewrite of the compact value or of the node.
 */
static int edit_at(struct shm_arena *a, struct ks_ref *r, const struct lim *l, uint64_t i,
                   uint32_t ndel, const void *v, size_t len)
{
    struct pack_str str = { v, len };
    struct piece pc[5];
    const uint8_t *p, *run, *end;
    uint64_t node = 0, before, after, built;
    struct qdesc *d;
    struct enc e;
    struct src s;
    int rc;

    el_encode(v, len, &e);
    if (i == qlist_len(a, r)) {   /* after the last element (the tail is plain) */
        ASSERT(ndel == 0);
        if (r->e.enc) {
            node = desc_of(a, r)->tail;
            run = node_run(NODE(a, node));
            p = run + node_bytes(NODE(a, node));
        } else {
            run = cpt_run(r);
            p = cpt_end(r);
        }
    } else {
        p = elem_at(a, r, i, zscratch[Z_X], &node, &run);
    }
    if (ndel == 1 && el_size(p) == enc_size(&e) && (node == 0 || !node_z(NODE(a, node)))) {
        shm_preserve(a, p, enc_size(&e));
        enc_put((uint8_t *)p, &e);
        return EMBER_OK;
    }
    end = node ? run + node_bytes(NODE(a, node)) : cpt_end(r);
    pc[1] = run_piece(run, p);
    pc[2] = (struct piece){ NULL, 0, &str, 1, 0 };
    pc[3] = run_piece(ndel ? p + el_size(p) : p, end);
    if (!node) {
        src_init(&s, pc + 1, 3);
        return rewrite_from(a, r, l, &s, B_BALANCED);
    }
    d = desc_of(a, r);
    rc = node_rewrite(a, d, l, node, pc, 3, MERGE_PREV | MERGE_NEXT, 1 - (int64_t)ndel,
                      &before, &after, &built);
    if (rc == EMBER_OK)
        rc = zcheck_span(a, d, before ? back_from(a, before, 1) : d->head, built + 4);
    if (rc == EMBER_OK)
        rc = zends(a, d);
    if (rc == EMBER_OK)
        rc = maybe_compact(a, r, l);   /* a merge may leave one node */
    return rc;
}

int qlist_set(struct shm_arena *a, struct ks_ref *r, int64_t index, const void *v,
              size_t len, int *found)
{
    struct lim l = lim_get();
    uint64_t i;

    *found = 0;
    if (len > ELEM_MAX)
        return EMBER_ETOOBIG;
    if (!norm_index(index, qlist_len(a, r), &i))
        return EMBER_OK;
    *found = 1;
    return edit_at(a, r, &l, i, 1, v, len);
}

int qlist_insert(struct shm_arena *a, struct ks_ref *r, int after, const void *pivot,
                 size_t plen, const void *v, size_t len, int *found)
{
    struct lim l = lim_get();
    struct qlist_iter it;
    struct qlist_elem e;
    int rc;

    *found = 0;
    if (len > ELEM_MAX)
        return EMBER_ETOOBIG;
    qlist_iter_init(a, r, 0, QLIST_TAIL, &it);
    while ((rc = qlist_iter_next(&it, &e)) > 0) {
        if (qlist_elem_eq(&e, pivot, plen)) {
            *found = 1;
            qlist_iter_release(&it);
            return edit_at(a, r, &l, it.index + (after ? 1 : 0), 0, v, len);
        }
    }
    qlist_iter_release(&it);
    return rc;
}

/*
 * Removes from one run the matches of e: up to `max` of them, the first
 * ones (from_tail 0) or the last ones.  Fills v with the kept stretches;
 * *k gets the number removed.
 */
static int run_remove(const uint8_t *run, const uint8_t *end, const struct enc *e, uint64_t max,
                      int from_tail, struct pvec *v, uint64_t *k)
{
    const uint8_t *p, *seg = run;
    uint64_t matches = 0, skip = 0, i = 0;
    int rc;

    *k = 0;
    if (from_tail) {
        /* Count first, then skip the matches that are not among the last. */
        for (p = run; p < end; p += el_size(p))
            if (el_eq(p, el_size(p), e))
                matches++;
        skip = matches > max ? matches - max : 0;
    }
    for (p = run; p < end && *k < max;) {
        size_t n = el_size(p);
        if (el_eq(p, n, e) && i++ >= skip) {
            rc = pv_run(v, seg, p);
            if (rc != EMBER_OK)
                return rc;
            seg = p + n;
            (*k)++;
        }
        p += n;
    }
    return pv_run(v, seg, end);
}

int qlist_rem(struct shm_arena *a, struct ks_ref *r, int64_t count, const void *v,
              size_t len, uint64_t *removed)
{
    struct lim l = lim_get();
    uint64_t max = count == 0 ? UINT64_MAX : count > 0 ? (uint64_t)count
                                                      : 0 - (uint64_t)count, k;
    int from_tail = count < 0, rc = EMBER_OK;
    struct pvec pv;
    struct enc e;

    *removed = 0;
    if (r->off == 0)
        return EMBER_OK;
    el_encode(v, len, &e);
    pv_init(&pv);
    if (!r->e.enc) {
        struct src s;
        rc = run_remove(cpt_run(r), cpt_end(r), &e, max, from_tail, &pv, &k);
        if (rc == EMBER_OK && k > 0) {
            *removed = k;
            src_init(&s, pv.p + 1, (unsigned)pv.n - 1);
            rc = rewrite_from(a, r, &l, &s, 0);
        }
    } else {
        struct qdesc *d = desc_of(a, r);
        uint64_t x = from_tail ? d->tail : d->head, before, after, built;
        while (x && *removed < max) {
            struct qnode *nd = NODE(a, x);
            const uint8_t *run = node_view(nd, zscratch[Z_X]);
            pv.n = 1;
            rc = run_remove(run, run + node_bytes(nd), &e, max - *removed, from_tail, &pv, &k);
            if (rc != EMBER_OK)
                break;
            if (k == 0) {
                x = from_tail ? nd->prev : nd->next;
                continue;
            }
            *removed += k;
            /* Merge only with nodes already scanned. */
            rc = node_rewrite(a, d, &l, x, pv.p, (unsigned)pv.n - 1,
                              from_tail ? MERGE_NEXT : MERGE_PREV, -(int64_t)k, &before, &after,
                              &built);
            if (rc != EMBER_OK)
                break;
            x = from_tail ? before : after;
        }
        /* Compression settles once, over the whole list (LREM is O(n) anyway). */
        if (rc == EMBER_OK && *removed > 0 && d->count > 0)
            rc = zcheck_span(a, d, d->head, d->nodes);
        if (rc == EMBER_OK && *removed > 0)
            rc = zends(a, d);
        if (rc == EMBER_OK && *removed > 0)
            rc = after_removal(a, r, &l);
    }
    pv_free(&pv);
    return rc;
}

/* Cuts k elements (fewer than the list holds) off the head of a full list. */
static int trim_head(struct shm_arena *a, struct qdesc *d, uint64_t k)
{
    uint64_t first = d->head, x = first, last = 0, whole = 0, nodes = 0;
    int rc;

    while (NODE(a, x)->count <= k) {
        k -= NODE(a, x)->count;
        whole += NODE(a, x)->count;
        nodes++;
        last = x;
        x = NODE(a, x)->next;
    }
    if (nodes) {
        shm_set64(a, &NODE(a, last)->next, 0);
        shm_set64(a, &d->head, x);
        shm_set64(a, &NODE(a, x)->prev, 0);
        drop_chain(a, first, last, whole, nodes);
    }
    desc_add(a, d, -(int64_t)whole, -(int64_t)nodes);
    rc = zends(a, d);   /* the new head was maybe an inner node */
    if (rc == EMBER_OK && k > 0) {
        struct qnode *nd = NODE(a, d->head);
        const uint8_t *p = run_skip(node_run(nd), k);
        node_set(a, nd, nd->count - (uint32_t)k, (uint32_t)(p - (uint8_t *)nd), nd->end);
        desc_add(a, d, -(int64_t)k, 0);
    }
    return rc;
}

static int trim_tail(struct shm_arena *a, struct qdesc *d, uint64_t k)
{
    uint64_t last = d->tail, x = last, first = 0, whole = 0, nodes = 0;
    int rc;

    while (NODE(a, x)->count <= k) {
        k -= NODE(a, x)->count;
        whole += NODE(a, x)->count;
        nodes++;
        first = x;
        x = NODE(a, x)->prev;
    }
    if (nodes) {
        shm_set64(a, &NODE(a, first)->prev, 0);
        shm_set64(a, &d->tail, x);
        shm_set64(a, &NODE(a, x)->next, 0);
        drop_chain(a, first, last, whole, nodes);
    }
    desc_add(a, d, -(int64_t)whole, -(int64_t)nodes);
    rc = zends(a, d);
    if (rc == EMBER_OK && k > 0) {
        struct qnode *nd = NODE(a, d->tail);
        const uint8_t *p = run_skip(node_run(nd), nd->count - k);
        node_set(a, nd, nd->count - (uint32_t)k, nd->start, (uint32_t)(p - (uint8_t *)nd));
        desc_add(a, d, -(int64_t)k, 0);
    }
    return rc;
}

int qlist_trim(struct shm_arena *a, struct ks_ref *r, int64_t start, int64_t end)
{
    struct lim l = lim_get();
    int64_t len = (int64_t)qlist_len(a, r);
    uint64_t ltrim, rtrim;
    int rc;

    if (r->off == 0)
        return EMBER_OK;
    /* Redis's ltrimCommand arithmetic. */
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (start > end || start >= len)
        return ks_ref_delete(a, r);
    if (end >= len)
        end = len - 1;
    ltrim = (uint64_t)start;
    rtrim = (uint64_t)(len - end - 1);
    if (ltrim == 0 && rtrim == 0)
        return EMBER_OK;
    if (!r->e.enc) {
        const uint8_t *p = run_skip(cpt_run(r), ltrim);
        struct piece pc = run_piece(p, run_skip(p, (uint64_t)len - ltrim - rtrim));
        struct src s;
        src_init(&s, &pc, 1);
        return rewrite_from(a, r, &l, &s, 0);
    }
    if (ltrim && (rc = trim_head(a, desc_of(a, r), ltrim)) != EMBER_OK)
        return rc;
    if (rtrim && (rc = trim_tail(a, desc_of(a, r), rtrim)) != EMBER_OK)
        return rc;
    return after_removal(a, r, &l);
}

/* ---- iteration ------------------------------------------------------------------------ */

/* Enters a run of `count` elements at element `in`. */
static void enter_run(struct qlist_iter *it, const uint8_t *run, uint32_t count, uint32_t in)
{
    const uint8_t *p = run;
    uint32_t i;

    it->run = run;
    if (it->dir == QLIST_TAIL) {
        it->p = run_skip(run, in);
        it->left = count - in;
        return;
    }
    it->left = in + 1;
    if (it->offs == NULL || it->cap < in + 1) {
        uint32_t cap = it->cap * 2 > in + 1 ? it->cap * 2 : in + 1;
        uint32_t *o = it->offs == it->inl || it->offs == NULL
                          ? malloc(cap * sizeof(*o))
                          : realloc(it->offs, cap * sizeof(*o));
        if (o == NULL) {
            /* No memory: walk from the run's start for each element. */
            if (it->offs != it->inl)
                free(it->offs);
            it->offs = NULL;
            return;
        }
        it->offs = o;
        it->cap = cap;
    }
    for (i = 0; i <= in; i++) {
        it->offs[i] = (uint32_t)(p - run);
        p += el_size(p);
    }
}

/* Enters node x at element `in`, decompressing it into the iterator's
 * buffer if need be. */
static int enter_node(struct qlist_iter *it, uint64_t x, uint32_t in)
{
    const struct qnode *n = NODE(it->a, x);

    it->node = x;
    if (node_z(n) && it->zbuf == NULL && (it->zbuf = malloc(NODE_MAX_BYTES)) == NULL) {
        it->remaining = 0;
        return it->err = EMBER_ENOMEM;
    }
    enter_run(it, node_view(n, it->zbuf), n->count, in);
    return EMBER_OK;
}

void qlist_iter_init(const struct shm_arena *a, const struct ks_ref *r, int64_t index,
                     int dir, struct qlist_iter *it)
{
    uint64_t len = qlist_len(a, r), i;

    it->a = a;
    it->dir = dir;
    it->err = EMBER_OK;
    it->node = 0;
    it->run = it->p = NULL;
    it->left = 0;
    it->index = 0;
    it->remaining = 0;
    it->offs = it->inl;
    it->cap = sizeof(it->inl) / sizeof(it->inl[0]);
    it->zbuf = NULL;
    if (!norm_index(index, len, &i))
        return;
    it->pos = i;
    it->remaining = dir == QLIST_TAIL ? len - i : i + 1;
    if (!r->e.enc) {
        enter_run(it, cpt_run(r), cpt_count((const uint8_t *)r->e.val), (uint32_t)i);
    } else {
        uint32_t in;
        uint64_t x = locate(a, desc_of(a, r), i, &in);
        enter_node(it, x, in);
    }
}

int qlist_iter_next(struct qlist_iter *it, struct qlist_elem *e)
{
    if (it->remaining == 0)
        return it->err;
    if (it->left == 0) {
        const struct qnode *nd = NODE(it->a, it->node);
        uint64_t x = it->dir == QLIST_TAIL ? nd->next : nd->prev;
        BUG_ON(x == 0);
        if (enter_node(it, x, it->dir == QLIST_TAIL ? 0 : NODE(it->a, x)->count - 1) != 0)
            return it->err;
    }
    if (it->dir == QLIST_TAIL) {
        it->p += el_get(it->p, e);
    } else {
        uint32_t j = it->left - 1;
        el_get(it->offs ? it->run + it->offs[j] : run_skip(it->run, j), e);
    }
    it->left--;
    it->remaining--;
    it->index = it->pos;
    it->pos = it->dir == QLIST_TAIL ? it->pos + 1 : it->pos - 1;
    return 1;
}

void qlist_iter_release(struct qlist_iter *it)
{
    if (it->offs != it->inl)
        free(it->offs);
    free(it->zbuf);
    it->offs = it->inl;
    it->zbuf = NULL;
    it->remaining = 0;
}

/* ---- type operations: freeing and checking -------------------------------------------- */

static uint64_t ops_count(const struct shm_arena *a, uint64_t desc)
{
    return SHM_PTR(a, desc, struct qdesc)->count;
}

static void ops_free_all(struct shm_arena *a, uint64_t desc)
{
    uint64_t x = SHM_PTR(a, desc, struct qdesc)->head;

    while (x) {
        uint64_t nx = NODE(a, x)->next;
        shm_free(a, x);
        x = nx;
    }
    shm_free(a, desc);
}

/* MEMORY USAGE: descriptor and nodes, all of them when samples is 0.
 * Otherwise the two nodes at each end exactly (they stay plain, zcheck())
 * and the inner ones, mostly compressed, as the average of the first
 * `samples` of them times their number.  Redis samples elements; a node
 * holds many, so a sample of nodes is at least as many. */
static uint64_t ops_usage(const struct shm_arena *a, uint64_t desc, uint64_t samples)
{
    const struct qdesc *d = SHM_PTR(a, desc, struct qdesc);
    uint64_t total = shm_usable(a, desc), sum = 0, n = 0, x = d->head, i;

    if (samples == 0 || d->nodes <= 4 + samples) {
        for (; x; x = NODE(a, x)->next)
            total += shm_usable(a, x);
        return total;
    }
    for (i = 0; i < 2; i++, x = NODE(a, x)->next)
        total += shm_usable(a, x);
    for (; n < samples; n++, x = NODE(a, x)->next)
        sum += shm_usable(a, x);
    total += (uint64_t)((double)sum / (double)n * (double)(d->nodes - 4));
    for (x = d->tail, i = 0; i < 2; i++, x = NODE(a, x)->prev)
        total += shm_usable(a, x);
    return total;
}

/* Frees whole nodes from the head, about `budget` elements (at least one
 * node); 0 when only the descriptor is left. */
static uint64_t ops_free_step(struct shm_arena *a, uint64_t desc, uint64_t budget)
{
    struct qdesc *d = SHM_PTR(a, desc, struct qdesc), n = *d;
    uint64_t freed = 0;

    while (n.head && (freed == 0 || freed + NODE(a, n.head)->count <= budget)) {
        uint64_t x = n.head;
        freed += NODE(a, x)->count;
        n.count -= NODE(a, x)->count;
        n.nodes--;
        n.head = NODE(a, x)->next;
        shm_free(a, x);
    }
    if (freed == 0)
        return 0;
    if (n.head)
        shm_set64(a, &NODE(a, n.head)->prev, 0);
    else
        n.tail = 0;
    shm_store(a, d, &n, sizeof(n));
    return freed;
}

static int check_run(struct shm_check_ctx *c, const uint8_t *run, size_t bytes,
                     uint64_t count, const char *what, uint64_t off)
{
    const uint8_t *p = run, *end = run + bytes;
    uint64_t i;

    for (i = 0; i < count; i++) {
        size_t n = el_check(p, end);
        if (n == 0)
            return shm_check_fail(c, "%s %llu: element %llu malformed", what,
                                  (unsigned long long)off, (unsigned long long)i);
        p += n;
    }
    if (p != end)
        return shm_check_fail(c, "%s %llu: %zu bytes after %llu elements", what,
                              (unsigned long long)off, (size_t)(end - p),
                              (unsigned long long)count);
    return 0;
}

/* Walks a descriptor's chain: marks every node once, proves links, bounds,
 * runs and counts.  `live`: a key's list (never empty). */
static int check_chain(struct shm_check_ctx *c, uint64_t desc, int live)
{
    const struct shm_arena *a = shm_check_arena(c);
    const struct qdesc *d;
    uint64_t x, prev = 0, total = 0, nodes = 0;

    if (shm_usable(a, desc) < sizeof(*d))
        return shm_check_fail(c, "list descriptor %llu too small", (unsigned long long)desc);
    d = SHM_PTR(a, desc, const struct qdesc);
    for (x = d->head; x != 0; prev = x, x = NODE(a, x)->next) {
        const struct qnode *n;
        const uint8_t *run;
        size_t u;
        if (shm_check_mark(c, x, "list node") != 0)
            return -1;
        u = shm_usable(a, x);
        n = SHM_PTR(a, x, const struct qnode);
        if (u < NODE_HDR || n->start < NODE_HDR || n->start > n->end || n->end > u)
            return shm_check_fail(c, "list node %llu: run %u..%u outside its %zu-byte block",
                                  (unsigned long long)x, n->start, n->end, u);
        if (n->prev != prev)
            return shm_check_fail(c, "list node %llu: prev is %llu, expected %llu",
                                  (unsigned long long)x, (unsigned long long)n->prev,
                                  (unsigned long long)prev);
        if (n->count == 0)
            return shm_check_fail(c, "list node %llu is empty", (unsigned long long)x);
        if (n->count > 1 && node_bytes(n) + NODE_HDR > NODE_MAX_BYTES)
            return shm_check_fail(c, "list node %llu: %u bytes in %u elements",
                                  (unsigned long long)x, node_bytes(n), n->count);
        run = (const uint8_t *)n + n->start;
        if (node_z(n)) {
            if ((n->zraw & Z_NOZ) || (live && (x == d->head || x == d->tail)))
                return shm_check_fail(c, "list node %llu: zraw %#x%s", (unsigned long long)x,
                                      n->zraw, x == d->head || x == d->tail ? " at an end" : "");
            if (zdecompress(run, n->end - n->start, zscratch[Z_CHECK], NODE_MAX_BYTES) !=
                node_bytes(n))
                return shm_check_fail(c, "list node %llu does not decompress to %u bytes",
                                      (unsigned long long)x, node_bytes(n));
            run = zscratch[Z_CHECK];
        }
        if (check_run(c, run, node_bytes(n), n->count, "list node", x) != 0)
            return -1;
        total += n->count;
        nodes++;
    }
    if (d->tail != prev)
        return shm_check_fail(c, "list descriptor %llu: tail %llu, last node %llu",
                              (unsigned long long)desc, (unsigned long long)d->tail,
                              (unsigned long long)prev);
    if (d->count != total || d->nodes != nodes)
        return shm_check_fail(c, "list descriptor %llu: counts %llu/%llu, nodes hold %llu/%llu",
                              (unsigned long long)desc, (unsigned long long)d->count,
                              (unsigned long long)d->nodes, (unsigned long long)total,
                              (unsigned long long)nodes);
    if (live && total == 0)
        return shm_check_fail(c, "empty list %llu", (unsigned long long)desc);
    return 0;
}

static int ops_check(struct shm_check_ctx *c, unsigned type, const struct ks_entry *e)
{
    (void)type;
    if (e->enc) {
        uint64_t desc;
        if (e->vlen != 8)
            return shm_check_fail(c, "full list value of %llu bytes",
                                  (unsigned long long)e->vlen);
        desc = ks_desc(e);
        if (shm_check_mark(c, desc, "list descriptor") != 0)
            return -1;
        return check_chain(c, desc, 1);
    }
    if (e->vlen < CPT_HDR + 1 || e->vlen - CPT_HDR + NODE_HDR > NODE_MAX_BYTES)
        return shm_check_fail(c, "compact list of %llu bytes", (unsigned long long)e->vlen);
    if (cpt_count((const uint8_t *)e->val) == 0)
        return shm_check_fail(c, "empty compact list");
    return check_run(c, (const uint8_t *)e->val + CPT_HDR, e->vlen - CPT_HDR,
                     cpt_count((const uint8_t *)e->val), "compact list", e->off);
}

static int ops_check_garbage(struct shm_check_ctx *c, uint64_t desc)
{
    return check_chain(c, desc, 0);
}

const struct ks_type_ops qlist_ops = {
    ops_count, ops_free_all, ops_free_step, ops_check, ops_check_garbage, ops_usage,
};
