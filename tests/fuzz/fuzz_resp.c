/*
 * fuzz_resp.c - libFuzzer harness for the RESP codec (worker/resp.c).
 *
 * Not built by the Makefile.  Build and run by hand, from the repo root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *         -fno-sanitize-recover=all -D_GNU_SOURCE -I. \
 *         tests/fuzz/fuzz_resp.c worker/resp.c shm/status.c -lm \
 *         -o build/fuzz_resp
 *   mkdir -p build/fuzz-resp-corpus
 *   build/fuzz_resp -max_len=8192 -max_total_time=120 build/fuzz-resp-corpus
 *
 * Every input is used three ways:
 *   1. as a request stream, parsed whole and then again in pieces (sizes
 *      drawn from the input) through a buffer that moves on every read: the
 *      two transcripts must be identical, consumed never exceeds the bytes
 *      given, multibulk arguments lie inside the buffer, and every command
 *      re-encoded as a multibulk parses back to the same arguments;
 *   2. as a request stream for a parser with tiny limits (safety only: with
 *      limits that small the outcome legitimately depends on read sizes);
 *   3. as a program for the encoder (one op per byte, nested deferred
 *      headers included) in RESP2 and RESP3; the output must be a sequence
 *      of well-formed RESP values, one per top-level op.
 * Sanitizers catch the rest.  A failed check calls abort().
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s (%s:%d)\n", \
                                  #c, __FILE__, __LINE__); abort(); } } while (0)

/* Transcript: a growable byte string. */
struct tr {
    char *p;
    size_t len, cap;
};

static void tr_add(struct tr *t, const void *d, size_t n)
{
    if (t->len + n > t->cap) {
        size_t ncap = t->cap ? t->cap : 256;
        while (ncap < t->len + n)
            ncap *= 2;
        t->p = realloc(t->p, ncap);
        CHECK(t->p != NULL);
        t->cap = ncap;
    }
    if (n)
        memcpy(t->p + t->len, d, n);
    t->len += n;
}

/* Re-encodes the parsed command and checks that it parses back the same. */
static void roundtrip(const struct resp_parser *p)
{
    struct rbuf b;
    struct resp_out o = { &b, 2 };
    struct resp_parser q;
    size_t used;
    int i;

    rbuf_init(&b);
    resp_add_array(&o, p->argc);
    for (i = 0; i < p->argc; i++)
        resp_add_bulk(&o, p->argv[i].ptr, p->argv[i].len);
    CHECK(!b.failed);
    resp_parser_init(&q, NULL);
    CHECK(resp_parse(&q, b.data, b.len, &used) == RESP_OK);
    CHECK(used == b.len && q.argc == p->argc);
    for (i = 0; i < p->argc; i++)
        CHECK(q.argv[i].len == p->argv[i].len &&
              (q.argv[i].len == 0 ||
               memcmp(q.argv[i].ptr, p->argv[i].ptr, q.argv[i].len) == 0));
    resp_parser_free(&q);
    rbuf_free(&b);
}

/* Feeds data in reads of the sizes drawn from sizes[] (all at once when
 * nsizes is 0); appends the outcome of every parse to t. */
static void feed(const uint8_t *data, size_t size, const uint8_t *sizes,
                 size_t nsizes, const struct resp_limits *lim, struct tr *t,
                 int check_roundtrip)
{
    struct resp_parser p;
    char *buf = NULL;
    size_t blen = 0, off = 0, k = 0;
    int dead = 0;

    resp_parser_init(&p, lim);
    while (off < size && !dead) {
        size_t c = nsizes ? 1 + sizes[k++ % nsizes] % 64 : size;
        char *nb;

        if (c > size - off)
            c = size - off;
        nb = malloc(blen + c);
        CHECK(nb != NULL);
        if (blen)
            memcpy(nb, buf, blen);
        memcpy(nb + blen, data + off, c);
        free(buf);
        buf = nb;
        blen += c;
        off += c;
        for (;;) {
            size_t used = 1;
            int rc = resp_parse(&p, buf, blen, &used), i;
            char tag = (char)('0' - rc);

            if (rc == RESP_AGAIN) {
                CHECK(used == 0 && resp_parser_need(&p) >= 1);
                break;
            }
            CHECK(rc != RESP_ENOMEM);
            tr_add(t, &tag, 1);
            if (rc == RESP_ERR) {
                const char *e = resp_parser_error(&p);
                CHECK(e != NULL && strncmp(e, "ERR Protocol error: ", 20) == 0);
                tr_add(t, e, strlen(e));
                dead = 1;
                break;
            }
            CHECK(used >= 1 && used <= blen);
            if (rc == RESP_OK) {
                CHECK(p.argc >= 1);
                tr_add(t, &p.argc, sizeof(p.argc));
                for (i = 0; i < p.argc; i++) {
                    if (buf[0] == '*')
                        CHECK(p.argv[i].ptr >= buf &&
                              p.argv[i].ptr + p.argv[i].len <= buf + used);
                    tr_add(t, &p.argv[i].len, sizeof(p.argv[i].len));
                    tr_add(t, p.argv[i].ptr, p.argv[i].len);
                }
                if (check_roundtrip)
                    roundtrip(&p);
            } else {
                CHECK(rc == RESP_EMPTY && p.argc == 0);
            }
            memmove(buf, buf + used, blen - used);
            blen -= used;
        }
    }
    tr_add(t, dead ? "E" : resp_parser_busy(&p) ? "B" : "I", 1);
    if (!dead)                   /* after an error, reads simply stop */
        tr_add(t, &blen, sizeof(blen));
    free(buf);
    resp_parser_free(&p);
}

/* Skips one well-formed RESP value at s[*i..n); returns 0 if malformed. */
static int skip_value(const char *s, size_t n, size_t *i, int depth)
{
    const char *cr;
    long long v;
    size_t at = *i, ln;
    char type;

    if (at >= n || depth > 64)
        return 0;
    type = s[at];
    cr = memchr(s + at, '\r', n - at);
    if (cr == NULL || (size_t)(cr - s) + 1 >= n || cr[1] != '\n')
        return 0;
    ln = (size_t)(cr - s) - at - 1;
    *i = (size_t)(cr - s) + 2;
    switch (type) {
    case '+': case '-':
        return memchr(s + at + 1, '\n', ln) == NULL;
    case '_':
        return ln == 0;
    case '#':
        return ln == 1 && (s[at + 1] == 't' || s[at + 1] == 'f');
    case ',': case '(':
        return ln > 0;
    case ':':
        return resp_str2ll(s + at + 1, ln, &v);
    case '$': case '=':
        if (!resp_str2ll(s + at + 1, ln, &v) || v < -1)
            return 0;
        if (v == -1)
            return type == '$';
        if ((size_t)v + 2 > n - *i || s[*i + v] != '\r' || s[*i + v + 1] != '\n')
            return 0;
        if (type == '=' && (v < 4 || s[*i + 3] != ':'))
            return 0;
        *i += (size_t)v + 2;
        return 1;
    case '*': case '%': case '~': case '>':
        if (!resp_str2ll(s + at + 1, ln, &v) || v < -1)
            return 0;
        if (v == -1)
            return type == '*';
        if (type == '%')
            v *= 2;
        while (v-- > 0)
            if (!skip_value(s, n, i, depth + 1))
                return 0;
        return 1;
    default:
        return 0;
    }
}

/* Runs the input as an encoder program and validates the output. */
static void encode(const uint8_t *data, size_t size, int proto)
{
    struct rbuf b;
    struct resp_out o = { &b, proto };
    size_t handles[16], counts[16], kinds[16];
    int depth = 0;
    size_t top = 0, k, i = 0;
    const double dv[] = { 0.0, -0.0, 1.1, 1e300, -1e-300, INFINITY,
                          -INFINITY, NAN, 3.0, 123456789.125 };

    rbuf_init(&b);
    for (k = 0; k < size; k++) {
        uint8_t op = data[k];
        uint8_t arg = k + 1 < size ? data[k + 1] : 0;
        unsigned long long u = 0;
        long long ll;
        size_t j;

        for (j = 0; j < 8 && k + 1 + j < size; j++)
            u = (u << 8) | data[k + 1 + j];
        ll = (long long)u;
        if (depth > 0)
            counts[depth - 1]++;
        else
            top++;
        switch (op % 20) {
        case 0: resp_add_simple_len(&o, (const char *)data + k, arg % 8 < size - k ? arg % 8 : 0); break;
        case 1: resp_add_error_len(&o, (const char *)data + k, arg % 8 < size - k ? arg % 8 : 0); break;
        case 2: resp_add_error_fmt(&o, "ERR %lld\r\n%s", ll, "x\ny"); break;
        case 3: resp_add_int(&o, ll); break;
        case 4: resp_add_bulk(&o, data + k, size - k < 40 ? size - k : 40); break;
        case 5: resp_add_bulk_ll(&o, ll); break;
        case 6: resp_add_null(&o); break;
        case 7: resp_add_null_array(&o); break;
        case 8: resp_add_double(&o, dv[arg % 10]); break;
        case 9: resp_add_bool(&o, arg & 1); break;
        case 10: resp_add_verbatim(&o, (const char *)data + k, size - k < 9 ? size - k : 9, arg & 1 ? "txt" : "m"); break;
        case 11: resp_add_bignum(&o, "-123456789012345678901234567890", 31); break;
        case 12: resp_add_bulk_cstr(&o, arg & 1 ? NULL : "cstr"); break;
        case 13: case 14: case 15: case 16:
            /* open a deferred aggregate; this op is its slot */
            if (depth < 16) {
                handles[depth] = resp_add_deferred(&o);
                counts[depth] = 0;
                kinds[depth] = op % 20 - 13;
                depth++;
            } else {
                resp_add_int(&o, 1);
            }
            break;
        case 17:
            /* close the innermost aggregate (a map needs an even count) */
            if (depth > 0) {
                size_t c;
                counts[depth - 1]--;     /* this op is not an element */
                c = counts[depth - 1];
                depth--;
                switch (kinds[depth]) {
                case 0: resp_set_deferred_array(&o, handles[depth], (long)c); break;
                case 1:
                    if (c % 2) {
                        resp_add_int(&o, 0);
                        c++;
                    }
                    resp_set_deferred_map(&o, handles[depth], (long)c / 2);
                    break;
                case 2: resp_set_deferred_set(&o, handles[depth], (long)c); break;
                default: resp_set_deferred_push(&o, handles[depth], (long)c); break;
                }
            } else {
                resp_add_array(&o, 0);
            }
            break;
        case 18: resp_add_array(&o, 2); resp_add_int(&o, 1); resp_add_int(&o, 2); break;
        default: resp_add_map(&o, 1); resp_add_simple(&o, "k"); resp_add_set(&o, 0); break;
        }
    }
    while (depth > 0) {
        size_t c = counts[depth - 1];
        depth--;
        if (kinds[depth] == 1 && c % 2) {
            resp_add_int(&o, 0);
            c++;
        }
        if (kinds[depth] == 1)
            resp_set_deferred_map(&o, handles[depth], (long)c / 2);
        else
            resp_set_deferred_array(&o, handles[depth], (long)c);
    }
    CHECK(!b.failed);
    for (k = 0; k < top; k++)
        CHECK(skip_value(b.data, b.len, &i, 0));
    CHECK(i == b.len);
    rbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct resp_limits tiny = { 16, 4, 8, 0 };
    static const struct resp_limits unauth = { RESP_DEFAULT_MAX_BULK,
        RESP_DEFAULT_MAX_MULTIBULK, RESP_DEFAULT_MAX_INLINE, 1 };
    struct tr whole = {0}, split = {0}, other = {0};
    size_t nsizes = size < 8 ? size : 8;

    if (size > 60000)                  /* keep below the 64 KiB line limit */
        return 0;
    feed(data, size, NULL, 0, NULL, &whole, 1);
    if (nsizes > 0) {
        feed(data, size, data, nsizes, NULL, &split, 0);
        CHECK(whole.len == split.len &&
              memcmp(whole.p, split.p, whole.len) == 0);
    }
    feed(data, size, data, nsizes, &tiny, &other, 0);
    other.len = 0;
    feed(data, size, data + size - nsizes, nsizes, &unauth, &other, 0);
    encode(data, size, 2);
    encode(data, size, 3);
    free(whole.p);
    free(split.p);
    free(other.p);
    return 0;
}
