/*
 * pack.c - packs (see pack.h).
 */
#include "pack.h"

size_t pack_put(uint8_t *dst, const void *s, size_t len)
{
    size_t n = 0, v = len;

    while (v >= 0x80) {
        dst[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    dst[n++] = (uint8_t)v;
    memcpy(dst + n, s, len);
    return n + len;
}

size_t pack_get(const uint8_t *p, const uint8_t *end, const uint8_t **s, size_t *len)
{
    uint64_t v = 0;
    size_t n = 0;
    unsigned shift = 0;

    for (;;) {
        if (p + n >= end || shift > 35)
            return 0;
        v |= (uint64_t)(p[n] & 0x7f) << shift;
        if (!(p[n++] & 0x80))
            break;
        shift += 7;
    }
    if (v > (uint64_t)(end - p) - n)
        return 0;
    *s = p + n;
    *len = (size_t)v;
    return n + (size_t)v;
}

size_t pack_offset(const uint8_t *pack, size_t len, uint32_t i)
{
    const uint8_t *p = pack + PACK_HDR, *end = pack + len, *s;
    size_t slen;

    if (i >= pack_count(pack))
        return 0;
    while (i--) {
        size_t n = pack_get(p, end, &s, &slen);
        if (n == 0)
            return 0;
        p += n;
    }
    return (size_t)(p - pack);
}

int pack_validate(const uint8_t *pack, size_t len)
{
    const uint8_t *p, *end, *s;
    uint32_t i, count;
    size_t slen;

    if (len < PACK_HDR)
        return -1;
    count = pack_count(pack);
    p = pack + PACK_HDR;
    end = pack + len;
    for (i = 0; i < count; i++) {
        size_t n = pack_get(p, end, &s, &slen);
        if (n == 0)
            return -1;
        p += n;
    }
    return p == end ? 0 : -1;   /* nothing after the last element */
}

/* Bytes of elements [from, from+n) of src (from must be in range). */
static size_t span_bytes(const uint8_t *src, size_t srclen, uint32_t from, uint32_t n,
                         size_t *start)
{
    const uint8_t *p = src + PACK_HDR, *end = src + srclen, *s, *first;
    size_t len;
    uint32_t i;

    for (i = 0; i < from; i++)
        p += pack_get(p, end, &s, &len);
    first = p;
    for (i = 0; i < n; i++)
        p += pack_get(p, end, &s, &len);
    *start = (size_t)(first - src);
    return (size_t)(p - first);
}

size_t pack_edit_size(const uint8_t *src, size_t srclen, uint32_t from, uint32_t ndel,
                      const struct pack_str *ins, uint32_t nins)
{
    size_t start, gone = span_bytes(src, srclen, from, ndel, &start), add = 0;
    uint32_t i;

    for (i = 0; i < nins; i++)
        add += pack_elem_size(ins[i].len);
    return srclen - gone + add;
}

size_t pack_edit(uint8_t *dst, const uint8_t *src, size_t srclen, uint32_t from,
                 uint32_t ndel, const struct pack_str *ins, uint32_t nins)
{
    size_t start, gone = span_bytes(src, srclen, from, ndel, &start), n, tail;
    uint32_t i;

    n = start;
    memcpy(dst, src, start);                       /* header + elements before */
    for (i = 0; i < nins; i++)
        n += pack_put(dst + n, ins[i].s, ins[i].len);
    tail = srclen - start - gone;
    memcpy(dst + n, src + start + gone, tail);     /* elements after */
    n += tail;
    pack_set_header(dst, pack_count(src) - ndel + nins);
    return n;
}
