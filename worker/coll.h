/*
 * coll.h - helpers the collection commands share (t_hash.c defines them).
 *
 * Lookups return a keyspace reference (struct ks_ref) with the key's
 * bytes, so that a type's put can create the key; random picks and
 * HSCAN/SSCAN work on hset values (hashes and sets).
 */
#ifndef EMBER_COLL_H
#define EMBER_COLL_H

#include "server.h"

/* A member (and value, for hashes) chosen or collected from a value. */
struct coll_pick {
    const uint8_t *m, *v;
    size_t mlen, vlen;
};

/* Looks key up (reading: hits/misses counted; or for writing) as a ks_ref
 * that keeps the key's bytes.  Returns the entry's offset, 0 if absent. */
uint64_t coll_lookup(struct cmd_ctx *x, const struct resp_arg *key, int write,
                     struct ks_ref *r);

/* Looks argv[i] up as a value of `type`: 1 found, 0 absent, -1 when it
 * holds another type (WRONGTYPE replied). */
int coll_open(struct cmd_ctx *x, int i, unsigned type, int write, struct ks_ref *r);

/* Parses argv[i] as a count >= min; replies msg (or Redis's messages) on
 * a bad integer or one out of range.  0 or -1 (replied). */
int coll_arg_count(struct cmd_ctx *x, int i, long long min, long long *v, const char *msg);

/* `count` distinct random members of the hset r (0 < count < size): a
 * malloc'd array, NULL when out of memory; pointers into the arena. */
struct coll_pick *coll_sample(const struct ks_ref *r, uint64_t size, uint64_t count);

/* Replies count random members of the hset r, repeats allowed (elements
 * only: the caller wrote the header). */
void coll_reply_random(struct cmd_ctx *x, const struct ks_ref *r, uint64_t size, uint64_t count,
                       int withvalues);

/* HDEL / SREM / ZREM key member...: removes each member with `del` and
 * replies how many were there. */
void coll_del_members(struct cmd_ctx *x, unsigned type,
                      int (*del)(struct shm_arena *, struct ks_ref *, const void *, size_t, int *));

/* HSCAN / SSCAN key cursor [MATCH pattern] [COUNT count]. */
void coll_scan(struct cmd_ctx *x, unsigned type);

/* What HSCAN, SSCAN and ZSCAN were asked. */
struct coll_scan_args {
    uint64_t cursor;
    long long count;             /* COUNT, default 10 */
    const char *pat;             /* MATCH; NULL when absent or "*" */
    size_t plen;
};

/* Parses "key cursor [MATCH pattern] [COUNT count]" in Redis's order
 * (scanGenericCommand): the cursor, then the key (a missing one replies an
 * empty scan whatever the options), then the options.  1 with *r and *a
 * when the key holds a `type`, else 0 (replied). */
int coll_scan_begin(struct cmd_ctx *x, unsigned type, struct ks_ref *r,
                    struct coll_scan_args *a);

/* Does member m pass the MATCH pattern? */
int coll_scan_match(const struct coll_scan_args *a, const uint8_t *m, size_t mlen);

#endif
