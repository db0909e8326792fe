/*
 * t_keys.c - commands on keys of any type (Redis's "generic" group): DEL
 * UNLINK EXISTS TOUCH TYPE, the EXPIRE and TTL families, PERSIST, KEYS
 * SCAN RANDOMKEY, RENAME RENAMENX, and the internal commands they send to
 * other workers (@keys @scan @randomkey @take @put).
 *
 * Semantics, reply types and error strings are Redis 7.0's (db.c,
 * expire.c).  What ember adds is that each worker owns one shard:
 *
 *   - Single-key commands (TYPE, EXPIRE..., TTL..., PERSIST) reach the
 *     owner through the dispatcher and act on the local arena only.
 *   - DEL UNLINK EXISTS TOUCH split their keys by owner; each owner runs
 *     the same command on its own keys, in one mutation, and the counts are
 *     summed.  Keys all on one shard: the command runs there whole.
 *   - KEYS and RANDOMKEY ask every shard (@keys, @randomkey).
 *   - SCAN walks the shards one after the other.  A cursor's bits from
 *     SCAN_SHARD_SHIFT up name the shard, the bits below are that shard's
 *     dict cursor, and @scan runs one step there.  Each shard's dict keeps
 *     Redis's guarantee, so SCAN keeps it: a key present for the whole scan
 *     is returned at least once (and exactly once if nothing changes).
 *   - RENAME within a shard is one mutation, atomic; across shards it
 *     copies the value (@take), stores it (@put), then deletes the source
 *     if unchanged (@put CAS), never losing it; see "RENAME across shards"
 *     for what other clients may see meanwhile.  Values travel in a
 *     logical format (the table before dump_value()).
 *
 * A handler of a self-routing command (CMD_NOKEYROUTE) runs with x->c set
 * on the client's worker, where it routes; with x->c == NULL it is a part
 * sent by a coordinator (or run locally by cross_run_local_part) and does
 * only this shard's work.  With one worker everything is local.
 */
#include "server.h"
#include "blocking.h"
#include "commands.h"
#include "cross.h"
#include "util.h"

#include "shm/alloc.h"
#include "shm/hset.h"
#include "shm/qlist.h"
#include "shm/zset.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define SCAN_LOCAL_MASK ((1ull << SCAN_SHARD_SHIFT) - 1)

static const char *type_name(unsigned type)
{
    switch (type) {
    case KS_T_STRING: return "string";
    case KS_T_LIST: return "list";
    case KS_T_HASH: return "hash";
    case KS_T_SET: return "set";
    case KS_T_ZSET: return "zset";
    }
    return "unknown";
}

/* Does this handler do all the work here?  (A part, or a single worker.) */
static int local_only(const struct cmd_ctx *x)
{
    return x->c == NULL || W.nworkers <= 1;
}

/* ---- coordinating across shards ------------------------------------------------ */

/*
 * Where a command on keys argv[1..argc-1] runs.  Returns 1 when the
 * handler does all the work here (a part, one worker, or every key ours),
 * 0 when the whole command went to the one other shard owning every key,
 * -1 when the keys span shards.
 */
static int route_keys(struct cmd_ctx *x)
{
    unsigned owner;
    int j;

    if (local_only(x))
        return 1;
    owner = key_shard(x->argv[1].ptr, x->argv[1].len);
    for (j = 2; j < x->argc; j++)
        if (key_shard(x->argv[j].ptr, x->argv[j].len) != owner)
            return -1;
    if (owner == W.id)
        return 1;
    cross_forward(x, owner);
    W.st.forwarded++;
    return 0;
}

/*
 * Sends x's keys, grouped by owner, as parts of one pending: each owner
 * gets the same command (argv[0] as the client sent it) with its keys in
 * their original order, so DEL k k still counts one and EXISTS k k two.
 */
static void split_keys(struct cmd_ctx *x, merge_fn *merge)
{
    int part_of[MAX_WORKERS], j, n;
    unsigned owner[MAX_WORKERS], nparts = 0, i;
    unsigned *own = malloc(sizeof(*own) * (size_t)x->argc);
    struct resp_arg *v = malloc(sizeof(*v) * (size_t)x->argc);
    struct pending *p = NULL;

    for (i = 0; i < W.nworkers; i++)
        part_of[i] = -1;
    if (own != NULL && v != NULL) {
        for (j = 1; j < x->argc; j++) {
            own[j] = key_shard(x->argv[j].ptr, x->argv[j].len);
            if (part_of[own[j]] < 0) {
                part_of[own[j]] = (int)nparts;
                owner[nparts++] = own[j];
            }
        }
        p = cross_pending(x->c, x->c->proto, nparts, merge);
    }
    if (p == NULL) {
        reply_error(x, "ERR out of memory");
        goto done;
    }
    for (i = 0; i < nparts; i++) {
        n = 0;
        v[n++] = x->argv[0];
        for (j = 1; j < x->argc; j++)
            if (own[j] == owner[i])
                v[n++] = x->argv[j];
        cross_send_part(p, i, owner[i], x->db, n, v);
    }
    cross_pending_issued(p);
done:
    free(own);
    free(v);
}

/* Runs a command on keys argv[1..]: here, at the one owner, or split. */
static void run_on_keys(struct cmd_ctx *x, cmd_proc *local, merge_fn *merge)
{
    int r = route_keys(x);

    if (r == 1)
        local(x);
    else if (r < 0)
        split_keys(x, merge);
}

/* ---- parsing the parts' replies ------------------------------------------------- */

/* Bytes of the CRLF-terminated line at p (CRLF included), or 0. */
static size_t line_len(const char *p, size_t len)
{
    const char *nl = len ? memchr(p, '\n', len) : NULL;
    return nl && nl > p ? (size_t)(nl - p) + 1 : 0;
}

/* Parses "<prefix><integer>\r\n" at p: its size, or 0. */
static size_t parse_num_line(const char *p, size_t len, char prefix, long long *v)
{
    size_t l = line_len(p, len);

    if (l < 4 || p[0] != prefix || p[l - 2] != '\r' || !util_str2ll(p + 1, l - 3, v))
        return 0;
    return l;
}

/*
 * Parses a bulk string or a null at p.  Returns its size and sets *s, *n
 * (*s = NULL for a null), or 0 when p holds something else.
 */
static size_t parse_bulk(const char *p, size_t len, const char **s, size_t *n)
{
    long long bl;
    size_t l;

    if (len >= 3 && memcmp(p, "_\r\n", 3) == 0) {
        *s = NULL;
        return 3;
    }
    l = parse_num_line(p, len, '$', &bl);
    if (l == 0)
        return 0;
    if (bl < 0) {
        *s = NULL;
        return l;
    }
    if ((unsigned long long)bl > len - l || len - l - (size_t)bl < 2 ||
        memcmp(p + l + bl, "\r\n", 2) != 0)
        return 0;
    *s = p + l;
    *n = (size_t)bl;
    return l + (size_t)bl + 2;
}

/* A part's reply is an error (or empty, which only a lost part gives). */
static int is_error(const struct rbuf *r)
{
    return r->len == 0 || r->data[0] == '-';
}

static void copy_error(const struct rbuf *r, struct resp_out *out)
{
    if (r->len > 0)
        rbuf_append(out->b, r->data, r->len);
    else
        resp_add_error(out, "ERR no reply from the owning shard");
}

static void reply_malformed(struct resp_out *out)
{
    resp_add_error(out, "ERR malformed reply from the owning shard");
}

/* ---- DEL UNLINK EXISTS TOUCH TYPE ------------------------------------------------- */

static void del_local(struct cmd_ctx *x)
{
    long long n = 0;
    struct db_key k;
    uint64_t off;
    int j;

    for (j = 1; j < x->argc; j++) {
        /* An expired key is deleted by the lookup and not counted. */
        off = db_lookup_write(x, x->argv[j].ptr, x->argv[j].len, &k);
        if (off == 0)
            continue;
        if (db_delete(x, &k, off) != EMBER_OK)
            return;
        n++;
    }
    resp_add_int(&x->out, n);
}

/* EXISTS and TOUCH (there is no LRU clock to touch): keys found. */
static void exists_local(struct cmd_ctx *x)
{
    long long n = 0;
    struct db_key k;
    int j;

    for (j = 1; j < x->argc; j++)
        if (db_lookup_read(x, x->argv[j].ptr, x->argv[j].len, &k))
            n++;
    resp_add_int(&x->out, n);
}

void delCommand(struct cmd_ctx *x)
{
    run_on_keys(x, del_local, merge_sum_ints);
}

/* Freeing is already lazy (big values go to the garbage list). */
void unlinkCommand(struct cmd_ctx *x)
{
    run_on_keys(x, del_local, merge_sum_ints);
}

void existsCommand(struct cmd_ctx *x)
{
    run_on_keys(x, exists_local, merge_sum_ints);
}

void touchCommand(struct cmd_ctx *x)
{
    run_on_keys(x, exists_local, merge_sum_ints);
}

void typeCommand(struct cmd_ctx *x)
{
    struct db_key k;

    if (db_lookup_read(x, x->argv[1].ptr, x->argv[1].len, &k))
        resp_add_simple(&x->out, type_name(k.e.type));
    else
        resp_add_simple(&x->out, "none");
}

/* ---- EXPIRE PEXPIRE EXPIREAT PEXPIREAT ---------------------------------------------- */

#define EXPIRE_NX 1
#define EXPIRE_XX 2
#define EXPIRE_GT 4
#define EXPIRE_LT 8

/* Parses NX XX GT LT from argv[3] on, with Redis's errors.  0 or -1. */
static int parse_expire_flags(struct cmd_ctx *x, int *flags)
{
    int j;

    for (j = 3; j < x->argc; j++) {
        if (ARG_EQ(x, j, "nx")) {
            *flags |= EXPIRE_NX;
        } else if (ARG_EQ(x, j, "xx")) {
            *flags |= EXPIRE_XX;
        } else if (ARG_EQ(x, j, "gt")) {
            *flags |= EXPIRE_GT;
        } else if (ARG_EQ(x, j, "lt")) {
            *flags |= EXPIRE_LT;
        } else {
            /* Redis formats the option with %s: it stops at a NUL. */
            const struct resp_arg *a = &x->argv[j];
            const char *nul = memchr(a->ptr, '\0', a->len);
            size_t n = nul ? (size_t)(nul - a->ptr) : a->len;
            struct rbuf msg;
            rbuf_init(&msg);
            rbuf_append(&msg, "ERR Unsupported option ", 23);
            rbuf_append(&msg, a->ptr, n);
            if (msg.failed)
                reply_error(x, "ERR Unsupported option");
            else
                resp_add_error_len(&x->out, msg.data, msg.len);
            rbuf_free(&msg);
            return -1;
        }
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(x, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        reply_error(x, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    return 0;
}

/*
 * The expire family: argv[2] is seconds or ms (`seconds`), relative to
 * basetime (now, or 0 for the *AT forms).  A time not after now deletes
 * the key, as Redis does on a master.
 */
static void expire_generic(struct cmd_ctx *x, long long basetime, int seconds)
{
    long long when, cur;
    struct db_key k;
    uint64_t off, noff;
    int flags = 0, rc;

    if (parse_expire_flags(x, &flags) != 0 || arg_ll(x, 2, &when) != 0)
        return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            goto bad_time;
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime)
        goto bad_time;
    when += basetime;
    off = db_lookup_write(x, x->argv[1].ptr, x->argv[1].len, &k);
    if (off == 0) {
        resp_add_int(&x->out, 0);
        return;
    }
    if (flags) {
        cur = k.e.has_expire ? ks_entry_expire(&k.e) : -1;
        /* No expiry counts as an infinite one for GT and LT. */
        if (((flags & EXPIRE_NX) && cur != -1) || ((flags & EXPIRE_XX) && cur == -1) ||
            ((flags & EXPIRE_GT) && (cur == -1 || when <= cur)) ||
            ((flags & EXPIRE_LT) && cur != -1 && when >= cur)) {
            resp_add_int(&x->out, 0);
            return;
        }
    }
    if (when <= W.now_ms) {
        if (db_delete(x, &k, off) != EMBER_OK)
            return;
        resp_add_int(&x->out, 1);
        return;
    }
    rc = ks_set_expire(W.arena, x->db, &k.pos, k.hash, off, when, &noff);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty++;
    resp_add_int(&x->out, 1);
    return;
bad_time:
    reply_errorf(x, "ERR invalid expire time in '%s' command", x->cmd->name);
}

void expireCommand(struct cmd_ctx *x)
{
    expire_generic(x, W.now_ms, 1);
}

void pexpireCommand(struct cmd_ctx *x)
{
    expire_generic(x, W.now_ms, 0);
}

void expireatCommand(struct cmd_ctx *x)
{
    expire_generic(x, 0, 1);
}

void pexpireatCommand(struct cmd_ctx *x)
{
    expire_generic(x, 0, 0);
}

/* ---- TTL PTTL EXPIRETIME PEXPIRETIME PERSIST ------------------------------------------ */

/* -2 without the key, -1 without an expiry; seconds are rounded. */
static void ttl_generic(struct cmd_ctx *x, int ms, int absolute)
{
    struct db_key k;
    long long ttl;

    if (!db_lookup_read(x, x->argv[1].ptr, x->argv[1].len, &k)) {
        resp_add_int(&x->out, -2);
        return;
    }
    if (!k.e.has_expire) {
        resp_add_int(&x->out, -1);
        return;
    }
    ttl = ks_entry_expire(&k.e);
    if (!absolute)
        ttl -= W.now_ms;
    if (ttl < 0)
        ttl = 0;
    resp_add_int(&x->out, ms ? ttl : (ttl + 500) / 1000);
}

void ttlCommand(struct cmd_ctx *x)
{
    ttl_generic(x, 0, 0);
}

void pttlCommand(struct cmd_ctx *x)
{
    ttl_generic(x, 1, 0);
}

void expiretimeCommand(struct cmd_ctx *x)
{
    ttl_generic(x, 0, 1);
}

void pexpiretimeCommand(struct cmd_ctx *x)
{
    ttl_generic(x, 1, 1);
}

void persistCommand(struct cmd_ctx *x)
{
    struct db_key k;
    uint64_t off, noff;
    int rc;

    off = db_lookup_write(x, x->argv[1].ptr, x->argv[1].len, &k);
    if (off == 0 || !k.e.has_expire) {
        resp_add_int(&x->out, 0);
        return;
    }
    rc = ks_set_expire(W.arena, x->db, &k.pos, k.hash, off, -1, &noff);
    if (rc != EMBER_OK) {
        db_fail(x, rc);
        return;
    }
    x->dirty++;
    resp_add_int(&x->out, 1);
}

/* ---- KEYS ------------------------------------------------------------------------- */


struct keys_walk {
    struct cmd_ctx *x;
    const char *pat;
    size_t plen;
    int all;              /* the pattern is "*" */
    long n;               /* keys replied */
};

static int keys_cb(const struct shm_arena *a, uint64_t off, const uint64_t *slot, void *arg)
{
    struct keys_walk *w = arg;
    struct ks_entry e;

    ks_decode(a, off, &e);
    /* Expired keys are skipped, not deleted, as Redis's KEYS does. */
    if ((w->all || util_glob_match(w->pat, w->plen, e.key, e.klen, 0)) && !db_expired(&e)) {
        resp_add_bulk(&w->x->out, e.key, e.klen);
        w->n++;
    }
    return 0;
}

/* This shard's keys matching argv[1], as an array. */
static void keys_local(struct cmd_ctx *x)
{
    struct keys_walk w = { x, x->argv[1].ptr, x->argv[1].len, 0, 0 };
    size_t h = resp_add_deferred(&x->out);

    w.all = w.plen == 1 && w.pat[0] == '*';
    dict_each(W.arena, &ks_db(W.arena, x->db)->keys, keys_cb, &w);
    resp_set_deferred_array(&x->out, h, w.n);
}

void keysCommand(struct cmd_ctx *x)
{
    struct resp_arg v[2];

    if (local_only(x)) {
        keys_local(x);
        return;
    }
    v[0].ptr = "@keys";
    v[0].len = 5;
    v[1] = x->argv[1];
    if (cross_broadcast(x->c, x->c->proto, x->db, merge_concat_arrays, 2, v) == NULL)
        reply_error(x, "ERR out of memory");
}

/* @keys pattern */
void ikeysCommand(struct cmd_ctx *x)
{
    keys_local(x);
}

/* ---- SCAN ------------------------------------------------------------------------- */

struct scan_opts {
    long long count;      /* a hint: keys to visit */
    const char *pat;      /* MATCH, used when use_pat */
    size_t plen;
    int use_pat;
    const char *type;     /* TYPE, or NULL */
    size_t tlen;
};

/* SCAN's options from argv[first] on, with Redis's errors.  0 or -1. */
static int parse_scan_opts(struct cmd_ctx *x, int first, struct scan_opts *o)
{
    int i = first;

    memset(o, 0, sizeof(*o));
    o->count = 10;
    while (i < x->argc) {
        int left = x->argc - i;
        if (ARG_EQ(x, i, "count") && left >= 2) {
            if (arg_ll(x, i + 1, &o->count) != 0)
                return -1;
            if (o->count < 1) {
                reply_syntax(x);
                return -1;
            }
        } else if (ARG_EQ(x, i, "match") && left >= 2) {
            o->pat = x->argv[i + 1].ptr;
            o->plen = x->argv[i + 1].len;
            o->use_pat = !(o->plen == 1 && o->pat[0] == '*');
        } else if (ARG_EQ(x, i, "type") && left >= 2) {
            /* Redis compares it with strcasecmp: up to a NUL. */
            const char *nul = memchr(x->argv[i + 1].ptr, '\0', x->argv[i + 1].len);
            o->type = x->argv[i + 1].ptr;
            o->tlen = nul ? (size_t)(nul - o->type) : x->argv[i + 1].len;
        } else {
            reply_syntax(x);
            return -1;
        }
        i += 2;
    }
    return 0;
}

/* A key found by a scan step, before filtering. */
struct scan_key {
    size_t at;            /* its bytes in scan_step.keys */
    uint32_t len;
    int expired;
};

struct scan_step {
    const struct scan_opts *o;
    long long seen;       /* keys visited, matching or not (COUNT counts these) */
    struct rbuf keys;     /* copies: filtering may delete the entries */
    struct scan_key *k;
    size_t n, cap;
    int oom;
};

/* Key i's bytes (never NULL: empty keys leave the buffer unallocated). */
static const char *scan_key_at(const struct scan_step *s, size_t i)
{
    return s->keys.data ? s->keys.data + s->k[i].at : "";
}

static void scan_cb(const struct shm_arena *a, uint64_t off, void *arg)
{
    struct scan_step *s = arg;
    struct ks_entry e;

    ks_decode(a, off, &e);
    s->seen++;
    if (s->o->use_pat && !util_glob_match(s->o->pat, s->o->plen, e.key, e.klen, 0))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct scan_key *k = realloc(s->k, cap * sizeof(*k));
        if (k == NULL) {
            s->oom = 1;
            return;
        }
        s->k = k;
        s->cap = cap;
    }
    s->k[s->n].at = s->keys.len;
    s->k[s->n].len = e.klen;
    s->k[s->n].expired = db_expired(&e);
    s->n++;
    rbuf_append(&s->keys, e.key, e.klen);
}

/*
 * One SCAN step on this shard from dict cursor `cursor`: fills s with the
 * keys to reply and returns the next dict cursor (0: this shard is done).
 * Like Redis: visits buckets until COUNT keys were seen or 10*COUNT
 * buckets, then filters by pattern, then by TYPE (looking the key up,
 * which deletes it if expired: an expired key then has type "none"), else
 * drops expired keys, deleting them.
 */
static uint64_t scan_local(struct cmd_ctx *x, uint64_t cursor, struct scan_step *s)
{
    const struct shm_dict *d = &ks_db(W.arena, x->db)->keys;
    const struct scan_opts *o = s->o;
    long long maxiter = o->count > LLONG_MAX / 10 ? LLONG_MAX : o->count * 10;
    size_t i, m = 0;

    do {
        cursor = dict_scan_exact(W.arena, d, cursor, ks_entry_hash, NULL, scan_cb, s);
    } while (cursor && maxiter-- && s->seen < o->count);
    for (i = 0; i < s->n; i++) {
        const char *key = scan_key_at(s, i);
        struct db_key k;
        int keep = 1;
        if (s->keys.failed)
            break;
        if (o->type) {
            const char *t = db_lookup_read(x, key, s->k[i].len, &k) ? type_name(k.e.type)
                                                                     : "none";
            keep = util_strcaseeq(o->type, o->tlen, t);
        } else if (s->k[i].expired) {
            (void)db_lookup_write(x, key, s->k[i].len, &k);   /* deletes it */
            keep = 0;
        }
        if (keep)
            s->k[m++] = s->k[i];
    }
    s->n = m;
    return cursor;
}

static void scan_free(struct scan_step *s)
{
    rbuf_free(&s->keys);
    free(s->k);
}

/* [cursor, [keys...]] */
static void scan_reply(struct cmd_ctx *x, const struct scan_step *s, uint64_t cursor)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cursor);
    size_t i;

    if (s->oom || s->keys.failed) {
        reply_error(x, "ERR out of memory");
        return;
    }
    resp_add_array(&x->out, 2);
    resp_add_bulk(&x->out, buf, (size_t)n);
    resp_add_array(&x->out, (long)s->n);
    for (i = 0; i < s->n; i++)
        resp_add_bulk(&x->out, scan_key_at(s, i), s->k[i].len);
}

/* The client's cursor after a step on `shard` that returned dict cursor next. */
static uint64_t scan_global_cursor(unsigned shard, uint64_t next)
{
    if (next != 0)
        return ((uint64_t)shard << SCAN_SHARD_SHIFT) | next;
    if (shard + 1 < W.nworkers)
        return (uint64_t)(shard + 1) << SCAN_SHARD_SHIFT;
    return 0;
}

static void scan_send_step(struct pending *p, unsigned shard, uint64_t cursor);

/*
 * A remote step's [local cursor, keys] -> [global cursor, keys].  A shard
 * that finished without a key hands over to the next one in the same call,
 * so that an empty keyspace answers cursor 0 at once, as Redis does.
 */
static void merge_scan(struct pending *p, struct resp_out *out)
{
    const struct rbuf *r = &p->parts[0].reply;
    const char *cur;
    size_t at, l, n = 0;
    long long h, next, nkeys;
    unsigned shard = (unsigned)p->arg[0];
    char buf[24];
    int bl;

    if (is_error(r)) {
        copy_error(r, out);
        return;
    }
    at = parse_num_line(r->data, r->len, '*', &h);
    if (at == 0 || h != 2 || (l = parse_bulk(r->data + at, r->len - at, &cur, &n)) == 0 ||
        cur == NULL || !util_str2ll(cur, n, &next) || next < 0 ||
        parse_num_line(r->data + at + l, r->len - at - l, '*', &nkeys) == 0) {
        reply_malformed(out);
        return;
    }
    at += l;
    if (next == 0 && nkeys == 0 && shard + 1 < W.nworkers) {
        p->arg[0] = shard + 1;
        cross_rearm(p, 1, merge_scan);
        scan_send_step(p, shard + 1, 0);
        return;
    }
    bl = snprintf(buf, sizeof(buf), "%llu",
                  (unsigned long long)scan_global_cursor(shard, (uint64_t)next));
    resp_add_array(out, 2);
    resp_add_bulk(out, buf, (size_t)bl);
    rbuf_append(out->b, r->data + at, r->len - at);   /* the keys, as encoded */
}

/* Sends "@scan cursor options..." to `shard` as the pending's part 0; the
 * options are the client's, kept in p->ctx. */
static void scan_send_step(struct pending *p, unsigned shard, uint64_t cursor)
{
    const struct argv_copy *m = p->ctx;
    struct resp_arg small[16], *v = small;
    char buf[24];
    int i;

    /* Options may repeat (the last one counts, as in Redis). */
    if (m->argc > 16 && (v = malloc((size_t)m->argc * sizeof(*v))) == NULL) {
        static const char oom[] = "-ERR out of memory\r\n";
        cross_local_part(p, 0, oom, sizeof(oom) - 1);
        return;
    }
    v[0].ptr = "@scan";
    v[0].len = 5;
    v[1].ptr = buf;
    v[1].len = (size_t)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cursor);
    for (i = 2; i < m->argc; i++)
        v[i] = m->argv[i];
    cross_send_part(p, 0, shard, m->db, m->argc, v);
    if (v != small)
        free(v);
}

void scanCommand(struct cmd_ctx *x)
{
    struct scan_step s;
    struct scan_opts o;
    struct pending *p;
    struct argv_copy *m;
    uint64_t cursor, next;
    unsigned shard;

    if (arg_cursor(x, 1, &cursor) != 0 || parse_scan_opts(x, 2, &o) != 0)
        return;
    shard = (unsigned)(cursor >> SCAN_SHARD_SHIFT);
    cursor &= SCAN_LOCAL_MASK;
    if (shard >= W.nworkers) {
        /* Not a cursor we gave out: the iteration is over. */
        resp_add_array(&x->out, 2);
        resp_add_bulk(&x->out, "0", 1);
        resp_add_array(&x->out, 0);
        return;
    }
    /* Steps on this shard run here, moving on while a shard ends empty. */
    while (local_only(x) || shard == W.id) {
        memset(&s, 0, sizeof(s));
        s.o = &o;
        rbuf_init(&s.keys);
        next = scan_local(x, cursor, &s);
        if (next == 0 && s.n == 0 && shard + 1 < W.nworkers && !local_only(x)) {
            scan_free(&s);
            shard++;
            cursor = 0;
            continue;
        }
        scan_reply(x, &s, scan_global_cursor(shard, next));
        scan_free(&s);
        return;
    }
    m = cross_argv_copy(x);
    if (m == NULL || (p = cross_pending(x->c, x->c->proto, 1, merge_scan)) == NULL) {
        free(m);
        reply_error(x, "ERR out of memory");
        return;
    }
    p->arg[0] = shard;
    p->ctx = m;
    scan_send_step(p, shard, cursor);
    cross_pending_issued(p);
}

/* @scan cursor [MATCH p] [COUNT n] [TYPE t]: one step of this shard. */
void iscanCommand(struct cmd_ctx *x)
{
    struct scan_step s;
    struct scan_opts o;
    uint64_t cursor, next;

    if (arg_cursor(x, 1, &cursor) != 0 || parse_scan_opts(x, 2, &o) != 0)
        return;
    memset(&s, 0, sizeof(s));
    s.o = &o;
    rbuf_init(&s.keys);
    next = scan_local(x, cursor & SCAN_LOCAL_MASK, &s);
    scan_reply(x, &s, next);
    scan_free(&s);
}

/* ---- RANDOMKEY ---------------------------------------------------------------------- */

/*
 * A random live key of this shard: its entry offset (0: none) and e.
 * Expired keys drawn on the way are deleted and another is drawn, as in
 * Redis's dbRandomKey; every draw deletes one or returns, so it ends.
 */
static uint64_t random_live(struct cmd_ctx *x, struct ks_entry *e)
{
    const struct shm_dict *d = &ks_db(W.arena, x->db)->keys;

    for (;;) {
        uint64_t before = d->count, off = dict_random(W.arena, d, worker_rand());
        struct db_key k;
        if (off == 0)
            return 0;
        ks_decode(W.arena, off, e);
        if (!db_expired(e))
            return off;
        (void)db_lookup_write(x, e->key, e->klen, &k);
        if (d->count >= before)
            return 0;     /* nothing was deleted: never spin */
    }
}

/* The parts' [count, key] -> a key drawn with probability count/total. */
static void merge_randomkey(struct pending *p, struct resp_out *out)
{
    long long total = 0, pick, cnt[MAX_WORKERS];
    const char *key[MAX_WORKERS];
    size_t klen[MAX_WORKERS];
    unsigned i;

    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        long long h;
        size_t at, l;
        if (is_error(r)) {
            copy_error(r, out);
            return;
        }
        at = parse_num_line(r->data, r->len, '*', &h);
        if (at == 0 || h != 2 || (l = parse_num_line(r->data + at, r->len - at, ':',
                                                      &cnt[i])) == 0 ||
            parse_bulk(r->data + at + l, r->len - at - l, &key[i], &klen[i]) == 0) {
            reply_malformed(out);
            return;
        }
        if (key[i] == NULL)
            cnt[i] = 0;
        else if (cnt[i] < 1)
            cnt[i] = 1;
        total += cnt[i];
    }
    if (total == 0) {
        resp_add_null(out);
        return;
    }
    pick = (long long)(worker_rand() % (uint64_t)total);
    for (i = 0; i < p->nparts; i++) {
        if (pick < cnt[i]) {
            resp_add_bulk(out, key[i], klen[i]);
            return;
        }
        pick -= cnt[i];
    }
    resp_add_null(out);   /* unreachable: the counts add up to total */
}

void randomkeyCommand(struct cmd_ctx *x)
{
    struct ks_entry e;
    struct resp_arg v;

    if (local_only(x)) {
        if (random_live(x, &e))
            resp_add_bulk(&x->out, e.key, e.klen);
        else
            resp_add_null(&x->out);
        return;
    }
    v.ptr = "@randomkey";
    v.len = 10;
    if (cross_broadcast(x->c, x->c->proto, x->db, merge_randomkey, 1, &v) == NULL)
        reply_error(x, "ERR out of memory");
}

/* @randomkey: [this shard's key count, a random key or null]. */
void irandomkeyCommand(struct cmd_ctx *x)
{
    struct ks_entry e;
    uint64_t off = random_live(x, &e);

    resp_add_array(&x->out, 2);
    resp_add_int(&x->out, (long long)ks_count(W.arena, x->db));
    if (off)
        resp_add_bulk(&x->out, e.key, e.klen);
    else
        resp_add_null(&x->out);
}

/* ---- values between shards: @take and @put ----------------------------------------- */

/*
 * A key's value as it travels between shards: type, expiry and contents,
 * independent of the arena layout, so that workers running different
 * builds (during an upgrade) still understand each other.  Little-endian.
 *
 *   OFFSET SIZE  MEANING
 *      0     1   format version, DUMP_VERSION
 *      1     1   type, KS_T_*
 *      2     1   a sorted set: 1 if it was a skiplist, 0 if compact (the
 *                encoding shows: a compact score -0 reads back 0, as in
 *                Redis, which keeps a renamed value's encoding); else 0
 *      3     5   reserved, zero
 *      8     8   expiry, unix time in ms (int64); -1 for none
 *     16     -   the contents, by type:
 *                  string  its bytes
 *                  list    u64 count, then each element head to tail as
 *                          u64 length + bytes
 *                  set     u64 count, then each member as u64 length + bytes
 *                  hash    u64 count, then each field and its value, each
 *                          as u64 length + bytes
 *                  zset    u64 count, then each member in rank order as
 *                          u64 length + bytes + its score (IEEE-754 double)
 *
 * Every type travels.
 */
#define DUMP_VERSION 1
#define DUMP_HDR 16

typedef void dump_sink(void *ctx, const void *p, size_t n);

static void sink_u64(dump_sink *sink, void *ctx, uint64_t v)
{
    sink(ctx, &v, 8);
}

/* A sorted set's dump (the table above): members in rank order, each with
 * its score's IEEE bits, so the value arrives exactly as it left. */
static int dump_zset(const struct ks_ref *r, dump_sink *sink, void *ctx, int64_t exp)
{
    unsigned char h[DUMP_HDR];
    struct zset_it it;
    const uint8_t *m;
    size_t mlen;
    double s;

    memset(h, 0, sizeof(h));
    h[0] = DUMP_VERSION;
    h[1] = KS_T_ZSET;
    h[2] = r->e.enc != 0;
    memcpy(h + 8, &exp, 8);
    sink(ctx, h, sizeof(h));
    sink_u64(sink, ctx, zset_len(W.arena, r));
    zset_iter_rank(W.arena, r, 0, 0, &it);
    while (zset_next(&it, &m, &mlen, &s)) {
        sink_u64(sink, ctx, mlen);
        sink(ctx, m, mlen);
        sink(ctx, &s, 8);
    }
    return 0;
}

/* A list's dump: its elements head to tail (t_list.c's types). */
static int dump_list(const struct ks_ref *r, dump_sink *sink, void *ctx, int64_t exp)
{
    unsigned char h[DUMP_HDR];
    struct qlist_iter it;
    struct qlist_elem el;
    int rc;

    memset(h, 0, sizeof(h));
    h[0] = DUMP_VERSION;
    h[1] = KS_T_LIST;
    memcpy(h + 8, &exp, 8);
    sink(ctx, h, sizeof(h));
    sink_u64(sink, ctx, qlist_len(W.arena, r));
    qlist_iter_init(W.arena, r, 0, QLIST_TAIL, &it);
    while ((rc = qlist_iter_next(&it, &el)) > 0) {
        sink_u64(sink, ctx, el.len);
        sink(ctx, el.s, el.len);
    }
    qlist_iter_release(&it);
    return rc < 0 ? -1 : 0;
}

/* Emits r's value, serialized, to sink in pieces.  0, or -1 when its type
 * cannot travel yet. */
static int dump_value(const struct ks_ref *r, dump_sink *sink, void *ctx)
{
    const struct ks_entry *e = &r->e;
    unsigned char h[DUMP_HDR];
    int64_t exp = e->has_expire ? ks_entry_expire(e) : -1;
    const uint8_t *m, *v;
    size_t mlen, vlen;
    struct hset_it it;

    if (e->type == KS_T_ZSET)
        return dump_zset(r, sink, ctx, exp);
    if (e->type == KS_T_LIST)
        return dump_list(r, sink, ctx, exp);
    if (e->type != KS_T_STRING && e->type != KS_T_HASH && e->type != KS_T_SET)
        return -1;
    memset(h, 0, sizeof(h));
    h[0] = DUMP_VERSION;
    h[1] = (unsigned char)e->type;
    memcpy(h + 8, &exp, 8);
    sink(ctx, h, sizeof(h));
    if (e->type == KS_T_STRING) {
        sink(ctx, e->val, e->vlen);
        return 0;
    }
    sink_u64(sink, ctx, hset_len(W.arena, r));
    hset_iter(W.arena, r, &it);
    while (hset_next(&it, &m, &mlen, &v, &vlen)) {
        sink_u64(sink, ctx, mlen);
        sink(ctx, m, mlen);
        if (e->type == KS_T_HASH) {
            sink_u64(sink, ctx, vlen);
            sink(ctx, v, vlen);
        }
    }
    return 0;
}

static void sink_count(void *ctx, const void *p, size_t n)
{
    *(size_t *)ctx += n;
}

static void sink_rbuf(void *ctx, const void *p, size_t n)
{
    rbuf_append(ctx, p, n);
}

static void sink_hash(void *ctx, const void *p, size_t n)
{
    (void)XXH3_128bits_update(ctx, p, n);
}

/*
 * The digest @put's CAS mode compares: XXH3-128 of the serialized value,
 * seeded with this run's ring epoch (shared by every worker, unknown to
 * clients, so no client can craft a value colliding with another).
 */
static void digest_bytes(const void *p, size_t n, unsigned char out[16])
{
    XXH128_canonical_t c;

    XXH128_canonicalFromHash(&c, XXH3_128bits_withSeed(p, n, W.shared->ring_epoch));
    memcpy(out, c.digest, 16);
}

static int digest_value(const struct ks_ref *r, unsigned char out[16])
{
    XXH3_state_t st;
    XXH128_canonical_t c;

    (void)XXH3_128bits_reset_withSeed(&st, W.shared->ring_epoch);
    if (dump_value(r, sink_hash, &st) != 0)
        return -1;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
    memcpy(out, c.digest, 16);
    return 0;
}

/* A reference to a looked-up key, for the collection modules. */
static void ref_of(const struct cmd_ctx *x, const struct db_key *k, uint64_t off,
                   struct ks_ref *r)
{
    r->db = x->db;
    r->hash = k->hash;
    r->pos = k->pos;
    r->off = off;
    r->e = k->e;
    r->key = k->e.key;
    r->klen = k->e.klen;
}

/* Reads a u64 length and that many bytes at *p (before end).  0 or -1. */
static int take_bytes(const char **p, const char *end, const char **s, size_t *n)
{
    uint64_t l;

    if (end - *p < 8)
        return -1;
    memcpy(&l, *p, 8);
    *p += 8;
    if ((uint64_t)(end - *p) < l)
        return -1;
    *s = *p;
    *n = (size_t)l;
    *p += l;
    return 0;
}

/* Is p..end a well-formed hash, set or list body (count, members[, values])? */
static int hset_body_ok(unsigned type, const char *p, const char *end)
{
    const char *m, *v;
    size_t mlen, vlen;
    uint64_t count, i;

    if (end - p < 8)
        return 0;
    memcpy(&count, p, 8);
    p += 8;
    for (i = 0; i < count; i++)
        if (take_bytes(&p, end, &m, &mlen) != 0 ||
            (type == KS_T_HASH && take_bytes(&p, end, &v, &vlen) != 0))
            return 0;
    return p == end;
}

/* Is p..end a well-formed sorted set body (count, then member and score,
 * no NaN)? */
static int zset_body_ok(const char *p, const char *end)
{
    uint64_t count, i;
    const char *m;
    size_t mlen;
    double s;

    if (end - p < 8)
        return 0;
    memcpy(&count, p, 8);
    p += 8;
    for (i = 0; i < count; i++) {
        if (take_bytes(&p, end, &m, &mlen) != 0 || end - p < 8)
            return 0;
        memcpy(&s, p, 8);
        if (isnan(s))
            return 0;
        p += 8;
    }
    return p == end;
}

/* Why a serialized value cannot be stored, or NULL when it can. */
static const char *value_error(const char *blob, size_t len)
{
    unsigned type;

    if (len < DUMP_HDR || blob[0] != DUMP_VERSION)
        return "ERR value from another shard in an unknown format";
    type = (unsigned char)blob[1];
    if (type == KS_T_STRING)
        return NULL;
    if (type == KS_T_HASH || type == KS_T_SET || type == KS_T_LIST)
        return hset_body_ok(type, blob + DUMP_HDR, blob + len) ? NULL
               : "ERR value from another shard is malformed";
    if (type == KS_T_ZSET)
        return zset_body_ok(blob + DUMP_HDR, blob + len) ? NULL
               : "ERR value from another shard is malformed";
    return "ERR a value of this type cannot move between shards yet";
}

/* A list's elements (count at p, then each one) pushed to r's tail, up to
 * 64 per qlist_push(). */
static int restore_list(struct ks_ref *r, const char *p, const char *end)
{
    struct pack_str v[64];
    uint64_t count, i;
    uint32_t n = 0;
    int rc = EMBER_OK;

    memcpy(&count, p, 8);
    p += 8;
    for (i = 0; i < count && rc == EMBER_OK; i++) {
        const char *el = NULL;
        (void)take_bytes(&p, end, &el, &v[n].len);
        v[n].s = el;
        if (++n == 64 || i + 1 == count) {
            rc = qlist_push(W.arena, r, QLIST_TAIL, v, n);
            n = 0;
        }
    }
    return rc;
}

/*
 * Stores a serialized value (checked by value_error()) as key, which must
 * be absent.  A value whose expiry has passed is not stored: it would be
 * gone on the next lookup anyway.  0, or an arena status after db_fail().
 */
static int restore_value(struct cmd_ctx *x, const struct resp_arg *key, const char *blob,
                         size_t len)
{
    unsigned type = (unsigned char)blob[1];
    const char *p = blob + DUMP_HDR + 8, *end = blob + len, *m = NULL, *v = NULL;
    size_t mlen = 0, vlen = 0;
    uint64_t count, i, noff;
    struct ks_ref r;
    int64_t exp;
    int added, rc = EMBER_OK;

    memcpy(&exp, blob + 8, 8);
    if (exp >= 0 && W.now_ms > exp)
        return 0;
    if (type == KS_T_STRING) {
        rc = ks_set_string(W.arena, x->db, key->ptr, key->len, blob + DUMP_HDR,
                           len - DUMP_HDR, exp < 0 ? -1 : exp);
    } else if (type == KS_T_ZSET) {
        /* Members in rank order with their exact scores, then the expiry. */
        unsigned out;
        double s;
        (void)ks_ref_find(W.arena, x->db, key->ptr, key->len, &r);
        memcpy(&count, blob + DUMP_HDR, 8);
        for (i = 0; i < count && rc == EMBER_OK; i++) {
            (void)take_bytes(&p, end, &m, &mlen);
            memcpy(&s, p, 8);
            p += 8;
            rc = zset_add(W.arena, &r, m, mlen, s, blob[2] ? ZSET_FULL : ZSET_COMPACT, &out,
                          NULL);
        }
        if (rc == EMBER_OK && exp >= 0 && r.off != 0)
            rc = ks_set_expire(W.arena, x->db, &r.pos, r.hash, r.off, exp, &noff);
    } else if (type == KS_T_LIST) {
        /* Elements head to tail, then the expiry; its waiters get served. */
        (void)ks_ref_find(W.arena, x->db, key->ptr, key->len, &r);
        rc = restore_list(&r, blob + DUMP_HDR, end);
        if (rc == EMBER_OK && exp >= 0 && r.off != 0)
            rc = ks_set_expire(W.arena, x->db, &r.pos, r.hash, r.off, exp, &noff);
        block_signal_key(x->db, key->ptr, key->len);
    } else {
        /* A hash or a set: members one by one, then the expiry. */
        (void)ks_ref_find(W.arena, x->db, key->ptr, key->len, &r);
        memcpy(&count, blob + DUMP_HDR, 8);
        for (i = 0; i < count && rc == EMBER_OK; i++) {
            (void)take_bytes(&p, end, &m, &mlen);
            if (type == KS_T_HASH)
                (void)take_bytes(&p, end, &v, &vlen);
            rc = hset_put(W.arena, &r, type, m, mlen, v, vlen, 0, &added);
        }
        if (rc == EMBER_OK && exp >= 0 && r.off != 0)
            rc = ks_set_expire(W.arena, x->db, &r.pos, r.hash, r.off, exp, &noff);
    }
    if (rc != EMBER_OK)
        return db_fail(x, rc);
    x->dirty++;
    return 0;
}

/*
 * @take key: the key's serialized value as a bulk string, or a null when
 * it does not exist.  The key stays: RENAME deletes it later with @put's
 * CAS mode, once the destination holds the value.
 */
void itakeCommand(struct cmd_ctx *x)
{
    struct ks_ref r;
    struct db_key k;
    uint64_t off;
    size_t n = 0;
    char hdr[32];
    int l;

    if ((off = db_lookup_write(x, x->argv[1].ptr, x->argv[1].len, &k)) == 0) {
        resp_add_null(&x->out);
        return;
    }
    ref_of(x, &k, off, &r);
    if (dump_value(&r, sink_count, &n) != 0) {
        reply_errorf(x, "ERR a %s value cannot move between shards yet", type_name(k.e.type));
        return;
    }
    /* The bulk written in place: the value is copied once. */
    l = snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);
    rbuf_append(x->out.b, hdr, (size_t)l);
    (void)dump_value(&r, sink_rbuf, x->out.b);
    rbuf_append(x->out.b, "\r\n", 2);
}

/*
 * @put key value mode [digest]
 *
 *   REPLACE  store the serialized value as key, replacing any value of any
 *            type (RENAME's destination); replies :1.
 *   NX       the same, only when key does not exist (RENAMENX); :1 or :0.
 *   CAS      only when key exists and its serialized value's digest is
 *            `digest` (digest_value): delete it when value is empty, else
 *            replace it; :1, or :0 when the key is missing or changed.
 */
void iputCommand(struct cmd_ctx *x)
{
    const struct resp_arg *key = &x->argv[1], *val = &x->argv[2];
    const char *err;
    struct db_key k;
    uint64_t off;
    int cas = 0;

    if (ARG_EQ(x, 3, "cas") && x->argc == 5 && x->argv[4].len == 16)
        cas = 1;
    else if (x->argc != 4 || !(ARG_EQ(x, 3, "replace") || ARG_EQ(x, 3, "nx"))) {
        reply_syntax(x);
        return;
    }
    /* Checked before anything changes: a refusal leaves the key alone. */
    if (val->len > 0 && (err = value_error(val->ptr, val->len)) != NULL) {
        reply_error(x, err);
        return;
    }
    off = db_lookup_write(x, key->ptr, key->len, &k);
    if (cas) {
        unsigned char d[16];
        struct ks_ref r;
        if (off != 0)
            ref_of(x, &k, off, &r);
        if (off == 0 || digest_value(&r, d) != 0 || memcmp(d, x->argv[4].ptr, 16) != 0) {
            resp_add_int(&x->out, 0);
            return;
        }
    } else if (off != 0 && ARG_EQ(x, 3, "nx")) {
        resp_add_int(&x->out, 0);
        return;
    }
    if (off != 0 && db_delete(x, &k, off) != EMBER_OK)
        return;
    if (val->len > 0 && restore_value(x, key, val->ptr, val->len) != 0)
        return;
    resp_add_int(&x->out, 1);
}

/* ---- RENAME RENAMENX ------------------------------------------------------------------ */

/*
 * RENAME with both keys on this shard: one mutation, atomic.  The source's
 * entry is copied under the new name with its type, encoding, value bytes
 * (inline contents, or the offset of a collection's structure, which thus
 * changes hands in O(1)) and expiry; then the old entry is unlinked.
 */
static void rename_local(struct cmd_ctx *x, int nx)
{
    const struct resp_arg *src = &x->argv[1], *dst = &x->argv[2];
    struct db_key ks, kd;
    struct ks_entry e, n;
    uint64_t soff, doff, dhash;
    int rc;

    soff = db_lookup_write(x, src->ptr, src->len, &ks);
    if (soff == 0) {
        reply_error(x, "ERR no such key");
        return;
    }
    if (src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0) {
        if (nx)
            resp_add_int(&x->out, 0);
        else
            reply_ok(x);
        return;
    }
    doff = db_lookup_write(x, dst->ptr, dst->len, &kd);
    if (doff != 0 && nx) {
        resp_add_int(&x->out, 0);
        return;
    }
    /* The destination's lookup may have deleted it (expired) and moved
     * slots: find the source again. */
    soff = ks_lookup(W.arena, x->db, src->ptr, src->len, ks.hash, &ks.pos);
    BUG_ON(soff == 0);
    ks_decode(W.arena, soff, &e);
    rc = ks_entry_new(W.arena, e.type, e.enc, dst->ptr, dst->len, e.vlen, e.vlen,
                      e.has_expire ? ks_entry_expire(&e) : -1, &n);
    if (rc != EMBER_OK)
        goto fail;
    memcpy(n.val, e.val, e.vlen);   /* a fresh block: no logging */
    dhash = doff ? kd.hash : ks_hash(W.arena, dst->ptr, dst->len);
    rc = doff ? ks_replace(W.arena, x->db, &kd.pos, kd.hash, doff, n.off)
              : ks_insert(W.arena, x->db, dhash, n.off);
    if (rc != EMBER_OK)
        goto fail;
    soff = ks_lookup(W.arena, x->db, src->ptr, src->len, ks.hash, &ks.pos);
    BUG_ON(soff == 0);
    rc = ks_unlink(W.arena, x->db, &ks.pos, ks.hash, soff);
    if (rc != EMBER_OK)
        goto fail;
    x->dirty++;
    if (e.type == KS_T_LIST)   /* clients blocked on dst get served */
        block_signal_key(x->db, dst->ptr, dst->len);
    if (nx)
        resp_add_int(&x->out, 1);
    else
        reply_ok(x);
    return;
fail:
    db_fail(x, rc);
}

/*
 * RENAME across shards: three phases of one pending, which keeps RENAME's
 * place in the client's replies throughout (cross_rearm).
 *
 *   1. "@take src" to src's owner: a copy of the value (type, contents,
 *      expiry), or null -> "ERR no such key".
 *   2. "@put dst <value> REPLACE|NX" to dst's owner: RENAMENX's :0 when
 *      dst exists, else dst now holds the value.
 *   3. "@put src '' CAS <digest>" to src's owner: deletes src if its value
 *      is still the one copied in phase 1.  Replies OK (RENAMENX: 1).
 *
 * The client reads no command until RENAME's reply is in
 * (cross_pause_client), so a pipelined "RENAME a b; GET a; GET b"
 * sees Redis's result: each GET reaches its owner after the phase that
 * wrote there, the rings being first in first out.
 *
 * The source is deleted last, so nothing is ever lost: a client that goes
 * away, or a worker that dies, between phases leaves the source alone
 * (after phase 1) or both keys holding the value (after phase 2); the
 * RENAME was never acknowledged.  (Taking the value away in phase 1 would
 * lose it with the client: cross.c merges nothing for a client that is
 * gone.)
 *
 * What other clients may see, the phases not being one atomic step: after
 * phase 2 and before phase 3, both keys, holding the same value.  A write
 * to src between phases 1 and 3 makes phase 3 keep src (the digest no
 * longer matches), as if the write came after the RENAME: dst holds the
 * value read in phase 1, src the new one, and RENAME replies OK all the
 * same.  Two RENAMEs of one source racing may both reply OK, leaving the
 * value under both new names.  Keys that share a {hash tag} share a
 * shard, and RENAME among them is atomic.
 */
struct rename_ctx {
    unsigned db;
    int nx;
    unsigned src_owner, dst_owner;
    unsigned char digest[16];        /* of the value phase 1 copied */
    size_t slen, dlen;
    char names[];                    /* src then dst */
};

/* Phase 3 done: the reply. */
static void merge_rename_delete(struct pending *p, struct resp_out *out)
{
    const struct rename_ctx *c = p->ctx;
    const struct rbuf *r = &p->parts[0].reply;

    if (is_error(r))
        copy_error(r, out);
    else if (c->nx)
        resp_add_int(out, 1);
    else
        resp_add_simple(out, "OK");
}

/* Phase 2 done: answer, or start phase 3. */
static void merge_rename_put(struct pending *p, struct resp_out *out)
{
    const struct rename_ctx *c = p->ctx;
    const struct rbuf *r = &p->parts[0].reply;
    struct resp_arg v[5];
    long long put;

    if (is_error(r)) {
        copy_error(r, out);
        return;
    }
    if (parse_num_line(r->data, r->len, ':', &put) == 0) {
        reply_malformed(out);
        return;
    }
    if (put == 0) {
        resp_add_int(out, 0);     /* RENAMENX: dst exists */
        return;
    }
    v[0].ptr = "@put";
    v[0].len = 4;
    v[1].ptr = c->names;
    v[1].len = c->slen;
    v[2].ptr = "";
    v[2].len = 0;
    v[3].ptr = "CAS";
    v[3].len = 3;
    v[4].ptr = (const char *)c->digest;
    v[4].len = 16;
    cross_rearm(p, 1, merge_rename_delete);
    if (!p->rearmed) {
        resp_add_error(out, "ERR out of memory");
        return;
    }
    cross_send_part(p, 0, c->src_owner, c->db, 5, v);
}

/* Phase 1 done: answer, or start phase 2 with the value. */
static void merge_rename_take(struct pending *p, struct resp_out *out)
{
    struct rename_ctx *c = p->ctx;
    struct rbuf taken = p->parts[0].reply;
    struct resp_arg v[4];
    const char *blob;
    size_t len = 0;

    if (is_error(&taken)) {
        copy_error(&taken, out);
        return;
    }
    if (parse_bulk(taken.data, taken.len, &blob, &len) == 0) {
        reply_malformed(out);
        return;
    }
    if (blob == NULL) {
        resp_add_error(out, "ERR no such key");
        return;
    }
    /* The value is sent from the phase-1 reply itself: take the buffer
     * before cross_rearm() recycles the parts. */
    rbuf_init(&p->parts[0].reply);
    digest_bytes(blob, len, c->digest);
    v[0].ptr = "@put";
    v[0].len = 4;
    v[1].ptr = c->names + c->slen;
    v[1].len = c->dlen;
    v[2].ptr = blob;
    v[2].len = len;
    v[3].ptr = c->nx ? "NX" : "REPLACE";
    v[3].len = strlen(v[3].ptr);
    cross_rearm(p, 1, merge_rename_put);
    if (p->rearmed)
        cross_send_part(p, 0, c->dst_owner, c->db, 4, v);
    else
        resp_add_error(out, "ERR out of memory");
    rbuf_free(&taken);
}

static void rename_generic(struct cmd_ctx *x, int nx)
{
    const struct resp_arg *src = &x->argv[1], *dst = &x->argv[2];
    unsigned so, dso;
    struct rename_ctx *c;
    struct pending *p;
    struct resp_arg v[2];

    if (local_only(x)) {
        rename_local(x, nx);
        return;
    }
    so = key_shard(src->ptr, src->len);
    dso = key_shard(dst->ptr, dst->len);
    if (so == dso) {
        if (so == W.id) {
            rename_local(x, nx);
        } else {
            cross_forward(x, so);
            W.st.forwarded++;
        }
        return;
    }
    c = malloc(sizeof(*c) + src->len + dst->len);
    if (c == NULL || (p = cross_pending(x->c, x->c->proto, 1, merge_rename_take)) == NULL) {
        free(c);
        reply_error(x, "ERR out of memory");
        return;
    }
    memset(c, 0, sizeof(*c));
    c->db = x->db;
    c->nx = nx;
    c->src_owner = so;
    c->dst_owner = dso;
    c->slen = src->len;
    c->dlen = dst->len;
    memcpy(c->names, src->ptr, src->len);
    memcpy(c->names + src->len, dst->ptr, dst->len);
    p->ctx = c;
    /* Read nothing more from the client until the reply is in (see above). */
    cross_pause_client(p);
    v[0].ptr = "@take";
    v[0].len = 5;
    v[1] = *src;
    cross_send_part(p, 0, so, x->db, 2, v);
    cross_pending_issued(p);
}

void renameCommand(struct cmd_ctx *x)
{
    rename_generic(x, 0);
}

void renamenxCommand(struct cmd_ctx *x)
{
    rename_generic(x, 1);
}
