/*
 * layout.h - the on-arena format of a shard arena (layout version 5).
 *
 * A shard arena is one shared-memory region (a file in /dev/shm or on a
 * hugetlbfs mount) that outlives the process using it.  Any process of any
 * build with the same SHM_LAYOUT_VERSION can map it, at any address, and use
 * it at once.  Hence the two rules of this file:
 *
 *   - no raw pointers: every reference is a byte offset from the arena base
 *     (0 means "none", since offset 0 is the header);
 *   - every structure below has a fixed size and position, spelled out in an
 *     OFFSET / SIZE / MEANING table.  Changing any of it changes the layout
 *     version, and a binary never guesses at an arena of another version.
 *
 * Integers are stored in host byte order; ember supports little-endian hosts
 * only, and a big-endian host reads a wrong magic and refuses the arena.
 *
 * The arena is a sequence of 2 MiB segments (SHM_SEG_SIZE, also the usual
 * hugepage size, so hugetlbfs-backed arenas grow by whole hugepages):
 *
 *   segment 0      page 0: arena header (below); pages 1..511: the inline
 *                  undo log chunk.
 *   segment k>=1   heap segments (alloc.c): page 0 is the segment's page map,
 *                  one 8-byte entry per 4 KiB page; pages 1..511 hold runs of
 *                  pages (free runs, slabs of small blocks, large blocks).
 *                  A huge block (more than one segment's worth) spans several
 *                  whole segments; only its first segment has a page map page
 *                  and the block starts right after it.
 */
#ifndef SHM_LAYOUT_H
#define SHM_LAYOUT_H

#include <stdint.h>

#define SHM_MAGIC          0x4d48535245424d45ULL /* "EMBERSHM" little-endian */
#define SHM_LAYOUT_VERSION 5u

#define SHM_PAGE_SHIFT     12
#define SHM_PAGE_SIZE      (1u << SHM_PAGE_SHIFT)            /* 4 KiB */
#define SHM_SEG_SHIFT      21
#define SHM_SEG_SIZE       (1ul << SHM_SEG_SHIFT)            /* 2 MiB */
#define SHM_SEG_PAGES      (SHM_SEG_SIZE / SHM_PAGE_SIZE)    /* 512 */
#define SHM_HEADER_SIZE    SHM_PAGE_SIZE

/* Arena states (header.state). */
#define SHM_STATE_RUNNING    1u  /* a process owns it; seen at attach = crash */
#define SHM_STATE_CLEAN      2u  /* detached after a clean shutdown */
#define SHM_STATE_HANDED_OFF 3u  /* released to a successor (upgrade) */

/* Header flags. */
#define SHM_FLAG_HUGETLB     1u  /* region lives on hugetlbfs */

#define SHM_NBINS            64  /* page-run free lists (alloc.c) */
#define SHM_NCLASSES         96  /* slab size classes, upper bound (alloc.c) */
#define SHM_MAX_PEERS       128  /* workers whose ring positions we track */

/*
 * The arena header: page 0 of segment 0.
 *
 * OFFSET SIZE  MEANING
 *    0     8   magic, SHM_MAGIC
 *    8     4   layout version, SHM_LAYOUT_VERSION
 *   12     4   header size in bytes (SHM_HEADER_SIZE)
 *   16     4   shard id (0-based)
 *   20     4   shard count
 *   24     4   state: SHM_STATE_*
 *   28     4   flags: SHM_FLAG_*
 *   32     8   generation: incremented by every attach
 *   40     8   pid of the process that attached last
 *   48     8   creation time, unix milliseconds
 *   56     8   hash seed for XXH3 keyspace hashing (random per arena)
 *   64     8   region size in bytes (grows by whole segments)
 *   72     8   heap top: offset just past the last segment ever handed out
 *   80     8   size limit in bytes (0: none); growth past it fails ELIMIT
 *   88     8   undo log tail: offset just past the newest record, 0 = empty.
 *              Emptying the log (commit) is the single store of 0 here.
 *   96     8   offset of the last overflow undo chunk (0: only the inline one)
 *  104     8   used bytes: sum of the sizes of all allocated blocks
 *  112     8   allocated block count
 *  120     8   free segment list: offset of the lowest free segment run
 *  128     8   page bins non-empty bitmap (bit i: bin i has a free run)
 *  136   512   page bins: SHM_NBINS list heads (offset of a free run's first
 *              page; the run's page holds next/prev links)
 *  648   768   slab partial lists: SHM_NCLASSES heads (offset of a slab with
 *              free blocks; slab header holds next/prev)
 * 1416     4   database count
 * 1420     4   reserved (0)
 * 1424     8   offset of the database array (dbcount * struct shm_db)
 * 1432     8   garbage list: offset of the first object awaiting incremental
 *              free (values too big to free within one command)
 * 1440     8   ring epoch: the ring set the positions below refer to; a
 *              worker finding another epoch forgets them
 * 1448     8   reserved (zero)
 * 1456  1024   ring positions: for each other worker w (up to
 *              SHM_MAX_PEERS), the position in w's ring to this shard up to
 *              which forwarded commands have been applied here.  Stored in
 *              the same mutation as the command, so a successor skips
 *              exactly what was committed: each forwarded write applies
 *              once, crash or not.
 * 2480  1616   reserved (zero)
 */
struct shm_header {
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    uint32_t shard_id;
    uint32_t shard_count;
    uint32_t state;
    uint32_t flags;
    uint64_t generation;
    uint64_t owner_pid;
    uint64_t created_ms;
    uint64_t hash_seed;
    uint64_t region_size;
    uint64_t heap_top;
    uint64_t limit;
    uint64_t log_tail;
    uint64_t log_last_chunk;
    uint64_t used_bytes;
    uint64_t nblocks;
    uint64_t free_segs;
    uint64_t bins_nonempty;
    uint64_t bins[SHM_NBINS];
    uint64_t partial[SHM_NCLASSES];
    uint32_t dbcount;
    uint32_t reserved0;
    uint64_t dbs;
    uint64_t garbage;
    uint64_t ring_epoch;
    uint64_t reserved1;
    uint64_t ring_applied[SHM_MAX_PEERS];
    uint8_t  reserved2[1616];
};

_Static_assert(sizeof(struct shm_header) == SHM_HEADER_SIZE, "header size");
_Static_assert(__builtin_offsetof(struct shm_header, log_tail) == 88, "log_tail");
_Static_assert(__builtin_offsetof(struct shm_header, bins) == 136, "bins");
_Static_assert(__builtin_offsetof(struct shm_header, partial) == 648, "partial");
_Static_assert(__builtin_offsetof(struct shm_header, dbcount) == 1416, "dbcount");
_Static_assert(__builtin_offsetof(struct shm_header, ring_applied) == 1456, "ring_applied");

/*
 * Undo log chunk: the inline chunk fills segment 0 after the header; overflow
 * chunks are ordinary allocated blocks.  Records grow upwards from `data`;
 * each is the old bytes (padded to 8) followed by one trailer word
 * (arena offset << 16 | length), so rollback walks backwards from the tail.
 *
 * OFFSET SIZE  MEANING
 *    0     8   offset of the previous chunk (0 for the inline chunk)
 *    8     8   offset of the next chunk (0: none)
 *   16     8   capacity in bytes of the record area
 *   24     8   end of records in this chunk, written when the log moves on to
 *              the next chunk (rollback resumes here)
 *   32     -   records
 */
struct shm_undo_chunk {
    uint64_t prev;
    uint64_t next;
    uint64_t cap;
    uint64_t end;
};
#define SHM_UNDO_INLINE      SHM_HEADER_SIZE
#define SHM_UNDO_INLINE_CAP  (SHM_SEG_SIZE - SHM_HEADER_SIZE - sizeof(struct shm_undo_chunk))
#define SHM_UNDO_MAXREC      0xffffu  /* longest single record, bytes */

/*
 * Page map entry (alloc.c): one uint64_t per page of a heap segment, the map
 * itself being page 0.  Every run of pages (free, slab or large) keeps valid
 * entries at its first and its last page; a slab keeps every page's entry
 * valid so that a block offset finds its slab.
 *
 * BITS   MEANING
 *  0-3   kind: SHM_PM_*
 *  4-13  run length in pages (first and last page of a run)
 * 14-22  index of the run's first page (every entry of the run)
 * 23-30  size class (slabs)
 * 31-63  for entry 0 (the map page itself): kind SHM_PM_SEGHEAP or
 *        SHM_PM_SEGHUGE, and for a huge block its length in segments
 *        (bits 31-63); otherwise 0.
 */
#define SHM_PM_NONE     0u  /* never used: inner page of a run */
#define SHM_PM_FREE     1u  /* free run of pages */
#define SHM_PM_SLAB     2u  /* slab of small blocks */
#define SHM_PM_LARGE    3u  /* one large block */
#define SHM_PM_SEGHEAP  4u  /* entry 0: this is a heap segment */
#define SHM_PM_SEGHUGE  5u  /* entry 0: a huge block starts at page 1 */
#define SHM_PM_SEGFREE  6u  /* entry 0: first segment of a free segment run */

#define SHM_PM_KIND(e)     ((unsigned)((e) & 0xf))
#define SHM_PM_NPAGES(e)   ((unsigned)(((e) >> 4) & 0x3ff))
#define SHM_PM_FIRST(e)    ((unsigned)(((e) >> 14) & 0x1ff))
#define SHM_PM_CLASS(e)    ((unsigned)(((e) >> 23) & 0xff))
#define SHM_PM_NSEGS(e)    ((uint64_t)(e) >> 31)
#define SHM_PM_MAKE(kind, npages, first, cls) \
    ((uint64_t)(kind) | ((uint64_t)(npages) << 4) | \
     ((uint64_t)(first) << 14) | ((uint64_t)(cls) << 23))
#define SHM_PM_MAKESEG(kind, nsegs) ((uint64_t)(kind) | ((uint64_t)(nsegs) << 31))

/*
 * A free run of pages keeps its list links in its first page; a free run of
 * segments keeps them in its first segment's page 0, right after entry 0
 * (which says SHM_PM_SEGFREE).  Handing such a page out logs these bytes
 * first, since they are live metadata in the state a rollback returns to.
 *
 * OFFSET SIZE  MEANING
 *    0     8   next run in the same bin / list (0: end)
 *    8     8   previous run (0: this is the head)
 *   16     8   length: pages (page runs) or segments (segment runs)
 *   24     8   page runs: 1 once the pages after the first were given back
 *              to the system (shm_release_free), a hint written unlogged
 */
struct shm_freerun {
    uint64_t next;
    uint64_t prev;
    uint64_t len;
    uint64_t released;
};

/*
 * Slab header: at the start of every slab (a run of pages of one class).
 *
 * OFFSET SIZE  MEANING
 *    0     4   summary: bit i set when bitmap word i has a free block
 *    4     2   free block count
 *    6     1   size class
 *    7     1   reserved (0)
 *    8     8   next slab in the class's partial list (0: end)
 *   16     8   previous slab (0: head)
 *   24   8*W   allocation bitmap, bit set = block allocated (W <= 32)
 *    -     -   blocks, from a class-specific aligned start (alloc.c)
 */
struct shm_slab {
    uint32_t summary;
    uint16_t nfree;
    uint8_t  cls;
    uint8_t  reserved;
    uint64_t next;
    uint64_t prev;
    uint64_t bitmap[];
};
#define SHM_SLAB_MAXWORDS 32
#define SHM_SLAB_MAXBLOCKS (SHM_SLAB_MAXWORDS * 64)

/*
 * Database descriptor: two linear hash tables (dict.h) per database, the
 * keyspace and the keys that carry an expiry.  The array of them is one
 * allocated block; header.dbs points at it.
 */
struct shm_dict {
    uint64_t count;      /* entries */
    uint64_t nbuckets;   /* buckets in use: 2^level + split */
    uint32_t level;      /* buckets [0, split) are addressed with level+1 bits */
    uint32_t dirlen;     /* capacity of the directory, in segments */
    uint64_t dir;        /* offset of the directory: dirlen bucket-segment offsets */
};
_Static_assert(sizeof(struct shm_dict) == 32, "dict size");

struct shm_db {
    struct shm_dict keys;
    struct shm_dict expires;
};

#endif /* SHM_LAYOUT_H */
