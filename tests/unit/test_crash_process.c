/*
 * test_crash_process.c - real processes, real SIGKILL.
 *
 * A child attaches the arena and applies a deterministic stream of
 * mutations (op i is a pure function of i: sets of small, large and huge
 * values, sets with expiry, deletes, expire / persist, a periodic flush and
 * the garbage steps that follow it), each committing together with a "seq"
 * key holding i.  After every commit it reports i in a shared page.  The
 * parent SIGKILLs it at a random moment, attaches (rollback + full check),
 * and verifies the arena against its own model of ops 0..seq: every
 * reported mutation is present, at most one more is, and nothing is half
 * applied.  Then a new child carries on from seq.  200 rounds.
 */
#include "shmtest.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define NKEYS   3000
#define ROUNDS  200
#define FLUSH_EVERY 20011

struct progress {
    volatile uint64_t done;     /* last op the child saw committed */
    volatile uint64_t started;  /* child attached */
};

struct model {
    int64_t vi[NKEYS];          /* op that wrote the value, -1: absent */
    int64_t exp[NKEYS];         /* expiry, -1: none */
};

static uint64_t key_of(uint64_t i)
{
    return (i * 2654435761u) % NKEYS;
}

static size_t value_len(uint64_t i)
{
    if (i % 16 == 15)
        return i % 97 == 0 ? 2500000 : 20000 + (i % 3) * 50000;
    return 1 + (i * 7) % 120;
}

static void value_fill(uint64_t i, char *buf, size_t len)
{
    size_t k;
    for (k = 0; k < len; k++)
        buf[k] = (char)('a' + (i + k * 31) % 26);
}

static int keyname(char *buf, uint64_t j)
{
    return sprintf(buf, "crash:key:%llu", (unsigned long long)j);
}

/* Applies op i to the arena, in one mutation with seq = i. */
static void apply(struct shm_arena *a, uint64_t i, char *vbuf)
{
    uint64_t j = key_of(i), h, off, n;
    unsigned kind = (unsigned)(i % 16);
    struct dict_pos pos;
    char k[64];
    int kl = keyname(k, j);

    shm_begin(a);
    if (i % FLUSH_EVERY == FLUSH_EVERY - 1) {
        BUG_ON(ks_flush(a, 0) != EMBER_OK);
    } else if (kind <= 10 || kind == 15) {
        size_t len = value_len(i);
        value_fill(i, vbuf, len);
        BUG_ON(ks_set_string(a, 0, k, (size_t)kl, vbuf, len,
                             kind == 9 || kind == 10 ? 1000000000000ll + (int64_t)i : -1)
               != EMBER_OK);
    } else {
        h = ks_hash(a, k, (size_t)kl);
        off = ks_lookup(a, 0, k, (size_t)kl, h, &pos);
        if (off != 0) {
            if (kind <= 12)
                BUG_ON(ks_delete(a, 0, &pos, h, off) != EMBER_OK);
            else
                BUG_ON(ks_set_expire(a, 0, &pos, h, off,
                                     kind == 13 ? 2000000000000ll + (int64_t)i : -1, &n)
                       != EMBER_OK);
        }
    }
    BUG_ON(ks_set_string(a, 0, "seq", 3, &i, sizeof(i), -1) != EMBER_OK);
    shm_commit(a);
}

/* The same op on the model. */
static void model_apply(struct model *m, uint64_t i)
{
    uint64_t j = key_of(i);
    unsigned kind = (unsigned)(i % 16);

    if (i % FLUSH_EVERY == FLUSH_EVERY - 1) {
        memset(m->vi, 0xff, sizeof(m->vi));
        memset(m->exp, 0xff, sizeof(m->exp));
    } else if (kind <= 10 || kind == 15) {
        m->vi[j] = (int64_t)i;
        m->exp[j] = kind == 9 || kind == 10 ? 1000000000000ll + (int64_t)i : -1;
    } else if (m->vi[j] >= 0) {
        if (kind <= 12) {
            m->vi[j] = -1;
            m->exp[j] = -1;
        } else {
            m->exp[j] = kind == 13 ? 2000000000000ll + (int64_t)i : -1;
        }
    }
}

static int64_t read_seq(struct shm_arena *a)
{
    struct dict_pos pos;
    struct ks_entry e;
    uint64_t off = ks_lookup(a, 0, "seq", 3, ks_hash(a, "seq", 3), &pos), v;

    if (off == 0)
        return -1;
    ks_decode(a, off, &e);
    BUG_ON(e.vlen != 8);
    memcpy(&v, e.val, 8);
    return (int64_t)v;
}

static void verify(struct shm_arena *a, const struct model *m, char *vbuf, char *want)
{
    uint64_t j, present = 0;

    for (j = 0; j < NKEYS; j++) {
        struct dict_pos pos;
        struct ks_entry e;
        char k[64];
        int kl = keyname(k, j);
        uint64_t off = ks_lookup(a, 0, k, (size_t)kl, ks_hash(a, k, (size_t)kl), &pos);
        if (m->vi[j] < 0) {
            if (off != 0)
                fail_msg("key %llu should be absent", (unsigned long long)j);
            continue;
        }
        if (off == 0)
            fail_msg("key %llu (op %lld) is missing", (unsigned long long)j, (long long)m->vi[j]);
        present++;
        ks_decode(a, off, &e);
        if (e.vlen != value_len((uint64_t)m->vi[j]))
            fail_msg("key %llu: value of %llu bytes, op %lld wrote %zu", (unsigned long long)j,
                     (unsigned long long)e.vlen, (long long)m->vi[j],
                     value_len((uint64_t)m->vi[j]));
        value_fill((uint64_t)m->vi[j], want, e.vlen);
        if (memcmp(e.val, want, e.vlen) != 0)
            fail_msg("key %llu: value bytes differ from op %lld", (unsigned long long)j,
                     (long long)m->vi[j]);
        if (e.has_expire != (m->exp[j] >= 0) ||
            (e.has_expire && ks_entry_expire(&e) != m->exp[j]))
            fail_msg("key %llu: expiry differs", (unsigned long long)j);
    }
    (void)vbuf;
    if (ks_count(a, 0) != present + 1)   /* + seq */
        fail_msg("%llu keys, model has %llu", (unsigned long long)ks_count(a, 0),
                 (unsigned long long)present + 1);
}

static void child(const struct shm_arena_opts *o, struct progress *pg)
{
    struct shm_arena *a = NULL;
    char err[512];
    char *vbuf = malloc(3 << 20);
    int64_t seq;
    uint64_t i;

    if (vbuf == NULL || shm_arena_open(o, &a, err, sizeof(err)) != EMBER_OK) {
        fprintf(stderr, "child: %s\n", err);
        _exit(2);
    }
    pg->started = 1;
    seq = read_seq(a);
    for (i = (uint64_t)(seq + 1);; i++) {
        apply(a, i, vbuf);
        pg->done = i;
        while (ks_gc_pending(a) && (i & 1))
            ks_gc_step(a, 64);
    }
}

static void test_sigkill_rounds(void **state)
{
    char name[128];
    struct shm_arena_opts o;
    struct shm_arena *a;
    struct progress *pg;
    struct model *m = malloc(sizeof(*m));
    char *vbuf = malloc(3 << 20), *want = malloc(3 << 20);
    int64_t seq = -1, model_at = -1;
    unsigned round, rolled = 0, in_gc = 0;
    uint64_t seed = (uint64_t)time(NULL);

    (void)state;
    snprintf(name, sizeof(name), "%s", shmtest_newname());
    o = shmtest_opts(name);
    o.check = SHM_CHECK_ALWAYS;
    memset(m->vi, 0xff, sizeof(m->vi));
    memset(m->exp, 0xff, sizeof(m->exp));
    pg = mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(pg != MAP_FAILED);
    a = shmtest_open(&o);
    shm_arena_close(&a);
    srand((unsigned)seed);
    print_message("seed %llu\n", (unsigned long long)seed);

    for (round = 0; round < ROUNDS; round++) {
        struct timespec ts;
        int st;
        pid_t pid;

        pg->done = (uint64_t)seq;
        pg->started = 0;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child(&o, pg);
        /* Let it attach, then kill it anywhere in 0..20 ms of work. */
        while (!pg->started) {
            if (waitpid(pid, &st, WNOHANG) == pid)
                fail_msg("child exited early with status %d", st);
            usleep(100);
        }
        ts.tv_sec = 0;
        ts.tv_nsec = (rand() % 20000) * 1000l;
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

        a = shmtest_open(&o);   /* rollback + full consistency check */
        rolled += (a->attach & SHM_ATTACH_ROLLED_BACK) != 0;
        in_gc += ks_gc_pending(a);
        seq = read_seq(a);
        /* Everything reported is there; at most one more committed unseen. */
        if (seq < (int64_t)pg->done || seq > (int64_t)pg->done + 1)
            fail_msg("round %u: seq %lld but the child reported %lld", round,
                     (long long)seq, (long long)pg->done);
        while (model_at < seq)
            model_apply(m, (uint64_t)++model_at);
        verify(a, m, vbuf, want);
        shm_arena_close(&a);
    }
    print_message("%u SIGKILLs, %lld mutations, %u interrupted mid-mutation and rolled "
                  "back, %u with garbage pending; every reported mutation present\n",
                  ROUNDS, (long long)seq + 1, rolled, in_gc);
    assert_true(seq > 1000);
    assert_true(rolled > 0);
    shmtest_unlink(name);
    munmap(pg, sizeof(*pg));
    free(m);
    free(vbuf);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_rounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
