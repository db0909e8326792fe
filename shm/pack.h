/*
 * pack.h - packs: compact sequences of byte strings.
 *
 * The compact encoding of small collections (like Redis's listpack) and the
 * nodes of big lists.  A pack is one contiguous byte range:
 *
 *   OFFSET SIZE  MEANING
 *      0     4   number of elements
 *      4     4   total bytes of the pack, header included
 *      8     -   elements: a varint length (7 bits per byte, low first,
 *                high bit = more) followed by that many bytes
 *
 * A 10-byte element costs 11 bytes.  Packs are small (collections convert
 * to full structures past configurable thresholds), so operations are
 * linear scans and rewrites: a change builds a new pack in a fresh block,
 * which the keyspace links in with one logged store.  No pointer, no
 * alignment requirement: a pack can live anywhere in an entry.
 */
#ifndef SHM_PACK_H
#define SHM_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PACK_HDR 8u

static inline uint32_t pack_count(const uint8_t *p)
{
    uint32_t n;
    memcpy(&n, p, 4);
    return n;
}

static inline uint32_t pack_bytes(const uint8_t *p)
{
    uint32_t n;
    memcpy(&n, p + 4, 4);
    return n;
}

static inline void pack_set_header(uint8_t *p, uint32_t count, uint32_t bytes)
{
    memcpy(p, &count, 4);
    memcpy(p + 4, &bytes, 4);
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

static inline void pack_iter(const uint8_t *pack, struct pack_it *it)
{
    it->p = pack + PACK_HDR;
    it->end = pack + pack_bytes(pack);
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

/* Offset (from the pack start) of element i, or 0 if out of range. */
size_t pack_offset(const uint8_t *pack, uint32_t i);

/* Validates a pack of `avail` bytes at most: header, every element inside,
 * count matches.  0 or -1. */
int pack_validate(const uint8_t *pack, size_t avail);

/*
 * Builds a new pack in dst from src, replacing elements [from, from+ndel)
 * with the nins given ones (any of ndel/nins may be 0).  dst must have
 * pack_edit_size() bytes.  Returns the new pack's size.
 */
struct pack_str {
    const void *s;
    size_t len;
};
size_t pack_edit_size(const uint8_t *src, uint32_t from, uint32_t ndel,
                      const struct pack_str *ins, uint32_t nins);
size_t pack_edit(uint8_t *dst, const uint8_t *src, uint32_t from, uint32_t ndel,
                 const struct pack_str *ins, uint32_t nins);

/* An empty pack in dst (PACK_HDR bytes). */
static inline void pack_init(uint8_t *dst)
{
    pack_set_header(dst, 0, PACK_HDR);
}

#endif /* SHM_PACK_H */
