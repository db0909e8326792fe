/*
 * test_cmd_crash.c - crash at every step, command by command.
 *
 * Runs real write commands through cmd_run() (the same path a worker runs
 * them on, arena mutation included) on a test arena, making each one die
 * after every one of its logged stores in turn; each time the arena is
 * attached again (rollback and full consistency check) and compared byte
 * for byte with its state before the command.  Then the command runs to
 * completion and its effect is checked.  Every mutating path of every type
 * that a command can take is listed here.
 */
#include "shmtest.h"
#include "worker/config.h"
#include "worker/server.h"
#include "worker/util.h"

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

#define MAXARGS 32

struct job {
    int argc;
    const char *args[MAXARGS];
};

static void run_argv(int argc, const char *const *args, struct rbuf *out)
{
    struct resp_arg argv[MAXARGS];
    struct cmd_ctx x;
    int i;

    for (i = 0; i < argc; i++) {
        argv[i].ptr = args[i];
        argv[i].len = strlen(args[i]);
    }
    memset(&x, 0, sizeof(x));
    x.cmd = cmd_lookup(argv[0].ptr, argv[0].len);
    if (x.cmd == NULL)
        fail_msg("unknown command %s", args[0]);
    x.argc = argc;
    x.argv = argv;
    x.out.b = out;
    x.out.proto = 2;
    x.ring_peer = -1;
    W.now_ms = util_mstime();     /* the worker sets it per batch */
    cmd_run(&x);
}

/* Runs a command to completion; returns its reply (static buffer). */
static const char *cmd(const char *first, ...)
{
    static char reply[512];
    const char *args[MAXARGS];
    struct rbuf r;
    va_list ap;
    int n = 0;

    args[n++] = first;
    va_start(ap, first);
    while ((args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    rbuf_init(&r);
    W.arena = arena;
    run_argv(n, args, &r);
    snprintf(reply, sizeof(reply), "%.*s", (int)(r.len < sizeof(reply) - 1 ? r.len : sizeof(reply) - 1),
             r.data ? r.data : "");
    rbuf_free(&r);
    return reply;
}

static void mutation(struct shm_arena *a, void *arg)
{
    struct job *j = arg;
    struct rbuf r;

    rbuf_init(&r);
    W.arena = a;
    run_argv(j->argc, j->args, &r);
    rbuf_free(&r);
}

/* Crashes the command after each of its logged stores, then runs it. */
static void crash(const char *first, ...)
{
    struct job j;
    char what[128];
    va_list ap;
    long n;

    j.argc = 0;
    j.args[j.argc++] = first;
    va_start(ap, first);
    while ((j.args[j.argc] = va_arg(ap, const char *)) != NULL)
        j.argc++;
    va_end(ap);
    snprintf(what, sizeof(what), "%s %s", j.args[0], j.argc > 1 ? j.args[1] : "");
    /* A command abandoned mid-way (the crash is a longjmp) keeps the heap
     * memory it held, which a real crash takes with the process: not a
     * leak.  (The ASan daemon's own tests check the commands for leaks.) */
    LSAN_DISABLE();
    n = shmtest_crash_every_step(&arena, &opts, mutation, &j, what, 1);
    LSAN_ENABLE();
    W.arena = arena;
    total += n;
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
    total = 0;
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
    crash("SADD", "i", "4", "-5", NULL);                         /* past 4: listpack */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zsets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
