/*
 * arena.h - a shard arena: attach, detach, and crash-consistent mutations.
 *
 * An arena is a region (region.h) formatted as layout.h describes.  One
 * process owns it at a time (an exclusive flock on the file, which the
 * kernel drops when the owner dies, however it dies).
 *
 * Every change to live arena data happens inside a mutation:
 *
 *     shm_begin(a);
 *     ... shm_alloc(), shm_free(), shm_set64(), shm_store() ...
 *     shm_commit(a);            (or shm_abort(a) to undo it all)
 *
 * A logged store first appends the old bytes to the undo log and only then
 * writes the new ones.  shm_commit() empties the log with one store.  If the
 * process dies anywhere in between, the next process to attach finds a
 * non-empty log and rolls it back, newest record first, which restores the
 * arena byte for byte to its state at shm_begin().  Rolling back is
 * idempotent, so dying during a rollback is harmless too.
 *
 * What needs logging: any store to bytes that are live in the state a
 * rollback would return to.  What does not: stores into blocks allocated by
 * this same mutation (a rollback frees them, their content is dead), which is
 * why new data is built in fresh blocks and linked in with a single logged
 * store.  The allocator logs its own metadata.  For "fresh" to mean "dead
 * before the mutation", a block freed by a mutation is only really freed at
 * its commit, so the same mutation can never get it back from shm_alloc()
 * and overwrite live bytes unlogged.
 *
 * Only the compiler can reorder our stores as far as a killed process is
 * concerned (the kernel keeps every store a dead process made), so the log
 * uses compiler barriers, not CPU fences.
 */
#ifndef SHM_ARENA_H
#define SHM_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bug.h"
#include "layout.h"
#include "region.h"
#include "status.h"

struct shm_arena_opts {
    struct shm_region_opts region;
    uint32_t shard_id;
    uint32_t shard_count;
    uint32_t dbcount;      /* databases, on creation (default 16) */
    uint64_t limit;        /* max region size in bytes; 0: none */
    size_t initial;        /* initial size on creation (rounded up to segments) */
    int create;            /* create the arena if it does not exist */
    int check;             /* SHM_CHECK_*: when to run shm_check() at attach */
    unsigned check_flags;  /* SHM_CHECK_F_* (tests of the allocator alone) */
    uint64_t hash_seed;    /* on creation; 0: random (tests fix it to replay) */
};

#define SHM_CHECK_NEVER   0
#define SHM_CHECK_UNCLEAN 1   /* after an unclean exit (the default) */
#define SHM_CHECK_ALWAYS  2

/* What shm_arena_open() found (a->attach). */
#define SHM_ATTACH_CREATED     1u  /* a new arena was created */
#define SHM_ATTACH_UNCLEAN     2u  /* the previous owner did not detach */
#define SHM_ATTACH_ROLLED_BACK 4u  /* an interrupted mutation was undone */
#define SHM_ATTACH_CHECKED     8u  /* shm_check() ran and passed */
#define SHM_ATTACH_HANDED_OFF 16u  /* the previous owner handed it off */

struct shm_arena {
    struct shm_region reg;
    char *base;                /* == reg.base */
    struct shm_header *hdr;    /* == base */
    int readonly;
    int inspect;               /* a private copy-on-write view (region.h) */
    unsigned attach;           /* SHM_ATTACH_* */
    uint64_t rolled_back;      /* records undone at attach */

    /* mutation state, process-local */
    int in_mut;                /* inside shm_begin() .. commit/abort */
    char *log_cur;             /* where the next undo record goes */
    char *log_lim;             /* end of the current chunk minus headroom */
    uint64_t log_chunk;        /* offset of the current undo chunk */
    int log_growing;           /* allocating an overflow chunk: use headroom */
    int64_t d_used;            /* pending change of hdr->used_bytes */
    int64_t d_nblocks;         /* pending change of hdr->nblocks */
    uint64_t *frees;           /* blocks freed by this mutation, freed for */
    size_t nfrees, cap_frees;  /*   real at commit (see shm_free) */
    uint64_t punch[8][2];      /* segment ranges to give back after commit */
    int npunch;
    uint64_t mutations;        /* committed mutations, for stats */
    uint64_t log_records;      /* records written in the current mutation */
    uint64_t log_peak;         /* most records any mutation needed */
    uint64_t reserve_ahead;    /* bytes of headroom shm_arena_tick() keeps... */
    int reserve_auto;          /* ...at most, a 64th of the heap (default) */
};

/*
 * Opens (attaches) the arena named by o->region.name, or creates it when it
 * does not exist and o->create is set.  On attach: refuses other layout
 * versions, other shards and arenas in use without touching them; rolls
 * back an interrupted mutation; after an unclean exit runs shm_check() and,
 * if it fails, renames the arena aside (<name>.corrupt-<time>) and fails.
 * On success marks the arena running, bumps its generation and returns it
 * in *out.  `err` receives a one-line explanation of any failure.
 * Errors: EMBER_EMAGIC, EMBER_EVERSION, EMBER_ESHARD, EMBER_EBUSY,
 * EMBER_ECORRUPT, EMBER_ENOENT, and the region errors (region.h).
 */
int shm_arena_open(const struct shm_arena_opts *o, struct shm_arena **out,
                   char *err, size_t errlen);

/*
 * With o->region.private_copy set, shm_arena_open() makes an inspection
 * view: the file is opened read-only and mapped copy-on-write, so rolling
 * back an interrupted mutation and checking happen in this process's pages
 * only and the arena file is never modified.  It takes a shared lock, so it
 * refuses (EMBER_EBUSY) an arena a worker owns.  Nothing may be mutated
 * through such a view; close it with shm_arena_close() as usual.
 */

/*
 * Checks, without mapping or changing anything, that the arena named by
 * o->region.name could be attached: the file's header has our magic,
 * layout version and shard, and no process holds it.  A missing arena, or
 * one whose creation died before writing anything, is fine (EMBER_ENOENT).
 * Errors: EMBER_ENOENT, EMBER_EMAGIC, EMBER_EVERSION, EMBER_ESHARD,
 * EMBER_EBUSY, region errors; `err` explains.
 */
int shm_arena_probe(const struct shm_arena_opts *o, char *err, size_t errlen);

/* Clean detach: marks the arena clean (or handed off), unmaps, unlocks,
 * frees the handle and NULLs *ap.  Must not be inside a mutation. */
void shm_arena_close(struct shm_arena **ap);
void shm_arena_handoff(struct shm_arena **ap);

/* Detaches exactly as a crash would: touches nothing.  For tests and for a
 * worker that found its arena in a state it must not judge itself. */
void shm_arena_abandon(struct shm_arena **ap);

/* Removes the arena's file (it must not be open anywhere). */
int shm_arena_unlink(const struct shm_region_opts *o);

/*
 * Housekeeping for the owner's idle moments: makes sure the region has
 * a->reserve_ahead bytes beyond the heap top (with reserve_auto, the
 * default: a 64th of the heap, between a segment and reserve_ahead), so
 * that the allocator rarely has to grow the file in the middle of a
 * command; and gives back the memory of big free page runs
 * (shm_release_free).  Outside mutations only.
 */
int shm_arena_tick(struct shm_arena *a);

/*
 * Grows the region to at least `size` bytes (by 1/64 at a time or more).
 * `exempt` lets the undo log pass the limit.  Errors: EMBER_ELIMIT, and the
 * errors of shm_region_grow().
 */
int shm_arena_grow(struct shm_arena *a, uint64_t size, int exempt);

/* Offsets and pointers. */
static inline void *shm_ptr(const struct shm_arena *a, uint64_t off)
{
    return a->base + off;
}
static inline uint64_t shm_off(const struct shm_arena *a, const void *p)
{
    return (uint64_t)((const char *)p - a->base);
}
#define SHM_PTR(a, off, type) ((type *)shm_ptr((a), (off)))

/* ---- mutations ---------------------------------------------------------- */

void shm_begin(struct shm_arena *a);
void shm_commit(struct shm_arena *a);
void shm_abort(struct shm_arena *a);

void shm_log_slow(struct shm_arena *a, const void *p, size_t n);

/*
 * Test hook: when shm_crash_countdown is set to N > 0, the Nth logged store
 * or commit (counting from 1) calls shm_crash_hook instead of proceeding;
 * the hook is expected not to return (longjmp or _exit).  Costs one
 * predictable branch when unused.
 */
extern long shm_crash_countdown;
extern void (*shm_crash_hook)(void);
void shm_crash_tick(void);

#define shm_barrier() __asm__ __volatile__("" ::: "memory")

/* Appends the current bytes of [p, p+n) to the undo log. */
static inline void shm_log(struct shm_arena *a, const void *p, size_t n)
{
    size_t rec = ((n + 7) & ~(size_t)7) + 8;
    uint64_t trailer;
    char *c = a->log_cur;

    if (UNLIKELY(shm_crash_countdown > 0))
        shm_crash_tick();
    ASSERT(a->in_mut);
    if (UNLIKELY(n > SHM_UNDO_MAXREC || c + rec > a->log_lim)) {
        shm_log_slow(a, p, n);
        return;
    }
    memcpy(c, p, n);
    trailer = (shm_off(a, p) << 16) | n;
    memcpy(c + rec - 8, &trailer, 8);
    a->log_cur = c + rec;
    a->log_records++;
    shm_barrier();
    a->hdr->log_tail = shm_off(a, a->log_cur);
    shm_barrier();
}

/* Logged stores. */
static inline void shm_set64(struct shm_arena *a, uint64_t *p, uint64_t v)
{
    shm_log(a, p, 8);
    *p = v;
}
static inline void shm_set32(struct shm_arena *a, uint32_t *p, uint32_t v)
{
    shm_log(a, p, 4);
    *p = v;
}
static inline void shm_store(struct shm_arena *a, void *dst, const void *src,
                             size_t n)
{
    shm_log(a, dst, n);
    memmove(dst, src, n);
}
/* Logs bytes the caller is about to overwrite by other means. */
static inline void shm_preserve(struct shm_arena *a, const void *p, size_t n)
{
    shm_log(a, p, n);
}

/* Used bytes including the current mutation's pending changes. */
static inline uint64_t shm_used(const struct shm_arena *a)
{
    return a->hdr->used_bytes + (uint64_t)a->d_used;
}

#endif /* SHM_ARENA_H */
