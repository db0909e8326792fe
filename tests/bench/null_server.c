/*
 * null_server.c - the floor under "server CPU time per request".
 *
 * tests/bench/server_bench.py runs it beside redis-server and emberd, under
 * the same load, to show how much of a request's CPU time no server can
 * save: the kernel's share of a loopback TCP round trip.  It does what any
 * server must and nothing more: one epoll loop, one recv(2) and one send(2)
 * per ready connection, and "+OK" for every command found (a '*' at the
 * start of a line), with no parsing and no data.  redis-benchmark reads any
 * reply as an answer, so its request rate and our CPU time are those of a
 * server that spends nothing in user space.  Not a server: never run it
 * anywhere but on loopback, for a benchmark.
 *
 *   null_server PORT
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUF_BYTES  (1 << 16)

static char in[BUF_BYTES], out[BUF_BYTES];

static void serve(int fd)
{
    ssize_t n = recv(fd, in, sizeof(in), 0), i;
    size_t o = 0;

    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            close(fd);
        return;
    }
    for (i = 0; i < n && o + 5 <= sizeof(out); i++)
        if (in[i] == '*' && (i == 0 || in[i - 1] == '\n')) {
            memcpy(out + o, "+OK\r\n", 5);
            o += 5;
        }
    /* Replies are tiny and the peer reads them: a short write is a closed
     * connection, which the next recv() finds. */
    if (o > 0 && send(fd, out, o, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
        close(fd);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    struct epoll_event ev = { .events = EPOLLIN }, evs[MAX_EVENTS];
    int lfd, ep, one = 1, port = argc == 2 ? atoi(argv[1]) : 0;

    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: null_server PORT\n");
        return 2;
    }
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (lfd < 0 || ep < 0 ||
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 511) != 0) {
        perror("null_server: listen");
        return 1;
    }
    ev.data.fd = lfd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        perror("null_server: epoll_ctl");
        return 1;
    }
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1), i;

        if (n < 0 && errno != EINTR) {
            perror("null_server: epoll_wait");
            return 1;
        }
        for (i = 0; i < n; i++) {
            int c;

            if (evs[i].data.fd != lfd) {
                serve(evs[i].data.fd);
                continue;
            }
            while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                ev.data.fd = c;
                if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) != 0)
                    close(c);
            }
        }
    }
}
