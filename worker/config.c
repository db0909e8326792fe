/*
 * config.c - the settings table at work (see config.h).
 *
 * Descriptors are built from CONFIG_TABLE once; everything else (parsing,
 * formatting, help, man page, the shared page) walks the descriptors.
 *
 * The shared page keeps, per shared setting, its value and the page
 * version at which it was last published.  Each process remembers the
 * version it has taken in up to (seen_version) and the value of every
 * shared setting as of its last sync or publish (known[]): a setting whose
 * current value differs from known[] is one this process changed, and is
 * the only kind it publishes.  Readers check the version without the lock
 * (one atomic load per loop turn) and take the lock only when it moved.
 */
#include "config.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

struct ember_config config;

static long long maxclients_limit;     /* 0: none known (config_set_maxclients_limit) */

struct desc {
    const char *name;
    enum config_type type;
    const char *def;
    long long min, max;
    const char *enums;
    unsigned flags;
    const char *help;
    void *field;
};

#define CONFIG_DESC(n, f, t, d, mn, mx, e, fl, h) \
    { n, t, d, (long long)(mn), (long long)(mx), e, fl, h, &config.f },
static const struct desc descs[] = { CONFIG_TABLE(CONFIG_DESC) };
#define NDESCS (sizeof(descs) / sizeof(descs[0]))

/* Older names Redis still accepts (and its test suite still uses). */
static const struct { const char *alias, *name; } aliases[] = {
    { "hash-max-ziplist-entries", "hash-max-listpack-entries" },
    { "hash-max-ziplist-value", "hash-max-listpack-value" },
    { "zset-max-ziplist-entries", "zset-max-listpack-entries" },
    { "zset-max-ziplist-value", "zset-max-listpack-value" },
    { "list-max-ziplist-size", "list-max-listpack-size" },
};
#define NALIASES (sizeof(aliases) / sizeof(aliases[0]))

static const struct desc *find(const char *name)
{
    size_t i;
    for (i = 0; i < NALIASES; i++)
        if (strcasecmp(aliases[i].alias, name) == 0)
            name = aliases[i].name;
    for (i = 0; i < NDESCS; i++)
        if (strcasecmp(descs[i].name, name) == 0)
            return &descs[i];
    return NULL;
}

const char *config_name(const char *name)
{
    const struct desc *d = find(name);
    return d ? d->name : NULL;
}

int config_is_mutable(const char *name)
{
    const struct desc *d = find(name);
    return d == NULL ? -1 : !(d->flags & CONF_IMMUTABLE);
}

static void errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

long long config_memtoll(const char *s)
{
    const char *u;
    char buf[64];
    long long mul = 1, v;
    size_t n;

    for (u = s; *u && (isdigit((unsigned char)*u) || (u == s && *u == '-')); u++)
        ;
    if (strcasecmp(u, "") == 0) mul = 1;
    else if (strcasecmp(u, "b") == 0) mul = 1;
    else if (strcasecmp(u, "k") == 0) mul = 1000;
    else if (strcasecmp(u, "kb") == 0) mul = 1024;
    else if (strcasecmp(u, "m") == 0) mul = 1000ll * 1000;
    else if (strcasecmp(u, "mb") == 0) mul = 1024ll * 1024;
    else if (strcasecmp(u, "g") == 0) mul = 1000ll * 1000 * 1000;
    else if (strcasecmp(u, "gb") == 0) mul = 1024ll * 1024 * 1024;
    else return -1;
    n = (size_t)(u - s);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!util_str2ll(buf, n, &v) || v < 0 || (v > 0 && mul > INT64_MAX / v))
        return -1;
    return v * mul;
}

static int enum_index(const char *enums, const char *v)
{
    const char *p = enums;
    int i = 0;

    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (strlen(v) == n && strncasecmp(p, v, n) == 0)
            return i;
        if (!bar)
            break;
        p = bar + 1;
        i++;
    }
    return -1;
}

static const char *enum_name(const char *enums, int idx, char *buf, size_t len)
{
    const char *p = enums;
    int i = 0;

    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (i == idx) {
            if (n >= len)
                n = len - 1;
            memcpy(buf, p, n);
            buf[n] = '\0';
            return buf;
        }
        if (!bar)
            break;
        p = bar + 1;
        i++;
    }
    return "";
}

/* Parses and stores one value; `d` known.  0 or -1 with a reason. */
static int set_value(const struct desc *d, const char *v, char *err, size_t errlen)
{
    long long n;
    int e;

    switch (d->type) {
    case CONF_BOOL:
        if (strcasecmp(v, "yes") == 0)
            *(int *)d->field = 1;
        else if (strcasecmp(v, "no") == 0)
            *(int *)d->field = 0;
        else {
            errf(err, errlen, "argument must be 'yes' or 'no'");
            return -1;
        }
        return 0;
    case CONF_INT:
        if (!util_str2ll(v, strlen(v), &n)) {
            errf(err, errlen, "argument couldn't be parsed into an integer");
            return -1;
        }
        goto range;
    case CONF_MEMORY:
        n = config_memtoll(v);
        if (n < 0) {
            errf(err, errlen, "argument must be a memory value");
            return -1;
        }
range:
        if (d->flags & CONF_CLAMPED) {
            if (n < 0 || n > INT32_MAX) {
                errf(err, errlen, "argument must be between 0 and %d inclusive", INT32_MAX);
                return -1;
            }
            n = n < d->min ? d->min : n > d->max ? d->max : n;
        }
        if (n < d->min || n > d->max) {
            errf(err, errlen, "argument must be between %lld and %lld inclusive",
                 d->min, d->max);
            return -1;
        }
        *(long long *)d->field = n;
        return 0;
    case CONF_ENUM:
        e = enum_index(d->enums, v);
        if (e < 0) {
            /* Redis lists the values as "a, b, c". */
            char list[256];
            size_t k, len = 0;
            for (k = 0; d->enums[k] && len + 3 < sizeof(list); k++) {
                if (d->enums[k] == '|') {
                    list[len++] = ',';
                    list[len++] = ' ';
                } else {
                    list[len++] = d->enums[k];
                }
            }
            list[len] = '\0';
            errf(err, errlen, "argument(s) must be one of the following: %s", list);
            return -1;
        }
        *(int *)d->field = e;
        return 0;
    case CONF_STRING: {
        char *copy = strdup(v);
        if (copy == NULL) {
            errf(err, errlen, "out of memory");
            return -1;
        }
        free(*(char **)d->field);
        *(char **)d->field = copy;
        return 0;
    }
    }
    return -1;
}

void config_defaults(void)
{
    size_t i;
    for (i = 0; i < NDESCS; i++)
        if (set_value(&descs[i], descs[i].def, NULL, 0) != 0)
            abort();   /* a default that does not parse is a bug in the table */
}

int config_set(const char *name, const char *value, int running, char *err, size_t errlen)
{
    const struct desc *d = find(name);
    char why[200];
    long long n;

    if (d == NULL) {
        errf(err, errlen, "unknown setting '%s'", name);
        return -1;
    }
    if (running && (d->flags & CONF_IMMUTABLE)) {
        errf(err, errlen, "can't set immutable config");
        return -1;
    }
    /* Settings ember keeps for Redis compatibility only take the value
     * that is true of ember (clients set them to it: CONFIG SET save ""). */
    if (strcmp(d->name, "save") == 0 && value[0] != '\0') {
        errf(err, errlen, "snapshots are not implemented yet; only \"\" is accepted");
        return -1;
    }
    if (strcmp(d->name, "appendonly") == 0 && strcasecmp(value, "no") != 0) {
        errf(err, errlen, "the append-only file is not implemented yet; only no is accepted");
        return -1;
    }
    /* More clients than descriptors would leave a worker unable to
     * accept (see config_set_maxclients_limit). */
    if (strcmp(d->name, "maxclients") == 0 && maxclients_limit > 0 &&
        util_str2ll(value, strlen(value), &n) && n > maxclients_limit && n <= d->max) {
        errf(err, errlen, "The operating system is not able to handle the specified number "
             "of clients, try with %lld", maxclients_limit);
        return -1;
    }
    if (set_value(d, value, why, sizeof(why)) != 0) {
        errf(err, errlen, "%s", why);
        return -1;
    }
    return 0;
}

void config_set_maxclients_limit(long long n)
{
    maxclients_limit = n > 0 ? n : 0;
}

static int format_value(const struct desc *d, char *buf, size_t len)
{
    char tmp[64];

    switch (d->type) {
    case CONF_BOOL:
        return snprintf(buf, len, "%s", *(int *)d->field ? "yes" : "no");
    case CONF_INT:
    case CONF_MEMORY:
        return snprintf(buf, len, "%lld", *(long long *)d->field);
    case CONF_ENUM:
        return snprintf(buf, len, "%s", enum_name(d->enums, *(int *)d->field, tmp, sizeof(tmp)));
    case CONF_STRING:
        return snprintf(buf, len, "%s", *(char **)d->field ? *(char **)d->field : "");
    }
    return -1;
}

int config_get(const char *name, char *buf, size_t len)
{
    const struct desc *d = find(name);
    return d == NULL ? -1 : (format_value(d, buf, len) < 0 ? -1 : 0);
}

void config_each(const char *pattern,
                 void (*fn)(const char *name, const char *value, void *ctx), void *ctx)
{
    size_t i;
    char buf[4096];

    for (i = 0; i < NDESCS; i++) {
        if (!util_glob_match(pattern, strlen(pattern), descs[i].name, strlen(descs[i].name), 1))
            continue;
        format_value(&descs[i], buf, sizeof(buf));
        fn(descs[i].name, buf, ctx);
    }
    for (i = 0; i < NALIASES; i++) {
        if (!util_glob_match(pattern, strlen(pattern), aliases[i].alias,
                             strlen(aliases[i].alias), 1))
            continue;
        format_value(find(aliases[i].name), buf, sizeof(buf));
        fn(aliases[i].alias, buf, ctx);
    }
}

/* Splits a config-file line into at most 2 words, honouring "quotes". */
static int split_line(char *line, char **name, char **value)
{
    char *p = line, *q;

    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    *name = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p)
        *p++ = '\0';
    while (isspace((unsigned char)*p))
        p++;
    q = p + strlen(p);
    while (q > p && isspace((unsigned char)q[-1]))
        *--q = '\0';
    if (*p == '"' || *p == '\'') {
        char quote = *p++;
        if (q <= p || q[-1] != quote)
            return -1;
        q[-1] = '\0';
    }
    *value = p;
    return 1;
}

static char loaded_path[PATH_MAX];

/* Remembers path as an absolute path for INFO config_file, taken now:
 * emberd changes directory later.  realpath() resolves it; should it fail
 * (the file is gone already), the path is joined to the directory. */
static void remember_path(const char *path)
{
    char cwd[PATH_MAX];

    if (realpath(path, loaded_path) != NULL)
        return;
    if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL &&
        (size_t)snprintf(loaded_path, sizeof(loaded_path), "%s/%s", cwd, path) <
        sizeof(loaded_path))
        return;
    snprintf(loaded_path, sizeof(loaded_path), "%s", path);
}

const char *config_file_path(void)
{
    return loaded_path;
}

int config_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[8192], why[300];
    int lineno = 0;

    if (f == NULL) {
        errf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *name, *value;
        int r;
        lineno++;
        r = split_line(line, &name, &value);
        if (r == 0)
            continue;
        if (r < 0 || config_set(name, value, 0, why, sizeof(why)) != 0) {
            errf(err, errlen, "%s:%d: %s", path, lineno, r < 0 ? "unbalanced quotes" : why);
            fclose(f);
            return -1;
        }
    }
    if (ferror(f)) {
        errf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    fclose(f);
    remember_path(path);
    return 0;
}

void config_print_help(FILE *f)
{
    size_t i;
    for (i = 0; i < NDESCS; i++) {
        if (descs[i].flags & CONF_HIDDEN)
            continue;
        fprintf(f, "  --%-26s %s (default: %s%s)\n", descs[i].name, descs[i].help,
                descs[i].def[0] ? descs[i].def : "\"\"",
                descs[i].flags & CONF_IMMUTABLE ? "" : "; CONFIG SET changes it live");
    }
}

void config_print_mdoc(FILE *f, int as_keywords)
{
    size_t i;
    fprintf(f, ".Bl -tag -width Ds\n");
    for (i = 0; i < NDESCS; i++) {
        const struct desc *d = &descs[i];
        const char *arg = d->type == CONF_BOOL ? "yes|no" : d->type == CONF_INT ? "number" :
                          d->type == CONF_MEMORY ? "bytes" : d->type == CONF_ENUM ? d->enums :
                          "string";
        if (d->flags & CONF_HIDDEN)
            continue;
        if (as_keywords)
            fprintf(f, ".It Ic %s Ar %s\n", d->name, arg);
        else
            fprintf(f, ".It Fl \\-%s Ar %s\n", d->name, arg);
        fprintf(f, "%c%s.\n", toupper((unsigned char)d->help[0]), d->help + 1);
        /* \& keeps a value like "." from being read as punctuation. */
        fprintf(f, "Default:\n.Ql \\&%s .\n", d->def[0] ? d->def : "\\(dq\\(dq");
        fprintf(f, "%s\n", d->flags & CONF_IMMUTABLE ? "Fixed at start." :
                "Can be changed at run time with\n.Ic CONFIG SET .");
    }
    fprintf(f, ".El\n");
}

/* ---- shared page ------------------------------------------------------------------ */

struct config_shared {
    pthread_mutex_t lock;           /* robust, process-shared */
    atomic_uint_fast64_t version;   /* bumped by every publish that changed something */
    uint64_t ver[NDESCS];           /* version at which setting i was last published */
    long long vals[NDESCS];         /* its value (shared settings only) */
};

static uint64_t seen_version;       /* page version this process has taken in */
static long long known[NDESCS];     /* shared settings as of the last sync or publish */

static int shareable(const struct desc *d)
{
    return !(d->flags & CONF_IMMUTABLE) && d->type != CONF_STRING;
}

static long long get_num(const struct desc *d)
{
    return d->type == CONF_BOOL || d->type == CONF_ENUM ? *(int *)d->field
                                                        : *(long long *)d->field;
}

static void put_num(const struct desc *d, long long v)
{
    if (d->type == CONF_BOOL || d->type == CONF_ENUM)
        *(int *)d->field = (int)v;
    else
        *(long long *)d->field = v;
}

/* Takes the page's lock; a holder that died leaves at worst one setting
 * written without its version (a CONFIG SET that was never acknowledged):
 * the page is consistent as it is.  0 or -1. */
static int page_lock(struct config_shared *s)
{
    int rc = pthread_mutex_lock(&s->lock);

    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&s->lock);
    return rc == 0 ? 0 : -1;
}

static void page_unlock(struct config_shared *s)
{
    (void)pthread_mutex_unlock(&s->lock);
}

struct config_shared *config_shared_create(void)
{
    struct config_shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
                                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;
    int rc;
    size_t i;

    if (s == MAP_FAILED)
        return NULL;
    rc = pthread_mutexattr_init(&a);
    if (rc == 0) {
        if ((rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) == 0 &&
            (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) == 0)
            rc = pthread_mutex_init(&s->lock, &a);
        pthread_mutexattr_destroy(&a);
    }
    if (rc != 0) {
        munmap(s, sizeof(*s));
        errno = rc;
        return NULL;
    }
    for (i = 0; i < NDESCS; i++) {
        if (!shareable(&descs[i]))
            continue;
        s->vals[i] = known[i] = get_num(&descs[i]);
        s->ver[i] = 1;
    }
    atomic_store_explicit(&s->version, 1, memory_order_release);
    seen_version = 1;
    return s;
}

/* Takes in every shared setting published after version `after`.  Caller
 * holds the lock.  Returns 1 if a local value changed. */
static int take_in(struct config_shared *s, uint64_t after)
{
    int changed = 0;
    size_t i;

    for (i = 0; i < NDESCS; i++) {
        if (!shareable(&descs[i]) || s->ver[i] <= after)
            continue;
        changed |= get_num(&descs[i]) != s->vals[i];
        put_num(&descs[i], s->vals[i]);
        known[i] = s->vals[i];
    }
    return changed;
}

void config_shared_attach(struct config_shared *s)
{
    seen_version = 0;
    (void)config_shared_sync(s);
}

int config_shared_publish(struct config_shared *s)
{
    uint64_t v;
    int mine = 0;
    size_t i;

    if (page_lock(s) != 0)
        return -1;
    v = atomic_load_explicit(&s->version, memory_order_relaxed) + 1;
    for (i = 0; i < NDESCS; i++) {
        const struct desc *d = &descs[i];
        long long cur;
        if (!shareable(d))
            continue;
        cur = get_num(d);
        if (cur != known[i]) {
            /* Changed here: ours, even if another process published the
             * same setting meanwhile (the last one published wins). */
            s->vals[i] = known[i] = cur;
            s->ver[i] = v;
            mine = 1;
        } else if (s->ver[i] > seen_version) {
            put_num(d, s->vals[i]);
            known[i] = s->vals[i];
        }
    }
    if (mine)
        atomic_store_explicit(&s->version, v, memory_order_release);
    seen_version = atomic_load_explicit(&s->version, memory_order_relaxed);
    page_unlock(s);
    return 0;
}

int config_shared_sync(struct config_shared *s)
{
    uint64_t v = atomic_load_explicit(&s->version, memory_order_acquire);
    int changed;

    if (v == seen_version || page_lock(s) != 0)
        return 0;
    changed = take_in(s, seen_version);
    seen_version = atomic_load_explicit(&s->version, memory_order_relaxed);
    page_unlock(s);
    return changed;
}
