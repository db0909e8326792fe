/*
 * emberd.c - the supervisor.
 *
 * Reads the settings (config file, then flags), checks every shard's arena
 * before anything starts (another layout version, another worker count, an
 * arena in use: a clear message and exit 1, with nothing touched), makes
 * room for maxclients under the open files limit (raising it, or lowering
 * maxclients to what fits: adjust_open_files), sets up what workers share
 * and must survive any one of them - SO_REUSEPORT listeners (one per worker
 * and address, so connections queue for a worker even while it restarts),
 * one wake-up eventfd per worker, the ring set region, the shared pages -
 * then forks one worker per shard, pinned to a CPU, and watches them.
 *
 * A worker that dies is restarted at once after it had been serving for a
 * while, and with growing delays (100 ms doubling to 5 s) when it keeps
 * dying young; after 10 young deaths in a row the supervisor says so and
 * stops everything.  A worker that exits with WORKER_EXIT_FATAL (it can
 * never work, e.g. a layout version mismatch) stops everything at once.
 *
 * SIGTERM / SIGINT, `emberctl shutdown` or a client's SHUTDOWN (its worker
 * sends SIGTERM): every worker stops gracefully (see worker.c), arenas are
 * detached clean, the supervisor exits 0.
 * The control socket (control.c) answers emberctl.
 */
#include "supervisor.h"

#include "shm/arena.h"
#include "shm/region.h"
#include "shm/ring.h"
#include "worker/config.h"
#include "worker/log.h"
#include "worker/util.h"
#include "worker/worker.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RING_BYTES          (1u << 20)
#define YOUNG_MS            1000      /* dying sooner than this counts as a failed start */
#define MAX_YOUNG_DEATHS    10
#define STOP_TIMEOUT_MS     15000
#define FD_HEADROOM         8         /* short-lived ones: /proc reads, control connections */

struct sup S;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: emberd [config-file] [--setting value ...]\n"
            "       emberd --help | --version | --dump-options\n"
            "\n"
            "ember %s, a Redis-compatible cache whose data lives in shared memory that\n"
            "outlives its processes.  Settings (also valid in the config file and, where\n"
            "noted, with CONFIG SET):\n\n", EMBER_RELEASE);
    config_print_help(f);
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* ---- setup ------------------------------------------------------------------- */

static int parse_args(int argc, char **argv)
{
    char err[512];
    int i = 1;

    config_defaults();
    if (argc > 1 && argv[1][0] != '-') {
        if (config_load_file(argv[1], err, sizeof(err)) != 0) {
            fprintf(stderr, "emberd: %s\n", err);
            return -1;
        }
        i = 2;
    }
    for (; i < argc; i++) {
        const char *name = argv[i], *value;
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(name, "--version") == 0 || strcmp(name, "-v") == 0) {
            printf("emberd %s (Redis %s compatible, arena layout %u)\n", EMBER_RELEASE,
                   EMBER_VERSION, SHM_LAYOUT_VERSION);
            exit(0);
        }
        if (strcmp(name, "--dump-options") == 0) {
            /* For the man pages: flags, or config file keywords. */
            config_print_mdoc(stdout, i + 1 < argc && strcmp(argv[i + 1], "conf") == 0);
            exit(0);
        }
        if (strncmp(name, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "emberd: expected --setting value, got '%s'\n", name);
            usage(stderr);
            return -1;
        }
        value = argv[++i];
        if (config_set(name + 2, value, 0, err, sizeof(err)) != 0) {
            fprintf(stderr, "emberd: --%s %s: %s\n", name + 2, value, err);
            return -1;
        }
    }
    return 0;
}

/* One SO_REUSEPORT listener per worker for each address. */
static int open_listeners(void)
{
    char *addrs = strdup(config.bind), *save = NULL, *a;
    int n = 0;

    if (addrs == NULL)
        return -1;
    S.listen = calloc(S.nworkers, sizeof(*S.listen));
    if (S.listen == NULL) {
        free(addrs);
        return -1;
    }
    for (a = strtok_r(addrs, " ", &save); a; a = strtok_r(NULL, " ", &save)) {
        struct addrinfo hints, *res, *ai;
        char port[16];
        unsigned w;
        int rc;

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
        snprintf(port, sizeof(port), "%lld", config.port);
        rc = getaddrinfo(a, port, &hints, &res);
        if (rc != 0) {
            log_warning("cannot listen on %s: %s", a, gai_strerror(rc));
            free(addrs);
            return -1;
        }
        for (ai = res; ai; ai = ai->ai_next) {
            /* SO_REUSEPORT would let us share a port another process (of
             * our user) listens on, splitting its clients with it: bind a
             * plain socket first, which fails as Redis does when it is. */
            int probe = socket(ai->ai_family, ai->ai_socktype, 0), one = 1;
            if (probe < 0 ||
                setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
                (ai->ai_family == AF_INET6 &&
                 setsockopt(probe, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
                bind(probe, ai->ai_addr, ai->ai_addrlen) != 0) {
                log_warning("cannot listen on %s:%lld: %s", a, config.port, strerror(errno));
                if (probe >= 0)
                    close(probe);
                freeaddrinfo(res);
                free(addrs);
                return -1;
            }
            close(probe);
            for (w = 0; w < S.nworkers; w++) {
                int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK, 0);
                if (fd < 0 ||
                    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
                    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
                    (ai->ai_family == AF_INET6 &&
                     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
                    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
                    listen(fd, (int)config.tcp_backlog) != 0) {
                    log_warning("cannot listen on %s:%lld: %s", a, config.port, strerror(errno));
                    if (fd >= 0)
                        close(fd);
                    freeaddrinfo(res);
                    free(addrs);
                    return -1;
                }
                if (S.listen[w].n < SUP_MAX_LISTEN)
                    S.listen[w].fds[S.listen[w].n++] = fd;
                else
                    close(fd);
            }
            n++;
        }
        freeaddrinfo(res);
    }
    free(addrs);
    if (n == 0) {
        log_warning("no address to listen on (bind \"%s\")", config.bind);
        return -1;
    }
    log_notice("listening on %s port %lld (%u SO_REUSEPORT listeners per address)",
               config.bind, config.port, S.nworkers);
    return 0;
}

/* ---- open files limit ------------------------------------------------------- */

/* Descriptors open now, which every worker inherits: the standard
 * streams, the log file, whatever our parent left open.  3 when /proc
 * cannot tell. */
static long long open_fds_now(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long long n = 0;

    if (d == NULL)
        return 3;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 1 ? n - 1 : 3;   /* less the directory's own descriptor */
}

/* Addresses in `bind`: each worker gets one listener per address. */
static long long count_addresses(const char *bind)
{
    long long n = 0;
    const char *p;

    for (p = bind; *p; p++)
        if (*p != ' ' && (p == bind || p[-1] == ' '))
            n++;
    if (n > SUP_MAX_LISTEN)
        n = SUP_MAX_LISTEN;
    return n > 0 ? n : 1;
}

/*
 * Makes room for the clients under RLIMIT_NOFILE.  maxclients is global,
 * so any one worker may hold every client, besides its fixed descriptors.
 * Workers are separate processes that inherit the limit at fork, and
 * CONFIG SET maxclients in one of them could not raise the others', so
 * the soft limit is raised once, here, to what the largest maxclients
 * needs, or to the hard limit when that is lower (systemd's advice for
 * services that need many descriptors).  The maxclients that fits becomes
 * the ceiling of CONFIG SET (config_set_maxclients_limit); a configured
 * maxclients above it is lowered, with a warning, as Redis does.
 * Returns 0, or -1 (logged) when not even one client fits.
 */
static int adjust_open_files(void)
{
    long long base = open_fds_now(), naddr = count_addresses(config.bind);
    long long fixed, sup_need, want, room;
    struct rlimit rl;
    rlim_t was;

    /* A worker: its own listeners, every worker's wake-up eventfd, its
     * arena, the ring set, libevent's epoll and signal pipe, the spare
     * descriptor client.c keeps to refuse clients with. */
    fixed = base + naddr + S.nworkers + 2 + 3 + 1 + FD_HEADROOM;
    /* The supervisor: every listener and eventfd, the ring set, the
     * control socket, libevent's three. */
    sup_need = base + (long long)S.nworkers * (naddr + 1) + 2 + 3 + FD_HEADROOM;
    want = fixed + CONFIG_MAXCLIENTS_MAX;
    if (want < sup_need)
        want = sup_need;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        log_warning("cannot read the open files limit: %s", strerror(errno));
        return 0;
    }
    was = rl.rlim_cur;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want &&
        rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want ?
                      (rlim_t)want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
            log_notice("raised the open files limit from %llu to %llu", (unsigned long long)was,
                       (unsigned long long)rl.rlim_cur);
        } else {
            log_warning("cannot raise the open files limit from %llu to %llu: %s",
                        (unsigned long long)was, (unsigned long long)rl.rlim_cur,
                        strerror(errno));
            rl.rlim_cur = was;
        }
    }
    room = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)want ?
           CONFIG_MAXCLIENTS_MAX : (long long)rl.rlim_cur - fixed;
    if (room < 1 || (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)sup_need)) {
        log_warning("the open files limit of %llu is too low for %u workers: ember needs at "
                    "least %lld; raise it (ulimit -n, or LimitNOFILE= for a systemd service)",
                    (unsigned long long)rl.rlim_cur, S.nworkers,
                    (fixed + 1 > sup_need ? fixed + 1 : sup_need));
        return -1;
    }
    config_set_maxclients_limit(room);
    if (config.maxclients > room) {
        log_warning("maxclients %lld needs %lld open files in each worker, but the open files "
                    "limit is %llu (hard limit %llu): maxclients has been reduced to %lld. "
                    "For more clients, raise the hard limit (ulimit -Hn, or LimitNOFILE= for a "
                    "systemd service)", config.maxclients, config.maxclients + fixed,
                    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, room);
        config.maxclients = room;
    }
    return 0;
}

static void arena_opts(unsigned shard, char *name, size_t len, struct shm_arena_opts *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(name, len, "%s-%u", S.name, shard);
    o->region.name = name;
    o->region.huge_dir = config.hugetlbfs_dir[0] ? config.hugetlbfs_dir : NULL;
    o->region.shm_dir = config.shm_dir;
    o->shard_id = shard;
    o->shard_count = S.nworkers;
}

/* Refuses to start over arenas this configuration cannot serve. */
static int probe_arenas(void)
{
    char name[SHM_NAME_MAX + 32], err[1024];
    struct shm_arena_opts o;
    unsigned s;
    int rc;

    for (s = 0; s < S.nworkers; s++) {
        arena_opts(s, name, sizeof(name), &o);
        rc = shm_arena_probe(&o, err, sizeof(err));
        if (rc != EMBER_OK && rc != EMBER_ENOENT) {
            log_warning("%s", err);
            return -1;
        }
    }
    /* Arenas of shards past the worker count hold keys nobody would serve. */
    arena_opts(S.nworkers, name, sizeof(name), &o);
    o.shard_count = 0;
    rc = shm_arena_probe(&o, err, sizeof(err));
    if (rc == EMBER_OK || rc == EMBER_EBUSY || rc == EMBER_ESHARD) {
        log_warning("arena %s exists: it was created by a run with more than %u workers. "
                    "Start with the --workers it was created with (resharding is not "
                    "supported yet), or remove the arenas %s-* to start empty",
                    name, S.nworkers, S.name);
        return -1;
    }
    return 0;
}

static int setup_rings(void)
{
    struct shm_region_opts ro;
    char name[SHM_NAME_MAX + 32];
    size_t size;
    int rc;

    if (S.nworkers <= 1)
        return 0;
    size = ringset_size(S.nworkers, RING_BYTES);
    size = (size + SHM_SEG_SIZE - 1) & ~(size_t)(SHM_SEG_SIZE - 1);
    snprintf(name, sizeof(name), "%s-rings", S.name);
    memset(&ro, 0, sizeof(ro));
    ro.name = name;
    ro.shm_dir = config.shm_dir;
    ro.reserve = size;
    /* Every start formats the rings afresh: no worker is running. */
    (void)shm_region_unlink(&ro);
    rc = shm_region_create(&ro, size, &S.rings);
    if (rc != EMBER_OK) {
        log_warning("cannot create the ring set %s: %s", name, ember_strerror(rc));
        return -1;
    }
    rc = ringset_init(S.rings.base, size, S.nworkers, RING_BYTES);
    if (rc != EMBER_OK) {
        log_warning("cannot format the ring set: %s", ember_strerror(rc));
        return -1;
    }
    S.ring_bytes = RING_BYTES;
    return 0;
}

static int setup_shared(void)
{
    unsigned w;
    uint64_t epoch;

    S.shared = mmap(NULL, sizeof(*S.shared), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (S.shared == MAP_FAILED) {
        S.shared = NULL;
        return -1;
    }
    for (w = 0; w < S.nworkers; w++) {
        pthread_mutexattr_t ma;
        int rc = pthread_mutexattr_init(&ma);

        if (rc == 0) {
            if ((rc = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED)) == 0 &&
                (rc = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST)) == 0)
                rc = pthread_mutex_init(&S.shared->w[w].alive, &ma);
            pthread_mutexattr_destroy(&ma);
        }
        if (rc != 0) {
            errno = rc;
            return -1;
        }
    }
    atomic_store(&S.shared->started_ms, util_mstime());
    epoch = (uint64_t)util_ustime() ^ ((uint64_t)getpid() << 40);
    S.shared->ring_epoch = epoch ? epoch : 1;
    S.cshared = config_shared_create();
    if (S.cshared == NULL)
        return -1;
    S.wake_fds = calloc(S.nworkers, sizeof(int));
    S.workers = calloc(S.nworkers, sizeof(*S.workers));
    if (S.wake_fds == NULL || S.workers == NULL)
        return -1;
    for (w = 0; w < S.nworkers; w++) {
        S.wake_fds[w] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (S.wake_fds[w] < 0)
            return -1;
    }
    return 0;
}

/* The n-th CPU this process may run on. */
static int nth_cpu(unsigned n)
{
    cpu_set_t set;
    int cpu, seen = 0, count;

    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return -1;
    count = CPU_COUNT(&set);
    if (count <= 0)
        return -1;
    n %= (unsigned)count;
    for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set) && (unsigned)seen++ == n)
            return cpu;
    return -1;
}

/* ---- workers ------------------------------------------------------------------- */

static void child_main(unsigned id)
{
    struct worker_args a;
    unsigned w;
    int i;

    /* Die with the supervisor rather than serve unsupervised. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != S.pid)
        _exit(WORKER_EXIT_ERROR);
    /* The parent's event base is not ours.  A forked child shares the
     * parent's epoll instance, so touching the base's events before
     * event_reinit() would unregister them in the parent too: reinit
     * first (the child gets its own epoll), then throw the base away. */
    event_reinit(S.base);
    sup_control_close_in_child();
    event_base_free(S.base);
    S.base = NULL;
    for (w = 0; w < S.nworkers; w++)
        if (w != id)
            for (i = 0; i < S.listen[w].n; i++)
                close(S.listen[w].fds[i]);
    if (config.cpu_affinity) {
        int cpu = nth_cpu(id);
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            if (sched_setaffinity(0, sizeof(set), &set) != 0)
                log_warning("cannot pin worker %u to CPU %d: %s", id, cpu, strerror(errno));
        }
    }
    signal(SIGCHLD, SIG_DFL);
    memset(&a, 0, sizeof(a));
    a.id = id;
    a.nworkers = S.nworkers;
    a.listen_fds = S.listen[id].fds;
    a.nlisten = S.listen[id].n;
    a.wake_fds = S.wake_fds;
    a.ring_mem = S.nworkers > 1 ? S.rings.base : NULL;
    a.ring_size = S.rings.size;
    a.ring_bytes = S.ring_bytes;
    a.shared = S.shared;
    a.cshared = S.cshared;
    a.name = S.name;
    _exit(worker_main(&a));
}

/* Forks worker id; a restart (`next_gen`) first gives the slot a new
 * generation. */
static int spawn(unsigned id, int next_gen)
{
    struct sup_worker *w = &S.workers[id];
    pid_t pid;

    if (next_gen)
        atomic_fetch_add(&S.shared->w[id].generation, 1);
    /* A dead predecessor's connections died with it (maxclients counts
     * the slots' clients). */
    atomic_store(&S.shared->w[id].clients, 0);
    atomic_store(&S.shared->w[id].state, WS_STARTING);
    pid = fork();
    if (pid < 0) {
        log_warning("cannot fork worker %u: %s", id, strerror(errno));
        return -1;
    }
    if (pid == 0)
        child_main(id);
    w->pid = pid;
    w->started_ms = util_mstime();
    w->restart_at_ms = 0;
    atomic_store(&S.shared->w[id].pid, pid);
    log_verbose("worker %u started, pid %d", id, (int)pid);
    return 0;
}

static void on_restart_timer(int fd, short what, void *arg);

static void schedule_restart(unsigned id, int64_t delay_ms)
{
    struct sup_worker *w = &S.workers[id];
    struct timeval tv;

    if (w->timer == NULL)
        w->timer = evtimer_new(S.base, on_restart_timer, (void *)(uintptr_t)id);
    tv.tv_sec = delay_ms / 1000;
    tv.tv_usec = (delay_ms % 1000) * 1000;
    if (w->timer == NULL || evtimer_add(w->timer, &tv) != 0) {
        log_warning("cannot schedule the restart of worker %u; stopping", id);
        sup_shutdown(1);
    }
}

static void on_restart_timer(int fd, short what, void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;

    (void)fd;
    (void)what;
    if (S.stopping)
        return;
    if (spawn(id, 1) != 0)
        schedule_restart(id, 1000);
}

static void worker_died(unsigned id, int status)
{
    struct sup_worker *w = &S.workers[id];
    int64_t lived = util_mstime() - w->started_ms, delay = 0;
    char how[64];

    w->pid = 0;
    atomic_store(&S.shared->w[id].pid, 0);
    atomic_store(&S.shared->w[id].state, WS_DOWN);
    if (WIFEXITED(status))
        snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
    if (S.stopping) {
        log_verbose("worker %u %s", id, how);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
        log_warning("worker %u cannot run (%s, see above); stopping ember", id, how);
        sup_shutdown(1);
        return;
    }
    if (lived < YOUNG_MS) {
        w->young_deaths++;
        delay = 100ll << (w->young_deaths - 1 < 6 ? w->young_deaths - 1 : 6);
        if (delay > 5000)
            delay = 5000;
    } else {
        w->young_deaths = 0;
    }
    w->restarts++;
    if (w->young_deaths >= MAX_YOUNG_DEATHS) {
        log_warning("worker %u %s; it died within %d ms of starting %d times in a row: "
                    "giving up and stopping ember", id, how, YOUNG_MS, w->young_deaths);
        sup_shutdown(1);
        return;
    }
    log_warning("worker %u %s after %lld ms; restarting it%s (its arena is attached as is, "
                "no reload)", id, how, (long long)lived,
                delay ? " after a back-off delay" : "");
    if (delay == 0) {
        if (spawn(id, 1) != 0)
            schedule_restart(id, 1000);
    } else {
        schedule_restart(id, delay);
    }
}

static void on_sigchld(int sig, short what, void *arg)
{
    pid_t pid;
    int status;

    (void)sig;
    (void)what;
    (void)arg;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        unsigned w;
        for (w = 0; w < S.nworkers; w++)
            if (S.workers[w].pid == pid) {
                worker_died(w, status);
                break;
            }
    }
    if (S.stopping) {
        unsigned w, alive = 0;
        for (w = 0; w < S.nworkers; w++)
            alive += S.workers[w].pid != 0;
        if (alive == 0)
            event_base_loopbreak(S.base);
    }
}

static void on_stop_timeout(int fd, short what, void *arg)
{
    unsigned w;

    (void)fd;
    (void)what;
    (void)arg;
    for (w = 0; w < S.nworkers; w++)
        if (S.workers[w].pid) {
            log_warning("worker %u did not stop in %d s; killing it", w, STOP_TIMEOUT_MS / 1000);
            kill(S.workers[w].pid, SIGKILL);
        }
}

void sup_shutdown(int code)
{
    unsigned w, alive = 0;
    struct timeval tv = { STOP_TIMEOUT_MS / 1000, 0 };

    if (S.stopping)
        return;
    S.stopping = 1;
    S.exit_code = code;
    log_notice("stopping: asking %u workers to finish", S.nworkers);
    for (w = 0; w < S.nworkers; w++) {
        if (S.workers[w].timer)
            evtimer_del(S.workers[w].timer);
        if (S.workers[w].pid) {
            kill(S.workers[w].pid, SIGTERM);
            alive++;
        }
    }
    if (alive == 0) {
        event_base_loopbreak(S.base);
        return;
    }
    S.stop_ev = evtimer_new(S.base, on_stop_timeout, NULL);
    if (S.stop_ev)
        evtimer_add(S.stop_ev, &tv);
}

static void on_sigterm(int sig, short what, void *arg)
{
    /* A worker that ran SHUTDOWN says so in the shared page first. */
    int by = sig == SIGTERM ? atomic_exchange(&S.shared->shutdown_by, 0) : 0;

    (void)what;
    (void)arg;
    if (by > 0)
        log_notice("SHUTDOWN command from a client of worker %d", by - 1);
    else
        log_notice("received %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    sup_shutdown(0);
}

static void on_sighup(int sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    if (log_reopen() != 0)
        log_warning("cannot reopen the log file: %s", strerror(errno));
    log_notice("SIGHUP: log file reopened (configuration reload is not implemented yet)");
}

static int write_pidfile(void)
{
    FILE *f;

    if (config.pidfile[0] == '\0')
        return 0;
    f = fopen(config.pidfile, "w");
    if (f == NULL) {
        log_warning("cannot write pid file %s: %s", config.pidfile, strerror(errno));
        return -1;
    }
    fprintf(f, "%d\n", (int)getpid());
    if (fclose(f) != 0) {
        log_warning("cannot write pid file %s: %s", config.pidfile, strerror(errno));
        return -1;
    }
    return 0;
}

static int daemonize(void)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        if (config.logfile[0])
            dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return 0;
}

static void cleanup(void)
{
    unsigned w;

    if (S.nworkers > 1 && S.rings.base) {
        struct shm_region_opts ro;
        char name[SHM_NAME_MAX + 32];
        snprintf(name, sizeof(name), "%s-rings", S.name);
        memset(&ro, 0, sizeof(ro));
        ro.name = name;
        ro.shm_dir = config.shm_dir;
        shm_region_close(&S.rings);
        (void)shm_region_unlink(&ro);
    }
    sup_control_close();
    if (config.pidfile[0])
        unlink(config.pidfile);
    for (w = 0; w < S.nworkers && S.wake_fds; w++)
        close(S.wake_fds[w]);
}

int main(int argc, char **argv)
{
    struct event *ev_chld, *ev_term, *ev_int, *ev_hup;
    unsigned w;

    if (parse_args(argc, argv) != 0)
        return 1;
    if (config.logfile[0] && log_open(config.logfile) != 0) {
        fprintf(stderr, "emberd: cannot open log file %s: %s\n", config.logfile,
                strerror(errno));
        return 1;
    }
    log_set_role("S");
    log_set_level((enum log_level)config.loglevel);
    if (chdir(config.dir) != 0) {
        log_warning("cannot use directory %s: %s", config.dir, strerror(errno));
        return 1;
    }
    S.nworkers = config.workers > 0 ? (unsigned)config.workers : (unsigned)online_cpus();
    if (S.nworkers > MAX_WORKERS)
        S.nworkers = MAX_WORKERS;
    if (config.name[0])
        snprintf(S.name, sizeof(S.name), "%s", config.name);
    else
        snprintf(S.name, sizeof(S.name), "ember-%lld", config.port);
    if (shm_name_valid(S.name) != EMBER_OK) {
        log_warning("instance name '%s' is not valid (letters, digits, . _ - only)", S.name);
        return 1;
    }
    if (config.daemonize && daemonize() != 0) {
        log_warning("cannot daemonize: %s", strerror(errno));
        return 1;
    }
    S.pid = getpid();
    S.control_fd = -1;
    log_notice("ember %s starting: %u workers, instance %s, pid %d", EMBER_RELEASE,
               S.nworkers, S.name, (int)S.pid);
    if (probe_arenas() != 0)
        return 1;
    if (sup_control_check_running() != 0)
        return 1;
    if (adjust_open_files() != 0)
        return 1;
    if (setup_shared() != 0 || open_listeners() != 0 || setup_rings() != 0) {
        log_warning("startup failed");
        cleanup();
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    S.base = event_base_new();
    if (S.base == NULL || sup_control_open() != 0 || write_pidfile() != 0) {
        log_warning("startup failed");
        cleanup();
        return 1;
    }
    ev_chld = evsignal_new(S.base, SIGCHLD, on_sigchld, NULL);
    ev_term = evsignal_new(S.base, SIGTERM, on_sigterm, NULL);
    ev_int = evsignal_new(S.base, SIGINT, on_sigterm, NULL);
    ev_hup = evsignal_new(S.base, SIGHUP, on_sighup, NULL);
    if (!ev_chld || !ev_term || !ev_int || !ev_hup || event_add(ev_chld, NULL) ||
        event_add(ev_term, NULL) || event_add(ev_int, NULL) || event_add(ev_hup, NULL)) {
        log_warning("cannot install signal handlers");
        cleanup();
        return 1;
    }
    /* Every generation is final before any worker starts: a worker stamps
     * its requests with the owner's generation as it sees it (cross.c). */
    for (w = 0; w < S.nworkers; w++)
        atomic_fetch_add(&S.shared->w[w].generation, 1);
    for (w = 0; w < S.nworkers; w++)
        if (spawn(w, 0) != 0) {
            sup_shutdown(1);
            break;
        }
    event_base_dispatch(S.base);
    /* Reap anything left (the loop ends when all workers are gone). */
    for (w = 0; w < S.nworkers; w++)
        if (S.workers[w].pid)
            waitpid(S.workers[w].pid, NULL, 0);
    cleanup();
    log_notice("ember stopped%s", S.exit_code ? " after an error" : "; data stays in the arenas");
    return S.exit_code;
}
