#!/usr/bin/python3
"""Arena figures side by side with redis-server, in one run.

Runs build/bench/shm_bench (ember's arena: overhead bytes per key, ns per
lookup/insert, worst single insert, allocator figures), then starts a real
redis-server pinned to its own CPU, loads the same keys (16-byte keys,
32-byte values by default) and reads its used_memory, and prints both with
their ratio.  Prints figures; never fails on them.

    tests/bench/arena_bench.py [--keys 1000000,10000000] [--alloc]
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("EMBER_BUILD", "build")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def key(i, klen):
    d = str(i)
    return ("key:" + "0" * (klen - 4 - len(d)) + d).encode()


def send_all(sock, data):
    sock.sendall(data)


def read_replies(sock, n, buf):
    """Reads n simple replies (+OK) from sock; returns leftover bytes."""
    got = 0
    while got < n:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("redis closed the connection")
        buf += chunk
        got = buf.count(b"\r\n")
    if got > n:
        raise RuntimeError("unexpected extra replies")
    return b""


def info_used_memory(sock):
    sock.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n")
    data = b""
    while True:
        data += sock.recv(65536)
        if data.startswith(b"$"):
            n = int(data[1:data.index(b"\r\n")])
            if len(data) >= data.index(b"\r\n") + 2 + n + 2:
                break
    for line in data.decode().splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise RuntimeError("no used_memory in INFO")


def redis_overhead(n, klen, vlen, cpu):
    """Loads n keys into a fresh redis-server; returns bytes/key beyond payload."""
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="ember-bench-redis-")
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", tmp, "--daemonize", "no", "--loglevel", "warning"]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu)] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        sock = None
        for _ in range(200):
            try:
                sock = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.05)
        if sock is None:
            raise RuntimeError("redis-server did not start")
        before = info_used_memory(sock)
        val = b"v" * vlen
        batch = 10000
        for start in range(0, n, batch):
            parts = []
            for i in range(start, min(n, start + batch)):
                k = key(i, klen)
                parts.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                             % (len(k), k, vlen, val))
            send_all(sock, b"".join(parts))
            read_replies(sock, min(n, start + batch) - start, b"")
        after = info_used_memory(sock)
        sock.close()
        return (after - before) / n - (klen + vlen)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def ember_figures(n, alloc):
    exe = os.path.join(ROOT, BUILD, "bench", "shm_bench")
    if not os.path.exists(exe):
        sys.exit("build %s first (make bench)" % exe)
    args = [exe, "-n", str(n)] + (["-a"] if alloc else [])
    if shutil.which("taskset"):
        args = ["taskset", "-c", "0"] + args
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    overhead = None
    for line in out.splitlines():
        if line.strip().startswith("overhead per key"):
            overhead = float(line.split()[3])
    return out, overhead


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", default="1000000",
                    help="comma-separated key counts (e.g. 1000000,10000000)")
    ap.add_argument("--alloc", action="store_true", help="allocator figures too")
    opts = ap.parse_args()
    klen, vlen = 16, 32
    rows = []
    for n in [int(x) for x in opts.keys.split(",")]:
        out, ours = ember_figures(n, opts.alloc and n == int(opts.keys.split(",")[0]))
        print(out, end="")
        theirs = redis_overhead(n, klen, vlen, cpu=1)
        rows.append((n, ours, theirs))
    print()
    print("overhead bytes per key beyond key+value (%d-byte keys, %d-byte values)" % (klen, vlen))
    print("%12s %10s %14s %8s" % ("keys", "ember", "redis-server", "ratio"))
    for n, ours, theirs in rows:
        print("%12d %10.1f %14.1f %8.2f" % (n, ours, theirs, ours / theirs))


if __name__ == "__main__":
    main()
