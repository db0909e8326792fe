/*
 * cmd_info.c - COMMAND INFO, COMMAND LIST and COMMAND GETKEYS: what Redis
 * 7.0 says of each command, and the keys of a full command.
 *
 * Clients and proxies read COMMAND INFO to learn which arguments are keys
 * (cluster clients route by them), which commands write, how to fan a
 * command out (its tips), and ACL tools read its categories; so each entry
 * below says what
 * redis-server 7.0.15 says, word for word, for every command ember has and
 * for every subcommand of a container that ember has (the same ones as
 * COMMAND DOCS: cmd_docs.c).  A command's arity comes from commands.h, a
 * subcommand's from its entry here.  Flags, ACL categories and tips are
 * space-separated words in the order Redis replies them (redis-cli -p
 * <port> command info <name> prints them alike); the key specifications
 * are one string:
 *
 *   spec; spec...      one key spec after the other, in Redis's order
 *   RO RW OW RM access update insert delete not_key incomplete
 *   variable_flags     a spec's flags (replied in this order, whatever
 *                      the order written)
 *   index(N)           begin search: the first key is argument N (the
 *                      command's name is argument 0)
 *   keyword(WORD,N)    begin search: the argument after WORD, looked for
 *                      from argument N on (N < 0: backwards from argc+N)
 *   range(L,S,M)       find keys: lastkey L (>= 0: relative to the first
 *                      key; -1 the last argument, -2 the one before...),
 *                      keystep S, limit M
 *   keynum(I,F,S)      find keys: the key count is argument first+I, the
 *                      keys start at first+F, keystep S
 *   unknown            begin search or find keys that cannot be told
 *   -- notes           Redis's notes on the spec, to the next ';'
 *
 * Fields that Redis derives, this module derives the same way: the first
 * key, last key and key step of COMMAND INFO (its "legacy range": the
 * index/range specs with a key step of 1 that follow each other, or the
 * only spec), and the "movablekeys" flag (some spec outside that range),
 * which the flag strings below therefore leave out.  sintercard is where
 * this matters: its keys are counted, so Redis says 0 0 0 where commands.h
 * keeps 2 -1 1.
 *
 * COMMAND GETKEYS finds keys from the specs as Redis does; when they do
 * not give a valid answer (a key count that is not a strict integer)
 * Redis falls back on its command's own key function, which for every
 * command ember has with a keynum spec reads the count with atoi() and
 * lists the destination (another spec's key) last, without flags: so does
 * generic_keys() here.  SET's spec has variable_flags: its key's flags
 * depend on GET (var_flags()).
 *
 * Entries are parsed each time they are replied, on the stack; nothing is
 * cached.  A malformed key spec string (a bug in this table, which
 * tests/e2e/test_command_info.py would show) is logged and replied as no
 * key specs.
 */
#include "server.h"
#include "cmd_info.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One command's or subcommand's COMMAND INFO, less what commands.h has. */
struct info {
    const char *name;              /* "set"; "client|kill" for a subcommand */
    int arity;                     /* a subcommand's; 0: commands.h's */
    const char *flags;             /* Redis's words, without movablekeys */
    const char *acl;               /* ACL categories, "@write @string @slow" */
    const char *tips;              /* "nondeterministic_output ..." or "" */
    const char *keys;              /* key specs in the notation above; "" */
};

#define CMD(name, flags, acl, tips, keys) { name, 0, flags, acl, tips, keys }
#define SUB(name, arity, flags, acl, tips, keys) { name, arity, flags, acl, tips, keys }

/* In the order of commands.h, each container followed by its subcommands. */
static const struct info infos[] = {
    /* connection */
    CMD("ping", "fast", "@fast @connection",
        "request_policy:all_shards response_policy:all_succeeded", ""),
    CMD("echo", "loading stale fast", "@fast @connection", "", ""),
    CMD("hello", "noscript loading stale fast no_auth allow_busy", "@fast @connection", "", ""),
    CMD("quit", "noscript loading stale fast no_auth allow_busy", "@fast @connection", "", ""),
    CMD("select", "loading stale fast", "@fast @connection", "", ""),
    CMD("auth", "noscript loading stale fast no_auth allow_busy", "@fast @connection", "", ""),
    CMD("client", "", "@slow", "", ""),
    SUB("client|help", 2, "loading stale", "@slow @connection", "", ""),
    SUB("client|id", 2, "noscript loading stale", "@slow @connection", "", ""),
    SUB("client|getname", 2, "noscript loading stale", "@slow @connection", "", ""),
    SUB("client|setname", 3, "noscript loading stale", "@slow @connection", "", ""),
    SUB("client|info", 2, "noscript loading stale", "@slow @connection",
        "nondeterministic_output", ""),
    SUB("client|list", -2, "admin noscript loading stale", "@admin @slow @dangerous @connection",
        "nondeterministic_output", ""),
    SUB("client|kill", -3, "admin noscript loading stale", "@admin @slow @dangerous @connection",
        "", ""),
    SUB("client|no-evict", 3, "admin noscript loading stale", "@admin @slow @dangerous @connection",
        "", ""),
    CMD("reset", "noscript loading stale fast no_auth allow_busy", "@fast @connection", "", ""),
    /* server */
    CMD("dbsize", "readonly fast", "@keyspace @read @fast",
        "request_policy:all_shards response_policy:agg_sum", ""),
    CMD("flushdb", "write", "@keyspace @write @slow @dangerous",
        "request_policy:all_shards response_policy:all_succeeded", ""),
    CMD("flushall", "write", "@keyspace @write @slow @dangerous",
        "request_policy:all_shards response_policy:all_succeeded", ""),
    CMD("time", "loading stale fast", "@fast", "nondeterministic_output", ""),
    CMD("info", "loading stale", "@slow @dangerous",
        "nondeterministic_output request_policy:all_shards response_policy:special", ""),
    CMD("command", "loading stale", "@slow @connection", "nondeterministic_output_order", ""),
    SUB("command|count", 2, "loading stale", "@slow @connection", "", ""),
    SUB("command|docs", -2, "loading stale", "@slow @connection",
        "nondeterministic_output_order", ""),
    SUB("command|getkeys", -4, "loading stale", "@slow @connection", "", ""),
    SUB("command|getkeysandflags", -4, "loading stale", "@slow @connection", "", ""),
    SUB("command|help", 2, "loading stale", "@slow @connection", "", ""),
    SUB("command|info", -2, "loading stale", "@slow @connection",
        "nondeterministic_output_order", ""),
    SUB("command|list", -2, "loading stale", "@slow @connection",
        "nondeterministic_output_order", ""),
    CMD("config", "", "@slow", "", ""),
    SUB("config|get", -3, "admin noscript loading stale", "@admin @slow @dangerous", "", ""),
    SUB("config|set", -4, "admin noscript loading stale", "@admin @slow @dangerous",
        "request_policy:all_nodes response_policy:all_succeeded", ""),
    SUB("config|resetstat", 2, "admin noscript loading stale", "@admin @slow @dangerous", "", ""),
    SUB("config|rewrite", 2, "admin noscript loading stale", "@admin @slow @dangerous", "", ""),
    SUB("config|help", 2, "loading stale", "@slow", "", ""),
    CMD("function", "", "@slow", "", ""),
    SUB("function|delete", 3, "write noscript", "@write @slow @scripting",
        "request_policy:all_shards response_policy:all_succeeded", ""),
    SUB("function|dump", 2, "noscript", "@slow @scripting", "", ""),
    SUB("function|flush", -2, "write noscript", "@write @slow @scripting",
        "request_policy:all_shards response_policy:all_succeeded", ""),
    SUB("function|help", 2, "loading stale", "@slow @scripting", "", ""),
    SUB("function|kill", 2, "noscript allow_busy", "@slow @scripting",
        "request_policy:all_shards response_policy:one_succeeded", ""),
    SUB("function|list", -2, "noscript", "@slow @scripting", "nondeterministic_output_order", ""),
    SUB("function|load", -3, "write denyoom noscript", "@write @slow @scripting",
        "request_policy:all_shards response_policy:all_succeeded", ""),
    SUB("function|restore", -3, "write denyoom noscript", "@write @slow @scripting",
        "request_policy:all_shards response_policy:all_succeeded", ""),
    SUB("function|stats", 2, "noscript allow_busy", "@slow @scripting",
        "nondeterministic_output request_policy:all_shards response_policy:special", ""),
    CMD("debug", "admin noscript loading stale", "@admin @slow @dangerous", "", ""),
    CMD("lastsave", "loading stale fast", "@admin @fast @dangerous", "nondeterministic_output", ""),
    CMD("shutdown", "admin noscript loading stale no_multi allow_busy", "@admin @slow @dangerous",
        "", ""),
    /* strings */
    CMD("get", "readonly fast", "@read @string @fast", "", "RO access index(1) range(0,1,0)"),
    CMD("set", "write denyoom", "@write @string @slow", "",
        "RW access update variable_flags index(1) range(0,1,0) "
        "-- RW and ACCESS due to the optional `GET` argument"),
    CMD("setnx", "write denyoom fast", "@write @string @fast", "",
        "OW insert index(1) range(0,1,0)"),
    CMD("setex", "write denyoom", "@write @string @slow", "", "OW update index(1) range(0,1,0)"),
    CMD("psetex", "write denyoom", "@write @string @slow", "", "OW update index(1) range(0,1,0)"),
    CMD("getset", "write denyoom fast", "@write @string @fast", "",
        "RW access update index(1) range(0,1,0)"),
    CMD("getdel", "write fast", "@write @string @fast", "",
        "RW access delete index(1) range(0,1,0)"),
    CMD("getex", "write fast", "@write @string @fast", "",
        "RW access update index(1) range(0,1,0) "
        "-- RW and UPDATE because it changes the TTL"),
    CMD("mget", "readonly fast", "@read @string @fast", "request_policy:multi_shard",
        "RO access index(1) range(-1,1,0)"),
    CMD("mset", "write denyoom", "@write @string @slow",
        "request_policy:multi_shard response_policy:all_succeeded",
        "OW update index(1) range(-1,2,0)"),
    CMD("msetnx", "write denyoom", "@write @string @slow",
        "request_policy:multi_shard response_policy:agg_min", "OW insert index(1) range(-1,2,0)"),
    CMD("append", "write denyoom fast", "@write @string @fast", "",
        "RW insert index(1) range(0,1,0)"),
    CMD("strlen", "readonly fast", "@read @string @fast", "", "RO index(1) range(0,1,0)"),
    CMD("getrange", "readonly", "@read @string @slow", "", "RO access index(1) range(0,1,0)"),
    CMD("substr", "readonly", "@read @string @slow", "", "RO access index(1) range(0,1,0)"),
    CMD("setrange", "write denyoom", "@write @string @slow", "", "RW update index(1) range(0,1,0)"),
    CMD("incr", "write denyoom fast", "@write @string @fast", "",
        "RW access update index(1) range(0,1,0)"),
    CMD("decr", "write denyoom fast", "@write @string @fast", "",
        "RW access update index(1) range(0,1,0)"),
    CMD("incrby", "write denyoom fast", "@write @string @fast", "",
        "RW access update index(1) range(0,1,0)"),
    CMD("decrby", "write denyoom fast", "@write @string @fast", "",
        "RW access update index(1) range(0,1,0)"),
    CMD("incrbyfloat", "write denyoom fast", "@write @string @fast", "",
        "RW access update index(1) range(0,1,0)"),
    /* keys */
    CMD("del", "write", "@keyspace @write @slow",
        "request_policy:multi_shard response_policy:agg_sum", "RM delete index(1) range(-1,1,0)"),
    CMD("unlink", "write fast", "@keyspace @write @fast",
        "request_policy:multi_shard response_policy:agg_sum", "RM delete index(1) range(-1,1,0)"),
    CMD("exists", "readonly fast", "@keyspace @read @fast",
        "request_policy:multi_shard response_policy:agg_sum", "RO index(1) range(-1,1,0)"),
    CMD("touch", "readonly fast", "@keyspace @read @fast",
        "request_policy:multi_shard response_policy:agg_sum", "RO index(1) range(-1,1,0)"),
    CMD("type", "readonly fast", "@keyspace @read @fast", "", "RO index(1) range(0,1,0)"),
    CMD("expire", "write fast", "@keyspace @write @fast", "", "RW update index(1) range(0,1,0)"),
    CMD("pexpire", "write fast", "@keyspace @write @fast", "", "RW update index(1) range(0,1,0)"),
    CMD("expireat", "write fast", "@keyspace @write @fast", "", "RW update index(1) range(0,1,0)"),
    CMD("pexpireat", "write fast", "@keyspace @write @fast", "", "RW update index(1) range(0,1,0)"),
    CMD("ttl", "readonly fast", "@keyspace @read @fast", "nondeterministic_output",
        "RO access index(1) range(0,1,0)"),
    CMD("pttl", "readonly fast", "@keyspace @read @fast", "nondeterministic_output",
        "RO access index(1) range(0,1,0)"),
    CMD("expiretime", "readonly fast", "@keyspace @read @fast", "",
        "RO access index(1) range(0,1,0)"),
    CMD("pexpiretime", "readonly fast", "@keyspace @read @fast", "",
        "RO access index(1) range(0,1,0)"),
    CMD("persist", "write fast", "@keyspace @write @fast", "", "RW update index(1) range(0,1,0)"),
    CMD("keys", "readonly", "@keyspace @read @slow @dangerous",
        "request_policy:all_shards nondeterministic_output_order", ""),
    CMD("scan", "readonly", "@keyspace @read @slow",
        "nondeterministic_output request_policy:special", ""),
    CMD("randomkey", "readonly", "@keyspace @read @slow",
        "request_policy:all_shards nondeterministic_output", ""),
    CMD("rename", "write", "@keyspace @write @slow", "",
        "RW access delete index(1) range(0,1,0); "
        "OW update index(2) range(0,1,0)"),
    CMD("renamenx", "write fast", "@keyspace @write @fast", "",
        "RW access delete index(1) range(0,1,0); "
        "OW insert index(2) range(0,1,0)"),
    CMD("object", "", "@slow", "", ""),
    SUB("object|encoding", 3, "readonly", "@keyspace @read @slow", "nondeterministic_output",
        "RO index(2) range(0,1,0)"),
    SUB("object|freq", 3, "readonly", "@keyspace @read @slow", "nondeterministic_output",
        "RO index(2) range(0,1,0)"),
    SUB("object|help", 2, "loading stale", "@keyspace @slow", "", ""),
    SUB("object|idletime", 3, "readonly", "@keyspace @read @slow", "nondeterministic_output",
        "RO index(2) range(0,1,0)"),
    SUB("object|refcount", 3, "readonly", "@keyspace @read @slow", "nondeterministic_output",
        "RO index(2) range(0,1,0)"),
    CMD("memory", "", "@slow", "", ""),
    SUB("memory|help", 2, "loading stale", "@slow", "", ""),
    SUB("memory|malloc-stats", 2, "", "@slow",
        "nondeterministic_output request_policy:all_shards response_policy:special", ""),
    SUB("memory|purge", 2, "", "@slow",
        "request_policy:all_shards response_policy:all_succeeded", ""),
    SUB("memory|usage", -3, "readonly", "@read @slow", "", "RO index(2) range(0,1,0)"),
    /* lists */
    CMD("lpush", "write denyoom fast", "@write @list @fast", "", "RW insert index(1) range(0,1,0)"),
    CMD("rpush", "write denyoom fast", "@write @list @fast", "", "RW insert index(1) range(0,1,0)"),
    CMD("lpushx", "write denyoom fast", "@write @list @fast", "",
        "RW insert index(1) range(0,1,0)"),
    CMD("rpushx", "write denyoom fast", "@write @list @fast", "",
        "RW insert index(1) range(0,1,0)"),
    CMD("lpop", "write fast", "@write @list @fast", "", "RW access delete index(1) range(0,1,0)"),
    CMD("rpop", "write fast", "@write @list @fast", "", "RW access delete index(1) range(0,1,0)"),
    CMD("llen", "readonly fast", "@read @list @fast", "", "RO index(1) range(0,1,0)"),
    CMD("lrange", "readonly", "@read @list @slow", "", "RO access index(1) range(0,1,0)"),
    CMD("lindex", "readonly", "@read @list @slow", "", "RO access index(1) range(0,1,0)"),
    CMD("lset", "write denyoom", "@write @list @slow", "", "RW update index(1) range(0,1,0)"),
    CMD("linsert", "write denyoom", "@write @list @slow", "", "RW insert index(1) range(0,1,0)"),
    CMD("lrem", "write", "@write @list @slow", "", "RW delete index(1) range(0,1,0)"),
    CMD("ltrim", "write", "@write @list @slow", "", "RW delete index(1) range(0,1,0)"),
    CMD("lpos", "readonly", "@read @list @slow", "", "RO access index(1) range(0,1,0)"),
    CMD("lmove", "write denyoom", "@write @list @slow", "",
        "RW access delete index(1) range(0,1,0); "
        "RW insert index(2) range(0,1,0)"),
    CMD("rpoplpush", "write denyoom", "@write @list @slow", "",
        "RW access delete index(1) range(0,1,0); "
        "RW insert index(2) range(0,1,0)"),
    CMD("blpop", "write noscript blocking", "@write @list @slow @blocking", "",
        "RW access delete index(1) range(-2,1,0)"),
    CMD("brpop", "write noscript blocking", "@write @list @slow @blocking", "",
        "RW access delete index(1) range(-2,1,0)"),
    CMD("blmove", "write denyoom noscript blocking", "@write @list @slow @blocking", "",
        "RW access delete index(1) range(0,1,0); "
        "RW insert index(2) range(0,1,0)"),
    CMD("brpoplpush", "write denyoom noscript blocking", "@write @list @slow @blocking", "",
        "RW access delete index(1) range(0,1,0); "
        "RW insert index(2) range(0,1,0)"),
    CMD("lmpop", "write", "@write @list @slow", "", "RW access delete index(1) keynum(0,1,1)"),
    CMD("blmpop", "write blocking", "@write @list @slow @blocking", "",
        "RW access delete index(2) keynum(0,1,1)"),
    /* hashes */
    CMD("hset", "write denyoom fast", "@write @hash @fast", "", "RW update index(1) range(0,1,0)"),
    CMD("hsetnx", "write denyoom fast", "@write @hash @fast", "",
        "RW insert index(1) range(0,1,0)"),
    CMD("hget", "readonly fast", "@read @hash @fast", "", "RO access index(1) range(0,1,0)"),
    CMD("hmget", "readonly fast", "@read @hash @fast", "", "RO access index(1) range(0,1,0)"),
    CMD("hmset", "write denyoom fast", "@write @hash @fast", "", "RW update index(1) range(0,1,0)"),
    CMD("hdel", "write fast", "@write @hash @fast", "", "RW delete index(1) range(0,1,0)"),
    CMD("hexists", "readonly fast", "@read @hash @fast", "", "RO index(1) range(0,1,0)"),
    CMD("hlen", "readonly fast", "@read @hash @fast", "", "RO index(1) range(0,1,0)"),
    CMD("hstrlen", "readonly fast", "@read @hash @fast", "", "RO index(1) range(0,1,0)"),
    CMD("hincrby", "write denyoom fast", "@write @hash @fast", "",
        "RW access update index(1) range(0,1,0)"),
    CMD("hincrbyfloat", "write denyoom fast", "@write @hash @fast", "",
        "RW access update index(1) range(0,1,0)"),
    CMD("hkeys", "readonly", "@read @hash @slow", "nondeterministic_output_order",
        "RO access index(1) range(0,1,0)"),
    CMD("hvals", "readonly", "@read @hash @slow", "nondeterministic_output_order",
        "RO access index(1) range(0,1,0)"),
    CMD("hgetall", "readonly", "@read @hash @slow", "nondeterministic_output_order",
        "RO access index(1) range(0,1,0)"),
    CMD("hscan", "readonly", "@read @hash @slow", "nondeterministic_output",
        "RO access index(1) range(0,1,0)"),
    CMD("hrandfield", "readonly", "@read @hash @slow", "nondeterministic_output",
        "RO access index(1) range(0,1,0)"),
    /* sets */
    CMD("sadd", "write denyoom fast", "@write @set @fast", "", "RW insert index(1) range(0,1,0)"),
    CMD("srem", "write fast", "@write @set @fast", "", "RW delete index(1) range(0,1,0)"),
    CMD("smembers", "readonly", "@read @set @slow", "nondeterministic_output_order",
        "RO access index(1) range(0,1,0)"),
    CMD("sismember", "readonly fast", "@read @set @fast", "", "RO index(1) range(0,1,0)"),
    CMD("smismember", "readonly fast", "@read @set @fast", "", "RO access index(1) range(0,1,0)"),
    CMD("scard", "readonly fast", "@read @set @fast", "", "RO index(1) range(0,1,0)"),
    CMD("spop", "write fast", "@write @set @fast", "nondeterministic_output",
        "RW access delete index(1) range(0,1,0)"),
    CMD("srandmember", "readonly", "@read @set @slow", "nondeterministic_output",
        "RO access index(1) range(0,1,0)"),
    CMD("smove", "write fast", "@write @set @fast", "",
        "RW access delete index(1) range(0,1,0); "
        "RW insert index(2) range(0,1,0)"),
    CMD("sinter", "readonly", "@read @set @slow", "nondeterministic_output_order",
        "RO access index(1) range(-1,1,0)"),
    CMD("sintercard", "readonly", "@read @set @slow", "", "RO access index(1) keynum(0,1,1)"),
    CMD("sinterstore", "write denyoom", "@write @set @slow", "",
        "RW update index(1) range(0,1,0); "
        "RO access index(2) range(-1,1,0)"),
    CMD("sunion", "readonly", "@read @set @slow", "nondeterministic_output_order",
        "RO access index(1) range(-1,1,0)"),
    CMD("sunionstore", "write denyoom", "@write @set @slow", "",
        "OW update index(1) range(0,1,0); "
        "RO access index(2) range(-1,1,0)"),
    CMD("sdiff", "readonly", "@read @set @slow", "nondeterministic_output_order",
        "RO access index(1) range(-1,1,0)"),
    CMD("sdiffstore", "write denyoom", "@write @set @slow", "",
        "OW update index(1) range(0,1,0); "
        "RO access index(2) range(-1,1,0)"),
    CMD("sscan", "readonly", "@read @set @slow", "nondeterministic_output",
        "RO access index(1) range(0,1,0)"),
    /* sorted sets */
    CMD("zadd", "write denyoom fast", "@write @sortedset @fast", "",
        "RW update index(1) range(0,1,0)"),
    CMD("zrem", "write fast", "@write @sortedset @fast", "", "RW delete index(1) range(0,1,0)"),
    CMD("zcard", "readonly fast", "@read @sortedset @fast", "", "RO index(1) range(0,1,0)"),
    CMD("zscore", "readonly fast", "@read @sortedset @fast", "", "RO access index(1) range(0,1,0)"),
    CMD("zmscore", "readonly fast", "@read @sortedset @fast", "",
        "RO access index(1) range(0,1,0)"),
    CMD("zincrby", "write denyoom fast", "@write @sortedset @fast", "",
        "RW access update index(1) range(0,1,0)"),
    CMD("zrank", "readonly fast", "@read @sortedset @fast", "", "RO access index(1) range(0,1,0)"),
    CMD("zrevrank", "readonly fast", "@read @sortedset @fast", "",
        "RO access index(1) range(0,1,0)"),
    CMD("zcount", "readonly fast", "@read @sortedset @fast", "", "RO access index(1) range(0,1,0)"),
    CMD("zlexcount", "readonly fast", "@read @sortedset @fast", "",
        "RO access index(1) range(0,1,0)"),
    CMD("zrange", "readonly", "@read @sortedset @slow", "", "RO access index(1) range(0,1,0)"),
    CMD("zrangebyscore", "readonly", "@read @sortedset @slow", "",
        "RO access index(1) range(0,1,0)"),
    CMD("zrevrangebyscore", "readonly", "@read @sortedset @slow", "",
        "RO access index(1) range(0,1,0)"),
    CMD("zrangebylex", "readonly", "@read @sortedset @slow", "", "RO access index(1) range(0,1,0)"),
    CMD("zrevrangebylex", "readonly", "@read @sortedset @slow", "",
        "RO access index(1) range(0,1,0)"),
    CMD("zrevrange", "readonly", "@read @sortedset @slow", "", "RO access index(1) range(0,1,0)"),
    CMD("zpopmin", "write fast", "@write @sortedset @fast", "",
        "RW access delete index(1) range(0,1,0)"),
    CMD("zpopmax", "write fast", "@write @sortedset @fast", "",
        "RW access delete index(1) range(0,1,0)"),
    CMD("zrangestore", "write denyoom", "@write @sortedset @slow", "",
        "OW update index(1) range(0,1,0); "
        "RO access index(2) range(0,1,0)"),
    CMD("zremrangebyrank", "write", "@write @sortedset @slow", "",
        "RW delete index(1) range(0,1,0)"),
    CMD("zremrangebyscore", "write", "@write @sortedset @slow", "",
        "RW delete index(1) range(0,1,0)"),
    CMD("zremrangebylex", "write", "@write @sortedset @slow", "",
        "RW delete index(1) range(0,1,0)"),
    CMD("zscan", "readonly", "@read @sortedset @slow", "nondeterministic_output",
        "RO access index(1) range(0,1,0)"),
    CMD("zrandmember", "readonly", "@read @sortedset @slow", "nondeterministic_output",
        "RO access index(1) range(0,1,0)"),
    CMD("zunionstore", "write denyoom", "@write @sortedset @slow", "",
        "OW update index(1) range(0,1,0); "
        "RO access index(2) keynum(0,1,1)"),
    CMD("zinterstore", "write denyoom", "@write @sortedset @slow", "",
        "OW update index(1) range(0,1,0); "
        "RO access index(2) keynum(0,1,1)"),
    CMD("zdiffstore", "write denyoom", "@write @sortedset @slow", "",
        "OW update index(1) range(0,1,0); "
        "RO access index(2) keynum(0,1,1)"),
    CMD("zunion", "readonly", "@read @sortedset @slow", "", "RO access index(1) keynum(0,1,1)"),
    CMD("zinter", "readonly", "@read @sortedset @slow", "", "RO access index(1) keynum(0,1,1)"),
    CMD("zdiff", "readonly", "@read @sortedset @slow", "", "RO access index(1) keynum(0,1,1)"),
    CMD("zintercard", "readonly", "@read @sortedset @slow", "", "RO access index(1) keynum(0,1,1)"),
    CMD("zmpop", "write", "@write @sortedset @slow", "", "RW access delete index(1) keynum(0,1,1)"),
    CMD("bzpopmin", "write noscript blocking fast", "@write @sortedset @fast @blocking", "",
        "RW access delete index(1) range(-2,1,0)"),
    CMD("bzpopmax", "write noscript blocking fast", "@write @sortedset @fast @blocking", "",
        "RW access delete index(1) range(-2,1,0)"),
    CMD("bzmpop", "write blocking", "@write @sortedset @slow @blocking", "",
        "RW access delete index(2) keynum(0,1,1)"),
};

#define NINFOS (sizeof(infos) / sizeof(infos[0]))

/* ---- the table ---------------------------------------------------------- */

/* The next space-separated word of *s, its length in *len, *s moved past
 * it; NULL at the end. */
static const char *next_word(const char **s, size_t *len)
{
    const char *p = *s;

    while (*p == ' ')
        p++;
    *s = p;
    if (*p == '\0')
        return NULL;
    *len = strcspn(p, " ");
    *s = p + *len;
    return p;
}

static long count_words(const char *s)
{
    size_t len;
    long n = 0;

    while (next_word(&s, &len) != NULL)
        n++;
    return n;
}

/* Do the len bytes at p read lit? */
static int word_is(const char *p, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(p, lit, len) == 0;
}

/* The entry of the command named name (lower case, as commands.h has it),
 * or NULL. */
static const struct info *find(const char *name)
{
    size_t i;

    for (i = 0; i < NINFOS; i++)
        if (strcmp(infos[i].name, name) == 0)
            return &infos[i];
    return NULL;
}

/* Is e a subcommand of the command named name (len bytes)? */
static int is_sub(const struct info *e, const char *name, size_t len)
{
    return strncmp(e->name, name, len) == 0 && e->name[len] == '|';
}

const char *cmd_info_sub(const char *container, const char *sub, size_t len, int *arity)
{
    size_t i, clen = strlen(container);

    for (i = 0; i < NINFOS; i++) {
        const char *n = infos[i].name + clen + 1;
        if (is_sub(&infos[i], container, clen) && strlen(n) == len &&
            strncasecmp(n, sub, len) == 0) {
            *arity = infos[i].arity;
            return n;
        }
    }
    return NULL;
}

static int has_subs(const char *name)
{
    size_t i, len = strlen(name);

    for (i = 0; i < NINFOS; i++)
        if (is_sub(&infos[i], name, len))
            return 1;
    return 0;
}

/* The entry of subcommand sub (len bytes, any case) of the command named
 * container, or NULL. */
static const struct info *find_sub(const char *container, const char *sub, size_t len)
{
    size_t i, clen = strlen(container);

    for (i = 0; i < NINFOS; i++) {
        const char *n = infos[i].name;
        if (is_sub(&infos[i], container, clen) && strlen(n + clen + 1) == len &&
            strncasecmp(n + clen + 1, sub, len) == 0)
            return &infos[i];
    }
    return NULL;
}

/* ---- key specs ---------------------------------------------------------- */

/* A key spec's flags, in the order Redis replies them. */
static const char *const key_flag_names[] = {
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
    "not_key", "incomplete", "variable_flags",
};
#define NKEY_FLAGS    (sizeof(key_flag_names) / sizeof(key_flag_names[0]))
#define KF_RW         (1u << 1)
#define KF_OW         (1u << 2)
#define KF_ACCESS     (1u << 4)
#define KF_UPDATE     (1u << 5)
#define KF_NOT_KEY    (1u << 8)
#define KF_INCOMPLETE (1u << 9)
#define KF_VARIABLE   (1u << 10)

enum { BS_NONE, BS_INDEX, BS_KEYWORD, BS_UNKNOWN };   /* begin search */
enum { FK_NONE, FK_RANGE, FK_KEYNUM, FK_UNKNOWN };    /* find keys */

/* A piece of a table string; len 0: none. */
struct span {
    const char *p;
    int len;
};

struct keyspec {
    unsigned flags;                /* KF_* */
    int bs;                        /* BS_* */
    int pos;                       /* index: the argument; keyword: startfrom */
    struct span keyword;           /* keyword: the word */
    int fk;                        /* FK_* */
    int a, b, c;                   /* range: lastkey keystep limit;
                                      keynum: keynumidx firstkey keystep */
    struct span notes;             /* Redis's notes on the spec, or none */
};

#define MAX_SPECS 8                /* Redis 7.0 has 3 at most (SORT) */

/* Reads count integers at *s: the character open, then the integers
 * separated by ',' and closed by ')'.  0 with *s past them, or -1. */
static int parse_numbers(const char **s, char open, int *out, int count)
{
    const char *p = *s;
    int i;

    if (*p++ != open)
        return -1;
    for (i = 0; i < count; i++) {
        char *end;
        long v = strtol(p, &end, 10);

        if (end == p || v < INT_MIN || v > INT_MAX || *end != (i == count - 1 ? ')' : ','))
            return -1;
        out[i] = (int)v;
        p = end + 1;
    }
    *s = p;
    return 0;
}

/* Reads the word of a spec at *s (a flag, the begin search or the find
 * keys) into k.  0 with *s past it, or -1. */
static int parse_word(struct keyspec *k, const char **s)
{
    const char *p = *s;
    size_t len = strcspn(p, " ;(");
    int v[3];
    unsigned i;

    *s = p + len;
    for (i = 0; i < NKEY_FLAGS; i++)
        if (word_is(p, len, key_flag_names[i])) {
            k->flags |= 1u << i;
            return 0;
        }
    if (word_is(p, len, "unknown") && k->fk == FK_NONE) {
        if (k->bs == BS_NONE)
            k->bs = BS_UNKNOWN;
        else
            k->fk = FK_UNKNOWN;
        return 0;
    }
    if (word_is(p, len, "index") && k->bs == BS_NONE) {
        k->bs = BS_INDEX;
        return parse_numbers(s, '(', &k->pos, 1);
    }
    if (word_is(p, len, "keyword") && k->bs == BS_NONE && **s == '(') {
        const char *w = *s + 1;
        size_t wlen = strcspn(w, ",)");

        if (wlen == 0)
            return -1;
        k->bs = BS_KEYWORD;
        k->keyword.p = w;
        k->keyword.len = (int)wlen;
        *s = w + wlen;
        return parse_numbers(s, ',', &k->pos, 1);
    }
    if ((word_is(p, len, "range") || word_is(p, len, "keynum")) && k->bs != BS_NONE &&
        k->fk == FK_NONE) {
        k->fk = p[0] == 'r' ? FK_RANGE : FK_KEYNUM;
        if (parse_numbers(s, '(', v, 3) != 0)
            return -1;
        k->a = v[0];
        k->b = v[1];
        k->c = v[2];
        return 0;
    }
    return -1;
}

/* Parses s, key specs in the notation above, into ks (MAX_SPECS of them);
 * returns how many, or -1 when s does not read as key specs. */
static int parse_specs(const char *s, struct keyspec *ks)
{
    int n = 0;

    for (;;) {
        struct keyspec *k;

        while (*s == ' ')
            s++;
        if (*s == '\0')
            return n;
        if (n == MAX_SPECS)
            return -1;
        k = &ks[n++];
        memset(k, 0, sizeof(*k));
        while (*s != '\0' && *s != ';') {
            if (*s == ' ') {
                s++;
            } else if (strncmp(s, "-- ", 3) == 0) {
                size_t len = strcspn(s + 3, ";");

                k->notes.p = s + 3;
                while (len > 0 && k->notes.p[len - 1] == ' ')
                    len--;
                k->notes.len = (int)len;
                s += 3 + strcspn(s + 3, ";");
            } else if (parse_word(k, &s) != 0) {
                return -1;
            }
        }
        if (*s == ';')
            s++;
        /* What Redis would refuse to load: no search, a step below 1, a
         * limit on anything but "to the last argument". */
        if (k->bs == BS_NONE || k->fk == FK_NONE || (k->bs == BS_INDEX && k->pos < 1) ||
            (k->fk == FK_RANGE && (k->b < 1 || k->c < 0 || (k->c > 0 && k->a != -1))) ||
            (k->fk == FK_KEYNUM && (k->a < 0 || k->b < 1 || k->c < 1)))
            return -1;
    }
}

/* e's key specs into ks; how many (none when its string is malformed,
 * which is logged). */
static int entry_specs(const struct info *e, struct keyspec *ks)
{
    int n = parse_specs(e->keys, ks);

    if (n < 0) {
        log_warning("COMMAND INFO: the key specs of '%s' do not parse: replied without them",
                    e->name);
        return 0;
    }
    return n;
}

/* COMMAND INFO's first key, last key and step, and whether its keys move. */
struct range {
    int first, last, step;
    int movable;
};

/*
 * The legacy range of key specs, as Redis 7.0 derives it: the only spec
 * when it is an index/range one; otherwise the index/range specs with a
 * step of 1, each starting right after the last key so far (a negative
 * last key, counted from the end, is past any other).  Keys any other spec
 * finds, or an incomplete spec, make them movable.
 */
static struct range legacy_range(const struct keyspec *ks, int n)
{
    struct range r = { 0, 0, 0, 0 };
    int first = INT_MAX, prev = 0, i;
    unsigned last = 0;

    if (n == 1 && ks[0].bs == BS_INDEX && ks[0].fk == FK_RANGE) {
        r.first = ks[0].pos;
        r.last = ks[0].a < 0 ? ks[0].a : ks[0].pos + ks[0].a;
        r.step = ks[0].b;
        r.movable = (ks[0].flags & KF_INCOMPLETE) != 0;
        return r;
    }
    for (i = 0; i < n; i++) {
        const struct keyspec *k = &ks[i];
        int abs;

        if (k->bs != BS_INDEX || k->fk != FK_RANGE || k->b != 1 ||
            (prev != 0 && prev != k->pos - 1)) {
            r.movable = 1;
            continue;
        }
        if (k->flags & KF_INCOMPLETE)
            r.movable = 1;
        if (k->pos < first)
            first = k->pos;
        abs = k->a < 0 ? k->a : k->pos + k->a;
        if ((unsigned)abs > last)
            last = (unsigned)abs;
        prev = (int)last;
    }
    if (first != INT_MAX) {
        r.first = first;
        r.last = (int)last;
        r.step = 1;
    }
    return r;
}

/* ---- COMMAND INFO ------------------------------------------------------- */

/* The words of s as a set: simple strings, or bulk strings (bulk set). */
static void reply_words(struct resp_out *o, const char *s, int bulk)
{
    const char *w;
    size_t len;

    resp_add_set(o, count_words(s));
    while ((w = next_word(&s, &len)) != NULL) {
        if (bulk)
            resp_add_bulk(o, w, len);
        else
            resp_add_simple_len(o, w, len);
    }
}

/* A command's flags: the words of s, with movablekeys where Redis lists
 * it, last but for allow_busy. */
static void reply_flags(struct resp_out *o, const char *s, int movable)
{
    const char *w;
    size_t len;

    resp_add_set(o, count_words(s) + (movable != 0));
    while ((w = next_word(&s, &len)) != NULL) {
        if (movable && word_is(w, len, "allow_busy")) {
            resp_add_simple(o, "movablekeys");
            movable = 0;
        }
        resp_add_simple_len(o, w, len);
    }
    if (movable)
        resp_add_simple(o, "movablekeys");
}

static void reply_key_flags(struct resp_out *o, unsigned flags)
{
    unsigned i;
    long n = 0;

    for (i = 0; i < NKEY_FLAGS; i++)
        n += (flags >> i) & 1;
    resp_add_set(o, n);
    for (i = 0; i < NKEY_FLAGS; i++)
        if (flags & (1u << i))
            resp_add_simple(o, key_flag_names[i]);
}

/* {"type": type, "spec": {...}}: the spec's map is the caller's to add,
 * of n fields. */
static void reply_search(struct resp_out *o, const char *field, const char *type, long n)
{
    resp_add_bulk_cstr(o, field);
    resp_add_map(o, 2);
    resp_add_bulk_cstr(o, "type");
    resp_add_bulk_cstr(o, type);
    resp_add_bulk_cstr(o, "spec");
    resp_add_map(o, n);
}

static void reply_int_field(struct resp_out *o, const char *name, long long v)
{
    resp_add_bulk_cstr(o, name);
    resp_add_int(o, v);
}

/* The key specs: Redis 7.0 replies them as a set of maps. */
static void reply_specs(struct resp_out *o, const struct keyspec *ks, int n)
{
    int i;

    resp_add_set(o, n);
    for (i = 0; i < n; i++) {
        const struct keyspec *k = &ks[i];

        resp_add_map(o, 3 + (k->notes.len > 0));
        if (k->notes.len > 0) {
            resp_add_bulk_cstr(o, "notes");
            resp_add_bulk(o, k->notes.p, (size_t)k->notes.len);
        }
        resp_add_bulk_cstr(o, "flags");
        reply_key_flags(o, k->flags);
        if (k->bs == BS_INDEX) {
            reply_search(o, "begin_search", "index", 1);
            reply_int_field(o, "index", k->pos);
        } else if (k->bs == BS_KEYWORD) {
            reply_search(o, "begin_search", "keyword", 2);
            resp_add_bulk_cstr(o, "keyword");
            resp_add_bulk(o, k->keyword.p, (size_t)k->keyword.len);
            reply_int_field(o, "startfrom", k->pos);
        } else {
            reply_search(o, "begin_search", "unknown", 0);
        }
        if (k->fk == FK_RANGE) {
            reply_search(o, "find_keys", "range", 3);
            reply_int_field(o, "lastkey", k->a);
            reply_int_field(o, "keystep", k->b);
            reply_int_field(o, "limit", k->c);
        } else if (k->fk == FK_KEYNUM) {
            reply_search(o, "find_keys", "keynum", 3);
            reply_int_field(o, "keynumidx", k->a);
            reply_int_field(o, "firstkey", k->b);
            reply_int_field(o, "keystep", k->c);
        } else {
            reply_search(o, "find_keys", "unknown", 0);
        }
    }
}

/*
 * The ten fields of e (NULL: c has no entry), the entry of command c or of
 * one of its subcommands; a command's subcommands follow as entries.
 */
static void reply_entry(struct resp_out *o, const struct info *e, const struct cmd *c)
{
    struct keyspec ks[MAX_SPECS];
    struct range r = { c->first_key, c->last_key, c->step, 0 };
    int n = 0, sub = e != NULL && strchr(e->name, '|') != NULL;
    size_t i, len = strlen(c->name);
    long nsubs = 0;

    if (e != NULL) {
        n = entry_specs(e, ks);
        r = legacy_range(ks, n);
    }
    resp_add_array(o, 10);
    resp_add_bulk_cstr(o, e != NULL ? e->name : c->name);
    resp_add_int(o, sub ? e->arity : c->arity);
    reply_flags(o, e != NULL ? e->flags : "", r.movable);
    resp_add_int(o, r.first);
    resp_add_int(o, r.last);
    resp_add_int(o, r.step);
    reply_words(o, e != NULL ? e->acl : "", 0);
    reply_words(o, e != NULL ? e->tips : "", 1);
    reply_specs(o, ks, n);
    for (i = 0; !sub && i < NINFOS; i++)
        nsubs += is_sub(&infos[i], c->name, len);
    if (nsubs == 0) {
        resp_add_set(o, 0);        /* as Redis: an empty set, else an array */
        return;
    }
    resp_add_array(o, nsubs);
    for (i = 0; i < NINFOS; i++)
        if (is_sub(&infos[i], c->name, len))
            reply_entry(o, &infos[i], c);
}

void cmd_info_reply(struct resp_out *out, const struct cmd *c)
{
    reply_entry(out, find(c->name), c);
}

int cmd_info_reply_sub(struct resp_out *out, const char *name, size_t len)
{
    const char *bar = memchr(name, '|', len), *sub;
    const struct cmd *c;
    const struct info *e;
    size_t sublen;

    if (bar == NULL)
        return 0;
    sub = bar + 1;
    sublen = len - (size_t)(sub - name);
    if (memchr(sub, '|', sublen) != NULL)
        return 0;
    c = cmd_lookup(name, (size_t)(bar - name));
    if (c == NULL || (c->flags & CMD_INTERNAL) || (e = find_sub(c->name, sub, sublen)) == NULL)
        return 0;
    reply_entry(out, e, c);
    return 1;
}

/* ---- COMMAND LIST ------------------------------------------------------- */

int cmd_info_filter_parse(struct cmd_info_filter *f, int argc, const struct resp_arg *argv)
{
    f->type = CMD_INFO_ALL;
    f->arg = NULL;
    f->len = 0;
    if (argc == 0)
        return 0;
    if (argc != 3 || !util_strcaseeq(argv[0].ptr, argv[0].len, "filterby"))
        return -1;
    if (util_strcaseeq(argv[1].ptr, argv[1].len, "module"))
        f->type = CMD_INFO_MODULE;
    else if (util_strcaseeq(argv[1].ptr, argv[1].len, "aclcat"))
        f->type = CMD_INFO_ACLCAT;
    else if (util_strcaseeq(argv[1].ptr, argv[1].len, "pattern"))
        f->type = CMD_INFO_PATTERN;
    else
        return -1;
    f->arg = argv[2].ptr;
    f->len = argv[2].len;
    return 0;
}

/* Does the command or subcommand named name, of ACL categories acl, pass
 * f?  A category is named without its '@', in any case; one that no
 * command has (Redis: no such category) lets none pass. */
static int passes(const struct cmd_info_filter *f, const char *name, const char *acl)
{
    const char *w;
    size_t len;

    switch (f->type) {
    case CMD_INFO_ALL:
        return 1;
    case CMD_INFO_ACLCAT:
        while ((w = next_word(&acl, &len)) != NULL)
            if (len == f->len + 1 && w[0] == '@' && strncasecmp(w + 1, f->arg, f->len) == 0)
                return 1;
        return 0;
    case CMD_INFO_PATTERN:
        return util_glob_match(f->arg, f->len, name, strlen(name), 1);
    default:
        return 0;                  /* MODULE: ember loads none */
    }
}

long cmd_info_list(struct resp_out *out, const struct cmd *c, const struct cmd_info_filter *f)
{
    const struct info *e = find(c->name);
    size_t i, len = strlen(c->name);
    long n = 0;

    if (passes(f, c->name, e != NULL ? e->acl : "")) {
        resp_add_bulk_cstr(out, c->name);
        n++;
    }
    for (i = 0; i < NINFOS; i++)
        if (is_sub(&infos[i], c->name, len) && passes(f, infos[i].name, infos[i].acl)) {
            resp_add_bulk_cstr(out, infos[i].name);
            n++;
        }
    return n;
}

/* ---- COMMAND GETKEYS ---------------------------------------------------- */

/* Where found keys go: counted only (o NULL), or replied. */
struct sink {
    struct resp_out *o;            /* NULL: count only */
    const struct resp_arg *argv;   /* the full command */
    int with_flags;                /* GETKEYSANDFLAGS */
};

static void emit(const struct sink *k, int pos, unsigned flags)
{
    if (k->o == NULL)
        return;
    if (k->with_flags)
        resp_add_array(k->o, 2);
    resp_add_bulk(k->o, k->argv[pos].ptr, k->argv[pos].len);
    if (k->with_flags)
        reply_key_flags(k->o, flags);
}

/* The flags of a key whose spec says variable_flags: SET's, the only such
 * command ember has, depend on whether GET is among its options. */
static unsigned var_flags(const char *name, unsigned flags, int argc, const struct resp_arg *argv)
{
    int i;

    if (strcmp(name, "set") != 0)
        return flags;
    for (i = 3; i < argc; i++)
        if (util_strcaseeq(argv[i].ptr, argv[i].len, "get"))
            return KF_RW | KF_ACCESS | KF_UPDATE;
    return KF_OW | KF_UPDATE;
}

/* Where a keyword search finds the first key: after the keyword, or 0. */
static int keyword_search(const struct keyspec *s, int argc, const struct resp_arg *argv)
{
    int i;

    if (s->pos > 0) {
        for (i = s->pos; i < argc - 1; i++)
            if (argv[i].len == (size_t)s->keyword.len &&
                strncasecmp(argv[i].ptr, s->keyword.p, argv[i].len) == 0)
                return i + 1;
    } else {
        for (i = argc + s->pos; i > 1 && i < argc; i--)
            if (argv[i].len == (size_t)s->keyword.len &&
                strncasecmp(argv[i].ptr, s->keyword.p, argv[i].len) == 0)
                return i + 1;
    }
    return 0;
}

/*
 * The keys of the full command argv (argc words) that the specs ks of the
 * entry named name find, each passed to k: how many, or -1 where Redis
 * takes the specs to give no valid answer (a key past the arguments, a key
 * count that is no integer or is negative, an incomplete spec).
 */
static int spec_keys(const struct keyspec *ks, int n, const char *name, int argc,
                     const struct resp_arg *argv, const struct sink *k)
{
    int i, count = 0;

    for (i = 0; i < n; i++) {
        const struct keyspec *s = &ks[i];
        unsigned flags = s->flags & KF_VARIABLE ? var_flags(name, s->flags, argc, argv) : s->flags;
        long long first, last, step, j, nkeys;

        if (s->flags & KF_NOT_KEY)
            continue;
        if (s->bs == BS_INDEX) {
            first = s->pos;
        } else if (s->bs == BS_KEYWORD) {
            if ((first = keyword_search(s, argc, argv)) == 0)
                continue;          /* no keyword, no key */
        } else {
            return -1;
        }
        if (s->fk == FK_RANGE) {
            step = s->b;
            if (s->a >= 0)
                last = first + s->a;
            else if (s->c == 0)
                last = argc + s->a;
            else
                last = first + (argc - first) / s->c + s->a;
        } else if (s->fk == FK_KEYNUM) {
            step = s->c;
            if (first + s->a >= argc ||
                !util_str2ll(argv[first + s->a].ptr, argv[first + s->a].len, &nkeys) ||
                nkeys < 0)
                return -1;
            first += s->b;
            last = first + (int)nkeys - 1;   /* Redis counts in an int */
        } else {
            return -1;
        }
        if (last >= argc || last < first || first >= argc)
            return -1;
        for (j = first; j <= last; j += step) {
            emit(k, (int)j, flags);
            count++;
        }
        if (s->flags & KF_INCOMPLETE)
            return -1;
    }
    return count;
}

/* The int atoi() reads from a: blanks, a sign, digits; a number past
 * long's range saturates (strtol), then wraps to int as glibc's does. */
static int atoi_like(const struct resp_arg *a)
{
    unsigned long long v = 0, limit = (unsigned long long)LONG_MAX;
    size_t i = 0;
    int neg = 0;

    while (i < a->len && isspace((unsigned char)a->ptr[i]))
        i++;
    if (i < a->len && (a->ptr[i] == '+' || a->ptr[i] == '-'))
        neg = a->ptr[i++] == '-';
    if (neg)
        limit++;
    for (; i < a->len && isdigit((unsigned char)a->ptr[i]); i++) {
        unsigned d = (unsigned)(a->ptr[i] - '0');
        v = v > (limit - d) / 10 ? limit : v * 10 + d;
    }
    if (neg)
        return v > (unsigned long long)LONG_MAX ? (int)LONG_MIN : (int)-(long)v;
    return (int)(long)v;
}

/*
 * The keys as Redis's own key function finds them for a command with a
 * keynum spec, when the specs give no valid answer: the count read as
 * atoi() reads it, the keys it counts, then the key of another index spec
 * (a destination), all without flags.  None when the count is below 1 or
 * more than the arguments hold, or the command has no keynum spec.
 */
static int generic_keys(const struct keyspec *ks, int n, int argc, const struct resp_arg *argv,
                        const struct sink *k)
{
    const struct keyspec *num = NULL;
    int store = 0, first, count, i;

    for (i = 0; i < n; i++) {
        if (ks[i].bs == BS_INDEX && ks[i].fk == FK_KEYNUM && num == NULL)
            num = &ks[i];
        else if (ks[i].bs == BS_INDEX && store == 0)
            store = ks[i].pos;
    }
    if (num == NULL || num->pos + num->a >= argc)
        return 0;
    count = atoi_like(&argv[num->pos + num->a]);
    first = num->pos + num->b;
    if (count < 1 || count > (argc - first) / num->c)
        return 0;
    for (i = 0; i < count; i++)
        emit(k, first + i * num->c, 0);
    if (store != 0)
        emit(k, store, 0);
    return count + (store != 0);
}

void cmd_info_getkeys(struct resp_out *out, int argc, const struct resp_arg *argv,
                      int with_flags)
{
    const struct cmd *c = cmd_lookup(argv[0].ptr, argv[0].len);
    const struct info *e;
    struct keyspec ks[MAX_SPECS];
    struct sink k = { NULL, argv, with_flags };
    int n = 0, arity, i, nkeys, generic = 0;

    if (c == NULL || (c->flags & CMD_INTERNAL)) {
        resp_add_error(out, "ERR Invalid command specified");
        return;
    }
    e = find(c->name);
    arity = c->arity;
    if (e != NULL && has_subs(c->name)) {          /* argc >= 2: a subcommand */
        if ((e = find_sub(c->name, argv[1].ptr, argv[1].len)) == NULL) {
            resp_add_error(out, "ERR Invalid command specified");
            return;
        }
        arity = e->arity;
    }
    if (e != NULL) {
        n = entry_specs(e, ks);
    } else if (c->first_key > 0) {                 /* no entry: commands.h's keys */
        memset(&ks[0], 0, sizeof(ks[0]));
        ks[0].bs = BS_INDEX;
        ks[0].pos = c->first_key;
        ks[0].fk = FK_RANGE;
        ks[0].a = c->last_key < 0 ? c->last_key : c->last_key - c->first_key;
        ks[0].b = c->step;
        n = 1;
    }
    for (i = 0; i < n && (ks[i].flags & KF_NOT_KEY); i++)
        ;
    if (i == n) {
        resp_add_error(out, "ERR The command has no key arguments");
        return;
    }
    if ((arity > 0 && argc != arity) || (arity < 0 && argc < -arity)) {
        resp_add_error(out, "ERR Invalid number of arguments specified for command");
        return;
    }
    nkeys = spec_keys(ks, n, e != NULL ? e->name : c->name, argc, argv, &k);
    if (nkeys < 0) {
        generic = 1;
        nkeys = generic_keys(ks, n, argc, argv, &k);
    }
    if (nkeys == 0) {
        resp_add_error(out, "ERR Invalid arguments specified for command");
        return;
    }
    resp_add_array(out, nkeys);
    k.o = out;
    if (generic)
        generic_keys(ks, n, argc, argv, &k);
    else
        spec_keys(ks, n, e != NULL ? e->name : c->name, argc, argv, &k);
}
