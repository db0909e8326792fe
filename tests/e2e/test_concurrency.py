"""Many clients at once, and the limits on clients.

  * 1000 connections open at the same time against 2 workers, every one
    pipelining work on its own keys, a shared counter and its neighbours'
    keys (mostly on the other shard); every reply is checked, and the
    shared counter's replies must be exactly 1..N (no lost or doubled
    increment).  The test raises its own RLIMIT_NOFILE (the server
    inherits it).
  * maxclients (--maxclients and CONFIG SET): the N+1th connection reads
    "-ERR max number of clients reached" and is closed; the limit holds
    across workers.
  * idle timeout (--timeout 1): idle clients are closed on every worker,
    busy ones are not; CONFIG SET timeout 0 turns it off.
"""

import os
import resource
import selectors
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Simple  # noqa: E402

OK = Simple(b"OK")
MAXCLIENTS_ERR = b"-ERR max number of clients reached\r\n"


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        except (ValueError, OSError):
            want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Conn(object):
    """A non-blocking connection for the selector loop."""

    def __init__(self, i, host, port):
        self.i = i
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setblocking(False)
        self.reader = h.Reader()
        self.out = b""
        self.expected = []     # reply checkers, in order
        self.replies = []
        self.closed = False

    def queue(self, args, check):
        self.out += h.encode_command(*args)
        self.expected.append((args, check))


def run_all(conns, timeout=120):
    """Write every connection's queued commands and read all the replies,
    interleaved, in one selector loop; returns the connections that failed
    as (conn, reason)."""
    sel = selectors.DefaultSelector()
    pending = 0
    for c in conns:
        c.replies = []
        sel.register(c.sock, selectors.EVENT_READ |
                     (selectors.EVENT_WRITE if c.out else 0), c)
        pending += 1
    failed = []
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            for key in list(sel.get_map().values()):
                c = key.data
                failed.append((c, "timeout with %d of %d replies" %
                               (len(c.replies), len(c.expected))))
            break
        for key, ev in sel.select(1.0):
            c = key.data
            done = False
            if ev & selectors.EVENT_WRITE and c.out:
                try:
                    n = c.sock.send(c.out)
                    c.out = c.out[n:]
                except BlockingIOError:
                    pass
                except OSError as e:
                    failed.append((c, "send: %s" % e))
                    done = True
                if not c.out and not done:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ and not done:
                try:
                    data = c.sock.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError as e:
                    failed.append((c, "recv: %s" % e))
                    done = True
                    data = None
                if data == b"":
                    failed.append((c, "closed by the server after %d "
                                   "replies" % len(c.replies)))
                    done = True
                elif data:
                    c.reader.feed(data)
                    try:
                        while True:
                            node = c.reader.get()
                            if node is None:
                                break
                            c.replies.append(node.py())
                    except h.ProtocolError as e:
                        failed.append((c, "protocol: %s" % e))
                        done = True
                    if len(c.replies) >= len(c.expected):
                        done = True
            if done:
                sel.unregister(c.sock)
                pending -= 1
    sel.close()
    for c in conns:
        if any(f[0] is c for f in failed):
            continue
        if len(c.replies) != len(c.expected):
            failed.append((c, "%d replies for %d commands" %
                           (len(c.replies), len(c.expected))))
            continue
        for (args, check), rep in zip(c.expected, c.replies):
            if not check(rep):
                failed.append((c, "%r -> %r" % (args[:4], rep)))
                break
    for c in conns:
        c.expected = []
    return failed


def connected_clients(client):
    """connected_clients from INFO clients."""
    info = client.call("INFO", "clients")
    if isinstance(info, h.Error):
        raise h.ReplyError(info)
    line = [l for l in info.split(b"\r\n")
            if l.startswith(b"connected_clients:")]
    if len(line) != 1:
        raise AssertionError("no connected_clients in %r" % info)
    return int(line[0].split(b":")[1])


def eq(v):
    return lambda r: type(r) is type(v) and r == v


class ManyClientsTest(h.ServerTestCase):
    server_workers = 2
    N = 1000

    @classmethod
    def setUpClass(cls):
        raise_nofile(cls.N * 2 + 200)
        super().setUpClass()

    def test_1000_concurrent_connections(self):
        n = self.N
        conns = []
        try:
            for i in range(n):
                conns.append(Conn(i, self.server.host, self.server.port))
            counter_replies = []

            def counter(r):
                counter_replies.append(r)
                return type(r) is int

            # round 1: own keys, the shared counter, a name, a database
            for c in conns:
                i = c.i
                c.queue(("PING",), eq(Simple(b"PONG")))
                c.queue(("CLIENT", "SETNAME", "conn-%d" % i), eq(OK))
                c.queue(("SET", "own:%d" % i, "v%d" % i), eq(OK))
                c.queue(("INCR", "shared"), counter)
                c.queue(("MSET", "m:%d:a" % i, i, "{t%d}:b" % (i % 50), i),
                        eq(OK))
                c.queue(("GET", "own:%d" % i), eq(b"v%d" % i))
                c.queue(("APPEND", "own:%d" % i, "+"), eq(len("v%d+" % i)))
                c.queue(("INCRBY", "per:%d" % i, i), eq(i))
                c.queue(("CLIENT", "GETNAME"), eq(b"conn-%d" % i))
                c.queue(("SELECT", 1 + i % 3), eq(OK))
                c.queue(("SET", "db:%d" % i, i), eq(OK))
                c.queue(("SELECT", 0), eq(OK))
            failed = run_all(conns)
            self.assertEqual(["conn %d: %s" % (c.i, why)
                              for c, why in failed[:5]], [],
                             "%d connections failed" % len(failed))
            self.assertEqual(sorted(counter_replies), list(range(1, n + 1)))
            # all connected at once: the server counts them all
            self.assertGreaterEqual(connected_clients(self.r), n + 1)
            # round 2: read a neighbour's key (often on the other shard)
            # and everything in one MGET; the counter goes on
            counter_replies.clear()
            for c in conns:
                j = (c.i + 1) % n
                c.queue(("GET", "own:%d" % j), eq(b"v%d+" % j))
                c.queue(("MGET", "own:%d" % c.i, "own:%d" % j, "nokey",
                         "m:%d:a" % j),
                        eq([b"v%d+" % c.i, b"v%d+" % j, None, b"%d" % j]))
                c.queue(("INCR", "shared"), counter)
                c.queue(("EXISTS", "own:%d" % c.i, "m:%d:a" % j), eq(2))
                c.queue(("DEL", "per:%d" % c.i), eq(1))
            failed = run_all(conns)
            self.assertEqual(["conn %d: %s" % (c.i, why)
                              for c, why in failed[:5]], [],
                             "%d connections failed" % len(failed))
            self.assertEqual(sorted(counter_replies),
                             list(range(n + 1, 2 * n + 1)))
        finally:
            for c in conns:
                c.sock.close()
        self.assertEqual(self.r.call("EXISTS", *["per:%d" % i
                                                 for i in range(n)]), 0)
        self.assertEqual(self.r.call("GET", "shared"), b"%d" % (2 * n))
        # own:*, m:*:a, {t*}:b, shared (per:* were deleted)
        self.assertEqual(self.r.call("DBSIZE"), 2 * n + 50 + 1)
        self.r.execute("SELECT", 2)
        self.assertEqual(self.r.call("DBSIZE"), len(range(1, n, 3)))
        self.r.execute("SELECT", 0)
        # and they are all gone again
        self.assertTrue(h.wait_until(lambda: connected_clients(self.r) == 1,
                                     10, 0.05), self.r.call("INFO", "clients"))


class MaxClientsTest(h.ServerTestCase):
    server_workers = 2
    server_args = ("--maxclients", "10")

    def open(self):
        c = self.server.client()
        self.addCleanup(c.close)
        return c

    def expect_refused(self):
        c = self.open()
        data = c.read_raw_until_closed(timeout=5)
        self.assertEqual(data, MAXCLIENTS_ERR)

    def test_maxclients(self):
        # self.r (from setUp) is the first of the 10; the connections the
        # harness made to see the server ready may take a moment to go
        self.assertTrue(h.wait_until(lambda: connected_clients(self.r) == 1,
                                     5, 0.05), connected_clients(self.r))
        conns = [self.r]
        for _ in range(9):
            c = self.open()
            self.assertEqual(c.call("PING"), Simple(b"PONG"))
            conns.append(c)
        for _ in range(3):
            self.expect_refused()
        # the ten are fine
        for i, c in enumerate(conns):
            self.assertEqual(c.call("SET", "k%d" % i, i), OK)
        # one leaves, one more may come in (once the server noticed)
        conns.pop().close()

        def one_more():
            c = self.server.client()
            c.send(b"PING")
            try:
                r = c.read()
            except (h.ConnectionClosed, ConnectionResetError):
                r = None
            if r == Simple(b"PONG"):
                return c
            c.close()
            return None
        c = h.wait_until(one_more, 5, 0.1)
        self.assertTrue(c, "no room after a client left")
        self.addCleanup(c.close)
        conns.append(c)
        self.expect_refused()
        # CONFIG SET raises the limit live...
        self.assertEqual(self.r.call("CONFIG", "SET", "maxclients", "12"),
                         OK)
        more = [self.open(), self.open()]
        for m in more:
            self.assertEqual(m.call("PING"), Simple(b"PONG"))
        self.expect_refused()
        # ...and lowering it under the count keeps who is there
        self.assertEqual(self.r.call("CONFIG", "SET", "maxclients", "5"), OK)
        for c in conns + more:
            self.assertEqual(c.call("PING"), Simple(b"PONG"))
        self.expect_refused()
        self.assertEqual(self.r.call("CONFIG", "GET", "maxclients"),
                         [b"maxclients", b"5"])
        self.assertEqual(self.r.call("CONFIG", "SET", "maxclients", "10"),
                         OK)
        info = self.r.call("INFO", "stats")
        line = [l for l in info.split(b"\r\n")
                if l.startswith(b"rejected_connections:")]
        self.assertEqual(len(line), 1, info)
        self.assertGreaterEqual(int(line[0].split(b":")[1]), 6)


class IdleTimeoutTest(h.ServerTestCase):
    server_workers = 2
    server_args = ("--timeout", "1")

    def test_idle_clients_are_closed(self):
        self.assertEqual(self.r.call("CONFIG", "GET", "timeout"),
                         [b"timeout", b"1"])
        idle = [self.client() for _ in range(6)]   # on both workers
        for c in idle[:3]:
            self.assertEqual(c.call("SET", "x", "1"), OK)
        busy = self.client()
        t0 = time.monotonic()
        closed_at = {}
        while len(closed_at) < len(idle) and time.monotonic() - t0 < 6:
            self.assertEqual(busy.call("PING"), Simple(b"PONG"))
            for i, c in enumerate(idle):
                if i not in closed_at and c.is_closed(timeout=0.05):
                    closed_at[i] = time.monotonic() - t0
            time.sleep(0.2)
        self.assertEqual(sorted(closed_at), list(range(len(idle))),
                         "idle clients still open after 6 s")
        # not before they had been idle for the timeout
        self.assertGreaterEqual(min(closed_at.values()), 0.9)
        self.assertEqual(busy.call("GET", "x"), b"1")

    def test_timeout_zero_turns_it_off(self):
        self.assertEqual(self.r.call("CONFIG", "SET", "timeout", "0"), OK)
        try:
            conns = [self.client() for _ in range(6)]   # on both workers
            for c in conns:
                self.assertEqual(c.call("PING"), Simple(b"PONG"))
            time.sleep(2.5)
            for c in conns:
                self.assertFalse(c.is_closed(timeout=0.05))
                self.assertEqual(c.call("PING"), Simple(b"PONG"))
        finally:
            self.r.call("CONFIG", "SET", "timeout", "1")


if __name__ == "__main__":
    unittest.main()
