"""CONFIG SET and the shared settings page.

CONFIG SET in one worker publishes the settings it changed to a page every
worker shares; the others take them in before the +OK, and a worker that
is restarted starts from the page.  What is checked, with 1 and 2 workers:

  * regression: a worker SIGKILLed after CONFIG SET comes back with the new
    values (it used to start from the values ember was started with):
    CONFIG GET through a connection that the new worker serves, and the
    effect of a compact-encoding limit on that worker's shard;
  * two clients on two workers that keep setting two different settings at
    the same time both keep their last value, on both workers and on a
    worker restarted afterwards (a worker publishes only what it changed:
    publishing every value it holds would undo the other's change);
  * the +OK means "in force on every worker": CONFIG SET maxmemory on one
    worker, and a write on the other is refused at once;
  * proto-max-bulk-len applies to clients already connected, on every
    worker.
"""

import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Simple  # noqa: E402

OK = Simple(b"OK")

NEW = {                              # setting: (value to set, CONFIG GET value)
    "hz": ("37", b"37"),
    "maxmemory": ("100mb", b"104857600"),
    "hash-max-listpack-value": ("1kb", b"1024"),
    "list-compress-depth": ("3", b"3"),
    "timeout": ("123", b"123"),
    "loglevel": ("verbose", b"verbose"),
    "proto-max-bulk-len": ("2mb", b"2097152"),
}


def worker_of(c):
    """(ember_worker_id, ember_worker_pid) of the worker serving client c."""
    info = bytes(c.execute("INFO", "server")).decode()
    wid = int(re.search(r"ember_worker_id:(\d+)", info).group(1))
    pid = int(re.search(r"ember_worker_pid:(\d+)", info).group(1))
    return wid, pid


class ConfigRestartTest(unittest.TestCase):

    def setUp(self):
        if h.target_kind() != "ember":
            self.skipTest("restarts ember's workers (EMBER_TARGET=ember only)")

    def start(self, workers):
        s = h.EmberServer(workers=workers)
        s.start()
        self.addCleanup(s.stop)
        return s

    def client_on(self, s, wid, tries=400):
        """A connection served by worker wid (the kernel spreads new
        connections over the workers' SO_REUSEPORT listeners)."""
        for _ in range(tries):
            c = s.client()
            if worker_of(c)[0] == wid:
                self.addCleanup(c.close)
                return c
            c.close()
        self.fail("no connection landed on worker %d in %d tries" % (wid, tries))

    def restart_worker(self, s, victim, timeout=15):
        """SIGKILL worker `victim`; returns a connection its successor
        serves.  The successor is recognised by INFO (its pid) rather than
        by polling `emberctl status`: the supervisor forks the successor
        with every control connection it has open, and emberctl reads
        until EOF, so a status request accepted just before the fork can
        hang for as long as the worker lives."""
        old = s.worker_pids()[victim]
        os.kill(old, 9)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assertIsNone(s.proc.poll(), s.log_tail())
            try:
                c = s.client()
            except OSError:
                time.sleep(0.02)
                continue
            try:
                wid, pid = worker_of(c)
            except (h.HarnessError, OSError):
                c.close()
                continue
            if wid == victim and pid != old:
                self.addCleanup(c.close)
                return c
            c.close()
        self.fail("worker %d was not replaced within %ds\n%s" %
                  (victim, timeout, s.log_tail()))

    def check_settings(self, c):
        for name, (_, want) in NEW.items():
            self.assertEqual(c.execute("CONFIG", "GET", name),
                             [name.encode(), want], name)

    def check_restart_keeps_settings(self, workers):
        s = self.start(workers)
        c = s.client()
        args = []
        for name, (value, _) in NEW.items():
            args += [name, value]
        self.assertEqual(c.call("CONFIG", "SET", *args), OK)
        c.close()
        for victim in range(workers):
            c = self.restart_worker(s, victim)
            self.check_settings(c)
            # The limit is in force on the new worker's shard: a hash with
            # a 100-byte value stays compact under 1kb (64 by default);
            # about half of the keys are the new worker's with 2 workers.
            hashes = ["h%d:%d" % (victim, i) for i in range(64)]
            for k in hashes:
                c.execute("HSET", k, "f", "v" * 100)
            encs = set()
            for k in hashes:
                line = bytes(c.execute("DEBUG", "OBJECT", k)).decode()
                encs.add(re.search(r"encoding:(\S+)", line).group(1))
            self.assertEqual(encs, {"listpack"})
            c.close()
        self.assertIn("attached arena", s.log_text())

    def test_restarted_worker_keeps_config_set_1_worker(self):
        self.check_restart_keeps_settings(1)

    def test_restarted_worker_keeps_config_set_2_workers(self):
        self.check_restart_keeps_settings(2)

    def test_concurrent_config_set_of_two_settings(self):
        s = self.start(2)
        c0, c1 = self.client_on(s, 0), self.client_on(s, 1)
        rounds = 300
        errors = []

        def setter(c, name):
            try:
                for i in range(rounds):
                    r = c.call("CONFIG", "SET", name, str(1000 + i))
                    if r != OK:
                        errors.append((name, r))
            except Exception as e:  # reported below
                errors.append((name, e))

        t0 = threading.Thread(target=setter, args=(c0, "timeout"))
        t1 = threading.Thread(target=setter, args=(c1, "tcp-keepalive"))
        t0.start()
        t1.start()
        t0.join(120)
        t1.join(120)
        self.assertEqual(errors, [])
        last = str(1000 + rounds - 1).encode()
        for c in (c0, c1):
            self.assertEqual(c.execute("CONFIG", "GET", "timeout")[1], last)
            self.assertEqual(c.execute("CONFIG", "GET", "tcp-keepalive")[1], last)
        for victim in (0, 1):
            c = self.restart_worker(s, victim)
            self.assertEqual(c.execute("CONFIG", "GET", "timeout")[1], last)
            self.assertEqual(c.execute("CONFIG", "GET", "tcp-keepalive")[1], last)

    def test_ok_means_in_force_everywhere(self):
        s = self.start(2)
        c0, c1 = self.client_on(s, 0), self.client_on(s, 1)
        for setter, other in ((c0, c1), (c1, c0)):
            self.assertEqual(setter.call("CONFIG", "SET", "maxmemory", "1"), OK)
            # keys of both shards, written through the other worker
            for i in range(8):
                r = other.call("SET", "k%d" % i, "v")
                self.assertIsInstance(r, h.Error)
                self.assertTrue(r.text.startswith("OOM "), r.text)
            self.assertEqual(setter.call("CONFIG", "SET", "maxmemory", "0"), OK)
            for i in range(8):
                self.assertEqual(other.call("SET", "k%d" % i, "v"), OK)

    def test_proto_max_bulk_len_reaches_connected_clients(self):
        for workers in (1, 2):
            with self.subTest(workers=workers):
                s = self.start(workers)
                clients = [self.client_on(s, w) for w in range(workers)]
                setter = s.client()
                self.addCleanup(setter.close)
                self.assertEqual(setter.call("CONFIG", "SET", "proto-max-bulk-len",
                                             "1mb"), OK)
                for c in clients:
                    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
                    data = c.read_raw_until_closed(5)
                    self.assertEqual(data, b"-ERR Protocol error: invalid bulk "
                                           b"length\r\n")


if __name__ == "__main__":
    unittest.main()
