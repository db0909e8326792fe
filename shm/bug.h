/*
 * bug.h - the three levels of checking used in ember's building blocks.
 *
 *   ASSERT(c)   debug builds only (compiled out with -DNDEBUG); for invariants
 *               that are expensive or only interesting while developing.
 *   BUG_ON(c)   always on: a broken internal invariant.  Logs file, line and
 *               the condition to stderr and aborts; continuing could corrupt
 *               an arena that outlives us, stopping cannot.
 *   client mistakes are never either: they are error replies.
 *
 * Depends on nothing but libc, so any module may include it.
 */
#ifndef SHM_BUG_H
#define SHM_BUG_H

#include <stdio.h>
#include <stdlib.h>

#define BUG_ON(cond) do {                                                   \
        if (__builtin_expect(!!(cond), 0)) {                                \
            fprintf(stderr, "BUG at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                        \
        }                                                                   \
    } while (0)

#ifdef NDEBUG
#define ASSERT(cond) ((void)0)
#else
#define ASSERT(cond) BUG_ON(!(cond))
#endif

#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif /* SHM_BUG_H */
