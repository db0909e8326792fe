/*
 * test_dict.c - the keyspace hash tables: incremental resizing under
 * interleaved inserts and deletes, SCAN guarantees across resizes, random
 * sampling, and 16 independent databases.
 */
#include "shmtest.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct fixture {
    char name[128];
    struct shm_arena_opts o;
    struct shm_arena *a;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", shmtest_newname());
    f->o = shmtest_opts(f->name);
    f->a = shmtest_open(&f->o);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->a)
        shm_arena_close(&f->a);
    shmtest_unlink(f->name);
    free(f);
    return 0;
}

static int keyname(char *buf, unsigned long i)
{
    return sprintf(buf, "key:%lu", i);
}

static void set_key(struct shm_arena *a, unsigned db, unsigned long i)
{
    char k[32], v[32];
    int kl = keyname(k, i), vl = sprintf(v, "v%lu", i * 7);
    shm_begin(a);
    assert_int_equal(ks_set_string(a, db, k, (size_t)kl, v, (size_t)vl, -1), EMBER_OK);
    shm_commit(a);
}

static int del_key(struct shm_arena *a, unsigned db, unsigned long i)
{
    char k[32];
    int kl = keyname(k, i);
    uint64_t h = ks_hash(a, k, (size_t)kl), off;
    struct dict_pos pos;

    off = ks_lookup(a, db, k, (size_t)kl, h, &pos);
    if (off == 0)
        return 0;
    shm_begin(a);
    assert_int_equal(ks_delete(a, db, &pos, h, off), EMBER_OK);
    shm_commit(a);
    return 1;
}

static int has_key(struct shm_arena *a, unsigned db, unsigned long i)
{
    char k[32], v[32];
    int kl = keyname(k, i), vl = sprintf(v, "v%lu", i * 7);
    struct dict_pos pos;
    struct ks_entry e;
    uint64_t off = ks_lookup(a, db, k, (size_t)kl, ks_hash(a, k, (size_t)kl), &pos);

    if (off == 0)
        return 0;
    ks_decode(a, off, &e);
    assert_int_equal(e.vlen, vl);
    assert_memory_equal(e.val, v, (size_t)vl);
    return 1;
}

/* ---- incremental resizing ---------------------------------------------------- */

static void test_resize_interleaved(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    enum { N = 120000 };
    uint8_t *present = calloc(N, 1);
    const struct shm_dict *d = &ks_db(a, 0)->keys;
    unsigned long i, live = 0;
    uint64_t maxb = 0;
    int phase;

    /* Grow, shrink, grow again, with deletes and inserts interleaved. */
    for (phase = 0; phase < 4; phase++) {
        unsigned long ops = phase == 1 ? 3 * N : 2 * N;
        for (i = 0; i < ops; i++) {
            unsigned long k = rnd() % N;
            uint64_t before = d->nbuckets;
            int insert = phase == 1 ? rnd() % 10 < 2 : rnd() % 10 < 7;
            if (insert) {
                if (!present[k])
                    live++;
                set_key(a, 0, k);
                present[k] = 1;
            } else if (present[k]) {
                assert_true(del_key(a, 0, k));
                present[k] = 0;
                live--;
            }
            /* One bucket split or merged per operation at most. */
            assert_true(d->nbuckets <= before + 1 && d->nbuckets + 1 >= before);
            assert_int_equal(d->count, live);
            if (d->nbuckets > maxb)
                maxb = d->nbuckets;
            /* The load stays within its band once the table is warm. */
            if (live > 100)
                assert_true(live <= DICT_LOAD_HI * d->nbuckets + 1 &&
                            live + 1 >= DICT_LOAD_LO * d->nbuckets);
        }
        for (i = 0; i < N; i++)
            assert_int_equal(has_key(a, 0, i), present[i]);
        shmtest_check(a);
        print_message("phase %d: %lu keys in %llu buckets (level %u), table %.1f bytes/key\n",
                      phase, live, (unsigned long long)d->nbuckets, d->level,
                      live ? (double)dict_mem(a, d) / (double)live : 0.0);
    }
    assert_true(maxb > N / DICT_LOAD_HI / 2);
    /* Delete everything: the table goes away entirely. */
    for (i = 0; i < N; i++)
        if (present[i])
            assert_true(del_key(a, 0, i));
    assert_int_equal(d->count, 0);
    assert_int_equal(d->nbuckets, 0);
    assert_int_equal(d->dir, 0);
    shmtest_check(a);
    free(present);
}

/* ---- scan ------------------------------------------------------------------------- */

struct seen {
    uint8_t *hit;
    unsigned long n;
    unsigned long calls;
    unsigned long returned;
};

static void on_scan(const struct shm_arena *a, uint64_t off, void *ctx)
{
    struct seen *s = ctx;
    struct ks_entry e;
    unsigned long i;
    char buf[32];

    ks_decode(a, off, &e);
    memcpy(buf, e.key, e.klen);
    buf[e.klen] = '\0';
    assert_int_equal(sscanf(buf, "key:%lu", &i), 1);
    if (i < s->n)
        s->hit[i] = 1;
    s->returned++;
}

/*
 * Scans db 0 while churning keys between calls.  Keys [0, stable) exist
 * for the whole scan and must all be returned; keys >= stable come and go.
 */
static void scan_with_churn(struct shm_arena *a, unsigned long stable,
                            unsigned long existing, unsigned long churn_max,
                            int grow, int shrink)
{
    struct seen s = { calloc(stable, 1), stable, 0, 0 };
    const struct shm_dict *d = &ks_db(a, 0)->keys;
    uint64_t cursor = 0, minb = UINT64_MAX, maxb = 0;
    unsigned long next = stable + existing, i, lo = stable;

    do {
        cursor = dict_scan(a, d, cursor, on_scan, &s);
        s.calls++;
        /* Between calls: grow and/or shrink the table. */
        for (i = 0; i < 50; i++) {
            if (grow && next < stable + existing + churn_max)
                set_key(a, 0, next++);
            if (shrink && lo < next && (!grow || rnd() % 2))
                del_key(a, 0, lo++);
        }
        if (d->nbuckets < minb)
            minb = d->nbuckets;
        if (d->nbuckets > maxb)
            maxb = d->nbuckets;
    } while (cursor != 0);
    for (i = 0; i < stable; i++)
        if (!s.hit[i])
            fail_msg("key %lu present for the whole scan was never returned "
                     "(grow %d shrink %d)", i, grow, shrink);
    print_message("scan (grow %d shrink %d): %lu calls, %lu returned for %lu stable "
                  "keys, buckets %llu..%llu\n", grow, shrink, s.calls, s.returned,
                  stable, (unsigned long long)minb, (unsigned long long)maxb);
    assert_true(maxb > minb);   /* the table really did resize mid-scan */
    for (i = lo; i < next; i++)
        del_key(a, 0, i);
    free(s.hit);
}

static void test_scan_across_resizes(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    unsigned long i, stable = 5000;

    for (i = 0; i < stable; i++)
        set_key(a, 0, i);
    scan_with_churn(a, stable, 0, 60000, 1, 0);      /* growing 10x */
    for (i = stable; i < stable + 60000; i++)
        set_key(a, 0, i);
    scan_with_churn(a, stable, 60000, 0, 0, 1);      /* shrinking 12x */
    scan_with_churn(a, stable, 0, 30000, 1, 1);      /* both */
    shmtest_check(a);
}

static void test_scan_empty_and_single(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct seen s = { calloc(1, 1), 1, 0, 0 };

    assert_int_equal(dict_scan(a, &ks_db(a, 0)->keys, 0, on_scan, &s), 0);
    assert_int_equal(s.returned, 0);
    set_key(a, 0, 0);
    assert_int_equal(dict_scan(a, &ks_db(a, 0)->keys, 0, on_scan, &s), 0);
    assert_int_equal(s.returned, 1);
    free(s.hit);
}

/* ---- random sampling ------------------------------------------------------------- */

static void test_random(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    enum { N = 1000, DRAWS = 200000 };
    unsigned *count = calloc(N, sizeof(unsigned));
    const struct shm_dict *d = &ks_db(a, 3)->keys;
    unsigned long i, never = 0;
    struct seen s = { NULL, 0, 0, 0 };

    (void)s;
    assert_int_equal(dict_random(a, d, rnd()), 0);
    for (i = 0; i < N; i++)
        set_key(a, 3, i);
    for (i = 0; i < DRAWS; i++) {
        uint64_t off = dict_random(a, d, rnd());
        struct ks_entry e;
        unsigned long k;
        char buf[32];
        assert_true(off != 0);
        ks_decode(a, off, &e);
        memcpy(buf, e.key, e.klen);
        buf[e.klen] = '\0';
        assert_int_equal(sscanf(buf, "key:%lu", &k), 1);
        assert_true(k < N);
        count[k]++;
    }
    for (i = 0; i < N; i++)
        never += count[i] == 0;
    /* 200 draws per key on average: every key comes up, none dominates
     * (a key alone in its bucket is not favoured) or starves. */
    assert_int_equal(never, 0);
    for (i = 0; i < N; i++) {
        assert_true(count[i] < 2 * DRAWS / N);
        assert_true(count[i] > DRAWS / N / 4);
    }
    free(count);
}

/* ---- databases ------------------------------------------------------------------- */

static void test_sixteen_dbs(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    unsigned db;
    unsigned long i;

    assert_int_equal(a->hdr->dbcount, 16);
    for (db = 0; db < 16; db++)
        for (i = 0; i < 100 + db * 10; i++)
            set_key(a, db, i + db);
    for (db = 0; db < 16; db++) {
        assert_int_equal(ks_count(a, db), 100 + db * 10);
        assert_true(has_key(a, db, db));
        assert_false(db > 0 && has_key(a, db, db - 1));
    }
    shmtest_check(a);
    /* Flushing one database leaves the others alone. */
    shm_begin(a);
    assert_int_equal(ks_flush(a, 7), EMBER_OK);
    shm_commit(a);
    assert_int_equal(ks_count(a, 7), 0);
    assert_false(has_key(a, 7, 7));
    assert_int_equal(ks_count(a, 8), 180);
    shmtest_check(a);
    while (ks_gc_step(a, 16) > 0)
        shmtest_check(a);
    assert_false(ks_gc_pending(a));
    for (db = 0; db < 16; db++)
        assert_int_equal(ks_count(a, db), db == 7 ? 0 : 100 + db * 10);
    shmtest_check(a);
}

/* Keys of unusual lengths: empty, 255, 256 (wide length field), 64 KiB. */
static void test_key_lengths(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    static char big[65536];
    size_t lens[] = { 0, 1, 255, 256, 1000, sizeof(big) }, i;

    memset(big, 'k', sizeof(big));
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct dict_pos pos;
        struct ks_entry e;
        uint64_t off;
        big[0] = (char)('a' + i);
        shm_begin(a);
        assert_int_equal(ks_set_string(a, 1, big, lens[i], "x", 1, -1), EMBER_OK);
        shm_commit(a);
        off = ks_lookup(a, 1, big, lens[i], ks_hash(a, big, lens[i]), &pos);
        assert_true(off != 0);
        ks_decode(a, off, &e);
        assert_int_equal(e.klen, lens[i]);
        assert_int_equal(e.vlen, 1);
    }
    assert_int_equal(ks_count(a, 1), 6);
    shmtest_check(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resize_interleaved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_across_resizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_empty_and_single, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sixteen_dbs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_lengths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
