/*
 * log.c - the log (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static char log_path[4096];
static enum log_level log_level = LOG_NOTICE;
static char log_role[16] = "S";

static const char *level_names[] = { "debug", "verbose", "notice", "warning" };
static const char level_marks[] = ".-*#";

int log_open(const char *path)
{
    int fd;

    if (path == NULL || path[0] == '\0') {
        if (log_fd > 2)
            close(log_fd);
        log_fd = 2;
        log_path[0] = '\0';
        return 0;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (log_fd > 2)
        close(log_fd);
    log_fd = fd;
    snprintf(log_path, sizeof(log_path), "%s", path);
    return 0;
}

int log_reopen(void)
{
    char path[sizeof(log_path)];

    memcpy(path, log_path, sizeof(path));
    return path[0] ? log_open(path) : 0;
}

void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }

void log_set_role(const char *role)
{
    snprintf(log_role, sizeof(log_role), "%s", role);
}

int log_parse_level(const char *s)
{
    int i;
    for (i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return level_names[level];
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char buf[2048];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    int n, m, saved = errno;

    if (level < log_level)
        return;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = snprintf(buf, sizeof(buf), "%d:%s ", (int)getpid(), log_role);
    n += (int)strftime(buf + n, sizeof(buf) - (size_t)n, "%d %b %Y %H:%M:%S", &tm);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%03d %c ", (int)(tv.tv_usec / 1000),
                  level_marks[level]);
    va_start(ap, fmt);
    m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    /* One write per line; a failing log has nowhere to report to. */
    if (write(log_fd, buf, (size_t)n) < 0)
        (void)0;
    errno = saved;
}
