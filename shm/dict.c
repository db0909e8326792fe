/*
 * dict.c - linear hash tables in the arena (see dict.h for the design).
 *
 * Invariants:
 *   - buckets [0, nbuckets) are live; 2^level <= nbuckets < 2^(level+1),
 *     except the empty table (nbuckets == 0, no directory);
 *   - a hash maps to bucket h mod 2^level, or h mod 2^(level+1) when that
 *     first index is below split = nbuckets - 2^level;
 *   - every element sits in the chain of the bucket its hash maps to;
 *     a chain is a head bucket plus child buckets linked through slot 7;
 *   - buckets at or past nbuckets are dead; a split still logs the bucket
 *     it brings to life, so rollbacks are exact to the byte;
 *   - directory slot k holds segment k's offset, or 0 once it is released.
 */
#include "dict.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>

#define BUCKET_BYTES   (DICT_SLOTS * 8u)
#define SEG_MAX        1024u
#define DIR_MIN        16u

static inline uint64_t seg_buckets(uint32_t k)
{
    return k == 0 ? 1 : k <= 10 ? 1ull << (k - 1) : SEG_MAX;
}

static inline uint64_t seg_first(uint32_t k)
{
    return k == 0 ? 0 : k <= 11 ? 1ull << (k - 1) : (uint64_t)(k - 10) * SEG_MAX;
}

static inline void locate(uint64_t i, uint32_t *k, uint64_t *idx)
{
    if (i < SEG_MAX) {
        if (i == 0) {
            *k = 0;
            *idx = 0;
        } else {
            *k = 64u - (uint32_t)__builtin_clzll(i);
            *idx = i - (1ull << (*k - 1));
        }
    } else {
        *k = 11u + (uint32_t)((i - SEG_MAX) >> 10);
        *idx = (i - SEG_MAX) & (SEG_MAX - 1);
    }
}

static inline uint64_t *dir_of(const struct shm_arena *a, const struct shm_dict *d)
{
    return SHM_PTR(a, d->dir, uint64_t);
}

uint64_t dict_bucket_off(const struct shm_arena *a, const struct shm_dict *d,
                         uint64_t i)
{
    uint32_t k;
    uint64_t idx;

    locate(i, &k, &idx);
    return dir_of(a, d)[k] + idx * BUCKET_BYTES;
}

static inline uint64_t *bucket(const struct shm_arena *a, const struct shm_dict *d,
                               uint64_t i)
{
    return SHM_PTR(a, dict_bucket_off(a, d, i), uint64_t);
}

uint64_t dict_bucket_index(const struct shm_dict *d, uint64_t h)
{
    uint64_t half = 1ull << d->level, b = h & (half - 1);

    if (b < d->nbuckets - half)
        b = h & ((half << 1) - 1);
    return b;
}

static inline uint64_t *child_of(const struct shm_arena *a, uint64_t s)
{
    return SHM_PTR(a, DICT_SLOT_OFF(s), uint64_t);
}

/* ---- lookups ------------------------------------------------------------ */

int dict_probe_start(const struct shm_arena *a, const struct shm_dict *d,
                     uint64_t hash, struct dict_probe *p)
{
    if (d->nbuckets == 0)
        return 0;
    p->b = bucket(a, d, dict_bucket_index(d, hash));
    p->parent = NULL;
    p->tag = dict_tag(hash);
    p->i = 0;
    return 1;
}

uint64_t dict_probe_next(const struct shm_arena *a, struct dict_probe *p,
                         struct dict_pos *pos)
{
    while (p->i < DICT_SLOTS) {
        int i = p->i++;
        uint64_t s = p->b[i];

        if (i == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
            p->parent = &p->b[i];
            p->b = child_of(a, s);
            p->i = 0;
            continue;
        }
        if (s != 0 && (s & DICT_TAG_MASK) == p->tag) {
            pos->slot = &p->b[i];
            pos->parent = p->parent;
            pos->bucket = shm_off(a, p->b);
            return DICT_SLOT_OFF(s);
        }
    }
    return 0;
}

int dict_find_elem(const struct shm_arena *a, const struct shm_dict *d,
                   uint64_t hash, uint64_t elem, struct dict_pos *pos)
{
    struct dict_probe p;
    uint64_t e;

    if (!dict_probe_start(a, d, hash, &p))
        return 0;
    while ((e = dict_probe_next(a, &p, pos)) != 0)
        if (e == elem)
            return 1;
    return 0;
}

/* ---- chains ---------------------------------------------------------------- */

/* Appends a chain's elements (slot values) to v; returns the new count. */
static size_t collect(const struct shm_arena *a, const uint64_t *b, uint64_t *v,
                      size_t n, size_t cap)
{
    for (;;) {
        int i;
        for (i = 0; i < DICT_SLOTS; i++) {
            uint64_t s = b[i];
            if (i == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
                b = child_of(a, s);
                goto next;
            }
            if (s != 0) {
                BUG_ON(n >= cap);
                v[n++] = s;
            }
        }
        return n;
next:;
    }
}

static size_t chain_len(const struct shm_arena *a, const uint64_t *b)
{
    size_t n = 0;
    for (;;) {
        int i;
        for (i = 0; i < DICT_SLOTS; i++) {
            uint64_t s = b[i];
            if (i == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
                b = child_of(a, s);
                goto next;
            }
            n += s != 0;
        }
        return n;
next:;
    }
}

/* Child buckets a chain of n elements needs. */
static size_t children_for(size_t n)
{
    return n <= DICT_SLOTS ? 0 : (n - DICT_SLOTS + DICT_SLOTS - 2) / (DICT_SLOTS - 1);
}

/* Frees a chain's child buckets (not the head). */
static void free_children(struct shm_arena *a, const uint64_t *b)
{
    uint64_t s = b[DICT_SLOTS - 1];

    while (s & DICT_CHILD) {
        const uint64_t *c = child_of(a, s);
        uint64_t next = c[DICT_SLOTS - 1];
        shm_free(a, DICT_SLOT_OFF(s));
        s = next;
    }
}

/*
 * Lays out n slot values as a chain: the head's 8 slots go into `head`
 * (the caller stores them, logged or not), the rest into the preallocated
 * fresh children, written unlogged.
 */
static void lay_chain(struct shm_arena *a, uint64_t head[DICT_SLOTS],
                      const uint64_t *v, size_t n, const uint64_t *kids)
{
    uint64_t *b = head;
    size_t i = 0, k = 0;

    for (;;) {
        size_t j;
        memset(b, 0, BUCKET_BYTES);
        if (n - i <= DICT_SLOTS) {
            for (j = 0; i < n; j++)
                b[j] = v[i++];
            return;
        }
        for (j = 0; j < DICT_SLOTS - 1; j++)
            b[j] = v[i++];
        b[DICT_SLOTS - 1] = (kids[k] >> 3) | DICT_CHILD;
        b = SHM_PTR(a, kids[k], uint64_t);
        k++;
    }
}

/* Stores 8 slot values into a live bucket, logging only changed slots. */
static void store_bucket(struct shm_arena *a, uint64_t *b, const uint64_t *v)
{
    int i;
    for (i = 0; i < DICT_SLOTS; i++)
        if (b[i] != v[i])
            shm_set64(a, &b[i], v[i]);
}

static int alloc_kids(struct shm_arena *a, uint64_t *kids, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int rc = shm_alloc(a, BUCKET_BYTES, &kids[i]);
        if (rc != EMBER_OK) {
            while (i > 0)
                shm_free(a, kids[--i]);
            return rc;
        }
    }
    return EMBER_OK;
}

/* ---- growth ---------------------------------------------------------------- */

/* Makes sure bucket i has memory: directory slot and segment. */
static int ensure_bucket(struct shm_arena *a, struct shm_dict *d, uint64_t i)
{
    uint32_t k;
    uint64_t idx, seg;
    int rc;

    locate(i, &k, &idx);
    if (k >= d->dirlen) {
        uint32_t len = d->dirlen * 2;
        uint64_t nd;
        while (len <= k)
            len *= 2;
        rc = shm_calloc(a, (size_t)len * 8, &nd);
        if (rc != EMBER_OK)
            return rc;
        memcpy(shm_ptr(a, nd), dir_of(a, d), (size_t)d->dirlen * 8);
        shm_free(a, d->dir);
        shm_set64(a, &d->dir, nd);
        shm_set32(a, &d->dirlen, len);
    }
    if (dir_of(a, d)[k] != 0)
        return EMBER_OK;
    rc = shm_alloc(a, seg_buckets(k) * BUCKET_BYTES, &seg);
    if (rc != EMBER_OK)
        return rc;
    shm_set64(a, &dir_of(a, d)[k], seg);
    return EMBER_OK;
}

static int init_table(struct shm_arena *a, struct shm_dict *d)
{
    uint64_t dir, seg;
    int rc = shm_calloc(a, DIR_MIN * 8, &dir);

    if (rc != EMBER_OK)
        return rc;
    rc = shm_calloc(a, BUCKET_BYTES, &seg);
    if (rc != EMBER_OK) {
        shm_free(a, dir);
        return rc;
    }
    SHM_PTR(a, dir, uint64_t)[0] = seg;
    shm_set64(a, &d->dir, dir);
    shm_set32(a, &d->dirlen, DIR_MIN);
    shm_set32(a, &d->level, 0);
    shm_set64(a, &d->nbuckets, 1);
    return EMBER_OK;
}

/*
 * Writes chain `dst_i` from n slot values into its head bucket and the
 * preallocated fresh children.  A live head is stored slot by slot, logging
 * only what changes; a new head (past nbuckets) is dead memory but inside a
 * live segment block, so it is logged whole: a rollback then restores the
 * arena byte for byte, not merely to an equivalent state.
 */
static void rebuild(struct shm_arena *a, struct shm_dict *d, uint64_t dst_i,
                    const uint64_t *v, size_t n, int live, uint64_t *kids)
{
    uint64_t head[DICT_SLOTS], *b = bucket(a, d, dst_i);

    lay_chain(a, head, v, n, kids);
    if (live)
        store_bucket(a, b, head);
    else
        shm_store(a, b, head, BUCKET_BYTES);
}

/* Splits bucket `split` into itself and bucket nbuckets. */
static int split(struct shm_arena *a, struct shm_dict *d, dict_hash_fn fn,
                 const void *ctx)
{
    uint64_t half = 1ull << d->level, p = d->nbuckets - half, ni = d->nbuckets;
    uint64_t stackv[64], *v = stackv, *lo, *hi, kids_stack[16], *kids = kids_stack;
    uint64_t old_tail;
    size_t n, nlo = 0, nhi = 0, klo, khi, i, cap;
    int rc;

    rc = ensure_bucket(a, d, ni);
    if (rc != EMBER_OK)
        return rc;
    cap = chain_len(a, bucket(a, d, p));
    if (cap * 2 > sizeof(stackv) / 8) {
        v = malloc(cap * 2 * 8);
        if (v == NULL)
            return EMBER_ENOMEM;
    }
    n = collect(a, bucket(a, d, p), v, 0, cap);
    lo = v + cap;   /* the low half goes into the upper part of v */
    hi = v;         /* elements are moved down as they are read */
    for (i = 0; i < n; i++) {
        uint64_t s = v[i];
        if ((fn(a, DICT_SLOT_OFF(s), ctx) >> d->level) & 1)
            hi[nhi++] = s;   /* nhi <= i, so this never clobbers unread v[] */
        else
            lo[nlo++] = s;
    }
    klo = children_for(nlo);
    khi = children_for(nhi);
    if (klo + khi > sizeof(kids_stack) / 8) {
        kids = malloc((klo + khi) * 8);
        if (kids == NULL) {
            rc = EMBER_ENOMEM;
            goto out;
        }
    }
    rc = alloc_kids(a, kids, klo + khi);
    if (rc != EMBER_OK)
        goto out;
    old_tail = bucket(a, d, p)[DICT_SLOTS - 1];
    {
        /* Free the old children after both chains are laid out. */
        uint64_t oldhead[DICT_SLOTS] = {0};
        oldhead[DICT_SLOTS - 1] = old_tail;
        rebuild(a, d, ni, hi, nhi, 0, kids + klo);
        rebuild(a, d, p, lo, nlo, 1, kids);
        free_children(a, oldhead);
    }
    shm_set64(a, &d->nbuckets, ni + 1);
    if (ni + 1 == half * 2)
        shm_set32(a, &d->level, d->level + 1);
out:
    if (kids != kids_stack)
        free(kids);
    if (v != stackv)
        free(v);
    return rc;
}

/* Merges the last bucket into its buddy. */
static int merge(struct shm_arena *a, struct shm_dict *d)
{
    uint32_t level = d->level, k;
    uint64_t half, last = d->nbuckets - 1, buddy, idx;
    uint64_t stackv[64], *v = stackv, kids_stack[16], *kids = kids_stack;
    uint64_t oldhead[DICT_SLOTS] = {0}, oldhead2[DICT_SLOTS] = {0};
    size_t cap, n, nk;
    int rc;

    if (d->nbuckets <= 1)
        return EMBER_OK;
    if (d->nbuckets == (1ull << level))
        level--;
    half = 1ull << level;
    buddy = last - half;
    cap = chain_len(a, bucket(a, d, buddy)) + chain_len(a, bucket(a, d, last));
    if (cap > sizeof(stackv) / 8) {
        v = malloc(cap * 8);
        if (v == NULL)
            return EMBER_ENOMEM;
    }
    n = collect(a, bucket(a, d, buddy), v, 0, cap);
    n = collect(a, bucket(a, d, last), v, n, cap);
    nk = children_for(n);
    if (nk > sizeof(kids_stack) / 8) {
        kids = malloc(nk * 8);
        if (kids == NULL) {
            rc = EMBER_ENOMEM;
            goto out;
        }
    }
    rc = alloc_kids(a, kids, nk);
    if (rc != EMBER_OK)
        goto out;
    oldhead[DICT_SLOTS - 1] = bucket(a, d, buddy)[DICT_SLOTS - 1];
    oldhead2[DICT_SLOTS - 1] = bucket(a, d, last)[DICT_SLOTS - 1];
    rebuild(a, d, buddy, v, n, 1, kids);
    free_children(a, oldhead);
    free_children(a, oldhead2);
    shm_set64(a, &d->nbuckets, last);
    if (level != d->level)
        shm_set32(a, &d->level, level);
    /* Keep one spare segment past the last live one, release the next. */
    locate(last, &k, &idx);
    if (idx == 0 && k + 1 < d->dirlen && dir_of(a, d)[k + 1] != 0) {
        shm_free(a, dir_of(a, d)[k + 1]);
        shm_set64(a, &dir_of(a, d)[k + 1], 0);
    }
out:
    if (kids != kids_stack)
        free(kids);
    if (v != stackv)
        free(v);
    return rc;
}

int dict_add(struct shm_arena *a, struct shm_dict *d, uint64_t hash,
             uint64_t elem, dict_hash_fn fn, const void *ctx)
{
    uint64_t val = dict_tag(hash) | (elem >> 3), *b;
    int rc, i;

    ASSERT((elem & 7) == 0 && elem != 0);
    if (d->nbuckets == 0) {
        rc = init_table(a, d);
        if (rc != EMBER_OK)
            return rc;
    }
    b = bucket(a, d, dict_bucket_index(d, hash));
    for (;;) {
        for (i = 0; i < DICT_SLOTS; i++) {
            uint64_t s = b[i];
            if (i == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
                b = child_of(a, s);
                goto next;
            }
            if (s == 0) {
                shm_set64(a, &b[i], val);
                goto added;
            }
        }
        break;
next:;
    }
    {
        /* Chain full: a fresh child takes over the last slot's element. */
        uint64_t c, *cb;
        rc = shm_alloc(a, BUCKET_BYTES, &c);
        if (rc != EMBER_OK)
            return rc;
        cb = SHM_PTR(a, c, uint64_t);
        memset(cb, 0, BUCKET_BYTES);
        cb[0] = b[DICT_SLOTS - 1];
        cb[1] = val;
        shm_set64(a, &b[DICT_SLOTS - 1], (c >> 3) | DICT_CHILD);
    }
added:
    shm_set64(a, &d->count, d->count + 1);
    /* Growing is best effort: a failed split leaves a fuller table. */
    if (d->count > DICT_LOAD_HI * d->nbuckets)
        (void)split(a, d, fn, ctx);
    return EMBER_OK;
}

void dict_replace(struct shm_arena *a, const struct dict_pos *pos, uint64_t elem)
{
    ASSERT((elem & 7) == 0 && elem != 0);
    shm_set64(a, pos->slot, (*pos->slot & DICT_TAG_MASK) | (elem >> 3));
}

int dict_delete(struct shm_arena *a, struct shm_dict *d, const struct dict_pos *pos,
                dict_hash_fn fn, const void *ctx)
{
    (void)fn;
    (void)ctx;
    shm_set64(a, pos->slot, 0);
    if (pos->parent != NULL) {
        const uint64_t *c = SHM_PTR(a, pos->bucket, uint64_t);
        int i, empty = 1;
        for (i = 0; i < DICT_SLOTS; i++)
            if (c[i] != 0)
                empty = 0;
        if (empty) {
            shm_set64(a, pos->parent, 0);
            shm_free(a, pos->bucket);
        }
    }
    shm_set64(a, &d->count, d->count - 1);
    if (d->count == 0) {
        dict_free(a, d);
        return EMBER_OK;
    }
    /* Shrinking is best effort too. */
    if (d->count < DICT_LOAD_LO * d->nbuckets && d->nbuckets > 1)
        (void)merge(a, d);
    return EMBER_OK;
}

/* ---- iteration -------------------------------------------------------------- */

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    return __builtin_bswap64(v);
}

static void emit_chain(const struct shm_arena *a, const uint64_t *b,
                       dict_scan_fn fn, void *ctx)
{
    for (;;) {
        int i;
        for (i = 0; i < DICT_SLOTS; i++) {
            uint64_t s = b[i];
            if (i == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
                b = child_of(a, s);
                goto next;
            }
            if (s != 0)
                fn(a, DICT_SLOT_OFF(s), ctx);
        }
        return;
next:;
    }
}

uint64_t dict_scan(const struct shm_arena *a, const struct shm_dict *d,
                   uint64_t cursor, dict_scan_fn fn, void *ctx)
{
    uint64_t half, m;

    if (d->nbuckets == 0)
        return 0;
    half = 1ull << d->level;
    /* The finest granularity in use: level+1 bits once a split happened. */
    m = d->nbuckets > half ? (half << 1) - 1 : half - 1;
    emit_chain(a, bucket(a, d, dict_bucket_index(d, cursor)), fn, ctx);
    cursor |= ~m;
    cursor = rev64(cursor);
    cursor++;
    return rev64(cursor);
}

/* splitmix64: the next random number from the last. */
static uint64_t mix(uint64_t r)
{
    r += 0x9e3779b97f4a7c15ull;
    r = (r ^ (r >> 30)) * 0xbf58476d1ce4e5b9ull;
    r = (r ^ (r >> 27)) * 0x94d049bb133111ebull;
    return r ^ (r >> 31);
}

/*
 * Picks a bucket at random and accepts it with probability (chain length /
 * 8), so that every element of a chain of up to 8 is equally likely,
 * instead of favouring elements alone in their bucket as picking a bucket
 * then an element would.  About two bucket reads per call at our loads.
 */
struct exact_ctx {
    dict_hash_fn hfn;
    const void *hctx;
    uint64_t mask, val;
    dict_scan_fn fn;
    void *ctx;
};

static void exact_one(const struct shm_arena *a, uint64_t elem, void *arg)
{
    struct exact_ctx *e = arg;

    if ((e->hfn(a, elem, e->hctx) & e->mask) == e->val)
        e->fn(a, elem, e->ctx);
}

uint64_t dict_scan_exact(const struct shm_arena *a, const struct shm_dict *d,
                         uint64_t cursor, dict_hash_fn hfn, const void *hctx,
                         dict_scan_fn fn, void *ctx)
{
    uint64_t half = 1ull << d->level, fine;
    struct exact_ctx e;

    if (d->nbuckets == 0 || d->nbuckets <= half)
        return dict_scan(a, d, cursor, fn, ctx);    /* one granularity */
    fine = cursor & ((half << 1) - 1);
    if ((fine & (half - 1)) < d->nbuckets - half)
        return dict_scan(a, d, cursor, fn, ctx);    /* a split bucket: one cursor */
    e.hfn = hfn;
    e.hctx = hctx;
    e.mask = (half << 1) - 1;
    e.val = fine;
    e.fn = fn;
    e.ctx = ctx;
    return dict_scan(a, d, cursor, exact_one, &e);
}

uint64_t dict_random(const struct shm_arena *a, const struct shm_dict *d,
                     uint64_t rnd)
{
    int tries;

    if (d->count == 0)
        return 0;
    for (tries = 0; tries < 200; tries++, rnd = mix(rnd)) {
        const uint64_t *b = bucket(a, d, rnd % d->nbuckets);
        uint64_t v[64];
        size_t n = chain_len(a, b);
        if (n == 0 || n > 64 || (n < DICT_SLOTS && (rnd >> 40) % DICT_SLOTS >= n))
            continue;
        collect(a, b, v, 0, 64);
        return DICT_SLOT_OFF(v[(rnd >> 20) % n]);
    }
    /* Very sparse: take the first element from a random starting bucket. */
    {
        uint64_t i, start = rnd % d->nbuckets;
        for (i = 0; i < d->nbuckets; i++) {
            const uint64_t *b = bucket(a, d, (start + i) % d->nbuckets);
            uint64_t v[1];
            if (chain_len(a, b) > 0) {
                collect(a, b, v, 0, 1);
                return DICT_SLOT_OFF(v[0]);
            }
        }
    }
    return 0;
}

int dict_each(const struct shm_arena *a, const struct shm_dict *d,
              dict_each_fn fn, void *ctx)
{
    uint64_t i;

    for (i = 0; i < d->nbuckets; i++) {
        const uint64_t *b = bucket(a, d, i);
        for (;;) {
            int j, rc;
            for (j = 0; j < DICT_SLOTS; j++) {
                uint64_t s = b[j];
                if (j == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
                    b = child_of(a, s);
                    goto next;
                }
                if (s != 0 && (rc = fn(a, DICT_SLOT_OFF(s), &b[j], ctx)) != 0)
                    return rc;
            }
            break;
next:;
        }
    }
    return 0;
}

void dict_iter_init(const struct shm_dict *d, struct dict_iter *it)
{
    it->d = d;
    it->bucket = 0;
    it->b = NULL;
    it->slot = 0;
}

uint64_t dict_iter_next(const struct shm_arena *a, struct dict_iter *it)
{
    for (;;) {
        if (it->b == NULL) {
            if (it->bucket >= it->d->nbuckets)
                return 0;
            it->b = bucket(a, it->d, it->bucket++);
            it->slot = 0;
        }
        while (it->slot < DICT_SLOTS) {
            int i = it->slot++;
            uint64_t s = it->b[i];
            if (i == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
                it->b = child_of(a, s);
                it->slot = 0;
                break;
            }
            if (s != 0)
                return DICT_SLOT_OFF(s);
        }
        if (it->slot >= DICT_SLOTS)
            it->b = NULL;
    }
}

uint64_t dict_drain_step(struct shm_arena *a, struct shm_dict *d,
                         void (*free_elem)(struct shm_arena *a, uint64_t elem),
                         uint64_t budget)
{
    uint64_t done = 0;

    while (d->nbuckets > 0 && done < budget) {
        uint64_t *head = bucket(a, d, d->nbuckets - 1), *b = head;
        for (;;) {
            uint64_t next = 0;
            int i;
            for (i = 0; i < DICT_SLOTS; i++) {
                uint64_t s = b[i];
                if (i == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
                    next = DICT_SLOT_OFF(s);
                    break;
                }
                if (s != 0) {
                    if (free_elem)
                        free_elem(a, DICT_SLOT_OFF(s));
                    done++;
                }
            }
            if (b != head)
                shm_free(a, shm_off(a, b));
            if (next == 0)
                break;
            b = SHM_PTR(a, next, uint64_t);
        }
        shm_set64(a, &d->nbuckets, d->nbuckets - 1);
        done++;
    }
    if (d->nbuckets == 0 && d->dir != 0 && done < budget) {
        shm_set64(a, &d->count, 0);
        dict_free(a, d);
        done++;
    }
    return done;
}

void dict_free(struct shm_arena *a, struct shm_dict *d)
{
    uint64_t i;
    uint32_t k;

    if (d->dir == 0)
        return;
    for (i = 0; i < d->nbuckets; i++)
        free_children(a, bucket(a, d, i));
    for (k = 0; k < d->dirlen; k++)
        if (dir_of(a, d)[k] != 0)
            shm_free(a, dir_of(a, d)[k]);
    shm_free(a, d->dir);
    shm_set64(a, &d->dir, 0);
    shm_set32(a, &d->dirlen, 0);
    shm_set32(a, &d->level, 0);
    shm_set64(a, &d->nbuckets, 0);
    if (d->count != 0)
        shm_set64(a, &d->count, 0);
}

int dict_blocks(const struct shm_arena *a, const struct shm_dict *d,
                dict_block_fn fn, void *ctx)
{
    uint64_t i;
    uint32_t k;
    int rc;

    if (d->dir == 0)
        return 0;
    if ((rc = fn(a, d->dir, DICT_BLOCK_DIR, ctx)) != 0)
        return rc;
    for (k = 0; k < d->dirlen; k++)
        if (dir_of(a, d)[k] != 0 && (rc = fn(a, dir_of(a, d)[k], DICT_BLOCK_SEG, ctx)) != 0)
            return rc;
    for (i = 0; i < d->nbuckets; i++) {
        uint64_t s = bucket(a, d, i)[DICT_SLOTS - 1];
        while (s & DICT_CHILD) {
            if ((rc = fn(a, DICT_SLOT_OFF(s), DICT_BLOCK_CHILD, ctx)) != 0)
                return rc;
            s = child_of(a, s)[DICT_SLOTS - 1];
        }
    }
    return 0;
}

static int add_usable(const struct shm_arena *a, uint64_t block, int kind, void *ctx)
{
    (void)kind;
    *(uint64_t *)ctx += shm_usable(a, block);
    return 0;
}

uint64_t dict_mem(const struct shm_arena *a, const struct shm_dict *d)
{
    uint64_t total = 0;
    dict_blocks(a, d, add_usable, &total);
    return total;
}

/*
 * Validates a dict's shape: level against nbuckets, directory and the
 * segments every live bucket needs, child links only in slot 7, and (when
 * `exact`) that count equals the elements found.  Elements themselves are
 * the caller's to check.  Returns 0, or -1 with a message in err.
 */
int dict_validate(const struct shm_arena *a, const struct shm_dict *d, int exact,
                  char *err, size_t errlen)
{
    uint64_t i, n = 0, kids = 0, limit;
    uint32_t k;

    if (d->nbuckets == 0) {
        /* A dead table being freed may keep its directory a while. */
        if (exact && (d->dir != 0 || d->dirlen != 0 || d->level != 0 || d->count != 0)) {
            snprintf(err, errlen, "empty dict with dir %llu dirlen %u level %u count %llu",
                     (unsigned long long)d->dir, d->dirlen, d->level,
                     (unsigned long long)d->count);
            return -1;
        }
        return 0;
    }
    if (d->level > 40 || (exact && ((1ull << d->level) > d->nbuckets ||
                                    d->nbuckets >= (2ull << d->level)))) {
        snprintf(err, errlen, "dict level %u does not fit %llu buckets", d->level,
                 (unsigned long long)d->nbuckets);
        return -1;
    }
    locate(d->nbuckets - 1, &k, &i);
    if (d->dir == 0 || d->dirlen <= k || (uint64_t)d->dirlen * 8 > shm_usable(a, d->dir)) {
        snprintf(err, errlen, "dict directory %llu of %u slots cannot hold %llu buckets",
                 (unsigned long long)d->dir, d->dirlen, (unsigned long long)d->nbuckets);
        return -1;
    }
    for (k = 0; k < d->dirlen; k++) {
        uint64_t s = dir_of(a, d)[k];
        if (seg_first(k) < d->nbuckets && s == 0) {
            snprintf(err, errlen, "dict segment %u missing", k);
            return -1;
        }
        if (s != 0 && shm_usable(a, s) < seg_buckets(k) * BUCKET_BYTES) {
            snprintf(err, errlen, "dict segment %u too small", k);
            return -1;
        }
    }
    /* Every element costs at least 1/8 of a child bucket; cap the walk. */
    limit = d->count + d->nbuckets * DICT_SLOTS + 64;
    for (i = 0; i < d->nbuckets; i++) {
        const uint64_t *b = bucket(a, d, i);
        for (;;) {
            int j;
            for (j = 0; j < DICT_SLOTS; j++) {
                uint64_t s = b[j];
                if ((s & DICT_CHILD) && j != DICT_SLOTS - 1) {
                    snprintf(err, errlen, "child link in slot %d of bucket %llu", j,
                             (unsigned long long)i);
                    return -1;
                }
                if (j == DICT_SLOTS - 1 && (s & DICT_CHILD)) {
                    uint64_t c = DICT_SLOT_OFF(s);
                    /* Only a range check: check.c proves it is a block. */
                    if (c < SHM_SEG_SIZE || c + BUCKET_BYTES > a->hdr->heap_top ||
                        ++kids > limit) {
                        snprintf(err, errlen, "bad child bucket %llu in chain %llu",
                                 (unsigned long long)c, (unsigned long long)i);
                        return -1;
                    }
                    b = child_of(a, s);
                    goto next;
                }
                n += s != 0;
            }
            break;
next:;
        }
    }
    if (exact && n != d->count) {
        snprintf(err, errlen, "dict count %llu but %llu elements",
                 (unsigned long long)d->count, (unsigned long long)n);
        return -1;
    }
    return 0;
}
