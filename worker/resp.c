/*
 * resp.c - RESP request parser and reply encoder (see resp.h).
 *
 * Parser.  A command is multibulk ("*N\r\n" then N "$len\r\n<bytes>\r\n")
 * or inline (any other first byte: one line, split like sdssplitargs()).
 * A small state machine: START -> MB_COUNT -> (BULK_LINE -> BULK_DATA)* ->
 * START, or START -> INLINE -> START; any protocol error -> ERROR (sticky).
 *
 * Invariants: every position kept between calls (pos, scan, the arguments
 * of an incomplete multibulk) is an offset from the command's first byte,
 * so the caller may move its buffer; bytes before pos are never looked at
 * again and a line search resumes where it stopped, so a command costs time
 * linear in its size whatever the read sizes.  While a multibulk is
 * incomplete argv[i].ptr holds an offset cast to a pointer; the final call
 * turns them into pointers in one pass.
 *
 * Redis 7.0 behaviours kept on purpose (a differential test is the judge):
 *   - the byte after a line's '\r', and the two bytes after a payload, are
 *     skipped unchecked;
 *   - Redis finds line ends with strchr(), so a NUL before a protocol
 *     line's end hides it: the command waits until the line limit trips;
 *   - *N with N <= 0 is an empty command; $-1 is an error; numbers follow
 *     string2ll() (no '+', no leading zeros, no "-0");
 *   - the 64 KiB limits apply only while no line end has been seen;
 *   - in "expected '$', got 'X'" a CR or LF prints as a space.
 *
 * Encoder.  Appends to a struct rbuf that doubles when full.  Integers are
 * formatted by hand (two digits per step); doubles with %.17g, as Redis 7.0.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/bug.h"
#include "worker/resp.h"

enum {
    ST_START = 0,                /* no command in progress */
    ST_MB_COUNT,                 /* reading "*N\r\n" */
    ST_BULK_LINE,                /* reading "$len\r\n" */
    ST_BULK_DATA,                /* waiting for a bulk's payload + 2 bytes */
    ST_INLINE,                   /* waiting for an inline line's '\n' */
    ST_ERROR                     /* protocol error seen; sticky */
};

#define SCAN_BLOCKED SIZE_MAX    /* a NUL hides the line end for good */
#define ARGV_MIN 16              /* first argv allocation, entries */
#define ARGV_KEEP 1024           /* argv kept between commands, entries */
#define SCRATCH_MIN 64           /* first scratch allocation, bytes */
#define RBUF_MIN 512             /* first output allocation, bytes */
#define DEFER_SLOT 4             /* bytes reserved for a deferred header */

#define E_PREFIX "ERR Protocol error: "
static const char E_INLINE_BIG[] = E_PREFIX "too big inline request";
static const char E_QUOTES[]     = E_PREFIX "unbalanced quotes in request";
static const char E_MBULK_BIG[]  = E_PREFIX "too big mbulk count string";
static const char E_MBULK_LEN[]  = E_PREFIX "invalid multibulk length";
static const char E_MBULK_AUTH[] = E_PREFIX "unauthenticated multibulk length";
static const char E_BULK_BIG[]   = E_PREFIX "too big bulk count string";
static const char E_BULK_LEN[]   = E_PREFIX "invalid bulk length";
static const char E_BULK_AUTH[]  = E_PREFIX "unauthenticated bulk length";
static const char E_EXPECTED[]   = E_PREFIX "expected '$', got '";

/* ------------------------------------------------------------------------
 * Allocation (with a fault-injection hook for the tests)
 * ---------------------------------------------------------------------- */

static int fail_countdown;       /* n > 0: the n-th next allocation fails */

void resp_debug_fail_alloc(int n)
{
    fail_countdown = n;
}

/* realloc() that honours the fault hook.  NULL on failure, ptr untouched. */
static void *xrealloc(void *ptr, size_t n)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return NULL;
    return realloc(ptr, n);
}

/* ------------------------------------------------------------------------
 * Numbers
 * ---------------------------------------------------------------------- */

/* Same acceptance as Redis's string2ll(): a lone "0", or an optional '-'
 * then a digit 1-9 then digits, fewer than 21 characters in all, within
 * the range of long long. */
int resp_str2ll(const char *s, size_t len, long long *out)
{
    unsigned long long v;
    size_t i = 0;
    int neg = 0;

    if (len == 0 || len >= 21)
        return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    if (s[0] == '-') {
        neg = 1;
        if (++i == len)
            return 0;
    }
    if (s[i] < '1' || s[i] > '9')
        return 0;
    v = (unsigned long long)(s[i++] - '0');
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return 0;
        /* 20 chars can exceed 2^64: check before each step. */
        if (v > (ULLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *out = (long long)(0ULL - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)v;
    }
    return 1;
}

static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Decimal digits of v: 1..20. */
static size_t count_digits(unsigned long long v)
{
    size_t n = 1;

    for (;;) {
        if (v < 10) return n;
        if (v < 100) return n + 1;
        if (v < 1000) return n + 2;
        if (v < 10000) return n + 3;
        v /= 10000;
        n += 4;
    }
}

/* Writes the digits of v backwards from the end, two at a time, so no
 * temporary buffer and no reversal are needed. */
size_t resp_ull2str(char *dst, unsigned long long v)
{
    size_t n = count_digits(v);
    char *w = dst + n;

    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        w -= 2;
        w[0] = digit_pairs[i];
        w[1] = digit_pairs[i + 1];
    }
    if (v >= 10) {
        w -= 2;
        w[0] = digit_pairs[v * 2];
        w[1] = digit_pairs[v * 2 + 1];
    } else {
        *--w = (char)('0' + v);
    }
    return n;
}

size_t resp_ll2str(char *dst, long long v)
{
    if (v < 0) {
        dst[0] = '-';
        return 1 + resp_ull2str(dst + 1, 0ULL - (unsigned long long)v);
    }
    return resp_ull2str(dst, (unsigned long long)v);
}

/* ------------------------------------------------------------------------
 * Parser
 * ---------------------------------------------------------------------- */

void resp_parser_init(struct resp_parser *p, const struct resp_limits *lim)
{
    static const struct resp_limits defaults = RESP_LIMITS_INIT;

    memset(p, 0, sizeof(*p));
    p->lim = lim ? *lim : defaults;
    p->state = ST_START;
}

void resp_parser_reset(struct resp_parser *p)
{
    p->state = ST_START;
    p->argc = 0;
    p->pos = 0;
    p->scan = 0;
    p->left = 0;
    p->bulklen = 0;
    p->need = 0;
    p->err = NULL;
}

void resp_parser_free(struct resp_parser *p)
{
    free(p->argv);
    free(p->scratch);
    p->argv = NULL;
    p->scratch = NULL;
    p->argv_cap = 0;
    p->scratch_cap = 0;
    resp_parser_reset(p);
}

void resp_parser_set_limits(struct resp_parser *p,
                            const struct resp_limits *lim)
{
    p->lim = *lim;
}

size_t resp_parser_need(const struct resp_parser *p)
{
    return p->state == ST_ERROR ? 0 : p->need;
}

const char *resp_parser_error(const struct resp_parser *p)
{
    return p->state == ST_ERROR ? p->err : NULL;
}

int resp_parser_busy(const struct resp_parser *p)
{
    return p->state != ST_START && p->state != ST_ERROR;
}

/* Enters the sticky error state with a static message. */
static int fail(struct resp_parser *p, const char *msg)
{
    p->state = ST_ERROR;
    p->err = msg;
    p->need = 0;
    return RESP_ERR;
}

/* The "expected '$', got 'X'" error; CR and LF print as a space. */
static int fail_expected(struct resp_parser *p, char c)
{
    size_t n = sizeof(E_EXPECTED) - 1;

    memcpy(p->errbuf, E_EXPECTED, n);
    p->errbuf[n++] = (c == '\r' || c == '\n') ? ' ' : c;
    p->errbuf[n++] = '\'';
    p->errbuf[n] = '\0';
    return fail(p, p->errbuf);
}

static int again(struct resp_parser *p, size_t need)
{
    p->need = need;
    return RESP_AGAIN;
}

/* Makes room for one more argv entry.  For a multibulk, bound is the
 * number of arguments the command declared: the array grows by doubling
 * as arguments actually arrive, so "*2147483647" alone costs nothing.
 * Returns 0, or -1 with p untouched. */
static int grow_argv(struct resp_parser *p, size_t bound)
{
    size_t ncap = p->argv_cap ? p->argv_cap * 2 : ARGV_MIN;
    struct resp_arg *nv;

    if (ncap > bound)
        ncap = bound;
    if (ncap <= p->argv_cap)
        ncap = p->argv_cap + 1;
    if (ncap > SIZE_MAX / sizeof(*nv))
        return -1;
    nv = xrealloc(p->argv, ncap * sizeof(*nv));
    if (nv == NULL)
        return -1;
    p->argv = nv;
    p->argv_cap = ncap;
    return 0;
}

/* Ensures the scratch buffer holds at least n bytes.  Returns 0 or -1. */
static int grow_scratch(struct resp_parser *p, size_t n)
{
    size_t ncap = p->scratch_cap ? p->scratch_cap : SCRATCH_MIN;
    char *ns;

    while (ncap < n)
        ncap = ncap > SIZE_MAX / 2 ? n : ncap * 2;
    ns = xrealloc(p->scratch, ncap);
    if (ns == NULL)
        return -1;
    p->scratch = ns;
    p->scratch_cap = ncap;
    return 0;
}

/* Between commands: give back storage that one outsized command left
 * behind, so an idle connection stays small.  Failure to shrink is
 * harmless (the old block stays). */
static void trim_storage(struct resp_parser *p)
{
    if (p->argv_cap > ARGV_KEEP && (size_t)p->argc < p->argv_cap / 4) {
        struct resp_arg *nv = realloc(p->argv, ARGV_KEEP * sizeof(*nv));
        if (nv != NULL) {
            p->argv = nv;
            p->argv_cap = ARGV_KEEP;
        }
    }
    if (p->scratch_cap > RESP_DEFAULT_MAX_INLINE) {
        free(p->scratch);
        p->scratch = NULL;
        p->scratch_cap = 0;
    }
}

/*
 * Looks for the byte c from p->scan onwards, stopping at a NUL the way
 * Redis's strchr() does.  Returns 1 with *at = offset of c, or 0 when the
 * line end is not there (yet); p->scan then records where to resume, or
 * SCAN_BLOCKED if a NUL came first (that line can never end).
 */
static int find_eol(struct resp_parser *p, const char *buf, size_t len,
                    char c, size_t *at)
{
    size_t i = p->scan;

    if (i == SCAN_BLOCKED)
        return 0;
    /* A plain loop: protocol lines are a few bytes, shorter than the cost
     * of two memchr() calls, and inline lines are rare and bounded. */
    for (; i < len; i++) {
        if (buf[i] == c) {
            p->scan = i;
            *at = i;
            return 1;
        }
        if (buf[i] == '\0') {
            p->scan = SCAN_BLOCKED;
            return 0;
        }
    }
    p->scan = len;
    return 0;
}

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/*
 * Splits line[0..n) into p->argv, decoding into p->scratch (which must hold
 * n bytes: decoding never lengthens).  The rules are sdssplitargs()'s; the
 * line holds no NUL, so reading at(n) as '\0' stands in for its C-string
 * terminator.  Returns RESP_OK, RESP_ERR (unbalanced quotes, or a closing
 * quote followed by something other than a blank) or RESP_ENOMEM.
 */
static int split_inline(struct resp_parser *p, const char *line, size_t n)
{
#define AT(k) ((k) < n ? (unsigned char)line[k] : 0)
    char *out = p->scratch;
    size_t i = 0;

    p->argc = 0;
    for (;;) {
        char *tok;
        int inq = 0, insq = 0, done = 0;

        while (i < n && is_blank(AT(i)))
            i++;
        if (i == n)
            return RESP_OK;
        tok = out;
        while (!done) {
            int c = AT(i);
            if (inq) {
                if (c == '\\' && AT(i + 1) == 'x' &&
                    hex_value(AT(i + 2)) >= 0 && hex_value(AT(i + 3)) >= 0) {
                    *out++ = (char)(hex_value(AT(i + 2)) * 16 +
                                    hex_value(AT(i + 3)));
                    i += 3;
                } else if (c == '\\' && AT(i + 1) != 0) {
                    i++;
                    switch (AT(i)) {
                    case 'n': *out++ = '\n'; break;
                    case 'r': *out++ = '\r'; break;
                    case 't': *out++ = '\t'; break;
                    case 'b': *out++ = '\b'; break;
                    case 'a': *out++ = '\a'; break;
                    default:  *out++ = (char)AT(i); break;
                    }
                } else if (c == '"') {
                    if (AT(i + 1) != 0 && !is_blank(AT(i + 1)))
                        return fail(p, E_QUOTES);
                    done = 1;
                } else if (c == 0) {
                    return fail(p, E_QUOTES);
                } else {
                    *out++ = (char)c;
                }
            } else if (insq) {
                if (c == '\\' && AT(i + 1) == '\'') {
                    i++;
                    *out++ = '\'';
                } else if (c == '\'') {
                    if (AT(i + 1) != 0 && !is_blank(AT(i + 1)))
                        return fail(p, E_QUOTES);
                    done = 1;
                } else if (c == 0) {
                    return fail(p, E_QUOTES);
                } else {
                    *out++ = (char)c;
                }
            } else {
                switch (c) {
                case ' ': case '\n': case '\r': case '\t': case 0:
                    done = 1;
                    break;
                case '"':
                    inq = 1;
                    break;
                case '\'':
                    insq = 1;
                    break;
                default:
                    *out++ = (char)c;
                    break;
                }
            }
            if (i < n)
                i++;
        }
        if ((size_t)p->argc == p->argv_cap && grow_argv(p, SIZE_MAX) < 0)
            return RESP_ENOMEM;
        p->argv[p->argc].ptr = tok;
        p->argv[p->argc].len = (size_t)(out - tok);
        p->argc++;
    }
#undef AT
}

/* An inline command: one line ending in "\n" or "\r\n". */
static int parse_inline(struct resp_parser *p, const char *buf, size_t len,
                        size_t *consumed)
{
    size_t nl, end;
    int rc;

    if (!find_eol(p, buf, len, '\n', &nl)) {
        if (len > p->lim.max_inline_len)
            return fail(p, E_INLINE_BIG);
        return again(p, 1);
    }
    end = nl;
    if (end > 0 && buf[end - 1] == '\r')
        end--;
    if (end > p->scratch_cap && grow_scratch(p, end) < 0)
        return RESP_ENOMEM;
    rc = split_inline(p, buf, end);
    if (rc != RESP_OK)
        return rc;
    *consumed = nl + 1;
    p->state = ST_START;
    p->need = 0;
    return p->argc > 0 ? RESP_OK : RESP_EMPTY;
}

/* A multibulk command, resumed at whatever state p is in. */
static int parse_multibulk(struct resp_parser *p, const char *buf,
                           size_t len, size_t *consumed)
{
    long long ll;
    size_t eol;
    int i;

    if (p->state == ST_MB_COUNT) {
        long long max = p->lim.max_multibulk_len;

        if (!find_eol(p, buf, len, '\r', &eol)) {
            if (len > p->lim.max_inline_len)
                return fail(p, E_MBULK_BIG);
            return again(p, 1);
        }
        if (eol + 1 >= len)              /* "\r" is the last byte */
            return again(p, 1);
        if (max > INT_MAX)
            max = INT_MAX;
        if (!resp_str2ll(buf + 1, eol - 1, &ll) || ll > max)
            return fail(p, E_MBULK_LEN);
        if (ll > RESP_UNAUTH_MAX_MULTIBULK && p->lim.unauthenticated)
            return fail(p, E_MBULK_AUTH);
        p->pos = eol + 2;
        if (ll <= 0) {
            *consumed = p->pos;
            p->state = ST_START;
            p->need = 0;
            return RESP_EMPTY;
        }
        p->left = ll;
        p->state = ST_BULK_LINE;
        p->scan = p->pos;
    }

    while (p->left > 0) {
        if (p->state == ST_BULK_LINE) {
            size_t start = p->pos;

            if (!find_eol(p, buf, len, '\r', &eol)) {
                if (len - start > p->lim.max_inline_len)
                    return fail(p, E_BULK_BIG);
                return again(p, 1);
            }
            if (eol + 1 >= len)
                return again(p, 1);
            if (buf[start] != '$')
                return fail_expected(p, buf[start]);
            if (!resp_str2ll(buf + start + 1, eol - start - 1, &ll) ||
                ll < 0 || ll > p->lim.max_bulk_len)
                return fail(p, E_BULK_LEN);
            if (ll > RESP_UNAUTH_MAX_BULK && p->lim.unauthenticated)
                return fail(p, E_BULK_AUTH);
            p->pos = eol + 2;
            p->bulklen = ll;
            p->state = ST_BULK_DATA;
        }

        /* ST_BULK_DATA: the payload plus two bytes (meant to be CRLF). */
        if (len - p->pos < (size_t)p->bulklen + 2)
            return again(p, (size_t)p->bulklen + 2 - (len - p->pos));
        if ((size_t)p->argc == p->argv_cap &&
            grow_argv(p, (size_t)p->argc + (size_t)p->left) < 0)
            return RESP_ENOMEM;
        /* An offset for now: buf may move before the command completes. */
        p->argv[p->argc].ptr = (const char *)(uintptr_t)p->pos;
        p->argv[p->argc].len = (size_t)p->bulklen;
        p->argc++;
        p->pos += (size_t)p->bulklen + 2;
        p->left--;
        p->state = ST_BULK_LINE;
        p->scan = p->pos;
    }

    for (i = 0; i < p->argc; i++)
        p->argv[i].ptr = buf + (uintptr_t)p->argv[i].ptr;
    *consumed = p->pos;
    p->state = ST_START;
    p->need = 0;
    return RESP_OK;
}

/*
 * Reads the decimal at buf[*at..len) that a header line holds, up to its
 * '\r' and the byte after it, in the only form a client sends: a lone "0",
 * or a digit 1-9 then digits, 18 at most.  Returns the value and moves *at
 * past the line, or -1 for anything else (the full parser decides then).
 */
static long long fast_number(const char *buf, size_t len, size_t *at)
{
    size_t i = *at, end = i + 18 < len ? i + 18 : len;
    long long v;

    if (i >= len || buf[i] < '0' || buf[i] > '9')
        return -1;
    v = buf[i++] - '0';
    if (v == 0) {
        if (i + 1 >= len || buf[i] != '\r')
            return -1;
        *at = i + 2;
        return 0;
    }
    while (i < end && buf[i] >= '0' && buf[i] <= '9')
        v = v * 10 + (buf[i++] - '0');
    if (i + 1 >= len || buf[i] != '\r')
        return -1;
    *at = i + 2;
    return v;
}

/*
 * The common case in one pass: a whole multibulk command already in buf,
 * within every limit, with argv large enough.  Accepts exactly what
 * parse_multibulk() would accept with the same result, and nothing it
 * would refuse or wait on: anything unusual (a partial command, odd
 * numbers, a limit) returns 0 with p untouched but for argv's contents,
 * and the full parser starts over.  Returns 1 with the command ready.
 */
static int parse_fast(struct resp_parser *p, const char *buf, size_t len,
                      size_t *consumed)
{
    size_t at = 1;
    long long n = fast_number(buf, len, &at), i;

    if (n <= 0 || (size_t)n > p->argv_cap || n > p->lim.max_multibulk_len ||
        (p->lim.unauthenticated && n > RESP_UNAUTH_MAX_MULTIBULK))
        return 0;
    for (i = 0; i < n; i++) {
        long long bl;

        if (at >= len || buf[at] != '$')
            return 0;
        at++;
        bl = fast_number(buf, len, &at);
        if (bl < 0 || bl > p->lim.max_bulk_len ||
            (p->lim.unauthenticated && bl > RESP_UNAUTH_MAX_BULK) ||
            len - at < (size_t)bl + 2)
            return 0;
        p->argv[i].ptr = buf + at;
        p->argv[i].len = (size_t)bl;
        at += (size_t)bl + 2;        /* the two bytes after are not checked */
    }
    p->argc = (int)n;
    *consumed = at;
    return 1;
}

int resp_parse(struct resp_parser *p, const char *buf, size_t len,
               size_t *consumed)
{
    *consumed = 0;
    switch (p->state) {
    case ST_ERROR:
        return RESP_ERR;
    case ST_START:
        if (len == 0)
            return again(p, 1);
        trim_storage(p);
        p->argc = 0;
        p->pos = 0;
        if (buf[0] == '*' && parse_fast(p, buf, len, consumed)) {
            p->need = 0;
            return RESP_OK;
        }
        if (buf[0] == '*') {
            p->state = ST_MB_COUNT;
            p->scan = 1;
        } else {
            p->state = ST_INLINE;
            p->scan = 0;
        }
        break;
    default:
        /* The caller must present at least the bytes seen so far. */
        BUG_ON(len < p->pos || (p->scan != SCAN_BLOCKED && len < p->scan));
        break;
    }
    if (p->state == ST_INLINE)
        return parse_inline(p, buf, len, consumed);
    return parse_multibulk(p, buf, len, consumed);
}

/* ------------------------------------------------------------------------
 * Output buffer
 * ---------------------------------------------------------------------- */

void rbuf_init(struct rbuf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void rbuf_free(struct rbuf *b)
{
    free(b->data);
    rbuf_init(b);
}

void rbuf_clear(struct rbuf *b)
{
    b->len = 0;
    b->failed = 0;
}

void rbuf_consume(struct rbuf *b, size_t n)
{
    ASSERT(n <= b->len);
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

/* Slow path of room(): grows to max(needed, 2 * cap).  Sets the sticky
 * failed flag on overflow or allocation failure. */
static int rbuf_grow(struct rbuf *b, size_t n)
{
    size_t want, ncap;
    char *nd;

    if (b->failed)
        return -1;
    want = b->len + n;
    if (want < b->len)
        goto fail;
    ncap = b->cap < RBUF_MIN / 2 ? RBUF_MIN : b->cap * 2;
    if (ncap < b->cap || ncap < want)
        ncap = want;
    nd = xrealloc(b->data, ncap);
    if (nd == NULL)
        goto fail;
    b->data = nd;
    b->cap = ncap;
    return 0;
fail:
    b->failed = 1;
    return -1;
}

/* Ensures n free bytes; 0 or -1 (failed).  The fast path is one compare. */
static inline int room(struct rbuf *b, size_t n)
{
    if (!b->failed && b->cap - b->len >= n)
        return 0;
    return rbuf_grow(b, n);
}

int rbuf_reserve(struct rbuf *b, size_t n)
{
    return room(b, n) == 0 ? EMBER_OK : EMBER_ENOMEM;
}

void rbuf_append(struct rbuf *b, const void *p, size_t n)
{
    if (room(b, n) < 0)
        return;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* ------------------------------------------------------------------------
 * Encoder
 * ---------------------------------------------------------------------- */

/* Replaces CR and LF by spaces in s[0..n). */
static void map_crlf(char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n')
            s[i] = ' ';
}

/* <prefix><n>\r\n: every length header and integer goes through here. */
static void add_prefixed_ll(struct rbuf *b, char prefix, long long n)
{
    char *w;

    if (room(b, 24) < 0)
        return;
    w = b->data + b->len;
    *w++ = prefix;
    w += resp_ll2str(w, n);
    *w++ = '\r';
    *w++ = '\n';
    b->len = (size_t)(w - b->data);
}

/* <prefix>s\r\n with CR/LF in s mapped to spaces. */
static void add_line(struct rbuf *b, char prefix, const char *s, size_t len)
{
    char *w;

    if (len > SIZE_MAX - 3 || room(b, len + 3) < 0)
        return;
    w = b->data + b->len;
    *w++ = prefix;
    if (len > 0)
        memcpy(w, s, len);
    map_crlf(w, len);
    w += len;
    *w++ = '\r';
    *w++ = '\n';
    b->len = (size_t)(w - b->data);
}

void resp_add_simple(struct resp_out *o, const char *s)
{
    add_line(o->b, '+', s, strlen(s));
}

void resp_add_simple_len(struct resp_out *o, const char *s, size_t len)
{
    add_line(o->b, '+', s, len);
}

void resp_add_error(struct resp_out *o, const char *msg)
{
    add_line(o->b, '-', msg, strlen(msg));
}

void resp_add_error_len(struct resp_out *o, const char *msg, size_t len)
{
    add_line(o->b, '-', msg, len);
}

/* Formats straight into the buffer after a '-': one vsnprintf() when the
 * message fits the free space, two when the buffer must grow first. */
void resp_add_error_fmt(struct resp_out *o, const char *fmt, ...)
{
    struct rbuf *b = o->b;
    va_list ap;
    size_t start, avail, n, lead = 0;
    char *msg;
    int r;

    if (room(b, 128) < 0)
        return;
    start = b->len;
    avail = b->cap - start - 1;
    va_start(ap, fmt);
    r = vsnprintf(b->data + start + 1, avail, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    n = (size_t)r;
    if (n + 3 > avail) {            /* also keeps room for the CRLF */
        if (room(b, n + 4) < 0)
            return;
        va_start(ap, fmt);
        r = vsnprintf(b->data + start + 1, n + 1, fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t)r != n)
            return;
    }
    msg = b->data + start + 1;
    /* Trim CR/LF at both ends (sdstrim "\r\n"), map the rest. */
    while (n > 0 && (msg[n - 1] == '\r' || msg[n - 1] == '\n'))
        n--;
    while (lead < n && (msg[lead] == '\r' || msg[lead] == '\n'))
        lead++;
    if (lead > 0)
        memmove(msg, msg + lead, n - lead);
    n -= lead;
    map_crlf(msg, n);
    b->data[start] = '-';
    msg[n] = '\r';
    msg[n + 1] = '\n';
    b->len = start + 1 + n + 2;
}

void resp_add_int(struct resp_out *o, long long v)
{
    add_prefixed_ll(o->b, ':', v);
}

void resp_add_bulk(struct resp_out *o, const void *p, size_t len)
{
    struct rbuf *b = o->b;
    char *w;

    if (len > SIZE_MAX - 32 || room(b, len + 32) < 0)
        return;
    w = b->data + b->len;
    *w++ = '$';
    w += resp_ull2str(w, len);
    *w++ = '\r';
    *w++ = '\n';
    if (len > 0)
        memcpy(w, p, len);
    w += len;
    *w++ = '\r';
    *w++ = '\n';
    b->len = (size_t)(w - b->data);
}

void resp_add_bulk_cstr(struct resp_out *o, const char *s)
{
    if (s == NULL)
        resp_add_null(o);
    else
        resp_add_bulk(o, s, strlen(s));
}

void resp_add_bulk_ll(struct resp_out *o, long long v)
{
    char tmp[24];

    resp_add_bulk(o, tmp, resp_ll2str(tmp, v));
}

void resp_add_null(struct resp_out *o)
{
    if (o->proto == 2)
        rbuf_append(o->b, "$-1\r\n", 5);
    else
        rbuf_append(o->b, "_\r\n", 3);
}

void resp_add_null_array(struct resp_out *o)
{
    if (o->proto == 2)
        rbuf_append(o->b, "*-1\r\n", 5);
    else
        rbuf_append(o->b, "_\r\n", 3);
}

void resp_add_array(struct resp_out *o, long n)
{
    ASSERT(n >= 0);
    add_prefixed_ll(o->b, '*', n);
}

void resp_add_map(struct resp_out *o, long n)
{
    ASSERT(n >= 0);
    if (o->proto == 2)
        add_prefixed_ll(o->b, '*', 2LL * n);
    else
        add_prefixed_ll(o->b, '%', n);
}

void resp_add_set(struct resp_out *o, long n)
{
    ASSERT(n >= 0);
    add_prefixed_ll(o->b, o->proto == 2 ? '*' : '~', n);
}

void resp_add_push(struct resp_out *o, long n)
{
    ASSERT(n >= 0);
    add_prefixed_ll(o->b, o->proto == 2 ? '*' : '>', n);
}

/* Redis 7.0 addReplyDouble(): infinities by hand (libc spellings vary),
 * everything else, nan included, through "%.17g". */
void resp_add_double(struct resp_out *o, double d)
{
    char tmp[64];
    int n;

    if (isinf(d)) {
        if (o->proto == 2)
            resp_add_bulk(o, d > 0 ? "inf" : "-inf", d > 0 ? 3 : 4);
        else
            rbuf_append(o->b, d > 0 ? ",inf\r\n" : ",-inf\r\n",
                        d > 0 ? 6 : 7);
        return;
    }
    n = snprintf(tmp, sizeof(tmp), "%.17g", d);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return;                          /* cannot happen for %.17g */
    if (o->proto == 2) {
        resp_add_bulk(o, tmp, (size_t)n);
    } else {
        struct rbuf *b = o->b;
        if (room(b, (size_t)n + 3) < 0)
            return;
        b->data[b->len] = ',';
        memcpy(b->data + b->len + 1, tmp, (size_t)n);
        memcpy(b->data + b->len + 1 + n, "\r\n", 2);
        b->len += (size_t)n + 3;
    }
}

void resp_add_bool(struct resp_out *o, int v)
{
    if (o->proto == 2)
        rbuf_append(o->b, v ? ":1\r\n" : ":0\r\n", 4);
    else
        rbuf_append(o->b, v ? "#t\r\n" : "#f\r\n", 4);
}

void resp_add_verbatim(struct resp_out *o, const char *p, size_t len,
                       const char *ext)
{
    struct rbuf *b = o->b;
    char *w;
    int i;

    if (o->proto == 2) {
        resp_add_bulk(o, p, len);
        return;
    }
    if (len > SIZE_MAX - 40 || room(b, len + 40) < 0)
        return;
    w = b->data + b->len;
    *w++ = '=';
    w += resp_ull2str(w, (unsigned long long)len + 4);
    *w++ = '\r';
    *w++ = '\n';
    for (i = 0; i < 3; i++)
        *w++ = (ext != NULL && *ext != '\0') ? *ext++ : ' ';
    *w++ = ':';
    if (len > 0)
        memcpy(w, p, len);
    w += len;
    *w++ = '\r';
    *w++ = '\n';
    b->len = (size_t)(w - b->data);
}

void resp_add_bignum(struct resp_out *o, const char *p, size_t len)
{
    struct rbuf *b = o->b;

    if (o->proto == 2) {
        resp_add_bulk(o, p, len);
        return;
    }
    if (len > SIZE_MAX - 3 || room(b, len + 3) < 0)
        return;
    b->data[b->len] = '(';
    if (len > 0)
        memcpy(b->data + b->len + 1, p, len);
    memcpy(b->data + b->len + 1 + len, "\r\n", 2);
    b->len += len + 3;
}

/* Reserves DEFER_SLOT bytes: exactly a header for 0..9 elements, so small
 * aggregates never move their tail. */
size_t resp_add_deferred(struct resp_out *o)
{
    struct rbuf *b = o->b;
    size_t h;

    if (room(b, DEFER_SLOT) < 0)
        return 0;
    h = b->len;
    memcpy(b->data + h, "*?\r\n", DEFER_SLOT);
    b->len += DEFER_SLOT;
    return h;
}

/* Writes the header into the slot at h, moving the tail when the header is
 * not DEFER_SLOT bytes long. */
static void set_deferred(struct rbuf *b, size_t h, char prefix, long long n)
{
    char hdr[24];
    size_t hl;

    if (b->failed)
        return;
    BUG_ON(h > b->len || b->len - h < DEFER_SLOT);
    hdr[0] = prefix;
    hl = 1 + resp_ll2str(hdr + 1, n);
    hdr[hl++] = '\r';
    hdr[hl++] = '\n';
    if (hl != DEFER_SLOT) {
        if (hl > DEFER_SLOT && room(b, hl - DEFER_SLOT) < 0)
            return;
        memmove(b->data + h + hl, b->data + h + DEFER_SLOT,
                b->len - h - DEFER_SLOT);
        b->len = b->len + hl - DEFER_SLOT;
    }
    memcpy(b->data + h, hdr, hl);
}

void resp_set_deferred_array(struct resp_out *o, size_t h, long n)
{
    ASSERT(n >= 0);
    set_deferred(o->b, h, '*', n);
}

void resp_set_deferred_map(struct resp_out *o, size_t h, long n)
{
    ASSERT(n >= 0);
    if (o->proto == 2)
        set_deferred(o->b, h, '*', 2LL * n);
    else
        set_deferred(o->b, h, '%', n);
}

void resp_set_deferred_set(struct resp_out *o, size_t h, long n)
{
    ASSERT(n >= 0);
    set_deferred(o->b, h, o->proto == 2 ? '*' : '~', n);
}

void resp_set_deferred_push(struct resp_out *o, size_t h, long n)
{
    ASSERT(n >= 0);
    set_deferred(o->b, h, o->proto == 2 ? '*' : '>', n);
}
