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
    n = shmtest_crash_every_step(&arena, &opts, mutation, &j, what, 1);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
