/*
 * cmd_docs.c - COMMAND DOCS: every command's documentation, as Redis 7.0
 * gives it.
 *
 * redis-cli 7.0 builds `help <command>` and its inline hints from COMMAND
 * DOCS: the summary, since and group of each command and subcommand, and
 * the tree of its arguments, which it renders as the syntax line ("key
 * value [NX|XX] [GET] ...").  So that redis-cli helps the same against
 * ember as against redis-server 7.0.15, each entry below says what Redis
 * says: the summary word for word, and every argument with its name, type,
 * token, flags and the version that added it.  A container (CLIENT,
 * CONFIG...) lists the subcommands ember has, each with its own entry
 * ("client|kill"); one that ember knows but cannot serve keeps Redis's
 * entry (FUNCTION LOAD: ember takes its syntax and answers that it has no
 * scripting engine).  Where ember accepts less than Redis, its entry says
 * what ember accepts; tests/e2e/test_command_docs.py compares every entry
 * with redis-server's and lists those differences with their reasons.
 *
 * The arguments of a command are one string, in a syntax close to the help
 * line that a reader can check against `redis-cli help`:
 *
 *   value            an argument of type string; key:key, count:integer...
 *                    give the type (string integer double key pattern
 *                    unix-time); a name with other characters is quoted:
 *                    'ip:port'
 *   NX               an upper-case word is a pure token (its name: nx)
 *   [ ... ]          optional
 *   ( ... )          grouping only (a single argument stays itself)
 *   a|b|c            inside [ ] or ( ): one of them
 *   EX seconds       inside [ ], ( ) or a one-of: the token of the argument
 *                    that follows it; a token before two arguments or more
 *                    ([LIMIT offset count]) is the token of their block
 *   (a b)  {a}       a block of arguments that go together; { } makes one
 *                    even of a single argument
 *   x...             multiple; [TOKEN x]... repeats the token as well
 *                    (multiple_token), [TOKEN x...] does not
 *   name=x           names x; otherwise a one-of or a block is named as
 *                    Redis names them, its members' names joined by '_'
 *   x@6.2.0          the version that added x; x!2.8.12 deprecated since
 *
 * A command's since, group and complexity come from the command table
 * (commands.h); a subcommand's since and complexity from its entry here,
 * its group from its container.  The summaries are this table's, not
 * commands.h's (worded as Redis 7.2 words them), which serve only a
 * command without an entry here.  Not given: key_spec_index (ember's
 * COMMAND INFO has no key specs for it to point at) and the history notes.
 *
 * An entry's arguments are parsed each time it is replied, into a small
 * tree on the stack: nothing is allocated, nothing is cached.  A malformed
 * string (a bug in this table, which the e2e test would show) is logged and
 * its command replied without arguments.
 */
#include "server.h"
#include "cmd_docs.h"
#include "log.h"

#include <string.h>

/* One command's or subcommand's documentation. */
struct doc {
    const char *name;              /* "set"; "client|kill" for a subcommand */
    const char *summary;           /* Redis 7.0's words: redis-cli prints them */
    const char *args;              /* the syntax above; "" when there are none */
    const char *since;             /* NULL: the command table's; a subcommand */
    const char *complexity;        /* ...has its own of both */
    const char *deprecated_since;  /* a deprecated command: since when, */
    const char *replaced_by;       /* ...and what replaces it */
    unsigned syscmd;               /* Redis's "syscmd" doc flag */
};

/* A command; a subcommand (it has its own since and complexity); a
 * deprecated command; a command that Redis flags "syscmd". */
#define CMD(name, summary, args) { name, summary, args, NULL, NULL, NULL, NULL, 0 }
#define SUB(name, summary, args, since, complexity) \
    { name, summary, args, since, complexity, NULL, NULL, 0 }
#define DEPRECATED(name, summary, args, since, replaced_by) \
    { name, summary, args, NULL, NULL, since, replaced_by, 0 }
#define SYSCMD(name, summary, args) { name, summary, args, NULL, NULL, NULL, NULL, 1 }

/* In the order of commands.h, each container followed by its subcommands. */
static const struct doc docs[] = {
    CMD("ping", "Ping the server", "[message]"),
    CMD("echo", "Echo the given string", "message"),
    CMD("hello", "Handshake with Redis",
        "arguments=[protover:integer [AUTH username password] [SETNAME clientname]]"),
    CMD("quit", "Close the connection", ""),
    CMD("select", "Change the selected database for the current connection", "index:integer"),
    CMD("auth", "Authenticate to the server", "[username]@6.0.0 password"),
    CMD("client", "A container for client connection commands", ""),
    SUB("client|help", "Show helpful text about the different subcommands", "", "5.0.0", "O(1)"),
    SUB("client|id", "Returns the client ID for the current connection", "", "5.0.0", "O(1)"),
    SUB("client|getname", "Get the current connection name", "", "2.6.9", "O(1)"),
    SUB("client|setname", "Set the current connection name", "connection-name", "2.6.9", "O(1)"),
    SUB("client|info", "Returns information about the current client connection.",
        "", "6.2.0", "O(1)"),
    SUB("client|list", "Get the list of client connections",
        "[TYPE (NORMAL|MASTER|REPLICA|PUBSUB)]@5.0.0 id=[ID {client-id:integer...}]@6.2.0",
        "2.4.0", "O(N) where N is the number of client connections"),
    SUB("client|kill", "Kill the connection of a client",
        "filter=('ip:port'!2.8.12|"
        "new-format=([ID client-id:integer]@2.8.12|"
        "normal_master_slave_pubsub=[TYPE (NORMAL|MASTER@3.2.0|SLAVE|REPLICA@5.0.0|PUBSUB)]@2.8.12|"
        "[USER username]|[ADDR 'ip:port']|[LADDR 'ip:port']@6.2.0|[SKIPME yes/no])...)",
        "2.4.0", "O(N) where N is the number of client connections"),
    SUB("client|no-evict", "Set client eviction mode for the current connection",
        "enabled=(ON|OFF)", "7.0.0", "O(1)"),
    CMD("reset", "Reset the connection", ""),
    CMD("dbsize", "Return the number of keys in the selected database", ""),
    CMD("flushdb", "Remove all keys from the current database", "async=[ASYNC@4.0.0|SYNC@6.2.0]"),
    CMD("flushall", "Remove all keys from all databases", "async=[ASYNC@4.0.0|SYNC@6.2.0]"),
    CMD("time", "Return the current server time", ""),
    CMD("info", "Get information and statistics about the server", "[section...]"),
    CMD("command", "Get array of Redis command details", ""),
    SUB("command|count", "Get total number of Redis commands", "", "2.8.13", "O(1)"),
    SUB("command|docs", "Get array of specific Redis command documentation",
        "[command-name...]", "7.0.0", "O(N) where N is the number of commands to look up"),
    SUB("command|getkeys", "Extract keys given a full Redis command",
        "", "2.8.13", "O(N) where N is the number of arguments to the command"),
    SUB("command|getkeysandflags", "Extract keys and access flags given a full Redis command",
        "", "7.0.0", "O(N) where N is the number of arguments to the command"),
    SUB("command|help", "Show helpful text about the different subcommands", "", "5.0.0", "O(1)"),
    SUB("command|info", "Get array of specific Redis command details, or all when no argument is "
        "given.",
        "[command-name...]", "2.8.13", "O(N) where N is the number of commands to look up"),
    SUB("command|list", "Get an array of Redis command names",
        "filterby=[FILTERBY (MODULE module-name|ACLCAT category|PATTERN pattern:pattern)]",
        "7.0.0", "O(N) where N is the total number of Redis commands"),
    CMD("config", "A container for server configuration commands", ""),
    SUB("config|get", "Get the values of configuration parameters",
        "{parameter}...",
        "2.0.0", "O(N) when N is the number of configuration parameters provided"),
    SUB("config|set", "Set configuration parameters to the given values",
        "(parameter value)...",
        "2.0.0", "O(N) when N is the number of configuration parameters provided"),
    SUB("config|resetstat", "Reset the stats returned by INFO", "", "2.0.0", "O(1)"),
    SUB("config|rewrite", "Rewrite the configuration file with the in memory configuration",
        "", "2.8.0", "O(1)"),
    SUB("config|help", "Show helpful text about the different subcommands", "", "5.0.0", "O(1)"),
    CMD("function", "A container for function commands", ""),
    SUB("function|delete", "Delete a function by name", "library-name", "7.0.0", "O(1)"),
    SUB("function|dump", "Dump all functions into a serialized binary payload",
        "", "7.0.0", "O(N) where N is the number of functions"),
    SUB("function|flush", "Deleting all functions",
        "async=[ASYNC|SYNC]", "7.0.0", "O(N) where N is the number of functions deleted"),
    SUB("function|help", "Show helpful text about the different subcommands", "", "7.0.0", "O(1)"),
    SUB("function|kill", "Kill the function currently in execution.", "", "7.0.0", "O(1)"),
    SUB("function|list", "List information about all the functions",
        "[LIBRARYNAME library-name-pattern] [WITHCODE]",
        "7.0.0", "O(N) where N is the number of functions"),
    SUB("function|load", "Create a function with the given arguments (name, code, description)",
        "[REPLACE] function-code", "7.0.0", "O(1) (considering compilation time is redundant)"),
    SUB("function|restore", "Restore all the functions on the given payload",
        "serialized-value policy=[FLUSH|APPEND|REPLACE]",
        "7.0.0", "O(N) where N is the number of functions on the payload"),
    SUB("function|stats", "Return information about the function currently running (name, "
        "description, duration)",
        "", "7.0.0", "O(1)"),
    SYSCMD("debug", "A container for debugging commands", ""),
    CMD("lastsave", "Get the UNIX time stamp of the last successful save to disk", ""),
    CMD("shutdown", "Synchronously save the dataset to disk and then shut down the server",
        "[NOSAVE|SAVE] [NOW]@7.0.0 [FORCE]@7.0.0 [ABORT]@7.0.0"),
    CMD("get", "Get the value of a key", "key:key"),
    CMD("set", "Set the string value of a key",
        "key:key value condition=[NX|XX]@2.6.12 [GET]@6.2.0 "
        "expiration=[EX seconds:integer@2.6.12|PX milliseconds:integer@2.6.12|"
        "EXAT unix-time-seconds:unix-time@6.2.0|PXAT unix-time-milliseconds:unix-time@6.2.0|"
        "KEEPTTL@6.0.0]"),
    CMD("setnx", "Set the value of a key, only if the key does not exist", "key:key value"),
    CMD("setex", "Set the value and expiration of a key", "key:key seconds:integer value"),
    CMD("psetex", "Set the value and expiration in milliseconds of a key",
        "key:key milliseconds:integer value"),
    DEPRECATED("getset", "Set the string value of a key and return its old value",
        "key:key value", "6.2.0", "`SET` with the `!GET` argument"),
    CMD("getdel", "Get the value of a key and delete the key", "key:key"),
    CMD("getex", "Get the value of a key and optionally set its expiration",
        "key:key expiration=[EX seconds:integer|PX milliseconds:integer|"
        "EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|PERSIST]"),
    CMD("mget", "Get the values of all the given keys", "key:key..."),
    CMD("mset", "Set multiple keys to multiple values", "(key:key value)..."),
    CMD("msetnx", "Set multiple keys to multiple values, only if none of the keys exist",
        "(key:key value)..."),
    CMD("append", "Append a value to a key", "key:key value"),
    CMD("strlen", "Get the length of the value stored in a key", "key:key"),
    CMD("getrange", "Get a substring of the string stored at a key",
        "key:key start:integer end:integer"),
    DEPRECATED("substr", "Get a substring of the string stored at a key",
        "key:key start:integer end:integer", "2.0.0", "`GETRANGE`"),
    CMD("setrange", "Overwrite part of a string at key starting at the specified offset",
        "key:key offset:integer value"),
    CMD("incr", "Increment the integer value of a key by one", "key:key"),
    CMD("decr", "Decrement the integer value of a key by one", "key:key"),
    CMD("incrby", "Increment the integer value of a key by the given amount",
        "key:key increment:integer"),
    CMD("decrby", "Decrement the integer value of a key by the given number",
        "key:key decrement:integer"),
    CMD("incrbyfloat", "Increment the float value of a key by the given amount",
        "key:key increment:double"),
    CMD("del", "Delete a key", "key:key..."),
    CMD("unlink", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
        "but non blocking.",
        "key:key..."),
    CMD("exists", "Determine if a key exists", "key:key..."),
    CMD("touch", "Alters the last access time of a key(s). Returns the number of existing keys "
        "specified.",
        "key:key..."),
    CMD("type", "Determine the type stored at key", "key:key"),
    CMD("expire", "Set a key's time to live in seconds",
        "key:key seconds:integer condition=[NX|XX|GT|LT]@7.0.0"),
    CMD("pexpire", "Set a key's time to live in milliseconds",
        "key:key milliseconds:integer condition=[NX|XX|GT|LT]@7.0.0"),
    CMD("expireat", "Set the expiration for a key as a UNIX timestamp",
        "key:key unix-time-seconds:unix-time condition=[NX|XX|GT|LT]@7.0.0"),
    CMD("pexpireat", "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        "key:key unix-time-milliseconds:unix-time condition=[NX|XX|GT|LT]@7.0.0"),
    CMD("ttl", "Get the time to live for a key in seconds", "key:key"),
    CMD("pttl", "Get the time to live for a key in milliseconds", "key:key"),
    CMD("expiretime", "Get the expiration Unix timestamp for a key", "key:key"),
    CMD("pexpiretime", "Get the expiration Unix timestamp for a key in milliseconds", "key:key"),
    CMD("persist", "Remove the expiration from a key", "key:key"),
    CMD("keys", "Find all keys matching the given pattern", "pattern:pattern"),
    CMD("scan", "Incrementally iterate the keys space",
        "cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]@6.0.0"),
    CMD("randomkey", "Return a random key from the keyspace", ""),
    CMD("rename", "Rename a key", "key:key newkey:key"),
    CMD("renamenx", "Rename a key, only if the new key does not exist", "key:key newkey:key"),
    CMD("object", "A container for object introspection commands", ""),
    SUB("object|encoding", "Inspect the internal encoding of a Redis object",
        "key:key", "2.2.3", "O(1)"),
    SUB("object|freq", "Get the logarithmic access frequency counter of a Redis object",
        "key:key", "4.0.0", "O(1)"),
    SUB("object|help", "Show helpful text about the different subcommands", "", "6.2.0", "O(1)"),
    SUB("object|idletime", "Get the time since a Redis object was last accessed",
        "key:key", "2.2.3", "O(1)"),
    SUB("object|refcount", "Get the number of references to the value of the key",
        "key:key", "2.2.3", "O(1)"),
    CMD("memory", "A container for memory diagnostics commands", ""),
    SUB("memory|help", "Show helpful text about the different subcommands", "", "4.0.0", "O(1)"),
    SUB("memory|malloc-stats", "Show allocator internal stats",
        "", "4.0.0", "Depends on how much memory is allocated, could be slow"),
    SUB("memory|purge", "Ask the allocator to release memory",
        "", "4.0.0", "Depends on how much memory is allocated, could be slow"),
    SUB("memory|usage", "Estimate the memory usage of a key",
        "key:key [SAMPLES count:integer]", "4.0.0", "O(N) where N is the number of samples."),
    CMD("lpush", "Prepend one or multiple elements to a list", "key:key element..."),
    CMD("rpush", "Append one or multiple elements to a list", "key:key element..."),
    CMD("lpushx", "Prepend an element to a list, only if the list exists", "key:key element..."),
    CMD("rpushx", "Append an element to a list, only if the list exists", "key:key element..."),
    CMD("lpop", "Remove and get the first elements in a list", "key:key [count:integer]@6.2.0"),
    CMD("rpop", "Remove and get the last elements in a list", "key:key [count:integer]@6.2.0"),
    CMD("llen", "Get the length of a list", "key:key"),
    CMD("lrange", "Get a range of elements from a list", "key:key start:integer stop:integer"),
    CMD("lindex", "Get an element from a list by its index", "key:key index:integer"),
    CMD("lset", "Set the value of an element in a list by its index",
        "key:key index:integer element"),
    CMD("linsert", "Insert an element before or after another element in a list",
        "key:key where=(BEFORE|AFTER) pivot element"),
    CMD("lrem", "Remove elements from a list", "key:key count:integer element"),
    CMD("ltrim", "Trim a list to the specified range", "key:key start:integer stop:integer"),
    CMD("lpos", "Return the index of matching elements on a list",
        "key:key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]"),
    CMD("lmove", "Pop an element from a list, push it to another list and return it",
        "source:key destination:key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT)"),
    DEPRECATED("rpoplpush", "Remove the last element in a list, prepend it to another list and "
        "return it",
        "source:key destination:key", "6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
    CMD("blpop", "Remove and get the first element in a list, or block until one is available",
        "key:key... timeout:double"),
    CMD("brpop", "Remove and get the last element in a list, or block until one is available",
        "key:key... timeout:double"),
    CMD("blmove", "Pop an element from a list, push it to another list and return it; or block "
        "until one is available",
        "source:key destination:key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT) timeout:double"),
    DEPRECATED("brpoplpush", "Pop an element from a list, push it to another list and return it; "
        "or block until one is available",
        "source:key destination:key timeout:double",
        "6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
    CMD("lmpop", "Pop elements from a list",
        "numkeys:integer key:key... where=(LEFT|RIGHT) [COUNT count:integer]"),
    CMD("blmpop", "Pop elements from a list, or block until one is available",
        "timeout:double numkeys:integer key:key... where=(LEFT|RIGHT) [COUNT count:integer]"),
    CMD("hset", "Set the string value of a hash field", "key:key (field value)..."),
    CMD("hsetnx", "Set the value of a hash field, only if the field does not exist",
        "key:key field value"),
    CMD("hget", "Get the value of a hash field", "key:key field"),
    CMD("hmget", "Get the values of all the given hash fields", "key:key field..."),
    DEPRECATED("hmset", "Set multiple hash fields to multiple values",
        "key:key (field value)...", "4.0.0", "`HSET` with multiple field-value pairs"),
    CMD("hdel", "Delete one or more hash fields", "key:key field..."),
    CMD("hexists", "Determine if a hash field exists", "key:key field"),
    CMD("hlen", "Get the number of fields in a hash", "key:key"),
    CMD("hstrlen", "Get the length of the value of a hash field", "key:key field"),
    CMD("hincrby", "Increment the integer value of a hash field by the given number",
        "key:key field increment:integer"),
    CMD("hincrbyfloat", "Increment the float value of a hash field by the given amount",
        "key:key field increment:double"),
    CMD("hkeys", "Get all the fields in a hash", "key:key"),
    CMD("hvals", "Get all the values in a hash", "key:key"),
    CMD("hgetall", "Get all the fields and values in a hash", "key:key"),
    CMD("hscan", "Incrementally iterate hash fields and associated values",
        "key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]"),
    CMD("hrandfield", "Get one or multiple random fields from a hash",
        "key:key options=[count:integer [WITHVALUES]]"),
    CMD("sadd", "Add one or more members to a set", "key:key member..."),
    CMD("srem", "Remove one or more members from a set", "key:key member..."),
    CMD("smembers", "Get all the members in a set", "key:key"),
    CMD("sismember", "Determine if a given value is a member of a set", "key:key member"),
    CMD("smismember", "Returns the membership associated with the given elements for a set",
        "key:key member..."),
    CMD("scard", "Get the number of members in a set", "key:key"),
    CMD("spop", "Remove and return one or multiple random members from a set",
        "key:key [count:integer]@3.2.0"),
    CMD("srandmember", "Get one or multiple random members from a set",
        "key:key [count:integer]@2.6.0"),
    CMD("smove", "Move a member from one set to another", "source:key destination:key member"),
    CMD("sinter", "Intersect multiple sets", "key:key..."),
    CMD("sintercard", "Intersect multiple sets and return the cardinality of the result",
        "numkeys:integer key:key... [LIMIT limit:integer]"),
    CMD("sinterstore", "Intersect multiple sets and store the resulting set in a key",
        "destination:key key:key..."),
    CMD("sunion", "Add multiple sets", "key:key..."),
    CMD("sunionstore", "Add multiple sets and store the resulting set in a key",
        "destination:key key:key..."),
    CMD("sdiff", "Subtract multiple sets", "key:key..."),
    CMD("sdiffstore", "Subtract multiple sets and store the resulting set in a key",
        "destination:key key:key..."),
    CMD("sscan", "Incrementally iterate Set elements",
        "key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]"),
    CMD("zadd", "Add one or more members to a sorted set, or update its score if it already exists",
        "key:key condition=[NX|XX]@3.0.2 comparison=[GT|LT]@6.2.0 change=[CH]@3.0.2 "
        "increment=[INCR]@3.0.2 (score:double member)..."),
    CMD("zrem", "Remove one or more members from a sorted set", "key:key member..."),
    CMD("zcard", "Get the number of members in a sorted set", "key:key"),
    CMD("zscore", "Get the score associated with the given member in a sorted set",
        "key:key member"),
    CMD("zmscore", "Get the score associated with the given members in a sorted set",
        "key:key member..."),
    CMD("zincrby", "Increment the score of a member in a sorted set",
        "key:key increment:integer member"),
    CMD("zrank", "Determine the index of a member in a sorted set", "key:key member"),
    CMD("zrevrank", "Determine the index of a member in a sorted set, with scores ordered from "
        "high to low",
        "key:key member"),
    CMD("zcount", "Count the members in a sorted set with scores within the given values",
        "key:key min:double max:double"),
    CMD("zlexcount", "Count the number of members in a sorted set between a given lexicographical "
        "range",
        "key:key min max"),
    CMD("zrange", "Return a range of members in a sorted set",
        "key:key start stop sortby=[BYSCORE|BYLEX]@6.2.0 [REV]@6.2.0 "
        "[LIMIT offset:integer count:integer]@6.2.0 [WITHSCORES]"),
    DEPRECATED("zrangebyscore", "Return a range of members in a sorted set, by score",
        "key:key min:double max:double [WITHSCORES]@2.0.0 [LIMIT offset:integer count:integer]",
        "6.2.0", "`ZRANGE` with the `BYSCORE` argument"),
    DEPRECATED("zrevrangebyscore", "Return a range of members in a sorted set, by score, with "
        "scores ordered from high to low",
        "key:key max:double min:double [WITHSCORES] [LIMIT offset:integer count:integer]",
        "6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments"),
    DEPRECATED("zrangebylex", "Return a range of members in a sorted set, by lexicographical range",
        "key:key min max [LIMIT offset:integer count:integer]",
        "6.2.0", "`ZRANGE` with the `BYLEX` argument"),
    DEPRECATED("zrevrangebylex", "Return a range of members in a sorted set, by lexicographical "
        "range, ordered from higher to lower strings.",
        "key:key max min [LIMIT offset:integer count:integer]",
        "6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"),
    DEPRECATED("zrevrange", "Return a range of members in a sorted set, by index, with scores "
        "ordered from high to low",
        "key:key start:integer stop:integer [WITHSCORES]",
        "6.2.0", "`ZRANGE` with the `REV` argument"),
    CMD("zpopmin", "Remove and return members with the lowest scores in a sorted set",
        "key:key [count:integer]"),
    CMD("zpopmax", "Remove and return members with the highest scores in a sorted set",
        "key:key [count:integer]"),
    CMD("zrangestore", "Store a range of members from sorted set into another key",
        "dst:key src:key min max sortby=[BYSCORE|BYLEX] [REV] "
        "[LIMIT offset:integer count:integer]"),
    CMD("zremrangebyrank", "Remove all members in a sorted set within the given indexes",
        "key:key start:integer stop:integer"),
    CMD("zremrangebyscore", "Remove all members in a sorted set within the given scores",
        "key:key min:double max:double"),
    CMD("zremrangebylex", "Remove all members in a sorted set between the given lexicographical "
        "range",
        "key:key min max"),
    CMD("zscan", "Incrementally iterate sorted sets elements and associated scores",
        "key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]"),
    CMD("zrandmember", "Get one or multiple random elements from a sorted set",
        "key:key options=[count:integer [WITHSCORES]]"),
    CMD("zunionstore", "Add multiple sorted sets and store the resulting sorted set in a new key",
        "destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] "
        "aggregate=[AGGREGATE (SUM|MIN|MAX)]"),
    CMD("zinterstore", "Intersect multiple sorted sets and store the resulting sorted set in a "
        "new key",
        "destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] "
        "aggregate=[AGGREGATE (SUM|MIN|MAX)]"),
    CMD("zdiffstore", "Subtract multiple sorted sets and store the resulting sorted set in a new "
        "key",
        "destination:key numkeys:integer key:key..."),
    CMD("zunion", "Add multiple sorted sets",
        "numkeys:integer key:key... [WEIGHTS weight:integer...] aggregate=[AGGREGATE (SUM|MIN|"
        "MAX)] [WITHSCORES]"),
    CMD("zinter", "Intersect multiple sorted sets",
        "numkeys:integer key:key... [WEIGHTS weight:integer...] aggregate=[AGGREGATE (SUM|MIN|"
        "MAX)] [WITHSCORES]"),
    CMD("zdiff", "Subtract multiple sorted sets", "numkeys:integer key:key... [WITHSCORES]"),
    CMD("zintercard", "Intersect multiple sorted sets and return the cardinality of the result",
        "numkeys:integer key:key... [LIMIT limit:integer]"),
    CMD("zmpop", "Remove and return members with scores in a sorted set",
        "numkeys:integer key:key... where=(MIN|MAX) [COUNT count:integer]"),
    CMD("bzpopmin", "Remove and return the member with the lowest score from one or more sorted "
        "sets, or block until one is available",
        "key:key... timeout:double"),
    CMD("bzpopmax", "Remove and return the member with the highest score from one or more sorted "
        "sets, or block until one is available",
        "key:key... timeout:double"),
    CMD("bzmpop", "Remove and return members with scores in a sorted set or block until one is "
        "available",
        "timeout:double numkeys:integer key:key... where=(MIN|MAX) [COUNT count:integer]"),
};

#define NDOCS (sizeof(docs) / sizeof(docs[0]))

/* ---- the syntax, parsed ------------------------------------------------- */

enum arg_type {
    A_STRING, A_INTEGER, A_DOUBLE, A_KEY, A_PATTERN, A_UNIX_TIME,   /* may follow ':' */
    A_PURE_TOKEN, A_ONEOF, A_BLOCK,
};
#define A_NVALUE_TYPES (A_UNIX_TIME + 1)

static const char *const type_names[] = {
    "string", "integer", "double", "key", "pattern", "unix-time",
    "pure-token", "oneof", "block",
};

#define F_OPTIONAL       1u
#define F_MULTIPLE       2u
#define F_MULTIPLE_TOKEN 4u

/* A piece of the syntax string; len 0: none. */
struct span {
    const char *p;
    int len;
};

struct node {
    struct span name;              /* none: derived (node_name) */
    struct span token;
    struct span since;
    struct span deprecated;        /* deprecated_since */
    enum arg_type type;
    unsigned flags;                /* F_* */
    int bare;                      /* a pure token written alone: it may be
                                      the token of what follows it */
    int child;                     /* first member (one-of, block) or -1 */
    int next;                      /* next sibling or -1 */
};

#define MAX_NODES 64               /* the largest entry, CLIENT KILL, needs 20 */

struct parser {
    const char *s;                 /* the syntax string */
    int pos;                       /* where parsing is */
    const char *err;               /* set at the first error */
    int count;                     /* nodes used */
    struct node n[MAX_NODES];
};

static int fail(struct parser *p, const char *why)
{
    if (p->err == NULL)
        p->err = why;
    return -1;
}

static int new_node(struct parser *p, enum arg_type type)
{
    struct node *d;

    if (p->count == MAX_NODES)
        return fail(p, "too many arguments (raise MAX_NODES)");
    d = &p->n[p->count];
    memset(d, 0, sizeof(*d));
    d->type = type;
    d->child = d->next = -1;
    return p->count++;
}

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '/';
}

/* A version after '@' or '!': digits and dots, not the dots of a "..." that
 * follows it. */
static struct span version(struct parser *p)
{
    const char *s = p->s + p->pos;
    struct span v = { s, 0 };

    while ((s[v.len] >= '0' && s[v.len] <= '9') ||
           (s[v.len] == '.' && s[v.len + 1] >= '0' && s[v.len + 1] <= '9'))
        v.len++;
    p->pos += v.len;
    return v;
}

/* After a value's name: ":type", or nothing for a string. */
static int value_type(struct parser *p, int i)
{
    const char *s = p->s;
    int start, len;
    size_t t;

    if (s[p->pos] != ':')
        return 0;
    start = ++p->pos;
    while (is_word(s[p->pos]))
        p->pos++;
    len = p->pos - start;
    for (t = 0; t < A_NVALUE_TYPES; t++)
        if ((int)strlen(type_names[t]) == len && memcmp(s + start, type_names[t], len) == 0) {
            p->n[i].type = (enum arg_type)t;
            return 0;
        }
    return fail(p, "unknown type");
}

static int parse_body(struct parser *p, char close);
static int parse_seq(struct parser *p, int *first);

/* A word: a pure token when it has upper-case letters and no lower-case
 * ones, else a value's name, maybe followed by its type. */
static int parse_word(struct parser *p)
{
    const char *w = p->s + p->pos;
    int len = 0, upper = 0, lower = 0, i;

    while (is_word(w[len])) {
        upper |= w[len] >= 'A' && w[len] <= 'Z';
        lower |= w[len] >= 'a' && w[len] <= 'z';
        len++;
    }
    p->pos += len;
    if (upper && !lower) {
        if ((i = new_node(p, A_PURE_TOKEN)) < 0)
            return -1;
        p->n[i].token = (struct span){ w, len };
        p->n[i].bare = 1;
        return i;
    }
    if ((i = new_node(p, A_STRING)) < 0)
        return -1;
    p->n[i].name = (struct span){ w, len };
    return value_type(p, i) < 0 ? -1 : i;
}

/* An item: [name=] then a word, 'quoted name', [body], (body) or {seq},
 * then its suffixes ("...", "@since", "!deprecated").  Returns its node. */
static int parse_item(struct parser *p)
{
    const char *s = p->s;
    struct span name = { NULL, 0 };
    struct node *d;
    int i, first, e = p->pos;
    char c;

    while (is_word(s[e]))
        e++;
    if (e > p->pos && s[e] == '=') {
        name = (struct span){ s + p->pos, e - p->pos };
        p->pos = e + 1;
    }
    c = s[p->pos];
    if (c == '[' || c == '(') {
        p->pos++;
        if ((i = parse_body(p, c == '[' ? ']' : ')')) < 0)
            return -1;
        if (c == '[') {
            if (p->n[i].flags & F_OPTIONAL)
                return fail(p, "optional twice");
            p->n[i].flags |= F_OPTIONAL;
        }
        p->n[i].bare = 0;
    } else if (c == '{') {
        p->pos++;
        if ((i = new_node(p, A_BLOCK)) < 0 || parse_seq(p, &first) < 0)
            return -1;
        if (first < 0 || s[p->pos] != '}')
            return fail(p, "expected a block's arguments, then '}'");
        p->pos++;
        p->n[i].child = first;
    } else if (c == '\'') {
        const char *q = strchr(s + p->pos + 1, '\'');
        if (q == NULL)
            return fail(p, "unterminated quote");
        if ((i = new_node(p, A_STRING)) < 0)
            return -1;
        p->n[i].name = (struct span){ s + p->pos + 1, (int)(q - s) - p->pos - 1 };
        p->pos = (int)(q - s) + 1;
        if (value_type(p, i) < 0)
            return -1;
    } else if (is_word(c)) {
        if ((i = parse_word(p)) < 0)
            return -1;
    } else {
        return fail(p, "expected an argument");
    }
    d = &p->n[i];
    for (;;) {
        if (strncmp(s + p->pos, "...", 3) == 0) {
            p->pos += 3;
            d->flags |= F_MULTIPLE | (d->token.len ? F_MULTIPLE_TOKEN : 0);
        } else if (s[p->pos] == '@' || s[p->pos] == '!') {
            struct span *v = s[p->pos] == '@' ? &d->since : &d->deprecated;
            p->pos++;
            *v = version(p);
            if (v->len == 0)
                return fail(p, "expected a version");
        } else {
            break;
        }
        d->bare = 0;
    }
    if (name.len) {
        d->name = name;
        d->bare = 0;
    }
    return i;
}

/* Items up to a closing bracket, '|' or the end, linked as siblings;
 * *first is the first (-1: none).  Returns how many, or -1. */
static int parse_seq(struct parser *p, int *first)
{
    int count = 0, last = -1, i;
    char c;

    *first = -1;
    for (;;) {
        while (p->s[p->pos] == ' ')
            p->pos++;
        c = p->s[p->pos];
        if (c == '\0' || c == ']' || c == ')' || c == '}' || c == '|')
            return count;
        if ((i = parse_item(p)) < 0)
            return -1;
        if (last < 0)
            *first = i;
        else
            p->n[last].next = i;
        last = i;
        count++;
    }
}

/* The one argument that count items, from first, make inside brackets or
 * as an alternative of a one-of: the item itself; a bare token and the
 * argument it introduces; or a block (with the token of a leading bare
 * token when two items or more follow it). */
static int group(struct parser *p, int first, int count)
{
    int second = p->n[first].next, b;

    if (count == 1)
        return first;
    if (count == 2 && p->n[first].bare && !p->n[second].bare) {
        if (p->n[second].token.len)
            return fail(p, "two tokens for one argument");
        p->n[second].token = p->n[first].token;
        return second;
    }
    if ((b = new_node(p, A_BLOCK)) < 0)
        return -1;
    if (p->n[first].bare) {
        p->n[b].token = p->n[first].token;
        first = second;
    }
    p->n[b].child = first;
    return b;
}

/* What is between '[' or '(' and close: alternatives separated by '|' (a
 * one-of), or a single one.  Consumes close.  Returns the node. */
static int parse_body(struct parser *p, char close)
{
    int oneof = -1, last = -1, first, count, alt;

    for (;;) {
        if ((count = parse_seq(p, &first)) < 0)
            return -1;
        if (count == 0)
            return fail(p, "empty brackets or alternative");
        if ((alt = group(p, first, count)) < 0)
            return -1;
        if (oneof < 0 && p->s[p->pos] == '|') {
            if ((oneof = new_node(p, A_ONEOF)) < 0)
                return -1;
            p->n[oneof].child = alt;
        } else if (oneof >= 0) {
            p->n[last].next = alt;
        }
        last = alt;
        if (p->s[p->pos] == '|') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] != close)
            return fail(p, "unbalanced brackets");
        p->pos++;
        return oneof >= 0 ? oneof : alt;
    }
}

/* Parses s, the arguments of one entry.  Returns the first top-level
 * argument's node (-1 when there are none, or on error: p->err). */
static int parse_args(struct parser *p, const char *s)
{
    int first;

    p->s = s;
    p->pos = 0;
    p->err = NULL;
    p->count = 0;
    if (parse_seq(p, &first) < 0)
        return -1;
    if (s[p->pos] != '\0')
        return fail(p, "unbalanced brackets or '|' outside them");
    return first;
}

/* ---- the reply ---------------------------------------------------------- */

/* Appends node i's name to buf at *len (kept NUL-terminated, truncated at
 * size): its own, a pure token's in lower case, or its members' joined by
 * '_' as Redis names the one-ofs and blocks it does not name itself. */
static void node_name(const struct parser *p, int i, char *buf, size_t size, size_t *len)
{
    const struct node *d = &p->n[i];
    const char *src = d->name.len ? d->name.p : d->token.p;
    int n = d->name.len ? d->name.len : d->token.len, j, c;

    if (d->name.len || d->type == A_PURE_TOKEN) {
        for (j = 0; j < n && *len + 1 < size; j++) {
            c = (unsigned char)src[j];
            buf[(*len)++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    } else {
        for (j = d->child; j >= 0; j = p->n[j].next) {
            if (j != d->child && *len + 1 < size)
                buf[(*len)++] = '_';
            node_name(p, j, buf, size, len);
        }
    }
    buf[*len] = '\0';
}

static void reply_args(struct resp_out *o, const struct parser *p, int first);

/* One argument: a map of name, type, token, since, deprecated_since, flags
 * and arguments, in Redis's order, each only when it has one. */
static void reply_arg(struct resp_out *o, const struct parser *p, int i)
{
    const struct node *d = &p->n[i];
    char name[128];
    size_t len = 0;
    int nflags = !!(d->flags & F_OPTIONAL) + !!(d->flags & F_MULTIPLE) +
                 !!(d->flags & F_MULTIPLE_TOKEN);

    node_name(p, i, name, sizeof(name), &len);
    resp_add_map(o, 2 + !!d->token.len + !!d->since.len + !!d->deprecated.len + !!nflags +
                    (d->child >= 0));
    resp_add_bulk_cstr(o, "name");
    resp_add_bulk(o, name, len);
    resp_add_bulk_cstr(o, "type");
    resp_add_bulk_cstr(o, type_names[d->type]);
    if (d->token.len) {
        resp_add_bulk_cstr(o, "token");
        resp_add_bulk(o, d->token.p, (size_t)d->token.len);
    }
    if (d->since.len) {
        resp_add_bulk_cstr(o, "since");
        resp_add_bulk(o, d->since.p, (size_t)d->since.len);
    }
    if (d->deprecated.len) {
        resp_add_bulk_cstr(o, "deprecated_since");
        resp_add_bulk(o, d->deprecated.p, (size_t)d->deprecated.len);
    }
    if (nflags) {
        resp_add_bulk_cstr(o, "flags");
        resp_add_set(o, nflags);
        if (d->flags & F_OPTIONAL)
            resp_add_simple(o, "optional");
        if (d->flags & F_MULTIPLE)
            resp_add_simple(o, "multiple");
        if (d->flags & F_MULTIPLE_TOKEN)
            resp_add_simple(o, "multiple_token");
    }
    if (d->child >= 0) {
        resp_add_bulk_cstr(o, "arguments");
        reply_args(o, p, d->child);
    }
}

/* The array of the arguments first and its siblings. */
static void reply_args(struct resp_out *o, const struct parser *p, int first)
{
    int i, n = 0;

    for (i = first; i >= 0; i = p->n[i].next)
        n++;
    resp_add_array(o, n);
    for (i = first; i >= 0; i = p->n[i].next)
        reply_arg(o, p, i);
}

static const struct doc *find(const char *name)
{
    size_t i;

    for (i = 0; i < NDOCS; i++)
        if (strcmp(docs[i].name, name) == 0)
            return &docs[i];
    return NULL;
}

/* Is d a subcommand of the command named name (len bytes)? */
static int is_sub(const struct doc *d, const char *name, size_t len)
{
    return strncmp(d->name, name, len) == 0 && d->name[len] == '|';
}

/*
 * The map of one entry: d (NULL: none) documents c itself, or with sub
 * set one of c's subcommands.  Subcommands are looked up only for c.
 */
static void reply_entry(struct resp_out *o, const struct doc *d, const struct cmd *c, int sub)
{
    struct parser p;
    size_t i, len = strlen(c->name), nsubs = 0;
    int first = -1, nfields = 4;

    if (d != NULL && d->args[0] != '\0') {
        first = parse_args(&p, d->args);
        if (p.err != NULL) {
            log_warning("COMMAND DOCS: the arguments of '%s' do not parse at offset %d (%s): "
                        "replied without them", d->name, p.pos, p.err);
            first = -1;
        }
    }
    for (i = 0; !sub && i < NDOCS; i++)
        nsubs += is_sub(&docs[i], c->name, len);
    if (d != NULL)
        nfields += (d->deprecated_since || d->syscmd) + 2 * !!d->deprecated_since;
    nfields += (first >= 0) + (nsubs > 0);

    resp_add_map(o, nfields);
    resp_add_bulk_cstr(o, "summary");
    resp_add_bulk_cstr(o, d != NULL ? d->summary : c->summary);
    resp_add_bulk_cstr(o, "since");
    resp_add_bulk_cstr(o, d != NULL && d->since != NULL ? d->since : c->since);
    resp_add_bulk_cstr(o, "group");
    resp_add_bulk_cstr(o, c->group);
    resp_add_bulk_cstr(o, "complexity");
    resp_add_bulk_cstr(o, d != NULL && d->complexity != NULL ? d->complexity : c->complexity);
    if (d != NULL && (d->deprecated_since || d->syscmd)) {
        resp_add_bulk_cstr(o, "doc_flags");
        resp_add_set(o, 1);
        resp_add_simple(o, d->deprecated_since ? "deprecated" : "syscmd");
    }
    if (d != NULL && d->deprecated_since) {
        resp_add_bulk_cstr(o, "deprecated_since");
        resp_add_bulk_cstr(o, d->deprecated_since);
        resp_add_bulk_cstr(o, "replaced_by");
        resp_add_bulk_cstr(o, d->replaced_by);
    }
    if (first >= 0) {
        resp_add_bulk_cstr(o, "arguments");
        reply_args(o, &p, first);
    }
    if (nsubs > 0) {
        resp_add_bulk_cstr(o, "subcommands");
        resp_add_map(o, (long)nsubs);
        for (i = 0; i < NDOCS; i++)
            if (is_sub(&docs[i], c->name, len)) {
                resp_add_bulk_cstr(o, docs[i].name);
                reply_entry(o, &docs[i], c, 1);
            }
    }
}

void cmd_docs_reply(struct resp_out *out, const struct cmd *c)
{
    resp_add_bulk_cstr(out, c->name);
    reply_entry(out, find(c->name), c, 0);
}
