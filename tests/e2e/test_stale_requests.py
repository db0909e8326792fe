"""A request sent to a worker that dies before running it must never run on
its successor: deterministic, where test_crash.py is statistical.

The case (CI caught it once as a lost acknowledged write):

  1. Worker B owns key k.  B is stopped (SIGSTOP).
  2. A client of worker A sends SET k <3 MiB>.  A forwards it to B: the
     first 1 MiB fills the A->B ring, the rest waits in A's backlog.
     A is stopped too.
  3. B is killed.  Its successor B' attaches the arena and serves; a
     client of B' sets k to "new" and gets +OK.
  4. A goes on: it sees B's restart and drops the first client, but
     keeps sending the message it had half in the ring, so that the ring
     stays well-formed.  B' gets the whole message.

B' must drop it: the request carries the generation of the owner it was
sent to, and that owner is dead.  Running it would overwrite an
acknowledged "new" with an unacknowledged value.  A GET of k from another
client of A goes behind that message on the same ring (it is first in,
first out), so its reply comes after B' has dealt with the message: it
must be "new".
"""

import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Simple  # noqa: E402

BIG = 3 << 20            # bytes: more than the 1 MiB ring between two workers


class StaleRequestTest(h.ServerTestCase):

    # Each test starts a server of its own (fresh_server), to kill in it.
    def setUp(self):
        if h.target_kind() != "ember":
            self.skipTest("kills ember's workers")

    @classmethod
    def setUpClass(cls):
        cls.server = None

    @classmethod
    def tearDownClass(cls):
        pass

    def conn_on(self, server, worker):
        """A connection served by `worker`: one that answers PING when
        every other worker is stopped."""
        for _ in range(200):
            c = server.client()
            c.settimeout(0.3)
            try:
                c.send("PING")
                if c.read() == Simple(b"PONG"):
                    c.settimeout(10)
                    self.addCleanup(c.close)
                    return c
            except socket.timeout:
                pass
            c.close()
        self.fail("no connection landed on worker %d" % worker)

    def worker_of(self, c):
        text = bytes(c.execute("INFO", "server")).decode()
        return int([line.split(":")[1] for line in text.splitlines()
                    if line.startswith("ember_worker_id:")][0])

    def test_request_for_a_dead_owner_is_dropped(self):
        s = self.fresh_server(kind="ember", workers=2)
        a, b = 0, 1
        k = h.key_on(b, "stale", 2)
        pids = s.worker_pids()

        def cont_all():
            for pid in s.worker_pids().values():
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        self.addCleanup(cont_all)

        # Connections on A, found while both workers run.
        on_a = []
        for _ in range(400):
            c = s.client()
            if self.worker_of(c) == a:
                self.addCleanup(c.close)
                on_a.append(c)
                if len(on_a) == 2:
                    break
            else:
                c.close()
        self.assertEqual(len(on_a), 2, "no two connections landed on worker %d" % a)
        writer, reader = on_a
        # The supervisor restarts at once only a worker that lived ~1 s.
        time.sleep(1.2)

        os.kill(pids[b], signal.SIGSTOP)
        writer.send_raw(h.encode_command(b"SET", k, b"x" * BIG))
        time.sleep(0.5)          # A reads it all and fills the ring
        os.kill(pids[a], signal.SIGSTOP)
        os.kill(pids[b], signal.SIGKILL)

        # B's successor serves on its own (A is stopped).
        self.assertTrue(h.wait_until(lambda: s.worker_pids().get(b) not in (None, pids[b]),
                                     timeout=10), "worker %d was not restarted" % b)
        c = self.conn_on(s, b)
        self.assertEqual(c.execute("SET", k, "new"), Simple(b"OK"))
        self.assertEqual(c.execute("STRLEN", k), 3)

        os.kill(pids[a], signal.SIGCONT)
        # The writer's connection is dropped: its SET was neither run nor
        # acknowledged.
        self.assertTrue(writer.is_closed(timeout=10), "the writer's connection stayed open")
        # Behind the rest of the message on the A->B ring.
        self.assertEqual(reader.execute("GET", k), b"new")
        self.assertEqual(c.execute("GET", k), b"new")
        self.assertIn("worker %d restarted" % b, s.log_text())


if __name__ == "__main__":
    unittest.main()
