"""Stopping and starting again with the same --name: the arenas are
attached as they are, with no reload.

  * SIGTERM, start again: every key, value and expiry is there (TTLs kept
    counting down while ember was stopped: a key whose time ran out
    meanwhile is gone), the log says each arena was attached after a
    clean exit with no reload, `emberctl status` says attached-clean;
  * `emberctl shutdown` stops it the same way (exit 0), and the data is
    there after the next start;
  * a second emberd with the same name refuses to start (exit 1, a clear
    message) and the first one keeps serving;
  * a --workers count other than the arenas were made with is refused
    (exit 1, a clear message) and leaves the data intact;
  * a bad flag, a bad value or a bad config file: non-zero exit and a
    message that names the problem.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Simple  # noqa: E402

OK = Simple(b"OK")


class RestartTest(unittest.TestCase):

    def setUp(self):
        if h.target_kind() != "ember":
            self.skipTest("restarts ember over its arenas (EMBER_TARGET="
                          "ember only)")

    def start(self, server):
        server.start()
        self.addCleanup(self.cleanup, server)
        return server

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
                    shutil.rmtree(s.dir, ignore_errors=True)

    def run_emberd(self, args, timeout=20):
        """Run emberd to completion (for the runs that must refuse)."""
        binary = h.ember_binary()
        return subprocess.run([binary] + [str(a) for a in args],
                              capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def fill(self, c, n=2000):
        """Keys of every shard and database, with and without expiry."""
        cmds = []
        for i in range(n):
            cmds.append(("SET", "key:%d" % i, "value:%d" % i))
        for i in range(0, n, 10):
            cmds.append(("EXPIRE", "key:%d" % i, 1000))
        cmds.append(("SET", "big", b"\xab" * (3 << 20)))
        cmds.append(("SET", "short", "gone soon", "PX", 1500))
        cmds.append(("SET", "{tag}:a", "ta"))
        cmds.append(("SET", "{tag}:b", "tb", "EX", 5000))
        cmds.append(("INCRBY", "counter", 41))
        cmds.append(("SELECT", 7))
        cmds.append(("SET", "in7", "seven"))
        cmds.append(("SELECT", 0))
        for r in c.pipeline(cmds):
            self.assertNotIsInstance(r, h.Error)
        return n + 5      # keys in db 0

    def check_data(self, c, n=2000, short_gone=False):
        got = c.pipeline([("GET", "key:%d" % i) for i in range(n)])
        self.assertEqual(got, [b"value:%d" % i for i in range(n)])
        ttls = c.pipeline([("TTL", "key:%d" % i) for i in range(n)])
        for i, t in enumerate(ttls):
            if i % 10 == 0:
                self.assertTrue(900 < t <= 1000, (i, t))
            else:
                self.assertEqual(t, -1, i)
        self.assertEqual(c.call("GET", "big"), b"\xab" * (3 << 20))
        self.assertEqual(c.call("MGET", "{tag}:a", "{tag}:b"),
                         [b"ta", b"tb"])
        self.assertTrue(4900 < c.call("TTL", "{tag}:b") <= 5000)
        self.assertEqual(c.call("INCR", "counter"), 42)
        self.assertEqual(c.call("DECR", "counter"), 41)
        if short_gone:
            self.assertIsNone(c.call("GET", "short"))
        self.assertEqual(c.pipeline([("SELECT", 7), ("GET", "in7"),
                                     ("DBSIZE",), ("SELECT", 0)]),
                         [OK, b"seven", 1, OK])

    def test_sigterm_and_start_again(self):
        s = self.start(h.EmberServer(workers=2))
        c = s.client()
        nkeys = self.fill(c)
        self.assertEqual(c.call("DBSIZE"), nkeys)
        pttl_before = c.call("PTTL", "key:0")
        c.close()
        t_stop = time.monotonic()
        status = s.stop(keep_files=True)
        self.assertEqual(status, 0)
        self.assertEqual(sorted(os.path.basename(p) for p in h.shm_files(
            s.name) if not p.endswith("-rings")),
            [s.name + "-0", s.name + "-1"])
        log1 = s.log_text()
        self.assertIn("stopped", log1)
        # the short key's time runs out while ember is down
        time.sleep(1.6)
        s2 = self.start(s.successor())
        c = s2.client()
        self.check_data(c, short_gone=True)
        self.assertEqual(c.call("DBSIZE"), nkeys - 1)
        # TTLs went on counting while stopped
        pttl_after = c.call("PTTL", "key:0")
        self.assertLessEqual(pttl_after, pttl_before -
                             int((time.monotonic() - t_stop) * 1000) + 200)
        log = s2.log_text()[len(log1):]
        for shard in (0, 1):
            self.assertRegex(log, r"attached arena \S*%s-%d \(clean exit\), "
                             r"no reload" % (re.escape(s.name), shard))
        self.assertNotIn("unclean", log)
        st = s2.status()
        self.assertEqual([w["arena"] for w in st["workers"]],
                         ["attached-clean", "attached-clean"])
        # (status counts the keys of every database: "in7" too; workers
        # publish their counters periodically)
        deadline = time.monotonic() + 3
        while sum(w["keys"] for w in st["workers"]) != nkeys and \
                time.monotonic() < deadline:
            time.sleep(0.1)
            st = s2.status()
        self.assertEqual(sum(w["keys"] for w in st["workers"]), nkeys)
        self.assertEqual([w["restarts"] for w in st["workers"]], [0, 0])
        out = s2.ctl("status")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.count("attached-clean"), 2, out.stdout)
        # and writes go on as usual
        self.assertEqual(c.call("SET", "after", "restart"), OK)
        self.assertEqual(c.call("DBSIZE"), nkeys)

    def shutdown_with_emberctl(self, s, reap, limit=40):
        """Run `emberctl shutdown`; with reap=True the test reaps the
        supervisor as soon as it exits (as systemd or a shell would),
        else only after emberctl returned.  Returns (emberctl's
        CompletedProcess-like result, seconds it took)."""
        t0 = time.monotonic()
        p = subprocess.Popen([s.tool("emberctl"), "-d", s.dir, "shutdown"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        deadline = t0 + limit
        while p.poll() is None and time.monotonic() < deadline:
            if reap:
                s.proc.poll()
            time.sleep(0.02)
        if p.poll() is None:
            p.kill()
        out, err = p.communicate()
        return subprocess.CompletedProcess(p.args, p.returncode, out, err), \
            time.monotonic() - t0

    def test_emberctl_shutdown(self):
        s = self.start(h.EmberServer(workers=2))
        c = s.client()
        nkeys = self.fill(c)
        c.close()
        r, took = self.shutdown_with_emberctl(s, reap=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"emberd \(pid %d\) stopped" % s.pid)
        self.assertLess(took, 10)
        self.assertEqual(s.proc.wait(15), 0)
        self.assertFalse(h.ping(s.host, s.port))
        self.assertIn("shutdown requested on the control socket",
                      s.log_text())
        # emberctl on a stopped instance says so and fails
        r = s.ctl("status")
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip(), "emberctl status printed no error")
        s.stop(check=False, keep_files=True)   # (it has exited already)
        self.assertEqual([f for f in s.failures if "sanitizer" in f], [])
        s2 = self.start(s.successor())
        c = s2.client()
        self.check_data(c)
        self.assertEqual(c.call("DBSIZE"), nkeys)
        self.assertEqual([w["arena"] for w in s2.status()["workers"]],
                         ["attached-clean", "attached-clean"])

    def test_emberctl_shutdown_before_the_parent_reaps(self):
        # Regression: emberctl shutdown waited for the supervisor's pid to
        # vanish (kill(pid, 0)); while its parent had not reaped it yet -
        # a script doing `emberd & ... emberctl shutdown; wait` - the
        # zombie looked alive: 30 s of waiting, then "still running", exit 1.
        s = self.start(h.EmberServer(workers=1))
        r, took = self.shutdown_with_emberctl(s, reap=False, limit=10)
        self.assertLess(took, 10, "emberctl shutdown did not return within "
                        "10 s (emberd exited: %r)" % s.proc.poll())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(s.proc.wait(15), 0)
        s.stop(check=False)
        self.assertEqual([f for f in s.failures if "sanitizer" in f], [])

    def test_second_instance_with_the_same_name_is_refused(self):
        s = self.start(h.EmberServer(workers=2))
        c = s.client()
        self.assertEqual(c.call("SET", "mine", "first"), OK)
        other = tempfile.mkdtemp(prefix=s.name + ".second.")
        self.addCleanup(shutil.rmtree, other, True)
        r = self.run_emberd(["--port", h.free_port(), "--bind", "127.0.0.1",
                             "--workers", 2, "--dir", other, "--name",
                             s.name])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        msg = r.stdout + r.stderr
        self.assertRegex(msg, r"in use by another process")
        self.assertIn("another emberd running with this name", msg)
        # also in the same directory (same control socket), logging to a
        # file: the message is in the log
        log = os.path.join(other, "second.log")
        r = self.run_emberd(["--port", h.free_port(), "--bind", "127.0.0.1",
                             "--workers", 2, "--dir", s.dir, "--name", s.name,
                             "--logfile", log])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        with open(log) as f:
            self.assertIn("another emberd running with this name", f.read())
        # the first one never noticed
        self.assertEqual(c.call("GET", "mine"), b"first")
        self.assertEqual(c.call("SET", "mine", "still"), OK)
        self.assertEqual([w["state"] for w in s.status()["workers"]],
                         ["running", "running"])
        self.assertTrue(os.path.exists(os.path.join(s.dir, "emberd.sock")))
        self.assertEqual(s.ctl("status").returncode, 0)

    def test_port_in_use_is_refused(self):
        # Regression: with SO_REUSEPORT listeners a second instance (any
        # name) bound the same port, and the kernel split the clients
        # between the two keyspaces without a word.
        s = self.start(h.EmberServer(workers=1))
        c = s.client()
        self.assertEqual(c.call("SET", "who", "first"), OK)
        other = tempfile.mkdtemp(prefix=s.name + ".port.")
        self.addCleanup(shutil.rmtree, other, True)
        name = s.name + "-other"
        self.addCleanup(h.remove_shm, name)
        try:
            r = self.run_emberd(["--port", s.port, "--bind", "127.0.0.1",
                                 "--workers", 1, "--dir", other, "--name",
                                 name], timeout=5)
        except subprocess.TimeoutExpired:
            self.fail("a second emberd started on port %d, which is in use"
                      % s.port)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout + r.stderr, r"(?i)in use")
        for _ in range(20):
            self.assertEqual(s.client().call("GET", "who"), b"first")

    def test_other_worker_count_is_refused(self):
        s = self.start(h.EmberServer(workers=2))
        c = s.client()
        nkeys = self.fill(c, 500)
        c.close()
        s.stop(keep_files=True)
        sizes = {p: os.path.getsize(p) for p in h.shm_files(s.name)}
        for workers in (1, 3):
            r = self.run_emberd(["--port", h.free_port(), "--bind",
                                 "127.0.0.1", "--workers", workers, "--dir",
                                 s.dir, "--name", s.name])
            msg = r.stdout + r.stderr
            self.assertEqual(r.returncode, 1, msg)
            self.assertIn("of 2, not shard", msg)
            self.assertIn("--workers 2", msg)
            self.assertIn("left untouched", msg)
        self.assertEqual({p: os.path.getsize(p)
                          for p in h.shm_files(s.name)}, sizes)
        s2 = self.start(s.successor(workers=2))
        c = s2.client()
        self.check_data(c, 500)
        self.assertEqual(c.call("DBSIZE"), nkeys)

    def test_fewer_workers_than_arenas_is_refused(self):
        # arenas of 2 shards; --workers 1 would leave shard 1's keys behind
        s = self.start(h.EmberServer(workers=2))
        s.client().call("MSET", "a", 1, "k", 2)
        s.stop(keep_files=True)
        r = self.run_emberd(["--port", h.free_port(), "--bind", "127.0.0.1",
                             "--workers", 1, "--dir", s.dir, "--name",
                             s.name])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        s2 = self.start(s.successor())
        self.assertEqual(s2.client().call("MGET", "a", "k"), [b"1", b"2"])

    def test_bad_flags_and_values(self):
        tmp = tempfile.mkdtemp(prefix="embertest-badflags.")
        self.addCleanup(shutil.rmtree, tmp, True)
        conf = os.path.join(tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("port 7777\nmaxclients lots\n")
        conf2 = os.path.join(tmp, "unknown.conf")
        with open(conf2, "w") as f:
            f.write("# comment\nnosuchsetting 1\n")
        name = h.unique_name()      # swept by the harness if left behind
        self.addCleanup(h.remove_shm, name)
        base = ["--dir", tmp, "--name", name, "--port", h.free_port()]
        cases = [
            (["--port", "abc"], r"port.*integer"),
            (["--port", "70000"], r"port"),
            (["--bogus", "1"], r"unknown setting 'bogus'"),
            (["--maxclients", "-5"], r"maxclients"),
            (["--workers", "-1"], r"workers"),
            (["--hugepages", "maybe"], r"hugepages"),
            (["--loglevel", "chatty"], r"loglevel"),
            (["--port"], r"port"),
            (["/nonexistent/ember.conf"], r"/nonexistent/ember.conf"),
            ([conf], r"maxclients|bad\.conf:2\b"),
            ([conf2], r"nosuchsetting"),
            (["--name", "bad/name"], r"name"),
            (["--dir", "/nonexistent/dir"], r"/nonexistent/dir"),
        ]
        for args, pattern in cases:
            with self.subTest(args=args):
                # a config file comes first; later flags override
                # earlier ones
                argv = args + base if args[0].startswith("/") else \
                    base + args
                try:
                    r = self.run_emberd(argv, timeout=10)
                except subprocess.TimeoutExpired:
                    self.fail("emberd %s started instead of refusing" %
                              " ".join(map(str, argv)))
                finally:
                    h.remove_shm(name)
                msg = r.stdout + r.stderr
                self.assertNotEqual(r.returncode, 0, msg)
                self.assertRegex(msg, pattern)
                self.assertEqual(h.shm_files(name), [])


if __name__ == "__main__":
    unittest.main()
