/*
 * blocking.c - commands that wait for a key (see blocking.h).
 *
 * Waiters are indexed by (db, key) in a process-local hash table; each key
 * has a FIFO of waiters, and a waiter on several keys sits in each of their
 * queues.  block_signal_key() only marks a key that has waiters as ready;
 * block_serve_ready() then re-runs its waiters in order, each in its own
 * arena mutation, until one finds nothing (the list ran dry).  All of this
 * is process-local bookkeeping: after a crash the waiters are gone, and so
 * are their clients' connections (their workers see the restart).
 */
#include "blocking.h"
#include "client.h"
#include "cross.h"
#include "log.h"
#include "util.h"

#include <event2/event.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024
#define BLOCK_FOREVER_MS (1000LL * 1000 * 1000 * 1000)

struct bkey;
struct bwait;

struct bnode {                   /* a waiter's place in one key's queue */
    struct bkey *k;
    struct bwait *w;
    struct bnode *next, *prev;
};

struct bkey {
    unsigned db;
    uint64_t hash;
    char *key;
    size_t klen;
    struct bnode *head, *tail;   /* FIFO: first blocked, first served */
    struct bkey *next;           /* hash chain */
    struct bkey *rnext;          /* ready list */
    int ready;
    int serving;                 /* block_serve_ready() is walking its queue */
};

struct bwait {
    int argc;
    struct resp_arg *argv;       /* a copy: the input buffer moves on */
    unsigned db;
    int proto;
    struct client *c;            /* local client, or NULL */
    int peer;                    /* else: the requesting worker... */
    uint64_t id;                 /* ...and its request id */
    enum block_timeout_reply on_timeout;
    struct event *timer;
    int nkeys;
    struct bnode *nodes;         /* one per key */
    struct bwait *next, *prev;   /* every waiter */
};

static struct bkey *table[NBUCKETS];
static struct bkey *ready;
static struct bwait *waiters;
static struct rbuf late;         /* replies for remote waiters */

static uint64_t key_hash(unsigned db, const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ db;
    size_t i;
    for (i = 0; i < len; i++)
        h = (h ^ (uint8_t)key[i]) * 1099511628211ull;
    return h;
}

static struct bkey *find_key(unsigned db, const char *key, size_t len, int create)
{
    uint64_t h = key_hash(db, key, len);
    struct bkey *k;

    for (k = table[h % NBUCKETS]; k; k = k->next)
        if (k->hash == h && k->db == db && k->klen == len && memcmp(k->key, key, len) == 0)
            return k;
    if (!create)
        return NULL;
    k = calloc(1, sizeof(*k));
    if (k == NULL || (k->key = malloc(len ? len : 1)) == NULL) {
        free(k);
        return NULL;
    }
    memcpy(k->key, key, len);
    k->klen = len;
    k->db = db;
    k->hash = h;
    k->next = table[h % NBUCKETS];
    table[h % NBUCKETS] = k;
    return k;
}

static void drop_key(struct bkey *k)
{
    struct bkey **pp = &table[k->hash % NBUCKETS];

    while (*pp != k)
        pp = &(*pp)->next;
    *pp = k->next;
    free(k->key);
    free(k);
}

/* Unlinks a waiter from everything and frees it. */
static void waiter_free(struct bwait *w)
{
    int i;

    for (i = 0; i < w->nkeys; i++) {
        struct bnode *n = &w->nodes[i];
        struct bkey *k = n->k;
        if (k == NULL)
            continue;
        if (n->prev)
            n->prev->next = n->next;
        else
            k->head = n->next;
        if (n->next)
            n->next->prev = n->prev;
        else
            k->tail = n->prev;
        if (k->head == NULL && !k->ready && !k->serving)
            drop_key(k);
    }
    if (w->prev)
        w->prev->next = w->next;
    else
        waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (w->timer)
        event_free(w->timer);
    free(w->nodes);
    free(w->argv);
    free(w);
}

/* A local client can read again. */
static void unblock_client(struct client *c)
{
    c->flags &= ~CLIENT_BLOCKED;
    client_queue_write(c);
}

static void on_timeout(int fd, short what, void *arg)
{
    struct bwait *w = arg;
    struct resp_out o;

    (void)fd;
    (void)what;
    W.now_ms = util_mstime();
    if (w->c) {
        o.b = &w->c->out;
        o.proto = w->proto;
    } else {
        late.len = 0;
        late.failed = 0;
        o.b = &late;
        o.proto = w->proto;
    }
    if (w->on_timeout == BLOCK_NULL_ARRAY)
        resp_add_null_array(&o);
    else
        resp_add_null(&o);
    if (w->c) {
        struct client *c = w->c;
        waiter_free(w);
        unblock_client(c);
        if (c->ipos < c->ilen)
            client_process_input(c);
    } else {
        cross_send_late((unsigned)w->peer, w->id, late.data, late.len);
        waiter_free(w);
    }
}

int block_on_keys(struct cmd_ctx *x, const int *key_idx, int nkeys, int64_t timeout_ms,
                  enum block_timeout_reply on_timeout_reply)
{
    struct bwait *w;
    size_t bytes = 0;
    char *p;
    int i;

    BUG_ON(x->retry);
    for (i = 0; i < x->argc; i++)
        bytes += x->argv[i].len;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        goto oom;
    w->argv = malloc(sizeof(*w->argv) * (size_t)x->argc + bytes + 1);
    w->nodes = calloc((size_t)nkeys, sizeof(*w->nodes));
    if (w->argv == NULL || w->nodes == NULL)
        goto oom;
    p = (char *)(w->argv + x->argc);
    for (i = 0; i < x->argc; i++) {
        memcpy(p, x->argv[i].ptr, x->argv[i].len);
        w->argv[i].ptr = p;
        w->argv[i].len = x->argv[i].len;
        p += x->argv[i].len;
    }
    w->argc = x->argc;
    w->db = x->db;
    w->proto = x->out.proto;
    w->c = x->c;
    w->peer = x->c ? -1 : x->ring_peer;
    w->id = x->ring_id;
    w->on_timeout = on_timeout_reply;
    w->nkeys = nkeys;
    for (i = 0; i < nkeys; i++) {
        const struct resp_arg *a = &x->argv[key_idx[i]];
        struct bkey *k = find_key(x->db, a->ptr, a->len, 1);
        struct bnode *n = &w->nodes[i];
        if (k == NULL)
            goto oom;
        n->k = k;
        n->w = w;
        n->prev = k->tail;
        if (k->tail)
            k->tail->next = n;
        else
            k->head = n;
        k->tail = n;
    }
    /* Past BLOCK_FOREVER_MS (about 30 years) a timer would only overflow
     * somewhere: wait forever, which is what such a timeout means. */
    if (timeout_ms > 0 && timeout_ms < BLOCK_FOREVER_MS) {
        struct timeval tv;
        w->timer = evtimer_new(W.base, on_timeout, w);
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
        if (w->timer == NULL || evtimer_add(w->timer, &tv) != 0)
            goto oom;
    }
    w->next = waiters;
    if (waiters)
        waiters->prev = w;
    waiters = w;
    x->deferred = 1;
    if (x->c)
        x->c->flags |= CLIENT_BLOCKED;
    return 0;
oom:
    if (w) {
        w->next = waiters;   /* so waiter_free unlinks something real */
        if (waiters)
            waiters->prev = w;
        waiters = w;
        waiter_free(w);
    }
    reply_error(x, "ERR out of memory blocking the client");
    return -1;
}

void block_signal_key(unsigned db, const char *key, size_t klen)
{
    struct bkey *k;

    if (waiters == NULL)
        return;
    k = find_key(db, key, klen, 0);
    if (k == NULL || k->ready)
        return;
    k->ready = 1;
    k->rnext = ready;
    ready = k;
}

void block_serve_ready(void)
{
    struct client *resume[64];
    int nresume = 0, i;

    if (ready)
        W.now_ms = util_mstime();
    while (ready) {
        struct bkey *k = ready;
        ready = k->rnext;
        k->ready = 0;
        /* Freeing its last waiter must not free the key under us. */
        k->serving = 1;
        while (k->head) {
            struct bwait *w = k->head->w;
            struct cmd_ctx x;
            memset(&x, 0, sizeof(x));
            x.cmd = cmd_lookup(w->argv[0].ptr, w->argv[0].len);
            x.c = w->c;
            x.argc = w->argc;
            x.argv = w->argv;
            x.db = w->db;
            x.ring_peer = -1;
            x.retry = 1;
            x.ready_key = k->key;
            x.ready_klen = k->klen;
            if (w->c) {
                x.out.b = &w->c->out;
            } else {
                late.len = 0;
                late.failed = 0;
                x.out.b = &late;
            }
            x.out.proto = w->proto;
            cmd_run(&x);
            if (x.deferred)
                break;           /* nothing for it: the key ran dry */
            if (w->c) {
                struct client *c = w->c;
                waiter_free(w);
                unblock_client(c);
                if (nresume < (int)(sizeof(resume) / sizeof(resume[0])))
                    resume[nresume++] = c;
            } else {
                cross_send_late((unsigned)w->peer, w->id, late.data, late.len);
                waiter_free(w);
            }
        }
        /* A waiter that pushed to this very key (BLMOVE k k) signalled it
         * again: it stays on the ready list until served there. */
        k->serving = 0;
        if (k->head == NULL && !k->ready)
            drop_key(k);
    }
    /* Commands the unblocked clients sent meanwhile. */
    for (i = 0; i < nresume; i++)
        if (!(resume[i]->flags & (CLIENT_BLOCKED | CLIENT_PAUSED | CLIENT_CLOSE_ASAP)) &&
            resume[i]->ipos < resume[i]->ilen)
            client_process_input(resume[i]);
}

void block_client_gone(struct client *c)
{
    struct bwait *w, *next;

    for (w = waiters; w; w = next) {
        next = w->next;
        if (w->c == c)
            waiter_free(w);
    }
}

void block_cancel_remote(unsigned peer, uint64_t id)
{
    struct bwait *w;

    for (w = waiters; w; w = w->next)
        if (w->c == NULL && w->peer == (int)peer && w->id == id) {
            waiter_free(w);
            return;
        }
}

void block_peer_restarted(unsigned peer)
{
    struct bwait *w, *next;

    for (w = waiters; w; w = next) {
        next = w->next;
        if (w->c == NULL && w->peer == (int)peer)
            waiter_free(w);
    }
}

unsigned block_local_clients(void)
{
    struct client *c;
    unsigned n = 0;

    for (c = W.clients; c; c = c->next)
        n += (c->flags & CLIENT_BLOCKED) != 0;
    return n;
}

/*
 * As Redis's getTimeoutFromObjectOrReply: the milliseconds are the seconds
 * times 1000 rounded up (0.0001 is 1 ms; -0.0001 rounds to 0, forever).
 * Redis then converts to a long long, and on x86-64 a value out of its
 * range (inf, 1e16) becomes LLONG_MIN, "timeout is negative": so here too.
 */
int block_parse_timeout(struct cmd_ctx *x, int arg, int64_t *ms)
{
    long double t, v;

    if (!util_str2ld(x->argv[arg].ptr, x->argv[arg].len, &t)) {
        reply_error(x, "ERR timeout is not a float or out of range");
        return -1;
    }
    v = ceill(t * 1000.0L);
    if (!(v < 9223372036854775808.0L) || v < 0) {
        reply_error(x, "ERR timeout is negative");
        return -1;
    }
    *ms = (int64_t)v;
    return 0;
}
