/*
 * test_ks.c - keyspace entries and crash-at-every-step for every keyspace
 * mutation: insert, insert that splits a bucket, overwrite in place and
 * into a new block, delete (with child-bucket removal and with a merge),
 * expiry set / update / removal, flush and the incremental garbage steps.
 */
#include "shmtest.h"

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

static uint64_t find(struct shm_arena *a, unsigned db, const char *k, struct ks_entry *e)
{
    struct dict_pos pos;
    uint64_t off = ks_lookup(a, db, k, strlen(k), ks_hash(a, k, strlen(k)), &pos);
    if (off && e)
        ks_decode(a, off, e);
    return off;
}

static void put(struct shm_arena *a, unsigned db, const char *k, const char *v, int64_t exp)
{
    shm_begin(a);
    assert_int_equal(ks_set_string(a, db, k, strlen(k), v, strlen(v), exp), EMBER_OK);
    shm_commit(a);
}

/* ---- plain behaviour -------------------------------------------------------- */

static void test_entries(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct ks_entry e;
    uint64_t off, off2, used;
    struct dict_pos pos;

    put(a, 0, "0123456789abcdef", "0123456789abcdef0123456789abcdef", -1);
    off = find(a, 0, "0123456789abcdef", &e);
    assert_true(off);
    assert_int_equal(e.type, KS_T_STRING);
    assert_int_equal(e.klen, 16);
    assert_int_equal(e.vlen, 32);
    assert_false(e.has_expire);
    /* The advertised compactness: 51 bytes in a 56-byte block. */
    assert_int_equal(ks_entry_size(16, 32, 0), 51);
    assert_int_equal(shm_usable(a, off), 56);

    /* Overwrite with a same-size value: in place, no allocation. */
    used = a->hdr->used_bytes;
    put(a, 0, "0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", -1);
    off2 = find(a, 0, "0123456789abcdef", &e);
    assert_int_equal(off2, off);
    assert_memory_equal(e.val, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 32);
    assert_int_equal(a->hdr->used_bytes, used);
    /* A longer one moves to a new block. */
    put(a, 0, "0123456789abcdef", "a much longer value that no longer fits the old block", -1);
    off2 = find(a, 0, "0123456789abcdef", &e);
    assert_true(off2 != off);
    assert_int_equal(e.vlen, strlen("a much longer value that no longer fits the old block"));
    /* Expiry: set (new layout), update in place, remove. */
    off = find(a, 0, "0123456789abcdef", &e);
    shm_begin(a);
    {
        uint64_t h = ks_hash(a, "0123456789abcdef", 16), n;
        ks_lookup(a, 0, "0123456789abcdef", 16, h, &pos);
        assert_int_equal(ks_set_expire(a, 0, &pos, h, off, 1234567, &n), EMBER_OK);
        off = n;
    }
    shm_commit(a);
    find(a, 0, "0123456789abcdef", &e);
    assert_true(e.has_expire);
    assert_int_equal(ks_entry_expire(&e), 1234567);
    assert_int_equal(ks_count_expires(a, 0), 1);
    shmtest_check(a);
    put(a, 0, "0123456789abcdef", "short", 999);   /* SET EX keeps a new expiry */
    find(a, 0, "0123456789abcdef", &e);
    assert_int_equal(ks_entry_expire(&e), 999);
    assert_int_equal(ks_count_expires(a, 0), 1);
    put(a, 0, "0123456789abcdef", "short", -1);    /* plain SET drops it */
    find(a, 0, "0123456789abcdef", &e);
    assert_false(e.has_expire);
    assert_int_equal(ks_count_expires(a, 0), 0);
    /* Values of every size class boundary, and a huge one. */
    {
        static char big[5 << 20];
        size_t sizes[] = { 0, 1, 200, 4000, 16384, 16385, 100000, 2100000, sizeof(big) }, i;
        memset(big, 'z', sizeof(big));
        for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            char k[16];
            snprintf(k, sizeof(k), "size%zu", i);
            shm_begin(a);
            assert_int_equal(ks_set_string(a, 2, k, strlen(k), big, sizes[i], -1), EMBER_OK);
            shm_commit(a);
            assert_true(find(a, 2, k, &e));
            assert_int_equal(e.vlen, sizes[i]);
        }
    }
    shmtest_check(a);
}

/* ---- crash at every step ---------------------------------------------------------- */

struct op {
    const char *key;
    const char *val;
    int64_t expire;
    int kind;              /* OP_SET, OP_DEL, OP_EXPIRE, OP_FLUSH, OP_MANY */
    int many;              /* OP_MANY: number of keys */
};
enum { OP_SET, OP_DEL, OP_EXPIRE, OP_FLUSH, OP_MANY };

static void run_op(struct shm_arena *a, void *arg)
{
    struct op *o = arg;
    uint64_t h, off, n;
    struct dict_pos pos;
    int i;

    shm_begin(a);
    switch (o->kind) {
    case OP_SET:
        assert_int_equal(ks_set_string(a, 0, o->key, strlen(o->key), o->val,
                                       strlen(o->val), o->expire), EMBER_OK);
        break;
    case OP_DEL:
        h = ks_hash(a, o->key, strlen(o->key));
        off = ks_lookup(a, 0, o->key, strlen(o->key), h, &pos);
        assert_true(off != 0);
        assert_int_equal(ks_delete(a, 0, &pos, h, off), EMBER_OK);
        break;
    case OP_EXPIRE:
        h = ks_hash(a, o->key, strlen(o->key));
        off = ks_lookup(a, 0, o->key, strlen(o->key), h, &pos);
        assert_true(off != 0);
        assert_int_equal(ks_set_expire(a, 0, &pos, h, off, o->expire, &n), EMBER_OK);
        break;
    case OP_FLUSH:
        assert_int_equal(ks_flush(a, 0), EMBER_OK);
        break;
    case OP_MANY:
        for (i = 0; i < o->many; i++) {
            char k[32];
            snprintf(k, sizeof(k), "%s%d", o->key, i);
            assert_int_equal(ks_set_string(a, 0, k, strlen(k), o->val, strlen(o->val),
                                           o->expire), EMBER_OK);
        }
        break;
    }
    shm_commit(a);
}

static long crash(struct fixture *f, struct op o, const char *what)
{
    return shmtest_crash_every_step(&f->a, &f->o, run_op, &o, what, 1);
}

static void fill_to(struct fixture *f, uint64_t target)
{
    int i = 0;
    while (ks_count(f->a, 0) < target) {
        char k[32];
        snprintf(k, sizeof(k), "fill:%d", i++);
        put(f->a, 0, k, "filler-value", i % 5 == 0 ? 1000000 + i : -1);
    }
}

static void test_crash_keyspace(void **state)
{
    struct fixture *f = *state;
    const struct shm_dict *d;
    long total = 0;
    uint64_t nb;
    struct ks_entry e;

    total += crash(f, (struct op){ "k1", "v1", -1, OP_SET, 0 }, "first insert");
    total += crash(f, (struct op){ "k2", "v2", 5000, OP_SET, 0 }, "insert with expiry");
    fill_to(f, 40);
    d = &ks_db(f->a, 0)->keys;

    /* The insert that makes the table split a bucket. */
    while (ks_count(f->a, 0) < DICT_LOAD_HI * d->nbuckets)
        fill_to(f, ks_count(f->a, 0) + 1);
    nb = d->nbuckets;
    total += crash(f, (struct op){ "splitter", "x", -1, OP_SET, 0 }, "insert + split");
    assert_int_equal(d->nbuckets, nb + 1);

    total += crash(f, (struct op){ "k1", "V1", -1, OP_SET, 0 }, "overwrite in place");
    total += crash(f, (struct op){ "k1", "a value far too long for the old block", -1,
                                   OP_SET, 0 }, "overwrite new block");
    total += crash(f, (struct op){ "k2", "v2", -1, OP_SET, 0 }, "overwrite dropping expiry");
    total += crash(f, (struct op){ "k1", 0, 777, OP_EXPIRE, 0 }, "expire: new layout");
    total += crash(f, (struct op){ "k1", 0, 888, OP_EXPIRE, 0 }, "expire: in place");
    find(f->a, 0, "k1", &e);
    assert_int_equal(ks_entry_expire(&e), 888);
    total += crash(f, (struct op){ "k1", 0, -1, OP_EXPIRE, 0 }, "persist");
    total += crash(f, (struct op){ "k2", 0, 0, OP_DEL, 0 }, "delete");
    total += crash(f, (struct op){ "fill:5", 0, 0, OP_DEL, 0 }, "delete volatile");

    /* Chains: enough keys in one mutation to need child buckets. */
    total += crash(f, (struct op){ "bulk:", "b", -1, OP_MANY, 300 }, "bulk insert");
    /* Delete down to the merge threshold, then the delete that merges. */
    {
        int i = 0;
        while (ks_count(f->a, 0) > DICT_LOAD_LO * d->nbuckets) {
            char k[32];
            struct op o = { k, 0, 0, OP_DEL, 0 };
            snprintf(k, sizeof(k), "bulk:%d", i++);
            if (i > 300)
                break;
            run_op(f->a, &o);
        }
        while (ks_count(f->a, 0) > DICT_LOAD_LO * d->nbuckets) {
            char k[32];
            struct op o = { k, 0, 0, OP_DEL, 0 };
            snprintf(k, sizeof(k), "fill:%d", i++);
            if (find(f->a, 0, k, NULL))
                run_op(f->a, &o);
        }
        nb = d->nbuckets;
        {
            char k[32] = "";
            int j;
            for (j = 0; !find(f->a, 0, k, NULL); j++)
                snprintf(k, sizeof(k), "fill:%d", j);
            total += crash(f, (struct op){ k, 0, 0, OP_DEL, 0 }, "delete + merge");
        }
        assert_int_equal(d->nbuckets, nb - 1);
    }
    total += crash(f, (struct op){ 0, 0, 0, OP_FLUSH, 0 }, "flush");
    assert_int_equal(ks_count(f->a, 0), 0);
    assert_true(ks_gc_pending(f->a));
    print_message("keyspace: %ld crash points rolled back and compared\n", total);
}

/* Garbage steps are mutations too: crash inside them. */
static void gc_one(struct shm_arena *a, void *arg)
{
    (void)arg;
    (void)ks_gc_step(a, 7);
}

static void test_crash_gc(void **state)
{
    struct fixture *f = *state;
    struct op o = { "g:", "some value", 123456, OP_MANY, 500 };
    long total = 0;

    run_op(f->a, &o);
    o.kind = OP_FLUSH;
    run_op(f->a, &o);
    while (ks_gc_pending(f->a))
        total += shmtest_crash_every_step(&f->a, &f->o, gc_one, NULL, "gc step", 1);
    assert_int_equal(f->a->hdr->garbage, 0);
    print_message("gc: %ld crash points\n", total);
    shmtest_check(f->a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_keyspace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_gc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
