/*
 * region.h - named shared-memory regions that outlive their process.
 *
 * A region is a file: on a hugetlbfs mount when hugepages are wanted and
 * available, else in /dev/shm (POSIX shared memory is a tmpfs there).  Using
 * plain files for both keeps one code path and lets a region be renamed aside
 * for inspection.  The process reserves a large range of address space once
 * and maps the file at its start; growing the region allocates more of the
 * file (fallocate, so a full device says ENOSPC instead of killing us with
 * SIGBUS on first touch) and maps the new part right after the old one.
 * Nothing is ever copied and the base address never moves while mapped.
 *
 * Two processes (or two mappings in one process) may map a region at
 * different addresses; the arena format stores offsets only, so both read
 * the same data.
 */
#ifndef SHM_REGION_H
#define SHM_REGION_H

#include <stddef.h>
#include <limits.h>

enum shm_huge {
    SHM_HUGE_OFF = 0,   /* /dev/shm only */
    SHM_HUGE_ON,        /* hugetlbfs or fail with EMBER_ENOHUGE */
    SHM_HUGE_AUTO,      /* hugetlbfs when mounted with free pages, else /dev/shm */
};

#define SHM_NAME_MAX 200

struct shm_region_opts {
    const char *name;        /* [A-Za-z0-9._-]{1,200} */
    enum shm_huge huge;
    const char *huge_dir;    /* hugetlbfs mount; NULL: first one in /proc/mounts */
    const char *shm_dir;     /* NULL: /dev/shm */
    size_t reserve;          /* address space to reserve; 0: SHM_RESERVE_DEFAULT */
    int readonly;            /* map PROT_READ, never grow */
    int private_copy;        /* open read-only, map copy-on-write: stores
                                stay in this process (offline inspection) */
};

#define SHM_RESERVE_DEFAULT (1ull << 40)  /* 1 TiB of address space, not memory */

struct shm_region {
    char path[PATH_MAX];     /* the file */
    int fd;                  /* -1 when closed */
    int huge;                /* the file is on hugetlbfs */
    int readonly;
    int private_copy;
    size_t grain;            /* growth unit: the segment size */
    char *base;              /* start of the reservation and of the mapping */
    size_t reserved;         /* bytes of address space reserved */
    size_t size;             /* bytes mapped == file size used */
    char note[160];          /* why hugepages were not used (AUTO), or "" */
};

/*
 * Creates a region of `size` bytes (a multiple of the segment size) that must
 * not exist yet, and maps it.  With SHM_HUGE_AUTO, a hugetlbfs attempt that
 * finds no free pages falls back to /dev/shm and says why in r->note.
 * Errors: EMBER_EINVAL (bad name/size), EMBER_EEXIST, EMBER_EACCES,
 * EMBER_ENOSPC, EMBER_ENOHUGE (SHM_HUGE_ON and no mount or no free pages),
 * EMBER_ENOMEM (address space), EMBER_EIO (other system call failure).
 */
int shm_region_create(const struct shm_region_opts *o, size_t size,
                      struct shm_region *r);

/*
 * Opens an existing region by name (hugetlbfs mount first, then /dev/shm)
 * without mapping it, so the caller can lock it and validate its header
 * with shm_region_pread() before touching anything.
 * Errors: EMBER_ENOENT, EMBER_EACCES, EMBER_EINVAL, EMBER_EIO.
 */
int shm_region_open(const struct shm_region_opts *o, struct shm_region *r);

/* Maps an opened region in full (its current file size).  Errors as create. */
int shm_region_map(const struct shm_region_opts *o, struct shm_region *r);

/* Reads bytes from the file without mapping it.  EMBER_EIO on short read. */
int shm_region_pread(struct shm_region *r, void *buf, size_t len, size_t off);

/*
 * Grows the mapping to `size` bytes (a multiple of r->grain), allocating the
 * file's new part first.  Never moves r->base.
 * Errors: EMBER_ENOSPC / EMBER_ENOHUGE (device full), EMBER_ENOMEM (beyond
 * the reservation), EMBER_EIO.
 */
int shm_region_grow(struct shm_region *r, size_t size);

/* Gives the memory of [off, off+len) back to the system; it reads as zero. */
int shm_region_punch(struct shm_region *r, size_t off, size_t len);

/* Unmaps and closes; the file stays.  Safe on a closed region. */
void shm_region_close(struct shm_region *r);

/* Removes a region's file by name (both locations).  EMBER_ENOENT if none. */
int shm_region_unlink(const struct shm_region_opts *o);

/* Renames the file to <path>.<suffix> (kept for inspection). */
int shm_region_rename_aside(struct shm_region *r, const char *suffix,
                            char *newpath, size_t newlen);

/* Finds a hugetlbfs mount in /proc/mounts; 0 and the path, or EMBER_ENOENT. */
int shm_find_hugetlbfs(char *path, size_t len);

/* Checks a region name; EMBER_OK or EMBER_EINVAL. */
int shm_name_valid(const char *name);

#endif /* SHM_REGION_H */
