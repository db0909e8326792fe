/*
 * ring_bench.c - throughput of a worker-to-worker ring across two processes.
 *
 * A producer process and a consumer process, pinned to two different CPUs,
 * share a ring set in a memfd exactly as two workers do, with real eventfds
 * and the sleep/wake protocol of shm/ring.h.  The producer sends N records of
 * 64 payload bytes, committing every `batch` records (1, 16, 64); the
 * consumer checks their order and releases every 64 records or when the ring
 * runs dry.  Reported per batch size: ns per record and records per second
 * (first reservation to last record consumed), commits, how often the
 * consumer slept and was woken, how often the producer found the ring full.
 * A second mode, "spin", lets the consumer poll instead of sleeping: the
 * ring's own cost, with no wake-ups at all.
 *
 * Usage: ring_bench [records [ring_bytes]]   (default 4000000, 262144)
 * It prints figures and never fails on timing; it exits non-zero only when a
 * system call fails or a record arrives out of order.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm/ring.h"

#define PAYLOAD  64u
#define TAG_DATA 1u
#define TAG_END  2u

struct shared {                  /* a MAP_SHARED page between the processes */
    volatile int ready;          /* children that are set up */
    volatile int go;             /* parent: start */
    uint64_t t_start;            /* producer: first reservation, ns */
    uint64_t t_end;              /* consumer: last record consumed, ns */
    uint64_t commits;            /* producer: commits that published */
};

struct bench {                   /* one run's setup */
    int             fd;          /* memfd of the region */
    size_t          size;        /* region bytes */
    void           *mem;         /* region */
    struct ringset *set;         /* handle (inherited by the children) */
    int             efd[2];      /* eventfds of workers 0 and 1 */
    struct shared  *sh;          /* results */
    uint64_t        n;           /* records */
    unsigned        batch;       /* records per commit */
    bool            spin;        /* consumer polls instead of sleeping */
    int             cpu[2];      /* CPUs to pin to, -1: no pinning */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "ring_bench: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime: %s", strerror(errno));
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
    cpu_set_t set;

    if (cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        die("sched_setaffinity(%d): %s", cpu, strerror(errno));
}

static void wake(const struct bench *b, unsigned w)
{
    uint64_t one = 1;

    if (write(b->efd[w], &one, sizeof(one)) != (ssize_t)sizeof(one))
        die("eventfd write: %s", strerror(errno));
}

/* Blocks worker `me` on its eventfd after ringset_prepare_sleep() said yes. */
static void block(const struct bench *b, unsigned me)
{
    struct pollfd pfd = { .fd = b->efd[me], .events = POLLIN };
    uint64_t v;
    int rc;

    do
        rc = poll(&pfd, 1, -1);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        die("poll: %s", strerror(errno));
    if (read(b->efd[me], &v, sizeof(v)) != (ssize_t)sizeof(v))
        die("eventfd read: %s", strerror(errno));
    ringset_awake(b->set, me);
}

static void start_line(struct bench *b)
{
    __atomic_add_fetch(&b->sh->ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&b->sh->go, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void publish(struct bench *b, struct ring *r, uint64_t *commits)
{
    if (ring_commit(r)) {
        (*commits)++;
        if (ringset_need_wake(b->set, 1))
            wake(b, 1);
    }
}

static void producer(struct bench *b)
{
    struct ring *r = ringset_ring(b->set, 0, 1);
    uint64_t seq, commits = 0;
    unsigned inbatch = 0;
    void *d;
    int rc;

    pin(b->cpu[0]);
    start_line(b);
    b->sh->t_start = now_ns();
    for (seq = 0; seq <= b->n; seq++) {
        uint32_t tag = seq < b->n ? TAG_DATA : TAG_END;

        while ((rc = ring_reserve(r, PAYLOAD, tag, &d)) == EMBER_EAGAIN) {
            /* full: publish what we have, sleep until space is released */
            publish(b, r, &commits);
            inbatch = 0;
            if (ringset_prepare_sleep(b->set, 0))
                block(b, 0);
        }
        if (rc != EMBER_OK)
            die("reserve: %s", ember_strerror(rc));
        memcpy(d, &seq, sizeof(seq));
        memset((char *)d + sizeof(seq), (int)(seq & 0xff),
               PAYLOAD - sizeof(seq));
        if (++inbatch >= b->batch || tag == TAG_END) {
            publish(b, r, &commits);
            inbatch = 0;
        }
    }
    b->sh->commits = commits;
    _exit(0);
}

static void consumer(struct bench *b)
{
    struct ring *r = ringset_ring(b->set, 0, 1);
    uint64_t seq, expect = 0;
    unsigned since = 0;
    uint32_t tag, len;
    void *d;
    int rc;

    pin(b->cpu[1]);
    start_line(b);
    for (;;) {
        rc = ring_peek(r, &tag, &d, &len);
        if (rc == EMBER_EAGAIN) {
            if (ring_release(r) && ringset_need_wake(b->set, 0))
                wake(b, 0);
            since = 0;
            if (!b->spin && ringset_prepare_sleep(b->set, 1))
                block(b, 1);
            continue;
        }
        if (rc != EMBER_OK)
            die("peek: %s", ember_strerror(rc));
        if (tag == TAG_END)
            break;
        memcpy(&seq, d, sizeof(seq));
        if (seq != expect || len != PAYLOAD)
            die("record %" PRIu64 " out of order (expected %" PRIu64 ")",
                seq, expect);
        expect++;
        ring_next(r);
        if (++since == 64) {
            if (ring_release(r) && ringset_need_wake(b->set, 0))
                wake(b, 0);
            since = 0;
        }
    }
    b->sh->t_end = now_ns();
    ring_next(r);
    ring_release(r);
    if (expect != b->n)
        die("got %" PRIu64 " records of %" PRIu64, expect, b->n);
    _exit(0);
}

static pid_t spawn(struct bench *b, void (*fn)(struct bench *))
{
    pid_t pid = fork();

    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0)
        fn(b);
    return pid;
}

static void reap(pid_t pid)
{
    int status;

    if (waitpid(pid, &status, 0) != pid)
        die("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("child %d failed", (int)pid);
}

static void run(uint64_t n, size_t ring_bytes, unsigned batch, bool spin,
                const int cpu[2])
{
    struct ringset_stats cs, ps;
    struct bench b = { .n = n, .batch = batch, .spin = spin };
    pid_t pc, pp;
    double ns;
    int rc;

    b.cpu[0] = cpu[0];
    b.cpu[1] = cpu[1];
    b.size = ringset_size(2, ring_bytes);
    if (b.size == 0)
        die("bad ring size %zu", ring_bytes);
    b.fd = memfd_create("ember-ring-bench", MFD_CLOEXEC);
    if (b.fd < 0)
        die("memfd_create: %s", strerror(errno));
    if (ftruncate(b.fd, (off_t)b.size) != 0)
        die("ftruncate: %s", strerror(errno));
    b.mem = mmap(NULL, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd, 0);
    if (b.mem == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    rc = ringset_init(b.mem, b.size, 2, ring_bytes);
    if (rc == EMBER_OK)
        rc = ringset_attach(b.mem, b.size, 2, ring_bytes, &b.set);
    if (rc != EMBER_OK)
        die("ring set: %s", ember_strerror(rc));
    b.efd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    b.efd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b.efd[0] < 0 || b.efd[1] < 0)
        die("eventfd: %s", strerror(errno));
    b.sh = mmap(NULL, sizeof(*b.sh), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b.sh == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    memset(b.sh, 0, sizeof(*b.sh));

    pc = spawn(&b, consumer);
    pp = spawn(&b, producer);
    while (__atomic_load_n(&b.sh->ready, __ATOMIC_ACQUIRE) < 2)
        sched_yield();
    __atomic_store_n(&b.sh->go, 1, __ATOMIC_RELEASE);
    reap(pp);
    reap(pc);

    ringset_stats(b.set, 1, &cs);
    ringset_stats(b.set, 0, &ps);
    ns = (double)(b.sh->t_end - b.sh->t_start) / (double)n;
    printf("%-5s %5u %8.1f %12.0f %10" PRIu64 " %9" PRIu64 " %9" PRIu64
           " %9" PRIu64 " %9" PRIu64 "\n",
           spin ? "spin" : "sleep", batch, ns, 1e9 / ns, b.sh->commits,
           cs.sleeps, cs.wakes, ps.full, ps.wakes);

    ringset_detach(&b.set);
    if (munmap(b.sh, sizeof(*b.sh)) != 0 || munmap(b.mem, b.size) != 0 ||
        close(b.fd) != 0 || close(b.efd[0]) != 0 || close(b.efd[1]) != 0)
        die("cleanup: %s", strerror(errno));
}

int main(int argc, char **argv)
{
    static const unsigned batches[] = { 1, 16, 64 };
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
    size_t ring_bytes = argc > 2 ? strtoull(argv[2], NULL, 10) : 262144;
    int cpu[2] = { -1, -1 }, c, found = 0;
    cpu_set_t avail;
    size_t i;

    if (n == 0)
        die("usage: ring_bench [records [ring_bytes]]");
    if (sched_getaffinity(0, sizeof(avail), &avail) != 0)
        die("sched_getaffinity: %s", strerror(errno));
    for (c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &avail))
            cpu[found++] = c;
    if (found < 2)
        cpu[0] = cpu[1] = -1;
    printf("# ring_bench: %" PRIu64 " records of %u payload bytes (%u with "
           "header), ring of %zu bytes, ", n, PAYLOAD, PAYLOAD + RING_HDR_BYTES,
           ring_bytes);
    if (found < 2)
        printf("one CPU only: not pinned\n");
    else
        printf("producer on CPU %d, consumer on CPU %d\n", cpu[0], cpu[1]);
    printf("# mode  batch  ns/rec    records/s    commits    sleeps     wakes"
           "  ring-full  prod-wakes\n");
    for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++)
        run(n, ring_bytes, batches[i], false, cpu);
    for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++)
        run(n, ring_bytes, batches[i], true, cpu);
    return 0;
}
