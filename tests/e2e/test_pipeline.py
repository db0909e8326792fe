"""Pipelining: 10,000 mixed commands over many keys (both shards) sent in
one write, every reply checked in order against a model of the keyspace;
a huge pipeline written in pieces of random sizes (some of a few bytes,
cutting through headers and payloads) while the replies are read at the
same time; a pipeline sent one byte at a time; 50 MB values set and read
back on keys of every shard, over several connections.
"""

import hashlib
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Error, Simple  # noqa: E402

OK = Simple(b"OK")


class TTLNear(object):
    """The expected reply of TTL on a key given EXPIRE k 1000 earlier in
    the same pipeline (it may take a second or two to get there)."""

    def __init__(self, ttl):
        self.ttl = ttl

    def matches(self, reply):
        return type(reply) is int and self.ttl - 5 <= reply <= self.ttl

    def __repr__(self):
        return "TTLNear(%d)" % self.ttl


def matches(expected, reply):
    if isinstance(expected, TTLNear):
        return expected.matches(reply)
    return type(reply) is type(expected) and reply == expected


class Model(object):
    """Just enough of Redis's string semantics to predict every reply of
    the generated commands (no expiry in flight: TTLs are long)."""

    def __init__(self, rng, nkeys):
        self.rng = rng
        self.data = {}
        self.ttl = set()
        self.keys = ["pk:%d" % i for i in range(nkeys)] + \
            ["{tag%d}:%d" % (i % 5, i) for i in range(nkeys // 4)]
        self.counters = ["cnt:%d" % i for i in range(max(1, nkeys // 10))]

    def _int(self, k):
        v = self.data.get(k, b"0")
        try:
            if v != b"%d" % int(v):
                return None
            return int(v)
        except ValueError:
            return None

    def next(self):
        """(command, expected reply)."""
        rng, d = self.rng, self.data
        k = rng.choice(self.keys)
        op = rng.randrange(17)
        if op <= 3:
            v = b"v%d" % rng.randrange(10 ** 9)
            d[k] = v
            self.ttl.discard(k)
            return ("SET", k, v), OK
        if op <= 6:
            return ("GET", k), d.get(k)
        if op == 7:
            c = rng.choice(self.counters)
            n = rng.randrange(-5, 50)
            cur = self._int(c)
            if cur is None:
                return ("INCRBY", c, n), Error(
                    b"ERR value is not an integer or out of range")
            d[c] = b"%d" % (cur + n)
            return ("INCRBY", c, n), cur + n
        if op == 8:
            c = rng.choice(self.counters)
            cur = self._int(c)
            if cur is None:
                return ("INCR", c), Error(
                    b"ERR value is not an integer or out of range")
            d[c] = b"%d" % (cur + 1)
            return ("INCR", c), cur + 1
        if op == 9:
            s = b"+%d" % rng.randrange(100)
            d[k] = d.get(k, b"") + s
            return ("APPEND", k, s), len(d[k])
        if op == 10:
            ks = rng.sample(self.keys, rng.randrange(1, 6))
            n = sum(1 for x in ks if x in d)
            for x in ks:
                d.pop(x, None)
                self.ttl.discard(x)
            return ("DEL",) + tuple(ks), n
        if op == 11:
            ks = [rng.choice(self.keys) for _ in range(rng.randrange(1, 6))]
            return ("EXISTS",) + tuple(ks), sum(1 for x in ks if x in d)
        if op == 12:
            ks = rng.sample(self.keys + self.counters, rng.randrange(1, 8))
            return ("MGET",) + tuple(ks), [d.get(x) for x in ks]
        if op == 13:
            ks = rng.sample(self.keys, rng.randrange(1, 5))
            args = []
            for x in ks:
                v = b"m%d" % rng.randrange(10 ** 6)
                d[x] = v
                self.ttl.discard(x)
                args += [x, v]
            return ("MSET",) + tuple(args), OK
        if op == 14:
            if k in d:
                self.ttl.add(k)
                return ("EXPIRE", k, 1000), 1
            return ("EXPIRE", k, 1000), 0
        if op == 15:
            if k not in d:
                return ("TTL", k), -2
            return ("TTL", k), TTLNear(1000) if k in self.ttl else -1
        if rng.random() < 0.5:
            return ("STRLEN", k), len(d.get(k, b""))
        e = b"e%d" % rng.randrange(1000)
        return ("ECHO", e), e


def encode_all(cmds):
    return b"".join(h.encode_command(*c) for c in cmds)


class PipelineTest(h.ServerTestCase):
    server_workers = 2

    def check_replies(self, cmds, expected, got):
        self.assertEqual(len(got), len(expected))
        for i, (c, e, g) in enumerate(zip(cmds, expected, got)):
            if not matches(e, g):
                self.fail("reply %d of %d to %r: expected %r, got %r "
                          "(previous command %r)" %
                          (i, len(cmds), c[:6], e, g,
                           cmds[i - 1][:6] if i else None))

    def test_set_get_10000_in_one_write(self):
        cmds, exp = [], []
        for i in range(5000):
            k = "sg:%d" % (i % 1500)
            cmds.append(("SET", k, "value-%d" % i))
            exp.append(OK)
            cmds.append(("GET", k))
            exp.append(b"value-%d" % i)
        self.assertEqual(len(cmds), 10000)
        got = self.r.pipeline(cmds)
        self.check_replies(cmds, exp, got)
        self.assertEqual(self.r.call("GET", "sg:1499"), b"value-4499")

    def test_many_args_commands_in_one_write(self):
        # Commands with more arguments than a parse batch holds run one at
        # a time; those after them in the same read must still run before
        # the client sends anything more (a lost wake-up hung here).
        cmds, exp = [], []
        for i in range(64):
            members = ["m:%d" % j for j in range(1000)]
            cmds.append(("SADD", "many-args:%d" % (i % 4)) + tuple(members))
            exp.append(1000 if i < 4 else 0)
        cmds.append(("SCARD", "many-args:3"))
        exp.append(1000)
        got = self.r.pipeline(cmds)
        self.check_replies(cmds, exp, got)

    def test_mixed_10000_in_one_write(self):
        m = Model(random.Random(10000), 2000)
        cmds, exp = [], []
        for _ in range(10000):
            c, e = m.next()
            cmds.append(c)
            exp.append(e)
        data = encode_all(cmds)
        self.r.send_raw(data)
        got = [self.r.read() for _ in cmds]
        self.check_replies(cmds, exp, got)
        # the keyspace is the model's, read back in one more pipeline
        keys = sorted(set(m.keys + m.counters))
        got = self.r.pipeline([("GET", k) for k in keys])
        self.assertEqual(dict(zip(keys, got)),
                         {k: m.data.get(k) for k in keys})
        self.assertEqual(self.r.call("DBSIZE"), len(m.data))

    def test_several_pipelining_connections_at_once(self):
        # Four connections, each with its own keys and its own model,
        # their pipelines interleaving on the workers and the rings.
        errors = []

        def run(n):
            try:
                c = self.server.client(timeout=60)
                try:
                    m = Model(random.Random(n), 500)
                    m.keys = ["c%d:%s" % (n, k) for k in m.keys]
                    m.counters = ["c%d:%s" % (n, k) for k in m.counters]
                    for _ in range(5):
                        cmds, exp = zip(*[m.next() for _ in range(2000)])
                        got = c.pipeline(cmds)
                        for i, (e, g) in enumerate(zip(exp, got)):
                            if not matches(e, g):
                                errors.append((n, i, cmds[i][:5], e, g))
                                return
                finally:
                    c.close()
            except Exception as e:  # reported below
                errors.append((n, repr(e)))

        ts = [threading.Thread(target=run, args=(n,)) for n in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in ts), "a client hung")
        self.assertEqual(errors, [])

    def test_huge_pipeline_in_pieces(self):
        # 150,000 commands (about 6 MB) written in pieces of random sizes
        # while a thread reads the replies: the server sees commands cut
        # anywhere, over many reads, and must never stall.
        n = 150000
        rng = random.Random(7)
        cmds = []
        for i in range(n):
            if i % 3 == 2:
                cmds.append(("GET", "hp:%d" % (i - 2)))
            elif i % 3 == 1:
                cmds.append(("INCR", "hpc:%d" % (i % 97)))
            else:
                cmds.append(("SET", "hp:%d" % i, "x" * rng.randrange(0, 60)))
        data = encode_all(cmds)
        c = self.client(timeout=60)
        replies = []
        failure = []

        def reader():
            try:
                for _ in range(n):
                    replies.append(c.read())
            except Exception as e:  # reported below
                failure.append(repr(e))

        t = threading.Thread(target=reader)
        t.start()
        pos = 0
        while pos < len(data):
            r = rng.random()
            size = rng.randrange(1, 8) if r < 0.3 else \
                rng.randrange(8, 2000) if r < 0.8 else \
                rng.randrange(2000, 200000)
            c.send_raw(data[pos:pos + size])
            pos += size
            if rng.random() < 0.001:
                time.sleep(0.01)
        t.join(120)
        self.assertFalse(t.is_alive(), "replies stopped after %d of %d" %
                         (len(replies), n))
        self.assertEqual(failure, [])
        self.assertEqual(len(replies), n)
        counters = {}
        for i, (cmd, rep) in enumerate(zip(cmds, replies)):
            if cmd[0] == "SET":
                ok = rep == OK and type(rep) is Simple
            elif cmd[0] == "GET":
                ok = rep == cmds[i - 2][2].encode() and type(rep) is bytes
            else:
                counters[cmd[1]] = counters.get(cmd[1], 0) + 1
                ok = rep == counters[cmd[1]]
            if not ok:
                self.fail("reply %d to %r: %r" % (i, cmd[:2], rep))

    def test_pipeline_one_byte_at_a_time(self):
        cmds = []
        for i in range(300):
            cmds.append(("SET", "b1:%d" % i, "v%d" % i))
            cmds.append(("GET", "b1:%d" % i))
        data = encode_all(cmds) + b"PING\r\n"
        c = self.client()
        for i in range(len(data)):
            c.send_raw(data[i:i + 1])
        got = [c.read() for _ in range(len(cmds) + 1)]
        for i in range(300):
            self.assertEqual(got[2 * i], OK)
            self.assertEqual(got[2 * i + 1], b"v%d" % i)
        self.assertEqual(got[-1], Simple(b"PONG"))

    def test_big_values_50mb_across_shards(self):
        size = 50 << 20
        conns = [self.client(timeout=120) for _ in range(3)]
        # keys of both shards (by their hash slot with two workers)
        keys = ["big:a", "big:k", "big:{x}", "big:b"]
        digests = {}

        def value(i):
            pattern = b"%s-%d|" % (keys[i].encode(), i)
            return (pattern * (size // len(pattern) + 1))[:size]

        for i, k in enumerate(keys):
            c = conns[i % len(conns)]
            v = value(i)
            digests[k] = hashlib.sha256(v).hexdigest()
            self.assertEqual(c.call("SET", k, v), OK)
            del v
        for j, k in enumerate(keys):
            for c in conns:
                self.assertEqual(c.call("STRLEN", k), size)
            got = conns[(j + 1) % len(conns)].call("GET", k)
            self.assertEqual(len(got), size)
            self.assertEqual(hashlib.sha256(got).hexdigest(), digests[k],
                             "value of %s differs" % k)
            del got
        # two of them in one MGET reply (100 MB), pipelined with a PING
        got = conns[0].pipeline([("MGET", keys[0], "nokey", keys[1]),
                                 ("PING",)])
        self.assertEqual([hashlib.sha256(x).hexdigest() if x else x
                          for x in got[0]],
                         [digests[keys[0]], None, digests[keys[1]]])
        self.assertEqual(got[1], Simple(b"PONG"))
        del got
        self.assertEqual(conns[1].call("APPEND", keys[2], "!"), size + 1)
        self.assertEqual(conns[2].call("GETRANGE", keys[2], -2, -1),
                         value(2)[size - 1:] + b"!")
        self.assertEqual(conns[0].call("DEL", *keys), len(keys))
        self.assertEqual(conns[0].call("DBSIZE"), 0)
        if self.server.kind == "ember":
            # the space comes back: each shard is back to a small size.
            # Workers publish their figures once per cron tick (hz), so
            # status may show the state of up to one tick ago.
            deadline = time.monotonic() + 5
            while True:
                ws = self.server.status()["workers"]
                if all(w["keys"] == 0 for w in ws) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            for w in ws:
                self.assertEqual(w["keys"], 0)
                self.assertLess(w["used_bytes"], 1 << 20, w)


if __name__ == "__main__":
    unittest.main()
