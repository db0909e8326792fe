/*
 * log.h - the log, shared by the supervisor and its workers.
 *
 * Lines look like Redis's so that log tooling keeps working:
 *
 *     4242:W1 22 Nov 2026 07:04:01.123 * attached arena ember-6379-1 ...
 *
 * pid, role (S supervisor, Wn worker n, C a forked child), time, a level
 * mark (. debug, - verbose, * notice, # warning) and the message.  Each
 * line is written with one write(2) so lines from several processes
 * sharing the log file never interleave.
 */
#ifndef WORKER_LOG_H
#define WORKER_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING };

/* Opens the log: `path` NULL or "" means stderr.  Returns 0 or -1 (errno). */
int log_open(const char *path);

/* Reopens the same file (after logrotate moved it).  0 or -1. */
int log_reopen(void);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* The role printed on every line: "S", "W3"... (copied). */
void log_set_role(const char *role);

/* Parses "debug", "verbose", "notice", "warning"; -1 if none. */
int log_parse_level(const char *s);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)

#endif /* WORKER_LOG_H */
