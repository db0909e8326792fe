/*
 * util.c - helpers with Redis's semantics (see util.h).
 */
#include "util.h"
#include "resp.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Where a [class] starting at pat[i] ends (the index after it), read as
 * match_one reads it. */
static size_t match_class_end(const char *pat, size_t plen, size_t i)
{
    size_t p = i + 1;

    if (p < plen && pat[p] == '^')
        p++;
    for (;;) {
        if (p < plen && pat[p] == '\\' && plen - p >= 2)
            p++;
        else if (p < plen && pat[p] == ']')
            break;
        else if (p >= plen)
            return plen;
        else if (plen - p >= 3 && pat[p + 1] == '-')
            p += 2;
        p++;
    }
    return p + 1;
}

/*
 * Matches one pattern element (not '*') at pat[*pi] against c, advancing
 * *pi past it.  Bracket and escape handling mirror Redis's stringmatchlen
 * step by step so that odd patterns mean what they mean there.
 */
static int match_one(const char *pat, size_t plen, size_t *pi, unsigned char c, int nocase)
{
    size_t p = *pi;
    int match = 0, neg;

    switch (pat[p]) {
    case '?':
        *pi = p + 1;
        return 1;
    case '[':
        p++;
        neg = p < plen && pat[p] == '^';
        if (neg)
            p++;
        for (;;) {
            if (p < plen && pat[p] == '\\' && plen - p >= 2) {
                p++;
                if ((unsigned char)pat[p] == c)
                    match = 1;
            } else if (p < plen && pat[p] == ']') {
                break;
            } else if (p >= plen) {
                p--;        /* unterminated: the class runs to the end */
                break;
            } else if (plen - p >= 3 && pat[p + 1] == '-') {
                int start = (unsigned char)pat[p], end = (unsigned char)pat[p + 2], x = c;
                if (start > end) {
                    int t = start;
                    start = end;
                    end = t;
                }
                if (nocase) {
                    start = tolower(start);
                    end = tolower(end);
                    x = tolower(x);
                }
                p += 2;
                if (x >= start && x <= end)
                    match = 1;
            } else if (nocase ? tolower((unsigned char)pat[p]) == tolower(c)
                              : (unsigned char)pat[p] == c) {
                match = 1;
            }
            p++;
        }
        *pi = p + 1;
        return neg ? !match : match;
    case '\\':
        if (plen - p >= 2)
            p++;
        /* fall through */
    default:
        *pi = p + 1;
        return nocase ? tolower((unsigned char)pat[p]) == tolower(c)
                      : (unsigned char)pat[p] == c;
    }
}

/*
 * Debian's redis-server 7.0.15 (the fix for CVE-2024-31228) gives up on a
 * match that recurses through more than 1000 stars: a pattern with more
 * than 1000 groups of '*' before its end matches nothing.  Counts the
 * groups the way the matcher reads the pattern (escapes, classes).
 */
static int too_deep(const char *p, size_t n)
{
    unsigned groups = 0;
    size_t i = 0;

    while (i < n) {
        if (p[i] == '*') {
            while (i < n && p[i] == '*')
                i++;
            if (i < n && ++groups > 1000)
                return 1;               /* a trailing group never recurses */
        } else if (p[i] == '\\' && n - i >= 2) {
            i += 2;
        } else if (p[i] == '[') {
            size_t j = match_class_end(p, n, i);
            i = j;
        } else {
            i++;
        }
    }
    return 0;
}

int util_glob_match(const char *pat, size_t plen, const char *str, size_t slen, int nocase)
{
    size_t p = 0, s = 0, star_p = (size_t)-1, star_s = 0;

    if (plen > 1000 && too_deep(pat, plen))
        return 0;

    while (s < slen) {
        if (p < plen && pat[p] == '*') {
            while (p < plen && pat[p] == '*')
                p++;
            if (p == plen)
                return 1;
            star_p = p;
            star_s = s;
            continue;
        }
        if (p < plen) {
            size_t np = p;
            if (match_one(pat, plen, &np, (unsigned char)str[s], nocase)) {
                p = np;
                s++;
                continue;
            }
        }
        if (star_p == (size_t)-1)
            return 0;
        /* Let the last star swallow one more character and retry. */
        p = star_p;
        s = ++star_s;
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

int util_str2ll(const char *s, size_t len, long long *out)
{
    return resp_str2ll(s, len, out);
}

#define MAX_LD_CHARS (5 * 1024)

int util_str2ld(const char *s, size_t len, long double *out)
{
    char buf[MAX_LD_CHARS];
    long double v;
    char *end;

    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

int util_str2d(const char *s, size_t len, double *out)
{
    char buf[MAX_LD_CHARS];
    double v;
    char *end;

    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}

int util_ld2str_human(char *buf, size_t len, long double v)
{
    int l;

    if (isinf(v))
        return snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    l = snprintf(buf, len, "%.17Lf", v);
    if (l < 0 || (size_t)l + 1 > len)
        return 0;
    if (strchr(buf, '.') != NULL) {
        char *q = buf + l - 1;
        while (*q == '0') {
            q--;
            l--;
        }
        if (*q == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

int util_d2str(char *buf, size_t len, double v)
{
    if (isinf(v))
        return snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    return snprintf(buf, len, "%.17g", v);
}

int util_ll2str(char *buf, long long v)
{
    return (int)resp_ll2str(buf, v);
}

int64_t util_mstime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_ustime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Command timing reads the clock twice per command, so it uses the CPU's
 * time-stamp counter when it is invariant (constant and nonstop, as the
 * kernel's own clocksource on modern x86 is): a few nanoseconds instead of
 * a clock_gettime.  Ticks convert to nanoseconds with a rate measured
 * against CLOCK_MONOTONIC, re-anchored by util_clock_tick() so it cannot
 * drift; anything else uses clock_gettime.
 */
#if defined(__x86_64__)
#include <x86intrin.h>
static int tsc_state;            /* 0 unknown, 1 usable, -1 not */
static double ns_per_tick;
static uint64_t anchor_tsc, anchor_ns;

static int tsc_usable(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    int constant = 0, nonstop = 0;

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL && strncmp(line, "flags", 5) != 0)
        ;
    constant = strstr(line, " constant_tsc") != NULL;
    nonstop = strstr(line, " nonstop_tsc") != NULL;
    fclose(f);
    return constant && nonstop;
}

void util_clock_tick(void)
{
    uint64_t t, n;

    if (tsc_state == 0) {
        struct timespec d = { 0, 2000000 };
        if (!tsc_usable()) {
            tsc_state = -1;
            return;
        }
        anchor_tsc = __rdtsc();
        anchor_ns = clock_ns();
        nanosleep(&d, NULL);
        t = __rdtsc();
        n = clock_ns();
        if (t <= anchor_tsc || n <= anchor_ns) {
            tsc_state = -1;
            return;
        }
        ns_per_tick = (double)(n - anchor_ns) / (double)(t - anchor_tsc);
        anchor_tsc = t;
        anchor_ns = n;
        tsc_state = 1;
        return;
    }
    if (tsc_state < 0)
        return;
    /* Re-anchor, refining the rate over the longer interval. */
    t = __rdtsc();
    n = clock_ns();
    if (t > anchor_tsc && n > anchor_ns + 1000000) {
        ns_per_tick = (double)(n - anchor_ns) / (double)(t - anchor_tsc);
        anchor_tsc = t;
        anchor_ns = n;
    }
}

uint64_t util_monotonic_ns(void)
{
    if (tsc_state > 0)
        return anchor_ns + (uint64_t)((double)(__rdtsc() - anchor_tsc) * ns_per_tick);
    return clock_ns();
}
#else
void util_clock_tick(void)
{
}

uint64_t util_monotonic_ns(void)
{
    return clock_ns();
}
#endif

int util_strcaseeq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}
