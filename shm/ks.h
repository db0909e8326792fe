/*
 * ks.h - the keyspace: compact entries in per-database tables.
 *
 * An entry is one allocated block holding a key, its type and flags, its
 * value (or, for big collections, the offset of the value's structure) and,
 * only when the key has one, its expiry:
 *
 *   byte 0     bits 0-2 type (KS_T_*), bit 3 has expiry, bit 4 key length
 *              is 4 bytes (else 1), bits 5-6 value length width 1/2/4/8
 *              bytes, bit 7 type-specific encoding flag
 *   klen       1 or 4 bytes
 *   vlen       1, 2, 4 or 8 bytes
 *   expire     8 bytes, unix ms, only with bit 3
 *   key        klen bytes
 *   value      vlen bytes
 *
 * A 16-byte key with a 32-byte value is a 51-byte entry in a 56-byte block:
 * eight bytes of overhead, plus the entry's slot in the table.  There is no
 * separate value object, no per-block allocator header, no pointer to the
 * next entry.
 *
 * Each database has two dicts: `keys` (every entry) and `expires` (entries
 * with an expiry, for active expiry sampling and INFO's expires=).  Both
 * hold the entry's offset; replacing an entry updates both.
 *
 * Big things are freed lazily: FLUSHDB/FLUSHALL move whole tables to the
 * garbage list in O(1) and ks_gc_step() frees them a bounded slice at a
 * time, each slice its own mutation, so no command's undo log grows with
 * the size of what it throws away.
 *
 * All mutating functions run inside an arena mutation (arena.h).
 */
#ifndef SHM_KS_H
#define SHM_KS_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "dict.h"

#define KS_T_STRING 0u
#define KS_T_LIST   1u
#define KS_T_HASH   2u
#define KS_T_SET    3u
#define KS_T_ZSET   4u
#define KS_T_MAX    4u

#define KS_F_EXPIRE 0x08u
#define KS_F_KWIDE  0x10u
#define KS_VW_SHIFT 5
#define KS_F_ENC    0x80u

#define KS_KEY_MAX  (512u << 20)   /* Redis's limit too */

/* A decoded entry: pointers into the arena, valid until the next mutation
 * that could move or free it. */
struct ks_entry {
    uint64_t off;         /* the entry's block */
    unsigned type;        /* KS_T_* */
    unsigned enc;         /* the encoding bit */
    int has_expire;
    unsigned hdrlen;      /* bytes before the key */
    unsigned vw;          /* bytes of the value length field */
    uint32_t klen;
    uint64_t vlen;
    char *key;
    char *val;
};

void ks_decode(const struct shm_arena *a, uint64_t off, struct ks_entry *e);

/* Expiry in unix ms; only when e->has_expire. */
int64_t ks_entry_expire(const struct ks_entry *e);

/* Size of an entry with these lengths. */
size_t ks_entry_size(size_t klen, uint64_t vlen, int has_expire);

/*
 * Allocates and formats an entry; the value bytes are left for the caller
 * to fill (fresh block: no logging needed) through e->val.  `vcap` >= vlen
 * reserves room for the value to grow in place later (APPEND).
 * Errors: those of shm_alloc, EMBER_ETOOBIG for keys over KS_KEY_MAX.
 */
int ks_entry_new(struct shm_arena *a, unsigned type, unsigned enc,
                 const void *key, size_t klen, uint64_t vlen, uint64_t vcap,
                 int64_t expire, struct ks_entry *e);

/*
 * A reference to a key: where its entry is, kept current by every function
 * that rewrites the entry (collections move to a new block on most
 * changes).  off == 0 means the key does not exist; key/klen then say
 * which key to create.
 */
struct ks_ref {
    unsigned db;
    uint64_t hash;        /* of the key */
    struct dict_pos pos;  /* its slot in the keys dict (when off != 0) */
    uint64_t off;         /* the entry, or 0 */
    struct ks_entry e;    /* decoded entry (when off != 0) */
    const char *key;      /* the key's bytes (for creation) */
    size_t klen;
};

/* Fills r for key in db (no expiry logic: that is the caller's).
 * Returns r->off. */
uint64_t ks_ref_find(const struct shm_arena *a, unsigned db, const void *key, size_t klen,
                     struct ks_ref *r);

/*
 * Gives r's key a new entry of `type`/`enc` whose value is vlen bytes for
 * the caller to fill through *val (a fresh block: plain writes), keeping
 * the key's expiry.  The old entry and everything its value owned are
 * freed; when r->off == 0 the key is created.  r is updated.
 * Errors: those of shm_alloc and dict_add.
 */
int ks_ref_rewrite(struct shm_arena *a, struct ks_ref *r, unsigned type, unsigned enc,
                   uint64_t vlen, uint8_t **val);

/* Deletes r's key (entry and value); r->off becomes 0. */
int ks_ref_delete(struct shm_arena *a, struct ks_ref *r);

/*
 * Bytes the entry at off takes (MEMORY USAGE): its block, its table slots
 * and its value's blocks, estimated from about `samples` elements of a
 * big collection (0: all of them, exact).
 */
uint64_t ks_usage(const struct shm_arena *a, uint64_t off, uint64_t samples);

/* For full-encoding collections the value is the 8-byte offset of the
 * collection's descriptor block. */
static inline uint64_t ks_desc(const struct ks_entry *e)
{
    uint64_t d;
    memcpy(&d, e->val, 8);
    return d;
}

/*
 * What the keyspace needs from each collection type (hset.c, zset.c,
 * qlist.c): its full encoding's element count, freeing (at once, or a
 * bounded step at a time from the garbage list), and checking.
 */
struct shm_check_ctx;
struct ks_type_ops {
    uint64_t (*count)(const struct shm_arena *a, uint64_t desc);
    void (*free_all)(struct shm_arena *a, uint64_t desc);        /* incl. desc */
    uint64_t (*free_step)(struct shm_arena *a, uint64_t desc, uint64_t budget);
                          /* frees up to budget elements, 0 when only desc is left */
    int (*check)(struct shm_check_ctx *c, unsigned type, const struct ks_entry *e);
    int (*check_garbage)(struct shm_check_ctx *c, uint64_t desc);
    uint64_t (*usage)(const struct shm_arena *a, uint64_t desc, uint64_t samples);
                          /* bytes of the value's blocks: exact when samples is 0,
                           * else estimated from about that many elements */
};
extern const struct ks_type_ops *const ks_types[KS_T_MAX + 1];

/* Collections with more elements than this are freed lazily. */
#define KS_LAZYFREE_MIN 64

/* Limits of the compact encodings (the *-max-listpack-* settings). */
struct ks_limits {
    uint32_t hash_entries, hash_value;
    uint32_t set_entries, set_value;
    uint32_t set_int_entries;   /* sets of integers only (set-max-intset-entries) */
    uint32_t zset_entries, zset_value;
    int32_t list_size;      /* list-max-listpack-size: < 0 bytes class, > 0 entries */
};
extern struct ks_limits ks_limits;

/* Hash of a key, seeded per arena. */
uint64_t ks_hash(const struct shm_arena *a, const void *key, size_t klen);

static inline struct shm_db *ks_db(const struct shm_arena *a, unsigned db)
{
    return SHM_PTR(a, a->hdr->dbs, struct shm_db) + db;
}

/* Finds a key; returns the entry offset (0: absent) and its slot in pos. */
uint64_t ks_lookup(const struct shm_arena *a, unsigned db, const void *key,
                   size_t klen, uint64_t hash, struct dict_pos *pos);

/* Adds a new entry (the key must be absent) to keys and, if it has an
 * expiry, to expires. */
int ks_insert(struct shm_arena *a, unsigned db, uint64_t hash, uint64_t off);

/* Puts entry `newoff` where `oldoff` was (same key) and frees oldoff and
 * its value.  Keeps the expires dict in step. */
int ks_replace(struct shm_arena *a, unsigned db, const struct dict_pos *pos,
               uint64_t hash, uint64_t oldoff, uint64_t newoff);

/* Removes the entry at pos from both dicts and frees it and its value. */
int ks_delete(struct shm_arena *a, unsigned db, const struct dict_pos *pos,
              uint64_t hash, uint64_t off);

/* Removes the entry at pos from both dicts and frees its block, but not
 * what its value owns (which moved to another entry: RENAME). */
int ks_unlink(struct shm_arena *a, unsigned db, const struct dict_pos *pos, uint64_t hash,
              uint64_t off);

/* Sets (when >= 0) or removes (when < 0) a key's expiry, moving the entry
 * to a new block if its layout changes.  *newoff gets the entry's offset. */
int ks_set_expire(struct shm_arena *a, unsigned db, const struct dict_pos *pos,
                  uint64_t hash, uint64_t off, int64_t when, uint64_t *newoff);

/*
 * SET for strings: stores key = value with an optional expiry (-1: none),
 * replacing any previous value of any type.  Overwrites in place when the
 * new value fits the old block with the same layout.
 */
int ks_set_string(struct shm_arena *a, unsigned db, const void *key, size_t klen,
                  const void *val, size_t vlen, int64_t expire);

/* Frees an entry and whatever its value owns. */
void ks_free_entry(struct shm_arena *a, uint64_t off);

/* Number of keys, and of keys with an expiry, in a database. */
static inline uint64_t ks_count(const struct shm_arena *a, unsigned db)
{
    return ks_db(a, db)->keys.count;
}
static inline uint64_t ks_count_expires(const struct shm_arena *a, unsigned db)
{
    return ks_db(a, db)->expires.count;
}

/* Empties a database in O(1): its tables go to the garbage list. */
int ks_flush(struct shm_arena *a, unsigned db);

/* Frees up to `budget` garbage elements in one mutation of its own (call it
 * outside mutations).  Returns the number freed; 0 when nothing is left. */
uint64_t ks_gc_step(struct shm_arena *a, uint64_t budget);

/* Is there garbage waiting? */
static inline int ks_gc_pending(const struct shm_arena *a)
{
    return a->hdr->garbage != 0;
}

/* Hash of an entry's key: the dict_hash_fn for both dicts. */
uint64_t ks_entry_hash(const struct shm_arena *a, uint64_t off, const void *ctx);

/*
 * Garbage list node: one allocated block.
 *
 * OFFSET SIZE  MEANING
 *    0     8   next node (0: end)
 *    8     4   kind: KS_GARBAGE_DB (a database's dicts; entries owned) or
 *              KS_GARBAGE_VALUE (a big collection's structure)
 *   12     4   for KS_GARBAGE_VALUE: the collection type (KS_T_*)
 *   16    64   KS_GARBAGE_DB: struct shm_db (keys then expires);
 *              KS_GARBAGE_VALUE: the descriptor offset (8 bytes)
 */
#define KS_GARBAGE_DB    1u
#define KS_GARBAGE_VALUE 2u
struct ks_garbage {
    uint64_t next;
    uint32_t kind;
    uint32_t type;
    union {
        struct shm_db db;
        uint64_t desc;
    } u;
};

#endif /* SHM_KS_H */
