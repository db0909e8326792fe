/*
 * test_qlist.c - list values: both encodings and the conversions both ways,
 * pushes and pops at both ends, index/set/insert/rem/trim with Redis's
 * edge cases, iterators both ways, node splits and merges, elements bigger
 * than a node, lazy freeing, crash-at-every-step for every changing path,
 * a randomized comparison against an in-memory model, and the memory
 * figures (bytes per element) with a few timings.
 */
#include <time.h>

#include "shmtest.h"
#include "shm/qlist.h"

struct fixture {
    char name[128];
    struct shm_arena_opts o;
    struct shm_arena *a;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", shmtest_newname());
    f->o = shmtest_opts(f->name);
    f->a = shmtest_open(&f->o);
    ks_limits.list_size = -2;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->a)
        shm_arena_close(&f->a);
    shmtest_unlink(f->name);
    ks_limits.list_size = -2;
    free(f);
    return 0;
}

/* ---- a model list ------------------------------------------------------------------ */

struct mstr {
    char *s;
    size_t len;
};

struct model {
    struct mstr *v;
    size_t n, cap;
};

static struct mstr mdup(const void *s, size_t len)
{
    struct mstr m = { malloc(len + 1), len };
    assert_non_null(m.s);
    memcpy(m.s, s, len);
    m.s[len] = '\0';
    return m;
}

static void m_insert(struct model *m, size_t at, const void *s, size_t len)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = realloc(m->v, m->cap * sizeof(*m->v));
        assert_non_null(m->v);
    }
    memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(*m->v));
    m->v[at] = mdup(s, len);
    m->n++;
}

static void m_remove(struct model *m, size_t at)
{
    free(m->v[at].s);
    memmove(m->v + at, m->v + at + 1, (m->n - at - 1) * sizeof(*m->v));
    m->n--;
}

static void m_clear(struct model *m)
{
    while (m->n)
        m_remove(m, m->n - 1);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static int m_eq(const struct mstr *x, const void *s, size_t len)
{
    return x->len == len && memcmp(x->s, s, len) == 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

static struct ks_ref ref(struct shm_arena *a, const char *key)
{
    struct ks_ref r;
    ks_ref_find(a, 0, key, strlen(key), &r);
    return r;
}

static void push(struct shm_arena *a, const char *key, int where, const struct pack_str *v,
                 uint32_t n)
{
    struct ks_ref r = ref(a, key);
    shm_begin(a);
    assert_int_equal(qlist_push(a, &r, where, v, n), EMBER_OK);
    shm_commit(a);
}

static void push1(struct shm_arena *a, const char *key, int where, const char *s)
{
    struct pack_str v = { s, strlen(s) };
    push(a, key, where, &v, 1);
}

/* Pops up to max into a model (in pop order); returns how many. */
static uint32_t pop(struct shm_arena *a, const char *key, int where, uint32_t max,
                    struct model *out)
{
    struct ks_ref r = ref(a, key);
    struct qlist_elem *e = calloc(max ? max : 1, sizeof(*e));
    uint32_t n = 0, i;

    assert_non_null(e);
    shm_begin(a);
    assert_int_equal(qlist_pop(a, &r, where, e, max, &n), EMBER_OK);
    /* Popped bytes stay readable until the commit. */
    for (i = 0; out && i < n; i++)
        m_insert(out, out->n, e[i].s, e[i].len);
    shm_commit(a);
    free(e);
    return n;
}

static char *idx(struct shm_arena *a, const char *key, int64_t i, char *buf)
{
    struct ks_ref r = ref(a, key);
    struct qlist_elem e;
    if (!qlist_index(a, &r, i, &e))
        return NULL;
    memcpy(buf, e.s, e.len);
    buf[e.len] = '\0';
    return buf;
}

static uint64_t len_of(struct shm_arena *a, const char *key)
{
    struct ks_ref r = ref(a, key);
    return qlist_len(a, &r);
}

static const char *enc_of(struct shm_arena *a, const char *key)
{
    struct ks_ref r = ref(a, key);
    assert_true(r.off != 0);
    return qlist_encoding(&r);
}

/* The descriptor's node count (full lists). */
static uint64_t nodes_of(struct shm_arena *a, const char *key)
{
    struct ks_ref r = ref(a, key);
    uint64_t v[4];
    if (r.off == 0 || !r.e.enc)
        return 0;
    memcpy(v, SHM_PTR(a, ks_desc(&r.e), uint64_t), sizeof(v));
    return v[3];
}

static void set_at(struct shm_arena *a, const char *key, int64_t i, const char *s, int expect)
{
    struct ks_ref r = ref(a, key);
    int found;
    shm_begin(a);
    assert_int_equal(qlist_set(a, &r, i, s, strlen(s), &found), EMBER_OK);
    shm_commit(a);
    assert_int_equal(found, expect);
}

static int insert(struct shm_arena *a, const char *key, int after, const char *pivot,
                  const char *s)
{
    struct ks_ref r = ref(a, key);
    int found;
    shm_begin(a);
    assert_int_equal(qlist_insert(a, &r, after, pivot, strlen(pivot), s, strlen(s), &found),
                     EMBER_OK);
    shm_commit(a);
    return found;
}

static uint64_t rem(struct shm_arena *a, const char *key, int64_t count, const char *s)
{
    struct ks_ref r = ref(a, key);
    uint64_t n;
    shm_begin(a);
    assert_int_equal(qlist_rem(a, &r, count, s, strlen(s), &n), EMBER_OK);
    shm_commit(a);
    return n;
}

static void trim(struct shm_arena *a, const char *key, int64_t start, int64_t end)
{
    struct ks_ref r = ref(a, key);
    shm_begin(a);
    assert_int_equal(qlist_trim(a, &r, start, end), EMBER_OK);
    shm_commit(a);
}

static void del_key(struct shm_arena *a, const char *key)
{
    struct ks_ref r = ref(a, key);
    if (r.off == 0)
        return;
    shm_begin(a);
    assert_int_equal(ks_ref_delete(a, &r), EMBER_OK);
    shm_commit(a);
}

/* Compares the list with the model: length, both iteration directions,
 * from the middle both ways, and indexes (negative ones too). */
static void verify(struct shm_arena *a, const char *key, const struct model *m)
{
    struct ks_ref r = ref(a, key);
    struct qlist_iter it;
    struct qlist_elem e;
    size_t i, k;

    if (m->n == 0) {
        assert_int_equal(r.off, 0);
        return;
    }
    assert_true(r.off != 0);
    assert_int_equal(r.e.type, KS_T_LIST);
    assert_int_equal(qlist_len(a, &r), m->n);
    qlist_iter_init(a, &r, 0, QLIST_TAIL, &it);
    for (i = 0; qlist_iter_next(&it, &e) > 0; i++) {
        assert_true(i < m->n);
        assert_int_equal(it.index, i);
        if (!qlist_elem_eq(&e, m->v[i].s, m->v[i].len))
            fail_msg("element %zu: got %.*s, expected %s", i, (int)e.len, e.s, m->v[i].s);
    }
    qlist_iter_release(&it);
    assert_int_equal(i, m->n);
    qlist_iter_init(a, &r, -1, QLIST_HEAD, &it);
    for (i = m->n; qlist_iter_next(&it, &e) > 0;) {
        assert_true(i > 0);
        i--;
        assert_int_equal(it.index, i);
        assert_true(qlist_elem_eq(&e, m->v[i].s, m->v[i].len));
    }
    qlist_iter_release(&it);
    assert_int_equal(i, 0);
    for (k = 0; k < 3; k++) {
        size_t mid = (m->n * (k + 1)) / 4, c = 0;
        qlist_iter_init(a, &r, (int64_t)mid, QLIST_HEAD, &it);
        while (qlist_iter_next(&it, &e) > 0 && c++ < 50)
            assert_true(qlist_elem_eq(&e, m->v[it.index].s, m->v[it.index].len));
        qlist_iter_release(&it);
        qlist_iter_init(a, &r, (int64_t)mid - (int64_t)m->n, QLIST_TAIL, &it);
        c = 0;
        while (qlist_iter_next(&it, &e) > 0 && c++ < 50)
            assert_true(qlist_elem_eq(&e, m->v[it.index].s, m->v[it.index].len));
        qlist_iter_release(&it);
        assert_true(qlist_index(a, &r, (int64_t)mid, &e));
        assert_true(qlist_elem_eq(&e, m->v[mid].s, m->v[mid].len));
        assert_true(qlist_index(a, &r, (int64_t)mid - (int64_t)m->n, &e));
        assert_true(qlist_elem_eq(&e, m->v[mid].s, m->v[mid].len));
    }
    assert_false(qlist_index(a, &r, (int64_t)m->n, &e));
    assert_false(qlist_index(a, &r, -(int64_t)m->n - 1, &e));
}

/* Pushes the same strings onto a model. */
static void m_push(struct model *m, int where, const struct pack_str *v, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++)
        m_insert(m, where == QLIST_TAIL ? m->n : 0, v[i].s, v[i].len);
}

/* A list key filled with n elements "e<i>" pushed at the tail. */
static void fill(struct shm_arena *a, const char *key, struct model *m, int n,
                 const char *prefix, int width)
{
    char buf[64];
    int i;
    for (i = 0; i < n; i++) {
        struct pack_str v;
        snprintf(buf, sizeof(buf), "%s%0*d", prefix ? prefix : "e", width, i);
        v.s = buf;
        v.len = strlen(buf);
        push(a, key, QLIST_TAIL, &v, 1);
        if (m)
            m_push(m, QLIST_TAIL, &v, 1);
    }
}

/* The same, pushed in one call. */
static void fill_many(struct shm_arena *a, const char *key, struct model *m, int n,
                      const char *prefix, int width)
{
    struct pack_str *v = calloc((size_t)n, sizeof(*v));
    char (*b)[32] = calloc((size_t)n, 32);
    int i;

    assert_non_null(v);
    assert_non_null(b);
    for (i = 0; i < n; i++) {
        snprintf(b[i], 32, "%s%0*d", prefix ? prefix : "e", width, i);
        v[i].s = b[i];
        v[i].len = strlen(b[i]);
    }
    push(a, key, QLIST_TAIL, v, (uint32_t)n);
    if (m)
        m_push(m, QLIST_TAIL, v, (uint32_t)n);
    free(v);
    free(b);
}

/* How many nodes are compressed (full lists). */
static uint64_t znodes_of(struct shm_arena *a, const char *key)
{
    struct ks_ref r = ref(a, key);
    uint64_t x, n = 0;

    if (r.off == 0 || !r.e.enc)
        return 0;
    for (x = SHM_PTR(a, ks_desc(&r.e), uint64_t)[0]; x; x = SHM_PTR(a, x, uint64_t)[1]) {
        uint32_t zraw;
        memcpy(&zraw, SHM_PTR(a, x + 28, uint8_t), 4);
        n += (zraw & 0x7fffffffu) != 0;
    }
    return n;
}

/* The tail node's offset (full lists). */
static uint64_t tail_of(struct shm_arena *a, const char *key)
{
    struct ks_ref r = ref(a, key);
    uint64_t v[4];
    memcpy(v, SHM_PTR(a, ks_desc(&r.e), uint64_t), sizeof(v));
    return v[1];
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_basics(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct pack_str abc[3] = { { "a", 1 }, { "b", 1 }, { "c", 1 } };
    struct model m = { 0 }, out = { 0 };
    char buf[64];

    /* Nothing pushed: no key. */
    push(a, "l", QLIST_TAIL, abc, 0);
    assert_int_equal(ref(a, "l").off, 0);
    assert_int_equal(len_of(a, "l"), 0);
    assert_null(idx(a, "l", 0, buf));
    push(a, "l", QLIST_HEAD, abc, 3);              /* LPUSH l a b c -> c b a */
    m_push(&m, QLIST_HEAD, abc, 3);
    verify(a, "l", &m);
    assert_string_equal(idx(a, "l", 0, buf), "c");
    assert_string_equal(idx(a, "l", -1, buf), "a");
    assert_null(idx(a, "l", 3, buf));
    assert_null(idx(a, "l", -4, buf));
    assert_string_equal(enc_of(a, "l"), "listpack");
    push(a, "l", QLIST_TAIL, abc, 3);              /* RPUSH l a b c */
    m_push(&m, QLIST_TAIL, abc, 3);
    verify(a, "l", &m);
    push1(a, "l", QLIST_HEAD, "");                 /* empty strings are elements */
    m_push(&m, QLIST_HEAD, &(struct pack_str){ "", 0 }, 1);
    verify(a, "l", &m);
    assert_int_equal(pop(a, "l", QLIST_HEAD, 1, &out), 1);
    assert_int_equal(out.v[0].len, 0);
    m_remove(&m, 0);
    assert_int_equal(pop(a, "l", QLIST_TAIL, 2, &out), 2);
    assert_string_equal(out.v[1].s, "c");
    assert_string_equal(out.v[2].s, "b");
    m_remove(&m, m.n - 1);
    m_remove(&m, m.n - 1);
    verify(a, "l", &m);
    /* Popping more than there is empties and deletes the key. */
    assert_int_equal(pop(a, "l", QLIST_HEAD, 100, NULL), 4);
    assert_int_equal(ref(a, "l").off, 0);
    assert_int_equal(pop(a, "l", QLIST_HEAD, 1, NULL), 0);
    assert_int_equal(ks_count(a, 0), 0);
    shmtest_check(a);
    m_clear(&m);
    m_clear(&out);
}

/* Integers are stored as integers and come back byte for byte; anything
 * that is not the canonical form stays a string. */
static void test_integers(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    static const char *vals[] = {
        "0", "1", "-1", "127", "128", "-128", "2047", "2048", "-2048", "-2049",
        "524287", "524288", "-524288", "-524289", "67108863", "67108864", "-67108864",
        "-67108865", "2147483647", "2147483648", "-2147483648", "-2147483649",
        "549755813887", "549755813888", "140737488355327", "140737488355328",
        "36028797018963967", "36028797018963968", "9223372036854775807",
        "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
        "-0", "007", "+1", " 1", "1 ", "-", "", "1e3", "0x10", "12a", "--1",
        "99999999999999999999", "18446744073709551616", "00", "-01",
    };
    size_t n = sizeof(vals) / sizeof(vals[0]), i;
    struct model m = { 0 };
    int pass;

    for (pass = 0; pass < 2; pass++) {
        const char *key = pass ? "full" : "compact";
        if (pass)
            ks_limits.list_size = 4;   /* 4 per node: many nodes */
        for (i = 0; i < n; i++) {
            push1(a, key, QLIST_TAIL, vals[i]);
            m_insert(&m, m.n, vals[i], strlen(vals[i]));
        }
        assert_string_equal(enc_of(a, key), pass ? "quicklist" : "listpack");
        verify(a, key, &m);
        /* Matching compares the canonical bytes either way. */
        assert_int_equal(rem(a, key, 0, "-0"), 1);
        assert_int_equal(rem(a, key, 0, "128"), 1);
        assert_int_equal(rem(a, key, 0, "0"), 1);
        m_remove(&m, 32);   /* "-0" */
        m_remove(&m, 4);    /* "128" */
        m_remove(&m, 0);    /* "0" */
        verify(a, key, &m);
        m_clear(&m);
        shmtest_check(a);
    }
}

static void test_conversions(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct model m = { 0 };
    char big[4100];
    int i;

    /* Default -2 (8 KiB): compact up to a node, then a quicklist. */
    fill(a, "l", &m, 600, "element-", 5);   /* 14 bytes each: 8400 bytes */
    assert_string_equal(enc_of(a, "l"), "quicklist");
    assert_true(nodes_of(a, "l") >= 2);
    verify(a, "l", &m);
    shmtest_check(a);
    /* Back to compact once one node under half the limit is left. */
    while (m.n > 200) {
        pop(a, "l", QLIST_TAIL, 1, NULL);
        m_remove(&m, m.n - 1);
        if (strcmp(enc_of(a, "l"), "listpack") == 0)
            break;
    }
    assert_string_equal(enc_of(a, "l"), "listpack");
    assert_true(m.n * 14 + 32 <= 4096);
    verify(a, "l", &m);
    shmtest_check(a);
    del_key(a, "l");
    m_clear(&m);

    /* A count limit: 5 per node. */
    ks_limits.list_size = 5;
    fill(a, "c", &m, 5, NULL, 0);
    assert_string_equal(enc_of(a, "c"), "listpack");
    fill(a, "c", NULL, 0, NULL, 0);
    push1(a, "c", QLIST_HEAD, "x");
    m_insert(&m, 0, "x", 1);
    assert_string_equal(enc_of(a, "c"), "quicklist");
    verify(a, "c", &m);
    for (i = 0; i < 40; i++) {
        char b[16];
        snprintf(b, sizeof(b), "%d", i * 1000);
        push1(a, "c", i % 2 ? QLIST_HEAD : QLIST_TAIL, b);
        m_insert(&m, i % 2 ? 0 : m.n, b, strlen(b));
    }
    assert_true(nodes_of(a, "c") >= 9);
    verify(a, "c", &m);
    while (m.n > 1) {
        pop(a, "c", QLIST_HEAD, 1, NULL);
        m_remove(&m, 0);
    }
    assert_string_equal(enc_of(a, "c"), "listpack");
    verify(a, "c", &m);
    shmtest_check(a);
    del_key(a, "c");
    m_clear(&m);

    /* Each size class, and an element too big for the compact encoding. */
    for (i = 1; i <= 5; i++) {
        size_t lim = 4096u << (i - 1);
        ks_limits.list_size = -i;
        memset(big, 'a' + i, sizeof(big));
        fill_many(a, "s", &m, (int)((lim - 32) / 10) - 5, "", 9);   /* just under a node */
        assert_string_equal(enc_of(a, "s"), "listpack");
        push(a, "s", QLIST_TAIL, &(struct pack_str){ big, 100 }, 1);
        m_insert(&m, m.n, big, 100);
        push(a, "s", QLIST_TAIL, &(struct pack_str){ big, 100 }, 1);
        m_insert(&m, m.n, big, 100);
        assert_string_equal(enc_of(a, "s"), "quicklist");
        verify(a, "s", &m);
        del_key(a, "s");
        m_clear(&m);
    }
    ks_limits.list_size = -1;
    memset(big, 'z', sizeof(big));
    push1(a, "h", QLIST_TAIL, "small");
    push(a, "h", QLIST_TAIL, &(struct pack_str){ big, sizeof(big) }, 1);  /* > 4096 - 32 */
    assert_string_equal(enc_of(a, "h"), "quicklist");
    shmtest_check(a);
}

/* Pushes and pops on a big list: in place, new nodes, node growth, the
 * tail split, many at once. */
static void test_push_pop_full(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct model m = { 0 }, out = { 0 };
    struct pack_str v[300];
    char bufs[300][32];
    int i, round;

    for (round = 0; round < 6; round++) {
        int where = round % 2 ? QLIST_HEAD : QLIST_TAIL;
        for (i = 0; i < 300; i++) {
            snprintf(bufs[i], sizeof(bufs[i]), round % 3 ? "v%d-%d" : "%d%d", round, i);
            v[i].s = bufs[i];
            v[i].len = strlen(bufs[i]);
        }
        push(a, "l", where, v, 300);          /* many at once */
        m_push(&m, where, v, 300);
        for (i = 0; i < 300; i++) {           /* one at a time */
            push(a, "l", where, &v[i], 1);
            m_push(&m, where, &v[i], 1);
        }
        verify(a, "l", &m);
    }
    assert_string_equal(enc_of(a, "l"), "quicklist");
    shmtest_check(a);
    /* Pops: single and many, both ends; the model follows. */
    for (round = 0; round < 40; round++) {
        int where = round % 2 ? QLIST_HEAD : QLIST_TAIL;
        uint32_t want = round % 5 == 0 ? 97 : 1, got, j;
        m_clear(&out);
        got = pop(a, "l", where, want, &out);
        assert_int_equal(got, want);
        for (j = 0; j < got; j++) {
            size_t at = where == QLIST_HEAD ? 0 : m.n - 1;
            assert_true(m_eq(&m.v[at], out.v[j].s, out.v[j].len));
            m_remove(&m, at);
        }
    }
    verify(a, "l", &m);
    shmtest_check(a);
    /* RPOP after RPOP stays cheap: the tail splits. */
    for (i = 0; i < 500; i++) {
        pop(a, "l", QLIST_TAIL, 1, NULL);
        m_remove(&m, m.n - 1);
    }
    verify(a, "l", &m);
    shmtest_check(a);
    /* Pop everything in big bites. */
    while (m.n) {
        uint32_t got = pop(a, "l", i++ % 2 ? QLIST_HEAD : QLIST_TAIL, 333, NULL), j;
        for (j = 0; j < got; j++)
            m_remove(&m, (i % 2) ? 0 : m.n - 1);
    }
    assert_int_equal(ref(a, "l").off, 0);
    shmtest_check(a);
    m_clear(&m);
    m_clear(&out);
}

static void test_set_insert(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct model m = { 0 };
    char buf[64];
    int enc;

    for (enc = 0; enc < 2; enc++) {
        const char *k = enc ? "full" : "small";
        ks_limits.list_size = enc ? 8 : -2;
        fill(a, k, &m, 50, NULL, 0);
        assert_string_equal(enc_of(a, k), enc ? "quicklist" : "listpack");
        /* LSET: same size in place, other sizes, ints, negative, out of range. */
        set_at(a, k, 0, "E0", 1);
        set_at(a, k, -1, "a-much-longer-value", 1);
        set_at(a, k, 25, "12345", 1);
        set_at(a, k, -24, "", 1);
        set_at(a, k, 50, "x", 0);
        set_at(a, k, -51, "x", 0);
        m.v[0] = (free(m.v[0].s), mdup("E0", 2));
        m.v[49] = (free(m.v[49].s), mdup("a-much-longer-value", 19));
        m.v[25] = (free(m.v[25].s), mdup("12345", 5));
        m.v[26] = (free(m.v[26].s), mdup("", 0));
        verify(a, k, &m);
        /* LINSERT: first/last/middle, before/after, missing pivot. */
        assert_int_equal(insert(a, k, 0, "E0", "first"), 1);
        m_insert(&m, 0, "first", 5);
        assert_int_equal(insert(a, k, 1, "a-much-longer-value", "last"), 1);
        m_insert(&m, m.n, "last", 4);
        assert_int_equal(insert(a, k, 1, "12345", "mid-after"), 1);
        m_insert(&m, 27, "mid-after", 9);
        assert_int_equal(insert(a, k, 0, "12345", "mid-before"), 1);
        m_insert(&m, 26, "mid-before", 10);
        assert_int_equal(insert(a, k, 0, "nope", "x"), 0);
        assert_int_equal(insert(a, k, 1, "last", "7"), 1);
        m_insert(&m, m.n, "7", 1);
        assert_int_equal(insert(a, k, 0, "7", "-7"), 1);   /* integer pivot */
        m_insert(&m, m.n - 1, "-7", 2);
        verify(a, k, &m);
        /* Many inserts in one place: nodes split. */
        {
            int i;
            for (i = 0; i < 100; i++) {
                snprintf(buf, sizeof(buf), "ins%d", i);
                assert_int_equal(insert(a, k, 1, "e10", buf), 1);
                m_insert(&m, 12, buf, strlen(buf));
            }
        }
        verify(a, k, &m);
        if (enc)
            assert_true(nodes_of(a, k) > 20);
        shmtest_check(a);
        del_key(a, k);
        m_clear(&m);
    }
}

static void test_rem(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct model m = { 0 };
    int enc, i;

    for (enc = 0; enc < 2; enc++) {
        const char *k = enc ? "full" : "small";
        uint64_t before;
        ks_limits.list_size = enc ? 10 : -2;
        for (i = 0; i < 120; i++) {
            const char *s = i % 3 == 0 ? "x" : i % 3 == 1 ? "42" : "y";
            char b[16];
            if (i % 3 == 2) {
                snprintf(b, sizeof(b), "y%d", i);
                s = b;
            }
            push1(a, k, QLIST_TAIL, s);
            m_insert(&m, m.n, s, strlen(s));
        }
        assert_string_equal(enc_of(a, k), enc ? "quicklist" : "listpack");
        assert_int_equal(rem(a, k, 0, "absent"), 0);
        /* From the head: the first 3 "x". */
        assert_int_equal(rem(a, k, 3, "x"), 3);
        for (i = 0; i < 3; i++)
            m_remove(&m, i * 2);
        verify(a, k, &m);
        /* From the tail: the last 5 "42". */
        assert_int_equal(rem(a, k, -5, "42"), 5);
        {
            int left = 5;
            size_t j = m.n;
            while (left && j-- > 0)
                if (m_eq(&m.v[j], "42", 2)) {
                    m_remove(&m, j);
                    left--;
                }
        }
        verify(a, k, &m);
        /* All of them. */
        before = nodes_of(a, k);
        assert_int_equal(rem(a, k, 0, "42"), 35);
        for (i = (int)m.n - 1; i >= 0; i--)
            if (m_eq(&m.v[i], "42", 2))
                m_remove(&m, (size_t)i);
        verify(a, k, &m);
        if (enc)
            assert_true(nodes_of(a, k) < before);   /* merged */
        assert_int_equal(rem(a, k, 0, "x"), 37);
        for (i = (int)m.n - 1; i >= 0; i--)
            if (m_eq(&m.v[i], "x", 1))
                m_remove(&m, (size_t)i);
        verify(a, k, &m);
        shmtest_check(a);
        /* Removing every element deletes the key. */
        trim(a, k, 0, 0);
        assert_int_equal(rem(a, k, -1, m.v[0].s), 1);
        assert_int_equal(ref(a, k).off, 0);
        m_clear(&m);
        shmtest_check(a);
    }
}

/* LTRIM against the model for Redis's edge cases, both encodings. */
static void test_trim(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    static const int64_t cases[][2] = {
        { 0, -1 }, { 0, 0 }, { -1, -1 }, { 1, -2 }, { 5, 3 }, { -3, -5 }, { 0, 1000 },
        { -1000, 2 }, { -1000, -1000 }, { 100, 200 }, { 99, 99 }, { 3, -3 }, { 40, 60 },
        { -60, -40 }, { 1, 0 },
    };
    size_t c;
    int enc;

    for (enc = 0; enc < 3; enc++) {
        ks_limits.list_size = enc == 0 ? -2 : enc == 1 ? 7 : -1;
        for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            struct model m = { 0 };
            int64_t s = cases[c][0], e = cases[c][1], n = 100, i;
            fill(a, "t", &m, (int)n, enc == 2 ? "padding-padding-padding-" : NULL,
                 enc == 2 ? 4 : 0);
            trim(a, "t", s, e);
            if (s < 0)
                s += n;
            if (e < 0)
                e += n;
            if (s < 0)
                s = 0;
            if (s > e || s >= n) {
                while (m.n)
                    m_remove(&m, 0);
            } else {
                if (e >= n)
                    e = n - 1;
                for (i = n - 1; i > e; i--)
                    m_remove(&m, (size_t)i);
                for (i = 0; i < s; i++)
                    m_remove(&m, 0);
            }
            verify(a, "t", &m);
            shmtest_check(a);
            del_key(a, "t");
            m_clear(&m);
        }
    }
}

static void test_iterators(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct model m = { 0 };
    struct qlist_iter it;
    struct qlist_elem e;
    struct ks_ref r;
    int enc;

    for (enc = 0; enc < 2; enc++) {
        ks_limits.list_size = enc ? 3 : -2;
        fill(a, "i", &m, 20, NULL, 0);
        r = ref(a, "i");
        /* Out of range: nothing. */
        qlist_iter_init(a, &r, 20, QLIST_TAIL, &it);
        assert_false(qlist_iter_next(&it, &e));
        qlist_iter_init(a, &r, -21, QLIST_HEAD, &it);
        assert_false(qlist_iter_next(&it, &e));
        /* From 5 toward the head: 5 4 3 2 1 0. */
        qlist_iter_init(a, &r, 5, QLIST_HEAD, &it);
        {
            int want = 5;
            while (qlist_iter_next(&it, &e) > 0) {
                char b[16];
                snprintf(b, sizeof(b), "e%d", want);
                assert_true(qlist_elem_eq(&e, b, strlen(b)));
                assert_int_equal(it.index, want);
                want--;
            }
            assert_int_equal(want, -1);
        }
        qlist_iter_release(&it);
        /* From -3 toward the tail: 17 18 19. */
        qlist_iter_init(a, &r, -3, QLIST_TAIL, &it);
        assert_true(qlist_iter_next(&it, &e) > 0 && qlist_elem_eq(&e, "e17", 3));
        assert_true(qlist_iter_next(&it, &e) > 0 && qlist_elem_eq(&e, "e18", 3));
        assert_true(qlist_iter_next(&it, &e) > 0 && qlist_elem_eq(&e, "e19", 3));
        assert_false(qlist_iter_next(&it, &e));
        qlist_iter_release(&it);
        verify(a, "i", &m);
        del_key(a, "i");
        m_clear(&m);
    }
    /* A long node walked backward needs the heap offsets. */
    ks_limits.list_size = -5;
    fill(a, "long", &m, 5000, "", 0);
    verify(a, "long", &m);
    m_clear(&m);
}

/* Elements bigger than a node: their own nodes, everywhere. */
static void test_huge_elements(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    size_t sizes[] = { 5000, 9000, 70000, 3u << 20 };
    struct model m = { 0 };
    char *big = malloc(3u << 20);
    size_t i;

    assert_non_null(big);
    ks_limits.list_size = -1;
    fill(a, "h", &m, 10, NULL, 0);
    for (i = 0; i < 4; i++) {
        memset(big, 'A' + (int)i, sizes[i]);
        push(a, "h", i % 2 ? QLIST_HEAD : QLIST_TAIL, &(struct pack_str){ big, sizes[i] }, 1);
        m_insert(&m, i % 2 ? 0 : m.n, big, sizes[i]);
        fill(a, "h", &m, 10, "after", 0);
    }
    verify(a, "h", &m);
    shmtest_check(a);
    memset(big, 'S', 100000);
    set_at(a, "h", 3, "", 1);
    {
        struct ks_ref r = ref(a, "h");
        int found;
        shm_begin(a);
        assert_int_equal(qlist_set(a, &r, 5, big, 100000, &found), EMBER_OK);
        shm_commit(a);
        m.v[3] = (free(m.v[3].s), mdup("", 0));
        m.v[5] = (free(m.v[5].s), mdup(big, 100000));
        r = ref(a, "h");
        shm_begin(a);
        assert_int_equal(qlist_insert(a, &r, 1, "e4", 2, big, 5000, &found), EMBER_OK);
        shm_commit(a);
        assert_int_equal(found, 1);
    }
    for (i = 0; i < m.n; i++)
        if (m_eq(&m.v[i], "e4", 2))
            break;
    m_insert(&m, i + 1, big, 5000);
    verify(a, "h", &m);
    shmtest_check(a);
    {
        struct model out = { 0 };
        pop(a, "h", QLIST_HEAD, 30, &out);
        for (i = 0; i < 30; i++) {
            assert_true(m_eq(&m.v[0], out.v[i].s, out.v[i].len));
            m_remove(&m, 0);
        }
        m_clear(&out);
    }
    verify(a, "h", &m);
    shmtest_check(a);
    m_clear(&m);
    free(big);
}

static void test_lazy_free(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct model m = { 0 };
    struct ks_ref r;
    int steps = 0;

    ks_limits.list_size = 16;
    fill(a, "big", NULL, 5000, "member-", 0);
    r = ref(a, "big");
    shm_begin(a);
    assert_int_equal(ks_ref_delete(a, &r), EMBER_OK);
    shm_commit(a);
    assert_true(ks_gc_pending(a));
    assert_int_equal(ks_count(a, 0), 0);
    shmtest_check(a);
    while (ks_gc_step(a, 100) > 0) {
        steps++;
        shmtest_check(a);
    }
    assert_true(steps > 20);
    assert_false(ks_gc_pending(a));
    /* LTRIM cutting many whole nodes hands them to the garbage list too. */
    fill(a, "t", &m, 3000, NULL, 0);
    {
        uint64_t recs;
        r = ref(a, "t");
        shm_begin(a);
        assert_int_equal(qlist_trim(a, &r, 1000, 1999), EMBER_OK);
        recs = a->log_records;
        shm_commit(a);
        assert_true(recs < 40);
    }
    assert_true(ks_gc_pending(a));
    shmtest_check(a);
    while (ks_gc_step(a, 50) > 0)
        shmtest_check(a);
    {
        int i;
        for (i = 2999; i >= 2000; i--)
            m_remove(&m, (size_t)i);
        for (i = 0; i < 1000; i++)
            m_remove(&m, 0);
    }
    verify(a, "t", &m);
    shmtest_check(a);
    m_clear(&m);
}

/* Breaks n bytes at p, expects the check to fail, puts them back. */
static void expect_corrupt(struct shm_arena *a, void *p, const void *bad, size_t n,
                           const char *what)
{
    struct shm_check_report rep;
    uint8_t save[16];

    assert_true(n <= sizeof(save));
    memcpy(save, p, n);
    memcpy(p, bad, n);
    if (shm_check(a, &rep) == EMBER_OK)
        fail_msg("the check missed: %s", what);
    memcpy(p, save, n);
    shmtest_check(a);
}

static void test_check_detects(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct pack_str v[3] = { { "a", 1 }, { "2047", 4 }, { "c", 1 } };
    uint8_t *val, *node, *node2;
    uint64_t *desc, x, zx = 0;
    uint32_t u32;
    struct ks_ref r;

    push(a, "c", QLIST_TAIL, v, 3);
    r = ref(a, "c");
    val = (uint8_t *)r.e.val;
    u32 = 4;
    expect_corrupt(a, val, &u32, 4, "compact count");
    expect_corrupt(a, val + 5, "7", 1, "an integer stored as a string");
    expect_corrupt(a, val + 4, "\xfe", 1, "an invalid tag");
    expect_corrupt(a, val + 6, "\xd0\x05", 2, "an integer not in its smallest form");
    expect_corrupt(a, val + 6, "\x84", 1, "a string running past the value");

    ks_limits.list_size = 4;
    fill_many(a, "f", NULL, 20, NULL, 0);
    r = ref(a, "f");
    desc = SHM_PTR(a, ks_desc(&r.e), uint64_t);
    node = SHM_PTR(a, desc[0], uint8_t);
    node2 = SHM_PTR(a, ((uint64_t *)node)[1], uint8_t);
    x = desc[2] + 1;
    expect_corrupt(a, &desc[2], &x, 8, "descriptor element count");
    x = desc[3] - 1;
    expect_corrupt(a, &desc[3], &x, 8, "descriptor node count");
    x = desc[0];
    expect_corrupt(a, &desc[1], &x, 8, "descriptor tail");
    x = 0;
    expect_corrupt(a, node2, &x, 8, "prev link");
    u32 = 0;
    expect_corrupt(a, node2 + 16, &u32, 4, "empty node");
    u32 = 1u << 20;
    expect_corrupt(a, node2 + 24, &u32, 4, "run past its block");
    u32 = 3;
    expect_corrupt(a, node2 + 16, &u32, 4, "node element count");
    u32 = 100;
    expect_corrupt(a, node + 28, &u32, 4, "a compressed head");

    ks_limits.list_size = -1;
    fill_many(a, "z", NULL, 1500, "padding-padding-padding-", 4);
    r = ref(a, "z");
    desc = SHM_PTR(a, ks_desc(&r.e), uint64_t);
    for (x = desc[0]; x && !zx; x = SHM_PTR(a, x, uint64_t)[1]) {
        memcpy(&u32, SHM_PTR(a, x + 28, uint8_t), 4);
        if (u32 & 0x7fffffffu)
            zx = x;
    }
    assert_true(zx != 0);
    node = SHM_PTR(a, zx, uint8_t);
    memcpy(&u32, node + 28, 4);
    u32 += 1;
    expect_corrupt(a, node + 28, &u32, 4, "compressed size");
    u32 = (u32 - 1) | 0x80000000u;
    expect_corrupt(a, node + 28, &u32, 4, "compressed and marked plain");
    {
        uint32_t start;
        memcpy(&start, node + 20, 4);
        expect_corrupt(a, node + start, "\xff\xff\xff\xff", 4, "compressed bytes");
    }
    /* Elements too big: refused before anything changes. */
    r = ref(a, "c");
    shm_begin(a);
    {
        struct pack_str huge = { "x", (size_t)UINT32_MAX };
        int found;
        assert_int_equal(qlist_push(a, &r, QLIST_TAIL, &huge, 1), EMBER_ETOOBIG);
        assert_int_equal(qlist_set(a, &r, 0, "x", (size_t)UINT32_MAX, &found), EMBER_ETOOBIG);
    }
    shm_commit(a);
    shmtest_check(a);
}

/* ---- crash at every step -------------------------------------------------------------- */

enum { OP_PUSH, OP_POP, OP_SET, OP_INSERT, OP_REM, OP_TRIM, OP_DEL, OP_GC };

struct op {
    int kind;
    const char *key;
    int where;
    const struct pack_str *v;
    uint32_t n;
    int64_t i, j;           /* index, count, trim range */
    const char *s, *pivot;
};

static void run_op(struct shm_arena *a, void *arg)
{
    struct op *o = arg;
    struct ks_ref r;
    static struct qlist_elem e[512];
    uint32_t n;
    uint64_t k;
    int x;

    if (o->kind == OP_GC) {
        ks_gc_step(a, 50);
        return;
    }
    ks_ref_find(a, 0, o->key, strlen(o->key), &r);
    shm_begin(a);
    switch (o->kind) {
    case OP_PUSH:
        BUG_ON(qlist_push(a, &r, o->where, o->v, o->n) != EMBER_OK);
        break;
    case OP_POP:
        BUG_ON(o->n > 512 || qlist_pop(a, &r, o->where, e, o->n, &n) != EMBER_OK);
        break;
    case OP_SET:
        BUG_ON(qlist_set(a, &r, o->i, o->s, strlen(o->s), &x) != EMBER_OK || !x);
        break;
    case OP_INSERT:
        BUG_ON(qlist_insert(a, &r, o->where, o->pivot, strlen(o->pivot), o->s, strlen(o->s),
                            &x) != EMBER_OK || !x);
        break;
    case OP_REM:
        BUG_ON(qlist_rem(a, &r, o->i, o->s, strlen(o->s), &k) != EMBER_OK || k == 0);
        break;
    case OP_TRIM:
        BUG_ON(qlist_trim(a, &r, o->i, o->j) != EMBER_OK);
        break;
    case OP_DEL:
        BUG_ON(ks_ref_delete(a, &r) != EMBER_OK);
        break;
    }
    shm_commit(a);
}

#define PUSH(k, w, vv, nn) (struct op){ .kind = OP_PUSH, .key = k, .where = w, .v = vv, .n = nn }
#define POP(k, w, nn)      (struct op){ .kind = OP_POP, .key = k, .where = w, .n = nn }
#define SET(k, ii, ss)     (struct op){ .kind = OP_SET, .key = k, .i = ii, .s = ss }
#define INS(k, w, p, ss) \
    (struct op){ .kind = OP_INSERT, .key = k, .where = w, .pivot = p, .s = ss }
#define REM(k, c, ss)      (struct op){ .kind = OP_REM, .key = k, .i = c, .s = ss }
#define TRIM(k, a, b)      (struct op){ .kind = OP_TRIM, .key = k, .i = a, .j = b }
#define DEL(k)             (struct op){ .kind = OP_DEL, .key = k }
#define GC()               (struct op){ .kind = OP_GC }

static char crash_summary[4096];
static const char *crash_last;

/* Crashes op at every step; notes "what points" (repeats: "+points") for
 * the summary line. */
static long crash(struct fixture *f, struct op o, const char *what)
{
    long n = shmtest_crash_every_step(&f->a, &f->o, run_op, &o, what, 1);
    size_t len = strlen(crash_summary);

    if (crash_last && strcmp(crash_last, what) == 0)
        snprintf(crash_summary + len, sizeof(crash_summary) - len, "+%ld", n);
    else
        snprintf(crash_summary + len, sizeof(crash_summary) - len, "%s%s %ld",
                 len ? ", " : "", what, n);
    crash_last = what;
    return n;
}

static void test_crash_every_path(void **state)
{
    struct fixture *f = *state;
    struct pack_str one = { "hello", 5 }, num = { "12345", 5 }, many[40];
    char bufs[40][16];
    long total = 0;
    int i;

    for (i = 0; i < 40; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "m%d", i);
        many[i].s = bufs[i];
        many[i].len = strlen(bufs[i]);
    }
    ks_limits.list_size = 16;   /* small nodes: every path within few elements */
    total += crash(f, PUSH("l", QLIST_TAIL, &one, 1), "create");
    total += crash(f, PUSH("l", QLIST_HEAD, &num, 1), "push compact");
    total += crash(f, PUSH("l", QLIST_TAIL, many, 10), "push compact many");
    assert_string_equal(enc_of(f->a, "l"), "listpack");
    total += crash(f, PUSH("l", QLIST_TAIL, many + 10, 10), "convert to full");
    assert_string_equal(enc_of(f->a, "l"), "quicklist");
    total += crash(f, PUSH("l", QLIST_TAIL, &one, 1), "push tail in node");
    total += crash(f, PUSH("l", QLIST_HEAD, &one, 1), "push head in node");
    total += crash(f, PUSH("l", QLIST_TAIL, many, 30), "push tail new nodes");
    total += crash(f, PUSH("l", QLIST_HEAD, many, 30), "push head new nodes");
    total += crash(f, PUSH("l", QLIST_HEAD, &num, 1), "push head more");
    total += crash(f, POP("l", QLIST_HEAD, 1), "pop head");
    total += crash(f, POP("l", QLIST_TAIL, 1), "pop tail");
    total += crash(f, POP("l", QLIST_HEAD, 20), "pop head nodes");
    total += crash(f, POP("l", QLIST_TAIL, 20), "pop tail nodes");
    total += crash(f, SET("l", 10, "hellp"), "set in place");
    total += crash(f, SET("l", -4, "a longer one"), "set");
    total += crash(f, INS("l", 1, "m5", "ins"), "insert");
    total += crash(f, REM("l", 0, "hello"), "rem all");
    total += crash(f, REM("l", -1, "m3"), "rem tail");
    total += crash(f, TRIM("l", 2, -3), "trim");
    total += crash(f, TRIM("l", 5, 2), "trim deletes key");
    assert_int_equal(ref(f->a, "l").off, 0);
    /* Back to compact: 9 elements at 8 per node are two nodes; at 16 per
     * node, popping the lone tail element leaves one small node. */
    ks_limits.list_size = 8;
    fill_many(f->a, "c", NULL, 9, NULL, 0);
    assert_int_equal(nodes_of(f->a, "c"), 2);
    ks_limits.list_size = 16;
    total += crash(f, POP("c", QLIST_TAIL, 1), "pop to compact");
    assert_string_equal(enc_of(f->a, "c"), "listpack");
    total += crash(f, SET("c", 0, "E0"), "set compact in place");
    total += crash(f, SET("c", 1, "x"), "set compact");
    total += crash(f, INS("c", 0, "x", "y"), "insert compact");
    total += crash(f, REM("c", 1, "y"), "rem compact");
    total += crash(f, TRIM("c", 1, -1), "trim compact");
    total += crash(f, POP("c", QLIST_TAIL, 64), "pop all");
    assert_int_equal(ref(f->a, "c").off, 0);
    /* A node that grows, a node split by RPOP, an insert splitting a node,
     * a trim handing whole nodes to the garbage list. */
    ks_limits.list_size = -1;
    fill_many(f->a, "g", NULL, 1000, NULL, 0);
    assert_int_equal(nodes_of(f->a, "g"), 2);
    {
        uint64_t t = tail_of(f->a, "g");
        total += crash(f, PUSH("g", QLIST_TAIL, many, 40), "push grows node");
        assert_int_equal(nodes_of(f->a, "g"), 2);
        assert_true(tail_of(f->a, "g") != t);
    }
    total += crash(f, POP("g", QLIST_TAIL, 1), "pop splits tail");
    assert_int_equal(nodes_of(f->a, "g"), 3);
    total += crash(f, INS("g", 0, "e100", "inserted-element"),
                   "insert splits node");
    assert_int_equal(nodes_of(f->a, "g"), 4);
    total += crash(f, TRIM("g", 300, 340), "trim to garbage");
    assert_true(ks_gc_pending(f->a));
    while (ks_gc_pending(f->a))
        total += crash(f, GC(), "gc step");
    /* Compressed inner nodes: made by pushes, decompressed when a pop or a
     * trim reaches them, rewritten by edits, freed lazily. */
    ks_limits.list_size = -1;
    fill_many(f->a, "z", NULL, 1500, "padding-padding-padding-", 4);
    assert_true(znodes_of(f->a, "z") >= 5);
    {
        uint64_t z = znodes_of(f->a, "z"), nodes = nodes_of(f->a, "z");
        do   /* until a push makes a new tail and compresses a node */
            total += crash(f, PUSH("z", QLIST_TAIL, many, 40), "push and compress");
        while (nodes_of(f->a, "z") == nodes);
        assert_true(znodes_of(f->a, "z") > z);
    }
    total += crash(f, SET("z", 700, "padding-padding-padding-XXXX"), "set in compressed node");
    total += crash(f, INS("z", 0, "padding-padding-padding-0800", "new"),
                   "insert in compressed node");
    total += crash(f, REM("z", -1, "padding-padding-padding-0900"), "rem in compressed node");
    total += crash(f, POP("z", QLIST_HEAD, 300), "pop into compressed node");
    total += crash(f, TRIM("z", 200, -200), "trim into compressed nodes");
    assert_true(znodes_of(f->a, "z") >= 1);
    total += crash(f, DEL("z"), "lazy delete compressed");
    while (ks_gc_pending(f->a))
        total += crash(f, GC(), "gc step");
    /* A big list deleted lazily, and the garbage steps. */
    ks_limits.list_size = 8;
    fill(f->a, "big", NULL, 300, NULL, 0);
    total += crash(f, DEL("big"), "lazy delete");
    while (ks_gc_pending(f->a))
        total += crash(f, GC(), "gc step");
    shmtest_check(f->a);
    print_message("qlist: %ld crash points rolled back and compared (%s)\n", total,
                  crash_summary);
}

/* ---- randomized against the model ------------------------------------------------------- */

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random value: a small pool (so LREM/LINSERT find matches), integers,
 * strings of assorted lengths, now and then bigger than a node. */
static size_t rnd_value(char *buf, size_t cap)
{
    uint64_t k = rnd() % 100;
    size_t len, i;

    if (k < 30)
        return (size_t)snprintf(buf, cap, "p%d", (int)(rnd() % 8));
    if (k < 55)
        return (size_t)snprintf(buf, cap, "%lld", (long long)(rnd() % 2000000) - 1000000);
    if (k < 60)
        return (size_t)snprintf(buf, cap, "%lld", (long long)rnd());
    len = k < 90 ? rnd() % 40 : k < 99 ? 60 + rnd() % 300 : 5000 + rnd() % 6000;
    if (len > cap)
        len = cap;
    if (k % 2) {   /* noise */
        for (i = 0; i < len; i++)
            buf[i] = (char)('a' + (rnd() + i) % 26);
    } else {       /* a pattern: compresses well */
        char c = (char)('a' + rnd() % 4);
        for (i = 0; i < len; i++)
            buf[i] = (char)(c + i % 3);
    }
    return len;
}

/*
 * Mixed operations against the model, 100 per batch, the whole list checked
 * after each batch.  Batches cycle through node limits and compression on
 * and off, and through phases: grow, grow, steady, shrink.  `big` keeps
 * byte limits and grows for longer (lists of tens of thousands).
 */
static void random_run(struct shm_arena *a, int big, int batches)
{
    static const int32_t sizes[] = { -2, 4, -1, 64, 1, 16, -3, 128 };
    static const int32_t big_sizes[] = { -2, -1, -2, -3 };
    static char vbuf[32][12000];
    struct model m = { 0 };
    struct ks_ref r;
    int batch, op;
    long ops = 0;
    size_t maxlen = 0;
    uint64_t maxnodes = 0, maxz = 0;

    if (getenv("QLIST_TEST_SEED"))   /* replay or explore: QLIST_TEST_SEED=n */
        rng = strtoull(getenv("QLIST_TEST_SEED"), NULL, 0) | 1;
    if (getenv("QLIST_TEST_BATCHES"))
        batches = atoi(getenv("QLIST_TEST_BATCHES"));
    for (batch = 0; batch < batches; batch++) {
        ks_limits.list_size = big ? big_sizes[batch % 4] : sizes[batch % 8];
        qlist_compress = batch % 7 != 3;
        for (op = 0; op < 100; op++, ops++) {
            uint64_t k = rnd() % 100;
            int phase = big ? (batch % 10 < 8 ? 0 : 3) : (batch / 3) % 4;
            struct pack_str v[32];
            uint32_t n, i;
            r = ref(a, "r");
            shm_begin(a);
            if (k < 40) {   /* push */
                int where = (int)(rnd() % 2);
                n = 1 + (uint32_t)(rnd() % (phase < 2 ? 32 : 3));
                for (i = 0; i < n; i++) {
                    v[i].len = rnd_value(vbuf[i], sizeof(vbuf[i]));
                    v[i].s = vbuf[i];
                }
                assert_int_equal(qlist_push(a, &r, where, v, n), EMBER_OK);
                m_push(&m, where, v, n);
            } else if (k < 60) {   /* pop */
                struct qlist_elem e[20];
                int where = (int)(rnd() % 2);
                uint32_t want = 1 + (uint32_t)(rnd() % (phase == 3 ? 20 : 3));
                assert_int_equal(qlist_pop(a, &r, where, e, want, &n), EMBER_OK);
                assert_int_equal(n, want < m.n ? want : m.n);
                for (i = 0; i < n; i++) {
                    size_t at = where == QLIST_HEAD ? 0 : m.n - 1;
                    assert_true(qlist_elem_eq(&e[i], m.v[at].s, m.v[at].len));
                    m_remove(&m, at);
                }
            } else if (k < 70 && m.n) {   /* set */
                int64_t i64 = (int64_t)(rnd() % (m.n * 2 + 2)) - (int64_t)m.n - 1;
                int found;
                size_t len = rnd_value(vbuf[0], sizeof(vbuf[0]));
                assert_int_equal(qlist_set(a, &r, i64, vbuf[0], len, &found), EMBER_OK);
                assert_int_equal(found, i64 >= -(int64_t)m.n && i64 < (int64_t)m.n);
                if (found) {
                    size_t at = (size_t)(i64 < 0 ? i64 + (int64_t)m.n : i64);
                    free(m.v[at].s);
                    m.v[at] = mdup(vbuf[0], len);
                }
            } else if (k < 80) {   /* insert */
                size_t plen = rnd_value(vbuf[1], sizeof(vbuf[1])), len, at;
                int after = (int)(rnd() % 2), found;
                if (m.n && rnd() % 2) {
                    struct mstr *p = &m.v[rnd() % m.n];
                    memcpy(vbuf[1], p->s, p->len);
                    plen = p->len;
                }
                len = rnd_value(vbuf[0], sizeof(vbuf[0]));
                assert_int_equal(qlist_insert(a, &r, after, vbuf[1], plen, vbuf[0], len,
                                              &found), EMBER_OK);
                for (at = 0; at < m.n && !m_eq(&m.v[at], vbuf[1], plen); at++)
                    ;
                assert_int_equal(found, at < m.n);
                if (found)
                    m_insert(&m, at + (size_t)after, vbuf[0], len);
            } else if (k < 92) {   /* rem */
                int64_t count = (int64_t)(rnd() % 7) - 3;
                if (big && count == 0)
                    count = 2;
                size_t len = (size_t)snprintf(vbuf[0], 16, "p%d", (int)(rnd() % 8)), left;
                uint64_t removed;
                assert_int_equal(qlist_rem(a, &r, count, vbuf[0], len, &removed), EMBER_OK);
                left = count == 0 ? SIZE_MAX : (size_t)(count < 0 ? -count : count);
                if (count >= 0) {
                    size_t at;
                    for (at = 0; at < m.n && left;)
                        if (m_eq(&m.v[at], vbuf[0], len)) {
                            m_remove(&m, at);
                            left--;
                            removed--;
                        } else {
                            at++;
                        }
                } else {
                    size_t at = m.n;
                    while (at-- > 0 && left)
                        if (m_eq(&m.v[at], vbuf[0], len)) {
                            m_remove(&m, at);
                            left--;
                            removed--;
                        }
                }
                assert_int_equal(removed, 0);
            } else if (k < 97) {   /* trim, mostly mild */
                int64_t nn = (int64_t)m.n, s = (int64_t)(rnd() % 4),
                        e = -1 - (int64_t)(rnd() % 6), i64;
                if (!big && rnd() % 4 == 0)   /* from the tail: often empties it */
                    s = -1 - (int64_t)(rnd() % 8);
                if (phase == 3 && !big && rnd() % 10 == 0)
                    s = (int64_t)(rnd() % (uint64_t)(nn + 3)) - 2;
                assert_int_equal(qlist_trim(a, &r, s, e), EMBER_OK);
                if (s < 0)
                    s += nn;
                if (e < 0)
                    e += nn;
                if (s < 0)
                    s = 0;
                if (s > e || s >= nn) {
                    while (m.n)
                        m_remove(&m, m.n - 1);
                } else {
                    if (e >= nn)
                        e = nn - 1;
                    for (i64 = nn - 1; i64 > e; i64--)
                        m_remove(&m, (size_t)i64);
                    for (i64 = 0; i64 < s; i64++)
                        m_remove(&m, 0);
                }
            } else if (k < 98 && m.n && !big && phase == 3 && batch % 4 == 0) {
                assert_int_equal(ks_ref_delete(a, &r), EMBER_OK);
                while (m.n)
                    m_remove(&m, m.n - 1);
            }
            shm_commit(a);
            if (rnd() % 8 == 0)
                ks_gc_step(a, 100);
        }
        verify(a, "r", &m);
        if (m.n > maxlen)
            maxlen = m.n;
        if (nodes_of(a, "r") > maxnodes)
            maxnodes = nodes_of(a, "r");
        if (znodes_of(a, "r") > maxz)
            maxz = znodes_of(a, "r");
        if (batch % 5 == 4)
            shmtest_check(a);
    }
    qlist_compress = 1;
    shmtest_check(a);
    print_message("qlist: %ld random operations matched the model (up to %zu elements, "
                  "%llu nodes, %llu compressed)\n", ops, maxlen, (unsigned long long)maxnodes,
                  (unsigned long long)maxz);
    m_clear(&m);
}

static void test_random_model(void **state)
{
    struct fixture *f = *state;
    random_run(f->a, 0, 120);
}

static void test_random_big(void **state)
{
    struct fixture *f = *state;
    random_run(f->a, 1, 60);
}

/* ---- memory and timings ------------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Bytes per element of one list of n elements, pushed 1000 at a time:
 * "%010d" strings (kind 0), integers (1), random letters (2). */
static double one_list(struct shm_arena *a, const char *key, uint64_t n, int kind)
{
    static char bufs[1000][24];
    struct pack_str v[1000];
    uint64_t used0 = a->hdr->used_bytes, i = 0;
    uint32_t j, k;

    while (i < n) {
        for (j = 0; j < 1000 && i < n; j++, i++) {
            snprintf(bufs[j], sizeof(bufs[j]), kind == 1 ? "%llu" : "%010llu",
                     (unsigned long long)i + 1);
            for (k = 0; kind == 2 && k < 10; k++)
                bufs[j][k] = (char)('a' + rnd() % 26);
            v[j].s = bufs[j];
            v[j].len = strlen(bufs[j]);
        }
        push(a, key, QLIST_TAIL, v, j);
    }
    return (double)(a->hdr->used_bytes - used0) / (double)n;
}

static void test_usage(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    struct ks_ref r;
    uint64_t est, exact;

    push1(a, "small", QLIST_TAIL, "x");
    push1(a, "small", QLIST_TAIL, "12345");
    shmtest_usage_matches_free(a, 0, "small");
    /* Big enough for many nodes, some of them compressed. */
    fill_many(a, "big", NULL, 50000, "element-", 8);
    r = ref(a, "big");
    est = ks_usage(a, r.off, 5);
    exact = ks_usage(a, r.off, 0);
    assert_true(est > exact / 2 && est < exact * 2);
    assert_int_equal(shmtest_usage_matches_free(a, 0, "big"), exact);
    shmtest_check(a);
}

static void test_memory_and_speed(void **state)
{
    struct fixture *f = *state;
    struct shm_arena *a = f->a;
    uint64_t used0, k, keys = getenv("EMBER_TEST_QUICK") ? 20000 : 100000;
    double t0, bpe_str, bpe_int, bpe_rnd, small_str = 0, small_int = 0;
    char key[32];

    bpe_str = one_list(a, "big-str", 1000000, 0);
    bpe_int = one_list(a, "big-int", 1000000, 1);
    bpe_rnd = one_list(a, "big-rnd", 1000000, 2);
    assert_true(bpe_str < 6.0);
    assert_true(bpe_int < 3.8);
    assert_true(bpe_rnd < 11.5);
    del_key(a, "big-rnd");
    del_key(a, "big-int");
    while (ks_gc_step(a, 100000) > 0)
        ;
    /* Many 10-element lists, 16-byte keys: key, entry and table included. */
    for (int pass = 0; pass < 2; pass++) {
        used0 = a->hdr->used_bytes;
        for (k = 0; k < keys; k++) {
            struct pack_str v[10];
            char vb[10][16];
            int j;
            snprintf(key, sizeof(key), "list:%011llu", (unsigned long long)k);
            for (j = 0; j < 10; j++) {
                snprintf(vb[j], sizeof(vb[j]), pass ? "%d" : "%010d", j + 1);
                v[j].s = vb[j];
                v[j].len = strlen(vb[j]);
            }
            push(a, key, QLIST_TAIL, v, 10);
        }
        *(pass ? &small_int : &small_str) = (double)(a->hdr->used_bytes - used0) / (double)keys;
        for (k = 0; k < keys; k++) {
            snprintf(key, sizeof(key), "list:%011llu", (unsigned long long)k);
            del_key(a, key);
        }
    }
    print_message("qlist memory: 1M-element list, B/elem: %.2f \"%%010d\" strings, %.2f random"
                  " 10-letter strings (Redis 7.0: 12.17 both), %.2f integers 1..1M (Redis 5.00)"
                  "\n", bpe_str, bpe_rnd, bpe_int);
    print_message("qlist memory: 10-element lists: %.1f B/list = %.1f B/elem (10-byte strings;"
                  " Redis 314), %.1f B/list (integers 1..10; Redis 218)\n", small_str,
                  small_str / 10, small_int);

    /* Timings and undo-log records on the 1M list: the records of a push
     * or pop do not grow with the list. */
    {
        static const char *names[] = { "RPUSH", "LPUSH", "RPOP", "LPOP" };
        double ns[4], avg[4];
        uint64_t peak[4], total;
        struct qlist_iter it;
        struct qlist_elem e;
        struct ks_ref r;
        int i, op, reps = 200000;
        uint64_t n;
        for (op = 0; op < 4; op++) {
            struct pack_str v = { "0123456789", 10 };
            int where = op % 2 ? QLIST_HEAD : QLIST_TAIL;
            uint32_t got;
            a->log_peak = 0;
            total = 0;
            t0 = now();
            for (i = 0; i < reps; i++) {
                r = ref(a, "big-str");
                shm_begin(a);
                if (op < 2)
                    assert_int_equal(qlist_push(a, &r, where, &v, 1), EMBER_OK);
                else
                    assert_int_equal(qlist_pop(a, &r, where, &e, 1, &got), EMBER_OK);
                shm_commit(a);
                total += a->log_records;
            }
            ns[op] = (now() - t0) / reps * 1e9;
            peak[op] = a->log_peak;
            avg[op] = (double)total / reps;
            assert_true(peak[op] <= 40);
        }
        print_message("qlist speed, 1M list (ns/op, one mutation each; undo records avg/max):"
                      " %s %.0f (%.1f/%llu), %s %.0f (%.1f/%llu), %s %.0f (%.1f/%llu), "
                      "%s %.0f (%.1f/%llu)\n", names[0], ns[0], avg[0],
                      (unsigned long long)peak[0], names[1], ns[1], avg[1],
                      (unsigned long long)peak[1], names[2], ns[2], avg[2],
                      (unsigned long long)peak[2], names[3], ns[3], avg[3],
                      (unsigned long long)peak[3]);
        /* What copy-on-write nodes would cost: LSET to another size
         * rewrites the node, as a copied push would. */
        t0 = now();
        for (i = 0; i < 20000; i++)
            set_at(a, "big-str", -1 - (i % 500), i % 2 ? "01234567890" : "0123456789", 1);
        ns[0] = (now() - t0) / 20000 * 1e9;
        /* Reads: a full walk (LRANGE 0 -1) and LINDEX in the middle, through
         * compressed nodes. */
        r = ref(a, "big-str");
        t0 = now();
        qlist_iter_init(a, &r, 0, QLIST_TAIL, &it);
        for (n = 0; qlist_iter_next(&it, &e) > 0; n++)
            ;
        qlist_iter_release(&it);
        ns[1] = (now() - t0) / (double)n * 1e9;
        assert_int_equal(n, qlist_len(a, &r));
        t0 = now();
        for (i = 0; i < 2000; i++)
            assert_true(qlist_index(a, &r, (int64_t)(n / 2) + i, &e));
        ns[2] = (now() - t0) / 2000 * 1e9;
        print_message("qlist speed: node rewrite (what a copy-on-write push costs) %.0f ns, "
                      "full walk %.1f ns/elem, LINDEX middle %.0f ns (%llu nodes, %llu "
                      "compressed)\n", ns[0], ns[1], ns[2],
                      (unsigned long long)nodes_of(a, "big-str"),
                      (unsigned long long)znodes_of(a, "big-str"));
        /* LTRIM of most of it: a handful of records, the rest is garbage. */
        r = ref(a, "big-str");
        shm_begin(a);
        assert_int_equal(qlist_trim(a, &r, 500000, 500009), EMBER_OK);
        shm_commit(a);
        print_message("qlist: LTRIM keeping 10 of %llu elements: %llu undo records\n",
                      (unsigned long long)n, (unsigned long long)a->log_records);
        assert_true(a->log_records < 64);
        while (ks_gc_step(a, 10000) > 0)
            ;
    }
    shmtest_check(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_pop_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_insert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iterators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_elements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lazy_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_detects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_every_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_and_speed, setup, teardown),
    };
    if (getenv("QLIST_TEST_ONLY"))   /* e.g. QLIST_TEST_ONLY=test_random_model */
        cmocka_set_test_filter(getenv("QLIST_TEST_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
