/*
 * test_arena.c - named regions and arena attach: clean and unclean
 * reattach, two mappings at different addresses, refusing other layout
 * versions and shards without touching them, exclusive ownership, damaged
 * arenas set aside, growth without moving, and hugepages (fallback when
 * none are free, and real ones where root can reserve them).
 */
#include "shmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

struct fixture {
    char name[128];
    char path[256];
    struct shm_arena_opts o;
    struct shm_arena *a;
    char huge_dir[64];      /* a hugetlbfs mount of ours, or "" */
    long huge_saved;        /* nr_hugepages to restore, or -1 */
};

static int write_long(const char *path, long v);

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", shmtest_newname());
    snprintf(f->path, sizeof(f->path), "/dev/shm/%s", f->name);
    f->o = shmtest_opts(f->name);
    f->huge_saved = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char pat[300];
    glob_t g;
    size_t i;

    if (f->a)
        shm_arena_close(&f->a);
    shmtest_unlink(f->name);
    snprintf(pat, sizeof(pat), "/dev/shm/%s.*", f->name);
    if (glob(pat, 0, NULL, &g) == 0) {
        for (i = 0; i < g.gl_pathc; i++)
            unlink(g.gl_pathv[i]);
        globfree(&g);
    }
    /* A hugepage test that failed half way: leave no mount, no pages. */
    if (f->huge_dir[0]) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%s", f->huge_dir, f->name);
        unlink(path);
        umount(f->huge_dir);
        rmdir(f->huge_dir);
    }
    if (f->huge_saved >= 0)
        write_long("/proc/sys/vm/nr_hugepages", f->huge_saved);
    free(f);
    return 0;
}

static void put(struct shm_arena *a, const char *k, const char *v)
{
    shm_begin(a);
    assert_int_equal(ks_set_string(a, 0, k, strlen(k), v, strlen(v), -1), EMBER_OK);
    shm_commit(a);
}

static int get(struct shm_arena *a, const char *k, char *out, size_t len)
{
    struct dict_pos pos;
    struct ks_entry e;
    uint64_t off = ks_lookup(a, 0, k, strlen(k), ks_hash(a, k, strlen(k)), &pos);
    if (off == 0)
        return 0;
    ks_decode(a, off, &e);
    assert_true(e.vlen < len);
    memcpy(out, e.val, e.vlen);
    out[e.vlen] = '\0';
    return 1;
}

static uint64_t file_hash(const char *path)
{
    int fd = open(path, O_RDONLY);
    static char buf[1 << 20];
    XXH3_state_t *st = XXH3_createState();
    ssize_t n;
    uint64_t h;

    assert_true(fd >= 0);
    XXH3_64bits_reset(st);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        XXH3_64bits_update(st, buf, (size_t)n);
    close(fd);
    h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

static void patch_header(const char *path, size_t off, const void *val, size_t len)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, val, len, (off_t)off), (ssize_t)len);
    close(fd);
}

/* ---- attach --------------------------------------------------------------- */

static void test_reattach(void **state)
{
    struct fixture *f = *state;
    char v[64];
    uint64_t gen;

    f->a = shmtest_open(&f->o);
    assert_true(f->a->attach & SHM_ATTACH_CREATED);
    put(f->a, "hello", "world");
    gen = f->a->hdr->generation;
    shm_arena_close(&f->a);

    f->a = shmtest_open(&f->o);
    assert_false(f->a->attach & (SHM_ATTACH_CREATED | SHM_ATTACH_UNCLEAN));
    assert_int_equal(f->a->hdr->generation, gen + 1);
    assert_int_equal(f->a->hdr->state, SHM_STATE_RUNNING);
    assert_int_equal((pid_t)f->a->hdr->owner_pid, getpid());
    assert_true(get(f->a, "hello", v, sizeof(v)));
    assert_string_equal(v, "world");

    /* Dying without detaching: the successor notices and checks. */
    shm_arena_abandon(&f->a);
    f->o.check = SHM_CHECK_UNCLEAN;
    f->a = shmtest_open(&f->o);
    assert_true(f->a->attach & SHM_ATTACH_UNCLEAN);
    assert_true(f->a->attach & SHM_ATTACH_CHECKED);
    assert_true(get(f->a, "hello", v, sizeof(v)));

    /* Handed off: clean, no check needed. */
    shm_arena_handoff(&f->a);
    f->a = shmtest_open(&f->o);
    assert_true(f->a->attach & SHM_ATTACH_HANDED_OFF);
    assert_false(f->a->attach & (SHM_ATTACH_UNCLEAN | SHM_ATTACH_CHECKED));
}

static void test_two_mappings(void **state)
{
    struct fixture *f = *state;
    struct shm_arena_opts ro = f->o;
    struct shm_arena *b = NULL;
    char v1[64], v2[64], k[32];
    char err[256];
    pid_t pid;
    int i, st;

    f->a = shmtest_open(&f->o);
    for (i = 0; i < 2000; i++) {
        snprintf(k, sizeof(k), "key%d", i);
        put(f->a, k, k + 1);
    }
    ro.region.readonly = 1;
    ro.create = 0;
    assert_int_equal(shm_arena_open(&ro, &b, err, sizeof(err)), EMBER_OK);
    assert_true(b->base != f->a->base);
    /* Same bytes, same answers, through either mapping. */
    assert_memory_equal(b->base, f->a->base, SHM_HEADER_SIZE);
    for (i = 0; i < 2000; i += 7) {
        snprintf(k, sizeof(k), "key%d", i);
        assert_true(get(f->a, k, v1, sizeof(v1)));
        assert_true(get(b, k, v2, sizeof(v2)));
        assert_string_equal(v1, v2);
    }
    /* A store through one mapping is seen through the other at once. */
    put(f->a, "late", "arrival");
    assert_true(get(b, "late", v2, sizeof(v2)));
    assert_string_equal(v2, "arrival");
    shm_arena_close(&b);

    /* And from another process, mapping it wherever its kernel likes. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct shm_arena *c = NULL;
        void *spacer = mmap(NULL, 1ul << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        (void)spacer;  /* shift the child's next mapping elsewhere */
        if (shm_arena_open(&ro, &c, err, sizeof(err)) != EMBER_OK)
            _exit(2);
        if (c->base == f->a->base)
            _exit(3);
        if (!get(c, "key1999", v1, sizeof(v1)) || strcmp(v1, "ey1999") != 0)
            _exit(4);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_refuse_version(void **state)
{
    struct fixture *f = *state;
    uint32_t v = SHM_LAYOUT_VERSION + 1;
    uint64_t before;
    char err[512];
    int rc;

    f->a = shmtest_open(&f->o);
    put(f->a, "k", "v");
    shm_arena_abandon(&f->a);   /* even after a crash, with state running */
    patch_header(f->path, offsetof(struct shm_header, version), &v, sizeof(v));
    before = file_hash(f->path);
    rc = shm_arena_open(&f->o, &f->a, err, sizeof(err));
    assert_int_equal(rc, EMBER_EVERSION);
    assert_null(f->a);
    assert_non_null(strstr(err, "layout version"));
    assert_non_null(strstr(err, "snapshot"));      /* says how to migrate */
    assert_int_equal(file_hash(f->path), before);  /* touched nothing */
}

static void test_refuse_shard(void **state)
{
    struct fixture *f = *state;
    struct shm_arena_opts o = f->o;
    uint64_t before;
    char err[512];

    f->o.shard_id = 1;
    f->o.shard_count = 4;
    f->a = shmtest_open(&f->o);
    shm_arena_close(&f->a);
    before = file_hash(f->path);
    o.shard_id = 1;
    o.shard_count = 2;
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_ESHARD);
    assert_non_null(strstr(err, "shard 1 of 4"));
    o.shard_id = 2;
    o.shard_count = 4;
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_ESHARD);
    assert_int_equal(file_hash(f->path), before);
    o.shard_id = 1;
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_OK);
}

static void test_busy(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *b = NULL;
    char err[512];
    pid_t pid;
    int st;

    f->a = shmtest_open(&f->o);
    assert_int_equal(shm_arena_open(&f->o, &b, err, sizeof(err)), EMBER_EBUSY);
    assert_non_null(strstr(err, "in use"));
    pid = fork();
    if (pid == 0)
        _exit(shm_arena_open(&f->o, &b, err, sizeof(err)) == EMBER_EBUSY ? 0 : 1);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(WEXITSTATUS(st), 0);
    /* The lock dies with its owner, however it dies. */
    shm_arena_abandon(&f->a);
    assert_int_equal(shm_arena_open(&f->o, &f->a, err, sizeof(err)), EMBER_OK);
}

static void test_not_an_arena(void **state)
{
    struct fixture *f = *state;
    struct shm_arena_opts o = f->o;
    char err[512], junk[4096];
    int fd;

    /* Garbage: refused, never "repaired". */
    fd = open(f->path, O_CREAT | O_RDWR, 0600);
    assert_true(fd >= 0);
    memset(junk, 'J', sizeof(junk));
    assert_int_equal(posix_fallocate(fd, 0, 2 * SHM_SEG_SIZE), 0);
    assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
    close(fd);
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_EMAGIC);
    unlink(f->path);
    /* Too short to be one. */
    fd = open(f->path, O_CREAT | O_RDWR, 0600);
    assert_int_equal(pwrite(fd, junk, 100, 0), 100);
    close(fd);
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_EMAGIC);
    unlink(f->path);
    /* All zero: a creation that died early; recreated when allowed. */
    fd = open(f->path, O_CREAT | O_RDWR, 0600);
    assert_int_equal(posix_fallocate(fd, 0, 2 * SHM_SEG_SIZE), 0);
    close(fd);
    o.create = 0;
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_EMAGIC);
    o.create = 1;
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_OK);
    assert_true(f->a->attach & SHM_ATTACH_CREATED);
    /* Missing, without create. */
    shm_arena_close(&f->a);
    unlink(f->path);
    o.create = 0;
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_ENOENT);
    /* Bad names are refused before touching the filesystem. */
    o.region.name = "../etc/passwd";
    assert_int_equal(shm_arena_open(&o, &f->a, err, sizeof(err)), EMBER_EINVAL);
}

static int count_aside(const char *name)
{
    char pat[300];
    glob_t g;
    int n = 0;

    snprintf(pat, sizeof(pat), "/dev/shm/%s.corrupt-*", name);
    if (glob(pat, 0, NULL, &g) == 0) {
        n = (int)g.gl_pathc;
        globfree(&g);
    }
    return n;
}

static void test_corrupt_set_aside(void **state)
{
    struct fixture *f = *state;
    char err[512], k[32];
    uint64_t slot_off, bad = 0x123456789ull;
    uint32_t running = SHM_STATE_RUNNING;
    struct dict_pos pos;
    int i;

    f->a = shmtest_open(&f->o);
    for (i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        put(f->a, k, "v");
    }
    ks_lookup(f->a, 0, "k5", 2, ks_hash(f->a, "k5", 2), &pos);
    slot_off = shm_off(f->a, pos.slot);
    shm_arena_close(&f->a);
    /* Scribble over a table slot and pretend the owner crashed. */
    patch_header(f->path, slot_off, &bad, 8);
    patch_header(f->path, offsetof(struct shm_header, state), &running, 4);
    f->o.check = SHM_CHECK_UNCLEAN;
    assert_int_equal(shm_arena_open(&f->o, &f->a, err, sizeof(err)), EMBER_ECORRUPT);
    assert_non_null(strstr(err, "renamed to"));
    assert_int_equal(access(f->path, F_OK), -1);   /* never served again */
    assert_int_equal(count_aside(f->name), 1);     /* but kept */
    /* The next start creates a fresh arena under the name. */
    f->a = shmtest_open(&f->o);
    assert_true(f->a->attach & SHM_ATTACH_CREATED);
}

static void test_damaged_log(void **state)
{
    struct fixture *f = *state;
    uint64_t tail = SHM_UNDO_INLINE + 32 + 24;   /* one bogus record */
    uint64_t rec[3] = { 0, 0, ((uint64_t)1 << 40 << 16) | 8 };   /* 1 TiB: past the end */
    char err[512];

    f->a = shmtest_open(&f->o);
    put(f->a, "x", "y");
    shm_arena_abandon(&f->a);
    patch_header(f->path, SHM_UNDO_INLINE + 32, rec, sizeof(rec));
    patch_header(f->path, offsetof(struct shm_header, log_tail), &tail, 8);
    assert_int_equal(shm_arena_open(&f->o, &f->a, err, sizeof(err)), EMBER_ECORRUPT);
    if (strstr(err, "undo log") == NULL)
        fail_msg("unexpected error: %s", err);
    assert_int_equal(count_aside(f->name), 1);
}

static void test_growth(void **state)
{
    struct fixture *f = *state;
    static char val[100000];
    char *base;
    size_t size0;
    int i;

    f->a = shmtest_open(&f->o);
    base = f->a->base;
    size0 = f->a->reg.size;
    memset(val, 'g', sizeof(val));
    for (i = 0; i < 2000; i++) {    /* ~200 MB, growing the region by steps */
        char k[32];
        snprintf(k, sizeof(k), "big%d", i);
        shm_begin(f->a);
        assert_int_equal(ks_set_string(f->a, 0, k, strlen(k), val, sizeof(val), -1), EMBER_OK);
        shm_commit(f->a);
        assert_ptr_equal(f->a->base, base);   /* never moves */
    }
    assert_true(f->a->reg.size >= 2000ul * sizeof(val));
    assert_true(f->a->reg.size > size0);
    assert_int_equal(f->a->hdr->region_size, f->a->reg.size);
    shmtest_check(f->a);
    shm_arena_close(&f->a);
    {
        struct stat st;
        assert_int_equal(stat(f->path, &st), 0);
        /* Allocated, not sparse: a full tmpfs says ENOSPC, not SIGBUS. */
        assert_true((uint64_t)st.st_blocks * 512 >= (uint64_t)st.st_size);
    }
    f->a = shmtest_open(&f->o);
    assert_int_equal(ks_count(f->a, 0), 2000);
    /* Ahead-of-time growth keeps headroom beyond the heap top. */
    f->a->reserve_ahead = 64ull << 20;
    f->a->reserve_auto = 0;
    assert_int_equal(shm_arena_tick(f->a), EMBER_OK);
    assert_true(f->a->reg.size >= f->a->hdr->heap_top + (64ull << 20));
}

/* An inspection view rolls back and checks in private pages only. */
static void crash_mid_put(struct shm_arena *a, void *arg)
{
    (void)arg;
    shm_begin(a);
    BUG_ON(ks_set_string(a, 0, "half", 4, "applied", 7, -1) != EMBER_OK);
    BUG_ON(ks_set_string(a, 0, "hello", 5, "changed", 7, -1) != EMBER_OK);
    shm_commit(a);
}

static void test_inspect_view(void **state)
{
    struct fixture *f = *state;
    struct shm_arena_opts io = f->o;
    struct shm_check_report r;
    char err[512], v[64];
    uint64_t before;

    f->a = shmtest_open(&f->o);
    put(f->a, "hello", "world");
    /* A worker owns it: the inspector refuses. */
    io.region.private_copy = 1;
    io.create = 0;
    io.check = SHM_CHECK_NEVER;
    {
        struct shm_arena *b = NULL;
        assert_int_equal(shm_arena_open(&io, &b, err, sizeof(err)), EMBER_EBUSY);
    }
    /* Die in the middle of a mutation. */
    assert_true(shmtest_run_crashing(&f->a, crash_mid_put, NULL, 4));
    before = file_hash(f->path);
    assert_int_equal(shm_arena_open(&io, &f->a, err, sizeof(err)), EMBER_OK);
    assert_true(f->a->attach & SHM_ATTACH_ROLLED_BACK);
    assert_int_equal(shm_check(f->a, &r), EMBER_OK);
    assert_false(get(f->a, "half", v, sizeof(v)));
    assert_true(get(f->a, "hello", v, sizeof(v)));
    assert_string_equal(v, "world");
    shm_arena_close(&f->a);
    assert_int_equal(file_hash(f->path), before);   /* the file never changed */
    /* The real owner still finds the interrupted mutation and undoes it. */
    f->a = shmtest_open(&f->o);
    assert_true(f->a->attach & SHM_ATTACH_ROLLED_BACK);
    assert_false(get(f->a, "half", v, sizeof(v)));
}

/* ---- hugepages ------------------------------------------------------------------ */

static long read_long(const char *path)
{
    FILE *fp = fopen(path, "r");
    long v = -1;
    if (fp) {
        if (fscanf(fp, "%ld", &v) != 1)
            v = -1;
        fclose(fp);
    }
    return v;
}

static int write_long(const char *path, long v)
{
    FILE *fp = fopen(path, "w");
    int ok;
    if (!fp)
        return -1;
    ok = fprintf(fp, "%ld\n", v) > 0;
    return (fclose(fp) == 0 && ok) ? 0 : -1;
}

#define NR_HUGE "/proc/sys/vm/nr_hugepages"
#define FREE_HUGE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

static void test_huge_fallback(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/ember-huge-XXXXXX", err[512];
    long saved = read_long(NR_HUGE), used;
    int rc;

    if (geteuid() != 0 || saved < 0) {
        print_message("skipped: needs root to mount hugetlbfs\n");
        skip();
    }
    /* No free hugepages: keep only those in use by others. */
    used = saved - read_long(FREE_HUGE);
    f->huge_saved = saved;
    assert_int_equal(write_long(NR_HUGE, used), 0);
    assert_non_null(mkdtemp(dir));
    if (mount("none", dir, "hugetlbfs", 0, "pagesize=2M") != 0) {
        rmdir(dir);
        print_message("skipped: cannot mount hugetlbfs: %s\n", strerror(errno));
        skip();
    }
    snprintf(f->huge_dir, sizeof(f->huge_dir), "%s", dir);
    f->o.region.huge_dir = dir;
    f->o.region.huge = SHM_HUGE_ON;
    rc = shm_arena_open(&f->o, &f->a, err, sizeof(err));
    assert_int_equal(rc, EMBER_ENOHUGE);
    assert_non_null(strstr(err, "hugepages"));
    f->o.region.huge = SHM_HUGE_AUTO;
    rc = shm_arena_open(&f->o, &f->a, err, sizeof(err));
    assert_int_equal(rc, EMBER_OK);
    assert_false(f->a->reg.huge);
    assert_false(f->a->hdr->flags & SHM_FLAG_HUGETLB);
    assert_non_null(strstr(f->a->reg.note, "hugepages"));
    put(f->a, "k", "v");
    shm_arena_close(&f->a);
    assert_int_equal(umount(dir), 0);
    rmdir(dir);
    f->huge_dir[0] = '\0';
    assert_int_equal(write_long(NR_HUGE, saved), 0);
    f->huge_saved = -1;
}

static void test_huge_real(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/ember-huge-XXXXXX", err[512], v[64], path[300];
    long saved = read_long(NR_HUGE), want;
    int rc, i;

    if (geteuid() != 0 || saved < 0) {
        print_message("skipped: needs root to reserve hugepages\n");
        skip();
    }
    /* Exactly 16 free pages, whatever others use or left free. */
    want = saved - read_long(FREE_HUGE) + 16;
    f->huge_saved = saved;
    if (write_long(NR_HUGE, want) != 0 || read_long(FREE_HUGE) != 16) {
        print_message("skipped: could not reserve 16 hugepages\n");
        skip();
    }
    assert_non_null(mkdtemp(dir));
    if (mount("none", dir, "hugetlbfs", 0, "pagesize=2M") != 0) {
        rmdir(dir);
        print_message("skipped: cannot mount hugetlbfs: %s\n", strerror(errno));
        skip();
    }
    snprintf(f->huge_dir, sizeof(f->huge_dir), "%s", dir);
    f->o.region.huge_dir = dir;
    f->o.region.huge = SHM_HUGE_ON;
    rc = shm_arena_open(&f->o, &f->a, err, sizeof(err));
    assert_int_equal(rc, EMBER_OK);
    assert_true(f->a->reg.huge);
    assert_true(f->a->hdr->flags & SHM_FLAG_HUGETLB);
    snprintf(path, sizeof(path), "%s/%s", dir, f->name);
    assert_int_equal(access(path, F_OK), 0);
    for (i = 0; i < 20000; i++) {    /* grows onto more hugepages */
        char k[32];
        snprintf(k, sizeof(k), "hk%d", i);
        put(f->a, k, "a value on a hugepage");
    }
    shmtest_check(f->a);
    shm_arena_close(&f->a);
    /* Found again on the mount even with hugepages now off. */
    f->o.region.huge = SHM_HUGE_OFF;
    f->a = shmtest_open(&f->o);
    assert_true(f->a->reg.huge);
    assert_true(get(f->a, "hk19999", v, sizeof(v)));
    /* Growing past the reserved pages fails cleanly, data intact. */
    {
        static char big[40 << 20];
        shm_begin(f->a);
        rc = ks_set_string(f->a, 0, "huge", 4, big, sizeof(big), -1);
        shm_abort(f->a);
        assert_int_equal(rc, EMBER_ENOHUGE);
        assert_true(get(f->a, "hk1", v, sizeof(v)));
        shmtest_check(f->a);
    }
    shm_arena_close(&f->a);
    unlink(path);
    assert_int_equal(umount(dir), 0);
    rmdir(dir);
    f->huge_dir[0] = '\0';
    assert_int_equal(write_long(NR_HUGE, saved), 0);
    assert_int_equal(read_long(NR_HUGE), saved);
    f->huge_saved = -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reattach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_mappings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_an_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_set_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_real, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
