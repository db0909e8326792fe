/*
 * test_resp.c - unit tests for worker/resp.c, the RESP codec.
 *
 * These tests are the codec's specification.  Parser: every Redis 7.0
 * protocol error with its exact text, the number rules of string2ll, the
 * quirks Redis has and clients may rely on (the byte after '\r' is skipped
 * unchecked, a NUL hides a line end, *N<=0 is an empty command), inline
 * quoting as sdssplitargs does it, the limits, and above all incremental
 * parsing: a stream of commands fed whole, split at every byte boundary,
 * byte by byte and in random pieces, through a buffer that moves on every
 * read, must give the same transcript.  The expected behaviour of the odd
 * cases was checked against redis-server 7.0.15.
 *
 * Encoder: byte-exact output of every reply type in RESP2 and RESP3,
 * deferred headers (including ones that move the tail and nested ones),
 * the sticky failure flag, and the integer and double formatting.
 */
#include <limits.h>
#include <math.h>
#include <float.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "worker/resp.h"

/* ------------------------------------------------------------------------
 * helpers
 * ---------------------------------------------------------------------- */

/* A growable byte string for transcripts and generated input. */
struct sb {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sb *s, const void *d, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t ncap = s->cap ? s->cap : 256;
        while (ncap < s->len + n + 1)
            ncap *= 2;
        s->p = realloc(s->p, ncap);
        assert_non_null(s->p);
        s->cap = ncap;
    }
    if (n > 0)
        memcpy(s->p + s->len, d, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void sb_str(struct sb *s, const char *str)
{
    sb_add(s, str, strlen(str));
}

static void __attribute__((format(printf, 2, 3)))
sb_fmt(struct sb *s, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(tmp));
    sb_add(s, tmp, (size_t)n);
}

/* Appends one parse outcome in a readable, comparable form. */
static void record(struct sb *t, int rc, const struct resp_parser *p)
{
    int i;

    if (rc == RESP_EMPTY) {
        sb_str(t, "EMPTY\n");
    } else if (rc == RESP_ERR) {
        sb_fmt(t, "ERR %s\n", resp_parser_error(p));
    } else {
        assert_int_equal(rc, RESP_OK);
        sb_fmt(t, "OK %d", p->argc);
        for (i = 0; i < p->argc; i++) {
            sb_fmt(t, " [%zu:", p->argv[i].len);
            sb_add(t, p->argv[i].ptr, p->argv[i].len);
            sb_str(t, "]");
        }
        sb_str(t, "\n");
    }
}

/* Read sizes for feed(): all at once (mode 0), cut in two at `cut` (1),
 * `cut` bytes at a time (2), or pseudo-random 1..23 bytes (3). */
struct chunking {
    int mode;
    size_t cut;
    unsigned seed;
};

static size_t next_chunk(struct chunking *c, size_t off, size_t total)
{
    if (c->mode == 3) {
        c->seed = c->seed * 1103515245u + 12345u;
        return 1 + (c->seed >> 16) % 23;
    }
    if (c->mode == 2)
        return c->cut;
    return c->mode == 1 && off == 0 ? c->cut : total - off;
}

/*
 * Feeds data to a fresh parser the way a connection would: every read
 * lands in a brand-new heap buffer holding the unconsumed bytes plus the new
 * ones (so anything that kept a stale pointer trips ASan), then commands
 * are parsed until RESP_AGAIN.  Returns the transcript (caller frees).
 */
static struct sb feed(const char *data, size_t n, struct chunking ck,
                      const struct resp_limits *lim)
{
    struct resp_parser p;
    struct sb t = {0};
    char *buf = NULL;
    size_t blen = 0, off = 0;
    int dead = 0;

    resp_parser_init(&p, lim);
    while (off < n && !dead) {
        size_t c = next_chunk(&ck, off, n);
        char *nb;

        if (c == 0)
            c = 1;
        if (c > n - off)
            c = n - off;
        nb = malloc(blen + c);
        assert_non_null(nb);
        if (blen > 0)
            memcpy(nb, buf, blen);
        memcpy(nb + blen, data + off, c);
        free(buf);
        buf = nb;
        blen += c;
        off += c;
        for (;;) {
            size_t used = 12345;
            int rc = resp_parse(&p, buf, blen, &used), i;
            if (rc == RESP_AGAIN) {
                assert_int_equal(used, 0);
                assert_true(resp_parser_need(&p) >= 1);
                break;
            }
            record(&t, rc, &p);
            for (i = 0; rc == RESP_OK && buf[0] == '*' && i < p.argc; i++)
                assert_true(p.argv[i].ptr >= buf &&     /* in place */
                            p.argv[i].ptr + p.argv[i].len <= buf + used);
            if (rc == RESP_ERR) {
                dead = 1;
                break;
            }
            assert_true(used > 0 && used <= blen);
            memmove(buf, buf + used, blen - used);
            blen -= used;
        }
    }
    sb_fmt(&t, "END %s %zu\n",
           dead ? "error" : resp_parser_busy(&p) ? "busy" : "idle",
           dead ? (size_t)0 : blen);
    free(buf);
    resp_parser_free(&p);
    return t;
}

/* Parses a single input with a fresh default parser; returns the result. */
static int parse1(struct resp_parser *p, const char *s, size_t n,
                  size_t *used)
{
    resp_parser_init(p, NULL);
    return resp_parse(p, s, n, used);
}

#define S(lit) (lit), (sizeof(lit) - 1)

/* Asserts p's arguments, given as "<len>:<bytes>" one after another. */
static void assert_args(const struct resp_parser *p, const char *want,
                        size_t n)
{
    struct sb got = {0};
    int i;

    for (i = 0; i < p->argc; i++) {
        sb_fmt(&got, "%zu:", p->argv[i].len);
        sb_add(&got, p->argv[i].ptr, p->argv[i].len);
    }
    if (got.len != n || (n > 0 && memcmp(got.p, want, n) != 0))
        fail_msg("arguments '%.*s', want '%.*s'", (int)got.len,
                 got.p ? got.p : "", (int)n, want);
    free(got.p);
}

#define ARGS(p, lit) assert_args((p), (lit), sizeof(lit) - 1)

/* One resp_parse() of s[0..n) with p: asserts the result and, after
 * RESP_AGAIN, the need() hint.  Returns the bytes consumed. */
static size_t step(struct resp_parser *p, const char *s, size_t n, int rc,
                   size_t need)
{
    size_t used = 777;
    int got = resp_parse(p, s, n, &used);

    if (got != rc)
        fail_msg("'%.*s': result %d, want %d", (int)n, s, got, rc);
    if (rc == RESP_AGAIN)
        assert_int_equal(resp_parser_need(p), need);
    if (rc != RESP_OK && rc != RESP_EMPTY)
        assert_int_equal(used, 0);
    return used;
}

#define STEP(p, lit, rc, need) step((p), S(lit), (rc), (need))

static void assert_arg(const struct resp_parser *p, int i, const char *s,
                       size_t n)
{
    assert_true(i < p->argc);
    assert_int_equal(p->argv[i].len, n);
    assert_memory_equal(p->argv[i].ptr, s, n);
}

/* Asserts that input s gives RESP_ERR with message msg. */
static void expect_error(const char *s, size_t n, const char *msg)
{
    struct resp_parser p;
    size_t used;
    int rc = parse1(&p, s, n, &used);

    if (rc != RESP_ERR)
        fail_msg("input %.*s: expected error '%s', got %d", (int)n, s, msg,
                 rc);
    assert_string_equal(resp_parser_error(&p), msg);
    assert_int_equal(used, 0);
    resp_parser_free(&p);
}

#define E_MBLEN   "ERR Protocol error: invalid multibulk length"
#define E_BLEN    "ERR Protocol error: invalid bulk length"
#define E_QUOTES  "ERR Protocol error: unbalanced quotes in request"
#define E_INLBIG  "ERR Protocol error: too big inline request"
#define E_MBBIG   "ERR Protocol error: too big mbulk count string"
#define E_BBIG    "ERR Protocol error: too big bulk count string"

/* ------------------------------------------------------------------------
 * multibulk parsing
 * ---------------------------------------------------------------------- */

static void test_mb_basic(void **state)
{
    static const char in[] =
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    static const char bin[] =
        "*4\r\n$0\r\n\r\n$5\r\na\0\r\nb\r\n$2\r\n\r\n\r\n$1\r\n*\r\n";
    struct resp_parser p;
    size_t used;

    (void)state;
    assert_int_equal(parse1(&p, S(in), &used), RESP_OK);
    assert_int_equal(used, sizeof(in) - 1);
    ARGS(&p, "3:SET3:key5:value");
    /* In place: arguments point into the input. */
    assert_ptr_equal(p.argv[0].ptr, in + 8);
    assert_ptr_equal(p.argv[2].ptr, in + sizeof(in) - 8);
    assert_int_equal(resp_parser_need(&p), 0);
    assert_false(resp_parser_busy(&p));
    assert_null(resp_parser_error(&p));
    /* Empty arguments and binary payloads. */
    assert_int_equal(resp_parse(&p, S(bin), &used), RESP_OK);
    assert_int_equal(used, sizeof(bin) - 1);
    ARGS(&p, "0:5:a\0\r\nb2:\r\n1:*");
    resp_parser_free(&p);
}

/* *N with N <= 0 is consumed as "no command" (Redis resets the client). */
static void test_mb_empty_counts(void **state)
{
    static const char *const in[] = {
        "*0\r\n", "*-1\r\n", "*-5\r\n", "*-2147483649\r\n",
        "*-9223372036854775808\r\n",
    };
    size_t i, used;

    (void)state;
    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        struct resp_parser p;
        assert_int_equal(parse1(&p, in[i], strlen(in[i]), &used),
                         RESP_EMPTY);
        assert_int_equal(used, strlen(in[i]));
        assert_int_equal(p.argc, 0);
        assert_false(resp_parser_busy(&p));
        resp_parser_free(&p);
    }
}

/* Inputs Redis rejects, with its exact reply text (the odd ones checked
 * against redis-server 7.0.15). */
struct error_case {
    const char *in;
    size_t len;
    const char *msg;
};

#define EC(in, msg) { in, sizeof(in) - 1, msg }
#define E_GOT(c) "ERR Protocol error: expected '$', got '" c "'"

static const struct error_case error_cases[] = {
    /* The count: string2ll() rules, at most INT_MAX. */
    EC("*1x\r\n", E_MBLEN), EC("*+5\r\n", E_MBLEN), EC("*\r\n", E_MBLEN),
    EC("*-0\r\n", E_MBLEN), EC("*01\r\n", E_MBLEN), EC("*00\r\n", E_MBLEN),
    EC("* 1\r\n", E_MBLEN), EC("*1 \r\n", E_MBLEN), EC("*-\r\n", E_MBLEN),
    EC("*0x10\r\n", E_MBLEN), EC("*1\n\r\n", E_MBLEN),
    EC("*1.0\r\n", E_MBLEN), EC("**\r\n", E_MBLEN), EC("*$1\r\n", E_MBLEN),
    EC("*2147483648\r\n", E_MBLEN), EC("*9223372036854775807\r\n", E_MBLEN),
    EC("*9223372036854775808\r\n", E_MBLEN),
    EC("*99999999999999999999\r\n", E_MBLEN),
    EC("*-9223372036854775809\r\n", E_MBLEN),
    EC("*123456789012345678901\r\n", E_MBLEN),
    EC("*0000000000000000000001\r\n", E_MBLEN),
    /* Bulk lengths: $-1 is not a null here; at most 512 MiB. */
    EC("*1\r\n$-1\r\n", E_BLEN), EC("*1\r\n$-5\r\n", E_BLEN),
    EC("*1\r\n$+5\r\n", E_BLEN), EC("*1\r\n$01\r\n", E_BLEN),
    EC("*1\r\n$\r\n", E_BLEN), EC("*1\r\n$x\r\n", E_BLEN),
    EC("*1\r\n$1x\r\n", E_BLEN), EC("*1\r\n$ 1\r\n", E_BLEN),
    EC("*1\r\n$-0\r\n", E_BLEN), EC("*1\r\n$99999999999999999999\r\n", E_BLEN),
    EC("*1\r\n$536870913\r\n", E_BLEN),
    EC("*1\r\n$9223372036854775807\r\n", E_BLEN),
    EC("*2\r\n$1\r\na\r\n$-1\r\n", E_BLEN),
    /* The type byte, printed as is except CR/LF which become spaces. */
    EC("*1\r\n:5\r\n", E_GOT(":")), EC("*1\r\n\r\n", E_GOT(" ")),
    EC("*1\r\n\n\r\n", E_GOT(" ")), EC("*1\r\nfoo\r\n", E_GOT("f")),
    EC("*2\r\n$1\r\na\r\n*1\r\n", E_GOT("*")),
    EC("*1\r\n\xff\r\n", E_GOT("\xff")),
    /* No CRLF after a payload: the two bytes after it are skipped
     * whatever they are, and the next header is read from there. */
    EC("*2\r\n$1\r\nab$1\r\nc\r\n", E_GOT("1")),
    EC("*2\r\n$1\r\na$1\r\nc\r\n", E_GOT(" ")),
    /* Inline quoting. */
    EC("SET k \"v\r\n", E_QUOTES), EC("ECHO 'x\n", E_QUOTES),
};

static void test_protocol_errors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
        expect_error(error_cases[i].in, error_cases[i].len,
                     error_cases[i].msg);
}

static void test_mb_max_count_accepted(void **state)
{
    struct resp_parser p;

    (void)state;
    /* INT_MAX is accepted and costs nothing until arguments arrive. */
    resp_parser_init(&p, NULL);
    STEP(&p, "*2147483647\r\n", RESP_AGAIN, 1);
    assert_true(resp_parser_busy(&p));
    STEP(&p, "*2147483647\r\n$1\r\na\r\n", RESP_AGAIN, 1);
    resp_parser_free(&p);

    /* The type byte is only judged once its line is complete. */
    resp_parser_init(&p, NULL);
    STEP(&p, "*1\r\n:5", RESP_AGAIN, 1);
    STEP(&p, "*1\r\n:5\r", RESP_AGAIN, 1);
    STEP(&p, "*1\r\n:5\r\n", RESP_ERR, 0);
    resp_parser_free(&p);
}

/* Redis skips the byte after '\r' without looking at it, and the two bytes
 * after a bulk's payload likewise (checked against redis-server 7.0.15). */
static void test_mb_cr_quirks(void **state)
{
    struct resp_parser p;

    (void)state;
    resp_parser_init(&p, NULL);
    assert_int_equal(STEP(&p, "*1\rX$4\rXPINGxx", RESP_OK, 0), 14);
    ARGS(&p, "4:PING");
    assert_int_equal(STEP(&p, "*1\r\n$4\r\nPINGab*0\r\n", RESP_OK, 0), 14);
    ARGS(&p, "4:PING");
    /* '\r' as the last byte: wait for one more. */
    STEP(&p, "*1\r", RESP_AGAIN, 1);
    STEP(&p, "*1\r\n$4\r", RESP_AGAIN, 1);
    STEP(&p, "*1\r\n$4\r\nPING", RESP_AGAIN, 2);
    STEP(&p, "*1\r\n$4\r\nPING\r", RESP_AGAIN, 1);
    assert_int_equal(STEP(&p, "*1\r\n$4\r\nPING\r\n", RESP_OK, 0), 14);
    ARGS(&p, "4:PING");
    resp_parser_free(&p);
}

/* A NUL before a protocol line's end hides it (Redis uses strchr): the
 * command waits until the line limit trips.  NULs in payloads are fine. */
static void test_nul_hides_line_end(void **state)
{
    static const char mb[] = "*1\0\r\n$4\r\nPING\r\n";
    struct resp_parser p;
    struct sb big = {0};

    (void)state;
    resp_parser_init(&p, NULL);
    STEP(&p, "*1\0\r\n$4\r\nPING\r\n", RESP_AGAIN, 1);
    resp_parser_reset(&p);
    STEP(&p, "*1\r\n$4\0\r\nPING\r\n", RESP_AGAIN, 1);
    resp_parser_reset(&p);
    STEP(&p, "PI\0NG\r\n", RESP_AGAIN, 1);
    resp_parser_reset(&p);

    /* Keep feeding: exactly 64 KiB still waits, one more byte errors. */
    sb_add(&big, S(mb));
    while (big.len < 65536)
        sb_str(&big, "x");
    step(&p, big.p, big.len, RESP_AGAIN, 1);
    sb_str(&big, "x");
    step(&p, big.p, big.len, RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p), E_MBBIG);
    resp_parser_reset(&p);
    big.len = 0;
    sb_str(&big, "PI");
    while (big.len < 65537)
        sb_add(&big, "\0\n", 2);
    step(&p, big.p, big.len, RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p), E_INLBIG);
    resp_parser_free(&p);
    free(big.p);
}

static void test_limits(void **state)
{
    struct resp_limits lim = RESP_LIMITS_INIT;
    struct resp_parser p;

    (void)state;
    /* Default 512 MiB: exactly the limit is fine, one more is not. */
    resp_parser_init(&p, NULL);
    STEP(&p, "*1\r\n$536870912\r\n", RESP_AGAIN, 536870914);
    resp_parser_free(&p);
    expect_error(S("*1\r\n$536870913\r\n"), E_BLEN);

    lim.max_bulk_len = 10;
    lim.max_multibulk_len = 3;
    resp_parser_init(&p, &lim);
    STEP(&p, "*1\r\n$10\r\n0123456789\r\n", RESP_OK, 0);
    STEP(&p, "*3\r\n", RESP_AGAIN, 1);
    resp_parser_reset(&p);
    STEP(&p, "*1\r\n$11\r\n", RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p), E_BLEN);
    resp_parser_reset(&p);
    STEP(&p, "*4\r\n", RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p), E_MBLEN);

    /* Above INT_MAX is never accepted, whatever the configuration. */
    lim.max_multibulk_len = LLONG_MAX;
    resp_parser_set_limits(&p, &lim);
    resp_parser_reset(&p);
    STEP(&p, "*2147483648\r\n", RESP_ERR, 0);

    /* Before AUTH Redis allows 10 arguments and bulks of 16 KiB. */
    lim = (struct resp_limits)RESP_LIMITS_INIT;
    lim.unauthenticated = 1;
    resp_parser_set_limits(&p, &lim);
    resp_parser_reset(&p);
    STEP(&p, "*10\r\n$16384\r\n", RESP_AGAIN, 16386);
    resp_parser_reset(&p);
    STEP(&p, "*11\r\n", RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p),
                        "ERR Protocol error: unauthenticated multibulk length");
    resp_parser_reset(&p);
    STEP(&p, "*1\r\n$16385\r\n", RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p),
                        "ERR Protocol error: unauthenticated bulk length");
    /* After AUTH the connection lifts the flag. */
    lim.unauthenticated = 0;
    resp_parser_set_limits(&p, &lim);
    resp_parser_reset(&p);
    STEP(&p, "*11\r\n$16385\r\n", RESP_AGAIN, 16387);
    resp_parser_free(&p);
}

/* The 64 KiB limits apply while no line end has been seen. */
static void test_too_big_lines(void **state)
{
    struct resp_limits lim = RESP_LIMITS_INIT;
    struct resp_parser p;
    struct sb s = {0};

    (void)state;
    resp_parser_init(&p, NULL);
    sb_str(&s, "*");
    while (s.len < 65536)
        sb_str(&s, "1");
    step(&p, s.p, s.len, RESP_AGAIN, 1);
    sb_str(&s, "1");
    step(&p, s.p, s.len, RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p), E_MBBIG);

    /* Bulk count line: measured from the line start, not the command. */
    resp_parser_reset(&p);
    s.len = 0;
    sb_str(&s, "*2\r\n$1\r\na\r\n$");
    while (s.len - 11 < 65536)
        sb_str(&s, "9");
    step(&p, s.p, s.len, RESP_AGAIN, 1);
    sb_str(&s, "9");
    step(&p, s.p, s.len, RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p), E_BBIG);

    /* The garbage first byte is not judged before the limit trips. */
    s.len = 0;
    sb_str(&s, "*1\r\nX");
    while (s.len < 4 + 65537)
        sb_str(&s, "y");
    expect_error(s.p, s.len, E_BBIG);

    resp_parser_reset(&p);
    s.len = 0;
    while (s.len < 65536)
        sb_str(&s, "a");
    step(&p, s.p, s.len, RESP_AGAIN, 1);
    sb_str(&s, "a");
    step(&p, s.p, s.len, RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p), E_INLBIG);

    /* A long line that arrives complete is accepted, as in Redis. */
    resp_parser_reset(&p);
    s.len = 0;
    sb_str(&s, "ECHO ");
    while (s.len < 100005)
        sb_str(&s, "b");
    sb_str(&s, "\r\n");
    assert_int_equal(step(&p, s.p, s.len, RESP_OK, 0), s.len);
    assert_int_equal(p.argc, 2);
    assert_int_equal(p.argv[1].len, 100000);
    /* Its scratch is given back before the next command. */
    STEP(&p, "PING\n", RESP_OK, 0);
    assert_true(p.scratch_cap <= RESP_DEFAULT_MAX_INLINE);
    resp_parser_free(&p);

    /* A smaller configured limit. */
    lim.max_inline_len = 8;
    resp_parser_init(&p, &lim);
    STEP(&p, "12345678", RESP_AGAIN, 1);
    STEP(&p, "123456789", RESP_ERR, 0);
    assert_string_equal(resp_parser_error(&p), E_INLBIG);
    resp_parser_free(&p);
    free(s.p);
}

static void test_error_is_sticky(void **state)
{
    struct resp_parser p;

    (void)state;
    resp_parser_init(&p, NULL);
    STEP(&p, "*x\r\n", RESP_ERR, 0);
    assert_int_equal(STEP(&p, "PING\r\n", RESP_ERR, 0), 0);
    assert_string_equal(resp_parser_error(&p), E_MBLEN);
    assert_int_equal(resp_parser_need(&p), 0);
    assert_false(resp_parser_busy(&p));
    resp_parser_reset(&p);
    assert_null(resp_parser_error(&p));
    STEP(&p, "PING\r\n", RESP_OK, 0);
    ARGS(&p, "4:PING");
    resp_parser_free(&p);
}

static void test_need_hint(void **state)
{
    struct sb s = {0};
    struct resp_parser p;
    size_t hdr;

    (void)state;
    resp_parser_init(&p, NULL);
    step(&p, "", 0, RESP_AGAIN, 1);
    sb_str(&s, "*2\r\n$3\r\nSET\r\n$100000\r\n");
    hdr = s.len;
    step(&p, s.p, s.len, RESP_AGAIN, 100002);
    while (s.len < hdr + 1000)
        sb_str(&s, "v");
    step(&p, s.p, s.len, RESP_AGAIN, 99002);
    while (s.len < hdr + 100000)
        sb_str(&s, "v");
    step(&p, s.p, s.len, RESP_AGAIN, 2);
    sb_str(&s, "\r\n");
    assert_int_equal(step(&p, s.p, s.len, RESP_OK, 0), s.len);
    assert_int_equal(p.argv[1].len, 100000);
    assert_int_equal(resp_parser_need(&p), 0);
    resp_parser_free(&p);
    free(s.p);
}

/* ------------------------------------------------------------------------
 * inline parsing
 * ---------------------------------------------------------------------- */

/* One inline line, the expected result and the expected arguments in the
 * form assert_args() takes ("3:SET1:k").  RESP_ERR means unbalanced quotes.
 * The odd ones were checked against redis-server 7.0.15. */
struct inline_case {
    const char *in;
    size_t in_len;
    int rc;
    const char *args;
    size_t args_len;
};

#define IC(in, rc, args) { in, sizeof(in) - 1, rc, args, sizeof(args) - 1 }

static const struct inline_case inline_cases[] = {
    IC("SET k v\r\n", RESP_OK, "3:SET1:k1:v"),
    IC("SET k v\n", RESP_OK, "3:SET1:k1:v"),
    IC("  SET   k\tv  \r\n", RESP_OK, "3:SET1:k1:v"),
    IC("SET k \"hello world\"\r\n", RESP_OK, "3:SET1:k11:hello world"),
    IC("ECHO \"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"\\z\"\n", RESP_OK,
       "4:ECHO10:AJ\n\r\t\b\a\\\"z"),
    IC("ECHO \"\\xZZ\\x4\"\n", RESP_OK, "4:ECHO5:xZZx4"),
    IC("ECHO \"\\x00\\xff\"\n", RESP_OK, "4:ECHO2:\0\xff"),
    IC("ECHO 'it\\'s'\n", RESP_OK, "4:ECHO4:it's"),
    IC("ECHO 'a\\nb'\n", RESP_OK, "4:ECHO4:a\\nb"),
    IC("ECHO 'a\\\\b'\n", RESP_OK, "4:ECHO4:a\\\\b"),
    IC("ECHO \"\" ''\n", RESP_OK, "4:ECHO0:0:"),
    IC("a\"b c\"\n", RESP_OK, "4:ab c"), IC("a'b c'\n", RESP_OK, "4:ab c"),
    IC("\"a\"\tb\n", RESP_OK, "1:a1:b"), IC("\"a\"\vb\n", RESP_OK, "1:a1:b"),
    IC("a\vb\n", RESP_OK, "3:a\vb"), IC("\v\fa\n", RESP_OK, "1:a"),
    IC("a\rb\r\n", RESP_OK, "1:a1:b"), IC("\"a\rb\"\r\n", RESP_OK, "3:a\rb"),
    IC("\xff\x80 x\n", RESP_OK, "2:\xff\x80" "1:x"),
    IC("$3\r\n", RESP_OK, "2:$3"), IC(":1\r\n", RESP_OK, "2::1"),
    IC("\"a\"\n", RESP_OK, "1:a"), IC("a\"\"b\n", RESP_ERR, ""),
    IC("\"foo\n", RESP_ERR, ""), IC("'foo\n", RESP_ERR, ""),
    IC("\"foo\"bar\n", RESP_ERR, ""), IC("'a'b\n", RESP_ERR, ""),
    IC("\"a\\\"\n", RESP_ERR, ""), IC("\"abc\\\n", RESP_ERR, ""),
    IC("'a\\'\n", RESP_ERR, ""), IC("SET k \"v\r\n", RESP_ERR, ""),
    IC("\r\n", RESP_EMPTY, ""), IC("\n", RESP_EMPTY, ""),
    IC("   \r\n", RESP_EMPTY, ""), IC("\t\v\f\n", RESP_EMPTY, ""),
    IC("\r\r\n", RESP_EMPTY, ""),
};

static void test_inline_cases(void **state)
{
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(inline_cases) / sizeof(inline_cases[0]); k++) {
        const struct inline_case *c = &inline_cases[k];
        struct resp_parser p;
        size_t used;
        int rc = parse1(&p, c->in, c->in_len, &used);

        if (rc != c->rc)
            fail_msg("case %zu (%s): got %d want %d", k, c->in, rc, c->rc);
        if (rc == RESP_ERR) {
            assert_string_equal(resp_parser_error(&p), E_QUOTES);
        } else {
            assert_int_equal(used, c->in_len);
            assert_args(&p, c->args, c->args_len);
        }
        resp_parser_free(&p);
    }
}

static void test_inline_incomplete(void **state)
{
    struct resp_parser p;

    (void)state;
    resp_parser_init(&p, NULL);
    STEP(&p, "PING", RESP_AGAIN, 1);
    STEP(&p, "PING\r", RESP_AGAIN, 1);
    assert_int_equal(STEP(&p, "PING\r\nPING", RESP_OK, 0), 6);
    ARGS(&p, "4:PING");
    STEP(&p, "PING", RESP_AGAIN, 1);
    assert_int_equal(STEP(&p, "PING\n", RESP_OK, 0), 5);
    ARGS(&p, "4:PING");
    resp_parser_free(&p);
}

/* ------------------------------------------------------------------------
 * pipelines and chunking
 * ---------------------------------------------------------------------- */

/* A stream with every kind of command: multibulk, inline with quoting,
 * empty lines and counts, binary payloads, the CR quirk, a 300-byte bulk. */
static struct sb make_stream(void)
{
    static const char head[] =
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n" "PING\r\n" "\r\n"
        "*0\r\n" "*-1\r\n" "  set  'a b'  \"c\\x41\\n\"\n"
        "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n" "*1\r\n$4\r\nPINGxx"
        "*2\r\n$3\r\nGET\r\n$5\r\na\0\r\nb\r\n" "*1\rX$4\rXPING\r\n"
        "ECHO \"\"\n" "\n" "*1\r\n$300\r\n";
    static const char tail[] =
        "\r\n*3\r\n$1\r\n\r\r\n$1\r\n\n\r\n$1\r\n\0\r\n" "*1\r\n$1\r\n\0\r\n";
    struct sb s = {0};
    int i;

    sb_add(&s, S(head));
    for (i = 0; i < 300; i++)
        sb_fmt(&s, "%c", 'a' + i % 26);
    sb_add(&s, S(tail));
    return s;
}

/* What make_stream() must give, up to its 300-byte bulk. */
static const char stream_expected[] =
    "OK 3 [3:SET] [3:key] [5:value]\n" "OK 1 [4:PING]\n"
    "EMPTY\n" "EMPTY\n" "EMPTY\n"
    "OK 3 [3:set] [3:a b] [3:cA\n]\n" "OK 2 [4:ECHO] [0:]\n"
    "OK 1 [4:PING]\n" "OK 2 [3:GET] [5:a\0\r\nb]\n" "OK 1 [4:PING]\n"
    "OK 2 [4:ECHO] [0:]\n" "EMPTY\n";

/* Compares two transcripts, with a useful message on mismatch. */
static void same_transcript(const struct sb *a, const struct sb *b,
                            const char *what, size_t arg)
{
    if (a->len != b->len || memcmp(a->p, b->p, a->len) != 0)
        fail_msg("transcript differs (%s %zu):\n%s\n---\n%s", what, arg,
                 a->p, b->p);
}

/* Splitting the stream anywhere must not change the transcript: in two at
 * every byte, in fixed reads of 1..7 bytes, in 50 random patterns. */
static void check_all_chunkings(const char *data, size_t n,
                                const struct sb *want)
{
    static const char *const what[] = { "", "split at", "reads of",
                                        "random seed" };
    struct chunking ck = {0};
    size_t i;

    for (ck.mode = 1; ck.mode <= 3; ck.mode++) {
        size_t runs = ck.mode == 1 ? n - 1 : ck.mode == 2 ? 7 : 50;
        for (i = 1; i <= runs; i++) {
            struct sb t;
            ck.cut = i;
            ck.seed = (unsigned)i;
            t = feed(data, n, ck, NULL);
            same_transcript(want, &t, what[ck.mode], i);
            free(t.p);
        }
    }
}

static void test_stream(void **state)
{
    struct sb s = make_stream();
    struct chunking whole = {0};
    struct sb t = feed(s.p, s.len, whole, NULL);
    struct sb want = {0};
    int i;

    (void)state;
    sb_add(&want, S(stream_expected));
    sb_str(&want, "OK 1 [300:");
    for (i = 0; i < 300; i++)
        sb_fmt(&want, "%c", 'a' + i % 26);
    sb_str(&want, "]\n");
    sb_add(&want, S("OK 3 [1:\r] [1:\n] [1:\0]\n" "OK 1 [1:\0]\n"));
    sb_str(&want, "END idle 0\n");
    same_transcript(&want, &t, "whole", 0);
    check_all_chunkings(s.p, s.len, &want);
    free(want.p);
    free(t.p);
    free(s.p);
}

/* Streams that end in an error or mid-command behave the same way too. */
static void test_stream_endings(void **state)
{
    static const char *const tails[] = {
        "*1\r\n:x\r\nPING\r\n",
        "SET \"unterminated\r\nPING\r\n",
        "*2\r\n$3\r\nGE",
        "*2\r\n$3\r\nGET\r\n$10\r\nabc",
        "*1x\r\n",
        "*1\r\n$-1\r\n",
        "PI\0NG\r\nPING\r\n",
    };
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
        struct sb s = make_stream();
        struct chunking whole = {0};
        struct sb want;
        size_t tl = strlen(tails[k]);

        if (k == 6)
            tl = 13;             /* the tail with a NUL */
        sb_add(&s, tails[k], tl);
        want = feed(s.p, s.len, whole, NULL);
        /* The stream's commands all come out before the ending. */
        assert_true(want.len > sizeof(stream_expected) - 1);
        assert_memory_equal(want.p, stream_expected,
                            sizeof(stream_expected) - 1);
        if (k <= 1 || k == 4 || k == 5)
            assert_non_null(memmem(want.p, want.len, S("\nEND error 0\n")));
        else
            assert_non_null(memmem(want.p, want.len, S("\nEND busy ")));
        check_all_chunkings(s.p, s.len, &want);
        free(want.p);
        free(s.p);
    }
}

/*
 * The parser has a one-pass path for a whole multibulk command in the
 * buffer and the full state machine for everything else.  Fed whole, most
 * commands take the first; fed a byte at a time, all take the second: so
 * their transcripts must agree on every input.  Here: 3000 streams of valid
 * commands with one to three mutations each (bytes that matter to headers,
 * replaced, inserted or deleted), with and without the unauthenticated
 * limits.
 */
static void test_mutated_commands_agree(void **state)
{
    static const char hot[] = "0123456789-+$*\r\n\0 x";
    struct resp_limits unauth = RESP_LIMITS_INIT;
    unsigned seed = 12345;
    int k;

#define RND(n) (seed = seed * 1103515245u + 12345u, (seed >> 8) % (n))
    (void)state;
    unauth.unauthenticated = 1;
    for (k = 0; k < 3000; k++) {
        struct sb s = {0}, want, t;
        struct chunking whole = {0}, bytes = {2, 1, 0}, rnd = {3, 0, 0};
        int ncmd = 1 + (int)RND(3), c, m;

        for (c = 0; c < ncmd; c++) {
            int argc = 1 + (int)RND(12), a;

            sb_fmt(&s, "*%d\r\n", argc);
            for (a = 0; a < argc; a++) {
                int len = RND(4) == 0 ? (int)RND(40) : (int)RND(6), i;

                sb_fmt(&s, "$%d\r\n", len);
                for (i = 0; i < len; i++)
                    sb_fmt(&s, "%c", 'a' + (int)RND(26));
                sb_str(&s, "\r\n");
            }
        }
        for (m = 1 + (int)RND(3); m > 0 && s.len > 1; m--) {
            size_t at = RND((unsigned)s.len);
            char ch = hot[RND(sizeof(hot) - 1)];

            switch (RND(3)) {
            case 0:
                s.p[at] = ch;
                break;
            case 1:
                memmove(s.p + at, s.p + at + 1, s.len - at - 1);
                s.len--;
                break;
            default:
                sb_add(&s, "", 1);
                memmove(s.p + at + 1, s.p + at, s.len - at - 1);
                s.p[at] = ch;
                break;
            }
        }
        rnd.seed = (unsigned)k;
        want = feed(s.p, s.len, whole, k % 2 ? &unauth : NULL);
        t = feed(s.p, s.len, bytes, k % 2 ? &unauth : NULL);
        same_transcript(&want, &t, "byte reads, stream", (size_t)k);
        free(t.p);
        t = feed(s.p, s.len, rnd, k % 2 ? &unauth : NULL);
        same_transcript(&want, &t, "random reads, stream", (size_t)k);
        free(t.p);
        free(want.p);
        free(s.p);
    }
#undef RND
}

/*
 * A command with 200000 arguments fed 7 bytes at a time: the parser must
 * resume where it stopped (a rescan from the command start on every read
 * would take hours here, not milliseconds), and the result must be exact.
 */
static void test_many_args_small_reads(void **state)
{
    enum { N = 200000 };
    struct sb s = {0};
    struct resp_parser p;
    char *buf = NULL;
    size_t blen = 0, cap = 0, off = 0, used = 0;
    clock_t t0 = clock();
    int rc = RESP_AGAIN, i;

    (void)state;
    sb_fmt(&s, "*%d\r\n", N);
    for (i = 0; i < N; i++) {
        char tmp[16];
        int n = snprintf(tmp, sizeof(tmp), "%d", i);
        sb_fmt(&s, "$%d\r\n%s\r\n", n, tmp);
    }
    resp_parser_init(&p, NULL);
    while (off < s.len) {
        size_t c = s.len - off < 7 ? s.len - off : 7;
        if (blen + c > cap) {           /* grow like a connection would */
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        memcpy(buf + blen, s.p + off, c);
        blen += c;
        off += c;
        rc = resp_parse(&p, buf, blen, &used);
        if (off < s.len)
            assert_int_equal(rc, RESP_AGAIN);
    }
    assert_int_equal(rc, RESP_OK);
    assert_int_equal(used, s.len);
    assert_int_equal(p.argc, N);
    for (i = 0; i < N; i += 997) {
        char tmp[16];
        int n = snprintf(tmp, sizeof(tmp), "%d", i);
        assert_arg(&p, i, tmp, (size_t)n);
    }
    assert_arg(&p, N - 1, S("199999"));
    /* Generous bound: quadratic behaviour would blow it by orders. */
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 30.0);

    /* The outsized argv is trimmed once small commands follow. */
    STEP(&p, "*1\r\n$4\r\nPING\r\n", RESP_OK, 0);
    STEP(&p, "*1\r\n$4\r\nPING\r\n", RESP_OK, 0);
    assert_true(p.argv_cap <= 1024);
    resp_parser_free(&p);
    free(buf);
    free(s.p);
}

/* A big bulk fed in small reads through a moving buffer. */
static void test_big_bulk_small_reads(void **state)
{
    enum { N = 1 << 20 };
    struct sb s = {0};
    struct resp_parser p;
    char *buf = NULL;
    size_t blen = 0, off = 0, used = 0;
    int rc = RESP_AGAIN, i;

    (void)state;
    sb_fmt(&s, "*2\r\n$3\r\nSET\r\n$%d\r\n", N);
    for (i = 0; i < N; i++)
        sb_add(&s, &"0123456789abcdef"[i & 15], 1);
    sb_str(&s, "\r\n");
    resp_parser_init(&p, NULL);
    while (off < s.len) {
        size_t c = s.len - off < 4093 ? s.len - off : 4093;
        char *nb = malloc(blen + c);          /* always a new address */
        assert_non_null(nb);
        if (blen)
            memcpy(nb, buf, blen);
        memcpy(nb + blen, s.p + off, c);
        free(buf);
        buf = nb;
        blen += c;
        off += c;
        rc = resp_parse(&p, buf, blen, &used);
        if (rc == RESP_AGAIN)
            assert_int_equal(resp_parser_need(&p), s.len - blen);
    }
    assert_int_equal(rc, RESP_OK);
    assert_int_equal(p.argc, 2);
    assert_int_equal(p.argv[1].len, N);
    assert_memory_equal(p.argv[1].ptr, s.p + s.len - N - 2, N);
    assert_ptr_equal(p.argv[1].ptr, buf + s.len - N - 2);
    resp_parser_free(&p);
    free(buf);
    free(s.p);
}

/* Many commands in one buffer, parsed one after another. */
static void test_pipeline(void **state)
{
    struct sb s = {0};
    struct resp_parser p;
    size_t off = 0, used;
    char key[32];
    int i;

    (void)state;
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        if (i % 3 == 0)
            sb_fmt(&s, "INCR %s\r\n", key);
        else
            sb_fmt(&s, "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$1\r\nv\r\n",
                   strlen(key), key);
    }
    resp_parser_init(&p, NULL);
    for (i = 0; i < 1000; i++) {
        used = step(&p, s.p + off, s.len - off, RESP_OK, 0);
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(p.argc, i % 3 == 0 ? 2 : 3);
        assert_arg(&p, 1, key, strlen(key));
        off += used;
    }
    assert_int_equal(off, s.len);
    step(&p, s.p + off, 0, RESP_AGAIN, 1);

    /* Inline lines with many arguments grow argv too. */
    s.len = 0;
    sb_str(&s, "DEL");
    for (i = 0; i < 5000; i++)
        sb_fmt(&s, " '%d'", i);
    sb_str(&s, "\r\n");
    assert_int_equal(step(&p, s.p, s.len, RESP_OK, 0), s.len);
    assert_int_equal(p.argc, 5001);
    assert_arg(&p, 5000, S("4999"));
    resp_parser_free(&p);
    free(s.p);
}

/* A failed allocation loses nothing: the same call again succeeds. */
static void test_enomem_is_retryable(void **state)
{
    static const char mb[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    struct sb s = {0};
    struct resp_parser p;
    int i;

    (void)state;
    resp_parser_init(&p, NULL);
    resp_debug_fail_alloc(1);
    step(&p, S(mb), RESP_ENOMEM, 0);
    step(&p, S(mb), RESP_OK, 0);
    ARGS(&p, "3:SET1:k1:v");
    resp_parser_free(&p);

    /* Failing the second growth, in the middle of a 40-arg command. */
    sb_str(&s, "*40\r\n");
    for (i = 0; i < 40; i++)
        sb_fmt(&s, "$2\r\n%02d\r\n", i);
    resp_parser_init(&p, NULL);
    resp_debug_fail_alloc(2);
    step(&p, s.p, s.len, RESP_ENOMEM, 0);
    step(&p, s.p, s.len, RESP_OK, 0);
    assert_int_equal(p.argc, 40);
    assert_arg(&p, 39, S("39"));
    resp_parser_free(&p);

    /* Inline: scratch first, then argv. */
    resp_parser_init(&p, NULL);
    resp_debug_fail_alloc(1);
    STEP(&p, "SET k \"v\"\r\n", RESP_ENOMEM, 0);
    resp_debug_fail_alloc(2);
    STEP(&p, "SET k \"v\"\r\n", RESP_ENOMEM, 0);
    assert_true(p.scratch_cap > 0 && p.argv_cap == 0);
    STEP(&p, "SET k \"v\"\r\n", RESP_OK, 0);
    ARGS(&p, "3:SET1:k1:v");
    resp_debug_fail_alloc(0);
    resp_parser_free(&p);
    free(s.p);
}

/* ------------------------------------------------------------------------
 * numbers
 * ---------------------------------------------------------------------- */

static void test_str2ll(void **state)
{
    static const struct { const char *s; int ok; long long v; } cases[] = {
        { "0", 1, 0 }, { "1", 1, 1 }, { "-1", 1, -1 }, { "10", 1, 10 },
        { "9223372036854775807", 1, LLONG_MAX },
        { "-9223372036854775808", 1, LLONG_MIN },
        { "9223372036854775808", 0, 0 }, { "-9223372036854775809", 0, 0 },
        { "18446744073709551615", 0, 0 }, { "18446744073709551616", 0, 0 },
        { "99999999999999999999", 0, 0 }, { "", 0, 0 }, { "-", 0, 0 },
        { "-0", 0, 0 }, { "00", 0, 0 }, { "01", 0, 0 }, { "+1", 0, 0 },
        { " 1", 0, 0 }, { "1 ", 0, 0 }, { "1a", 0, 0 }, { "a", 0, 0 },
        { "--1", 0, 0 }, { "1-", 0, 0 }, { "1.5", 0, 0 },
        { "000000000000000000001", 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long v = 42;
        int ok = resp_str2ll(cases[i].s, strlen(cases[i].s), &v);
        if (ok != cases[i].ok)
            fail_msg("str2ll(\"%s\") = %d", cases[i].s, ok);
        if (ok)
            assert_int_equal(v, cases[i].v);
    }
    /* Lengths are honoured: "12" out of "123". */
    {
        long long v;
        assert_true(resp_str2ll("123", 2, &v));
        assert_int_equal(v, 12);
    }
}

static void check_ll2str(long long v)
{
    char want[32], got[32];
    int n = snprintf(want, sizeof(want), "%lld", v);
    size_t m = resp_ll2str(got, v);
    long long back;

    assert_int_equal(m, (size_t)n);
    assert_memory_equal(got, want, m);
    assert_true(resp_str2ll(got, m, &back));
    assert_int_equal(back, v);
}

static void test_ll2str(void **state)
{
    unsigned long long p10 = 1, x = 88172645463325252ULL;
    char buf[32];
    int i;

    (void)state;
    check_ll2str(0);
    check_ll2str(LLONG_MAX);
    check_ll2str(LLONG_MIN);
    check_ll2str(LLONG_MIN + 1);
    for (i = 0; i < 19; i++, p10 *= 10) {
        check_ll2str((long long)p10);
        check_ll2str((long long)p10 - 1);
        check_ll2str((long long)p10 + 1);
        check_ll2str(-(long long)p10);
        check_ll2str(-(long long)p10 + 1);
    }
    for (i = 0; i < 100000; i++) {      /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_ll2str((long long)x);
        check_ll2str((long long)(x >> (i % 64)));
    }
    assert_int_equal(resp_ull2str(buf, ULLONG_MAX), 20);
    assert_memory_equal(buf, "18446744073709551615", 20);
}

/* ------------------------------------------------------------------------
 * encoder
 * ---------------------------------------------------------------------- */

static void expect_out(struct rbuf *b, const char *want, size_t n)
{
    assert_false(b->failed);
    if (b->len != n || memcmp(b->data, want, n) != 0)
        fail_msg("encoded %zu bytes '%.*s', want %zu bytes '%.*s'", b->len,
                 (int)b->len, b->data ? b->data : "", n, (int)n, want);
    rbuf_clear(b);
}

#define EXPECT(b, lit) expect_out((b), (lit), sizeof(lit) - 1)
/* One encoder call and the exact bytes it must produce into b. */
#define ENC(call, lit) do { call; EXPECT(&b, lit); } while (0)

static void test_enc_simple_and_errors(void **state)
{
    struct rbuf b;
    struct resp_out o = { &b, 2 };

    (void)state;
    rbuf_init(&b);
    ENC(resp_add_simple(&o, "OK"), "+OK\r\n");
    ENC(resp_add_simple(&o, ""), "+\r\n");
    ENC(resp_add_simple_len(&o, "a\r\nb", 4), "+a  b\r\n");
    ENC(resp_add_error(&o, "ERR no such key"), "-ERR no such key\r\n");
    ENC(resp_add_error(&o, "WRONGTYPE Operation against a key"),
        "-WRONGTYPE Operation against a key\r\n");
    ENC(resp_add_error(&o, "ERR bad\r\nthing\n"), "-ERR bad  thing \r\n");
    ENC(resp_add_error_len(&o, "ERR x\0y", 7), "-ERR x\0y\r\n");
    ENC(resp_add_error_fmt(&o, "ERR unknown command '%s', with args "
                           "beginning with: ", "foo"),
        "-ERR unknown command 'foo', with args beginning with: \r\n");
    /* Formatted: CR/LF trimmed at both ends, mapped inside. */
    ENC(resp_add_error_fmt(&o, "\r\nERR %s\r\n\n", "a\nb\rc"),
        "-ERR a b c\r\n");
    ENC(resp_add_error_fmt(&o, "%s", ""), "-\r\n");
    o.proto = 3;
    ENC(resp_add_error_fmt(&o, "ERR %d", 7), "-ERR 7\r\n");
    rbuf_free(&b);
}

/* A formatted error longer than the free space: the slow path. */
static void test_enc_long_error(void **state)
{
    struct rbuf b;
    struct resp_out o = { &b, 2 };
    struct sb want = {0}, arg = {0};
    char xs[700];
    int i;

    (void)state;
    rbuf_init(&b);
    for (i = 0; i < 10000; i++)
        sb_add(&arg, i % 100 == 99 ? "\n" : "x", 1);
    resp_add_simple(&o, "OK");          /* the error does not start at 0 */
    resp_add_error_fmt(&o, "ERR long: %s", arg.p);
    sb_str(&want, "+OK\r\n-ERR long: ");
    for (i = 0; i < 9999; i++)          /* the final LF is trimmed */
        sb_add(&want, i % 100 == 99 ? " " : "x", 1);
    sb_str(&want, "\r\n");
    expect_out(&b, want.p, want.len);
    /* And every length around the initial free space. */
    memset(xs, 'x', sizeof(xs));
    for (i = 100; i < 700; i++) {
        rbuf_free(&b);
        resp_add_error_fmt(&o, "ERR %.*s", i, xs);
        assert_int_equal(b.len, (size_t)i + 7);
        assert_memory_equal(b.data, "-ERR x", 6);
        assert_memory_equal(b.data + b.len - 2, "\r\n", 2);
    }
    rbuf_free(&b);
    free(want.p);
    free(arg.p);
}

static void test_enc_integers_and_bulks(void **state)
{
    struct rbuf b;
    struct resp_out o = { &b, 2 };

    (void)state;
    rbuf_init(&b);
    for (o.proto = 2; o.proto <= 3; o.proto++) {
        ENC(resp_add_int(&o, 0), ":0\r\n");
        ENC(resp_add_int(&o, -1), ":-1\r\n");
        ENC(resp_add_int(&o, LLONG_MAX), ":9223372036854775807\r\n");
        ENC(resp_add_int(&o, LLONG_MIN), ":-9223372036854775808\r\n");
        ENC(resp_add_bulk(&o, "hello", 5), "$5\r\nhello\r\n");
        ENC(resp_add_bulk(&o, "", 0), "$0\r\n\r\n");
        ENC(resp_add_bulk(&o, NULL, 0), "$0\r\n\r\n");
        ENC(resp_add_bulk(&o, "a\0\r\n", 4), "$4\r\na\0\r\n\r\n");
        ENC(resp_add_bulk_cstr(&o, "abc"), "$3\r\nabc\r\n");
        ENC(resp_add_bulk_ll(&o, -12345), "$6\r\n-12345\r\n");
        ENC(resp_add_bulk_ll(&o, LLONG_MIN),
            "$20\r\n-9223372036854775808\r\n");
        ENC(resp_add_array(&o, 0), "*0\r\n");
        ENC(resp_add_array(&o, 1234567), "*1234567\r\n");
    }
    rbuf_free(&b);
}

static void test_enc_proto_dependent(void **state)
{
    struct rbuf b;
    struct resp_out o2 = { &b, 2 }, o3 = { &b, 3 };

    (void)state;
    rbuf_init(&b);
    ENC(resp_add_null(&o2), "$-1\r\n");
    ENC(resp_add_null(&o3), "_\r\n");
    ENC(resp_add_null_array(&o2), "*-1\r\n");
    ENC(resp_add_null_array(&o3), "_\r\n");
    ENC(resp_add_bulk_cstr(&o2, NULL), "$-1\r\n");
    ENC(resp_add_bulk_cstr(&o3, NULL), "_\r\n");
    ENC(resp_add_map(&o2, 3), "*6\r\n");
    ENC(resp_add_map(&o3, 3), "%3\r\n");
    ENC(resp_add_map(&o2, 0), "*0\r\n");
    ENC(resp_add_set(&o2, 4), "*4\r\n");
    ENC(resp_add_set(&o3, 4), "~4\r\n");
    ENC(resp_add_push(&o2, 3), "*3\r\n");
    ENC(resp_add_push(&o3, 3), ">3\r\n");
    ENC(resp_add_bool(&o2, 1), ":1\r\n");
    ENC(resp_add_bool(&o2, 0), ":0\r\n");
    ENC(resp_add_bool(&o3, 7), "#t\r\n");
    ENC(resp_add_bool(&o3, 0), "#f\r\n");
    ENC(resp_add_verbatim(&o2, "hello", 5, "txt"), "$5\r\nhello\r\n");
    ENC(resp_add_verbatim(&o3, "hello", 5, "txt"), "=9\r\ntxt:hello\r\n");
    ENC(resp_add_verbatim(&o3, "# x", 3, "md"), "=7\r\nmd :# x\r\n");
    ENC(resp_add_verbatim(&o3, "", 0, ""), "=4\r\n   :\r\n");
    ENC(resp_add_verbatim(&o3, "a", 1, "markdown"), "=5\r\nmar:a\r\n");
    ENC(resp_add_bignum(&o2, "123456789012345678901234567890", 30),
        "$30\r\n123456789012345678901234567890\r\n");
    ENC(resp_add_bignum(&o3, "-12345678901234567890", 21),
        "(-12345678901234567890\r\n");
    rbuf_free(&b);
}

/* Doubles exactly as Redis 7.0's addReplyDouble() (verified against
 * redis-server for 1.1, -inf and 1e300 via ZSCORE). */
static void test_enc_double(void **state)
{
    static const struct { double d; const char *s; } cases[] = {
        { 1.1, "1.1000000000000001" }, { 0.0, "0" }, { -0.0, "-0" },
        { 1e300, "1.0000000000000001e+300" }, { 3.0, "3" }, { -1.5, "-1.5" },
        { 1e-5, "1.0000000000000001e-05" }, { 0.1, "0.10000000000000001" },
        { 1e16, "10000000000000000" }, { 1e17, "1e+17" },
        { DBL_MAX, "1.7976931348623157e+308" },
        { 5e-324, "4.9406564584124654e-324" },
        { INFINITY, "inf" }, { -INFINITY, "-inf" },
        { NAN, "nan" }, { -NAN, "-nan" },           /* glibc's spelling */
    };
    struct rbuf b;
    struct resp_out o2 = { &b, 2 }, o3 = { &b, 3 };
    size_t i;

    (void)state;
    rbuf_init(&b);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[64];
        int n;

        resp_add_double(&o2, cases[i].d);
        n = snprintf(want, sizeof(want), "$%zu\r\n%s\r\n",
                     strlen(cases[i].s), cases[i].s);
        expect_out(&b, want, (size_t)n);
        resp_add_double(&o3, cases[i].d);
        n = snprintf(want, sizeof(want), ",%s\r\n", cases[i].s);
        expect_out(&b, want, (size_t)n);
    }
    rbuf_free(&b);
}

/* An empty deferred aggregate of the given kind, closed with count n. */
#define DEFER(kind, n) \
    (h = resp_add_deferred(&o), resp_set_deferred_##kind(&o, h, (n)))

static void test_enc_deferred(void **state)
{
    struct rbuf b;
    struct resp_out o = { &b, 2 };
    struct sb want = {0};
    size_t h, h2;
    int i;

    (void)state;
    rbuf_init(&b);

    /* Empty, and a single-digit count: the slot fits exactly. */
    ENC(DEFER(array, 0), "*0\r\n");
    resp_add_simple(&o, "before");
    h = resp_add_deferred(&o);
    resp_add_int(&o, 1);
    resp_add_bulk(&o, "x", 1);
    resp_add_null(&o);
    resp_set_deferred_array(&o, h, 3);
    resp_add_simple(&o, "after");
    EXPECT(&b, "+before\r\n*3\r\n:1\r\n$1\r\nx\r\n$-1\r\n+after\r\n");

    /* Two- and five-digit counts move the tail. */
    h = resp_add_deferred(&o);
    for (i = 0; i < 12; i++)
        resp_add_int(&o, i);
    resp_set_deferred_array(&o, h, 12);
    sb_str(&want, "*12\r\n");
    for (i = 0; i < 12; i++)
        sb_fmt(&want, ":%d\r\n", i);
    expect_out(&b, want.p, want.len);
    want.len = 0;
    h = resp_add_deferred(&o);
    for (i = 0; i < 12345; i++)
        resp_add_bulk_ll(&o, i);
    resp_set_deferred_set(&o, h, 12345);
    sb_str(&want, "*12345\r\n");
    for (i = 0; i < 12345; i++) {
        char tmp[16];
        int n = snprintf(tmp, sizeof(tmp), "%d", i);
        sb_fmt(&want, "$%d\r\n%s\r\n", n, tmp);
    }
    expect_out(&b, want.p, want.len);
    want.len = 0;

    /* Maps double their count in RESP2; sets and pushes keep theirs. */
    h = resp_add_deferred(&o);
    for (i = 0; i < 6; i++) {
        resp_add_bulk(&o, "f", 1);
        resp_add_int(&o, i);
    }
    resp_set_deferred_map(&o, h, 6);
    assert_memory_equal(b.data, "*12\r\n$1\r\nf\r\n:0\r\n", 16);
    assert_int_equal(b.len, 5 + 6 * (7 + 4));
    rbuf_clear(&b);
    ENC(DEFER(set, 2), "*2\r\n");
    ENC(DEFER(push, 3), "*3\r\n");
    o.proto = 3;
    ENC(DEFER(map, 6), "%6\r\n");
    ENC(DEFER(map, 10), "%10\r\n");
    ENC(DEFER(set, 2), "~2\r\n");
    ENC(DEFER(push, 3), ">3\r\n");
    ENC(DEFER(array, 100), "*100\r\n");
    o.proto = 2;

    /* Nested: the inner header is set first. */
    h = resp_add_deferred(&o);
    resp_add_bulk(&o, "a", 1);
    h2 = resp_add_deferred(&o);
    for (i = 0; i < 10; i++)
        resp_add_int(&o, 7);
    resp_set_deferred_array(&o, h2, 10);
    resp_set_deferred_array(&o, h, 2);
    sb_str(&want, "*2\r\n$1\r\na\r\n*10\r\n");
    for (i = 0; i < 10; i++)
        sb_str(&want, ":7\r\n");
    expect_out(&b, want.p, want.len);
    free(want.p);
    rbuf_free(&b);
}

static void test_rbuf_basics(void **state)
{
    struct rbuf b;
    struct resp_out o = { &b, 2 };
    int i;

    (void)state;
    rbuf_init(&b);
    assert_null(b.data);
    assert_int_equal(rbuf_reserve(&b, 10), EMBER_OK);
    assert_true(b.cap >= 10);
    rbuf_append(&b, "abc", 3);
    rbuf_append(&b, "", 0);
    rbuf_append(&b, "+OK\r\n", 5);
    assert_int_equal(b.len, 8);
    rbuf_consume(&b, 3);
    EXPECT(&b, "+OK\r\n");
    rbuf_append(&b, "xyz", 3);
    rbuf_consume(&b, 3);
    assert_int_equal(b.len, 0);
    /* Growth keeps the content. */
    for (i = 0; i < 100000; i++)
        resp_add_int(&o, i);
    assert_false(b.failed);
    assert_memory_equal(b.data, ":0\r\n:1\r\n", 8);
    assert_memory_equal(b.data + b.len - 8, ":99999\r\n", 8);
    rbuf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    /* A growth of exactly one huge append. */
    {
        char *big = malloc(1 << 20);
        assert_non_null(big);
        memset(big, 'z', 1 << 20);
        resp_add_bulk(&o, big, 1 << 20);
        assert_int_equal(b.len, 1 + 7 + 2 + (1 << 20) + 2);
        assert_memory_equal(b.data, "$1048576\r\nzz", 12);
        free(big);
    }
    rbuf_free(&b);
}

/* After a failed allocation every append is a no-op until rbuf_clear(). */
static void test_rbuf_failure_is_sticky(void **state)
{
    struct rbuf b;
    struct resp_out o = { &b, 3 };
    size_t h, len;

    (void)state;
    rbuf_init(&b);
    resp_add_simple(&o, "first");
    len = b.len;
    assert_int_equal(rbuf_reserve(&b, SIZE_MAX - 2), EMBER_ENOMEM);
    assert_true(b.failed);
    resp_add_simple(&o, "lost");
    resp_add_int(&o, 1);
    resp_add_bulk(&o, "x", 1);
    resp_add_double(&o, 1.5);
    resp_add_error_fmt(&o, "ERR %d", 1);
    resp_add_verbatim(&o, "a", 1, "txt");
    resp_add_bignum(&o, "1", 1);
    rbuf_append(&b, "raw", 3);
    h = resp_add_deferred(&o);
    resp_set_deferred_array(&o, h, 3);
    assert_int_equal(b.len, len);
    assert_int_equal(rbuf_reserve(&b, 1), EMBER_ENOMEM);
    rbuf_clear(&b);
    assert_false(b.failed);
    resp_add_simple(&o, "OK");
    EXPECT(&b, "+OK\r\n");
    rbuf_free(&b);

    /* A real allocation failure (fault hook) behaves the same. */
    resp_debug_fail_alloc(1);
    resp_add_simple(&o, "OK");
    assert_true(b.failed);
    assert_int_equal(b.len, 0);
    resp_add_simple(&o, "OK");
    assert_int_equal(b.len, 0);
    rbuf_clear(&b);
    resp_add_simple(&o, "OK");
    EXPECT(&b, "+OK\r\n");
    /* A deferred header that must grow the buffer and cannot. */
    rbuf_free(&b);
    h = resp_add_deferred(&o);
    while (b.len < b.cap)
        rbuf_append(&b, "x", 1);
    resp_debug_fail_alloc(1);
    resp_set_deferred_array(&o, h, 1000);
    assert_true(b.failed);
    resp_debug_fail_alloc(0);
    rbuf_free(&b);
}

/* What the encoder writes, the parser reads back. */
static void test_roundtrip(void **state)
{
    struct rbuf b;
    struct resp_out o = { &b, 2 };
    struct resp_parser p;
    size_t used;
    char arg[300];
    int i;

    (void)state;
    for (i = 0; i < 300; i++)
        arg[i] = (char)(i * 7);
    rbuf_init(&b);
    resp_add_array(&o, 300);
    for (i = 0; i < 300; i++)
        resp_add_bulk(&o, arg, (size_t)i);
    resp_parser_init(&p, NULL);
    assert_int_equal(resp_parse(&p, b.data, b.len, &used), RESP_OK);
    assert_int_equal(used, b.len);
    assert_int_equal(p.argc, 300);
    for (i = 0; i < 300; i++)
        assert_arg(&p, i, arg, (size_t)i);
    resp_parser_free(&p);
    rbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mb_basic),
        cmocka_unit_test(test_mb_empty_counts),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_mb_max_count_accepted),
        cmocka_unit_test(test_mb_cr_quirks),
        cmocka_unit_test(test_nul_hides_line_end),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_too_big_lines),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_need_hint),
        cmocka_unit_test(test_inline_cases),
        cmocka_unit_test(test_inline_incomplete),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_stream_endings),
        cmocka_unit_test(test_mutated_commands_agree),
        cmocka_unit_test(test_many_args_small_reads),
        cmocka_unit_test(test_big_bulk_small_reads),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_enomem_is_retryable),
        cmocka_unit_test(test_str2ll),
        cmocka_unit_test(test_ll2str),
        cmocka_unit_test(test_enc_simple_and_errors),
        cmocka_unit_test(test_enc_long_error),
        cmocka_unit_test(test_enc_integers_and_bulks),
        cmocka_unit_test(test_enc_proto_dependent),
        cmocka_unit_test(test_enc_double),
        cmocka_unit_test(test_enc_deferred),
        cmocka_unit_test(test_rbuf_basics),
        cmocka_unit_test(test_rbuf_failure_is_sticky),
        cmocka_unit_test(test_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
