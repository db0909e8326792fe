/*
 * alloc.c - the in-arena allocator (see alloc.h for the tiers).
 *
 * Heap segments are tiled by runs of pages; every run is free, a slab or a
 * large block, and its first and last page map entries say which and how
 * long, so freeing a run finds its neighbours in O(1) and coalesces.  Free
 * runs sit in SHM_NBINS lists by length (exact up to 48 pages, then ranges),
 * with a bitmap of non-empty bins.  Allocation takes the best bin and splits
 * off the run's tail, so the run's header (its list links, in its first
 * page) usually stays where it is.
 *
 * Free whole segments (a heap segment whose pages are all free, beyond one
 * kept as a spare, or a freed huge block) go to a list of free segment runs
 * sorted by address and coalesced, which huge allocations search first-fit
 * before growing the region.  Their memory is given back to the system
 * (hole punching) once the freeing mutation has committed; that of big free
 * page runs at the owner's next tick (shm_release_free), if still free.
 *
 * The crash-consistency rule the code follows (arena.h): a byte that is live
 * in the state before the mutation must be logged before anything may
 * overwrite it without logging.  Callers write into fresh blocks unlogged,
 * so whenever allocator metadata stops being metadata (a free run header
 * that is unlinked, a slab header when the slab is released, a page map
 * when its segment is released) it is logged at that moment with
 * shm_preserve(), whatever happens to it later in the mutation.
 *
 * Small blocks carry no header: a block's page map entry names its slab and
 * class.  The slab header holds a bitmap (1 = allocated), a summary word of
 * bitmap words with free bits, and the free count; a small alloc or free is
 * two logged stores unless the slab changes lists.
 */
#include "alloc.h"

#include <stdatomic.h>

/* ---- size classes ----------------------------------------------------------- */

static unsigned nclasses;
static uint32_t class_size[SHM_NCLASSES];
static uint16_t class_pages[SHM_NCLASSES];   /* slab length in pages */
static uint16_t class_blocks[SHM_NCLASSES];  /* blocks per slab */
static uint16_t class_start[SHM_NCLASSES];   /* offset of block 0 in the slab */
static uint8_t size_class[(SHM_SMALL_MAX >> 3) + 1];
static atomic_int tables_ready;

static unsigned slab_start(unsigned nblocks, uint32_t size)
{
    unsigned hdr = (unsigned)sizeof(struct shm_slab) + 8 * ((nblocks + 63) / 64);
    unsigned align = size & -size;   /* largest power of two dividing size */

    if (align > 64)
        align = 64;
    return (hdr + align - 1) & ~(align - 1);
}

/*
 * Picks the slab length for one class: the shortest run of pages that wastes
 * under 1/64 of itself and holds at least 8 blocks, else the least wasteful
 * length up to 64 pages.
 */
static void size_slab(unsigned c)
{
    uint32_t s = class_size[c];
    unsigned k, best_k = 0, best_n = 0, best_start = 0;
    double best = 2.0;

    for (k = 1; k <= 64; k++) {
        unsigned bytes = k * SHM_PAGE_SIZE, n;
        double waste;

        n = (bytes - (unsigned)sizeof(struct shm_slab)) / s;
        if (n > SHM_SLAB_MAXBLOCKS)
            n = SHM_SLAB_MAXBLOCKS;
        while (n > 0 && slab_start(n, s) + n * s > bytes)
            n--;
        if (n == 0)
            continue;
        waste = (double)(bytes - (uint64_t)n * s) / bytes;
        if (waste < best) {
            best = waste;
            best_k = k, best_n = n, best_start = slab_start(n, s);
        }
        if (waste <= 1.0 / 64 && n >= 8)
            break;
    }
    BUG_ON(best_k == 0);
    class_pages[c] = (uint16_t)best_k;
    class_blocks[c] = (uint16_t)best_n;
    class_start[c] = (uint16_t)best_start;
}

void shm_alloc_init_tables(void)
{
    uint32_t s, step;
    unsigned c = 0, i;

    if (atomic_load(&tables_ready))
        return;
    /* 8 bytes apart up to 256 and 16 up to 512, where entries of small
     * collections fall (a 10-member set or hash is 100-500 bytes); then
     * 8 classes per doubling, at most 1/8 lost to rounding. */
    for (s = 16; s <= 256; s += 8)
        class_size[c++] = s;
    for (s = 272; s <= 512; s += 16)
        class_size[c++] = s;
    for (step = 64; step <= 1024; step *= 2)
        for (i = 0; i < 8; i++) {
            s = class_size[c - 1] + step;
            class_size[c++] = s;
        }
    nclasses = c;
    BUG_ON(nclasses > SHM_NCLASSES || class_size[c - 1] != SHM_SMALL_MAX);
    for (c = 0; c < nclasses; c++)
        size_slab(c);
    for (i = 0, c = 0; i <= (SHM_SMALL_MAX >> 3); i++) {
        while (class_size[c] < i * 8u)
            c++;
        size_class[i] = (uint8_t)c;
    }
    atomic_store(&tables_ready, 1);
}

unsigned shm_nclasses(void) { shm_alloc_init_tables(); return nclasses; }
size_t shm_class_size(unsigned c) { return class_size[c]; }
unsigned shm_class_pages(unsigned c) { return class_pages[c]; }
unsigned shm_class_blocks(unsigned c) { return class_blocks[c]; }
unsigned shm_class_start(unsigned c) { return class_start[c]; }

unsigned shm_size_class(size_t size)
{
    return size_class[(size + 7) >> 3];
}

size_t shm_alloc_size(size_t size)
{
    if (size <= SHM_SMALL_MAX)
        return class_size[shm_size_class(size ? size : 1)];
    if (size <= SHM_LARGE_MAX)
        return (size + SHM_PAGE_SIZE - 1) & ~(size_t)(SHM_PAGE_SIZE - 1);
    return ((size + SHM_PAGE_SIZE + SHM_SEG_SIZE - 1) & ~(size_t)(SHM_SEG_SIZE - 1))
           - SHM_PAGE_SIZE;
}

/* ---- page map helpers -------------------------------------------------------- */

static inline uint64_t seg_of(uint64_t off) { return off & ~(uint64_t)(SHM_SEG_SIZE - 1); }
static inline unsigned page_of(uint64_t off)
{
    return (unsigned)((off & (SHM_SEG_SIZE - 1)) >> SHM_PAGE_SHIFT);
}
static inline uint64_t *pmap(const struct shm_arena *a, uint64_t seg)
{
    return SHM_PTR(a, seg, uint64_t);
}
static inline uint64_t page_off(uint64_t seg, unsigned idx)
{
    return seg + ((uint64_t)idx << SHM_PAGE_SHIFT);
}

static unsigned bin_of(unsigned npages)
{
    unsigned b;

    if (npages <= 48)
        return npages - 1;
    b = 48 + (npages - 49) / 30;
    return b > SHM_NBINS - 1 ? SHM_NBINS - 1 : b;
}

static inline struct shm_freerun *run_at(struct shm_arena *a, uint64_t off)
{
    return SHM_PTR(a, off, struct shm_freerun);
}

/* Marks pages [first, first+n) of `seg` as one run of `kind`. */
static void mark_run(struct shm_arena *a, uint64_t seg, unsigned first,
                     unsigned n, unsigned kind, unsigned cls, int all)
{
    uint64_t *pm = pmap(a, seg);
    unsigned i;

    shm_set64(a, &pm[first], SHM_PM_MAKE(kind, n, first, cls));
    if (all) {
        for (i = first + 1; i < first + n; i++)
            shm_set64(a, &pm[i], SHM_PM_MAKE(kind, n, first, cls));
    } else if (n > 1) {
        shm_set64(a, &pm[first + n - 1], SHM_PM_MAKE(kind, n, first, cls));
    }
}

/* Pushes a free run onto its bin; writes (logged) its header. */
static void run_push(struct shm_arena *a, uint64_t off, unsigned npages)
{
    struct shm_header *h = a->hdr;
    unsigned b = bin_of(npages);
    struct shm_freerun fr = { h->bins[b], 0, npages, 0 };

    shm_store(a, run_at(a, off), &fr, sizeof(fr));
    if (fr.next)
        shm_set64(a, &run_at(a, fr.next)->prev, off);
    shm_set64(a, &h->bins[b], off);
    if (!(h->bins_nonempty & (1ull << b)))
        shm_set64(a, &h->bins_nonempty, h->bins_nonempty | (1ull << b));
}

/* Unlinks a free run from its bin; logs its header (it may be handed out). */
static void run_unlink(struct shm_arena *a, uint64_t off, unsigned npages)
{
    struct shm_header *h = a->hdr;
    struct shm_freerun *fr = run_at(a, off);
    unsigned b = bin_of(npages);

    shm_preserve(a, fr, sizeof(*fr));
    if (fr->prev)
        shm_set64(a, &run_at(a, fr->prev)->next, fr->next);
    else
        shm_set64(a, &h->bins[b], fr->next);
    if (fr->next)
        shm_set64(a, &run_at(a, fr->next)->prev, fr->prev);
    if (h->bins[b] == 0)
        shm_set64(a, &h->bins_nonempty, h->bins_nonempty & ~(1ull << b));
}

/* ---- segments -------------------------------------------------------------- */

static void defer_punch(struct shm_arena *a, uint64_t off, uint64_t len)
{
    if (a->npunch < (int)(sizeof(a->punch) / sizeof(a->punch[0])) && len > 0) {
        a->punch[a->npunch][0] = off;
        a->punch[a->npunch][1] = len;
        a->npunch++;
    }
}

/* Free segment runs keep entry 0 = SEGFREE and their links at page 0 + 8. */
static inline struct shm_freerun *segrun(struct shm_arena *a, uint64_t seg)
{
    return SHM_PTR(a, seg + 8, struct shm_freerun);
}

static void segrun_unlink(struct shm_arena *a, uint64_t seg)
{
    struct shm_freerun *fr = segrun(a, seg);

    shm_preserve(a, pmap(a, seg), 8 + sizeof(*fr));
    if (fr->prev)
        shm_set64(a, &segrun(a, fr->prev)->next, fr->next);
    else
        shm_set64(a, &a->hdr->free_segs, fr->next);
    if (fr->next)
        shm_set64(a, &segrun(a, fr->next)->prev, fr->prev);
}

/* Writes a free segment run header at `seg` and links it after `prev`. */
static void segrun_insert(struct shm_arena *a, uint64_t seg, uint64_t nsegs,
                          uint64_t prev, uint64_t next)
{
    struct shm_freerun fr = { next, prev, nsegs, 0 };

    shm_set64(a, pmap(a, seg), SHM_PM_MAKESEG(SHM_PM_SEGFREE, nsegs));
    shm_store(a, segrun(a, seg), &fr, sizeof(fr));
    if (prev)
        shm_set64(a, &segrun(a, prev)->next, seg);
    else
        shm_set64(a, &a->hdr->free_segs, seg);
    if (next)
        shm_set64(a, &segrun(a, next)->prev, seg);
}

/* Returns `nsegs` segments at `seg` to the sorted free list, coalescing. */
static void free_segs(struct shm_arena *a, uint64_t seg, uint64_t nsegs)
{
    uint64_t prev = 0, next = a->hdr->free_segs, end = seg + nsegs * SHM_SEG_SIZE;

    while (next != 0 && next < seg) {
        prev = next;
        next = segrun(a, next)->next;
    }
    if (prev && prev + segrun(a, prev)->len * SHM_SEG_SIZE == seg) {
        /* Extend the previous run, and swallow the next one if adjacent. */
        uint64_t len = segrun(a, prev)->len + nsegs;
        if (next && next == end) {
            len += segrun(a, next)->len;
            segrun_unlink(a, next);
        }
        shm_set64(a, &segrun(a, prev)->len, len);
        shm_set64(a, pmap(a, prev), SHM_PM_MAKESEG(SHM_PM_SEGFREE, len));
        defer_punch(a, seg, nsegs * SHM_SEG_SIZE);
        return;
    }
    if (next && next == end) {
        uint64_t nnext = segrun(a, next)->next, len = nsegs + segrun(a, next)->len;
        segrun_unlink(a, next);
        segrun_insert(a, seg, len, prev, nnext);
    } else {
        segrun_insert(a, seg, nsegs, prev, next);
    }
    defer_punch(a, seg + SHM_PAGE_SIZE, nsegs * SHM_SEG_SIZE - SHM_PAGE_SIZE);
}

/*
 * Finds `nsegs` contiguous segments: first fit in the free list (taking the
 * run's tail, so its header stays), else from the heap top, growing the
 * region.  The segments' contents are undefined.
 */
static int get_segs(struct shm_arena *a, uint64_t nsegs, int exempt,
                    uint64_t *segoff)
{
    struct shm_header *h = a->hdr;
    uint64_t r = h->free_segs;
    int rc;

    for (; r != 0; r = segrun(a, r)->next) {
        uint64_t len = segrun(a, r)->len;
        if (len < nsegs)
            continue;
        if (len == nsegs) {
            segrun_unlink(a, r);
            *segoff = r;
        } else {
            shm_set64(a, &segrun(a, r)->len, len - nsegs);
            shm_set64(a, pmap(a, r), SHM_PM_MAKESEG(SHM_PM_SEGFREE, len - nsegs));
            *segoff = r + (len - nsegs) * SHM_SEG_SIZE;
        }
        return EMBER_OK;
    }
    if (nsegs > (SHM_ALLOC_MAX >> SHM_SEG_SHIFT))
        return EMBER_ETOOBIG;
    rc = shm_arena_grow(a, h->heap_top + nsegs * SHM_SEG_SIZE, exempt);
    if (rc != EMBER_OK)
        return rc;
    *segoff = h->heap_top;
    shm_set64(a, &h->heap_top, h->heap_top + nsegs * SHM_SEG_SIZE);
    return EMBER_OK;
}

/* Makes a new heap segment: a page map and one free run of 511 pages. */
static int new_heap_seg(struct shm_arena *a, int exempt)
{
    uint64_t seg, *pm;
    int rc = get_segs(a, 1, exempt, &seg);

    if (rc != EMBER_OK)
        return rc;
    /* The map page was dead memory or a free run header we logged. */
    pm = pmap(a, seg);
    memset(pm, 0, SHM_PAGE_SIZE);
    pm[0] = SHM_PM_MAKESEG(SHM_PM_SEGHEAP, 1);
    pm[1] = SHM_PM_MAKE(SHM_PM_FREE, SHM_SEG_PAGES - 1, 1, 0);
    pm[SHM_SEG_PAGES - 1] = pm[1];
    run_push(a, page_off(seg, 1), SHM_SEG_PAGES - 1);
    return EMBER_OK;
}

/* ---- page runs --------------------------------------------------------------- */

/* Allocates a run of n pages; returns its offset.  Page map not yet set. */
static int alloc_pages(struct shm_arena *a, unsigned n, int exempt, uint64_t *off)
{
    struct shm_header *h = a->hdr;
    unsigned b0 = bin_of(n);
    int tries;

    for (tries = 0; tries < 2; tries++) {
        uint64_t mask = h->bins_nonempty & (~0ull << b0);
        while (mask) {
            unsigned b = (unsigned)__builtin_ctzll(mask);
            uint64_t r = h->bins[b];
            mask &= mask - 1;
            /* Exact bins always fit; a range bin may hold shorter runs. */
            for (; r != 0; r = run_at(a, r)->next) {
                unsigned m = (unsigned)run_at(a, r)->len, first;
                uint64_t seg;
                if (m < n)
                    continue;
                seg = seg_of(r);
                first = page_of(r);
                run_unlink(a, r, m);
                if (m > n) {
                    mark_run(a, seg, first, m - n, SHM_PM_FREE, 0, 0);
                    run_push(a, r, m - n);
                }
                *off = page_off(seg, first + m - n);
                return EMBER_OK;
            }
        }
        if (tries == 0) {
            int rc = new_heap_seg(a, exempt);
            if (rc != EMBER_OK)
                return rc;
        }
    }
    BUG_ON(1);   /* a fresh segment always has room for n <= 511 pages */
    return EMBER_ENOMEM;
}

/* Frees a run of n pages at off, coalescing with free neighbours. */
static void free_pages(struct shm_arena *a, uint64_t off, unsigned n)
{
    uint64_t seg = seg_of(off), *pm = pmap(a, seg);
    unsigned first = page_of(off), len = n;

    if (first > 1 && SHM_PM_KIND(pm[first - 1]) == SHM_PM_FREE) {
        unsigned lf = SHM_PM_FIRST(pm[first - 1]), ll = SHM_PM_NPAGES(pm[first - 1]);
        run_unlink(a, page_off(seg, lf), ll);
        first = lf;
        len += ll;
    }
    if (page_of(off) + n < SHM_SEG_PAGES &&
        SHM_PM_KIND(pm[page_of(off) + n]) == SHM_PM_FREE) {
        unsigned rl = SHM_PM_NPAGES(pm[page_of(off) + n]);
        run_unlink(a, page_off(seg, page_of(off) + n), rl);
        len += rl;
    }
    if (len == SHM_SEG_PAGES - 1 &&
        a->hdr->bins[bin_of(SHM_SEG_PAGES - 1)] != 0) {
        /* Wholly free, and another empty segment is already spare: give
         * this one back.  Its page map stops being metadata. */
        shm_preserve(a, pm, SHM_PAGE_SIZE);
        free_segs(a, seg, 1);
        return;
    }
    mark_run(a, seg, first, len, SHM_PM_FREE, 0, 0);
    run_push(a, page_off(seg, first), len);
}

unsigned shm_release_free(struct shm_arena *a, unsigned budget)
{
    struct shm_header *h = a->hdr;
    unsigned b, released = 0;

    BUG_ON(a->in_mut);
    /* hugetlbfs gives back whole huge pages only: segments, at commit. */
    if (a->readonly || a->inspect || a->reg.huge)
        return 0;
    for (b = bin_of(SHM_RELEASE_PAGES); b < SHM_NBINS && budget > 0; b++) {
        uint64_t off;

        if (!(h->bins_nonempty & (1ull << b)))
            continue;
        for (off = h->bins[b]; off != 0 && budget > 0; off = run_at(a, off)->next) {
            struct shm_freerun *fr = run_at(a, off);

            budget--;
            if (fr->released || fr->len < SHM_RELEASE_PAGES)
                continue;
            /* Free pages per the committed metadata, so no rollback can
             * want their bytes; the hint is unlogged, and a crash that
             * loses it only means punching the run again. */
            if (shm_region_punch(&a->reg, off + SHM_PAGE_SIZE,
                                 (fr->len - 1) * SHM_PAGE_SIZE) == EMBER_OK) {
                fr->released = 1;
                released++;
            }
        }
    }
    return released;
}

/* ---- slabs ----------------------------------------------------------------- */

static inline struct shm_slab *slab_at(struct shm_arena *a, uint64_t off)
{
    return SHM_PTR(a, off, struct shm_slab);
}

/* The slab header word: summary | nfree << 32 | cls << 48. */
static inline uint64_t slab_word(uint32_t summary, unsigned nfree, unsigned cls)
{
    return (uint64_t)summary | ((uint64_t)nfree << 32) | ((uint64_t)cls << 48);
}

static void partial_push(struct shm_arena *a, unsigned c, uint64_t s)
{
    struct shm_header *h = a->hdr;
    struct shm_slab *sl = slab_at(a, s);

    shm_set64(a, &sl->next, h->partial[c]);
    shm_set64(a, &sl->prev, 0);
    if (h->partial[c])
        shm_set64(a, &slab_at(a, h->partial[c])->prev, s);
    shm_set64(a, &h->partial[c], s);
}

static void partial_unlink(struct shm_arena *a, unsigned c, uint64_t s)
{
    struct shm_slab *sl = slab_at(a, s);

    if (sl->prev)
        shm_set64(a, &slab_at(a, sl->prev)->next, sl->next);
    else
        shm_set64(a, &a->hdr->partial[c], sl->next);
    if (sl->next)
        shm_set64(a, &slab_at(a, sl->next)->prev, sl->prev);
}

static int new_slab(struct shm_arena *a, unsigned c, int exempt, uint64_t *sp)
{
    unsigned n = class_blocks[c], words = (n + 63) / 64, i;
    uint64_t s;
    struct shm_slab *sl;
    int rc = alloc_pages(a, class_pages[c], exempt, &s);

    if (rc != EMBER_OK)
        return rc;
    mark_run(a, seg_of(s), page_of(s), class_pages[c], SHM_PM_SLAB, c, 1);
    /* Fresh pages: initialise unlogged. */
    sl = slab_at(a, s);
    memset(sl, 0, class_start[c]);
    for (i = 0; i < words; i++)
        sl->bitmap[i] = 0;
    if (n % 64)
        sl->bitmap[words - 1] = ~0ull << (n % 64);  /* past the end: "taken" */
    *(uint64_t *)sl = slab_word(words == 32 ? 0xffffffffu : (1u << words) - 1, n, c);
    sl->next = a->hdr->partial[c];
    sl->prev = 0;
    if (sl->next)
        shm_set64(a, &slab_at(a, sl->next)->prev, s);
    shm_set64(a, &a->hdr->partial[c], s);
    *sp = s;
    return EMBER_OK;
}

static int alloc_small(struct shm_arena *a, size_t size, int exempt, uint64_t *off)
{
    unsigned c = shm_size_class(size ? size : 1), w, bit, nfree;
    uint64_t s = a->hdr->partial[c], word;
    uint32_t summary;
    struct shm_slab *sl;

    if (s == 0) {
        int rc = new_slab(a, c, exempt, &s);
        if (rc != EMBER_OK)
            return rc;
    }
    sl = slab_at(a, s);
    summary = sl->summary;
    BUG_ON(summary == 0 || sl->nfree == 0);
    w = (unsigned)__builtin_ctz(summary);
    word = sl->bitmap[w];
    bit = (unsigned)__builtin_ctzll(~word);
    word |= 1ull << bit;
    shm_set64(a, &sl->bitmap[w], word);
    if (word == ~0ull)
        summary &= ~(1u << w);
    nfree = sl->nfree - 1u;
    shm_set64(a, (uint64_t *)sl, slab_word(summary, nfree, c));
    if (nfree == 0)
        partial_unlink(a, c, s);
    *off = s + class_start[c] + (uint64_t)(w * 64 + bit) * class_size[c];
    a->d_used += class_size[c];
    a->d_nblocks++;
    return EMBER_OK;
}

static void free_small(struct shm_arena *a, uint64_t off, uint64_t pme)
{
    unsigned c = SHM_PM_CLASS(pme), w, idx, nfree;
    uint64_t s = page_off(seg_of(off), SHM_PM_FIRST(pme)), rel, word;
    struct shm_slab *sl = slab_at(a, s);
    int listed = sl->nfree > 0;   /* full slabs are off the list, links stale */

    rel = off - s - class_start[c];
    idx = (unsigned)(rel / class_size[c]);
    BUG_ON(off < s + class_start[c] || rel % class_size[c] != 0 ||
           idx >= class_blocks[c]);
    w = idx / 64;
    word = sl->bitmap[w];
    BUG_ON(!(word & (1ull << (idx % 64))));   /* double free */
    shm_set64(a, &sl->bitmap[w], word & ~(1ull << (idx % 64)));
    nfree = sl->nfree + 1u;
    a->d_used -= class_size[c];
    a->d_nblocks--;
    if (nfree == class_blocks[c] && listed && (sl->prev != 0 || sl->next != 0)) {
        /* Empty and not the class's only partial slab: release it. */
        partial_unlink(a, c, s);
        shm_preserve(a, sl, class_start[c]);
        free_pages(a, s, class_pages[c]);
        return;
    }
    shm_set64(a, (uint64_t *)sl, slab_word(sl->summary | (1u << w), nfree, c));
    if (!listed)
        partial_push(a, c, s);
}

/* ---- public entry points ------------------------------------------------- */

static int do_alloc(struct shm_arena *a, size_t size, int exempt, uint64_t *off)
{
    int rc;

    ASSERT(a->in_mut);
    if (size <= SHM_SMALL_MAX)
        return alloc_small(a, size, exempt, off);
    if (size <= SHM_LARGE_MAX) {
        unsigned n = (unsigned)((size + SHM_PAGE_SIZE - 1) >> SHM_PAGE_SHIFT);
        uint64_t p;
        rc = alloc_pages(a, n, exempt, &p);
        if (rc != EMBER_OK)
            return rc;
        mark_run(a, seg_of(p), page_of(p), n, SHM_PM_LARGE, 0, 0);
        a->d_used += (int64_t)n * SHM_PAGE_SIZE;
        a->d_nblocks++;
        *off = p;
        return EMBER_OK;
    }
    if (size > SHM_ALLOC_MAX)
        return EMBER_ETOOBIG;
    {
        uint64_t nsegs = (size + SHM_PAGE_SIZE + SHM_SEG_SIZE - 1) >> SHM_SEG_SHIFT, seg;
        rc = get_segs(a, nsegs, exempt, &seg);
        if (rc != EMBER_OK)
            return rc;
        shm_set64(a, pmap(a, seg), SHM_PM_MAKESEG(SHM_PM_SEGHUGE, nsegs));
        a->d_used += (int64_t)(nsegs * SHM_SEG_SIZE - SHM_PAGE_SIZE);
        a->d_nblocks++;
        *off = seg + SHM_PAGE_SIZE;
        return EMBER_OK;
    }
}

int shm_alloc(struct shm_arena *a, size_t size, uint64_t *off)
{
    return do_alloc(a, size, 0, off);
}

int shm_alloc_log_chunk(struct shm_arena *a, size_t size, uint64_t *off)
{
    return do_alloc(a, size, 1, off);
}

int shm_calloc(struct shm_arena *a, size_t size, uint64_t *off)
{
    int rc = shm_alloc(a, size, off);

    if (rc == EMBER_OK)
        memset(shm_ptr(a, *off), 0, size);
    return rc;
}

/* Frees a block for real: the mutation is ending (or out of options). */
static void free_now(struct shm_arena *a, uint64_t off)
{
    uint64_t seg = seg_of(off), *pm = pmap(a, seg), e;
    unsigned idx = page_of(off);

    BUG_ON(off < SHM_SEG_SIZE || off >= a->hdr->heap_top || idx == 0);
    if (idx == 1 && (off & (SHM_PAGE_SIZE - 1)) == 0 &&
        SHM_PM_KIND(pm[0]) == SHM_PM_SEGHUGE) {
        uint64_t nsegs = SHM_PM_NSEGS(pm[0]);
        a->d_used -= (int64_t)(nsegs * SHM_SEG_SIZE - SHM_PAGE_SIZE);
        a->d_nblocks--;
        free_segs(a, seg, nsegs);
        return;
    }
    BUG_ON(SHM_PM_KIND(pm[0]) != SHM_PM_SEGHEAP);
    e = pm[idx];
    if (SHM_PM_KIND(e) == SHM_PM_SLAB) {
        free_small(a, off, e);
        return;
    }
    BUG_ON(SHM_PM_KIND(e) != SHM_PM_LARGE || SHM_PM_FIRST(e) != idx ||
           (off & (SHM_PAGE_SIZE - 1)) != 0);
    a->d_used -= (int64_t)SHM_PM_NPAGES(e) * SHM_PAGE_SIZE;
    a->d_nblocks--;
    free_pages(a, off, SHM_PM_NPAGES(e));
}

/*
 * Frees are deferred to the end of the mutation (arena.h explains why): the
 * block stays allocated, and unusable, until shm_flush_frees() runs from
 * shm_commit().  If the list cannot grow, the block is freed at once after
 * logging its whole content, which keeps the same guarantee the slow way.
 */
void shm_free(struct shm_arena *a, uint64_t off)
{
    ASSERT(a->in_mut);
    BUG_ON(off < SHM_SEG_SIZE || off >= a->hdr->heap_top || (off & 7));
    if (a->nfrees == a->cap_frees) {
        size_t cap = a->cap_frees ? a->cap_frees * 2 : 256;
        uint64_t *n = realloc(a->frees, cap * sizeof(*n));
        if (n == NULL) {
            shm_preserve(a, shm_ptr(a, off), shm_usable(a, off));
            free_now(a, off);
            return;
        }
        a->frees = n;
        a->cap_frees = cap;
    }
    a->frees[a->nfrees++] = off;
}

void shm_flush_frees(struct shm_arena *a)
{
    size_t i;

    for (i = 0; i < a->nfrees; i++)
        free_now(a, a->frees[i]);
    a->nfrees = 0;
}

size_t shm_usable(const struct shm_arena *a, uint64_t off)
{
    uint64_t seg = seg_of(off), *pm = pmap(a, seg), e;
    unsigned idx = page_of(off);

    if (idx == 1 && (off & (SHM_PAGE_SIZE - 1)) == 0 &&
        SHM_PM_KIND(pm[0]) == SHM_PM_SEGHUGE)
        return SHM_PM_NSEGS(pm[0]) * SHM_SEG_SIZE - SHM_PAGE_SIZE;
    e = pm[idx];
    if (SHM_PM_KIND(e) == SHM_PM_SLAB)
        return class_size[SHM_PM_CLASS(e)];
    return (size_t)SHM_PM_NPAGES(e) * SHM_PAGE_SIZE;
}

int shm_realloc(struct shm_arena *a, uint64_t off, size_t size, uint64_t *newoff)
{
    size_t old = shm_usable(a, off);
    uint64_t n;
    int rc;

    if (shm_alloc_size(size) == old) {
        *newoff = off;
        return EMBER_OK;
    }
    rc = shm_alloc(a, size, &n);
    if (rc != EMBER_OK)
        return rc;
    memcpy(shm_ptr(a, n), shm_ptr(a, off), old < size ? old : size);
    shm_free(a, off);
    *newoff = n;
    return EMBER_OK;
}

int shm_is_block(const struct shm_arena *a, uint64_t off)
{
    uint64_t seg = seg_of(off), *pm;
    unsigned idx = page_of(off), p;

    if (off < SHM_SEG_SIZE || off >= a->hdr->heap_top || idx == 0)
        return 0;
    pm = pmap(a, seg);
    if (SHM_PM_KIND(pm[0]) == SHM_PM_SEGHUGE)
        return idx == 1 && (off & (SHM_PAGE_SIZE - 1)) == 0;
    if (SHM_PM_KIND(pm[0]) != SHM_PM_SEGHEAP)
        return 0;
    /* Inner entries of large and free runs may be stale: walk the runs
     * from the segment's first page to the one holding `off`. */
    for (p = 1; p < SHM_SEG_PAGES;) {
        uint64_t e = pm[p];
        unsigned n = SHM_PM_NPAGES(e);
        if (n == 0 || SHM_PM_FIRST(e) != p || p + n > SHM_SEG_PAGES)
            return 0;
        if (idx < p + n) {
            if (SHM_PM_KIND(e) == SHM_PM_LARGE)
                return idx == p && (off & (SHM_PAGE_SIZE - 1)) == 0;
            if (SHM_PM_KIND(e) == SHM_PM_SLAB) {
                unsigned c = SHM_PM_CLASS(e), i;
                uint64_t s = page_off(seg, p), rel;
                const struct shm_slab *sl = (const struct shm_slab *)(a->base + s);
                if (c >= nclasses || off < s + class_start[c])
                    return 0;
                rel = off - s - class_start[c];
                if (rel % class_size[c] != 0 || rel / class_size[c] >= class_blocks[c])
                    return 0;
                i = (unsigned)(rel / class_size[c]);
                return (sl->bitmap[i / 64] >> (i % 64)) & 1;
            }
            return 0;
        }
        p += n;
    }
    return 0;
}

int shm_grow_heap(struct shm_arena *a, uint64_t nsegs, uint64_t *segoff)
{
    return get_segs(a, nsegs, 0, segoff);
}
