"""Blocking list commands across workers (BLPOP BRPOP BLMPOP BLMOVE
BRPOPLPUSH), against ember with two workers.

A blocked command waits at its keys' owner, whichever worker its client is
connected to; pushes from any worker serve it.  Each test picks its
connections by the worker that serves them (INFO server's ember_worker_id:
connections are opened until they land where wanted) and its keys by the
shard that owns them (CRC16 slot, as the server computes it), so that every
combination is covered:

  * a waiter on worker A served by a push from a client on worker B, the
    key owned by A or by B;
  * timeouts, a client that disconnects while blocked (its waiter goes,
    the next push stays in the list), first-blocked-first-served across
    workers, the push's own reply and a pipelined read after it in Redis's
    order (the waiter pops before the pusher's next command);
  * BLMOVE/BRPOPLPUSH with source and destination on different shards,
    including many BRPOPLPUSH waiters on one queue, each element delivered
    exactly once (the source is reserved while a move is in flight);
  * INFO blocked_clients, summed over workers.

Against redis-server (EMBER_TARGET=redis) the same tests run on one
process: worker placement is then moot and every connection is accepted.
"""

import functools
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Error  # noqa: E402

WORKERS = 2

key_shard = functools.partial(h.key_shard, workers=WORKERS)
key_on = functools.partial(h.key_on, workers=WORKERS)
wait_until = h.wait_until


class BlockingListsTest(h.ShardedTestCase):
    server_workers = WORKERS

    # -- tests
    def test_push_from_other_worker_serves_waiter(self):
        for owner in range(WORKERS):
            for waiter_w in range(WORKERS):
                k = key_on(owner, "q%d%d" % (owner, waiter_w))
                a = self.conn(waiter_w)
                b = self.conn(1 - waiter_w)
                a.send("BLPOP", k, 0)
                self.wait_blocked(1)
                self.assertEqual(b.call("LPUSH", k, "v1"), 1)
                self.assertEqual(a.read(), [k, b"v1"])
                self.assertEqual(b.call("LLEN", k), 0)
                self.assertEqual(b.call("EXISTS", k), 0)
                self.wait_blocked(0)
                # BRPOP and BLMPOP the same way
                a.send("BRPOP", k, 0)
                self.wait_blocked(1)
                self.assertEqual(b.call("RPUSH", k, "x", "y"), 2)
                self.assertEqual(a.read(), [k, b"y"])
                a.send("BLMPOP", 0, 1, k, "LEFT", "COUNT", 5)
                self.assertEqual(a.read(), [k, [b"x"]])
                a.send("BLMPOP", 0, 1, k, "RIGHT", "COUNT", 5)
                self.wait_blocked(1)
                b.call("RPUSH", k, "1", "2", "3")
                self.assertEqual(a.read(), [k, [b"3", b"2", b"1"]])
                self.wait_blocked(0)

    def test_waiter_pops_before_the_pushers_next_command(self):
        # Redis serves blocked clients right after each command: a pipelined
        # LPUSH; LPOP from another client finds the list already popped.
        for owner in range(WORKERS):
            k = key_on(owner, "order")
            a = self.conn(0)
            b = self.conn(1)
            a.send("BLPOP", k, 0)
            self.wait_blocked(1)
            self.assertEqual(b.pipeline([("LPUSH", k, "a"), ("LPOP", k),
                                         ("LLEN", k)]), [1, None, 0])
            self.assertEqual(a.read(), [k, b"a"])

    def test_fifo_across_workers(self):
        for owner in range(WORKERS):
            k = key_on(owner, "fifo")
            waiters = []
            for i in range(4):
                c = self.conn(i % WORKERS)
                c.send("BLPOP", k, 0)
                self.wait_blocked(i + 1)
                waiters.append(c)
            pusher = self.conn(1)
            # one push serves the first three, in the order they blocked
            self.assertEqual(pusher.call("RPUSH", k, "a", "b", "c"), 3)
            for c, v in zip(waiters, [b"a", b"b", b"c"]):
                self.assertEqual(c.read(), [k, v])
            self.assert_still_blocked(waiters[3])
            self.assertEqual(pusher.call("LPUSH", k, "d"), 1)
            self.assertEqual(waiters[3].read(), [k, b"d"])
            self.wait_blocked(0)

    def test_timeouts(self):
        for owner in range(WORKERS):
            k = key_on(owner, "tmo")
            d = key_on(1 - owner, "tmodst")
            for resp in (2, 3):
                a = self.conn(1 - owner, resp=resp)
                for cmd in (("BLPOP", k, "0.2"), ("BRPOP", k, "0.2"),
                            ("BLMPOP", "0.2", 1, k, "LEFT"),
                            ("BLMOVE", k, d, "LEFT", "RIGHT", "0.2"),
                            ("BRPOPLPUSH", k, d, "0.2")):
                    t0 = time.monotonic()
                    node = a.call_node(*cmd)
                    took = time.monotonic() - t0
                    # Redis 7.0: every list blocking timeout is a null array
                    self.assertEqual(node.raw, b"*-1\r\n" if resp == 2 else b"_\r\n",
                                     cmd)
                    self.assertGreaterEqual(took, 0.15, cmd)
                    self.assertLess(took, 3.0, cmd)
                # a tiny timeout is 1 ms, not forever
                self.assertIsNone(a.call("BLPOP", k, "0.0001"))
            self.wait_blocked(0)

    def test_bad_timeouts(self):
        k = key_on(0, "badtmo")
        for t, msg in (("-1", "timeout is negative"), ("abc", "timeout is not a float"),
                       ("inf", "timeout is negative"), ("1e30", "timeout is negative")):
            r = self.r.call("BLPOP", k, t)
            self.assertIsInstance(r, Error)
            self.assertIn(msg, r.text)

    def test_disconnect_while_blocked(self):
        for owner in range(WORKERS):
            for waiter_w in range(WORKERS):
                k = key_on(owner, "gone%d" % waiter_w)
                a = self.conn(waiter_w)
                a.send("BLPOP", k, 0)
                self.wait_blocked(1)
                a.close()
                self.wait_blocked(0)
                b = self.conn(1 - waiter_w)
                self.assertEqual(b.call("RPUSH", k, "kept"), 1)
                time.sleep(0.05)
                self.assertEqual(b.call("LRANGE", k, 0, -1), [b"kept"])
                b.call("DEL", k)
                # the same for a BLMOVE whose source is elsewhere
                d = key_on(1 - owner, "gonedst%d" % waiter_w)
                a = self.conn(waiter_w)
                a.send("BLMOVE", k, d, "LEFT", "RIGHT", 0)
                self.wait_blocked(1)
                a.close()
                self.wait_blocked(0)
                self.assertEqual(b.call("RPUSH", k, "kept"), 1)
                time.sleep(0.05)
                self.assertEqual(b.call("LRANGE", k, 0, -1), [b"kept"])
                self.assertEqual(b.call("EXISTS", d), 0)
                b.call("DEL", k)

    def test_info_blocked_clients(self):
        self.assertEqual(self.blocked(), 0)
        conns = []
        for i in range(4):
            k = key_on(i % WORKERS, "info%d" % i)
            c = self.conn(i % WORKERS)
            c.send("BLPOP", k, 0)
            conns.append((c, k))
            self.wait_blocked(i + 1)
        pusher = self.conn(0)
        for i, (c, k) in enumerate(conns):
            pusher.call("RPUSH", k, "v")
            self.assertEqual(c.read(), [k, b"v"])
            self.wait_blocked(3 - i)

    def test_blmove_across_shards(self):
        for src_owner in range(WORKERS):
            for waiter_w in range(WORKERS):
                s = key_on(src_owner, "src%d" % waiter_w)
                d = key_on(1 - src_owner, "dst%d" % waiter_w)
                a = self.conn(waiter_w)
                b = self.conn(1 - waiter_w)
                # data already there: moves at once
                b.call("RPUSH", s, "1", "2", "3")
                self.assertEqual(a.call("BLMOVE", s, d, "RIGHT", "LEFT", 0), b"3")
                self.assertEqual(a.call("BRPOPLPUSH", s, d, 0), b"2")
                self.assertEqual(a.call("LMOVE", s, d, "LEFT", "RIGHT"), b"1")
                self.assertEqual(b.call("LRANGE", d, 0, -1), [b"2", b"3", b"1"])
                self.assertEqual(b.call("EXISTS", s), 0)
                # blocked, then served; a BLPOP waiter behind it waits its turn
                a.send("BLMOVE", s, d, "LEFT", "LEFT", 0)
                self.wait_blocked(1)
                c = self.conn(src_owner)
                c.send("BLPOP", s, 0)
                self.wait_blocked(2)
                self.assertEqual(b.call("RPUSH", s, "x"), 1)
                self.assertEqual(a.read(), b"x")
                self.assert_still_blocked(c)
                self.assertEqual(b.call("LRANGE", d, 0, 1), [b"x", b"2"])
                self.assertEqual(b.call("RPUSH", s, "y"), 1)
                self.assertEqual(c.read(), [s, b"y"])
                self.wait_blocked(0)
                self.assertEqual(b.call("EXISTS", s), 0)
                # a destination of another type: WRONGTYPE, nothing popped
                b.call("DEL", d)
                b.call("SET", d, "string")
                a.send("BRPOPLPUSH", s, d, 0)
                self.wait_blocked(1)
                b.call("RPUSH", s, "z")
                r = a.read()
                self.assertIsInstance(r, Error)
                self.assertTrue(r.text.startswith("WRONGTYPE"), r)
                self.assertEqual(b.call("LRANGE", s, 0, -1), [b"z"])
                self.assertEqual(b.call("GET", d), b"string")
                b.call("DEL", s, d)

    def test_brpoplpush_queue_exactly_once(self):
        # The reliable-queue pattern: consumers on both workers block on one
        # queue, each moving into a processing list on the other shard.
        q = key_on(0, "queue")
        consumers = []
        for i in range(6):
            dst = key_on(1, "processing%d" % i)
            consumers.append((self.conn(i % WORKERS), dst))
        total = 300
        producer = self.conn(1)
        got = []
        for c, dst in consumers:
            c.send("BRPOPLPUSH", q, dst, 0)
        self.wait_blocked(len(consumers))
        sent = 0
        while len(got) < total:
            if sent < total:
                n = min(7, total - sent)
                producer.call("LPUSH", q, *[b"job%d" % (sent + j) for j in range(n)])
                sent += n
            for c, dst in consumers:
                c.settimeout(0.05)
                try:
                    v = c.read()
                except socket.timeout:
                    continue
                finally:
                    c.settimeout(10)
                got.append(v)
                if len(got) < total:
                    c.send("BRPOPLPUSH", q, dst, 0)
        self.assertEqual(sorted(got), sorted(b"job%d" % i for i in range(total)))
        moved = []
        for _, dst in consumers:
            moved += producer.call("LRANGE", dst, 0, -1)
        self.assertEqual(sorted(moved), sorted(got))
        self.assertEqual(producer.call("EXISTS", q), 0)
        for c, _ in consumers:
            c.close()
        self.wait_blocked(0)

    def test_blmove_same_list_and_chains(self):
        for owner in range(WORKERS):
            k = key_on(owner, "self")
            a = self.conn(1 - owner)
            a.send("BLMOVE", k, k, "RIGHT", "LEFT", 0)
            self.wait_blocked(1)
            b = self.conn(owner)
            self.assertEqual(b.call("RPUSH", k, "a", "b", "c"), 3)
            self.assertEqual(a.read(), b"c")
            self.assertEqual(b.call("LRANGE", k, 0, -1), [b"c", b"a", b"b"])
            b.call("DEL", k)
            # a chain: k1 -> k2 (other shard) -> BLPOP on k2
            k1 = key_on(owner, "chain1")
            k2 = key_on(1 - owner, "chain2")
            c1 = self.conn(0)
            c2 = self.conn(1)
            c1.send("BRPOPLPUSH", k1, k2, 0)
            self.wait_blocked(1)
            c2.send("BLPOP", k2, 0)
            self.wait_blocked(2)
            b.call("RPUSH", k1, "link")
            self.assertEqual(c1.read(), b"link")
            self.assertEqual(c2.read(), [k2, b"link"])
            self.assertEqual(b.call("EXISTS", k1, k2), 0)
            self.wait_blocked(0)

    def test_wrong_type_keeps_waiting(self):
        k = key_on(1, "typed")
        a = self.conn(0)
        a.send("BLPOP", k, 0)
        self.wait_blocked(1)
        b = self.conn(1)
        b.call("SET", k, "x")
        self.assert_still_blocked(a)
        b.call("DEL", k)
        b.call("RPUSH", k, "ok")
        self.assertEqual(a.read(), [k, b"ok"])

    def test_crossslot(self):
        if not self.ember:
            self.skipTest("CROSSSLOT is ember's (Redis Cluster's) restriction")
        k0, k1 = key_on(0, "x"), key_on(1, "x")
        for cmd in (("BLPOP", k0, k1, 0), ("BRPOP", k0, k1, 0),
                    ("BLMPOP", 0, 2, k0, k1, "LEFT")):
            r = self.r.call(*cmd)
            self.assertIsInstance(r, Error)
            self.assertTrue(r.text.startswith("CROSSSLOT"), r)
        # keys with one hash tag share a shard: fine
        self.r.call("RPUSH", "{tag}b", "v")
        self.assertEqual(self.r.call("BLPOP", "{tag}a", "{tag}b", 0), [b"{tag}b", b"v"])
        # LMPOP across shards asks each owner in key order
        self.r.call("RPUSH", k1, "one", "two")
        self.assertEqual(self.r.call("LMPOP", 2, k0, k1, "RIGHT", "COUNT", 5),
                         [k1, [b"two", b"one"]])


if __name__ == "__main__":
    unittest.main()
