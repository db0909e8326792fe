/*
 * t_server.c - server commands: DBSIZE FLUSHDB FLUSHALL TIME LASTSAVE CONFIG
 * FUNCTION DEBUG SHUTDOWN, and the internal commands they fan out with.
 * INFO is in t_info.c; what both use is in t_server.h.
 *
 * Every worker owns one shard, so a question about the whole keyspace is
 * asked of every shard and the answers are merged on the client's worker:
 *
 *   DBSIZE            @dbsize on every shard, summed (merge_sum_ints)
 *   FLUSHDB/FLUSHALL  this shard flushed in the command's own mutation, then
 *                     "@flushdb [ALL]" on the others; +OK once all are done
 *   CONFIG SET        checked, applied and published to the shared settings
 *                     page here, then "@debug config-sync" makes every other
 *                     worker take it in before the +OK (see CONFIG SET below)
 *   CONFIG RESETSTAT  "@debug resetstat" everywhere
 *   DEBUG SET-ACTIVE-EXPIRE  "@debug set-active-expire n" everywhere
 *   DEBUG OBJECT key  forwarded whole to the key's owner
 *
 * Flushing is O(1) per database whatever its size: ks_flush() moves the
 * tables to the arena's garbage list and the worker loop frees them a
 * bounded slice at a time, so FLUSHALL ASYNC and SYNC behave alike (SYNC
 * only differs in Redis by freeing before the reply).
 *
 * SHUTDOWN stops the whole server the way SIGTERM does (the supervisor
 * stops every worker gracefully; the data stays in the arenas for the next
 * start): the worker asks its supervisor with SIGTERM, after noting in the
 * shared page who asked, and the client's connection closes without a
 * reply, as with Redis.  There is no persistence yet, so SAVE cannot be
 * honoured: it is refused, unless FORCE says to stop anyway.
 *
 * DEBUG subcommands: HELP, LOG, SLEEP, SET-ACTIVE-EXPIRE, OBJECT, ERROR,
 * PROTOCOL, QUICKLIST-PACKED-THRESHOLD (validated, no effect: ember's list
 * nodes have no plain/packed threshold).  Anything else gets Redis's
 * unknown-subcommand error.
 * FUNCTION: there is no scripting engine, hence no library: FLUSH, LIST,
 * STATS, DELETE, KILL and HELP answer what Redis answers with no library;
 * LOAD, RESTORE and DUMP reply a "not supported" error.
 */
#include "server.h"
#include "client.h"
#include "commands.h"
#include "config.h"
#include "cross.h"
#include "log.h"
#include "t_server.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------- */

/* A NUL-terminated copy of an argument (malloc'd; NULL when out of memory). */
static char *arg_dup(const struct resp_arg *a)
{
    char *s = malloc(a->len + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, a->ptr, a->len);
    s[a->len] = '\0';
    return s;
}

/* A NUL-terminated copy of an argument into buf, truncated to fit. */
static const char *arg_cstr(const struct resp_arg *a, char *buf, size_t len)
{
    size_t n = a->len < len - 1 ? a->len : len - 1;

    memcpy(buf, a->ptr, n);
    buf[n] = '\0';
    return buf;
}

/* "wrong number of arguments" for a container's subcommand, Redis style. */
static void reply_sub_arity(struct cmd_ctx *x, const char *container, const char *sub)
{
    reply_errorf(x, "ERR wrong number of arguments for '%s|%s' command", container, sub);
}

/* Redis's addReplyHelp(): a header, the lines, and the HELP footer. */
static void reply_help(struct cmd_ctx *x, const char *cmd, const char *const *lines, size_t n)
{
    char head[128];
    size_t i;

    snprintf(head, sizeof(head), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             cmd);
    resp_add_array(&x->out, (long)n + 3);
    resp_add_simple(&x->out, head);
    for (i = 0; i < n; i++)
        resp_add_simple(&x->out, lines[i]);
    resp_add_simple(&x->out, "HELP");
    resp_add_simple(&x->out, "    Prints this help.");
}

struct pending *srv_fan_out(struct cmd_ctx *x, merge_fn *merge, const char *local,
                            int argc, const struct resp_arg *argv)
{
    struct pending *p = cross_pending(x->c, x->out.proto, W.nworkers, merge);
    unsigned s;

    if (p == NULL) {
        reply_error(x, "ERR out of memory");
        return NULL;
    }
    for (s = 0; s < W.nworkers; s++) {
        if (s == W.id && local != NULL)
            cross_local_part(p, s, local, strlen(local));
        else
            cross_send_part(p, s, s, x->db, argc, argv);
    }
    return p;
}

/* ---- DBSIZE ---------------------------------------------------------------------- */

void dbsizeCommand(struct cmd_ctx *x)
{
    static const struct resp_arg argv[] = { { "@dbsize", 7 } };
    struct pending *p;

    if (W.nworkers == 1 || x->c == NULL) {
        resp_add_int(&x->out, (long long)db_size(x->db));
        return;
    }
    p = srv_fan_out(x, merge_sum_ints, NULL, 1, argv);
    if (p != NULL)
        cross_pending_issued(p);
}

/* @dbsize: this shard's keys in the request's database. */
void idbsizeCommand(struct cmd_ctx *x)
{
    resp_add_int(&x->out, (long long)db_size(x->db));
}

/* ---- FLUSHDB FLUSHALL --------------------------------------------------------------- */

/* Redis's getFlushCommandFlags(): [ASYNC|SYNC], nothing else.  0 or -1
 * (replied).  Both modes are O(1) here: see the file comment. */
static int flush_args(struct cmd_ctx *x)
{
    if (x->argc == 1 || (x->argc == 2 && (ARG_EQ(x, 1, "sync") || ARG_EQ(x, 1, "async"))))
        return 0;
    reply_syntax(x);
    return -1;
}

/*
 * Flushes x's database (or all of them) of this shard.  Runs inside the
 * command's mutation when there is one (the table marks the flush commands
 * as writes), else in one of its own.  Returns 0, or an arena status after
 * db_fail() (the dispatcher then aborts and replies the error).
 */
static int flush_shard(struct cmd_ctx *x, int all)
{
    unsigned db, first = all ? 0 : x->db, last = all ? W.arena->hdr->dbcount : x->db + 1;
    int own = !W.arena->in_mut, rc = EMBER_OK;

    if (own)
        shm_begin(W.arena);
    for (db = first; db < last && rc == EMBER_OK; db++) {
        x->dirty += (int)ks_count(W.arena, db);
        rc = ks_flush(W.arena, db);
    }
    if (own) {
        if (rc == EMBER_OK)
            shm_commit(W.arena);
        else
            shm_abort(W.arena);
    }
    if (rc != EMBER_OK && !own)
        return db_fail(x, rc);
    return rc;
}

/* FLUSHDB / FLUSHALL: this shard now, the others over the rings. */
static void flush_command(struct cmd_ctx *x, int all)
{
    struct resp_arg argv[2] = { { "@flushdb", 8 }, { "all", 3 } };
    struct pending *p;
    int rc;

    if (flush_args(x) != 0)
        return;
    rc = flush_shard(x, all);
    if (rc != EMBER_OK) {
        if (!x->failed)
            reply_oom(x, rc);
        return;
    }
    if (W.nworkers == 1 || x->c == NULL) {
        reply_ok(x);
        return;
    }
    p = srv_fan_out(x, merge_first_error_or_ok, "+OK\r\n", all ? 2 : 1, argv);
    if (p != NULL)
        cross_pending_issued(p);
}

void flushdbCommand(struct cmd_ctx *x)
{
    flush_command(x, 0);
}

void flushallCommand(struct cmd_ctx *x)
{
    flush_command(x, 1);
}

/* @flushdb [ALL]: flushes the request's database, or every database. */
void iflushdbCommand(struct cmd_ctx *x)
{
    int rc = flush_shard(x, x->argc >= 2 && ARG_EQ(x, 1, "all"));

    if (rc == EMBER_OK)
        reply_ok(x);
    else if (!x->failed)
        reply_oom(x, rc);
}

/* ---- TIME LASTSAVE ----------------------------------------------------------------- */

void timeCommand(struct cmd_ctx *x)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    resp_add_array(&x->out, 2);
    resp_add_bulk_ll(&x->out, (long long)tv.tv_sec);
    resp_add_bulk_ll(&x->out, (long long)tv.tv_usec);
}

/* Nothing is ever saved yet: like a Redis that never saved, LASTSAVE is the
 * time the server started (Redis: "at startup we consider the DB saved"). */
long long srv_start_seconds(void)
{
    int64_t ms = atomic_load(&W.shared->started_ms);
    return (long long)((ms ? ms : W.start_ms) / 1000);
}

void lastsaveCommand(struct cmd_ctx *x)
{
    resp_add_int(&x->out, srv_start_seconds());
}

/* ---- CONFIG GET --------------------------------------------------------------------------- */

struct kv {
    char *name, *value;
};

struct kv_list {
    struct kv *v;
    size_t n, cap;
    int oom;
};

static int kv_has(const struct kv_list *l, const char *name)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i].name, name) == 0)
            return 1;
    return 0;
}

/* Adds name = value unless a setting of that name is there already. */
static void kv_add(struct kv_list *l, const char *name, const char *value)
{
    if (l->oom || kv_has(l, name))
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct kv *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->oom = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].name = strdup(name);
    l->v[l->n].value = strdup(value);
    if (l->v[l->n].name == NULL || l->v[l->n].value == NULL) {
        free(l->v[l->n].name);
        free(l->v[l->n].value);
        l->oom = 1;
        return;
    }
    l->n++;
}

static void kv_free(struct kv_list *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void kv_add_cb(const char *name, const char *value, void *ctx)
{
    kv_add(ctx, name, value);
}

/* Adds the settings one CONFIG GET argument names: an exact name (replied
 * as given, like Redis) or a glob pattern over every name. */
static void config_get_one(struct kv_list *l, const char *pat)
{
    char val[4096];

    if (strpbrk(pat, "[*?") == NULL) {
        if (config_get(pat, val, sizeof(val)) == 0)
            kv_add(l, pat, val);
        return;
    }
    config_each(pat, kv_add_cb, l);
}

static void config_get_command(struct cmd_ctx *x)
{
    struct kv_list l;
    size_t i;
    int j;

    memset(&l, 0, sizeof(l));
    for (j = 2; j < x->argc; j++) {
        char *pat = arg_dup(&x->argv[j]);
        if (pat == NULL) {
            l.oom = 1;
            break;
        }
        if (memchr(x->argv[j].ptr, '\0', x->argv[j].len) == NULL)
            config_get_one(&l, pat);
        free(pat);
    }
    if (l.oom) {
        reply_error(x, "ERR out of memory");
    } else {
        resp_add_map(&x->out, (long)l.n);
        for (i = 0; i < l.n; i++) {
            resp_add_bulk_cstr(&x->out, l.v[i].name);
            resp_add_bulk_cstr(&x->out, l.v[i].value);
        }
    }
    kv_free(&l);
}

/* ---- CONFIG SET --------------------------------------------------------------------------- */

/*
 * CONFIG SET on the client's worker: take in what other workers published
 * (so that a rollback restores current values), check and set every pair
 * here, all or none, publish the settings that changed to the shared page
 * (config.h: only those, so a concurrent CONFIG SET of another setting on
 * another worker is not lost), apply them here, and reply +OK once every
 * other worker has taken them in too ("@debug config-sync"), so that the
 * client's next command sees them wherever it runs.  A worker restarted
 * later starts from the page.
 */

struct set_arg {
    char *name, *value;        /* NUL-terminated copies */
    char *old;                 /* value before, for rolling back */
    const char *canon;         /* the setting's own name (config_name) */
};

/* Sets back the first n pairs' old values (a failed CONFIG SET). */
static void config_rollback(struct set_arg *a, int n)
{
    int j;

    for (j = n - 1; j >= 0; j--)
        if (a[j].old != NULL)
            (void)config_set(a[j].canon, a[j].old, 1, NULL, 0);
}

/* Checks and applies CONFIG SET's pairs on this worker, all or none, with
 * Redis 7's errors and their precedence.  0, or -1 after replying. */
static int config_set_local(struct cmd_ctx *x, struct set_arg *a, int n)
{
    const char *invalid_name = NULL, *err_name = NULL, *errstr = NULL;
    char why[256];
    int i, j, invalid = 0, done;

    for (i = 0; i < n; i++) {
        const char *canon = config_name(a[i].name);

        if (canon == NULL || memchr(x->argv[2 + 2 * i].ptr, '\0', x->argv[2 + 2 * i].len)) {
            if (!invalid) {
                invalid_name = a[i].name;
                invalid = 1;
            }
            continue;
        }
        if (invalid)
            continue;
        a[i].canon = canon;
        if (config_is_mutable(canon) == 0) {
            errstr = "can't set immutable config";
            err_name = a[i].name;
            invalid = 1;
            continue;
        }
        for (j = 0; j < i; j++)
            if (a[j].canon == canon) {
                errstr = "duplicate parameter";
                err_name = a[i].name;
                invalid = 1;
                break;
            }
    }
    if (invalid)
        goto fail;
    for (i = 0; i < n; i++) {
        char cur[4096];
        if (config_get(a[i].canon, cur, sizeof(cur)) != 0)
            cur[0] = '\0';
        a[i].old = strdup(cur);
        if (a[i].old == NULL) {
            reply_error(x, "ERR out of memory");
            return -1;
        }
    }
    for (done = 0; done < n; done++) {
        if (strlen(a[done].value) != x->argv[3 + 2 * done].len) {
            snprintf(why, sizeof(why), "argument contains a NUL byte");
        } else if (config_set(a[done].canon, a[done].value, 1, why, sizeof(why)) == 0) {
            continue;
        }
        /* Roll back what was set; a refused value left its setting as is. */
        config_rollback(a, done);
        errstr = why;
        err_name = a[done].canon;
        goto fail;
    }
    return 0;
fail:
    if (invalid_name)
        reply_errorf(x, "ERR Unknown option or number of arguments for CONFIG SET - '%s'",
                     invalid_name);
    else
        reply_errorf(x, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                     err_name, errstr);
    return -1;
}

static void config_set_command(struct cmd_ctx *x)
{
    static const struct resp_arg sync_argv[] = { { "@debug", 6 }, { "config-sync", 11 } };
    int n = (x->argc - 2) / 2, i;
    struct set_arg *a;
    struct pending *p;

    if (x->argc % 2 != 0) {
        reply_syntax(x);
        return;
    }
    a = calloc((size_t)n, sizeof(*a));
    if (a == NULL) {
        reply_error(x, "ERR out of memory");
        return;
    }
    for (i = 0; i < n; i++) {
        a[i].name = arg_dup(&x->argv[2 + 2 * i]);
        a[i].value = arg_dup(&x->argv[3 + 2 * i]);
        if (a[i].name == NULL || a[i].value == NULL) {
            reply_error(x, "ERR out of memory");
            goto done;
        }
    }
    if (config_shared_sync(W.cshared))
        worker_apply_settings();
    if (config_set_local(x, a, n) != 0)
        goto done;
    if (config_shared_publish(W.cshared) != 0) {
        config_rollback(a, n);
        log_warning("CONFIG SET: cannot lock the shared settings page; nothing changed");
        reply_error(x, "ERR CONFIG SET failed: cannot publish the settings to the other "
                       "workers (see the log)");
        goto done;
    }
    worker_apply_settings();
    if (W.nworkers == 1 || x->c == NULL) {
        reply_ok(x);
        goto done;
    }
    p = srv_fan_out(x, merge_first_error_or_ok, "+OK\r\n", 2, sync_argv);
    if (p != NULL)
        cross_pending_issued(p);
done:
    for (i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].value);
        free(a[i].old);
    }
    free(a);
}

/* ---- CONFIG -------------------------------------------------------------------------------- */

/* Zeroes this worker's statistics (CONFIG RESETSTAT); keeps W.dirty, as
 * Redis keeps server.dirty. */
static void reset_stats(void)
{
    memset(&W.st, 0, sizeof(W.st));
    W.st.ops_last_ms = util_mstime();
    cmd_reset_stats();
}

static void config_help(struct cmd_ctx *x)
{
    static const char *const help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    };
    reply_help(x, "CONFIG", help, sizeof(help) / sizeof(help[0]));
}

void configCommand(struct cmd_ctx *x)
{
    if (ARG_EQ(x, 1, "get")) {
        if (x->argc < 3)
            reply_sub_arity(x, "config", "get");
        else
            config_get_command(x);
    } else if (ARG_EQ(x, 1, "set")) {
        if (x->argc < 4)
            reply_sub_arity(x, "config", "set");
        else
            config_set_command(x);
    } else if (ARG_EQ(x, 1, "resetstat")) {
        static const struct resp_arg argv[] = { { "@debug", 6 }, { "resetstat", 9 } };
        struct pending *p;
        if (x->argc != 2) {
            reply_sub_arity(x, "config", "resetstat");
            return;
        }
        reset_stats();
        if (W.nworkers == 1 || x->c == NULL) {
            reply_ok(x);
            return;
        }
        p = srv_fan_out(x, merge_first_error_or_ok, "+OK\r\n", 2, argv);
        if (p != NULL)
            cross_pending_issued(p);
    } else if (ARG_EQ(x, 1, "rewrite")) {
        if (x->argc != 2)
            reply_sub_arity(x, "config", "rewrite");
        else if (config_file_path()[0] == '\0')
            reply_error(x, "ERR The server is running without a config file");
        else
            reply_errorf(x, "ERR CONFIG REWRITE is not supported yet: edit %s by hand",
                         config_file_path());
    } else if (ARG_EQ(x, 1, "help")) {
        if (x->argc != 2)
            reply_sub_arity(x, "config", "help");
        else
            config_help(x);
    } else {
        reply_unknown_subcommand(x, "CONFIG");
    }
}

/* ---- SHUTDOWN ------------------------------------------------------------------------------ */

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], with Redis 7.0's checks. */
void shutdownCommand(struct cmd_ctx *x)
{
    int nosave = 0, save = 0, now = 0, force = 0, abort_req = 0, i;
    pid_t sup = getppid();

    for (i = 1; i < x->argc; i++) {
        if (ARG_EQ(x, i, "nosave"))
            nosave = 1;
        else if (ARG_EQ(x, i, "save"))
            save = 1;
        else if (ARG_EQ(x, i, "now"))
            now = 1;
        else if (ARG_EQ(x, i, "force"))
            force = 1;
        else if (ARG_EQ(x, i, "abort"))
            abort_req = 1;
        else {
            reply_syntax(x);
            return;
        }
    }
    if ((abort_req && (nosave || save || now || force)) || (nosave && save)) {
        reply_syntax(x);
        return;
    }
    /* A shutdown stops reading commands at once: none is ever in progress
     * where ABORT could reach it. */
    if (abort_req) {
        reply_error(x, "ERR No shutdown in progress.");
        return;
    }
    if (save && !force) {
        log_warning("SHUTDOWN SAVE from client id=%llu addr=%s refused: ember has no "
                    "persistence yet, so nothing can be saved (SHUTDOWN NOSAVE stops it; "
                    "the data stays in the arenas for the next start)",
                    (unsigned long long)x->c->id, x->c->addr);
        reply_error(x, "ERR Errors trying to SHUTDOWN. SAVE needs persistence, which ember "
                       "does not have yet: use NOSAVE (the data stays in the arenas for the "
                       "next start)");
        return;
    }
    log_warning("User requested shutdown: SHUTDOWN%s from client id=%llu addr=%s; stopping "
                "ember (the data stays in the arenas for the next start)",
                save ? " SAVE FORCE (nothing to save to: no persistence yet)" :
                nosave ? " NOSAVE" : "", (unsigned long long)x->c->id, x->c->addr);
    atomic_store(&W.shared->shutdown_by, (int)W.id + 1);
    if (sup <= 1 || kill(sup, SIGTERM) != 0) {
        log_warning("SHUTDOWN: cannot signal the supervisor (pid %d): %s", (int)sup,
                    sup <= 1 ? "it is gone" : strerror(errno));
        atomic_store(&W.shared->shutdown_by, 0);
        reply_error(x, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    /* No reply: the connection closes, as when Redis exits.  This worker
     * stops reading now; the supervisor's SIGTERM stops every other. */
    client_close_after_reply(x->c);
    W.stopping = 1;
}

/* ---- FUNCTION -------------------------------------------------------------------------------- */

static void function_help(struct cmd_ctx *x)
{
    static const char *const help[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Not supported: ember has no scripting engine.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries (there are none).",
        "STATS",
        "    Return information about the current function running (none) and the",
        "    available engines (none).",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "DUMP",
        "    Not supported: ember has no scripting engine.",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Not supported: ember has no scripting engine.",
    };
    reply_help(x, "FUNCTION", help, sizeof(help) / sizeof(help[0]));
}

/* Redis's addReplySubcommandSyntaxError(). */
static void reply_sub_syntax(struct cmd_ctx *x, const char *cmd)
{
    reply_errorf(x, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try %s "
                    "HELP.", (int)(x->argv[1].len > 128 ? 128 : x->argv[1].len),
                 x->argv[1].ptr, cmd);
}

void functionCommand(struct cmd_ctx *x)
{
    if (ARG_EQ(x, 1, "flush")) {
        if (x->argc > 3)
            reply_sub_syntax(x, "FUNCTION");
        else if (x->argc == 3 && !ARG_EQ(x, 2, "sync") && !ARG_EQ(x, 2, "async"))
            reply_error(x, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        else
            reply_ok(x);   /* there is no library to flush */
    } else if (ARG_EQ(x, 1, "list")) {
        int i, withcode = 0, libname = 0;
        for (i = 2; i < x->argc; i++) {
            if (!withcode && ARG_EQ(x, i, "withcode")) {
                withcode = 1;
            } else if (!libname && ARG_EQ(x, i, "libraryname")) {
                if (i >= x->argc - 1) {
                    reply_error(x, "ERR library name argument was not given");
                    return;
                }
                libname = 1;
                i++;
            } else {
                reply_errorf(x, "ERR Unknown argument %.*s",
                             (int)(x->argv[i].len > 128 ? 128 : x->argv[i].len), x->argv[i].ptr);
                return;
            }
        }
        resp_add_array(&x->out, 0);
    } else if (ARG_EQ(x, 1, "stats")) {
        if (x->argc != 2) {
            reply_sub_arity(x, "function", "stats");
            return;
        }
        resp_add_map(&x->out, 2);
        resp_add_bulk_cstr(&x->out, "running_script");
        resp_add_null(&x->out);
        resp_add_bulk_cstr(&x->out, "engines");
        resp_add_map(&x->out, 0);
    } else if (ARG_EQ(x, 1, "delete")) {
        if (x->argc != 3)
            reply_sub_arity(x, "function", "delete");
        else
            reply_error(x, "ERR Library not found");
    } else if (ARG_EQ(x, 1, "kill")) {
        if (x->argc != 2)
            reply_sub_arity(x, "function", "kill");
        else
            reply_error(x, "NOTBUSY No scripts in execution right now.");
    } else if (ARG_EQ(x, 1, "help")) {
        if (x->argc != 2)
            reply_sub_arity(x, "function", "help");
        else
            function_help(x);
    } else if (ARG_EQ(x, 1, "load") || ARG_EQ(x, 1, "restore")) {
        if (x->argc < 3)
            reply_sub_arity(x, "function", ARG_EQ(x, 1, "load") ? "load" : "restore");
        else
            reply_error(x, "ERR functions are not supported: ember has no scripting engine");
    } else if (ARG_EQ(x, 1, "dump")) {
        if (x->argc != 2)
            reply_sub_arity(x, "function", "dump");
        else
            reply_error(x, "ERR functions are not supported: ember has no scripting engine");
    } else {
        reply_unknown_subcommand(x, "FUNCTION");
    }
}

/* ---- DEBUG ----------------------------------------------------------------------------------- */

/* C's atoi() on an argument, as Redis parses SET-ACTIVE-EXPIRE. */
static int arg_atoi(const struct resp_arg *a)
{
    char buf[32];
    return atoi(arg_cstr(a, buf, sizeof(buf)));
}

/* The length of a string in an RDB file (rdbSaveRawString, without LZF). */
static uint64_t rdb_string_len(const char *s, size_t len)
{
    long long v;

    if (len <= 11 && util_str2ll(s, len, &v)) {
        if (v >= -128 && v <= 127)
            return 2;
        if (v >= -32768 && v <= 32767)
            return 3;
        if (v >= INT32_MIN && v <= INT32_MAX)
            return 5;
    }
    return (len < 64 ? 1 : len < 16384 ? 2 : len <= UINT32_MAX ? 5 : 9) + (uint64_t)len;
}

/*
 * DEBUG OBJECT on the key's owner: Redis's line, with what ember can say.
 * Like Redis it finds a key whose expiry has passed but that is not yet
 * deleted.  Encodings are Redis's names for the equivalent ember layout;
 * serializedlength is the RDB size of a string (without compression), the
 * value's bytes for the other types; there is no LRU clock (lru:0).
 */
static void debug_object(struct cmd_ctx *x)
{
    const struct resp_arg *k = &x->argv[2];
    struct dict_pos pos;
    struct ks_entry e;
    uint64_t off;
    const char *enc;
    long long v;

    off = ks_lookup(W.arena, x->db, k->ptr, k->len, ks_hash(W.arena, k->ptr, k->len), &pos);
    if (off == 0) {
        reply_error(x, "ERR no such key");
        return;
    }
    ks_decode(W.arena, off, &e);
    switch (e.type) {
    case KS_T_STRING:
        enc = e.vlen <= 20 && util_str2ll(e.val, e.vlen, &v) ? "int" :
              e.vlen <= 44 ? "embstr" : "raw";
        break;
    case KS_T_LIST:
        enc = "quicklist";
        break;
    case KS_T_HASH:
    case KS_T_SET:
        enc = e.enc ? "hashtable" : "listpack";
        break;
    default:
        enc = e.enc ? "skiplist" : "listpack";
        break;
    }
    {
        char line[256];
        snprintf(line, sizeof(line),
                 "Value at:%p refcount:1 encoding:%s serializedlength:%" PRIu64
                 " lru:0 lru_seconds_idle:0", (void *)(W.arena->base + off), enc,
                 e.type == KS_T_STRING ? rdb_string_len(e.val, e.vlen) : e.vlen);
        resp_add_simple(&x->out, line);
    }
}

/* DEBUG PROTOCOL <type>: a sample reply of each RESP type (client tests). */
static void debug_protocol(struct cmd_ctx *x)
{
    struct resp_out *o = &x->out;
    const struct resp_arg *t = &x->argv[2];
    int j;

    if (util_strcaseeq(t->ptr, t->len, "string")) {
        resp_add_bulk_cstr(o, "Hello World");
    } else if (util_strcaseeq(t->ptr, t->len, "integer")) {
        resp_add_int(o, 12345);
    } else if (util_strcaseeq(t->ptr, t->len, "double")) {
        resp_add_double(o, 3.141);
    } else if (util_strcaseeq(t->ptr, t->len, "bignum")) {
        resp_add_bignum(o, "1234567999999999999999999999999999999", 37);
    } else if (util_strcaseeq(t->ptr, t->len, "null")) {
        resp_add_null(o);
    } else if (util_strcaseeq(t->ptr, t->len, "array")) {
        resp_add_array(o, 3);
        for (j = 0; j < 3; j++)
            resp_add_int(o, j);
    } else if (util_strcaseeq(t->ptr, t->len, "set")) {
        resp_add_set(o, 3);
        for (j = 0; j < 3; j++)
            resp_add_int(o, j);
    } else if (util_strcaseeq(t->ptr, t->len, "map")) {
        resp_add_map(o, 3);
        for (j = 0; j < 3; j++) {
            resp_add_int(o, j);
            resp_add_bool(o, j == 1);
        }
    } else if (util_strcaseeq(t->ptr, t->len, "attrib")) {
        if (o->proto >= 3) {
            /* resp.h has no attribute type: its header by hand. */
            rbuf_append(o->b, "|1\r\n", 4);
            resp_add_bulk_cstr(o, "key-popularity");
            resp_add_array(o, 2);
            resp_add_bulk_cstr(o, "key:123");
            resp_add_int(o, 90);
        }
        resp_add_bulk_cstr(o, "Some real reply following the attribute");
    } else if (util_strcaseeq(t->ptr, t->len, "push")) {
        if (o->proto < 3) {
            reply_error(x, "ERR RESP2 is not supported by this command");
            return;
        }
        resp_add_push(o, 2);
        resp_add_bulk_cstr(o, "server-cpu-usage");
        resp_add_int(o, 42);
        resp_add_bulk_cstr(o, "Some real reply following the push reply");
    } else if (util_strcaseeq(t->ptr, t->len, "true")) {
        resp_add_bool(o, 1);
    } else if (util_strcaseeq(t->ptr, t->len, "false")) {
        resp_add_bool(o, 0);
    } else if (util_strcaseeq(t->ptr, t->len, "verbatim")) {
        resp_add_verbatim(o, "This is a verbatim\nstring", 25, "txt");
    } else {
        reply_error(x, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|"
                       "true|false");
    }
}

static void debug_help(struct cmd_ctx *x)
{
    static const char *const help[] = {
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default. Applies to every worker.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Accepted for compatibility (values up to 4GB); no effect in ember.",
        "SLEEP <seconds>",
        "    Stop the worker serving this connection for <seconds>. Decimals allowed.",
    };
    reply_help(x, "DEBUG", help, sizeof(help) / sizeof(help[0]));
}

void debugCommand(struct cmd_ctx *x)
{
    if (ARG_EQ(x, 1, "help") && x->argc == 2) {
        debug_help(x);
    } else if (ARG_EQ(x, 1, "log") && x->argc == 3) {
        log_warning("DEBUG LOG: %.*s", (int)(x->argv[2].len > 1024 ? 1024 : x->argv[2].len),
                    x->argv[2].ptr);
        reply_ok(x);
    } else if (ARG_EQ(x, 1, "sleep") && x->argc == 3) {
        char buf[64];
        double secs = strtod(arg_cstr(&x->argv[2], buf, sizeof(buf)), NULL);
        long long us = (long long)(secs * 1000000);
        if (us > 0) {
            struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
            nanosleep(&ts, NULL);
        }
        reply_ok(x);
    } else if (ARG_EQ(x, 1, "set-active-expire") && x->argc == 3) {
        char val[24];
        struct resp_arg argv[3] = { { "@debug", 6 }, { "set-active-expire", 17 }, { val, 0 } };
        struct pending *p;
        W.active_expire = arg_atoi(&x->argv[2]);
        if (W.nworkers == 1 || x->c == NULL) {
            reply_ok(x);
            return;
        }
        argv[2].len = (size_t)util_ll2str(val, W.active_expire);
        p = srv_fan_out(x, merge_first_error_or_ok, "+OK\r\n", 3, argv);
        if (p != NULL)
            cross_pending_issued(p);
    } else if (ARG_EQ(x, 1, "object") && x->argc == 3) {
        unsigned owner = key_shard(x->argv[2].ptr, x->argv[2].len);
        if (x->c != NULL && owner != W.id) {
            cross_forward(x, owner);
            W.st.forwarded++;
        } else {
            debug_object(x);
        }
    } else if (ARG_EQ(x, 1, "error") && x->argc == 3) {
        resp_add_error_len(&x->out, x->argv[2].ptr, x->argv[2].len);
    } else if (ARG_EQ(x, 1, "protocol") && x->argc == 3) {
        debug_protocol(x);
    } else if (ARG_EQ(x, 1, "quicklist-packed-threshold") && x->argc == 3) {
        char buf[64];
        long long sz = config_memtoll(arg_cstr(&x->argv[2], buf, sizeof(buf)));
        if (x->argv[2].len >= sizeof(buf) || sz < 0 || sz > (1ll << 32) - (1 << 20))
            reply_error(x, "ERR argument must be a memory value bigger than 1 and smaller "
                           "than 4gb");
        else
            reply_ok(x);
    } else {
        reply_sub_syntax(x, "DEBUG");
    }
}

/*
 * @debug <sub> args: what DEBUG and CONFIG apply on every worker.
 *   set-active-expire <n>   active expiry on (n != 0) or off
 *   resetstat               CONFIG RESETSTAT
 *   config-sync             take in the settings page now (CONFIG SET
 *                           published there), before the client's +OK
 */
void idebugCommand(struct cmd_ctx *x)
{
    if (ARG_EQ(x, 1, "set-active-expire") && x->argc == 3) {
        W.active_expire = arg_atoi(&x->argv[2]);
        reply_ok(x);
    } else if (ARG_EQ(x, 1, "resetstat") && x->argc == 2) {
        reset_stats();
        reply_ok(x);
    } else if (ARG_EQ(x, 1, "config-sync") && x->argc == 2) {
        if (config_shared_sync(W.cshared))
            worker_apply_settings();
        reply_ok(x);
    } else {
        reply_errorf(x, "ERR unknown @debug subcommand '%.*s'",
                     (int)(x->argv[1].len > 64 ? 64 : x->argv[1].len), x->argv[1].ptr);
    }
}
