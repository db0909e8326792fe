/*
 * test_hset.c - hash and set values: both encodings, conversions both ways,
 * random members, scans, lazy freeing, and crash-at-every-step for every
 * changing path; and the pack format they use (pack.h): validation against
 * the owner's length, and the 16-bit element count.
 */
#include <signal.h>
#include <sys/wait.h>

#include "shmtest.h"
#include "shm/hset.h"

struct fixture {
    char name[128];
    struct shm_arena_opts o;
    struct shm_arena *a;
    struct ks_limits limits;      /* restored at teardown */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", shmtest_newname());
    f->o = shmtest_opts(f->name);
    f->a = shmtest_open(&f->o);
    f->limits = ks_limits;
    /* The tests convert at 128 entries for hashes and sets alike (Redis's
     * hash default is 512). */
    ks_limits.hash_entries = 128;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ks_limits = f->limits;
    if (f->a)
        shm_arena_close(&f->a);
    shmtest_unlink(f->name);
    free(f);
    return 0;
}

static void put(struct shm_arena *a, unsigned type, const char *key, const char *m,
                const char *v, int expect_added)
{
    struct ks_ref r;
    int added;

    ks_ref_find(a, 0, key, strlen(key), &r);
    shm_begin(a);
    assert_int_equal(hset_put(a, &r, type, m, strlen(m), v, v ? strlen(v) : 0, 0, &added),
                     EMBER_OK);
    shm_commit(a);
    assert_int_equal(added, expect_added);
}

static int del(struct shm_arena *a, const char *key, const char *m)
{
    struct ks_ref r;
    int removed;

    if (!ks_ref_find(a, 0, key, strlen(key), &r))
        return -1;
    shm_begin(a);
    assert_int_equal(hset_del(a, &r, m, strlen(m), &removed), EMBER_OK);
    shm_commit(a);
    return removed;
}

static int get(struct shm_arena *a, const char *key, const char *m, char *out)
{
    struct ks_ref r;
    const uint8_t *v;
    size_t vl;

    if (!ks_ref_find(a, 0, key, strlen(key), &r))
        return -1;
    if (!hset_get(a, &r, m, strlen(m), &v, &vl))
        return 0;
    if (out) {
        if (vl)                     /* a set member has no value (v NULL) */
            memcpy(out, v, vl);
        out[vl] = '\0';
    }
    return 1;
}

static struct ks_ref ref(struct shm_arena *a, const char *key)
{
    struct ks_ref r;
    assert_true(ks_ref_find(a, 0, key, strlen(key), &r) != 0);
    return r;
}

static void test_hash_basics(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    char v[256];
    struct ks_ref r;

    put(a, KS_T_HASH, "h", "name", "ember", 1);
    put(a, KS_T_HASH, "h", "kind", "cache", 1);
    put(a, KS_T_HASH, "h", "name", "ember2", 0);      /* update */
    assert_int_equal(get(a, "h", "name", v), 1);
    assert_string_equal(v, "ember2");
    assert_int_equal(get(a, "h", "nope", v), 0);
    r = ref(a, "h");
    assert_int_equal(r.e.type, KS_T_HASH);
    assert_int_equal(r.e.enc, 0);
    assert_int_equal(hset_len(a, &r), 2);
    {
        /* NX keeps the value. */
        int added;
        shm_begin(a);
        assert_int_equal(hset_put(a, &r, KS_T_HASH, "kind", 4, "other", 5, HSET_NX, &added),
                         EMBER_OK);
        shm_commit(a);
        assert_int_equal(added, 0);
        assert_int_equal(get(a, "h", "kind", v), 1);
        assert_string_equal(v, "cache");
    }
    /* Empty field and value are fine. */
    put(a, KS_T_HASH, "h", "", "", 1);
    assert_int_equal(get(a, "h", "", v), 1);
    assert_string_equal(v, "");
    assert_int_equal(del(a, "h", "name"), 1);
    assert_int_equal(del(a, "h", "name"), 0);
    assert_int_equal(del(a, "h", "kind"), 1);
    assert_int_equal(del(a, "h", ""), 1);
    /* The last member took the key with it. */
    assert_int_equal(get(a, "h", "x", NULL), -1);
    assert_int_equal(ks_count(a, 0), 0);
    shmtest_check(a);
}

static void test_set_basics(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct ks_ref r;
    struct hset_it it;
    const uint8_t *m, *v;
    size_t ml, vl;
    int n = 0;

    put(a, KS_T_SET, "s", "a", NULL, 1);
    put(a, KS_T_SET, "s", "b", NULL, 1);
    put(a, KS_T_SET, "s", "a", NULL, 0);
    r = ref(a, "s");
    assert_int_equal(r.e.type, KS_T_SET);
    assert_int_equal(hset_len(a, &r), 2);
    assert_int_equal(get(a, "s", "a", NULL), 1);
    assert_int_equal(get(a, "s", "c", NULL), 0);
    hset_iter(a, &r, &it);
    while (hset_next(&it, &m, &ml, &v, &vl)) {
        assert_true(ml == 1 && (m[0] == 'a' || m[0] == 'b'));
        assert_null(v);
        n++;
    }
    assert_int_equal(n, 2);
    shmtest_check(a);
}

/* The members of set `key` in listing order, space-separated, into out. */
static void members(struct shm_arena *a, const char *key, char *out, size_t cap)
{
    struct ks_ref r = ref(a, key);
    struct hset_it it;
    const uint8_t *m, *v;
    size_t ml, vl, n = 0;

    out[0] = '\0';
    hset_iter(a, &r, &it);
    while (hset_next(&it, &m, &ml, &v, &vl)) {
        assert_true(n + ml + 2 < cap);
        if (n)
            out[n++] = ' ';
        memcpy(out + n, m, ml);
        n += ml;
        out[n] = '\0';
    }
}

static void put_all(struct shm_arena *a, const char *key, const char *const *ms)
{
    for (; *ms; ms++)
        put(a, KS_T_SET, key, *ms, NULL, 1);
}

/*
 * A compact set of integers lists them in increasing order, as Redis's
 * intsets do; strings, and integers that are not the canonical text of a
 * 64-bit integer, keep the order they came in.
 */
static void test_set_int_order(void **state)
{
    static const char *const ints[] = { "5", "-3", "100", "0", "-9223372036854775808",
                                        "9223372036854775807", "42", NULL };
    static const char *const mixed[] = { "5", "3", "x", "1", NULL };
    static const char *const odd[] = { "2", "007", "1", "-0", "99999999999999999999", NULL };
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    char buf[512], m[32];
    int i;

    put_all(a, "i", ints);
    members(a, "i", buf, sizeof(buf));
    assert_string_equal(buf, "-9223372036854775808 -3 0 5 42 100 9223372036854775807");
    put(a, KS_T_SET, "i", "abc", NULL, 1);          /* a string goes last */
    put(a, KS_T_SET, "i", "7", NULL, 1);            /* and then so does all */
    members(a, "i", buf, sizeof(buf));
    assert_string_equal(buf, "-9223372036854775808 -3 0 5 42 100 9223372036854775807 abc 7");
    assert_int_equal(del(a, "i", "abc"), 1);        /* integers only again: sorted */
    members(a, "i", buf, sizeof(buf));
    assert_string_equal(buf, "-9223372036854775808 -3 0 5 7 42 100 9223372036854775807");
    assert_int_equal(del(a, "i", "0"), 1);
    put(a, KS_T_SET, "i", "6", NULL, 1);
    members(a, "i", buf, sizeof(buf));
    assert_string_equal(buf, "-9223372036854775808 -3 5 6 7 42 100 9223372036854775807");

    put_all(a, "m", mixed);
    members(a, "m", buf, sizeof(buf));
    assert_string_equal(buf, "3 5 x 1");          /* sorted until the string */
    assert_int_equal(del(a, "m", "x"), 1);
    members(a, "m", buf, sizeof(buf));
    assert_string_equal(buf, "1 3 5");

    put_all(a, "o", odd);
    members(a, "o", buf, sizeof(buf));
    assert_string_equal(buf, "2 007 1 -0 99999999999999999999");

    /* A full set of integers shrinking back to compact: sorted. */
    for (i = 300; i > 0; i--) {
        snprintf(m, sizeof(m), "%d", i * 7 % 1000);
        put(a, KS_T_SET, "big", m, NULL, 1);
    }
    put(a, KS_T_SET, "big", "s", NULL, 1);          /* strings: past 128, full */
    assert_int_equal(ref(a, "big").e.enc, 1);
    for (i = 300; i > 5; i--) {
        snprintf(m, sizeof(m), "%d", i * 7 % 1000);
        assert_int_equal(del(a, "big", m), 1);
    }
    assert_int_equal(del(a, "big", "s"), 1);
    assert_int_equal(ref(a, "big").e.enc, 0);
    members(a, "big", buf, sizeof(buf));
    assert_string_equal(buf, "7 14 21 28 35");
    shmtest_check(a);
}

/* Conversion both ways, for both types. */
static void convert_both_ways(struct shm_arena *a, unsigned type, const char *key)
{
    char m[32], v[256];
    struct ks_ref r;
    int i;

    for (i = 0; i < 128; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        put(a, type, key, m, type == KS_T_HASH ? m : NULL, 1);
    }
    r = ref(a, key);
    assert_int_equal(r.e.enc, 0);
    put(a, type, key, "m128", type == KS_T_HASH ? "x" : NULL, 1);   /* 129 > 128 */
    r = ref(a, key);
    assert_int_equal(r.e.enc, 1);
    assert_string_equal(hset_encoding(&r), "hashtable");
    assert_int_equal(hset_len(a, &r), 129);
    for (i = 0; i < 129; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(get(a, key, m, v), 1);
        if (type == KS_T_HASH && i < 128)
            assert_string_equal(v, m);
    }
    shmtest_check(a);
    /* Shrink to half the limit: compact again, every member kept. */
    for (i = 0; i < 65; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(del(a, key, m), 1);
    }
    r = ref(a, key);
    assert_int_equal(hset_len(a, &r), 64);
    assert_int_equal(r.e.enc, 0);
    for (i = 65; i < 129; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(get(a, key, m, NULL), 1);
    }
    /* One long member: full at once, whatever the count. */
    memset(v, 'L', 100);
    v[100] = '\0';
    put(a, type, key, v, type == KS_T_HASH ? "short" : NULL, 1);
    assert_int_equal(ref(a, key).e.enc, 1);
    shmtest_check(a);
    assert_int_equal(del(a, key, v), 1);
    assert_int_equal(ref(a, key).e.enc, 0);
    shmtest_check(a);
}

static void test_conversions(void **state)
{
    struct fixture *f = *state;
    convert_both_ways(f->a, KS_T_HASH, "hash");
    convert_both_ways(f->a, KS_T_SET, "set");
    /* A long hash value converts too. */
    {
        char big[200];
        memset(big, 'v', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        put(f->a, KS_T_HASH, "hv", "f", "small", 1);
        put(f->a, KS_T_HASH, "hv", "f", big, 0);
        assert_int_equal(ref(f->a, "hv").e.enc, 1);
        shmtest_check(f->a);
    }
}

static void test_update_in_place_and_moves(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    char m[32], v[300];
    uint64_t used;
    int i;

    for (i = 0; i < 200; i++) {
        snprintf(m, sizeof(m), "f%d", i);
        put(a, KS_T_HASH, "h", m, "0123456789", 1);
    }
    used = a->hdr->used_bytes;
    put(a, KS_T_HASH, "h", "f7", "abcdefghij", 0);   /* same length: in place */
    assert_int_equal(a->hdr->used_bytes, used);
    assert_int_equal(get(a, "h", "f7", v), 1);
    assert_string_equal(v, "abcdefghij");
    memset(v, 'z', 250);
    v[250] = '\0';
    put(a, KS_T_HASH, "h", "f8", v, 0);              /* longer: a new block */
    assert_int_equal(get(a, "h", "f8", v), 1);
    assert_int_equal(strlen(v), 250);
    shmtest_check(a);
}

static void test_random_and_scan(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    unsigned counts[300];
    char m[32];
    int i, n, enc;

    for (enc = 0; enc < 2; enc++) {
        const char *key = enc ? "big" : "small";
        n = enc ? 300 : 50;
        for (i = 0; i < n; i++) {
            snprintf(m, sizeof(m), "m%d", i);
            put(a, KS_T_SET, key, m, NULL, 1);
        }
        {
            struct ks_ref r = ref(a, key);
            uint64_t rnd = 12345;
            assert_int_equal(r.e.enc, enc);
            memset(counts, 0, sizeof(counts));
            for (i = 0; i < n * 100; i++) {
                const uint8_t *rm, *rv;
                size_t rml, rvl;
                char buf[32];
                rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
                hset_random(a, &r, rnd >> 11, &rm, &rml, &rv, &rvl);
                memcpy(buf, rm + 1, rml - 1);
                buf[rml - 1] = '\0';
                counts[atoi(buf)]++;
            }
            for (i = 0; i < n; i++)
                assert_true(counts[i] > 30 && counts[i] < 250);
        }
    }
    shmtest_check(a);
}

/* Sets of integers only stay compact up to set-max-intset-entries. */
static void test_int_sets(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    char m[32];
    int i;

    for (i = 0; i < 500; i++) {
        snprintf(m, sizeof(m), "%d", i * 7 - 100);
        put(a, KS_T_SET, "ints", m, NULL, 1);
    }
    assert_int_equal(ref(a, "ints").e.enc, 0);
    put(a, KS_T_SET, "ints", "not-a-number", NULL, 1);
    assert_int_equal(ref(a, "ints").e.enc, 1);
    /* "007" and "-0" are not integers in Redis's sense. */
    for (i = 0; i < 200; i++) {
        snprintf(m, sizeof(m), "%d", i);
        put(a, KS_T_SET, "ints2", m, NULL, 1);
    }
    assert_int_equal(ref(a, "ints2").e.enc, 0);
    put(a, KS_T_SET, "ints2", "007", NULL, 1);
    assert_int_equal(ref(a, "ints2").e.enc, 1);
    shmtest_check(a);
}

static void count_member(void *ctx, const uint8_t *m, size_t ml, const uint8_t *v, size_t vl)
{
    unsigned *counts = ctx;
    char buf[32];
    (void)v;
    (void)vl;
    memcpy(buf, m, ml);
    buf[ml] = '\0';
    counts[atoi(buf)]++;
}

static void test_scan(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    unsigned counts[400];
    char m[32];
    int i, enc;

    for (enc = 0; enc < 2; enc++) {
        const char *key = enc ? "big" : "small";
        int n = enc ? 400 : 40;
        uint64_t cur = 0;
        unsigned calls = 0;
        for (i = 0; i < n; i++) {
            snprintf(m, sizeof(m), "%d", i);
            put(a, KS_T_HASH, key, m, "v", 1);
        }
        memset(counts, 0, sizeof(counts));
        do {
            struct ks_ref r = ref(a, key);
            cur = hset_scan(a, &r, cur, count_member, counts);
            calls++;
        } while (cur != 0);
        for (i = 0; i < n; i++)
            assert_true(counts[i] >= 1);
        if (enc)
            assert_true(calls > 1);
        else
            assert_int_equal(calls, 1);
    }
}

static void test_lazy_free(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct ks_ref r;
    char m[32];
    int i, steps = 0;

    for (i = 0; i < 5000; i++) {
        snprintf(m, sizeof(m), "member-%d", i);
        put(a, KS_T_SET, "huge", m, NULL, 1);
    }
    r = ref(a, "huge");
    shm_begin(a);
    assert_int_equal(ks_ref_delete(a, &r), EMBER_OK);
    shm_commit(a);
    /* Deleting was O(1): the structure waits on the garbage list. */
    assert_true(ks_gc_pending(a));
    assert_int_equal(ks_count(a, 0), 0);
    shmtest_check(a);
    while (ks_gc_step(a, 500) > 0) {
        steps++;
        shmtest_check(a);
    }
    assert_true(steps > 5);
    assert_false(ks_gc_pending(a));
    shmtest_check(a);
}

static void test_usage(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct ks_ref r;
    char m[32], v[64];
    uint64_t est, exact;
    int i;

    put(a, KS_T_HASH, "small", "f", "v", 1);
    exact = shmtest_usage_matches_free(a, 0, "small");
    assert_true(exact > 8 && exact < 64);
    for (i = 0; i < 2000; i++) {
        snprintf(m, sizeof(m), "field-%d", i);
        snprintf(v, sizeof(v), "value-%0*d", 10 + i % 20, i);
        put(a, KS_T_HASH, "big", m, v, 1);
        put(a, KS_T_SET, "bigset", m, NULL, 1);
    }
    /* A sample of 5 members estimates within a few percent here: sizes vary
     * little.  Exact is the whole walk. */
    r = ref(a, "big");
    est = ks_usage(a, r.off, 5);
    exact = ks_usage(a, r.off, 0);
    assert_true(est > exact * 8 / 10 && est < exact * 12 / 10);
    assert_true(exact > 2000 * 20);
    assert_int_equal(shmtest_usage_matches_free(a, 0, "big"), exact);
    shmtest_usage_matches_free(a, 0, "bigset");
    shmtest_check(a);
}

/* ---- the pack format ---------------------------------------------------------------- */

/* Builds in buf the pack of the n strings given; returns its size. */
static size_t build_pack(uint8_t *buf, const char *const *v, uint32_t n)
{
    struct pack_str ins[8];
    uint8_t empty[PACK_HDR];
    uint32_t i;

    assert_true(n <= 8);
    for (i = 0; i < n; i++) {
        ins[i].s = v[i];
        ins[i].len = strlen(v[i]);
    }
    pack_init(empty);
    assert_int_equal(pack_edit_size(empty, PACK_HDR, 0, 0, ins, n),
                     pack_edit(buf, empty, PACK_HDR, 0, 0, ins, n));
    return pack_edit_size(empty, PACK_HDR, 0, 0, ins, n);
}

static void test_pack_format(void **state)
{
    static const char *const three[] = { "a", "", "0123456789" };
    static const char *const ten[] = { "0123456789" };
    uint8_t p[64], q[64];
    struct pack_it it;
    const uint8_t *s;
    size_t len, n;
    (void)state;

    /* Empty: the 2-byte header alone. */
    memset(p, 0xee, sizeof(p));
    pack_init(p);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[1], 0);
    assert_int_equal(pack_count(p), 0);
    assert_int_equal(pack_validate(p, PACK_HDR), 0);
    assert_int_equal(pack_validate(p, 1), -1);        /* no room for the header */
    assert_int_equal(pack_validate(p, 0), -1);
    assert_int_equal(pack_validate(p, PACK_HDR + 1), -1);   /* a trailing byte */
    pack_iter(p, PACK_HDR, &it);
    assert_int_equal(pack_next(&it, &s, &len), 0);
    assert_int_equal(pack_offset(p, PACK_HDR, 0), 0);

    /* A 10-byte element costs 11 bytes. */
    assert_int_equal(build_pack(p, ten, 1), PACK_HDR + 11);

    /* Three elements: 2 + (1 + 1) + (1 + 0) + (1 + 10) bytes, in order. */
    n = build_pack(p, three, 3);
    assert_int_equal(n, 16);
    assert_int_equal(pack_count(p), 3);
    assert_int_equal(p[0], 3);                        /* little-endian u16 */
    assert_int_equal(p[1], 0);
    assert_int_equal(pack_validate(p, n), 0);
    assert_int_equal(pack_offset(p, n, 1), 4);
    assert_int_equal(pack_offset(p, n, 2), 5);
    assert_int_equal(pack_offset(p, n, 3), 0);        /* out of range */
    pack_iter(p, n, &it);
    assert_int_equal(pack_next(&it, &s, &len), 1);
    assert_true(len == 1 && s[0] == 'a');
    assert_int_equal(pack_next(&it, &s, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(pack_next(&it, &s, &len), 1);
    assert_true(len == 10 && memcmp(s, "0123456789", 10) == 0);
    assert_int_equal(pack_next(&it, &s, &len), 0);

    /* Trailing garbage, a truncated element, a count that does not match. */
    p[n] = 0;
    assert_int_equal(pack_validate(p, n + 1), -1);
    assert_int_equal(pack_validate(p, n - 1), -1);
    assert_int_equal(pack_validate(p, 6), -1);        /* the last one's bytes cut off */
    pack_set_header(p, 2);
    assert_int_equal(pack_validate(p, n), -1);        /* an element past the count */
    assert_int_equal(pack_validate(p, 5), 0);         /* ...which is a 2-element pack */
    pack_set_header(p, 4);
    assert_int_equal(pack_validate(p, n), -1);        /* a missing element */
    pack_set_header(p, 3);
    p[5] = 0x80 | 10;                                 /* a varint running on */
    assert_int_equal(pack_validate(p, n), -1);
    p[5] = 10;
    assert_int_equal(pack_validate(p, n), 0);

    /* Edits take the source's length: drop the middle, insert at the end. */
    {
        struct pack_str ins = { "xyz", 3 };
        size_t m = pack_edit_size(p, n, 1, 1, &ins, 1);
        assert_int_equal(m, n - 1 + 4);
        assert_int_equal(pack_edit(q, p, n, 1, 1, &ins, 1), m);
        assert_int_equal(pack_validate(q, m), 0);
        assert_int_equal(pack_count(q), 3);
        assert_int_equal(pack_offset(q, m, 2), 8);
        assert_memory_equal(q + 2, "\001a\003xyz\0120123456789", m - 2);
    }

    /* The count's limit: 65535 fits, one more is a bug, never a wrap. */
    pack_set_header(q, PACK_COUNT_MAX);
    assert_int_equal(pack_count(q), 65535);
    assert_true(q[0] == 0xff && q[1] == 0xff);
    {
        pid_t pid = fork();
        int st;
        assert_true(pid >= 0);
        if (pid == 0) {
            fclose(stderr);           /* the BUG line is expected */
            pack_set_header(q, PACK_COUNT_MAX + 1);
            _exit(0);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    }
}

static uint32_t elements(struct shm_arena *a, const char *key)
{
    struct ks_ref r = ref(a, key);
    assert_int_equal(r.e.enc, 0);
    assert_int_equal(pack_validate((const uint8_t *)r.e.val, r.e.vlen), 0);
    return pack_count((const uint8_t *)r.e.val);
}

/*
 * A pack holds at most 65535 elements: with the entry limits configured
 * far above that, a hash or set still goes full when one more member would
 * pass it, and a full one shrinks back within it.
 */
static void test_pack_count_limit(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    char m[16];
    uint32_t i;

    ks_limits.hash_entries = 1000000;
    ks_limits.set_entries = 1000000;
    ks_limits.set_int_entries = 1000000;

    /* Sets: 65535 members compact, the 65536th converts. */
    shmtest_write_compact(a, KS_T_SET, "s", PACK_COUNT_MAX - 1, NULL);
    shmtest_check(a);
    put(a, KS_T_SET, "s", "x", NULL, 1);
    assert_int_equal(elements(a, "s"), PACK_COUNT_MAX);
    put(a, KS_T_SET, "s", "x", NULL, 0);              /* present: no change */
    assert_int_equal(elements(a, "s"), PACK_COUNT_MAX);
    put(a, KS_T_SET, "s", "y", NULL, 1);
    assert_int_equal(ref(a, "s").e.enc, 1);
    {
        struct ks_ref r = ref(a, "s");
        assert_int_equal(hset_len(a, &r), 65536);
    }
    assert_int_equal(get(a, "s", "m000000", NULL), 1);
    assert_int_equal(get(a, "s", "m065533", NULL), 1);
    assert_int_equal(get(a, "s", "x", NULL), 1);
    shmtest_check(a);
    /* Back to compact at half the (clamped) limit: 32767 members. */
    for (i = 0; i < 65536 - 32767; i++) {
        snprintf(m, sizeof(m), "m%06u", i);
        assert_int_equal(del(a, "s", m), 1);
    }
    assert_int_equal(elements(a, "s"), 32767);
    assert_int_equal(get(a, "s", "y", NULL), 1);
    shmtest_check(a);

    /* Sets of integers, under set-max-intset-entries. */
    {
        struct ks_ref r;
        uint8_t *val;
        size_t pos = PACK_HDR, n = PACK_HDR;
        for (i = 0; i < PACK_COUNT_MAX; i++)
            n += pack_elem_size((size_t)snprintf(m, sizeof(m), "%u", i));
        ks_ref_find(a, 0, "ints", 4, &r);
        shm_begin(a);
        assert_int_equal(ks_ref_rewrite(a, &r, KS_T_SET, 0, n, &val), EMBER_OK);
        for (i = 0; i < PACK_COUNT_MAX; i++)
            pos += pack_put(val + pos, m, (size_t)snprintf(m, sizeof(m), "%u", i));
        assert_int_equal(pos, n);
        pack_set_header(val, PACK_COUNT_MAX);
        shm_commit(a);
        assert_int_equal(elements(a, "ints"), PACK_COUNT_MAX);
        put(a, KS_T_SET, "ints", "-1", NULL, 1);
        assert_int_equal(ref(a, "ints").e.enc, 1);
        shmtest_check(a);
    }

    /* Hashes: pairs, so 32767 fields compact, the 32768th converts. */
    shmtest_write_compact(a, KS_T_HASH, "h", PACK_COUNT_MAX / 2 - 1, "v");
    put(a, KS_T_HASH, "h", "x", "1", 1);
    assert_int_equal(elements(a, "h"), PACK_COUNT_MAX - 1);
    put(a, KS_T_HASH, "h", "x", "22", 0);             /* an update keeps the count */
    assert_int_equal(elements(a, "h"), PACK_COUNT_MAX - 1);
    put(a, KS_T_HASH, "h", "y", "3", 1);
    assert_int_equal(ref(a, "h").e.enc, 1);
    {
        char v[8];
        struct ks_ref r = ref(a, "h");
        assert_int_equal(hset_len(a, &r), 32768);
        assert_int_equal(get(a, "h", "x", v), 1);
        assert_string_equal(v, "22");
        assert_int_equal(get(a, "h", "m032765", v), 1);
        assert_string_equal(v, "v");
    }
    shmtest_check(a);
}

/* The checker validates a compact value against its entry's length. */
static void test_check_uses_vlen(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct shm_check_report rep;
    uint8_t save[64], *val;
    struct ks_ref r;
    size_t n;
    int k;

    put(a, KS_T_HASH, "h", "f", "v", 1);
    put(a, KS_T_HASH, "h", "g", "w", 1);
    r = ref(a, "h");
    n = r.e.vlen;
    assert_int_equal(n, PACK_HDR + 8);
    memcpy(save, r.e.val, n);
    /* Longer (trailing garbage) and shorter (a truncated element) values. */
    for (k = 0; k < 2; k++) {
        size_t len = k == 0 ? n + 1 : n - 1;
        r = ref(a, "h");
        shm_begin(a);
        assert_int_equal(ks_ref_rewrite(a, &r, KS_T_HASH, 0, len, &val), EMBER_OK);
        memcpy(val, save, len < n ? len : n);
        if (len > n)
            val[n] = 0;
        shm_commit(a);
        if (shm_check(a, &rep) != EMBER_ECORRUPT)
            fail_msg("the check missed a value of %zu bytes for a %zu-byte pack", len, n);
    }
    /* The right length, a wrong count (in place, then put back). */
    r = ref(a, "h");
    shm_begin(a);
    assert_int_equal(ks_ref_rewrite(a, &r, KS_T_HASH, 0, n, &val), EMBER_OK);
    memcpy(val, save, n);
    shm_commit(a);
    shmtest_check(a);
    r = ref(a, "h");
    val = (uint8_t *)r.e.val;
    val[0] = 3;
    assert_int_equal(shm_check(a, &rep), EMBER_ECORRUPT);
    val[0] = 4;
    shmtest_check(a);
}

/* ---- crash at every step ---------------------------------------------------------- */

struct op {
    unsigned type;
    const char *key;
    const char *m;
    const char *v;
    int del;
    unsigned flags;
};

static void run_op(struct shm_arena *a, void *arg)
{
    struct op *o = arg;
    struct ks_ref r;
    int x;

    ks_ref_find(a, 0, o->key, strlen(o->key), &r);
    shm_begin(a);
    if (o->del)
        BUG_ON(hset_del(a, &r, o->m, strlen(o->m), &x) != EMBER_OK);
    else
        BUG_ON(hset_put(a, &r, o->type, o->m, strlen(o->m), o->v, o->v ? strlen(o->v) : 0,
                        o->flags, &x) != EMBER_OK);
    shm_commit(a);
}

static long crash(struct fixture *f, struct op o, const char *what)
{
    return shmtest_crash_every_step(&f->a, &f->o, run_op, &o, what, 1);
}

static void delete_key(struct shm_arena *a, void *arg)
{
    struct ks_ref r;
    ks_ref_find(a, 0, arg, strlen(arg), &r);
    shm_begin(a);
    BUG_ON(ks_ref_delete(a, &r) != EMBER_OK);
    shm_commit(a);
}

static void gc_one(struct shm_arena *a, void *arg)
{
    (void)arg;
    ks_gc_step(a, 50);
}

static void test_crash_every_path(void **state)
{
    struct fixture *f = *state;
    char m[32], big[120];
    long total = 0;
    int i;

    memset(big, 'B', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    total += crash(f, (struct op){ KS_T_HASH, "h", "f0", "v0", 0, 0 }, "create compact");
    total += crash(f, (struct op){ KS_T_HASH, "h", "f1", "v1", 0, 0 }, "add compact");
    total += crash(f, (struct op){ KS_T_HASH, "h", "f1", "V1", 0, 0 }, "update compact");
    for (i = 2; i < 128; i++) {
        snprintf(m, sizeof(m), "f%d", i);
        put(f->a, KS_T_HASH, "h", m, "v", 1);
    }
    total += crash(f, (struct op){ KS_T_HASH, "h", "f128", "v", 0, 0 }, "convert to full");
    total += crash(f, (struct op){ KS_T_HASH, "h", "f129", "v", 0, 0 }, "add full");
    total += crash(f, (struct op){ KS_T_HASH, "h", "f129", "w", 0, 0 }, "update in place");
    total += crash(f, (struct op){ KS_T_HASH, "h", "f129", big, 0, 0 }, "update new block");
    total += crash(f, (struct op){ KS_T_HASH, "h", "f129", "z", 0, HSET_NX }, "nx existing");
    total += crash(f, (struct op){ KS_T_HASH, "h", "f129", NULL, 1, 0 }, "delete full");
    for (i = 0; i < 65; i++) {
        snprintf(m, sizeof(m), "f%d", i);
        if (i < 64)
            del(f->a, "h", m);
    }
    /* 65 left: the next delete converts back. */
    total += crash(f, (struct op){ KS_T_HASH, "h", "f64", NULL, 1, 0 }, "delete + compact");
    assert_int_equal(ref(f->a, "h").e.enc, 0);
    total += crash(f, (struct op){ KS_T_SET, "s", "only", NULL, 0, 0 }, "create set");
    total += crash(f, (struct op){ KS_T_SET, "s", "only", NULL, 1, 0 }, "delete last member");
    assert_int_equal(get(f->a, "s", "only", NULL), -1);
    put(f->a, KS_T_SET, "ms", "3", NULL, 1);
    put(f->a, KS_T_SET, "ms", "x", NULL, 1);
    put(f->a, KS_T_SET, "ms", "1", NULL, 1);
    total += crash(f, (struct op){ KS_T_SET, "ms", "2", NULL, 0, 0 }, "add to a mixed set");
    total += crash(f, (struct op){ KS_T_SET, "ms", "x", NULL, 1, 0 }, "delete string, sort");
    total += crash(f, (struct op){ KS_T_SET, "ms", "0", NULL, 0, 0 }, "add in order");
    /* A big value deleted lazily, and the garbage steps. */
    for (i = 0; i < 300; i++) {
        snprintf(m, sizeof(m), "%d", i);
        put(f->a, KS_T_SET, "big", m, NULL, 1);
    }
    total += shmtest_crash_every_step(&f->a, &f->o, delete_key, "big", "lazy delete", 1);
    while (ks_gc_pending(f->a))
        total += shmtest_crash_every_step(&f->a, &f->o, gc_one, NULL, "gc step", 1);
    print_message("hset: %ld crash points rolled back and compared\n", total);
}

static void flush_db0(struct shm_arena *a, void *arg)
{
    (void)arg;
    shm_begin(a);
    BUG_ON(ks_flush(a, 0) != EMBER_OK);
    shm_commit(a);
}

/*
 * Regression: FLUSHDB of a database holding big collections leaked them.
 * The garbage step draining the database freed each entry, which pushed a
 * big value onto the garbage list ahead of the database's node; finishing
 * the node then set the list's head to the node's successor, dropping the
 * values pushed meanwhile.  The arena check failed ("allocated but
 * unreachable") at the next attach after a crash, and the shard was set
 * aside.  Here every step is also crashed and rolled back.
 */
static void test_flush_big_values(void **state)
{
    struct fixture *f = *state;
    char k[32], m[32];
    long total = 0;
    int i, j;

    for (i = 0; i < 6; i++) {
        snprintf(k, sizeof(k), "big%d", i);
        for (j = 0; j < 100 + 50 * i; j++) {
            snprintf(m, sizeof(m), "m%d", j);
            put(f->a, i % 2 ? KS_T_SET : KS_T_HASH, k, m, i % 2 ? NULL : "v", 1);
        }
        snprintf(k, sizeof(k), "small%d", i);
        put(f->a, KS_T_HASH, k, "f", "v", 1);
    }
    total += shmtest_crash_every_step(&f->a, &f->o, flush_db0, NULL, "flushdb", 1);
    while (ks_gc_pending(f->a)) {
        total += shmtest_crash_every_step(&f->a, &f->o, gc_one, NULL, "gc step", 1);
        shmtest_check(f->a);
    }
    assert_int_equal(ks_count(f->a, 0), 0);
    assert_int_equal(f->a->hdr->garbage, 0);
    shmtest_check(f->a);
    print_message("flush of big values: %ld crash points rolled back and compared\n", total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hash_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_int_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_in_place_and_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_and_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lazy_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_count_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_uses_vlen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_every_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_big_values, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
