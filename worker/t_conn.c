/*
 * t_conn.c - connection commands: PING ECHO HELLO QUIT SELECT AUTH RESET
 * and CLIENT.
 *
 * Clients are spread over workers by the kernel (SO_REUSEPORT), so CLIENT
 * LIST and CLIENT KILL ask every worker (the internal @client command) and
 * merge the answers; ids come from a counter shared by all workers, so
 * they are unique and increasing across the whole server, as in Redis.
 */
#include "server.h"
#include "commands.h"
#include "client.h"
#include "cross.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pingCommand(struct cmd_ctx *x)
{
    if (x->argc > 2) {
        reply_arity(x);
        return;
    }
    if (x->argc == 2)
        resp_add_bulk(&x->out, x->argv[1].ptr, x->argv[1].len);
    else
        resp_add_simple(&x->out, "PONG");
}

void echoCommand(struct cmd_ctx *x)
{
    resp_add_bulk(&x->out, x->argv[1].ptr, x->argv[1].len);
}

void quitCommand(struct cmd_ctx *x)
{
    reply_ok(x);
    client_close_after_reply(x->c);
}

void selectCommand(struct cmd_ctx *x)
{
    long long db;

    if (!util_str2ll(x->argv[1].ptr, x->argv[1].len, &db)) {
        reply_not_integer(x);
        return;
    }
    if (db < INT32_MIN || db > INT32_MAX) {
        reply_error(x, "ERR value is out of range, value must between -2147483648 and "
                    "2147483647");
        return;
    }
    if (db < 0 || db >= (long long)W.arena->hdr->dbcount) {
        reply_error(x, "ERR DB index is out of range");
        return;
    }
    x->c->db = (unsigned)db;
    reply_ok(x);
}

void authCommand(struct cmd_ctx *x)
{
    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    if (x->argc == 2) {
        reply_error(x, "ERR AUTH <password> called without any password configured for "
                       "the default user. Are you sure your configuration is correct?");
        return;
    }
    /* The default user has no password: any password opens it. */
    if (x->argv[1].len == 7 && memcmp(x->argv[1].ptr, "default", 7) == 0)
        reply_ok(x);
    else
        reply_error(x, "WRONGPASS invalid username-password pair or user is disabled.");
}

/* Client names: printable ASCII without spaces (Redis's rule). */
static int set_name(struct cmd_ctx *x, const struct resp_arg *name)
{
    size_t i;
    char *n;

    for (i = 0; i < name->len; i++)
        if (name->ptr[i] < '!' || name->ptr[i] > '~') {
            reply_error(x, "ERR Client names cannot contain spaces, newlines or special "
                           "characters.");
            return -1;
        }
    free(x->c->name);
    x->c->name = NULL;
    if (name->len == 0)
        return 0;
    n = malloc(name->len + 1);
    if (n == NULL) {
        reply_error(x, "ERR out of memory");
        return -1;
    }
    memcpy(n, name->ptr, name->len);
    n[name->len] = '\0';
    x->c->name = n;
    return 0;
}

void helloCommand(struct cmd_ctx *x)
{
    long long ver = 0;
    int j = 1;

    if (x->argc >= 2) {
        if (!util_str2ll(x->argv[1].ptr, x->argv[1].len, &ver)) {
            reply_error(x, "ERR Protocol version is not an integer or out of range");
            return;
        }
        j = 2;
        if (ver < 2 || ver > 3) {
            reply_error(x, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (; j < x->argc; j++) {
        int more = x->argc - 1 - j;
        if (ARG_EQ(x, j, "auth") && more >= 2) {
            const struct resp_arg *u = &x->argv[j + 1];
            if (!(u->len == 7 && memcmp(u->ptr, "default", 7) == 0)) {
                reply_error(x, "WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            j += 2;
        } else if (ARG_EQ(x, j, "setname") && more >= 1) {
            if (set_name(x, &x->argv[j + 1]) != 0)
                return;
            j++;
        } else {
            reply_errorf(x, "ERR Syntax error in HELLO option '%.*s'",
                         (int)(x->argv[j].len > 128 ? 128 : x->argv[j].len), x->argv[j].ptr);
            return;
        }
    }
    if (ver)
        x->c->proto = x->out.proto = (int)ver;
    resp_add_map(&x->out, 7);
    resp_add_bulk_cstr(&x->out, "server");
    resp_add_bulk_cstr(&x->out, "redis");
    resp_add_bulk_cstr(&x->out, "version");
    resp_add_bulk_cstr(&x->out, EMBER_VERSION);
    resp_add_bulk_cstr(&x->out, "proto");
    resp_add_int(&x->out, x->c->proto);
    resp_add_bulk_cstr(&x->out, "id");
    resp_add_int(&x->out, (long long)x->c->id);
    resp_add_bulk_cstr(&x->out, "mode");
    resp_add_bulk_cstr(&x->out, "standalone");
    resp_add_bulk_cstr(&x->out, "role");
    resp_add_bulk_cstr(&x->out, "master");
    resp_add_bulk_cstr(&x->out, "modules");
    resp_add_array(&x->out, 0);
}

void resetCommand(struct cmd_ctx *x)
{
    x->c->db = 0;
    x->c->proto = x->out.proto = 2;
    free(x->c->name);
    x->c->name = NULL;
    resp_add_simple(&x->out, "RESET");
}

/* ---- CLIENT ----------------------------------------------------------------------- */

static void client_help(struct cmd_ctx *x)
{
    static const char *help[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "HELP",
        "    Print this help.",
    };
    size_t i;

    resp_add_array(&x->out, (long)(sizeof(help) / sizeof(help[0])));
    for (i = 0; i < sizeof(help) / sizeof(help[0]); i++)
        resp_add_simple(&x->out, help[i]);
}

/* Concatenates the workers' CLIENT LIST bulk strings. */
static void merge_client_list(struct pending *p, struct resp_out *out)
{
    struct rbuf all;
    unsigned i;

    rbuf_init(&all);
    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        size_t l = r->len ? (size_t)((const char *)memchr(r->data, '\n', r->len) - r->data) + 1 : 0;
        if (r->len > 0 && r->data[0] == '$' && l > 0 && r->len >= l + 2)
            rbuf_append(&all, r->data + l, r->len - l - 2);
    }
    if (out->proto == 3)
        resp_add_verbatim(out, all.data ? all.data : "", all.len, "txt");
    else
        resp_add_bulk(out, all.data ? all.data : "", all.len);
    rbuf_free(&all);
}

/* CLIENT KILL addr: +OK if one went, else an error. */
static void merge_kill_old(struct pending *p, struct resp_out *out)
{
    long long n = 0, v;
    unsigned i;

    for (i = 0; i < p->nparts; i++) {
        const struct rbuf *r = &p->parts[i].reply;
        if (r->len >= 4 && r->data[0] == ':' && util_str2ll(r->data + 1, r->len - 3, &v))
            n += v;
    }
    if (n > 0)
        resp_add_simple(out, "OK");
    else
        resp_add_error(out, "ERR No such client");
}

/* Validates CLIENT KILL's filters here, so that errors come once. */
static int check_kill_filters(struct cmd_ctx *x)
{
    int j;

    if (x->argc == 3)
        return 0;
    if ((x->argc - 2) % 2 != 0) {
        reply_syntax(x);
        return -1;
    }
    for (j = 2; j < x->argc; j += 2) {
        if (ARG_EQ(x, j, "id")) {
            long long id;
            if (!util_str2ll(x->argv[j + 1].ptr, x->argv[j + 1].len, &id) || id <= 0) {
                reply_error(x, "ERR client-id should be greater than 0");
                return -1;
            }
        } else if (ARG_EQ(x, j, "type")) {
            if (!ARG_EQ(x, j + 1, "normal") && !ARG_EQ(x, j + 1, "master") &&
                !ARG_EQ(x, j + 1, "replica") && !ARG_EQ(x, j + 1, "slave") &&
                !ARG_EQ(x, j + 1, "pubsub")) {
                reply_errorf(x, "ERR Unknown client type '%.*s'", (int)x->argv[j + 1].len,
                             x->argv[j + 1].ptr);
                return -1;
            }
        } else if (ARG_EQ(x, j, "user")) {
            if (!(x->argv[j + 1].len == 7 && memcmp(x->argv[j + 1].ptr, "default", 7) == 0)) {
                reply_errorf(x, "ERR No such user '%.*s'", (int)x->argv[j + 1].len,
                             x->argv[j + 1].ptr);
                return -1;
            }
        } else if (ARG_EQ(x, j, "skipme")) {
            if (!ARG_EQ(x, j + 1, "yes") && !ARG_EQ(x, j + 1, "no")) {
                reply_syntax(x);
                return -1;
            }
        } else if (!ARG_EQ(x, j, "addr") && !ARG_EQ(x, j, "laddr")) {
            reply_syntax(x);
            return -1;
        }
    }
    return 0;
}

/* Fans a CLIENT subcommand out as "@client <sub> <my id> args...". */
static void fan_out(struct cmd_ctx *x, const char *sub, merge_fn *merge)
{
    struct resp_arg *argv = malloc(sizeof(*argv) * (size_t)(x->argc + 1));
    char idbuf[24];
    int i;

    if (argv == NULL) {
        reply_error(x, "ERR out of memory");
        return;
    }
    argv[0].ptr = "@client";
    argv[0].len = 7;
    argv[1].ptr = sub;
    argv[1].len = strlen(sub);
    argv[2].len = (size_t)util_ll2str(idbuf, (long long)x->c->id);
    argv[2].ptr = idbuf;
    for (i = 2; i < x->argc; i++)
        argv[i + 1] = x->argv[i];
    if (cross_broadcast(x->c, x->c->proto, x->c->db, merge, x->argc + 1, argv) == NULL)
        reply_error(x, "ERR out of memory");
    free(argv);
}

void clientCommand(struct cmd_ctx *x)
{
    char line[1024];
    int n;

    if (check_sub_arity(x, "client") != 0)
        return;
    if (ARG_EQ(x, 1, "help") && x->argc == 2) {
        client_help(x);
    } else if (ARG_EQ(x, 1, "id") && x->argc == 2) {
        resp_add_int(&x->out, (long long)x->c->id);
    } else if (ARG_EQ(x, 1, "getname") && x->argc == 2) {
        if (x->c->name)
            resp_add_bulk_cstr(&x->out, x->c->name);
        else
            resp_add_null(&x->out);
    } else if (ARG_EQ(x, 1, "setname") && x->argc == 3) {
        if (set_name(x, &x->argv[2]) == 0)
            reply_ok(x);
    } else if (ARG_EQ(x, 1, "info") && x->argc == 2) {
        n = client_info_line(x->c, line, sizeof(line) - 1);
        line[n++] = '\n';
        if (x->out.proto == 3)
            resp_add_verbatim(&x->out, line, (size_t)n, "txt");
        else
            resp_add_bulk(&x->out, line, (size_t)n);
    } else if (ARG_EQ(x, 1, "list")) {
        if (x->argc == 4 && ARG_EQ(x, 2, "type")) {
            if (!ARG_EQ(x, 3, "normal") && !ARG_EQ(x, 3, "master") &&
                !ARG_EQ(x, 3, "replica") && !ARG_EQ(x, 3, "slave") && !ARG_EQ(x, 3, "pubsub")) {
                reply_errorf(x, "ERR Unknown client type '%.*s'", (int)x->argv[3].len,
                             x->argv[3].ptr);
                return;
            }
        } else if (x->argc >= 4 && ARG_EQ(x, 2, "id")) {
            int j;
            for (j = 3; j < x->argc; j++) {
                long long id;
                if (!util_str2ll(x->argv[j].ptr, x->argv[j].len, &id) || id <= 0) {
                    reply_error(x, "ERR Invalid client ID");
                    return;
                }
            }
        } else if (x->argc != 2) {
            reply_syntax(x);
            return;
        }
        fan_out(x, "list", merge_client_list);
    } else if (ARG_EQ(x, 1, "kill") && x->argc >= 3) {
        if (check_kill_filters(x) != 0)
            return;
        fan_out(x, "kill", x->argc == 3 ? merge_kill_old : merge_sum_ints);
    } else if (ARG_EQ(x, 1, "no-evict") && x->argc == 3) {
        if (ARG_EQ(x, 2, "on") || ARG_EQ(x, 2, "off"))
            reply_ok(x);   /* nothing is ever evicted to make room for clients */
        else
            reply_syntax(x);
    } else {
        reply_unknown_subcommand(x, "CLIENT");
    }
}

/* Does client c match CLIENT KILL's filters (argv from 3 on)? */
static int kill_matches(const struct cmd_ctx *x, const struct client *c, uint64_t me)
{
    int j, skipme = 1;

    if (x->argc == 4)   /* old form: @client kill <me> <addr> */
        return strlen(c->addr) == x->argv[3].len &&
               memcmp(c->addr, x->argv[3].ptr, x->argv[3].len) == 0;
    for (j = 3; j + 1 < x->argc; j += 2) {
        const struct resp_arg *v = &x->argv[j + 1];
        if (ARG_EQ(x, j, "id")) {
            long long id = 0;
            util_str2ll(v->ptr, v->len, &id);
            if ((uint64_t)id != c->id)
                return 0;
        } else if (ARG_EQ(x, j, "addr")) {
            if (strlen(c->addr) != v->len || memcmp(c->addr, v->ptr, v->len) != 0)
                return 0;
        } else if (ARG_EQ(x, j, "laddr")) {
            if (strlen(c->laddr) != v->len || memcmp(c->laddr, v->ptr, v->len) != 0)
                return 0;
        } else if (ARG_EQ(x, j, "type")) {
            if (!util_strcaseeq(v->ptr, v->len, "normal"))
                return 0;
        } else if (ARG_EQ(x, j, "skipme")) {
            skipme = util_strcaseeq(v->ptr, v->len, "yes");
        }
    }
    return !(skipme && c->id == me);
}

/* @client list|kill <requesting client id> args... (on every worker). */
void iclientCommand(struct cmd_ctx *x)
{
    long long me = 0;
    struct client *c;

    if (x->argc < 3) {
        reply_arity(x);
        return;
    }
    util_str2ll(x->argv[2].ptr, x->argv[2].len, &me);
    if (ARG_EQ(x, 1, "list")) {
        struct rbuf all;
        char line[1024];
        rbuf_init(&all);
        for (c = W.clients; c; c = c->next) {
            int n, j, keep = 1;
            if (c->flags & CLIENT_CLOSE_ASAP)
                continue;
            if (x->argc >= 5 && ARG_EQ(x, 3, "id")) {
                keep = 0;
                for (j = 4; j < x->argc; j++) {
                    long long id = 0;
                    util_str2ll(x->argv[j].ptr, x->argv[j].len, &id);
                    keep |= (uint64_t)id == c->id;
                }
            } else if (x->argc == 5 && ARG_EQ(x, 3, "type")) {
                keep = ARG_EQ(x, 4, "normal");
            }
            if (!keep)
                continue;
            n = client_info_line(c, line, sizeof(line) - 1);
            line[n++] = '\n';
            rbuf_append(&all, line, (size_t)n);
        }
        resp_add_bulk(&x->out, all.data ? all.data : "", all.len);
        rbuf_free(&all);
    } else if (ARG_EQ(x, 1, "kill")) {
        long long killed = 0;
        for (c = W.clients; c; c = c->next) {
            if ((c->flags & CLIENT_CLOSE_ASAP) || !kill_matches(x, c, (uint64_t)me))
                continue;
            killed++;
            /* The requester itself goes after its reply (old form). */
            if (c->id == (uint64_t)me)
                client_close_after_reply(c);
            else
                client_close_asap(c);
        }
        resp_add_int(&x->out, killed);
    } else {
        reply_syntax(x);
    }
}
