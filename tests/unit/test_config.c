/*
 * test_config.c - unit tests for worker/config.c, the settings table.
 *
 * What CONFIG SET relies on: Redis's memory units and errors (checked
 * against redis-server 7.0.15), enum errors in Redis's "a, b, c" form,
 * which settings are mutable, aliases, the hidden compatibility settings,
 * the config file's absolute path; and the shared settings page: a worker
 * that starts from it gets what CONFIG SET published, and two processes
 * that change different settings at the same time both keep their change
 * (the page once published every setting a process held, so the second
 * publisher silently undid the first one's change).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "worker/config.h"

static int setup(void **state)
{
    (void)state;
    config_defaults();
    return 0;
}

static void expect_get(const char *name, const char *want)
{
    char buf[256];
    assert_int_equal(config_get(name, buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void expect_set_error(const char *name, const char *value, const char *want)
{
    char err[256] = "";
    assert_int_equal(config_set(name, value, 1, err, sizeof(err)), -1);
    assert_string_equal(err, want);
}

static void test_memtoll(void **state)
{
    (void)state;
    assert_int_equal(config_memtoll("100"), 100);
    assert_int_equal(config_memtoll("1b"), 1);
    assert_int_equal(config_memtoll("1k"), 1000);
    assert_int_equal(config_memtoll("1KB"), 1024);
    assert_int_equal(config_memtoll("2m"), 2000000);
    assert_int_equal(config_memtoll("2mb"), 2 * 1024 * 1024);
    assert_int_equal(config_memtoll("3gb"), 3ll * 1024 * 1024 * 1024);
    assert_int_equal(config_memtoll("-1"), -1);
    assert_int_equal(config_memtoll("1x"), -1);
    assert_int_equal(config_memtoll("kb"), -1);
    assert_int_equal(config_memtoll("99999999999999999999"), -1);
}

/* hash-, set- and zset-max-listpack-value are MEMORY configs, as in Redis 7.0. */
static void test_listpack_value_units(void **state)
{
    static const char *const names[] = {
        "hash-max-listpack-value", "set-max-listpack-value", "zset-max-listpack-value",
        "hash-max-ziplist-value", "zset-max-ziplist-value",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(config_set(names[i], "1kb", 1, NULL, 0), 0);
        expect_get(names[i], "1024");
        assert_int_equal(config_set(names[i], "2k", 1, NULL, 0), 0);
        expect_get(names[i], "2000");
        expect_set_error(names[i], "-1", "argument must be a memory value");
        expect_set_error(names[i], "ten", "argument must be a memory value");
        expect_get(names[i], "2000");      /* a refused value changes nothing */
    }
    /* The entry counts stay plain integers. */
    expect_set_error("hash-max-listpack-entries", "1kb",
                     "argument couldn't be parsed into an integer");
}

static void test_enum_error(void **state)
{
    (void)state;
    expect_set_error("loglevel", "loud",
                     "argument(s) must be one of the following: debug, verbose, notice, "
                     "warning");
    expect_set_error("maxmemory-policy", "allkeys-lru",
                     "argument(s) must be one of the following: noeviction");
    assert_int_equal(config_set("loglevel", "WARNING", 1, NULL, 0), 0);
    expect_get("loglevel", "warning");
}

/* hz takes anything Redis takes and clamps it, as Redis does. */
static void test_hz_clamped(void **state)
{
    (void)state;
    assert_int_equal(config_set("hz", "0", 1, NULL, 0), 0);
    expect_get("hz", "1");
    assert_int_equal(config_set("hz", "5000", 1, NULL, 0), 0);
    expect_get("hz", "500");
    assert_int_equal(config_set("hz", "42", 1, NULL, 0), 0);
    expect_get("hz", "42");
    expect_set_error("hz", "-1", "argument must be between 0 and 2147483647 inclusive");
    expect_set_error("hz", "2147483648", "argument must be between 0 and 2147483647 inclusive");
    expect_get("hz", "42");
}

static void test_mutable_and_names(void **state)
{
    (void)state;
    assert_int_equal(config_is_mutable("port"), 0);
    assert_int_equal(config_is_mutable("workers"), 0);
    assert_int_equal(config_is_mutable("hz"), 1);
    assert_int_equal(config_is_mutable("MAXMEMORY"), 1);
    assert_int_equal(config_is_mutable("hash-max-ziplist-entries"), 1);
    assert_int_equal(config_is_mutable("no-such-setting"), -1);
    assert_string_equal(config_name("HASH-MAX-ZIPLIST-VALUE"), "hash-max-listpack-value");
    assert_string_equal(config_name("Hz"), "hz");
    assert_null(config_name("nope"));
    expect_set_error("port", "6380", "can't set immutable config");
    /* At start (flags, file) immutable settings take any value. */
    assert_int_equal(config_set("port", "6380", 0, NULL, 0), 0);
    expect_get("port", "6380");
}

/* Settings kept for Redis's sake: CONFIG GET reports them, --help does not. */
static void test_compat_settings(void **state)
{
    char *help = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    expect_get("list-compress-depth", "0");
    assert_int_equal(config_set("list-compress-depth", "3", 1, NULL, 0), 0);
    expect_get("list-compress-depth", "3");
    expect_set_error("list-compress-depth", "-1",
                     "argument must be between 0 and 2147483647 inclusive");
    assert_int_equal(config_is_mutable("list-compress-depth"), 1);
    assert_int_equal(config_set("save", "", 1, NULL, 0), 0);
    assert_int_equal(config_set("save", "900 1", 1, NULL, 0), -1);
    assert_int_equal(config_set("appendonly", "no", 1, NULL, 0), 0);
    assert_int_equal(config_set("appendonly", "yes", 1, NULL, 0), -1);
    f = open_memstream(&help, &len);
    assert_non_null(f);
    config_print_help(f);
    assert_int_equal(fclose(f), 0);
    assert_null(strstr(help, "list-compress-depth"));
    assert_non_null(strstr(help, "--hz"));
    free(help);
}

static void count_cb(const char *name, const char *value, void *ctx)
{
    (void)value;
    if (strcmp(name, "list-compress-depth") == 0)
        ++*(int *)ctx;
}

static void test_get_pattern_lists_hidden(void **state)
{
    int n = 0;

    (void)state;
    config_each("*", count_cb, &n);
    assert_int_equal(n, 1);
}

/* INFO's config_file: absolute, whatever the path given and the directory
 * the server moves to afterwards. */
static void test_config_file_path(void **state)
{
    char dir[] = "/tmp/ember-test-config-XXXXXX", path[512], cwd[4096], err[256];
    FILE *f;

    (void)state;
    assert_string_equal(config_file_path(), "");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ember.conf", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# comment\nhz 42\nhash-max-listpack-value 2kb\n");
    assert_int_equal(fclose(f), 0);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(config_load_file("ember.conf", err, sizeof(err)), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(config_file_path(), path);
    expect_get("hz", "42");
    expect_get("hash-max-listpack-value", "2048");
    unlink(path);
    rmdir(dir);
}

/* ---- the shared page -------------------------------------------------------------- */

static void wait_ok(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void pipe_wait(int fd)
{
    char c;
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
}

static void pipe_post(int fd)
{
    char c = 1;
    if (write(fd, &c, 1) != 1)
        _exit(90);
}

/* A worker started after CONFIG SET starts from the page. */
static void test_shared_restart(void **state)
{
    struct config_shared *s;
    pid_t pid;
    char buf[64];

    (void)state;
    s = config_shared_create();
    assert_non_null(s);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* "CONFIG SET hz 33 maxmemory 1mb" in one worker. */
        config_shared_attach(s);
        if (config_set("hz", "33", 1, NULL, 0) || config_set("maxmemory", "1mb", 1, NULL, 0))
            _exit(1);
        _exit(config_shared_publish(s) == 0 ? 0 : 2);
    }
    wait_ok(pid);
    /* This process forked before the change, as the supervisor does. */
    expect_get("hz", "10");
    config_shared_attach(s);
    expect_get("hz", "33");
    assert_int_equal(config_get("maxmemory", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1048576");
    assert_int_equal(config_shared_sync(s), 0);   /* nothing new since */
}

/*
 * Two workers that change different settings: the second publishes
 * without having seen the first's change (it had not synced), and must
 * neither undo it nor miss it.
 */
static void test_shared_concurrent_settings(void **state)
{
    struct config_shared *s;
    int a2b[2], b2a[2];
    pid_t a, b;

    (void)state;
    s = config_shared_create();
    assert_non_null(s);
    assert_int_equal(pipe(a2b), 0);
    assert_int_equal(pipe(b2a), 0);
    a = fork();
    assert_true(a >= 0);
    if (a == 0) {
        char v[64];
        config_shared_attach(s);
        pipe_post(a2b[1]);                   /* attached */
        pipe_wait(b2a[0]);                   /* b attached too */
        if (config_set("hz", "20", 1, NULL, 0) != 0 || config_shared_publish(s) != 0)
            _exit(1);
        pipe_post(a2b[1]);                   /* published */
        pipe_wait(b2a[0]);                   /* b published */
        if (config_shared_sync(s) != 1)
            _exit(2);
        config_get("timeout", v, sizeof(v));
        if (strcmp(v, "77") != 0)
            _exit(3);
        config_get("hz", v, sizeof(v));
        _exit(strcmp(v, "20") == 0 ? 0 : 4);
    }
    b = fork();
    assert_true(b >= 0);
    if (b == 0) {
        char v[64];
        config_shared_attach(s);
        pipe_wait(a2b[0]);
        pipe_post(b2a[1]);
        pipe_wait(a2b[0]);                   /* a published hz; b has not synced */
        if (config_set("timeout", "77", 1, NULL, 0) != 0 || config_shared_publish(s) != 0)
            _exit(1);
        config_get("hz", v, sizeof(v));      /* taken in by the publish */
        pipe_post(b2a[1]);
        _exit(strcmp(v, "20") == 0 ? 0 : 5);
    }
    wait_ok(a);
    wait_ok(b);
    config_shared_attach(s);
    expect_get("hz", "20");
    expect_get("timeout", "77");
    close(a2b[0]);
    close(a2b[1]);
    close(b2a[0]);
    close(b2a[1]);
}

/* Two changes of the same setting: the last one published wins everywhere. */
static void test_shared_same_setting(void **state)
{
    struct config_shared *s;
    pid_t pid;

    (void)state;
    s = config_shared_create();
    assert_non_null(s);
    config_shared_attach(s);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (config_set("hz", "50", 1, NULL, 0) != 0 || config_shared_publish(s) != 0)
            _exit(1);
        _exit(0);
    }
    wait_ok(pid);
    assert_int_equal(config_set("hz", "60", 1, NULL, 0), 0);
    assert_int_equal(config_shared_publish(s), 0);
    expect_get("hz", "60");
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char v[64];
        config_shared_attach(s);
        config_get("hz", v, sizeof(v));
        _exit(strcmp(v, "60") == 0 ? 0 : 1);
    }
    wait_ok(pid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_memtoll, setup),
        cmocka_unit_test_setup(test_listpack_value_units, setup),
        cmocka_unit_test_setup(test_enum_error, setup),
        cmocka_unit_test_setup(test_hz_clamped, setup),
        cmocka_unit_test_setup(test_mutable_and_names, setup),
        cmocka_unit_test_setup(test_compat_settings, setup),
        cmocka_unit_test_setup(test_get_pattern_lists_hidden, setup),
        cmocka_unit_test_setup(test_config_file_path, setup),
        cmocka_unit_test_setup(test_shared_restart, setup),
        cmocka_unit_test_setup(test_shared_concurrent_settings, setup),
        cmocka_unit_test_setup(test_shared_same_setting, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
