/*
 * test_cmd_crash.c - crash at every step, command by command.
 *
 * Runs real write commands through cmd_run() (the same path a worker runs
 * them on, arena mutation included) on a test arena, making each one die
 * after every one of its logged stores in turn; each time the arena is
 * attached again (rollback and full consistency check) and compared byte
 * for byte with its state before the command.  Then the command runs to
 * completion and its effect is checked.  Every mutating path of every type
 * that a command can take is listed here, with the conversions between
 * compact and full encodings; so are the internal writes of commands
 * across shards (@lpopif, @sstore, @take/@put, @zstore, @flushdb), run as
 * requests forwarded by another worker, and the garbage steps that free
 * big collections after DEL, UNLINK, RENAME, a store or FLUSHDB/FLUSHALL.
 */
#include "shmtest.h"
#include "worker/config.h"
#include "worker/server.h"
#include "worker/util.h"

#include <xxhash.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LSAN_DISABLE() __lsan_disable()
#define LSAN_ENABLE() __lsan_enable()
#else
#define LSAN_DISABLE() ((void)0)
#define LSAN_ENABLE() ((void)0)
#endif

static struct shm_arena *arena;
static struct shm_arena_opts opts;
static long total;
static unsigned cur_db;          /* the database commands run in */
static uint64_t fwd_pos;         /* > 0: commands run as requests forwarded by
                                    peer 1, ending at this ring position */

#define MAXARGS 256

struct job {
    int argc;
    const char *args[MAXARGS];
    size_t lens[MAXARGS];
};

static void run_job(const struct job *j, struct rbuf *out)
{
    struct resp_arg argv[MAXARGS];
    struct cmd_ctx x;
    int i;

    for (i = 0; i < j->argc; i++) {
        argv[i].ptr = j->args[i];
        argv[i].len = j->lens[i];
    }
    memset(&x, 0, sizeof(x));
    x.cmd = cmd_lookup(argv[0].ptr, argv[0].len);
    if (x.cmd == NULL)
        fail_msg("unknown command %s", j->args[0]);
    x.argc = j->argc;
    x.argv = argv;
    x.db = cur_db;
    x.out.b = out;
    x.out.proto = 2;
    /* A forwarded request also stores, in the same mutation, how far the
     * peer's ring has been applied (cmd_run): one more logged store. */
    x.ring_peer = fwd_pos ? 1 : -1;
    x.ring_pos = fwd_pos;
    W.now_ms = util_mstime();     /* the worker sets it per batch */
    cmd_run(&x);
}

/* A job from NULL-terminated C strings. */
static void job_va(struct job *j, const char *first, va_list ap)
{
    j->argc = 0;
    j->args[j->argc] = first;
    j->lens[j->argc++] = strlen(first);
    while ((j->args[j->argc] = va_arg(ap, const char *)) != NULL) {
        j->lens[j->argc] = strlen(j->args[j->argc]);
        j->argc++;
        assert_true(j->argc < MAXARGS);
    }
}

/* Runs a job to completion; returns its reply (static buffer). */
static const char *cmd_job(const struct job *j)
{
    static char reply[512];
    struct rbuf r;

    rbuf_init(&r);
    W.arena = arena;
    if (fwd_pos)
        fwd_pos++;
    run_job(j, &r);
    snprintf(reply, sizeof(reply), "%.*s", (int)(r.len < sizeof(reply) - 1 ? r.len : sizeof(reply) - 1),
             r.data ? r.data : "");
    rbuf_free(&r);
    return reply;
}

/* Runs a command to completion; returns its reply (static buffer). */
static const char *cmd(const char *first, ...)
{
    struct job j;
    va_list ap;

    va_start(ap, first);
    job_va(&j, first, ap);
    va_end(ap);
    return cmd_job(&j);
}

/*
 * shmtest_crash_every_step() with the comparison done by memcmp() over the
 * snapshot's runs of live bytes, found once: comparing byte by byte with
 * the live map costs some 4 ms per crash point on a 4 MB heap, most of
 * this test's time.  A difference is reported by shmtest_snap_compare().
 */
struct live_run {
    size_t off, len;
};

static long crash_every_step(shmtest_mut_fn fn, void *arg, const char *what)
{
    struct shmtest_snap s;
    struct live_run *runs = NULL;
    size_t nruns = 0, cap = 0, i, j;
    long n, tried = 0;

    shmtest_check(arena);
    shmtest_snap_take(arena, &s);
    for (i = 0; i < s.len;) {
        const uint8_t *p = memchr(s.live + i, 1, s.len - i);
        if (p == NULL)
            break;
        i = (size_t)(p - s.live);
        for (j = i; j < s.len && s.live[j]; j++)
            ;
        if (nruns == cap) {
            cap = cap ? 2 * cap : 1024;
            runs = realloc(runs, cap * sizeof(*runs));
            assert_non_null(runs);
        }
        runs[nruns].off = i;
        runs[nruns++].len = j - i;
        i = j;
    }
    for (n = 1;; n++) {
        char err[512];
        int rc;

        if (!shmtest_run_crashing(&arena, fn, arg, n))
            break;
        rc = shm_arena_open(&opts, &arena, err, sizeof(err));
        if (rc != EMBER_OK)
            fail_msg("%s step %ld: reattach failed: %s", what, n, err);
        if (n > 1 && !(arena->attach & SHM_ATTACH_ROLLED_BACK))
            fail_msg("%s step %ld: expected a rollback", what, n);
        if (opts.check != SHM_CHECK_NEVER && !(arena->attach & SHM_ATTACH_CHECKED))
            fail_msg("%s step %ld: attach did not check", what, n);
        if (arena->hdr->heap_top != s.len)
            shmtest_snap_compare(arena, &s, what, n);
        for (i = 0; i < nruns; i++)
            if (memcmp(s.mem + runs[i].off, (uint8_t *)arena->base + runs[i].off,
                       runs[i].len) != 0) {
                shmtest_snap_compare(arena, &s, what, n);
                fail_msg("%s step %ld: differs after rollback", what, n);
            }
        tried++;
    }
    free(runs);
    shmtest_snap_free(&s);
    shmtest_check(arena);
    return tried;
}

static char last_reply[512];   /* of the last run of a job that completed */

static void mutation(struct shm_arena *a, void *arg)
{
    struct job *j = arg;
    struct rbuf r;

    rbuf_init(&r);
    W.arena = a;
    run_job(j, &r);
    snprintf(last_reply, sizeof(last_reply), "%.*s",
             (int)(r.len < sizeof(last_reply) - 1 ? r.len : sizeof(last_reply) - 1),
             r.data ? r.data : "");
    rbuf_free(&r);
}

/* Crashes a job after each of its logged stores, then runs it; returns
 * the reply of that last run (static buffer). */
static const char *crash_job(struct job *j)
{
    char what[128];
    long n;

    snprintf(what, sizeof(what), "%s %.*s", j->args[0], j->argc > 1 ? (int)j->lens[1] : 0,
             j->argc > 1 ? j->args[1] : "");
    if (fwd_pos)
        fwd_pos++;
    /* A command abandoned mid-way (the crash is a longjmp) keeps the heap
     * memory it held, which a real crash takes with the process: not a
     * leak.  (The ASan daemon's own tests check the commands for leaks.) */
    LSAN_DISABLE();
    n = crash_every_step(mutation, j, what);
    LSAN_ENABLE();
    W.arena = arena;
    total += n;
    if (fwd_pos)   /* the run that completed stored its ring position */
        assert_int_equal(arena->hdr->ring_applied[1], fwd_pos);
    return last_reply;
}

/* Crashes the command after each of its logged stores, then runs it. */
static void crash(const char *first, ...)
{
    struct job j;
    va_list ap;

    va_start(ap, first);
    job_va(&j, first, ap);
    va_end(ap);
    (void)crash_job(&j);
}

/* crash(), returning the reply of the run that completed. */
static const char *crashr(const char *first, ...)
{
    static struct job j;
    va_list ap;

    va_start(ap, first);
    job_va(&j, first, ap);
    va_end(ap);
    return crash_job(&j);
}

static char *filled(size_t n, char c)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

static int setup(void **state)
{
    (void)state;
    config_defaults();
    W.nworkers = 1;
    W.id = 0;
    W.active_expire = 1;
    opts = shmtest_opts(shmtest_newname());
    arena = shmtest_open(&opts);
    W.arena = arena;
    W.shared = NULL;
    total = 0;
    cur_db = 0;
    fwd_pos = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    shm_arena_close(&arena);
    shmtest_unlink(opts.region.name);
    return 0;
}

static void test_strings(void **state)
{
    char *b1 = filled(100000, 'A'), *b2 = filled(60000, 'B');

    (void)state;
    cmd("SET", "k", "abc", NULL);
    crash("APPEND", "k", "defgh", NULL);             /* into a new block */
    crash("APPEND", "k", "ij", NULL);                /* in place */
    assert_string_equal(cmd("GET", "k", NULL), "$10\r\nabcdefghij\r\n");
    cmd("SET", "t", "v", "PX", "100000000", NULL);
    crash("APPEND", "t", "0123456789012345678901234567890", NULL);
    crash("APPEND", "t", "x", NULL);
    crash("SETRANGE", "t", "3", "ZZZ", NULL);
    crash("SETRANGE", "t", "35", "Q", NULL);
    crash("SETRANGE", "t", "200", "END", NULL);
    crash("SETRANGE", "nk", "5", "hi", NULL);
    crash("INCR", "n", NULL);
    cmd("SET", "n", "9", NULL);
    crash("INCR", "n", NULL);
    crash("DECRBY", "n", "1000", NULL);
    crash("INCRBY", "n", "2", NULL);
    crash("DECR", "n", NULL);
    crash("DECR", "n", NULL);
    crash("INCRBYFLOAT", "n", "0.125", NULL);
    assert_string_equal(cmd("GET", "n", NULL), "$8\r\n-989.875\r\n");
    cmd("SET", "g", "val", "EX", "1000", NULL);
    crash("GETEX", "g", "PERSIST", NULL);
    crash("GETEX", "g", "EX", "500", NULL);
    crash("GETEX", "g", "PXAT", "1", NULL);          /* in the past: deleted */
    assert_string_equal(cmd("EXISTS", "g", NULL), ":0\r\n");
    cmd("SET", "g", "val", NULL);
    crash("GETSET", "g", "newval", NULL);
    crash("GETDEL", "g", NULL);
    crash("SETNX", "g", "x", NULL);
    crash("SETEX", "g", "100", "y", NULL);
    crash("PSETEX", "g", "100000", "z", NULL);
    crash("MSET", "a", "1", "b", "2", "k", "3", NULL);
    crash("MSETNX", "c", "1", "d", "2", NULL);
    crash("SET", "s", "val", "KEEPTTL", "GET", NULL);
    /* Big values: in-place appends whose undo logs overflow. */
    cmd("SET", "big", "x", NULL);
    crash("APPEND", "big", b1, NULL);
    crash("APPEND", "big", b2, NULL);
    crash("SETRANGE", "big", "10", b2, NULL);
    assert_string_equal(cmd("STRLEN", "big", NULL), ":160001\r\n");
    free(b1);
    free(b2);
    print_message("strings: %ld crash points rolled back and compared\n", total);
}

static void test_keys(void **state)
{
    (void)state;
    cmd("SET", "a", "1", NULL);
    cmd("SET", "b", "2", "EX", "100", NULL);
    crash("EXPIRE", "a", "100", NULL);
    crash("PEXPIRE", "a", "5000", "GT", NULL);
    crash("PERSIST", "a", NULL);
    crash("EXPIREAT", "b", "1", NULL);               /* in the past: deleted */
    crash("RENAME", "a", "c", NULL);
    crash("RENAMENX", "c", "d", NULL);
    crash("DEL", "d", "missing", NULL);
    cmd("SET", "x", "1", NULL);
    crash("UNLINK", "x", NULL);
    cmd("SET", "y", "1", NULL);
    crash("FLUSHDB", NULL);
    assert_string_equal(cmd("DBSIZE", NULL), ":0\r\n");
    print_message("keys: %ld crash points rolled back and compared\n", total);
}

/*
 * Hashes: every write path of every hash command, compact and full (the
 * compact limits are lowered so that conversions happen with few fields),
 * the last field leaving (key deleted) and the failures that change nothing.
 */
static void test_hashes(void **state)
{
    struct ks_limits saved = ks_limits;
    char *longv = filled(100, 'V');

    (void)state;
    ks_limits.hash_entries = 4;
    ks_limits.hash_value = 16;
    crash("HSET", "h", "f1", "v1", NULL);                        /* create */
    crash("HSET", "h", "f2", "v2", "f1", "w1", NULL);            /* add + overwrite */
    crash("HSETNX", "h", "f3", "v3", NULL);
    crash("HSETNX", "h", "f3", "other", NULL);                   /* exists: no change */
    crash("HMSET", "h", "f4", "v4", NULL);
    crash("HINCRBY", "h", "n", "5", NULL);                       /* past 4: full */
    assert_string_equal(cmd("HLEN", "h", NULL), ":5\r\n");
    crash("HINCRBY", "h", "n", "-7", NULL);
    crash("HINCRBYFLOAT", "h", "fl", "1.5", NULL);
    crash("HINCRBYFLOAT", "h", "fl", "1e3", NULL);
    crash("HINCRBY", "h", "f1", "1", NULL);                      /* not an integer */
    crash("HSET", "h", "f2", "new", "f9", "v9", NULL);           /* full: overwrite + add */
    crash("HDEL", "h", "f1", "f2", "nosuch", NULL);
    /* compact -> full by value length; compact counters */
    crash("HSET", "c", "a", "1", NULL);
    crash("HINCRBY", "c", "a", "41", NULL);
    crash("HINCRBYFLOAT", "c", "b", "-0.25", NULL);
    crash("HSET", "c", "long", longv, NULL);
    /* the last field: the key goes */
    cmd("HSET", "one", "f", "v", NULL);
    crash("HDEL", "one", "f", NULL);
    assert_string_equal(cmd("EXISTS", "one", NULL), ":0\r\n");
    cmd("HSET", "big", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", NULL);
    crash("HDEL", "big", "a", "b", "c", "d", "e", NULL);
    assert_string_equal(cmd("EXISTS", "big", NULL), ":0\r\n");
    /* on another type: WRONGTYPE, nothing changes */
    cmd("SET", "str", "x", NULL);
    crash("HSET", "str", "f", "v", NULL);
    crash("DEL", "h", "c", NULL);
    ks_limits = saved;
    free(longv);
    print_message("hashes: %ld crash points rolled back and compared\n", total);
}

/*
 * Sets: intset, listpack and hashtable, every conversion on the way up,
 * the pops and moves, and the algebra's stores (W.nworkers is 1: every key
 * is this shard's).
 */
static void test_sets(void **state)
{
    struct ks_limits saved = ks_limits;
    char *longm = filled(100, 'M');

    (void)state;
    ks_limits.set_int_entries = 4;
    ks_limits.set_entries = 6;
    ks_limits.set_value = 16;
    crash("SADD", "i", "1", "2", "3", NULL);                     /* intset */
    crash("SADD", "i", "4", "-5", NULL);                         /* compact up to 6 */
    crash("SADD", "i", "a", NULL);                               /* a string */
    crash("SADD", "i", "x", "y", "z", NULL);                     /* past 6: hashtable */
    assert_string_equal(cmd("SCARD", "i", NULL), ":9\r\n");
    crash("SADD", "i", "x", "new", NULL);
    crash("SREM", "i", "1", "x", "nosuch", NULL);
    crash("SADD", "s", "a", "b", NULL);                          /* listpack */
    crash("SREM", "s", "a", NULL);
    crash("SADD", "s", longm, NULL);                             /* long: hashtable */
    cmd("SADD", "n", "7", "8", NULL);
    crash("SADD", "n", "9", "notint", NULL);                     /* intset -> listpack */
    crash("SREM", "n", "7", "8", "9", "notint", NULL);           /* last: key gone */
    assert_string_equal(cmd("EXISTS", "n", NULL), ":0\r\n");
    /* SPOP: one, a few, all of it (key deleted), in each encoding */
    cmd("SADD", "p1", "1", "2", "3", NULL);
    crash("SPOP", "p1", NULL);
    crash("SPOP", "p1", "1", NULL);
    crash("SPOP", "p1", "5", NULL);
    cmd("SADD", "p2", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", NULL);
    crash("SPOP", "p2", "2", NULL);
    crash("SPOP", "p2", "7", NULL);                              /* most: kept ones copied */
    crash("SPOP", "p2", "0", NULL);
    crash("SPOP", "p2", "100", NULL);
    assert_string_equal(cmd("EXISTS", "p2", NULL), ":0\r\n");
    /* SMOVE: to a new set, to an existing one, the last member, WRONGTYPE */
    cmd("SADD", "m1", "a", "b", NULL);
    crash("SMOVE", "m1", "m2", "a", NULL);
    crash("SMOVE", "m1", "m2", "nosuch", NULL);
    crash("SMOVE", "m1", "m2", "b", NULL);
    assert_string_equal(cmd("EXISTS", "m1", NULL), ":0\r\n");
    cmd("SET", "str", "x", NULL);
    crash("SMOVE", "m2", "str", "a", NULL);
    /* the algebra's stores: new, overwriting, empty result (deleted) */
    cmd("SADD", "A", "1", "2", "3", "a", NULL);
    cmd("SADD", "B", "2", "3", "4", "b", NULL);
    crash("SINTERSTORE", "D", "A", "B", NULL);
    crash("SUNIONSTORE", "D", "A", "B", "i", NULL);
    crash("SDIFFSTORE", "D", "A", "B", NULL);
    crash("SINTERSTORE", "D", "A", "nosuch", NULL);
    assert_string_equal(cmd("EXISTS", "D", NULL), ":0\r\n");
    crash("SUNIONSTORE", "A", "A", "str", NULL);                 /* WRONGTYPE */
    ks_limits = saved;
    free(longm);
    print_message("sets: %ld crash points rolled back and compared\n", total);
}

/*
 * Sorted sets: every write path of every zset command, in both encodings
 * (the compact limit is lowered to 8 members so that conversions both ways
 * happen with few arguments), including the local stores of the algebra
 * (W.nworkers is 1: every key is this shard's) and @zstore's two modes.
 */
static void test_zsets(void **state)
{
    static const char pay1[] = "\x02\0\0\0\0\0\0\0"                      /* 2 members */
                               "\0\0\0\0\0\0\xf0\x3f" "\x01\0\0\0" "a"   /* 1 a */
                               "\0\0\0\0\0\0\0\x40" "\x01\0\0\0" "b";    /* 2 b */
    struct ks_limits saved = ks_limits;
    char *longm = filled(100, 'L');
    struct resp_arg av[4];
    struct rbuf out;
    struct cmd_ctx x;

    (void)state;
    ks_limits.zset_entries = 8;
    /* ZADD: create, add, update, the options, INCR, conversion to full. */
    crash("ZADD", "z", "1", "a", NULL);
    crash("ZADD", "z", "2", "b", "3", "c", "-0", "d", NULL);
    crash("ZADD", "z", "CH", "5", "a", "4", "e", NULL);          /* update + add, compact */
    crash("ZADD", "z", "NX", "9", "a", "6", "f", NULL);
    crash("ZADD", "z", "XX", "GT", "CH", "7", "b", "0", "c", NULL);
    crash("ZADD", "z", "LT", "-1", "c", NULL);
    crash("ZADD", "z", "INCR", "2.5", "f", NULL);
    crash("ZINCRBY", "z", "1", "new", NULL);
    crash("ZADD", "z", "10", "g", "11", "h", "12", "i", NULL);   /* past 8: full */
    assert_string_equal(cmd("ZCARD", "z", NULL), ":10\r\n");
    crash("ZADD", "z", "13", "j", "0.5", "a", NULL);             /* add and move, full */
    crash("ZINCRBY", "z", "-100", "j", NULL);
    crash("ZADD", "z", "XX", "INCR", "1", "j", NULL);
    cmd("ZADD", "inf", "inf", "m", NULL);
    crash("ZINCRBY", "inf", "-inf", "m", NULL);                  /* NaN: nothing changes */
    crash("ZADD", "lz", "1", longm, NULL);                       /* a long member: full */
    /* ZREM: compact, full, shrinking back to compact, the last member. */
    crash("ZREM", "z", "a", "nosuch", NULL);
    crash("ZREM", "z", "b", "c", "d", "e", "f", NULL);           /* down to half: compact */
    crash("ZREM", "lz", longm, NULL);                            /* last member: key gone */
    assert_string_equal(cmd("EXISTS", "lz", NULL), ":0\r\n");
    /* Range deletes and pops in both encodings. */
    cmd("ZADD", "r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f", NULL);
    crash("ZREMRANGEBYRANK", "r", "0", "1", NULL);
    crash("ZREMRANGEBYSCORE", "r", "(3", "4", NULL);
    crash("ZPOPMIN", "r", NULL);
    crash("ZPOPMAX", "r", "5", NULL);                            /* all: key gone */
    cmd("ZADD", "r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f", "7", "g",
        "8", "h", "9", "i", "10", "j", NULL);
    crash("ZREMRANGEBYRANK", "r", "-2", "-1", NULL);
    crash("ZPOPMIN", "r", "2", NULL);
    crash("BZPOPMAX", "r", "0", NULL);                           /* has data: no blocking */
    crash("ZREMRANGEBYSCORE", "r", "-inf", "+inf", NULL);
    cmd("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "g",
        "0", "h", "0", "i", NULL);
    crash("ZREMRANGEBYLEX", "lex", "[b", "(d", NULL);
    crash("ZREMRANGEBYLEX", "lex", "-", "[e", NULL);
    crash("ZMPOP", "2", "nosuch", "lex", "MAX", "COUNT", "2", NULL);
    crash("BZPOPMIN", "nosuch", "lex", "0", NULL);               /* has data: no blocking */
    crash("BZMPOP", "0", "1", "lex", "MIN", "COUNT", "10", NULL);
    /* Stores: replace, into the source, empty results delete dst. */
    cmd("ZADD", "s1", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", NULL);
    cmd("ZADD", "s2", "10", "c", "20", "d", "30", "x", "40", "y", NULL);
    cmd("SADD", "set", "a", "x", "q", NULL);
    cmd("SET", "str", "v", NULL);
    crash("ZUNIONSTORE", "u", "3", "s1", "s2", "set", "WEIGHTS", "1", "2", "-0", NULL);
    crash("ZUNIONSTORE", "str", "2", "s1", "s2", "AGGREGATE", "MAX", NULL); /* overwrites */
    crash("ZINTERSTORE", "s1", "2", "s1", "s2", NULL);                      /* dst = src */
    crash("ZDIFFSTORE", "d", "2", "u", "s2", NULL);
    crash("ZINTERSTORE", "d", "2", "u", "nosuch", NULL);                    /* deletes d */
    assert_string_equal(cmd("EXISTS", "d", NULL), ":0\r\n");
    crash("ZRANGESTORE", "rs", "u", "0", "-1", NULL);                       /* full */
    crash("ZRANGESTORE", "rs", "rs", "1", "2", NULL);                       /* dst = src */
    crash("ZRANGESTORE", "rs2", "u", "(1", "+inf", "BYSCORE", "LIMIT", "1", "3", NULL);
    crash("ZRANGESTORE", "rs2", "nosuch", "0", "-1", NULL);                 /* deletes */
    assert_string_equal(cmd("ZRANGE", "rs", "0", "-1", "WITHSCORES", NULL),
                        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    /* @zstore, as the last phase of a store across shards sends it. */
    av[0].ptr = "@zstore";
    av[1].ptr = "zs";
    av[2].ptr = pay1;
    av[2].len = sizeof(pay1) - 1;
    av[3].ptr = "SEQ";
    av[0].len = 7;
    av[1].len = 2;
    av[3].len = 3;
    memset(&x, 0, sizeof(x));
    rbuf_init(&out);
    x.cmd = cmd_lookup("@zstore", 7);
    x.argc = 4;
    x.argv = av;
    x.out.b = &out;
    x.out.proto = 2;
    x.ring_peer = -1;
    cmd_run(&x);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, ":2\r\n", 4);
    rbuf_free(&out);
    assert_string_equal(cmd("ZSCORE", "zs", "b", NULL), "$1\r\n2\r\n");
    ks_limits = saved;
    free(longm);
    print_message("zsets: %ld crash points rolled back and compared\n", total);
}

/*
 * Lists: every write path of every list command (t_list.c), compact and
 * full, with nodes of four elements and with big nodes some of which are
 * compressed; creation, conversion both ways, deletion of the last element
 * and of a big list (lazily freed), an expired key replaced, LMOVE on one
 * list keeping its expiry, and @lpopif, the last phase of a move across
 * shards.  Blocking commands run on lists that hold data, so they pop at
 * once (a waiter needs the event loop).  Expected contents come from
 * redis-server 7.0.15 fed the same commands.
 */
static const char *zval(int i)
{
    static char v[16][210];
    static int n;
    char *p = v[n++ % 16];

    memset(p, 'x', 200);
    snprintf(p + 200, 10, "%03d", i);
    return p;
}

static void test_lists(void **state)
{
    struct ks_limits saved = ks_limits;
    char buf[64];
    int i;

    (void)state;
    /* Compact, down to deleting the key. */
    crash("LPUSH", "l", "a", "b", "c", NULL);                  /* creates */
    crash("RPUSH", "l", "1", "2", "hello", NULL);
    crash("LPUSHX", "l", "x", NULL);
    crash("RPUSHX", "l", "y", NULL);
    crash("LPUSHX", "nol", "x", NULL);                          /* nothing */
    assert_string_equal(cmd("LRANGE", "l", "0", "-1", NULL),
                        "*8\r\n$1\r\nx\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\n2\r\n"
                        "$5\r\nhello\r\n$1\r\ny\r\n");
    crash("LSET", "l", "0", "X", NULL);
    crash("LSET", "l", "-1", "a-longer-value", NULL);
    crash("LINSERT", "l", "BEFORE", "c", "ins", NULL);
    crash("LINSERT", "l", "AFTER", "1", "ins2", NULL);
    crash("LREM", "l", "1", "ins", NULL);
    crash("LREM", "l", "-1", "ins2", NULL);
    crash("LPOP", "l", NULL);
    crash("RPOP", "l", "2", NULL);
    crash("LTRIM", "l", "1", "-2", NULL);
    assert_string_equal(cmd("LRANGE", "l", "0", "-1", NULL),
                        "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\n1\r\n");
    crash("LMOVE", "l", "l", "LEFT", "RIGHT", NULL);           /* rotates */
    crash("LMOVE", "l", "l", "LEFT", "LEFT", NULL);            /* unchanged */
    crash("LMOVE", "l", "m", "RIGHT", "LEFT", NULL);           /* creates m */
    crash("RPOPLPUSH", "l", "m", NULL);
    assert_string_equal(cmd("LRANGE", "l", "0", "-1", NULL), "*1\r\n$1\r\na\r\n");
    assert_string_equal(cmd("LRANGE", "m", "0", "-1", NULL), "*2\r\n$1\r\n1\r\n$1\r\nb\r\n");
    crash("BLPOP", "nokey", "l", "0", NULL);                    /* deletes l */
    crash("BRPOP", "m", "0", NULL);
    crash("BLMOVE", "m", "l", "LEFT", "RIGHT", "0", NULL);      /* m -> l, m deleted */
    crash("BRPOPLPUSH", "l", "m", "0", NULL);
    crash("LMPOP", "2", "nokey", "l", "LEFT", "COUNT", "2", NULL);   /* nothing in l */
    crash("BLMPOP", "0", "1", "m", "RIGHT", NULL);              /* deletes m */
    assert_string_equal(cmd("EXISTS", "l", "m", NULL), ":0\r\n");

    /* Full lists of four-element nodes: node splits, merges, conversions. */
    ks_limits.list_size = 4;
    for (i = 0; i < 20; i += 4) {
        char e[4][8];
        int j;
        for (j = 0; j < 4; j++)
            snprintf(e[j], sizeof(e[j]), "e%d", i + j);
        cmd("RPUSH", "f", e[0], e[1], e[2], e[3], NULL);
    }
    crash("LPUSH", "f", "h1", "h2", NULL);                      /* a new head node */
    crash("RPUSH", "f", "t1", NULL);
    crash("LSET", "f", "7", "set7", NULL);
    crash("LSET", "f", "8", "s", NULL);
    crash("LINSERT", "f", "AFTER", "e10", "ins", NULL);          /* splits a node */
    crash("LINSERT", "f", "BEFORE", "e0", "ins0", NULL);
    crash("LREM", "f", "0", "e3", NULL);
    crash("LREM", "f", "-2", "e1", NULL);
    crash("LPOP", "f", "3", NULL);
    crash("RPOP", "f", NULL);
    crash("RPOP", "f", "5", NULL);
    crash("LTRIM", "f", "1", "-2", NULL);
    crash("LMOVE", "f", "g", "LEFT", "RIGHT", NULL);
    crash("LMOVE", "f", "f", "RIGHT", "LEFT", NULL);
    crash("LMOVE", "f", "g", "RIGHT", "RIGHT", NULL);
    crash("LMPOP", "1", "f", "RIGHT", "COUNT", "2", NULL);
    assert_string_equal(cmd("LRANGE", "f", "0", "-1", NULL),
                        "*8\r\n$3\r\ne13\r\n$2\r\ne4\r\n$4\r\nset7\r\n$1\r\ns\r\n$2\r\ne7\r\n"
                        "$2\r\ne8\r\n$2\r\ne9\r\n$3\r\ne10\r\n");
    assert_string_equal(cmd("LRANGE", "g", "0", "-1", NULL), "*2\r\n$2\r\ne2\r\n$3\r\ne12\r\n");
    crash("LPOP", "f", "5", NULL);                              /* back to compact */
    assert_string_equal(cmd("LRANGE", "f", "0", "-1", NULL),
                        "*3\r\n$2\r\ne8\r\n$2\r\ne9\r\n$3\r\ne10\r\n");
    crash("RPUSH", "g", "x", "y", "z", "w", "v", NULL);         /* compact -> full */
    crash("LTRIM", "g", "100", "200", NULL);                    /* deletes */
    assert_string_equal(cmd("EXISTS", "g", NULL), ":0\r\n");

    /* Big nodes (4 KiB) of compressible elements: inner nodes compressed;
     * pops of more than 64 elements go through the iterator and a trim. */
    ks_limits.list_size = -1;
    for (i = 0; i < 200; i += 10)
        cmd("RPUSH", "z", zval(i), zval(i + 1), zval(i + 2), zval(i + 3), zval(i + 4),
            zval(i + 5), zval(i + 6), zval(i + 7), zval(i + 8), zval(i + 9), NULL);
    crash("LPOP", "z", "100", NULL);
    crash("RPOP", "z", "30", NULL);
    crash("LSET", "z", "20", "short", NULL);
    crash("LINSERT", "z", "AFTER", zval(140), "ins", NULL);
    crash("LREM", "z", "0", zval(150), NULL);
    crash("LTRIM", "z", "2", "-3", NULL);
    crash("LMOVE", "z", "z", "LEFT", "RIGHT", NULL);
    assert_string_equal(cmd("LLEN", "z", NULL), ":66\r\n");
    snprintf(buf, sizeof(buf), "$203\r\n%.10s", zval(103));
    assert_memory_equal(cmd("LINDEX", "z", "0", NULL), buf, strlen(buf));
    assert_string_equal(cmd("LINDEX", "z", "17", NULL), "$5\r\nshort\r\n");
    assert_string_equal(cmd("LINDEX", "z", "38", NULL), "$3\r\nins\r\n");
    assert_memory_equal(cmd("LINDEX", "z", "-1", NULL) + 206, "102\r\n", 5);
    crash("LMPOP", "1", "z", "LEFT", "COUNT", "1000", NULL);   /* deletes, lazily */
    assert_string_equal(cmd("EXISTS", "z", NULL), ":0\r\n");
    ks_limits = saved;

    /* An expired list is replaced; LMOVE on one list keeps its expiry. */
    cmd("RPUSH", "e", "1", "2", NULL);
    cmd("PEXPIRE", "e", "1", NULL);
    usleep(5000);
    crash("LPUSH", "e", "new", NULL);
    assert_string_equal(cmd("LRANGE", "e", "0", "-1", NULL), "*1\r\n$3\r\nnew\r\n");
    assert_string_equal(cmd("TTL", "e", NULL), ":-1\r\n");
    cmd("RPUSH", "t", "a", "b", "c", NULL);
    cmd("EXPIRE", "t", "1000", NULL);
    crash("LMOVE", "t", "t", "LEFT", "RIGHT", NULL);
    assert_string_equal(cmd("TTL", "t", NULL), ":1000\r\n");
    assert_string_equal(cmd("LRANGE", "t", "0", "-1", NULL),
                        "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n");
    crash("RPOPLPUSH", "t", "t2", NULL);
    assert_string_equal(cmd("LRANGE", "t2", "0", "-1", NULL), "*1\r\n$1\r\na\r\n");

    /* @lpopif: pops only the element the move pushed elsewhere. */
    cmd("RPUSH", "p", "a", "b", "c", NULL);
    crash("@lpopif", "p", "LEFT", "a", NULL);
    crash("@lpopif", "p", "RIGHT", "b", NULL);                  /* tail is c: nothing */
    crash("@lpopif", "p", "RIGHT", "c", "12345", NULL);         /* with a token */
    assert_string_equal(cmd("LRANGE", "p", "0", "-1", NULL), "*1\r\n$1\r\nb\r\n");
    crash("@lpopif", "p", "LEFT", "b", NULL);                   /* deletes */
    assert_string_equal(cmd("EXISTS", "p", NULL), ":0\r\n");
    print_message("lists: %ld crash points rolled back and compared\n", total);
}

/* ---- helpers for the tests below ---------------------------------------------------- */

/* The reply of OBJECT ENCODING for enc (static buffer). */
static const char *enc_reply(const char *enc)
{
    static char want[64];

    snprintf(want, sizeof(want), "$%zu\r\n%s\r\n", strlen(enc), enc);
    return want;
}

/* OBJECT ENCODING key is enc (a macro: failures name the caller's line). */
#define assert_enc(key, enc) \
    assert_string_equal(cmd("OBJECT", "ENCODING", (key), NULL), enc_reply(enc))

/*
 * Adds n elements, from..from+n-1, to key, one command each: 'l' a list
 * (RPUSH e<i>), 'h' a hash (HSET f<i> <i>), 's' a set (SADD m<i>), 'i' a
 * set of integers (SADD <i>), 'z' a sorted set (ZADD <i> m<i>).
 */
static void fill(int kind, const char *key, int from, int n)
{
    char m[32], v[32];
    int i;

    for (i = from; i < from + n; i++) {
        snprintf(v, sizeof(v), "%d", i);
        switch (kind) {
        case 'l':
            snprintf(m, sizeof(m), "e%d", i);
            cmd("RPUSH", key, m, NULL);
            break;
        case 'h':
            snprintf(m, sizeof(m), "f%d", i);
            cmd("HSET", key, m, v, NULL);
            break;
        case 's':
            snprintf(m, sizeof(m), "m%d", i);
            cmd("SADD", key, m, NULL);
            break;
        case 'i':
            cmd("SADD", key, v, NULL);
            break;
        default:
            snprintf(m, sizeof(m), "m%d", i);
            cmd("ZADD", key, v, m, NULL);
            break;
        }
    }
}

/* Lowers the compact limits so that a few elements convert, and a big
 * collection (more than KS_LAZYFREE_MIN elements) is a full one. */
static void small_limits(void)
{
    ks_limits.hash_entries = 8;
    ks_limits.hash_value = 16;
    ks_limits.set_int_entries = 12;   /* above set_entries, as by default */
    ks_limits.set_entries = 8;
    ks_limits.set_value = 16;
    ks_limits.zset_entries = 8;
    ks_limits.zset_value = 16;
    ks_limits.list_size = 4;
}

static void gc_mut(struct shm_arena *a, void *arg)
{
    W.arena = a;
    (void)ks_gc_step(a, *(const uint64_t *)arg);
}

/* Crashes up to `steps` garbage steps (each its own mutation, as the
 * worker runs them between commands) at every logged store; 0: until no
 * garbage is left.  Returns the steps run. */
static int gc_crash(uint64_t budget, int steps)
{
    int n = 0;

    while (ks_gc_pending(arena) && (steps == 0 || n < steps)) {
        LSAN_DISABLE();
        total += crash_every_step(gc_mut, &budget, "gc step");
        LSAN_ENABLE();
        W.arena = arena;
        n++;
    }
    return n;
}

/*
 * The key commands on lists, hashes, sets and sorted sets, compact and
 * full (big ones, of more than 64 elements, are freed lazily): EXPIRE and
 * PERSIST (the entry joins or leaves the expires table), RENAME and
 * RENAMENX (a full value's structure changes hands, expiry kept), a
 * RENAME over a big collection, deletions by EXPIREAT in the past, DEL,
 * UNLINK and a write finding a big collection expired; then every garbage
 * step.
 */
static void test_collection_keys(void **state)
{
    static const char *const keys[] = { "lc", "lf", "hc", "hf", "si", "sc", "sf", "zc", "zf" };
    struct ks_limits saved = ks_limits;
    char name[16];
    size_t i;
    int steps;

    (void)state;
    small_limits();
    fill('l', "lc", 0, 3);
    fill('l', "lf", 0, 70);
    fill('h', "hc", 0, 3);
    fill('h', "hf", 0, 70);
    fill('i', "si", 0, 5);
    fill('s', "sc", 0, 3);
    fill('s', "sf", 0, 70);
    fill('z', "zc", 0, 3);
    fill('z', "zf", 0, 70);
    assert_enc("lc", "listpack");
    assert_enc("lf", "quicklist");
    assert_enc("hc", "listpack");
    assert_enc("hf", "hashtable");
    assert_enc("si", "intset");
    assert_enc("sc", "listpack");
    assert_enc("sf", "hashtable");
    assert_enc("zc", "listpack");
    assert_enc("zf", "skiplist");
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        crash("EXPIRE", keys[i], "1000", NULL);
        crash("PEXPIRE", keys[i], "2000000", "LT", NULL);   /* not lower: nothing */
        crash("PERSIST", keys[i], NULL);
        crash("PERSIST", keys[i], NULL);                    /* none: nothing */
        crash("PEXPIREAT", keys[i], "9999999999999", NULL);
        crash("EXPIRE", keys[i], "5000", "GT", NULL);       /* not greater: nothing */
        assert_string_equal(cmd("PEXPIRETIME", keys[i], NULL), ":9999999999999\r\n");
    }
    /* RENAME keeps the value, its encoding and its expiry. */
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(name, sizeof(name), "%s2", keys[i]);
        crash("RENAME", keys[i], name, NULL);
        assert_string_equal(cmd("EXISTS", keys[i], NULL), ":0\r\n");
        assert_string_equal(cmd("PEXPIRETIME", name, NULL), ":9999999999999\r\n");
    }
    assert_string_equal(cmd("LLEN", "lf2", NULL), ":70\r\n");
    assert_string_equal(cmd("HGET", "hf2", "f69", NULL), "$2\r\n69\r\n");
    assert_string_equal(cmd("ZSCORE", "zf2", "m42", NULL), "$2\r\n42\r\n");
    assert_enc("sf2", "hashtable");
    assert_enc("si2", "intset");
    /* Over a big collection of another type, which is freed lazily. */
    assert_false(ks_gc_pending(arena));
    crash("RENAME", "hc2", "zf2", NULL);
    assert_true(ks_gc_pending(arena));
    assert_string_equal(cmd("TYPE", "zf2", NULL), "+hash\r\n");
    crash("RENAME", "zc2", "sf2", NULL);
    crash("RENAMENX", "lf2", "hf2", NULL);                  /* dst exists: nothing */
    crash("RENAMENX", "lf2", "lf3", NULL);
    crash("RENAME", "lf3", "lf3", NULL);                    /* itself: nothing */
    assert_string_equal(cmd("LINDEX", "lf3", "69", NULL), "$3\r\ne69\r\n");
    /* An expiry in the past deletes, a big collection lazily. */
    crash("EXPIREAT", "lf3", "1", NULL);
    crash("PEXPIRE", "si2", "-1", NULL);
    crash("EXPIRE", "hf2", "0", NULL);
    assert_string_equal(cmd("EXISTS", "lf3", "si2", "hf2", NULL), ":0\r\n");
    /* DEL and UNLINK, big and compact, of every type. */
    fill('l', "L", 0, 66);
    fill('h', "H", 0, 66);
    fill('s', "S", 0, 66);
    fill('z', "Z", 0, 66);
    cmd("EXPIRE", "Z", "100", NULL);
    crash("DEL", "L", "lc2", "nosuch", NULL);
    crash("UNLINK", "H", "zf2", NULL);
    crash("DEL", "S", NULL);
    crash("UNLINK", "Z", "sc2", "sf2", NULL);
    assert_string_equal(cmd("DBSIZE", NULL), ":0\r\n");
    /* A write that finds a big collection expired replaces it. */
    fill('z', "ze", 0, 66);
    fill('s', "se", 0, 66);
    cmd("PEXPIRE", "ze", "1", NULL);
    cmd("PEXPIRE", "se", "1", NULL);
    usleep(5000);
    crash("ZADD", "ze", "1", "new", NULL);
    crash("SMOVE", "se", "sd", "m1", NULL);                 /* src gone: nothing moves */
    assert_string_equal(cmd("ZCARD", "ze", NULL), ":1\r\n");
    assert_string_equal(cmd("EXISTS", "se", "sd", NULL), ":0\r\n");
    steps = gc_crash(50, 0);
    assert_int_equal(arena->hdr->garbage, 0);
    shmtest_check(arena);
    ks_limits = saved;
    print_message("collection keys: %ld crash points rolled back and compared (%d garbage "
                  "steps)\n", total, steps);
}

/* Collections of a database, big and compact, with and without an expiry,
 * and strings: all types big (more than 64 elements), or only a hash. */
static void populate(unsigned db, int all)
{
    unsigned saved = cur_db;

    cur_db = db;
    fill('h', "H", 0, 66);
    if (all) {
        fill('l', "L", 0, 66);
        fill('s', "S", 0, 66);
        fill('i', "I", 0, 66);
        fill('z', "Z", 0, 66);
        cmd("EXPIRE", "Z", "1000", NULL);
    }
    fill('l', "l", 0, 3);
    fill('h', "h", 0, 3);
    fill('s', "s", 0, 3);
    fill('z', "z", 0, 3);
    cmd("EXPIRE", "h", "1000", NULL);
    cmd("SET", "str", "v", NULL);
    cmd("SET", "tmp", "v", "EX", "1000", NULL);
    assert_string_equal(cmd("DBSIZE", NULL), all ? ":11\r\n" : ":7\r\n");
    cur_db = saved;
}

/*
 * FLUSHDB and FLUSHALL of databases holding big collections, each crashed
 * at every step, then the garbage steps that free them, each crashed at
 * every step too: the flushed database's node goes on the garbage list
 * above big values already there (a DEL), its drain pushes the big values
 * it finds ahead of itself (the leak fixed in 11ffffa), and further
 * flushes push nodes while a drain is half done.  At the end nothing is
 * left: no garbage, and the arena uses exactly what it did empty.
 */
static void test_flush_big_collections(void **state)
{
    struct ks_limits saved = ks_limits;
    uint64_t used0 = arena->hdr->used_bytes;
    unsigned db;
    int steps = 0;

    (void)state;
    small_limits();
    populate(0, 1);
    populate(1, 0);
    populate(2, 1);
    crash("DEL", "H", NULL);                               /* a value node first */
    assert_true(ks_gc_pending(arena));
    crash("FLUSHDB", NULL);
    assert_string_equal(cmd("DBSIZE", NULL), ":0\r\n");
    steps += gc_crash(50, 3);                              /* db 0 half drained */
    assert_true(ks_gc_pending(arena));
    cur_db = 1;
    crash("FLUSHDB", "ASYNC", NULL);
    /* What a FLUSHDB sent by another worker runs here. */
    populate(3, 0);
    cur_db = 3;
    fwd_pos = 1000;
    crash("@flushdb", NULL);
    fwd_pos = 0;
    populate(0, 0);
    steps += gc_crash(50, 2);
    cur_db = 0;
    crash("FLUSHALL", "SYNC", NULL);                       /* dbs 0 and 2 */
    for (db = 0; db < 4; db++) {
        cur_db = db;
        assert_string_equal(cmd("DBSIZE", NULL), ":0\r\n");
    }
    populate(5, 0);
    populate(15, 0);
    fwd_pos = 2000;
    crash("@flushdb", "ALL", NULL);
    fwd_pos = 0;
    cur_db = 15;
    assert_string_equal(cmd("DBSIZE", NULL), ":0\r\n");
    cur_db = 0;
    crash("FLUSHALL", NULL);                               /* nothing left: no change */
    steps += gc_crash(4096, 0);                            /* the worker's GC_BUDGET */
    assert_int_equal(arena->hdr->garbage, 0);
    for (db = 0; db < 16; db++)
        assert_int_equal(ks_count(arena, db), 0);
    shmtest_check(arena);
    assert_int_equal(arena->hdr->used_bytes, used0);
    ks_limits = saved;
    print_message("flush of big collections: %ld crash points rolled back and compared "
                  "(%d garbage steps)\n", total, steps);
}

/*
 * Conversions between the compact and the full encodings that the tests
 * above do not reach, command by command: lists (nodes of four elements,
 * a full list going compact again at one node of two elements or fewer),
 * hashes, sets and sorted sets (limits of small_limits()); LMOVE, SMOVE
 * and the stores with their source and destination each converting; the
 * stores replacing a big destination (freed lazily) or one with an
 * expiry.
 */
static void test_conversions(void **state)
{
    struct ks_limits saved = ks_limits;
    char *longv = filled(100, 'W'), *bigv = filled(5000, 'B');

    (void)state;
    small_limits();
    /* Lists. */
    crash("RPUSH", "a", "1", "2", "3", "4", "5", "6", NULL);   /* created full */
    assert_enc("a", "quicklist");
    crash("LPUSH", "b", "1", "2", "3", "4", NULL);
    assert_enc("b", "listpack");
    crash("LINSERT", "b", "BEFORE", "2", "x", NULL);           /* compact -> full */
    assert_enc("b", "quicklist");
    crash("LREM", "b", "0", "x", NULL);
    crash("LTRIM", "b", "1", "2", NULL);                       /* full -> compact */
    assert_enc("b", "listpack");
    crash("RPOPLPUSH", "a", "b", NULL);
    crash("LMOVE", "a", "b", "LEFT", "LEFT", NULL);
    assert_enc("b", "listpack");
    crash("LMOVE", "a", "b", "LEFT", "LEFT", NULL);            /* dst -> full */
    assert_enc("b", "quicklist");
    assert_enc("a", "quicklist");
    crash("LMOVE", "a", "a", "RIGHT", "LEFT", NULL);           /* full: rotates */
    crash("LMOVE", "a", "b", "RIGHT", "RIGHT", NULL);          /* src -> compact */
    assert_enc("a", "listpack");
    assert_string_equal(cmd("LRANGE", "a", "0", "-1", NULL), "*2\r\n$1\r\n5\r\n$1\r\n3\r\n");
    cmd("RPUSH", "a2", "x", "1", "x", "2", "x", "x", NULL);
    assert_enc("a2", "quicklist");
    crash("LREM", "a2", "0", "x", NULL);                       /* full -> compact */
    assert_enc("a2", "listpack");
    assert_string_equal(cmd("LRANGE", "a2", "0", "-1", NULL), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    cmd("DEL", "b", NULL);
    cmd("RPUSH", "b", "1", "2", "3", "4", "5", NULL);
    cmd("RPUSH", "c", "x", NULL);
    crash("LMOVE", "b", "c", "RIGHT", "RIGHT", NULL);
    crash("LMOVE", "b", "c", "RIGHT", "RIGHT", NULL);
    crash("LMOVE", "b", "c", "LEFT", "RIGHT", NULL);           /* src -> compact */
    assert_enc("b", "listpack");
    crash("LMOVE", "b", "c", "LEFT", "LEFT", NULL);            /* dst -> full */
    assert_enc("c", "quicklist");
    assert_string_equal(cmd("LRANGE", "c", "0", "-1", NULL),
                        "*5\r\n$1\r\n2\r\n$1\r\nx\r\n$1\r\n5\r\n$1\r\n4\r\n$1\r\n1\r\n");
    crash("LMPOP", "2", "b", "c", "RIGHT", "COUNT", "9", NULL);   /* b: last element */
    assert_string_equal(cmd("EXISTS", "b", NULL), ":0\r\n");
    crash("RPOP", "c", "3", NULL);                             /* full -> compact */
    assert_enc("c", "listpack");
    ks_limits.list_size = -1;                                  /* nodes of 4 KiB */
    cmd("RPUSH", "s", "a", "b", NULL);
    crash("LSET", "s", "0", bigv, NULL);                       /* compact -> full */
    assert_enc("s", "quicklist");
    crash("LSET", "s", "0", "a", NULL);
    crash("LINSERT", "s", "AFTER", "b", bigv, NULL);
    crash("LREM", "s", "1", bigv, NULL);                       /* full -> compact */
    assert_enc("s", "listpack");
    crash("RPUSHX", "s", bigv, NULL);
    crash("LPUSHX", "s", "z", NULL);
    crash("LPOP", "s", NULL);
    crash("LPOP", "s", "3", NULL);                             /* deletes */
    assert_string_equal(cmd("EXISTS", "s", NULL), ":0\r\n");
    small_limits();

    /* Hashes. */
    cmd("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7",
        "h", "8", NULL);
    assert_enc("h", "listpack");
    crash("HSETNX", "h", "i", "9", NULL);                      /* past 8 */
    assert_enc("h", "hashtable");
    crash("HSETNX", "h", "i", "other", NULL);
    cmd("HSET", "h2", "a", "1", NULL);
    crash("HSETNX", "h2", "b", longv, NULL);                   /* a long value */
    assert_enc("h2", "hashtable");
    crash("HINCRBY", "nh", "x", "1", NULL);                    /* creates */
    crash("HINCRBYFLOAT", "nh2", "x", "1.5", NULL);
    crash("HINCRBYFLOAT", "nh", "x", "1234567890.123456", NULL);   /* 17 bytes */
    assert_enc("nh", "hashtable");
    cmd("HSET", "n", "a", "1", NULL);
    crash("HINCRBY", "n", "a", "9223372036854775806", NULL);   /* 19 bytes */
    assert_enc("n", "hashtable");
    crash("HINCRBY", "n", "a", "1", NULL);                     /* overflow: nothing */
    assert_string_equal(cmd("HGET", "n", "a", NULL), "$19\r\n9223372036854775807\r\n");
    crash("HINCRBYFLOAT", "n", "a", "1e400", NULL);            /* not a number */
    crash("HDEL", "h", "a", "b", "c", "d", NULL);              /* 5 left */
    assert_enc("h", "hashtable");
    crash("HDEL", "h", "e", "nosuch", NULL);                   /* half: compact */
    assert_enc("h", "listpack");
    fill('h', "hb", 0, 70);
    crash("HSET", "hb", "f1", "new", "new", "v", NULL);
    crash("HINCRBY", "hb", "f5", "10", NULL);
    crash("HINCRBYFLOAT", "hb", "f6", "0.5", NULL);
    crash("HDEL", "hb", "f1", "f2", "f3", NULL);
    assert_string_equal(cmd("HLEN", "hb", NULL), ":68\r\n");

    /* Sets: integers stay compact up to 12 (set_int_entries), others 8. */
    cmd("SADD", "i", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", NULL);
    assert_enc("i", "intset");
    crash("SADD", "i", "x", NULL);                             /* intset -> hashtable */
    assert_enc("i", "hashtable");
    crash("SREM", "i", "1", "2", "3", "4", "5", "6", "7", NULL);   /* half: compact */
    assert_enc("i", "listpack");
    crash("SREM", "i", "x", NULL);
    assert_enc("i", "intset");
    cmd("SADD", "src", "a", "b", "c", "d", "e", "f", "g", "h", "i", "13", NULL);
    assert_enc("src", "hashtable");
    crash("SMOVE", "src", "i", "a", NULL);                     /* dst intset -> listpack */
    assert_enc("i", "listpack");
    cmd("SADD", "ints", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", NULL);
    crash("SMOVE", "src", "ints", "13", NULL);                 /* a 13th integer */
    assert_enc("ints", "hashtable");
    crash("SMOVE", "src", "src", "b", NULL);                   /* itself: nothing */
    crash("SMOVE", "src", "i", "8", NULL);                     /* not in src: nothing */
    cmd("SADD", "i", "c", NULL);
    crash("SMOVE", "src", "i", "c", NULL);                     /* already in dst */
    cmd("EXPIRE", "i", "1000", NULL);
    crash("SMOVE", "src", "i", "d", NULL);                     /* dst keeps its expiry */
    assert_string_equal(cmd("TTL", "i", NULL), ":1000\r\n");
    assert_string_equal(cmd("SCARD", "src", NULL), ":6\r\n");
    crash("SMOVE", "src", "new", "e", NULL);                   /* creates dst */
    assert_enc("src", "hashtable");
    crash("SMOVE", "src", "new", "f", NULL);                   /* src: half, compact */
    assert_enc("src", "listpack");
    crash("SPOP", "ints", "3", NULL);
    crash("SPOP", "ints", "6", NULL);                          /* half: compact */
    assert_enc("ints", "intset");
    fill('s', "big", 0, 70);
    cmd("SADD", "A", "1", "2", "3", "a", NULL);
    cmd("SADD", "B", "2", "3", "4", "b", NULL);
    crash("SINTERSTORE", "big", "A", "B", NULL);               /* big dst: lazily */
    assert_true(ks_gc_pending(arena));
    assert_enc("big", "intset");
    cmd("EXPIRE", "big", "1000", NULL);
    crash("SUNIONSTORE", "big", "A", "B", "src", NULL);        /* past 8: hashtable */
    assert_enc("big", "hashtable");
    assert_string_equal(cmd("TTL", "big", NULL), ":-1\r\n");
    crash("SDIFFSTORE", "A", "A", "B", NULL);                  /* dst = src */
    assert_string_equal(cmd("SCARD", "A", NULL), ":2\r\n");
    cmd("SET", "str", "v", NULL);
    crash("SDIFFSTORE", "str", "B", "nosuch", NULL);           /* over a string */
    assert_string_equal(cmd("TYPE", "str", NULL), "+set\r\n");
    crash("SINTERSTORE", "str", "A", "B", NULL);               /* empty: deletes */
    assert_string_equal(cmd("EXISTS", "str", NULL), ":0\r\n");
    fill('s', "big2", 0, 70);
    crash("SPOP", "big2", "3", NULL);
    crash("SPOP", "big2", "70", NULL);                         /* all: deleted, lazily */
    assert_string_equal(cmd("EXISTS", "big2", NULL), ":0\r\n");

    /* Sorted sets. */
    crash("ZINCRBY", "nz", "2", "m", NULL);                    /* creates */
    crash("ZADD", "nz2", "NX", "INCR", "5", "m", NULL);
    crash("ZADD", "nz3", "XX", "1", "m", NULL);                /* nothing */
    assert_string_equal(cmd("EXISTS", "nz3", NULL), ":0\r\n");
    crash("ZADD", "nz", "GT", "INCR", "-1", "m", NULL);        /* not greater: nothing */
    crash("ZADD", "nz", "LT", "INCR", "-1", "m", NULL);
    crash("ZADD", "nz", "GT", "CH", "1", "m", "3", "n", NULL);
    crash("ZADD", "nz", "LT", "CH", "0", "m", "4", "n", NULL);
    assert_string_equal(cmd("ZRANGE", "nz", "0", "-1", "WITHSCORES", NULL),
                        "*4\r\n$1\r\nm\r\n$1\r\n0\r\n$1\r\nn\r\n$1\r\n3\r\n");
    crash("ZINCRBY", "nz", "1", longv, NULL);                  /* a long member: full */
    assert_enc("nz", "skiplist");
    crash("ZADD", "nz", "GT", "INCR", "1", longv, NULL);
    crash("ZADD", "nz", "LT", "10", "m", "-10", "n", NULL);
    fill('z', "zb", 0, 70);
    crash("ZPOPMAX", "zb", "3", NULL);
    crash("ZPOPMIN", "zb", "2", NULL);
    crash("ZREMRANGEBYSCORE", "zb", "10", "(20", NULL);
    crash("ZREMRANGEBYLEX", "zb", "[m30", "[m39", NULL);
    crash("ZREMRANGEBYRANK", "zb", "0", "-1", NULL);           /* all: deleted, lazily */
    assert_string_equal(cmd("EXISTS", "zb", NULL), ":0\r\n");
    cmd("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", NULL);
    crash("ZREMRANGEBYLEX", "lex", "(a", "[c", NULL);          /* compact */
    crash("ZREMRANGEBYLEX", "lex", "-", "+", NULL);            /* deletes */
    assert_string_equal(cmd("EXISTS", "lex", NULL), ":0\r\n");
    fill('z', "z1", 0, 6);
    fill('z', "z2", 3, 6);
    crash("ZUNIONSTORE", "u", "2", "z1", "z2", NULL);          /* 9: full */
    assert_enc("u", "skiplist");
    crash("ZINTERSTORE", "i2", "2", "z1", "z2", "WEIGHTS", "2", "3", "AGGREGATE", "MIN",
          NULL);
    assert_string_equal(cmd("ZRANGE", "i2", "0", "0", "WITHSCORES", NULL),
                        "*2\r\n$2\r\nm3\r\n$1\r\n6\r\n");
    crash("ZDIFFSTORE", "z1", "2", "z1", "z2", NULL);          /* dst = src */
    assert_string_equal(cmd("ZCARD", "z1", NULL), ":3\r\n");
    crash("ZRANGESTORE", "r", "u", "[m2", "(m6", "BYLEX", NULL);
    crash("ZRANGESTORE", "r", "u", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2",
          NULL);
    assert_string_equal(cmd("ZRANGE", "r", "0", "-1", NULL), "*2\r\n$2\r\nm4\r\n$2\r\nm8\r\n");
    crash("ZRANGESTORE", "r", "u", "0", "-1", NULL);           /* 9: full */
    assert_enc("r", "skiplist");
    fill('z', "zb", 0, 70);
    cmd("EXPIRE", "zb", "1000", NULL);
    crash("ZUNIONSTORE", "zb", "1", "z1", NULL);               /* big dst: lazily */
    assert_string_equal(cmd("TTL", "zb", NULL), ":-1\r\n");
    assert_enc("zb", "listpack");
    crash("ZINTERSTORE", "zb", "2", "z1", "nosuch", NULL);     /* empty: deletes */
    assert_string_equal(cmd("EXISTS", "zb", NULL), ":0\r\n");

    gc_crash(50, 0);
    assert_int_equal(arena->hdr->garbage, 0);
    ks_limits = saved;
    free(longv);
    free(bigv);
    print_message("conversions: %ld crash points rolled back and compared\n", total);
}

/* ---- the internal writes of commands across shards ----------------------------------- */

static struct shared_page shared_page;

/* Runs a binary job to completion; returns its whole reply (malloc'd). */
static char *cmd_bin(const struct job *j, size_t *len)
{
    struct rbuf r;
    char *p;

    rbuf_init(&r);
    W.arena = arena;
    if (fwd_pos)
        fwd_pos++;
    run_job(j, &r);
    p = malloc(r.len + 1);
    assert_non_null(p);
    memcpy(p, r.data ? r.data : "", r.len);
    p[r.len] = '\0';
    *len = r.len;
    rbuf_free(&r);
    return p;
}

/* "@take key": the key's serialized value (malloc'd), or NULL. */
static char *take(const char *key, size_t *len)
{
    struct job j;
    size_t n, hl;
    char *r, *e, *v;
    unsigned long bl;

    j.argc = 2;
    j.args[0] = "@take";
    j.lens[0] = 5;
    j.args[1] = key;
    j.lens[1] = strlen(key);
    r = cmd_bin(&j, &n);
    if (n == 5 && memcmp(r, "$-1\r\n", 5) == 0) {
        free(r);
        return NULL;
    }
    if (r[0] != '$')
        fail_msg("@take %s: %s", key, r);
    bl = strtoul(r + 1, &e, 10);
    assert_memory_equal(e, "\r\n", 2);
    hl = (size_t)(e + 2 - r);
    assert_int_equal(n, hl + bl + 2);
    v = malloc(bl + 1);
    assert_non_null(v);
    memcpy(v, r + hl, bl);
    free(r);
    *len = bl;
    return v;
}

/* The digest RENAME's phase 3 sends (t_keys.c: digest_bytes). */
static void digest(const char *blob, size_t len, char out[16])
{
    XXH128_canonical_t c;

    XXH128_canonicalFromHash(&c, XXH3_128bits_withSeed(blob, len, W.shared->ring_epoch));
    memcpy(out, c.digest, 16);
}

/* "@put key value mode [digest]", crashed at every step; its reply. */
static const char *put(const char *key, const char *val, size_t vlen, const char *mode,
                       const char *dg)
{
    static struct job j;

    j.argc = dg ? 5 : 4;
    j.args[0] = "@put";
    j.lens[0] = 4;
    j.args[1] = key;
    j.lens[1] = strlen(key);
    j.args[2] = val;
    j.lens[2] = vlen;
    j.args[3] = mode;
    j.lens[3] = strlen(mode);
    j.args[4] = dg;
    j.lens[4] = 16;
    return crash_job(&j);
}

/* "@sstore dst" with members m<from>..m<from+n-1>, crashed; its reply. */
static const char *sstore_n(const char *dst, int from, int n)
{
    static struct job j;
    static char m[MAXARGS][16];
    int i;

    assert_true(n + 2 <= MAXARGS);
    j.argc = 0;
    j.args[j.argc] = "@sstore";
    j.lens[j.argc++] = 7;
    j.args[j.argc] = dst;
    j.lens[j.argc++] = strlen(dst);
    for (i = 0; i < n; i++) {
        snprintf(m[i], sizeof(m[i]), "m%d", from + i);
        j.args[j.argc] = m[i];
        j.lens[j.argc++] = strlen(m[i]);
    }
    return crash_job(&j);
}

/*
 * An @zstore payload (t_zset.c: zcmd_pay_open): a u64 count, then each
 * member as its score (a double), a u32 length and its bytes: members
 * m<from>..m<from+n-1> scored from..from+n-1, the first scored -0.
 * Returns its length.
 */
static size_t zpay(char *buf, size_t cap, int from, int n)
{
    uint64_t count = (uint64_t)n;
    size_t len = 8;
    int i;

    memcpy(buf, &count, 8);
    for (i = from; i < from + n; i++) {
        char m[16];
        double sc = i == from ? -0.0 : (double)i;
        uint32_t l = (uint32_t)snprintf(m, sizeof(m), "m%d", i);
        assert_true(len + 12 + l <= cap);
        memcpy(buf + len, &sc, 8);
        memcpy(buf + len + 8, &l, 4);
        memcpy(buf + len + 12, m, l);
        len += 12 + l;
    }
    return len;
}

/* "@zstore dst [payload [SEQ]]", crashed at every step; its reply. */
static const char *zstore(const char *dst, const char *pay, size_t len, int seq)
{
    static struct job j;

    j.argc = pay ? (seq ? 4 : 3) : 2;
    j.args[0] = "@zstore";
    j.lens[0] = 7;
    j.args[1] = dst;
    j.lens[1] = strlen(dst);
    j.args[2] = pay;
    j.lens[2] = len;
    j.args[3] = "SEQ";
    j.lens[3] = 3;
    return crash_job(&j);
}

/*
 * RENAME of src to dst across shards, phase by phase as the two owners
 * run them (t_keys.c, "RENAME across shards"): @take src, @put dst
 * REPLACE, @put src '' CAS; dst must then hold exactly src's value.
 */
static void rename_phases(const char *src, const char *dst)
{
    char *v, *w, dg[16];
    size_t n, m;

    v = take(src, &n);
    assert_non_null(v);
    digest(v, n, dg);
    assert_string_equal(put(dst, v, n, "REPLACE", NULL), ":1\r\n");
    assert_string_equal(put(src, "", 0, "CAS", dg), ":1\r\n");
    assert_string_equal(cmd("EXISTS", src, NULL), ":0\r\n");
    w = take(dst, &m);
    assert_non_null(w);
    assert_int_equal(m, n);
    assert_memory_equal(w, v, n);
    free(v);
    free(w);
}

/*
 * @sstore (the last phase of SINTERSTORE/SUNIONSTORE/SDIFFSTORE across
 * shards), @zstore (of ZUNIONSTORE & co. and ZRANGESTORE), @take and @put
 * (RENAME/RENAMENX across shards) for every type and encoding, run as
 * requests forwarded by another worker: each also stores, in its
 * mutation, how far that worker's ring has been applied.
 */
static void test_cross_shard_writes(void **state)
{
    struct ks_limits saved = ks_limits;
    char *longm = filled(100, 'S'), *v, *w, dg[16], dg2[16], pay[2048];
    uint64_t g0;
    size_t n, m;
    int steps;

    (void)state;
    small_limits();
    W.shared = &shared_page;
    shared_page.ring_epoch = 0x0123456789abcdefull;
    fwd_pos = 1;

    /* @sstore dst member...: replaces dst, whatever it held; none: deletes. */
    assert_string_equal(crashr("@sstore", "d", "1", "2", "3", NULL), ":3\r\n");
    assert_enc("d", "intset");
    assert_string_equal(crashr("@sstore", "d", "1", "2", "3", "4", "5", "6", "7", "8", "9",
                               "10", NULL), ":10\r\n");
    assert_enc("d", "intset");                             /* past 8, but integers */
    assert_string_equal(crashr("@sstore", "d", "1", "2", "3", "4", "5", "6", "7", "8", "9",
                               "10", "11", "12", "-13", NULL), ":13\r\n");
    assert_enc("d", "hashtable");                          /* past 12 integers */
    assert_string_equal(crashr("@sstore", "d", "a", "b", "a", "c", "b", NULL), ":3\r\n");
    assert_enc("d", "listpack");
    assert_string_equal(crashr("@sstore", "d", "a", "1", "b", "2", "c", "3", "d", "4", "e",
                               NULL), ":9\r\n");
    assert_enc("d", "hashtable");                          /* past 8 */
    assert_string_equal(crashr("@sstore", "d", longm, NULL), ":1\r\n");
    assert_enc("d", "hashtable");                          /* a long member */
    assert_string_equal(sstore_n("d", 0, 100), ":100\r\n");
    assert_false(ks_gc_pending(arena));
    assert_string_equal(crashr("@sstore", "d", "x", NULL), ":1\r\n");
    assert_true(ks_gc_pending(arena));                     /* the big one, lazily */
    cmd("SET", "str", "x", "EX", "100", NULL);
    assert_string_equal(crashr("@sstore", "str", "a", NULL), ":1\r\n");
    assert_string_equal(cmd("TTL", "str", NULL), ":-1\r\n");
    cmd("RPUSH", "lst", "a", NULL);
    assert_string_equal(crashr("@sstore", "lst", "z", NULL), ":1\r\n");
    assert_string_equal(cmd("TYPE", "lst", NULL), "+set\r\n");
    cmd("SADD", "e", "1", NULL);
    cmd("EXPIRE", "e", "100", NULL);
    assert_string_equal(crashr("@sstore", "e", "2", NULL), ":1\r\n");
    assert_string_equal(cmd("TTL", "e", NULL), ":-1\r\n");
    assert_string_equal(crashr("@sstore", "e", NULL), ":0\r\n");   /* deletes */
    assert_string_equal(cmd("EXISTS", "e", NULL), ":0\r\n");
    assert_string_equal(crashr("@sstore", "nosuch", NULL), ":0\r\n");
    fill('s', "big", 0, 66);
    assert_string_equal(crashr("@sstore", "big", NULL), ":0\r\n");    /* lazily */
    cmd("DEL", "d", "str", "lst", NULL);

    /* @zstore dst [payload [SEQ]]: the last phase of ZUNIONSTORE,
     * ZINTERSTORE, ZDIFFSTORE (whole) and ZRANGESTORE (SEQ) across shards. */
    n = zpay(pay, sizeof(pay), 0, 3);
    assert_string_equal(zstore("zs", pay, n, 0), ":3\r\n");
    assert_enc("zs", "listpack");
    assert_string_equal(cmd("ZSCORE", "zs", "m0", NULL), "$1\r\n0\r\n");   /* compact */
    n = zpay(pay, sizeof(pay), 0, 12);
    assert_string_equal(zstore("zs", pay, n, 0), ":12\r\n");
    assert_enc("zs", "skiplist");
    assert_string_equal(cmd("ZSCORE", "zs", "m0", NULL), "$2\r\n-0\r\n");
    n = zpay(pay, sizeof(pay), 0, 100);
    assert_string_equal(zstore("zs", pay, n, 1), ":100\r\n");
    assert_enc("zs", "skiplist");
    g0 = arena->hdr->garbage;
    n = zpay(pay, sizeof(pay), 5, 2);
    assert_string_equal(zstore("zs", pay, n, 1), ":2\r\n");    /* big dst: lazily */
    assert_true(arena->hdr->garbage != g0);
    assert_enc("zs", "listpack");
    cmd("SET", "str", "x", "EX", "100", NULL);
    assert_string_equal(zstore("str", pay, n, 0), ":2\r\n");
    assert_string_equal(cmd("TTL", "str", NULL), ":-1\r\n");
    assert_string_equal(zstore("zs", pay, n - 1, 0),
                        "-ERR malformed sorted set payload\r\n");
    assert_string_equal(zstore("zs", "", 0, 0), ":0\r\n");     /* empty: deletes */
    assert_string_equal(zstore("str", NULL, 0, 0), ":0\r\n");
    assert_string_equal(cmd("EXISTS", "zs", "str", NULL), ":0\r\n");

    /* RENAME across shards, phase by phase, for every type and encoding. */
    cmd("SET", "s", "a string value", "PX", "100000000", NULL);
    fill('l', "lc", 0, 3);
    fill('l', "lf", 0, 140);                               /* pushed 64 at a time */
    fill('h', "hc", 0, 3);
    fill('h', "hf", 0, 100);
    fill('i', "si", 0, 5);
    fill('s', "sc", 0, 3);
    fill('s', "sf", 0, 100);
    fill('z', "zc", 0, 3);
    cmd("ZADD", "zc", "-0", "neg0", "-inf", "ninf", NULL);
    fill('z', "zf", 0, 100);
    cmd("ZADD", "zf", "-0", "neg0", "+inf", "pinf", NULL);
    cmd("PEXPIRE", "hf", "100000000", NULL);
    cmd("PEXPIRE", "zc", "100000000", NULL);
    rename_phases("s", "s2");
    rename_phases("lc", "lc2");
    rename_phases("lf", "lf2");
    rename_phases("hc", "hc2");
    rename_phases("hf", "hf2");
    rename_phases("si", "si2");
    rename_phases("sc", "sc2");
    rename_phases("sf", "sf2");
    rename_phases("zc", "zc2");
    rename_phases("zf", "zf2");
    assert_enc("lf2", "quicklist");
    assert_enc("hf2", "hashtable");
    assert_enc("si2", "intset");
    assert_enc("sf2", "hashtable");
    assert_enc("zf2", "skiplist");
    assert_string_equal(cmd("ZSCORE", "zf2", "neg0", NULL), "$2\r\n-0\r\n");
    assert_string_equal(cmd("EXPIRETIME", "lf2", NULL), ":-1\r\n");
    assert_string_equal(cmd("EXISTS", "s", "lc", "lf", "hc", "hf", "si", "sc", "sf", "zc",
                            "zf", NULL), ":0\r\n");
    /* REPLACE over big values of other types (freed lazily). */
    g0 = arena->hdr->garbage;
    rename_phases("zc2", "hf2");
    rename_phases("sc2", "lf2");
    rename_phases("hc2", "zf2");
    assert_string_equal(cmd("TYPE", "zf2", NULL), "+hash\r\n");
    assert_true(arena->hdr->garbage != g0);

    /* NX: only when dst is missing. */
    v = take("lf2", &n);                                   /* a compact set now */
    digest(v, n, dg);
    assert_string_equal(put("si2", v, n, "NX", NULL), ":0\r\n");
    assert_enc("si2", "intset");
    assert_string_equal(put("n3", v, n, "NX", NULL), ":1\r\n");
    /* CAS: src changed since it was taken, or gone: kept, :0. */
    cmd("SADD", "lf2", "another", NULL);
    assert_string_equal(put("lf2", "", 0, "CAS", dg), ":0\r\n");
    assert_string_equal(cmd("SCARD", "lf2", NULL), ":4\r\n");
    assert_string_equal(put("gone", "", 0, "CAS", dg), ":0\r\n");
    /* CAS with a value: replaces when unchanged. */
    w = take("s2", &m);
    digest(w, m, dg2);
    assert_string_equal(put("s2", v, n, "CAS", dg2), ":1\r\n");
    assert_string_equal(cmd("TYPE", "s2", NULL), "+set\r\n");
    /* A value whose expiry has passed: dst deleted, nothing stored. */
    memcpy(w + 8, "\x01\0\0\0\0\0\0\0", 8);
    assert_string_equal(put("n3", w, m, "REPLACE", NULL), ":1\r\n");
    assert_string_equal(cmd("EXISTS", "n3", NULL), ":0\r\n");
    /* Malformed: refused before anything changes. */
    assert_string_equal(put("lf2", v, n - 3, "REPLACE", NULL),
                        "-ERR value from another shard is malformed\r\n");
    assert_string_equal(put("lf2", "\x09", 1, "REPLACE", NULL),
                        "-ERR value from another shard in an unknown format\r\n");
    assert_string_equal(cmd("SCARD", "lf2", NULL), ":4\r\n");
    free(v);
    free(w);
    /* @take of a big collection whose expiry passed: deleted, lazily. */
    cmd("PEXPIRE", "sf2", "1", NULL);
    usleep(5000);
    assert_string_equal(crashr("@take", "sf2", NULL), "$-1\r\n");
    assert_string_equal(cmd("EXISTS", "sf2", NULL), ":0\r\n");

    steps = gc_crash(50, 0);
    assert_int_equal(arena->hdr->garbage, 0);
    shmtest_check(arena);
    fwd_pos = 0;
    W.shared = NULL;
    ks_limits = saved;
    free(longm);
    print_message("cross-shard writes: %ld crash points rolled back and compared (%d garbage "
                  "steps)\n", total, steps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collection_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_big_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_shard_writes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
