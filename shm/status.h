/*
 * status.h - the one status convention used across ember.
 *
 * Every function that can fail returns an int: EMBER_OK (0) on success or a
 * negative EMBER_E* code.  Codes say what went wrong in terms a caller can act
 * on (out of arena space vs. over the configured limit vs. a corrupt arena);
 * the errno of a failed system call, when there is one, is left in errno and
 * usually also logged by the caller.  ember_strerror() gives a short, stable
 * English phrase for logs and error replies.
 *
 * This header depends on nothing, so every layer (shm, persist, worker,
 * supervisor, cli) can include it.
 */
#ifndef EMBER_STATUS_H
#define EMBER_STATUS_H

/* X-macro: one line per code feeds the enum and ember_strerror(). */
#define EMBER_STATUS_TABLE(X)                                              \
    X(EMBER_OK,        0,   "success")                                     \
    X(EMBER_ENOMEM,   -1,   "out of memory")                               \
    X(EMBER_ELIMIT,   -2,   "arena size limit reached")                    \
    X(EMBER_ENOSPC,   -3,   "no space left on the shared-memory device")   \
    X(EMBER_EACCES,   -4,   "permission denied")                           \
    X(EMBER_ENOHUGE,  -5,   "hugepages requested but none are free")       \
    X(EMBER_EVERSION, -6,   "arena has another layout version")            \
    X(EMBER_ESHARD,   -7,   "arena belongs to another shard or shard count")\
    X(EMBER_ECORRUPT, -8,   "arena failed its consistency check")          \
    X(EMBER_EBUSY,    -9,   "arena is in use by another process")          \
    X(EMBER_ENOENT,   -10,  "no such arena")                               \
    X(EMBER_EEXIST,   -11,  "already exists")                              \
    X(EMBER_EINVAL,   -12,  "invalid argument")                            \
    X(EMBER_EIO,      -13,  "system call failed")                          \
    X(EMBER_ENOTFOUND,-14,  "not found")                                   \
    X(EMBER_EMAGIC,   -15,  "not an ember arena")                          \
    X(EMBER_EFULL,    -16,  "full")                                        \
    X(EMBER_EAGAIN,   -17,  "try again")                                   \
    X(EMBER_ETOOBIG,  -18,  "object too large")

enum ember_status {
#define EMBER_STATUS_ENUM(name, val, msg) name = (val),
    EMBER_STATUS_TABLE(EMBER_STATUS_ENUM)
#undef EMBER_STATUS_ENUM
};

/* Returns a static string for a status code; never NULL. */
const char *ember_strerror(int status);

#endif /* EMBER_STATUS_H */
