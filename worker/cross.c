/*
 * cross.c - commands across shards, over the rings (see cross.h).
 *
 * Messages.  A request is {id, db, proto, argc} and the arguments, each a
 * 32-bit length and its bytes; a reply is {id} and the reply's RESP bytes.
 * A message larger than a ring record travels as fragments: every fragment
 * but the last has MSG_FRAG in its tag, every one but the first MSG_CONT,
 * and every tag carries the low bits of the sender's generation, so that a
 * successor's messages are never glued onto fragments its dead predecessor
 * left behind.  A receiver that is not assembling drops MSG_CONT records:
 * the tail of a message whose head its own dead predecessor consumed (it
 * released the fragments it had read; the sender fails that request's
 * client when it sees the restart).  A message goes
 * straight into the ring when it fits and nothing is queued before it;
 * otherwise into a per-peer backlog that each loop turn moves on.
 *
 * Matching replies.  A ring is first in first out, and a worker runs a
 * peer's requests in order, so replies from a peer come back in the order
 * of the requests: a FIFO of outstanding requests per peer replaces any
 * lookup.  Request ids only grow (and start at generation << 40), so a
 * reply older than the FIFO's head is stale (a restarted peer re-running
 * a read) and dropped, and a newer one means the replies before it were
 * lost with their worker: those clients are closed.
 *
 * Placing replies.  A pending reply remembers where it goes as a virtual
 * offset in the client's output: its position counting every byte ever
 * written to the buffer, minus bytes spliced in for earlier pendings.
 * Replies are spliced in at the head only, in order (a pending that
 * completes early keeps its bytes until it becomes the head), so no
 * completion ever shifts the others' positions; those that complete in
 * one poll of the rings are spliced together after it, so the bytes
 * behind them move once, not once per reply.
 *
 * Exactly once: see cross.h; cmd_run() stores the applied position.
 */
#include "cross.h"
#include "blocking.h"
#include "client.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include "shm/ring.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSG_REQ        1u
#define MSG_REP        2u          /* reply, in request order */
#define MSG_LATE       3u          /* the reply of a request that blocked */
#define MSG_CANCEL     4u          /* the requester gave up a blocked request */
#define MSG_FRAG       0x100u
#define MSG_DEFER      0x200u      /* on a MSG_REP: blocked, reply comes later */
#define MSG_CONT       0x400u      /* a fragment after a message's first */
#define MSG_KIND(t)    ((t) & 0xffu)
#define MSG_GEN(t)     ((t) >> 16)
#define POLL_BUDGET    1024          /* records per incoming ring per turn */

#define REQ_PART       0x100u      /* in req_hdr.proto: a piece of a split command */

struct req_hdr {
    uint64_t id;
    uint32_t db;
    uint32_t proto;               /* the client's protocol, | REQ_PART */
    uint32_t argc;
    uint32_t owner_gen;           /* the owner's generation, as the sender saw it */
};

struct outreq {
    struct pending *p;
    uint64_t id;
    unsigned part;
};

struct peer {
    struct ring *out, *in;
    uint64_t next_id;             /* our next request id to this peer */
    uint64_t stale_below;         /* replies with smaller ids are stale */
    struct outreq *q;             /* outstanding requests, FIFO */
    size_t qhead, qlen, qcap;
    struct rbuf backlog;          /* queued messages: {u32 tag, u32 0, u64 len} payload */
    size_t bl_pos, bl_off;        /* front message, bytes of it already sent */
    struct rbuf assembly;         /* an incoming fragmented message */
    int assembling;
    uint32_t asm_gen;
    uint64_t asm_id;             /* the message's id (first 8 bytes), kept
                                    in case the assembly runs out of memory */
    uint64_t generation;          /* the peer's, as last seen */
    int dirty;                    /* uncommitted records in `out` */
    struct outreq *parked;        /* requests blocked at the peer */
    size_t nparked, capparked;
};

static struct peer *peers;
static struct pending *pool;
static struct rbuf scratch;
static struct resp_arg *argvbuf;
static size_t argvcap;
static uint32_t my_gen_tag;
static uint32_t my_gen;            /* low bits of our generation */
static int polling;                /* inside cross_poll() */
static struct client *splice_list; /* clients with replies to splice after it */

/* ---- pendings ---------------------------------------------------------------- */

static struct pending *pending_get(void)
{
    struct pending *p = pool;

    if (p) {
        pool = p->next;
    } else {
        p = calloc(1, sizeof(*p));
        if (p == NULL)
            return NULL;
        rbuf_init(&p->part1.reply);
    }
    return p;
}

static void free_parts(struct pending *p);

static void pending_put(struct pending *p)
{
    struct rbuf keep;

    free_parts(p);
    keep = p->part1.reply;
    free(p->ctx);
    keep.len = 0;
    keep.failed = 0;
    if (keep.cap > 65536) {
        rbuf_free(&keep);
        rbuf_init(&keep);
    }
    memset(p, 0, sizeof(*p));
    p->part1.reply = keep;
    p->next = pool;
    pool = p;
}

struct pending *cross_pending(struct client *c, int proto, unsigned nparts, merge_fn *merge)
{
    struct pending *p = pending_get();
    unsigned i;

    if (p == NULL)
        return NULL;
    p->c = c;
    p->proto = proto;
    p->parked_peer = -1;
    p->nparts = p->left = nparts;
    p->merge = merge;
    if (nparts <= 1) {
        p->parts = &p->part1;
    } else {
        p->parts = calloc(nparts, sizeof(*p->parts));
        if (p->parts == NULL) {
            p->parts = &p->part1;
            p->nparts = 0;
            pending_put(p);
            return NULL;
        }
        for (i = 0; i < nparts; i++)
            rbuf_init(&p->parts[i].reply);
    }
    /* Its place: after everything already in the client's output. */
    p->pos = c->out.len + c->out_consumed - c->out_spliced;
    p->next = NULL;
    if (c->pend_tail)
        c->pend_tail->next = p;
    else
        c->pend_head = p;
    c->pend_tail = p;
    c->npend++;
    p->issuing = 1;
    return p;
}

/* Where the head pending's reply goes in c->out now. */
static size_t head_pos(const struct client *c)
{
    return (size_t)(c->pend_head->pos + c->out_spliced - c->out_consumed);
}

size_t cross_write_limit(const struct client *c)
{
    return c->pend_head ? head_pos(c) : c->out.len;
}

/* Splices completed pendings at the head of the client's list: in one
 * pass from the back, so that each byte after them moves once, however
 * many there are (replies of a pipeline's remote commands that came in
 * one poll of the ring). */
static void splice_ready(struct client *c)
{
    struct pending *p, *rev = NULL;
    size_t total = 0, end, shift;

    /* Take them off the head, last first, each with its place now. */
    while ((p = c->pend_head) != NULL && p->ready) {
        if (p->blocking)
            c->flags &= ~CLIENT_BLOCKED;
        if (p->pauses)
            c->flags &= ~CLIENT_PAUSED;
        p->at = head_pos(c);
        c->pend_head = p->next;
        c->npend--;
        total += p->part1.reply.len;
        p->next = rev;
        rev = p;
    }
    if (c->pend_head == NULL)
        c->pend_tail = NULL;
    /* On failure out.failed is set: the client is closed at its next write. */
    if (total > 0 && rbuf_reserve(&c->out, total) == EMBER_OK) {
        end = c->out.len;
        shift = total;
        for (p = rev; p; p = p->next) {
            size_t n = p->part1.reply.len;
            memmove(c->out.data + p->at + shift, c->out.data + p->at, end - p->at);
            shift -= n;
            memcpy(c->out.data + p->at + shift, p->part1.reply.data, n);
            end = p->at;
        }
        c->out.len += total;
        c->out_spliced += total;
    }
    while ((p = rev) != NULL) {
        rev = p->next;
        pending_put(p);
    }
    client_queue_write(c);
    /* A client paused on too many pendings can read on. */
    if (c->npend < CLIENT_MAX_PENDING / 2 && c->ipos < c->ilen &&
        !(c->flags & (CLIENT_IN_LOOP | CLIENT_CLOSE_ASAP | CLIENT_BLOCKED | CLIENT_PAUSED)))
        client_process_input(c);
}

/* All parts are in: build the reply (merge) and splice when at the head.
 * A merge may start another phase instead (cross_rearm). */
static void complete(struct pending *p)
{
    for (;;) {
        struct client *c = p->c;
        if (c == NULL && !(p->finish && p->merge)) {
            pending_put(p);
            return;
        }
        if (p->merge) {
            struct rbuf final;
            struct resp_out o;
            rbuf_init(&final);
            o.b = &final;
            o.proto = p->proto;
            p->rearmed = 0;
            p->issuing = 1;       /* no completion from inside the merge */
            p->merge(p, &o);
            p->issuing = 0;
            if (p->rearmed) {
                rbuf_free(&final);
                if (p->left > 0)
                    return;       /* wait for the new phase's parts */
                continue;         /* all of them ran here: merge again */
            }
            if (p->rearm_failed) {
                rbuf_free(&final);   /* part1.reply holds the error */
            } else {
                rbuf_free(&p->part1.reply);
                p->part1.reply = final;
            }
            if (c == NULL) {         /* a finished command nobody waits for */
                pending_put(p);
                return;
            }
        }
        p->ready = 1;
        if (c->pend_head != p)
            return;               /* spliced with the one before it */
        if (polling && !p->blocking && !p->pauses) {
            /* More of its replies may be in the ring: splice them all
             * at once when the poll is done (splice_polled()). */
            if (!(c->flags & CLIENT_SPLICE)) {
                c->flags |= CLIENT_SPLICE;
                c->snext = splice_list;
                splice_list = c;
            }
            return;
        }
        splice_ready(c);
        return;
    }
}

static void free_parts(struct pending *p)
{
    unsigned i;

    if (p->parts != &p->part1) {
        for (i = 0; i < p->nparts; i++)
            rbuf_free(&p->parts[i].reply);
        free(p->parts);
    }
    p->part1.reply.len = 0;
    p->part1.done = 0;
    p->parts = &p->part1;
}

void cross_pause_client(struct pending *p)
{
    p->pauses = 1;
    p->finish = 1;
    if (p->c)
        p->c->flags |= CLIENT_PAUSED;
}

void cross_rearm(struct pending *p, unsigned nparts, merge_fn *merge)
{
    unsigned i;

    free_parts(p);
    p->nparts = p->left = nparts;
    p->merge = merge;
    p->rearmed = 1;
    if (nparts > 1) {
        p->parts = calloc(nparts, sizeof(*p->parts));
        if (p->parts == NULL) {
            /* No memory for the next phase: answer with an error. */
            p->parts = &p->part1;
            p->nparts = 1;
            p->left = 0;
            p->rearmed = 0;
            p->rearm_failed = 1;
            rbuf_append(&p->part1.reply, "-ERR out of memory\r\n", 21);
            return;
        }
        for (i = 0; i < nparts; i++)
            rbuf_init(&p->parts[i].reply);
    }
}

/* A part's reply arrived (or was computed locally). */
static void deliver(struct pending *p, unsigned i, const char *bytes, size_t n)
{
    struct pending_part *pp = &p->parts[i];

    if (pp->done)
        return;
    pp->done = 1;
    if (p->c != NULL || p->finish)
        rbuf_append(&pp->reply, bytes, n);
    if (--p->left == 0 && !p->issuing)
        complete(p);
}

void cross_pending_issued(struct pending *p)
{
    p->issuing = 0;
    if (p->left == 0)
        complete(p);
}

static void unpark(struct peer *pe, size_t i)
{
    pe->parked[i] = pe->parked[--pe->nparked];
}

static void send_cancel(unsigned peer, uint64_t id);

void cross_client_gone(struct client *c)
{
    struct pending *p = c->pend_head, *next;

    block_client_gone(c);
    for (; p; p = next) {
        next = p->next;
        if (p->parked_peer >= 0) {
            /* Blocked at its owner: tell it to drop the waiter. */
            struct peer *pe = &peers[p->parked_peer];
            size_t i;
            for (i = 0; i < pe->nparked; i++)
                if (pe->parked[i].p == p) {
                    send_cancel((unsigned)p->parked_peer, pe->parked[i].id);
                    unpark(pe, i);
                    p->parts[0].done = 1;
                    p->left = 0;
                    break;
                }
            p->parked_peer = -1;
        }
        p->c = NULL;
        p->next = NULL;
        /* Still awaited by a peer FIFO: freed (or, for a command that must
         * finish, merged and continued) when its last part arrives. */
        if (p->left == 0 && !p->issuing && !p->finish)
            pending_put(p);
    }
    c->pend_head = c->pend_tail = NULL;
    c->npend = 0;
}

/* ---- sending ------------------------------------------------------------------- */

struct mw {
    struct peer *pe;
    char *dst;
    size_t off;
};

/* Starts a message of `total` payload bytes to a peer.  0, or -1 when out
 * of memory for the backlog. */
static int mw_begin(struct mw *w, struct peer *pe, uint32_t kind, size_t total)
{
    uint32_t tag = kind | my_gen_tag;
    uint64_t hdr[2];

    w->pe = pe;
    w->off = 0;
    if (pe->backlog.len == 0 && total <= ring_max_record(pe->out)) {
        void *d;
        if (ring_reserve(pe->out, (uint32_t)total, tag, &d) == EMBER_OK) {
            w->dst = d;
            pe->dirty = 1;
            return 0;
        }
    }
    if (rbuf_reserve(&pe->backlog, sizeof(hdr) + total) != EMBER_OK)
        return -1;
    hdr[0] = tag;
    hdr[1] = total;
    memcpy(pe->backlog.data + pe->backlog.len, hdr, sizeof(hdr));
    w->dst = pe->backlog.data + pe->backlog.len + sizeof(hdr);
    pe->backlog.len += sizeof(hdr) + total;
    return 0;
}

static inline void mw_put(struct mw *w, const void *p, size_t n)
{
    if (n == 0)
        return;   /* p may be NULL (a deferral carries no bytes): no memcpy */
    memcpy(w->dst + w->off, p, n);
    w->off += n;
}

/* Moves backlog messages into the ring as room allows. */
static void flush_backlog(struct peer *pe)
{
    uint32_t max = ring_max_record(pe->out);

    while (pe->bl_pos < pe->backlog.len) {
        uint64_t hdr[2];
        size_t chunk, left;
        void *d;
        int more;

        memcpy(hdr, pe->backlog.data + pe->bl_pos, sizeof(hdr));
        left = hdr[1] - pe->bl_off;
        chunk = left > max ? max : left;
        more = pe->bl_off + chunk < hdr[1];
        if (ring_reserve(pe->out, (uint32_t)chunk,
                         (uint32_t)hdr[0] | (more ? MSG_FRAG : 0) | (pe->bl_off ? MSG_CONT : 0),
                         &d) != EMBER_OK)
            return;
        memcpy(d, pe->backlog.data + pe->bl_pos + sizeof(hdr) + pe->bl_off, chunk);
        pe->dirty = 1;
        pe->bl_off += chunk;
        if (!more) {
            pe->bl_pos += sizeof(hdr) + hdr[1];
            pe->bl_off = 0;
        }
    }
    pe->backlog.len = 0;
    pe->bl_pos = 0;
    if (pe->backlog.cap > (1u << 20)) {
        rbuf_free(&pe->backlog);
        rbuf_init(&pe->backlog);
    }
}

static size_t req_size(int argc, const struct resp_arg *argv)
{
    size_t n = sizeof(struct req_hdr);
    int i;
    for (i = 0; i < argc; i++)
        n += 4 + argv[i].len;
    return n;
}

/* Queues a request; registers (p, part) to receive its reply.  A piece
 * (is_part) of a command split across shards runs without being counted
 * as a command of its own.  0 or -1. */
static int send_request(unsigned owner, struct pending *p, unsigned part, int is_part,
                        unsigned db, int proto, int argc, const struct resp_arg *argv)
{
    struct peer *pe = &peers[owner];
    struct req_hdr h;
    struct mw w;
    int i;

    if (pe->qlen == pe->qcap) {
        size_t cap = pe->qcap ? pe->qcap * 2 : 256, k;
        struct outreq *q = malloc(cap * sizeof(*q));
        if (q == NULL)
            return -1;
        for (k = 0; k < pe->qlen; k++)
            q[k] = pe->q[(pe->qhead + k) % pe->qcap];
        free(pe->q);
        pe->q = q;
        pe->qcap = cap;
        pe->qhead = 0;
    }
    if (mw_begin(&w, pe, MSG_REQ, req_size(argc, argv)) != 0)
        return -1;
    memset(&h, 0, sizeof(h));
    h.id = pe->next_id++;
    h.db = db;
    h.proto = (uint32_t)proto | (is_part ? REQ_PART : 0);
    h.argc = (uint32_t)argc;
    h.owner_gen = (uint32_t)pe->generation;
    mw_put(&w, &h, sizeof(h));
    for (i = 0; i < argc; i++) {
        uint32_t l = (uint32_t)argv[i].len;
        mw_put(&w, &l, 4);
        mw_put(&w, argv[i].ptr, argv[i].len);
    }
    pe->q[(pe->qhead + pe->qlen) % pe->qcap] = (struct outreq){ p, h.id, part };
    pe->qlen++;
    return 0;
}

static void send_msg(struct peer *pe, uint32_t kind, uint64_t id, const char *bytes, size_t n)
{
    struct mw w;

    if (mw_begin(&w, pe, kind, 8 + n) != 0) {
        /* The requester will see a gap in its FIFO and drop that client. */
        log_warning("out of memory queueing a reply to worker %u", (unsigned)(pe - peers));
        return;
    }
    mw_put(&w, &id, 8);
    mw_put(&w, bytes, n);
}

static void send_reply(struct peer *pe, uint64_t id, const char *bytes, size_t n)
{
    send_msg(pe, MSG_REP, id, bytes, n);
}

void cross_send_late(unsigned peer, uint64_t id, const char *bytes, size_t len)
{
    send_msg(&peers[peer], MSG_LATE, id, bytes, len);
}

static void send_cancel(unsigned peer, uint64_t id)
{
    send_msg(&peers[peer], MSG_CANCEL, id, NULL, 0);
}

void cross_forward(struct cmd_ctx *x, unsigned owner)
{
    struct pending *p = cross_pending(x->c, x->c->proto, 1, NULL);

    /* A blocking command may wait at its owner: read nothing more from
     * this client until its reply is here, as Redis does. */
    if (p && (x->cmd->flags & CMD_BLOCKING)) {
        p->blocking = 1;
        x->c->flags |= CLIENT_BLOCKED;
    }

    if (p == NULL || send_request(owner, p, 0, 0, x->db, x->c->proto, x->argc, x->argv) != 0) {
        if (p) {
            p->left = 0;
            p->ready = 1;
            rbuf_append(&p->part1.reply, "-ERR out of memory forwarding the command\r\n", 43);
            cross_pending_issued(p);
            splice_ready(x->c);
        } else {
            reply_error(x, "ERR out of memory forwarding the command");
        }
        return;
    }
    cross_pending_issued(p);
}

void cross_send_part(struct pending *p, unsigned i, unsigned owner, unsigned db,
                     int argc, const struct resp_arg *argv)
{
    if (owner == W.id) {
        cross_run_local_part(p, i, db, argc, argv);
        return;
    }
    if (send_request(owner, p, i, 1, db, p->proto, argc, argv) != 0) {
        static const char oom[] = "-ERR out of memory forwarding the command\r\n";
        deliver(p, i, oom, sizeof(oom) - 1);
    }
}

void cross_local_part(struct pending *p, unsigned i, const char *bytes, size_t len)
{
    deliver(p, i, bytes, len);
}

void cross_run_local_part(struct pending *p, unsigned i, unsigned db, int argc,
                          const struct resp_arg *argv)
{
    struct cmd_ctx x;
    struct rbuf r;
    int was;

    memset(&x, 0, sizeof(x));
    rbuf_init(&r);
    x.cmd = cmd_lookup(argv[0].ptr, argv[0].len);
    BUG_ON(x.cmd == NULL);
    x.argc = argc;
    x.argv = argv;
    x.db = db;
    x.out.b = &r;
    x.out.proto = p->proto;
    x.ring_peer = -1;
    x.part = 1;
    /* Mutations do not nest: a coordinating write command runs inside the
     * mutation cmd_run opened for it, but the part is a command of its own
     * (its own failure handling).  Close the coordinator's mutation around
     * it and open a fresh one after. */
    was = W.arena->in_mut;
    if (was)
        shm_commit(W.arena);
    cmd_run(&x);
    if (was)
        shm_begin(W.arena);
    deliver(p, i, r.data, r.len);
    rbuf_free(&r);
}

struct pending *cross_broadcast(struct client *c, int proto, unsigned db, merge_fn *merge,
                                int argc, const struct resp_arg *argv)
{
    struct pending *p = cross_pending(c, proto, W.nworkers, merge);
    unsigned s;

    if (p == NULL)
        return NULL;
    for (s = 0; s < W.nworkers; s++)
        cross_send_part(p, s, s, db, argc, argv);
    cross_pending_issued(p);
    return p;
}

struct argv_copy *cross_argv_copy(const struct cmd_ctx *x)
{
    size_t bytes = 0;
    struct argv_copy *m;
    char *at;
    int j;

    for (j = 0; j < x->argc; j++)
        bytes += x->argv[j].len;
    m = malloc(sizeof(*m) + (size_t)x->argc * sizeof(m->argv[0]) + bytes);
    if (m == NULL)
        return NULL;
    m->db = x->db;
    m->argc = x->argc;
    at = (char *)(m->argv + x->argc);
    for (j = 0; j < x->argc; j++) {
        memcpy(at, x->argv[j].ptr, x->argv[j].len);
        m->argv[j].ptr = at;
        m->argv[j].len = x->argv[j].len;
        at += x->argv[j].len;
    }
    return m;
}

/* ---- receiving ------------------------------------------------------------------ */

/*
 * Requests waiting in a ring are looked ahead at before the first runs, so
 * that their keys' lookups can be prefetched (db_prefetch_bucket): the
 * same batching client.c does for a pipeline.  The key is a request's
 * argv[1]; handle_request passes its hash on when it is the argument it
 * decodes (same address in the ring), and a command that does not take
 * argv[1] as a key just wasted a prefetch.
 */
#define AHEAD 16
#define AHEAD_KEY_MAX 256

static struct {
    const char *key;
    uint64_t hash;
    unsigned db;
} ahead[AHEAD];
static unsigned nahead, ahead_next;

static void look_ahead(struct peer *pe)
{
    uint64_t start = ring_cursor(pe->in);
    unsigned i;

    nahead = ahead_next = 0;
    if (pe->assembling)
        return;
    while (nahead < AHEAD) {
        uint32_t tag, len, l0, l1;
        struct req_hdr h;
        const char *msg;
        void *data;

        if (ring_peek(pe->in, &tag, &data, &len) != EMBER_OK)
            break;
        msg = data;
        ahead[nahead].key = NULL;
        if (MSG_KIND(tag) == MSG_REQ && !(tag & (MSG_FRAG | MSG_CONT)) &&
            len >= sizeof(h) + 8) {
            memcpy(&h, msg, sizeof(h));
            memcpy(&l0, msg + sizeof(h), 4);
            if (h.argc >= 2 && h.db < W.arena->hdr->dbcount &&
                sizeof(h) + 8 + (uint64_t)l0 <= len) {
                memcpy(&l1, msg + sizeof(h) + 4 + l0, 4);
                if (l1 <= AHEAD_KEY_MAX && sizeof(h) + 8 + (uint64_t)l0 + l1 <= len) {
                    ahead[nahead].key = msg + sizeof(h) + 8 + l0;
                    ahead[nahead].hash = ks_hash(W.arena, ahead[nahead].key, l1);
                    db_prefetch_bucket(h.db, ahead[nahead].hash);
                    ahead[nahead].db = h.db;
                }
            }
        }
        ring_next(pe->in);
        nahead++;
    }
    ring_rewind(pe->in, start);
    if (nahead < 2)
        return;           /* one request: nothing to overlap */
    for (i = 0; i < nahead; i++)
        if (ahead[i].key != NULL)
            db_prefetch_entry(ahead[i].db, ahead[i].hash);
}

static void handle_request(unsigned from, const char *msg, size_t len, uint64_t end)
{
    struct peer *pe = &peers[from];
    struct req_hdr h;
    struct cmd_ctx x;
    size_t off = sizeof(h);
    uint32_t i;

    BUG_ON(len < sizeof(h));
    memcpy(&h, msg, sizeof(h));
    if (h.owner_gen != my_gen)
        return;                   /* sent to our predecessor: see peer_alive() */
    if (h.argc > argvcap) {
        size_t cap = h.argc < 64 ? 64 : h.argc;
        struct resp_arg *n = realloc(argvbuf, cap * sizeof(*n));
        if (n == NULL) {
            static const char oom[] = "-ERR out of memory on the owning shard\r\n";
            send_reply(pe, h.id, oom, sizeof(oom) - 1);
            return;
        }
        argvbuf = n;
        argvcap = cap;
    }
    for (i = 0; i < h.argc; i++) {
        uint32_t l;
        BUG_ON(off + 4 > len);
        memcpy(&l, msg + off, 4);
        off += 4;
        BUG_ON(off + l > len);
        argvbuf[i].ptr = msg + off;
        argvbuf[i].len = l;
        off += l;
    }
    memset(&x, 0, sizeof(x));
    x.cmd = h.argc > 0 ? cmd_lookup(argvbuf[0].ptr, argvbuf[0].len) : NULL;
    x.argc = (int)h.argc;
    x.argv = argvbuf;
    x.db = h.db;
    scratch.len = 0;
    scratch.failed = 0;
    x.out.b = &scratch;
    x.out.proto = (int)(h.proto & ~REQ_PART);
    x.part = (h.proto & REQ_PART) != 0;
    x.ring_peer = (int)from;
    x.ring_pos = end;
    x.ring_id = h.id;
    if (ahead_next < nahead && nahead > 1 && h.argc >= 2 &&
        ahead[ahead_next].key == argvbuf[1].ptr) {
        x.hint_key = argvbuf[1].ptr;
        x.hint_hash = ahead[ahead_next].hash;
    }
    if (x.cmd == NULL || h.db >= W.arena->hdr->dbcount)
        reply_error(&x, "ERR unknown command on the owning shard");
    else
        cmd_run(&x);
    if (x.deferred) {
        /* Blocked here: keep the FIFO moving, the reply follows later. */
        send_msg(pe, MSG_REP | MSG_DEFER, h.id, NULL, 0);
        W.st.served_remote++;
        return;
    }
    if (scratch.failed) {
        scratch.len = 0;
        scratch.failed = 0;
        rbuf_append(&scratch, "-ERR out of memory for the reply\r\n", 34);
    }
    send_reply(pe, h.id, scratch.data, scratch.len);
    W.st.served_remote++;
    if (scratch.cap > (1u << 20)) {
        rbuf_free(&scratch);
        rbuf_init(&scratch);
    }
    /* Waiters on keys this command pushed to are served before the next
     * request, as after a local client's command (client.c). */
    block_serve_ready();
}

/* Closes a client whose reply was lost with a worker. */
static void fail_outreq(struct outreq *r)
{
    struct pending *p = r->p;

    if (p == NULL)
        return;
    if (p->c != NULL) {
        log_verbose("closing client id=%llu: the worker owning its keys restarted",
                    (unsigned long long)p->c->id);
        client_close_asap(p->c);
        cross_client_gone(p->c);
    }
    /* The pending no longer waits for this part. */
    p->parts[r->part].done = 1;
    if (--p->left == 0 && !p->issuing)
        pending_put(p);
}

static void handle_late(unsigned from, const char *msg, size_t len)
{
    struct peer *pe = &peers[from];
    uint64_t id;
    size_t i;

    BUG_ON(len < 8);
    memcpy(&id, msg, 8);
    for (i = 0; i < pe->nparked; i++)
        if (pe->parked[i].id == id) {
            struct outreq r = pe->parked[i];
            unpark(pe, i);
            r.p->parked_peer = -1;
            deliver(r.p, r.part, msg + 8, len - 8);
            return;
        }
    /* Its client went away meanwhile: nothing to deliver. */
}

static void handle_reply(unsigned from, const char *msg, size_t len, int deferred)
{
    struct peer *pe = &peers[from];
    uint64_t id;

    BUG_ON(len < 8);
    memcpy(&id, msg, 8);
    if (id < pe->stale_below)
        return;
    /* Replies before this one were lost with a restarted peer. */
    while (pe->qlen > 0 && pe->q[pe->qhead].id < id) {
        fail_outreq(&pe->q[pe->qhead]);
        pe->qhead = (pe->qhead + 1) % pe->qcap;
        pe->qlen--;
    }
    if (pe->qlen == 0 || pe->q[pe->qhead].id != id)
        return;   /* a re-run of a request we already gave up on */
    {
        struct outreq r = pe->q[pe->qhead];
        pe->qhead = (pe->qhead + 1) % pe->qcap;
        pe->qlen--;
        if (r.p->c == NULL && !r.p->finish) {
            if (deferred)
                send_cancel(from, id);
            if (--r.p->left == 0 && !r.p->issuing)
                pending_put(r.p);
            return;
        }
        if (deferred) {
            if (pe->nparked == pe->capparked) {
                size_t cap = pe->capparked ? pe->capparked * 2 : 16;
                struct outreq *n = realloc(pe->parked, cap * sizeof(*n));
                if (n == NULL) {
                    send_cancel(from, id);
                    fail_outreq(&r);
                    return;
                }
                pe->parked = n;
                pe->capparked = cap;
            }
            pe->parked[pe->nparked++] = r;
            r.p->parked_peer = (int)from;
            r.p->parked_id = id;
            return;
        }
        deliver(r.p, r.part, msg + 8, len - 8);
    }
}

static void wake(unsigned to)
{
    uint64_t one = 1;

    if (ringset_need_wake(W.rings, to) && write(W.wake_fds[to], &one, 8) < 0 &&
        errno != EAGAIN)
        log_warning("waking worker %u: %s", to, strerror(errno));
}

/*
 * A fragmented message did not fit in memory.  A request is answered with
 * an error (it did not run); a reply is replaced by one, so the client
 * gets an error instead of waiting forever.
 */
static void assembly_failed(unsigned from, unsigned kind)
{
    static const char req_oom[] = "-ERR out of memory receiving the command on its shard\r\n";
    static const char rep_oom[] = "-ERR out of memory receiving the reply from its shard\r\n";
    struct peer *pe = &peers[from];
    char msg[8 + sizeof(rep_oom)];

    log_warning("out of memory assembling a %zu-byte message from worker %u",
                pe->assembly.len, from);
    memcpy(msg, &pe->asm_id, 8);
    memcpy(msg + 8, rep_oom, sizeof(rep_oom) - 1);
    if (kind == MSG_REQ)
        send_reply(pe, pe->asm_id, req_oom, sizeof(req_oom) - 1);
    else if (kind == MSG_REP)
        handle_reply(from, msg, 8 + sizeof(rep_oom) - 1, 0);
    else if (kind == MSG_LATE)
        handle_late(from, msg, 8 + sizeof(rep_oom) - 1);
}

/*
 * A request is run only if both ends are the processes it was meant for;
 * otherwise it is dropped, unanswered.  Its client's connection was (or is
 * about to be) closed, so the request was never acknowledged; run late, it
 * could overwrite what that client wrote afterwards through another
 * connection (SET k 1 in flight when a worker dies, then an acknowledged
 * SET k 2 on a new connection, then the late SET k 1).
 *
 * The sender died: a worker holds its slot's robust `alive` mutex all its
 * life and the kernel releases it as the process dies, before its sockets
 * are closed, so a client cannot see the dropped connection, and write
 * again, before every peer sees the sender dead.  Requests are run only
 * while their sender holds it, and only if they carry its current
 * generation (a successor holds it too).  A worker runs a whole poll of a
 * peer's requests before any other input, so asking once per poll is as
 * good as asking per request.
 *
 * The owner died: the sender closes the clients waiting on it as soon as
 * it sees the new generation, but requests already in the ring (or the
 * rest of a half-sent one) would reach the successor, perhaps after the
 * client wrote the key again directly.  So each request carries the
 * owner's generation as the sender knew it, and a successor drops those
 * meant for its predecessor: exactly the ones whose clients are closed.
 */
static int peer_alive(unsigned p)
{
    pthread_mutex_t *m = &W.shared->w[p].alive;
    int rc = pthread_mutex_trylock(m);

    if (rc == EBUSY)
        return 1;
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(m);
    if (rc == 0)
        pthread_mutex_unlock(m);
    return 0;
}

static void splice_polled(void)
{
    struct client *c;

    polling = 0;
    while ((c = splice_list) != NULL) {
        splice_list = c->snext;
        c->flags &= ~CLIENT_SPLICE;
        if (!(c->flags & CLIENT_CLOSE_ASAP))
            splice_ready(c);
    }
}

unsigned cross_poll(void)
{
    unsigned from, total = 0;

    if (W.nworkers <= 1)
        return 0;
    W.now_ms = util_mstime();
    polling = 1;
    for (from = 0; from < W.nworkers; from++) {
        struct peer *pe = &peers[from];
        unsigned n = 0;

        int live = -1;            /* peer_alive(from), asked once a turn */

        if (from == W.id)
            continue;
        look_ahead(pe);
        while (n < POLL_BUDGET) {
            if (ahead_next == AHEAD)
                look_ahead(pe);   /* a long queue: the next stretch */
            uint32_t tag, len;
            void *data;
            const char *msg;
            size_t mlen;
            int rc = ring_peek(pe->in, &tag, &data, &len);

            if (rc == EMBER_EAGAIN)
                break;
            if (rc != EMBER_OK) {
                log_warning("ring from worker %u is corrupt (%s); exiting so the "
                            "supervisor restarts us", from, ember_strerror(rc));
                abort();
            }
            if (pe->assembling && (MSG_GEN(tag) != pe->asm_gen || !(tag & MSG_CONT))) {
                /* The sender died mid-message; its successor starts afresh. */
                pe->assembly.len = 0;
                pe->assembly.failed = 0;
                pe->assembling = 0;
            }
            if (!pe->assembling && (tag & MSG_CONT)) {
                /* The rest of a message whose head went with our predecessor. */
                ring_next(pe->in);
                n++;
                ahead_next++;
                continue;
            }
            if (pe->assembling || (tag & MSG_FRAG)) {
                if (!pe->assembling) {
                    BUG_ON(len < 8);
                    memcpy(&pe->asm_id, data, 8);
                }
                rbuf_append(&pe->assembly, data, len);
                pe->assembling = 1;
                pe->asm_gen = MSG_GEN(tag);
                if (tag & MSG_FRAG) {
                    ring_next(pe->in);
                    n++;
                    ahead_next++;
                    continue;
                }
                if (pe->assembly.failed) {
                    assembly_failed(from, MSG_KIND(tag));
                    msg = NULL;
                } else {
                    msg = pe->assembly.data;
                    mlen = pe->assembly.len;
                }
            } else {
                msg = data;
                mlen = len;
            }
            if (msg == NULL) {
                /* dropped: assembly_failed() answered for it */
            } else if (MSG_KIND(tag) == MSG_REQ) {
                if (live < 0)
                    live = peer_alive(from);
                if (live && MSG_GEN(tag) == (atomic_load(&W.shared->w[from].generation) & 0xffff)) {
                    if (W.cmd_clock == 0)
                        W.cmd_clock = util_monotonic_ns();   /* a run of them: cmd_run() */
                    handle_request(from, msg, mlen, ring_record_end(pe->in));
                }
                /* else its sender is dead: see peer_alive() */
            } else if (MSG_KIND(tag) == MSG_REP) {
                handle_reply(from, msg, mlen, (tag & MSG_DEFER) != 0);
            } else if (MSG_KIND(tag) == MSG_LATE) {
                handle_late(from, msg, mlen);
            } else if (MSG_KIND(tag) == MSG_CANCEL) {
                uint64_t id;
                BUG_ON(mlen < 8);
                memcpy(&id, msg, 8);
                block_cancel_remote(from, id);
            }
            if (pe->assembling) {
                pe->assembling = 0;
                pe->assembly.len = 0;
                pe->assembly.failed = 0;
                if (pe->assembly.cap > (1u << 20)) {
                    rbuf_free(&pe->assembly);
                    rbuf_init(&pe->assembly);
                }
            }
            ring_next(pe->in);
            n++;
            ahead_next++;
        }
        nahead = 0;
        W.cmd_clock = 0;
        if (n > 0 && ring_release(pe->in))
            wake(from);
        total += n;
    }
    splice_polled();
    return total;
}

void cross_flush(void)
{
    unsigned to;

    if (W.nworkers <= 1)
        return;
    for (to = 0; to < W.nworkers; to++) {
        struct peer *pe = &peers[to];
        if (to == W.id)
            continue;
        if (pe->backlog.len)
            flush_backlog(pe);
        if (pe->dirty) {
            pe->dirty = 0;
            if (ring_commit(pe->out))
                wake(to);
        }
    }
}

int cross_busy(void)
{
    unsigned p;

    for (p = 0; p < W.nworkers; p++) {
        if (p == W.id)
            continue;
        if (peers[p].qlen || peers[p].backlog.len || peers[p].dirty ||
            ring_producer_pos(peers[p].in) != ring_cursor(peers[p].in))
            return 1;
    }
    return 0;
}

void cross_check_peers(void)
{
    unsigned p;

    for (p = 0; p < W.nworkers; p++) {
        struct peer *pe = &peers[p];
        uint64_t g;

        if (p == W.id)
            continue;
        g = atomic_load(&W.shared->w[p].generation);
        if (g == pe->generation)
            continue;
        pe->generation = g;
        if (pe->qlen)
            log_notice("worker %u restarted: closing %zu clients waiting on it", p, pe->qlen);
        while (pe->qlen > 0) {
            fail_outreq(&pe->q[pe->qhead]);
            pe->qhead = (pe->qhead + 1) % pe->qcap;
            pe->qlen--;
        }
        while (pe->nparked > 0) {
            struct outreq r = pe->parked[pe->nparked - 1];
            pe->nparked--;
            r.p->parked_peer = -1;
            fail_outreq(&r);
        }
        /* Our waiters for its requests died with it too. */
        block_peer_restarted(p);
        pe->stale_below = pe->next_id;
        /* Keep only a message already half in the ring: the rest was for
         * requests given up on, or replies its successor cannot match. */
        if (pe->bl_off > 0) {
            uint64_t hdr[2];
            memcpy(hdr, pe->backlog.data + pe->bl_pos, sizeof(hdr));
            pe->backlog.len = pe->bl_pos + sizeof(hdr) + hdr[1];
        } else {
            pe->backlog.len = pe->bl_pos = 0;
        }
    }
}

int cross_init(void)
{
    unsigned p;
    int rc;

    rbuf_init(&scratch);
    if (W.nworkers <= 1)
        return 0;
    /* Ring positions recorded against an older ring set mean nothing. */
    if (W.arena->hdr->ring_epoch != W.shared->ring_epoch) {
        static const uint64_t zero[SHM_MAX_PEERS];
        shm_begin(W.arena);
        shm_store(W.arena, W.arena->hdr->ring_applied, zero, sizeof(zero));
        shm_set64(W.arena, &W.arena->hdr->ring_epoch, W.shared->ring_epoch);
        shm_commit(W.arena);
    }
    peers = calloc(W.nworkers, sizeof(*peers));
    if (peers == NULL)
        return -1;
    my_gen = (uint32_t)atomic_load(&W.shared->w[W.id].generation);
    my_gen_tag = (my_gen & 0xffff) << 16;
    rc = ringset_resume(W.rings, W.id);
    if (rc != EMBER_OK) {
        log_warning("cannot resume the rings: %s", ember_strerror(rc));
        return -1;
    }
    for (p = 0; p < W.nworkers; p++) {
        struct peer *pe = &peers[p];
        uint64_t applied;

        if (p == W.id)
            continue;
        pe->out = ringset_ring(W.rings, W.id, p);
        pe->in = ringset_ring(W.rings, p, W.id);
        pe->next_id = atomic_load(&W.shared->w[W.id].generation) << 40;
        pe->stale_below = pe->next_id;
        pe->generation = atomic_load(&W.shared->w[p].generation);
        rbuf_init(&pe->backlog);
        rbuf_init(&pe->assembly);
        /* Forwarded writes our predecessor committed must not run twice. */
        applied = p < SHM_MAX_PEERS ? W.arena->hdr->ring_applied[p] : 0;
        if (applied > ring_consumer_pos(pe->in)) {
            rc = ring_consumer_skip_to(pe->in, applied);
            if (rc == EMBER_OK) {
                log_notice("skipped requests from worker %u already applied before a restart",
                           p);
                if (ring_release(pe->in))
                    wake(p);
            } else if (rc != EMBER_ENOTFOUND) {
                log_warning("ring from worker %u: cannot skip to %llu: %s", p,
                            (unsigned long long)applied, ember_strerror(rc));
            }
        }
    }
    /* A predecessor may have died owing a wake-up: wake everyone once. */
    for (p = 0; p < W.nworkers; p++) {
        uint64_t one = 1;
        if (p != W.id && write(W.wake_fds[p], &one, 8) < 0 && errno != EAGAIN)
            log_warning("waking worker %u: %s", p, strerror(errno));
    }
    return 0;
}

/* ---- reply parsing and merges ----------------------------------------------------- */

/* Length of a CRLF-terminated line starting at p (including CRLF), or 0. */
static size_t line_len(const char *p, size_t len)
{
    const char *nl = memchr(p, '\n', len);
    return nl ? (size_t)(nl - p) + 1 : 0;
}

size_t resp_value_size(const char *p, size_t len)
{
    size_t l = len ? line_len(p, len) : 0, total, i;
    long long n;

    if (l < 3)
        return 0;
    switch (p[0]) {
    case '+': case '-': case ':': case ',': case '#': case '_': case '(':
        return l;
    case '$': case '=': case '!':
        if (!util_str2ll(p + 1, l - 3, &n))
            return 0;
        if (n < 0)
            return l;
        return l + (size_t)n + 2 <= len ? l + (size_t)n + 2 : 0;
    case '*': case '~': case '>': case '%': case '|':
        if (!util_str2ll(p + 1, l - 3, &n))
            return 0;
        if (n < 0)
            return l;
        if (p[0] == '%' || p[0] == '|')
            n *= 2;
        total = l;
        for (i = 0; i < (size_t)n; i++) {
            size_t s = resp_value_size(p + total, len - total);
            if (s == 0)
                return 0;
            total += s;
        }
        return total;
    }
    return 0;
}

/* The first part that replied an error, or -1. */
static int first_error(const struct pending *p)
{
    unsigned i;
    for (i = 0; i < p->nparts; i++)
        if (p->parts[i].reply.len > 0 && p->parts[i].reply.data[0] == '-')
            return (int)i;
    return -1;
}

static void copy_part(const struct pending *p, unsigned i, struct resp_out *out)
{
    rbuf_append(out->b, p->parts[i].reply.data, p->parts[i].reply.len);
}

void merge_sum_ints(struct pending *p, struct resp_out *out)
{
    long long sum = 0, v;
    unsigned i;
    int e = first_error(p);

    if (e >= 0) {
        copy_part(p, (unsigned)e, out);
        return;
    }
    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        if (r->len >= 4 && r->data[0] == ':' && util_str2ll(r->data + 1, r->len - 3, &v))
            sum += v;
    }
    resp_add_int(out, sum);
}

void merge_first_error_or_ok(struct pending *p, struct resp_out *out)
{
    int e = first_error(p);

    if (e >= 0)
        copy_part(p, (unsigned)e, out);
    else
        resp_add_simple(out, "OK");
}

void merge_concat_arrays(struct pending *p, struct resp_out *out)
{
    long long total = 0, n;
    unsigned i;
    int e = first_error(p);

    if (e >= 0) {
        copy_part(p, (unsigned)e, out);
        return;
    }
    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        size_t l = r->len ? line_len(r->data, r->len) : 0;
        if (l >= 4 && util_str2ll(r->data + 1, l - 3, &n) && n > 0)
            total += n;
    }
    resp_add_array(out, (long)total);
    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        size_t l = r->len ? line_len(r->data, r->len) : 0;
        if (l > 0 && l <= r->len)
            rbuf_append(out->b, r->data + l, r->len - l);
    }
}
