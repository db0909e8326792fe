/*
 * hset.c - hash and set values (see hset.h).
 *
 * Invariants:
 *   - compact: the entry's value is a valid pack, exactly vlen bytes; a
 *     set's elements are its members, a hash's are field, value pairs (an
 *     even count); no member twice; never empty; at most PACK_COUNT_MAX
 *     elements, whatever ks_limits says (pack_limit());
 *   - full: the value is the offset of a descriptor block holding a dict
 *     (count = members >= 1); every element is a member block in the chain
 *     its member's hash leads to; no member twice.
 */
#include "hset.h"
#include "alloc.h"
#include "check.h"

#include <stdlib.h>

#define IS_HASH(type) ((type) == KS_T_HASH)

static unsigned stride(unsigned type)
{
    return IS_HASH(type) ? 2 : 1;
}

/* An entry limit within what a pack's 16-bit count can hold: worker.c
 * clamps the settings already, but tests and tools set ks_limits directly,
 * and a compact value past PACK_COUNT_MAX elements must go full instead. */
static uint32_t pack_limit(uint32_t lim, unsigned type)
{
    uint32_t cap = PACK_COUNT_MAX / stride(type);
    return lim < cap ? lim : cap;
}

static uint32_t max_entries(unsigned type)
{
    return pack_limit(IS_HASH(type) ? ks_limits.hash_entries : ks_limits.set_entries, type);
}

/* Is s an integer Redis would keep in an intset (the canonical text of a
 * 64-bit integer)?  1 and its value in *v, or 0. */
static int int_value(const uint8_t *s, size_t len, int64_t *v)
{
    uint64_t u = 0, lim;
    size_t i = 0;
    int neg = 0;

    if (len == 0 || len > 20)
        return 0;
    if (s[0] == '-')
        neg = i = 1;
    if (i == len || (s[i] == '0' && len > i + 1) || (neg && s[i] == '0'))
        return 0;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        unsigned d = (unsigned)s[i] - '0';
        if (d > 9 || u > (lim - d) / 10)
            return 0;
        u = u * 10 + d;
    }
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 1;
}

static int is_int(const uint8_t *s, size_t len)
{
    int64_t v;
    return int_value(s, len, &v);
}

/*
 * A compact set of integers only keeps them in increasing order, as Redis's
 * intsets do, so SMEMBERS and SSCAN list them the same way.  Where a new
 * member m goes: after the members smaller than it when the set and m are
 * all integers (*ints = 1: the set may then grow to set-max-intset-entries,
 * as an intset would), else at the end (*ints = 0).  One pass over the
 * pack serves both.
 */
static uint32_t set_insert_at(const struct ks_ref *r, const void *m, size_t mlen, int *ints)
{
    uint32_t n = r->off ? pack_count((const uint8_t *)r->e.val) : 0, below = 0;
    struct pack_it it;
    const uint8_t *s;
    size_t len;
    int64_t v, x;

    *ints = 0;
    if (!int_value(m, mlen, &v))
        return n;
    if (r->off) {
        pack_iter((const uint8_t *)r->e.val, r->e.vlen, &it);
        while (pack_next(&it, &s, &len)) {
            if (!int_value(s, len, &x))
                return n;
            below += x < v;
        }
    }
    *ints = 1;
    return below;
}

struct int_elem {
    int64_t v;                    /* the member's value */
    const uint8_t *s;             /* its bytes */
    size_t len;
};

static int int_elem_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct int_elem *)a)->v, y = ((const struct int_elem *)b)->v;
    return (x > y) - (x < y);
}

/*
 * Sorts the compact set pack[0..len) in place if its members are all
 * integers and out of order (a set whose last string member went, or a
 * full set turned compact).  The pack must be process memory or a block
 * of this mutation.  Without memory for the sort it stays as it is: the
 * order is only how members are listed.
 */
static void sort_if_ints(uint8_t *pack, size_t len)
{
    uint32_t n = pack_count(pack), i = 0;
    struct int_elem *e;
    struct pack_it it;
    const uint8_t *s;
    size_t l, at = PACK_HDR;
    int sorted = 1;
    uint8_t *tmp;

    if (n < 2 || (e = malloc(n * sizeof(*e))) == NULL)
        return;
    pack_iter(pack, len, &it);
    while (i < n && pack_next(&it, &s, &l)) {
        if (!int_value(s, l, &e[i].v))
            goto out;
        e[i].s = s;
        e[i].len = l;
        sorted &= i == 0 || e[i - 1].v < e[i].v;
        i++;
    }
    if (sorted || i != n || (tmp = malloc(len)) == NULL)
        goto out;
    qsort(e, n, sizeof(*e), int_elem_cmp);
    memcpy(tmp, pack, PACK_HDR);
    for (i = 0; i < n; i++)
        at += pack_put(tmp + at, e[i].s, e[i].len);
    BUG_ON(at != len);
    memcpy(pack, tmp, len);
    free(tmp);
out:
    free(e);
}

/* The entry limit for a compact set that would hold m too (ints: the set
 * and m are all integers, from set_insert_at()): sets of integers only
 * get set-max-intset-entries, as Redis's intsets do. */
static uint32_t set_limit(int ints)
{
    uint32_t lim = max_entries(KS_T_SET);

    if (ks_limits.set_int_entries <= lim || !ints)
        return lim;
    return pack_limit(ks_limits.set_int_entries, KS_T_SET);
}

static uint32_t max_value(unsigned type)
{
    return IS_HASH(type) ? ks_limits.hash_value : ks_limits.set_value;
}

/* ---- member blocks ------------------------------------------------------------ */

static size_t block_size(unsigned type, size_t mlen, size_t vlen)
{
    size_t n = pack_varint_size(mlen) + mlen;
    if (IS_HASH(type))
        n += pack_varint_size(vlen) + vlen;
    return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static size_t get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    size_t n = 0;
    unsigned shift = 0;

    *v = 0;
    for (;;) {
        if (p + n >= end || shift > 35)
            return 0;
        *v |= (uint64_t)(p[n] & 0x7f) << shift;
        if (!(p[n++] & 0x80))
            return n;
        shift += 7;
    }
}

/* Writes a member block into fresh memory. */
static void block_fill(uint8_t *p, unsigned type, const void *m, size_t mlen, const void *v,
                       size_t vlen)
{
    size_t n = put_varint(p, mlen);
    if (IS_HASH(type))
        n += put_varint(p + n, vlen);
    memcpy(p + n, m, mlen);
    if (IS_HASH(type))
        memcpy(p + n + mlen, v, vlen);
}

/* Parses a member block; 0, or -1 if it does not fit `avail` bytes. */
static int block_parse(const uint8_t *p, size_t avail, unsigned type, const uint8_t **m,
                       size_t *mlen, const uint8_t **v, size_t *vlen)
{
    const uint8_t *end = p + avail;
    uint64_t ml, vl = 0;
    size_t n = get_varint(p, end, &ml), k = 0;

    if (n == 0)
        return -1;
    if (IS_HASH(type) && (k = get_varint(p + n, end, &vl)) == 0)
        return -1;
    n += k;
    if (ml > avail - n || vl > avail - n - ml)
        return -1;
    *m = p + n;
    *mlen = (size_t)ml;
    *v = IS_HASH(type) ? p + n + ml : NULL;
    *vlen = (size_t)vl;
    return 0;
}

static void block_at(const struct shm_arena *a, uint64_t off, unsigned type, const uint8_t **m,
                     size_t *mlen, const uint8_t **v, size_t *vlen)
{
    BUG_ON(block_parse(SHM_PTR(a, off, const uint8_t), shm_usable(a, off), type, m, mlen, v,
                       vlen) != 0);
}

static uint64_t block_hash_hash(const struct shm_arena *a, uint64_t off, const void *ctx)
{
    const uint8_t *m, *v;
    size_t ml, vl;
    (void)ctx;
    block_at(a, off, KS_T_HASH, &m, &ml, &v, &vl);
    return ks_hash(a, m, ml);
}

static uint64_t block_hash_set(const struct shm_arena *a, uint64_t off, const void *ctx)
{
    const uint8_t *m, *v;
    size_t ml, vl;
    (void)ctx;
    block_at(a, off, KS_T_SET, &m, &ml, &v, &vl);
    return ks_hash(a, m, ml);
}

static dict_hash_fn hash_fn(unsigned type)
{
    return IS_HASH(type) ? block_hash_hash : block_hash_set;
}

static int new_block(struct shm_arena *a, unsigned type, const void *m, size_t mlen,
                     const void *v, size_t vlen, uint64_t *off)
{
    int rc = shm_alloc(a, block_size(type, mlen, vlen), off);
    if (rc == EMBER_OK)
        block_fill(SHM_PTR(a, *off, uint8_t), type, m, mlen, v, vlen);
    return rc;
}

static struct shm_dict *dict_of(const struct shm_arena *a, const struct ks_ref *r)
{
    return SHM_PTR(a, ks_desc(&r->e), struct shm_dict);
}

/* Finds a member in a full value: its block (0 if absent) and slot. */
static uint64_t full_find(const struct shm_arena *a, const struct ks_ref *r, const void *m,
                          size_t mlen, uint64_t h, struct dict_pos *pos)
{
    struct dict_probe p;
    uint64_t off;

    if (!dict_probe_start(a, dict_of(a, r), h, &p))
        return 0;
    while ((off = dict_probe_next(a, &p, pos)) != 0) {
        const uint8_t *bm, *bv;
        size_t bml, bvl;
        block_at(a, off, r->e.type, &bm, &bml, &bv, &bvl);
        if (bml == mlen && memcmp(bm, m, mlen) == 0)
            return off;
    }
    return 0;
}

/* Index (in elements) of member m in a compact value, or -1. */
static long compact_find(const struct ks_ref *r, const void *m, size_t mlen)
{
    const uint8_t *s;
    size_t len;
    struct pack_it it;
    unsigned st = stride(r->e.type);
    long i = 0;

    pack_iter((const uint8_t *)r->e.val, r->e.vlen, &it);
    while (pack_next(&it, &s, &len)) {
        if (len == mlen && memcmp(s, m, mlen) == 0)
            return i;
        if (st == 2 && !pack_next(&it, &s, &len))
            break;
        i += st;
    }
    return -1;
}

/* ---- reading ------------------------------------------------------------------- */

uint64_t hset_len(const struct shm_arena *a, const struct ks_ref *r)
{
    if (r->e.enc)
        return dict_of(a, r)->count;
    return pack_count((const uint8_t *)r->e.val) / stride(r->e.type);
}

int hset_get(const struct shm_arena *a, const struct ks_ref *r, const void *m, size_t mlen,
             const uint8_t **v, size_t *vlen)
{
    const uint8_t *bm;
    size_t bml;

    *v = NULL;
    *vlen = 0;
    if (r->e.enc) {
        struct dict_pos pos;
        uint64_t off = full_find(a, r, m, mlen, ks_hash(a, m, mlen), &pos);
        if (off == 0)
            return 0;
        block_at(a, off, r->e.type, &bm, &bml, v, vlen);
        return 1;
    } else {
        long i = compact_find(r, m, mlen);
        const uint8_t *p = (const uint8_t *)r->e.val;
        if (i < 0)
            return 0;
        if (IS_HASH(r->e.type)) {
            size_t off = pack_offset(p, r->e.vlen, (uint32_t)i + 1);
            pack_get(p + off, p + r->e.vlen, v, vlen);
        }
        return 1;
    }
}

void hset_iter(const struct shm_arena *a, const struct ks_ref *r, struct hset_it *it)
{
    it->a = a;
    it->full = r->e.enc;
    it->hash = IS_HASH(r->e.type);
    if (it->full)
        dict_iter_init(dict_of(a, r), &it->d);
    else
        pack_iter((const uint8_t *)r->e.val, r->e.vlen, &it->p);
}

int hset_next(struct hset_it *it, const uint8_t **m, size_t *mlen, const uint8_t **v,
              size_t *vlen)
{
    *v = NULL;
    *vlen = 0;
    if (it->full) {
        uint64_t off = dict_iter_next(it->a, &it->d);
        if (off == 0)
            return 0;
        block_at(it->a, off, it->hash ? KS_T_HASH : KS_T_SET, m, mlen, v, vlen);
        return 1;
    }
    if (!pack_next(&it->p, m, mlen))
        return 0;
    if (it->hash && !pack_next(&it->p, v, vlen))
        return 0;
    return 1;
}

void hset_random(const struct shm_arena *a, const struct ks_ref *r, uint64_t rnd,
                 const uint8_t **m, size_t *mlen, const uint8_t **v, size_t *vlen)
{
    *v = NULL;
    *vlen = 0;
    if (r->e.enc) {
        uint64_t off = dict_random(a, dict_of(a, r), rnd);
        BUG_ON(off == 0);
        block_at(a, off, r->e.type, m, mlen, v, vlen);
    } else {
        const uint8_t *p = (const uint8_t *)r->e.val;
        unsigned st = stride(r->e.type);
        uint32_t i = (uint32_t)(rnd % (pack_count(p) / st)) * st;
        size_t off = pack_offset(p, r->e.vlen, i), n;
        n = pack_get(p + off, p + r->e.vlen, m, mlen);
        if (st == 2)
            pack_get(p + off + n, p + r->e.vlen, v, vlen);
    }
}

struct scan_ctx {
    unsigned type;
    hset_scan_fn *fn;
    void *ctx;
};

static void scan_one(const struct shm_arena *a, uint64_t off, void *ctx)
{
    struct scan_ctx *s = ctx;
    const uint8_t *m, *v;
    size_t ml, vl;

    block_at(a, off, s->type, &m, &ml, &v, &vl);
    s->fn(s->ctx, m, ml, v, vl);
}

uint64_t hset_scan(const struct shm_arena *a, const struct ks_ref *r, uint64_t cursor,
                   hset_scan_fn *fn, void *ctx)
{
    if (r->e.enc) {
        struct scan_ctx s = { r->e.type, fn, ctx };
        return dict_scan_exact(a, dict_of(a, r), cursor, hash_fn(r->e.type), NULL, scan_one,
                               &s);
    } else {
        struct hset_it it;
        const uint8_t *m, *v;
        size_t ml, vl;
        hset_iter(a, r, &it);
        while (hset_next(&it, &m, &ml, &v, &vl))
            fn(ctx, m, ml, v, vl);
        return 0;
    }
}

const char *hset_encoding(const struct ks_ref *r)
{
    return r->e.enc ? "hashtable" : (r->e.type == KS_T_SET ? "listpack" : "listpack");
}

/* ---- writing ------------------------------------------------------------------- */

/*
 * Converts r's value to the full encoding with every current member plus
 * (m, v) when m is not NULL (replacing an existing member's value).
 */
static int to_full(struct shm_arena *a, struct ks_ref *r, unsigned type, const void *m,
                   size_t mlen, const void *v, size_t vlen)
{
    uint64_t desc, off;
    struct shm_dict *d;
    uint8_t *val;
    int rc;

    rc = shm_calloc(a, sizeof(struct shm_dict), &desc);
    if (rc != EMBER_OK)
        return rc;
    d = SHM_PTR(a, desc, struct shm_dict);
    if (r->off) {
        struct pack_it it;
        const uint8_t *s, *sv = NULL;
        size_t len, svl = 0;
        pack_iter((const uint8_t *)r->e.val, r->e.vlen, &it);
        while (pack_next(&it, &s, &len)) {
            if (IS_HASH(type))
                pack_next(&it, &sv, &svl);
            if (m != NULL && len == mlen && memcmp(s, m, mlen) == 0)
                continue;   /* replaced below */
            rc = new_block(a, type, s, len, sv, svl, &off);
            if (rc == EMBER_OK)
                rc = dict_add(a, d, ks_hash(a, s, len), off, hash_fn(type), NULL);
            if (rc != EMBER_OK)
                return rc;
        }
    }
    if (m != NULL) {
        rc = new_block(a, type, m, mlen, v, vlen, &off);
        if (rc == EMBER_OK)
            rc = dict_add(a, d, ks_hash(a, m, mlen), off, hash_fn(type), NULL);
        if (rc != EMBER_OK)
            return rc;
    }
    rc = ks_ref_rewrite(a, r, type, 1, 8, &val);
    if (rc == EMBER_OK)
        memcpy(val, &desc, 8);
    return rc;
}

/* Rewrites a compact value: elements [from, from+ndel) become ins[].  The
 * old pack and its length are taken before the rewrite updates r; its bytes
 * stay readable (frees are deferred). */
static int compact_edit(struct shm_arena *a, struct ks_ref *r, unsigned type, uint32_t from,
                        uint32_t ndel, const struct pack_str *ins, uint32_t nins)
{
    static const uint8_t empty[PACK_HDR];   /* no elements */
    const uint8_t *old = r->off ? (const uint8_t *)r->e.val : empty;
    size_t oldlen = r->off ? r->e.vlen : PACK_HDR;
    size_t n = pack_edit_size(old, oldlen, from, ndel, ins, nins);
    uint8_t *val;
    int rc = ks_ref_rewrite(a, r, type, 0, n, &val);

    if (rc == EMBER_OK)
        pack_edit(val, old, oldlen, from, ndel, ins, nins);
    return rc;
}

int hset_put(struct shm_arena *a, struct ks_ref *r, unsigned type, const void *m, size_t mlen,
             const void *v, size_t vlen, unsigned flags, int *added)
{
    struct pack_str ins[2] = { { m, mlen }, { v, vlen } };
    int big = mlen > max_value(type) || (IS_HASH(type) && vlen > max_value(type)), ints = 0;
    uint32_t at;

    *added = 0;
    if (r->off)
        type = r->e.type;
    if (r->off && r->e.enc) {
        struct dict_pos pos;
        uint64_t h = ks_hash(a, m, mlen), off = full_find(a, r, m, mlen, h, &pos), n;
        int rc;
        if (off != 0) {
            const uint8_t *bm, *bv;
            size_t bml, bvl;
            if ((flags & HSET_NX) || !IS_HASH(type))
                return EMBER_OK;
            block_at(a, off, type, &bm, &bml, &bv, &bvl);
            if (pack_varint_size(bvl) == pack_varint_size(vlen) &&
                block_size(type, mlen, vlen) <= shm_usable(a, off)) {
                /* Same layout: overwrite the value (and its length) in place. */
                uint8_t *p = SHM_PTR(a, off, uint8_t), lenbuf[8];
                size_t vs = pack_varint_size(mlen), vw = put_varint(lenbuf, vlen);
                shm_store(a, p + vs, lenbuf, vw);
                shm_store(a, (uint8_t *)bv, v, vlen);
                return EMBER_OK;
            }
            rc = new_block(a, type, m, mlen, v, vlen, &n);
            if (rc != EMBER_OK)
                return rc;
            dict_replace(a, &pos, n);
            shm_free(a, off);
            return EMBER_OK;
        }
        rc = new_block(a, type, m, mlen, v, vlen, &n);
        if (rc == EMBER_OK)
            rc = dict_add(a, dict_of(a, r), h, n, hash_fn(type), NULL);
        if (rc == EMBER_OK)
            *added = 1;
        return rc;
    }
    if (r->off) {
        long i = compact_find(r, m, mlen);
        if (i >= 0) {
            if ((flags & HSET_NX) || !IS_HASH(type))
                return EMBER_OK;
            if (big)
                return to_full(a, r, type, m, mlen, v, vlen);
            return compact_edit(a, r, type, (uint32_t)i + 1, 1, &ins[1], 1);
        }
    }
    *added = 1;
    if (IS_HASH(type))
        at = r->off ? pack_count((const uint8_t *)r->e.val) : 0;
    else
        at = set_insert_at(r, m, mlen, &ints);
    if (big || (r->off ? hset_len(a, r) : 0) + 1 >
                   (IS_HASH(type) ? max_entries(type) : set_limit(ints)))
        return to_full(a, r, type, m, mlen, v, vlen);
    return compact_edit(a, r, type, at, 0, ins, stride(type));
}

/*
 * A full value that shrank to half the entry limit goes back to compact,
 * if its members fit.  The pack is built first in process memory: the
 * rewrite frees the old structure, clearing its table.  The buffer is kept
 * for the next conversion (a mutation may die between malloc and free;
 * one kept buffer cannot leak), and dropped when unusually big.
 */
static uint8_t *compact_buf;
static size_t compact_cap;

static uint8_t *compact_scratch(size_t n)
{
    if (n > compact_cap) {
        uint8_t *b = realloc(compact_buf, n);
        if (b == NULL)
            return NULL;
        compact_buf = b;
        compact_cap = n;
    }
    return compact_buf;
}

static void compact_scratch_trim(void)
{
    if (compact_cap > (1u << 20)) {
        free(compact_buf);
        compact_buf = NULL;
        compact_cap = 0;
    }
}

static int maybe_compact(struct shm_arena *a, struct ks_ref *r)
{
    unsigned type = r->e.type;
    struct hset_it it;
    const uint8_t *m, *v;
    size_t ml, vl, n = PACK_HDR, pos = PACK_HDR;
    uint32_t members = 0;
    uint8_t *val, *tmp;
    int rc;

    if (dict_of(a, r)->count > max_entries(type) / 2)
        return EMBER_OK;
    hset_iter(a, r, &it);
    while (hset_next(&it, &m, &ml, &v, &vl)) {
        if (ml > max_value(type) || (IS_HASH(type) && vl > max_value(type)))
            return EMBER_OK;
        n += pack_elem_size(ml) + (IS_HASH(type) ? pack_elem_size(vl) : 0);
    }
    tmp = compact_scratch(n);
    if (tmp == NULL)
        return EMBER_OK;   /* stays full: correct, only less compact */
    hset_iter(a, r, &it);
    while (hset_next(&it, &m, &ml, &v, &vl)) {
        pos += pack_put(tmp + pos, m, ml);
        if (IS_HASH(type))
            pos += pack_put(tmp + pos, v, vl);
        members++;
    }
    BUG_ON(pos != n);
    pack_set_header(tmp, members * stride(type));
    if (!IS_HASH(type))
        sort_if_ints(tmp, n);
    rc = ks_ref_rewrite(a, r, type, 0, n, &val);
    if (rc == EMBER_OK)
        memcpy(val, tmp, n);
    compact_scratch_trim();
    return rc;
}

int hset_del(struct shm_arena *a, struct ks_ref *r, const void *m, size_t mlen, int *removed)
{
    int rc;

    *removed = 0;
    if (r->e.enc) {
        struct dict_pos pos;
        struct shm_dict *d = dict_of(a, r);
        uint64_t off = full_find(a, r, m, mlen, ks_hash(a, m, mlen), &pos);
        if (off == 0)
            return EMBER_OK;
        *removed = 1;
        if (d->count == 1)
            return ks_ref_delete(a, r);
        rc = dict_delete(a, d, &pos, hash_fn(r->e.type), NULL);
        if (rc != EMBER_OK)
            return rc;
        shm_free(a, off);
        return maybe_compact(a, r);
    } else {
        long i = compact_find(r, m, mlen);
        if (i < 0)
            return EMBER_OK;
        *removed = 1;
        if (hset_len(a, r) == 1)
            return ks_ref_delete(a, r);
        rc = compact_edit(a, r, r->e.type, (uint32_t)i, stride(r->e.type), NULL, 0);
        /* The last string member of a set gone: the integers left get
         * their order (the new entry is this mutation's own block). */
        if (rc == EMBER_OK && !IS_HASH(r->e.type) && !is_int(m, mlen))
            sort_if_ints((uint8_t *)r->e.val, r->e.vlen);
        return rc;
    }
}

/* ---- type operations: freeing and checking -------------------------------------- */

static uint64_t ops_count(const struct shm_arena *a, uint64_t desc)
{
    return SHM_PTR(a, desc, struct shm_dict)->count;
}

static void free_block_cb(struct shm_arena *a, uint64_t off)
{
    shm_free(a, off);
}

static void ops_free_all(struct shm_arena *a, uint64_t desc)
{
    struct shm_dict *d = SHM_PTR(a, desc, struct shm_dict);
    struct dict_iter it;
    uint64_t off;

    dict_iter_init(d, &it);
    while ((off = dict_iter_next(a, &it)) != 0)
        shm_free(a, off);
    dict_free(a, d);
    shm_free(a, desc);
}

static uint64_t ops_free_step(struct shm_arena *a, uint64_t desc, uint64_t budget)
{
    return dict_drain_step(a, SHM_PTR(a, desc, struct shm_dict), free_block_cb, budget);
}

/* MEMORY USAGE: descriptor, table and member blocks (the first `samples`
 * members' average times the count, or all of them). */
static uint64_t ops_usage(const struct shm_arena *a, uint64_t desc, uint64_t samples)
{
    const struct shm_dict *d = SHM_PTR(a, desc, struct shm_dict);
    uint64_t total = shm_usable(a, desc) + dict_mem(a, d), sum = 0, n = 0, off;
    struct dict_iter it;

    dict_iter_init(d, &it);
    while ((samples == 0 || n < samples) && (off = dict_iter_next(a, &it)) != 0) {
        sum += shm_usable(a, off);
        n++;
    }
    if (n > 0)
        total += n == d->count ? sum : (uint64_t)((double)sum / (double)n * (double)d->count);
    return total;
}

static int mark_table(const struct shm_arena *a, uint64_t block, int kind, void *ctx)
{
    (void)a;
    (void)kind;
    return shm_check_mark(ctx, block, "collection table");
}

/* Marks and parses every member block of a dict; with `live`, also proves
 * each sits where its hash leads and appears once. */
static int check_dict(struct shm_check_ctx *c, unsigned type, struct shm_dict *d, int live)
{
    const struct shm_arena *a = shm_check_arena(c);
    struct dict_iter it;
    char err[200];
    uint64_t off, n = 0;

    if (dict_validate(a, d, live, err, sizeof(err)) != 0)
        return shm_check_fail(c, "collection dict: %s", err);
    if (dict_blocks(a, d, mark_table, c) != 0)
        return -1;
    dict_iter_init(d, &it);
    while ((off = dict_iter_next(a, &it)) != 0) {
        const uint8_t *m, *v;
        size_t ml, vl;
        if (shm_check_mark(c, off, "collection member") != 0)
            return -1;
        if (block_parse(SHM_PTR(a, off, const uint8_t), shm_usable(a, off), type, &m, &ml,
                        &v, &vl) != 0)
            return shm_check_fail(c, "member block %llu overruns its block",
                                  (unsigned long long)off);
        if (live) {
            struct dict_probe p;
            struct dict_pos pos;
            uint64_t o;
            int found = 0;
            dict_probe_start(a, d, ks_hash(a, m, ml), &p);
            while ((o = dict_probe_next(a, &p, &pos)) != 0) {
                const uint8_t *m2, *v2;
                size_t ml2, vl2;
                if (o == off) {
                    found++;
                    continue;
                }
                block_at(a, o, type, &m2, &ml2, &v2, &vl2);
                if (ml2 == ml && memcmp(m2, m, ml) == 0)
                    return shm_check_fail(c, "member twice in a collection");
            }
            if (found != 1)
                return shm_check_fail(c, "member block %llu not where its hash leads",
                                      (unsigned long long)off);
        }
        n++;
    }
    if (live && n == 0)
        return shm_check_fail(c, "empty collection");
    return 0;
}

static int ops_check(struct shm_check_ctx *c, unsigned type, const struct ks_entry *e)
{
    const struct shm_arena *a = shm_check_arena(c);

    if (e->enc) {
        uint64_t desc;
        if (e->vlen != 8)
            return shm_check_fail(c, "full collection value of %llu bytes",
                                  (unsigned long long)e->vlen);
        desc = ks_desc(e);
        if (shm_check_mark(c, desc, "collection descriptor") != 0)
            return -1;
        if (shm_usable(a, desc) < sizeof(struct shm_dict))
            return shm_check_fail(c, "collection descriptor too small");
        return check_dict(c, type, SHM_PTR(a, desc, struct shm_dict), 1);
    }
    {
        const uint8_t *p = (const uint8_t *)e->val, *s, *t;
        size_t len, tl;
        struct pack_it it, jt;
        uint32_t i = 0;
        if (pack_validate(p, e->vlen) != 0)
            return shm_check_fail(c, "compact collection: malformed pack");
        if (pack_count(p) == 0 || pack_count(p) % stride(type) != 0)
            return shm_check_fail(c, "compact collection: %u elements", pack_count(p));
        /* No member twice (quadratic, but compact values are small). */
        pack_iter(p, e->vlen, &it);
        while (pack_next(&it, &s, &len) && pack_count(p) <= 4096) {
            uint32_t j = 0;
            if (i % stride(type) == 0) {
                pack_iter(p, e->vlen, &jt);
                while (j < i && pack_next(&jt, &t, &tl)) {
                    if (j % stride(type) == 0 && tl == len && memcmp(t, s, len) == 0)
                        return shm_check_fail(c, "compact collection: member twice");
                    j++;
                }
            }
            i++;
        }
    }
    return 0;
}

static int ops_check_garbage_hash(struct shm_check_ctx *c, uint64_t desc)
{
    return check_dict(c, KS_T_HASH, SHM_PTR(shm_check_arena(c), desc, struct shm_dict), 0);
}

static int ops_check_garbage_set(struct shm_check_ctx *c, uint64_t desc)
{
    return check_dict(c, KS_T_SET, SHM_PTR(shm_check_arena(c), desc, struct shm_dict), 0);
}

const struct ks_type_ops hset_hash_ops = {
    ops_count, ops_free_all, ops_free_step, ops_check, ops_check_garbage_hash, ops_usage,
};
const struct ks_type_ops hset_set_ops = {
    ops_count, ops_free_all, ops_free_step, ops_check, ops_check_garbage_set, ops_usage,
};
