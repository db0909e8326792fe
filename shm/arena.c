/*
 * arena.c - attaching arenas and the undo log (see arena.h for the model).
 *
 * The undo log is a chain of chunks.  The inline chunk fills segment 0 after
 * the header, about 2 MiB, enough for tens of thousands of logged stores;
 * a mutation that needs more allocates overflow chunks from the heap as it
 * goes (the allocation itself is logged into the headroom kept at the end of
 * every chunk) and frees them again right after it commits.
 *
 * Record: the old bytes, padded to 8, then a trailer word (offset << 16 |
 * length).  hdr->log_tail is the offset just past the newest record and is
 * stored only after the record is complete, so a record is either wholly in
 * the log or not at all.  Rollback walks from log_tail backwards to the
 * start of that chunk, then continues at the previous chunk's `end` (written
 * before the log first moved past it), and finally stores log_tail = 0.
 */
#include "arena.h"
#include "alloc.h"
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define LOG_HEADROOM   (16u * 1024)       /* room to log a chunk allocation */
#define LOG_CHUNK_MIN  (4ul << 20)
#define LOG_CHUNK_MAX  (256ul << 20)

long shm_crash_countdown;
void (*shm_crash_hook)(void);

void shm_crash_tick(void)
{
    if (--shm_crash_countdown == 0 && shm_crash_hook != NULL)
        shm_crash_hook();
}

static struct shm_undo_chunk *chunk_at(struct shm_arena *a, uint64_t off)
{
    return SHM_PTR(a, off, struct shm_undo_chunk);
}

static uint64_t chunk_data(uint64_t chunk)
{
    return chunk + sizeof(struct shm_undo_chunk);
}

static void log_reset(struct shm_arena *a)
{
    struct shm_undo_chunk *c = chunk_at(a, SHM_UNDO_INLINE);

    a->log_chunk = SHM_UNDO_INLINE;
    a->log_cur = shm_ptr(a, chunk_data(SHM_UNDO_INLINE));
    a->log_lim = a->log_cur + c->cap - LOG_HEADROOM;
}

/* ---- arena growth ---------------------------------------------------------- */

/*
 * Grows the region to at least `size` bytes.  `exempt` lets undo chunks
 * pass the size limit: the log must never be the reason a mutation cannot
 * be undone.
 */
int shm_arena_grow(struct shm_arena *a, uint64_t size, int exempt)
{
    uint64_t want;
    int rc;

    if (size <= a->reg.size)
        return EMBER_OK;
    if (a->hdr->limit && size > a->hdr->limit && !exempt)
        return EMBER_ELIMIT;
    /* Grow by at least 1/64 of the region (but one segment at a time when
     * close to the limit), so the file grows O(log n) times, not O(n):
     * what is allocated ahead is real memory (fallocate'd and populated),
     * so the step stays small. */
    want = a->reg.size + a->reg.size / 64;
    want = (want + SHM_SEG_SIZE - 1) & ~(uint64_t)(SHM_SEG_SIZE - 1);
    if (want < size)
        want = size;
    if (a->hdr->limit && want > a->hdr->limit && !exempt)
        want = size;
    rc = shm_region_grow(&a->reg, want);
    if (rc != EMBER_OK && want > size)
        rc = shm_region_grow(&a->reg, size);
    if (rc != EMBER_OK)
        return rc;
    a->hdr->region_size = a->reg.size;
    return EMBER_OK;
}

int shm_arena_tick(struct shm_arena *a)
{
    uint64_t ahead = a->reserve_ahead, want;

    if (a->in_mut || a->readonly)
        return EMBER_OK;
    (void)shm_release_free(a, 4096);
    if (ahead == 0)
        return EMBER_OK;
    /* Headroom is memory spent (populated), and growing by a 64th at a
     * time already leaves some: ask for a 64th of the heap, at least a
     * segment. */
    if (a->reserve_auto && ahead > a->hdr->heap_top / 64)
        ahead = a->hdr->heap_top / 64 > SHM_SEG_SIZE ? a->hdr->heap_top / 64 : SHM_SEG_SIZE;
    want = a->hdr->heap_top + ahead;
    want = (want + SHM_SEG_SIZE - 1) & ~(uint64_t)(SHM_SEG_SIZE - 1);
    if (a->hdr->limit && want > a->hdr->limit)
        want = a->hdr->limit & ~(uint64_t)(SHM_SEG_SIZE - 1);
    if (want <= a->reg.size)
        return EMBER_OK;
    return shm_arena_grow(a, want, 0);
}

/* ---- mutations --------------------------------------------------------- */

void shm_begin(struct shm_arena *a)
{
    BUG_ON(a->in_mut);
    BUG_ON(a->readonly || a->inspect);
    BUG_ON(a->hdr->log_tail != 0);
    a->in_mut = 1;
    a->d_used = 0;
    a->d_nblocks = 0;
    a->npunch = 0;
    a->nfrees = 0;
    a->log_records = 0;
    log_reset(a);
}

/* Appends an overflow chunk after the current one; exits on failure. */
static void log_grow(struct shm_arena *a)
{
    struct shm_undo_chunk *cur = chunk_at(a, a->log_chunk), *nc;
    uint64_t cap = cur->cap * 2, noff;
    int rc;

    if (cap < LOG_CHUNK_MIN)
        cap = LOG_CHUNK_MIN;
    if (cap > LOG_CHUNK_MAX)
        cap = LOG_CHUNK_MAX;
    a->log_growing = 1;
    a->log_lim = shm_ptr(a, chunk_data(a->log_chunk) + cur->cap);
    rc = shm_alloc_log_chunk(a, sizeof(*nc) + cap, &noff);
    if (rc != EMBER_OK) {
        /* Nothing sane is left to do: we may not store unlogged and cannot
         * report through a store.  Dying is safe: the next owner rolls the
         * log back, so no data is lost. */
        fprintf(stderr, "ember: cannot grow the undo log (%s); exiting so the "
                "interrupted command is rolled back\n", ember_strerror(rc));
        abort();
    }
    nc = chunk_at(a, noff);
    nc->prev = a->log_chunk;
    nc->next = 0;
    nc->cap = cap;
    nc->end = 0;
    shm_set64(a, &cur->next, noff);
    a->log_growing = 0;
}

void shm_log_slow(struct shm_arena *a, const void *p, size_t n)
{
    struct shm_undo_chunk *cur;

    if (n > SHM_UNDO_MAXREC) {
        const char *q = p;
        while (n > 0) {
            size_t k = n > SHM_UNDO_MAXREC ? SHM_UNDO_MAXREC : n;
            shm_log(a, q, k);
            q += k;
            n -= k;
        }
        return;
    }
    BUG_ON(a->log_growing);   /* headroom too small: a bug, not bad luck */
    cur = chunk_at(a, a->log_chunk);
    if (cur->next == 0)
        log_grow(a);
    /* Move on: record where this chunk's records end, then switch. */
    cur->end = shm_off(a, a->log_cur);
    shm_barrier();
    a->log_chunk = cur->next;
    cur = chunk_at(a, a->log_chunk);
    a->log_cur = shm_ptr(a, chunk_data(a->log_chunk));
    a->log_lim = a->log_cur + cur->cap - LOG_HEADROOM;
    a->hdr->log_last_chunk = a->log_chunk;
    shm_log(a, p, n);
}

/*
 * Undoes every record in the log, newest first, then empties it.  Validates
 * what it reads (at attach the log comes from a process we know nothing
 * about).  Returns the number of records undone, or EMBER_ECORRUPT.
 */
static int64_t rollback(struct shm_arena *a)
{
    struct shm_header *h = a->hdr;
    uint64_t tail = h->log_tail, chunk = SHM_UNDO_INLINE, size = a->reg.size;
    int64_t n = 0;
    int hops = 0;

    if (tail == 0)
        return 0;
    /* Find the chunk holding the tail. */
    for (;;) {
        struct shm_undo_chunk *c = chunk_at(a, chunk);
        if (tail >= chunk_data(chunk) && tail <= chunk_data(chunk) + c->cap)
            break;
        if (c->next == 0 || c->next + sizeof(*c) > size || ++hops > 1000)
            return EMBER_ECORRUPT;
        chunk = c->next;
    }
    for (;;) {
        struct shm_undo_chunk *c = chunk_at(a, chunk);
        uint64_t start = chunk_data(chunk);

        while (tail > start) {
            uint64_t trailer, off, len, rec;
            if (tail - start < 8)
                return EMBER_ECORRUPT;
            memcpy(&trailer, a->base + tail - 8, 8);
            off = trailer >> 16;
            len = trailer & 0xffff;
            rec = ((len + 7) & ~7ull) + 8;
            /* Never into segment 0's record area: only the header page and
             * the inline chunk's own header are ever logged there. */
            if (rec > tail - start || off + len > size ||
                (off < SHM_SEG_SIZE &&
                 off + len > SHM_UNDO_INLINE + sizeof(struct shm_undo_chunk)))
                return EMBER_ECORRUPT;
            memmove(a->base + off, a->base + tail - rec, len);
            tail -= rec;
            n++;
        }
        if (chunk == SHM_UNDO_INLINE)
            break;
        chunk = c->prev;
        if (chunk + sizeof(*c) > size)
            return EMBER_ECORRUPT;
        tail = chunk_at(a, chunk)->end;
        if (tail < chunk_data(chunk) ||
            tail > chunk_data(chunk) + chunk_at(a, chunk)->cap)
            return EMBER_ECORRUPT;
    }
    shm_barrier();
    h->log_tail = 0;
    shm_barrier();
    return n;
}

/* Frees the overflow chunks a committed mutation left behind. */
static void free_overflow_chunks(struct shm_arena *a)
{
    struct shm_undo_chunk *in = chunk_at(a, SHM_UNDO_INLINE);
    uint64_t c = in->next;

    long saved = shm_crash_countdown;

    if (c == 0)
        return;
    /* Its own mutation, after the caller's commit: crash tests aim at the
     * caller's stores, not at this housekeeping. */
    shm_crash_countdown = 0;
    shm_begin(a);
    shm_set64(a, &in->next, 0);
    while (c != 0) {
        uint64_t next = chunk_at(a, c)->next;
        shm_free(a, c);
        c = next;
    }
    a->hdr->log_last_chunk = 0;
    shm_commit(a);
    shm_crash_countdown = saved;
}

void shm_commit(struct shm_arena *a)
{
    struct shm_header *h = a->hdr;
    int i, np;

    BUG_ON(!a->in_mut);
    shm_flush_frees(a);
    if (a->d_used != 0)
        shm_set64(a, &h->used_bytes, h->used_bytes + (uint64_t)a->d_used);
    if (a->d_nblocks != 0)
        shm_set64(a, &h->nblocks, h->nblocks + (uint64_t)a->d_nblocks);
    a->d_used = 0;                /* counted in the header now (shm_used) */
    a->d_nblocks = 0;
    /* The last crash point: every store done, the commit not yet. */
    if (UNLIKELY(shm_crash_countdown > 0))
        shm_crash_tick();
    shm_barrier();
    h->log_tail = 0;              /* the commit point */
    shm_barrier();
    a->in_mut = 0;
    a->mutations++;
    if (a->log_records > a->log_peak)
        a->log_peak = a->log_records;
    np = a->npunch;
    a->npunch = 0;
    if (a->log_chunk != SHM_UNDO_INLINE ||
        chunk_at(a, SHM_UNDO_INLINE)->next != 0)
        free_overflow_chunks(a);
    /* Give freed segments' memory back now that no rollback can need it.
     * A failure only means the memory stays in use. */
    for (i = 0; i < np; i++)
        (void)shm_region_punch(&a->reg, a->punch[i][0], a->punch[i][1]);
}

void shm_abort(struct shm_arena *a)
{
    int64_t n;

    BUG_ON(!a->in_mut);
    n = rollback(a);
    BUG_ON(n < 0);     /* our own log, in our own process */
    a->in_mut = 0;
    a->npunch = 0;
    a->nfrees = 0;
    a->d_used = 0;
    a->d_nblocks = 0;
    log_reset(a);
}

/* ---- attach and detach ------------------------------------------------------ */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int is_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n--)
        if (*c++)
            return 0;
    return 1;
}

/* Formats a freshly created region: header, undo chunk, database array. */
static int format_arena(struct shm_arena *a, const struct shm_arena_opts *o)
{
    struct shm_header *h = a->hdr;
    struct shm_undo_chunk *c = chunk_at(a, SHM_UNDO_INLINE);
    uint64_t seed, dbs;
    uint32_t ndb = o->dbcount ? o->dbcount : 16;
    int rc;

    if (o->hash_seed != 0)
        seed = o->hash_seed;
    else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    memset(h, 0, sizeof(*h));
    h->version = SHM_LAYOUT_VERSION;
    h->header_size = SHM_HEADER_SIZE;
    h->shard_id = o->shard_id;
    h->shard_count = o->shard_count;
    h->state = SHM_STATE_RUNNING;
    h->flags = a->reg.huge ? SHM_FLAG_HUGETLB : 0;
    h->created_ms = now_ms();
    h->hash_seed = seed;
    h->region_size = a->reg.size;
    h->heap_top = SHM_SEG_SIZE;
    h->limit = o->limit;
    memset(c, 0, sizeof(*c));
    c->cap = SHM_UNDO_INLINE_CAP;

    shm_begin(a);
    rc = shm_calloc(a, (size_t)ndb * sizeof(struct shm_db), &dbs);
    if (rc != EMBER_OK) {
        shm_abort(a);
        return rc;
    }
    shm_set64(a, &h->dbs, dbs);
    shm_set32(a, &h->dbcount, ndb);
    shm_commit(a);
    shm_barrier();
    h->magic = SHM_MAGIC;   /* last: a half-made arena has no magic */
    return EMBER_OK;
}

static void set_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* Validates a header read from the file; nothing has been mapped yet. */
static int validate_header(const struct shm_header *h, const struct shm_arena_opts *o,
                           const char *path, char *err, size_t errlen)
{
    if (h->magic != SHM_MAGIC) {
        set_err(err, errlen, "%s is not an ember arena (bad magic)", path);
        return EMBER_EMAGIC;
    }
    if (h->version != SHM_LAYOUT_VERSION) {
        set_err(err, errlen,
                "%s has arena layout version %u but this build uses version %u; "
                "it was left untouched. To migrate, run the build that created "
                "it, take a snapshot (emberctl snapshot), stop it, move the "
                "arena aside and start this build from the snapshot",
                path, h->version, SHM_LAYOUT_VERSION);
        return EMBER_EVERSION;
    }
    if (h->header_size != SHM_HEADER_SIZE) {
        set_err(err, errlen, "%s: bad header size %u", path, h->header_size);
        return EMBER_ECORRUPT;
    }
    if (o->shard_count != 0 &&
        (h->shard_id != o->shard_id || h->shard_count != o->shard_count)) {
        set_err(err, errlen,
                "%s belongs to shard %u of %u, not shard %u of %u; it was left "
                "untouched (start with --workers %u, or move it aside)",
                path, h->shard_id, h->shard_count, o->shard_id, o->shard_count,
                h->shard_count);
        return EMBER_ESHARD;
    }
    return EMBER_OK;
}

static int lock_region(struct shm_region *r, const char *path, char *err,
                       size_t errlen)
{
    if (flock(r->fd, (r->private_copy ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
        return EMBER_OK;
    if (errno == EWOULDBLOCK) {
        set_err(err, errlen, "%s is in use by another process", path);
        return EMBER_EBUSY;
    }
    set_err(err, errlen, "%s: flock: %s", path, strerror(errno));
    return EMBER_EIO;
}

static int create_arena(const struct shm_arena_opts *o, struct shm_arena *a,
                        char *err, size_t errlen)
{
    size_t size = o->initial < 2 * SHM_SEG_SIZE ? 2 * SHM_SEG_SIZE : o->initial;
    int rc;

    size = (size + SHM_SEG_SIZE - 1) & ~(size_t)(SHM_SEG_SIZE - 1);
    if (o->limit && size > o->limit) {
        set_err(err, errlen, "arena size limit %llu is below the minimum of %zu bytes",
                (unsigned long long)o->limit, size);
        return EMBER_ELIMIT;
    }
    rc = shm_region_create(&o->region, size, &a->reg);
    if (rc != EMBER_OK) {
        set_err(err, errlen, "cannot create arena %s: %s", o->region.name,
                rc == EMBER_ENOHUGE ? "hugepages requested (--hugepages on) but "
                "no hugetlbfs mount with free 2 MiB pages" : ember_strerror(rc));
        return rc;
    }
    rc = lock_region(&a->reg, a->reg.path, err, errlen);
    if (rc != EMBER_OK)
        return rc;
    a->base = a->reg.base;
    a->hdr = (struct shm_header *)a->base;
    rc = format_arena(a, o);
    if (rc != EMBER_OK) {
        set_err(err, errlen, "cannot format arena %s: %s", a->reg.path,
                ember_strerror(rc));
        return rc;
    }
    a->attach = SHM_ATTACH_CREATED;
    return EMBER_OK;
}

int shm_arena_open(const struct shm_arena_opts *o, struct shm_arena **out,
                   char *err, size_t errlen)
{
    struct shm_arena *a;
    struct shm_header h;
    int rc;

    shm_alloc_init_tables();
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        set_err(err, errlen, "out of memory");
        return EMBER_ENOMEM;
    }
    a->reg.fd = -1;
    a->readonly = o->region.readonly;
    a->inspect = o->region.private_copy;
    a->reserve_ahead = 4 * SHM_SEG_SIZE;
    a->reserve_auto = 1;

    rc = shm_region_open(&o->region, &a->reg);
    if (rc == EMBER_ENOENT && o->create && !a->readonly && !a->inspect) {
        rc = create_arena(o, a, err, errlen);
        if (rc != EMBER_OK)
            goto fail_unlink;
        goto attached;
    }
    if (rc != EMBER_OK) {
        set_err(err, errlen, "cannot open arena %s: %s", o->region.name,
                ember_strerror(rc));
        goto fail;
    }
    if (!a->readonly) {
        rc = lock_region(&a->reg, a->reg.path, err, errlen);
        if (rc != EMBER_OK)
            goto fail;
    }
    if (a->reg.size < 2 * SHM_SEG_SIZE ||
        shm_region_pread(&a->reg, &h, sizeof(h), 0) != EMBER_OK) {
        set_err(err, errlen, "%s is too short to be an ember arena", a->reg.path);
        rc = EMBER_EMAGIC;
        goto fail;
    }
    if (is_zero(&h, sizeof(h)) && o->create && !a->readonly && !a->inspect) {
        /* A creation that died before writing the magic: nothing to keep. */
        char path[PATH_MAX];
        memcpy(path, a->reg.path, sizeof(path));
        shm_region_close(&a->reg);
        if (unlink(path) != 0) {
            set_err(err, errlen, "cannot remove half-created arena %s: %s",
                    path, strerror(errno));
            rc = EMBER_EIO;
            goto fail;
        }
        rc = create_arena(o, a, err, errlen);
        if (rc != EMBER_OK)
            goto fail_unlink;
        goto attached;
    }
    rc = validate_header(&h, o, a->reg.path, err, errlen);
    if (rc != EMBER_OK)
        goto fail;
    if (h.heap_top > a->reg.size || h.heap_top < SHM_SEG_SIZE) {
        set_err(err, errlen, "%s is truncated: heap ends at %llu but the file "
                "holds %zu bytes", a->reg.path,
                (unsigned long long)h.heap_top, a->reg.size);
        rc = EMBER_ECORRUPT;
        goto fail;
    }
    rc = shm_region_map(&o->region, &a->reg);
    if (rc != EMBER_OK) {
        set_err(err, errlen, "cannot map arena %s: %s", a->reg.path,
                ember_strerror(rc));
        goto fail;
    }
    a->base = a->reg.base;
    a->hdr = (struct shm_header *)a->base;

    if (a->readonly) {
        if (a->hdr->log_tail != 0)
            a->attach |= SHM_ATTACH_UNCLEAN;
        *out = a;
        return EMBER_OK;
    }
    if (a->hdr->state == SHM_STATE_HANDED_OFF)
        a->attach |= SHM_ATTACH_HANDED_OFF;
    else if (a->hdr->state != SHM_STATE_CLEAN)
        a->attach |= SHM_ATTACH_UNCLEAN;
    if (a->hdr->log_tail != 0) {
        int64_t n = rollback(a);
        a->attach |= SHM_ATTACH_UNCLEAN;
        if (n < 0) {
            rc = EMBER_ECORRUPT;
            set_err(err, errlen, "%s: the undo log is damaged", a->reg.path);
            goto aside;
        }
        a->rolled_back = (uint64_t)n;
        a->attach |= SHM_ATTACH_ROLLED_BACK;
    }
    /* Overflow chunks of a mutation that committed just before a crash. */
    a->in_mut = 0;
    log_reset(a);
    if (chunk_at(a, SHM_UNDO_INLINE)->next != 0 && !a->inspect)
        free_overflow_chunks(a);
    if (o->check == SHM_CHECK_ALWAYS ||
        (o->check == SHM_CHECK_UNCLEAN && (a->attach & SHM_ATTACH_UNCLEAN))) {
        struct shm_check_report rep;
        rc = shm_check_flags(a, &rep, o->check_flags);
        if (rc != EMBER_OK) {
            set_err(err, errlen, "%s failed its consistency check: %s",
                    a->reg.path, rep.first_error);
            goto aside;
        }
        a->attach |= SHM_ATTACH_CHECKED;
    }
    if (a->inspect) {
        *out = a;
        return EMBER_OK;
    }
attached:
    a->hdr->limit = o->limit;
    a->hdr->region_size = a->reg.size;
    a->hdr->owner_pid = (uint64_t)getpid();
    a->hdr->generation++;
    shm_barrier();
    a->hdr->state = SHM_STATE_RUNNING;
    log_reset(a);
    *out = a;
    return EMBER_OK;

aside:
    if (a->inspect) {
        rc = EMBER_ECORRUPT;   /* the tool reports; a worker sets aside */
        goto fail;
    }
    {
        /* Never serve it, never delete it: keep it for inspection. */
        char suffix[64], newpath[PATH_MAX];
        size_t el = err ? strlen(err) : 0;
        snprintf(suffix, sizeof(suffix), "corrupt-%llu", (unsigned long long)now_ms());
        if (shm_region_rename_aside(&a->reg, suffix, newpath, sizeof(newpath)) == EMBER_OK &&
            err != NULL && el < errlen)
            set_err(err + el, errlen - el, "; renamed to %s", newpath);
        rc = EMBER_ECORRUPT;
        goto fail;
    }
fail_unlink:
    /* A creation that failed half-way leaves nothing behind. */
    if (a->reg.fd >= 0)
        unlink(a->reg.path);
fail:
    shm_region_close(&a->reg);
    free(a->frees);
    free(a);
    return rc;
}

int shm_arena_probe(const struct shm_arena_opts *o, char *err, size_t errlen)
{
    struct shm_region r;
    struct shm_header h;
    struct shm_region_opts ro = o->region;
    int rc;

    ro.readonly = 1;
    rc = shm_region_open(&ro, &r);
    if (rc != EMBER_OK) {
        if (rc != EMBER_ENOENT)
            set_err(err, errlen, "cannot open arena %s: %s", o->region.name, ember_strerror(rc));
        return rc;
    }
    if (r.size < 2 * SHM_SEG_SIZE || shm_region_pread(&r, &h, sizeof(h), 0) != EMBER_OK) {
        set_err(err, errlen, "%s is too short to be an ember arena", r.path);
        rc = EMBER_EMAGIC;
    } else if (is_zero(&h, sizeof(h))) {
        rc = EMBER_ENOENT;
    } else {
        rc = validate_header(&h, o, r.path, err, errlen);
    }
    if (rc == EMBER_OK) {
        if (flock(r.fd, LOCK_EX | LOCK_NB) != 0) {
            set_err(err, errlen, "%s is in use by another process (pid %llu attached "
                    "last): is another emberd running with this name?", r.path,
                    (unsigned long long)h.owner_pid);
            rc = EMBER_EBUSY;
        } else {
            flock(r.fd, LOCK_UN);
        }
    }
    shm_region_close(&r);
    return rc;
}

static void detach(struct shm_arena **ap, uint32_t state)
{
    struct shm_arena *a = *ap;

    if (a == NULL)
        return;
    BUG_ON(a->in_mut);
    if (!a->readonly && !a->inspect && a->hdr != NULL) {
        a->hdr->region_size = a->reg.size;
        shm_barrier();
        a->hdr->state = state;
    }
    shm_region_close(&a->reg);
    free(a->frees);
    free(a);
    *ap = NULL;
}

void shm_arena_close(struct shm_arena **ap)
{
    detach(ap, SHM_STATE_CLEAN);
}

void shm_arena_handoff(struct shm_arena **ap)
{
    detach(ap, SHM_STATE_HANDED_OFF);
}

void shm_arena_abandon(struct shm_arena **ap)
{
    struct shm_arena *a = *ap;

    if (a == NULL)
        return;
    shm_region_close(&a->reg);
    free(a->frees);
    free(a);
    *ap = NULL;
}

int shm_arena_unlink(const struct shm_region_opts *o)
{
    return shm_region_unlink(o);
}
