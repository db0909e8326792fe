/*
 * commands.h - the command table.
 *
 * X(name, handler, arity, flags, first_key, last_key, key_step, group,
 *   since, summary, complexity)
 *
 * Arity and key positions follow Redis's COMMAND INFO conventions: arity
 * > 0 is exact, < 0 means at least -arity; last_key -1 means the last
 * argument.  Flags are CMD_* from server.h.  The dispatcher routes a
 * command with keys to the shard owning them; CMD_NOKEYROUTE commands
 * (multi-key and whole-keyspace ones) route themselves.  Names starting
 * with '@' are internal: only another worker may send them.
 */
#ifndef WORKER_COMMANDS_H
#define WORKER_COMMANDS_H

#include "server.h"

#define W_ CMD_WRITE
#define R_ CMD_READONLY
#define M_ CMD_DENYOOM
#define F_ CMD_FAST
#define A_ CMD_ADMIN
#define C_ CMD_CONN
#define N_ CMD_NOKEYROUTE
#define I_ CMD_INTERNAL
#define B_ CMD_BLOCKING

#define COMMAND_TABLE(X)                                                                        \
    /* connection */                                                                            \
    X("ping", pingCommand, -1, F_, 0, 0, 0, "connection", "1.0.0",                               \
      "Returns the server's liveliness response.", "O(1)")                                      \
    X("echo", echoCommand, 2, F_, 0, 0, 0, "connection", "1.0.0",                                \
      "Returns the given string.", "O(1)")                                                      \
    X("hello", helloCommand, -1, F_ | C_, 0, 0, 0, "connection", "6.0.0",                        \
      "Handshakes with the Redis server.", "O(1)")                                              \
    X("quit", quitCommand, -1, F_ | C_, 0, 0, 0, "connection", "1.0.0",                          \
      "Closes the connection.", "O(1)")                                                         \
    X("select", selectCommand, 2, F_ | C_, 0, 0, 0, "connection", "1.0.0",                       \
      "Changes the selected database.", "O(1)")                                                 \
    X("auth", authCommand, -2, F_ | C_, 0, 0, 0, "connection", "1.0.0",                          \
      "Authenticates the connection.", "O(N) where N is the number of passwords")               \
    X("client", clientCommand, -2, C_, 0, 0, 0, "connection", "2.4.0",                           \
      "A container for client connection commands.", "Depends on subcommand.")                 \
    X("reset", resetCommand, 1, F_ | C_, 0, 0, 0, "connection", "6.2.0",                         \
      "Resets the connection.", "O(1)")                                                         \
    /* server */                                                                                \
    X("dbsize", dbsizeCommand, 1, R_ | F_ | N_, 0, 0, 0, "server", "1.0.0",                      \
      "Returns the number of keys in the database.", "O(1)")                                    \
    X("flushdb", flushdbCommand, -1, W_ | N_, 0, 0, 0, "server", "1.0.0",                        \
      "Removes all keys from the current database.", "O(N) where N is the number of keys")      \
    X("flushall", flushallCommand, -1, W_ | N_, 0, 0, 0, "server", "1.0.0",                      \
      "Removes all keys from all databases.", "O(N) where N is the number of keys")             \
    X("time", timeCommand, 1, F_, 0, 0, 0, "server", "2.6.0",                                    \
      "Returns the server time.", "O(1)")                                                       \
    X("info", infoCommand, -1, N_, 0, 0, 0, "server", "1.0.0",                                   \
      "Returns information and statistics about the server.", "O(1)")                           \
    X("command", commandCommand, -1, 0, 0, 0, 0, "server", "2.8.13",                             \
      "Returns detailed information about all commands.", "O(N) where N is the number of commands") \
    X("config", configCommand, -2, A_, 0, 0, 0, "server", "2.0.0",                               \
      "A container for server configuration commands.", "Depends on subcommand.")              \
    X("function", functionCommand, -2, 0, 0, 0, 0, "scripting", "7.0.0",                         \
      "A container for function commands.", "Depends on subcommand.")                          \
    X("debug", debugCommand, -2, A_ | N_, 0, 0, 0, "server", "1.0.0",                            \
      "A container for debugging commands.", "Depends on subcommand.")                          \
    X("lastsave", lastsaveCommand, 1, F_, 0, 0, 0, "server", "1.0.0",                            \
      "Returns the Unix timestamp of the last successful save to disk.", "O(1)")                \
    X("shutdown", shutdownCommand, -1, A_ | C_, 0, 0, 0, "server", "1.0.0",                      \
      "Synchronously saves the database(s) to disk and shuts down the Redis server.",          \
      "O(N) when saving, where N is the total number of keys in all databases when saving "     \
      "data, otherwise O(1)")                                                                   \
    /* strings */                                                                               \
    X("get", getCommand, 2, R_ | F_, 1, 1, 1, "string", "1.0.0",                                 \
      "Returns the string value of a key.", "O(1)")                                             \
    X("set", setCommand, -3, W_ | M_, 1, 1, 1, "string", "1.0.0",                                \
      "Sets the string value of a key, ignoring its type.", "O(1)")                             \
    X("setnx", setnxCommand, 3, W_ | M_ | F_, 1, 1, 1, "string", "1.0.0",                        \
      "Set the string value of a key only when the key doesn't exist.", "O(1)")                 \
    X("setex", setexCommand, 4, W_ | M_, 1, 1, 1, "string", "2.0.0",                             \
      "Sets the string value and expiration time of a key.", "O(1)")                            \
    X("psetex", psetexCommand, 4, W_ | M_, 1, 1, 1, "string", "2.6.0",                           \
      "Sets both string value and expiration time in milliseconds of a key.", "O(1)")           \
    X("getset", getsetCommand, 3, W_ | M_ | F_, 1, 1, 1, "string", "1.0.0",                      \
      "Returns the previous string value of a key after setting it to a new value.", "O(1)")    \
    X("getdel", getdelCommand, 2, W_ | F_, 1, 1, 1, "string", "6.2.0",                           \
      "Returns the string value of a key after deleting the key.", "O(1)")                      \
    X("getex", getexCommand, -2, W_ | F_, 1, 1, 1, "string", "6.2.0",                            \
      "Returns the string value of a key after setting its expiration time.", "O(1)")           \
    X("mget", mgetCommand, -2, R_ | F_ | N_, 1, -1, 1, "string", "1.0.0",                        \
      "Atomically returns the string values of one or more keys.",                              \
      "O(N) where N is the number of keys to retrieve.")                                        \
    X("mset", msetCommand, -3, W_ | M_ | N_, 1, -1, 2, "string", "1.0.1",                        \
      "Atomically creates or modifies the string values of one or more keys.",                  \
      "O(N) where N is the number of keys to set.")                                             \
    X("msetnx", msetnxCommand, -3, W_ | M_ | N_, 1, -1, 2, "string", "1.0.1",                    \
      "Atomically modifies the string values of one or more keys only when all keys don't exist.", \
      "O(N) where N is the number of keys to set.")                                             \
    X("append", appendCommand, 3, W_ | M_ | F_, 1, 1, 1, "string", "2.0.0",                      \
      "Appends a string to the value of a key. Creates the key if it doesn't exist.", "O(1)")   \
    X("strlen", strlenCommand, 2, R_ | F_, 1, 1, 1, "string", "2.2.0",                           \
      "Returns the length of a string value.", "O(1)")                                          \
    X("getrange", getrangeCommand, 4, R_, 1, 1, 1, "string", "2.4.0",                            \
      "Returns a substring of the string stored at a key.", "O(N)")                             \
    X("substr", getrangeCommand, 4, R_, 1, 1, 1, "string", "1.0.0",                              \
      "Returns a substring from a string value.", "O(N)")                                       \
    X("setrange", setrangeCommand, 4, W_ | M_, 1, 1, 1, "string", "2.2.0",                       \
      "Overwrites a part of a string value with another by an offset.", "O(1)")                 \
    X("incr", incrCommand, 2, W_ | M_ | F_, 1, 1, 1, "string", "1.0.0",                          \
      "Increments the integer value of a key by one.", "O(1)")                                  \
    X("decr", decrCommand, 2, W_ | M_ | F_, 1, 1, 1, "string", "1.0.0",                          \
      "Decrements the integer value of a key by one.", "O(1)")                                  \
    X("incrby", incrbyCommand, 3, W_ | M_ | F_, 1, 1, 1, "string", "1.0.0",                      \
      "Increments the integer value of a key by a number.", "O(1)")                             \
    X("decrby", decrbyCommand, 3, W_ | M_ | F_, 1, 1, 1, "string", "1.0.0",                      \
      "Decrements a number from the integer value of a key.", "O(1)")                           \
    X("incrbyfloat", incrbyfloatCommand, 3, W_ | M_ | F_, 1, 1, 1, "string", "2.6.0",            \
      "Increment the floating point value of a key by a number.", "O(1)")                       \
    /* keys */                                                                                  \
    X("del", delCommand, -2, W_ | N_, 1, -1, 1, "generic", "1.0.0",                              \
      "Deletes one or more keys.", "O(N) where N is the number of keys that will be removed.")  \
    X("unlink", unlinkCommand, -2, W_ | F_ | N_, 1, -1, 1, "generic", "4.0.0",                   \
      "Asynchronously deletes one or more keys.",                                               \
      "O(1) for each key removed regardless of its size.")                                      \
    X("exists", existsCommand, -2, R_ | F_ | N_, 1, -1, 1, "generic", "1.0.0",                   \
      "Determines whether one or more keys exist.", "O(N) where N is the number of keys to check.") \
    X("touch", touchCommand, -2, R_ | F_ | N_, 1, -1, 1, "generic", "3.2.1",                     \
      "Returns the number of existing keys out of those specified after updating the time they were last accessed.", \
      "O(N) where N is the number of keys that will be touched.")                               \
    X("type", typeCommand, 2, R_ | F_, 1, 1, 1, "generic", "1.0.0",                              \
      "Determines the type of value stored at a key.", "O(1)")                                  \
    X("expire", expireCommand, -3, W_ | F_, 1, 1, 1, "generic", "1.0.0",                         \
      "Sets the expiration time of a key in seconds.", "O(1)")                                  \
    X("pexpire", pexpireCommand, -3, W_ | F_, 1, 1, 1, "generic", "2.6.0",                       \
      "Sets the expiration time of a key in milliseconds.", "O(1)")                             \
    X("expireat", expireatCommand, -3, W_ | F_, 1, 1, 1, "generic", "1.2.0",                     \
      "Sets the expiration time of a key to a Unix timestamp.", "O(1)")                         \
    X("pexpireat", pexpireatCommand, -3, W_ | F_, 1, 1, 1, "generic", "2.6.0",                   \
      "Sets the expiration time of a key to a Unix milliseconds timestamp.", "O(1)")            \
    X("ttl", ttlCommand, 2, R_ | F_, 1, 1, 1, "generic", "1.0.0",                                \
      "Returns the expiration time in seconds of a key.", "O(1)")                               \
    X("pttl", pttlCommand, 2, R_ | F_, 1, 1, 1, "generic", "2.6.0",                              \
      "Returns the expiration time in milliseconds of a key.", "O(1)")                          \
    X("expiretime", expiretimeCommand, 2, R_ | F_, 1, 1, 1, "generic", "7.0.0",                  \
      "Returns the expiration time of a key as a Unix timestamp.", "O(1)")                      \
    X("pexpiretime", pexpiretimeCommand, 2, R_ | F_, 1, 1, 1, "generic", "7.0.0",                \
      "Returns the expiration time of a key as a Unix milliseconds timestamp.", "O(1)")         \
    X("persist", persistCommand, 2, W_ | F_, 1, 1, 1, "generic", "2.2.0",                        \
      "Removes the expiration time of a key.", "O(1)")                                          \
    X("keys", keysCommand, 2, R_ | N_, 0, 0, 0, "generic", "1.0.0",                              \
      "Returns all key names that match a pattern.",                                            \
      "O(N) with N being the number of keys in the database")                                   \
    X("scan", scanCommand, -2, R_ | N_, 0, 0, 0, "generic", "2.8.0",                             \
      "Iterates over the key names in the database.",                                           \
      "O(1) for every call. O(N) for a complete iteration.")                                    \
    X("randomkey", randomkeyCommand, 1, R_ | N_, 0, 0, 0, "generic", "1.0.0",                    \
      "Returns a random key name from the database.", "O(1)")                                   \
    X("rename", renameCommand, 3, W_ | N_, 1, 2, 1, "generic", "1.0.0",                          \
      "Renames a key and overwrites the destination.", "O(1)")                                  \
    X("renamenx", renamenxCommand, 3, W_ | F_ | N_, 1, 2, 1, "generic", "1.0.0",                 \
      "Renames a key only when the target key name doesn't exist.", "O(1)")                     \
    X("object", objectCommand, -2, R_ | N_, 0, 0, 0, "generic", "2.2.3",                         \
      "A container for object introspection commands.", "Depends on subcommand.")               \
    X("memory", memoryCommand, -2, R_ | N_, 0, 0, 0, "server", "4.0.0",                          \
      "A container for memory diagnostics commands.", "Depends on subcommand.")                 \
    /* lists */                                                                                 \
    X("lpush", lpushCommand, -3, W_ | M_ | F_, 1, 1, 1, "list", "1.0.0",                         \
      "Prepends one or more elements to a list. Creates the key if it doesn't exist.", "O(1)")  \
    X("rpush", rpushCommand, -3, W_ | M_ | F_, 1, 1, 1, "list", "1.0.0",                         \
      "Appends one or more elements to a list. Creates the key if it doesn't exist.", "O(1)")   \
    X("lpushx", lpushxCommand, -3, W_ | M_ | F_, 1, 1, 1, "list", "2.2.0",                       \
      "Prepends one or more elements to a list only when the list exists.", "O(1)")            \
    X("rpushx", rpushxCommand, -3, W_ | M_ | F_, 1, 1, 1, "list", "2.2.0",                       \
      "Appends an element to a list only when the list exists.", "O(1)")                       \
    X("lpop", lpopCommand, -2, W_ | F_, 1, 1, 1, "list", "1.0.0",                                \
      "Returns the first elements in a list after removing it.", "O(N)")                       \
    X("rpop", rpopCommand, -2, W_ | F_, 1, 1, 1, "list", "1.0.0",                                \
      "Returns and removes the last elements of a list.", "O(N)")                              \
    X("llen", llenCommand, 2, R_ | F_, 1, 1, 1, "list", "1.0.0",                                 \
      "Returns the length of a list.", "O(1)")                                                  \
    X("lrange", lrangeCommand, 4, R_, 1, 1, 1, "list", "1.0.0",                                  \
      "Returns a range of elements from a list.", "O(S+N)")                                     \
    X("lindex", lindexCommand, 3, R_, 1, 1, 1, "list", "1.0.0",                                  \
      "Returns an element from a list by its index.", "O(N)")                                   \
    X("lset", lsetCommand, 4, W_ | M_, 1, 1, 1, "list", "1.0.0",                                 \
      "Sets the value of an element in a list by its index.", "O(N)")                          \
    X("linsert", linsertCommand, 5, W_ | M_, 1, 1, 1, "list", "2.2.0",                           \
      "Inserts an element before or after another element in a list.", "O(N)")                \
    X("lrem", lremCommand, 4, W_, 1, 1, 1, "list", "1.0.0",                                      \
      "Removes elements from a list.", "O(N+M)")                                                \
    X("ltrim", ltrimCommand, 4, W_, 1, 1, 1, "list", "1.0.0",                                    \
      "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "O(N)") \
    X("lpos", lposCommand, -3, R_, 1, 1, 1, "list", "6.0.6",                                     \
      "Returns the index of matching elements in a list.", "O(N)")                              \
    X("lmove", lmoveCommand, 5, W_ | M_ | N_, 1, 2, 1, "list", "6.2.0",                          \
      "Returns an element after popping it from one list and pushing it to another.", "O(1)")   \
    X("rpoplpush", rpoplpushCommand, 3, W_ | M_ | N_, 1, 2, 1, "list", "1.2.0",                  \
      "Returns the last element of a list after removing and pushing it to another list.", "O(1)") \
    X("blpop", blpopCommand, -3, W_ | B_, 1, -2, 1, "list", "2.0.0",                             \
      "Removes and returns the first element in a list. Blocks until an element is available otherwise.", "O(N)") \
    X("brpop", brpopCommand, -3, W_ | B_, 1, -2, 1, "list", "2.0.0",                             \
      "Removes and returns the last element in a list. Blocks until an element is available otherwise.", "O(N)") \
    X("blmove", blmoveCommand, 6, W_ | M_ | B_ | N_, 1, 2, 1, "list", "6.2.0",                    \
      "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise.", "O(1)") \
    X("brpoplpush", brpoplpushCommand, 4, W_ | M_ | B_ | N_, 1, 2, 1, "list", "2.2.0",            \
      "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise.", "O(1)") \
    X("lmpop", lmpopCommand, -4, W_ | N_, 0, 0, 0, "list", "7.0.0",                              \
      "Pop elements from a list",                                                              \
      "O(N+M) where N is the number of provided keys and M is the number of elements returned.") \
    X("blmpop", blmpopCommand, -5, W_ | B_ | N_, 0, 0, 0, "list", "7.0.0",                       \
      "Pop elements from a list, or block until one is available",                             \
      "O(N+M) where N is the number of provided keys and M is the number of elements returned.") \
    /* lists, internal: moves across shards (t_list.c) */                                      \
    X("@lpeek", ilpeekCommand, 3, R_ | I_, 1, 1, 1, "internal", "", "", "")                      \
    X("@lbpeek", ilbpeekCommand, 5, R_ | B_ | I_, 1, 1, 1, "internal", "", "", "")              \
    X("@lpopif", ilpopifCommand, -4, W_ | I_, 1, 1, 1, "internal", "", "", "")                   \
    X("@lunreserve", ilunreserveCommand, 3, R_ | I_, 1, 1, 1, "internal", "", "", "")            \
    /* hashes */                                                                                \
    X("hset", hsetCommand, -4, W_ | M_ | F_, 1, 1, 1, "hash", "2.0.0",                           \
      "Creates or modifies the value of a field in a hash.", "O(1) for each field/value pair added") \
    X("hsetnx", hsetnxCommand, 4, W_ | M_ | F_, 1, 1, 1, "hash", "2.0.0",                        \
      "Sets the value of a field in a hash only when the field doesn't exist.", "O(1)")        \
    X("hget", hgetCommand, 3, R_ | F_, 1, 1, 1, "hash", "2.0.0",                                 \
      "Returns the value of a field in a hash.", "O(1)")                                        \
    X("hmget", hmgetCommand, -3, R_ | F_, 1, 1, 1, "hash", "2.0.0",                              \
      "Returns the values of all fields in a hash.", "O(N) where N is the number of fields being requested.") \
    X("hmset", hmsetCommand, -4, W_ | M_ | F_, 1, 1, 1, "hash", "2.0.0",                         \
      "Sets the values of multiple fields.", "O(N) where N is the number of fields being set.") \
    X("hdel", hdelCommand, -3, W_ | F_, 1, 1, 1, "hash", "2.0.0",                                \
      "Deletes one or more fields and their values from a hash.", "O(N) where N is the number of fields to be removed.") \
    X("hexists", hexistsCommand, 3, R_ | F_, 1, 1, 1, "hash", "2.0.0",                           \
      "Determines whether a field exists in a hash.", "O(1)")                                   \
    X("hlen", hlenCommand, 2, R_ | F_, 1, 1, 1, "hash", "2.0.0",                                 \
      "Returns the number of fields in a hash.", "O(1)")                                        \
    X("hstrlen", hstrlenCommand, 3, R_ | F_, 1, 1, 1, "hash", "3.2.0",                           \
      "Returns the length of the value of a field.", "O(1)")                                    \
    X("hincrby", hincrbyCommand, 4, W_ | M_ | F_, 1, 1, 1, "hash", "2.0.0",                      \
      "Increments the integer value of a field in a hash by a number.", "O(1)")                \
    X("hincrbyfloat", hincrbyfloatCommand, 4, W_ | M_ | F_, 1, 1, 1, "hash", "2.6.0",            \
      "Increments the floating point value of a field by a number.", "O(1)")                   \
    X("hkeys", hkeysCommand, 2, R_, 1, 1, 1, "hash", "2.0.0",                                    \
      "Returns all fields in a hash.", "O(N) where N is the size of the hash.")                 \
    X("hvals", hvalsCommand, 2, R_, 1, 1, 1, "hash", "2.0.0",                                    \
      "Returns all values in a hash.", "O(N) where N is the size of the hash.")                 \
    X("hgetall", hgetallCommand, 2, R_, 1, 1, 1, "hash", "2.0.0",                                \
      "Returns all fields and values in a hash.", "O(N) where N is the size of the hash.")      \
    X("hscan", hscanCommand, -3, R_, 1, 1, 1, "hash", "2.8.0",                                   \
      "Iterates over fields and values of a hash.", "O(1) for every call. O(N) for a complete iteration.") \
    X("hrandfield", hrandfieldCommand, -2, R_, 1, 1, 1, "hash", "6.2.0",                         \
      "Returns one or more random fields from a hash.", "O(N) where N is the number of fields returned") \
    /* sets */                                                                                  \
    X("sadd", saddCommand, -3, W_ | M_ | F_, 1, 1, 1, "set", "1.0.0",                            \
      "Adds one or more members to a set. Creates the key if it doesn't exist.", "O(1) for each element added") \
    X("srem", sremCommand, -3, W_ | F_, 1, 1, 1, "set", "1.0.0",                                 \
      "Removes one or more members from a set. Deletes the set if the last member was removed.", "O(N) where N is the number of members to be removed.") \
    X("smembers", smembersCommand, 2, R_, 1, 1, 1, "set", "1.0.0",                               \
      "Returns all members of a set.", "O(N) where N is the set cardinality.")                  \
    X("sismember", sismemberCommand, 3, R_ | F_, 1, 1, 1, "set", "1.0.0",                        \
      "Determines whether a member belongs to a set.", "O(1)")                                  \
    X("smismember", smismemberCommand, -3, R_ | F_, 1, 1, 1, "set", "6.2.0",                     \
      "Determines whether multiple members belong to a set.", "O(N) where N is the number of elements being checked for membership") \
    X("scard", scardCommand, 2, R_ | F_, 1, 1, 1, "set", "1.0.0",                                \
      "Returns the number of members in a set.", "O(1)")                                        \
    X("spop", spopCommand, -2, W_ | F_, 1, 1, 1, "set", "1.0.0",                                 \
      "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.") \
    X("srandmember", srandmemberCommand, -2, R_, 1, 1, 1, "set", "1.0.0",                        \
      "Get one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.") \
    X("smove", smoveCommand, 4, W_ | F_ | N_, 1, 2, 1, "set", "1.0.0",                           \
      "Moves a member from one set to another.", "O(1)")                                        \
    X("sinter", sinterCommand, -2, R_ | N_, 1, -1, 1, "set", "1.0.0",                            \
      "Returns the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.") \
    X("sintercard", sintercardCommand, -3, R_ | N_, 2, -1, 1, "set", "7.0.0",                    \
      "Returns the number of members of the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.") \
    X("sinterstore", sinterstoreCommand, -3, W_ | M_ | N_, 1, -1, 1, "set", "1.0.0",             \
      "Stores the intersect of multiple sets in a key.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.") \
    X("sunion", sunionCommand, -2, R_ | N_, 1, -1, 1, "set", "1.0.0",                            \
      "Returns the union of multiple sets.", "O(N) where N is the total number of elements in all given sets.") \
    X("sunionstore", sunionstoreCommand, -3, W_ | M_ | N_, 1, -1, 1, "set", "1.0.0",             \
      "Stores the union of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets.") \
    X("sdiff", sdiffCommand, -2, R_ | N_, 1, -1, 1, "set", "1.0.0",                              \
      "Returns the difference of multiple sets.", "O(N) where N is the total number of elements in all given sets.") \
    X("sdiffstore", sdiffstoreCommand, -3, W_ | M_ | N_, 1, -1, 1, "set", "1.0.0",               \
      "Stores the difference of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets.") \
    X("sscan", sscanCommand, -3, R_, 1, 1, 1, "set", "2.8.0",                                    \
      "Iterates over members of a set.", "O(1) for every call. O(N) for a complete iteration.") \
    /* sorted sets */                                                                           \
    X("zadd", zaddCommand, -4, W_ | M_ | F_, 1, 1, 1, "sorted-set", "1.2.0",                     \
      "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "O(log(N)) for each item added, where N is the number of elements in the sorted set.") \
    X("zrem", zremCommand, -3, W_ | F_, 1, 1, 1, "sorted-set", "1.2.0",                          \
      "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.") \
    X("zcard", zcardCommand, 2, R_ | F_, 1, 1, 1, "sorted-set", "1.2.0",                         \
      "Returns the number of members in a sorted set.", "O(1)")                                 \
    X("zscore", zscoreCommand, 3, R_ | F_, 1, 1, 1, "sorted-set", "1.2.0",                       \
      "Returns the score of a member in a sorted set.", "O(1)")                                 \
    X("zmscore", zmscoreCommand, -3, R_ | F_, 1, 1, 1, "sorted-set", "6.2.0",                    \
      "Returns the score of one or more members in a sorted set.", "O(N) where N is the number of members being requested.") \
    X("zincrby", zincrbyCommand, 4, W_ | M_ | F_, 1, 1, 1, "sorted-set", "1.2.0",                \
      "Increments the score of a member in a sorted set.", "O(log(N)) where N is the number of elements in the sorted set.") \
    X("zrank", zrankCommand, 3, R_ | F_, 1, 1, 1, "sorted-set", "2.0.0",                         \
      "Returns the index of a member in a sorted set ordered by ascending scores.", "O(log(N))") \
    X("zrevrank", zrevrankCommand, 3, R_ | F_, 1, 1, 1, "sorted-set", "2.0.0",                   \
      "Returns the index of a member in a sorted set ordered by descending scores.", "O(log(N))") \
    X("zcount", zcountCommand, 4, R_ | F_, 1, 1, 1, "sorted-set", "2.0.0",                       \
      "Returns the count of members in a sorted set that have scores within a range.", "O(log(N)) with N being the number of elements in the sorted set.") \
    X("zlexcount", zlexcountCommand, 4, R_ | F_, 1, 1, 1, "sorted-set", "2.8.9",                 \
      "Returns the number of members in a sorted set within a lexicographical range.", "O(log(N)) with N being the number of elements in the sorted set.") \
    X("zrange", zrangeCommand, -4, R_, 1, 1, 1, "sorted-set", "1.2.0",                           \
      "Returns members in a sorted set within a range of indexes.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.") \
    X("zrangebyscore", zrangebyscoreCommand, -4, R_, 1, 1, 1, "sorted-set", "1.0.5",             \
      "Returns members in a sorted set within a range of scores.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.") \
    X("zrevrangebyscore", zrevrangebyscoreCommand, -4, R_, 1, 1, 1, "sorted-set", "2.2.0",       \
      "Returns members in a sorted set within a range of scores in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.") \
    X("zrangebylex", zrangebylexCommand, -4, R_, 1, 1, 1, "sorted-set", "2.8.9",                 \
      "Returns members in a sorted set within a lexicographical range.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.") \
    X("zrevrangebylex", zrevrangebylexCommand, -4, R_, 1, 1, 1, "sorted-set", "2.8.9",           \
      "Returns members in a sorted set within a lexicographical range in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.") \
    X("zrevrange", zrevrangeCommand, -4, R_, 1, 1, 1, "sorted-set", "1.2.0",                     \
      "Returns members in a sorted set within a range of indexes in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.") \
    X("zpopmin", zpopminCommand, -2, W_ | F_, 1, 1, 1, "sorted-set", "5.0.0",                    \
      "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.") \
    X("zpopmax", zpopmaxCommand, -2, W_ | F_, 1, 1, 1, "sorted-set", "5.0.0",                    \
      "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.") \
    X("zrangestore", zrangestoreCommand, -5, W_ | M_ | N_, 1, 2, 1, "sorted-set", "6.2.0",       \
      "Stores a range of members from sorted set in a key.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.") \
    X("zremrangebyrank", zremrangebyrankCommand, 4, W_, 1, 1, 1, "sorted-set", "2.0.0",          \
      "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.") \
    X("zremrangebyscore", zremrangebyscoreCommand, 4, W_, 1, 1, 1, "sorted-set", "1.2.0",        \
      "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.") \
    X("zremrangebylex", zremrangebylexCommand, 4, W_, 1, 1, 1, "sorted-set", "2.8.9",            \
      "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.") \
    X("zscan", zscanCommand, -3, R_, 1, 1, 1, "sorted-set", "2.8.0",                             \
      "Iterates over members and scores of a sorted set.", "O(1) for every call. O(N) for a complete iteration.") \
    X("zrandmember", zrandmemberCommand, -2, R_, 1, 1, 1, "sorted-set", "6.2.0",                 \
      "Returns one or more random members from a sorted set.", "O(N) where N is the number of members returned") \
    X("zunionstore", zunionstoreCommand, -4, W_ | M_ | N_, 1, 1, 1, "sorted-set", "2.0.0",       \
      "Add multiple sorted sets and store the resulting sorted set in a new key", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.") \
    X("zinterstore", zinterstoreCommand, -4, W_ | M_ | N_, 1, 1, 1, "sorted-set", "2.0.0",       \
      "Intersect multiple sorted sets and store the resulting sorted set in a new key", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.") \
    X("zdiffstore", zdiffstoreCommand, -4, W_ | M_ | N_, 1, 1, 1, "sorted-set", "6.2.0",         \
      "Subtract multiple sorted sets and store the resulting sorted set in a new key", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.") \
    X("zunion", zunionCommand, -3, R_ | N_, 0, 0, 0, "sorted-set", "6.2.0",                      \
      "Add multiple sorted sets", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.") \
    X("zinter", zinterCommand, -3, R_ | N_, 0, 0, 0, "sorted-set", "6.2.0",                      \
      "Intersect multiple sorted sets", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.") \
    X("zdiff", zdiffCommand, -3, R_ | N_, 0, 0, 0, "sorted-set", "6.2.0",                        \
      "Subtract multiple sorted sets", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.") \
    X("zintercard", zintercardCommand, -3, R_ | N_, 0, 0, 0, "sorted-set", "7.0.0",              \
      "Intersect multiple sorted sets and return the cardinality of the result", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.") \
    X("zmpop", zmpopCommand, -4, W_ | N_, 0, 0, 0, "sorted-set", "7.0.0",                        \
      "Remove and return members with scores in a sorted set", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.") \
    X("bzpopmin", bzpopminCommand, -3, W_ | F_ | B_, 1, -2, 1, "sorted-set", "5.0.0",            \
      "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.") \
    X("bzpopmax", bzpopmaxCommand, -3, W_ | F_ | B_, 1, -2, 1, "sorted-set", "5.0.0",            \
      "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.") \
    X("bzmpop", bzmpopCommand, -5, W_ | B_ | N_, 0, 0, 0, "sorted-set", "7.0.0",                 \
      "Remove and return members with scores in a sorted set or block until one is available", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.") \
    /* internal: between workers (the request carries the db) */                              \
    X("@dbsize", idbsizeCommand, 1, R_ | I_, 0, 0, 0, "internal", "", "", "")                    \
    X("@flushdb", iflushdbCommand, -1, W_ | I_, 0, 0, 0, "internal", "", "", "")                 \
    X("@keys", ikeysCommand, 2, R_ | I_, 0, 0, 0, "internal", "", "", "")                        \
    X("@scan", iscanCommand, -2, R_ | I_, 0, 0, 0, "internal", "", "", "")                       \
    X("@randomkey", irandomkeyCommand, 1, R_ | I_, 0, 0, 0, "internal", "", "", "")              \
    X("@shardinfo", ishardinfoCommand, -1, R_ | I_, 0, 0, 0, "internal", "", "", "")             \
    X("@take", itakeCommand, 2, W_ | I_, 1, 1, 1, "internal", "", "", "")                        \
    X("@put", iputCommand, -4, W_ | M_ | I_, 1, 1, 1, "internal", "", "", "")                    \
    X("@debug", idebugCommand, -2, I_, 0, 0, 0, "internal", "", "", "")                          \
    X("@client", iclientCommand, -3, I_, 0, 0, 0, "internal", "", "", "")                      \
    X("@sstore", isstoreCommand, -2, W_ | M_ | I_, 1, 1, 1, "internal", "", "", "")              \
    X("@zstore", izstoreCommand, -2, W_ | M_ | I_, 1, 1, 1, "internal", "", "", "")              \
    X("@zread", izreadCommand, -2, R_ | I_, 1, 1, 1, "internal", "", "", "")

/* Every handler's prototype. */
#define COMMAND_PROTO(name, proc, ...) cmd_proc proc;
COMMAND_TABLE(COMMAND_PROTO)
#undef COMMAND_PROTO

#endif /* WORKER_COMMANDS_H */
