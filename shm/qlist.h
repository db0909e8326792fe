/*
 * qlist.h - list values (KS_T_LIST), with Redis 7 semantics.
 *
 * Two encodings, chosen by size (ks_limits.list_size: Redis's
 * list-max-listpack-size, < 0 a node size class of 4/8/16/32/64 KiB, > 0
 * a count of elements per node):
 *
 *   compact  one run of elements inline in the key's entry (OBJECT
 *            ENCODING "listpack").  Any change writes a new entry.
 *   full     a quicklist ("quicklist"): the entry holds the offset of a
 *            descriptor block; the elements live in a doubly linked chain
 *            of node blocks of up to one node limit each.  Pushes and pops
 *            at either end touch only the end node, in place.
 *
 * A list converts to full when it outgrows one node and back to compact
 * when a full list shrinks to one node of under half the limit.  A list is
 * never empty: removing its last element deletes the key.
 *
 * Elements are stored in their own compact encoding (see qlist.c): a
 * string that is the canonical decimal form of a 64-bit integer is stored
 * as that integer, and handed back as the same decimal bytes.  So an
 * element read from a list comes as a struct qlist_elem, whose bytes are
 * either in the arena or rendered into the struct's own buffer: use
 * e.s / e.len where the struct is and do not copy it by value.
 *
 * Popped elements point into the arena and stay readable until the
 * mutation commits (frees are deferred) or the same list changes again in
 * it.  Inner nodes may be compressed (qlist_compress below): what
 * qlist_index() returns from one is in this module's scratch memory, valid
 * until the next qlist call; what an iterator returns, in the iterator's,
 * valid until its next step.  Copy what must live longer.
 *
 * All changing functions run inside a mutation; on an error (allocation)
 * the caller aborts it, and must look the key up again.  The module keeps
 * scratch buffers: one thread at a time (the worker's) may use it.
 */
#ifndef SHM_QLIST_H
#define SHM_QLIST_H

#include <stddef.h>
#include <stdint.h>

#include "ks.h"
#include "pack.h"

#define QLIST_HEAD 0    /* the left end: LPUSH, LPOP */
#define QLIST_TAIL 1    /* the right end: RPUSH, RPOP */

/* An element read from a list. */
struct qlist_elem {
    const uint8_t *s;     /* its bytes: into the arena, or into buf */
    size_t len;
    uint8_t buf[24];      /* an integer element, in decimal */
};

/* The number of elements. */
uint64_t qlist_len(const struct shm_arena *a, const struct ks_ref *r);

/* "listpack" or "quicklist", for OBJECT ENCODING. */
const char *qlist_encoding(const struct ks_ref *r);

/*
 * Pushes v[0..n) one after the other at `where` (so LPUSH k a b c leaves
 * c b a at the head, like Redis).  When r->off is 0 the key r->key is
 * created (nothing happens when n is 0).  r is updated.
 * Errors: allocation (shm_alloc, dict_add), EMBER_ETOOBIG for an element
 * of 4 GiB - 8 MiB or more (nothing changes).
 */
int qlist_push(struct shm_arena *a, struct ks_ref *r, int where, const struct pack_str *v,
               uint32_t n);

/*
 * Pops up to `max` elements from `where` into out[] (in the order they
 * leave the list); *n says how many.  Popping the last element deletes
 * the key (r->off becomes 0).  For a bigger count, call again while r->off
 * and *n == max (same mutation): earlier elements stay readable.
 * A pop is O(1) amortized: one node header store and one descriptor store,
 * more only when a node empties or splits.  Errors: allocation.
 */
int qlist_pop(struct shm_arena *a, struct ks_ref *r, int where, struct qlist_elem *out,
              uint32_t max, uint32_t *n);

/* Element `index` (negative: from the tail, -1 the last): 1 and *out, or 0
 * when out of range. */
int qlist_index(const struct shm_arena *a, const struct ks_ref *r, int64_t index,
                struct qlist_elem *out);

/* LSET: replaces element `index`; *found = 0 when out of range (nothing
 * changes).  Errors: allocation, EMBER_ETOOBIG. */
int qlist_set(struct shm_arena *a, struct ks_ref *r, int64_t index, const void *v,
              size_t len, int *found);

/* LINSERT: inserts v before (after = 0) or after the first element equal
 * to pivot; *found = 0 when there is none (nothing changes).
 * Errors: allocation, EMBER_ETOOBIG, EMBER_ENOMEM (process memory). */
int qlist_insert(struct shm_arena *a, struct ks_ref *r, int after, const void *pivot,
                 size_t plen, const void *v, size_t len, int *found);

/* LREM: removes the first `count` elements equal to v scanning from the
 * head (count > 0), the last -count from the tail (count < 0), or all of
 * them (0); *removed says how many.  May delete the key.  Rewrites each
 * node with a match: undo records grow with the nodes touched, not with
 * the elements.  Errors: allocation, EMBER_ENOMEM (process memory). */
int qlist_rem(struct shm_arena *a, struct ks_ref *r, int64_t count, const void *v,
              size_t len, uint64_t *removed);

/*
 * LTRIM: keeps elements start..end (inclusive, negative from the tail);
 * an empty range deletes the key.  Whole nodes cut off go to the garbage
 * list when they hold more than KS_LAZYFREE_MIN elements, so trimming a
 * million elements logs a handful of stores; what is cut inside a node
 * costs one header store.  Errors: allocation.
 */
int qlist_trim(struct shm_arena *a, struct ks_ref *r, int64_t start, int64_t end);

/*
 * Iteration from element `index` (negative from the tail) toward the tail
 * (dir QLIST_TAIL: LRANGE, LPOS) or toward the head (QLIST_HEAD: LPOS
 * with a negative RANK).  An index out of range gives no element.
 * Read-only: the list must not change while iterating.  An iterator may
 * allocate process memory (a decompressed node; toward the head, one
 * offset per element of the node): always end with qlist_iter_release().
 */
struct qlist_iter {
    const struct shm_arena *a;
    int dir;                 /* QLIST_HEAD or QLIST_TAIL */
    uint64_t node;           /* current node (full encoding), else 0 */
    const uint8_t *run;      /* the current run of elements */
    const uint8_t *p;        /* toward the tail: the next element */
    uint32_t left;           /* elements of this run still to return */
    uint64_t index;          /* index of the element returned last */
    uint64_t pos;            /* index of the next one */
    uint64_t remaining;      /* elements still to return overall */
    uint32_t *offs;          /* toward the head: element offsets in run */
    uint32_t cap;            /* capacity of offs */
    int err;                 /* EMBER_ENOMEM once a buffer was refused */
    uint8_t *zbuf;           /* a compressed node, decompressed (malloc) */
    uint32_t inl[48];        /* offs when the run is short */
};

void qlist_iter_init(const struct shm_arena *a, const struct ks_ref *r, int64_t index,
                     int dir, struct qlist_iter *it);

/* The next element: 1 and *e (it->index is its index), 0 at the end, or
 * EMBER_ENOMEM when no memory could be had to decompress a node. */
int qlist_iter_next(struct qlist_iter *it, struct qlist_elem *e);

void qlist_iter_release(struct qlist_iter *it);

/* Does e hold exactly these bytes? */
static inline int qlist_elem_eq(const struct qlist_elem *e, const void *s, size_t len)
{
    return e->len == len && (len == 0 || memcmp(e->s, s, len) == 0);
}

/*
 * Compression of inner nodes: with qlist_compress set (the default), a
 * node two or more nodes away from both ends is zstd-compressed when that
 * saves an eighth of its block, like Redis's list-compress-depth but on by
 * default.  0 stops new compression; compressed nodes stay readable.
 */
extern int qlist_compress;

/* Makes the codec's contexts now (a worker at start), so that running out
 * of memory shows there and not in the middle of a command.  0 or -1;
 * without it they are made at first use. */
int qlist_codec_init(void);

extern const struct ks_type_ops qlist_ops;

#endif /* SHM_QLIST_H */
