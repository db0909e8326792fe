#!/usr/bin/python3
"""Server figures for emberd side by side with redis-server, in one run.

  a) GET and SET through redis-benchmark (50 clients, 32-byte values, 100000
     random keys, all preloaded; pipeline 1 and 16), ember --workers 1
     against redis-server: requests/s, and the server's CPU time per
     request, which is what the targets are about.  CPU time is utime+stime
     of every process of the server (supervisor and workers for ember,
     every thread for redis) read from /proc/PID/stat just before and just
     after each redis-benchmark run.
  b) ember --workers 2 against ember --workers 1, same load: with random
     keys about half the commands a worker reads belong to the other shard
     and cross over the rings.  CPU time per request summed over all ember
     processes.
     A null server (tests/bench/null_server.c: epoll, one recv and one
     send per ready client, "+OK" per command, nothing else) runs in the
     same rounds: its CPU time per request is the floor, the kernel's share
     of a loopback round trip, which no server gets under.
  c) memory for N keys (16-byte "key:000000000001"-style keys, 32-byte
     values) loaded with pipelined SETs: Pss of every server process (from
     /proc/PID/smaps_rollup: ember's arena pages count once however many
     processes map them) and used_memory, after loading minus before, per
     key, beyond the 48 payload bytes.

The machine is shared and noisy, so every figure is a ratio against a
server measured in the same run: the servers run side by side, each
measurement is repeated (rounds interleave the servers, in a rotating
order) and the median is kept, printed with half the range across the
repetitions.  Servers run on CPU 1 and redis-benchmark on CPU 0, so CPU time
per request, not requests/s, is the figure that other tenants of the
machine disturb least (see the printed header).
Prints figures and marks targets PASS/MISS; never fails on them.  Exits 1
only when something broke (a server died, redis-benchmark failed, a key
went missing).

    tests/bench/server_bench.py [--quick] [--keys N] [--only a,b,c]
                                [--reps N] [--seconds S] [--spread]
"""
import argparse
import glob
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402  (needs the path above)

SERVER_CPU = 1           # the server under test, alone on its CPU
CLIENT_CPU = 0           # redis-benchmark, and this script
BOTH_CPUS = "0,1"
CLIENTS = 50
VALUE_LEN = 32
KEYSPACE = 100000        # -r: redis-benchmark's keys are key:%012d below this
KEY_LEN = 16             # len("key:000000000001")
TICK = os.sysconf("SC_CLK_TCK")

# (op, pipeline, most requests per run): about RUN_SECONDS each on this
# class of machine when it is quiet (redis-server does ~75k req/s at P=1,
# ~550k at P=16).  When the machine is busy, a short calibration run sizes
# the runs down to RUN_SECONDS at the slowest server's speed, so that the
# script keeps to its few minutes, but never below MIN_CPU_SECONDS of CPU
# time for the cheapest server: CPU time comes in ticks of 10 ms, and 50
# ticks keep a run's figure within 2%.
TESTS = [("SET", 1, 200000), ("GET", 1, 200000),
         ("SET", 16, 1500000), ("GET", 16, 1500000)]
RUN_SECONDS = 2.5
MIN_CPU_SECONDS = 0.5
TARGET_A = {1: 0.8, 16: 0.5}      # ember/redis CPU per request
TARGET_B = 1.3                    # 2 workers / 1 worker CPU per request
TARGET_C = 24.0                   # ember overhead bytes per key (Pss)

problems = []                     # what broke: makes the exit status 1
_names = iter(range(1, 1 << 30))


def problem(text):
    problems.append(text)
    sys.stderr.write("server_bench: %s\n" % text)


def sweep_arenas():
    """Remove /dev/shm/bench<pid>-<n>-* left by a run of this script that
    was killed before it could stop its servers."""
    pat = re.compile(r"^bench(\d+)-\d+-")
    for path in glob.glob(os.path.join(harness.SHM_DIR, "bench*-*")):
        m = pat.match(os.path.basename(path))
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            try:
                os.unlink(path)
            except OSError:
                pass


def progress(text="."):
    """A dot per finished figure on a terminal (stderr), nothing otherwise."""
    if sys.stderr.isatty():
        sys.stdout.flush()
        sys.stderr.write(text)
        sys.stderr.flush()


def pinned(cpus, argv):
    """argv run on cpus (a string for taskset -c), or as is without taskset."""
    if cpus is None or not shutil.which("taskset"):
        return list(argv)
    return ["taskset", "-c", str(cpus)] + list(argv)


# --------------------------------------------------------------------------
# servers: the harness's, started through taskset

class BenchEmber(harness.EmberServer):
    """emberd started as `taskset -c CPUS emberd ...` (taskset execs, so the
    pid is emberd's and its workers inherit the mask)."""

    def __init__(self, workers, cpus, extra=()):
        super().__init__(workers=workers,
                         name="bench%d-%d" % (os.getpid(), next(_names)),
                         args=list(extra))
        self.cpus = cpus

    def command_line(self):
        return pinned(self.cpus, [
            self.binary, "--port", str(self.port), "--bind", self.host,
            "--workers", str(self.workers), "--dir", self.dir,
            "--name", self.name, "--loglevel", "notice",
            "--logfile", os.path.join(self.dir, "emberd.log"),
            "--pidfile", os.path.join(self.dir, "emberd.pid")] + self.args)

    def status(self):
        """emberctl status --json as a dict, or None."""
        ctl = os.path.join(os.path.dirname(self.binary), "emberctl")
        try:
            out = subprocess.run([ctl, "-d", self.dir, "status", "--json"],
                                 capture_output=True, text=True, timeout=10)
            return json.loads(out.stdout) if out.returncode == 0 else None
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return None


class BenchRedis(harness.RedisServer):
    """redis-server --save "" --appendonly no, through taskset."""

    def __init__(self, cpus):
        super().__init__()
        self.cpus = cpus

    def command_line(self):
        return pinned(self.cpus, super().command_line())


class BenchNull(object):
    """build/bench/null_server (tests/bench/null_server.c): epoll, one recv
    and one send per ready client, "+OK" per command, nothing else.  Its
    CPU time per request is the floor no server gets under here."""

    def __init__(self, cpus):
        self.host, self.port, self.cpus = "127.0.0.1", harness.free_port(), cpus
        self.binary = os.path.join(os.path.dirname(harness.ember_binary()),
                                   "bench", "null_server")
        self.proc = self.pid = None

    def start(self):
        self.proc = subprocess.Popen(pinned(self.cpus, [self.binary, str(self.port)]),
                                     start_new_session=True)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise harness.HarnessError("null_server did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def start(server, label):
    server.label = label
    server.start()
    return server


def stop(server):
    try:
        server.stop()
    except harness.HarnessError as e:
        problem("%s: %s" % (server.label, str(e).splitlines()[0]))


# --------------------------------------------------------------------------
# /proc

def server_pids(server):
    return sorted(harness.group_members(server.pid))


def cpu_ticks(pid):
    """(utime, stime) of the whole process (all its threads), in ticks."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read()
    rest = data[data.rfind(b")") + 2:].split()
    return int(rest[11]), int(rest[12])


def ctx_switches(pid):
    """Voluntary plus involuntary context switches of every thread."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if "ctxt_switches:" in line:
                        n += int(line.split()[1])
        except OSError:
            pass
    return n


def pss_kb(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError("no Pss in /proc/%d/smaps_rollup" % pid)


def affinity(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split()[1]
    return "?"


class Sample(object):
    """CPU ticks and context switches of a server's processes, one moment."""

    def __init__(self, server):
        self.pids = server_pids(server)
        self.uticks = self.sticks = self.cs = 0
        for pid in self.pids:
            try:
                u, s = cpu_ticks(pid)
                self.uticks += u
                self.sticks += s
                self.cs += ctx_switches(pid)
            except OSError:
                pass


def server_pss_kb(server):
    return sum(pss_kb(pid) for pid in server_pids(server))


# --------------------------------------------------------------------------
# talking to a server

def key(i):
    d = str(i)
    return ("key:" + "0" * (KEY_LEN - 4 - len(d)) + d).encode()


def load_keys(server, n, vlen=VALUE_LEN, batch=2000):
    """SETs key(0)..key(n-1) to vlen-byte values, pipelined batch commands at
    a time on one connection; raises RuntimeError on any reply but +OK."""
    val = b"v" * vlen
    ok = b"+OK\r\n"
    with socket.create_connection((server.host, server.port)) as sock:
        for start in range(0, n, batch):
            count = min(n, start + batch) - start
            parts = []
            for i in range(start, start + count):
                k = key(i)
                parts.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                             % (len(k), k, vlen, val))
            sock.sendall(b"".join(parts))
            buf = b""
            while buf.count(b"\r\n") < count:    # SET replies are one line
                chunk = sock.recv(1 << 16)
                if not chunk:
                    raise RuntimeError("%s closed the connection while loading"
                                       % server.label)
                buf += chunk
            if buf != ok * count:
                bad = [x for x in buf.split(b"\r\n") if x != b"+OK"][0]
                raise RuntimeError("%s answered SET with %r" %
                                   (server.label, bad[:100]))


def check_keys(server, n, vlen=VALUE_LEN):
    """GETs a few of the loaded keys; returns an error text or None."""
    c = server.client()
    try:
        for i in sorted({0, n // 3, n // 2, n - 1}):
            v = c.call("GET", key(i))
            if not isinstance(v, bytes) or isinstance(v, harness.Error) \
                    or len(v) != vlen:
                return "GET %s answered %r" % (key(i).decode(), v)
    finally:
        c.close()
    return None


def used_memory(server):
    """(bytes, source) of the server's used memory: INFO memory's
    used_memory, or for ember without INFO, the arenas' used bytes from
    emberctl status.  (None, why) when neither is available."""
    c = server.client()
    try:
        r = c.call("INFO", "memory")
    finally:
        c.close()
    if isinstance(r, bytes) and not isinstance(r, harness.Error):
        for line in r.decode("utf-8", "replace").splitlines():
            if line.startswith("used_memory:"):
                return int(line.split(":")[1]), "INFO"
        why = "no used_memory in INFO memory"
    else:
        why = "INFO memory answered %r" % (r.text if isinstance(r, harness.Error)
                                           else r)
    if isinstance(server, BenchEmber):
        st = server.status()
        if st and st.get("workers"):
            return sum(w["used_bytes"] for w in st["workers"]), \
                "emberctl status (%s)" % why
    return None, why


def key_count(server):
    """Keys in the server (DBSIZE, or emberctl status), None if unknown."""
    c = server.client()
    try:
        r = c.call("DBSIZE")
    finally:
        c.close()
    if isinstance(r, int):
        return r
    if isinstance(server, BenchEmber):
        st = server.status()
        if st and st.get("workers"):
            return sum(w["keys"] for w in st["workers"])
    return None


# --------------------------------------------------------------------------
# a) and b): redis-benchmark runs

class Run(object):
    """One redis-benchmark run: rps as reported, the server's CPU seconds
    (user and system), wall seconds, context switches of its processes."""

    def __init__(self, rps, user, system, wall, cs, n):
        self.rps, self.wall, self.cs, self.n = rps, wall, cs, n
        self.user, self.cpu = user, user + system

    @property
    def us_per_req(self):
        return self.cpu / self.n * 1e6

    @property
    def user_us_per_req(self):
        """The user-space part (utime is sampled at each tick, then scaled
        so that utime+stime is the exact runtime: a rougher figure)."""
        return self.user / self.n * 1e6


def bench(server, op, pipeline, n, client_cpus):
    """One redis-benchmark run against server; returns a Run or None."""
    argv = pinned(client_cpus, [
        "redis-benchmark", "-h", server.host, "-p", str(server.port),
        "-c", str(CLIENTS), "-n", str(n), "-d", str(VALUE_LEN),
        "-r", str(KEYSPACE), "-P", str(pipeline), "-t", op.lower(), "--csv"])
    before = Sample(server)
    t0 = time.monotonic()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        problem("%s: redis-benchmark %s P=%d timed out" %
                (server.label, op, pipeline))
        return None
    wall = time.monotonic() - t0
    after = Sample(server)
    if before.pids != after.pids:
        problem("%s: its processes changed during %s P=%d (%s -> %s): a "
                "worker died?" % (server.label, op, pipeline, before.pids,
                                  after.pids))
        return None
    if out.returncode != 0:
        problem("%s: redis-benchmark %s P=%d exited %d: %s" %
                (server.label, op, pipeline, out.returncode,
                 (out.stderr or out.stdout).strip().splitlines()[-1:]))
        return None
    rps = None
    for line in out.stdout.splitlines():
        f = line.replace('"', "").split(",")
        if f[0] == op and len(f) > 1:
            rps = float(f[1])
    if rps is None:
        problem("%s: no %s line in redis-benchmark's output" % (server.label, op))
        return None
    return Run(rps, (after.uticks - before.uticks) / float(TICK),
               (after.sticks - before.sticks) / float(TICK), wall,
               after.cs - before.cs, n)


def run_size(servers, op, p, most, seconds, min_cpu, client_cpus):
    """Requests per run: enough for `seconds` at the slowest server's rate in
    a short calibration run (which also warms the servers up), at most
    `most`, but enough for `min_cpu` seconds of CPU time on every server."""
    size = max(most // 10, 20000 if p == 1 else 100000)    # >= ~10 ticks
    cal = [bench(s, op, p, min(size, most), client_cpus) for s in servers]
    cal = [r for r in cal if r is not None]
    if not cal or min(r.cpu for r in cal) <= 0:
        return most
    floor = min_cpu / min(r.cpu / r.n for r in cal)
    n = max(floor, min(r.rps for r in cal) * seconds)
    return int(min(most, n) + 999) // 1000 * 1000


def measure(servers, tests, reps, client_cpus, seconds, min_cpu):
    """Runs every test reps times on every server, rounds interleaved in a
    rotating order; returns ({(label, op, P): [Run...]}, the tests with the
    number of requests per run that was used)."""
    res = {}
    used = []
    for op, p, most in tests:
        n = run_size(servers, op, p, most, seconds, min_cpu, client_cpus)
        used.append((op, p, n))
        for rep in range(reps):
            k = rep % len(servers)
            for s in servers[k:] + servers[:k]:
                r = bench(s, op, p, n, client_cpus)
                if r is not None:
                    res.setdefault((s.label, op, p), []).append(r)
        progress()
    return res, used


def print_sizes(used):
    print("   requests per run: %s" % ", ".join(
        "%s P=%d %s" % (op, p, "{:,}".format(n)) for op, p, n in used))


def med(runs, attr):
    return statistics.median(getattr(r, attr) for r in runs) if runs else None


def spread(runs, attr):
    """Half the range across runs, relative to the median, in percent."""
    vals = [getattr(r, attr) for r in runs]
    if len(vals) < 2:
        return 0.0
    return (max(vals) - min(vals)) / 2 / statistics.median(vals) * 100


def busy(runs):
    """Median share of one CPU the server used during the runs."""
    return statistics.median(r.cpu / r.wall for r in runs) * 100


def runs_text(reps):
    return "median of %d runs" % reps if reps > 1 else "one run"


def mark(x, target):
    if x is None:
        return "n/a"
    return "PASS" if x <= target else "MISS"


def fmt_cpu(runs):
    """us/request (+- half the range, share of a CPU): 18 characters."""
    if not runs:
        return "%-18s" % "   failed"
    return "%6.2f (%2.0f%%,%4.0f%%)" % (med(runs, "us_per_req"),
                                      spread(runs, "us_per_req"), busy(runs))


def fmt_rps(runs):
    return "%9s" % ("{:,.0f}".format(med(runs, "rps")) if runs else "failed")


def ratio(a, b, attr):
    if not a or not b:
        return None
    return med(a, attr) / med(b, attr)


def fmt_ratio(x):
    return "%5.2f" % x if x is not None else "  n/a"


def table_a(res, tests, reps):
    print()
    print("a) ember --workers 1 vs redis-server: requests/s, and the server's "
          "CPU time per request in us")
    print("   (%s; in brackets: half their range, and the server's share of "
          "its CPU; user: the user-space part)" % runs_text(reps))
    print("%-7s %-19s  %-38s  %-11s  %s" % ("", "     requests/s", "    server "
                                            "CPU time per request, us",
                                            "  user, us", "  ember/redis"))
    print("%-3s %3s  %9s %9s  %-18s  %-18s  %5s %5s  %5s %5s %5s  %s" %
          ("op", "P", "ember", "redis", " ember", " redis", "ember", "redis",
           "req/s", "CPU", "user", "target (CPU)"))
    floor = any(k[0] == "floor" for k in res)
    for op, p, _ in tests:
        e = res.get(("ember-1w", op, p), [])
        r = res.get(("redis", op, p), [])
        cr = ratio(e, r, "us_per_req")
        user = "%5.2f %5.2f" % (med(e, "user_us_per_req"),
                                med(r, "user_us_per_req")) \
            if e and r else "%11s" % "n/a"
        print("%-3s %3d  %s %s  %s  %s  %s  %s %s %s  <= %.1f %s" %
              (op, p, fmt_rps(e), fmt_rps(r), fmt_cpu(e), fmt_cpu(r), user,
               fmt_ratio(ratio(e, r, "rps")), fmt_ratio(cr),
               fmt_ratio(ratio(e, r, "user_us_per_req")), TARGET_A[p],
               mark(cr, TARGET_A[p])))
    if floor:
        print("   floor: a null server (tests/bench/null_server.c: epoll, one "
              "recv and one send per client, no parsing, no data)")
        print("   under the same load, in the same rounds: the kernel's share "
              "of a loopback round trip, which no server saves.")
        print("%-3s %3s  %-18s  %5s  %s" % ("op", "P", " floor CPU, us",
                                          "user", "floor/redis  ember/floor"))
        for op, p, _ in tests:
            e = res.get(("ember-1w", op, p), [])
            r = res.get(("redis", op, p), [])
            f = res.get(("floor", op, p), [])
            if not f:
                continue
            print("%-3s %3d  %s  %5.2f  %11s  %11s" %
                  (op, p, fmt_cpu(f), med(f, "user_us_per_req"),
                   fmt_ratio(ratio(f, r, "us_per_req")),
                   fmt_ratio(ratio(e, f, "us_per_req"))))


def table_b(res, tests, reps, one, two, title):
    print()
    print(title)
    print("   (%s, brackets as in a; cs/req: context switches of the "
          "server's processes per request)" % runs_text(reps))
    print("%-7s %-19s  %-38s  %-11s  %s" % ("", "     requests/s", "    server "
                                            "CPU time per request, us",
                                            "  cs/req", "2w/1w"))
    print("%-3s %3s  %9s %9s  %-18s  %-18s  %5s %5s  %5s  %s" %
          ("op", "P", "1 worker", "2 workers", " 1 worker", " 2 workers", "1w",
           "2w", "CPU", "target"))
    for op, p, _ in tests:
        a = res.get((one, op, p), [])
        b = res.get((two, op, p), [])
        cr = ratio(b, a, "us_per_req")
        cs = "%5.2f %5.2f" % (med(a, "cs") / a[0].n, med(b, "cs") / b[0].n) \
            if a and b else "%11s" % "n/a"
        print("%-3s %3d  %s %s  %s  %s  %s  %s  <= %.1f %s" %
              (op, p, fmt_rps(a), fmt_rps(b), fmt_cpu(a), fmt_cpu(b), cs,
               fmt_ratio(cr), TARGET_B, mark(cr, TARGET_B)))


# --------------------------------------------------------------------------
# c) memory per key

def memory_once(server, n):
    """Loads n keys into a fresh server; returns (pss B/key, used B/key,
    used source) beyond the payload, the used figure None when unknown."""
    time.sleep(0.3)
    pss0 = server_pss_kb(server)
    used0, src = used_memory(server)
    load_keys(server, n)
    time.sleep(1.0)    # let incremental rehashing and lazy freeing settle
    bad = check_keys(server, n)
    if bad:
        raise RuntimeError("%s: %s" % (server.label, bad))
    got = key_count(server)
    if got is not None and got != n:
        raise RuntimeError("%s holds %d keys after loading %d" %
                           (server.label, got, n))
    pss1 = server_pss_kb(server)
    used1, src1 = used_memory(server)
    payload = KEY_LEN + VALUE_LEN
    pss = (pss1 - pss0) * 1024.0 / n - payload
    used = (used1 - used0) / float(n) - payload \
        if used0 is not None and used1 is not None else None
    return pss, used, src1 or src


def measure_memory(n, reps, cpus):
    """{label: [(pss, used, source)...]} over reps fresh servers each."""
    res = {}
    for rep in range(reps):
        order = [("ember-1w", lambda: BenchEmber(1, cpus, ["--cpu-affinity",
                                                            "no", "--hugepages",
                                                            "off"])),
                 ("redis", lambda: BenchRedis(cpus))]
        if rep % 2:
            order.reverse()
        for label, make in order:
            s = start(make(), label)
            try:
                res.setdefault(label, []).append(memory_once(s, n))
            except (RuntimeError, OSError) as e:
                problem(str(e))
            finally:
                stop(s)
        progress()
    return res


def table_c(res, n, reps):
    print()
    print("c) memory for {:,} keys ({}-byte keys, {}-byte values): bytes per "
          "key beyond the {} payload bytes".format(n, KEY_LEN, VALUE_LEN,
                                                   KEY_LEN + VALUE_LEN))
    print("   (after loading minus before, %s; ember with --hugepages off: "
          "hugetlb pages are not in Pss)" %
          ("median of %d fresh servers each" % reps if reps > 1
           else "one fresh server each"))
    e = res.get("ember-1w", [])
    r = res.get("redis", [])

    def figure(rows, i):
        vals = [x[i] for x in rows if x[i] is not None]
        return statistics.median(vals) if vals else None

    def cell(x):
        return "%8.1f" % x if x is not None else "%8s" % "n/a"

    print("%-36s %8s %8s  %11s  %s" % ("", "ember", "redis", "ember/redis",
                                        "target (ember)"))
    for i, what, tgt in ((0, "Pss of all the server's processes", True),
                         (1, "used_memory (ember: arena used bytes)", False)):
        a, b = figure(e, i), figure(r, i)
        rt = a / b if a is not None and b else None
        print("%-36s %s %s  %11s  %s" %
              (what, cell(a), cell(b), fmt_ratio(rt),
               "<= %.0f %s" % (TARGET_C, mark(a, TARGET_C)) if tgt else ""))
    srcs = sorted({x[2] for x in e if x[2]})
    for src in srcs:
        if src != "INFO":
            print("   ember used_memory: %s" % src)


# --------------------------------------------------------------------------

def describe(server):
    pids = server_pids(server)
    return "%s pid%s %s on CPU %s" % (
        server.label, "s" if len(pids) > 1 else "",
        ",".join(str(p) for p in pids),
        "/".join(sorted({affinity(p) for p in pids})))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="a fifth of the requests per run, one memory round")
    ap.add_argument("--seconds", type=float, default=None,
                    help="target length of a run when the machine is too "
                         "busy for the full request counts; default %.1f "
                         "(%.1f with --quick)" % (RUN_SECONDS, RUN_SECONDS / 5))
    ap.add_argument("--keys", type=int, default=1000000,
                    help="keys for the memory figures (c); default 1000000")
    ap.add_argument("--only", default="a,b,c",
                    help="comma-separated subset of a,b,c")
    ap.add_argument("--reps", type=int, default=3,
                    help="repetitions per figure (median); default 3")
    ap.add_argument("--spread", action="store_true",
                    help="b) also with the workers spread over CPUs 0 and 1 "
                         "(ember's own --cpu-affinity) and redis-benchmark "
                         "free on both")
    opts = ap.parse_args()
    only = {x.strip() for x in opts.only.split(",") if x.strip()}
    if not only <= {"a", "b", "c"} or not only:
        ap.error("--only takes a comma-separated subset of a,b,c")
    if opts.keys < 100:
        ap.error("--keys must be at least 100")
    tests = [(op, p, n // 5 if opts.quick else n) for op, p, n in TESTS]
    seconds = opts.seconds or (RUN_SECONDS / 5 if opts.quick else RUN_SECONDS)
    min_cpu = MIN_CPU_SECONDS / 2 if opts.quick else MIN_CPU_SECONDS
    mem_reps = 1 if opts.quick else opts.reps
    for tool in ("redis-server", "redis-benchmark"):
        if not shutil.which(tool):
            sys.exit("server_bench: %s not found (apt-get install redis-server "
                     "redis-tools)" % tool)
    if not os.access(harness.ember_binary(), os.X_OK):
        sys.exit("server_bench: build %s first (make)" % harness.ember_binary())

    can_pin = shutil.which("taskset") and {0, 1} <= os.sched_getaffinity(0)
    server_cpus = str(SERVER_CPU) if can_pin else None
    client_cpus = str(CLIENT_CPU) if can_pin else None
    if can_pin:
        # This script's own work (loading, sampling /proc) stays off the
        # servers' CPU.
        os.sched_setaffinity(0, {CLIENT_CPU})
    t_start = time.monotonic()
    sweep_arenas()

    exe = harness.ember_binary()
    version = subprocess.run([exe, "--version"], capture_output=True,
                             text=True).stdout.split()[:2] or ["emberd"]
    print("server_bench: %s (%s, built %s) vs redis-server %s;" %
          (" ".join(version), os.path.relpath(exe, ROOT),
           time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(exe).st_mtime)),
           subprocess.run(["redis-server", "--version"], capture_output=True,
                          text=True).stdout.split()[2].replace("v=", "")))
    print("              %s, %d CPUs, kernel %s, load average %s" %
          (platform.machine(), os.cpu_count(), platform.release(),
           " ".join("%.1f" % x for x in os.getloadavg())))
    if can_pin:
        print("pinning: every server process on CPU %d (emberd started under "
              "taskset with --cpu-affinity no, its workers inherit the mask),"
              % SERVER_CPU)
        print("         redis-benchmark and this script on CPU %d; the "
              "servers never share a CPU with the load." % CLIENT_CPU)
    else:
        print("pinning: NOT PINNED (needs taskset and CPUs 0 and 1): figures "
              "include the load generator's interference")
    if only & {"a", "b"}:
        print("load: redis-benchmark -c %d -d %d -r %d, SET then GET, P=1 "
              "with up to %s and P=16 with up to %s requests per run" %
              (CLIENTS, VALUE_LEN, KEYSPACE, "{:,}".format(tests[0][2]),
               "{:,}".format(tests[2][2])))
        print("      (fewer when the machine is busy: about %.1f s a run, "
              "at least %.2f s of server CPU), %d runs each;" %
              (seconds, min_cpu, opts.reps))
        print("      the %s keys preloaded so that every GET hits. CPU: "
              "utime+stime of all server processes (/proc/PID/stat)." %
              "{:,}".format(KEYSPACE))
    if "b" in only:
        print("b) setup: both workers share CPU 1, which the 1-worker server "
              "has to itself, so the two runs differ only in the")
        print("   shard count (same CPU budget, load generator alone on CPU "
              "0). Crossing shards then costs a switch between the two")
        print("   workers on one CPU instead of waking a peer on another CPU; "
              "--spread adds that setup (worker n on CPU n),")
        print("   where redis-benchmark has to share the CPUs with the "
              "workers.")
    sys.stdout.flush()

    if only & {"a", "b"}:
        servers = []
        try:
            if "a" in only:
                servers.append(start(BenchRedis(server_cpus), "redis"))
            servers.append(start(BenchEmber(1, server_cpus,
                                             ["--cpu-affinity", "no"]),
                                 "ember-1w"))
            null = BenchNull(server_cpus)
            if "a" in only and os.access(null.binary, os.X_OK):
                servers.append(start(null, "floor"))
            elif "a" in only:
                print("   (no floor figures: build %s with make bench)" %
                      os.path.relpath(null.binary, ROOT))
            if "b" in only:
                servers.append(start(BenchEmber(2, server_cpus,
                                                 ["--cpu-affinity", "no"]),
                                     "ember-2w"))
            for s in servers:
                print("   %s" % describe(s))
            sys.stdout.flush()
            for s in servers:
                if s.label != "floor":
                    load_keys(s, KEYSPACE)
            res, used = measure(servers, tests, opts.reps, client_cpus,
                                seconds, min_cpu)
            for s in servers:
                if s.label == "floor":
                    continue
                bad = check_keys(s, KEYSPACE)
                if bad:
                    problem("%s after the runs: %s" % (s.label, bad))
        except (RuntimeError, OSError, harness.HarnessError) as e:
            problem(str(e))
            res, used = {}, tests
        finally:
            for s in servers:
                stop(s)
        progress("\n")
        if "a" in only:
            table_a(res, tests, opts.reps)
        if "b" in only:
            table_b(res, tests, opts.reps, "ember-1w", "ember-2w",
                    "b) ember --workers 2 vs --workers 1, random keys (about "
                    "half cross shards), every server process on CPU %s"
                    % (SERVER_CPU if can_pin else "any"))
        print_sizes(used)
        sys.stdout.flush()

    if "b" in only and opts.spread:
        servers = []
        try:
            for w in (1, 2):
                servers.append(start(BenchEmber(w, BOTH_CPUS,
                                                 ["--cpu-affinity", "yes"]),
                                     "spread-%dw" % w))
            print()
            for s in servers:
                print("   %s" % describe(s))
            for s in servers:
                load_keys(s, KEYSPACE)
            res, used = measure(servers, tests, opts.reps, BOTH_CPUS,
                                seconds, min_cpu)
        except (RuntimeError, OSError, harness.HarnessError) as e:
            problem(str(e))
            res, used = {}, tests
        finally:
            for s in servers:
                stop(s)
        progress("\n")
        table_b(res, tests, opts.reps, "spread-1w", "spread-2w",
                "b') the same with worker n pinned to CPU n by ember "
                "(--cpu-affinity yes) and redis-benchmark free on CPUs 0-1:\n"
                "    the load generator shares the CPUs with the workers "
                "(with 1 worker it mostly runs on the other CPU)")
        print_sizes(used)
        sys.stdout.flush()

    if "c" in only:
        res = measure_memory(opts.keys, mem_reps, server_cpus)
        progress("\n")
        table_c(res, opts.keys, mem_reps)

    print()
    print("server_bench: done in %.0f s%s" %
          (time.monotonic() - t_start,
           "" if not problems else "; %d problem(s):" % len(problems)))
    for p in problems:
        print("   " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
