/*
 * region.c - named shared-memory regions (see region.h).
 *
 * Invariants:
 *   - r->base is aligned to the segment size (2 MiB), so offsets that are
 *     segment-aligned are hugepage-aligned in memory too;
 *   - [r->base, r->base + r->size) is a MAP_SHARED mapping of the file and
 *     the file holds allocated (not sparse) blocks for all of it, so a store
 *     anywhere in it cannot SIGBUS on a full tmpfs;
 *   - the rest of the reservation is PROT_NONE: a stray offset faults at once
 *     instead of scribbling over some other mapping.
 */
#include "region.h"
#include "layout.h"
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

static int errno_status(int e)
{
    switch (e) {
    case EACCES: case EPERM: case EROFS: return EMBER_EACCES;
    case ENOSPC: case EDQUOT:            return EMBER_ENOSPC;
    case EEXIST:                         return EMBER_EEXIST;
    case ENOENT:                         return EMBER_ENOENT;
    case ENOMEM:                         return EMBER_ENOMEM;
    case EINVAL:                         return EMBER_EINVAL;
    default:                             return EMBER_EIO;
    }
}

int shm_name_valid(const char *name)
{
    size_t n = 0;

    if (name == NULL || name[0] == '\0' || name[0] == '.')
        return EMBER_EINVAL;
    for (; name[n] != '\0'; n++) {
        char c = name[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return EMBER_EINVAL;
        if (n >= SHM_NAME_MAX)
            return EMBER_EINVAL;
    }
    return EMBER_OK;
}

int shm_find_hugetlbfs(char *path, size_t len)
{
    FILE *f = fopen("/proc/mounts", "r");
    char dev[256], dir[PATH_MAX], type[64];
    int rc = EMBER_ENOENT;

    if (f == NULL)
        return EMBER_ENOENT;
    while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
        struct statfs sf;
        if (strcmp(type, "hugetlbfs") != 0)
            continue;
        /* Only a mount of our segment-sized pages will do. */
        if (statfs(dir, &sf) != 0 || (size_t)sf.f_bsize != SHM_SEG_SIZE)
            continue;
        if (strlen(dir) + 1 > len)
            continue;
        strcpy(path, dir);
        rc = EMBER_OK;
        break;
    }
    fclose(f);
    return rc;
}

static int build_path(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= len) ? EMBER_EINVAL : EMBER_OK;
}

static const char *shm_dir(const struct shm_region_opts *o)
{
    return o->shm_dir ? o->shm_dir : "/dev/shm";
}

/* The hugetlbfs directory to use, or NULL; fills `buf`. */
static const char *huge_dir(const struct shm_region_opts *o, char *buf,
                            size_t len)
{
    struct statfs sf;

    if (o->huge_dir) {
        if (statfs(o->huge_dir, &sf) != 0 ||
            (unsigned long)sf.f_type != HUGETLBFS_MAGIC ||
            (size_t)sf.f_bsize != SHM_SEG_SIZE)
            return NULL;
        return o->huge_dir;
    }
    return shm_find_hugetlbfs(buf, len) == EMBER_OK ? buf : NULL;
}

static void region_reset(struct shm_region *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->grain = SHM_SEG_SIZE;
}

/* Reserves aligned address space and maps the file's first r->size bytes. */
static int map_file(const struct shm_region_opts *o, struct shm_region *r)
{
    size_t reserve = o->reserve ? o->reserve : SHM_RESERVE_DEFAULT;
    size_t align = SHM_SEG_SIZE;
    char *raw, *base;
    int prot = r->readonly ? PROT_READ : PROT_READ | PROT_WRITE;
    int share = r->private_copy ? MAP_PRIVATE : MAP_SHARED;

    reserve = (reserve + align - 1) & ~(align - 1);
    if (reserve < r->size)
        reserve = r->size;
    raw = mmap(NULL, reserve + align, PROT_NONE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return EMBER_ENOMEM;
    base = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    /* Trim the alignment slack on both sides; munmap cannot fail here. */
    if (base > raw)
        munmap(raw, (size_t)(base - raw));
    if (raw + reserve + align > base + reserve)
        munmap(base + reserve, (size_t)(raw + reserve + align - (base + reserve)));
    if (r->size > 0 &&
        mmap(base, r->size, prot, share | MAP_FIXED, r->fd, 0) == MAP_FAILED) {
        int e = errno;
        munmap(base, reserve);
        return errno_status(e);
    }
    r->base = base;
    r->reserved = reserve;
    return EMBER_OK;
}

/* Creates and allocates the file at `path`; on failure removes it. */
static int create_file(const char *path, size_t size, int *fdp)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int e;

    if (fd < 0)
        return errno_status(errno);
    e = posix_fallocate(fd, 0, (off_t)size);
    if (e != 0) {
        close(fd);
        unlink(path);
        return errno_status(e);
    }
    *fdp = fd;
    return EMBER_OK;
}

int shm_region_create(const struct shm_region_opts *o, size_t size,
                      struct shm_region *r)
{
    char hbuf[PATH_MAX], other[PATH_MAX];
    const char *hdir = NULL;
    int rc;

    region_reset(r);
    if (shm_name_valid(o->name) != EMBER_OK || size == 0 ||
        size % SHM_SEG_SIZE != 0 || o->readonly)
        return EMBER_EINVAL;

    if (o->huge != SHM_HUGE_OFF) {
        hdir = huge_dir(o, hbuf, sizeof(hbuf));
        if (hdir == NULL) {
            if (o->huge == SHM_HUGE_ON)
                return EMBER_ENOHUGE;
            snprintf(r->note, sizeof(r->note), "no hugetlbfs mount with %zu kB pages",
                     (size_t)SHM_SEG_SIZE >> 10);
        }
    }
    /* A region must not exist in either place, or two could be confused. */
    if (build_path(other, sizeof(other), shm_dir(o), o->name) != EMBER_OK)
        return EMBER_EINVAL;
    if (access(other, F_OK) == 0)
        return EMBER_EEXIST;
    if (hdir) {
        if (build_path(r->path, sizeof(r->path), hdir, o->name) != EMBER_OK)
            return EMBER_EINVAL;
        rc = create_file(r->path, size, &r->fd);
        if (rc == EMBER_OK) {
            r->huge = 1;
        } else if (rc == EMBER_ENOSPC || rc == EMBER_ENOMEM) {
            if (o->huge == SHM_HUGE_ON)
                return EMBER_ENOHUGE;
            snprintf(r->note, sizeof(r->note),
                     "not enough free hugepages on %s for %zu MiB", hdir, size >> 20);
        } else {
            return rc;
        }
    }
    if (r->fd < 0) {
        memcpy(r->path, other, sizeof(other));
        rc = create_file(r->path, size, &r->fd);
        if (rc != EMBER_OK)
            return rc;
    }
    r->size = size;
    rc = map_file(o, r);
    if (rc != EMBER_OK) {
        close(r->fd);
        unlink(r->path);
        region_reset(r);
    }
    return rc;
}

int shm_region_open(const struct shm_region_opts *o, struct shm_region *r)
{
    char hbuf[PATH_MAX];
    const char *hdir = NULL;
    int flags = (o->readonly || o->private_copy ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    struct stat st;

    region_reset(r);
    r->readonly = o->readonly;
    r->private_copy = o->private_copy;
    if (shm_name_valid(o->name) != EMBER_OK)
        return EMBER_EINVAL;
    /* Look on hugetlbfs first whatever o->huge says: a region created with
     * hugepages must be found again even if the option changed since. */
    hdir = huge_dir(o, hbuf, sizeof(hbuf));
    if (hdir && build_path(r->path, sizeof(r->path), hdir, o->name) == EMBER_OK) {
        r->fd = open(r->path, flags);
        if (r->fd >= 0)
            r->huge = 1;
        else if (errno != ENOENT)
            return errno_status(errno);
    }
    if (r->fd < 0) {
        if (build_path(r->path, sizeof(r->path), shm_dir(o), o->name) != EMBER_OK)
            return EMBER_EINVAL;
        r->fd = open(r->path, flags);
        if (r->fd < 0)
            return errno_status(errno);
    }
    if (fstat(r->fd, &st) != 0) {
        int e = errno;
        shm_region_close(r);
        return errno_status(e);
    }
    /* A partial trailing segment (an interrupted growth) is simply ignored. */
    r->size = (size_t)st.st_size & ~(SHM_SEG_SIZE - 1);
    return EMBER_OK;
}

int shm_region_map(const struct shm_region_opts *o, struct shm_region *r)
{
    if (r->fd < 0 || r->base != NULL)
        return EMBER_EINVAL;
    return map_file(o, r);
}

int shm_region_pread(struct shm_region *r, void *buf, size_t len, size_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(r->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return EMBER_EIO;
        done += (size_t)n;
    }
    return EMBER_OK;
}

int shm_region_grow(struct shm_region *r, size_t size)
{
    int e;

    if (r->readonly || r->private_copy || size % r->grain != 0)
        return EMBER_EINVAL;
    if (size <= r->size)
        return EMBER_OK;
    if (size > r->reserved)
        return EMBER_ENOMEM;
    e = posix_fallocate(r->fd, (off_t)r->size, (off_t)(size - r->size));
    if (e != 0)
        return (e == ENOSPC && r->huge) ? EMBER_ENOHUGE : errno_status(e);
    /* Populate the page tables now: growth runs from the owner's idle
     * tick, and a command touching new memory then takes no page faults. */
    if (mmap(r->base + r->size, size - r->size, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_FIXED | MAP_POPULATE, r->fd, (off_t)r->size) == MAP_FAILED)
        return errno_status(errno);
    r->size = size;
    return EMBER_OK;
}

int shm_region_punch(struct shm_region *r, size_t off, size_t len)
{
    if (r->readonly || r->private_copy || off + len > r->size)
        return EMBER_EINVAL;
    if (len == 0)
        return EMBER_OK;
    if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)off, (off_t)len) != 0)
        return errno_status(errno);
    return EMBER_OK;
}

void shm_region_close(struct shm_region *r)
{
    if (r->base)
        munmap(r->base, r->reserved);
    if (r->fd >= 0)
        close(r->fd);
    r->base = NULL;
    r->fd = -1;
    r->size = 0;
}

int shm_region_unlink(const struct shm_region_opts *o)
{
    char hbuf[PATH_MAX], path[PATH_MAX];
    const char *hdir;
    int found = 0;

    if (shm_name_valid(o->name) != EMBER_OK)
        return EMBER_EINVAL;
    hdir = huge_dir(o, hbuf, sizeof(hbuf));
    if (hdir && build_path(path, sizeof(path), hdir, o->name) == EMBER_OK &&
        unlink(path) == 0)
        found = 1;
    if (build_path(path, sizeof(path), shm_dir(o), o->name) == EMBER_OK &&
        unlink(path) == 0)
        found = 1;
    return found ? EMBER_OK : EMBER_ENOENT;
}

int shm_region_rename_aside(struct shm_region *r, const char *suffix,
                            char *newpath, size_t newlen)
{
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof(buf), "%s.%s", r->path, suffix);

    if (n < 0 || (size_t)n >= sizeof(buf))
        return EMBER_EINVAL;
    if (rename(r->path, buf) != 0)
        return errno_status(errno);
    if (newpath && newlen > 0)
        snprintf(newpath, newlen, "%s", buf);
    memcpy(r->path, buf, sizeof(buf));
    return EMBER_OK;
}
