/*
 * pack.h - packs: compact sequences of byte strings.
 *
 * The compact encoding of small hashes, sets and sorted sets (like Redis's
 * listpack; lists have their own, qlist.c).  A pack is one contiguous byte
 * range:
 *
 *   OFFSET SIZE  MEANING
 *      0     2   number of elements (at most PACK_COUNT_MAX)
 *      2     -   elements: a varint length (7 bits per byte, low first,
 *                high bit = more) followed by that many bytes
 *
 * A 10-byte element costs 11 bytes.  The pack's total size is not stored:
 * a pack is always a whole value whose length its owner already keeps (a
 * keyspace entry's vlen), so every function reading a pack is given that
 * length, and the elements end exactly there.  Packs are small
 * (collections convert to full structures past configurable thresholds,
 * and always past PACK_COUNT_MAX elements), so operations are linear scans
 * and rewrites: a change builds a new pack in a fresh block, which the
 * keyspace links in with one logged store.  No pointer, no alignment
 * requirement: a pack can live anywhere in an entry.
 */
#ifndef SHM_PACK_H
#define SHM_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bug.h"

#define PACK_HDR       2u
#define PACK_COUNT_MAX 65535u   /* the header's 16-bit count */

static inline uint32_t pack_count(const uint8_t *p)
{
    uint16_t n;
    memcpy(&n, p, 2);   /* little-endian host (layout.h) */
    return n;
}

/* Writes the header.  Callers convert to a full encoding before a pack
 * would pass PACK_COUNT_MAX; one that did not is a bug, never a
 * silently wrapped count. */
static inline void pack_set_header(uint8_t *p, uint32_t count)
{
    uint16_t n = (uint16_t)count;
    BUG_ON(count > PACK_COUNT_MAX);
    memcpy(p, &n, 2);
}

/* Bytes of a varint for n, and of an element of len bytes. */
static inline size_t pack_varint_size(uint64_t n)
{
    size_t s = 1;
    while (n >= 0x80) {
        n >>= 7;
        s++;
    }
    return s;
}

static inline size_t pack_elem_size(size_t len)
{
    return pack_varint_size(len) + len;
}

/* Writes an element at dst; returns the bytes written. */
size_t pack_put(uint8_t *dst, const void *s, size_t len);

/* Reads the element at p (bounded by end); sets s/len, returns its size or
 * 0 if malformed. */
size_t pack_get(const uint8_t *p, const uint8_t *end, const uint8_t **s, size_t *len);

/* Iteration. */
struct pack_it {
    const uint8_t *p;    /* next element */
    const uint8_t *end;
    uint32_t left;       /* elements not yet returned */
};

/* Starts an iteration over the pack of len bytes at pack. */
static inline void pack_iter(const uint8_t *pack, size_t len, struct pack_it *it)
{
    it->p = pack + PACK_HDR;
    it->end = pack + len;
    it->left = pack_count(pack);
}

/* Next element: 1 and s/len, or 0 at the end. */
static inline int pack_next(struct pack_it *it, const uint8_t **s, size_t *len)
{
    size_t n;
    if (it->left == 0)
        return 0;
    n = pack_get(it->p, it->end, s, len);
    if (n == 0)
        return 0;
    it->p += n;
    it->left--;
    return 1;
}

/* Offset (from the pack start) of element i of the pack of len bytes, or 0
 * if out of range. */
size_t pack_offset(const uint8_t *pack, size_t len, uint32_t i);

/* Validates a pack of exactly len bytes: the header fits, the count matches
 * the elements and the last one ends at len.  0 or -1. */
int pack_validate(const uint8_t *pack, size_t len);

/*
 * Builds a new pack in dst from src (a valid pack of srclen bytes),
 * replacing elements [from, from+ndel) with the nins given ones (any of
 * ndel/nins may be 0; the result must hold at most PACK_COUNT_MAX, BUG
 * otherwise).  dst must have pack_edit_size() bytes.  Returns the new
 * pack's size.
 */
struct pack_str {
    const void *s;
    size_t len;
};
size_t pack_edit_size(const uint8_t *src, size_t srclen, uint32_t from, uint32_t ndel,
                      const struct pack_str *ins, uint32_t nins);
size_t pack_edit(uint8_t *dst, const uint8_t *src, size_t srclen, uint32_t from,
                 uint32_t ndel, const struct pack_str *ins, uint32_t nins);

/* An empty pack in dst (PACK_HDR bytes). */
static inline void pack_init(uint8_t *dst)
{
    pack_set_header(dst, 0);
}

#endif /* SHM_PACK_H */
