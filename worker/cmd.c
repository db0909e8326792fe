/*
 * cmd.c - command lookup, routing and running, and the COMMAND command.
 *
 * cmd_dispatch() is where a parsed client command goes: lookup, arity,
 * routing by key owner (run here, or forward to the owner over the rings),
 * while cmd_run() runs a command this shard owns, for a local client or
 * for another worker: maxmemory, the arena mutation around writes, stats.
 *
 * A write command runs in one arena mutation.  If any arena step fails
 * (limit reached, device full), the handler sets x->failed and returns;
 * cmd_run then truncates whatever the handler had replied, aborts the
 * mutation (the arena is exactly as before the command) and replies the
 * error instead.  Handlers therefore never have to undo anything.
 *
 * Statistics, as Redis keeps them: per command calls, time, rejected_calls
 * (refused before running: arity, CROSSSLOT, maxmemory) and failed_calls
 * (ran and replied an error); error replies by prefix ("ERR", "WRONGTYPE",
 * the reply's first word) for INFO errorstats; and the keyspace changes a
 * command reports in x->dirty (INFO's rdb_changes_since_last_save).  A
 * command forwarded to its keys' owner is counted on the owner, where it
 * runs; INFO sums every shard.  An error is recognised by the first byte
 * of the command's reply, so every error reply counts, whoever wrote it.
 */
#include "server.h"
#include "client.h"
#include "cmd_docs.h"
#include "cmd_info.h"
#include "commands.h"
#include "config.h"
#include "cross.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define X_ENTRY(n, p, ar, fl, fk, lk, st, gr, since, sum, cx) \
    { n, p, ar, fl, fk, lk, st, gr, sum, since, cx, NULL, 0, 0, 0, 0 },
static struct cmd commands[] = { COMMAND_TABLE(X_ENTRY) };
#undef X_ENTRY
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ---- lookup ------------------------------------------------------------- */

#define LOOKUP_SIZE 512   /* power of two, > 2 * NCOMMANDS */

/* Open addressing on a case-folded FNV-1a hash.  A slot keeps the hash and
 * the length, so a probe compares bytes only for the right name; every
 * pipelined command comes through here. */
struct lookup_slot {
    const struct cmd *cmd;         /* NULL: empty */
    uint32_t hash;                 /* name_hash() of the name */
    uint32_t len;                  /* its length */
};
static struct lookup_slot lookup_table[LOOKUP_SIZE];
static int lookup_built;

/* Command names are lower case: folding A-Z is all the comparison needs. */
static inline unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < len; i++)
        h = (h ^ fold((unsigned char)s[i])) * 16777619u;
    return h;
}

static void build_lookup(void)
{
    size_t i;

    _Static_assert(LOOKUP_SIZE > 2 * NCOMMANDS, "lookup table too small");
    for (i = 0; i < NCOMMANDS; i++) {
        size_t len = strlen(commands[i].name);
        uint32_t hash = name_hash(commands[i].name, len), h = hash & (LOOKUP_SIZE - 1);

        while (lookup_table[h].cmd)
            h = (h + 1) & (LOOKUP_SIZE - 1);
        lookup_table[h].cmd = &commands[i];
        lookup_table[h].hash = hash;
        lookup_table[h].len = (uint32_t)len;
    }
    lookup_built = 1;
}

const struct cmd *cmd_lookup(const char *name, size_t len)
{
    uint32_t hash, h;

    if (!lookup_built)
        build_lookup();
    if (len == 0 || len > 32)
        return NULL;
    hash = name_hash(name, len);
    for (h = hash & (LOOKUP_SIZE - 1); lookup_table[h].cmd; h = (h + 1) & (LOOKUP_SIZE - 1)) {
        const struct lookup_slot *sl = &lookup_table[h];
        size_t i;

        if (sl->hash != hash || sl->len != len)
            continue;
        for (i = 0; i < len && fold((unsigned char)name[i]) == (unsigned char)sl->cmd->name[i]; i++)
            ;
        if (i == len)
            return sl->cmd;
    }
    return NULL;
}

/* ---- replies ------------------------------------------------------------------ */

void reply_error(struct cmd_ctx *x, const char *msg)
{
    resp_add_error(&x->out, msg);
}

void reply_errorf(struct cmd_ctx *x, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    resp_add_error(&x->out, buf);
}

void reply_arity(struct cmd_ctx *x)
{
    reply_errorf(x, "ERR wrong number of arguments for '%s' command", x->cmd->name);
}

void reply_syntax(struct cmd_ctx *x)
{
    reply_error(x, "ERR syntax error");
}

void reply_wrongtype(struct cmd_ctx *x)
{
    reply_error(x, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

void reply_not_integer(struct cmd_ctx *x)
{
    reply_error(x, "ERR value is not an integer or out of range");
}

void reply_oom(struct cmd_ctx *x, int status)
{
    if (status == EMBER_ELIMIT)
        reply_error(x, "OOM command not allowed when used memory > 'maxmemory'.");
    else
        reply_errorf(x, "ERR the shard's arena cannot grow: %s", ember_strerror(status));
}

void reply_unknown_subcommand(struct cmd_ctx *x, const char *cmd)
{
    reply_errorf(x, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                 (int)(x->argv[1].len > 128 ? 128 : x->argv[1].len), x->argv[1].ptr, cmd);
}

int arg_ll(struct cmd_ctx *x, int i, long long *v)
{
    if (!util_str2ll(x->argv[i].ptr, x->argv[i].len, v)) {
        reply_not_integer(x);
        return -1;
    }
    return 0;
}

/*
 * Parses a cursor as Redis does (strtoul on the NUL-terminated argument:
 * a sign, leading zeros and an empty string pass; a leading space,
 * trailing bytes or overflow give "ERR invalid cursor").  0 or -1.
 */
int arg_cursor(struct cmd_ctx *x, int i, uint64_t *cursor)
{
    const struct resp_arg *a = &x->argv[i];
    char small[64], *buf = small, *end;
    unsigned long long v;
    int ok;

    if (a->len >= sizeof(small) && (buf = malloc(a->len + 1)) == NULL) {
        reply_error(x, "ERR out of memory");
        return -1;
    }
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    errno = 0;
    v = strtoull(buf, &end, 10);
    ok = !isspace((unsigned char)buf[0]) && *end == '\0' && errno != ERANGE;
    if (buf != small)
        free(buf);
    if (!ok) {
        reply_error(x, "ERR invalid cursor");
        return -1;
    }
    *cursor = v;
    return 0;
}

/* ---- statistics ------------------------------------------------------------- */

/* Error prefixes kept per worker.  Redis 7.0 keeps any number; a bound
 * keeps a client that invents prefixes (DEBUG ERROR) from growing memory:
 * past it, new prefixes count in total_error_replies only. */
#define ERRSTAT_MAX  128
#define ERRSTAT_NAME 32

static struct errstat {
    char name[ERRSTAT_NAME];       /* prefix, NUL-terminated */
    uint64_t count;
} errstats[ERRSTAT_MAX];
static unsigned nerrstats;

/*
 * Counts one error reply, `p` pointing at its '-' and len bytes of it
 * available.  The prefix is the first word if a space comes within the
 * first 32 bytes, else "ERR": Redis's afterErrorReply().
 */
static void count_error(const char *p, size_t len)
{
    const char *sp = memchr(p, ' ', len < 32 ? len : 32), *name = "ERR";
    size_t n = 3;
    unsigned i;

    W.st.error_replies++;
    if (sp != NULL && sp - p > 1) {
        name = p + 1;
        n = (size_t)(sp - p) - 1;
    }
    for (i = 0; i < nerrstats; i++) {
        if (strncmp(errstats[i].name, name, n) == 0 && errstats[i].name[n] == '\0') {
            errstats[i].count++;
            return;
        }
    }
    if (nerrstats < ERRSTAT_MAX) {
        memcpy(errstats[nerrstats].name, name, n);   /* n < 32: fits with its NUL */
        errstats[nerrstats].name[n] = '\0';
        errstats[nerrstats].count = 1;
        nerrstats++;
    }
}

/* Counts the reply written to b since `mark` if it is an error; 1 if so. */
static int count_reply(const struct rbuf *b, size_t mark)
{
    if (b->len <= mark || b->data[mark] != '-')
        return 0;
    count_error(b->data + mark, b->len - mark);
    return 1;
}

/* The table entry of a command, writable: cmd_lookup() hands out const
 * pointers into the table, the statistics in it are ours to count. */
static struct cmd *entry(const struct cmd *c)
{
    return &commands[c - commands];
}

/* Counts a command refused before it ran, whose error was replied since
 * `mark`. */
static void rejected(struct cmd_ctx *x, size_t mark)
{
    entry(x->cmd)->rejected_calls++;
    count_reply(x->out.b, mark);
}

void cmd_each_error(void (*fn)(const char *prefix, uint64_t count, void *ctx), void *ctx)
{
    unsigned i;
    for (i = 0; i < nerrstats; i++)
        fn(errstats[i].name, errstats[i].count, ctx);
}

void cmd_reset_stats(void)
{
    size_t i;

    for (i = 0; i < NCOMMANDS; i++)
        commands[i].calls = commands[i].ns = commands[i].rejected_calls =
            commands[i].failed_calls = 0;
    nerrstats = 0;
}

/* ---- running ------------------------------------------------------------------ */

void cmd_run(struct cmd_ctx *x)
{
    struct cmd *cmd = entry(x->cmd);
    size_t mark = x->out.b->len;
    int write = (cmd->flags & CMD_WRITE) != 0;
    /* In a run of commands, one's end is the next one's start: one clock
     * read per command instead of two (a few % of a pipelined GET).  What
     * happens between them (parsing, forwarding others) counts to the
     * second, as Redis's usec is about the time anyway. */
    uint64_t t0 = W.cmd_clock ? W.cmd_clock : util_monotonic_ns(), t1;

    /* W.now_ms is the time of the batch of commands this one came in
     * (client.c, cross.c, blocking.c set it), as close as Redis's clock. */
    if ((cmd->flags & CMD_DENYOOM) && db_over_maxmemory()) {
        reply_error(x, "OOM command not allowed when used memory > 'maxmemory'.");
        rejected(x, mark);
        return;
    }
    if (write)
        shm_begin(W.arena);
    cmd->proc(x);
    if (write) {
        if (x->failed) {
            shm_abort(W.arena);
            x->out.b->len = mark;
            reply_oom(x, x->failed);
        } else {
            if (x->ring_peer >= 0 && x->ring_pos > W.arena->hdr->ring_applied[x->ring_peer])
                shm_set64(W.arena, &W.arena->hdr->ring_applied[x->ring_peer], x->ring_pos);
            shm_commit(W.arena);
        }
    }
    if (!x->failed && x->dirty > 0)
        W.dirty += (uint64_t)x->dirty;
    if (count_reply(x->out.b, mark))
        cmd->failed_calls++;
    /* A blocked command run again when its key got data was counted when
     * it blocked (Redis counts it once too); its time adds up.  A piece of
     * a command split across shards was counted as the client's command by
     * the worker that split it; errors are counted where they happen, as
     * the split command's reply is only merged later. */
    if (!x->retry && !x->part) {
        cmd->calls++;
        W.st.commands++;
    }
    t1 = util_monotonic_ns();
    cmd->ns += t1 - t0;
    if (W.cmd_clock)
        W.cmd_clock = t1;
}

static void reply_unknown(struct client *c, int argc, const struct resp_arg *argv)
{
    char args[512];
    size_t n = 0;
    int i;
    struct resp_out o = { &c->out, c->proto };
    char msg[1024];
    size_t mark = c->out.len;

    args[0] = '\0';
    for (i = 1; i < argc && n < 128; i++) {
        int w = snprintf(args + n, sizeof(args) - n, "'%.*s' ",
                         (int)(argv[i].len < 128 - n ? argv[i].len : 128 - n), argv[i].ptr);
        if (w < 0)
            break;
        n += (size_t)w;
        if (n >= sizeof(args))
            n = sizeof(args) - 1;
    }
    snprintf(msg, sizeof(msg), "ERR unknown command '%.*s', with args beginning with: %s",
             (int)(argv[0].len < 128 ? argv[0].len : 128), argv[0].ptr, args);
    resp_add_error(&o, msg);
    /* No command to charge: it counts in the error statistics only. */
    count_reply(&c->out, mark);
}

void cmd_dispatch(struct client *c, int argc, const struct resp_arg *argv)
{
    cmd_dispatch_hint(c, argc, argv, cmd_lookup(argv[0].ptr, argv[0].len), NULL);
}

void cmd_dispatch_hint(struct client *c, int argc, const struct resp_arg *argv,
                       const struct cmd *cmd, const struct cmd_hint *h)
{
    struct cmd_ctx x;
    size_t mark = c->out.len;      /* where a rejection's error goes */

    if (cmd == NULL || (cmd->flags & CMD_INTERNAL)) {
        reply_unknown(c, argc, argv);
        return;
    }
    c->last_cmd = cmd;
    c->last_sub = NULL;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.cmd = cmd;
    x.argc = argc;
    x.argv = argv;
    x.db = c->db;
    x.out.b = &c->out;
    x.out.proto = c->proto;
    x.ring_peer = -1;
    if (h != NULL && h->key != NULL && h->shard == W.id) {
        x.hint_key = h->key;
        x.hint_hash = h->hash;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) {
        reply_arity(&x);
        rejected(&x, mark);
        return;
    }
    if (cmd->first_key > 0 && !(cmd->flags & CMD_NOKEYROUTE) && W.nworkers > 1) {
        int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key, i;
        unsigned owner = h != NULL && h->key != NULL ? h->shard :
                         key_shard(argv[cmd->first_key].ptr, argv[cmd->first_key].len);
        for (i = cmd->first_key + cmd->step; i <= last && i < argc; i += cmd->step)
            if (key_shard(argv[i].ptr, argv[i].len) != owner) {
                reply_error(&x, "CROSSSLOT Keys in request don't hash to the same slot");
                rejected(&x, mark);
                return;
            }
        if (owner != W.id) {
            cross_forward(&x, owner);
            W.st.forwarded++;
            return;
        }
    }
    cmd_run(&x);
}

/* ---- COMMAND -------------------------------------------------------------------- */

static void reply_cmd_info(struct cmd_ctx *x, const struct cmd *c)
{
    cmd_info_reply(&x->out, c);   /* cmd_info.c */
}

static void reply_cmd_docs(struct cmd_ctx *x, const struct cmd *c)
{
    cmd_docs_reply(&x->out, c);   /* cmd_docs.c */
}

static size_t count_public(void)
{
    size_t i, n = 0;
    for (i = 0; i < NCOMMANDS; i++)
        n += !(commands[i].flags & CMD_INTERNAL);
    return n;
}

int check_sub_arity(struct cmd_ctx *x, const char *container)
{
    int a;
    const char *sub = cmd_info_sub(container, x->argv[1].ptr, x->argv[1].len, &a);

    if (sub == NULL)
        return 0;
    if ((a > 0 && x->argc != a) || (a < 0 && x->argc < -a)) {
        reply_errorf(x, "ERR wrong number of arguments for '%s|%s' command", container, sub);
        return -1;
    }
    if (x->c != NULL)
        x->c->last_sub = sub;   /* CLIENT LIST: cmd=client|list */
    return 0;
}

void commandCommand(struct cmd_ctx *x)
{
    size_t i;
    int j;

    if (x->argc > 1 &&
        check_sub_arity(x, "command") != 0)
        return;
    if (x->argc == 1) {
        resp_add_array(&x->out, (long)count_public());
        for (i = 0; i < NCOMMANDS; i++)
            if (!(commands[i].flags & CMD_INTERNAL))
                reply_cmd_info(x, &commands[i]);
        return;
    }
    if (ARG_EQ(x, 1, "count") && x->argc == 2) {
        resp_add_int(&x->out, (long long)count_public());
    } else if (ARG_EQ(x, 1, "info")) {
        resp_add_array(&x->out, x->argc == 2 ? (long)count_public() : x->argc - 2);
        if (x->argc == 2) {
            for (i = 0; i < NCOMMANDS; i++)
                if (!(commands[i].flags & CMD_INTERNAL))
                    reply_cmd_info(x, &commands[i]);
        }
        for (j = 2; j < x->argc; j++) {
            const struct cmd *c = cmd_lookup(x->argv[j].ptr, x->argv[j].len);
            if (c != NULL && !(c->flags & CMD_INTERNAL))
                reply_cmd_info(x, c);
            else if (!cmd_info_reply_sub(&x->out, x->argv[j].ptr, x->argv[j].len))
                resp_add_null(&x->out);     /* Redis: a null bulk in RESP2 */
        }
    } else if (ARG_EQ(x, 1, "docs")) {
        if (x->argc == 2) {
            resp_add_map(&x->out, (long)count_public());
            for (i = 0; i < NCOMMANDS; i++)
                if (!(commands[i].flags & CMD_INTERNAL))
                    reply_cmd_docs(x, &commands[i]);
        } else {
            int n = 0;
            for (j = 2; j < x->argc; j++) {
                const struct cmd *c = cmd_lookup(x->argv[j].ptr, x->argv[j].len);
                n += c != NULL && !(c->flags & CMD_INTERNAL);
            }
            resp_add_map(&x->out, n);
            for (j = 2; j < x->argc; j++) {
                const struct cmd *c = cmd_lookup(x->argv[j].ptr, x->argv[j].len);
                if (c != NULL && !(c->flags & CMD_INTERNAL))
                    reply_cmd_docs(x, c);
            }
        }
    } else if (ARG_EQ(x, 1, "list")) {
        struct cmd_info_filter f;
        size_t h;
        long n = 0;
        if (cmd_info_filter_parse(&f, x->argc - 2, x->argv + 2) != 0) {
            reply_syntax(x);
            return;
        }
        h = resp_add_deferred(&x->out);
        for (i = 0; i < NCOMMANDS; i++)
            if (!(commands[i].flags & CMD_INTERNAL))
                n += cmd_info_list(&x->out, &commands[i], &f);
        resp_set_deferred_array(&x->out, h, n);
    } else if (ARG_EQ(x, 1, "getkeys") && x->argc >= 3) {
        cmd_info_getkeys(&x->out, x->argc - 2, x->argv + 2, 0);
    } else if (ARG_EQ(x, 1, "getkeysandflags") && x->argc >= 3) {
        cmd_info_getkeys(&x->out, x->argc - 2, x->argv + 2, 1);
    } else if (ARG_EQ(x, 1, "help")) {
        static const char *help[] = {
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)", "    Return details about all commands.",
            "COUNT", "    Return the total number of commands in this server.",
            "LIST", "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]", "    Return details about multiple commands.",
            "DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
            "GETKEYS <full-command>", "    Return the keys from a full command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full command.",
            "HELP", "    Print this help.",
        };
        resp_add_array(&x->out, (long)(sizeof(help) / sizeof(help[0])));
        for (i = 0; i < sizeof(help) / sizeof(help[0]); i++)
            resp_add_simple(&x->out, help[i]);
    } else {
        reply_unknown_subcommand(x, "COMMAND");
    }
}

/* For INFO commandstats. */
void cmd_each_stat(void (*fn)(const struct cmd *c, void *ctx), void *ctx)
{
    size_t i;
    for (i = 0; i < NCOMMANDS; i++)
        if (!(commands[i].flags & CMD_INTERNAL) &&
            (commands[i].calls || commands[i].rejected_calls || commands[i].failed_calls))
            fn(&commands[i], ctx);
}
