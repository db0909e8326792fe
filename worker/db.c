/*
 * db.c - the shard's keyspace as commands see it: where keys live, lookups
 * that honour expiry, and active expiry.
 *
 * Keys map to shards as in Redis Cluster: slot = CRC16(key or its {hash
 * tag}) mod 16384, and the 16384 slots are split into equal contiguous
 * ranges, one per worker.  Keys that share a hash tag share a shard.
 *
 * Expiry is lazy (a lookup that finds an expired key deletes it and says
 * it is absent) and active: each cron step walks the expires tables with a
 * persistent scan cursor per database, deleting what has expired, within
 * a time budget, so keys expire without being touched.  A key is expired
 * when now > its expiry, as in Redis.
 */
#include "server.h"
#include "config.h"
#include "util.h"

#include "shm/alloc.h"

struct worker W;

/* ---- slots ------------------------------------------------------------------ */

/* CRC16-CCITT (XMODEM), as Redis Cluster uses, eight bytes a step
 * ("slicing by 8"): crc16_t[k][x] is the CRC of byte x followed by k zero
 * bytes, so the eight table loads of a step are independent of each other
 * where the byte-wise loop chains one load per byte.  Every command's key
 * goes through here when there is more than one shard. */
static uint16_t crc16_t[8][256];

static void crc16_init(void)
{
    unsigned i, j, k;

    for (i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (j = 0; j < 8; j++)
            c = (uint16_t)((c & 0x8000) ? (c << 1) ^ 0x1021 : c << 1);
        crc16_t[0][i] = c;
    }
    for (k = 1; k < 8; k++)
        for (i = 0; i < 256; i++) {
            uint16_t c = crc16_t[k - 1][i];
            crc16_t[k][i] = (uint16_t)((c << 8) ^ crc16_t[0][c >> 8]);
        }
}

static uint16_t crc16(const char *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    uint16_t crc = 0;

    if (crc16_t[0][1] == 0)
        crc16_init();
    for (; len >= 8; len -= 8, p += 8)
        crc = (uint16_t)(crc16_t[7][(crc >> 8) ^ p[0]] ^ crc16_t[6][(crc & 0xff) ^ p[1]] ^
                         crc16_t[5][p[2]] ^ crc16_t[4][p[3]] ^ crc16_t[3][p[4]] ^
                         crc16_t[2][p[5]] ^ crc16_t[1][p[6]] ^ crc16_t[0][p[7]]);
    for (; len > 0; len--, p++)
        crc = (uint16_t)((crc << 8) ^ crc16_t[0][(crc >> 8) ^ *p]);
    return crc;
}

unsigned key_slot(const char *key, size_t len)
{
    const char *open = len > 0 ? memchr(key, '{', len) : NULL, *close;

    /* Only a non-empty {tag} counts, as in Redis Cluster. */
    if (open != NULL) {
        close = memchr(open + 1, '}', (size_t)(key + len - open - 1));
        if (close != NULL && close != open + 1)
            return crc16(open + 1, (size_t)(close - open - 1)) & 16383;
    }
    return crc16(key, len) & 16383;
}

unsigned key_shard(const char *key, size_t len)
{
    if (W.nworkers <= 1)
        return 0;
    return key_slot(key, len) * W.nworkers / 16384;
}

/* ---- lookups -------------------------------------------------------------------- */

void db_prefetch_bucket(unsigned db, uint64_t hash)
{
    const struct shm_dict *d = &ks_db(W.arena, db)->keys;

    if (d->nbuckets)
        __builtin_prefetch(shm_ptr(W.arena, dict_bucket_off(W.arena, d,
                                                            dict_bucket_index(d, hash))));
}

void db_prefetch_entry(unsigned db, uint64_t hash)
{
    const struct shm_dict *d = &ks_db(W.arena, db)->keys;
    const uint64_t *bk;
    int i;

    if (d->nbuckets == 0)
        return;
    bk = shm_ptr(W.arena, dict_bucket_off(W.arena, d, dict_bucket_index(d, hash)));
    for (i = 0; i < DICT_SLOTS - 1; i++)
        if (bk[i] && (bk[i] & DICT_TAG_MASK) == dict_tag(hash)) {
            __builtin_prefetch(shm_ptr(W.arena, DICT_SLOT_OFF(bk[i])));
            return;
        }
}

int db_expired(const struct ks_entry *e)
{
    return e->has_expire && W.now_ms > ks_entry_expire(e);
}

int db_fail(struct cmd_ctx *x, int status)
{
    if (!x->failed)
        x->failed = status;
    return status;
}

/* Deletes an expired entry, inside the caller's mutation or in its own. */
static void expire_now(unsigned db, struct db_key *k, uint64_t off)
{
    int own = !W.arena->in_mut;

    if (own)
        shm_begin(W.arena);
    (void)ks_delete(W.arena, db, &k->pos, k->hash, off);
    if (own)
        shm_commit(W.arena);
    W.st.expired++;
}

static uint64_t lookup(struct cmd_ctx *x, const char *key, size_t len, struct db_key *k)
{
    uint64_t off;

    k->db = x->db;
    k->key = key;
    k->klen = len;
    k->hash = key == x->hint_key ? x->hint_hash : ks_hash(W.arena, key, len);
    k->off = off = ks_lookup(W.arena, x->db, key, len, k->hash, &k->pos);
    if (off == 0)
        return 0;
    ks_decode(W.arena, off, &k->e);
    if (db_expired(&k->e)) {
        expire_now(x->db, k, off);
        k->off = 0;
        return 0;
    }
    return off;
}

uint64_t db_lookup_read(struct cmd_ctx *x, const char *key, size_t len, struct db_key *k)
{
    uint64_t off = lookup(x, key, len, k);

    if (off)
        W.st.hits++;
    else
        W.st.misses++;
    return off;
}

uint64_t db_lookup_write(struct cmd_ctx *x, const char *key, size_t len, struct db_key *k)
{
    return lookup(x, key, len, k);
}

int db_delete(struct cmd_ctx *x, struct db_key *k, uint64_t off)
{
    int rc = ks_delete(W.arena, x->db, &k->pos, k->hash, off);

    if (rc != EMBER_OK)
        return db_fail(x, rc);
    x->dirty++;
    return EMBER_OK;
}

int db_over_maxmemory(void)
{
    if (config.maxmemory <= 0)
        return 0;
    return shm_used(W.arena) > (uint64_t)config.maxmemory / W.nworkers;
}

uint64_t db_size(unsigned db)
{
    return ks_count(W.arena, db);
}

uint64_t worker_rand(void)
{
    uint64_t x = W.rnd ? W.rnd : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    W.rnd = x;
    return x;
}

/* ---- active expiry -------------------------------------------------------------- */

#define EXPIRE_BATCH 64

struct expire_scan {
    uint64_t offs[EXPIRE_BATCH * 8];
    unsigned n;
};

static void collect_expired(const struct shm_arena *a, uint64_t off, void *ctx)
{
    struct expire_scan *s = ctx;
    struct ks_entry e;

    ks_decode(a, off, &e);
    if (db_expired(&e) && s->n < sizeof(s->offs) / sizeof(s->offs[0]))
        s->offs[s->n++] = off;
}

static uint64_t expire_cursor[65536];

uint64_t db_active_expire(uint64_t budget_us)
{
    uint64_t start = util_monotonic_ns(), done = 0;
    unsigned ndb = W.arena->hdr->dbcount, db, i;

    if (!W.active_expire)
        return 0;
    W.now_ms = util_mstime();
    for (db = 0; db < ndb && db < 65536; db++) {
        const struct shm_dict *d = &ks_db(W.arena, db)->expires;
        unsigned steps;

        if (d->count == 0)
            continue;
        for (steps = 0; steps < 1000; steps++) {
            struct expire_scan s;
            s.n = 0;
            expire_cursor[db] = dict_scan(W.arena, d, expire_cursor[db], collect_expired, &s);
            if (s.n > 0) {
                shm_begin(W.arena);
                for (i = 0; i < s.n; i++) {
                    struct ks_entry e;
                    struct dict_pos pos;
                    uint64_t h;
                    ks_decode(W.arena, s.offs[i], &e);
                    h = ks_hash(W.arena, e.key, e.klen);
                    /* Still in the table (not deleted earlier in this batch)? */
                    if (ks_lookup(W.arena, db, e.key, e.klen, h, &pos) == s.offs[i]) {
                        (void)ks_delete(W.arena, db, &pos, h, s.offs[i]);
                        done++;
                    }
                }
                shm_commit(W.arena);
            }
            if (expire_cursor[db] == 0 ||
                (util_monotonic_ns() - start) / 1000 > budget_us)
                break;
        }
        if ((util_monotonic_ns() - start) / 1000 > budget_us)
            break;
    }
    W.st.expired += done;
    return done;
}
