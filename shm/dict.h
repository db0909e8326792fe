/*
 * dict.h - incremental hash tables inside an arena.
 *
 * A dict maps 64-bit hashes to 8-byte-aligned element offsets; what an
 * element is (a keyspace entry, a hash field...) is the caller's business:
 * the dict only asks the caller to rehash an element when it moves it.
 *
 * Structure: linear hashing.  Buckets are 64-byte cache lines of 8 slots;
 * a slot packs a 18-bit tag (the hash's top bits) with the element offset,
 * so a lookup compares tags inside one cache line and touches an element
 * only on a tag match.  A full bucket chains one child bucket through its
 * last slot.  The table grows one bucket at a time: when the load passes
 * DICT_LOAD_HI elements per bucket, bucket `split` is split into itself and
 * a new bucket 2^level + split.  It shrinks the same way.  No operation ever
 * rehashes more than one bucket chain, so there is no resize pause, and the
 * table's memory follows its element count closely instead of doubling.
 *
 * Bucket memory is a directory of segments (1, 1, 2, 4 ... 512 buckets,
 * then 1024 each), so growing never moves a bucket.
 *
 * Scans use Redis's reverse-binary cursor over the finest hash granularity
 * in use; every element present for a whole scan is returned at least once,
 * whatever resizes happen between calls (some may come twice).
 *
 * All mutating functions must run inside an arena mutation; on an error
 * (allocation failure) the caller aborts the mutation.
 */
#ifndef SHM_DICT_H
#define SHM_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define DICT_SLOTS       8
#define DICT_LOAD_HI     6    /* split while count > 6 * nbuckets */
#define DICT_LOAD_LO     2    /* merge while count < 2 * nbuckets */

#define DICT_OFF_MASK    ((1ull << 45) - 1)
#define DICT_CHILD       (1ull << 45)
#define DICT_TAG_MASK    (~((1ull << 46) - 1))
#define DICT_SLOT_OFF(s) (((s) & DICT_OFF_MASK) << 3)

/* Rehashes an element (when a split or merge moves it). */
typedef uint64_t (*dict_hash_fn)(const struct shm_arena *a, uint64_t elem,
                                 const void *ctx);

/* Position of a slot, for in-place replace and delete. */
struct dict_pos {
    uint64_t *slot;       /* the slot holding the element */
    uint64_t *parent;     /* the parent's slot 7 when in a child bucket */
    uint64_t bucket;      /* offset of the bucket holding the slot */
};

/* A lookup in progress: yields slots whose tag matches. */
struct dict_probe {
    uint64_t *b;          /* current bucket */
    uint64_t *parent;     /* slot linking to it, NULL for the chain head */
    uint64_t tag;
    int i;                /* next slot to look at */
};

static inline uint64_t dict_tag(uint64_t hash)
{
    return hash & DICT_TAG_MASK;
}

/* Starts a lookup; false when the dict is empty. */
int dict_probe_start(const struct shm_arena *a, const struct shm_dict *d,
                     uint64_t hash, struct dict_probe *p);

/* Next candidate (tag match): the element offset, or 0 at the end; fills *pos. */
uint64_t dict_probe_next(const struct shm_arena *a, struct dict_probe *p,
                         struct dict_pos *pos);

/* Inserts an element (the caller knows its key is not present). */
int dict_add(struct shm_arena *a, struct shm_dict *d, uint64_t hash,
             uint64_t elem, dict_hash_fn fn, const void *ctx);

/* Points an existing slot at another element with the same key. */
void dict_replace(struct shm_arena *a, const struct dict_pos *pos, uint64_t elem);

/* Removes the element at pos, then shrinks a step if the load is low. */
int dict_delete(struct shm_arena *a, struct shm_dict *d, const struct dict_pos *pos,
                dict_hash_fn fn, const void *ctx);

/* Finds the slot holding exactly `elem` (an element whose hash is `hash`). */
int dict_find_elem(const struct shm_arena *a, const struct shm_dict *d,
                   uint64_t hash, uint64_t elem, struct dict_pos *pos);

/* Calls fn for every element of the bucket(s) the cursor designates;
 * returns the next cursor, 0 when the scan is complete. */
typedef void (*dict_scan_fn)(const struct shm_arena *a, uint64_t elem, void *ctx);
uint64_t dict_scan(const struct shm_arena *a, const struct shm_dict *d,
                   uint64_t cursor, dict_scan_fn fn, void *ctx);

/*
 * Like dict_scan, but a bucket that answers for two cursors (not split yet)
 * only yields the elements of the cursor at hand (their hash, from fn, says
 * which): a table that does not change between calls returns each element
 * exactly once; one that does, at least once.  SCAN and its kin use it.
 */
uint64_t dict_scan_exact(const struct shm_arena *a, const struct shm_dict *d,
                         uint64_t cursor, dict_hash_fn hfn, const void *hctx,
                         dict_scan_fn fn, void *ctx);

/* A random element (0 if empty); `rnd` is a fresh random 64-bit number. */
uint64_t dict_random(const struct shm_arena *a, const struct shm_dict *d,
                     uint64_t rnd);

/* Visits every element; stops early when fn returns non-zero (returned). */
typedef int (*dict_each_fn)(const struct shm_arena *a, uint64_t elem,
                            const uint64_t *slot, void *ctx);
int dict_each(const struct shm_arena *a, const struct shm_dict *d,
              dict_each_fn fn, void *ctx);

/* Resumable iteration over every element (no changes meanwhile). */
struct dict_iter {
    const struct shm_dict *d;
    uint64_t bucket;              /* head bucket index being walked */
    const uint64_t *b;            /* current bucket (head or child), or NULL */
    int slot;
};
void dict_iter_init(const struct shm_dict *d, struct dict_iter *it);
uint64_t dict_iter_next(const struct shm_arena *a, struct dict_iter *it);  /* 0 at the end */

/*
 * Frees a dead table a step at a time: drops whole bucket chains from the
 * end, calling free_elem (if not NULL) for each element, then the table's
 * memory once no bucket is left.  Returns the work done (elements freed,
 * at least 1 per step), 0 once the table is gone.  The dict's count is not
 * maintained: the table is garbage.
 */
uint64_t dict_drain_step(struct shm_arena *a, struct shm_dict *d,
                         void (*free_elem)(struct shm_arena *a, uint64_t elem),
                         uint64_t budget);

/* Frees the table's own memory (not the elements) and empties it. */
void dict_free(struct shm_arena *a, struct shm_dict *d);

/* Visits every block the dict owns (directory, segments, child buckets). */
typedef int (*dict_block_fn)(const struct shm_arena *a, uint64_t block,
                             int kind, void *ctx);
#define DICT_BLOCK_DIR   1
#define DICT_BLOCK_SEG   2
#define DICT_BLOCK_CHILD 3
int dict_blocks(const struct shm_arena *a, const struct shm_dict *d,
                dict_block_fn fn, void *ctx);

/* Bucket index a hash maps to, and the bucket's offset (check.c, tests). */
uint64_t dict_bucket_index(const struct shm_dict *d, uint64_t hash);
uint64_t dict_bucket_off(const struct shm_arena *a, const struct shm_dict *d,
                         uint64_t index);

/* Validates the table's shape (check.c); 0 or -1 with a message. */
int dict_validate(const struct shm_arena *a, const struct shm_dict *d, int exact,
                  char *err, size_t errlen);

/* Bytes of table memory (buckets, children, directory) per element. */
uint64_t dict_mem(const struct shm_arena *a, const struct shm_dict *d);

#endif /* SHM_DICT_H */
