/*
 * ring.c - SPSC rings between workers in one shared-memory ring set.
 *
 * Layout and API are in ring.h.  Every shared word has one writer: the
 * producer writes its position and the records, the consumer its position;
 * no locks.  Records are published by a release store of the producer
 * position and read after an acquire load of it; freed space travels back
 * the same way.  Each side keeps a local cursor and a cached copy of the
 * other's position, so it touches the peer's cache line only when the ring
 * looks full or empty.  The region is never trusted blindly: a position or
 * header that would lead outside the data area is EMBER_ECORRUPT.
 *
 * Why no wake-up is lost: consumer C going to sleep and producer P after
 * publishing run the store-buffer (Dekker) pattern,
 *     C: sleep word := 1; full fence; load prod of every ring into C
 *     P: prod := new;     full fence; load C's sleep word
 * and with a fence on each side, "C loads the old prod and P loads 0" is
 * impossible.  If C sees data, it takes its word back and stays up (if a
 * producer took the word first, C blocks on an eventfd already written).  If
 * P sees 1, it tries cmpxchg(1 -> 0): the winner writes C's eventfd, which
 * stays readable until C reads it, so a write before C blocks still wakes it;
 * a loser knows another producer or C itself cleared the word, and C looks at
 * all its rings before it may sleep again.  One winner per sleep.  Free space
 * is the mirror image: P sets the ring's waiting flag, fences, reloads cons;
 * C stores cons, fences, reads the flag (ring_release() returns true and C
 * wakes P); and P's ringset_prepare_sleep() sets the flag of its full rings
 * again with its sleep word and rechecks cons after its fence, against the
 * fences in C's ring_release() and ringset_need_wake().  (Setting it again
 * matters: a release P already saw may have taken the flag while P was
 * awake, and with no flag the next release would not wake P.)
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/arch.h>
#include <urcu/system.h>
#include <urcu/uatomic.h>

#include "bug.h"
#include "ring.h"

/* --- the region, as structs (must match the table in ring.h) ------------- */

struct rs_header {
    uint64_t magic;              /* RINGSET_MAGIC, stored last by init */
    uint32_t version;            /* RINGSET_VERSION */
    uint32_t line;               /* RING_LINE the layout was built with */
    uint32_t nworkers;           /* N */
    uint32_t reserved0;          /* zero */
    uint64_t ring_bytes;         /* data bytes per ring */
    uint64_t worker_off;         /* offset of the worker table */
    uint64_t ring_off;           /* offset of ring 0 */
    uint64_t ring_stride;        /* bytes between rings */
    uint64_t total;              /* region size */
    uint8_t  reserved1[64];      /* zero */
};

enum {
#define RS_COUNT(name, help) RS_COUNTER_##name,
    RINGSET_COUNTERS(RS_COUNT)
#undef RS_COUNT
    RS_NCOUNTERS
};

struct rs_worker {
    uint32_t sleep;              /* 0 awake, 1 sleeping */
    uint32_t reserved0;          /* zero */
#define RS_FIELD(name, help) uint64_t name;
    RINGSET_COUNTERS(RS_FIELD)   /* counters, in table order */
#undef RS_FIELD
    uint8_t  reserved1[RING_LINE - 8 - 8 * RS_NCOUNTERS]; /* zero */
};

struct rs_ring {
    uint32_t from;               /* producer worker id */
    uint32_t to;                 /* consumer worker id */
    uint64_t ring_bytes;         /* copy of the header's, for checks */
    uint8_t  reserved0[RING_LINE - 16];
    uint64_t prod;               /* bytes published (producer writes) */
    uint32_t waiting;            /* producer wants a wake-up on release */
    uint8_t  reserved1[RING_LINE - 12];
    uint64_t cons;               /* bytes released (consumer writes) */
    uint8_t  reserved2[RING_LINE - 8];
    /* ring_bytes of data follow */
};

struct rs_rec {
    uint32_t len;                /* payload bytes or RING_PAD_LEN */
    uint32_t tag;                /* caller's */
};

_Static_assert(sizeof(struct rs_header) == RING_LINE, "header is one line");
_Static_assert(sizeof(struct rs_worker) == RING_LINE, "worker is one line");
_Static_assert(sizeof(struct rs_ring) == 3 * RING_LINE, "ring control lines");
_Static_assert(offsetof(struct rs_header, ring_bytes) == 24, "layout");
_Static_assert(offsetof(struct rs_header, total) == 56, "layout");
_Static_assert(offsetof(struct rs_worker, sleeps) == 8, "layout");
_Static_assert(offsetof(struct rs_worker, full) == 24, "layout");
_Static_assert(offsetof(struct rs_ring, prod) == RING_LINE, "layout");
_Static_assert(offsetof(struct rs_ring, waiting) == RING_LINE + 8, "layout");
_Static_assert(offsetof(struct rs_ring, cons) == 2 * RING_LINE, "layout");
_Static_assert(sizeof(struct rs_rec) == RING_HDR_BYTES, "record header");

/* --- process-local handles ----------------------------------------------- */

#define NO_LAST UINT64_MAX

struct ring {
    struct ringset *set;         /* owner */
    struct rs_ring *sh;          /* control lines in the region */
    unsigned char  *data;        /* data area in this mapping */
    uint64_t        size;        /* ring_bytes */
    uint64_t        mask;        /* size - 1 */
    uint32_t        max_len;     /* RING_MAX_RECORD(size) */
    unsigned        from;        /* producer worker */
    unsigned        to;          /* consumer worker */
    /* producer side (used only in the process of worker `from`) */
    uint64_t        wr;          /* next byte to reserve */
    uint64_t        wr_pub;      /* last published position */
    uint64_t        cons_cache;  /* consumer position last seen */
    uint64_t        last;        /* position of the last reservation or NO_LAST */
    uint64_t        blocked_cons;/* cons when a reservation last failed */
    bool            blocked;     /* a reservation failed since the last success */
    /* consumer side (used only in the process of worker `to`) */
    bool            peeked;      /* peek_pos/peek_end describe the cursor's record */
    uint64_t        rd;          /* cursor: next byte to read */
    uint64_t        rd_rel;      /* last released position */
    uint64_t        prod_cache;  /* producer position last seen */
    uint64_t        peek_pos;    /* position of the last peeked record */
    uint64_t        peek_end;    /* position just past it */
};

struct ringset {
    unsigned char    *base;      /* the region in this mapping */
    size_t            size;      /* bytes mapped */
    unsigned          n;         /* workers */
    uint64_t          ring_bytes;/* data bytes per ring */
    struct rs_worker *workers;   /* worker table in the region */
    struct ring       rings[];   /* n * (n - 1) handles */
};

/*
 * Acquire and release on the positions.  liburcu 0.13 has no load-acquire /
 * store-release for plain words; cmm_smp_rmb/wmb alone do not order a
 * consumer's loads of a payload before its releasing store on weakly ordered
 * CPUs, and cmm_smp_mb would cost an mfence per release on x86.  The GCC
 * builtins compile to plain moves on x86 and ldar/stlr on arm64.  The full
 * fences of the sleep protocol are liburcu's cmm_smp_mb().
 */
static inline uint64_t load_acquire(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store_release(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint64_t rec_bytes(uint32_t len)
{
    return RING_HDR_BYTES + (((uint64_t)len + 7) & ~(uint64_t)7);
}

static bool geometry_ok(unsigned nworkers, size_t ring_bytes)
{
    return nworkers >= 1 && nworkers <= RINGSET_MAX_WORKERS &&
           ring_bytes >= RING_MIN_BYTES && ring_bytes <= RING_MAX_BYTES &&
           (ring_bytes & (ring_bytes - 1)) == 0;
}

static uint64_t stride_of(size_t ring_bytes)
{
    return sizeof(struct rs_ring) + (uint64_t)ring_bytes;
}

static uint64_t index_of(unsigned n, unsigned from, unsigned to)
{
    return (uint64_t)from * (n - 1) + (to < from ? to : to - 1);
}

size_t ringset_size(unsigned nworkers, size_t ring_bytes)
{
    uint64_t nrings, total;

    if (!geometry_ok(nworkers, ring_bytes))
        return 0;
    nrings = (uint64_t)nworkers * (nworkers - 1);
    /* at most 256 * 255 rings of 1 GiB plus 3 lines: < 2^46, no overflow in
     * 64 bits; size_t may be narrower */
    total = RING_LINE + (uint64_t)nworkers * RING_LINE +
            nrings * stride_of(ring_bytes);
    if (total > SIZE_MAX)
        return 0;
    return (size_t)total;
}

int ringset_init(void *mem, size_t size, unsigned nworkers, size_t ring_bytes)
{
    unsigned char *base = mem;
    struct rs_header *h = mem;
    size_t need = ringset_size(nworkers, ring_bytes);
    unsigned f, t;

    if (mem == NULL || need == 0 || size < need ||
        (uintptr_t)mem % RING_LINE != 0)
        return EMBER_EINVAL;

    /* Clear the magic first so a half-formatted region is never taken for
     * a good one, then the control lines; data areas need no zeroing and
     * stay untouched (no page is committed for them here). */
    store_release(&h->magic, 0);
    memset(base + sizeof(h->magic), 0, sizeof(*h) - sizeof(h->magic));
    memset(base + RING_LINE, 0, (size_t)nworkers * RING_LINE);
    h->version = RINGSET_VERSION;
    h->line = RING_LINE;
    h->nworkers = nworkers;
    h->ring_bytes = ring_bytes;
    h->worker_off = RING_LINE;
    h->ring_off = RING_LINE + (uint64_t)nworkers * RING_LINE;
    h->ring_stride = stride_of(ring_bytes);
    h->total = need;
    for (f = 0; f < nworkers; f++) {
        for (t = 0; t < nworkers; t++) {
            struct rs_ring *sr;

            if (f == t)
                continue;
            sr = (struct rs_ring *)(base + h->ring_off +
                 index_of(nworkers, f, t) * h->ring_stride);
            memset(sr, 0, sizeof(*sr));
            sr->from = f;
            sr->to = t;
            sr->ring_bytes = ring_bytes;
        }
    }
    store_release(&h->magic, RINGSET_MAGIC);
    return EMBER_OK;
}

/* Reloads a ring's local state from the published positions. */
static void reload(struct ring *r)
{
    uint64_t prod = load_acquire(&r->sh->prod);
    uint64_t cons = load_acquire(&r->sh->cons);

    r->wr = r->wr_pub = prod;
    r->cons_cache = cons;
    r->last = NO_LAST;
    r->blocked = false;
    r->blocked_cons = cons;
    r->rd = r->rd_rel = cons;
    r->prod_cache = cons;        /* forces a reload at the first peek */
    r->peeked = false;
    r->peek_pos = r->peek_end = cons;
}

int ringset_attach(void *mem, size_t size, unsigned nworkers,
                   size_t ring_bytes, struct ringset **out)
{
    const struct rs_header *h = mem;
    struct ringset *set;
    uint64_t nrings, i;
    unsigned n, f, t;
    size_t need;

    if (out == NULL)
        return EMBER_EINVAL;
    *out = NULL;
    if (mem == NULL || (uintptr_t)mem % RING_LINE != 0 ||
        size < sizeof(struct rs_header))
        return EMBER_EINVAL;
    if (load_acquire(&h->magic) != RINGSET_MAGIC)
        return EMBER_EMAGIC;
    if (h->version != RINGSET_VERSION)
        return EMBER_EVERSION;
    if ((nworkers != 0 && h->nworkers != nworkers) ||
        (ring_bytes != 0 && h->ring_bytes != ring_bytes))
        return EMBER_ESHARD;
    n = h->nworkers;
    need = ringset_size(n, h->ring_bytes);
    if (h->line != RING_LINE || need == 0 || h->total != need ||
        h->worker_off != RING_LINE ||
        h->ring_off != RING_LINE + (uint64_t)n * RING_LINE ||
        h->ring_stride != stride_of(h->ring_bytes) || size < need)
        return EMBER_ECORRUPT;

    nrings = (uint64_t)n * (n - 1);
    set = calloc(1, sizeof(*set) + nrings * sizeof(struct ring));
    if (set == NULL)
        return EMBER_ENOMEM;
    set->base = mem;
    set->size = size;
    set->n = n;
    set->ring_bytes = h->ring_bytes;
    set->workers = (struct rs_worker *)(set->base + h->worker_off);
    for (f = 0; f < n; f++) {
        for (t = 0; t < n; t++) {
            struct ring *r;

            if (f == t)
                continue;
            i = index_of(n, f, t);
            r = &set->rings[i];
            r->set = set;
            r->sh = (struct rs_ring *)(set->base + h->ring_off +
                                       i * h->ring_stride);
            r->data = (unsigned char *)r->sh + sizeof(struct rs_ring);
            r->size = h->ring_bytes;
            r->mask = h->ring_bytes - 1;
            r->max_len = RING_MAX_RECORD(h->ring_bytes);
            r->from = f;
            r->to = t;
            reload(r);
        }
    }
    *out = set;
    return EMBER_OK;
}

void ringset_detach(struct ringset **set)
{
    if (set == NULL)
        return;
    free(*set);
    *set = NULL;
}

struct ring *ringset_ring(struct ringset *set, unsigned from, unsigned to)
{
    if (set == NULL || from >= set->n || to >= set->n || from == to)
        return NULL;
    return &set->rings[index_of(set->n, from, to)];
}

unsigned ringset_nworkers(const struct ringset *set)
{
    return set->n;
}

size_t ringset_ring_bytes(const struct ringset *set)
{
    return (size_t)set->ring_bytes;
}

void ringset_stats(const struct ringset *set, unsigned w,
                   struct ringset_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (set == NULL || w >= set->n)
        return;
#define RS_COPY(name, help) st->name = CMM_LOAD_SHARED(set->workers[w].name);
    RINGSET_COUNTERS(RS_COPY)
#undef RS_COPY
}

/* Counters with one writer at a time (the worker itself). */
static inline void count_local(uint64_t *c)
{
    CMM_STORE_SHARED(*c, CMM_LOAD_SHARED(*c) + 1);
}

/*
 * Reads the record header at position p, p < prod, and says where the next
 * record starts.  *len is RING_PAD_LEN for padding.  Returns EMBER_OK or
 * EMBER_ECORRUPT if the header would reach beyond the lap or beyond prod.
 * The header is loaded once (volatile) so what is checked is what is used.
 */
static int rec_at(const struct ring *r, uint64_t p, uint64_t prod,
                  uint32_t *len, uint32_t *tag, uint64_t *next)
{
    const struct rs_rec *h = (const struct rs_rec *)(r->data + (p & r->mask));
    uint64_t off = p & r->mask, end;
    uint32_t l = CMM_LOAD_SHARED(h->len);

    if (l == RING_PAD_LEN) {
        end = p + (r->size - off);
    } else {
        if (l > r->max_len || off + rec_bytes(l) > r->size)
            return EMBER_ECORRUPT;
        end = p + rec_bytes(l);
    }
    if (end > prod)
        return EMBER_ECORRUPT;
    *len = l;
    *tag = CMM_LOAD_SHARED(h->tag);
    *next = end;
    return EMBER_OK;
}

/* Checks that [cons, prod) is a whole chain of records.  Returns EMBER_OK or
 * EMBER_ECORRUPT. */
static int walk(const struct ring *r, uint64_t cons, uint64_t prod)
{
    uint64_t p = cons, next;
    uint32_t len, tag;
    int rc;

    if (cons > prod || prod - cons > r->size || (cons | prod) % 8 != 0)
        return EMBER_ECORRUPT;
    while (p < prod) {
        rc = rec_at(r, p, prod, &len, &tag, &next);
        if (rc != EMBER_OK)
            return rc;
        p = next;
    }
    return EMBER_OK;
}

/* Checks one ring of the resuming worker (see ringset_resume()). */
static int check_ring(const struct ring *r)
{
    uint64_t prod, cons;

    if (r->sh->from != r->from || r->sh->to != r->to ||
        r->sh->ring_bytes != r->size)
        return EMBER_ECORRUPT;
    /* The resuming worker owns one of the two positions, so it cannot move
     * under us; the other only moves toward a still consistent state. */
    cons = load_acquire(&r->sh->cons);
    prod = load_acquire(&r->sh->prod);
    return walk(r, cons, prod);
}

int ringset_resume(struct ringset *set, unsigned me)
{
    unsigned w;
    int rc;

    if (set == NULL || me >= set->n)
        return EMBER_EINVAL;
    for (w = 0; w < set->n; w++) {
        if (w == me)
            continue;
        rc = check_ring(ringset_ring(set, me, w));
        if (rc == EMBER_OK)
            rc = check_ring(ringset_ring(set, w, me));
        if (rc != EMBER_OK)
            return rc;
    }
    for (w = 0; w < set->n; w++) {
        if (w == me)
            continue;
        reload(ringset_ring(set, me, w));
        reload(ringset_ring(set, w, me));
    }
    ringset_awake(set, me);
    return EMBER_OK;
}

/* --- sleeping and waking (argued at the top of this file) ---------------- */

bool ringset_prepare_sleep(struct ringset *set, unsigned me)
{
    struct rs_worker *w;
    bool work = false;
    unsigned o;

    BUG_ON(me >= set->n);            /* would write outside the table */
    w = &set->workers[me];
    /* Ask again for a wake-up on every ring we are blocked on: the flag we
     * set in ring_reserve() may already have been taken by a release whose
     * space we saw there (so blocked_cons includes it) and which found us
     * awake; without a flag no later release would wake us. */
    for (o = 0; o < set->n; o++) {
        struct ring *out;

        if (o == me)
            continue;
        out = ringset_ring(set, me, o);
        if (out->blocked && !CMM_LOAD_SHARED(out->sh->waiting))
            CMM_STORE_SHARED(out->sh->waiting, 1);
    }
    CMM_STORE_SHARED(w->sleep, 1);
    cmm_smp_mb();
    for (o = 0; o < set->n; o++) {
        struct ring *in, *out;

        if (o == me)
            continue;
        in = ringset_ring(set, o, me);
        if (load_acquire(&in->sh->prod) != in->rd)
            work = true;
        out = ringset_ring(set, me, o);
        if (out->blocked) {
            uint64_t cons = load_acquire(&out->sh->cons);

            if (cons != out->blocked_cons) {
                /* once per release: the caller retries its backlog and
                 * blocks again with a fresh snapshot if still full */
                out->blocked = false;
                out->cons_cache = cons;
                work = true;
            }
        }
    }
    /* Backing out: if a producer took the word meanwhile, its eventfd write
     * is on the way; sleeping on it costs nothing (the eventfd is readable
     * at once) and keeps it from waking a later sleep for nothing. */
    if (work && uatomic_xchg(&w->sleep, 0) == 1)
        return false;
    count_local(&w->sleeps);
    return true;
}

bool ringset_need_wake(struct ringset *set, unsigned to)
{
    struct rs_worker *w;

    if (set == NULL || to >= set->n)
        return false;
    w = &set->workers[to];
    cmm_smp_mb();
    if (CMM_LOAD_SHARED(w->sleep) != 1)
        return false;
    if (uatomic_cmpxchg(&w->sleep, 1, 0) != 1)
        return false;
    uatomic_inc(&w->wakes);
    return true;
}

void ringset_awake(struct ringset *set, unsigned me)
{
    struct rs_worker *w;

    BUG_ON(me >= set->n);
    w = &set->workers[me];
    /* a plain store: a producer's cmpxchg racing with it fails or wins,
     * either way at most one spurious eventfd write */
    if (CMM_LOAD_SHARED(w->sleep) != 0)
        CMM_STORE_SHARED(w->sleep, 0);
}

/* --- producer ------------------------------------------------------------ */

/* Free bytes for the producer given the consumer position cons; false if
 * cons is impossible. */
static inline bool space(const struct ring *r, uint64_t cons, uint64_t *avail)
{
    if (cons > r->wr_pub || r->wr - cons > r->size || cons % 8 != 0)
        return false;
    *avail = r->size - (r->wr - cons);
    return true;
}

int ring_reserve(struct ring *r, uint32_t len, uint32_t tag, void **data)
{
    uint64_t off, rec, pad, need, avail;
    struct rs_rec *h;

    if (len > r->max_len)
        return EMBER_ETOOBIG;
    rec = rec_bytes(len);
    off = r->wr & r->mask;
    pad = off + rec > r->size ? r->size - off : 0;
    need = pad + rec;
    if (r->size - (r->wr - r->cons_cache) < need) {
        r->cons_cache = load_acquire(&r->sh->cons);
        if (!space(r, r->cons_cache, &avail))
            return EMBER_ECORRUPT;
        if (avail < need && !CMM_LOAD_SHARED(r->sh->waiting)) {
            /* ask for a wake-up on release, then look again: the fence
             * pairs with the one in ring_release() */
            CMM_STORE_SHARED(r->sh->waiting, 1);
            cmm_smp_mb();
            r->cons_cache = load_acquire(&r->sh->cons);
            if (!space(r, r->cons_cache, &avail))
                return EMBER_ECORRUPT;
        }
        if (avail < need) {
            if (!r->blocked)
                count_local(&r->set->workers[r->from].full);
            r->blocked = true;
            r->blocked_cons = r->cons_cache;
            return EMBER_EAGAIN;
        }
    }
    r->blocked = false;
    if (pad != 0) {
        h = (struct rs_rec *)(r->data + off);
        h->len = RING_PAD_LEN;
        h->tag = 0;
        r->wr += pad;
        off = 0;
    }
    h = (struct rs_rec *)(r->data + off);
    h->len = len;
    h->tag = tag;
    r->last = r->wr;
    r->wr += rec;
    *data = h + 1;
    return EMBER_OK;
}

void ring_shrink(struct ring *r, uint32_t len)
{
    struct rs_rec *h;

    /* shrinking anything but an uncommitted reservation, or growing one,
     * would rewrite bytes the consumer may be reading */
    BUG_ON(r->last == NO_LAST || r->last < r->wr_pub);
    h = (struct rs_rec *)(r->data + (r->last & r->mask));
    BUG_ON(len > h->len);
    h->len = len;
    r->wr = r->last + rec_bytes(len);
}

bool ring_commit(struct ring *r)
{
    r->last = NO_LAST;
    if (r->wr == r->wr_pub)
        return false;
    store_release(&r->sh->prod, r->wr);
    r->wr_pub = r->wr;
    return true;
}

void ring_abort(struct ring *r)
{
    r->wr = r->wr_pub;
    r->last = NO_LAST;
}

/* --- consumer ------------------------------------------------------------ */

int ring_peek(struct ring *r, uint32_t *tag, void **data, uint32_t *len)
{
    uint64_t next, prod;
    uint32_t l, t;
    int rc;

    for (;;) {
        if (r->rd == r->prod_cache) {
            prod = load_acquire(&r->sh->prod);
            if (prod - r->rd > r->size || prod < r->rd || prod % 8 != 0)
                return EMBER_ECORRUPT;
            r->prod_cache = prod;
            if (prod == r->rd)
                return EMBER_EAGAIN;
        }
        rc = rec_at(r, r->rd, r->prod_cache, &l, &t, &next);
        if (rc != EMBER_OK)
            return rc;
        if (l != RING_PAD_LEN)
            break;
        r->rd = next;            /* padding is nobody's record */
    }
    r->peeked = true;
    r->peek_pos = r->rd;
    r->peek_end = next;
    *tag = t;
    *len = l;
    *data = r->data + (r->rd & r->mask) + RING_HDR_BYTES;
    return EMBER_OK;
}

uint64_t ring_record_pos(const struct ring *r)
{
    return r->peek_pos;
}

uint64_t ring_record_end(const struct ring *r)
{
    return r->peek_end;
}

void ring_next(struct ring *r)
{
    /* without a peek the cursor would jump to a stale position */
    BUG_ON(!r->peeked || r->peek_pos != r->rd);
    r->rd = r->peek_end;
    r->peeked = false;
}

void ring_rewind(struct ring *r, uint64_t pos)
{
    /* only back to a record the cursor passed and did not release */
    BUG_ON(pos < r->rd_rel || pos > r->rd);
    r->rd = pos;
    r->peeked = false;
}

bool ring_release(struct ring *r)
{
    if (r->rd == r->rd_rel)
        return false;
    store_release(&r->sh->cons, r->rd);
    r->rd_rel = r->rd;
    /* pairs with the fence in ring_reserve(): either the producer sees the
     * space or we see its flag */
    cmm_smp_mb();
    if (CMM_LOAD_SHARED(r->sh->waiting) == 0)
        return false;
    return uatomic_xchg(&r->sh->waiting, 0) != 0;
}

bool ring_consume(struct ring *r)
{
    ring_next(r);
    return ring_release(r);
}

int ring_consumer_skip_to(struct ring *r, uint64_t pos)
{
    uint64_t prod, p = r->rd_rel, next;
    uint32_t len, tag;
    int rc;

    if (pos < r->rd_rel)
        return EMBER_ENOTFOUND;
    prod = load_acquire(&r->sh->prod);
    if (prod < r->rd_rel || prod - r->rd_rel > r->size || prod % 8 != 0)
        return EMBER_ECORRUPT;
    if (pos > prod)
        return EMBER_EINVAL;
    while (p < pos) {
        rc = rec_at(r, p, prod, &len, &tag, &next);
        if (rc != EMBER_OK)
            return rc;
        p = next;
    }
    if (p != pos)
        return EMBER_EINVAL;
    r->rd = pos;
    r->prod_cache = prod;
    r->peeked = false;
    r->peek_pos = r->peek_end = pos;
    return EMBER_OK;
}

/* --- positions ----------------------------------------------------------- */

uint64_t ring_producer_pos(const struct ring *r)
{
    return load_acquire(&r->sh->prod);
}

uint64_t ring_consumer_pos(const struct ring *r)
{
    return load_acquire(&r->sh->cons);
}

uint64_t ring_cursor(const struct ring *r)
{
    return r->rd;
}

uint32_t ring_max_record(const struct ring *r)
{
    return r->max_len;
}
