/*
 * t_object.c - OBJECT and MEMORY: questions about one key's value.
 *
 * Both take the key after a subcommand, so the dispatcher cannot route
 * them by key position (MEMORY HELP has none): the handler forwards the
 * command whole to the key's owner itself.
 *
 * Encodings are named as Redis names the equivalent layout: strings as
 * Redis would encode the value SET stored ("int", "embstr" up to 44 bytes,
 * "raw"), compact sets of integers "intset", other compact values
 * "listpack", full ones "hashtable", "skiplist" or "quicklist".  Redis 7.0
 * calls every list "quicklist" and has no compact set of strings (7.2 has:
 * "listpack"); ember says what it holds.
 *
 * ember keeps no access time or frequency per key (that is 8 bytes a key
 * for eviction policies ember does not offer yet): OBJECT FREQ replies the
 * error Redis gives when its policy does not track it, OBJECT IDLETIME an
 * error of ember's own (Redis under noeviction tracks access times).
 * MEMORY USAGE counts the key's entry, its table slots and its value's
 * blocks in the arena, sampling big collections as Redis does (SAMPLES,
 * default 5; 0 walks everything).
 */
#include "server.h"
#include "commands.h"
#include "cross.h"
#include "util.h"

#include "shm/hset.h"
#include "shm/qlist.h"
#include "shm/zset.h"

#include <string.h>

/* Runs x at the owner of argv[i]: 1 when that is here, 0 when forwarded. */
static int at_owner(struct cmd_ctx *x, int i)
{
    unsigned owner;

    if (x->c == NULL || W.nworkers <= 1)
        return 1;
    owner = key_shard(x->argv[i].ptr, x->argv[i].len);
    if (owner == W.id)
        return 1;
    cross_forward(x, owner);
    W.st.forwarded++;
    return 0;
}

static int all_integers(const struct ks_ref *r)
{
    struct hset_it it;
    const uint8_t *m, *v;
    size_t ml, vl;
    long long n;

    hset_iter(W.arena, r, &it);
    while (hset_next(&it, &m, &ml, &v, &vl))
        if (!util_str2ll((const char *)m, ml, &n))
            return 0;
    return 1;
}

static const char *encoding(const struct ks_ref *r)
{
    long long v;

    switch (r->e.type) {
    case KS_T_STRING:
        if (r->e.vlen <= 20 && util_str2ll(r->e.val, r->e.vlen, &v))
            return "int";
        return r->e.vlen <= 44 ? "embstr" : "raw";
    case KS_T_LIST:
        return qlist_encoding(r);
    case KS_T_SET:
        if (!r->e.enc && all_integers(r))
            return "intset";
        return hset_encoding(r);
    case KS_T_HASH:
        return hset_encoding(r);
    default:
        return zset_encoding(r);
    }
}

static void object_help(struct cmd_ctx *x)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access logarithmic counter of a <key>: not tracked by ember.",
        "IDLETIME <key>",
        "    Return the idle time of a <key>: not tracked by ember.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>: always 1 in ember.",
        "HELP",
        "    Print this help.",
    };
    size_t i;

    resp_add_array(&x->out, (long)(sizeof(lines) / sizeof(lines[0])));
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        resp_add_simple(&x->out, lines[i]);
}

void objectCommand(struct cmd_ctx *x)
{
    struct db_key k;

    if (check_sub_arity(x, "object"))
        return;
    if (ARG_EQ(x, 1, "help")) {
        object_help(x);
        return;
    }
    if (!(ARG_EQ(x, 1, "encoding") || ARG_EQ(x, 1, "refcount") || ARG_EQ(x, 1, "idletime") ||
          ARG_EQ(x, 1, "freq"))) {
        reply_unknown_subcommand(x, "OBJECT");
        return;
    }
    if (!at_owner(x, 2))
        return;
    /* Redis looks the key up without touching it or counting a hit. */
    if (!db_lookup_write(x, x->argv[2].ptr, x->argv[2].len, &k)) {
        resp_add_null(&x->out);
        return;
    }
    if (ARG_EQ(x, 1, "encoding"))
        resp_add_bulk(&x->out, encoding(&k), strlen(encoding(&k)));
    else if (ARG_EQ(x, 1, "refcount"))
        resp_add_int(&x->out, 1);
    else if (ARG_EQ(x, 1, "idletime"))
        /* Redis has no error for this case (its noeviction tracks idle
         * time): say what is true. */
        reply_error(x, "ERR idle time not tracked: ember keeps no access time per key.");
    else
        reply_error(x, "ERR An LFU maxmemory policy is not selected, access frequency not "
                    "tracked. Please note that when switching between policies at runtime LRU "
                    "and LFU data will take some time to adjust.");
}

static void memory_help(struct cmd_ctx *x)
{
    static const char *const lines[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Print this help.",
    };
    size_t i;

    resp_add_array(&x->out, (long)(sizeof(lines) / sizeof(lines[0])));
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        resp_add_simple(&x->out, lines[i]);
}

static void memory_usage(struct cmd_ctx *x)
{
    long long samples = 5;
    struct db_key k;
    int j;

    for (j = 3; j < x->argc; j++) {
        if (ARG_EQ(x, j, "samples") && j + 1 < x->argc) {
            if (arg_ll(x, j + 1, &samples) != 0)
                return;
            if (samples < 0) {
                reply_syntax(x);
                return;
            }
            j++;
        } else {
            reply_syntax(x);
            return;
        }
    }
    if (!at_owner(x, 2))
        return;
    if (!db_lookup_write(x, x->argv[2].ptr, x->argv[2].len, &k)) {
        resp_add_null(&x->out);
        return;
    }
    resp_add_int(&x->out, (long long)ks_usage(W.arena, k.off, (uint64_t)samples));
}

void memoryCommand(struct cmd_ctx *x)
{
    if (check_sub_arity(x, "memory"))
        return;
    if (ARG_EQ(x, 1, "help")) {
        memory_help(x);
    } else if (ARG_EQ(x, 1, "usage")) {
        memory_usage(x);
    } else if (ARG_EQ(x, 1, "malloc-stats")) {
        /* What Redis replies when not built with jemalloc: true of the arena. */
        resp_add_verbatim(&x->out, "Stats not supported for the current allocator", 46, "txt");
    } else if (ARG_EQ(x, 1, "purge")) {
        /* Freed segments go back to the system at once (region punch). */
        reply_ok(x);
    } else {
        reply_unknown_subcommand(x, "MEMORY");
    }
}
