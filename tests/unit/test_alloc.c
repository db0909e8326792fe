/*
 * test_alloc.c - the in-arena allocator: size classes, exact accounting,
 * the size limit, churn, and crash-at-every-step for each allocator path.
 */
#include "shmtest.h"

#include <sys/mount.h>
#include <sys/stat.h>

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
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

/* ---- classes ---------------------------------------------------------------- */

static void test_classes(void **state)
{
    unsigned c, n = shm_nclasses();
    size_t s;

    (void)state;
    assert_true(n > 40 && n <= SHM_NCLASSES);
    for (c = 0; c < n; c++) {
        size_t slab = (size_t)shm_class_pages(c) * SHM_PAGE_SIZE;
        size_t used = shm_class_start(c) + (size_t)shm_class_blocks(c) * shm_class_size(c);
        if (c > 0)
            assert_true(shm_class_size(c) > shm_class_size(c - 1));
        assert_true(shm_class_size(c) % 8 == 0);
        assert_true(shm_class_blocks(c) >= 1 && shm_class_blocks(c) <= SHM_SLAB_MAXBLOCKS);
        assert_true(used <= slab);
        /* No class wastes more than 1/8 of its slab. */
        assert_true((slab - used) * 8 <= slab);
    }
    /* Each size maps to the smallest class that holds it. */
    for (s = 1; s <= SHM_SMALL_MAX; s++) {
        c = shm_size_class(s);
        assert_true(shm_class_size(c) >= s);
        if (c > 0)
            assert_true(shm_class_size(c - 1) < s);
    }
    /* Spacing: 8 bytes up to 256, 16 up to 512, then 8 per doubling. */
    assert_int_equal(shm_alloc_size(51), 56);
    assert_int_equal(shm_alloc_size(249), 256);
    assert_int_equal(shm_alloc_size(257), 272);
    assert_int_equal(shm_alloc_size(513), 576);
    assert_int_equal(shm_alloc_size(16 * 1024 + 1), 20 * 1024);
    assert_int_equal(shm_alloc_size(SHM_LARGE_MAX + 1), 2 * SHM_SEG_SIZE - SHM_PAGE_SIZE);
}

/* ---- accounting ---------------------------------------------------------------- */

static size_t random_size(void)
{
    uint64_t r = rnd() % 1000;
    if (r < 900)
        return 1 + rnd() % 200;                /* small keys */
    if (r < 990)
        return 200 + rnd() % SHM_SMALL_MAX;    /* bigger small */
    if (r < 998)
        return SHM_SMALL_MAX + rnd() % (SHM_LARGE_MAX - SHM_SMALL_MAX);
    return SHM_LARGE_MAX + rnd() % (3 * SHM_SEG_SIZE);
}

static void test_exact_accounting(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    enum { N = 4000 };
    static uint64_t offs[N];
    static size_t sizes[N];
    uint64_t base_used = a->hdr->used_bytes, base_blocks = a->hdr->nblocks, want = 0;
    int i;

    for (i = 0; i < N; i++) {
        shm_begin(a);
        sizes[i] = random_size();
        assert_int_equal(shm_alloc(a, sizes[i], &offs[i]), EMBER_OK);
        /* Every byte of the usable size is ours to write. */
        memset(shm_ptr(a, offs[i]), i & 0xff, shm_usable(a, offs[i]));
        shm_commit(a);
        assert_int_equal(shm_usable(a, offs[i]), shm_alloc_size(sizes[i]));
        assert_true(shm_is_block(a, offs[i]));
        want += shm_alloc_size(sizes[i]);
        assert_int_equal(a->hdr->used_bytes, base_used + want);
        /* Between mutations the live figure is the header's alone. */
        assert_int_equal(shm_used(a), base_used + want);
    }
    assert_int_equal(a->hdr->nblocks, base_blocks + N);
    shmtest_check(a);
    /* Blocks never overlap: each still holds its own fill byte. */
    for (i = 0; i < N; i++) {
        uint8_t *p = shm_ptr(a, offs[i]);
        assert_int_equal(p[0], i & 0xff);
        assert_int_equal(p[shm_usable(a, offs[i]) - 1], i & 0xff);
    }
    /* Free every other one, several per mutation. */
    shm_begin(a);
    for (i = 0; i < N; i += 2) {
        shm_free(a, offs[i]);
        want -= shm_alloc_size(sizes[i]);
    }
    shm_commit(a);
    assert_int_equal(a->hdr->used_bytes, base_used + want);
    assert_int_equal(shm_used(a), base_used + want);
    shmtest_check(a);
    shm_begin(a);
    for (i = 1; i < N; i += 2)
        shm_free(a, offs[i]);
    shm_commit(a);
    assert_int_equal(a->hdr->used_bytes, base_used);
    assert_int_equal(a->hdr->nblocks, base_blocks);
    shmtest_check(a);
}

static void test_abort_restores(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct shmtest_snap s;
    uint64_t keep[100], tmp;
    int i;

    shm_begin(a);
    for (i = 0; i < 100; i++)
        assert_int_equal(shm_alloc(a, random_size(), &keep[i]), EMBER_OK);
    shm_commit(a);
    shmtest_snap_take(a, &s);
    shm_begin(a);
    for (i = 0; i < 100; i += 3)
        shm_free(a, keep[i]);
    for (i = 0; i < 300; i++)
        assert_int_equal(shm_alloc(a, random_size(), &tmp), EMBER_OK);
    shm_abort(a);
    shmtest_snap_compare(a, &s, "abort", 0);
    shmtest_check(a);
    shmtest_snap_free(&s);
}

/* ---- giving free pages back ------------------------------------------------------- */

static uint64_t file_blocks(const struct shm_arena *a)
{
    struct stat st;
    assert_int_equal(fstat(a->reg.fd, &st), 0);
    return (uint64_t)st.st_blocks;
}

static void fill_check(struct shm_arena *a, uint64_t off, size_t len, uint8_t v)
{
    const uint8_t *p = shm_ptr(a, off);
    size_t i;
    for (i = 0; i < len; i++)
        if (p[i] != v)
            fail_msg("byte %zu of block %llu is %u, want %u", i, (unsigned long long)off,
                     p[i], v);
}

static void test_release_free(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    enum { L = 100 * 1024 };
    uint64_t off[3], again, before;
    int i;

    shm_begin(a);
    for (i = 0; i < 3; i++) {
        assert_int_equal(shm_alloc(a, L, &off[i]), EMBER_OK);
        memset(shm_ptr(a, off[i]), 'a' + i, L);
    }
    shm_commit(a);
    /* Nothing free is big enough yet, or it was released already. */
    (void)shm_release_free(a, 1000);
    assert_int_equal(shm_release_free(a, 1000), 0);

    /* A free that is rolled back gives nothing back. */
    shm_begin(a);
    shm_free(a, off[1]);
    shm_abort(a);
    assert_int_equal(shm_release_free(a, 1000), 0);
    fill_check(a, off[1], L, 'b');

    /* Committed frees: their pages, all but each run's first, go back. */
    before = file_blocks(a);
    shm_begin(a);
    shm_free(a, off[0]);
    shm_free(a, off[2]);
    shm_commit(a);
    assert_true(shm_release_free(a, 1000) >= 1);
    assert_true(file_blocks(a) < before);
    assert_true((before - file_blocks(a)) * 512 >= (uint64_t)L - SHM_PAGE_SIZE);
    assert_int_equal(shm_release_free(a, 1000), 0);     /* once */
    fill_check(a, off[1], L, 'b');
    shmtest_check(a);

    /* Released pages are reused like any others (fresh zero pages). */
    shm_begin(a);
    assert_int_equal(shm_alloc(a, L, &again), EMBER_OK);
    memset(shm_ptr(a, again), 'z', L);
    shm_commit(a);
    fill_check(a, again, L, 'z');
    fill_check(a, off[1], L, 'b');
    shmtest_check(a);
}

/* ---- limits ----------------------------------------------------------------- */

static void test_limit(void **state)
{
    struct fixture *f = *state;
    struct shm_arena_opts o = f->o;
    struct shm_arena *a;
    uint64_t offs[512], off, used;
    int n = 0, rc;

    shm_arena_close(&f->a);
    shmtest_unlink(f->name);
    o.limit = 8 * SHM_SEG_SIZE;
    a = f->a = shmtest_open(&o);
    for (;;) {
        shm_begin(a);
        rc = shm_alloc(a, 64 * 1024, &off);
        if (rc != EMBER_OK) {
            shm_abort(a);
            break;
        }
        shm_commit(a);
        assert_true(n < 512);
        offs[n++] = off;
    }
    assert_int_equal(rc, EMBER_ELIMIT);
    assert_true(a->reg.size <= o.limit);
    /* 7 heap segments of 511 pages hold 7 * 31 blocks of 16 pages, less
     * what the database array's slab takes in the first. */
    assert_true(n >= 7 * 31 - 2 && n <= 7 * 31);
    used = a->hdr->used_bytes;
    /* Smaller requests still fit in the gaps; a huge one does not. */
    shm_begin(a);
    assert_int_equal(shm_alloc(a, 3 * SHM_SEG_SIZE, &off), EMBER_ELIMIT);
    shm_abort(a);
    assert_int_equal(a->hdr->used_bytes, used);
    shmtest_check(a);
    /* Freeing makes room again. */
    shm_begin(a);
    shm_free(a, offs[0]);
    shm_commit(a);
    shm_begin(a);
    assert_int_equal(shm_alloc(a, 64 * 1024, &off), EMBER_OK);
    shm_commit(a);
    shmtest_check(a);
    /* Raising the limit at the next attach lets it grow. */
    shm_arena_close(&f->a);
    o.limit = 0;
    a = f->a = shmtest_open(&o);
    shm_begin(a);
    assert_int_equal(shm_alloc(a, 3 * SHM_SEG_SIZE, &off), EMBER_OK);
    shm_commit(a);
    shmtest_check(a);
}

/* ENOSPC from a full device is distinct from the limit (root: small tmpfs). */
static void test_device_full(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/ember-tmpfs-XXXXXX";
    struct shm_arena_opts o = f->o;
    struct shm_arena *a = NULL;
    uint64_t off;
    char err[256];
    int rc, n = 0;

    if (geteuid() != 0) {
        print_message("skipped: mounting a small tmpfs needs root\n");
        skip();
    }
    assert_non_null(mkdtemp(dir));
    if (mount("none", dir, "tmpfs", 0, "size=12m") != 0) {
        rmdir(dir);
        print_message("skipped: cannot mount tmpfs here\n");
        skip();
    }
    o.region.shm_dir = dir;
    rc = shm_arena_open(&o, &a, err, sizeof(err));
    assert_int_equal(rc, EMBER_OK);
    for (;;) {
        shm_begin(a);
        rc = shm_alloc(a, 256 * 1024, &off);
        if (rc != EMBER_OK) {
            shm_abort(a);
            break;
        }
        shm_commit(a);
        n++;
    }
    assert_int_equal(rc, EMBER_ENOSPC);
    assert_true(n > 10);
    shmtest_check(a);
    shm_arena_close(&a);
    /* Creating where there is no room at all says so. */
    o.region.name = "embertest-toolarge";
    o.initial = 64ull << 20;
    rc = shm_arena_open(&o, &a, err, sizeof(err));
    assert_int_equal(rc, EMBER_ENOSPC);
    assert_null(a);
    assert_int_equal(umount(dir), 0);
    rmdir(dir);
}

/* ---- churn -------------------------------------------------------------------- */

static void test_churn(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    enum { LIVE = 20000, ROUNDS = 200000 };
    uint64_t *offs = calloc(LIVE, 8);
    size_t *sizes = calloc(LIVE, sizeof(size_t));
    uint64_t want = 0, base = a->hdr->used_bytes;
    struct shm_check_report rep;
    long r;

    for (r = 0; r < ROUNDS; r++) {
        unsigned i = (unsigned)(rnd() % LIVE);
        size_t sz = rnd() % 100 < 98 ? 8 + rnd() % 300 : random_size();
        shm_begin(a);
        if (offs[i] != 0 && rnd() % 3 == 0) {
            /* realloc keeps the prefix */
            uint64_t n;
            uint8_t *p = shm_ptr(a, offs[i]);
            uint8_t first = p[0];
            assert_int_equal(shm_realloc(a, offs[i], sz, &n), EMBER_OK);
            assert_int_equal(*(uint8_t *)shm_ptr(a, n), first);
            want += shm_alloc_size(sz) - shm_alloc_size(sizes[i]);
            offs[i] = n;
        } else {
            if (offs[i] != 0) {
                shm_free(a, offs[i]);
                want -= shm_alloc_size(sizes[i]);
            }
            assert_int_equal(shm_alloc(a, sz, &offs[i]), EMBER_OK);
            *(uint8_t *)shm_ptr(a, offs[i]) = (uint8_t)i;
            want += shm_alloc_size(sz);
        }
        sizes[i] = sz;
        shm_commit(a);
        if (r % 50000 == 0)
            shmtest_check(a);
    }
    assert_int_equal(a->hdr->used_bytes, base + want);
    assert_int_equal(shm_check_flags(a, &rep, SHM_CHECK_F_NOLEAKS), EMBER_OK);
    print_message("churn: %llu bytes used in %llu heap segments (%.2f%% of heap), "
                  "%llu free pages, %llu slabs\n", (unsigned long long)rep.used,
                  (unsigned long long)rep.heap_segs,
                  100.0 * (double)rep.used / (double)(rep.heap_segs * SHM_SEG_SIZE + 1),
                  (unsigned long long)rep.free_pages, (unsigned long long)rep.slabs);
    free(offs);
    free(sizes);
}

/* ---- crash at every step -------------------------------------------------------- */

#define MAXOPS 64
struct script {
    int nops;
    struct { int free_idx; size_t size; } ops[MAXOPS];  /* free_idx >= 0: free pool[i] */
    uint64_t *pool;
    uint64_t made[MAXOPS];
    int nmade;
};

static void run_script(struct shm_arena *a, void *arg)
{
    struct script *s = arg;
    int i;

    s->nmade = 0;
    shm_begin(a);
    for (i = 0; i < s->nops; i++) {
        if (s->ops[i].free_idx >= 0) {
            shm_free(a, s->pool[s->ops[i].free_idx]);
        } else {
            uint64_t off;
            assert_int_equal(shm_alloc(a, s->ops[i].size, &off), EMBER_OK);
            /* Write the whole fresh block, as callers do, unlogged. */
            memset(shm_ptr(a, off), 0xA5, shm_usable(a, off));
            s->made[s->nmade++] = off;
        }
    }
    shm_commit(a);
}

static long crash_script(struct fixture *f, struct script *s, const char *what)
{
    long n = shmtest_crash_every_step(&f->a, &f->o, run_script, s, what, 1);
    assert_true(n > 0);
    return n;
}

#define OP_ALLOC(s, sz) ((s)->ops[(s)->nops].free_idx = -1, (s)->ops[(s)->nops++].size = (sz))
#define OP_FREE(s, i)   ((s)->ops[(s)->nops].free_idx = (i), (s)->ops[(s)->nops++].size = 0)

static void test_crash_paths(void **state)
{
    struct fixture *f = *state;
    static uint64_t pool[4096];
    struct script s;
    long total = 0;
    int i;

    memset(&s, 0, sizeof(s));
    s.pool = pool;

    /* First allocation of all: new heap segment, new slab. */
    OP_ALLOC(&s, 40);
    total += crash_script(f, &s, "first alloc");
    pool[0] = s.made[0];

    /* Allocation from an existing slab. */
    s.nops = 0;
    OP_ALLOC(&s, 40);
    total += crash_script(f, &s, "slab alloc");
    pool[1] = s.made[0];

    /* Fill a slab of 40-byte blocks completely (slab leaves the partial
     * list), in one mutation. */
    s.nops = 0;
    for (i = 0; i < 60; i++)
        OP_ALLOC(&s, 40);
    total += crash_script(f, &s, "slab fill");
    for (i = 0; i < 60; i++)
        pool[2 + i] = s.made[i];

    /* Free from a full slab (slab rejoins the list) and from a partial one. */
    s.nops = 0;
    OP_FREE(&s, 5);
    OP_FREE(&s, 61);
    total += crash_script(f, &s, "slab free");

    /* Large blocks: split a free run, then free them to coalesce both ways. */
    s.nops = 0;
    OP_ALLOC(&s, 20000);
    OP_ALLOC(&s, 70000);
    OP_ALLOC(&s, 30000);
    total += crash_script(f, &s, "large alloc");
    pool[100] = s.made[0];
    pool[101] = s.made[1];
    pool[102] = s.made[2];
    s.nops = 0;
    OP_FREE(&s, 100);
    OP_FREE(&s, 102);
    OP_FREE(&s, 101);
    total += crash_script(f, &s, "large free coalesce");

    /* Huge blocks from the heap top, free to the segment list, reuse with
     * a split, and frees that merge neighbouring segment runs. */
    s.nops = 0;
    OP_ALLOC(&s, 3 * SHM_SEG_SIZE);
    OP_ALLOC(&s, SHM_SEG_SIZE + 5);
    OP_ALLOC(&s, 2 * SHM_SEG_SIZE);
    total += crash_script(f, &s, "huge alloc");
    pool[200] = s.made[0];
    pool[201] = s.made[1];
    pool[202] = s.made[2];
    s.nops = 0;
    OP_FREE(&s, 200);
    OP_FREE(&s, 202);
    total += crash_script(f, &s, "huge free");
    s.nops = 0;
    OP_FREE(&s, 201);
    total += crash_script(f, &s, "huge free merge");
    s.nops = 0;
    OP_ALLOC(&s, SHM_SEG_SIZE);
    total += crash_script(f, &s, "huge from free list");
    pool[203] = s.made[0];

    /* Empty slabs are released and whole free segments given back. */
    s.nops = 0;
    for (i = 0; i < 60; i++)
        if (2 + i != 5 && 2 + i != 61)     /* freed by "slab free" */
            OP_FREE(&s, 2 + i);
    total += crash_script(f, &s, "slab release");
    s.nops = 0;
    OP_FREE(&s, 0);
    OP_FREE(&s, 1);
    OP_FREE(&s, 203);
    total += crash_script(f, &s, "segment release");

    /* Three segment-sized large blocks, then free them all: at least one
     * wholly free heap segment goes back to the free segment list. */
    s.nops = 0;
    for (i = 0; i < 3; i++)
        OP_ALLOC(&s, 1900 * 1024);
    total += crash_script(f, &s, "large segments");
    for (i = 0; i < 3; i++)
        pool[300 + i] = s.made[i];
    s.nops = 0;
    for (i = 0; i < 3; i++)
        OP_FREE(&s, 300 + i);
    total += crash_script(f, &s, "heap segment release");
    assert_true(f->a->hdr->free_segs != 0);
    print_message("crash paths: %ld crash points rolled back and compared\n", total);
}

/* A mutation so big its log overflows into heap chunks. */
struct bigmut { int n; uint64_t *offs; };

static void run_big(struct shm_arena *a, void *arg)
{
    struct bigmut *b = arg;
    int i;

    shm_begin(a);
    for (i = 0; i < b->n; i++) {
        uint64_t off;
        assert_int_equal(shm_alloc(a, 24, &off), EMBER_OK);
        b->offs[i] = off;
    }
    for (i = 0; i < b->n; i += 2)
        shm_free(a, b->offs[i]);
    shm_commit(a);
}

static void test_crash_log_overflow(void **state)
{
    struct fixture *f = *state;
    struct bigmut b = { 150000, calloc(150000, 8) };
    long n;

    n = shmtest_crash_every_step(&f->a, &f->o, run_big, &b, "log overflow", 49999);
    assert_true(n >= 8);
    assert_true(f->a->log_peak > SHM_UNDO_INLINE_CAP / 16);
    /* The overflow chunks were freed after the commit. */
    assert_int_equal(SHM_PTR(f->a, SHM_UNDO_INLINE, struct shm_undo_chunk)->next, 0);
    shmtest_check(f->a);
    free(b.offs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test_setup_teardown(test_exact_accounting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_log_overflow, setup, teardown),
    };
    shm_alloc_init_tables();
    /* These tests own blocks nothing in the arena points to. */
    shmtest_check_flags = SHM_CHECK_F_NOLEAKS;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
