"""Blocking sorted-set pops across workers (BZPOPMIN BZPOPMAX BZMPOP), and
the multi-key sorted-set commands whose keys span shards, against ember
with two workers.

A blocked pop waits at its keys' owner, whichever worker its client is
connected to; a ZADD (or a store) from any worker serves it.  Each test
picks its connections by the worker that serves them (INFO server's
ember_worker_id: connections are opened until they land where wanted) and
its keys by the shard that owns them (CRC16 slot, as the server computes
it), so that every combination is covered:

  * a waiter on worker A served by a ZADD from a client on worker B, the
    key owned by A or by B, in RESP2 and RESP3 (reply shapes included);
  * timeouts (a null array), a client that disconnects while blocked (its
    waiter goes, the next ZADD stays in the set), first-blocked-first-served
    across workers, a waiter on several keys served from the one that got
    data, a key that turns into another type (the waiter keeps waiting);
  * a store (ZUNIONSTORE, ZRANGESTORE) whose destination has waiters, run
    from the other shard;
  * INFO blocked_clients, summed over workers;
  * CROSSSLOT for blocking pops whose keys live on different shards, and
    ZMPOP, ZUNION/ZINTER/ZDIFF[STORE], ZINTERCARD, ZRANGESTORE across shards.

Against redis-server (EMBER_TARGET=redis) the same tests run on one
process: worker placement is then moot and every connection is accepted.
"""

import functools
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Double, Error  # noqa: E402

WORKERS = 2

key_shard = functools.partial(h.key_shard, workers=WORKERS)
key_on = functools.partial(h.key_on, workers=WORKERS)
wait_until = h.wait_until


class BlockingZsetsTest(h.ShardedTestCase):
    server_workers = WORKERS

    # -- tests
    def test_zadd_from_other_worker_serves_waiter(self):
        for owner in range(WORKERS):
            for waiter_w in range(WORKERS):
                k = key_on(owner, "z%d%d" % (owner, waiter_w))
                a = self.conn(waiter_w)
                b = self.conn(1 - waiter_w)
                a.send("BZPOPMIN", k, 0)
                self.wait_blocked(1)
                self.assertEqual(b.call("ZADD", k, 1, "a"), 1)
                self.assertEqual(a.read(), [k, b"a", b"1"])
                self.assertEqual(b.call("EXISTS", k), 0)
                self.wait_blocked(0)
                # BZPOPMAX takes the highest of a variadic ZADD
                a.send("BZPOPMAX", k, 0)
                self.wait_blocked(1)
                self.assertEqual(b.call("ZADD", k, 1, "x", 2.5, "y", -3, "z"), 3)
                self.assertEqual(a.read(), [k, b"y", b"2.5"])
                self.assertEqual(b.call("ZRANGE", k, 0, -1), [b"z", b"x"])
                # BZMPOP with a count: what is there, nested
                a.send("BZMPOP", 0, 1, k, "MIN", "COUNT", 5)
                self.assertEqual(a.read(), [k, [[b"z", b"-3"], [b"x", b"1"]]])
                a.send("BZMPOP", 0, 1, k, "MAX", "COUNT", 2)
                self.wait_blocked(1)
                b.call("ZADD", k, 1, "p", 2, "q", 3, "r")
                self.assertEqual(a.read(), [k, [[b"r", b"3"], [b"q", b"2"]]])
                self.assertEqual(b.call("ZRANGE", k, 0, -1, "WITHSCORES"), [b"p", b"1"])
                b.call("DEL", k)
                self.wait_blocked(0)

    def test_resp3_shapes(self):
        for owner in range(WORKERS):
            k = key_on(owner, "r3")
            a = self.conn(1 - owner, resp=3)
            b = self.conn(owner)
            a.send("BZPOPMIN", k, 0)
            self.wait_blocked(1)
            b.call("ZADD", k, 1.5, "m")
            node = a.read_node()
            self.assertEqual(node.raw, b"*3\r\n$%d\r\n%s\r\n$1\r\nm\r\n,1.5\r\n" % (len(k), k))
            a.send("BZMPOP", 0, 1, k, "MAX")
            self.wait_blocked(1)
            b.call("ZADD", k, 7, "n")
            r = a.read()
            self.assertEqual(r, [k, [[b"n", 7.0]]])
            self.assertIs(type(r[1][0][1]), Double)
            # a timeout is RESP3's null
            self.assertEqual(a.call_node("BZPOPMAX", k, "0.05").raw, b"_\r\n")

    def test_waiter_pops_before_the_adders_next_command(self):
        for owner in range(WORKERS):
            k = key_on(owner, "order")
            a = self.conn(0)
            b = self.conn(1)
            a.send("BZPOPMIN", k, 0)
            self.wait_blocked(1)
            self.assertEqual(b.pipeline([("ZADD", k, 1, "a"), ("ZCARD", k),
                                         ("ZPOPMIN", k)]), [1, 0, []])
            self.assertEqual(a.read(), [k, b"a", b"1"])

    def test_fifo_across_workers(self):
        for owner in range(WORKERS):
            k = key_on(owner, "fifo")
            waiters = []
            for i in range(4):
                c = self.conn(i % WORKERS)
                c.send("BZPOPMIN", k, 0)
                self.wait_blocked(i + 1)
                waiters.append(c)
            adder = self.conn(1)
            # one ZADD serves the first three, lowest score first
            self.assertEqual(adder.call("ZADD", k, 3, "c", 1, "a", 2, "b"), 3)
            for c, (m, s) in zip(waiters, [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]):
                self.assertEqual(c.read(), [k, m, s])
            self.assert_still_blocked(waiters[3])
            self.assertEqual(adder.call("ZINCRBY", k, 9, "d"), b"9")
            self.assertEqual(waiters[3].read(), [k, b"d", b"9"])
            self.wait_blocked(0)

    def test_several_keys_served_from_the_ready_one(self):
        tag = b"{several}"
        k1, k2 = tag + b"1", tag + b"2"
        owner = key_shard(k1)
        a = self.conn(1 - owner)
        a.send("BZPOPMAX", k1, k2, 0)
        self.wait_blocked(1)
        b = self.conn(owner)
        b.call("ZADD", k2, 5, "five")
        self.assertEqual(a.read(), [k2, b"five", b"5"])
        a.send("BZMPOP", 0, 2, k1, k2, "MIN", "COUNT", 10)
        self.wait_blocked(1)
        b.call("ZADD", k2, 1, "x", 2, "y")
        self.assertEqual(a.read(), [k2, [[b"x", b"1"], [b"y", b"2"]]])
        # with data: the first non-empty key, in order
        b.call("ZADD", k1, 1, "in1")
        b.call("ZADD", k2, 0, "in2")
        self.assertEqual(a.call("BZPOPMIN", k2, k1, 0), [k2, b"in2", b"0"])

    def test_timeouts(self):
        for owner in range(WORKERS):
            k = key_on(owner, "tmo")
            for resp in (2, 3):
                a = self.conn(1 - owner, resp=resp)
                for cmd in (("BZPOPMIN", k, "0.2"), ("BZPOPMAX", k, "0.2"),
                            ("BZMPOP", "0.2", 1, k, "MIN"),
                            ("BZMPOP", "0.2", 1, k, "MAX", "COUNT", 3)):
                    t0 = time.monotonic()
                    node = a.call_node(*cmd)
                    took = time.monotonic() - t0
                    self.assertEqual(node.raw, b"*-1\r\n" if resp == 2 else b"_\r\n", cmd)
                    self.assertGreaterEqual(took, 0.15, cmd)
                    self.assertLess(took, 3.0, cmd)
            self.wait_blocked(0)
        for t, msg in (("-1", "timeout is negative"), ("abc", "timeout is not a float")):
            r = self.r.call("BZPOPMIN", key_on(0, "badtmo"), t)
            self.assertIsInstance(r, Error)
            self.assertIn(msg, r.text)

    def test_disconnect_while_blocked(self):
        for owner in range(WORKERS):
            for waiter_w in range(WORKERS):
                k = key_on(owner, "gone%d" % waiter_w)
                a = self.conn(waiter_w)
                a.send("BZPOPMIN", k, 0)
                self.wait_blocked(1)
                a.close()
                self.wait_blocked(0)
                b = self.conn(1 - waiter_w)
                self.assertEqual(b.call("ZADD", k, 1, "kept"), 1)
                time.sleep(0.05)
                self.assertEqual(b.call("ZRANGE", k, 0, -1), [b"kept"])
                # the next waiter is served as usual
                c = self.conn(waiter_w)
                self.assertEqual(c.call("BZMPOP", 0, 1, k, "MIN"), [k, [[b"kept", b"1"]]])
                b.call("DEL", k)

    def test_info_blocked_clients(self):
        self.assertEqual(self.blocked(), 0)
        conns = []
        for i in range(4):
            k = key_on(i % WORKERS, "info%d" % i)
            c = self.conn((i + 1) % WORKERS)
            c.send("BZPOPMIN", k, 0)
            conns.append((c, k))
            self.wait_blocked(i + 1)
        adder = self.conn(0)
        for i, (c, k) in enumerate(conns):
            adder.call("ZADD", k, i, "v")
            self.assertEqual(c.read(), [k, b"v", b"%d" % i])
            self.wait_blocked(3 - i)

    def test_wrong_type_keeps_waiting(self):
        k = key_on(1, "typed")
        a = self.conn(0)
        a.send("BZPOPMIN", k, 0)
        self.wait_blocked(1)
        b = self.conn(1)
        b.call("SADD", k, "x")
        self.assert_still_blocked(a)
        b.call("DEL", k)
        b.call("ZADD", k, 4, "ok")
        self.assertEqual(a.read(), [k, b"ok", b"4"])
        # a key of another type when it is checked: WRONGTYPE, no blocking
        b.call("SET", k, "str")
        r = a.call("BZPOPMAX", k, 0)
        self.assertIsInstance(r, Error)
        self.assertTrue(r.text.startswith("WRONGTYPE"), r)

    def test_stores_serve_waiters(self):
        for owner in range(WORKERS):
            dst = key_on(owner, "stored")
            src = key_on(1 - owner, "source")
            a = self.conn(owner)
            b = self.conn(1 - owner)
            b.call("ZADD", src, 1, "one", 2, "two", 3, "three")
            a.send("BZPOPMAX", dst, 0)
            self.wait_blocked(1)
            self.assertEqual(b.call("ZUNIONSTORE", dst, 1, src, "WEIGHTS", 10), 3)
            self.assertEqual(a.read(), [dst, b"three", b"30"])
            self.assertEqual(b.call("ZRANGE", dst, 0, -1), [b"one", b"two"])
            b.call("DEL", dst)
            a.send("BZPOPMIN", dst, 0)
            self.wait_blocked(1)
            self.assertEqual(b.call("ZRANGESTORE", dst, src, 1, 2), 2)
            self.assertEqual(a.read(), [dst, b"two", b"2"])
            b.call("DEL", dst, src)

    def test_crossslot(self):
        if not self.ember:
            self.skipTest("CROSSSLOT is ember's (Redis Cluster's) restriction")
        k0, k1 = key_on(0, "x"), key_on(1, "x")
        for cmd in (("BZPOPMIN", k0, k1, 0), ("BZPOPMAX", k1, k0, 0),
                    ("BZMPOP", 0, 2, k0, k1, "MIN"),
                    ("BZMPOP", "abc", 2, k0, k1, "MIN")):
            r = self.r.call(*cmd)
            self.assertIsInstance(r, Error)
            self.assertTrue(r.text.startswith("CROSSSLOT"), (cmd, r))
        # an argument error that hides the keys is replied as such
        r = self.r.call("BZMPOP", 0, 0, k0, k1, "MIN")
        self.assertIsInstance(r, Error)
        self.assertIn("numkeys", r.text)
        self.wait_blocked(0)

    def test_multi_key_commands_across_shards(self):
        a0, a1 = key_on(0, "a"), key_on(1, "a")
        s1 = key_on(1, "set")
        d0, d1 = key_on(0, "dst"), key_on(1, "dst")
        r = self.r
        r.call("ZADD", a0, 1, "x", 2, "y", 3, "z")
        r.call("ZADD", a1, 10, "y", 20, "z", 30, "w")
        r.call("SADD", s1, "z", "q")
        self.assertEqual(r.call("ZUNION", 3, a0, a1, s1, "WITHSCORES"),
                         [b"q", b"1", b"x", b"1", b"y", b"12", b"z", b"24", b"w", b"30"])
        self.assertEqual(r.call("ZINTER", 2, a0, a1, "WEIGHTS", 2, 0.5,
                                "AGGREGATE", "MAX", "WITHSCORES"),
                         [b"y", b"5", b"z", b"10"])
        self.assertEqual(r.call("ZDIFF", 2, a0, a1, "WITHSCORES"), [b"x", b"1"])
        self.assertEqual(r.call("ZINTERCARD", 3, a0, a1, s1), 1)
        self.assertEqual(r.call("ZINTERCARD", 2, a0, a1, "LIMIT", 1), 1)
        # stores: the cardinality, then a pipelined read sees the result
        self.assertEqual(r.pipeline([("ZUNIONSTORE", d1, 2, a0, a1), ("ZRANGE", d1, 0, -1)]),
                         [4, [b"x", b"y", b"z", b"w"]])
        self.assertEqual(r.call("ZINTERSTORE", d0, 2, a0, s1), 1)
        self.assertEqual(r.call("ZRANGE", d0, 0, -1, "WITHSCORES"), [b"z", b"4"])
        self.assertEqual(r.call("ZDIFFSTORE", d0, 2, a1, a0), 1)
        self.assertEqual(r.call("ZRANGE", d0, 0, -1, "WITHSCORES"), [b"w", b"30"])
        # an empty result deletes the destination, of any type
        r.call("SET", d1, "str")
        self.assertEqual(r.call("ZINTERSTORE", d1, 2, a0, key_on(0, "none")), 0)
        self.assertEqual(r.call("EXISTS", d1), 0)
        # scores travel exactly
        r.call("ZADD", a1, "0.1", "tenth", "-inf", "low", "1e300", "big")
        self.assertEqual(r.call("ZRANGESTORE", d0, a1, 0, 2), 3)
        self.assertEqual(r.call("ZRANGE", d0, 0, -1, "WITHSCORES"),
                         [b"low", b"-inf", b"tenth", b"0.10000000000000001", b"y", b"10"])
        self.assertEqual(r.call("ZRANGESTORE", d0, a1, "+inf", "(10", "BYSCORE",
                                "REV", "LIMIT", 0, 2), 2)
        self.assertEqual(r.call("ZRANGE", d0, 0, -1), [b"w", b"big"])
        # errors: the type of a key first, then the options
        r.call("SET", a1, "str")
        for cmd in (("ZUNION", 2, a0, a1), ("ZUNION", 2, a0, a1, "WEIGHTS", "x", 1),
                    ("ZUNIONSTORE", d0, 2, a0, a1), ("ZRANGESTORE", d1, a1, 0, -1)):
            e = r.call(*cmd)
            self.assertIsInstance(e, Error)
            self.assertTrue(e.text.startswith("WRONGTYPE"), (cmd, e))
        e = r.call("ZUNION", 2, a0, key_on(1, "none"), "WEIGHTS", "x", 1)
        self.assertEqual(e.text, "ERR weight value is not a float")
        # ZMPOP asks the owners in key order
        k1 = key_on(1, "zm")
        r.call("ZADD", k1, 5, "five")
        self.assertEqual(r.call("ZMPOP", 3, key_on(0, "none"), k1, a0, "MAX", "COUNT", 9),
                         [k1, [[b"five", b"5"]]])
        self.assertIsNone(r.call("ZMPOP", 2, key_on(0, "none"), key_on(1, "none"), "MIN"))


if __name__ == "__main__":
    unittest.main()
