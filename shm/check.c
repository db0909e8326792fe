/*
 * check.c - the arena consistency check (see check.h).
 *
 * Three passes.  The heap walk goes segment by segment and run by run,
 * validating the page map, slab headers and sizes, and numbers every block
 * slot so that a bitmap can mark blocks.  The list pass walks the free-run
 * bins, the slab partial lists and the free segment list and proves each
 * holds exactly the runs the heap walk found.  The reference pass starts
 * from the header, marks every block reachable from it (failing if one is
 * reached twice or is not an allocated block) and checks the keyspace on
 * the way; a final walk then fails on any allocated block left unmarked.
 *
 * Nothing here trusts the arena: every offset is range-checked before it
 * is followed, and list walks are bounded by what the heap walk counted.
 */
#include "check.h"
#include "alloc.h"
#include "dict.h"
#include "ks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* What the heap walk found at a run's first page (ck.kind[]). */
enum {
    K_NONE = 0, K_FREE, K_SLAB_PARTIAL, K_SLAB_FULL, K_LARGE, K_HUGE,
    K_SEGFREE, K_HEAPSEG,
};
#define K_VISITED 0x80

struct ck {
    struct shm_arena *a;
    struct shm_check_report *r;
    uint64_t npages;        /* pages below heap_top */
    uint8_t *kind;          /* per page */
    uint64_t *base;         /* per page: number of the run's first block */
    uint8_t *marks;         /* per block number */
    uint64_t nslots;        /* block numbers handed out */
    uint64_t partial_slabs;
};

static int fail(struct ck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ck *c, const char *fmt, ...)
{
    va_list ap;

    if (c->r->errors++ == 0) {
        va_start(ap, fmt);
        vsnprintf(c->r->first_error, sizeof(c->r->first_error), fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int mark(struct ck *c, uint64_t off, const char *what);

static inline uint64_t *pmap(struct ck *c, uint64_t seg)
{
    return SHM_PTR(c->a, seg, uint64_t);
}

static inline uint64_t pg(uint64_t off) { return off >> SHM_PAGE_SHIFT; }

static unsigned bin_of(unsigned npages)
{
    unsigned b;
    if (npages <= 48)
        return npages - 1;
    b = 48 + (npages - 49) / 30;
    return b > SHM_NBINS - 1 ? SHM_NBINS - 1 : b;
}

/* ---- pass 1: the heap ------------------------------------------------- */

static int walk_slab(struct ck *c, uint64_t seg, unsigned p, uint64_t e)
{
    struct shm_arena *a = c->a;
    unsigned cls = SHM_PM_CLASS(e), n = SHM_PM_NPAGES(e), i, w, words, nb, used = 0;
    uint64_t s = seg + ((uint64_t)p << SHM_PAGE_SHIFT);
    const struct shm_slab *sl = SHM_PTR(a, s, const struct shm_slab);
    uint32_t summary = 0;

    if (cls >= shm_nclasses() || n != shm_class_pages(cls))
        return fail(c, "slab at %llu: class %u with %u pages", (unsigned long long)s, cls, n);
    for (i = p; i < p + n; i++)
        if (pmap(c, seg)[i] != SHM_PM_MAKE(SHM_PM_SLAB, n, p, cls))
            return fail(c, "slab at %llu: page %u's map entry disagrees",
                        (unsigned long long)s, i);
    nb = shm_class_blocks(cls);
    words = (nb + 63) / 64;
    if (sl->cls != cls || sl->nfree > nb)
        return fail(c, "slab at %llu: header class %u nfree %u", (unsigned long long)s,
                    sl->cls, sl->nfree);
    for (w = 0; w < words; w++) {
        uint64_t word = sl->bitmap[w];
        if (w == words - 1 && nb % 64 && (word >> (nb % 64)) != (~0ull >> (nb % 64)))
            return fail(c, "slab at %llu: bits past the last block are clear",
                        (unsigned long long)s);
        used += (unsigned)__builtin_popcountll(word);
        if (word != ~0ull)
            summary |= 1u << w;
    }
    if (nb % 64)
        used -= 64 - nb % 64;
    if (used != nb - sl->nfree)
        return fail(c, "slab at %llu: bitmap has %u blocks, header says %u",
                    (unsigned long long)s, used, nb - sl->nfree);
    if (summary != sl->summary)
        return fail(c, "slab at %llu: summary %x, bitmap says %x", (unsigned long long)s,
                    sl->summary, summary);
    c->kind[pg(s)] = sl->nfree > 0 ? K_SLAB_PARTIAL : K_SLAB_FULL;
    c->partial_slabs += sl->nfree > 0;
    c->base[pg(s)] = c->nslots;
    c->nslots += nb;
    c->r->slabs++;
    c->r->blocks += used;
    c->r->used += (uint64_t)used * shm_class_size(cls);
    return 0;
}

static int walk_heap_seg(struct ck *c, uint64_t seg)
{
    uint64_t *pm = pmap(c, seg);
    unsigned p = 1, prev = SHM_PM_NONE;

    c->kind[pg(seg)] = K_HEAPSEG;
    c->r->heap_segs++;
    while (p < SHM_SEG_PAGES) {
        uint64_t e = pm[p], t;
        unsigned n = SHM_PM_NPAGES(e), k = SHM_PM_KIND(e);
        if (n == 0 || SHM_PM_FIRST(e) != p || p + n > SHM_SEG_PAGES)
            return fail(c, "segment %llu page %u: bad run entry %llx",
                        (unsigned long long)seg, p, (unsigned long long)e);
        t = pm[p + n - 1];
        if (SHM_PM_KIND(t) != k || SHM_PM_NPAGES(t) != n || SHM_PM_FIRST(t) != p)
            return fail(c, "segment %llu run at page %u: last page entry %llx disagrees",
                        (unsigned long long)seg, p, (unsigned long long)t);
        switch (k) {
        case SHM_PM_FREE:
            if (prev == SHM_PM_FREE)
                return fail(c, "segment %llu page %u: adjacent free runs not merged",
                            (unsigned long long)seg, p);
            c->kind[pg(seg) + p] = K_FREE;
            c->r->free_runs++;
            c->r->free_pages += n;
            break;
        case SHM_PM_SLAB:
            if (walk_slab(c, seg, p, e) != 0)
                return -1;
            break;
        case SHM_PM_LARGE:
            c->kind[pg(seg) + p] = K_LARGE;
            c->base[pg(seg) + p] = c->nslots++;
            c->r->large_blocks++;
            c->r->blocks++;
            c->r->used += (uint64_t)n * SHM_PAGE_SIZE;
            break;
        default:
            return fail(c, "segment %llu page %u: unknown run kind %u",
                        (unsigned long long)seg, p, k);
        }
        prev = k;
        p += n;
    }
    return 0;
}

static int walk_heap(struct ck *c)
{
    struct shm_arena *a = c->a;
    uint64_t top = a->hdr->heap_top, seg = SHM_SEG_SIZE;

    while (seg < top) {
        uint64_t e0 = pmap(c, seg)[0], n;
        switch (SHM_PM_KIND(e0)) {
        case SHM_PM_SEGHEAP:
            if (walk_heap_seg(c, seg) != 0)
                return -1;
            seg += SHM_SEG_SIZE;
            break;
        case SHM_PM_SEGHUGE:
            n = SHM_PM_NSEGS(e0);
            if (n == 0 || n > (top - seg) / SHM_SEG_SIZE)
                return fail(c, "huge block at %llu: %llu segments past the heap top",
                            (unsigned long long)seg, (unsigned long long)n);
            c->kind[pg(seg) + 1] = K_HUGE;
            c->base[pg(seg) + 1] = c->nslots++;
            c->r->huge_blocks++;
            c->r->blocks++;
            c->r->used += n * SHM_SEG_SIZE - SHM_PAGE_SIZE;
            seg += n * SHM_SEG_SIZE;
            break;
        case SHM_PM_SEGFREE:
            n = SHM_PTR(a, seg + 8, struct shm_freerun)->len;
            if (n == 0 || n != SHM_PM_NSEGS(e0) || n > (top - seg) / SHM_SEG_SIZE)
                return fail(c, "free segment run at %llu: bad length %llu",
                            (unsigned long long)seg, (unsigned long long)n);
            c->kind[pg(seg)] = K_SEGFREE;
            c->r->free_segs += n;
            seg += n * SHM_SEG_SIZE;
            break;
        default:
            return fail(c, "segment at %llu has no valid page map (entry %llx)",
                        (unsigned long long)seg, (unsigned long long)e0);
        }
    }
    if (seg != top)
        return fail(c, "segments overrun the heap top");
    if (c->r->used != a->hdr->used_bytes)
        return fail(c, "used bytes %llu but the heap holds %llu",
                    (unsigned long long)a->hdr->used_bytes, (unsigned long long)c->r->used);
    if (c->r->blocks != a->hdr->nblocks)
        return fail(c, "block count %llu but the heap holds %llu",
                    (unsigned long long)a->hdr->nblocks, (unsigned long long)c->r->blocks);
    return 0;
}

/* ---- pass 2: lists ------------------------------------------------------------ */

static int in_heap(struct ck *c, uint64_t off, uint64_t len)
{
    return off >= SHM_SEG_SIZE && off <= c->a->hdr->heap_top &&
           len <= c->a->hdr->heap_top - off;
}

static int walk_lists(struct ck *c)
{
    struct shm_arena *a = c->a;
    struct shm_header *h = a->hdr;
    uint64_t seen = 0, prev, r, prev_end;
    unsigned b, cls;

    for (b = 0; b < SHM_NBINS; b++) {
        if (((h->bins_nonempty >> b) & 1) != (h->bins[b] != 0))
            return fail(c, "bin %u: non-empty bit disagrees", b);
        for (prev = 0, r = h->bins[b]; r != 0; prev = r, r = SHM_PTR(a, r, struct shm_freerun)->next) {
            const struct shm_freerun *fr;
            uint64_t e;
            if (!in_heap(c, r, SHM_PAGE_SIZE) || (r & (SHM_PAGE_SIZE - 1)) ||
                c->kind[pg(r)] != K_FREE)
                return fail(c, "bin %u: %llu is not a free run", b, (unsigned long long)r);
            fr = SHM_PTR(a, r, const struct shm_freerun);
            e = SHM_PTR(a, r & ~(uint64_t)(SHM_SEG_SIZE - 1), uint64_t)[(r & (SHM_SEG_SIZE - 1)) >> SHM_PAGE_SHIFT];
            if (fr->len != SHM_PM_NPAGES(e) || bin_of((unsigned)fr->len) != b || fr->prev != prev)
                return fail(c, "bin %u: run %llu has length %llu / prev %llu", b,
                            (unsigned long long)r, (unsigned long long)fr->len,
                            (unsigned long long)fr->prev);
            c->kind[pg(r)] |= K_VISITED;
            seen++;
        }
    }
    if (seen != c->r->free_runs)
        return fail(c, "bins hold %llu runs, the heap has %llu free runs",
                    (unsigned long long)seen, (unsigned long long)c->r->free_runs);

    seen = 0;
    for (cls = 0; cls < SHM_NCLASSES; cls++) {
        if (cls >= shm_nclasses()) {
            if (h->partial[cls] != 0)
                return fail(c, "partial list of unused class %u", cls);
            continue;
        }
        for (prev = 0, r = h->partial[cls]; r != 0; prev = r, r = SHM_PTR(a, r, struct shm_slab)->next) {
            const struct shm_slab *sl;
            if (!in_heap(c, r, SHM_PAGE_SIZE) || (r & (SHM_PAGE_SIZE - 1)) ||
                c->kind[pg(r)] != K_SLAB_PARTIAL)
                return fail(c, "partial list %u: %llu is not a partial slab", cls,
                            (unsigned long long)r);
            sl = SHM_PTR(a, r, const struct shm_slab);
            if (sl->cls != cls || sl->prev != prev)
                return fail(c, "partial list %u: slab %llu class %u prev %llu", cls,
                            (unsigned long long)r, sl->cls, (unsigned long long)sl->prev);
            c->kind[pg(r)] |= K_VISITED;
            seen++;
        }
    }
    if (seen != c->partial_slabs)
        return fail(c, "partial lists hold %llu slabs, the heap has %llu",
                    (unsigned long long)seen, (unsigned long long)c->partial_slabs);

    seen = 0;
    prev_end = 0;
    for (prev = 0, r = h->free_segs; r != 0; prev = r, r = SHM_PTR(a, r + 8, struct shm_freerun)->next) {
        const struct shm_freerun *fr;
        if (!in_heap(c, r, SHM_SEG_SIZE) || (r & (SHM_SEG_SIZE - 1)) ||
            c->kind[pg(r)] != K_SEGFREE)
            return fail(c, "free segment list: %llu is not a free segment run",
                        (unsigned long long)r);
        fr = SHM_PTR(a, r + 8, const struct shm_freerun);
        if (fr->prev != prev || r <= prev_end)
            return fail(c, "free segment list unsorted or not merged at %llu",
                        (unsigned long long)r);
        prev_end = r + fr->len * SHM_SEG_SIZE;
        c->kind[pg(r)] |= K_VISITED;
        seen += fr->len;
    }
    if (seen != c->r->free_segs)
        return fail(c, "free segment list holds %llu segments, the heap has %llu",
                    (unsigned long long)seen, (unsigned long long)c->r->free_segs);
    return 0;
}

/* ---- the interface for collection types (ks.h) --------------------------------- */

int shm_check_mark(struct shm_check_ctx *cc, uint64_t off, const char *what)
{
    return mark((struct ck *)cc, off, what);
}

int shm_check_fail(struct shm_check_ctx *cc, const char *fmt, ...)
{
    struct ck *c = (struct ck *)cc;
    va_list ap;

    if (c->r->errors++ == 0) {
        va_start(ap, fmt);
        vsnprintf(c->r->first_error, sizeof(c->r->first_error), fmt, ap);
        va_end(ap);
    }
    return -1;
}

const struct shm_arena *shm_check_arena(const struct shm_check_ctx *cc)
{
    return ((const struct ck *)cc)->a;
}

/* ---- pass 3: references ------------------------------------------------------- */

/* The block number of an allocated block starting at off, or -1. */
static int64_t block_no(struct ck *c, uint64_t off)
{
    struct shm_arena *a = c->a;
    uint64_t seg = off & ~(uint64_t)(SHM_SEG_SIZE - 1), e;
    unsigned p = (unsigned)((off & (SHM_SEG_SIZE - 1)) >> SHM_PAGE_SHIFT);

    if (!in_heap(c, off, 8) || (off & 7) || p == 0)
        return -1;
    if ((c->kind[pg(seg) + 1] & ~K_VISITED) == K_HUGE && p == 1 &&
        SHM_PM_KIND(pmap(c, seg)[0]) == SHM_PM_SEGHUGE)
        return (off & (SHM_PAGE_SIZE - 1)) ? -1 : (int64_t)c->base[pg(off)];
    if ((c->kind[pg(seg)] & ~K_VISITED) != K_HEAPSEG)
        return -1;
    e = pmap(c, seg)[p];
    if (SHM_PM_KIND(e) == SHM_PM_SLAB) {
        unsigned first = SHM_PM_FIRST(e), cls = SHM_PM_CLASS(e), i;
        uint64_t s = seg + ((uint64_t)first << SHM_PAGE_SHIFT), rel;
        uint8_t k = c->kind[pg(s)] & ~K_VISITED;
        if ((k != K_SLAB_PARTIAL && k != K_SLAB_FULL) || cls >= shm_nclasses() ||
            off < s + shm_class_start(cls))
            return -1;
        rel = off - s - shm_class_start(cls);
        if (rel % shm_class_size(cls) || rel / shm_class_size(cls) >= shm_class_blocks(cls))
            return -1;
        i = (unsigned)(rel / shm_class_size(cls));
        if (!((SHM_PTR(a, s, struct shm_slab)->bitmap[i / 64] >> (i % 64)) & 1))
            return -1;
        return (int64_t)(c->base[pg(s)] + i);
    }
    if ((c->kind[pg(off)] & ~K_VISITED) == K_LARGE && !(off & (SHM_PAGE_SIZE - 1)))
        return (int64_t)c->base[pg(off)];
    return -1;
}

static int mark(struct ck *c, uint64_t off, const char *what)
{
    int64_t n = block_no(c, off);

    if (n < 0)
        return fail(c, "%s at %llu is not an allocated block", what, (unsigned long long)off);
    if (c->marks[n / 8] & (1u << (n % 8)))
        return fail(c, "%s at %llu is referenced twice", what, (unsigned long long)off);
    c->marks[n / 8] |= (uint8_t)(1u << (n % 8));
    return 0;
}

struct dctx {
    struct ck *c;
    unsigned db;
    const struct shm_db *d;
    int which;             /* 0 keys, 1 expires, 2 garbage keys */
    uint64_t flagged;      /* keys entries with an expiry */
};

static int mark_dict_block(const struct shm_arena *a, uint64_t block, int kind, void *ctx)
{
    (void)a;
    return mark(ctx, block, kind == DICT_BLOCK_DIR ? "dict directory" :
                kind == DICT_BLOCK_SEG ? "dict segment" : "dict child bucket");
}

/* Checks one element of a keyspace dict. */
static int check_elem(const struct shm_arena *a, uint64_t off, const uint64_t *slot, void *ctx)
{
    struct dctx *x = ctx;
    struct ck *c = x->c;
    const struct shm_dict *dict = x->which == 1 ? &x->d->expires : &x->d->keys;
    struct ks_entry e;
    struct dict_probe p;
    struct dict_pos pos;
    uint64_t h, o;
    int found = 0;
    size_t usable;

    (void)slot;
    if (x->which != 1 && mark(c, off, "keyspace entry") != 0)
        return -1;
    if (x->which == 1 && block_no(c, off) < 0)
        return fail(c, "db %u expires: %llu is not an entry", x->db, (unsigned long long)off);
    usable = shm_usable(a, off);
    if (usable < 3)
        return fail(c, "entry %llu: block too small", (unsigned long long)off);
    ks_decode(a, off, &e);
    if (e.type > KS_T_MAX || (uint64_t)e.hdrlen + e.klen + e.vlen > usable)
        return fail(c, "db %u: entry %llu (type %u, key %u bytes, value %llu bytes) "
                    "overruns its %zu-byte block", x->db, (unsigned long long)off, e.type,
                    e.klen, (unsigned long long)e.vlen, usable);
    if (e.type == KS_T_STRING && e.enc)
        return fail(c, "db %u: string entry %llu with an encoding flag", x->db,
                    (unsigned long long)off);
    if (e.type != KS_T_STRING && x->which != 1) {
        /* The value's own structure: the type checks and marks it. */
        if (ks_types[e.type] == NULL)
            return fail(c, "db %u: entry %llu of unsupported type %u", x->db,
                        (unsigned long long)off, e.type);
        if (ks_types[e.type]->check((struct shm_check_ctx *)c, e.type, &e) != 0)
            return -1;
    }
    if (x->which == 2)
        return 0;   /* garbage: only blocks and shape matter */
    h = ks_hash(a, e.key, e.klen);
    /* One pass over its chain proves the bucket and tag, and finds dupes. */
    if (dict_probe_start(a, dict, h, &p)) {
        while ((o = dict_probe_next(a, &p, &pos)) != 0) {
            struct ks_entry f;
            if (o == off) {
                found++;
                continue;
            }
            if (x->which == 0) {
                ks_decode(a, o, &f);
                if (f.klen == e.klen && memcmp(f.key, e.key, e.klen) == 0)
                    return fail(c, "db %u: key at %llu and %llu are equal", x->db,
                                (unsigned long long)off, (unsigned long long)o);
            }
        }
    }
    if (found != 1)
        return fail(c, "db %u: entry %llu is not where its hash leads (found %d times)",
                    x->db, (unsigned long long)off, found);
    if (x->which == 0) {
        c->r->keys++;
        if (e.has_expire) {
            x->flagged++;
            if (!dict_find_elem(a, &x->d->expires, h, off, &pos))
                return fail(c, "db %u: entry %llu has an expiry but is not in expires",
                            x->db, (unsigned long long)off);
        }
    } else {
        c->r->expires++;
        if (!e.has_expire)
            return fail(c, "db %u: expires holds %llu, which has no expiry", x->db,
                        (unsigned long long)off);
    }
    return 0;
}

static int check_dict(struct ck *c, const struct shm_dict *d, struct dctx *x, int exact)
{
    char err[200];

    if (dict_validate(c->a, d, exact, err, sizeof(err)) != 0)
        return fail(c, "db %u %s: %s", x->db, x->which == 1 ? "expires" : "keys", err);
    if (dict_blocks(c->a, d, mark_dict_block, c) != 0)
        return -1;
    return dict_each(c->a, d, check_elem, x) != 0 ? -1 : 0;
}

static int walk_refs(struct ck *c)
{
    struct shm_arena *a = c->a;
    struct shm_header *h = a->hdr;
    uint64_t g, n = 0;
    unsigned db;

    if (h->dbcount == 0 || h->dbcount > 1u << 16)
        return fail(c, "database count %u", h->dbcount);
    if (mark(c, h->dbs, "database array") != 0)
        return -1;
    if (shm_usable(a, h->dbs) < (size_t)h->dbcount * sizeof(struct shm_db))
        return fail(c, "database array too small");
    /* Overflow undo chunks of a mutation that committed just before a
     * crash are allocated until the next attach frees them. */
    for (g = SHM_PTR(a, SHM_UNDO_INLINE, struct shm_undo_chunk)->next; g != 0;
         g = SHM_PTR(a, g, struct shm_undo_chunk)->next) {
        if (++n > 1000 || mark(c, g, "undo chunk") != 0)
            return n > 1000 ? fail(c, "undo chunk list loops") : -1;
    }
    n = 0;
    for (db = 0; db < h->dbcount; db++) {
        struct dctx x = { c, db, ks_db(a, db), 0, 0 };
        if (check_dict(c, &x.d->keys, &x, 1) != 0)
            return -1;
        x.which = 1;
        if (check_dict(c, &x.d->expires, &x, 1) != 0)
            return -1;
        if (x.flagged != x.d->expires.count)
            return fail(c, "db %u: %llu entries have an expiry, expires holds %llu", db,
                        (unsigned long long)x.flagged,
                        (unsigned long long)x.d->expires.count);
    }
    for (g = h->garbage; g != 0; g = SHM_PTR(a, g, struct ks_garbage)->next) {
        const struct ks_garbage *node;
        char err[200];
        if (++n > c->r->blocks)
            return fail(c, "garbage list loops");
        if (mark(c, g, "garbage node") != 0)
            return -1;
        node = SHM_PTR(a, g, const struct ks_garbage);
        if (node->kind == KS_GARBAGE_VALUE) {
            if (node->type > KS_T_MAX || node->type == KS_T_STRING || !ks_types[node->type])
                return fail(c, "garbage node %llu of type %u", (unsigned long long)g, node->type);
            if (mark(c, node->u.desc, "garbage descriptor") != 0 ||
                ks_types[node->type]->check_garbage((struct shm_check_ctx *)c, node->u.desc) != 0)
                return -1;
            c->r->garbage++;
            continue;
        }
        if (node->kind != KS_GARBAGE_DB)
            return fail(c, "garbage node %llu of kind %u", (unsigned long long)g, node->kind);
        /* Dead tables: shape and blocks only; counts are stale by design. */
        if (dict_validate(a, &node->u.db.expires, 0, err, sizeof(err)) != 0 ||
            dict_validate(a, &node->u.db.keys, 0, err, sizeof(err)) != 0)
            return fail(c, "garbage node %llu: %s", (unsigned long long)g, err);
        if (dict_blocks(a, &node->u.db.expires, mark_dict_block, c) != 0 ||
            dict_blocks(a, &node->u.db.keys, mark_dict_block, c) != 0)
            return -1;
        {
            struct dctx x = { c, 0, &node->u.db, 2, 0 };
            if (dict_each(a, &node->u.db.keys, check_elem, &x) != 0)
                return -1;
        }
        c->r->garbage++;
    }
    return 0;
}

/* Every allocated block must have been marked. */
static int find_leaks(struct ck *c)
{
    struct shm_arena *a = c->a;
    uint64_t p;

    for (p = pg(SHM_SEG_SIZE); p < c->npages; p++) {
        uint8_t k = c->kind[p] & ~K_VISITED;
        uint64_t n = c->base[p], off = p << SHM_PAGE_SHIFT;
        if (k == K_SLAB_PARTIAL || k == K_SLAB_FULL) {
            const struct shm_slab *sl = SHM_PTR(a, off, const struct shm_slab);
            unsigned i, nb = shm_class_blocks(sl->cls);
            for (i = 0; i < nb; i++)
                if (((sl->bitmap[i / 64] >> (i % 64)) & 1) &&
                    !(c->marks[(n + i) / 8] & (1u << ((n + i) % 8))))
                    return fail(c, "leak: block %llu of class %u is allocated but "
                                "unreachable", (unsigned long long)
                                (off + shm_class_start(sl->cls) + (uint64_t)i * shm_class_size(sl->cls)),
                                sl->cls);
        } else if (k == K_LARGE || k == K_HUGE) {
            if (!(c->marks[n / 8] & (1u << (n % 8))))
                return fail(c, "leak: %s block at %llu is allocated but unreachable",
                            k == K_LARGE ? "large" : "huge", (unsigned long long)off);
        }
    }
    return 0;
}

int shm_check(struct shm_arena *a, struct shm_check_report *r)
{
    return shm_check_flags(a, r, 0);
}

int shm_check_flags(struct shm_arena *a, struct shm_check_report *r, unsigned flags)
{
    struct ck c;
    struct shm_header *h = a->hdr;
    int rc = EMBER_ECORRUPT;

    memset(r, 0, sizeof(*r));
    memset(&c, 0, sizeof(c));
    c.a = a;
    c.r = r;
    if (h->magic != SHM_MAGIC || h->version != SHM_LAYOUT_VERSION) {
        fail(&c, "bad magic or version");
        return EMBER_ECORRUPT;
    }
    if (h->log_tail != 0) {
        fail(&c, "undo log not empty");
        return EMBER_ECORRUPT;
    }
    if (h->heap_top < SHM_SEG_SIZE || (h->heap_top & (SHM_SEG_SIZE - 1)) ||
        h->heap_top > a->reg.size) {
        fail(&c, "heap top %llu outside the %zu-byte region",
             (unsigned long long)h->heap_top, a->reg.size);
        return EMBER_ECORRUPT;
    }
    c.npages = pg(h->heap_top);
    c.kind = calloc(c.npages, 1);
    c.base = calloc(c.npages, sizeof(uint64_t));
    if (c.kind == NULL || c.base == NULL) {
        fail(&c, "out of memory for the check");
        rc = EMBER_ENOMEM;
        goto out;
    }
    if (walk_heap(&c) != 0 || walk_lists(&c) != 0)
        goto out;
    c.marks = calloc(c.nslots / 8 + 1, 1);
    if (c.marks == NULL) {
        fail(&c, "out of memory for the check");
        rc = EMBER_ENOMEM;
        goto out;
    }
    if (!(flags & SHM_CHECK_F_NOLEAKS) && (walk_refs(&c) != 0 || find_leaks(&c) != 0))
        goto out;
    rc = EMBER_OK;
out:
    free(c.kind);
    free(c.base);
    free(c.marks);
    return rc;
}
