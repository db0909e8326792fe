#!/usr/bin/python3
"""Memory per element of hashes, sets, sorted sets and lists: emberd side by
side with redis-server, in one run.

For each type, three data sets: one key of 1M elements ("large", ember's
and Redis's full encodings) and 100k keys of 10 elements ("small", the
compact encodings), the small ones with short and with long elements:
           short elements                 long elements (also "large")
  hash   "field:N" (7 B), 8 letters       "field:NNNNNNN" (13 B), 16 letters
  set    "m:NNNNNN" (8 B)                 "member:NNNNNNN" (14 B)
  zset   "m:NNNNNN", score N              "member:NNNNNNN", score N * 1.5
  list   8 letters                        16 letters
Letters are random (the same for both servers), so there are no repeats
for LZ77 matching; but a letter carries 4.7 bits, not 8, and ember's inner
list nodes are zstd-compressed by default, whose entropy stage uses that
(Redis's default list-compress-depth is 0: no compression).  So the large
list figure is ember's default against Redis's default on text; random
bytes would not compress at all (then ember's lists are about 0.95x).  The ratio depends on element size: both
servers store the bytes themselves, so the longer the elements, the closer
to 1 (ember's compact encodings spend 1 byte of length per string where
Redis's listpacks spend 2, plus much less per key).
Small keys are "k:NNNNNN" (8 bytes).  Data is loaded with pipelined HSET,
SADD, ZADD and RPUSH of up to 1000 elements each into a fresh server (one
per type and shape), and the figure is (after - before) / elements for
  Pss      of every server process (/proc/PID/smaps_rollup; ember's arena
           pages count once however many processes map them; ember runs
           with --hugepages off, hugetlb pages are not in Pss)
  used     INFO memory's used_memory (ember: the arenas' used bytes)
Both include the keys, the elements' bytes and every structure; the ratio
ember/redis of Pss is what the targets (<= 0.7 small, <= 0.8 large) are
about.  Prints the table, marks targets PASS/MISS, never fails on them;
exits 1 only when something broke (a server died, a reply was wrong).

    tests/bench/types_bench.py [--quick] [--only hash,set,zset,list]
                               [--reps N]
"""
import argparse
import os
import random
import shutil
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_bench as sb  # noqa: E402  (servers, /proc, used_memory)
import harness  # noqa: E402  (server_bench put tests/e2e on the path)

TYPES = ["hash", "set", "zset", "list"]
SHAPES = ["short", "long", "large"]      # the first two are small collections
TARGET = {"short": 0.7, "long": 0.7, "large": 0.8}
BATCH = 1000                 # elements per command
PIPELINE = 64                # commands in flight


def letters(rng, n):
    return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def element_args(kind, rng, i, short):
    """The arguments one element adds to its command."""
    if kind == "hash":
        if short:
            return [b"field:%d" % i, letters(rng, 8)]
        return [b"field:%07d" % i, letters(rng, 16)]
    if kind == "set":
        return [b"m:%06d" % i if short else b"member:%07d" % i]
    if kind == "zset":
        if short:
            return [b"%d" % i, b"m:%06d" % i]
        return [b"%r" % (i * 1.5), b"member:%07d" % i]
    return [letters(rng, 8 if short else 16)]


VERB = {"hash": b"HSET", "set": b"SADD", "zset": b"ZADD", "list": b"RPUSH"}
COUNT = {"hash": b"HLEN", "set": b"SCARD", "zset": b"ZCARD", "list": b"LLEN"}


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def commands(kind, shape, n_large, n_keys, seed):
    """Yields (command bytes, elements it adds) for one data set; the same
    seed gives both servers the same bytes."""
    rng = random.Random(seed)
    if shape == "large":
        for start in range(0, n_large, BATCH):
            args = [VERB[kind], b"big"]
            for i in range(start, min(n_large, start + BATCH)):
                args += element_args(kind, rng, i, False)
            yield encode(args), min(n_large, start + BATCH) - start
    else:
        for k in range(n_keys):
            args = [VERB[kind], b"k:%06d" % k]
            for i in range(10):
                args += element_args(kind, rng, k * 10 + i if kind in ("set", "zset")
                                     else i, shape == "short")
            yield encode(args), 10


def read_replies(sock, buf, count, label):
    """Reads count integer replies (the writes' answers); returns the rest
    of the buffer.  Raises RuntimeError on anything but an integer."""
    while True:
        lines = buf.split(b"\r\n")
        if len(lines) - 1 >= count:
            for line in lines[:count]:
                if not line.startswith(b":"):
                    raise RuntimeError("%s answered %r" % (label, line[:100]))
            return b"\r\n".join(lines[count:])
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise RuntimeError("%s closed the connection while loading" % label)
        buf += chunk


def load(server, kind, shape, n_large, n_keys, seed):
    """Loads one data set; returns the number of elements."""
    total = 0
    inflight = 0
    buf = b""
    with socket.create_connection((server.host, server.port)) as sock:
        batch = []
        for cmd, n in commands(kind, shape, n_large, n_keys, seed):
            batch.append(cmd)
            total += n
            if len(batch) == PIPELINE:
                sock.sendall(b"".join(batch))
                inflight += len(batch)
                batch = []
                buf = read_replies(sock, buf, inflight, server.label)
                inflight = 0
        if batch:
            sock.sendall(b"".join(batch))
            buf = read_replies(sock, buf, len(batch), server.label)
    return total


def check(server, kind, shape, n_large, n_keys):
    """The element counts the server reports; an error text or None."""
    c = server.client()
    try:
        if shape == "large":
            got, want = c.call(COUNT[kind], "big"), n_large
        else:
            got, want = c.call(COUNT[kind], "k:%06d" % (n_keys - 1)), 10
            n = c.call("DBSIZE")
            if n != n_keys:
                return "DBSIZE %r, want %d" % (n, n_keys)
        if got != want:
            return "%s answered %r, want %d" % (COUNT[kind].decode(), got, want)
    finally:
        c.close()
    return None


def measure_once(server, kind, shape, n_large, n_keys, seed):
    time.sleep(0.3)
    pss0 = sb.server_pss_kb(server)
    used0, _ = sb.used_memory(server)
    n = load(server, kind, shape, n_large, n_keys, seed)
    time.sleep(1.0)     # let incremental work settle
    bad = check(server, kind, shape, n_large, n_keys)
    if bad:
        raise RuntimeError("%s %s/%s: %s" % (server.label, kind, shape, bad))
    pss1 = sb.server_pss_kb(server)
    used1, _ = sb.used_memory(server)
    used = (used1 - used0) / float(n) if used0 is not None and used1 is not None else None
    return (pss1 - pss0) * 1024.0 / n, used


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="a tenth of the elements (100k large, 10k keys small)")
    ap.add_argument("--only", default=",".join(TYPES),
                    help="comma-separated subset of %s" % ",".join(TYPES))
    ap.add_argument("--reps", type=int, default=1,
                    help="fresh servers per figure (median); default 1")
    opts = ap.parse_args()
    kinds = [k.strip() for k in opts.only.split(",") if k.strip()]
    if not kinds or not set(kinds) <= set(TYPES):
        ap.error("--only takes a comma-separated subset of %s" % ",".join(TYPES))
    n_large, n_keys = (100000, 10000) if opts.quick else (1000000, 100000)
    if not shutil.which("redis-server"):
        sys.exit("types_bench: redis-server not found (apt-get install redis-server)")
    if not os.access(harness.ember_binary(), os.X_OK):
        sys.exit("types_bench: build %s first (make)" % harness.ember_binary())
    can_pin = shutil.which("taskset") and {0, 1} <= os.sched_getaffinity(0)
    cpus = str(sb.SERVER_CPU) if can_pin else None
    if can_pin:
        os.sched_setaffinity(0, {sb.CLIENT_CPU})
    sb.sweep_arenas()
    print("types_bench: bytes per element, ember --workers 1 vs redis-server "
          "(default settings: 128-entry listpacks, 512-entry intsets);")
    print("             large: 1 key of {:,} elements; small: {:,} keys of "
          "10 elements; {}".format(
              n_large, n_keys, "median of %d fresh servers each" % opts.reps
              if opts.reps > 1 else "one fresh server each"))
    sys.stdout.flush()
    rows = []
    t0 = time.monotonic()
    for kind in kinds:
        for shape in SHAPES:
            res = {"ember": [], "redis": []}
            for rep in range(opts.reps):
                order = [("ember", lambda: sb.BenchEmber(
                             1, cpus, ["--cpu-affinity", "no", "--hugepages", "off"])),
                         ("redis", lambda: sb.BenchRedis(cpus))]
                if rep % 2:
                    order.reverse()
                for label, make in order:
                    s = sb.start(make(), label)
                    try:
                        res[label].append(measure_once(s, kind, shape, n_large,
                                                       n_keys, 1234 + rep))
                    except (RuntimeError, OSError, harness.HarnessError) as e:
                        sb.problem(str(e))
                    finally:
                        sb.stop(s)
            rows.append((kind, shape, res))
            sb.progress()
    sb.progress("\n")

    def med(vals, i):
        v = [x[i] for x in vals if x[i] is not None]
        return statistics.median(v) if v else None

    def cell(x):
        return "%8.1f" % x if x is not None else "%8s" % "n/a"

    def rt(a, b):
        return a / b if a is not None and b else None

    print("short, long: 100k-key sets of 10; large: one key (see --help)")
    print("%-6s %-6s %8s %8s %7s   %8s %8s %7s   %s" % (
        "type", "shape", "ember", "redis", "ratio", "ember", "redis", "ratio",
        "target (Pss ratio)"))
    print("%-13s %-24s   %-24s" % ("", "Pss bytes per element", "used_memory per element"))
    for kind, shape, res in rows:
        ep, rp = med(res["ember"], 0), med(res["redis"], 0)
        eu, ru = med(res["ember"], 1), med(res["redis"], 1)
        r_p, r_u = rt(ep, rp), rt(eu, ru)
        tgt = TARGET[shape]
        print("%-6s %-6s %s %s %7s   %s %s %7s   <= %.1f %s" % (
            kind, shape, cell(ep), cell(rp), sb.fmt_ratio(r_p), cell(eu), cell(ru),
            sb.fmt_ratio(r_u), tgt, sb.mark(r_p, tgt)))
    print("types_bench: done in %.0f s" % (time.monotonic() - t0))
    if sb.problems:
        print("types_bench: FAILED: %s" % "; ".join(sb.problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
