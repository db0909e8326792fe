"""The supervisor's restart policy (supervisor/emberd.c, worker_died()).

A worker that had been serving for a second or more is restarted at once.
One that dies younger is restarted after a back-off delay: 100 ms,
doubling up to 5 s; ten such deaths in a row stop ember with a log line
ending "giving up and stopping ember" and exit status 1.  The delays are
not configurable, so the give-up test sits through all of them (about
21 s).

The test SIGKILLs the worker as soon as the log says it is ready (its pid
is on that line) and measures each delay from the log's own timestamps:
from the supervisor's death line to its next "worker 0 started" line.
Times are checked loosely: the delays grow, each is at least about what
the policy says, none runs far past the 5 s cap.
"""

import datetime
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

# "1234:S 06 Dec 2026 07:04:58.301 * text"
LINE_RE = re.compile(r"^(\d+):(\w+) (\d+ \w+ \d+ \d+:\d+:\d+\.\d+) . (.*)$")
READY_RE = re.compile(r"worker 0 of \d+ ready: .* pid (\d+)$")
DEATH_RE = re.compile(r"worker 0 was killed by signal 9 after (\d+) ms; restarting it"
                      r"( after a back-off delay)?")
GIVE_UP = ("worker 0 was killed by signal 9; it died within 1000 ms of starting "
           "10 times in a row: giving up and stopping ember")
STARTED = "worker 0 started, pid "
BACKOFF_MS = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]


def log_lines(s):
    """[(seconds since the epoch, role, text)] of the server's log."""
    out = []
    for line in s.log_text().splitlines():
        m = LINE_RE.match(line)
        if m:
            t = datetime.datetime.strptime(m.group(3), "%d %b %Y %H:%M:%S.%f")
            out.append((t.timestamp(), m.group(2), m.group(4)))
    return out


def ready_pids(s):
    return [int(m.group(1)) for _, role, text in log_lines(s)
            if role == "W0" for m in [READY_RE.search(text)] if m]


def deaths_and_delays(s):
    """[(death line match, ms until the next start or None)], in order."""
    lines = log_lines(s)
    out = []
    for i, (t, role, text) in enumerate(lines):
        m = DEATH_RE.search(text) if role == "S" else None
        if not m:
            continue
        nxt = next((t2 for t2, r2, x2 in lines[i + 1:]
                    if r2 == "S" and x2.startswith(STARTED)), None)
        out.append((m, None if nxt is None else round((nxt - t) * 1000)))
    return out


@unittest.skipUnless(h.target_kind() == "ember", "emberd's supervisor")
class RestartBackoffTest(unittest.TestCase):

    def start(self):
        s = h.EmberServer(workers=1)
        s.start()
        self.addCleanup(s.stop, check=False)
        return s

    def kill_next_worker(self, s, killed, timeout=15.0):
        """Waits for a worker not killed yet to be ready, SIGKILLs it; its
        pid, or None when the supervisor exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = [p for p in ready_pids(s) if p not in killed]
            if fresh:
                os.kill(fresh[-1], signal.SIGKILL)
                killed.append(fresh[-1])
                return fresh[-1]
            if s.proc.poll() is not None:
                return None
            time.sleep(0.005)
        self.fail("no new worker within %.0f s\n%s" % (timeout, s.log_tail()))

    def test_young_deaths_back_off_then_give_up(self):
        s = self.start()
        c = s.client()
        c.execute("SET", "k", "v")
        c.close()
        killed = []
        # The first worker may have lived past a second while the harness
        # checked it: then its death restarts at once and does not count.
        while s.proc.poll() is None and len(killed) < 12:
            if self.kill_next_worker(s, killed) is None:
                break
        try:
            status = s.proc.wait(15)
        except Exception:
            self.fail("emberd still running after %d kills\n%s" %
                      (len(killed), s.log_tail()))
        self.assertEqual(status, 1, s.log_tail())
        log = s.log_text()
        self.assertIn(GIVE_UP, log)
        self.assertIn("ember stopped after an error", log)

        young = [(m, d) for m, d in deaths_and_delays(s) if m.group(2)]
        self.assertEqual(len(young), 9, s.log_tail(60))
        self.assertTrue(all(int(m.group(1)) < 1000 for m, _ in young))
        delays = [d for _, d in young]
        self.assertNotIn(None, delays)
        # Each at least about what the policy says (a timer never fires
        # early; the log's clock has millisecond steps)...
        for got, want in zip(delays, BACKOFF_MS):
            self.assertGreaterEqual(got, want * 0.9 - 5, delays)
        # ...growing while they double, then no longer than the cap.
        for i in range(6):
            self.assertGreater(delays[i + 1], delays[i], delays)
        self.assertTrue(all(d < 5000 * 1.5 + 500 for d in delays), delays)
        # No eleventh worker was started after the give-up.
        self.assertEqual(len(ready_pids(s)), len(killed), s.log_tail())

    def test_worker_that_served_restarts_at_once(self):
        s = self.start()
        c = s.client()
        c.execute("SET", "k", "v")
        c.close()
        killed = []
        time.sleep(1.2)
        self.kill_next_worker(s, killed)     # lived > 1 s: at once
        self.kill_next_worker(s, killed)     # young: 100 ms
        self.kill_next_worker(s, killed)     # young: 200 ms
        fresh = h.wait_until(lambda: [p for p in ready_pids(s) if p not in killed])
        self.assertTrue(fresh, s.log_tail())
        time.sleep(1.2)
        self.kill_next_worker(s, killed)     # lived > 1 s: at once, count reset
        self.kill_next_worker(s, killed)     # young again: 100 ms, not 400
        self.assertTrue(h.wait_until(
            lambda: [p for p in ready_pids(s) if p not in killed]), s.log_tail())

        deaths = deaths_and_delays(s)
        self.assertEqual(len(deaths), 5, s.log_tail(60))
        (m0, d0), (m1, d1), (m2, d2), (m3, d3), (m4, d4) = deaths
        for m, d in ((m0, d0), (m3, d3)):
            self.assertGreaterEqual(int(m.group(1)), 1000)
            self.assertIsNone(m.group(2))        # no back-off
            self.assertLess(d, 80, deaths)
        for m, d, want in ((m1, d1, 100), (m2, d2, 200), (m4, d4, 100)):
            self.assertLess(int(m.group(1)), 1000)
            self.assertIsNotNone(m.group(2))
            self.assertGreaterEqual(d, want * 0.9 - 5, deaths)
        self.assertLess(d4, 400 * 0.9 - 5, "the count of young deaths was not reset")

        # Still serving, data in place, restarts counted.
        with s.client() as c:
            self.assertEqual(c.execute("GET", "k"), b"v")
        self.assertEqual(s.status()["workers"][0]["restarts"], 5)
        self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    unittest.main()
