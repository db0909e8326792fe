/*
 * config.h - every setting of ember, in one table.
 *
 * One line per setting (CONFIG_TABLE below) feeds the settings struct, the
 * command-line flags (--name value), the config file (name value, as in
 * redis.conf), CONFIG GET / CONFIG SET, emberd --help, and the option list
 * of the man pages (emberd --dump-options prints it in mdoc), so none of
 * them can drift from the others.
 *
 * Mutable settings also live in a small shared page that the supervisor
 * maps before forking (config_shared_*, below): CONFIG SET in any worker
 * publishes there the settings it changed, each with its own version, and
 * every worker applies what others published at its next loop turn (and
 * before CONFIG SET replies: t_server.c asks them to); a worker that is
 * restarted starts from the page, so it comes back with the values CONFIG
 * SET gave.  Immutable ones (the port, the worker count...) are fixed at
 * start and need a restart to change.
 *
 * CONF_HIDDEN settings exist for Redis compatibility (clients and Redis's
 * test suite set them): CONFIG GET reports them, --help and the man pages
 * leave them out.  save and appendonly accept only the value that is true
 * of ember, so they never change and need no sharing.
 */
#ifndef WORKER_CONFIG_H
#define WORKER_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum config_type { CONF_BOOL, CONF_INT, CONF_MEMORY, CONF_STRING, CONF_ENUM };

/* The largest maxclients the table accepts; what fits under the open
 * files limit may be less (config_set_maxclients_limit). */
#define CONFIG_MAXCLIENTS_MAX 1000000

#define CONF_IMMUTABLE 1u   /* set at start only */
#define CONF_HIDDEN    2u   /* not in --help / the man page (tests, compat) */
#define CONF_CLAMPED   4u   /* any value 0..INT32_MAX is taken, clamped into
                               min..max (Redis's hz) */

/*
 * X(name, field, type, default, min, max, enum-values, flags, help)
 * enum-values: "a|b|c" for CONF_ENUM, NULL otherwise.
 */
#define CONFIG_TABLE(X)                                                                  \
    X("port", port, CONF_INT, "6379", 0, 65535, NULL, CONF_IMMUTABLE,                    \
      "TCP port to accept clients on")                                                   \
    X("bind", bind, CONF_STRING, "127.0.0.1", 0, 0, NULL, CONF_IMMUTABLE,                \
      "addresses to listen on, space separated")                                         \
    X("workers", workers, CONF_INT, "0", 0, 128, NULL, CONF_IMMUTABLE,                   \
      "worker processes, one shard each; 0 means one per online CPU")                    \
    X("dir", dir, CONF_STRING, ".", 0, 0, NULL, CONF_IMMUTABLE,                          \
      "working directory: control socket, pid file and future persistence files")       \
    X("name", name, CONF_STRING, "", 0, 0, NULL, CONF_IMMUTABLE,                         \
      "instance name; arenas are named <name>-<shard>; default ember-<port>")            \
    X("hugepages", hugepages, CONF_ENUM, "auto", 0, 0, "off|on|auto", CONF_IMMUTABLE,    \
      "back arenas with hugetlbfs: off, on (fail without), auto (when free pages exist)") \
    X("hugetlbfs-dir", hugetlbfs_dir, CONF_STRING, "", 0, 0, NULL, CONF_IMMUTABLE,       \
      "hugetlbfs mount to use; empty means the first one found")                         \
    X("shm-dir", shm_dir, CONF_STRING, "/dev/shm", 0, 0, NULL, CONF_IMMUTABLE,           \
      "where arenas live when not on hugetlbfs")                                         \
    X("arena-check", arena_check, CONF_ENUM, "unclean", 0, 0, "never|unclean|always",    \
      CONF_IMMUTABLE, "when a worker checks its arena at attach")                        \
    X("maxmemory", maxmemory, CONF_MEMORY, "0", 0, INT64_MAX, NULL, 0,                   \
      "memory limit for data (split evenly across shards); 0 means none")                \
    X("maxmemory-policy", maxmemory_policy, CONF_ENUM, "noeviction", 0, 0, "noeviction", 0, \
      "what to do at maxmemory: noeviction refuses writes that need memory")             \
    X("databases", databases, CONF_INT, "16", 1, 65536, NULL, CONF_IMMUTABLE,            \
      "number of databases (SELECT 0..n-1)")                                             \
    X("maxclients", maxclients, CONF_INT, "10000", 1, CONFIG_MAXCLIENTS_MAX, NULL, 0,    \
      "maximum simultaneous client connections")                                         \
    X("timeout", timeout, CONF_INT, "0", 0, INT32_MAX, NULL, 0,                          \
      "close a client idle for this many seconds; 0 means never")                        \
    X("tcp-keepalive", tcp_keepalive, CONF_INT, "300", 0, INT32_MAX, NULL, 0,            \
      "TCP keepalive interval in seconds; 0 means off")                                  \
    X("tcp-backlog", tcp_backlog, CONF_INT, "511", 1, 65535, NULL, CONF_IMMUTABLE,       \
      "listen(2) backlog")                                                               \
    X("proto-max-bulk-len", proto_max_bulk_len, CONF_MEMORY, "512mb", 1048576, INT64_MAX, \
      NULL, 0, "largest bulk string a client may send")                                  \
    X("client-query-buffer-limit", client_query_buffer_limit, CONF_MEMORY, "1gb",        \
      1048576, INT64_MAX, NULL, 0, "largest query buffer a client may fill")             \
    X("hz", hz, CONF_INT, "10", 1, 500, NULL, CONF_CLAMPED,                              \
      "background task frequency (active expiry, timeouts) per second; clamped to "      \
      "1..500")                                                                          \
    X("loglevel", loglevel, CONF_ENUM, "notice", 0, 0, "debug|verbose|notice|warning", 0, \
      "log verbosity")                                                                   \
    X("logfile", logfile, CONF_STRING, "", 0, 0, NULL, CONF_IMMUTABLE,                   \
      "log file; empty means standard error")                                            \
    X("daemonize", daemonize, CONF_BOOL, "no", 0, 0, NULL, CONF_IMMUTABLE,               \
      "detach from the terminal and run in the background")                             \
    X("pidfile", pidfile, CONF_STRING, "", 0, 0, NULL, CONF_IMMUTABLE,                   \
      "write the supervisor's pid here")                                                 \
    X("control-socket", control_socket, CONF_STRING, "", 0, 0, NULL, CONF_IMMUTABLE,     \
      "unix socket for emberctl; default <dir>/emberd.sock")                             \
    X("cpu-affinity", cpu_affinity, CONF_BOOL, "yes", 0, 0, NULL, CONF_IMMUTABLE,        \
      "pin worker n to the n-th online CPU")                                             \
    X("hash-max-listpack-entries", hash_max_listpack_entries, CONF_INT, "512", 0, LLONG_MAX,  \
      NULL, 0,                                                                             \
      "hashes with more fields than this (at most 32767) use a hash table")                \
    X("hash-max-listpack-value", hash_max_listpack_value, CONF_MEMORY, "64", 0, LLONG_MAX, \
      NULL, 0, "hashes with a longer field or value than this use a hash table")         \
    X("set-max-listpack-entries", set_max_listpack_entries, CONF_INT, "128", 0, LLONG_MAX,    \
      NULL, 0,                                                                             \
      "sets with more members than this (at most 65535) use a hash table")                 \
    X("set-max-listpack-value", set_max_listpack_value, CONF_MEMORY, "64", 0, LLONG_MAX, \
      NULL, 0, "sets with a longer member than this use a hash table")                   \
    X("set-max-intset-entries", set_max_intset_entries, CONF_INT, "512", 0, LLONG_MAX, NULL,   \
      0,                                                                                   \
      "sets of integers only stay compact up to this many members (at most 65535)")        \
    X("zset-max-listpack-entries", zset_max_listpack_entries, CONF_INT, "128", 0, LLONG_MAX,  \
      NULL, 0,                                                                             \
      "sorted sets with more members than this (at most 32767) use a skiplist")            \
    X("zset-max-listpack-value", zset_max_listpack_value, CONF_MEMORY, "64", 0, LLONG_MAX, \
      NULL, 0, "sorted sets with a longer member than this use a skiplist")              \
    X("list-max-listpack-size", list_max_listpack_size, CONF_INT, "-2", INT32_MIN, INT32_MAX, NULL,   \
      0, "list node size: -1..-5 = 4..64 KiB, positive = elements per node")                \
    X("list-compress-depth", list_compress_depth, CONF_INT, "0", 0, INT_MAX, NULL,         \
      CONF_HIDDEN, "Redis's list node compression: accepted and reported, no effect "     \
      "(ember LZ4-compresses inner list nodes whenever that pays)")                      \
    X("save", save, CONF_STRING, "", 0, 0, NULL, CONF_HIDDEN,                            \
      "snapshots: not implemented yet; only the empty value is accepted")                \
    X("appendonly", appendonly, CONF_BOOL, "no", 0, 0, NULL, CONF_HIDDEN,                \
      "append-only file: not implemented yet; only no is accepted")

#define CONFIG_FIELD_CONF_BOOL   int
#define CONFIG_FIELD_CONF_INT    long long
#define CONFIG_FIELD_CONF_MEMORY long long
#define CONFIG_FIELD_CONF_STRING char *
#define CONFIG_FIELD_CONF_ENUM   int
#define CONFIG_FIELD(name, field, type, def, min, max, enums, flags, help) \
    CONFIG_FIELD_##type field;

struct ember_config {
    CONFIG_TABLE(CONFIG_FIELD)
};

extern struct ember_config config;

/* Enum values, in the order of their "a|b|c" strings. */
enum { HUGE_OFF = 0, HUGE_ON, HUGE_AUTO };
enum { CHECK_NEVER = 0, CHECK_UNCLEAN, CHECK_ALWAYS };

/* Sets every setting to its default. */
void config_defaults(void);

/*
 * Sets one setting from text (flag, file or CONFIG SET).  `running` makes
 * immutable settings refuse.  Returns 0, or -1 with a message in err
 * (Redis's wording where CONFIG SET has one: "argument must be a memory
 * value", "argument(s) must be one of the following: a, b, c", "can't set
 * immutable config"...).  A value that does not parse leaves the setting
 * as it was.
 */
int config_set(const char *name, const char *value, int running, char *err, size_t errlen);

/*
 * The most clients the open files limit lets one worker hold, each worker
 * being liable to hold every client (maxclients is global).  The
 * supervisor sets it at start, after raising RLIMIT_NOFILE as far as it
 * can, and the workers inherit it; 0 (the initial value) means no limit
 * is known.  From then on config_set() refuses a larger maxclients with
 * Redis's error ("The operating system is not able to handle the
 * specified number of clients, try with N").
 */
void config_set_maxclients_limit(long long n);

/* Formats a setting's current value; returns 0 or -1 if unknown. */
int config_get(const char *name, char *buf, size_t len);

/* The table's own name for a setting's name or alias (case-insensitive),
 * or NULL when there is no such setting. */
const char *config_name(const char *name);

/* 1 when CONFIG SET may change the setting at run time, 0 when it is
 * fixed at start, -1 when there is no such setting. */
int config_is_mutable(const char *name);

/* Reads a redis.conf-style file: "name value" lines, # comments, and
 * remembers its absolute path (config_file_path).  0, or -1 with the file,
 * line and reason in err. */
int config_load_file(const char *path, char *err, size_t errlen);

/* The absolute path of the config file loaded at start ("" when none):
 * INFO's config_file.  Taken at load time, before emberd changes directory. */
const char *config_file_path(void);

/* Calls fn for each setting whose name matches the glob pattern. */
void config_each(const char *pattern,
                 void (*fn)(const char *name, const char *value, void *ctx), void *ctx);

/* Prints the settings for --help, or as an mdoc list for the man pages:
 * as flags (emberd.8) or as config file keywords (ember.conf.5). */
void config_print_help(FILE *f);
void config_print_mdoc(FILE *f, int as_keywords);

/* Parses Redis memory units: 100, 1k (1000), 1kb (1024), 2gb... -1 on error. */
long long config_memtoll(const char *s);

/* ---- the shared page of mutable settings ---------------------------------- */

/*
 * Mutable numeric, boolean and enum settings, each with the version at
 * which it was last published, behind a robust process-shared mutex (a
 * process killed while holding it does not block the others).  Mutable
 * string settings are not shared: there are none that can change (save
 * takes only "").
 *
 * Publishing writes only the settings this process changed since it last
 * synced or published, so two workers that change different settings at
 * the same moment both keep their change; two changes of the same setting
 * end with the last one published, on every worker.
 */
struct config_shared;

/* Creates the page (supervisor, before forking): MAP_SHARED anonymous,
 * holding the current settings.  NULL on failure (errno set). */
struct config_shared *config_shared_create(void);

/* A process that starts serving from the page (a worker, fresh or
 * restarted): takes every shared setting from it. */
void config_shared_attach(struct config_shared *s);

/* Publishes the shared settings this process changed since its last sync
 * or publish, and takes in what others published meanwhile (the caller
 * applies settings after it).  0, or -1 when the page's lock cannot be
 * taken (nothing was published). */
int config_shared_publish(struct config_shared *s);

/* Takes in what other processes published since the last call; returns 1
 * if any setting changed, 0 if none (or the lock failed). */
int config_shared_sync(struct config_shared *s);

#endif /* WORKER_CONFIG_H */
