/*
 * emberctl - control a running emberd through its control socket.
 *
 *   emberctl [-s SOCKET | -d DIR] status [--json]
 *   emberctl [-s SOCKET | -d DIR] shutdown [--no-wait]
 *   emberctl [-s SOCKET | -d DIR] ping
 *
 * The socket is SOCKET, or DIR/emberd.sock, or $EMBER_CONTROL_SOCKET, or
 * ./emberd.sock.  Exit status: 0 success, 1 the daemon answered an error or
 * did not stop in time, 2 usage or the daemon could not be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: emberctl [-s socket | -d dir] status [--json]\n"
               "       emberctl [-s socket | -d dir] shutdown [--no-wait]\n"
               "       emberctl [-s socket | -d dir] ping\n");
}

/* How long `shutdown` waits for emberd to exit. */
#define SHUTDOWN_WAIT_S 30

/*
 * Sends one request line; prints the answer to stdout, or keeps it in buf.
 * Reads until emberd closes the connection, or for `line_only` until the
 * first newline; gives up after `timeout_s` seconds (0: never), returning 1.
 */
static int request(const char *path, const char *line, char *buf, size_t buflen,
                   int line_only, int timeout_s)
{
    struct sockaddr_un sa;
    size_t got = 0;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "emberctl: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "emberctl: cannot reach emberd at %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        fprintf(stderr, "emberctl: cannot send to %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (timeout_s > 0) {
        struct timeval tv = { timeout_s, 0 };
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
            fprintf(stderr, "emberctl: SO_RCVTIMEO: %s\n", strerror(errno));
            close(fd);
            return -1;
        }
    }
    for (;;) {
        char chunk[4096];
        ssize_t n = read(fd, chunk, line_only ? 1 : sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (buf)
                buf[got] = '\0';
            close(fd);
            return 1;
        }
        if (n <= 0)
            break;
        if (buf) {
            size_t k = (size_t)n < buflen - 1 - got ? (size_t)n : buflen - 1 - got;
            memcpy(buf + got, chunk, k);
            got += k;
        } else if (fwrite(chunk, 1, (size_t)n, stdout) != (size_t)n) {
            break;
        }
        if (line_only && chunk[0] == '\n')
            break;
    }
    if (buf)
        buf[got] = '\0';
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "socket", required_argument, NULL, 's' },
        { "dir", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { "no-wait", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char path[PATH_MAX] = "", answer[512];
    const char *cmd;
    int opt, json = 0, nowait = 0;

    while ((opt = getopt_long(argc, argv, "s:d:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': snprintf(path, sizeof(path), "%s", optarg); break;
        case 'd': snprintf(path, sizeof(path), "%s/emberd.sock", optarg); break;
        case 'j': json = 1; break;
        case 'n': nowait = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    cmd = argv[optind];
    /* Options may also follow the command (emberctl status --json). */
    for (int i = optind + 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--no-wait") == 0)
            nowait = 1;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (path[0] == '\0')
        snprintf(path, sizeof(path), "%s",
                 getenv("EMBER_CONTROL_SOCKET") ? getenv("EMBER_CONTROL_SOCKET") : "emberd.sock");

    if (strcmp(cmd, "status") == 0)
        return request(path, json ? "status json\n" : "status\n", NULL, 0, 0, 0) == 0 ? 0 : 2;
    if (strcmp(cmd, "ping") == 0) {
        if (request(path, "ping\n", answer, sizeof(answer), 0, 0) != 0)
            return 2;
        fputs(answer, stdout);
        return strncmp(answer, "PONG", 4) == 0 ? 0 : 1;
    }
    if (strcmp(cmd, "shutdown") == 0) {
        /* emberd keeps the connection open until it exits: its end is
         * the sign that every worker finished and the supervisor is gone
         * (unlike kill(pid, 0), which a zombie still passes). */
        int pid = 0, rc = request(path, "shutdown\n", answer, sizeof(answer), nowait,
                                  SHUTDOWN_WAIT_S);
        if (rc < 0)
            return 2;
        if (sscanf(answer, "OK stopping pid %d", &pid) != 1) {
            fprintf(stderr, "emberctl: unexpected answer: %s", answer);
            return 1;
        }
        if (nowait) {
            printf("emberd (pid %d) is stopping\n", pid);
            return 0;
        }
        if (rc == 1) {
            fprintf(stderr, "emberctl: emberd (pid %d) is still running after %d s\n", pid,
                    SHUTDOWN_WAIT_S);
            return 1;
        }
        printf("emberd (pid %d) stopped\n", pid);
        return 0;
    }
    usage(stderr);
    return 2;
}
