/*
 * util.h - small helpers with Redis's exact semantics: glob matching (KEYS,
 * SCAN MATCH, CONFIG GET), number parsing and formatting, time.
 */
#ifndef WORKER_UTIL_H
#define WORKER_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Glob-style match with Redis's rules: * ? [abc] [^a-z] and \ escapes,
 * quirks included (a range whose ends are reversed is swapped; "[a-]" is a
 * range up to ']'; an unterminated class ends the pattern).  Iterative, so
 * no pattern, however many stars, can exhaust the stack, and O(n*m).
 */
int util_glob_match(const char *pat, size_t plen, const char *str, size_t slen, int nocase);

/* Strict integer parsing (Redis string2ll): 1 on success, 0 otherwise. */
int util_str2ll(const char *s, size_t len, long long *out);

/* Long double parsing as Redis's string2ld (no spaces, no nan): 1 or 0. */
int util_str2ld(const char *s, size_t len, long double *out);

/* Double parsing as Redis's string2d / strtod checks: 1 or 0. */
int util_str2d(const char *s, size_t len, double *out);

/* "%.17Lf" with trailing zeros removed (INCRBYFLOAT); returns length. */
int util_ld2str_human(char *buf, size_t len, long double v);

/* Redis's d2string for doubles kept as strings ("%.17g", inf, -inf). */
int util_d2str(char *buf, size_t len, double v);

/* Integer to decimal; returns length (buf needs 21 bytes). */
int util_ll2str(char *buf, long long v);

/* Wall-clock milliseconds / microseconds since the epoch; monotonic ns
 * (cheap: from the time-stamp counter where it is invariant). */
int64_t util_mstime(void);
int64_t util_ustime(void);
uint64_t util_monotonic_ns(void);

/* Calibrates (first call) and re-anchors the cheap clock; call it now and
 * then (the cron does). */
void util_clock_tick(void);

/* ASCII case-insensitive compare of a length-delimited string with a C string. */
int util_strcaseeq(const char *s, size_t len, const char *lit);

#endif /* WORKER_UTIL_H */
