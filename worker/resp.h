/*
 * resp.h - the RESP codec: an incremental, in-place request parser and a
 * reply encoder for RESP2 and RESP3.
 *
 * Every client connection owns one struct resp_parser and one output
 * struct rbuf.  The parser reads requests straight out of the connection's
 * input buffer: a multibulk argument is a (pointer, length) pair into that
 * buffer, nothing is copied.  Only inline commands (telnet style) may differ
 * from their input bytes because of quoting, so they are decoded into a
 * scratch buffer that belongs to the parser.  Storage (the argv array, the
 * scratch buffer) grows per parser, amortized, never per request.
 *
 * The parser keeps its progress inside a partial command as offsets from the
 * command's first byte, so the caller may realloc or compact its buffer
 * between calls as long as the unconsumed bytes stay in order from the
 * command start.  A command with a million arguments or a 500 MB bulk that
 * arrives in small reads is scanned once, not once per read.
 *
 * Accept/reject decisions and error strings follow Redis 7.0's
 * processMultibulkBuffer()/processInlineBuffer() byte for byte, quirks
 * included (see resp.c for the list).  Every protocol error is meant to be
 * replied (resp_parser_error() is a ready "ERR ..." message) and then the
 * connection closed, as Redis does.
 *
 * The encoder appends to an rbuf.  A failed allocation sets the sticky
 * rbuf.failed flag and turns every later append into a no-op, so a command
 * never checks each append: the connection checks once before writing.
 *
 * Depends only on libc, shm/status.h (and shm/bug.h in resp.c).
 */
#ifndef EMBER_RESP_H
#define EMBER_RESP_H

#include <limits.h>
#include <stddef.h>

#include "shm/status.h"

/* ------------------------------------------------------------------------
 * Request parser
 * ---------------------------------------------------------------------- */

/* Results of resp_parse(). */
enum resp_result {
    RESP_OK     = EMBER_OK,     /* one command is ready in p->argc/p->argv */
    RESP_EMPTY  = 1,            /* bytes consumed, no command (blank line, *0) */
    RESP_AGAIN  = EMBER_EAGAIN, /* incomplete: keep the bytes, add more */
    RESP_ERR    = EMBER_EINVAL, /* protocol error: reply it, then close */
    RESP_ENOMEM = EMBER_ENOMEM  /* argv/scratch growth failed; retryable */
};

/* Redis's defaults (proto-max-bulk-len, PROTO_INLINE_MAX_SIZE). */
#define RESP_DEFAULT_MAX_BULK       (512LL * 1024 * 1024)
#define RESP_DEFAULT_MAX_MULTIBULK  ((long long)INT_MAX)
#define RESP_DEFAULT_MAX_INLINE     ((size_t)64 * 1024)
/* Redis's limits for a client that must authenticate and has not yet. */
#define RESP_UNAUTH_MAX_MULTIBULK   10
#define RESP_UNAUTH_MAX_BULK        16384

/* Limits a connection hands its parser.  They may be changed between calls
 * (CONFIG SET, a successful AUTH); a change applies from the next check. */
struct resp_limits {
    long long max_bulk_len;      /* $N above this: invalid bulk length */
    long long max_multibulk_len; /* *N above this: invalid multibulk length;
                                    clamped to INT_MAX */
    size_t max_inline_len;       /* a line still without its newline past
                                    this many bytes is an error */
    int unauthenticated;         /* apply the 10-args / 16 KiB bulk limits */
};

#define RESP_LIMITS_INIT { RESP_DEFAULT_MAX_BULK, RESP_DEFAULT_MAX_MULTIBULK, \
                           RESP_DEFAULT_MAX_INLINE, 0 }

/* One argument of a parsed command. */
struct resp_arg {
    const char *ptr;             /* first byte (not NUL-terminated) */
    size_t len;                  /* length in bytes */
};

/* One per connection.  After RESP_OK, argc and argv are the command; all
 * other fields are private to resp.c. */
struct resp_parser {
    int argc;                    /* arguments of the ready command */
    struct resp_arg *argv;       /* argc entries; see resp_parse() */
    struct resp_limits lim;      /* limits in force (caller may update) */

    int state;                   /* private: where we are in a command */
    size_t pos;                  /* private: next unparsed byte, from the
                                    command start */
    size_t scan;                 /* private: where a line search resumes */
    long long left;              /* private: bulks still to read */
    long long bulklen;           /* private: length of the current bulk */
    size_t need;                 /* private: bytes still needed at least */
    size_t argv_cap;             /* private: entries allocated in argv */
    char *scratch;               /* private: decoded inline arguments */
    size_t scratch_cap;          /* private: bytes allocated in scratch */
    const char *err;             /* private: error message after RESP_ERR */
    char errbuf[48];             /* private: storage for a formatted err */
};

/* Sets up p with a copy of *lim, or Redis's defaults when lim is NULL.
 * Allocates nothing; never fails. */
void resp_parser_init(struct resp_parser *p, const struct resp_limits *lim);

/* Forgets any partial command and a sticky error; keeps the allocations and
 * the limits.  For a caller that discards its input buffer. */
void resp_parser_reset(struct resp_parser *p);

/* Releases the parser's storage; p may be re-initialized afterwards. */
void resp_parser_free(struct resp_parser *p);

/* Replaces the limits (see struct resp_limits). */
void resp_parser_set_limits(struct resp_parser *p,
                            const struct resp_limits *lim);

/*
 * Parses at most one command from buf[0..len), which must start at the first
 * unconsumed byte: after RESP_AGAIN, call again with the same start and
 * more bytes appended (the buffer may have moved).  *consumed is set to the
 * number of bytes to drop from the front of the buffer (0 unless RESP_OK or
 * RESP_EMPTY).
 *
 * Returns:
 *   RESP_OK     a command: p->argc >= 1 arguments in p->argv, pointing into
 *               buf (multibulk) or into the parser's scratch (inline); valid
 *               until buf moves or is freed, or the next resp_parse().
 *   RESP_EMPTY  a blank inline line or *N with N <= 0 was consumed.
 *   RESP_AGAIN  the command is incomplete; see resp_parser_need().
 *   RESP_ERR    protocol error; resp_parser_error() holds the reply text.
 *               The parser stays in error until reset.
 *   RESP_ENOMEM growing argv or scratch failed; nothing was lost, calling
 *               again with the same bytes retries.
 */
int resp_parse(struct resp_parser *p, const char *buf, size_t len,
               size_t *consumed);

/* After RESP_AGAIN: how many more bytes, beyond the len of that call, the
 * command needs at least (the rest of a bulk and its CRLF, or 1 while a line
 * is unfinished).  Lets a connection grow its buffer once for a big bulk.
 * 0 after RESP_OK, RESP_EMPTY and RESP_ERR. */
size_t resp_parser_need(const struct resp_parser *p);

/* After RESP_ERR: the error reply text, "ERR Protocol error: ..." (without
 * the leading '-' or CRLF), ready for resp_add_error(); else NULL. */
const char *resp_parser_error(const struct resp_parser *p);

/* True between a RESP_AGAIN and the end of that command. */
int resp_parser_busy(const struct resp_parser *p);

/* Parses a Redis-style integer (string2ll rules: optional '-', no '+', no
 * leading zeros, no spaces, at most 20 characters).  Returns 1 and sets *out
 * on success, 0 otherwise. */
int resp_str2ll(const char *s, size_t len, long long *out);

/* Writes v in decimal to dst (at least 21 bytes), no NUL; returns the
 * length.  Hand-rolled: replies format integers on the hot path. */
size_t resp_ll2str(char *dst, long long v);
size_t resp_ull2str(char *dst, unsigned long long v);

/* Test hook: make the n-th next allocation made by this module fail
 * (1 = the very next one); 0 disables.  Not for production use. */
void resp_debug_fail_alloc(int n);

/* ------------------------------------------------------------------------
 * Output buffer
 * ---------------------------------------------------------------------- */

/* A growable byte buffer.  After an allocation fails, failed stays set and
 * every append is a no-op until rbuf_clear(). */
struct rbuf {
    char *data;                  /* len bytes of output, cap allocated */
    size_t len;                  /* bytes in use */
    size_t cap;                  /* bytes allocated */
    int failed;                  /* sticky: an allocation failed */
};

/* Initializes an empty buffer; allocates nothing. */
void rbuf_init(struct rbuf *b);

/* Frees the storage and leaves b empty (re-usable). */
void rbuf_free(struct rbuf *b);

/* Makes room for at least n more bytes.  Returns EMBER_OK, or EMBER_ENOMEM
 * (and sets b->failed) when the allocation fails or b->failed was set. */
int rbuf_reserve(struct rbuf *b, size_t n);

/* Empties the buffer and clears the failed flag; keeps the allocation. */
void rbuf_clear(struct rbuf *b);

/* Drops the first n bytes (a partial write), moving the rest down. */
void rbuf_consume(struct rbuf *b, size_t n);

/* Appends n raw bytes, e.g. a reply another shard encoded already. */
void rbuf_append(struct rbuf *b, const void *p, size_t n);

/* ------------------------------------------------------------------------
 * Reply encoder
 *
 * Every function appends one RESP value (or an aggregate header) to o->b,
 * for the protocol o->proto (2 or 3).  None returns a status: check
 * o->b->failed once before sending.
 * ---------------------------------------------------------------------- */

struct resp_out {
    struct rbuf *b;              /* where replies go */
    int proto;                   /* 2 or 3 (HELLO) */
};

/* +s.  CR and LF in s become spaces (a status must stay one line). */
void resp_add_simple(struct resp_out *o, const char *s);
void resp_add_simple_len(struct resp_out *o, const char *s, size_t len);

/* -msg.  msg carries its code: "ERR no such key", "WRONGTYPE ...".  CR and
 * LF become spaces, as Redis does for formatted errors. */
void resp_add_error(struct resp_out *o, const char *msg);
void resp_add_error_len(struct resp_out *o, const char *msg, size_t len);

/* Formatted error, like Redis's addReplyErrorFormat(): CR/LF at either end
 * are trimmed, the rest become spaces. */
void resp_add_error_fmt(struct resp_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* :v */
void resp_add_int(struct resp_out *o, long long v);

/* $len\r\n...\r\n */
void resp_add_bulk(struct resp_out *o, const void *p, size_t len);
/* Bulk of a C string; NULL gives a null (like addReplyBulkCString). */
void resp_add_bulk_cstr(struct resp_out *o, const char *s);
/* Bulk holding v in decimal. */
void resp_add_bulk_ll(struct resp_out *o, long long v);

/* Null: RESP2 $-1, RESP3 _. */
void resp_add_null(struct resp_out *o);
/* Null array: RESP2 *-1, RESP3 _. */
void resp_add_null_array(struct resp_out *o);

/* Aggregate headers; n >= 0 elements follow (a map's n counts pairs).
 * RESP2 renders a map as *2n, a set as *n and a push as *n (pub/sub
 * messages are plain arrays in RESP2). */
void resp_add_array(struct resp_out *o, long n);
void resp_add_map(struct resp_out *o, long n);
void resp_add_set(struct resp_out *o, long n);
void resp_add_push(struct resp_out *o, long n);

/* Double as Redis 7.0 renders it: %.17g; inf and -inf spelled out.
 * RESP2: a bulk; RESP3: ,<double>. */
void resp_add_double(struct resp_out *o, double d);

/* RESP3 #t/#f; RESP2 :1/:0. */
void resp_add_bool(struct resp_out *o, int v);

/* RESP3 =<len+4>\r\next:data; RESP2 a plain bulk.  ext: up to 3 chars,
 * padded with spaces ("txt", "mkd"). */
void resp_add_verbatim(struct resp_out *o, const char *p, size_t len,
                       const char *ext);

/* RESP3 (<digits>; RESP2 a bulk. */
void resp_add_bignum(struct resp_out *o, const char *p, size_t len);

/*
 * Deferred aggregate length: resp_add_deferred() returns a handle where the
 * header will go; append the elements, then call one resp_set_deferred_*()
 * with the count.  Setting a header may move every byte after it, so when
 * deferred headers nest, set the innermost (latest) first.  The handle is an
 * offset into o->b: it dies with rbuf_clear()/rbuf_consume().  After a
 * failed allocation both calls do nothing.
 */
size_t resp_add_deferred(struct resp_out *o);
void resp_set_deferred_array(struct resp_out *o, size_t h, long n);
void resp_set_deferred_map(struct resp_out *o, size_t h, long n);
void resp_set_deferred_set(struct resp_out *o, size_t h, long n);
void resp_set_deferred_push(struct resp_out *o, size_t h, long n);

#endif /* EMBER_RESP_H */
