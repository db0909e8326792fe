/*
 * ring.h - single-producer single-consumer rings between workers, in shared
 * memory.
 *
 * A worker forwards a command for a key it does not own over a ring to the
 * owner, which sends the encoded reply back over the reverse ring: one ring
 * per ordered pair of workers, all in one "ring set" that the supervisor lays
 * out in a named shared-memory region.  The region outlives the workers and
 * is mapped at a different address in each, so it holds offsets, never
 * pointers, and its layout is versioned (table below).
 *
 * A ring is a power-of-two data area and two 64-bit byte counters that only
 * grow, prod (published) and cons (released).  Invariants: cons <= prod <=
 * cons + ring_bytes; both are multiples of 8; [cons, prod) is a chain of
 * whole records.  A record is a header {u32 length, u32 tag} and a payload
 * padded to 8 bytes; it never wraps: a padding record fills the rest of the
 * lap instead.  A record's position is its sequence number: a consumer
 * persists "applied up to X" and, after a crash, skips there.  The producer
 * reserves in place (zero copy) and publishes any number of records with one
 * release store.  The ring never blocks and never calls the kernel: a full
 * ring says EMBER_EAGAIN and the caller keeps a backlog.
 *
 * Wake-ups (argued in ring.c): each worker has a sleep word in the region;
 * a consumer about to block sets it, a producer that published clears it and
 * then, and only then, writes the sleeper's eventfd: nothing while the
 * consumer is awake, at most one per sleep.  A producer that found its ring
 * full is woken the same way when space is released.
 *
 * At most one live process per worker id: a replacement starts only after
 * its predecessor was reaped.
 */
#ifndef EMBER_RING_H
#define EMBER_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/*
 * Region layout, version RINGSET_VERSION.  All integers are in host byte
 * order (the region never leaves the machine); all offsets are from the
 * start of the region, which must be RING_LINE-aligned (mmap gives that).
 * L = RING_LINE = 128: two 64-byte lines, because adjacent-line prefetch
 * makes 64-byte neighbours share traffic on x86.
 *
 * Region header, at offset 0 (one line):
 *   OFFSET  SIZE  MEANING
 *        0     8  magic, RINGSET_MAGIC ("EMBERRNG" read as a little-endian u64);
 *                 written last by ringset_init()
 *        8     4  layout version, RINGSET_VERSION
 *       12     4  line size L the layout was computed with (128)
 *       16     4  number of workers N (1..RINGSET_MAX_WORKERS)
 *       20     4  reserved, zero
 *       24     8  ring_bytes: data bytes per ring (power of two,
 *                 RING_MIN_BYTES..RING_MAX_BYTES)
 *       32     8  offset of the worker table (= L)
 *       40     8  offset of the first ring (= L + N * L)
 *       48     8  ring stride: bytes from one ring to the next
 *                 (= 3 * L + ring_bytes)
 *       56     8  total size of the region (= ringset_size(N, ring_bytes))
 *       64    64  reserved, zero
 *
 * Worker table: N entries of L bytes, entry w at offset L + w * L:
 *   OFFSET  SIZE  MEANING
 *        0     4  sleep word: 0 awake, 1 sleeping (set by worker w, cleared
 *                 by w or by the one producer that wins the wake-up)
 *        4     4  reserved, zero
 *        8     8  counter "sleeps": times w's prepare_sleep said yes
 *       16     8  counter "wakes": wake-ups producers asked for w
 *       24     8  counter "full": times a ring out of w filled up
 *       32    96  reserved, zero
 *
 * Rings: N * (N - 1) of them; the ring from worker f to worker t (f != t) is
 * number k = f * (N - 1) + (t < f ? t : t - 1), at offset
 * ring_off + k * stride:
 *   OFFSET  SIZE  MEANING
 *        0     4  from: producer worker id   } identity, read-only after
 *        4     4  to: consumer worker id     } init, checked on resume
 *        8     8  ring_bytes, again          }
 *       16   112  reserved, zero
 *        L     8  producer position: bytes ever published (written by the
 *                 producer only, with release semantics)
 *      L+8     4  producer-waiting flag: set to 1 by the producer when it
 *                 finds the ring full, cleared by the consumer that releases
 *                 space and then wakes it
 *     L+12   116  reserved, zero
 *      2L      8  consumer position: bytes ever released (written by the
 *                 consumer only, with release semantics)
 *    2L+8    120  reserved, zero
 *      3L  ring_bytes  data: records; byte position p lives at data offset
 *                 p & (ring_bytes - 1)
 *
 * Record, at an 8-aligned data offset:
 *   OFFSET  SIZE  MEANING
 *        0     4  payload length in bytes (0..RING_MAX_RECORD(ring_bytes)),
 *                 or RING_PAD_LEN: padding to the end of the lap
 *        4     4  tag, opaque to the ring (0 in padding)
 *        8   len  payload, then zeroes or garbage up to the next multiple of 8
 */
#define RINGSET_MAGIC       UINT64_C(0x474e525245424d45) /* "EMBERRNG" */
#define RINGSET_VERSION     1u
#define RINGSET_MAX_WORKERS 256u
#define RING_LINE           128u
#define RING_HDR_BYTES      8u
#define RING_PAD_LEN        UINT32_C(0xffffffff)
#define RING_MIN_BYTES      ((size_t)1 << 10)
#define RING_MAX_BYTES      ((size_t)1 << 30)

/* Largest payload: a record with its header takes at most a quarter of the
 * ring, so an empty ring always takes one whatever the padding, and several
 * large records can be in flight.  Callers fragment bigger messages and mark
 * the fragments in the tag. */
#define RING_MAX_RECORD(ring_bytes) ((uint32_t)((ring_bytes) / 4 - RING_HDR_BYTES))

/* Per-worker counters kept in the region: name, help text (for INFO). */
#define RINGSET_COUNTERS(X)                                                  \
    X(sleeps, "times the worker found its rings empty and went to sleep")   \
    X(wakes,  "eventfd wake-ups producers sent to the worker")              \
    X(full,   "times a ring out of the worker filled up (backlog episodes)")

struct ringset_stats {           /* a copy of one worker's counters */
#define RINGSET_STATS_FIELD(name, help) uint64_t name;
    RINGSET_COUNTERS(RINGSET_STATS_FIELD)  /* one field per table line */
#undef RINGSET_STATS_FIELD
};

struct ringset;     /* process-local handle on a mapped region */
struct ring;        /* process-local handle on one ring of a set */

/* --- the ring set ------------------------------------------------------ */

/* Bytes a region for nworkers workers and rings of ring_bytes needs; 0 if
 * the geometry is not allowed (nworkers 1..RINGSET_MAX_WORKERS, ring_bytes a
 * power of two in RING_MIN_BYTES..RING_MAX_BYTES) or the size overflows. */
size_t ringset_size(unsigned nworkers, size_t ring_bytes);

/* Formats a region: every ring empty, every worker awake, counters zero.
 * Only the supervisor calls it, while no worker has the region mapped.
 * Errors: EMBER_EINVAL (bad geometry, mem not RING_LINE-aligned, or size
 * below ringset_size()). */
int ringset_init(void *mem, size_t size, unsigned nworkers, size_t ring_bytes);

/* Validates a formatted region and returns a handle in *out whose local
 * cursors start at the published positions.  nworkers / ring_bytes are what
 * the caller expects; 0 accepts what the region says (for tools).  The handle
 * is process-local; the region stays owned by the caller, who unmaps it after
 * ringset_detach().
 * Errors: EMBER_EINVAL (NULL or misaligned mem), EMBER_EMAGIC (not a ring
 * set), EMBER_EVERSION (other layout version), EMBER_ESHARD (other worker
 * count or ring size than expected), EMBER_ECORRUPT (header inconsistent, or
 * region shorter than the header says), EMBER_ENOMEM. */
int ringset_attach(void *mem, size_t size, unsigned nworkers,
                   size_t ring_bytes, struct ringset **out);

/* Frees the handle and NULLs *set; the region itself is untouched. */
void ringset_detach(struct ringset **set);

/* A worker process calls this once after attaching, before it uses its
 * rings, whether it is the first of its id or the replacement of a crashed
 * one.  For every ring to or from `me` it checks the identity, the positions
 * and the chain of records in flight, and reloads the local cursors from the
 * published positions: records a predecessor reserved but never committed
 * vanish; records it peeked but never released are delivered again (skip
 * them with ring_consumer_skip_to()).  It also marks `me` awake.
 * A predecessor may have died after winning a wake-up and before writing the
 * eventfd, or while its peers waited for it to free space: so a replacement
 * must write every peer's eventfd once after this call.
 * Errors: EMBER_EINVAL (me out of range), EMBER_ECORRUPT (a ring of `me` is
 * inconsistent; nothing was changed). */
int ringset_resume(struct ringset *set, unsigned me);

/* The ring from worker `from` to worker `to`; NULL if from == to or either
 * is out of range.  The pointer lives as long as the handle. */
struct ring *ringset_ring(struct ringset *set, unsigned from, unsigned to);

unsigned ringset_nworkers(const struct ringset *set);
size_t ringset_ring_bytes(const struct ringset *set);

/* Copies worker w's counters (zeroes if w is out of range). */
void ringset_stats(const struct ringset *set, unsigned w,
                   struct ringset_stats *st);

/* Consumer `me` is about to block on its eventfd.  Sets its sleep word,
 * fences, and looks again at every ring into `me` (unread data?) and every
 * ring out of `me` that was full (space released since?).  Returns true if
 * the caller may block: then a producer that publishes later will see the
 * word and wake it (true also when a producer already took the word while
 * we looked: its eventfd write is on the way, so the block ends at once).
 * Returns false, with the word cleared, if there is work; the caller must
 * not block but poll its rings (and retry its backlogs).  Each wake-up a
 * producer wins thus ends exactly one sleep this returned true for. */
bool ringset_prepare_sleep(struct ringset *set, unsigned me);

/* Producer side: call after ring_commit() (or after ring_release() returned
 * true) for the worker `to` at the other end.  Returns true, at most once per
 * sleep of `to`, if `to` was asleep: the caller then writes its eventfd.
 * Costs one full fence and one load when `to` is awake. */
bool ringset_need_wake(struct ringset *set, unsigned to);

/* Consumer `me` woke up (from its eventfd or anything else): clears its
 * sleep word so producers stop sending wake-ups. */
void ringset_awake(struct ringset *set, unsigned me);

/* --- producer ------------------------------------------------------------ */

/* Reserves room for a record of len payload bytes with the given tag and
 * stores a pointer to its payload (8-aligned, contiguous) in *data.  The
 * record stays invisible until ring_commit().  Several records may be
 * reserved before one commit.
 * Errors: EMBER_ETOOBIG (len > ring_max_record()), EMBER_EAGAIN (not enough
 * free space now; the ring asked the consumer for a wake-up on release),
 * EMBER_ECORRUPT (the consumer position in the region is impossible). */
int ring_reserve(struct ring *r, uint32_t len, uint32_t tag, void **data);

/* Shrinks the most recent uncommitted reservation to len bytes (len no more
 * than it was reserved with): reserve the worst case, encode, then shrink. */
void ring_shrink(struct ring *r, uint32_t len);

/* Publishes every record reserved since the last commit with one release
 * store.  Returns true if anything was published (then call
 * ringset_need_wake() for the consumer). */
bool ring_commit(struct ring *r);

/* Forgets every record reserved since the last commit. */
void ring_abort(struct ring *r);

/* --- consumer ------------------------------------------------------------ */

/* Returns the next record in place: its tag, payload and length.  The
 * payload stays valid and unchanged until it is released.  Peeking twice
 * returns the same record.
 * Errors: EMBER_EAGAIN (nothing published beyond the cursor), EMBER_ECORRUPT
 * (the next header or the producer position is impossible; the cursor does
 * not move). */
int ring_peek(struct ring *r, uint32_t *tag, void **data, uint32_t *len);

/* Position of the record the last successful ring_peek() returned, and the
 * position just past it (what to persist as "applied up to"). */
uint64_t ring_record_pos(const struct ring *r);
uint64_t ring_record_end(const struct ring *r);

/* Moves the cursor past the peeked record without releasing its space
 * (batch: peek/next many times, then ring_release() once). */
void ring_next(struct ring *r);

/* Moves the cursor back to pos, a position ring_cursor() returned since
 * the last release: to look ahead at unreleased records, then go back. */
void ring_rewind(struct ring *r, uint64_t pos);

/* Releases everything before the cursor to the producer with one release
 * store.  Returns true if the producer had found the ring full and asked for
 * a wake-up: then call ringset_need_wake() for it. */
bool ring_release(struct ring *r);

/* ring_next() then ring_release(); same return value. */
bool ring_consume(struct ring *r);

/* Moves the cursor to pos, a record position between the released position
 * and the published one (typically the "applied up to" a crashed
 * predecessor persisted); ring_release() then publishes it.
 * Errors: EMBER_ENOTFOUND (pos is before the released position: those bytes
 * may be overwritten already), EMBER_EINVAL (pos is beyond the published
 * position or not on a record boundary), EMBER_ECORRUPT (a header on the way
 * is impossible).  The cursor does not move on error. */
int ring_consumer_skip_to(struct ring *r, uint64_t pos);

/* --- positions and geometry ---------------------------------------------- */

uint64_t ring_producer_pos(const struct ring *r);  /* published, from the region */
uint64_t ring_consumer_pos(const struct ring *r);  /* released, from the region */
uint64_t ring_cursor(const struct ring *r);        /* this consumer's cursor */
uint32_t ring_max_record(const struct ring *r);

#endif /* EMBER_RING_H */
