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
    X("@client", iclientCommand, -3, I_, 0, 0, 0, "internal", "", "", "")

/* Every handler's prototype. */
#define COMMAND_PROTO(name, proc, ...) cmd_proc proc;
COMMAND_TABLE(COMMAND_PROTO)
#undef COMMAND_PROTO

#endif /* WORKER_COMMANDS_H */
