/*
 * client.c - client connections (see client.h).
 *
 * Input: one buffer per client, read into at its end; commands are parsed
 * in place from ipos.  The buffer is compacted only when the unparsed tail
 * must move to make room, and grown to what the parser says a command in
 * progress needs, so a big bulk is read with few reallocations.
 *
 * Output: replies are appended to c->out.  A client with something to
 * write is queued on W.to_write and written once at the end of the loop
 * turn; if the socket cannot take it all, a write event finishes the job.
 */
#include "client.h"
#include "blocking.h"
#include "config.h"

#include "shm/dict.h"
#include "cross.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IBUF_MIN      (16 * 1024)
#define OBUF_KEEP     (64 * 1024)      /* output capacity kept between replies */
#define MAX_ACCEPTS   1000

static struct client *to_free;         /* closed clients awaiting free */

static void on_read(int fd, short what, void *arg);
static void on_write(int fd, short what, void *arg);

static void format_addr(const struct sockaddr_storage *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
    }
    snprintf(buf, len, "%s:%d", ip, port);
}

static void set_sockopts(int fd)
{
    int one = 1;

    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (config.tcp_keepalive > 0) {
        int idle = (int)config.tcp_keepalive, intvl = idle / 3 ? (int)idle / 3 : 1, cnt = 3;
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
}

static struct client *client_new(int fd, const struct sockaddr_storage *peer)
{
    struct client *c = calloc(1, sizeof(*c));
    struct sockaddr_storage local;
    socklen_t ll = sizeof(local);
    struct resp_limits lim = RESP_LIMITS_INIT;

    if (c == NULL)
        return NULL;
    c->fd = fd;
    c->proto = 2;
    c->id = atomic_fetch_add(&W.shared->next_client_id, 1) + 1;
    c->ctime_ms = c->last_ms = util_mstime();
    format_addr(peer, c->addr, sizeof(c->addr));
    if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
        format_addr(&local, c->laddr, sizeof(c->laddr));
    lim.max_bulk_len = config.proto_max_bulk_len;
    resp_parser_init(&c->parser, &lim);
    rbuf_init(&c->out);
    c->ev = event_new(W.base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(W.base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    if (c->ev == NULL || c->wev == NULL || event_add(c->ev, NULL) != 0) {
        if (c->ev)
            event_free(c->ev);
        if (c->wev)
            event_free(c->wev);
        resp_parser_free(&c->parser);
        free(c);
        return NULL;
    }
    c->next = W.clients;
    if (W.clients)
        W.clients->prev = c;
    W.clients = c;
    W.nclients++;
    return c;
}

/* Unlinks and frees; only from safe points (no handler of c on the stack). */
static void client_free(struct client *c)
{
    cross_client_gone(c);
    event_free(c->ev);
    event_free(c->wev);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        W.clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    W.nclients--;
    atomic_fetch_sub(&W.shared->w[W.id].clients, 1);
    resp_parser_free(&c->parser);
    rbuf_free(&c->out);
    free(c->ibuf);
    free(c->name);
    free(c);
}

void client_close_asap(struct client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return;
    c->flags |= CLIENT_CLOSE_ASAP;
    event_del(c->ev);
    event_del(c->wev);
    /* Queue for freeing at the end of the loop turn: reuse the write list
     * link only if it is not already on it. */
    if (!(c->flags & CLIENT_QUEUED_WRITE)) {
        c->flags |= CLIENT_QUEUED_WRITE;
        c->wnext = W.to_write;
        W.to_write = c;
    }
}

void client_close_after_reply(struct client *c)
{
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    client_queue_write(c);
}

void client_queue_write(struct client *c)
{
    if (c->flags & (CLIENT_QUEUED_WRITE | CLIENT_WRITE_EVENT))
        return;
    c->flags |= CLIENT_QUEUED_WRITE;
    c->wnext = W.to_write;
    W.to_write = c;
}

/* Writes what may be written; returns -1 if the client must go. */
static int write_some(struct client *c)
{
    size_t limit = cross_write_limit(c);

    if (c->out.failed) {
        log_warning("client id=%llu addr=%s: out of memory for its replies; closing",
                    (unsigned long long)c->id, c->addr);
        return -1;
    }
    /* Replies ahead of a remote one on its way back wait for it (up to
     * OBUF_KEEP of them): a pipeline then costs the client one write, and
     * us one wake-up of it, instead of one before each remote reply and
     * one after.  Not when that reply may be blocked at its owner. */
    if (c->pend_head && !c->pend_head->blocking && limit - c->out_sent < OBUF_KEEP &&
        !(c->flags & CLIENT_CLOSE_AFTER_REPLY)) {
        if (c->flags & CLIENT_WRITE_EVENT) {
            c->flags &= ~CLIENT_WRITE_EVENT;   /* splice_ready() queues us */
            event_del(c->wev);
        }
        return 0;
    }
    while (c->out_sent < limit) {
        ssize_t n = send(c->fd, c->out.data + c->out_sent, limit - c->out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!(c->flags & CLIENT_WRITE_EVENT)) {
                    c->flags |= CLIENT_WRITE_EVENT;
                    event_add(c->wev, NULL);
                }
                return 0;
            }
            log_verbose("client id=%llu addr=%s: write: %s", (unsigned long long)c->id,
                        c->addr, strerror(errno));
            return -1;
        }
        c->out_sent += (size_t)n;
        W.st.net_out += (uint64_t)n;
        break;   /* one write per turn; the write event finishes big replies */
    }
    if (c->out_sent < limit) {
        if (!(c->flags & CLIENT_WRITE_EVENT)) {
            c->flags |= CLIENT_WRITE_EVENT;
            event_add(c->wev, NULL);
        }
        return 0;
    }
    if (c->flags & CLIENT_WRITE_EVENT) {
        c->flags &= ~CLIENT_WRITE_EVENT;
        event_del(c->wev);
    }
    if (c->pend_head == NULL) {
        c->out_sent = 0;
        c->out.len = 0;
        c->out_consumed = c->out_spliced = 0;
        if (c->out.cap > OBUF_KEEP) {
            rbuf_free(&c->out);
            rbuf_init(&c->out);
        }
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY)
            return -1;
    } else if (c->out_sent > OBUF_KEEP) {
        /* Keep the buffer from growing behind a slow shard; pendings hold
         * virtual positions, so nothing else moves (cross.c). */
        rbuf_consume(&c->out, c->out_sent);
        c->out_consumed += c->out_sent;
        c->out_sent = 0;
    }
    return 0;
}

static void on_write(int fd, short what, void *arg)
{
    struct client *c = arg;

    (void)fd;
    (void)what;
    if (write_some(c) != 0)
        client_close_asap(c);
}

void clients_flush(void)
{
    struct client *c = W.to_write, *next;

    W.to_write = NULL;
    for (; c; c = next) {
        next = c->wnext;
        c->flags &= ~CLIENT_QUEUED_WRITE;
        if (!(c->flags & CLIENT_CLOSE_ASAP) && write_some(c) != 0)
            client_close_asap(c);
        if (c->flags & CLIENT_CLOSE_ASAP) {
            /* client_close_asap queued it again: take it off and free. */
            if (W.to_write == c)
                W.to_write = c->wnext;
            c->wnext = to_free;
            to_free = c;
        }
    }
    while (to_free) {
        c = to_free;
        to_free = c->wnext;
        client_free(c);
    }
}

/*
 * Pipelined commands are parsed a batch at a time (up to BATCH, while their
 * arguments fit in the batch's array) before any runs, so that the memory
 * of their keys can be prefetched: each key's bucket as the key is parsed,
 * then the entry its tag points to.  A pipeline's lookups then overlap
 * their cache misses instead of paying them one after the other.  Running
 * stays in order; if a command stops the client from reading on (it
 * blocked, or paused for a multi-phase command), the input is rewound to
 * the first command of the batch that did not run, to be parsed again
 * later.
 */
#define BATCH      16
#define BATCH_ARGS 128

struct batched {
    const struct cmd *cmd;
    int argc;
    int arg0;                  /* index of argv[0] in the batch's array */
    size_t start;              /* its offset in the input, for rewinding */
    struct cmd_hint hint;      /* its one key, owner and hash */
};

#define STOP_READING (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_BLOCKED | \
                      CLIENT_PAUSED)

/* Works out the owner of a single-key command's key and, when it is this
 * shard, prefetches the key's bucket.  Returns whether it did. */
static int prefetch_key(struct client *c, struct batched *b, const struct resp_arg *argv)
{
    const struct resp_arg *k;

    b->hint.key = NULL;
    if (b->cmd == NULL || b->cmd->first_key != 1 || b->cmd->last_key != 1 || b->argc < 2 ||
        (b->cmd->flags & CMD_NOKEYROUTE))
        return 0;
    k = &argv[1];
    b->hint.key = k->ptr;
    b->hint.shard = key_shard(k->ptr, k->len);
    if (b->hint.shard != W.id)
        return 0;
    b->hint.hash = ks_hash(W.arena, k->ptr, k->len);
    db_prefetch_bucket(c->db, b->hint.hash);
    return 1;
}

void client_process_input(struct client *c)
{
    struct batched batch[BATCH];
    struct resp_arg args[BATCH_ARGS];

    c->flags |= CLIENT_IN_LOOP;
    while (c->ipos < c->ilen && !(c->flags & STOP_READING) &&
           c->npend < CLIENT_MAX_PENDING) {
        int n = 0, nargs = 0, i, stop = 0, r = RESP_OK, any = 0;
        size_t used = 0;

        /* Parse a batch. */
        while (n < BATCH && c->ipos < c->ilen) {
            size_t start = c->ipos;
            r = resp_parse(&c->parser, c->ibuf + c->ipos, c->ilen - c->ipos, &used);
            if (r == RESP_EMPTY) {
                c->ipos += used;
                continue;
            }
            if (r != RESP_OK)
                break;
            if (nargs + c->parser.argc > BATCH_ARGS) {
                /* Too many arguments to hold: run this one on its own. */
                if (n > 0) {
                    resp_parser_reset(&c->parser);   /* parse it again later */
                    break;
                }
                c->ipos += used;
                c->last_ms = W.now_ms;
                cmd_dispatch(c, c->parser.argc, c->parser.argv);
                block_serve_ready();
                break;          /* and on with the input (the loop checks the flags) */
            }
            c->ipos += used;
            memcpy(&args[nargs], c->parser.argv, sizeof(args[0]) * (size_t)c->parser.argc);
            batch[n].cmd = cmd_lookup(args[nargs].ptr, args[nargs].len);
            batch[n].argc = c->parser.argc;
            batch[n].arg0 = nargs;
            batch[n].start = start;
            /* The key's bucket is on its way while the rest parse. */
            any |= prefetch_key(c, &batch[n], &args[nargs]);
            nargs += c->parser.argc;
            n++;
            /* An inline command's arguments live in the parser's scratch,
             * which the next parse reuses: it ends the batch. */
            if (c->ibuf[start] != '*')
                break;
        }
        /* Then the entries their buckets point to; then run them in order. */
        for (i = 0; any && n > 1 && i < n; i++)
            if (batch[i].hint.key != NULL && batch[i].hint.shard == W.id)
                db_prefetch_entry(c->db, batch[i].hint.hash);
        W.cmd_clock = n > 1 ? util_monotonic_ns() : 0;
        for (i = 0; i < n; i++) {
            if (c->flags & STOP_READING || c->npend >= CLIENT_MAX_PENDING) {
                /* Not run: read it again when the client may go on. */
                c->ipos = batch[i].start;
                resp_parser_reset(&c->parser);
                r = RESP_OK;
                stop = 1;
                break;
            }
            c->last_ms = W.now_ms;
            if (batch[i].cmd == NULL)
                cmd_dispatch(c, batch[i].argc, &args[batch[i].arg0]);
            else
                cmd_dispatch_hint(c, batch[i].argc, &args[batch[i].arg0], batch[i].cmd,
                                  &batch[i].hint);
            /* Clients blocked on keys this command pushed to are served
             * before the next command runs, as Redis does after each one
             * (blocking.h); nothing to do, and cheap, when none is ready. */
            block_serve_ready();
        }
        W.cmd_clock = 0;
        if (stop || r == RESP_AGAIN)
            break;
        if (r == RESP_ERR) {
            struct resp_out o = { &c->out, c->proto };
            log_verbose("protocol error from client id=%llu addr=%s: %s",
                        (unsigned long long)c->id, c->addr, resp_parser_error(&c->parser));
            resp_add_error(&o, resp_parser_error(&c->parser));
            client_close_after_reply(c);
            break;
        }
        if (r == RESP_ENOMEM) {
            log_warning("client id=%llu addr=%s: out of memory parsing its input; closing",
                        (unsigned long long)c->id, c->addr);
            client_close_asap(c);
            break;
        }
    }
    if (c->ipos == c->ilen)
        c->ipos = c->ilen = 0;
    c->flags &= ~CLIENT_IN_LOOP;
    if (c->out.len > c->out_sent || (c->flags & CLIENT_CLOSE_AFTER_REPLY))
        client_queue_write(c);
}

/* Makes room for at least `want` more bytes of input. */
static int input_room(struct client *c, size_t want)
{
    size_t live = c->ilen - c->ipos, need;
    char *n;

    if (c->icap - c->ilen >= want)
        return 0;
    if (c->ipos > 0) {
        memmove(c->ibuf, c->ibuf + c->ipos, live);
        c->ilen = live;
        c->ipos = 0;
        if (c->icap - c->ilen >= want)
            return 0;
    }
    need = c->ilen + want;
    if (need < c->icap * 2)
        need = c->icap * 2;
    n = realloc(c->ibuf, need);
    if (n == NULL)
        return -1;
    c->ibuf = n;
    c->icap = need;
    return 0;
}

static void on_read(int fd, short what, void *arg)
{
    struct client *c = arg;
    size_t want = IBUF_MIN, hint = resp_parser_need(&c->parser);
    ssize_t n;

    (void)what;
    /* A big bulk in progress: read it in large pieces. */
    if (hint > want)
        want = hint > (1u << 26) ? (1u << 26) : hint;
    if (input_room(c, want) != 0) {
        log_warning("client id=%llu addr=%s: out of memory for its input; closing",
                    (unsigned long long)c->id, c->addr);
        client_close_asap(c);
        return;
    }
    n = recv(fd, c->ibuf + c->ilen, c->icap - c->ilen, 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n < 0)
            log_verbose("client id=%llu addr=%s: read: %s", (unsigned long long)c->id,
                        c->addr, strerror(errno));
        /* A client that sent its commands and shut its side down (printf
         * ... | nc) still gets the replies of every command it sent, those
         * of other shards included, which may still be on their way here.
         * Not one blocked in a command: that one goes, as in Redis. */
        if (n == 0 && !(c->flags & (CLIENT_BLOCKED | CLIENT_CLOSE_ASAP)) &&
            (c->pend_head != NULL || c->out.len > c->out_sent)) {
            event_del(c->ev);
            client_close_after_reply(c);
            return;
        }
        client_close_asap(c);
        return;
    }
    c->ilen += (size_t)n;
    W.st.net_in += (uint64_t)n;
    if ((long long)(c->ilen - c->ipos) > config.client_query_buffer_limit) {
        log_warning("closing client id=%llu addr=%s: query buffer of %zu bytes passed "
                    "client-query-buffer-limit", (unsigned long long)c->id, c->addr,
                    c->ilen - c->ipos);
        client_close_asap(c);
        return;
    }
    W.now_ms = util_mstime();
    client_process_input(c);
}

int64_t clients_total(void)
{
    int64_t n = 0;
    unsigned w;

    for (w = 0; w < W.nworkers; w++)
        n += atomic_load(&W.shared->w[w].clients);
    return n;
}

/*
 * Out of descriptors.  The supervisor sizes maxclients to the open files
 * limit, but descriptors can still run out (a limit lowered under us with
 * prlimit, the system-wide table full).  The listener then stays readable
 * and accept() keeps failing: returning would have libevent call us again
 * at once, forever.  Instead a spare descriptor, held from the first
 * accept on, is given up to accept the client and refuse it with the
 * maxclients error, then taken again; without one, the listeners are not
 * watched for ACCEPT_PAUSE_MS (connections wait in the backlog).  Logged
 * at most once per ACCEPT_LOG_MS.
 */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_LOG_MS   1000

static const char maxclients_msg[] = "-ERR max number of clients reached\r\n";
static int spare_fd = -1;              /* given up to refuse a client at EMFILE */
static struct event *resume_ev;        /* re-watches the listeners after a pause */
static int64_t short_logged_ms;        /* when "out of descriptors" was last logged */
static uint64_t short_count;           /* accept failures since then */

static void take_spare(void)
{
    if (spare_fd < 0)
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void refuse(int fd)
{
    if (write(fd, maxclients_msg, sizeof(maxclients_msg) - 1) < 0)
        (void)0;   /* it is being refused anyway */
    close(fd);
    W.st.rejected++;
}

static void on_resume_accepting(int fd, short what, void *arg)
{
    int i;

    (void)fd;
    (void)what;
    (void)arg;
    if (W.stopping)
        return;    /* begin_stop() took the listeners away for good */
    for (i = 0; i < W.nlisten; i++)
        if (event_add(W.listen_ev[i], NULL) != 0)
            log_warning("cannot watch listening socket %d again", W.listen_fds[i]);
}

static void pause_accepting(void)
{
    struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };
    int i;

    if (resume_ev == NULL)
        resume_ev = evtimer_new(W.base, on_resume_accepting, NULL);
    if (resume_ev == NULL || evtimer_add(resume_ev, &tv) != 0)
        return;    /* no pause then: we will be called again */
    for (i = 0; i < W.nlisten; i++)
        event_del(W.listen_ev[i]);
}

/* accept() failed with err (EMFILE, ENFILE, ENOBUFS, ENOMEM).  Returns 1
 * when a client was refused through the spare descriptor (try the next
 * one), 0 when the caller should return (the listeners may be paused). */
static int accept_short(int lfd, int err)
{
    int64_t now = util_mstime();
    int fd;

    short_count++;
    if (now - short_logged_ms >= ACCEPT_LOG_MS) {
        log_warning("accept: %s (%llu times since the last report): new clients are refused "
                    "or wait until some disconnect; %u connected here, maxclients %lld",
                    strerror(err), (unsigned long long)short_count, W.nclients,
                    config.maxclients);
        short_logged_ms = now;
        short_count = 0;
    }
    if ((err == EMFILE || err == ENFILE) && spare_fd >= 0) {
        close(spare_fd);
        spare_fd = -1;
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        err = fd < 0 ? errno : 0;
        if (fd >= 0) {
            W.st.connections++;
            refuse(fd);
        }
        take_spare();
        if (fd >= 0)
            return 1;
        if (err == EAGAIN || err == EWOULDBLOCK)
            return 0;    /* nobody was waiting after all */
    }
    pause_accepting();
    return 0;
}

void client_on_accept(int lfd, short what, void *arg)
{
    int i;

    (void)what;
    (void)arg;
    take_spare();
    for (i = 0; i < MAX_ACCEPTS && !W.stopping; i++) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof(sa);
        int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int64_t total;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (accept_short(lfd, errno))
                    continue;
                return;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_warning("accept: %s", strerror(errno));
            return;
        }
        W.st.connections++;
        /* Count ourselves in first, then add everyone up: two workers
         * accepting at once may both refuse, never both admit past it. */
        atomic_fetch_add(&W.shared->w[W.id].clients, 1);
        total = clients_total();
        if (total > config.maxclients) {
            refuse(fd);
            atomic_fetch_sub(&W.shared->w[W.id].clients, 1);
            continue;
        }
        set_sockopts(fd);
        if (client_new(fd, &sa) == NULL) {
            log_warning("out of memory accepting a client");
            close(fd);
            atomic_fetch_sub(&W.shared->w[W.id].clients, 1);
        }
    }
}

void clients_cron(void)
{
    struct client *c;
    int64_t now = util_mstime();

    if (config.timeout <= 0)
        return;
    for (c = W.clients; c; c = c->next) {
        if (c->npend > 0 || (c->flags & CLIENT_CLOSE_ASAP))
            continue;
        if (now - c->last_ms > config.timeout * 1000) {
            log_verbose("closing idle client id=%llu addr=%s", (unsigned long long)c->id,
                        c->addr);
            client_close_asap(c);
        }
    }
}

void clients_free_all(void)
{
    while (W.clients)
        client_free(W.clients);
    W.to_write = NULL;
    to_free = NULL;
}

struct client *client_by_id(uint64_t id)
{
    struct client *c;
    for (c = W.clients; c; c = c->next)
        if (c->id == id && !(c->flags & CLIENT_CLOSE_ASAP))
            return c;
    return NULL;
}

int client_info_line(const struct client *c, char *buf, size_t len)
{
    int64_t now = util_mstime();

    return snprintf(buf, len,
                    "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=N "
                    "db=%u sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu qbuf-free=%zu argv-mem=0 "
                    "multi-mem=0 rbs=%zu rbp=0 obl=%zu oll=0 omem=0 tot-mem=%zu events=r "
                    "cmd=%s%s%s user=default redir=-1 resp=%d",
                    (unsigned long long)c->id, c->addr, c->laddr, c->fd,
                    c->name ? c->name : "", (long long)(now - c->ctime_ms) / 1000,
                    (long long)(now - c->last_ms) / 1000, c->db, c->ilen - c->ipos,
                    c->icap - c->ilen, c->icap, c->out.len - c->out_sent,
                    sizeof(*c) + c->icap + c->out.cap,
                    c->last_cmd ? c->last_cmd->name : "NULL", c->last_sub ? "|" : "",
                    c->last_sub ? c->last_sub : "", c->proto);
}
