/*
 * alloc.h - the allocator that lives inside an arena.
 *
 * Three tiers, all metadata inside the arena, no header on small blocks:
 *
 *   small  (<= SHM_SMALL_MAX)  size classes 8 bytes apart up to 256, 16
 *          up to 512, 8 per doubling above; blocks live in slabs (runs of pages
 *          holding one class) with an allocation bitmap in the slab header.
 *   large  (<= SHM_LARGE_MAX)  a run of 4 KiB pages inside a heap segment.
 *   huge   one or more whole contiguous 2 MiB segments.
 *
 * Every operation must run inside a mutation (arena.h): metadata stores are
 * logged, so a rollback frees what the mutation allocated and restores what
 * it freed.  A typical small alloc or free costs two logged stores (one
 * bitmap word, one slab header word); used bytes are settled once per
 * mutation at commit.
 *
 * Errors: EMBER_ELIMIT when growing the region would pass the arena's size
 * limit, EMBER_ENOSPC / EMBER_ENOHUGE when the device is full, EMBER_ENOMEM
 * when the address space reservation is exhausted, EMBER_ETOOBIG for sizes
 * no arena could hold.  A failed allocation changes nothing.
 */
#ifndef SHM_ALLOC_H
#define SHM_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define SHM_SMALL_MAX  16384u
#define SHM_LARGE_MAX  ((SHM_SEG_PAGES - 1) * SHM_PAGE_SIZE)  /* 2044 KiB */
#define SHM_ALLOC_MAX  (1ull << 40)

/* Allocates `size` bytes (contents undefined); the offset in *off. */
int shm_alloc(struct shm_arena *a, size_t size, uint64_t *off);

/* Like shm_alloc, zero-filled. */
int shm_calloc(struct shm_arena *a, size_t size, uint64_t *off);

/*
 * Frees a block returned by shm_alloc.  `off` must be a block start.  The
 * block is released when the mutation commits, never reused before.
 */
void shm_free(struct shm_arena *a, uint64_t off);

/*
 * Gives back to the system the memory of free page runs of at least
 * SHM_RELEASE_PAGES pages (all of a run but its first page, which holds its
 * links), so pages freed and not reused soon stop counting against the
 * machine; reusing them later costs a page fault per page.  Outside
 * mutations only (the owner's periodic tick); looks at `budget` runs at
 * most.  Returns the number of runs it released.
 */
#define SHM_RELEASE_PAGES 16u
unsigned shm_release_free(struct shm_arena *a, unsigned budget);

/* Releases the mutation's freed blocks (shm_commit calls it). */
void shm_flush_frees(struct shm_arena *a);

/*
 * Resizes a block: keeps it when the new size fits its size class, else
 * allocates, copies min(old, new) bytes and frees the old one.  On failure
 * the old block is untouched.
 */
int shm_realloc(struct shm_arena *a, uint64_t off, size_t size, uint64_t *newoff);

/* The usable size of an allocated block (its class size, >= requested). */
size_t shm_usable(const struct shm_arena *a, uint64_t off);

/* The size a request of `size` bytes really takes. */
size_t shm_alloc_size(size_t size);

/* Is `off` the start of a currently allocated block?  (checks, tests) */
int shm_is_block(const struct shm_arena *a, uint64_t off);

/* Statistics gathered by walking the heap (check.c, benchmarks). */
struct shm_alloc_stats {
    uint64_t used;          /* bytes in allocated blocks */
    uint64_t blocks;        /* allocated blocks */
    uint64_t heap;          /* bytes of segments in use (incl. metadata) */
    uint64_t free_pages;    /* free pages inside heap segments */
    uint64_t free_segs;     /* free whole segments */
    uint64_t slab_free;     /* free bytes inside slabs */
    uint64_t slabs;
};

/* Number of size classes and the block size of class c (for tests). */
unsigned shm_nclasses(void);
size_t shm_class_size(unsigned c);
unsigned shm_class_pages(unsigned c);
unsigned shm_class_blocks(unsigned c);
unsigned shm_class_start(unsigned c);
unsigned shm_size_class(size_t size);

/* Internal entry points shared with arena.c and check.c. */
void shm_alloc_init_tables(void);
int shm_grow_heap(struct shm_arena *a, uint64_t nsegs, uint64_t *segoff);
int shm_alloc_log_chunk(struct shm_arena *a, size_t size, uint64_t *off);

#endif /* SHM_ALLOC_H */
