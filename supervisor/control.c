/*
 * control.c - the control socket that emberctl talks to.
 *
 * A unix stream socket, mode 0600, in the working directory (emberd.sock)
 * unless --control-socket says otherwise.  The protocol is one request line
 * per connection ("ping", "status", "status json", "shutdown"); the
 * supervisor writes its answer and closes.  Worker figures come from the
 * shared page the workers keep up to date.
 */
#include "supervisor.h"

#include <stdarg.h>

#include "shm/arena.h"
#include "worker/config.h"
#include "worker/log.h"
#include "worker/util.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REQ_MAX 256

struct conn {
    int fd;
    struct event *ev;
    char buf[REQ_MAX];
    size_t len;
    struct conn *prev, *next;
};

/* Open connections: a worker forked meanwhile must close its copies, or
 * emberctl would wait for that worker to die to see its answer end. */
static struct conn *conns;

static const char *state_name(int s)
{
    switch (s) {
    case WS_STARTING: return "starting";
    case WS_RUNNING: return "running";
    case WS_STOPPING: return "stopping";
    case WS_DONE: return "stopped";
    default: return "down";
    }
}

static const char *arena_state(int attach)
{
    if (attach & SHM_ATTACH_CREATED)
        return "created";
    if (attach & SHM_ATTACH_ROLLED_BACK)
        return "recovered-rolled-back";
    if (attach & SHM_ATTACH_UNCLEAN)
        return "recovered";
    if (attach & SHM_ATTACH_HANDED_OFF)
        return "handed-off";
    return "attached-clean";
}

static int set_path(void)
{
    const char *p = config.control_socket[0] ? config.control_socket : "emberd.sock";
    char cwd[PATH_MAX];

    if (p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        snprintf(S.control_path, sizeof(S.control_path), "%s", p);
    else if (strlen(cwd) + 1 + strlen(p) < sizeof(S.control_path)) {
        strcpy(S.control_path, cwd);
        strcat(S.control_path, "/");
        strcat(S.control_path, p);
    } else {
        return -1;
    }
    return strlen(S.control_path) < sizeof(((struct sockaddr_un *)0)->sun_path) ? 0 : -1;
}

static int fill_addr(struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(S.control_path) >= sizeof(sa->sun_path))
        return -1;
    strcpy(sa->sun_path, S.control_path);
    return 0;
}

int sup_control_check_running(void)
{
    struct sockaddr_un sa;
    int fd;

    if (set_path() != 0 || fill_addr(&sa) != 0) {
        log_warning("control socket path %s is too long", S.control_path);
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        close(fd);
        log_warning("another emberd answers on %s; not starting a second one",
                    S.control_path);
        return -1;
    }
    close(fd);
    return 0;
}

static void emit(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct conn *c, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    int n;
    size_t off = 0;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    while (off < (size_t)n) {
        ssize_t w = write(c->fd, buf + off, (size_t)n - off);
        if (w <= 0)
            return;   /* emberctl went away: nothing to tell it */
        off += (size_t)w;
    }
}

static void status(struct conn *c, int json)
{
    int64_t now = util_mstime(), up = (now - atomic_load(&S.shared->started_ms)) / 1000;
    unsigned w;

    if (json)
        emit(c, "{\"version\":\"%s\",\"redis_version\":\"%s\",\"pid\":%d,\"uptime_s\":%lld,"
             "\"port\":%lld,\"instance\":\"%s\",\"arena_layout\":%u,\"stopping\":%s,"
             "\"workers\":[", EMBER_RELEASE, EMBER_VERSION, (int)S.pid, (long long)up,
             config.port, S.name, SHM_LAYOUT_VERSION, S.stopping ? "true" : "false");
    else
        emit(c, "ember %s  pid %d  up %lld s  port %lld  instance %s  workers %u%s\n"
             "%-6s %-6s %-8s %-9s %12s %12s %12s %8s %8s %8s  %s\n",
             EMBER_RELEASE, (int)S.pid, (long long)up, config.port, S.name, S.nworkers,
             S.stopping ? "  (stopping)" : "", "worker", "shard", "pid", "state", "keys",
             "used-bytes", "arena-bytes", "clients", "uptime", "restarts", "arena");
    for (w = 0; w < S.nworkers; w++) {
        struct worker_slot *s = &S.shared->w[w];
        int pid = atomic_load(&s->pid), st = atomic_load(&s->state);
        int64_t wup = pid ? (now - atomic_load(&s->started_ms)) / 1000 : 0;
        if (json)
            emit(c, "%s{\"worker\":%u,\"shard\":%u,\"pid\":%d,\"state\":\"%s\",\"keys\":%llu,"
                 "\"used_bytes\":%llu,\"arena_bytes\":%llu,\"clients\":%lld,\"uptime_s\":%lld,"
                 "\"restarts\":%u,\"arena\":\"%s\",\"commands\":%llu}",
                 w ? "," : "", w, w, pid, state_name(st),
                 (unsigned long long)atomic_load(&s->keys),
                 (unsigned long long)atomic_load(&s->used_bytes),
                 (unsigned long long)atomic_load(&s->arena_bytes),
                 (long long)atomic_load(&s->clients), (long long)wup,
                 S.workers[w].restarts, arena_state(atomic_load(&s->arena_state)),
                 (unsigned long long)atomic_load(&s->commands));
        else
            emit(c, "%-6u %-6u %-8d %-9s %12llu %12llu %12llu %8lld %7llds %8u  %s\n", w, w,
                 pid, state_name(st), (unsigned long long)atomic_load(&s->keys),
                 (unsigned long long)atomic_load(&s->used_bytes),
                 (unsigned long long)atomic_load(&s->arena_bytes),
                 (long long)atomic_load(&s->clients), (long long)wup, S.workers[w].restarts,
                 arena_state(atomic_load(&s->arena_state)));
    }
    if (json)
        emit(c, "]}\n");
}

/* Answers c's request.  Returns 1 to keep the connection open: a
 * shutdown's, which only ends when this process exits, so that emberctl
 * sees the end of the stream when we are gone (even before our parent
 * reaps us). */
static int handle(struct conn *c)
{
    char *nl = memchr(c->buf, '\n', c->len);

    if (nl)
        *nl = '\0';
    else
        c->buf[c->len < REQ_MAX ? c->len : REQ_MAX - 1] = '\0';
    if (nl && nl > c->buf && nl[-1] == '\r')
        nl[-1] = '\0';
    if (strcmp(c->buf, "ping") == 0) {
        emit(c, "PONG\n");
    } else if (strcmp(c->buf, "status") == 0) {
        status(c, 0);
    } else if (strcmp(c->buf, "status json") == 0) {
        status(c, 1);
    } else if (strcmp(c->buf, "shutdown") == 0) {
        emit(c, "OK stopping pid %d\n", (int)S.pid);
        log_notice("shutdown requested on the control socket");
        sup_shutdown(0);
        return 1;
    } else {
        emit(c, "ERR unknown request '%.64s' (try: ping, status, status json, shutdown)\n",
             c->buf);
    }
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->ev);
    close(c->fd);
    free(c);
}

static void on_conn(int fd, short what, void *arg)
{
    struct conn *c = arg;
    ssize_t n;

    (void)what;
    n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0)
        c->len += (size_t)n;
    if (n <= 0 || memchr(c->buf, '\n', c->len) || c->len >= sizeof(c->buf) - 1) {
        if (c->len > 0) {
            /* Small answers: write them blocking, with a timeout. */
            struct timeval tv = { 2, 0 };
            if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
                log_verbose("control connection: SO_SNDTIMEO: %s", strerror(errno));
            if (handle(c)) {
                event_del(c->ev);     /* kept open until we exit; nothing more to read */
                return;
            }
        }
        conn_close(c);
    }
}

static void on_accept(int lfd, short what, void *arg)
{
    (void)what;
    (void)arg;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        struct conn *c;
        if (fd < 0)
            return;
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            close(fd);
            return;
        }
        c->fd = fd;
        c->ev = event_new(S.base, fd, EV_READ | EV_PERSIST, on_conn, c);
        if (c->ev == NULL || event_add(c->ev, NULL) != 0) {
            if (c->ev)
                event_free(c->ev);
            close(fd);
            free(c);
            continue;
        }
        c->next = conns;
        if (conns)
            conns->prev = c;
        conns = c;
    }
}

int sup_control_open(void)
{
    struct sockaddr_un sa;
    mode_t old;
    int fd;

    if (fill_addr(&sa) != 0)
        return -1;
    (void)unlink(S.control_path);   /* stale: check_running found nobody */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_warning("control socket: %s", strerror(errno));
        return -1;
    }
    old = umask(0077);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        chmod(S.control_path, 0600) != 0 || listen(fd, 16) != 0) {
        log_warning("control socket %s: %s", S.control_path, strerror(errno));
        umask(old);
        close(fd);
        return -1;
    }
    umask(old);
    S.control_fd = fd;
    S.control_ev = event_new(S.base, fd, EV_READ | EV_PERSIST, on_accept, NULL);
    if (S.control_ev == NULL || event_add(S.control_ev, NULL) != 0) {
        log_warning("control socket: cannot watch it");
        return -1;
    }
    log_notice("control socket %s (emberctl -s %s status)", S.control_path, S.control_path);
    return 0;
}

void sup_control_close_in_child(void)
{
    while (conns)
        conn_close(conns);
    if (S.control_ev) {
        event_free(S.control_ev);
        S.control_ev = NULL;
    }
    if (S.control_fd >= 0) {
        close(S.control_fd);
        S.control_fd = -1;
    }
}

void sup_control_close(void)
{
    if (S.control_ev) {
        event_free(S.control_ev);
        S.control_ev = NULL;
    }
    if (S.control_fd >= 0) {
        close(S.control_fd);
        S.control_fd = -1;
        unlink(S.control_path);
    }
}
