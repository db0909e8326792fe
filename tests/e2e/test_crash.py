"""Crash survival: workers SIGKILLed under a write load lose nothing that
was acknowledged.

Several client threads write keys of both shards (2 workers) - SETs of
small and big values, some with an expiry, MSETs of two keys sharing a
hash tag, INCRs of shared counters, GETs of their own keys - while the
test SIGKILLs a random worker (its pid from `emberctl status --json`) 50
times, waiting each time for the successor to serve and to have lived
1.2 s (the supervisor restarts at once only a worker that lived ~1 s).

What is checked:
  * every acknowledged write is there at the end: per key, the value is
    the last acknowledged one or one of the unacknowledged writes sent
    after it (a write whose connection dropped before its reply may or
    may not have been applied); an unacknowledged write never overtakes
    a later acknowledged one;
  * nothing half-applied: the two keys of an MSET always hold the same
    value, a value is always exactly one of the values written (never a
    mix), and a key carries an expiry exactly when the write that set
    its value had one;
  * counters: final value within [acked, acked + unacked], every
    acknowledged INCR returned a distinct value (a lost increment would
    hand out the same number twice), none above the final value;
  * clients see nothing but dropped connections: no error reply, no
    wrong reply, no protocol garbage, no hang;
  * the service kept going between kills, every kill was followed by a
    successor that attached the arena after an unclean exit (log), the
    restarts are counted, and `ember-arena check` passes on the arenas
    after a graceful shutdown.

Also: clients of a killed worker must stop counting against maxclients.
"""

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Simple  # noqa: E402

OK = Simple(b"OK")
KILLS = int(os.environ.get("EMBER_CRASH_KILLS", "50"))
BIG_KILLS = int(os.environ.get("EMBER_CRASH_BIG_KILLS", "25"))
COLL_KILLS = int(os.environ.get("EMBER_CRASH_COLL_KILLS", "30"))
MIN_AGE = 1.2          # seconds a worker lives before it may be killed
PROGRESS_WAIT = 30     # seconds to wait for an acknowledged write between kills
NWRITERS = 4
KEYS_PER_WRITER = 150
PAIRS_PER_WRITER = 40
NCOUNTERS = 8
DROPS = (h.ConnectionClosed, ConnectionResetError, BrokenPipeError,
         ConnectionAbortedError)


def value_for(key, seq, rng):
    """A value that names its key and write, of a random size (a few
    bytes to 64 KB), with a body that depends on seq (a mix of two values
    cannot look like one)."""
    r = rng.random()
    n = rng.randrange(0, 40) if r < 0.8 else \
        rng.randrange(40, 4096) if r < 0.95 else rng.randrange(4096, 65536)
    head = b"%s|%d|" % (key.encode(), seq)
    body = (b"%08x" % (seq * 2654435761 % (1 << 32))) * (n // 8 + 1)
    return head + body[:n]


class Versions(object):
    """What a key (or a pair written by MSET) may hold: the last
    acknowledged write and the unacknowledged ones sent after it.  A write
    is (value, has_ttl); None as acked means "never acknowledged"."""

    __slots__ = ("acked", "maybe")

    def __init__(self):
        self.acked = None
        self.maybe = []

    def ack(self, w):
        self.acked = w
        self.maybe = []

    def lost(self, w):
        self.maybe.append(w)

    def candidates(self):
        c = [] if self.acked is None else [self.acked]
        return c + self.maybe

    def allows(self, value, has_ttl=None):
        if value is None:
            return self.acked is None
        for v, t in self.candidates():
            if v == value and (has_ttl is None or t == has_ttl):
                return True
        return False


class Counters(object):
    def __init__(self, n):
        self.lock = threading.Lock()
        self.names = ["ctr:%d" % i for i in range(n)]
        self.acked = {k: 0 for k in self.names}
        self.unacked = {k: 0 for k in self.names}
        self.replies = {k: [] for k in self.names}


class Writer(threading.Thread):
    """One client: batches of pipelined commands on one connection,
    reconnecting whenever the connection drops."""

    def __init__(self, idx, server, counters, stop, failures):
        super().__init__(name="writer-%d" % idx, daemon=True)
        self.idx = idx
        self.server = server
        self.counters = counters
        self.stop = stop
        self.failures = failures
        self.rng = random.Random(1000 + idx)
        self.keys = {"w%d:k%d" % (idx, j): Versions()
                     for j in range(KEYS_PER_WRITER)}
        self.pairs = {"{w%dp%d}" % (idx, j): Versions()
                      for j in range(PAIRS_PER_WRITER)}
        self.keynames = sorted(self.keys)
        self.pairnames = sorted(self.pairs)
        self.seq = 0
        self.acked_ops = 0
        self.drops = 0

    def fail(self, msg):
        self.failures.append("%s: %s" % (self.name, msg))

    def make_op(self):
        """(args, on_reply(reply) -> None, on_lost() -> None)."""
        rng = self.rng
        self.seq += 1
        seq = self.seq
        r = rng.random()
        if r < 0.45:
            k = rng.choice(self.keynames)
            ver = self.keys[k]
            v = value_for(k, seq, rng)
            ttl = rng.random() < 0.2
            args = ("SET", k, v) + (("EX", 100000) if ttl else ())
            w = (v, ttl)

            def on_reply(rep, ver=ver, w=w, args=args):
                if rep != OK or type(rep) is not Simple:
                    self.fail("%r -> %r" % (args[:2], rep))
                ver.ack(w)
            return args, on_reply, lambda ver=ver, w=w: ver.lost(w)
        if r < 0.65:
            p = rng.choice(self.pairnames)
            ver = self.pairs[p]
            v = value_for(p, seq, rng)
            args = ("MSET", p + ":a", v, p + ":b", v)
            w = (v, False)

            def on_reply(rep, ver=ver, w=w, args=args):
                if rep != OK or type(rep) is not Simple:
                    self.fail("%r -> %r" % (args[:2], rep))
                ver.ack(w)
            return args, on_reply, lambda ver=ver, w=w: ver.lost(w)
        if r < 0.85:
            c = rng.choice(self.counters.names)
            cs = self.counters

            def on_reply(rep, c=c):
                if type(rep) is not int or rep <= 0:
                    self.fail("INCR %s -> %r" % (c, rep))
                    return
                with cs.lock:
                    cs.acked[c] += 1
                    cs.replies[c].append(rep)

            def on_lost(c=c):
                with cs.lock:
                    cs.unacked[c] += 1
            return ("INCR", c), on_reply, on_lost
        k = rng.choice(self.keynames)
        ver = self.keys[k]

        def on_reply(rep, ver=ver, k=k):
            if not (rep is None or type(rep) is bytes) or \
                    not ver.allows(rep):
                self.fail("GET %s -> %r, expected one of %r" %
                          (k, rep if rep is None else rep[:40],
                           [v[:40] for v, _ in ver.candidates()]))
        return ("GET", k), on_reply, lambda: None

    def batch_size(self):
        return self.rng.randrange(1, 12)

    def run(self):
        while not self.stop.is_set():
            try:
                conn = self.server.client(timeout=15)
            except OSError:
                time.sleep(0.05)
                continue
            try:
                while not self.stop.is_set():
                    batch = [self.make_op()
                             for _ in range(self.batch_size())]
                    done = 0
                    try:
                        conn.send_raw(b"".join(h.encode_command(*a)
                                               for a, _, _ in batch))
                        for _, on_reply, _ in batch:
                            rep = conn.read()
                            done += 1
                            on_reply(rep)
                            self.acked_ops += 1
                    except DROPS:
                        for _, _, on_lost in batch[done:]:
                            on_lost()
                        self.drops += 1
                        break
                    except socket.timeout:
                        for _, _, on_lost in batch[done:]:
                            on_lost()
                        self.fail("no reply within 15 s (batch of %d, %d "
                                  "answered)" % (len(batch), done))
                        break
                    except h.ProtocolError as e:
                        for _, _, on_lost in batch[done:]:
                            on_lost()
                        self.fail("protocol garbage: %s" % e)
                        break
            except Exception as e:  # a bug in the test: report it
                self.fail("unexpected %r" % e)
            finally:
                conn.close()


class BigWriter(Writer):
    """Big values (256 KB to 4 MB) on a few keys of both shards: commands
    that span many ring fragments and many reads when forwarded, and
    allocations of many pages when killed in the middle."""

    def __init__(self, idx, server, counters, stop, failures):
        super().__init__(idx, server, counters, stop, failures)
        self.keys = {"big%d:%s" % (idx, x): Versions()
                     for x in ("a", "k", "x", "q")}
        self.keynames = sorted(self.keys)
        self.pairs = {}
        self.pairnames = []

    def batch_size(self):
        return self.rng.randrange(1, 3)

    def make_op(self):
        rng = self.rng
        self.seq += 1
        seq = self.seq
        k = rng.choice(self.keynames)
        ver = self.keys[k]
        if rng.random() < 0.7:
            n = rng.randrange(256 << 10, 4 << 20)
            head = b"%s|%d|" % (k.encode(), seq)
            v = head + (b"%08x" % (seq * 2654435761 % (1 << 32))) * (n // 8)
            w = (v, False)

            def on_reply(rep, ver=ver, w=w, k=k):
                if rep != OK or type(rep) is not Simple:
                    self.fail("SET %s -> %r" % (k, rep))
                ver.ack(w)
            return ("SET", k, v), on_reply, lambda ver=ver, w=w: ver.lost(w)

        def on_get(rep, ver=ver, k=k):
            if not (rep is None or type(rep) is bytes) or \
                    not ver.allows(rep):
                self.fail("GET %s -> %r..., expected one of %r" %
                          (k, rep if rep is None else rep[:40],
                           [v[:40] for v, _ in ver.candidates()]))
        return ("GET", k), on_get, lambda: None


class Coll(object):
    """What a list, hash, set or sorted set may hold.  Every member is added
    once (named by its write's seq), maybe removed later; a write is either
    acknowledged or sent without a reply (connection dropped) and then may or
    may not have been applied."""

    __slots__ = ("added", "acked_add", "acked_del", "maybe_del", "lost_pops",
                 "popped")

    def __init__(self):
        self.added = {}          # member -> seq, every add sent
        self.acked_add = set()
        self.acked_del = set()   # removed for sure (acknowledged)
        self.maybe_del = set()   # removal sent without a reply
        self.lost_pops = 0       # LPOPs sent without a reply (lists)
        self.popped = set()      # members LPOP returned

    def problems(self, key, members, order_matters):
        out = []
        present = set(members)
        if len(present) != len(members):
            out.append("%s holds a member twice: %r" % (key, members[:10]))
        stray = [m for m in members if m not in self.added]
        if stray:
            out.append("%s holds members never written: %r" % (key, stray[:5]))
        back = present & (self.acked_del | self.popped)
        if back:
            out.append("%s holds removed members: %r" % (key, sorted(back)[:5]))
        missing = self.acked_add - present - self.acked_del - self.maybe_del \
            - self.popped
        if len(missing) > self.lost_pops:
            out.append("%s lost acknowledged members: %r" %
                       (key, sorted(missing)[:5]))
        if order_matters:
            seqs = [self.added[m] for m in members if m in self.added]
            if seqs != sorted(seqs):
                out.append("%s is out of order: %r" % (key, members[:10]))
        return out


class CollWriter(Writer):
    """Lists, hashes, sets and sorted sets of both shards: RPUSH/LPOP,
    HSET/HDEL, SADD/SREM, ZADD/ZREM, in batches, on a few keys each (small
    ones stay compact, big ones convert), while workers are killed."""

    KINDS = ("list", "hash", "set", "zset")

    def __init__(self, idx, server, counters, stop, failures):
        super().__init__(idx, server, counters, stop, failures)
        self.keys = {}
        self.keynames = []
        self.pairs = {}
        self.pairnames = []
        self.colls = {"c%d:%s:%d" % (idx, kind, j): Coll()
                      for kind in self.KINDS for j in range(6)}
        self.collnames = sorted(self.colls)

    def make_op(self):
        rng = self.rng
        self.seq += 1
        seq = self.seq
        k = rng.choice(self.collnames)
        kind = k.split(":")[1]
        c = self.colls[k]
        removable = [m for m in c.added if m not in c.acked_del and
                     m not in c.maybe_del and m not in c.popped]
        if rng.random() < 0.25 and removable:
            if kind == "list":
                def on_pop(rep, c=c, k=k):
                    if rep is not None:
                        if type(rep) is not bytes or rep not in c.added:
                            self.fail("LPOP %s -> %r" % (k, rep))
                        c.popped.add(rep)

                def on_lost_pop(c=c):
                    c.lost_pops += 1
                return ("LPOP", k), on_pop, on_lost_pop
            m = rng.choice(removable)
            cmd = {"hash": "HDEL", "set": "SREM", "zset": "ZREM"}[kind]

            def on_del(rep, c=c, m=m, k=k, cmd=cmd):
                if rep not in (0, 1):
                    self.fail("%s %s -> %r" % (cmd, k, rep))
                c.acked_del.add(m)
            return (cmd, k, m), on_del, lambda c=c, m=m: c.maybe_del.add(m)
        # an add; now and then a long member (a conversion to the full form)
        m = b"m%d" % seq
        if rng.random() < 0.05:
            m += b"-" + b"x" * rng.randrange(64, 300)
        c.added[m] = seq
        args = {"list": ("RPUSH", k, m), "hash": ("HSET", k, m, b"v%d" % seq),
                "set": ("SADD", k, m), "zset": ("ZADD", k, seq, m)}[kind]

        def on_add(rep, c=c, m=m, args=args):
            if type(rep) is not int or (args[0] != "RPUSH" and rep != 1):
                self.fail("%r -> %r" % (args[:2], rep))
            c.acked_add.add(m)
        return args, on_add, lambda: None

    def verify(self, c):
        problems = []
        total = 0
        for k in self.collnames:
            kind = k.split(":")[1]
            model = self.colls[k]
            if kind == "list":
                members = c.call("LRANGE", k, 0, -1)
            elif kind == "hash":
                flat = c.call("HGETALL", k)
                members = flat[0::2]
                for f, v in zip(flat[0::2], flat[1::2]):
                    if f in model.added and v != b"v%d" % model.added[f]:
                        problems.append("%s: field %r = %r" % (k, f, v))
            elif kind == "set":
                members = c.call("SMEMBERS", k)
            else:
                flat = c.call("ZRANGE", k, 0, -1, "WITHSCORES")
                members = flat[0::2]
                for m, sc in zip(flat[0::2], flat[1::2]):
                    if m in model.added and float(sc) != model.added[m]:
                        problems.append("%s: %r has score %r" % (k, m, sc))
            if members is None:
                members = []
            total += len(members)
            problems += model.problems(k, list(members),
                                       kind in ("list", "zset"))
        if total == 0:
            problems.append("%s: every collection is empty" % self.name)
        return problems


class CrashTest(unittest.TestCase):

    def setUp(self):
        if h.target_kind() != "ember":
            self.skipTest("kills ember's workers (EMBER_TARGET=ember only)")
        self.ctl_hangs = []

    def assertNoCtlHang(self):
        # Regression: a worker forked while the supervisor was answering
        # emberctl inherited the control connection, and that emberctl
        # waited for EOF until the worker died.
        self.assertEqual(len(self.ctl_hangs), 0,
                         "emberctl status hung (no answer within 3 s) %d "
                         "times around worker restarts" % len(self.ctl_hangs))

    def start(self, **kw):
        s = h.EmberServer(**kw)
        s.start()
        self.addCleanup(self.cleanup, s)
        return s

    @staticmethod
    def cleanup(s):
        """Stop (checked: exit status, leftovers, sanitizer reports) and
        remove the arenas and the directory, kept or not."""
        try:
            if s.proc is not None and s.proc.poll() is not None:
                # it exited on its own (emberctl shutdown): only a
                # sanitizer report is a problem then
                s.stop(check=False)
                bad = [f for f in s.failures if "sanitizer" in f]
                if bad:
                    raise h.ServerStopError("\n".join(bad))
            elif s.proc is not None:
                s.stop()
        finally:
            if not os.environ.get("EMBER_KEEP_TMP"):
                h.remove_shm(s.name)
                if s.dir:
                    import shutil
                    shutil.rmtree(s.dir, ignore_errors=True)

    def status(self, s):
        """emberctl status --json; None when emberctl did not answer
        within 3 s (each such hang is recorded: see ctl_hangs)."""
        import json
        try:
            r = s.ctl("status", "--json", timeout=3)
        except subprocess.TimeoutExpired:
            self.ctl_hangs.append(time.monotonic())
            return None
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def wait_serving(self, s, old_pids, victim, timeout=15):
        """Wait until the victim's successor runs and every worker is
        running; returns the new pids."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.assertIsNone(s.proc.poll(), "the supervisor exited:\n" +
                              s.log_tail())
            try:
                st = self.status(s)
                if st is None:
                    continue
                last = st
                ws = {w["shard"]: w for w in st["workers"]}
                if ws[victim]["pid"] != old_pids[victim] and \
                        all(w["state"] == "running" for w in ws.values()) \
                        and h.ping(s.host, s.port, 2.0):
                    return {k: w["pid"] for k, w in ws.items()}
            except (h.HarnessError, ValueError, KeyError):
                pass
            time.sleep(0.02)
        self.fail("worker %d not replaced within %ds: %r\n%s" %
                  (victim, timeout, last, s.log_tail()))

    def test_sigkill_workers_under_write_load(self):
        self.kill_under_load(
            KILLS, lambda s, c, stop, f: [Writer(i, s, c, stop, f)
                                          for i in range(NWRITERS)])

    def test_sigkill_workers_while_big_values_cross_the_rings(self):
        # Values of 256 KB to 4 MB travel between workers as many ring
        # fragments: a worker killed in the middle of sending or receiving
        # one must leave its successor a ring it can read.
        self.kill_under_load(
            BIG_KILLS, lambda s, c, stop, f: [
                BigWriter(10, s, c, stop, f), BigWriter(11, s, c, stop, f),
                Writer(12, s, c, stop, f)])

    def test_sigkill_workers_under_collection_load(self):
        # Every type: each command's arena mutation is all or nothing, so
        # members are never half-added and acknowledged ones never lost.
        self.kill_under_load(
            COLL_KILLS, lambda s, c, stop, f: [
                CollWriter(20 + i, s, c, stop, f) for i in range(3)] +
            [Writer(23, s, c, stop, f)])

    def kill_under_load(self, kills, make_writers):
        s = self.start(workers=2)
        stop = threading.Event()
        failures = []
        counters = Counters(NCOUNTERS)
        writers = make_writers(s, counters, stop, failures)
        for w in writers:
            w.start()
        rng = random.Random(5)
        t0 = time.monotonic()
        try:
            pids = s.worker_pids()
            born = {k: time.monotonic() for k in pids}
            progress = []
            time.sleep(0.5)
            for kill in range(kills):
                victim = rng.choice(sorted(pids))
                wait = born[victim] + MIN_AGE - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                # Kill only once the load has gone on since the last kill
                # (a slow sanitizer build on a busy machine may need more
                # than MIN_AGE); no progress at all within PROGRESS_WAIT
                # shows up as a stall below.
                deadline = time.monotonic() + PROGRESS_WAIT
                while progress and time.monotonic() < deadline and \
                        sum(w.acked_ops for w in writers) <= progress[-1]:
                    time.sleep(0.05)
                before = sum(w.acked_ops for w in writers)
                st = self.status(s)
                if st is not None:
                    restarts = sum(w["restarts"] for w in st["workers"])
                    if restarts != kill:
                        self.fail("%d restarts after %d kills: a worker died "
                                  "on its own\n%s" % (restarts, kill,
                                                       s.log_tail(60)))
                try:
                    os.kill(pids[victim], signal.SIGKILL)
                except ProcessLookupError:
                    self.fail("worker %d (pid %d) died on its own\n%s" %
                              (victim, pids[victim], s.log_tail(60)))
                new = self.wait_serving(s, pids, victim)
                born[victim] = time.monotonic()
                pids = new
                progress.append(before)
                self.assertEqual(failures[:5], [])
            time.sleep(1.0)
            progress.append(sum(w.acked_ops for w in writers))
        finally:
            stop.set()
            for w in writers:
                w.join(30)
        elapsed = time.monotonic() - t0
        self.assertFalse(any(w.is_alive() for w in writers),
                         "a client thread hung")
        self.assertEqual(failures[:10], [], "%d failures" % len(failures))
        # the load went on between every two kills
        stalls = [i for i in range(1, len(progress))
                  if progress[i] <= progress[i - 1]]
        self.assertEqual(stalls, [], "no write acknowledged between kills "
                         "%s (acked counts %s)" % (stalls, progress))

        self.verify_data(s, writers, counters)

        st = s.status()
        self.assertEqual(sum(w["restarts"] for w in st["workers"]), kills)
        for w in st["workers"]:
            self.assertEqual(w["state"], "running")
        # every successor attached the arena after an unclean exit, at once
        log = s.log_text()
        attached = re.findall(r"attached arena (\S+) after an unclean exit: "
                              r"([^\n]*), no reload", log)
        self.assertEqual(len(attached), kills, "\n".join(
            l for l in log.splitlines() if "attached" in l)[-3000:])
        self.assertFalse(re.search(r"set aside|recovered from persistence|"
                                   r"check failed", log), s.log_tail(80))
        # graceful stop, then the offline check of both arenas
        s.stop(keep_files=True)
        r = subprocess.run([s.tool("ember-arena"), "check",
                            s.name + "-0", s.name + "-1"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(re.findall(r"check\s+passed", r.stdout)), 2,
                         r.stdout)
        acked = sum(w.acked_ops for w in writers)
        drops = sum(w.drops for w in writers)
        sys.stderr.write("\ncrash: %d kills in %.0fs, %d commands "
                         "acknowledged, %d dropped connections\n" %
                         (kills, elapsed, acked, drops))
        self.assertGreater(drops, 0)
        self.assertNoCtlHang()

    def verify_data(self, s, writers, counters):
        c = s.client(timeout=60)
        self.addCleanup(c.close)
        problems = []
        for w in writers:
            names = w.keynames
            got = c.pipeline([("GET", k) for k in names])
            ttls = c.pipeline([("PTTL", k) for k in names])
            for k, v, ttl in zip(names, got, ttls):
                ver = w.keys[k]
                if not ver.allows(v, None if v is None else ttl > 0):
                    problems.append(
                        "%s = %r (ttl %r), expected one of %r" %
                        (k, v if v is None else v[:40], ttl,
                         [(x[:40], t) for x, t in ver.candidates()]))
                if v is not None and ttl not in (-1,) and \
                        not (0 < ttl <= 100000 * 1000):
                    problems.append("%s has PTTL %r" % (k, ttl))
                elif v is None and ttl != -2:
                    problems.append("%s missing but PTTL %r" % (k, ttl))
            for p in w.pairnames:
                a, b = c.pipeline([("GET", p + ":a"), ("GET", p + ":b")])
                if a != b:
                    problems.append("MSET half-applied: %s:a=%r %s:b=%r" %
                                    (p, a and a[:40], p, b and b[:40]))
                elif not w.pairs[p].allows(a):
                    problems.append("%s = %r, expected one of %r" %
                                    (p, a and a[:40],
                                     [x[:40] for x, _ in
                                      w.pairs[p].candidates()]))
        for w in writers:
            if isinstance(w, CollWriter):
                problems += w.verify(c)
        for name in counters.names:
            v = c.call("GET", name)
            acked, unacked = counters.acked[name], counters.unacked[name]
            replies = counters.replies[name]
            final = int(v) if v is not None else 0
            if not acked <= final <= acked + unacked:
                problems.append("%s = %d, expected within [%d, %d]" %
                                (name, final, acked, acked + unacked))
            if len(set(replies)) != len(replies):
                dup = sorted(x for x in set(replies)
                             if replies.count(x) > 1)[:5]
                problems.append("%s: INCR returned the same value twice "
                                "(an acknowledged increment was lost): %r"
                                % (name, dup))
            if replies and max(replies) > final:
                problems.append("%s = %d but an INCR returned %d" %
                                (name, final, max(replies)))
        self.assertEqual(problems[:10], [], "%d problems" % len(problems))
        # every key is accounted for, nothing else is there
        expected = sum(1 for w in writers for v in w.keys.values()
                       if v.candidates()) + \
            2 * sum(1 for w in writers for v in w.pairs.values()
                    if v.candidates()) + \
            sum(len(w.colls) for w in writers if isinstance(w, CollWriter))
        n = c.call("DBSIZE")
        self.assertLessEqual(n, expected + len(counters.names))

    def test_clients_of_a_killed_worker_stop_counting(self):
        # Regression: the global client count (maxclients, INFO) kept the
        # clients of a SIGKILLed worker forever.
        s = self.start(workers=2, args=["--maxclients", "10"])
        time.sleep(0.3)
        conns = [s.client() for _ in range(8)]
        for c in conns:
            self.assertEqual(c.call("PING"), Simple(b"PONG"))
        st = s.status()
        victim = max(st["workers"], key=lambda w: w["clients"])
        self.assertGreater(victim["clients"], 0)
        os.kill(victim["pid"], signal.SIGKILL)
        self.wait_serving(s, {w["shard"]: w["pid"] for w in st["workers"]},
                          victim["shard"])
        for c in conns:
            c.close()
        # nobody is connected now: ten new clients must all get in
        deadline = time.monotonic() + 5
        while True:
            fresh = [s.client() for _ in range(10)]
            replies = []
            for c in fresh:
                try:
                    replies.append(c.call("PING"))
                except DROPS as e:
                    replies.append(repr(e))
            for c in fresh:
                c.close()
            if all(r == Simple(b"PONG") for r in replies) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(replies, [Simple(b"PONG")] * 10)
        deadline = time.monotonic() + 5
        while True:
            st = s.status()
            n = sum(w["clients"] for w in st["workers"])
            if n == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(n, 0, st)
        self.assertNoCtlHang()


if __name__ == "__main__":
    unittest.main()
