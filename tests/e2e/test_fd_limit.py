"""The open files limit (RLIMIT_NOFILE) and maxclients.

Regression: nothing raised or checked RLIMIT_NOFILE.  Under Debian's soft
limit of 1024 with the default maxclients of 10000, a worker that ran out
of descriptors logged "accept: Too many open files" and returned while its
listener stayed readable: libevent called it again at once, for ever (a
core at 100 %, a log growing by gigabytes, clients hanging instead of
getting Redis's error).

What is checked, with emberd started under `prlimit --nofile=SOFT:HARD`:
  * a hard limit too low for maxclients: the supervisor logs that
    maxclients was reduced, CONFIG GET and INFO report the reduced value,
    CONFIG SET above it is refused with Redis's error; of 300 connections
    each sending PING the ones that fit get +PONG and the others
    `-ERR max number of clients reached`, while the worker's CPU time
    stays small; once they are gone, new clients are served again;
  * a soft limit under the hard one is raised (workers inherit it) and a
    maxclients that fits is left alone;
  * a limit that leaves no room for a single client stops emberd at start
    with a message and exit status 1;
  * descriptors that really run out (the worker's own limit lowered under
    it with prlimit(2)): no spin, at most about one log line a second; a
    worker with a spare descriptor refuses the extra clients with the
    maxclients error, one without leaves them waiting in the listen
    backlog and serves them once descriptors are back.
"""

import os
import re
import resource
import shutil
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

PONG = b"+PONG\r\n"
FULL = b"-ERR max number of clients reached\r\n"
CONNECTIONS = 300


class LimitedServer(h.EmberServer):
    """emberd run through prlimit(1) with the given RLIMIT_NOFILE (prlimit
    execs it: the pid stays the server's)."""

    def __init__(self, soft, hard, **kw):
        super().__init__(**kw)
        self.nofile = (soft, hard)

    def command_line(self):
        return ["prlimit", "--nofile=%d:%d" % self.nofile, "--"] + \
            super().command_line()


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nofile_soft(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no open files line in /proc/%d/limits" % pid)


def open_pinging(port, n):
    """n connections, each with a PING sent."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"PING\r\n")
        socks.append(s)
    return socks


def first_reply(s, timeout):
    """The first bytes the server sends on s, b"" at EOF, None when nothing
    comes within timeout."""
    s.settimeout(timeout)
    try:
        return s.recv(100)
    except socket.timeout:
        return None
    except ConnectionResetError:
        return b""


def first_replies(socks, timeout):
    """first_reply() of each socket, all within timeout seconds in total."""
    deadline = time.monotonic() + timeout
    return [first_reply(x, max(0.01, deadline - time.monotonic())) for x in socks]


def close_all(socks):
    for s in socks:
        s.close()


@unittest.skipUnless(h.target_kind() == "ember", "emberd's own start-up")
@unittest.skipUnless(shutil.which("prlimit"), "needs prlimit(1)")
class FdLimitTest(unittest.TestCase):

    def server(self, soft, hard, args=()):
        s = LimitedServer(soft, hard, workers=1, args=list(args))
        s.start()
        self.addCleanup(s.stop)
        return s

    def worker_pid(self, s):
        return s.worker_pids()[0]

    def test_low_hard_limit_reduces_maxclients(self):
        s = self.server(256, 256)
        m = re.search(r"maxclients 10000 needs \d+ open files in each worker, "
                      r"but the open files limit is 256 \(hard limit 256\): "
                      r"maxclients has been reduced to (\d+)", s.log_text())
        self.assertIsNotNone(m, s.log_tail())
        room = int(m.group(1))
        # Room for the worker's own descriptors, not absurdly much.
        self.assertTrue(200 <= room < 256 - 10, room)
        c = s.client()
        self.assertEqual(c.execute("CONFIG", "GET", "maxclients"),
                         [b"maxclients", str(room).encode()])
        self.assertIn(b"maxclients:%d\r\n" % room, c.execute("INFO", "clients"))
        with self.assertRaises(h.ReplyError) as e:
            c.execute("CONFIG", "SET", "maxclients", room + 1)
        self.assertEqual(
            e.exception.reply.text,
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The "
            "operating system is not able to handle the specified number of clients, "
            "try with %d" % room)
        # Beyond the table's range: the range error, as before.
        with self.assertRaises(h.ReplyError) as e:
            c.execute("CONFIG", "SET", "maxclients", 10 ** 9)
        self.assertIn("argument must be between", e.exception.reply.text)
        self.assertEqual(c.execute("CONFIG", "SET", "maxclients", room - 1), b"OK")
        self.assertEqual(c.execute("CONFIG", "SET", "maxclients", room), b"OK")
        c.close()
        h.wait_until(lambda: s.status()["workers"][0]["clients"] == 0)

        wpid = self.worker_pid(s)
        cpu0 = cpu_seconds(wpid)
        socks = open_pinging(s.port, CONNECTIONS)
        self.addCleanup(close_all, socks)
        replies = first_replies(socks, 10.0)
        served = replies.count(PONG)
        refused = replies.count(FULL)
        self.assertEqual(served + refused, CONNECTIONS,
                         set(r for r in replies if r not in (PONG, FULL)))
        self.assertEqual(served, room)
        # The refused ones are closed; the served ones stay connected.
        self.assertEqual(set(first_replies([x for x, r in zip(socks, replies) if r == FULL],
                                           5.0)), {b""})
        time.sleep(0.5)    # a spinning worker would burn this whole time
        self.assertLess(cpu_seconds(wpid) - cpu0, 0.4)
        self.assertNotIn("Too many open files", s.log_text())

        # The extra ones gone, the server still takes the clients that fit.
        close_all(socks)
        h.wait_until(lambda: s.status()["workers"][0]["clients"] == 0)
        socks = open_pinging(s.port, room)
        self.addCleanup(close_all, socks)
        self.assertEqual(first_replies(socks, 10.0), [PONG] * room)
        close_all(socks)
        h.wait_until(lambda: s.status()["workers"][0]["clients"] == 0)
        self.assertEqual(s.client().execute("PING"), b"PONG")

    def test_soft_limit_raised_toward_hard(self):
        s = self.server(256, 4096, args=["--maxclients", "1000"])
        log = s.log_text()
        self.assertIn("raised the open files limit from 256 to 4096", log)
        self.assertNotIn("has been reduced", log)
        self.assertEqual(nofile_soft(self.worker_pid(s)), 4096)
        c = s.client()
        self.addCleanup(c.close)
        self.assertEqual(c.execute("CONFIG", "GET", "maxclients"),
                         [b"maxclients", b"1000"])
        # More than 256 descriptors' worth now fits...
        self.assertEqual(c.execute("CONFIG", "SET", "maxclients", 3000), b"OK")
        # ...but not more than the hard limit allows.
        with self.assertRaises(h.ReplyError) as e:
            c.execute("CONFIG", "SET", "maxclients", 5000)
        room = int(re.search(r"try with (\d+)$", e.exception.reply.text).group(1))
        self.assertTrue(3000 <= room < 4096, room)

    def test_no_room_for_a_client_refuses_to_start(self):
        s = LimitedServer(16, 16, workers=1)
        self.addCleanup(s.stop, check=False)
        with self.assertRaises(h.ServerStartError) as e:
            s.start(retries=1)
        self.assertIn("exited with status 1", str(e.exception))
        self.assertIn("the open files limit of 16 is too low", str(e.exception))

    def starved_worker(self, s, spare):
        """Lowers the worker's soft limit under it: with spare=True just
        above what it holds (its spare descriptor, taken at its first
        accept, stays usable), else to 3, under every descriptor it has."""
        wpid = self.worker_pid(s)
        self.assertEqual(s.client().execute("PING"), b"PONG")    # first accept
        h.wait_until(lambda: s.status()["workers"][0]["clients"] == 0)
        soft, hard = resource.prlimit(wpid, resource.RLIMIT_NOFILE)
        held = len(os.listdir("/proc/%d/fd" % wpid))
        resource.prlimit(wpid, resource.RLIMIT_NOFILE,
                         (held + 2 if spare else 3, hard))
        self.addCleanup(self.restore_limit, wpid, soft, hard)
        return wpid, soft, hard

    def restore_limit(self, wpid, soft, hard):
        try:
            resource.prlimit(wpid, resource.RLIMIT_NOFILE, (soft, hard))
        except ProcessLookupError:
            pass

    def accept_errors(self, s):
        return len(re.findall(r"accept: Too many open files", s.log_text()))

    def test_out_of_descriptors_with_spare_refuses(self):
        s = self.server(4096, 4096)
        wpid, _, _ = self.starved_worker(s, spare=True)
        cpu0 = cpu_seconds(wpid)
        t0 = time.monotonic()
        socks = open_pinging(s.port, CONNECTIONS)
        self.addCleanup(close_all, socks)
        replies = first_replies(socks, 10.0)
        time.sleep(1.0)
        elapsed = time.monotonic() - t0
        self.assertEqual(replies.count(PONG) + replies.count(FULL), CONNECTIONS,
                         set(r for r in replies if r not in (PONG, FULL)))
        self.assertTrue(1 <= replies.count(PONG) <= 4, replies.count(PONG))
        self.assertLess(cpu_seconds(wpid) - cpu0, 0.5)
        # About one line a second, not one per failed accept.
        self.assertTrue(1 <= self.accept_errors(s) <= elapsed + 2,
                        self.accept_errors(s))
        close_all(socks)
        h.wait_until(lambda: s.status()["workers"][0]["clients"] == 0)
        self.assertEqual(s.client().execute("PING"), b"PONG")

    def test_out_of_descriptors_without_spare_waits(self):
        s = self.server(4096, 4096)
        wpid, soft, hard = self.starved_worker(s, spare=False)
        cpu0 = cpu_seconds(wpid)
        socks = open_pinging(s.port, 50)
        self.addCleanup(close_all, socks)
        time.sleep(2.0)
        self.assertEqual(first_replies(socks, 0.1), [None] * 50)
        self.assertLess(cpu_seconds(wpid) - cpu0, 0.5)
        self.assertTrue(1 <= self.accept_errors(s) <= 4, self.accept_errors(s))
        # Descriptors back: the waiting clients are served.
        resource.prlimit(wpid, resource.RLIMIT_NOFILE, (soft, hard))
        self.assertEqual(first_replies(socks, 10.0), [PONG] * 50)


if __name__ == "__main__":
    unittest.main()
