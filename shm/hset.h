/*
 * hset.h - hash and set values.
 *
 * Two encodings, chosen by size (ks_limits: the *-max-listpack-entries /
 * -value settings, like Redis's):
 *
 *   compact  a pack inline in the key's entry: members (sets) or field,
 *            value pairs (hashes), in the order they came, but for a set of
 *            integers only, which keeps them in increasing order as Redis's
 *            intsets do.  Any change writes a new entry and links it with
 *            one logged store.
 *   full     the entry holds the offset of a descriptor block holding a
 *            dict (shm/dict.h) whose elements are member blocks:
 *              [varint mlen][varint vlen (hashes only)][member][value]
 *            Adding an element is one new block and one logged slot store.
 *
 * A value converts to full when it passes the limits and back to compact
 * when a full one shrinks to half the entry limit with small elements.
 * A collection never stays empty: removing its last member deletes the key.
 *
 * Pointers returned by lookups and iterators point into the arena and stay
 * valid until the mutation commits (frees are deferred), not across
 * commands.  All changing functions run inside a mutation; on an error
 * (allocation) the caller aborts it.
 */
#ifndef SHM_HSET_H
#define SHM_HSET_H

#include "dict.h"
#include "ks.h"
#include "pack.h"

/* The number of members (fields). */
uint64_t hset_len(const struct shm_arena *a, const struct ks_ref *r);

/* Looks a member up: 1 and its value (hashes; NULL/0 for sets), or 0. */
int hset_get(const struct shm_arena *a, const struct ks_ref *r, const void *m, size_t mlen,
             const uint8_t **v, size_t *vlen);

#define HSET_NX 1u      /* keep an existing member's value */

/*
 * Adds member m (a hash: sets it to v).  When r->off is 0 the key r->key
 * is created as `type` (KS_T_HASH or KS_T_SET).  *added = 1 if m is new.
 * Errors: allocation (shm_alloc, dict_add).
 */
int hset_put(struct shm_arena *a, struct ks_ref *r, unsigned type, const void *m, size_t mlen,
             const void *v, size_t vlen, unsigned flags, int *added);

/* Removes member m; *removed = 1 if it was there.  Removing the last
 * member deletes the key (r->off becomes 0). */
int hset_del(struct shm_arena *a, struct ks_ref *r, const void *m, size_t mlen, int *removed);

/* Iteration over members (and values). */
struct hset_it {
    const struct shm_arena *a;
    int full;
    int hash;                     /* has values */
    struct pack_it p;
    struct dict_iter d;
};
void hset_iter(const struct shm_arena *a, const struct ks_ref *r, struct hset_it *it);
int hset_next(struct hset_it *it, const uint8_t **m, size_t *mlen, const uint8_t **v,
              size_t *vlen);

/* A random member (uniform over members), for SRANDMEMBER/SPOP/HRANDFIELD. */
void hset_random(const struct shm_arena *a, const struct ks_ref *r, uint64_t rnd,
                 const uint8_t **m, size_t *mlen, const uint8_t **v, size_t *vlen);

/* One SSCAN/HSCAN step: fn gets the members the cursor covers; returns the
 * next cursor.  A compact value is returned whole, cursor 0, as Redis does. */
typedef void hset_scan_fn(void *ctx, const uint8_t *m, size_t mlen, const uint8_t *v,
                          size_t vlen);
uint64_t hset_scan(const struct shm_arena *a, const struct ks_ref *r, uint64_t cursor,
                   hset_scan_fn *fn, void *ctx);

/* "listpack" or "hashtable", for OBJECT ENCODING. */
const char *hset_encoding(const struct ks_ref *r);

extern const struct ks_type_ops hset_hash_ops, hset_set_ops;

#endif /* SHM_HSET_H */
