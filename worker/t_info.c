/*
 * t_info.c - INFO, and the @shardinfo report every shard gives for it.
 *
 * Every worker owns one shard, so most of INFO is a sum over shards: the
 * client's worker sends "@shardinfo [commandstats] [errorstats]" to every
 * shard (its own included) and merges the replies.  A shard reports plain
 * "name:value" lines:
 *
 *   <field>:<n>                 SHARD_FIELDS below (memory, counters...)
 *   db:<db>:<keys>:<expires>    per non-empty database
 *   cmd:<name>:<calls>:<usec>:<rejected>:<failed>   per command (commandstats)
 *   err:<count>:<prefix>        per error prefix (errorstats; the prefix
 *                               comes last, as it may hold any byte but a
 *                               newline)
 *
 * and the merge sums them by name into Redis's text.  What is the same on
 * every worker (server, replication, persistence but the change count) is
 * written from the client's worker without asking the others.  With one
 * worker, or for sections that need no shard figures, nothing is sent.
 *
 * Counters are per worker process: a worker that is restarted starts its
 * own from zero (its keys, in the arena, stay counted).
 */
#include "server.h"
#include "client.h"
#include "blocking.h"
#include "commands.h"
#include "config.h"
#include "cross.h"
#include "t_server.h"
#include "util.h"

#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Every command name of the table, internal ones included, in table order. */
#define NAME_OF(n, ...) n,
static const char *const cmd_names[] = { COMMAND_TABLE(NAME_OF) };
#undef NAME_OF
#define NCMD_NAMES (sizeof(cmd_names) / sizeof(cmd_names[0]))

/* Appends printf output to b (no-op once b has failed). */
static void addf(struct rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct rbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || rbuf_reserve(b, (size_t)n + 1) != EMBER_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- INFO: what each shard reports ------------------------------------------------------ */

static uint64_t proc_rss(void)
{
    char buf[128];
    unsigned long long size = 0, resident = 0;
    ssize_t n;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return 0;
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Calls of internal commands: W.st.commands counts them, Redis would not. */
static uint64_t internal_calls(void)
{
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < NCMD_NAMES; i++) {
        const struct cmd *c;
        if (cmd_names[i][0] != '@')
            continue;
        c = cmd_lookup(cmd_names[i], strlen(cmd_names[i]));
        if (c != NULL)
            n += c->calls;
    }
    return n;
}

static uint64_t public_commands(void)
{
    uint64_t in = internal_calls();
    return W.st.commands > in ? W.st.commands - in : 0;
}

/* Redis's instantaneous metric: the mean of the last 16 samples. */
static uint64_t ops_per_sec(void)
{
    uint64_t sum = 0;
    size_t i, n = sizeof(W.st.ops_sec_samples) / sizeof(W.st.ops_sec_samples[0]);

    for (i = 0; i < n; i++)
        sum += W.st.ops_sec_samples[i];
    return sum / n;
}

static uint64_t cpu_us(int user)
{
    struct rusage ru;
    const struct timeval *t;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    t = user ? &ru.ru_utime : &ru.ru_stime;
    return (uint64_t)t->tv_sec * 1000000u + (uint64_t)t->tv_usec;
}

/* Bytes in use in the arena.  shm_used() adds the current mutation's pending
 * change, which shm_commit() leaves behind (not reset): outside a mutation
 * the header's count is the truth. */
static uint64_t arena_used(void)
{
    return W.arena->in_mut ? shm_used(W.arena) : W.arena->hdr->used_bytes;
}

/* What a shard reports for INFO, summed over shards: X(name, expression). */
#define SHARD_FIELDS(X)                         \
    X(used_memory, arena_used())                \
    X(arena_bytes, W.arena->reg.size)           \
    X(rss_bytes, proc_rss())                    \
    X(gc_pending, ks_gc_pending(W.arena))       \
    X(blocked, block_local_clients())           \
    X(commands, public_commands())              \
    X(connections, W.st.connections)            \
    X(rejected, W.st.rejected)                  \
    X(expired, W.st.expired)                    \
    X(hits, W.st.hits)                          \
    X(misses, W.st.misses)                      \
    X(net_in, W.st.net_in)                      \
    X(net_out, W.st.net_out)                    \
    X(forwarded, W.st.forwarded)                \
    X(served_remote, W.st.served_remote)        \
    X(ops_per_sec, ops_per_sec())               \
    X(cpu_sys_us, cpu_us(0))                    \
    X(cpu_user_us, cpu_us(1))                   \
    X(error_replies, W.st.error_replies)        \
    X(dirty, W.dirty)

#define FIELD_ENUM(name, expr) SF_##name,
enum { SHARD_FIELDS(FIELD_ENUM) NSHARD_FIELDS };
#undef FIELD_ENUM
#define FIELD_NAME(name, expr) #name,
static const char *const shard_field_names[] = { SHARD_FIELDS(FIELD_NAME) };
#undef FIELD_NAME

static void put_cmdstat(const struct cmd *c, void *ctx)
{
    addf(ctx, "cmd:%s:%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%" PRIu64 "\n", c->name, c->calls,
         c->ns / 1000, c->rejected_calls, c->failed_calls);
}

static void put_errstat(const char *prefix, uint64_t count, void *ctx)
{
    addf(ctx, "err:%" PRIu64 ":%s\n", count, prefix);
}

/* @shardinfo [commandstats] [errorstats]: this shard's report (see the
 * file comment). */
void ishardinfoCommand(struct cmd_ctx *x)
{
    struct rbuf b;
    unsigned db;
    int i;

    rbuf_init(&b);
#define FIELD_PUT(name, expr) addf(&b, #name ":%" PRIu64 "\n", (uint64_t)(expr));
    SHARD_FIELDS(FIELD_PUT)
#undef FIELD_PUT
    for (db = 0; db < W.arena->hdr->dbcount; db++) {
        uint64_t k = ks_count(W.arena, db), e = ks_count_expires(W.arena, db);
        if (k || e)
            addf(&b, "db:%u:%" PRIu64 ":%" PRIu64 "\n", db, k, e);
    }
    for (i = 1; i < x->argc; i++) {
        if (ARG_EQ(x, i, "commandstats"))
            cmd_each_stat(put_cmdstat, &b);
        else if (ARG_EQ(x, i, "errorstats"))
            cmd_each_error(put_errstat, &b);
    }
    if (b.failed)
        reply_error(x, "ERR out of memory");
    else
        resp_add_bulk(&x->out, b.data ? b.data : "", b.len);
    rbuf_free(&b);
}

/* ---- INFO: summing the shards ------------------------------------------------------------ */

struct errsum {
    char *prefix;                      /* malloc'd */
    uint64_t count;
};

struct shard_sum {
    uint64_t f[NSHARD_FIELDS];
    unsigned nshards;
    unsigned ndb;
    uint64_t *keys, *expires;          /* ndb each */
    uint64_t calls[NCMD_NAMES];        /* by cmd_names index */
    uint64_t usec[NCMD_NAMES];
    uint64_t rejected[NCMD_NAMES];
    uint64_t failed[NCMD_NAMES];
    struct errsum *errs;               /* by prefix, unsorted */
    size_t nerrs, errcap;
    int oom;                           /* an allocation failed: reply an error */
};

static int sum_init(struct shard_sum *s)
{
    memset(s, 0, sizeof(*s));
    s->ndb = W.arena->hdr->dbcount;
    s->keys = calloc(s->ndb ? s->ndb : 1, sizeof(uint64_t));
    s->expires = calloc(s->ndb ? s->ndb : 1, sizeof(uint64_t));
    if (s->keys == NULL || s->expires == NULL) {
        free(s->keys);
        free(s->expires);
        return -1;
    }
    return 0;
}

static void sum_free(struct shard_sum *s)
{
    size_t i;

    for (i = 0; i < s->nerrs; i++)
        free(s->errs[i].prefix);
    free(s->errs);
    free(s->keys);
    free(s->expires);
    s->errs = NULL;
    s->keys = s->expires = NULL;
}

/* Adds count errors of prefix p (n bytes) to s. */
static void sum_error(struct shard_sum *s, const char *p, size_t n, uint64_t count)
{
    size_t i;

    for (i = 0; i < s->nerrs; i++) {
        if (strlen(s->errs[i].prefix) == n && memcmp(s->errs[i].prefix, p, n) == 0) {
            s->errs[i].count += count;
            return;
        }
    }
    if (s->nerrs == s->errcap) {
        size_t cap = s->errcap ? s->errcap * 2 : 16;
        struct errsum *e = realloc(s->errs, cap * sizeof(*e));
        if (e == NULL) {
            s->oom = 1;
            return;
        }
        s->errs = e;
        s->errcap = cap;
    }
    s->errs[s->nerrs].prefix = malloc(n + 1);
    if (s->errs[s->nerrs].prefix == NULL) {
        s->oom = 1;
        return;
    }
    memcpy(s->errs[s->nerrs].prefix, p, n);
    s->errs[s->nerrs].prefix[n] = '\0';
    s->errs[s->nerrs].count = count;
    s->nerrs++;
}

static uint64_t parse_u64(const char **p, const char *end)
{
    uint64_t v = 0;

    while (*p < end && **p >= '0' && **p <= '9')
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    if (*p < end && **p == ':')
        (*p)++;
    return v;
}

/* Adds one shard's report (the text of @shardinfo's bulk) to s. */
static void sum_add(struct shard_sum *s, const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    s->nshards++;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
        const char *eol = nl ? nl : end;
        size_t klen, i;

        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL)
            goto next;
        klen = (size_t)(colon - p);
        if (klen == 2 && memcmp(p, "db", 2) == 0) {
            const char *q = colon + 1;
            uint64_t db = parse_u64(&q, eol), k = parse_u64(&q, eol), e = parse_u64(&q, eol);
            if (db < s->ndb) {
                s->keys[db] += k;
                s->expires[db] += e;
            }
        } else if (klen == 3 && memcmp(p, "cmd", 3) == 0) {
            const char *name = colon + 1, *q = memchr(name, ':', (size_t)(eol - name));
            if (q == NULL)
                goto next;
            for (i = 0; i < NCMD_NAMES; i++) {
                if (strlen(cmd_names[i]) == (size_t)(q - name) &&
                    memcmp(cmd_names[i], name, (size_t)(q - name)) == 0) {
                    q++;
                    s->calls[i] += parse_u64(&q, eol);
                    s->usec[i] += parse_u64(&q, eol);
                    s->rejected[i] += parse_u64(&q, eol);
                    s->failed[i] += parse_u64(&q, eol);
                    break;
                }
            }
        } else if (klen == 3 && memcmp(p, "err", 3) == 0) {
            const char *q = colon + 1;
            uint64_t count = parse_u64(&q, eol);
            sum_error(s, q, (size_t)(eol - q), count);
        } else {
            for (i = 0; i < NSHARD_FIELDS; i++) {
                if (strlen(shard_field_names[i]) == klen &&
                    memcmp(shard_field_names[i], p, klen) == 0) {
                    const char *q = colon + 1;
                    s->f[i] += parse_u64(&q, eol);
                    break;
                }
            }
        }
next:
        p = eol + 1;
    }
}

/* The payload of a bulk reply; 0, or -1 when r is not a bulk. */
static int bulk_payload(const struct rbuf *r, const char **data, size_t *len)
{
    const char *nl;
    long long n;
    size_t hl;

    if (r->len < 4 || r->data[0] != '$')
        return -1;
    nl = memchr(r->data, '\n', r->len);
    if (nl == NULL || nl - r->data < 3)
        return -1;
    hl = (size_t)(nl - r->data) + 1;
    if (!util_str2ll(r->data + 1, hl - 3, &n) || n < 0 || hl + (size_t)n > r->len)
        return -1;
    *data = r->data + hl;
    *len = (size_t)n;
    return 0;
}

/* ---- INFO: the text ---------------------------------------------------------------------- */

enum {
    SEC_SERVER = 1u << 0,
    SEC_CLIENTS = 1u << 1,
    SEC_MEMORY = 1u << 2,
    SEC_PERSISTENCE = 1u << 3,
    SEC_STATS = 1u << 4,
    SEC_REPLICATION = 1u << 5,
    SEC_CPU = 1u << 6,
    SEC_MODULES = 1u << 7,
    SEC_COMMANDSTATS = 1u << 8,
    SEC_ERRORSTATS = 1u << 9,
    SEC_CLUSTER = 1u << 10,
    SEC_KEYSPACE = 1u << 11,
};
/* Redis's default sections. */
#define SEC_DEFAULT (SEC_SERVER | SEC_CLIENTS | SEC_MEMORY | SEC_PERSISTENCE | SEC_STATS | \
                     SEC_REPLICATION | SEC_CPU | SEC_MODULES | SEC_ERRORSTATS | SEC_CLUSTER | \
                     SEC_KEYSPACE)
#define SEC_ALL (SEC_DEFAULT | SEC_COMMANDSTATS)
/* Sections that need the shards' figures. */
#define SEC_SHARDS (SEC_CLIENTS | SEC_MEMORY | SEC_PERSISTENCE | SEC_STATS | SEC_CPU | \
                    SEC_COMMANDSTATS | SEC_ERRORSTATS | SEC_KEYSPACE)

static const struct { const char *name; unsigned bits; } info_sections[] = {
    { "server", SEC_SERVER }, { "clients", SEC_CLIENTS }, { "memory", SEC_MEMORY },
    { "persistence", SEC_PERSISTENCE }, { "stats", SEC_STATS },
    { "replication", SEC_REPLICATION }, { "cpu", SEC_CPU }, { "module_list", SEC_MODULES },
    { "modules", SEC_MODULES }, { "commandstats", SEC_COMMANDSTATS },
    { "errorstats", SEC_ERRORSTATS }, { "cluster", SEC_CLUSTER }, { "keyspace", SEC_KEYSPACE },
    { "default", SEC_DEFAULT }, { "all", SEC_ALL }, { "everything", SEC_ALL },
};

/* Redis's bytesToHuman(). */
static void bytes_human(char *s, size_t len, uint64_t n)
{
    static const char units[] = "KMGTP";
    double d = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(s, len, "%" PRIu64 "B", n);
        return;
    }
    while (d >= 1024 && u < 4) {
        d /= 1024;
        u++;
    }
    if (d >= 1024) {
        snprintf(s, len, "%" PRIu64 "B", n);
        return;
    }
    snprintf(s, len, "%.2f%c", d, units[u]);
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* 40 hex digits that identify this run of the server (same on every
 * worker, new at every start), as Redis's run_id; salt varies the id. */
static void run_hex_id(char out[41], uint64_t salt)
{
    uint64_t a = mix64(W.shared->ring_epoch ^ salt);
    uint64_t b = mix64(a ^ (uint64_t)atomic_load(&W.shared->started_ms));
    uint64_t c = mix64(b);

    snprintf(out, 41, "%016" PRIx64 "%016" PRIx64 "%08" PRIx32, a, b, (uint32_t)c);
}

static void section(struct rbuf *b, int *n, const char *title)
{
    if ((*n)++)
        addf(b, "\r\n");
    addf(b, "# %s\r\n", title);
}

static void info_server(struct rbuf *b)
{
    static struct utsname un;
    static char exe[PATH_MAX];
    static int once;
    char runid[41];
    int64_t now = util_ustime(), up = (now / 1000 - atomic_load(&W.shared->started_ms)) / 1000;

    if (!once) {
        ssize_t n;
        once = 1;
        uname(&un);
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        exe[n > 0 ? n : 0] = '\0';
    }
    run_hex_id(runid, 0);
    addf(b, "redis_version:%s\r\n", EMBER_VERSION);
    addf(b, "redis_git_sha1:00000000\r\nredis_git_dirty:0\r\n");
    addf(b, "redis_mode:standalone\r\n");
    addf(b, "os:%s %s %s\r\n", un.sysname, un.release, un.machine);
    addf(b, "arch_bits:%d\r\n", (int)(sizeof(long) * 8));
    addf(b, "multiplexing_api:%s\r\n", W.base ? event_base_get_method(W.base) : "");
#ifdef __GNUC__
    addf(b, "gcc_version:%d.%d.%d\r\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
    addf(b, "process_id:%d\r\n", (int)getppid());
    addf(b, "process_supervised:no\r\n");
    addf(b, "run_id:%s\r\n", runid);
    addf(b, "tcp_port:%lld\r\n", config.port);
    addf(b, "server_time_usec:%" PRId64 "\r\n", now);
    addf(b, "uptime_in_seconds:%" PRId64 "\r\n", up);
    addf(b, "uptime_in_days:%" PRId64 "\r\n", up / 86400);
    addf(b, "hz:%lld\r\nconfigured_hz:%lld\r\n", config.hz, config.hz);
    addf(b, "executable:%s\r\n", exe);
    addf(b, "config_file:%s\r\n", config_file_path());
    addf(b, "io_threads_active:0\r\n");
    addf(b, "ember_version:%s\r\n", EMBER_RELEASE);
    addf(b, "ember_workers:%u\r\n", W.nworkers);
    addf(b, "ember_worker_id:%u\r\n", W.id);
    addf(b, "ember_worker_pid:%d\r\n", (int)getpid());
}

static void info_memory(struct rbuf *b, const struct shard_sum *s)
{
    char h1[32], h2[32], h3[32], h4[32], h5[32], policy[64];
    uint64_t used = s->f[SF_used_memory], rss = s->f[SF_rss_bytes];
    uint64_t sys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);

    if (config_get("maxmemory-policy", policy, sizeof(policy)) != 0)
        snprintf(policy, sizeof(policy), "noeviction");
    bytes_human(h1, sizeof(h1), used);
    bytes_human(h2, sizeof(h2), rss);
    bytes_human(h3, sizeof(h3), sys);
    bytes_human(h4, sizeof(h4), (uint64_t)config.maxmemory);
    bytes_human(h5, sizeof(h5), s->f[SF_arena_bytes]);
    addf(b, "used_memory:%" PRIu64 "\r\nused_memory_human:%s\r\n", used, h1);
    addf(b, "used_memory_rss:%" PRIu64 "\r\nused_memory_rss_human:%s\r\n", rss, h2);
    addf(b, "total_system_memory:%" PRIu64 "\r\ntotal_system_memory_human:%s\r\n", sys, h3);
    addf(b, "maxmemory:%lld\r\nmaxmemory_human:%s\r\n", config.maxmemory, h4);
    addf(b, "maxmemory_policy:%s\r\n", policy);
    addf(b, "mem_fragmentation_ratio:%.2f\r\n", used ? (double)rss / (double)used : 0.0);
    addf(b, "mem_allocator:ember-arena\r\n");
    addf(b, "ember_arena_bytes:%" PRIu64 "\r\nember_arena_bytes_human:%s\r\n",
         s->f[SF_arena_bytes], h5);
    addf(b, "ember_lazyfree_pending_shards:%" PRIu64 "\r\n", s->f[SF_gc_pending]);
}

static void info_persistence(struct rbuf *b, const struct shard_sum *s)
{
    addf(b, "loading:0\r\nasync_loading:0\r\n");
    addf(b, "rdb_changes_since_last_save:%" PRIu64 "\r\n", s->f[SF_dirty]);
    addf(b, "rdb_bgsave_in_progress:0\r\n");
    addf(b, "rdb_last_save_time:%lld\r\n", srv_start_seconds());
    addf(b, "rdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\n"
            "rdb_current_bgsave_time_sec:-1\r\nrdb_saves:0\r\n");
    addf(b, "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n"
            "aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n"
            "aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_last_write_status:ok\r\n");
    addf(b, "module_fork_in_progress:0\r\n");
}

static void info_stats(struct rbuf *b, const struct shard_sum *s)
{
    const uint64_t *f = s->f;

    addf(b, "total_connections_received:%" PRIu64 "\r\n", f[SF_connections]);
    addf(b, "total_commands_processed:%" PRIu64 "\r\n", f[SF_commands]);
    addf(b, "instantaneous_ops_per_sec:%" PRIu64 "\r\n", f[SF_ops_per_sec]);
    addf(b, "total_net_input_bytes:%" PRIu64 "\r\n", f[SF_net_in]);
    addf(b, "total_net_output_bytes:%" PRIu64 "\r\n", f[SF_net_out]);
    addf(b, "rejected_connections:%" PRIu64 "\r\n", f[SF_rejected]);
    addf(b, "expired_keys:%" PRIu64 "\r\n", f[SF_expired]);
    addf(b, "evicted_keys:0\r\nevicted_clients:0\r\n");
    addf(b, "keyspace_hits:%" PRIu64 "\r\n", f[SF_hits]);
    addf(b, "keyspace_misses:%" PRIu64 "\r\n", f[SF_misses]);
    addf(b, "pubsub_channels:0\r\npubsub_patterns:0\r\n");
    addf(b, "latest_fork_usec:0\r\ntotal_forks:0\r\n");
    addf(b, "unexpected_error_replies:0\r\n");
    addf(b, "total_error_replies:%" PRIu64 "\r\n", f[SF_error_replies]);
    addf(b, "ember_forwarded_commands:%" PRIu64 "\r\n", f[SF_forwarded]);
    addf(b, "ember_remote_commands_served:%" PRIu64 "\r\n", f[SF_served_remote]);
}

static void info_replication(struct rbuf *b)
{
    char replid[41];

    run_hex_id(replid, 0x7265706cu);
    addf(b, "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n");
    addf(b, "master_replid:%s\r\n", replid);
    addf(b, "master_replid2:0000000000000000000000000000000000000000\r\n");
    addf(b, "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n");
}

static void info_cpu(struct rbuf *b, const struct shard_sum *s)
{
    uint64_t sys = s->f[SF_cpu_sys_us], user = s->f[SF_cpu_user_us];

    addf(b, "used_cpu_sys:%" PRIu64 ".%06" PRIu64 "\r\n", sys / 1000000, sys % 1000000);
    addf(b, "used_cpu_user:%" PRIu64 ".%06" PRIu64 "\r\n", user / 1000000, user % 1000000);
    addf(b, "used_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n");
}

static void info_commandstats(struct rbuf *b, const struct shard_sum *s)
{
    size_t i;

    for (i = 0; i < NCMD_NAMES; i++) {
        if (cmd_names[i][0] == '@' || !(s->calls[i] || s->rejected[i] || s->failed[i]))
            continue;
        addf(b, "cmdstat_%s:calls=%" PRIu64 ",usec=%" PRIu64 ",usec_per_call=%.2f"
             ",rejected_calls=%" PRIu64 ",failed_calls=%" PRIu64 "\r\n",
             cmd_names[i], s->calls[i], s->usec[i],
             s->calls[i] ? (double)s->usec[i] / (double)s->calls[i] : 0.0, s->rejected[i],
             s->failed[i]);
    }
}

static int errsum_cmp(const void *a, const void *b)
{
    return strcmp(((const struct errsum *)a)->prefix, ((const struct errsum *)b)->prefix);
}

/* Redis lists error prefixes in byte order (a radix tree), with the bytes
 * INFO cannot carry (':' and line ends) shown as '_' (getSafeInfoString). */
static void info_errorstats(struct rbuf *b, struct shard_sum *s)
{
    size_t i;

    if (s->nerrs > 1)
        qsort(s->errs, s->nerrs, sizeof(s->errs[0]), errsum_cmp);
    for (i = 0; i < s->nerrs; i++) {
        char *p;
        for (p = s->errs[i].prefix; *p; p++)
            if (*p == ':' || *p == '\r' || *p == '\n')
                *p = '_';
        addf(b, "errorstat_%s:count=%" PRIu64 "\r\n", s->errs[i].prefix, s->errs[i].count);
    }
}

static void info_keyspace(struct rbuf *b, const struct shard_sum *s)
{
    unsigned db;

    for (db = 0; db < s->ndb; db++)
        if (s->keys[db] || s->expires[db])
            addf(b, "db%u:keys=%" PRIu64 ",expires=%" PRIu64 ",avg_ttl=0\r\n", db,
                 s->keys[db], s->expires[db]);
}

/* Writes INFO's reply for the sections in mask from the shards' sum. */
static void info_reply(struct resp_out *out, unsigned mask, struct shard_sum *s)
{
    struct rbuf b;
    int n = 0;

    rbuf_init(&b);
    if (mask & SEC_SERVER) {
        section(&b, &n, "Server");
        info_server(&b);
    }
    if (mask & SEC_CLIENTS) {
        section(&b, &n, "Clients");
        addf(&b, "connected_clients:%" PRId64 "\r\ncluster_connections:0\r\n",
             clients_total());
        addf(&b, "maxclients:%lld\r\n", config.maxclients);
        addf(&b, "blocked_clients:%" PRIu64 "\r\ntracking_clients:0\r\n", s->f[SF_blocked]);
    }
    if (mask & SEC_MEMORY) {
        section(&b, &n, "Memory");
        info_memory(&b, s);
    }
    if (mask & SEC_PERSISTENCE) {
        section(&b, &n, "Persistence");
        info_persistence(&b, s);
    }
    if (mask & SEC_STATS) {
        section(&b, &n, "Stats");
        info_stats(&b, s);
    }
    if (mask & SEC_REPLICATION) {
        section(&b, &n, "Replication");
        info_replication(&b);
    }
    if (mask & SEC_CPU) {
        section(&b, &n, "CPU");
        info_cpu(&b, s);
    }
    if (mask & SEC_MODULES)
        section(&b, &n, "Modules");
    if (mask & SEC_COMMANDSTATS) {
        section(&b, &n, "Commandstats");
        info_commandstats(&b, s);
    }
    if (mask & SEC_ERRORSTATS) {
        section(&b, &n, "Errorstats");
        info_errorstats(&b, s);
    }
    if (mask & SEC_CLUSTER) {
        section(&b, &n, "Cluster");
        addf(&b, "cluster_enabled:0\r\n");
    }
    if (mask & SEC_KEYSPACE) {
        section(&b, &n, "Keyspace");
        info_keyspace(&b, s);
    }
    if (b.failed || s->oom)
        resp_add_error(out, "ERR out of memory");
    else
        resp_add_verbatim(out, b.data ? b.data : "", b.len, "txt");
    rbuf_free(&b);
}

/* Merges the shards' @shardinfo replies into INFO's (p->arg[0]: sections). */
static void merge_info(struct pending *p, struct resp_out *out)
{
    struct shard_sum s;
    unsigned i;

    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        if (r->len > 0 && r->data[0] == '-') {
            rbuf_append(out->b, r->data, r->len);
            return;
        }
    }
    if (sum_init(&s) != 0) {
        resp_add_error(out, "ERR out of memory");
        return;
    }
    for (i = 0; i < p->nparts; i++) {
        const char *d;
        size_t n;
        if (bulk_payload(&p->parts[i].reply, &d, &n) == 0)
            sum_add(&s, d, n);
    }
    info_reply(out, (unsigned)p->arg[0], &s);
    sum_free(&s);
}

void infoCommand(struct cmd_ctx *x)
{
    struct resp_arg argv[3] = { { "@shardinfo", 10 } };
    unsigned mask = x->argc == 1 ? SEC_DEFAULT : 0;
    struct pending *p;
    int i, argc = 1;
    size_t k;

    for (i = 1; i < x->argc; i++)
        for (k = 0; k < sizeof(info_sections) / sizeof(info_sections[0]); k++)
            if (ARG_EQ(x, i, info_sections[k].name))
                mask |= info_sections[k].bits;
    /* The per-command and per-error lines only when they are shown. */
    if (mask & SEC_COMMANDSTATS)
        argv[argc++] = (struct resp_arg){ "commandstats", 12 };
    if (mask & SEC_ERRORSTATS)
        argv[argc++] = (struct resp_arg){ "errorstats", 10 };
    if (W.nworkers == 1 || x->c == NULL || !(mask & SEC_SHARDS)) {
        /* This shard's report is the whole answer, or none is needed. */
        struct shard_sum s;
        struct cmd_ctx local = *x;
        struct rbuf r;
        const char *d;
        size_t n;

        if (sum_init(&s) != 0) {
            reply_error(x, "ERR out of memory");
            return;
        }
        if (mask & SEC_SHARDS) {
            rbuf_init(&r);
            local.out.b = &r;
            local.argc = argc;
            local.argv = argv;
            ishardinfoCommand(&local);
            if (bulk_payload(&r, &d, &n) == 0)
                sum_add(&s, d, n);
            else
                s.oom = 1;
            rbuf_free(&r);
        }
        info_reply(&x->out, mask, &s);
        sum_free(&s);
        return;
    }
    p = srv_fan_out(x, merge_info, NULL, argc, argv);
    if (p == NULL)
        return;
    p->arg[0] = mask;
    cross_pending_issued(p);
}
