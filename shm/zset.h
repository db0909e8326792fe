/*
 * zset.h - sorted-set values.
 *
 * Members with a double score, ordered by (score, member): equal scores
 * order by member bytes (memcmp, then the shorter first), as Redis does.
 * Two encodings, chosen by size (ks_limits.zset_entries / zset_value, the
 * zset-max-listpack-* settings):
 *
 *   compact  a pack (pack.h) inline in the key's entry: member, score,
 *            member, score ... sorted by (score, member).  A score element
 *            takes the first of three forms that holds it exactly:
 *              integer  0-7 bytes, the fewest that hold it (little-endian,
 *                       sign-extended; 0 bytes for 0), for an integral
 *                       score within +-2^55 that is not -0;
 *              decimal  m / 10^k for k = 1..15 (the smallest that gives
 *                       the score back, |m| < 2^43), stored as the integer
 *                       m * 16 + k in one byte more than it needs: 2-7
 *                       bytes no integer uses (0.5 is 2, 1234.5 is 4);
 *              double   the 8 raw bytes.
 *            A pair of a short member costs mlen + 3 bytes for scores
 *            -128..127, mlen + 4 for 0.5, mlen + 10 at most (Redis's
 *            listpack: mlen + 4, mlen + 7 for "0.5" and mlen + 23 for 0.1,
 *            which it stores as "0.10000000000000001").
 *            Why not the double's 8 bytes always: most scores are
 *            counters, timestamps or GEO cells (52-bit integers), which
 *            take 1-7 bytes, or prices and ratings of a few decimals; and
 *            why not text as Redis's listpack: comparing would mean parsing.
 *            Any change writes a new entry linked with one logged store.
 *
 *   full     the entry holds the offset of a descriptor block:
 *
 *              OFFSET SIZE MEANING
 *                 0    32  dict (dict.h): member hash -> node
 *                32     8  tail: the last node
 *                40     8  length (members, < 2^32)
 *                48     4  level: the highest node level in use (>= 1)
 *                52     4  zero
 *                56   400  head: a node of ZSET_MAXLEVEL levels, no member
 *
 *            and a skiplist with spans (Redis's zskiplist, p = 1/4) whose
 *            nodes are single blocks of 12 L + 12 + varint + mlen bytes:
 *
 *              OFFSET      SIZE      MEANING
 *                 0          8       score (IEEE double)
 *                 8          8       bits 0-7: level L (1..32);
 *                                    bits 8-63: backward node (0: first)
 *                16          8 L     forward node per level (0: none)
 *                16 + 8 L    4 (L-1) span per level 1..L-1: ranks skipped
 *                                    (0 when the forward is 0); level 0's
 *                                    is implicitly 1
 *                12 L + 12   varint  member length, then the member
 *
 *            A node is also the dict's element, so a member costs one
 *            block plus a dict slot: 29 + mlen bytes of node on average
 *            (L averages 4/3) before size-class rounding, and ~13 bytes of
 *            table.  Measured (test_zset): 58 bytes per 13-byte member,
 *            where Redis 7.0 uses 113.
 *
 * A value converts to full past zset_entries members (never past
 * PACK_COUNT_MAX / 2: a pack's count is 16-bit), when a member is longer
 * than zset_value or the pack would pass 1 GB, and back to compact when a
 * full one shrinks to half the entry limit with small members.  A sorted
 * set never stays empty: removing its last member deletes the key.  NaN is
 * never a score (callers reject it; an INCR that would produce one reports
 * ZSET_NAN); -0 and 0 compare equal, and a member keeps whichever it was
 * given first.
 *
 * Pointers returned by lookups and iterators point into the arena and stay
 * valid until the key is next changed: copy what must outlive a change
 * (ZPOPMIN replies before the delete); an iterator must not be used after
 * a change to its key either.  All changing functions run inside a
 * mutation; on an error (allocation) the caller aborts it.  Ranks are
 * 0-based, as in Redis's replies.
 */
#ifndef SHM_ZSET_H
#define SHM_ZSET_H

#include "dict.h"
#include "ks.h"
#include "pack.h"

#define ZSET_MAXLEVEL 32
#define ZSET_MAXLEN   0xffffffffull   /* spans are 32-bit */

/* ---- reading --------------------------------------------------------------------- */

/* The number of members. */
uint64_t zset_len(const struct shm_arena *a, const struct ks_ref *r);

/* A member's score: 1 and *score, or 0 if m is not a member. */
int zset_score(const struct shm_arena *a, const struct ks_ref *r, const void *m, size_t mlen,
               double *score);

/* A member's 0-based rank from the lowest (rev: from the highest) score:
 * 1 with *rank and *score (either may be NULL), or 0 if m is not a member. */
int zset_rank(const struct shm_arena *a, const struct ks_ref *r, const void *m, size_t mlen,
              int rev, uint64_t *rank, double *score);

/* A score range: min..max, each bound inclusive unless its ex flag is set;
 * +-inf are fine.  min > max, or min == max with a bound exclusive, is
 * empty. */
struct zset_range {
    double min, max;
    int minex, maxex;
};

/* A lex range bound, as ZRANGEBYLEX takes it: "[m" inclusive, "(m"
 * exclusive, "-" below every member, "+" above every member.  The bytes
 * (s, len) belong to the caller and must outlive any use of the bound. */
#define ZSET_LEX_STR  0
#define ZSET_LEX_MIN  1   /* "-" */
#define ZSET_LEX_MAX  2   /* "+" */
struct zset_lex_bound {
    int kind;             /* ZSET_LEX_* */
    int ex;               /* exclusive (always set for "-" and "+", as Redis) */
    const uint8_t *s;     /* the member, for ZSET_LEX_STR */
    size_t len;
};
struct zset_lex {
    struct zset_lex_bound min, max;
};

/* Parses a lex bound argument.  EMBER_OK, or EMBER_EINVAL for anything
 * but "-", "+", "[..." and "(..." (Redis: "min or max not valid string
 * range item").  b->s points into s. */
int zset_lex_parse(const void *s, size_t len, struct zset_lex_bound *b);

/* Members in a range (ZCOUNT, ZLEXCOUNT): O(log n) for full values. */
uint64_t zset_count_score(const struct shm_arena *a, const struct ks_ref *r,
                          const struct zset_range *range);
uint64_t zset_count_lex(const struct shm_arena *a, const struct ks_ref *r,
                        const struct zset_lex *lex);

/*
 * Iterators, for ZRANGE and its variants: position one, then call
 * zset_next() until it returns 0 (or the caller's LIMIT count is reached).
 * With `rev` the walk goes from high to low scores.
 *
 *   zset_iter_rank   starts at 0-based rank `start` counted in the walk's
 *                    direction (ZREVRANGE 0 ..: the highest first) and runs
 *                    to the end: the caller counts end - start + 1.
 *   zset_iter_score  starts at the first member inside the range in the
 *                    walk's direction and stops at the range's far bound.
 *   zset_iter_lex    the same for a lex range (meaningful when every score
 *                    is equal, as Redis says; on mixed scores it behaves
 *                    like Redis's listpack/skiplist code: positioned by
 *                    the near bound, stopped by the far one).
 *
 * zset_skip() passes over n members (LIMIT offset), O(log n) for full
 * values.  The range (and the lex bound bytes) must outlive the iterator.
 */
#define ZSET_IT_WINDOW 32
struct zset_it {
    const struct shm_arena *a;
    int full;                 /* full encoding */
    int rev;                  /* walking towards lower ranks */
    int stop;                 /* which far bound ends the walk (zset.c) */
    struct zset_range range;
    struct zset_lex lex;
    uint64_t rank;            /* forward 0-based rank of the next member */
    uint64_t left;            /* members before the end of the walk */
    uint64_t desc;            /* full: the descriptor */
    uint64_t node;            /* full: the next node */
    const uint8_t *pack;      /* compact: the pack */
    size_t plen;              /* compact: its length (the entry's vlen) */
    const uint8_t *p;         /* compact, forward: the next pair */
    uint64_t wlo;             /* compact, reverse: win[] holds the offsets */
    uint32_t nwin;            /*   of pairs wlo .. wlo + nwin - 1 */
    uint32_t win[ZSET_IT_WINDOW];
};
void zset_iter_rank(const struct shm_arena *a, const struct ks_ref *r, uint64_t start, int rev,
                    struct zset_it *it);
void zset_iter_score(const struct shm_arena *a, const struct ks_ref *r,
                     const struct zset_range *range, int rev, struct zset_it *it);
void zset_iter_lex(const struct shm_arena *a, const struct ks_ref *r, const struct zset_lex *lex,
                   int rev, struct zset_it *it);
int zset_next(struct zset_it *it, const uint8_t **m, size_t *mlen, double *score);
void zset_skip(struct zset_it *it, uint64_t n);

/* A uniformly random member (ZRANDMEMBER); `rnd` is a fresh random number.
 * The value must not be empty (it never is). */
void zset_random(const struct shm_arena *a, const struct ks_ref *r, uint64_t rnd,
                 const uint8_t **m, size_t *mlen, double *score);

/* One ZSCAN step: fn gets the members the cursor covers; returns the next
 * cursor.  A compact value is returned whole, cursor 0, as Redis does. */
typedef void zset_scan_fn(void *ctx, const uint8_t *m, size_t mlen, double score);
uint64_t zset_scan(const struct shm_arena *a, const struct ks_ref *r, uint64_t cursor,
                   zset_scan_fn *fn, void *ctx);

/* "listpack" or "skiplist", for OBJECT ENCODING. */
const char *zset_encoding(const struct ks_ref *r);

/* ---- writing --------------------------------------------------------------------- */

/* zset_add flags (ZADD's options; the caller rejects NX with XX/GT/LT). */
#define ZSET_NX      0x01u   /* only add new members */
#define ZSET_XX      0x02u   /* only update existing members */
#define ZSET_GT      0x04u   /* update only to a greater score (adding is fine) */
#define ZSET_LT      0x08u   /* update only to a lower score (adding is fine) */
#define ZSET_INCR    0x10u   /* add `score` to the current one (new: 0 + score) */
/* For a value rebuilt as it was (RENAME across shards), where the encoding
 * shows (a compact -0 reads back 0): */
#define ZSET_FULL    0x20u   /* a new member makes the value full, however small */
#define ZSET_COMPACT 0x40u   /* a new member keeps it compact past the entries and
                                value limits (not past the pack's own) */

/* zset_add results (*out). */
#define ZSET_ADDED   0x01u   /* a new member */
#define ZSET_UPDATED 0x02u   /* an existing member's score changed */
#define ZSET_NOP     0x04u   /* NX, XX, GT or LT left things as they were */
#define ZSET_NAN     0x08u   /* INCR would give NaN: nothing changed */

/*
 * ZADD/ZINCRBY for one member, with Redis's zsetAdd() semantics.  When
 * r->off is 0 the key r->key is created (unless nothing is added).  *out
 * gets ZSET_* results; *newscore (may be NULL) the member's score after the
 * call unless ZSET_NOP or ZSET_NAN.  `score` must not be NaN (BUG).
 * Errors: allocation (shm_alloc, dict_add), EMBER_EFULL past ZSET_MAXLEN
 * members.
 */
int zset_add(struct shm_arena *a, struct ks_ref *r, const void *m, size_t mlen, double score,
             unsigned flags, unsigned *out, double *newscore);

/* Removes member m; *removed = 1 if it was there.  Removing the last
 * member deletes the key (r->off becomes 0).  Errors: allocation. */
int zset_del(struct shm_arena *a, struct ks_ref *r, const void *m, size_t mlen, int *removed);

/*
 * Range deletes (ZREMRANGEBY*, ZPOPMIN/MAX): *deleted gets the count.
 * Ranks are 0-based, inclusive, already normalized by the caller (end is
 * clamped to the last member; start > end deletes nothing).  Each deleted
 * member costs a bounded number of undo records (its dict slot and its
 * block); deleting every member deletes the key, which frees a big value
 * lazily.  Errors: allocation.
 */
int zset_del_range_rank(struct shm_arena *a, struct ks_ref *r, uint64_t start, uint64_t end,
                        uint64_t *deleted);
int zset_del_range_score(struct shm_arena *a, struct ks_ref *r, const struct zset_range *range,
                         uint64_t *deleted);
int zset_del_range_lex(struct shm_arena *a, struct ks_ref *r, const struct zset_lex *lex,
                       uint64_t *deleted);

extern const struct ks_type_ops zset_ops;

/* Test hook: when non-zero, the level of every new skiplist node. */
extern unsigned zset_debug_level;

/*
 * Whether a full value that shrinks to half the entry limit goes back to
 * compact.  Off by default: Redis never converts a skiplist back, and the
 * two encodings differ visibly (a compact score -0 reads back 0, as in
 * Redis's listpacks), so ember keeps the encoding Redis would have.
 */
extern int zset_shrink_to_compact;

#endif /* SHM_ZSET_H */
