/*
 * check.h - the arena consistency check.
 *
 * shm_check() walks the whole arena and verifies every invariant of the
 * allocator (runs tile every heap segment, page map entries agree, free
 * lists and slab lists hold exactly the free runs and partial slabs, slab
 * bitmaps agree with their counts, used bytes and block counts are exact)
 * and of the keyspace (every table's shape, every element in the bucket
 * its hash designates with the right tag, entries well-formed and inside
 * their blocks, no duplicate keys, expires exactly the entries with an
 * expiry), then proves there are no leaks: every allocated block is
 * reachable from the header exactly once.
 *
 * It reads only; it runs in time linear in the arena's size and blocks
 * (about a second per GB on this kind of machine) and uses process memory
 * of about 9 bytes per allocated block.
 */
#ifndef SHM_CHECK_H
#define SHM_CHECK_H

#include <stdint.h>

#include "arena.h"

struct shm_check_report {
    uint64_t heap_segs;      /* segments with a page map */
    uint64_t huge_blocks;
    uint64_t free_segs;      /* free whole segments */
    uint64_t free_runs;
    uint64_t free_pages;
    uint64_t slabs;
    uint64_t large_blocks;
    uint64_t blocks;         /* allocated blocks */
    uint64_t used;           /* bytes in allocated blocks */
    uint64_t keys;           /* entries in all databases */
    uint64_t expires;
    uint64_t garbage;        /* nodes on the garbage list */
    uint64_t errors;
    char first_error[256];
};

/* Flags for shm_check(). */
#define SHM_CHECK_F_NOLEAKS 1u   /* skip the reachability pass: for tests
                                    of the allocator alone, whose blocks
                                    nothing in the arena references */

/* Returns EMBER_OK, or EMBER_ECORRUPT with the first problem described. */
int shm_check(struct shm_arena *a, struct shm_check_report *r);
int shm_check_flags(struct shm_arena *a, struct shm_check_report *r, unsigned flags);

/*
 * For collection types checking their structures (ks.h's check hooks):
 * shm_check_mark() proves `off` starts an allocated block nobody else
 * references and claims it (0, or -1 with the failure recorded);
 * shm_check_fail() records a failure and returns -1.
 */
struct shm_check_ctx;
int shm_check_mark(struct shm_check_ctx *c, uint64_t off, const char *what);
int shm_check_fail(struct shm_check_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const struct shm_arena *shm_check_arena(const struct shm_check_ctx *c);

#endif /* SHM_CHECK_H */
