/*
 * ember-arena - offline inspection of shard arenas.
 *
 *   ember-arena [--shm-dir DIR] [--huge-dir DIR] info  NAME|PATH...
 *   ember-arena [--shm-dir DIR] [--huge-dir DIR] check NAME|PATH...
 *
 * Opens each arena as an inspection view (a private copy-on-write mapping of
 * a read-only file, see shm/arena.h): an interrupted mutation is rolled back
 * in this process's pages only and the file is never modified.  `check`
 * then runs the full consistency check.  An arena that a worker owns is
 * refused: stop ember first (its arenas stay, that is the point).
 *
 * Exit status: 0 all good, 1 an arena failed its check, 2 usage or an arena
 * could not be opened.
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shm/arena.h"
#include "shm/check.h"
#include "shm/ks.h"

static const char *state_name(uint32_t s)
{
    return s == SHM_STATE_RUNNING ? "running (owner exited uncleanly)" :
           s == SHM_STATE_CLEAN ? "clean" :
           s == SHM_STATE_HANDED_OFF ? "handed off" : "unknown";
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ember-arena [--shm-dir DIR] [--huge-dir DIR] info|check NAME|PATH...\n");
}

static int inspect(const char *arg, const char *shm_dir, const char *huge_dir, int check)
{
    char dirbuf[PATH_MAX], namebuf[PATH_MAX], err[512];
    struct shm_arena_opts o;
    struct shm_arena *a = NULL;
    struct shm_header *h;
    int rc, status = 0;
    unsigned db;

    memset(&o, 0, sizeof(o));
    o.region.name = arg;
    o.region.shm_dir = shm_dir;
    o.region.huge_dir = huge_dir;
    o.region.private_copy = 1;
    o.check = SHM_CHECK_NEVER;
    if (strchr(arg, '/') != NULL) {
        snprintf(dirbuf, sizeof(dirbuf), "%s", arg);
        snprintf(namebuf, sizeof(namebuf), "%s", arg);
        o.region.shm_dir = dirname(dirbuf);
        o.region.huge_dir = o.region.shm_dir;
        o.region.name = basename(namebuf);
    }
    rc = shm_arena_open(&o, &a, err, sizeof(err));
    if (rc != EMBER_OK) {
        fprintf(stderr, "ember-arena: %s: %s%s\n", arg, err,
                rc == EMBER_EBUSY ? " (a worker owns it: stop ember to inspect it)" : "");
        return 2;
    }
    h = a->hdr;
    printf("%s\n", a->reg.path);
    printf("  layout version   %u\n", h->version);
    printf("  shard            %u of %u\n", h->shard_id, h->shard_count);
    printf("  state            %s\n", state_name(h->state));
    printf("  generation       %llu (last owner pid %llu)\n",
           (unsigned long long)h->generation, (unsigned long long)h->owner_pid);
    printf("  backing          %s\n", (h->flags & SHM_FLAG_HUGETLB) ? "hugetlbfs" : "shm");
    printf("  size             %zu bytes (heap %llu, limit %s%llu)\n", a->reg.size,
           (unsigned long long)h->heap_top, h->limit ? "" : "none ",
           (unsigned long long)h->limit);
    printf("  used             %llu bytes in %llu blocks\n",
           (unsigned long long)h->used_bytes, (unsigned long long)h->nblocks);
    if (a->attach & SHM_ATTACH_ROLLED_BACK)
        printf("  undo log         an interrupted mutation (%llu stores) was rolled back "
               "in this view\n", (unsigned long long)a->rolled_back);
    for (db = 0; db < h->dbcount; db++)
        if (ks_count(a, db) > 0)
            printf("  db%-3u            keys=%llu expires=%llu\n", db,
                   (unsigned long long)ks_count(a, db),
                   (unsigned long long)ks_count_expires(a, db));
    if (check) {
        struct shm_check_report r;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = shm_check(a, &r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("  check            %s in %.2f s: %llu heap segments, %llu blocks, "
               "%llu keys, %llu free runs, %llu free segments\n",
               rc == EMBER_OK ? "passed" : "FAILED",
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
               (unsigned long long)r.heap_segs, (unsigned long long)r.blocks,
               (unsigned long long)r.keys, (unsigned long long)r.free_runs,
               (unsigned long long)r.free_segs);
        printf("  heap             %llu free pages in runs, %llu slabs, %llu large blocks\n",
               (unsigned long long)r.free_pages, (unsigned long long)r.slabs,
               (unsigned long long)r.large_blocks);
        if (rc != EMBER_OK) {
            printf("  first problem    %s\n", r.first_error);
            status = 1;
        }
    }
    shm_arena_close(&a);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "shm-dir", required_argument, NULL, 's' },
        { "huge-dir", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *shm_dir = NULL, *huge_dir = NULL;
    int opt, i, check, worst = 0;

    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': shm_dir = optarg; break;
        case 'H': huge_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind < 2 || (strcmp(argv[optind], "info") != 0 &&
                              strcmp(argv[optind], "check") != 0)) {
        usage(stderr);
        return 2;
    }
    check = strcmp(argv[optind], "check") == 0;
    for (i = optind + 1; i < argc; i++) {
        int rc = inspect(argv[i], shm_dir, huge_dir, check);
        if (rc > worst)
            worst = rc;
    }
    return worst;
}
