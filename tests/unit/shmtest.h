/*
 * shmtest.h - helpers shared by the shm unit tests (header-only).
 *
 *   - unique arena names under /dev/shm, removed at teardown;
 *   - crash injection: run a mutation that "dies" after its Nth logged
 *     store (shm_crash_countdown + longjmp), detach exactly as a dead
 *     process would, attach again (which rolls back and checks);
 *   - arena snapshots that compare the bytes that are live in the snapshot's
 *     state: header (minus the fields an attach rewrites), page maps, free
 *     run and slab headers, allocated blocks.  Free memory may differ.
 */
#ifndef TESTS_SHMTEST_H
#define TESTS_SHMTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "shm/alloc.h"
#include "shm/arena.h"
#include "shm/check.h"
#include "shm/dict.h"
#include "shm/ks.h"
#include "shm/pack.h"

#define TEST_RESERVE (64ull << 30)   /* keep reservations modest for tools */

static char shmtest_name[128];
static unsigned shmtest_check_flags;   /* SHM_CHECK_F_NOLEAKS for allocator tests */
static unsigned shmtest_counter;

static inline struct shm_arena_opts shmtest_opts(const char *name)
{
    struct shm_arena_opts o;
    memset(&o, 0, sizeof(o));
    o.region.name = name;
    o.region.huge = SHM_HUGE_OFF;
    o.region.reserve = TEST_RESERVE;
    o.shard_id = 0;
    o.shard_count = 1;
    o.dbcount = 16;
    o.create = 1;
    o.check = getenv("EMBER_TEST_NOCHECK") ? SHM_CHECK_NEVER : SHM_CHECK_ALWAYS;
    o.check_flags = shmtest_check_flags;
    /* A fixed seed per run makes failures replayable: EMBER_TEST_SEED=n. */
    o.hash_seed = getenv("EMBER_TEST_SEED") ? strtoull(getenv("EMBER_TEST_SEED"), NULL, 0)
                                            : 0x5eed0000u + shmtest_counter;
    return o;
}

static inline const char *shmtest_newname(void)
{
    snprintf(shmtest_name, sizeof(shmtest_name), "embertest-%d-%u", (int)getpid(),
             shmtest_counter++);
    return shmtest_name;
}

/* Opens (creating) an arena, failing the test with the error text. */
static inline struct shm_arena *shmtest_open(const struct shm_arena_opts *o)
{
    struct shm_arena *a = NULL;
    char err[512];
    int rc = shm_arena_open(o, &a, err, sizeof(err));
    if (rc != EMBER_OK)
        fail_msg("shm_arena_open(%s): %s: %s", o->region.name, ember_strerror(rc), err);
    return a;
}

static inline void shmtest_unlink(const char *name)
{
    struct shm_region_opts r;
    memset(&r, 0, sizeof(r));
    r.name = name;
    (void)shm_region_unlink(&r);
}

static inline void shmtest_check(struct shm_arena *a)
{
    struct shm_check_report rep;
    int rc = shm_check_flags(a, &rep, shmtest_check_flags);
    if (rc != EMBER_OK)
        fail_msg("shm_check: %s", rep.first_error);
}

/* ---- crash injection ---------------------------------------------------- */

static jmp_buf shmtest_jmp;

static void shmtest_crash_hook(void)
{
    longjmp(shmtest_jmp, 1);
}

typedef void (*shmtest_mut_fn)(struct shm_arena *a, void *arg);

/*
 * Runs fn (which must do shm_begin .. shm_commit) with a crash after
 * `after` logged stores (0: no crash).  Returns 1 if the crash happened;
 * the arena is then abandoned and *ap is NULL.
 */
static inline int shmtest_run_crashing(struct shm_arena **ap, shmtest_mut_fn fn,
                                       void *arg, long after)
{
    shm_crash_hook = shmtest_crash_hook;
    shm_crash_countdown = after;
    if (setjmp(shmtest_jmp) != 0) {
        shm_crash_countdown = 0;
        shm_arena_abandon(ap);
        return 1;
    }
    fn(*ap, arg);
    shm_crash_countdown = 0;
    return 0;
}

/* ---- snapshots ------------------------------------------------------------ */

struct shmtest_snap {
    uint8_t *mem;
    uint8_t *live;     /* 1 byte per arena byte: compare it? */
    size_t len;
};

static inline void snap_live(struct shmtest_snap *s, uint64_t off, uint64_t len)
{
    if (off + len > s->len)
        fail_msg("snapshot: range %llu+%llu beyond %zu", (unsigned long long)off,
                 (unsigned long long)len, s->len);
    memset(s->live + off, 1, len);
}

static inline void shmtest_snap_take(struct shm_arena *a, struct shmtest_snap *s)
{
    struct shm_header *h = a->hdr;
    uint64_t seg;

    s->len = h->heap_top;
    s->mem = malloc(s->len);
    s->live = calloc(s->len, 1);
    assert_non_null(s->mem);
    assert_non_null(s->live);
    memcpy(s->mem, a->base, s->len);
    /* The header, minus what every attach rewrites. */
    snap_live(s, 0, SHM_HEADER_SIZE);
    memset(s->live + offsetof(struct shm_header, state), 0, 4);
    memset(s->live + offsetof(struct shm_header, generation), 0, 16);
    memset(s->live + offsetof(struct shm_header, region_size), 0, 8);
    memset(s->live + offsetof(struct shm_header, log_last_chunk), 0, 8);
    /* The inline undo chunk's header (its next link matters). */
    snap_live(s, SHM_UNDO_INLINE, 16);
    for (seg = SHM_SEG_SIZE; seg < h->heap_top;) {
        uint64_t *pm = SHM_PTR(a, seg, uint64_t), e0 = pm[0];
        if (SHM_PM_KIND(e0) == SHM_PM_SEGHUGE) {
            snap_live(s, seg, 8);
            snap_live(s, seg + SHM_PAGE_SIZE, SHM_PM_NSEGS(e0) * SHM_SEG_SIZE - SHM_PAGE_SIZE);
            seg += SHM_PM_NSEGS(e0) * SHM_SEG_SIZE;
        } else if (SHM_PM_KIND(e0) == SHM_PM_SEGFREE) {
            snap_live(s, seg, 8 + sizeof(struct shm_freerun));
            seg += SHM_PM_NSEGS(e0) * SHM_SEG_SIZE;
        } else {
            unsigned p = 1;
            assert_int_equal(SHM_PM_KIND(e0), SHM_PM_SEGHEAP);
            snap_live(s, seg, SHM_PAGE_SIZE);
            while (p < SHM_SEG_PAGES) {
                uint64_t e = pm[p], off = seg + ((uint64_t)p << SHM_PAGE_SHIFT);
                unsigned n = SHM_PM_NPAGES(e);
                assert_true(n > 0);
                if (SHM_PM_KIND(e) == SHM_PM_FREE) {
                    snap_live(s, off, sizeof(struct shm_freerun));
                } else if (SHM_PM_KIND(e) == SHM_PM_LARGE) {
                    snap_live(s, off, (uint64_t)n * SHM_PAGE_SIZE);
                } else {
                    unsigned c = SHM_PM_CLASS(e), i;
                    struct shm_slab *sl = SHM_PTR(a, off, struct shm_slab);
                    snap_live(s, off, shm_class_start(c));
                    for (i = 0; i < shm_class_blocks(c); i++)
                        if ((sl->bitmap[i / 64] >> (i % 64)) & 1)
                            snap_live(s, off + shm_class_start(c) + (uint64_t)i * shm_class_size(c),
                                      shm_class_size(c));
                }
                p += n;
            }
            seg += SHM_SEG_SIZE;
        }
    }
}

/* Describes what lives at an offset, for failure messages. */
static inline void shmtest_describe(struct shm_arena *a, uint64_t off, char *buf, size_t len)
{
    uint64_t seg = off & ~(uint64_t)(SHM_SEG_SIZE - 1), *pm = SHM_PTR(a, seg, uint64_t), e;
    unsigned p = (unsigned)((off - seg) >> SHM_PAGE_SHIFT);

    if (off < SHM_SEG_SIZE) {
        snprintf(buf, len, "segment 0 (header/log) +%llu", (unsigned long long)off);
        return;
    }
    e = pm[p];
    if (SHM_PM_KIND(e) == SHM_PM_SLAB) {
        unsigned c = SHM_PM_CLASS(e);
        uint64_t s = seg + ((uint64_t)SHM_PM_FIRST(e) << SHM_PAGE_SHIFT);
        long rel = (long)(off - s) - (long)shm_class_start(c);
        snprintf(buf, len, "slab %llu class %u (%zu B): %s %ld +%ld", (unsigned long long)s, c,
                 shm_class_size(c), rel < 0 ? "header" : "block",
                 rel < 0 ? 0 : rel / (long)shm_class_size(c),
                 rel < 0 ? (long)(off - s) : rel % (long)shm_class_size(c));
    } else {
        snprintf(buf, len, "segment %llu page %u entry kind %u npages %u first %u",
                 (unsigned long long)seg, p, SHM_PM_KIND(e), SHM_PM_NPAGES(e), SHM_PM_FIRST(e));
    }
}

/* Fails the test at the first live byte that differs. */
static inline void shmtest_snap_compare(struct shm_arena *a, const struct shmtest_snap *s,
                                        const char *what, long step)
{
    size_t i;

    if (a->hdr->heap_top != s->len)
        fail_msg("%s step %ld: heap top %llu, expected %zu", what, step,
                 (unsigned long long)a->hdr->heap_top, s->len);
    for (i = 0; i < s->len; i++)
        if (s->live[i] && s->mem[i] != ((uint8_t *)a->base)[i]) {
            char where[200];
            shmtest_describe(a, i, where, sizeof(where));
            fail_msg("%s step %ld: byte %zu (%s) differs after rollback (%02x, expected %02x)",
                     what, step, i, where, ((uint8_t *)a->base)[i], s->mem[i]);
        }
}

static inline void shmtest_snap_free(struct shmtest_snap *s)
{
    free(s->mem);
    free(s->live);
    memset(s, 0, sizeof(*s));
}

/*
 * The crash-at-every-step driver: for N = 1, 2, ... runs the mutation with
 * a crash after N-1 logged stores, reattaches (rollback + check) and asserts
 * the arena equals its state before the mutation, until the mutation runs
 * to completion; then runs it for real.  `stride` > 1 samples every
 * stride-th step (for mutations with huge logs).  Returns the number of
 * crash points tried.
 */
static inline long shmtest_crash_every_step(struct shm_arena **ap,
                                            const struct shm_arena_opts *o,
                                            shmtest_mut_fn fn, void *arg,
                                            const char *what, long stride)
{
    struct shmtest_snap s;
    long n, tried = 0;

    shmtest_check(*ap);
    shmtest_snap_take(*ap, &s);
    for (n = 1;; n += stride) {
        if (!shmtest_run_crashing(ap, fn, arg, n))
            break;
        {
            char err[512];
            int rc = shm_arena_open(o, ap, err, sizeof(err));
            if (rc != EMBER_OK)
                fail_msg("%s step %ld: reattach failed: %s", what, n, err);
        }
        if (n > 1 && !((*ap)->attach & SHM_ATTACH_ROLLED_BACK))
            fail_msg("%s step %ld: expected a rollback", what, n);
        if (o->check != SHM_CHECK_NEVER && !((*ap)->attach & SHM_ATTACH_CHECKED))
            fail_msg("%s step %ld: attach did not check", what, n);
        shmtest_snap_compare(*ap, &s, what, n);
        tried++;
    }
    shmtest_snap_free(&s);
    shmtest_check(*ap);
    return tried;
}

/*
 * MEMORY USAGE is exact with samples 0: deleting the key (and draining the
 * garbage list) frees exactly what ks_usage() counted in blocks, beyond
 * the table slots (8 bytes each, no block) and any change in the keys
 * table's own memory.  Deletes the key; returns its exact usage.
 */
static inline uint64_t shmtest_usage_matches_free(struct shm_arena *a, unsigned db,
                                                  const char *key)
{
    struct ks_ref r;
    struct ks_entry e;
    uint64_t usage, used0, table0, freed;

    assert_true(ks_ref_find(a, db, key, strlen(key), &r) != 0);
    ks_decode(a, r.off, &e);
    usage = ks_usage(a, r.off, 0);
    used0 = a->hdr->used_bytes;
    table0 = dict_mem(a, &ks_db(a, db)->keys) + dict_mem(a, &ks_db(a, db)->expires);
    shm_begin(a);
    assert_int_equal(ks_ref_delete(a, &r), EMBER_OK);
    shm_commit(a);
    while (ks_gc_step(a, 1000) > 0)
        ;
    freed = used0 - a->hdr->used_bytes;
    freed -= table0 - dict_mem(a, &ks_db(a, db)->keys) - dict_mem(a, &ks_db(a, db)->expires);
    assert_int_equal(freed, usage - 8 - (e.has_expire ? 8 : 0));
    return usage;
}

/*
 * Writes key as a compact value of the given type straight into a pack,
 * as the type's own writer would lay it out: the members "m000000".. of
 * count, each followed by the element `second` unless it is NULL (a
 * hash's value, a sorted set's score).  For tests near the pack's 16-bit
 * count, which commands take too long to reach.
 */
static inline void shmtest_write_compact(struct shm_arena *a, unsigned type, const char *key,
                                         uint32_t count, const char *second)
{
    size_t slen = second ? strlen(second) : 0;
    size_t n = PACK_HDR + (size_t)count * (8 + (second ? 1 + slen : 0)), pos = PACK_HDR;
    struct ks_ref r;
    uint8_t *val;
    uint32_t i;

    ks_ref_find(a, 0, key, strlen(key), &r);
    shm_begin(a);
    assert_int_equal(ks_ref_rewrite(a, &r, type, 0, n, &val), EMBER_OK);
    for (i = 0; i < count; i++) {
        char m[16];
        snprintf(m, sizeof(m), "m%06u", i);
        pos += pack_put(val + pos, m, 7);
        if (second)
            pos += pack_put(val + pos, second, slen);
    }
    assert_int_equal(pos, n);
    pack_set_header(val, second ? count * 2 : count);
    shm_commit(a);
}

#endif /* TESTS_SHMTEST_H */
