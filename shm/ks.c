/*
 * ks.c - keyspace entries and per-database tables (see ks.h).
 *
 * Invariants:
 *   - every entry of a database is in its `keys` dict exactly once, under
 *     the hash of its key; no two entries of a database have equal keys;
 *   - an entry is in `expires` iff its KS_F_EXPIRE bit is set;
 *   - an entry's block is at least ks_entry_size() of its lengths; the
 *     bytes after the value up to the block's end are slack.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ks.h"
#include "alloc.h"
#include "hset.h"
#include "qlist.h"
#include "zset.h"

const struct ks_type_ops *const ks_types[KS_T_MAX + 1] = {
    [KS_T_LIST] = &qlist_ops,
    [KS_T_HASH] = &hset_hash_ops,
    [KS_T_SET] = &hset_set_ops,
    [KS_T_ZSET] = &zset_ops,
};

static inline unsigned vwidth(uint64_t v)
{
    return v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x100000000ull ? 4 : 8;
}

static inline unsigned vw_code(unsigned w)
{
    return w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3;
}

static inline uint64_t load_width(const uint8_t *p, unsigned w)
{
    uint64_t v = 0;
    memcpy(&v, p, w);   /* little-endian host (layout.h) */
    return v;
}

void ks_decode(const struct shm_arena *a, uint64_t off, struct ks_entry *e)
{
    const uint8_t *p = SHM_PTR(a, off, const uint8_t);
    unsigned b0 = p[0], kw = (b0 & KS_F_KWIDE) ? 4 : 1;

    e->off = off;
    e->type = b0 & 7u;
    e->enc = (b0 & KS_F_ENC) ? 1 : 0;
    e->has_expire = (b0 & KS_F_EXPIRE) ? 1 : 0;
    e->vw = 1u << ((b0 >> KS_VW_SHIFT) & 3u);
    e->klen = (uint32_t)load_width(p + 1, kw);
    e->vlen = load_width(p + 1 + kw, e->vw);
    e->hdrlen = 1 + kw + e->vw + (e->has_expire ? 8 : 0);
    e->key = (char *)p + e->hdrlen;
    e->val = e->key + e->klen;
}

int64_t ks_entry_expire(const struct ks_entry *e)
{
    int64_t t;
    memcpy(&t, e->key - 8, 8);
    return t;
}

size_t ks_entry_size(size_t klen, uint64_t vlen, int has_expire)
{
    return 1 + (klen < 0x100 ? 1 : 4) + vwidth(vlen) + (has_expire ? 8 : 0) +
           klen + vlen;
}

int ks_entry_new(struct shm_arena *a, unsigned type, unsigned enc,
                 const void *key, size_t klen, uint64_t vlen, uint64_t vcap,
                 int64_t expire, struct ks_entry *e)
{
    unsigned kw = klen < 0x100 ? 1 : 4, vw;
    uint64_t off;
    uint8_t *p;
    int rc;

    if (klen > KS_KEY_MAX)
        return EMBER_ETOOBIG;
    if (vcap < vlen)
        vcap = vlen;
    vw = vwidth(vcap);
    rc = shm_alloc(a, ks_entry_size(klen, vcap, expire >= 0), &off);
    if (rc != EMBER_OK)
        return rc;
    p = SHM_PTR(a, off, uint8_t);
    p[0] = (uint8_t)(type | (expire >= 0 ? KS_F_EXPIRE : 0) |
                     (kw == 4 ? KS_F_KWIDE : 0) | (vw_code(vw) << KS_VW_SHIFT) |
                     (enc ? KS_F_ENC : 0));
    memcpy(p + 1, &klen, kw);
    memcpy(p + 1 + kw, &vlen, vw);
    if (expire >= 0)
        memcpy(p + 1 + kw + vw, &expire, 8);
    memcpy(p + 1 + kw + vw + (expire >= 0 ? 8 : 0), key, klen);
    ks_decode(a, off, e);
    return EMBER_OK;
}

uint64_t ks_hash(const struct shm_arena *a, const void *key, size_t klen)
{
    return XXH3_64bits_withSeed(key, klen, a->hdr->hash_seed);
}

uint64_t ks_entry_hash(const struct shm_arena *a, uint64_t off, const void *ctx)
{
    struct ks_entry e;
    (void)ctx;
    ks_decode(a, off, &e);
    return ks_hash(a, e.key, e.klen);
}

uint64_t ks_lookup(const struct shm_arena *a, unsigned db, const void *key,
                   size_t klen, uint64_t hash, struct dict_pos *pos)
{
    struct dict_probe p;
    uint64_t off;

    if (!dict_probe_start(a, &ks_db(a, db)->keys, hash, &p))
        return 0;
    while ((off = dict_probe_next(a, &p, pos)) != 0) {
        const uint8_t *e = SHM_PTR(a, off, const uint8_t);
        unsigned b0 = e[0], kw = (b0 & KS_F_KWIDE) ? 4 : 1;
        unsigned vw = 1u << ((b0 >> KS_VW_SHIFT) & 3u);
        uint32_t kl = (uint32_t)load_width(e + 1, kw);
        if (kl == klen &&
            memcmp(e + 1 + kw + vw + ((b0 & KS_F_EXPIRE) ? 8 : 0), key, klen) == 0)
            return off;
    }
    return 0;
}

int ks_insert(struct shm_arena *a, unsigned db, uint64_t hash, uint64_t off)
{
    struct shm_db *d = ks_db(a, db);
    int rc = dict_add(a, &d->keys, hash, off, ks_entry_hash, NULL);

    if (rc == EMBER_OK && (*SHM_PTR(a, off, uint8_t) & KS_F_EXPIRE))
        rc = dict_add(a, &d->expires, hash, off, ks_entry_hash, NULL);
    return rc;
}

struct ks_limits ks_limits = { 512, 64, 128, 64, 512, 128, 64, -2 };

/* A big value goes to the garbage list; a small one is freed now. */
static void free_value(struct shm_arena *a, unsigned type, uint64_t desc)
{
    const struct ks_type_ops *ops = ks_types[type];
    uint64_t node;
    struct ks_garbage *g;

    if (ops->count(a, desc) > KS_LAZYFREE_MIN && shm_alloc(a, sizeof(*g), &node) == EMBER_OK) {
        g = SHM_PTR(a, node, struct ks_garbage);
        memset(g, 0, sizeof(*g));
        g->next = a->hdr->garbage;
        g->kind = KS_GARBAGE_VALUE;
        g->type = type;
        g->u.desc = desc;
        shm_set64(a, &a->hdr->garbage, node);
        return;
    }
    /* Small, or no memory for a node: free it all now. */
    ops->free_all(a, desc);
}

void ks_free_entry(struct shm_arena *a, uint64_t off)
{
    struct ks_entry e;

    ks_decode(a, off, &e);
    if (e.type != KS_T_STRING && e.enc && ks_types[e.type] != NULL)
        free_value(a, e.type, ks_desc(&e));
    shm_free(a, off);
}

uint64_t ks_usage(const struct shm_arena *a, uint64_t off, uint64_t samples)
{
    struct ks_entry e;
    uint64_t n;

    ks_decode(a, off, &e);
    /* the entry, its slot in keys and, with an expiry, in expires */
    n = shm_usable(a, off) + 8 + (e.has_expire ? 8 : 0);
    if (e.type != KS_T_STRING && e.enc && ks_types[e.type] != NULL)
        n += ks_types[e.type]->usage(a, ks_desc(&e), samples);
    return n;
}

uint64_t ks_ref_find(const struct shm_arena *a, unsigned db, const void *key, size_t klen,
                     struct ks_ref *r)
{
    r->db = db;
    r->key = key;
    r->klen = klen;
    r->hash = ks_hash(a, key, klen);
    r->off = ks_lookup(a, db, key, klen, r->hash, &r->pos);
    if (r->off)
        ks_decode(a, r->off, &r->e);
    return r->off;
}

int ks_ref_rewrite(struct shm_arena *a, struct ks_ref *r, unsigned type, unsigned enc,
                   uint64_t vlen, uint8_t **val)
{
    struct ks_entry n;
    int64_t expire = -1;
    int rc;

    if (r->off && r->e.has_expire)
        expire = ks_entry_expire(&r->e);
    rc = ks_entry_new(a, type, enc, r->off ? r->e.key : r->key,
                      r->off ? r->e.klen : r->klen, vlen, vlen, expire, &n);
    if (rc != EMBER_OK)
        return rc;
    *val = (uint8_t *)n.val;
    if (r->off) {
        rc = ks_replace(a, r->db, &r->pos, r->hash, r->off, n.off);
    } else {
        rc = ks_insert(a, r->db, r->hash, n.off);
        if (rc == EMBER_OK)
            ks_lookup(a, r->db, n.key, n.klen, r->hash, &r->pos);
    }
    if (rc != EMBER_OK)
        return rc;
    r->off = n.off;
    r->e = n;
    return EMBER_OK;
}

int ks_ref_delete(struct shm_arena *a, struct ks_ref *r)
{
    int rc = ks_delete(a, r->db, &r->pos, r->hash, r->off);

    if (rc == EMBER_OK)
        r->off = 0;
    return rc;
}

/* Moves the slot at pos from entry oldoff to newoff; keeps expires in step. */
static int move_entry(struct shm_arena *a, unsigned db, const struct dict_pos *pos,
                      uint64_t hash, uint64_t oldoff, uint64_t newoff)
{
    struct shm_db *d = ks_db(a, db);
    int oexp = (*SHM_PTR(a, oldoff, uint8_t) & KS_F_EXPIRE) != 0;
    int nexp = (*SHM_PTR(a, newoff, uint8_t) & KS_F_EXPIRE) != 0;
    struct dict_pos ep;

    dict_replace(a, pos, newoff);
    if (oexp) {
        BUG_ON(!dict_find_elem(a, &d->expires, hash, oldoff, &ep));
        if (nexp)
            dict_replace(a, &ep, newoff);
        else
            return dict_delete(a, &d->expires, &ep, ks_entry_hash, NULL);
    } else if (nexp) {
        return dict_add(a, &d->expires, hash, newoff, ks_entry_hash, NULL);
    }
    return EMBER_OK;
}

int ks_replace(struct shm_arena *a, unsigned db, const struct dict_pos *pos,
               uint64_t hash, uint64_t oldoff, uint64_t newoff)
{
    int rc = move_entry(a, db, pos, hash, oldoff, newoff);

    if (rc == EMBER_OK)
        ks_free_entry(a, oldoff);
    return rc;
}

int ks_delete(struct shm_arena *a, unsigned db, const struct dict_pos *pos,
              uint64_t hash, uint64_t off)
{
    struct shm_db *d = ks_db(a, db);
    struct dict_pos ep;
    int rc;

    if (*SHM_PTR(a, off, uint8_t) & KS_F_EXPIRE) {
        BUG_ON(!dict_find_elem(a, &d->expires, hash, off, &ep));
        rc = dict_delete(a, &d->expires, &ep, ks_entry_hash, NULL);
        if (rc != EMBER_OK)
            return rc;
    }
    rc = dict_delete(a, &d->keys, pos, ks_entry_hash, NULL);
    if (rc == EMBER_OK)
        ks_free_entry(a, off);
    return rc;
}

int ks_unlink(struct shm_arena *a, unsigned db, const struct dict_pos *pos, uint64_t hash,
              uint64_t off)
{
    struct shm_db *d = ks_db(a, db);
    struct dict_pos ep;
    int rc;

    if (*SHM_PTR(a, off, uint8_t) & KS_F_EXPIRE) {
        BUG_ON(!dict_find_elem(a, &d->expires, hash, off, &ep));
        rc = dict_delete(a, &d->expires, &ep, ks_entry_hash, NULL);
        if (rc != EMBER_OK)
            return rc;
    }
    rc = dict_delete(a, &d->keys, pos, ks_entry_hash, NULL);
    if (rc == EMBER_OK)
        shm_free(a, off);
    return rc;
}

int ks_set_expire(struct shm_arena *a, unsigned db, const struct dict_pos *pos,
                  uint64_t hash, uint64_t off, int64_t when, uint64_t *newoff)
{
    struct ks_entry e, n;
    int rc;

    ks_decode(a, off, &e);
    *newoff = off;
    if (when >= 0 && e.has_expire) {
        shm_store(a, e.key - 8, &when, 8);
        return EMBER_OK;
    }
    if (when < 0 && !e.has_expire)
        return EMBER_OK;
    /* The layout changes: copy into a new block, keeping the slack. */
    rc = ks_entry_new(a, e.type, e.enc, e.key, e.klen, e.vlen,
                      e.vlen + (shm_usable(a, off) - e.hdrlen - e.klen - e.vlen),
                      when, &n);
    if (rc != EMBER_OK)
        return rc;
    memcpy(n.val, e.val, e.vlen);
    rc = move_entry(a, db, pos, hash, off, n.off);
    if (rc != EMBER_OK)
        return rc;
    shm_free(a, off);   /* the block only: the value moved with it */
    *newoff = n.off;
    return EMBER_OK;
}

int ks_set_string(struct shm_arena *a, unsigned db, const void *key, size_t klen,
                  const void *val, size_t vlen, int64_t expire)
{
    uint64_t hash = ks_hash(a, key, klen), off;
    struct dict_pos pos;
    struct ks_entry e;
    int rc;

    off = ks_lookup(a, db, key, klen, hash, &pos);
    if (off != 0) {
        ks_decode(a, off, &e);
        /* In place: same type and layout, fits the block, small enough
         * that logging the old bytes beats a new block. */
        if (e.type == KS_T_STRING && !e.enc && e.has_expire == (expire >= 0) &&
            vwidth(vlen) <= e.vw && vlen <= 512 &&
            e.hdrlen + e.klen + vlen <= shm_usable(a, off)) {
            uint64_t v = vlen;
            shm_log(a, e.val, vlen > e.vlen ? vlen : e.vlen);
            memcpy(e.val, val, vlen);
            shm_store(a, SHM_PTR(a, off, char) + 1 + (e.klen < 0x100 ? 1 : 4),
                      &v, e.vw);
            if (expire >= 0)
                shm_store(a, e.key - 8, &expire, 8);
            return EMBER_OK;
        }
    }
    rc = ks_entry_new(a, KS_T_STRING, 0, key, klen, vlen, vlen, expire, &e);
    if (rc != EMBER_OK)
        return rc;
    memcpy(e.val, val, vlen);
    if (off != 0)
        return ks_replace(a, db, &pos, hash, off, e.off);
    return ks_insert(a, db, hash, e.off);
}

/* ---- lazy freeing ----------------------------------------------------------- */

int ks_flush(struct shm_arena *a, unsigned db)
{
    struct shm_db *d = ks_db(a, db), zero;
    struct ks_garbage *g;
    uint64_t off;
    int rc;

    if (d->keys.dir == 0 && d->expires.dir == 0)
        return EMBER_OK;
    rc = shm_alloc(a, sizeof(*g), &off);
    if (rc != EMBER_OK)
        return rc;
    g = SHM_PTR(a, off, struct ks_garbage);
    memset(g, 0, sizeof(*g));
    g->next = a->hdr->garbage;
    g->kind = KS_GARBAGE_DB;
    g->u.db = *d;
    shm_set64(a, &a->hdr->garbage, off);
    memset(&zero, 0, sizeof(zero));
    shm_store(a, d, &zero, sizeof(zero));
    return EMBER_OK;
}

static void free_entry_cb(struct shm_arena *a, uint64_t off)
{
    ks_free_entry(a, off);
}

/* Unlinks a finished garbage node.  Draining a database frees its entries,
 * whose big values go to the garbage list ahead of the node being drained:
 * it need not be the head any more, and the nodes ahead of it must stay.
 * Only those pushed during this step lie between, so the walk is short. */
static void unlink_garbage(struct shm_arena *a, uint64_t node, uint64_t next)
{
    uint64_t *link = &a->hdr->garbage;

    while (*link != node) {
        BUG_ON(*link == 0);           /* the node is on the list */
        link = &SHM_PTR(a, *link, struct ks_garbage)->next;
    }
    shm_set64(a, link, next);
}

uint64_t ks_gc_step(struct shm_arena *a, uint64_t budget)
{
    uint64_t node, freed = 0;
    struct ks_garbage *g;

    if (a->hdr->garbage == 0)
        return 0;
    shm_begin(a);
    node = a->hdr->garbage;
    g = SHM_PTR(a, node, struct ks_garbage);
    while (freed < budget) {
        uint64_t n;
        if (g->kind == KS_GARBAGE_VALUE) {
            n = ks_types[g->type]->free_step(a, g->u.desc, budget - freed);
            if (n == 0)
                shm_free(a, g->u.desc);
        } else {
            n = dict_drain_step(a, &g->u.db.expires, NULL, budget - freed);
            if (n == 0)
                n = dict_drain_step(a, &g->u.db.keys, free_entry_cb, budget - freed);
        }
        if (n == 0) {
            unlink_garbage(a, node, g->next);
            shm_free(a, node);
            freed++;
            break;
        }
        freed += n;
    }
    shm_commit(a);
    return freed;
}
