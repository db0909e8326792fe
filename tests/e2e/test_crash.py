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
  * collections (the collection load): members never half-added, never
    lost once acknowledged; and, for clients that keep an exact model of
    their keys (ModelWriter: LMOVE/RPOPLPUSH, SMOVE, SINTERSTORE and
    SUNIONSTORE on one shard and across shards, pops with a count,
    HINCRBY, ZINCRBY, FLUSHDB of a database of big collections), every
    reply is the one the model predicts, what a dropped connection left
    unanswered is one of that command's possible outcomes (a move across
    shards may leave the element in both keys, never in neither; each
    shard's part of FLUSHDB is all or nothing), and at the end every key
    holds exactly the model;
  * clients see nothing but dropped connections: no error reply, no
    wrong reply, no protocol garbage, no hang;
  * the service kept going between kills, every kill was followed by a
    successor that attached the arena after an unclean exit (log), the
    restarts are counted, and `ember-arena check` passes on the arenas
    after a graceful shutdown.

Also: clients of a killed worker must stop counting against maxclients.
"""

import collections
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


class Op(object):
    """One command of a ModelWriter: its arguments, the keys it reads or
    writes, on_reply(rep) (checks the reply against the model, reporting
    a wrong one, and applies the command to the model), and
    allowed(pre, obs) (pre, obs: key -> value; is obs a possible state
    of the keys after the command was sent from state pre and its
    connection dropped before the reply?)."""

    __slots__ = ("args", "keys", "on_reply", "allowed")

    def __init__(self, args, keys, on_reply, allowed):
        self.args = args
        self.keys = keys
        self.on_reply = on_reply
        self.allowed = allowed


class ModelWriter(Writer):
    """A client with keys nobody else writes and an exact model of them:
    every reply must be the one the model predicts (random picks, SPOP's,
    are taken from the reply), and the model is updated from it.  The
    commands of a batch touch disjoint keys, so each unanswered one can be
    judged alone: after a dropped connection, the keys of each command
    sent without a reply are read back and must hold one of the outcomes
    that command may have had (not applied, applied; a move across shards
    also pushed but not popped, the one allowance of README's "can leave
    the element in both lists, never in neither"); the model then takes
    what was read.  At the end the keys must hold exactly the model."""

    DB = 0

    def __init__(self, idx, server, counters, stop, failures):
        super().__init__(idx, server, counters, stop, failures)
        self.keys = {}
        self.keynames = []
        self.pairs = {}
        self.pairnames = []
        self.model = {}        # key -> list | set | dict
        self.kinds = {}        # key -> "list" | "set" | "hash" | "zset"
        self.unacked = []      # ops sent without a reply, not yet judged
        self.stale = set()     # keys to read back after a wrong reply
        self.resyncs = 0
        self.judged = collections.Counter()   # unanswered moves, by outcome

    # -- the model
    def get(self, k):
        return self.model.get(k)

    def put(self, k, v):
        if v:
            self.model[k] = v
        else:
            self.model.pop(k, None)

    def read_keys(self, conn, keys):
        cmds = []
        for k in keys:
            kind = self.kinds[k]
            cmds.append({"list": ("LRANGE", k, 0, -1), "set": ("SMEMBERS", k),
                         "hash": ("HGETALL", k),
                         "zset": ("ZRANGE", k, 0, -1, "WITHSCORES")}[kind])
        out = {}
        for k, rep in zip(keys, conn.pipeline(cmds)):
            kind = self.kinds[k]
            if not isinstance(rep, list):
                raise AssertionError("reading %r: %r" % (k, rep))
            if kind == "list":
                v = list(rep)
            elif kind == "set":
                v = set(rep)
            elif kind == "hash":
                v = dict(zip(rep[0::2], rep[1::2]))
            else:
                v = {m: float(s) for m, s in zip(rep[0::2], rep[1::2])}
            out[k] = v if v else None
        return out

    def resync(self, conn):
        """Judges the unanswered ops (see the class), then takes the keys'
        state as read."""
        keys = sorted(set(k for op in self.unacked for k in op.keys) |
                      self.stale)
        obs = self.read_keys(conn, keys)
        for op in self.unacked:
            pre = {k: self.get(k) for k in op.keys}
            got = {k: obs[k] for k in op.keys}
            if not op.allowed(pre, got):
                self.fail("%r sent, connection dropped, then %s: not a "
                          "possible outcome from %s" %
                          (op.args[:6], short(got), short(pre)))
        for k in keys:
            self.put(k, obs[k])
        self.unacked = []
        self.stale = set()
        self.resyncs += 1

    @staticmethod
    def same(pre, obs, *cands):
        """Is obs the state before the command, or one of cands?"""
        return any(obs == c for c in (pre,) + cands)

    def wrong(self, op, rep, want):
        self.fail("%r -> %s, expected %s" % (op.args[:6], short(rep),
                                             short(want)))
        self.stale |= set(op.keys)

    # -- batches of ops on disjoint keys
    def make_op(self):
        raise NotImplementedError

    def make_batch(self):
        batch, used, size = [], set(), self.batch_size()
        for _ in range(3 * size):
            op = self.make_op()
            if used & set(op.keys):
                continue
            used |= set(op.keys)
            batch.append(op)
            if len(batch) >= size:
                break
        return batch

    def connect(self):
        conn = self.server.client(timeout=15)
        try:
            if self.DB:
                rep = conn.call("SELECT", self.DB)
                if rep != OK:
                    raise AssertionError("SELECT %d -> %r" % (self.DB, rep))
            if self.unacked or self.stale:
                self.resync(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def run(self):
        import traceback
        while not self.stop.is_set():
            try:
                conn = self.connect()
            except DROPS + (OSError,):
                time.sleep(0.05)
                continue
            except Exception as e:  # a bug in the test: report it
                self.fail("unexpected %r\n%s" % (e, traceback.format_exc()))
                return
            try:
                while not self.stop.is_set():
                    if self.stale:
                        self.resync(conn)
                    batch = self.make_batch()
                    done = 0
                    try:
                        conn.send_raw(b"".join(h.encode_command(*op.args)
                                               for op in batch))
                        for op in batch:
                            rep = conn.read()
                            done += 1
                            if isinstance(rep, h.Error):
                                self.wrong(op, rep, "no error")
                            else:
                                op.on_reply(rep)
                            self.acked_ops += 1
                    except DROPS:
                        self.unacked = batch[done:]
                        self.drops += 1
                        break
                    except socket.timeout:
                        self.unacked = batch[done:]
                        self.fail("no reply within 15 s (batch of %d, %d "
                                  "answered)" % (len(batch), done))
                        break
                    except h.ProtocolError as e:
                        self.unacked = batch[done:]
                        self.fail("protocol garbage: %s" % e)
                        break
            except DROPS:
                pass            # in a read-back: again on the next connection
            except Exception as e:  # a bug in the test: report it
                self.fail("unexpected %r\n%s" % (e, traceback.format_exc()))
                return
            finally:
                conn.close()

    def verify(self, c):
        """The keys hold exactly the model (after judging what the last
        dropped connection left unanswered)."""
        nfail = len(self.failures)
        conn = self.connect()
        try:
            names = sorted(self.kinds)
            got = self.read_keys(conn, names)
        finally:
            conn.close()
        problems = self.failures[nfail:]      # from judging, if any
        for k in names:
            if got[k] != self.get(k):
                problems.append("%s: %s holds %s, expected %s" %
                                (self.name, k, short(got[k]),
                                 short(self.get(k))))
        if self.acked_ops == 0:
            problems.append("%s: no command acknowledged" % self.name)
        sys.stderr.write("%s: %d commands acknowledged, %d read-backs after "
                         "a drop%s\n" % (self.name, self.acked_ops,
                                         self.resyncs, self.extra_stats()))
        return problems

    def extra_stats(self):
        return ""

    def db0_keys(self):
        return len(self.kinds) if self.DB == 0 else 0


def short(v, n=6):
    """A value for a message, cut short."""
    if isinstance(v, dict):
        return "{%d: %s%s}" % (len(v), ", ".join(
            "%s: %s" % (short(k, n), short(x, n))
            for k, x in sorted(v.items())[:n]), ", ..." if len(v) > n else "")
    if isinstance(v, (list, set)):
        items = sorted(v) if isinstance(v, set) else v
        s = ", ".join(repr(x[:30] if isinstance(x, bytes) else x)
                      for x in items[:n])
        return "%s%d: %s%s" % ("set " if isinstance(v, set) else "",
                               len(v), s, ", ..." if len(v) > n else "")
    if isinstance(v, bytes):
        return repr(v[:40])
    return repr(v)


def zsorted(z, rev=False):
    """A sorted set's members in rank order (score, then bytes)."""
    items = sorted(z.items(), key=lambda ms: (ms[1], ms[0]))
    return items[::-1] if rev else items


def fmt_score(s):
    return b"%d" % s if s == int(s) else repr(s).encode()


class MoveWriter(ModelWriter):
    """Moves and pops with a count, on keys of both shards and on keys
    sharing a {hash tag}: LMOVE and RPOPLPUSH, SMOVE, SINTERSTORE and
    SUNIONSTORE (across shards: their last phase is @sstore), LPOP/RPOP,
    SPOP and ZPOPMIN/ZPOPMAX with a count, HINCRBY, ZINCRBY; with pushes,
    SADD and ZADD to feed them.  List elements are long now and then, so
    lists grow past a node; a set member now and then too."""

    def __init__(self, idx, server, counters, stop, failures):
        super().__init__(idx, server, counters, stop, failures)
        def on(shard, name):
            return h.key_on(shard, "mv%d:%s" % (idx, name), 2)

        self.lists_x = [on(0, "l"), on(1, "l")]          # across shards
        self.lists_t = [b"{mv%dl}:a" % idx, b"{mv%dl}:b" % idx]
        self.sets_x = [on(0, "s"), on(1, "s")]
        self.sets_t = [b"{mv%ds}:a" % idx, b"{mv%ds}:b" % idx]
        self.sdst_x = on(idx % 2, "sd")                  # stores across shards
        self.sdst_t = b"{mv%ds}:d" % idx
        self.hash = b"mv%d:h" % idx
        self.zsets = [on(0, "z"), on(1, "z")]
        for k in self.lists_x + self.lists_t:
            self.kinds[k] = "list"
        for k in self.sets_x + self.sets_t + [self.sdst_x, self.sdst_t]:
            self.kinds[k] = "set"
        self.kinds[self.hash] = "hash"
        for k in self.zsets:
            self.kinds[k] = "zset"

    def batch_size(self):
        return self.rng.randrange(1, 7)

    def judge_move(self, name, cross, pre, obs, done, half):
        """An unanswered move: not done, done, or (across shards only)
        pushed to the destination but still in the source."""
        where = "across shards" if cross else "on one shard"
        if obs == pre:
            self.judged["%s %s: not done" % (name, where)] += 1
        elif obs == done:
            self.judged["%s %s: done" % (name, where)] += 1
        elif cross and obs == half:
            self.judged["%s %s: in both" % (name, where)] += 1
        else:
            return False
        return True

    def extra_stats(self):
        return "; unanswered moves: %s" % (
            ", ".join("%s %d" % kv for kv in sorted(self.judged.items()))
            or "none")

    def element(self, seq, long_p):
        e = b"%d.%d" % (self.idx, seq)
        if self.rng.random() < long_p:
            e += b"-" + b"p" * self.rng.randrange(40, 160)
        return e

    def make_op(self):
        rng = self.rng
        self.seq += 1
        r = rng.random()
        if r < 0.14:
            return self.op_push(rng.choice(self.lists_x + self.lists_t))
        if r < 0.32:
            return self.op_lmove(rng.choice((self.lists_x, self.lists_t)))
        if r < 0.38:
            return self.op_lpop(rng.choice(self.lists_x + self.lists_t))
        if r < 0.50:
            return self.op_sadd(rng.choice((self.sets_x, self.sets_t)))
        if r < 0.62:
            return self.op_smove(rng.choice((self.sets_x, self.sets_t)))
        if r < 0.66:
            return self.op_spop(rng.choice(self.sets_x + self.sets_t))
        if r < 0.72:
            return self.op_store(rng.random() < 0.5)
        if r < 0.82:
            return self.op_hincrby()
        if r < 0.89:
            return self.op_zadd(rng.choice(self.zsets))
        if r < 0.95:
            return self.op_zincrby(rng.choice(self.zsets))
        return self.op_zpop(rng.choice(self.zsets))

    # -- lists
    def op_push(self, k):
        left = self.rng.random() < 0.3
        els = [self.element(self.seq * 10 + i, 0.3)
               for i in range(self.rng.randrange(1, 4))]

        def apply(v):
            v = list(v or [])
            return (els[::-1] + v) if left else (v + els)

        def on_reply(rep):
            new = apply(self.get(k))
            if rep != len(new):
                return self.wrong(op, rep, len(new))
            self.put(k, new)

        op = Op(("LPUSH" if left else "RPUSH", k) + tuple(els), [k], on_reply,
                lambda pre, obs: self.same(pre, obs, {k: apply(pre[k])}))
        return op

    def op_lmove(self, group):
        rng = self.rng
        src = rng.choice(group)
        dst = rng.choice(group) if group is self.lists_t else \
            [g for g in group if g != src][0]
        wf, wt = rng.choice(("LEFT", "RIGHT")), rng.choice(("LEFT", "RIGHT"))
        if rng.random() < 0.3 and src != dst:
            args, wf, wt = ("RPOPLPUSH", src, dst), "RIGHT", "LEFT"
        else:
            args = ("LMOVE", src, dst, wf, wt)
        cross = h.key_shard(src, 2) != h.key_shard(dst, 2)
        keys = [src] if src == dst else [src, dst]

        def moved(state, pop):
            """(element, new state) from state (key -> value)."""
            s = list(state[src] or [])
            if not s:
                return None, dict(state)
            e = s[0] if wf == "LEFT" else s[-1]
            out = dict(state)
            if pop:
                s = s[1:] if wf == "LEFT" else s[:-1]
                out[src] = s or None
            d = list(out[dst] or [])
            d = [e] + d if wt == "LEFT" else d + [e]
            out[dst] = d
            return e, out

        def on_reply(rep):
            pre = {k: self.get(k) for k in keys}
            e, new = moved(pre, True)
            if rep != e:
                return self.wrong(op, rep, e)
            for k in keys:
                self.put(k, new[k])

        def allowed(pre, obs):
            return self.judge_move(args[0], cross, pre, obs,
                                   moved(pre, True)[1], moved(pre, False)[1])

        op = Op(args, keys, on_reply, allowed)
        return op

    def op_lpop(self, k):
        rng = self.rng
        left = rng.random() < 0.5
        count = rng.choice((None, 1, 2, 3, 5))
        args = ("LPOP" if left else "RPOP", k) + \
            (() if count is None else (count,))
        n = 1 if count is None else count

        def popped(v):
            v = list(v or [])
            if left:
                return v[:n], v[n:]
            return v[::-1][:n], v[:max(0, len(v) - n)]

        def on_reply(rep):
            v = self.get(k)
            out, rest = popped(v)
            want = (out[0] if out else None) if count is None else \
                (out if v else None)
            if rep != want:
                return self.wrong(op, rep, want)
            self.put(k, rest)

        op = Op(args, [k], on_reply,
                lambda pre, obs: self.same(pre, obs,
                                           {k: popped(pre[k])[1] or None}))
        return op

    # -- sets
    def op_sadd(self, group):
        rng = self.rng
        k = rng.choice(group)
        other = [g for g in group if g != k][0]
        ms = [self.element(self.seq * 10 + i, 0.05)
              for i in range(rng.randrange(1, 3))]
        if rng.random() < 0.3 and self.get(other):
            ms.append(rng.choice(sorted(self.get(other))))   # intersections

        def on_reply(rep):
            v = set(self.get(k) or ())
            want = len(set(ms) - v)
            if rep != want:
                return self.wrong(op, rep, want)
            self.put(k, v | set(ms))

        op = Op(("SADD", k) + tuple(ms), [k], on_reply,
                lambda pre, obs: self.same(pre, obs,
                                           {k: set(pre[k] or ()) | set(ms)}))
        return op

    def op_smove(self, group):
        rng = self.rng
        src = rng.choice(group)
        dst = [g for g in group if g != src][0]
        members = sorted(self.get(src) or ())
        m = rng.choice(members) if members and rng.random() < 0.9 else \
            b"nosuch%d" % self.seq
        cross = h.key_shard(src, 2) != h.key_shard(dst, 2)

        def moved(state, pop):
            s = set(state[src] or ())
            if m not in s:
                return 0, dict(state)
            out = dict(state)
            if pop:
                out[src] = (s - {m}) or None
            out[dst] = set(out[dst] or ()) | {m}
            return 1, out

        def on_reply(rep):
            pre = {src: self.get(src), dst: self.get(dst)}
            want, new = moved(pre, True)
            if rep != want:
                return self.wrong(op, rep, want)
            for k in (src, dst):
                self.put(k, new[k])

        def allowed(pre, obs):
            return self.judge_move("SMOVE", cross, pre, obs,
                                   moved(pre, True)[1], moved(pre, False)[1])

        op = Op(("SMOVE", src, dst, m), [src, dst], on_reply, allowed)
        return op

    def op_spop(self, k):
        count = self.rng.randrange(1, 5)

        def on_reply(rep):
            v = set(self.get(k) or ())
            n = min(count, len(v))
            if not isinstance(rep, list) or len(rep) != n or \
                    len(set(rep)) != n or not set(rep) <= v:
                return self.wrong(op, rep, "%d of %s" % (n, short(v)))
            self.put(k, v - set(rep))

        def allowed(pre, obs):
            p, o = set(pre[k] or ()), set(obs[k] or ())
            return o == p or (o <= p and len(p) - len(o) == min(count, len(p)))

        op = Op(("SPOP", k, count), [k], on_reply, allowed)
        return op

    def op_store(self, across):
        a, b = self.sets_x if across else self.sets_t
        dst = self.sdst_x if across else self.sdst_t
        inter = self.rng.random() < 0.5
        keys = [dst, a, b]

        def result(state):
            x, y = set(state[a] or ()), set(state[b] or ())
            return (x & y) if inter else (x | y)

        def on_reply(rep):
            pre = {k: self.get(k) for k in keys}
            r = result(pre)
            if rep != len(r):
                return self.wrong(op, rep, len(r))
            self.put(dst, r)

        def allowed(pre, obs):
            new = dict(pre)
            new[dst] = result(pre) or None
            return self.same(pre, obs, new)

        op = Op(("SINTERSTORE" if inter else "SUNIONSTORE", dst, a, b), keys,
                on_reply, allowed)
        return op

    # -- a hash, sorted sets
    def op_hincrby(self):
        k = self.hash
        f = b"f%d" % self.rng.randrange(100)
        by = self.rng.randrange(-5, 12)

        def after(v):
            v = dict(v or {})
            v[f] = b"%d" % (int(v.get(f, b"0")) + by)
            return v

        def on_reply(rep):
            new = after(self.get(k))
            if rep != int(new[f]):
                return self.wrong(op, rep, int(new[f]))
            self.put(k, new)

        op = Op(("HINCRBY", k, f, by), [k], on_reply,
                lambda pre, obs: self.same(pre, obs, {k: after(pre[k])}))
        return op

    def op_zadd(self, k):
        m = self.element(self.seq, 0.05)
        s = self.rng.randrange(-50, 50)

        def on_reply(rep):
            v = dict(self.get(k) or {})
            if rep != 1:
                return self.wrong(op, rep, 1)
            v[m] = float(s)
            self.put(k, v)

        op = Op(("ZADD", k, s, m), [k], on_reply,
                lambda pre, obs: self.same(pre, obs,
                                           {k: self.zput(pre[k], m, float(s))}))
        return op

    @staticmethod
    def zput(z, m, s):
        z = dict(z or {})
        z[m] = s
        return z

    def op_zincrby(self, k):
        z = self.get(k) or {}
        m = self.rng.choice(sorted(z)) if z and self.rng.random() < 0.8 \
            else self.element(self.seq, 0)
        by = self.rng.randrange(-20, 21)

        def on_reply(rep):
            v = self.get(k) or {}
            s = v.get(m, 0.0) + by
            if not isinstance(rep, bytes) or float(rep) != s:
                return self.wrong(op, rep, fmt_score(s))
            self.put(k, self.zput(v, m, s))

        op = Op(("ZINCRBY", k, by, m), [k], on_reply,
                lambda pre, obs: self.same(
                    pre, obs, {k: self.zput(pre[k], m,
                                            (pre[k] or {}).get(m, 0.0) + by)}))
        return op

    def op_zpop(self, k):
        mx = self.rng.random() < 0.4
        count = self.rng.randrange(1, 4)

        def after(v):
            items = zsorted(v or {}, mx)
            return items[:count], dict(items[count:])

        def on_reply(rep):
            out, rest = after(self.get(k))
            if not isinstance(rep, list) or \
                    [(m, float(s)) for m, s in zip(rep[0::2], rep[1::2])] \
                    != out or len(rep) != 2 * len(out):
                return self.wrong(op, rep, out)
            self.put(k, rest)

        op = Op(("ZPOPMAX" if mx else "ZPOPMIN", k, count), [k], on_reply,
                lambda pre, obs: self.same(pre, obs,
                                           {k: after(pre[k])[1] or None}))
        return op


class FlushWriter(ModelWriter):
    """Big collections of every type on both shards in a database of its
    own (pushed 5 to 20 elements a command, full encodings past 64
    elements), and now and then FLUSHDB of that database, which frees them
    lazily; UNLINK of one now and then.  FLUSHDB reaches the other shard
    over the rings and each shard's part is atomic: after a dropped
    connection, each shard's keys are all as before or all gone."""

    def __init__(self, idx, server, counters, stop, failures):
        super().__init__(idx, server, counters, stop, failures)
        self.DB = 3 + idx % 10
        self.byshard = {0: [], 1: []}
        for shard in (0, 1):
            for kind in ("list", "hash", "set", "zset"):
                k = h.key_on(shard, "fl%d:%s" % (idx, kind), 2)
                self.kinds[k] = kind
                self.byshard[shard].append(k)
        self.allkeys = sorted(self.kinds)
        self.flushes = 0

    def batch_size(self):
        return self.rng.randrange(1, 4)

    def extra_stats(self):
        return ", %d FLUSHDB acknowledged" % self.flushes

    def make_op(self):
        rng = self.rng
        self.seq += 1
        total = sum(len(v) for v in self.model.values())
        if rng.random() < (0.05 if total > 1000 else 0.002):
            return self.op_flush()
        k = rng.choice(self.allkeys)
        if rng.random() < 0.02:
            return self.op_unlink(k)
        return self.op_fill(k)

    def op_fill(self, k):
        rng = self.rng
        kind = self.kinds[k]
        n = rng.randrange(5, 21)
        base = b"%d.%d." % (self.idx, self.seq)
        # long ones: lists of 90-byte elements pass 8 KB (quicklist) at
        # about 90; one member or value of 100 bytes makes a hash, set or
        # sorted set full
        els = [base + b"%d" % i + (b"-" + b"q" * 100 if rng.random() < 0.1
                                   else b"-" + b"l" * 80 if kind == "list"
                                   else b"") for i in range(n)]
        if kind == "list":
            args = ("RPUSH", k) + tuple(els)
        elif kind == "hash":
            args = ("HSET", k) + tuple(x for e in els for x in (e, b"v" + e))
        elif kind == "set":
            args = ("SADD", k) + tuple(els)
        else:
            args = ("ZADD", k) + tuple(x for i, e in enumerate(els)
                                       for x in (i, e))

        def after(v):
            if kind == "list":
                return list(v or []) + els
            if kind == "hash":
                return dict(v or {}) | {e: b"v" + e for e in els}
            if kind == "set":
                return set(v or ()) | set(els)
            return dict(v or {}) | {e: float(i) for i, e in enumerate(els)}

        def on_reply(rep):
            v = self.get(k)
            want = len(after(v)) if kind == "list" else n
            if rep != want:
                return self.wrong(op, rep, want)
            self.put(k, after(v))

        op = Op(args, [k], on_reply,
                lambda pre, obs: self.same(pre, obs, {k: after(pre[k])}))
        return op

    def op_unlink(self, k):
        def on_reply(rep):
            want = 1 if self.get(k) else 0
            if rep != want:
                return self.wrong(op, rep, want)
            self.put(k, None)

        op = Op(("UNLINK", k), [k], on_reply,
                lambda pre, obs: self.same(pre, obs, {k: None}))
        return op

    def op_flush(self):
        def on_reply(rep):
            if rep != OK or type(rep) is not Simple:
                return self.wrong(op, rep, OK)
            self.model = {}
            self.flushes += 1

        def allowed(pre, obs):
            # each shard's part is atomic: all as before, or all gone
            for shard, keys in self.byshard.items():
                if not (all(obs[k] == pre[k] for k in keys) or
                        all(obs[k] is None for k in keys)):
                    return False
            return True

        op = Op(("FLUSHDB",), list(self.allkeys), on_reply, allowed)
        return op


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
        # members are never half-added and acknowledged ones never lost;
        # moves, stores and pops with a count, on one shard and across
        # shards, keep an exact model; FLUSHDB of big collections.
        self.kill_under_load(
            COLL_KILLS, lambda s, c, stop, f: [
                CollWriter(20 + i, s, c, stop, f) for i in range(3)] +
            [Writer(23, s, c, stop, f), MoveWriter(24, s, c, stop, f),
             MoveWriter(25, s, c, stop, f), FlushWriter(26, s, c, stop, f)])

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
            if isinstance(w, (CollWriter, ModelWriter)):
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
            sum(len(w.colls) for w in writers if isinstance(w, CollWriter)) + \
            sum(w.db0_keys() for w in writers if isinstance(w, ModelWriter))
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
