/*
 * shm_bench.c - figures for the arena: overhead bytes per key, ns per
 * lookup and insert, the worst single insert while the table grows, and
 * allocator speed and fragmentation.  Prints figures; never fails on them.
 *
 *   shm_bench [-n keys] [-k keylen] [-v vallen] [-a]
 *
 * Keys are "key:" + a zero-padded counter, `keylen` bytes; values `vallen`
 * bytes.  Overhead per key = (arena used bytes after - before) / n -
 * (keylen + vallen): what the entry headers, allocator rounding and the
 * hash table cost beyond the payload.  "heap" counts whole heap segments
 * instead (fragmentation included).  -a also runs the allocator figures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shm/alloc.h"
#include "shm/arena.h"
#include "shm/check.h"
#include "shm/ks.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void make_key(char *k, size_t klen, uint64_t i)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)i);
    memset(k, '0', klen);
    memcpy(k, "key:", klen < 4 ? klen : 4);
    memcpy(k + klen - (size_t)n, tmp, (size_t)n);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static struct shm_arena *open_arena(const char *name)
{
    struct shm_arena_opts o;
    struct shm_arena *a = NULL;
    char err[512];

    memset(&o, 0, sizeof(o));
    o.region.name = name;
    o.region.huge = SHM_HUGE_OFF;
    o.shard_count = 1;
    o.dbcount = 16;
    o.create = 1;
    o.check = SHM_CHECK_NEVER;
    if (shm_arena_open(&o, &a, err, sizeof(err)) != EMBER_OK) {
        fprintf(stderr, "shm_bench: %s\n", err);
        exit(1);
    }
    return a;
}

/*
 * Inserts n keys into a fresh arena, timing each insert into lat[i] (the
 * minimum over the runs so far: preemption on a shared machine rarely hits
 * the same insert in every run, while what an insert really costs - a
 * split, a new bucket segment, a directory growth - recurs at the same
 * insert each run).  Returns the arena, still open, after the last run.
 */
static struct shm_arena *insert_run(const char *name, uint64_t n, size_t klen,
                                    size_t vlen, uint64_t *lat, int first,
                                    double *ins_ns, uint64_t *used0, uint64_t *heap0)
{
    char *k = malloc(klen + 1), *v = malloc(vlen + 1);
    struct shm_arena *a = open_arena(name);
    uint64_t i, t0;

    /* The worker keeps the region grown ahead in its idle time; do the
     * same here so inserts measure the keyspace, not fallocate(). */
    a->reserve_ahead = 64ull << 20;
    a->reserve_auto = 0;
    shm_arena_tick(a);
    memset(v, 'v', vlen);
    *used0 = a->hdr->used_bytes;
    *heap0 = a->hdr->heap_top;
    t0 = now_ns();
    for (i = 0; i < n; i++) {
        uint64_t s, d;
        make_key(k, klen, i);
        s = now_ns();
        shm_begin(a);
        if (ks_set_string(a, 0, k, klen, v, vlen, -1) != EMBER_OK) {
            fprintf(stderr, "insert failed at %llu\n", (unsigned long long)i);
            exit(1);
        }
        shm_commit(a);
        d = now_ns() - s;
        if (first || d < lat[i])
            lat[i] = d;
        if ((i & 1023) == 0)
            shm_arena_tick(a);
    }
    *ins_ns = (double)(now_ns() - t0) / (double)n;
    free(k);
    free(v);
    return a;
}

static void drop_arena(struct shm_arena **a, const char *name)
{
    struct shm_region_opts r = { 0 };
    shm_arena_close(a);
    r.name = name;
    shm_region_unlink(&r);
}

static void keyspace_bench(uint64_t n, size_t klen, size_t vlen, int runs)
{
    char name[64], *k = malloc(klen + 1);
    struct shm_arena *a = NULL;
    uint64_t used0, heap0, t0, i, found = 0, worst_i = 0;
    uint64_t *lat = malloc(n * sizeof(uint64_t)), *sorted = malloc(n * sizeof(uint64_t));
    double ins_ns = 0, best_ins = 1e18, get_ns, miss_ns;
    struct shm_check_report rep;
    int r;

    snprintf(name, sizeof(name), "ember-bench-%d", (int)getpid());
    for (r = 0; r < runs; r++) {
        if (a)
            drop_arena(&a, name);
        a = insert_run(name, n, klen, vlen, lat, r == 0, &ins_ns, &used0, &heap0);
        if (ins_ns < best_ins)
            best_ins = ins_ns;
    }

    t0 = now_ns();
    for (i = 0; i < n; i++) {
        struct dict_pos pos;
        uint64_t j = (i * 2654435761u) % n;
        make_key(k, klen, j);
        found += ks_lookup(a, 0, k, klen, ks_hash(a, k, klen), &pos) != 0;
    }
    get_ns = (double)(now_ns() - t0) / (double)n;
    if (found != n) {
        fprintf(stderr, "lookups found %llu of %llu\n", (unsigned long long)found,
                (unsigned long long)n);
        exit(1);
    }
    t0 = now_ns();
    for (i = 0; i < n; i++) {
        struct dict_pos pos;
        make_key(k, klen, i + n);
        found += ks_lookup(a, 0, k, klen, ks_hash(a, k, klen), &pos) != 0;
    }
    miss_ns = (double)(now_ns() - t0) / (double)n;

    for (i = 0; i < n; i++)
        if (lat[i] > lat[worst_i])
            worst_i = i;
    memcpy(sorted, lat, n * sizeof(uint64_t));
    qsort(sorted, n, sizeof(uint64_t), cmp_u64);
    {
        const struct shm_dict *d = &ks_db(a, 0)->keys;
        double per_key = (double)(a->hdr->used_bytes - used0) / (double)n - (double)(klen + vlen);
        double heap_key = (double)(a->hdr->heap_top - heap0) / (double)n - (double)(klen + vlen);
        double table = (double)dict_mem(a, d) / (double)n;
        uint64_t entry = shm_alloc_size(ks_entry_size(klen, vlen, 0));
        printf("keys %llu  key %zu B  value %zu B  (%d runs)\n", (unsigned long long)n,
               klen, vlen, runs);
        printf("  overhead per key      %.1f B  (entry: %llu B block for %zu B payload = %llu B; table %.1f B)\n",
               per_key, (unsigned long long)entry, klen + vlen,
               (unsigned long long)(entry - klen - vlen), table);
        printf("  heap per key          %.1f B beyond payload (whole segments, fragmentation included)\n",
               heap_key);
        printf("  table                 %llu buckets, %.2f keys/bucket\n",
               (unsigned long long)d->nbuckets, (double)n / (double)d->nbuckets);
        printf("  insert                %.0f ns/op (begin + SET + commit, best run)\n", best_ins);
        printf("  lookup hit / miss     %.0f / %.0f ns/op\n", get_ns, miss_ns);
        printf("  insert latency        p50 %llu ns  p99 %llu ns  p99.99 %llu ns  worst %llu ns"
               " (insert #%llu)\n",
               (unsigned long long)sorted[n / 2], (unsigned long long)sorted[n * 99 / 100],
               (unsigned long long)sorted[n - n / 10000 - 1], (unsigned long long)sorted[n - 1],
               (unsigned long long)worst_i);
        printf("                        (each insert's minimum over the runs: preemption on a\n"
               "                         shared machine rarely strikes one insert every run)\n");
        printf("  undo log              peak %llu records in one mutation\n",
               (unsigned long long)a->log_peak);
    }
    t0 = now_ns();
    if (shm_check(a, &rep) != EMBER_OK) {
        fprintf(stderr, "check failed: %s\n", rep.first_error);
        exit(1);
    }
    printf("  consistency check     %.2f s for %.2f GB of heap, %llu keys\n",
           (double)(now_ns() - t0) / 1e9, (double)a->hdr->heap_top / 1e9,
           (unsigned long long)rep.keys);
    fflush(stdout);
    drop_arena(&a, name);
    free(k);
    free(lat);
    free(sorted);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void alloc_bench(void)
{
    enum { N = 1000000, LIVE = 500000 };
    char name[64];
    struct shm_arena *a;
    uint64_t *offs = calloc(N, 8), t0, i;
    size_t *sz = calloc(LIVE, sizeof(size_t));
    double a_ns, f_ns;
    uint64_t used0, heap0;

    snprintf(name, sizeof(name), "ember-bench-a-%d", (int)getpid());
    a = open_arena(name);
    a->reserve_ahead = 256ull << 20;
    a->reserve_auto = 0;
    shm_arena_tick(a);
    used0 = a->hdr->used_bytes;
    heap0 = a->hdr->heap_top;
    /* Small allocs, 64 per mutation as a busy command batch would. */
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        if (i % 64 == 0)
            shm_begin(a);
        shm_alloc(a, 16 + (i * 7) % 100, &offs[i]);
        if (i % 64 == 63)
            shm_commit(a);
    }
    if (a->in_mut)
        shm_commit(a);
    a_ns = (double)(now_ns() - t0) / N;
    printf("allocator\n");
    printf("  small block, 16..116 B: %.1f B of heap per block (%.1f B asked on average)\n",
           (double)(a->hdr->heap_top - heap0) / N, 16 + 49.5);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        if (i % 64 == 0)
            shm_begin(a);
        shm_free(a, offs[i]);
        if (i % 64 == 63)
            shm_commit(a);
    }
    if (a->in_mut)
        shm_commit(a);
    f_ns = (double)(now_ns() - t0) / N;
    printf("  alloc %.1f ns, free %.1f ns (amortized, with logging and commit)\n", a_ns, f_ns);

    /* Churn: half a million live blocks of drifting sizes, 5M replacements;
     * how much heap does it take compared to what is live? */
    used0 = a->hdr->used_bytes;
    for (i = 0; i < LIVE; i++) {
        if (i % 64 == 0)
            shm_begin(a);
        sz[i] = 8 + rnd() % 200;
        shm_alloc(a, sz[i], &offs[i]);
        if (i % 64 == 63)
            shm_commit(a);
    }
    if (a->in_mut)
        shm_commit(a);
    for (i = 0; i < 10ull * LIVE; i++) {
        uint64_t j = rnd() % LIVE;
        if (i % 64 == 0)
            shm_begin(a);
        shm_free(a, offs[j]);
        /* sizes drift upward over the run, the hard case for slabs */
        sz[j] = 8 + rnd() % (200 + i / 5000);
        if (sz[j] > 3000)
            sz[j] = 8 + rnd() % 3000;
        shm_alloc(a, sz[j], &offs[j]);
        if (i % 64 == 63)
            shm_commit(a);
    }
    if (a->in_mut)
        shm_commit(a);
    {
        struct shm_check_report rep;
        if (shm_check_flags(a, &rep, SHM_CHECK_F_NOLEAKS) != EMBER_OK) {
            fprintf(stderr, "check: %s\n", rep.first_error);
            exit(1);
        }
        printf("  churn (5M replacements, sizes drifting 8..3000 B): live %.1f MB, "
               "heap %.1f MB in use -> %.1f%% overhead (free pages %.1f MB, free in slabs %.1f MB)\n",
               (double)(a->hdr->used_bytes - used0) / 1e6,
               (double)(rep.heap_segs * SHM_SEG_SIZE) / 1e6,
               100.0 * ((double)(rep.heap_segs * SHM_SEG_SIZE) / (double)(a->hdr->used_bytes - used0) - 1),
               (double)rep.free_pages * SHM_PAGE_SIZE / 1e6,
               ((double)(rep.heap_segs * SHM_SEG_SIZE) - (double)rep.used -
                (double)rep.free_pages * SHM_PAGE_SIZE) / 1e6);
    }
    shm_arena_close(&a);
    {
        struct shm_region_opts r = { 0 };
        r.name = name;
        shm_region_unlink(&r);
    }
    free(offs);
    free(sz);
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    size_t klen = 16, vlen = 32;
    int opt, do_alloc = 0, runs = 3;

    while ((opt = getopt(argc, argv, "n:k:v:r:a")) != -1) {
        switch (opt) {
        case 'r': runs = atoi(optarg); break;
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 'k': klen = strtoul(optarg, NULL, 10); break;
        case 'v': vlen = strtoul(optarg, NULL, 10); break;
        case 'a': do_alloc = 1; break;
        default:
            fprintf(stderr, "usage: shm_bench [-n keys] [-k keylen] [-v vallen] [-r runs] [-a]\n");
            return 2;
        }
    }
    if (klen < 8 || n == 0) {
        fprintf(stderr, "shm_bench: keys need at least 8 bytes\n");
        return 2;
    }
    keyspace_bench(n, klen, vlen, runs < 1 ? 1 : runs);
    if (do_alloc)
        alloc_bench();
    return 0;
}
